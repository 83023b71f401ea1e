/*
 * stapler-load: the threaded model under load (the STAPLER_THREADS build; tests/load/run).
 *
 *   stapler-load --flash IMG --trust CAS.pem [--clients 8] [--handshakes 200] [--workers 8]
 *                [--port 4433] [--max-seconds 600]
 *
 * One process, as a gateway firmware on an RTOS would be laid out: lwIP's tcpip thread and
 * the NIC driver's thread (host_sim/net.c over slirp), the agent stepping in its own thread
 * and refreshing from the responder the image's --url names, a monitoring thread reading
 * status, a pool of server threads answering TLS 1.2 and 1.3 handshakes with both identities
 * of the image, and client threads making the handshakes over lwIP's loopback (to the
 * simulator's own address), each one requiring and checking the server's staple.
 *
 * What must hold, counted and printed (exit 1 if any is violated):
 *   - every handshake completes;
 *   - no server handshake is unstapled for want of a staple (outcome no_staple);
 *   - every staple a client received is byte for byte a response the agent accepted, and
 *     not older than the one it was serving when the handshake began;
 * and, from ThreadSanitizer in the host-tsan preset, no data race anywhere.
 * Printed figures: handshakes per second, and the time server handshakes waited for the
 * agent's lock (p50, p99, max), as the port's lock function measures it.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "mbedtls/ssl.h"
#include "net.h"
#include "psa/crypto.h"
#include "stapler/agent.h"
#include "stapler/error.h"
#include "stapler_lwip_transport.h"
#include "stapler_mbedtls_platform.h"
#include "stapler_posix.h"
#include "stapler_posix_port.h"
#include "stapler_tls.h"

#define LOAD_CLIENTS_MAX 32
#define LOAD_WORKERS_MAX 32
#define LOAD_HANDSHAKES_MAX 100000
#define LOAD_HISTORY_MAX 1024

static stapler_posix_platform_t platform;
static stapler_port_t port;
static stapler_agent_t agent;
static stapler_tls_config_t server_config[STAPLER_MAX_IDENTITIES];
static stapler_tls_config_t client_config[2]; /* TLS 1.2, TLS 1.3 */
static mbedtls_x509_crt trust;

static unsigned opt_clients = 8, opt_handshakes = 200, opt_workers = 8, opt_port = 4433, opt_max_seconds = 600;
static char server_host[16] = "10.0.2.15";

static atomic_int stop_servers, stop_agent;
static atomic_uint accepted;
static atomic_uint handshakes_ok, handshakes_failed, staples_mismatched, staples_stale, staples_missing;
static atomic_uint monitor_reads, monitor_not_serving;
static atomic_int load_running; /* the monitor counts "not serving" only while the load runs */
static uint64_t deadline_ns;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* ---- The agent's lock (stapler_port_t.lock), timing how long each thread waited -------- */

static pthread_mutex_t agent_mutex = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local uint64_t lock_waited_ns;

static void load_lock(void *context)
{
    const uint64_t t0 = now_ns();

    (void) context;
    pthread_mutex_lock(&agent_mutex);
    lock_waited_ns += now_ns() - t0;
}

static void load_unlock(void *context)
{
    (void) context;
    pthread_mutex_unlock(&agent_mutex);
}

/* Serialised log lines: the platform's log goes to stderr from several threads. */
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static void (*platform_log)(void *context, stapler_log_level_t level, const char *line);

static void load_log(void *context, stapler_log_level_t level, const char *line)
{
    pthread_mutex_lock(&log_mutex);
    platform_log(context, level, line);
    pthread_mutex_unlock(&log_mutex);
}

/* ---- What the agent served: every accepted response, in order, per identity ---------- */

typedef struct {
    unsigned identity;
    uint64_t known_ns; /* when the RENEWED event told us (0: held since boot) */
    size_t len;
    unsigned char der[STAPLER_RESPONSE_MAX];
} load_entry_t;

static pthread_mutex_t history_mutex = PTHREAD_MUTEX_INITIALIZER;
static load_entry_t history[LOAD_HISTORY_MAX];
static unsigned history_count, history_overflow;

static void history_add(unsigned identity, uint64_t known_ns)
{
    const unsigned char *der;
    size_t len;

    /* An any-thread call, allowed from the event handler: the agent's lock is not held. */
    if (stapler_agent_staple_hold(&agent, identity, &der, &len) != 0) {
        return;
    }
    pthread_mutex_lock(&history_mutex);
    if (history_count < LOAD_HISTORY_MAX) {
        load_entry_t *e = &history[history_count++];

        e->identity = identity;
        e->known_ns = known_ns;
        e->len = len;
        memcpy(e->der, der, len);
    } else {
        history_overflow++;
    }
    pthread_mutex_unlock(&history_mutex);
    stapler_agent_staple_release(&agent, identity, der);
}

static atomic_uint events_renewed, events_failed;

static void on_event(void *context, unsigned identity, stapler_event_t event)
{
    (void) context;
    if (event == STAPLER_EVENT_RENEWED || event == STAPLER_EVENT_REVOKED) {
        atomic_fetch_add(&events_renewed, 1);
        history_add(identity, now_ns());
    } else if (event == STAPLER_EVENT_FAILED) {
        atomic_fetch_add(&events_failed, 1);
    }
}

/* A staple a client received, against the history: 0 good, 1 not a response the agent
 * accepted, 2 older than the one already being served when the handshake began. */
static int history_check(const unsigned char *der, size_t len, uint64_t began_ns)
{
    int found = -1, result;
    unsigned i, current_at_start = 0;

    pthread_mutex_lock(&history_mutex);
    for (i = history_count; i-- > 0;) {
        if (history[i].len == len && memcmp(history[i].der, der, len) == 0) {
            found = (int) i;
            break;
        }
    }
    if (found < 0) {
        result = 1;
    } else {
        /* The newest entry of that identity known when the handshake began: the one served
         * then had been adopted no later, so a hold taken after it cannot be older. */
        for (i = 0; i < history_count; i++) {
            if (history[i].identity == history[found].identity && history[i].known_ns <= began_ns) {
                current_at_start = i;
            }
        }
        result = (unsigned) found < current_at_start ? 2 : 0;
    }
    pthread_mutex_unlock(&history_mutex);
    return result;
}

/* ---- Figures --------------------------------------------------------------------------- */

static pthread_mutex_t figures_mutex = PTHREAD_MUTEX_INITIALIZER;
static uint64_t server_waits[LOAD_HANDSHAKES_MAX];
static unsigned server_wait_count;
static unsigned outcome_counts[STAPLER_HANDSHAKE_OUTCOMES];

static int compare_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

/* ---- Sessions -------------------------------------------------------------------------- */

static int pending(int ret)
{
    return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

static int handshake(stapler_tls_session_t *session, uint64_t until_ns)
{
    int ret;

    do {
        ret = stapler_tls_session_handshake(session);
        if (pending(ret)) {
            stapler_sim_net_poll(5);
        }
    } while (pending(ret) && now_ns() < until_ns);
    return pending(ret) ? STAPLER_PORT_ERR_TIMEOUT : ret;
}

static void *worker_main(void *arg)
{
    static stapler_tls_session_t sessions[LOAD_WORKERS_MAX];
    stapler_tls_session_t *session = &sessions[(uintptr_t) arg];

    while (!atomic_load(&stop_servers)) {
        const int conn = stapler_lwip_transport_accept();
        unsigned identity;
        uint64_t waited;
        int ret;

        if (conn < 0) {
            stapler_sim_net_poll(5);
            continue;
        }
        identity = atomic_fetch_add(&accepted, 1) % agent.identity_count;
        lock_waited_ns = 0;
        ret = stapler_tls_session_init(session, &server_config[identity], &port, conn, NULL);
        if (ret == 0) {
            ret = handshake(session, now_ns() + 20000000000ull);
        }
        waited = lock_waited_ns;
        pthread_mutex_lock(&figures_mutex);
        if (server_wait_count < LOAD_HANDSHAKES_MAX) {
            server_waits[server_wait_count++] = waited;
        }
        outcome_counts[stapler_tls_session_outcome(session)]++;
        pthread_mutex_unlock(&figures_mutex);
        if (ret == 0) {
            /* One line of application data, then wait for the client to close. */
            static const unsigned char hello[] = "ok\n";
            unsigned char buffer[64];
            const uint64_t until = now_ns() + 5000000000ull;
            int r;

            do {
                r = stapler_tls_session_write(session, hello, sizeof(hello) - 1);
                if (pending(r)) {
                    stapler_sim_net_poll(5);
                }
            } while (pending(r) && now_ns() < until);
            do {
                r = stapler_tls_session_read(session, buffer, sizeof(buffer));
                if (pending(r)) {
                    stapler_sim_net_poll(5);
                }
            } while ((pending(r) || r > 0) && now_ns() < until);
        }
        stapler_tls_session_free(session);
        port.transport.close(port.context, conn);
    }
    return NULL;
}

typedef struct {
    unsigned char der[STAPLER_RESPONSE_MAX];
    size_t len;
} load_seen_t;

static void staple_seen(stapler_tls_session_t *session, const unsigned char *der, size_t len)
{
    load_seen_t *seen = session->user;

    if (seen != NULL && len <= sizeof(seen->der)) {
        memcpy(seen->der, der, len);
        seen->len = len;
    }
}

static void *client_main(void *arg)
{
    static stapler_tls_session_t sessions[LOAD_CLIENTS_MAX];
    static load_seen_t seen_of[LOAD_CLIENTS_MAX];
    const unsigned index = (unsigned) (uintptr_t) arg;
    stapler_tls_session_t *session = &sessions[index];
    load_seen_t *seen = &seen_of[index];
    unsigned n;

    for (n = 0; n < opt_handshakes && now_ns() < deadline_ns; n++) {
        const uint64_t began = now_ns();
        const int version = (int) ((n + index) % 2u);
        int conn = port.transport.connect(port.context, server_host, (uint16_t) opt_port);
        int ret = conn < 0 ? conn : 0;

        while (conn >= 0 && ret == 0 && now_ns() < began + 10000000000ull) {
            stapler_sim_net_poll(5);
            ret = port.transport.status(port.context, conn);
        }
        if (ret == 1) {
            ret = stapler_tls_session_init(session, &client_config[version], &port, conn, NULL);
        } else if (ret == 0) {
            ret = STAPLER_PORT_ERR_TIMEOUT;
        }
        if (ret == 0) {
            session->user = seen;
            seen->len = 0;
            /* Either identity may answer (the server takes them in turn): the chain and the
             * staple are checked, the host name is not. */
            ret = mbedtls_ssl_set_hostname(&session->ssl, NULL);
        }
        if (ret == 0) {
            ret = handshake(session, began + 20000000000ull);
        }
        if (ret == 0) {
            unsigned char reply[16];
            int r;

            do {
                r = stapler_tls_session_read(session, reply, sizeof(reply));
                if (pending(r)) {
                    stapler_sim_net_poll(5);
                }
            } while (pending(r) && now_ns() < began + 20000000000ull);
            if (r <= 0) {
                ret = r < 0 ? r : MBEDTLS_ERR_SSL_CONN_EOF;
            }
        }
        if (ret == 0) {
            atomic_fetch_add(&handshakes_ok, 1);
            if (seen->len == 0) {
                atomic_fetch_add(&staples_missing, 1);
            } else {
                const int check = history_check(seen->der, seen->len, began);

                if (check == 1) {
                    atomic_fetch_add(&staples_mismatched, 1);
                } else if (check == 2) {
                    atomic_fetch_add(&staples_stale, 1);
                }
            }
        } else {
            atomic_fetch_add(&handshakes_failed, 1);
            pthread_mutex_lock(&log_mutex);
            fprintf(stderr, "stapler-load: client %u handshake %u (TLS 1.%d) failed: %s (-0x%04x)\n", index, n,
                    2 + version, stapler_tls_error_slug(ret), (unsigned) -ret);
            pthread_mutex_unlock(&log_mutex);
        }
        if (conn >= 0) {
            stapler_tls_session_free(session);
            port.transport.close(port.context, conn);
        }
    }
    return NULL;
}

/* ---- The agent's thread and a monitor ---------------------------------------------------- */

static void *agent_main(void *arg)
{
    (void) arg;
    while (!atomic_load(&stop_agent)) {
        uint32_t wait = 50;

        (void) stapler_agent_step(&agent, &wait);
        stapler_sim_net_poll(wait < 50u ? wait : 50u);
    }
    return NULL;
}

static void *monitor_main(void *arg)
{
    (void) arg;
    while (!atomic_load(&stop_agent)) {
        unsigned i;

        for (i = 0; i < agent.identity_count; i++) {
            stapler_identity_status_t st;

            if (stapler_agent_status(&agent, i, &st) == 0 && atomic_load(&load_running)) {
                atomic_fetch_add(&monitor_reads, 1);
                if (!st.serving) {
                    atomic_fetch_add(&monitor_not_serving, 1);
                }
            }
        }
        {
            const struct timespec pause = { 0, 20000000 };
            nanosleep(&pause, NULL);
        }
    }
    return NULL;
}

/* ---- Threads on painted stacks, for their high-water marks ------------------------------ */

#if defined(__SANITIZE_THREAD__)
/* ThreadSanitizer keeps its per-thread state in a pre-allocated stack too (it refuses one
 * under about 900 KiB); the high-water figures are the plain build's. */
#define LOAD_STACK_SIZE (2048u * 1024u)
#else
#define LOAD_STACK_SIZE (256u * 1024u)
#endif
#define LOAD_STACK_PAINT 0xA5u
#define LOAD_THREADS_MAX (LOAD_WORKERS_MAX + LOAD_CLIENTS_MAX + 2)

static unsigned char load_stacks[LOAD_THREADS_MAX][LOAD_STACK_SIZE] __attribute__((aligned(64)));
static unsigned load_stacks_used;

/* Start \p fn on a stack of our own, painted, so its deepest use can be read afterwards. */
static int load_thread(pthread_t *thread, void *(*fn)(void *), void *arg, unsigned *stack)
{
    pthread_attr_t attr;
    int ret;

    if (load_stacks_used == LOAD_THREADS_MAX) {
        return -1;
    }
    *stack = load_stacks_used++;
    memset(load_stacks[*stack], LOAD_STACK_PAINT, LOAD_STACK_SIZE);
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, load_stacks[*stack], LOAD_STACK_SIZE);
    ret = pthread_create(thread, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (ret != 0) {
        fprintf(stderr, "stapler-load: pthread_create on a %u-byte stack: %s\n", LOAD_STACK_SIZE, strerror(ret));
    }
    return ret;
}

/* Bytes of a painted stack ever touched (stacks grow down: from the low end, the first byte
 * that is not paint). */
static size_t load_stack_high_water(unsigned stack)
{
    size_t i = 0;

    while (i < LOAD_STACK_SIZE && load_stacks[stack][i] == LOAD_STACK_PAINT) {
        i++;
    }
    return LOAD_STACK_SIZE - i;
}

static size_t load_stack_max(const unsigned *stacks, unsigned n)
{
    size_t max = 0;
    unsigned i;

    for (i = 0; i < n; i++) {
        const size_t used = load_stack_high_water(stacks[i]);
        if (used > max) {
            max = used;
        }
    }
    return max;
}

/* ---- Set-up ----------------------------------------------------------------------------- */

static int parse(int argc, char **argv, const char **flash, const char **trust_path)
{
    int a;

    for (a = 1; a + 1 < argc; a += 2) {
        const char *o = argv[a], *v = argv[a + 1];

        if (strcmp(o, "--flash") == 0) *flash = v;
        else if (strcmp(o, "--trust") == 0) *trust_path = v;
        else if (strcmp(o, "--clients") == 0) opt_clients = (unsigned) strtoul(v, NULL, 10);
        else if (strcmp(o, "--handshakes") == 0) opt_handshakes = (unsigned) strtoul(v, NULL, 10);
        else if (strcmp(o, "--workers") == 0) opt_workers = (unsigned) strtoul(v, NULL, 10);
        else if (strcmp(o, "--port") == 0) opt_port = (unsigned) strtoul(v, NULL, 10);
        else if (strcmp(o, "--max-seconds") == 0) opt_max_seconds = (unsigned) strtoul(v, NULL, 10);
        else {
            fprintf(stderr, "stapler-load: unknown option '%s'\n", o);
            return -1;
        }
    }
    if (a != argc || *flash == NULL || *trust_path == NULL || opt_clients == 0 || opt_clients > LOAD_CLIENTS_MAX ||
        opt_workers == 0 || opt_workers > LOAD_WORKERS_MAX || opt_handshakes == 0 ||
        (unsigned long) opt_clients * opt_handshakes > LOAD_HANDSHAKES_MAX || opt_port == 0 || opt_port > 65535 ||
        opt_max_seconds == 0) {
        fprintf(stderr, "usage: stapler-load --flash IMG --trust CAS.pem [--clients N<=%d] [--handshakes N] "
                        "[--workers N<=%d] [--port P] [--max-seconds S]\n", LOAD_CLIENTS_MAX, LOAD_WORKERS_MAX);
        return -1;
    }
    return 0;
}

static int configure(void)
{
    stapler_tls_options_t o;
    unsigned i;
    int ret;

    for (i = 0; i < agent.identity_count; i++) {
        memset(&o, 0, sizeof(o));
        o.endpoint = MBEDTLS_SSL_IS_SERVER;
        o.identity = i;
        o.present_certificate = 1;
        o.peer_staple = STAPLER_TLS_PEER_STAPLE_IGNORE;
        ret = stapler_tls_config_init(&server_config[i], &agent, &o);
        if (ret != 0) {
            fprintf(stderr, "stapler-load: identity %u cannot serve TLS: -0x%04x\n", i, (unsigned) -ret);
            return -1;
        }
    }
    for (i = 0; i < 2; i++) {
        memset(&o, 0, sizeof(o));
        o.endpoint = MBEDTLS_SSL_IS_CLIENT;
        o.present_certificate = 0;
        o.trust = &trust;
        o.peer_staple = STAPLER_TLS_PEER_STAPLE_REQUIRE;
        o.min_version = o.max_version = i == 0 ? MBEDTLS_SSL_VERSION_TLS1_2 : MBEDTLS_SSL_VERSION_TLS1_3;
        o.peer_staple_seen = staple_seen;
        ret = stapler_tls_config_init(&client_config[i], &agent, &o);
        if (ret != 0) {
            fprintf(stderr, "stapler-load: the TLS client cannot be set up: -0x%04x\n", (unsigned) -ret);
            return -1;
        }
    }
    return 0;
}

/* The load begins as a gateway's day does: with every identity serving a staple. */
static int wait_serving(uint64_t until_ns)
{
    for (;;) {
        unsigned i, serving = 0;

        for (i = 0; i < agent.identity_count; i++) {
            stapler_identity_status_t st;
            serving += stapler_agent_status(&agent, i, &st) == 0 && st.serving;
        }
        if (serving == agent.identity_count) {
            return 0;
        }
        if (now_ns() > until_ns) {
            fprintf(stderr, "stapler-load: %u of %u identities serving after the first fetches: is the "
                            "responder up?\n", serving, agent.identity_count);
            return -1;
        }
        stapler_sim_net_poll(50);
    }
}

int main(int argc, char **argv)
{
    const char *flash = NULL, *trust_path = NULL;
    pthread_t agent_thread, monitor_thread, workers[LOAD_WORKERS_MAX], clients[LOAD_CLIENTS_MAX];
    unsigned agent_stack, monitor_stack, worker_stacks[LOAD_WORKERS_MAX], client_stacks[LOAD_CLIENTS_MAX];
    stapler_sim_net_options_t net;
    unsigned i, total, failed, violations;
    uint64_t started, elapsed;
    int ret;

    if (parse(argc, argv, &flash, &trust_path) != 0) {
        return 2;
    }
    if (stapler_posix_mbedtls_setup() != 0) {
        fprintf(stderr, "stapler-load: Mbed TLS does not start\n");
        return 1;
    }
    if (stapler_posix_platform_open(&platform, flash) != 0) {
        return 1;
    }
    port = platform.port;
    port.lock = load_lock;
    port.unlock = load_unlock;
    platform_log = port.log;
    port.log = load_log;
    stapler_lwip_transport_init(&port.transport);
    ret = stapler_agent_init(&agent, &port);
    if (ret != 0 || agent.identity_count == 0) {
        fprintf(stderr, "stapler-load: the agent cannot start on '%s': %s\n", flash,
                ret != 0 ? stapler_error_message(ret) : "no identity");
        return 1;
    }
    for (i = 0; i < agent.identity_count; i++) {
        history_add(i, 0); /* cached since boot, if any */
    }
    stapler_agent_set_event_handler(&agent, on_event, NULL);
    if (psa_crypto_init() != PSA_SUCCESS) {
        fprintf(stderr, "stapler-load: PSA crypto does not start\n");
        return 1;
    }
    mbedtls_x509_crt_init(&trust);
    if (stapler_sim_load_certificates(&trust, trust_path, "--trust") != 0 || configure() != 0) {
        return 1;
    }
    memset(&net, 0, sizeof(net));
    if (stapler_sim_net_start(&net, 20000) != 0) {
        return 1;
    }
    ret = stapler_lwip_transport_listen((uint16_t) opt_port);
    if (ret != 0) {
        fprintf(stderr, "stapler-load: cannot listen on port %u: %s\n", opt_port, stapler_error_message(ret));
        return 1;
    }
    if (load_thread(&agent_thread, agent_main, NULL, &agent_stack) != 0 ||
        load_thread(&monitor_thread, monitor_main, NULL, &monitor_stack) != 0) {
        fprintf(stderr, "stapler-load: cannot start threads\n");
        return 1;
    }
    if (wait_serving(now_ns() + 20000000000ull) != 0) {
        atomic_store(&stop_agent, 1);
        pthread_join(agent_thread, NULL);
        pthread_join(monitor_thread, NULL);
        return 1;
    }
    printf("load: %u client threads x %u handshakes (TLS 1.2 and 1.3, %u identities) against %u server "
           "threads; the agent refreshes meanwhile\n", opt_clients, opt_handshakes, agent.identity_count, opt_workers);
    fflush(stdout);
    atomic_store(&load_running, 1);
    started = now_ns();
    deadline_ns = started + (uint64_t) opt_max_seconds * 1000000000u;
    for (i = 0; i < opt_workers; i++) {
        if (load_thread(&workers[i], worker_main, (void *) (uintptr_t) i, &worker_stacks[i]) != 0) {
            fprintf(stderr, "stapler-load: cannot start threads\n");
            return 1;
        }
    }
    for (i = 0; i < opt_clients; i++) {
        if (load_thread(&clients[i], client_main, (void *) (uintptr_t) i, &client_stacks[i]) != 0) {
            fprintf(stderr, "stapler-load: cannot start threads\n");
            return 1;
        }
    }
    for (i = 0; i < opt_clients; i++) {
        pthread_join(clients[i], NULL);
    }
    elapsed = now_ns() - started;
    atomic_store(&load_running, 0);
    atomic_store(&stop_servers, 1);
    for (i = 0; i < opt_workers; i++) {
        pthread_join(workers[i], NULL);
    }
    atomic_store(&stop_agent, 1);
    pthread_join(agent_thread, NULL);
    pthread_join(monitor_thread, NULL);
    stapler_lwip_transport_unlisten();

    total = atomic_load(&handshakes_ok) + atomic_load(&handshakes_failed);
    failed = atomic_load(&handshakes_failed);
    qsort(server_waits, server_wait_count, sizeof(server_waits[0]), compare_u64);
    printf("load: %u handshakes in %.2f s: %.1f handshakes per second\n", total, (double) elapsed / 1e9,
           elapsed > 0 ? (double) total * 1e9 / (double) elapsed : 0.0);
    if (server_wait_count > 0) {
        printf("load: server handshakes waited for the agent's lock: p50 %.1f us, p99 %.1f us, max %.1f us "
               "(%u handshakes)\n", (double) server_waits[server_wait_count / 2] / 1e3,
               (double) server_waits[(server_wait_count * 99u) / 100u] / 1e3,
               (double) server_waits[server_wait_count - 1] / 1e3, server_wait_count);
    }
    printf("load: server outcomes:");
    for (i = 0; i < STAPLER_HANDSHAKE_OUTCOMES; i++) {
        printf(" %s %u", stapler_agent_handshake_outcome_name((stapler_handshake_outcome_t) i), outcome_counts[i]);
    }
    printf("\n");
    for (i = 0; i < agent.identity_count; i++) {
        stapler_identity_status_t st;

        (void) stapler_agent_status(&agent, i, &st);
        printf("load: identity %u: fetches %u ok, %u failed; serving %s\n", i, (unsigned) st.fetches_ok,
               (unsigned) st.fetches_failed, st.serving ? "yes" : "no");
    }
    printf("load: the agent took %u responses during the run (%u in the history), %u failed fetches; "
           "the monitor read status %u times during the load (%u not serving)\n", atomic_load(&events_renewed), history_count,
           atomic_load(&events_failed), atomic_load(&monitor_reads), atomic_load(&monitor_not_serving));
    {
        size_t current = 0, peak = 0;

        stapler_mbedtls_platform_arena_usage(&current, &peak);
        printf("load: Mbed TLS arena: peak %zu of %u bytes, %zu in use after the run\n", peak,
               (unsigned) CONFIG_STAPLER_MBEDTLS_ARENA_SIZE, current);
    }
    printf("load: stack high-water (x86-64, an upper bound for a 32-bit MCU): agent %zu, monitor %zu, "
           "TLS server %zu, TLS client %zu bytes\n", load_stack_high_water(agent_stack),
           load_stack_high_water(monitor_stack), load_stack_max(worker_stacks, opt_workers),
           load_stack_max(client_stacks, opt_clients));
    for (i = 0; i < agent.identity_count; i++) {
        stapler_identity_status_t st;
        unsigned c;

        (void) stapler_agent_status(&agent, i, &st);
        printf("load: identity %u fetch results:", i);
        for (c = 0; c < STAPLER_FETCH_CLASSES; c++) {
            if (st.fetches_by_class[c] != 0) {
                printf(" %s %u", stapler_agent_fetch_class_name((stapler_fetch_class_t) c),
                       (unsigned) st.fetches_by_class[c]);
            }
        }
        printf("\n");
    }
    violations = failed + outcome_counts[STAPLER_HANDSHAKE_NO_STAPLE] + atomic_load(&monitor_not_serving) + atomic_load(&staples_mismatched) +
                 atomic_load(&staples_stale) + atomic_load(&staples_missing) + history_overflow;
    printf("load: %u handshakes, %u failed, %u unstapled for want of a staple, %u staples not the agent's, "
           "%u stale, %u missing\n", total, failed, outcome_counts[STAPLER_HANDSHAKE_NO_STAPLE],
           atomic_load(&staples_mismatched), atomic_load(&staples_stale), atomic_load(&staples_missing));
    for (i = 0; i < agent.identity_count; i++) {
        stapler_tls_config_free(&server_config[i]);
    }
    stapler_tls_config_free(&client_config[0]);
    stapler_tls_config_free(&client_config[1]);
    stapler_sim_net_stop();
    if (total < opt_clients * opt_handshakes) {
        printf("load: FAILED: only %u of %u handshakes ran within %u s\n", total, opt_clients * opt_handshakes,
               opt_max_seconds);
        return 1;
    }
    if (violations != 0) {
        printf("load: FAILED\n");
        return 1;
    }
    printf("load: passed\n");
    return 0;
}
