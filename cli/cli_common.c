/* cli_common — helpers shared by the subcommands (see cli.h). */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cli_db_path(const char *flag_value)
{
    if (flag_value && *flag_value)
        return flag_value;
    const char *env = getenv("FWPCAST_DB");
    if (env && *env)
        return env;
    return "var/fwpcast.db";
}

const char *cli_data_dir(void)
{
    const char *env = getenv("FWPCAST_DATA");
    return env && *env ? env : "data";
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fwpcast %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int cli_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int cli_read_file(const char *path, size_t max, uint8_t **data, size_t *len, fw_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fw_error_set(err, errno == ENOENT ? FW_ENOTFOUND : FW_EIO, "%s: %s", path,
                            strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fw_error_set(err, FW_EIO, "%s: not a regular file", path);
    }
    if ((size_t)st.st_size > max) {
        fclose(f);
        return fw_error_set(err, FW_ETOOBIG, "%s: %lld bytes, more than the limit of %zu", path,
                            (long long)st.st_size, max);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size + 1);
    if (!buf) {
        fclose(f);
        return FW_ENOMEM;
    }
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    if (got != size) {
        free(buf);
        return fw_error_set(err, FW_EIO, "%s: short read", path);
    }
    buf[size] = '\0'; /* not counted in len: text can be read as a string */
    *data = buf;
    *len = size;
    return FW_OK;
}

int cli_write_file(const char *path, const void *data, size_t len, fw_error *err)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return FW_ENOMEM;
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return fw_error_set(err, FW_EIO, "%s: %s", path, strerror(e));
    }
    FILE *f = fdopen(fd, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    ok = (f ? fclose(f) == 0 : (close(fd), 0)) && ok;
    if (ok && chmod(tmp, 0644) == 0 && rename(tmp, path) == 0) {
        free(tmp);
        return FW_OK;
    }
    int e = errno;
    unlink(tmp);
    free(tmp);
    return fw_error_set(err, FW_EIO, "%s: %s", path, strerror(e));
}

int cli_parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_double(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || end == text || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int cli_print_json(json_t *value)
{
    if (!value)
        return 1;
    char *text = json_dumps(value, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(value);
    if (!text)
        return 1;
    printf("%s\n", text);
    free(text);
    return 0;
}
