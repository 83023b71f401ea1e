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

#if CONFIG_STAPLER_REFRESH_PERCENT + CONFIG_STAPLER_REFRESH_JITTER_PERCENT > 95
#error "Kconfig: STAPLER_REFRESH_PERCENT + STAPLER_REFRESH_JITTER_PERCENT must leave a response held for at least 5% of its window (at most 95)"
#endif

/* The latest healthy refresh point of a response: half of REFRESH_PERCENT of its window
 * left, the margin kept for an outage. */
static int64_t stapler_refresh_latest(const stapler_refresh_t *refresh)
{
    const int64_t window = refresh->end - refresh->this_update;

    return refresh->end - window * CONFIG_STAPLER_REFRESH_PERCENT / 200;
}

/* 32 well-mixed bits from 32 (lowbias32): more draws from one seed. */
static uint32_t stapler_refresh_mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return x;
}

/* How long this device holds this response: (100 - REFRESH_PERCENT)% of the window, or up
 * to REFRESH_JITTER_PERCENT of the window less, drawn from `random`. At least 5 % of the
 * window (Kconfig: REFRESH_PERCENT + REFRESH_JITTER_PERCENT <= 95). */
static int64_t stapler_refresh_hold(const stapler_refresh_t *refresh, uint32_t random)
{
    const int64_t window = refresh->end - refresh->this_update;
    const int64_t spread = window * CONFIG_STAPLER_REFRESH_JITTER_PERCENT / 100;
    const int64_t hold = (window - window * CONFIG_STAPLER_REFRESH_PERCENT / 100) -
                         (spread > 0 ? (int64_t) ((uint64_t) random % (uint64_t) (spread + 1)) : 0);

    return hold > 0 ? hold : 1;
}

/* When the healthy schedule wants the next fetch of the response just taken at `now` (wall
 * seconds), or INT64_MIN for now. */
static int64_t stapler_refresh_due(const stapler_refresh_t *refresh, int64_t now, int first, uint32_t random)
{
    const int64_t window = refresh->end - refresh->this_update;
    const int64_t soonest = now + window * CONFIG_STAPLER_REFRESH_JITTER_PERCENT / 200;
    int64_t hold, due, latest;

    if (!refresh->has_staple || window <= 0) {
        return INT64_MIN;
    }
    /* Held for a time of its own for every device and response (stapler_refresh_hold()),
     * counted from when the response was taken, not from its thisUpdate: a responder that
     * pre-produces gives one thisUpdate to everyone who fetched between two of its
     * productions, and a schedule keyed on it gathers their refreshes (stapler-fleet, 12-hour
     * productions: a ripple of +-20 % in the fleet's steady rate, 1.25 times the mean at its
     * peaks; productions as far apart as the spread would leave the responder idle half the
     * time and at twice its rate the other half). Spread fetch times give spread refreshes,
     * whatever the responder does. */
    hold = stapler_refresh_hold(refresh, random);
    due = now + hold;
    if (first) {
        /* The first response held (after provisioning, or after the last one expired): the
         * time to its refresh is drawn from where a device would be in its schedule at a
         * random moment (the equilibrium distribution of the hold's remainder: uniform below
         * the shortest hold, then falling to 0 at the longest), after half a spread (never
         * asking again for the response just given). A fleet that got its first staples
         * together (a factory's power-up, a recovery from an outage longer than the
         * validity) then refreshes at its steady rate from the start, instead of all within
         * one spread and again, less so, a hold later (stapler-fleet, first boot: 2.2 times
         * the mean rate for a day and a half, two to three days after the power-up). */
        const int64_t spread = window * CONFIG_STAPLER_REFRESH_JITTER_PERCENT / 100;
        const int64_t longest = window - window * CONFIG_STAPLER_REFRESH_PERCENT / 100;
        const int64_t shortest = longest - spread > 0 ? longest - spread : 0;
        const uint32_t u0 = stapler_refresh_mix(random), u1 = stapler_refresh_mix(u0), u2 = stapler_refresh_mix(u1);
        int64_t left;

        if (shortest + longest <= 0 || (int64_t) ((uint64_t) u0 % (uint64_t) (shortest + longest)) < 2 * shortest) {
            left = (int64_t) ((uint64_t) u1 % (uint64_t) (shortest + 1));
        } else {
            const int64_t x1 = (int64_t) ((uint64_t) u1 % (uint64_t) (spread + 1));
            const int64_t x2 = (int64_t) ((uint64_t) u2 % (uint64_t) (spread + 1));

            left = shortest + (x1 < x2 ? x1 : x2); /* the smaller of two: density falling to 0 */
        }
        due = soonest + left;
    } else if (refresh->failures > 0 && refresh->failing_since < now) {
        /* Taken after failed fetches: keep the phase this device had before them. Its next
         * refresh is the first of failing_since + k x hold (failing_since: when it wanted to
         * refresh) at least half a spread from now. A fleet that an outage made fetch
         * together as the responder came back then refreshes as it would have without the
         * outage, instead of together again one hold later (stapler-fleet: an echo of 1.5 to
         * 1.9 times the mean rate three days after a 48-hour outage). */
        due = refresh->failing_since + hold;
        if (due < soonest) {
            due += (soonest - due + hold - 1) / hold * hold;
        }
    }
    /* Never past the margin for an outage (half of REFRESH_PERCENT of the window left): a
     * response that was already old when taken (long after its thisUpdate) is refreshed
     * before that, at a point drawn from other bits of the seed within the spread before it
     * (a clamp would put all of them on one second). */
    latest = stapler_refresh_latest(refresh);
    if (due > latest) {
        const int64_t spread = window * CONFIG_STAPLER_REFRESH_JITTER_PERCENT / 100;
        const int64_t room = latest - now < spread ? latest - now : spread;

        due = latest - (room > 0 ? (int64_t) ((uint64_t) (random >> 16 | random << 16) % (uint64_t) (room + 1)) : 0);
    }
    return due;
}

static void stapler_refresh_schedule(stapler_refresh_t *refresh, int64_t due, int64_t now, uint64_t now_ms)
{
    refresh->due = due;
    refresh->due_ms = due != INT64_MIN && due > now ? now_ms + (uint64_t) (due - now) * STAPLER_MS : now_ms;
}

void stapler_refresh_set_staple(stapler_refresh_t *refresh, int has_staple, int64_t this_update,
                                int64_t end, int64_t now, uint64_t now_ms, uint32_t random)
{
    /* Was a valid response held until now? */
    const int first = !refresh->has_staple || refresh->end <= now;

    refresh->has_staple = has_staple;
    refresh->this_update = this_update;
    refresh->end = end;
    stapler_refresh_schedule(refresh, stapler_refresh_due(refresh, now, first, random), now, now_ms);
}

void stapler_refresh_restore(stapler_refresh_t *refresh, int64_t this_update, int64_t end, int64_t due,
                             int64_t now, uint64_t now_ms, uint32_t random)
{
    refresh->has_staple = 1;
    refresh->this_update = this_update;
    refresh->end = end;
    if (end <= this_update) {
        due = INT64_MIN;
    } else if (due < this_update || due > stapler_refresh_latest(refresh)) {
        /* Not kept (a record from before it was), or not a point this engine would choose
         * (a damaged record): as if the response had been taken at its thisUpdate, which is
         * never later than it was. */
        due = this_update + stapler_refresh_hold(refresh, random);
    }
    stapler_refresh_schedule(refresh, due, now, now_ms);
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

    if (refresh->failures == 0) {
        refresh->failing_since = now;
    }
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
