/*
 * error — the one status enum every fwpcast module returns, and a small message buffer.
 *
 * Functions return 0 (FW_OK) on success or a negative fw_status; they write outputs through
 * pointers only on success. Where a caller needs to tell a user what went wrong (a parser naming
 * a line and column, a config naming a key), the function also takes a `fw_error *` and fills
 * its message; passing NULL is always allowed. The buffer is owned by the caller.
 */
#ifndef FW_ERROR_H
#define FW_ERROR_H

#include <stddef.h>

enum fw_status {
    FW_OK = 0,
    FW_ENOMEM = -1,     /* an allocation failed */
    FW_EINVAL = -2,     /* bad input: a value, a config, a file's content */
    FW_EIO = -3,        /* a read or write failed */
    FW_ENOTFOUND = -4,  /* no such dataset, model, job, file */
    FW_ECORRUPT = -5,   /* a stored or loaded artefact fails its checks */
    FW_EVERSION = -6,   /* a format or schema version this binary does not know */
    FW_ECONFLICT = -7,  /* the operation conflicts with current state */
    FW_ECANCELLED = -8, /* stopped on request */
    FW_EDB = -9,        /* the database reported an error */
    FW_ERANGE = -10,    /* a number outside its allowed range */
    FW_ETOOBIG = -11,   /* input larger than a configured limit */
    FW_ENOSPC = -12,    /* the disk (the database's) is full */
};

#define FW_ERROR_MSG_MAX 512

typedef struct fw_error {
    int code;
    char msg[FW_ERROR_MSG_MAX];
} fw_error;

/* Fills err (if not NULL) with code and a printf-style message; returns code. */
int fw_error_set(fw_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears err (if not NULL). */
void fw_error_clear(fw_error *err);

/* A short, static description of a status code. */
const char *fw_strerror(int code);

#endif
