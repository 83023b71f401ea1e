/* The HTTP/1.1 client for OCSP: see stapler/http.h. */
#include "stapler/http.h"

#include <string.h>

#include "stapler/error.h"
#include "stapler/version.h"

/* ---- Small string helpers (no locale, no libc ctype) ------------------------------- */

static int stapler_http_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int stapler_http_iequal(const char *a, size_t a_len, const char *b)
{
    size_t i;

    for (i = 0; i < a_len; i++) {
        if (b[i] == '\0' || stapler_http_lower((unsigned char) a[i]) != stapler_http_lower((unsigned char) b[i])) {
            return 0;
        }
    }
    return b[a_len] == '\0';
}

static int stapler_http_is_space(int c)
{
    return c == ' ' || c == '\t';
}

/* Trim spaces and tabs at both ends of [*text, *text + *len). */
static void stapler_http_trim(const char **text, size_t *len)
{
    while (*len > 0 && stapler_http_is_space((unsigned char) (*text)[0])) {
        (*text)++;
        (*len)--;
    }
    while (*len > 0 && stapler_http_is_space((unsigned char) (*text)[*len - 1])) {
        (*len)--;
    }
}

/* A decimal number of at most 9 digits (so it fits); -1 if not one. */
static int32_t stapler_http_decimal(const char *text, size_t len)
{
    int32_t value = 0;
    size_t i;

    if (len == 0 || len > 9) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return -1;
        }
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

/* ---- URL ----------------------------------------------------------------------------- */

int stapler_http_url_parse(const char *url, stapler_http_url_t *out)
{
    const char *p, *host, *host_end, *end;
    size_t i, len;

    if (url == NULL || out == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    memset(out, 0, sizeof(*out));
    len = strlen(url);
    if (len == 0 || len > STAPLER_URL_MAX) {
        return STAPLER_ERR_HTTP_URL;
    }
    for (i = 0; i < len; i++) {
        /* Printable ASCII only: a CR or LF from a crafted AIA must never reach the wire. */
        if ((unsigned char) url[i] <= 0x20 || (unsigned char) url[i] >= 0x7F) {
            return STAPLER_ERR_HTTP_URL;
        }
        if (url[i] == '#') {
            return STAPLER_ERR_HTTP_URL; /* a fragment has no business in a responder URL */
        }
    }
    p = url;
    while (*p != '\0' && *p != ':' && *p != '/') {
        p++;
    }
    if (p[0] != ':' || p[1] != '/' || p[2] != '/') {
        return STAPLER_ERR_HTTP_URL;
    }
    if (!stapler_http_iequal(url, (size_t) (p - url), "http")) {
        return STAPLER_ERR_HTTP_SCHEME;
    }
    host = p + 3;
    end = host;
    while (*end != '\0' && *end != '/' && *end != '?') {
        end++;
    }
    /* end: where the authority stops. No user info. */
    for (p = host; p < end; p++) {
        if (*p == '@') {
            return STAPLER_ERR_HTTP_URL;
        }
    }
    out->port = 80;
    if (*host == '[') {
        host_end = host + 1;
        while (host_end < end && *host_end != ']') {
            host_end++;
        }
        if (host_end == end) {
            return STAPLER_ERR_HTTP_URL;
        }
        host++;
        out->ipv6_literal = 1;
        p = host_end + 1;
    } else {
        host_end = host;
        while (host_end < end && *host_end != ':') {
            host_end++;
        }
        p = host_end;
    }
    if (host_end == host || (size_t) (host_end - host) > STAPLER_HTTP_HOST_MAX) {
        return STAPLER_ERR_HTTP_URL;
    }
    if (p < end) {
        int32_t port;

        if (*p != ':') {
            return STAPLER_ERR_HTTP_URL;
        }
        port = stapler_http_decimal(p + 1, (size_t) (end - p - 1));
        if (port < 1 || port > 65535) {
            return STAPLER_ERR_HTTP_URL;
        }
        out->port = (uint16_t) port;
        out->port_given = 1;
    }
    memcpy(out->host, host, (size_t) (host_end - host));
    out->host[host_end - host] = '\0';
    out->path_offset = (size_t) (end - url);
    return 0;
}

/* ---- Request ------------------------------------------------------------------------- */

typedef struct {
    char *out;
    size_t size;
    size_t len;
    int overflow;
} stapler_http_writer_t;

static void stapler_http_put(stapler_http_writer_t *w, const char *text, size_t len)
{
    if (w->overflow || len > w->size - w->len) {
        w->overflow = 1;
        return;
    }
    memcpy(w->out + w->len, text, len);
    w->len += len;
}

static void stapler_http_puts(stapler_http_writer_t *w, const char *text)
{
    stapler_http_put(w, text, strlen(text));
}

static void stapler_http_put_uint(stapler_http_writer_t *w, uint32_t value)
{
    char digits[10];
    size_t n = 0;

    do {
        digits[sizeof(digits) - 1 - n++] = (char) ('0' + value % 10u);
        value /= 10u;
    } while (value != 0 && n < sizeof(digits));
    stapler_http_put(w, digits + sizeof(digits) - n, n);
}

int stapler_http_request_write(const char *url, const unsigned char *ocsp_request,
                               size_t ocsp_request_len, unsigned flags, char *out, size_t out_size,
                               size_t *out_len, int *is_post)
{
    const int via_proxy = (flags & STAPLER_HTTP_VIA_PROXY) != 0;
    stapler_http_url_t parsed;
    stapler_http_writer_t w = { out, out_size, 0, 0 };
    char get_url[STAPLER_HTTP_GET_MAX + 1];
    size_t get_len = 0;
    const char *path;
    int fits = 0;
    int ret;

    if (url == NULL || ocsp_request == NULL || out == NULL || out_len == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    ret = stapler_http_url_parse(url, &parsed);
    if (ret != 0) {
        return ret;
    }
    path = url + parsed.path_offset;
    /* GET needs the request appended to a path; a URL with a query takes POST, and so does
     * a responder that refused GET. A redirected GET's Location is the request URI itself. */
    if ((flags & (STAPLER_HTTP_POST | STAPLER_HTTP_GET_AS_IS)) == STAPLER_HTTP_GET_AS_IS) {
        fits = 1;
        stapler_http_puts(&w, "GET ");
        if (via_proxy) {
            stapler_http_put(&w, url, parsed.path_offset);
        }
        stapler_http_puts(&w, *path == '\0' ? "/" : path);
    } else if ((flags & STAPLER_HTTP_POST) == 0 && strchr(path, '?') == NULL &&
        stapler_ocsp_request_get_url(url, ocsp_request, ocsp_request_len, get_url, sizeof(get_url),
                                     &get_len, &fits) == 0 &&
        fits) {
        const char *target = via_proxy ? get_url : get_url + parsed.path_offset;

        stapler_http_puts(&w, "GET ");
        stapler_http_puts(&w, target);
    } else {
        fits = 0;
        stapler_http_puts(&w, "POST ");
        if (via_proxy) {
            stapler_http_put(&w, url, parsed.path_offset);
        }
        stapler_http_puts(&w, *path == '\0' ? "/" : path);
    }
    stapler_http_puts(&w, " HTTP/1.1\r\nHost: ");
    if (parsed.ipv6_literal) {
        stapler_http_puts(&w, "[");
    }
    stapler_http_puts(&w, parsed.host);
    if (parsed.ipv6_literal) {
        stapler_http_puts(&w, "]");
    }
    if (parsed.port != 80) {
        stapler_http_puts(&w, ":");
        stapler_http_put_uint(&w, parsed.port);
    }
    stapler_http_puts(&w, "\r\nUser-Agent: Stapler/" STAPLER_VERSION_STRING
                          "\r\nAccept: application/ocsp-response\r\nConnection: close\r\n");
    if (!fits) {
        stapler_http_puts(&w, "Content-Type: application/ocsp-request\r\nContent-Length: ");
        stapler_http_put_uint(&w, (uint32_t) ocsp_request_len);
        stapler_http_puts(&w, "\r\n\r\n");
        stapler_http_put(&w, (const char *) ocsp_request, ocsp_request_len);
    } else {
        stapler_http_puts(&w, "\r\n");
    }
    if (w.overflow) {
        return STAPLER_ERR_BUFFER_TOO_SMALL;
    }
    *out_len = w.len;
    if (is_post != NULL) {
        *is_post = !fits;
    }
    return 0;
}

/* ---- Dates --------------------------------------------------------------------------- */

int stapler_http_date_parse(const char *text, size_t len, int64_t *utc_seconds)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    /* "Sun, 06 Nov 1994 08:49:37 GMT": 29 characters. */
    unsigned char generalized[15];
    unsigned month;

    if (text == NULL || utc_seconds == NULL || len != 29 || text[3] != ',' || text[4] != ' ' ||
        text[7] != ' ' || text[11] != ' ' || text[16] != ' ' || text[19] != ':' ||
        text[22] != ':' || text[25] != ' ' || memcmp(text + 26, "GMT", 3) != 0) {
        return STAPLER_ERR_HTTP_MALFORMED;
    }
    for (month = 0; month < 12; month++) {
        if (memcmp(months + 3 * month, text + 8, 3) == 0) {
            break;
        }
    }
    if (month == 12) {
        return STAPLER_ERR_HTTP_MALFORMED;
    }
    memcpy(generalized, text + 12, 4);                 /* YYYY */
    generalized[4] = (unsigned char) ('0' + (month + 1) / 10);
    generalized[5] = (unsigned char) ('0' + (month + 1) % 10);
    memcpy(generalized + 6, text + 5, 2);              /* DD */
    memcpy(generalized + 8, text + 17, 2);             /* hh */
    memcpy(generalized + 10, text + 20, 2);            /* mm */
    memcpy(generalized + 12, text + 23, 2);            /* ss */
    generalized[14] = 'Z';
    return stapler_ocsp_time_parse(generalized, sizeof(generalized), utc_seconds) == 0
               ? 0 : STAPLER_ERR_HTTP_MALFORMED;
}

/* ---- Response parser ----------------------------------------------------------------- */

void stapler_http_response_init(stapler_http_response_t *response, unsigned char *body,
                                size_t body_size)
{
    memset(response, 0, sizeof(*response));
    response->body = body;
    response->body_size = body_size;
}

static int stapler_http_fail(stapler_http_response_t *r, int error)
{
    r->state = STAPLER_HTTP_FAILED;
    r->error = error;
    return error;
}

/* "HTTP/1.x NNN reason" */
static int stapler_http_status_line(stapler_http_response_t *r)
{
    const char *l = r->line;
    int32_t status;

    if (r->line_overflow || r->line_len < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' ||
        l[7] > '9' || l[8] != ' ' || (r->line_len > 12 && l[12] != ' ')) {
        return stapler_http_fail(r, STAPLER_ERR_HTTP_MALFORMED);
    }
    status = stapler_http_decimal(l + 9, 3);
    if (status < 100 || status > 599) {
        return stapler_http_fail(r, STAPLER_ERR_HTTP_MALFORMED);
    }
    r->status = (int) status;
    r->state = STAPLER_HTTP_HEADERS;
    return 0;
}

static int stapler_http_header(stapler_http_response_t *r)
{
    const char *name = r->line, *value;
    size_t name_len = 0, value_len;

    if (r->line_overflow) {
        return 0; /* none of the headers we read is this long: skip it */
    }
    if (stapler_http_is_space((unsigned char) r->line[0])) {
        return 0; /* obsolete line folding: continuation of a header we do not need */
    }
    while (name_len < r->line_len && name[name_len] != ':') {
        name_len++;
    }
    if (name_len == 0 || name_len == r->line_len || stapler_http_is_space((unsigned char) name[name_len - 1])) {
        return stapler_http_fail(r, STAPLER_ERR_HTTP_MALFORMED);
    }
    value = name + name_len + 1;
    value_len = r->line_len - name_len - 1;
    stapler_http_trim(&value, &value_len);

    if (stapler_http_iequal(name, name_len, "content-length")) {
        int32_t length;
        size_t i;

        for (i = 0; i < value_len; i++) {
            if (value[i] < '0' || value[i] > '9') {
                return stapler_http_fail(r, STAPLER_ERR_HTTP_MALFORMED);
            }
        }
        length = stapler_http_decimal(value, value_len);
        if (value_len == 0) {
            return stapler_http_fail(r, STAPLER_ERR_HTTP_MALFORMED);
        }
        if (length < 0) {
            return stapler_http_fail(r, STAPLER_ERR_HTTP_TOO_LARGE); /* a gigabyte or more */
        }
        if (r->has_length && r->content_length != (uint32_t) length) {
            return stapler_http_fail(r, STAPLER_ERR_HTTP_MALFORMED); /* RFC 9112 6.3 */
        }
        r->has_length = 1;
        r->content_length = (uint32_t) length;
    } else if (stapler_http_iequal(name, name_len, "transfer-encoding")) {
        /* The final coding must be chunked; any other coding is not something we asked for. */
        if (value_len >= 7 && stapler_http_iequal(value + value_len - 7, 7, "chunked") &&
            (value_len == 7 || value[value_len - 8] == ',' || stapler_http_is_space((unsigned char) value[value_len - 8]))) {
            size_t i;

            for (i = 0; i + 7 < value_len; i++) {
                if (!stapler_http_is_space((unsigned char) value[i]) && value[i] != ',') {
                    return stapler_http_fail(r, STAPLER_ERR_HTTP_TRANSFER_CODING);
                }
            }
            r->chunked = 1;
        } else if (!(value_len == 8 && stapler_http_iequal(value, 8, "identity"))) {
            return stapler_http_fail(r, STAPLER_ERR_HTTP_TRANSFER_CODING);
        }
    } else if (stapler_http_iequal(name, name_len, "content-type")) {
        size_t type_len = 0;
        const char *type = value;

        while (type_len < value_len && value[type_len] != ';') {
            type_len++;
        }
        stapler_http_trim(&type, &type_len);
        r->content_type_ok = stapler_http_iequal(type, type_len, "application/ocsp-response");
    } else if (stapler_http_iequal(name, name_len, "retry-after")) {
        const int32_t delay = stapler_http_decimal(value, value_len);

        if (delay >= 0) {
            r->retry_after_s = (uint32_t) delay;
        } else {
            (void) stapler_http_date_parse(value, value_len, &r->retry_after_date);
        }
    } else if (stapler_http_iequal(name, name_len, "date")) {
        (void) stapler_http_date_parse(value, value_len, &r->date);
    } else if (stapler_http_iequal(name, name_len, "location")) {
        if (value_len <= STAPLER_URL_MAX) {
            memcpy(r->location, value, value_len);
            r->location[value_len] = '\0';
        }
    }
    return 0;
}

/* The blank line after the headers: decide what the body is, or fail now without it. */
static int stapler_http_headers_done(stapler_http_response_t *r)
{
    if (r->status >= 100 && r->status < 200) {
        /* An interim response (100 Continue): the real one follows. */
        r->status = 0;
        r->has_length = 0;
        r->chunked = 0;
        r->content_type_ok = 0;
        r->state = STAPLER_HTTP_STATUS_LINE;
        return 0;
    }
    if (r->retry_after_s == 0 && r->retry_after_date != 0 && r->date != 0 &&
        r->retry_after_date > r->date) {
        /* An HTTP-date: measured against the responder's own Date, not our clock. */
        const int64_t delta = r->retry_after_date - r->date;

        r->retry_after_s = delta > 86400 ? 86400u : (uint32_t) delta;
    }
    if (r->status >= 300 && r->status < 400) {
        return stapler_http_fail(r, STAPLER_ERR_HTTP_REDIRECT);
    }
    if (r->status >= 400 && r->status < 500) {
        return stapler_http_fail(r, STAPLER_ERR_HTTP_CLIENT_ERROR);
    }
    if (r->status >= 500) {
        return stapler_http_fail(r, STAPLER_ERR_HTTP_SERVER_ERROR);
    }
    if (r->status != 200) {
        return stapler_http_fail(r, STAPLER_ERR_HTTP_UNEXPECTED_STATUS);
    }
    if (!r->content_type_ok) {
        return stapler_http_fail(r, STAPLER_ERR_HTTP_CONTENT_TYPE);
    }
    if (r->chunked) {
        r->has_length = 0; /* Transfer-Encoding overrides Content-Length (RFC 9112 6.3) */
        r->chunk_left = 0;
        r->chunk_digits = 0;
        r->chunk_in_extension = 0;
        r->state = STAPLER_HTTP_CHUNK_SIZE;
        return 0;
    }
    if (r->has_length) {
        if (r->content_length > r->body_size) {
            return stapler_http_fail(r, STAPLER_ERR_HTTP_TOO_LARGE);
        }
        r->state = r->content_length == 0 ? STAPLER_HTTP_COMPLETE : STAPLER_HTTP_BODY_LENGTH;
        return r->state == STAPLER_HTTP_COMPLETE ? 1 : 0;
    }
    r->state = STAPLER_HTTP_BODY_TO_CLOSE;
    return 0;
}

/* Collect one line; returns 1 when a whole line is in r->line (without CR LF). */
static int stapler_http_collect(stapler_http_response_t *r, unsigned char c)
{
    if (++r->header_bytes > STAPLER_HTTP_HEADERS_MAX) {
        (void) stapler_http_fail(r, STAPLER_ERR_HTTP_HEADERS_TOO_LARGE);
        return 0;
    }
    if (c == '\n') {
        if (r->line_len > 0 && r->line[r->line_len - 1] == '\r' && !r->line_overflow) {
            r->line_len--;
        }
        return 1;
    }
    if (c == '\0') {
        (void) stapler_http_fail(r, STAPLER_ERR_HTTP_MALFORMED);
        return 0;
    }
    if (r->line_len < sizeof(r->line)) {
        r->line[r->line_len++] = (char) c;
    } else {
        r->line_overflow = 1;
    }
    return 0;
}

static int stapler_http_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = stapler_http_lower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static int stapler_http_body_bytes(stapler_http_response_t *r, const unsigned char *data, size_t n)
{
    if (n > r->body_size - r->body_len) {
        return stapler_http_fail(r, STAPLER_ERR_HTTP_TOO_LARGE);
    }
    memcpy(r->body + r->body_len, data, n);
    r->body_len += n;
    return 0;
}

int stapler_http_response_feed(stapler_http_response_t *r, const unsigned char *data, size_t len)
{
    size_t i = 0;

    if (r == NULL || (data == NULL && len > 0)) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    while (i < len) {
        switch (r->state) {
            case STAPLER_HTTP_STATUS_LINE:
            case STAPLER_HTTP_HEADERS:
            case STAPLER_HTTP_TRAILERS:
                if (stapler_http_collect(r, data[i++])) {
                    int ret = 0;

                    if (r->state == STAPLER_HTTP_STATUS_LINE) {
                        ret = stapler_http_status_line(r);
                    } else if (r->line_len == 0 && !r->line_overflow) {
                        ret = r->state == STAPLER_HTTP_TRAILERS ? (r->state = STAPLER_HTTP_COMPLETE, 1)
                                                                : stapler_http_headers_done(r);
                    } else if (r->state == STAPLER_HTTP_HEADERS) {
                        ret = stapler_http_header(r);
                    }
                    r->line_len = 0;
                    r->line_overflow = 0;
                    if (ret != 0) {
                        return ret;
                    }
                } else if (r->state == STAPLER_HTTP_FAILED) {
                    return r->error;
                }
                break;
            case STAPLER_HTTP_BODY_LENGTH: {
                size_t n = len - i;
                int ret;

                if (n > r->content_length - r->body_len) {
                    n = r->content_length - r->body_len;
                }
                ret = stapler_http_body_bytes(r, data + i, n);
                if (ret != 0) {
                    return ret;
                }
                i += n;
                if (r->body_len == r->content_length) {
                    r->state = STAPLER_HTTP_COMPLETE;
                    return 1;
                }
                break;
            }
            case STAPLER_HTTP_BODY_TO_CLOSE: {
                const int ret = stapler_http_body_bytes(r, data + i, len - i);

                if (ret != 0) {
                    return ret;
                }
                i = len;
                break;
            }
            case STAPLER_HTTP_CHUNK_SIZE: {
                const unsigned char c = data[i++];

                if (++r->header_bytes > STAPLER_HTTP_HEADERS_MAX) {
                    return stapler_http_fail(r, STAPLER_ERR_HTTP_HEADERS_TOO_LARGE);
                }
                if (c == '\n') {
                    if (r->chunk_digits == 0) {
                        return stapler_http_fail(r, STAPLER_ERR_HTTP_MALFORMED);
                    }
                    if (r->chunk_left == 0) {
                        r->state = STAPLER_HTTP_TRAILERS;
                    } else if (r->chunk_left > r->body_size - r->body_len) {
                        return stapler_http_fail(r, STAPLER_ERR_HTTP_TOO_LARGE);
                    } else {
                        r->state = STAPLER_HTTP_CHUNK_DATA;
                    }
                } else if (c == '\r' || r->chunk_in_extension) {
                    /* the CR before LF, or a chunk extension: ignored */
                } else if (c == ';' || stapler_http_is_space(c)) {
                    r->chunk_in_extension = r->chunk_digits > 0;
                    if (!r->chunk_in_extension) {
                        return stapler_http_fail(r, STAPLER_ERR_HTTP_MALFORMED);
                    }
                } else {
                    const int digit = stapler_http_hex(c);

                    if (digit < 0) {
                        return stapler_http_fail(r, STAPLER_ERR_HTTP_MALFORMED);
                    }
                    if (r->chunk_left > (UINT32_MAX >> 4)) {
                        return stapler_http_fail(r, STAPLER_ERR_HTTP_TOO_LARGE);
                    }
                    r->chunk_left = (r->chunk_left << 4) | (uint32_t) digit;
                    r->chunk_digits++;
                }
                break;
            }
            case STAPLER_HTTP_CHUNK_DATA: {
                size_t n = len - i;
                int ret;

                if (n > r->chunk_left) {
                    n = r->chunk_left;
                }
                ret = stapler_http_body_bytes(r, data + i, n);
                if (ret != 0) {
                    return ret;
                }
                i += n;
                r->chunk_left -= (uint32_t) n;
                if (r->chunk_left == 0) {
                    r->state = STAPLER_HTTP_CHUNK_END;
                    r->line_len = 0;
                }
                break;
            }
            case STAPLER_HTTP_CHUNK_END: {
                /* CR LF after the chunk data (a bare LF is tolerated). */
                const unsigned char c = data[i++];

                if (c == '\r' && r->line_len == 0) {
                    r->line_len = 1;
                } else if (c == '\n') {
                    r->line_len = 0;
                    r->chunk_digits = 0;
                    r->chunk_in_extension = 0;
                    r->state = STAPLER_HTTP_CHUNK_SIZE;
                } else {
                    return stapler_http_fail(r, STAPLER_ERR_HTTP_MALFORMED);
                }
                break;
            }
            case STAPLER_HTTP_COMPLETE:
                return 1;
            default:
                return r->error != 0 ? r->error : STAPLER_ERR_INTERNAL;
        }
    }
    if (r->state == STAPLER_HTTP_COMPLETE) {
        return 1;
    }
    return r->state == STAPLER_HTTP_FAILED ? r->error : 0;
}

int stapler_http_response_close(stapler_http_response_t *r)
{
    if (r->state == STAPLER_HTTP_FAILED) {
        return r->error;
    }
    if (r->state == STAPLER_HTTP_COMPLETE || r->state == STAPLER_HTTP_BODY_TO_CLOSE) {
        r->state = STAPLER_HTTP_COMPLETE;
        return 1;
    }
    return stapler_http_fail(r, STAPLER_ERR_HTTP_TRUNCATED);
}

/* ---- Exchange over the port's transport ---------------------------------------------- */

static void stapler_http_finish(stapler_http_exchange_t *ex, int result)
{
    if (ex->connection >= 0) {
        ex->port->transport.close(ex->port->context, ex->connection);
        ex->connection = -1;
    }
    ex->result = result;
    ex->phase = STAPLER_HTTP_DONE;
}

/* Connect to the responder (or the proxy) of ex->url and prepare the request. */
static int stapler_http_begin(stapler_http_exchange_t *ex, uint64_t now_ms)
{
    stapler_http_url_t target;
    char host[STAPLER_HTTP_HOST_MAX + 1];
    uint16_t port;
    int ret, connection;

    ret = stapler_http_url_parse(ex->url, &target);
    if (ret != 0) {
        return ret;
    }
    ret = stapler_http_request_write(ex->url, ex->ocsp_request, ex->ocsp_request_len,
                                     (ex->proxy[0] != '\0' ? STAPLER_HTTP_VIA_PROXY : 0u) |
                                         (ex->post_only || ex->get_refused ? STAPLER_HTTP_POST : 0u) |
                                         (ex->get_as_is ? STAPLER_HTTP_GET_AS_IS : 0u),
                                     ex->request, sizeof(ex->request), &ex->request_len, &ex->is_post);
    if (ret != 0) {
        return ret;
    }
    if (ex->proxy[0] != '\0') {
        /* "host:port", parsed as the authority of a URL. */
        stapler_http_url_t proxy;
        char proxy_url[sizeof(ex->proxy) + 8];

        memcpy(proxy_url, "http://", 7);
        memcpy(proxy_url + 7, ex->proxy, strlen(ex->proxy) + 1);
        ret = stapler_http_url_parse(proxy_url, &proxy);
        if (ret != 0 || proxy_url[proxy.path_offset] != '\0') {
            return STAPLER_ERR_HTTP_URL;
        }
        memcpy(host, proxy.host, sizeof(host));
        port = proxy.port;
    } else {
        memcpy(host, target.host, sizeof(host));
        port = target.port;
    }
    stapler_http_response_init(&ex->response, ex->body, sizeof(ex->body));
    ex->request_sent = 0;
    connection = ex->port->transport.connect(ex->port->context, host, port);
    if (connection < 0) {
        return connection;
    }
    ex->connection = connection;
    ex->phase = STAPLER_HTTP_CONNECTING;
    ex->phase_ms = now_ms;
    return 0;
}

int stapler_http_exchange_start(stapler_http_exchange_t *ex, const stapler_port_t *port,
                                const char *url, const char *proxy,
                                const unsigned char *ocsp_request, size_t ocsp_request_len)
{
    return stapler_http_exchange_start_with(ex, port, url, proxy, ocsp_request, ocsp_request_len, 0, 0, 0, 0);
}

int stapler_http_exchange_start_with(stapler_http_exchange_t *ex, const stapler_port_t *port,
                                     const char *url, const char *proxy,
                                     const unsigned char *ocsp_request, size_t ocsp_request_len,
                                     uint32_t connect_timeout_ms, uint32_t idle_timeout_ms,
                                     uint32_t total_timeout_ms, unsigned flags)
{
    size_t url_len, proxy_len;
    int ret;

    if (ex == NULL || port == NULL || url == NULL || ocsp_request == NULL ||
        ocsp_request_len == 0 || ocsp_request_len > sizeof(ex->ocsp_request) ||
        port->transport.connect == NULL || port->transport.status == NULL ||
        port->transport.send == NULL || port->transport.recv == NULL || port->transport.close == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    ex->port = port;
    ex->connection = -1;
    ex->redirects = 0;
    ex->max_redirects = CONFIG_STAPLER_HTTP_MAX_REDIRECTS;
    ex->connect_timeout_ms = connect_timeout_ms != 0 ? connect_timeout_ms : CONFIG_STAPLER_HTTP_CONNECT_TIMEOUT_MS;
    ex->idle_timeout_ms = idle_timeout_ms != 0 ? idle_timeout_ms : CONFIG_STAPLER_HTTP_IDLE_TIMEOUT_MS;
    ex->total_timeout_ms = total_timeout_ms != 0 ? total_timeout_ms : CONFIG_STAPLER_HTTP_TOTAL_TIMEOUT_MS;
    ex->result = 0;
    ex->post_only = (flags & STAPLER_HTTP_POST) != 0;
    ex->get_refused = 0;
    ex->get_status = 0;
    ex->get_as_is = 0;
    ex->started_ms = port->monotonic_ms(port->context);
    memcpy(ex->ocsp_request, ocsp_request, ocsp_request_len);
    ex->ocsp_request_len = ocsp_request_len;
    url_len = strlen(url);
    proxy_len = proxy != NULL ? strlen(proxy) : 0;
    if (url_len > STAPLER_URL_MAX || proxy_len >= sizeof(ex->proxy)) {
        stapler_http_finish(ex, STAPLER_ERR_HTTP_URL);
        return 0;
    }
    memcpy(ex->url, url, url_len + 1);
    if (proxy_len > 0) {
        memcpy(ex->proxy, proxy, proxy_len + 1);
    } else {
        ex->proxy[0] = '\0';
    }
    ret = stapler_http_begin(ex, ex->started_ms);
    if (ret != 0) {
        stapler_http_finish(ex, ret);
    }
    return 0;
}

/* The next request of the same exchange (a redirect, or POST after a refused GET), on a new
 * connection; a failure to start it ends the exchange. */
static void stapler_http_restart(stapler_http_exchange_t *ex, uint64_t now_ms)
{
    int ret;

    ex->port->transport.close(ex->port->context, ex->connection);
    ex->connection = -1;
    ret = stapler_http_begin(ex, now_ms);
    if (ret != 0) {
        stapler_http_finish(ex, ret);
    }
}

/* Follow a redirect if allowed: 1 when a new connection is under way. */
static int stapler_http_redirect(stapler_http_exchange_t *ex, uint64_t now_ms)
{
    const char *location = ex->response.location;
    size_t len = strlen(location);

    if (ex->redirects >= ex->max_redirects || len == 0) {
        return 0;
    }
    if (location[0] == '/') {
        /* An absolute path on the same responder. */
        stapler_http_url_t current;

        if (stapler_http_url_parse(ex->url, &current) != 0 || current.path_offset + len > STAPLER_URL_MAX) {
            return 0;
        }
        memcpy(ex->url + current.path_offset, location, len + 1);
    } else {
        stapler_http_url_t next;

        if (stapler_http_url_parse(location, &next) != 0) {
            return 0; /* not plain http: reported as the redirect it is */
        }
        memcpy(ex->url, location, len + 1);
    }
    ex->redirects++;
    /* RFC 9110 10.2.2: the Location is the new URI of the resource asked for, so a GET's
     * Location already carries the request (appending it again would ask for another
     * resource); a POST goes to the Location with its body. */
    ex->get_as_is = !ex->is_post;
    stapler_http_restart(ex, now_ms);
    return 1;
}

/* A GET refused, and worth asking again by POST: 1 when the POST is under way (or failed at
 * once, then the exchange is DONE). Some responders refuse GET outright (Debian's cfssl
 * answers 400, or 301 when the request's base64 holds "//", which Go's router collapses).
 * 429 is a rate limit, not a refusal of the method. After a followed redirect the URL is
 * the responder's Location, which may hold the GET form: no POST to that. */
static int stapler_http_post_after_get(stapler_http_exchange_t *ex, int result, uint64_t now_ms)
{
    if (ex->is_post || ex->get_refused || ex->redirects > 0 ||
        !((result == STAPLER_ERR_HTTP_CLIENT_ERROR && ex->response.status != 429) ||
          result == STAPLER_ERR_HTTP_REDIRECT)) {
        return 0;
    }
    ex->get_refused = 1;
    ex->get_status = ex->response.status;
    stapler_http_restart(ex, now_ms);
    return 1;
}

static uint32_t stapler_http_until(uint64_t now_ms, uint64_t since_ms, uint32_t timeout_ms)
{
    const uint64_t deadline = since_ms + timeout_ms;

    return deadline > now_ms ? (uint32_t) (deadline - now_ms) : 0u;
}

int stapler_http_exchange_step(stapler_http_exchange_t *ex, uint32_t *wait_ms)
{
    uint64_t now_ms;
    uint32_t wait;
    unsigned rounds;

    if (ex == NULL || ex->phase == STAPLER_HTTP_IDLE) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    if (ex->phase == STAPLER_HTTP_DONE) {
        return 1;
    }
    now_ms = ex->port->monotonic_ms(ex->port->context);
    /* Bounded work per step, so a fast stream cannot starve the main loop. */
    for (rounds = 0; rounds < 16 && ex->phase != STAPLER_HTTP_DONE; rounds++) {
        const stapler_port_transport_t *t = &ex->port->transport;
        void *ctx = ex->port->context;
        int ret;

        if (now_ms - ex->started_ms >= ex->total_timeout_ms) {
            stapler_http_finish(ex, STAPLER_ERR_HTTP_TOTAL_TIMEOUT);
            break;
        }
        if (ex->phase == STAPLER_HTTP_CONNECTING) {
            ret = t->status(ctx, ex->connection);
            if (ret < 0) {
                stapler_http_finish(ex, ret);
            } else if (ret == 0) {
                if (now_ms - ex->phase_ms >= ex->connect_timeout_ms) {
                    stapler_http_finish(ex, STAPLER_ERR_HTTP_CONNECT_TIMEOUT);
                }
                break;
            } else {
                ex->phase = STAPLER_HTTP_SENDING;
                ex->phase_ms = now_ms;
            }
        } else if (ex->phase == STAPLER_HTTP_SENDING) {
            ret = t->send(ctx, ex->connection, ex->request + ex->request_sent,
                          ex->request_len - ex->request_sent);
            if (ret < 0) {
                stapler_http_finish(ex, ret);
            } else if (ret == 0) {
                if (now_ms - ex->phase_ms >= ex->idle_timeout_ms) {
                    stapler_http_finish(ex, STAPLER_ERR_HTTP_IDLE_TIMEOUT);
                }
                break;
            } else {
                ex->request_sent += (size_t) ret;
                ex->phase_ms = now_ms;
                if (ex->request_sent >= ex->request_len) {
                    ex->phase = STAPLER_HTTP_RECEIVING;
                }
            }
        } else {
            unsigned char buffer[256];

            ret = t->recv(ctx, ex->connection, buffer, sizeof(buffer));
            if (ret == 0) {
                if (now_ms - ex->phase_ms >= ex->idle_timeout_ms) {
                    stapler_http_finish(ex, STAPLER_ERR_HTTP_IDLE_TIMEOUT);
                }
                break;
            }
            if (ret > 0) {
                ex->phase_ms = now_ms;
                ret = stapler_http_response_feed(&ex->response, buffer, (size_t) ret);
            } else if (ret == STAPLER_PORT_ERR_CLOSED) {
                ret = stapler_http_response_close(&ex->response);
            }
            /* Any other transport error (a reset) ends the exchange as that error: a body
             * cut short by a reset is never taken, even one delimited by the close. */
            if (ret == 1) {
                stapler_http_finish(ex, 0);
            } else if (ret == STAPLER_ERR_HTTP_REDIRECT && stapler_http_redirect(ex, now_ms)) {
                continue;
            } else if (ret < 0 && stapler_http_post_after_get(ex, ret, now_ms)) {
                continue;
            } else if (ret < 0) {
                stapler_http_finish(ex, ret);
            }
        }
    }
    if (ex->phase == STAPLER_HTTP_DONE) {
        return 1;
    }
    wait = stapler_http_until(now_ms, ex->started_ms, ex->total_timeout_ms);
    {
        const uint32_t phase_wait = stapler_http_until(
            now_ms, ex->phase_ms,
            ex->phase == STAPLER_HTTP_CONNECTING ? ex->connect_timeout_ms
                                                 : ex->idle_timeout_ms);
        if (phase_wait < wait) {
            wait = phase_wait;
        }
    }
    if (wait_ms != NULL) {
        *wait_ms = wait;
    }
    return 0;
}

void stapler_http_exchange_abort(stapler_http_exchange_t *ex)
{
    if (ex == NULL || ex->phase == STAPLER_HTTP_IDLE) {
        return;
    }
    if (ex->connection >= 0) {
        ex->port->transport.close(ex->port->context, ex->connection);
        ex->connection = -1;
    }
    ex->phase = STAPLER_HTTP_IDLE;
}
