/* json_text — whole JSON text or none (see json_text.h). */
#include "core/json_text.h"

#include <stdlib.h>

char *json_text(const json_t *value, size_t flags)
{
    size_t len = value ? json_dumpb(value, NULL, 0, flags) : 0;
    char *text = len ? malloc(len + 1) : NULL;
    if (!text)
        return NULL;
    /* the same length again: a second pass can still fail (jansson's loop check allocates) */
    if (json_dumpb(value, text, len, flags) != len) {
        free(text);
        return NULL;
    }
    text[len] = '\0';
    return text;
}
