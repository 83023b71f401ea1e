/* Unit tests: the OCSP codec (firmware/src/ocsp.c) against vectors made by openssl
 * (tests/vectors/make-ocsp-vectors, run at build time into STAPLER_VECTOR_DIR). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unity.h"

#include "mbedtls/base64.h"
#include "mbedtls/platform.h"
#include "mbedtls/x509_crt.h"

#include "stapler/cert.h"
#include "stapler/config.h"
#include "stapler/error.h"
#include "stapler/ocsp.h"

#include "mbedtls/pk.h"
#include "stapler_posix.h"
#include "test_support.h"

#define BUF_MAX 16384

static unsigned char der[BUF_MAX];
static size_t der_len;
static mbedtls_x509_crt leaf, issuer;
static stapler_ocsp_response_t response;
static stapler_ocsp_result_t result;
static stapler_ocsp_policy_t policy;

static size_t load_into(const char *name, unsigned char *buf, size_t size)
{
    long n = stapler_test_read(STAPLER_VECTOR_DIR, name, buf, size);

    TEST_ASSERT_TRUE_MESSAGE(n >= 0, name);
    return (size_t) n;
}

static void load_crt(mbedtls_x509_crt *crt, const char *name)
{
    stapler_cert_free(crt);
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, stapler_test_load_crt(crt, STAPLER_VECTOR_DIR, name), name);
}

/* Load a response and the certificate pair it is judged for; policy at its thisUpdate + 60 s. */
static int load_and_parse(const char *response_name, const char *leaf_name, const char *issuer_name)
{
    stapler_ocsp_single_t single;
    int ret;

    load_crt(&leaf, leaf_name);
    load_crt(&issuer, issuer_name);
    der_len = load_into(response_name, der, sizeof(der));
    ret = stapler_ocsp_response_parse(&response, der, der_len);
    stapler_ocsp_policy_init(&policy, 0);
    if (ret == 0 && response.response_status == STAPLER_OCSP_SUCCESSFUL &&
        stapler_ocsp_response_find(&response, &leaf, &issuer, &single) == 0) {
        policy.now = single.this_update + 60;
    } else {
        policy.now = response.produced_at + 60;
    }
    return ret;
}

static int check(const char *response_name, const char *leaf_name, const char *issuer_name)
{
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, load_and_parse(response_name, leaf_name, issuer_name),
                                  response_name);
    return stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result);
}

#define ASSERT_OCSP(expected, actual) \
    TEST_ASSERT_EQUAL_STRING(stapler_error_name(expected), stapler_error_name(actual))

void setUp(void)
{
    TEST_ASSERT_EQUAL_INT(0, stapler_posix_mbedtls_setup());
    mbedtls_x509_crt_init(&leaf);
    mbedtls_x509_crt_init(&issuer);
}

void tearDown(void)
{
    mbedtls_x509_crt_free(&leaf);
    stapler_cert_free(&issuer);
}

/* An issuer as the agent loads one: Mbed TLS's parser, or name and key only when Mbed TLS
 * refuses the certificate's own signature algorithm. */
static int load_issuer(const char *name)
{
    unsigned char buf[4096];
    size_t n = load_into(name, buf, sizeof(buf));
    int partial = -1;

    stapler_cert_free(&issuer);
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, stapler_cert_parse_issuer(&issuer, buf, n, &partial), name);
    return partial;
}

/* ---- Requests ---------------------------------------------------------------------- */

static void assert_request_for_equals(const char *leaf_name, const char *issuer_name, const char *vector,
                                      stapler_ocsp_certid_hash_t hash, const unsigned char *nonce,
                                      size_t nonce_len)
{
    unsigned char expected[512], out[STAPLER_OCSP_REQUEST_SIZE(STAPLER_OCSP_NONCE_MAX)];
    size_t expected_len, out_len = 0;

    load_crt(&leaf, leaf_name);
    (void) load_issuer(issuer_name);
    expected_len = load_into(vector, expected, sizeof(expected));
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_request_write(&leaf, &issuer, hash, nonce, nonce_len,
                                                        out, sizeof(out), &out_len));
    TEST_ASSERT_EQUAL_size_t_MESSAGE(expected_len, out_len, vector);
    TEST_ASSERT_EQUAL_HEX8_ARRAY_MESSAGE(expected, out, expected_len, vector);
}

static void assert_request_equals(const char *vector, stapler_ocsp_certid_hash_t hash,
                                  const unsigned char *nonce, size_t nonce_len)
{
    assert_request_for_equals("leaf-rsa.der", "ca-rsa.der", vector, hash, nonce, nonce_len);
}

static void test_request_sha1_matches_openssl_byte_for_byte(void)
{
    assert_request_equals("req-rsa.der", STAPLER_OCSP_CERTID_SHA1, NULL, 0);
}

static void test_request_sha256_matches_openssl_byte_for_byte(void)
{
    assert_request_equals("req-rsa-sha256.der", STAPLER_OCSP_CERTID_SHA256, NULL, 0);
}

static size_t load_nonce(unsigned char *nonce)
{
    char hex[128];
    size_t n = load_into("nonce.hex", (unsigned char *) hex, sizeof(hex) - 1), i;

    hex[n] = '\0';
    for (i = 0; 2 * i + 1 < n && hex[2 * i] != '\n'; i++) {
        unsigned value;
        TEST_ASSERT_EQUAL_INT(1, sscanf(&hex[2 * i], "%2x", &value));
        nonce[i] = (unsigned char) value;
    }
    return i;
}

static void test_request_with_nonce_matches_openssl_byte_for_byte(void)
{
    unsigned char nonce[STAPLER_OCSP_NONCE_MAX];
    size_t nonce_len = load_nonce(nonce);

    TEST_ASSERT_EQUAL_size_t(16, nonce_len);
    assert_request_equals("req-nonce.der", STAPLER_OCSP_CERTID_SHA1, nonce, nonce_len);
}

/* RFC 9654: nonces of up to 128 octets (RFC 8954 stopped at 32). */
static void test_request_with_a_128_octet_nonce_matches_python_cryptography(void)
{
    unsigned char nonce[128];
    size_t i;

    for (i = 0; i < sizeof(nonce); i++) {
        nonce[i] = (unsigned char) i;
    }
    TEST_ASSERT_EQUAL_INT(128, STAPLER_OCSP_NONCE_MAX);
    assert_request_equals("req-nonce128.der", STAPLER_OCSP_CERTID_SHA1, nonce, sizeof(nonce));
}

/* RFC 6960 4.1.1: issuerNameHash covers the issuer's name as the subject certificate's issuer
 * field encodes it (here PrintableString and other letter case), not the issuer certificate's
 * own subject (UTF8String). openssl ocsp -reqout hashes the same bytes. */
static void test_request_hashes_the_issuer_name_as_the_certificate_encodes_it(void)
{
    assert_request_for_equals("leaf-names.der", "ca-names.der", "req-names.der", STAPLER_OCSP_CERTID_SHA1,
                              NULL, 0);
    assert_request_for_equals("leaf-names.der", "ca-names.der", "req-names-sha256.der",
                              STAPLER_OCSP_CERTID_SHA256, NULL, 0);
}

static void test_request_rejects_bad_arguments_and_small_buffers(void)
{
    unsigned char out[STAPLER_OCSP_REQUEST_SIZE(STAPLER_OCSP_NONCE_MAX)];
    unsigned char nonce[STAPLER_OCSP_NONCE_MAX + 1] = { 0 };
    size_t out_len;

    load_crt(&leaf, "leaf-rsa.der");
    load_crt(&issuer, "ca-rsa.der");
    ASSERT_OCSP(STAPLER_ERR_INVALID_ARGUMENT,
                stapler_ocsp_request_write(&leaf, &issuer, STAPLER_OCSP_CERTID_SHA1, nonce,
                                           sizeof(nonce), out, sizeof(out), &out_len));
    ASSERT_OCSP(STAPLER_ERR_INVALID_ARGUMENT,
                stapler_ocsp_request_write(&leaf, &issuer, STAPLER_OCSP_CERTID_SHA1, nonce, 0,
                                           out, sizeof(out), &out_len));
    ASSERT_OCSP(STAPLER_ERR_BUFFER_TOO_SMALL,
                stapler_ocsp_request_write(&leaf, &issuer, STAPLER_OCSP_CERTID_SHA1, NULL, 0,
                                           out, 40, &out_len));
    /* The documented sizes really are enough: SHA-256 and the largest nonce there is, and
     * STAPLER_OCSP_REQUEST_MAX for the nonces this build sends. */
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_request_write(&leaf, &issuer, STAPLER_OCSP_CERTID_SHA256,
                                                        nonce, STAPLER_OCSP_NONCE_MAX, out,
                                                        sizeof(out), &out_len));
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_request_write(&leaf, &issuer, STAPLER_OCSP_CERTID_SHA256,
                                                        nonce, STAPLER_OCSP_REQUEST_NONCE_MAX, out,
                                                        STAPLER_OCSP_REQUEST_MAX, &out_len));
    TEST_ASSERT_GREATER_OR_EQUAL(192, STAPLER_OCSP_REQUEST_MAX);
}

static void test_get_url_round_trips_and_reports_the_rfc5019_limit(void)
{
    unsigned char request[STAPLER_OCSP_REQUEST_MAX], decoded[STAPLER_OCSP_REQUEST_MAX];
    char url[600], b64[400];
    size_t request_len, url_len, i, j = 0, decoded_len;
    int fits = -1;
    const char *base = "http://127.0.0.1:8888/ocsp";

    request_len = load_into("req-rsa.der", request, sizeof(request));
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_request_get_url(base, request, request_len, url,
                                                          sizeof(url), &url_len, &fits));
    TEST_ASSERT_EQUAL_size_t(strlen(url), url_len);
    TEST_ASSERT_EQUAL_STRING_LEN("http://127.0.0.1:8888/ocsp/", url, strlen(base) + 1);
    TEST_ASSERT_EQUAL_INT(1, fits);
    /* Percent-decode, then base64-decode: the request comes back. */
    for (i = strlen(base) + 1; url[i] != '\0'; i++) {
        TEST_ASSERT_NULL_MESSAGE(strchr("+/= ", url[i]), "unescaped character in GET URL");
        if (url[i] == '%') {
            unsigned value;
            TEST_ASSERT_EQUAL_INT(1, sscanf(&url[i + 1], "%2x", &value));
            b64[j++] = (char) value;
            i += 2;
        } else {
            b64[j++] = url[i];
        }
    }
    TEST_ASSERT_EQUAL_INT(0, mbedtls_base64_decode(decoded, sizeof(decoded), &decoded_len,
                                                   (const unsigned char *) b64, j));
    TEST_ASSERT_EQUAL_size_t(request_len, decoded_len);
    TEST_ASSERT_EQUAL_HEX8_ARRAY(request, decoded, request_len);

    /* A base URL that already ends in '/' gets no second one. */
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_request_get_url("http://ca.test/", request, request_len,
                                                          url, sizeof(url), NULL, NULL));
    TEST_ASSERT_EQUAL_STRING_LEN("http://ca.test/M", url, 16);
    /* Too small an output buffer is an error, not a truncated URL. */
    ASSERT_OCSP(STAPLER_ERR_BUFFER_TOO_SMALL,
                stapler_ocsp_request_get_url(base, request, request_len, url, 60, NULL, NULL));
}

static void test_get_url_too_long_for_rfc5019_says_so(void)
{
    unsigned char request[STAPLER_OCSP_REQUEST_MAX];
    char base[200], url[700];
    size_t request_len = load_into("req-nonce.der", request, sizeof(request));
    int fits = -1;

    memset(base, 'a', sizeof(base) - 1);
    memcpy(base, "http://", 7);
    base[sizeof(base) - 1] = '\0';
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_request_get_url(base, request, request_len, url,
                                                          sizeof(url), NULL, &fits));
    TEST_ASSERT_EQUAL_INT(0, fits);
}

/* ---- Good responses, every signing arrangement ------------------------------------- */

static void assert_good(const char *name, const char *leaf_name, const char *issuer_name,
                        int delegated)
{
    ASSERT_OCSP(STAPLER_OK, check(name, leaf_name, issuer_name));
    TEST_ASSERT_EQUAL_INT_MESSAGE(STAPLER_OCSP_GOOD, result.single.cert_status, name);
    TEST_ASSERT_EQUAL_INT_MESSAGE(delegated, result.signer_delegated, name);
    TEST_ASSERT_TRUE(result.single.has_next_update);
    TEST_ASSERT_EQUAL_INT64(result.single.this_update + 7 * 86400, result.single.next_update);
}

static void test_issuer_signed_by_name(void) { assert_good("good-rsa-byname.der", "leaf-rsa.der", "ca-rsa.der", 0); }
static void test_issuer_signed_by_key(void) { assert_good("good-rsa-bykey.der", "leaf-rsa.der", "ca-rsa.der", 0); }
static void test_rsa_sha1_signature(void) { assert_good("good-rsa-sha1sig.der", "leaf-rsa.der", "ca-rsa.der", 0); }
static void test_rsa_sha384_signature(void) { assert_good("good-rsa-sha384sig.der", "leaf-rsa.der", "ca-rsa.der", 0); }
static void test_rsa_pss_signature(void) { assert_good("good-rsa-pss.der", "leaf-rsa.der", "ca-rsa.der", 0); }
static void test_sha256_certid(void) { assert_good("good-rsa-sha256-certid.der", "leaf-rsa.der", "ca-rsa.der", 0); }
static void test_ecdsa_p256_issuer(void) { assert_good("good-ec.der", "leaf-ec.der", "ca-ec.der", 0); }
static void test_ecdsa_p384_issuer(void)
{
#if defined(CONFIG_STAPLER_ALGO_ECDSA_P384)
    assert_good("good-ec384.der", "leaf-ec384.der", "ca-ec384.der", 0);
#else
    /* A build without P-384 (the p256-m configuration) refuses such a key by name. */
    mbedtls_x509_crt crt;

    mbedtls_x509_crt_init(&crt);
    TEST_ASSERT_EQUAL_INT(MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE,
                          stapler_test_load_crt(&crt, STAPLER_VECTOR_DIR, "leaf-ec384.der"));
    mbedtls_x509_crt_free(&crt);
#endif
}
static void test_delegated_rsa(void) { assert_good("delegated-rsa.der", "leaf-rsa.der", "ca-rsa.der", 1); }
static void test_delegated_rsa_by_key(void) { assert_good("delegated-rsa-bykey.der", "leaf-rsa.der", "ca-rsa.der", 1); }
static void test_delegated_ecdsa(void) { assert_good("delegated-ec.der", "leaf-ec.der", "ca-ec.der", 1); }

static void test_sha1_signature_refused_when_policy_forbids(void)
{
    TEST_ASSERT_EQUAL_INT(0, load_and_parse("good-rsa-sha1sig.der", "leaf-rsa.der", "ca-rsa.der"));
    policy.allow_sha1_signatures = 0;
    ASSERT_OCSP(STAPLER_ERR_OCSP_SHA1_SIGNATURE,
                stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
}

/* ---- Responder authorization (RFC 6960 4.2.2.2) ----------------------------------- */

static void test_delegate_without_ocsp_signing_eku_is_refused(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_RESPONDER_NOT_AUTHORIZED, check("delegated-noeku.der", "leaf-rsa.der", "ca-rsa.der"));
}

static void test_delegate_from_another_ca_is_refused(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_RESPONDER_NOT_AUTHORIZED, check("delegated-other-ca.der", "leaf-rsa.der", "ca-rsa.der"));
}

static void test_response_signed_by_a_leaf_is_refused(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_RESPONDER_NOT_AUTHORIZED, check("signed-by-leaf.der", "leaf-rsa.der", "ca-rsa.der"));
}

static void test_delegate_missing_from_response_is_refused(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_RESPONDER_CERT_MISSING, check("delegated-missing-cert.der", "leaf-rsa.der", "ca-rsa.der"));
}

static void test_delegate_outside_its_validity_is_refused(void)
{
    TEST_ASSERT_EQUAL_INT(0, load_and_parse("delegated-rsa.der", "leaf-rsa.der", "ca-rsa.der"));
    policy.now += 3651LL * 86400; /* after the responder certificate's notAfter */
    ASSERT_OCSP(STAPLER_ERR_OCSP_RESPONDER_CERT_EXPIRED,
                stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
}

/* ---- Tampering ----------------------------------------------------------------------- */

/* PSS with a 20-byte salt (not the hash length OpenSSL uses by default): accepted, as PSA and
 * Mbed TLS 4 accept any salt length. */
static void test_rsa_pss_other_salt_length(void) { assert_good("good-rsa-pss-salt20.der", "leaf-rsa.der", "ca-rsa.der", 0); }

/* PSS whose MGF1 hash (SHA-1) is not the message hash (SHA-256): refused by name, as PSA
 * cannot check it. */
static void test_rsa_pss_mgf1_hash_must_match(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM,
                check("rsa-pss-mgf1-sha1.der", "leaf-rsa.der", "ca-rsa.der"));
}

static void test_tampered_signature(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_BAD_SIGNATURE, check("tampered-signature.der", "leaf-rsa.der", "ca-rsa.der"));
}

static void test_tampered_tbs(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_BAD_SIGNATURE, check("tampered-tbs.der", "leaf-rsa.der", "ca-rsa.der"));
}

static void test_certid_under_another_issuer_is_not_ours(void)
{
    /* A response about leaf-ec (issued by ca-ec), judged as if ca-rsa were the issuer: the
     * issuer name and key hashes in the CertID do not match, so nothing is ours. */
    ASSERT_OCSP(STAPLER_ERR_OCSP_CERT_NOT_IN_RESPONSE, check("good-ec.der", "leaf-ec.der", "ca-rsa.der"));
}

/* ---- CertID matching ----------------------------------------------------------------- */

static void test_wrong_serial_is_not_ours(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_CERT_NOT_IN_RESPONSE, check("good-rsa-byname.der", "leaf2-rsa.der", "ca-rsa.der"));
    TEST_ASSERT_FALSE(result.found);
}

static void test_response_from_another_issuer_is_not_ours(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_CERT_NOT_IN_RESPONSE, check("wrong-issuer.der", "leaf-rsa.der", "ca-rsa.der"));
}

static void test_ours_found_among_several(void)
{
    ASSERT_OCSP(STAPLER_OK, check("multi.der", "leaf-rsa.der", "ca-rsa.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_OCSP_GOOD, result.single.cert_status);
    ASSERT_OCSP(STAPLER_OK, check("multi.der", "leaf-revoked.der", "ca-rsa.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_OCSP_REVOKED, result.single.cert_status);
    ASSERT_OCSP(STAPLER_OK, check("multi.der", "leaf2-rsa.der", "ca-rsa.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_OCSP_GOOD, result.single.cert_status);
}

/* ---- Status is data ---------------------------------------------------------------------- */

static void test_revoked_with_reason(void)
{
    ASSERT_OCSP(STAPLER_OK, check("revoked-reason.der", "leaf-revoked.der", "ca-rsa.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_OCSP_REVOKED, result.single.cert_status);
    TEST_ASSERT_EQUAL_INT(1, result.single.revocation_reason);
    TEST_ASSERT_EQUAL_STRING("keyCompromise", stapler_ocsp_reason_name(result.single.revocation_reason));
    /* The index says two days before the response was made (to the minute). */
    TEST_ASSERT_INT64_WITHIN(120, result.single.this_update - 2 * 86400, result.single.revocation_time);
}

static void test_revoked_without_reason(void)
{
    ASSERT_OCSP(STAPLER_OK, check("revoked-no-reason.der", "leaf-revoked2.der", "ca-rsa.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_OCSP_REVOKED, result.single.cert_status);
    TEST_ASSERT_EQUAL_INT(STAPLER_OCSP_REASON_NONE, result.single.revocation_reason);
    TEST_ASSERT_NULL(stapler_ocsp_reason_name(result.single.revocation_reason));
}

static void test_unknown(void)
{
    ASSERT_OCSP(STAPLER_OK, check("unknown.der", "leaf-unknown.der", "ca-rsa.der"));
    TEST_ASSERT_EQUAL_INT(STAPLER_OCSP_UNKNOWN, result.single.cert_status);
}

/* ---- Time ----------------------------------------------------------------------------- */

static void test_validity_window_with_skew(void)
{
    TEST_ASSERT_EQUAL_INT(0, load_and_parse("good-rsa-short.der", "leaf-rsa.der", "ca-rsa.der"));
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_response_find(&response, &leaf, &issuer, &result.single));
    const int64_t this_update = result.single.this_update, next_update = result.single.next_update;
    TEST_ASSERT_EQUAL_INT64(this_update + 600, next_update);

    policy.now = next_update + policy.clock_skew;
    ASSERT_OCSP(STAPLER_OK, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
    policy.now = next_update + policy.clock_skew + 1;
    ASSERT_OCSP(STAPLER_ERR_OCSP_EXPIRED, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
    policy.now = this_update - policy.clock_skew;
    ASSERT_OCSP(STAPLER_OK, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
    policy.now = this_update - policy.clock_skew - 1;
    ASSERT_OCSP(STAPLER_ERR_OCSP_NOT_YET_VALID, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
}

static void test_no_next_update_is_usable_for_max_age(void)
{
    TEST_ASSERT_EQUAL_INT(0, load_and_parse("good-rsa-no-next-update.der", "leaf-rsa.der", "ca-rsa.der"));
    ASSERT_OCSP(STAPLER_OK, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
    TEST_ASSERT_FALSE(result.single.has_next_update);
    policy.now = result.single.this_update + CONFIG_STAPLER_MAX_AGE_WITHOUT_NEXT_UPDATE_S + policy.clock_skew;
    ASSERT_OCSP(STAPLER_OK, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
    policy.now += 1;
    ASSERT_OCSP(STAPLER_ERR_OCSP_EXPIRED, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
}

static void test_generalized_time_parsing(void)
{
    int64_t t = 0;

#define TIME_OK(text, expected)                                                                     \
    do {                                                                                            \
        TEST_ASSERT_EQUAL_INT_MESSAGE(0, stapler_ocsp_time_parse((const unsigned char *) (text),    \
                                                                 strlen(text), &t), text);          \
        TEST_ASSERT_EQUAL_INT64_MESSAGE((expected), t, text);                                       \
    } while (0)
#define TIME_BAD(text)                                                                              \
    ASSERT_OCSP(STAPLER_ERR_OCSP_MALFORMED,                                                         \
                stapler_ocsp_time_parse((const unsigned char *) (text), strlen(text), &t))

    TIME_OK("19700101000000Z", 0);
    TIME_OK("20000229235959Z", 951868799);
    TIME_OK("20380119031408Z", 2147483648LL);
    TIME_OK("21060207062816Z", 4294967296LL);
    TIME_OK("20261121120000.5Z", 1795262400);
    TIME_BAD("20260229000000Z");   /* not a leap year */
    TIME_BAD("21000229000000Z");   /* nor is 2100 */
    TIME_BAD("20261131000000Z");
    TIME_BAD("20261121240000Z");
    TIME_BAD("20261121120060Z");
    TIME_BAD("20261121120000");    /* no Z */
    TIME_BAD("20261121120000+0100");
    TIME_BAD("20261121120000.Z");
    TIME_BAD("20261121120000.50Z"); /* DER: no trailing zero in the fraction */
    TIME_BAD("2026112112000Z");
    TIME_BAD("2026-1121120000Z");
}

/* ---- Non-successful responseStatus ----------------------------------------------------- */

static void assert_status(const char *name, int status, const char *status_name)
{
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, load_and_parse(name, "leaf-rsa.der", "ca-rsa.der"), name);
    TEST_ASSERT_EQUAL_INT(status, response.response_status);
    TEST_ASSERT_EQUAL_STRING(status_name, stapler_ocsp_response_status_name(response.response_status));
    ASSERT_OCSP(STAPLER_ERR_OCSP_UNSUCCESSFUL,
                stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
}

static void test_unsuccessful_statuses_are_typed(void)
{
    assert_status("status-malformed-request.der", STAPLER_OCSP_MALFORMED_REQUEST, "malformedRequest");
    assert_status("status-internal-error.der", STAPLER_OCSP_INTERNAL_ERROR, "internalError");
    assert_status("status-try-later.der", STAPLER_OCSP_TRY_LATER, "tryLater");
    assert_status("status-sig-required.der", STAPLER_OCSP_SIG_REQUIRED, "sigRequired");
    assert_status("status-unauthorized.der", STAPLER_OCSP_UNAUTHORIZED, "unauthorized");
}

/* ---- Nonce ------------------------------------------------------------------------------ */

static void test_nonce_match_and_mismatch(void)
{
    unsigned char nonce[STAPLER_OCSP_NONCE_MAX];
    size_t nonce_len = load_nonce(nonce);

    TEST_ASSERT_EQUAL_INT(0, load_and_parse("nonce.der", "leaf-rsa.der", "ca-rsa.der"));
    TEST_ASSERT_EQUAL_size_t(nonce_len, response.nonce_len);
    policy.nonce = nonce;
    policy.nonce_len = nonce_len;
    ASSERT_OCSP(STAPLER_OK, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
    nonce[0] ^= 0x01;
    ASSERT_OCSP(STAPLER_ERR_OCSP_NONCE_MISMATCH, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
    nonce[0] ^= 0x01;
    policy.nonce_len = nonce_len - 1;
    ASSERT_OCSP(STAPLER_ERR_OCSP_NONCE_MISMATCH, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));

    /* We sent a nonce, the response carries none (a pre-produced response): not accepted,
     * and said apart from a wrong nonce. */
    TEST_ASSERT_EQUAL_INT(0, load_and_parse("good-rsa-byname.der", "leaf-rsa.der", "ca-rsa.der"));
    policy.nonce = nonce;
    policy.nonce_len = nonce_len;
    ASSERT_OCSP(STAPLER_ERR_OCSP_NONCE_IGNORED, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
}

/* ---- Certificates in `certs` that this build cannot parse (issue 14) ------------------ */

/* A CT precertificate (critical poison extension), an Ed25519 certificate and a well-framed
 * non-certificate before the delegated responder's: the signature does not cover certs, so
 * they are skipped and the signer is found after them. */
static void test_unparsable_certificates_before_the_signer_are_skipped(void)
{
    ASSERT_OCSP(STAPLER_OK, check("delegated-rsa-unparsable-first.der", "leaf-rsa.der", "ca-rsa.der"));
    TEST_ASSERT_EQUAL_INT(1, result.signer_delegated);
    TEST_ASSERT_EQUAL_INT(STAPLER_OCSP_GOOD, result.single.cert_status);
}

static void test_only_unparsable_certificates_means_the_signer_is_missing(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_RESPONDER_CERT_MISSING,
                check("delegated-rsa-only-unparsable.der", "leaf-rsa.der", "ca-rsa.der"));
}

/* The signer's own certificate is the one that cannot be parsed (an Ed25519 key): say so. */
static void test_an_unparsable_signer_certificate_is_an_unsupported_algorithm(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM, check("delegated-ed25519.der", "leaf-rsa.der", "ca-rsa.der"));
}

/* The outer structure still has to be right: an element of certs that runs past its end. */
static void test_a_misframed_certificate_in_certs_is_malformed(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_MALFORMED, check("delegated-rsa-certs-misframed.der", "leaf-rsa.der", "ca-rsa.der"));
}

/* ---- Issuers Mbed TLS refuses for their own signature (issue 14) ---------------------- */

static void test_an_issuer_self_signed_with_md5_serves_for_certid_and_signatures(void)
{
    load_crt(&leaf, "leaf-md5.der");
    TEST_ASSERT_NOT_EQUAL(0, stapler_test_load_crt(&issuer, STAPLER_VECTOR_DIR, "ca-md5.der")); /* Mbed TLS alone */
    mbedtls_x509_crt_free(&issuer);
    TEST_ASSERT_EQUAL_INT(1, load_issuer("ca-md5.der"));
    TEST_ASSERT_TRUE(stapler_cert_is_partial(&issuer));
    assert_request_for_equals("leaf-md5.der", "ca-md5.der", "req-md5.der", STAPLER_OCSP_CERTID_SHA1, NULL, 0);

    der_len = load_into("good-md5-byname.der", der, sizeof(der));
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_response_parse(&response, der, der_len));
    stapler_ocsp_policy_init(&policy, response.produced_at + 60);
    ASSERT_OCSP(STAPLER_OK, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
    TEST_ASSERT_EQUAL_INT(0, result.signer_delegated);
    /* The issuer's notAfter was read too (it bounds the refresh window). */
    TEST_ASSERT_INT64_WITHIN(2 * 86400, response.produced_at + 3650LL * 86400, result.responder_not_after);

    der_len = load_into("good-md5-bykey.der", der, sizeof(der));
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_response_parse(&response, der, der_len));
    ASSERT_OCSP(STAPLER_OK, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));

    der_len = load_into("delegated-md5.der", der, sizeof(der));
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_response_parse(&response, der, der_len));
    ASSERT_OCSP(STAPLER_OK, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
    TEST_ASSERT_EQUAL_INT(1, result.signer_delegated);
}

/* Our CA's name and key, certified by an Ed25519 root (a cross-certificate): as good an issuer. */
static void test_a_cross_certificate_signed_with_ed25519_serves_as_issuer(void)
{
    load_crt(&leaf, "leaf-rsa.der");
    TEST_ASSERT_EQUAL_INT(1, load_issuer("ca-rsa-by-ed25519.der"));
    der_len = load_into("good-rsa-byname.der", der, sizeof(der));
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_response_parse(&response, der, der_len));
    stapler_ocsp_policy_init(&policy, response.produced_at + 60);
    ASSERT_OCSP(STAPLER_OK, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
    der_len = load_into("delegated-rsa.der", der, sizeof(der));
    TEST_ASSERT_EQUAL_INT(0, stapler_ocsp_response_parse(&response, der, der_len));
    ASSERT_OCSP(STAPLER_OK, stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
    TEST_ASSERT_EQUAL_INT(1, result.signer_delegated);
}

/* ---- Names compared as RFC 5280 7.1 says (issue 14) ------------------------------------ */

static int check_names(const char *name)
{
    load_crt(&leaf, "leaf-names.der");
    (void) load_issuer("ca-names.der");
    der_len = load_into(name, der, sizeof(der));
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, stapler_ocsp_response_parse(&response, der, der_len), name);
    stapler_ocsp_policy_init(&policy, response.produced_at + 60);
    return stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result);
}

/* ResponderID byName in PrintableString, the CA's subject in UTF8String; CertID over the leaf's
 * issuer field. */
static void test_issuer_named_in_another_encoding_by_name(void)
{
    ASSERT_OCSP(STAPLER_OK, check_names("good-names-byname-alt.der"));
    TEST_ASSERT_EQUAL_INT(0, result.signer_delegated);
}

static void test_issuer_named_in_another_encoding_by_key_sha256_certid(void)
{
    ASSERT_OCSP(STAPLER_OK, check_names("good-names-bykey.der"));
}

/* A responder that hashed its CA certificate's subject (as OpenSSL's responder does) names
 * the same CA: accepted too. */
static void test_certid_over_the_issuers_own_subject_is_ours_too(void)
{
    ASSERT_OCSP(STAPLER_OK, check_names("good-names-subject-hash.der"));
}

/* The delegated responder names its issuer in PrintableString: issued by our CA all the same. */
static void test_delegate_naming_its_issuer_in_another_encoding(void)
{
    ASSERT_OCSP(STAPLER_OK, check_names("delegated-names.der"));
    TEST_ASSERT_EQUAL_INT(1, result.signer_delegated);
}

/* ---- Hostile and broken input -------------------------------------------------------- */

static void assert_malformed(const char *name)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_MALFORMED, load_and_parse(name, "leaf-rsa.der", "ca-rsa.der"));
}

static void test_malformed_inputs(void)
{
    assert_malformed("truncated.der");
    assert_malformed("trailing-garbage.der");
    assert_malformed("huge-length.der");
    assert_malformed("indefinite-length.der");
    assert_malformed("empty.der");
    assert_malformed("html.der");
}

static void test_unknown_critical_extension_is_refused(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_CRITICAL_EXTENSION,
                load_and_parse("critical-extension.der", "leaf-rsa.der", "ca-rsa.der"));
    /* The status was read; nothing else of the failed decode is left to misuse. */
    TEST_ASSERT_EQUAL_INT(STAPLER_OCSP_SUCCESSFUL, response.response_status);
    TEST_ASSERT_NULL(response.tbs);
    ASSERT_OCSP(STAPLER_ERR_INVALID_ARGUMENT,
                stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
    /* The same extension, not critical, is ignored by the decoder (the splice broke the
     * signature, which is what verification then reports). */
    TEST_ASSERT_EQUAL_INT(0, load_and_parse("noncritical-extension.der", "leaf-rsa.der", "ca-rsa.der"));
    ASSERT_OCSP(STAPLER_ERR_OCSP_BAD_SIGNATURE,
                stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result));
}

static void test_unsupported_signature_algorithm(void)
{
    ASSERT_OCSP(STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM, check("unsupported-sha3.der", "leaf-rsa.der", "ca-rsa.der"));
}

static void test_non_minimal_length_is_refused(void)
{
    static const unsigned char try_later_long_form[] = { 0x30, 0x81, 0x03, 0x0a, 0x01, 0x03 };
    static const unsigned char try_later_leading_zero[] = { 0x30, 0x82, 0x00, 0x03, 0x0a, 0x01, 0x03 };
    static const unsigned char try_later[] = { 0x30, 0x03, 0x0a, 0x01, 0x03 };
    static const unsigned char bad_status[] = { 0x30, 0x03, 0x0a, 0x01, 0x04 };
    static const unsigned char status_with_bytes[] = { 0x30, 0x05, 0x0a, 0x01, 0x03, 0xa0, 0x00 };

    ASSERT_OCSP(STAPLER_OK, stapler_ocsp_response_parse(&response, try_later, sizeof(try_later)));
    ASSERT_OCSP(STAPLER_ERR_OCSP_MALFORMED, stapler_ocsp_response_parse(&response, try_later_long_form, sizeof(try_later_long_form)));
    ASSERT_OCSP(STAPLER_ERR_OCSP_MALFORMED, stapler_ocsp_response_parse(&response, try_later_leading_zero, sizeof(try_later_leading_zero)));
    ASSERT_OCSP(STAPLER_ERR_OCSP_MALFORMED, stapler_ocsp_response_parse(&response, bad_status, sizeof(bad_status)));
    ASSERT_OCSP(STAPLER_ERR_OCSP_MALFORMED, stapler_ocsp_response_parse(&response, status_with_bytes, sizeof(status_with_bytes)));
}

static void test_every_truncation_of_a_good_response_is_refused(void)
{
    size_t n;

    load_and_parse("delegated-rsa.der", "leaf-rsa.der", "ca-rsa.der");
    for (n = 0; n < der_len; n++) {
        ASSERT_OCSP(STAPLER_ERR_OCSP_MALFORMED, stapler_ocsp_response_parse(&response, der, n));
    }
}

static void test_verification_gives_back_all_arena_memory(void)
{
    static const char *const cases[][3] = {
        { "good-rsa-byname.der", "leaf-rsa.der", "ca-rsa.der" },
        { "good-rsa-bykey.der", "leaf-rsa.der", "ca-rsa.der" },
        { "good-rsa-pss.der", "leaf-rsa.der", "ca-rsa.der" },
        { "good-ec.der", "leaf-ec.der", "ca-ec.der" },
        { "delegated-rsa.der", "leaf-rsa.der", "ca-rsa.der" },
        { "delegated-ec.der", "leaf-ec.der", "ca-ec.der" },
        { "delegated-noeku.der", "leaf-rsa.der", "ca-rsa.der" },
        { "delegated-rsa-unparsable-first.der", "leaf-rsa.der", "ca-rsa.der" },
        { "delegated-ed25519.der", "leaf-rsa.der", "ca-rsa.der" },
        { "tampered-signature.der", "leaf-rsa.der", "ca-rsa.der" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t before;

        TEST_ASSERT_EQUAL_INT(0, load_and_parse(cases[i][0], cases[i][1], cases[i][2]));
        /* The first use of the issuer's key caches values in its context (RSA's Montgomery
         * constant, ECP comb tables): that memory belongs to the key, not to a leak. */
        (void) stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result);
        before = stapler_test_largest_free_block();
        (void) stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result);
        TEST_ASSERT_EQUAL_size_t_MESSAGE(before, stapler_test_largest_free_block(), cases[i][0]);
    }
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_request_sha1_matches_openssl_byte_for_byte);
    RUN_TEST(test_request_sha256_matches_openssl_byte_for_byte);
    RUN_TEST(test_request_with_nonce_matches_openssl_byte_for_byte);
    RUN_TEST(test_request_with_a_128_octet_nonce_matches_python_cryptography);
    RUN_TEST(test_request_hashes_the_issuer_name_as_the_certificate_encodes_it);
    RUN_TEST(test_request_rejects_bad_arguments_and_small_buffers);
    RUN_TEST(test_get_url_round_trips_and_reports_the_rfc5019_limit);
    RUN_TEST(test_get_url_too_long_for_rfc5019_says_so);
    RUN_TEST(test_issuer_signed_by_name);
    RUN_TEST(test_issuer_signed_by_key);
    RUN_TEST(test_rsa_sha1_signature);
    RUN_TEST(test_rsa_sha384_signature);
    RUN_TEST(test_rsa_pss_signature);
    RUN_TEST(test_sha256_certid);
    RUN_TEST(test_ecdsa_p256_issuer);
    RUN_TEST(test_ecdsa_p384_issuer);
    RUN_TEST(test_rsa_pss_other_salt_length);
    RUN_TEST(test_rsa_pss_mgf1_hash_must_match);
    RUN_TEST(test_delegated_rsa);
    RUN_TEST(test_delegated_rsa_by_key);
    RUN_TEST(test_delegated_ecdsa);
    RUN_TEST(test_sha1_signature_refused_when_policy_forbids);
    RUN_TEST(test_delegate_without_ocsp_signing_eku_is_refused);
    RUN_TEST(test_delegate_from_another_ca_is_refused);
    RUN_TEST(test_response_signed_by_a_leaf_is_refused);
    RUN_TEST(test_delegate_missing_from_response_is_refused);
    RUN_TEST(test_delegate_outside_its_validity_is_refused);
    RUN_TEST(test_tampered_signature);
    RUN_TEST(test_tampered_tbs);
    RUN_TEST(test_certid_under_another_issuer_is_not_ours);
    RUN_TEST(test_wrong_serial_is_not_ours);
    RUN_TEST(test_response_from_another_issuer_is_not_ours);
    RUN_TEST(test_ours_found_among_several);
    RUN_TEST(test_revoked_with_reason);
    RUN_TEST(test_revoked_without_reason);
    RUN_TEST(test_unknown);
    RUN_TEST(test_validity_window_with_skew);
    RUN_TEST(test_no_next_update_is_usable_for_max_age);
    RUN_TEST(test_generalized_time_parsing);
    RUN_TEST(test_unsuccessful_statuses_are_typed);
    RUN_TEST(test_nonce_match_and_mismatch);
    RUN_TEST(test_unparsable_certificates_before_the_signer_are_skipped);
    RUN_TEST(test_only_unparsable_certificates_means_the_signer_is_missing);
    RUN_TEST(test_an_unparsable_signer_certificate_is_an_unsupported_algorithm);
    RUN_TEST(test_a_misframed_certificate_in_certs_is_malformed);
    RUN_TEST(test_an_issuer_self_signed_with_md5_serves_for_certid_and_signatures);
    RUN_TEST(test_a_cross_certificate_signed_with_ed25519_serves_as_issuer);
    RUN_TEST(test_issuer_named_in_another_encoding_by_name);
    RUN_TEST(test_issuer_named_in_another_encoding_by_key_sha256_certid);
    RUN_TEST(test_certid_over_the_issuers_own_subject_is_ours_too);
    RUN_TEST(test_delegate_naming_its_issuer_in_another_encoding);
    RUN_TEST(test_malformed_inputs);
    RUN_TEST(test_unknown_critical_extension_is_refused);
    RUN_TEST(test_unsupported_signature_algorithm);
    RUN_TEST(test_non_minimal_length_is_refused);
    RUN_TEST(test_every_truncation_of_a_good_response_is_refused);
    RUN_TEST(test_verification_gives_back_all_arena_memory);
    return UNITY_END();
}
