/*
 * Fuzz target: the provisioned flash region. A hostile credential store
 * (firmware/src/credentials.c, docs/SPEC.md "Credential store") is read, then the agent
 * boots on it (stapler_agent_init(): each identity's chain and issuer parsed by Mbed TLS,
 * fingerprints, AIA URLs, must-staple, the staple rings mounted), and the TLS trust anchors
 * are parsed the way the firmware loads them (board/common/stapler_app.c).
 *
 * Input: byte 0 flags (bit 0: recompute the header's CRC over the entries, bit 1: set the
 * header's entry length T to what the input holds; both let the fuzzer reach the entry
 * rules behind the CRC), then the first bytes of the flash region (the rest is erased).
 *
 * Checked besides the sanitizers': the reader returns only its documented codes; on success
 * every item lies inside the entries it came from, no two overlap, the counts and the SPEC's
 * rules hold (URL ASCII without NUL, at most 255 bytes; key or handle, not both), and
 * encoding what was read and reading it again gives the same items (the format round-trips);
 * the agent reads the store the same way; freeing what the boot parsed gives the Mbed TLS
 * arena back whole.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls/platform.h"
#include "mbedtls/x509_crt.h"
#include "stapler/agent.h"
#include "stapler/crc32.h"
#include "stapler/credentials.h"
#include "stapler/error.h"
#include "stapler_flash_sim.h"
#include "stapler_mbedtls_platform.h"
#include "stapler_posix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char memory[STAPLER_FLASH_REGION_SIZE];
static unsigned char encoded[STAPLER_CREDENTIAL_AREA_SIZE];
static unsigned char reencoded_memory[STAPLER_CREDENTIAL_AREA_SIZE];
static stapler_flash_sim_t sim;
static stapler_port_t port;
static stapler_agent_t agent;
static stapler_credentials_t creds, again;

static uint64_t fuzz_monotonic_ms(void *context) { (void) context; return 1000; }
static int fuzz_wall_time(void *context, int64_t *utc, int *trusted)
{
    (void) context;
    *utc = 1767225600; /* 2026-01-01 */
    *trusted = 1;
    return 0;
}
static int fuzz_entropy(void *context, void *buffer, size_t len)
{
    (void) context;
    memset(buffer, 0x5A, len);
    return 0;
}

static void fail(const char *what)
{
    fprintf(stderr, "credential store invariant broken: %s\n", what);
    abort();
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
    p[2] = (unsigned char) (v >> 16);
    p[3] = (unsigned char) (v >> 24);
}

typedef struct {
    uint32_t start, end;
} range_t;

static void add_span(range_t *ranges, unsigned *n, stapler_flash_span_t span, uint32_t entries_end,
                     int required)
{
    if (span.length == 0) {
        if (required) {
            fail("a required item is absent");
        }
        return;
    }
    if (span.offset < 32 + 8 || (span.offset - 32) % 4 != 0 || span.offset > entries_end ||
        span.length > entries_end - span.offset) {
        fprintf(stderr, "span offset %u length %u, entries end at %u\n", (unsigned) span.offset,
                (unsigned) span.length, (unsigned) entries_end);
        fail("an item lies outside the entries it was read from");
    }
    ranges[(*n)++] = (range_t) { span.offset, span.offset + span.length };
}

/* Every item of `c` within the entries, none overlapping another. */
static void check_layout(const stapler_credentials_t *c, uint32_t entries_end)
{
    range_t ranges[STAPLER_MAX_IDENTITIES * (STAPLER_CHAIN_MAX + 4 + STAPLER_TRUST_MAX)];
    unsigned n = 0, i, j, k;

    if (c->identity_count == 0 || c->identity_count > STAPLER_MAX_IDENTITIES) {
        fail("identity count out of range");
    }
    for (i = 0; i < c->identity_count; i++) {
        const stapler_identity_credentials_t *id = &c->identity[i];

        if (id->chain_length == 0 || id->chain_length > STAPLER_CHAIN_MAX ||
            id->trust_count > STAPLER_TRUST_MAX || (id->key.length != 0 && id->has_key_handle) ||
            id->url.length > STAPLER_URL_MAX) {
            fail("an identity breaks the SPEC's counts");
        }
        for (k = 0; k < id->chain_length; k++) {
            add_span(ranges, &n, id->chain[k], entries_end, 1);
        }
        add_span(ranges, &n, id->issuer, entries_end, 1);
        add_span(ranges, &n, id->key, entries_end, 0);
        add_span(ranges, &n, id->url, entries_end, 0);
        for (k = 0; k < id->trust_count; k++) {
            add_span(ranges, &n, id->trust[k], entries_end, 1);
        }
        for (k = 0; k < id->url.length; k++) {
            const unsigned char ch = memory[id->url.offset + k];
            if (ch == 0 || ch > 0x7F) {
                fail("the URL override is not ASCII without NUL (docs/SPEC.md)");
            }
        }
    }
    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            if (ranges[i].start < ranges[j].end && ranges[j].start < ranges[i].end) {
                fail("two items overlap");
            }
        }
    }
}

static int same_bytes(const unsigned char *a_mem, stapler_flash_span_t a, const unsigned char *b_mem,
                      stapler_flash_span_t b)
{
    return a.length == b.length && memcmp(a_mem + a.offset, b_mem + b.offset, a.length) == 0;
}

/* Encode what was read, read that again: the same items must come back. */
static void check_round_trip(void)
{
    static char urls[STAPLER_MAX_IDENTITIES][STAPLER_URL_MAX + 1];
    stapler_credential_input_t in[STAPLER_MAX_IDENTITIES];
    stapler_flash_sim_t sim2;
    size_t length;
    unsigned i, k;
    int ret;

    memset(in, 0, sizeof(in));
    for (i = 0; i < creds.identity_count; i++) {
        const stapler_identity_credentials_t *id = &creds.identity[i];

        in[i].chain_length = id->chain_length;
        for (k = 0; k < id->chain_length; k++) {
            in[i].chain[k] = memory + id->chain[k].offset;
            in[i].chain_len[k] = id->chain[k].length;
        }
        in[i].issuer = memory + id->issuer.offset;
        in[i].issuer_len = id->issuer.length;
        if (id->key.length != 0) {
            in[i].key = memory + id->key.offset;
            in[i].key_len = id->key.length;
        }
        in[i].has_key_handle = id->has_key_handle;
        in[i].key_handle = id->key_handle;
        if (id->url.length != 0) {
            memcpy(urls[i], memory + id->url.offset, id->url.length);
            urls[i][id->url.length] = '\0';
            in[i].url = urls[i];
        }
        in[i].trust_count = id->trust_count;
        for (k = 0; k < id->trust_count; k++) {
            in[i].trust[k] = memory + id->trust[k].offset;
            in[i].trust_len[k] = id->trust[k].length;
        }
    }
    ret = stapler_credentials_encode(in, creds.identity_count, encoded, sizeof(encoded), &length);
    if (ret != 0) {
        fprintf(stderr, "encode: %d\n", ret);
        fail("what was read cannot be encoded again");
    }
    stapler_flash_sim_init(&sim2, reencoded_memory, sizeof(reencoded_memory), STAPLER_FLASH_SECTOR_SIZE, 16, NULL);
    memcpy(reencoded_memory, encoded, length);
    if (stapler_credentials_read(&again, &sim2.flash, &sim2) != 0 || again.identity_count != creds.identity_count) {
        fail("an encoded store does not read back");
    }
    for (i = 0; i < creds.identity_count; i++) {
        const stapler_identity_credentials_t *a = &creds.identity[i], *b = &again.identity[i];
        int same = a->chain_length == b->chain_length && a->trust_count == b->trust_count &&
                   a->has_key_handle == b->has_key_handle && a->key_handle == b->key_handle &&
                   same_bytes(memory, a->issuer, reencoded_memory, b->issuer) &&
                   same_bytes(memory, a->key, reencoded_memory, b->key) &&
                   same_bytes(memory, a->url, reencoded_memory, b->url);

        for (k = 0; same && k < a->chain_length; k++) {
            same = same_bytes(memory, a->chain[k], reencoded_memory, b->chain[k]);
        }
        for (k = 0; same && k < a->trust_count; k++) {
            same = same_bytes(memory, a->trust[k], reencoded_memory, b->trust[k]);
        }
        if (!same) {
            fail("encoding what was read and reading it again gives other items");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static size_t baseline;
    size_t image_len, in_use, peak;
    mbedtls_x509_crt trust;
    unsigned i, k;
    int ret, agent_ret;

    if (!ready) {
        if (stapler_posix_mbedtls_setup() != 0) {
            abort();
        }
        stapler_mbedtls_platform_arena_usage(&baseline, &peak);
        ready = 1;
    }
    if (size < 1) {
        return 0;
    }
    image_len = size - 1 < STAPLER_CREDENTIAL_AREA_SIZE ? size - 1 : STAPLER_CREDENTIAL_AREA_SIZE;
    /* The emulator starts erased: lay the image over it. */
    stapler_flash_sim_init(&sim, memory, sizeof(memory), STAPLER_FLASH_SECTOR_SIZE, 16, NULL);
    memcpy(memory, data + 1, image_len);
    if ((data[0] & 2u) && image_len >= 32) {
        put32(memory + 8, (uint32_t) (image_len - 32));
    }
    if ((data[0] & 1u) && image_len >= 32) {
        uint32_t total = get32(memory + 8);
        if (total <= STAPLER_CREDENTIAL_AREA_SIZE - 32) {
            put32(memory + 12, stapler_crc32_update(STAPLER_CRC32_INIT, memory + 32, total));
        }
    }

    ret = stapler_credentials_read(&creds, &sim.flash, &sim);
    if (ret != 0 && ret != STAPLER_ERR_CRED_MISSING && ret != STAPLER_ERR_CRED_VERSION &&
        ret != STAPLER_ERR_CRED_CORRUPT) {
        fprintf(stderr, "read: %d\n", ret);
        fail("the reader returned a code it does not document");
    }
    if (ret == 0) {
        check_layout(&creds, 32 + get32(memory + 8));
        check_round_trip();
    }

    memset(&port, 0, sizeof(port));
    port.context = &sim;
    port.monotonic_ms = fuzz_monotonic_ms;
    port.wall_time = fuzz_wall_time;
    port.entropy = fuzz_entropy;
    port.flash = sim.flash;
    agent_ret = stapler_agent_init(&agent, &port);
    if (agent_ret != ret) {
        fprintf(stderr, "read: %d, agent: %d\n", ret, agent_ret);
        fail("the agent reads the store differently");
    }
    if (ret != 0) {
        return 0;
    }
    if (sim.operations != 0) {
        fail("booting wrote to flash");
    }
    /* The TLS trust anchors, as the firmware loads them. */
    for (i = 0; i < agent.identity_count; i++) {
        mbedtls_x509_crt_init(&trust);
        for (k = 0; k < agent.credentials.identity[i].trust_count; k++) {
            const stapler_flash_span_t *span = &agent.credentials.identity[i].trust[k];
            (void) mbedtls_x509_crt_parse_der(&trust, memory + span->offset, span->length);
        }
        mbedtls_x509_crt_free(&trust);
        mbedtls_x509_crt_free(&agent.identity[i].chain);
        mbedtls_x509_crt_free(&agent.identity[i].issuer);
    }
    stapler_mbedtls_platform_arena_usage(&in_use, &peak);
    if (in_use != baseline) {
        fprintf(stderr, "arena: %zu bytes in use, %zu before\n", in_use, baseline);
        fail("arena leak: booting on this store keeps memory after its certificates are freed");
    }
    return 0;
}
