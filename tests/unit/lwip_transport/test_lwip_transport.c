/* Unit tests: the port transport over lwIP (port/lwip/stapler_lwip_transport.c) on lwIP's
 * loopback interface, against a raw-API responder inside the same stack: whole HTTP
 * exchanges (stapler_http_exchange_*), a peer that resets, a port nobody listens on, a
 * name with no DNS server, and a response larger than the TCP window (flow control).
 * The listening side (listen/accept/unlisten): a client of the transport itself over
 * IPv4 and IPv6 loopback, and raw-API clients to fill, reset and refuse slots. */
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
    stapler_lwip_transport_unlisten(); /* a no-op unless a test failed half-way */
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
    int conns[STAPLER_LWIP_CONNECTIONS];
    int i;

    for (i = 0; i < STAPLER_LWIP_CONNECTIONS; i++) {
        conns[i] = port.transport.connect(NULL, "127.0.0.1", 8080);
        TEST_ASSERT_GREATER_OR_EQUAL(0, conns[i]);
    }
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_NO_RESOURCES, port.transport.connect(NULL, "127.0.0.1", 8080));
    for (i = 0; i < STAPLER_LWIP_CONNECTIONS; i++) {
        port.transport.close(NULL, conns[i]);
    }
    pump();
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_IO, port.transport.status(NULL, conns[0]));
}

/* ---- The listening side ---------------------------------------------------------------- */

#define LISTEN_PORT 8443

/* accept() over up to `rounds` pumps, until it returns anything but "nothing waiting". */
static int accept_within(int rounds)
{
    int i, result = STAPLER_PORT_ERR_CLOSED;

    for (i = 0; i < rounds && result == STAPLER_PORT_ERR_CLOSED; i++) {
        pump();
        result = stapler_lwip_transport_accept();
    }
    return result;
}

/* recv() until `len` bytes came (bounded), or the first error; returns bytes or the error. */
static int receive_all(int conn, char *buffer, size_t len)
{
    size_t got = 0;
    int i;

    for (i = 0; i < 200 && got < len; i++) {
        const int n = port.transport.recv(NULL, conn, buffer + got, len - got);
        if (n < 0) {
            return n;
        }
        got += (size_t) n;
        pump();
    }
    return (int) got;
}

/* A raw-API client inside the same stack: no transport slot of its own. */
typedef struct {
    struct tcp_pcb *pcb;   /* NULL once lwIP freed it (error) or we let it go */
    int connected;
    err_t error;           /* ERR_OK until the error callback */
} raw_client_t;

static err_t raw_client_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    raw_client_t *client = (raw_client_t *) arg;

    (void) pcb;
    client->connected = err == ERR_OK;
    return ERR_OK;
}

static void raw_client_error(void *arg, err_t err)
{
    raw_client_t *client = (raw_client_t *) arg;

    client->pcb = NULL;
    client->error = err;
}

static void raw_client_connect(raw_client_t *client)
{
    ip_addr_t loopback;

    memset(client, 0, sizeof(*client));
    IP_ADDR4(&loopback, 127, 0, 0, 1);
    client->pcb = tcp_new();
    TEST_ASSERT_NOT_NULL(client->pcb);
    tcp_arg(client->pcb, client);
    tcp_err(client->pcb, raw_client_error);
    TEST_ASSERT_EQUAL_INT(ERR_OK, tcp_connect(client->pcb, &loopback, LISTEN_PORT, raw_client_connected));
}

/* Reset the raw client (RST to the accepted side). */
static void raw_client_reset(raw_client_t *client)
{
    if (client->pcb != NULL) {
        tcp_arg(client->pcb, NULL);
        tcp_err(client->pcb, NULL);
        tcp_abort(client->pcb);
        client->pcb = NULL;
    }
    pump();
}

/* Connect with the transport to `host`, accept, and move bytes both ways, then close. */
static void exchange_with_own_listener(const char *host)
{
    static const char request[] = "ping from the client";
    static const char answer[] = "pong from the server";
    char buffer[64];
    int client, server, i;

    TEST_ASSERT_EQUAL_INT(0, stapler_lwip_transport_listen(LISTEN_PORT));
    client = port.transport.connect(NULL, host, LISTEN_PORT);
    TEST_ASSERT_GREATER_OR_EQUAL(0, client);
    server = accept_within(50);
    TEST_ASSERT_GREATER_OR_EQUAL(0, server);
    TEST_ASSERT_NOT_EQUAL_INT(client, server);
    TEST_ASSERT_EQUAL_INT(1, port.transport.status(NULL, server));
    for (i = 0; i < 50 && port.transport.status(NULL, client) == 0; i++) {
        pump();
    }
    TEST_ASSERT_EQUAL_INT(1, port.transport.status(NULL, client));
    TEST_ASSERT_EQUAL_UINT(2, stapler_lwip_transport_open_count());
    /* Nobody else is waiting. */
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_CLOSED, stapler_lwip_transport_accept());

    TEST_ASSERT_EQUAL_INT((int) sizeof(request) - 1, port.transport.send(NULL, client, request, sizeof(request) - 1));
    pump();
    memset(buffer, 0, sizeof(buffer));
    TEST_ASSERT_EQUAL_INT((int) sizeof(request) - 1, receive_all(server, buffer, sizeof(request) - 1));
    TEST_ASSERT_EQUAL_STRING(request, buffer);

    TEST_ASSERT_EQUAL_INT((int) sizeof(answer) - 1, port.transport.send(NULL, server, answer, sizeof(answer) - 1));
    pump();
    memset(buffer, 0, sizeof(buffer));
    TEST_ASSERT_EQUAL_INT((int) sizeof(answer) - 1, receive_all(client, buffer, sizeof(answer) - 1));
    TEST_ASSERT_EQUAL_STRING(answer, buffer);

    /* The client's FIN reaches the server as the end of the stream. */
    port.transport.close(NULL, client);
    pump();
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_CLOSED, receive_all(server, buffer, 1));
    port.transport.close(NULL, server);
    pump();
    TEST_ASSERT_EQUAL_UINT(0, stapler_lwip_transport_open_count());
    stapler_lwip_transport_unlisten();
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_IO, stapler_lwip_transport_accept());
}

static void test_listen_accept_and_exchange_bytes_both_ways_ipv4(void)
{
    exchange_with_own_listener("127.0.0.1");
}

static void test_listen_accept_and_exchange_bytes_both_ways_ipv6(void)
{
    exchange_with_own_listener("::1");
}

static void test_bytes_sent_before_accept_are_held_for_recv(void)
{
    char buffer[8];
    int client, server, i;

    TEST_ASSERT_EQUAL_INT(0, stapler_lwip_transport_listen(LISTEN_PORT));
    client = port.transport.connect(NULL, "127.0.0.1", LISTEN_PORT);
    TEST_ASSERT_GREATER_OR_EQUAL(0, client);
    for (i = 0; i < 50 && port.transport.status(NULL, client) == 0; i++) {
        pump();
    }
    TEST_ASSERT_EQUAL_INT(1, port.transport.status(NULL, client));
    TEST_ASSERT_EQUAL_INT(5, port.transport.send(NULL, client, "early", 5));
    port.transport.close(NULL, client); /* and the FIN too, all before accept() */
    for (i = 0; i < 10; i++) {
        pump();
    }
    server = stapler_lwip_transport_accept();
    TEST_ASSERT_GREATER_OR_EQUAL(0, server);
    TEST_ASSERT_EQUAL_INT(5, receive_all(server, buffer, 5));
    TEST_ASSERT_EQUAL_MEMORY("early", buffer, 5);
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_CLOSED, port.transport.recv(NULL, server, buffer, sizeof(buffer)));
    port.transport.close(NULL, server);
    stapler_lwip_transport_unlisten();
    pump();
}

static void test_accept_with_nothing_waiting_and_listen_misuse(void)
{
    /* Not listening: accept() is a misuse, not "nothing yet". */
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_IO, stapler_lwip_transport_accept());
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_IO, stapler_lwip_transport_listen(0));
    /* The responder of the other tests listens on 8080: in use. */
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_IO, stapler_lwip_transport_listen(8080));
    TEST_ASSERT_EQUAL_INT(0, stapler_lwip_transport_listen(LISTEN_PORT));
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_CLOSED, stapler_lwip_transport_accept());
    pump();
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_CLOSED, stapler_lwip_transport_accept());
    /* One listener at a time: a second listen() fails and leaves the first in place. */
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_IO, stapler_lwip_transport_listen(LISTEN_PORT + 1));
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_CLOSED, stapler_lwip_transport_accept());
    stapler_lwip_transport_unlisten();
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_IO, stapler_lwip_transport_accept());
    stapler_lwip_transport_unlisten(); /* twice is harmless */
    /* The port is free again. */
    TEST_ASSERT_EQUAL_INT(0, stapler_lwip_transport_listen(LISTEN_PORT));
    stapler_lwip_transport_unlisten();
}

static void test_a_client_finding_no_free_slot_is_refused(void)
{
    int conns[STAPLER_LWIP_CONNECTIONS];
    const unsigned refused = stapler_lwip_transport_refused_count();
    raw_client_t client;
    int i, server;

    TEST_ASSERT_EQUAL_INT(0, stapler_lwip_transport_listen(LISTEN_PORT));
    /* Fill every slot with outgoing connections that hold no pcb (no route off loopback). */
    for (i = 0; i < STAPLER_LWIP_CONNECTIONS; i++) {
        conns[i] = port.transport.connect(NULL, "192.0.2.1", 80);
        TEST_ASSERT_GREATER_OR_EQUAL(0, conns[i]);
        TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_UNREACHABLE, port.transport.status(NULL, conns[i]));
    }
    raw_client_connect(&client);
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_NO_RESOURCES, accept_within(50));
    /* Told once; the client was reset, not left hanging. */
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_CLOSED, stapler_lwip_transport_accept());
    TEST_ASSERT_EQUAL_UINT(refused + 1, stapler_lwip_transport_refused_count());
    for (i = 0; i < 10 && client.error == ERR_OK; i++) {
        pump();
    }
    TEST_ASSERT_EQUAL_INT(ERR_RST, client.error);
    TEST_ASSERT_NULL(client.pcb);

    /* A slot freed: the next client is accepted. */
    port.transport.close(NULL, conns[0]);
    raw_client_connect(&client);
    server = accept_within(50);
    TEST_ASSERT_GREATER_OR_EQUAL(0, server);
    TEST_ASSERT_EQUAL_INT(1, port.transport.status(NULL, server));
    TEST_ASSERT_EQUAL_INT(1, client.connected);
    TEST_ASSERT_EQUAL_UINT(refused + 1, stapler_lwip_transport_refused_count());
    raw_client_reset(&client);
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_RESET, port.transport.status(NULL, server));
    port.transport.close(NULL, server);
    for (i = 1; i < STAPLER_LWIP_CONNECTIONS; i++) {
        port.transport.close(NULL, conns[i]);
    }
    stapler_lwip_transport_unlisten();
}

static void test_accepted_connections_leave_a_slot_for_connect(void)
{
    int accepted[STAPLER_LWIP_ACCEPTED_MAX];
    const unsigned refused = stapler_lwip_transport_refused_count();
    raw_client_t client;
    int i, outgoing;

    TEST_ASSERT_EQUAL_INT(0, stapler_lwip_transport_listen(LISTEN_PORT));
    /* Accept the most allowed; each client then resets, so its slot stays held (status
     * RESET until close) while the pcb pool stays free for the next. */
    for (i = 0; i < STAPLER_LWIP_ACCEPTED_MAX; i++) {
        raw_client_connect(&client);
        accepted[i] = accept_within(50);
        TEST_ASSERT_GREATER_OR_EQUAL(0, accepted[i]);
        raw_client_reset(&client);
        TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_RESET, port.transport.status(NULL, accepted[i]));
    }
    TEST_ASSERT_EQUAL_UINT(STAPLER_LWIP_ACCEPTED_MAX, stapler_lwip_transport_open_count());
    /* A slot is free, yet kept for connect(): the next client is refused. */
    raw_client_connect(&client);
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_NO_RESOURCES, accept_within(50));
    TEST_ASSERT_EQUAL_UINT(refused + 1, stapler_lwip_transport_refused_count());
    outgoing = port.transport.connect(NULL, "192.0.2.1", 80);
    TEST_ASSERT_GREATER_OR_EQUAL(0, outgoing);
    port.transport.close(NULL, outgoing);
    for (i = 0; i < STAPLER_LWIP_ACCEPTED_MAX; i++) {
        port.transport.close(NULL, accepted[i]);
    }
    stapler_lwip_transport_unlisten();
    pump();
}

static void test_waiting_clients_are_dropped_on_reset_and_on_unlisten(void)
{
    raw_client_t client;
    int i;

    TEST_ASSERT_EQUAL_INT(0, stapler_lwip_transport_listen(LISTEN_PORT));
    /* Reset before accept(): never handed out. */
    raw_client_connect(&client);
    for (i = 0; i < 10; i++) {
        pump();
    }
    TEST_ASSERT_EQUAL_INT(1, client.connected);
    TEST_ASSERT_EQUAL_UINT(1, stapler_lwip_transport_open_count()); /* held, waiting */
    raw_client_reset(&client);
    TEST_ASSERT_EQUAL_UINT(0, stapler_lwip_transport_open_count());
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_CLOSED, stapler_lwip_transport_accept());

    /* Waiting when the listener goes: the client is reset. */
    raw_client_connect(&client);
    for (i = 0; i < 10; i++) {
        pump();
    }
    TEST_ASSERT_EQUAL_INT(1, client.connected);
    TEST_ASSERT_EQUAL_UINT(1, stapler_lwip_transport_open_count());
    stapler_lwip_transport_unlisten();
    TEST_ASSERT_EQUAL_UINT(0, stapler_lwip_transport_open_count());
    for (i = 0; i < 10 && client.error == ERR_OK; i++) {
        pump();
    }
    TEST_ASSERT_EQUAL_INT(ERR_RST, client.error);
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_a_whole_exchange_over_lwip);
    RUN_TEST(test_a_body_larger_than_the_window_flows);
    RUN_TEST(test_reset_refused_and_dns_failures_are_told_apart);
    RUN_TEST(test_connections_are_bounded_and_recycled);
    RUN_TEST(test_listen_accept_and_exchange_bytes_both_ways_ipv4);
    RUN_TEST(test_listen_accept_and_exchange_bytes_both_ways_ipv6);
    RUN_TEST(test_bytes_sent_before_accept_are_held_for_recv);
    RUN_TEST(test_accept_with_nothing_waiting_and_listen_misuse);
    RUN_TEST(test_a_client_finding_no_free_slot_is_refused);
    RUN_TEST(test_accepted_connections_leave_a_slot_for_connect);
    RUN_TEST(test_waiting_clients_are_dropped_on_reset_and_on_unlisten);
    return UNITY_END();
}
