/**
 * \file config.h
 * \brief Stapler's single configuration header: Kconfig values, derived values, checks.
 *
 * Include this, never stapler_autoconf.h directly. Values come from Kconfig
 * (build/<preset>/generated/stapler/stapler_autoconf.h, made at configure time); this file
 * derives the sizes callers need for static arrays and stops the build, with a message that
 * says what to change, when a combination cannot work.
 */
#ifndef STAPLER_CONFIG_H
#define STAPLER_CONFIG_H

#include "stapler/stapler_autoconf.h"

#if !defined(CONFIG_STAPLER_MAX_IDENTITIES) || !defined(CONFIG_STAPLER_RESPONSE_MAX)
#error "stapler_autoconf.h is incomplete: it must be generated from Kconfig by tools/kconfig.py (re-run CMake configure; do not hand-edit it)"
#endif

/**
 * \brief 1 if the Kconfig bool \p option is enabled, else 0; usable in `if` so disabled code
 *        still compiles and is type-checked (the Linux/Zephyr IS_ENABLED() idiom).
 */
#define STAPLER_IS_ENABLED(option) STAPLER_IS_ENABLED_1_(option)
#define STAPLER_IS_ENABLED_1_(value) STAPLER_IS_ENABLED_2_(STAPLER_ARG_PLACEHOLDER_##value)
#define STAPLER_ARG_PLACEHOLDER_1 0,
#define STAPLER_IS_ENABLED_2_(arg_or_junk) STAPLER_IS_ENABLED_3_(arg_or_junk 1, 0)
#define STAPLER_IS_ENABLED_3_(ignored, value, ...) value

/* --- Derived sizes (bytes); callers size their static arrays with these -------------- */
/** Device identities held at once. */
#define STAPLER_MAX_IDENTITIES      CONFIG_STAPLER_MAX_IDENTITIES
/** Largest OCSP response accepted, and the size of one staple buffer. */
#define STAPLER_RESPONSE_MAX        ((unsigned) CONFIG_STAPLER_RESPONSE_MAX)
/** RAM taken by the staple buffers of all identities. */
/* Staple buffers per identity: the staple, and the one before it while handshakes still
 * send it (stapler/agent.h), so a refresh is never held up by handshakes in progress. */
#define STAPLER_STAPLE_BUFFERS      2u
#define STAPLER_STAPLE_RAM          (STAPLER_RESPONSE_MAX * STAPLER_STAPLE_BUFFERS * STAPLER_MAX_IDENTITIES)
/** Clock skew tolerated on response validity times (seconds). */
#define STAPLER_CLOCK_SKEW_S        CONFIG_STAPLER_CLOCK_SKEW_S
/** Octets of the nonce the agent sends (CONFIG_STAPLER_OCSP_NONCE_LEN), 0 without nonces. */
#if defined(CONFIG_STAPLER_OCSP_NONCE) && defined(CONFIG_STAPLER_OCSP_NONCE_LEN)
#define STAPLER_NONCE_LEN           CONFIG_STAPLER_OCSP_NONCE_LEN
#else
#define STAPLER_NONCE_LEN           0
#endif

/* --- Flash layout (bytes; docs/SPEC.md) -------------------------------------------------- */
/** Staple records are 32-byte aligned: header, DER padded to 32, commit trailer. */
#define STAPLER_RECORD_ALIGN        32u
#define STAPLER_RECORD_SIZE(der_len) \
    (2u * STAPLER_RECORD_ALIGN + (((der_len) + STAPLER_RECORD_ALIGN - 1u) & ~(STAPLER_RECORD_ALIGN - 1u)))
#define STAPLER_RECORD_MAX          STAPLER_RECORD_SIZE(STAPLER_RESPONSE_MAX)
#define STAPLER_FLASH_SECTOR_SIZE   ((unsigned) CONFIG_STAPLER_FLASH_SECTOR_SIZE)
#define STAPLER_CREDENTIAL_AREA_SIZE (CONFIG_STAPLER_CREDENTIAL_SECTORS * STAPLER_FLASH_SECTOR_SIZE)
#define STAPLER_LEAF_RING_SIZE      (CONFIG_STAPLER_STAPLE_RING_SECTORS * STAPLER_FLASH_SECTOR_SIZE)
#define STAPLER_CHAIN_RING_SIZE     (CONFIG_STAPLER_CHAIN_RING_SECTORS * STAPLER_FLASH_SECTOR_SIZE)
/** Staples per identity: the leaf's and CONFIG_STAPLER_CHAIN_STAPLES intermediates'. */
#define STAPLER_STAPLES_PER_IDENTITY (1 + CONFIG_STAPLER_CHAIN_STAPLES)
#define STAPLER_IDENTITY_AREA_SIZE  (STAPLER_LEAF_RING_SIZE + CONFIG_STAPLER_CHAIN_STAPLES * STAPLER_CHAIN_RING_SIZE)
/** The time marks (stapler/clock.h), after the identities' rings. */
#ifndef CONFIG_STAPLER_TIME_MARK_SECTORS
#define CONFIG_STAPLER_TIME_MARK_SECTORS 0
#endif
#define STAPLER_TIME_MARK_AREA_SIZE (CONFIG_STAPLER_TIME_MARK_SECTORS * STAPLER_FLASH_SECTOR_SIZE)
#define STAPLER_TIME_MARK_OFFSET    (STAPLER_CREDENTIAL_AREA_SIZE + STAPLER_MAX_IDENTITIES * STAPLER_IDENTITY_AREA_SIZE)
/** The flash region a platform must give Stapler. */
#define STAPLER_FLASH_REGION_SIZE   (STAPLER_TIME_MARK_OFFSET + STAPLER_TIME_MARK_AREA_SIZE)

/* --- Checks ------------------------------------------------------------------------- */
#if (CONFIG_STAPLER_FLASH_SECTOR_SIZE & (CONFIG_STAPLER_FLASH_SECTOR_SIZE - 1)) != 0
#error "CONFIG_STAPLER_FLASH_SECTOR_SIZE must be a power of two (the flash's erase unit)"
#endif

/* A ring must hold the newest record, the one being written, the rest of a sector a torn
 * write leaves, and the sectors a record at the start of the ring erases after a wrap, so
 * that an append never has to erase the newest record (STAPLER_RING_MIN_SIZE in
 * stapler/ring.h, the same bound in a form #if can evaluate; docs/DESIGN.md). */
#define STAPLER_RECORD_MAX_PP_ (64 + (CONFIG_STAPLER_RESPONSE_MAX + 31) / 32 * 32)
#define STAPLER_RING_MIN_PP_ (2 * STAPLER_RECORD_MAX_PP_ + CONFIG_STAPLER_FLASH_SECTOR_SIZE + \
    (STAPLER_RECORD_MAX_PP_ + CONFIG_STAPLER_FLASH_SECTOR_SIZE - 1) / CONFIG_STAPLER_FLASH_SECTOR_SIZE * \
    CONFIG_STAPLER_FLASH_SECTOR_SIZE)
#if CONFIG_STAPLER_STAPLE_RING_SECTORS * CONFIG_STAPLER_FLASH_SECTOR_SIZE < STAPLER_RING_MIN_PP_
#error "CONFIG_STAPLER_STAPLE_RING_SECTORS is too small for CONFIG_STAPLER_RESPONSE_MAX: a ring needs two records, a sector, and a record rounded up to sectors (about 3 x RESPONSE_MAX + 2 sectors); raise it (or lower CONFIG_STAPLER_RESPONSE_MAX)"
#endif
#if CONFIG_STAPLER_CHAIN_STAPLES > 0 && CONFIG_STAPLER_CHAIN_RING_SECTORS * CONFIG_STAPLER_FLASH_SECTOR_SIZE < STAPLER_RING_MIN_PP_
#error "CONFIG_STAPLER_CHAIN_RING_SECTORS is too small for CONFIG_STAPLER_RESPONSE_MAX: a ring needs two records, a sector, and a record rounded up to sectors (about 3 x RESPONSE_MAX + 2 sectors); raise it (or lower CONFIG_STAPLER_RESPONSE_MAX)"
#endif
#if !defined(CONFIG_STAPLER_ALGO_RSA) && !defined(CONFIG_STAPLER_ALGO_ECDSA_P256) && \
    !defined(CONFIG_STAPLER_ALGO_ECDSA_P384)
#error "No signature algorithm is enabled, so no OCSP response could ever be verified: enable CONFIG_STAPLER_ALGO_RSA and/or an ECDSA curve (menuconfig: OCSP)"
#endif

/* RFC 9654: a nonce is 1 to 128 octets (stapler/ocsp.h's STAPLER_OCSP_NONCE_MAX). */
#if STAPLER_NONCE_LEN > 128 || (defined(CONFIG_STAPLER_OCSP_NONCE) && STAPLER_NONCE_LEN < 1)
#error "CONFIG_STAPLER_OCSP_NONCE_LEN must be 1 to 128 octets (RFC 9654); 32 is what RFC 9654 asks clients to send"
#endif

#if (CONFIG_STAPLER_RESPONSE_MAX * CONFIG_STAPLER_MAX_IDENTITIES) > 65536
#error "Staple buffers (CONFIG_STAPLER_RESPONSE_MAX x CONFIG_STAPLER_MAX_IDENTITIES) would exceed 64 KiB of RAM: lower one of them"
#endif

#if CONFIG_STAPLER_MBEDTLS_ARENA_SIZE < 8192
#error "CONFIG_STAPLER_MBEDTLS_ARENA_SIZE below 8 KiB cannot hold a parsed certificate and a signature check: raise it"
#endif

#if CONFIG_STAPLER_TIME_MARK_SECTORS == 1
#error "CONFIG_STAPLER_TIME_MARK_SECTORS must be 0 (no time marks) or at least 2: with one sector, erasing it loses the newest mark"
#endif

#if CONFIG_STAPLER_RETRY_MIN_S > CONFIG_STAPLER_RETRY_MAX_S
#error "CONFIG_STAPLER_RETRY_MIN_S is larger than CONFIG_STAPLER_RETRY_MAX_S: swap them (menuconfig: Refresh)"
#endif

#if CONFIG_STAPLER_LOG_LEVEL < 0 || CONFIG_STAPLER_LOG_LEVEL > 4
#error "CONFIG_STAPLER_LOG_LEVEL must be 0 (none) to 4 (debug)"
#endif

#endif /* STAPLER_CONFIG_H */
