/*
 * import — a series given as text into points (see import.h): the size limit, the file read,
 * the encoding check, format detection, one of the parsers (ingest/parse_*.c), and the result.
 * The caller owns the struct import_result returned and its points (import_result_free).
 */
#include "ingest/import.h"
#include "base/utf8.h"
#include "ingest/parse.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *import_format_name(enum import_format format)
{
    switch (format) {
    case IMPORT_AUTO:
        return "auto";
    case IMPORT_SILSO_MONTHLY:
        return "silso-monthly";
    case IMPORT_SILSO_YEARLY:
        return "silso-yearly";
    case IMPORT_CSV:
        return "csv";
    case IMPORT_JSON:
        return "json";
    }
    return "?";
}

static void series_free(struct series *s)
{
    free(s->points);
    s->points = NULL;
}

/* --- encoding ------------------------------------------------------------------------------- */

/* Refuses NUL bytes and invalid UTF-8, naming the line and column (in characters). */
static int check_encoding(const char *data, size_t len, fw_error *err)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t line = 1, column = 1;
    for (size_t i = 0; i < len; column++) {
        unsigned char c = p[i];
        if (c == 0)
            return fw_error_set(err, FW_EINVAL, "line %zu, column %zu: NUL byte in the input", line,
                                column);
        if (c < 0x80) {
            if (c == '\n') {
                line++;
                column = 0;
            }
            i++;
            continue;
        }
        size_t step = utf8_sequence(p + i, len - i);
        if (!step)
            return fw_error_set(err, FW_EINVAL,
                                "line %zu, column %zu: invalid UTF-8 (byte 0x%02x); the input "
                                "must be UTF-8 text",
                                line, column, c);
        i += step;
    }
    return FW_OK;
}

/* --- entry points --------------------------------------------------------------------------- */

static enum import_format detect(const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && (ingest_is_blank(data[i]) || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (i < len && (data[i] == '{' || data[i] == '['))
        return IMPORT_JSON;
    const char *end = memchr(data + i, '\n', len - i);
    size_t line_len = end ? (size_t)(end - (data + i)) : len - i;
    if (!memchr(data + i, ';', line_len))
        return IMPORT_CSV;
    struct field f[MAX_FIELDS];
    return ingest_split(data + i, line_len, ';', f) == 5 ? IMPORT_SILSO_YEARLY
                                                         : IMPORT_SILSO_MONTHLY;
}

static int copy_option(const char *what, const char *value, char *dst, size_t cap, fw_error *err)
{
    if (!value)
        return FW_OK;
    if (strlen(value) >= cap)
        return fw_error_set(err, FW_EINVAL, "the dataset %s is longer than %zu bytes", what,
                            cap - 1);
    snprintf(dst, cap, "%s", value);
    return FW_OK;
}

/* The options' name, source and unit, then the parsed points (taken from s) and their
 * fingerprint, into res. */
static int finish_result(struct series *s, enum import_format format,
                         const struct import_options *opt, struct import_result *res, fw_error *err)
{
    int rc;
    if ((rc = copy_option("name", opt->name, res->name, sizeof res->name, err)) ||
        (rc = copy_option("source", opt->source, res->source, sizeof res->source, err)) ||
        (rc = copy_option("unit", opt->unit, res->unit, sizeof res->unit, err)))
        return rc;
    res->format = format;
    res->frequency = s->frequency;
    res->points = s->points;
    res->n_points = s->n_points;
    res->missing_count = s->missing;
    res->provisional_count = s->provisional;
    s->points = NULL;
    store_points_sha256(res->points, res->n_points, res->sha256);
    return FW_OK;
}

int import_buffer(const char *data, size_t len, const struct import_options *options,
                  struct import_result **out, fw_error *err)
{
    static const struct import_options defaults = {0};
    const struct import_options *opt = options ? options : &defaults;
    size_t max_bytes = opt->max_bytes ? opt->max_bytes : IMPORT_DEFAULT_MAX_BYTES;
    struct series s = {0};
    struct import_result *res = NULL;
    int rc;

    if (len > max_bytes)
        return fw_error_set(err, FW_ETOOBIG,
                            "the input is %zu bytes, over the import limit of %zu bytes", len,
                            max_bytes);
    if (!data && len > 0)
        return fw_error_set(err, FW_EINVAL, "no input");
    if ((rc = check_encoding(data, len, err)))
        return rc;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) { /* byte order mark */
        data += 3;
        len -= 3;
    }
    size_t first_text = 0;
    while (first_text < len && (ingest_is_blank(data[first_text]) || data[first_text] == '\r' ||
                                data[first_text] == '\n'))
        first_text++;
    if (first_text == len)
        return fw_error_set(err, FW_EINVAL, "line 1, column 1: the input is empty (no data)");
    if (!(res = calloc(1, sizeof *res)))
        return fw_error_set(err, FW_ENOMEM, "out of memory");

    enum import_format format = opt->format ? opt->format : detect(data, len);
    struct line_reader reader = {data, len, 0, 0};
    switch (format) {
    case IMPORT_SILSO_MONTHLY:
        rc = ingest_parse_silso_monthly(&reader, &s, err);
        break;
    case IMPORT_SILSO_YEARLY:
        rc = ingest_parse_silso_yearly(&reader, &s, err);
        break;
    case IMPORT_CSV:
        rc = ingest_parse_csv(&reader, &s, err);
        break;
    case IMPORT_JSON:
        rc = ingest_parse_json(data, len, &s, res, err);
        break;
    default:
        rc = fw_error_set(err, FW_EINVAL, "unknown import format %d", (int)format);
        break;
    }
    if (rc)
        goto cleanup;
    if (s.n_points == 0) {
        if (format == IMPORT_JSON)
            rc = fw_error_set(err, FW_EINVAL, "\"points\" is empty: no data");
        else
            rc = fw_error_set(err, FW_EINVAL, "line %zu, column 1: no data rows in the input",
                              reader.number + 1);
        goto cleanup;
    }
    if (!(rc = finish_result(&s, format, opt, res, err))) {
        *out = res;
        res = NULL;
    }
cleanup:
    series_free(&s);
    import_result_free(res);
    return rc;
}

int import_json_points(const json_t *points, const struct import_options *options,
                       struct import_result **out, fw_error *err)
{
    static const struct import_options defaults = {0};
    struct series s = {.frequency = STORE_FREQ_MONTH};
    struct import_result *res = calloc(1, sizeof *res);
    if (!res)
        return fw_error_set(err, FW_ENOMEM, "out of memory");
    int rc = ingest_json_points(points, &s, err);
    if (!rc && s.n_points == 0)
        rc = fw_error_set(err, FW_EINVAL, "\"points\" is empty: no data");
    if (!rc)
        rc = finish_result(&s, IMPORT_JSON, options ? options : &defaults, res, err);
    series_free(&s);
    if (rc) {
        import_result_free(res);
        return rc;
    }
    *out = res;
    return FW_OK;
}

void import_result_free(struct import_result *result)
{
    if (!result)
        return;
    free(result->points);
    free(result);
}

int import_file(const char *path, const struct import_options *options, struct import_result **out,
                fw_error *err)
{
    size_t max_bytes =
        options && options->max_bytes ? options->max_bytes : IMPORT_DEFAULT_MAX_BYTES;
    fw_error local = {0}; /* every message below gets the path in front */
    char *buf = NULL;
    size_t len = 0, cap;
    struct stat st;
    int rc = FW_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fw_error_set(err, errno == ENOENT ? FW_ENOTFOUND : FW_EIO, "%s: %s", path,
                            strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = fw_error_set(&local, FW_EIO, "%s", strerror(errno));
        goto cleanup;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = fw_error_set(&local, FW_EINVAL, "is a directory");
        goto cleanup;
    }
    /* A regular file is judged by its size before a byte is read; anything else (a pipe) is
     * read up to the limit plus one byte. */
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max_bytes) {
        rc = fw_error_set(&local, FW_ETOOBIG,
                          "the file is %jd bytes, over the import limit of %zu bytes",
                          (intmax_t)st.st_size, max_bytes);
        goto cleanup;
    }
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
    if (cap > max_bytes + 1)
        cap = max_bytes + 1;
    if (!(buf = malloc(cap))) {
        rc = fw_error_set(&local, FW_ENOMEM, "out of memory reading the file");
        goto cleanup;
    }
    for (;;) {
        if (len == cap) {
            if (len > max_bytes)
                break;
            size_t new_cap = cap * 2 > max_bytes + 1 ? max_bytes + 1 : cap * 2;
            char *p = realloc(buf, new_cap);
            if (!p) {
                rc = fw_error_set(&local, FW_ENOMEM, "out of memory reading the file");
                goto cleanup;
            }
            buf = p;
            cap = new_cap;
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            rc = fw_error_set(&local, FW_EIO, "%s", strerror(errno));
            goto cleanup;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    if (len > max_bytes) {
        rc = fw_error_set(&local, FW_ETOOBIG, "the input is over the import limit of %zu bytes",
                          max_bytes);
        goto cleanup;
    }
    rc = import_buffer(buf, len, options, out, &local);
cleanup:
    if (rc)
        fw_error_set(err, rc, "%s: %s", path, local.msg);
    free(buf);
    close(fd);
    return rc;
}
