/* model_cache — forecasters lent to requests and jobs (see model_cache.h). */
#include "core/model_cache.h"
#include "db/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MODELS        16
#define INSTANCES_PER_MODEL 8

struct cache_entry {
    int64_t id;
    uint8_t *blob; /* the model file, to make more instances */
    size_t blob_len;
    struct forecaster *idle[INSTANCES_PER_MODEL];
    int n_idle, n_total;
    unsigned long long last_used;
};

struct model_cache {
    pthread_mutex_t lock;
    pthread_cond_t returned;
    struct cache_entry entries[CACHE_MODELS];
    unsigned long long clock;
};

int model_cache_create(struct model_cache **out)
{
    struct model_cache *c = calloc(1, sizeof *c);
    if (!c)
        return FW_ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->returned, NULL);
    *out = c;
    return FW_OK;
}

void model_cache_destroy(struct model_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < CACHE_MODELS; i++) {
        struct cache_entry *e = &c->entries[i];
        for (int k = 0; k < e->n_idle; k++)
            forecaster_free(e->idle[k]);
        free(e->blob);
    }
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->returned);
    free(c);
}

static struct cache_entry *cache_find(struct model_cache *c, int64_t id)
{
    for (size_t i = 0; i < CACHE_MODELS; i++)
        if (c->entries[i].id == id)
            return &c->entries[i];
    return NULL;
}

/* A slot for a new model: an empty one, else the least recently used with nothing lent. */
static struct cache_entry *cache_slot(struct model_cache *c)
{
    struct cache_entry *best = NULL;
    for (size_t i = 0; i < CACHE_MODELS; i++) {
        struct cache_entry *e = &c->entries[i];
        if (e->id == 0)
            return e;
        if (e->n_idle == e->n_total && (!best || e->last_used < best->last_used))
            best = e;
    }
    if (best) {
        for (int k = 0; k < best->n_idle; k++)
            forecaster_free(best->idle[k]);
        free(best->blob);
        memset(best, 0, sizeof *best);
    }
    return best;
}

int model_cache_acquire(struct model_cache *c, sqlite3 *db, int64_t id, int64_t *resolved,
                        struct forecaster **out, fw_error *err)
{
    if (!db)
        return fw_error_set(err, FW_EDB, "the database is not available");
    int rc;
    if (id == 0 && (rc = store_model_default_id(db, &id, err)))
        return rc;
    *resolved = id;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        struct cache_entry *e = cache_find(c, id);
        if (e && e->n_idle > 0) {
            *out = e->idle[--e->n_idle];
            e->last_used = ++c->clock;
            pthread_mutex_unlock(&c->lock);
            return FW_OK;
        }
        if (e && e->n_total < INSTANCES_PER_MODEL) {
            /* reserve an instance, then load a copy of the bytes outside the lock (a concurrent
             * forget may free the entry's own) */
            uint8_t *blob = malloc(e->blob_len);
            size_t len = e->blob_len;
            if (blob) {
                memcpy(blob, e->blob, len);
                e->n_total++;
            }
            pthread_mutex_unlock(&c->lock);
            rc = blob ? forecaster_load(blob, len, out, err) : FW_ENOMEM;
            free(blob);
            if (rc && blob) {
                pthread_mutex_lock(&c->lock);
                e->n_total--;
                pthread_mutex_unlock(&c->lock);
            }
            return rc;
        }
        if (e) { /* every instance is lent: wait for one */
            pthread_cond_wait(&c->returned, &c->lock);
            continue;
        }
        pthread_mutex_unlock(&c->lock);
        struct store_model *sm = NULL;
        if ((rc = store_model_get(db, id, &sm, err)))
            return rc;
        struct forecaster *f = NULL;
        rc = forecaster_load(sm->weights, sm->weights_len, &f, err);
        if (rc) {
            store_model_free(sm);
            return rc;
        }
        pthread_mutex_lock(&c->lock);
        e = cache_find(c, id);
        if (!e && (e = cache_slot(c))) {
            e->id = id;
            e->blob = sm->weights; /* keep the bytes to make more instances */
            e->blob_len = sm->weights_len;
            sm->weights = NULL;
        }
        if (e)
            e->n_total++;
        if (e)
            e->last_used = ++c->clock;
        pthread_mutex_unlock(&c->lock);
        store_model_free(sm);
        /* with no slot free (every cached model busy) the instance lives for this request */
        *out = f;
        return FW_OK;
    }
}

void model_cache_release(struct model_cache *c, int64_t id, struct forecaster *f)
{
    pthread_mutex_lock(&c->lock);
    struct cache_entry *e = cache_find(c, id);
    if (e && e->n_idle < e->n_total && e->n_idle < INSTANCES_PER_MODEL) {
        e->idle[e->n_idle++] = f;
        f = NULL;
    }
    pthread_cond_broadcast(&c->returned);
    pthread_mutex_unlock(&c->lock);
    forecaster_free(f);
}

void model_cache_forget(struct model_cache *c, int64_t id)
{
    pthread_mutex_lock(&c->lock);
    struct cache_entry *e = cache_find(c, id);
    if (e) {
        for (int k = 0; k < e->n_idle; k++)
            forecaster_free(e->idle[k]);
        free(e->blob);
        memset(e, 0, sizeof *e); /* instances still lent are freed on release */
    }
    pthread_cond_broadcast(&c->returned);
    pthread_mutex_unlock(&c->lock);
}
