/*
 * Error slugs and messages: see stapler/error.h. The codes, slugs and messages are listed
 * once, in error_list.h. Names live in error_name.c, so an image that never prints one
 * carries none; an image built without CONFIG_STAPLER_ERROR_MESSAGES carries no message
 * text either, only the slugs (about 1.3 KiB instead of 13).
 */
#include "stapler/error.h"

#include <stddef.h>
#include <stdint.h>

#include "stapler/config.h"
#include "stapler_port.h"

/* Compact, because an MCU image keeps these: the codes as 16-bit values (every range fits;
 * a code that did not would not compile under -Werror), and the slugs as one string of
 * NUL-terminated slugs in the same order, without a pointer per slug. */
static const int16_t stapler_error_codes[] = {
#define STAPLER_ERROR(code, slug, message) code,
#include "error_list.h"
#undef STAPLER_ERROR
};

static const char stapler_error_slugs[] =
#define STAPLER_ERROR(code, slug, message) slug "\0"
#include "error_list.h"
#undef STAPLER_ERROR
    ;

#if defined(CONFIG_STAPLER_ERROR_MESSAGES)
static const char *const stapler_error_messages[] = {
#define STAPLER_ERROR(code, slug, message) message,
#include "error_list.h"
#undef STAPLER_ERROR
};
#endif

#define STAPLER_ERROR_COUNT (sizeof(stapler_error_codes) / sizeof(stapler_error_codes[0]))

/* The position of err in the list, or STAPLER_ERROR_COUNT if Stapler does not define it. */
static size_t stapler_error_index(int err)
{
    size_t i;

    for (i = 0; i < STAPLER_ERROR_COUNT && stapler_error_codes[i] != err; i++) {
    }
    return i;
}

const char *stapler_error_slug(int err)
{
    size_t i = stapler_error_index(err);
    const char *slug = stapler_error_slugs;

    if (i == STAPLER_ERROR_COUNT) {
        return "unknown_error";
    }
    while (i-- > 0) {
        while (*slug++ != '\0') {
        }
    }
    return slug;
}

const char *stapler_error_message(int err)
{
#if defined(CONFIG_STAPLER_ERROR_MESSAGES)
    const size_t i = stapler_error_index(err);

    if (i < STAPLER_ERROR_COUNT) {
        return stapler_error_messages[i];
    }
    if (err <= -0x1000 && err > -0x2000) {
        return "the platform port reported an error: see the port's documentation for this code";
    }
    return "unknown error code: the caller passed a value that is not a Stapler error";
#else
    /* Built without the texts: the stable slug still says which error it was (its
     * message is beside it in error_list.h). */
    return stapler_error_slug(err);
#endif
}
