/*
 * make_tls_seeds OUTDIR: seed corpora for the TLS fuzz targets, made at build time by
 * running real handshakes between Stapler's side and a plain Mbed TLS peer in memory, with
 * the same configurations and the same deterministic randomness the targets use
 * (fuzz_tls_support.c):
 *
 *   OUTDIR/tls-server    what a client sent to Stapler's server (fuzz_tls_server)
 *   OUTDIR/tls12-client  what a server sent to Stapler's client (fuzz_tls12_client)
 *   OUTDIR/tls13         the genuine TLS 1.3 message each fuzz_tls13_handshake case replaces
 *   OUTDIR/tls-parsers   status_request bodies, CertificateStatus structures and the
 *                        Certificate messages above, for fuzz_tls_parsers
 *
 * Each recorded flight is replayed at once against a fresh tested side: the replay must end
 * as the live handshake did, or the seeds would not be what they claim (exit status 1).
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_tls_support.h"
#include "ssl_misc.h"
#include "test_support.h"

static const char *out_dir;
static int failures;
static unsigned char record_copy[sizeof(fuzz_to_tested.data)];

static void write_seed(const char *corpus, const char *name, uint8_t first, const unsigned char *data, size_t len)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", out_dir, corpus);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/%s/seed-%s", out_dir, corpus, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(&first, 1, 1, f) != 1 || (len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* A live handshake: Stapler's side (chosen by `options`) against the peer; what the peer
 * sent becomes the seed; then the seed is replayed and must end the same way. */
static void record(const char *corpus, const char *name, int server, uint8_t options, fuzz_peer_options_t *peer_options)
{
    stapler_tls_session_t session;
    mbedtls_ssl_context peer;
    mbedtls_ssl_config peer_conf;
    size_t len;
    int live, replay;

    fuzz_tls_reset();
    fuzz_tls_open(&session, server ? fuzz_tls_server_options(options) : fuzz_tls_client_options(options));
    fuzz_tls_peer_open(&peer, &peer_conf, peer_options);
    live = fuzz_tls_run(&session, &peer, NULL, NULL);
    len = fuzz_to_tested.len;
    memcpy(record_copy, fuzz_to_tested.data, len);
    fuzz_tls_close(&session, live);
    fuzz_tls_peer_close(&peer, &peer_conf);
    write_seed(corpus, name, options, record_copy, len);

    fuzz_tls_reset();
    fuzz_tls_open(&session, server ? fuzz_tls_server_options(options) : fuzz_tls_client_options(options));
    fuzz_tls_feed(record_copy, len);
    replay = fuzz_tls_run(&session, NULL, NULL, NULL);
    fuzz_tls_close(&session, replay);
    printf("%s/%s: %zu bytes, handshake %d, replayed %d\n", corpus, name, len, live, replay);
    if (replay != live) {
        fprintf(stderr, "make_tls_seeds: %s/%s does not replay as it was recorded\n", corpus, name);
        failures++;
    }
}

/* The genuine message a fuzz_tls13_handshake case replaces, as the tested side read it
 * (stepping the tested side one state at a time and taking the plaintext it parsed). */
static void capture(const char *name, uint8_t options, unsigned char *body, size_t *body_len)
{
    stapler_tls_session_t session;
    mbedtls_ssl_context peer;
    mbedtls_ssl_config peer_conf;
    fuzz_tls13_case_t c;
    int round, i, ret, peer_done = 0, tested_done = 0;

    *body_len = 0;
    fuzz_tls_reset();
    fuzz_tls13_case(options, &c);
    fuzz_tls_open(&session, c.tested);
    fuzz_tls_peer_open(&peer, &peer_conf, &c.peer);
    for (round = 0; round < 64 && !(tested_done && peer_done); round++) {
        for (i = 0; i < 64 && !tested_done; i++) {
            const int before = session.ssl.state;

            fuzz_tls_side(FUZZ_SIDE_TESTED);
            ret = mbedtls_ssl_handshake_step(&session.ssl);
            if (before == c.tested_state && session.ssl.state != before && *body_len == 0 &&
                session.ssl.in_hslen >= 4 && session.ssl.in_msg[0] == c.replacement.type) {
                *body_len = session.ssl.in_hslen - 4;
                memcpy(body, session.ssl.in_msg + 4, *body_len);
            }
            if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
                break;
            }
            tested_done = ret != 0 || mbedtls_ssl_is_handshake_over(&session.ssl);
        }
        for (i = 0; i < 64 && !peer_done; i++) {
            fuzz_tls_side(FUZZ_SIDE_PEER);
            ret = mbedtls_ssl_handshake_step(&peer);
            if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
                break;
            }
            peer_done = ret != 0 || mbedtls_ssl_is_handshake_over(&peer);
        }
    }
    fuzz_tls_close(&session, -1);
    fuzz_tls_peer_close(&peer, &peer_conf);
    if (*body_len == 0) {
        fprintf(stderr, "make_tls_seeds: tls13/%s: the message was not seen\n", name);
        failures++;
        return;
    }
    write_seed("tls13", name, options, body, *body_len);
    printf("tls13/%s: %zu bytes\n", name, *body_len);
}

int main(int argc, char **argv)
{
    static const uint16_t p384_first[] = { MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
                                           MBEDTLS_SSL_IANA_TLS_GROUP_NONE };
    static unsigned char wrong_staple[4096], body[3][16384], status[4100];
    const mbedtls_ssl_protocol_version v12 = MBEDTLS_SSL_VERSION_TLS1_2, v13 = MBEDTLS_SSL_VERSION_TLS1_3;
    fuzz_peer_options_t o;
    size_t wrong_len, body_len[3];
    long n;

    if (argc != 2) {
        fprintf(stderr, "usage: make_tls_seeds OUTDIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    out_dir = argv[1];
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        perror(out_dir);
        return 1;
    }
    fuzz_tls_setup();
    n = stapler_test_read(STAPLER_VECTOR_DIR, "good-rsa-bykey.der", wrong_staple, sizeof(wrong_staple));
    if (n <= 0) {
        return 1;
    }
    wrong_len = (size_t) n;

    /* Clients, to Stapler's server. Options: fuzz_tls_server_options(). */
#define CLIENT(min, max, ask, cert, groups, host) \
    (fuzz_peer_options_t) { MBEDTLS_SSL_IS_CLIENT, min, max, cert, 1, NULL, 0, ask, \
                            host != NULL ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE, groups, host }
    o = CLIENT(v12, v12, 1, 0, NULL, "gateway-ec");
    record("tls-server", "tls12-staple", 1, 0x00, &o);
    o = CLIENT(v13, v13, 1, 0, NULL, "gateway-ec");
    record("tls-server", "tls13-staple", 1, 0x00, &o);
    o = CLIENT(v12, v13, 1, 0, NULL, "gateway-ec");
    record("tls-server", "any-staple", 1, 0x00, &o);
    o = CLIENT(v13, v13, 1, 0, p384_first, "gateway-ec");
    record("tls-server", "tls13-hello-retry", 1, 0x00, &o);
    o = CLIENT(v12, v12, 0, 0, NULL, "gateway-ec");
    record("tls-server", "tls12-not-requested", 1, 0x00, &o);
    o = CLIENT(v12, v13, 1, 0, NULL, "gateway-ec");
    record("tls-server", "tls12-server-only", 1, 0x01, &o);
    o = CLIENT(v13, v13, 1, 0, NULL, NULL);
    record("tls-server", "tls13-must-staple-refused", 1, 0x04, &o);
    o = CLIENT(v12, v12, 1, 0, NULL, NULL);
    record("tls-server", "tls12-must-staple-refused", 1, 0x04, &o);
    o = CLIENT(v13, v13, 1, 1, NULL, "gateway-ec");
    record("tls-server", "tls13-client-staple", 1, 0x20 | 0x08, &o);
    record("tls-server", "tls13-client-staple-required", 1, 0x20 | 0x10, &o);
    o = CLIENT(v12, v12, 1, 1, NULL, "gateway-ec");
    record("tls-server", "tls12-client-certificate", 1, 0x20 | 0x08, &o);
    /* TLS 1.2 has no client staple: a server that requires one must refuse the client. */
    record("tls-server", "tls12-client-certificate-required", 1, 0x20 | 0x10, &o);

    /* Servers, to Stapler's client. Options: fuzz_tls_client_options(). */
#define SERVER(min, max, staples, staple, staple_len, authmode) \
    (fuzz_peer_options_t) { MBEDTLS_SSL_IS_SERVER, min, max, 1, staples, staple, staple_len, 0, authmode, NULL, NULL }
    o = SERVER(v12, v12, 1, NULL, 0, MBEDTLS_SSL_VERIFY_NONE);
    record("tls12-client", "tls12-staple", 0, 0x01, &o);
    record("tls12-client", "tls12-staple-required", 0, 0x05, &o);
    record("tls12-client", "tls12-not-asked", 0, 0x09, &o);
    record("tls12-client", "any-to-tls12", 0, 0x00, &o);
    o = SERVER(v12, v12, 0, NULL, 0, MBEDTLS_SSL_VERIFY_NONE);
    record("tls12-client", "tls12-no-staple", 0, 0x01, &o);
    o = SERVER(v12, v12, 1, wrong_staple, wrong_len, MBEDTLS_SSL_VERIFY_NONE);
    record("tls12-client", "tls12-unrelated-staple", 0, 0x01, &o);
    o = SERVER(v12, v12, 1, NULL, 0, MBEDTLS_SSL_VERIFY_REQUIRED);
    record("tls12-client", "tls12-client-auth", 0, 0x11, &o);
    o = SERVER(v12, v13, 1, NULL, 0, MBEDTLS_SSL_VERIFY_NONE);
    record("tls12-client", "tls13-encrypted", 0, 0x00, &o);

    /* The TLS 1.3 messages fuzz_tls13_handshake replaces. Options: fuzz_tls13_case(). */
    capture("certificate-request", 0x00, body[0], &body_len[0]);
    capture("certificate-request-required", 0x04, body[0], &body_len[0]);
    capture("server-certificate", 0x01, body[1], &body_len[1]);
    capture("server-certificate-required", 0x05, body[1], &body_len[1]);
    capture("server-certificate-client-auth", 0x09, body[1], &body_len[1]);
    capture("client-certificate", 0x02, body[2], &body_len[2]);
    capture("client-certificate-required", 0x06, body[2], &body_len[2]);
    capture("client-certificate-both-ways", 0x0A, body[2], &body_len[2]);

    /* The parsers alone. Byte 0: see fuzz_tls_parsers.c. */
    write_seed("tls-parsers", "request-ocsp", 0x00, (const unsigned char *) "\x01\x00\x00\x00\x00", 5);
    write_seed("tls-parsers", "request-lists", 0x00,
               (const unsigned char *) "\x01\x00\x06\x00\x04\x30\x02\x05\x00\x00\x04\x30\x02\x05\x00", 15);
    write_seed("tls-parsers", "request-ocsp-multi", 0x00, (const unsigned char *) "\x02\x00\x00\x00\x00", 5);
    status[0] = 1;
    status[1] = (unsigned char) (fuzz_staple_ec_len >> 16);
    status[2] = (unsigned char) (fuzz_staple_ec_len >> 8);
    status[3] = (unsigned char) fuzz_staple_ec_len;
    memcpy(status + 4, fuzz_staple_ec, fuzz_staple_ec_len);
    write_seed("tls-parsers", "certificate-status", 0x01, status, 4 + fuzz_staple_ec_len);
    write_seed("tls-parsers", "server-certificate", 0x02 | 0x04, body[1], body_len[1]);
    write_seed("tls-parsers", "server-certificate-unasked", 0x02, body[1], body_len[1]);
    write_seed("tls-parsers", "client-certificate", 0x03 | 0x04, body[2], body_len[2]);
    return failures == 0 ? 0 : 1;
}
