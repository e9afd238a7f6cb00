/*
 * gqkan_fwp_internal — private to the gqkan_fwp*.c files: the gated family's model struct, its
 * workspace and the functions the files share. The model is split by concern:
 *   gqkan_fwp.c       options, tensors, initialisation, workspace, the registry entries;
 *   gqkan_fwp_slow.c  the slow programmer (distinct values, its evaluation cache, backward);
 *   gqkan_fwp_fast.c  the fast programmer on one window (QKAN edges, linear layer, VQC);
 *   gqkan_fwp_pass.c  the forward and backward passes: the recursion paths, the window tasks,
 *                     the head, the quantum forward.
 * Not for use outside them (the model's interface is gqkan_fwp.h and model.h).
 */
#ifndef FW_GQKAN_FWP_INTERNAL_H
#define FW_GQKAN_FWP_INTERNAL_H

#include "model/daruan.h"
#include "model/fwp.h"
#include "model/gqkan_fwp.h"
#include "model/layers.h"
#include "model/pool.h"
#include "model/qkan.h"
#include "model/vqc.h"

#include <stddef.h>
#include <stdint.h>

/* scan: one recursion over the batch's span (fwp_scan, the default); parallel: each window's
 * closed form; sequential: each window's recursion step by step. All three are exact. */
enum { RECURRENCE_SCAN, RECURRENCE_PARALLEL, RECURRENCE_SEQUENTIAL };

/* The slow programmer's vector loops see the distinct values in multiples of 8 (the widest
 * vector), so every value goes through the vectorised path and its result never depends on
 * where it falls in a batch (a scalar tail would round differently). This is what makes the
 * evaluation cache below exact. */
#define VALUE_PAD 8

/* Evaluation cache of the slow programmer: with fixed parameters its outputs (a, b, gate) are a
 * pure function of a month's value, and real series repeat values (SILSO's 3,333 months hold
 * 1,600 distinct ones), so forecasts compute each value once. Cleared whenever the parameters
 * change. Open addressing on the value's bits. */
#define MEMO_SLOTS 8192

struct slow_memo {
    size_t count;
    uint64_t keys[MEMO_SLOTS];
    unsigned char used[MEMO_SLOTS];
    double *rows; /* MEMO_SLOTS x (na + nb + 1) */
};

/* Per-thread scratch for the per-window paths (parallel, sequential). */
struct thread_scratch {
    /* the fast QKAN's edges of one window: angles, inputs, outputs and gradients */
    double *edge_theta, *edge_x, *edge_y, *edge_dtheta, *edge_dx, *trig;
    double *a, *b, *g; /* gathered rows: L x na, L x nb, L */
    double *tmp;       /* L x max(na, nb) + 3 na nb */
    double *states;    /* sequential recurrence: L x na x nb */
    double *vqc;       /* FAST_VQC: the simulator's scratch */
};

/* Sized by the batch's span of months (and so its distinct values). */
struct span_arrays {
    size_t cap;
    int *u_of_month;          /* span: index into uvals */
    double *uvals;            /* nu <= span */
    double *uvals_spare;      /* nu: the evaluation cache's misses */
    double *z, *silu, *dsilu; /* ds x nu */
    double *q;                /* ds x nu */
    double *rt;               /* nu x dh */
    double *at, *bt, *gate;   /* nu x na, nu x nb, nu */
    double *dat, *dbt, *dgt;  /* nu x na, nu x nb, nu */
    double *drt;              /* nu x dh */
    double *dq, *dz;          /* ds x nu */
    double *mda, *mdb, *mdg;  /* span x na, span x nb, span: per-month recursion gradients */
};

/* Sized by the number of windows. */
struct window_arrays {
    size_t cap;
    size_t *starts, *rel_start;        /* n: as given, and relative to the span */
    double *w, *p;                     /* n x L (per-window paths) */
    double *theta, *G;                 /* n x na x nb: programmed angles, their gradient */
    double *u, *h;                     /* n x fin, n x fout: fast QKAN in and out */
    double *bn_out, *xhat, *mask, *dh; /* n x fout */
    double *dwp, *dbp;                 /* n x fin */
    double *dA, *dB, *dG;              /* n x L x {na, nb, 1} (per-window paths) */
};

struct workspace {
    size_t nu, span, lo, n;
    int mode; /* the recursion path of the last forward (RECURRENCE_*) */
    int threads;
    struct span_arrays sp;
    struct window_arrays win;
    double *inv_std;  /* fout */
    double *qkan_acc; /* the slow QKAN's gradient accumulator */
    struct thread_scratch *scratch;
    struct fwp_scan scan;
};

/* The family (paper.md §1.1): which slow and fast programmers, and whether the write is gated. */
enum slow_kind { SLOW_HQKAN, SLOW_LINEAR };
enum fast_kind { FAST_QKAN, FAST_LINEAR, FAST_VQC };

struct variant {
    enum slow_kind slow;
    enum fast_kind fast;
    int gated;  /* 0: the original QFWP's additive update theta_t = theta_{t-1} + a_t b_t^T */
    int hidden; /* default width of the slow programmer's output r */
};

struct gqkan {
    struct model base;
    struct slow_memo *memo; /* evaluation cache (NULL until the first evaluation) */
    struct variant kind;
    int L, H, ds, dh, fin, fout, rs, rf, na, nb;
    int use_bn, recurrence, slow_preacts;
    struct vqc vqc; /* FAST_VQC: its qubits, depth and measured outputs (= fout) */
    enum daruan_readout readout;
    double dropout, gate_bias;
    /* parameter views */
    double *w1, *b1, *w2, *b2, *wa, *ba, *wb, *bb, *wg, *bg, *wp, *bp, *gamma, *beta, *wo, *bo;
    struct qkan_layer slow;
    struct qkan_work slow_work;
    struct batchnorm bn;
    /* the last training forward, for backward */
    const double *input;
    int have_forward;
    struct workspace ws;
};

static inline double *grad_of(struct gqkan *m, const double *param)
{
    return m->base.grads + (param - m->base.params);
}

/* What the pool tasks of a pass see. */
struct task_ctx {
    struct gqkan *m;
    const double *input;
    int defer_fast; /* window tasks stop before the fast programmer (forward_quantum) */
};

/* gqkan_fwp.c: sizes the workspace for n windows over a span of months and threads. */
int gqkan_ensure_workspace(struct gqkan *m, size_t n, size_t span, int threads);

/* gqkan_fwp_slow.c */
/* The batch's span of months, its distinct values (padded to VALUE_PAD) and each month's value
 * index; sizes the workspace. */
int gqkan_index_values(struct gqkan *m, const struct model_batch *b, int threads);
/* The slow programmer for every distinct value: r, then a, b and the gate (1 when ungated). */
void gqkan_slow_forward(struct gqkan *m, struct pool *pool, struct task_ctx *ctx);
/* The same in evaluation, through the evaluation cache (the same numbers). */
void gqkan_slow_forward_cached(struct gqkan *m, struct pool *pool, struct task_ctx *ctx);
/* Empties the evaluation cache (memo may be NULL). */
void gqkan_memo_clear(struct slow_memo *memo);
/* Per-month recursion gradients summed per distinct value; the gate's through its sigmoid. */
void gqkan_value_gradients(struct gqkan *m);
/* From the per-value gradients of a, b and the gate logit down to the slow parameters. */
void gqkan_slow_backward(struct gqkan *m, struct pool *pool, struct task_ctx *ctx);

/* gqkan_fwp_fast.c */
/* The fast QKAN's edges of one window into the scratch: angles from theta, inputs u. */
void gqkan_gather_edges(const struct gqkan *m, const double *theta, const double *u,
                        struct thread_scratch *s);
/* The fast programmer with programmed theta on input u (fin): its outputs h (fout). */
void gqkan_fast_forward(const struct gqkan *m, const double *theta, const double *u, double *h,
                        struct thread_scratch *s);
/* Its gradients from dh: G (na x nb) and du (fin), both overwritten. */
void gqkan_fast_backward(const struct gqkan *m, const double *theta, const double *u,
                         const double *dh, double *G, double *du, struct thread_scratch *s);

/* gqkan_fwp_pass.c: the model_ops entries */
int gqkan_forward(struct model *base, const struct model_batch *b, int training,
                  struct model_run *run, double *out);
int gqkan_forward_quantum(struct model *base, const struct model_batch *b,
                          const struct daruan_evaluator *ev, int *readout, double *out,
                          fw_error *err);
int gqkan_backward(struct model *base, struct model_run *run, const double *dout);

#endif
