/*
 * creds — the cloud credentials: IONQ_API_KEY for IonQ, IBM_CLOUD_API_KEY and IBM_QUANTUM_CRN for
 * IBM Quantum, read from the environment or from a credentials file of NAME=value lines that
 * must be a regular file owned by this user and readable by no one else (mode 0600 or 0400).
 *
 * Lookup order: an explicitly named file first, then the environment; with no file named, the
 * environment first, then the file $FWPCAST_CREDENTIALS names (if set). A missing value is
 * FW_EINVAL whose message names the variable to set. Values are never logged and never appear
 * in an error message (messages name variables, files and line numbers only).
 *
 * Output buffers are the caller's; creds_wipe clears them when they are no longer needed.
 */
#ifndef FW_CREDS_H
#define FW_CREDS_H

#include <stddef.h>

#include "base/error.h"

#define CREDS_IONQ_API_KEY "IONQ_API_KEY"
#define CREDS_IBM_API_KEY  "IBM_CLOUD_API_KEY"
#define CREDS_IBM_CRN      "IBM_QUANTUM_CRN"
#define CREDS_FILE_ENV     "FWPCAST_CREDENTIALS"
#define CREDS_MAX          1024 /* longest value + 1 */
#define CREDS_FILE_MAX     (64 * 1024)

struct ionq_creds {
    char api_key[CREDS_MAX];
};

struct ibm_creds {
    char api_key[CREDS_MAX];
    char crn[CREDS_MAX];
};

/* One value by name (see the lookup order above); file may be NULL. Values must be 1 to
 * CREDS_MAX - 1 printable non-space ASCII characters. */
int creds_get(const char *name, const char *file, char *buf, size_t size, fw_error *err);

int creds_ionq(const char *file, struct ionq_creds *out, fw_error *err);
int creds_ibm(const char *file, struct ibm_creds *out, fw_error *err);

/* Clears memory that held a secret (not optimised away). */
void creds_wipe(void *p, size_t n);

#endif
