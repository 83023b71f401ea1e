/*
 * Error names (stapler_error_name()), in a file of their own: an image that never prints a
 * name links none of them. A code's name is its identifier, spelled by the preprocessor
 * from error_list.h, so names cannot drift from the codes.
 */
#include "stapler/error.h"

#include <stddef.h>

#include "stapler_port.h"

typedef struct {
    int code;
    const char *name;
} stapler_error_name_t;

static const stapler_error_name_t stapler_error_names[] = {
#define STAPLER_ERROR(code, slug, message) { code, #code },
#include "error_list.h"
#undef STAPLER_ERROR
};

const char *stapler_error_name(int err)
{
    size_t i;

    for (i = 0; i < sizeof(stapler_error_names) / sizeof(stapler_error_names[0]); i++) {
        if (stapler_error_names[i].code == err) {
            return stapler_error_names[i].name;
        }
    }
    return "STAPLER_ERR_UNKNOWN";
}
