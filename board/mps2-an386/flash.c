/*
 * EMULATOR STAND-IN for a flash controller (see flash.h): NOR semantics over RAM that QEMU
 * preloaded from the image file, with every change written back to the file through
 * semihosting.
 */
#include "flash.h"

#include <string.h>

#include "board.h"
#include "semihosting.h"
#include "stapler/config.h"

#define FLASH_MEMORY ((uint8_t *) STAPLER_BOARD_FLASH_ADDRESS)
#define PROGRAM_SIZE 16u

static int image = -1;
static uint32_t cut_at;
static int cut_exit_code;
static stapler_board_flash_stats_t stats;

static int in_range(uint32_t offset, size_t len)
{
    return offset <= STAPLER_FLASH_REGION_SIZE && len <= STAPLER_FLASH_REGION_SIZE - offset;
}

/* Write the bytes back to the image; a failure here is a host problem (disk full, file
 * removed): report it as the flash failing, so the core keeps the previous record. */
static int write_back(uint32_t offset, size_t len)
{
    return stapler_semihosting_write_at(image, offset, FLASH_MEMORY + offset, len) == 0 ? 0 : STAPLER_PORT_ERR_IO;
}

/* Count the operation; on the one chosen for a power cut, keep only the first half of
 * \p len bytes of the change (the caller has not applied it yet), write them back, stop. */
static size_t cut_point(size_t len)
{
    stats.operations++;
    return cut_at != 0u && stats.operations == cut_at ? len / 2u : len;
}

static void cut_now(void)
{
    stapler_board_puts("\nflash: TEST power cut during flash operation ");
    stapler_board_put_unsigned(stats.operations);
    stapler_board_puts("\n");
    stapler_semihosting_close(image);
    stapler_semihosting_exit(cut_exit_code);
}

static int flash_read(void *context, uint32_t offset, void *buffer, size_t len)
{
    (void) context;
    if (!in_range(offset, len)) {
        return STAPLER_PORT_ERR_RANGE;
    }
    memcpy(buffer, FLASH_MEMORY + offset, len);
    return 0;
}

static int flash_program(void *context, uint32_t offset, const void *data, size_t len)
{
    const uint8_t *bytes = data;
    size_t i, n;
    int ret;

    (void) context;
    if (!in_range(offset, len) || offset % PROGRAM_SIZE != 0u || len % PROGRAM_SIZE != 0u) {
        return STAPLER_PORT_ERR_RANGE;
    }
    stats.programs++;
    n = cut_point(len);
    for (i = 0; i < n; i++) {
        if ((FLASH_MEMORY[offset + i] & bytes[i]) != bytes[i]) {
            stats.nor_violations++; /* NOR cannot set bits: the result is the AND, as on a part */
        }
        FLASH_MEMORY[offset + i] &= bytes[i];
    }
    ret = write_back(offset, n);
    if (n != len) {
        cut_now();
    }
    return ret;
}

static int flash_erase(void *context, uint32_t offset)
{
    size_t n;
    int ret;

    (void) context;
    if (offset % STAPLER_FLASH_SECTOR_SIZE != 0u || !in_range(offset, STAPLER_FLASH_SECTOR_SIZE)) {
        return STAPLER_PORT_ERR_RANGE;
    }
    stats.erases++;
    n = cut_point(STAPLER_FLASH_SECTOR_SIZE);
    memset(FLASH_MEMORY + offset, 0xFF, n);
    ret = write_back(offset, n);
    if (n != STAPLER_FLASH_SECTOR_SIZE) {
        cut_now();
    }
    return ret;
}

int stapler_board_flash_open(stapler_port_flash_t *flash, const char *path, const char **why)
{
    long length;

    image = stapler_semihosting_open(path, STAPLER_SEMIHOSTING_MODE_RPB);
    if (image < 0) {
        *why = "the flash image file cannot be opened for writing through semihosting (does it "
               "exist? make one with `stapler-sim provision`)";
        return -1;
    }
    length = stapler_semihosting_length(image);
    if (length != (long) STAPLER_FLASH_REGION_SIZE) {
        stapler_semihosting_close(image);
        image = -1;
        *why = "the flash image has the wrong size for this firmware's flash layout (provision it "
               "with a stapler-sim built with the same flash Kconfig options)";
        return -1;
    }
    memset(flash, 0, sizeof(*flash));
    flash->size = STAPLER_FLASH_REGION_SIZE;
    flash->sector_size = STAPLER_FLASH_SECTOR_SIZE;
    flash->program_size = PROGRAM_SIZE;
    flash->read = flash_read;
    flash->program = flash_program;
    flash->erase = flash_erase;
    return 0;
}

void stapler_board_flash_cut_power_at(uint32_t operation, int exit_code)
{
    cut_at = operation;
    cut_exit_code = exit_code;
}

const stapler_board_flash_stats_t *stapler_board_flash_stats(void)
{
    return &stats;
}
