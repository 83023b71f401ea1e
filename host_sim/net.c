/* stapler-sim's network: lwIP over libslirp or a TAP device (see net.h). */
#define _GNU_SOURCE

#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "stapler_lwip_transport.h"

#if !NO_SYS
/* The threaded build (STAPLER_THREADS: lwIP NO_SYS=0). lwIP runs in its tcpip thread; a
 * network thread here plays the NIC driver: it polls slirp's sockets and hands received
 * frames to tcpip_input(), as an RTOS driver does from its receive task or interrupt.
 * slirp is not thread-safe, so every slirp call (and the frame queue) is under sim_lock:
 * linkoutput runs in whichever thread holds lwIP's core lock. */
#include <pthread.h>

#include "lwip/tcpip.h"

static pthread_mutex_t sim_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t sim_thread;
static int sim_thread_running; /* under sim_lock */
static int sim_wake[2] = { -1, -1 };
/* Network events (stapler_lwip_transport_set_notify) for stapler_sim_net_poll() waiters. */
static pthread_mutex_t sim_event_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sim_event_cond = PTHREAD_COND_INITIALIZER;
static unsigned long sim_event_generation;
static _Thread_local unsigned long sim_event_seen;
#define SIM_LOCK()   pthread_mutex_lock(&sim_lock)
#define SIM_UNLOCK() pthread_mutex_unlock(&sim_lock)
#else
#define SIM_LOCK()   do { } while (0)
#define SIM_UNLOCK() do { } while (0)
#define LOCK_TCPIP_CORE()   do { } while (0)
#define UNLOCK_TCPIP_CORE() do { } while (0)
#endif

#define FRAME_MAX 1536
#define QUEUE_FRAMES 64
#define POLL_FDS 64
#define SLIRP_TIMERS 4

static struct netif sim_netif;
static Slirp *sim_slirp;
static int sim_tap = -1;
static unsigned char frame_out[FRAME_MAX];

/* Frames from slirp to lwIP, queued: slirp may emit them while lwIP is in the middle of
 * sending (inside linkoutput), and lwIP must not be re-entered. */
static struct {
    unsigned char data[FRAME_MAX];
    size_t len;
} queue[QUEUE_FRAMES];
static unsigned queue_head, queue_count;
#if !NO_SYS
/* Frames from lwIP to slirp (linkoutput), sent by the network thread. */
static struct {
    unsigned char data[FRAME_MAX];
    size_t len;
} tx_queue[QUEUE_FRAMES];
static unsigned tx_head, tx_count;
#endif

static struct pollfd fds[POLL_FDS];
static int fd_count;

typedef struct {
    int used;
    SlirpTimerCb cb;
    void *opaque;
    int64_t expire_ms; /* -1: not armed */
} sim_timer_t;
static sim_timer_t timers[SLIRP_TIMERS];

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- slirp callbacks ------------------------------------------------------------------ */

static ssize_t slirp_send_packet(const void *buf, size_t len, void *opaque)
{
    unsigned slot;

    (void) opaque;
    if (len > FRAME_MAX || queue_count == QUEUE_FRAMES) {
        return (ssize_t) len; /* dropped: TCP retransmits, as on a real wire */
    }
    slot = (queue_head + queue_count) % QUEUE_FRAMES;
    memcpy(queue[slot].data, buf, len);
    queue[slot].len = len;
    queue_count++;
    return (ssize_t) len;
}

static void slirp_guest_error(const char *msg, void *opaque)
{
    (void) opaque;
    fprintf(stderr, "stapler-sim: slirp: %s\n", msg);
}

static int64_t slirp_clock_get_ns(void *opaque)
{
    (void) opaque;
    return now_ns();
}

static void *slirp_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    int i;

    (void) opaque;
    for (i = 0; i < SLIRP_TIMERS; i++) {
        if (!timers[i].used) {
            timers[i].used = 1;
            timers[i].cb = cb;
            timers[i].opaque = cb_opaque;
            timers[i].expire_ms = -1;
            return &timers[i];
        }
    }
    fprintf(stderr, "stapler-sim: slirp asked for more than %d timers\n", SLIRP_TIMERS);
    return NULL;
}

static void slirp_timer_free(void *timer, void *opaque)
{
    (void) opaque;
    if (timer != NULL) {
        memset(timer, 0, sizeof(timers[0]));
    }
}

static void slirp_timer_mod(void *timer, int64_t expire_time, void *opaque)
{
    (void) opaque;
    if (timer != NULL) {
        ((sim_timer_t *) timer)->expire_ms = expire_time;
    }
}

/* Shorten *timeout (ms) to the nearest armed slirp timer. */
static void sim_timers_shorten(uint32_t *timeout)
{
    const int64_t now_ms = now_ns() / 1000000;
    int i;

    for (i = 0; i < SLIRP_TIMERS; i++) {
        if (timers[i].used && timers[i].expire_ms >= 0) {
            const int64_t left = timers[i].expire_ms - now_ms;
            if (left < (int64_t) *timeout) {
                *timeout = left > 0 ? (uint32_t) left : 0;
            }
        }
    }
}

/* Run the slirp timers that are due. */
static void sim_timers_fire(void)
{
    const int64_t now_ms = now_ns() / 1000000;
    int i;

    for (i = 0; i < SLIRP_TIMERS; i++) {
        if (timers[i].used && timers[i].expire_ms >= 0 && timers[i].expire_ms <= now_ms) {
            timers[i].expire_ms = -1;
            timers[i].cb(timers[i].opaque);
        }
    }
}

static void slirp_register_poll_fd(int fd, void *opaque)
{
    (void) fd;
    (void) opaque;
}

static void slirp_notify(void *opaque)
{
    (void) opaque;
}

static int slirp_add_poll(int fd, int events, void *opaque)
{
    short e = 0;

    (void) opaque;
    if (fd_count == POLL_FDS) {
        return -1;
    }
    if (events & SLIRP_POLL_IN) e |= POLLIN;
    if (events & SLIRP_POLL_OUT) e |= POLLOUT;
    if (events & SLIRP_POLL_PRI) e |= POLLPRI;
    fds[fd_count].fd = fd;
    fds[fd_count].events = e;
    fds[fd_count].revents = 0;
    return fd_count++;
}

static int slirp_get_revents(int idx, void *opaque)
{
    int r = 0;
    short e;

    (void) opaque;
    if (idx < 0 || idx >= fd_count) {
        return 0;
    }
    e = fds[idx].revents;
    if (e & POLLIN) r |= SLIRP_POLL_IN;
    if (e & POLLOUT) r |= SLIRP_POLL_OUT;
    if (e & POLLPRI) r |= SLIRP_POLL_PRI;
    if (e & POLLERR) r |= SLIRP_POLL_ERR;
    if (e & POLLHUP) r |= SLIRP_POLL_HUP;
    return r;
}

static const SlirpCb slirp_callbacks = {
    .send_packet = slirp_send_packet,
    .guest_error = slirp_guest_error,
    .clock_get_ns = slirp_clock_get_ns,
    .timer_new = slirp_timer_new,
    .timer_free = slirp_timer_free,
    .timer_mod = slirp_timer_mod,
    .register_poll_fd = slirp_register_poll_fd,
    .unregister_poll_fd = slirp_register_poll_fd,
    .notify = slirp_notify,
};

/* ---- lwIP netif ----------------------------------------------------------------------- */

static err_t sim_linkoutput(struct netif *netif, struct pbuf *p)
{
    const u16_t len = pbuf_copy_partial(p, frame_out, sizeof(frame_out), 0);

    (void) netif;
    if (len != p->tot_len) {
        return ERR_BUF;
    }
    if (sim_slirp != NULL) {
#if NO_SYS
        slirp_input(sim_slirp, frame_out, len);
#else
        /* As a NIC's transmit DMA would: queued here, sent by the network thread, so the
         * sending task (the agent's, a TLS task's) never runs slirp's TCP/IP on its stack. */
        SIM_LOCK();
        if (tx_count < QUEUE_FRAMES) {
            const unsigned slot = (tx_head + tx_count) % QUEUE_FRAMES;
            const char one = 1;

            memcpy(tx_queue[slot].data, frame_out, len);
            tx_queue[slot].len = len;
            tx_count++;
            (void) !write(sim_wake[1], &one, 1);
        } /* else dropped: TCP retransmits, as on a real wire */
        SIM_UNLOCK();
#endif
    } else if (sim_tap >= 0 && write(sim_tap, frame_out, len) != (ssize_t) len) {
        return ERR_IF;
    }
    return ERR_OK;
}

static err_t sim_netif_init(struct netif *netif)
{
    static const u8_t mac[6] = { 0x02, 0x53, 0x54, 0x41, 0x50, 0x4C }; /* locally administered */

    netif->name[0] = 's';
    netif->name[1] = 'l';
    netif->mtu = 1500;
    netif->hwaddr_len = 6;
    memcpy(netif->hwaddr, mac, 6);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    netif->output = etharp_output;
    netif->linkoutput = sim_linkoutput;
    return ERR_OK;
}

static void deliver(const unsigned char *data, size_t len)
{
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t) len, PBUF_POOL);

    if (p == NULL) {
        return; /* pool empty: dropped, TCP retransmits */
    }
    pbuf_take(p, data, (u16_t) len);
    if (sim_netif.input(p, &sim_netif) != ERR_OK) {
        pbuf_free(p);
    }
}

static int open_tap(const char *name)
{
    struct ifreq ifr;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        fprintf(stderr, "stapler-sim: cannot open /dev/net/tun: %s (TAP needs the tun module "
                        "and CAP_NET_ADMIN; use the default slirp network instead)\n", strerror(errno));
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        fprintf(stderr, "stapler-sim: cannot attach TAP device %s: %s (create it first: "
                        "ip tuntap add dev %s mode tap; ip link set %s up)\n",
                name, strerror(errno), name, name);
        close(fd);
        return -1;
    }
    return fd;
}

/* slirp: forward 127.0.0.1:host_port on the PC to guest_port of the simulator's address
 * (the static one, or the first DHCP lease slirp hands out, 10.0.2.15). Loopback only: the
 * simulator must not become reachable from the PC's network. */
static int add_host_forward(const stapler_sim_net_options_t *options, const ip4_addr_t *address)
{
    struct in_addr host, guest;

    inet_pton(AF_INET, "127.0.0.1", &host);
    if (options->address != NULL) {
        guest.s_addr = ip4_addr_get_u32(address); /* both in network byte order */
    } else {
        inet_pton(AF_INET, "10.0.2.15", &guest);
    }
    if (slirp_add_hostfwd(sim_slirp, 0 /* TCP */, host, options->hostfwd_host_port, guest,
                          options->hostfwd_guest_port) != 0) {
        fprintf(stderr, "stapler-sim: cannot forward 127.0.0.1:%u on this PC to the simulator's "
                        "port %u: %s (is another program using port %u? pick a free one)\n",
                (unsigned) options->hostfwd_host_port, (unsigned) options->hostfwd_guest_port,
                strerror(errno), (unsigned) options->hostfwd_host_port);
        return -1;
    }
    if (options->verbose) {
        char g[INET_ADDRSTRLEN];

        inet_ntop(AF_INET, &guest, g, sizeof(g));
        printf("net: forwarding 127.0.0.1:%u on this PC to %s:%u\n", (unsigned) options->hostfwd_host_port,
               g, (unsigned) options->hostfwd_guest_port);
    }
    return 0;
}

static stapler_sim_net_options_t sim_forward;
static ip4_addr_t sim_forward_address;

int stapler_sim_net_forward(void)
{
    int ret;

    if (sim_slirp == NULL || sim_forward.hostfwd_host_port == 0) {
        return 0; /* TAP, or nothing to forward */
    }
    SIM_LOCK();
    ret = add_host_forward(&sim_forward, &sim_forward_address);
    SIM_UNLOCK();
    return ret;
}

static int parse_ip4(const char *text, ip4_addr_t *out, const char *what)
{
    if (!ip4addr_aton(text, out)) {
        fprintf(stderr, "stapler-sim: %s '%s' is not an IPv4 address\n", what, text);
        return -1;
    }
    return 0;
}

#if !NO_SYS
static void sim_tcpip_ready(void *arg)
{
    sys_sem_signal((sys_sem_t *) arg);
}

/* lwIP's tcpip thread, once per process (lwIP cannot be started twice). */
static void sim_start_lwip(void)
{
    static int started;

    if (!started) {
        sys_sem_t ready;

        started = 1;
        (void) sys_sem_new(&ready, 0);
        tcpip_init(sim_tcpip_ready, &ready);
        sys_arch_sem_wait(&ready, 0);
        sys_sem_free(&ready);
    }
}

static void sim_notify(void *context)
{
    (void) context;
    pthread_mutex_lock(&sim_event_lock);
    sim_event_generation++;
    pthread_cond_broadcast(&sim_event_cond);
    pthread_mutex_unlock(&sim_event_lock);
}

/* The NIC driver's receive task: slirp's sockets and timers, then frames to tcpip_input(). */
static void *sim_thread_main(void *arg)
{
    (void) arg;
    for (;;) {
        unsigned char frame[FRAME_MAX];
        uint32_t timeout = 100;
        int ready;

        SIM_LOCK();
        if (!sim_thread_running) {
            SIM_UNLOCK();
            break;
        }
        if (queue_count > 0 || tx_count > 0) {
            timeout = 0;
        }
        fd_count = 0;
        sim_timers_shorten(&timeout);
        fds[fd_count].fd = sim_wake[0];
        fds[fd_count].events = POLLIN;
        fds[fd_count].revents = 0;
        fd_count++;
        if (sim_slirp != NULL) {
            slirp_pollfds_fill(sim_slirp, &timeout, slirp_add_poll, NULL);
        } else {
            fds[fd_count].fd = sim_tap;
            fds[fd_count].events = POLLIN;
            fds[fd_count].revents = 0;
            fd_count++;
        }
        SIM_UNLOCK();
        ready = poll(fds, (nfds_t) fd_count, (int) (timeout > 100u ? 100u : timeout));
        if (ready > 0 && (fds[0].revents & POLLIN)) {
            char drain[64];
            (void) !read(sim_wake[0], drain, sizeof(drain));
        }
        if (sim_slirp == NULL) {
            /* TAP: frames straight from the device to tcpip_input(). */
            ssize_t n;

            while (ready > 0 && (fds[1].revents & POLLIN) && (n = read(sim_tap, frame, sizeof(frame))) > 0) {
                deliver(frame, (size_t) n);
            }
            continue;
        }
        SIM_LOCK();
        while (tx_count > 0) {
            const unsigned slot = tx_head;

            tx_head = (tx_head + 1) % QUEUE_FRAMES;
            tx_count--;
            slirp_input(sim_slirp, tx_queue[slot].data, (int) tx_queue[slot].len);
        }
        slirp_pollfds_poll(sim_slirp, ready < 0, slirp_get_revents, NULL);
        sim_timers_fire();
        /* Frames out of the queue one at a time, delivered without sim_lock held: lwIP may
         * answer at once from tcpip_input's thread, through linkoutput, which takes it. */
        while (queue_count > 0) {
            const unsigned slot = queue_head;
            const size_t len = queue[slot].len;

            memcpy(frame, queue[slot].data, len);
            queue_head = (queue_head + 1) % QUEUE_FRAMES;
            queue_count--;
            SIM_UNLOCK();
            deliver(frame, len);
            SIM_LOCK();
        }
        SIM_UNLOCK();
    }
    return NULL;
}

static int sim_start_thread(void)
{
    if (pipe(sim_wake) != 0) {
        fprintf(stderr, "stapler-sim: pipe: %s\n", strerror(errno));
        return -1;
    }
    (void) fcntl(sim_wake[0], F_SETFL, O_NONBLOCK);
    (void) fcntl(sim_wake[1], F_SETFL, O_NONBLOCK);
    SIM_LOCK();
    sim_thread_running = 1;
    SIM_UNLOCK();
    if (pthread_create(&sim_thread, NULL, sim_thread_main, NULL) != 0) {
        fprintf(stderr, "stapler-sim: cannot start the network thread\n");
        sim_thread_running = 0;
        return -1;
    }
    stapler_lwip_transport_set_notify(sim_notify, NULL);
    return 0;
}

static void sim_stop_thread(void)
{
    int running;

    SIM_LOCK();
    running = sim_thread_running;
    sim_thread_running = 0;
    SIM_UNLOCK();
    if (running) {
        const char one = 1;

        (void) !write(sim_wake[1], &one, 1);
        pthread_join(sim_thread, NULL);
        stapler_lwip_transport_set_notify(NULL, NULL);
    }
    if (sim_wake[0] >= 0) {
        close(sim_wake[0]);
        close(sim_wake[1]);
        sim_wake[0] = sim_wake[1] = -1;
    }
}

/* With threads the stack runs by itself: wait (at most max_wait_ms) for a network event
 * since this thread last waited, so a caller stepping a session wakes as soon as data came. */
void stapler_sim_net_poll(uint32_t max_wait_ms)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t) (max_wait_ms / 1000u);
    until.tv_nsec += (long) (max_wait_ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&sim_event_lock);
    while (sim_event_seen == sim_event_generation && max_wait_ms > 0) {
        if (pthread_cond_timedwait(&sim_event_cond, &sim_event_lock, &until) != 0) {
            break;
        }
    }
    sim_event_seen = sim_event_generation;
    pthread_mutex_unlock(&sim_event_lock);
}
#endif

int stapler_sim_net_start(const stapler_sim_net_options_t *options, uint32_t timeout_ms)
{
    ip4_addr_t address, netmask, gateway;
    const int64_t deadline = now_ns() + (int64_t) timeout_ms * 1000000;

    ip4_addr_set_zero(&address);
    ip4_addr_set_zero(&netmask);
    ip4_addr_set_zero(&gateway);
    if (options->address != NULL) {
        if (parse_ip4(options->address, &address, "--ip") != 0 ||
            parse_ip4(options->netmask != NULL ? options->netmask : "255.255.255.0", &netmask, "--netmask") != 0 ||
            (options->gateway != NULL && parse_ip4(options->gateway, &gateway, "--gateway") != 0)) {
            return -1;
        }
    }
    if ((options->hostfwd_host_port == 0) != (options->hostfwd_guest_port == 0)) {
        fprintf(stderr, "stapler-sim: a host forward needs both ports, the PC's and the "
                        "simulator's (or neither)\n");
        return -1;
    }
#if NO_SYS
    lwip_init();
#else
    sim_start_lwip();
#endif
    if (options->tap != NULL) {
        sim_tap = open_tap(options->tap);
        if (sim_tap < 0) {
            return -1;
        }
        if (options->hostfwd_host_port != 0 && options->verbose) {
            printf("net: host forward ignored with a TAP device (reach %s:%u directly)\n",
                   options->address != NULL ? options->address : "the simulator's address",
                   (unsigned) options->hostfwd_guest_port);
        }
    } else {
        SlirpConfig cfg;

        memset(&cfg, 0, sizeof(cfg));
        cfg.version = 3;
        cfg.in_enabled = true;
        inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
        inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
        inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
        inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
        inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
        cfg.vhostname = "stapler-sim";
        cfg.if_mtu = 1500;
        cfg.if_mru = 1500;
        sim_slirp = slirp_new(&cfg, &slirp_callbacks, NULL);
        if (sim_slirp == NULL) {
            fprintf(stderr, "stapler-sim: libslirp could not start\n");
            return -1;
        }
        /* The host forward comes later (stapler_sim_net_forward()), once something
         * listens behind it: a client that sees the PC's port open may connect at once. */
        sim_forward = *options;
        sim_forward_address = address;
    }
#if NO_SYS
    netif_add(&sim_netif, &address, &netmask, &gateway, NULL, sim_netif_init, ethernet_input);
#else
    LOCK_TCPIP_CORE();
    netif_add(&sim_netif, &address, &netmask, &gateway, NULL, sim_netif_init, tcpip_input);
#endif
    netif_set_default(&sim_netif);
    netif_set_up(&sim_netif);
    if (options->address == NULL) {
        dhcp_start(&sim_netif);
    }
    UNLOCK_TCPIP_CORE();
#if !NO_SYS
    if (sim_start_thread() != 0) {
        stapler_sim_net_stop();
        return -1;
    }
#endif
    for (;;) {
        int leased;

        LOCK_TCPIP_CORE();
        leased = options->address != NULL || dhcp_supplied_address(&sim_netif);
        UNLOCK_TCPIP_CORE();
        if (leased) {
            break;
        }
        if (now_ns() > deadline) {
            fprintf(stderr, "stapler-sim: no DHCP lease within %u ms (with --tap, give --ip)\n",
                    (unsigned) timeout_ms);
            stapler_sim_net_stop();
            return -1;
        }
        stapler_sim_net_poll(50);
    }
    if (options->dns != NULL) {
        ip_addr_t dns;

        if (!ipaddr_aton(options->dns, &dns)) {
            fprintf(stderr, "stapler-sim: --dns '%s' is not an IP address\n", options->dns);
            stapler_sim_net_stop();
            return -1;
        }
        LOCK_TCPIP_CORE();
        dns_setserver(0, &dns);
        dns_setserver(1, NULL);
        UNLOCK_TCPIP_CORE();
    }
    if (options->verbose) {
        char a[16], g[16], d[48];

        LOCK_TCPIP_CORE();
        snprintf(a, sizeof(a), "%s", ip4addr_ntoa(netif_ip4_addr(&sim_netif)));
        snprintf(g, sizeof(g), "%s", ip4addr_ntoa(netif_ip4_gw(&sim_netif)));
        snprintf(d, sizeof(d), "%s", ipaddr_ntoa(dns_getserver(0)));
        UNLOCK_TCPIP_CORE();
        printf("net: %s address %s gateway %s dns %s\n", options->tap != NULL ? "tap" : "slirp", a, g, d);
    }
    return 0;
}

#if NO_SYS
void stapler_sim_net_poll(uint32_t max_wait_ms)
{
    uint32_t timeout = max_wait_ms;
    const uint32_t lwip_wait = sys_timeouts_sleeptime();
    int ready;

    if (lwip_wait < timeout) {
        timeout = lwip_wait;
    }
    if (queue_count > 0) {
        timeout = 0;
    }
    fd_count = 0;
    if (sim_slirp != NULL) {
        sim_timers_shorten(&timeout);
        slirp_pollfds_fill(sim_slirp, &timeout, slirp_add_poll, NULL);
    } else if (sim_tap >= 0) {
        fds[0].fd = sim_tap;
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        fd_count = 1;
    }
    ready = poll(fds, (nfds_t) fd_count, (int) (timeout > 1000u ? 1000u : timeout));
    if (sim_slirp != NULL) {
        slirp_pollfds_poll(sim_slirp, ready < 0, slirp_get_revents, NULL);
        sim_timers_fire();
    } else if (sim_tap >= 0 && ready > 0 && (fds[0].revents & POLLIN)) {
        unsigned char frame[FRAME_MAX];
        ssize_t n;

        while ((n = read(sim_tap, frame, sizeof(frame))) > 0) {
            deliver(frame, (size_t) n);
        }
    }
    while (queue_count > 0) {
        const unsigned slot = queue_head;

        queue_head = (queue_head + 1) % QUEUE_FRAMES;
        queue_count--;
        deliver(queue[slot].data, queue[slot].len);
    }
    sys_check_timeouts();
}
#endif

void stapler_sim_net_stop(void)
{
#if !NO_SYS
    sim_stop_thread();
#endif
    LOCK_TCPIP_CORE();
    if (sim_netif.state != NULL || netif_is_up(&sim_netif)) {
        dhcp_release_and_stop(&sim_netif);
        netif_set_down(&sim_netif);
        netif_remove(&sim_netif);
    }
    UNLOCK_TCPIP_CORE();
    if (sim_slirp != NULL) {
        slirp_cleanup(sim_slirp);
        sim_slirp = NULL;
    }
    if (sim_tap >= 0) {
        close(sim_tap);
        sim_tap = -1;
    }
}
