/* Unit tests of Stapler's Mbed TLS patch series (MBEDTLS_SSL_OCSP_STAPLING), at the Mbed TLS
 * API: a client and a server in one process over an in-memory pipe, both patched. Each test
 * checks what the application's callbacks saw and, where it matters, the bytes on the wire. */
#include <stdint.h>
#include <string.h>

#include "unity.h"

#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/ssl_cache.h"
#include "mbedtls/x509_crt.h"
#include "stapler_mbedtls_platform.h"
#include "stapler_posix.h"
#include "test_support.h"

/* --- An in-memory pipe with a transcript of each direction ---------------------------- */

typedef struct {
    unsigned char data[65536];
    size_t len, read;
} pipe_t;

typedef struct {
    pipe_t *out, *in;
} end_t;

static pipe_t c2s, s2c;
static end_t client_end = { &c2s, &s2c }, server_end = { &s2c, &c2s };

static int pipe_send(void *ctx, const unsigned char *buf, size_t len)
{
    end_t *e = ctx;
    if (e->out->len + len > sizeof(e->out->data)) {
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    memcpy(e->out->data + e->out->len, buf, len);
    e->out->len += len;
    return (int) len;
}

static int pipe_recv(void *ctx, unsigned char *buf, size_t len)
{
    end_t *e = ctx;
    size_t n = e->in->len - e->in->read;
    if (n == 0) {
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    if (n > len) {
        n = len;
    }
    memcpy(buf, e->in->data + e->in->read, n);
    e->in->read += n;
    return (int) n;
}

/* --- Credentials and staples -------------------------------------------------------------- */

static mbedtls_x509_crt srv_crt, cli_crt, ca_rsa, ca_ec;
static mbedtls_pk_context srv_key, cli_key;
static unsigned char staple_rsa[4096], staple_ec[4096];
static size_t staple_rsa_len, staple_ec_len;

static void load_key(mbedtls_pk_context *key, const char *name)
{
    unsigned char buf[4096];
    long n = stapler_test_read(STAPLER_VECTOR_DIR, name, buf, sizeof(buf) - 1);
    TEST_ASSERT_TRUE_MESSAGE(n > 0, name);
    buf[n] = 0; /* PEM needs its terminating NUL in the length */
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, mbedtls_pk_parse_key(key, buf, (size_t) n + 1, NULL, 0,
                                                           stapler_mbedtls_platform_random, NULL), name);
}

/* What the staple callbacks hand out and what the verify callbacks saw */
typedef struct {
    const unsigned char *der;
    size_t len;
    int calls;
    int depth_seen;
    size_t room_seen;
} staple_src_t;

typedef struct {
    int calls;
    int depth[8];
    size_t len[8];
    unsigned char first[4096];
    size_t first_len;
    int refuse;          /* return this from the callback */
} verify_sink_t;

static staple_src_t srv_src, cli_src;
static verify_sink_t cli_sink, srv_sink;

static int staple_cb(void *p, mbedtls_ssl_context *ssl, const mbedtls_x509_crt *crt, int depth,
                     size_t room, const unsigned char **der, size_t *der_len)
{
    staple_src_t *src = p;
    (void) ssl;
    TEST_ASSERT_NOT_NULL(crt);
    src->calls++;
    src->depth_seen = depth;
    src->room_seen = room;
    if (depth == 0) {
        *der = src->der;
        *der_len = src->len;
    }
    return 0;
}

static int verify_cb(void *p, mbedtls_ssl_context *ssl, const mbedtls_x509_crt *chain, int depth,
                     const unsigned char *der, size_t der_len)
{
    verify_sink_t *sink = p;
    (void) ssl;
    TEST_ASSERT_NOT_NULL(chain);
    TEST_ASSERT_EQUAL_INT(der == NULL, der_len == 0);
    if (sink->calls < 8) {
        sink->depth[sink->calls] = depth;
        sink->len[sink->calls] = der_len;
    }
    if (sink->calls == 0 && der_len > 0 && der_len <= sizeof(sink->first)) {
        memcpy(sink->first, der, der_len);
        sink->first_len = der_len;
    }
    sink->calls++;
    return sink->refuse;
}

/* --- One connection ------------------------------------------------------------------------ */

static mbedtls_ssl_config cconf, sconf;
static mbedtls_ssl_context cli, srv;
static mbedtls_ssl_cache_context cache;

typedef struct {
    mbedtls_ssl_protocol_version version;
    int ec;                 /* ECDSA server identity instead of RSA */
    int client_auth;        /* server requires a client certificate */
    int server_staples, client_staples;
    int client_verifies, server_verifies;
    int hrr;                /* make the server answer with a HelloRetryRequest */
} setup_t;

static void configure(const setup_t *t)
{
    static const uint16_t client_groups[] = { MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
                                              MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
                                              MBEDTLS_SSL_IANA_TLS_GROUP_NONE };
    static const uint16_t server_groups[] = { MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
                                              MBEDTLS_SSL_IANA_TLS_GROUP_NONE };

    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_config_defaults(&cconf, MBEDTLS_SSL_IS_CLIENT,
                                                         MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT));
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_config_defaults(&sconf, MBEDTLS_SSL_IS_SERVER,
                                                         MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT));
    mbedtls_ssl_conf_rng(&cconf, stapler_mbedtls_platform_random, NULL);
    mbedtls_ssl_conf_rng(&sconf, stapler_mbedtls_platform_random, NULL);
    mbedtls_ssl_conf_min_tls_version(&cconf, t->version);
    mbedtls_ssl_conf_max_tls_version(&cconf, t->version);
    mbedtls_ssl_conf_min_tls_version(&sconf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&sconf, MBEDTLS_SSL_VERSION_TLS1_3);
    mbedtls_ssl_conf_ca_chain(&cconf, t->ec ? &ca_ec : &ca_rsa, NULL);
    mbedtls_ssl_conf_ca_chain(&sconf, &ca_rsa, NULL);
    mbedtls_ssl_conf_authmode(&cconf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_authmode(&sconf, t->client_auth ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE);
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_conf_own_cert(&sconf, &srv_crt, &srv_key));
    if (t->client_auth) {
        TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_conf_own_cert(&cconf, &cli_crt, &cli_key));
    }
    if (t->hrr) {
        mbedtls_ssl_conf_groups(&cconf, client_groups);
        mbedtls_ssl_conf_groups(&sconf, server_groups);
    }
    mbedtls_ssl_conf_session_cache(&sconf, &cache, mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
    if (t->server_staples) {
        mbedtls_ssl_conf_ocsp_staple_cb(&sconf, staple_cb, &srv_src);
    }
    if (t->client_staples) {
        mbedtls_ssl_conf_ocsp_staple_cb(&cconf, staple_cb, &cli_src);
    }
    if (t->client_verifies) {
        mbedtls_ssl_conf_ocsp_verify_cb(&cconf, verify_cb, &cli_sink);
    }
    if (t->server_verifies) {
        mbedtls_ssl_conf_ocsp_verify_cb(&sconf, verify_cb, &srv_sink);
    }
}

static void open_pair(void)
{
    memset(&c2s, 0, sizeof(c2s));
    memset(&s2c, 0, sizeof(s2c));
    mbedtls_ssl_init(&cli);
    mbedtls_ssl_init(&srv);
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_setup(&cli, &cconf));
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_setup(&srv, &sconf));
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_set_hostname(&cli, "gateway-rsa"));
    mbedtls_ssl_set_bio(&cli, &client_end, pipe_send, pipe_recv, NULL);
    mbedtls_ssl_set_bio(&srv, &server_end, pipe_send, pipe_recv, NULL);
}

static void close_pair(void)
{
    mbedtls_ssl_free(&cli);
    mbedtls_ssl_free(&srv);
}

/* Run both handshakes to the end (bounded). Returns the client's result; *sret the server's. */
static int handshake(int *sret)
{
    int cret = MBEDTLS_ERR_SSL_WANT_READ, s = MBEDTLS_ERR_SSL_WANT_READ, i;

    for (i = 0; i < 200; i++) {
        if (cret == MBEDTLS_ERR_SSL_WANT_READ || cret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            cret = mbedtls_ssl_handshake(&cli);
        }
        if (s == MBEDTLS_ERR_SSL_WANT_READ || s == MBEDTLS_ERR_SSL_WANT_WRITE) {
            s = mbedtls_ssl_handshake(&srv);
        }
        if ((cret != MBEDTLS_ERR_SSL_WANT_READ && cret != MBEDTLS_ERR_SSL_WANT_WRITE) &&
            (s != MBEDTLS_ERR_SSL_WANT_READ && s != MBEDTLS_ERR_SSL_WANT_WRITE)) {
            break;
        }
        if (cret != MBEDTLS_ERR_SSL_WANT_READ && cret != MBEDTLS_ERR_SSL_WANT_WRITE && s == MBEDTLS_ERR_SSL_WANT_READ &&
            c2s.read == c2s.len) {
            break; /* the client gave up and the server waits for nothing more */
        }
    }
    TEST_ASSERT_TRUE_MESSAGE(i < 200, "handshake did not end");
    *sret = s;
    return cret;
}

/* Does the plaintext record stream contain a handshake message of this type? (TLS 1.2) */
static int tls12_has_handshake_type(const pipe_t *p, unsigned char type)
{
    size_t off = 0;
    while (off + 5 <= p->len) {
        size_t len = ((size_t) p->data[off + 3] << 8) | p->data[off + 4];
        if (p->data[off] == 20) {
            return 0; /* ChangeCipherSpec: the rest is encrypted */
        }
        if (p->data[off] == 22 && len >= 4) {
            size_t m = off + 5;
            while (m + 4 <= off + 5 + len) {
                size_t mlen = ((size_t) p->data[m + 1] << 16) | ((size_t) p->data[m + 2] << 8) | p->data[m + 3];
                if (p->data[m] == type) {
                    return 1;
                }
                m += 4 + mlen;
            }
        }
        off += 5 + len;
    }
    return 0;
}

#if defined(PSA_WANT_ECC_SECP_R1_384) /* only the HelloRetryRequest test counts messages */
/* Handshake messages of this type in plaintext records (TLS 1.3: until encryption starts). */
static int plaintext_count(const pipe_t *p, unsigned char type)
{
    size_t off = 0;
    int n = 0;
    while (off + 5 <= p->len && p->data[off] != 23) {
        size_t len = ((size_t) p->data[off + 3] << 8) | p->data[off + 4];
        if (p->data[off] == 22 && len >= 4 && p->data[off + 5] == type) {
            n++;
        }
        off += 5 + len;
    }
    return n;
}
#endif

/* The last alert description seen in plaintext, or -1. */
static int plaintext_alert(const pipe_t *p)
{
    size_t off = 0;
    int alert = -1;
    while (off + 5 <= p->len) {
        size_t len = ((size_t) p->data[off + 3] << 8) | p->data[off + 4];
        if (p->data[off] == 21 && len == 2 && off + 7 <= p->len) {
            alert = p->data[off + 6];
        }
        off += 5 + len;
    }
    return alert;
}

void setUp(void)
{
    TEST_ASSERT_EQUAL_INT(0, stapler_posix_mbedtls_setup());
    TEST_ASSERT_EQUAL_INT(PSA_SUCCESS, psa_crypto_init());
    mbedtls_x509_crt_init(&srv_crt);
    mbedtls_x509_crt_init(&cli_crt);
    mbedtls_x509_crt_init(&ca_rsa);
    mbedtls_x509_crt_init(&ca_ec);
    mbedtls_pk_init(&srv_key);
    mbedtls_pk_init(&cli_key);
    mbedtls_ssl_config_init(&cconf);
    mbedtls_ssl_config_init(&sconf);
    mbedtls_ssl_cache_init(&cache);
    TEST_ASSERT_EQUAL_INT(0, stapler_test_load_crt(&ca_rsa, STAPLER_VECTOR_DIR, "ca-rsa.der"));
    TEST_ASSERT_EQUAL_INT(0, stapler_test_load_crt(&ca_ec, STAPLER_VECTOR_DIR, "ca-ec.der"));
    TEST_ASSERT_EQUAL_INT(0, stapler_test_load_crt(&cli_crt, STAPLER_VECTOR_DIR, "leaf2-rsa.der"));
    load_key(&cli_key, "leaf2-rsa.key");
    staple_rsa_len = (size_t) stapler_test_read(STAPLER_VECTOR_DIR, "good-rsa-bykey.der", staple_rsa, sizeof(staple_rsa));
    staple_ec_len = (size_t) stapler_test_read(STAPLER_VECTOR_DIR, "good-ec.der", staple_ec, sizeof(staple_ec));
    TEST_ASSERT_TRUE(staple_rsa_len > 100 && staple_ec_len > 100);
    memset(&srv_src, 0, sizeof(srv_src));
    memset(&cli_src, 0, sizeof(cli_src));
    memset(&cli_sink, 0, sizeof(cli_sink));
    memset(&srv_sink, 0, sizeof(srv_sink));
}

void tearDown(void)
{
    mbedtls_ssl_config_free(&cconf);
    mbedtls_ssl_config_free(&sconf);
    mbedtls_ssl_cache_free(&cache);
    mbedtls_x509_crt_free(&srv_crt);
    mbedtls_x509_crt_free(&cli_crt);
    mbedtls_x509_crt_free(&ca_rsa);
    mbedtls_x509_crt_free(&ca_ec);
    mbedtls_pk_free(&srv_key);
    mbedtls_pk_free(&cli_key);
    mbedtls_psa_crypto_free();
    stapler_mbedtls_platform_teardown();
}

/* Configure both sides as t says, connect, and require both handshakes to complete. */
static void handshake_ok(const setup_t *t)
{
    int sret, cret;

    configure(t);
    open_pair();
    cret = handshake(&sret);
    TEST_ASSERT_EQUAL_INT(0, cret);
    TEST_ASSERT_EQUAL_INT(0, sret);
}

static void server_identity(int ec)
{
    TEST_ASSERT_EQUAL_INT(0, stapler_test_load_crt(&srv_crt, STAPLER_VECTOR_DIR, ec ? "leaf-ec.der" : "leaf-rsa.der"));
    load_key(&srv_key, ec ? "leaf-ec.key" : "leaf-rsa.key");
    srv_src.der = ec ? staple_ec : staple_rsa;
    srv_src.len = ec ? staple_ec_len : staple_rsa_len;
}

static void run_server_staple(mbedtls_ssl_protocol_version version, int ec)
{
    setup_t t = { version, ec, 0, 1, 0, 1, 0, 0 };
    int cret, sret;

    server_identity(ec);
    configure(&t);
    open_pair();
    if (ec) {
        TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_set_hostname(&cli, "gateway-ec"));
    }
    cret = handshake(&sret);
    TEST_ASSERT_EQUAL_HEX32_MESSAGE(0, mbedtls_ssl_get_verify_result(&cli), "client's X.509 verify flags");
    TEST_ASSERT_EQUAL_INT(0, cret);
    TEST_ASSERT_EQUAL_INT(0, sret);
    TEST_ASSERT_EQUAL_INT(1, srv_src.calls);
    TEST_ASSERT_EQUAL_INT(0, srv_src.depth_seen);
    TEST_ASSERT_EQUAL_INT(1, cli_sink.calls);
    TEST_ASSERT_EQUAL_INT(0, cli_sink.depth[0]);
    TEST_ASSERT_EQUAL_size_t(srv_src.len, cli_sink.first_len);
    TEST_ASSERT_EQUAL_MEMORY(srv_src.der, cli_sink.first, srv_src.len);
    if (version == MBEDTLS_SSL_VERSION_TLS1_2) {
        TEST_ASSERT_TRUE(tls12_has_handshake_type(&s2c, MBEDTLS_SSL_HS_CERTIFICATE_STATUS));
    }
    close_pair();
}

static void test_tls12_server_sends_certificate_status_rsa(void)
{
    run_server_staple(MBEDTLS_SSL_VERSION_TLS1_2, 0);
}

static void test_tls12_server_sends_certificate_status_ecdsa(void)
{
    run_server_staple(MBEDTLS_SSL_VERSION_TLS1_2, 1);
}

static void test_tls13_server_staples_in_certificate_entry_rsa(void)
{
    run_server_staple(MBEDTLS_SSL_VERSION_TLS1_3, 0);
}

static void test_tls13_server_staples_in_certificate_entry_ecdsa(void)
{
    run_server_staple(MBEDTLS_SSL_VERSION_TLS1_3, 1);
}

static void test_no_staple_means_no_echo_and_the_client_hears_of_none(void)
{
    setup_t t = { MBEDTLS_SSL_VERSION_TLS1_2, 0, 0, 1, 0, 1, 0, 0 };

    server_identity(0);
    srv_src.len = 0; /* nothing cached */
    handshake_ok(&t);
    TEST_ASSERT_EQUAL_INT(1, srv_src.calls);
    TEST_ASSERT_FALSE(tls12_has_handshake_type(&s2c, MBEDTLS_SSL_HS_CERTIFICATE_STATUS));
    TEST_ASSERT_EQUAL_INT(1, cli_sink.calls);
    TEST_ASSERT_EQUAL_size_t(0, cli_sink.len[0]);
    close_pair();
}

static void test_client_without_callbacks_is_not_asked_and_gets_nothing(void)
{
    setup_t t = { MBEDTLS_SSL_VERSION_TLS1_3, 0, 0, 1, 0, 0, 0, 0 };

    server_identity(0);
    handshake_ok(&t);
    TEST_ASSERT_EQUAL_INT(0, srv_src.calls); /* no status_request in the ClientHello */
    close_pair();
}

static void test_a_staple_that_does_not_fit_is_left_out(void)
{
    static unsigned char big[MBEDTLS_SSL_OUT_CONTENT_LEN];
    setup_t t = { MBEDTLS_SSL_VERSION_TLS1_3, 0, 0, 1, 0, 1, 0, 0 };

    server_identity(0);
    memset(big, 0x30, sizeof(big));
    srv_src.der = big;
    srv_src.len = sizeof(big);
    handshake_ok(&t);
    TEST_ASSERT_EQUAL_INT(1, srv_src.calls);
    TEST_ASSERT_TRUE(srv_src.room_seen < sizeof(big));
    TEST_ASSERT_TRUE(srv_src.room_seen > 1000);
    TEST_ASSERT_EQUAL_INT(1, cli_sink.calls);
    TEST_ASSERT_EQUAL_size_t(0, cli_sink.len[0]);
    close_pair();
}

static void test_the_room_given_is_exact(void)
{
    static unsigned char sized[MBEDTLS_SSL_OUT_CONTENT_LEN];
    setup_t t = { MBEDTLS_SSL_VERSION_TLS1_3, 0, 0, 1, 0, 1, 0, 0 };
    int cret, sret;
    size_t room;

    /* First learn the room, then staple exactly that much: it must go through. */
    server_identity(0);
    memset(sized, 0x30, sizeof(sized));
    srv_src.der = sized;
    srv_src.len = sizeof(sized);
    configure(&t);
    open_pair();
    (void) handshake(&sret);
    room = srv_src.room_seen;
    close_pair();

    memset(&srv_src, 0, sizeof(srv_src));
    memset(&cli_sink, 0, sizeof(cli_sink));
    srv_src.der = sized;
    srv_src.len = room;
    open_pair();
    cret = handshake(&sret);
    TEST_ASSERT_EQUAL_INT(0, sret);
    TEST_ASSERT_EQUAL_INT(0, cret);
    TEST_ASSERT_EQUAL_size_t(room, cli_sink.len[0]);
    close_pair();
}

static void test_tls13_client_staples_when_the_certificate_request_asks(void)
{
    setup_t t = { MBEDTLS_SSL_VERSION_TLS1_3, 0, 1, 0, 1, 0, 1, 0 };

    server_identity(0);
    cli_src.der = staple_rsa;
    cli_src.len = staple_rsa_len;
    handshake_ok(&t);
    TEST_ASSERT_EQUAL_INT(1, cli_src.calls);
    TEST_ASSERT_EQUAL_INT(1, srv_sink.calls);
    TEST_ASSERT_EQUAL_size_t(staple_rsa_len, srv_sink.first_len);
    TEST_ASSERT_EQUAL_MEMORY(staple_rsa, srv_sink.first, staple_rsa_len);
    close_pair();
}

static void test_tls13_client_does_not_staple_unasked(void)
{
    setup_t t = { MBEDTLS_SSL_VERSION_TLS1_3, 0, 1, 0, 1, 0, 0, 0 };

    server_identity(0);
    cli_src.der = staple_rsa;
    cli_src.len = staple_rsa_len;
    handshake_ok(&t);
    TEST_ASSERT_EQUAL_INT(0, cli_src.calls);
    close_pair();
}

/* The HelloRetryRequest comes from the client offering a P-384 share to a server that wants
 * P-256: with p256-m, P-256 is the only group and no HRR can happen, so the case is not
 * built (the project counts ignored tests as failures). */
#if defined(PSA_WANT_ECC_SECP_R1_384)
static void test_hello_retry_request_keeps_the_request(void)
{
    setup_t t = { MBEDTLS_SSL_VERSION_TLS1_3, 0, 0, 1, 0, 1, 0, 1 };

    server_identity(0);
    handshake_ok(&t);
    /* The client had to send a second ClientHello (HRR), which still asked for the staple. */
    TEST_ASSERT_EQUAL_INT(2, plaintext_count(&c2s, MBEDTLS_SSL_HS_CLIENT_HELLO));
    TEST_ASSERT_EQUAL_INT(1, srv_src.calls);
    TEST_ASSERT_EQUAL_size_t(staple_rsa_len, cli_sink.first_len);
    close_pair();
}
#endif

static void test_tls12_refusal_sends_alert_113(void)
{
    setup_t t = { MBEDTLS_SSL_VERSION_TLS1_2, 0, 0, 1, 0, 1, 0, 0 };
    int cret, sret;

    server_identity(0);
    cli_sink.refuse = -0x0503;
    configure(&t);
    open_pair();
    cret = handshake(&sret);
    TEST_ASSERT_EQUAL_INT(-0x0503, cret);
    TEST_ASSERT_NOT_EQUAL(0, sret);
    TEST_ASSERT_EQUAL_INT(MBEDTLS_SSL_ALERT_MSG_BAD_CERT_STATUS_RESPONSE, plaintext_alert(&c2s));
    close_pair();
}

static void test_tls13_refusal_aborts_both_sides(void)
{
    setup_t t = { MBEDTLS_SSL_VERSION_TLS1_3, 0, 0, 1, 0, 1, 0, 0 };
    int cret, sret;

    server_identity(0);
    cli_sink.refuse = -0x0502;
    configure(&t);
    open_pair();
    cret = handshake(&sret);
    TEST_ASSERT_EQUAL_INT(-0x0502, cret);
    /* The alert is protected with the client's handshake keys (the patch switches them on
     * early: Mbed TLS would otherwise send it in plaintext, which the server cannot read). */
    TEST_ASSERT_EQUAL_INT(-1, plaintext_alert(&c2s));
    TEST_ASSERT_EQUAL_INT(MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, sret);
    close_pair();
}

static void test_tls12_resumption_carries_no_staple(void)
{
    setup_t t = { MBEDTLS_SSL_VERSION_TLS1_2, 0, 0, 1, 0, 1, 0, 0 };
    mbedtls_ssl_session saved;
    int cret, sret;

    server_identity(0);
    configure(&t);
    open_pair();
    cret = handshake(&sret);
    TEST_ASSERT_EQUAL_INT(0, cret);
    mbedtls_ssl_session_init(&saved);
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_get_session(&cli, &saved));
    close_pair();

    memset(&srv_src, 0, sizeof(srv_src));
    srv_src.der = staple_rsa;
    srv_src.len = staple_rsa_len;
    memset(&cli_sink, 0, sizeof(cli_sink));
    open_pair();
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_set_session(&cli, &saved));
    cret = handshake(&sret);
    TEST_ASSERT_EQUAL_INT(0, cret);
    TEST_ASSERT_EQUAL_INT(0, sret);
    TEST_ASSERT_EQUAL_INT(0, srv_src.calls);   /* resumed: never asked, never echoed */
    TEST_ASSERT_EQUAL_INT(0, cli_sink.calls);  /* no certificate, nothing to report */
    TEST_ASSERT_FALSE(tls12_has_handshake_type(&s2c, MBEDTLS_SSL_HS_CERTIFICATE_STATUS));
    TEST_ASSERT_FALSE(tls12_has_handshake_type(&s2c, MBEDTLS_SSL_HS_CERTIFICATE));
    mbedtls_ssl_session_free(&saved);
    close_pair();
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_tls12_server_sends_certificate_status_rsa);
    RUN_TEST(test_tls12_server_sends_certificate_status_ecdsa);
    RUN_TEST(test_tls13_server_staples_in_certificate_entry_rsa);
    RUN_TEST(test_tls13_server_staples_in_certificate_entry_ecdsa);
    RUN_TEST(test_no_staple_means_no_echo_and_the_client_hears_of_none);
    RUN_TEST(test_client_without_callbacks_is_not_asked_and_gets_nothing);
    RUN_TEST(test_a_staple_that_does_not_fit_is_left_out);
    RUN_TEST(test_the_room_given_is_exact);
    RUN_TEST(test_tls13_client_staples_when_the_certificate_request_asks);
    RUN_TEST(test_tls13_client_does_not_staple_unasked);
#if defined(PSA_WANT_ECC_SECP_R1_384)
    RUN_TEST(test_hello_retry_request_keeps_the_request);
#endif
    RUN_TEST(test_tls12_refusal_sends_alert_113);
    RUN_TEST(test_tls13_refusal_aborts_both_sides);
    RUN_TEST(test_tls12_resumption_carries_no_staple);
    return UNITY_END();
}
