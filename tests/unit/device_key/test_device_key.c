/* Unit tests: a TLS device key through the Mbed TLS seam (stapler_mbedtls_platform_parse_key(),
 * port/mbedtls/stapler_mbedtls_platform.c): with PSA an RSA key is held in PSA as an opaque
 * PK; EC keys, and every key without PSA, are PK's own. Either way the key must sign what
 * the certificate's public key verifies, PKCS#1 v1.5 and PSS for RSA, and freeing it must
 * leave nothing behind. */
#include <string.h>

#include "unity.h"

#include "mbedtls/pk.h"
#include "mbedtls/rsa.h"
#include "mbedtls/x509_crt.h"
#include "psa/crypto.h"
#include "stapler_mbedtls_platform.h"
#include "stapler_posix.h"
#include "test_support.h"

/* The key the free and damage cases use: RSA where it is built (the one the seam puts in
 * PSA), else EC (the ECDSA-only build). */
#if defined(MBEDTLS_RSA_C)
#define MAIN_KEY "leaf-rsa-key-pkcs8.der"
#else
#define MAIN_KEY "leaf-ec-key-pkcs8.der"
#endif

static unsigned char der[4096];
static mbedtls_pk_context key;
static mbedtls_svc_key_id_t key_id;
static mbedtls_x509_crt cert;

void setUp(void)
{
    TEST_ASSERT_EQUAL_INT(0, stapler_posix_mbedtls_setup());
    mbedtls_pk_init(&key);
    mbedtls_x509_crt_init(&cert);
    key_id = MBEDTLS_SVC_KEY_ID_INIT;
}

void tearDown(void)
{
    stapler_mbedtls_platform_free_key(&key, &key_id);
    mbedtls_x509_crt_free(&cert);
    stapler_mbedtls_platform_teardown();
}

static int parse(const char *name)
{
    long n = stapler_test_read(STAPLER_VECTOR_DIR, name, der, sizeof(der));

    TEST_ASSERT_TRUE_MESSAGE(n > 0, name);
    return stapler_mbedtls_platform_parse_key(&key, &key_id, der, (size_t) n);
}

/* Sign a digest with the parsed key as TLS does, verify it with the certificate's key. */
static void assert_signs(mbedtls_pk_type_t scheme, const char *cert_name)
{
    unsigned char digest[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t sig_len = 0;

    memset(digest, 0x5A, sizeof(digest));
    TEST_ASSERT_EQUAL_INT(0, stapler_test_load_crt(&cert, STAPLER_VECTOR_DIR, cert_name));
    TEST_ASSERT_EQUAL_INT(0, mbedtls_pk_sign_ext(scheme, &key, MBEDTLS_MD_SHA256, digest, sizeof(digest),
                                                 sig, sizeof(sig), &sig_len,
                                                 stapler_mbedtls_platform_random, NULL));
#if defined(MBEDTLS_RSA_C)
    if (scheme == MBEDTLS_PK_RSASSA_PSS) {
        mbedtls_pk_rsassa_pss_options pss = { MBEDTLS_MD_SHA256, MBEDTLS_RSA_SALT_LEN_ANY };

        TEST_ASSERT_EQUAL_INT(0, mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &pss, &cert.pk,
                                                       MBEDTLS_MD_SHA256, digest, sizeof(digest),
                                                       sig, sig_len));
    } else
#endif
    {
        TEST_ASSERT_EQUAL_INT(0, mbedtls_pk_verify(&cert.pk, MBEDTLS_MD_SHA256, digest, sizeof(digest),
                                                   sig, sig_len));
    }
    /* And a flipped bit does not verify: the check above can fail. */
    sig[sig_len / 2] ^= 0x01;
    TEST_ASSERT_NOT_EQUAL(0, mbedtls_pk_verify(&cert.pk, MBEDTLS_MD_SHA256, digest, sizeof(digest),
                                               sig, sig_len));
}

#if defined(MBEDTLS_RSA_C)
static void assert_rsa_key_where_expected(void)
{
#if defined(MBEDTLS_USE_PSA_CRYPTO)
    TEST_ASSERT_FALSE(mbedtls_svc_key_id_is_null(key_id));
    TEST_ASSERT_EQUAL_INT(MBEDTLS_PK_OPAQUE, mbedtls_pk_get_type(&key));
#else
    TEST_ASSERT_TRUE(mbedtls_svc_key_id_is_null(key_id));
    TEST_ASSERT_EQUAL_INT(MBEDTLS_PK_RSA, mbedtls_pk_get_type(&key));
#endif
}

static void test_rsa_pkcs8_signs_pkcs1v15_and_pss(void)
{
    TEST_ASSERT_EQUAL_INT(0, parse("leaf-rsa-key-pkcs8.der"));
    assert_rsa_key_where_expected();
    assert_signs(MBEDTLS_PK_RSA, "leaf-rsa.der");
    assert_signs(MBEDTLS_PK_RSASSA_PSS, "leaf-rsa.der");
}

static void test_rsa_pkcs1_signs_pkcs1v15_and_pss(void)
{
    TEST_ASSERT_EQUAL_INT(0, parse("leaf-rsa-key-pkcs1.der"));
    assert_rsa_key_where_expected();
    assert_signs(MBEDTLS_PK_RSA, "leaf-rsa.der");
    assert_signs(MBEDTLS_PK_RSASSA_PSS, "leaf-rsa.der");
}

#endif

static void test_ec_key_is_pks_own_and_signs(void)
{
    TEST_ASSERT_EQUAL_INT(0, parse("leaf-ec-key-pkcs8.der"));
    TEST_ASSERT_TRUE(mbedtls_svc_key_id_is_null(key_id));
    TEST_ASSERT_TRUE(mbedtls_pk_can_do(&key, MBEDTLS_PK_ECDSA));
    assert_signs(MBEDTLS_PK_ECDSA, "leaf-ec.der");
}

static void test_free_destroys_the_psa_key_and_releases_the_arena(void)
{
    size_t before, after, peak;
    mbedtls_svc_key_id_t kept;
    psa_key_attributes_t attributes = PSA_KEY_ATTRIBUTES_INIT;

    stapler_mbedtls_platform_arena_usage(&before, &peak);
    TEST_ASSERT_EQUAL_INT(0, parse(MAIN_KEY));
    kept = key_id;
    stapler_mbedtls_platform_free_key(&key, &key_id);
    TEST_ASSERT_TRUE(mbedtls_svc_key_id_is_null(key_id));
#if defined(MBEDTLS_USE_PSA_CRYPTO) && defined(MBEDTLS_RSA_C)
    TEST_ASSERT_NOT_EQUAL(PSA_SUCCESS, psa_get_key_attributes(kept, &attributes));
#else
    (void) kept;
    (void) attributes;
#endif
    stapler_mbedtls_platform_arena_usage(&after, &peak);
    TEST_ASSERT_EQUAL_size_t(before, after);
}

static void test_a_damaged_key_is_refused_and_leaves_nothing(void)
{
    long n = stapler_test_read(STAPLER_VECTOR_DIR, MAIN_KEY, der, sizeof(der));
    size_t before, after, peak;

    TEST_ASSERT_TRUE(n > 100);
    /* Cut short inside the private key (flash keeps keys under a CRC: this is a bad
     * provisioning, not a bit flip). */
    stapler_mbedtls_platform_arena_usage(&before, &peak);
    TEST_ASSERT_NOT_EQUAL(0, stapler_mbedtls_platform_parse_key(&key, &key_id, der, (size_t) n - 20));
    TEST_ASSERT_TRUE(mbedtls_svc_key_id_is_null(key_id));
    stapler_mbedtls_platform_arena_usage(&after, &peak);
    TEST_ASSERT_EQUAL_size_t(before, after);
    /* Not DER at all. */
    memset(der, 0xA5, 64);
    TEST_ASSERT_NOT_EQUAL(0, stapler_mbedtls_platform_parse_key(&key, &key_id, der, 64));
}

int main(void)
{
    UNITY_BEGIN();
#if defined(MBEDTLS_RSA_C)
    RUN_TEST(test_rsa_pkcs8_signs_pkcs1v15_and_pss);
    RUN_TEST(test_rsa_pkcs1_signs_pkcs1v15_and_pss);
#endif
    RUN_TEST(test_ec_key_is_pks_own_and_signs);
    RUN_TEST(test_free_destroys_the_psa_key_and_releases_the_arena);
    RUN_TEST(test_a_damaged_key_is_refused_and_leaves_nothing);
    return UNITY_END();
}
