/* Unit tests: the HTTP/1.1 client (firmware/src/http.c): URLs, requests, the streaming
 * response parser fed in every split, and exchanges over a scripted transport. */
#include <stdio.h>
#include <string.h>

#include "unity.h"

#include "stapler/error.h"
#include "stapler/http.h"

void setUp(void) {}
void tearDown(void) {}

/* ---- URL ----------------------------------------------------------------------------- */

static void test_urls_are_parsed_with_host_port_and_path(void)
{
    stapler_http_url_t u;

    TEST_ASSERT_EQUAL_INT(0, stapler_http_url_parse("http://ocsp.example.com", &u));
    TEST_ASSERT_EQUAL_STRING("ocsp.example.com", u.host);
    TEST_ASSERT_EQUAL_UINT16(80, u.port);
    TEST_ASSERT_EQUAL_INT(0, u.port_given);
    TEST_ASSERT_EQUAL_size_t(23, u.path_offset);

    TEST_ASSERT_EQUAL_INT(0, stapler_http_url_parse("HTTP://10.0.2.2:8888/ocsp/ca1", &u));

    TEST_ASSERT_EQUAL_STRING("10.0.2.2", u.host);
    TEST_ASSERT_EQUAL_UINT16(8888, u.port);
    {
        static const char url[] = "HTTP://10.0.2.2:8888/ocsp/ca1";
        TEST_ASSERT_EQUAL_STRING("/ocsp/ca1", &url[u.path_offset]);
    }

    TEST_ASSERT_EQUAL_INT(0, stapler_http_url_parse("http://[::1]:9/", &u));
    TEST_ASSERT_EQUAL_STRING("::1", u.host);
    TEST_ASSERT_EQUAL_INT(1, u.ipv6_literal);
    TEST_ASSERT_EQUAL_UINT16(9, u.port);
}

static void test_bad_urls_are_refused_with_the_reason(void)
{
    stapler_http_url_t u;
    char longest[STAPLER_URL_MAX + 2];

    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_SCHEME, stapler_http_url_parse("https://ocsp.example.com/", &u));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_SCHEME, stapler_http_url_parse("ldap://x/", &u));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_URL, stapler_http_url_parse("ocsp.example.com/", &u));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_URL, stapler_http_url_parse("http://", &u));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_URL, stapler_http_url_parse("http://user@host/", &u));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_URL, stapler_http_url_parse("http://host:0/", &u));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_URL, stapler_http_url_parse("http://host:65536/", &u));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_URL, stapler_http_url_parse("http://host:8x/", &u));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_URL, stapler_http_url_parse("http://[::1/", &u));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_URL, stapler_http_url_parse("http://host/#frag", &u));
    /* Header injection through a crafted AIA URL. */
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_URL, stapler_http_url_parse("http://host/\r\nX-Evil: 1", &u));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_URL, stapler_http_url_parse("http://host/a b", &u));
    memset(longest, 'a', sizeof(longest) - 1);
    memcpy(longest, "http://", 7);
    longest[sizeof(longest) - 1] = '\0';
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_URL, stapler_http_url_parse(longest, &u));
}

/* ---- Request ------------------------------------------------------------------------- */

static unsigned char small_request[83];
static unsigned char large_request[STAPLER_OCSP_REQUEST_MAX];

static void fill_requests(void)
{
    size_t i;

    for (i = 0; i < sizeof(small_request); i++) {
        small_request[i] = (unsigned char) (i * 7u + 0xF0u); /* makes '+' and '/' in base64 */
    }
    for (i = 0; i < sizeof(large_request); i++) {
        large_request[i] = (unsigned char) i;
    }
}

static void test_small_requests_use_get_with_host_and_close(void)
{
    char out[STAPLER_HTTP_REQUEST_MAX];
    size_t len;
    int post = -1;

    fill_requests();
    TEST_ASSERT_EQUAL_INT(0, stapler_http_request_write("http://ocsp.test/ca", small_request, sizeof(small_request),
                                                        0, out, sizeof(out), &len, &post));
    out[len] = '\0';
    TEST_ASSERT_EQUAL_INT(0, post);
    TEST_ASSERT_EQUAL_STRING_LEN("GET /ca/", out, 8);
    TEST_ASSERT_NOT_NULL(strstr(out, " HTTP/1.1\r\nHost: ocsp.test\r\n"));
    TEST_ASSERT_NOT_NULL(strstr(out, "\r\nConnection: close\r\n"));
    TEST_ASSERT_NOT_NULL(strstr(out, "\r\nAccept: application/ocsp-response\r\n"));
    TEST_ASSERT_NOT_NULL(strstr(out, "%2F")); /* '/' of the base64, percent-encoded */
    TEST_ASSERT_NULL(strstr(out, "Content-Length"));
    TEST_ASSERT_EQUAL_STRING("\r\n\r\n", out + len - 4);
    TEST_ASSERT_LESS_OR_EQUAL(STAPLER_HTTP_GET_MAX, strchr(out + 4, ' ') - (out + 4) + strlen("http://ocsp.test"));
}

static void test_the_host_header_carries_a_port_other_than_80(void)
{
    char out[STAPLER_HTTP_REQUEST_MAX];
    size_t len;

    TEST_ASSERT_EQUAL_INT(0, stapler_http_request_write("http://127.0.0.1:8080", small_request, sizeof(small_request),
                                                        0, out, sizeof(out), &len, NULL));
    out[len] = '\0';
    TEST_ASSERT_NOT_NULL(strstr(out, "\r\nHost: 127.0.0.1:8080\r\n"));
    TEST_ASSERT_EQUAL_STRING_LEN("GET /", out, 5);
    TEST_ASSERT_EQUAL_INT(0, stapler_http_request_write("http://h:80/x", small_request, sizeof(small_request),
                                                        0, out, sizeof(out), &len, NULL));
    out[len] = '\0';
    TEST_ASSERT_NOT_NULL(strstr(out, "\r\nHost: h\r\n"));
    TEST_ASSERT_EQUAL_INT(0, stapler_http_request_write("http://[::1]:81/", small_request, sizeof(small_request),
                                                        0, out, sizeof(out), &len, NULL));
    out[len] = '\0';
    TEST_ASSERT_NOT_NULL(strstr(out, "\r\nHost: [::1]:81\r\n"));
}

static void test_large_requests_and_queries_use_post(void)
{
    char out[STAPLER_HTTP_REQUEST_MAX];
    char expect[64];
    size_t len;
    int post = 0;

    TEST_ASSERT_EQUAL_INT(0, stapler_http_request_write("http://ocsp.test:81/p", large_request, sizeof(large_request),
                                                        0, out, sizeof(out), &len, &post));
    TEST_ASSERT_EQUAL_INT(1, post);
    TEST_ASSERT_EQUAL_STRING_LEN("POST /p HTTP/1.1\r\nHost: ocsp.test:81\r\n", out, 38);
    snprintf(expect, sizeof(expect), "Content-Length: %u\r\n\r\n", (unsigned) sizeof(large_request));
    TEST_ASSERT_NOT_NULL(strstr(out, "Content-Type: application/ocsp-request\r\n"));
    TEST_ASSERT_NOT_NULL(strstr(out, expect));
    TEST_ASSERT_EQUAL_HEX8_ARRAY(large_request, out + len - sizeof(large_request), sizeof(large_request));

    TEST_ASSERT_EQUAL_INT(0, stapler_http_request_write("http://ocsp.test/q?ca=1", small_request, sizeof(small_request),
                                                        0, out, sizeof(out), &len, &post));
    TEST_ASSERT_EQUAL_INT(1, post);
    TEST_ASSERT_EQUAL_STRING_LEN("POST /q?ca=1 HTTP/1.1\r\n", out, 23);
    TEST_ASSERT_EQUAL_INT(0, stapler_http_request_write("http://ocsp.test", large_request, sizeof(large_request),
                                                        0, out, sizeof(out), &len, &post));
    TEST_ASSERT_EQUAL_STRING_LEN("POST / HTTP/1.1\r\n", out, 17);
}

/* A responder that refused GET is asked by POST, however small the request. */
static void test_the_post_flag_makes_a_small_request_a_post(void)
{
    char out[STAPLER_HTTP_REQUEST_MAX];
    size_t len;
    int post = 0;

    TEST_ASSERT_EQUAL_INT(0, stapler_http_request_write("http://ocsp.test/ca", small_request, sizeof(small_request),
                                                        STAPLER_HTTP_POST, out, sizeof(out), &len, &post));
    TEST_ASSERT_EQUAL_INT(1, post);
    TEST_ASSERT_EQUAL_STRING_LEN("POST /ca HTTP/1.1\r\n", out, 19);
    TEST_ASSERT_EQUAL_HEX8_ARRAY(small_request, out + len - sizeof(small_request), sizeof(small_request));
    TEST_ASSERT_EQUAL_INT(0, stapler_http_request_write("http://ocsp.test/ca", small_request, sizeof(small_request),
                                                        STAPLER_HTTP_POST | STAPLER_HTTP_VIA_PROXY, out, sizeof(out),
                                                        &len, &post));
    TEST_ASSERT_EQUAL_STRING_LEN("POST http://ocsp.test/ca HTTP/1.1\r\n", out, 35);
}

static void test_through_a_proxy_the_target_is_the_absolute_url(void)
{
    char out[STAPLER_HTTP_REQUEST_MAX];
    size_t len;

    TEST_ASSERT_EQUAL_INT(0, stapler_http_request_write("http://ocsp.test:81/ca", small_request, sizeof(small_request),
                                                        STAPLER_HTTP_VIA_PROXY, out, sizeof(out), &len, NULL));
    TEST_ASSERT_EQUAL_STRING_LEN("GET http://ocsp.test:81/ca/", out, 27);
    TEST_ASSERT_EQUAL_INT(0, stapler_http_request_write("http://ocsp.test/ca", large_request, sizeof(large_request),
                                                        STAPLER_HTTP_VIA_PROXY, out, sizeof(out), &len, NULL));
    TEST_ASSERT_EQUAL_STRING_LEN("POST http://ocsp.test/ca HTTP/1.1\r\n", out, 35);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_BUFFER_TOO_SMALL,
                          stapler_http_request_write("http://ocsp.test/ca", large_request, sizeof(large_request),
                                                     STAPLER_HTTP_VIA_PROXY, out, 100, &len, NULL));
}

/* The most a request can take: POST through a proxy (the whole URL as the target, with the
 * '/' of an empty path), the longest authority a 255-byte URL can have in Host, and the
 * largest OCSP request as the body. */
static void test_the_longest_request_fits_the_documented_maximum(void)
{
    char url[STAPLER_URL_MAX + 1];
    char out[STAPLER_HTTP_REQUEST_MAX];
    size_t len = 0, host_len = STAPLER_URL_MAX - strlen("http://[]:65535"), max_len = 0;
    int via_proxy;

    memcpy(url, "http://[", 8);
    memset(url + 8, 'a', host_len);
    memcpy(url + 8 + host_len, "]:65535", 8);
    TEST_ASSERT_EQUAL_size_t(STAPLER_URL_MAX, strlen(url));
    for (via_proxy = 0; via_proxy <= 1; via_proxy++) {
        TEST_ASSERT_EQUAL_INT(0, stapler_http_request_write(url, large_request, sizeof(large_request),
                                                            via_proxy ? STAPLER_HTTP_VIA_PROXY : 0u,
                                                            out, sizeof(out), &len, NULL));
        max_len = len > max_len ? len : max_len;
    }
    TEST_ASSERT_EQUAL_STRING_LEN("POST http://[aaa", out, 16);
    /* The bound is not loose by more than the fixed header text's margin. */
    TEST_ASSERT_GREATER_THAN(STAPLER_HTTP_REQUEST_MAX - 160, max_len);
}

/* ---- Response parser ----------------------------------------------------------------- */

static unsigned char body[STAPLER_RESPONSE_MAX];

/* Feed `text` in pieces of `step` bytes; returns the final result (1, 0 or an error). */
static int parse_in_steps(stapler_http_response_t *r, const char *text, size_t len, size_t step, int close)
{
    size_t i;
    int ret = 0;

    stapler_http_response_init(r, body, sizeof(body));
    for (i = 0; i < len && ret == 0; i += step) {
        ret = stapler_http_response_feed(r, (const unsigned char *) text + i, len - i < step ? len - i : step);
    }
    if (ret == 0 && close) {
        ret = stapler_http_response_close(r);
    }
    return ret;
}

/* The same response must parse identically in every split. */
static void assert_body_in_every_split(const char *text, int close, const char *expected_body)
{
    stapler_http_response_t r;
    size_t step;
    const size_t len = strlen(text);

    for (step = 1; step <= len; step++) {
        TEST_ASSERT_EQUAL_INT_MESSAGE(1, parse_in_steps(&r, text, len, step, close), text);
        TEST_ASSERT_EQUAL_INT(200, r.status);
        TEST_ASSERT_EQUAL_size_t(strlen(expected_body), r.body_len);
        TEST_ASSERT_EQUAL_MEMORY(expected_body, body, r.body_len);
    }
}

static void test_content_length_bodies_in_every_split(void)
{
    assert_body_in_every_split("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                               "Content-Length: 5\r\n\r\nhello",
                               0, "hello");
    /* Lower-case names, odd spacing, parameters, bare LF line ends, HTTP/1.0. */
    assert_body_in_every_split("HTTP/1.0 200 OK\ncontent-type:APPLICATION/OCSP-RESPONSE ; charset=x\n"
                               "CONTENT-LENGTH:   3  \nx-other: y\n\nabc",
                               0, "abc");
}

static void test_chunked_bodies_with_extensions_and_trailers(void)
{
    assert_body_in_every_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                               "Content-Type: application/ocsp-response\r\nContent-Length: 999\r\n\r\n"
                               "4;name=value\r\nwiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
                               "X-Trailer: t\r\n\r\n",
                               0, "wikipedia in\r\n\r\nchunks.");
    assert_body_in_every_split("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n"
                               "content-type: application/ocsp-response\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                               0, "abc");
}

static void test_a_body_delimited_by_close_and_interim_responses(void)
{
    assert_body_in_every_split("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n\r\nuntil-close", 1,
                               "until-close");
    assert_body_in_every_split("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                               "Content-Type: application/ocsp-response\r\nContent-Length: 2\r\n\r\nok",
                               0, "ok");
}

static void assert_error(const char *text, int close, int expected, int status)
{
    stapler_http_response_t r;
    size_t step;
    const size_t len = strlen(text);

    for (step = 1; step <= len; step += (step < 8 ? 1 : 7)) {
        TEST_ASSERT_EQUAL_INT_MESSAGE(expected, parse_in_steps(&r, text, len, step, close), text);
        TEST_ASSERT_EQUAL_INT(status, r.status);
    }
}

static void test_http_errors_are_classified_before_any_body_is_read(void)
{
    stapler_http_response_t r;
    const char *busy = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nContent-Length: 4\r\n\r\nbusy";
    const char *dated = "HTTP/1.1 503 Service Unavailable\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                        "Retry-After: Sun, 06 Nov 1994 08:59:37 GMT\r\n\r\n";

    assert_error("HTTP/1.1 400 Bad Request\r\n\r\n", 0, STAPLER_ERR_HTTP_CLIENT_ERROR, 400);
    assert_error("HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\n\r\n<html>", 0, STAPLER_ERR_HTTP_CLIENT_ERROR, 403);
    assert_error("HTTP/1.1 404 Not Found\r\n\r\n", 0, STAPLER_ERR_HTTP_CLIENT_ERROR, 404);
    assert_error("HTTP/1.1 500 Internal Server Error\r\n\r\n", 0, STAPLER_ERR_HTTP_SERVER_ERROR, 500);
    assert_error("HTTP/1.1 204 No Content\r\n\r\n", 0, STAPLER_ERR_HTTP_UNEXPECTED_STATUS, 204);
    assert_error("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\n<html>", 0,
                 STAPLER_ERR_HTTP_CONTENT_TYPE, 200);
    assert_error("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n<html>", 0, STAPLER_ERR_HTTP_CONTENT_TYPE, 200);
    assert_error("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response-not\r\n\r\n", 0,
                 STAPLER_ERR_HTTP_CONTENT_TYPE, 200);

    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_SERVER_ERROR, parse_in_steps(&r, busy, strlen(busy), 3, 0));
    TEST_ASSERT_EQUAL_UINT32(120, r.retry_after_s);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_SERVER_ERROR, parse_in_steps(&r, dated, strlen(dated), 5, 0));
    TEST_ASSERT_EQUAL_UINT32(600, r.retry_after_s); /* measured against the responder's Date */

    assert_error("HTTP/1.1 301 Moved\r\nLocation: http://new.test/ocsp\r\n\r\n", 0, STAPLER_ERR_HTTP_REDIRECT, 301);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_REDIRECT,
                          parse_in_steps(&r, "HTTP/1.1 302 Found\r\nLocation: http://new.test/ocsp\r\n\r\n",
                                         strlen("HTTP/1.1 302 Found\r\nLocation: http://new.test/ocsp\r\n\r\n"), 9, 0));
    TEST_ASSERT_EQUAL_STRING("http://new.test/ocsp", r.location);
}

static void test_oversized_bodies_are_refused_without_reading_them(void)
{
    stapler_http_response_t r;
    char text[256];
    static char chunked[STAPLER_RESPONSE_MAX + 256];
    size_t n;

    /* Refused from the header alone: the body is never fed. */
    snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                                 "Content-Length: %u\r\n\r\n", (unsigned) STAPLER_RESPONSE_MAX + 1u);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_TOO_LARGE, parse_in_steps(&r, text, strlen(text), 1, 0));
    TEST_ASSERT_EQUAL_size_t(0, r.body_len);
    assert_error("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: 99999999999\r\n\r\n",
                 0, STAPLER_ERR_HTTP_TOO_LARGE, 200);
    assert_error("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "FFFFFFFFFF\r\n", 0, STAPLER_ERR_HTTP_TOO_LARGE, 200);
    /* Chunks that add up to more than the buffer. */
    n = (size_t) snprintf(chunked, sizeof(chunked), "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                                                    "Transfer-Encoding: chunked\r\n\r\n%x\r\n", STAPLER_RESPONSE_MAX);
    memset(chunked + n, 'x', STAPLER_RESPONSE_MAX);
    n += STAPLER_RESPONSE_MAX;
    n += (size_t) snprintf(chunked + n, sizeof(chunked) - n, "\r\n1\r\ny\r\n0\r\n\r\n");
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_TOO_LARGE, parse_in_steps(&r, chunked, n, 100, 0));
    TEST_ASSERT_EQUAL_size_t(STAPLER_RESPONSE_MAX, r.body_len);
    /* Read until close, past the buffer. */
    n = (size_t) snprintf(chunked, sizeof(chunked), "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n\r\n");
    memset(chunked + n, 'x', STAPLER_RESPONSE_MAX + 1);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_TOO_LARGE, parse_in_steps(&r, chunked, n + STAPLER_RESPONSE_MAX + 1, 999, 1));
}

static void test_truncated_and_malformed_responses(void)
{
    stapler_http_response_t r;
    static char big[STAPLER_HTTP_HEADERS_MAX + 128];
    size_t n;

    assert_error("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: 10\r\n\r\nabc", 1,
                 STAPLER_ERR_HTTP_TRUNCATED, 200);
    assert_error("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\nab", 1, STAPLER_ERR_HTTP_TRUNCATED, 200);
    assert_error("HTTP/1.1 200 OK\r\nContent-Type: appl", 1, STAPLER_ERR_HTTP_TRUNCATED, 200);
    assert_error("", 1, STAPLER_ERR_HTTP_TRUNCATED, 0);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_TRUNCATED, parse_in_steps(&r, "", 0, 1, 1));
    assert_error("<html><body>It works!</body></html>\n", 0, STAPLER_ERR_HTTP_MALFORMED, 0);
    assert_error("HTTP/1.1 2000 OK\r\n\r\n", 0, STAPLER_ERR_HTTP_MALFORMED, 0);
    assert_error("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", 0, STAPLER_ERR_HTTP_MALFORMED, 200);
    assert_error("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: 1x\r\n\r\n", 0,
                 STAPLER_ERR_HTTP_MALFORMED, 200);
    assert_error("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: 3\r\n"
                 "Content-Length: 4\r\n\r\n", 0, STAPLER_ERR_HTTP_MALFORMED, 200);
    assert_error("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "zz\r\n", 0, STAPLER_ERR_HTTP_MALFORMED, 200);
    assert_error("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "2\r\nabXY", 0, STAPLER_ERR_HTTP_MALFORMED, 200);
    assert_error("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                 0, STAPLER_ERR_HTTP_TRANSFER_CODING, 200);
    assert_error("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nTransfer-Encoding: gzip\r\n\r\n",
                 0, STAPLER_ERR_HTTP_TRANSFER_CODING, 200);
    /* An endless header stream stops at the limit; one long header line is skipped. */
    n = (size_t) snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX-Long: ");
    memset(big + n, 'a', sizeof(big) - n - 1);
    big[sizeof(big) - 1] = '\0';
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_HEADERS_TOO_LARGE, parse_in_steps(&r, big, strlen(big), 512, 0));
    n = (size_t) snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX-Long: ");
    memset(big + n, 'a', 1000);
    n += 1000;
    snprintf(big + n, sizeof(big) - n, "\r\nContent-Type: application/ocsp-response\r\nContent-Length: 1\r\n\r\nz");
    TEST_ASSERT_EQUAL_INT(1, parse_in_steps(&r, big, strlen(big), 64, 0));
    TEST_ASSERT_EQUAL_size_t(1, r.body_len);
}

static void test_http_dates(void)
{
    int64_t t;

    TEST_ASSERT_EQUAL_INT(0, stapler_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", 29, &t));
    TEST_ASSERT_EQUAL_INT64(784111777, t);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_MALFORMED, stapler_http_date_parse("Sun, 06 Nox 1994 08:49:37 GMT", 29, &t));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_MALFORMED, stapler_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", 30, &t));
}

/* ---- Exchange over a scripted transport ---------------------------------------------- */

static struct {
    uint64_t now_ms;
    int connects;
    char host[64];
    uint16_t port;
    int status;               /* what status() says */
    size_t send_room;         /* bytes send() takes per call */
    char sent[STAPLER_HTTP_REQUEST_MAX];
    size_t sent_len;
    const char *inbound;      /* what the peer sends */
    const char *inbound_then; /* what it sends on the second and later connections, if set */
    size_t request_at[4];     /* where each connection's request starts in sent[] */
    size_t inbound_len, inbound_pos;
    size_t recv_room;         /* bytes recv() hands over per call; 0: nothing now */
    int end;                  /* what recv() says once inbound is used up: 0, CLOSED or an error */
    int closed;
} net;

static uint64_t mock_ms(void *c)
{
    (void) c;
    return net.now_ms;
}

static int mock_connect(void *c, const char *host, uint16_t port)
{
    (void) c;
    net.connects++;
    snprintf(net.host, sizeof(net.host), "%s", host);
    net.port = port;
    net.closed = 0;
    net.inbound_pos = 0;
    if (net.connects > 1 && net.inbound_then != NULL) {
        net.inbound = net.inbound_then;
        net.inbound_len = strlen(net.inbound_then);
    }
    if (net.connects <= 4) {
        net.request_at[net.connects - 1] = net.sent_len;
    }
    return 3;
}

static int mock_status(void *c, int conn)
{
    (void) c;
    TEST_ASSERT_EQUAL_INT(3, conn);
    return net.status;
}

static int mock_send(void *c, int conn, const void *data, size_t len)
{
    (void) c;
    (void) conn;
    if (len > net.send_room) {
        len = net.send_room;
    }
    memcpy(net.sent + net.sent_len, data, len);
    net.sent_len += len;
    return (int) len;
}

static int mock_recv(void *c, int conn, void *buffer, size_t len)
{
    size_t n = net.inbound_len - net.inbound_pos;

    (void) c;
    (void) conn;
    if (n == 0) {
        return net.end;
    }
    if (n > net.recv_room) {
        n = net.recv_room;
    }
    if (n > len) {
        n = len;
    }
    memcpy(buffer, net.inbound + net.inbound_pos, n);
    net.inbound_pos += n;
    return (int) n;
}

static void mock_close(void *c, int conn)
{
    (void) c;
    (void) conn;
    net.closed = 1;
}

static const stapler_port_t port = {
    .monotonic_ms = mock_ms,
    .transport = { mock_connect, mock_status, mock_send, mock_recv, mock_close },
};

static stapler_http_exchange_t ex;

static void script(const char *inbound, int end)
{
    memset(&net, 0, sizeof(net));
    net.now_ms = 1000;
    net.status = 1;
    net.send_room = 1000;
    net.recv_room = 1000;
    net.inbound = inbound;
    net.inbound_len = strlen(inbound);
    net.end = end;
    memset(&ex, 0, sizeof(ex));
}

/* Step until done or `limit_ms` of mock time passed, advancing by `tick_ms` each step. */
static int run(uint32_t tick_ms, uint64_t limit_ms)
{
    uint32_t wait;
    const uint64_t until = net.now_ms + limit_ms;

    while (net.now_ms <= until) {
        if (stapler_http_exchange_step(&ex, &wait) == 1) {
            return ex.result;
        }
        TEST_ASSERT_LESS_OR_EQUAL_UINT32(CONFIG_STAPLER_HTTP_TOTAL_TIMEOUT_MS, wait);
        net.now_ms += tick_ms;
    }
    return 1; /* still running */
}

static const char ok_response[] = "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                                  "Content-Length: 4\r\n\r\n\x30\x03\x0a\x01";

static void test_an_exchange_connects_sends_in_pieces_and_receives(void)
{
    script(ok_response, STAPLER_PORT_ERR_CLOSED);
    net.status = 0;
    net.send_room = 7;
    net.recv_room = 5;
    TEST_ASSERT_EQUAL_INT(0, stapler_http_exchange_start(&ex, &port, "http://resp.test:8080/ocsp", NULL,
                                                         small_request, sizeof(small_request)));
    TEST_ASSERT_EQUAL_STRING("resp.test", net.host);
    TEST_ASSERT_EQUAL_UINT16(8080, net.port);
    TEST_ASSERT_EQUAL_INT(1, run(100, 500)); /* still connecting */
    net.status = 1;
    TEST_ASSERT_EQUAL_INT(0, run(10, 1000));
    TEST_ASSERT_EQUAL_size_t(4, ex.response.body_len);
    TEST_ASSERT_EQUAL_MEMORY("\x30\x03\x0a\x01", ex.response.body, 4);
    TEST_ASSERT_EQUAL_size_t(ex.request_len, net.sent_len);
    TEST_ASSERT_EQUAL_MEMORY(ex.request, net.sent, net.sent_len);
    TEST_ASSERT_NOT_NULL(strstr(net.sent, "Host: resp.test:8080\r\n"));
    TEST_ASSERT_EQUAL_INT(1, net.closed);
    stapler_http_exchange_abort(&ex);
    TEST_ASSERT_EQUAL_INT(STAPLER_HTTP_IDLE, ex.phase);
}

static void test_transport_failures_are_passed_through(void)
{
    static const int failures[] = { STAPLER_PORT_ERR_DNS, STAPLER_PORT_ERR_REFUSED, STAPLER_PORT_ERR_TIMEOUT };
    size_t i;

    for (i = 0; i < sizeof(failures) / sizeof(failures[0]); i++) {
        script("", 0);
        net.status = failures[i];
        stapler_http_exchange_start(&ex, &port, "http://resp.test/", NULL, small_request, sizeof(small_request));
        TEST_ASSERT_EQUAL_INT(failures[i], run(10, 100));
        TEST_ASSERT_EQUAL_INT(1, net.closed);
    }
    /* A reset in the middle of a body delimited by the close is a reset, never a body. */
    script("HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n\r\n\x30\x03", STAPLER_PORT_ERR_RESET);
    stapler_http_exchange_start(&ex, &port, "http://resp.test/", NULL, small_request, sizeof(small_request));
    TEST_ASSERT_EQUAL_INT(STAPLER_PORT_ERR_RESET, run(10, 100));
    /* A bad URL fails at once, without a connection. */
    script("", 0);
    stapler_http_exchange_start(&ex, &port, "https://resp.test/", NULL, small_request, sizeof(small_request));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_SCHEME, run(10, 0));
    TEST_ASSERT_EQUAL_INT(0, net.connects);
}

static void test_connect_idle_and_total_timeouts(void)
{
    uint64_t start;

    script("", 0);
    net.status = 0;
    start = net.now_ms;
    stapler_http_exchange_start(&ex, &port, "http://resp.test/", NULL, small_request, sizeof(small_request));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_CONNECT_TIMEOUT, run(100, 60000));
    TEST_ASSERT_EQUAL_UINT64(start + CONFIG_STAPLER_HTTP_CONNECT_TIMEOUT_MS, net.now_ms);

    /* Connected, request sent, then silence. */
    script("HTTP/1.1 200 OK\r\n", 0);
    start = net.now_ms;
    stapler_http_exchange_start(&ex, &port, "http://resp.test/", NULL, small_request, sizeof(small_request));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_IDLE_TIMEOUT, run(100, 60000));
    TEST_ASSERT_EQUAL_UINT64(start + CONFIG_STAPLER_HTTP_IDLE_TIMEOUT_MS, net.now_ms);

    /* A slow drip (one byte per idle period minus a little) is stopped by the total. */
    script(ok_response, 0);
    net.recv_room = 1;
    start = net.now_ms;
    stapler_http_exchange_start(&ex, &port, "http://resp.test/", NULL, small_request, sizeof(small_request));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_TOTAL_TIMEOUT, run(CONFIG_STAPLER_HTTP_IDLE_TIMEOUT_MS - 1, 600000));
    TEST_ASSERT_LESS_THAN_UINT64(start + CONFIG_STAPLER_HTTP_TOTAL_TIMEOUT_MS + CONFIG_STAPLER_HTTP_IDLE_TIMEOUT_MS,
                                 net.now_ms);
    TEST_ASSERT_LESS_THAN_size_t(sizeof(ok_response) - 1, net.inbound_pos);
}

static void test_proxy_and_redirects(void)
{
    script(ok_response, STAPLER_PORT_ERR_CLOSED);
    stapler_http_exchange_start(&ex, &port, "http://resp.test/ca", "proxy.lan:3128", small_request,
                                sizeof(small_request));
    TEST_ASSERT_EQUAL_INT(0, run(10, 100));
    TEST_ASSERT_EQUAL_STRING("proxy.lan", net.host);
    TEST_ASSERT_EQUAL_UINT16(3128, net.port);
    TEST_ASSERT_EQUAL_STRING_LEN("GET http://resp.test/ca/", net.sent, 24);

    /* Not followed by default: the GET is asked again by POST (a redirect of a GET can be a
     * responder that mangles the GET form), and when the POST is redirected too, the redirect
     * is reported, with where it points. */
    script("HTTP/1.1 301 Moved\r\nLocation: http://new.test/ocsp\r\n\r\n", STAPLER_PORT_ERR_CLOSED);
    stapler_http_exchange_start(&ex, &port, "http://resp.test/ca", NULL, small_request, sizeof(small_request));
    ex.max_redirects = 0;
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_REDIRECT, run(10, 100));
    TEST_ASSERT_EQUAL_INT(2, net.connects);
    TEST_ASSERT_EQUAL_STRING_LEN("POST /ca HTTP/1.1\r\n", net.sent + net.request_at[1], 19);
    TEST_ASSERT_EQUAL_STRING("http://new.test/ocsp", ex.response.location);
    TEST_ASSERT_EQUAL_INT(1, ex.get_refused);
    TEST_ASSERT_EQUAL_INT(301, ex.get_status);

    /* Allowed: followed up to the limit (the mock redirects every time). */
    script("HTTP/1.1 307 Moved\r\nLocation: http://new.test:81/ocsp\r\n\r\n", STAPLER_PORT_ERR_CLOSED);
    stapler_http_exchange_start(&ex, &port, "http://resp.test/ca", NULL, small_request, sizeof(small_request));
    ex.max_redirects = 2;
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_REDIRECT, run(10, 100));
    TEST_ASSERT_EQUAL_INT(3, net.connects);
    TEST_ASSERT_EQUAL_STRING("new.test", net.host);
    TEST_ASSERT_EQUAL_UINT16(81, net.port);
    TEST_ASSERT_NOT_NULL(strstr(net.sent, "Host: new.test:81\r\n"));
    /* RFC 9110 10.2.2: a GET's Location is the request URI itself, asked as it stands */
    TEST_ASSERT_EQUAL_STRING_LEN("GET /ocsp HTTP/1.1\r\n", net.sent + net.request_at[1], 20);
    TEST_ASSERT_EQUAL_STRING_LEN("GET /ocsp HTTP/1.1\r\n", net.sent + net.request_at[2], 20);

    TEST_ASSERT_EQUAL_INT(0, ex.get_refused); /* after a followed redirect: no POST to the Location */

    /* A redirect to https is reported, not followed (the POST to the URL itself is tried). */
    script("HTTP/1.1 302 Found\r\nLocation: https://new.test/\r\n\r\n", STAPLER_PORT_ERR_CLOSED);
    stapler_http_exchange_start(&ex, &port, "http://resp.test/ca", NULL, small_request, sizeof(small_request));
    ex.max_redirects = 2;
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_REDIRECT, run(10, 100));
    TEST_ASSERT_EQUAL_INT(2, net.connects);
    TEST_ASSERT_EQUAL_STRING("resp.test", net.host);

    /* A relative redirect stays on the same responder; then a real response. */
    script("HTTP/1.1 308 Moved\r\nLocation: /v2\r\n\r\n", STAPLER_PORT_ERR_CLOSED);
    stapler_http_exchange_start(&ex, &port, "http://resp.test:8080/ca", NULL, small_request, sizeof(small_request));
    ex.max_redirects = 1;
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_REDIRECT, run(10, 100));
    TEST_ASSERT_EQUAL_STRING("http://resp.test:8080/v2", ex.url);
    TEST_ASSERT_EQUAL_STRING("resp.test", net.host);
    TEST_ASSERT_EQUAL_STRING_LEN("GET /v2 HTTP/1.1\r\n", net.sent + net.request_at[1], 18);

    /* Through a proxy, the Location is the absolute target as it stands. */
    script("HTTP/1.1 301 Moved\r\nLocation: http://new.test/MEMwQTA/x\r\n\r\n", STAPLER_PORT_ERR_CLOSED);
    stapler_http_exchange_start(&ex, &port, "http://resp.test/ca", "proxy.lan:3128", small_request,
                                sizeof(small_request));
    ex.max_redirects = 1;
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_REDIRECT, run(10, 100));
    TEST_ASSERT_EQUAL_STRING_LEN("GET http://new.test/MEMwQTA/x HTTP/1.1\r\n",
                                 net.sent + net.request_at[1], 40);
}

/* Debian's cfssl answers every GET with 400 (or 301 when the base64 holds "//"); other
 * responders say 405 or 414. The same fetch asks again by POST, and says so. */
static void test_a_refused_get_is_asked_again_by_post_in_the_same_fetch(void)
{
    static const char *const refusals[] = {
        "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nnope!",
        "HTTP/1.1 404 Not Found\r\n\r\n",
        "HTTP/1.1 405 Method Not Allowed\r\nAllow: POST\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 414 URI Too Long\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 301 Moved Permanently\r\nLocation: /MEMw/R5\r\nContent-Length: 0\r\n\r\n",
    };
    static const int codes[] = { 400, 403, 404, 405, 414, 301 };
    size_t i;

    for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        script(refusals[i], STAPLER_PORT_ERR_CLOSED);
        net.inbound_then = ok_response;
        stapler_http_exchange_start(&ex, &port, "http://resp.test/ca", NULL, small_request, sizeof(small_request));
        TEST_ASSERT_EQUAL_INT_MESSAGE(0, run(10, 100), refusals[i]);
        TEST_ASSERT_EQUAL_INT(2, net.connects);
        TEST_ASSERT_EQUAL_STRING_LEN("GET /ca/", net.sent, 8);
        TEST_ASSERT_EQUAL_STRING_LEN("POST /ca HTTP/1.1\r\n", net.sent + net.request_at[1], 19);
        TEST_ASSERT_NOT_NULL(strstr(net.sent + net.request_at[1], "Content-Type: application/ocsp-request\r\n"));
        TEST_ASSERT_EQUAL_HEX8_ARRAY(small_request, net.sent + net.sent_len - sizeof(small_request),
                                     sizeof(small_request));
        TEST_ASSERT_EQUAL_INT(1, ex.is_post); /* the request that got the answer */
        TEST_ASSERT_EQUAL_INT(200, ex.response.status);
        TEST_ASSERT_EQUAL_size_t(4, ex.response.body_len);
        TEST_ASSERT_EQUAL_INT(1, ex.get_refused);
        TEST_ASSERT_EQUAL_INT(codes[i], ex.get_status);
    }
    /* Through a proxy: the POST is in absolute form too. */
    script(refusals[0], STAPLER_PORT_ERR_CLOSED);
    net.inbound_then = ok_response;
    stapler_http_exchange_start(&ex, &port, "http://resp.test/ca", "proxy.lan:3128", small_request,
                                sizeof(small_request));
    TEST_ASSERT_EQUAL_INT(0, run(10, 100));
    TEST_ASSERT_EQUAL_STRING("proxy.lan", net.host);
    TEST_ASSERT_EQUAL_STRING_LEN("POST http://resp.test/ca HTTP/1.1\r\n", net.sent + net.request_at[1], 35);
}

static void test_only_a_refused_get_is_asked_again(void)
{
    /* The POST is refused too: one more request, not a loop; its answer is the result. */
    script("HTTP/1.1 400 Bad Request\r\n\r\n", STAPLER_PORT_ERR_CLOSED);
    net.inbound_then = "HTTP/1.1 405 Method Not Allowed\r\n\r\n";
    stapler_http_exchange_start(&ex, &port, "http://resp.test/ca", NULL, small_request, sizeof(small_request));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_CLIENT_ERROR, run(10, 100));
    TEST_ASSERT_EQUAL_INT(2, net.connects);
    TEST_ASSERT_EQUAL_INT(405, ex.response.status);
    TEST_ASSERT_EQUAL_INT(400, ex.get_status);

    /* 429 is a rate limit, not a refusal of GET; 5xx is the responder's own trouble. */
    script("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\n\r\n", STAPLER_PORT_ERR_CLOSED);
    net.inbound_then = ok_response;
    stapler_http_exchange_start(&ex, &port, "http://resp.test/ca", NULL, small_request, sizeof(small_request));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_CLIENT_ERROR, run(10, 100));
    TEST_ASSERT_EQUAL_INT(1, net.connects);
    TEST_ASSERT_EQUAL_UINT32(30, ex.response.retry_after_s);
    TEST_ASSERT_EQUAL_INT(0, ex.get_refused);
    script("HTTP/1.1 503 Service Unavailable\r\n\r\n", STAPLER_PORT_ERR_CLOSED);
    net.inbound_then = ok_response;
    stapler_http_exchange_start(&ex, &port, "http://resp.test/ca", NULL, small_request, sizeof(small_request));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_SERVER_ERROR, run(10, 100));
    TEST_ASSERT_EQUAL_INT(1, net.connects);

    /* A request too large for GET was a POST already: its 400 is final. */
    script("HTTP/1.1 400 Bad Request\r\n\r\n", STAPLER_PORT_ERR_CLOSED);
    net.inbound_then = ok_response;
    stapler_http_exchange_start(&ex, &port, "http://resp.test/ca", NULL, large_request, sizeof(large_request));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_CLIENT_ERROR, run(10, 100));
    TEST_ASSERT_EQUAL_INT(1, net.connects);
    TEST_ASSERT_EQUAL_INT(0, ex.get_refused);
}

/* A responder known to refuse GET (the agent remembers it) is asked by POST from the start. */
static void test_an_exchange_can_start_with_post(void)
{
    script("HTTP/1.1 400 Bad Request\r\n\r\n", STAPLER_PORT_ERR_CLOSED);
    net.inbound_then = ok_response;
    stapler_http_exchange_start_with(&ex, &port, "http://resp.test/ca", NULL, small_request, sizeof(small_request),
                                     0, 0, 0, STAPLER_HTTP_POST);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_HTTP_CLIENT_ERROR, run(10, 100));
    TEST_ASSERT_EQUAL_INT(1, net.connects);
    TEST_ASSERT_EQUAL_STRING_LEN("POST /ca HTTP/1.1\r\n", net.sent, 19);
    TEST_ASSERT_EQUAL_INT(0, ex.get_refused);

    /* The flag does not outlive its exchange. */
    script(ok_response, STAPLER_PORT_ERR_CLOSED);
    stapler_http_exchange_start(&ex, &port, "http://resp.test/ca", NULL, small_request, sizeof(small_request));
    TEST_ASSERT_EQUAL_INT(0, run(10, 100));
    TEST_ASSERT_EQUAL_STRING_LEN("GET /ca/", net.sent, 8);
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_urls_are_parsed_with_host_port_and_path);
    RUN_TEST(test_bad_urls_are_refused_with_the_reason);
    RUN_TEST(test_small_requests_use_get_with_host_and_close);
    RUN_TEST(test_the_host_header_carries_a_port_other_than_80);
    RUN_TEST(test_large_requests_and_queries_use_post);
    RUN_TEST(test_the_post_flag_makes_a_small_request_a_post);
    RUN_TEST(test_through_a_proxy_the_target_is_the_absolute_url);
    RUN_TEST(test_the_longest_request_fits_the_documented_maximum);
    RUN_TEST(test_content_length_bodies_in_every_split);
    RUN_TEST(test_chunked_bodies_with_extensions_and_trailers);
    RUN_TEST(test_a_body_delimited_by_close_and_interim_responses);
    RUN_TEST(test_http_errors_are_classified_before_any_body_is_read);
    RUN_TEST(test_oversized_bodies_are_refused_without_reading_them);
    RUN_TEST(test_truncated_and_malformed_responses);
    RUN_TEST(test_http_dates);
    RUN_TEST(test_an_exchange_connects_sends_in_pieces_and_receives);
    RUN_TEST(test_transport_failures_are_passed_through);
    RUN_TEST(test_connect_idle_and_total_timeouts);
    RUN_TEST(test_proxy_and_redirects);
    RUN_TEST(test_a_refused_get_is_asked_again_by_post_in_the_same_fetch);
    RUN_TEST(test_only_a_refused_get_is_asked_again);
    RUN_TEST(test_an_exchange_can_start_with_post);
    return UNITY_END();
}
