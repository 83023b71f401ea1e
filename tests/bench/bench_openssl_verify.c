/*
 * The same OCSP check with OpenSSL (libcrypto), for comparison only:
 *   bench-openssl-verify VECTOR_DIR rsa|ec ITERATIONS
 * Each iteration: d2i_OCSP_RESPONSE + OCSP_response_get1_basic + OCSP_basic_verify (issuer as
 * the trust anchor) + OCSP_resp_find_status + OCSP_check_validity, the issuer and leaf
 * certificates and the trust store set up once beforehand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

static X509 *load_cert(const char *dir, const char *name)
{
    char path[512];
    FILE *f;
    X509 *x;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (f == NULL || (x = d2i_X509_fp(f, NULL)) == NULL) {
        fprintf(stderr, "cannot load %s\n", path);
        exit(2);
    }
    fclose(f);
    return x;
}

int main(int argc, char **argv)
{
    static unsigned char der[8192];
    char path[512];
    long iterations, i;
    size_t len;
    FILE *f;
    int ec;

    if (argc != 4) {
        fprintf(stderr, "usage: bench-openssl-verify VECTOR_DIR rsa|ec ITERATIONS\n");
        return 2;
    }
    ec = strcmp(argv[2], "ec") == 0;
    iterations = strtol(argv[3], NULL, 10);
    X509 *issuer = load_cert(argv[1], ec ? "ca-ec.der" : "ca-rsa.der");
    X509 *leaf = load_cert(argv[1], ec ? "leaf-ec.der" : "leaf-rsa.der");
    snprintf(path, sizeof(path), "%s/%s", argv[1], ec ? "good-ec.der" : "good-rsa-byname.der");
    f = fopen(path, "rb");
    if (f == NULL) {
        return 2;
    }
    len = fread(der, 1, sizeof(der), f);
    fclose(f);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_add_cert(store, issuer);
    STACK_OF(X509) *certs = sk_X509_new_null();
    sk_X509_push(certs, issuer);
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf, issuer);

    for (i = -1; i < iterations; i++) { /* i = -1: the same warm-up the Stapler bench does */
        const unsigned char *p = der;
        OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long) len);
        OCSP_BASICRESP *basic = resp != NULL ? OCSP_response_get1_basic(resp) : NULL;
        ASN1_GENERALIZEDTIME *this_update, *next_update;
        int status, reason;

        if (basic == NULL || OCSP_basic_verify(basic, certs, store, 0) != 1 ||
            OCSP_resp_find_status(basic, id, &status, &reason, NULL, &this_update, &next_update) != 1 ||
            OCSP_check_validity(this_update, next_update, 300, -1) != 1 || status != V_OCSP_CERTSTATUS_GOOD) {
            fprintf(stderr, "OpenSSL verification failed\n");
            return 1;
        }
        OCSP_BASICRESP_free(basic);
        OCSP_RESPONSE_free(resp);
    }
    printf("openssl %s x%ld ok\n", argv[2], iterations);
    OCSP_CERTID_free(id);
    sk_X509_free(certs);
    X509_STORE_free(store);
    X509_free(leaf);
    X509_free(issuer);
    return 0;
}
