/*
 * count_seq.c - the count bound's exact price of a stage of one kind of
 * layer (docs/method.md section 5.6): the layers in sequence, each on a
 * strategy, each change of layout class between adjacent layers at its
 * least (layout classes are strategies that reshard alike, so the change
 * depends on the two classes only). For each signature, kind and first
 * class f, Pareto fronts of (bytes, seconds + changes) over the layer
 * count by the class of the last layer (count_front.c, cb_seq_build); a
 * stage on [a, b) of that kind starting on f and ending on l costs at
 * least the least point of its front under the budget (SQ). The
 * class-aware split prices such stages from SQ instead of the variants'
 * bounds (count_split.c); the plan reads the layers back along the
 * points' parent links, in their order. Within CB_PAIR_CLASSES classes
 * and a work limit of its own; past them, or when SQ would not fit
 * CB_MAX_VARIANT_RANGES, left out (c->seq_ok 0).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "count_internal.h"

/* The least change between classes of adjacent layers of each kind, on
 * each device class: c->rk. */
static int kind_changes(cb_ctx *c)
{
    const uniap_cost_table *t = c->t;
    int C = c->C, K = c->K, nq = t->n_classes;
    size_t CC = (size_t)C * C, n = (size_t)c->nk * nq * CC;
    if (!(c->rk = malloc(sizeof(double) * n)))
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound");
    for (size_t x = 0; x < n; x++)
        c->rk[x] = HUGE_VAL;
    for (int u = 0; u + 1 < c->L; u++) {
        int kd = c->kind_of[u];
        if (c->kind_of[u + 1] != kd)
            continue;
        const unsigned char *uk = &c->s->usable[(size_t)c->group_of[u] * K];
        const unsigned char *ul = &c->s->usable[(size_t)c->group_of[u + 1] * K];
        for (int q = 0; q < nq; q++) {
            double *r = &c->rk[((size_t)kd * nq + q) * CC];
            for (int k = 0; k < K; k++)
                for (int l = 0; uk[k] && l < K; l++) {
                    int y = c->s->class_of[k], x = c->s->class_of[l];
                    if (ul[l] && y != x)
                        r[y * C + x] = fmin(r[y * C + x], t->reshard[uniap_ct_pair(t, q, u, k, l)]);
                }
        }
    }
    return UNIAP_OK;
}

/* SQ's blocks (the starts and ends of avbox, C^2 (first, last) each):
 * its size. */
static size_t place_seq(cb_ctx *c)
{
    size_t total = 0;
    for (int sg = 0; sg < c->nsig; sg++) {
        const int *box = &c->avbox[4 * sg];
        c->sqoff[sg] = total;
        total += (size_t)c->C * c->C * box[1] * box[3];
    }
    return total;
}

/* The sequence fronts of every (signature, kind, first class); 1: past
 * the work limits. */
static int build_seq(cb_ctx *c)
{
    const uniap_cost_table *t = c->t;
    int C = c->C, K = c->K, N = c->span + 1, rc = UNIAP_OK;
    cb_item *items = malloc(sizeof(cb_item) * K);
    if (!items)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound");
    for (int sg = 0; sg < c->nsig && rc == UNIAP_OK; sg++)
        for (int kd = 0; kd < c->nk && rc == UNIAP_OK; kd++) {
            int u = c->kind_rep[kd], q = c->sig_q[sg], ni = 0;
            int total = c->pre[(size_t)c->L * c->nk + kd];
            int nmax = total < c->span ? total : c->span;
            double cap = cb_cap_of(c, sg), peak = HUGE_VAL;
            for (int k = 0; k < K; k++) { /* the CB_ANY front's items */
                size_t x = uniap_ct_ix(t, q, u, k);
                double m = t->mem_states[x] + c->sig_f[sg] * t->mem_act[x];
                if (!c->s->usable[(size_t)c->group_of[u] * K + k] || !t->allowed[x] ||
                    m + t->mem_peak[x] > cap)
                    continue;
                items[ni++] = (cb_item){m, t->time[x], k};
                peak = fmin(peak, t->mem_peak[x]);
            }
            const double *chg = &c->rk[((size_t)kd * t->n_classes + q) * C * C];
            for (int f = 0; f < C && rc == UNIAP_OK && ni; f++) {
                size_t at = (((size_t)sg * c->nk + kd) * C + f) * C * N;
                rc = cb_seq_build(&c->pool, items, ni, c->s->class_of, C, f, nmax, N, cap - peak,
                                  chg, &c->sq_lo[at], &c->sq_hi[at]);
            }
        }
    free(items);
    return rc;
}

/* The least change from strategy e of layer 0 to each class of layer 1
 * (jl[(q*K+e)*C+y]) and from each class of layer L - 2 to strategy h of
 * layer L - 1 (jt[(q*C+x)*K+h]): where a first or a last layer of its own
 * kind meets the run. */
static int junctions(cb_ctx *c)
{
    const uniap_cost_table *t = c->t;
    int C = c->C, K = c->K, nq = t->n_classes, L = c->L;
    size_t n = (size_t)nq * K * C;
    c->jl = malloc(sizeof(double) * n);
    c->jt = malloc(sizeof(double) * n);
    if (!c->jl || !c->jt)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound");
    for (size_t x = 0; x < n; x++)
        c->jl[x] = c->jt[x] = HUGE_VAL;
    for (int q = 0; q < nq && L >= 2; q++)
        for (int e = 0; e < K; e++)
            for (int k = 0; k < K; k++) {
                double *l = &c->jl[((size_t)q * K + e) * C + c->s->class_of[k]];
                double *r = &c->jt[((size_t)q * C + c->s->class_of[e]) * K + k];
                *l = fmin(*l, t->reshard[uniap_ct_pair(t, q, 0, e, k)]);
                *r = fmin(*r, t->reshard[uniap_ct_pair(t, q, L - 2, e, k)]);
            }
    return UNIAP_OK;
}

/* Layer u's bytes (states and in-flight activations) and seconds on
 * strategy k in signature sg; 0 when it may not take it or it alone
 * exceeds the budget. */
static int layer_item(const cb_ctx *c, int sg, int u, int k, double *m, double *sec)
{
    const uniap_cost_table *t = c->t;
    size_t x = uniap_ct_ix(t, c->sig_q[sg], u, k);
    *m = t->mem_states[x] + c->sig_f[sg] * t->mem_act[x];
    *sec = t->time[x];
    return c->s->usable[(size_t)c->group_of[u] * c->K + k] && t->allowed[x] &&
           *m + t->mem_peak[x] <= cb_cap_of(c, sg);
}

/* The sequence front point of kind kd's run of n layers from class f to
 * class l with bytes at most r (-1: none). */
static long run_point(const cb_ctx *c, int sg, int kd, int f, int l, int n, double r)
{
    size_t at = ((((size_t)sg * c->nk + kd) * c->C + f) * c->C + l) * (c->span + 1) + n;
    return cb_range_query(&c->pool, c->sq_lo[at], c->sq_hi[at], r);
}

/* The SQ price of [a, b) from class f to class l (HUGE_VAL: none fits or
 * not priced): *pt the run's point, *ek the strategy of the lone first or
 * last layer (-1: one kind). */
static double seq_price(const cb_ctx *c, int sg, int f, int l, int a, int b, long *pt, int *ek)
{
    int shape = cb_seq_shape(c, a, b), C = c->C, K = c->K, q = c->sig_q[sg];
    int lone = shape == 2 ? a : b - 1, run = shape == 2 ? a + 1 : a, kd = c->kind_of[run];
    double best = HUGE_VAL, cap = cb_cap_of(c, sg), m, sec;
    *pt = -1, *ek = -1;
    if (!shape)
        return HUGE_VAL;
    double r = cap - c->minpeak[FRONT(c, sg, kd, CB_ANY)];
    if (shape == 1) {
        *pt = run_point(c, sg, kd, f, l, b - a, r);
        return *pt < 0 ? HUGE_VAL : c->pool.p[*pt].t;
    }
    r = fmin(r, cap - c->minpeak[FRONT(c, sg, c->kind_of[lone], CB_ANY)]);
    for (int e = 0; e < K; e++) {
        if (c->s->class_of[e] != (shape == 2 ? f : l) || !layer_item(c, sg, lone, e, &m, &sec))
            continue;
        for (int y = 0; y < C; y++) { /* the run's class next to the lone layer */
            double j = shape == 2 ? c->jl[((size_t)q * K + e) * C + y]
                                  : c->jt[((size_t)q * C + y) * K + e];
            long x = j == HUGE_VAL ? -1
                     : shape == 2  ? run_point(c, sg, kd, y, l, b - a - 1, r - m)
                                   : run_point(c, sg, kd, f, y, b - a - 1, r - m);
            if (x >= 0 && sec + j + c->pool.p[x].t < best) {
                best = sec + j + c->pool.p[x].t;
                *pt = x, *ek = e;
            }
        }
    }
    return best;
}

/* SQ from the fronts: each range of one kind in a signature's box, or of
 * one kind after a first layer or before a last layer of its own. */
static void fill_seq(cb_ctx *c)
{
    int C = c->C;
    for (int sg = 0; sg < c->nsig; sg++) {
        const int *box = &c->avbox[4 * sg];
        for (int a = box[0]; a < box[0] + box[1]; a++)
            for (int b = box[2]; b < box[2] + box[3]; b++)
                for (int f = 0; f < C; f++)
                    for (int l = 0; l < C; l++) {
                        long pt;
                        int ek;
                        double v = b > a && b - a <= c->span
                                       ? seq_price(c, sg, f, l, a, b, &pt, &ek)
                                       : HUGE_VAL;
                        c->SQ[c->sqoff[sg] +
                              (((size_t)f * C + l) * box[1] + (a - box[0])) * box[3] +
                              (b - box[2])] = v;
                    }
    }
}

int cb_seq_prepare(cb_ctx *c)
{
    int C = c->C, rc;
    c->seq_ok = 0;
    if (!c->AV || C < 2 || C > CB_PAIR_CLASSES)
        return UNIAP_OK;
    if (!(c->sqoff = malloc(sizeof(size_t) * c->nsig)))
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound");
    size_t total = place_seq(c);
    if (total > CB_MAX_VARIANT_RANGES)
        return UNIAP_OK;
    size_t nf = (size_t)c->nsig * c->nk * C * C * (c->span + 1);
    c->sq_lo = malloc(sizeof(long) * nf);
    c->sq_hi = malloc(sizeof(long) * nf);
    c->SQ = malloc(sizeof(double) * (total ? total : 1));
    if (!c->sq_lo || !c->sq_hi || !c->SQ)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound's sequences");
    for (size_t x = 0; x < nf; x++)
        c->sq_lo[x] = c->sq_hi[x] = 0;
    if ((rc = kind_changes(c)) < 0 || (rc = junctions(c)) < 0)
        return rc;
    long work = c->pool.work, points = c->pool.n;
    c->pool.work = 0;
    rc = build_seq(c);
    c->pool.work = work;
    if (rc == 1) { /* past the limit: without them */
        c->pool.n = points;
        return UNIAP_OK;
    }
    if (rc < 0)
        return rc;
    fill_seq(c);
    c->seq_ok = 1;
    return UNIAP_OK;
}

int cb_seq_read(const cb_ctx *c, int sg, int f, int l, int a, int b, int *strategy_of)
{
    long x;
    int ek, shape = cb_seq_shape(c, a, b);
    if (seq_price(c, sg, f, l, a, b, &x, &ek) == HUGE_VAL)
        return 0;
    if (shape == 2)
        strategy_of[a++] = ek;
    if (shape == 3)
        strategy_of[--b] = ek;
    /* the run's last layer's point first */
    for (int u = b - 1; u >= a; u--) {
        if (x < 0 || c->pool.p[x].parent < 0)
            return 0;
        strategy_of[u] = c->pool.p[x].k;
        x = c->pool.p[x].parent;
    }
    return 1;
}
