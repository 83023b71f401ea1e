/* Mbed TLS's static arena and output hooks: see stapler_mbedtls_platform.h. */
#include "stapler_mbedtls_platform.h"

#include <stdarg.h>
#include <stdint.h>

#include "mbedtls/error.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform.h"
#include "stapler/error.h"

#if defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
#include "psa/crypto.h"
#endif

static int (*stapler_mbedtls_entropy)(void *context, void *buffer, size_t len);
static void *stapler_mbedtls_entropy_context;

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
    stapler_mbedtls_entropy = cfg->entropy_fn;
    stapler_mbedtls_entropy_context = cfg->entropy_context;
    mbedtls_memory_buffer_alloc_init(stapler_mbedtls_arena.bytes,
                                     sizeof(stapler_mbedtls_arena.bytes));
    return 0;
}

void stapler_mbedtls_platform_arena_usage(size_t *current, size_t *peak)
{
#if defined(MBEDTLS_MEMORY_DEBUG)
    size_t cur_blocks, max_blocks;
    mbedtls_memory_buffer_alloc_cur_get(current, &cur_blocks);
    mbedtls_memory_buffer_alloc_max_get(peak, &max_blocks);
#else
    *current = 0;
    *peak = 0;
#endif
}

void stapler_mbedtls_platform_arena_reset_peak(void)
{
#if defined(MBEDTLS_MEMORY_DEBUG)
    mbedtls_memory_buffer_alloc_max_reset();
#endif
}

int stapler_mbedtls_platform_random(void *context, unsigned char *output, size_t len)
{
    (void) context;
    if (stapler_mbedtls_entropy == NULL ||
        stapler_mbedtls_entropy(stapler_mbedtls_entropy_context, output, len) != 0) {
        return MBEDTLS_ERR_ERROR_GENERIC_ERROR;
    }
    return 0;
}

#if defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
/* PSA's random generator is the platform's entropy hook itself: the port contract requires
 * it to be cryptographically secure (a TRNG or a DRBG seeded from one), so no second DRBG. */
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context,
                                             uint8_t *output, size_t output_size,
                                             size_t *output_length)
{
    (void) context;
    *output_length = 0;
    if (stapler_mbedtls_platform_random(NULL, output, output_size) != 0) {
        return PSA_ERROR_INSUFFICIENT_ENTROPY;
    }
    *output_length = output_size;
    return PSA_SUCCESS;
}
#endif

void stapler_mbedtls_platform_teardown(void)
{
    mbedtls_memory_buffer_alloc_free();
}
