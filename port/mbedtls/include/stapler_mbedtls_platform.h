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
} stapler_mbedtls_platform_cfg_t;

/**
 * \brief Give Mbed TLS its static arena and the platform's hooks.
 *
 * The arena is a static array inside this module: calling this again resets it, which is
 * only allowed while no Mbed TLS object is alive (tests do this between cases).
 *
 * \param cfg  The hooks; read during the call, the function pointers are kept.
 * \return 0 on success; STAPLER_ERR_INVALID_ARGUMENT if \p cfg or its fatal_fn is NULL
 *         (then the arena is not installed); or the Mbed TLS error from installing a hook.
 */
int stapler_mbedtls_platform_setup(const stapler_mbedtls_platform_cfg_t *cfg);

/**
 * \brief Release the arena: afterwards every Mbed TLS allocation fails again.
 */
void stapler_mbedtls_platform_teardown(void);

/** \brief Bytes of the arena in use now, and the most ever in use since setup or the last
 *         reset (for benchmarks and status). */
void stapler_mbedtls_platform_arena_usage(size_t *current, size_t *peak);

/** \brief Start measuring the peak again from what is in use now. */
void stapler_mbedtls_platform_arena_reset_peak(void);

/**
 * \brief An f_rng for Mbed TLS (mbedtls_ssl_conf_rng()): the platform's entropy hook.
 * \return 0, or MBEDTLS_ERR_ERROR_GENERIC_ERROR when the hook is missing or fails.
 */
int stapler_mbedtls_platform_random(void *context, unsigned char *output, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_MBEDTLS_PLATFORM_H */
