/* POSIX platform: see stapler_posix_port.h. */
#define _POSIX_C_SOURCE 200809L

#include "stapler_posix_port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static uint64_t stapler_posix_monotonic_ms(void *context)
{
    struct timespec ts;

    (void) context;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static int stapler_posix_wall_time(void *context, int64_t *utc_seconds, int *trusted)
{
    const stapler_posix_platform_t *platform = context;

    /* A PC's clock is kept by NTP: trusted. */
    *utc_seconds = platform->fixed_time != 0 ? platform->fixed_time : (int64_t) time(NULL);
    *trusted = 1;
    return 0;
}

static int stapler_posix_entropy(void *context, void *buffer, size_t len)
{
    (void) context;
    return getrandom(buffer, len, 0) == (ssize_t) len ? 0 : STAPLER_PORT_ERR_NO_ENTROPY;
}

static void stapler_posix_log(void *context, stapler_log_level_t level, const char *line)
{
    static const char *const names[] = { "", "error", "warning", "info", "debug" };

    (void) context;
    fprintf(stderr, "stapler: %s: %s\n", names[level <= 4 ? level : 0], line);
}

/* The flash functions take the platform as context and forward to its emulator. */
static int stapler_posix_flash_read(void *context, uint32_t offset, void *buffer, size_t len)
{
    stapler_posix_platform_t *platform = context;
    return platform->flash.flash.read(&platform->flash, offset, buffer, len);
}

static int stapler_posix_flash_program(void *context, uint32_t offset, const void *data, size_t len)
{
    stapler_posix_platform_t *platform = context;
    return platform->flash.flash.program(&platform->flash, offset, data, len);
}

static int stapler_posix_flash_erase(void *context, uint32_t offset)
{
    stapler_posix_platform_t *platform = context;
    return platform->flash.flash.erase(&platform->flash, offset);
}

int stapler_posix_platform_open(stapler_posix_platform_t *platform, const char *image_path)
{
    stapler_flash_sim_init(&platform->flash, platform->memory, sizeof(platform->memory),
                           STAPLER_FLASH_SECTOR_SIZE, 16, NULL);
    platform->image_path = image_path;
    platform->fixed_time = 0;
    if (stapler_flash_sim_load(&platform->flash, image_path) != 0) {
        fprintf(stderr, "stapler-sim: cannot load flash image '%s' (%s): it must be %u bytes, as "
                        "`stapler-sim provision` writes it for this configuration\n",
                image_path, errno != 0 ? strerror(errno) : "wrong size", (unsigned) sizeof(platform->memory));
        return -1;
    }
    memset(&platform->port, 0, sizeof(platform->port));
    platform->port.context = platform;
    platform->port.monotonic_ms = stapler_posix_monotonic_ms;
    platform->port.wall_time = stapler_posix_wall_time;
    platform->port.entropy = stapler_posix_entropy;
    platform->port.log = stapler_posix_log;
    platform->port.flash = platform->flash.flash;
    platform->port.flash.read = stapler_posix_flash_read;
    platform->port.flash.program = stapler_posix_flash_program;
    platform->port.flash.erase = stapler_posix_flash_erase;
    return 0;
}

int stapler_posix_platform_save(stapler_posix_platform_t *platform)
{
    if (stapler_flash_sim_save(&platform->flash, platform->image_path) != 0) {
        fprintf(stderr, "stapler-sim: cannot save flash image '%s'\n", platform->image_path);
        return -1;
    }
    return 0;
}
