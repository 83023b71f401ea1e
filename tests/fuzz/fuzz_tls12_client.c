/*
 * Fuzz target: Stapler as a TLS client (port/mbedtls/stapler_tls.c over the patched Mbed
 * TLS) reading a hostile server: the input after its first byte is everything the server
 * sends. TLS 1.2 keeps the server's flight in the clear, so this reaches the ServerHello's
 * status_request echo, the CertificateStatus message (mbedtls_ssl_ocsp_parse_certificate_
 * status() and what surrounds it in ssl_tls12_client.c), the hand-over to Stapler's verify
 * callback and its RFC 6960 check of the staple. The seeds are a real Mbed TLS server's
 * flights recorded against this client (tests/fuzz/make_tls_seeds.c); the client's
 * randomness is deterministic, so the server's signature over it still verifies and a
 * recorded handshake replays to its end.
 *
 * Byte 0 chooses the configuration (fuzz_tls_client_options(); TLS 1.3 may be offered, the
 * ServerHello is then still in the clear). Checked besides the sanitizers'
 * (fuzz_tls_close()): a handshake that succeeds has had the server's staple judged as
 * configured (required: a verified good one), never a refused one.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_tls_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_tls_one_input(data, size, fuzz_tls_client_options);
    return 0;
}
