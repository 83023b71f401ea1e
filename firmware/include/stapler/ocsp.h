/**
 * \file ocsp.h
 * \brief OCSP codec: request encoder, response decoder and verifier (RFC 6960, RFC 9919,
 *        RFC 9654 nonces).
 *
 * Built on Mbed TLS's ASN.1, X.509, MD and PK modules; no heap of its own (verifying a
 * delegated responder certificate uses Mbed TLS's static arena). Decoding is zero-copy: a
 * decoded response points into the caller's buffer, which MUST outlive it and MUST NOT
 * change while it is in use.
 *
 * Stricter than OpenSSL on purpose: trailing bytes, indefinite or non-minimal lengths, wrong
 * tags and unknown critical extensions are rejected, and only the issuer itself or a
 * delegated responder certificate issued by it (RFC 6960 4.2.2.2) may sign.
 *
 * Typical use:
 *   stapler_ocsp_response_t resp;
 *   stapler_ocsp_result_t result;
 *   int ret = stapler_ocsp_response_parse(&resp, der, der_len);
 *   if (ret == 0) ret = stapler_ocsp_response_verify(&resp, &cert, &issuer, &policy, &result);
 *   // ret == 0: result.cert_status is good/revoked/unknown, verified at policy.now
 */
#ifndef STAPLER_OCSP_H
#define STAPLER_OCSP_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/x509_crt.h"

#include "stapler/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Hash used in a CertID (RFC 6960 4.1.1). */
typedef enum {
    STAPLER_OCSP_CERTID_SHA1 = 0,   /**< What RFC 5019 responders expected; the fallback. */
    STAPLER_OCSP_CERTID_SHA256 = 1, /**< What RFC 9919 recommends (CONFIG_STAPLER_OCSP_CERTID_SHA256). */
} stapler_ocsp_certid_hash_t;

/** OCSPResponseStatus (RFC 6960 4.2.1). A value, not an error code. */
typedef enum {
    STAPLER_OCSP_SUCCESSFUL = 0,
    STAPLER_OCSP_MALFORMED_REQUEST = 1,
    STAPLER_OCSP_INTERNAL_ERROR = 2,
    STAPLER_OCSP_TRY_LATER = 3,
    STAPLER_OCSP_SIG_REQUIRED = 5,
    STAPLER_OCSP_UNAUTHORIZED = 6,
} stapler_ocsp_response_status_t;

/** CertStatus (RFC 6960 4.2.1). Data, never an error. */
typedef enum {
    STAPLER_OCSP_GOOD = 0,
    STAPLER_OCSP_REVOKED = 1,
    STAPLER_OCSP_UNKNOWN = 2,
} stapler_ocsp_cert_status_t;

/** No CRLReason was given with a revocation. */
#define STAPLER_OCSP_REASON_NONE (-1)

/** Largest nonce accepted or sent (RFC 9654: 1..128 octets; RFC 8954's 32 no longer holds). */
#define STAPLER_OCSP_NONCE_MAX 128

/** The nonce length request buffers are sized for: the configured one
 *  (CONFIG_STAPLER_OCSP_NONCE_LEN), at least the 32 octets RFC 9654 asks clients to send. */
#define STAPLER_OCSP_REQUEST_NONCE_MAX (STAPLER_NONCE_LEN > 32 ? STAPLER_NONCE_LEN : 32)

/** Bytes that always hold a DER request for one certificate with a SHA-256 CertID, a serial
 *  number of up to 32 octets and a nonce of \p nonce_len octets (0: none). */
#define STAPLER_OCSP_REQUEST_SIZE(nonce_len) (160u + (unsigned) (nonce_len))

/** Largest DER request this build writes: 192 bytes unless a nonce over 32 octets is configured. */
#define STAPLER_OCSP_REQUEST_MAX STAPLER_OCSP_REQUEST_SIZE(STAPLER_OCSP_REQUEST_NONCE_MAX)

/**
 * A decoded OCSPResponse. Every pointer points into the buffer given to
 * stapler_ocsp_response_parse(). Fields beyond response_status are set only when
 * response_status is STAPLER_OCSP_SUCCESSFUL.
 */
typedef struct {
    int response_status;              /**< stapler_ocsp_response_status_t */
    const unsigned char *tbs;         /**< tbsResponseData, whole TLV (what is signed) */
    size_t tbs_len;
    int responder_by_key;             /**< 1: ResponderID byKey, 0: byName */
    const unsigned char *responder;   /**< byName: Name TLV; byKey: the 20-byte SHA-1 key hash */
    size_t responder_len;
    int64_t produced_at;              /**< seconds since 1970-01-01T00:00:00Z */
    const unsigned char *responses;   /**< contents of `responses` (SEQUENCE OF SingleResponse) */
    size_t responses_len;
    const unsigned char *nonce;       /**< id-pkix-ocsp-nonce value (octets), or NULL */
    size_t nonce_len;
    mbedtls_x509_buf sig_alg;         /**< signatureAlgorithm OID */
    mbedtls_x509_buf sig_params;      /**< signatureAlgorithm parameters (PSS) */
    const unsigned char *signature;   /**< signature BIT STRING contents, without the unused-bits octet */
    size_t signature_len;
    const unsigned char *certs;       /**< contents of `certs` (SEQUENCE OF Certificate), or NULL */
    size_t certs_len;
} stapler_ocsp_response_t;

/** One SingleResponse, as found for a certificate. */
typedef struct {
    int cert_status;                  /**< stapler_ocsp_cert_status_t */
    int64_t this_update;              /**< seconds since the epoch (UTC) */
    int64_t next_update;              /**< seconds since the epoch, or 0 when absent */
    int has_next_update;
    int64_t revocation_time;          /**< when cert_status is REVOKED, else 0 */
    int revocation_reason;            /**< CRLReason (RFC 5280 5.3.1) or STAPLER_OCSP_REASON_NONE */
    const unsigned char *serial;      /**< serialNumber INTEGER contents */
    size_t serial_len;
} stapler_ocsp_single_t;

/** How a response is judged. */
typedef struct {
    int64_t now;                      /**< evaluation time, seconds since the epoch (UTC) */
    uint32_t clock_skew;              /**< seconds tolerated either side (Kconfig default 300) */
    uint32_t max_age_without_next_update; /**< usable life of a response with no nextUpdate (s) */
    int allow_sha1_signatures;        /**< accept SHA-1 signatures on the response */
    const unsigned char *nonce;       /**< the nonce we sent, or NULL if none */
    size_t nonce_len;
} stapler_ocsp_policy_t;

/** What verification found. Filled as far as it got, even on error. */
typedef struct {
    stapler_ocsp_single_t single;     /**< our certificate's SingleResponse */
    int found;                        /**< 1 once a matching SingleResponse was found */
    int signer_delegated;             /**< 1: signed by a delegated responder certificate */
    int64_t responder_not_after;      /**< notAfter of the certificate whose key signed (the
                                           issuer's or the delegate's), UTC s; 0 if unknown */
} stapler_ocsp_result_t;

/**
 * \brief Fill \p policy with the Kconfig defaults (skew, max age, SHA-1 acceptance) at \p now.
 */
void stapler_ocsp_policy_init(stapler_ocsp_policy_t *policy, int64_t now);

/**
 * \brief Encode an OCSPRequest for \p cert issued by \p issuer (RFC 6960 4.1.1). The
 *        CertID's issuerNameHash covers \p cert's issuer field as encoded there, its
 *        issuerKeyHash the issuer's public key.
 *
 * \param hash      CertID hash: SHA-256 as RFC 9919 recommends, SHA-1 for a responder that
 *                  refuses it.
 * \param nonce     Nonce octets to send (RFC 9654), or NULL for none.
 * \param nonce_len 1..STAPLER_OCSP_NONCE_MAX when \p nonce is not NULL.
 * \param out       Where the DER goes; STAPLER_OCSP_REQUEST_SIZE(nonce_len) bytes always
 *                  suffice (STAPLER_OCSP_REQUEST_MAX for the nonces this build sends).
 * \param out_len   Receives the DER length; the DER starts at \p out.
 * \return 0; STAPLER_ERR_INVALID_ARGUMENT; STAPLER_ERR_BUFFER_TOO_SMALL.
 */
int stapler_ocsp_request_write(const mbedtls_x509_crt *cert, const mbedtls_x509_crt *issuer,
                               stapler_ocsp_certid_hash_t hash, const unsigned char *nonce,
                               size_t nonce_len, unsigned char *out, size_t out_size,
                               size_t *out_len);

/**
 * \brief The GET form of a request (RFC 6960 A.1): \p base_url, a '/' if it has none at the
 *        end, then base64 of the DER, percent-encoded. NUL-terminated.
 *
 * \param fits_rfc5019  If not NULL, receives 1 when the whole URL is at most 255 bytes, the
 *                      limit RFC 5019 sets for GET (use POST otherwise).
 * \return 0; STAPLER_ERR_INVALID_ARGUMENT; STAPLER_ERR_BUFFER_TOO_SMALL.
 */
int stapler_ocsp_request_get_url(const char *base_url, const unsigned char *request,
                                 size_t request_len, char *out, size_t out_size,
                                 size_t *out_len, int *fits_rfc5019);

/**
 * \brief Decode an OCSPResponse (strict DER) without copying.
 *
 * A non-successful responseStatus is decoded, not an error: the function returns 0 and
 * \p response->response_status says which. On an error nothing in \p response is usable
 * except response_status: the status if it could be read (e.g. a successful response with
 * an unknown critical extension), else -1.
 *
 * \return 0; STAPLER_ERR_OCSP_MALFORMED for anything that is not a well-formed
 *         OCSPResponse; STAPLER_ERR_OCSP_UNSUPPORTED_RESPONSE_TYPE for a responseType other
 *         than id-pkix-ocsp-basic; STAPLER_ERR_OCSP_CRITICAL_EXTENSION for an unknown
 *         critical extension.
 */
int stapler_ocsp_response_parse(stapler_ocsp_response_t *response, const unsigned char *der,
                                size_t der_len);

/**
 * \brief Find the SingleResponse for \p cert / \p issuer, recomputing the CertID with the
 *        hash each SingleResponse used (SHA-1, SHA-256, SHA-384, SHA-512). The issuerNameHash
 *        may cover \p cert's issuer field (RFC 6960 4.1.1) or, where that is encoded
 *        differently, \p issuer's subject; the issuerKeyHash and serial must match.
 * \return 0 and \p single filled; STAPLER_ERR_OCSP_CERT_NOT_IN_RESPONSE;
 *         STAPLER_ERR_OCSP_MALFORMED.
 */
int stapler_ocsp_response_find(const stapler_ocsp_response_t *response,
                               const mbedtls_x509_crt *cert, const mbedtls_x509_crt *issuer,
                               stapler_ocsp_single_t *single);

/**
 * \brief Everything RFC 6960 asks before a response may be trusted, at policy->now.
 *
 * Checks in this order: successful responseStatus; a SingleResponse for our CertID; the
 * signature over tbsResponseData; the signer is the issuer (byName or byKey) or a delegated
 * responder certificate included in the response, issued and signed by the issuer, with
 * id-kp-OCSPSigning, valid at policy->now; the nonce when one was sent; the time window.
 * Names (a byName ResponderID, the delegate's issuer) are compared as RFC 5280 7.1 says
 * (stapler_cert_name_equal()). A certificate in `certs` that this build cannot parse (an
 * algorithm not built in, a precertificate) is skipped: the signature does not cover `certs`.
 * The certificate status itself is returned in \p result, never as an error.
 *
 * \p issuer may be a certificate from stapler_cert_parse_issuer() (name and key only).
 *
 * \return 0 when verified (then result->single.cert_status is the answer), else an
 *         STAPLER_ERR_OCSP_* code naming the first check that failed:
 *         STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM also when the signer's certificate is in the
 *         response but cannot be parsed here; STAPLER_ERR_OCSP_NONCE_IGNORED when a nonce was
 *         sent and the response carries none, STAPLER_ERR_OCSP_NONCE_MISMATCH when it carries
 *         another.
 */
int stapler_ocsp_response_verify(const stapler_ocsp_response_t *response,
                                 const mbedtls_x509_crt *cert, const mbedtls_x509_crt *issuer,
                                 const stapler_ocsp_policy_t *policy,
                                 stapler_ocsp_result_t *result);

/**
 * \brief Whether \p crt's signature verifies under \p signer's public key (with
 *        RSASSA-PSS parameters read from \p crt's DER). Names are not compared.
 * \return 0; STAPLER_ERR_OCSP_BAD_SIGNATURE; STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM;
 *         STAPLER_ERR_OCSP_SHA1_SIGNATURE when \p allow_sha1 is 0 and it is SHA-1;
 *         STAPLER_ERR_OCSP_MALFORMED; STAPLER_ERR_NO_MEMORY.
 */
int stapler_ocsp_certificate_signed_by(const mbedtls_x509_crt *crt, const mbedtls_x509_crt *signer,
                                       int allow_sha1);

/** RFC 5280 name of a CRLReason ("keyCompromise", ...), or NULL if none or unknown. */
const char *stapler_ocsp_reason_name(int reason);

/** camelCase RFC 6960 name of a responseStatus ("tryLater", ...), or NULL if unknown. */
const char *stapler_ocsp_response_status_name(int status);

/**
 * \brief Parse an ASN.1 GeneralizedTime value ("YYYYMMDDHHMMSS[.f]Z") into seconds since
 *        the epoch. \return 0 or STAPLER_ERR_OCSP_MALFORMED.
 */
int stapler_ocsp_time_parse(const unsigned char *text, size_t len, int64_t *seconds);

/**
 * \brief A certificate time (Mbed TLS's parsed notBefore/notAfter) in seconds since the
 *        epoch; INT64_MIN if it is not a valid date.
 */
int64_t stapler_ocsp_x509_time(const mbedtls_x509_time *t);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_OCSP_H */
