/*
 * SMSC LAN9118 lwIP netif driver (see lan9118.h). Register offsets and bits are those of the
 * LAN9118 datasheet (system control and status registers; MAC CSRs reached indirectly
 * through MAC_CSR_CMD/MAC_CSR_DATA).
 */
#include "lan9118.h"

#include <string.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "netif/ethernet.h"

#define LAN9118_BASE 0x40200000u
#define REG(offset) (*(volatile uint32_t *) (LAN9118_BASE + (offset)))

#define RX_DATA_FIFO REG(0x00u)
#define TX_DATA_FIFO REG(0x20u)
#define RX_STATUS_FIFO REG(0x40u)
#define ID_REV REG(0x50u)
#define IRQ_CFG REG(0x54u)
#define INT_STS REG(0x58u)
#define INT_EN REG(0x5Cu)
#define FIFO_INT REG(0x68u)
#define TX_CFG REG(0x70u)
#define HW_CFG REG(0x74u)
#define RX_FIFO_INF REG(0x7Cu)
#define TX_FIFO_INF REG(0x80u)
#define MAC_CSR_CMD REG(0xA4u)
#define MAC_CSR_DATA REG(0xA8u)

#define ID_REV_CHIP(v) ((v) >> 16)
#define LAN9118_CHIP_ID 0x0118u
#define HW_CFG_SRST 0x00000001u
#define IRQ_CFG_TYPE_PUSH_PULL 0x00000001u
#define IRQ_CFG_POL_HIGH 0x00000010u
#define IRQ_CFG_EN 0x00000100u
#define INT_RSFL 0x00000008u     /* RX status FIFO level reached (FIFO_INT: > 0 entries) */
#define TX_CFG_TX_ON 0x00000002u
#define TX_CFG_TXSAO 0x00000004u /* TX status FIFO may overrun: we never need the statuses */
#define MAC_CSR_BUSY 0x80000000u
#define MAC_CSR_READ 0x40000000u
#define MAC_CR 1u
#define MAC_ADDRH 2u
#define MAC_ADDRL 3u
#define MAC_CR_RXEN 0x00000004u
#define MAC_CR_TXEN 0x00000008u
#define MAC_CR_MCPAS 0x00080000u /* pass all multicast (IPv6 neighbour discovery) */
#define MAC_CR_FDPX 0x00100000u
#define RX_STS_ES 0x00008000u    /* error summary */
#define RX_STS_LENGTH(s) (((s) >> 16) & 0x3FFFu)
#define RX_FIFO_INF_STATUS_USED(v) (((v) >> 16) & 0xFFu)
#define TX_FIFO_INF_FREE(v) ((v) & 0xFFFFu)
#define TX_CMD_A_FIRST 0x00002000u
#define TX_CMD_A_LAST 0x00001000u

#define NVIC_ISER0 (*(volatile uint32_t *) 0xE000E100u)
#define LAN9118_IRQ 13u

#define FRAME_MAX 1536u          /* Ethernet frame with VLAN tag and CRC, rounded up */
#define CRC_LEN 4u
#define POLL_SPIN_MAX 100000u    /* bounded waits on the chip (reset, CSR access, TX room) */

static uint32_t frame_words[FRAME_MAX / 4u];
static volatile int rx_pending;
static stapler_lan9118_stats_t stats;

static int mac_csr_wait(void)
{
    uint32_t spin;

    for (spin = 0; spin < POLL_SPIN_MAX; spin++) {
        if ((MAC_CSR_CMD & MAC_CSR_BUSY) == 0u) {
            return 0;
        }
    }
    return -1;
}

static uint32_t mac_csr_read(uint32_t index)
{
    MAC_CSR_CMD = MAC_CSR_BUSY | MAC_CSR_READ | index;
    (void) mac_csr_wait();
    return MAC_CSR_DATA;
}

static void mac_csr_write(uint32_t index, uint32_t value)
{
    MAC_CSR_DATA = value;
    MAC_CSR_CMD = MAC_CSR_BUSY | index;
    (void) mac_csr_wait();
}

void stapler_lan9118_irq(void)
{
    /* Mask, flag, and let the main loop do the work (it unmasks after draining). */
    INT_EN = 0u;
    rx_pending = 1;
    stats.interrupts++;
}

int stapler_lan9118_pending(void)
{
    return rx_pending;
}

const stapler_lan9118_stats_t *stapler_lan9118_stats(void)
{
    return &stats;
}

static err_t lan9118_linkoutput(struct netif *netif, struct pbuf *p)
{
    const uint32_t len = p->tot_len;
    const uint32_t words = (len + 3u) / 4u;
    uint32_t spin, i;

    (void) netif;
    if (len > FRAME_MAX - CRC_LEN) {
        stats.tx_dropped++;
        return ERR_BUF;
    }
    for (spin = 0; TX_FIFO_INF_FREE(TX_FIFO_INF) < words * 4u + 8u; spin++) {
        if (spin == POLL_SPIN_MAX) {
            stats.tx_dropped++;
            return ERR_IF; /* TCP retransmits; ARP/DHCP retry */
        }
    }
    frame_words[words - 1u] = 0u;
    (void) pbuf_copy_partial(p, frame_words, (u16_t) len, 0);
    TX_DATA_FIFO = TX_CMD_A_FIRST | TX_CMD_A_LAST | len;
    TX_DATA_FIFO = (len << 16) | len; /* command B: tag = length, length */
    for (i = 0; i < words; i++) {
        TX_DATA_FIFO = frame_words[i];
    }
    stats.tx_frames++;
    LINK_STATS_INC(link.xmit);
    return ERR_OK;
}

static void lan9118_discard(uint32_t words)
{
    while (words-- > 0u) {
        (void) RX_DATA_FIFO;
    }
}

void stapler_lan9118_poll(struct netif *netif)
{
    if (!rx_pending) {
        return;
    }
    rx_pending = 0;
    INT_STS = INT_RSFL; /* clear first: a frame arriving while we drain sets it again */
    while (RX_FIFO_INF_STATUS_USED(RX_FIFO_INF) > 0u) {
        const uint32_t status = RX_STATUS_FIFO;
        const uint32_t len = RX_STS_LENGTH(status);
        const uint32_t words = (len + 3u) / 4u;
        struct pbuf *p;
        uint32_t i;

        if ((status & RX_STS_ES) != 0u || len <= CRC_LEN + 14u || len > FRAME_MAX) {
            lan9118_discard(words);
            stats.rx_dropped++;
            LINK_STATS_INC(link.err);
            continue;
        }
        for (i = 0; i < words; i++) {
            frame_words[i] = RX_DATA_FIFO;
        }
        p = pbuf_alloc(PBUF_RAW, (u16_t) (len - CRC_LEN), PBUF_POOL);
        if (p == NULL) {
            stats.rx_dropped++; /* lwIP's pool is empty: dropped, as a busy NIC would */
            LINK_STATS_INC(link.memerr);
            continue;
        }
        (void) pbuf_take(p, frame_words, (u16_t) (len - CRC_LEN));
        stats.rx_frames++;
        LINK_STATS_INC(link.recv);
        if (netif->input(p, netif) != ERR_OK) {
            pbuf_free(p);
        }
    }
    INT_EN = INT_RSFL;
}

err_t stapler_lan9118_netif_init(struct netif *netif)
{
    uint32_t spin, high, low;

    if (ID_REV_CHIP(ID_REV) != LAN9118_CHIP_ID) {
        return ERR_IF;
    }
    HW_CFG = HW_CFG_SRST;
    for (spin = 0; (HW_CFG & HW_CFG_SRST) != 0u; spin++) {
        if (spin == POLL_SPIN_MAX) {
            return ERR_IF;
        }
    }
    /* Without IRQ_CFG set this way the line behaves inverted under QEMU. */
    IRQ_CFG = IRQ_CFG_EN | IRQ_CFG_POL_HIGH | IRQ_CFG_TYPE_PUSH_PULL;
    high = mac_csr_read(MAC_ADDRH);
    low = mac_csr_read(MAC_ADDRL);
    netif->hwaddr[0] = (u8_t) low;
    netif->hwaddr[1] = (u8_t) (low >> 8);
    netif->hwaddr[2] = (u8_t) (low >> 16);
    netif->hwaddr[3] = (u8_t) (low >> 24);
    netif->hwaddr[4] = (u8_t) high;
    netif->hwaddr[5] = (u8_t) (high >> 8);
    netif->hwaddr_len = 6;
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->mtu = 1500;
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    netif->output = etharp_output;
#if LWIP_IPV6
    netif->output_ip6 = ethip6_output;
    netif->flags |= NETIF_FLAG_MLD6;
#endif
    netif->linkoutput = lan9118_linkoutput;

    TX_CFG = TX_CFG_TX_ON | TX_CFG_TXSAO;
    mac_csr_write(MAC_CR, MAC_CR_FDPX | MAC_CR_MCPAS | MAC_CR_TXEN | MAC_CR_RXEN);
    FIFO_INT = 0u; /* RSFL as soon as one RX status is waiting */
    INT_STS = 0xFFFFFFFFu;
    INT_EN = INT_RSFL;
    NVIC_ISER0 = 1u << LAN9118_IRQ;
    return ERR_OK;
}
