/* stapler-sim's network: the real lwIP stack with one Ethernet netif, attached either to
 * libslirp (user-mode NAT, no privileges: the PC's own services appear at 10.0.2.2) or to a
 * TAP device of a network namespace the caller built. */
#ifndef STAPLER_SIM_NET_H
#define STAPLER_SIM_NET_H

#include <stdint.h>

typedef struct {
    const char *tap;      /* TAP interface name, or NULL for slirp */
    const char *address;  /* static IPv4 address (with TAP, or to skip DHCP), or NULL: DHCP */
    const char *netmask;  /* with address; default 255.255.255.0 */
    const char *gateway;  /* with address; default none */
    const char *dns;      /* DNS server, overriding DHCP's, or NULL */
    int verbose;          /* print the lease */
} stapler_sim_net_options_t;

/** Bring the stack up and wait (bounded) for an address. 0, or -1 with a message printed. */
int stapler_sim_net_start(const stapler_sim_net_options_t *options, uint32_t timeout_ms);

/** Sleep until a frame arrives or \p max_wait_ms pass, then run lwIP on what arrived and
 *  on its timers. */
void stapler_sim_net_poll(uint32_t max_wait_ms);

/** Take the interface down and release slirp or the TAP device. */
void stapler_sim_net_stop(void);

#endif /* STAPLER_SIM_NET_H */
