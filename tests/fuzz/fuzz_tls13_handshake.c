/*
 * Fuzz target: the encrypted TLS 1.3 handshake messages where the patch series reads
 * staples and requests for them, reached through a real Mbed TLS peer. The peer runs the
 * handshake with Stapler's side (stapler_tls) in memory; when it comes to the chosen
 * message it sends the fuzzer's bytes instead of its own, with its own handshake keys and
 * transcript (fuzz_tls_support.c, fuzz_write_replacement()), so the message arrives
 * encrypted and authenticated as a real one would and is parsed as one:
 *
 *   mode 0  the server's CertificateRequest: status_request in it (ssl_tls13_client.c),
 *           then Stapler's client staples its certificate in its own Certificate
 *           (ssl_tls13_write_certificate_body(), the room computation, the staple callback)
 *   mode 1  the server's Certificate: the CertificateEntry extensions, one staple per
 *           certificate (mbedtls_ssl_tls13_parse_certificate()), the depths handed to
 *           Stapler's verify callback and its RFC 6960 check
 *   mode 2  the client's Certificate, to Stapler's server that asked for the client's staple
 *
 * Byte 0 chooses the case (fuzz_tls13_case()); the rest is the handshake message body.
 * The seeds are the genuine messages of each case (tests/fuzz/make_tls_seeds.c). Checked
 * besides the sanitizers' (fuzz_tls_close()): the staple is released, a handshake that
 * succeeds never had a refused staple and had a required one verified good.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_tls_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    stapler_tls_session_t session;
    mbedtls_ssl_context peer;
    mbedtls_ssl_config peer_conf;
    fuzz_tls13_case_t c;
    int result;

    if (!ready) {
        fuzz_tls_setup();
        ready = 1;
    }
    if (size < 1) {
        return 0;
    }
    fuzz_tls_reset();
    fuzz_tls13_case(data[0], &c);
    c.replacement.body = data + 1;
    c.replacement.len = size - 1;
    fuzz_tls_open(&session, c.tested);
    fuzz_tls_peer_open(&peer, &peer_conf, &c.peer);
    result = fuzz_tls_run(&session, &peer, &c.replacement, NULL);
    fuzz_tls_close(&session, result);
    fuzz_tls_peer_close(&peer, &peer_conf);
    fuzz_tls_check_arena();
    return 0;
}
