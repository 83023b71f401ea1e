/**
 * \file error.h
 * \brief Stapler's error codes: one enum, 0 = success, negative = failure.
 *
 * Each module owns a range so a code says where it came from; port errors pass through
 * unchanged in the port range. An OCSP certificate status (good, revoked, unknown) is data,
 * never an error code. Every code has a slug and a message that tells the user what to do.
 *
 * Ranges:  -0x0001..-0x00FF  general
 *          -0x0100..-0x01FF  OCSP codec
 *          -0x0200..-0x02FF  credential store and staple cache
 *          -0x0300..-0x03FF  refresh engine and fetch
 *          -0x0400..-0x04FF  HTTP client
 *          -0x0500..-0x05FF  TLS stapling
 *          -0x1000..-0x1FFF  port (platform) errors, passed through
 */
#ifndef STAPLER_ERROR_H
#define STAPLER_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/** Stapler result codes. Functions return int so port codes can pass through. */
typedef enum {
    STAPLER_OK = 0,
    /* General */
    STAPLER_ERR_INVALID_ARGUMENT = -0x0001, /**< A caller broke a documented precondition. */
    STAPLER_ERR_BUFFER_TOO_SMALL = -0x0002, /**< An output buffer cannot hold the result. */
    STAPLER_ERR_NO_MEMORY = -0x0003,        /**< The Mbed TLS static arena is exhausted. */
    STAPLER_ERR_INTERNAL = -0x0004,         /**< A check that cannot fail did (fail-closed). */
    STAPLER_ERR_SELFTEST_FAILED = -0x0010,  /**< A cryptographic known-answer test failed. */
    /* OCSP codec */
    STAPLER_ERR_OCSP_MALFORMED = -0x0101,          /**< Not a well-formed (DER) OCSPResponse. */
    STAPLER_ERR_OCSP_UNSUPPORTED_RESPONSE_TYPE = -0x0102, /**< responseType is not id-pkix-ocsp-basic. */
    STAPLER_ERR_OCSP_CRITICAL_EXTENSION = -0x0103, /**< An unknown extension is marked critical. */
    STAPLER_ERR_OCSP_UNSUCCESSFUL = -0x0104,       /**< responseStatus is not successful. */
    STAPLER_ERR_OCSP_CERT_NOT_IN_RESPONSE = -0x0105, /**< No SingleResponse for our CertID. */
    STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM = -0x0106, /**< Signature or hash algorithm not supported. */
    STAPLER_ERR_OCSP_SHA1_SIGNATURE = -0x0107,     /**< SHA-1 signature, forbidden by Kconfig. */
    STAPLER_ERR_OCSP_BAD_SIGNATURE = -0x0108,      /**< The signature does not verify. */
    STAPLER_ERR_OCSP_RESPONDER_CERT_MISSING = -0x0109, /**< Delegated signer's certificate absent. */
    STAPLER_ERR_OCSP_RESPONDER_NOT_AUTHORIZED = -0x010A, /**< Signer is not the issuer nor its delegate. */
    STAPLER_ERR_OCSP_RESPONDER_CERT_EXPIRED = -0x010B, /**< Delegated responder cert not valid now. */
    STAPLER_ERR_OCSP_NONCE_MISMATCH = -0x010C,     /**< The response does not carry our nonce. */
    STAPLER_ERR_OCSP_NOT_YET_VALID = -0x010D,      /**< thisUpdate is in the future. */
    STAPLER_ERR_OCSP_EXPIRED = -0x010E,            /**< Past nextUpdate (or max age). */
    STAPLER_ERR_OCSP_NONCE_IGNORED = -0x010F,      /**< We sent a nonce; the response has none. */
    STAPLER_ERR_CERT_NO_OCSP_URL = -0x0110,        /**< The certificate names no OCSP responder. */
    STAPLER_ERR_CERT_MALFORMED_EXTENSION = -0x0111, /**< AIA or TLS Feature extension malformed. */
    STAPLER_ERR_CERT_MALFORMED = -0x0112,          /**< Not a well-formed X.509 certificate. */
    /* Credential store and staple cache */
    STAPLER_ERR_CACHE_EMPTY = -0x0201,         /**< No valid staple record in the ring. */
    STAPLER_ERR_CACHE_CORRUPT = -0x0202,       /**< The newest record no longer checks. */
    STAPLER_ERR_CACHE_GEOMETRY = -0x0203,      /**< Flash region does not fit the layout. */
    STAPLER_ERR_CACHE_TOO_LARGE = -0x0204,     /**< Response over CONFIG_STAPLER_RESPONSE_MAX. */
    STAPLER_ERR_CACHE_WRITE_FAILED = -0x0205,  /**< Read-back after writing did not match. */
    STAPLER_ERR_CRED_MISSING = -0x0210,        /**< No credential store: not provisioned. */
    STAPLER_ERR_CRED_CORRUPT = -0x0211,        /**< Credential store fails its checks. */
    STAPLER_ERR_CRED_VERSION = -0x0212,        /**< Credential store of a newer format. */
    STAPLER_ERR_CRED_TOO_LARGE = -0x0213,      /**< Credentials exceed the credential area. */
    /* Agent and refresh */
    STAPLER_ERR_AGENT_NO_STAPLE = -0x0301,     /**< No valid staple for this identity now. */
    STAPLER_ERR_AGENT_NOT_NEWER = -0x0302,     /**< Offered response is not newer: no rollback. */
    STAPLER_ERR_AGENT_STATUS_UNKNOWN = -0x0303, /**< Responder says "unknown": last good kept. */
    STAPLER_ERR_AGENT_CERT_CHANGED = -0x0304,  /**< Cached staple is for a replaced certificate. */
    STAPLER_ERR_AGENT_NO_IDENTITY = -0x0305,   /**< Identity not provisioned or nothing to fetch. */
    STAPLER_ERR_AGENT_BUSY = -0x0306,          /**< A handshake holds the staple: try later. */
    /* HTTP client */
    STAPLER_ERR_HTTP_URL = -0x0401,            /**< Responder URL is not http://host[:port]/path. */
    STAPLER_ERR_HTTP_SCHEME = -0x0402,         /**< Responder URL is not http:// (https, ...). */
    STAPLER_ERR_HTTP_MALFORMED = -0x0403,      /**< Not an HTTP/1.x response, or bad framing. */
    STAPLER_ERR_HTTP_HEADERS_TOO_LARGE = -0x0404, /**< Response headers over the limit. */
    STAPLER_ERR_HTTP_CLIENT_ERROR = -0x0405,   /**< HTTP 4xx (400, 403, 404, ...). */
    STAPLER_ERR_HTTP_SERVER_ERROR = -0x0406,   /**< HTTP 5xx (500, 503, ...). */
    STAPLER_ERR_HTTP_REDIRECT = -0x0407,       /**< HTTP 3xx not followed. */
    STAPLER_ERR_HTTP_UNEXPECTED_STATUS = -0x0408, /**< Another status than 200 (e.g. 204). */
    STAPLER_ERR_HTTP_CONTENT_TYPE = -0x0409,   /**< 200 but not application/ocsp-response. */
    STAPLER_ERR_HTTP_TOO_LARGE = -0x040A,      /**< Body over CONFIG_STAPLER_RESPONSE_MAX. */
    STAPLER_ERR_HTTP_TRUNCATED = -0x040B,      /**< Connection closed before the body ended. */
    STAPLER_ERR_HTTP_CONNECT_TIMEOUT = -0x040C, /**< DNS and connect took too long. */
    STAPLER_ERR_HTTP_IDLE_TIMEOUT = -0x040D,   /**< The responder went silent. */
    STAPLER_ERR_HTTP_TOTAL_TIMEOUT = -0x040E,  /**< The whole fetch took too long. */
    STAPLER_ERR_HTTP_TRANSFER_CODING = -0x040F, /**< A transfer coding other than chunked. */
    /* TLS stapling */
    STAPLER_ERR_TLS_MUST_STAPLE = -0x0501,     /**< Our must-staple cert has no valid staple. */
    STAPLER_ERR_TLS_PEER_NO_STAPLE = -0x0502,  /**< Peer stapled nothing, and one is required. */
    STAPLER_ERR_TLS_PEER_BAD_STAPLE = -0x0503, /**< Peer's staple fails verification. */
    STAPLER_ERR_TLS_PEER_REVOKED = -0x0504,    /**< Peer's staple says its cert is revoked. */
    STAPLER_ERR_TLS_PEER_UNKNOWN = -0x0505,    /**< Peer's staple says status unknown. */
    STAPLER_ERR_TLS_PEER_NO_ISSUER = -0x0506,  /**< Issuer of the peer's cert not found. */
} stapler_err_t;

/**
 * \brief Short symbolic name of \p err, e.g. "STAPLER_ERR_NO_MEMORY".
 * \return A static string; "STAPLER_ERR_UNKNOWN" for a code Stapler does not define.
 */
const char *stapler_error_name(int err);

/**
 * \brief What went wrong and what to do about it, in one sentence for a user's log.
 *        Built without CONFIG_STAPLER_ERROR_MESSAGES (a small MCU image), the code's slug
 *        (stapler_error_slug()) instead: the image then carries no message text.
 * \return A static string; never NULL.
 */
const char *stapler_error_message(int err);

/**
 * \brief Stable snake_case identifier of \p err for machine-readable output (JSON, logs),
 *        e.g. "bad_signature". Never changes once released.
 * \return A static string; "unknown_error" for a code Stapler does not define.
 */
const char *stapler_error_slug(int err);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_ERROR_H */
