/**
 * \file crc32.h
 * \brief CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320; zlib's crc32()).
 */
#ifndef STAPLER_CRC32_H
#define STAPLER_CRC32_H

#include <stddef.h>
#include <stdint.h>

/** The CRC of nothing: pass it as \p crc to start. */
#define STAPLER_CRC32_INIT 0u

/**
 * \brief Continue a CRC-32 over \p len more bytes. stapler_crc32_update(0, "123456789", 9)
 *        is 0xCBF43926. Computed bit by bit, with no lookup table, to keep 1 KiB out of flash.
 */
uint32_t stapler_crc32_update(uint32_t crc, const void *data, size_t len);

#endif /* STAPLER_CRC32_H */
