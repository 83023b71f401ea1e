/*
 * Fuzz target: the streaming HTTP response parser (firmware/src/http.c). The input is fed
 * whole, then again in pieces whose sizes come from the input itself, then byte by byte;
 * the three runs must agree on the result, the status and the body. Also asserted: the
 * body never exceeds its buffer, and only a 200 with the OCSP media type ever completes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stapler/error.h"
#include "stapler/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char body[3][STAPLER_RESPONSE_MAX];

static int parse(stapler_http_response_t *r, unsigned char *buffer, const uint8_t *data, size_t size,
                 size_t mode)
{
    size_t i = 0;
    int ret = 0;

    stapler_http_response_init(r, buffer, STAPLER_RESPONSE_MAX);
    while (i < size && ret == 0) {
        size_t n = mode == 0 ? size : mode == 1 ? 1 : 1 + (data[i] % 13u);

        if (n > size - i) {
            n = size - i;
        }
        ret = stapler_http_response_feed(r, data + i, n);
        i += n;
    }
    if (ret == 0) {
        ret = stapler_http_response_close(r);
    }
    return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stapler_http_response_t r[3];
    int ret[3];
    size_t m;

    for (m = 0; m < 3; m++) {
        ret[m] = parse(&r[m], body[m], data, size, m);
        if (r[m].body_len > STAPLER_RESPONSE_MAX) {
            fprintf(stderr, "body over its buffer\n");
            abort();
        }
        if (ret[m] == 1 && (r[m].status != 200 || !r[m].content_type_ok)) {
            fprintf(stderr, "completed without a 200 application/ocsp-response\n");
            abort();
        }
        if (ret[m] != 1 && ret[m] >= 0) {
            fprintf(stderr, "neither complete nor an error after close\n");
            abort();
        }
    }
    for (m = 1; m < 3; m++) {
        if (ret[m] != ret[0] || r[m].status != r[0].status ||
            (ret[0] == 1 && (r[m].body_len != r[0].body_len || memcmp(body[m], body[0], r[0].body_len) != 0))) {
            fprintf(stderr, "split-dependent result: %d/%d status %d/%d\n", ret[0], ret[m], r[0].status, r[m].status);
            abort();
        }
    }
    return 0;
}
