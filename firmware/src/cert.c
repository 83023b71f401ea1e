/* What Stapler reads from certificates beyond Mbed TLS's parser: see stapler/cert.h. */
#include "stapler/cert.h"

#include <stdint.h>
#include <string.h>

#include "mbedtls/asn1.h"
#include "mbedtls/error.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"

#include "stapler/error.h"
#include "stapler/ocsp.h"

#include "crypto.h"

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
    const unsigned char *end;
    size_t len;

    /* A certificate without extensions (v1) has no buffer at all: NULL + 0 is undefined. */
    if (crt->v3_ext.p == NULL) {
        return STAPLER_ERR_CERT_NO_OCSP_URL;
    }
    end = crt->v3_ext.p + crt->v3_ext.len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
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

/* --- Host names (SNI) ------------------------------------------------------------------- */

static unsigned char stapler_cert_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char) (c - 'A' + 'a') : c;
}

/* A host name as SNI may carry it: labels of letters, digits, '-' and '_' (the last for
 * names in the wild; A-labels for internationalized ones), none empty, no trailing dot
 * (RFC 6066 3). So no IP literal of IPv6, no spaces, controls or NULs. */
static int stapler_cert_host_ok(const unsigned char *name, size_t len)
{
    size_t i, label = 0;

    if (len == 0 || len > 253) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (name[i] == '.') {
            if (label == 0) {
                return 0;
            }
            label = 0;
        } else if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
                     (name[i] >= '0' && name[i] <= '9') || name[i] == '-' || name[i] == '_') ||
                   ++label > 63) {
            return 0;
        }
    }
    return label > 0;
}

static int stapler_cert_equal_nocase(const unsigned char *a, const unsigned char *b, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (stapler_cert_lower(a[i]) != stapler_cert_lower(b[i])) {
            return 0;
        }
    }
    return 1;
}

/* One reference identifier (a dNSName or commonName value) against the host name. */
static int stapler_cert_host_pattern(const unsigned char *pattern, size_t plen, const unsigned char *name,
                                     size_t len)
{
    size_t i, first;

    if (plen == len && stapler_cert_equal_nocase(pattern, name, len)) {
        return stapler_cert_host_ok(pattern, plen);
    }
    /* "*." then at least two labels ("*.com" stands for no one host's domain). */
    if (plen < 4 || pattern[0] != '*' || pattern[1] != '.' ||
        memchr(pattern + 2, '.', plen - 2) == NULL || !stapler_cert_host_ok(pattern + 2, plen - 2)) {
        return 0;
    }
    for (i = 0; i < len && (name[i] == '.' || (name[i] >= '0' && name[i] <= '9')); i++) {
    }
    if (i == len) {
        return 0; /* an IPv4 literal: never by a wildcard */
    }
    for (first = 0; first < len && name[first] != '.'; first++) {
    }
    return first > 0 && first < len && len - first == plen - 1 &&
           stapler_cert_equal_nocase(pattern + 1, name + first, plen - 1);
}

int stapler_cert_matches_host(const mbedtls_x509_crt *crt, const char *name, size_t len)
{
    static const unsigned char oid_cn[] = { 0x55, 0x04, 0x03 }; /* id-at-commonName */
    const unsigned char *host = (const unsigned char *) name;
    const mbedtls_x509_sequence *san;
    const mbedtls_x509_name *rdn;
    int dns_names = 0;

    if (crt == NULL || name == NULL || !stapler_cert_host_ok(host, len)) {
        return 0;
    }
    for (san = &crt->subject_alt_names; san != NULL && san->buf.p != NULL; san = san->next) {
        if (san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) { /* dNSName [2] IA5String */
            dns_names = 1;
            if (stapler_cert_host_pattern(san->buf.p, san->buf.len, host, len)) {
                return 1;
            }
        }
    }
    if (dns_names || crt->subject_alt_names.buf.p != NULL) {
        /* RFC 6125 6.4.4: with any subjectAltName (Mbed TLS lists every GeneralName of it,
         * of whatever type), the commonName is no name. */
        return 0;
    }
    for (rdn = &crt->subject; rdn != NULL; rdn = rdn->next) {
        if (rdn->oid.p != NULL && rdn->oid.len == sizeof(oid_cn) &&
            memcmp(rdn->oid.p, oid_cn, sizeof(oid_cn)) == 0 && rdn->val.p != NULL &&
            stapler_cert_host_pattern(rdn->val.p, rdn->val.len, host, len)) {
            return 1;
        }
    }
    return 0;
}

/* ---- Names (RFC 5280 7.1, RFC 4518) ---------------------------------------------------- */

/* Mbed TLS's ASN.1 readers take `unsigned char **` cursors but never write through them. */
static unsigned char *stapler_cert_cursor(const unsigned char *p)
{
    return (unsigned char *) (uintptr_t) p;
}

#define STAPLER_TEXT_END     (-1)
#define STAPLER_TEXT_INVALID (-2)
#define STAPLER_RDN_MAX_ATTRIBUTES 16

/* How a string type's value is transcoded to Unicode; 0: not text (compared as bytes). */
enum { STAPLER_TEXT_ASCII = 1, STAPLER_TEXT_UTF8, STAPLER_TEXT_BMP, STAPLER_TEXT_UNIVERSAL };

static int stapler_text_kind(unsigned char tag)
{
    switch (tag) {
        case MBEDTLS_ASN1_PRINTABLE_STRING: case MBEDTLS_ASN1_IA5_STRING:
        case 0x1A /* VisibleString */: case 0x12 /* NumericString */:
            return STAPLER_TEXT_ASCII;
        case MBEDTLS_ASN1_UTF8_STRING: return STAPLER_TEXT_UTF8;
        case MBEDTLS_ASN1_BMP_STRING: return STAPLER_TEXT_BMP;
        case MBEDTLS_ASN1_UNIVERSAL_STRING: return STAPLER_TEXT_UNIVERSAL;
        default: return 0;
    }
}

/* RFC 4518 2.2, as ranges (first code point in the low 21 bits, count - 1 above): code points
 * mapped to nothing (controls, format characters, joiners, variation selectors, the soft
 * hyphens, U+FFFC), then those mapped to SPACE (the other whitespace and space separators). */
static const uint32_t stapler_map_nothing[] = {
    (8u << 21) | 0x0000, (17u << 21) | 0x000E, (5u << 21) | 0x007F, (25u << 21) | 0x0086,
    0x00AD, 0x034F, 0x06DD, 0x070F, 0x1806, (3u << 21) | 0x180B, (4u << 21) | 0x200B,
    (4u << 21) | 0x202A, (3u << 21) | 0x2060, (5u << 21) | 0x206A, (15u << 21) | 0xFE00, 0xFEFF,
    (3u << 21) | 0xFFF9, (7u << 21) | 0x1D173, 0xE0001, (95u << 21) | 0xE0020,
};
static const uint32_t stapler_map_space[] = {
    (4u << 21) | 0x0009, 0x0085, 0x00A0, 0x1680, (10u << 21) | 0x2000, (1u << 21) | 0x2028,
    0x202F, 0x205F, 0x3000,
};

static int stapler_in_ranges(uint32_t c, const uint32_t *ranges, size_t count)
{
    size_t i;

    for (i = 0; i < count; i++) {
        const uint32_t first = ranges[i] & 0x1FFFFFu;
        if (c >= first && c - first <= ranges[i] >> 21) {
            return 1;
        }
    }
    return 0;
}

/* The case folding of RFC 3454 B.2 for the blocks names use most (one code point to one). */
static uint32_t stapler_fold(uint32_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
        (c >= 0x391 && c <= 0x3AB && c != 0x3A2) || (c >= 0x410 && c <= 0x42F)) {
        return c + 0x20;
    }
    if (c >= 0x400 && c <= 0x40F) {
        return c + 0x50;
    }
    return c;
}

/* One attribute value read as prepared text, a code point at a time. */
typedef struct {
    const unsigned char *p, *end;
    int kind;
    int space;      /* spaces seen since the last character given */
    int given;      /* a character was given */
    int32_t held;   /* the character after a run of spaces, given after one SPACE; or -1 */
} stapler_text_t;

static int32_t stapler_text_decode(stapler_text_t *t)
{
    uint32_t c;
    size_t need, i;

    if (t->p >= t->end) {
        return STAPLER_TEXT_END;
    }
    switch (t->kind) {
        case STAPLER_TEXT_ASCII:
            c = *t->p++;
            return c < 0x80 ? (int32_t) c : STAPLER_TEXT_INVALID;
        case STAPLER_TEXT_BMP:
        case STAPLER_TEXT_UNIVERSAL:
            need = t->kind == STAPLER_TEXT_BMP ? 2 : 4;
            if ((size_t) (t->end - t->p) < need) {
                return STAPLER_TEXT_INVALID;
            }
            for (c = 0, i = 0; i < need; i++) {
                c = (c << 8) | *t->p++;
            }
            break;
        default: /* UTF-8 (RFC 3629): shortest form only */
            c = *t->p++;
            if (c < 0x80) {
                return (int32_t) c;
            }
            need = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
            if (c < 0xC2 || c > 0xF4 || (size_t) (t->end - t->p) < need) {
                return STAPLER_TEXT_INVALID;
            }
            c &= 0x3Fu >> need;
            for (i = 0; i < need; i++) {
                if ((*t->p & 0xC0) != 0x80) {
                    return STAPLER_TEXT_INVALID;
                }
                c = (c << 6) | (*t->p++ & 0x3Fu);
            }
            if ((need == 2 && c < 0x800) || (need == 3 && c < 0x10000)) {
                return STAPLER_TEXT_INVALID;
            }
            break;
    }
    return c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF) ? STAPLER_TEXT_INVALID : (int32_t) c;
}

/* The next code point of the prepared string: mapped (RFC 4518 2.2, with case folding),
 * spaces insignificant at either end and in runs (2.6.1); STAPLER_TEXT_END or _INVALID. */
static int32_t stapler_text_next(stapler_text_t *t)
{
    for (;;) {
        int32_t c;

        if (t->held >= 0) {
            c = t->held;
            t->held = -1;
            return c;
        }
        c = stapler_text_decode(t);
        if (c == STAPLER_TEXT_END && t->space && !t->given) {
            t->space = 0;
            t->given = 1;
            return ' '; /* a value of spaces only is one SPACE */
        }
        if (c < 0) {
            return c;
        }
        if (stapler_in_ranges((uint32_t) c, stapler_map_nothing,
                              sizeof(stapler_map_nothing) / sizeof(stapler_map_nothing[0]))) {
            continue;
        }
        if (c == ' ' || stapler_in_ranges((uint32_t) c, stapler_map_space,
                                          sizeof(stapler_map_space) / sizeof(stapler_map_space[0]))) {
            t->space = 1;
            continue;
        }
        c = (int32_t) stapler_fold((uint32_t) c);
        if (t->space && t->given) {
            t->space = 0;
            t->held = c;
            return ' ';
        }
        t->space = 0;
        t->given = 1;
        return c;
    }
}

/* One AttributeTypeAndValue ::= SEQUENCE { type OID, value ANY }: the OID contents and the
 * value's whole TLV. */
typedef struct {
    const unsigned char *oid, *value;
    size_t oid_len, value_len;
} stapler_attribute_t;

static int stapler_attribute_read(unsigned char **p, const unsigned char *end, stapler_attribute_t *a)
{
    const unsigned char *attribute_end, *value;
    size_t len;

    if (mbedtls_asn1_get_tag(p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return -1;
    }
    attribute_end = *p + len;
    if (mbedtls_asn1_get_tag(p, attribute_end, &a->oid_len, MBEDTLS_ASN1_OID) != 0 ||
        a->oid_len == 0) {
        return -1;
    }
    a->oid = *p;
    *p += a->oid_len;
    value = *p;
    /* Any one element, low tag number form, filling the rest of the attribute. */
    if (*p >= attribute_end || (**p & 0x1F) == 0x1F) {
        return -1;
    }
    (*p)++;
    if (mbedtls_asn1_get_len(p, attribute_end, &len) != 0 || *p + len != attribute_end) {
        return -1;
    }
    a->value = value;
    a->value_len = (size_t) (attribute_end - value);
    *p = stapler_cert_cursor(attribute_end);
    return 0;
}

static int stapler_value_equal(const stapler_attribute_t *a, const stapler_attribute_t *b)
{
    stapler_text_t ta, tb;
    int32_t ca, cb;

    if (a->value_len == b->value_len && memcmp(a->value, b->value, a->value_len) == 0) {
        return 1;
    }
    memset(&ta, 0, sizeof(ta));
    memset(&tb, 0, sizeof(tb));
    ta.kind = stapler_text_kind(a->value[0]);
    tb.kind = stapler_text_kind(b->value[0]);
    if (ta.kind == 0 || tb.kind == 0) {
        return 0;
    }
    /* Past the tag and length (checked by stapler_attribute_read()). */
    ta.p = a->value + 1 + (a->value[1] < 0x80 ? 1 : 1 + (a->value[1] & 0x7F));
    tb.p = b->value + 1 + (b->value[1] < 0x80 ? 1 : 1 + (b->value[1] & 0x7F));
    ta.end = a->value + a->value_len;
    tb.end = b->value + b->value_len;
    ta.held = tb.held = -1;
    do {
        ca = stapler_text_next(&ta);
        cb = stapler_text_next(&tb);
        if (ca == STAPLER_TEXT_INVALID || cb == STAPLER_TEXT_INVALID || ca != cb) {
            return 0; /* not text as its type says: only byte equality would do */
        }
    } while (ca != STAPLER_TEXT_END);
    return 1;
}

/* Two RDNs (SET contents): as many attributes, each of one matching a distinct one of the
 * other, in any order (RFC 5280 7.1). Returns 1, 0, or -1 when malformed. */
static int stapler_rdn_equal(const unsigned char *a, const unsigned char *a_end,
                             const unsigned char *b, const unsigned char *b_end)
{
    unsigned char *p = stapler_cert_cursor(a), *q;
    uint32_t used = 0;
    unsigned count_a = 0, count_b = 0;
    stapler_attribute_t x, y;

    for (q = stapler_cert_cursor(b); q < b_end; count_b++) {
        if (stapler_attribute_read(&q, b_end, &y) != 0) {
            return -1;
        }
    }
    while (p < a_end) {
        unsigned i;
        int found = 0;

        if (stapler_attribute_read(&p, a_end, &x) != 0) {
            return -1;
        }
        if (++count_a > count_b || count_b > STAPLER_RDN_MAX_ATTRIBUTES) {
            /* More than b has; or too many to match in any order: bytes only. */
            return (size_t) (a_end - a) == (size_t) (b_end - b) && memcmp(a, b, (size_t) (a_end - a)) == 0;
        }
        for (q = stapler_cert_cursor(b), i = 0; q < b_end && !found; i++) {
            (void) stapler_attribute_read(&q, b_end, &y);
            if ((used & (1u << i)) == 0 && x.oid_len == y.oid_len &&
                memcmp(x.oid, y.oid, x.oid_len) == 0 && stapler_value_equal(&x, &y)) {
                used |= 1u << i;
                found = 1;
            }
        }
        if (!found) {
            return 0;
        }
    }
    return count_a == count_b && count_a > 0 ? 1 : (count_a == 0 ? -1 : 0);
}

/* Walk two Names (or one, b == NULL, to check that it is well formed) RDN by RDN.
 * Returns 1 (equal / well formed), 0 (different), -1 (malformed). */
static int stapler_names_walk(const unsigned char *a, size_t a_len, const unsigned char *b, size_t b_len)
{
    unsigned char *p = stapler_cert_cursor(a), *q = stapler_cert_cursor(b);
    const unsigned char *a_end, *b_end = NULL;
    size_t len;

    if (a == NULL || mbedtls_asn1_get_tag(&p, a + a_len, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        p + len != a + a_len) {
        return -1;
    }
    a_end = p + len;
    if (b != NULL) {
        if (mbedtls_asn1_get_tag(&q, b + b_len, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
            q + len != b + b_len) {
            return -1;
        }
        b_end = q + len;
    }
    while (p < a_end) {
        size_t rdn_a, rdn_b;
        int ret;

        if (mbedtls_asn1_get_tag(&p, a_end, &rdn_a, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET) != 0) {
            return -1;
        }
        if (b == NULL) {
            ret = stapler_rdn_equal(p, p + rdn_a, p, p + rdn_a);
        } else if (q >= b_end) {
            return 0;
        } else if (mbedtls_asn1_get_tag(&q, b_end, &rdn_b, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SET) != 0) {
            return -1;
        } else {
            ret = stapler_rdn_equal(p, p + rdn_a, q, q + rdn_b);
            q += rdn_b;
        }
        if (ret != 1) {
            return ret;
        }
        p += rdn_a;
    }
    return b == NULL || q == b_end ? 1 : 0;
}

int stapler_cert_name_equal(const unsigned char *a, size_t a_len, const unsigned char *b,
                            size_t b_len)
{
    if (a == NULL || b == NULL) {
        return 0;
    }
    if (a_len == b_len && memcmp(a, b, a_len) == 0) {
        return 1;
    }
    return stapler_names_walk(a, a_len, b, b_len) == 1;
}

/* ---- Certificates Mbed TLS refuses for their own signature ---------------------------- */

/* One element of `tag`, whole TLV span; the cursor moves past it. */
static int stapler_cert_element(unsigned char **p, const unsigned char *end, int tag,
                                const unsigned char **start, size_t *total, size_t *len)
{
    *start = *p;
    if (mbedtls_asn1_get_tag(p, end, len, tag) != 0) {
        return STAPLER_ERR_CERT_MALFORMED;
    }
    *p += *len;
    *total = (size_t) (*p - *start);
    return 0;
}

int stapler_cert_fields(const unsigned char *der, size_t der_len, stapler_cert_fields_t *f)
{
    unsigned char *p = stapler_cert_cursor(der), *alg;
    const unsigned char *end, *tbs_end, *inner_alg, *outer_alg, *ignored;
    size_t len, inner_alg_len, outer_alg_len, total;
    const int seq = MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE;

    if (der == NULL || f == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    end = der + der_len;
    memset(f, 0, sizeof(*f));
    /* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue } */
    if (mbedtls_asn1_get_tag(&p, end, &len, seq) != 0 || p + len != end) {
        return STAPLER_ERR_CERT_MALFORMED;
    }
    f->tbs = p;
    if (mbedtls_asn1_get_tag(&p, end, &len, seq) != 0) {
        return STAPLER_ERR_CERT_MALFORMED;
    }
    tbs_end = p + len;
    f->tbs_len = (size_t) (tbs_end - f->tbs);
    /* version [0] EXPLICIT INTEGER DEFAULT v1 */
    f->version = 1;
    if (p < tbs_end && *p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0)) {
        int version;

        if (stapler_cert_element(&p, tbs_end, MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 0,
                                 &ignored, &total, &len) != 0) {
            return STAPLER_ERR_CERT_MALFORMED;
        }
        alg = stapler_cert_cursor(p - len);
        if (mbedtls_asn1_get_int(&alg, p, &version) != 0 || alg != p || version < 0 || version > 2) {
            return STAPLER_ERR_CERT_MALFORMED;
        }
        f->version = version + 1;
    }
    if (stapler_cert_element(&p, tbs_end, MBEDTLS_ASN1_INTEGER, &ignored, &total, &f->serial_len) != 0 ||
        f->serial_len == 0) {
        return STAPLER_ERR_CERT_MALFORMED;
    }
    f->serial = p - f->serial_len;
    if (stapler_cert_element(&p, tbs_end, seq, &inner_alg, &inner_alg_len, &len) != 0 ||
        stapler_cert_element(&p, tbs_end, seq, &f->issuer, &f->issuer_len, &len) != 0 ||
        stapler_cert_element(&p, tbs_end, seq, &ignored, &total, &f->validity_len) != 0) {
        return STAPLER_ERR_CERT_MALFORMED;
    }
    f->validity = p - f->validity_len;
    if (stapler_cert_element(&p, tbs_end, seq, &f->subject, &f->subject_len, &len) != 0 ||
        stapler_cert_element(&p, tbs_end, seq, &f->spki, &f->spki_len, &len) != 0) {
        return STAPLER_ERR_CERT_MALFORMED;
    }
    /* issuerUniqueID, subjectUniqueID, extensions: not read. */
    p = stapler_cert_cursor(tbs_end);
    /* signatureAlgorithm: the same as the signed one (RFC 5280 4.1.1.2) */
    if (stapler_cert_element(&p, end, seq, &outer_alg, &outer_alg_len, &len) != 0 ||
        outer_alg_len != inner_alg_len || memcmp(outer_alg, inner_alg, inner_alg_len) != 0) {
        return STAPLER_ERR_CERT_MALFORMED;
    }
    alg = stapler_cert_cursor(outer_alg) + (outer_alg_len - len);
    if (mbedtls_asn1_get_tag(&alg, outer_alg + outer_alg_len, &f->sig_oid_len, MBEDTLS_ASN1_OID) != 0) {
        return STAPLER_ERR_CERT_MALFORMED;
    }
    f->sig_oid = alg;
    if (mbedtls_asn1_get_tag(&p, end, &f->signature_len, MBEDTLS_ASN1_BIT_STRING) != 0 ||
        p + f->signature_len != end) {
        return STAPLER_ERR_CERT_MALFORMED;
    }
    f->signature = p;
    if (stapler_names_walk(f->issuer, f->issuer_len, NULL, 0) != 1 ||
        stapler_names_walk(f->subject, f->subject_len, NULL, 0) != 1) {
        return STAPLER_ERR_CERT_MALFORMED;
    }
    return 0;
}

/* notBefore / notAfter: UTCTime (YYMMDDHHMMSSZ, 1950..2049) or GeneralizedTime
 * (YYYYMMDDHHMMSSZ), as RFC 5280 4.1.2.5 encodes them. */
static int stapler_cert_time(unsigned char **p, const unsigned char *end, mbedtls_x509_time *t)
{
    unsigned char text[15];
    size_t len, i, year_digits;

    if (*p >= end) {
        return STAPLER_ERR_CERT_MALFORMED;
    }
    year_digits = **p == MBEDTLS_ASN1_UTC_TIME ? 2 : 4;
    if (mbedtls_asn1_get_tag(p, end, &len, **p == MBEDTLS_ASN1_UTC_TIME ? MBEDTLS_ASN1_UTC_TIME
                                                                          : MBEDTLS_ASN1_GENERALIZED_TIME) != 0 ||
        len != year_digits + 11) {
        return STAPLER_ERR_CERT_MALFORMED;
    }
    /* As a GeneralizedTime, so one strict parser checks every field. */
    if (year_digits == 2) {
        text[0] = (*p)[0] < '5' ? '2' : '1';
        text[1] = (*p)[0] < '5' ? '0' : '9';
    }
    memcpy(text + 4 - year_digits, *p, len);
    *p += len;
    {
        int64_t seconds;
        if (stapler_ocsp_time_parse(text, sizeof(text), &seconds) != 0) {
            return STAPLER_ERR_CERT_MALFORMED;
        }
    }
    for (t->year = 0, i = 0; i < 4; i++) {
        t->year = t->year * 10 + (text[i] - '0');
    }
    t->mon = (text[4] - '0') * 10 + (text[5] - '0');
    t->day = (text[6] - '0') * 10 + (text[7] - '0');
    t->hour = (text[8] - '0') * 10 + (text[9] - '0');
    t->min = (text[10] - '0') * 10 + (text[11] - '0');
    t->sec = (text[12] - '0') * 10 + (text[13] - '0');
    return 0;
}

/* Name and key only, from an arena copy of the DER; see stapler_cert_parse_issuer(). */
static int stapler_cert_parse_partial(mbedtls_x509_crt *crt, const unsigned char *der, size_t der_len)
{
    stapler_cert_fields_t f;
    unsigned char *copy, *p;
    const unsigned char *validity_end;
    int ret;

    copy = mbedtls_calloc(1, der_len);
    if (copy == NULL) {
        return MBEDTLS_ERR_X509_ALLOC_FAILED;
    }
    memcpy(copy, der, der_len);
    ret = stapler_cert_fields(copy, der_len, &f) == 0 ? 0 : MBEDTLS_ERR_X509_INVALID_FORMAT;
    if (ret == 0) {
        p = stapler_cert_cursor(f.validity);
        validity_end = f.validity + f.validity_len;
        if (stapler_cert_time(&p, validity_end, &crt->valid_from) != 0 ||
            stapler_cert_time(&p, validity_end, &crt->valid_to) != 0 || p != validity_end) {
            ret = MBEDTLS_ERR_X509_INVALID_DATE;
        }
    }
    if (ret == 0) {
        ret = stapler_crypto_parse_spki(&crt->pk, f.spki, f.spki_len);
    }
    if (ret != 0) {
        mbedtls_pk_free(&crt->pk);
        mbedtls_free(copy);
        mbedtls_x509_crt_init(crt);
        return ret;
    }
    crt->raw.p = copy;
    crt->raw.len = der_len;
    /* tbs stays empty: the mark of a partial certificate (Mbed TLS always sets it). version
     * must not be 0, which Mbed TLS reads as "this structure is unused". */
    crt->version = f.version;
    crt->serial.tag = MBEDTLS_ASN1_INTEGER;
    crt->serial.p = stapler_cert_cursor(f.serial);
    crt->serial.len = f.serial_len;
    crt->issuer_raw.p = stapler_cert_cursor(f.issuer);
    crt->issuer_raw.len = f.issuer_len;
    crt->subject_raw.p = stapler_cert_cursor(f.subject);
    crt->subject_raw.len = f.subject_len;
    crt->pk_raw.p = stapler_cert_cursor(f.spki);
    crt->pk_raw.len = f.spki_len;
    crt->sig_oid.tag = MBEDTLS_ASN1_OID;
    crt->sig_oid.p = stapler_cert_cursor(f.sig_oid);
    crt->sig_oid.len = f.sig_oid_len;
    return 0;
}

int stapler_cert_parse_issuer(mbedtls_x509_crt *crt, const unsigned char *der, size_t der_len,
                              int *partial)
{
    int ret;

    if (partial != NULL) {
        *partial = 0;
    }
    if (crt == NULL || der == NULL || crt->raw.p != NULL) {
        return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
    }
    ret = mbedtls_x509_crt_parse_der(crt, der, der_len);
    /* High-level X.509 code, without the low-level (OID) part. */
    if (ret >= 0 || ((-ret) & 0xFF80) != -MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG) {
        return ret;
    }
    /* Only the certificate's own signature is beyond this build: its name and key are what
     * OCSP needs of an issuer (RFC 6960 4.1.1, 4.2.2.2). */
    ret = stapler_cert_parse_partial(crt, der, der_len);
    if (ret == 0 && partial != NULL) {
        *partial = 1;
    }
    return ret;
}

int stapler_cert_is_partial(const mbedtls_x509_crt *crt)
{
    return crt != NULL && crt->raw.p != NULL && crt->tbs.p == NULL;
}

void stapler_cert_free(mbedtls_x509_crt *crt)
{
    if (crt == NULL) {
        return;
    }
    if (stapler_cert_is_partial(crt)) {
        /* Mbed TLS frees raw only when it made the copy itself. */
        mbedtls_platform_zeroize(crt->raw.p, crt->raw.len);
        mbedtls_free(crt->raw.p);
        crt->raw.p = NULL;
        crt->raw.len = 0;
    }
    mbedtls_x509_crt_free(crt);
}
