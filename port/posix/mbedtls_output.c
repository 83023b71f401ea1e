/* POSIX port: Mbed TLS output through stdio. */
#include "stapler_posix.h"

#include <stdio.h>
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

int stapler_posix_mbedtls_setup(void)
{
    static const stapler_mbedtls_platform_cfg_t cfg = {
        .printf_fn = printf,
        .snprintf_fn = snprintf,
        .fatal_fn = stapler_posix_mbedtls_fatal,
        .entropy_fn = stapler_posix_mbedtls_entropy,
    };

    return stapler_mbedtls_platform_setup(&cfg);
}
