/*
 * testutil — helpers shared by the cmocka unit tests: temporary directories, the project root,
 * reading files. Everything returned is owned by the caller unless said otherwise.
 */
#ifndef FW_TESTUTIL_H
#define FW_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); returns a malloc'd path. */
char *tu_mkdtemp(void);

/* Removes a directory tree made by tu_mkdtemp and frees the path. Accepts NULL. */
void tu_rmtree(char *path);

/* The project root: $FWPCAST_ROOT, else "." (tests run from the root). Borrowed. */
const char *tu_root(void);

/* root + "/" + rel, malloc'd. */
char *tu_path(const char *rel);

/* Reads a whole file; returns malloc'd bytes (NUL-terminated) and sets *len. NULL on error. */
char *tu_read_file(const char *path, size_t *len);

/* Writes len bytes to path; returns 0 on success. */
int tu_write_file(const char *path, const void *data, size_t len);

/* Relative difference |a-b| / max(|a|,|b|,floor). */
double tu_reldiff(double a, double b, double floor);

#endif
