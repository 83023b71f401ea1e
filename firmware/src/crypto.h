/*
 * The core's crypto seam (private to firmware/src): hashing and signature checks, the two
 * things whose Mbed TLS API differs between the 3.6 LTS line and 4.x (TF-PSA-Crypto).
 *
 * Everything else the core calls (ASN.1, X.509 parsing, base64, mbedtls_pk_verify(),
 * mbedtls_pk_parse_public_key(), psa_hash_compute()) is the same in both lines; crypto.c is
 * the only file in firmware/ and port/ allowed to use an identifier that Mbed TLS 4.0 removes
 * (tools/check-mbedtls4, tools/mbedtls4-removed.txt). docs/PORTING.md, "Moving to Mbed TLS 4",
 * says what its 4.x branch does and that it is untested here.
 */
#ifndef STAPLER_CRYPTO_H
#define STAPLER_CRYPTO_H

#include <stddef.h>

#include "mbedtls/md.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Signature schemes the core checks (X.509 AlgorithmIdentifiers name them). */
typedef enum {
    STAPLER_CRYPTO_SIG_NONE = 0,
    STAPLER_CRYPTO_SIG_RSA_PKCS1V15, /**< RSASSA-PKCS1-v1_5 */
    STAPLER_CRYPTO_SIG_RSA_PSS,      /**< RSASSA-PSS, MGF1 with the message hash */
    STAPLER_CRYPTO_SIG_ECDSA         /**< ECDSA, DER-encoded (r, s) as X.509 carries it */
} stapler_crypto_sig_t;

/**
 * \brief Hash \p data with \p md through PSA (psa_hash_compute()).
 * \param out       Receives the digest; \p out_size bytes (MBEDTLS_MD_MAX_SIZE is always
 *                  enough).
 * \param out_len   Receives the digest's length.
 * \return 0; STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM for a hash this build lacks;
 *         STAPLER_ERR_BUFFER_TOO_SMALL; STAPLER_ERR_INTERNAL if PSA fails otherwise (e.g.
 *         psa_crypto_init() was not called: stapler_mbedtls_platform_setup() does it).
 */
int stapler_crypto_hash(mbedtls_md_type_t md, const unsigned char *data, size_t len,
                        unsigned char *out, size_t out_size, size_t *out_len);

/**
 * \brief Check \p sig over \p digest (made with \p md) under \p key, with \p scheme.
 *
 * The key must be of the scheme's kind: an RSA key for the RSA schemes, an EC key for
 * ECDSA. For RSA-PSS the MGF1 hash must be \p md and any salt length is accepted (what
 * PSA and Mbed TLS 4 offer; RFC 4055 parameters asking otherwise are the caller's to refuse).
 *
 * \return 0 if the signature verifies; STAPLER_ERR_OCSP_BAD_SIGNATURE if it does not, or the
 *         key is of the wrong kind; STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM if this build
 *         cannot check it (curve, hash or scheme not built, or an RSA key larger than PSA
 *         takes); STAPLER_ERR_NO_MEMORY if the Mbed TLS arena is full.
 */
int stapler_crypto_verify(const mbedtls_pk_context *key, stapler_crypto_sig_t scheme,
                          mbedtls_md_type_t md, const unsigned char *digest, size_t digest_len,
                          const unsigned char *sig, size_t sig_len);

/**
 * \brief Parse a SubjectPublicKeyInfo (the whole TLV, \p len bytes exactly) into \p pk, as
 *        X.509 does: 3.6's mbedtls_pk_parse_subpubkey(), which 4.x no longer exposes.
 * \return 0, or the Mbed TLS error (MBEDTLS_ERR_PK_*, MBEDTLS_ERR_ASN1_*).
 */
int stapler_crypto_parse_spki(mbedtls_pk_context *pk, const unsigned char *spki, size_t len);

/**
 * \brief Does \p crt carry an extendedKeyUsage extension at all? (Mbed TLS reads a missing
 *        one as "any usage".) In the seam because 3.6 defines the extension's flag through
 *        mbedtls/oid.h, which 4.x keeps only in a reduced form (its x509.h has the flag).
 */
int stapler_crypto_crt_has_eku(const mbedtls_x509_crt *crt);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_CRYPTO_H */
