/*
 * Stapler firmware for mps2-an386 (Cortex-M4F), as QEMU emulates it: the board's clock and
 * console come up, and the shared application (board/common/stapler_app.c, which lists the
 * command-line words and exit statuses) runs on this board's hooks. Its status goes back to
 * startup.c, which ends the run with it (semihosting: QEMU exits with it).
 */
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "flash.h"
#include "lan9118.h"
#include "semihosting.h"
#include "stapler/config.h"
#include "stapler_app.h"

/* bench-verify=DIR reads the host build's vectors through semihosting. */
static long board_read_file(const char *path, unsigned char *buffer, size_t size)
{
    long len;
    const int handle = stapler_semihosting_open(path, STAPLER_SEMIHOSTING_MODE_RB);

    if (handle < 0) {
        return -1;
    }
    len = stapler_semihosting_length(handle);
    if (len < 0 || (size_t) len > size || stapler_semihosting_read(handle, buffer, (size_t) len) != 0) {
        len = -1;
    }
    stapler_semihosting_close(handle);
    return len;
}

static void board_counters(stapler_app_counters_t *counters)
{
    const stapler_board_flash_stats_t *fs = stapler_board_flash_stats();
    const stapler_lan9118_stats_t *ns = stapler_lan9118_stats();

    counters->flash_programs = fs->programs;
    counters->flash_erases = fs->erases;
    counters->flash_nor_violations = fs->nor_violations;
    counters->net_frames_in = ns->rx_frames;
    counters->net_frames_out = ns->tx_frames;
    counters->net_dropped = ns->rx_dropped + ns->tx_dropped;
    counters->net_interrupts = ns->interrupts;
}

static const stapler_app_board_t board = {
    .name = "mps2-an386 (Cortex-M4F)",
    .print = stapler_board_puts,
    .print_unsigned = stapler_board_put_unsigned,
    .millis = stapler_board_millis,
    .nanos = stapler_board_nanos,
    .idle = stapler_board_idle,
    /* EMULATOR STAND-INS: the PC's clock for an RTC, its /dev/urandom for a TRNG. */
    .rtc_seconds = stapler_board_host_time,
    .rtc_trusted = STAPLER_IS_ENABLED(CONFIG_STAPLER_BOARD_HOST_TIME_TRUSTED),
    .entropy = stapler_board_entropy,
    .cmdline = stapler_semihosting_cmdline,
    .exit = stapler_board_exit,
    .read_file = board_read_file,
    .flash_open = stapler_board_flash_open,
    .flash_cut_power_at = stapler_board_flash_cut_power_at,
    .netif_init = stapler_lan9118_netif_init,
    .netif_poll = stapler_lan9118_poll,
    .netif_pending = stapler_lan9118_pending,
    .nic_name = "LAN9118",
    .nic_missing = "no LAN9118 Ethernet controller answers at 0x40200000 (QEMU: -nic user,model=lan9118)",
    .no_lease_hint = "is the emulator's network attached? -nic user,model=lan9118",
    .counters = board_counters,
};

int main(void)
{
    stapler_board_init();
    return stapler_app_run(&board);
}
