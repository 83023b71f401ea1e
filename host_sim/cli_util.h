/* Small helpers shared by stapler-sim's commands. */
#ifndef STAPLER_SIM_CLI_UTIL_H
#define STAPLER_SIM_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/x509_crt.h"

/** RFC 3339 UTC ("2026-06-01T12:00:00Z") to seconds since the epoch; 0 or -1. */
int stapler_sim_parse_time(const char *text, int64_t *seconds);

/** Seconds since the epoch to RFC 3339 UTC in \p buf; returns \p buf. */
const char *stapler_sim_format_time(int64_t seconds, char *buf, size_t size);

/** Read a whole file into buf, NUL-terminated (at most size - 1 bytes). Returns the length;
 *  -1 if it cannot be opened, -2 if it is larger (both with a message on stderr). */
long stapler_sim_read_file(const char *path, unsigned char *buf, size_t size);

/** Parse certificates (PEM, possibly several, or one DER) from a file into \p crt, appending.
 *  \p what names the file in messages; a certificate that cannot be used is named (its number
 *  in a PEM bundle) with the reason. Returns 0 or -1 with a message. */
int stapler_sim_load_certificates(mbedtls_x509_crt *crt, const char *path, const char *what);

/** The same for an issuer file: its first certificate may be one Mbed TLS refuses only for its
 *  own signature algorithm (stapler_cert_parse_issuer(): name and key only; a note says so).
 *  \p crt must be empty; release it with stapler_cert_free(). */
int stapler_sim_load_issuer(mbedtls_x509_crt *crt, const char *path, const char *what);

/** Why Mbed TLS refused a certificate (error \p ret), in words, naming the signature algorithm
 *  when that is the reason (\p der, may be NULL). */
void stapler_sim_x509_reason(int ret, const unsigned char *der, size_t der_len, char *buf, size_t size);

/** Stable snake_case name of an identity state (stapler_identity_state_t). */
const char *stapler_sim_state_name(int state);

#endif
