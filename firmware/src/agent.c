/* The agent: boot, accepting responses, serving staples. See stapler/agent.h. */
#include "stapler/agent.h"

#include <string.h>

#include "mbedtls/md.h"

#include "stapler/cert.h"
#include "stapler/error.h"

static void stapler_agent_emit(stapler_agent_t *agent, unsigned identity, stapler_event_t event)
{
    if (agent->event != NULL) {
        agent->event(agent->event_context, identity, event);
    }
}

static void stapler_agent_log(const stapler_agent_t *agent, stapler_log_level_t level, const char *line)
{
    if ((int) level <= CONFIG_STAPLER_LOG_LEVEL && agent->port->log != NULL) {
        agent->port->log(agent->port->context, level, line);
    }
}

int64_t stapler_agent_now(stapler_agent_t *agent, int *trusted)
{
    int64_t wall = 0, bound;
    int is_trusted = 0;

    if (agent->port->wall_time(agent->port->context, &wall, &is_trusted) != 0) {
        wall = 0;
        is_trusted = 0;
    }
    if (trusted != NULL) {
        *trusted = is_trusted;
    }
    if (is_trusted) {
        return wall;
    }
    /* A lower bound on the real time: the newest verified producedAt plus the time elapsed
     * since we saw it (real time cannot have advanced less), or the untrusted clock if it
     * says later (which can only make us stricter). */
    bound = agent->time_floor;
    if (bound > 0) {
        bound += (int64_t) ((agent->port->monotonic_ms(agent->port->context) - agent->floor_monotonic_ms) / 1000u);
    }
    return wall > bound ? wall : bound;
}

static void stapler_agent_raise_floor(stapler_agent_t *agent, int64_t produced_at)
{
    const uint64_t now_ms = agent->port->monotonic_ms(agent->port->context);
    const int64_t current = agent->time_floor > 0
                                ? agent->time_floor + (int64_t) ((now_ms - agent->floor_monotonic_ms) / 1000u)
                                : 0;

    if (produced_at > current) {
        agent->time_floor = produced_at;
        agent->floor_monotonic_ms = now_ms;
    }
}

static const mbedtls_x509_crt *stapler_agent_issuer(const stapler_identity_t *id)
{
    return id->chain.next != NULL ? id->chain.next : &id->issuer;
}

/* Decode and verify a response for an identity at the agent's time. Without trusted time the
 * response's own thisUpdate stands in for "now" when it is later than our bound: we cannot
 * tell a future-dated response from our own ignorance, but the signature, the responder
 * and the no-rollback rule still hold. */
static int stapler_agent_judge(stapler_agent_t *agent, stapler_identity_t *id,
                               const unsigned char *der, size_t length,
                               const unsigned char *nonce, size_t nonce_len,
                               stapler_ocsp_result_t *result, int64_t *produced_at)
{
    stapler_ocsp_response_t response;
    stapler_ocsp_policy_t policy;
    int trusted, ret;
    const int64_t now = stapler_agent_now(agent, &trusted);

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
        stapler_agent_raise_floor(agent, response.produced_at);
    }
    return ret;
}

static int stapler_agent_fingerprint(const mbedtls_x509_crt *crt, uint8_t out[STAPLER_FINGERPRINT_SIZE])
{
    unsigned char digest[32];

    if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), crt->raw.p, crt->raw.len, digest) != 0) {
        return STAPLER_ERR_INTERNAL;
    }
    memcpy(out, digest, STAPLER_FINGERPRINT_SIZE);
    return 0;
}

/* Parse one certificate from flash, using the identity's staple buffer as scratch (the
 * parser keeps its own copy in the arena). */
static int stapler_agent_parse(stapler_agent_t *agent, stapler_identity_t *id,
                               mbedtls_x509_crt *into, stapler_flash_span_t span)
{
    int ret;

    if (span.length > sizeof(id->staple)) {
        return STAPLER_ERR_CRED_TOO_LARGE;
    }
    ret = agent->port->flash.read(agent->port->context, span.offset, id->staple, span.length);
    if (ret != 0) {
        return ret;
    }
    ret = mbedtls_x509_crt_parse_der(into, id->staple, span.length);
    if (ret == MBEDTLS_ERR_X509_ALLOC_FAILED) {
        return STAPLER_ERR_NO_MEMORY;
    }
    return ret == 0 ? 0 : STAPLER_ERR_CRED_CORRUPT;
}

/* Take a verified response as the identity's current one (copying it if needed). */
static void stapler_agent_adopt(stapler_agent_t *agent, stapler_identity_t *id,
                                const unsigned char *der, size_t length,
                                const stapler_ocsp_result_t *result, int64_t produced_at)
{
    int64_t now;
    if (der != id->staple) {
        memmove(id->staple, der, length);
    }
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
    /* The healthy schedule follows the new response's window. */
    now = stapler_agent_now(agent, NULL);
    stapler_refresh_set_staple(&id->refresh, 1, id->single.this_update,
                               stapler_refresh_window_end(id->single.this_update, id->single.has_next_update,
                                                          id->single.next_update, id->cert_not_after,
                                                          id->responder_not_after),
                               now, agent->port->monotonic_ms(agent->port->context));
}

static void stapler_agent_load_cached(stapler_agent_t *agent, stapler_identity_t *id)
{
    uint8_t fingerprint[STAPLER_FINGERPRINT_SIZE];
    stapler_ocsp_result_t result;
    int64_t produced_at = 0;
    size_t length = 0;
    int ret;

    ret = stapler_ring_read_latest(&id->ring, id->staple, sizeof(id->staple), &length, fingerprint);
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
    ret = stapler_agent_judge(agent, id, id->staple, length, NULL, 0, &result, &produced_at);
    if (ret != 0 || result.single.cert_status == STAPLER_OCSP_UNKNOWN) {
        id->last_error = ret != 0 ? ret : STAPLER_ERR_AGENT_STATUS_UNKNOWN;
        stapler_agent_log(agent, STAPLER_LOG_WARNING, "cached staple no longer verifies: not used");
        return;
    }
    stapler_agent_adopt(agent, id, id->staple, length, &result, produced_at);
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
    agent->identity_count = agent->credentials.identity_count;
    for (i = 0; i < agent->identity_count; i++) {
        const stapler_identity_credentials_t *cred = &agent->credentials.identity[i];
        stapler_identity_t *id = &agent->identity[i];
        const char *url;
        size_t url_len;

        mbedtls_x509_crt_init(&id->chain);
        mbedtls_x509_crt_init(&id->issuer);
        id->state = STAPLER_IDENTITY_UNUSED;
        for (c = 0, ret = 0; c < cred->chain_length && ret == 0; c++) {
            ret = stapler_agent_parse(agent, id, &id->chain, cred->chain[c]);
        }
        if (ret == 0) {
            ret = stapler_agent_parse(agent, id, &id->issuer, cred->issuer);
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

static int stapler_agent_take(stapler_agent_t *agent, unsigned identity, const unsigned char *der,
                              size_t length, const unsigned char *nonce, size_t nonce_len)
{
    stapler_identity_t *id;
    stapler_ocsp_result_t result;
    int64_t produced_at = 0;
    int ret;

    if (agent == NULL || der == NULL || identity >= agent->identity_count) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    id = &agent->identity[identity];
    if (id->state == STAPLER_IDENTITY_UNUSED || id->state == STAPLER_IDENTITY_NOT_APPLICABLE) {
        return STAPLER_ERR_AGENT_NO_IDENTITY;
    }
    if (id->holds > 0) {
        /* A handshake is sending id->staple: its bytes must not change now. */
        return STAPLER_ERR_AGENT_BUSY;
    }
    if (length > STAPLER_RESPONSE_MAX) {
        ret = STAPLER_ERR_CACHE_TOO_LARGE;
        goto rejected;
    }
    ret = stapler_agent_judge(agent, id, der, length, nonce, nonce_len, &result, &produced_at);
    if (ret != 0) {
        goto rejected;
    }
    if (result.single.cert_status == STAPLER_OCSP_UNKNOWN) {
        ret = STAPLER_ERR_AGENT_STATUS_UNKNOWN; /* keep the last good one */
        goto rejected;
    }
    /* Never roll back: strictly newer thisUpdate, or the same and a later producedAt. */
    if (id->staple_len > 0 &&
        !(result.single.this_update > id->single.this_update ||
          (result.single.this_update == id->single.this_update && produced_at > id->produced_at))) {
        ret = STAPLER_ERR_AGENT_NOT_NEWER;
        goto rejected;
    }
    stapler_agent_adopt(agent, id, der, length, &result, produced_at);
    id->offers_accepted++;
    id->last_error = 0;
    stapler_agent_emit(agent, identity,
                       id->state == STAPLER_IDENTITY_REVOKED ? STAPLER_EVENT_REVOKED : STAPLER_EVENT_RENEWED);
    /* Persist. A revoked response too: after a reboot the old good one must not come back. */
    ret = stapler_ring_append(&id->ring, id->staple, id->staple_len, id->fingerprint);
    if (ret != 0) {
        id->last_error = ret; /* served from RAM; the flash copy is the previous one */
        stapler_agent_log(agent, STAPLER_LOG_ERROR, stapler_error_message(ret));
    }
    return 0;

rejected:
    id->offers_rejected++;
    id->last_error = ret;
    return ret;
}

int stapler_agent_offer(stapler_agent_t *agent, unsigned identity, const unsigned char *der,
                        size_t length)
{
    return stapler_agent_take(agent, identity, der, length, NULL, 0);
}

void stapler_agent_set_event_handler(stapler_agent_t *agent, stapler_event_fn event, void *context)
{
    agent->event = event;
    agent->event_context = context;
}

static int stapler_agent_fetchable(const stapler_identity_t *id)
{
    return id->state == STAPLER_IDENTITY_NO_STAPLE || id->state == STAPLER_IDENTITY_SERVING ||
           id->state == STAPLER_IDENTITY_REVOKED;
}

int stapler_agent_poll(stapler_agent_t *agent, unsigned *identity, uint32_t *wait_ms)
{
    const uint64_t now_ms = agent->port->monotonic_ms(agent->port->context);
    const int64_t now = stapler_agent_now(agent, NULL);
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

int stapler_agent_fetch_target(stapler_agent_t *agent, unsigned identity, char *url, size_t url_size,
                               unsigned char *request, size_t request_size, size_t *request_len)
{
    stapler_identity_t *id;
    const stapler_identity_credentials_t *cred;
    const char *aia;
    size_t length;
    int ret;

    if (agent == NULL || url == NULL || request == NULL || request_len == NULL ||
        identity >= agent->identity_count || !stapler_agent_fetchable(&agent->identity[identity])) {
        return STAPLER_ERR_AGENT_NO_IDENTITY;
    }
    id = &agent->identity[identity];
    cred = &agent->credentials.identity[identity];
    if (id->refresh.url_index < id->aia_urls) {
        ret = stapler_cert_ocsp_url(&id->chain, id->refresh.url_index, &aia, &length);
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
    return stapler_ocsp_request_write(&id->chain, stapler_agent_issuer(id),
                                      STAPLER_IS_ENABLED(CONFIG_STAPLER_OCSP_CERTID_SHA256)
                                          ? STAPLER_OCSP_CERTID_SHA256 : STAPLER_OCSP_CERTID_SHA1,
                                      id->nonce_len > 0 ? id->nonce : NULL, id->nonce_len,
                                      request, request_size, request_len);
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

int stapler_agent_fetch_done(stapler_agent_t *agent, unsigned identity, int error,
                             const unsigned char *der, size_t length, uint32_t retry_after_s)
{
    stapler_identity_t *id;
    int ret = error;
    uint32_t random = 0;

    if (agent == NULL || identity >= agent->identity_count) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    id = &agent->identity[identity];
    if (ret == 0) {
        ret = der != NULL ? stapler_agent_take(agent, identity, der, length, id->nonce, id->nonce_len)
                          : STAPLER_ERR_INVALID_ARGUMENT;
    } else {
        id->last_error = ret;
    }
    id->nonce_len = 0;
    id->fetches_by_class[stapler_agent_fetch_class(ret)]++;
    id->last_attempt = stapler_agent_now(agent, NULL);
    if (ret == 0) {
        id->last_success = id->last_attempt;
        id->fetches_ok++;
        stapler_refresh_succeeded(&id->refresh, agent->port->monotonic_ms(agent->port->context));
        return 0;
    }
    id->fetches_failed++;
    if (agent->port->entropy != NULL) {
        (void) agent->port->entropy(agent->port->context, &random, sizeof(random));
    }
    stapler_refresh_failed(&id->refresh, stapler_agent_now(agent, NULL),
                           agent->port->monotonic_ms(agent->port->context), retry_after_s, random);
    stapler_agent_emit(agent, identity, STAPLER_EVENT_FAILED);
    {
        /* The staple's last quarter has begun and fetching does not work: say so, once. */
        const int64_t now = stapler_agent_now(agent, NULL);
        const int64_t window = id->refresh.end - id->refresh.this_update;
        if (id->state == STAPLER_IDENTITY_SERVING && !id->expiring_reported && window > 0 &&
            id->refresh.end - now < window / 4) {
            id->expiring_reported = 1;
            stapler_agent_emit(agent, identity, STAPLER_EVENT_EXPIRING);
        }
    }
    return ret;
}

/* Is the current response still usable at `now`? */
static int stapler_agent_fresh(const stapler_identity_t *id, int64_t now)
{
    const int64_t skew = CONFIG_STAPLER_CLOCK_SKEW_S;
    const int64_t end = id->single.has_next_update
                            ? id->single.next_update + skew
                            : id->single.this_update + CONFIG_STAPLER_MAX_AGE_WITHOUT_NEXT_UPDATE_S + skew;

    return now <= end;
}

/* The staple to serve now, if any; counts nothing. */
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
    if (!stapler_agent_fresh(id, stapler_agent_now(agent, NULL))) {
        /* Never serve an expired staple (Caddy did, after a failed refresh). */
        id->state = STAPLER_IDENTITY_NO_STAPLE;
        return STAPLER_ERR_AGENT_NO_STAPLE;
    }
    *der = id->staple;
    *length = id->staple_len;
    return 0;
}

int stapler_agent_staple(stapler_agent_t *agent, unsigned identity, const unsigned char **der,
                         size_t *length)
{
    /* A hold taken and given back at once: the same pick, and the caller uses the bytes now. */
    int ret = stapler_agent_staple_hold(agent, identity, der, length);

    if (ret == STAPLER_ERR_INVALID_ARGUMENT) {
        return ret;
    }
    if (ret == 0) {
        stapler_agent_staple_release(agent, identity);
    }
    stapler_agent_handshake_done(agent, identity,
                                 ret == 0 ? STAPLER_HANDSHAKE_STAPLED : STAPLER_HANDSHAKE_NO_STAPLE);
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
    ret = stapler_agent_pick(agent, id, der, length);
    if (ret == 0) {
        id->holds++;
    }
    return ret;
}

void stapler_agent_staple_release(stapler_agent_t *agent, unsigned identity)
{
    if (agent != NULL && identity < agent->identity_count && agent->identity[identity].holds > 0) {
        agent->identity[identity].holds--;
    }
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
    id->handshakes_by_outcome[outcome]++;
    if (outcome == STAPLER_HANDSHAKE_STAPLED) {
        id->handshakes_stapled++;
    } else {
        id->handshakes_unstapled++;
    }
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
    status->serving = stapler_agent_pick(agent, &agent->identity[identity], &der, &length) == 0;
    status->state = id->state;
    status->now = stapler_agent_now(agent, &status->time_trusted);
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
    if (len > 0) {
        memcpy(agent->proxy, proxy, len);
    }
    agent->proxy[len] = '\0';
    return 0;
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

int stapler_agent_step(stapler_agent_t *agent, uint32_t *wait_ms)
{
    const stapler_port_transport_t *t;
    uint32_t wait = 86400000u;
    int finished = 0;

    if (agent == NULL || agent->port == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    t = &agent->port->transport;
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
            ret = stapler_agent_fetch_target(agent, identity, url, sizeof(url), request, sizeof(request),
                                             &request_len);
            if (ret == 0) {
                ret = stapler_http_exchange_start(&agent->exchange, agent->port, url, agent->proxy,
                                                  request, request_len);
            }
            if (ret != 0) {
                /* Could not even start (URL too long, no entropy): a failed fetch. */
                agent->fetch_identity = identity;
                agent->fetch_result = stapler_agent_fetch_done(agent, identity, ret, NULL, 0, 0);
                stapler_agent_log_fetch(agent, identity, agent->fetch_result);
                finished = 1;
                (void) stapler_agent_poll(agent, &identity, &wait);
            } else {
                agent->fetching = 1;
                agent->fetch_identity = identity;
            }
        }
    }
    if (agent->fetching) {
        stapler_http_exchange_t *ex = &agent->exchange;
        const unsigned identity = agent->fetch_identity;

        if (agent->fetch_parked || stapler_http_exchange_step(ex, &wait) == 1) {
            int ret;

            if (agent->identity[identity].holds > 0) {
                /* A handshake is sending the current staple: the response waits in the
                 * exchange's buffer until it is over (handshakes take milliseconds). */
                agent->fetch_parked = 1;
                if (wait_ms != NULL) {
                    *wait_ms = 10u;
                }
                return 0;
            }
            agent->fetch_parked = 0;

            agent->identity[identity].last_http_status = ex->response.status;
            ret = stapler_agent_fetch_done(agent, identity, ex->result,
                                           ex->result == 0 ? ex->response.body : NULL,
                                           ex->result == 0 ? ex->response.body_len : 0,
                                           ex->response.retry_after_s);
            stapler_agent_log_fetch(agent, identity, ret);
            agent->fetch_result = ret;
            stapler_http_exchange_abort(ex);
            agent->fetching = 0;
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
