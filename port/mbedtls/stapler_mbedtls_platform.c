/* Mbed TLS's static arena and output hooks: see stapler_mbedtls_platform.h. */
#include "stapler_mbedtls_platform.h"

#include <stdarg.h>
#include <stdint.h>

#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform.h"
#include "stapler/error.h"

/* 8-byte aligned so the allocator's own alignment (MBEDTLS_MEMORY_ALIGN_MULTIPLE) starts
 * at the first byte instead of losing up to 7 of them. */
static union {
    unsigned char bytes[STAPLER_MBEDTLS_ARENA_SIZE];
    uint64_t align;
} stapler_mbedtls_arena;

static int stapler_mbedtls_printf_drop(const char *format, ...)
{
    (void) format;
    return 0;
}

static int stapler_mbedtls_snprintf_fail(char *buffer, size_t size, const char *format, ...)
{
    (void) format;
    if (size > 0) {
        buffer[0] = '\0';
    }
    return -1;
}

int stapler_mbedtls_platform_setup(const stapler_mbedtls_platform_cfg_t *cfg)
{
    int ret;

    if (cfg == NULL || cfg->fatal_fn == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    ret = mbedtls_platform_set_exit(cfg->fatal_fn);
    if (ret != 0) {
        return ret;
    }
    ret = mbedtls_platform_set_printf(cfg->printf_fn != NULL ? cfg->printf_fn
                                                             : stapler_mbedtls_printf_drop);
    if (ret != 0) {
        return ret;
    }
    ret = mbedtls_platform_set_snprintf(cfg->snprintf_fn != NULL ? cfg->snprintf_fn
                                                                 : stapler_mbedtls_snprintf_fail);
    if (ret != 0) {
        return ret;
    }
    mbedtls_memory_buffer_alloc_init(stapler_mbedtls_arena.bytes,
                                     sizeof(stapler_mbedtls_arena.bytes));
    return 0;
}

void stapler_mbedtls_platform_teardown(void)
{
    mbedtls_memory_buffer_alloc_free();
}
