/* Unit tests: the staple ring (firmware/src/ring.c) on emulated NOR flash, including an
 * exhaustive power-cut test and the wear model's figure. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "unity.h"

#include "stapler/config.h"
#include "stapler/crc32.h"
#include "stapler/error.h"
#include "stapler/ring.h"
#include "stapler_flash_sim.h"

#define SECTOR 4096u
/* The smallest ring the configuration allows (wraps often), and the default leaf ring. */
#define SMALL_RING (((STAPLER_RING_MIN_SIZE(SECTOR) + SECTOR - 1) / SECTOR) * SECTOR)
#define FLASH_SIZE (STAPLER_LEAF_RING_SIZE > SMALL_RING ? STAPLER_LEAF_RING_SIZE : SMALL_RING)

static unsigned char memory[FLASH_SIZE];
static uint32_t erase_counts[FLASH_SIZE / SECTOR];
static stapler_flash_sim_t sim;
static stapler_ring_t ring;
static unsigned char payload[STAPLER_RESPONSE_MAX], previous[STAPLER_RESPONSE_MAX];
static unsigned char readback[STAPLER_RESPONSE_MAX];
static const uint8_t fingerprint[STAPLER_FINGERPRINT_SIZE] = { 1, 2, 3, 4, 5, 6, 7, 8 };

/* Deterministic pseudo-random bytes (a stand-in for DER: the ring does not parse it). */
static size_t make_payload(unsigned char *out, unsigned k, size_t length)
{
    uint32_t x = 0x9E3779B9u * (k + 1);
    size_t i;

    for (i = 0; i < length; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = (unsigned char) x;
    }
    return length;
}

/* Payload sizes: mostly typical responses, some at the configured maximum. */
static size_t size_for(unsigned k)
{
    return k % 7 == 3 ? STAPLER_RESPONSE_MAX : 180 + (k * 397) % 1900;
}

static void mount(uint32_t size)
{
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_mount(&ring, &sim.flash, &sim, 0, size, 0, 0));
}

static void assert_latest(const unsigned char *expected, size_t length)
{
    size_t got = 0;
    uint8_t fp[STAPLER_FINGERPRINT_SIZE];

    TEST_ASSERT_EQUAL_INT(0, stapler_ring_read_latest(&ring, readback, sizeof(readback), &got, fp, NULL));
    TEST_ASSERT_EQUAL_size_t(length, got);
    TEST_ASSERT_EQUAL_HEX8_ARRAY(expected, readback, length);
    TEST_ASSERT_EQUAL_HEX8_ARRAY(fingerprint, fp, sizeof(fp));
}

void setUp(void)
{
    stapler_flash_sim_init(&sim, memory, FLASH_SIZE, SECTOR, 16, erase_counts);
}

void tearDown(void) {}

/* docs/SPEC.md says the records' CRC is zlib's CRC-32: the standard check value, and the
 * same result whether computed in one call or in pieces. */
static void test_crc32_is_the_ieee_crc_zlib_computes(void)
{
    const char *check = "123456789";

    TEST_ASSERT_EQUAL_HEX32(0xCBF43926u, stapler_crc32_update(STAPLER_CRC32_INIT, check, 9));
    TEST_ASSERT_EQUAL_HEX32(0xCBF43926u, stapler_crc32_update(stapler_crc32_update(STAPLER_CRC32_INIT, check, 4), check + 4, 5));
    TEST_ASSERT_EQUAL_HEX32(0u, stapler_crc32_update(STAPLER_CRC32_INIT, check, 0));
}

static void test_empty_flash_mounts_empty(void)
{
    size_t got;

    mount(SMALL_RING);
    TEST_ASSERT_FALSE(ring.has_latest);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CACHE_EMPTY, stapler_ring_read_latest(&ring, readback, sizeof(readback), &got, NULL, NULL));
}

/* The refresh point is kept with the record, at header offset 28 (docs/SPEC.md): read back
 * after a remount, outside the CRC (a record written before it was kept, 0xFFFFFFFF there,
 * reads as none, and the CRC of such a record is unchanged). */
static void test_the_refresh_point_is_kept_with_the_record(void)
{
    size_t n = make_payload(payload, 1, 700), got = 0;
    uint32_t refresh_at = 0;

    mount(SMALL_RING);
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, payload, n, fingerprint, 302400u));
    mount(SMALL_RING);
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_read_latest(&ring, readback, sizeof(readback), &got, NULL, &refresh_at));
    TEST_ASSERT_EQUAL_UINT32(302400u, refresh_at);
    TEST_ASSERT_EQUAL_HEX8(0x40, memory[28]);
    TEST_ASSERT_EQUAL_HEX8(0x9D, memory[29]);
    TEST_ASSERT_EQUAL_HEX8(0x04, memory[30]);
    TEST_ASSERT_EQUAL_HEX8(0x00, memory[31]);
    /* The next record carries its own; the field of an older format reads as none. */
    n = make_payload(payload, 2, 800);
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, payload, n, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    mount(SMALL_RING);
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_read_latest(&ring, readback, sizeof(readback), &got, NULL, &refresh_at));
    TEST_ASSERT_EQUAL_UINT32(STAPLER_RING_REFRESH_AT_NONE, refresh_at);
    assert_latest(payload, n);
}

static void test_append_survives_remount(void)
{
    size_t n = make_payload(payload, 1, 1234);

    mount(SMALL_RING);
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, payload, n, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    assert_latest(payload, n);
    mount(SMALL_RING);
    assert_latest(payload, n);
    TEST_ASSERT_EQUAL_UINT32(1, ring.latest_sequence);
}

static void test_identical_append_writes_nothing(void)
{
    size_t n = make_payload(payload, 2, 900);
    uint64_t operations;

    mount(SMALL_RING);
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, payload, n, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    operations = sim.operations;
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, payload, n, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    TEST_ASSERT_EQUAL_UINT64(operations, sim.operations);
    TEST_ASSERT_EQUAL_UINT32(1, ring.skipped_appends);
}

static void test_many_appends_wrap_and_always_remount_to_the_newest(void)
{
    unsigned k;

    mount(SMALL_RING);
    for (k = 0; k < 200; k++) {
        size_t n = make_payload(payload, k, size_for(k));
        TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, payload, n, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
        mount(SMALL_RING);
        assert_latest(payload, n);
        TEST_ASSERT_EQUAL_UINT32(k + 1, ring.latest_sequence);
    }
    TEST_ASSERT_EQUAL_UINT(0, sim.nor_violations);
}

static void test_oversized_response_is_refused(void)
{
    mount(SMALL_RING);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CACHE_TOO_LARGE,
                          stapler_ring_append(&ring, payload, STAPLER_RESPONSE_MAX + 1, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
}

static void test_bad_geometry_is_refused(void)
{
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CACHE_GEOMETRY, stapler_ring_mount(&ring, &sim.flash, &sim, 0, SMALL_RING - SECTOR, 0, 0));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CACHE_GEOMETRY, stapler_ring_mount(&ring, &sim.flash, &sim, 100, SMALL_RING, 0, 0));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CACHE_GEOMETRY, stapler_ring_mount(&ring, &sim.flash, &sim, SECTOR, FLASH_SIZE, 0, 0));
}

/* A bit flip in the newest record: it no longer counts, the one before takes over. */
static void test_bit_flip_falls_back_to_the_previous_record(void)
{
    size_t n1 = make_payload(previous, 10, 700), n2 = make_payload(payload, 11, 800), got;

    mount(SMALL_RING);
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, previous, n1, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, payload, n2, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    /* Flip a bit of the newest record's DER after mounting: reading detects it. */
    memory[ring.latest_offset + STAPLER_RECORD_ALIGN + 100] ^= 0x10;
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CACHE_CORRUPT, stapler_ring_read_latest(&ring, readback, sizeof(readback), &got, NULL, NULL));
    /* After a reboot, the older intact record is the newest valid one. */
    mount(SMALL_RING);
    assert_latest(previous, n1);
}

/* Records of another slot, version or layout are not this ring's. */
static void test_foreign_records_are_ignored(void)
{
    size_t n = make_payload(payload, 12, 500);

    TEST_ASSERT_EQUAL_INT(0, stapler_ring_mount(&ring, &sim.flash, &sim, 0, SMALL_RING, 1, 0));
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, payload, n, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    mount(SMALL_RING); /* identity 0 */
    TEST_ASSERT_FALSE(ring.has_latest);
    /* Same identity, but a future format version. */
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_mount(&ring, &sim.flash, &sim, 0, SMALL_RING, 1, 0));
    TEST_ASSERT_TRUE(ring.has_latest);
    memory[ring.latest_offset + 4] = 2;
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_mount(&ring, &sim.flash, &sim, 0, SMALL_RING, 1, 0));
    TEST_ASSERT_FALSE(ring.has_latest);
}

/* A program that silently fails (worn cell): the append reports it, the old record stays. */
static void test_failed_write_keeps_the_old_record(void)
{
    size_t n1 = make_payload(previous, 20, 600), n2 = make_payload(payload, 21, 600);

    mount(SMALL_RING);
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, previous, n1, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    sim.fail_program_at = sim.operations + 3;
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CACHE_WRITE_FAILED, stapler_ring_append(&ring, payload, n2, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    assert_latest(previous, n1);
    mount(SMALL_RING);
    assert_latest(previous, n1);
    /* And the next write goes elsewhere and works. */
    sim.fail_program_at = 0;
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, payload, n2, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    mount(SMALL_RING);
    assert_latest(payload, n2);
    TEST_ASSERT_EQUAL_UINT(0, sim.nor_violations);
}

/*
 * Maximum-size records one after the other in the smallest ring mount accepts, from many
 * starting alignments, and again with a torn write's leftovers after each record (so the
 * next one starts at the next sector): every append succeeds and a reboot finds it. The
 * erase before a wrapped append must never reach the newest record; with the old bound (two
 * records plus a sector) it did, and the ring refused the append (found by fuzz_ring).
 */
static void test_largest_records_wrap_in_the_smallest_ring(void)
{
    unsigned first, j;
    int torn;

    for (torn = 0; torn <= 1; torn++) {
        for (first = 0; first <= STAPLER_RESPONSE_MAX; first += 416) {
            stapler_flash_sim_init(&sim, memory, FLASH_SIZE, SECTOR, 16, erase_counts);
            mount(SMALL_RING);
            if (first > 0) {
                TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, previous, make_payload(previous, first, first),
                                                             fingerprint, STAPLER_RING_REFRESH_AT_NONE));
            }
            for (j = 0; j < 6; j++) {
                const size_t n = make_payload(payload, 1000 + first + j, STAPLER_RESPONSE_MAX);
                uint32_t end;

                TEST_ASSERT_EQUAL_INT_MESSAGE(0, stapler_ring_append(&ring, payload, n, fingerprint, STAPLER_RING_REFRESH_AT_NONE),
                                              "a maximum-size append was refused");
                end = ring.latest_offset + STAPLER_RECORD_SIZE(ring.latest_length);
                if (torn && end % SECTOR != 0) {
                    memory[end] = 0x00; /* what a cut in the next record's header leaves */
                }
                mount(SMALL_RING);
                assert_latest(payload, n);
            }
        }
    }
    TEST_ASSERT_EQUAL_UINT(0, sim.nor_violations);
}

/* A record with sequence number 0xFFFFFFFF (only a forged or corrupt image has one: it
 * takes 4 billion appends) leaves no newer number. An append must refuse and keep it, not
 * write sequence 0, which the next mount would rank below it: a rollback after a reboot. */
static void test_no_append_after_the_last_sequence_number(void)
{
    size_t n1 = make_payload(previous, 30, 500), n2 = make_payload(payload, 31, 600);
    uint32_t crc;
    unsigned char *h;

    mount(SMALL_RING);
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, previous, n1, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    /* Forge the sequence number, in the header and the trailer, with a CRC to match. */
    h = memory + ring.latest_offset;
    memset(h + 8, 0xFF, 4);
    memset(h + STAPLER_RECORD_SIZE(n1) - 28, 0xFF, 4);
    crc = stapler_crc32_update(stapler_crc32_update(STAPLER_CRC32_INIT, h, 24), h + 32, n1);
    h[24] = (unsigned char) crc;
    h[25] = (unsigned char) (crc >> 8);
    h[26] = (unsigned char) (crc >> 16);
    h[27] = (unsigned char) (crc >> 24);
    mount(SMALL_RING);
    TEST_ASSERT_EQUAL_HEX32(0xFFFFFFFFu, ring.latest_sequence);
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CACHE_CORRUPT, stapler_ring_append(&ring, payload, n2, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    mount(SMALL_RING);
    assert_latest(previous, n1);
}

static jmp_buf power;

/* One append with the power cut at `step`; returns 1 if the cut happened. Kept apart so
 * that no local variable of the caller lives across the longjmp. */
static int append_with_power_cut(stapler_ring_t *r, const unsigned char *data, size_t n,
                                 uint64_t step, int torn)
{
    sim.power_cut = &power;
    sim.operations = 0;
    sim.cut_at = step;
    sim.torn = torn;
    if (setjmp(power) == 0) {
        stapler_ring_append(r, data, n, fingerprint, STAPLER_RING_REFRESH_AT_NONE);
        sim.cut_at = 0;
        return 0;
    }
    sim.cut_at = 0;
    return 1;
}

/*
 * For each of many consecutive appends (the ring wraps several times), cut the power at
 * every program and erase step, both before the step takes effect and halfway through it;
 * reboot; the ring must hold the previous newest record or the new one, byte-exact, and it
 * must accept the next append cleanly. Prints how many cut points were tested.
 */
static void test_power_cut_at_every_step_leaves_old_or_new(void)
{
    static unsigned char before_append[FLASH_SIZE];
    stapler_ring_t live, before;
    size_t prev_len = 0;
    unsigned k, cut_points = 0, saw_old = 0, saw_new = 0;

    TEST_ASSERT_EQUAL_INT(0, stapler_ring_mount(&live, &sim.flash, &sim, 0, SMALL_RING, 0, 0));
    for (k = 0; k < 60; k++) {
        const size_t n = make_payload(payload, 100 + k, size_for(k));
        uint64_t steps, step;
        int torn;

        /* Dry run to count this append's steps. */
        memcpy(before_append, memory, FLASH_SIZE);
        before = live;
        sim.operations = 0;
        TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&live, payload, n, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
        steps = sim.operations;
        TEST_ASSERT_GREATER_THAN_UINT64(2, steps);

        for (step = 1; step <= steps; step++) {
            for (torn = 0; torn <= 1; torn++) {
                memcpy(memory, before_append, FLASH_SIZE);
                live = before;
                TEST_ASSERT_TRUE_MESSAGE(append_with_power_cut(&live, payload, n, step, torn),
                                         "the power cut did not happen");
                cut_points++;

                /* Reboot. */
                mount(SMALL_RING);
                if (ring.has_latest && ring.latest_length == n) {
                    assert_latest(payload, n);
                    saw_new++;
                } else if (k == 0) {
                    TEST_ASSERT_FALSE_MESSAGE(ring.has_latest, "a torn record was taken as valid");
                    saw_old++;
                } else {
                    assert_latest(previous, prev_len);
                    saw_old++;
                }
                /* The recovered ring takes the next write without NOR violations. */
                make_payload(readback, 9999, 333);
                TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, readback, 333, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
                mount(SMALL_RING);
                TEST_ASSERT_EQUAL_size_t(333, ring.latest_length);
                TEST_ASSERT_EQUAL_UINT(0, sim.nor_violations);
            }
        }
        /* Now do append k for real and go on from there. */
        memcpy(memory, before_append, FLASH_SIZE);
        live = before;
        TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&live, payload, n, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
        memcpy(previous, payload, n);
        prev_len = n;
    }
    printf("power-cut points tested: %u (old record survived %u times, new record complete %u times)\n",
           cut_points, saw_old, saw_new);
    TEST_ASSERT_GREATER_THAN_UINT(0, saw_old);
    TEST_ASSERT_GREATER_THAN_UINT(0, saw_new);
}

/* The wear model's figure: a year of hourly refreshes with maximum-size responses in the
 * default leaf ring must erase no sector more than 10,000 / 20 = 500 times. */
static void test_wear_one_year_of_hourly_refreshes(void)
{
    unsigned hour, sectors = STAPLER_LEAF_RING_SIZE / SECTOR, i, worst = 0;

    if (SECTOR != STAPLER_FLASH_SECTOR_SIZE) {
        TEST_IGNORE_MESSAGE("the wear model assumes the configured sector size");
    }
    TEST_ASSERT_EQUAL_INT(0, stapler_ring_mount(&ring, &sim.flash, &sim, 0, STAPLER_LEAF_RING_SIZE, 0, 0));
    for (hour = 0; hour < 24 * 365; hour++) {
        size_t n = make_payload(payload, hour, 4096);
        TEST_ASSERT_EQUAL_INT(0, stapler_ring_append(&ring, payload, n, fingerprint, STAPLER_RING_REFRESH_AT_NONE));
    }
    for (i = 0; i < sectors; i++) {
        worst = erase_counts[i] > worst ? erase_counts[i] : worst;
    }
    printf("wear: %u hourly 4096-byte refreshes in a %u-sector ring: worst sector erased %u times "
           "in a year -> %.1f years on 10,000-cycle flash\n",
           hour, sectors, worst, 10000.0 / worst);
    TEST_ASSERT_LESS_OR_EQUAL_UINT(500, worst);
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_crc32_is_the_ieee_crc_zlib_computes);
    RUN_TEST(test_empty_flash_mounts_empty);
    RUN_TEST(test_append_survives_remount);
    RUN_TEST(test_the_refresh_point_is_kept_with_the_record);
    RUN_TEST(test_identical_append_writes_nothing);
    RUN_TEST(test_many_appends_wrap_and_always_remount_to_the_newest);
    RUN_TEST(test_oversized_response_is_refused);
    RUN_TEST(test_bad_geometry_is_refused);
    RUN_TEST(test_bit_flip_falls_back_to_the_previous_record);
    RUN_TEST(test_foreign_records_are_ignored);
    RUN_TEST(test_failed_write_keeps_the_old_record);
    RUN_TEST(test_largest_records_wrap_in_the_smallest_ring);
    RUN_TEST(test_no_append_after_the_last_sequence_number);
    RUN_TEST(test_power_cut_at_every_step_leaves_old_or_new);
    RUN_TEST(test_wear_one_year_of_hourly_refreshes);
    return UNITY_END();
}
