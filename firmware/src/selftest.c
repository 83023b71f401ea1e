/* Known-answer tests: see stapler/selftest.h. Every check goes through the same calls the
 * agent makes (PSA hashes, PK verification by way of the crypto seam, base64), so a
 * miscompiled hash, bignum or p256-m shows up here by name; none uses an API that Mbed TLS 4
 * removes (the per-module mbedtls_*_self_test() functions are gone there). The vectors are
 * in selftest_vectors.h. */
#include "stapler/selftest.h"

#include <stddef.h>
#include <string.h>

#include "stapler/config.h"
#include "stapler/error.h"

#include "mbedtls/base64.h"
#include "mbedtls/md.h"
#include "mbedtls/pk.h"

#include "crypto.h"

#if defined(CONFIG_STAPLER_SELFTEST)

#include "selftest_vectors.h"

static const unsigned char stapler_kat_message[] = { 'a', 'b', 'c' };

static int stapler_kat_hash(mbedtls_md_type_t md, const unsigned char *expected, size_t len)
{
    unsigned char digest[MBEDTLS_MD_MAX_SIZE];
    size_t digest_len;

    if (stapler_crypto_hash(md, stapler_kat_message, sizeof(stapler_kat_message), digest,
                            sizeof(digest), &digest_len) != 0 ||
        digest_len != len || memcmp(digest, expected, len) != 0) {
        return 1;
    }
    return 0;
}

/* RFC 4648 section 10: "foobar" is "Zm9vYmFy", both ways. */
static int stapler_kat_base64(void)
{
    static const unsigned char plain[] = { 'f', 'o', 'o', 'b', 'a', 'r' };
    static const unsigned char encoded[] = { 'Z', 'm', '9', 'v', 'Y', 'm', 'F', 'y' };
    unsigned char buf[16];
    size_t len;

    if (mbedtls_base64_encode(buf, sizeof(buf), &len, plain, sizeof(plain)) != 0 ||
        len != sizeof(encoded) || memcmp(buf, encoded, len) != 0) {
        return 1;
    }
    if (mbedtls_base64_decode(buf, sizeof(buf), &len, encoded, sizeof(encoded)) != 0 ||
        len != sizeof(plain) || memcmp(buf, plain, len) != 0) {
        return 2;
    }
    return 0;
}

/* The signature must verify, and must not once one bit of it is flipped. */
static int stapler_kat_signature(const unsigned char *spki, size_t spki_len,
                                 stapler_crypto_sig_t scheme, mbedtls_md_type_t md,
                                 const unsigned char *sig, size_t sig_len)
{
    unsigned char digest[MBEDTLS_MD_MAX_SIZE], bad[512];
    mbedtls_pk_context key;
    size_t digest_len;
    int ret;

    if (sig_len < 8 || sig_len > sizeof(bad) ||
        stapler_crypto_hash(md, stapler_kat_message, sizeof(stapler_kat_message), digest,
                            sizeof(digest), &digest_len) != 0) {
        return 1;
    }
    mbedtls_pk_init(&key);
    if (mbedtls_pk_parse_public_key(&key, spki, spki_len) != 0) {
        mbedtls_pk_free(&key);
        return 2;
    }
    ret = stapler_crypto_verify(&key, scheme, md, digest, digest_len, sig, sig_len) == 0 ? 0 : 3;
    if (ret == 0) {
        memcpy(bad, sig, sig_len);
        bad[sig_len - 8] ^= 0x01; /* inside the value: r/s for ECDSA, the integer for RSA */
        if (stapler_crypto_verify(&key, scheme, md, digest, digest_len, bad, sig_len) !=
            STAPLER_ERR_OCSP_BAD_SIGNATURE) {
            ret = 4;
        }
    }
    mbedtls_pk_free(&key);
    return ret;
}

/* One known answer: a hash (scheme NONE: `data` is the digest of "abc"), a signature over
 * "abc" (`data` is the key's SubjectPublicKeyInfo), or base64 (md NONE). */
typedef struct {
    const char *name;
    mbedtls_md_type_t md;
    stapler_crypto_sig_t scheme;
    const unsigned char *data;
    size_t data_len;
    const unsigned char *sig;
    size_t sig_len;
} stapler_selftest_case_t;

#define STAPLER_KAT_HASH(name, md, digest) { name, md, STAPLER_CRYPTO_SIG_NONE, digest, sizeof(digest), NULL, 0 }
#define STAPLER_KAT_SIG(name, md, scheme, spki, sig) { name, md, scheme, spki, sizeof(spki), sig, sizeof(sig) }

static const stapler_selftest_case_t stapler_selftest_cases[] = {
    STAPLER_KAT_HASH("sha1", MBEDTLS_MD_SHA1, stapler_kat_digest_sha1),
    STAPLER_KAT_HASH("sha224", MBEDTLS_MD_SHA224, stapler_kat_digest_sha224),
    STAPLER_KAT_HASH("sha256", MBEDTLS_MD_SHA256, stapler_kat_digest_sha256),
    STAPLER_KAT_HASH("sha384", MBEDTLS_MD_SHA384, stapler_kat_digest_sha384),
    STAPLER_KAT_HASH("sha512", MBEDTLS_MD_SHA512, stapler_kat_digest_sha512),
    { "base64", MBEDTLS_MD_NONE, STAPLER_CRYPTO_SIG_NONE, NULL, 0, NULL, 0 },
#if defined(CONFIG_STAPLER_ALGO_RSA)
    STAPLER_KAT_SIG("rsa-pkcs1v15", MBEDTLS_MD_SHA256, STAPLER_CRYPTO_SIG_RSA_PKCS1V15,
                    stapler_kat_rsa_spki, stapler_kat_rsa_sig),
    STAPLER_KAT_SIG("rsa-pss", MBEDTLS_MD_SHA256, STAPLER_CRYPTO_SIG_RSA_PSS,
                    stapler_kat_rsa_spki, stapler_kat_rsa_pss_sig),
#endif
#if defined(CONFIG_STAPLER_ALGO_ECDSA_P256)
    STAPLER_KAT_SIG("ecdsa-p256", MBEDTLS_MD_SHA256, STAPLER_CRYPTO_SIG_ECDSA,
                    stapler_kat_ec256_spki, stapler_kat_ec256_sig),
#endif
#if defined(CONFIG_STAPLER_ALGO_ECDSA_P384)
    STAPLER_KAT_SIG("ecdsa-p384", MBEDTLS_MD_SHA384, STAPLER_CRYPTO_SIG_ECDSA,
                    stapler_kat_ec384_spki, stapler_kat_ec384_sig),
#endif
};

static int stapler_selftest_one(const stapler_selftest_case_t *c)
{
    if (c->md == MBEDTLS_MD_NONE) {
        return stapler_kat_base64();
    }
    if (c->scheme == STAPLER_CRYPTO_SIG_NONE) {
        return stapler_kat_hash(c->md, c->data, c->data_len);
    }
    return stapler_kat_signature(c->data, c->data_len, c->scheme, c->md, c->sig, c->sig_len);
}

int stapler_selftest_run(stapler_selftest_report_fn report, void *context, unsigned *run)
{
    int ret = STAPLER_OK;
    size_t i;

    for (i = 0; i < sizeof(stapler_selftest_cases) / sizeof(stapler_selftest_cases[0]); i++) {
        const int result = stapler_selftest_one(&stapler_selftest_cases[i]);

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
