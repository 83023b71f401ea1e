/* Time marks in flash and the network-time agreement rule: see stapler/clock.h. */
#include "stapler/clock.h"

#include <string.h>

#include "stapler/crc32.h"
#include "stapler/error.h"

/* Entry (docs/SPEC.md): "STTM", version 1, 3 bytes 0xFF, evidence (8, LE), mark (8, LE),
 * 4 bytes 0xFF, CRC-32 over bytes 0..27. */
#define STAPLER_MARK_MAGIC "STTM"
#define STAPLER_MARK_VERSION 1u

static void stapler_mark_put64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t) v;
    unsigned i;

    for (i = 0; i < 8; i++) {
        p[i] = (unsigned char) (u >> (8 * i));
    }
}

static int64_t stapler_mark_get64(const unsigned char *p)
{
    uint64_t u = 0;
    unsigned i;

    for (i = 0; i < 8; i++) {
        u |= (uint64_t) p[i] << (8 * i);
    }
    return (int64_t) u;
}

static uint32_t stapler_mark_get32(const unsigned char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void stapler_mark_encode(unsigned char e[STAPLER_TIME_MARK_ENTRY_SIZE], int64_t evidence, int64_t mark)
{
    uint32_t crc;

    memset(e, 0xFF, STAPLER_TIME_MARK_ENTRY_SIZE);
    memcpy(e, STAPLER_MARK_MAGIC, 4);
    e[4] = STAPLER_MARK_VERSION;
    stapler_mark_put64(e + 8, evidence);
    stapler_mark_put64(e + 16, mark);
    crc = stapler_crc32_update(STAPLER_CRC32_INIT, e, 28);
    e[28] = (unsigned char) crc;
    e[29] = (unsigned char) (crc >> 8);
    e[30] = (unsigned char) (crc >> 16);
    e[31] = (unsigned char) (crc >> 24);
}

static int stapler_mark_valid(const unsigned char e[STAPLER_TIME_MARK_ENTRY_SIZE])
{
    return memcmp(e, STAPLER_MARK_MAGIC, 4) == 0 && e[4] == STAPLER_MARK_VERSION &&
           stapler_crc32_update(STAPLER_CRC32_INIT, e, 28) == stapler_mark_get32(e + 28);
}

static int stapler_mark_erased(const unsigned char e[STAPLER_TIME_MARK_ENTRY_SIZE])
{
    unsigned i;

    for (i = 0; i < STAPLER_TIME_MARK_ENTRY_SIZE; i++) {
        if (e[i] != 0xFF) {
            return 0;
        }
    }
    return 1;
}

int stapler_clock_marks_mount(stapler_clock_marks_t *marks, const stapler_port_flash_t *flash,
                              void *context, uint32_t base, uint32_t sectors)
{
    unsigned char e[STAPLER_TIME_MARK_ENTRY_SIZE];
    uint32_t off, size, newest_off = 0, sector_size;
    int have_newest = 0;

    memset(marks, 0, sizeof(*marks));
    if (sectors == 0) {
        return 0;
    }
    sector_size = flash->sector_size;
    size = sectors * sector_size;
    if (sectors < 2 || sector_size < STAPLER_TIME_MARK_ENTRY_SIZE || base % sector_size != 0 ||
        base > flash->size || size > flash->size - base || flash->program_size > STAPLER_TIME_MARK_ENTRY_SIZE) {
        return STAPLER_ERR_CACHE_GEOMETRY;
    }
    for (off = 0; off < size; off += STAPLER_TIME_MARK_ENTRY_SIZE) {
        int ret = flash->read(context, base + off, e, sizeof(e));

        if (ret != 0) {
            return ret;
        }
        if (stapler_mark_valid(e)) {
            const int64_t ev = stapler_mark_get64(e + 8), mk = stapler_mark_get64(e + 16);

            marks->entries++;
            /* Entries only ever say more than the one before, so the newest is the one that
             * says the most: the later mark, then the later evidence. */
            if (!have_newest || mk > marks->mark || (mk == marks->mark && ev > marks->evidence)) {
                have_newest = 1;
                newest_off = off;
            }
            if (ev > marks->evidence) {
                marks->evidence = ev;
            }
            if (mk > marks->mark) {
                marks->mark = mk;
            }
        }
    }
    marks->flash = flash;
    marks->context = context;
    marks->base = base;
    marks->sectors = sectors;
    if (!have_newest) {
        marks->next = size;   /* nothing: the first write erases sector 0 */
        return 0;
    }
    /* After the newest entry, past anything written (a torn entry is not reused). */
    {
        const uint32_t sector_end = (newest_off / sector_size + 1u) * sector_size;

        marks->next = newest_off + STAPLER_TIME_MARK_ENTRY_SIZE;
        for (off = marks->next; off < sector_end; off += STAPLER_TIME_MARK_ENTRY_SIZE) {
            int ret = flash->read(context, base + off, e, sizeof(e));

            if (ret != 0) {
                return ret;
            }
            if (!stapler_mark_erased(e)) {
                marks->next = off + STAPLER_TIME_MARK_ENTRY_SIZE;
            }
        }
    }
    return 0;
}

int stapler_clock_marks_write(stapler_clock_marks_t *marks, int64_t evidence, int64_t mark)
{
    unsigned char e[STAPLER_TIME_MARK_ENTRY_SIZE], back[STAPLER_TIME_MARK_ENTRY_SIZE];
    uint32_t sector_size, size;
    int ret;

    if (marks->sectors == 0 || (evidence <= marks->evidence && mark <= marks->mark)) {
        return 0;
    }
    if (evidence < marks->evidence) {
        evidence = marks->evidence;
    }
    if (mark < marks->mark) {
        mark = marks->mark;
    }
    sector_size = marks->flash->sector_size;
    size = marks->sectors * sector_size;
    if (marks->next % sector_size == 0) {
        /* The sector ahead: erase it (never the one holding the newest entry). */
        if (marks->next >= size) {
            marks->next = 0;
        }
        ret = marks->flash->erase(marks->context, marks->base + marks->next);
        if (ret != 0) {
            return ret;
        }
        marks->erases++;
    }
    stapler_mark_encode(e, evidence, mark);
    ret = marks->flash->program(marks->context, marks->base + marks->next, e, sizeof(e));
    if (ret == 0) {
        ret = marks->flash->read(marks->context, marks->base + marks->next, back, sizeof(back));
    }
    /* Whatever happened, that slot is used: the next entry goes after it. */
    marks->next += STAPLER_TIME_MARK_ENTRY_SIZE;
    if (ret != 0) {
        return ret;
    }
    if (memcmp(e, back, sizeof(e)) != 0) {
        return STAPLER_ERR_CACHE_WRITE_FAILED;
    }
    marks->evidence = evidence;
    marks->mark = mark;
    marks->writes++;
    return 0;
}

int stapler_clock_agree(const stapler_clock_sample_t *samples, unsigned count, uint32_t agree_s,
                        int64_t floor, uint32_t skew_s, int64_t monotonic_s, int64_t *utc_at_zero)
{
    unsigned i, j;

    /* The newest answer first, with the newest earlier answer from another server that
     * agrees with it. */
    for (i = count; i-- > 1;) {
        for (j = i; j-- > 0;) {
            int64_t d, agreed;

            if (samples[j].source == samples[i].source) {
                continue;
            }
            d = samples[i].utc_at_zero - samples[j].utc_at_zero;
            if (d > (int64_t) agree_s || d < -(int64_t) agree_s) {
                continue;
            }
            agreed = d < 0 ? samples[i].utc_at_zero : samples[j].utc_at_zero;
            *utc_at_zero = agreed;
            return floor > 0 && agreed + monotonic_s + (int64_t) skew_s < floor ? -1 : 1;
        }
    }
    return 0;
}
