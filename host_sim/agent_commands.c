/*
 * stapler-sim offer / status: the agent on a flash image file, as the firmware runs it.
 *
 *   offer  --flash FLASH.img --response R.der [--identity N] [--at TIME]
 *          boot the agent, hand it a response as the fetcher would, save the flash.
 *          Exit 0 when accepted, 7 when refused (the reason is printed), 1 bad input.
 *   status --flash FLASH.img [--at TIME] [--json] [--out R.der [--identity N]]
 *          --out writes the response cached for identity N (0) as it would be stapled.
 *          boot the agent (from the cached staples only: no network) and show each
 *          identity. Exit 0, or 1 when the image cannot be used.
 */
#define _POSIX_C_SOURCE 200809L

#include "agent_commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "stapler/agent.h"
#include "stapler/error.h"
#include "stapler_posix_port.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2, EXIT_REFUSED = 7 };

static stapler_posix_platform_t platform;
static stapler_agent_t agent;

static const char *status_name(int status)
{
    return status == STAPLER_OCSP_GOOD ? "good" : status == STAPLER_OCSP_REVOKED ? "revoked" : "unknown";
}

/* Common options: --flash, --at, and the command's own. */
static int boot(const char *flash, const char *at)
{
    int ret;

    if (stapler_posix_platform_open(&platform, flash) != 0) {
        return EXIT_INPUT;
    }
    if (at != NULL && stapler_sim_parse_time(at, &platform.fixed_time) != 0) {
        fprintf(stderr, "stapler-sim: --at takes an RFC 3339 UTC time like 2026-06-01T12:00:00Z\n");
        return EXIT_USAGE;
    }
    ret = stapler_agent_init(&agent, &platform.port);
    if (ret != 0) {
        fprintf(stderr, "stapler-sim: the agent cannot start on '%s': %s\n", flash, stapler_error_message(ret));
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

int stapler_sim_command_offer(int argc, char **argv)
{
    static unsigned char der[CONFIG_STAPLER_RESPONSE_MAX + 1];
    const char *flash = NULL, *response = NULL, *at = NULL;
    unsigned long identity = 0;
    size_t length;
    FILE *f;
    int i, ret;

    for (i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--flash") == 0) {
            flash = argv[i + 1];
        } else if (strcmp(argv[i], "--response") == 0) {
            response = argv[i + 1];
        } else if (strcmp(argv[i], "--at") == 0) {
            at = argv[i + 1];
        } else if (strcmp(argv[i], "--identity") == 0) {
            identity = strtoul(argv[i + 1], NULL, 10);
        } else {
            break;
        }
    }
    if (i != argc || flash == NULL || response == NULL) {
        fprintf(stderr, "usage: stapler-sim offer --flash FLASH.img --response R.der [--identity N] [--at TIME]\n");
        return EXIT_USAGE;
    }
    ret = boot(flash, at);
    if (ret != EXIT_OK) {
        return ret;
    }
    f = fopen(response, "rb");
    if (f == NULL) {
        fprintf(stderr, "stapler-sim offer: cannot open '%s'\n", response);
        return EXIT_INPUT;
    }
    length = fread(der, 1, sizeof(der), f);
    fclose(f);
    ret = stapler_agent_offer(&agent, (unsigned) identity, der, length);
    if (ret != 0) {
        printf("identity %lu: refused: %s (%s)\n", identity, stapler_error_slug(ret), stapler_error_message(ret));
        return EXIT_REFUSED;
    }
    if (stapler_posix_platform_save(&platform) != 0) {
        return EXIT_INPUT;
    }
    printf("identity %lu: accepted and cached in flash (%zu bytes)%s%s\n", identity, length,
           agent.identity[identity].last_error != 0 ? "; but: " : "",
           agent.identity[identity].last_error != 0 ? stapler_error_message(agent.identity[identity].last_error) : "");
    return EXIT_OK;
}

int stapler_sim_command_status(int argc, char **argv)
{
    const char *flash = NULL, *at = NULL, *out = NULL;
    stapler_identity_status_t status;
    char t1[32], t2[32];
    int i, json = 0, ret;
    unsigned id, out_identity = 0;

    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--flash") == 0 && i + 1 < argc) {
            flash = argv[++i];
        } else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
            at = argv[++i];
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--identity") == 0 && i + 1 < argc) {
            out_identity = (unsigned) strtoul(argv[++i], NULL, 10);
        } else {
            flash = NULL;
            break;
        }
    }
    if (flash == NULL) {
        fprintf(stderr, "usage: stapler-sim status --flash FLASH.img [--at TIME] [--json] [--out R.der [--identity N]]\n");
        return EXIT_USAGE;
    }
    ret = boot(flash, at);
    if (ret != EXIT_OK) {
        return ret;
    }
    if (out != NULL) {
        const unsigned char *der;
        size_t len;
        FILE *f;

        if (out_identity >= agent.identity_count ||
            stapler_agent_staple(&agent, out_identity, &der, &len) != 0) {
            fprintf(stderr, "stapler-sim status: identity %u has no staple to write to '%s'\n", out_identity, out);
            return EXIT_INPUT;
        }
        f = fopen(out, "wb");
        if (f == NULL || (fwrite(der, 1, len, f) != len) + (fclose(f) != 0) != 0) {
            fprintf(stderr, "stapler-sim status: cannot write '%s'\n", out);
            return EXIT_INPUT;
        }
    }
    {
        const int64_t now = stapler_agent_now(&agent, &i);

        /* Agent-wide: the same in every identity's status. */
        (void) stapler_agent_status(&agent, 0, &status);
        if (json) {
            printf("{\"time\":\"%s\",\"time_trusted\":%s,", stapler_sim_format_time(now, t1, sizeof(t1)),
                   i ? "true" : "false");
            if (status.time_floor != 0) {
                printf("\"time_floor\":\"%s\",", stapler_sim_format_time(status.time_floor, t1, sizeof(t1)));
            } else {
                printf("\"time_floor\":null,");
            }
            if (status.time_mark != 0) {
                printf("\"time_mark\":\"%s\",", stapler_sim_format_time(status.time_mark, t1, sizeof(t1)));
            } else {
                printf("\"time_mark\":null,");
            }
            printf("\"time_contradictions\":%u,\"identities\":[", (unsigned) status.time_contradictions);
        } else {
            printf("time: %s (%s)", stapler_sim_format_time(now, t1, sizeof(t1)),
                   i ? "trusted" : "not trusted: a lower bound");
            if (status.time_floor != 0) {
                printf("; floor %s", stapler_sim_format_time(status.time_floor, t2, sizeof(t2)));
            }
            if (status.time_contradictions != 0) {
                printf("; %u contradiction(s): the trusted clock read earlier than the agent can prove",
                       (unsigned) status.time_contradictions);
            }
            printf("\n");
        }
    }
    for (id = 0; id < agent.identity_count; id++) {
        stapler_agent_status(&agent, id, &status);
        if (json) {
            printf("%s{\"index\":%u,\"state\":\"%s\",\"serving\":%s,", id ? "," : "", id,
                   stapler_sim_state_name(status.state), status.serving ? "true" : "false");
            if (status.this_update != 0) {
                printf("\"cert_status\":\"%s\",\"this_update\":\"%s\",", status_name(status.cert_status),
                       stapler_sim_format_time(status.this_update, t1, sizeof(t1)));
                printf("\"produced_at\":\"%s\",", stapler_sim_format_time(status.produced_at, t1, sizeof(t1)));
            } else {
                printf("\"cert_status\":null,\"this_update\":null,\"produced_at\":null,");
            }
            if (status.has_next_update) {
                printf("\"next_update\":\"%s\",", stapler_sim_format_time(status.next_update, t2, sizeof(t2)));
            } else {
                printf("\"next_update\":null,");
            }
            printf("\"remaining_s\":%lld,\"consecutive_failures\":%u,\"next_attempt_in_s\":%lld,"
                   "\"fetches_ok\":%u,\"fetches_failed\":%u,\"fetches_by_class\":{",
                   (long long) status.remaining, (unsigned) status.consecutive_failures,
                   (long long) status.next_attempt_in, (unsigned) status.fetches_ok,
                   (unsigned) status.fetches_failed);
            for (i = 0; i < STAPLER_FETCH_CLASSES; i++) {
                printf("%s\"%s\":%u", i ? "," : "", stapler_agent_fetch_class_name((stapler_fetch_class_t) i),
                       (unsigned) status.fetches_by_class[i]);
            }
            printf("},\"must_staple\":%s,\"handshakes_stapled\":%u,\"handshakes_unstapled\":%u,"
                   "\"handshakes_by_outcome\":{",
                   status.must_staple ? "true" : "false", (unsigned) status.handshakes_stapled,
                   (unsigned) status.handshakes_unstapled);
            for (i = 0; i < STAPLER_HANDSHAKE_OUTCOMES; i++) {
                printf("%s\"%s\":%u", i ? "," : "",
                       stapler_agent_handshake_outcome_name((stapler_handshake_outcome_t) i),
                       (unsigned) status.handshakes_by_outcome[i]);
            }
            printf("},");
            if (status.last_error != 0) {
                /* The messages are plain ASCII without quotes or backslashes. */
                printf("\"last_error\":\"%s\",\"last_error_message\":\"%s\"}",
                       stapler_error_slug(status.last_error), stapler_error_message(status.last_error));
            } else {
                printf("\"last_error\":null,\"last_error_message\":null}");
            }
        } else {
            printf("identity %u: %s%s%s\n", id, stapler_sim_state_name(status.state),
                   status.serving ? " (staple ready for the first handshake)" : "",
                   status.must_staple ? "; must-staple certificate" : "");
            if (status.this_update != 0) {
                printf("  response: %s, thisUpdate %s, nextUpdate %s, %lld s left\n",
                       status_name(status.cert_status),
                       stapler_sim_format_time(status.this_update, t1, sizeof(t1)),
                       status.has_next_update ? stapler_sim_format_time(status.next_update, t2, sizeof(t2)) : "none",
                       (long long) status.remaining);
            }
            if (status.last_error != 0) {
                printf("  last error: %s: %s\n", stapler_error_slug(status.last_error),
                       stapler_error_message(status.last_error));
            }
            if (status.state != STAPLER_IDENTITY_NOT_APPLICABLE && status.state != STAPLER_IDENTITY_UNUSED) {
                printf("  next fetch in %lld s; %u consecutive failures\n",
                       (long long) status.next_attempt_in, (unsigned) status.consecutive_failures);
            }
        }
    }
    if (json) {
        printf("]}\n");
    }
    return EXIT_OK;
}
