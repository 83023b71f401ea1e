/**
 * \file board.h
 * \brief mps2-an386 board services used by the firmware application.
 */
#ifndef STAPLER_BOARD_H
#define STAPLER_BOARD_H

#include <stdint.h>

/** Core clock of the AN386 image (Hz). */
#define STAPLER_BOARD_CPU_HZ 25000000u

/** Bring up clocks (SysTick, 1 ms) and the UART console. */
void stapler_board_init(void);

/** Milliseconds since stapler_board_init() (64 bits: never wraps). */
uint64_t stapler_board_millis(void);

/** Nanoseconds since stapler_board_init(), to SysTick's resolution (40 ns). Under QEMU with
 *  `-icount shift=0` one instruction takes 1 ns, so this counts instructions. */
uint64_t stapler_board_nanos(void);

/** Sleep until the next interrupt (SysTick at the latest, 1 ms). */
void stapler_board_idle(void);

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
 * \brief The PC's clock (UTC seconds), EMULATOR STAND-IN for an RTC: semihosting SYS_TIME.
 *        Whether the firmware trusts it is CONFIG_STAPLER_BOARD_HOST_TIME_TRUSTED.
 */
int64_t stapler_board_host_time(void);

/**
 * \brief End the run with \p code (semihosting SYS_EXIT_EXTENDED: QEMU exits with it).
 *        On a board without a debugger this stops the core.
 */
void stapler_board_exit(int code) __attribute__((noreturn));

#endif /* STAPLER_BOARD_H */
