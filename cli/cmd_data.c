/* cmd_data — `fwpcast init`, `fwpcast import`, `fwpcast datasets` (see cli.h). */
#include "cli/cli.h"
#include "db/bootstrap.h"
#include "db/db.h"
#include "db/import_store.h"
#include "db/store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The options the data commands share; NULL/0 when not given. */
struct data_args {
    const char *db;
    const char *name;
    const char *file;
    int json;
    int help;
};

/* Parses argv[1..]: --db PATH, --name NAME (if allow_name), --json (if allow_json), -h, and
 * one positional FILE (if allow_file). Returns 0, or 2 after printing a usage error. */
static int parse_args(const char *cmd, const char *usage, int argc, char **argv, int allow_name,
                      int allow_json, int allow_file, struct data_args *args)
{
    memset(args, 0, sizeof *args);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char **target = NULL;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            args->help = 1;
            printf("usage: %s\n", usage);
            return 0;
        } else if (!strcmp(arg, "--db") || !strncmp(arg, "--db=", 5)) {
            target = &args->db;
        } else if (allow_name && (!strcmp(arg, "--name") || !strncmp(arg, "--name=", 7))) {
            target = &args->name;
        } else if (allow_json && !strcmp(arg, "--json")) {
            args->json = 1;
            continue;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "fwpcast %s: unknown option '%s'\nusage: %s\n", cmd, arg, usage);
            return 2;
        } else if (allow_file && !args->file) {
            args->file = arg;
            continue;
        } else {
            fprintf(stderr, "fwpcast %s: unexpected argument '%s'\nusage: %s\n", cmd, arg, usage);
            return 2;
        }
        const char *eq = strchr(arg, '=');
        if (eq) {
            *target = eq + 1;
        } else if (i + 1 < argc) {
            *target = argv[++i];
        } else {
            fprintf(stderr, "fwpcast %s: %s needs a value\nusage: %s\n", cmd, arg, usage);
            return 2;
        }
    }
    if (allow_file && !args->file) {
        fprintf(stderr, "fwpcast %s: no file given\nusage: %s\n", cmd, usage);
        return 2;
    }
    return 0;
}

/* Opens and migrates the database; prints the failure and returns 1 on error. */
static int open_db(const char *cmd, const char *path, sqlite3 **db, int *applied)
{
    fw_error err = {0};
    int n = 0;
    if (db_open(path, db, &err))
        return cli_fail(cmd, "%s", err.msg);
    if (db_migrate(*db, &n, &err)) {
        db_close(*db);
        *db = NULL;
        return cli_fail(cmd, "%s: %s", path, err.msg);
    }
    if (applied)
        *applied = n;
    return 0;
}

static void print_summary(const struct store_dataset_meta *m)
{
    printf("%lld rows, %s..%s, %lld missing", (long long)m->row_count, m->first_period,
           m->last_period, (long long)m->missing_count);
}

int cmd_init(int argc, char **argv)
{
    static const char usage[] = "fwpcast init [--db PATH]";
    struct data_args args;
    sqlite3 *db = NULL;
    fw_error err = {0};
    struct store_dataset_meta *items = NULL;
    size_t count = 0;
    int64_t before = 0;
    int applied = 0, version = 0, status = 1;
    int rc = parse_args("init", usage, argc, argv, 0, 0, 0, &args);
    if (rc || args.help)
        return rc;
    const char *path = cli_db_path(args.db);
    if (open_db("init", path, &db, &applied))
        return 1;
    if (db_schema_version(db, &version, &err) || store_dataset_count(db, &before, &err)) {
        cli_fail("init", "%s: %s", path, err.msg);
        goto cleanup;
    }
    printf("database %s: schema version %d (%d migration%s applied now)\n", path, version, applied,
           applied == 1 ? "" : "s");
    if (before > 0) {
        printf("it already holds %lld dataset%s; nothing imported\n", (long long)before,
               before == 1 ? "" : "s");
        status = 0;
        goto cleanup;
    }
    if (db_bootstrap_bundled(db, cli_data_dir(), &err)) {
        cli_fail("init", "%s (set FWPCAST_DATA to the directory holding the bundled files)",
                 err.msg);
        goto cleanup;
    }
    if (store_dataset_list(db, &items, &count, &err)) {
        cli_fail("init", "%s", err.msg);
        goto cleanup;
    }
    for (size_t i = 0; i < count; i++) {
        printf("imported dataset %lld %s: ", (long long)items[i].id, items[i].name);
        print_summary(&items[i]);
        printf("\n");
    }
    printf("%s\n", SILSO_CREDIT);
    status = 0;
cleanup:
    free(items);
    db_close(db);
    return status;
}

/* "dir/SN_m_tot_V2.0.csv" -> "SN_m_tot_V2.0" (into out). */
static void default_name(const char *path, char out[STORE_NAME_MAX])
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, STORE_NAME_MAX, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
}

int cmd_import(int argc, char **argv)
{
    static const char usage[] = "fwpcast import FILE [--name NAME] [--db PATH]";
    struct data_args args;
    sqlite3 *db = NULL;
    fw_error err = {0};
    struct import_result *parsed = NULL;
    struct store_dataset_meta meta;
    char name[STORE_NAME_MAX];
    int64_t id;
    int status = 1;
    int rc = parse_args("import", usage, argc, argv, 1, 0, 1, &args);
    if (rc || args.help)
        return rc;
    if (!args.name)
        default_name(args.file, name);
    const char *base = strrchr(args.file, '/');
    struct import_options options = {
        .name = args.name ? args.name : name,
        .source = base ? base + 1 : args.file,
    };
    /* Parse before touching the database: a broken file must not even create it. */
    if (import_file(args.file, &options, &parsed, &err))
        return cli_fail("import", "%s", err.msg); /* names the file already */
    const char *path = cli_db_path(args.db);
    if (open_db("import", path, &db, NULL))
        goto cleanup;
    if (import_result_to_store(db, parsed, &id, &err) ||
        store_dataset_get_meta(db, id, &meta, &err)) {
        cli_fail("import", "%s: %s", args.file, err.msg);
        goto cleanup;
    }
    printf("dataset %lld: ", (long long)id);
    print_summary(&meta);
    printf(" (name %s, %s format, frequency %s)\n", meta.name, import_format_name(parsed->format),
           store_frequency_name(meta.frequency));
    status = 0;
cleanup:
    import_result_free(parsed);
    db_close(db);
    return status;
}

static json_t *meta_json(const struct store_dataset_meta *m)
{
    return json_pack("{s:I, s:s, s:s?, s:s, s:s?, s:s, s:s, s:I, s:I, s:s, s:s}", "id",
                     (json_int_t)m->id, "name", m->name, "source", m->source[0] ? m->source : NULL,
                     "frequency", store_frequency_name(m->frequency), "unit",
                     m->unit[0] ? m->unit : NULL, "first_period", m->first_period, "last_period",
                     m->last_period, "row_count", (json_int_t)m->row_count, "missing_count",
                     (json_int_t)m->missing_count, "sha256", m->sha256, "created_at",
                     m->created_at);
}

static int print_json(const struct store_dataset_meta *items, size_t count)
{
    json_t *array = json_array();
    int rc = array ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        json_t *item = meta_json(&items[i]);
        if (!item || json_array_append_new(array, item))
            rc = -1;
    }
    if (rc == 0 && (json_dumpf(array, stdout, JSON_INDENT(2)) || putchar('\n') == EOF))
        rc = -1;
    json_decref(array);
    return rc;
}

int cmd_datasets(int argc, char **argv)
{
    static const char usage[] = "fwpcast datasets [--db PATH] [--json]";
    struct data_args args;
    sqlite3 *db = NULL;
    fw_error err = {0};
    struct store_dataset_meta *items = NULL;
    size_t count = 0;
    int status = 1;
    int rc = parse_args("datasets", usage, argc, argv, 0, 1, 0, &args);
    if (rc || args.help)
        return rc;
    const char *path = cli_db_path(args.db);
    if (open_db("datasets", path, &db, NULL))
        return 1;
    if (store_dataset_list(db, &items, &count, &err)) {
        cli_fail("datasets", "%s: %s", path, err.msg);
        goto cleanup;
    }
    if (args.json) {
        if (print_json(items, count)) {
            cli_fail("datasets", "cannot write JSON");
            goto cleanup;
        }
    } else if (count == 0) {
        printf("no datasets in %s (run 'fwpcast init' to load the bundled SILSO series)\n", path);
    } else {
        printf("%-4s %-24s %-5s %-8s %-8s %6s %7s  %s\n", "ID", "NAME", "FREQ", "FIRST", "LAST",
               "ROWS", "MISSING", "CREATED");
        for (size_t i = 0; i < count; i++)
            printf("%-4lld %-24s %-5s %-8s %-8s %6lld %7lld  %s\n", (long long)items[i].id,
                   items[i].name, store_frequency_name(items[i].frequency), items[i].first_period,
                   items[i].last_period, (long long)items[i].row_count,
                   (long long)items[i].missing_count, items[i].created_at);
    }
    status = 0;
cleanup:
    free(items);
    db_close(db);
    return status;
}
