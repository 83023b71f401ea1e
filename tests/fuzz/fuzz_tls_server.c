/*
 * Fuzz target: Stapler as a TLS server (port/mbedtls/stapler_tls.c over the patched Mbed
 * TLS, port/mbedtls/patches) reading a hostile client: the input after its first byte is
 * everything the client sends, in the clear as far as the handshake is in the clear. It
 * reaches status_request in the ClientHello (TLS 1.2 and 1.3, after a HelloRetryRequest
 * too), the staple callback and the agent's hold, the must-staple refusal, and with the
 * seeds (a real Mbed TLS client recorded against this same server, tests/fuzz/
 * make_tls_seeds.c) whole handshakes: the server's randomness is deterministic, so a
 * recorded client flight stays valid.
 *
 * Byte 0 chooses the configuration (fuzz_tls_server_options()). Checked besides the
 * sanitizers' (fuzz_tls_close()): the staple is released, the peer's staple is judged as
 * configured, the arena does not grow without bound.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_tls_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_tls_one_input(data, size, fuzz_tls_server_options);
    return 0;
}
