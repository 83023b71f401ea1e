/*
 * The Stapler firmware application, shared by every board (stapler_app.h): the board sets
 * itself up and hands over to stapler_app_run() with its hooks.
 *
 * Boot: Mbed TLS's static arena, the flash region and the credential store; the agent
 * re-verifies the cached staples, so a staple is ready before the network is. Then lwIP on
 * the board's Ethernet controller (DHCP), the agent fetching and refreshing in a NO_SYS main
 * loop, and what the command line asks for: TLS handshakes as a client (TLS 1.3 client
 * authentication, stapling our response in the Certificate message) and as a server
 * (TLS 1.2/1.3, status_request). A summary goes to the board's console and the exit status
 * to the board (on mps2-an386: UART0, and QEMU through semihosting).
 *
 * Command line (QEMU: -kernel ELF -append "..."; tools/qemu-run builds it), words:
 *   flash=PATH          the flash image (QEMU preloads it; writes go back to the file)
 *   selftest            run the crypto known-answer tests first
 *   wait=S              seconds to wait for a verified staple before the handshakes (30)
 *   connect=HOST:PORT   TLS client handshake(s) to HOST:PORT, server checked against the
 *                       identity's provisioned trust anchors
 *   servername=NAME     SNI and the name the server's certificate must carry (default HOST)
 *   handshakes=N        client handshakes (1)
 *   resume              ... each resuming the one before, while the server's staple holds
 *   identity=N          the identity TLS presents, as client and server (0)
 *   by-name             server: present the identity whose certificate is for the name the
 *                       client sends (SNI); identity=N when it names none or an unknown one
 *   serve=PORT          TLS server on PORT ...
 *   accept=N            ... for N handshakes (1)
 *   run=S               keep running the agent S seconds after the handshakes (0)
 *   power-cut-at=N      TEST ONLY: the power fails during flash operation N (exit 0x50)
 *   clock-ahead=S       TEST ONLY: the wall clock runs S seconds ahead of the PC's
 *   sntp=A,B[:PORT]     SNTP servers, trusted when two agree (default CONFIG_STAPLER_SNTP_SERVERS)
 *   bench-verify=DIR    instructions per OCSP check, on the vectors in DIR (then exit)
 * Exit: 0 all asked for done; 1 usage; 2 selftest failed; 3 flash or credentials unusable;
 *       4 no network; 6 a handshake failed; 0x50 power cut (test);
 *       0x7C..0x7F fatal (arena here; the board's: lwIP assertion, interrupt, CPU fault).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "mbedtls/build_info.h"
#include "mbedtls/ssl.h"
#include "netif/ethernet.h"
#include "psa/crypto.h"

#include "stapler/agent.h"
#include "stapler/error.h"
#include "stapler/ocsp.h"
#include "stapler/selftest.h"
#include "stapler/version.h"
#include "stapler_app.h"
#include "stapler_sntp.h"
#include "stapler_lwip_transport.h"
#include "stapler_mbedtls_platform.h"
#include "stapler_tls.h"

#define CMDLINE_MAX 512u
#define DHCP_TIMEOUT_MS 15000u
#define CONNECT_TIMEOUT_MS 10000u
#define HANDSHAKE_TIMEOUT_MS 30000u

typedef struct {
    const char *flash;
    int selftest;
    uint32_t wait_s;
    const char *connect_host;
    uint16_t connect_port;
    const char *servername;
    uint32_t handshakes;
    uint16_t serve_port;
    uint32_t accept;
    uint32_t run_s;
    uint32_t power_cut_at;
    uint32_t clock_ahead_s;
    const char *sntp;
    int resume;               /* client: resume the session of the handshake before */
    int by_name;              /* server: the identity by the client's SNI (by-name) */
    uint32_t identity;        /* whose certificate and key TLS presents (identity=N) */
    const char *bench_verify; /* directory of OCSP vectors (the host build's tests/vectors) */
} options_t;

static const stapler_app_board_t *board; /* the hooks of the board we run on */
static char cmdline[CMDLINE_MAX];
static options_t options;
static stapler_port_t port;
static stapler_agent_t agent;
static struct netif netif;
static mbedtls_x509_crt trust;
static stapler_tls_config_t tls_config;
static stapler_tls_session_t session;
static int64_t wall_base;       /* wall time at boot (the board's RTC), seconds */
static uint32_t handshakes_ok, handshakes_failed;

/* The board's clock, milliseconds since reset (one call site here rather than two dozen
 * indirect calls: smaller code). */
static uint64_t now_ms(void)
{
    return board->millis();
}

/* ---- Output ------------------------------------------------------------------------------ */

static void out(const char *text)
{
    board->print(text);
}

static void out_u(uint32_t value)
{
    board->print_unsigned(value);
}

/* Mbed TLS and Stapler codes are written as in their headers: -0x7780 */
static void out_error_code(int ret)
{
    static const char digits[] = "0123456789abcdef";
    uint32_t value = ret < 0 ? (uint32_t) -ret : (uint32_t) ret;
    char text[12];
    int i = (int) sizeof(text) - 1;

    text[i] = '\0';
    do {
        text[--i] = digits[value & 0xfu];
        value >>= 4;
    } while (value != 0 && i > 3);
    text[--i] = 'x';
    text[--i] = '0';
    if (ret < 0) {
        text[--i] = '-';
    }
    out(&text[i]);
}

static void out_i64(int64_t value)
{
    if (value < 0) {
        out("-");
        value = -value;
    }
    if (value >= 1000000000) {
        out_u((uint32_t) (value / 1000000000));
        value %= 1000000000;
        /* zero-pad the low nine digits */
        for (int64_t scale = 100000000; scale > 1 && value < scale; scale /= 10) {
            out("0");
        }
    }
    out_u((uint32_t) value);
}

static void out_error(int ret)
{
    out(stapler_error_slug(ret));
    out(" (");
    out(stapler_error_message(ret));
    out(")");
}

/* ---- Platform: the port contract, from the board's hooks -------------------------------- */

static uint64_t board_monotonic_ms(void *context)
{
    (void) context;
    return now_ms();
}

static int board_wall_time(void *context, int64_t *utc_seconds, int *trusted)
{
    (void) context;
    if (stapler_sntp_time(utc_seconds)) {
        *trusted = 1;
        return 0;
    }
    if (wall_base <= 0) {
        return STAPLER_PORT_ERR_IO;
    }
    *utc_seconds = wall_base + (int64_t) (now_ms() / 1000u);
    *trusted = board->rtc_trusted;
    return 0;
}

/* SNTP (stapler_sntp.h): what the rounds found, on the console. */
static int sntp_reported_agreed;

static uint64_t sntp_now_ms(void)
{
    return now_ms();
}

static int sntp_random(void *buffer, uint32_t len)
{
    return board->entropy(buffer, len);
}

static int64_t sntp_floor(void)
{
    stapler_identity_status_t st;

    return stapler_agent_status(&agent, 0, &st) == 0 ? st.time_floor : 0;
}

static void sntp_report(stapler_sntp_outcome_t outcome, int64_t utc, unsigned answers, unsigned asked)
{
    if (outcome == STAPLER_SNTP_AGREED) {
        if (sntp_reported_agreed) {
            return;
        }
        sntp_reported_agreed = 1;
        out("clock: SNTP time ");
        out_i64(utc);
        out(" (UTC seconds), two of ");
        out_u(asked);
        out(" servers agree: wall clock trusted from now on\n");
    } else if (outcome == STAPLER_SNTP_CONTRADICTS) {
        out("clock: SNTP servers agree on ");
        out_i64(utc);
        out(", before what the agent can prove (");
        out_i64(sntp_floor());
        out("): not trusted\n");
    } else if (!sntp_reported_agreed) {
        out("clock: SNTP: ");
        out_u(answers);
        out(" answer(s) from ");
        out_u(asked);
        out(" server(s), no two agree: not trusted (asking again in a minute)\n");
    }
}

static const stapler_sntp_hooks_t sntp_hooks = { sntp_now_ms, sntp_random, sntp_floor, sntp_report };

static int board_entropy(void *context, void *buffer, size_t len)
{
    (void) context;
    return board->entropy(buffer, (uint32_t) len) == 0 ? 0 : STAPLER_PORT_ERR_NO_ENTROPY;
}

static void board_log(void *context, stapler_log_level_t level, const char *line)
{
    static const char *const names[] = { "", "error", "warning", "info", "debug" };

    (void) context;
    out("stapler: ");
    out(names[level <= STAPLER_LOG_DEBUG ? level : 0]);
    out(": ");
    out(line);
    out("\n");
}

static int mbedtls_entropy(void *context, void *buffer, size_t len)
{
    return board_entropy(context, buffer, len);
}

static void mbedtls_fatal(int status)
{
    (void) status;
    out("\nfatal: Mbed TLS's memory arena is corrupted\n");
    board->exit(STAPLER_APP_EXIT_FATAL);
}

static const stapler_mbedtls_platform_cfg_t mbedtls_cfg = {
    .fatal_fn = mbedtls_fatal,
    .entropy_fn = mbedtls_entropy,
    .monotonic_ms_fn = board_monotonic_ms,
};

/* ---- Command line ------------------------------------------------------------------------ */

static int parse_u32(const char *text, uint32_t max, uint32_t *value)
{
    uint32_t v = 0;

    if (*text == '\0') {
        return -1;
    }
    for (; *text != '\0'; text++) {
        if (*text < '0' || *text > '9' || v > (max - (uint32_t) (*text - '0')) / 10u) {
            return -1;
        }
        v = v * 10u + (uint32_t) (*text - '0');
    }
    *value = v;
    return 0;
}

static int usage(const char *word)
{
    out("usage: unknown or bad command-line word '");
    out(word);
    out("'; words: flash=PATH selftest wait=S connect=HOST:PORT servername=NAME handshakes=N resume identity=N "
        "by-name serve=PORT accept=N run=S sntp=A,B power-cut-at=N clock-ahead=S bench-verify=DIR "
        "(board/common/stapler_app.c)\n");
    return -1;
}

static int parse_cmdline(options_t *o)
{
    char *word, *next;
    int first = 1;

    memset(o, 0, sizeof(*o));
    o->wait_s = 30;
    o->handshakes = 1;
    o->accept = 1;
    o->sntp = CONFIG_STAPLER_SNTP_SERVERS;
    if (board->cmdline == NULL || board->cmdline(cmdline, sizeof(cmdline)) != 0) {
        return 0; /* no command line: boot and report */
    }
    for (word = cmdline; *word != '\0'; word = next) {
        char *value;
        uint32_t number = 0;

        while (*word == ' ') {
            word++;
        }
        if (*word == '\0') {
            break;
        }
        for (next = word; *next != '\0' && *next != ' '; next++) {
        }
        if (*next == ' ') {
            *next++ = '\0';
        }
        if (first) {
            first = 0; /* the image's own path */
            continue;
        }
        value = strchr(word, '=');
        if (value != NULL) {
            *value++ = '\0';
        }
        if (strcmp(word, "by-name") == 0 && value == NULL) {
            o->by_name = 1;
            continue;
        }
        if (strcmp(word, "resume") == 0 && value == NULL) {
            o->resume = 1;
            continue;
        }
        if (strcmp(word, "selftest") == 0 && value == NULL) {
            o->selftest = 1;
        } else if (value == NULL) {
            return usage(word);
        } else if (strcmp(word, "flash") == 0) {
            o->flash = value;
        } else if (strcmp(word, "sntp") == 0) {
            o->sntp = value;
        } else if (strcmp(word, "bench-verify") == 0) {
            o->bench_verify = value;
        } else if (strcmp(word, "servername") == 0) {
            o->servername = value;
        } else if (strcmp(word, "connect") == 0) {
            char *colon = strrchr(value, ':');

            if (colon == NULL || parse_u32(colon + 1, 65535u, &number) != 0 || number == 0u) {
                return usage(word);
            }
            *colon = '\0';
            o->connect_host = value;
            o->connect_port = (uint16_t) number;
        } else if (parse_u32(value, 0xFFFFFFFFu, &number) != 0) {
            return usage(word);
        } else if (strcmp(word, "wait") == 0) {
            o->wait_s = number;
        } else if (strcmp(word, "handshakes") == 0) {
            o->handshakes = number;
        } else if (strcmp(word, "identity") == 0 && number < STAPLER_MAX_IDENTITIES) {
            o->identity = number;
        } else if (strcmp(word, "serve") == 0 && number > 0u && number <= 65535u) {
            o->serve_port = (uint16_t) number;
        } else if (strcmp(word, "accept") == 0) {
            o->accept = number;
        } else if (strcmp(word, "run") == 0) {
            o->run_s = number;
        } else if (strcmp(word, "power-cut-at") == 0 && board->flash_cut_power_at != NULL) {
            o->power_cut_at = number;
        } else if (strcmp(word, "clock-ahead") == 0) {
            o->clock_ahead_s = number;
        } else {
            return usage(word);
        }
    }
    return 0;
}

/* ---- Agent --------------------------------------------------------------------------------- */

static void report_identity(unsigned identity, const char *what, int result)
{
    stapler_identity_status_t st;

    (void) stapler_agent_status(&agent, identity, &st);
    out("identity ");
    out_u(identity);
    out(": ");
    out(what);
    out(" ");
    out(stapler_agent_state_name(st.state));
    if (result != 0) {
        out(" (");
        out(stapler_agent_fetch_class_name(stapler_agent_fetch_class(result)));
        out(": ");
        out_error(result);
        out(")");
    }
    if (st.serving) {
        out(", stapling; ");
        out_i64(st.remaining);
        out(" s of validity left");
    } else if (st.state != STAPLER_IDENTITY_NOT_APPLICABLE) {
        out(", NOT stapling");
    }
    if (st.state != STAPLER_IDENTITY_NOT_APPLICABLE) {
        out("; next fetch in ");
        out_i64(st.next_attempt_in);
        out(" s");
    }
    out("\n");
}

static void on_event(void *context, unsigned identity, stapler_event_t event)
{
    static const char *const names[] = { "", "renewed", "revoked", "expiring", "failed" };

    (void) context;
    if (event == STAPLER_EVENT_TIME_CONTRADICTION) {
        stapler_identity_status_t st;

        (void) stapler_agent_status(&agent, 0, &st);
        out("clock: the trusted clock reads earlier than the agent can prove (");
        out_i64(st.time_floor);
        out("): not used; contradictions: ");
        out_u(st.time_contradictions);
        out("\n");
        return;
    }
    if (event != STAPLER_EVENT_FAILED) { /* failures are reported with the fetch */
        report_identity(identity, names[event <= STAPLER_EVENT_FAILED ? event : 0], 0);
    }
}

/* One pass of the main loop: frames in, lwIP's timers, the agent. Sleeps (the board's idle:
 * WFI on mps2-an386) when the loop has nothing to do; a received frame or the timer tick
 * (the LAN9118 interrupt or SysTick there) wakes it. */
static void step(void)
{
    uint32_t wait;

    board->netif_poll(&netif);
    sys_check_timeouts();
    stapler_sntp_poll();
    if (stapler_agent_step(&agent, &wait) == 1) {
        report_identity(agent.fetch_identity, "fetch", agent.fetch_result);
    }
    if (!board->netif_pending()) {
        board->idle();
    }
}

static int any_serving(void)
{
    unsigned i;

    for (i = 0; i < agent.identity_count; i++) {
        stapler_identity_status_t st;
        if (stapler_agent_status(&agent, i, &st) == 0 && st.serving) {
            return 1;
        }
    }
    return 0;
}

/* ---- Network ------------------------------------------------------------------------------- */

static void out_ip(const ip4_addr_t *address)
{
    const uint32_t a = lwip_ntohl(ip4_addr_get_u32(address));

    out_u(a >> 24);
    out(".");
    out_u((a >> 16) & 0xFFu);
    out(".");
    out_u((a >> 8) & 0xFFu);
    out(".");
    out_u(a & 0xFFu);
}

static int network_start(void)
{
    const uint64_t deadline = now_ms() + DHCP_TIMEOUT_MS;

    lwip_init();
    if (netif_add(&netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, NULL, board->netif_init,
                  ethernet_input) == NULL) {
        out("net: ");
        out(board->nic_missing);
        out("\n");
        return -1;
    }
    netif_set_default(&netif);
    netif_set_up(&netif);
    (void) dhcp_start(&netif);
    while (!dhcp_supplied_address(&netif)) {
        if (now_ms() > deadline) {
            out("net: no DHCP lease within 15 s (");
            out(board->no_lease_hint);
            out(")\n");
            return -1;
        }
        board->netif_poll(&netif);
        sys_check_timeouts();
        board->idle();
    }
    out("net: ");
    out(board->nic_name);
    out(" MAC ");
    for (unsigned i = 0; i < 6; i++) {
        static const char hex[] = "0123456789abcdef";
        char byte[4] = { hex[netif.hwaddr[i] >> 4], hex[netif.hwaddr[i] & 0xFu], i < 5 ? ':' : '\0', '\0' };
        out(byte);
    }
    out(", DHCP address ");
    out_ip(netif_ip4_addr(&netif));
    out(" gateway ");
    out_ip(netif_ip4_gw(&netif));
    out("\n");
    if (options.sntp != NULL && options.sntp[0] != '\0' && stapler_sntp_start(options.sntp, &sntp_hooks) < 0) {
        out("clock: sntp= takes at most 4 servers, host[:port] separated by commas: SNTP not started\n");
    }
    return 0;
}

/* ---- TLS ----------------------------------------------------------------------------------- */

static int tls_setup(int endpoint)
{
    stapler_tls_options_t topt;
    int ret;

    if (options.identity >= agent.identity_count) {
        out("tls: the flash image has no identity ");
        out_u(options.identity);
        out(" (identity=N counts from 0; provision it with `stapler-sim provision`)\n");
        return STAPLER_ERR_AGENT_NO_IDENTITY;
    }
    memset(&topt, 0, sizeof(topt));
    topt.endpoint = endpoint;
    topt.identity = options.identity;
    topt.present_certificate = 1;
    topt.peer_staple = STAPLER_TLS_PEER_STAPLE_CHECK;
    topt.select_by_name = endpoint == MBEDTLS_SSL_IS_SERVER && options.by_name;
    if (endpoint == MBEDTLS_SSL_IS_CLIENT) {
        mbedtls_x509_crt_init(&trust);
        ret = stapler_tls_load_trust(&agent, options.identity, &trust);
        if (ret == 0) {
            out("tls: no trust anchor for the server: provision one with `stapler-sim provision --trust CA`\n");
            return STAPLER_ERR_INVALID_ARGUMENT;
        }
        if (ret < 0) {
            out(ret == STAPLER_ERR_BUFFER_TOO_SMALL
                    ? "tls: a provisioned trust anchor is larger than the 2.5 KiB this firmware reads\n"
                    : "tls: a provisioned trust anchor cannot be read or parsed: provision it again\n");
            return ret;
        }
        topt.trust = &trust;
        topt.min_version = MBEDTLS_SSL_VERSION_TLS1_3; /* client authentication with a staple: TLS 1.3 */
        topt.resume = options.resume;
    }
    ret = stapler_tls_config_init(&tls_config, &agent, &topt);
    if (ret != 0) {
        out("tls: cannot be set up for identity ");
        out_u(options.identity);
        out(" (is it provisioned, with its private key?): ");
        out_error_code(ret);
        out("\n");
    }
    return ret;
}

static int pending(int ret)
{
    return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE ||
           ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET;
}

/* Guest nanoseconds spent inside stapler_tls_session_handshake() in the current session:
 * under -icount shift=0 the instructions our side executed for the handshake (its calls
 * never wait: the transport is non-blocking), the peer's and the network's excluded. */
static uint64_t handshake_ns;

static void report_handshake(const char *role, uint32_t n, int ret, uint64_t ms)
{
    out("tls ");
    out(role);
    out(" handshake ");
    out_u(n);
    out(": ");
    if (ret == 0) {
        out(mbedtls_ssl_get_version(&session.ssl));
        out(" ");
        out(mbedtls_ssl_get_ciphersuite(&session.ssl));
        out(session.resumed ? " (resumed); " : "; ");
    } else {
        out("FAILED: ");
        out(stapler_tls_error_slug(ret));
        out(" (");
        out_error_code(ret);
        out("); ");
    }
    if (options.by_name && session.config != NULL && session.config->options.endpoint == MBEDTLS_SSL_IS_SERVER) {
        out("identity ");
        out_u(session.identity);
        out("; ");
    }
    out("our staple: ");
    out(stapler_agent_handshake_outcome_name(stapler_tls_session_outcome(&session)));
    out(" (");
    out_u((uint32_t) session.staple_sent);
    out(" bytes); ");
    out_u((uint32_t) ms);
    out(" ms; ");
    out_u((uint32_t) handshake_ns);
    out(" ns in the handshake calls\n");
}

/* Handshake, one line of application data, and (as a client) the server's answer, which
 * is where a TLS 1.3 server's verdict on our certificate and staple arrives. */
static int run_session(const char *role, int connection, const char *server_name, uint32_t n)
{
    static const unsigned char hello[] = "stapler firmware: stapled handshake complete\n";
    const uint64_t start = now_ms();
    const uint64_t deadline = start + HANDSHAKE_TIMEOUT_MS;
    int ret = stapler_tls_session_init(&session, &tls_config, &port, connection, server_name);

    handshake_ns = 0;
    while (ret == 0 || pending(ret)) {
        const uint64_t entered = board->nanos();

        ret = stapler_tls_session_handshake(&session);
        handshake_ns += board->nanos() - entered;
        if (!pending(ret) || now_ms() > deadline) {
            break;
        }
        step();
    }
    if (pending(ret)) {
        ret = STAPLER_PORT_ERR_TIMEOUT;
    }
    if (ret == 0) {
        int w;
        do {
            w = stapler_tls_session_write(&session, hello, sizeof(hello) - 1u);
            if (pending(w)) {
                step();
            }
        } while (pending(w) && now_ms() < deadline);
        ret = w < 0 ? w : 0;
    }
    if (ret == 0 && server_name != NULL) {
        unsigned char reply[128];
        const uint64_t until = now_ms() + 3000u;
        int r;

        do {
            r = stapler_tls_session_read(&session, reply, sizeof(reply));
            if (pending(r)) {
                step();
            }
        } while (pending(r) && now_ms() < until);
        if (r < 0 && !pending(r) && r != MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            ret = r; /* the server refused us after all */
        }
    }
    if (ret == 0 && server_name != NULL) {
        size_t current, peak;
        stapler_mbedtls_platform_arena_usage(&current, &peak);
        out("tls client: Mbed TLS arena peak ");
        out_u((uint32_t) peak);
        out(" bytes of ");
        out_u(CONFIG_STAPLER_MBEDTLS_ARENA_SIZE);
        out("\n");
    }
    report_handshake(role, n, ret, now_ms() - start);
    stapler_tls_session_free(&session);
    {
        const uint64_t until = now_ms() + 100u; /* close_notify and FIN out */
        while (now_ms() < until) {
            step();
        }
    }
    port.transport.close(port.context, connection);
    if (ret == 0) {
        handshakes_ok++;
    } else {
        handshakes_failed++;
    }
    return ret;
}

static void run_client(void)
{
    const char *name = options.servername != NULL ? options.servername : options.connect_host;
    uint32_t n;

    if (tls_setup(MBEDTLS_SSL_IS_CLIENT) != 0) {
        handshakes_failed += options.handshakes;
        return;
    }
    for (n = 1; n <= options.handshakes; n++) {
        const uint64_t deadline = now_ms() + CONNECT_TIMEOUT_MS;
        int connection = port.transport.connect(port.context, options.connect_host, options.connect_port);
        int status = connection < 0 ? connection : 0;

        while (status == 0 && now_ms() < deadline) {
            step();
            status = port.transport.status(port.context, connection);
        }
        if (status != 1) {
            out("tls client handshake ");
            out_u(n);
            out(": FAILED: cannot connect to ");
            out(options.connect_host);
            out(": ");
            out_error(status == 0 ? STAPLER_PORT_ERR_TIMEOUT : status);
            out("\n");
            if (connection >= 0) {
                port.transport.close(port.context, connection);
            }
            handshakes_failed++;
            continue;
        }
        (void) run_session("client", connection, name, n);
    }
    stapler_tls_config_free(&tls_config);
    mbedtls_x509_crt_free(&trust);
}

static void run_server(void)
{
    uint32_t n = 0;
    int ret;

    if (tls_setup(MBEDTLS_SSL_IS_SERVER) != 0) {
        handshakes_failed += options.accept;
        return;
    }
    ret = stapler_lwip_transport_listen(options.serve_port);
    if (ret != 0) {
        out("tls server: cannot listen: ");
        out_error(ret);
        out("\n");
        handshakes_failed += options.accept;
        stapler_tls_config_free(&tls_config);
        return;
    }
    out("tls server: listening on port ");
    out_u(options.serve_port);
    out(" for ");
    out_u(options.accept);
    out(" handshake(s)\n");
    while (n < options.accept) {
        const int connection = stapler_lwip_transport_accept();

        if (connection < 0) {
            step();
            continue;
        }
        n++;
        (void) run_session("server", connection, NULL, n);
    }
    stapler_lwip_transport_unlisten();
    stapler_tls_config_free(&tls_config);
}

/* ---- Summary --------------------------------------------------------------------------- */

static void summary(void)
{
    stapler_app_counters_t counters;
    size_t current, peak;
    unsigned i;

    board->counters(&counters);
    out("summary:\n");
    for (i = 0; i < agent.identity_count; i++) {
        stapler_identity_status_t st;

        (void) stapler_agent_status(&agent, i, &st);
        out("  identity ");
        out_u(i);
        out(": ");
        out(stapler_agent_state_name(st.state));
        out(st.serving ? ", stapling" : ", not stapling");
        out(st.must_staple ? ", must-staple" : "");
        out("; fetches ok ");
        out_u(st.fetches_ok);
        out(", failed ");
        out_u(st.fetches_failed);
        out("; handshakes");
        for (unsigned o = 0; o < STAPLER_HANDSHAKE_OUTCOMES; o++) {
            out(" ");
            out(stapler_agent_handshake_outcome_name((stapler_handshake_outcome_t) o));
            out("=");
            out_u(st.handshakes_by_outcome[o]);
        }
        out("\n");
    }
    out("  handshakes: ");
    out_u(handshakes_ok);
    out(" ok, ");
    out_u(handshakes_failed);
    out(" failed\n  flash: ");
    out_u(counters.flash_programs);
    out(" programs, ");
    out_u(counters.flash_erases);
    out(" erases, ");
    out_u(counters.flash_nor_violations);
    out(" NOR violations\n  net: ");
    out_u(counters.net_frames_in);
    out(" frames in, ");
    out_u(counters.net_frames_out);
    out(" out, ");
    out_u(counters.net_dropped);
    out(" dropped; ");
    out_u(counters.net_interrupts);
    out(" receive interrupts\n  Mbed TLS arena: peak ");
    stapler_mbedtls_platform_arena_usage(&current, &peak);
    out_u((uint32_t) peak);
    out(" of ");
    out_u(CONFIG_STAPLER_MBEDTLS_ARENA_SIZE);
    out(" bytes\n  uptime: ");
    out_u((uint32_t) now_ms());
    out(" ms\n");
}

/* ---- Boot ------------------------------------------------------------------------------ */

static void report_selftest(void *context, const char *name, int result)
{
    unsigned *failed = context;

    out("  ");
    out(name);
    out(result == 0 ? " ok\n" : " FAILED\n");
    if (result != 0) {
        (*failed)++;
    }
}

static int selftest(void)
{
    unsigned run = 0, failed = 0;
    const uint64_t started = now_ms();
    const int ret = stapler_selftest_run(report_selftest, &failed, &run);

    out("selftest: ");
    out_u(run - failed);
    out(" passed, ");
    out_u(failed);
    out(" failed in ");
    out_u((uint32_t) (now_ms() - started));
    out(" ms\n");
    return ret;
}

/* ---- bench-verify=DIR: instructions per OCSP check on this CPU --------------------------- */

/* One host file into buf (the board's read_file: semihosting on mps2-an386); its length,
 * or -1. */
static long bench_read(const char *dir, const char *name, unsigned char *buf, size_t size)
{
    char path[160];

    if (board->read_file == NULL || strlen(dir) + strlen(name) + 2 > sizeof(path)) {
        return -1;
    }
    strcpy(path, dir);
    strcat(path, "/");
    strcat(path, name);
    return board->read_file(path, buf, size);
}

/* Decode + find + verify, as the agent does for each response (the certificates parsed once
 * beforehand, as the agent keeps them). Under -icount shift=0 guest nanoseconds are
 * instructions; the mean of 3 runs is printed (icount makes them equal). */
static int bench_verify(const char *dir)
{
    static const char *const cases[][4] = {
        { "rsa", "good-rsa-byname.der", "leaf-rsa.der", "ca-rsa.der" },
        { "ec", "good-ec.der", "leaf-ec.der", "ca-ec.der" },
        { "delegated", "delegated-rsa.der", "leaf-rsa.der", "ca-rsa.der" },
    };
    static unsigned char der[CONFIG_STAPLER_RESPONSE_MAX];
    static mbedtls_x509_crt leaf, issuer;
    unsigned i, n, failed = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        stapler_ocsp_response_t response;
        stapler_ocsp_single_t single;
        stapler_ocsp_policy_t policy;
        stapler_ocsp_result_t result;
        uint64_t started, total = 0;
        long len;
        int ret = 0;

        mbedtls_x509_crt_init(&leaf);
        mbedtls_x509_crt_init(&issuer);
        len = bench_read(dir, cases[i][2], der, sizeof(der));
        if (len > 0 && mbedtls_x509_crt_parse_der(&leaf, der, (size_t) len) != 0) {
            ret = STAPLER_ERR_CERT_MALFORMED;
        }
        len = ret != 0 || len < 0 ? len : bench_read(dir, cases[i][3], der, sizeof(der));
        if (ret == 0 && len > 0 && mbedtls_x509_crt_parse_der(&issuer, der, (size_t) len) != 0) {
            ret = STAPLER_ERR_CERT_MALFORMED;
        }
        len = ret != 0 || len < 0 ? len : bench_read(dir, cases[i][1], der, sizeof(der));
        for (n = 0; len > 0 && ret == 0 && n < 3; n++) {
            started = board->nanos();
            ret = stapler_ocsp_response_parse(&response, der, (size_t) len);
            if (ret == 0) {
                ret = stapler_ocsp_response_find(&response, &leaf, &issuer, &single);
            }
            if (ret == 0) {
                stapler_ocsp_policy_init(&policy, single.this_update + 60);
                ret = stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result);
            }
            total += board->nanos() - started;
        }
        out("bench-verify: ");
        out(cases[i][0]);
        if (len < 0 || ret != 0) {
            out(": cannot check (");
            out(len < 0 ? "vectors not readable" : stapler_error_message(ret));
            out(")\n");
            failed++;
        } else {
            out(" ");
            out_u((uint32_t) (total / n));
            out(" ns per check (under -icount shift=0: instructions)\n");
        }
        mbedtls_x509_crt_free(&leaf);
        mbedtls_x509_crt_free(&issuer);
    }
    return failed == 0 ? 0 : -1;
}

static int boot_agent(void)
{
    const char *why = NULL;
    uint64_t ready_ns;
    unsigned i;
    int ret;

    memset(&port, 0, sizeof(port));
    if (board->flash_open(&port.flash, options.flash, &why) != 0) {
        out("flash: ");
        out(options.flash);
        out(": ");
        out(why);
        out("\n");
        return -1;
    }
    if (board->flash_cut_power_at != NULL) {
        board->flash_cut_power_at(options.power_cut_at, STAPLER_APP_EXIT_POWER_CUT);
    }
    if (options.power_cut_at != 0u) {
        out("flash: TEST ONLY: the power will fail during flash operation ");
        out_u(options.power_cut_at);
        out("\n");
    }
    port.monotonic_ms = board_monotonic_ms;
    port.wall_time = board_wall_time;
    port.entropy = board_entropy;
    port.log = board_log;
    stapler_lwip_transport_init(&port.transport);
    wall_base = board->rtc_seconds != NULL ? board->rtc_seconds() : 0;
    if (options.clock_ahead_s != 0u) {
        wall_base += (int64_t) options.clock_ahead_s;
        out("clock: TEST ONLY: running ");
        out_u(options.clock_ahead_s);
        out(" s ahead of the PC's\n");
    }

    ret = stapler_agent_init(&agent, &port);
    if (ret != 0) {
        out("agent: cannot start: ");
        out_error(ret);
        out("\n");
        return -1;
    }
    ready_ns = board->nanos();
    stapler_agent_set_event_handler(&agent, on_event, NULL);
    for (i = 0; i < agent.identity_count; i++) {
        report_identity(i, "boot", 0);
    }
    if (any_serving()) {
        /* Guest time; under QEMU with -icount shift=0 a nanosecond is one instruction. */
        out("boot: staple ready from flash ");
        out_i64((int64_t) ready_ns);
        out(" ns after reset (under -icount shift=0: instructions)\n");
    }
    return 0;
}

int stapler_app_run(const stapler_app_board_t *hooks)
{
    int ret;

    board = hooks;
    out("Stapler " STAPLER_VERSION_STRING " on ");
    out(board->name);
    out("\n");
    out("Mbed TLS " MBEDTLS_VERSION_STRING ", lwIP " LWIP_VERSION_STRING "\n");
    if (parse_cmdline(&options) != 0) {
        return STAPLER_APP_EXIT_USAGE;
    }
    if (stapler_mbedtls_platform_setup(&mbedtls_cfg) != 0) {
        out("fatal: Mbed TLS platform setup failed\n");
        return STAPLER_APP_EXIT_SELFTEST;
    }
    if (options.selftest && selftest() != STAPLER_OK) {
        return STAPLER_APP_EXIT_SELFTEST;
    }
    if (options.bench_verify != NULL) {
        return bench_verify(options.bench_verify) == 0 ? STAPLER_APP_EXIT_OK : STAPLER_APP_EXIT_USAGE;
    }
    if (options.flash == NULL) {
        out("boot: ok (no flash=IMAGE on the command line: nothing to staple)\n");
        return STAPLER_APP_EXIT_OK;
    }
    if (boot_agent() != 0) {
        return STAPLER_APP_EXIT_FLASH;
    }
    if (network_start() != 0) {
        summary();
        return STAPLER_APP_EXIT_NETWORK;
    }
    if (options.connect_host != NULL || options.serve_port != 0u) {
        const uint64_t deadline = now_ms() + (uint64_t) options.wait_s * 1000u;

        while (!any_serving() && now_ms() < deadline) {
            step();
        }
        if (!any_serving()) {
            out("agent: no verified staple within ");
            out_u(options.wait_s);
            out(" s; handshaking without one\n");
        }
        if (options.connect_host != NULL) {
            run_client();
        }
        if (options.serve_port != 0u) {
            run_server();
        }
    }
    if (options.run_s != 0u) {
        const uint64_t until = now_ms() + (uint64_t) options.run_s * 1000u;
        while (now_ms() < until) {
            step();
        }
    }
    stapler_http_exchange_abort(&agent.exchange);
    summary();
    ret = handshakes_failed > 0 ? STAPLER_APP_EXIT_HANDSHAKE : STAPLER_APP_EXIT_OK;
    out(ret == STAPLER_APP_EXIT_OK ? "firmware: done\n" : "firmware: a handshake failed\n");
    return ret;
}
