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

/** printf-like sink for Mbed TLS diagnostics; may be NULL to drop them. */
typedef int (*stapler_mbedtls_printf_fn)(const char *format, ...);
/** snprintf-like formatter Mbed TLS uses for X.509 names; may be NULL (formatting fails). */
typedef int (*stapler_mbedtls_snprintf_fn)(char *buffer, size_t size, const char *format, ...);

/**
 * \brief Give Mbed TLS its static arena and output hooks.
 *
 * The arena is a static array inside this module: calling this again resets it, which is
 * only allowed while no Mbed TLS object is alive (tests do this between cases).
 *
 * \param printf_fn   Where Mbed TLS's self-test and debug text goes, or NULL.
 * \param snprintf_fn Formatter for X.509 info strings, or NULL.
 * \return 0 on success, or the Mbed TLS error from installing the hooks.
 */
int stapler_mbedtls_platform_setup(stapler_mbedtls_printf_fn printf_fn,
                                   stapler_mbedtls_snprintf_fn snprintf_fn);

/**
 * \brief Release the arena: afterwards every Mbed TLS allocation fails again.
 */
void stapler_mbedtls_platform_teardown(void);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_MBEDTLS_PLATFORM_H */
