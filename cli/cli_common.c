/* cli_common — helpers shared by the subcommands (see cli.h). */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>

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
