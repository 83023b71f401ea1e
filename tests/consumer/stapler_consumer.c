/*
 * An application outside Stapler's tree, built against an installed Stapler
 * (find_package(Stapler), tools/check-consumer): the known-answer self-tests, then the OCSP
 * codec on real files (a device certificate, its issuer, a response for it), then lwIP and
 * the lwIP transport, and the TLS glue's header when the package has it.
 *
 *   stapler-consumer CERT.der ISSUER.der RESPONSE.der
 *
 * Prints one line per step and "stapler-consumer: ok" at the end; exits 1 on any failure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lwip/init.h"
#if !NO_SYS
#include "lwip/tcpip.h"
#endif
#include "mbedtls/build_info.h"
#include "mbedtls/x509_crt.h"

#include "stapler/cert.h"
#include "stapler/config.h"
#include "stapler/error.h"
#include "stapler/ocsp.h"
#include "stapler/selftest.h"
#include "stapler/version.h"
#include "stapler_lwip_transport.h"
#include "stapler_mbedtls_platform.h"
#include "stapler_posix.h"
#if defined(STAPLER_CONSUMER_TLS)
#include "stapler_tls.h"
#endif

/* Certificates and responses are at most a few kilobytes; a response at most the build's
 * STAPLER_RESPONSE_MAX, which the installed stapler/config.h gives. */
static unsigned char cert_der[8192];
static unsigned char issuer_der[8192];
static unsigned char response_der[STAPLER_RESPONSE_MAX];

static int fail(const char *what, int ret)
{
    fprintf(stderr, "stapler-consumer: %s: %s (%d): %s\n", what, stapler_error_name(ret), ret,
            stapler_error_message(ret));
    return 1;
}

static int read_file(const char *path, unsigned char *buffer, size_t size, size_t *len)
{
    FILE *f = fopen(path, "rb");

    if (f == NULL) {
        fprintf(stderr, "stapler-consumer: cannot open %s\n", path);
        return -1;
    }
    *len = fread(buffer, 1, size, f);
    /* A file that fills the buffer may have been cut short: refuse it rather than guess. */
    if (ferror(f) || *len == size || *len == 0) {
        fprintf(stderr, "stapler-consumer: %s is empty, unreadable or over %zu bytes\n", path,
                size - 1);
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

static void selftest_report(void *context, const char *name, int result)
{
    unsigned *failed = context;

    if (result != 0) {
        (*failed)++;
        printf("  %s FAILED (%d)\n", name, result);
    }
}

static const char *iso8601(int64_t seconds, char *out, size_t size)
{
    time_t t = (time_t) seconds;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(out, size, "%" PRId64, seconds);
    }
    return out;
}

/* The OCSP codec on the three files: a request for the certificate (DER and GET URL), then
 * the response decoded and verified for it, at the time the responder produced it. */
static int check_ocsp(const char *cert_path, const char *issuer_path, const char *response_path)
{
    static const char *const status_names[] = { "good", "revoked", "unknown" };
    mbedtls_x509_crt cert;
    mbedtls_x509_crt issuer;
    stapler_ocsp_response_t response;
    stapler_ocsp_policy_t policy;
    stapler_ocsp_result_t result;
    unsigned char request[STAPLER_OCSP_REQUEST_MAX];
    char base_url[256];
    char get_url[1024];
    char when[32];
    size_t cert_len, issuer_len, response_len, request_len, get_len;
    const char *url;
    size_t url_len;
    int partial = 0;
    int fits = 0;
    int ret = 1;

    mbedtls_x509_crt_init(&cert);
    mbedtls_x509_crt_init(&issuer);
    if (read_file(cert_path, cert_der, sizeof(cert_der), &cert_len) != 0 ||
        read_file(issuer_path, issuer_der, sizeof(issuer_der), &issuer_len) != 0 ||
        read_file(response_path, response_der, sizeof(response_der), &response_len) != 0) {
        goto out;
    }
    if ((ret = mbedtls_x509_crt_parse_der(&cert, cert_der, cert_len)) != 0) {
        fprintf(stderr, "stapler-consumer: %s: Mbed TLS cannot parse it (-0x%04x)\n", cert_path,
                (unsigned) -ret);
        ret = 1;
        goto out;
    }
    if ((ret = stapler_cert_parse_issuer(&issuer, issuer_der, issuer_len, &partial)) != 0) {
        fprintf(stderr, "stapler-consumer: %s: not usable as an issuer (-0x%04x)\n", issuer_path,
                (unsigned) -ret);
        ret = 1;
        goto out;
    }
    if ((ret = stapler_cert_ocsp_url(&cert, 0, &url, &url_len)) != 0) {
        ret = fail("the certificate's OCSP URL", ret);
        goto out;
    }
    if (url_len >= sizeof(base_url)) {
        fprintf(stderr, "stapler-consumer: the certificate's OCSP URL is over %zu bytes\n",
                sizeof(base_url) - 1);
        ret = 1;
        goto out;
    }
    memcpy(base_url, url, url_len);
    base_url[url_len] = '\0';
    printf("cert: %s, OCSP responder %s, must-staple %s\n", cert_path, base_url,
           stapler_cert_must_staple(&cert) == 1 ? "yes" : "no");

    ret = stapler_ocsp_request_write(&cert, &issuer, STAPLER_OCSP_CERTID_SHA256, NULL, 0, request,
                                     sizeof(request), &request_len);
    if (ret != 0) {
        ret = fail("writing the OCSP request", ret);
        goto out;
    }
    ret = stapler_ocsp_request_get_url(base_url, request, request_len, get_url, sizeof(get_url),
                                       &get_len, &fits);
    if (ret != 0) {
        ret = fail("the request's GET URL", ret);
        goto out;
    }
    printf("request: %zu bytes DER (SHA-256 CertID), GET URL %zu bytes%s\n", request_len, get_len,
           fits ? " (fits RFC 5019's 255)" : "");

    if ((ret = stapler_ocsp_response_parse(&response, response_der, response_len)) != 0) {
        ret = fail(response_path, ret);
        goto out;
    }
    if (response.response_status != STAPLER_OCSP_SUCCESSFUL) {
        fprintf(stderr, "stapler-consumer: %s: responseStatus %s\n", response_path,
                stapler_ocsp_response_status_name(response.response_status));
        ret = 1;
        goto out;
    }
    stapler_ocsp_policy_init(&policy, response.produced_at);
    if ((ret = stapler_ocsp_response_verify(&response, &cert, &issuer, &policy, &result)) != 0) {
        ret = fail("verifying the response", ret);
        goto out;
    }
    printf("response: %s, %zu bytes, verified at its producedAt %s: %s\n", response_path,
           response_len, iso8601(response.produced_at, when, sizeof(when)),
           status_names[result.single.cert_status]);
    ret = 0;
out:
    stapler_cert_free(&issuer);
    mbedtls_x509_crt_free(&cert);
    return ret;
}

int main(int argc, char **argv)
{
    stapler_port_transport_t transport;
    unsigned run = 0;
    unsigned failed = 0;
    int ret;

    /* Line by line, so that what ran before a crash is in the log. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 4) {
        fprintf(stderr, "usage: stapler-consumer CERT.der ISSUER.der RESPONSE.der\n");
        return 2;
    }
    printf("stapler-consumer: Stapler %s, Mbed TLS %s, lwIP %s\n", STAPLER_VERSION_STRING,
           MBEDTLS_VERSION_STRING, LWIP_VERSION_STRING);
    printf("config: algorithms%s%s%s, responses up to %u bytes, Mbed TLS arena %u bytes\n",
           STAPLER_IS_ENABLED(CONFIG_STAPLER_ALGO_RSA) ? " rsa" : "",
           STAPLER_IS_ENABLED(CONFIG_STAPLER_ALGO_ECDSA_P256) ? " ecdsa-p256" : "",
           STAPLER_IS_ENABLED(CONFIG_STAPLER_ALGO_ECDSA_P384) ? " ecdsa-p384" : "",
           STAPLER_RESPONSE_MAX, (unsigned) STAPLER_MBEDTLS_ARENA_SIZE);

    if ((ret = stapler_posix_mbedtls_setup()) != 0) {
        fprintf(stderr, "stapler-consumer: Mbed TLS's platform setup failed (%d)\n", ret);
        return 1;
    }
    if (STAPLER_IS_ENABLED(CONFIG_STAPLER_SELFTEST)) {
        ret = stapler_selftest_run(selftest_report, &failed, &run);
        printf("selftest: %u passed, %u failed\n", run - failed, failed);
        if (ret != STAPLER_OK || run == 0) {
            return fail("selftest", ret != STAPLER_OK ? ret : STAPLER_ERR_SELFTEST_FAILED);
        }
    } else {
        printf("selftest: not in this build (CONFIG_STAPLER_SELFTEST)\n");
    }

    if (check_ocsp(argv[1], argv[2], argv[3]) != 0) {
        return 1;
    }

#if NO_SYS
    lwip_init();
#else
    /* A threaded build (NO_SYS=0, as the installed lwipopts.h says): lwIP runs in its tcpip
     * thread, and the core lock the transport takes exists once tcpip_init() returns. */
    tcpip_init(NULL, NULL);
#endif
    stapler_lwip_transport_init(&transport);
    printf("lwip: initialised (%s), transport ready, %u connections open\n",
           NO_SYS ? "NO_SYS=1, main loop" : "NO_SYS=0, tcpip thread",
           stapler_lwip_transport_open_count());
#if defined(STAPLER_CONSUMER_TLS)
    /* The patched Mbed TLS's stapling API, as the installed configuration enables it. */
#if defined(MBEDTLS_SSL_OCSP_STAPLING)
    {
        mbedtls_ssl_config ssl_config;

        mbedtls_ssl_config_init(&ssl_config);
        mbedtls_ssl_conf_ocsp_staple_cb(&ssl_config, NULL, NULL);
        mbedtls_ssl_config_free(&ssl_config);
    }
    printf("tls: Mbed TLS with OCSP stapling; a refused handshake is '%s'\n",
           stapler_tls_error_slug(MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE));
#else
    printf("tls: FAILED: stapler_tls.h without MBEDTLS_SSL_OCSP_STAPLING (not Stapler's Mbed TLS configuration)\n");
    return 1;
#endif
#endif
    {
        size_t current, peak;

        stapler_mbedtls_platform_arena_usage(&current, &peak);
        printf("arena: peak %zu of %u bytes, %zu in use at the end\n", peak,
               (unsigned) STAPLER_MBEDTLS_ARENA_SIZE, current);
    }
    printf("stapler-consumer: ok\n");
    return 0;
}
