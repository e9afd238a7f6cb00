/*
 * json_text — a jansson value as JSON text that is whole or not at all. The caller owns the text.
 */
#ifndef FW_JSON_TEXT_H
#define FW_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* json_dumps(value, flags), but never a partial document: out of memory, jansson's json_dumps
 * (2.14) can drop an object's key and still return the text, which is then not JSON (its dumper
 * ignores a failed write of a key). This sizes the text first and writes it into a buffer that
 * cannot fail. NULL if out of memory or value is NULL; the caller frees the text. */
char *json_text(const json_t *value, size_t flags);

#endif
