/* POSIX port: Mbed TLS output through stdio. */
#define _POSIX_C_SOURCE 200809L
#include "stapler_posix.h"

#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <sys/random.h>

#include "stapler_mbedtls_platform.h"

static void stapler_posix_mbedtls_fatal(int status)
{
    fprintf(stderr, "fatal: Mbed TLS's memory arena is corrupted (status %d); stopping\n", status);
    abort();
}

/* The kernel's CSPRNG, for TLS randomness (PSA's external RNG). */
static int stapler_posix_mbedtls_entropy(void *context, void *buffer, size_t len)
{
    unsigned char *p = buffer;

    (void) context;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

static uint64_t stapler_posix_mbedtls_monotonic_ms(void *context)
{
    struct timespec ts;

    (void) context;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

int stapler_posix_mbedtls_setup(void)
{
    static const stapler_mbedtls_platform_cfg_t cfg = {
        .printf_fn = printf,
        .snprintf_fn = snprintf,
        .fatal_fn = stapler_posix_mbedtls_fatal,
        .entropy_fn = stapler_posix_mbedtls_entropy,
        .monotonic_ms_fn = stapler_posix_mbedtls_monotonic_ms,
    };

    return stapler_mbedtls_platform_setup(&cfg);
}
