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

/** Connections open at once (the agent uses one; a second allows a proxy check or a tool). */
#define STAPLER_LWIP_CONNECTIONS 2

/** \brief Fill \p transport with the lwIP implementation (the context pointer is unused). */
void stapler_lwip_transport_init(stapler_port_transport_t *transport);

/** \brief Connections not yet closed (for tests: every exchange must close its own). */
unsigned stapler_lwip_transport_open_count(void);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_LWIP_TRANSPORT_H */
