/*
 * Fuzz target: the patch series' parsers called directly (port/mbedtls/patches), each on
 * an exactly sized buffer so that a read one byte past the end is an ASan report:
 *
 *   byte 0 & 3 == 0  mbedtls_ssl_ocsp_parse_request_ext() (a ClientHello's status_request,
 *                    server side), then again on the same handshake (a duplicate)
 *                 1  mbedtls_ssl_ocsp_parse_certificate_status() (TLS 1.2 CertificateStatus,
 *                    TLS 1.3 CertificateEntry status_request)
 *                 2  mbedtls_ssl_tls13_parse_certificate() as a client (the server's chain)
 *                 3  the same as a server (the client's chain)
 *   byte 0 bit 2     (2, 3) status_request was sent, so a staple may come
 *
 * mbedtls_ssl_tls13_parse_certificate() is exported by MBEDTLS_TEST_HOOKS, which the fuzz
 * preset defines (port/mbedtls/CMakeLists.txt); the other two by the series' ssl_misc.h.
 *
 * Checked besides the sanitizers': each parser agrees with a reference reading of its
 * RFC structure; what it accepts points inside the input; every error pends a fatal alert
 * (so the peer is told); a duplicate status_request is refused; a staple is kept only when
 * one was asked for and only for a certificate of the parsed chain (its depth); nothing is
 * left allocated once the context is reset.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_tls_support.h"
#include "mbedtls/ssl.h"
#include "ssl_misc.h"
#include "ssl_tls13_invasive.h"
#include "stapler_mbedtls_platform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static void run(const uint8_t *data, size_t size);

static mbedtls_ssl_config client_conf, server_conf;
static mbedtls_ssl_context client, server;

static void fail(const char *what)
{
    fprintf(stderr, "TLS parser invariant broken: %s\n", what);
    abort();
}

static uint32_t get16(const uint8_t *p)
{
    return (uint32_t) p[0] << 8 | p[1];
}

static uint32_t get24(const uint8_t *p)
{
    return (uint32_t) p[0] << 16 | (uint32_t) p[1] << 8 | p[2];
}

static void setup_context(mbedtls_ssl_context *ssl, mbedtls_ssl_config *conf, int endpoint)
{
    mbedtls_ssl_config_init(conf);
    mbedtls_ssl_init(ssl);
    if (mbedtls_ssl_config_defaults(conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        fail("configuration");
    }
    mbedtls_ssl_conf_rng(conf, stapler_mbedtls_platform_random, NULL);
    mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
    mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
    mbedtls_ssl_conf_ca_chain(conf, &fuzz_trust, NULL);
    if (mbedtls_ssl_setup(ssl, conf) != 0) {
        fail("context");
    }
}

static void check_alert(const mbedtls_ssl_context *ssl, int ret)
{
    if (ret != 0 && (ssl->send_alert == 0 || ssl->alert_reason != ret)) {
        fprintf(stderr, "returned -0x%04x, alert pending %d (reason -0x%04x)\n", (unsigned) -ret,
                ssl->send_alert, (unsigned) -ssl->alert_reason);
        fail("an error without its fatal alert: the peer would not be told");
    }
}

/* RFC 6066 section 8 CertificateStatusRequest of type ocsp: 1 (lists fit exactly), 0 (not
 * ocsp), -1 (malformed). */
static int reference_request(const uint8_t *p, size_t len)
{
    size_t at = 1, list;

    if (len < 1) {
        return -1;
    }
    if (p[0] != 1) {
        return 0;
    }
    if (len - at < 2) {
        return -1;
    }
    list = get16(p + at);
    at += 2;
    if (len - at < list) {
        return -1;
    }
    at += list;
    if (len - at < 2) {
        return -1;
    }
    list = get16(p + at);
    at += 2;
    if (len - at < list) {
        return -1;
    }
    return at + list == len ? 1 : -1;
}

static void fuzz_request(const uint8_t *body, size_t len)
{
    const int expected = reference_request(body, len);
    int ret;

    ret = mbedtls_ssl_ocsp_parse_request_ext(&server, body, body + len);
    check_alert(&server, ret);
    if ((ret == 0) != (expected >= 0) || (ret == 0 && server.handshake->ocsp_requested != (expected == 1))) {
        fprintf(stderr, "parser %d (requested %d), reference %d\n", ret, server.handshake->ocsp_requested, expected);
        fail("status_request parsed otherwise than RFC 6066 section 8 reads");
    }
    if (ret == 0) {
        ret = mbedtls_ssl_ocsp_parse_request_ext(&server, body, body + len);
        if (ret != MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER) {
            fail("a second status_request in one ClientHello was not refused");
        }
        check_alert(&server, ret);
    }
}

static void fuzz_certificate_status(const uint8_t *body, size_t len)
{
    const int expected = len >= 5 && body[0] == 1 && get24(body + 1) == len - 4;
    const unsigned char *der = NULL;
    size_t der_len = 0;
    int ret;

    ret = mbedtls_ssl_ocsp_parse_certificate_status(&client, body, body + len, &der, &der_len);
    check_alert(&client, ret);
    if ((ret == 0) != expected || (ret == 0 && (der != body + 4 || der_len != len - 4))) {
        fail("CertificateStatus parsed otherwise than RFC 6066 section 8 reads");
    }
}

static void fuzz_certificate(mbedtls_ssl_context *ssl, const uint8_t *body, size_t len, int asked)
{
    const mbedtls_x509_crt *c;
    unsigned chain = 0;
    int ret, d;

    if (asked) {
        ssl->handshake->sent_extensions |= MBEDTLS_SSL_EXT_MASK(STATUS_REQUEST);
    }
    ret = mbedtls_ssl_tls13_parse_certificate(ssl, body, body + len);
    check_alert(ssl, ret);
    for (c = ssl->session_negotiate->peer_cert; c != NULL && c->raw.len > 0; c = c->next) {
        chain++;
    }
    for (d = 0; d < MBEDTLS_SSL_OCSP_PEER_STAPLES_MAX; d++) {
        const unsigned char *der = ssl->handshake->ocsp_peer[d];
        const size_t der_len = ssl->handshake->ocsp_peer_len[d];

        if (der_len == 0) {
            if (der != NULL) {
                fail("a staple pointer without a length");
            }
            continue;
        }
        if (ret == 0 && !asked) {
            fail("a staple was taken that was never asked for");
        }
        if (der < body + 4 || der > body + len || der_len > (size_t) (body + len - der) || der[-4] != 1 ||
            get24(der - 3) != der_len) {
            fail("a staple does not point at a CertificateStatus inside the message");
        }
        if ((unsigned) d >= chain) {
            fprintf(stderr, "staple at depth %d, %u certificates parsed\n", d, chain);
            fail("a staple's depth names no certificate of the parsed chain");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static size_t baseline;
    size_t in_use, peak;

    if (!ready) {
        fuzz_tls_setup();
        setup_context(&client, &client_conf, MBEDTLS_SSL_IS_CLIENT);
        setup_context(&server, &server_conf, MBEDTLS_SSL_IS_SERVER);
        /* A reset does not allocate quite what the set-up did: measure from one. */
        if (mbedtls_ssl_session_reset(&client) != 0 || mbedtls_ssl_session_reset(&server) != 0) {
            fail("session reset");
        }
        stapler_mbedtls_platform_arena_usage(&baseline, &peak);
        ready = 1;
    }
    if (size < 1) {
        return 0;
    }
    run(data, size);
    stapler_mbedtls_platform_arena_usage(&in_use, &peak);
    if (in_use > baseline) {
        /* More in use than ever after a reset: a leak grows again when the same input runs
         * again. (What a reset leaves varies by a few bytes from one parse to the next, and
         * a cache filled on first use stays: neither grows.) */
        const size_t first = in_use;

        run(data, size);
        stapler_mbedtls_platform_arena_usage(&in_use, &peak);
        if (in_use > first) {
            fprintf(stderr, "arena: %zu bytes in use, %zu after the first run, %zu before\n", in_use, first, baseline);
            fail("arena leak: each parse of this input leaves memory behind after the context is reset");
        }
        baseline = first;
    }
    return 0;
}

static void run(const uint8_t *data, size_t size)
{
    switch (data[0] & 3u) {
        case 0:
            fuzz_request(data + 1, size - 1);
            break;
        case 1:
            fuzz_certificate_status(data + 1, size - 1);
            break;
        case 2:
            fuzz_certificate(&client, data + 1, size - 1, data[0] & 4u);
            break;
        default:
            fuzz_certificate(&server, data + 1, size - 1, data[0] & 4u);
            break;
    }
    if (mbedtls_ssl_session_reset(&client) != 0 || mbedtls_ssl_session_reset(&server) != 0) {
        fail("session reset");
    }
}
