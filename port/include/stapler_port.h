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

    /** Optional: one log line (no newline, NUL-terminated, valid only during the call). */
    void (*log)(void *context, stapler_log_level_t level, const char *line);
} stapler_port_t;

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_PORT_H */
