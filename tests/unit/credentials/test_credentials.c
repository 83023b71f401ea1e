/* Unit tests: the credential store (firmware/src/credentials.c): round trip through
 * emulated flash, and every way a damaged store is refused. */
#include <string.h>

#include "unity.h"

#include "stapler/config.h"
#include "stapler/crc32.h"
#include "stapler/credentials.h"
#include "stapler/error.h"
#include "stapler_flash_sim.h"
#include "test_support.h"

static unsigned char memory[STAPLER_CREDENTIAL_AREA_SIZE], image[STAPLER_CREDENTIAL_AREA_SIZE];
static unsigned char leaf[4096], intermediate[4096], issuer[4096], key[4096];
static size_t leaf_len, intermediate_len, issuer_len, key_len, image_len;
static stapler_flash_sim_t sim;
static stapler_credentials_t credentials;
static stapler_credential_input_t input[2];

void setUp(void)
{
    long n;

    stapler_flash_sim_init(&sim, memory, sizeof(memory), STAPLER_FLASH_SECTOR_SIZE, 16, NULL);
    n = stapler_test_read(STAPLER_VECTOR_DIR, "leaf-rsa.der", leaf, sizeof(leaf));
    TEST_ASSERT_TRUE(n > 0);
    leaf_len = (size_t) n;
    n = stapler_test_read(STAPLER_VECTOR_DIR, "leaf-ec.der", intermediate, sizeof(intermediate));
    TEST_ASSERT_TRUE(n > 0);
    intermediate_len = (size_t) n;
    n = stapler_test_read(STAPLER_VECTOR_DIR, "ca-rsa.der", issuer, sizeof(issuer));
    TEST_ASSERT_TRUE(n > 0);
    issuer_len = (size_t) n;
    n = stapler_test_read(STAPLER_VECTOR_DIR, "leaf-rsa.key", key, sizeof(key));
    TEST_ASSERT_TRUE(n > 0);
    key_len = (size_t) n;

    memset(input, 0, sizeof(input));
    input[0].chain_length = 2;
    input[0].chain[0] = leaf;
    input[0].chain_len[0] = leaf_len;
    input[0].chain[1] = intermediate;
    input[0].chain_len[1] = intermediate_len;
    input[0].issuer = issuer;
    input[0].issuer_len = issuer_len;
    input[0].key = key;
    input[0].key_len = key_len;
    input[0].url = "http://ocsp.example.test/";
    input[1].chain_length = 1;
    input[1].chain[0] = intermediate;
    input[1].chain_len[0] = intermediate_len;
    input[1].issuer = issuer;
    input[1].issuer_len = issuer_len;
    input[1].has_key_handle = 1;
    input[1].key_handle = 0xA5000007u;
}

void tearDown(void) {}

static void provision(unsigned count)
{
    TEST_ASSERT_EQUAL_INT(0, stapler_credentials_encode(input, count, image, sizeof(image), &image_len));
    memcpy(memory, image, image_len);
}

/* Recompute the header's CRC over the entries after a deliberate edit. */
static void stapler_test_fix_credentials_crc(unsigned char *store, size_t length)
{
    const uint32_t crc = stapler_crc32_update(STAPLER_CRC32_INIT, store + 32, length - 32);

    store[12] = (unsigned char) crc;
    store[13] = (unsigned char) (crc >> 8);
    store[14] = (unsigned char) (crc >> 16);
    store[15] = (unsigned char) (crc >> 24);
}

static void assert_span(const unsigned char *expected, size_t length, stapler_flash_span_t span)
{
    TEST_ASSERT_EQUAL_UINT32(length, span.length);
    TEST_ASSERT_EQUAL_HEX8_ARRAY(expected, memory + span.offset, length);
}

static void test_round_trip(void)
{
    provision(2);
    TEST_ASSERT_EQUAL_INT(0, stapler_credentials_read(&credentials, &sim.flash, &sim));
    TEST_ASSERT_EQUAL_UINT(2, credentials.identity_count);
    TEST_ASSERT_EQUAL_UINT(2, credentials.identity[0].chain_length);
    assert_span(leaf, leaf_len, credentials.identity[0].chain[0]);
    assert_span(intermediate, intermediate_len, credentials.identity[0].chain[1]);
    assert_span(issuer, issuer_len, credentials.identity[0].issuer);
    assert_span(key, key_len, credentials.identity[0].key);
    assert_span((const unsigned char *) "http://ocsp.example.test/", 25, credentials.identity[0].url);
    TEST_ASSERT_FALSE(credentials.identity[0].has_key_handle);
    TEST_ASSERT_EQUAL_UINT(1, credentials.identity[1].chain_length);
    TEST_ASSERT_TRUE(credentials.identity[1].has_key_handle);
    TEST_ASSERT_EQUAL_HEX32(0xA5000007u, credentials.identity[1].key_handle);
    TEST_ASSERT_EQUAL_UINT32(0, credentials.identity[1].url.length);
}

static void test_trust_anchors_round_trip_per_identity(void)
{
    input[1].trust_count = 2;
    input[1].trust[0] = issuer;
    input[1].trust_len[0] = issuer_len;
    input[1].trust[1] = leaf;
    input[1].trust_len[1] = leaf_len;
    provision(2);
    TEST_ASSERT_EQUAL_INT(0, stapler_credentials_read(&credentials, &sim.flash, &sim));
    TEST_ASSERT_EQUAL_UINT(0, credentials.identity[0].trust_count);
    TEST_ASSERT_EQUAL_UINT(2, credentials.identity[1].trust_count);
    assert_span(issuer, issuer_len, credentials.identity[1].trust[0]);
    assert_span(leaf, leaf_len, credentials.identity[1].trust[1]);

    /* More than STAPLER_TRUST_MAX: refused when encoding ... */
    input[1].trust_count = STAPLER_TRUST_MAX + 1;
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_INVALID_ARGUMENT, stapler_credentials_encode(input, 2, image, sizeof(image), &image_len));
    input[1].trust_count = 2;
    input[1].trust[1] = NULL;
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_INVALID_ARGUMENT, stapler_credentials_encode(input, 2, image, sizeof(image), &image_len));
}

static void test_a_third_trust_anchor_in_flash_is_refused(void)
{
    size_t at;

    /* A store with three type-6 entries for one identity (written by hand: the encoder
     * refuses it) is corrupt, not silently truncated. */
    input[0].trust_count = 2;
    input[0].trust[0] = issuer;
    input[0].trust_len[0] = issuer_len;
    input[0].trust[1] = issuer;
    input[0].trust_len[1] = issuer_len;
    input[1].trust_count = 1;
    input[1].trust[0] = issuer;
    input[1].trust_len[0] = issuer_len;
    provision(2);
    /* The last entry is identity 1's anchor: move it to identity 0 and fix the CRC. */
    at = image_len - 8 - ((issuer_len + 3) & ~(size_t) 3);
    TEST_ASSERT_EQUAL_UINT8(6, memory[at]);
    TEST_ASSERT_EQUAL_UINT8(1, memory[at + 1]);
    memory[at + 1] = 0;
    stapler_test_fix_credentials_crc(memory, image_len);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CRED_CORRUPT, stapler_credentials_read(&credentials, &sim.flash, &sim));
    memory[at + 1] = 1;
    stapler_test_fix_credentials_crc(memory, image_len);
    TEST_ASSERT_EQUAL_INT(0, stapler_credentials_read(&credentials, &sim.flash, &sim));
}

static void test_erased_flash_means_not_provisioned(void)
{
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CRED_MISSING, stapler_credentials_read(&credentials, &sim.flash, &sim));
}

static void test_every_single_bit_flip_is_refused(void)
{
    size_t byte;
    unsigned bit;

    provision(1);
    /* Flip each bit of the header and a sample of the entries: the read refuses it. */
    for (byte = 0; byte < image_len; byte += (byte < 64 ? 1 : 37)) {
        for (bit = 0; bit < 8; bit++) {
            int ret;
            memory[byte] ^= (unsigned char) (1u << bit);
            ret = stapler_credentials_read(&credentials, &sim.flash, &sim);
            memory[byte] ^= (unsigned char) (1u << bit);
            /* Reserved header bytes are outside the CRC and meaningless: allowed to pass. */
            if ((byte >= 16 && byte < 32) || byte == 7) {
                continue;
            }
            TEST_ASSERT_NOT_EQUAL_MESSAGE(0, ret, "a damaged credential store was accepted");
        }
    }
}

static void test_newer_version_is_refused_with_its_own_error(void)
{
    provision(1);
    memory[4] = 2;
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CRED_VERSION, stapler_credentials_read(&credentials, &sim.flash, &sim));
}

/* docs/SPEC.md: the URL override is ASCII without NUL. A store whose URL holds a NUL or a
 * byte over 0x7F is refused whole (the reader took both), and the encoder refuses such a
 * URL rather than write a store that would not boot. */
static void test_url_override_must_be_ascii_without_nul(void)
{
    stapler_flash_span_t url;

    provision(1);
    TEST_ASSERT_EQUAL_INT(0, stapler_credentials_read(&credentials, &sim.flash, &sim));
    url = credentials.identity[0].url;
    memory[url.offset + 7] = 0x00;
    stapler_test_fix_credentials_crc(memory, image_len);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CRED_CORRUPT, stapler_credentials_read(&credentials, &sim.flash, &sim));
    memory[url.offset + 7] = 0xC3;
    stapler_test_fix_credentials_crc(memory, image_len);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CRED_CORRUPT, stapler_credentials_read(&credentials, &sim.flash, &sim));
    memory[url.offset + 7] = 'o';
    stapler_test_fix_credentials_crc(memory, image_len);
    TEST_ASSERT_EQUAL_INT(0, stapler_credentials_read(&credentials, &sim.flash, &sim));

    input[0].url = "http://\xc3\xa9.example.test/";
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_INVALID_ARGUMENT, stapler_credentials_encode(input, 1, image, sizeof(image), &image_len));
}

/* An entry length of 0xFFFFFFFD to 0xFFFFFFFF wraps to 0 when padded to 4 bytes: it must be
 * refused as longer than the entries, not taken as an item of 4 GiB that uses no room. */
static void test_entry_length_that_wraps_when_padded_is_refused(void)
{
    static const unsigned char wrapping[8] = { 6, 0, 0xFF, 0xFF, 0xFD, 0xFF, 0xFF, 0xFF };
    const uint32_t total = (uint32_t) (image_len + sizeof(wrapping) - 32);

    provision(1);
    memcpy(memory + image_len, wrapping, sizeof(wrapping));
    memory[8] = (unsigned char) total;
    memory[9] = (unsigned char) (total >> 8);
    memory[10] = (unsigned char) (total >> 16);
    memory[11] = (unsigned char) (total >> 24);
    stapler_test_fix_credentials_crc(memory, image_len + sizeof(wrapping));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CRED_CORRUPT, stapler_credentials_read(&credentials, &sim.flash, &sim));
}

static void test_encoding_refuses_what_the_format_cannot_hold(void)
{
    unsigned char small[512];

    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CRED_TOO_LARGE, stapler_credentials_encode(input, 1, small, sizeof(small), &image_len));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_INVALID_ARGUMENT, stapler_credentials_encode(input, 0, image, sizeof(image), &image_len));
    input[0].has_key_handle = 1; /* key and handle both */
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_INVALID_ARGUMENT, stapler_credentials_encode(input, 1, image, sizeof(image), &image_len));
    input[0].has_key_handle = 0;
    input[0].issuer = NULL;
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_INVALID_ARGUMENT, stapler_credentials_encode(input, 1, image, sizeof(image), &image_len));
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_round_trip);
    RUN_TEST(test_trust_anchors_round_trip_per_identity);
    RUN_TEST(test_a_third_trust_anchor_in_flash_is_refused);
    RUN_TEST(test_erased_flash_means_not_provisioned);
    RUN_TEST(test_every_single_bit_flip_is_refused);
    RUN_TEST(test_newer_version_is_refused_with_its_own_error);
    RUN_TEST(test_url_override_must_be_ascii_without_nul);
    RUN_TEST(test_entry_length_that_wraps_when_padded_is_refused);
    RUN_TEST(test_encoding_refuses_what_the_format_cannot_hold);
    return UNITY_END();
}
