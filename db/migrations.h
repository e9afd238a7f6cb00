/*
 * migrations — the schema migrations compiled into the binary.
 *
 * The table is generated at build time by deploy/embed-migrations.sh from migrations/NNNN_name.sql
 * (build/gen/migrations_sql.c), in ascending version order. The strings are static and owned by
 * the program; db_migrate() (db/db.h) applies them.
 */
#ifndef FW_DB_MIGRATIONS_H
#define FW_DB_MIGRATIONS_H

struct migration {
    int version;      /* NNNN of the file name */
    const char *name; /* the file name without ".sql", e.g. "0001_init" */
    const char *sql;  /* the whole file */
};

extern const struct migration db_migrations[];
extern const int db_migration_count;

#endif
