/**
 * \file cert.h
 * \brief What Stapler reads from a certificate beyond Mbed TLS's parser: the OCSP responder
 *        URLs (Authority Information Access), the must-staple TLS Feature, names compared as
 *        RFC 5280 7.1 says, and issuer certificates Mbed TLS refuses for their own signature.
 *
 * Zero-copy: results point into the parsed certificate's raw DER, valid as long as it is.
 */
#ifndef STAPLER_CERT_H
#define STAPLER_CERT_H

#include <stddef.h>

#include "mbedtls/x509_crt.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief The \p index-th (from 0) OCSP responder URL in the certificate's Authority
 *        Information Access extension (RFC 5280 4.2.2.1, id-ad-ocsp).
 * \param url      Receives a pointer to the URL's characters (NOT NUL-terminated).
 * \param url_len  Receives its length.
 * \return 0; STAPLER_ERR_CERT_NO_OCSP_URL when there is no such URL (none at all, or
 *         fewer than index + 1); STAPLER_ERR_CERT_MALFORMED_EXTENSION.
 */
int stapler_cert_ocsp_url(const mbedtls_x509_crt *crt, unsigned index, const char **url,
                          size_t *url_len);

/**
 * \brief Whether the certificate requires a stapled OCSP response: an RFC 7633 TLS Feature
 *        extension listing status_request (5).
 * \return 1 if it does, 0 if not, or STAPLER_ERR_CERT_MALFORMED_EXTENSION.
 */
int stapler_cert_must_staple(const mbedtls_x509_crt *crt);

/**
 * \brief Whether the certificate is for the DNS host name \p name (\p len bytes, no NUL
 *        needed), as a TLS server picks its certificate by SNI: RFC 6125 6.4 against each
 *        dNSName of the subjectAltName; the subject's commonName(s) only when the
 *        certificate has no subjectAltName at all (RFC 6125 6.4.4; as Mbed TLS's own host
 *        check does). ASCII case does not matter. A wildcard is honoured only as the whole
 *        left-most label ("*.example.com" matches "gw.example.com", not "example.com",
 *        "a.gw.example.com" nor, for "*.com", anything) and never for an IPv4 literal. A name
 *        is labels of letters, digits, '-' and '_': one with a trailing dot, an empty label
 *        or any other byte (an IPv6 literal, a space, a NUL) matches nothing (RFC 6066 3).
 * \return 1 when it does, 0 when not.
 */
int stapler_cert_matches_host(const mbedtls_x509_crt *crt, const char *name, size_t len);

/**
 * \brief Whether two X.509 Names (each a whole DER `Name`, tag and length included) name the
 *        same entity, as RFC 5280 7.1 compares them: the same number of RDNs in the same
 *        order, each with the same attributes in any order, values compared after RFC 4518
 *        string preparation.
 *
 * What is implemented of RFC 4518: PrintableString, IA5String, VisibleString, NumericString,
 * UTF8String, BMPString and UniversalString are transcoded to Unicode (so a PrintableString
 * "Stapler CA" equals a UTF8String "stapler ca"); the section 2.2 mappings (controls and
 * joiners to nothing, other spaces to SPACE); case folding of ASCII, Latin-1, Greek and
 * Cyrillic capitals; insignificant space handling (leading, trailing and repeated spaces).
 * Not implemented: Unicode normalization (NFKC) and case folding beyond those blocks, so two
 * names that differ only there compare unequal, never the other way round. Other value types
 * (TeletexString among them) match only byte for byte, with the same tag. Byte-identical
 * names always match.
 *
 * Bounded: no allocation, one pass over each name per attribute; an RDN of more than 16
 * attributes matches only byte for byte.
 *
 * \return 1 when they match, 0 when not or when either is not a well-formed Name.
 */
int stapler_cert_name_equal(const unsigned char *a, size_t a_len, const unsigned char *b,
                            size_t b_len);

/** Spans of a certificate's DER, read without interpreting algorithms (stapler_cert_fields()). */
typedef struct {
    int version;                     /**< 1 to 3 */
    const unsigned char *tbs;        /**< TBSCertificate, whole TLV (what the signature covers) */
    size_t tbs_len;
    const unsigned char *serial;     /**< serialNumber INTEGER contents */
    size_t serial_len;
    const unsigned char *issuer;     /**< issuer Name, whole TLV */
    size_t issuer_len;
    const unsigned char *validity;   /**< Validity SEQUENCE contents (notBefore, notAfter) */
    size_t validity_len;
    const unsigned char *subject;    /**< subject Name, whole TLV */
    size_t subject_len;
    const unsigned char *spki;       /**< SubjectPublicKeyInfo, whole TLV */
    size_t spki_len;
    const unsigned char *sig_oid;    /**< signatureAlgorithm's OID contents */
    size_t sig_oid_len;
    const unsigned char *signature;  /**< signatureValue BIT STRING contents */
    size_t signature_len;
} stapler_cert_fields_t;

/**
 * \brief Find the parts of a DER certificate (RFC 5280 4.1) without parsing its algorithms,
 *        key or extensions: the outer structure, the TBSCertificate's fields up to the
 *        SubjectPublicKeyInfo, well-formed Names, and the same signature AlgorithmIdentifier
 *        inside and outside the signed part. Pointers point into \p der. No allocation.
 * \return 0; STAPLER_ERR_CERT_MALFORMED when the structure does not hold.
 */
int stapler_cert_fields(const unsigned char *der, size_t der_len, stapler_cert_fields_t *fields);

/**
 * \brief Parse an issuer certificate: the CA whose name and key OCSP needs (CertID,
 *        issuer-signed responses, a delegated responder's issuer).
 *
 * First as mbedtls_x509_crt_parse_der() does (the DER is copied into Mbed TLS's arena). If Mbed
 * TLS refuses the certificate only because its own signature algorithm is not built in
 * (MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG: a legacy root signed with md5WithRSA, a root or a
 * cross-certificate signed with Ed25519 or a post-quantum algorithm), it is taken anyway:
 * stapler_cert_fields() finds its parts, mbedtls_pk_parse_subpubkey() reads its key (which
 * must be of a kind this build implements), and \p crt gets raw (an arena copy of the DER),
 * version, serial, issuer_raw, subject_raw, valid_from, valid_to, pk_raw, pk and sig_oid;
 * nothing else is set: no parsed names, no extensions, and no tbs (which Mbed TLS always
 * sets: stapler_cert_is_partial() tells them apart). Its own signature is never checked: RFC 5280 6.1 and RFC 6960 never check a
 * trust anchor's self-signature, and none of OCSP depends on it. Such a certificate serves
 * as an OCSP issuer, never as a trust anchor for Mbed TLS's own chain verification.
 *
 * \param crt      Initialised with mbedtls_x509_crt_init() and empty. Release it with
 *                 stapler_cert_free().
 * \param partial  If not NULL, receives 1 when the certificate was taken this way, else 0.
 * \return 0, or the Mbed TLS error (negative) that refused it: MBEDTLS_ERR_X509_ALLOC_FAILED
 *         when the arena is full, the key's error when the key is not usable, the parser's
 *         own error for anything else.
 */
int stapler_cert_parse_issuer(mbedtls_x509_crt *crt, const unsigned char *der, size_t der_len,
                              int *partial);

/** \brief 1 if \p crt was taken by stapler_cert_parse_issuer() without Mbed TLS's parser. */
int stapler_cert_is_partial(const mbedtls_x509_crt *crt);

/**
 * \brief Release a certificate (chain) parsed by Mbed TLS or by stapler_cert_parse_issuer():
 *        mbedtls_x509_crt_free(), and the DER copy of a partial one (which Mbed TLS does not
 *        know it owns). \p crt is left initialised and empty.
 */
void stapler_cert_free(mbedtls_x509_crt *crt);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_CERT_H */
