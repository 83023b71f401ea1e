/* Helpers shared by the unit tests, fuzz targets and benchmarks: see test_support.h. */
#include "test_support.h"

#include <stdio.h>

#include "mbedtls/platform.h"
#include "stapler_mbedtls_platform.h"

long stapler_test_read(const char *dir, const char *name, unsigned char *buf, size_t size)
{
    char path[512];
    FILE *f;
    size_t n;
    int too_big;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    n = fread(buf, 1, size, f);
    too_big = n == size && fgetc(f) != EOF;
    fclose(f);
    if (too_big) {
        fprintf(stderr, "%s is larger than %zu bytes\n", path, size);
        return -1;
    }
    return (long) n;
}

int stapler_test_load_crt(mbedtls_x509_crt *crt, const char *dir, const char *name)
{
    static unsigned char buf[16384];
    long n = stapler_test_read(dir, name, buf, sizeof(buf));

    mbedtls_x509_crt_init(crt);
    return n < 0 ? -1 : mbedtls_x509_crt_parse_der(crt, buf, (size_t) n);
}

size_t stapler_test_largest_free_block(void)
{
    size_t low = 0, high = STAPLER_MBEDTLS_ARENA_SIZE;

    while (low < high) {
        size_t mid = low + (high - low + 1) / 2;
        void *p = mbedtls_calloc(1, mid);

        if (p != NULL) {
            mbedtls_free(p);
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    return low;
}
