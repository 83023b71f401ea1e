/**
 * \file board.h
 * \brief mps2-an386 board services used by the firmware application.
 */
#ifndef STAPLER_BOARD_H
#define STAPLER_BOARD_H

#include <stdint.h>

/** Core clock of the AN386 image (Hz). */
#define STAPLER_BOARD_CPU_HZ 25000000u

/** Bring up clocks (SysTick, 1 ms), the FPU and the UART console. */
void stapler_board_init(void);

/** Milliseconds since stapler_board_init(); wraps at 2^32. */
uint32_t stapler_board_millis(void);

/** Write a NUL-terminated string to UART0. */
void stapler_board_puts(const char *text);

/** Write an unsigned decimal number to UART0. */
void stapler_board_put_unsigned(uint32_t value);

/**
 * \brief Fill \p buffer with \p length random bytes.
 *
 * EMULATOR STAND-IN: QEMU's mps2-an386 has no TRNG, so this reads the host's /dev/urandom
 * through semihosting. A real board puts its TRNG here.
 * \return 0 on success, -1 if no entropy could be read.
 */
int stapler_board_entropy(void *buffer, uint32_t length);

/**
 * \brief End the run with \p code (semihosting SYS_EXIT_EXTENDED: QEMU exits with it).
 *        On a board without a debugger this stops the core.
 */
void stapler_board_exit(int code) __attribute__((noreturn));

#endif /* STAPLER_BOARD_H */
