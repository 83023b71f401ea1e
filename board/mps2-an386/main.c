/*
 * Firmware application for mps2-an386. For now: boot, check the cryptography on the target
 * (known-answer tests through Mbed TLS's static arena), bring up lwIP, report on UART0 and
 * exit with a status QEMU passes on (0 = all good). The agent itself arrives with the
 * firmware issue; this image proves the toolchain, the dependencies and the board.
 */
#include <stddef.h>
#include <stdint.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "mbedtls/build_info.h"

#include "board.h"
#include "stapler/error.h"
#include "stapler/selftest.h"
#include "stapler/version.h"
#include "stapler_mbedtls_platform.h"

static void mbedtls_fatal(int status)
{
    (void) status;
    stapler_board_puts("\nfatal: Mbed TLS's memory arena is corrupted\n");
    stapler_board_exit(0x7C);
}

static const stapler_mbedtls_platform_cfg_t mbedtls_cfg = { .fatal_fn = mbedtls_fatal };

static void report_selftest(void *context, const char *name, int result)
{
    unsigned *failed = context;

    stapler_board_puts("  ");
    stapler_board_puts(name);
    stapler_board_puts(result == 0 ? " ok\n" : " FAILED\n");
    if (result != 0) {
        (*failed)++;
    }
}

int main(void)
{
    unsigned run = 0, failed = 0;
    uint32_t started;
    int ret;

    stapler_board_init();
    stapler_board_puts("Stapler " STAPLER_VERSION_STRING " on mps2-an386 (Cortex-M4F)\n");
    stapler_board_puts("Mbed TLS " MBEDTLS_VERSION_STRING ", lwIP " LWIP_VERSION_STRING "\n");

    if (stapler_mbedtls_platform_setup(&mbedtls_cfg) != 0) {
        stapler_board_puts("fatal: Mbed TLS platform setup failed\n");
        return 1;
    }

    started = stapler_board_millis();
    ret = stapler_selftest_run(report_selftest, &failed, &run);
    stapler_board_puts("selftest: ");
    stapler_board_put_unsigned(run - failed);
    stapler_board_puts(" passed, ");
    stapler_board_put_unsigned(failed);
    stapler_board_puts(" failed in ");
    stapler_board_put_unsigned(stapler_board_millis() - started);
    stapler_board_puts(" ms\n");
    if (ret != STAPLER_OK) {
        stapler_board_puts(stapler_error_message(ret));
        stapler_board_puts("\n");
        return 2;
    }

    lwip_init();
    if (netif_list == NULL) {
        stapler_board_puts("fatal: lwIP has no interface after init\n");
        return 3;
    }
    stapler_board_puts("lwIP: up (loopback)\n");
    stapler_board_puts("boot: ok\n");
    return 0;
}
