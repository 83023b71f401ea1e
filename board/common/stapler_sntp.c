/* SNTP from several servers, trusted only when two agree: see stapler_sntp.h. */
#include "stapler_sntp.h"

#include <stddef.h>
#include <string.h>

#include "lwip/dns.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"

#include "stapler/clock.h"
#include "stapler/config.h"

#define SNTP_PORT 123u
#define SNTP_HOST_MAX 64u
#define SNTP_ANSWER_TIMEOUT_MS 3000u
#define SNTP_RETRY_MS 60000u
#define SNTP_PACKET 48u
/* Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
#define SNTP_UNIX_OFFSET 2208988800LL

typedef struct {
    char host[SNTP_HOST_MAX];
    uint16_t port;
} sntp_server_t;

static const stapler_sntp_hooks_t *hooks;
static sntp_server_t servers[STAPLER_SNTP_SERVERS_MAX];
static unsigned server_count;
static struct udp_pcb *pcb;
/* The round in progress */
static int asking;                  /* a round is in progress */
static unsigned current;            /* the server being asked */
static int sent;                    /* its request is out (else its name is resolving) */
static uint32_t generation;         /* tells a late DNS answer from the one awaited */
static uint64_t asked_ms;           /* when asking it began */
static uint64_t next_round_ms;
static ip_addr_t current_addr;
static unsigned char cookie[8];     /* our transmit timestamp: random, echoed as originate */
static stapler_clock_sample_t samples[STAPLER_SNTP_SERVERS_MAX];
static int64_t sample_ms[STAPLER_SNTP_SERVERS_MAX]; /* the same offsets, in milliseconds */
static unsigned sample_count;
/* The agreed time */
static int agreed;
static int64_t agreed_offset_ms;    /* UTC ms = it + now_ms() */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | (uint32_t) p[3];
}

static void end_round(uint64_t now, uint32_t next_in_ms)
{
    asking = 0;
    sent = 0;
    generation++;
    next_round_ms = now + next_in_ms;
}

static void evaluate(void)
{
    const uint64_t now = hooks->now_ms();
    int64_t offset_s = 0;
    int result = stapler_clock_agree(samples, sample_count, CONFIG_STAPLER_SNTP_AGREE_S, hooks->floor(),
                                     CONFIG_STAPLER_CLOCK_SKEW_S, (int64_t) (now / 1000u), &offset_s);
    unsigned i;

    if (result == 1) {
        for (i = 0; i < sample_count; i++) {
            if (samples[i].utc_at_zero == offset_s) {
                agreed_offset_ms = sample_ms[i];
                break;
            }
        }
        agreed = 1;
        end_round(now, (uint32_t) CONFIG_STAPLER_SNTP_INTERVAL_S * 1000u);
        hooks->report(STAPLER_SNTP_AGREED, (agreed_offset_ms + (int64_t) now) / 1000, sample_count, server_count);
    } else if (result == -1) {
        end_round(now, SNTP_RETRY_MS);
        hooks->report(STAPLER_SNTP_CONTRADICTS, offset_s + (int64_t) (now / 1000u), sample_count, server_count);
    }
}

static void next_server(void)
{
    current++;
    sent = 0;
    generation++;
    if (current >= server_count) {
        const uint64_t now = hooks->now_ms();

        end_round(now, agreed ? (uint32_t) CONFIG_STAPLER_SNTP_INTERVAL_S * 1000u : SNTP_RETRY_MS);
        hooks->report(STAPLER_SNTP_NO_AGREEMENT, 0, sample_count, server_count);
    }
}

static void send_request(void)
{
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, SNTP_PACKET, PBUF_RAM);
    unsigned char *q;

    if (p == NULL) {
        next_server();
        return;
    }
    q = p->payload;
    memset(q, 0, SNTP_PACKET);
    q[0] = 0x23; /* LI 0, version 4, mode 3 (client) */
    if (hooks->random(cookie, sizeof(cookie)) != 0) {
        pbuf_free(p);
        next_server();
        return;
    }
    memcpy(q + 40, cookie, sizeof(cookie));
    if (udp_sendto(pcb, p, &current_addr, servers[current].port) != ERR_OK) {
        pbuf_free(p);
        next_server();
        return;
    }
    pbuf_free(p);
    sent = 1;
}

static void resolved(const char *name, const ip_addr_t *address, void *arg)
{
    (void) name;
    if (!asking || sent || (uint32_t) (uintptr_t) arg != generation) {
        return; /* late: that server's turn is over */
    }
    if (address == NULL || !IP_IS_V4(address)) {
        next_server();
        return;
    }
    ip_addr_copy(current_addr, *address);
    send_request();
}

static void ask(void)
{
    err_t err;

    asked_ms = hooks->now_ms();
    sent = 0;
    err = dns_gethostbyname(servers[current].host, &current_addr, resolved, (void *) (uintptr_t) generation);
    if (err == ERR_OK) {
        send_request();
    } else if (err != ERR_INPROGRESS) {
        next_server();
    }
}

static void received(void *arg, struct udp_pcb *upcb, struct pbuf *p, const ip_addr_t *address, u16_t port)
{
    unsigned char m[SNTP_PACKET];
    uint64_t now;
    int64_t utc_ms;
    uint32_t seconds;

    (void) arg;
    (void) upcb;
    if (!asking || !sent || p->tot_len < SNTP_PACKET || pbuf_copy_partial(p, m, SNTP_PACKET, 0) != SNTP_PACKET ||
        !ip_addr_cmp(address, &current_addr) || port != servers[current].port) {
        pbuf_free(p);
        return;
    }
    pbuf_free(p);
    now = hooks->now_ms();
    if ((m[0] & 7u) != 4u || ((m[0] >> 3) & 7u) < 3u || ((m[0] >> 3) & 7u) > 4u || (m[0] >> 6) == 3u ||
        m[1] == 0u || m[1] > 15u || memcmp(m + 24, cookie, sizeof(cookie)) != 0) {
        next_server(); /* an answer, but not one to use: a kiss-o'-death, unsynchronised, not ours */
        if (asking) {
            ask();
        }
        return;
    }
    /* Transmit timestamp; seconds below 2^31 are era 1 (from 2036-02-07 on). */
    seconds = be32(m + 40);
    utc_ms = ((int64_t) seconds + ((seconds & 0x80000000u) ? 0 : (int64_t) 1 << 32) - SNTP_UNIX_OFFSET) * 1000 +
             (int64_t) (((uint64_t) be32(m + 44) * 1000u) >> 32);
    if (sample_count < STAPLER_SNTP_SERVERS_MAX) {
        samples[sample_count].source = current;
        sample_ms[sample_count] = utc_ms - (int64_t) now;
        /* whole seconds, rounded down, as the agent counts them */
        samples[sample_count].utc_at_zero = (utc_ms - (int64_t) now + (utc_ms < (int64_t) now ? -999 : 0)) / 1000;
        sample_count++;
    }
    evaluate();
    if (asking) {
        next_server();
        if (asking) {
            ask();
        }
    }
}

int stapler_sntp_start(const char *list, const stapler_sntp_hooks_t *h)
{
    const char *p = list;

    server_count = 0;
    if (list == NULL || list[0] == '\0') {
        return 0;
    }
    while (*p != '\0') {
        const char *end = p, *colon = NULL;
        size_t n;

        while (*end != '\0' && *end != ',') {
            if (*end == ':') {
                colon = end;
            }
            end++;
        }
        n = (size_t) ((colon != NULL ? colon : end) - p);
        if (server_count == STAPLER_SNTP_SERVERS_MAX || n == 0 || n >= SNTP_HOST_MAX) {
            server_count = 0;
            return -1;
        }
        memcpy(servers[server_count].host, p, n);
        servers[server_count].host[n] = '\0';
        servers[server_count].port = SNTP_PORT;
        if (colon != NULL) {
            unsigned long v = 0;
            const char *d;

            for (d = colon + 1; d < end; d++) {
                if (*d < '0' || *d > '9' || (v = v * 10u + (unsigned long) (*d - '0')) > 65535u) {
                    server_count = 0;
                    return -1;
                }
            }
            if (v == 0) {
                server_count = 0;
                return -1;
            }
            servers[server_count].port = (uint16_t) v;
        }
        server_count++;
        p = *end == ',' ? end + 1 : end;
    }
    pcb = udp_new_ip_type(IPADDR_TYPE_V4);
    if (pcb == NULL) {
        server_count = 0;
        return -1;
    }
    udp_recv(pcb, received, NULL);
    hooks = h;
    next_round_ms = hooks->now_ms();
    return (int) server_count;
}

void stapler_sntp_poll(void)
{
    uint64_t now;

    if (server_count == 0) {
        return;
    }
    now = hooks->now_ms();
    if (!asking) {
        if (now >= next_round_ms) {
            asking = 1;
            current = 0;
            sample_count = 0;
            generation++;
            ask();
        }
        return;
    }
    if (now - asked_ms >= SNTP_ANSWER_TIMEOUT_MS) {
        next_server();
        if (asking) {
            ask();
        }
    }
}

int stapler_sntp_time(int64_t *utc_seconds)
{
    if (!agreed) {
        return 0;
    }
    *utc_seconds = (agreed_offset_ms + (int64_t) hooks->now_ms()) / 1000;
    return 1;
}
