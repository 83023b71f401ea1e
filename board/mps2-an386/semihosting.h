/**
 * \file semihosting.h
 * \brief ARM semihosting calls (BKPT 0xAB) the mps2-an386 board uses under QEMU.
 *
 * EMULATOR ONLY. Semihosting is a debugger/emulator service: on a real board without a
 * debugger attached, BKPT stops the core. Everything here stands in for hardware QEMU's
 * mps2-an386 does not model (writable flash, TRNG, RTC) or is test plumbing (command line,
 * exit code); docs/PORTING.md says what a real board puts in each place.
 */
#ifndef STAPLER_BOARD_SEMIHOSTING_H
#define STAPLER_BOARD_SEMIHOSTING_H

#include <stddef.h>
#include <stdint.h>

/** Open mode values of SYS_OPEN (they index fopen()'s mode strings). */
#define STAPLER_SEMIHOSTING_MODE_RB 1u   /**< "rb" */
#define STAPLER_SEMIHOSTING_MODE_RPB 3u  /**< "r+b" */

/** \return a handle, or -1 when the host cannot open \p path. */
int stapler_semihosting_open(const char *path, uint32_t mode);
void stapler_semihosting_close(int handle);
/** \return 0 when all \p len bytes were read at the current position, else -1. */
int stapler_semihosting_read(int handle, void *buffer, size_t len);
/** \return 0 when all \p len bytes were written at absolute \p position, else -1. */
int stapler_semihosting_write_at(int handle, uint32_t position, const void *data, size_t len);
/** \return the file's length, or -1. */
long stapler_semihosting_length(int handle);
/** \return the host's time in seconds since 1970 (SYS_TIME; 32 bits unsigned, so good
 *  until 2106). */
int64_t stapler_semihosting_time(void);
/** The command line QEMU was started with (-kernel file, then -append text), NUL-terminated.
 *  \return 0, or -1 when there is none or it does not fit. */
int stapler_semihosting_cmdline(char *buffer, size_t size);
/** End the emulation with \p code (SYS_EXIT_EXTENDED; QEMU exits with it). */
void stapler_semihosting_exit(int code) __attribute__((noreturn));

#endif /* STAPLER_BOARD_SEMIHOSTING_H */
