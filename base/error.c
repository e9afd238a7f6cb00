/* error — status codes and messages (see error.h). */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

int fw_error_set(fw_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void fw_error_clear(fw_error *err)
{
    if (err) {
        err->code = FW_OK;
        err->msg[0] = '\0';
    }
}

const char *fw_strerror(int code)
{
    switch (code) {
    case FW_OK:
        return "ok";
    case FW_ENOMEM:
        return "out of memory";
    case FW_EINVAL:
        return "invalid input";
    case FW_EIO:
        return "input/output error";
    case FW_ENOTFOUND:
        return "not found";
    case FW_ECORRUPT:
        return "corrupt data";
    case FW_EVERSION:
        return "unsupported version";
    case FW_ECONFLICT:
        return "conflict";
    case FW_ECANCELLED:
        return "cancelled";
    case FW_EDB:
        return "database error";
    case FW_ERANGE:
        return "value out of range";
    case FW_ETOOBIG:
        return "input too large";
    case FW_ENOSPC:
        return "no space left on the disk";
    default:
        return "unknown error";
    }
}
