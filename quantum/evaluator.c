/* evaluator — model circuits through a quantum backend (see evaluator.h). It borrows the
 * backend and allocates only the circuits of one batch, freed before it returns. */
#include "quantum/evaluator.h"

#include <stdlib.h>

static int evaluate(void *ctx, size_t n, int reps, const double *theta, const double *x, double *p0,
                    fw_error *err)
{
    struct backend_evaluator *ev = ctx;
    struct qcircuit *circuits = malloc((n ? n : 1) * sizeof *circuits);
    if (!circuits)
        return FW_ENOMEM;
    size_t nt = 2 * (size_t)(reps + 1);
    for (size_t i = 0; i < n; i++) {
        struct daruan_edge edge = {reps, theta + i * nt, NULL, NULL};
        circuit_from_daruan(&edge, x[i], &circuits[i]);
    }
    int rc = qbackend_run_observed(ev->backend, circuits, n, ev->shots, p0, NULL, ev->poll_seconds,
                                   ev->timeout_seconds, ev->cancel, ev->observer, err);
    free(circuits);
    if (!rc) {
        struct qplan plan;
        qbackend_plan(ev->backend, n, ev->shots, &plan);
        ev->circuits += plan.circuits;
        ev->shots_total += plan.shots_total;
        ev->batches += plan.jobs;
    }
    return rc;
}

struct daruan_evaluator backend_evaluator(struct backend_evaluator *ev)
{
    return (struct daruan_evaluator){evaluate, ev};
}
