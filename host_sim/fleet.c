/*
 * stapler-fleet: N gateways on one OCSP responder, in virtual time.
 *
 *   stapler-fleet [--gateways N] [--days D] [--scenario LIST] [--policy LIST] [--json]
 *                 [--plot DIR] [--seed S] [--capacity R] [--threads T]
 *
 * The `stapler` policy is Stapler's own decision code, compiled from firmware/ as is: the
 * refresh engine (firmware/src/refresh.c: half-window refresh, full-jitter backoff, boot
 * jitter, urgency, Retry-After) driven the way the agent drives it (agent.c: adopt on
 * acceptance, refresh_succeeded / refresh_failed after each fetch, refresh_boot at boot), and
 * the agent's own rules for keeping and dropping staples (stapler_agent_rule_newer(): no
 * rollback, so an older answer is a failed fetch; stapler_agent_rule_fresh(): never past
 * nextUpdate + the clock skew). What is not simulated: the bytes. Every answer of the
 * simulated responder would verify; signature checks, HTTP and TCP are the other tests'.
 *
 * The comparison policies are models of what users would otherwise run (docs/DESIGN.md,
 * "Fleet simulation", gives their sources): `naive` (nginx's stapling cache: fetch at boot
 * into RAM, refresh every hour, 5 minutes after a failure, no jitter), `half-life-no-jitter`
 * (certmagic: a persisted staple, an hourly check from process start, refresh past half of
 * the validity window), `third-with-jitter` (mod_md: a persisted staple renewed once less than
 * 33 % of its window is left, a random spread over 5 % of the window, retries doubling from 5
 * minutes to an hour with 10 % jitter).
 *
 * The responder pre-produces: every 12 h a new response per certificate (thisUpdate =
 * producedAt = that hour, nextUpdate 7 days later), as CA responders do; it answers 503
 * during an outage and 429 + Retry-After: 60 beyond its capacity (rate-limited).
 * Gateways' clocks are trusted (SNTP) but off by up to 30 s either way.
 *
 * Scenarios (the event is on day 10, or at power-up for first-boot):
 *   mass-reboot   all gateways, holding valid cached staples of uniformly spread age, lose
 *                 power together and boot within one minute
 *   outage-48h    the responder answers 503 for 48 h
 *   first-boot    a freshly provisioned fleet with empty caches powers up within one minute
 *   rate-limited  the mass reboot against a responder serving at most --capacity requests a
 *                 second (default 20), 429 + Retry-After: 60 beyond
 *
 * Figures per (scenario, policy): event_peak_to_mean (the largest 10-minute request count in
 * the 24 h after the event over the mean 10-minute count of undisturbed days), availability
 * (fraction of gateway-time with a staple the policy would serve), expired_staples_served
 * (staples served past nextUpdate + the tolerated skew, in true time), max_staleness_s (the
 * oldest staple served, now - thisUpdate), recovery_s (from the event's end until 99.9 % of
 * the fleet holds a servable staple with no failed fetch pending), responder_requests;
 * steady_peak_to_mean (the same 10-minute peak over the undisturbed days themselves: the
 * noise the event's figure is read against) and echo_peak_to_mean (the largest 1-hour count
 * from 24 h after the event's end to the end of the run, over the undisturbed 1-hour mean:
 * a second burst, the event's echo).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "stapler/agent.h"
#include "stapler/refresh.h"

#define EPOCH0 INT64_C(1800000000)          /* the simulation's day 0, UTC s (2027-01-15) */
#define DAY_MS UINT64_C(86400000)
#define BUCKET_MS UINT64_C(600000)          /* 10 minutes */
#define REGEN_S INT64_C(43200)              /* the responder pre-produces every 12 h */
#define VALIDITY_S INT64_C(604800)          /* 7 days */
#define SKEW_MAX_S 30
#define BOOT_WINDOW_MS UINT64_C(60000)
#define WARM_MS (UINT64_C(14) * DAY_MS)   /* the fleet ran this long before day 0 */
#define NONE UINT64_MAX
#define NIL UINT32_MAX

enum { SC_MASS_REBOOT, SC_OUTAGE, SC_FIRST_BOOT, SC_RATE_LIMITED, SCENARIOS };
enum { PO_STAPLER, PO_NAIVE, PO_HALF_LIFE, PO_THIRD_JITTER, POLICIES };
static const char *const scenario_names[SCENARIOS] = { "mass-reboot", "outage-48h", "first-boot", "rate-limited" };
static const char *const policy_names[POLICIES] = { "stapler", "naive", "half-life-no-jitter", "third-with-jitter" };

typedef struct {
    stapler_refresh_t refresh;   /* stapler policy */
    int64_t this_update, next_update, produced_at; /* the held response (wall s), if has */
    int64_t due;                 /* stapler: its refresh point, kept with the record in flash */
    uint64_t boot_ms;            /* sim time of the last boot */
    uint64_t next_ms;            /* sim time of its next wake, NONE */
    uint64_t cov_start, cov_end; /* current stretch of servable staple [start, end), sim ms */
    uint64_t check_phase_ms;     /* half-life: hourly checks from process start */
    uint64_t device_id;          /* stands for its certificate's fingerprint */
    uint32_t failures;
    int32_t skew_s;
    uint8_t has, down, covering;
} gateway_t;

typedef struct {
    int scenario, policy;
    unsigned gateways, days;
    uint64_t seed;
    unsigned capacity;
    unsigned no_staple_jitter_s; /* stapler policy: refresh.no_staple_jitter_s (Kconfig default) */
    /* results */
    double event_peak_to_mean, steady_peak_to_mean, echo_peak_to_mean, availability, elapsed_s;
    uint64_t expired_served, requests, max_staleness_s;
    int64_t recovery_s;          /* -1: not within 7 days */
    uint64_t *requests_per_bucket, *valid_delta; /* per 10 minutes */
    unsigned buckets;
} run_t;

/* ---- Randomness: splitmix64, one stream per run ----------------------------------------- */

static uint32_t rng32(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));

    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (uint32_t) ((z ^ (z >> 31)) >> 32);
}

static uint64_t rng_below(uint64_t *state, uint64_t n)
{
    return n == 0 ? 0 : (((uint64_t) rng32(state) << 32) | rng32(state)) % n;
}

/* ---- The run's world ---------------------------------------------------------------------- */

typedef struct {
    run_t *run;
    gateway_t *g;
    uint32_t *wheel;            /* head per second slot */
    uint64_t slots, now_ms, origin_ms, end_ms, event_ms, event_end_ms;
    uint64_t rng;
    uint64_t second, second_count; /* the responder's rate limiter */
    uint64_t covered_ms;        /* gateway-ms with a servable staple */
    uint64_t *healthy_until;    /* per gateway: healthy before this sim ms (0: not) */
    uint32_t *link;             /* timing wheel: per gateway, the next one in the same second
                                   (apart from the gateways, so walking it stays in cache) */
} world_t;

static int64_t wall(const gateway_t *g, uint64_t t_ms)
{
    return EPOCH0 + (int64_t) (t_ms / 1000u) + g->skew_s;
}

static uint64_t mono(const gateway_t *g, uint64_t t_ms)
{
    return t_ms - g->boot_ms + 1000u; /* monotonic ms since boot, never 0 */
}

/* The timing wheel: one singly linked list of gateways per second. A gateway is on it at most
 * once, and only ever scheduled when it is not (it was just taken off, or the wheel was
 * cleared for a power cut), so neither taking nor putting touches another gateway. */
static void wheel_schedule(world_t *w, uint32_t i, uint64_t at_ms)
{
    gateway_t *g = &w->g[i];
    uint64_t slot;

    if (at_ms < w->now_ms) {
        at_ms = w->now_ms;
    }
    if (at_ms >= w->end_ms) {
        g->next_ms = NONE;
        return; /* after the end: never */
    }
    slot = at_ms / 1000u;
    g->next_ms = at_ms;
    w->link[i] = w->wheel[slot];
    w->wheel[slot] = i;
}

/* Every gateway off the wheel from \p slot on (a power cut reschedules them all). */
static void wheel_clear(world_t *w, uint64_t slot)
{
    unsigned i;

    memset(w->wheel + slot, 0xFF, (size_t) (w->slots - slot) * sizeof(uint32_t));
    for (i = 0; i < w->run->gateways; i++) {
        w->g[i].next_ms = NONE;
    }
}

/* ---- What the gateway serves ------------------------------------------------------------- */

/* Until when (sim ms, true time) the held staple is servable by the agent's rule on this
 * gateway's clock. */
static uint64_t servable_until(const world_t *w, const gateway_t *g)
{
    stapler_ocsp_single_t single;
    int64_t end_wall;

    (void) w;
    memset(&single, 0, sizeof(single));
    single.this_update = g->this_update;
    single.next_update = g->next_update;
    single.has_next_update = 1;
    /* The rule, asked where it turns: the last wall second it still says yes. */
    end_wall = g->next_update + CONFIG_STAPLER_CLOCK_SKEW_S;
    if (!stapler_agent_rule_fresh(&single, end_wall) || stapler_agent_rule_fresh(&single, end_wall + 1)) {
        fprintf(stderr, "stapler-fleet: the agent's freshness rule is not what this model assumes\n");
        exit(3);
    }
    end_wall -= g->skew_s + EPOCH0; /* to true seconds since day 0 */
    return end_wall < 0 ? 0 : (uint64_t) (end_wall + 1) * 1000u;
}

static void coverage_close(world_t *w, gateway_t *g, uint64_t until)
{
    run_t *r = w->run;

    if (!g->covering) {
        return;
    }
    if (until > g->cov_end) {
        until = g->cov_end;
    }
    {
        const uint64_t from = g->cov_start > w->origin_ms ? g->cov_start : w->origin_ms;

        if (until > from) {
            const uint64_t b0 = (from - w->origin_ms + BUCKET_MS - 1) / BUCKET_MS;
            const uint64_t b1 = (until - w->origin_ms + BUCKET_MS - 1) / BUCKET_MS;

            w->covered_ms += until - from;
        if (b0 < r->buckets) {
            r->valid_delta[b0]++;
        }
            if (b1 < r->buckets) {
                r->valid_delta[b1]--;
            }
        }
    }
    {
        /* Served past nextUpdate + the skew tolerated, in true time (within the measured days)? */
        const uint64_t limit = (uint64_t) (g->next_update + CONFIG_STAPLER_CLOCK_SKEW_S - EPOCH0 + 1) * 1000u;
        if (until > limit && until > w->origin_ms) {
            r->expired_served++;
        }
    }
    g->covering = 0;
}

/* The gateway holds a new response from time t: coverage goes on (or starts again). */
static void take_staple(world_t *w, gateway_t *g, uint64_t t, int64_t this_update, int64_t next_update)
{
    uint64_t staleness;

    if (g->has) {
        /* The staple it replaces was served until now, or until it stopped being servable. */
        const uint64_t served_until = t < g->cov_end || !g->covering ? t : g->cov_end;
        const int64_t age = (int64_t) (served_until / 1000u) + EPOCH0 - g->this_update;

        staleness = age > 0 ? (uint64_t) age : 0;
        if (g->covering && served_until >= w->origin_ms && staleness > w->run->max_staleness_s) {
            w->run->max_staleness_s = staleness;
        }
    }
    g->has = 1;
    g->this_update = this_update;
    g->next_update = next_update;
    g->produced_at = this_update;
    if (g->covering && t <= g->cov_end) {
        g->cov_end = servable_until(w, g); /* one stretch */
    } else {
        coverage_close(w, g, t);
        g->covering = 1;
        g->cov_start = t;
        g->cov_end = servable_until(w, g);
    }
}

/* ---- The responder ------------------------------------------------------------------------ */

enum { ANSWER_GOOD, ANSWER_503, ANSWER_429 };

static int responder(world_t *w, uint64_t t, int64_t *this_update, uint32_t *retry_after)
{
    run_t *r = w->run;

    if (t >= w->origin_ms) {
        const uint64_t bucket = (t - w->origin_ms) / BUCKET_MS;

        r->requests++;
        if (bucket < r->buckets) {
            r->requests_per_bucket[bucket]++;
        }
    }
    *retry_after = 0;
    if (r->scenario == SC_OUTAGE && t >= w->event_ms && t < w->event_end_ms) {
        return ANSWER_503;
    }
    if (r->scenario == SC_RATE_LIMITED) {
        if (t / 1000u != w->second) {
            w->second = t / 1000u;
            w->second_count = 0;
        }
        if (++w->second_count > r->capacity) {
            *retry_after = 60;
            return ANSWER_429;
        }
    }
    {
        const int64_t now = EPOCH0 + (int64_t) (t / 1000u);
        *this_update = now - (now - EPOCH0 + 10 * REGEN_S) % REGEN_S; /* the latest pre-produced */
    }
    return ANSWER_GOOD;
}

/* ---- Policies ------------------------------------------------------------------------------- */

/* As agent.c's adopt() seeds the refresh point: from the device and the response. */
static uint32_t spread_seed(const gateway_t *g, int64_t this_update)
{
    uint8_t id[8];
    unsigned k;

    for (k = 0; k < 8; k++) {
        id[k] = (uint8_t) (g->device_id >> (8 * k));
    }
    return stapler_refresh_spread_seed(id, sizeof(id), this_update);
}

static void stapler_schedule(world_t *w, uint32_t i)
{
    gateway_t *g = &w->g[i];
    const uint64_t t = w->now_ms, m = mono(g, t);
    const uint64_t at = stapler_refresh_next_ms(&g->refresh, wall(g, t), m);

    wheel_schedule(w, i, at >= m ? t + (at - m) : t);
}

/* What agent.c's stapler_agent_init() does for an identity, from the cache in flash. */
static void stapler_boot(world_t *w, uint32_t i)
{
    gateway_t *g = &w->g[i];
    const uint64_t t = w->now_ms;
    const int64_t now = wall(g, t);

    stapler_refresh_init(&g->refresh, 1);
    g->refresh.no_staple_jitter_s = w->run->no_staple_jitter_s;
    if (g->has && g->covering && t < g->cov_end) {
        /* load_cached(): the cached staple verifies, adopt() gives the engine its window */
        stapler_refresh_restore(&g->refresh, g->this_update,
                                stapler_refresh_window_end(g->this_update, 1, g->next_update, 0, 0), g->due, now,
                                mono(g, t), spread_seed(g, g->this_update));
    }
    stapler_refresh_boot(&g->refresh, now, mono(g, t), rng32(&w->rng));
    stapler_schedule(w, i);
}

/* What agent.c's stapler_agent_step() / _fetch_done() do with one fetch. */
static void stapler_fetch(world_t *w, uint32_t i)
{
    gateway_t *g = &w->g[i];
    const uint64_t t = w->now_ms;
    const int64_t now = wall(g, t);
    int64_t this_update = 0;
    uint32_t retry_after;
    const int answer = responder(w, t, &this_update, &retry_after);
    int accepted = 0;

    if (answer == ANSWER_GOOD) {
        stapler_ocsp_single_t fresh, held;

        memset(&fresh, 0, sizeof(fresh));
        memset(&held, 0, sizeof(held));
        fresh.this_update = this_update;
        fresh.next_update = this_update + VALIDITY_S;
        fresh.has_next_update = 1;
        held.this_update = g->this_update;
        held.next_update = g->next_update;
        held.has_next_update = 1;
        accepted = stapler_agent_rule_newer(&fresh, this_update, g->has ? &held : NULL, g->produced_at);
        if (accepted) {
            take_staple(w, g, t, fresh.this_update, fresh.next_update);
            stapler_refresh_set_staple(&g->refresh, 1, fresh.this_update,
                                       stapler_refresh_window_end(fresh.this_update, 1, fresh.next_update, 0, 0),
                                       now, mono(g, t), spread_seed(g, fresh.this_update));
            g->due = g->refresh.due;
        }
    }
    if (accepted) {
        g->failures = 0;
        stapler_refresh_succeeded(&g->refresh, mono(g, t));
    } else {
        /* 503, 429, or not newer than the one held (STAPLER_ERR_AGENT_NOT_NEWER): failed */
        g->failures++;
        stapler_refresh_failed(&g->refresh, now, mono(g, t), retry_after, rng32(&w->rng));
    }
    stapler_schedule(w, i);
}

/* The comparison models: one fetch, then when to wake. */
static void model_fetch(world_t *w, uint32_t i)
{
    gateway_t *g = &w->g[i];
    const run_t *r = w->run;
    const uint64_t t = w->now_ms;
    const int64_t now = wall(g, t);
    int64_t this_update = 0;
    uint32_t retry_after;
    int ok;

    if (r->policy == PO_HALF_LIFE && g->has && g->covering && t < g->cov_end &&
        now < g->this_update + (g->next_update - g->this_update) / 2) {
        /* certmagic's hourly check: not yet past half-life, nothing to do until the first
         * hourly tick past it (the checks in between change nothing: skipped) */
        const int64_t half = g->this_update + (g->next_update - g->this_update) / 2;
        const uint64_t at = t + (uint64_t) (half - now) * 1000u;
        const uint64_t since = at - g->check_phase_ms;
        wheel_schedule(w, i, at + (since % 3600000u ? 3600000u - since % 3600000u : 0));
        return;
    }
    /* These servers take whatever good answer comes (the same pre-produced one again too). */
    ok = responder(w, t, &this_update, &retry_after) == ANSWER_GOOD;
    if (ok) {
        take_staple(w, g, t, this_update, this_update + VALIDITY_S);
        g->failures = 0;
    } else {
        g->failures++;
    }
    switch (r->policy) {
        case PO_NAIVE: {
            /* nginx: next refresh min(1 h, 5 min before nextUpdate); 5 minutes after an error */
            uint64_t next = ok ? 3600000u : 300000u;
            if (ok) {
                const int64_t left = g->next_update - 300 - now;
                if (left > 300 && (uint64_t) left * 1000u < next) {
                    next = (uint64_t) left * 1000u;
                }
            }
            wheel_schedule(w, i, t + next);
            break;
        }
        case PO_HALF_LIFE: {
            /* the next hourly tick from process start; past half-life is checked then */
            const uint64_t since = t - g->check_phase_ms;
            wheel_schedule(w, i, t + (3600000u - since % 3600000u));
            break;
        }
        default: { /* PO_THIRD_JITTER */
            if (ok) {
                const int64_t window = g->next_update - g->this_update;
                const int64_t due = g->next_update - window * 33 / 100 -
                                    (int64_t) rng_below(&w->rng, (uint64_t) (window * 5 / 100));
                wheel_schedule(w, i, t + (uint64_t) (due > now ? due - now : 0) * 1000u);
            } else {
                uint64_t backoff = 300000u << (g->failures > 4 ? 4 : g->failures - 1);
                if (backoff > 3600000u) {
                    backoff = 3600000u;
                }
                if (retry_after * 1000u > backoff) {
                    backoff = retry_after * 1000u;
                }
                backoff = backoff * 9 / 10 + rng_below(&w->rng, backoff / 5 + 1);
                wheel_schedule(w, i, t + backoff);
            }
            break;
        }
    }
}

static void model_boot(world_t *w, uint32_t i)
{
    gateway_t *g = &w->g[i];
    const run_t *r = w->run;
    const uint64_t t = w->now_ms;
    const int64_t now = wall(g, t);

    g->check_phase_ms = t;
    g->failures = 0;
    if (r->policy == PO_NAIVE) {
        /* RAM cache: nothing survives the reboot; fetched at boot */
        coverage_close(w, g, t);
        g->has = 0;
        wheel_schedule(w, i, t);
    } else if (r->policy == PO_HALF_LIFE) {
        wheel_schedule(w, i, t); /* the check at load: fetches if past half-life or none */
    } else {
        const int64_t window = g->next_update - g->this_update;
        const int64_t due = g->has ? g->next_update - window * 33 / 100 : now;
        wheel_schedule(w, i, t + (uint64_t) (due > now ? due - now : 0) * 1000u);
    }
}

/* ---- One run ---------------------------------------------------------------------------- */

static void boot(world_t *w, uint32_t i)
{
    w->g[i].down = 0;
    w->g[i].boot_ms = w->now_ms;
    if (w->run->policy == PO_STAPLER) {
        stapler_boot(w, i);
    } else {
        model_boot(w, i);
    }
}

/* A fleet running for a long time: each gateway has a staple of uniformly spread age, and is
 * on the schedule its policy had for it. */
static void steady_start(world_t *w, uint32_t i)
{
    gateway_t *g = &w->g[i];
    const run_t *r = w->run;
    const int64_t now = wall(g, 0);
    int64_t age = (int64_t) rng_below(&w->rng, (uint64_t) (VALIDITY_S / 2));
    int64_t this_update = now - age;

    this_update -= (this_update - EPOCH0 + 10 * REGEN_S) % REGEN_S;
    g->boot_ms = 0;
    take_staple(w, g, 0, this_update, this_update + VALIDITY_S);
    if (r->policy == PO_STAPLER) {
        /* taken some time between its production and the next one (not after now), and
         * given the refresh point it would have been given then */
        const int64_t taken = this_update + (int64_t) rng_below(&w->rng, (uint64_t) (now - this_update < REGEN_S
                                                                                          ? now - this_update + 1
                                                                                          : REGEN_S));
        const int64_t end = stapler_refresh_window_end(this_update, 1, this_update + VALIDITY_S, 0, 0);

        stapler_refresh_init(&g->refresh, 1);
        /* a running gateway: it held a valid staple before this one too */
        stapler_refresh_set_staple(&g->refresh, 1, this_update - REGEN_S, end - REGEN_S, taken - REGEN_S, 0, 0);
        stapler_refresh_set_staple(&g->refresh, 1, this_update, end, taken, 0, spread_seed(g, this_update));
        g->due = g->refresh.due;
        stapler_refresh_restore(&g->refresh, this_update, end, g->due, now, mono(g, 0), spread_seed(g, this_update));
        stapler_schedule(w, i);
    } else if (r->policy == PO_NAIVE) {
        wheel_schedule(w, i, rng_below(&w->rng, 3600000u));
    } else if (r->policy == PO_HALF_LIFE) {
        g->check_phase_ms = 0;
        wheel_schedule(w, i, rng_below(&w->rng, 3600000u));
        g->check_phase_ms = g->next_ms == NONE ? 0 : g->next_ms;
    } else {
        const int64_t due = this_update + VALIDITY_S - VALIDITY_S * 33 / 100 -
                            (int64_t) rng_below(&w->rng, (uint64_t) (VALIDITY_S * 5 / 100));
        wheel_schedule(w, i, (uint64_t) (due > now ? due - now : 0) * 1000u);
    }
}

/* Healthy (up, holding a servable staple, no failed fetch pending) until when? Kept per
 * gateway after each of its events, so that the recovery check, once a minute for up to a
 * week, scans 8 bytes a gateway instead of its whole state (it was half of the run time of
 * the models that never recover). */
static void health_update(world_t *w, uint32_t i)
{
    const gateway_t *g = &w->g[i];

    w->healthy_until[i] = !g->down && g->has && g->covering && g->failures == 0 ? g->cov_end : 0;
}

static int simulate(run_t *r)
{
    world_t w;
    uint64_t slot, recovery_check;
    unsigned i;
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&w, 0, sizeof(w));
    w.run = r;
    w.rng = r->seed * UINT64_C(0x100000001B3) + (uint64_t) (r->scenario * POLICIES + r->policy);
    /* A running fleet is simulated for two weeks before day 0, so that what is measured is
     * its own steady state, not the start this model gives it; a first boot starts at 0. */
    w.origin_ms = r->scenario == SC_FIRST_BOOT ? 0 : WARM_MS;
    w.end_ms = w.origin_ms + (uint64_t) r->days * DAY_MS;
    w.slots = w.end_ms / 1000u + 1;
    w.event_ms = w.origin_ms + (r->scenario == SC_FIRST_BOOT ? 0 : 10u * DAY_MS);
    w.event_end_ms = w.event_ms + (r->scenario == SC_OUTAGE ? 2u * DAY_MS : BOOT_WINDOW_MS);
    w.second = NONE;
    r->buckets = (unsigned) ((w.end_ms - w.origin_ms) / BUCKET_MS);
    r->requests_per_bucket = calloc(r->buckets + 1, sizeof(uint64_t));
    r->valid_delta = calloc(r->buckets + 2, sizeof(uint64_t));
    w.g = calloc(r->gateways, sizeof(gateway_t));
    w.wheel = malloc(w.slots * sizeof(uint32_t));
    w.healthy_until = calloc(r->gateways, sizeof(uint64_t));
    w.link = calloc(r->gateways, sizeof(uint32_t));
    if (r->requests_per_bucket == NULL || r->valid_delta == NULL || w.g == NULL || w.wheel == NULL ||
        w.healthy_until == NULL || w.link == NULL) {
        fprintf(stderr, "stapler-fleet: out of memory for %u gateways x %u days\n", r->gateways, r->days);
        return -1;
    }
    memset(w.wheel, 0xFF, w.slots * sizeof(uint32_t));
    for (i = 0; i < r->gateways; i++) {
        w.g[i].next_ms = NONE;
        w.g[i].skew_s = (int32_t) rng_below(&w.rng, 2 * SKEW_MAX_S + 1) - SKEW_MAX_S;
        w.g[i].device_id = ((uint64_t) rng32(&w.rng) << 32) | rng32(&w.rng);
    }
    if (r->scenario == SC_FIRST_BOOT) {
        /* Powered up together, each within the minute: its boot is its first event. */
        for (i = 0; i < r->gateways; i++) {
            w.g[i].down = 1;
            wheel_schedule(&w, i, rng_below(&w.rng, BOOT_WINDOW_MS));
        }
    } else {
        for (i = 0; i < r->gateways; i++) {
            steady_start(&w, i);
            health_update(&w, i);
        }
    }
    r->recovery_s = -1;
    recovery_check = w.event_end_ms;
    for (slot = 0; slot < w.slots; slot++) {
        const uint64_t slot_ms = slot * 1000u;

        if ((r->scenario == SC_MASS_REBOOT || r->scenario == SC_RATE_LIMITED) && slot_ms == w.event_ms) {
            /* Power cut: every gateway goes down now and boots within the minute. */
            w.now_ms = slot_ms;
            wheel_clear(&w, slot);
            for (i = 0; i < r->gateways; i++) {
                w.g[i].down = 1;
                health_update(&w, i);
                wheel_schedule(&w, i, slot_ms + rng_below(&w.rng, BOOT_WINDOW_MS));
            }
        }
        if (r->recovery_s < 0 && slot_ms >= recovery_check && slot_ms < w.event_end_ms + 7u * DAY_MS) {
            unsigned ok = 0;

            for (i = 0; i < r->gateways; i++) {
                ok += slot_ms < w.healthy_until[i];
            }
            if ((uint64_t) ok * 1000u >= (uint64_t) r->gateways * 999u) {
                r->recovery_s = (int64_t) ((slot_ms - w.event_end_ms) / 1000u);
            }
            recovery_check += 60000u; /* every minute */
        }
        {
            /* A gateway this many places down the list, fetched into the cache while the ones
             * before it run (the list only ever grows at its head, so it stays on it): the
             * gateways are 100,000 x 3 cache lines, and waiting for each one's lines was over
             * half of the run time. */
            uint32_t ahead = w.wheel[slot];
            unsigned k;

            for (k = 0; k < 6 && ahead != NIL; k++) {
                ahead = w.link[ahead];
            }
            while (w.wheel[slot] != NIL) {
                const uint32_t gi = w.wheel[slot];
                gateway_t *g = &w.g[gi];

                if (ahead != NIL) {
                    const char *line = (const char *) &w.g[ahead];

                    __builtin_prefetch(line);
                    __builtin_prefetch(line + 64);
                    __builtin_prefetch(line + 128);
                    ahead = w.link[ahead];
                }
                w.now_ms = g->next_ms;
                w.wheel[slot] = w.link[gi];
                g->next_ms = NONE;
                if (g->down) {
                    boot(&w, gi);
                } else if (r->policy == PO_STAPLER) {
                    stapler_fetch(&w, gi);
                } else {
                    model_fetch(&w, gi);
                }
                health_update(&w, gi);
            }
        }
    }
    for (i = 0; i < r->gateways; i++) {
        coverage_close(&w, &w.g[i], w.end_ms);
    }
    /* The staleness of what is held at the end counts too. */
    for (i = 0; i < r->gateways; i++) {
        const gateway_t *g = &w.g[i];
        if (g->has) {
            const uint64_t until = g->cov_end < w.end_ms ? g->cov_end : w.end_ms;
            const int64_t age = (int64_t) (until / 1000u) + EPOCH0 - g->this_update;
            if (age > 0 && (uint64_t) age > r->max_staleness_s) {
                r->max_staleness_s = (uint64_t) age;
            }
        }
    }
    r->availability = (double) w.covered_ms / ((double) r->gateways * (double) (w.end_ms - w.origin_ms));
    {
        /* Peak of the 24 h after the event over the mean of undisturbed days. */
        const unsigned per_day = (unsigned) (DAY_MS / BUCKET_MS);
        unsigned b, from, to, peak_from = (unsigned) ((w.event_ms - w.origin_ms) / BUCKET_MS);
        uint64_t peak = 0, sum = 0;

        if (r->scenario == SC_FIRST_BOOT) {
            from = r->days > 20 ? (r->days - 10) * per_day : r->days * per_day / 2;
            to = r->days * per_day;
        } else {
            from = 0; /* days 0-9: the fleet in its steady state (after two weeks' warm-up) */
            to = 10 * per_day;
        }
        for (b = from; b < to && b < r->buckets; b++) {
            sum += r->requests_per_bucket[b];
        }
        for (b = peak_from; b < peak_from + per_day && b < r->buckets; b++) {
            if (r->requests_per_bucket[b] > peak) {
                peak = r->requests_per_bucket[b];
            }
        }
        r->event_peak_to_mean = sum > 0 && to > from ? (double) peak / ((double) sum / (double) (to - from)) : 0.0;
        peak = 0;
        for (b = from; b < to && b < r->buckets; b++) {
            if (r->requests_per_bucket[b] > peak) {
                peak = r->requests_per_bucket[b];
            }
        }
        r->steady_peak_to_mean = sum > 0 && to > from ? (double) peak / ((double) sum / (double) (to - from)) : 0.0;
        /* The echo: 1-hour counts (6 buckets) from a day after the event's end. */
        peak = 0;
        for (b = (unsigned) ((w.event_end_ms - w.origin_ms) / BUCKET_MS) + per_day; b + 6 <= r->buckets; b += 6) {
            const uint64_t hour = r->requests_per_bucket[b] + r->requests_per_bucket[b + 1] +
                                  r->requests_per_bucket[b + 2] + r->requests_per_bucket[b + 3] +
                                  r->requests_per_bucket[b + 4] + r->requests_per_bucket[b + 5];
            if (hour > peak) {
                peak = hour;
            }
        }
        r->echo_peak_to_mean = sum > 0 && to > from ? (double) peak / ((double) sum * 6.0 / (double) (to - from)) : 0.0;
    }
    free(w.g);
    free(w.wheel);
    free(w.healthy_until);
    free(w.link);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->elapsed_s = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    return 0;
}

/* ---- Output ----------------------------------------------------------------------------- */

static void print_json(const run_t *r)
{
    printf("{\"scenario\":\"%s\",\"policy\":\"%s\",\"gateways\":%u,\"days\":%u,\"event_peak_to_mean\":%.3f,"
           "\"steady_peak_to_mean\":%.3f,\"echo_peak_to_mean\":%.3f,\"availability\":%.6f,"
           "\"expired_staples_served\":%llu,\"max_staleness_s\":%llu,\"recovery_s\":%lld,"
           "\"responder_requests\":%llu,\"elapsed_s\":%.2f}\n",
           scenario_names[r->scenario], policy_names[r->policy], r->gateways, r->days, r->event_peak_to_mean,
           r->steady_peak_to_mean, r->echo_peak_to_mean, r->availability, (unsigned long long) r->expired_served,
           (unsigned long long) r->max_staleness_s, (long long) r->recovery_s, (unsigned long long) r->requests,
           r->elapsed_s);
}

static void print_row(const run_t *r)
{
    char recovery[32];

    if (r->recovery_s < 0) {
        snprintf(recovery, sizeof(recovery), "> 7 d");
    } else {
        snprintf(recovery, sizeof(recovery), "%lld s", (long long) r->recovery_s);
    }
    printf("%-13s %-20s %10.2f %7.2f %7.2f %12.6f %8llu %10.1f h %10s %12llu %8.2f\n", scenario_names[r->scenario],
           policy_names[r->policy], r->event_peak_to_mean, r->steady_peak_to_mean, r->echo_peak_to_mean,
           r->availability, (unsigned long long) r->expired_served, (double) r->max_staleness_s / 3600.0, recovery,
           (unsigned long long) r->requests, r->elapsed_s);
}

static int write_series(const char *dir, run_t *runs, unsigned n)
{
    char path[4096];
    FILE *f;
    unsigned i, b;

    snprintf(path, sizeof(path), "%s/fleet-series.csv", dir);
    f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "stapler-fleet: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "scenario,policy,gateways,bucket_start_h,requests,valid_fraction\n");
    for (i = 0; i < n; i++) {
        int64_t valid = 0;

        for (b = 0; b < runs[i].buckets; b++) {
            valid += (int64_t) runs[i].valid_delta[b];
            fprintf(f, "%s,%s,%u,%.4f,%llu,%.6f\n", scenario_names[runs[i].scenario], policy_names[runs[i].policy],
                    runs[i].gateways, (double) b * 10.0 / 60.0, (unsigned long long) runs[i].requests_per_bucket[b],
                    (double) valid / (double) runs[i].gateways);
        }
    }
    fclose(f);
    return 0;
}

static int pick(const char *list, const char *const *names, int count, int *chosen)
{
    char buffer[256];
    char *save = NULL, *item;
    int n = 0;

    snprintf(buffer, sizeof(buffer), "%s", list);
    for (item = strtok_r(buffer, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        int k;

        for (k = 0; k < count && strcmp(item, names[k]) != 0; k++) {
        }
        if (k == count) {
            fprintf(stderr, "stapler-fleet: unknown '%s'; one of:", item);
            for (k = 0; k < count; k++) {
                fprintf(stderr, " %s", names[k]);
            }
            fprintf(stderr, "\n");
            return -1;
        }
        chosen[n++] = k;
    }
    return n;
}

/* The work queue: runs in order of their expected cost, longest first (the naive model makes
 * an hourly request per gateway, and under a rate limit one every five minutes), so that two
 * threads finish together. */
static run_t **queue_next;

static void *worker(void *arg)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

    (void) arg;
    for (;;) {
        run_t *r;

        pthread_mutex_lock(&lock);
        r = *queue_next;
        if (r != NULL) {
            queue_next++;
        }
        pthread_mutex_unlock(&lock);
        if (r == NULL) {
            return NULL;
        }
        (void) simulate(r);
    }
}

static int cost(const run_t *r)
{
    return (r->policy == PO_NAIVE ? 100 : 0) + (r->scenario == SC_RATE_LIMITED ? 50 : 0) +
           (r->scenario == SC_OUTAGE ? 20 : 0) + (r->scenario == SC_FIRST_BOOT ? -10 : 0);
}

static int by_cost(const void *a, const void *b)
{
    return cost(*(run_t *const *) b) - cost(*(run_t *const *) a);
}

int main(int argc, char **argv)
{
    const char *scenarios = "mass-reboot,outage-48h,first-boot,rate-limited";
    const char *policies = "stapler,naive,half-life-no-jitter,third-with-jitter";
    const char *plot = NULL;
    unsigned gateways = 100000, days = 30, capacity = 20, threads = 2;
    unsigned no_staple_jitter = CONFIG_STAPLER_BOOT_JITTER_NO_STAPLE_S;
    unsigned long long seed = 1;
    int json = 0, sc[SCENARIOS], po[POLICIES], nsc, npo, a, i, j;
    run_t *runs, **order;
    pthread_t pool[8];
    struct timespec t0, t1;

    for (a = 1; a < argc; a++) {
        const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;

        if (strcmp(o, "--json") == 0) {
            json = 1;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "stapler-fleet: %s needs a value\n", o);
            return 2;
        }
        a++;
        if (strcmp(o, "--gateways") == 0) gateways = (unsigned) strtoul(v, NULL, 10);
        else if (strcmp(o, "--days") == 0) days = (unsigned) strtoul(v, NULL, 10);
        else if (strcmp(o, "--scenario") == 0) scenarios = v;
        else if (strcmp(o, "--policy") == 0) policies = v;
        else if (strcmp(o, "--plot") == 0) plot = v;
        else if (strcmp(o, "--seed") == 0) seed = strtoull(v, NULL, 10);
        else if (strcmp(o, "--capacity") == 0) capacity = (unsigned) strtoul(v, NULL, 10);
        else if (strcmp(o, "--threads") == 0) threads = (unsigned) strtoul(v, NULL, 10);
        else if (strcmp(o, "--no-staple-jitter") == 0) no_staple_jitter = (unsigned) strtoul(v, NULL, 10);
        else {
            fprintf(stderr, "stapler-fleet: unknown option '%s' (see the comment at the top of host_sim/fleet.c, "
                            "or README 'Fleet simulation')\n", o);
            return 2;
        }
    }
    if (gateways == 0 || gateways > 10000000 || days < 12 || days > 366 || capacity == 0 || threads == 0 ||
        threads > 8) {
        fprintf(stderr, "usage: stapler-fleet [--gateways 1..10000000] [--days 12..366] [--scenario LIST] "
                        "[--policy LIST] [--json] [--plot DIR] [--seed S] [--capacity R] [--threads 1..8]\n"
                        "(the event is on day 10: at least 12 days)\n");
        return 2;
    }
    nsc = pick(scenarios, scenario_names, SCENARIOS, sc);
    npo = pick(policies, policy_names, POLICIES, po);
    if (nsc <= 0 || npo <= 0) {
        return 2;
    }
    runs = calloc((size_t) (nsc * npo + 1), sizeof(run_t));
    order = calloc((size_t) (nsc * npo + 1), sizeof(run_t *));
    if (runs == NULL || order == NULL) {
        return 1;
    }
    for (i = 0; i < nsc; i++) {
        for (j = 0; j < npo; j++) {
            run_t *r = &runs[i * npo + j];

            r->scenario = sc[i];
            r->policy = po[j];
            r->gateways = gateways;
            r->days = days;
            r->seed = seed;
            r->capacity = capacity;
            r->no_staple_jitter_s = no_staple_jitter;
        }
    }
    for (i = 0; i < nsc * npo; i++) {
        order[i] = &runs[i];
    }
    qsort(order, (size_t) (nsc * npo), sizeof(order[0]), by_cost);
    queue_next = order;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < (int) threads; i++) {
        pthread_create(&pool[i], NULL, worker, NULL);
    }
    for (i = 0; i < (int) threads; i++) {
        pthread_join(pool[i], NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!json) {
        printf("%u gateways x %u days, seed %llu, %u thread(s): %.1f s in all\n", gateways, days, seed, threads,
               (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
        printf("%-13s %-20s %10s %7s %7s %12s %8s %12s %10s %12s %8s\n", "scenario", "policy", "peak/mean", "steady",
               "echo", "availability", "expired", "staleness", "recovery", "requests", "time s");
    }
    for (i = 0; i < nsc * npo; i++) {
        if (json) {
            print_json(&runs[i]);
        } else {
            print_row(&runs[i]);
        }
    }
    if (plot != NULL) {
        char command[8192];

        if (mkdir(plot, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "stapler-fleet: cannot create %s: %s\n", plot, strerror(errno));
            return 1;
        }
        if (write_series(plot, runs, (unsigned) (nsc * npo)) != 0) {
            return 1;
        }
        snprintf(command, sizeof(command), "'%s' '%s' '%s'", STAPLER_FLEET_PYTHON, STAPLER_FLEET_PLOT, plot);
        /* The table or JSON first: piped, stdout is fully buffered, and the plotter's own
         * line would land inside it (past 4 KiB of JSON it split an object in two). */
        fflush(stdout);
        if (system(command) != 0) {
            fprintf(stderr, "stapler-fleet: the charts were not drawn (%s; python3-matplotlib: tools/setup "
                            "installs it); the series is in %s/fleet-series.csv\n", STAPLER_FLEET_PLOT, plot);
            return 1;
        }
    }
    return 0;
}
