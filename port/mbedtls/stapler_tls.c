/* Stapling in Mbed TLS handshakes: see stapler_tls.h. */
#include "stapler_tls.h"

#include <string.h>

#include "mbedtls/pk.h"
#include "mbedtls/platform_util.h"
#include "stapler/cert.h"
#include "stapler/error.h"
#include "stapler/ocsp.h"
#include "stapler_mbedtls_platform.h"

#if !defined(MBEDTLS_SSL_OCSP_STAPLING)
#error "stapler_tls.c needs Mbed TLS with Stapler's patches (MBEDTLS_SSL_OCSP_STAPLING)"
#endif

/* The private key's DER is read from flash into this buffer only while it is parsed, then
 * wiped. RSA-4096 PKCS#8 keys are about 2.4 KB. */
static unsigned char stapler_tls_key_der[2560];

/* --- Log lines without printf ---------------------------------------------------------- */

typedef struct {
    char text[160];
    size_t len;
} stapler_tls_line_t;

static void stapler_tls_put(stapler_tls_line_t *line, const char *s)
{
    while (*s != '\0' && line->len + 1 < sizeof(line->text)) {
        line->text[line->len++] = *s++;
    }
    line->text[line->len] = '\0';
}

static void stapler_tls_put_uint(stapler_tls_line_t *line, size_t value)
{
    char digits[24];
    size_t n = 0;

    do {
        digits[n++] = (char) ('0' + value % 10u);
        value /= 10u;
    } while (value > 0 && n < sizeof(digits));
    while (n > 0 && line->len + 1 < sizeof(line->text)) {
        line->text[line->len++] = digits[--n];
    }
    line->text[line->len] = '\0';
}

static void stapler_tls_log(const stapler_tls_session_t *s, stapler_log_level_t level,
                            const stapler_tls_line_t *line)
{
    if (s->port != NULL && s->port->log != NULL) {
        s->port->log(s->port->context, level, line->text);
    }
}

/* --- Our staple ------------------------------------------------------------------------ */

static int stapler_tls_staple_cb(void *context, mbedtls_ssl_context *ssl,
                                 const mbedtls_x509_crt *crt, int depth, size_t room,
                                 const unsigned char **der, size_t *der_len)
{
    stapler_tls_session_t *s = mbedtls_ssl_get_user_data_p(ssl);
    stapler_tls_config_t *config = context;
    const unsigned char *staple;
    size_t length;

    (void) crt;
    if (s == NULL || depth != 0) {
        return 0; /* the agent fetches the device certificate's response only */
    }
    s->asked = 1;
    if (config->options.test_staple_override) {
        if (config->options.test_staple_len > 0 && config->options.test_staple_len <= room) {
            *der = config->options.test_staple;
            *der_len = config->options.test_staple_len;
            s->staple_sent = config->options.test_staple_len;
        }
        return 0;
    }
    if (s->held) {
        /* Mbed TLS asks once per handshake and certificate; the hold taken then stands. */
        staple = s->held_der;
        length = s->held_len;
    } else {
        if (stapler_agent_staple_hold(config->agent, s->identity, &staple, &length) != 0) {
            return 0; /* none valid: the handshake goes on unstapled (counted) */
        }
        s->held = 1;
        s->held_der = staple;
        s->held_len = length;
    }
    if (length > room) {
        stapler_tls_line_t line = { "", 0 };

        s->too_large = 1;
        stapler_tls_put(&line, "tls: identity ");
        stapler_tls_put_uint(&line, s->identity);
        stapler_tls_put(&line, ": staple of ");
        stapler_tls_put_uint(&line, length);
        stapler_tls_put(&line, " bytes does not fit (room ");
        stapler_tls_put_uint(&line, room);
        stapler_tls_put(&line, "; raise CONFIG_STAPLER_TLS_OUT_CONTENT_LEN): sent without");
        stapler_tls_log(s, STAPLER_LOG_WARNING, &line);
        return 0;
    }
    *der = staple;
    *der_len = length;
    s->staple_sent = length;
    return 0;
}

/* Server: Mbed TLS calls this once the ClientHello is parsed (TLS 1.2 and 1.3, the first
 * ClientHello when there is a HelloRetryRequest), before anything is written. RFC 7633: every
 * client that honours must-staple rejects our certificate without a staple, so it is not
 * presented; refusing here rather than closing the connection unread lets the client read a
 * fatal alert (stapler_tls_session_handshake() sends it) instead of a bare end of stream,
 * which browsers retry over and over. The staple is held from this check on, so the one
 * found here is the one that is sent. */
static int stapler_tls_cert_cb(mbedtls_ssl_context *ssl)
{
    stapler_tls_session_t *s = mbedtls_ssl_get_user_data_p(ssl);
    stapler_tls_config_t *config;

    if (s == NULL || s->config == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    config = s->config;
    s->hello_seen = 1; /* the identity is settled: a later ClientHello may not change it */
    if (config->options.test_staple_override || s->held ||
        !config->agent->identity[s->identity].must_staple) {
        return 0;
    }
    if (stapler_agent_staple_hold(config->agent, s->identity, &s->held_der, &s->held_len) != 0) {
        s->refusing = 1;
        return STAPLER_ERR_TLS_MUST_STAPLE;
    }
    s->held = 1;
    return 0;
}

/* --- Resumption, bounded by revocation -------------------------------------------------- */

#if defined(CONFIG_STAPLER_TLS_RESUMPTION) || defined(MBEDTLS_SSL_SESSION_TICKETS) || \
    (defined(MBEDTLS_SSL_SRV_C) && defined(MBEDTLS_SSL_SERVER_NAME_INDICATION))
/* The port's lock, around what configurations share between sessions (the cache, the ticket
 * keys, a client's saved session, the counters). */
static void stapler_tls_lock(const stapler_tls_config_t *config)
{
    if (config->agent->port->lock != NULL) {
        config->agent->port->lock(config->agent->port->context);
    }
}

static void stapler_tls_unlock(const stapler_tls_config_t *config)
{
    if (config->agent->port->unlock != NULL) {
        config->agent->port->unlock(config->agent->port->context);
    }
}
#endif

#if defined(CONFIG_STAPLER_TLS_RESUMPTION)
/* Drop every session of one identity made so far: its cache emptied, both its ticket keys
 * replaced (a ticket under either no longer decrypts). The caller holds the lock. */
static void stapler_tls_flush_locked(stapler_tls_config_t *config, unsigned identity)
{
#if defined(MBEDTLS_SSL_TICKET_C)
    unsigned char name[4], key[32];
    int i;
#endif

#if defined(MBEDTLS_SSL_CACHE_C)
    mbedtls_ssl_cache_free(&config->cache[identity]);
    mbedtls_ssl_cache_init(&config->cache[identity]);
#endif
#if defined(MBEDTLS_SSL_TICKET_C)
    for (i = 0; i < 2; i++) {
        if (stapler_mbedtls_platform_random(NULL, name, sizeof(name)) != 0 ||
            stapler_mbedtls_platform_random(NULL, key, sizeof(key)) != 0 ||
            mbedtls_ssl_ticket_rotate(&config->ticket[identity], name, sizeof(name), key, sizeof(key),
                                      CONFIG_STAPLER_TLS_TICKET_LIFETIME_S) != 0) {
            /* No new key: keep the ticket context unable to decrypt anything old by
             * starting it again; tickets then fail until it can make keys. */
            mbedtls_ssl_ticket_free(&config->ticket[identity]);
            mbedtls_ssl_ticket_init(&config->ticket[identity]);
            (void) stapler_mbedtls_platform_ticket_setup(&config->ticket[identity],
                                                         CONFIG_STAPLER_TLS_TICKET_LIFETIME_S);
            break;
        }
    }
    mbedtls_platform_zeroize(key, sizeof(key));
#endif
    config->resumption_flushes++;
}

/* May a session of this identity be resumed now? Only while the status that authenticated
 * it still holds: a valid good staple is served, or the identity has no OCSP. Revoked, or
 * must-staple without a staple: no, and everything made before is dropped. Returns 1 or 0;
 * *remaining: seconds of staple validity left (INT64_MAX without OCSP). */
static int stapler_tls_may_resume(stapler_tls_config_t *config, unsigned identity, int64_t *remaining)
{
    stapler_identity_status_t st;

    if (stapler_agent_status(config->agent, identity, &st) != 0) {
        return 0;
    }
    *remaining = st.state == STAPLER_IDENTITY_NOT_APPLICABLE ? INT64_MAX : st.remaining;
    {
        const int bad = st.state == STAPLER_IDENTITY_REVOKED || (st.must_staple && !st.serving);

        /* Drop everything when the status turns bad (sessions from before it), and again when
         * it recovers (sessions a TLS 1.2 client made meanwhile, e.g. with a revoked staple
         * that a later good response replaced): once per change, not on every handshake
         * while it lasts (a ticket is written on every full TLS 1.3 handshake). */
        stapler_tls_lock(config);
        if (bad != config->status_bad[identity]) {
            config->status_bad[identity] = bad;
            stapler_tls_flush_locked(config, identity);
        }
        stapler_tls_unlock(config);
        if (bad) {
            return 0;
        }
    }
    return st.state == STAPLER_IDENTITY_NOT_APPLICABLE ||
           (st.state == STAPLER_IDENTITY_SERVING && st.serving && st.remaining > 0);
}

/* A cached session or a ticket of this identity is to be looked up: may it resume? A
 * refusal is counted. */
static int stapler_tls_resume_allowed(stapler_tls_config_t *config, unsigned identity)
{
    int64_t remaining;

    if (stapler_tls_may_resume(config, identity, &remaining)) {
        return 1;
    }
    stapler_tls_lock(config);
    config->resumptions_refused++;
    stapler_tls_unlock(config);
    return 0;
}

/* The cache and ticket callbacks get the session (each server session has its own Mbed TLS
 * configuration for that), so the identity is the one the connection's SNI picked. The TLS
 * 1.2 cache is looked up after every extension is read, so the SNI is known by then. */
#if defined(MBEDTLS_SSL_CACHE_C)
static int stapler_tls_cache_get(void *data, unsigned char const *session_id, size_t session_id_len,
                                 mbedtls_ssl_session *session)
{
    stapler_tls_session_t *s = data;
    stapler_tls_config_t *config = s->config;
    int ret;

    if (!stapler_tls_resume_allowed(config, s->identity)) {
        return MBEDTLS_ERR_SSL_CACHE_ENTRY_NOT_FOUND;
    }
    stapler_tls_lock(config);
    ret = mbedtls_ssl_cache_get(&config->cache[s->identity], session_id, session_id_len, session);
    config->resumed += ret == 0 ? 1u : 0u;
    stapler_tls_unlock(config);
    return ret;
}

static int stapler_tls_cache_set(void *data, unsigned char const *session_id, size_t session_id_len,
                                 const mbedtls_ssl_session *session)
{
    stapler_tls_session_t *s = data;
    stapler_tls_config_t *config = s->config;
    int ret;

    stapler_tls_lock(config);
    ret = mbedtls_ssl_cache_set(&config->cache[s->identity], session_id, session_id_len, session);
    stapler_tls_unlock(config);
    return ret;
}
#endif

#if defined(MBEDTLS_SSL_TICKET_C)
/* A ticket is one byte naming the identity, then Mbed TLS's ticket under that identity's
 * keys: the byte is not secret, and a changed one points at keys the rest does not decrypt
 * under. */
static int stapler_tls_ticket_write(void *p_ticket, const mbedtls_ssl_session *session, unsigned char *start,
                                    const unsigned char *end, size_t *tlen, uint32_t *lifetime)
{
    stapler_tls_session_t *s = p_ticket;
    stapler_tls_config_t *config = s->config;
    int64_t remaining = 0;
    int ret;

    if (end - start < 1) {
        return MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL;
    }
    if (!stapler_tls_may_resume(config, s->identity, &remaining)) {
        /* Nothing to resume into later. Mbed TLS cannot leave the ticket out here (an error
         * ends the handshake), so it goes out with lifetime 0: "discard immediately" to a
         * TLS 1.3 client (RFC 8446 4.6.1); and it is refused like any ticket while the
         * status does not allow resumption. */
        remaining = 0;
    }
    start[0] = (unsigned char) s->identity;
    stapler_tls_lock(config);
    ret = mbedtls_ssl_ticket_write(&config->ticket[s->identity], session, start + 1, end, tlen, lifetime);
    stapler_tls_unlock(config);
    if (ret == 0) {
        *tlen += 1;
        /* Never longer than the staple that authenticated the session. */
        if (remaining < (int64_t) *lifetime) {
            *lifetime = (uint32_t) remaining;
        }
    }
    return ret;
}

/* TLS 1.3 reads the pre_shared_key extension last, after the SNI; a TLS 1.2 client may send
 * its ticket before its server_name: then the ticket is taken only for the identity
 * presented without SNI, and the SNI callback refuses a name of another one (ticket_taken). */
static int stapler_tls_ticket_parse(void *p_ticket, mbedtls_ssl_session *session, unsigned char *buf, size_t len)
{
    stapler_tls_session_t *s = p_ticket;
    stapler_tls_config_t *config = s->config;
    int ret;

    if (len < 1 || buf[0] >= STAPLER_MAX_IDENTITIES || !config->presents[buf[0]]) {
        return MBEDTLS_ERR_SSL_INVALID_MAC; /* not one of ours */
    }
    if (buf[0] != s->identity) {
        /* Made under another identity than the name asked for (RFC 6066 3): a full
         * handshake instead. */
        stapler_tls_lock(config);
        config->resumptions_other_name++;
        stapler_tls_unlock(config);
        return MBEDTLS_ERR_SSL_INVALID_MAC;
    }
    if (!stapler_tls_resume_allowed(config, s->identity)) {
        return MBEDTLS_ERR_SSL_SESSION_TICKET_EXPIRED;
    }
    stapler_tls_lock(config);
    ret = mbedtls_ssl_ticket_parse(&config->ticket[s->identity], session, buf + 1, len - 1);
    config->resumed += ret == 0 ? 1u : 0u;
    stapler_tls_unlock(config);
    if (ret == 0 && !s->name_seen) {
        s->ticket_taken = 1;
    }
    return ret;
}
#endif

static int stapler_tls_resumption_init(stapler_tls_config_t *config)
{
    unsigned i;
    int ret = 0;

    for (i = 0; i < STAPLER_MAX_IDENTITIES; i++) {
        if (!config->presents[i]) {
            continue;
        }
#if defined(MBEDTLS_SSL_CACHE_C)
        mbedtls_ssl_cache_init(&config->cache[i]);
#endif
#if defined(MBEDTLS_SSL_TICKET_C)
        mbedtls_ssl_ticket_init(&config->ticket[i]);
        if (ret == 0) {
            ret = stapler_mbedtls_platform_ticket_setup(&config->ticket[i], CONFIG_STAPLER_TLS_TICKET_LIFETIME_S);
        }
#endif
    }
    config->resumption = 1;
    return ret;
}

static void stapler_tls_resumption_free(stapler_tls_config_t *config)
{
    unsigned i;

    for (i = 0; i < STAPLER_MAX_IDENTITIES; i++) {
        if (config->presents[i]) {
#if defined(MBEDTLS_SSL_CACHE_C)
            mbedtls_ssl_cache_free(&config->cache[i]);
#endif
#if defined(MBEDTLS_SSL_TICKET_C)
            mbedtls_ssl_ticket_free(&config->ticket[i]);
#endif
        }
    }
    config->resumption = 0;
}
#endif /* CONFIG_STAPLER_TLS_RESUMPTION */

#if defined(MBEDTLS_SSL_SRV_C) && defined(MBEDTLS_SSL_SERVER_NAME_INDICATION)
/* Server, select_by_name: the client's host name picks the identity presented, options.
 * identity first, then the others in order. Called while the ClientHello's extensions are
 * read; the cert callback (must-staple), the cache and (in TLS 1.3 always) the ticket come
 * after. */
static int stapler_tls_sni_cb(void *context, mbedtls_ssl_context *ssl, const unsigned char *name, size_t len)
{
    stapler_tls_session_t *s = context;
    stapler_tls_config_t *config = s->config;
    const unsigned first = config->options.identity;
    /* A second ClientHello (after a HelloRetryRequest): Mbed TLS runs the cert callback at
     * the end of every ClientHello it goes on with, the first one's holding that identity's
     * staple perhaps, with or without a name. */
    const int again = s->hello_seen;
    unsigned k, found = STAPLER_MAX_IDENTITIES;

    s->name_seen = 1;
    for (k = 0; k < STAPLER_MAX_IDENTITIES && found == STAPLER_MAX_IDENTITIES; k++) {
        const unsigned i = (first + k) % STAPLER_MAX_IDENTITIES;

        if (config->presents[i] &&
            stapler_cert_matches_host(&config->agent->identity[i].chain, (const char *) name, len)) {
            found = i;
        }
    }
    if (again) {
        /* RFC 8446 4.1.2: the second ClientHello names what the first did (a name the first
         * did not send, or another, could move the connection to an identity whose staple
         * and must-staple rule were never looked at): the same identity, or refused. */
        if ((found == STAPLER_MAX_IDENTITIES ? first : found) == s->identity) {
            return 0;
        }
        {
            stapler_tls_line_t line = { "", 0 };

            stapler_tls_put(&line, "tls: a second ClientHello names another identity (");
            stapler_tls_put_uint(&line, found == STAPLER_MAX_IDENTITIES ? first : found);
            stapler_tls_put(&line, ") than the first (");
            stapler_tls_put_uint(&line, s->identity);
            stapler_tls_put(&line, "): refused");
            stapler_tls_log(s, STAPLER_LOG_WARNING, &line);
        }
        return -1; /* alert unrecognized_name */
    }
    stapler_tls_lock(config);
    if (found == STAPLER_MAX_IDENTITIES) {
        config->sni_unmatched++;
    } else {
        config->sni_matched++;
    }
    stapler_tls_unlock(config);
    if (found == STAPLER_MAX_IDENTITIES || found == s->identity) {
        return 0; /* RFC 6066 3: a server may go on with its default certificate */
    }
    if (s->ticket_taken) {
        /* A TLS 1.2 ticket of the default identity came before this name of another: the
         * session cannot be both (Mbed TLS has taken the ticket already). */
        stapler_tls_line_t line = { "", 0 };

        stapler_tls_put(&line, "tls: a session ticket of identity ");
        stapler_tls_put_uint(&line, s->identity);
        stapler_tls_put(&line, " came before a server_name of identity ");
        stapler_tls_put_uint(&line, found);
        stapler_tls_put(&line, ": refused (the client should not resume across names)");
        stapler_tls_log(s, STAPLER_LOG_WARNING, &line);
        stapler_tls_lock(config);
        config->resumptions_other_name++;
        stapler_tls_unlock(config);
        return -1; /* alert unrecognized_name */
    }
    s->identity = found;
    return mbedtls_ssl_set_hs_own_cert(ssl, &config->agent->identity[found].chain, &config->key[found]);
}
#endif

/* --- The peer's staple ----------------------------------------------------------------- */

/* The issuer of crt: the next certificate of the peer's chain if it signed crt, else a trust
 * anchor whose subject is crt's issuer. */
static const mbedtls_x509_crt *stapler_tls_find_issuer(const mbedtls_x509_crt *crt,
                                                       const mbedtls_x509_crt *trust)
{
    const mbedtls_x509_crt *c;

    /* RFC 5280 7.1: names compared as Mbed TLS's chain check compares them (an issuer
     * field may encode the CA's name otherwise than the CA's subject does) */
    if (crt->next != NULL && crt->next->raw.len > 0 &&
        stapler_cert_name_equal(crt->issuer_raw.p, crt->issuer_raw.len, crt->next->subject_raw.p,
                                crt->next->subject_raw.len)) {
        return crt->next;
    }
    for (c = trust; c != NULL && c->raw.len > 0; c = c->next) {
        if (stapler_cert_name_equal(crt->issuer_raw.p, crt->issuer_raw.len, c->subject_raw.p,
                                    c->subject_raw.len)) {
            return c;
        }
    }
    return NULL;
}

/* The peer's end-entity certificate came without a staple: refused when a staple is
 * required, or when the certificate is must-staple (RFC 7633) and that is enforced. */
static int stapler_tls_no_staple(stapler_tls_session_t *s, const mbedtls_x509_crt *crt)
{
    const stapler_tls_config_t *config = s->config;
    const int must_staple = stapler_cert_must_staple(crt) != 0;

    s->peer.checked = 1;
    s->peer_until = 0; /* no status: nothing for a later resumption to rest on */
    s->peer.must_staple = must_staple;
    if (config->options.peer_staple == STAPLER_TLS_PEER_STAPLE_REQUIRE ||
        (must_staple && config->enforce_peer_must_staple)) {
        s->peer.result = STAPLER_ERR_TLS_PEER_NO_STAPLE;
        return s->peer.result;
    }
    return 0;
}

static int stapler_tls_verify_cb(void *context, mbedtls_ssl_context *ssl,
                                 const mbedtls_x509_crt *chain, int depth,
                                 const unsigned char *der, size_t der_len)
{
    stapler_tls_session_t *s = mbedtls_ssl_get_user_data_p(ssl);
    stapler_tls_config_t *config = context;
    const mbedtls_x509_crt *crt = chain;
    const mbedtls_x509_crt *issuer;
    stapler_ocsp_response_t response;
    stapler_ocsp_policy_t policy;
    stapler_ocsp_result_t result;
    int i, ret;

    if (s == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    for (i = 0; i < depth && crt != NULL; i++) {
        crt = crt->next;
    }
    if (crt == NULL) {
        return 0;
    }
    if (der == NULL) {
        /* Only the end-entity certificate is reported without a staple. */
        return stapler_tls_no_staple(s, crt);
    }
    s->peer.count++;
    if (depth == 0) {
        s->peer.checked = 1;
        s->peer.length = der_len;
        s->peer.must_staple = stapler_cert_must_staple(crt) != 0;
        if (config->options.peer_staple_seen != NULL) {
            config->options.peer_staple_seen(s, der, der_len);
        }
    }
    issuer = stapler_tls_find_issuer(crt, config->options.trust);
    if (issuer == NULL) {
        s->peer.result = STAPLER_ERR_TLS_PEER_NO_ISSUER;
        return s->peer.result;
    }
    ret = stapler_ocsp_response_parse(&response, der, der_len);
    if (ret == 0) {
        stapler_ocsp_policy_init(&policy, stapler_agent_now(config->agent, NULL));
        ret = stapler_ocsp_response_verify(&response, crt, issuer, &policy, &result);
    }
    if (ret != 0) {
        s->peer.detail = ret;
        s->peer.result = STAPLER_ERR_TLS_PEER_BAD_STAPLE;
        return s->peer.result;
    }
    if (depth == 0) {
        s->peer.cert_status = result.single.cert_status;
    }
    if (result.single.cert_status == STAPLER_OCSP_REVOKED) {
        s->peer.result = STAPLER_ERR_TLS_PEER_REVOKED;
        return s->peer.result;
    }
    if (result.single.cert_status != STAPLER_OCSP_GOOD) {
        s->peer.result = STAPLER_ERR_TLS_PEER_UNKNOWN;
        return s->peer.result;
    }
    {
        /* How long this status holds: what a session resumed later may rest on. */
        const int64_t until = result.single.has_next_update
                                  ? result.single.next_update
                                  : result.single.this_update + CONFIG_STAPLER_MAX_AGE_WITHOUT_NEXT_UPDATE_S;

        if (depth == 0 && s->peer_until == INT64_MAX) {
            s->peer_until = until;
        } else if (until < s->peer_until) {
            s->peer_until = until;
        }
    }
    return 0;
}

/* Mbed TLS is built without MBEDTLS_HAVE_TIME_DATE: the peer's certificates' validity periods are
 * checked here, at the agent's time. Without trusted wall time only "expired" can be told
 * (the agent's time never runs ahead of the truth); "not yet valid" needs trusted time. */
static int stapler_tls_x509_dates(void *context, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    stapler_tls_config_t *config = context;
    int trusted = 0;
    const int64_t now = stapler_agent_now(config->agent, &trusted);
    const int64_t not_after = stapler_ocsp_x509_time(&crt->valid_to);
    const int64_t not_before = stapler_ocsp_x509_time(&crt->valid_from);

    (void) depth;
    if (not_after != INT64_MIN && now > not_after) {
        *flags |= MBEDTLS_X509_BADCERT_EXPIRED;
    }
    if (trusted && not_before != INT64_MIN && now < not_before) {
        *flags |= MBEDTLS_X509_BADCERT_FUTURE;
    }
    return 0;
}

/* Per session: the dates, and the staple rules for a TLS 1.2 client's certificate. TLS 1.2
 * gives a client no way to staple, and the patched Mbed TLS does not hand a TLS 1.2 server
 * the client's (absent) staple at all: without this, a server asking for the peer's staple
 * would accept a TLS 1.2 client's must-staple certificate, or any client certificate under
 * STAPLER_TLS_PEER_STAPLE_REQUIRE, without a look (found by tests/fuzz/fuzz_tls_server).
 * Applied while the chain is verified, the refusal fails the handshake with alert
 * bad_certificate before it completes, and stapler_tls_session_handshake() says why. */
static int stapler_tls_x509_session(void *context, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    stapler_tls_session_t *s = context;
    const int ret = stapler_tls_x509_dates(s->config, crt, depth, flags);

    if (ret == 0 && depth == 0 && s->config->options.endpoint == MBEDTLS_SSL_IS_SERVER &&
        s->config->options.peer_staple != STAPLER_TLS_PEER_STAPLE_IGNORE &&
        mbedtls_ssl_get_version_number(&s->ssl) == MBEDTLS_SSL_VERSION_TLS1_2 &&
        stapler_tls_no_staple(s, crt) != 0) {
        *flags |= MBEDTLS_X509_BADCERT_OTHER;
    }
    return ret;
}

/* --- Transport -------------------------------------------------------------------------- */

static int stapler_tls_bio_send(void *context, const unsigned char *buf, size_t len)
{
    stapler_tls_session_t *s = context;
    int n = s->port->transport.send(s->port->context, s->connection, buf, len);

    if (n == 0) {
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    if (n > 0) {
        s->bytes_out += (uint64_t) n;
    }
    return n;
}

static int stapler_tls_bio_recv(void *context, unsigned char *buf, size_t len)
{
    stapler_tls_session_t *s = context;
    int n = s->port->transport.recv(s->port->context, s->connection, buf, len);

    if (n == 0) {
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    if (n == STAPLER_PORT_ERR_CLOSED) {
        return 0; /* end of stream */
    }
    if (n > 0) {
        s->bytes_in += (uint64_t) n;
    }
    return n;
}

/* --- Configuration ---------------------------------------------------------------------- */

/* One identity's device key, from the credential store into config->key[identity]. */
static int stapler_tls_load_key(stapler_tls_config_t *config, unsigned identity)
{
    stapler_agent_t *agent = config->agent;
    const stapler_identity_credentials_t *cred = &agent->credentials.identity[identity];
    int ret;

    if (agent->identity[identity].chain.raw.len == 0 || cred->key.length == 0) {
        return STAPLER_ERR_AGENT_NO_IDENTITY;
    }
    if (cred->key.length > sizeof(stapler_tls_key_der)) {
        return STAPLER_ERR_BUFFER_TOO_SMALL;
    }
    ret = agent->port->flash.read(agent->port->context, cred->key.offset, stapler_tls_key_der, cred->key.length);
    if (ret == 0) {
        ret = stapler_mbedtls_platform_parse_key(&config->key[identity], &config->key_id[identity],
                                                 stapler_tls_key_der, cred->key.length);
    }
    mbedtls_platform_zeroize(stapler_tls_key_der, sizeof(stapler_tls_key_der));
    return ret;
}

/* The Mbed TLS settings of a configuration, into \p conf: the configuration's own (a
 * client's, and a server's to check them at set-up) or a server session's, whose cache,
 * ticket and SNI callbacks then get that session. */
static int stapler_tls_conf_setup(stapler_tls_config_t *config, mbedtls_ssl_config *conf,
                                  stapler_tls_session_t *session)
{
    const stapler_tls_options_t *options = &config->options;
    stapler_agent_t *agent = config->agent;
    int ret;

    ret = mbedtls_ssl_config_defaults(conf, options->endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        return ret;
    }
    stapler_mbedtls_platform_conf_ssl_rng(conf);
    mbedtls_ssl_conf_min_tls_version(conf, options->min_version);
    mbedtls_ssl_conf_max_tls_version(conf, options->max_version);
    mbedtls_ssl_conf_verify(conf, stapler_tls_x509_dates, config);
    if (options->groups != NULL) {
        mbedtls_ssl_conf_groups(conf, options->groups);
    }
    if (options->endpoint == MBEDTLS_SSL_IS_SERVER) {
        mbedtls_ssl_conf_authmode(conf, options->verify_peer ? MBEDTLS_SSL_VERIFY_REQUIRED
                                                             : MBEDTLS_SSL_VERIFY_NONE);
    } else {
        mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    }
    if (options->trust != NULL) {
        mbedtls_ssl_conf_ca_chain(conf, options->trust, NULL);
    }
    if (config->presents[options->identity]) {
        ret = mbedtls_ssl_conf_own_cert(conf, &agent->identity[options->identity].chain,
                                        &config->key[options->identity]);
        if (ret != 0) {
            return ret;
        }
        mbedtls_ssl_conf_ocsp_staple_cb(conf, stapler_tls_staple_cb, config);
    }
    if (options->endpoint == MBEDTLS_SSL_IS_SERVER) {
        mbedtls_ssl_conf_cert_cb(conf, stapler_tls_cert_cb);
#if defined(MBEDTLS_SSL_SERVER_NAME_INDICATION)
        if (options->select_by_name && session != NULL) {
            mbedtls_ssl_conf_sni(conf, stapler_tls_sni_cb, session);
        }
#endif
#if defined(CONFIG_STAPLER_TLS_RESUMPTION)
        if (config->resumption && session != NULL) {
#if defined(MBEDTLS_SSL_CACHE_C)
            mbedtls_ssl_conf_session_cache(conf, session, stapler_tls_cache_get, stapler_tls_cache_set);
#endif
#if defined(MBEDTLS_SSL_TICKET_C)
            mbedtls_ssl_conf_session_tickets_cb(conf, stapler_tls_ticket_write, stapler_tls_ticket_parse, session);
#endif
        }
#endif
    }
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
    else {
        /* Keep sessions (options.resume): ask for TLS 1.2 tickets and take TLS 1.3 ones; a
         * client that keeps none asks for none. */
        stapler_mbedtls_platform_conf_client_tickets(conf, options->resume);
    }
#endif
    if (options->peer_staple != STAPLER_TLS_PEER_STAPLE_IGNORE) {
        mbedtls_ssl_conf_ocsp_verify_cb(conf, stapler_tls_verify_cb, config);
    }
    return 0;
}

int stapler_tls_config_init(stapler_tls_config_t *config, stapler_agent_t *agent,
                            const stapler_tls_options_t *options)
{
    unsigned i;
    int ret;

    if (config == NULL || agent == NULL || options == NULL || agent->port == NULL ||
        options->identity >= agent->identity_count) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
#if !defined(MBEDTLS_SSL_SERVER_NAME_INDICATION)
    if (options->select_by_name) {
        return STAPLER_ERR_INVALID_ARGUMENT; /* Mbed TLS built without SNI */
    }
#endif
    memset(config, 0, sizeof(*config));
    config->agent = agent;
    config->options = *options;
    config->options.select_by_name = options->select_by_name && options->endpoint == MBEDTLS_SSL_IS_SERVER;
    config->enforce_peer_must_staple = STAPLER_IS_ENABLED(CONFIG_STAPLER_TLS_ENFORCE_PEER_MUST_STAPLE);
    if (config->options.min_version == 0) {
        config->options.min_version = MBEDTLS_SSL_VERSION_TLS1_2;
    }
    if (config->options.max_version == 0) {
        config->options.max_version = MBEDTLS_SSL_VERSION_TLS1_3;
    }
    if (STAPLER_IS_ENABLED(CONFIG_STAPLER_TLS_REQUIRE_PEER_STAPLE) &&
        config->options.peer_staple == STAPLER_TLS_PEER_STAPLE_CHECK) {
        config->options.peer_staple = STAPLER_TLS_PEER_STAPLE_REQUIRE;
    }
    mbedtls_ssl_config_init(&config->conf);
    for (i = 0; i < STAPLER_MAX_IDENTITIES; i++) {
        mbedtls_pk_init(&config->key[i]);
        config->key_id[i] = MBEDTLS_SVC_KEY_ID_INIT;
    }

    /* The keys: the identity's when it presents a certificate; by name, every other
     * identity's that has a chain and a key (one without is left out, not an error). */
    if (options->present_certificate || options->endpoint == MBEDTLS_SSL_IS_SERVER) {
        ret = stapler_tls_load_key(config, options->identity);
        if (ret != 0) {
            goto fail;
        }
        config->presents[options->identity] = 1;
        for (i = 0; config->options.select_by_name && i < agent->identity_count; i++) {
            if (i != options->identity && stapler_tls_load_key(config, i) == 0) {
                config->presents[i] = 1;
            }
        }
    }
#if defined(CONFIG_STAPLER_TLS_RESUMPTION)
    if (options->endpoint == MBEDTLS_SSL_IS_SERVER) {
        ret = stapler_tls_resumption_init(config);
        if (ret != 0) {
            goto fail;
        }
    }
#endif
    ret = stapler_tls_conf_setup(config, &config->conf, NULL);
    if (ret != 0) {
        goto fail;
    }
    return 0;

fail:
    stapler_tls_config_free(config);
    return ret;
}

int stapler_tls_load_trust(stapler_agent_t *agent, unsigned identity, mbedtls_x509_crt *trust)
{
    const stapler_identity_credentials_t *cred;
    unsigned i;

    if (agent == NULL || trust == NULL || identity >= agent->identity_count) {
        return STAPLER_ERR_AGENT_NO_IDENTITY;
    }
    cred = &agent->credentials.identity[identity];
    for (i = 0; i < cred->trust_count; i++) {
        const stapler_flash_span_t *span = &cred->trust[i];
        int ret;

        if (span->length > sizeof(stapler_tls_key_der)) {
            return STAPLER_ERR_BUFFER_TOO_SMALL;
        }
        ret = agent->port->flash.read(agent->port->context, span->offset, stapler_tls_key_der, span->length);
        if (ret == 0) {
            ret = mbedtls_x509_crt_parse_der(trust, stapler_tls_key_der, span->length);
        }
        if (ret != 0) {
            return ret;
        }
    }
    return (int) cred->trust_count;
}

void stapler_tls_config_free(stapler_tls_config_t *config)
{
    unsigned i;

    if (config == NULL) {
        return;
    }
    mbedtls_ssl_config_free(&config->conf);
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
    if (config->has_saved) {
        mbedtls_ssl_session_free(&config->saved);
        config->has_saved = 0;
    }
#endif
#if defined(CONFIG_STAPLER_TLS_RESUMPTION)
    if (config->resumption) {
        stapler_tls_resumption_free(config);
    }
#endif
    for (i = 0; i < STAPLER_MAX_IDENTITIES; i++) {
        stapler_mbedtls_platform_free_key(&config->key[i], &config->key_id[i]);
        config->presents[i] = 0;
    }
}

/* --- Sessions ---------------------------------------------------------------------------- */

#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
/* Client resumption (options.resume): one saved session per configuration, used under the
 * port's lock. */
static void stapler_tls_drop_saved_locked(stapler_tls_config_t *config)
{
    if (config->has_saved) {
        mbedtls_ssl_session_free(&config->saved);
        config->has_saved = 0;
    }
}

/* Offer the saved session, if the peer's status it rests on still holds at the agent's time;
 * else forget it. */
static void stapler_tls_offer_saved(stapler_tls_session_t *s)
{
    stapler_tls_config_t *config = s->config;
    const int64_t now = stapler_agent_now(config->agent, NULL);

    stapler_tls_lock(config);
    if (config->has_saved && now <= config->saved_until &&
        mbedtls_ssl_set_session(&s->ssl, &config->saved) == 0) {
        s->resume_offered = 1;
        s->peer_until = config->saved_until;
    } else {
        stapler_tls_drop_saved_locked(config);
    }
    stapler_tls_unlock(config);
}

/* Keep this connection's session for the next handshake, if a status holds it up. */
static void stapler_tls_save(stapler_tls_session_t *s)
{
    stapler_tls_config_t *config = s->config;

    if (s->peer_until <= stapler_agent_now(config->agent, NULL)) {
        return;
    }
    stapler_tls_lock(config);
    stapler_tls_drop_saved_locked(config);
    mbedtls_ssl_session_init(&config->saved);
    if (mbedtls_ssl_get_session(&s->ssl, &config->saved) == 0) {
        config->has_saved = 1;
        config->saved_until = s->peer_until;
    } else {
        mbedtls_ssl_session_free(&config->saved);
    }
    stapler_tls_unlock(config);
}
#endif

static void stapler_tls_session_over(stapler_tls_session_t *session, int result);

int stapler_tls_session_init(stapler_tls_session_t *session, stapler_tls_config_t *config,
                             const stapler_port_t *port, int connection, const char *server_name)
{
    int ret;

    if (session == NULL || config == NULL || port == NULL || port->transport.send == NULL ||
        port->transport.recv == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    memset(session, 0, sizeof(*session));
    session->config = config;
    session->port = port;
    session->connection = connection;
    session->peer.cert_status = -1;
    /* Lowered to the end of each staple of the peer verified, 0 when its certificate came
     * without one; without asking for staples, the peer's status is no part of the session. */
    session->peer_until = INT64_MAX;
    session->identity = config->options.identity;
    mbedtls_ssl_init(&session->ssl);
#if defined(MBEDTLS_SSL_SRV_C)
    if (config->options.endpoint == MBEDTLS_SSL_IS_SERVER) {
        mbedtls_ssl_config_init(&session->conf);
        session->has_conf = 1;
        ret = stapler_tls_conf_setup(config, &session->conf, session);
        if (ret == 0) {
            ret = mbedtls_ssl_setup(&session->ssl, &session->conf);
        }
    } else
#endif
    {
        ret = mbedtls_ssl_setup(&session->ssl, &config->conf);
    }
    if (ret == 0 && config->options.endpoint == MBEDTLS_SSL_IS_CLIENT) {
        ret = mbedtls_ssl_set_hostname(&session->ssl, server_name);
    }
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
    if (ret == 0 && config->options.endpoint == MBEDTLS_SSL_IS_CLIENT && config->options.resume) {
        stapler_tls_offer_saved(session);
    }
#endif
    if (ret != 0) {
        mbedtls_ssl_free(&session->ssl);
#if defined(MBEDTLS_SSL_SRV_C)
        if (session->has_conf) {
            mbedtls_ssl_config_free(&session->conf);
            session->has_conf = 0;
        }
#endif
        session->config = NULL;
        return ret;
    }
    mbedtls_ssl_set_user_data_p(&session->ssl, session);
    mbedtls_ssl_set_verify(&session->ssl, stapler_tls_x509_session, session);
    mbedtls_ssl_set_bio(&session->ssl, session, stapler_tls_bio_send, stapler_tls_bio_recv, NULL);
    if (config->options.endpoint == MBEDTLS_SSL_IS_CLIENT && config->options.present_certificate &&
        !config->options.test_staple_override &&
        config->agent->identity[session->identity].must_staple) {
        stapler_identity_status_t status;

        /* RFC 7633: every server that honours must-staple rejects our certificate without a
         * staple. A client knows that before it connects, and a ClientHello sent only to be
         * aborted would tell the server nothing it could act on: the session is over at once,
         * before a byte is sent, and stapler_tls_session_handshake() returns why. (A server
         * cannot choose its moment: it refuses from stapler_tls_cert_cb(), with an alert.) */
        if (stapler_agent_status(config->agent, session->identity, &status) != 0 ||
            !status.serving) {
            stapler_tls_session_over(session, STAPLER_ERR_TLS_MUST_STAPLE);
        }
    }
    return 0;
}

stapler_handshake_outcome_t stapler_tls_session_outcome(const stapler_tls_session_t *session)
{
    if (session->result == STAPLER_ERR_TLS_MUST_STAPLE) {
        return STAPLER_HANDSHAKE_REFUSED;
    }
    if (session->staple_sent > 0) {
        return STAPLER_HANDSHAKE_STAPLED;
    }
    if (session->too_large) {
        return STAPLER_HANDSHAKE_TOO_LARGE;
    }
    return session->asked ? STAPLER_HANDSHAKE_NO_STAPLE : STAPLER_HANDSHAKE_NOT_REQUESTED;
}

const char *stapler_tls_error_slug(int result)
{
    switch (result) {
        case 0: return "ok";
        case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE: return "peer_sent_fatal_alert";
        case MBEDTLS_ERR_SSL_CONN_EOF: return "peer_closed";
        case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED: return "peer_certificate_not_trusted";
        case MBEDTLS_ERR_SSL_BAD_CERTIFICATE: return "bad_certificate";
        case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE: return "no_client_certificate";
        case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE: return "handshake_failure";
        case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION: return "protocol_version";
        case MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION: return "unsupported_extension";
        case MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER: return "illegal_parameter";
        case MBEDTLS_ERR_SSL_DECODE_ERROR: return "decode_error";
        case MBEDTLS_ERR_SSL_ALLOC_FAILED: return "tls_out_of_memory";
        case MBEDTLS_ERR_SSL_INVALID_MAC: return "bad_record_mac";
        default: break;
    }
    if (result <= -0x0100 && result > -0x2000) {
        return stapler_error_slug(result); /* Stapler's and the port's codes */
    }
    return "mbedtls_error";
}

/* A must-staple refusal: what was done, then why, from the agent's view of the identity's
 * staple (slugs and numbers; with CONFIG_STAPLER_ERROR_MESSAGES also what to do). */
static void stapler_tls_log_refusal(const stapler_tls_session_t *session)
{
    stapler_tls_config_t *config = session->config;
    const unsigned identity = session->identity;
    stapler_identity_status_t status;
    stapler_tls_line_t line = { "", 0 };

    stapler_tls_put(&line, "tls: identity ");
    stapler_tls_put_uint(&line, identity);
    stapler_tls_put(&line, " is must-staple (RFC 7633) without a valid staple: not presented, ");
    stapler_tls_put(&line, config->options.endpoint == MBEDTLS_SSL_IS_CLIENT ? "handshake not started"
                           : session->alert_sent ? "alert handshake_failure (40) sent" : "alert not sent");
    stapler_tls_log(session, STAPLER_LOG_WARNING, &line);
    if (stapler_agent_status(config->agent, identity, &status) != 0) {
        return;
    }
    line.len = 0;
    stapler_tls_put(&line, "tls: identity ");
    stapler_tls_put_uint(&line, identity);
    stapler_tls_put(&line, ": staple ");
    stapler_tls_put(&line, stapler_agent_state_name(status.state));
    stapler_tls_put(&line, ", last error ");
    stapler_tls_put(&line, status.last_error != 0 ? stapler_error_slug(status.last_error) : "none");
    stapler_tls_put(&line, ", failures ");
    stapler_tls_put_uint(&line, status.consecutive_failures);
    if (status.state == STAPLER_IDENTITY_NO_STAPLE) {
        if (status.fetching) {
            stapler_tls_put(&line, ", fetching");
        } else {
            stapler_tls_put(&line, ", next fetch in ");
            stapler_tls_put_uint(&line, status.next_attempt_in > 0 ? (size_t) status.next_attempt_in : 0u);
            stapler_tls_put(&line, " s");
        }
    }
    if (STAPLER_IS_ENABLED(CONFIG_STAPLER_ERROR_MESSAGES)) {
        stapler_tls_put(&line, status.state == STAPLER_IDENTITY_REVOKED ? ": replace the certificate"
                               : status.state == STAPLER_IDENTITY_NOT_APPLICABLE ? ": provision an OCSP URL (--url)"
                               : ": check the OCSP responder");
    }
    stapler_tls_log(session, STAPLER_LOG_WARNING, &line);
}

/* The handshake is over (either way): let go of the staple and count the outcome, once. */
static void stapler_tls_session_over(stapler_tls_session_t *session, int result)
{
    stapler_tls_config_t *config = session->config;

    if (session->counted || config == NULL) {
        return;
    }
    session->counted = 1;
    session->result = result;
    if (session->held) {
        stapler_agent_staple_release(config->agent, session->identity, session->held_der);
        session->held = 0;
    }
    if (config->options.present_certificate || config->options.endpoint == MBEDTLS_SSL_IS_SERVER) {
        stapler_agent_handshake_done(config->agent, session->identity,
                                     stapler_tls_session_outcome(session));
    }
    if (result == STAPLER_ERR_TLS_MUST_STAPLE) {
        stapler_tls_log_refusal(session);
    } else if (result != 0) {
        stapler_tls_line_t line = { "", 0 };

        stapler_tls_put(&line, "tls: handshake failed: ");
        stapler_tls_put(&line, stapler_tls_error_slug(result));
        stapler_tls_put(&line, " (-0x");
        {
            static const char hex[] = "0123456789abcdef";
            const unsigned v = (unsigned) -result;
            char h[5] = { hex[(v >> 12) & 15u], hex[(v >> 8) & 15u], hex[(v >> 4) & 15u], hex[v & 15u], 0 };
            stapler_tls_put(&line, h);
        }
        stapler_tls_put(&line, ")");
        stapler_tls_log(session, STAPLER_LOG_WARNING, &line);
    }
}

/* stapler_tls_cert_cb() refused: Mbed TLS returned its code and sent nothing, so the alert is
 * ours to send (in the clear: no keys exist yet). While the transport is full, the record
 * waits in Mbed TLS's output buffer and each call flushes it (MBEDTLS_ERR_SSL_WANT_WRITE). */
static int stapler_tls_session_refuse(stapler_tls_session_t *session)
{
    const int ret = mbedtls_ssl_send_alert_message(&session->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                                   MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);

    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return ret;
    }
    session->alert_sent = ret == 0;
    stapler_tls_session_over(session, STAPLER_ERR_TLS_MUST_STAPLE);
    return STAPLER_ERR_TLS_MUST_STAPLE;
}

int stapler_tls_session_handshake(stapler_tls_session_t *session)
{
    int ret;

    if (session == NULL || session->config == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    if (session->counted) {
        return session->result;
    }
    if (session->refusing) {
        return stapler_tls_session_refuse(session);
    }
    ret = mbedtls_ssl_handshake(&session->ssl);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        return ret;
    }
    if (session->refusing) {
        return stapler_tls_session_refuse(session);
    }
    if (ret != 0 && session->peer.result != 0) {
        ret = session->peer.result; /* our own code rather than Mbed TLS's pass-through */
    }
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
    if (ret == 0 && session->resume_offered && !session->peer.checked) {
        /* No Certificate came: the offered session was taken. */
        session->resumed = 1;
        stapler_tls_lock(session->config);
        session->config->resumed++;
        stapler_tls_unlock(session->config);
    }
#endif
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
    if (session->config->options.endpoint == MBEDTLS_SSL_IS_CLIENT && session->config->options.resume) {
        if (ret != 0) {
            /* Refused, a bad or revoked staple, or a failure: resume nothing into this peer. */
            stapler_tls_lock(session->config);
            stapler_tls_drop_saved_locked(session->config);
            stapler_tls_unlock(session->config);
        } else if (mbedtls_ssl_get_version_number(&session->ssl) == MBEDTLS_SSL_VERSION_TLS1_2) {
            stapler_tls_save(session); /* TLS 1.3 tickets come later (stapler_tls_session_read()) */
        }
    }
#endif
    stapler_tls_session_over(session, ret);
    return ret;
}

int stapler_tls_session_write(stapler_tls_session_t *session, const unsigned char *data, size_t len)
{
    return mbedtls_ssl_write(&session->ssl, data, len);
}

int stapler_tls_session_read(stapler_tls_session_t *session, unsigned char *buffer, size_t len)
{
    int ret = mbedtls_ssl_read(&session->ssl, buffer, len);

#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
    if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) {
        /* A TLS 1.3 ticket: kept for the next handshake (options.resume), and the read goes
         * on as if nothing had come. */
        stapler_tls_save(session);
        ret = MBEDTLS_ERR_SSL_WANT_READ;
    }
#endif
    return ret;
}

void stapler_tls_session_free(stapler_tls_session_t *session)
{
    if (session == NULL || session->config == NULL) {
        return;
    }
    if (!session->counted && (session->refusing || session->bytes_out > 0 || session->held)) {
        stapler_tls_session_over(session, session->refusing ? STAPLER_ERR_TLS_MUST_STAPLE : MBEDTLS_ERR_SSL_CONN_EOF);
    }
    if (session->held) {
        stapler_agent_staple_release(session->config->agent, session->identity,
                                     session->held_der);
        session->held = 0;
    }
    if (mbedtls_ssl_is_handshake_over(&session->ssl)) {
        (void) mbedtls_ssl_close_notify(&session->ssl);
    }
    mbedtls_ssl_free(&session->ssl);
#if defined(MBEDTLS_SSL_SRV_C)
    if (session->has_conf) {
        mbedtls_ssl_config_free(&session->conf);
        session->has_conf = 0;
    }
#endif
    session->config = NULL;
}
