/* Small helpers shared by stapler-sim's commands. */
#ifndef STAPLER_SIM_CLI_UTIL_H
#define STAPLER_SIM_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

/** RFC 3339 UTC ("2026-06-01T12:00:00Z") to seconds since the epoch; 0 or -1. */
int stapler_sim_parse_time(const char *text, int64_t *seconds);

/** Seconds since the epoch to RFC 3339 UTC in \p buf; returns \p buf. */
const char *stapler_sim_format_time(int64_t seconds, char *buf, size_t size);

#endif
