/* POSIX port: Mbed TLS output through stdio. */
#include "stapler_posix.h"

#include <stdio.h>

#include "stapler_mbedtls_platform.h"

int stapler_posix_mbedtls_setup(void)
{
    return stapler_mbedtls_platform_setup(printf, snprintf);
}
