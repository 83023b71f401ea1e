/*
 * OCSP codec (RFC 6960, RFC 9919 (was RFC 5019), RFC 9654 nonces): see stapler/ocsp.h.
 *
 * DER is read and written with Mbed TLS's asn1parse/asn1write; this file adds only what DER
 * strictness needs on top (shortest-form lengths, exact nesting, no trailing bytes).
 */
#include "stapler/ocsp.h"

#include <string.h>

#include "mbedtls/asn1.h"
#include "mbedtls/asn1write.h"
#include "mbedtls/base64.h"
#include "mbedtls/md.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/x509.h"

#include "stapler/cert.h"
#include "stapler/config.h"
#include "stapler/error.h"

#include "crypto.h"

/* id-pkix-ocsp-basic 1.3.6.1.5.5.7.48.1.1 and id-pkix-ocsp-nonce 1.3.6.1.5.5.7.48.1.2 */
static const unsigned char stapler_oid_ocsp_basic[] = { 0x2B, 0x06, 0x01, 0x05, 0x05,
                                                       0x07, 0x30, 0x01, 0x01 };
static const unsigned char stapler_oid_ocsp_nonce[] = { 0x2B, 0x06, 0x01, 0x05, 0x05,
                                                       0x07, 0x30, 0x01, 0x02 };
/* id-kp-OCSPSigning 1.3.6.1.5.5.7.3.9 (RFC 6960 4.2.2.2) */
static const unsigned char stapler_oid_ocsp_signing[] = { 0x2B, 0x06, 0x01, 0x05, 0x05,
                                                         0x07, 0x03, 0x09 };
/* id-mgf1 1.2.840.113549.1.1.8 (RFC 4055) */
static const unsigned char stapler_oid_mgf1[] = { 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D,
                                                 0x01, 0x01, 0x08 };

/* The algorithm OIDs Stapler knows, compared as DER content bytes: Mbed TLS 4 no longer
 * offers its OID tables (mbedtls_oid_get_*), and these few are all OCSP needs. */
typedef struct {
    unsigned char oid[9];
    unsigned char len;
    mbedtls_md_type_t md;
    stapler_crypto_sig_t sig; /* STAPLER_CRYPTO_SIG_NONE for a hash algorithm */
} stapler_alg_oid_t;

#define STAPLER_OID_PKCS1(n) { 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, (n) }, 9
#define STAPLER_OID_NIST_HASH(n) { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, (n) }, 9
#define STAPLER_OID_ECDSA_SHA2(n) { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, (n) }, 8

static const stapler_alg_oid_t stapler_alg_oids[] = {
    /* Hashes: id-sha1 1.3.14.3.2.26 (RFC 3279), id-sha224..512 2.16.840.1.101.3.4.2.x */
    { { 0x2B, 0x0E, 0x03, 0x02, 0x1A }, 5, MBEDTLS_MD_SHA1, STAPLER_CRYPTO_SIG_NONE },
    { STAPLER_OID_NIST_HASH(4), MBEDTLS_MD_SHA224, STAPLER_CRYPTO_SIG_NONE },
    { STAPLER_OID_NIST_HASH(1), MBEDTLS_MD_SHA256, STAPLER_CRYPTO_SIG_NONE },
    { STAPLER_OID_NIST_HASH(2), MBEDTLS_MD_SHA384, STAPLER_CRYPTO_SIG_NONE },
    { STAPLER_OID_NIST_HASH(3), MBEDTLS_MD_SHA512, STAPLER_CRYPTO_SIG_NONE },
    /* shaNWithRSAEncryption 1.2.840.113549.1.1.x (RFC 3279, RFC 4055) */
    { STAPLER_OID_PKCS1(5), MBEDTLS_MD_SHA1, STAPLER_CRYPTO_SIG_RSA_PKCS1V15 },
    { STAPLER_OID_PKCS1(14), MBEDTLS_MD_SHA224, STAPLER_CRYPTO_SIG_RSA_PKCS1V15 },
    { STAPLER_OID_PKCS1(11), MBEDTLS_MD_SHA256, STAPLER_CRYPTO_SIG_RSA_PKCS1V15 },
    { STAPLER_OID_PKCS1(12), MBEDTLS_MD_SHA384, STAPLER_CRYPTO_SIG_RSA_PKCS1V15 },
    { STAPLER_OID_PKCS1(13), MBEDTLS_MD_SHA512, STAPLER_CRYPTO_SIG_RSA_PKCS1V15 },
    /* sha-1WithRSAEncryption 1.3.14.3.2.29 (OIW; Mbed TLS 3.6 accepted it too) */
    { { 0x2B, 0x0E, 0x03, 0x02, 0x1D }, 5, MBEDTLS_MD_SHA1, STAPLER_CRYPTO_SIG_RSA_PKCS1V15 },
    /* id-RSASSA-PSS 1.2.840.113549.1.1.10: the hash is in the parameters */
    { STAPLER_OID_PKCS1(10), MBEDTLS_MD_NONE, STAPLER_CRYPTO_SIG_RSA_PSS },
    /* ecdsa-with-SHA1 1.2.840.10045.4.1, ecdsa-with-SHA224..512 1.2.840.10045.4.3.x */
    { { 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x01 }, 7, MBEDTLS_MD_SHA1, STAPLER_CRYPTO_SIG_ECDSA },
    { STAPLER_OID_ECDSA_SHA2(1), MBEDTLS_MD_SHA224, STAPLER_CRYPTO_SIG_ECDSA },
    { STAPLER_OID_ECDSA_SHA2(2), MBEDTLS_MD_SHA256, STAPLER_CRYPTO_SIG_ECDSA },
    { STAPLER_OID_ECDSA_SHA2(3), MBEDTLS_MD_SHA384, STAPLER_CRYPTO_SIG_ECDSA },
    { STAPLER_OID_ECDSA_SHA2(4), MBEDTLS_MD_SHA512, STAPLER_CRYPTO_SIG_ECDSA },
};

/* The entry for an OID, hashes (want_sig 0) or signature algorithms (want_sig 1); NULL if
 * unknown. */
static const stapler_alg_oid_t *stapler_alg_oid_find(const unsigned char *oid, size_t len,
                                                     int want_sig)
{
    size_t i;

    for (i = 0; i < sizeof(stapler_alg_oids) / sizeof(stapler_alg_oids[0]); i++) {
        const stapler_alg_oid_t *a = &stapler_alg_oids[i];

        if ((a->sig != STAPLER_CRYPTO_SIG_NONE) == (want_sig != 0) && a->len == len &&
            memcmp(a->oid, oid, len) == 0) {
            return a;
        }
    }
    return NULL;
}

/* The hash algorithm's own entry (its OID for a CertID), NULL if none. */
static const stapler_alg_oid_t *stapler_hash_entry(mbedtls_md_type_t md)
{
    size_t i;

    for (i = 0; i < sizeof(stapler_alg_oids) / sizeof(stapler_alg_oids[0]); i++) {
        if (stapler_alg_oids[i].sig == STAPLER_CRYPTO_SIG_NONE && stapler_alg_oids[i].md == md) {
            return &stapler_alg_oids[i];
        }
    }
    return NULL;
}

/* The hash algorithm an OID names, MBEDTLS_MD_NONE if none Stapler knows. */
static mbedtls_md_type_t stapler_hash_oid(const unsigned char *oid, size_t len)
{
    const stapler_alg_oid_t *a = stapler_alg_oid_find(oid, len, 0);

    return a != NULL ? a->md : MBEDTLS_MD_NONE;
}

#define STAPLER_SHA1_LEN 20

/* ---- DER reading ------------------------------------------------------------------- */

/* Mbed TLS's ASN.1 readers take `unsigned char **` cursors but never write through them. */
static unsigned char *stapler_cursor(const unsigned char *p)
{
    return (unsigned char *) (uintptr_t) p;
}

/* mbedtls_asn1_get_tag plus DER's rule that lengths use the shortest form (X.690 10.1).
 * Mbed TLS already rejects indefinite lengths and lengths running past `end`. */
static int stapler_der_tag(unsigned char **p, const unsigned char *end, size_t *len, int tag)
{
    const unsigned char *start = *p;

    if (mbedtls_asn1_get_tag(p, end, len, tag) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    if (*p - start > 2) {
        /* Long form: only for lengths >= 128, and without leading zero octets. */
        if (*len < 0x80 || start[2] == 0x00) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
    }
    return 0;
}

/* stapler_der_tag() for an element that must end exactly at `end` (DER nests exactly). */
static int stapler_der_tag_to_end(unsigned char **p, const unsigned char *end, size_t *len, int tag)
{
    return stapler_der_tag(p, end, len, tag) == 0 && *p + *len == end ? 0 : STAPLER_ERR_OCSP_MALFORMED;
}

/* Peek: does the next element carry `tag`? */
static int stapler_der_next_is(const unsigned char *p, const unsigned char *end, int tag)
{
    return p < end && *p == (unsigned char) tag;
}

static int stapler_der_time(unsigned char **p, const unsigned char *end, int64_t *seconds)
{
    size_t len;
    int ret = stapler_der_tag(p, end, &len, MBEDTLS_ASN1_GENERALIZED_TIME);

    if (ret != 0) {
        return ret;
    }
    ret = stapler_ocsp_time_parse(*p, len, seconds);
    *p += len;
    return ret;
}

/* ---- Time ---------------------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil algorithm). */
static int64_t stapler_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned) (y - era * 400);
    doy = (153 * (m + (m > 2 ? (unsigned) -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t) doe - 719468;
}

static int stapler_digits(const unsigned char *text, size_t count, unsigned *value)
{
    size_t i;

    *value = 0;
    for (i = 0; i < count; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return -1;
        }
        *value = *value * 10 + (unsigned) (text[i] - '0');
    }
    return 0;
}

static int stapler_civil_to_seconds(unsigned year, unsigned month, unsigned day, unsigned hour,
                                    unsigned minute, unsigned second, int64_t *seconds)
{
    static const unsigned char days_in_month[12] = { 31, 29, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31 };
    const int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    if (month < 1 || month > 12 || day < 1 || day > days_in_month[month - 1] ||
        (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 59) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    *seconds = stapler_days_from_civil(year, month, day) * 86400 +
               (int64_t) (hour * 3600u + minute * 60u + second);
    return 0;
}

int stapler_ocsp_time_parse(const unsigned char *text, size_t len, int64_t *seconds)
{
    unsigned year, month, day, hour, minute, second;
    size_t i = 14;

    /* GeneralizedTime in DER: YYYYMMDDHHMMSS, optional fraction without trailing zeros,
     * then 'Z' (X.690 11.7). RFC 5280 forbids the fraction; some responders send one. */
    if (len < 15 || stapler_digits(text, 4, &year) != 0 ||
        stapler_digits(text + 4, 2, &month) != 0 || stapler_digits(text + 6, 2, &day) != 0 ||
        stapler_digits(text + 8, 2, &hour) != 0 || stapler_digits(text + 10, 2, &minute) != 0 ||
        stapler_digits(text + 12, 2, &second) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    if (text[i] == '.') {
        i++;
        while (i < len && text[i] >= '0' && text[i] <= '9') {
            i++;
        }
        if (i == 15 || text[i - 1] == '0') {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
    }
    if (i + 1 != len || text[i] != 'Z') {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    return stapler_civil_to_seconds(year, month, day, hour, minute, second, seconds);
}

int64_t stapler_ocsp_x509_time(const mbedtls_x509_time *t)
{
    int64_t seconds = 0;

    if (t->year < 0 || t->mon < 0 || t->day < 0 || t->hour < 0 || t->min < 0 || t->sec < 0 ||
        stapler_civil_to_seconds((unsigned) t->year, (unsigned) t->mon, (unsigned) t->day,
                                 (unsigned) t->hour, (unsigned) t->min, (unsigned) t->sec,
                                 &seconds) != 0) {
        return INT64_MIN;
    }
    return seconds;
}

/* ---- Hashing helpers --------------------------------------------------------------- */

/* The subjectPublicKey BIT STRING contents of a SubjectPublicKeyInfo (what key hashes
 * cover: RFC 6960 4.1.1 issuerKeyHash, 4.2.1 KeyHash). */
static int stapler_public_key_bits(const unsigned char *spki, size_t spki_len,
                                   const unsigned char **bits, size_t *bits_len)
{
    unsigned char *p = stapler_cursor(spki);
    const unsigned char *end = spki + spki_len;
    size_t len;

    if (spki == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }

    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    p += len;
    if (mbedtls_asn1_get_bitstring_null(&p, end, &len) != 0) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    *bits = p;
    *bits_len = len;
    return 0;
}

/* Digests are MBEDTLS_MD_MAX_SIZE buffers throughout. */
static int stapler_hash(mbedtls_md_type_t md, const unsigned char *data, size_t len,
                        unsigned char *out, size_t *out_len)
{
    return stapler_crypto_hash(md, data, len, out, MBEDTLS_MD_MAX_SIZE, out_len);
}

/* ---- Request --------------------------------------------------------------------- */

void stapler_ocsp_policy_init(stapler_ocsp_policy_t *policy, int64_t now)
{
    memset(policy, 0, sizeof(*policy));
    policy->now = now;
    policy->clock_skew = CONFIG_STAPLER_CLOCK_SKEW_S;
    policy->max_age_without_next_update = CONFIG_STAPLER_MAX_AGE_WITHOUT_NEXT_UPDATE_S;
    policy->allow_sha1_signatures = STAPLER_IS_ENABLED(CONFIG_STAPLER_ALLOW_SHA1_SIGNATURES);
}

/* Writing with asn1write goes backwards from the end of the buffer; each helper returns the
 * number of bytes written or a negative Mbed TLS error, as asn1write does. */
#define STAPLER_ASN1_CHK_ADD(total, call)                                                    \
    do {                                                                                     \
        int stapler_chk_ret_ = (call);                                                       \
        if (stapler_chk_ret_ < 0) {                                                          \
            return stapler_chk_ret_;                                                         \
        }                                                                                    \
        (total) += (size_t) stapler_chk_ret_;                                                \
    } while (0)

/* The length and tag in front of `len` content bytes already written at *p. */
static int stapler_der_write_header(unsigned char **p, unsigned char *start, size_t len,
                                    unsigned char tag)
{
    size_t header = 0;

    STAPLER_ASN1_CHK_ADD(header, mbedtls_asn1_write_len(p, start, len));
    STAPLER_ASN1_CHK_ADD(header, mbedtls_asn1_write_tag(p, start, tag));
    return (int) header;
}

static int stapler_write_certid(unsigned char **p, unsigned char *start,
                                const mbedtls_x509_crt *cert, const mbedtls_x509_crt *issuer,
                                stapler_ocsp_certid_hash_t hash)
{
    const mbedtls_md_type_t md = hash == STAPLER_OCSP_CERTID_SHA256 ? MBEDTLS_MD_SHA256
                                                                     : MBEDTLS_MD_SHA1;
    unsigned char digest[MBEDTLS_MD_MAX_SIZE];
    const unsigned char *key_bits;
    const stapler_alg_oid_t *alg = stapler_hash_entry(md);
    size_t digest_len, key_len, len = 0;
    int ret;

    /* serialNumber: the certificate's INTEGER contents, copied as encoded. */
    if (cert->serial.len == 0 || (size_t) (*p - start) < cert->serial.len) {
        return MBEDTLS_ERR_ASN1_BUF_TOO_SMALL;
    }
    *p -= cert->serial.len;
    memcpy(*p, cert->serial.p, cert->serial.len);
    len += cert->serial.len;
    STAPLER_ASN1_CHK_ADD(len, stapler_der_write_header(p, start, cert->serial.len, MBEDTLS_ASN1_INTEGER));

    /* issuerKeyHash, issuerNameHash */
    ret = stapler_public_key_bits(issuer->pk_raw.p, issuer->pk_raw.len, &key_bits, &key_len);
    if (ret != 0) {
        return MBEDTLS_ERR_ASN1_INVALID_DATA;
    }
    if (stapler_hash(md, key_bits, key_len, digest, &digest_len) != 0) {
        return MBEDTLS_ERR_ASN1_INVALID_DATA;
    }
    STAPLER_ASN1_CHK_ADD(len, mbedtls_asn1_write_octet_string(p, start, digest, digest_len));
    /* RFC 6960 4.1.1: the issuer's name as encoded in the certificate being checked, which
     * need not be the bytes of the issuer certificate's own subject. */
    if (stapler_hash(md, cert->issuer_raw.p, cert->issuer_raw.len, digest, &digest_len) != 0) {
        return MBEDTLS_ERR_ASN1_INVALID_DATA;
    }
    STAPLER_ASN1_CHK_ADD(len, mbedtls_asn1_write_octet_string(p, start, digest, digest_len));

    /* hashAlgorithm, with NULL parameters as OpenSSL and most clients send it. */
    if (alg == NULL) {
        return MBEDTLS_ERR_ASN1_INVALID_DATA;
    }
    STAPLER_ASN1_CHK_ADD(len, mbedtls_asn1_write_algorithm_identifier(p, start, (const char *) alg->oid,
                                                                      alg->len, 0));

    STAPLER_ASN1_CHK_ADD(len, stapler_der_write_header(p, start, len,
                                                       MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int) len;
}

static int stapler_write_nonce_extensions(unsigned char **p, unsigned char *start,
                                          const unsigned char *nonce, size_t nonce_len)
{
    size_t len = 0;

    /* extnValue OCTET STRING { OCTET STRING nonce } (RFC 8954 2.1) */
    STAPLER_ASN1_CHK_ADD(len, mbedtls_asn1_write_octet_string(p, start, nonce, nonce_len));
    STAPLER_ASN1_CHK_ADD(len, stapler_der_write_header(p, start, len, MBEDTLS_ASN1_OCTET_STRING));
    STAPLER_ASN1_CHK_ADD(len, mbedtls_asn1_write_oid(p, start, (const char *) stapler_oid_ocsp_nonce,
                                                     sizeof(stapler_oid_ocsp_nonce)));
    /* Extension SEQUENCE, Extensions SEQUENCE OF, requestExtensions [2] EXPLICIT */
    STAPLER_ASN1_CHK_ADD(len, stapler_der_write_header(p, start, len,
                                                       MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    STAPLER_ASN1_CHK_ADD(len, stapler_der_write_header(p, start, len,
                                                       MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    STAPLER_ASN1_CHK_ADD(len, stapler_der_write_header(p, start, len, MBEDTLS_ASN1_CONTEXT_SPECIFIC |
                                                                          MBEDTLS_ASN1_CONSTRUCTED | 2));
    return (int) len;
}

int stapler_ocsp_request_write(const mbedtls_x509_crt *cert, const mbedtls_x509_crt *issuer,
                               stapler_ocsp_certid_hash_t hash, const unsigned char *nonce,
                               size_t nonce_len, unsigned char *out, size_t out_size,
                               size_t *out_len)
{
    unsigned char *p;
    size_t len = 0, list_len;
    int ret = STAPLER_ERR_INTERNAL;

    if (cert == NULL || issuer == NULL || out == NULL || out_len == NULL ||
        (hash != STAPLER_OCSP_CERTID_SHA1 && hash != STAPLER_OCSP_CERTID_SHA256) ||
        (nonce != NULL && (nonce_len == 0 || nonce_len > STAPLER_OCSP_NONCE_MAX))) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    p = out + out_size;

#define STAPLER_REQUEST_CHK(call)                                                            \
    do {                                                                                     \
        ret = (call);                                                                        \
        if (ret < 0) {                                                                       \
            goto fail;                                                                       \
        }                                                                                    \
        len += (size_t) ret;                                                                 \
    } while (0)

    if (nonce != NULL) {
        STAPLER_REQUEST_CHK(stapler_write_nonce_extensions(&p, out, nonce, nonce_len));
    }
    list_len = len;
    /* requestList SEQUENCE OF Request { reqCert CertID } */
    STAPLER_REQUEST_CHK(stapler_write_certid(&p, out, cert, issuer, hash));
    STAPLER_REQUEST_CHK(stapler_der_write_header(&p, out, len - list_len,
                                                 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    STAPLER_REQUEST_CHK(stapler_der_write_header(&p, out, len - list_len,
                                                 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    /* tbsRequest, OCSPRequest */
    STAPLER_REQUEST_CHK(stapler_der_write_header(&p, out, len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    STAPLER_REQUEST_CHK(stapler_der_write_header(&p, out, len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
#undef STAPLER_REQUEST_CHK

    memmove(out, p, len);
    *out_len = len;
    return 0;

fail:
    return ret == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL ? STAPLER_ERR_BUFFER_TOO_SMALL
                                                 : STAPLER_ERR_INVALID_ARGUMENT;
}

int stapler_ocsp_request_get_url(const char *base_url, const unsigned char *request,
                                 size_t request_len, char *out, size_t out_size,
                                 size_t *out_len, int *fits_rfc5019)
{
    static const char hex[] = "0123456789ABCDEF";
    unsigned char b64[(STAPLER_OCSP_REQUEST_MAX + 2) / 3 * 4 + 1];
    size_t base_len, b64_len, i, n;

    if (base_url == NULL || request == NULL || out == NULL || request_len == 0 ||
        request_len > STAPLER_OCSP_REQUEST_MAX) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    if (mbedtls_base64_encode(b64, sizeof(b64), &b64_len, request, request_len) != 0) {
        return STAPLER_ERR_INTERNAL;
    }
    base_len = strlen(base_url);
    n = base_len;
    if (n + 1 > out_size) {
        return STAPLER_ERR_BUFFER_TOO_SMALL;
    }
    memcpy(out, base_url, base_len);
    if (base_len == 0 || base_url[base_len - 1] != '/') {
        out[n++] = '/';
    }
    /* RFC 6960 A.1: url-encoding of the base64; '+', '/' and '=' are the only characters of
     * the base64 alphabet that need it. */
    for (i = 0; i < b64_len; i++) {
        const unsigned char c = b64[i];
        const int escape = (c == '+' || c == '/' || c == '=');

        if (n + (escape ? 3u : 1u) + 1 > out_size) {
            return STAPLER_ERR_BUFFER_TOO_SMALL;
        }
        if (escape) {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 0x0F];
        } else {
            out[n++] = (char) c;
        }
    }
    out[n] = '\0';
    if (out_len != NULL) {
        *out_len = n;
    }
    if (fits_rfc5019 != NULL) {
        *fits_rfc5019 = n <= 255;
    }
    return 0;
}

/* ---- Response decoding ------------------------------------------------------------ */

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension. Only the nonce is understood;
 * anything else marked critical rejects the response (RFC 5280 4.2). */
static int stapler_parse_extensions(unsigned char *p, const unsigned char *end,
                                    const unsigned char **nonce, size_t *nonce_len)
{
    size_t len;
    int ret;

    if (stapler_der_tag_to_end(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        len == 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    while (p < end) {
        const unsigned char *ext_end, *oid;
        size_t oid_len;
        int critical = 0;

        ret = stapler_der_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
        if (ret != 0) {
            return ret;
        }
        ext_end = p + len;
        ret = stapler_der_tag(&p, ext_end, &oid_len, MBEDTLS_ASN1_OID);
        if (ret != 0) {
            return ret;
        }
        oid = p;
        p += oid_len;
        if (stapler_der_next_is(p, ext_end, MBEDTLS_ASN1_BOOLEAN)) {
            /* DER: a DEFAULT FALSE field is present only when TRUE (X.690 11.5). */
            if (mbedtls_asn1_get_bool(&p, ext_end, &critical) != 0 || !critical) {
                return STAPLER_ERR_OCSP_MALFORMED;
            }
        }
        ret = stapler_der_tag_to_end(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING);
        if (ret != 0) {
            return ret;
        }
        if (nonce != NULL && oid_len == sizeof(stapler_oid_ocsp_nonce) &&
            memcmp(oid, stapler_oid_ocsp_nonce, oid_len) == 0) {
            /* RFC 8954: the value is an OCTET STRING holding the nonce. Some responders
             * (RFC 6960's original text) put the raw nonce there: accept both. */
            unsigned char *q = p;
            size_t inner;

            if (stapler_der_tag_to_end(&q, ext_end, &inner, MBEDTLS_ASN1_OCTET_STRING) == 0) {
                *nonce = q;
                *nonce_len = inner;
            } else {
                *nonce = p;
                *nonce_len = len;
            }
        } else if (critical) {
            return STAPLER_ERR_OCSP_CRITICAL_EXTENSION;
        }
        p = stapler_cursor(ext_end);
    }
    return 0;
}

static int stapler_ocsp_response_decode(stapler_ocsp_response_t *response,
                                        const unsigned char *der, size_t der_len)
{
    unsigned char *p = stapler_cursor(der);
    const unsigned char *end = der + der_len, *basic_end, *tbs_end;
    size_t len;
    int status, ret = STAPLER_ERR_OCSP_MALFORMED;

    /* OCSPResponse ::= SEQUENCE { responseStatus, responseBytes [0] EXPLICIT OPTIONAL } */
    if (stapler_der_tag_to_end(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        mbedtls_asn1_get_enum(&p, end, &status) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    switch (status) {
        case STAPLER_OCSP_SUCCESSFUL: case STAPLER_OCSP_MALFORMED_REQUEST:
        case STAPLER_OCSP_INTERNAL_ERROR: case STAPLER_OCSP_TRY_LATER:
        case STAPLER_OCSP_SIG_REQUIRED: case STAPLER_OCSP_UNAUTHORIZED:
            break;
        default:
            return STAPLER_ERR_OCSP_MALFORMED;
    }
    if (status != STAPLER_OCSP_SUCCESSFUL) {
        /* RFC 6960 4.2.1: responseBytes only with a successful status. */
        if (p != end) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        response->response_status = status;
        return 0;
    }
    response->response_status = status;

    /* responseBytes [0] EXPLICIT ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING } */
    if (stapler_der_tag_to_end(&p, end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0) != 0 ||
        stapler_der_tag_to_end(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        stapler_der_tag(&p, end, &len, MBEDTLS_ASN1_OID) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    if (len != sizeof(stapler_oid_ocsp_basic) || memcmp(p, stapler_oid_ocsp_basic, len) != 0) {
        return STAPLER_ERR_OCSP_UNSUPPORTED_RESPONSE_TYPE;
    }
    p += len;
    if (stapler_der_tag_to_end(&p, end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }

    /* BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature, certs [0] EXPLICIT OPTIONAL } */
    if (stapler_der_tag_to_end(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    basic_end = end;

    /* ResponseData ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, responderID, producedAt,
     *                             responses, responseExtensions [1] EXPLICIT OPTIONAL } */
    response->tbs = p;
    if (stapler_der_tag(&p, basic_end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    tbs_end = p + len;
    response->tbs_len = (size_t) (tbs_end - response->tbs);

    if (stapler_der_next_is(p, tbs_end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) {
        int version;

        if (stapler_der_tag(&p, tbs_end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0) != 0 ||
            mbedtls_asn1_get_int(&p, p + len, &version) != 0 || version != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
    }
    /* ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash } (explicit tags) */
    if (stapler_der_next_is(p, tbs_end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 1)) {
        const unsigned char *name_end;

        if (stapler_der_tag(&p, tbs_end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 1) != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        name_end = p + len;
        response->responder = p;
        if (stapler_der_tag_to_end(&p, name_end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        response->responder_len = (size_t) (name_end - response->responder);
        p += len;
    } else {
        const unsigned char *choice_end;

        if (stapler_der_tag(&p, tbs_end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 2) != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        choice_end = p + len;
        if (stapler_der_tag_to_end(&p, choice_end, &len, MBEDTLS_ASN1_OCTET_STRING) != 0 ||
            len != STAPLER_SHA1_LEN) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        response->responder_by_key = 1;
        response->responder = p;
        response->responder_len = len;
        p += len;
    }
    ret = stapler_der_time(&p, tbs_end, &response->produced_at);
    if (ret != 0) {
        return ret;
    }
    /* responses SEQUENCE OF SingleResponse: walked by stapler_ocsp_response_find(). */
    if (stapler_der_tag(&p, tbs_end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        len == 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    response->responses = p;
    response->responses_len = len;
    p += len;
    if (stapler_der_next_is(p, tbs_end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 1)) {
        if (stapler_der_tag_to_end(&p, tbs_end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 1) != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        ret = stapler_parse_extensions(p, tbs_end, &response->nonce, &response->nonce_len);
        if (ret != 0) {
            return ret;
        }
        p += len;
    }
    if (p != tbs_end) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }

    /* signatureAlgorithm, signature */
    if (mbedtls_asn1_get_alg(&p, basic_end, &response->sig_alg, &response->sig_params) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    if (mbedtls_asn1_get_bitstring_null(&p, basic_end, &len) != 0 || len == 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    response->signature = p;
    response->signature_len = len;
    p += len;

    /* certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL */
    if (p < basic_end) {
        const unsigned char *certs_end;

        if (stapler_der_tag_to_end(&p, basic_end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0) != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        certs_end = p + len;
        if (stapler_der_tag_to_end(&p, certs_end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        response->certs = p;
        response->certs_len = len;
        p += len;
    }
    return p == basic_end ? 0 : STAPLER_ERR_OCSP_MALFORMED;
}

int stapler_ocsp_response_parse(stapler_ocsp_response_t *response, const unsigned char *der,
                                size_t der_len)
{
    int ret, status;

    if (response == NULL || (der == NULL && der_len != 0)) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    memset(response, 0, sizeof(*response));
    response->response_status = -1;
    ret = stapler_ocsp_response_decode(response, der, der_len);
    if (ret != 0) {
        /* Nothing half-decoded stays usable; only the status, if it was read. */
        status = response->response_status;
        memset(response, 0, sizeof(*response));
        response->response_status = status;
    }
    return ret;
}

/* ---- Finding our SingleResponse ------------------------------------------------------ */

/* CertID hashes of our issuer under one hash algorithm, computed once per algorithm. */
typedef struct {
    mbedtls_md_type_t md;
    unsigned char name_hash[MBEDTLS_MD_MAX_SIZE];     /* of the certificate's issuer field */
    unsigned char subject_hash[MBEDTLS_MD_MAX_SIZE];  /* of the issuer's subject, if encoded otherwise */
    unsigned char key_hash[MBEDTLS_MD_MAX_SIZE];
    size_t hash_len;
    int has_subject_hash;
} stapler_issuer_hashes_t;

static int stapler_issuer_hashes(stapler_issuer_hashes_t *h, mbedtls_md_type_t md,
                                 const mbedtls_x509_crt *cert, const mbedtls_x509_crt *issuer)
{
    const unsigned char *key_bits;
    size_t key_len;
    int ret;

    if (h->md == md) {
        return 0;
    }
    ret = stapler_public_key_bits(issuer->pk_raw.p, issuer->pk_raw.len, &key_bits, &key_len);
    if (ret != 0) {
        return ret;
    }
    /* RFC 6960 4.1.1 hashes the name as the certificate's issuer field encodes it. A responder
     * that hashes its CA certificate's subject instead, where the two encodings differ, still
     * names the same CA (the key hash binds the key): both are ours. */
    ret = stapler_hash(md, cert->issuer_raw.p, cert->issuer_raw.len, h->name_hash, &h->hash_len);
    h->has_subject_hash = cert->issuer_raw.len != issuer->subject_raw.len ||
                          memcmp(cert->issuer_raw.p, issuer->subject_raw.p, cert->issuer_raw.len) != 0;
    if (ret == 0 && h->has_subject_hash) {
        ret = stapler_hash(md, issuer->subject_raw.p, issuer->subject_raw.len, h->subject_hash,
                           &h->hash_len);
    }
    if (ret == 0) {
        ret = stapler_hash(md, key_bits, key_len, h->key_hash, &h->hash_len);
    }
    h->md = ret == 0 ? md : MBEDTLS_MD_NONE;
    return ret;
}

/* One SingleResponse: parse it all (so a malformed entry is caught even when it is not
 * ours), and say whether its CertID is ours. */
static int stapler_parse_single(unsigned char **cursor, const unsigned char *end,
                                const mbedtls_x509_crt *cert, const mbedtls_x509_crt *issuer,
                                stapler_issuer_hashes_t *hashes, stapler_ocsp_single_t *single,
                                int *ours)
{
    unsigned char *p = *cursor;
    const unsigned char *single_end, *certid_end, *name_hash, *key_hash;
    mbedtls_x509_buf alg, params;
    mbedtls_md_type_t md;
    size_t len, name_len, key_len;
    int ret;

    memset(single, 0, sizeof(*single));
    single->revocation_reason = STAPLER_OCSP_REASON_NONE;
    *ours = 0;

    ret = stapler_der_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    if (ret != 0) {
        return ret;
    }
    single_end = p + len;

    /* CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber } */
    if (stapler_der_tag(&p, single_end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    certid_end = p + len;
    if (mbedtls_asn1_get_alg(&p, certid_end, &alg, &params) != 0 ||
        stapler_der_tag(&p, certid_end, &name_len, MBEDTLS_ASN1_OCTET_STRING) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    name_hash = p;
    p += name_len;
    if (stapler_der_tag(&p, certid_end, &key_len, MBEDTLS_ASN1_OCTET_STRING) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    key_hash = p;
    p += key_len;
    if (stapler_der_tag_to_end(&p, certid_end, &len, MBEDTLS_ASN1_INTEGER) != 0 || len == 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    single->serial = p;
    single->serial_len = len;
    p += len;

    /* certStatus: good [0] IMPLICIT NULL | revoked [1] IMPLICIT RevokedInfo | unknown [2] IMPLICIT NULL */
    if (stapler_der_next_is(p, single_end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0)) {
        if (stapler_der_tag(&p, single_end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0) != 0 || len != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        single->cert_status = STAPLER_OCSP_GOOD;
    } else if (stapler_der_next_is(p, single_end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) {
        if (stapler_der_tag(&p, single_end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2) != 0 || len != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        single->cert_status = STAPLER_OCSP_UNKNOWN;
    } else {
        const unsigned char *revoked_end;

        if (stapler_der_tag(&p, single_end, &len,
                            MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 1) != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        revoked_end = p + len;
        ret = stapler_der_time(&p, revoked_end, &single->revocation_time);
        if (ret != 0) {
            return ret;
        }
        if (p < revoked_end) {
            /* revocationReason [0] EXPLICIT CRLReason (ENUMERATED, RFC 5280 5.3.1) */
            int reason;

            if (stapler_der_tag_to_end(&p, revoked_end, &len,
                                       MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0) != 0 ||
                mbedtls_asn1_get_enum(&p, revoked_end, &reason) != 0 ||
                reason < 0 || reason > 10 || reason == 7) {
                return STAPLER_ERR_OCSP_MALFORMED;
            }
            single->revocation_reason = reason;
        }
        if (p != revoked_end) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        single->cert_status = STAPLER_OCSP_REVOKED;
    }

    ret = stapler_der_time(&p, single_end, &single->this_update);
    if (ret != 0) {
        return ret;
    }
    if (stapler_der_next_is(p, single_end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) {
        const unsigned char *next_end;

        if (stapler_der_tag(&p, single_end, &len,
                            MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0) != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        next_end = p + len;
        ret = stapler_der_time(&p, next_end, &single->next_update);
        if (ret != 0 || p != next_end) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        single->has_next_update = 1;
    }
    if (stapler_der_next_is(p, single_end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 1)) {
        if (stapler_der_tag_to_end(&p, single_end, &len,
                                   MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 1) != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        ret = stapler_parse_extensions(p, single_end, NULL, NULL);
        if (ret != 0) {
            return ret;
        }
        p += len;
    }
    if (p != single_end) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    *cursor = p;

    /* Ours? Serial first (cheap), then the issuer hashes under this entry's algorithm. */
    if (single->serial_len != cert->serial.len ||
        memcmp(single->serial, cert->serial.p, single->serial_len) != 0) {
        return 0;
    }
    md = stapler_hash_oid(alg.p, alg.len);
    if (md == MBEDTLS_MD_NONE) {
        return 0; /* a hash we do not know cannot be about our certificate as we see it */
    }
    ret = stapler_issuer_hashes(hashes, md, cert, issuer);
    if (ret != 0) {
        return ret == STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM ? 0 : ret;
    }
    *ours = name_len == hashes->hash_len && key_len == hashes->hash_len &&
            memcmp(key_hash, hashes->key_hash, key_len) == 0 &&
            (memcmp(name_hash, hashes->name_hash, name_len) == 0 ||
             (hashes->has_subject_hash && memcmp(name_hash, hashes->subject_hash, name_len) == 0));
    return 0;
}

int stapler_ocsp_response_find(const stapler_ocsp_response_t *response,
                               const mbedtls_x509_crt *cert, const mbedtls_x509_crt *issuer,
                               stapler_ocsp_single_t *single)
{
    stapler_issuer_hashes_t hashes;
    stapler_ocsp_single_t candidate;
    unsigned char *p;
    const unsigned char *end;
    int ours, found = 0, ret;

    if (response == NULL || cert == NULL || issuer == NULL || single == NULL ||
        response->response_status != STAPLER_OCSP_SUCCESSFUL || response->tbs == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    memset(&hashes, 0, sizeof(hashes));
    hashes.md = MBEDTLS_MD_NONE;
    p = stapler_cursor(response->responses);
    end = response->responses + response->responses_len;
    while (p < end) {
        ret = stapler_parse_single(&p, end, cert, issuer, &hashes, &candidate, &ours);
        if (ret != 0) {
            return ret;
        }
        if (ours && !found) {
            *single = candidate;
            found = 1;
        }
    }
    return found ? 0 : STAPLER_ERR_OCSP_CERT_NOT_IN_RESPONSE;
}

/* ---- Signature and responder authorization --------------------------------------- */

/* The hash inside an AlgorithmIdentifier's contents (OID, optional NULL). */
static int stapler_hash_alg(unsigned char *p, const unsigned char *end, mbedtls_md_type_t *md)
{
    const unsigned char *oid;
    size_t len, oid_len;

    if (stapler_der_tag(&p, end, &len, MBEDTLS_ASN1_OID) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    oid = p;
    oid_len = len;
    p += len;
    if (p < end && (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_NULL) != 0 || len != 0)) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    if (p != end) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    *md = stapler_hash_oid(oid, oid_len);
    return *md != MBEDTLS_MD_NONE ? 0 : STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM;
}

/* RSASSA-PSS-params (RFC 4055 3.1): hash, MGF1 hash and salt length; defaults SHA-1, MGF1
 * with SHA-1, 20. The MGF1 hash must be the message hash (what PSA, and so Mbed TLS 4, can
 * check; every CA does so). The salt length is read but not enforced: PSA verifies PSS with
 * any salt length (PSA_ALG_RSA_PSS_ANY_SALT), which PSS's security does not depend on. */
static int stapler_pss_params(const mbedtls_asn1_buf *params, mbedtls_md_type_t *md)
{
    unsigned char *p = params->p;
    const unsigned char *end = params->p + params->len, *field_end;
    mbedtls_md_type_t mgf1_md = MBEDTLS_MD_SHA1;
    size_t len;
    int value, ret;

    *md = MBEDTLS_MD_SHA1;
    if (params->tag != (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    if (stapler_der_next_is(p, end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) {
        if (stapler_der_tag(&p, end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0) != 0 ||
            stapler_der_tag(&p, p + len, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        ret = stapler_hash_alg(p, p + len, md);
        if (ret != 0) {
            return ret;
        }
        p += len;
    }
    if (stapler_der_next_is(p, end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 1)) {
        mbedtls_asn1_buf mgf, mgf_params;

        if (stapler_der_tag(&p, end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 1) != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        field_end = p + len;
        if (mbedtls_asn1_get_alg(&p, field_end, &mgf, &mgf_params) != 0 || p != field_end) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        if (mgf.len != sizeof(stapler_oid_mgf1) ||
            memcmp(mgf.p, stapler_oid_mgf1, sizeof(stapler_oid_mgf1)) != 0 ||
            mgf_params.tag != (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) {
            return STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM;
        }
        ret = stapler_hash_alg(mgf_params.p, mgf_params.p + mgf_params.len, &mgf1_md);
        if (ret != 0) {
            return ret;
        }
    }
    if (stapler_der_next_is(p, end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 2)) {
        if (stapler_der_tag(&p, end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 2) != 0 ||
            mbedtls_asn1_get_int(&p, p + len, &value) != 0 || value < 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
    }
    if (stapler_der_next_is(p, end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3)) {
        if (stapler_der_tag(&p, end, &len, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3) != 0 ||
            mbedtls_asn1_get_int(&p, p + len, &value) != 0 || value != 1) {
            return STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM;
        }
    }
    if (p != end) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    return mgf1_md == *md ? 0 : STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM;
}

/* Verify `signature` over `data` with `key`, for an X.509 signature algorithm
 * (AlgorithmIdentifier OID + parameters). */
static int stapler_verify_signature(const mbedtls_asn1_buf *alg, const mbedtls_asn1_buf *params,
                                    const unsigned char *data, size_t data_len,
                                    const unsigned char *signature, size_t signature_len,
                                    const mbedtls_pk_context *key, int allow_sha1)
{
    unsigned char digest[MBEDTLS_MD_MAX_SIZE];
    const stapler_alg_oid_t *sig_alg = stapler_alg_oid_find(alg->p, alg->len, 1);
    mbedtls_md_type_t md;
    size_t digest_len;
    int ret;

    if (sig_alg == NULL) {
        return STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM;
    }
    md = sig_alg->md;
    if (sig_alg->sig == STAPLER_CRYPTO_SIG_RSA_PSS) {
        ret = stapler_pss_params(params, &md);
        if (ret != 0) {
            return ret;
        }
    } else if (params->tag != 0 && (params->tag != MBEDTLS_ASN1_NULL || params->len != 0)) {
        /* PKCS#1 v1.5: NULL parameters; ECDSA: none (RFC 5758 3.2). */
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    if (md == MBEDTLS_MD_SHA1 && !allow_sha1) {
        return STAPLER_ERR_OCSP_SHA1_SIGNATURE;
    }
    ret = stapler_hash(md, data, data_len, digest, &digest_len);
    if (ret != 0) {
        return ret;
    }
    /* The key must be of the kind the algorithm names (no RSA key for an ECDSA signature):
     * stapler_crypto_verify() checks that first. */
    return stapler_crypto_verify(key, sig_alg->sig, md, digest, digest_len, signature,
                                 signature_len);
}

/* A certificate's signed part, algorithm and signature are read from its DER (the parsed
 * structure keeps them private in Mbed TLS 3.6). */
int stapler_ocsp_certificate_signed_by(const mbedtls_x509_crt *crt, const mbedtls_x509_crt *signer,
                                       int allow_sha1)
{
    unsigned char *p, *tbs;
    const unsigned char *end;
    mbedtls_asn1_buf alg, params;
    size_t len, tbs_len;

    if (crt == NULL || signer == NULL || crt->raw.p == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    p = crt->raw.p;
    end = crt->raw.p + crt->raw.len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    tbs = p;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    p += len;
    tbs_len = (size_t) (p - tbs);
    if (mbedtls_asn1_get_alg(&p, end, &alg, &params) != 0 ||
        mbedtls_asn1_get_bitstring_null(&p, end, &len) != 0) {
        return STAPLER_ERR_OCSP_MALFORMED;
    }
    return stapler_verify_signature(&alg, &params, tbs, tbs_len, p, len,
                                    &signer->pk, allow_sha1);
}

/* Does ResponderID name the certificate with this subject and SubjectPublicKeyInfo?
 * byName: the subject, compared as RFC 5280 7.1 says; byKey: the SHA-1 of its public key
 * bits (RFC 6960 4.2.1). */
static int stapler_responder_is(const stapler_ocsp_response_t *response, const unsigned char *subject,
                                size_t subject_len, const unsigned char *spki, size_t spki_len)
{
    unsigned char digest[MBEDTLS_MD_MAX_SIZE];
    const unsigned char *bits;
    size_t bits_len, digest_len;

    if (!response->responder_by_key) {
        return stapler_cert_name_equal(response->responder, response->responder_len, subject,
                                       subject_len);
    }
    if (stapler_public_key_bits(spki, spki_len, &bits, &bits_len) != 0 ||
        stapler_hash(MBEDTLS_MD_SHA1, bits, bits_len, digest, &digest_len) != 0) {
        return 0;
    }
    return response->responder_len == digest_len &&
           memcmp(response->responder, digest, digest_len) == 0;
}

/* RFC 6960 4.2.2.2: a delegated responder certificate is issued directly by the CA that
 * issued the certificate in question, carries id-kp-OCSPSigning, and (local policy) is
 * valid now. */
static int stapler_check_delegate(mbedtls_x509_crt *delegate, const mbedtls_x509_crt *issuer,
                                  const stapler_ocsp_policy_t *policy)
{
    int ret;

    /* Issued by our issuer: names compared as RFC 5280 7.1 says (then the signature decides). */
    if (!stapler_cert_name_equal(delegate->issuer_raw.p, delegate->issuer_raw.len,
                                 issuer->subject_raw.p, issuer->subject_raw.len)) {
        return STAPLER_ERR_OCSP_RESPONDER_NOT_AUTHORIZED;
    }
    /* RFC 6960 4.2.2.2: delegated responder must carry id-kp-OCSPSigning. Mbed TLS treats a
     * missing EKU extension as "any usage", so its presence is checked first. */
    if (!stapler_crypto_crt_has_eku(delegate) ||
        mbedtls_x509_crt_check_extended_key_usage(delegate, (const char *) stapler_oid_ocsp_signing,
                                                  sizeof(stapler_oid_ocsp_signing)) != 0) {
        return STAPLER_ERR_OCSP_RESPONDER_NOT_AUTHORIZED;
    }
    /* Issued by our issuer: its signature must verify under the issuer's key. */
    ret = stapler_ocsp_certificate_signed_by(delegate, issuer, policy->allow_sha1_signatures);
    if (ret == STAPLER_ERR_OCSP_BAD_SIGNATURE) {
        return STAPLER_ERR_OCSP_RESPONDER_NOT_AUTHORIZED;
    }
    if (ret != 0) {
        return ret;
    }
    if (stapler_ocsp_x509_time(&delegate->valid_from) > policy->now + (int64_t) policy->clock_skew ||
        stapler_ocsp_x509_time(&delegate->valid_to) + (int64_t) policy->clock_skew < policy->now) {
        return STAPLER_ERR_OCSP_RESPONDER_CERT_EXPIRED;
    }
    return 0;
}

static int stapler_check_signer(const stapler_ocsp_response_t *response,
                                const mbedtls_x509_crt *issuer,
                                const stapler_ocsp_policy_t *policy, int *delegated,
                                int64_t *signer_not_after)
{
    unsigned char *p;
    const unsigned char *end;
    int ret, signer_unusable = 0;

    *delegated = 0;
    if (stapler_responder_is(response, issuer->subject_raw.p, issuer->subject_raw.len,
                             issuer->pk_raw.p, issuer->pk_raw.len)) {
        *signer_not_after = stapler_ocsp_x509_time(&issuer->valid_to);
        return stapler_verify_signature(&response->sig_alg, &response->sig_params, response->tbs,
                                        response->tbs_len, response->signature,
                                        response->signature_len,
                                        &issuer->pk,
                                        policy->allow_sha1_signatures);
    }
    /* Not the issuer: the signer's certificate must be in the response. */
    p = stapler_cursor(response->certs);
    end = response->certs != NULL ? response->certs + response->certs_len : NULL;
    while (p != NULL && p < end) {
        mbedtls_x509_crt delegate;
        unsigned char *cert_start = p;
        size_t len;

        if (stapler_der_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
            return STAPLER_ERR_OCSP_MALFORMED;
        }
        p += len;
        mbedtls_x509_crt_init(&delegate);
        ret = mbedtls_x509_crt_parse_der_nocopy(&delegate, cert_start, (size_t) (p - cert_start));
        if (ret != 0) {
            stapler_cert_fields_t fields;

            mbedtls_x509_crt_free(&delegate);
            if (ret == MBEDTLS_ERR_X509_ALLOC_FAILED) {
                return STAPLER_ERR_NO_MEMORY;
            }
            /* A certificate this build cannot parse (an algorithm not built in, a CT
             * precertificate, a future post-quantum one): the signature does not cover certs,
             * so it is skipped and the signer looked for among the others. It matters only if
             * it is the signer itself. */
            if (stapler_cert_fields(cert_start, (size_t) (p - cert_start), &fields) == 0 &&
                stapler_responder_is(response, fields.subject, fields.subject_len, fields.spki,
                                     fields.spki_len)) {
                signer_unusable = 1;
            }
            continue;
        }
        if (stapler_responder_is(response, delegate.subject_raw.p, delegate.subject_raw.len,
                                 delegate.pk_raw.p, delegate.pk_raw.len)) {
            *signer_not_after = stapler_ocsp_x509_time(&delegate.valid_to);
            ret = stapler_check_delegate(&delegate, issuer, policy);
            if (ret == 0) {
                ret = stapler_verify_signature(&response->sig_alg, &response->sig_params,
                                               response->tbs, response->tbs_len,
                                               response->signature, response->signature_len,
                                               &delegate.pk, policy->allow_sha1_signatures);
            }
            mbedtls_x509_crt_free(&delegate);
            *delegated = 1;
            return ret;
        }
        mbedtls_x509_crt_free(&delegate);
    }
    /* The signer's certificate is there but uses what this build lacks: say that, not "missing". */
    return signer_unusable ? STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM : STAPLER_ERR_OCSP_RESPONDER_CERT_MISSING;
}

int stapler_ocsp_response_verify(const stapler_ocsp_response_t *response,
                                 const mbedtls_x509_crt *cert, const mbedtls_x509_crt *issuer,
                                 const stapler_ocsp_policy_t *policy,
                                 stapler_ocsp_result_t *result)
{
    const stapler_ocsp_single_t *single;
    int64_t skew;
    int ret = STAPLER_ERR_INTERNAL;

    if (response == NULL || cert == NULL || issuer == NULL || policy == NULL || result == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    memset(result, 0, sizeof(*result));
    result->single.revocation_reason = STAPLER_OCSP_REASON_NONE;
    if (response->response_status != STAPLER_OCSP_SUCCESSFUL) {
        return STAPLER_ERR_OCSP_UNSUCCESSFUL;
    }
    if (response->tbs == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT; /* a response whose decoding failed */
    }
    ret = stapler_ocsp_response_find(response, cert, issuer, &result->single);
    if (ret != 0) {
        return ret;
    }
    result->found = 1;
    ret = stapler_check_signer(response, issuer, policy, &result->signer_delegated,
                               &result->responder_not_after);
    if (result->responder_not_after == INT64_MIN) {
        result->responder_not_after = 0;
    }
    if (ret != 0) {
        return ret;
    }
    if (policy->nonce != NULL && response->nonce == NULL) {
        /* RFC 9919 responders serve pre-produced responses and may ignore a nonce (RFC 9654
         * lets any responder ignore one under 16 octets): not a replay, but not what we asked. */
        return STAPLER_ERR_OCSP_NONCE_IGNORED;
    }
    if (policy->nonce != NULL &&
        (response->nonce_len != policy->nonce_len ||
         memcmp(response->nonce, policy->nonce, policy->nonce_len) != 0)) {
        return STAPLER_ERR_OCSP_NONCE_MISMATCH;
    }
    single = &result->single;
    skew = (int64_t) policy->clock_skew;
    if (single->this_update > policy->now + skew) {
        return STAPLER_ERR_OCSP_NOT_YET_VALID;
    }
    if (single->has_next_update ? policy->now > single->next_update + skew
                                : policy->now > single->this_update +
                                                    (int64_t) policy->max_age_without_next_update + skew) {
        return STAPLER_ERR_OCSP_EXPIRED;
    }
    return 0;
}

/* ---- Names ------------------------------------------------------------------------- */

const char *stapler_ocsp_reason_name(int reason)
{
    static const char *const names[] = {
        "unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
        "cessationOfOperation", "certificateHold", NULL, "removeFromCRL", "privilegeWithdrawn",
        "aACompromise",
    };

    return reason >= 0 && reason < (int) (sizeof(names) / sizeof(names[0])) ? names[reason] : NULL;
}

const char *stapler_ocsp_response_status_name(int status)
{
    switch (status) {
        case STAPLER_OCSP_SUCCESSFUL: return "successful";
        case STAPLER_OCSP_MALFORMED_REQUEST: return "malformedRequest";
        case STAPLER_OCSP_INTERNAL_ERROR: return "internalError";
        case STAPLER_OCSP_TRY_LATER: return "tryLater";
        case STAPLER_OCSP_SIG_REQUIRED: return "sigRequired";
        case STAPLER_OCSP_UNAUTHORIZED: return "unauthorized";
        default: return NULL;
    }
}
