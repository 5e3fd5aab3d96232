/*
 * table_check.c - the cost table the solver is given, refused before any
 * MILP when a figure is not a number the cost model can produce for a real
 * device (NaN, infinite, negative, a time of 1e-300 s or 1e300 s): such
 * figures either abort GLPK or make it return a meaningless plan.
 */
#include <math.h>

#include "solver_internal.h"

/* The first entry of v[0..n) outside 0 or [lo, hi], or -1. */
static long first_bad(const double *v, size_t n, const unsigned char *allowed, double lo, double hi)
{
    for (size_t a = 0; a < n; a++) {
        double x = v[a];
        if (allowed && !allowed[a])
            continue;
        if (!(x == 0.0 || (x >= lo && x <= hi))) /* NaN fails both */
            return (long)a;
    }
    return -1;
}

/* pair: 0 per-layer entry, 1 pair entry of a class block (reshard), 2
 * pair entry without classes (xstage). */
static int refuse(const uniap_cost_table *t, const char *field, long at, int pair, double v,
                  int seconds)
{
    long K = t->n_strategies, L = t->n_layers, P = t->n_pairs;
    long u = pair ? at / (K * K) : at / K, k = pair ? at / K % K : at % K, q = 0;
    const char *name = t->strategies ? t->strategies[k].name : "";
    char where[200], cls[48] = "";
    if (pair != 2 && t->n_classes > 1) { /* the class block the entry is in */
        q = u / (pair ? P : L);
        u -= q * (pair ? P : L);
        snprintf(cls, sizeof cls, ", device class %ld", q);
    }
    if (pair) /* u is a pair matrix: name the first boundary using it */
        for (long v = 0; v + 1 < L; v++)
            if (t->pair_of[v] == u) {
                u = v;
                break;
            }
    if (pair)
        snprintf(where, sizeof where, "after layer %ld, strategy %ld -> %ld%s", u, k,
                 (long)(at % K), cls);
    else
        snprintf(where, sizeof where, "layer %ld, strategy %ld%s%s%s%s", u, k, name[0] ? " (" : "",
                 name, name[0] ? ")" : "", cls);
    return uniap_err(UNIAP_EINVAL,
                     "cost table of deg %d, c %d: %s %s is %g: expected 0 or a finite number of %s "
                     "in [%g, %g] (check the cluster and profile figures for a unit slip)",
                     t->deg, t->micro_batches, field, where, v, seconds ? "seconds" : "bytes",
                     seconds ? SOLVER_MIN_SECONDS : SOLVER_MIN_BYTES,
                     seconds ? SOLVER_MAX_SECONDS : SOLVER_MAX_BYTES);
}

int solver_table_check(const uniap_cost_table *t)
{
    if (t->deg < 1 || t->micro_batches < 1 || t->n_strategies < 1 || t->n_layers < 1)
        return uniap_err(UNIAP_EINVAL,
                         "cost table: deg %d, c %d, %d strategies, %d layers: all must be >= 1",
                         t->deg, t->micro_batches, t->n_strategies, t->n_layers);
    if (t->n_classes < 1 || !t->stage_class || !t->mem_budget)
        return uniap_err(UNIAP_EINVAL,
                         "cost table of deg %d, c %d: %d device classes: expected 1 "
                         "or more, with a class per stage and a budget per class",
                         t->deg, t->micro_batches, t->n_classes);
    for (int i = 0; i < t->deg; i++)
        if (t->stage_class[i] < 0 || t->stage_class[i] >= t->n_classes)
            return uniap_err(UNIAP_EINVAL,
                             "cost table of deg %d, c %d: stage %d has device class %d: expected "
                             "0..%d",
                             t->deg, t->micro_batches, i, t->stage_class[i], t->n_classes - 1);
    if (!t->pair_of || t->n_pairs < 1 || t->n_pairs > (t->n_layers > 1 ? t->n_layers - 1 : 1))
        return uniap_err(UNIAP_EINVAL,
                         "cost table of deg %d, c %d: %d pair matrices for %d layers: expected "
                         "1..%d",
                         t->deg, t->micro_batches, t->n_pairs, t->n_layers,
                         t->n_layers > 1 ? t->n_layers - 1 : 1);
    for (int u = 0; u + 1 < t->n_layers; u++)
        if (t->pair_of[u] < 0 || t->pair_of[u] >= t->n_pairs)
            return uniap_err(UNIAP_EINVAL,
                             "cost table of deg %d, c %d: the boundary after layer %d uses pair "
                             "matrices %d: expected 0..%d",
                             t->deg, t->micro_batches, u, t->pair_of[u], t->n_pairs - 1);
    size_t K = (size_t)t->n_strategies, Q = (size_t)t->n_classes;
    size_t n = Q * (size_t)t->n_layers * K;
    size_t pairs = (t->n_layers > 1 ? (size_t)t->n_pairs : 0) * K * K;
    const struct {
        const char *name;
        const double *v;
        size_t n;
        int seconds, pair;
    } f[] = {
        {"time", t->time, n, 1, 0},
        {"wgrad", t->wgrad, t->wgrad ? n : 0, 1, 0},
        {"tail", t->tail, n, 1, 0},
        {"mem_states", t->mem_states, n, 0, 0},
        {"mem_act", t->mem_act, n, 0, 0},
        {"mem_peak", t->mem_peak, n, 0, 0},
        {"reshard", t->reshard, Q * pairs, 1, 1},
        {"xstage (inside a node)", t->xstage[0], pairs, 1, 2},
        {"xstage (between nodes)", t->xstage[1], pairs, 1, 2},
    };
    for (size_t q = 0; q < sizeof f / sizeof f[0]; q++) {
        double lo = f[q].seconds ? SOLVER_MIN_SECONDS : SOLVER_MIN_BYTES;
        double hi = f[q].seconds ? SOLVER_MAX_SECONDS : SOLVER_MAX_BYTES;
        long at = first_bad(f[q].v, f[q].n, f[q].pair ? NULL : t->allowed, lo, hi);
        if (at >= 0)
            return refuse(t, f[q].name, at, f[q].pair, f[q].v[at], f[q].seconds);
    }
    /* W is part of the backward: at most half of time (F + B >= W), which
     * keeps a split-backward schedule's fill term p - 2 w >= 0 */
    for (size_t i = 0; t->wgrad && i < n; i++)
        if (t->allowed[i] && t->wgrad[i] > 0.5 * t->time[i] * (1 + 1e-12))
            return uniap_err(UNIAP_EINVAL,
                             "cost table of deg %d, c %d: wgrad entry %zu is %g s, time %g s: "
                             "expected wgrad <= time / 2 (the weight gradient is part of the "
                             "backward)",
                             t->deg, t->micro_batches, i, t->wgrad[i], t->time[i]);
    for (int q = 0; q < t->n_classes; q++) {
        double b = t->mem_budget[q];
        char cls[32] = "";
        if (t->n_classes > 1)
            snprintf(cls, sizeof cls, " of device class %d", q);
        if (!(b >= -SOLVER_MAX_BYTES && b <= SOLVER_MAX_BYTES && (b <= 0 || b >= 1)))
            return uniap_err(UNIAP_EINVAL,
                             "cost table of deg %d, c %d: mem_budget%s is %g bytes per device: "
                             "expected a number in [-%g, 0] (nothing fits) or in [1, %g]",
                             t->deg, t->micro_batches, cls, b, SOLVER_MAX_BYTES, SOLVER_MAX_BYTES);
    }
    return UNIAP_OK;
}

double solver_mem_scale(const uniap_cost_table *t)
{
    double scale = 0;
    for (int q = 0; q < t->n_classes; q++)
        scale = fmax(scale, t->mem_budget[q]);
    return scale > 0 ? scale : 1.0;
}
