/* Small helpers shared by stapler-sim's commands: see cli_util.h. */
#define _POSIX_C_SOURCE 200809L

#include "cli_util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mbedtls/oid.h"
#include "mbedtls/pem.h"
#include "mbedtls/pk.h"

#include "stapler/agent.h"
#include "stapler/cert.h"
#include "stapler/ocsp.h"

int stapler_sim_parse_time(const char *text, int64_t *seconds)
{
    static const int digit_at[] = { 0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18 };
    unsigned char generalized[15];
    size_t i;

    /* The same fields as a GeneralizedTime, so the codec's strict parser checks them. */
    if (strlen(text) != 20 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':' ||
        (text[19] != 'Z' && text[19] != 'z')) {
        return -1;
    }
    for (i = 0; i < 14; i++) {
        generalized[i] = (unsigned char) text[digit_at[i]];
    }
    generalized[14] = 'Z';
    return stapler_ocsp_time_parse(generalized, sizeof(generalized), seconds) == 0 ? 0 : -1;
}

const char *stapler_sim_format_time(int64_t seconds, char *buf, size_t size)
{
    time_t t = (time_t) seconds;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(buf, size, "invalid");
    }
    return buf;
}

long stapler_sim_read_file(const char *path, unsigned char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    int too_large;

    if (f == NULL) {
        fprintf(stderr, "stapler-sim: cannot open '%s'\n", path);
        return -1;
    }
    n = fread(buf, 1, size - 1, f);
    too_large = n == size - 1 && fgetc(f) != EOF;
    fclose(f);
    if (too_large) {
        fprintf(stderr, "stapler-sim: '%s' is larger than %zu bytes\n", path, size - 1);
        return -2;
    }
    buf[n] = '\0';
    return (long) n;
}

/* Signature algorithms seen on certificates this build refuses, by dotted OID. */
static const char *signature_algorithm_name(const char *oid)
{
    static const char *const names[][2] = {
        { "1.2.840.113549.1.1.2", "md2WithRSAEncryption" },
        { "1.2.840.113549.1.1.3", "md4WithRSAEncryption" },
        { "1.2.840.113549.1.1.4", "md5WithRSAEncryption" },
        { "1.2.840.113549.1.1.10", "RSASSA-PSS" },
        { "1.3.101.112", "Ed25519" },
        { "1.3.101.113", "Ed448" },
        { "2.16.840.1.101.3.4.3.17", "ML-DSA-44" },
        { "2.16.840.1.101.3.4.3.18", "ML-DSA-65" },
        { "2.16.840.1.101.3.4.3.19", "ML-DSA-87" },
        { "2.16.840.1.101.3.4.3.14", "sha3-256WithRSA" },
        { "1.2.156.10197.1.501", "SM2-with-SM3" },
    };
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(oid, names[i][0]) == 0) {
            return names[i][1];
        }
    }
    return NULL;
}

void stapler_sim_x509_reason(int ret, const unsigned char *der, size_t der_len, char *buf, size_t size)
{
    const int high = -((-ret) & 0xFF80);
    stapler_cert_fields_t fields;

    switch (high) {
        case MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG: {
            char oid[64] = "?";
            const char *name;

            if (der != NULL && stapler_cert_fields(der, der_len, &fields) == 0) {
                mbedtls_asn1_buf b = { MBEDTLS_ASN1_OID, fields.sig_oid_len, (unsigned char *) (uintptr_t) fields.sig_oid };
                (void) mbedtls_oid_get_numeric_string(oid, sizeof(oid), &b);
            }
            name = signature_algorithm_name(oid);
            snprintf(buf, size, "it is signed with %s%s%s%s, which this build of Mbed TLS does not implement",
                     oid, name != NULL ? " (" : "", name != NULL ? name : "", name != NULL ? ")" : "");
            return;
        }
        case MBEDTLS_ERR_PK_UNKNOWN_PK_ALG:
            snprintf(buf, size, "its public key is of a kind this build does not implement (Kconfig "
                                "chooses RSA and the ECDSA curves: menuconfig, OCSP)");
            return;
        case MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE:
            snprintf(buf, size, "its public key is on an elliptic curve this build does not implement "
                                "(Kconfig chooses the curves, CONFIG_STAPLER_ALGO_ECDSA_P256 and "
                                "CONFIG_STAPLER_ALGO_ECDSA_P384, and P-384 rules out the p256-m crypto "
                                "configuration: menuconfig, OCSP)");
            return;
        case MBEDTLS_ERR_PK_KEY_INVALID_FORMAT:
        case MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE:
            snprintf(buf, size, "its public key is malformed, or on an elliptic curve this build does not "
                                "implement");
            return;
        case MBEDTLS_ERR_X509_INVALID_EXTENSIONS:
            snprintf(buf, size, "an extension is malformed, or critical and unknown to Mbed TLS (as a CT "
                                "precertificate's poison extension is)");
            return;
        case MBEDTLS_ERR_X509_UNKNOWN_VERSION:
            snprintf(buf, size, "it is of an X.509 version Mbed TLS does not know");
            return;
        case MBEDTLS_ERR_X509_SIG_MISMATCH:
            snprintf(buf, size, "its two signature algorithm fields differ");
            return;
        case MBEDTLS_ERR_X509_ALLOC_FAILED:
            snprintf(buf, size, "the Mbed TLS arena is full (CONFIG_STAPLER_MBEDTLS_ARENA_SIZE)");
            return;
        default:
            snprintf(buf, size, "it is not well-formed DER X.509");
            return;
    }
}

/* One certificate (DER) into crt: Mbed TLS's parser, or for an issuer also
 * stapler_cert_parse_issuer()'s name-and-key fallback. Says why not, naming the certificate. */
static int load_one(mbedtls_x509_crt *crt, const unsigned char *der, size_t der_len, int as_issuer,
                    const char *path, const char *what, unsigned index, int several)
{
    char where[32] = "", why[200];
    int partial = 0, ret;

    ret = as_issuer ? stapler_cert_parse_issuer(crt, der, der_len, &partial)
                    : mbedtls_x509_crt_parse_der(crt, der, der_len);
    if (several) {
        snprintf(where, sizeof(where), " (certificate %u)", index);
    }
    if (ret != 0) {
        stapler_sim_x509_reason(ret, der, der_len, why, sizeof(why));
        fprintf(stderr, "stapler-sim: %s '%s'%s cannot be used: %s (Mbed TLS error -0x%04x)\n", what, path, where,
                why, (unsigned) -ret);
        return -1;
    }
    if (partial) {
        stapler_sim_x509_reason(MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG, der, der_len, why, sizeof(why));
        fprintf(stderr, "stapler-sim: note: %s '%s'%s: %s; only its name and key are used (OCSP needs no more, "
                        "and a trust anchor's own signature is never checked)\n", what, path, where, why);
    }
    return 0;
}

/* Every certificate of a file (PEM, possibly several, or one DER); the first of an issuer file
 * may be one Mbed TLS refuses for its own signature. */
static int load_file(mbedtls_x509_crt *crt, const char *path, const char *what, int as_issuer)
{
    static unsigned char buf[65536];
    long n = stapler_sim_read_file(path, buf, sizeof(buf));
    const unsigned char *p;
    unsigned index = 0, count = 0;

    if (n < 0) {
        return -1;
    }
    if (strstr((const char *) buf, "-----BEGIN") == NULL) {
        return load_one(crt, buf, (size_t) n, as_issuer, path, what, 1, 0);
    }
    /* Count first, so a message can say "certificate 2" only when there are several. */
    for (p = buf; (p = (const unsigned char *) strstr((const char *) p, "-----BEGIN CERTIFICATE-----")) != NULL; p++) {
        count++;
    }
    for (p = buf; *p != '\0';) {
        mbedtls_pem_context pem;
        const unsigned char *der;
        size_t used, der_len;
        int ret;

        mbedtls_pem_init(&pem);
        ret = mbedtls_pem_read_buffer(&pem, "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----", p, NULL, 0,
                                      &used);
        if (ret == MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT) {
            mbedtls_pem_free(&pem);
            break;
        }
        index++;
        if (ret != 0) {
            mbedtls_pem_free(&pem);
            fprintf(stderr, "stapler-sim: %s '%s' (certificate %u): not valid PEM (Mbed TLS error -0x%04x)\n", what,
                    path, index, (unsigned) -ret);
            return -1;
        }
        der = mbedtls_pem_get_buffer(&pem, &der_len);
        ret = load_one(crt, der, der_len, as_issuer && index == 1, path, what, index, count > 1);
        mbedtls_pem_free(&pem);
        if (ret != 0) {
            return -1;
        }
        p += used;
    }
    if (index == 0) {
        fprintf(stderr, "stapler-sim: %s '%s' is not a PEM or DER X.509 certificate\n", what, path);
        return -1;
    }
    return 0;
}

int stapler_sim_load_certificates(mbedtls_x509_crt *crt, const char *path, const char *what)
{
    return load_file(crt, path, what, 0);
}

int stapler_sim_load_issuer(mbedtls_x509_crt *crt, const char *path, const char *what)
{
    return load_file(crt, path, what, 1);
}

const char *stapler_sim_state_name(int state)
{
    return stapler_agent_state_name(state);
}
