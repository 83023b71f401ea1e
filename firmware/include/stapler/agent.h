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
 * Time: the agent keeps a floor, what it can prove real time has reached: the newest
 * verified producedAt plus monotonic time since, raised by trusted time it already used (at
 * most CONFIG_STAPLER_TIME_LEAD_S ahead of that evidence), and kept in flash as a time
 * high-water mark (stapler/clock.h) with each staple write and every
 * CONFIG_STAPLER_TIME_MARK_INTERVAL_S. With trusted wall time, "now" is the wall time, but
 * never below the floor: a trusted reading more than CONFIG_STAPLER_CLOCK_SKEW_S below it
 * is a contradiction (not used, counted, logged, STAPLER_EVENT_TIME_CONTRADICTION). Without
 * trusted time (an MCU booting with no RTC or SNTP yet), "now" is the floor, or the
 * untrusted clock if that is later: a lower bound that cannot be wrong in the unsafe
 * direction. A staple is served only while it cannot be shown to be expired at that bound;
 * the TLS peer then judges it with its own clock (docs/DESIGN.md, docs/SECURITY.md).
 *
 * Threads (each function below is marked [agent thread], [any thread] or [one thread only]).
 * With an RTOS, give the port a lock (stapler_port_t.lock/unlock, a mutex); with
 * one loop (NO_SYS=1) leave it NULL. Then the calls divide into two kinds:
 * - agent-thread calls, which change what the agent holds: stapler_agent_step(),
 *   _offer(), _fetch_target(), _fetch_done(), _set_proxy().
 *   One thread makes them (the agent's task). They may take long (signature checks, flash
 *   writes, the HTTP exchange), but never with the lock held for more than bookkeeping.
 *   One made while another is running (from a second thread, or from an event callback)
 *   changes nothing and returns STAPLER_ERR_AGENT_BUSY.
 * - any-thread calls, which only take the lock for a few field updates and never block on
 *   I/O: stapler_agent_staple_hold(), _staple_release(), _handshake_done(), _status(),
 *   _poll(), _now(), _set_event_handler(). TLS tasks and a monitoring task use these.
 * stapler_agent_init() runs before any other thread uses the agent. stapler_agent_staple()
 * hands out bytes without a hold, so it is for single-threaded use only (with threads,
 * hold and release). Nothing here has global state: all of it is in the stapler_agent_t.
 */
#ifndef STAPLER_AGENT_H
#define STAPLER_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/x509_crt.h"

#include "stapler/clock.h"
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

/** Which CertID hash an identity's requests use (CONFIG_STAPLER_OCSP_CERTID_SHA256). */
typedef enum {
    STAPLER_CERTID_SHA256 = 0,   /**< SHA-256 (RFC 9919), the start after every boot */
    STAPLER_CERTID_SHA1_TRIAL,   /**< the responder refused SHA-256: SHA-1 is being tried */
    STAPLER_CERTID_SHA1,         /**< SHA-1 got an answer: kept until the next boot */
} stapler_certid_fallback_t;

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
    /** The staple, and the one before it while handshakes still send it: a newer response
     *  goes into the other buffer, so a refresh never waits for handshakes to stop. */
    unsigned char buffer[STAPLER_STAPLE_BUFFERS][STAPLER_RESPONSE_MAX];
    unsigned char *staple;                   /**< buffer[current]: the staple's bytes */
    size_t staple_len;                       /**< 0: nothing to staple */
    unsigned current;                        /**< the buffer that holds the staple */
    stapler_ocsp_single_t single;            /**< of the staple, when staple_len > 0 */
    int64_t produced_at;
    int last_error;                          /**< 0 or the newest error */
    uint32_t offers_accepted;
    uint32_t offers_rejected;
    /* Refreshing */
    stapler_refresh_t refresh;               /**< when to fetch, and from which URL */
    unsigned aia_urls;                       /**< OCSP URLs in the certificate's AIA */
    uint32_t post_urls;                      /**< bit i: URL i of the rotation refused GET and
                                                  answered POST, so it is asked by POST from
                                                  then on (RAM only: until the next boot) */
    int64_t cert_not_after;                  /**< the device certificate's notAfter (UTC s) */
    int64_t responder_not_after;             /**< of the held response's signer, or 0 */
    unsigned char nonce[STAPLER_OCSP_REQUEST_NONCE_MAX]; /**< of the request in flight */
    size_t nonce_len;
    uint8_t certid_sent;                     /**< stapler_ocsp_certid_hash_t of the request in flight */
    uint8_t certid_fallback;                 /**< stapler_certid_fallback_t (RAM only: until reboot) */
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
    int last_fetch_post;                     /**< the last fetch's answer came to a POST */
    int last_get_refused;                    /**< ... because its GET was refused */
    int must_staple;                         /**< the device certificate has RFC 7633 status_request */
    unsigned holds;                          /**< handshakes holding staple bytes (both buffers) */
    unsigned buffer_holds[STAPLER_STAPLE_BUFFERS]; /**< ... per buffer */
} stapler_identity_t;

/**
 * \brief [pure] The agent's serving rule: may a verified response with this \p single be
 *        stapled at \p now? Not past nextUpdate + CONFIG_STAPLER_CLOCK_SKEW_S (without
 *        nextUpdate: thisUpdate + CONFIG_STAPLER_MAX_AGE_WITHOUT_NEXT_UPDATE_S + skew).
 *        What stapler_agent_staple_hold() applies, exported for tools that model fleets of
 *        agents (stapler-fleet) with the same decision.
 */
int stapler_agent_rule_fresh(const stapler_ocsp_single_t *single, int64_t now);

/**
 * \brief [pure] The agent's no-rollback rule: does a verified response (\p single,
 *        \p produced_at) replace the held one (\p held, \p held_produced_at; \p held NULL
 *        when none is held)? Only a strictly later thisUpdate, or the same thisUpdate and a
 *        later producedAt.
 */
int stapler_agent_rule_newer(const stapler_ocsp_single_t *single, int64_t produced_at,
                             const stapler_ocsp_single_t *held, int64_t held_produced_at);

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
    STAPLER_EVENT_TIME_CONTRADICTION, /**< the trusted clock read earlier than the agent can
                                           prove (identity: 0, the event is the agent's);
                                           the clock is not used while it does */
} stapler_event_t;

/** Event callback: called from within the agent call that caused the event (in the thread
 *  that made it: the agent's, see "Threads" below), never with the agent's lock held. It may
 *  call the any-thread functions (stapler_agent_status(), ...); an agent-thread function
 *  called from it returns STAPLER_ERR_AGENT_BUSY. It should return promptly. */
typedef void (*stapler_event_fn)(void *context, unsigned identity, stapler_event_t event);

/** The agent. Allocate statically; nothing to free. */
typedef struct {
    const stapler_port_t *port;
    stapler_credentials_t credentials;
    unsigned identity_count;
    stapler_identity_t identity[STAPLER_MAX_IDENTITIES];
    /* Time the agent can defend (docs/SECURITY.md, time) */
    int64_t time_floor;                      /**< evidence: newest verified producedAt seen, or
                                                  the evidence kept in flash (UTC s) */
    uint64_t floor_monotonic_ms;             /**< monotonic time when the evidence was set */
    int64_t time_used;                       /**< newest trusted time taken (or kept in flash) */
    uint64_t time_used_ms;                   /**< monotonic time when it was taken */
    uint32_t time_contradictions;            /**< runs of trusted readings below the floor */
    int time_contradicting;                  /**< the last trusted reading was one */
    int time_contradiction_pending;          /**< to be logged and raised by the next step */
    int64_t time_contradiction_wall, time_contradiction_floor; /**< of the last one */
    stapler_clock_marks_t marks;             /**< the time high-water mark in flash (agent thread) */
    int64_t time_mark;                       /**< its newest mark, for status (under the lock) */
    int marks_error;                         /**< 0, or why the marks were not read/written */
    int marked;                              /**< a mark was considered since boot */
    uint64_t marked_ms;                      /**< ... at this monotonic time */
    stapler_event_fn event;                  /**< optional */
    void *event_context;
    /* Fetching over the port's transport (stapler_agent_step()) */
    int fetching;                            /**< an exchange is in progress */
    unsigned fetch_identity;                 /**< for that identity (or the one that just ended) */
    int fetch_result;                        /**< of the fetch that ended last: 0 or why not */
    int fetch_parked;                        /**< it ended, but handshakes still hold both buffers */
    int writer;                              /**< an agent-thread call is running */
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
    int time_trusted;                        /**< 0 too while the trusted clock contradicts the floor */
    int64_t time_floor;                      /**< what the agent can prove real time has reached, 0: nothing */
    uint32_t time_contradictions;            /**< runs of trusted clock readings below the floor */
    int64_t time_mark;                       /**< the newest time high-water mark in flash, 0: none */
    int time_marks_error;                    /**< 0, or why marks could not be read or written */
    uint32_t consecutive_failures;
    int64_t next_attempt_in;                 /**< seconds until the next fetch (0: now) */
    uint32_t fetches_ok, fetches_failed;
    uint32_t fetches_by_class[STAPLER_FETCH_CLASSES];            /**< indexed by stapler_fetch_class_t */
    int64_t last_attempt, last_success;      /**< agent time, or 0 for never */
    uint32_t handshakes_stapled, handshakes_unstapled;
    uint32_t handshakes_by_outcome[STAPLER_HANDSHAKE_OUTCOMES];
    int must_staple;                         /**< our certificate promises a staple (RFC 7633) */
    int last_http_status;                    /**< of the last fetch that got one, or 0 */
    int last_fetch_post;                     /**< the last fetch's answer came to a POST */
    int last_get_refused;                    /**< its GET was refused and POST asked again */
    int certid_sha1;                         /**< requests use SHA-1 CertIDs: the responder refused
                                                  SHA-256 (stapler_certid_fallback_t not 0) */
    int fetching;                            /**< a fetch for it is in progress */
} stapler_identity_status_t;

/**
 * \brief Boot: read credentials, parse the chains, mount the rings, re-verify cached staples.
 *        Before any other thread uses the agent; it reads flash and checks signatures.
 * \return 0, or the error that stopped everything (STAPLER_ERR_CRED_* when the device is
 *         not provisioned properly). Problems of one identity (a corrupt cached staple, a
 *         staple for a replaced certificate) are recorded in it and do not fail the boot.
 */
int stapler_agent_init(stapler_agent_t *agent, const stapler_port_t *port);

/**
 * \brief [agent thread] A response arrived for an identity (from the fetcher, or a tool). It replaces the
 *        current staple only if it verifies now and is strictly newer (thisUpdate, then
 *        producedAt); a verified revoked response stops serving at once. It is persisted.
 * \return 0 when accepted; otherwise the reason (STAPLER_ERR_OCSP_*, STAPLER_ERR_AGENT_*),
 *         and the current staple is untouched.
 */
int stapler_agent_offer(stapler_agent_t *agent, unsigned identity, const unsigned char *der,
                        size_t length);

/**
 * \brief [one thread only] The staple to send for an identity now: a pointer into the agent's buffer. The TLS
 *        glue calls it once per handshake; it counts stapled and unstapled handshakes.
 * \return 0 with \p der / \p length set; STAPLER_ERR_AGENT_NO_STAPLE when there is none
 *         valid (never an expired one; a verified revoked one only with
 *         CONFIG_STAPLER_STAPLE_REVOKED, the default).
 */
int stapler_agent_staple(stapler_agent_t *agent, unsigned identity, const unsigned char **der,
                         size_t *length);

/**
 * \brief [any thread, never blocks on I/O] The staple for one TLS handshake, held: the bytes at \p der stay as they are until
 *        stapler_agent_staple_release(), even if a newer response is taken meanwhile (it goes
 *        into the identity's other buffer and is served from the next hold on; only a third
 *        response waits, until the handshakes holding the oldest bytes are over). No copy is
 *        made. Any thread; never blocks on I/O.
 * \return 0 with \p der / \p length set and the staple held; STAPLER_ERR_AGENT_NO_STAPLE (nothing
 *         held) when there is none valid. Counts nothing: the handshake's outcome is reported
 *         with stapler_agent_handshake_done().
 */
int stapler_agent_staple_hold(stapler_agent_t *agent, unsigned identity, const unsigned char **der,
                              size_t *length);

/** \brief [any thread, never blocks on I/O] End a hold from stapler_agent_staple_hold() (once per successful hold), with the
 *         \p der it gave. Any thread. A pointer the agent did not hand out is ignored. */
void stapler_agent_staple_release(stapler_agent_t *agent, unsigned identity, const unsigned char *der);

/** \brief [any thread, never blocks on I/O] Count one handshake of an identity, by outcome (the TLS glue calls it once per
 *         handshake that presented this identity's certificate). */
void stapler_agent_handshake_done(stapler_agent_t *agent, unsigned identity,
                                  stapler_handshake_outcome_t outcome);

/** \brief [any thread, never blocks on I/O] Fill \p status for an identity. \return 0 or STAPLER_ERR_INVALID_ARGUMENT. */
int stapler_agent_status(stapler_agent_t *agent, unsigned identity, stapler_identity_status_t *status);

/** \brief [any thread] Receive events (optional); they are raised in the agent thread. */
void stapler_agent_set_event_handler(stapler_agent_t *agent, stapler_event_fn event, void *context);

/**
 * \brief [any thread, never blocks on I/O] What should be fetched now. The main loop calls it whenever it wakes.
 * \param identity  Receives the identity to fetch for, when one is due.
 * \param wait_ms   Receives how long nothing is due (at most a day), when none is.
 * \return 1 when a fetch for *identity is due now, 0 when not.
 */
int stapler_agent_poll(stapler_agent_t *agent, unsigned *identity, uint32_t *wait_ms);

/**
 * \brief [agent thread] The responder URL (NUL-terminated) and the DER request for a due fetch: the
 *        identity's current URL in rotation: the provisioned override first (it is there to
 *        replace a responder that moved), then the certificate's AIA URLs in their order.
 *        Each failed fetch moves on to the next URL; a success stays with the URL.
 * \return 0; STAPLER_ERR_AGENT_NO_IDENTITY; STAPLER_ERR_BUFFER_TOO_SMALL; a port error
 *         (entropy for the nonce).
 */
int stapler_agent_fetch_target(stapler_agent_t *agent, unsigned identity, char *url, size_t url_size,
                               unsigned char *request, size_t request_size, size_t *request_len);

/**
 * \brief [agent thread] The fetch for \p identity ended. \p error is 0 when a response body arrived (then
 *        \p der / \p length), else the fetcher's error; \p retry_after_s is the responder's
 *        Retry-After or 0. The response goes through the same checks as
 *        stapler_agent_offer() (plus the nonce, if one was sent), and the schedule moves on.
 *        One exception (RFC 9919): a SHA-256 CertID answered with unauthorized or
 *        malformedRequest is not counted as a failure; the identity switches to SHA-1 and the
 *        fetch stays due, so the next stapler_agent_fetch_target() asks the same URL again at
 *        once with SHA-1. If SHA-1 is answered, the identity keeps it until reboot.
 * \return 0 when a response was accepted, else why not (STAPLER_ERR_OCSP_UNSUCCESSFUL for
 *         the refused SHA-256 request too).
 */
int stapler_agent_fetch_done(stapler_agent_t *agent, unsigned identity, int error,
                             const unsigned char *der, size_t length, uint32_t retry_after_s);

/**
 * \brief [agent thread] Run the agent: start the fetch that is due, move the one in progress on over the
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
 * \brief [agent thread] Fetch through an HTTP proxy ("host:port"), or directly (NULL or ""). The default
 *        is CONFIG_STAPLER_HTTP_PROXY. Takes effect from the next fetch.
 * \return 0; STAPLER_ERR_BUFFER_TOO_SMALL when the text is too long.
 */
int stapler_agent_set_proxy(stapler_agent_t *agent, const char *proxy);

/** \brief [any thread, never blocks on I/O] The time the agent judges validity at, and whether it is trusted wall time. */
int64_t stapler_agent_now(stapler_agent_t *agent, int *trusted);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_AGENT_H */
