/*
 * lwIP options for Stapler, the same on the MCU and in the simulator (lwIP's opt.h documents
 * each one; only the values that differ from lwIP's defaults, or that Stapler relies on, are
 * set here).
 *
 * NO_SYS=1: no OS, no threads. A main loop feeds received frames to the netif and calls
 * sys_check_timeouts(); Stapler's engine is driven from lwIP's raw/altcp callbacks.
 * Memory is static: lwIP's own heap (mem.c) is a fixed array of MEM_SIZE bytes and every
 * other object comes from fixed memp pools. The C library's malloc is never used.
 */
#ifndef STAPLER_LWIPOPTS_H
#define STAPLER_LWIPOPTS_H

/* --- System ----------------------------------------------------------------------------- */
#if defined(STAPLER_LWIP_THREADS) && STAPLER_LWIP_THREADS
/* With an OS (the threaded simulator on lwIP's contrib/ports/unix sys_arch; an RTOS port
 * plugs in its own sys_arch): lwIP's tcpip thread runs the stack and its timers, and other
 * threads call the raw API under the core lock (LOCK_TCPIP_CORE), as port/lwip's transport
 * does. Received frames go to tcpip_input() from the driver's thread or interrupt. No
 * netconn/sockets: the raw API under the core lock needs neither (docs/DESIGN.md). */
#define NO_SYS                      0
#define SYS_LIGHTWEIGHT_PROT        1
#define LWIP_TCPIP_CORE_LOCKING     1
#define LWIP_TCPIP_CORE_LOCKING_INPUT 0
#define TCPIP_MBOX_SIZE             64
#define TCPIP_THREAD_STACKSIZE      0   /* the platform's default (pthreads: 8 MiB; an RTOS: set it) */
#define TCPIP_THREAD_PRIO           1
#define DEFAULT_THREAD_STACKSIZE    0
#define MEMP_NUM_TCPIP_MSG_INPKT    64
/* lwIP checks that every raw API call holds the core lock (contrib/ports/unix sys_arch). */
#define LWIP_ASSERT_CORE_LOCKED()   sys_check_core_locking()
#define LWIP_MARK_TCPIP_THREAD()    sys_mark_tcpip_thread()
#if !defined(__ASSEMBLER__)
void sys_check_core_locking(void);
void sys_mark_tcpip_thread(void);
#endif
#else
#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#endif
#define LWIP_NETCONN                0
#define LWIP_SOCKET                 0
#define LWIP_TIMERS                 1

/* --- Memory: static only ---------------------------------------------------------------- */
#define MEM_LIBC_MALLOC             0
#define MEMP_MEM_MALLOC             0
/* Pointer size: 4 on Cortex-M; 8 on a 64-bit PC, where lwIP's pool headers hold 8-byte
 * pointers (4 there is undefined behaviour, caught by UBSan in the host tests). */
#define MEM_ALIGNMENT               __SIZEOF_POINTER__
#if defined(STAPLER_LWIP_THREADS) && STAPLER_LWIP_THREADS
/* A server for several TLS clients at once (the load test: 8 clients and their 8 server
 * sides over the loopback netif, plus the agent's fetch): room for all of them. */
#define MEM_SIZE                    (512 * 1024)
#define MEMP_NUM_PBUF               128
#define MEMP_NUM_UDP_PCB            4
#define MEMP_NUM_TCP_PCB            48
#define MEMP_NUM_TCP_PCB_LISTEN     2
#define MEMP_NUM_TCP_SEG            512
#define PBUF_POOL_SIZE              256
#else
#define MEM_SIZE                    (16 * 1024)
#define MEMP_NUM_PBUF               16
#define MEMP_NUM_UDP_PCB            4
#define MEMP_NUM_TCP_PCB            4
#define MEMP_NUM_TCP_PCB_LISTEN     2
#define MEMP_NUM_TCP_SEG            32
#define PBUF_POOL_SIZE              16
#endif
#define PBUF_POOL_BUFSIZE           LWIP_MEM_ALIGN_SIZE(TCP_MSS + 40 + PBUF_LINK_ENCAPSULATION_HLEN + PBUF_LINK_HLEN)

/* --- Protocols -------------------------------------------------------------------------- */
#define LWIP_IPV4                   1
#define LWIP_IPV6                   1
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_ICMP                   1
#define LWIP_UDP                    1
#define LWIP_TCP                    1
#define LWIP_DHCP                   1
/* No address conflict probing after DHCP: it costs ~6 s at every boot, before the first
 * fetch can start, and a DHCP server hands out each address once. */
#define LWIP_DHCP_DOES_ACD_CHECK    0
#define LWIP_DNS                    1
#define DNS_MAX_SERVERS             2
#define LWIP_ALTCP                  1
/* IPv6 reassembly keeps a pointer inside the fragment header's 8 bytes, which only fits
 * with 32-bit pointers; a 64-bit PC copies the header aside instead (lwIP asserts this). */
#if __SIZEOF_POINTER__ > 4
#define IPV6_FRAG_COPYHEADER        1
#endif
#define TCP_MSS                     1460
#define TCP_WND                     (4 * TCP_MSS)
#define TCP_SND_BUF                 (4 * TCP_MSS)
#define TCP_SND_QUEUELEN            ((4 * (TCP_SND_BUF) + (TCP_MSS - 1)) / (TCP_MSS))
#define LWIP_TCP_KEEPALIVE          0

/* --- Netif ------------------------------------------------------------------------------ */
#define LWIP_NETIF_STATUS_CALLBACK  1
#define LWIP_NETIF_LINK_CALLBACK    1
#define LWIP_NETIF_HOSTNAME         1
#define LWIP_NETIF_LOOPBACK         1
#define LWIP_HAVE_LOOPIF            1
#define LWIP_LOOPBACK_MAX_PBUFS     8

/* --- SNTP: the firmware's own client (board/common/stapler_sntp.c: several servers, two
 * must agree) uses the raw UDP API and DNS; lwIP's apps/sntp is not built. --------------- */

/* --- Diagnostics: counters yes, lwIP's printf-based debug output no -------------------- */
#define LWIP_STATS                  1
#define LWIP_STATS_DISPLAY          0

#endif /* STAPLER_LWIPOPTS_H */
