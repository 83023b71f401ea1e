/*
 * stapler-bench-tls VECTORS KIND ALG STAPLE
 *   KIND   tls13-client-auth | tls12-server | tls13-server   (Stapler's side of the handshake)
 *   ALG    ec | rsa                                          (Stapler's identity: P-256 or RSA-2048)
 *   STAPLE staple | none
 *
 * One full handshake in memory between Stapler's side (patched Mbed TLS, the identity's key
 * and certificate, its staple handed over by pointer) and a peer (also Mbed TLS) that asks
 * for the staple. The peer runs in a child process over a socketpair, so this process's
 * figures are Stapler's side alone: callgrind counts only between the CALLGRIND toggles
 * (tools/bench-tls runs it with --collect-atstart=no), the arena peak is this process's, and
 * the bytes are what crossed the socket. Prints one line:
 *   KIND ALG STAPLE ok out=<bytes sent> in=<bytes received> staple=<bytes> arena_peak=<bytes> arena_base=<bytes>
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "psa/crypto.h"
#include "stapler_mbedtls_platform.h"
#include "stapler_posix.h"
#include "test_support.h"

static const char *vectors;
static unsigned long long bytes_out, bytes_in;
static const unsigned char *staple;
static size_t staple_len;

static int sock_send(void *ctx, const unsigned char *buf, size_t len)
{
    ssize_t n = send(*(int *) ctx, buf, len, 0);
    if (n < 0) {
        return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    }
    bytes_out += (unsigned long long) n;
    return (int) n;
}

static int sock_recv(void *ctx, unsigned char *buf, size_t len)
{
    ssize_t n = recv(*(int *) ctx, buf, len, 0);
    if (n < 0) {
        return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    }
    bytes_in += (unsigned long long) n;
    return (int) n;
}

static int staple_cb(void *p, mbedtls_ssl_context *ssl, const mbedtls_x509_crt *crt, int depth, size_t room,
                     const unsigned char **der, size_t *der_len)
{
    (void) p; (void) ssl; (void) crt; (void) room;
    if (depth == 0 && staple_len > 0) {
        *der = staple;
        *der_len = staple_len;
    }
    return 0;
}

static int accept_cb(void *p, mbedtls_ssl_context *ssl, const mbedtls_x509_crt *chain, int depth,
                     const unsigned char *der, size_t der_len)
{
    int *seen = p;
    (void) ssl; (void) chain;
    if (depth == 0 && der != NULL) {
        *seen = (int) der_len;
    }
    return 0;
}

static void die(const char *what, int ret)
{
    fprintf(stderr, "stapler-bench-tls: %s: -0x%04x\n", what, (unsigned) -ret);
    exit(1);
}

/* Keys are loaded the way Stapler's TLS glue loads a device key (with PSA: into PSA once,
 * an opaque PK), so the figures are the glue's. */
static mbedtls_svc_key_id_t key_id = MBEDTLS_SVC_KEY_ID_INIT;

static void load_key(mbedtls_pk_context *key, const char *name)
{
    static unsigned char buf[8192];
    long n = stapler_test_read(vectors, name, buf, sizeof(buf) - 1);
    int ret;
    if (n <= 0) {
        die(name, -1);
    }
    ret = stapler_mbedtls_platform_parse_key(key, &key_id, buf, (size_t) n);
    if (ret != 0) {
        die(name, ret);
    }
}

static void load_crt(mbedtls_x509_crt *crt, const char *name)
{
    if (stapler_test_load_crt(crt, vectors, name) != 0) {
        die(name, -1);
    }
}

/* Run a handshake on an fd to the end. */
static int handshake(mbedtls_ssl_context *ssl, int measure)
{
    int ret;
    do {
        if (measure) {
            CALLGRIND_TOGGLE_COLLECT;
        }
        ret = mbedtls_ssl_handshake(ssl);
        if (measure) {
            CALLGRIND_TOGGLE_COLLECT;
        }
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    return ret;
}

int main(int argc, char **argv)
{
    static unsigned char staple_buf[8192];
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_x509_crt own, ca;
    mbedtls_pk_context key;
    const char *kind, *alg;
    int server_side, tls13, want_staple, fds[2], fd, ret, seen = -1, status;
    size_t base, peak, cur;
    unsigned long long hs_out, hs_in;
    pid_t child;

    if (argc != 5) {
        fprintf(stderr, "usage: stapler-bench-tls VECTORS tls13-client-auth|tls12-server|tls13-server ec|rsa staple|none\n");
        return 2;
    }
    vectors = argv[1];
    kind = argv[2];
    alg = argv[3];
    want_staple = strcmp(argv[4], "staple") == 0;
    server_side = strcmp(kind, "tls13-client-auth") != 0;
    tls13 = strcmp(kind, "tls12-server") != 0;
    signal(SIGPIPE, SIG_IGN);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        perror("socketpair");
        return 1;
    }
    child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    /* Both processes: their own arena, PSA and configuration. */
    if (stapler_posix_mbedtls_setup() != 0 || psa_crypto_init() != PSA_SUCCESS) {
        die("setup", -1);
    }
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    mbedtls_x509_crt_init(&own);
    mbedtls_x509_crt_init(&ca);
    mbedtls_pk_init(&key);
    if (child == 0) {
        /* The peer: the other role, asks for the staple, trusts our CA. */
        fd = fds[1];
        close(fds[0]);
        ret = mbedtls_ssl_config_defaults(&conf, server_side ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
        if (ret != 0) {
            die("peer config", ret);
        }
        mbedtls_ssl_conf_rng(&conf, stapler_mbedtls_platform_random, NULL);
        load_crt(&ca, strcmp(alg, "ec") == 0 ? "ca-ec.der" : "ca-rsa.der");
        mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
        mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_ocsp_verify_cb(&conf, accept_cb, &seen);
        mbedtls_ssl_conf_min_tls_version(&conf, tls13 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2);
        mbedtls_ssl_conf_max_tls_version(&conf, tls13 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2);
        if (!server_side) {
            /* The peer is the server of a client-auth handshake: it has its own identity. */
            load_crt(&own, "leaf2-rsa.der");
            load_key(&key, "leaf2-rsa-key-pkcs8.der");
            mbedtls_x509_crt_free(&ca);
            mbedtls_x509_crt_init(&ca);
            load_crt(&ca, strcmp(alg, "ec") == 0 ? "ca-ec.der" : "ca-rsa.der");
            mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
            if (mbedtls_ssl_conf_own_cert(&conf, &own, &key) != 0) {
                die("peer cert", -1);
            }
        }
        if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0) {
            die("peer setup", ret);
        }
        if (server_side) {
            (void) mbedtls_ssl_set_hostname(&ssl, strcmp(alg, "ec") == 0 ? "gateway-ec" : "gateway-rsa");
        }
        mbedtls_ssl_set_bio(&ssl, &fd, sock_send, sock_recv, NULL);
        ret = handshake(&ssl, 0);
        if (ret == 0) {
            (void) mbedtls_ssl_close_notify(&ssl);
        }
        close(fd);
        _exit(ret == 0 && (seen > 0) == want_staple ? 0 : 3);
    }

    /* Stapler's side. */
    fd = fds[0];
    close(fds[1]);
    load_crt(&own, strcmp(alg, "ec") == 0 ? "leaf-ec.der" : "leaf-rsa.der");
    load_key(&key, strcmp(alg, "ec") == 0 ? "leaf-ec-key-pkcs8.der" : "leaf-rsa-key-pkcs8.der");
    load_crt(&ca, "ca-rsa.der"); /* the client-auth peer's CA */
    if (want_staple) {
        long n = stapler_test_read(vectors, strcmp(alg, "ec") == 0 ? "good-ec.der" : "good-rsa-byname.der",
                                   staple_buf, sizeof(staple_buf));
        if (n <= 0) {
            die("staple", -1);
        }
        staple = staple_buf;
        staple_len = (size_t) n;
    }
    ret = mbedtls_ssl_config_defaults(&conf, server_side ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        die("config", ret);
    }
    mbedtls_ssl_conf_rng(&conf, stapler_mbedtls_platform_random, NULL);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_authmode(&conf, server_side ? MBEDTLS_SSL_VERIFY_NONE : MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_min_tls_version(&conf, tls13 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&conf, tls13 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2);
    if ((ret = mbedtls_ssl_conf_own_cert(&conf, &own, &key)) != 0) {
        die("own cert", ret);
    }
    mbedtls_ssl_conf_ocsp_staple_cb(&conf, staple_cb, NULL);
    stapler_mbedtls_platform_arena_usage(&base, &peak);
    stapler_mbedtls_platform_arena_reset_peak();
    if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0) {
        die("setup", ret);
    }
    if (!server_side) {
        (void) mbedtls_ssl_set_hostname(&ssl, "gateway-2"); /* the peer server's certificate */
    }
    mbedtls_ssl_set_bio(&ssl, &fd, sock_send, sock_recv, NULL);
    ret = handshake(&ssl, 1);
    stapler_mbedtls_platform_arena_usage(&cur, &peak);
    hs_out = bytes_out;
    hs_in = bytes_in;
    if (ret == 0) {
        unsigned char b[64];
        /* Let the peer finish (TLS 1.3 client auth: it reads our Finished after we are done). */
        (void) mbedtls_ssl_read(&ssl, b, sizeof(b));
    }
    close(fd);
    waitpid(child, &status, 0);
    if (ret != 0) {
        die("handshake", ret);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "stapler-bench-tls: the peer's handshake failed or saw the wrong staple\n");
        return 1;
    }
    printf("%s %s %s ok out=%llu in=%llu staple=%zu arena_peak=%zu arena_base=%zu\n", kind, alg, argv[4],
           hs_out, hs_in, staple_len, peak, base);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&own);
    mbedtls_x509_crt_free(&ca);
    stapler_mbedtls_platform_free_key(&key, &key_id);
    mbedtls_psa_crypto_free();
    return 0;
}
