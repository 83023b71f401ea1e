/**
 * \file http.h
 * \brief The HTTP/1.1 client for OCSP (RFC 6960 A.1, RFC 5019): URL parsing, the request,
 *        a streaming response parser, and one exchange driven over the port's transport.
 *
 * Everything is static and bounded: the body goes straight into a caller-given buffer of
 * CONFIG_STAPLER_RESPONSE_MAX bytes, a larger body is refused from its Content-Length (or
 * as soon as it grows past the limit) without being read into memory. Only a 200 with
 * Content-Type application/ocsp-response and a complete body is handed on; every other
 * outcome is a distinct error (STAPLER_ERR_HTTP_*, or the port's STAPLER_PORT_ERR_*).
 */
#ifndef STAPLER_HTTP_H
#define STAPLER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "stapler/config.h"
#include "stapler/credentials.h"
#include "stapler/ocsp.h"
#include "stapler_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest host name (RFC 1035: 253 characters). */
#define STAPLER_HTTP_HOST_MAX 253
/** Longest header line kept; longer header lines are skipped (none we read is that long). */
#define STAPLER_HTTP_LINE_MAX 256
/** Most header bytes accepted before the body (status line and all header lines). */
#define STAPLER_HTTP_HEADERS_MAX 8192
/** Largest request: the request line's target (at most the whole URL, through a proxy), the
 *  Host header (the URL's authority: at most the URL again), under 256 bytes of fixed header
 *  text, and a POST body. */
#define STAPLER_HTTP_REQUEST_MAX (2 * STAPLER_URL_MAX + 256 + STAPLER_OCSP_REQUEST_MAX)
/** The GET form is used when the whole URL fits in this many bytes (RFC 5019 section 5). */
#define STAPLER_HTTP_GET_MAX 255

/** A parsed http:// URL. */
typedef struct {
    char host[STAPLER_HTTP_HOST_MAX + 1]; /**< name or address; an IPv6 literal without [] */
    uint16_t port;                        /**< 80 unless the URL says otherwise */
    int port_given;                       /**< the URL names a port (even 80) */
    int ipv6_literal;                     /**< host was [..] in the URL */
    size_t path_offset;                   /**< where the path (or query) starts in the URL */
} stapler_http_url_t;

/**
 * \brief Parse an absolute http:// URL. The scheme and host are case-insensitive; the host
 *        must not carry user info; bytes outside printable ASCII (spaces, CR, LF) are refused
 *        so a crafted certificate cannot inject header lines.
 * \return 0; STAPLER_ERR_HTTP_SCHEME (https:// or another scheme); STAPLER_ERR_HTTP_URL.
 */
int stapler_http_url_parse(const char *url, stapler_http_url_t *out);

/** Request flags (stapler_http_request_write(), stapler_http_exchange_start_with()). */
#define STAPLER_HTTP_VIA_PROXY 1u /**< the request target is the absolute URL (a proxy's form) */
#define STAPLER_HTTP_POST      2u /**< POST even when the GET form would fit (a responder that
                                       refused GET before) */
#define STAPLER_HTTP_GET_AS_IS 4u /**< GET the URL as it stands: it already is the whole request
                                       URI (a redirected GET's Location, RFC 9110 10.2.2) */

/**
 * \brief Write the HTTP request for an OCSP request: GET with the base64 in the path when
 *        the whole URL fits in 255 bytes and has no query, else POST with Content-Type
 *        application/ocsp-request. HTTP/1.1, Host (with the port when not 80), Accept,
 *        Connection: close.
 * \param flags    STAPLER_HTTP_VIA_PROXY: the request target is the absolute URL;
 *                 STAPLER_HTTP_POST: POST whatever the size; STAPLER_HTTP_GET_AS_IS: GET the
 *                 URL itself, nothing appended (ignored with STAPLER_HTTP_POST). 0 for none.
 * \param is_post  Receives 1 for POST, 0 for GET (may be NULL).
 * \return 0; STAPLER_ERR_HTTP_URL; STAPLER_ERR_BUFFER_TOO_SMALL; STAPLER_ERR_INVALID_ARGUMENT.
 */
int stapler_http_request_write(const char *url, const unsigned char *ocsp_request,
                               size_t ocsp_request_len, unsigned flags, char *out, size_t out_size,
                               size_t *out_len, int *is_post);

/** Parser states (internal). */
typedef enum {
    STAPLER_HTTP_STATUS_LINE = 0,
    STAPLER_HTTP_HEADERS,
    STAPLER_HTTP_BODY_LENGTH,
    STAPLER_HTTP_BODY_TO_CLOSE,
    STAPLER_HTTP_CHUNK_SIZE,
    STAPLER_HTTP_CHUNK_DATA,
    STAPLER_HTTP_CHUNK_END,
    STAPLER_HTTP_TRAILERS,
    STAPLER_HTTP_COMPLETE,
    STAPLER_HTTP_FAILED
} stapler_http_parse_state_t;

/** A streaming HTTP/1.x response parser writing the body into a fixed buffer. */
typedef struct {
    int state;                          /**< stapler_http_parse_state_t */
    int error;                          /**< once FAILED */
    int status;                         /**< HTTP status code, once the status line is in */
    char line[STAPLER_HTTP_LINE_MAX];   /**< the line being collected */
    size_t line_len;
    int line_overflow;                  /**< the current line is longer than line[] */
    size_t header_bytes;
    int chunked;
    int has_length;
    uint32_t content_length;
    uint32_t chunk_left;
    int chunk_digits;
    int chunk_in_extension;
    int content_type_ok;
    uint32_t retry_after_s;             /**< Retry-After (delta-seconds, or date minus Date) */
    int64_t date;                       /**< Date header (UTC s), or 0 */
    int64_t retry_after_date;           /**< Retry-After as an HTTP-date, or 0 */
    char location[STAPLER_URL_MAX + 1]; /**< Location of a redirect, or "" */
    unsigned char *body;
    size_t body_size;
    size_t body_len;
} stapler_http_response_t;

/** \brief Start parsing a response whose body goes into \p body (at most \p body_size). */
void stapler_http_response_init(stapler_http_response_t *response, unsigned char *body,
                                size_t body_size);

/**
 * \brief Feed received bytes.
 * \return 0 when more is needed; 1 when the response is complete (bytes after it are
 *         ignored); or the error, which is final (the status and headers read so far stay
 *         available: status, retry_after_s, location).
 */
int stapler_http_response_feed(stapler_http_response_t *response, const unsigned char *data,
                               size_t len);

/**
 * \brief The peer closed the connection.
 * \return 1 when that completes the response (a body delimited by the close), else
 *         STAPLER_ERR_HTTP_TRUNCATED (or the error already met).
 */
int stapler_http_response_close(stapler_http_response_t *response);

/** Phases of an exchange. */
typedef enum {
    STAPLER_HTTP_IDLE = 0,
    STAPLER_HTTP_CONNECTING,
    STAPLER_HTTP_SENDING,
    STAPLER_HTTP_RECEIVING,
    STAPLER_HTTP_DONE
} stapler_http_phase_t;

/** One OCSP fetch over the port's transport: connect, send, receive, with timeouts. */
typedef struct {
    int phase;                                  /**< stapler_http_phase_t */
    int result;                                 /**< once DONE: 0 or the error */
    int connection;                             /**< the transport's, while one is open */
    const stapler_port_t *port;
    uint64_t started_ms;                        /**< for the total timeout */
    uint64_t phase_ms;                          /**< connect start, or the last progress */
    unsigned redirects;                         /**< followed so far */
    unsigned max_redirects;                     /**< CONFIG_STAPLER_HTTP_MAX_REDIRECTS */
    uint32_t connect_timeout_ms;                /**< CONFIG_STAPLER_HTTP_CONNECT_TIMEOUT_MS */
    uint32_t idle_timeout_ms;                   /**< CONFIG_STAPLER_HTTP_IDLE_TIMEOUT_MS */
    uint32_t total_timeout_ms;                  /**< CONFIG_STAPLER_HTTP_TOTAL_TIMEOUT_MS */
    int is_post;                                /**< the request sent last (the one answered) was a POST */
    int get_as_is;                              /**< a GET was redirected: url is its Location,
                                                     the whole request URI */
    int post_only;                              /**< STAPLER_HTTP_POST was given: no GET at all */
    int get_refused;                            /**< a GET was refused (4xx but 429, or a 3xx not
                                                     followed) and asked again by POST */
    int get_status;                             /**< the status that refused the GET, or 0 */
    char url[STAPLER_URL_MAX + 1];              /**< the URL being fetched (after redirects) */
    char proxy[STAPLER_HTTP_HOST_MAX + 8];      /**< host:port of the proxy, or "" */
    unsigned char ocsp_request[STAPLER_OCSP_REQUEST_MAX];
    size_t ocsp_request_len;
    char request[STAPLER_HTTP_REQUEST_MAX];
    size_t request_len;
    size_t request_sent;
    stapler_http_response_t response;
    unsigned char body[STAPLER_RESPONSE_MAX];
} stapler_http_exchange_t;

/**
 * \brief Start fetching \p url with the DER OCSP request. \p proxy is "host:port" or
 *        NULL/"" for a direct connection. On an immediate failure the exchange is DONE
 *        with that result (stapler_http_exchange_step() reports it).
 *
 * A request that fits goes out as GET (RFC 5019). Some responders refuse GET (Debian's
 * cfssl answers 400, or 301 when the base64 holds "//"): when a GET, before any redirect
 * was followed, is answered with a 4xx other than 429 or with a redirect that is not
 * followed, the exchange asks the same URL again by POST, within the same total timeout,
 * and sets get_refused and get_status. The result is then the POST's.
 * \return 0 when started (or failed at once: see the step); STAPLER_ERR_INVALID_ARGUMENT.
 */
int stapler_http_exchange_start(stapler_http_exchange_t *exchange, const stapler_port_t *port,
                                const char *url, const char *proxy,
                                const unsigned char *ocsp_request, size_t ocsp_request_len);

/**
 * \brief Start like stapler_http_exchange_start(), with other limits than Kconfig's (a tool
 *        or a test; 0 keeps the Kconfig value) and request flags: STAPLER_HTTP_POST sends
 *        POST from the start (a responder known to refuse GET); STAPLER_HTTP_VIA_PROXY is
 *        ignored (\p proxy decides).
 */
int stapler_http_exchange_start_with(stapler_http_exchange_t *exchange, const stapler_port_t *port,
                                     const char *url, const char *proxy,
                                     const unsigned char *ocsp_request, size_t ocsp_request_len,
                                     uint32_t connect_timeout_ms, uint32_t idle_timeout_ms,
                                     uint32_t total_timeout_ms, unsigned flags);

/**
 * \brief Move the exchange on: call it after network events and when \p wait_ms expires.
 * \param wait_ms  Receives how long until a timeout is due (while in progress).
 * \return 0 while in progress; 1 when DONE (result in exchange->result; on success the
 *         body is exchange->response.body / body_len).
 */
int stapler_http_exchange_step(stapler_http_exchange_t *exchange, uint32_t *wait_ms);

/** \brief Stop an exchange (closing its connection), or release a DONE one: IDLE again. */
void stapler_http_exchange_abort(stapler_http_exchange_t *exchange);

/** \brief Parse an IMF-fixdate (RFC 9110 5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT". */
int stapler_http_date_parse(const char *text, size_t len, int64_t *utc_seconds);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_HTTP_H */
