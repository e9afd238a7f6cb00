/* dataset_cache — stored datasets' values read once (see dataset_cache.h). */
#include "core/dataset_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_DATASETS 16

struct cached_dataset {
    struct month_series series; /* series.dataset_id 0: an empty slot */
    unsigned long long last_used;
};

struct dataset_cache {
    pthread_mutex_t lock;
    struct cached_dataset entries[CACHE_DATASETS];
    unsigned long long clock;
    unsigned long long forgotten; /* bumped by every forget: a load that raced one is dropped */
};

int dataset_cache_create(struct dataset_cache **out)
{
    struct dataset_cache *c = calloc(1, sizeof *c);
    if (!c)
        return FW_ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return FW_OK;
}

void dataset_cache_destroy(struct dataset_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < CACHE_DATASETS; i++)
        month_series_free(&c->entries[i].series);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Under the lock: a copy of the cached entry, or FW_ENOTFOUND. */
static int lookup(struct dataset_cache *c, int64_t id, struct month_series *out)
{
    for (size_t i = 0; i < CACHE_DATASETS; i++)
        if (c->entries[i].series.dataset_id == id) {
            c->entries[i].last_used = ++c->clock;
            return month_series_copy(&c->entries[i].series, out);
        }
    return FW_ENOTFOUND;
}

/* Under the lock: keeps fresh (taking its values) unless a forget raced the load or another
 * thread cached it first; the least recently used entry makes room. */
static void keep(struct dataset_cache *c, struct month_series *fresh, unsigned long long generation)
{
    struct cached_dataset *slot = c->forgotten == generation ? &c->entries[0] : NULL;
    for (size_t i = 0; slot && i < CACHE_DATASETS; i++) {
        if (c->entries[i].series.dataset_id == fresh->dataset_id) {
            slot = NULL;
            break;
        }
        if (c->entries[i].last_used < slot->last_used)
            slot = &c->entries[i];
    }
    if (slot) {
        month_series_free(&slot->series);
        slot->series = *fresh;
        slot->last_used = ++c->clock;
        fresh->values = NULL;
    }
}

int dataset_cache_get(struct dataset_cache *c, sqlite3 *db, int64_t id, struct month_series *out,
                      fw_error *err)
{
    pthread_mutex_lock(&c->lock);
    int rc = lookup(c, id, out);
    unsigned long long generation = c->forgotten;
    pthread_mutex_unlock(&c->lock);
    if (rc != FW_ENOTFOUND)
        return rc;
    if (!db)
        return fw_error_set(err, FW_EDB, "the database is not available");
    struct month_series fresh;
    if ((rc = month_series_from_dataset(db, id, &fresh, err)))
        return rc;
    if ((rc = month_series_copy(&fresh, out))) {
        month_series_free(&fresh);
        return rc;
    }
    pthread_mutex_lock(&c->lock);
    keep(c, &fresh, generation);
    pthread_mutex_unlock(&c->lock);
    month_series_free(&fresh);
    return FW_OK;
}

void dataset_cache_forget(struct dataset_cache *c, int64_t id)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < CACHE_DATASETS; i++)
        if (c->entries[i].series.dataset_id == id) {
            month_series_free(&c->entries[i].series);
            memset(&c->entries[i], 0, sizeof c->entries[i]);
        }
    c->forgotten++;
    pthread_mutex_unlock(&c->lock);
}
