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
 *  \p what names the file in messages. Returns 0 or -1 with a message. */
int stapler_sim_load_certificates(mbedtls_x509_crt *crt, const char *path, const char *what);

/** Stable snake_case name of an identity state (stapler_identity_state_t). */
const char *stapler_sim_state_name(int state);

#endif
