/**
 * \file flash.h
 * \brief The board's flash for Stapler's region (stapler_port_flash_t).
 *
 * EMULATOR STAND-IN for a real flash controller: QEMU's mps2-an386 emulates no writable
 * flash. The region is RAM at STAPLER_BOARD_FLASH_ADDRESS (PSRAM), which QEMU preloads from
 * the flash image file (`-device loader,file=IMAGE,addr=0x21000000`, tools/qemu-run does
 * it), and every program and erase is also written back to that file through semihosting,
 * so the image survives the emulator's exit and a power cut (killing QEMU) leaves it as a
 * real NOR part would be. NOR semantics are enforced: erased bytes read 0xFF, programming
 * only clears bits, erase works on whole sectors. A real board replaces flash.c with its
 * flash controller's driver behind the same four functions (docs/PORTING.md).
 */
#ifndef STAPLER_BOARD_FLASH_H
#define STAPLER_BOARD_FLASH_H

#include <stdint.h>

#include "stapler_port.h"

/** Where the region lives in the emulated memory map. */
#define STAPLER_BOARD_FLASH_ADDRESS 0x21000000u

/** Counters for the firmware's summary and the power-cut tests. */
typedef struct {
    uint32_t programs;
    uint32_t erases;
    uint32_t operations;      /**< programs + erases, numbered from 1 */
    uint32_t nor_violations;  /**< programs that would have set a bit (a bug in the caller) */
} stapler_board_flash_stats_t;

/**
 * \brief Attach the region to its image file \p path (opened read-write through
 *        semihosting) and fill \p flash. Checks that the file has the region's size, i.e.
 *        that it is the image QEMU preloaded.
 * \return 0, or -1 with \p why set to a message saying what to do.
 */
int stapler_board_flash_open(stapler_port_flash_t *flash, const char *path, const char **why);

/**
 * \brief TEST ONLY: cut the power in the middle of flash operation number \p operation
 *        (1 = the first program or erase after boot): half of its bytes reach the image,
 *        then the emulator exits with \p exit_code, as if the supply had failed. 0: never.
 */
void stapler_board_flash_cut_power_at(uint32_t operation, int exit_code);

/** \brief The counters. */
const stapler_board_flash_stats_t *stapler_board_flash_stats(void);

#endif /* STAPLER_BOARD_FLASH_H */
