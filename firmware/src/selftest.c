/* Known-answer tests: see stapler/selftest.h. The vectors are Mbed TLS's own (FIPS 180-4
 * hashes, the RSA and ECP test keys); this module decides which apply to this build and
 * reports them by name. */
#include "stapler/selftest.h"

#include <stddef.h>

#include "stapler/config.h"
#include "stapler/error.h"

#include "mbedtls/base64.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ecp.h"
#include "mbedtls/rsa.h"
#include "mbedtls/sha1.h"
#include "mbedtls/sha256.h"
#include "mbedtls/sha512.h"

#if defined(CONFIG_STAPLER_SELFTEST)

typedef struct {
    const char *name;
    int (*test)(int verbose);
} stapler_selftest_case_t;

static const stapler_selftest_case_t stapler_selftest_cases[] = {
    { "sha1", mbedtls_sha1_self_test },
    { "sha224", mbedtls_sha224_self_test },
    { "sha256", mbedtls_sha256_self_test },
    { "sha384", mbedtls_sha384_self_test },
    { "sha512", mbedtls_sha512_self_test },
    { "base64", mbedtls_base64_self_test },
    { "bignum", mbedtls_mpi_self_test },
#if defined(MBEDTLS_RSA_C)
    { "rsa", mbedtls_rsa_self_test },
#endif
#if defined(MBEDTLS_ECP_C)
    { "ecp", mbedtls_ecp_self_test },
#endif
};

int stapler_selftest_run(stapler_selftest_report_fn report, void *context, unsigned *run)
{
    int ret = STAPLER_OK;
    size_t i;

    for (i = 0; i < sizeof(stapler_selftest_cases) / sizeof(stapler_selftest_cases[0]); i++) {
        const int result = stapler_selftest_cases[i].test(0);

        if (result != 0) {
            ret = STAPLER_ERR_SELFTEST_FAILED;
        }
        if (report != NULL) {
            report(context, stapler_selftest_cases[i].name, result);
        }
    }
    if (run != NULL) {
        *run = (unsigned) i;
    }
    return ret;
}

#else /* CONFIG_STAPLER_SELFTEST */

int stapler_selftest_run(stapler_selftest_report_fn report, void *context, unsigned *run)
{
    (void) report;
    (void) context;
    if (run != NULL) {
        *run = 0;
    }
    return STAPLER_ERR_INVALID_ARGUMENT;
}

#endif /* CONFIG_STAPLER_SELFTEST */
