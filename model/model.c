/* model — the architecture registry and the shared parts of the model interface (model.h). */
#include "model/model.h"
#include "model/gqkan_fwp.h"
#include "model/lstm.h"
#include "model/rnn.h"
#include "model/wavenet_lstm.h"
#include "model/esn.h"
#include "model/ensemble.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One line per architecture (kept so: clang-format would pack them). */
/* clang-format off */
static const struct model_ops *const registry[] = {
    &gqkan_fwp_ops,
    &gqkan_fwp_linear_ops,
    &gqkanfwp_ops,
    &gqkan_qfwp_ops,
    &qfwp_ops,
    &lstm_ops,
    &rnn_ops,
    &wavenet_lstm_ops,
    &esn_ops,
    &ensemble_ops,
};
/* clang-format on */

const struct model_ops *model_find(const char *name)
{
    for (size_t i = 0; i < model_registry_count(); i++)
        if (name && !strcmp(registry[i]->name, name))
            return registry[i];
    return NULL;
}

size_t model_registry_count(void)
{
    return sizeof registry / sizeof registry[0];
}

const struct model_ops *model_registry_at(size_t i)
{
    return i < model_registry_count() ? registry[i] : NULL;
}

int model_create(const char *architecture, const char *config_text, uint64_t seed,
                 struct model **out, fw_error *err)
{
    const struct model_ops *ops = model_find(architecture);
    if (!ops)
        return fw_error_set(err, FW_ENOTFOUND,
                            "unknown architecture '%s' (fwpcast architectures lists them)",
                            architecture ? architecture : "(none)");
    struct model_config cfg;
    int rc = config_parse(&cfg, config_text, err);
    if (rc)
        return rc;
    struct model *m = NULL;
    rc = ops->create(&cfg, seed, &m, err);
    if (rc)
        return rc;
    rc = config_check_unused(&cfg, err);
    if (rc) {
        model_destroy(m);
        return rc;
    }
    m->config = cfg;
    *out = m;
    return FW_OK;
}

void model_destroy(struct model *m)
{
    if (m)
        m->ops->destroy(m);
}

int model_forward(struct model *m, const struct model_batch *b, int training, struct model_run *run,
                  double *out)
{
    return m->ops->forward(m, b, training, run, out);
}

int model_backward(struct model *m, struct model_run *run, const double *dout)
{
    return m->ops->backward(m, run, dout);
}

void model_zero_grad(struct model *m)
{
    memset(m->grads, 0, m->n_params * sizeof *m->grads);
}

void model_params_changed(struct model *m)
{
    if (m->ops->params_changed)
        m->ops->params_changed(m);
}

static size_t tensor_size(const struct tensor_info *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++)
        n *= (size_t)t->shape[d];
    return n;
}

int model_alloc_tensors(struct model *m, const struct tensor_info *list, size_t count)
{
    struct tensor_info *tensors = malloc(count * sizeof *tensors);
    if (!tensors)
        return FW_ENOMEM;
    size_t n_params = 0, n_buffers = 0;
    for (size_t i = 0; i < count; i++) {
        tensors[i] = list[i];
        if (list[i].kind == TENSOR_TRAINED) {
            tensors[i].offset = n_params;
            n_params += tensor_size(&list[i]);
        } else if (list[i].kind == TENSOR_BUFFER) {
            tensors[i].offset = n_buffers;
            n_buffers += tensor_size(&list[i]);
        }
    }
    double *params = calloc(n_params ? n_params : 1, sizeof *params);
    double *grads = calloc(n_params ? n_params : 1, sizeof *grads);
    double *buffers = calloc(n_buffers ? n_buffers : 1, sizeof *buffers);
    if (!params || !grads || !buffers) {
        free(params), free(grads), free(buffers), free(tensors);
        return FW_ENOMEM;
    }
    m->tensors = tensors;
    m->n_tensors = count;
    m->params = params;
    m->grads = grads;
    m->buffers = buffers;
    m->n_params = n_params;
    m->n_buffers = n_buffers;
    return FW_OK;
}

const struct tensor_info *model_tensor(const struct model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name))
            return &m->tensors[i];
    return NULL;
}

double *model_tensor_data(struct model *m, const char *name)
{
    const struct tensor_info *t = model_tensor(m, name);
    if (!t || t->kind == TENSOR_CONST || t->kind == TENSOR_UNUSED)
        return NULL;
    return (t->kind == TENSOR_TRAINED ? m->params : m->buffers) + t->offset;
}

void model_init_linear(rng *r, double *weight, double *bias, int in, int out)
{
    double bound = 1.0 / sqrt((double)in);
    for (int k = 0; k < in * out; k++)
        weight[k] = rng_uniform_range(r, -bound, bound);
    for (int k = 0; k < out; k++)
        bias[k] = rng_uniform_range(r, -bound, bound);
}
