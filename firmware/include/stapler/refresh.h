/**
 * \file refresh.h
 * \brief When to fetch a fresh OCSP response for one identity: pure, deterministic logic
 *        driven by the time it is given (no clock, no I/O, no randomness of its own).
 *
 * Healthy: a response is held for (100 - CONFIG_STAPLER_REFRESH_PERCENT)% of its window
 * [thisUpdate, end], or up to CONFIG_STAPLER_REFRESH_JITTER_PERCENT of it less (a time of
 * its own per device and response), counted from when it was taken; never past half of
 * REFRESH_PERCENT of the window left. End is nextUpdate (or thisUpdate + the max age without
 * nextUpdate) clamped to the certificate's and the responder certificate's notAfter. Windows
 * of minutes and of days work alike. Counting from the fetch, not from thisUpdate, keeps a
 * fleet from gathering on a responder that pre-produces (the same thisUpdate for everyone
 * who fetched between two of its productions). After failed fetches the schedule keeps the
 * phase it had before them, so an outage moves nobody's refresh; the first response held
 * (after provisioning, or after the last expired) is refreshed where a device would be in
 * its schedule at a random moment, so a fleet powered up together reaches its steady rate
 * at once. The point chosen is kept with the cached record (stapler_refresh_restore()), so
 * a reboot moves no refresh.
 *
 * Failing: exponential backoff with full jitter between CONFIG_STAPLER_RETRY_MIN_S and
 * CONFIG_STAPLER_RETRY_MAX_S (or a quarter of the remaining validity, when longer), never
 * later than a quarter of the remaining validity (retries get more urgent as expiry nears);
 * a Retry-After is honoured unless it would let the staple expire; each failure moves on to
 * the next responder URL.
 *
 * Boot: with a valid cached staple, the first fetch is spread over a random delay, so a
 * fleet of gateways powered on together does not hit the responder in one burst; without
 * one, it starts at once (or within CONFIG_STAPLER_BOOT_JITTER_NO_STAPLE_S, default 0).
 *
 * Times: validity in wall-clock seconds (UTC); delays on the monotonic clock (ms), so a
 * wall clock stepping backwards or forwards cannot stall the schedule.
 */
#ifndef STAPLER_REFRESH_H
#define STAPLER_REFRESH_H

#include <stddef.h>
#include <stdint.h>

#include "stapler/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One identity's schedule. Caller-allocated; nothing to free. */
typedef struct {
    unsigned url_count;         /**< responder URLs to rotate through (the override, then AIA ones) */
    unsigned url_index;         /**< the URL the next fetch uses */
    int has_staple;             /**< a verified response is held */
    int64_t this_update;        /**< of the held response (UTC s) */
    int64_t end;                /**< end of its usable window (UTC s) */
    int64_t due;                /**< the healthy refresh point (UTC s), INT64_MIN: none;
                                     kept with the cached record (stapler_refresh_restore()) */
    int64_t failing_since;      /**< when the current run of failures began (UTC s) */
    uint64_t due_ms;            /**< healthy refresh time, fixed on the monotonic clock when
                                     the response was adopted (a wall clock stepping back
                                     later cannot postpone it) */
    uint32_t failures;          /**< consecutive failed fetches */
    uint64_t not_before_ms;     /**< no fetch before this monotonic time (backoff, jitter) */
    uint32_t last_delay_s;      /**< the last delay chosen, for status displays */
    uint32_t no_staple_jitter_s; /**< spread of the first fetch at boot without a valid staple:
                                      CONFIG_STAPLER_BOOT_JITTER_NO_STAPLE_S from
                                      stapler_refresh_init(); a fleet model may change it */
} stapler_refresh_t;

/** \brief Start a schedule for an identity with \p url_count responder URLs (>= 1). */
void stapler_refresh_init(stapler_refresh_t *refresh, unsigned url_count);

/**
 * \brief The held response changed (or there is none: \p has_staple 0), at \p now /
 *        \p now_ms.
 * \param end     End of the usable window: nextUpdate or thisUpdate + max age, already
 *                clamped to the certificates' notAfter by the caller
 *                (stapler_refresh_window_end()).
 * \param random  32 bits for the refresh point's spread: stapler_refresh_spread_seed(), so
 *                that the point is the same after a reboot.
 */
void stapler_refresh_set_staple(stapler_refresh_t *refresh, int has_staple, int64_t this_update,
                                int64_t end, int64_t now, uint64_t now_ms, uint32_t random);

/**
 * \brief Boot: the held response was taken before, and \p due is the refresh point
 *        stapler_refresh_set_staple() gave it then (refresh->due, kept with the cached
 *        record), so that a reboot moves no refresh. A \p due that this engine would not
 *        have chosen for this window (outside [thisUpdate, the latest point]; a record
 *        written before the point was kept) is replaced by the point for a response taken
 *        at its thisUpdate, drawn from \p random (stapler_refresh_spread_seed()).
 */
void stapler_refresh_restore(stapler_refresh_t *refresh, int64_t this_update, int64_t end, int64_t due,
                             int64_t now, uint64_t now_ms, uint32_t random);

/**
 * \brief The \p random for stapler_refresh_set_staple(): the same for a device and a
 *        response every time (so a reboot does not draw a new, perhaps earlier, refresh
 *        point for the staple it already holds, which would turn a fleet's power cut into a
 *        burst), and different between devices (\p device_id: anything unique per device,
 *        e.g. its certificate's fingerprint) and between responses (\p this_update).
 */
uint32_t stapler_refresh_spread_seed(const uint8_t *device_id, size_t len, int64_t this_update);

/** \brief The usable end of a response's window: min(nextUpdate or thisUpdate + max age,
 *         certificate notAfter, responder certificate notAfter); a notAfter of 0 is ignored. */
int64_t stapler_refresh_window_end(int64_t this_update, int has_next_update, int64_t next_update,
                                   int64_t certificate_not_after, int64_t responder_not_after);

/**
 * \brief Boot: with a valid staple, delay the first fetch by a random part (from \p random)
 *        of up to CONFIG_STAPLER_BOOT_JITTER_S, never past a quarter of its remaining
 *        validity; without one, by up to refresh->no_staple_jitter_s
 *        (CONFIG_STAPLER_BOOT_JITTER_NO_STAPLE_S, default 0: at once).
 */
void stapler_refresh_boot(stapler_refresh_t *refresh, int64_t now, uint64_t now_ms, uint32_t random);

/**
 * \brief Monotonic time (ms) at which the next fetch should start; <= now_ms means now.
 */
uint64_t stapler_refresh_next_ms(const stapler_refresh_t *refresh, int64_t now, uint64_t now_ms);

/** \brief A fetch succeeded and its response was accepted at \p now_ms: back to the healthy
 *         schedule, but no new fetch before CONFIG_STAPLER_RETRY_MIN_S from now. */
void stapler_refresh_succeeded(stapler_refresh_t *refresh, uint64_t now_ms);

/**
 * \brief A fetch failed (any reason, including a response that was refused).
 * \param retry_after_s  The responder's Retry-After, or 0.
 * \param random         32 random bits for the jitter (the caller's entropy).
 */
void stapler_refresh_failed(stapler_refresh_t *refresh, int64_t now, uint64_t now_ms,
                            uint32_t retry_after_s, uint32_t random);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_REFRESH_H */
