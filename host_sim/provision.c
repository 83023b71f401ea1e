/*
 * stapler-sim provision: write a flash image holding the credential store (docs/SPEC.md),
 * the rest erased, as a factory would program a device.
 *
 *   provision --out FLASH.img --cert CHAIN --issuer CA [--key KEY | --key-handle N] [--url URL]
 *             [--trust TLS-CA] [--cert CHAIN --issuer CA ... for the next identity]
 *
 * --trust: the CA certificate(s) (one file, PEM may hold up to STAPLER_TRUST_MAX) the
 * identity trusts for its TLS peers: the servers the device connects to, the clients it
 * authenticates. The device checks its peers against these, never against a built-in list.
 *
 * CHAIN is the device certificate, optionally followed by its intermediates (PEM with
 * several certificates, or one DER certificate). Everything is checked before anything is
 * written: the chain must verify up to CA, the key must match the device certificate.
 */
#define _POSIX_C_SOURCE 200809L

#include "provision.h"
#include "cli_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mbedtls/pem.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

#include "stapler/cert.h"
#include "stapler/config.h"
#include "stapler/credentials.h"
#include "stapler/error.h"
#include "stapler/ocsp.h"
#include "stapler_flash_sim.h"

enum { EXIT_OK = 0, EXIT_INVALID = 1, EXIT_USAGE = 2 };

typedef struct {
    const char *cert;
    const char *issuer;
    const char *key;
    const char *key_handle;
    const char *url;
    const char *trust;
} identity_args_t;

typedef struct {
    mbedtls_x509_crt chain;
    mbedtls_x509_crt issuer;
    mbedtls_x509_crt trust;
    unsigned char key_der[8192];
    size_t key_len;
} identity_material_t;

static int random_bytes(void *context, unsigned char *out, size_t len)
{
    (void) context;
    return getrandom(out, len, 0) == (ssize_t) len ? 0 : -1;
}

/* A private key file (PEM or DER) to DER, checked against the device certificate. */
static int load_key(identity_material_t *m, const char *path)
{
    static const char *const labels[][2] = {
        { "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----" },
        { "-----BEGIN EC PRIVATE KEY-----", "-----END EC PRIVATE KEY-----" },
        { "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----" },
    };
    static unsigned char buf[16384];
    mbedtls_pk_context key;
    long n = stapler_sim_read_file(path, buf, sizeof(buf));
    size_t i;
    int ret = -1;

    if (n < 0) {
        return -1;
    }
    if (strstr((char *) buf, "-----BEGIN") == NULL) {
        if ((size_t) n > sizeof(m->key_der)) {
            return -1;
        }
        memcpy(m->key_der, buf, (size_t) n);
        m->key_len = (size_t) n;
    } else {
        for (i = 0; i < sizeof(labels) / sizeof(labels[0]) && ret != 0; i++) {
            mbedtls_pem_context pem;
            size_t used;
            const unsigned char *der;

            mbedtls_pem_init(&pem);
            ret = mbedtls_pem_read_buffer(&pem, labels[i][0], labels[i][1], buf, NULL, 0, &used);
            der = ret == 0 ? mbedtls_pem_get_buffer(&pem, &m->key_len) : NULL;
            if (der != NULL && m->key_len <= sizeof(m->key_der)) {
                memcpy(m->key_der, der, m->key_len);
            } else {
                ret = -1;
            }
            mbedtls_pem_free(&pem);
        }
        if (ret != 0) {
            fprintf(stderr, "stapler-sim provision: '%s' holds no unencrypted private key "
                            "(PKCS#8, SEC1 or PKCS#1 PEM)\n", path);
            return -1;
        }
    }
    mbedtls_pk_init(&key);
    ret = mbedtls_pk_parse_key(&key, m->key_der, m->key_len, NULL, 0, random_bytes, NULL);
    if (ret != 0) {
        fprintf(stderr, "stapler-sim provision: '%s' is not a private key Stapler can use (-0x%04x)\n",
                path, (unsigned) -ret);
    } else if ((ret = mbedtls_pk_check_pair(&m->chain.pk, &key, random_bytes, NULL)) != 0) {
        fprintf(stderr, "stapler-sim provision: the key in '%s' does not match the device "
                        "certificate: check that both belong to the same identity\n", path);
    }
    mbedtls_pk_free(&key);
    return ret == 0 ? 0 : -1;
}

/* Each certificate of the chain names the next (the last names the issuer) as RFC 5280 7.1
 * compares names, and its signature verifies under that one's key: the check Mbed TLS's chain
 * verification cannot make with an issuer it refuses for its own signature (name and key only). */
static int verify_chain_to_issuer(const mbedtls_x509_crt *chain, const mbedtls_x509_crt *issuer,
                                  const identity_args_t *a)
{
    const mbedtls_x509_crt *c;
    unsigned index = 1;

    for (c = chain; c != NULL && c->raw.len != 0; c = c->next, index++) {
        const mbedtls_x509_crt *parent = c->next != NULL && c->next->raw.len != 0 ? c->next : issuer;
        int ret;

        if (!stapler_cert_name_equal(c->issuer_raw.p, c->issuer_raw.len, parent->subject_raw.p,
                                     parent->subject_raw.len)) {
            fprintf(stderr, "stapler-sim provision: certificate %u of '%s' names an issuer that is not the "
                            "subject of %s: give the certificate that issued the last one in the chain\n",
                    index, a->cert, parent == issuer ? a->issuer : "the next certificate");
            return -1;
        }
        ret = stapler_ocsp_certificate_signed_by(c, parent, 1);
        if (ret != 0) {
            fprintf(stderr, "stapler-sim provision: the signature of certificate %u of '%s' does not verify "
                            "under the key of %s: %s\n", index, a->cert,
                    parent == issuer ? a->issuer : "the next certificate", stapler_error_slug(ret));
            return -1;
        }
    }
    return 0;
}

static int check_identity(identity_material_t *m, const identity_args_t *a, unsigned index,
                          stapler_credential_input_t *in)
{
    const mbedtls_x509_crt *c;
    uint32_t flags = 0;
    const char *url;
    size_t url_len;
    char subject[256];

    if (stapler_sim_load_certificates(&m->chain, a->cert, "certificate chain") != 0 ||
        stapler_sim_load_issuer(&m->issuer, a->issuer, "issuer certificate") != 0) {
        return -1;
    }
    memset(in, 0, sizeof(*in));
    for (c = &m->chain; c != NULL && c->raw.len != 0; c = c->next) {
        if (in->chain_length == STAPLER_CHAIN_MAX) {
            fprintf(stderr, "stapler-sim provision: '%s' has more than %d certificates "
                            "(CONFIG_STAPLER_CHAIN_MAX)\n", a->cert, STAPLER_CHAIN_MAX);
            return -1;
        }
        in->chain[in->chain_length] = c->raw.p;
        in->chain_len[in->chain_length++] = c->raw.len;
    }
    /* The chain must lead to the issuer: otherwise no OCSP response could ever verify. An
     * issuer taken for its name and key only cannot be given to Mbed TLS's verification. */
    if (stapler_cert_is_partial(&m->issuer)) {
        if (verify_chain_to_issuer(&m->chain, &m->issuer, a) != 0) {
            return -1;
        }
    } else if (mbedtls_x509_crt_verify(&m->chain, &m->issuer, NULL, NULL, &flags, NULL, NULL) != 0) {
        fprintf(stderr, "stapler-sim provision: '%s' does not verify up to '%s' (flags 0x%x): "
                        "give the certificate that issued the last one in the chain\n",
                a->cert, a->issuer, (unsigned) flags);
        return -1;
    }
    in->issuer = m->issuer.raw.p;
    in->issuer_len = m->issuer.raw.len;
    if (a->key != NULL) {
        if (load_key(m, a->key) != 0) {
            return -1;
        }
        in->key = m->key_der;
        in->key_len = m->key_len;
    }
    if (a->key_handle != NULL) {
        char *end;
        unsigned long handle = strtoul(a->key_handle, &end, 0);
        if (*end != '\0' || handle > 0xFFFFFFFFul) {
            fprintf(stderr, "stapler-sim provision: --key-handle takes a 32-bit number\n");
            return -1;
        }
        in->has_key_handle = 1;
        in->key_handle = (uint32_t) handle;
    }
    in->url = a->url;
    if (a->trust != NULL) {
        if (stapler_sim_load_certificates(&m->trust, a->trust, "TLS trust anchor") != 0) {
            return -1;
        }
        for (c = &m->trust; c != NULL && c->raw.len != 0; c = c->next) {
            if (in->trust_count == STAPLER_TRUST_MAX) {
                fprintf(stderr, "stapler-sim provision: '%s' has more than %d certificates "
                                "(STAPLER_TRUST_MAX trust anchors per identity)\n", a->trust, STAPLER_TRUST_MAX);
                return -1;
            }
            in->trust[in->trust_count] = c->raw.p;
            in->trust_len[in->trust_count++] = c->raw.len;
        }
    }

    mbedtls_x509_dn_gets(subject, sizeof(subject), &m->chain.subject);
    printf("identity %u: %s, %u certificate%s\n", index, subject, in->chain_length,
           in->chain_length == 1 ? "" : "s");
    if (a->url != NULL) {
        printf("  OCSP responder: %s (override)\n", a->url);
    } else if (stapler_cert_ocsp_url(&m->chain, 0, &url, &url_len) == 0) {
        printf("  OCSP responder: %.*s (from the certificate)\n", (int) url_len, url);
    } else {
        printf("  OCSP responder: none: the certificate names none and no --url was given, so "
               "Stapler will not fetch for this identity (not applicable)\n");
    }
    if (stapler_cert_is_partial(&m->issuer)) {
        printf("  issuer: its own signature algorithm is not built in: its name and key are used\n");
    }
    printf("  must-staple: %s\n", stapler_cert_must_staple(&m->chain) == 1 ? "yes" : "no");
    printf("  key: %s\n", a->key != NULL ? "private key (checked against the certificate)"
                          : a->key_handle != NULL ? "secure element handle" : "none");
    for (c = &m->trust; in->trust_count > 0 && c != NULL && c->raw.len != 0; c = c->next) {
        mbedtls_x509_dn_gets(subject, sizeof(subject), &c->subject);
        printf("  TLS trust anchor: %s\n", subject);
    }
    return 0;
}

int stapler_sim_command_provision(int argc, char **argv)
{
    static identity_args_t args[STAPLER_MAX_IDENTITIES];
    static identity_material_t material[STAPLER_MAX_IDENTITIES];
    static stapler_credential_input_t inputs[STAPLER_MAX_IDENTITIES];
    static unsigned char image[STAPLER_FLASH_REGION_SIZE];
    stapler_flash_sim_t sim;
    const char *out = NULL;
    unsigned count = 0, i;
    size_t length;
    int a, ret, status = EXIT_INVALID;

    memset(args, 0, sizeof(args));
    for (a = 2; a < argc; a++) {
        const char *option = argv[a];
        const char *value = a + 1 < argc ? argv[a + 1] : NULL;
        identity_args_t *current = count > 0 ? &args[count - 1] : NULL;

        if (value == NULL) {
            fprintf(stderr, "stapler-sim provision: %s needs a value\n", option);
            return EXIT_USAGE;
        }
        a++;
        if (strcmp(option, "--out") == 0) {
            out = value;
        } else if (strcmp(option, "--cert") == 0) {
            if (count == STAPLER_MAX_IDENTITIES) {
                fprintf(stderr, "stapler-sim provision: at most %d identities "
                                "(CONFIG_STAPLER_MAX_IDENTITIES)\n", STAPLER_MAX_IDENTITIES);
                return EXIT_USAGE;
            }
            args[count++].cert = value;
        } else if (current == NULL) {
            fprintf(stderr, "stapler-sim provision: %s must follow the --cert it belongs to\n", option);
            return EXIT_USAGE;
        } else if (strcmp(option, "--issuer") == 0) {
            current->issuer = value;
        } else if (strcmp(option, "--key") == 0) {
            current->key = value;
        } else if (strcmp(option, "--key-handle") == 0) {
            current->key_handle = value;
        } else if (strcmp(option, "--url") == 0) {
            current->url = value;
        } else if (strcmp(option, "--trust") == 0) {
            current->trust = value;
        } else {
            fprintf(stderr, "stapler-sim provision: unknown option '%s'; 'stapler-sim help' lists them\n", option);
            return EXIT_USAGE;
        }
    }
    if (out == NULL || count == 0) {
        fprintf(stderr, "stapler-sim provision: --out and at least one --cert are required\n");
        return EXIT_USAGE;
    }
    for (i = 0; i < count; i++) {
        if (args[i].issuer == NULL || (args[i].key != NULL && args[i].key_handle != NULL)) {
            fprintf(stderr, "stapler-sim provision: identity %u needs --issuer, and at most one "
                            "of --key and --key-handle\n", i);
            return EXIT_USAGE;
        }
    }

    for (i = 0; i < count; i++) {
        mbedtls_x509_crt_init(&material[i].chain);
        mbedtls_x509_crt_init(&material[i].issuer);
        mbedtls_x509_crt_init(&material[i].trust);
    }
    for (i = 0; i < count; i++) {
        if (check_identity(&material[i], &args[i], i, &inputs[i]) != 0) {
            goto exit;
        }
    }
    stapler_flash_sim_init(&sim, image, sizeof(image), STAPLER_FLASH_SECTOR_SIZE, 16, NULL);
    ret = stapler_credentials_encode(inputs, count, image, STAPLER_CREDENTIAL_AREA_SIZE, &length);
    if (ret != 0) {
        fprintf(stderr, "stapler-sim provision: %s\n", stapler_error_message(ret));
        goto exit;
    }
    if (stapler_flash_sim_save(&sim, out) != 0) {
        fprintf(stderr, "stapler-sim provision: cannot write '%s'\n", out);
        goto exit;
    }
    printf("wrote %s: %u bytes of flash (credentials %zu of %u bytes; staple cache erased)\n",
           out, (unsigned) sizeof(image), length, (unsigned) STAPLER_CREDENTIAL_AREA_SIZE);
    status = EXIT_OK;
exit:
    for (i = 0; i < count; i++) {
        mbedtls_x509_crt_free(&material[i].chain);
        stapler_cert_free(&material[i].issuer);
        mbedtls_x509_crt_free(&material[i].trust);
    }
    return status;
}
