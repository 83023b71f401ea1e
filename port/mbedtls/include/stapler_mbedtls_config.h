/*
 * Mbed TLS configuration for Stapler (MBEDTLS_CONFIG_FILE), the same for every target.
 *
 * Only what Stapler uses is enabled: DER/ASN.1, X.509 certificate parsing, the hashes that
 * OCSP CertIDs and responder signatures use, and RSA / ECDSA verification. Algorithm choices
 * follow Kconfig (CONFIG_STAPLER_ALGO_*), so a device that never sees RSA does not carry it.
 *
 * Crypto (Kconfig choice CONFIG_STAPLER_CRYPTO): with CONFIG_STAPLER_CRYPTO_PSA_P256M (the
 * default when P-384 is off, as on the firmware) PK, X.509 and TLS go through PSA (MBEDTLS_USE_PSA_CRYPTO), algorithms are chosen
 * with PSA_WANT_* (stapler_psa_crypto_config.h) and P-256 is p256-m's, with no built-in ECP
 * code unless P-384 is wanted; with CONFIG_STAPLER_CRYPTO_LEGACY it is Mbed TLS 3.6's
 * built-in ECP code, as before. PSA itself is always built: Stapler's core hashes with
 * psa_hash_compute() either way, the API Mbed TLS 4 keeps.
 *
 * Memory: Mbed TLS never touches the system heap. MBEDTLS_PLATFORM_NO_STD_FUNCTIONS leaves
 * calloc/free unset (they fail) until stapler_mbedtls_platform_setup() hands the allocator a
 * static arena of CONFIG_STAPLER_MBEDTLS_ARENA_SIZE bytes (memory_buffer_alloc).
 * Time: Mbed TLS's clock (MBEDTLS_HAVE_TIME, for session resumption only: ticket ages, key
 * rotation, the cache's timeout) is the port's monotonic clock, never the wall clock
 * (stapler_mbedtls_platform.c), so no SNTP answer can make an old session or ticket look
 * young. Without MBEDTLS_HAVE_TIME_DATE Mbed TLS checks no certificate dates: Stapler checks
 * validity against its own port clock, which knows whether wall time can be trusted yet.
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
#if defined(STAPLER_MBEDTLS_THREADING)
/* The threaded host build (STAPLER_THREADS): TLS sessions in several threads share the
 * arena, PSA's key store and the session cache, which Mbed TLS then guards with mutexes
 * (pthreads here; an RTOS port uses MBEDTLS_THREADING_ALT with its own mutex). */
#define MBEDTLS_THREADING_C
#define MBEDTLS_THREADING_PTHREAD
#endif

/* --- Encoding ------------------------------------------------------------------------------ */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C            /* OCSP requests */
#define MBEDTLS_BASE64_C                /* OCSP GET form (RFC 6960 A.1) */
#define MBEDTLS_OID_C
#if defined(CONFIG_STAPLER_PEM)
#define MBEDTLS_PEM_PARSE_C
#endif

/* --- Hashes: SHA-1 for RFC 5019 CertIDs and legacy responder signatures ------------------- */
#if defined(CONFIG_STAPLER_CRYPTO_LEGACY)
#define MBEDTLS_MD_C
#define MBEDTLS_SHA1_C
#define MBEDTLS_SHA224_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
#define MBEDTLS_SHA512_C
#endif
/* Rolled-up compression loops: about 1.4 KB less code on the Cortex-M4 for SHA-256 and
 * SHA-512 together; Stapler hashes a few kilobytes per check or handshake (docs/DESIGN.md,
 * "Crypto through PSA", has the cost in instructions). */
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA512_SMALLER
/* With PSA the hashes are PSA_WANT_ALG_SHA_* (stapler_psa_crypto_config.h), and Mbed TLS's
 * "MD light" serves X.509 and PK from them: no MBEDTLS_MD_C (legacy HMAC and the md.c
 * tables), which no PSA-configured module needs. */

/* --- PSA: always (the core's hashes); randomness is the port's entropy hook ------------- */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
/* Key slots held at once: a TLS handshake's own key, its ECDHE key, the peer's key and a
 * few transient ones; 32 (the default) is 16 slots of RAM more than that needs. A TLS 1.3
 * handshake holds several at once (its secrets and traffic keys), so a threaded build that
 * runs many handshakes at once needs more: with 16, four concurrent TLS 1.3 handshakes
 * already failed with tls_out_of_memory (PSA_ERROR_INSUFFICIENT_MEMORY) in the load test. */
#if defined(STAPLER_MBEDTLS_THREADING)
#define MBEDTLS_PSA_KEY_SLOT_COUNT 256
#else
/* ... and each identity beyond the first that a server presents by name (select_by_name)
 * holds three more for as long as the configuration lives: its device key and its two
 * ticket keys (with 16 and two identities, a TLS 1.3 resumption failed for want of a slot,
 * PSA_ERROR_INSUFFICIENT_MEMORY, in the p256m build). */
#define MBEDTLS_PSA_KEY_SLOT_COUNT (16 + 3 * (CONFIG_STAPLER_MAX_IDENTITIES - 1))
#endif

/* --- Public keys ----------------------------------------------------------------------- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#if defined(CONFIG_STAPLER_ALGO_RSA)
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21               /* RSASSA-PSS */
#endif

#if defined(CONFIG_STAPLER_CRYPTO_PSA_P256M) || defined(CONFIG_STAPLER_CRYPTO_PSA)
/* PK, X.509 and TLS through PSA; what PSA offers is what stapler_psa_crypto_config.h wants,
 * and Mbed TLS builds its own code for whatever no driver provides. */
#define MBEDTLS_USE_PSA_CRYPTO
#define MBEDTLS_PSA_CRYPTO_CONFIG
#define MBEDTLS_PSA_CRYPTO_CONFIG_FILE "stapler_psa_crypto_config.h"
#if defined(CONFIG_STAPLER_CRYPTO_PSA_P256M)
/* P-256 is p256-m's (ECDSA, ECDH, key import/export/generation), the only curve: no
 * MBEDTLS_ECP_C, MBEDTLS_ECDSA_C or MBEDTLS_ECDH_C, as any would bring the built-in ECP code
 * back (docs/driver-only-builds.md), and 3.6 refuses a driver's curve beside built-in ones
 * once PK or TLS is built (check_config.h), hence Kconfig's P-384 dependency. */
#define MBEDTLS_PSA_P256M_DRIVER_ENABLED
#else
#define MBEDTLS_ECP_NIST_OPTIM          /* the built-in code's fast reduction, as legacy */
#endif
#else /* CONFIG_STAPLER_CRYPTO_LEGACY */
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
#endif /* CONFIG_STAPLER_CRYPTO_PSA_P256M || CONFIG_STAPLER_CRYPTO_PSA */

/* --- X.509 ------------------------------------------------------------------------------ */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/* --- TLS 1.2 and 1.3 with OCSP stapling (CONFIG_STAPLER_TLS) ------------------------------
 * MBEDTLS_SSL_OCSP_STAPLING comes from Stapler's patch series (port/mbedtls/patches), which
 * the build applies to a copy of the Mbed TLS sources. Suites: TLS 1.3 with AES-GCM and
 * (EC)DHE on P-256; TLS 1.2 ECDHE-ECDSA / ECDHE-RSA with AES-GCM. Randomness: PSA's external
 * RNG, i.e. the port's entropy hook (a TRNG on a real board), see stapler_mbedtls_platform.c.
 * With PSA (CONFIG_STAPLER_CRYPTO_PSA_P256M or _PSA) the key exchange, HKDF and the TLS 1.2 PRF are
 * PSA's, wanted in stapler_psa_crypto_config.h.
 */
#if defined(CONFIG_STAPLER_TLS)
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
/* RFC 8446 D.4 middlebox compatibility: the server sends the dummy change_cipher_spec after
 * its ServerHello (or HelloRetryRequest) that clients with a legacy_session_id (browsers,
 * tlsfuzzer) expect; our client sends a 32-byte legacy_session_id and its own CCS. Costs are
 * measured in docs/DESIGN.md (code bytes, 6 bytes per CCS record, 32 per session id). */
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_CACHE_C              /* TLS 1.2 session cache (the patch tests resume from it) */
#if defined(CONFIG_STAPLER_TLS_RESUMPTION)
/* Resumption (stapler_tls.c: bounded by revocation): the TLS 1.2 cache and tickets, TLS 1.3
 * tickets with psk_ke (no ECDHE, no signature: the whole saving) and psk_dhe_ke. */
#define MBEDTLS_SSL_SESSION_TICKETS
#define MBEDTLS_SSL_TICKET_C
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_PLATFORM_TIME_ALT        /* mbedtls_time(): monotonic seconds, see above */
#define MBEDTLS_PLATFORM_MS_TIME_ALT     /* mbedtls_ms_time(): monotonic milliseconds */
#define MBEDTLS_SSL_CACHE_DEFAULT_MAX_ENTRIES CONFIG_STAPLER_TLS_SESSION_CACHE_ENTRIES
#define MBEDTLS_SSL_CACHE_DEFAULT_TIMEOUT CONFIG_STAPLER_TLS_TICKET_LIFETIME_S
#endif
#define MBEDTLS_SSL_OCSP_STAPLING
#define MBEDTLS_SSL_IN_CONTENT_LEN CONFIG_STAPLER_TLS_IN_CONTENT_LEN
#define MBEDTLS_SSL_OUT_CONTENT_LEN CONFIG_STAPLER_TLS_OUT_CONTENT_LEN
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#if defined(CONFIG_STAPLER_ALGO_RSA)
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT  /* TLS 1.3 signs with RSA only as rsa_pss_rsae_* */
#endif
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES           /* tables in flash, not RAM */
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_BLOCK_CIPHER_NO_DECRYPT  /* GCM only encrypts the block cipher: no AES decrypt */
#define MBEDTLS_GCM_C
#if defined(CONFIG_STAPLER_CRYPTO_LEGACY)
#define MBEDTLS_HKDF_C
#define MBEDTLS_ECDH_C
#if !defined(MBEDTLS_ECP_C)
#define MBEDTLS_ECP_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_NIST_OPTIM
#endif
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED /* the key exchange group */
#endif
#if defined(CONFIG_STAPLER_DEBUG_TLS)
#define MBEDTLS_DEBUG_C
#endif
#endif /* CONFIG_STAPLER_TLS */


#endif /* STAPLER_MBEDTLS_CONFIG_H */
