/*
 * stapler-sim: Stapler on a PC. The same core and lwIP code as the firmware, on the POSIX
 * port. Subcommands grow with the product; each one exits 0 on success, 1 when the work
 * failed and 2 on a usage error.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lwip/init.h"
#include "mbedtls/build_info.h"

#include "stapler/config.h"
#include "stapler/error.h"
#include "stapler/selftest.h"
#include "stapler/version.h"
#include "stapler_mbedtls_platform.h"
#include "stapler_posix.h"
#include "agent_commands.h"
#include "ocsp_commands.h"
#include "run_command.h"
#include "tls_commands.h"
#include "provision.h"
#include "stapler_sim_build_info.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static int command_help(void)
{
    printf("usage: stapler-sim <command>\n"
           "\n"
           "commands:\n"
           "  version    Stapler's version, the dependency versions and where they came from\n"
           "  config     the Kconfig configuration this simulator was built with\n"
           "  selftest   run the cryptographic known-answer tests on this build\n"
           "  request --cert C --issuer I [--sha256 | --sha1] [--nonce] [--out REQ.der] [--url URL]\n"
           "             encode an OCSP request; prints the GET URL (RFC 6960 A.1) on stdout.\n"
           "             The URL defaults to the certificate's AIA OCSP responder. CertIDs are\n"
           "             SHA-256 (RFC 9919) unless --sha1 (or Kconfig) says SHA-1. An issuer\n"
           "             Mbed TLS refuses for its own signature (an md5WithRSA root) is used\n"
           "             for its name and key, with a note, here and in inspect, fetch, provision\n"
           "  inspect --response R.der --cert C --issuer I [--at TIME] [--nonce HEX] [--json]\n"
           "             decode and verify an OCSP response for C (PEM or DER), at TIME\n"
           "             (RFC 3339 UTC, e.g. 2026-06-01T12:00:00Z; default now). Exit status:\n"
           "             0 verified and good, 3 verified revoked, 4 verified unknown,\n"
           "             5 responder error status, 6 not a well-formed OCSP response,\n"
           "             7 well-formed but not verified, 1 unreadable input, 2 usage error\n"
           "  provision --out FLASH.img --cert CHAIN --issuer CA [--key KEY | --key-handle N]\n"
           "            [--url URL] [--trust TLS-CA] [--cert ... for the next identity]\n"
           "             write a flash image with the credential store (docs/SPEC.md); the\n"
           "             chain must verify up to CA and the key match the certificate.\n"
           "             --url is asked first, before the certificate's AIA URLs\n"
           "  offer --flash FLASH.img --response R.der [--identity N] [--at TIME]\n"
           "             give the agent a response as the fetcher would: kept only if it\n"
           "             verifies and is newer, then cached in the image (exit 0, or 7)\n"
           "  status --flash FLASH.img [--at TIME] [--json] [--out R.der [--identity N]]\n"
           "             boot the agent from the image (cache only, no network); show it;\n"
           "             --out writes the cached response that would be stapled\n"
           "  fetch --cert C --issuer I [--url U] [--out R.der] [--proxy HOST:PORT] [--nonce]\n"
           "        [--sha256 | --sha1] [--json] [--dns IP] [--tap IF --ip A] [--idle-timeout MS]\n"
           "        [--total-timeout MS]\n"
           "             fetch over the simulator's lwIP network (libslirp: this PC is 10.0.2.2)\n"
           "             and verify; a SHA-256 CertID refused (unauthorized, malformedRequest) is\n"
           "             asked again with SHA-1 unless --sha256 insists. Exits as inspect (7 for\n"
           "             a responder that ignored --nonce), or 8 when no response arrived (the\n"
           "             error class says why: dns, connect, timeout, http_4xx, ...). A GET\n"
           "             the responder refuses (4xx, or a redirect) is asked again by POST\n"
           "  run --flash FLASH.img [--for DURATION] [--fetches N] [--speed N] [--json]\n"
           "      [--clock-file F] [--proxy HOST:PORT] [--dns IP] [--tap IF --ip A]\n"
           "             the agent itself: boot from the image, fetch, refresh, cache; one\n"
           "             status line per event. --speed N jumps idle time N times faster\n"
           "  serve --flash FLASH.img --port P [--handshakes N] [--verify-client --trust CA]\n"
           "        [--client-staple ignore|check|require] [--tls12|--tls13] [--no-fetch] [--json]\n"
           "             TLS server on the simulator's lwIP, stapling the cached response; the\n"
           "             PC reaches it at 127.0.0.1:P. A must-staple certificate without a\n"
           "             valid staple is not presented: alert handshake_failure, logged.\n"
           "             Exit 9 when a handshake failed. --threads N (threaded build, preset\n"
           "             host-threads): N server threads take clients at once, the agent\n"
           "             steps in a thread of its own. --identity N presents identity N;\n"
           "             --by-name the identity whose certificate is for the client's SNI\n"
           "             name (N when it names none or an unknown one)\n"
           "  connect --flash FLASH.img --host H --port P --trust CA [--servername NAME]\n"
           "        [--server-staple ignore|check|require] [--no-client-cert] [--tls12|--tls13]\n"
           "        [--handshakes N] [--resume]\n"
           "             TLS client with the device certificate (client authentication,\n"
           "             stapled when the server asks); checks the server's staple.\n"
           "             --resume: each handshake resumes the one before, while the\n"
           "             server's staple that authenticated it is still valid\n"
           "  help       this text\n");
    return EXIT_OK;
}

static int command_version(void)
{
    printf("stapler-sim %s (%s, %s)\n", STAPLER_VERSION_STRING, STAPLER_SIM_COMPILER,
           STAPLER_SIM_BUILD_TYPE[0] != '\0' ? STAPLER_SIM_BUILD_TYPE : "no build type");
    printf("  Mbed TLS %-8s %s\n", MBEDTLS_VERSION_STRING, STAPLER_SIM_MBEDTLS_SOURCE);
    printf("  lwIP     %-8s %s\n", LWIP_VERSION_STRING, STAPLER_SIM_LWIP_SOURCE);
    return EXIT_OK;
}

static int command_config(void)
{
    printf("identities         %d\n", STAPLER_MAX_IDENTITIES);
    printf("response max       %u bytes (staple RAM %u bytes)\n", STAPLER_RESPONSE_MAX,
           STAPLER_STAPLE_RAM);
    printf("clock skew         %d s\n", STAPLER_CLOCK_SKEW_S);
    printf("mbedtls arena      %u bytes\n", (unsigned) STAPLER_MBEDTLS_ARENA_SIZE);
    printf("algorithms        %s%s%s\n", STAPLER_IS_ENABLED(CONFIG_STAPLER_ALGO_RSA) ? " rsa" : "",
           STAPLER_IS_ENABLED(CONFIG_STAPLER_ALGO_ECDSA_P256) ? " ecdsa-p256" : "",
           STAPLER_IS_ENABLED(CONFIG_STAPLER_ALGO_ECDSA_P384) ? " ecdsa-p384" : "");
    printf("sha1 signatures    %s\n",
           STAPLER_IS_ENABLED(CONFIG_STAPLER_ALLOW_SHA1_SIGNATURES) ? "accepted" : "rejected");
    printf("pem input          %s\n", STAPLER_IS_ENABLED(CONFIG_STAPLER_PEM) ? "yes" : "no");
    printf("log level          %d\n", CONFIG_STAPLER_LOG_LEVEL);
    return EXIT_OK;
}

typedef struct {
    unsigned passed;
    unsigned failed;
} selftest_tally_t;

static void selftest_report(void *context, const char *name, int result)
{
    selftest_tally_t *tally = context;

    if (result == 0) {
        tally->passed++;
        printf("  %-8s ok\n", name);
    } else {
        tally->failed++;
        printf("  %-8s FAILED (%d)\n", name, result);
    }
}

static int command_selftest(void)
{
    selftest_tally_t tally = { 0, 0 };
    unsigned run = 0;
    int ret;

    ret = stapler_selftest_run(selftest_report, &tally, &run);
    printf("selftest: %u passed, %u failed\n", tally.passed, tally.failed);
    if (ret != STAPLER_OK) {
        fprintf(stderr, "stapler-sim: %s: %s\n", stapler_error_name(ret), stapler_error_message(ret));
        return EXIT_FAILED;
    }
    return run > 0 ? EXIT_OK : EXIT_FAILED;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
    } with_options[] = {
        { "request", stapler_sim_command_request },
        { "inspect", stapler_sim_command_inspect },
        { "fetch", stapler_sim_command_fetch },
        { "run", stapler_sim_command_run },
        { "serve", stapler_sim_command_serve },
        { "connect", stapler_sim_command_connect },
        { "provision", stapler_sim_command_provision },
        { "offer", stapler_sim_command_offer },
        { "status", stapler_sim_command_status },
    };
    static const struct {
        const char *name;
        int (*run)(void);
    } commands[] = {
        { "help", command_help },       { "--help", command_help },
        { "version", command_version }, { "config", command_config },
        { "selftest", command_selftest },
    };
    size_t i;

    /* A peer that closes while slirp still writes to it must not kill the simulator
     * (SIGPIPE): the write fails with EPIPE and the connection is reset instead. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        command_help();
        return EXIT_USAGE;
    }
    if (stapler_posix_mbedtls_setup() != 0) {
        fprintf(stderr, "stapler-sim: could not set up Mbed TLS's memory arena\n");
        return EXIT_FAILED;
    }
    for (i = 0; i < sizeof(with_options) / sizeof(with_options[0]); i++) {
        if (strcmp(argv[1], with_options[i].name) == 0) {
            return with_options[i].run(argc, argv);
        }
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            if (argc > 2) {
                fprintf(stderr, "stapler-sim: '%s' takes no arguments\n", argv[1]);
                return EXIT_USAGE;
            }
            return commands[i].run();
        }
    }
    fprintf(stderr, "stapler-sim: unknown command '%s'; 'stapler-sim help' lists the commands\n",
            argv[1]);
    return EXIT_USAGE;
}
