/*
 * Fuzz target: X.509 certificate parsing (Mbed TLS, with Stapler's configuration) inside
 * Stapler's static arena. Besides the sanitizers' checks it asserts the arena invariant the
 * agent relies on: whatever the input, once the certificate is freed the whole arena is
 * available again (no leak, no lasting fragmentation), so hostile input cannot starve later
 * handshakes of memory.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mbedtls/platform.h"
#include "mbedtls/x509_crt.h"
#include "stapler_mbedtls_platform.h"
#include "stapler_posix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    mbedtls_x509_crt crt;
    void *probe;

    if (!ready) {
        if (stapler_posix_mbedtls_setup() != 0) {
            abort();
        }
        ready = 1;
    }
    mbedtls_x509_crt_init(&crt);
    (void) mbedtls_x509_crt_parse_der(&crt, data, size);
    mbedtls_x509_crt_free(&crt);

    /* Allocator headers take a little; nearly the whole arena must be one free block. */
    probe = mbedtls_calloc(1, STAPLER_MBEDTLS_ARENA_SIZE - 256);
    if (probe == NULL) {
        fprintf(stderr, "arena leak: the arena is not whole after freeing a parsed certificate\n");
        abort();
    }
    mbedtls_free(probe);
    return 0;
}
