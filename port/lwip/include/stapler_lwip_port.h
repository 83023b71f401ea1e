/**
 * \file stapler_lwip_port.h
 * \brief What lwIP needs from each platform under Stapler (NO_SYS=1).
 *
 * Every port (POSIX, each board) provides these three functions.
 */
#ifndef STAPLER_LWIP_PORT_H
#define STAPLER_LWIP_PORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * \brief lwIP's millisecond clock (NO_SYS=1 contract): monotonic, wraps at 2^32 ms.
 */
uint32_t sys_now(void);

/**
 * \brief Random 32-bit value for lwIP's ports, IDs and ISNs. MUST come from the platform's
 *        entropy source (not rand()): predictable TCP ISNs and DNS IDs invite spoofing.
 */
uint32_t stapler_lwip_rand(void);

/**
 * \brief An lwIP assertion failed: report \p message with \p file and \p line and stop.
 *        MUST NOT return.
 */
void stapler_lwip_assert_failed(const char *message, const char *file, int line)
#if defined(__GNUC__)
    __attribute__((noreturn))
#endif
    ;

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_LWIP_PORT_H */
