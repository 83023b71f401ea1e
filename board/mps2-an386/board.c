/* mps2-an386 board services: SysTick, CMSDK UART0, entropy and time. See board.h. */
#include "board.h"

#include <stddef.h>

#include "semihosting.h"

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
#define SYST_RELOAD (STAPLER_BOARD_CPU_HZ / 1000u - 1u)

void stapler_board_systick(void);

static volatile uint64_t stapler_board_ms;

void stapler_board_systick(void)
{
    stapler_board_ms++;
}

void stapler_board_init(void)
{
    UART_BAUDDIV = 16u;
    UART_CTRL = UART_CTRL_TX_ENABLE;
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0u;
    SYST_CSR = 0x7u; /* processor clock, interrupt, enable */
}

uint64_t stapler_board_millis(void)
{
    uint64_t first, second;

    /* Two 32-bit loads: read until the interrupt did not change it in between. */
    do {
        first = stapler_board_ms;
        second = stapler_board_ms;
    } while (first != second);
    return first;
}

uint64_t stapler_board_nanos(void)
{
    uint64_t ms;
    uint32_t count;

    do {
        ms = stapler_board_millis();
        count = SYST_CVR;
    } while (ms != stapler_board_millis());
    return ms * 1000000u + (uint64_t) (SYST_RELOAD - count) * (1000000000u / STAPLER_BOARD_CPU_HZ);
}

void stapler_board_idle(void)
{
    __asm volatile("wfi");
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

int stapler_board_entropy(void *buffer, uint32_t length)
{
    /* EMULATOR STAND-IN: the host's /dev/urandom through semihosting (the AN386 image has
     * no TRNG). A real board reads its TRNG here and fails when its health tests do. */
    static int urandom = -1;

    if (urandom < 0) {
        urandom = stapler_semihosting_open("/dev/urandom", STAPLER_SEMIHOSTING_MODE_RB);
    }
    if (urandom < 0 || stapler_semihosting_read(urandom, buffer, length) != 0) {
        return -1;
    }
    return 0;
}

int64_t stapler_board_host_time(void)
{
    /* EMULATOR STAND-IN for a battery-backed RTC: the PC's clock through semihosting. */
    return stapler_semihosting_time();
}

void stapler_board_exit(int code)
{
    stapler_semihosting_exit(code);
}
