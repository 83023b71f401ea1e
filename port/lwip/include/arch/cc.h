/*
 * lwIP compiler/platform abstraction for Stapler (gcc/clang, little-endian, both targets).
 * Assertions and randomness go to functions each port provides (stapler_lwip_port.h).
 */
#ifndef STAPLER_LWIP_ARCH_CC_H
#define STAPLER_LWIP_ARCH_CC_H

#include "stapler_lwip_port.h"

/* lwIP's default diagnostics use printf from stdio; Stapler builds lwIP without LWIP_DEBUG
 * and routes assertions to the port instead. */
#define LWIP_PLATFORM_DIAG(x)       do { } while (0)
#define LWIP_PLATFORM_ASSERT(x)     stapler_lwip_assert_failed((x), __FILE__, __LINE__)
#define LWIP_RAND()                 stapler_lwip_rand()

/* Avoid lwIP pulling <sys/time.h> for struct timeval (no sockets here). */
#define LWIP_TIMEVAL_PRIVATE        0

#if defined(STAPLER_LWIP_THREADS) && STAPLER_LWIP_THREADS
/* NO_SYS=0 on lwIP's contrib/ports/unix sys_arch (the host's threaded build): what its
 * own arch/cc.h would give it. An RTOS port sets these in its cc.h. */
typedef unsigned int sys_prot_t;
#if defined(__linux__)
#define LWIP_UNIX_LINUX
#endif
#endif

#endif /* STAPLER_LWIP_ARCH_CC_H */
