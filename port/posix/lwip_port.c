/* POSIX port: what lwIP needs (stapler_lwip_port.h). */
#define _POSIX_C_SOURCE 200809L

#include "stapler_lwip_port.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#if !defined(STAPLER_LWIP_THREADS)
/* (With NO_SYS=0, lwIP's contrib/ports/unix sys_arch.c has its own.) */
uint32_t sys_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* Wraps at 2^32 ms (49.7 days), as lwIP's timers expect. */
    return (uint32_t) ((uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u);
}
#endif

uint32_t stapler_lwip_rand(void)
{
    uint32_t value;

    if (getrandom(&value, sizeof(value), 0) != (ssize_t) sizeof(value)) {
        /* No entropy means spoofable TCP sequence numbers and DNS IDs: stop, do not guess. */
        stapler_lwip_assert_failed("getrandom() failed: no entropy for lwIP", __FILE__, __LINE__);
    }
    return value;
}

void stapler_lwip_assert_failed(const char *message, const char *file, int line)
{
    fprintf(stderr, "lwIP assertion failed: %s (%s:%d)\n", message, file, line);
    abort();
}
