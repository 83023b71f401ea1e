/* Staple ring: see stapler/ring.h; the record format is specified in docs/SPEC.md. */
#include "stapler/ring.h"

#include <string.h>

#include "stapler/crc32.h"
#include "stapler/error.h"

#define STAPLER_RECORD_MAGIC 0x4C505453u   /* "STPL" little-endian */
#define STAPLER_RECORD_COMMIT 0x54494D43u  /* "CMIT" little-endian */
#define STAPLER_RECORD_VERSION 1u
#define STAPLER_HEADER_CRC_OFFSET 24u      /* the CRC covers header bytes [0, 24) and the DER */
#define STAPLER_HEADER_REFRESH_AT_OFFSET 28u /* not covered: reserved (0xFFFFFFFF) before it was kept */

static void stapler_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
    p[2] = (unsigned char) (v >> 16);
    p[3] = (unsigned char) (v >> 24);
}

static uint32_t stapler_get32(const unsigned char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static int stapler_ring_read(const stapler_ring_t *ring, uint32_t offset, void *buffer, size_t len)
{
    return ring->flash->read(ring->context, ring->base + offset, buffer, len);
}

/* CRC of header[0,24) and the `length` DER bytes that follow the header at `offset`. */
static int stapler_ring_record_crc(const stapler_ring_t *ring, uint32_t offset,
                                   const unsigned char *header, uint32_t length, uint32_t *crc)
{
    unsigned char chunk[64];
    uint32_t done = 0;
    int ret;

    *crc = stapler_crc32_update(STAPLER_CRC32_INIT, header, STAPLER_HEADER_CRC_OFFSET);
    while (done < length) {
        const uint32_t n = length - done < sizeof(chunk) ? length - done : (uint32_t) sizeof(chunk);

        ret = stapler_ring_read(ring, offset + STAPLER_RECORD_ALIGN + done, chunk, n);
        if (ret != 0) {
            return ret;
        }
        *crc = stapler_crc32_update(*crc, chunk, n);
        done += n;
    }
    return 0;
}

/* Is there a complete, valid record for this ring at `offset`? Fills its length and
 * sequence. Returns 1 (valid), 0 (not a record), or a port error. */
static int stapler_ring_check(const stapler_ring_t *ring, uint32_t offset, uint32_t *length,
                              uint32_t *sequence, uint8_t *fingerprint, uint32_t *refresh_at)
{
    unsigned char header[STAPLER_RECORD_ALIGN], trailer[8];
    uint32_t crc, len, size;
    int ret;

    ret = stapler_ring_read(ring, offset, header, sizeof(header));
    if (ret != 0) {
        return ret;
    }
    len = stapler_get32(header + 12);
    if (stapler_get32(header) != STAPLER_RECORD_MAGIC || header[4] != STAPLER_RECORD_VERSION ||
        header[5] != ring->identity || header[6] != ring->slot || len == 0 ||
        len > STAPLER_RESPONSE_MAX) {
        return 0;
    }
    size = STAPLER_RECORD_SIZE(len);
    if (size > ring->size - offset) {
        return 0;
    }
    ret = stapler_ring_read(ring, offset + size - STAPLER_RECORD_ALIGN, trailer, sizeof(trailer));
    if (ret != 0) {
        return ret;
    }
    if (stapler_get32(trailer) != STAPLER_RECORD_COMMIT ||
        stapler_get32(trailer + 4) != stapler_get32(header + 8)) {
        return 0;
    }
    ret = stapler_ring_record_crc(ring, offset, header, len, &crc);
    if (ret != 0) {
        return ret;
    }
    if (crc != stapler_get32(header + STAPLER_HEADER_CRC_OFFSET)) {
        return 0;
    }
    *length = len;
    *sequence = stapler_get32(header + 8);
    if (fingerprint != NULL) {
        memcpy(fingerprint, header + 16, STAPLER_FINGERPRINT_SIZE);
    }
    if (refresh_at != NULL) {
        *refresh_at = stapler_get32(header + STAPLER_HEADER_REFRESH_AT_OFFSET);
    }
    return 1;
}

/* Are `len` bytes at `offset` all erased (0xFF)? Returns 1, 0, or a port error. */
static int stapler_ring_blank(const stapler_ring_t *ring, uint32_t offset, uint32_t len)
{
    unsigned char chunk[64];
    uint32_t done = 0, i;
    int ret;

    while (done < len) {
        const uint32_t n = len - done < sizeof(chunk) ? len - done : (uint32_t) sizeof(chunk);

        ret = stapler_ring_read(ring, offset + done, chunk, n);
        if (ret != 0) {
            return ret;
        }
        for (i = 0; i < n; i++) {
            if (chunk[i] != 0xFF) {
                return 0;
            }
        }
        done += n;
    }
    return 1;
}

int stapler_ring_mount(stapler_ring_t *ring, const stapler_port_flash_t *flash, void *context,
                       uint32_t base, uint32_t size, uint8_t identity, uint8_t slot)
{
    uint32_t offset = 0, length, sequence, sector_end;
    uint8_t fingerprint[STAPLER_FINGERPRINT_SIZE];
    int ret;

    if (ring == NULL || flash == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    memset(ring, 0, sizeof(*ring));
    if (flash->sector_size == 0 || base % flash->sector_size != 0 || size % flash->sector_size != 0 ||
        flash->program_size == 0 || flash->program_size > STAPLER_RECORD_ALIGN ||
        STAPLER_RECORD_ALIGN % flash->program_size != 0 || base > flash->size ||
        size > flash->size - base || size < STAPLER_RING_MIN_SIZE(flash->sector_size)) {
        return STAPLER_ERR_CACHE_GEOMETRY;
    }
    ring->flash = flash;
    ring->context = context;
    ring->base = base;
    ring->size = size;
    ring->identity = identity;
    ring->slot = slot;

    /* Scan every aligned position; a valid record is skipped over whole. Invalid bytes
     * (torn records, erased space, records of an earlier layout) are passed over. */
    while (offset + STAPLER_RECORD_SIZE(1) <= size) {
        ret = stapler_ring_check(ring, offset, &length, &sequence, fingerprint, NULL);
        if (ret < 0) {
            return ret;
        }
        if (ret == 1) {
            if (!ring->has_latest || sequence > ring->latest_sequence) {
                ring->has_latest = 1;
                ring->latest_offset = offset;
                ring->latest_length = length;
                ring->latest_sequence = sequence;
                memcpy(ring->latest_fingerprint, fingerprint, sizeof(fingerprint));
            }
            offset += STAPLER_RECORD_SIZE(length);
        } else {
            offset += STAPLER_RECORD_ALIGN;
        }
    }

    /* The next record goes right after the newest one, if the rest of that sector is still
     * erased (an append cut short by a power loss may have left bytes there); otherwise at
     * the next sector, which will be erased first. */
    ring->write_offset = ring->has_latest
                             ? ring->latest_offset + STAPLER_RECORD_SIZE(ring->latest_length)
                             : 0;
    sector_end = (ring->write_offset + flash->sector_size - 1) / flash->sector_size * flash->sector_size;
    ret = sector_end > ring->write_offset
              ? stapler_ring_blank(ring, ring->write_offset, sector_end - ring->write_offset)
              : 1;
    if (ret < 0) {
        return ret;
    }
    if (ret == 0) {
        ring->write_offset = sector_end;
    }
    ring->erased_until = sector_end;
    if (ring->write_offset >= size) {
        ring->write_offset = 0;
        ring->erased_until = 0;
    }
    return 0;
}

int stapler_ring_read_latest(stapler_ring_t *ring, unsigned char *buffer, size_t size,
                             size_t *length, uint8_t fingerprint[STAPLER_FINGERPRINT_SIZE],
                             uint32_t *refresh_at)
{
    uint32_t len = 0, sequence = 0;
    int ret;

    if (ring == NULL || buffer == NULL || length == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    if (!ring->has_latest) {
        return STAPLER_ERR_CACHE_EMPTY;
    }
    if (ring->latest_length > size) {
        return STAPLER_ERR_BUFFER_TOO_SMALL;
    }
    /* Check again: flash can change under us (bit flips, another writer). */
    ret = stapler_ring_check(ring, ring->latest_offset, &len, &sequence, fingerprint, refresh_at);
    if (ret < 0) {
        return ret;
    }
    if (ret == 0 || len != ring->latest_length || sequence != ring->latest_sequence) {
        return STAPLER_ERR_CACHE_CORRUPT;
    }
    ret = stapler_ring_read(ring, ring->latest_offset + STAPLER_RECORD_ALIGN, buffer, len);
    if (ret != 0) {
        return ret;
    }
    *length = len;
    return 0;
}

/* Do the `length` DER bytes of the record at `offset` equal `der`? */
static int stapler_ring_der_equals(const stapler_ring_t *ring, uint32_t offset,
                                   const unsigned char *der, size_t length)
{
    unsigned char chunk[64];
    uint32_t done = 0;

    while (done < length) {
        const uint32_t n = length - done < sizeof(chunk) ? (uint32_t) (length - done) : (uint32_t) sizeof(chunk);

        if (stapler_ring_read(ring, offset + STAPLER_RECORD_ALIGN + done, chunk, n) != 0 ||
            memcmp(chunk, der + done, n) != 0) {
            return 0;
        }
        done += n;
    }
    return 1;
}

/* Does the newest record already hold exactly this? */
static int stapler_ring_same_as_latest(const stapler_ring_t *ring, const unsigned char *der,
                                       size_t length, const uint8_t *fingerprint)
{
    return ring->has_latest && ring->latest_length == length &&
           memcmp(ring->latest_fingerprint, fingerprint, STAPLER_FINGERPRINT_SIZE) == 0 &&
           stapler_ring_der_equals(ring, ring->latest_offset, der, length);
}

/* Erase sectors until [offset, offset + len) is known erased, never touching the sectors
 * that hold the newest record (a ring smaller than STAPLER_RING_MIN_SIZE could ask to). */
static int stapler_ring_prepare(stapler_ring_t *ring, uint32_t offset, uint32_t len)
{
    const uint32_t sector = ring->flash->sector_size;
    int ret;

    while (ring->erased_until < offset + len) {
        const uint32_t erase_at = ring->erased_until;

        if (ring->has_latest && erase_at < ring->latest_offset + STAPLER_RECORD_SIZE(ring->latest_length) &&
            erase_at + sector > ring->latest_offset) {
            return STAPLER_ERR_INTERNAL; /* fail closed: never erase the newest record */
        }
        ret = ring->flash->erase(ring->context, ring->base + erase_at);
        if (ret != 0) {
            return ret;
        }
        ring->erases++;
        ring->erased_until = erase_at + sector;
    }
    return 0;
}

int stapler_ring_append(stapler_ring_t *ring, const unsigned char *der, size_t length,
                        const uint8_t fingerprint[STAPLER_FINGERPRINT_SIZE], uint32_t refresh_at)
{
    unsigned char unit[STAPLER_RECORD_ALIGN];
    uint32_t offset, size, sequence, crc, done, check_length = 0, check_sequence = 0;
    uint32_t check_refresh_at = 0;
    int ret;

    if (ring == NULL || ring->flash == NULL || der == NULL || fingerprint == NULL || length == 0) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    if (length > STAPLER_RESPONSE_MAX) {
        return STAPLER_ERR_CACHE_TOO_LARGE;
    }
    if (stapler_ring_same_as_latest(ring, der, length, fingerprint)) {
        ring->skipped_appends++;
        return 0;
    }
    if (ring->has_latest && ring->latest_sequence == UINT32_MAX) {
        /* No sequence number is newer: a record written now (sequence 0) would lose to this
         * one at the next mount, a rollback after reboot. Stapler never gets there (4
         * billion appends), so only a corrupt or forged image holds it: fail closed, the
         * newest record stays the newest (tests/fuzz/fuzz_ring checks both). */
        return STAPLER_ERR_CACHE_CORRUPT;
    }
    size = STAPLER_RECORD_SIZE(length);
    offset = ring->write_offset;
    if (size > ring->size - offset) {
        offset = 0; /* records do not wrap around the end of the ring */
        ring->erased_until = 0;
    }
    /* Invariant: [write_offset, erased_until) is erased and erased_until is sector-aligned. */
    if (ring->erased_until < offset) {
        return STAPLER_ERR_INTERNAL;
    }
    ret = stapler_ring_prepare(ring, offset, size);
    if (ret != 0) {
        return ret;
    }

    sequence = ring->has_latest ? ring->latest_sequence + 1 : 1;
    /* Header: magic, version, identity, slot, flags, sequence, length, fingerprint, CRC. */
    memset(unit, 0xFF, sizeof(unit));
    stapler_put32(unit, STAPLER_RECORD_MAGIC);
    unit[4] = STAPLER_RECORD_VERSION;
    unit[5] = ring->identity;
    unit[6] = ring->slot;
    unit[7] = 0xFF;
    stapler_put32(unit + 8, sequence);
    stapler_put32(unit + 12, (uint32_t) length);
    memcpy(unit + 16, fingerprint, STAPLER_FINGERPRINT_SIZE);
    crc = stapler_crc32_update(STAPLER_CRC32_INIT, unit, STAPLER_HEADER_CRC_OFFSET);
    crc = stapler_crc32_update(crc, der, length);
    stapler_put32(unit + STAPLER_HEADER_CRC_OFFSET, crc);
    stapler_put32(unit + STAPLER_HEADER_REFRESH_AT_OFFSET, refresh_at);

    /* Program order: header, DER, then the commit trailer last. */
    ring->write_offset = offset + size; /* whatever happens now, never program here twice */
    ret = ring->flash->program(ring->context, ring->base + offset, unit, sizeof(unit));
    for (done = 0; ret == 0 && done < length; done += STAPLER_RECORD_ALIGN) {
        const size_t n = length - done < STAPLER_RECORD_ALIGN ? length - done : STAPLER_RECORD_ALIGN;

        memset(unit, 0xFF, sizeof(unit));
        memcpy(unit, der + done, n);
        ret = ring->flash->program(ring->context, ring->base + offset + STAPLER_RECORD_ALIGN + done,
                                   unit, sizeof(unit));
    }
    if (ret == 0) {
        memset(unit, 0xFF, sizeof(unit));
        stapler_put32(unit, STAPLER_RECORD_COMMIT);
        stapler_put32(unit + 4, sequence);
        ret = ring->flash->program(ring->context, ring->base + offset + size - STAPLER_RECORD_ALIGN,
                                   unit, sizeof(unit));
    }
    if (ret != 0) {
        return ret;
    }
    ring->appends++;

    /* Read back before calling it the newest. */
    ret = stapler_ring_check(ring, offset, &check_length, &check_sequence, NULL, &check_refresh_at);
    if (ret < 0) {
        return ret;
    }
    if (ret == 0 || check_length != length || check_sequence != sequence || check_refresh_at != refresh_at ||
        !stapler_ring_der_equals(ring, offset, der, length)) {
        return STAPLER_ERR_CACHE_WRITE_FAILED;
    }
    ring->has_latest = 1;
    ring->latest_offset = offset;
    ring->latest_length = (uint32_t) length;
    ring->latest_sequence = sequence;
    memcpy(ring->latest_fingerprint, fingerprint, STAPLER_FINGERPRINT_SIZE);
    if (ring->write_offset >= ring->size) {
        ring->write_offset = 0;
        ring->erased_until = 0;
    }
    return 0;
}
