/* Refresh schedule: see stapler/refresh.h. */
#include "stapler/refresh.h"

#include <string.h>

#define STAPLER_MS 1000u

void stapler_refresh_init(stapler_refresh_t *refresh, unsigned url_count)
{
    memset(refresh, 0, sizeof(*refresh));
    refresh->url_count = url_count > 0 ? url_count : 1;
    refresh->no_staple_jitter_s = CONFIG_STAPLER_BOOT_JITTER_NO_STAPLE_S;
}

#if CONFIG_STAPLER_REFRESH_PERCENT + 2 * CONFIG_STAPLER_REFRESH_JITTER_PERCENT > 95
#error "Kconfig: STAPLER_REFRESH_PERCENT + 2 x STAPLER_REFRESH_JITTER_PERCENT (the spread after failures) must leave the first 5% of a window alone (at most 95)"
#endif

/* When the healthy schedule wants the next fetch (wall seconds), or INT64_MIN for now. */
static int64_t stapler_refresh_due(const stapler_refresh_t *refresh, uint32_t random)
{
    const int64_t window = refresh->end - refresh->this_update;
    int64_t spread;

    if (!refresh->has_staple || window <= 0) {
        return INT64_MIN;
    }
    /* Refresh when the remaining validity falls below REFRESH_PERCENT of the window, or up
     * to REFRESH_JITTER_PERCENT of it earlier: a point of its own for every device and
     * response, so gateways holding the same pre-produced response do not all ask at the
     * same second. A response taken after failed fetches gets twice the spread: a fleet
     * that recovered from an outage together, and so holds the same one or two pre-produced
     * responses, must not come back together (stapler-fleet: with the single spread, an echo
     * of 1.8 times the mean rate two to three days after a 48-hour outage). */
    spread = window * CONFIG_STAPLER_REFRESH_JITTER_PERCENT / 100;
    if (refresh->failures > 0) {
        spread *= 2;
    }
    return refresh->end - window * CONFIG_STAPLER_REFRESH_PERCENT / 100 -
           (spread > 0 ? (int64_t) ((uint64_t) random % (uint64_t) (spread + 1)) : 0);
}

void stapler_refresh_set_staple(stapler_refresh_t *refresh, int has_staple, int64_t this_update,
                                int64_t end, int64_t now, uint64_t now_ms, uint32_t random)
{
    int64_t due;

    refresh->has_staple = has_staple;
    refresh->this_update = this_update;
    refresh->end = end;
    due = stapler_refresh_due(refresh, random);
    refresh->due_ms = due != INT64_MIN && due > now ? now_ms + (uint64_t) (due - now) * STAPLER_MS
                                                    : now_ms;
}

uint32_t stapler_refresh_spread_seed(const uint8_t *device_id, size_t len, int64_t this_update)
{
    /* FNV-1a over the device's bytes, then the response's time, then a final mix
     * (splitmix64's): cheap, stable, and spread well enough for a schedule. */
    uint64_t h = UINT64_C(0xCBF29CE484222325);
    size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ device_id[i]) * UINT64_C(0x100000001B3);
    }
    h ^= (uint64_t) this_update;
    h = (h ^ (h >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    h = (h ^ (h >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (uint32_t) ((h ^ (h >> 31)) >> 32);
}

int64_t stapler_refresh_window_end(int64_t this_update, int has_next_update, int64_t next_update,
                                   int64_t certificate_not_after, int64_t responder_not_after)
{
    int64_t end = has_next_update ? next_update
                                  : this_update + CONFIG_STAPLER_MAX_AGE_WITHOUT_NEXT_UPDATE_S;

    /* A response says nothing useful past the life of the certificates it rests on. */
    if (certificate_not_after != 0 && certificate_not_after < end) {
        end = certificate_not_after;
    }
    if (responder_not_after != 0 && responder_not_after < end) {
        end = responder_not_after;
    }
    return end;
}

/* Seconds left in the held response's window at `now` (0 when none or expired). */
static int64_t stapler_refresh_remaining(const stapler_refresh_t *refresh, int64_t now)
{
    return refresh->has_staple && refresh->end > now ? refresh->end - now : 0;
}

void stapler_refresh_boot(stapler_refresh_t *refresh, int64_t now, uint64_t now_ms, uint32_t random)
{
    const int64_t remaining = stapler_refresh_remaining(refresh, now);
    int64_t spread = CONFIG_STAPLER_BOOT_JITTER_S;

    refresh->not_before_ms = now_ms;
    if (remaining == 0) {
        /* Nothing valid to serve: at once, or spread if so configured. */
        spread = refresh->no_staple_jitter_s;
        if (spread > 0) {
            refresh->not_before_ms = now_ms + (uint64_t) (random % (uint32_t) spread) * STAPLER_MS;
        }
        return;
    }
    if (spread > remaining / 4) {
        spread = remaining / 4;
    }
    if (spread > 0) {
        refresh->not_before_ms = now_ms + (uint64_t) (random % (uint32_t) spread) * STAPLER_MS;
    }
}

uint64_t stapler_refresh_next_ms(const stapler_refresh_t *refresh, int64_t now, uint64_t now_ms)
{
    /* No valid response by the wall clock (none, expired, or the clock stepped forward past
     * its end): fetch now. Otherwise at the time fixed when it was adopted. */
    uint64_t at = stapler_refresh_remaining(refresh, now) > 0 ? refresh->due_ms : now_ms;

    /* Backoff and boot jitter come on top of the healthy schedule, never before it. */
    return at > refresh->not_before_ms ? at : refresh->not_before_ms;
}

void stapler_refresh_succeeded(stapler_refresh_t *refresh, uint64_t now_ms)
{
    refresh->failures = 0;
    /* Never two fetches closer than the retry minimum, even when the new response already
     * looks due (a device clock running ahead sees every response near its end): otherwise
     * the agent would fetch, and write flash, as fast as the responder answers. */
    refresh->not_before_ms = now_ms + (uint64_t) CONFIG_STAPLER_RETRY_MIN_S * STAPLER_MS;
    refresh->last_delay_s = 0;
}

void stapler_refresh_failed(stapler_refresh_t *refresh, int64_t now, uint64_t now_ms,
                            uint32_t retry_after_s, uint32_t random)
{
    const int64_t remaining = stapler_refresh_remaining(refresh, now);
    uint64_t cap = CONFIG_STAPLER_RETRY_MIN_S;
    uint64_t delay;
    uint32_t i;

    if (refresh->failures < UINT32_MAX) {
        refresh->failures++;
    }
    /* Next time, the next responder URL (the override, then the AIA entries). */
    refresh->url_index = (refresh->url_index + 1) % refresh->url_count;

    /* Exponential cap, then full jitter between the minimum and the cap. The cap stops at
     * RETRY_MAX, or at a quarter of the validity left when that is longer: a staple with
     * days left need not ask a failing responder every hour, and when it comes back the
     * fleet's retries are spread over hours instead of arriving within one (stapler-fleet:
     * a 48-hour outage of a 100,000-gateway fleet ended in a burst of 25,000 requests in
     * ten minutes with the one-hour cap). */
    {
        const uint64_t longest = remaining / 4 > CONFIG_STAPLER_RETRY_MAX_S ? (uint64_t) remaining / 4
                                                                           : CONFIG_STAPLER_RETRY_MAX_S;

        for (i = 1; i < refresh->failures && cap < longest; i++) {
            cap *= 2;
        }
        if (cap > longest) {
            cap = longest;
        }
    }
    delay = CONFIG_STAPLER_RETRY_MIN_S + (cap > CONFIG_STAPLER_RETRY_MIN_S
                                              ? random % (cap - CONFIG_STAPLER_RETRY_MIN_S + 1)
                                              : 0);
    /* The responder asked for a pause: grant it. */
    if (retry_after_s > delay) {
        delay = retry_after_s;
    }
    /* More urgent as expiry nears: never wait past a quarter of what is left (but not more
     * often than the minimum, so a dying staple does not turn into a flood). */
    if (remaining > 0 && delay > (uint64_t) remaining / 4) {
        delay = (uint64_t) remaining / 4;
        if (delay < CONFIG_STAPLER_RETRY_MIN_S) {
            delay = CONFIG_STAPLER_RETRY_MIN_S;
        }
    }
    refresh->last_delay_s = (uint32_t) delay;
    refresh->not_before_ms = now_ms + delay * STAPLER_MS;
}
