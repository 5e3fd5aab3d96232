/*
 * count_split.c - the split DP of the count bound (docs/method.md section
 * 5.6): over (stage, position), for a threshold T on the slowest stage,
 * the least fill x sum of stage bounds + comm x the least transfers with
 * every stage bound at most T; the least over the thresholds that matter
 * of that plus steady x max(T, the largest least transfer); and the plan
 * read back from the split and the fronts' points.
 *
 * With tj >= 0 stage tj's cost also counts its tail (the TPI's tail x
 * the largest stage tail is at least tail x stage tj's), through
 * Lagrange multipliers of its "seconds <= T" (c->Aj): its cost then falls
 * as T grows, by at most the largest multiplier (steady) per second, so
 * that on each interval between thresholds the least is still at its
 * left end (or at xmax, where steady x max(T, xmax) starts to grow).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "count_internal.h"

/* stage i's cost on [a, b) at threshold T (HUGE_VAL: not allowed); *mx
 * its bound under T. Stage tj's: at least fill x its seconds, and for
 * each multiplier lambda >= 0 at least the least of (fill + lambda) x
 * seconds + tail x its tail, minus lambda T (its seconds are at most T). */
static double stage_cost(const cb_ctx *c, int tj, int i, int a, int b, double T, double *mx)
{
    double ab = c->A[AIX(c, c->sig_of[i], a, b)];
    *mx = ab;
    if (ab > T)
        return HUGE_VAL;
    double v = c->w.fill * ab;
    for (int l = 0; i == tj && l < CB_LAMBDAS; l++) {
        double g = c->Aj[(size_t)l * (c->L + 1) + (i == 0 ? b : a)];
        v = fmax(v, c->lambda[l] > 0 ? g - c->lambda[l] * T : g);
    }
    return v;
}

/* The least cost over splits whose every stage bound (but tj's) is at
 * most T (HUGE_VAL: none); minmax 1: the least slowest stage instead.
 * keep 1: the split's stage starts in c->par. */
static double split_dp(cb_ctx *c, double T, int minmax, int keep, int tj)
{
    int L = c->L, D = c->D;
    double *cur = c->dp, *nx = c->nx, mx;
    for (int b = 0; b <= L; b++)
        cur[b] = HUGE_VAL;
    for (int b = 1; b <= L - (D - 1); b++) {
        double v = stage_cost(c, tj, 0, 0, b, T, &mx);
        if (v != HUGE_VAL)
            cur[b] = minmax ? mx : v;
    }
    for (int i = 1; i < D; i++) {
        int sp = c->t->boundary_spans_nodes[i - 1] ? 1 : 0;
        for (int b = 0; b <= L; b++)
            nx[b] = HUGE_VAL;
        /* the last stage ends at L; the others leave a layer per stage */
        for (int b = i == D - 1 ? L : i + 1; b <= L - (D - 1 - i); b++)
            for (int a = b - 1; a >= i && b - a <= c->span; a--) {
                if (cur[a] == HUGE_VAL)
                    continue;
                double ab = stage_cost(c, tj, i, a, b, T, &mx);
                if (ab == HUGE_VAL)
                    continue;
                double v = minmax ? fmax(cur[a], mx) : cur[a] + c->w.comm * c->olb[sp][a - 1] + ab;
                if (v < nx[b]) {
                    nx[b] = v;
                    if (keep)
                        c->par[(size_t)i * (L + 1) + b] = a;
                }
            }
        double *tmp = cur;
        cur = nx;
        nx = tmp;
    }
    c->dp = cur;
    c->nx = nx;
    return cur[L];
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The stage bounds in (t_min, HUGE_VAL) that could still give less than
 * best, sorted: *v (the caller frees it), *nv. */
static int thresholds(const cb_ctx *c, double t_min, double s_inf, double best, double **v,
                      size_t *nv)
{
    size_t n = (size_t)c->nsig * (c->L + 1) * (c->L + 1), cap = 1024;
    double st = c->w.steady, *vv;
    *nv = 0;
    if (!(*v = malloc(sizeof(double) * cap)))
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound's thresholds");
    for (size_t x = 0; x < n; x++) {
        double a = c->A[x];
        if (!(a > t_min && a != HUGE_VAL && s_inf + st * fmax(a, c->xmax) < best))
            continue;
        if (*nv == cap) {
            if (!(vv = realloc(*v, sizeof(double) * cap * 2))) {
                free(*v);
                return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound");
            }
            *v = vv;
            cap *= 2;
        }
        (*v)[(*nv)++] = a;
    }
    /* below the largest least transfer the cost still falls as T grows
     * (the multipliers' terms): T = xmax is a candidate too */
    if (c->xmax > t_min && *nv < cap && s_inf + st * c->xmax < best)
        (*v)[(*nv)++] = c->xmax;
    qsort(*v, *nv, sizeof(double), by_value);
    return UNIAP_OK;
}

int cb_least_over_thresholds(cb_ctx *c, int tj, double *best, double *at)
{
    double st = c->w.steady, t_min = split_dp(c, HUGE_VAL, 1, 0, tj), *v;
    size_t nv;
    int rc, tried = 0;
    *best = HUGE_VAL;
    *at = HUGE_VAL;
    if (t_min == HUGE_VAL)
        return UNIAP_OK; /* no split fits */
    double s_inf = split_dp(c, HUGE_VAL, 0, 0, tj);
    if (st <= 0) {
        *best = s_inf + st * c->xmax;
        return UNIAP_OK;
    }
    *best = split_dp(c, t_min, 0, 0, tj) + st * fmax(t_min, c->xmax);
    *at = t_min;
    if ((rc = thresholds(c, t_min, s_inf, *best, &v, &nv)) < 0)
        return rc;
    for (size_t x = 0; x < nv; x++) {
        if (x > 0 && v[x] == v[x - 1])
            continue;
        /* every threshold from here on gives at least floor */
        double floor = s_inf + st * fmax(v[x], c->xmax);
        if (floor >= *best)
            break;
        if (tried++ == CB_MAX_THRESHOLDS) {
            *best = floor;
            break;
        }
        double val = split_dp(c, v[x], 0, 0, tj) + st * fmax(v[x], c->xmax);
        if (val < *best) {
            *best = val;
            *at = v[x];
        }
    }
    free(v);
    return UNIAP_OK;
}

static const int *sort_class; /* by_class's layout classes (not reentrant, as GLPK) */

/* layout class, then index: a mix's strategies with the fewest class changes */
static int by_class(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    if (sort_class[x] != sort_class[y])
        return sort_class[x] < sort_class[y] ? -1 : 1;
    return (x > y) - (x < y);
}

/* Stage i's layers of [a, b), kind by kind, on the strategies of the
 * picked points (list: scratch of L). */
static int assign(const cb_ctx *c, const long *pick, int a, int b, int *list, int *strategy_of)
{
    int rc = UNIAP_OK;
    for (int k = 0; k < c->nk; k++) {
        int n = 0;
        for (long x = pick[k]; x >= 0 && c->pool.p[x].parent >= 0; x = c->pool.p[x].parent)
            list[n++] = c->pool.p[x].k;
        sort_class = c->s->class_of;
        qsort(list, (size_t)n, sizeof(int), by_class);
        for (int u = a, at = 0; u < b; u++)
            if (c->kind_of[u] == k) {
                UNIAP_CHECK_GOTO(at < n, rc, out);
                strategy_of[u] = list[at++];
            }
    }
out:
    return rc;
}

int cb_read_plan(cb_ctx *c, double T, int *stage_of, int *strategy_of, int *ok)
{
    int L = c->L, D = c->D, rc = UNIAP_OK;
    int *starts = malloc(sizeof(int) * (D + 1)), *list = malloc(sizeof(int) * L);
    long *pick = malloc(sizeof(long) * c->nk);
    *ok = 0;
    if (!starts || !list || !pick) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound's plan");
        goto free_plan;
    }
    if (split_dp(c, T, 0, 1, -1) == HUGE_VAL)
        goto free_plan;
    starts[D] = L;
    for (int i = D - 1, b = L; i > 0; i--)
        b = starts[i] = c->par[(size_t)i * (L + 1) + b];
    starts[0] = 0;
    for (int i = 0; i < D; i++) {
        int a = starts[i], b = starts[i + 1], sg = c->sig_of[i];
        if (cb_stage_least(c, c->fr, c->minpeak, sg, a, b, HUGE_VAL, pick) == HUGE_VAL)
            goto free_plan;
        for (int u = a; u < b; u++)
            stage_of[u] = i;
        if ((rc = assign(c, pick, a, b, list, strategy_of)) < 0)
            goto free_plan;
    }
    *ok = 1;
free_plan:
    free(starts);
    free(list);
    free(pick);
    return rc;
}
