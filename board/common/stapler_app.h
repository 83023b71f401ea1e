/**
 * \file stapler_app.h
 * \brief The firmware application every board shares (board/common/stapler_app.c): the
 *        command line, the agent's main loop over lwIP, TLS client and server sessions,
 *        the summary, the self-test and the benchmark words.
 *
 * A board brings up its clock and console, fills one stapler_app_board_t with what the
 * application needs of it, and hands over from its main():
 *
 *     int main(void)
 *     {
 *         stapler_board_init();
 *         return stapler_app_run(&board);
 *     }
 *
 * The application builds the stapler_port_t itself from these hooks: the flash the board
 * opens for the flash= word, the monotonic clock, the wall clock (the board's RTC until
 * two SNTP servers agree, stapler_sntp.h), the entropy source, the log on the console and
 * the lwIP transport. lwIP runs with NO_SYS=1 on the board's netif, driven by one loop:
 * frames in, sys_check_timeouts(), SNTP, stapler_agent_step(), idle. Its state is static;
 * it uses no heap. The board provides the rest of stapler_lwip_port.h (sys_now(), stapler_lwip_rand(), stapler_lwip_assert_failed()).
 *
 * The command-line words are listed at the top of stapler_app.c.
 */
#ifndef STAPLER_APP_H
#define STAPLER_APP_H

#include <stddef.h>
#include <stdint.h>

#include "lwip/netif.h"
#include "stapler_port.h"

/** Exit statuses of stapler_app_run(); the board ends the run with them (QEMU exits with
 *  them). 0x7D..0x7F are left to the board's own fatal stops (lwIP assertion, unexpected
 *  interrupt, CPU fault on mps2-an386). */
enum {
    STAPLER_APP_EXIT_OK = 0,           /**< all that the command line asked for was done */
    STAPLER_APP_EXIT_USAGE = 1,        /**< a bad command-line word; bench-verify failed */
    STAPLER_APP_EXIT_SELFTEST = 2,     /**< a known-answer test failed, or no Mbed TLS */
    STAPLER_APP_EXIT_FLASH = 3,        /**< flash or credentials unusable */
    STAPLER_APP_EXIT_NETWORK = 4,      /**< no Ethernet controller, or no DHCP lease */
    STAPLER_APP_EXIT_HANDSHAKE = 6,    /**< a TLS handshake failed */
    STAPLER_APP_EXIT_POWER_CUT = 0x50, /**< TEST ONLY: the power-cut-at=N cut happened */
    STAPLER_APP_EXIT_FATAL = 0x7C,     /**< Mbed TLS's memory arena is corrupted */
};

/** What the summary reports of the board's flash and Ethernet drivers. */
typedef struct {
    uint32_t flash_programs;
    uint32_t flash_erases;
    uint32_t flash_nor_violations; /**< programs that would have set a bit (a caller's bug) */
    uint32_t net_frames_in;
    uint32_t net_frames_out;
    uint32_t net_dropped;          /**< in and out: errored, no buffer, too long, ... */
    uint32_t net_interrupts;       /**< receive interrupts */
} stapler_app_counters_t;

/**
 * \brief What a board gives the application. Every member is required unless it says
 *        "optional" (NULL or 0 then). The board owns the structure and everything it points
 *        to, which MUST stay valid until stapler_app_run() returns (a `static const` does).
 *        No hook is called from an interrupt; none may block for long (the loop is the only
 *        thread).
 */
typedef struct {
    /** The board as the first line names it: "Stapler VERSION on NAME". */
    const char *name;

    /* ---- Console --------------------------------------------------------------------- */
    /** Write a NUL-terminated string (the summary, the log, the figures). */
    void (*print)(const char *text);
    /** Write an unsigned decimal number. */
    void (*print_unsigned)(uint32_t value);

    /* ---- Time and sleep -------------------------------------------------------------- */
    /** Milliseconds since reset, 64 bits, never going backwards: the agent's monotonic
     *  clock and every timeout here. */
    uint64_t (*millis)(void);
    /** Nanoseconds since reset, to the resolution of the board's finest counter (a board
     *  without one returns millis() * 1000000). Only for the figures ("ns after reset",
     *  "ns in the handshake calls", bench-verify); under QEMU's -icount shift=0 a
     *  nanosecond is one instruction. */
    uint64_t (*nanos)(void);
    /** Sleep until the next interrupt: a received frame or the next timer tick (1 ms on
     *  mps2-an386), at the latest. May simply return. */
    void (*idle)(void);
    /** Optional: the wall clock (UTC seconds; <= 0: not known), read once at boot, e.g. an
     *  RTC. Without it, or until lwIP's SNTP client answers, the wall time is unknown. */
    int64_t (*rtc_seconds)(void);
    /** 1: trust rtc_seconds() as the right time (an RTC set from an authenticated source);
     *  0: the agent treats it as untrusted (docs/DESIGN.md, time). */
    int rtc_trusted;
    /** Fill \p buffer with \p length cryptographically secure random bytes (a TRNG; never
     *  rand()). \return 0, or -1 when there is none. */
    int (*entropy)(void *buffer, uint32_t length);

    /* ---- Run --------------------------------------------------------------------------- */
    /** Optional: the command line, NUL-terminated words separated by spaces, into \p buffer
     *  (\p size bytes); the first word is the program's own name and is skipped. \return 0,
     *  or -1 when there is none or it does not fit. Without one the application boots and
     *  reports, and stops there (no flash= word); a board without a debugger or emulator
     *  returns words of its own here (e.g. "stapler flash=internal run=4294967295"). */
    int (*cmdline)(char *buffer, size_t size);
    /** End the run with \p code (the application calls it only on a fatal error; otherwise
     *  it returns its status from stapler_app_run()). MUST NOT return. */
    void (*exit)(int code);
    /** Optional: read the file \p path (of the emulator's host) into \p buffer, at most
     *  \p size bytes, for bench-verify=DIR. \return its length, or -1. */
    long (*read_file)(const char *path, unsigned char *buffer, size_t size);

    /* ---- Flash --------------------------------------------------------------------------- */
    /** Fill \p flash (stapler_port.h: geometry, read/program/erase with NOR semantics) for
     *  Stapler's region; \p path is the flash= word's value, which a board with one flash
     *  may ignore. \return 0, or -1 with \p why set to a message saying what to do. */
    int (*flash_open)(stapler_port_flash_t *flash, const char *path, const char **why);
    /** Optional, TEST ONLY: cut the power in the middle of flash operation \p operation
     *  (1 = the first program or erase after boot; 0: never) and end the run with
     *  \p exit_code. Without it the word power-cut-at=N is refused. */
    void (*flash_cut_power_at)(uint32_t operation, int exit_code);

    /* ---- Network ----------------------------------------------------------------------- */
    /** netif_add()'s init function for the board's Ethernet controller: sets the MAC
     *  address, the output functions and the link up. \return ERR_OK, or an error when no
     *  controller answers. */
    netif_init_fn netif_init;
    /** Move the received frames into lwIP. Called from the main loop, never from an
     *  interrupt (lwIP is not re-entrant under NO_SYS). */
    void (*netif_poll)(struct netif *netif);
    /** 1 when a frame arrived since the last netif_poll(): the loop then does not sleep. */
    int (*netif_pending)(void);
    /** The controller in "net: NAME MAC ...", e.g. "LAN9118". */
    const char *nic_name;
    /** What "net: " says when netif_init() fails: which controller, where, how to attach it. */
    const char *nic_missing;
    /** The hint in "net: no DHCP lease within 15 s (HINT)". */
    const char *no_lease_hint;

    /* ---- Summary --------------------------------------------------------------------- */
    /** Fill \p counters with the flash and Ethernet drivers' counters since reset. */
    void (*counters)(stapler_app_counters_t *counters);
} stapler_app_board_t;

/**
 * \brief Run the firmware: parse the command line, set up Mbed TLS, boot the agent from
 *        flash (its cached staples verified before the network is up), bring up lwIP with
 *        DHCP, then do what the words ask (handshakes as TLS client and server, running the
 *        agent), print a summary and return.
 * \param hooks The board's hooks (see stapler_app_board_t), kept until the return.
 * \return A STAPLER_APP_EXIT_* status, for the board to end the run with. Fatal errors end
 *         it through hooks->exit() instead.
 */
int stapler_app_run(const stapler_app_board_t *hooks);

#endif /* STAPLER_APP_H */
