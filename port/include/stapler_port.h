/**
 * \file stapler_port.h
 * \brief The only contract between Stapler's core and a platform (docs/PORTING.md).
 *
 * A platform fills one stapler_port_t with its functions and a context pointer, and hands it
 * to the core. The core never blocks and never sleeps: it is stepped with the current time
 * and fed events. Every function here MUST return promptly. Errors are negative values in
 * the port range (-0x1000..-0x1FFF, STAPLER_PORT_ERR_*); the core passes them through.
 */
#ifndef STAPLER_PORT_H
#define STAPLER_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Generic port failure (the platform may use any code in -0x1000..-0x1FFF). */
#define STAPLER_PORT_ERR_IO (-0x1001)
/** An address or length outside the flash region, or not aligned as the geometry says. */
#define STAPLER_PORT_ERR_RANGE (-0x1002)
/** No entropy available now. */
#define STAPLER_PORT_ERR_NO_ENTROPY (-0x1003)

/* Transport errors (stapler_port_transport_t). Each is a distinct fetch class in status. */
/** The host name did not resolve (NXDOMAIN, no DNS server, DNS timeout). */
#define STAPLER_PORT_ERR_DNS (-0x1010)
/** The connection was refused (RST to the SYN, ICMP unreachable). */
#define STAPLER_PORT_ERR_REFUSED (-0x1011)
/** The connection was reset or aborted after it was open. */
#define STAPLER_PORT_ERR_RESET (-0x1012)
/** No connection slot or buffer left in the stack (static pools exhausted). */
#define STAPLER_PORT_ERR_NO_RESOURCES (-0x1013)
/** No route, no address yet, or the link is down. */
#define STAPLER_PORT_ERR_UNREACHABLE (-0x1014)
/** recv(): the peer closed its side and every byte has been read (end of stream). */
#define STAPLER_PORT_ERR_CLOSED (-0x1015)
/** The stack gave up on the connection (retransmissions or SYN retries exhausted). */
#define STAPLER_PORT_ERR_TIMEOUT (-0x1016)

/** Log levels, as CONFIG_STAPLER_LOG_LEVEL counts them. */
typedef enum {
    STAPLER_LOG_ERROR = 1,
    STAPLER_LOG_WARNING = 2,
    STAPLER_LOG_INFO = 3,
    STAPLER_LOG_DEBUG = 4,
} stapler_log_level_t;

/**
 * Flash with NOR semantics, as Stapler uses it: an erased byte reads 0xFF; programming can
 * only clear bits (1 -> 0) and MUST NOT be done twice on the same bytes without an erase in
 * between; erase works on whole sectors. Offsets are relative to the region the platform
 * gives Stapler (the platform maps them to real addresses).
 */
typedef struct {
    uint32_t size;          /**< bytes in the region; a multiple of sector_size */
    uint32_t sector_size;   /**< erase unit in bytes (power of two) */
    uint32_t program_size;  /**< program unit in bytes (power of two, <= 32); offsets and
                                 lengths given to program() are multiples of it */
    /** Read \p len bytes at \p offset. Any alignment. */
    int (*read)(void *context, uint32_t offset, void *buffer, size_t len);
    /** Program \p len bytes at \p offset (aligned to program_size). Returns when done. */
    int (*program)(void *context, uint32_t offset, const void *data, size_t len);
    /** Erase the sector that starts at \p offset (aligned to sector_size). Returns when done. */
    int (*erase)(void *context, uint32_t offset);
} stapler_port_flash_t;

/**
 * A non-blocking, event-driven TCP transport (one implementation: port/lwip over lwIP's
 * raw/altcp API). The network stack runs in the platform's main loop; these functions only
 * start work or hand over what has already happened, and never wait. The main loop steps
 * the core after the stack has processed input or timers, and again when the core's own
 * wait expires (stapler_agent_step()), so the core sees every event promptly.
 *
 * A connection is a small integer >= 0 chosen by the platform. Timeouts of the HTTP
 * exchange (connect, idle, total) are the core's, from monotonic_ms(); the stack's own
 * timers (DNS retries, TCP retransmission) are the platform's.
 */
typedef struct {
    /**
     * Start connecting to \p host (a DNS name or an IPv4/IPv6 literal, without brackets)
     * on TCP \p port. DNS resolution and the handshake go on in the background.
     * \return a connection >= 0, or STAPLER_PORT_ERR_NO_RESOURCES / _UNREACHABLE at once.
     */
    int (*connect)(void *context, const char *host, uint16_t port);
    /**
     * Where the connection stands: 0 while resolving or connecting, 1 once open, or why it
     * failed (STAPLER_PORT_ERR_DNS, _REFUSED, _RESET, _TIMEOUT, _UNREACHABLE, ...).
     */
    int (*status)(void *context, int connection);
    /**
     * Queue up to \p len bytes for sending on an open connection.
     * \return bytes taken (0 when the send buffer is full: try again on a later step), or
     *         an error.
     */
    int (*send)(void *context, int connection, const void *data, size_t len);
    /**
     * Take up to \p len received bytes.
     * \return bytes copied (> 0); 0 when nothing has arrived yet; STAPLER_PORT_ERR_CLOSED
     *         once the peer has closed and everything was read; or another error.
     */
    int (*recv)(void *context, int connection, void *buffer, size_t len);
    /** Close the connection (abort it if it is not open) and forget it. Never fails. */
    void (*close)(void *context, int connection);
} stapler_port_transport_t;

/** The platform. All function pointers are required unless marked optional. */
typedef struct {
    void *context; /**< passed to every function; owned by the platform */

    /** Monotonic milliseconds since an arbitrary start; never goes backwards; 64-bit, so it
     *  does not wrap in the device's lifetime. */
    uint64_t (*monotonic_ms)(void *context);

    /**
     * Wall-clock time, UTC seconds since 1970-01-01. \p trusted is set to 1 only when the
     * platform knows the time is right (SNTP synchronised, battery-backed RTC set by an
     * authenticated source); an MCU may boot with no idea of the date. Returns 0, or a
     * port error if there is no wall clock at all.
     */
    int (*wall_time)(void *context, int64_t *utc_seconds, int *trusted);

    /** Fill \p buffer with \p len bytes from a cryptographically secure source. */
    int (*entropy)(void *context, void *buffer, size_t len);

    /** Flash region for the credential store and the staple cache. */
    stapler_port_flash_t flash;

    /** Optional: the network. Without it (all NULL) the agent never fetches by itself;
     *  responses can still be given to it with stapler_agent_offer(). */
    stapler_port_transport_t transport;

    /** Optional: one log line (no newline, NUL-terminated, valid only during the call). With
     *  threads it may be called from any thread that calls the agent. */
    void (*log)(void *context, stapler_log_level_t level, const char *line);

    /**
     * Optional, both or neither: a mutex for the agent's state, when the agent is called from
     * more than one thread (an RTOS: TLS tasks, the agent's task, a monitor; stapler/agent.h
     * says which call may come from where). NULL with one loop (lwIP NO_SYS=1): nothing is
     * locked then. The agent holds it only for bookkeeping (never across flash, network or
     * signature work) and never calls another port function that could wait while holding
     * it, except monotonic_ms() and wall_time(). It need not be recursive. An RTOS mutex
     * with priority inheritance suits (FreeRTOS xSemaphoreCreateMutexStatic, Zephyr k_mutex).
     */
    void (*lock)(void *context);
    void (*unlock)(void *context);
} stapler_port_t;

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_PORT_H */
