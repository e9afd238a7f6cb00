/*
 * import_store — a series given as text (ingest/import.h) stored as a new dataset: parse, then
 * store_dataset_create() in one transaction, so a failed import writes nothing. Joins the
 * caller's transaction when one is open (db_tx_begin). Everything passed in is borrowed.
 */
#ifndef FW_IMPORT_STORE_H
#define FW_IMPORT_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "ingest/import.h"

/* Parses, then stores the dataset (store_dataset_create) in one transaction; *id receives the
 * new dataset's id. The dataset needs a name: from the options or the JSON body (FW_EINVAL
 * otherwise). FW_ECONFLICT if the name is taken. On any failure the database is unchanged. */
int import_buffer_to_store(sqlite3 *db, const char *data, size_t len,
                           const struct import_options *options, int64_t *id, fw_error *err);
int import_file_to_store(sqlite3 *db, const char *path, const struct import_options *options,
                         int64_t *id, fw_error *err);

/* Stores an already parsed result as a new dataset, as import_buffer_to_store() does. */
int import_result_to_store(sqlite3 *db, const struct import_result *result, int64_t *id,
                           fw_error *err);

#endif
