/*
 * evaluator — runs a model's DARUAN circuits on a quantum backend: implements the model
 * interface's daruan_evaluator by turning each edge into its circuit (circuit_from_daruan) and
 * running the batch through qbackend_run. Counts what it ran, for the cost report. The
 * evaluator borrows its backend; the caller owns both.
 */
#ifndef FW_EVALUATOR_H
#define FW_EVALUATOR_H

#include <stdatomic.h>
#include <stdint.h>

#include "model/model.h"
#include "quantum/backend.h"

struct backend_evaluator {
    struct qbackend *backend;
    int shots;              /* 0 for the exact backend */
    double poll_seconds;    /* first polling interval of a remote job */
    double timeout_seconds; /* per batch */
    const atomic_int *cancel;
    const struct qrun_observer *observer; /* may be NULL */
    /* what was run */
    uint64_t circuits, shots_total, batches;
};

/* The daruan_evaluator view of it (ctx points at ev). */
struct daruan_evaluator backend_evaluator(struct backend_evaluator *ev);

#endif
