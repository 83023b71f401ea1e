/*
 * stapler-bench-verify: the work one OCSP check costs, for instruction counting under
 * valgrind --tool=callgrind (tools/bench-verify drives it and does the arithmetic).
 *
 *   stapler-bench-verify VECTOR_DIR rsa|ec full|floor ITERATIONS
 *   stapler-bench-verify VECTOR_DIR rsa|ec|delegated stack
 *
 *   full   ITERATIONS x (decode the response + find our CertID + verify signature,
 *          responder and time window), the issuer certificate parsed once beforehand, as the
 *          agent keeps it.
 *   floor  ITERATIONS x mbedtls_pk_verify() of the same signature over the same hash,
 *          precomputed: the cryptographic floor no OCSP implementation can go below.
 * Setup (file reading, certificate parsing) is the same for both and for ITERATIONS = 0,
 * which is how the script subtracts it.
 *   stack  one decode+verify on a thread whose stack was painted beforehand: prints the
 *          deepest byte it touched (the high-water mark, Mbed TLS included).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/md.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

#include "stapler/error.h"
#include "stapler/ocsp.h"
#include "stapler_posix.h"
#include "test_support.h"

static unsigned char response_der[8192];
static size_t response_len;

static size_t load(const char *dir, const char *name, unsigned char *buf, size_t size)
{
    long n = stapler_test_read(dir, name, buf, size);

    if (n < 0) {
        exit(2);
    }
    return (size_t) n;
}

static void load_crt(mbedtls_x509_crt *crt, const char *dir, const char *name)
{
    if (stapler_test_load_crt(crt, dir, name) != 0) {
        fprintf(stderr, "bad certificate %s\n", name);
        exit(2);
    }
}

#define PAINT 0xA5
#define PAINTED_STACK (256 * 1024)

typedef struct {
    const char *dir;
    const char *kind;
    int ret;
} stack_job_t;

static void *verify_once(void *arg)
{
    stack_job_t *job = arg;
    const int ec = strcmp(job->kind, "ec") == 0, delegated = strcmp(job->kind, "delegated") == 0;
    static mbedtls_x509_crt leaf, issuer;
    stapler_ocsp_response_t response;
    stapler_ocsp_result_t result;
    stapler_ocsp_policy_t policy;
    stapler_ocsp_single_t single;

    load_crt(&leaf, job->dir, ec ? "leaf-ec.der" : "leaf-rsa.der");
    load_crt(&issuer, job->dir, ec ? "ca-ec.der" : "ca-rsa.der");
    response_len = load(job->dir, ec ? "good-ec.der" : delegated ? "delegated-rsa.der" : "good-rsa-byname.der",
                        response_der, sizeof(response_der));
    job->ret = stapler_ocsp_response_parse(&response, response_der, response_len);
    if (job->ret == 0) {
        job->ret = stapler_ocsp_response_find(&response, &leaf, &issuer, &single);
    }
    if (job->ret == 0) {
        stapler_ocsp_policy_init(&policy, single.this_update + 60);
        job->ret = stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result);
    }
    mbedtls_x509_crt_free(&leaf);
    mbedtls_x509_crt_free(&issuer);
    return NULL;
}

/* Run verify_once on a painted stack; the stack grows down, so the lowest byte that is no
 * longer paint marks the deepest point reached. Certificate parsing is included: the agent
 * does it at boot, on the same stack. */
static int measure_stack(const char *dir, const char *kind)
{
    static unsigned char stack[PAINTED_STACK] __attribute__((aligned(64)));
    stack_job_t job = { dir, kind, -1 };
    pthread_attr_t attr;
    pthread_t thread;
    size_t i;

    memset(stack, PAINT, sizeof(stack));
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstack(&attr, stack, sizeof(stack)) != 0 ||
        pthread_create(&thread, &attr, verify_once, &job) != 0 || pthread_join(thread, NULL) != 0) {
        fprintf(stderr, "could not run on a painted stack\n");
        return 1;
    }
    for (i = 0; i < sizeof(stack) && stack[i] == PAINT; i++) {
    }
    if (job.ret != 0) {
        fprintf(stderr, "verification failed: %s\n", stapler_error_message(job.ret));
        return 1;
    }
    /* The thread's own start-up (TLS block, guard) sits at the top too: it is counted. */
    printf("%s stack high-water: %zu bytes\n", kind, sizeof(stack) - i);
    return 0;
}

int main(int argc, char **argv)
{
    mbedtls_x509_crt leaf, issuer;
    stapler_ocsp_response_t response;
    stapler_ocsp_result_t result;
    stapler_ocsp_policy_t policy;
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];
    mbedtls_md_type_t md;
    mbedtls_pk_type_t pk_type;
    long iterations, i;
    int ec, full, ret;

    if (argc == 4 && strcmp(argv[3], "stack") == 0) {
        if (stapler_posix_mbedtls_setup() != 0) {
            return 1;
        }
        return measure_stack(argv[1], argv[2]);
    }
    if (argc != 5 || (strcmp(argv[2], "rsa") != 0 && strcmp(argv[2], "ec") != 0) ||
        (strcmp(argv[3], "full") != 0 && strcmp(argv[3], "floor") != 0)) {
        fprintf(stderr, "usage: stapler-bench-verify VECTOR_DIR rsa|ec full|floor ITERATIONS\n");
        return 2;
    }
    ec = strcmp(argv[2], "ec") == 0;
    full = strcmp(argv[3], "full") == 0;
    iterations = strtol(argv[4], NULL, 10);
    if (stapler_posix_mbedtls_setup() != 0) {
        return 1;
    }
    load_crt(&leaf, argv[1], ec ? "leaf-ec.der" : "leaf-rsa.der");
    load_crt(&issuer, argv[1], ec ? "ca-ec.der" : "ca-rsa.der");
    response_len = load(argv[1], ec ? "good-ec.der" : "good-rsa-byname.der", response_der,
                        sizeof(response_der));

    /* Both modes do the same setup: one checked verification, so that the issuer key's
     * cached values (RSA's Montgomery constant, ECP tables) are in place for either. */
    ret = stapler_ocsp_response_parse(&response, response_der, response_len);
    if (ret == 0) {
        stapler_ocsp_single_t single;
        ret = stapler_ocsp_response_find(&response, &leaf, &issuer, &single);
        stapler_ocsp_policy_init(&policy, single.this_update + 60);
    }
    if (ret == 0) {
        ret = stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result);
    }
    if (ret != 0 || mbedtls_oid_get_sig_alg(&response.sig_alg, &md, &pk_type) != 0 ||
        mbedtls_md(mbedtls_md_info_from_type(md), response.tbs, response.tbs_len, hash) != 0) {
        fprintf(stderr, "setup failed: %s\n", stapler_error_message(ret));
        return 1;
    }

    for (i = 0; i < iterations; i++) {
        if (full) {
            ret = stapler_ocsp_response_parse(&response, response_der, response_len);
            if (ret == 0) {
                ret = stapler_ocsp_response_verify(&response, &leaf, &issuer, &policy, &result);
            }
        } else {
            ret = mbedtls_pk_verify(&issuer.pk, md, hash, mbedtls_md_get_size(mbedtls_md_info_from_type(md)),
                                    response.signature, response.signature_len);
        }
        if (ret != 0) {
            fprintf(stderr, "iteration %ld failed: %d\n", i, ret);
            return 1;
        }
    }
    printf("%s %s x%ld ok\n", argv[2], argv[3], iterations);
    mbedtls_x509_crt_free(&leaf);
    mbedtls_x509_crt_free(&issuer);
    return 0;
}
