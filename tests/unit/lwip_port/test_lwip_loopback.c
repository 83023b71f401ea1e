/* Unit tests: lwIP built with Stapler's lwipopts.h and the POSIX port (NO_SYS=1, static
 * memory) carries UDP and TCP over its loopback interface, driven the way Stapler's main
 * loop drives it: poll the netif, run the timers, never block. */
#include <string.h>

#include "unity.h"

#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"

static int lwip_started;
static ip_addr_t loopback;

static void pump(unsigned rounds)
{
    while (rounds-- > 0) {
        netif_poll_all();
        sys_check_timeouts();
    }
}

void setUp(void)
{
    if (!lwip_started) {
        lwip_init();
        IP_ADDR4(&loopback, 127, 0, 0, 1);
        lwip_started = 1;
    }
}

void tearDown(void) {}

static char udp_received[32];
static u16_t udp_from_port;

static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
    (void) arg;
    (void) pcb;
    (void) addr;
    udp_from_port = port;
    pbuf_copy_partial(p, udp_received, sizeof(udp_received) - 1, 0);
    pbuf_free(p);
}

static void test_udp_datagram_crosses_loopback(void)
{
    struct udp_pcb *server = udp_new(), *client = udp_new();
    struct pbuf *p;

    TEST_ASSERT_NOT_NULL(server);
    TEST_ASSERT_NOT_NULL(client);
    TEST_ASSERT_EQUAL_INT(ERR_OK, udp_bind(server, IP4_ADDR_ANY, 7000));
    udp_recv(server, on_udp, NULL);
    TEST_ASSERT_EQUAL_INT(ERR_OK, udp_bind(client, IP4_ADDR_ANY, 7001));

    p = pbuf_alloc(PBUF_TRANSPORT, 5, PBUF_RAM);
    TEST_ASSERT_NOT_NULL(p);
    memcpy(p->payload, "ocsp!", 5);
    TEST_ASSERT_EQUAL_INT(ERR_OK, udp_sendto(client, p, &loopback, 7000));
    pbuf_free(p);
    pump(4);

    TEST_ASSERT_EQUAL_STRING("ocsp!", udp_received);
    TEST_ASSERT_EQUAL_UINT16(7001, udp_from_port);
    udp_remove(server);
    udp_remove(client);
}

static struct tcp_pcb *accepted;
static char tcp_received[64];
static size_t tcp_received_len;
static int client_connected;

static err_t on_tcp_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void) arg;
    TEST_ASSERT_EQUAL_INT(ERR_OK, err);
    if (p == NULL) {
        return ERR_OK;
    }
    tcp_received_len += pbuf_copy_partial(p, tcp_received + tcp_received_len,
                                          (u16_t) (sizeof(tcp_received) - 1 - tcp_received_len), 0);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void) arg;
    TEST_ASSERT_EQUAL_INT(ERR_OK, err);
    accepted = pcb;
    tcp_recv(pcb, on_tcp_recv);
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void) arg;
    (void) pcb;
    client_connected = (err == ERR_OK);
    return ERR_OK;
}

static void test_tcp_stream_crosses_loopback(void)
{
    static const char request[] = "GET /ocsp HTTP/1.1\r\nHost: ca\r\n\r\n";
    struct tcp_pcb *listener = tcp_new(), *client = tcp_new();

    TEST_ASSERT_NOT_NULL(listener);
    TEST_ASSERT_NOT_NULL(client);
    TEST_ASSERT_EQUAL_INT(ERR_OK, tcp_bind(listener, &loopback, 8080));
    listener = tcp_listen(listener);
    TEST_ASSERT_NOT_NULL(listener);
    tcp_accept(listener, on_accept);

    TEST_ASSERT_EQUAL_INT(ERR_OK, tcp_connect(client, &loopback, 8080, on_connected));
    pump(8);
    TEST_ASSERT_TRUE(client_connected);
    TEST_ASSERT_NOT_NULL(accepted);

    TEST_ASSERT_EQUAL_INT(ERR_OK, tcp_write(client, request, sizeof(request) - 1, TCP_WRITE_FLAG_COPY));
    TEST_ASSERT_EQUAL_INT(ERR_OK, tcp_output(client));
    pump(8);
    TEST_ASSERT_EQUAL_size_t(sizeof(request) - 1, tcp_received_len);
    TEST_ASSERT_EQUAL_STRING(request, tcp_received);

    tcp_abort(client);
    tcp_abort(accepted);
    tcp_close(listener);
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_udp_datagram_crosses_loopback);
    RUN_TEST(test_tcp_stream_crosses_loopback);
    return UNITY_END();
}
