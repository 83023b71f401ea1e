/* Shared by the TLS fuzz targets and their seed generator: see fuzz_tls_support.h. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include "fuzz_tls_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "psa/crypto.h"
#include "ssl_misc.h" /* Mbed TLS's internal handshake API, as its own test suites use it */
#include "stapler/credentials.h"
#include "stapler/error.h"
#include "stapler/ocsp.h"
#include "stapler_flash_sim.h"
#include "stapler_mbedtls_platform.h"
#include "test_support.h"

fuzz_pipe_t fuzz_to_tested, fuzz_from_tested;
stapler_agent_t fuzz_agent;
mbedtls_x509_crt fuzz_peer_crt, fuzz_trust;
mbedtls_pk_context fuzz_peer_key;
unsigned char fuzz_staple_ec[4096];
size_t fuzz_staple_ec_len;

static unsigned char fuzz_flash_memory[STAPLER_FLASH_REGION_SIZE];
static stapler_flash_sim_t fuzz_sim;
static stapler_port_t fuzz_port;
static int64_t fuzz_now;
static size_t fuzz_arena_after_setup;

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "TLS fuzz invariant broken: %s\n", what);
    abort();
}

/* --- Randomness: three splitmix64 streams ---------------------------------------------- */

static uint64_t fuzz_rng_state[3];
static int fuzz_rng_current = FUZZ_SIDE_SETUP;

void fuzz_tls_side(int side)
{
    fuzz_rng_current = side;
}

static int fuzz_entropy(void *context, void *buffer, size_t len)
{
    uint64_t *s = &fuzz_rng_state[fuzz_rng_current];
    unsigned char *p = buffer;

    (void) context;
    while (len-- > 0) {
        uint64_t z = (*s += 0x9E3779B97F4A7C15u);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
        *p++ = (unsigned char) (z ^ (z >> 31));
    }
    return 0;
}

/* --- The port: emulated flash, fixed trusted time, the in-memory transport ---------------- */

static uint64_t fuzz_monotonic_ms(void *context)
{
    (void) context;
    return 1000;
}

static int fuzz_wall_time(void *context, int64_t *utc, int *trusted)
{
    (void) context;
    *utc = fuzz_now;
    *trusted = 1;
    return 0;
}

static int fuzz_transport_send(void *context, int connection, const void *data, size_t len)
{
    fuzz_pipe_t *p = &fuzz_from_tested;

    (void) context;
    (void) connection;
    if (len <= sizeof(p->data) - p->len) {
        memcpy(p->data + p->len, data, len);
        p->len += len;
    }
    return (int) len; /* a replayed peer reads nothing: what does not fit is dropped */
}

static int fuzz_transport_recv(void *context, int connection, void *buffer, size_t len)
{
    fuzz_pipe_t *p = &fuzz_to_tested;
    const unsigned char *source = p->fixed != NULL ? p->fixed : p->data;
    size_t n = p->len - p->read;

    (void) context;
    (void) connection;
    if (n == 0) {
        return p->eof ? STAPLER_PORT_ERR_CLOSED : 0;
    }
    if (n > len) {
        n = len;
    }
    memcpy(buffer, source + p->read, n);
    p->read += n;
    return (int) n;
}

static int fuzz_peer_send(void *context, const unsigned char *buf, size_t len)
{
    fuzz_pipe_t *p = &fuzz_to_tested;

    (void) context;
    if (len > sizeof(p->data) - p->len) {
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    memcpy(p->data + p->len, buf, len);
    p->len += len;
    return (int) len;
}

static int fuzz_peer_recv(void *context, unsigned char *buf, size_t len)
{
    fuzz_pipe_t *p = &fuzz_from_tested;
    size_t n = p->len - p->read;

    (void) context;
    if (n == 0) {
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    if (n > len) {
        n = len;
    }
    memcpy(buf, p->data + p->read, n);
    p->read += n;
    return (int) n;
}

void fuzz_tls_feed(const unsigned char *data, size_t len)
{
    fuzz_to_tested.fixed = data;
    fuzz_to_tested.len = len;
    fuzz_to_tested.read = 0;
    fuzz_to_tested.eof = 1;
}

void fuzz_tls_reset(void)
{
    fuzz_rng_state[FUZZ_SIDE_TESTED] = 0x5354504C31000001u;
    fuzz_rng_state[FUZZ_SIDE_PEER] = 0x5354504C32000002u;
    fuzz_rng_current = FUZZ_SIDE_TESTED;
    fuzz_to_tested.fixed = NULL;
    fuzz_to_tested.len = fuzz_to_tested.read = 0;
    fuzz_to_tested.eof = 0;
    fuzz_from_tested.fixed = NULL;
    fuzz_from_tested.len = fuzz_from_tested.read = 0;
    fuzz_from_tested.eof = 0;
}

/* --- Set-up ---------------------------------------------------------------------------- */

static void fuzz_fatal(int status)
{
    fprintf(stderr, "Mbed TLS arena corrupted (%d)\n", status);
    abort();
}

static int fuzz_snprintf(char *buffer, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
static int fuzz_snprintf(char *buffer, size_t size, const char *format, ...)
{
    va_list ap;
    int n;

    va_start(ap, format);
    n = vsnprintf(buffer, size, format, ap);
    va_end(ap);
    return n;
}

static size_t fuzz_read_vector(const char *name, unsigned char *buf, size_t size, int nul)
{
    long n = stapler_test_read(STAPLER_VECTOR_DIR, name, buf, size - 1);

    if (n <= 0) {
        fuzz_fail("a test vector is missing (build the ocsp_vectors target)");
    }
    buf[n] = 0;
    return (size_t) n + (nul ? 1 : 0); /* PEM is parsed with its terminating NUL */
}

static void fuzz_load_crt(mbedtls_x509_crt *chain, const char *name)
{
    static unsigned char der[8192];
    const size_t n = fuzz_read_vector(name, der, sizeof(der), 0);

    if (mbedtls_x509_crt_parse_der(chain, der, n) != 0) {
        fuzz_fail("a vector certificate does not parse");
    }
}

void fuzz_tls_setup(void)
{
    static unsigned char der[6][8192];
    stapler_mbedtls_platform_cfg_t cfg;
    stapler_credential_input_t in[2];
    stapler_ocsp_response_t response;
    size_t n[6], length, peak;

    memset(&cfg, 0, sizeof(cfg));
    cfg.fatal_fn = fuzz_fatal;
    cfg.snprintf_fn = fuzz_snprintf;
    cfg.entropy_fn = fuzz_entropy;
    fuzz_tls_side(FUZZ_SIDE_SETUP);
    if (stapler_mbedtls_platform_setup(&cfg) != 0 || psa_crypto_init() != PSA_SUCCESS) {
        fuzz_fail("Mbed TLS does not start");
    }

    /* The agent: identity 0 is leaf-ec (ca-ec) with its good staple, identity 1 the
     * must-staple leaf (ca-rsa) with none. Keys are stored as the PEM files hold them. */
    n[0] = fuzz_read_vector("leaf-ec.der", der[0], sizeof(der[0]), 0);
    n[1] = fuzz_read_vector("ca-ec.der", der[1], sizeof(der[1]), 0);
    n[2] = fuzz_read_vector("leaf-ec.key", der[2], sizeof(der[2]), 1);
    n[3] = fuzz_read_vector("leaf-muststaple.der", der[3], sizeof(der[3]), 0);
    n[4] = fuzz_read_vector("ca-rsa.der", der[4], sizeof(der[4]), 0);
    n[5] = fuzz_read_vector("leaf-muststaple.key", der[5], sizeof(der[5]), 1);
    memset(in, 0, sizeof(in));
    in[0].chain_length = 1;
    in[0].chain[0] = der[0];
    in[0].chain_len[0] = n[0];
    in[0].issuer = der[1];
    in[0].issuer_len = n[1];
    in[0].key = der[2];
    in[0].key_len = n[2];
    in[1].chain_length = 1;
    in[1].chain[0] = der[3];
    in[1].chain_len[0] = n[3];
    in[1].issuer = der[4];
    in[1].issuer_len = n[4];
    in[1].key = der[5];
    in[1].key_len = n[5];
    stapler_flash_sim_init(&fuzz_sim, fuzz_flash_memory, sizeof(fuzz_flash_memory), STAPLER_FLASH_SECTOR_SIZE, 16, NULL);
    if (stapler_credentials_encode(in, 2, fuzz_flash_memory, STAPLER_CREDENTIAL_AREA_SIZE, &length) != 0) {
        fuzz_fail("the credential store cannot be encoded");
    }
    fuzz_staple_ec_len = fuzz_read_vector("good-ec.der", fuzz_staple_ec, sizeof(fuzz_staple_ec), 0);
    if (stapler_ocsp_response_parse(&response, fuzz_staple_ec, fuzz_staple_ec_len) != 0) {
        fuzz_fail("good-ec.der does not parse");
    }
    fuzz_now = response.produced_at + 60;
    memset(&fuzz_port, 0, sizeof(fuzz_port));
    fuzz_port.context = &fuzz_sim;
    fuzz_port.monotonic_ms = fuzz_monotonic_ms;
    fuzz_port.wall_time = fuzz_wall_time;
    fuzz_port.entropy = fuzz_entropy;
    fuzz_port.flash = fuzz_sim.flash;
    fuzz_port.transport.send = fuzz_transport_send;
    fuzz_port.transport.recv = fuzz_transport_recv;
    {
        const int init = stapler_agent_init(&fuzz_agent, &fuzz_port);
        const int offer = init == 0 ? stapler_agent_offer(&fuzz_agent, 0, fuzz_staple_ec, fuzz_staple_ec_len) : 0;

        if (init != 0 || offer != 0) {
            fprintf(stderr, "stapler_agent_init: -0x%04x, stapler_agent_offer: -0x%04x\n", (unsigned) -init,
                    (unsigned) -offer);
            fuzz_fail("the agent does not take its vectors");
        }
    }

    /* Both sides trust both CAs; the peer is leaf-ec too (its staple is good-ec). */
    mbedtls_x509_crt_init(&fuzz_trust);
    fuzz_load_crt(&fuzz_trust, "ca-ec.der");
    fuzz_load_crt(&fuzz_trust, "ca-rsa.der");
    mbedtls_x509_crt_init(&fuzz_peer_crt);
    fuzz_load_crt(&fuzz_peer_crt, "leaf-ec.der");
    mbedtls_pk_init(&fuzz_peer_key);
    if (mbedtls_pk_parse_key(&fuzz_peer_key, der[2], n[2], NULL, 0, stapler_mbedtls_platform_random, NULL) != 0) {
        fuzz_fail("leaf-ec.key does not parse");
    }
    stapler_mbedtls_platform_arena_usage(&fuzz_arena_after_setup, &peak);
    fuzz_tls_reset();
}

void fuzz_tls_check_arena(void)
{
    size_t in_use, peak;

    /* Long-lived keys fill their caches (ECP comb tables, RSA constants) on first use, and
     * Stapler's configurations are made on first use: some growth is expected, once. */
    stapler_mbedtls_platform_arena_usage(&in_use, &peak);
    if (in_use > fuzz_arena_after_setup + 128u * 1024u) {
        fprintf(stderr, "arena: %zu bytes in use, %zu after set-up\n", in_use, fuzz_arena_after_setup);
        fuzz_fail("the arena keeps growing: something a handshake allocates is never freed");
    }
}

/* --- Stapler's side ------------------------------------------------------------------------ */

static const mbedtls_ssl_protocol_version fuzz_min[3] = {
    MBEDTLS_SSL_VERSION_TLS1_2, MBEDTLS_SSL_VERSION_TLS1_2, MBEDTLS_SSL_VERSION_TLS1_3
};
static const mbedtls_ssl_protocol_version fuzz_max[3] = {
    MBEDTLS_SSL_VERSION_TLS1_3, MBEDTLS_SSL_VERSION_TLS1_2, MBEDTLS_SSL_VERSION_TLS1_3
};

static stapler_tls_config_t *fuzz_make_config(stapler_tls_config_t *config, int *ready,
                                              const stapler_tls_options_t *options)
{
    if (!*ready) {
        const int side = fuzz_rng_current;

        static const uint16_t p256[] = { MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, MBEDTLS_SSL_IANA_TLS_GROUP_NONE };
        stapler_tls_options_t o = *options;

        fuzz_tls_side(FUZZ_SIDE_SETUP);
        if (o.endpoint == MBEDTLS_SSL_IS_SERVER) {
            /* The firmware's one key-exchange group; a client that offers another first
             * gets a HelloRetryRequest. */
            o.groups = p256;
        }
        if (stapler_tls_config_init(config, &fuzz_agent, &o) != 0) {
            fuzz_fail("stapler_tls_config_init failed");
        }
        fuzz_tls_side(side);
        *ready = 1;
    }
    return config;
}

stapler_tls_config_t *fuzz_tls_server_config(int versions, unsigned identity,
                                             stapler_tls_peer_staple_t peer_staple, int verify_peer, int by_name)
{
    static stapler_tls_config_t configs[3][2][3][2][2];
    static int ready[3][2][3][2][2];
    stapler_tls_options_t o;

    memset(&o, 0, sizeof(o));
    o.endpoint = MBEDTLS_SSL_IS_SERVER;
    o.identity = identity;
    o.present_certificate = 1;
    o.trust = &fuzz_trust;
    o.verify_peer = verify_peer;
    o.peer_staple = peer_staple;
    o.min_version = fuzz_min[versions];
    o.max_version = fuzz_max[versions];
    o.select_by_name = by_name;
    return fuzz_make_config(&configs[versions][identity][peer_staple][verify_peer][by_name],
                            &ready[versions][identity][peer_staple][verify_peer][by_name], &o);
}

stapler_tls_config_t *fuzz_tls_client_config(int versions, stapler_tls_peer_staple_t peer_staple,
                                             int present_certificate)
{
    static stapler_tls_config_t configs[3][3][2];
    static int ready[3][3][2];
    stapler_tls_options_t o;

    memset(&o, 0, sizeof(o));
    o.endpoint = MBEDTLS_SSL_IS_CLIENT;
    o.identity = 0;
    o.present_certificate = present_certificate;
    o.trust = &fuzz_trust;
    o.peer_staple = peer_staple;
    o.min_version = fuzz_min[versions];
    o.max_version = fuzz_max[versions];
    return fuzz_make_config(&configs[versions][peer_staple][present_certificate],
                            &ready[versions][peer_staple][present_certificate], &o);
}

stapler_tls_config_t *fuzz_tls_server_options(uint8_t options)
{
    static const stapler_tls_peer_staple_t peer[4] = {
        STAPLER_TLS_PEER_STAPLE_IGNORE, STAPLER_TLS_PEER_STAPLE_CHECK, STAPLER_TLS_PEER_STAPLE_REQUIRE,
        STAPLER_TLS_PEER_STAPLE_CHECK
    };

    return fuzz_tls_server_config((options & 3u) == 3u ? 0 : options & 3u, (options >> 2) & 1u,
                                  peer[(options >> 3) & 3u], (options >> 5) & 1u, (options >> 6) & 1u);
}

stapler_tls_config_t *fuzz_tls_client_options(uint8_t options)
{
    static const stapler_tls_peer_staple_t peer[4] = {
        STAPLER_TLS_PEER_STAPLE_CHECK, STAPLER_TLS_PEER_STAPLE_REQUIRE, STAPLER_TLS_PEER_STAPLE_IGNORE,
        STAPLER_TLS_PEER_STAPLE_CHECK
    };

    return fuzz_tls_client_config((options & 3u) == 3u ? 0 : options & 3u, peer[(options >> 2) & 3u],
                                  (options >> 4) & 1u);
}

void fuzz_tls_open(stapler_tls_session_t *session, stapler_tls_config_t *config)
{
    fuzz_tls_side(FUZZ_SIDE_TESTED);
    if (stapler_tls_session_init(session, config, &fuzz_port, 0,
                                 config->options.endpoint == MBEDTLS_SSL_IS_CLIENT ? "gateway-ec" : NULL) != 0) {
        fuzz_fail("stapler_tls_session_init failed");
    }
}

void fuzz_tls_close(stapler_tls_session_t *session, int result)
{
    const stapler_tls_config_t *config = session->config;
    const stapler_tls_peer_staple_info_t *peer = &session->peer;
    unsigned i;

    if (result == 0) {
        const mbedtls_x509_crt *peer_crt = mbedtls_ssl_get_peer_cert(&session->ssl);
        const int good = peer->length > 0 && peer->cert_status == STAPLER_OCSP_GOOD;

        if (config->options.peer_staple != STAPLER_TLS_PEER_STAPLE_IGNORE && peer_crt != NULL) {
            if (!peer->checked) {
                fuzz_fail("the peer's certificate was accepted without a look at its staple");
            }
            if (config->options.peer_staple == STAPLER_TLS_PEER_STAPLE_REQUIRE && !good) {
                fuzz_fail("a peer staple is required, and the handshake succeeded without a good one");
            }
            if (peer->must_staple && config->enforce_peer_must_staple && !good) {
                fuzz_fail("a must-staple peer certificate was accepted without a good staple");
            }
        }
        if (peer->count > 0 && peer->result != 0) {
            fuzz_fail("the handshake succeeded although the peer's staple was refused");
        }
    }
    stapler_tls_session_free(session);
    for (i = 0; i < fuzz_agent.identity_count; i++) {
        if (fuzz_agent.identity[i].holds != 0) {
            fuzz_fail("the staple is still held after the handshake");
        }
    }
}

void fuzz_tls13_case(uint8_t options, fuzz_tls13_case_t *c)
{
    const stapler_tls_peer_staple_t peer_staple = (options & 4u) ? STAPLER_TLS_PEER_STAPLE_REQUIRE
                                                                 : STAPLER_TLS_PEER_STAPLE_CHECK;
    const int both_ways = (options >> 3) & 1u;
    const int mode = (options & 3u) == 3u ? 1 : options & 3u;

    memset(c, 0, sizeof(*c));
    c->peer.min_version = c->peer.max_version = MBEDTLS_SSL_VERSION_TLS1_3;
    c->peer.staples = 1;
    c->replacement.type = MBEDTLS_SSL_HS_CERTIFICATE;
    if (mode == 0) {
        /* The server's CertificateRequest, to Stapler as a client with its certificate. */
        c->tested = fuzz_tls_client_config(2, peer_staple, 1);
        c->peer.endpoint = MBEDTLS_SSL_IS_SERVER;
        c->peer.asks_staple = 1;
        c->peer.authmode = MBEDTLS_SSL_VERIFY_REQUIRED;
        c->replacement.state = MBEDTLS_SSL_CERTIFICATE_REQUEST;
        c->replacement.type = MBEDTLS_SSL_HS_CERTIFICATE_REQUEST;
        c->replacement.next_state = MBEDTLS_SSL_SERVER_CERTIFICATE;
        c->tested_state = MBEDTLS_SSL_CERTIFICATE_REQUEST;
    } else if (mode == 1) {
        /* The server's Certificate, its CertificateEntry extensions holding its staples. */
        c->tested = fuzz_tls_client_config(2, peer_staple, both_ways);
        c->peer.endpoint = MBEDTLS_SSL_IS_SERVER;
        c->peer.asks_staple = both_ways;
        c->peer.authmode = both_ways ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE;
        c->replacement.state = MBEDTLS_SSL_SERVER_CERTIFICATE;
        c->replacement.next_state = MBEDTLS_SSL_CERTIFICATE_VERIFY;
        c->replacement.stop_after = 1;
        c->tested_state = MBEDTLS_SSL_SERVER_CERTIFICATE;
    } else {
        /* The client's Certificate, to Stapler as a server that asked for it. */
        c->tested = fuzz_tls_server_config(2, 0, peer_staple, 1, 0);
        c->peer.endpoint = MBEDTLS_SSL_IS_CLIENT;
        c->peer.certificate = 1;
        c->peer.asks_staple = both_ways;
        c->peer.authmode = MBEDTLS_SSL_VERIFY_REQUIRED;
        c->peer.hostname = "gateway-ec";
        c->replacement.state = MBEDTLS_SSL_CLIENT_CERTIFICATE;
        c->replacement.next_state = MBEDTLS_SSL_CLIENT_CERTIFICATE_VERIFY;
        c->replacement.stop_after = 1;
        c->tested_state = MBEDTLS_SSL_CLIENT_CERTIFICATE;
    }
}

/* --- The peer ------------------------------------------------------------------------------ */

static int fuzz_peer_staple_cb(void *p, mbedtls_ssl_context *ssl, const mbedtls_x509_crt *crt, int depth,
                               size_t room, const unsigned char **der, size_t *der_len)
{
    const fuzz_peer_options_t *o = p;

    (void) ssl;
    (void) crt;
    if (depth == 0 && o->staples) {
        *der = o->staple != NULL ? o->staple : fuzz_staple_ec;
        *der_len = o->staple != NULL ? o->staple_len : fuzz_staple_ec_len;
        if (*der_len > room) {
            *der_len = 0;
        }
    }
    return 0;
}

static int fuzz_peer_verify_cb(void *p, mbedtls_ssl_context *ssl, const mbedtls_x509_crt *chain, int depth,
                               const unsigned char *der, size_t der_len)
{
    (void) p;
    (void) ssl;
    (void) chain;
    (void) depth;
    (void) der;
    (void) der_len;
    return 0; /* the peer takes whatever comes: the tested side is what is judged */
}

void fuzz_tls_peer_open(mbedtls_ssl_context *ssl, mbedtls_ssl_config *conf, fuzz_peer_options_t *o)
{
    fuzz_tls_side(FUZZ_SIDE_PEER);
    mbedtls_ssl_config_init(conf);
    mbedtls_ssl_init(ssl);
    if (mbedtls_ssl_config_defaults(conf, o->endpoint, MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        fuzz_fail("peer configuration");
    }
    mbedtls_ssl_conf_rng(conf, stapler_mbedtls_platform_random, NULL);
    mbedtls_ssl_conf_min_tls_version(conf, o->min_version);
    mbedtls_ssl_conf_max_tls_version(conf, o->max_version);
    mbedtls_ssl_conf_ca_chain(conf, &fuzz_trust, NULL);
    mbedtls_ssl_conf_authmode(conf, o->authmode);
    if ((o->endpoint == MBEDTLS_SSL_IS_SERVER || o->certificate) &&
        mbedtls_ssl_conf_own_cert(conf, &fuzz_peer_crt, &fuzz_peer_key) != 0) {
        fuzz_fail("peer certificate");
    }
    if (o->groups != NULL) {
        mbedtls_ssl_conf_groups(conf, o->groups);
    }
    mbedtls_ssl_conf_ocsp_staple_cb(conf, fuzz_peer_staple_cb, o);
    if (o->asks_staple) {
        mbedtls_ssl_conf_ocsp_verify_cb(conf, fuzz_peer_verify_cb, NULL);
    }
    if (mbedtls_ssl_setup(ssl, conf) != 0 ||
        (o->endpoint == MBEDTLS_SSL_IS_CLIENT && mbedtls_ssl_set_hostname(ssl, o->hostname) != 0)) {
        fuzz_fail("peer context");
    }
    mbedtls_ssl_set_bio(ssl, NULL, fuzz_peer_send, fuzz_peer_recv, NULL);
    fuzz_tls_side(FUZZ_SIDE_TESTED);
}

void fuzz_tls_peer_close(mbedtls_ssl_context *ssl, mbedtls_ssl_config *conf)
{
    mbedtls_ssl_free(ssl);
    mbedtls_ssl_config_free(conf);
}

/* Send the fuzzer's message as the peer's own: the peer's keys, its transcript. */
static int fuzz_write_replacement(mbedtls_ssl_context *ssl, const fuzz_tls_replacement_t *r)
{
    unsigned char *buf;
    size_t buf_len, len = r->len;
    int ret;

    if (ssl->conf->endpoint == MBEDTLS_SSL_IS_CLIENT && ssl->handshake->transform_handshake != NULL) {
        /* What the client does first in MBEDTLS_SSL_CLIENT_CERTIFICATE. */
        mbedtls_ssl_set_outbound_transform(ssl, ssl->handshake->transform_handshake);
    }
    if (r->type == MBEDTLS_SSL_HS_CERTIFICATE_REQUEST) {
        ssl->handshake->certificate_request_sent = 1; /* then the client's Certificate is read */
    }
    ret = mbedtls_ssl_start_handshake_msg(ssl, r->type, &buf, &buf_len);
    if (ret != 0) {
        return ret;
    }
    if (len > buf_len) {
        len = buf_len;
    }
    memcpy(buf, r->body, len);
    ret = mbedtls_ssl_add_hs_msg_to_checksum(ssl, r->type, buf, len);
    if (ret == 0) {
        ret = mbedtls_ssl_finish_handshake_msg(ssl, buf_len, len);
    }
    if (ret == 0) {
        ret = mbedtls_ssl_flush_output(ssl);
    }
    mbedtls_ssl_handshake_set_state(ssl, (mbedtls_ssl_states) r->next_state);
    return ret;
}

/* Step the peer as far as it goes; 1 once it has nothing more to do. */
static int fuzz_peer_steps(mbedtls_ssl_context *peer, const fuzz_tls_replacement_t *r, int *replaced)
{
    int i, ret;

    for (i = 0; i < 64; i++) {
        if (mbedtls_ssl_is_handshake_over(peer)) {
            return 1;
        }
        if (r != NULL && !*replaced && peer->state == r->state) {
            *replaced = 1;
            if (fuzz_write_replacement(peer, r) != 0 || r->stop_after) {
                return 1;
            }
            continue;
        }
        ret = mbedtls_ssl_handshake_step(peer);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            return 0;
        }
        if (ret != 0) {
            return 1;
        }
    }
    return 0;
}

int fuzz_tls_run(stapler_tls_session_t *tested, mbedtls_ssl_context *peer,
                 const fuzz_tls_replacement_t *replacement, int *replaced)
{
    int result = MBEDTLS_ERR_SSL_WANT_READ, peer_done = peer == NULL, sent = 0, round;

    for (round = 0; round < 256; round++) {
        const size_t mark = fuzz_to_tested.len + fuzz_to_tested.read + fuzz_from_tested.len + fuzz_from_tested.read;
        const int waiting = result == MBEDTLS_ERR_SSL_WANT_READ || result == MBEDTLS_ERR_SSL_WANT_WRITE;

        if (waiting) {
            fuzz_tls_side(FUZZ_SIDE_TESTED);
            result = stapler_tls_session_handshake(tested);
        }
        if (!peer_done) {
            fuzz_tls_side(FUZZ_SIDE_PEER);
            peer_done = fuzz_peer_steps(peer, replacement, &sent);
        }
        if (result != MBEDTLS_ERR_SSL_WANT_READ && result != MBEDTLS_ERR_SSL_WANT_WRITE && peer_done) {
            break;
        }
        if (fuzz_to_tested.len + fuzz_to_tested.read + fuzz_from_tested.len + fuzz_from_tested.read == mark) {
            break; /* nothing moved: both wait for bytes that will not come */
        }
    }
    fuzz_tls_side(FUZZ_SIDE_TESTED);
    if (replaced != NULL) {
        *replaced = sent;
    }
    return result;
}

void fuzz_tls_one_input(const uint8_t *data, size_t size, stapler_tls_config_t *(*options)(uint8_t))
{
    static int ready;
    stapler_tls_session_t session;
    int result;

    if (!ready) {
        fuzz_tls_setup();
        ready = 1;
    }
    if (size < 1) {
        return;
    }
    fuzz_tls_reset();
    fuzz_tls_open(&session, options(data[0]));
    fuzz_tls_feed(data + 1, size - 1);
    result = fuzz_tls_run(&session, NULL, NULL, NULL);
    fuzz_tls_close(&session, result);
    fuzz_tls_check_arena();
}
