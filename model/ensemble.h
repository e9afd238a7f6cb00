/*
 * ensemble — the `ensemble` architecture: several independently trained members (any registered
 * architectures but `ensemble` itself) served as one model whose forecast is their mean. One seed
 * of a high-variance model is not a forecast; the mean of many is (docs/MODELS.md, "Ensembles").
 *
 * Config (model/config.h; values at most 47 characters):
 *   members=ARCH.COUNT[+ARCH.COUNT...]  the members in order, 1..64 in all (default
 *                                       gated-qkan-fwp.10); an unknown architecture, a count of
 *                                       0 and a nested ensemble are FW_EINVAL
 *   seeds=A[-B][+A[-B]...]              one seed per member in member order, as '+'-joined
 *                                       ranges; absent: member k gets the create seed + k. The
 *                                       resolved config always carries it (so a model file says
 *                                       which seeds its members came from). The same
 *                                       architecture twice with one seed is refused (identical
 *                                       members).
 *   keep=K                              1..members (default all): training keeps the K members
 *                                       with the lowest best-validation loss (model/fit.h)
 *   kept=xHEX                           written by training when it dropped members: bit k set
 *                                       = member k of `members` was kept (popcount = keep). A
 *                                       config with it builds only the kept members, in order.
 *   anything else                       given to every member (window, horizon, hidden, ...);
 *                                       an option no member reads is an error, as for any model.
 *
 * A single-architecture ensemble's resolved config also carries its members' resolved options
 * (every default). A mixed one carries only the options given: each member resolves its own
 * defaults, which differ between architectures (and one key cannot hold two defaults), and a
 * default one architecture adds would be an option the other never reads.
 *
 * Layout: member k's tensors are its own with the prefix "members.K." (K = its index in this
 * model), its parameters and buffers the next slices of the flat arrays, in member order (member
 * k's parameters start at the sum of the n_params of the members before it). So the model file
 * format and the JSON export need nothing new.
 *
 * forward (evaluation only) is the members' mean in the scaled space, out = (o_0 + o_1 + ... +
 * o_{N-1}) / N summed in member order; a training forward and backward are FW_EINVAL (an
 * ensemble is trained member by member, model/fit.h). params_changed pushes the flat arrays into
 * the members. forward_quantum averages the members' quantum forwards, and refuses when a member
 * has none. The ensemble owns its members.
 */
#ifndef FW_ENSEMBLE_H
#define FW_ENSEMBLE_H

#include "model/model.h"

#define ENSEMBLE_MAX_MEMBERS 64

extern const struct model_ops ensemble_ops;

/* Members of an ensemble; 0 if m is not one (or NULL). */
size_t ensemble_size(const struct model *m);

/* Member k (borrowed; NULL if m is not an ensemble or k is out of range), and its seed. */
struct model *ensemble_member(struct model *m, size_t k);
uint64_t ensemble_member_seed(const struct model *m, size_t k);

/* How many members training keeps (the keep option). */
size_t ensemble_keep(const struct model *m);

/* Every member's evaluation-mode output: out[(k * b->n + i) * horizon + j] for member k, window
 * i (n_members x n x horizon), so a caller can report the members' median and spread. */
int ensemble_member_forward(struct model *m, const struct model_batch *b, struct model_run *run,
                            double *out);

/* The members' parameters and buffers were changed in place (training): copies them into the
 * flat arrays. */
void ensemble_members_changed(struct model *m);

/* Replaces *m by the ensemble of the members whose bit is set in mask (in order), with their
 * weights, its config recording the selection as kept=; *m is destroyed on success. The mask must
 * have keep bits set and the ensemble must not be a selection already. */
int ensemble_select(struct model **m, uint64_t mask, fw_error *err);

/* --- the members= and seeds= values (ensemble_spec.c) ------------------------------------- */

/* Reads members=: ops[k] is member k's architecture (room for ENSEMBLE_MAX_MEMBERS). */
int ensemble_members_parse(const char *text, const struct model_ops **ops, size_t *n,
                           fw_error *err);

/* Writes seeds as '+'-joined ranges (runs of consecutive seeds become A-B). FW_ERANGE if it does
 * not fit size. */
int ensemble_seeds_format(const uint64_t *seeds, size_t n, char *text, size_t size);

/* Building the options from a request (the API's and the CLI's). */

struct ensemble_spec {
    size_t n_groups, n_members;
    const char *arch[ENSEMBLE_MAX_MEMBERS]; /* per group: a registry name (static) */
    size_t count[ENSEMBLE_MAX_MEMBERS];     /* per group */
    uint64_t seeds[ENSEMBLE_MAX_MEMBERS];   /* per member */
};

/* Reads seeds as '+'- or ','-joined A or A-B (A <= B), each at most max, into seeds (room for
 * ENSEMBLE_MAX_MEMBERS). */
int ensemble_seeds_parse(const char *text, uint64_t max, uint64_t *seeds, size_t *n, fw_error *err);

/* Appends a group of members of one architecture with these seeds: the architecture must be
 * registered and not `ensemble`, n >= 1, 64 members in all at most, no seed twice for one
 * architecture. Borrows nothing (arch is looked up in the registry). */
int ensemble_spec_add(struct ensemble_spec *s, const char *arch, const uint64_t *seeds, size_t n,
                      fw_error *err);

/* "ARCH:SEEDS" (the CLI's --members), seeds at most max. */
int ensemble_spec_add_text(struct ensemble_spec *s, const char *text, uint64_t max, fw_error *err);

/* The config text "members=...;seeds=..." plus ";keep=K" when keep > 0 (keep must be in
 * 1..members). FW_EINVAL naming the value when one does not fit a config value. */
int ensemble_spec_config(const struct ensemble_spec *s, long keep, char *text, size_t size,
                         fw_error *err);

#endif
