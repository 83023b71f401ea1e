/* Unit tests: AIA responder URLs and must-staple (firmware/src/cert.c) on openssl-made certificates. */
#include <string.h>

#include "unity.h"

#include "mbedtls/x509_crt.h"
#include "stapler/cert.h"
#include "stapler/error.h"
#include "stapler_posix.h"
#include "test_support.h"

static mbedtls_x509_crt crt;

static void load(const char *name)
{
    mbedtls_x509_crt_free(&crt);
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, stapler_test_load_crt(&crt, STAPLER_VECTOR_DIR, name), name);
}

void setUp(void)
{
    TEST_ASSERT_EQUAL_INT(0, stapler_posix_mbedtls_setup());
    mbedtls_x509_crt_init(&crt);
}

void tearDown(void)
{
    mbedtls_x509_crt_free(&crt);
}

static void test_ocsp_url_from_aia(void)
{
    const char *url = NULL;
    size_t len = 0;

    load("leaf-rsa.der");
    TEST_ASSERT_EQUAL_INT(0, stapler_cert_ocsp_url(&crt, 0, &url, &len));
    TEST_ASSERT_EQUAL_size_t(strlen("http://127.0.0.1:8888/ocsp"), len);
    TEST_ASSERT_EQUAL_STRING_LEN("http://127.0.0.1:8888/ocsp", url, len);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CERT_NO_OCSP_URL, stapler_cert_ocsp_url(&crt, 1, &url, &len));
}

static void test_no_aia_means_no_url(void)
{
    const char *url;
    size_t len;

    load("ca-rsa.der");
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CERT_NO_OCSP_URL, stapler_cert_ocsp_url(&crt, 0, &url, &len));
}

static void test_must_staple(void)
{
    load("leaf-muststaple.der");
    TEST_ASSERT_EQUAL_INT(1, stapler_cert_must_staple(&crt));
    load("leaf-rsa.der");
    TEST_ASSERT_EQUAL_INT(0, stapler_cert_must_staple(&crt));
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_ocsp_url_from_aia);
    RUN_TEST(test_no_aia_means_no_url);
    RUN_TEST(test_must_staple);
    return UNITY_END();
}
