/* Helpers shared by the unit tests, fuzz targets and benchmarks (host only). */
#ifndef STAPLER_TEST_SUPPORT_H
#define STAPLER_TEST_SUPPORT_H

#include <stddef.h>

#include "mbedtls/x509_crt.h"

/** Read DIR/NAME into buf (at most size bytes). Returns the length, or -1 with a message on
 *  stderr if it cannot be opened or does not fit. */
long stapler_test_read(const char *dir, const char *name, unsigned char *buf, size_t size);

/** mbedtls_x509_crt_init() then parse DIR/NAME (DER). Returns 0, -1 if unreadable, or the
 *  Mbed TLS error. */
int stapler_test_load_crt(mbedtls_x509_crt *crt, const char *dir, const char *name);

/** The largest block Mbed TLS's arena can hand out now (binary search with calloc/free). */
size_t stapler_test_largest_free_block(void);

#endif
