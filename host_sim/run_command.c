/*
 * stapler-sim run: the agent itself on a provisioned flash image, with the real lwIP stack:
 * boots (serving cached staples before any network), fetches and refreshes on schedule,
 * persists every accepted response to the image, and prints a status line per event.
 *
 *   run --flash FLASH.img [--for DURATION] [--fetches N] [--speed N] [--clock-file F]
 *       [--proxy HOST:PORT] [--json] [--verbose]
 *       [--dns IP] [--tap IFNAME --ip A [--netmask M] [--gateway G]]
 *
 * --speed N: time acceleration. While nothing is in flight, the agent's clocks (wall and
 * monotonic) jump ahead through its idle waits, N times faster than real time; network
 * exchanges always run in real time, so lwIP's and the HTTP timeouts stay true. The offset
 * of the simulated clock from the real one is written to --clock-file, so a test responder
 * can sign responses in the simulated time; a later run with the same file resumes that
 * time (a reboot of a device whose clock kept running). DURATION: seconds, or a number with s/m/h/d.
 * Exit: 0 when it ran to the end, 1 when the image cannot be used, 2 usage.
 */
#define _POSIX_C_SOURCE 200809L

#include "run_command.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "net.h"
#include "stapler/agent.h"
#include "stapler/error.h"
#include "stapler_lwip_transport.h"
#include "stapler_posix_port.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2 };

static stapler_posix_platform_t platform;
static stapler_port_t port;
static stapler_agent_t agent;
static int64_t offset_ms;             /* simulated minus real time */
static const char *clock_file;
static int json;
static volatile sig_atomic_t stop_requested;

static uint64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static int64_t real_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t sim_monotonic_ms(void *context)
{
    (void) context;
    return real_ms() + (uint64_t) offset_ms;
}

static int sim_wall_time(void *context, int64_t *utc_seconds, int *trusted)
{
    (void) context;
    *utc_seconds = (real_wall_ms() + offset_ms) / 1000;
    *trusted = 1;
    return 0;
}

static void skip_ahead(int64_t ms)
{
    offset_ms += ms;
    if (clock_file != NULL) {
        FILE *f = fopen(clock_file, "w");
        if (f != NULL) {
            fprintf(f, "%.3f\n", (double) offset_ms / 1000.0);
            fclose(f);
        }
    }
}

static const char *event_name(stapler_event_t event)
{
    switch (event) {
        case STAPLER_EVENT_RENEWED: return "renewed";
        case STAPLER_EVENT_REVOKED: return "revoked";
        case STAPLER_EVENT_EXPIRING: return "expiring";
        default: return "failed";
    }
}

/* One line about an identity: what happened (`what`), and where it stands now. */
static void report(unsigned identity, const char *what, int result)
{
    stapler_identity_status_t st;
    char now[32], next_update[32];

    stapler_agent_status(&agent, identity, &st);
    stapler_sim_format_time(st.now, now, sizeof(now));
    if (json) {
        printf("{\"time\":\"%s\",\"event\":\"%s\",\"identity\":%u,\"state\":\"%s\",\"serving\":%s,", now, what,
               identity, stapler_sim_state_name(st.state), st.serving ? "true" : "false");
        if (strcmp(what, "fetch") == 0) {
            printf("\"fetch_class\":\"%s\",\"error\":%s%s%s,\"http_status\":%d,\"method\":\"%s\","
                   "\"get_refused\":%s,",
                   stapler_agent_fetch_class_name(stapler_agent_fetch_class(result)), result ? "\"" : "",
                   result ? stapler_error_slug(result) : "null", result ? "\"" : "", st.last_http_status,
                   st.last_fetch_post ? "POST" : "GET", st.last_get_refused ? "true" : "false");
            printf("\"certid\":\"%s\",", st.certid_sha1 ? "SHA-1" : "SHA-256");
        }
        printf("\"next_update\":%s%s%s,\"remaining_s\":%lld,\"next_attempt_in_s\":%lld,\"consecutive_failures\":%u,"
               "\"fetches_ok\":%u,\"fetches_failed\":%u}\n",
               st.has_next_update ? "\"" : "",
               st.has_next_update ? stapler_sim_format_time(st.next_update, next_update, sizeof(next_update)) : "null",
               st.has_next_update ? "\"" : "", (long long) st.remaining, (long long) st.next_attempt_in,
               (unsigned) st.consecutive_failures, (unsigned) st.fetches_ok, (unsigned) st.fetches_failed);
    } else {
        printf("[%s] identity %u: %-8s %s", now, identity, what, stapler_sim_state_name(st.state));
        if (strcmp(what, "fetch") == 0) {
            printf(" (fetch %s%s%s", stapler_agent_fetch_class_name(stapler_agent_fetch_class(result)),
                   result ? ": " : "", result ? stapler_error_slug(result) : "");
            if (st.last_http_status != 0) {
                printf(", HTTP %d", st.last_http_status);
            }
            if (st.last_get_refused) {
                printf(", GET refused: asked by POST");
            }
            if (st.certid_sha1) {
                printf(", CertID SHA-1");
            }
            printf(")");
        }
        if (st.serving) {
            printf(", stapling; %lld s of validity left", (long long) st.remaining);
        } else if (st.state != STAPLER_IDENTITY_NOT_APPLICABLE) {
            printf(", NOT stapling");
        }
        if (st.state != STAPLER_IDENTITY_NOT_APPLICABLE) {
            printf("; next fetch in %lld s", (long long) st.next_attempt_in);
        }
        printf("\n");
    }
    fflush(stdout);
}

static void on_event(void *context, unsigned identity, stapler_event_t event)
{
    (void) context;
    report(identity, event_name(event), 0);
}

static void on_signal(int sig)
{
    (void) sig;
    stop_requested = 1;
}

/* "90", "90s", "15m", "12h", "7d" -> seconds; -1 if not a duration. */
static long long parse_duration(const char *text)
{
    char *end;
    long long value = strtoll(text, &end, 10);

    if (end == text || value < 0) {
        return -1;
    }
    switch (*end) {
        case '\0': case 's': break;
        case 'm': value *= 60; break;
        case 'h': value *= 3600; break;
        case 'd': value *= 86400; break;
        default: return -1;
    }
    return (end[0] != '\0' && end[1] != '\0') ? -1 : value;
}

int stapler_sim_command_run(int argc, char **argv)
{
    stapler_sim_net_options_t net;
    const char *flash = NULL, *proxy = NULL;
    long long duration_s = -1;
    unsigned long fetch_limit = 0, speed = 1, fetches = 0;
    uint64_t start_ms, first_staple_ms = 0;
    int64_t end_ms;
    unsigned i;
    int ret, verbose = 0, a;

    memset(&net, 0, sizeof(net));
    for (a = 2; a < argc; a++) {
        const char *opt = argv[a], *value = a + 1 < argc ? argv[a + 1] : NULL;

        if (strcmp(opt, "--json") == 0) {
            json = 1;
            continue;
        }
        if (strcmp(opt, "--verbose") == 0) {
            verbose = 1;
            continue;
        }
        if (value == NULL) {
            fprintf(stderr, "stapler-sim run: %s needs a value (or is unknown: 'stapler-sim help')\n", opt);
            return EXIT_USAGE;
        }
        a++;
        if (strcmp(opt, "--flash") == 0) flash = value;
        else if (strcmp(opt, "--proxy") == 0) proxy = value;
        else if (strcmp(opt, "--clock-file") == 0) clock_file = value;
        else if (strcmp(opt, "--dns") == 0) net.dns = value;
        else if (strcmp(opt, "--tap") == 0) net.tap = value;
        else if (strcmp(opt, "--ip") == 0) net.address = value;
        else if (strcmp(opt, "--netmask") == 0) net.netmask = value;
        else if (strcmp(opt, "--gateway") == 0) net.gateway = value;
        else if (strcmp(opt, "--fetches") == 0) fetch_limit = strtoul(value, NULL, 10);
        else if (strcmp(opt, "--speed") == 0) speed = strtoul(value, NULL, 10);
        else if (strcmp(opt, "--for") == 0) {
            duration_s = parse_duration(value);
            if (duration_s < 0) {
                fprintf(stderr, "stapler-sim run: --for takes seconds or a number with s, m, h or d, not '%s'\n", value);
                return EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "stapler-sim run: unknown option '%s'; 'stapler-sim help' lists them\n", opt);
            return EXIT_USAGE;
        }
    }
    if (flash == NULL || speed == 0) {
        fprintf(stderr, "usage: stapler-sim run --flash FLASH.img [--for DURATION] [--fetches N] [--speed N] "
                        "[--clock-file F] [--proxy HOST:PORT] [--json] [--dns IP] [--tap IF --ip A]\n");
        return EXIT_USAGE;
    }
    if (stapler_posix_platform_open(&platform, flash) != 0) {
        return EXIT_INPUT;
    }
    port = platform.port;
    port.monotonic_ms = sim_monotonic_ms;
    port.wall_time = sim_wall_time;
    stapler_lwip_transport_init(&port.transport);
    if (clock_file != NULL) {
        /* Resume the simulated clock where the last run left it (a reboot, not a time warp). */
        FILE *f = fopen(clock_file, "r");
        double seconds = 0;

        if (f != NULL) {
            if (fscanf(f, "%lf", &seconds) == 1 && seconds > 0) {
                offset_ms = (int64_t) (seconds * 1000.0);
            }
            fclose(f);
        }
    }
    skip_ahead(0);
    start_ms = real_ms();

    /* Boot before any network, as the firmware does: cached staples are served at once. */
    ret = stapler_agent_init(&agent, &port);
    if (ret != 0) {
        fprintf(stderr, "stapler-sim run: the agent cannot start on '%s': %s\n", flash, stapler_error_message(ret));
        return EXIT_INPUT;
    }
    if (proxy != NULL && stapler_agent_set_proxy(&agent, proxy) != 0) {
        fprintf(stderr, "stapler-sim run: --proxy is too long\n");
        return EXIT_USAGE;
    }
    stapler_agent_set_event_handler(&agent, on_event, NULL);
    for (i = 0; i < agent.identity_count; i++) {
        report(i, "boot", 0);
    }
    net.verbose = verbose;
    if (stapler_sim_net_start(&net, 10000) != 0) {
        return EXIT_INPUT;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    end_ms = duration_s >= 0 ? (int64_t) sim_monotonic_ms(NULL) + duration_s * 1000 : INT64_MAX;

    while (!stop_requested && (int64_t) sim_monotonic_ms(NULL) < end_ms && (fetch_limit == 0 || fetches < fetch_limit)) {
        uint32_t wait = 0;

        if (stapler_agent_step(&agent, &wait) == 1) {
            const unsigned fetching = agent.fetch_identity;
            const int result = agent.fetch_result;

            fetches++;
            report(fetching, "fetch", result);
            if (result == 0 && first_staple_ms == 0) {
                first_staple_ms = real_ms() - start_ms;
                if (!json) {
                    printf("first verified staple fetched and cached %llu ms after start\n",
                           (unsigned long long) first_staple_ms);
                }
            }
            if (stapler_posix_platform_save(&platform) != 0) {
                return EXIT_INPUT;
            }
            continue;
        }
        if (agent.fetching || speed == 1) {
            stapler_sim_net_poll(agent.fetching ? wait : (wait > 1000u ? 1000u : wait));
        } else {
            /* Idle: let a little real time pass for the network, then jump the rest. */
            int64_t left = end_ms - (int64_t) sim_monotonic_ms(NULL);
            int64_t jump = (int64_t) wait;
            const uint64_t before = real_ms();

            if (jump > left) {
                jump = left > 0 ? left : 0;
            }
            stapler_sim_net_poll((uint32_t) (jump / (int64_t) speed > 200 ? 200 : jump / (int64_t) speed));
            jump -= (int64_t) (real_ms() - before);
            if (jump > 0) {
                skip_ahead(jump);
            }
        }
    }
    for (i = 0; i < agent.identity_count; i++) {
        report(i, "end", 0);
    }
    stapler_http_exchange_abort(&agent.exchange);
    stapler_sim_net_stop();
    return stapler_posix_platform_save(&platform) == 0 ? EXIT_OK : EXIT_INPUT;
}
