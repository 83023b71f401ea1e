/* CRC-32, bitwise: see stapler/crc32.h. Records are checked at boot and after writes only,
 * so a few cycles per bit cost nothing that matters, and no table sits in flash. */
#include "stapler/crc32.h"

uint32_t stapler_crc32_update(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    unsigned bit;

    crc = ~crc;
    while (len-- > 0) {
        crc ^= *p++;
        for (bit = 0; bit < 8; bit++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}
