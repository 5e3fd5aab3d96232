/*
 * space_solve.c - one candidate over a runtime's space (method.md section
 * 10): each variant of the space (one combination of the runtime's global
 * settings) becomes a compact table holding only the strategies the
 * variant allows somewhere, with its stage rules (solver_rules); the
 * variants are ordered by their heuristic plans and solved in turn by the
 * one-candidate pipeline (milp_solve.c), each against the best plan of
 * the others, so a variant whose bound is strictly above it is pruned and
 * the result is the least TPI over the whole space, ties to the lower
 * variant. Dominance and every other pruning step work unchanged inside
 * a variant's table.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "solver_internal.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* A variant's compact table and rules. */
typedef struct variant_tab {
    uniap_cost_table t;
    solver_rules r;
    int *map;
    double heur, simple; /* its heuristic TPI (DBL_MAX: none) and table bound */
} variant_tab;

static void variant_free(variant_tab *x)
{
    uniap_cost_table_free(&x->t);
    free(x->map);
    free(x->r.marked);
    free(x->r.key);
    memset(x, 0, sizeof(*x));
}

/* Copies the per-layer rows, pair matrices and figures of t for the kept
 * strategies map[0..K2) into x->t (allocated). */
static void copy_rows(const uniap_cost_table *t, const uniap_space_variant *sv, variant_tab *x)
{
    uniap_cost_table *c = &x->t;
    int L = t->n_layers, K = t->n_strategies, K2 = c->n_strategies, Q = t->n_classes;
    int P = t->n_pairs;
    c->micro_batches = t->micro_batches;
    c->micro_batch = t->micro_batch;
    c->global_batch = t->global_batch;
    c->stage_devices = t->stage_devices;
    memcpy(c->stage_class, t->stage_class, sizeof(int) * (size_t)t->deg);
    memcpy(c->run_of, t->run_of, sizeof(int) * (size_t)L);
    memcpy(c->pair_of, t->pair_of, sizeof(int) * (size_t)L);
    memcpy(c->boundary_spans_nodes, t->boundary_spans_nodes, (size_t)t->deg);
    memcpy(c->mem_budget, t->mem_budget, sizeof(double) * (size_t)Q);
    for (int k = 0; k < K2; k++)
        c->strategies[k] = t->strategies[x->map[k]];
    for (int q = 0; q < Q; q++)
        for (int u = 0; u < L; u++)
            for (int k = 0; k < K2; k++) {
                size_t a = uniap_ct_ix(c, q, u, k), b = uniap_ct_ix(t, q, u, x->map[k]);
                c->allowed[a] = t->allowed[b] && sv->allowed[(size_t)u * K + x->map[k]];
                c->time[a] = t->time[b];
                c->wgrad[a] = t->wgrad ? t->wgrad[b] : 0.0;
                c->tail[a] = t->tail[b];
                c->mem_states[a] = t->mem_states[b];
                c->mem_act[a] = t->mem_act[b];
                c->mem_peak[a] = t->mem_peak[b];
            }
    if (L < 2)
        return;
    for (int p = 0; p < P; p++)
        for (int k = 0; k < K2; k++)
            for (int l = 0; l < K2; l++) {
                size_t a = ((size_t)p * K2 + k) * K2 + l,
                       b = ((size_t)p * K + x->map[k]) * K + x->map[l];
                for (int q = 0; q < Q; q++)
                    c->reshard[(size_t)q * P * K2 * K2 + a] = t->reshard[(size_t)q * P * K * K + b];
                c->xstage[0][a] = t->xstage[0][b];
                c->xstage[1][a] = t->xstage[1][b];
            }
}

/* Variant v of sp as a compact table with its rules; x->t.n_layers is 0
 * when the variant allows nothing (not expected: the space drops such
 * variants). */
static int variant_make(const uniap_cost_table *t, const uniap_space *sp, int v, variant_tab *x)
{
    const uniap_space_variant *sv = &sp->v[v];
    int L = t->n_layers, K = t->n_strategies, K2 = 0, rc;
    memset(x, 0, sizeof(*x));
    x->heur = DBL_MAX;
    x->simple = HUGE_VAL;
    if (!(x->map = malloc(sizeof(int) * (size_t)K)))
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for a runtime variant");
    for (int k = 0; k < K; k++) {
        int any = 0;
        for (int u = 0; u < L && !any; u++)
            any = sv->allowed[(size_t)u * K + k];
        if (any)
            x->map[K2++] = k;
    }
    if (K2 == 0)
        return UNIAP_OK;
    if ((rc = uniap_cost_table_alloc_pairs(&x->t, t->deg, K2, L, t->n_classes, t->n_pairs)) < 0)
        return rc;
    copy_rows(t, sv, x);
    x->r = (solver_rules){.sp = sp,
                          .v = v,
                          .orig = t,
                          .map = x->map,
                          .counted = sp->counted,
                          .marked = malloc((size_t)K2),
                          .key = malloc(sizeof(int) * (size_t)K2),
                          .tie = sp->tie,
                          .lo = sv->stage_lo,
                          .hi = sv->stage_hi,
                          .equal_middle = sv->equal_middle,
                          .equal_marked = sv->equal_marked,
                          .min_counted = sv->min_counted};
    if (!x->r.marked || !x->r.key)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for a runtime variant");
    for (int k = 0; k < K2; k++) {
        x->r.marked[k] = sp->marked[x->map[k]];
        x->r.key[k] = sp->key[x->map[k]];
    }
    int tied = 0;
    for (int u = 0; u < L; u++)
        tied += sp->tie[u] >= 0;
    x->r.has_tie = tied >= 2;
    return UNIAP_OK;
}

/* x's table bound and heuristic plan (kept in st, sg when it beats *best:
 * then in t's indices). */
static int variant_heuristic(variant_tab *x, uniap_schedule sched, int per_layer, int *st, int *sg,
                             double *best, int *found)
{
    solver_shape s;
    double work, slowest, tail, h;
    int rc, L = x->t.n_layers, *kg = NULL;
    if (L == 0)
        return UNIAP_OK;
    if ((rc = solver_simple_bounds(&x->t, sched, &work, &slowest, &tail)) < 0)
        return rc;
    x->simple = uniap_schedule_tpi(sched, x->t.micro_batches, x->t.deg, work, slowest, tail);
    if ((rc = solver_shape_build_w(&x->t, per_layer, &x->r, solver_sched_w_terms(sched, &x->t),
                                   &s)) < 0)
        return rc;
    int *pst = malloc(sizeof(int) * (size_t)L);
    kg = malloc(sizeof(int) * (size_t)L);
    if (!pst || !kg) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for a heuristic plan");
        goto free_all;
    }
    if ((rc = solver_heuristic(&x->t, &s, sched, pst, kg, &h)) < 0)
        goto free_all;
    if (rc == 1) {
        x->heur = h;
        if (!*found || h < *best) {
            *found = 1;
            *best = h;
            memcpy(st, pst, sizeof(int) * (size_t)L);
            for (int u = 0; u < L; u++)
                sg[u] = x->map[kg[u]];
        }
    }
    rc = UNIAP_OK;
free_all:
    free(pst);
    free(kg);
    solver_shape_free(&s);
    return rc;
}

/* The variants of sp as compact tables with bounds and heuristics. */
static int make_all(const uniap_cost_table *t, const uniap_space *sp, uniap_schedule sched,
                    int per_layer, variant_tab *xs, int *st, int *sg, double *best, int *found)
{
    int rc = UNIAP_OK;
    if (sp->n_layers != t->n_layers || sp->n_strategies != t->n_strategies)
        return uniap_err(UNIAP_EINVAL,
                         "solver: runtime %s: its space was made for %d layers x %d strategies, "
                         "the table has %d x %d",
                         sp->runtime, sp->n_layers, sp->n_strategies, t->n_layers, t->n_strategies);
    for (int v = 0; v < sp->n_variants && rc == UNIAP_OK; v++)
        if ((rc = variant_make(t, sp, v, &xs[v])) == UNIAP_OK)
            rc = variant_heuristic(&xs[v], sched, per_layer, st, sg, best, found);
    return rc;
}

int solver_space_heuristic(const uniap_cost_table *t, const uniap_space *sp, uniap_schedule sched,
                           int per_layer, int *stage_of, int *strategy_of, double *tpi,
                           double *simple)
{
    variant_tab *xs = calloc((size_t)(sp->n_variants > 0 ? sp->n_variants : 1), sizeof(*xs));
    int found = 0, rc;
    *simple = HUGE_VAL;
    if (!xs)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for %d variants", sp->n_variants);
    rc = make_all(t, sp, sched, per_layer, xs, stage_of, strategy_of, tpi, &found);
    for (int v = 0; v < sp->n_variants; v++) {
        *simple = fmin(*simple, xs[v].simple);
        variant_free(&xs[v]);
    }
    free(xs);
    return rc < 0 ? rc : found;
}

/* What the variants' results add up to (see uniap_solve_space). */
typedef struct space_acc {
    uniap_pair_result best;
    int best_v, best_status, no_plan, pruned, interrupted;
    double bound;
} space_acc;

/* Records variant v's result r (in x's compact indices). */
static void record(space_acc *a, const variant_tab *x, int v, uniap_pair_result *r,
                   uniap_pair_result *out, double *inc)
{
    int has = r->status == UNIAP_SOLVE_OPTIMAL || r->status == UNIAP_SOLVE_FEASIBLE;
    out->nodes += r->nodes;
    if (r->status != UNIAP_SOLVE_INFEASIBLE)
        a->bound = fmin(a->bound, r->bound);
    a->no_plan |= r->status == UNIAP_SOLVE_NO_SOLUTION;
    a->pruned |= r->status == UNIAP_SOLVE_PRUNED;
    if (r->status == UNIAP_SOLVE_INFEASIBLE && r->shortfall < out->shortfall) {
        out->shortfall = r->shortfall;
        out->shortfall_stage = r->shortfall_stage;
    }
    if (has &&
        (a->best_v < 0 || r->tpi < a->best.tpi || (r->tpi == a->best.tpi && v < a->best_v))) {
        for (int u = 0; u < x->t.n_layers; u++)
            r->strategy_of[u] = x->map[r->strategy_of[u]];
        uniap_pair_result_free(&a->best);
        a->best = *r;
        a->best_v = v;
        a->best_status = r->status;
        *inc = fmin(*inc, r->tpi);
        r->stage_of = r->strategy_of = NULL;
    }
    uniap_pair_result_free(r);
}

/* The candidate's status, bound and plan from the variants' (a). */
static void conclude(space_acc *a, uniap_pair_result *out)
{
    if (a->best_v >= 0) {
        out->status = a->best_status == UNIAP_SOLVE_OPTIMAL && !a->interrupted &&
                              a->bound >= a->best.tpi * (1 - 1e-9)
                          ? UNIAP_SOLVE_OPTIMAL
                          : UNIAP_SOLVE_FEASIBLE;
        out->tpi = a->best.tpi;
        out->stage_of = a->best.stage_of;
        out->strategy_of = a->best.strategy_of;
        out->bound = fmin(a->bound, out->tpi);
        out->gap = out->status == UNIAP_SOLVE_OPTIMAL || out->tpi <= 0
                       ? 0
                       : (out->tpi - out->bound) / out->tpi;
        a->best.stage_of = a->best.strategy_of = NULL;
    } else if (a->no_plan || a->interrupted) {
        out->status = UNIAP_SOLVE_NO_SOLUTION;
        out->bound = a->bound < HUGE_VAL ? a->bound : 0;
    } else if (a->pruned) {
        out->status = UNIAP_SOLVE_PRUNED;
        out->bound = a->bound;
    } else {
        out->status = UNIAP_SOLVE_INFEASIBLE;
    }
}

/* Variant a is solved before b: lower heuristic TPI, then lower table
 * bound, then lower index. */
static int before(const variant_tab *xs, int a, int b)
{
    if (xs[a].heur != xs[b].heur)
        return xs[a].heur < xs[b].heur;
    if (xs[a].simple != xs[b].simple)
        return xs[a].simple < xs[b].simple;
    return a < b;
}

int solver_solve_space(const uniap_cost_table *t, const uniap_space *sp,
                       const uniap_solve_options *o, double shortfall_cutoff,
                       uniap_pair_result *out)
{
    int nv = sp->n_variants, L = t->n_layers, rc, found = 0;
    variant_tab *xs = calloc((size_t)(nv > 0 ? nv : 1), sizeof(*xs));
    int *order = malloc(sizeof(int) * (size_t)(nv > 0 ? nv : 1));
    int *st = malloc(sizeof(int) * (size_t)L), *sg = malloc(sizeof(int) * (size_t)L);
    space_acc a = {.best_v = -1, .bound = HUGE_VAL};
    double heur = DBL_MAX, t0 = now();

    memset(out, 0, sizeof(*out));
    out->deg = t->deg;
    out->micro_batches = t->micro_batches;
    out->shortfall = HUGE_VAL;
    out->shortfall_stage = -1;
    if (!xs || !order || !st || !sg) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for %d variants", nv);
        goto free_all;
    }
    if ((rc = solver_table_check(t)) < 0 ||
        (rc = make_all(t, sp, o->schedule, o->formulation == UNIAP_FORM_PER_LAYER, xs, st, sg,
                       &heur, &found)) < 0)
        goto free_all;
    for (int v = 0; v < nv; v++)
        order[v] = v;
    for (int p = 1; p < nv; p++)
        for (int q = p; q > 0 && before(xs, order[q], order[q - 1]); q--) {
            int tmp = order[q];
            order[q] = order[q - 1];
            order[q - 1] = tmp;
        }
    double inc = o->incumbent_tpi > 0 ? o->incumbent_tpi : DBL_MAX;
    inc = fmin(inc, heur);
    for (int p = 0; p < nv; p++) {
        variant_tab *x = &xs[order[p]];
        if (x->t.n_layers == 0)
            continue;
        if (solver_interrupted()) { /* the variants left: their table bound */
            a.interrupted = 1;
            a.bound = fmin(a.bound, x->simple);
            continue;
        }
        uniap_solve_options oi = *o;
        uniap_pair_result r;
        oi.incumbent_tpi = inc < DBL_MAX ? inc : 0;
        double cut = shortfall_cutoff; /* the closest shortfall so far, here or elsewhere */
        if (out->shortfall < HUGE_VAL)
            cut = cut > 0 ? fmin(cut, out->shortfall) : out->shortfall;
        if ((rc = solver_solve_pair_rules(&x->t, &x->r, &oi, cut, &r)) < 0)
            goto free_all;
        record(&a, x, order[p], &r, out, &inc);
    }
    conclude(&a, out);
    rc = UNIAP_OK;
free_all:
    uniap_pair_result_free(&a.best);
    for (int v = 0; v < nv && xs; v++)
        variant_free(&xs[v]);
    free(xs);
    free(order);
    free(st);
    free(sg);
    out->seconds = now() - t0;
    if (rc < 0)
        uniap_pair_result_free(out);
    return rc;
}

int uniap_solve_space(const uniap_cost_table *t, const uniap_space *sp,
                      const uniap_solve_options *o, uniap_pair_result *out)
{
    return solver_solve_space(t, sp, o, 0, out);
}
