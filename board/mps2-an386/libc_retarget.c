/*
 * C library functions the board supplies itself so that newlib's versions, which reach for
 * the heap, are never linked.
 *
 * rand(): only Mbed TLS's RSA self-test calls it (random padding for its encryption
 * known-answer test; the result does not depend on it). newlib's rand() allocates its state
 * through _REENT_CHECK -> malloc. This one is a heap-free xorshift32 seeded from the board's
 * entropy source. It is NOT for cryptographic use, and nothing in Stapler uses it so.
 */
#include <stdint.h>
#include <stdlib.h>

#include "board.h"

int rand(void)
{
    static uint32_t state;

    while (state == 0u) {
        if (stapler_board_entropy(&state, sizeof(state)) != 0) {
            state = 0x6D2B79F5u; /* any non-zero seed keeps the self-test running */
        }
    }
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return (int) (state & 0x7FFFFFFFu);
}
