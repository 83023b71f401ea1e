/*
 * stapler-sim request / inspect: the OCSP codec from the command line.
 *
 *   request --cert C --issuer I [--sha256 | --sha1] [--nonce] [--out FILE] [--url URL]
 *   inspect --response R --cert C --issuer I [--at TIME] [--nonce HEX] [--json]
 *
 * Exit status of inspect (also in `stapler-sim help`):
 *   0 verified and good     3 verified, revoked     4 verified, unknown
 *   5 responder error status (tryLater, unauthorized, ...)
 *   6 not a well-formed OCSP response        7 well-formed but not verified (this
 *     includes an unknown critical extension: well-formed, but not acceptable)
 *   1 an input could not be read             2 usage error
 *
 *   fetch --cert C --issuer I [--url U] [--out FILE] [--proxy HOST:PORT] [--sha256 | --sha1]
 *         [--nonce] [--json] [--verbose] [--dns IP] [--tap IFNAME --ip A [--netmask M]
 *         [--gateway G]] [--idle-timeout MS] [--total-timeout MS]   (default: Kconfig's)
 *   exits like inspect, and 8 when no response arrived (DNS, connect, timeout, HTTP
 *   status, content type, size): the error class says which.
 *
 * CertIDs: SHA-256 by default (CONFIG_STAPLER_OCSP_CERTID_SHA256, RFC 9919); fetch asks again
 * once with SHA-1 when the responder answers unauthorized or malformedRequest, as the agent
 * does. --sha256 sends SHA-256 only (no fallback), --sha1 SHA-1 only.
 */
#define _POSIX_C_SOURCE 200809L

#include "ocsp_commands.h"
#include "cli_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "mbedtls/x509_crt.h"

#include "stapler/cert.h"
#include "stapler/config.h"
#include "stapler/error.h"
#include "stapler/agent.h"
#include "stapler/http.h"
#include "stapler/ocsp.h"
#include "stapler_lwip_transport.h"
#include "net.h"

/* Nonce length for requests: Kconfig's when nonces are configured, else the 32 octets RFC 9654
 * asks clients to send, for --nonce. */
#if defined(CONFIG_STAPLER_OCSP_NONCE_LEN)
#define STAPLER_REQUEST_NONCE_LEN CONFIG_STAPLER_OCSP_NONCE_LEN
#else
#define STAPLER_REQUEST_NONCE_LEN 32
#endif

enum {
    EXIT_GOOD = 0,
    EXIT_INPUT = 1,
    EXIT_USAGE = 2,
    EXIT_REVOKED = 3,
    EXIT_UNKNOWN = 4,
    EXIT_RESPONDER_ERROR = 5,
    EXIT_MALFORMED = 6,
    EXIT_NOT_VERIFIED = 7,
    EXIT_FETCH_FAILED = 8,
};

static void print_hex(FILE *out, const unsigned char *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        fprintf(out, "%02X", p[i]);
    }
}

static int parse_hex(const char *text, unsigned char *out, size_t max, size_t *len)
{
    size_t n = strlen(text), i;

    if (n == 0 || n % 2 != 0 || n / 2 > max) {
        return -1;
    }
    for (i = 0; i < n / 2; i++) {
        unsigned value;
        if (sscanf(&text[2 * i], "%2x", &value) != 1) {
            return -1;
        }
        out[i] = (unsigned char) value;
    }
    *len = n / 2;
    return 0;
}

/* Option lookup: `--name value` pairs and `--flag`s after the command word. */
typedef struct {
    const char *name;
    int takes_value;
    const char *value; /* or "" for a flag that is present */
} option_t;

static int parse_options(int argc, char **argv, option_t *options, size_t count)
{
    int i;
    size_t j;

    for (i = 2; i < argc; i++) {
        for (j = 0; j < count; j++) {
            if (strcmp(argv[i], options[j].name) == 0) {
                break;
            }
        }
        if (j == count) {
            fprintf(stderr, "stapler-sim %s: unknown option '%s'; 'stapler-sim help' lists them\n",
                    argv[1], argv[i]);
            return -1;
        }
        if (options[j].takes_value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "stapler-sim %s: %s needs a value\n", argv[1], argv[i]);
                return -1;
            }
            options[j].value = argv[++i];
        } else {
            options[j].value = "";
        }
    }
    return 0;
}

static const char *required(const option_t *option, const char *command)
{
    if (option->value == NULL) {
        fprintf(stderr, "stapler-sim %s: %s is required\n", command, option->name);
    }
    return option->value;
}

/* Initialise both (so they can always be released) and load the certificate and its issuer. */
static int load_pair(mbedtls_x509_crt *cert, mbedtls_x509_crt *issuer, const char *cert_path,
                     const char *issuer_path)
{
    mbedtls_x509_crt_init(cert);
    mbedtls_x509_crt_init(issuer);
    if (stapler_sim_load_certificates(cert, cert_path, "certificate") != 0 ||
        stapler_sim_load_issuer(issuer, issuer_path, "issuer certificate") != 0) {
        return -1;
    }
    return 0;
}

int stapler_sim_command_request(int argc, char **argv)
{
    option_t options[] = {
        { "--cert", 1, NULL }, { "--issuer", 1, NULL }, { "--sha256", 0, NULL },
        { "--nonce", 0, NULL }, { "--out", 1, NULL },   { "--url", 1, NULL },
        { "--sha1", 0, NULL },
    };
    mbedtls_x509_crt cert, issuer;
    unsigned char request[STAPLER_OCSP_REQUEST_MAX], nonce[STAPLER_REQUEST_NONCE_LEN];
    char base[512], url[1024];
    const char *aia_url;
    size_t request_len, url_len, aia_len;
    int fits, ret, status = EXIT_INPUT, sha256, use_nonce;

    if (parse_options(argc, argv, options, 7) != 0 || required(&options[0], "request") == NULL ||
        required(&options[1], "request") == NULL) {
        return EXIT_USAGE;
    }
    /* Kconfig's choices are the defaults; the flags choose. */
    sha256 = (STAPLER_IS_ENABLED(CONFIG_STAPLER_OCSP_CERTID_SHA256) || options[2].value != NULL) &&
             options[6].value == NULL;
    use_nonce = STAPLER_IS_ENABLED(CONFIG_STAPLER_OCSP_NONCE) || options[3].value != NULL;
    if (load_pair(&cert, &issuer, options[0].value, options[1].value) != 0) {
        goto exit;
    }
    if (options[5].value != NULL) {
        snprintf(base, sizeof(base), "%s", options[5].value);
    } else if ((ret = stapler_cert_ocsp_url(&cert, 0, &aia_url, &aia_len)) == 0 &&
               aia_len < sizeof(base)) {
        memcpy(base, aia_url, aia_len);
        base[aia_len] = '\0';
    } else {
        fprintf(stderr, "stapler-sim request: %s (or give --url)\n",
                stapler_error_message(ret != 0 ? ret : STAPLER_ERR_BUFFER_TOO_SMALL));
        goto exit;
    }
    if (use_nonce && getrandom(nonce, sizeof(nonce), 0) != (ssize_t) sizeof(nonce)) {
        fprintf(stderr, "stapler-sim request: no entropy for the nonce\n");
        goto exit;
    }
    ret = stapler_ocsp_request_write(&cert, &issuer,
                                     sha256 ? STAPLER_OCSP_CERTID_SHA256 : STAPLER_OCSP_CERTID_SHA1,
                                     use_nonce ? nonce : NULL, sizeof(nonce),
                                     request, sizeof(request), &request_len);
    if (ret == 0) {
        ret = stapler_ocsp_request_get_url(base, request, request_len, url, sizeof(url), &url_len,
                                           &fits);
    }
    if (ret != 0) {
        fprintf(stderr, "stapler-sim request: %s\n", stapler_error_message(ret));
        goto exit;
    }
    if (options[4].value != NULL) {
        FILE *f = fopen(options[4].value, "wb");
        if (f == NULL || fwrite(request, 1, request_len, f) != request_len || fclose(f) != 0) {
            fprintf(stderr, "stapler-sim request: cannot write '%s'\n", options[4].value);
            goto exit;
        }
    }
    /* The URL alone on stdout, so it can be handed to an HTTP client; the rest on stderr. */
    printf("%s\n", url);
    fprintf(stderr, "request: %zu bytes DER%s%s, CertID %s\n", request_len,
            options[4].value != NULL ? ", written to " : "",
            options[4].value != NULL ? options[4].value : "",
            sha256 ? "SHA-256" : "SHA-1");
    fprintf(stderr, "GET URL: %zu bytes: %s\n", url_len,
            fits ? "within RFC 9919's 255-byte limit" : "over RFC 9919's 255 bytes: use POST");
    if (use_nonce) {
        fprintf(stderr, "nonce: ");
        print_hex(stderr, nonce, sizeof(nonce));
        fprintf(stderr, "\n");
    }
    status = EXIT_GOOD;
exit:
    mbedtls_x509_crt_free(&cert);
    stapler_cert_free(&issuer);
    return status;
}

/* ---- inspect ------------------------------------------------------------------------- */

typedef struct {
    int parsed;                    /* the response decoded */
    stapler_ocsp_response_t response;
    stapler_ocsp_result_t result;
    int error;                     /* 0 when verified */
    int64_t at;
    const mbedtls_x509_crt *cert;
} inspection_t;

static const char *cert_status_name(int status)
{
    switch (status) {
        case STAPLER_OCSP_GOOD: return "good";
        case STAPLER_OCSP_REVOKED: return "revoked";
        default: return "unknown";
    }
}

static void json_time(const char *key, int present, int64_t seconds, int last)
{
    char buf[32];

    if (present) {
        printf("\"%s\":\"%s\"%s", key, stapler_sim_format_time(seconds, buf, sizeof(buf)), last ? "" : ",");
    } else {
        printf("\"%s\":null%s", key, last ? "" : ",");
    }
}

static void print_json(const inspection_t *in, const char *prefix)
{
    const int successful = in->parsed && in->response.response_status == STAPLER_OCSP_SUCCESSFUL;
    const stapler_ocsp_single_t *single = &in->result.single;
    const char *status_name = stapler_ocsp_response_status_name(in->response.response_status);
    const char *reason = NULL;

    printf("{%s", prefix);
    if (status_name != NULL) {
        printf("\"response_status\":\"%s\",", status_name);
    } else {
        printf("\"response_status\":null,");
    }
    if (in->result.found) {
        printf("\"cert_status\":\"%s\",", cert_status_name(single->cert_status));
    } else {
        printf("\"cert_status\":null,");
    }
    printf("\"verified\":%s,", in->error == 0 ? "true" : "false");
    if (in->error == 0) {
        printf("\"error\":null,");
    } else {
        printf("\"error\":\"%s\",", stapler_error_slug(in->error));
    }
    json_time("produced_at", successful, in->response.produced_at, 0);
    json_time("this_update", in->result.found, single->this_update, 0);
    json_time("next_update", in->result.found && single->has_next_update, single->next_update, 0);
    json_time("revocation_time", in->result.found && single->cert_status == STAPLER_OCSP_REVOKED,
              single->revocation_time, 0);
    if (in->result.found && single->cert_status == STAPLER_OCSP_REVOKED) {
        reason = stapler_ocsp_reason_name(single->revocation_reason);
    }
    if (reason != NULL) {
        printf("\"revocation_reason\":\"%s\",", reason);
    } else {
        printf("\"revocation_reason\":null,");
    }
    printf("\"serial\":\"");
    if (in->result.found) {
        print_hex(stdout, single->serial, single->serial_len);
    } else {
        print_hex(stdout, in->cert->serial.p, in->cert->serial.len);
    }
    printf("\"}\n");
}

static void print_human(const inspection_t *in)
{
    const stapler_ocsp_single_t *single = &in->result.single;
    char buf[32];

    if (stapler_ocsp_response_status_name(in->response.response_status) == NULL) {
        printf("response status   (not an OCSP response)\n");
    } else {
        printf("response status   %s\n", stapler_ocsp_response_status_name(in->response.response_status));
    }
    if (in->parsed && in->response.response_status == STAPLER_OCSP_SUCCESSFUL) {
        printf("responder id      %s\n", in->response.responder_by_key ? "by key hash" : "by name");
        printf("produced at       %s\n", stapler_sim_format_time(in->response.produced_at, buf, sizeof(buf)));
    }
    printf("certificate       serial ");
    print_hex(stdout, in->cert->serial.p, in->cert->serial.len);
    printf("\n");
    if (in->result.found) {
        printf("cert status       %s\n", cert_status_name(single->cert_status));
        if (single->cert_status == STAPLER_OCSP_REVOKED) {
            const char *reason = stapler_ocsp_reason_name(single->revocation_reason);
            printf("revoked at        %s (%s)\n",
                   stapler_sim_format_time(single->revocation_time, buf, sizeof(buf)),
                   reason != NULL ? reason : "no reason given");
        }
        printf("this update       %s\n", stapler_sim_format_time(single->this_update, buf, sizeof(buf)));
        printf("next update       %s\n", single->has_next_update
                                             ? stapler_sim_format_time(single->next_update, buf, sizeof(buf))
                                             : "(none: newer information always available)");
        printf("signed by         %s\n", in->result.signer_delegated ? "delegated responder" : "issuer");
    }
    printf("evaluated at      %s\n", stapler_sim_format_time(in->at, buf, sizeof(buf)));
    if (in->error == 0) {
        printf("verified          yes\n");
    } else {
        printf("verified          no: %s (%s)\n", stapler_error_slug(in->error),
               stapler_error_message(in->error));
    }
}

/* Decode and verify a response, print the verdict (JSON after `prefix` fields, or text),
 * and return the exit status. */
static int judge(inspection_t *in, unsigned char *der, size_t der_len, int too_large,
                 const mbedtls_x509_crt *issuer, const stapler_ocsp_policy_t *policy, int json,
                 const char *prefix)
{
    if (too_large) {
        in->error = STAPLER_ERR_OCSP_MALFORMED;
    } else {
        in->error = stapler_ocsp_response_parse(&in->response, der, der_len);
        in->parsed = in->error == 0;
        if (in->parsed) {
            in->error = stapler_ocsp_response_verify(&in->response, in->cert, issuer, policy, &in->result);
        }
    }
    if (json) {
        print_json(in, prefix);
    } else {
        print_human(in);
    }
    if (in->error == STAPLER_ERR_OCSP_MALFORMED || in->error == STAPLER_ERR_OCSP_UNSUPPORTED_RESPONSE_TYPE) {
        return EXIT_MALFORMED;
    }
    if (in->response.response_status != STAPLER_OCSP_SUCCESSFUL) {
        return EXIT_RESPONDER_ERROR;
    }
    if (in->error != 0) {
        return EXIT_NOT_VERIFIED;
    }
    if (in->result.single.cert_status == STAPLER_OCSP_GOOD) {
        return EXIT_GOOD;
    }
    return in->result.single.cert_status == STAPLER_OCSP_REVOKED ? EXIT_REVOKED : EXIT_UNKNOWN;
}

int stapler_sim_command_inspect(int argc, char **argv)
{
    option_t options[] = {
        { "--response", 1, NULL }, { "--cert", 1, NULL }, { "--issuer", 1, NULL },
        { "--at", 1, NULL },       { "--nonce", 1, NULL }, { "--json", 0, NULL },
    };
    static unsigned char der[CONFIG_STAPLER_RESPONSE_MAX + 1];
    unsigned char nonce[STAPLER_OCSP_NONCE_MAX];
    mbedtls_x509_crt cert, issuer;
    stapler_ocsp_policy_t policy;
    inspection_t in;
    long der_len;
    int status = EXIT_INPUT;

    memset(&in, 0, sizeof(in));
    in.response.response_status = -1;
    if (parse_options(argc, argv, options, 6) != 0 || required(&options[0], "inspect") == NULL ||
        required(&options[1], "inspect") == NULL || required(&options[2], "inspect") == NULL) {
        return EXIT_USAGE;
    }
    in.at = (int64_t) time(NULL);
    if (options[3].value != NULL && stapler_sim_parse_time(options[3].value, &in.at) != 0) {
        fprintf(stderr, "stapler-sim inspect: --at takes an RFC 3339 UTC time like "
                        "2026-06-01T12:00:00Z, not '%s'\n", options[3].value);
        return EXIT_USAGE;
    }
    stapler_ocsp_policy_init(&policy, in.at);
    if (options[4].value != NULL) {
        if (parse_hex(options[4].value, nonce, sizeof(nonce), &policy.nonce_len) != 0) {
            fprintf(stderr, "stapler-sim inspect: --nonce takes 1 to %d bytes in hex\n",
                    STAPLER_OCSP_NONCE_MAX);
            return EXIT_USAGE;
        }
        policy.nonce = nonce;
    }

    if (load_pair(&cert, &issuer, options[1].value, options[2].value) != 0) {
        goto exit;
    }
    in.cert = &cert;
    der_len = stapler_sim_read_file(options[0].value, der, sizeof(der));
    if (der_len == -1) {
        goto exit;
    }
    if (der_len == -2) {
        /* Larger than any response Stapler would accept: judged malformed, never read whole. */
        fprintf(stderr, "stapler-sim inspect: '%s' is larger than CONFIG_STAPLER_RESPONSE_MAX "
                        "(%d bytes)\n", options[0].value, CONFIG_STAPLER_RESPONSE_MAX);
    }
    status = judge(&in, der, der_len == -2 ? 0 : (size_t) der_len, der_len == -2, &issuer, &policy,
                   options[5].value != NULL, "");
exit:
    mbedtls_x509_crt_free(&cert);
    stapler_cert_free(&issuer);
    return status;
}

/* ---- fetch ---------------------------------------------------------------------------- */

static uint64_t fetch_clock_ms(void *context)
{
    struct timespec ts;

    (void) context;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* Network options shared by fetch and run: fill `net` from the parsed options. */
static void net_options(const option_t *o, stapler_sim_net_options_t *net)
{
    memset(net, 0, sizeof(*net));
    net->tap = o[0].value;
    net->address = o[1].value;
    net->netmask = o[2].value;
    net->gateway = o[3].value;
    net->dns = o[4].value;
}

int stapler_sim_command_fetch(int argc, char **argv)
{
    option_t options[] = {
        { "--tap", 1, NULL },    { "--ip", 1, NULL },      { "--netmask", 1, NULL },
        { "--gateway", 1, NULL }, { "--dns", 1, NULL },    { "--cert", 1, NULL },
        { "--issuer", 1, NULL }, { "--url", 1, NULL },     { "--out", 1, NULL },
        { "--proxy", 1, NULL },  { "--sha256", 0, NULL },  { "--nonce", 0, NULL },
        { "--json", 0, NULL },   { "--verbose", 0, NULL }, { "--idle-timeout", 1, NULL },
        { "--total-timeout", 1, NULL }, { "--sha1", 0, NULL },
    };
    static stapler_http_exchange_t ex;
    static stapler_port_t port;
    stapler_sim_net_options_t net;
    mbedtls_x509_crt cert, issuer;
    stapler_ocsp_policy_t policy;
    inspection_t in;
    unsigned char request[STAPLER_OCSP_REQUEST_MAX], nonce[STAPLER_REQUEST_NONCE_LEN];
    char url[STAPLER_URL_MAX + 1], prefix[STAPLER_URL_MAX + 256];
    const char *aia_url;
    size_t request_len, aia_len;
    uint64_t started = 0;
    int ret = 0, status = EXIT_INPUT, sha256, use_nonce, json, net_up = 0, may_fall_back, fell_back = 0;
    int get_refused = 0, get_status = 0; /* a GET was refused in this fetch (either CertID) */
    const char *refusal = NULL;

    memset(&in, 0, sizeof(in));
    in.response.response_status = -1;
    if (parse_options(argc, argv, options, sizeof(options) / sizeof(options[0])) != 0 ||
        required(&options[5], "fetch") == NULL || required(&options[6], "fetch") == NULL) {
        return EXIT_USAGE;
    }
    net_options(options, &net);
    net.verbose = options[13].value != NULL;
    sha256 = (STAPLER_IS_ENABLED(CONFIG_STAPLER_OCSP_CERTID_SHA256) || options[10].value != NULL) &&
             options[16].value == NULL;
    /* Kconfig's SHA-256 falls back to SHA-1 once, as the agent does; --sha256 insists. */
    may_fall_back = sha256 && options[10].value == NULL;
    use_nonce = STAPLER_IS_ENABLED(CONFIG_STAPLER_OCSP_NONCE) || options[11].value != NULL;
    json = options[12].value != NULL;
    if (load_pair(&cert, &issuer, options[5].value, options[6].value) != 0) {
        goto exit;
    }
    in.cert = &cert;
    if (options[7].value != NULL) {
        if (strlen(options[7].value) >= sizeof(url)) {
            fprintf(stderr, "stapler-sim fetch: --url is longer than %d bytes\n", STAPLER_URL_MAX);
            status = EXIT_USAGE;
            goto exit;
        }
        snprintf(url, sizeof(url), "%s", options[7].value);
    } else if ((ret = stapler_cert_ocsp_url(&cert, 0, &aia_url, &aia_len)) == 0 && aia_len < sizeof(url)) {
        memcpy(url, aia_url, aia_len);
        url[aia_len] = '\0';
    } else {
        fprintf(stderr, "stapler-sim fetch: %s (or give --url)\n",
                stapler_error_message(ret != 0 ? ret : STAPLER_ERR_BUFFER_TOO_SMALL));
        goto exit;
    }
again:
    if (use_nonce && getrandom(nonce, sizeof(nonce), 0) != (ssize_t) sizeof(nonce)) {
        fprintf(stderr, "stapler-sim fetch: no entropy for the nonce\n");
        goto exit;
    }
    ret = stapler_ocsp_request_write(&cert, &issuer, sha256 ? STAPLER_OCSP_CERTID_SHA256 : STAPLER_OCSP_CERTID_SHA1,
                                     use_nonce ? nonce : NULL, sizeof(nonce), request, sizeof(request),
                                     &request_len);
    if (ret != 0) {
        fprintf(stderr, "stapler-sim fetch: %s\n", stapler_error_message(ret));
        goto exit;
    }
    if (!net_up) {
        if (stapler_sim_net_start(&net, 10000) != 0) {
            goto exit;
        }
        net_up = 1;
        port.monotonic_ms = fetch_clock_ms;
        stapler_lwip_transport_init(&port.transport);
        started = fetch_clock_ms(NULL);
    }
    stapler_http_exchange_start_with(&ex, &port, url, options[9].value, request, request_len, 0,
                                     options[14].value != NULL ? (uint32_t) strtoul(options[14].value, NULL, 10) : 0,
                                     options[15].value != NULL ? (uint32_t) strtoul(options[15].value, NULL, 10) : 0,
                                     get_refused ? STAPLER_HTTP_POST : 0u);
    for (;;) {
        uint32_t wait = 0;

        if (stapler_http_exchange_step(&ex, &wait) == 1) {
            break;
        }
        stapler_sim_net_poll(wait);
    }
    if (ex.get_refused) {
        /* The responder refuses GET: a SHA-1 retry below goes out as POST at once. */
        get_refused = 1;
        get_status = ex.get_status;
    }
    /* RFC 9919: a responder that answers a SHA-256 CertID with unauthorized or
     * malformedRequest may know only SHA-1: ask again once, in the same fetch. */
    if (ex.result == 0 && may_fall_back && sha256 &&
        stapler_ocsp_response_parse(&in.response, ex.response.body, ex.response.body_len) == 0 &&
        (in.response.response_status == STAPLER_OCSP_UNAUTHORIZED ||
         in.response.response_status == STAPLER_OCSP_MALFORMED_REQUEST)) {
        refusal = stapler_ocsp_response_status_name(in.response.response_status);
        if (!json) {
            printf("fetch             %s %s: %s to a SHA-256 CertID, asking again with SHA-1\n",
                   ex.is_post ? "POST" : "GET", url, refusal);
        }
        sha256 = 0;
        fell_back = 1;
        stapler_http_exchange_abort(&ex);
        goto again;
    }
    memset(&in.response, 0, sizeof(in.response));
    in.response.response_status = -1;
    /* "method": the request that got the answer (POST after a refused GET). */
    snprintf(prefix, sizeof(prefix),
             "\"url\":\"%s\",\"method\":\"%s\",\"get_refused\":%s,\"get_http_status\":%d,\"http_status\":%d,"
             "\"elapsed_ms\":%llu,",
             url, ex.is_post ? "POST" : "GET", get_refused ? "true" : "false", get_status,
             ex.response.status, (unsigned long long) (fetch_clock_ms(NULL) - started));
    /* "certid": the CertID hash of the request that got the answer; "certid_fallback": the
     * responder refused SHA-256 first (and how). */
    snprintf(prefix + strlen(prefix), sizeof(prefix) - strlen(prefix),
             "\"certid\":\"%s\",\"certid_fallback\":%s%s%s,", sha256 ? "SHA-256" : "SHA-1",
             fell_back ? "\"" : "null", fell_back ? refusal : "", fell_back ? "\"" : "");
    if (ex.result != 0) {
        const char *fetch_class = stapler_agent_fetch_class_name(stapler_agent_fetch_class(ex.result));

        if (json) {
            printf("{%s\"fetch_class\":\"%s\",\"fetch_error\":\"%s\",\"message\":\"%s\"}\n", prefix, fetch_class,
                   stapler_error_slug(ex.result), stapler_error_message(ex.result));
        } else {
            if (get_refused) {
                printf("fetch             GET %s: refused (HTTP %d), asked again by POST\n", url, get_status);
            }
            printf("fetch             %s %s: failed after %llu ms\n", ex.is_post ? "POST" : "GET", url,
                   (unsigned long long) (fetch_clock_ms(NULL) - started));
            if (ex.response.status != 0) {
                printf("http status       %d\n", ex.response.status);
            }
            if (ex.response.retry_after_s != 0) {
                printf("retry after       %u s\n", (unsigned) ex.response.retry_after_s);
            }
            if (ex.response.location[0] != '\0') {
                printf("location          %s\n", ex.response.location);
            }
            printf("error             %s (%s): %s\n", fetch_class, stapler_error_slug(ex.result),
                   stapler_error_message(ex.result));
        }
        status = EXIT_FETCH_FAILED;
        goto exit;
    }
    if (options[8].value != NULL) {
        FILE *f = fopen(options[8].value, "wb");
        if (f == NULL || fwrite(ex.response.body, 1, ex.response.body_len, f) != ex.response.body_len ||
            fclose(f) != 0) {
            fprintf(stderr, "stapler-sim fetch: cannot write '%s'\n", options[8].value);
            goto exit;
        }
    }
    if (!json) {
        if (get_refused) {
            printf("fetch             GET %s: refused (HTTP %d), asked again by POST\n", url, get_status);
        }
        printf("fetch             %s %s: %zu bytes in %llu ms\n", ex.is_post ? "POST" : "GET", url,
               ex.response.body_len, (unsigned long long) (fetch_clock_ms(NULL) - started));
    }
    in.at = (int64_t) time(NULL);
    stapler_ocsp_policy_init(&policy, in.at);
    if (use_nonce) {
        policy.nonce = nonce;
        policy.nonce_len = sizeof(nonce);
    }
    {
        /* "nonce": what the responder did with ours: echoed, ignored (a pre-produced response,
         * RFC 9919), mismatch; null when none was sent. */
        stapler_ocsp_response_t seen;
        const char *nonce_state = NULL;

        if (use_nonce && stapler_ocsp_response_parse(&seen, ex.response.body, ex.response.body_len) == 0 &&
            seen.response_status == STAPLER_OCSP_SUCCESSFUL) {
            nonce_state = seen.nonce == NULL ? "ignored"
                          : seen.nonce_len == sizeof(nonce) && memcmp(seen.nonce, nonce, sizeof(nonce)) == 0
                              ? "echoed" : "mismatch";
        }
        snprintf(prefix + strlen(prefix), sizeof(prefix) - strlen(prefix), "\"nonce\":%s%s%s,",
                 nonce_state != NULL ? "\"" : "null", nonce_state != NULL ? nonce_state : "",
                 nonce_state != NULL ? "\"" : "");
        if (!json) {
            printf("certid            %s%s%s\n", sha256 ? "SHA-256" : "SHA-1",
                   fell_back ? ": the responder refused SHA-256 with " : "", fell_back ? refusal : "");
            if (nonce_state != NULL) {
                printf("nonce             %zu octets, %s by the responder\n", sizeof(nonce), nonce_state);
            }
        }
    }
    strncat(prefix, "\"fetch_class\":\"ok\",\"fetch_error\":null,", sizeof(prefix) - strlen(prefix) - 1);
    status = judge(&in, ex.response.body, ex.response.body_len, 0, &issuer, &policy, json, prefix);
exit:
    stapler_http_exchange_abort(&ex);
    if (net_up) {
        stapler_sim_net_poll(0);
        stapler_sim_net_stop();
    }
    mbedtls_x509_crt_free(&cert);
    stapler_cert_free(&issuer);
    return status;
}
