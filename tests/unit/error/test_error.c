/* Unit tests: error names, slugs and messages (firmware/src/error.c, error_name.c). */
#include <string.h>

#include "unity.h"

#include "stapler/error.h"
#include "stapler_port.h"

/* error.c once more, as an image built without CONFIG_STAPLER_ERROR_MESSAGES compiles it,
 * under other names beside the real one (which this build has with its messages). */
#include "stapler/config.h"
#undef CONFIG_STAPLER_ERROR_MESSAGES
#define stapler_error_slug stapler_error_slug_without_messages
#define stapler_error_message stapler_error_message_without_messages
const char *stapler_error_slug(int err);
const char *stapler_error_message(int err);
#include "../../../firmware/src/error.c"
#undef stapler_error_slug
#undef stapler_error_message

static const int all_codes[] = {
    STAPLER_OK, STAPLER_ERR_INVALID_ARGUMENT, STAPLER_ERR_BUFFER_TOO_SMALL,
    STAPLER_ERR_NO_MEMORY, STAPLER_ERR_INTERNAL, STAPLER_ERR_SELFTEST_FAILED,
    STAPLER_ERR_OCSP_MALFORMED, STAPLER_ERR_OCSP_UNSUPPORTED_RESPONSE_TYPE,
    STAPLER_ERR_OCSP_CRITICAL_EXTENSION, STAPLER_ERR_OCSP_UNSUCCESSFUL,
    STAPLER_ERR_OCSP_CERT_NOT_IN_RESPONSE, STAPLER_ERR_OCSP_UNSUPPORTED_ALGORITHM,
    STAPLER_ERR_OCSP_SHA1_SIGNATURE, STAPLER_ERR_OCSP_BAD_SIGNATURE,
    STAPLER_ERR_OCSP_RESPONDER_CERT_MISSING, STAPLER_ERR_OCSP_RESPONDER_NOT_AUTHORIZED,
    STAPLER_ERR_OCSP_RESPONDER_CERT_EXPIRED, STAPLER_ERR_OCSP_NONCE_MISMATCH,
    STAPLER_ERR_OCSP_NOT_YET_VALID, STAPLER_ERR_OCSP_EXPIRED, STAPLER_ERR_OCSP_NONCE_IGNORED,
    STAPLER_ERR_CERT_NO_OCSP_URL, STAPLER_ERR_CERT_MALFORMED_EXTENSION, STAPLER_ERR_CERT_MALFORMED,
    STAPLER_ERR_CACHE_EMPTY, STAPLER_ERR_CACHE_CORRUPT, STAPLER_ERR_CACHE_GEOMETRY,
    STAPLER_ERR_CACHE_TOO_LARGE, STAPLER_ERR_CACHE_WRITE_FAILED,
    STAPLER_ERR_CRED_MISSING, STAPLER_ERR_CRED_CORRUPT, STAPLER_ERR_CRED_VERSION,
    STAPLER_ERR_CRED_TOO_LARGE, STAPLER_ERR_AGENT_NO_STAPLE, STAPLER_ERR_AGENT_NOT_NEWER,
    STAPLER_ERR_AGENT_STATUS_UNKNOWN, STAPLER_ERR_AGENT_CERT_CHANGED, STAPLER_ERR_AGENT_NO_IDENTITY,
    STAPLER_ERR_AGENT_BUSY,
    STAPLER_ERR_HTTP_URL, STAPLER_ERR_HTTP_SCHEME, STAPLER_ERR_HTTP_MALFORMED,
    STAPLER_ERR_HTTP_HEADERS_TOO_LARGE, STAPLER_ERR_HTTP_CLIENT_ERROR, STAPLER_ERR_HTTP_SERVER_ERROR,
    STAPLER_ERR_HTTP_REDIRECT, STAPLER_ERR_HTTP_UNEXPECTED_STATUS, STAPLER_ERR_HTTP_CONTENT_TYPE,
    STAPLER_ERR_HTTP_TOO_LARGE, STAPLER_ERR_HTTP_TRUNCATED, STAPLER_ERR_HTTP_CONNECT_TIMEOUT,
    STAPLER_ERR_HTTP_IDLE_TIMEOUT, STAPLER_ERR_HTTP_TOTAL_TIMEOUT, STAPLER_ERR_HTTP_TRANSFER_CODING,
    STAPLER_ERR_TLS_MUST_STAPLE, STAPLER_ERR_TLS_PEER_NO_STAPLE, STAPLER_ERR_TLS_PEER_BAD_STAPLE,
    STAPLER_ERR_TLS_PEER_REVOKED, STAPLER_ERR_TLS_PEER_UNKNOWN, STAPLER_ERR_TLS_PEER_NO_ISSUER,
    STAPLER_PORT_ERR_IO, STAPLER_PORT_ERR_RANGE, STAPLER_PORT_ERR_NO_ENTROPY, STAPLER_PORT_ERR_DNS,
    STAPLER_PORT_ERR_REFUSED, STAPLER_PORT_ERR_RESET, STAPLER_PORT_ERR_NO_RESOURCES,
    STAPLER_PORT_ERR_UNREACHABLE, STAPLER_PORT_ERR_CLOSED, STAPLER_PORT_ERR_TIMEOUT,
};
#define CODE_COUNT (sizeof(all_codes) / sizeof(all_codes[0]))

void setUp(void) {}
void tearDown(void) {}

static void test_every_code_has_a_distinct_name(void)
{
    size_t i, j;

    for (i = 0; i < CODE_COUNT; i++) {
        const char *name = stapler_error_name(all_codes[i]);
        TEST_ASSERT_EQUAL_STRING_LEN("STAPLER_", name, 8);
        TEST_ASSERT_NOT_EQUAL(0, strcmp(name, "STAPLER_ERR_UNKNOWN"));
        for (j = i + 1; j < CODE_COUNT; j++) {
            TEST_ASSERT_NOT_EQUAL(0, strcmp(name, stapler_error_name(all_codes[j])));
        }
    }
}

static void test_every_failure_says_what_to_do(void)
{
    size_t i;

    for (i = 1; i < CODE_COUNT; i++) {
        const char *message = stapler_error_message(all_codes[i]);
        TEST_ASSERT_LESS_THAN(0, all_codes[i]);
        /* A message that helps is longer than a restatement of the name. */
        TEST_ASSERT_GREATER_THAN(40, strlen(message));
    }
}

static void test_messages_are_plain_ascii_safe_to_embed_in_json(void)
{
    size_t i;
    const char *c;

    for (i = 0; i < CODE_COUNT; i++) {
        for (c = stapler_error_message(all_codes[i]); *c != '\0'; c++) {
            TEST_ASSERT_TRUE(*c >= 0x20 && *c < 0x7F && *c != '"' && *c != '\\');
        }
    }
}

static void test_arena_exhaustion_names_the_option_to_change(void)
{
    TEST_ASSERT_NOT_NULL(strstr(stapler_error_message(STAPLER_ERR_NO_MEMORY),
                                "CONFIG_STAPLER_MBEDTLS_ARENA_SIZE"));
}

static void test_every_code_has_a_distinct_snake_case_slug(void)
{
    size_t i, j;
    const char *c;

    for (i = 0; i < CODE_COUNT; i++) {
        const char *slug = stapler_error_slug(all_codes[i]);
        TEST_ASSERT_NOT_EQUAL(0, strcmp(slug, "unknown_error"));
        for (c = slug; *c != '\0'; c++) {
            TEST_ASSERT_TRUE((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
        }
        for (j = i + 1; j < CODE_COUNT; j++) {
            TEST_ASSERT_NOT_EQUAL(0, strcmp(slug, stapler_error_slug(all_codes[j])));
        }
    }
    TEST_ASSERT_EQUAL_STRING("malformed", stapler_error_slug(STAPLER_ERR_OCSP_MALFORMED));
    TEST_ASSERT_EQUAL_STRING("unknown_error", stapler_error_slug(-0x7777));
}

static void test_names_are_the_identifiers(void)
{
    TEST_ASSERT_EQUAL_STRING("STAPLER_OK", stapler_error_name(STAPLER_OK));
    TEST_ASSERT_EQUAL_STRING("STAPLER_ERR_NO_MEMORY", stapler_error_name(STAPLER_ERR_NO_MEMORY));
    TEST_ASSERT_EQUAL_STRING("STAPLER_ERR_OCSP_MALFORMED", stapler_error_name(STAPLER_ERR_OCSP_MALFORMED));
    TEST_ASSERT_EQUAL_STRING("STAPLER_PORT_ERR_TIMEOUT", stapler_error_name(STAPLER_PORT_ERR_TIMEOUT));
}

/* Every value in every range: a code has a name exactly when it has a slug and a message
 * of its own, so none of the three can miss a code the others know. */
static void test_names_slugs_and_messages_cover_the_same_codes(void)
{
    const char *unknown_message = stapler_error_message(-0x7777);
    const char *port_message = stapler_error_message(-0x1FFF);
    unsigned known = 0;
    int err;

    for (err = 1; err > -0x2000; err--) {
        const int has_name = strcmp(stapler_error_name(err), "STAPLER_ERR_UNKNOWN") != 0;
        const int has_slug = strcmp(stapler_error_slug(err), "unknown_error") != 0;
        const char *message = stapler_error_message(err);
        const int has_message = message != unknown_message && message != port_message;

        TEST_ASSERT_EQUAL_MESSAGE(has_name, has_slug, stapler_error_name(err));
        TEST_ASSERT_EQUAL_MESSAGE(has_name, has_message, stapler_error_name(err));
        known += (unsigned) has_name;
    }
    TEST_ASSERT_EQUAL_UINT(CODE_COUNT, known); /* and all_codes above lists them all */
}

static void test_without_messages_the_message_is_the_slug(void)
{
    size_t i;

    for (i = 0; i < CODE_COUNT; i++) {
        TEST_ASSERT_EQUAL_STRING(stapler_error_slug(all_codes[i]),
                                 stapler_error_slug_without_messages(all_codes[i]));
        TEST_ASSERT_EQUAL_STRING(stapler_error_slug(all_codes[i]),
                                 stapler_error_message_without_messages(all_codes[i]));
    }
    TEST_ASSERT_EQUAL_STRING("bad_signature",
                             stapler_error_message_without_messages(STAPLER_ERR_OCSP_BAD_SIGNATURE));
    TEST_ASSERT_EQUAL_STRING("unknown_error", stapler_error_message_without_messages(-0x7777));
    TEST_ASSERT_EQUAL_STRING("unknown_error", stapler_error_message_without_messages(-0x1234));
}

static void test_unknown_codes_are_reported_as_unknown(void)
{
    TEST_ASSERT_EQUAL_STRING("STAPLER_ERR_UNKNOWN", stapler_error_name(-0x7777));
    TEST_ASSERT_EQUAL_STRING("STAPLER_ERR_UNKNOWN", stapler_error_name(42));
    TEST_ASSERT_NOT_NULL(strstr(stapler_error_message(-0x7777), "unknown"));
    TEST_ASSERT_NOT_NULL(strstr(stapler_error_message(-0x1234), "port"));
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_every_code_has_a_distinct_name);
    RUN_TEST(test_every_failure_says_what_to_do);
    RUN_TEST(test_messages_are_plain_ascii_safe_to_embed_in_json);
    RUN_TEST(test_arena_exhaustion_names_the_option_to_change);
    RUN_TEST(test_every_code_has_a_distinct_snake_case_slug);
    RUN_TEST(test_names_are_the_identifiers);
    RUN_TEST(test_names_slugs_and_messages_cover_the_same_codes);
    RUN_TEST(test_without_messages_the_message_is_the_slug);
    RUN_TEST(test_unknown_codes_are_reported_as_unknown);
    return UNITY_END();
}
