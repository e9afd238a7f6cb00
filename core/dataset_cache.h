/*
 * dataset_cache — stored datasets' values, read from the database once: a dataset never changes
 * once created, so the 16 most recently used stay in memory. A forget (after DELETE) drops one,
 * and a load that raced a forget is not kept.
 *
 * Ownership: the cache owns its entries; get hands out a copy the caller owns. Thread-safe.
 */
#ifndef FW_DATASET_CACHE_H
#define FW_DATASET_CACHE_H

#include <sqlite3.h>
#include <stdint.h>

#include "base/error.h"
#include "core/month_series.h"

struct dataset_cache;

int dataset_cache_create(struct dataset_cache **out);
void dataset_cache_destroy(struct dataset_cache *c); /* accepts NULL */

/* A copy of dataset id's series, through db when it is not cached (FW_EDB when db is NULL,
 * FW_ENOTFOUND, or FW_EINVAL if it is not monthly). */
int dataset_cache_get(struct dataset_cache *c, sqlite3 *db, int64_t id, struct month_series *out,
                      fw_error *err);
void dataset_cache_forget(struct dataset_cache *c, int64_t id);

#endif
