/*
 * stapler-sim serve / connect: TLS handshakes with the device's certificate and staple, over
 * the simulator's lwIP stack (the same TLS glue, stapler_tls, that the firmware uses).
 *
 *   serve --flash F --port P [--handshakes N] [--trust CA] [--verify-client]
 *         [--client-staple ignore|check|require] [--tls12|--tls13] [--identity N] [--by-name]
 *         [--no-fetch] [--json] [--net options]
 *   serve --by-name presents, per connection, the identity whose certificate is for the name
 *   the client sends (SNI); --identity N (0) when it names none or an unknown one.
 *   connect --flash F --host H --port P [--servername NAME] [--trust CA]
 *         [--server-staple ignore|check|require] [--no-client-cert] [--tls12|--tls13]
 *         [--identity N] [--no-fetch] [--json] [--net options]
 *   Both: --test-staple-file F|none staples F's bytes (or nothing) instead of the agent's
 *   verified staple, for interoperability tests of what peers do with bad staples.
 *   serve --threads N (the threaded build, STAPLER_THREADS): N server threads accept and
 *   handshake at once, the agent steps in a thread of its own, the port's lock guards it.
 *
 * serve listens on lwIP port P; with slirp, the PC reaches it at 127.0.0.1:P (a host
 * forward bound to loopback only). connect reaches the PC at 10.0.2.2 through slirp. Both
 * run the agent alongside (unless --no-fetch), as a device does: a staple fetched meanwhile
 * is used from the next handshake on. One line (or JSON object) per handshake.
 * Exit: 0 every handshake completed; 9 a handshake failed; 1 input; 2 usage.
 */
#define _POSIX_C_SOURCE 200809L

#include "tls_commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "lwip/opt.h"
#include "mbedtls/ssl.h"
#include "net.h"
#include "psa/crypto.h"
#include "stapler/agent.h"
#include "stapler/error.h"
#include "stapler/ocsp.h"
#include "stapler_lwip_transport.h"
#include "stapler_posix_port.h"
#include "stapler_tls.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2, EXIT_TLS = 9 };

#if !NO_SYS
#include <pthread.h>
#include <stdatomic.h>
#define SERVE_THREADS_MAX 16
#endif

static stapler_posix_platform_t platform;
static stapler_port_t port;
static stapler_agent_t agent;
static stapler_tls_config_t tls_config;
static stapler_tls_session_t session;
static mbedtls_x509_crt trust;

typedef struct {
    const char *flash, *host, *servername, *trust, *staple_file;
    unsigned long port, handshakes, identity, threads;
    int json, verify_client, fetch, client_cert, resume, by_name;
    stapler_tls_peer_staple_t peer_staple;
    mbedtls_ssl_protocol_version version;
    stapler_sim_net_options_t net;
} tls_options_t;

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static int parse_options(const char *cmd, int argc, char **argv, tls_options_t *o)
{
    int a;

    memset(o, 0, sizeof(*o));
    o->handshakes = 1;
    o->fetch = 1;
    o->client_cert = 1;
    o->peer_staple = STAPLER_TLS_PEER_STAPLE_CHECK;
    for (a = 2; a < argc; a++) {
        const char *opt = argv[a], *value = a + 1 < argc ? argv[a + 1] : NULL;

        if (strcmp(opt, "--json") == 0) { o->json = 1; continue; }
        if (strcmp(opt, "--verify-client") == 0) { o->verify_client = 1; continue; }
        if (strcmp(opt, "--no-fetch") == 0) { o->fetch = 0; continue; }
        if (strcmp(opt, "--no-client-cert") == 0) { o->client_cert = 0; continue; }
        if (strcmp(opt, "--tls12") == 0) { o->version = MBEDTLS_SSL_VERSION_TLS1_2; continue; }
        if (strcmp(opt, "--tls13") == 0) { o->version = MBEDTLS_SSL_VERSION_TLS1_3; continue; }
        if (strcmp(opt, "--verbose") == 0) { o->net.verbose = 1; continue; }
        if (strcmp(opt, "--resume") == 0 && strcmp(cmd, "connect") == 0) { o->resume = 1; continue; }
        if (strcmp(opt, "--by-name") == 0 && strcmp(cmd, "serve") == 0) { o->by_name = 1; continue; }
        if (value == NULL) {
            fprintf(stderr, "stapler-sim %s: %s needs a value (or is unknown: 'stapler-sim help')\n", cmd, opt);
            return EXIT_USAGE;
        }
        a++;
        if (strcmp(opt, "--flash") == 0) o->flash = value;
        else if (strcmp(opt, "--host") == 0) o->host = value;
        else if (strcmp(opt, "--servername") == 0) o->servername = value;
        else if (strcmp(opt, "--trust") == 0) o->trust = value;
        else if (strcmp(opt, "--test-staple-file") == 0) o->staple_file = value;
        else if (strcmp(opt, "--port") == 0) o->port = strtoul(value, NULL, 10);
        else if (strcmp(opt, "--handshakes") == 0) o->handshakes = strtoul(value, NULL, 10);
        else if (strcmp(opt, "--identity") == 0) o->identity = strtoul(value, NULL, 10);
        else if (strcmp(opt, "--threads") == 0 && strcmp(cmd, "serve") == 0) o->threads = strtoul(value, NULL, 10);
        else if (strcmp(opt, "--dns") == 0) o->net.dns = value;
        else if (strcmp(opt, "--tap") == 0) o->net.tap = value;
        else if (strcmp(opt, "--ip") == 0) o->net.address = value;
        else if (strcmp(opt, "--netmask") == 0) o->net.netmask = value;
        else if (strcmp(opt, "--gateway") == 0) o->net.gateway = value;
        else if (strcmp(opt, "--client-staple") == 0 || strcmp(opt, "--server-staple") == 0) {
            if (strcmp(value, "ignore") == 0) o->peer_staple = STAPLER_TLS_PEER_STAPLE_IGNORE;
            else if (strcmp(value, "check") == 0) o->peer_staple = STAPLER_TLS_PEER_STAPLE_CHECK;
            else if (strcmp(value, "require") == 0) o->peer_staple = STAPLER_TLS_PEER_STAPLE_REQUIRE;
            else {
                fprintf(stderr, "stapler-sim %s: %s takes ignore, check or require, not '%s'\n", cmd, opt, value);
                return EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "stapler-sim %s: unknown option '%s'; 'stapler-sim help' lists them\n", cmd, opt);
            return EXIT_USAGE;
        }
    }
    if (o->flash == NULL || o->port == 0 || o->port > 65535 || o->handshakes == 0 ||
        (strcmp(cmd, "connect") == 0 && o->host == NULL)) {
        fprintf(stderr, "usage: stapler-sim %s --flash FLASH.img %s--port P [options] ('stapler-sim help')\n", cmd,
                strcmp(cmd, "connect") == 0 ? "--host H " : "");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Flash image, agent, trust anchors, network. */
static int start(const char *cmd, tls_options_t *o, int endpoint)
{
    stapler_tls_options_t topt;
    int ret;

    if (stapler_posix_platform_open(&platform, o->flash) != 0) {
        return EXIT_INPUT;
    }
    port = platform.port;
    stapler_lwip_transport_init(&port.transport);
    ret = stapler_agent_init(&agent, &port);
    if (ret != 0) {
        fprintf(stderr, "stapler-sim %s: the agent cannot start on '%s': %s\n", cmd, o->flash, stapler_error_message(ret));
        return EXIT_INPUT;
    }
    if (o->identity >= agent.identity_count) {
        fprintf(stderr, "stapler-sim %s: the image has no identity %lu\n", cmd, o->identity);
        return EXIT_INPUT;
    }
    if (psa_crypto_init() != PSA_SUCCESS) {
        fprintf(stderr, "stapler-sim %s: PSA crypto does not start (no entropy?)\n", cmd);
        return EXIT_INPUT;
    }
    mbedtls_x509_crt_init(&trust);
    if (o->trust != NULL && stapler_sim_load_certificates(&trust, o->trust, "--trust") != 0) {
        return EXIT_INPUT;
    }
    memset(&topt, 0, sizeof(topt));
    topt.endpoint = endpoint;
    topt.identity = (unsigned) o->identity;
    topt.resume = o->resume;
    topt.select_by_name = o->by_name;
    topt.present_certificate = endpoint == MBEDTLS_SSL_IS_SERVER || o->client_cert;
    topt.trust = o->trust != NULL ? &trust : NULL;
    topt.verify_peer = o->verify_client;
    topt.peer_staple = o->peer_staple;
    topt.min_version = o->version;
    topt.max_version = o->version;
    if (o->staple_file != NULL) {
        /* Interoperability tests: what does the peer do with this staple (or none)? */
        static unsigned char staple[16384];
        long n = strcmp(o->staple_file, "none") == 0 ? 0 : stapler_sim_read_file(o->staple_file, staple, sizeof(staple));

        if (n < 0) {
            fprintf(stderr, "stapler-sim %s: cannot read --test-staple-file '%s'\n", cmd, o->staple_file);
            return EXIT_INPUT;
        }
        topt.test_staple_override = 1;
        topt.test_staple = staple;
        topt.test_staple_len = (size_t) n;
        fprintf(stderr, "stapler-sim %s: TEST ONLY: stapling %s instead of the agent's verified staple\n", cmd,
                n > 0 ? o->staple_file : "nothing");
    }
    if (endpoint == MBEDTLS_SSL_IS_CLIENT && o->trust == NULL) {
        /* The anchors provisioned with the identity, as the firmware uses them. */
        ret = stapler_tls_load_trust(&agent, (unsigned) o->identity, &trust);
        if (ret <= 0) {
            fprintf(stderr, "stapler-sim %s: %s: give --trust CA, or provision the identity with --trust\n", cmd,
                    ret == 0 ? "no trust anchor to check the server with" : "the provisioned trust anchors do not parse");
            return ret == 0 ? EXIT_USAGE : EXIT_INPUT;
        }
        topt.trust = &trust;
    }
    ret = stapler_tls_config_init(&tls_config, &agent, &topt);
    if (ret != 0) {
        fprintf(stderr, "stapler-sim %s: TLS cannot be set up for identity %lu: %s (is its private key "
                        "provisioned? 'provision --key')\n", cmd, o->identity,
                ret < -0x1000 || ret > -0x100 ? "Mbed TLS error" : stapler_error_message(ret));
        return EXIT_INPUT;
    }
    if (endpoint == MBEDTLS_SSL_IS_SERVER && o->net.tap == NULL) {
        o->net.hostfwd_host_port = (uint16_t) o->port;
        o->net.hostfwd_guest_port = (uint16_t) o->port;
    }
    if (stapler_sim_net_start(&o->net, 20000) != 0) {
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

/* The agent steps in a thread of its own (serve --threads): sessions only wait. */
static int agent_threaded;

static void step_network(tls_options_t *o, uint32_t max_wait_ms)
{
    uint32_t wait = max_wait_ms;

    if (o->fetch && !agent_threaded) {
        uint32_t agent_wait;
        (void) stapler_agent_step(&agent, &agent_wait);
        if (agent_wait < wait) {
            wait = agent_wait;
        }
    }
    stapler_sim_net_poll(wait);
}

static const char *peer_status_name(int status)
{
    switch (status) {
        case STAPLER_OCSP_GOOD: return "good";
        case STAPLER_OCSP_REVOKED: return "revoked";
        case STAPLER_OCSP_UNKNOWN: return "unknown";
        default: return "none";
    }
}

#if !NO_SYS
static pthread_mutex_t report_mutex = PTHREAD_MUTEX_INITIALIZER;
#endif

static void report_lines(const tls_options_t *o, stapler_tls_session_t *s, unsigned n, int ret, uint64_t ms);

/* One handshake's line(s), whole, even with several server threads. */
static void report(const tls_options_t *o, stapler_tls_session_t *s, unsigned n, int ret, uint64_t ms)
{
#if !NO_SYS
    pthread_mutex_lock(&report_mutex);
#endif
    report_lines(o, s, n, ret, ms);
#if !NO_SYS
    pthread_mutex_unlock(&report_mutex);
#endif
}

static void report_lines(const tls_options_t *o, stapler_tls_session_t *s, unsigned n, int ret, uint64_t ms)
{
    const stapler_tls_peer_staple_info_t *peer = &s->peer;
    const char *outcome = stapler_agent_handshake_outcome_name(stapler_tls_session_outcome(s));
    const int over = ret == 0;
    char whose[24] = "";

    if (o->by_name) {
        (void) snprintf(whose, sizeof(whose), "; identity %u", s->identity);
    }
    if (o->json) {
        printf("{\"handshake\":%u,\"result\":\"%s\",\"error\":%s%s%s,\"version\":\"%s\",\"ciphersuite\":\"%s\","
               "\"staple\":\"%s\",\"staple_bytes\":%zu,\"peer_staple\":{\"checked\":%s,\"bytes\":%zu,"
               "\"count\":%u,\"status\":\"%s\",\"must_staple\":%s,\"detail\":%s%s%s},"
               "\"resumed\":%s,\"identity\":%u,\"bytes_out\":%llu,\"bytes_in\":%llu,\"elapsed_ms\":%llu}\n",
               n, over ? "ok" : "failed", over ? "" : "\"", over ? "null" : stapler_tls_error_slug(ret), over ? "" : "\"",
               over ? mbedtls_ssl_get_version(&s->ssl) : "", over ? mbedtls_ssl_get_ciphersuite(&s->ssl) : "",
               outcome, s->staple_sent, peer->checked ? "true" : "false", peer->length, peer->count,
               peer_status_name(peer->cert_status), peer->must_staple ? "true" : "false",
               peer->detail ? "\"" : "", peer->detail ? stapler_error_slug(peer->detail) : "null", peer->detail ? "\"" : "",
               s->resumed ? "true" : "false", s->identity, (unsigned long long) s->bytes_out, (unsigned long long) s->bytes_in, (unsigned long long) ms);
    } else if (over) {
        printf("handshake %u: %s %s%s; our staple: %s (%zu bytes); peer's staple: %s%s%s (%zu bytes); %llu ms%s\n", n,
               mbedtls_ssl_get_version(&s->ssl), mbedtls_ssl_get_ciphersuite(&s->ssl),
               s->resumed ? " (resumed)" : "", outcome,
               s->staple_sent, peer->checked ? peer_status_name(peer->cert_status) : "not asked",
               peer->must_staple ? ", must-staple" : "", "", peer->length, (unsigned long long) ms,
               whose);
    } else {
        printf("handshake %u: FAILED: %s (-0x%04x)%s%s; our staple: %s\n", n, stapler_tls_error_slug(ret), (unsigned) -ret,
               ret <= -0x0100 && ret > -0x1000 ? " - " : "",
               ret <= -0x0100 && ret > -0x1000 ? stapler_error_message(ret) : "", outcome);
        if (peer->detail) {
            printf("  the peer's staple: %s\n", stapler_error_message(peer->detail));
        }
    }
    fflush(stdout);
}

/* One handshake on an open connection, then a line of application data, then close. */
static int run_session(tls_options_t *o, stapler_tls_session_t *s, int conn, const char *server_name, unsigned n)
{
    static const unsigned char hello[] = "stapler-sim: stapled handshake complete\n";
    const uint64_t start_ms = now_ms(), deadline = start_ms + 20000;
    int ret;

    ret = stapler_tls_session_init(s, &tls_config, &port, conn, server_name);
    if (ret != 0) {
        report(o, s, n, ret, 0);
        return ret;
    }
    do {
        ret = stapler_tls_session_handshake(s);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
            step_network(o, 20);
        }
    } while ((ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) && now_ms() < deadline);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        ret = STAPLER_PORT_ERR_TIMEOUT;
    }
    if (ret == 0) {
        int w;
        do {
            w = stapler_tls_session_write(s, hello, sizeof(hello) - 1);
            if (w == MBEDTLS_ERR_SSL_WANT_WRITE || w == MBEDTLS_ERR_SSL_WANT_READ) {
                step_network(o, 20);
            }
        } while ((w == MBEDTLS_ERR_SSL_WANT_WRITE || w == MBEDTLS_ERR_SSL_WANT_READ) && now_ms() < deadline);
        if (w < 0) {
            ret = w;
        } else if (server_name != NULL) {
            /* A TLS 1.3 client's handshake ends before the server has judged its certificate
             * (and staple): a refusal arrives as an alert on the first read. Wait for the
             * server's answer (an echo, or a greeting) or its alert. */
            unsigned char reply[256];
            const uint64_t until = now_ms() + 3000;
            int r;

            do {
                r = stapler_tls_session_read(s, reply, sizeof(reply));
                if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE ||
                    r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
                    step_network(o, 20);
                }
            } while ((r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE ||
                      r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) && now_ms() < until);
            if (r < 0 && r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
                ret = r; /* the server refused us after all */
            }
        }
    }
    report(o, s, n, ret, now_ms() - start_ms);
    stapler_tls_session_free(s);
    /* Let close_notify and the FIN go out before the connection is forgotten. */
    {
        const uint64_t until = now_ms() + 100;
        while (now_ms() < until) {
            stapler_sim_net_poll(10);
        }
    }
    port.transport.close(port.context, conn);
    return ret;
}

#if !NO_SYS
/* serve --threads: the agent's thread, and a pool of server threads. */
static pthread_mutex_t agent_mutex = PTHREAD_MUTEX_INITIALIZER;
static atomic_int agent_running;
static atomic_uint serve_claimed, serve_failed;
static tls_options_t *serve_options;

static void serve_lock(void *context)
{
    (void) context;
    pthread_mutex_lock(&agent_mutex);
}

static void serve_unlock(void *context)
{
    (void) context;
    pthread_mutex_unlock(&agent_mutex);
}

static void *serve_agent_main(void *arg)
{
    (void) arg;
    while (atomic_load(&agent_running)) {
        uint32_t wait = 50;

        (void) stapler_agent_step(&agent, &wait);
        stapler_sim_net_poll(wait < 50u ? wait : 50u);
    }
    return NULL;
}

static void *serve_worker_main(void *arg)
{
    static stapler_tls_session_t sessions[SERVE_THREADS_MAX];
    stapler_tls_session_t *s = &sessions[(uintptr_t) arg];

    for (;;) {
        const unsigned n = atomic_fetch_add(&serve_claimed, 1) + 1;
        int conn;

        if (n > serve_options->handshakes) {
            break;
        }
        while ((conn = stapler_lwip_transport_accept()) < 0) {
            stapler_sim_net_poll(20);
        }
        if (run_session(serve_options, s, conn, NULL, n) != 0) {
            atomic_fetch_add(&serve_failed, 1);
        }
    }
    return NULL;
}

static unsigned serve_threaded(tls_options_t *o)
{
    pthread_t agent_thread, workers[SERVE_THREADS_MAX];
    unsigned i;

    serve_options = o;
    if (o->fetch) {
        agent_threaded = 1;
        atomic_store(&agent_running, 1);
        pthread_create(&agent_thread, NULL, serve_agent_main, NULL);
    }
    for (i = 0; i < o->threads; i++) {
        pthread_create(&workers[i], NULL, serve_worker_main, (void *) (uintptr_t) i);
    }
    for (i = 0; i < o->threads; i++) {
        pthread_join(workers[i], NULL);
    }
    if (o->fetch) {
        atomic_store(&agent_running, 0);
        pthread_join(agent_thread, NULL);
    }
    return atomic_load(&serve_failed);
}
#endif

int stapler_sim_command_serve(int argc, char **argv)
{
    tls_options_t o;
    unsigned done = 0, failed = 0;
    int ret = parse_options("serve", argc, argv, &o);

    if (ret != EXIT_OK) {
        return ret;
    }
#if NO_SYS
    if (o.threads > 0) {
        fprintf(stderr, "stapler-sim serve: --threads needs the threaded build (lwIP NO_SYS=0: cmake --preset "
                        "host-threads)\n");
        return EXIT_USAGE;
    }
#else
    if (o.threads > SERVE_THREADS_MAX) {
        fprintf(stderr, "stapler-sim serve: --threads takes 1 to %d\n", SERVE_THREADS_MAX);
        return EXIT_USAGE;
    }
#endif
    ret = start("serve", &o, MBEDTLS_SSL_IS_SERVER);
    if (ret != EXIT_OK) {
        return ret;
    }
#if !NO_SYS
    if (o.threads > 0) {
        /* Before any other thread uses the agent: its lock, for the TLS threads and its own. */
        port.lock = serve_lock;
        port.unlock = serve_unlock;
    }
#endif
    ret = stapler_lwip_transport_listen((uint16_t) o.port);
    if (ret != 0) {
        fprintf(stderr, "stapler-sim serve: cannot listen on port %lu: %s\n", o.port, stapler_error_message(ret));
        return EXIT_INPUT;
    }
    if (stapler_sim_net_forward() != 0) {
        return EXIT_INPUT;
    }
    if (!o.json) {
        printf("serve: listening on port %lu (from the PC: 127.0.0.1:%lu) for %lu handshake(s)\n", o.port, o.port,
               o.handshakes);
        fflush(stdout);
    }
#if !NO_SYS
    if (o.threads > 0) {
        failed = serve_threaded(&o);
        done = (unsigned) o.handshakes;
    }
#endif
    while (done < o.handshakes) {
        int conn = stapler_lwip_transport_accept();

        if (conn < 0) {
            step_network(&o, 50);
            continue;
        }
        done++;
        if (run_session(&o, &session, conn, NULL, done) != 0) {
            failed++;
        }
    }
    stapler_lwip_transport_unlisten();
    stapler_tls_config_free(&tls_config);
    stapler_sim_net_stop();
    return failed > 0 ? EXIT_TLS : EXIT_OK;
}

int stapler_sim_command_connect(int argc, char **argv)
{
    tls_options_t o;
    unsigned n, failed = 0;
    int ret = parse_options("connect", argc, argv, &o);

    if (ret != EXIT_OK) {
        return ret;
    }
    ret = start("connect", &o, MBEDTLS_SSL_IS_CLIENT);
    if (ret != EXIT_OK) {
        return ret;
    }
    for (n = 1; n <= o.handshakes; n++) {
        const uint64_t deadline = now_ms() + 10000;
        int conn = port.transport.connect(port.context, o.host, (uint16_t) o.port);
        int status = conn < 0 ? conn : 0;

        while (conn >= 0 && status == 0 && now_ms() < deadline) {
            step_network(&o, 20);
            status = port.transport.status(port.context, conn);
        }
        if (status != 1) {
            printf("handshake %u: FAILED: cannot connect to %s:%lu: %s\n", n, o.host, o.port,
                   stapler_error_message(status == 0 ? STAPLER_PORT_ERR_TIMEOUT : status));
            if (conn >= 0) {
                port.transport.close(port.context, conn);
            }
            failed++;
            continue;
        }
        if (run_session(&o, &session, conn, o.servername != NULL ? o.servername : o.host, n) != 0) {
            failed++;
        }
    }
    stapler_tls_config_free(&tls_config);
    stapler_sim_net_stop();
    return failed > 0 ? EXIT_TLS : EXIT_OK;
}
