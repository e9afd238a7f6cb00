/*
 * cli — the `fwpcast` subcommands. Each `cmd_*` takes the arguments after its own name
 * (argv[0] is the subcommand name), prints to stdout/stderr and returns a process exit code
 * (0 success, 1 failure, 2 usage error). The helpers here are shared by the commands.
 */
#ifndef FW_CLI_H
#define FW_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/error.h"

/* Foundation commands (cli/cmd_data.c). */
int cmd_init(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_datasets(int argc, char **argv);

/* Model commands (cli/cmd_model.c). */
int cmd_architectures(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_forecast(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import_model(int argc, char **argv);

/* Comparisons (cli/cmd_compare.c). */
int cmd_compare(int argc, char **argv);
int cmd_benchmark(int argc, char **argv);

/* The cycle hindcast suite (cli/cmd_hindcast.c). */
int cmd_hindcast(int argc, char **argv);

/* Quantum commands (cli/cmd_quantum.c). */
int cmd_qcompare(int argc, char **argv);

/* Service commands (cli/cmd_serve.c). */
int cmd_serve(int argc, char **argv);
int cmd_healthcheck(int argc, char **argv);

/* The database path: the --db value if given, else $FWPCAST_DB, else "var/fwpcast.db".
 * Returns a borrowed string. */
const char *cli_db_path(const char *flag_value);

/* The directory holding the bundled data files: $FWPCAST_DATA if set, else "data".
 * Returns a borrowed string. */
const char *cli_data_dir(void);

/* Reads a whole file (at most max bytes) into a malloc'd buffer, followed by a NUL byte that
 * *len does not count. */
int cli_read_file(const char *path, size_t max, uint8_t **data, size_t *len, fw_error *err);

/* Writes a file atomically: a temporary file in the same directory, then rename. */
int cli_write_file(const char *path, const void *data, size_t len, fw_error *err);

int cli_file_exists(const char *path);

/* Prints a JSON value (stolen) on one line of stdout, numbers round-tripping; 1 on failure. */
int cli_print_json(json_t *value);

/* A whole-string integer in [min, max], or a finite number; 0 on success, -1 otherwise. */
int cli_parse_long(const char *text, long min, long max, long *out);
int cli_parse_double(const char *text, double *out);

/* Prints "fwpcast <cmd>: <message>" to stderr; returns 1 (the failure exit code). */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
