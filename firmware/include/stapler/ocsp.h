/**
 * \file ocsp.h
 * \brief OCSP codec: request encoder, response decoder and verifier (RFC 6960, RFC 5019).
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

#ifdef __cplusplus
extern "C" {
#endif

/** Hash used in a CertID (RFC 6960 4.1.1). */
typedef enum {
    STAPLER_OCSP_CERTID_SHA1 = 0,  /**< What RFC 5019 responders expect; the default. */
    STAPLER_OCSP_CERTID_SHA256 = 1,
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

/** Largest nonce accepted or sent (RFC 8954: 1..32 octets). */
#define STAPLER_OCSP_NONCE_MAX 32

/** Largest DER request for one certificate, with a 32-byte nonce and SHA-256 CertID. */
#define STAPLER_OCSP_REQUEST_MAX 192

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
 * \brief Encode an OCSPRequest for \p cert issued by \p issuer (RFC 6960 4.1.1).
 *
 * \param hash      CertID hash (SHA-1 unless the responder needs SHA-256).
 * \param nonce     Nonce octets to send (RFC 8954), or NULL for none.
 * \param nonce_len 1..STAPLER_OCSP_NONCE_MAX when \p nonce is not NULL.
 * \param out       Where the DER goes; STAPLER_OCSP_REQUEST_MAX bytes always suffice.
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
 *        hash each SingleResponse used (SHA-1, SHA-256, SHA-384, SHA-512).
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
 * The certificate status itself is returned in \p result, never as an error.
 *
 * \return 0 when verified (then result->single.cert_status is the answer), else an
 *         STAPLER_ERR_OCSP_* code naming the first check that failed.
 */
int stapler_ocsp_response_verify(const stapler_ocsp_response_t *response,
                                 const mbedtls_x509_crt *cert, const mbedtls_x509_crt *issuer,
                                 const stapler_ocsp_policy_t *policy,
                                 stapler_ocsp_result_t *result);

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
