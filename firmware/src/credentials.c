/* Credential store: see stapler/credentials.h; format in docs/SPEC.md. */
#include "stapler/credentials.h"

#include <string.h>

#include "stapler/crc32.h"
#include "stapler/error.h"

#define STAPLER_CRED_MAGIC 0x43505453u /* "STPC" little-endian */
#define STAPLER_CRED_VERSION 1u
#define STAPLER_CRED_HEADER 32u
#define STAPLER_CRED_ENTRY_HEADER 8u

enum {
    STAPLER_CRED_CERT = 1,       /* a chain certificate, in chain order */
    STAPLER_CRED_ISSUER = 2,     /* issuer of the last chain certificate */
    STAPLER_CRED_KEY = 3,        /* private key DER */
    STAPLER_CRED_KEY_HANDLE = 4, /* 4-byte secure element key handle */
    STAPLER_CRED_URL = 5,        /* responder URL override */
    STAPLER_CRED_TRUST = 6,      /* a CA trusted for the identity's TLS peers */
};

static void stapler_put16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
}

static void stapler_put32(unsigned char *p, uint32_t v)
{
    stapler_put16(p, v);
    stapler_put16(p + 2, v >> 16);
}

static uint32_t stapler_get32(const unsigned char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint32_t stapler_pad4(uint32_t n)
{
    return (n + 3u) & ~3u;
}

/* ---- Encoding ------------------------------------------------------------------------ */

static int stapler_put_entry(unsigned char *out, size_t size, size_t *at, unsigned type,
                             unsigned identity, const void *value, size_t length)
{
    const size_t total = STAPLER_CRED_ENTRY_HEADER + stapler_pad4((uint32_t) length);

    if (length > UINT32_MAX - 8 || total > size - *at) {
        return STAPLER_ERR_CRED_TOO_LARGE;
    }
    memset(out + *at, 0xFF, total);
    out[*at] = (unsigned char) type;
    out[*at + 1] = (unsigned char) identity;
    stapler_put32(out + *at + 4, (uint32_t) length);
    memcpy(out + *at + STAPLER_CRED_ENTRY_HEADER, value, length);
    *at += total;
    return 0;
}

int stapler_credentials_encode(const stapler_credential_input_t *identities, unsigned count,
                               unsigned char *out, size_t size, size_t *length)
{
    size_t at = STAPLER_CRED_HEADER;
    unsigned i, c;
    int ret = 0;

    if (identities == NULL || out == NULL || length == NULL || count == 0 ||
        count > STAPLER_MAX_IDENTITIES) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    if (size > STAPLER_CREDENTIAL_AREA_SIZE) {
        size = STAPLER_CREDENTIAL_AREA_SIZE;
    }
    if (size < STAPLER_CRED_HEADER) {
        return STAPLER_ERR_CRED_TOO_LARGE;
    }
    for (i = 0; i < count; i++) {
        const stapler_credential_input_t *id = &identities[i];

        if (id->url != NULL) {
            /* docs/SPEC.md: ASCII (the reader refuses anything else). */
            for (c = 0; id->url[c] != '\0'; c++) {
                if ((unsigned char) id->url[c] > 0x7F) {
                    return STAPLER_ERR_INVALID_ARGUMENT;
                }
            }
        }
        if (id->chain_length == 0 || id->chain_length > STAPLER_CHAIN_MAX || id->issuer == NULL ||
            id->issuer_len == 0 || (id->key != NULL && id->has_key_handle) ||
            (id->url != NULL && (strlen(id->url) == 0 || strlen(id->url) > STAPLER_URL_MAX)) ||
            id->trust_count > STAPLER_TRUST_MAX) {
            return STAPLER_ERR_INVALID_ARGUMENT;
        }
        for (c = 0; c < id->chain_length && ret == 0; c++) {
            if (id->chain[c] == NULL || id->chain_len[c] == 0) {
                return STAPLER_ERR_INVALID_ARGUMENT;
            }
            ret = stapler_put_entry(out, size, &at, STAPLER_CRED_CERT, i, id->chain[c], id->chain_len[c]);
        }
        if (ret == 0) {
            ret = stapler_put_entry(out, size, &at, STAPLER_CRED_ISSUER, i, id->issuer, id->issuer_len);
        }
        if (ret == 0 && id->key != NULL) {
            ret = stapler_put_entry(out, size, &at, STAPLER_CRED_KEY, i, id->key, id->key_len);
        }
        if (ret == 0 && id->has_key_handle) {
            unsigned char handle[4];
            stapler_put32(handle, id->key_handle);
            ret = stapler_put_entry(out, size, &at, STAPLER_CRED_KEY_HANDLE, i, handle, sizeof(handle));
        }
        if (ret == 0 && id->url != NULL) {
            ret = stapler_put_entry(out, size, &at, STAPLER_CRED_URL, i, id->url, strlen(id->url));
        }
        for (c = 0; c < id->trust_count && ret == 0; c++) {
            if (id->trust[c] == NULL || id->trust_len[c] == 0) {
                return STAPLER_ERR_INVALID_ARGUMENT;
            }
            ret = stapler_put_entry(out, size, &at, STAPLER_CRED_TRUST, i, id->trust[c], id->trust_len[c]);
        }
        if (ret != 0) {
            return ret;
        }
    }
    memset(out, 0xFF, STAPLER_CRED_HEADER);
    stapler_put32(out, STAPLER_CRED_MAGIC);
    stapler_put16(out + 4, STAPLER_CRED_VERSION);
    out[6] = (unsigned char) count;
    stapler_put32(out + 8, (uint32_t) (at - STAPLER_CRED_HEADER));
    stapler_put32(out + 12, stapler_crc32_update(STAPLER_CRC32_INIT, out + STAPLER_CRED_HEADER,
                                                 at - STAPLER_CRED_HEADER));
    *length = at;
    return 0;
}

/* ---- Reading ----------------------------------------------------------------------------- */

int stapler_credentials_read(stapler_credentials_t *credentials, const stapler_port_flash_t *flash,
                             void *context)
{
    unsigned char header[STAPLER_CRED_HEADER], chunk[64];
    uint32_t total, crc, done, at;
    unsigned count, i;
    int ret;

    if (credentials == NULL || flash == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    memset(credentials, 0, sizeof(*credentials));
    ret = flash->read(context, 0, header, sizeof(header));
    if (ret != 0) {
        return ret;
    }
    if (stapler_get32(header) != STAPLER_CRED_MAGIC) {
        for (i = 0; i < sizeof(header) && header[i] == 0xFF; i++) {
        }
        return i == sizeof(header) ? STAPLER_ERR_CRED_MISSING : STAPLER_ERR_CRED_CORRUPT;
    }
    if (((uint32_t) header[4] | (uint32_t) header[5] << 8) != STAPLER_CRED_VERSION) {
        return STAPLER_ERR_CRED_VERSION;
    }
    count = header[6];
    total = stapler_get32(header + 8);
    if (count == 0 || count > STAPLER_MAX_IDENTITIES ||
        total > STAPLER_CREDENTIAL_AREA_SIZE - STAPLER_CRED_HEADER || total > flash->size - STAPLER_CRED_HEADER) {
        return STAPLER_ERR_CRED_CORRUPT;
    }
    /* CRC over the entries before believing any of them. */
    crc = STAPLER_CRC32_INIT;
    for (done = 0; done < total; done += sizeof(chunk)) {
        const uint32_t n = total - done < sizeof(chunk) ? total - done : (uint32_t) sizeof(chunk);

        ret = flash->read(context, STAPLER_CRED_HEADER + done, chunk, n);
        if (ret != 0) {
            return ret;
        }
        crc = stapler_crc32_update(crc, chunk, n);
    }
    if (crc != stapler_get32(header + 12)) {
        return STAPLER_ERR_CRED_CORRUPT;
    }

    credentials->identity_count = count;
    for (at = STAPLER_CRED_HEADER; at < STAPLER_CRED_HEADER + total;) {
        unsigned char entry[STAPLER_CRED_ENTRY_HEADER];
        stapler_identity_credentials_t *id;
        stapler_flash_span_t span;
        uint32_t length, available;

        if (STAPLER_CRED_HEADER + total - at < STAPLER_CRED_ENTRY_HEADER) {
            return STAPLER_ERR_CRED_CORRUPT;
        }
        ret = flash->read(context, at, entry, sizeof(entry));
        if (ret != 0) {
            return ret;
        }
        length = stapler_get32(entry + 4);
        /* The length is checked before it is padded: padding 0xFFFFFFFD..0xFFFFFFFF wraps to
         * 0, which let an entry claim 4 GiB and take no room (tests/fuzz/fuzz_credentials
         * checks that every item lies inside the entries). */
        available = STAPLER_CRED_HEADER + total - at - STAPLER_CRED_ENTRY_HEADER;
        if (entry[1] >= count || length == 0 || length > available || stapler_pad4(length) > available) {
            return STAPLER_ERR_CRED_CORRUPT;
        }
        id = &credentials->identity[entry[1]];
        span.offset = at + STAPLER_CRED_ENTRY_HEADER;
        span.length = length;
        switch (entry[0]) {
            case STAPLER_CRED_CERT:
                /* Chain order; after the issuer nothing may extend the chain. */
                if (id->chain_length == STAPLER_CHAIN_MAX || id->issuer.length != 0) {
                    return STAPLER_ERR_CRED_CORRUPT;
                }
                id->chain[id->chain_length++] = span;
                break;
            case STAPLER_CRED_ISSUER:
                if (id->issuer.length != 0) {
                    return STAPLER_ERR_CRED_CORRUPT;
                }
                id->issuer = span;
                break;
            case STAPLER_CRED_KEY:
                if (id->key.length != 0 || id->has_key_handle) {
                    return STAPLER_ERR_CRED_CORRUPT;
                }
                id->key = span;
                break;
            case STAPLER_CRED_KEY_HANDLE: {
                unsigned char handle[4];
                if (length != 4 || id->key.length != 0 || id->has_key_handle) {
                    return STAPLER_ERR_CRED_CORRUPT;
                }
                ret = flash->read(context, span.offset, handle, sizeof(handle));
                if (ret != 0) {
                    return ret;
                }
                id->has_key_handle = 1;
                id->key_handle = stapler_get32(handle);
                break;
            }
            case STAPLER_CRED_URL:
                if (id->url.length != 0 || length > STAPLER_URL_MAX) {
                    return STAPLER_ERR_CRED_CORRUPT;
                }
                /* docs/SPEC.md: ASCII without NUL (the agent hands it on as a C string). */
                for (done = 0; done < length; done += sizeof(chunk)) {
                    const uint32_t n = length - done < sizeof(chunk) ? length - done : (uint32_t) sizeof(chunk);

                    ret = flash->read(context, span.offset + done, chunk, n);
                    if (ret != 0) {
                        return ret;
                    }
                    for (i = 0; i < n; i++) {
                        if (chunk[i] == 0 || chunk[i] > 0x7F) {
                            return STAPLER_ERR_CRED_CORRUPT;
                        }
                    }
                }
                id->url = span;
                break;
            case STAPLER_CRED_TRUST:
                if (id->trust_count == STAPLER_TRUST_MAX) {
                    return STAPLER_ERR_CRED_CORRUPT;
                }
                id->trust[id->trust_count++] = span;
                break;
            default:
                /* An unknown entry type: written by a newer Stapler with the same version
                 * number would be a bug; refuse rather than half-understand. */
                return STAPLER_ERR_CRED_CORRUPT;
        }
        at += STAPLER_CRED_ENTRY_HEADER + stapler_pad4(length);
    }
    for (i = 0; i < count; i++) {
        if (credentials->identity[i].chain_length == 0 || credentials->identity[i].issuer.length == 0) {
            return STAPLER_ERR_CRED_CORRUPT;
        }
    }
    return 0;
}
