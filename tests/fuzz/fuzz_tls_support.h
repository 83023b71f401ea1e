/*
 * Shared by the TLS fuzz targets and their seed generator (tests/fuzz/make_tls_seeds.c):
 * Stapler's side of a handshake (stapler_tls over an agent provisioned from the test
 * vectors, with a verified staple), a plain Mbed TLS peer, an in-memory transport, and
 * deterministic randomness, so that a recorded handshake replays byte for byte.
 *
 * Randomness: every random byte (Mbed TLS's f_rng and PSA's external RNG, which both come
 * from the port's entropy hook) is drawn from one of three streams: the tested side's, the
 * peer's and the set-up's. fuzz_tls_reset() restarts the first two before each input. The
 * tested side draws the same bytes whether its peer is live (recording) or replayed from a
 * file (fuzzing), so a peer's recorded flight stays valid: signatures over our random, and
 * the keys derived from our key share.
 */
#ifndef FUZZ_TLS_SUPPORT_H
#define FUZZ_TLS_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/ssl.h"
#include "stapler/agent.h"
#include "stapler_tls.h"

enum { FUZZ_SIDE_TESTED = 0, FUZZ_SIDE_PEER = 1, FUZZ_SIDE_SETUP = 2 };

/** An in-memory byte stream; `fixed` replaces `data` when it replays a file. */
typedef struct {
    unsigned char data[65536];
    const unsigned char *fixed;
    size_t len, read;
    int eof;                 /**< once read to the end: end of stream (else: nothing yet) */
} fuzz_pipe_t;

extern fuzz_pipe_t fuzz_to_tested, fuzz_from_tested;
extern stapler_agent_t fuzz_agent;
extern mbedtls_x509_crt fuzz_peer_crt, fuzz_trust;
extern mbedtls_pk_context fuzz_peer_key;
extern unsigned char fuzz_staple_ec[4096];
extern size_t fuzz_staple_ec_len;

/** Once per process: arena, PSA, vectors, the agent (identity 0: leaf-ec with a verified
 *  staple; identity 1: must-staple leaf without one). Aborts on failure. */
void fuzz_tls_setup(void);

/** Before each input: restart the tested and peer random streams, empty the pipes. */
void fuzz_tls_reset(void);

/** Whose random stream the next calls draw from. */
void fuzz_tls_side(int side);

/** Replay: the tested side reads these bytes, then the end of the stream. */
void fuzz_tls_feed(const unsigned char *data, size_t len);

/** Stapler's configurations, made on first use (from the set-up stream) and kept.
 *  versions: 0 TLS 1.2-1.3, 1 TLS 1.2 only, 2 TLS 1.3 only. */
stapler_tls_config_t *fuzz_tls_server_config(int versions, unsigned identity,
                                             stapler_tls_peer_staple_t peer_staple, int verify_peer, int by_name);
stapler_tls_config_t *fuzz_tls_client_config(int versions, stapler_tls_peer_staple_t peer_staple,
                                             int present_certificate);

/** The configuration an input's first byte selects. Server: bits 0-1 versions (3 as 0),
 *  bit 2 identity 1 (must-staple, no staple), bits 3-4 the peer's staple (ignore, check,
 *  require, check), bit 5 require a client certificate, bit 6 the identity by the client's
 *  SNI (select_by_name; bit 2 the default). Client: bits 0-1 versions, bits 2-3
 *  the peer's staple (check, require, ignore, check), bit 4 present our certificate. */
stapler_tls_config_t *fuzz_tls_server_options(uint8_t options);
stapler_tls_config_t *fuzz_tls_client_options(uint8_t options);

/** Open Stapler's session over the in-memory transport (client: SNI "gateway-ec"). */
void fuzz_tls_open(stapler_tls_session_t *session, stapler_tls_config_t *config);

/** Free it and check what must hold once any handshake is over, whatever the input: the
 *  staple is released, and the verdict on the peer's staple is the one the configuration
 *  asked for. Aborts with a message when not. */
void fuzz_tls_close(stapler_tls_session_t *session, int result);

/** A plain Mbed TLS peer (the other implementation the tested side talks to). */
typedef struct {
    int endpoint;
    mbedtls_ssl_protocol_version min_version, max_version;
    int certificate;       /**< present leaf-ec (a server always does) */
    int staples;           /**< staple good-ec (or `staple`) when asked */
    const unsigned char *staple;
    size_t staple_len;
    int asks_staple;       /**< verify callback: ask for the tested side's staple */
    int authmode;          /**< MBEDTLS_SSL_VERIFY_* */
    const uint16_t *groups;/**< NULL: Mbed TLS's default */
    const char *hostname;  /**< client: SNI and name check (NULL: none) */
} fuzz_peer_options_t;

/** Configure and open the peer (its config must outlive the context). */
void fuzz_tls_peer_open(mbedtls_ssl_context *ssl, mbedtls_ssl_config *conf, fuzz_peer_options_t *o);
void fuzz_tls_peer_close(mbedtls_ssl_context *ssl, mbedtls_ssl_config *conf);

/** One of the peer's TLS 1.3 handshake messages replaced by the fuzzer's: written with the
 *  peer's own keys and transcript instead of the one it would have written in `state`. */
typedef struct {
    int state;             /**< the peer's mbedtls_ssl_states value that writes it */
    unsigned char type;    /**< handshake type */
    const unsigned char *body;
    size_t len;
    int next_state;        /**< where the peer goes on */
    int stop_after;        /**< the peer sends nothing after it */
} fuzz_tls_replacement_t;

/** fuzz_tls13_handshake's cases, chosen by its input's first byte: bits 0-1 which message
 *  of the peer is the fuzzer's (0 the server's CertificateRequest, 1 the server's
 *  Certificate, 2 the client's Certificate, 3 as 1), bit 2 Stapler requires the peer's
 *  staple (else checks it), bit 3 the other direction too (mode 1: client authentication;
 *  mode 2: the client asks for the server's staple). */
typedef struct {
    stapler_tls_config_t *tested;
    fuzz_peer_options_t peer;
    fuzz_tls_replacement_t replacement;
    int tested_state;      /**< the tested side's state that reads the message */
} fuzz_tls13_case_t;

void fuzz_tls13_case(uint8_t options, fuzz_tls13_case_t *c);

/** Run the tested session against the live peer (or, with peer NULL, against the bytes
 *  given to fuzz_tls_feed()) until neither can move. Returns the tested side's result
 *  (MBEDTLS_ERR_SSL_WANT_READ if it still waits). *replaced: the replacement was sent. */
int fuzz_tls_run(stapler_tls_session_t *tested, mbedtls_ssl_context *peer,
                 const fuzz_tls_replacement_t *replacement, int *replaced);

/** The arena must not grow without bound across inputs (caches of long-lived keys fill
 *  once); aborts when it has grown by more than a generous margin since set-up. */
void fuzz_tls_check_arena(void);

/* One fuzz input against Stapler's side of a handshake: the first byte picks the options
 * (options()), the rest is what the peer sends. Sets everything up on the first call. */
void fuzz_tls_one_input(const uint8_t *data, size_t size, stapler_tls_config_t *(*options)(uint8_t));

#endif
