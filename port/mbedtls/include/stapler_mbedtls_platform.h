/**
 * \file stapler_mbedtls_platform.h
 * \brief Wiring Mbed TLS to Stapler's static memory and the platform's output.
 *
 * Every target calls stapler_mbedtls_platform_setup() once at start-up, before any other
 * Mbed TLS call. Until then Mbed TLS's calloc fails (the project configuration leaves it
 * unset on purpose), so nothing can reach the system heap by accident.
 */
#ifndef STAPLER_MBEDTLS_PLATFORM_H
#define STAPLER_MBEDTLS_PLATFORM_H

#include <stddef.h>

#include "mbedtls/pk.h"
#include "psa/crypto.h"
#include "stapler/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Size of the static arena Mbed TLS allocates from (CONFIG_STAPLER_MBEDTLS_ARENA_SIZE). */
#define STAPLER_MBEDTLS_ARENA_SIZE ((size_t) CONFIG_STAPLER_MBEDTLS_ARENA_SIZE)

/** printf-like sink for Mbed TLS diagnostics. */
typedef int (*stapler_mbedtls_printf_fn)(const char *format, ...);
/** snprintf-like formatter Mbed TLS uses for X.509 names. */
typedef int (*stapler_mbedtls_snprintf_fn)(char *buffer, size_t size, const char *format, ...);
/** Called when Mbed TLS's allocator finds its arena corrupted. MUST NOT return. */
typedef void (*stapler_mbedtls_fatal_fn)(int status);

/** What a platform hands Mbed TLS (all pointers are kept; they must stay valid). */
typedef struct {
    /** Where Mbed TLS's self-test and debug text goes; NULL drops it. */
    stapler_mbedtls_printf_fn printf_fn;
    /** Formatter for X.509 info strings; NULL makes such formatting fail cleanly. */
    stapler_mbedtls_snprintf_fn snprintf_fn;
    /** REQUIRED: stops the system on arena corruption (memory is no longer trustworthy). */
    stapler_mbedtls_fatal_fn fatal_fn;
    /** Cryptographically secure random bytes (the port's entropy hook): with CONFIG_STAPLER_TLS
     *  every random number of a handshake comes from it (PSA's external RNG). NULL: TLS fails
     *  for want of randomness. Returns 0 or an error. */
    int (*entropy_fn)(void *context, void *buffer, size_t len);
    void *entropy_context;
    /** The port's monotonic clock (stapler_port_t.monotonic_ms): Mbed TLS's time for session
     *  resumption (MBEDTLS_HAVE_TIME). NULL: that time stands still (nothing resumed ages). */
    uint64_t (*monotonic_ms_fn)(void *context);
    void *monotonic_context;
} stapler_mbedtls_platform_cfg_t;

/**
 * \brief Give Mbed TLS its static arena and the platform's hooks, and start PSA crypto.
 *
 * The arena is a static array inside this module: calling this again resets it (and PSA,
 * whose keys live in it), which is only allowed while no Mbed TLS object is alive (tests do
 * this between cases). psa_crypto_init() is called here: the core hashes through PSA.
 *
 * \param cfg  The hooks; read during the call, the function pointers are kept.
 * \return 0 on success; STAPLER_ERR_INVALID_ARGUMENT if \p cfg or its fatal_fn is NULL
 *         (then the arena is not installed); the Mbed TLS error from installing a hook; or
 *         STAPLER_ERR_INTERNAL if psa_crypto_init() fails (then the arena is released).
 */
int stapler_mbedtls_platform_setup(const stapler_mbedtls_platform_cfg_t *cfg);

/**
 * \brief End PSA crypto and release the arena: afterwards every Mbed TLS allocation fails
 *        again.
 */
void stapler_mbedtls_platform_teardown(void);

/** \brief Bytes of the arena in use now, and the most ever in use since setup or the last
 *         reset (for benchmarks and status). */
void stapler_mbedtls_platform_arena_usage(size_t *current, size_t *peak);

/** \brief With MBEDTLS_HAVE_TIME: mbedtls_time() is this plus monotonic seconds (random per
 *         setup, so the TLS 1.2 ServerHello's time field does not show the uptime). */
int64_t stapler_mbedtls_platform_time_base(void);

#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
#include "mbedtls/ssl.h"
/** \brief A client that keeps sessions (\p keep 1) asks for TLS 1.2 tickets and takes TLS 1.3
 *         ones (stapler_tls_session_read() sees them); 0: neither (the seam: 3.6 and 4 differ). */
void stapler_mbedtls_platform_conf_client_tickets(mbedtls_ssl_config *conf, int keep);
#endif

#if defined(MBEDTLS_SSL_TICKET_C)
#include "mbedtls/ssl_ticket.h"
/** \brief Session ticket keys: AES-256-GCM, rotated every \p lifetime_s, from the port's
 *         entropy (Mbed TLS 3.6's and 4's setup calls differ; this is the seam). */
int stapler_mbedtls_platform_ticket_setup(mbedtls_ssl_ticket_context *ctx, uint32_t lifetime_s);
#endif

/** \brief Start measuring the peak again from what is in use now. */
void stapler_mbedtls_platform_arena_reset_peak(void);

/**
 * \brief Parse a device private key (DER: PKCS#8, or SEC1 / PKCS#1) into \p pk, for TLS.
 *
 * With PSA (MBEDTLS_USE_PSA_CRYPTO, and always on Mbed TLS 4) the key lives in PSA and the
 * handshakes' signatures are PSA operations on it: an RSA key is imported once as a volatile
 * key, \p psa_key, that \p pk refers to (an opaque PK; PKCS#1 v1.5 for TLS 1.2, PSS for TLS
 * 1.3); an EC key is in PSA already as PK parses it (\p psa_key stays null; on 4.x it is
 * wrapped like an RSA key). Without PSA \p pk holds the parsed key.
 * Part of the Mbed TLS seam (docs/PORTING.md, "Moving to Mbed TLS 4"): 3.6 takes an RNG
 * for blinding the consistency check and calls wrapping mbedtls_pk_setup_opaque(), 4.x
 * mbedtls_pk_wrap_psa().
 *
 * \param pk       Initialised (mbedtls_pk_init()), empty.
 * \param psa_key  Receives the PSA key, or null; release both with
 *                 stapler_mbedtls_platform_free_key().
 * \return 0, or the Mbed TLS error (MBEDTLS_ERR_PK_*, or PSA's on import); on error
 *         nothing is left allocated.
 */
int stapler_mbedtls_platform_parse_key(mbedtls_pk_context *pk, mbedtls_svc_key_id_t *psa_key,
                                       const unsigned char *der, size_t len);

/** \brief Free what stapler_mbedtls_platform_parse_key() made: the PK and the PSA key. */
void stapler_mbedtls_platform_free_key(mbedtls_pk_context *pk, mbedtls_svc_key_id_t *psa_key);

/**
 * \brief Give a TLS configuration its random numbers: the platform's entropy hook.
 *
 * Part of the Mbed TLS seam: 3.6 wants mbedtls_ssl_conf_rng(); 4.x has none (TLS draws
 * from PSA, whose external RNG is the same hook), so there this does nothing.
 */
struct mbedtls_ssl_config;
void stapler_mbedtls_platform_conf_ssl_rng(struct mbedtls_ssl_config *conf);

/**
 * \brief An f_rng for Mbed TLS 3.6 APIs that take one: the platform's entropy hook.
 * \return 0, or MBEDTLS_ERR_ERROR_GENERIC_ERROR when the hook is missing or fails.
 */
int stapler_mbedtls_platform_random(void *context, unsigned char *output, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_MBEDTLS_PLATFORM_H */
