/*
 * count_mix.c - the least mixes of the count bound (docs/method.md
 * section 5.6): the Pareto fronts of every (stage signature, kind of
 * layer, variant) built from the cost table, and the least seconds of a
 * stage's layers from them, kind by kind under the stage's memory budget
 * (a variant's mix, and the least over the variants with a class change
 * priced in).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "count_internal.h"

/* Front f of *frs (variant v of kind kd on signature sg), a layer's
 * seconds plus wt x its tail, and its least peak in (*mp)[f]. */
static int build_front(cb_ctx *c, cb_front *frs, double *mp, size_t f, cb_item *items, double wt)
{
    const uniap_cost_table *t = c->t;
    int K = c->K, NV = CB_NV(c);
    int v = (int)(f % NV), kd = (int)(f / NV % c->nk), sg = (int)(f / NV / c->nk);
    int req = v >= CB_REQ_OF(c), cls = req ? v - CB_REQ_OF(c) : v - 1;
    int u = c->kind_rep[kd], q = c->sig_q[sg], ni = 0;
    double cap = cb_cap_of(c, sg), peak = HUGE_VAL;
    for (int k = 0; k < K; k++) {
        size_t x = uniap_ct_ix(t, q, u, k);
        double m = t->mem_states[x] + c->sig_f[sg] * t->mem_act[x];
        if (!c->s->usable[(size_t)c->group_of[u] * K + k] || !t->allowed[x] ||
            (v > 0 && c->s->class_of[k] != cls) || m + t->mem_peak[x] > cap) /* alone over */
            continue;
        items[ni++] = (cb_item){m, t->time[x] + wt * t->tail[x], k};
        peak = fmin(peak, t->mem_peak[x]);
    }
    /* a CB_REQ mix holds a layer of its class: its stage peaks at least at
     * that layer's least peak (>= CB_ANY's) */
    mp[f] = peak;
    if (req)
        return cb_front_build_plus(&c->pool, items, ni, &frs[FRONT(c, sg, kd, CB_ANY)],
                                   ni ? cap - peak : 0, &frs[f]);
    int total = c->pre[(size_t)c->L * c->nk + kd];
    int nmax = ni ? (total < c->span ? total : c->span) : 0;
    return cb_front_build(&c->pool, items, ni, nmax, ni ? cap - peak : 0, &frs[f]);
}

/* the fronts of every (signature, kind, variant) but CB_REQ into *frs,
 * *mp (only signature only_sg when >= 0), a layer's seconds plus wt x
 * its tail; 1: past the work limits */
int cb_build_fronts(cb_ctx *c, cb_front **frs, double **mp, int only_sg, double wt)
{
    int rc = UNIAP_OK, NV = CB_NV(c);
    size_t n = (size_t)c->nsig * c->nk * NV;
    cb_item *items = malloc(sizeof(cb_item) * c->K);
    *frs = calloc(n, sizeof(cb_front));
    *mp = malloc(sizeof(double) * n);
    if (!items || !*frs || !*mp) {
        free(items);
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound");
    }
    c->n_fronts = n;
    for (size_t f = 0; f < n; f++)
        (*mp)[f] = HUGE_VAL;
    for (size_t f = 0; f < n && rc == UNIAP_OK; f++) {
        int sg = (int)(f / NV / c->nk);
        if ((int)(f % NV) < CB_REQ_OF(c) && (only_sg < 0 || sg == only_sg))
            rc = build_front(c, *frs, *mp, f, items, wt);
    }
    free(items);
    return rc;
}

/* The CB_REQ fronts into c->fr, on a work limit of their own: past it
 * they are dropped (c->req_ok 0: a CB_REQ mix is priced as a CB_ANY one,
 * a weaker bound). */
int cb_build_req_fronts(cb_ctx *c)
{
    int rc = UNIAP_OK, NV = CB_NV(c);
    long work = c->pool.work, points = c->pool.n;
    cb_item *items = malloc(sizeof(cb_item) * c->K);
    if (!items)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound");
    c->pool.work = 0;
    for (size_t f = 0; f < c->n_fronts && rc == UNIAP_OK; f++)
        if ((int)(f % NV) >= CB_REQ_OF(c))
            rc = build_front(c, c->fr, c->minpeak, f, items, 0);
    c->req_ok = rc == UNIAP_OK;
    if (rc == 1) { /* past the limit: without them */
        for (size_t f = 0; f < c->n_fronts; f++)
            if ((int)(f % NV) >= CB_REQ_OF(c))
                cb_front_free(&c->fr[f]);
        c->pool.n = points;
        rc = UNIAP_OK;
    }
    c->pool.work = work;
    free(items);
    return rc;
}

/* The least seconds of one point per kind present in [a, b), kind rk's
 * from its fronts of variant v and the others' from CB_ANY (rk -1: all
 * from v), bytes at most the budget less the largest least peak
 * (HUGE_VAL: none fits); with pick, the points. */
static double mix_of(const cb_ctx *c, const cb_front *frs, const double *mp, int sg, int v, int rk,
                     int a, int b, long *pick)
{
    int nk = c->nk, pres[CB_MAX_KINDS], np = 0, main = -1;
    long size = 0, combos = 1;
    double peak = 0;
    const int *lo = &c->pre[(size_t)a * nk], *hi = &c->pre[(size_t)b * nk];
    const cb_front *fr[CB_MAX_KINDS];
    for (int k = 0; k < nk; k++) {
        int n = hi[k] - lo[k];
        if (!n)
            continue;
        size_t fi = FRONT(c, sg, k, rk < 0 || k == rk ? v : CB_ANY);
        const cb_front *f = &frs[fi];
        if (n > f->nmax || f->off[n] == f->off[n + 1])
            return HUGE_VAL;
        long sz = f->off[n + 1] - f->off[n];
        peak = fmax(peak, mp[fi]);
        fr[np] = f;
        pres[np++] = n;
        if (sz > size) {
            size = sz;
            main = np - 1;
        }
    }
    double cap = cb_cap_of(c, sg) - peak;
    for (int j = 0; j < np && combos <= CB_MAX_COMBOS; j++)
        if (j != main)
            combos *= fr[j]->off[pres[j] + 1] - fr[j]->off[pres[j]];
    long at[CB_MAX_KINDS];
    double best = HUGE_VAL;
    if (combos > CB_MAX_COMBOS) {
        /* each kind at its fastest that leaves the others their least
         * bytes: a weaker bound, and its plan may not fit */
        double mins = 0, tsum = 0;
        for (int j = 0; j < np; j++)
            mins += c->pool.p[fr[j]->off[pres[j]]].m;
        for (int j = 0; j < np; j++) {
            at[j] = cb_front_query(&c->pool, fr[j], pres[j],
                                   cap - (mins - c->pool.p[fr[j]->off[pres[j]]].m));
            if (at[j] < 0)
                return HUGE_VAL;
            tsum += c->pool.p[at[j]].t;
        }
        best = tsum;
        goto picked;
    }
    /* every combination of the other kinds' points, the main kind queried */
    long got[CB_MAX_KINDS];
    for (int j = 0; j < np; j++)
        at[j] = fr[j]->off[pres[j]];
    for (;;) {
        double m = 0, tt = 0;
        for (int j = 0; j < np; j++)
            if (j != main) {
                m += c->pool.p[at[j]].m;
                tt += c->pool.p[at[j]].t;
            }
        long x = cb_front_query(&c->pool, fr[main], pres[main], cap - m);
        if (x >= 0 && tt + c->pool.p[x].t < best) {
            best = tt + c->pool.p[x].t;
            for (int j = 0; j < np; j++)
                got[j] = j == main ? x : at[j];
        }
        int j = 0; /* the next combination */
        for (; j < np; j++) {
            if (j == main)
                continue;
            if (++at[j] < fr[j]->off[pres[j] + 1])
                break;
            at[j] = fr[j]->off[pres[j]];
        }
        if (j == np)
            break;
    }
    memcpy(at, got, sizeof(long) * (size_t)np);
picked:
    if (pick && best < HUGE_VAL)
        for (int k = 0, j = 0; k < nk; k++)
            pick[k] = hi[k] - lo[k] ? at[j++] : -1;
    return best;
}

double cb_least_mix(const cb_ctx *c, const cb_front *frs, const double *mp, int sg, int v, int a,
                    int b, long *pick)
{
    if (v >= CB_REQ_OF(c) && !c->req_ok)
        v = CB_ANY; /* (its fronts dropped) */
    if (v < CB_REQ_OF(c))
        return mix_of(c, frs, mp, sg, v, -1, a, b, pick);
    /* the layer of the required class: the first or the last */
    if (v < CB_NV(c))
        return mix_of(c, frs, mp, sg, v, c->kind_of[a], a, b, pick);
    return mix_of(c, frs, mp, sg, v - c->C, c->kind_of[b - 1], a, b, pick);
}

/* The least class change inside a stage of signature sg on [a, b)
 * (HUGE_VAL: none can happen there). */
static double least_change(const cb_ctx *c, int sg, int a, int b)
{
    double lo = HUGE_VAL;
    for (int u = a; u + 1 < b; u++)
        lo = fmin(lo, c->rchg[(size_t)c->sig_q[sg] * c->L + u]);
    return lo;
}

/* The least compute of a stage of signature sg on layers [a, b) (HUGE_VAL:
 * nothing fits): every layer in one layout class (no resharding for
 * certain), or any mix plus the least class change there. chg: that least
 * change (HUGE_VAL computes it). With pick, the pool point of each kind
 * (-1: the kind is absent). */
double cb_stage_least(const cb_ctx *c, const cb_front *frs, const double *mp, int sg, int a, int b,
                      double chg, long *pick)
{
    double best = HUGE_VAL;
    long tmp[CB_MAX_KINDS];
    if (chg == HUGE_VAL)
        chg = least_change(c, sg, a, b);
    for (int v = 0; v <= c->C; v++) {
        if (v == 0 && chg == HUGE_VAL)
            continue; /* one layer, or no class change possible: the classes alone */
        double x = cb_least_mix(c, frs, mp, sg, v, a, b, pick ? tmp : NULL);
        if (v == 0)
            x += chg;
        if (x < best) {
            best = x;
            if (pick)
                memcpy(pick, tmp, sizeof(long) * (size_t)c->nk);
        }
    }
    return best;
}

void cb_free_fronts(cb_front **frs, double **mp, size_t n)
{
    for (size_t f = 0; *frs && f < n; f++)
        cb_front_free(&(*frs)[f]);
    free(*frs);
    free(*mp);
    *frs = NULL;
    *mp = NULL;
}
