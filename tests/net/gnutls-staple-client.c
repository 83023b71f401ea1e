/*
 * gnutls-staple-client: a small TLS client on GnuTLS for testing a server's side of client
 * OCSP stapling. A TLS 1.3 server may ask for the client certificate's OCSP response with a
 * status_request extension in its CertificateRequest (RFC 8446 4.4.2.1); GnuTLS answers with
 * the response set by --ocsp, in the extensions of the leaf's CertificateEntry.
 *
 * GnuTLS does not report whether it sent the staple, so a handshake hook reads the
 * handshake messages themselves: the server's CertificateRequest (was a certificate, and its
 * status, asked for?) and the client's own Certificate (did the leaf entry carry a
 * status_request extension?).
 *
 * One result line on stdout:
 *   gnutls-staple-client: handshake ok version=TLS1.3 client_staple=<sent|not-sent|none>
 *       server_staple=<checked|unchecked|none> cert_request=<none|yes|yes+status_request>
 *   gnutls-staple-client: handshake FAILED: <gnutls_strerror> (alert: <received alert|none>)
 * then, after a successful handshake, what the server says (one line), or why it says
 * nothing; a TLS 1.3 server refusing the client's certificate or staple is only heard here:
 *   gnutls-staple-client: server says: <line>
 *   gnutls-staple-client: server says nothing (closed|timeout)
 *   gnutls-staple-client: connection FAILED after the handshake: <strerror> (alert: ...)
 * Exit status: 0 handshake ok (and no failure after it), 1 TLS failure, 2 usage or setup.
 *
 * client_staple: sent = the leaf entry of the Certificate message carried the response;
 * not-sent = --ocsp given but it did not go out (TLS 1.2 has no client staple, the server
 * did not ask, or GnuTLS found the response expired); none = no --ocsp.
 * GnuTLS refuses to load a response that is revoked, past its nextUpdate or for another
 * certificate; --ocsp-as-is loads the file unchecked and staples it whatever it says, for
 * testing how the server treats a bad client staple.
 * The client certificate goes out even when its issuer is not among the server's
 * certificate_authorities (GNUTLS_FORCE_CLIENT_CERT): the server judges it, not the client.
 * server_staple: checked = the server stapled and GnuTLS verified the response; unchecked =
 * stapled, not verified (--no-verify-staple); none = no staple. A staple that fails the
 * check fails the handshake (certificate verification).
 *
 * GNUTLS_DEBUG_LEVEL=N in the environment turns on GnuTLS's own log on stderr.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define PROG "gnutls-staple-client"
#define TIMEOUT_MS 10000u
#define BYE_TIMEOUT_MS 2000u
#define LINE_BYTES 1024u

#define EXIT_TLS 1
#define EXIT_SETUP 2

/* TLS extension type status_request (RFC 6066, RFC 8446 4.2). */
#define EXT_STATUS_REQUEST 5u

struct options {
    const char *host;
    const char *port;
    const char *ca;
    const char *cert;
    const char *key;
    const char *ocsp;
    const char *servername;
    const char *send;
    const char *priority;
    int verify_staple;
    int ocsp_as_is;
};

/* What the handshake hook saw. */
struct observed {
    int cert_requested;     /* a CertificateRequest arrived */
    int cr_status_request;  /* ... with status_request (TLS 1.3) */
    int staple_sent;        /* our leaf CertificateEntry carried status_request (TLS 1.3) */
};

static void usage(void)
{
    fprintf(stderr,
            "usage: " PROG " --host ADDR --port P --ca CA.pem --cert CERT.pem --key KEY.pem\n"
            "       [--ocsp RESPONSE.der] [--servername NAME] [--tls12|--tls13]\n"
            "       [--ocsp-as-is] [--no-verify-staple] [--send TEXT]\n"
            "  --ca          trust anchors for the server certificate (PEM)\n"
            "  --cert/--key  client certificate chain and key (PEM)\n"
            "  --ocsp        OCSP response (DER) for the client certificate, stapled when a\n"
            "                TLS 1.3 server asks for it in its CertificateRequest\n"
            "  --ocsp-as-is  load --ocsp without GnuTLS's checks (revoked, expired or\n"
            "                mismatched responses are stapled too)\n"
            "  --servername  SNI and the name the server certificate must match (localhost)\n"
            "  --tls12/13    only that version (default: whatever NORMAL negotiates)\n"
            "  --no-verify-staple  do not check the server's OCSP staple\n"
            "  --send        write TEXT and a newline after the handshake, before reading\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof(*o));
    o->servername = "localhost";
    o->priority = "NORMAL";
    o->verify_staple = 1;
    int version_set = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--host") == 0) {
            slot = &o->host;
        } else if (strcmp(a, "--port") == 0) {
            slot = &o->port;
        } else if (strcmp(a, "--ca") == 0) {
            slot = &o->ca;
        } else if (strcmp(a, "--cert") == 0) {
            slot = &o->cert;
        } else if (strcmp(a, "--key") == 0) {
            slot = &o->key;
        } else if (strcmp(a, "--ocsp") == 0) {
            slot = &o->ocsp;
        } else if (strcmp(a, "--servername") == 0) {
            slot = &o->servername;
        } else if (strcmp(a, "--send") == 0) {
            slot = &o->send;
        } else if (strcmp(a, "--tls12") == 0 || strcmp(a, "--tls13") == 0) {
            if (version_set) {
                fprintf(stderr, PROG ": give at most one of --tls12, --tls13\n");
                return -1;
            }
            version_set = 1;
            o->priority = strcmp(a, "--tls12") == 0 ? "NORMAL:-VERS-ALL:+VERS-TLS1.2"
                                                    : "NORMAL:-VERS-ALL:+VERS-TLS1.3";
            continue;
        } else if (strcmp(a, "--ocsp-as-is") == 0) {
            o->ocsp_as_is = 1;
            continue;
        } else if (strcmp(a, "--no-verify-staple") == 0) {
            o->verify_staple = 0;
            continue;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            return -1;
        } else {
            fprintf(stderr, PROG ": unknown argument '%s'\n", a);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, PROG ": %s needs a value\n", a);
            return -1;
        }
        *slot = argv[++i];
    }

    if (o->host == NULL || o->port == NULL || o->ca == NULL || o->cert == NULL || o->key == NULL) {
        fprintf(stderr, PROG ": --host, --port, --ca, --cert and --key are required\n");
        return -1;
    }
    if (o->ocsp_as_is && o->ocsp == NULL) {
        fprintf(stderr, PROG ": --ocsp-as-is needs --ocsp\n");
        return -1;
    }
    char *end = NULL;
    errno = 0;
    unsigned long port = strtoul(o->port, &end, 10);
    if (errno != 0 || end == o->port || *end != '\0' || port == 0 || port > 65535) {
        fprintf(stderr, PROG ": bad port '%s'\n", o->port);
        return -1;
    }
    if (o->servername[0] == '\0') {
        fprintf(stderr, PROG ": empty --servername\n");
        return -1;
    }
    return 0;
}

/* A TCP connection to host:port (IPv4 or IPv6), or -1 with a message on stderr. */
static int connect_tcp(const char *host, const char *port)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;

    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, PROG ": %s port %s: %s\n", host, port, gai_strerror(rc));
        return -1;
    }

    int fd = -1;
    int last_errno = 0;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        /* Bounds connect() (Linux applies SO_SNDTIMEO to it); cleared once connected so
         * that GnuTLS's own timeouts are the only ones after that. */
        struct timeval tv = { .tv_sec = TIMEOUT_MS / 1000u, .tv_usec = 0 };
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            struct timeval none = { 0, 0 };
            (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));
            break;
        }
        last_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, PROG ": connect to %s port %s: %s\n", host, port,
                last_errno != 0 ? strerror(last_errno) : "no address");
    }
    return fd;
}

static uint32_t get_u16(const unsigned char *p)
{
    return ((uint32_t)p[0] << 8) | p[1];
}

static uint32_t get_u24(const unsigned char *p)
{
    return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

/* Does the extension list ext[0..len) (TLS Extension entries) hold `type`? Malformed lists
 * answer no. */
static int extensions_have(const unsigned char *ext, size_t len, uint32_t type)
{
    size_t pos = 0;
    while (len - pos >= 4) {
        uint32_t t = get_u16(ext + pos);
        uint32_t l = get_u16(ext + pos + 2);
        pos += 4;
        if (l > len - pos)
            return 0;
        if (t == type)
            return 1;
        pos += l;
    }
    return 0;
}

/* TLS 1.3 CertificateRequest: context<0..255>, extensions<2..2^16-1>. */
static int cr13_asks_status(const unsigned char *m, size_t n)
{
    if (n < 1 || (size_t)m[0] + 1 + 2 > n)
        return 0;
    size_t pos = 1 + (size_t)m[0];
    size_t elen = get_u16(m + pos);
    pos += 2;
    if (elen > n - pos)
        return 0;
    return extensions_have(m + pos, elen, EXT_STATUS_REQUEST);
}

/* TLS 1.3 Certificate: context<0..255>, certificate_list<0..2^24-1> of CertificateEntry
 * { cert_data<1..2^24-1>, extensions<0..2^16-1> }; looks at the first (leaf) entry. */
static int cert13_leaf_has_status(const unsigned char *m, size_t n)
{
    if (n < 1 || (size_t)m[0] + 1 + 3 > n)
        return 0;
    size_t pos = 1 + (size_t)m[0];
    size_t list_len = get_u24(m + pos);
    pos += 3;
    if (list_len > n - pos || list_len < 3)
        return 0;
    size_t end = pos + list_len;
    size_t cert_len = get_u24(m + pos);
    pos += 3;
    if (cert_len > end - pos || end - pos - cert_len < 2)
        return 0;
    pos += cert_len;
    size_t elen = get_u16(m + pos);
    pos += 2;
    if (elen > end - pos)
        return 0;
    return extensions_have(m + pos, elen, EXT_STATUS_REQUEST);
}

static int handshake_hook(gnutls_session_t session, unsigned int htype, unsigned when,
                          unsigned int incoming, const gnutls_datum_t *msg)
{
    (void)when;
    struct observed *seen = gnutls_session_get_ptr(session);
    if (seen == NULL || msg == NULL)
        return 0;
    int tls13 = gnutls_protocol_get_version(session) == GNUTLS_TLS1_3;

    if (incoming && htype == GNUTLS_HANDSHAKE_CERTIFICATE_REQUEST) {
        seen->cert_requested = 1;
        if (tls13 && cr13_asks_status(msg->data, msg->size))
            seen->cr_status_request = 1;
    } else if (!incoming && htype == GNUTLS_HANDSHAKE_CERTIFICATE_PKT) {
        if (tls13 && cert13_leaf_has_status(msg->data, msg->size))
            seen->staple_sent = 1;
    }
    return 0;
}

/* "(alert: ...)" text for a failure: the alert received, if the error was one. */
static void alert_text(gnutls_session_t session, int err, char *buf, size_t size)
{
    if (err != GNUTLS_E_FATAL_ALERT_RECEIVED && err != GNUTLS_E_WARNING_ALERT_RECEIVED) {
        snprintf(buf, size, "none");
        return;
    }
    gnutls_alert_description_t a = gnutls_alert_get(session);
    const char *name = gnutls_alert_get_name(a);
    snprintf(buf, size, "%s [%u]", name != NULL ? name : "unknown alert", (unsigned)a);
}

/* Why certificate verification failed, on stderr. */
static void print_verify_status(gnutls_session_t session)
{
    unsigned status = gnutls_session_get_verify_cert_status(session);
    if (status == 0)
        return;
    gnutls_datum_t out = { NULL, 0 };
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
        fprintf(stderr, PROG ": server certificate: %s\n", (const char *)out.data);
        gnutls_free(out.data);
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Writes all of buf; 0 or a GnuTLS error. */
static int send_all(gnutls_session_t session, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = gnutls_record_send(session, buf, len);
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            continue;
        if (n < 0)
            return (int)n;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* How to close after converse(): not at all (fatal error), send our close_notify only
 * (the server's came in), or both ways. */
enum bye_how { BYE_NONE, BYE_WR, BYE_RDWR };

/* After the handshake: optionally send a line, then read up to one line and report it.
 * Returns 0, or EXIT_TLS after a fatal error (printed). */
static int converse(gnutls_session_t session, const char *send_text, enum bye_how *bye)
{
    char line[LINE_BYTES];
    size_t len = 0;
    int err = 0;
    int send_err = 0;
    const char *quiet = NULL;

    *bye = BYE_NONE;
    if (send_text != NULL) {
        size_t tl = strlen(send_text);
        char *out = malloc(tl + 2);
        if (out == NULL) {
            fprintf(stderr, PROG ": out of memory\n");
            return EXIT_SETUP;
        }
        memcpy(out, send_text, tl);
        out[tl] = '\n';
        gnutls_record_set_timeout(session, TIMEOUT_MS);
        send_err = send_all(session, out, tl + 1);
        free(out);
        /* Read on all the same: a TLS 1.3 server refusing our certificate or staple has
         * sent its alert and closed, which is likely why the write failed. */
    }

    uint64_t deadline = now_ms() + TIMEOUT_MS;
    while (err == 0 && len < sizeof(line) - 1) {
        uint64_t now = now_ms();
        if (now >= deadline) {
            quiet = "timeout";
            break;
        }
        gnutls_record_set_timeout(session, (unsigned)(deadline - now));
        ssize_t n = gnutls_record_recv(session, line + len, sizeof(line) - 1 - len);
        if (n > 0) {
            int eol = memchr(line + len, '\n', (size_t)n) != NULL;
            len += (size_t)n;
            if (eol)
                break;
        } else if (n == 0) {
            quiet = "closed";
            break;
        } else if (n == GNUTLS_E_TIMEDOUT) {
            quiet = "timeout";
            break;
        } else if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED
                   || n == GNUTLS_E_REHANDSHAKE || !gnutls_error_is_fatal((int)n)) {
            continue;
        } else {
            err = (int)n;
        }
    }

    if (len > 0) {
        line[len] = '\0';
        char *nl = memchr(line, '\n', len);
        if (nl != NULL)
            len = (size_t)(nl - line);
        while (len > 0 && line[len - 1] == '\r')
            len--;
        line[len] = '\0';
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)line[i];
            if (c < 0x20 || c >= 0x7f)
                line[i] = '?';
        }
        printf(PROG ": server says: %s\n", line);
    } else if (err == 0 && send_err == 0) {
        printf(PROG ": server says nothing (%s)\n", quiet != NULL ? quiet : "line too long");
    }
    if (err == 0)
        err = send_err;
    if (err != 0) {
        char alert[96];
        alert_text(session, err, alert, sizeof(alert));
        printf(PROG ": connection FAILED after the handshake: %s (alert: %s)\n",
               gnutls_strerror(err), alert);
        return EXIT_TLS;
    }
    *bye = quiet != NULL && strcmp(quiet, "closed") == 0 ? BYE_WR : BYE_RDWR;
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse_args(argc, argv, &o) != 0) {
        usage();
        return EXIT_SETUP;
    }

    int rc = EXIT_SETUP;
    int fd = -1;
    int ret;
    gnutls_certificate_credentials_t cred = NULL;
    gnutls_session_t session = NULL;
    struct observed seen;
    memset(&seen, 0, sizeof(seen));

    ret = gnutls_global_init();
    if (ret < 0) {
        fprintf(stderr, PROG ": gnutls_global_init: %s\n", gnutls_strerror(ret));
        return EXIT_SETUP;
    }

    ret = gnutls_certificate_allocate_credentials(&cred);
    if (ret < 0) {
        fprintf(stderr, PROG ": credentials: %s\n", gnutls_strerror(ret));
        cred = NULL;
        goto out;
    }
    gnutls_certificate_set_flags(cred, GNUTLS_CERTIFICATE_API_V2
                                           | (o.ocsp_as_is ? GNUTLS_CERTIFICATE_SKIP_OCSP_RESPONSE_CHECK
                                                           : 0));
    ret = gnutls_certificate_set_x509_trust_file(cred, o.ca, GNUTLS_X509_FMT_PEM);
    if (ret <= 0) {
        fprintf(stderr, PROG ": %s: %s\n", o.ca,
                ret == 0 ? "no certificate in the file" : gnutls_strerror(ret));
        goto out;
    }
    int idx = gnutls_certificate_set_x509_key_file2(cred, o.cert, o.key, GNUTLS_X509_FMT_PEM,
                                                    NULL, 0);
    if (idx < 0) {
        fprintf(stderr, PROG ": %s / %s: %s\n", o.cert, o.key, gnutls_strerror(idx));
        goto out;
    }
    if (o.ocsp != NULL) {
        ret = gnutls_certificate_set_ocsp_status_request_file2(cred, o.ocsp, (unsigned)idx,
                                                               GNUTLS_X509_FMT_DER);
        if (ret < 0) {
            fprintf(stderr, PROG ": %s: %s\n", o.ocsp, gnutls_strerror(ret));
            goto out;
        }
    }
    if (!o.verify_staple) {
        /* Skips the OCSP check of the server's staple (GnuTLS ties it to this flag). */
        gnutls_certificate_set_verify_flags(cred, gnutls_certificate_get_verify_flags(cred)
                                                      | GNUTLS_VERIFY_DISABLE_CRL_CHECKS);
    }

    ret = gnutls_init(&session, GNUTLS_CLIENT | GNUTLS_FORCE_CLIENT_CERT | GNUTLS_NO_SIGNAL);
    if (ret < 0) {
        fprintf(stderr, PROG ": gnutls_init: %s\n", gnutls_strerror(ret));
        session = NULL;
        goto out;
    }
    const char *err_pos = NULL;
    ret = gnutls_priority_set_direct(session, o.priority, &err_pos);
    if (ret < 0) {
        fprintf(stderr, PROG ": priority '%s' at '%s': %s\n", o.priority,
                err_pos != NULL ? err_pos : "", gnutls_strerror(ret));
        goto out;
    }
    ret = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, cred);
    if (ret < 0) {
        fprintf(stderr, PROG ": credentials_set: %s\n", gnutls_strerror(ret));
        goto out;
    }
    ret = gnutls_server_name_set(session, GNUTLS_NAME_DNS, o.servername, strlen(o.servername));
    if (ret < 0) {
        fprintf(stderr, PROG ": server name '%s': %s\n", o.servername, gnutls_strerror(ret));
        goto out;
    }
    gnutls_session_set_verify_cert(session, o.servername, 0);
    gnutls_session_set_ptr(session, &seen);
    gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_PRE,
                                       handshake_hook);
    gnutls_handshake_set_timeout(session, TIMEOUT_MS);

    fd = connect_tcp(o.host, o.port);
    if (fd < 0)
        goto out;
    gnutls_transport_set_int(session, fd);

    do {
        ret = gnutls_handshake(session);
    } while (ret < 0 && ret != GNUTLS_E_TIMEDOUT && gnutls_error_is_fatal(ret) == 0);

    if (ret < 0) {
        char alert[96];
        alert_text(session, ret, alert, sizeof(alert));
        printf(PROG ": handshake FAILED: %s (alert: %s)\n", gnutls_strerror(ret), alert);
        if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
            print_verify_status(session);
        rc = EXIT_TLS;
        goto out;
    }

    const char *version = gnutls_protocol_get_name(gnutls_protocol_get_version(session));
    const char *client_staple = o.ocsp == NULL ? "none" : seen.staple_sent ? "sent" : "not-sent";
    const char *server_staple =
        gnutls_ocsp_status_request_is_checked(session, 0) != 0 ? "checked"
        : gnutls_ocsp_status_request_is_checked(session, GNUTLS_OCSP_SR_IS_AVAIL) != 0
            ? "unchecked"
            : "none";
    const char *cert_request = !seen.cert_requested ? "none"
                               : seen.cr_status_request ? "yes+status_request"
                                                        : "yes";
    printf(PROG ": handshake ok version=%s client_staple=%s server_staple=%s cert_request=%s\n",
           version != NULL ? version : "unknown", client_staple, server_staple, cert_request);
    fflush(stdout);

    enum bye_how bye = BYE_NONE;
    rc = converse(session, o.send, &bye);
    if (bye != BYE_NONE) {
        /* Best effort: the result is already out. */
        gnutls_record_set_timeout(session, BYE_TIMEOUT_MS);
        do {
            ret = gnutls_bye(session, bye == BYE_WR ? GNUTLS_SHUT_WR : GNUTLS_SHUT_RDWR);
        } while (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED);
    }

out:
    fflush(stdout);
    if (session != NULL)
        gnutls_deinit(session);
    if (fd >= 0)
        close(fd);
    if (cred != NULL)
        gnutls_certificate_free_credentials(cred);
    gnutls_global_deinit();
    return rc;
}
