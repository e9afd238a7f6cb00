/* job_request — what a queued job asked for, as stored text (see job_request.h). */
#include "core/job_request.h"
#include "base/period.h"
#include "core/json_text.h"
#include "core/model_json.h"
#include "model/ensemble.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int job_request_train_recipe(const json_t *request, struct train_options *t, fw_error *err)
{
    static const char *const numbers[] = {"weight_decay", "warmup", "decay_fraction", "final_lr"};
    double *targets[] = {&t->weight_decay, &t->warmup, &t->decay_fraction, &t->final_lr};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        const json_t *v = json_object_get(request, numbers[i]);
        if (!v || json_is_null(v))
            continue;
        if (!json_is_number(v))
            return fw_error_set(err, FW_EINVAL, "'%s' must be a number", numbers[i]);
        *targets[i] = json_number_value(v);
    }
    const json_t *opt = json_object_get(request, "optimizer");
    if (opt && !json_is_null(opt) && optim_kind_parse(json_string_value(opt), &t->optimizer))
        return fw_error_set(err, FW_EINVAL, "'optimizer' must be \"adam\", \"adamw\" or \"lion\"");
    const json_t *schedule = json_object_get(request, "schedule");
    if (schedule && !json_is_null(schedule) &&
        lr_schedule_parse(json_string_value(schedule), &t->schedule))
        return fw_error_set(err, FW_EINVAL,
                            "'schedule' must be \"constant\", \"linear\" or \"wsd\"");
    return train_options_check(t, err);
}

/* One {"architecture", "seeds"} entry of "members" (entry i of a list, or -1). */
static int add_member_group(struct ensemble_spec *spec, const json_t *g, int i, fw_error *err)
{
    char where[32] = "'members'";
    if (i >= 0)
        snprintf(where, sizeof where, "'members'[%d]", i);
    const char *key;
    json_t *v;
    if (!json_is_object(g))
        return fw_error_set(err, FW_EINVAL, "%s must be an object {\"architecture\", \"seeds\"}",
                            where);
    json_object_foreach((json_t *)g, key, v)
    {
        if (strcmp(key, "architecture") && strcmp(key, "seeds"))
            return fw_error_set(err, FW_EINVAL, "%s: unknown member '%.60s'", where, key);
    }
    const char *arch = json_string_value(json_object_get(g, "architecture"));
    const json_t *seeds = json_object_get(g, "seeds");
    if (!arch)
        return fw_error_set(err, FW_EINVAL, "%s: 'architecture' (a string) is required", where);
    uint64_t list[ENSEMBLE_MAX_MEMBERS];
    size_t n = 0;
    int rc = FW_OK;
    if (json_is_string(seeds)) {
        fw_error inner = {0};
        if ((rc = ensemble_seeds_parse(json_string_value(seeds), 0x7fffffff, list, &n, &inner)))
            fw_error_set(err, rc, "%s: %s", where, inner.msg);
    } else if (json_is_array(seeds) && json_array_size(seeds) <= ENSEMBLE_MAX_MEMBERS) {
        for (size_t k = 0; !rc && k < json_array_size(seeds); k++) {
            const json_t *s = json_array_get(seeds, k);
            json_int_t x = json_integer_value(s);
            if (!json_is_integer(s) || x < 0 || x > 0x7fffffff)
                rc = fw_error_set(err, FW_EINVAL, "%s: seeds must be integers in 0..2147483647",
                                  where);
            list[n++] = (uint64_t)x;
        }
    } else {
        rc = fw_error_set(err, FW_EINVAL,
                          "%s: 'seeds' must be \"A-B\" or a list of at most %d integers", where,
                          ENSEMBLE_MAX_MEMBERS);
    }
    fw_error inner = {0};
    if (!rc && (rc = ensemble_spec_add(spec, arch, list, n, &inner)))
        fw_error_set(err, rc, "%s: %s", where, inner.msg);
    return rc;
}

int job_request_ensemble_config(const json_t *body, char *text, size_t size, fw_error *err)
{
    const json_t *members = json_object_get(body, "members"), *keep = json_object_get(body, "keep");
    members = json_is_null(members) ? NULL : members;
    keep = json_is_null(keep) ? NULL : keep;
    text[0] = '\0';
    if (!members && !keep)
        return FW_OK;
    const char *arch = json_string_value(json_object_get(body, "architecture"));
    if (!arch || strcmp(arch, "ensemble"))
        return fw_error_set(err, FW_EINVAL,
                            "'members' and 'keep' are for \"architecture\": \"ensemble\"");
    if (!members)
        return fw_error_set(err, FW_EINVAL, "'keep' needs 'members'");
    struct ensemble_spec spec;
    memset(&spec, 0, sizeof spec);
    int rc = FW_OK;
    if (json_is_array(members) && json_array_size(members) == 0)
        return fw_error_set(err, FW_EINVAL, "'members' is an empty list");
    if (json_is_array(members))
        for (size_t i = 0; !rc && i < json_array_size(members); i++)
            rc = add_member_group(&spec, json_array_get(members, i), (int)i, err);
    else
        rc = add_member_group(&spec, members, -1, err);
    if (rc)
        return rc;
    json_int_t k = json_integer_value(keep);
    if (keep && (!json_is_integer(keep) || k < 1 || k > (json_int_t)spec.n_members))
        return fw_error_set(err, FW_EINVAL, "'keep' must be an integer in 1..%zu (the members)",
                            spec.n_members);
    return ensemble_spec_config(&spec, keep ? (long)k : 0, text, size, err);
}

int job_request_train_decode(const char *request_json, struct train_job *tj, fw_error *err)
{
    json_error_t jerr;
    json_t *o = json_loads(request_json ? request_json : "", 0, &jerr);
    if (!json_is_object(o)) {
        json_decref(o);
        return fw_error_set(err, FW_ECORRUPT, "the job's request is not a JSON object");
    }
    memset(tj, 0, sizeof *tj);
    const char *arch = json_string_value(json_object_get(o, "architecture"));
    snprintf(tj->architecture, sizeof tj->architecture, "%s", arch ? arch : "gated-qkan-fwp");
    tj->rq.architecture = tj->architecture;
    train_options_default(&tj->rq.train);
    tj->rq.train.epochs = (int)json_integer_value(json_object_get(o, "epochs"));
    tj->rq.train.seed = (uint64_t)json_integer_value(json_object_get(o, "seed"));
    json_t *bs = json_object_get(o, "batch_size"), *lr = json_object_get(o, "lr");
    if (json_is_integer(bs))
        tj->rq.train.batch_size = (int)json_integer_value(bs);
    if (json_is_number(lr))
        tj->rq.train.lr = json_number_value(lr);
    fw_error recipe_err = {0};
    if (job_request_train_recipe(o, &tj->rq.train, &recipe_err)) {
        json_decref(o);
        return fw_error_set(err, FW_ECORRUPT, "the job's request: %s", recipe_err.msg);
    }
    const char *protocol = json_string_value(json_object_get(o, "protocol"));
    series_protocol_parse(protocol ? protocol : "live", &tj->rq.protocol);
    tj->rq.cutoff_month = -1;
    const char *cutoff = json_string_value(json_object_get(o, "cutoff"));
    if (cutoff)
        period_parse(cutoff, &tj->rq.cutoff_month);
    tj->dataset_id = json_integer_value(json_object_get(o, "dataset"));
    int rc = FW_OK;
    const json_t *cfg = json_object_get(o, "config");
    char extra[900] = "";
    if (cfg)
        rc = model_json_config_text(cfg, extra, sizeof extra, err);
    /* window and horizon: top-level members, unless the config object has them already */
    size_t used = 0;
    const char *dims[2] = {"window", "horizon"};
    tj->config[0] = '\0';
    for (int i = 0; i < 2; i++) {
        const json_t *v = json_object_get(o, dims[i]);
        if (json_is_integer(v) && !json_object_get(cfg, dims[i]))
            used += (size_t)snprintf(tj->config + used, sizeof tj->config - used, "%s%s=%lld",
                                     used ? ";" : "", dims[i], (long long)json_integer_value(v));
    }
    char ensemble[160];
    if (!rc)
        rc = job_request_ensemble_config(o, ensemble, sizeof ensemble, err);
    if (!rc && ensemble[0])
        used += (size_t)snprintf(tj->config + used, sizeof tj->config - used, "%s%s",
                                 used ? ";" : "", ensemble);
    if (extra[0])
        snprintf(tj->config + used, sizeof tj->config - used, "%s%s", used ? ";" : "", extra);
    tj->rq.config = tj->config;
    const char *name = json_string_value(json_object_get(o, "name"));
    if (name)
        snprintf(tj->name, sizeof tj->name, "%s", name);
    tj->make_default = json_is_true(json_object_get(o, "default"));
    json_decref(o);
    return rc;
}

/* NULL out of memory. */
static json_t *number_array(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, isnan(v[i]) ? json_null() : json_real(v[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

char *job_request_quantum_encode(const struct quantum_job *q)
{
    char first[PERIOD_TEXT_MAX];
    period_format(q->first_month, first);
    const struct qbackend_request *b = &q->backend;
    json_t *o = json_pack(
        "{s:I, s:s, s:o, s:I, s:o, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "model",
        (json_int_t)q->model, "first_month", first, "values", number_array(q->values, q->n), "h",
        (json_int_t)q->h, "level", number_array(q->levels, q->n_levels), "backend", b->name,
        "shots", (json_int_t)b->shots, "seed", (json_int_t)b->seed, "qubit", (json_int_t)b->qubit,
        "circuits", (json_int_t)q->plan.circuits, "shots_total", (json_int_t)q->plan.shots_total,
        "jobs", (json_int_t)q->plan.jobs);
    int failed = !o;
    failed = failed ||
             json_object_set_new(o, "dataset", q->dataset ? json_integer(q->dataset) : json_null());
    failed = failed || json_object_set_new(o, "noise", string_or_null(b->noise));
    failed = failed || json_object_set_new(o, "device", string_or_null(b->device));
    char *text = failed ? NULL : json_text(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    return text;
}

static int not_quantum(fw_error *err)
{
    return fw_error_set(err, FW_ECORRUPT, "the job's request is not a quantum forecast");
}

static json_int_t int_member(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

int job_request_quantum_decode(const char *text, struct quantum_job *q, fw_error *err)
{
    memset(q, 0, sizeof *q);
    json_t *o = q->doc = json_loads(text ? text : "", 0, NULL);
    const json_t *values = json_object_get(o, "values"), *levels = json_object_get(o, "level");
    const char *first = json_string_value(json_object_get(o, "first_month"));
    q->n = json_array_size(values);
    if (!first || period_parse(first, &q->first_month) || q->n == 0 || !json_is_array(levels))
        return not_quantum(err);
    if (!(q->values = malloc(q->n * sizeof *q->values)))
        return FW_ENOMEM;
    for (size_t i = 0; i < q->n; i++) {
        const json_t *v = json_array_get(values, i);
        q->values[i] = json_is_number(v) ? json_number_value(v) : NAN;
    }
    for (size_t i = 0; i < json_array_size(levels) && i < FORECAST_MAX_LEVELS; i++)
        q->levels[q->n_levels++] = json_number_value(json_array_get(levels, i));
    q->model = int_member(o, "model");
    q->dataset = int_member(o, "dataset");
    q->h = (size_t)int_member(o, "h");
    q->backend =
        (struct qbackend_request){.name = json_string_value(json_object_get(o, "backend")),
                                  .shots = (int)int_member(o, "shots"),
                                  .noise = json_string_value(json_object_get(o, "noise")),
                                  .seed = (uint64_t)int_member(o, "seed"),
                                  .device = json_string_value(json_object_get(o, "device")),
                                  .qubit = (int)int_member(o, "qubit")};
    q->plan = (struct qplan){(size_t)int_member(o, "circuits"), (size_t)int_member(o, "jobs"),
                             (uint64_t)int_member(o, "shots_total")};
    return q->h > 0 && q->backend.name ? FW_OK : not_quantum(err);
}

void job_request_quantum_free(struct quantum_job *q)
{
    if (!q)
        return;
    free(q->values);
    json_decref(q->doc);
    memset(q, 0, sizeof *q);
}
