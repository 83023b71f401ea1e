/* Certificate extensions Mbed TLS does not interpret: see stapler/cert.h. */
#include "stapler/cert.h"

#include <stdint.h>
#include <string.h>

#include "mbedtls/asn1.h"

#include "stapler/error.h"

/* id-pe-authorityInfoAccess 1.3.6.1.5.5.7.1.1, id-pe-tlsfeature 1.3.6.1.5.5.7.1.24,
 * id-ad-ocsp 1.3.6.1.5.5.7.48.1 */
static const unsigned char stapler_oid_aia[] = { 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01 };
static const unsigned char stapler_oid_tls_feature[] = { 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x18 };
static const unsigned char stapler_oid_ad_ocsp[] = { 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01 };

#define STAPLER_TLS_FEATURE_STATUS_REQUEST 5

/* The extnValue contents of the extension with this OID, or STAPLER_ERR_CERT_NO_OCSP_URL
 * as "absent". Mbed TLS has checked the Extensions structure when it parsed the certificate. */
static int stapler_cert_extension(const mbedtls_x509_crt *crt, const unsigned char *oid,
                                  size_t oid_len, unsigned char **value, size_t *value_len)
{
    unsigned char *p = crt->v3_ext.p;
    const unsigned char *end = crt->v3_ext.p + crt->v3_ext.len;
    size_t len;

    if (crt->v3_ext.p == NULL ||
        mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return STAPLER_ERR_CERT_NO_OCSP_URL;
    }
    while (p < end) {
        const unsigned char *ext_end;
        size_t id_len;
        int critical;

        if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
            return STAPLER_ERR_CERT_MALFORMED_EXTENSION;
        }
        ext_end = p + len;
        if (mbedtls_asn1_get_tag(&p, ext_end, &id_len, MBEDTLS_ASN1_OID) != 0) {
            return STAPLER_ERR_CERT_MALFORMED_EXTENSION;
        }
        if (id_len != oid_len || memcmp(p, oid, oid_len) != 0) {
            p = (unsigned char *) (uintptr_t) ext_end;
            continue;
        }
        p += id_len;
        if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN &&
            mbedtls_asn1_get_bool(&p, ext_end, &critical) != 0) {
            return STAPLER_ERR_CERT_MALFORMED_EXTENSION;
        }
        if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0 ||
            p + len != ext_end) {
            return STAPLER_ERR_CERT_MALFORMED_EXTENSION;
        }
        *value = p;
        *value_len = len;
        return 0;
    }
    return STAPLER_ERR_CERT_NO_OCSP_URL;
}

int stapler_cert_ocsp_url(const mbedtls_x509_crt *crt, unsigned index, const char **url,
                          size_t *url_len)
{
    unsigned char *p;
    const unsigned char *end;
    size_t len;
    int ret;

    if (crt == NULL || url == NULL || url_len == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    ret = stapler_cert_extension(crt, stapler_oid_aia, sizeof(stapler_oid_aia), &p, &len);
    if (ret != 0) {
        return ret;
    }
    end = p + len;
    /* AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription */
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        p + len != end) {
        return STAPLER_ERR_CERT_MALFORMED_EXTENSION;
    }
    while (p < end) {
        const unsigned char *desc_end;
        size_t method_len;
        int is_ocsp;

        /* AccessDescription ::= SEQUENCE { accessMethod OID, accessLocation GeneralName } */
        if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
            return STAPLER_ERR_CERT_MALFORMED_EXTENSION;
        }
        desc_end = p + len;
        if (mbedtls_asn1_get_tag(&p, desc_end, &method_len, MBEDTLS_ASN1_OID) != 0) {
            return STAPLER_ERR_CERT_MALFORMED_EXTENSION;
        }
        is_ocsp = method_len == sizeof(stapler_oid_ad_ocsp) &&
                  memcmp(p, stapler_oid_ad_ocsp, method_len) == 0;
        p += method_len;
        /* uniformResourceIdentifier [6] IA5String; other GeneralName forms are skipped. */
        if (is_ocsp && p < desc_end && *p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 6)) {
            if (mbedtls_asn1_get_tag(&p, desc_end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 6) != 0 ||
                p + len != desc_end || len == 0) {
                return STAPLER_ERR_CERT_MALFORMED_EXTENSION;
            }
            if (index == 0) {
                *url = (const char *) p;
                *url_len = len;
                return 0;
            }
            index--;
        }
        p = (unsigned char *) (uintptr_t) desc_end;
    }
    return STAPLER_ERR_CERT_NO_OCSP_URL;
}

int stapler_cert_must_staple(const mbedtls_x509_crt *crt)
{
    unsigned char *p;
    const unsigned char *end;
    size_t len;
    int ret, feature;

    if (crt == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    ret = stapler_cert_extension(crt, stapler_oid_tls_feature, sizeof(stapler_oid_tls_feature),
                                 &p, &len);
    if (ret == STAPLER_ERR_CERT_NO_OCSP_URL) {
        return 0; /* no TLS Feature extension */
    }
    if (ret != 0) {
        return ret;
    }
    end = p + len;
    /* Features ::= SEQUENCE OF INTEGER (RFC 7633 6) */
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        p + len != end) {
        return STAPLER_ERR_CERT_MALFORMED_EXTENSION;
    }
    while (p < end) {
        if (mbedtls_asn1_get_int(&p, end, &feature) != 0) {
            return STAPLER_ERR_CERT_MALFORMED_EXTENSION;
        }
        if (feature == STAPLER_TLS_FEATURE_STATUS_REQUEST) {
            return 1;
        }
    }
    return 0;
}
