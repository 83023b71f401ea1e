/**
 * \file stapler_lwip_transport.h
 * \brief The port contract's transport (stapler_port_transport_t) over lwIP's altcp API.
 *
 * NO_SYS=1: call everything from the main loop that also feeds the netif and runs
 * sys_check_timeouts(); lwIP's callbacks only record what happened, and the core takes it
 * through status()/recv() on its next step. DNS uses lwIP's resolver (configure its
 * servers with dns_setserver(), or let DHCP do it).
 */
#ifndef STAPLER_LWIP_TRANSPORT_H
#define STAPLER_LWIP_TRANSPORT_H

#include "stapler_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Connections open at once, outgoing and accepted together: the agent's fetch, a server
 * connection being served, and one more client waiting in accept() (or a tool's
 * connection). Each needs a tcp_pcb too: lwipopts.h's MEMP_NUM_TCP_PCB must be at least
 * this (lwIP reclaims TIME_WAIT pcbs when its pool runs out).
 */
#ifndef STAPLER_LWIP_CONNECTIONS
#define STAPLER_LWIP_CONNECTIONS 3
#endif

/**
 * Accepted connections open at once (waiting in accept() or handed out and not yet
 * closed). One slot is always left to connect(), so clients of a listener can never keep
 * the agent from fetching.
 */
#ifndef STAPLER_LWIP_ACCEPTED_MAX
#define STAPLER_LWIP_ACCEPTED_MAX (STAPLER_LWIP_CONNECTIONS - 1)
#endif

/** \brief Fill \p transport with the lwIP implementation (the context pointer is unused).
 *         There is one set of slots per program, as there is one lwIP: the slot table is
 *         this file's static state. With NO_SYS=0 every function here, and the transport's,
 *         may be called from any thread (each takes lwIP's core lock); with NO_SYS=1 from the
 *         main loop only. */
void stapler_lwip_transport_init(stapler_port_transport_t *transport);

/** \brief Connections not yet closed, accepted ones included (also those still waiting
 *  in accept()). For tests: every exchange must close its own. */
unsigned stapler_lwip_transport_open_count(void);

/**
 * \brief Listen for TCP clients on \p port, on any local address (IPv4, and IPv6 when the
 * build has it), so a server (e.g. TLS) can run over this stack.
 *
 * One listener at a time: a second call while listening fails (it does not replace the
 * first); call stapler_lwip_transport_unlisten() first. Clients that complete the TCP
 * handshake are taken into a connection slot by lwIP's callback and wait there for
 * stapler_lwip_transport_accept(); a client that finds no slot (all
 * STAPLER_LWIP_CONNECTIONS in use, or STAPLER_LWIP_ACCEPTED_MAX accepted ones open) is
 * aborted (RST) and counted (stapler_lwip_transport_refused_count()).
 *
 * \param port TCP port, 1..65535 (0 is refused: a server needs a port its clients know).
 * \return 0; STAPLER_PORT_ERR_NO_RESOURCES when lwIP has no pcb for the listener;
 *         STAPLER_PORT_ERR_IO when \p port is 0 or already in use, or when already listening.
 */
int stapler_lwip_transport_listen(uint16_t port);

/**
 * \brief Take the next connected client, without waiting.
 *
 * The connection returned is used with the transport's send/recv/status/close like an
 * outgoing one (status() is 1 at once; bytes that arrived before this call are already
 * held for recv(), and the FIN too); the caller MUST close() it. Clients come out oldest
 * first. A client that reset before being taken is dropped quietly and never returned.
 *
 * \return a connection >= 0;
 *         STAPLER_PORT_ERR_CLOSED when no client is waiting (call again on a later step);
 *         STAPLER_PORT_ERR_NO_RESOURCES, once, when clients were refused for want of a
 *         slot since the last call and none is waiting now (close a connection; the next
 *         client may then succeed);
 *         STAPLER_PORT_ERR_IO when not listening.
 */
int stapler_lwip_transport_accept(void);

/**
 * \brief Stop listening (no-op when not listening). Clients still waiting in accept() are
 * aborted; connections already returned by accept() stay open until closed.
 */
void stapler_lwip_transport_unlisten(void);

/** \brief Clients refused (aborted) for want of a slot since start-up. */
unsigned stapler_lwip_transport_refused_count(void);

/**
 * \brief Optional: \p fn is called whenever something happens on a connection or the
 *        listener (data or a FIN arrived, sent data was acknowledged, a connection opened,
 *        failed or was accepted), so a thread waiting to step the core or a TLS session
 *        can wake at once instead of polling. With lwIP NO_SYS=0 it runs in lwIP's tcpip
 *        thread with the core lock held: it must only signal (a semaphore, a condition
 *        variable, an RTOS event flag) and never call back into the transport. NULL stops it.
 */
void stapler_lwip_transport_set_notify(void (*fn)(void *context), void *context);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_LWIP_TRANSPORT_H */
