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
#include "stapler/ocsp.h"
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
} stapler_identity_t;

/** The agent. Allocate statically; nothing to free. */
typedef struct {
    const stapler_port_t *port;
    stapler_credentials_t credentials;
    unsigned identity_count;
    stapler_identity_t identity[STAPLER_MAX_IDENTITIES];
    int64_t time_floor;                      /**< newest verified producedAt seen (UTC s) */
    uint64_t floor_monotonic_ms;             /**< monotonic time when the floor was set */
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
 * \brief The staple to send for an identity now: a pointer into the agent's buffer.
 * \return 0 with \p der / \p length set; STAPLER_ERR_AGENT_NO_STAPLE when there is none
 *         valid (never an expired or revoked one).
 */
int stapler_agent_staple(stapler_agent_t *agent, unsigned identity, const unsigned char **der,
                         size_t *length);

/** \brief Fill \p status for an identity. \return 0 or STAPLER_ERR_INVALID_ARGUMENT. */
int stapler_agent_status(stapler_agent_t *agent, unsigned identity, stapler_identity_status_t *status);

/** \brief The time the agent judges validity at, and whether it is trusted wall time. */
int64_t stapler_agent_now(stapler_agent_t *agent, int *trusted);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_AGENT_H */
