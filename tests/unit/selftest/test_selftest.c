/* Unit tests: the cryptographic self-test (firmware/src/selftest.c) on this build. */
#include <string.h>

#include "unity.h"

#include "stapler/config.h"
#include "stapler/error.h"
#include "stapler/selftest.h"
#include "stapler_posix.h"

#define MAX_REPORTS 16

static struct {
    unsigned count;
    const char *names[MAX_REPORTS];
    int results[MAX_REPORTS];
} reports;

static void record(void *context, const char *name, int result)
{
    TEST_ASSERT_EQUAL_PTR(&reports, context);
    TEST_ASSERT_LESS_THAN(MAX_REPORTS, reports.count);
    reports.names[reports.count] = name;
    reports.results[reports.count] = result;
    reports.count++;
}

static int reported(const char *name)
{
    unsigned i;

    for (i = 0; i < reports.count; i++) {
        if (strcmp(reports.names[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

void setUp(void)
{
    memset(&reports, 0, sizeof(reports));
    TEST_ASSERT_EQUAL_INT(0, stapler_posix_mbedtls_setup());
}

void tearDown(void) {}

static void test_all_known_answers_pass(void)
{
    unsigned run = 0, i;

    TEST_ASSERT_EQUAL_INT(STAPLER_OK, stapler_selftest_run(record, &reports, &run));
    TEST_ASSERT_EQUAL_UINT(run, reports.count);
    for (i = 0; i < reports.count; i++) {
        TEST_ASSERT_EQUAL_INT_MESSAGE(0, reports.results[i], reports.names[i]);
    }
}

static void test_covers_every_configured_algorithm(void)
{
    TEST_ASSERT_EQUAL_INT(STAPLER_OK, stapler_selftest_run(record, &reports, NULL));
    TEST_ASSERT_TRUE(reported("sha1"));
    TEST_ASSERT_TRUE(reported("sha256"));
    TEST_ASSERT_TRUE(reported("sha224"));
    TEST_ASSERT_TRUE(reported("sha384"));
    TEST_ASSERT_TRUE(reported("sha512"));
    TEST_ASSERT_TRUE(reported("base64"));
    TEST_ASSERT_EQUAL_INT(STAPLER_IS_ENABLED(CONFIG_STAPLER_ALGO_RSA), reported("rsa-pkcs1v15"));
    TEST_ASSERT_EQUAL_INT(STAPLER_IS_ENABLED(CONFIG_STAPLER_ALGO_RSA), reported("rsa-pss"));
    TEST_ASSERT_EQUAL_INT(STAPLER_IS_ENABLED(CONFIG_STAPLER_ALGO_ECDSA_P256), reported("ecdsa-p256"));
    TEST_ASSERT_EQUAL_INT(STAPLER_IS_ENABLED(CONFIG_STAPLER_ALGO_ECDSA_P384), reported("ecdsa-p384"));
}

static void test_runs_without_a_report_callback(void)
{
    unsigned run = 0;

    TEST_ASSERT_EQUAL_INT(STAPLER_OK, stapler_selftest_run(NULL, NULL, &run));
    TEST_ASSERT_GREATER_THAN_UINT(5, run);
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_all_known_answers_pass);
    RUN_TEST(test_covers_every_configured_algorithm);
    RUN_TEST(test_runs_without_a_report_callback);
    return UNITY_END();
}
