/* The agent: boot, accepting responses, serving staples. See stapler/agent.h. */
#include "stapler/agent.h"

#include <string.h>

#include "mbedtls/md.h"

#include "stapler/cert.h"
#include "stapler/clock.h"
#include "stapler/error.h"

#include "crypto.h"

/* The port's lock (stapler_port_t.lock), when the platform has threads; else nothing.
 * Rule: every field an any-thread call reads is written with the lock held; fields only
 * agent-thread calls touch (the exchange, nonces, the ring) need no lock, since one
 * agent-thread call runs at a time (agent->writer). */
static void stapler_agent_lock(const stapler_agent_t *agent)
{
    if (agent->port->lock != NULL) {
        agent->port->lock(agent->port->context);
    }
}

static void stapler_agent_unlock(const stapler_agent_t *agent)
{
    if (agent->port->unlock != NULL) {
        agent->port->unlock(agent->port->context);
    }
}

/* Enter an agent-thread call: STAPLER_ERR_AGENT_BUSY while another one runs. */
static int stapler_agent_writer_enter(stapler_agent_t *agent)
{
    int busy;

    stapler_agent_lock(agent);
    busy = agent->writer;
    agent->writer = 1;
    stapler_agent_unlock(agent);
    return busy ? STAPLER_ERR_AGENT_BUSY : 0;
}

static void stapler_agent_writer_exit(stapler_agent_t *agent)
{
    stapler_agent_lock(agent);
    agent->writer = 0;
    stapler_agent_unlock(agent);
}

/* Raise an event: without the lock held, so the handler may read the agent's status. */
static void stapler_agent_emit(stapler_agent_t *agent, unsigned identity, stapler_event_t event)
{
    stapler_event_fn fn;
    void *context;

    stapler_agent_lock(agent);
    fn = agent->event;
    context = agent->event_context;
    stapler_agent_unlock(agent);
    if (fn != NULL) {
        fn(context, identity, event);
    }
}

static void stapler_agent_log(const stapler_agent_t *agent, stapler_log_level_t level, const char *line)
{
    if ((int) level <= CONFIG_STAPLER_LOG_LEVEL && agent->port->log != NULL) {
        agent->port->log(agent->port->context, level, line);
    }
}

/* Whole seconds of monotonic time from at_ms to now_ms. */
static int64_t stapler_agent_since_s(uint64_t now_ms, uint64_t at_ms)
{
    return now_ms > at_ms ? (int64_t) ((now_ms - at_ms) / 1000u) : 0;
}

/* What the agent can prove real time has reached (the caller holds the lock): signed
 * evidence (the newest verified producedAt, or the evidence kept in flash, plus monotonic
 * time since), raised by the trusted time it already used (kept in flash too), but by that
 * only up to CONFIG_STAPLER_TIME_LEAD_S ahead of the evidence. 0 when it knows nothing. */
static int64_t stapler_agent_evidence_at(const stapler_agent_t *agent, uint64_t now_ms)
{
    return agent->time_floor > 0 ? agent->time_floor + stapler_agent_since_s(now_ms, agent->floor_monotonic_ms) : 0;
}

static int64_t stapler_agent_floor_at(const stapler_agent_t *agent, uint64_t now_ms)
{
    const int64_t evidence = stapler_agent_evidence_at(agent, now_ms);
    int64_t used;

    if (evidence == 0) {
        return 0;
    }
    used = agent->time_used > 0 ? agent->time_used + stapler_agent_since_s(now_ms, agent->time_used_ms) : 0;
    if (used > evidence + CONFIG_STAPLER_TIME_LEAD_S) {
        used = evidence + CONFIG_STAPLER_TIME_LEAD_S;
    }
    return used > evidence ? used : evidence;
}

/* The agent's time; the caller holds the lock (it reads and advances the floor). A trusted
 * reading below the floor (less the clock skew a responder's producedAt may carry) is a
 * contradiction: not used; the first of a run of them is counted and reported by the next
 * stapler_agent_step(). */
static int64_t stapler_agent_now_locked(stapler_agent_t *agent, int *trusted)
{
    const uint64_t now_ms = agent->port->monotonic_ms(agent->port->context);
    int64_t wall = 0, floor, used;
    int is_trusted = 0;

    if (agent->port->wall_time(agent->port->context, &wall, &is_trusted) != 0) {
        wall = 0;
        is_trusted = 0;
    }
    floor = stapler_agent_floor_at(agent, now_ms);
    if (is_trusted && floor > 0 && wall + STAPLER_CLOCK_SKEW_S < floor) {
        if (!agent->time_contradicting) {
            agent->time_contradicting = 1;
            agent->time_contradictions++;
            agent->time_contradiction_pending = 1;
            agent->time_contradiction_wall = wall;
            agent->time_contradiction_floor = floor;
        }
        is_trusted = 0;
        wall = floor;
    } else if (is_trusted) {
        agent->time_contradicting = 0;
        used = agent->time_used > 0 ? agent->time_used + stapler_agent_since_s(now_ms, agent->time_used_ms) : 0;
        if (wall > used) {
            agent->time_used = wall;
            agent->time_used_ms = now_ms;
        }
    }
    if (trusted != NULL) {
        *trusted = is_trusted;
    }
    /* Untrusted: a lower bound on the real time, the floor, or the untrusted clock if it says
     * later (which can only make us stricter). Trusted: never below the floor either. */
    return wall > floor ? wall : floor;
}

int64_t stapler_agent_now(stapler_agent_t *agent, int *trusted)
{
    int64_t now;

    stapler_agent_lock(agent);
    now = stapler_agent_now_locked(agent, trusted);
    stapler_agent_unlock(agent);
    return now;
}

/* A verified response was produced at produced_at: real time has reached it. With trusted
 * time, no further than now + skew: a responder whose clock runs ahead must not push ours
 * (and the flash's high-water mark) forward. The caller holds the lock. */
static void stapler_agent_raise_floor(stapler_agent_t *agent, int64_t produced_at)
{
    const uint64_t now_ms = agent->port->monotonic_ms(agent->port->context);
    int trusted;
    const int64_t now = stapler_agent_now_locked(agent, &trusted);

    if (trusted && produced_at > now + STAPLER_CLOCK_SKEW_S) {
        produced_at = now + STAPLER_CLOCK_SKEW_S;
    }
    if (produced_at > stapler_agent_evidence_at(agent, now_ms)) {
        agent->time_floor = produced_at;
        agent->floor_monotonic_ms = now_ms;
    }
}

/* Keep the floor in flash (agent thread): after a staple write (force), and otherwise at most
 * every CONFIG_STAPLER_TIME_MARK_INTERVAL_S. Returns ms until the next interval mark. */
static uint32_t stapler_agent_mark_time(stapler_agent_t *agent, int force)
{
    const uint64_t interval_ms = (uint64_t) CONFIG_STAPLER_TIME_MARK_INTERVAL_S * 1000u;
    uint64_t now_ms;
    int64_t evidence, floor;
    int ret;

    if (agent->marks.sectors == 0) {
        return UINT32_MAX;
    }
    stapler_agent_lock(agent);
    (void) stapler_agent_now_locked(agent, NULL); /* takes in the trusted clock, if it may */
    now_ms = agent->port->monotonic_ms(agent->port->context);
    evidence = stapler_agent_evidence_at(agent, now_ms);
    floor = stapler_agent_floor_at(agent, now_ms);
    stapler_agent_unlock(agent);
    if (!force && agent->marked && now_ms - agent->marked_ms < interval_ms) {
        return (uint32_t) (interval_ms - (now_ms - agent->marked_ms));
    }
    agent->marked = 1;
    agent->marked_ms = now_ms;
    if (evidence == 0) {
        return (uint32_t) interval_ms;
    }
    ret = stapler_clock_marks_write(&agent->marks, evidence, floor);
    stapler_agent_lock(agent);
    if (ret != 0) {
        agent->marks_error = ret;
    }
    agent->time_mark = agent->marks.mark; /* what status shows: the store is the agent thread's */
    stapler_agent_unlock(agent);
    if (ret != 0) {
        stapler_agent_log(agent, STAPLER_LOG_ERROR, "time mark not written to flash (the previous one stays)");
    }
    return (uint32_t) interval_ms;
}

/* Decimal, for log lines without printf. */
static size_t stapler_agent_put_i64(char *out, int64_t v)
{
    char digits[20];
    size_t n = 0, k = 0;
    uint64_t u = v < 0 ? 0u - (uint64_t) v : (uint64_t) v;

    do {
        digits[n++] = (char) ('0' + (int) (u % 10u));
        u /= 10u;
    } while (u != 0 && n < sizeof(digits));
    if (v < 0) {
        out[k++] = '-';
    }
    while (n > 0) {
        out[k++] = digits[--n];
    }
    return k;
}

/* Report a contradiction noticed since the last step (agent thread; the lock is not held). */
static void stapler_agent_report_time(stapler_agent_t *agent)
{
    int pending;
    int64_t wall, floor;

    stapler_agent_lock(agent);
    pending = agent->time_contradiction_pending;
    agent->time_contradiction_pending = 0;
    wall = agent->time_contradiction_wall;
    floor = agent->time_contradiction_floor;
    stapler_agent_unlock(agent);
    if (pending) {
        static const char a[] = "clock: trusted time ";
        static const char b[] = " is before what the agent can prove (";
        static const char c[] = "): not used";
        char line[sizeof(a) + sizeof(b) + sizeof(c) + 48];
        size_t n = 0;

        memcpy(line + n, a, sizeof(a) - 1);
        n += sizeof(a) - 1;
        n += stapler_agent_put_i64(line + n, wall);
        memcpy(line + n, b, sizeof(b) - 1);
        n += sizeof(b) - 1;
        n += stapler_agent_put_i64(line + n, floor);
        memcpy(line + n, c, sizeof(c));
        stapler_agent_log(agent, STAPLER_LOG_WARNING, line);
        stapler_agent_emit(agent, 0, STAPLER_EVENT_TIME_CONTRADICTION);
    }
}

/* "identity N: <text>", without printf (the core has none). */
static void stapler_agent_log_identity(const stapler_agent_t *agent, stapler_log_level_t level,
                                       unsigned identity, const char *text)
{
    char line[96];
    size_t n = 9, k;

    memcpy(line, "identity ", 9);
    line[n++] = (char) ('0' + identity % 10u);
    line[n++] = ':';
    line[n++] = ' ';
    for (k = 0; text[k] != '\0' && n + 1 < sizeof(line); k++) {
        line[n++] = text[k];
    }
    line[n] = '\0';
    stapler_agent_log(agent, level, line);
}

static const mbedtls_x509_crt *stapler_agent_issuer(const stapler_identity_t *id)
{
    return id->chain.next != NULL ? id->chain.next : &id->issuer;
}

/* Decode and verify a response for an identity at the agent's time. Without trusted time the
 * response's own thisUpdate stands in for "now" when it is later than our bound: we cannot
 * tell a future-dated response from our own ignorance, but the signature, the responder
 * and the no-rollback rule still hold. */
static int stapler_agent_judge(const stapler_identity_t *id, const unsigned char *der, size_t length,
                               const unsigned char *nonce, size_t nonce_len, int64_t now, int trusted,
                               stapler_ocsp_result_t *result, int64_t *produced_at)
{
    stapler_ocsp_response_t response;
    stapler_ocsp_policy_t policy;
    int ret;

    ret = stapler_ocsp_response_parse(&response, der, length);
    if (ret != 0) {
        return ret;
    }
    stapler_ocsp_policy_init(&policy, now);
    policy.nonce = nonce_len > 0 ? nonce : NULL;
    policy.nonce_len = nonce_len;
    if (!trusted && response.response_status == STAPLER_OCSP_SUCCESSFUL) {
        stapler_ocsp_single_t single;

        if (stapler_ocsp_response_find(&response, &id->chain, stapler_agent_issuer(id), &single) == 0 &&
            single.this_update > policy.now) {
            policy.now = single.this_update;
        }
    }
    ret = stapler_ocsp_response_verify(&response, &id->chain, stapler_agent_issuer(id), &policy, result);
    if (ret == 0) {
        *produced_at = response.produced_at;
    }
    return ret;
}

static int stapler_agent_fingerprint(const mbedtls_x509_crt *crt, uint8_t out[STAPLER_FINGERPRINT_SIZE])
{
    unsigned char digest[32];
    size_t digest_len;

    if (stapler_crypto_hash(MBEDTLS_MD_SHA256, crt->raw.p, crt->raw.len, digest, sizeof(digest),
                            &digest_len) != 0) {
        return STAPLER_ERR_INTERNAL;
    }
    memcpy(out, digest, STAPLER_FINGERPRINT_SIZE);
    return 0;
}

/* Parse one certificate from flash, using the identity's staple buffer as scratch (the
 * parser keeps its own copy in the arena). The issuer may be one whose own signature this
 * build cannot check: its name and key are all OCSP needs (stapler_cert_parse_issuer()). */
static int stapler_agent_parse(stapler_agent_t *agent, stapler_identity_t *id,
                               mbedtls_x509_crt *into, stapler_flash_span_t span, int is_issuer)
{
    int ret, partial = 0;

    if (span.length > STAPLER_RESPONSE_MAX) {
        return STAPLER_ERR_CRED_TOO_LARGE;
    }
    ret = agent->port->flash.read(agent->port->context, span.offset, id->staple, span.length);
    if (ret != 0) {
        return ret;
    }
    ret = is_issuer ? stapler_cert_parse_issuer(into, id->staple, span.length, &partial)
                    : mbedtls_x509_crt_parse_der(into, id->staple, span.length);
    if (partial) {
        stapler_agent_log_identity(agent, STAPLER_LOG_INFO, (unsigned) (id - agent->identity),
                                   "issuer's own signature algorithm is not built in: its name and key are used");
    }
    if (ret == MBEDTLS_ERR_X509_ALLOC_FAILED) {
        return STAPLER_ERR_NO_MEMORY;
    }
    return ret == 0 ? 0 : STAPLER_ERR_CRED_CORRUPT;
}

/* Take a verified response, already in buffer \p buffer, as the identity's current one:
 * just fetched or offered (\p cached NULL), or read from flash with the refresh point kept
 * there (*cached, seconds after its thisUpdate, or STAPLER_RING_REFRESH_AT_NONE). The caller
 * holds the lock. */
static void stapler_agent_adopt(stapler_agent_t *agent, stapler_identity_t *id, unsigned buffer,
                                size_t length, const stapler_ocsp_result_t *result, int64_t produced_at,
                                const uint32_t *cached)
{
    int64_t now, end;
    uint32_t seed;

    id->current = buffer;
    id->staple = id->buffer[buffer];
    id->staple_len = length;
    id->single = result->single;
    /* The serial points into the offered DER, which need not outlive this call: drop it
     * (nothing after verification needs it). */
    id->single.serial = NULL;
    id->single.serial_len = 0;
    id->produced_at = produced_at;
    id->responder_not_after = result->responder_not_after;
    id->expiring_reported = 0;
    if (result->single.cert_status == STAPLER_OCSP_REVOKED) {
        id->state = STAPLER_IDENTITY_REVOKED;
    } else {
        id->state = STAPLER_IDENTITY_SERVING;
    }
    stapler_agent_raise_floor(agent, produced_at);
    /* The healthy schedule follows the new response's window. */
    now = stapler_agent_now_locked(agent, NULL);
    end = stapler_refresh_window_end(id->single.this_update, id->single.has_next_update, id->single.next_update,
                                     id->cert_not_after, id->responder_not_after);
    seed = stapler_refresh_spread_seed(id->fingerprint, sizeof(id->fingerprint), id->single.this_update);
    if (cached == NULL) {
        stapler_refresh_set_staple(&id->refresh, 1, id->single.this_update, end, now,
                                   agent->port->monotonic_ms(agent->port->context), seed);
    } else {
        /* The point it was given when taken, so that a reboot moves no refresh (a fleet's
         * power cut must not gather them). */
        stapler_refresh_restore(&id->refresh, id->single.this_update, end,
                                *cached == STAPLER_RING_REFRESH_AT_NONE ? INT64_MIN
                                                                         : id->single.this_update + (int64_t) *cached,
                                now, agent->port->monotonic_ms(agent->port->context), seed);
    }
}

/* The refresh point to keep with the record in flash: seconds after thisUpdate. */
static uint32_t stapler_agent_refresh_at(const stapler_identity_t *id)
{
    const int64_t after = id->refresh.due - id->single.this_update;

    return id->refresh.due != INT64_MIN && after >= 0 && after < (int64_t) STAPLER_RING_REFRESH_AT_NONE
               ? (uint32_t) after
               : STAPLER_RING_REFRESH_AT_NONE;
}

static void stapler_agent_load_cached(stapler_agent_t *agent, stapler_identity_t *id)
{
    uint8_t fingerprint[STAPLER_FINGERPRINT_SIZE];
    stapler_ocsp_result_t result;
    int64_t produced_at = 0;
    size_t length = 0;
    uint32_t refresh_at = STAPLER_RING_REFRESH_AT_NONE;
    int ret;

    ret = stapler_ring_read_latest(&id->ring, id->staple, STAPLER_RESPONSE_MAX, &length, fingerprint, &refresh_at);
    if (ret != 0) {
        if (ret != STAPLER_ERR_CACHE_EMPTY) {
            id->last_error = ret;
        }
        return;
    }
    if (memcmp(fingerprint, id->fingerprint, sizeof(fingerprint)) != 0) {
        /* Cached for a certificate this identity no longer has (re-provisioned). */
        id->last_error = STAPLER_ERR_AGENT_CERT_CHANGED;
        stapler_agent_log(agent, STAPLER_LOG_INFO, "cached staple is for a replaced certificate: not used");
        return;
    }
    {
        int trusted;
        const int64_t now = stapler_agent_now_locked(agent, &trusted);

        ret = stapler_agent_judge(id, id->staple, length, NULL, 0, now, trusted, &result, &produced_at);
    }
    if (ret != 0 || result.single.cert_status == STAPLER_OCSP_UNKNOWN) {
        id->last_error = ret != 0 ? ret : STAPLER_ERR_AGENT_STATUS_UNKNOWN;
        stapler_agent_log(agent, STAPLER_LOG_WARNING, "cached staple no longer verifies: not used");
        return;
    }
    stapler_agent_adopt(agent, id, id->current, length, &result, produced_at, &refresh_at);
}

int stapler_agent_init(stapler_agent_t *agent, const stapler_port_t *port)
{
    unsigned i, c;
    int ret;

    if (agent == NULL || port == NULL || port->monotonic_ms == NULL || port->wall_time == NULL ||
        port->flash.read == NULL || port->flash.program == NULL || port->flash.erase == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    memset(agent, 0, sizeof(*agent));
    (void) stapler_agent_set_proxy(agent, CONFIG_STAPLER_HTTP_PROXY);
    agent->port = port;
    if (port->flash.sector_size != STAPLER_FLASH_SECTOR_SIZE || port->flash.size < STAPLER_FLASH_REGION_SIZE) {
        return STAPLER_ERR_CACHE_GEOMETRY;
    }
    ret = stapler_credentials_read(&agent->credentials, &port->flash, port->context);
    if (ret != 0) {
        return ret;
    }
    /* How late it already was, before the cached staples are judged at that time. */
    ret = stapler_clock_marks_mount(&agent->marks, &port->flash, port->context, STAPLER_TIME_MARK_OFFSET,
                                    CONFIG_STAPLER_TIME_MARK_SECTORS);
    if (ret != 0) {
        agent->marks_error = ret;
        agent->marks.sectors = 0;
        stapler_agent_log(agent, STAPLER_LOG_ERROR, "time marks unreadable: booting without them");
    } else {
        const uint64_t now_ms = port->monotonic_ms(port->context);

        agent->time_floor = agent->marks.evidence;
        agent->floor_monotonic_ms = now_ms;
        agent->time_used = agent->marks.mark;
        agent->time_used_ms = now_ms;
        agent->time_mark = agent->marks.mark;
    }
    agent->identity_count = agent->credentials.identity_count;
    for (i = 0; i < agent->identity_count; i++) {
        const stapler_identity_credentials_t *cred = &agent->credentials.identity[i];
        stapler_identity_t *id = &agent->identity[i];
        const char *url;
        size_t url_len;

        mbedtls_x509_crt_init(&id->chain);
        mbedtls_x509_crt_init(&id->issuer);
        id->staple = id->buffer[0];
        id->state = STAPLER_IDENTITY_UNUSED;
        for (c = 0, ret = 0; c < cred->chain_length && ret == 0; c++) {
            ret = stapler_agent_parse(agent, id, &id->chain, cred->chain[c], 0);
        }
        if (ret == 0) {
            ret = stapler_agent_parse(agent, id, &id->issuer, cred->issuer, 1);
        }
        if (ret == 0) {
            ret = stapler_agent_fingerprint(&id->chain, id->fingerprint);
        }
        if (ret != 0) {
            id->last_error = ret;
            continue;
        }
        while (stapler_cert_ocsp_url(&id->chain, id->aia_urls, &url, &url_len) == 0) {
            id->aia_urls++;
        }
        /* A malformed TLS Feature extension counts as must-staple: the peer will read it so. */
        id->must_staple = stapler_cert_must_staple(&id->chain) != 0;
        if (cred->url.length == 0 && id->aia_urls == 0) {
            /* Normal since CAs such as Let's Encrypt stopped OCSP: nothing to do, no noise. */
            id->state = STAPLER_IDENTITY_NOT_APPLICABLE;
            continue;
        }
        id->state = STAPLER_IDENTITY_NO_STAPLE;
        id->cert_not_after = stapler_ocsp_x509_time(&id->chain.valid_to);
        if (id->cert_not_after == INT64_MIN) {
            id->cert_not_after = 0;
        }
        stapler_refresh_init(&id->refresh, id->aia_urls + (cred->url.length != 0 ? 1u : 0u));
        ret = stapler_ring_mount(&id->ring, &port->flash, port->context,
                                 STAPLER_CREDENTIAL_AREA_SIZE + i * STAPLER_IDENTITY_AREA_SIZE,
                                 STAPLER_LEAF_RING_SIZE, (uint8_t) i, 0);
        if (ret != 0) {
            id->last_error = ret;
            continue;
        }
        stapler_agent_load_cached(agent, id);
    }
    /* First fetches: at once where nothing valid is cached, spread out where it is. */
    for (i = 0; i < agent->identity_count; i++) {
        stapler_identity_t *id = &agent->identity[i];
        uint32_t random = 0;

        if (id->state == STAPLER_IDENTITY_UNUSED || id->state == STAPLER_IDENTITY_NOT_APPLICABLE) {
            continue;
        }
        if (port->entropy != NULL) {
            (void) port->entropy(port->context, &random, sizeof(random));
        }
        stapler_refresh_boot(&id->refresh, stapler_agent_now(agent, NULL),
                             port->monotonic_ms(port->context), random);
    }
    return 0;
}

/* The buffer a newer response would go into, if no handshake still holds it: the one that is
 * not current (with STAPLER_STAPLE_BUFFERS 1, the current one). The caller holds the lock. */
static int stapler_agent_spare(const stapler_identity_t *id, unsigned *buffer)
{
    const unsigned spare = (id->current + 1u) % STAPLER_STAPLE_BUFFERS;

    if (id->buffer_holds[spare] > 0) {
        return STAPLER_ERR_AGENT_BUSY;
    }
    *buffer = spare;
    return 0;
}

/* Check a response and make it the staple (agent thread). The lock is held only around
 * bookkeeping: the signature check, the copy into the spare buffer (no handshake can reach
 * it: holds go to the current buffer) and the flash write run without it. */
static int stapler_agent_take(stapler_agent_t *agent, unsigned identity, const unsigned char *der,
                              size_t length, const unsigned char *nonce, size_t nonce_len)
{
    stapler_identity_t *id;
    stapler_ocsp_result_t result;
    int64_t produced_at = 0, now;
    unsigned buffer = 0;
    stapler_event_t event;
    uint32_t refresh_at;
    int trusted, ret;

    if (agent == NULL || der == NULL || identity >= agent->identity_count) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    id = &agent->identity[identity];
    stapler_agent_lock(agent);
    if (id->state == STAPLER_IDENTITY_UNUSED || id->state == STAPLER_IDENTITY_NOT_APPLICABLE) {
        stapler_agent_unlock(agent);
        return STAPLER_ERR_AGENT_NO_IDENTITY;
    }
    /* Handshakes still send the bytes of the buffer it would go into: they must not
     * change now. (Holds only ever drain from the spare buffer.) */
    ret = stapler_agent_spare(id, &buffer);
    now = stapler_agent_now_locked(agent, &trusted);
    stapler_agent_unlock(agent);
    if (ret != 0) {
        return ret;
    }
    if (length > STAPLER_RESPONSE_MAX) {
        ret = STAPLER_ERR_CACHE_TOO_LARGE;
        goto rejected;
    }
    ret = stapler_agent_judge(id, der, length, nonce, nonce_len, now, trusted, &result, &produced_at);
    if (ret != 0) {
        goto rejected;
    }
    if (result.single.cert_status == STAPLER_OCSP_UNKNOWN) {
        ret = STAPLER_ERR_AGENT_STATUS_UNKNOWN; /* keep the last good one */
        goto rejected;
    }
    /* Never roll back: strictly newer thisUpdate, or the same and a later producedAt.
     * (Only agent-thread calls change the staple, so it is the one it was above.) */
    if (!stapler_agent_rule_newer(&result.single, produced_at, id->staple_len > 0 ? &id->single : NULL,
                                  id->produced_at)) {
        ret = STAPLER_ERR_AGENT_NOT_NEWER;
        goto rejected;
    }
    if (der != id->buffer[buffer]) {
        memmove(id->buffer[buffer], der, length);
    }
    stapler_agent_lock(agent);
    stapler_agent_adopt(agent, id, buffer, length, &result, produced_at, NULL);
    refresh_at = stapler_agent_refresh_at(id);
    id->offers_accepted++;
    id->last_error = 0;
    event = id->state == STAPLER_IDENTITY_REVOKED ? STAPLER_EVENT_REVOKED : STAPLER_EVENT_RENEWED;
    stapler_agent_unlock(agent);
    stapler_agent_emit(agent, identity, event);
    /* Persist. A revoked response too: after a reboot the old good one must not come back. */
    ret = stapler_ring_append(&id->ring, id->staple, id->staple_len, id->fingerprint, refresh_at);
    if (ret != 0) {
        stapler_agent_lock(agent);
        id->last_error = ret; /* served from RAM; the flash copy is the previous one */
        stapler_agent_unlock(agent);
        stapler_agent_log(agent, STAPLER_LOG_ERROR, stapler_error_message(ret));
    }
    (void) stapler_agent_mark_time(agent, 1);
    return 0;

rejected:
    stapler_agent_lock(agent);
    id->offers_rejected++;
    id->last_error = ret;
    stapler_agent_unlock(agent);
    return ret;
}

int stapler_agent_offer(stapler_agent_t *agent, unsigned identity, const unsigned char *der,
                        size_t length)
{
    int ret;

    if (agent == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    ret = stapler_agent_writer_enter(agent);
    if (ret == 0) {
        ret = stapler_agent_take(agent, identity, der, length, NULL, 0);
        stapler_agent_writer_exit(agent);
    }
    return ret;
}

void stapler_agent_set_event_handler(stapler_agent_t *agent, stapler_event_fn event, void *context)
{
    stapler_agent_lock(agent);
    agent->event = event;
    agent->event_context = context;
    stapler_agent_unlock(agent);
}

static int stapler_agent_fetchable(const stapler_identity_t *id)
{
    return id->state == STAPLER_IDENTITY_NO_STAPLE || id->state == STAPLER_IDENTITY_SERVING ||
           id->state == STAPLER_IDENTITY_REVOKED;
}

static int stapler_agent_poll_locked(stapler_agent_t *agent, unsigned *identity, uint32_t *wait_ms)
{
    const uint64_t now_ms = agent->port->monotonic_ms(agent->port->context);
    const int64_t now = stapler_agent_now_locked(agent, NULL);
    uint64_t earliest = now_ms + 86400000u;
    unsigned i;

    for (i = 0; i < agent->identity_count; i++) {
        const stapler_identity_t *id = &agent->identity[i];
        uint64_t at;

        if (!stapler_agent_fetchable(id)) {
            continue;
        }
        at = stapler_refresh_next_ms(&id->refresh, now, now_ms);
        if (at <= now_ms) {
            *identity = i;
            return 1;
        }
        if (at < earliest) {
            earliest = at;
        }
    }
    *wait_ms = (uint32_t) (earliest - now_ms);
    return 0;
}

int stapler_agent_poll(stapler_agent_t *agent, unsigned *identity, uint32_t *wait_ms)
{
    int due;

    stapler_agent_lock(agent);
    due = stapler_agent_poll_locked(agent, identity, wait_ms);
    stapler_agent_unlock(agent);
    return due;
}

static int stapler_agent_target(stapler_agent_t *agent, unsigned identity, char *url, size_t url_size,
                                unsigned char *request, size_t request_size, size_t *request_len)
{
    stapler_identity_t *id;
    const stapler_identity_credentials_t *cred;
    const char *aia;
    size_t length;
    int ret;

    if (url == NULL || request == NULL || request_len == NULL || identity >= agent->identity_count) {
        return STAPLER_ERR_AGENT_NO_IDENTITY;
    }
    id = &agent->identity[identity];
    stapler_agent_lock(agent);
    ret = stapler_agent_fetchable(id);
    stapler_agent_unlock(agent);
    if (!ret) {
        return STAPLER_ERR_AGENT_NO_IDENTITY;
    }
    cred = &agent->credentials.identity[identity];
    /* The provisioned override comes first: it exists because the certificate's responder
     * moved or is unreachable, so every boot must not begin by waiting out the stale one. */
    if (cred->url.length == 0 || id->refresh.url_index > 0) {
        ret = stapler_cert_ocsp_url(&id->chain, id->refresh.url_index - (cred->url.length != 0 ? 1u : 0u),
                                    &aia, &length);
        if (ret != 0) {
            return ret;
        }
        if (length + 1 > url_size) {
            return STAPLER_ERR_BUFFER_TOO_SMALL;
        }
        memcpy(url, aia, length);
    } else {
        length = cred->url.length;
        if (length + 1 > url_size) {
            return STAPLER_ERR_BUFFER_TOO_SMALL;
        }
        ret = agent->port->flash.read(agent->port->context, cred->url.offset, url, length);
        if (ret != 0) {
            return ret;
        }
    }
    url[length] = '\0';
    id->nonce_len = 0;
    if (STAPLER_IS_ENABLED(CONFIG_STAPLER_OCSP_NONCE)) {
#if defined(CONFIG_STAPLER_OCSP_NONCE_LEN)
        id->nonce_len = CONFIG_STAPLER_OCSP_NONCE_LEN;
#endif
        ret = agent->port->entropy(agent->port->context, id->nonce, id->nonce_len);
        if (ret != 0) {
            id->nonce_len = 0;
            return ret;
        }
    }
    /* RFC 9919: SHA-256 CertIDs, unless this responder refused them since boot. */
    id->certid_sent = STAPLER_IS_ENABLED(CONFIG_STAPLER_OCSP_CERTID_SHA256) &&
                              id->certid_fallback == STAPLER_CERTID_SHA256
                          ? STAPLER_OCSP_CERTID_SHA256 : STAPLER_OCSP_CERTID_SHA1;
    return stapler_ocsp_request_write(&id->chain, stapler_agent_issuer(id),
                                      (stapler_ocsp_certid_hash_t) id->certid_sent,
                                      id->nonce_len > 0 ? id->nonce : NULL, id->nonce_len,
                                      request, request_size, request_len);
}

int stapler_agent_fetch_target(stapler_agent_t *agent, unsigned identity, char *url, size_t url_size,
                               unsigned char *request, size_t request_size, size_t *request_len)
{
    int ret;

    if (agent == NULL) {
        return STAPLER_ERR_AGENT_NO_IDENTITY;
    }
    ret = stapler_agent_writer_enter(agent);
    if (ret == 0) {
        ret = stapler_agent_target(agent, identity, url, url_size, request, request_size, request_len);
        stapler_agent_writer_exit(agent);
    }
    return ret;
}

stapler_fetch_class_t stapler_agent_fetch_class(int result)
{
    if (result == 0) {
        return STAPLER_FETCH_ACCEPTED;
    }
    switch (result) {
        case STAPLER_ERR_AGENT_NOT_NEWER: return STAPLER_FETCH_NOT_NEWER;
        case STAPLER_ERR_OCSP_UNSUCCESSFUL: return STAPLER_FETCH_RESPONDER_ERROR;
        case STAPLER_ERR_AGENT_STATUS_UNKNOWN: return STAPLER_FETCH_UNKNOWN_STATUS;
        case STAPLER_PORT_ERR_DNS: return STAPLER_FETCH_DNS;
        case STAPLER_PORT_ERR_REFUSED:
        case STAPLER_PORT_ERR_UNREACHABLE: return STAPLER_FETCH_CONNECT;
        case STAPLER_PORT_ERR_TIMEOUT:
        case STAPLER_ERR_HTTP_CONNECT_TIMEOUT:
        case STAPLER_ERR_HTTP_IDLE_TIMEOUT:
        case STAPLER_ERR_HTTP_TOTAL_TIMEOUT: return STAPLER_FETCH_TIMEOUT;
        case STAPLER_PORT_ERR_RESET: return STAPLER_FETCH_RESET;
        case STAPLER_ERR_HTTP_CLIENT_ERROR: return STAPLER_FETCH_HTTP_4XX;
        case STAPLER_ERR_HTTP_SERVER_ERROR: return STAPLER_FETCH_HTTP_5XX;
        case STAPLER_ERR_HTTP_REDIRECT: return STAPLER_FETCH_HTTP_REDIRECT;
        case STAPLER_ERR_HTTP_CONTENT_TYPE: return STAPLER_FETCH_CONTENT_TYPE;
        case STAPLER_ERR_HTTP_TOO_LARGE: return STAPLER_FETCH_TOO_LARGE;
        case STAPLER_ERR_HTTP_TRUNCATED: return STAPLER_FETCH_TRUNCATED;
        default: break;
    }
    if (result <= -0x0100 && result > -0x0200) {
        return STAPLER_FETCH_INVALID;      /* the codec refused the response */
    }
    if (result <= -0x0400 && result > -0x0500) {
        return STAPLER_FETCH_HTTP_MALFORMED;
    }
    if (result <= -0x1000 && result > -0x2000) {
        return STAPLER_FETCH_TRANSPORT;    /* port errors pass through unchanged */
    }
    return STAPLER_FETCH_OTHER;
}

const char *stapler_agent_fetch_class_name(stapler_fetch_class_t fetch_class)
{
    static const char *const names[STAPLER_FETCH_CLASSES] = {
        "accepted", "not_newer", "responder_error", "unknown_status", "invalid", "transport", "other",
        "dns", "connect", "timeout", "reset", "http_4xx", "http_5xx", "http_redirect",
        "content_type", "too_large", "truncated", "http_malformed",
    };

    return (unsigned) fetch_class < STAPLER_FETCH_CLASSES ? names[fetch_class] : "other";
}

/* The responder's answer to our CertID hash (RFC 9919): a SHA-256 request refused with
 * unauthorized or malformedRequest is asked again at once with SHA-1; SHA-1 answered with a
 * successful status is kept until reboot. Returns 1 when the fetch is to be repeated now. */
static int stapler_agent_learn_certid(stapler_agent_t *agent, unsigned identity,
                                      const unsigned char *der, size_t length)
{
    stapler_identity_t *id = &agent->identity[identity];
    stapler_ocsp_response_t response;
    int refused;

    if (der == NULL || stapler_ocsp_response_parse(&response, der, length) != 0) {
        return 0;
    }
    refused = response.response_status == STAPLER_OCSP_UNAUTHORIZED ||
              response.response_status == STAPLER_OCSP_MALFORMED_REQUEST;
    if (id->certid_sent == STAPLER_OCSP_CERTID_SHA256) {
        if (refused) {
            stapler_agent_lock(agent);
            id->certid_fallback = STAPLER_CERTID_SHA1_TRIAL;
            stapler_agent_unlock(agent);
            stapler_agent_log_identity(agent, STAPLER_LOG_WARNING, identity,
                                       "SHA-256 CertID refused: asking again with SHA-1");
            return 1;
        }
    } else if (id->certid_fallback == STAPLER_CERTID_SHA1_TRIAL) {
        /* SHA-1 got an answer: kept until reboot. Refused too: the hash was not the reason,
         * so the next fetch starts from SHA-256 again. tryLater and the like tell nothing. */
        stapler_agent_lock(agent);
        if (refused) {
            id->certid_fallback = STAPLER_CERTID_SHA256;
        } else if (response.response_status == STAPLER_OCSP_SUCCESSFUL) {
            id->certid_fallback = STAPLER_CERTID_SHA1;
        }
        stapler_agent_unlock(agent);
    }
    return 0;
}

/* stapler_agent_fetch_done() just turned a refused SHA-256 request into a SHA-1 retry. */
static int stapler_agent_certid_retry(const stapler_identity_t *id, int result)
{
    return result == STAPLER_ERR_OCSP_UNSUCCESSFUL && id->certid_sent == STAPLER_OCSP_CERTID_SHA256 &&
           id->certid_fallback == STAPLER_CERTID_SHA1_TRIAL;
}

static int stapler_agent_done(stapler_agent_t *agent, unsigned identity, int error,
                              const unsigned char *der, size_t length, uint32_t retry_after_s)
{
    stapler_identity_t *id;
    int ret = error, expiring = 0;
    uint32_t random = 0;

    if (identity >= agent->identity_count) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    id = &agent->identity[identity];
    if (ret == 0) {
        ret = der != NULL ? stapler_agent_take(agent, identity, der, length, id->nonce, id->nonce_len)
                          : STAPLER_ERR_INVALID_ARGUMENT;
    } else {
        stapler_agent_lock(agent);
        id->last_error = ret;
        stapler_agent_unlock(agent);
    }
    id->nonce_len = 0;
    if (error == 0 && (ret == STAPLER_ERR_OCSP_UNSUCCESSFUL || id->certid_fallback == STAPLER_CERTID_SHA1_TRIAL) &&
        stapler_agent_learn_certid(agent, identity, der, length)) {
        /* Not counted as a failed fetch: the schedule stays due, so the next step asks the
         * same URL again at once, with SHA-1. */
        return ret;
    }
    if (ret != 0 && agent->port->entropy != NULL) {
        (void) agent->port->entropy(agent->port->context, &random, sizeof(random));
    }
    stapler_agent_lock(agent);
    id->fetches_by_class[stapler_agent_fetch_class(ret)]++;
    id->last_attempt = stapler_agent_now_locked(agent, NULL);
    if (ret == 0) {
        id->last_success = id->last_attempt;
        id->fetches_ok++;
        stapler_refresh_succeeded(&id->refresh, agent->port->monotonic_ms(agent->port->context));
        stapler_agent_unlock(agent);
        return 0;
    }
    id->fetches_failed++;
    stapler_refresh_failed(&id->refresh, stapler_agent_now_locked(agent, NULL),
                           agent->port->monotonic_ms(agent->port->context), retry_after_s, random);
    {
        /* The staple's last quarter has begun and fetching does not work: say so, once. */
        const int64_t now = stapler_agent_now_locked(agent, NULL);
        const int64_t window = id->refresh.end - id->refresh.this_update;
        if (id->state == STAPLER_IDENTITY_SERVING && !id->expiring_reported && window > 0 &&
            id->refresh.end - now < window / 4) {
            id->expiring_reported = 1;
            expiring = 1;
        }
    }
    stapler_agent_unlock(agent);
    stapler_agent_emit(agent, identity, STAPLER_EVENT_FAILED);
    if (expiring) {
        stapler_agent_emit(agent, identity, STAPLER_EVENT_EXPIRING);
    }
    return ret;
}

int stapler_agent_fetch_done(stapler_agent_t *agent, unsigned identity, int error,
                             const unsigned char *der, size_t length, uint32_t retry_after_s)
{
    int ret;

    if (agent == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    ret = stapler_agent_writer_enter(agent);
    if (ret == 0) {
        ret = stapler_agent_done(agent, identity, error, der, length, retry_after_s);
        stapler_agent_writer_exit(agent);
    }
    return ret;
}

int stapler_agent_rule_fresh(const stapler_ocsp_single_t *single, int64_t now)
{
    const int64_t skew = CONFIG_STAPLER_CLOCK_SKEW_S;
    const int64_t end = single->has_next_update
                            ? single->next_update + skew
                            : single->this_update + CONFIG_STAPLER_MAX_AGE_WITHOUT_NEXT_UPDATE_S + skew;

    return now <= end;
}

int stapler_agent_rule_newer(const stapler_ocsp_single_t *single, int64_t produced_at,
                             const stapler_ocsp_single_t *held, int64_t held_produced_at)
{
    return held == NULL || single->this_update > held->this_update ||
           (single->this_update == held->this_update && produced_at > held_produced_at);
}

/* Is the current response still usable at `now`? */
static int stapler_agent_fresh(const stapler_identity_t *id, int64_t now)
{
    return stapler_agent_rule_fresh(&id->single, now);
}

/* The staple to serve now, if any; counts nothing. The caller holds the lock. */
static int stapler_agent_pick(stapler_agent_t *agent, stapler_identity_t *id,
                              const unsigned char **der, size_t *length)
{
    if (id->state == STAPLER_IDENTITY_REVOKED && !STAPLER_IS_ENABLED(CONFIG_STAPLER_STAPLE_REVOKED)) {
        return STAPLER_ERR_AGENT_NO_STAPLE;
    }
    if ((id->state != STAPLER_IDENTITY_SERVING && id->state != STAPLER_IDENTITY_REVOKED) ||
        id->staple_len == 0) {
        return STAPLER_ERR_AGENT_NO_STAPLE;
    }
    if (!stapler_agent_fresh(id, stapler_agent_now_locked(agent, NULL))) {
        /* Never serve an expired staple (Caddy did, after a failed refresh). */
        id->state = STAPLER_IDENTITY_NO_STAPLE;
        return STAPLER_ERR_AGENT_NO_STAPLE;
    }
    *der = id->staple;
    *length = id->staple_len;
    return 0;
}

static void stapler_agent_count(stapler_identity_t *id, stapler_handshake_outcome_t outcome)
{
    id->handshakes_by_outcome[outcome]++;
    if (outcome == STAPLER_HANDSHAKE_STAPLED) {
        id->handshakes_stapled++;
    } else {
        id->handshakes_unstapled++;
    }
}

int stapler_agent_staple(stapler_agent_t *agent, unsigned identity, const unsigned char **der,
                         size_t *length)
{
    /* The same pick as a hold, given back at once: the caller uses the bytes now (one
     * thread only: with threads, hold and release). */
    int ret;

    if (agent == NULL || der == NULL || length == NULL || identity >= agent->identity_count) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    stapler_agent_lock(agent);
    ret = stapler_agent_pick(agent, &agent->identity[identity], der, length);
    stapler_agent_count(&agent->identity[identity], ret == 0 ? STAPLER_HANDSHAKE_STAPLED : STAPLER_HANDSHAKE_NO_STAPLE);
    stapler_agent_unlock(agent);
    return ret;
}

int stapler_agent_staple_hold(stapler_agent_t *agent, unsigned identity, const unsigned char **der,
                              size_t *length)
{
    stapler_identity_t *id;
    int ret;

    if (agent == NULL || der == NULL || length == NULL || identity >= agent->identity_count) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    id = &agent->identity[identity];
    stapler_agent_lock(agent);
    ret = stapler_agent_pick(agent, id, der, length);
    if (ret == 0) {
        id->holds++;
        id->buffer_holds[id->current]++;
    }
    stapler_agent_unlock(agent);
    return ret;
}

void stapler_agent_staple_release(stapler_agent_t *agent, unsigned identity, const unsigned char *der)
{
    stapler_identity_t *id;
    unsigned b;

    if (agent == NULL || identity >= agent->identity_count || der == NULL) {
        return;
    }
    id = &agent->identity[identity];
    stapler_agent_lock(agent);
    for (b = 0; b < STAPLER_STAPLE_BUFFERS; b++) {
        if (der == id->buffer[b] && id->buffer_holds[b] > 0) {
            id->buffer_holds[b]--;
            id->holds--;
            break;
        }
    }
    stapler_agent_unlock(agent);
}

const char *stapler_agent_state_name(int state)
{
    static const char *const names[] = { "unused", "not_applicable", "no_staple", "serving", "revoked" };
    return state >= 0 && state <= STAPLER_IDENTITY_REVOKED ? names[state] : "unused";
}

const char *stapler_agent_handshake_outcome_name(stapler_handshake_outcome_t outcome)
{
    static const char *const names[STAPLER_HANDSHAKE_OUTCOMES] = {
        "stapled", "not_requested", "no_staple", "too_large", "refused",
    };
    return (unsigned) outcome < STAPLER_HANDSHAKE_OUTCOMES ? names[outcome] : "other";
}

void stapler_agent_handshake_done(stapler_agent_t *agent, unsigned identity,
                                  stapler_handshake_outcome_t outcome)
{
    stapler_identity_t *id;

    if (agent == NULL || identity >= agent->identity_count ||
        (unsigned) outcome >= STAPLER_HANDSHAKE_OUTCOMES) {
        return;
    }
    id = &agent->identity[identity];
    stapler_agent_lock(agent);
    stapler_agent_count(id, outcome);
    stapler_agent_unlock(agent);
}

int stapler_agent_status(stapler_agent_t *agent, unsigned identity, stapler_identity_status_t *status)
{
    const unsigned char *der;
    size_t length;
    const stapler_identity_t *id;

    if (agent == NULL || status == NULL || identity >= agent->identity_count) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    id = &agent->identity[identity];
    memset(status, 0, sizeof(*status));
    stapler_agent_lock(agent);
    status->serving = stapler_agent_pick(agent, &agent->identity[identity], &der, &length) == 0;
    status->state = id->state;
    status->now = stapler_agent_now_locked(agent, &status->time_trusted);
    status->time_floor = stapler_agent_floor_at(agent, agent->port->monotonic_ms(agent->port->context));
    status->time_contradictions = agent->time_contradictions;
    status->time_mark = agent->time_mark;
    status->time_marks_error = agent->marks_error;
    status->last_error = id->last_error;
    status->consecutive_failures = id->refresh.failures;
    status->fetches_ok = id->fetches_ok;
    status->fetches_failed = id->fetches_failed;
    memcpy(status->fetches_by_class, id->fetches_by_class, sizeof(status->fetches_by_class));
    status->last_attempt = id->last_attempt;
    status->last_success = id->last_success;
    status->handshakes_stapled = id->handshakes_stapled;
    status->handshakes_unstapled = id->handshakes_unstapled;
    memcpy(status->handshakes_by_outcome, id->handshakes_by_outcome,
           sizeof(status->handshakes_by_outcome));
    status->must_staple = id->must_staple;
    status->last_http_status = id->last_http_status;
    status->last_fetch_post = id->last_fetch_post;
    status->last_get_refused = id->last_get_refused;
    status->certid_sha1 = !STAPLER_IS_ENABLED(CONFIG_STAPLER_OCSP_CERTID_SHA256) ||
                          id->certid_fallback != STAPLER_CERTID_SHA256;
    status->fetching = agent->fetching && agent->fetch_identity == identity;
    if (stapler_agent_fetchable(id)) {
        const uint64_t now_ms = agent->port->monotonic_ms(agent->port->context);
        const uint64_t at = stapler_refresh_next_ms(&id->refresh, status->now, now_ms);
        status->next_attempt_in = at > now_ms ? (int64_t) ((at - now_ms) / 1000u) : 0;
    }
    if (id->staple_len > 0) {
        status->cert_status = id->single.cert_status;
        status->this_update = id->single.this_update;
        status->next_update = id->single.next_update;
        status->has_next_update = id->single.has_next_update;
        status->produced_at = id->produced_at;
        if (status->serving && id->single.has_next_update && id->single.next_update > status->now) {
            status->remaining = id->single.next_update - status->now;
        }
    }
    stapler_agent_unlock(agent);
    return 0;
}

int stapler_agent_set_proxy(stapler_agent_t *agent, const char *proxy)
{
    size_t len = proxy != NULL ? strlen(proxy) : 0;

    if (agent == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    if (len >= sizeof(agent->proxy)) {
        return STAPLER_ERR_BUFFER_TOO_SMALL;
    }
    if (agent->port != NULL && stapler_agent_writer_enter(agent) != 0) {
        return STAPLER_ERR_AGENT_BUSY;
    }
    if (len > 0) {
        memcpy(agent->proxy, proxy, len);
    }
    agent->proxy[len] = '\0';
    if (agent->port != NULL) {
        stapler_agent_writer_exit(agent);
    }
    return 0;
}

/* Bit of the identity's current URL in post_urls (0 past the 32nd URL: not remembered). */
static uint32_t stapler_agent_url_bit(const stapler_identity_t *id)
{
    return id->refresh.url_index < 32u ? (uint32_t) 1u << id->refresh.url_index : 0u;
}

/* Ask the current URL by POST from the start: it refused GET before (since boot). */
static int stapler_agent_post_only(const stapler_identity_t *id)
{
    return (id->post_urls & stapler_agent_url_bit(id)) != 0;
}

/* What the ended exchange says about the responder. A GET refused and a POST answered (200)
 * in the same fetch: this responder wants POST, so later fetches skip the GET. Called
 * before stapler_agent_fetch_done(), which may move on to the next URL. */
static void stapler_agent_learn_method(stapler_agent_t *agent, stapler_identity_t *id,
                                       const stapler_http_exchange_t *ex)
{
    stapler_agent_lock(agent);
    id->last_http_status = ex->response.status;
    id->last_fetch_post = ex->is_post;
    id->last_get_refused = ex->get_refused;
    stapler_agent_unlock(agent);
    if (ex->get_refused && ex->is_post && ex->response.status == 200) {
        id->post_urls |= stapler_agent_url_bit(id);
    }
}

static void stapler_agent_log_fetch(stapler_agent_t *agent, unsigned identity, int result)
{
    /* "identity N: fetch <class>: <slug>", without printf (the core has none). */
    char line[96];
    const char *parts[4];
    size_t n = 0, i, k;

    parts[0] = "fetch: ";
    parts[1] = stapler_agent_fetch_class_name(stapler_agent_fetch_class(result));
    parts[2] = result != 0 ? " " : "";
    parts[3] = result != 0 ? stapler_error_slug(result) : "";
    memcpy(line, "identity ", 9);
    n = 9;
    line[n++] = (char) ('0' + identity % 10u);
    line[n++] = ' ';
    for (i = 0; i < 4; i++) {
        for (k = 0; parts[i][k] != '\0' && n + 1 < sizeof(line); k++) {
            line[n++] = parts[i][k];
        }
    }
    line[n] = '\0';
    stapler_agent_log(agent, result == 0 ? STAPLER_LOG_INFO : STAPLER_LOG_WARNING, line);
}

static void stapler_agent_set_fetching(stapler_agent_t *agent, int fetching, unsigned identity)
{
    stapler_agent_lock(agent);
    agent->fetching = fetching;
    agent->fetch_identity = identity;
    stapler_agent_unlock(agent);
}

static int stapler_agent_run(stapler_agent_t *agent, uint32_t *wait_ms)
{
    const stapler_port_transport_t *t = &agent->port->transport;
    uint32_t wait = 86400000u;
    int finished = 0;

    if (t->connect == NULL || t->status == NULL || t->send == NULL || t->recv == NULL || t->close == NULL) {
        unsigned identity;

        /* No network: only the schedule (responses come through stapler_agent_offer()). */
        if (stapler_agent_poll(agent, &identity, &wait) == 1) {
            wait = 1000u;
        }
        if (wait_ms != NULL) {
            *wait_ms = wait;
        }
        return 0;
    }
    if (!agent->fetching) {
        unsigned identity;
        char url[STAPLER_URL_MAX + 1];
        unsigned char request[STAPLER_OCSP_REQUEST_MAX];
        size_t request_len;
        int ret;

        if (stapler_agent_poll(agent, &identity, &wait) == 1) {
            ret = stapler_agent_target(agent, identity, url, sizeof(url), request, sizeof(request),
                                       &request_len);
            if (ret == 0) {
                ret = stapler_http_exchange_start_with(&agent->exchange, agent->port, url, agent->proxy,
                                                       request, request_len, 0, 0, 0,
                                                       stapler_agent_post_only(&agent->identity[identity])
                                                           ? STAPLER_HTTP_POST : 0u);
            }
            if (ret != 0) {
                /* Could not even start (URL too long, no entropy): a failed fetch. */
                stapler_agent_set_fetching(agent, 0, identity);
                agent->fetch_result = stapler_agent_done(agent, identity, ret, NULL, 0, 0);
                stapler_agent_log_fetch(agent, identity, agent->fetch_result);
                finished = 1;
                (void) stapler_agent_poll(agent, &identity, &wait);
            } else {
                stapler_agent_set_fetching(agent, 1, identity);
            }
        }
    }
    if (agent->fetching) {
        stapler_http_exchange_t *ex = &agent->exchange;
        const unsigned identity = agent->fetch_identity;

        if (agent->fetch_parked || stapler_http_exchange_step(ex, &wait) == 1) {
            stapler_identity_t *id = &agent->identity[identity];
            unsigned buffer;
            int ret;

            stapler_agent_lock(agent);
            ret = ex->result == 0 ? stapler_agent_spare(id, &buffer) : 0;
            stapler_agent_unlock(agent);
            if (ret != 0) {
                /* Handshakes still send the staple before the current one, in the buffer
                 * this response goes into: it waits in the exchange's buffer until they
                 * are over (handshakes take milliseconds; new ones take the current one). */
                agent->fetch_parked = 1;
                if (wait_ms != NULL) {
                    *wait_ms = 10u;
                }
                return 0;
            }
            agent->fetch_parked = 0;

            stapler_agent_learn_method(agent, id, ex);
            ret = stapler_agent_done(agent, identity, ex->result,
                                     ex->result == 0 ? ex->response.body : NULL,
                                     ex->result == 0 ? ex->response.body_len : 0,
                                     ex->response.retry_after_s);
            if (stapler_agent_certid_retry(id, ret)) {
                /* RFC 9919: the SHA-256 CertID was refused. The same fetch asks again with
                 * SHA-1 on the next step (it is still due): nothing has ended yet. */
                stapler_http_exchange_abort(ex);
                stapler_agent_set_fetching(agent, 0, identity);
                if (wait_ms != NULL) {
                    *wait_ms = 0;
                }
                return 0;
            }
            stapler_agent_log_fetch(agent, identity, ret);
            agent->fetch_result = ret;
            stapler_http_exchange_abort(ex);
            stapler_agent_set_fetching(agent, 0, identity);
            finished = 1;
            {
                unsigned next;

                if (stapler_agent_poll(agent, &next, &wait) == 1) {
                    wait = 0; /* another identity is due: step again at once */
                }
            }
        } else if (wait > 100u) {
            /* Ports that do not wake the loop on network events still make progress. */
            wait = 100u;
        }
    }
    if (wait_ms != NULL) {
        *wait_ms = wait;
    }
    return finished;
}

int stapler_agent_step(stapler_agent_t *agent, uint32_t *wait_ms)
{
    int ret;

    if (agent == NULL || agent->port == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    ret = stapler_agent_writer_enter(agent);
    if (ret != 0) {
        if (wait_ms != NULL) {
            *wait_ms = 10u;
        }
        return ret;
    }
    ret = stapler_agent_run(agent, wait_ms);
    stapler_agent_report_time(agent);
    {
        const uint32_t mark_in = stapler_agent_mark_time(agent, 0);

        if (wait_ms != NULL && mark_in < *wait_ms) {
            *wait_ms = mark_in;
        }
    }
    stapler_agent_writer_exit(agent);
    return ret;
}
