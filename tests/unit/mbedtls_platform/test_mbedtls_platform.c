/* Unit tests: Mbed TLS's static arena (port/mbedtls/stapler_mbedtls_platform.c). */
#include <string.h>

#include "unity.h"

#include "mbedtls/platform.h"
#include "stapler_mbedtls_platform.h"
#include "stapler_posix.h"

void setUp(void)
{
    TEST_ASSERT_EQUAL_INT(0, stapler_posix_mbedtls_setup());
}

void tearDown(void)
{
    stapler_mbedtls_platform_teardown();
}

static void test_nothing_is_allocated_before_setup_or_after_teardown(void)
{
    stapler_mbedtls_platform_teardown();
    /* Unset on purpose: no path to the system heap exists. */
    TEST_ASSERT_NULL(mbedtls_calloc(1, 16));
    TEST_ASSERT_EQUAL_INT(0, stapler_posix_mbedtls_setup());
    void *p = mbedtls_calloc(1, 16);
    TEST_ASSERT_NOT_NULL(p);
    mbedtls_free(p);
}

static void test_allocations_are_zeroed_and_reusable(void)
{
    unsigned char *a = mbedtls_calloc(4, 64);
    size_t i;

    TEST_ASSERT_NOT_NULL(a);
    for (i = 0; i < 256; i++) {
        TEST_ASSERT_EQUAL_UINT8(0, a[i]);
    }
    memset(a, 0xA5, 256);
    mbedtls_free(a);
    a = mbedtls_calloc(4, 64);
    TEST_ASSERT_NOT_NULL(a);
    TEST_ASSERT_EQUAL_UINT8(0, a[17]);
    mbedtls_free(a);
}

static void test_arena_is_bounded_and_exhaustion_is_an_error_not_a_crash(void)
{
    void *blocks[64];
    size_t n = 0, block = STAPLER_MBEDTLS_ARENA_SIZE / 16;

    TEST_ASSERT_NULL(mbedtls_calloc(1, STAPLER_MBEDTLS_ARENA_SIZE + 1));
    while (n < 64 && (blocks[n] = mbedtls_calloc(1, block)) != NULL) {
        n++;
    }
    /* Less than 16 blocks fit (allocator headers), and the arena then says no. */
    TEST_ASSERT_GREATER_THAN(8, n);
    TEST_ASSERT_LESS_THAN(16, n);
    while (n > 0) {
        mbedtls_free(blocks[--n]);
    }
    /* Everything came back: a block of half the arena fits again. */
    void *half = mbedtls_calloc(1, STAPLER_MBEDTLS_ARENA_SIZE / 2);
    TEST_ASSERT_NOT_NULL(half);
    mbedtls_free(half);
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_nothing_is_allocated_before_setup_or_after_teardown);
    RUN_TEST(test_allocations_are_zeroed_and_reusable);
    RUN_TEST(test_arena_is_bounded_and_exhaustion_is_an_error_not_a_crash);
    return UNITY_END();
}
