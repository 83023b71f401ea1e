/*
 * The port contract's transport over lwIP's altcp API (NO_SYS=1), the same on every board
 * and in the simulator: DNS through lwIP's resolver, TCP through altcp_tcp, static slots,
 * lwIP's own timers for DNS retries and retransmissions. Received pbufs are held (and the
 * TCP window not reopened) until the core takes the bytes, so a slow consumer throttles
 * the responder instead of exhausting the pbuf pool.
 *
 * The same slots also hold connections accepted from one optional listener
 * (stapler_lwip_transport_listen/accept), so a server can run over this stack; lwIP's
 * accept callback takes a client into a free slot at once (or aborts it), and accept()
 * hands it over later, from the main loop. The listener itself is a raw tcp_pcb: lwIP
 * 2.2's altcp_tcp_close() reads tcp_pcb fields past the end of a (smaller) listening pcb,
 * which AddressSanitizer reports; accepted pcbs are wrapped into altcp like ours.
 */
#include "stapler_lwip_transport.h"

#include <string.h>

#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/dns.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"

/* With an OS (NO_SYS=0) every call from outside lwIP takes lwIP's core lock
 * (LWIP_TCPIP_CORE_LOCKING), under which lwIP's tcpip thread also runs our callbacks: so the
 * slot table below is only ever touched under that lock, from any thread. The raw API stays
 * what it is with NO_SYS=1: the same code, the same error classes (docs/DESIGN.md, "lwIP with
 * an OS"). With NO_SYS=1 there is one thread and nothing to lock. */
#if NO_SYS
#define STAPLER_LWIP_LOCK()   do { } while (0)
#define STAPLER_LWIP_UNLOCK() do { } while (0)
#else
#if !LWIP_TCPIP_CORE_LOCKING
#error "lwipopts.h: the transport with NO_SYS=0 needs LWIP_TCPIP_CORE_LOCKING=1"
#endif
#define STAPLER_LWIP_LOCK()   LOCK_TCPIP_CORE()
#define STAPLER_LWIP_UNLOCK() UNLOCK_TCPIP_CORE()
#endif

#if MEMP_NUM_TCP_PCB < STAPLER_LWIP_CONNECTIONS
#error "lwipopts.h: MEMP_NUM_TCP_PCB is below STAPLER_LWIP_CONNECTIONS; raise it to at least STAPLER_LWIP_CONNECTIONS (each connection owns a tcp_pcb)"
#endif
#if STAPLER_LWIP_ACCEPTED_MAX < 1 || STAPLER_LWIP_ACCEPTED_MAX >= STAPLER_LWIP_CONNECTIONS
#error "STAPLER_LWIP_ACCEPTED_MAX must leave connect() at least one of STAPLER_LWIP_CONNECTIONS slots, and allow one accepted connection"
#endif

typedef enum {
    STAPLER_LWIP_FREE = 0,
    STAPLER_LWIP_RESOLVING,
    STAPLER_LWIP_CONNECTING,
    STAPLER_LWIP_OPEN,
    STAPLER_LWIP_FAILED,
} stapler_lwip_state_t;

typedef struct {
    int state;
    int error;                /* once FAILED */
    uint8_t generation;       /* tells a late DNS answer for an earlier use of the slot */
    uint16_t port;
    struct altcp_pcb *pcb;
    struct pbuf *rx;          /* received, not yet taken */
    int peer_closed;
    uint8_t accepted;         /* came from the listener (counts towards ACCEPTED_MAX) */
    uint8_t waiting;          /* accepted by lwIP, not yet handed out by accept() */
    uint32_t arrival;         /* while waiting: order of arrival, oldest handed out first */
} stapler_lwip_conn_t;

static stapler_lwip_conn_t stapler_lwip_conns[STAPLER_LWIP_CONNECTIONS];
static void (*stapler_lwip_notify_fn)(void *context);
static void *stapler_lwip_notify_context;

/* Something happened: wake whoever waits (stapler_lwip_transport_set_notify()). */
static void stapler_lwip_notify(void)
{
    if (stapler_lwip_notify_fn != NULL) {
        stapler_lwip_notify_fn(stapler_lwip_notify_context);
    }
}

void stapler_lwip_transport_set_notify(void (*fn)(void *context), void *context)
{
    STAPLER_LWIP_LOCK();
    stapler_lwip_notify_fn = fn;
    stapler_lwip_notify_context = context;
    STAPLER_LWIP_UNLOCK();
}

static struct tcp_pcb *stapler_lwip_listener; /* LISTEN state, or NULL */
static uint32_t stapler_lwip_arrivals;
static unsigned stapler_lwip_refused;
static int stapler_lwip_refused_unreported; /* accept() tells NO_RESOURCES once */

/* Take a free slot, cleared, with a new generation; -1 if none is free. */
static int stapler_lwip_claim(void)
{
    int index;

    for (index = 0; index < STAPLER_LWIP_CONNECTIONS; index++) {
        stapler_lwip_conn_t *c = &stapler_lwip_conns[index];

        if (c->state == STAPLER_LWIP_FREE) {
            const uint8_t generation = (uint8_t) (c->generation + 1u);

            memset(c, 0, sizeof(*c));
            c->generation = generation;
            return index;
        }
    }
    return -1;
}

static stapler_lwip_conn_t *stapler_lwip_get(int connection)
{
    if (connection < 0 || connection >= STAPLER_LWIP_CONNECTIONS ||
        stapler_lwip_conns[connection].state == STAPLER_LWIP_FREE) {
        return NULL;
    }
    return &stapler_lwip_conns[connection];
}

static void stapler_lwip_fail(stapler_lwip_conn_t *c, int error)
{
    if (c->state != STAPLER_LWIP_FAILED) {
        c->state = STAPLER_LWIP_FAILED;
        c->error = error;
    }
}

/* Detach our callbacks so lwIP never calls back into a slot we gave up. */
static void stapler_lwip_detach(struct altcp_pcb *pcb)
{
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_err(pcb, NULL);
    altcp_sent(pcb, NULL);
}

static void stapler_lwip_err(void *arg, err_t err)
{
    stapler_lwip_conn_t *c = (stapler_lwip_conn_t *) arg;

    if (c == NULL) {
        return;
    }
    c->pcb = NULL; /* lwIP has already deallocated it */
    stapler_lwip_notify();
    if (c->waiting) {
        /* Reset before anyone took it: nobody owns it yet, so nobody needs to hear of it. */
        if (c->rx != NULL) {
            pbuf_free(c->rx);
            c->rx = NULL;
        }
        c->state = STAPLER_LWIP_FREE;
        return;
    }
    switch (err) {
        case ERR_RST:
            stapler_lwip_fail(c, c->state == STAPLER_LWIP_CONNECTING ? STAPLER_PORT_ERR_REFUSED
                                                                      : STAPLER_PORT_ERR_RESET);
            break;
        case ERR_ABRT:
            /* tcp_slowtmr gave up: SYN or data retransmissions exhausted. */
            stapler_lwip_fail(c, STAPLER_PORT_ERR_TIMEOUT);
            break;
        case ERR_CLSD:
            c->peer_closed = 1;
            if (c->state != STAPLER_LWIP_OPEN) {
                stapler_lwip_fail(c, STAPLER_PORT_ERR_RESET);
            }
            break;
        case ERR_RTE:
            stapler_lwip_fail(c, STAPLER_PORT_ERR_UNREACHABLE);
            break;
        default:
            stapler_lwip_fail(c, STAPLER_PORT_ERR_RESET);
            break;
    }
}

static err_t stapler_lwip_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    stapler_lwip_conn_t *c = (stapler_lwip_conn_t *) arg;

    (void) pcb;
    if (c == NULL) {
        if (p != NULL) {
            pbuf_free(p);
        }
        return ERR_OK;
    }
    stapler_lwip_notify();
    if (p == NULL) {
        c->peer_closed = 1; /* FIN: end of stream once rx is used up */
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return ERR_OK;
    }
    if (c->rx == NULL) {
        c->rx = p;
    } else {
        pbuf_cat(c->rx, p);
    }
    return ERR_OK;
}

static err_t stapler_lwip_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    (void) arg;
    (void) pcb;
    (void) len;
    stapler_lwip_notify(); /* room in the send buffer again */
    return ERR_OK;
}

static err_t stapler_lwip_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
    stapler_lwip_conn_t *c = (stapler_lwip_conn_t *) arg;

    (void) pcb;
    stapler_lwip_notify();
    if (c != NULL && c->state == STAPLER_LWIP_CONNECTING) {
        if (err == ERR_OK) {
            c->state = STAPLER_LWIP_OPEN;
        } else {
            stapler_lwip_fail(c, STAPLER_PORT_ERR_REFUSED);
        }
    }
    return ERR_OK;
}

static void stapler_lwip_start_tcp(stapler_lwip_conn_t *c, const ip_addr_t *address)
{
    struct altcp_pcb *pcb = altcp_tcp_new_ip_type(IP_GET_TYPE(address));
    err_t err;

    if (pcb == NULL) {
        stapler_lwip_fail(c, STAPLER_PORT_ERR_NO_RESOURCES);
        return;
    }
    c->pcb = pcb;
    c->state = STAPLER_LWIP_CONNECTING;
    altcp_arg(pcb, c);
    altcp_recv(pcb, stapler_lwip_recv);
    altcp_err(pcb, stapler_lwip_err);
    altcp_sent(pcb, stapler_lwip_sent);
    altcp_nagle_disable(pcb);
    err = altcp_connect(pcb, address, c->port, stapler_lwip_connected);
    if (err != ERR_OK) {
        stapler_lwip_detach(pcb);
        altcp_abort(pcb);
        c->pcb = NULL;
        stapler_lwip_fail(c, err == ERR_RTE ? STAPLER_PORT_ERR_UNREACHABLE : STAPLER_PORT_ERR_NO_RESOURCES);
    }
}

static void stapler_lwip_dns_found(const char *name, const ip_addr_t *address, void *arg)
{
    const uintptr_t tag = (uintptr_t) arg;
    const int index = (int) (tag & 0xFFu);
    stapler_lwip_conn_t *c;

    (void) name;
    if (index >= STAPLER_LWIP_CONNECTIONS) {
        return;
    }
    c = &stapler_lwip_conns[index];
    if (c->state != STAPLER_LWIP_RESOLVING || c->generation != (uint8_t) (tag >> 8)) {
        return; /* the connection was closed (and the slot perhaps reused) meanwhile */
    }
    stapler_lwip_notify();
    if (address == NULL) {
        stapler_lwip_fail(c, STAPLER_PORT_ERR_DNS);
        return;
    }
    stapler_lwip_start_tcp(c, address);
}

static int stapler_lwip_connect_locked(void *context, const char *host, uint16_t port)
{
    ip_addr_t address;
    stapler_lwip_conn_t *c;
    int index;
    err_t err;

    (void) context;
    if (host == NULL) {
        return STAPLER_PORT_ERR_NO_RESOURCES;
    }
    index = stapler_lwip_claim();
    if (index < 0) {
        return STAPLER_PORT_ERR_NO_RESOURCES;
    }
    c = &stapler_lwip_conns[index];
    c->port = port;
    c->state = STAPLER_LWIP_RESOLVING;
    /* Literals resolve at once; names go to lwIP's resolver (answer in stapler_lwip_dns_found). */
    err = dns_gethostbyname(host, &address, stapler_lwip_dns_found,
                            (void *) (uintptr_t) ((unsigned) index | ((unsigned) c->generation << 8)));
    if (err == ERR_OK) {
        stapler_lwip_start_tcp(c, &address);
    } else if (err != ERR_INPROGRESS) {
        /* No DNS server configured, or the name is invalid. */
        stapler_lwip_fail(c, STAPLER_PORT_ERR_DNS);
    }
    return index;
}

static int stapler_lwip_connect(void *context, const char *host, uint16_t port)
{
    int ret;

    STAPLER_LWIP_LOCK();
    ret = stapler_lwip_connect_locked(context, host, port);
    STAPLER_LWIP_UNLOCK();
    return ret;
}

static int stapler_lwip_status_locked(void *context, int connection)
{
    const stapler_lwip_conn_t *c = stapler_lwip_get(connection);

    (void) context;
    if (c == NULL) {
        return STAPLER_PORT_ERR_IO;
    }
    switch (c->state) {
        case STAPLER_LWIP_OPEN: return 1;
        case STAPLER_LWIP_FAILED: return c->error;
        default: return 0;
    }
}

static int stapler_lwip_status(void *context, int connection)
{
    int ret;

    STAPLER_LWIP_LOCK();
    ret = stapler_lwip_status_locked(context, connection);
    STAPLER_LWIP_UNLOCK();
    return ret;
}

static int stapler_lwip_send_locked(void *context, int connection, const void *data, size_t len)
{
    stapler_lwip_conn_t *c = stapler_lwip_get(connection);
    size_t room;
    err_t err;

    (void) context;
    if (c == NULL) {
        return STAPLER_PORT_ERR_IO;
    }
    if (c->state == STAPLER_LWIP_FAILED) {
        return c->error;
    }
    if (c->state != STAPLER_LWIP_OPEN || c->pcb == NULL) {
        return 0;
    }
    room = altcp_sndbuf(c->pcb);
    if (len > room) {
        len = room;
    }
    if (len > 0xFFFFu) {
        len = 0xFFFFu;
    }
    if (len == 0) {
        return 0;
    }
    err = altcp_write(c->pcb, data, (u16_t) len, TCP_WRITE_FLAG_COPY);
    if (err == ERR_MEM) {
        return 0; /* segments or pbufs exhausted for now: try again on a later step */
    }
    if (err != ERR_OK) {
        return STAPLER_PORT_ERR_RESET;
    }
    (void) altcp_output(c->pcb);
    return (int) len;
}

static int stapler_lwip_send(void *context, int connection, const void *data, size_t len)
{
    int ret;

    STAPLER_LWIP_LOCK();
    ret = stapler_lwip_send_locked(context, connection, data, len);
    STAPLER_LWIP_UNLOCK();
    return ret;
}

static int stapler_lwip_recv_take_locked(void *context, int connection, void *buffer, size_t len)
{
    stapler_lwip_conn_t *c = stapler_lwip_get(connection);
    u16_t n;

    (void) context;
    if (c == NULL) {
        return STAPLER_PORT_ERR_IO;
    }
    if (c->rx == NULL) {
        if (c->state == STAPLER_LWIP_FAILED) {
            return c->error;
        }
        return c->peer_closed ? STAPLER_PORT_ERR_CLOSED : 0;
    }
    if (len > 0xFFFFu) {
        len = 0xFFFFu;
    }
    n = pbuf_copy_partial(c->rx, buffer, (u16_t) len, 0);
    c->rx = pbuf_free_header(c->rx, n);
    if (c->pcb != NULL) {
        altcp_recved(c->pcb, n); /* reopen the window by what was taken */
    }
    return (int) n;
}

static int stapler_lwip_recv_take(void *context, int connection, void *buffer, size_t len)
{
    int ret;

    STAPLER_LWIP_LOCK();
    ret = stapler_lwip_recv_take_locked(context, connection, buffer, len);
    STAPLER_LWIP_UNLOCK();
    return ret;
}

/* Give the slot back: FIN when open (unless \p reset), RST otherwise. */
static void stapler_lwip_release(stapler_lwip_conn_t *c, int reset)
{
    if (c->pcb != NULL) {
        struct altcp_pcb *pcb = c->pcb;

        stapler_lwip_detach(pcb);
        if (reset || c->state != STAPLER_LWIP_OPEN || altcp_close(pcb) != ERR_OK) {
            altcp_abort(pcb);
        }
        c->pcb = NULL;
    }
    if (c->rx != NULL) {
        pbuf_free(c->rx);
        c->rx = NULL;
    }
    c->state = STAPLER_LWIP_FREE; /* a late DNS answer sees FREE and is ignored */
}

static void stapler_lwip_close_locked(void *context, int connection)
{
    stapler_lwip_conn_t *c = stapler_lwip_get(connection);

    (void) context;
    if (c != NULL) {
        stapler_lwip_release(c, 0);
    }
}

static void stapler_lwip_close(void *context, int connection)
{
    STAPLER_LWIP_LOCK();
    stapler_lwip_close_locked(context, connection);
    STAPLER_LWIP_UNLOCK();
}

void stapler_lwip_transport_init(stapler_port_transport_t *transport)
{
    transport->connect = stapler_lwip_connect;
    transport->status = stapler_lwip_status;
    transport->send = stapler_lwip_send;
    transport->recv = stapler_lwip_recv_take;
    transport->close = stapler_lwip_close;
}

static unsigned stapler_lwip_transport_open_count_locked(void)
{
    unsigned i, n = 0;

    for (i = 0; i < STAPLER_LWIP_CONNECTIONS; i++) {
        n += stapler_lwip_conns[i].state != STAPLER_LWIP_FREE;
    }
    return n;
}

unsigned stapler_lwip_transport_open_count(void)
{
    unsigned ret;

    STAPLER_LWIP_LOCK();
    ret = stapler_lwip_transport_open_count_locked();
    STAPLER_LWIP_UNLOCK();
    return ret;
}

/* ---- Listening side ------------------------------------------------------------------ */

static unsigned stapler_lwip_accepted_open(void)
{
    unsigned i, n = 0;

    for (i = 0; i < STAPLER_LWIP_CONNECTIONS; i++) {
        n += stapler_lwip_conns[i].state != STAPLER_LWIP_FREE && stapler_lwip_conns[i].accepted;
    }
    return n;
}

/* lwIP's accept callback, inside tcp_input once the handshake is complete: take the client
 * into a slot now (its bytes are then held like any connection's), or refuse it. */
static err_t stapler_lwip_accepted(void *arg, struct tcp_pcb *tpcb, err_t err)
{
    stapler_lwip_conn_t *c;
    struct altcp_pcb *pcb = NULL;
    int index = -1;

    (void) arg;
    if (tpcb == NULL || err != ERR_OK) {
        return ERR_VAL; /* lwIP ran out of pcbs for a new client: nothing to take */
    }
    /* The cap keeps one slot for connect(): a client of ours never blocks the agent's fetch. */
    if (stapler_lwip_listener != NULL && stapler_lwip_accepted_open() < STAPLER_LWIP_ACCEPTED_MAX) {
        index = stapler_lwip_claim();
        if (index >= 0) {
            pcb = altcp_tcp_wrap(tpcb);
            if (pcb == NULL) {
                index = -1; /* altcp pool empty; the claimed slot is still FREE */
            }
        }
    }
    if (index < 0) {
        stapler_lwip_refused++;
        stapler_lwip_refused_unreported = 1;
        tcp_abort(tpcb); /* RST to the client; lwIP expects ERR_ABRT after an abort */
        return ERR_ABRT;
    }
    c = &stapler_lwip_conns[index];
    c->pcb = pcb;
    c->state = STAPLER_LWIP_OPEN;
    c->accepted = 1;
    c->waiting = 1;
    c->arrival = ++stapler_lwip_arrivals;
    altcp_arg(pcb, c);
    altcp_recv(pcb, stapler_lwip_recv);
    altcp_err(pcb, stapler_lwip_err);
    altcp_sent(pcb, stapler_lwip_sent);
    altcp_nagle_disable(pcb);
    stapler_lwip_notify();
    return ERR_OK;
}

static int stapler_lwip_transport_listen_locked(uint16_t port)
{
    struct tcp_pcb *pcb;
    struct tcp_pcb *listening;
    err_t err = ERR_OK;

    if (stapler_lwip_listener != NULL || port == 0) {
        return STAPLER_PORT_ERR_IO;
    }
    /* Bound to IP_ANY_TYPE: one pcb for IPv4 and IPv6 when both are built, else the one
     * there is. */
    pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
    if (pcb == NULL) {
        return STAPLER_PORT_ERR_NO_RESOURCES;
    }
    err = tcp_bind(pcb, IP_ANY_TYPE, port);
    if (err != ERR_OK) {
        (void) tcp_close(pcb); /* never connected: closing only frees it */
        return STAPLER_PORT_ERR_IO; /* ERR_USE: someone listens or is connected on it */
    }
    listening = tcp_listen_with_backlog_and_err(pcb, TCP_DEFAULT_LISTEN_BACKLOG, &err);
    if (listening == NULL) {
        (void) tcp_close(pcb); /* on failure lwIP leaves the bound pcb to us */
        return STAPLER_PORT_ERR_NO_RESOURCES;
    }
    tcp_arg(listening, NULL);
    tcp_accept(listening, stapler_lwip_accepted);
    stapler_lwip_listener = listening;
    stapler_lwip_refused_unreported = 0;
    return 0;
}

int stapler_lwip_transport_listen(uint16_t port)
{
    int ret;

    STAPLER_LWIP_LOCK();
    ret = stapler_lwip_transport_listen_locked(port);
    STAPLER_LWIP_UNLOCK();
    return ret;
}

static int stapler_lwip_transport_accept_locked(void)
{
    int i, oldest = -1;

    if (stapler_lwip_listener == NULL) {
        return STAPLER_PORT_ERR_IO;
    }
    for (i = 0; i < STAPLER_LWIP_CONNECTIONS; i++) {
        const stapler_lwip_conn_t *c = &stapler_lwip_conns[i];

        if (c->state != STAPLER_LWIP_FREE && c->waiting &&
            (oldest < 0 || (int32_t) (c->arrival - stapler_lwip_conns[oldest].arrival) < 0)) {
            oldest = i;
        }
    }
    if (oldest >= 0) {
        stapler_lwip_conns[oldest].waiting = 0;
        return oldest;
    }
    if (stapler_lwip_refused_unreported) {
        stapler_lwip_refused_unreported = 0;
        return STAPLER_PORT_ERR_NO_RESOURCES;
    }
    return STAPLER_PORT_ERR_CLOSED;
}

int stapler_lwip_transport_accept(void)
{
    int ret;

    STAPLER_LWIP_LOCK();
    ret = stapler_lwip_transport_accept_locked();
    STAPLER_LWIP_UNLOCK();
    return ret;
}

static void stapler_lwip_transport_unlisten_locked(void)
{
    int i;

    if (stapler_lwip_listener != NULL) {
        /* A listening pcb always closes (tcp_close frees it; tcp_abort refuses LISTEN).
         * Clients still in the handshake find no listener and are aborted by lwIP. */
        (void) tcp_close(stapler_lwip_listener);
        stapler_lwip_listener = NULL;
    }
    /* Clients nobody took yet have no owner once the listener is gone. */
    for (i = 0; i < STAPLER_LWIP_CONNECTIONS; i++) {
        if (stapler_lwip_conns[i].state != STAPLER_LWIP_FREE && stapler_lwip_conns[i].waiting) {
            stapler_lwip_release(&stapler_lwip_conns[i], 1); /* RST: the server is gone */
        }
    }
    stapler_lwip_refused_unreported = 0;
}

void stapler_lwip_transport_unlisten(void)
{
    STAPLER_LWIP_LOCK();
    stapler_lwip_transport_unlisten_locked();
    STAPLER_LWIP_UNLOCK();
}

static unsigned stapler_lwip_transport_refused_count_locked(void)
{
    return stapler_lwip_refused;
}

unsigned stapler_lwip_transport_refused_count(void)
{
    unsigned ret;

    STAPLER_LWIP_LOCK();
    ret = stapler_lwip_transport_refused_count_locked();
    STAPLER_LWIP_UNLOCK();
    return ret;
}
