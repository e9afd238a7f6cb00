/*
 * model_cache — loaded forecasters lent to requests and jobs: several instances per model, so
 * that concurrent users never share one (a model's workspace is per call), made from the model
 * file's bytes kept once per model. Up to 16 models stay loaded, the least recently used making
 * room; a model whose every instance is lent waits for one to come back.
 *
 * Ownership: the cache owns its instances; acquire lends one until release (which takes it back
 * or frees it when its model was forgotten meanwhile). The cache is thread-safe.
 */
#ifndef FW_MODEL_CACHE_H
#define FW_MODEL_CACHE_H

#include <sqlite3.h>
#include <stdint.h>

#include "base/error.h"
#include "model/forecaster.h"

struct model_cache;

int model_cache_create(struct model_cache **out);
/* Frees every idle instance; none may be lent. Accepts NULL. */
void model_cache_destroy(struct model_cache *c);

/* Resolves "default" (id 0) or an id through db, and lends a forecaster. FW_ENOTFOUND if no such
 * model. */
int model_cache_acquire(struct model_cache *c, sqlite3 *db, int64_t id, int64_t *resolved,
                        struct forecaster **out, fw_error *err);
void model_cache_release(struct model_cache *c, int64_t id, struct forecaster *f);
/* Drops a model's cached instances (after DELETE). */
void model_cache_forget(struct model_cache *c, int64_t id);

#endif
