/**
 * \file clock.h
 * \brief Time the agent can defend: the time marks kept in flash, and the agreement rule
 *        for network time from several servers (docs/SECURITY.md, "Time").
 *
 * A time mark is a pair written together: the *evidence* (a time the agent proved real time
 * had reached: the newest verified producedAt plus monotonic time since) and the *mark* (the
 * time the agent used then: trusted wall time, never more than CONFIG_STAPLER_TIME_LEAD_S
 * ahead of the evidence). After a reboot both come back, so a clock pushed back (an SNTP
 * answer an attacker gave) cannot take the agent below what it already knew.
 *
 * The marks live in their own CONFIG_STAPLER_TIME_MARK_SECTORS sectors at the end of the
 * flash region (docs/SPEC.md): an append-only log of 32-byte entries, one sector after the
 * other; the sector to be written next is erased only when the one holding the newest entry
 * is full, so a power cut at any point leaves the newest complete entry, or the one before.
 */
#ifndef STAPLER_CLOCK_H
#define STAPLER_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "stapler/config.h"
#include "stapler_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of one time-mark entry (docs/SPEC.md). */
#define STAPLER_TIME_MARK_ENTRY_SIZE 32u

/** The time-mark store's state. The caller allocates it; nothing to free. */
typedef struct {
    const stapler_port_flash_t *flash;
    void *context;
    uint32_t base;          /**< first byte of the store in the flash region */
    uint32_t sectors;       /**< 0: no store (every call does nothing) */
    int64_t evidence;       /**< newest stored evidence (UTC s), 0 when none */
    int64_t mark;           /**< newest stored mark (UTC s), 0 when none */
    uint32_t next;          /**< where the next entry goes, relative to base */
    uint32_t entries;       /**< valid entries found at mount */
    uint32_t writes;        /**< entries written since mount */
    uint32_t erases;        /**< sectors erased since mount */
} stapler_clock_marks_t;

/**
 * \brief Mount the store at [base, base + sectors x sector size) of \p flash: find the
 *        newest entry and where the next goes. Nothing is written. \p sectors 0: no store.
 * \return 0 (an empty store is fine); STAPLER_ERR_CACHE_GEOMETRY (one sector only, not
 *         aligned, past the region, or a program unit over 32 bytes); a port error.
 */
int stapler_clock_marks_mount(stapler_clock_marks_t *marks, const stapler_port_flash_t *flash,
                              void *context, uint32_t base, uint32_t sectors);

/**
 * \brief Append an entry (\p evidence, \p mark), if it says more than the newest: nothing
 *        is written unless one of them is later (then the other is kept at its newest).
 *        Erases the next sector first when the current one is full.
 * \return 0; STAPLER_ERR_CACHE_WRITE_FAILED (read-back mismatch); a port error. On error
 *         the newest entry before the call is still there.
 */
int stapler_clock_marks_write(stapler_clock_marks_t *marks, int64_t evidence, int64_t mark);

/** One network time answer: what server \p source said, as an offset from monotonic time. */
typedef struct {
    unsigned source;        /**< which server (index in the configured list) */
    int64_t utc_at_zero;    /**< the server's time minus our monotonic seconds at its arrival */
} stapler_clock_sample_t;

/**
 * \brief [pure] May a time from several servers' answers be trusted? Yes when two answers
 *        from different servers agree within \p agree_s (their offsets from monotonic time
 *        differ by at most that), and their time is not below \p floor - \p skew_s (the
 *        agent's defended lower bound; 0 for none). The newest agreeing pair wins; its
 *        earlier offset is taken (the smaller of two honest answers is the safe one).
 * \param samples  Oldest first.
 * \param monotonic_s  Our monotonic seconds now, to compare with \p floor.
 * \param utc_at_zero  Receives the agreed offset (UTC = it + monotonic seconds), also when
 *                     it contradicts \p floor (for the log).
 * \return 1 when agreed; 0 when no two agree; -1 when two agree but contradict \p floor.
 */
int stapler_clock_agree(const stapler_clock_sample_t *samples, unsigned count, uint32_t agree_s,
                        int64_t floor, uint32_t skew_s, int64_t monotonic_s, int64_t *utc_at_zero);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_CLOCK_H */
