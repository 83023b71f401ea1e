/* mps2-an386: what lwIP needs (stapler_lwip_port.h). */
#include "stapler_lwip_port.h"

#include "board.h"

uint32_t sys_now(void)
{
    return (uint32_t) stapler_board_millis();
}

uint32_t stapler_lwip_rand(void)
{
    uint32_t value;

    if (stapler_board_entropy(&value, sizeof(value)) != 0) {
        /* Predictable TCP ISNs and DNS IDs invite spoofing: stop rather than guess. */
        stapler_lwip_assert_failed("no entropy for lwIP", __FILE__, __LINE__);
    }
    return value;
}

void stapler_lwip_assert_failed(const char *message, const char *file, int line)
{
    stapler_board_puts("\nlwIP assertion failed: ");
    stapler_board_puts(message);
    stapler_board_puts(" (");
    stapler_board_puts(file);
    stapler_board_puts(":");
    stapler_board_put_unsigned((uint32_t) line);
    stapler_board_puts(")\n");
    stapler_board_exit(0x7D);
}
