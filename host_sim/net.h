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
    /* Host forwarding, slirp only: a process on the PC connecting to 127.0.0.1:<host port>
     * (never any other address of the PC) reaches TCP <guest port> of the simulator's lwIP,
     * e.g. a server listening with stapler_lwip_transport_listen(). Both or neither
     * (0 = none). Ignored with a TAP device: the namespace reaches the simulator's address
     * directly. */
    uint16_t hostfwd_host_port;
    uint16_t hostfwd_guest_port;
} stapler_sim_net_options_t;

/** Bring the stack up and wait (bounded) for an address. 0, or -1 with a message printed
 *  (also when the host forward cannot be set up, e.g. its port is in use on the PC). */
int stapler_sim_net_start(const stapler_sim_net_options_t *options, uint32_t timeout_ms);

/** Sleep until a frame arrives or \p max_wait_ms pass, then run lwIP on what arrived and
 *  on its timers. */
/* Open the host forward of the options given to stapler_sim_net_start() (slirp), once the
 * simulator listens behind it. 0, or -1 with a message (the PC's port is taken). */
int stapler_sim_net_forward(void);

void stapler_sim_net_poll(uint32_t max_wait_ms);

/** Take the interface down and release slirp or the TAP device. */
void stapler_sim_net_stop(void);

#endif /* STAPLER_SIM_NET_H */
