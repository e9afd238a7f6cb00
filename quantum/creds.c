/* creds — cloud credentials from the environment or a private file (see creds.h). Values go into
 * the caller's buffers; a credentials file's text read here is wiped before it is freed. */
#include "quantum/creds.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Internal: the name is in neither place looked at (distinct from FW_ENOTFOUND, a missing
 * file). */
#define NOT_SET 1

void creds_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

static int valid_value(const char *v, size_t len)
{
    if (len == 0 || len >= CREDS_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isgraph((unsigned char)v[i]))
            return 0;
    return 1;
}

/* Reads the file after checking who may read it. *text is malloc'd (the caller wipes it). */
static int read_private_file(const char *file, char **text, fw_error *err)
{
    int rc = FW_OK;
    char *buf = NULL;
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return fw_error_set(err, errno == ENOENT ? FW_ENOTFOUND : FW_EIO,
                            "cannot open the credentials file %s: %s", file, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = fw_error_set(err, FW_EIO, "cannot stat the credentials file %s: %s", file,
                          strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = fw_error_set(err, FW_EINVAL, "the credentials file %s is not a regular file", file);
        goto cleanup;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        rc = fw_error_set(err, FW_EINVAL,
                          "the credentials file %s has mode %04o: it must not be readable or "
                          "writable by group or others (chmod 600 %s)",
                          file, (unsigned)(st.st_mode & 07777), file);
        goto cleanup;
    }
    if (st.st_uid != geteuid()) {
        rc = fw_error_set(err, FW_EINVAL,
                          "the credentials file %s belongs to uid %u, not to this user (uid %u)",
                          file, (unsigned)st.st_uid, (unsigned)geteuid());
        goto cleanup;
    }
    if (st.st_size > CREDS_FILE_MAX) {
        rc = fw_error_set(err, FW_ETOOBIG, "the credentials file %s is larger than %d bytes", file,
                          CREDS_FILE_MAX);
        goto cleanup;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = FW_ENOMEM;
        goto cleanup;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    *text = buf;
    buf = NULL;
cleanup:
    close(fd);
    free(buf);
    return rc;
}

/* Finds NAME=value in the text (blank lines, '#' comments and an "export " prefix allowed; the
 * value may be quoted). Returns 0 and the value, NOT_SET, or FW_EINVAL for a malformed line
 * (named by number only: a line may hold a secret). */
static int find_in_text(const char *file, char *text, const char *name, char *buf, size_t size,
                        fw_error *err)
{
    int line_no = 0, found = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line_no++;
        while (isspace((unsigned char)*line))
            line++;
        size_t len = strlen(line);
        while (len && isspace((unsigned char)line[len - 1]))
            line[--len] = '\0';
        if (!len || line[0] == '#')
            continue;
        if (!strncmp(line, "export ", 7)) {
            line += 7;
            while (isspace((unsigned char)*line))
                line++;
        }
        char *eq = strchr(line, '=');
        if (!eq || eq == line)
            return fw_error_set(err, FW_EINVAL, "%s: line %d: expected NAME=value", file, line_no);
        char *key_end = eq;
        while (key_end > line && isspace((unsigned char)key_end[-1]))
            key_end--;
        if ((size_t)(key_end - line) != strlen(name) || strncmp(line, name, strlen(name)))
            continue;
        char *value = eq + 1;
        while (isspace((unsigned char)*value))
            value++;
        size_t vlen = strlen(value);
        if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') && value[vlen - 1] == value[0]) {
            value++;
            vlen -= 2;
        }
        if (!valid_value(value, vlen) || vlen >= size)
            return fw_error_set(err, FW_EINVAL,
                                "%s: line %d: the value of %s must be 1 to %d printable "
                                "characters without spaces",
                                file, line_no, name, CREDS_MAX - 1);
        memcpy(buf, value, vlen);
        buf[vlen] = '\0';
        found = 1; /* a later line wins, as in a shell */
    }
    return found ? FW_OK : NOT_SET;
}

static int from_file(const char *name, const char *file, char *buf, size_t size, fw_error *err)
{
    char *text = NULL;
    int rc = read_private_file(file, &text, err);
    if (rc)
        return rc;
    size_t text_len = strlen(text);
    rc = find_in_text(file, text, name, buf, size, err);
    creds_wipe(text, text_len);
    free(text);
    return rc;
}

static int from_env(const char *name, char *buf, size_t size, fw_error *err)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return NOT_SET;
    size_t len = strlen(v);
    if (!valid_value(v, len) || len >= size)
        return fw_error_set(err, FW_EINVAL,
                            "the environment variable %s must be 1 to %d printable characters "
                            "without spaces",
                            name, CREDS_MAX - 1);
    memcpy(buf, v, len + 1);
    return FW_OK;
}

int creds_get(const char *name, const char *file, char *buf, size_t size, fw_error *err)
{
    if (!name || !buf || !size)
        return FW_EINVAL;
    const char *env_file = getenv(CREDS_FILE_ENV);
    if (env_file && !*env_file)
        env_file = NULL;
    int rc;
    if (file) {
        rc = from_file(name, file, buf, size, err);
        if (rc == NOT_SET && (rc = from_env(name, buf, size, err)) == NOT_SET)
            return fw_error_set(err, FW_EINVAL,
                                "%s is not set: add %s=... to %s or set it in "
                                "the environment",
                                name, name, file);
        return rc;
    }
    rc = from_env(name, buf, size, err);
    if (rc != NOT_SET)
        return rc;
    if (env_file) {
        rc = from_file(name, env_file, buf, size, err);
        if (rc == NOT_SET)
            return fw_error_set(err, FW_EINVAL,
                                "%s is not set: set it in the environment or add "
                                "%s=... to %s (named by %s)",
                                name, name, env_file, CREDS_FILE_ENV);
        return rc;
    }
    return fw_error_set(err, FW_EINVAL,
                        "%s is not set: set it in the environment or in a credentials file (mode "
                        "0600) named by %s",
                        name, CREDS_FILE_ENV);
}

int creds_ionq(const char *file, struct ionq_creds *out, fw_error *err)
{
    struct ionq_creds c;
    int rc = creds_get(CREDS_IONQ_API_KEY, file, c.api_key, sizeof c.api_key, err);
    if (rc == FW_OK)
        *out = c;
    creds_wipe(&c, sizeof c);
    return rc;
}

int creds_ibm(const char *file, struct ibm_creds *out, fw_error *err)
{
    struct ibm_creds c;
    int rc = creds_get(CREDS_IBM_API_KEY, file, c.api_key, sizeof c.api_key, err);
    if (rc == FW_OK)
        rc = creds_get(CREDS_IBM_CRN, file, c.crn, sizeof c.crn, err);
    if (rc == FW_OK)
        *out = c;
    creds_wipe(&c, sizeof c);
    return rc;
}
