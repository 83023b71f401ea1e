/*
 * PSA crypto configuration for Stapler (MBEDTLS_PSA_CRYPTO_CONFIG_FILE), used with
 * CONFIG_STAPLER_CRYPTO_PSA_P256M and CONFIG_STAPLER_CRYPTO_PSA: what the PSA API must offer, as PSA_WANT_* macros. Mbed TLS
 * builds each wanted mechanism that no driver provides (config_adjust_legacy_from_psa.h);
 * p256-m (MBEDTLS_PSA_P256M_DRIVER_ENABLED) provides P-256 ECDSA, ECDH and key handling.
 *
 * Nothing here may ask for what p256-m lacks on P-256 (deterministic ECDSA, key derivation,
 * EC J-PAKE): Mbed TLS would build its ECP code for it and the size benefit would be gone.
 * Mbed TLS 4 (TF-PSA-Crypto) takes the same PSA_WANT_* macros in its crypto configuration.
 */
#ifndef STAPLER_PSA_CRYPTO_CONFIG_H
#define STAPLER_PSA_CRYPTO_CONFIG_H

#include "stapler/stapler_autoconf.h"

/* Hashes: SHA-1 for RFC 5019 CertIDs, byKey ResponderIDs and legacy responder signatures;
 * the SHA-2 family for signatures and SHA-256 CertIDs. */
#define PSA_WANT_ALG_SHA_1                      1
#define PSA_WANT_ALG_SHA_224                    1
#define PSA_WANT_ALG_SHA_256                    1
#define PSA_WANT_ALG_SHA_384                    1
#define PSA_WANT_ALG_SHA_512                    1

#if defined(CONFIG_STAPLER_ALGO_RSA)
#define PSA_WANT_KEY_TYPE_RSA_PUBLIC_KEY        1
#define PSA_WANT_ALG_RSA_PKCS1V15_SIGN          1
#define PSA_WANT_ALG_RSA_PSS                    1
#if defined(CONFIG_STAPLER_TLS)
/* An RSA device key signs TLS handshakes. */
#define PSA_WANT_KEY_TYPE_RSA_KEY_PAIR_BASIC    1
#define PSA_WANT_KEY_TYPE_RSA_KEY_PAIR_IMPORT   1
#define PSA_WANT_KEY_TYPE_RSA_KEY_PAIR_EXPORT   1
#endif
#endif

/* P-256: responder signatures (CONFIG_STAPLER_ALGO_ECDSA_P256), the TLS key exchange group
 * and ECDSA device keys. p256-m's with CONFIG_STAPLER_CRYPTO_PSA_P256M. */
#if defined(CONFIG_STAPLER_ALGO_ECDSA_P256) || defined(CONFIG_STAPLER_TLS)
#define PSA_WANT_ECC_SECP_R1_256                1
#define PSA_WANT_ALG_ECDSA                      1
#define PSA_WANT_KEY_TYPE_ECC_PUBLIC_KEY        1
#endif

/* P-384 responder signatures (CONFIG_STAPLER_CRYPTO_PSA only): Mbed TLS's built-in ECP code,
 * then for P-256 too. Its cost is in docs/DESIGN.md, "Crypto through PSA". */
#if defined(CONFIG_STAPLER_ALGO_ECDSA_P384)
#define PSA_WANT_ECC_SECP_R1_384                1
#define PSA_WANT_ALG_ECDSA                      1
#define PSA_WANT_KEY_TYPE_ECC_PUBLIC_KEY        1
#endif

#if defined(CONFIG_STAPLER_TLS)
/* (EC)DHE on P-256, ECDSA device keys. */
#define PSA_WANT_ALG_ECDH                       1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_BASIC    1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_IMPORT   1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_EXPORT   1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_GENERATE 1
/* Records: AES-GCM. */
#define PSA_WANT_KEY_TYPE_AES                   1
#define PSA_WANT_ALG_GCM                        1
/* Key schedules: HKDF (TLS 1.3), the TLS 1.2 PRF and EMS, HMAC under both. */
#define PSA_WANT_ALG_HMAC                       1
#define PSA_WANT_KEY_TYPE_HMAC                  1
#define PSA_WANT_KEY_TYPE_DERIVE                1
#define PSA_WANT_KEY_TYPE_RAW_DATA              1
#define PSA_WANT_ALG_HKDF                       1
#define PSA_WANT_ALG_HKDF_EXTRACT               1
#define PSA_WANT_ALG_HKDF_EXPAND                1
#define PSA_WANT_ALG_TLS12_PRF                  1
#define PSA_WANT_ALG_TLS12_PSK_TO_MS            1
#endif

#endif /* STAPLER_PSA_CRYPTO_CONFIG_H */
