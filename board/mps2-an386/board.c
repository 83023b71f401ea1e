/* mps2-an386 board services: SysTick, CMSDK UART0, semihosting. See board.h. */
#include "board.h"

#include <stddef.h>

/* CMSDK APB UART0 */
#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *) (UART0_BASE + 0x00u))
#define UART_STATE (*(volatile uint32_t *) (UART0_BASE + 0x04u))
#define UART_CTRL (*(volatile uint32_t *) (UART0_BASE + 0x08u))
#define UART_BAUDDIV (*(volatile uint32_t *) (UART0_BASE + 0x10u))
#define UART_STATE_TX_FULL 0x1u
#define UART_CTRL_TX_ENABLE 0x1u

/* SysTick */
#define SYST_CSR (*(volatile uint32_t *) 0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *) 0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *) 0xE000E018u)

/* ARM semihosting operations */
#define SEMIHOSTING_SYS_OPEN 0x01u
#define SEMIHOSTING_SYS_CLOSE 0x02u
#define SEMIHOSTING_SYS_READ 0x06u
#define SEMIHOSTING_SYS_EXIT_EXTENDED 0x20u
#define SEMIHOSTING_APPLICATION_EXIT 0x20026u

void stapler_board_systick(void);

static volatile uint32_t stapler_board_ms;

void stapler_board_systick(void)
{
    stapler_board_ms++;
}

void stapler_board_init(void)
{
    UART_BAUDDIV = 16u;
    UART_CTRL = UART_CTRL_TX_ENABLE;
    SYST_RVR = STAPLER_BOARD_CPU_HZ / 1000u - 1u;
    SYST_CVR = 0u;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
}

uint32_t stapler_board_millis(void)
{
    return stapler_board_ms;
}

static void stapler_board_putc(char c)
{
    while ((UART_STATE & UART_STATE_TX_FULL) != 0u) {
    }
    UART_DATA = (uint32_t) (unsigned char) c;
}

void stapler_board_puts(const char *text)
{
    while (*text != '\0') {
        if (*text == '\n') {
            stapler_board_putc('\r');
        }
        stapler_board_putc(*text++);
    }
}

void stapler_board_put_unsigned(uint32_t value)
{
    char digits[11];
    size_t n = sizeof(digits) - 1;

    digits[n] = '\0';
    do {
        digits[--n] = (char) ('0' + value % 10u);
        value /= 10u;
    } while (value != 0u && n > 0);
    stapler_board_puts(&digits[n]);
}

static uint32_t stapler_semihosting(uint32_t operation, const void *parameter)
{
    register uint32_t r0 __asm__("r0") = operation;
    register const void *r1 __asm__("r1") = parameter;

    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int stapler_board_entropy(void *buffer, uint32_t length)
{
    static const char path[] = "/dev/urandom";
    const uint32_t open_args[3] = { (uint32_t) (uintptr_t) path, 0u /* "r" */, sizeof(path) - 1u };
    uint32_t handle = stapler_semihosting(SEMIHOSTING_SYS_OPEN, open_args);
    uint32_t read_args[3];
    uint32_t not_read;

    if (handle == 0xFFFFFFFFu) {
        return -1;
    }
    read_args[0] = handle;
    read_args[1] = (uint32_t) (uintptr_t) buffer;
    read_args[2] = length;
    /* SYS_READ returns the number of bytes NOT read. */
    not_read = stapler_semihosting(SEMIHOSTING_SYS_READ, read_args);
    stapler_semihosting(SEMIHOSTING_SYS_CLOSE, &handle);
    return not_read == 0u ? 0 : -1;
}

void stapler_board_exit(int code)
{
    const uint32_t args[2] = { SEMIHOSTING_APPLICATION_EXIT, (uint32_t) code };

    stapler_semihosting(SEMIHOSTING_SYS_EXIT_EXTENDED, args);
    for (;;) {
        __asm volatile("wfi");
    }
}
