/**
 * \file credentials.h
 * \brief The credential store at the start of Stapler's flash region (docs/SPEC.md): each
 *        identity's certificate chain, the issuer of its last certificate, its private key
 *        or a secure-element key handle, an optional responder URL override and the CA
 *        certificates it trusts for its TLS peers.
 *
 * Written once by provisioning (stapler_credentials_encode(), used by `stapler-sim
 * provision`), read at every boot (stapler_credentials_read()). Reading does not copy the
 * certificates: it records where each item is in flash, for the caller to read as needed.
 */
#ifndef STAPLER_CREDENTIALS_H
#define STAPLER_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>

#include "stapler/config.h"
#include "stapler_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Certificates per identity chain: the device certificate and its intermediates. */
#define STAPLER_CHAIN_MAX CONFIG_STAPLER_CHAIN_MAX
/** CA certificates trusted for an identity's TLS peers (servers it connects to, clients it
 *  authenticates), per identity. */
#define STAPLER_TRUST_MAX 2
/** Longest responder URL override, in bytes. */
#define STAPLER_URL_MAX 255

/** Where an item is in the flash region; length 0 = absent. */
typedef struct {
    uint32_t offset;
    uint32_t length;
} stapler_flash_span_t;

/** One identity's credentials, as found in flash. */
typedef struct {
    unsigned chain_length;                       /**< >= 1; chain[0] is the device certificate */
    stapler_flash_span_t chain[STAPLER_CHAIN_MAX];
    stapler_flash_span_t issuer;                 /**< issuer of chain[chain_length - 1] */
    stapler_flash_span_t key;                    /**< private key DER, or length 0 */
    int has_key_handle;
    uint32_t key_handle;                         /**< secure element key, when has_key_handle */
    stapler_flash_span_t url;                    /**< responder URL override, or length 0 */
    unsigned trust_count;                        /**< TLS trust anchors provisioned */
    stapler_flash_span_t trust[STAPLER_TRUST_MAX]; /**< their DER certificates */
} stapler_identity_credentials_t;

typedef struct {
    unsigned identity_count;
    stapler_identity_credentials_t identity[STAPLER_MAX_IDENTITIES];
} stapler_credentials_t;

/** One identity, as provisioning hands it in (pointers to DER and text in RAM). */
typedef struct {
    unsigned chain_length;
    const unsigned char *chain[STAPLER_CHAIN_MAX];
    size_t chain_len[STAPLER_CHAIN_MAX];
    const unsigned char *issuer;
    size_t issuer_len;
    const unsigned char *key;                    /**< NULL for none */
    size_t key_len;
    int has_key_handle;
    uint32_t key_handle;
    const char *url;                             /**< NULL for none */
    unsigned trust_count;                        /**< TLS trust anchors, at most STAPLER_TRUST_MAX */
    const unsigned char *trust[STAPLER_TRUST_MAX];
    size_t trust_len[STAPLER_TRUST_MAX];
} stapler_credential_input_t;

/**
 * \brief Read and check the credential store.
 * \return 0; STAPLER_ERR_CRED_MISSING (erased or never provisioned);
 *         STAPLER_ERR_CRED_VERSION (written by a newer Stapler); STAPLER_ERR_CRED_CORRUPT
 *         (CRC mismatch, or an entry that breaks the format's rules); a port error.
 */
int stapler_credentials_read(stapler_credentials_t *credentials, const stapler_port_flash_t *flash,
                             void *context);

/**
 * \brief Encode a credential store for \p count identities into \p out (which becomes the
 *        first bytes of the flash region; it must not exceed STAPLER_CREDENTIAL_AREA_SIZE).
 * \return 0; STAPLER_ERR_INVALID_ARGUMENT (no identity, no certificate, no issuer, chain too
 *         long, both key and handle, URL too long); STAPLER_ERR_CRED_TOO_LARGE.
 */
int stapler_credentials_encode(const stapler_credential_input_t *identities, unsigned count,
                               unsigned char *out, size_t size, size_t *length);

#ifdef __cplusplus
}
#endif

#endif /* STAPLER_CREDENTIALS_H */
