/* POSIX port: Mbed TLS output through stdio. */
#include "stapler_posix.h"

#include <stdio.h>
#include <stdlib.h>

#include "stapler_mbedtls_platform.h"

static void stapler_posix_mbedtls_fatal(int status)
{
    fprintf(stderr, "fatal: Mbed TLS's memory arena is corrupted (status %d); stopping\n", status);
    abort();
}

int stapler_posix_mbedtls_setup(void)
{
    static const stapler_mbedtls_platform_cfg_t cfg = {
        .printf_fn = printf,
        .snprintf_fn = snprintf,
        .fatal_fn = stapler_posix_mbedtls_fatal,
    };

    return stapler_mbedtls_platform_setup(&cfg);
}
