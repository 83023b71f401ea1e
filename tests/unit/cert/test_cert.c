/* Unit tests: AIA responder URLs and must-staple (firmware/src/cert.c) on openssl-made
 * certificates; names compared as RFC 5280 7.1 says; issuers Mbed TLS refuses for their own
 * signature. */
#include <stdlib.h>
#include <string.h>

#include "unity.h"

#include "mbedtls/oid.h"
#include "mbedtls/platform.h"
#include "mbedtls/x509_crt.h"
#include "stapler/cert.h"
#include "stapler/error.h"
#include "stapler_posix.h"
#include "test_support.h"

static mbedtls_x509_crt crt;

static void load(const char *name)
{
    mbedtls_x509_crt_free(&crt);
    TEST_ASSERT_EQUAL_INT_MESSAGE(0, stapler_test_load_crt(&crt, STAPLER_VECTOR_DIR, name), name);
}

void setUp(void)
{
    TEST_ASSERT_EQUAL_INT(0, stapler_posix_mbedtls_setup());
    mbedtls_x509_crt_init(&crt);
}

void tearDown(void)
{
    stapler_cert_free(&crt);
}

static void test_ocsp_url_from_aia(void)
{
    const char *url = NULL;
    size_t len = 0;

    load("leaf-rsa.der");
    TEST_ASSERT_EQUAL_INT(0, stapler_cert_ocsp_url(&crt, 0, &url, &len));
    TEST_ASSERT_EQUAL_size_t(strlen("http://127.0.0.1:8888/ocsp"), len);
    TEST_ASSERT_EQUAL_STRING_LEN("http://127.0.0.1:8888/ocsp", url, len);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CERT_NO_OCSP_URL, stapler_cert_ocsp_url(&crt, 1, &url, &len));
}

static void test_no_aia_means_no_url(void)
{
    const char *url;
    size_t len;

    load("ca-rsa.der");
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CERT_NO_OCSP_URL, stapler_cert_ocsp_url(&crt, 0, &url, &len));
}

static void test_must_staple(void)
{
    load("leaf-muststaple.der");
    TEST_ASSERT_EQUAL_INT(1, stapler_cert_must_staple(&crt));
    load("leaf-rsa.der");
    TEST_ASSERT_EQUAL_INT(0, stapler_cert_must_staple(&crt));
}

/* ---- Host names (SNI, RFC 6125 6.4) ----------------------------------------------------- */

static int host(const char *name) { return stapler_cert_matches_host(&crt, name, strlen(name)); }

static void test_host_names_match_the_dns_names_of_the_certificate(void)
{
    load("leaf-sni.der"); /* DNS:gw.example.test, DNS:*.fleet.example.test */
    TEST_ASSERT_EQUAL_INT(1, host("gw.example.test"));
    TEST_ASSERT_EQUAL_INT(1, host("GW.Example.TEST"));
    TEST_ASSERT_EQUAL_INT(1, host("unit7.fleet.example.test"));
    TEST_ASSERT_EQUAL_INT(1, host("x.FLEET.example.test"));
    /* The wildcard is one whole label, never none or two. */
    TEST_ASSERT_EQUAL_INT(0, host("fleet.example.test"));
    TEST_ASSERT_EQUAL_INT(0, host(".fleet.example.test"));
    TEST_ASSERT_EQUAL_INT(0, host("a.b.fleet.example.test"));
    TEST_ASSERT_EQUAL_INT(0, host("gw.example.test."));     /* RFC 6066: no trailing dot */
    TEST_ASSERT_EQUAL_INT(0, host("gw.example.tes"));
    TEST_ASSERT_EQUAL_INT(0, host("xgw.example.test"));
    TEST_ASSERT_EQUAL_INT(0, host("gw..example.test"));
    TEST_ASSERT_EQUAL_INT(0, host(""));
    /* With dNSNames present, the commonName is not a name of the certificate. */
    TEST_ASSERT_EQUAL_INT(0, host("not-a-host-name.example.test"));
    /* A length that stops short of the NUL counts, not the NUL. */
    TEST_ASSERT_EQUAL_INT(1, stapler_cert_matches_host(&crt, "gw.example.testXYZ", 15));
    TEST_ASSERT_EQUAL_INT(0, stapler_cert_matches_host(&crt, "gw.example.test\0", 16));
    TEST_ASSERT_EQUAL_INT(0, stapler_cert_matches_host(&crt, NULL, 3));
    TEST_ASSERT_EQUAL_INT(0, stapler_cert_matches_host(NULL, "gw.example.test", 15));
    /* Host names are letters, digits, '-' and '_': no IPv6 literal, space or other byte. */
    TEST_ASSERT_EQUAL_INT(0, host("::ffff:1.2.3.4"));
    TEST_ASSERT_EQUAL_INT(0, host("a b.fleet.example.test"));
    TEST_ASSERT_EQUAL_INT(1, host("x_1-2.fleet.example.test"));
    TEST_ASSERT_EQUAL_INT(0, host("x*.fleet.example.test"));
    TEST_ASSERT_EQUAL_INT(0, host("*.fleet.example.test")); /* a wildcard is no host name */
}

static void test_any_subject_alt_name_puts_the_common_name_out_of_play(void)
{
    load("leaf-ipsan.der"); /* IP:127.0.0.1 only; CN=gw-ip.example.test (RFC 6125 6.4.4) */
    TEST_ASSERT_EQUAL_INT(0, host("gw-ip.example.test"));
    TEST_ASSERT_EQUAL_INT(0, host("127.0.0.1"));
}

static void test_without_dns_names_the_common_name_is_the_host_name(void)
{
    load("leaf-rsa.der"); /* CN=gateway-rsa, no subjectAltName */
    TEST_ASSERT_EQUAL_INT(1, host("gateway-rsa"));
    TEST_ASSERT_EQUAL_INT(1, host("GATEWAY-RSA"));
    TEST_ASSERT_EQUAL_INT(0, host("gateway-rs"));
    TEST_ASSERT_EQUAL_INT(0, host("gateway-rsa.example.test"));
    TEST_ASSERT_EQUAL_INT(0, host("Stapler test")); /* the O attribute is no name */
}

/* ---- Names (RFC 5280 7.1) --------------------------------------------------------------- */

/* A DER Name from RDNs written as "tag:OID-suffix:value" attributes, '+' joining the
 * attributes of one RDN and '/' separating RDNs; the OID is id-at (2.5.4.x). Values are the
 * bytes as given (a BMPString 'A' is "\x00" "A"). */
static size_t make_name(unsigned char *out, const char *spec, size_t spec_len)
{
    unsigned char rdns[512], rdn[256];
    size_t n_rdns = 0, n_rdn = 0, i = 0;

    while (i <= spec_len) {
        if (i == spec_len || spec[i] == '/') {
            rdns[n_rdns++] = 0x31;
            rdns[n_rdns++] = (unsigned char) n_rdn;
            memcpy(rdns + n_rdns, rdn, n_rdn);
            n_rdns += n_rdn;
            n_rdn = 0;
            i++;
            continue;
        }
        if (spec[i] == '+') {
            i++;
        }
        {
            /* tag (2 hex digits) ':' oid-suffix (decimal) ':' value up to '+', '/' or end */
            unsigned tag = (unsigned) strtoul(spec + i, NULL, 16), arc;
            size_t start, len;
            i += 3;
            arc = (unsigned) strtoul(spec + i, NULL, 10);
            while (spec[i] != ':') {
                i++;
            }
            start = ++i;
            while (i < spec_len && spec[i] != '+' && spec[i] != '/') {
                i++;
            }
            len = i - start;
            rdn[n_rdn++] = 0x30;
            rdn[n_rdn++] = (unsigned char) (5 + 2 + len);
            rdn[n_rdn++] = 0x06;
            rdn[n_rdn++] = 0x03;
            rdn[n_rdn++] = 0x55;
            rdn[n_rdn++] = 0x04;
            rdn[n_rdn++] = (unsigned char) arc;
            rdn[n_rdn++] = (unsigned char) tag;
            rdn[n_rdn++] = (unsigned char) len;
            memcpy(rdn + n_rdn, spec + start, len);
            n_rdn += len;
        }
    }
    out[0] = 0x30;
    out[1] = (unsigned char) n_rdns;
    memcpy(out + 2, rdns, n_rdns);
    return n_rdns + 2;
}

static int names_equal(const char *a, size_t a_len, const char *b, size_t b_len)
{
    unsigned char x[600], y[600];
    size_t x_len = make_name(x, a, a_len), y_len = make_name(y, b, b_len);
    int forward = stapler_cert_name_equal(x, x_len, y, y_len);

    TEST_ASSERT_EQUAL_INT_MESSAGE(forward, stapler_cert_name_equal(y, y_len, x, x_len), "not symmetric");
    return forward;
}
#define NAMES_EQUAL(a, b) names_equal(a, sizeof(a) - 1, b, sizeof(b) - 1)

static void test_names_match_as_rfc5280_says(void)
{
    /* The same bytes; and the same text in PrintableString (13), UTF8String (0C), BMPString (1E). */
    TEST_ASSERT_EQUAL_INT(1, NAMES_EQUAL("0C:3:Stapler CA/0C:10:Stapler", "0C:3:Stapler CA/0C:10:Stapler"));
    TEST_ASSERT_EQUAL_INT(1, NAMES_EQUAL("13:3:Stapler CA", "0C:3:Stapler CA"));
    TEST_ASSERT_EQUAL_INT(1, NAMES_EQUAL("1E:3:\x00" "C" "\x00" "A", "13:3:CA"));
    /* Case and insignificant spaces (RFC 4518 2.6.1). */
    TEST_ASSERT_EQUAL_INT(1, NAMES_EQUAL("13:3:STAPLER ca", "0C:3:stapler CA"));
    TEST_ASSERT_EQUAL_INT(1, NAMES_EQUAL("0C:3:  Stapler   CA ", "13:3:Stapler CA"));
    /* Latin-1 capitals fold (UTF-8 "É" = C3 89, "é" = C3 A9); IA5String (16) email. */
    TEST_ASSERT_EQUAL_INT(1, NAMES_EQUAL("0C:3:\xC3\x89" "cole", "0C:3:\xC3\xA9" "COLE"));
    TEST_ASSERT_EQUAL_INT(1, NAMES_EQUAL("16:3:CA@Example", "0C:3:ca@example"));
    /* A multi-valued RDN matches in any order; RDN order itself matters. */
    TEST_ASSERT_EQUAL_INT(1, NAMES_EQUAL("0C:3:A+0C:10:B/0C:6:C", "0C:10:B+13:3:a/0C:6:c"));
    TEST_ASSERT_EQUAL_INT(0, NAMES_EQUAL("0C:3:A/0C:10:B", "0C:10:B/0C:3:A"));
    /* Different text, attribute type, count of RDNs or attributes. */
    TEST_ASSERT_EQUAL_INT(0, NAMES_EQUAL("0C:3:Stapler CA", "0C:3:Stapler CB"));
    TEST_ASSERT_EQUAL_INT(0, NAMES_EQUAL("0C:3:StaplerCA", "0C:3:Stapler CA"));
    TEST_ASSERT_EQUAL_INT(0, NAMES_EQUAL("0C:3:Stapler", "0C:10:Stapler"));
    TEST_ASSERT_EQUAL_INT(0, NAMES_EQUAL("0C:3:A/0C:10:B", "0C:3:A"));
    TEST_ASSERT_EQUAL_INT(0, NAMES_EQUAL("0C:3:A+0C:10:B", "0C:3:A"));
    TEST_ASSERT_EQUAL_INT(0, NAMES_EQUAL("0C:3:A+0C:3:A", "0C:3:A+0C:10:A"));
    /* Types compared only as bytes (TeletexString, 14) and invalid text match only themselves. */
    TEST_ASSERT_EQUAL_INT(0, NAMES_EQUAL("14:3:CA", "13:3:CA"));
    TEST_ASSERT_EQUAL_INT(1, NAMES_EQUAL("14:3:CA", "14:3:CA"));
    TEST_ASSERT_EQUAL_INT(0, NAMES_EQUAL("0C:3:\xC0\x80", "0C:3:\x00"));
    TEST_ASSERT_EQUAL_INT(0, NAMES_EQUAL("13:3:\xC3\xA9", "0C:3:\xC3\xA9"));
}

static void test_malformed_names_match_nothing_else(void)
{
    static const unsigned char good[] = { 0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x00 };
    unsigned char bad[sizeof(good)];
    size_t i;

    /* Every truncation and every single-byte change is either still a Name or refused. */
    for (i = 0; i < sizeof(good); i++) {
        TEST_ASSERT_EQUAL_INT(0, stapler_cert_name_equal(good, i, good, sizeof(good)));
    }
    for (i = 0; i < sizeof(good) * 256; i++) {
        memcpy(bad, good, sizeof(good));
        bad[i / 256] = (unsigned char) (i % 256);
        (void) stapler_cert_name_equal(bad, sizeof(bad), good, sizeof(good));
    }
    TEST_ASSERT_EQUAL_INT(0, stapler_cert_name_equal(NULL, 0, good, sizeof(good)));
}

/* ---- Issuers Mbed TLS refuses for their own signature --------------------------------------- */

static unsigned char der[4096];

static size_t read_vector(const char *name)
{
    long n = stapler_test_read(STAPLER_VECTOR_DIR, name, der, sizeof(der));
    TEST_ASSERT_TRUE_MESSAGE(n > 0, name);
    return (size_t) n;
}

static void test_an_md5_signed_root_is_taken_for_its_name_and_key(void)
{
    mbedtls_x509_crt full;
    size_t n = read_vector("ca-md5.der");
    int partial = -1;

    /* Mbed TLS alone refuses it: md5WithRSA is not built in. */
    mbedtls_x509_crt_init(&full);
    TEST_ASSERT_EQUAL_INT(MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG + MBEDTLS_ERR_OID_NOT_FOUND,
                          mbedtls_x509_crt_parse_der(&full, der, n));
    TEST_ASSERT_EQUAL_INT(0, stapler_cert_parse_issuer(&crt, der, n, &partial));
    TEST_ASSERT_EQUAL_INT(1, partial);
    TEST_ASSERT_TRUE(stapler_cert_is_partial(&crt));
    /* What OCSP needs: the name, the key, the validity; the DER is a copy. */
    TEST_ASSERT_EQUAL_size_t(n, crt.raw.len);
    TEST_ASSERT_TRUE(crt.raw.p != der);
    TEST_ASSERT_EQUAL_HEX8_ARRAY(der, crt.raw.p, n);
    TEST_ASSERT_EQUAL_INT(3, crt.version);
    TEST_ASSERT_TRUE(mbedtls_pk_can_do(&crt.pk, MBEDTLS_PK_RSA));
    TEST_ASSERT_EQUAL_INT(1, stapler_cert_name_equal(crt.subject_raw.p, crt.subject_raw.len, crt.issuer_raw.p,
                                                     crt.issuer_raw.len));
    TEST_ASSERT_GREATER_OR_EQUAL(2026, crt.valid_from.year);
    TEST_ASSERT_EQUAL_INT(crt.valid_from.year + 10, crt.valid_to.year);
    /* md5WithRSAEncryption 1.2.840.113549.1.1.4 */
    TEST_ASSERT_EQUAL_size_t(9, crt.sig_oid.len);
    TEST_ASSERT_EQUAL_HEX8(0x04, crt.sig_oid.p[8]);
}

static void test_a_certificate_mbed_tls_parses_is_parsed_by_mbed_tls(void)
{
    size_t n = read_vector("ca-rsa.der");
    int partial = -1;

    TEST_ASSERT_EQUAL_INT(0, stapler_cert_parse_issuer(&crt, der, n, &partial));
    TEST_ASSERT_EQUAL_INT(0, partial);
    TEST_ASSERT_FALSE(stapler_cert_is_partial(&crt));
    TEST_ASSERT_NOT_NULL(crt.tbs.p);
    /* Its key must still be one this build knows: an Ed25519 root is refused. */
    stapler_cert_free(&crt);
    n = read_vector("ed25519-root.der");
    TEST_ASSERT_NOT_EQUAL(0, stapler_cert_parse_issuer(&crt, der, n, &partial));
    TEST_ASSERT_NULL(crt.raw.p);
    /* Only an empty structure is parsed into. */
    n = read_vector("ca-rsa.der");
    TEST_ASSERT_EQUAL_INT(0, stapler_cert_parse_issuer(&crt, der, n, NULL));
    TEST_ASSERT_EQUAL_INT(MBEDTLS_ERR_X509_BAD_INPUT_DATA, stapler_cert_parse_issuer(&crt, der, n, NULL));
}

/* Hostile bytes: every truncation, every byte changed in turn; nothing read out of bounds
 * (ASan), and freeing gives the arena back whole. */
static void test_partial_parsing_is_bounded_and_gives_memory_back(void)
{
    static unsigned char copy[4096];
    size_t n = read_vector("ca-md5.der"), i, before;
    int accepted = 0;

    TEST_ASSERT_EQUAL_INT(0, stapler_cert_parse_issuer(&crt, der, n, NULL));
    stapler_cert_free(&crt);
    before = stapler_test_largest_free_block();
    for (i = 0; i < n; i++) {
        TEST_ASSERT_NOT_EQUAL(0, stapler_cert_parse_issuer(&crt, der, i, NULL));
        TEST_ASSERT_NULL(crt.raw.p);
    }
    for (i = 0; i < n; i++) {
        memcpy(copy, der, n);
        copy[i] ^= (unsigned char) (1u + i % 255u);
        if (stapler_cert_parse_issuer(&crt, copy, n, NULL) == 0) {
            accepted++;
        }
        stapler_cert_free(&crt);
    }
    TEST_ASSERT_EQUAL_size_t(before, stapler_test_largest_free_block());
    TEST_ASSERT_GREATER_THAN(0, accepted); /* changes in the signature or the key's bits */
}

static void test_fields_of_a_certificate(void)
{
    stapler_cert_fields_t f;
    size_t n = read_vector("ed25519-root.der");

    TEST_ASSERT_EQUAL_INT(0, stapler_cert_fields(der, n, &f));
    TEST_ASSERT_EQUAL_INT(3, f.version);
    TEST_ASSERT_EQUAL_size_t(3, f.sig_oid_len); /* Ed25519 1.3.101.112 */
    TEST_ASSERT_EQUAL_INT(1, stapler_cert_name_equal(f.subject, f.subject_len, f.issuer, f.issuer_len));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CERT_MALFORMED, stapler_cert_fields(der, n - 1, &f));
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_ocsp_url_from_aia);
    RUN_TEST(test_no_aia_means_no_url);
    RUN_TEST(test_must_staple);
    RUN_TEST(test_host_names_match_the_dns_names_of_the_certificate);
    RUN_TEST(test_without_dns_names_the_common_name_is_the_host_name);
    RUN_TEST(test_any_subject_alt_name_puts_the_common_name_out_of_play);
    RUN_TEST(test_names_match_as_rfc5280_says);
    RUN_TEST(test_malformed_names_match_nothing_else);
    RUN_TEST(test_an_md5_signed_root_is_taken_for_its_name_and_key);
    RUN_TEST(test_a_certificate_mbed_tls_parses_is_parsed_by_mbed_tls);
    RUN_TEST(test_partial_parsing_is_bounded_and_gives_memory_back);
    RUN_TEST(test_fields_of_a_certificate);
    return UNITY_END();
}
