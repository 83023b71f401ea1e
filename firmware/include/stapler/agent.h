/**
 * \file agent.h
 * \brief The Stapler agent: credentials and staples of every identity, from boot on.
 *
 * The caller allocates one stapler_agent_t (static; its size is fixed by Kconfig) and
 * calls stapler_agent_init() at boot, before any network: it reads the credential store,
 * parses each identity's chain, mounts the staple rings and re-verifies the cached staples,
 * so the first handshake after boot is stapled whenever a still-valid response was cached.
 * New responses (from the fetcher) go through stapler_agent_offer(), which keeps only a
 * verified, strictly newer one and persists it. Nothing blocks; nothing is allocated
 * outside Mbed TLS's static arena.
 *
 * Time: with trusted wall time, "now" is the wall time. Without it (an MCU booting with no
 * RTC or SNTP yet), "now" is a lower bound that cannot be wrong in the unsafe direction:
 * the newest verified producedAt seen plus the time since boot, or the untrusted clock if
 * that is later. A staple is served only while it cannot be shown to be expired at that
 * bound; the TLS peer then judges it with its own clock (docs/DESIGN.md).
 */
#ifndef STAPLER_AGENT_H
#define STAPLER_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/x509_crt.h"

#include "stapler/config.h"
#include "stapler/credentials.h"
#include "stapler/http.h"
#include "stapler/ocsp.h"
#include "stapler/refresh.h"
#include "stapler/ring.h"
#include "stapler_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where an identity stands. */
typedef enum {
    STAPLER_IDENTITY_UNUSED = 0,        /**< not provisioned */
    STAPLER_IDENTITY_NOT_APPLICABLE,    /**< no OCSP URL and no override: nothing to fetch */
    STAPLER_IDENTITY_NO_STAPLE,         /**< needs a response; none valid yet */
    STAPLER_IDENTITY_SERVING,           /**< a verified good response is stapled */
    STAPLER_IDENTITY_REVOKED,           /**< the responder says revoked: not serving good */
} stapler_identity_state_t;

/** Result classes of fetches, for counters (stapler_agent_fetch_class()). */
typedef enum {
    STAPLER_FETCH_ACCEPTED = 0,      /**< a newer verified response was taken */
    STAPLER_FETCH_NOT_NEWER,         /**< valid, but not newer than the one held */
    STAPLER_FETCH_RESPONDER_ERROR,   /**< responseStatus tryLater, unauthorized, ... */
    STAPLER_FETCH_UNKNOWN_STATUS,    /**< the responder says "unknown" */
    STAPLER_FETCH_INVALID,           /**< malformed, bad signature, wrong signer, stale, ... */
    STAPLER_FETCH_TRANSPORT,         /**< another failure of the platform's network */
    STAPLER_FETCH_OTHER,             /**< anything else */
    STAPLER_FETCH_DNS,               /**< the responder's name did not resolve */
    STAPLER_FETCH_CONNECT,           /**< refused or unreachable */
    STAPLER_FETCH_TIMEOUT,           /**< connect, idle or total timeout */
    STAPLER_FETCH_RESET,             /**< the connection was reset */
    STAPLER_FETCH_HTTP_4XX,          /**< 400, 403, 404, ... */
    STAPLER_FETCH_HTTP_5XX,          /**< 500, 503, ... */
    STAPLER_FETCH_HTTP_REDIRECT,     /**< 3xx not followed */
    STAPLER_FETCH_CONTENT_TYPE,      /**< 200 but not application/ocsp-response */
    STAPLER_FETCH_TOO_LARGE,         /**< body over CONFIG_STAPLER_RESPONSE_MAX */
    STAPLER_FETCH_TRUNCATED,         /**< the body ended early */
    STAPLER_FETCH_HTTP_MALFORMED,    /**< not HTTP, bad framing, odd status, bad URL */
    STAPLER_FETCH_CLASSES
} stapler_fetch_class_t;

/** How one TLS handshake went for an identity's staple (stapler_agent_handshake_done()). */
typedef enum {
    STAPLER_HANDSHAKE_STAPLED = 0,   /**< our staple was sent */
    STAPLER_HANDSHAKE_NOT_REQUESTED, /**< the peer did not ask for it, or the session resumed */
    STAPLER_HANDSHAKE_NO_STAPLE,     /**< the peer asked, but no valid staple was cached */
    STAPLER_HANDSHAKE_TOO_LARGE,     /**< the staple did not fit in the handshake record */
    STAPLER_HANDSHAKE_REFUSED,       /**< must-staple and no staple: refused locally */
    STAPLER_HANDSHAKE_OUTCOMES
} stapler_handshake_outcome_t;

/** \brief Stable snake_case name of an identity state (stapler_identity_state_t). */
const char *stapler_agent_state_name(int state);

/** \brief Stable snake_case name of a handshake outcome, for status output. */
const char *stapler_agent_handshake_outcome_name(stapler_handshake_outcome_t outcome);

/** One identity. Read it through stapler_agent_status(); fields are the agent's. */
typedef struct {
    int state;                               /**< stapler_identity_state_t */
    mbedtls_x509_crt chain;                  /**< device certificate, then intermediates */
    mbedtls_x509_crt issuer;                 /**< issuer of the device certificate if the chain has one certificate */
    uint8_t fingerprint[STAPLER_FINGERPRINT_SIZE];
    stapler_ring_t ring;                     /**< the device certificate's staple ring */
    unsigned char staple[STAPLER_RESPONSE_MAX];
    size_t staple_len;                       /**< 0: nothing to staple */
    stapler_ocsp_single_t single;            /**< of the staple, when staple_len > 0 */
    int64_t produced_at;
    int last_error;                          /**< 0 or the newest error */
    uint32_t offers_accepted;
    uint32_t offers_rejected;
    /* Refreshing */
    stapler_refresh_t refresh;               /**< when to fetch, and from which URL */
    unsigned aia_urls;                       /**< OCSP URLs in the certificate's AIA */
    int64_t cert_not_after;                  /**< the device certificate's notAfter (UTC s) */
    int64_t responder_not_after;             /**< of the held response's signer, or 0 */
    unsigned char nonce[STAPLER_OCSP_NONCE_MAX]; /**< of the request in flight */
    size_t nonce_len;
    int expiring_reported;                   /**< the EXPIRING event was raised for this staple */
    uint32_t fetches_ok;                     /**< fetches whose response was accepted */
    uint32_t fetches_failed;                 /**< fetches that failed or were refused */
    uint32_t fetches_by_class[STAPLER_FETCH_CLASSES];            /**< indexed by stapler_fetch_class_t */
    int64_t last_attempt;                    /**< when the last fetch ended (agent time), or 0 */
    int64_t last_success;                    /**< when a fetch last succeeded, or 0 */
    uint32_t handshakes_stapled;             /**< stapler_agent_staple() calls that gave one */
    uint32_t handshakes_unstapled;           /**< ... that had none to give */
    uint32_t handshakes_by_outcome[STAPLER_HANDSHAKE_OUTCOMES]; /**< stapler_handshake_outcome_t */
    int last_http_status;                    /**< of the last fetch that got one, or 0 */
    int must_staple;                         /**< the device certificate has RFC 7633 status_request */
    unsigned holds;                          /**< handshakes holding the staple's bytes */
} stapler_identity_t;

/** \brief The result class of a fetch's outcome (0 or an error code). */
stapler_fetch_class_t stapler_agent_fetch_class(int result);

/** \brief Stable snake_case name of a fetch class, for status output. */
const char *stapler_agent_fetch_class_name(stapler_fetch_class_t fetch_class);

/** What the agent tells the application about (stapler_agent_set_event_handler()). */
typedef enum {
    STAPLER_EVENT_RENEWED = 1,   /**< a newer verified good response is being served */
    STAPLER_EVENT_REVOKED,       /**< the responder says the certificate is revoked */
    STAPLER_EVENT_EXPIRING,      /**< fetches keep failing and the staple's last quarter began */
    STAPLER_EVENT_FAILED,        /**< a fetch failed (reason: the identity's last error) */
} stapler_event_t;

/** Event callback: called from within agent calls; must not call back into the agent. */
typedef void (*stapler_event_fn)(void *context, unsigned identity, stapler_event_t event);

/** The agent. Allocate statically; nothing to free. */
typedef struct {
    const stapler_port_t *port;
    stapler_credentials_t credentials;
    unsigned identity_count;
    stapler_identity_t identity[STAPLER_MAX_IDENTITIES];
    int64_t time_floor;                      /**< newest verified producedAt seen (UTC s) */
    uint64_t floor_monotonic_ms;             /**< monotonic time when the floor was set */
    stapler_event_fn event;                  /**< optional */
    void *event_context;
    /* Fetching over the port's transport (stapler_agent_step()) */
    int fetching;                            /**< an exchange is in progress */
    unsigned fetch_identity;                 /**< for that identity (or the one that just ended) */
    int fetch_result;                        /**< of the fetch that ended last: 0 or why not */
    int fetch_parked;                        /**< it ended, but a handshake holds the staple */
    char proxy[STAPLER_HTTP_HOST_MAX + 8];   /**< host:port, or "" */
    stapler_http_exchange_t exchange;
} stapler_agent_t;

/** A snapshot for status displays and logs. */
typedef struct {
    int state;                               /**< stapler_identity_state_t */
    int serving;                             /**< 1 when stapler_agent_staple() would return one */
    int cert_status;                         /**< of the current response, when one is held */
    int64_t this_update, next_update, produced_at;
    int has_next_update;
    int64_t remaining;                       /**< seconds of validity left at now, or 0 */
    int last_error;
    int64_t now;                             /**< the time used */
    int time_trusted;
    uint32_t consecutive_failures;
    int64_t next_attempt_in;                 /**< seconds until the next fetch (0: now) */
    uint32_t fetches_ok, fetches_failed;
    uint32_t fetches_by_class[STAPLER_FETCH_CLASSES];            /**< indexed by stapler_fetch_class_t */
    int64_t last_attempt, last_success;      /**< agent time, or 0 for never */
    uint32_t handshakes_stapled, handshakes_unstapled;
    uint32_t handshakes_by_outcome[STAPLER_HANDSHAKE_OUTCOMES];
    int must_staple;                         /**< our certificate promises a staple (RFC 7633) */
    int last_http_status;                    /**< of the last fetch that got one, or 0 */
    int fetching;                            /**< a fetch for it is in progress */
} stapler_identity_status_t;

/**
 * \brief Boot: read credentials, parse the chains, mount the rings, re-verify cached staples.
 * \return 0, or the error that stopped everything (STAPLER_ERR_CRED_* when the device is
 *         not provisioned properly). Problems of one identity (a corrupt cached staple, a
 *         staple for a replaced certificate) are recorded in it and do not fail the boot.
 */
int stapler_agent_init(stapler_agent_t *agent, const stapler_port_t *port);

/**
 * \brief A response arrived for an identity (from the fetcher, or a tool). It replaces the
 *        current staple only if it verifies now and is strictly newer (thisUpdate, then
 *        producedAt); a verified revoked response stops serving at once. It is persisted.
 * \return 0 when accepted; otherwise the reason (STAPLER_ERR_OCSP_*, STAPLER_ERR_AGENT_*),
 *         and the current staple is untouched.
 */
int stapler_agent_offer(stapler_agent_t *agent, unsigned identity, const unsigned char *der,
                        size_t length);

/**
 * \brief The staple to send for an identity now: a pointer into the agent's buffer. The TLS
 *        glue calls it once per handshake; it counts stapled and unstapled handshakes.
 * \return 0 with \p der / \p length set; STAPLER_ERR_AGENT_NO_STAPLE when there is none
 *         valid (never an expired or revoked one).
 */
int stapler_agent_staple(stapler_agent_t *agent, unsigned identity, const unsigned char **der,
                         size_t *length);

/**
 * \brief The staple for one TLS handshake, held: the bytes at \p der stay as they are until
 *        stapler_agent_staple_release(), even if a newer response is fetched meanwhile (it
 *        waits, and replaces the staple after the last release). No copy is made.
 * \return 0 with \p der / \p length set and the staple held; STAPLER_ERR_AGENT_NO_STAPLE (nothing
 *         held) when there is none valid. Counts nothing: the handshake's outcome is reported
 *         with stapler_agent_handshake_done().
 */
int stapler_agent_staple_hold(stapler_agent_t *agent, unsigned identity, const unsigned char **der,
                              size_t *length);

/** \brief End a hold from stapler_agent_staple_hold() (once per successful hold). */
void stapler_agent_staple_release(stapler_agent_t *agent, unsigned identity);

/** \brief Count one handshake of an identity, by outcome (the TLS glue calls it once per
 *         handshake that presented this identity's certificate). */
void stapler_agent_handshake_done(stapler_agent_t *agent, unsigned identity,
                                  stapler_handshake_outcome_t outcome);

/** \brief Fill \p status for an identity. \return 0 or STAPLER_ERR_INVALID_ARGUMENT. */
int stapler_agent_status(stapler_agent_t *agent, unsigned identity, stapler_identity_status_t *status);

/** \brief Receive events (optional). */
void stapler_agent_set_event_handler(stapler_agent_t *agent, stapler_event_fn event, void *context);

/**
 * \brief What should be fetched now. The main loop calls it whenever it wakes.
 * \param identity  Receives the identity to fetch for, when one is due.
 * \param wait_ms   Receives how long nothing is due (at most a day), when none is.
 * \return 1 when a fetch for *identity is due now, 0 when not.
 */
int stapler_agent_poll(stapler_agent_t *agent, unsigned *identity, uint32_t *wait_ms);

/**
 * \brief The responder URL (NUL-terminated) and the DER request for a due fetch: the
 *        identity's current URL in rotation (its AIA URLs, then the override).
 * \return 0; STAPLER_ERR_AGENT_NO_IDENTITY; STAPLER_ERR_BUFFER_TOO_SMALL; a port error
 *         (entropy for the nonce).
 */
int stapler_agent_fetch_target(stapler_agent_t *agent, unsigned identity, char *url, size_t url_size,
                               unsigned char *request, size_t request_size, size_t *request_len);

/**
 * \brief The fetch for \p identity ended. \p error is 0 when a response body arrived (then
 *        \p der / \p length), else the fetcher's error; \p retry_after_s is the responder's
 *        Retry-After or 0. The response goes through the same checks as
 *        stapler_agent_offer() (plus the nonce, if one was sent), and the schedule moves on.
 * \return 0 when a response was accepted, else why not.
 */
int stapler_agent_fetch_done(stapler_agent_t *agent, unsigned identity, int error,
                             const unsigned char *der, size_t length, uint32_t retry_after_s);

/**
 * \brief Run the agent: start the fetch that is due, move the one in progress on over the
 *        port's transport, and hand its result to stapler_agent_fetch_done(). Call it from
 *        the main loop after the network stack has run, and when \p wait_ms has passed.
 *        Without a transport in the port it only reports how long nothing is due.
 * \param wait_ms  Receives how long until the agent needs a step again (at most a day;
 *                 short while a fetch is in progress).
 * \return 1 when a fetch ended during this step (agent->fetch_identity, agent->fetch_result),
 *         else 0.
 */
int stapler_agent_step(stapler_agent_t *agent, uint32_t *wait_ms);

/**
 * \brief Fetch through an HTTP proxy ("host:port"), or directly (NULL or ""). The default
 *        is CONFIG_STAPLER_HTTP_PROXY. Takes effect from the next fetch.
 * \return 0; STAPLER_ERR_BUFFER_TOO_SMALL when the text is too long.
 */
int stapler_agent_set_proxy(stapler_agent_t *agent, const char *proxy);

/** \brief The time the agent judges validity at, and whether it is trusted wall time. */
int64_t stapler_agent_now(stapler_agent_t *agent, int *trusted);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_AGENT_H */
