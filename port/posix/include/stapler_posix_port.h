/**
 * \file stapler_posix_port.h
 * \brief The POSIX platform for stapler_port_t: CLOCK_MONOTONIC, the system clock (trusted,
 *        or a fixed time for tests and demos), getrandom(), stderr logging, and flash
 *        emulated in RAM and kept in an image file.
 */
#ifndef STAPLER_POSIX_PORT_H
#define STAPLER_POSIX_PORT_H

#include <stdint.h>

#include "stapler/config.h"
#include "stapler_flash_sim.h"
#include "stapler_port.h"

typedef struct {
    stapler_port_t port;
    stapler_flash_sim_t flash;
    unsigned char memory[STAPLER_FLASH_REGION_SIZE];
    int64_t fixed_time;      /**< if non-zero, the wall time reported (trusted) */
    const char *image_path;  /**< where the flash is loaded from and saved to */
} stapler_posix_platform_t;

/**
 * \brief Set up the platform with its flash loaded from \p image_path (which must exist and
 *        have the configured size: `stapler-sim provision` makes it).
 * \return 0, or -1 with a message on stderr.
 */
int stapler_posix_platform_open(stapler_posix_platform_t *platform, const char *image_path);

/** \brief Save the flash back to its image file. \return 0 or -1 with a message. */
int stapler_posix_platform_save(stapler_posix_platform_t *platform);

#endif /* STAPLER_POSIX_PORT_H */
