/* Unit tests: the port transport over lwIP (port/lwip/stapler_lwip_transport.c) on lwIP's
 * loopback interface, against a raw-API responder inside the same stack: whole HTTP
 * exchanges (stapler_http_exchange_*), a peer that resets, a port nobody listens on, a
 * name with no DNS server, and a response larger than the TCP window (flow control). */
#include <stdio.h>
#include <string.h>

#include "unity.h"

#include "lwip/dns.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "stapler/error.h"
#include "stapler/http.h"
#include "stapler_lwip_port.h"
#include "stapler_lwip_transport.h"

static stapler_port_t port;

static uint64_t real_ms(void *context)
{
    (void) context;
    return sys_now();
}

/* ---- A responder inside lwIP: reads the request head, then answers `reply`. ---------- */

static const char *reply;
static size_t reply_len;
static int reply_mode;          /* 0: answer then close; 1: reset after the head */
static char request_seen[1024];
static size_t request_seen_len;
static struct tcp_pcb *listener;

typedef struct {
    size_t sent;
} session_t;
static session_t session;

static void serve_more(struct tcp_pcb *pcb)
{
    while (session.sent < reply_len) {
        size_t n = reply_len - session.sent;
        if (n > tcp_sndbuf(pcb)) {
            n = tcp_sndbuf(pcb);
        }
        if (n == 0 || tcp_write(pcb, reply + session.sent, (u16_t) n, 0) != ERR_OK) {
            break;
        }
        session.sent += n;
    }
    tcp_output(pcb);
    if (session.sent == reply_len) {
        tcp_sent(pcb, NULL);
        tcp_close(pcb);
    }
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void) arg;
    (void) len;
    serve_more(pcb);
    return ERR_OK;
}

static err_t on_server_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void) arg;
    (void) err;
    if (p == NULL) {
        return ERR_OK;
    }
    if (request_seen_len + p->tot_len < sizeof(request_seen)) {
        pbuf_copy_partial(p, request_seen + request_seen_len, p->tot_len, 0);
        request_seen_len += p->tot_len;
        request_seen[request_seen_len] = '\0';
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (strstr(request_seen, "\r\n\r\n") != NULL) {
        tcp_recv(pcb, NULL);
        if (reply_mode == 1) {
            tcp_abort(pcb); /* RST */
            return ERR_ABRT;
        }
        session.sent = 0;
        tcp_sent(pcb, on_sent);
        serve_more(pcb);
    }
    return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void) arg;
    (void) err;
    tcp_recv(pcb, on_server_recv);
    return ERR_OK;
}

static void pump(void)
{
    netif_poll_all();
    sys_check_timeouts();
}

void setUp(void)
{
    static int started;

    if (!started) {
        lwip_init();
        listener = tcp_new();
        TEST_ASSERT_NOT_NULL(listener);
        TEST_ASSERT_EQUAL_INT(ERR_OK, tcp_bind(listener, IP4_ADDR_ANY, 8080));
        listener = tcp_listen(listener);
        tcp_accept(listener, on_accept);
        started = 1;
    }
    memset(&port, 0, sizeof(port));
    port.monotonic_ms = real_ms;
    stapler_lwip_transport_init(&port.transport);
    request_seen_len = 0;
    request_seen[0] = '\0';
    reply_mode = 0;
}

void tearDown(void)
{
    TEST_ASSERT_EQUAL_UINT(0, stapler_lwip_transport_open_count());
}

static stapler_http_exchange_t ex;
static const unsigned char ocsp_request[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

/* Run an exchange to its end (bounded: 2000 rounds). */
static int exchange(const char *url)
{
    uint32_t wait;
    int i;

    memset(&ex, 0, sizeof(ex));
    TEST_ASSERT_EQUAL_INT(0, stapler_http_exchange_start(&ex, &port, url, NULL, ocsp_request, sizeof(ocsp_request)));
    for (i = 0; i < 2000; i++) {
        if (stapler_http_exchange_step(&ex, &wait) == 1) {
            const int result = ex.result;
            stapler_http_exchange_abort(&ex);
            pump();
            return result;
        }
        pump();
    }
    TEST_FAIL_MESSAGE("exchange did not end");
    return 0;
}

static void test_a_whole_exchange_over_lwip(void)
{
    static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                                 "Content-Length: 5\r\n\r\n\x30\x03\x0a\x01\x06";

    reply = answer;
    reply_len = sizeof(answer) - 1;
    TEST_ASSERT_EQUAL_INT(0, exchange("http://127.0.0.1:8080/ocsp"));
    TEST_ASSERT_EQUAL_size_t(5, ex.response.body_len);
    TEST_ASSERT_EQUAL_MEMORY("\x30\x03\x0a\x01\x06", ex.body, 5);
    TEST_ASSERT_EQUAL_STRING_LEN("GET /ocsp/MAMCAQE%3D HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n", request_seen, 52);
}

static void test_a_body_larger_than_the_window_flows(void)
{
    static char answer[STAPLER_RESPONSE_MAX + 200];
    const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nTransfer-Encoding: chunked\r\n\r\n";
    size_t n = strlen(head), i;
    const size_t body = STAPLER_RESPONSE_MAX - 16;

    /* Two chunks, together close to the limit and larger than lwIP's TCP_WND. */
    memcpy(answer, head, n);
    n += (size_t) sprintf(answer + n, "%x\r\n", (unsigned) (body / 2));
    for (i = 0; i < body / 2; i++) {
        answer[n++] = (char) ('a' + i % 26);
    }
    n += (size_t) sprintf(answer + n, "\r\n%x\r\n", (unsigned) (body - body / 2));
    for (i = 0; i < body - body / 2; i++) {
        answer[n++] = (char) ('A' + i % 26);
    }
    n += (size_t) sprintf(answer + n, "\r\n0\r\n\r\n");
    reply = answer;
    reply_len = n;
    TEST_ASSERT_EQUAL_INT(0, exchange("http://127.0.0.1:8080/"));
    TEST_ASSERT_EQUAL_size_t(body, ex.response.body_len);
    TEST_ASSERT_EQUAL_CHAR('a', ex.body[0]);
    TEST_ASSERT_EQUAL_CHAR('A', ex.body[body / 2]);
}

static void test_reset_refused_and_dns_failures_are_told_apart(void)
{
    reply_mode = 1;
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_RESET, exchange("http://127.0.0.1:8080/"));
    reply_mode = 0;
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_REFUSED, exchange("http://127.0.0.1:8081/"));
    /* No DNS server configured in this stack: the name cannot resolve. */
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_DNS, exchange("http://ocsp.stapler.test:8080/"));
}

static void test_connections_are_bounded_and_recycled(void)
{
    int a = port.transport.connect(NULL, "127.0.0.1", 8080);
    int b = port.transport.connect(NULL, "127.0.0.1", 8080);

    TEST_ASSERT_GREATER_OR_EQUAL(0, a);
    TEST_ASSERT_GREATER_OR_EQUAL(0, b);
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_NO_RESOURCES, port.transport.connect(NULL, "127.0.0.1", 8080));
    port.transport.close(NULL, a);
    port.transport.close(NULL, b);
    pump();
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_IO, port.transport.status(NULL, a));
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_a_whole_exchange_over_lwip);
    RUN_TEST(test_a_body_larger_than_the_window_flows);
    RUN_TEST(test_reset_refused_and_dns_failures_are_told_apart);
    RUN_TEST(test_connections_are_bounded_and_recycled);
    return UNITY_END();
}
