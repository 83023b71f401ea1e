/*
 * The core's crypto seam: see crypto.h. The one file of firmware/ and port/ that may differ
 * between Mbed TLS 3.6 and 4.x; MBEDTLS_VERSION_MAJOR picks the branch.
 */
#include "crypto.h"

#include <stdint.h>

#include "mbedtls/build_info.h"
#include "mbedtls/error.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"
#if MBEDTLS_VERSION_MAJOR < 4
#include "mbedtls/rsa.h" /* MBEDTLS_RSA_SALT_LEN_ANY, also when RSA is not built */
#include "mbedtls/oid.h" /* MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE's value in 3.6 */
#endif
#include "psa/crypto.h"

#include "stapler/error.h"

static psa_algorithm_t stapler_crypto_psa_hash(mbedtls_md_type_t md)
{
    switch (md) {
        case MBEDTLS_MD_SHA1:
            return PSA_ALG_SHA_1;
        case MBEDTLS_MD_SHA224:
            return PSA_ALG_SHA_224;
        case MBEDTLS_MD_SHA256:
            return PSA_ALG_SHA_256;
        case MBEDTLS_MD_SHA384:
            return PSA_ALG_SHA_384;
        case MBEDTLS_MD_SHA512:
            return PSA_ALG_SHA_512;
        default:
            return PSA_ALG_NONE;
    }
}

int stapler_crypto_hash(mbedtls_md_type_t md, const unsigned char *data, size_t len,
                        unsigned char *out, size_t out_size, size_t *out_len)
{
    const psa_algorithm_t alg = stapler_crypto_psa_hash(md);
    psa_status_t status;

    *out_len = 0;
    if (alg == PSA_ALG_NONE) {
        return STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM;
    }
    status = psa_hash_compute(alg, data, len, out, out_size, out_len);
    if (status == PSA_ERROR_NOT_SUPPORTED) {
        return STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM;
    }
    if (status == PSA_ERROR_BUFFER_TOO_SMALL) {
        return STAPLER_ERR_BUFFER_TOO_SMALL;
    }
    return status == PSA_SUCCESS ? 0 : STAPLER_ERR_INTERNAL;
}

/* Is the scheme in this build at all? (The OID table is the same in every build.) */
static int stapler_crypto_scheme_built(stapler_crypto_sig_t scheme)
{
    switch (scheme) {
#if defined(PSA_WANT_ALG_RSA_PKCS1V15_SIGN)
        case STAPLER_CRYPTO_SIG_RSA_PKCS1V15:
            return 1;
#endif
#if defined(PSA_WANT_ALG_RSA_PSS)
        case STAPLER_CRYPTO_SIG_RSA_PSS:
            return 1;
#endif
#if defined(PSA_WANT_ALG_ECDSA)
        case STAPLER_CRYPTO_SIG_ECDSA:
            return 1;
#endif
        default:
            return 0;
    }
}

/* Is the key of the scheme's kind? Asked before verifying, so that an RSA key is never
 * tried against an ECDSA signature (or the reverse): a mismatch is a bad signature. */
static int stapler_crypto_key_fits(const mbedtls_pk_context *key, stapler_crypto_sig_t scheme,
                                   psa_algorithm_t hash)
{
#if MBEDTLS_VERSION_MAJOR >= 4
    psa_algorithm_t alg;

    switch (scheme) {
        case STAPLER_CRYPTO_SIG_RSA_PKCS1V15:
            alg = PSA_ALG_RSA_PKCS1V15_SIGN(hash);
            break;
        case STAPLER_CRYPTO_SIG_RSA_PSS:
            alg = PSA_ALG_RSA_PSS_ANY_SALT(hash);
            break;
        case STAPLER_CRYPTO_SIG_ECDSA:
            alg = PSA_ALG_ECDSA(hash);
            break;
        default:
            return 0;
    }
    return mbedtls_pk_can_do_psa(key, alg, PSA_KEY_USAGE_VERIFY_HASH);
#else
    (void) hash;
    switch (scheme) {
        case STAPLER_CRYPTO_SIG_RSA_PKCS1V15:
        case STAPLER_CRYPTO_SIG_RSA_PSS:
            return mbedtls_pk_can_do(key, MBEDTLS_PK_RSA);
        case STAPLER_CRYPTO_SIG_ECDSA:
            return mbedtls_pk_can_do(key, MBEDTLS_PK_ECDSA);
        default:
            return 0;
    }
#endif
}

int stapler_crypto_verify(const mbedtls_pk_context *key, stapler_crypto_sig_t scheme,
                          mbedtls_md_type_t md, const unsigned char *digest, size_t digest_len,
                          const unsigned char *sig, size_t sig_len)
{
    /* Mbed TLS's verify functions take a non-const context; verifying does not modify it. */
    mbedtls_pk_context *pk = (mbedtls_pk_context *) (uintptr_t) key;
    const psa_algorithm_t hash = stapler_crypto_psa_hash(md);
    int ret = MBEDTLS_ERR_ERROR_CORRUPTION_DETECTED;

    if (hash == PSA_ALG_NONE || !stapler_crypto_scheme_built(scheme)) {
        return STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM;
    }
    if (!stapler_crypto_key_fits(key, scheme, hash)) {
        return STAPLER_ERR_OCSP_BAD_SIGNATURE;
    }
#if defined(MBEDTLS_USE_PSA_CRYPTO) || MBEDTLS_VERSION_MAJOR >= 4
    /* PK hands RSA keys to PSA, which refuses those above its limit (4096 bits by default)
     * as bad input: that is a key this build cannot use, not a bad signature. */
    if (scheme != STAPLER_CRYPTO_SIG_ECDSA && mbedtls_pk_get_bitlen(key) > PSA_VENDOR_RSA_MAX_KEY_BITS) {
        return STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM;
    }
#endif
    if (scheme == STAPLER_CRYPTO_SIG_RSA_PSS) {
#if MBEDTLS_VERSION_MAJOR >= 4
        ret = mbedtls_pk_verify_ext(MBEDTLS_PK_SIGALG_RSA_PSS, pk, md, digest, digest_len, sig,
                                    sig_len);
#else
        mbedtls_pk_rsassa_pss_options options;

        options.mgf1_hash_id = md;
        options.expected_salt_len = MBEDTLS_RSA_SALT_LEN_ANY;
        ret = mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &options, pk, md, digest,
                                    digest_len, sig, sig_len);
#endif
    } else {
        /* PKCS#1 v1.5 for an RSA key, ECDSA for an EC key: the key's default, in both lines. */
        ret = mbedtls_pk_verify(pk, md, digest, digest_len, sig, sig_len);
    }
    if (ret == 0) {
        return 0;
    }
    /* 3.6 turns PSA's codes into MBEDTLS_ERR_PK_*; 4.x returns some PSA codes as they are. */
    if (ret == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE || ret == MBEDTLS_ERR_PK_TYPE_MISMATCH ||
        ret == (int) PSA_ERROR_NOT_SUPPORTED) {
        return STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM;
    }
    if (ret == MBEDTLS_ERR_PK_ALLOC_FAILED || ret == (int) PSA_ERROR_INSUFFICIENT_MEMORY) {
        return STAPLER_ERR_NO_MEMORY;
    }
    return STAPLER_ERR_OCSP_BAD_SIGNATURE;
}

int stapler_crypto_crt_has_eku(const mbedtls_x509_crt *crt)
{
    return mbedtls_x509_crt_has_ext_type(crt, MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE);
}

int stapler_crypto_parse_spki(mbedtls_pk_context *pk, const unsigned char *spki, size_t len)
{
#if MBEDTLS_VERSION_MAJOR >= 4
    /* 4.x keeps only mbedtls_pk_parse_public_key(), which also takes a bare PKCS#1
     * RSAPublicKey (and PEM): the caller has checked the SubjectPublicKeyInfo's shape. */
    return mbedtls_pk_parse_public_key(pk, spki, len);
#else
    unsigned char *p = (unsigned char *) (uintptr_t) spki;
    int ret = mbedtls_pk_parse_subpubkey(&p, spki + len, pk);

    return ret == 0 && p != spki + len ? MBEDTLS_ERR_PK_KEY_INVALID_FORMAT : ret;
#endif
}
