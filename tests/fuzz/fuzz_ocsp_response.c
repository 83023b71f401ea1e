/*
 * Fuzz target: OCSP response decode + find + verify (firmware/src/ocsp.c) on hostile input,
 * judged for the vectors' leaf-rsa / ca-rsa pair (so CertID matching, signature and
 * responder-authorization paths are reached, not only the decoder). Besides the sanitizers'
 * checks it asserts: a decoded response points only into the input; the verdict is
 * deterministic; the Mbed TLS arena's largest free block is as large afterwards as before.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/platform.h"
#include "mbedtls/x509_crt.h"
#include "stapler/error.h"
#include "stapler/ocsp.h"
#include "stapler_mbedtls_platform.h"
#include "stapler_posix.h"
#include "test_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mbedtls_x509_crt leaf, issuer;
static size_t largest_free_block;
static const unsigned char warmup_hash[32];
static const unsigned char warmup_signature[256];

static void within(const uint8_t *data, size_t size, const unsigned char *p, size_t len)
{
    if (p != NULL && (p < data || p + len > data + size)) {
        fprintf(stderr, "decoded field points outside the input\n");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    stapler_ocsp_response_t response;
    stapler_ocsp_result_t result, again;
    stapler_ocsp_policy_t policy;
    int ret, ret2;
    void *probe;

    if (!ready) {
        if (stapler_posix_mbedtls_setup() != 0) {
            abort();
        }
        if (stapler_test_load_crt(&leaf, STAPLER_VECTOR_DIR, "leaf-rsa.der") != 0 ||
            stapler_test_load_crt(&issuer, STAPLER_VECTOR_DIR, "ca-rsa.der") != 0) {
            abort();
        }
        /* The issuer key's first use caches its RSA Montgomery constant in the context: do
         * it now, so the baseline below includes it. */
        if (mbedtls_pk_verify(&issuer.pk, MBEDTLS_MD_SHA256, warmup_hash, sizeof(warmup_hash),
                              warmup_signature, sizeof(warmup_signature)) == 0) {
            abort(); /* a zero signature cannot verify */
        }
        largest_free_block = stapler_test_largest_free_block();
        ready = 1;
    }
    if (stapler_ocsp_response_parse(&response, data, size) != 0 ||
        response.response_status != STAPLER_OCSP_SUCCESSFUL) {
        return 0;
    }
    within(data, size, response.tbs, response.tbs_len);
    within(data, size, response.responder, response.responder_len);
    within(data, size, response.responses, response.responses_len);
    within(data, size, response.nonce, response.nonce_len);
    within(data, size, response.signature, response.signature_len);
    within(data, size, response.certs, response.certs_len);

    stapler_ocsp_policy_init(&policy, response.produced_at + 60);
    ret = stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result);
    ret2 = stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &again);
    if (ret != ret2 || memcmp(&result, &again, sizeof(result)) != 0) {
        fprintf(stderr, "verification is not deterministic\n");
        abort();
    }
    if (ret == STAPLER_ERR_INTERNAL) {
        fprintf(stderr, "internal error on input\n");
        abort();
    }

    /* Everything verification allocated is back, unfragmented. */
    probe = mbedtls_calloc(1, largest_free_block);
    if (probe == NULL) {
        fprintf(stderr, "arena leak: the arena is not whole after a verification\n");
        abort();
    }
    mbedtls_free(probe);
    return 0;
}
