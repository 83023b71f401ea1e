/*
 * Error slugs and messages: see stapler/error.h. The codes, slugs and messages are listed
 * once, in error_list.h. Names live in error_name.c, so an image that never prints one
 * carries none; an image built without CONFIG_STAPLER_ERROR_MESSAGES carries no message
 * text either, only the slugs (about 1.5 KiB instead of 13).
 */
#include "stapler/error.h"

#include <stddef.h>

#include "stapler/config.h"
#include "stapler_port.h"

typedef struct {
    int code;
    const char *slug;
#if defined(CONFIG_STAPLER_ERROR_MESSAGES)
    const char *message;
#endif
} stapler_error_entry_t;

static const stapler_error_entry_t stapler_error_table[] = {
#if defined(CONFIG_STAPLER_ERROR_MESSAGES)
#define STAPLER_ERROR(code, slug, message) { code, slug, message },
#else
#define STAPLER_ERROR(code, slug, message) { code, slug },
#endif
#include "error_list.h"
#undef STAPLER_ERROR
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

const char *stapler_error_slug(int err)
{
    const stapler_error_entry_t *entry = stapler_error_find(err);

    return entry != NULL ? entry->slug : "unknown_error";
}

const char *stapler_error_message(int err)
{
#if defined(CONFIG_STAPLER_ERROR_MESSAGES)
    const stapler_error_entry_t *entry = stapler_error_find(err);

    if (entry != NULL) {
        return entry->message;
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
