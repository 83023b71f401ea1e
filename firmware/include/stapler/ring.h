/**
 * \file ring.h
 * \brief A staple ring: an append-only log of staple records in a range of flash sectors,
 *        safe against power loss at any instant (record format: docs/SPEC.md).
 *
 * Records are appended one after the other and never overwritten; a record counts only once
 * its CRC-32 matches and its commit trailer (programmed last) is present. The sectors ahead
 * of the newest record are erased just before they are written, and the ring is large
 * enough (STAPLER_RING_MIN_SIZE) that this never touches the newest record. So after a
 * power cut at any point of an append, mounting finds either the previous newest record or
 * the new one, byte-exact, never a torn one and never neither.
 *
 * The ring does not interpret the DER: verifying a response is the caller's job, before
 * appending and again after reading it back at boot.
 */
#ifndef STAPLER_RING_H
#define STAPLER_RING_H

#include <stddef.h>
#include <stdint.h>

#include "stapler/config.h"
#include "stapler_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A record's refresh point when none was kept (the erased value). */
#define STAPLER_RING_REFRESH_AT_NONE 0xFFFFFFFFu

/** Bytes of the certificate fingerprint stored with each record (SHA-256 prefix). */
#define STAPLER_FINGERPRINT_SIZE 8

/**
 * Smallest ring (bytes) for records of up to STAPLER_RESPONSE_MAX with this sector size: the
 * newest record, the one being written, the rest of a sector that a torn write leaves
 * unusable, and the sectors that a record written at offset 0 after a wrap erases (a record
 * rounded up to whole sectors). With less, the erase before a wrapped append can reach the
 * newest record, and the ring refuses to append (docs/DESIGN.md; found by tests/fuzz/fuzz_ring:
 * two records of STAPLER_RECORD_MAX plus a sector, the bound before, is not enough).
 * stapler/config.h checks the configured rings against the same bound.
 */
#define STAPLER_RING_MIN_SIZE(sector_size) \
    (2u * STAPLER_RECORD_MAX + (sector_size) + \
     (STAPLER_RECORD_MAX + (sector_size) - 1u) / (sector_size) * (sector_size))

/** A ring's state. The caller allocates it; nothing to free. */
typedef struct {
    const stapler_port_flash_t *flash;
    void *context;                 /**< passed to the flash functions */
    uint32_t base;                 /**< first byte of the ring in the flash region */
    uint32_t size;                 /**< bytes, a multiple of the sector size */
    uint8_t identity;              /**< what this ring's records must say they are for */
    uint8_t slot;
    /* Newest valid record, if any. */
    int has_latest;
    uint32_t latest_offset;        /**< relative to base */
    uint32_t latest_length;        /**< DER bytes */
    uint32_t latest_sequence;
    uint8_t latest_fingerprint[STAPLER_FINGERPRINT_SIZE];
    /* Where the next record goes; [write_offset, erased_until) is known to be erased. */
    uint32_t write_offset;
    uint32_t erased_until;
    /* Counters since mount. */
    uint32_t appends;
    uint32_t skipped_appends;      /**< identical to the newest record: nothing written */
    uint32_t erases;
} stapler_ring_t;

/**
 * \brief Mount the ring at [base, base + size) of \p flash: scan it for the newest valid
 *        record and find where the next one goes. Nothing is written.
 *
 * \param flash    Kept (with \p context) for the ring's lifetime.
 * \return 0 (an empty ring is fine); STAPLER_ERR_CACHE_GEOMETRY if the range is not
 *         sector-aligned, runs past the region or is smaller than STAPLER_RING_MIN_SIZE;
 *         a port error from reading.
 */
int stapler_ring_mount(stapler_ring_t *ring, const stapler_port_flash_t *flash, void *context,
                       uint32_t base, uint32_t size, uint8_t identity, uint8_t slot);

/**
 * \brief Copy the newest record's DER into \p buffer, checking its CRC again on the way.
 * \param fingerprint  If not NULL, receives the record's certificate fingerprint.
 * \param refresh_at   If not NULL, receives the value stored with it by stapler_ring_append()
 *                     (STAPLER_RING_REFRESH_AT_NONE in records written before it was kept).
 *                     Not covered by the record's CRC (the field was reserved, so that every
 *                     version reads every record): the caller bounds it.
 * \return 0; STAPLER_ERR_CACHE_EMPTY; STAPLER_ERR_CACHE_CORRUPT if it no longer checks;
 *         STAPLER_ERR_BUFFER_TOO_SMALL; a port error.
 */
int stapler_ring_read_latest(stapler_ring_t *ring, unsigned char *buffer, size_t size,
                             size_t *length, uint8_t fingerprint[STAPLER_FINGERPRINT_SIZE],
                             uint32_t *refresh_at);

/**
 * \brief Append a record, making it the newest. Identical to the newest record (same DER,
 *        same fingerprint): nothing is written (it would add nothing but wear).
 *
 * \p refresh_at is kept with it, read back by stapler_ring_read_latest(): the agent's
 * refresh point for the response, in seconds after its thisUpdate, or
 * STAPLER_RING_REFRESH_AT_NONE.
 *
 * On return 0 the record has been read back and checked. On any error the previous newest
 * record is still the newest, and still intact.
 * \return 0; STAPLER_ERR_CACHE_TOO_LARGE (over STAPLER_RESPONSE_MAX);
 *         STAPLER_ERR_CACHE_WRITE_FAILED (read-back mismatch: worn or faulty flash);
 *         STAPLER_ERR_CACHE_CORRUPT (the newest record's sequence number is 0xFFFFFFFF, so
 *         no record can be newer: only a corrupt or forged image has one); a port error.
 */
int stapler_ring_append(stapler_ring_t *ring, const unsigned char *der, size_t length,
                        const uint8_t fingerprint[STAPLER_FINGERPRINT_SIZE], uint32_t refresh_at);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_RING_H */
