/**
 * \file lan9118.h
 * \brief lwIP netif driver for the SMSC LAN9118 Ethernet controller of the MPS2 boards
 *        (0x40200000, NVIC IRQ 13), NO_SYS=1.
 *
 * Receive is interrupt-driven: the interrupt (RX status FIFO level) only masks itself and
 * flags the main loop, which wakes from WFI, calls stapler_lan9118_poll() to move the
 * received frames into lwIP (never from the interrupt: lwIP is not re-entrant under
 * NO_SYS), and unmasks it again. Transmit is synchronous through the TX data FIFO.
 */
#ifndef STAPLER_BOARD_LAN9118_H
#define STAPLER_BOARD_LAN9118_H

#include <stdint.h>

#include "lwip/err.h"
#include "lwip/netif.h"

/** Frames and errors seen by the driver (for the firmware's summary). */
typedef struct {
    uint32_t rx_frames;
    uint32_t rx_dropped;      /**< errored frames, or no pbuf left in lwIP's pool */
    uint32_t tx_frames;
    uint32_t tx_dropped;      /**< too long, or the TX FIFO did not drain in time */
    uint32_t interrupts;
} stapler_lan9118_stats_t;

/**
 * \brief netif_add() init function: resets the chip, checks its ID, takes the MAC address
 *        the controller holds (QEMU: -nic ...,mac=), enables TX/RX and the receive interrupt.
 * \return ERR_OK, or ERR_IF when no LAN9118 answers at the address.
 */
err_t stapler_lan9118_netif_init(struct netif *netif);

/** \brief Move received frames into lwIP. Call from the main loop (not from an interrupt). */
void stapler_lan9118_poll(struct netif *netif);

/** \brief 1 when the receive interrupt fired and stapler_lan9118_poll() has work. */
int stapler_lan9118_pending(void);

/** \brief The driver's counters. */
const stapler_lan9118_stats_t *stapler_lan9118_stats(void);

/** \brief The interrupt handler (vector 16 + 13). */
void stapler_lan9118_irq(void);

#endif /* STAPLER_BOARD_LAN9118_H */
