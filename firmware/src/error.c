/* Error names and messages: see stapler/error.h. */
#include "stapler/error.h"

#include <stddef.h>

typedef struct {
    int code;
    const char *name;
    const char *message;
} stapler_error_entry_t;

static const stapler_error_entry_t stapler_error_table[] = {
    { STAPLER_OK, "STAPLER_OK", "success" },
    { STAPLER_ERR_INVALID_ARGUMENT, "STAPLER_ERR_INVALID_ARGUMENT",
      "a Stapler function was called with an invalid argument: this is a bug in the caller; "
      "check the function's documented preconditions" },
    { STAPLER_ERR_BUFFER_TOO_SMALL, "STAPLER_ERR_BUFFER_TOO_SMALL",
      "an output buffer is too small: size it with the STAPLER_* macro its header names" },
    { STAPLER_ERR_NO_MEMORY, "STAPLER_ERR_NO_MEMORY",
      "the Mbed TLS static arena is exhausted: raise CONFIG_STAPLER_MBEDTLS_ARENA_SIZE "
      "(menuconfig: Memory)" },
    { STAPLER_ERR_INTERNAL, "STAPLER_ERR_INTERNAL",
      "an internal consistency check failed: please report it with the log" },
    { STAPLER_ERR_SELFTEST_FAILED, "STAPLER_ERR_SELFTEST_FAILED",
      "a cryptographic self-test failed: the Mbed TLS build for this target is broken "
      "(compiler, configuration or memory fault); do not trust this image" },
};

static const stapler_error_entry_t *stapler_error_find(int err)
{
    size_t i;

    for (i = 0; i < sizeof(stapler_error_table) / sizeof(stapler_error_table[0]); i++) {
        if (stapler_error_table[i].code == err) {
            return &stapler_error_table[i];
        }
    }
    return NULL;
}

const char *stapler_error_name(int err)
{
    const stapler_error_entry_t *entry = stapler_error_find(err);

    return entry != NULL ? entry->name : "STAPLER_ERR_UNKNOWN";
}

const char *stapler_error_message(int err)
{
    const stapler_error_entry_t *entry = stapler_error_find(err);

    if (entry != NULL) {
        return entry->message;
    }
    if (err <= -0x1000 && err > -0x2000) {
        return "the platform port reported an error: see the port's documentation for this code";
    }
    return "unknown error code: the caller passed a value that is not a Stapler error";
}
