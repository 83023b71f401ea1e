/* Unit tests: the refresh schedule (firmware/src/refresh.c), including months of simulated
 * time with outages, clock jumps and windows of minutes to days. */
#include <stdio.h>
#include <string.h>

#include "unity.h"

#include "stapler/config.h"
#include "stapler/refresh.h"

#define DAY 86400
#define SKEW CONFIG_STAPLER_CLOCK_SKEW_S

typedef struct {
    int64_t real;            /* true time (s) */
    int64_t clock_offset;    /* device wall clock = real + offset */
    uint64_t mono_ms;
    int64_t window;          /* validity of the responder's responses */
    int64_t down_from, down_until;  /* responder outage, true time */
    int64_t jump_at, jump_by;       /* device clock steps by jump_by at true time jump_at */
    int64_t unjump_at;              /* ... and back at this time (0: never) */
    uint32_t rng;
    stapler_refresh_t r;
    int has;                 /* a response is held */
    int64_t end;             /* its end (true time) */
    unsigned fetches, failures;
    int64_t expired_s;       /* true time spent without a valid response (after the first) */
    int64_t first_fetch_after_jump;
    int ever;
} world_t;

static uint32_t next_random(world_t *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 17;
    w->rng ^= w->rng << 5;
    return w->rng;
}

static int64_t wall(const world_t *w) { return w->real + w->clock_offset; }

/* Advance true time to `t`, counting time without a valid response and clock jumps. */
static void advance_to(world_t *w, int64_t t)
{
    while (w->real < t) {
        int64_t step_to = t;

        if (w->jump_at > w->real && w->jump_at < step_to) {
            step_to = w->jump_at;
        }
        if (w->unjump_at > w->real && w->unjump_at < step_to) {
            step_to = w->unjump_at;
        }
        if (w->ever) {
            const int64_t from = w->real > w->end ? w->real : w->end;
            if (!w->has || step_to > from) {
                w->expired_s += step_to - (w->has ? from : w->real);
            }
        }
        w->mono_ms += (uint64_t) (step_to - w->real) * 1000u;
        w->real = step_to;
        if (w->real == w->jump_at) {
            w->clock_offset += w->jump_by;
        }
        if (w->unjump_at != 0 && w->real == w->unjump_at) {
            w->clock_offset -= w->jump_by;
        }
    }
}

static void run(world_t *w, int64_t until)
{
    unsigned guard = 0;

    while (w->real < until) {
        const uint64_t next = stapler_refresh_next_ms(&w->r, wall(w), w->mono_ms);
        const int64_t at = w->real + (int64_t) ((next > w->mono_ms ? next - w->mono_ms : 0) + 999) / 1000;

        TEST_ASSERT_LESS_THAN_UINT_MESSAGE(200000, ++guard, "the schedule runs in a hot loop");
        if (at >= until && !(w->jump_at > w->real && w->jump_at < until) &&
            !(w->unjump_at > w->real && w->unjump_at < until)) {
            advance_to(w, until);
            break;
        }
        /* A clock step is an event: the device looks at its schedule again (as it does when
         * SNTP corrects the time), instead of sleeping through it. */
        if (w->jump_at > w->real && w->jump_at < at) {
            advance_to(w, w->jump_at);
            continue;
        }
        if (w->unjump_at > w->real && w->unjump_at < at) {
            advance_to(w, w->unjump_at);
            continue;
        }
        if (at >= until) {
            advance_to(w, until);
            break;
        }
        advance_to(w, at);
        w->fetches++;
        if (w->jump_at != 0 && w->real >= w->jump_at && w->first_fetch_after_jump == 0) {
            w->first_fetch_after_jump = w->real;
        }
        {
            const int up = !(w->real >= w->down_from && w->real < w->down_until);
            const int64_t this_update = w->real, end = w->real + w->window;
            /* The agent accepts a response only if it verifies by the device's own clock. */
            const int verifies = this_update <= wall(w) + SKEW && wall(w) <= end + SKEW;

            if (up && verifies) {
                w->has = 1;
                w->ever = 1;
                w->end = end;
                /* The device sees the same response in its own wall-clock terms. */
                stapler_refresh_set_staple(&w->r, 1, this_update, end, wall(w), w->mono_ms, next_random(w));
                stapler_refresh_succeeded(&w->r, w->mono_ms);
            } else {
                w->failures++;
                stapler_refresh_failed(&w->r, wall(w), w->mono_ms, 0, next_random(w));
            }
        }
    }
}

static void world_init(world_t *w, int64_t window)
{
    memset(w, 0, sizeof(*w));
    w->real = 1800000000; /* 2027 */
    w->mono_ms = 5000;
    w->window = window;
    w->rng = 0x12345678u;
    stapler_refresh_init(&w->r, 2);
}

/* The engine held a valid response before this one (the next one is not its first). */
static void held_before(stapler_refresh_t *r, int64_t now)
{
    stapler_refresh_set_staple(r, 1, now - DAY, now + 6 * DAY, now - DAY, 0, 0);
}

void setUp(void) {}
void tearDown(void) {}

static void test_healthy_seven_day_windows_for_ninety_days(void)
{
    world_t w;

    world_init(&w, 7 * DAY);
    run(&w, w.real + 90 * DAY);
    printf("7-day windows, 90 days: %u fetches, %lld s without a valid staple\n", w.fetches, (long long) w.expired_s);
    /* One per 2.1 to 3.5 days (refreshed at 50-70 % of the window left): about 32. */
    TEST_ASSERT_UINT_WITHIN(3, (unsigned) (90 * DAY * 100 / (7 * DAY * (100 - CONFIG_STAPLER_REFRESH_PERCENT -
                                                                     CONFIG_STAPLER_REFRESH_JITTER_PERCENT / 2))),
                            w.fetches);
    TEST_ASSERT_TRUE(w.fetches >= 90 * 2 / 7 - 1);
    TEST_ASSERT_EQUAL_INT64(0, w.expired_s);
    TEST_ASSERT_EQUAL_UINT(0, w.failures);
}

static void test_healthy_ten_minute_windows_for_two_days(void)
{
    world_t w;

    world_init(&w, 600);
    run(&w, w.real + 2 * DAY);
    /* Every 3 to 5 minutes (the refresh point spread over 50-70 % of the window left). */
    TEST_ASSERT_UINT_WITHIN(25, (unsigned) (2 * DAY * 100 / (600 * (100 - CONFIG_STAPLER_REFRESH_PERCENT -
                                                                     CONFIG_STAPLER_REFRESH_JITTER_PERCENT / 2))),
                            w.fetches);
    TEST_ASSERT_EQUAL_INT64(0, w.expired_s);
}

static void test_outage_shorter_than_the_remaining_validity_is_invisible(void)
{
    world_t w;

    world_init(&w, 7 * DAY);
    w.down_from = w.real + 2 * DAY;
    w.down_until = w.real + 4 * DAY;   /* two days down, across the whole refresh band (2.1-3.5 d) */
    run(&w, w.real + 30 * DAY);
    printf("2-day outage, 7-day windows: %u failed attempts, %lld s without a valid staple\n",
           w.failures, (long long) w.expired_s);
    TEST_ASSERT_EQUAL_INT64(0, w.expired_s);
    /* Kept trying: waits of at most an eighth of the validity left (under a day here). */
    TEST_ASSERT_GREATER_OR_EQUAL_UINT(2 * DAY / (7 * DAY / 8) + 1, w.failures);
    TEST_ASSERT_LESS_OR_EQUAL_UINT(2 * DAY / (CONFIG_STAPLER_RETRY_MAX_S / 4) + 20, w.failures); /* backed off */
}

static void test_outage_longer_than_validity_recovers_soon_after(void)
{
    world_t w;
    const int64_t start = 1800000000;

    world_init(&w, 7 * DAY);
    w.down_from = start + 2 * DAY;     /* before the earliest refresh point (2.1 days) */
    w.down_until = start + 13 * DAY;   /* eleven days down: expiry cannot be avoided */
    run(&w, start + 30 * DAY);
    /* The staple ends at 7 days; the responder returns at 13: at most one maximum backoff
     * (plus the first fetch's second) is lost after that. */
    printf("10-day outage: %lld s without a valid staple (unavoidable: %d)\n", (long long) w.expired_s, 6 * DAY);
    TEST_ASSERT_GREATER_OR_EQUAL_INT64(6 * DAY, w.expired_s);
    TEST_ASSERT_LESS_OR_EQUAL_INT64(6 * DAY + CONFIG_STAPLER_RETRY_MAX_S + 1, w.expired_s);
}

static void test_retries_get_urgent_near_expiry(void)
{
    world_t w;
    const int64_t start = 1800000000;

    world_init(&w, 600);
    w.down_from = start + 250;
    w.down_until = start + 2000;       /* down from just before the first refresh point */
    run(&w, start + 600 + SKEW);
    /* Five minutes between the refresh point and expiry: retried several times, not once an
     * hour as the backoff alone would. */
    TEST_ASSERT_GREATER_OR_EQUAL_UINT(3, w.failures);
}

static void test_wall_clock_stepping_back_does_not_postpone_the_refresh(void)
{
    world_t w;
    const int64_t start = 1800000000;

    world_init(&w, 7 * DAY);
    w.jump_at = start + 1 * DAY;
    w.jump_by = -30 * DAY;
    run(&w, start + 5 * DAY);
    /* The refresh point (2.1 to 3.5 days in true time) holds despite the clock now saying a
     * month earlier. */
    TEST_ASSERT_TRUE(w.first_fetch_after_jump >= start + 7 * DAY * (100 - CONFIG_STAPLER_REFRESH_PERCENT -
                                                                   CONFIG_STAPLER_REFRESH_JITTER_PERCENT) / 100 - 2);
    TEST_ASSERT_TRUE(w.first_fetch_after_jump <= start + 3 * DAY + DAY / 2 + 2);
}

static void test_wall_clock_stepping_forward_fetches_now_and_does_not_spin(void)
{
    world_t w;
    const int64_t start = 1800000000;

    world_init(&w, 7 * DAY);
    w.jump_at = start + 1 * DAY;
    w.jump_by = 30 * DAY;              /* a wrong clock: every fresh response looks expired */
    w.unjump_at = start + 3 * DAY;     /* corrected two days later */
    run(&w, start + 10 * DAY);
    TEST_ASSERT_INT64_WITHIN(2, start + DAY, w.first_fetch_after_jump); /* at once */
    /* While the clock is wrong, attempts back off instead of spinning. */
    TEST_ASSERT_LESS_OR_EQUAL_UINT(2 * DAY / (CONFIG_STAPLER_RETRY_MAX_S / 2) + 20, w.failures);
}

static void test_retry_after_is_honoured_unless_the_staple_would_expire(void)
{
    stapler_refresh_t r;
    const int64_t now = 1800000000;

    /* A response taken when already due (past its latest point: 1 day of 6 left). */
    stapler_refresh_init(&r, 1);
    stapler_refresh_set_staple(&r, 1, now - 5 * DAY, now + DAY, now, 0, 0);
    stapler_refresh_failed(&r, now, 0, 7200, 0);
    TEST_ASSERT_EQUAL_UINT64(7200u * 1000u, stapler_refresh_next_ms(&r, now, 0));
    /* Ten minutes of validity left: a one-day Retry-After is cut to a quarter of it. */
    stapler_refresh_set_staple(&r, 1, now - 3 * DAY, now + 600, now, 0, 0);
    stapler_refresh_failed(&r, now, 0, DAY, 0);
    TEST_ASSERT_EQUAL_UINT64((600u / 4 > CONFIG_STAPLER_RETRY_MIN_S ? 600u / 4 : CONFIG_STAPLER_RETRY_MIN_S) * 1000u,
                             stapler_refresh_next_ms(&r, now, 0));
}

static void test_backoff_grows_with_full_jitter_within_bounds(void)
{
    stapler_refresh_t r;
    uint32_t seed = 1, i, distinct = 0, last = 0;
    const int64_t now = 1800000000;

    stapler_refresh_init(&r, 1);
    for (i = 0; i < 40; i++) {
        seed = seed * 1103515245u + 12345u;
        stapler_refresh_failed(&r, now, 0, 0, seed);
        TEST_ASSERT_GREATER_OR_EQUAL_UINT32(CONFIG_STAPLER_RETRY_MIN_S, r.last_delay_s);
        TEST_ASSERT_LESS_OR_EQUAL_UINT32(CONFIG_STAPLER_RETRY_MAX_S, r.last_delay_s);
        if (i < 3) {
            /* The cap doubles: min, 2 min, 4 min. */
            TEST_ASSERT_LESS_OR_EQUAL_UINT32(CONFIG_STAPLER_RETRY_MIN_S << i, r.last_delay_s);
        }
        distinct += r.last_delay_s != last;
        last = r.last_delay_s;
    }
    TEST_ASSERT_GREATER_THAN_UINT32(20, distinct); /* jittered, not a fixed interval */
}

static void test_failures_rotate_through_the_urls_and_success_stays(void)
{
    stapler_refresh_t r;

    stapler_refresh_init(&r, 3);
    TEST_ASSERT_EQUAL_UINT(0, r.url_index);
    stapler_refresh_failed(&r, 0, 0, 0, 1);
    TEST_ASSERT_EQUAL_UINT(1, r.url_index);
    stapler_refresh_failed(&r, 0, 0, 0, 1);
    TEST_ASSERT_EQUAL_UINT(2, r.url_index);
    stapler_refresh_failed(&r, 0, 0, 0, 1);
    TEST_ASSERT_EQUAL_UINT(0, r.url_index);
    stapler_refresh_failed(&r, 0, 0, 0, 1);
    stapler_refresh_succeeded(&r, 0);
    TEST_ASSERT_EQUAL_UINT(1, r.url_index);
    TEST_ASSERT_EQUAL_UINT32(0, r.failures);
}

static void test_a_clock_running_ahead_does_not_make_fetches_back_to_back(void)
{
    stapler_refresh_t r;
    const uint64_t now_ms = 5000000;
    /* The device's clock is 23 h 59 min ahead: a fresh day-long response already looks due. */
    const int64_t this_update = 1000000, now = this_update + DAY - 60;

    stapler_refresh_init(&r, 1);
    stapler_refresh_set_staple(&r, 1, this_update, this_update + DAY, now, now_ms, 0);
    stapler_refresh_succeeded(&r, now_ms);
    TEST_ASSERT_EQUAL_UINT64(now_ms + (uint64_t) CONFIG_STAPLER_RETRY_MIN_S * 1000u,
                             stapler_refresh_next_ms(&r, now, now_ms));
    /* With a right clock the healthy schedule (hours away) is what counts. */
    stapler_refresh_set_staple(&r, 1, this_update, this_update + DAY, this_update, now_ms, 0);
    stapler_refresh_succeeded(&r, now_ms);
    TEST_ASSERT_TRUE(stapler_refresh_next_ms(&r, this_update, now_ms) > now_ms + 3600u * 1000u);
}

static void test_window_end_is_clamped_to_the_certificates(void)
{
    TEST_ASSERT_EQUAL_INT64(1000 + 7 * DAY, stapler_refresh_window_end(1000, 1, 1000 + 7 * DAY, 0, 0));
    TEST_ASSERT_EQUAL_INT64(5000, stapler_refresh_window_end(1000, 1, 1000 + 7 * DAY, 5000, 0));
    TEST_ASSERT_EQUAL_INT64(4000, stapler_refresh_window_end(1000, 1, 1000 + 7 * DAY, 5000, 4000));
    TEST_ASSERT_EQUAL_INT64(1000 + CONFIG_STAPLER_MAX_AGE_WITHOUT_NEXT_UPDATE_S,
                            stapler_refresh_window_end(1000, 0, 0, 0, 0));
}

/* A thousand gateways booting at the same second, each with a valid cached staple. */
static void test_a_fleet_booting_together_spreads_its_first_fetches(void)
{
    enum { DEVICES = 1000, BUCKET_S = 10 };
    static unsigned buckets[CONFIG_STAPLER_BOOT_JITTER_S / BUCKET_S + 1];
    const int64_t now = 1800000000;
    uint32_t seed = 99;
    unsigned i, worst = 0;
    stapler_refresh_t r;

    memset(buckets, 0, sizeof(buckets));
    for (i = 0; i < DEVICES; i++) {
        uint64_t at;

        /* From the cache, as the agent boots (no refresh point kept: the oldest records). */
        stapler_refresh_init(&r, 1);
        stapler_refresh_restore(&r, now - DAY, now + 6 * DAY, INT64_MIN, now, 0, 0);
        seed = seed * 1664525u + 1013904223u;
        stapler_refresh_boot(&r, now, 0, seed);
        at = stapler_refresh_next_ms(&r, now, 0);
        /* Not due for days by the healthy schedule: the jitter does not pull it earlier. */
        TEST_ASSERT_GREATER_OR_EQUAL_UINT64((uint64_t) (2 * DAY) * 1000u, at);
        /* Due now (the refresh point passed while powered off): spread over the jitter. */
        stapler_refresh_restore(&r, now - 6 * DAY, now + DAY, INT64_MIN, now, 0, 0);
        stapler_refresh_boot(&r, now, 0, seed);
        at = stapler_refresh_next_ms(&r, now, 0) / 1000u;
        TEST_ASSERT_LESS_OR_EQUAL_UINT64(CONFIG_STAPLER_BOOT_JITTER_S, at);
        buckets[at / BUCKET_S]++;
    }
    for (i = 0; i < sizeof(buckets) / sizeof(buckets[0]); i++) {
        worst = buckets[i] > worst ? buckets[i] : worst;
    }
    printf("fleet of %d booting together: at most %u first fetches in any %d s\n", DEVICES, worst, BUCKET_S);
    TEST_ASSERT_LESS_OR_EQUAL_UINT(3 * DEVICES * BUCKET_S / CONFIG_STAPLER_BOOT_JITTER_S, worst);

    /* Without a valid staple: at once by default (CONFIG_STAPLER_BOOT_JITTER_NO_STAPLE_S 0)... */
    stapler_refresh_init(&r, 1);
    TEST_ASSERT_EQUAL_UINT32(CONFIG_STAPLER_BOOT_JITTER_NO_STAPLE_S, r.no_staple_jitter_s);
    r.no_staple_jitter_s = 0;
    stapler_refresh_boot(&r, now, 0, 12345);
    TEST_ASSERT_EQUAL_UINT64(0, stapler_refresh_next_ms(&r, now, 0));
    /* ... or within the spread configured, and over all of it. */
    {
        uint64_t lo = UINT64_MAX, hi = 0;

        for (i = 0; i < 1000; i++) {
            uint64_t at;

            stapler_refresh_init(&r, 1);
            r.no_staple_jitter_s = 60;
            seed = seed * 1664525u + 1013904223u;
            stapler_refresh_boot(&r, now, 0, seed);
            at = stapler_refresh_next_ms(&r, now, 0);
            TEST_ASSERT_TRUE(at < 60000u);
            lo = at < lo ? at : lo;
            hi = at > hi ? at : hi;
        }
        TEST_ASSERT_TRUE(hi - lo >= 54000u);
    }
}

/* A fleet holding the same pre-produced response must not refresh at the same second: the
 * refresh point is drawn per response between REFRESH_PERCENT and REFRESH_PERCENT +
 * REFRESH_JITTER_PERCENT of the window remaining (for a response taken at its thisUpdate),
 * so never later than the fixed point. */
static void test_the_refresh_point_is_spread_earlier_never_later(void)
{
    const int64_t now = 1800000000, window = 7 * DAY;
    const int64_t latest = now + window - window * CONFIG_STAPLER_REFRESH_PERCENT / 100;
    const int64_t earliest = latest - window * CONFIG_STAPLER_REFRESH_JITTER_PERCENT / 100;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    unsigned i, quarter[4] = { 0, 0, 0, 0 };
    uint32_t seed = 7;

    for (i = 0; i < 4000; i++) {
        stapler_refresh_t r;
        int64_t at;

        stapler_refresh_init(&r, 1);
        held_before(&r, now);
        seed = seed * 1664525u + 1013904223u;
        stapler_refresh_set_staple(&r, 1, now, now + window, now, 0, seed);
        at = now + (int64_t) (stapler_refresh_next_ms(&r, now, 0) / 1000u);
        TEST_ASSERT_TRUE(at >= earliest && at <= latest);
        lo = at < lo ? at : lo;
        hi = at > hi ? at : hi;
        if (latest > earliest) {
            quarter[(unsigned) ((at - earliest) * 4 / (latest - earliest + 1))]++;
        }
    }
    if (CONFIG_STAPLER_REFRESH_JITTER_PERCENT > 0) {
        /* Spread over the whole band, about evenly (each quarter 1000 +- 15%). */
        TEST_ASSERT_TRUE(hi - lo > (latest - earliest) * 9 / 10);
        for (i = 0; i < 4; i++) {
            TEST_ASSERT_UINT_WITHIN(150, 1000, quarter[i]);
        }
    }
    {
        /* Without randomness (random 0): the fixed point, as before. */
        stapler_refresh_t r;

        stapler_refresh_init(&r, 1);
        held_before(&r, now);
        stapler_refresh_set_staple(&r, 1, now, now + window, now, 0, 0);
        TEST_ASSERT_EQUAL_UINT64((uint64_t) (latest - now) * 1000u, stapler_refresh_next_ms(&r, now, 0));
    }
}

#define HOLD(window) ((window) - (window) * CONFIG_STAPLER_REFRESH_PERCENT / 100)
#define SPREAD(window) ((window) * CONFIG_STAPLER_REFRESH_JITTER_PERCENT / 100)
#define LATEST(this_update, window) ((this_update) + (window) - (window) * CONFIG_STAPLER_REFRESH_PERCENT / 200)

/* The wall time of the refresh point set_staple() chose (ms 0 = `now`). */
static int64_t due_at(const stapler_refresh_t *r, int64_t now)
{
    return now + (int64_t) (stapler_refresh_next_ms(r, now, 0) / 1000u);
}

/* The hold is counted from when the response was taken, not from its thisUpdate: two devices
 * holding the same pre-produced response, one taken as it was produced and one 11 hours
 * later, refresh 11 hours apart (for the same draw). */
static void test_the_hold_counts_from_when_the_response_was_taken(void)
{
    const int64_t produced = 1800000000, window = 7 * DAY;
    uint32_t seed = 99;
    unsigned i;

    for (i = 0; i < 1000; i++) {
        stapler_refresh_t early, late;
        int64_t a, b;

        seed = seed * 1664525u + 1013904223u;
        stapler_refresh_init(&early, 1);
        stapler_refresh_init(&late, 1);
        held_before(&early, produced);
        held_before(&late, produced);
        stapler_refresh_set_staple(&early, 1, produced, produced + window, produced, 0, seed);
        stapler_refresh_set_staple(&late, 1, produced, produced + window, produced + 11 * 3600, 0, seed);
        a = due_at(&early, produced);
        b = due_at(&late, produced + 11 * 3600);
        TEST_ASSERT_TRUE(a >= produced + HOLD(window) - SPREAD(window) && a <= produced + HOLD(window));
        TEST_ASSERT_EQUAL_INT64(a + 11 * 3600, b);
        TEST_ASSERT_EQUAL_INT64(b, late.due);
    }
}

/* A response already old when taken is refreshed no later than half of REFRESH_PERCENT of its
 * window left, spread over the spread before that (not all on one second), and one past that
 * point too is refreshed at once. */
static void test_a_response_old_when_taken_is_refreshed_before_the_margin(void)
{
    const int64_t this_update = 1800000000, window = 7 * DAY;
    const int64_t now = this_update + 3 * DAY, latest = LATEST(this_update, window);
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    uint32_t seed = 5;
    unsigned i;

    for (i = 0; i < 1000; i++) {
        stapler_refresh_t r;
        int64_t at;

        seed = seed * 1664525u + 1013904223u;
        stapler_refresh_init(&r, 1);
        stapler_refresh_set_staple(&r, 1, this_update, this_update + window, now, 0, seed);
        at = due_at(&r, now);
        TEST_ASSERT_TRUE(at <= latest);
        TEST_ASSERT_TRUE(at >= now);
        lo = at < lo ? at : lo;
        hi = at > hi ? at : hi;
    }
    if (CONFIG_STAPLER_REFRESH_JITTER_PERCENT > 0) {
        TEST_ASSERT_TRUE(hi - lo > (latest - now < SPREAD(window) ? latest - now : SPREAD(window)) / 2);
    }
    {
        stapler_refresh_t r;

        stapler_refresh_init(&r, 1);
        stapler_refresh_set_staple(&r, 1, this_update, this_update + window, latest + 60, 0, seed);
        TEST_ASSERT_EQUAL_UINT64(0, stapler_refresh_next_ms(&r, latest + 60, 0));
    }
}

/* A fleet on a responder that pre-produces every 12 hours, all of it taking its first
 * response at the same moment: from the first day on, its refreshes come at the steady rate
 * (each first response's refresh drawn from where a device would be in its schedule: without
 * that, 2.2 times the rate for a day and a half), and they are spread evenly over the 12
 * hours (the schedule keyed on thisUpdate had a ripple of +-20 %: 2.4 hours of every 12 at
 * 0.71 times the mean rate, the rest at 1.07). */
static void test_a_fleet_on_a_pre_producing_responder_refreshes_evenly(void)
{
    enum { DEVICES = 3000, PHASES = 12 };
    static stapler_refresh_t r[DEVICES];
    static int64_t next[DEVICES];
    const int64_t start = 1800000000, window = 7 * DAY, regen = DAY / 2;
    const int64_t measure_from = start + 30 * DAY, until = start + 60 * DAY;
    unsigned count[PHASES] = { 0 }, total = 0, i, k, half_days[30] = { 0 }, early = 0, worst = 0;
    uint32_t rng = 0xC0FFEEu;

    for (i = 0; i < DEVICES; i++) {
        /* start from the worst: everyone fetched at the same moment */
        next[i] = start;
        stapler_refresh_init(&r[i], 1);
    }
    for (;;) {
        int64_t t = INT64_MAX, this_update;
        unsigned d = 0;
        uint8_t id[4];

        for (i = 0; i < DEVICES; i++) {
            if (next[i] < t) {
                t = next[i];
                d = i;
            }
        }
        if (t >= until) {
            break;
        }
        this_update = t - (t - start) % regen; /* the latest production */
        if (t >= measure_from) {
            count[(unsigned) ((t - start) % regen * PHASES / regen)]++;
            total++;
        } else if (t >= start + DAY && t < start + 16 * DAY) {
            half_days[(t - start - DAY) / regen]++;
            early++;
        }
        id[0] = (uint8_t) d;
        id[1] = (uint8_t) (d >> 8);
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        id[2] = (uint8_t) rng;
        id[3] = (uint8_t) (rng >> 8);
        stapler_refresh_set_staple(&r[d], 1, this_update, this_update + window, t, 0,
                                   stapler_refresh_spread_seed(id, sizeof(id), this_update));
        stapler_refresh_succeeded(&r[d], 0);
        next[d] = due_at(&r[d], t);
        if (next[d] <= t) {
            next[d] = t + CONFIG_STAPLER_RETRY_MIN_S;
        }
    }
    printf("fleet of %u on 12-hour productions: %u refreshes in 30 days; per 1-hour phase:", DEVICES, total);
    for (k = 0; k < PHASES; k++) {
        printf(" %u", count[k]);
    }
    for (k = 0; k < 30; k++) {
        worst = half_days[k] > worst ? half_days[k] : worst;
    }
    printf("; days 1-16 after the common start, per 12 hours: at most %u, mean %u\n", worst, early / 30);
    if (CONFIG_STAPLER_REFRESH_JITTER_PERCENT > 0) {
        for (k = 0; k < 30; k++) {
            TEST_ASSERT_UINT_WITHIN(early / 30 * 15 / 100, early / 30, half_days[k]);
        }
        for (k = 0; k < PHASES; k++) {
            /* each phase within 10 % of the mean (Poisson: about 2.5 % here) */
            TEST_ASSERT_UINT_WITHIN(total / PHASES / 10, total / PHASES, count[k]);
        }
    }
}

/* A response taken after failed fetches keeps the phase the device had before them: the
 * refresh point is failing_since + k x hold, the first at least half a spread after taking
 * it, so an outage moves nobody's schedule and the fleet that fetched together as the
 * responder came back does not come back together. */
static void test_after_failures_the_schedule_keeps_its_phase(void)
{
    const int64_t window = 7 * DAY, t0 = 1800000000;
    uint32_t seed = 3;
    unsigned i;

    for (i = 0; i < 1000; i++) {
        stapler_refresh_t r, plain;
        const int64_t wanted = t0 + (int64_t) (i * 131) % (2 * DAY); /* when it first failed */
        const int64_t now = t0 + 2 * DAY + (int64_t) (i * 37) % (DAY / 2); /* the responder is back */
        const int64_t this_update = now - (now - t0) % (DAY / 2);
        int64_t hold, due;

        seed = seed * 1664525u + 1013904223u;
        stapler_refresh_init(&r, 1);
        held_before(&r, wanted);
        stapler_refresh_failed(&r, wanted, 0, 0, seed);
        stapler_refresh_failed(&r, wanted + 3600, 3600000u, 0, seed);
        TEST_ASSERT_EQUAL_INT64(wanted, r.failing_since);
        stapler_refresh_set_staple(&r, 1, this_update, this_update + window, now, 0, seed);
        due = due_at(&r, now);
        /* The same draw without failures gives the hold itself. */
        stapler_refresh_init(&plain, 1);
        held_before(&plain, now);
        stapler_refresh_set_staple(&plain, 1, this_update, this_update + window, now, 0, seed);
        hold = due_at(&plain, now) - now;
        TEST_ASSERT_EQUAL_INT64(0, (due - wanted) % hold);
        TEST_ASSERT_TRUE(due >= now + SPREAD(window) / 2);
        TEST_ASSERT_TRUE(due < now + SPREAD(window) / 2 + hold);
        TEST_ASSERT_TRUE(due <= LATEST(this_update, window));
    }
}

/* A reboot: the point kept with the cached record is the point, to the second; one this
 * engine would not have chosen (a damaged record, or none kept) is replaced by the point for
 * a response taken at its thisUpdate. */
static void test_a_restored_schedule_keeps_its_point(void)
{
    const int64_t this_update = 1800000000, window = 7 * DAY, taken = this_update + 5 * 3600;
    const int64_t boot = this_update + 2 * DAY;
    stapler_refresh_t r, restored, fresh;
    const uint32_t seed = 0xABCDEF01u;

    stapler_refresh_init(&r, 1);
    held_before(&r, taken);
    stapler_refresh_set_staple(&r, 1, this_update, this_update + window, taken, 0, seed);
    stapler_refresh_init(&restored, 1);
    stapler_refresh_restore(&restored, this_update, this_update + window, r.due, boot, 7000, seed);
    TEST_ASSERT_EQUAL_INT64(r.due, restored.due);
    TEST_ASSERT_EQUAL_UINT64(7000u + (uint64_t) (r.due - boot) * 1000u, stapler_refresh_next_ms(&restored, boot, 7000));
    /* As if taken at its thisUpdate: earlier than it was, never later. */
    stapler_refresh_init(&fresh, 1);
    held_before(&fresh, this_update);
    stapler_refresh_set_staple(&fresh, 1, this_update, this_update + window, this_update, 0, seed);
    stapler_refresh_restore(&restored, this_update, this_update + window, INT64_MIN, boot, 0, seed);
    TEST_ASSERT_EQUAL_INT64(fresh.due, restored.due);
    TEST_ASSERT_TRUE(restored.due <= r.due);
    stapler_refresh_restore(&restored, this_update, this_update + window, this_update + window, boot, 0, seed);
    TEST_ASSERT_EQUAL_INT64(fresh.due, restored.due);
    stapler_refresh_restore(&restored, this_update, this_update + window, this_update - 1, boot, 0, seed);
    TEST_ASSERT_EQUAL_INT64(fresh.due, restored.due);
    stapler_refresh_restore(&restored, this_update, this_update + window, LATEST(this_update, window), boot, 0, seed);
    TEST_ASSERT_EQUAL_INT64(LATEST(this_update, window), restored.due);
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_healthy_seven_day_windows_for_ninety_days);
    RUN_TEST(test_healthy_ten_minute_windows_for_two_days);
    RUN_TEST(test_outage_shorter_than_the_remaining_validity_is_invisible);
    RUN_TEST(test_outage_longer_than_validity_recovers_soon_after);
    RUN_TEST(test_retries_get_urgent_near_expiry);
    RUN_TEST(test_wall_clock_stepping_back_does_not_postpone_the_refresh);
    RUN_TEST(test_wall_clock_stepping_forward_fetches_now_and_does_not_spin);
    RUN_TEST(test_retry_after_is_honoured_unless_the_staple_would_expire);
    RUN_TEST(test_backoff_grows_with_full_jitter_within_bounds);
    RUN_TEST(test_failures_rotate_through_the_urls_and_success_stays);
    RUN_TEST(test_a_clock_running_ahead_does_not_make_fetches_back_to_back);
    RUN_TEST(test_window_end_is_clamped_to_the_certificates);
    RUN_TEST(test_a_fleet_booting_together_spreads_its_first_fetches);
    RUN_TEST(test_the_refresh_point_is_spread_earlier_never_later);
    RUN_TEST(test_the_hold_counts_from_when_the_response_was_taken);
    RUN_TEST(test_a_response_old_when_taken_is_refreshed_before_the_margin);
    RUN_TEST(test_a_fleet_on_a_pre_producing_responder_refreshes_evenly);
    RUN_TEST(test_after_failures_the_schedule_keeps_its_phase);
    RUN_TEST(test_a_restored_schedule_keeps_its_point);
    return UNITY_END();
}
