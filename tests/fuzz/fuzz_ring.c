/*
 * Fuzz target: the staple ring (firmware/src/ring.c) mounted on a hostile flash image, then
 * written to. The flash is the NOR emulator of the unit tests (port/posix/flash_sim.c), so
 * a program over unerased bytes is counted, not silently accepted.
 *
 * Input (all integers little-endian):
 *   byte 0      flags: bit 0 recompute the CRC of everything that looks like a record,
 *               bit 1 write the commit trailer of everything that looks like a record (both
 *               let the fuzzer reach the logic behind the checks), bits 2-3 geometry
 *               (the configured chain ring, the smallest ring mount accepts with the
 *               configured sector, the smallest with 256-byte sectors), bits 4-5 program
 *               unit (16, 1, 4, 32 bytes), bit 6 the ring is identity 1 slot 1
 *   bytes 1-4   lengths of the two responses appended afterwards (1 + v % RESPONSE_MAX)
 *   then chunks laid over an erased ring: position (uint16, in 32-byte units, modulo the
 *               ring), length (uint16), that many bytes
 *
 * Checked besides the sanitizers': mount succeeds and agrees with docs/SPEC.md "Reading"
 * (an independent scan: newest record, where the next one goes); the newest record reads
 * back as it is in flash; the bytes the ring believes erased are erased; then each append
 * succeeds without programming unerased flash, and a remount (a reboot) finds exactly the
 * record just appended as the newest: old or new, never a rollback, never stuck. (The one
 * refusal allowed: after a newest record of sequence 0xFFFFFFFF, which only a forged image
 * has, the ring keeps it rather than write a record that would lose to it.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stapler/config.h"
#include "stapler/crc32.h"
#include "stapler/error.h"
#include "stapler/ring.h"
#include "stapler_flash_sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ROUND_UP(n, unit) ((((n) + (unit) - 1u) / (unit)) * (unit))
#define SMALL_SECTOR 256u
#define RING_CONFIGURED STAPLER_CHAIN_RING_SIZE
#define RING_SMALLEST ROUND_UP(STAPLER_RING_MIN_SIZE(STAPLER_FLASH_SECTOR_SIZE), STAPLER_FLASH_SECTOR_SIZE)
#define RING_SMALL_SECTORS ROUND_UP(STAPLER_RING_MIN_SIZE(SMALL_SECTOR), SMALL_SECTOR)
#define MAX2(a, b) ((a) > (b) ? (a) : (b))
#define IMAGE_MAX MAX2(MAX2(RING_CONFIGURED, RING_SMALLEST), RING_SMALL_SECTORS)

static unsigned char image[IMAGE_MAX];
static unsigned char payload[STAPLER_RESPONSE_MAX], readback[STAPLER_RESPONSE_MAX];

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

static void fail(const char *what)
{
    fprintf(stderr, "ring invariant broken: %s\n", what);
    abort();
}

/* docs/SPEC.md, "Record": is there a valid record for (identity, slot) at `offset`? */
static int spec_valid(uint32_t ring_size, uint32_t offset, uint8_t identity, uint8_t slot,
                      uint32_t *length, uint32_t *sequence)
{
    const unsigned char *h = image + offset;
    uint32_t len, record, crc;

    if (ring_size - offset < 64) {
        return 0;
    }
    len = get32(h + 12);
    if (get32(h) != 0x4C505453u || h[4] != 1 || h[5] != identity || h[6] != slot || len == 0 ||
        len > STAPLER_RESPONSE_MAX) {
        return 0;
    }
    record = STAPLER_RECORD_SIZE(len);
    if (record > ring_size - offset) {
        return 0;
    }
    if (get32(h + record - 32) != 0x54494D43u || get32(h + record - 28) != get32(h + 8)) {
        return 0;
    }
    crc = stapler_crc32_update(STAPLER_CRC32_INIT, h, 24);
    crc = stapler_crc32_update(crc, h + 32, len);
    if (crc != get32(h + 24)) {
        return 0;
    }
    *length = len;
    *sequence = get32(h + 8);
    return 1;
}

/* Give what looks like a record a commit trailer and/or a correct CRC, from the highest
 * offset down, so that a record inside another one's DER is final before the outer
 * record's CRC is computed over it. */
static void fix_up(uint32_t ring_size, int trailers, int crcs)
{
    uint32_t offset = ring_size - 32;

    for (;;) {
        unsigned char *h = image + offset;
        const uint32_t len = get32(h + 12);

        if (ring_size - offset >= 64 && get32(h) == 0x4C505453u && len != 0 &&
            len <= STAPLER_RESPONSE_MAX && STAPLER_RECORD_SIZE(len) <= ring_size - offset) {
            const uint32_t record = STAPLER_RECORD_SIZE(len);
            if (trailers) {
                put32(h + record - 32, 0x54494D43u);
                memcpy(h + record - 28, h + 8, 4);
            }
            if (crcs) {
                uint32_t crc = stapler_crc32_update(STAPLER_CRC32_INIT, h, 24);
                put32(h + 24, stapler_crc32_update(crc, h + 32, len));
            }
        }
        if (offset == 0) {
            break;
        }
        offset -= 32;
    }
}

/* docs/SPEC.md, "Reading (mount)": the newest record, and where the next one goes. */
static void spec_mount(uint32_t ring_size, uint32_t sector, uint8_t identity, uint8_t slot,
                       int *has, uint32_t *newest, uint32_t *newest_len, uint32_t *newest_seq,
                       uint32_t *next)
{
    uint32_t offset = 0, len, seq, end, i;

    *has = 0;
    *newest = *newest_len = *newest_seq = 0;
    while (offset + 64 <= ring_size) {
        if (spec_valid(ring_size, offset, identity, slot, &len, &seq)) {
            if (!*has || seq > *newest_seq) {
                *has = 1;
                *newest = offset;
                *newest_len = len;
                *newest_seq = seq;
            }
            offset += STAPLER_RECORD_SIZE(len);
        } else {
            offset += 32;
        }
    }
    if (!*has) {
        *next = 0;
        return;
    }
    *next = *newest + STAPLER_RECORD_SIZE(*newest_len);
    end = ROUND_UP(*next, sector);
    for (i = *next; i < end; i++) {
        if (image[i] != 0xFF) {
            *next = end;
            break;
        }
    }
    if (*next >= ring_size) {
        *next = 0;
    }
}

static void make_payload(unsigned char *out, size_t length, uint32_t seed)
{
    uint32_t x = seed * 0x9E3779B9u + 1u;
    size_t i;

    for (i = 0; i < length; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = (unsigned char) x;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t program_units[4] = { 16, 1, 4, 32 };
    static const uint8_t fingerprint[STAPLER_FINGERPRINT_SIZE] = { 0xF0, 1, 2, 3, 4, 5, 6, 7 };
    stapler_flash_sim_t sim;
    stapler_ring_t ring;
    uint32_t ring_size, sector, spec_newest, spec_len, spec_seq, spec_next, lengths[2], i;
    uint8_t identity, slot, got_fp[STAPLER_FINGERPRINT_SIZE];
    size_t at = 5, got;
    int spec_has, ret, k;

    if (size < 5) {
        return 0;
    }
    switch ((data[0] >> 2) & 3u) {
        case 1: ring_size = RING_SMALLEST; sector = STAPLER_FLASH_SECTOR_SIZE; break;
        case 2: ring_size = RING_SMALL_SECTORS; sector = SMALL_SECTOR; break;
        default: ring_size = RING_CONFIGURED; sector = STAPLER_FLASH_SECTOR_SIZE; break;
    }
    identity = slot = (data[0] & 0x40) ? 1 : 0;
    lengths[0] = 1u + (uint32_t) (data[1] | data[2] << 8) % STAPLER_RESPONSE_MAX;
    lengths[1] = 1u + (uint32_t) (data[3] | data[4] << 8) % STAPLER_RESPONSE_MAX;

    /* The emulator starts erased: lay the image over it. */
    stapler_flash_sim_init(&sim, image, ring_size, sector, program_units[(data[0] >> 4) & 3u], NULL);
    while (size - at >= 4) {
        uint32_t position = ((uint32_t) data[at] | (uint32_t) data[at + 1] << 8) % (ring_size / 32u) * 32u;
        size_t n = (size_t) data[at + 2] | (size_t) data[at + 3] << 8;

        at += 4;
        if (n > size - at) {
            n = size - at;
        }
        if (n > ring_size - position) {
            n = ring_size - position;
        }
        memcpy(image + position, data + at, n);
        at += n;
    }
    if (data[0] & 3u) {
        fix_up(ring_size, data[0] & 2u, data[0] & 1u);
    }

    spec_mount(ring_size, sector, identity, slot, &spec_has, &spec_newest, &spec_len, &spec_seq, &spec_next);
    ret = stapler_ring_mount(&ring, &sim.flash, &sim, 0, ring_size, identity, slot);
    if (ret != 0) {
        fail("mount failed");
    }
    if (ring.has_latest != spec_has || (spec_has && (ring.latest_offset != spec_newest ||
                                                     ring.latest_length != spec_len ||
                                                     ring.latest_sequence != spec_seq))) {
        fail("mount disagrees with SPEC.md about the newest record");
    }
    if (ring.write_offset != spec_next || ring.write_offset % 32u != 0 || ring.write_offset >= ring_size) {
        fail("mount disagrees with SPEC.md about where the next record goes");
    }
    if (ring.erased_until > ring_size || ring.erased_until % sector != 0) {
        fail("erased_until is not a sector boundary inside the ring");
    }
    for (i = ring.write_offset; i < ring.erased_until; i++) {
        if (image[i] != 0xFF) {
            fail("bytes the ring believes erased are not");
        }
    }
    if (spec_has) {
        if (stapler_ring_read_latest(&ring, readback, sizeof(readback), &got, got_fp, NULL) != 0 ||
            got != spec_len || memcmp(readback, image + spec_newest + 32, got) != 0 ||
            memcmp(got_fp, image + spec_newest + 16, sizeof(got_fp)) != 0) {
            fail("the newest record does not read back as it is in flash");
        }
    }

    for (k = 0; k < 2; k++) {
        const uint32_t expected_seq = ring.has_latest ? ring.latest_sequence + 1u : 1u;

        make_payload(payload, lengths[k], lengths[k] + (uint32_t) k);
        ret = stapler_ring_append(&ring, payload, lengths[k], fingerprint, STAPLER_RING_REFRESH_AT_NONE);
        if (ret == STAPLER_ERR_CACHE_CORRUPT && ring.has_latest && ring.latest_sequence == UINT32_MAX) {
            /* No record can be newer than this one: the ring must refuse, and keep it. */
            const uint32_t offset = ring.latest_offset;

            if (stapler_ring_mount(&ring, &sim.flash, &sim, 0, ring_size, identity, slot) != 0 ||
                !ring.has_latest || ring.latest_sequence != UINT32_MAX || ring.latest_offset != offset) {
                fail("a refused append changed the newest record");
            }
            break;
        }
        if (ret != 0) {
            fprintf(stderr, "append %d of %u bytes: %d\n", k, (unsigned) lengths[k], ret);
            fail("append failed after a mount");
        }
        if (sim.nor_violations != 0) {
            fail("append programmed flash that was not erased");
        }
        ret = stapler_ring_mount(&ring, &sim.flash, &sim, 0, ring_size, identity, slot);
        if (ret != 0 || !ring.has_latest || ring.latest_sequence != expected_seq ||
            ring.latest_length != lengths[k] ||
            stapler_ring_read_latest(&ring, readback, sizeof(readback), &got, got_fp, NULL) != 0 ||
            got != lengths[k] || memcmp(readback, payload, got) != 0 ||
            memcmp(got_fp, fingerprint, sizeof(got_fp)) != 0) {
            fprintf(stderr, "append %d: newest after remount seq %u len %u (expected seq %u len %u)\n", k,
                    (unsigned) ring.latest_sequence, (unsigned) ring.latest_length,
                    (unsigned) expected_seq, (unsigned) lengths[k]);
            fail("after an append and a reboot the newest record is not the one appended");
        }
    }
    return 0;
}
