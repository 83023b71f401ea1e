/* Unit tests: session resumption on Stapler's TLS server (port/mbedtls/stapler_tls.c), bounded
 * by revocation. The agent on emulated flash with clocks the test drives; the glue's server
 * session over an in-memory transport; a plain Mbed TLS client on the other end. TLS 1.2 from
 * the cache and from a ticket, TLS 1.3 from a ticket; then what the server learns later (a
 * revocation, an expired staple) stops every resumption, and a ticket never lives longer than
 * the staple. */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS /* the client session's ticket lifetime, to check it */
#include <stdint.h>
#include <string.h>

#include "unity.h"

#include "mbedtls/platform.h"
#include "mbedtls/ssl.h"
#include "stapler/agent.h"
#include "stapler/error.h"
#include "stapler/ocsp.h"
#include "stapler_flash_sim.h"
#include "stapler_mbedtls_platform.h"
#include "stapler_posix.h"
#include "stapler_tls.h"
#include "test_support.h"

/* --- The port: flash, clocks the test sets, an in-memory transport (connection 0) ------- */

typedef struct {
    unsigned char data[65536];
    size_t len, read;
} pipe_t;

static unsigned char memory[STAPLER_FLASH_REGION_SIZE];
static stapler_flash_sim_t sim;
static stapler_port_t port;
static stapler_agent_t agent;
static stapler_tls_config_t server;
static int64_t wall;
static uint64_t monotonic = 1000;
static pipe_t c2s, s2c;

static uint64_t test_monotonic_ms(void *context) { (void) context; return monotonic; }
static int test_wall_time(void *context, int64_t *utc, int *trusted)
{
    (void) context;
    *utc = wall;
    *trusted = 1;
    return 0;
}
static int test_entropy(void *context, void *buffer, size_t len)
{
    (void) context;
    return stapler_mbedtls_platform_random(NULL, buffer, len);
}

static int pipe_put(pipe_t *p, const void *buf, size_t len)
{
    if (p->len + len > sizeof(p->data)) {
        return 0;
    }
    memcpy(p->data + p->len, buf, len);
    p->len += len;
    return (int) len;
}

static int pipe_take(pipe_t *p, void *buf, size_t len)
{
    size_t n = p->len - p->read;

    if (n > len) {
        n = len;
    }
    memcpy(buf, p->data + p->read, n);
    p->read += n;
    return (int) n;
}

/* Connection 0 is the server's end, 1 a glue client's (the other end of the same pipes). */
static int srv_send(void *c, int conn, const void *d, size_t n) { (void) c; return pipe_put(conn == 0 ? &s2c : &c2s, d, n); }
static int srv_recv(void *c, int conn, void *b, size_t n) { (void) c; return pipe_take(conn == 0 ? &c2s : &s2c, b, n); }
static int cli_send(void *c, const unsigned char *d, size_t n)
{
    (void) c;
    return pipe_put(&c2s, d, n) > 0 ? (int) n : MBEDTLS_ERR_SSL_WANT_WRITE;
}
static int cli_recv(void *c, unsigned char *b, size_t n)
{
    int got;

    (void) c;
    got = pipe_take(&s2c, b, n);
    return got > 0 ? got : MBEDTLS_ERR_SSL_WANT_READ;
}

/* --- Set-up ------------------------------------------------------------------------------ */

static unsigned char der[3][8192];
static size_t der_len[3];

static void load(int slot, const char *name)
{
    long n = stapler_test_read(STAPLER_VECTOR_DIR, name, der[slot], sizeof(der[slot]));
    TEST_ASSERT_TRUE_MESSAGE(n > 0, name);
    der_len[slot] = (size_t) n;
}

static int offer(const char *name)
{
    load(2, name);
    return stapler_agent_offer(&agent, 0, der[2], der_len[2]);
}

/* The agent on a fresh image: one identity (cert, key) with a verified response offered at
 * a minute after its producedAt (trusted time). */
static void provision_and_boot(const char *cert, const char *key_file, const char *response_file)
{
    static unsigned char key[4096];
    stapler_credential_input_t in;
    stapler_ocsp_response_t response;
    size_t length;
    long key_len;

    memset(memory, 0xFF, sizeof(memory));
    load(0, cert);
    load(1, "ca-rsa.der");
    key_len = stapler_test_read(STAPLER_VECTOR_DIR, key_file, key, sizeof(key));
    TEST_ASSERT_TRUE(key_len > 0);
    memset(&in, 0, sizeof(in));
    in.chain_length = 1;
    in.chain[0] = der[0];
    in.chain_len[0] = der_len[0];
    in.issuer = der[1];
    in.issuer_len = der_len[1];
    in.key = key;
    in.key_len = (size_t) key_len;
    in.url = "http://127.0.0.1:9/";
    TEST_ASSERT_EQUAL_INT(0, stapler_credentials_encode(&in, 1, memory, STAPLER_CREDENTIAL_AREA_SIZE, &length));
    load(2, response_file);
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_response_parse(&response, der[2], der_len[2]));
    wall = response.produced_at + 60;
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_init(&agent, &port));
    TEST_ASSERT_EQUAL_INT(0, offer(response_file));
}

void setUp(void)
{
    stapler_tls_options_t options;

    TEST_ASSERT_EQUAL_INT(0, stapler_posix_mbedtls_setup());
    stapler_flash_sim_init(&sim, memory, sizeof(memory), STAPLER_FLASH_SECTOR_SIZE, 16, NULL);
    memset(&port, 0, sizeof(port));
    port.context = &sim;
    port.monotonic_ms = test_monotonic_ms;
    port.wall_time = test_wall_time;
    port.entropy = test_entropy;
    port.flash = sim.flash;
    port.transport.send = srv_send;
    port.transport.recv = srv_recv;

    provision_and_boot("leaf-rsa.der", "leaf-rsa-key-pkcs8.der", "good-rsa-byname.der");
    memset(&options, 0, sizeof(options));
    options.endpoint = MBEDTLS_SSL_IS_SERVER;
    options.identity = 0;
    TEST_ASSERT_EQUAL_INT(0, stapler_tls_config_init(&server, &agent, &options));
}

void tearDown(void)
{
    stapler_tls_config_free(&server);
    mbedtls_psa_crypto_free();
    stapler_mbedtls_platform_teardown();
}

/* --- One connection: a plain Mbed TLS client against the glue's server ------------------- */

typedef int (*step_fn)(void *context);
static int raw_step(void *ssl) { return mbedtls_ssl_handshake(ssl); }
static int glue_step(void *session) { return stapler_tls_session_handshake(session); }

static int pending(int ret) { return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE; }

/* Step a client (raw Mbed TLS or the glue's) and the glue's server in turn until both are
 * done or one fails (bounded). */
static void pump(step_fn client_step, void *cli, int *cret, stapler_tls_session_t *srv, int *sret)
{
    int i;

    for (i = 0; i < 200 && (*cret != 0 || *sret != 0); i++) {
        if (*cret != 0) {
            *cret = client_step(cli);
            if (*cret != 0 && !pending(*cret)) {
                break;
            }
        }
        if (*sret != 0) {
            *sret = stapler_tls_session_handshake(srv);
            if (*sret != 0 && !pending(*sret)) {
                break;
            }
        }
    }
}

typedef struct {
    mbedtls_ssl_protocol_version version;
    int tickets;                     /* TLS 1.2: ask for a ticket (else the cache is used) */
    const mbedtls_ssl_session *resume;
    mbedtls_ssl_session *save;       /* receives the session (TLS 1.3: from the ticket) */
    int server_fails_with;           /* 0, or the error the server's handshake must end with */
    const char *host;                /* the name the client sends (SNI); NULL: "gateway" */
    int *presented;                  /* receives the identity whose certificate came (-1: another) */
    int no_sni;                      /* the client names no host at all */
} connection_t;

/* The client asks for the server's staple and keeps the length of the end-entity one. */
static size_t staple_seen;

static int see_staple(void *context, mbedtls_ssl_context *ssl, const mbedtls_x509_crt *chain, int depth,
                      const unsigned char *staple, size_t staple_len)
{
    (void) context;
    (void) ssl;
    (void) chain;
    if (depth == 0) {
        staple_seen = staple != NULL ? staple_len : 0;
    }
    return 0;
}

/* Returns 1 when the server resumed the session, 0 for a full handshake; fails the test when
 * the handshake fails. */
static int connect_once(const connection_t *c)
{
    mbedtls_ssl_config cconf;
    mbedtls_ssl_context cli;
    stapler_tls_session_t srv;
    const uint32_t resumed_before = server.resumed;
    int cret = MBEDTLS_ERR_SSL_WANT_READ, sret = MBEDTLS_ERR_SSL_WANT_READ;

    memset(&c2s, 0, sizeof(c2s));
    memset(&s2c, 0, sizeof(s2c));
    mbedtls_ssl_config_init(&cconf);
    mbedtls_ssl_init(&cli);
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_config_defaults(&cconf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                                         MBEDTLS_SSL_PRESET_DEFAULT));
    stapler_mbedtls_platform_conf_ssl_rng(&cconf);
    mbedtls_ssl_conf_authmode(&cconf, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_min_tls_version(&cconf, c->version);
    mbedtls_ssl_conf_max_tls_version(&cconf, c->version);
    mbedtls_ssl_conf_session_tickets(&cconf, c->tickets ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                        : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(&cconf, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
    if (c->presented != NULL) {
        mbedtls_ssl_conf_ocsp_verify_cb(&cconf, see_staple, NULL);
    }
    staple_seen = 0;
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_setup(&cli, &cconf));
    mbedtls_ssl_set_bio(&cli, NULL, cli_send, cli_recv, NULL);
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_set_hostname(&cli, c->no_sni ? NULL : c->host != NULL ? c->host : "gateway"));
    if (c->resume != NULL) {
        TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_set_session(&cli, c->resume));
    }
    TEST_ASSERT_EQUAL_INT(0, stapler_tls_session_init(&srv, &server, &port, 0, NULL));
    pump(raw_step, &cli, &cret, &srv, &sret);
    if (c->server_fails_with != 0) {
        TEST_ASSERT_EQUAL_INT_MESSAGE(c->server_fails_with, sret, "server handshake");
        TEST_ASSERT_TRUE_MESSAGE(cret != 0, "the client's handshake succeeded");
        stapler_tls_session_free(&srv);
        mbedtls_ssl_free(&cli);
        mbedtls_ssl_config_free(&cconf);
        return server.resumed > resumed_before;
    }
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, cret, "client handshake");
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, sret, "server handshake");
    if (c->presented != NULL) {
        const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&cli);
        unsigned i;

        *c->presented = -1;
        for (i = 0; peer != NULL && i < agent.identity_count; i++) {
            if (peer->raw.len == agent.identity[i].chain.raw.len &&
                memcmp(peer->raw.p, agent.identity[i].chain.raw.p, peer->raw.len) == 0) {
                *c->presented = (int) i;
            }
        }
        /* (Resumed, the certificate is the original session's: none was sent, nor a staple.) */
        TEST_ASSERT_EQUAL_INT_MESSAGE(*c->presented, (int) srv.identity, "the server's identity is not the one sent");
        TEST_ASSERT_EQUAL_UINT_MESSAGE(server.resumed > resumed_before ? 0 : agent.identity[srv.identity].staple_len,
                                       staple_seen, "not the presented identity's staple");
    }
    if (c->save != NULL) {
        if (c->version == MBEDTLS_SSL_VERSION_TLS1_3) {
            unsigned char byte;
            int r = MBEDTLS_ERR_SSL_WANT_READ, k;

            /* The NewSessionTicket the server sent: Mbed TLS takes two reads to signal it. */
            for (k = 0; k < 4 && r == MBEDTLS_ERR_SSL_WANT_READ; k++) {
                r = mbedtls_ssl_read(&cli, &byte, 1);
            }
            TEST_ASSERT_EQUAL_INT_MESSAGE(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET, r, "no ticket came");
        }
        TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_get_session(&cli, c->save));
    }
    stapler_tls_session_free(&srv);
    mbedtls_ssl_free(&cli);
    mbedtls_ssl_config_free(&cconf);
    return server.resumed > resumed_before;
}

static void full_then_resume(mbedtls_ssl_protocol_version version, int tickets)
{
    mbedtls_ssl_session saved;
    connection_t c = { version, tickets, NULL, &saved, 0, NULL, NULL, 0 };

    mbedtls_ssl_session_init(&saved);
    TEST_ASSERT_FALSE(connect_once(&c));
    c.resume = &saved;
    c.save = NULL;
    TEST_ASSERT_TRUE_MESSAGE(connect_once(&c), "not resumed while the staple is good");
    mbedtls_ssl_session_free(&saved);
}

static void test_tls12_resumes_from_the_cache(void) { full_then_resume(MBEDTLS_SSL_VERSION_TLS1_2, 0); }
static void test_tls12_resumes_from_a_ticket(void) { full_then_resume(MBEDTLS_SSL_VERSION_TLS1_2, 1); }
static void test_tls13_resumes_from_a_ticket(void) { full_then_resume(MBEDTLS_SSL_VERSION_TLS1_3, 1); }

/* Two seconds on, the responder says identity 0 (leaf-rsa) is revoked. */
static void revoke_identity_0_later(void)
{
    monotonic += 2000;
    wall += 2;
    TEST_ASSERT_EQUAL_INT(0, offer("revoked-rsa-later.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_IDENTITY_REVOKED, agent.identity[0].state);
}

/* Sessions made with the good staple, then the responder says revoked: none of them is
 * resumed, everything before is dropped, and new connections get full handshakes (which
 * staple the revoked response). */
static void test_a_revocation_learned_later_ends_every_resumption(void)
{
    mbedtls_ssl_session s12c, s12t, s13;
    connection_t a = { MBEDTLS_SSL_VERSION_TLS1_2, 0, NULL, &s12c, 0, NULL, NULL, 0 };
    connection_t b = { MBEDTLS_SSL_VERSION_TLS1_2, 1, NULL, &s12t, 0, NULL, NULL, 0 };
    connection_t d = { MBEDTLS_SSL_VERSION_TLS1_3, 1, NULL, &s13, 0, NULL, NULL, 0 };

    mbedtls_ssl_session_init(&s12c);
    mbedtls_ssl_session_init(&s12t);
    mbedtls_ssl_session_init(&s13);
    TEST_ASSERT_FALSE(connect_once(&a));
    TEST_ASSERT_FALSE(connect_once(&b));
    TEST_ASSERT_FALSE(connect_once(&d));
    revoke_identity_0_later();
    a.resume = &s12c;
    b.resume = &s12t;
    d.resume = &s13;
    a.save = b.save = d.save = NULL;
    TEST_ASSERT_FALSE_MESSAGE(connect_once(&a), "TLS 1.2 resumed from the cache after the revocation");
    TEST_ASSERT_FALSE_MESSAGE(connect_once(&b), "TLS 1.2 resumed from a ticket after the revocation");
    TEST_ASSERT_FALSE_MESSAGE(connect_once(&d), "TLS 1.3 resumed from a ticket after the revocation");
    TEST_ASSERT_TRUE(server.resumptions_refused >= 3);
    TEST_ASSERT_EQUAL_UINT32_MESSAGE(1, server.resumption_flushes, "not dropped exactly once while revoked");
    TEST_ASSERT_EQUAL_UINT32(0, server.resumed);
    mbedtls_ssl_session_free(&s12c);
    mbedtls_ssl_session_free(&s12t);
    mbedtls_ssl_session_free(&s13);
}

/* The staple runs out (nextUpdate + skew passes, no newer one came): the status that
 * authenticated the session no longer holds, so it is not resumed. */
static void test_a_session_does_not_outlive_its_staple(void)
{
    mbedtls_ssl_session saved;
    connection_t c = { MBEDTLS_SSL_VERSION_TLS1_3, 1, NULL, &saved, 0, NULL, NULL, 0 };

    mbedtls_ssl_session_init(&saved);
    TEST_ASSERT_FALSE(connect_once(&c));
    wall = agent.identity[0].single.next_update + CONFIG_STAPLER_CLOCK_SKEW_S + 10;
    monotonic += 5000;
    c.resume = &saved;
    c.save = NULL;
    TEST_ASSERT_FALSE_MESSAGE(connect_once(&c), "resumed past the staple's validity");
    TEST_ASSERT_EQUAL_UINT32(0, server.resumption_flushes); /* not must-staple: nothing to drop */
    mbedtls_ssl_session_free(&saved);
}

/* 1000 s of staple validity left: the ticket says so, not CONFIG_STAPLER_TLS_TICKET_LIFETIME_S. */
static void test_a_ticket_lives_no_longer_than_the_staple(void)
{
    mbedtls_ssl_session saved;
    connection_t c = { MBEDTLS_SSL_VERSION_TLS1_3, 1, NULL, &saved, 0, NULL, NULL, 0 };

    TEST_ASSERT_TRUE(CONFIG_STAPLER_TLS_TICKET_LIFETIME_S > 1000);
    wall = agent.identity[0].single.next_update - 1000;
    mbedtls_ssl_session_init(&saved);
    TEST_ASSERT_FALSE(connect_once(&c));
    TEST_ASSERT_TRUE_MESSAGE(saved.ticket_lifetime <= 1000 && saved.ticket_lifetime >= 990,
                             "the ticket's lifetime is not the staple's remaining validity");
    mbedtls_ssl_session_free(&saved);
    /* With plenty left: the configured lifetime. */
    wall = agent.identity[0].single.next_update - 5 * 86400;
    mbedtls_ssl_session_init(&saved);
    TEST_ASSERT_FALSE(connect_once(&c));
    TEST_ASSERT_EQUAL_UINT32(CONFIG_STAPLER_TLS_TICKET_LIFETIME_S, saved.ticket_lifetime);
    mbedtls_ssl_session_free(&saved);
}

/* A must-staple identity whose staple runs out: the ClientHello that offers an old ticket is
 * refused (no certificate without a staple), every earlier session is dropped, and nothing
 * resumes even with the ticket the client still holds. */
static void test_a_must_staple_identity_without_its_staple_drops_every_session(void)
{
    stapler_tls_options_t options;
    mbedtls_ssl_session s12, s13;
    connection_t a = { MBEDTLS_SSL_VERSION_TLS1_2, 1, NULL, &s12, 0, NULL, NULL, 0 };
    connection_t b = { MBEDTLS_SSL_VERSION_TLS1_3, 1, NULL, &s13, 0, NULL, NULL, 0 };

    stapler_tls_config_free(&server);
    provision_and_boot("leaf-muststaple.der", "leaf-muststaple-key-pkcs8.der", "good-muststaple.der");
    TEST_ASSERT_TRUE(agent.identity[0].must_staple);
    memset(&options, 0, sizeof(options));
    options.endpoint = MBEDTLS_SSL_IS_SERVER;
    TEST_ASSERT_EQUAL_INT(0, stapler_tls_config_init(&server, &agent, &options));
    mbedtls_ssl_session_init(&s12);
    mbedtls_ssl_session_init(&s13);
    TEST_ASSERT_FALSE(connect_once(&a));
    TEST_ASSERT_FALSE(connect_once(&b));
    wall = agent.identity[0].single.next_update + CONFIG_STAPLER_CLOCK_SKEW_S + 10;
    monotonic += 5000;
    a.resume = &s12;
    b.resume = &s13;
    a.save = b.save = NULL;
    a.server_fails_with = b.server_fails_with = STAPLER_ERR_TLS_MUST_STAPLE;
    TEST_ASSERT_FALSE_MESSAGE(connect_once(&a), "TLS 1.2 resumed on a must-staple identity without its staple");
    TEST_ASSERT_FALSE_MESSAGE(connect_once(&b), "TLS 1.3 resumed on a must-staple identity without its staple");
    TEST_ASSERT_EQUAL_UINT32(0, server.resumed);
    TEST_ASSERT_TRUE_MESSAGE(server.resumption_flushes >= 1, "earlier sessions were not dropped");
    mbedtls_ssl_session_free(&s12);
    mbedtls_ssl_session_free(&s13);
}

/* --- Stapler as the client: resumes while the server's staple holds ----------------------- */

static stapler_tls_config_t client;
static mbedtls_x509_crt ca;

/* One handshake between the glue's client and the glue's server; then the client reads what
 * the server sent after it (a TLS 1.3 ticket). Returns the client session's resumed flag. */
static int glue_connect(mbedtls_ssl_protocol_version version, int *offered)
{
    stapler_tls_session_t cli, srv;
    unsigned char byte;
    int cret = MBEDTLS_ERR_SSL_WANT_READ, sret = MBEDTLS_ERR_SSL_WANT_READ, i, resumed;

    memset(&c2s, 0, sizeof(c2s));
    memset(&s2c, 0, sizeof(s2c));
    client.options.min_version = client.options.max_version = version;
    mbedtls_ssl_conf_min_tls_version(&client.conf, version);
    mbedtls_ssl_conf_max_tls_version(&client.conf, version);
    TEST_ASSERT_EQUAL_INT(0, stapler_tls_session_init(&srv, &server, &port, 0, NULL));
    TEST_ASSERT_EQUAL_INT(0, stapler_tls_session_init(&cli, &client, &port, 1, "gateway-rsa"));
    pump(glue_step, &cli, &cret, &srv, &sret);
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, cret, "client handshake");
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, sret, "server handshake");
    for (i = 0; i < 4; i++) {
        TEST_ASSERT_EQUAL_INT(MBEDTLS_ERR_SSL_WANT_READ, stapler_tls_session_read(&cli, &byte, 1));
    }
    *offered = cli.resume_offered;
    resumed = cli.resumed;
    stapler_tls_session_free(&cli);
    stapler_tls_session_free(&srv);
    return resumed;
}

static void client_setup(void)
{
    stapler_tls_options_t options;

    mbedtls_x509_crt_init(&ca);
    TEST_ASSERT_EQUAL_INT(0, stapler_test_load_crt(&ca, STAPLER_VECTOR_DIR, "ca-rsa.der"));
    memset(&options, 0, sizeof(options));
    options.endpoint = MBEDTLS_SSL_IS_CLIENT;
    options.trust = &ca;
    options.peer_staple = STAPLER_TLS_PEER_STAPLE_CHECK;
    options.resume = 1;
    TEST_ASSERT_EQUAL_INT(0, stapler_tls_config_init(&client, &agent, &options));
}

static void client_teardown(void)
{
    stapler_tls_config_free(&client);
    mbedtls_x509_crt_free(&ca);
}

static void client_resumes(mbedtls_ssl_protocol_version version)
{
    int offered;

    client_setup();
    TEST_ASSERT_FALSE(glue_connect(version, &offered));
    TEST_ASSERT_FALSE(offered);
    TEST_ASSERT_TRUE_MESSAGE(client.has_saved, "the client kept no session");
    TEST_ASSERT_EQUAL_INT64(agent.identity[0].single.next_update, client.saved_until);
    TEST_ASSERT_TRUE_MESSAGE(glue_connect(version, &offered), "the client did not resume");
    TEST_ASSERT_TRUE_MESSAGE(glue_connect(version, &offered), "the client did not resume a resumed session");
    /* The server's staple that authenticated the session has run out (the server no longer
     * has a valid one either, so its full handshakes go unstapled): not offered. */
    wall = agent.identity[0].single.next_update + 1;
    monotonic += 3000;
    TEST_ASSERT_FALSE(glue_connect(version, &offered));
    TEST_ASSERT_FALSE_MESSAGE(offered, "a session was offered past the peer's staple's nextUpdate");
    TEST_ASSERT_FALSE_MESSAGE(client.has_saved, "a session without a verified staple was kept");
    client_teardown();
}

static void test_tls12_client_resumes_while_the_servers_staple_holds(void) { client_resumes(MBEDTLS_SSL_VERSION_TLS1_2); }
static void test_tls13_client_resumes_while_the_servers_staple_holds(void) { client_resumes(MBEDTLS_SSL_VERSION_TLS1_3); }

/* The server's staple turns revoked: the client's next full handshake aborts, and nothing is
 * kept to resume into that server. */
static void test_a_client_keeps_nothing_from_a_peer_that_turned_revoked(void)
{
    stapler_tls_session_t cli, srv;
    int offered, cret = MBEDTLS_ERR_SSL_WANT_READ, sret = MBEDTLS_ERR_SSL_WANT_READ, i;

    client_setup();
    TEST_ASSERT_FALSE(glue_connect(MBEDTLS_SSL_VERSION_TLS1_2, &offered));
    TEST_ASSERT_TRUE(client.has_saved);
    monotonic += 2000;
    wall += 2;
    TEST_ASSERT_EQUAL_INT(0, offer("revoked-rsa-later.der"));
    /* The client offers its session; the server refuses to resume (revoked) and staples
     * revoked; the client aborts, and drops the session. */
    memset(&c2s, 0, sizeof(c2s));
    memset(&s2c, 0, sizeof(s2c));
    TEST_ASSERT_EQUAL_INT(0, stapler_tls_session_init(&srv, &server, &port, 0, NULL));
    TEST_ASSERT_EQUAL_INT(0, stapler_tls_session_init(&cli, &client, &port, 1, "gateway-rsa"));
    TEST_ASSERT_TRUE(cli.resume_offered);
    for (i = 0; i < 200 && (cret == MBEDTLS_ERR_SSL_WANT_READ || cret == MBEDTLS_ERR_SSL_WANT_WRITE); i++) {
        cret = stapler_tls_session_handshake(&cli);
        if (sret == MBEDTLS_ERR_SSL_WANT_READ || sret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            sret = stapler_tls_session_handshake(&srv);
        }
    }
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_TLS_PEER_REVOKED, cret);
    TEST_ASSERT_FALSE(client.has_saved);
    stapler_tls_session_free(&cli);
    stapler_tls_session_free(&srv);
    client_teardown();
}

/* --- The server picks the identity by the name the client asks for (SNI) ------------------ */

/* Two identities on the image: 0 = leaf-rsa (CN gateway-rsa), 1 = leaf-ec (CN gateway-ec),
 * each with its good response; the server presents either by name. */
static void provision_two(const char *cert0, const char *key0_file, const char *response0, const uint16_t *groups)
{
    static unsigned char key0[4096], key1[4096], cert1[4096], ca1[4096];
    stapler_credential_input_t in[2];
    stapler_ocsp_response_t response;
    stapler_tls_options_t options;
    size_t length;
    long key0_len, key1_len, cert1_len, ca1_len;

    stapler_tls_config_free(&server);
    memset(memory, 0xFF, sizeof(memory));
    load(0, cert0);
    load(1, "ca-rsa.der");
    key0_len = stapler_test_read(STAPLER_VECTOR_DIR, key0_file, key0, sizeof(key0));
    key1_len = stapler_test_read(STAPLER_VECTOR_DIR, "leaf-ec-key-pkcs8.der", key1, sizeof(key1));
    cert1_len = stapler_test_read(STAPLER_VECTOR_DIR, "leaf-ec.der", cert1, sizeof(cert1));
    ca1_len = stapler_test_read(STAPLER_VECTOR_DIR, "ca-ec.der", ca1, sizeof(ca1));
    TEST_ASSERT_TRUE(key0_len > 0 && key1_len > 0 && cert1_len > 0 && ca1_len > 0);
    memset(in, 0, sizeof(in));
    in[0].chain_length = in[1].chain_length = 1;
    in[0].chain[0] = der[0];
    in[0].chain_len[0] = der_len[0];
    in[0].issuer = der[1];
    in[0].issuer_len = der_len[1];
    in[0].key = key0;
    in[0].key_len = (size_t) key0_len;
    in[1].chain[0] = cert1;
    in[1].chain_len[0] = (size_t) cert1_len;
    in[1].issuer = ca1;
    in[1].issuer_len = (size_t) ca1_len;
    in[1].key = key1;
    in[1].key_len = (size_t) key1_len;
    in[0].url = in[1].url = "http://127.0.0.1:9/";
    TEST_ASSERT_EQUAL_INT(0, stapler_credentials_encode(in, 2, memory, STAPLER_CREDENTIAL_AREA_SIZE, &length));
    load(2, response0);
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_response_parse(&response, der[2], der_len[2]));
    wall = response.produced_at + 60;
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_init(&agent, &port));
    TEST_ASSERT_EQUAL_INT(2, (int) agent.identity_count);
    TEST_ASSERT_EQUAL_INT(0, offer(response0));
    load(2, "good-ec.der");
    TEST_ASSERT_EQUAL_INT(0, stapler_agent_offer(&agent, 1, der[2], der_len[2]));
    TEST_ASSERT_TRUE(agent.identity[0].staple_len > 0 && agent.identity[1].staple_len > 0);
    TEST_ASSERT_TRUE(agent.identity[0].staple_len != agent.identity[1].staple_len);
    memset(&options, 0, sizeof(options));
    options.endpoint = MBEDTLS_SSL_IS_SERVER;
    options.identity = 0;
    options.select_by_name = 1;
    options.groups = groups;
    TEST_ASSERT_EQUAL_INT(0, stapler_tls_config_init(&server, &agent, &options));
    TEST_ASSERT_TRUE(server.presents[0] && server.presents[1]);
}

static void provision_two_and_serve_by_name(void)
{
    provision_two("leaf-rsa.der", "leaf-rsa-key-pkcs8.der", "good-rsa-byname.der", NULL);
}

static int presented_for(mbedtls_ssl_protocol_version version, const char *host, int no_sni)
{
    int presented = -2;
    connection_t c = { version, 1, NULL, NULL, 0, host, &presented, no_sni };

    TEST_ASSERT_FALSE(connect_once(&c));
    return presented;
}

static void sni_picks(mbedtls_ssl_protocol_version version)
{
    provision_two_and_serve_by_name();
    TEST_ASSERT_EQUAL_INT_MESSAGE(1, presented_for(version, "gateway-ec", 0), "gateway-ec");
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, presented_for(version, "gateway-rsa", 0), "gateway-rsa");
    TEST_ASSERT_EQUAL_INT_MESSAGE(1, presented_for(version, "GATEWAY-EC", 0), "GATEWAY-EC");
    TEST_ASSERT_EQUAL_UINT32(3, server.sni_matched);
    /* A name of no certificate we hold, or none at all: the default identity (RFC 6066 3). */
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, presented_for(version, "nobody.example.test", 0), "unknown name");
    TEST_ASSERT_EQUAL_UINT32(1, server.sni_unmatched);
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, presented_for(version, NULL, 1), "no SNI");
    TEST_ASSERT_EQUAL_UINT32(3, server.sni_matched);
    /* Each identity's handshakes are its own: two stapled for 1, three for 0. */
    TEST_ASSERT_EQUAL_UINT32(2, agent.identity[1].handshakes_by_outcome[STAPLER_HANDSHAKE_STAPLED]);
    TEST_ASSERT_EQUAL_UINT32(3, agent.identity[0].handshakes_by_outcome[STAPLER_HANDSHAKE_STAPLED]);
}

static void test_tls12_sni_picks_the_identity_the_client_names(void) { sni_picks(MBEDTLS_SSL_VERSION_TLS1_2); }
static void test_tls13_sni_picks_the_identity_the_client_names(void) { sni_picks(MBEDTLS_SSL_VERSION_TLS1_3); }

/* A TLS 1.3 client keeps the name with the ticket and offers it only to that name (Mbed TLS
 * and every browser do); this one is made to offer it to another, as OpenSSL's s_client
 * does. */
static void rename_ticket(mbedtls_ssl_session *session, const char *host)
{
    const size_t n = strlen(host) + 1;

    mbedtls_free(session->hostname);
    session->hostname = mbedtls_calloc(1, n);
    TEST_ASSERT_NOT_NULL(session->hostname);
    memcpy(session->hostname, host, n);
}

/* A session made for one name is never resumed for another (RFC 6066 3): a full handshake
 * with the other identity's certificate and staple; the session still resumes for its own
 * name. */
static void no_resumption_across_names(mbedtls_ssl_protocol_version version, int tickets)
{
    mbedtls_ssl_session saved;
    int presented = -2;
    connection_t c = { version, tickets, NULL, &saved, 0, "gateway-rsa", &presented, 0 };

    provision_two_and_serve_by_name();
    mbedtls_ssl_session_init(&saved);
    TEST_ASSERT_FALSE(connect_once(&c));
    TEST_ASSERT_EQUAL_INT(0, presented);
    c.resume = &saved;
    c.save = NULL;
    c.host = "gateway-ec";
    if (version == MBEDTLS_SSL_VERSION_TLS1_3) {
        rename_ticket(&saved, "gateway-ec");
    }
    TEST_ASSERT_FALSE_MESSAGE(connect_once(&c), "a session of gateway-rsa resumed for gateway-ec");
    TEST_ASSERT_EQUAL_INT_MESSAGE(1, presented, "not gateway-ec's certificate");
    if (tickets) {
        TEST_ASSERT_EQUAL_UINT32(1, server.resumptions_other_name);
    }
    c.host = "gateway-rsa";
    if (version == MBEDTLS_SSL_VERSION_TLS1_3) {
        rename_ticket(&saved, "gateway-rsa");
    }
    TEST_ASSERT_TRUE_MESSAGE(connect_once(&c), "not resumed for its own name");
    TEST_ASSERT_EQUAL_INT(0, presented);
    mbedtls_ssl_session_free(&saved);
}

static void test_tls12_cache_no_resumption_across_names(void) { no_resumption_across_names(MBEDTLS_SSL_VERSION_TLS1_2, 0); }
static void test_tls12_ticket_no_resumption_across_names(void) { no_resumption_across_names(MBEDTLS_SSL_VERSION_TLS1_2, 1); }
static void test_tls13_ticket_no_resumption_across_names(void) { no_resumption_across_names(MBEDTLS_SSL_VERSION_TLS1_3, 1); }

/* One identity's certificate is revoked: its sessions end, the other's go on resuming. */
static void test_a_revocation_ends_only_that_identitys_sessions(void)
{
    mbedtls_ssl_session rsa, ec;
    int presented = -2;
    connection_t r = { MBEDTLS_SSL_VERSION_TLS1_3, 1, NULL, &rsa, 0, "gateway-rsa", &presented, 0 };
    connection_t e = { MBEDTLS_SSL_VERSION_TLS1_3, 1, NULL, &ec, 0, "gateway-ec", &presented, 0 };

    provision_two_and_serve_by_name();
    mbedtls_ssl_session_init(&rsa);
    mbedtls_ssl_session_init(&ec);
    TEST_ASSERT_FALSE(connect_once(&r));
    TEST_ASSERT_FALSE(connect_once(&e));
    revoke_identity_0_later();
    r.resume = &rsa;
    e.resume = &ec;
    r.save = e.save = NULL;
    TEST_ASSERT_FALSE_MESSAGE(connect_once(&r), "gateway-rsa resumed after its revocation");
    TEST_ASSERT_TRUE_MESSAGE(connect_once(&e), "gateway-ec stopped resuming when gateway-rsa was revoked");
    TEST_ASSERT_EQUAL_INT(1, presented);
    TEST_ASSERT_EQUAL_UINT32(1, server.resumption_flushes);
    mbedtls_ssl_session_free(&rsa);
    mbedtls_ssl_session_free(&ec);
}

#if defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED) || defined(PSA_WANT_ECC_SECP_R1_384)
/* Put a server_name for \p host first in the extensions of the record at \p at, a
 * ClientHello (record, handshake and extensions lengths grown to match). */
static void add_server_name(pipe_t *p, size_t at, const char *host)
{
    const size_t n = strlen(host), grow = 9 + n;
    unsigned char ext[64];
    size_t off = at + 5 + 4 + 2 + 32, ext_len_at, rec_len, hs_len, ext_len;

    TEST_ASSERT_TRUE(n + 9 <= sizeof(ext) && p->len + grow <= sizeof(p->data));
    off += 1 + p->data[off];                                    /* legacy_session_id */
    off += 2 + ((size_t) p->data[off] << 8 | p->data[off + 1]); /* cipher_suites */
    off += 1 + p->data[off];                                    /* legacy_compression_methods */
    ext_len_at = off;
    ext[0] = 0;
    ext[1] = 0; /* server_name */
    ext[2] = (unsigned char) ((5 + n) >> 8);
    ext[3] = (unsigned char) (5 + n);
    ext[4] = (unsigned char) ((3 + n) >> 8);
    ext[5] = (unsigned char) (3 + n);
    ext[6] = 0; /* host_name */
    ext[7] = (unsigned char) (n >> 8);
    ext[8] = (unsigned char) n;
    memcpy(ext + 9, host, n);
    memmove(p->data + ext_len_at + 2 + grow, p->data + ext_len_at + 2, p->len - (ext_len_at + 2));
    memcpy(p->data + ext_len_at + 2, ext, grow);
    p->len += grow;
    rec_len = ((size_t) p->data[at + 3] << 8 | p->data[at + 4]) + grow;
    p->data[at + 3] = (unsigned char) (rec_len >> 8);
    p->data[at + 4] = (unsigned char) rec_len;
    hs_len = ((size_t) p->data[at + 6] << 16 | (size_t) p->data[at + 7] << 8 | p->data[at + 8]) + grow;
    p->data[at + 6] = (unsigned char) (hs_len >> 16);
    p->data[at + 7] = (unsigned char) (hs_len >> 8);
    p->data[at + 8] = (unsigned char) hs_len;
    ext_len = ((size_t) p->data[ext_len_at] << 8 | p->data[ext_len_at + 1]) + grow;
    p->data[ext_len_at] = (unsigned char) (ext_len >> 8);
    p->data[ext_len_at + 1] = (unsigned char) ext_len;
}

/* A first ClientHello without a name (the default identity, must-staple: its staple is held
 * from then on), a HelloRetryRequest (the server takes P-256 only, the client's key share is
 * P-384), and a second ClientHello that names the other identity: refused, as RFC 8446 4.1.2
 * wants the same names; the identity does not change under a held staple, and every hold
 * is given back. */
static void test_a_second_client_hello_cannot_move_to_another_identity(void)
{
    static const uint16_t server_groups[] = { MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1, MBEDTLS_SSL_IANA_TLS_GROUP_NONE };
    static const uint16_t client_groups[] = { MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
                                              MBEDTLS_SSL_IANA_TLS_GROUP_NONE };
    mbedtls_ssl_config cconf;
    mbedtls_ssl_context cli;
    stapler_tls_session_t srv;
    int cret = MBEDTLS_ERR_SSL_WANT_READ, sret = MBEDTLS_ERR_SSL_WANT_READ, hellos = 0, i;
    size_t scanned = 0;

    provision_two("leaf-muststaple.der", "leaf-muststaple-key-pkcs8.der", "good-muststaple.der", server_groups);
    TEST_ASSERT_TRUE(agent.identity[0].must_staple);
    memset(&c2s, 0, sizeof(c2s));
    memset(&s2c, 0, sizeof(s2c));
    mbedtls_ssl_config_init(&cconf);
    mbedtls_ssl_init(&cli);
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_config_defaults(&cconf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                                         MBEDTLS_SSL_PRESET_DEFAULT));
    stapler_mbedtls_platform_conf_ssl_rng(&cconf);
    mbedtls_ssl_conf_authmode(&cconf, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_min_tls_version(&cconf, MBEDTLS_SSL_VERSION_TLS1_3);
    mbedtls_ssl_conf_max_tls_version(&cconf, MBEDTLS_SSL_VERSION_TLS1_3);
    mbedtls_ssl_conf_groups(&cconf, client_groups);
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_setup(&cli, &cconf));
    mbedtls_ssl_set_bio(&cli, NULL, cli_send, cli_recv, NULL);
    TEST_ASSERT_EQUAL_INT(0, mbedtls_ssl_set_hostname(&cli, NULL)); /* no SNI */
    TEST_ASSERT_EQUAL_INT(0, stapler_tls_session_init(&srv, &server, &port, 0, NULL));
    for (i = 0; i < 200 && (pending(cret) || pending(sret)); i++) {
        if (pending(cret)) {
            cret = mbedtls_ssl_handshake(&cli);
        }
        /* The client's new records: the second ClientHello gets a name. */
        while (scanned + 5 <= c2s.len) {
            const size_t len = (size_t) c2s.data[scanned + 3] << 8 | c2s.data[scanned + 4];

            if (scanned + 5 + len > c2s.len) {
                break;
            }
            if (c2s.data[scanned] == 22 && c2s.data[scanned + 5] == 1 && ++hellos == 2) {
                add_server_name(&c2s, scanned, "gateway-ec");
                scanned += 9 + strlen("gateway-ec");
            }
            scanned += 5 + len;
        }
        if (pending(sret)) {
            sret = stapler_tls_session_handshake(&srv);
        }
        if ((!pending(cret) && cret != 0) || (!pending(sret) && sret != 0)) {
            break;
        }
    }
    TEST_ASSERT_EQUAL_INT_MESSAGE(2, hellos, "no HelloRetryRequest came");
    TEST_ASSERT_EQUAL_INT_MESSAGE(MBEDTLS_ERR_SSL_UNRECOGNIZED_NAME, sret, "the second ClientHello's name was taken");
    TEST_ASSERT_EQUAL_UINT(0, srv.identity);
    stapler_tls_session_free(&srv);
    mbedtls_ssl_free(&cli);
    mbedtls_ssl_config_free(&cconf);
    TEST_ASSERT_EQUAL_UINT_MESSAGE(0, agent.identity[0].holds, "the must-staple identity's staple is still held");
    TEST_ASSERT_EQUAL_UINT(0, agent.identity[1].holds);
}
#endif

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_tls12_resumes_from_the_cache);
    RUN_TEST(test_tls12_resumes_from_a_ticket);
    RUN_TEST(test_tls13_resumes_from_a_ticket);
    RUN_TEST(test_a_revocation_learned_later_ends_every_resumption);
    RUN_TEST(test_a_session_does_not_outlive_its_staple);
    RUN_TEST(test_a_ticket_lives_no_longer_than_the_staple);
    RUN_TEST(test_a_must_staple_identity_without_its_staple_drops_every_session);
    RUN_TEST(test_tls12_client_resumes_while_the_servers_staple_holds);
    RUN_TEST(test_tls13_client_resumes_while_the_servers_staple_holds);
    RUN_TEST(test_a_client_keeps_nothing_from_a_peer_that_turned_revoked);
    RUN_TEST(test_tls12_sni_picks_the_identity_the_client_names);
    RUN_TEST(test_tls13_sni_picks_the_identity_the_client_names);
    RUN_TEST(test_tls12_cache_no_resumption_across_names);
    RUN_TEST(test_tls12_ticket_no_resumption_across_names);
    RUN_TEST(test_tls13_ticket_no_resumption_across_names);
    RUN_TEST(test_a_revocation_ends_only_that_identitys_sessions);
#if defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED) || defined(PSA_WANT_ECC_SECP_R1_384)
    RUN_TEST(test_a_second_client_hello_cannot_move_to_another_identity);
#endif
    return UNITY_END();
}
