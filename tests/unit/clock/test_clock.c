/* Unit tests: the time marks in flash and the network-time agreement rule
 * (firmware/src/clock.c): newest entry found after remount, sector turnover, a power cut at
 * every flash operation of a long run of writes, and which answers may be trusted. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "unity.h"

#include "stapler/clock.h"
#include "stapler/error.h"
#include "stapler_flash_sim.h"

#define SECTOR 4096u
#define SECTORS 2u
#define PER_SECTOR (SECTOR / STAPLER_TIME_MARK_ENTRY_SIZE)

static unsigned char memory[SECTOR * (SECTORS + 1u)];
static uint32_t erase_counts[SECTORS + 1u];
static stapler_flash_sim_t sim;
static stapler_clock_marks_t marks;

void setUp(void)
{
    memset(erase_counts, 0, sizeof(erase_counts));
    stapler_flash_sim_init(&sim, memory, sizeof(memory), SECTOR, 16, erase_counts);
}

void tearDown(void) {}

static void mount(void)
{
    /* The store starts one sector in, as it does after the rings. */
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_mount(&marks, &sim.flash, &sim, SECTOR, SECTORS));
}

static void test_an_empty_store_knows_nothing_and_the_first_write_is_found_again(void)
{
    mount();
    TEST_ASSERT_EQUAL_INT64(0, marks.evidence);
    TEST_ASSERT_EQUAL_INT64(0, marks.mark);
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1800000000, 1800000100));
    mount();
    TEST_ASSERT_EQUAL_INT64(1800000000, marks.evidence);
    TEST_ASSERT_EQUAL_INT64(1800000100, marks.mark);
    TEST_ASSERT_EQUAL_UINT32(1, marks.entries);
    TEST_ASSERT_EQUAL_UINT32(0, erase_counts[0]); /* the sector before the store: untouched */
}

static void test_nothing_is_written_unless_it_says_more(void)
{
    mount();
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1800000000, 1800000100));
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1800000000, 1800000100));
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1700000000, 1700000000));
    TEST_ASSERT_EQUAL_UINT32(1, marks.writes);
    /* One later, the other earlier: the earlier is kept at its newest. */
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1800000050, 1700000000));
    mount();
    TEST_ASSERT_EQUAL_INT64(1800000050, marks.evidence);
    TEST_ASSERT_EQUAL_INT64(1800000100, marks.mark);
}

static void test_sectors_turn_over_and_the_newest_survives_every_erase(void)
{
    unsigned i;

    mount();
    for (i = 1; i <= 5 * PER_SECTOR + 7; i++) {
        TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1800000000 + (int64_t) i, 1800000000 + 2 * (int64_t) i));
        if (i % 37 == 0) {
            mount();
            TEST_ASSERT_EQUAL_INT64(1800000000 + 2 * (int64_t) i, marks.mark);
        }
    }
    mount();
    TEST_ASSERT_EQUAL_INT64(1800000000 + 5 * PER_SECTOR + 7, marks.evidence);
    TEST_ASSERT_EQUAL_INT64(1800000000 + 2 * (5 * PER_SECTOR + 7), marks.mark);
    /* 5 sectors' worth and 7 more: sector 0 erased 3 times, sector 1 3 times. */
    TEST_ASSERT_EQUAL_UINT32(3, erase_counts[1]);
    TEST_ASSERT_EQUAL_UINT32(3, erase_counts[2]);
    TEST_ASSERT_EQUAL_UINT32(0, sim.nor_violations);
}

/* A power cut in every flash operation of 3 sectors' worth of writes: after it, mounting
 * finds the newest entry written before the cut, or the one being written, never less and
 * never garbage, and writing goes on from there. */
static void test_a_power_cut_at_any_operation_loses_at_most_the_entry_being_written(void)
{
    static jmp_buf cut;
    const unsigned total = 3 * PER_SECTOR + 3;
    uint64_t n, operations;
    unsigned i;

    /* Count the operations of the whole run. */
    mount();
    for (i = 1; i <= total; i++) {
        TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1800000000 + (int64_t) i, 1800000000 + (int64_t) i));
    }
    operations = sim.operations;
    TEST_ASSERT_TRUE(operations >= total);

    for (n = 1; n <= operations; n++) {
        volatile unsigned done = 0;

        memset(memory, 0xFF, sizeof(memory));
        stapler_flash_sim_init(&sim, memory, sizeof(memory), SECTOR, 16, erase_counts);
        sim.power_cut = &cut;
        sim.cut_at = n;
        if (setjmp(cut) == 0) {
            mount();
            for (i = 1; i <= total; i++) {
                (void) stapler_clock_marks_write(&marks, 1800000000 + (int64_t) i, 1800000000 + (int64_t) i);
                done = i;
            }
            TEST_FAIL_MESSAGE("the power cut did not happen");
        }
        sim.cut_at = 0;
        mount();
        {
            const int64_t complete = done > 0 ? 1800000000 + (int64_t) done : 0;

            TEST_ASSERT_TRUE_MESSAGE(marks.mark == complete || marks.mark == 1800000000 + (int64_t) done + 1,
                                     "after a cut: neither the last complete entry nor the one being written");
        }
        TEST_ASSERT_EQUAL_INT64(marks.mark, marks.evidence);
        /* And on: the next entry is found after another mount. */
        TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1900000000, 1900000000));
        mount();
        TEST_ASSERT_EQUAL_INT64(1900000000, marks.mark);
        TEST_ASSERT_EQUAL_UINT32(0, sim.nor_violations);
    }
}

static void test_a_corrupt_entry_is_skipped(void)
{
    mount();
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1800000000, 1800000000));
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1800000500, 1800000500));
    memory[SECTOR + STAPLER_TIME_MARK_ENTRY_SIZE + 9] ^= 0x01; /* a bit of the second entry's evidence */
    mount();
    TEST_ASSERT_EQUAL_INT64(1800000000, marks.mark);
    TEST_ASSERT_EQUAL_UINT32(1, marks.entries);
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1800000600, 1800000600));
    mount();
    TEST_ASSERT_EQUAL_INT64(1800000600, marks.mark);
}

static void test_bad_geometry_is_refused_and_no_store_does_nothing(void)
{
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CACHE_GEOMETRY, stapler_clock_marks_mount(&marks, &sim.flash, &sim, SECTOR, 1));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CACHE_GEOMETRY, stapler_clock_marks_mount(&marks, &sim.flash, &sim, 2 * SECTOR, 2));
    TEST_ASSERT_EQUAL_INT(STAPLER_ERR_CACHE_GEOMETRY, stapler_clock_marks_mount(&marks, &sim.flash, &sim, 100, 2));
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_mount(&marks, &sim.flash, &sim, SECTOR, 0));
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1800000000, 1800000000));
    TEST_ASSERT_EQUAL_UINT64(0, sim.operations);
}

static void test_two_servers_must_agree(void)
{
    stapler_clock_sample_t s[4];
    int64_t at = 0;

    /* One server, asked twice: never enough. */
    s[0].source = 0; s[0].utc_at_zero = 1800000000;
    s[1].source = 0; s[1].utc_at_zero = 1800000000;
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_agree(s, 2, 5, 0, 300, 100, &at));
    /* A second server 4 s off: agreed, on the earlier of the two. */
    s[2].source = 1; s[2].utc_at_zero = 1800000004;
    TEST_ASSERT_EQUAL_INT(1, stapler_clock_agree(s, 3, 5, 0, 300, 100, &at));
    TEST_ASSERT_EQUAL_INT64(1800000000, at);
    /* 6 s off: not agreed. */
    s[2].utc_at_zero = 1800000006;
    TEST_ASSERT_EQUAL_INT(0, stapler_clock_agree(s, 3, 5, 0, 300, 100, &at));
    /* A third that agrees with the second: the newest pair wins. */
    s[3].source = 2; s[3].utc_at_zero = 1800000007;
    TEST_ASSERT_EQUAL_INT(1, stapler_clock_agree(s, 4, 5, 0, 300, 100, &at));
    TEST_ASSERT_EQUAL_INT64(1800000006, at);
}

static void test_agreeing_servers_below_the_floor_are_a_contradiction(void)
{
    stapler_clock_sample_t s[2];
    int64_t at = 0;

    s[0].source = 0; s[0].utc_at_zero = 1700000000;
    s[1].source = 1; s[1].utc_at_zero = 1700000001;
    /* The agent proved 1800000000 at monotonic 100 s. */
    TEST_ASSERT_EQUAL_INT(-1, stapler_clock_agree(s, 2, 5, 1800000000, 300, 100, &at));
    TEST_ASSERT_EQUAL_INT64(1700000000, at); /* what they agreed on, for the log */
    /* Within the skew below the floor: fine. */
    TEST_ASSERT_EQUAL_INT(1, stapler_clock_agree(s, 2, 5, 1700000000 + 100 + 300, 300, 100, &at));
    TEST_ASSERT_EQUAL_INT(-1, stapler_clock_agree(s, 2, 5, 1700000000 + 100 + 301, 300, 100, &at));
}

/* The wear figure (tools/test prints it): a year of marks at the default interval, and one
 * with each staple write of the ring's wear model (hourly refreshes), in 2 sectors. */
static void test_wear_one_year_of_hourly_marks_and_staple_writes(void)
{
    const unsigned year = 8760u * 2u;
    uint32_t worst = 0;
    unsigned i;

    mount();
    for (i = 1; i <= year; i++) {
        TEST_ASSERT_EQUAL_INT(0, stapler_clock_marks_write(&marks, 1800000000 + 1800 * (int64_t) i,
                                                           1800000000 + 1800 * (int64_t) i));
    }
    for (i = 1; i <= SECTORS; i++) {
        if (erase_counts[i] > worst) {
            worst = erase_counts[i];
        }
    }
    printf("wear: %u time marks a year (hourly, and one per hourly staple write) in %u %u-byte sectors: "
           "worst sector erased %u times in a year -> %.1f years on 10,000-cycle flash\n",
           year, SECTORS, SECTOR, (unsigned) worst, 10000.0 / worst);
    /* Below the staple rings' own figure (462 a year): the marks are not what wears out. */
    TEST_ASSERT_TRUE(worst <= 100u);
}

int main(void)
{
    UNITY_BEGIN();
    RUN_TEST(test_an_empty_store_knows_nothing_and_the_first_write_is_found_again);
    RUN_TEST(test_nothing_is_written_unless_it_says_more);
    RUN_TEST(test_sectors_turn_over_and_the_newest_survives_every_erase);
    RUN_TEST(test_a_power_cut_at_any_operation_loses_at_most_the_entry_being_written);
    RUN_TEST(test_a_corrupt_entry_is_skipped);
    RUN_TEST(test_bad_geometry_is_refused_and_no_store_does_nothing);
    RUN_TEST(test_two_servers_must_agree);
    RUN_TEST(test_agreeing_servers_below_the_floor_are_a_contradiction);
    RUN_TEST(test_wear_one_year_of_hourly_marks_and_staple_writes);
    return UNITY_END();
}
