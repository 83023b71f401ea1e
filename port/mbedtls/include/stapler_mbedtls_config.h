/*
 * Mbed TLS configuration for Stapler (MBEDTLS_CONFIG_FILE), the same for every target.
 *
 * Only what Stapler uses is enabled: DER/ASN.1, X.509 certificate parsing, the hashes that
 * OCSP CertIDs and responder signatures use, and RSA / ECDSA verification. Algorithm choices
 * follow Kconfig (CONFIG_STAPLER_ALGO_*), so a device that never sees RSA does not carry it.
 *
 * Memory: Mbed TLS never touches the system heap. MBEDTLS_PLATFORM_NO_STD_FUNCTIONS leaves
 * calloc/free unset (they fail) until stapler_mbedtls_platform_setup() hands the allocator a
 * static arena of CONFIG_STAPLER_MBEDTLS_ARENA_SIZE bytes (memory_buffer_alloc).
 * Time: MBEDTLS_HAVE_TIME is off; Stapler checks validity against its own port clock, which
 * knows whether wall time can be trusted yet.
 */
#ifndef STAPLER_MBEDTLS_CONFIG_H
#define STAPLER_MBEDTLS_CONFIG_H

#include "stapler/stapler_autoconf.h"

/* --- Platform: static arena only, no libc allocation, output through the port ---------- */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_PLATFORM_PRINTF_ALT
#define MBEDTLS_PLATFORM_SNPRINTF_ALT
#define MBEDTLS_PLATFORM_EXIT_ALT       /* arena corruption: the port's fatal handler */
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C
#define MBEDTLS_MEMORY_DEBUG            /* arena peak for status and benchmarks */
#define MBEDTLS_PLATFORM_FPRINTF_ALT    /* ... whose dumps go nowhere unless a hook is set */
#define MBEDTLS_MEMORY_ALIGN_MULTIPLE 8

/* --- Encoding ------------------------------------------------------------------------------ */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C            /* OCSP requests */
#define MBEDTLS_BASE64_C                /* OCSP GET form (RFC 6960 A.1) */
#define MBEDTLS_OID_C
#if defined(CONFIG_STAPLER_PEM)
#define MBEDTLS_PEM_PARSE_C
#endif

/* --- Hashes: SHA-1 for RFC 5019 CertIDs and legacy responder signatures ------------------- */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C

/* --- Public keys ----------------------------------------------------------------------- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#if defined(CONFIG_STAPLER_ALGO_RSA)
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21               /* RSASSA-PSS */
#endif
#if defined(CONFIG_STAPLER_ALGO_ECDSA_P256) || defined(CONFIG_STAPLER_ALGO_ECDSA_P384)
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_NIST_OPTIM
#endif
#if defined(CONFIG_STAPLER_ALGO_ECDSA_P256)
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#endif
#if defined(CONFIG_STAPLER_ALGO_ECDSA_P384)
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#endif

/* --- X.509 ------------------------------------------------------------------------------ */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/* --- TLS 1.2 and 1.3 with OCSP stapling (CONFIG_STAPLER_TLS) ------------------------------
 * MBEDTLS_SSL_OCSP_STAPLING comes from Stapler's patch series (port/mbedtls/patches), which
 * the build applies to a copy of the Mbed TLS sources. Suites: TLS 1.3 with AES-GCM and
 * (EC)DHE on P-256; TLS 1.2 ECDHE-ECDSA / ECDHE-RSA with AES-GCM. Randomness: PSA's external
 * RNG, i.e. the port's entropy hook (a TRNG on a real board), see stapler_mbedtls_platform.c.
 */
#if defined(CONFIG_STAPLER_TLS)
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_CACHE_C              /* TLS 1.2 session resumption (server side) */
#define MBEDTLS_SSL_OCSP_STAPLING
#define MBEDTLS_SSL_IN_CONTENT_LEN CONFIG_STAPLER_TLS_IN_CONTENT_LEN
#define MBEDTLS_SSL_OUT_CONTENT_LEN CONFIG_STAPLER_TLS_OUT_CONTENT_LEN
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#if defined(CONFIG_STAPLER_ALGO_RSA)
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT  /* TLS 1.3 signs with RSA only as rsa_pss_rsae_* */
#endif
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES           /* tables in flash, not RAM */
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_GCM_C
#define MBEDTLS_HKDF_C
#define MBEDTLS_ECDH_C
#if !defined(MBEDTLS_ECP_C)
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_NIST_OPTIM
#endif
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED /* the key exchange group */
#if defined(CONFIG_STAPLER_DEBUG_TLS)
#define MBEDTLS_DEBUG_C
#endif
#endif /* CONFIG_STAPLER_TLS */

#if defined(CONFIG_STAPLER_SELFTEST)
#define MBEDTLS_SELF_TEST
#endif

#endif /* STAPLER_MBEDTLS_CONFIG_H */
