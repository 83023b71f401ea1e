/* Mbed TLS's static arena and output hooks: see stapler_mbedtls_platform.h. */
#include "stapler_mbedtls_platform.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "mbedtls/asn1.h"
#include "mbedtls/error.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#if defined(MBEDTLS_SSL_TLS_C)
#include "mbedtls/ssl.h"
#endif
#if defined(MBEDTLS_SSL_TICKET_C)
#include "mbedtls/ssl_ticket.h"
#endif
#include "psa/crypto.h"
#include "stapler/error.h"

static int (*stapler_mbedtls_entropy)(void *context, void *buffer, size_t len);
static void *stapler_mbedtls_entropy_context;

#if defined(MBEDTLS_HAVE_TIME)
static uint64_t (*stapler_mbedtls_monotonic)(void *context);
static void *stapler_mbedtls_monotonic_context;
/* A random start for mbedtls_time(): a TLS 1.2 ServerHello carries 4 bytes of it, which must
 * not tell the world the device's uptime. */
static uint32_t stapler_mbedtls_time_base;

static uint64_t stapler_mbedtls_now_ms(void)
{
    return stapler_mbedtls_monotonic != NULL ? stapler_mbedtls_monotonic(stapler_mbedtls_monotonic_context) : 0u;
}

mbedtls_ms_time_t mbedtls_ms_time(void)
{
    return (mbedtls_ms_time_t) stapler_mbedtls_now_ms();
}

static mbedtls_time_t stapler_mbedtls_time(mbedtls_time_t *timer)
{
    const mbedtls_time_t now = (mbedtls_time_t) stapler_mbedtls_time_base + (mbedtls_time_t) (stapler_mbedtls_now_ms() / 1000u);

    if (timer != NULL) {
        *timer = now;
    }
    return now;
}

int64_t stapler_mbedtls_platform_time_base(void)
{
    return (int64_t) stapler_mbedtls_time_base;
}
#endif

/* 8-byte aligned so the allocator's own alignment (MBEDTLS_MEMORY_ALIGN_MULTIPLE) starts
 * at the first byte instead of losing up to 7 of them. */
static union {
    unsigned char bytes[STAPLER_MBEDTLS_ARENA_SIZE];
    uint64_t align;
} stapler_mbedtls_arena;

static int stapler_mbedtls_printf_drop(const char *format, ...)
{
    (void) format;
    return 0;
}

static int stapler_mbedtls_snprintf_fail(char *buffer, size_t size, const char *format, ...)
{
    (void) format;
    if (size > 0) {
        buffer[0] = '\0';
    }
    return -1;
}

int stapler_mbedtls_platform_setup(const stapler_mbedtls_platform_cfg_t *cfg)
{
    int ret;

    if (cfg == NULL || cfg->fatal_fn == NULL) {
        return STAPLER_ERR_INVALID_ARGUMENT;
    }
    ret = mbedtls_platform_set_exit(cfg->fatal_fn);
    if (ret != 0) {
        return ret;
    }
    ret = mbedtls_platform_set_printf(cfg->printf_fn != NULL ? cfg->printf_fn
                                                             : stapler_mbedtls_printf_drop);
    if (ret != 0) {
        return ret;
    }
    ret = mbedtls_platform_set_snprintf(cfg->snprintf_fn != NULL ? cfg->snprintf_fn
                                                                 : stapler_mbedtls_snprintf_fail);
    if (ret != 0) {
        return ret;
    }
    stapler_mbedtls_entropy = cfg->entropy_fn;
    stapler_mbedtls_entropy_context = cfg->entropy_context;
#if defined(MBEDTLS_HAVE_TIME)
    stapler_mbedtls_monotonic = cfg->monotonic_ms_fn;
    stapler_mbedtls_monotonic_context = cfg->monotonic_context;
    stapler_mbedtls_time_base = 0;
    if (stapler_mbedtls_entropy != NULL &&
        stapler_mbedtls_entropy(stapler_mbedtls_entropy_context, &stapler_mbedtls_time_base,
                                sizeof(stapler_mbedtls_time_base)) != 0) {
        stapler_mbedtls_time_base = 0;
    }
    stapler_mbedtls_time_base >>= 1; /* stays positive for a 32-bit time_t through decades of uptime */
    ret = mbedtls_platform_set_time(stapler_mbedtls_time);
    if (ret != 0) {
        return ret;
    }
#endif
    /* A second setup (tests) first ends the PSA state that lives in the old arena. */
    mbedtls_psa_crypto_free();
    mbedtls_memory_buffer_alloc_init(stapler_mbedtls_arena.bytes,
                                     sizeof(stapler_mbedtls_arena.bytes));
    /* PSA is the core's hash API and, with MBEDTLS_USE_PSA_CRYPTO, what PK, X.509 and TLS
     * compute with: it starts here, so no caller can forget it. */
    if (psa_crypto_init() != PSA_SUCCESS) {
        mbedtls_memory_buffer_alloc_free();
        return STAPLER_ERR_INTERNAL;
    }
    return 0;
}

void stapler_mbedtls_platform_arena_usage(size_t *current, size_t *peak)
{
#if defined(MBEDTLS_MEMORY_DEBUG)
    size_t cur_blocks, max_blocks;
    mbedtls_memory_buffer_alloc_cur_get(current, &cur_blocks);
    mbedtls_memory_buffer_alloc_max_get(peak, &max_blocks);
#else
    *current = 0;
    *peak = 0;
#endif
}

void stapler_mbedtls_platform_arena_reset_peak(void)
{
#if defined(MBEDTLS_MEMORY_DEBUG)
    mbedtls_memory_buffer_alloc_max_reset();
#endif
}

int stapler_mbedtls_platform_random(void *context, unsigned char *output, size_t len)
{
    (void) context;
    if (stapler_mbedtls_entropy == NULL ||
        stapler_mbedtls_entropy(stapler_mbedtls_entropy_context, output, len) != 0) {
        return MBEDTLS_ERR_ERROR_GENERIC_ERROR;
    }
    return 0;
}

#if defined(MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG)
/* PSA's random generator is the platform's entropy hook itself: the port contract requires
 * it to be cryptographically secure (a TRNG or a DRBG seeded from one), so no second DRBG. */
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context,
                                             uint8_t *output, size_t output_size,
                                             size_t *output_length)
{
    (void) context;
    *output_length = 0;
    if (stapler_mbedtls_platform_random(NULL, output, output_size) != 0) {
        return PSA_ERROR_INSUFFICIENT_ENTROPY;
    }
    *output_length = output_size;
    return PSA_SUCCESS;
}
#endif

#if defined(MBEDTLS_USE_PSA_CRYPTO) && MBEDTLS_VERSION_MAJOR < 4
/* The RSAPrivateKey (PKCS#1) inside an RSA device key's DER: the key itself, or a PKCS#8
 * PrivateKeyInfo's privateKey for rsaEncryption (RFC 5208 5). 0 and no span for anything
 * else (an EC key, which PK already keeps in PSA, or not DER). */
static int stapler_mbedtls_rsa_private_der(const unsigned char *der, size_t len,
                                           const unsigned char **rsa, size_t *rsa_len)
{
    static const unsigned char rsa_encryption[] = { 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D,
                                                   0x01, 0x01, 0x01 };
    unsigned char *p = (unsigned char *) (uintptr_t) der;
    const unsigned char *end = der + len;
    mbedtls_asn1_buf alg, params;
    size_t n;
    int version;

    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        p + n != end) {
        return 0;
    }
    if (mbedtls_asn1_get_int(&p, end, &version) != 0 || version != 0 || p >= end) {
        return 0;
    }
    if (*p == MBEDTLS_ASN1_INTEGER) { /* PKCS#1: version, then the modulus */
        *rsa = der;
        *rsa_len = len;
        return 1;
    }
    if (mbedtls_asn1_get_alg(&p, end, &alg, &params) != 0 || alg.len != sizeof(rsa_encryption) ||
        memcmp(alg.p, rsa_encryption, sizeof(rsa_encryption)) != 0 ||
        mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OCTET_STRING) != 0) {
        return 0;
    }
    *rsa = p;
    *rsa_len = n;
    return 1;
}
#endif

int stapler_mbedtls_platform_parse_key(mbedtls_pk_context *pk, mbedtls_svc_key_id_t *psa_key,
                                       const unsigned char *der, size_t len)
{
    int ret;

    *psa_key = MBEDTLS_SVC_KEY_ID_INIT;
#if MBEDTLS_VERSION_MAJOR >= 4
    /* 4.x: parse, then hand PSA the key and refer to it (an opaque PK). Untested here. */
    {
        mbedtls_pk_context parsed;
        psa_key_attributes_t attributes = PSA_KEY_ATTRIBUTES_INIT;

        mbedtls_pk_init(&parsed);
        ret = mbedtls_pk_parse_key(&parsed, der, len, NULL, 0);
        if (ret == 0) {
            ret = mbedtls_pk_get_psa_attributes(&parsed, PSA_KEY_USAGE_SIGN_HASH, &attributes);
        }
        if (ret == 0 && PSA_KEY_TYPE_IS_RSA(psa_get_key_type(&attributes))) {
            psa_set_key_algorithm(&attributes, PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_ANY_HASH));
            psa_set_key_enrollment_algorithm(&attributes, PSA_ALG_RSA_PSS(PSA_ALG_ANY_HASH));
        }
        if (ret == 0) {
            ret = mbedtls_pk_import_into_psa(&parsed, &attributes, psa_key);
        }
        mbedtls_pk_free(&parsed);
        psa_reset_key_attributes(&attributes);
        if (ret == 0) {
            ret = mbedtls_pk_wrap_psa(pk, *psa_key);
        }
    }
#else
#if defined(MBEDTLS_USE_PSA_CRYPTO)
    /* An RSA device key goes into PSA once, as a volatile key that PK refers to (an opaque
     * PK): each handshake's signature is then PSA's own operation, where PK would copy the
     * key out and into PSA for every signature (measured: 7 KB less arena at an RSA
     * handshake's peak). PKCS#1 v1.5 for TLS 1.2, PSS for TLS 1.3. The RSAPrivateKey is
     * found by hand rather than with mbedtls_pk_import_into_psa(), which would bring in
     * 2.5 KB of key-copying code this build does not otherwise need. EC keys need none of
     * it: with MBEDTLS_USE_PSA_CRYPTO, PK already keeps them in PSA. */
    const unsigned char *rsa;
    size_t rsa_len;

    if (stapler_mbedtls_rsa_private_der(der, len, &rsa, &rsa_len)) {
        psa_key_attributes_t attributes = PSA_KEY_ATTRIBUTES_INIT;
        psa_status_t status;

        psa_set_key_type(&attributes, PSA_KEY_TYPE_RSA_KEY_PAIR);
        psa_set_key_usage_flags(&attributes, PSA_KEY_USAGE_SIGN_HASH);
        psa_set_key_algorithm(&attributes, PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_ANY_HASH));
        psa_set_key_enrollment_algorithm(&attributes, PSA_ALG_RSA_PSS(PSA_ALG_ANY_HASH));
        status = psa_import_key(&attributes, rsa, rsa_len, psa_key);
        psa_reset_key_attributes(&attributes);
        if (status != PSA_SUCCESS) {
            *psa_key = MBEDTLS_SVC_KEY_ID_INIT;
            return status == PSA_ERROR_INSUFFICIENT_MEMORY ? MBEDTLS_ERR_PK_ALLOC_FAILED
                                                           : MBEDTLS_ERR_PK_KEY_INVALID_FORMAT;
        }
        ret = mbedtls_pk_setup_opaque(pk, *psa_key);
        if (ret != 0) {
            stapler_mbedtls_platform_free_key(pk, psa_key);
        }
        return ret;
    }
#endif
    ret = mbedtls_pk_parse_key(pk, der, len, NULL, 0, stapler_mbedtls_platform_random, NULL);
#endif
    if (ret != 0) {
        stapler_mbedtls_platform_free_key(pk, psa_key);
    }
    return ret;
}

void stapler_mbedtls_platform_free_key(mbedtls_pk_context *pk, mbedtls_svc_key_id_t *psa_key)
{
    mbedtls_pk_free(pk);
    if (!mbedtls_svc_key_id_is_null(*psa_key)) {
        (void) psa_destroy_key(*psa_key);
        *psa_key = MBEDTLS_SVC_KEY_ID_INIT;
    }
}

#if defined(MBEDTLS_SSL_TLS_C)
void stapler_mbedtls_platform_conf_ssl_rng(mbedtls_ssl_config *conf)
{
#if MBEDTLS_VERSION_MAJOR >= 4
    (void) conf; /* TLS takes its randomness from PSA: mbedtls_psa_external_get_random() */
#else
    mbedtls_ssl_conf_rng(conf, stapler_mbedtls_platform_random, NULL);
#endif
}
#endif

void stapler_mbedtls_platform_teardown(void)
{
    mbedtls_psa_crypto_free();
    mbedtls_memory_buffer_alloc_free();
}

#if defined(MBEDTLS_SSL_TICKET_C)
int stapler_mbedtls_platform_ticket_setup(mbedtls_ssl_ticket_context *ctx, uint32_t lifetime_s)
{
#if MBEDTLS_VERSION_MAJOR >= 4
    /* Mbed TLS 4: PSA names the AEAD and draws the keys itself (untested here: Debian has
     * no Mbed TLS 4; docs/PORTING.md). */
    return mbedtls_ssl_ticket_setup(ctx, PSA_ALG_GCM, PSA_KEY_TYPE_AES, 256, lifetime_s);
#else
    return mbedtls_ssl_ticket_setup(ctx, stapler_mbedtls_platform_random, NULL, MBEDTLS_CIPHER_AES_256_GCM,
                                    lifetime_s);
#endif
}
#endif

#if defined(MBEDTLS_SSL_SESSION_TICKETS) && defined(MBEDTLS_SSL_CLI_C)
void stapler_mbedtls_platform_conf_client_tickets(mbedtls_ssl_config *conf, int keep)
{
    mbedtls_ssl_conf_session_tickets(conf, keep ? MBEDTLS_SSL_SESSION_TICKETS_ENABLED
                                                : MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#if MBEDTLS_VERSION_MAJOR < 4 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
    /* 3.6: a TLS 1.3 client ignores NewSessionTicket unless told to signal it (4.x: the
     * setting above covers TLS 1.3 too; untested here, Debian has no Mbed TLS 4). */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        conf, keep ? MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED
                   : MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_DISABLED);
#endif
}
#endif
