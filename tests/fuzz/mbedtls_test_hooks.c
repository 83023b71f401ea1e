/*
 * The fuzz preset builds Mbed TLS with MBEDTLS_TEST_HOOKS (port/mbedtls/CMakeLists.txt), so
 * that fuzz_tls_parsers can call internal parsers. Mbed TLS's own test framework defines the
 * one hook the library then expects from outside; this is the same, unset (no hook).
 */
#include "mbedtls/error.h"

#if defined(MBEDTLS_TEST_HOOKS)
void (*mbedtls_test_hook_error_add)(int, int, const char *, int) = 0;
#endif
