/**
 * \file stapler_flash_sim.h
 * \brief NOR flash emulated in RAM (optionally saved to a file), with fault injection.
 *
 * Semantics as stapler_port.h states them: erase sets a whole sector to 0xFF; program
 * ANDs data into the bytes (it can only clear bits). A program that would need to set a 0
 * bit back to 1 is counted in nor_violations: the core must never do it.
 *
 * Fault injection, as littlefs's and mcuboot's simulators do it: with cut_at = N, the N-th
 * program or erase from now is interrupted halfway (a torn write: only the first half of
 * its bytes programmed, or only the first half of the sector erased) and the emulator
 * longjmp()s to *power_cut, as if power had been lost. The test then "reboots" by mounting
 * again on the same memory.
 */
#ifndef STAPLER_FLASH_SIM_H
#define STAPLER_FLASH_SIM_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "stapler_port.h"

typedef struct {
    stapler_port_flash_t flash;   /**< geometry and functions; pass &sim->flash and sim as context */
    unsigned char *memory;        /**< the caller's buffer of flash.size bytes */
    uint32_t *erase_counts;       /**< caller's array, one per sector, or NULL */
    uint64_t operations;          /**< programs + erases so far */
    uint64_t cut_at;              /**< 0: never; else the operation number to interrupt */
    jmp_buf *power_cut;           /**< where to go when the power is cut (required with cut_at) */
    int torn;                     /**< 1: the cut operation is half done; 0: not started */
    uint64_t fail_program_at;     /**< 0: never; else that program silently does nothing (worn cell) */
    unsigned nor_violations;      /**< programs that tried to turn 0 bits into 1 */
} stapler_flash_sim_t;

/** Set up an erased flash of \p size bytes in the caller's \p memory. */
void stapler_flash_sim_init(stapler_flash_sim_t *sim, unsigned char *memory, uint32_t size,
                            uint32_t sector_size, uint32_t program_size, uint32_t *erase_counts);

/** Load the flash contents from \p path (its size must match); 0 or -1 with errno. */
int stapler_flash_sim_load(stapler_flash_sim_t *sim, const char *path);

/** Save the flash contents to \p path (written to a temporary file, then renamed). */
int stapler_flash_sim_save(const stapler_flash_sim_t *sim, const char *path);

#endif /* STAPLER_FLASH_SIM_H */
