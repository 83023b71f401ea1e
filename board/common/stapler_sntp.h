/**
 * \file stapler_sntp.h
 * \brief SNTP (RFC 4330) over lwIP's raw UDP API for boards without a trusted clock: asks a
 *        list of servers in turn and trusts a time only when two different servers agree
 *        (stapler_clock_agree(): within CONFIG_STAPLER_SNTP_AGREE_S) and the time is not
 *        below what the agent can prove (its floor). One server alone is never trusted.
 *
 * NO_SYS main loop: stapler_sntp_poll() from it, after lwIP's input and timers. Each answer is
 * checked: from the address and port asked, server mode, version 3 or 4, stratum 1-15 (not
 * a kiss-o'-death), not "unsynchronised", and echoing our random transmit timestamp (so an
 * off-path attacker must guess 64 bits). An on-path attacker can still answer for every
 * server: docs/SECURITY.md says what that gains.
 */
#ifndef STAPLER_SNTP_H
#define STAPLER_SNTP_H

#include <stdint.h>

/** What stapler_sntp_poll() reports (stapler_sntp_hooks_t.report). */
typedef enum {
    STAPLER_SNTP_AGREED = 1,     /**< two servers agree: \p utc is the trusted time now */
    STAPLER_SNTP_CONTRADICTS,    /**< two agree, but below the agent's floor: not trusted */
    STAPLER_SNTP_NO_AGREEMENT,   /**< every server asked; no two agree (or too few answered) */
} stapler_sntp_outcome_t;

typedef struct {
    uint64_t (*now_ms)(void);
    int (*random)(void *buffer, uint32_t len);   /**< 0 on success */
    int64_t (*floor)(void);                      /**< the agent's floor now, 0: none */
    /** \p utc: the agreed time (UTC s) now; \p answers: valid answers this round;
     *  \p asked: servers configured. */
    void (*report)(stapler_sntp_outcome_t outcome, int64_t utc, unsigned answers, unsigned asked);
} stapler_sntp_hooks_t;

/** Most servers in the list. */
#define STAPLER_SNTP_SERVERS_MAX 4u

/**
 * \brief Start with "host[:port],host[:port],..." (IPv4 literals or DNS names; port 123 by
 *        default). \return the number of servers (0: none, nothing is started; more than
 *        STAPLER_SNTP_SERVERS_MAX or a name too long: -1).
 */
int stapler_sntp_start(const char *servers, const stapler_sntp_hooks_t *hooks);

/** \brief Move the rounds on: send, time out, evaluate. Call it from the main loop. */
void stapler_sntp_poll(void);

/** \brief The agreed time now, if there is one: 1 and \p utc_seconds, else 0. */
int stapler_sntp_time(int64_t *utc_seconds);

#endif /* STAPLER_SNTP_H */
