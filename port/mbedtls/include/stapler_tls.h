/**
 * \file stapler_tls.h
 * \brief Stapling in Mbed TLS handshakes: the glue between the agent's cache, Stapler's OCSP
 *        code and Mbed TLS patched with MBEDTLS_SSL_OCSP_STAPLING (port/mbedtls/patches).
 *
 * One stapler_tls_config_t per role (client or server) and identity (a server may instead
 * pick, per connection, the identity whose certificate is for the name the client asks for:
 * options.select_by_name); one
 * stapler_tls_session_t per connection, over the port's non-blocking transport (the same
 * one the agent fetches with; port/lwip on a device and in stapler-sim). Everything is
 * static or in Mbed TLS's arena; nothing here blocks: stapler_tls_session_handshake() and
 * the I/O calls return MBEDTLS_ERR_SSL_WANT_READ / _WANT_WRITE until the network has moved.
 *
 * Our staple: the handshake gets a pointer into the agent's cache, held
 * (stapler_agent_staple_hold()) from the moment Mbed TLS asks until the handshake is over,
 * so a refresh landing meanwhile cannot change the bytes being sent. Each handshake is
 * counted once per outcome (stapler_handshake_outcome_t). A must-staple certificate (RFC
 * 7633) without a valid staple is not presented at all: as a server, the ClientHello is read
 * and answered with a fatal handshake_failure alert (40) instead of a ServerHello; as a
 * client, the handshake is not started. Either way the handshake fails with
 * STAPLER_ERR_TLS_MUST_STAPLE, counted as refused, and the port's log says why (the staple's
 * state, the last fetch error, when the next fetch is due).
 *
 * Resumption (a server, CONFIG_STAPLER_TLS_RESUMPTION): TLS 1.2 from the session cache and
 * from tickets, TLS 1.3 from tickets (psk_ke and psk_dhe_ke). No CertificateStatus is sent in
 * an abbreviated TLS 1.2 handshake and no Certificate in a TLS 1.3 PSK one: the peer checked
 * our staple when the session was made. So a session is resumed only while that status still
 * holds: the identity serves a valid good staple (or has no OCSP at all). While our
 * certificate is revoked, or a must-staple identity has no valid staple, nothing is resumed,
 * and the first handshake or resumption attempt that finds so drops every session of that
 * identity made before (its cache is emptied, both its ticket keys are replaced); so does the
 * first one after the status has recovered. A session is resumed only for the identity it
 * was made with (select_by_name: never for another name's identity). A ticket's lifetime is never longer than
 * the staple's remaining validity, nor CONFIG_STAPLER_TLS_TICKET_LIFETIME_S. Mbed TLS's clock
 * for ticket ages is the monotonic clock, so no SNTP answer can make a ticket look young.
 *
 * The peer's staple: requested (ClientHello; a TLS 1.3 server's CertificateRequest) when
 * the configuration asks for it, and checked with Stapler's own RFC 6960 verification at
 * the agent's time once Mbed TLS has verified the peer's chain. A staple that is bad, for
 * another certificate, revoked or unknown aborts the handshake with alert 113
 * (bad_certificate_status_response); so does a missing one when the peer's certificate is
 * must-staple (CONFIG_STAPLER_TLS_ENFORCE_PEER_MUST_STAPLE) or every peer must staple. A
 * TLS 1.2 client has no way to staple: a server that would refuse it for a missing staple
 * refuses its certificate while the chain is verified (alert bad_certificate).
 */
#ifndef STAPLER_TLS_H
#define STAPLER_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/ssl.h"
#if defined(MBEDTLS_SSL_CACHE_C)
#include "mbedtls/ssl_cache.h"
#endif
#if defined(MBEDTLS_SSL_TICKET_C)
#include "mbedtls/ssl_ticket.h"
#endif
#include "stapler/agent.h"
#include "stapler_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What the configuration asks of the peer's staple. */
typedef enum {
    STAPLER_TLS_PEER_STAPLE_IGNORE = 0,  /**< do not ask for it */
    STAPLER_TLS_PEER_STAPLE_CHECK,       /**< ask; check one that comes; must-staple per Kconfig */
    STAPLER_TLS_PEER_STAPLE_REQUIRE,     /**< ask; abort without a good one */
} stapler_tls_peer_staple_t;

struct stapler_tls_session;

/** Options for stapler_tls_config_init(). */
typedef struct {
    int endpoint;                        /**< MBEDTLS_SSL_IS_CLIENT or MBEDTLS_SSL_IS_SERVER */
    unsigned identity;                   /**< whose certificate and key we present */
    int present_certificate;             /**< 0: a client without client authentication */
    mbedtls_x509_crt *trust;             /**< CA certificates for the peer's chain (kept) */
    int verify_peer;                     /**< server: require a client certificate */
    stapler_tls_peer_staple_t peer_staple;
    mbedtls_ssl_protocol_version min_version; /**< 0: TLS 1.2 */
    mbedtls_ssl_protocol_version max_version; /**< 0: TLS 1.3 */
    /** Interoperability tests only: staple these bytes (length 0: nothing) instead of the
     *  agent's verified staple, and skip the must-staple refusal, to see what a peer does
     *  with a bad, unrelated or missing staple. Never set on a device. */
    int test_staple_override;
    const unsigned char *test_staple;
    size_t test_staple_len;
    /** Optional: shown the peer's end-entity staple as it arrived, before it is checked (to
     *  log or keep it; the bytes are valid only during the call). Called from the thread
     *  running the handshake; session->user is the application's. */
    void (*peer_staple_seen)(struct stapler_tls_session *session, const unsigned char *der, size_t len);
    /** Client, CONFIG_STAPLER_TLS_RESUMPTION: keep the newest session (TLS 1.2 ticket or id,
     *  TLS 1.3 ticket, read by stapler_tls_session_read()) and offer it to the next handshake,
     *  only while the peer's staple that authenticated it is still within its validity
     *  (nextUpdate, at the agent's time); a session from a handshake without a verified staple
     *  is kept only when the peer's staple is not asked for (STAPLER_TLS_PEER_STAPLE_IGNORE). */
    int resume;
    /** Server (MBEDTLS_SSL_SERVER_NAME_INDICATION): present, per connection, the identity
     *  whose certificate is for the host name the client sends (SNI, RFC 6066; matched as
     *  stapler_cert_matches_host() does: dNSNames, else the commonName), trying `identity`
     *  first and then the others in order; every identity with a chain and a private key takes
     *  part. A client that names no host, or one no certificate is for, gets `identity`
     *  (the latter counted: sni_unmatched); a second ClientHello (after HelloRetryRequest)
     *  that would pick another identity than the first is refused (unrecognized_name). Its staple, must-staple refusal, outcome counts and
     *  resumption are then that identity's: a session made under one identity is never
     *  resumed under another (RFC 6066 3; the cache and ticket keys are per identity), and a
     *  revocation of one drops only that identity's sessions. */
    int select_by_name;
    /** Optional: the key-exchange groups offered or accepted, in order of preference, ended by
     *  MBEDTLS_SSL_IANA_TLS_GROUP_NONE (kept; NULL: Mbed TLS's defaults). Set it here, not on
     *  config->conf after stapler_tls_config_init(): a server session sets up its own Mbed
     *  TLS configuration from these options. */
    const uint16_t *groups;
} stapler_tls_options_t;

/** Shared by the connections of one role; allocate statically. */
typedef struct {
    /** A client's sessions' Mbed TLS configuration. A server's is set up only to check the
     *  options at stapler_tls_config_init(): each server session sets up its own from the
     *  options (stapler_tls_session_t.conf), so changes made here do not reach them. */
    mbedtls_ssl_config conf;
    stapler_agent_t *agent;
    stapler_tls_options_t options;
    /* Per identity: whether this configuration presents it, its device key (in PSA: key_id,
     * null without PSA). Without select_by_name only options.identity is presented. */
    unsigned char presents[STAPLER_MAX_IDENTITIES];
    mbedtls_pk_context key[STAPLER_MAX_IDENTITIES];
    mbedtls_svc_key_id_t key_id[STAPLER_MAX_IDENTITIES];
    int enforce_peer_must_staple;
    /* Resumption (a server with CONFIG_STAPLER_TLS_RESUMPTION): per identity presented, the
     * cache and the ticket keys, used only under the port's lock (the flush replaces both). */
    int resumption;
#if defined(MBEDTLS_SSL_CACHE_C)
    mbedtls_ssl_cache_context cache[STAPLER_MAX_IDENTITIES];
#endif
#if defined(MBEDTLS_SSL_TICKET_C)
    mbedtls_ssl_ticket_context ticket[STAPLER_MAX_IDENTITIES];
#endif
#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
    mbedtls_ssl_session saved;       /**< client: the session to offer next (options.resume) */
    int has_saved;
    int64_t saved_until;             /**< ... while the agent's time is not past this */
#endif
    uint32_t resumed;                /**< sessions resumed (server: cache or ticket; client: offered and taken) */
    uint32_t resumptions_refused;    /**< a known session or valid ticket not resumed: the status did not allow it */
    uint32_t resumption_flushes;     /**< times every earlier session of an identity was dropped (its status turned
                                          bad: revoked, must-staple without staple; or recovered) */
    uint32_t resumptions_other_name; /**< a session or ticket of another identity than the name asked for: not resumed */
    uint32_t sni_matched;            /**< select_by_name: handshakes whose SNI named a certificate we present */
    uint32_t sni_unmatched;          /**< ... that named none (options.identity presented) */
    int status_bad[STAPLER_MAX_IDENTITIES]; /**< the identity's status allowed no resumption when last looked at */
} stapler_tls_config_t;

/** What happened to the peer's staple in one handshake. */
typedef struct {
    int checked;             /**< the patched Mbed TLS handed us the peer's chain */
    size_t length;           /**< of the end-entity staple, 0 when none came */
    unsigned count;          /**< staples received, intermediates' included */
    int cert_status;         /**< STAPLER_OCSP_GOOD/REVOKED/UNKNOWN of a verified one, else -1 */
    int result;              /**< 0, or why the handshake was aborted (STAPLER_ERR_TLS_*) */
    int detail;              /**< the OCSP error behind STAPLER_ERR_TLS_PEER_BAD_STAPLE */
    int must_staple;         /**< the peer's certificate is must-staple */
} stapler_tls_peer_staple_info_t;

/** One connection. Sessions of one configuration may run in different threads at once
 *  (Mbed TLS built with MBEDTLS_THREADING_C, as STAPLER_THREADS builds it); one session
 *  belongs to one thread at a time. */
typedef struct stapler_tls_session {
    mbedtls_ssl_context ssl;
    stapler_tls_config_t *config;
#if defined(MBEDTLS_SSL_SRV_C)
    /* A server's own copy of the configuration's Mbed TLS settings: the cache, ticket and SNI
     * callbacks get this session as their context (Mbed TLS gives them no SSL context), so
     * they know the identity the connection is for. */
    mbedtls_ssl_config conf;
    int has_conf;
#endif
    unsigned identity;                   /**< the identity presented (a server: as the SNI picked it) */
    int name_seen;                       /**< server: the SNI callback ran */
    int hello_seen;                      /**< server: a ClientHello was read to its end (cert callback) */
    int ticket_taken;                    /**< server: a TLS 1.2 ticket was accepted before the SNI came */
    const stapler_port_t *port;
    int connection;                      /**< the transport's */
    int held;                            /**< we hold the agent's staple ... */
    const unsigned char *held_der;       /**< ... these bytes */
    size_t held_len;
    int asked;                           /**< Mbed TLS asked for our staple */
    int too_large;                       /**< ... and it did not fit */
    size_t staple_sent;                  /**< bytes of our staple given to Mbed TLS */
    int refusing;                        /**< must-staple without a staple: alert to send */
    int alert_sent;                      /**< ... and it went out */
    int counted;                         /**< the outcome was counted */
    int result;                          /**< final handshake result once over */
    stapler_tls_peer_staple_info_t peer;
    int resume_offered;                  /**< client: a saved session was offered */
    int resumed;                         /**< the handshake resumed a session (valid once it is over) */
    int64_t peer_until;                  /**< the peer's verified staples hold until (agent time), 0: none verified */
    uint64_t bytes_out, bytes_in;        /**< TCP payload bytes, for benchmarks */
    void *user;                          /**< the application's: set it after stapler_tls_session_init() (which clears the session) */
} stapler_tls_session_t;

/**
 * \brief Set up a configuration: Mbed TLS defaults for the role, our certificate chain
 *        (from the agent's parsed chain) and private key (read from the credential store),
 *        the peer's trust anchors, stapling both ways, the port's random source.
 * \return 0; STAPLER_ERR_AGENT_NO_IDENTITY when the identity has no chain or no key in
 *         flash; an Mbed TLS error (key parse).
 */
int stapler_tls_config_init(stapler_tls_config_t *config, stapler_agent_t *agent,
                            const stapler_tls_options_t *options);

/**
 * \brief The trust anchors provisioned for an identity (`stapler-sim provision --trust`), parsed
 *        from the credential store into \p trust (initialised by the caller; kept as long as a
 *        configuration uses it). Their one home: a firmware and the simulator load them here.
 *        Set-up time only (it shares the key's scratch buffer).
 * \return the number of anchors (0: none provisioned); STAPLER_ERR_BUFFER_TOO_SMALL (one over
 *         2.5 KiB); STAPLER_ERR_AGENT_NO_IDENTITY; a port or Mbed TLS error.
 */
int stapler_tls_load_trust(stapler_agent_t *agent, unsigned identity, mbedtls_x509_crt *trust);

/** \brief Release what stapler_tls_config_init() allocated (no session may be alive). */
void stapler_tls_config_free(stapler_tls_config_t *config);

/**
 * \brief Start a connection over an open transport \p connection. \p server_name (client
 *        only) is sent as SNI and checked against the server's certificate; NULL for a
 *        server. A client presenting a must-staple identity without a valid staple ends the
 *        session here, before anything is sent: stapler_tls_session_handshake() then returns
 *        STAPLER_ERR_TLS_MUST_STAPLE. (A server decides once the ClientHello is in.)
 * \return 0 or an Mbed TLS error (the arena is full).
 */
int stapler_tls_session_init(stapler_tls_session_t *session, stapler_tls_config_t *config,
                             const stapler_port_t *port, int connection, const char *server_name);

/**
 * \brief Move the handshake on. Call it again after the network stack has run while it
 *        returns MBEDTLS_ERR_SSL_WANT_READ or MBEDTLS_ERR_SSL_WANT_WRITE.
 * \return 0 once the handshake is complete; STAPLER_ERR_TLS_MUST_STAPLE (our certificate
 *         was not presented: a client sent nothing, a server answered the ClientHello with
 *         alert handshake_failure; MBEDTLS_ERR_SSL_WANT_WRITE comes first while that alert
 *         waits for the transport); STAPLER_ERR_TLS_PEER_* (the peer's staple); an Mbed TLS
 *         or port error. From the first final result on, the staple is released and the
 *         outcome counted (once).
 */
int stapler_tls_session_handshake(stapler_tls_session_t *session);

/** \brief Application data, as mbedtls_ssl_write() / mbedtls_ssl_read(). */
int stapler_tls_session_write(stapler_tls_session_t *session, const unsigned char *data, size_t len);
int stapler_tls_session_read(stapler_tls_session_t *session, unsigned char *buffer, size_t len);

/** \brief Send close_notify (best effort), release everything; the transport connection is
 *         the caller's to close. Safe to call at any point after stapler_tls_session_init(). */
void stapler_tls_session_free(stapler_tls_session_t *session);

/** \brief A short snake_case name for a handshake result: Stapler's own codes by their slug,
 *         the usual Mbed TLS ones by what they mean ("peer_sent_fatal_alert", ...). */
const char *stapler_tls_error_slug(int result);

/** \brief The outcome counted for our staple in this handshake (valid once it is over). */
stapler_handshake_outcome_t stapler_tls_session_outcome(const stapler_tls_session_t *session);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_TLS_H */
