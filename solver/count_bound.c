/*
 * count_bound.c - the count bound of one (deg, c) candidate: an exact
 * combinatorial lower bound of its TPI for chains of identical layers, and
 * the plan that attains it as a warm start (docs/method.md section 5.6).
 *
 * A stage's compute is at least the least time of its layers' strategies
 * under its memory budget, which depends only on how many layers of each
 * kind (layers with equal rows) it holds and on its signature (device
 * class, micro-batches in flight): the Pareto fronts of count_front.c
 * answer it exactly. Resharding inside a stage is at least 0, a transfer
 * at least the least of its boundary, a stage's transient peak at least
 * the least of its kinds', the tail at least the simple bound's. A split
 * DP over (stage, position) then gives, for a threshold T on the slowest
 * stage, the least fill x work + comm x transfers with every stage at
 * most T; the bound is the least over T (only the values stage bounds
 * take matter) of that plus steady x max(T, comm_max x transfer). The DP
 * is exact for the relaxation, so on chains where resharding and the
 * peak do not bind the bound is the optimum and its plan proves it. By
 * layout class (count_split.c's class-aware split) a stage's price carries
 * its first and last class, the class changes inside it and the transfers
 * between the classes that meet; a stage of one kind (and one with the
 * model's first or last layer) is priced exactly up to the least changes
 * (count_seq.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "count_internal.h"
#include "solver_internal.h"

static int rows_equal(const uniap_cost_table *t, const solver_shape *s, const int *grp, int u,
                      int v)
{
    int K = t->n_strategies;
    if (memcmp(&s->usable[(size_t)grp[u] * K], &s->usable[(size_t)grp[v] * K], (size_t)K))
        return 0;
    for (int q = 0; q < t->n_classes; q++) {
        size_t a = uniap_ct_ix(t, q, u, 0), b = uniap_ct_ix(t, q, v, 0), n = (size_t)K;
        if (memcmp(&t->allowed[a], &t->allowed[b], n) ||
            memcmp(&t->time[a], &t->time[b], n * sizeof(double)) ||
            memcmp(&t->mem_states[a], &t->mem_states[b], n * sizeof(double)) ||
            memcmp(&t->mem_act[a], &t->mem_act[b], n * sizeof(double)) ||
            memcmp(&t->mem_peak[a], &t->mem_peak[b], n * sizeof(double)))
            return 0;
    }
    return 1;
}

/* 1 when the pair matrices and usable strategies after layer u are those
 * after u - 1 (a run of identical layers: the least costs are the same) */
static int same_pairs(const cb_ctx *c, int u)
{
    const int *g = c->group_of;
    return u > 0 && u + 1 < c->L && c->t->pair_of[u] == c->t->pair_of[u - 1] && g[u] == g[u - 1] &&
           g[u + 1] == g[u];
}

/* The least costs of what happens between two layers: transfers (olb,
 * and ox by layout class) and class changes inside a stage (rchg, and by
 * pair of classes rpath), computed once per run of identical layers. */
static int pair_bounds(cb_ctx *c)
{
    const uniap_cost_table *t = c->t;
    const solver_shape *s = c->s;
    int L = c->L, K = c->K, C = s->C;
    size_t CC = (size_t)C * C, QC = (size_t)t->n_classes * C;
    c->ox[0] = malloc(sizeof(double) * L * CC);
    c->ox[1] = malloc(sizeof(double) * L * CC);
    c->rchg = malloc(sizeof(double) * (size_t)t->n_classes * L);
    c->rpath = malloc(sizeof(double) * QC * C);
    if (!c->ox[0] || !c->ox[1] || !c->rchg || !c->rpath)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound");
    for (size_t x = 0; x < QC * C; x++)
        c->rpath[x] = HUGE_VAL;
    for (int u = 0; u < L; u++) {
        const unsigned char *uk = &s->usable[(size_t)c->group_of[u] * K];
        const unsigned char *ul = u + 1 < L ? &s->usable[(size_t)c->group_of[u + 1] * K] : NULL;
        int same = same_pairs(c, u);
        /* a transfer after layer u is at least its least over the
         * strategies the two layers may use (xstage >= 0 by the table
         * check), by layout class in ox */
        for (int sp = 0; sp < 2; sp++) {
            double *o = &c->ox[sp][u * CC], lo = HUGE_VAL;
            if (same) {
                memcpy(o, o - CC, sizeof(double) * CC);
                c->olb[sp][u] = c->olb[sp][u - 1];
                continue;
            }
            for (size_t x = 0; x < CC; x++)
                o[x] = HUGE_VAL;
            for (int k = 0; ul && k < K; k++)
                for (int l = 0; uk[k] && l < K; l++)
                    if (ul[l]) {
                        double v = t->xstage[sp][uniap_ct_xpair(t, u, k, l)];
                        double *e = &o[(size_t)s->class_of[k] * C + s->class_of[l]];
                        *e = fmin(*e, v);
                        lo = fmin(lo, v);
                    }
            c->olb[sp][u] = lo == HUGE_VAL ? 0 : lo;
        }
        /* a stage whose layers use two layout classes or more changes
         * class between two adjacent layers at least once; one from class
         * e to class f costs at least rpath[(q*C+e)*C+f] */
        for (int q = 0; q < t->n_classes; q++) {
            double lo = HUGE_VAL;
            if (same) {
                c->rchg[(size_t)q * L + u] = c->rchg[(size_t)q * L + u - 1];
                continue;
            }
            for (int k = 0; ul && k < K; k++)
                for (int l = 0; uk[k] && l < K; l++)
                    if (ul[l] && s->class_of[k] != s->class_of[l]) {
                        double r = t->reshard[uniap_ct_pair(t, q, u, k, l)];
                        int e = s->class_of[k], f = s->class_of[l];
                        double *p = &c->rpath[((size_t)q * C + e) * C + f];
                        lo = fmin(lo, r);
                        *p = fmin(*p, r);
                    }
            c->rchg[(size_t)q * L + u] = lo;
        }
    }
    /* the least changes from class e to class f (Floyd-Warshall over the
     * least single changes); e to e: the least round trip through another */
    for (int q = 0; q < t->n_classes; q++) {
        double *p = &c->rpath[(size_t)q * CC];
        for (int m = 0; m < C; m++)
            for (int e = 0; e < C; e++)
                for (int f = 0; f < C; f++)
                    p[e * C + f] = fmin(p[e * C + f], p[e * C + m] + p[m * C + f]);
    }
    return UNIAP_OK;
}

/* kinds, signatures and the least transfers; 1: too many kinds */
static int setup(cb_ctx *c, uniap_schedule sched)
{
    const uniap_cost_table *t = c->t;
    const solver_shape *s = c->s;
    int L = c->L, D = c->D, rc;
    c->kind_of = malloc(sizeof(int) * L);
    c->kind_rep = malloc(sizeof(int) * L);
    c->group_of = malloc(sizeof(int) * L);
    c->sig_of = malloc(sizeof(int) * D);
    c->sig_q = malloc(sizeof(int) * D);
    c->sig_f = malloc(sizeof(double) * D);
    c->olb[0] = malloc(sizeof(double) * L);
    c->olb[1] = malloc(sizeof(double) * L);
    if (!c->kind_of || !c->kind_rep || !c->group_of || !c->sig_of || !c->sig_q || !c->sig_f ||
        !c->olb[0] || !c->olb[1])
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound");
    for (int g = 0; g < s->G; g++)
        for (int u = s->start[g]; u < s->start[g] + s->len[g]; u++)
            c->group_of[u] = g;
    for (int u = 0; u < L; u++) {
        int k = 0;
        while (k < c->nk && !rows_equal(t, s, c->group_of, u, c->kind_rep[k]))
            k++;
        if (k == c->nk)
            c->kind_rep[c->nk++] = u;
        c->kind_of[u] = k;
    }
    if (c->nk > CB_MAX_KINDS)
        return 1; /* (a chain of mostly different layers: the LP does as well) */
    if (!(c->pre = calloc((size_t)(L + 1) * c->nk, sizeof(int))))
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound");
    for (int u = 0; u < L; u++)
        for (int k = 0; k < c->nk; k++)
            c->pre[(size_t)(u + 1) * c->nk + k] =
                c->pre[(size_t)u * c->nk + k] + (c->kind_of[u] == k);
    for (int i = 0; i < D; i++) {
        int q = t->stage_class[i], sg = 0;
        double f = uniap_inflight(sched, t->micro_batches, D, i);
        while (sg < c->nsig && !(c->sig_q[sg] == q && c->sig_f[sg] == f))
            sg++;
        if (sg == c->nsig) {
            c->sig_q[sg] = q;
            c->sig_f[sg] = f;
            c->nsig++;
        }
        c->sig_of[i] = sg;
    }
    if ((rc = pair_bounds(c)) < 0)
        return rc;
    double most = 0;
    for (int j = 0; j + 1 < D; j++) {
        double lo = HUGE_VAL;
        for (int u = j; u + 1 < L; u++)
            lo = fmin(lo, c->olb[t->boundary_spans_nodes[j] ? 1 : 0][u]);
        most = fmax(most, lo == HUGE_VAL ? 0 : lo);
    }
    c->xmax = c->w.comm_max * most;
    return UNIAP_OK;
}

/* AV's blocks: for each signature the starts and ends a stage of it can
 * have, and the variants some layer of it can take (a mix, each class one
 * kind has a strategy of, a mix holding a layer of such a class while
 * c->req_ok); returns AV's size. */
static size_t place_variants(cb_ctx *c)
{
    int L = c->L, D = c->D, NV = CB_NAV(c), slots = 0;
    size_t total = 0;
    for (int sg = 0; sg < c->nsig; sg++) {
        int a0 = L, a1 = -1, b0 = L + 1, b1 = -1, *box = &c->avbox[4 * sg];
        for (int i = 0; i < D; i++)
            if (c->sig_of[i] == sg) {
                a0 = i < a0 ? i : a0;
                a1 = L - (D - i) > a1 ? L - (D - i) : a1;
                b0 = i + 1 < b0 ? i + 1 : b0;
                b1 = L - (D - 1 - i) > b1 ? L - (D - 1 - i) : b1;
            }
        box[0] = a0, box[1] = a1 - a0 + 1, box[2] = b0, box[3] = b1 - b0 + 1;
        for (int v = 0; v < NV; v++) {
            int any = v == 0, req = v >= CB_REQ_OF(c);
            for (int k = 0; k < c->nk && !any && (!req || c->req_ok); k++) {
                /* (CB_REQ(l), CB_REQL(l) as CB_PURE(l): a layer can take class l) */
                const cb_front *f = &c->fr[FRONT(c, sg, k, req ? CB_PURE((v - 1) % c->C) : v)];
                any = f->nmax >= 1 && f->off[1] < f->off[2];
            }
            c->avslot[(size_t)sg * NV + v] = any ? slots : -1;
            if (any) {
                c->avoff[slots++] = total;
                total += (size_t)box[1] * box[3];
            }
        }
    }
    return total;
}

/* the least compute of every stage range (A), and of every variant (AV)
 * when the class-aware split fits CB_MAX_VARIANT_RANGES */
static int fill_ranges(cb_ctx *c)
{
    int L = c->L, C = c->C;
    if ((double)c->nsig * (L + 1) * (L + 1) > (double)CB_MAX_RANGES)
        return 1;
    size_t n = (size_t)c->nsig * (L + 1) * (L + 1);
    if (!(c->A = malloc(sizeof(double) * n)))
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound's ranges");
    int NV = CB_NAV(c);
    c->avslot = malloc(sizeof(int) * (size_t)c->nsig * NV);
    c->avoff = malloc(sizeof(size_t) * (size_t)c->nsig * NV);
    c->avbox = malloc(sizeof(int) * 4 * (size_t)c->nsig);
    if (!c->avslot || !c->avoff || !c->avbox)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound's ranges");
    /* with the CB_REQ mixes when they fit (in AV and in work), else
     * without them rather than without the class-aware split */
    c->req_ok = 1;
    size_t total = place_variants(c);
    int rc = UNIAP_OK;
    if (total <= CB_MAX_VARIANT_RANGES && C > 1 && (rc = cb_build_req_fronts(c)) < 0)
        return rc;
    if (total > CB_MAX_VARIANT_RANGES || !c->req_ok) {
        c->req_ok = 0;
        total = place_variants(c);
    }
    if ((double)total <= (double)CB_MAX_VARIANT_RANGES && C > 1 &&
        !(c->AV = malloc(sizeof(double) * (total ? total : 1))))
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound's ranges");
    for (size_t x = 0; x < n; x++)
        c->A[x] = HUGE_VAL;
    for (size_t x = 0; c->AV && x < total; x++)
        c->AV[x] = HUGE_VAL;
    for (int sg = 0; sg < c->nsig; sg++)
        for (int a = 0; a < L; a++) {
            double chg = HUGE_VAL; /* the least class change on [a, b) */
            for (int b = a + 1; b <= L && b - a <= c->span; b++) {
                if (b - a >= 2)
                    chg = fmin(chg, c->rchg[(size_t)c->sig_q[sg] * L + b - 2]);
                if (!c->AV) {
                    c->A[AIX(c, sg, a, b)] =
                        cb_stage_least(c, c->fr, c->minpeak, sg, a, b, chg, NULL);
                    continue;
                }
                double best = HUGE_VAL; /* as cb_stage_least */
                const int *box = &c->avbox[4 * sg];
                int in = a >= box[0] && a < box[0] + box[1] && b >= box[2] && b < box[2] + box[3];
                for (int v = 0; v < NV; v++) {
                    int slot = c->avslot[(size_t)sg * NV + v];
                    if (slot < 0 || (!in && v >= CB_REQ_OF(c)))
                        continue;
                    double x = cb_least_mix(c, c->fr, c->minpeak, sg, v, a, b, NULL);
                    if (in)
                        c->AV[c->avoff[slot] + (size_t)(a - box[0]) * box[3] + (b - box[2])] = x;
                    if (v < CB_REQ_OF(c)) /* (a CB_REQ mix is a CB_ANY one) */
                        best = fmin(best, v > 0 ? x : chg == HUGE_VAL ? HUGE_VAL : x + chg);
                }
                c->A[AIX(c, sg, a, b)] = best;
            }
        }
    return UNIAP_OK;
}

static void ctx_free(cb_ctx *c)
{
    cb_free_fronts(&c->fr, &c->minpeak, c->n_fronts);
    for (int l = 0; l < CB_LAMBDAS; l++)
        cb_free_fronts(&c->frw[l], &c->minpeakw[l], c->n_fronts);
    cb_pool_free(&c->pool);
    free(c->kind_of);
    free(c->kind_rep);
    free(c->group_of);
    free(c->pre);
    free(c->sig_of);
    free(c->sig_q);
    free(c->sig_f);
    free(c->rchg);
    free(c->rpath);
    free(c->A);
    free(c->AV);
    free(c->avslot);
    free(c->avoff);
    free(c->avbox);
    free(c->rk);
    free(c->jl);
    free(c->jt);
    free(c->sq_lo);
    free(c->sq_hi);
    free(c->SQ);
    free(c->sqoff);
    free(c->ox[0]);
    free(c->ox[1]);
    free(c->cdp);
    free(c->cnx);
    free(c->cpar);
    free(c->cinb);
    free(c->cinbe);
    free(c->Aj);
    free(c->olb[0]);
    free(c->olb[1]);
    free(c->dp);
    free(c->nx);
    free(c->par);
}

/* The bound with stage tj's tail counted (*best; HUGE_VAL: no split
 * fits, -1: past a work limit): for each multiplier lambda (0, steady / 4,
 * steady: at most steady, see count_split.c), the fronts of tj's
 * signature with seconds + tail / (fill + lambda) x tail per layer, tj's
 * ranges priced from them (c->Aj), then the split DP. */
static int tail_bound(cb_ctx *c, int tj, double *best, double *at)
{
    int L = c->L, sg = c->sig_of[tj], rc;
    *best = -1;
    for (int l = 0; l < CB_LAMBDAS; l++) {
        c->lambda[l] = l == 0 ? 0 : l == 1 ? c->w.steady / 4 : c->w.steady;
        double fl = c->w.fill + c->lambda[l];
        cb_free_fronts(&c->frw[l], &c->minpeakw[l], c->n_fronts);
        if ((rc = cb_build_fronts(c, &c->frw[l], &c->minpeakw[l], sg, c->w.tail / fl)) != 0)
            return rc < 0 ? rc : UNIAP_OK;
        for (int x = 0; x <= L; x++) {
            int a = tj == 0 ? 0 : x, b = tj == 0 ? x : L;
            double v = HUGE_VAL;
            if (b > a && b - a <= c->span)
                v = cb_stage_least(c, c->frw[l], c->minpeakw[l], sg, a, b, HUGE_VAL, NULL);
            c->Aj[(size_t)l * (L + 1) + x] = v == HUGE_VAL ? HUGE_VAL : fl * v;
        }
    }
    return cb_least_over_thresholds(c, tj, best, at);
}

int solver_count_bound(const uniap_cost_table *t, const solver_shape *s, uniap_schedule sched,
                       double tail_lb, double *bound, int *stage_of, int *strategy_of, int *n_plans)
{
    cb_ctx c = {0};
    int rc;
    double best = HUGE_VAL, at = HUGE_VAL;

    *bound = 0;
    *n_plans = 0;
    if (!uniap_schedule_get(sched) || s->w_terms || t->deg > t->n_layers)
        return UNIAP_OK; /* (W terms: not bounded this way) */
    c.w = uniap_schedule_terms_of(sched, t->micro_batches, t->deg);
    if (!(c.w.fill >= 0 && c.w.steady >= 0 && c.w.comm >= 0 && c.w.comm_max >= 0 && c.w.tail >= 0))
        return UNIAP_OK;
    c.t = t;
    c.s = s;
    c.L = t->n_layers;
    c.D = t->deg;
    c.K = t->n_strategies;
    c.C = s->C;
    c.span = c.L - c.D + 1;
    if ((rc = setup(&c, sched)) != 0 || (rc = cb_build_fronts(&c, &c.fr, &c.minpeak, -1, 0)) != 0 ||
        (rc = fill_ranges(&c)) != 0 || (rc = cb_seq_prepare(&c)) != 0)
        goto free_ctx; /* rc 1: past a work limit, no bound */
    c.dp = malloc(sizeof(double) * (c.L + 1));
    c.nx = malloc(sizeof(double) * (c.L + 1));
    c.Aj = malloc(sizeof(double) * CB_LAMBDAS * (c.L + 1));
    c.par = calloc((size_t)c.D * (c.L + 1), sizeof(int));
    if (c.AV) {
        c.cdp = malloc(sizeof(double) * (c.L + 1) * c.C);
        c.cnx = malloc(sizeof(double) * (c.L + 1) * c.C);
        c.cpar = calloc((size_t)c.D * (c.L + 1) * c.C * 4, sizeof(int));
        c.cinb = malloc(sizeof(double) * 3 * c.C);
        c.cinbe = malloc(sizeof(int) * 2 * c.C);
    }
    if (!c.dp || !c.nx || !c.Aj || !c.par ||
        (c.AV && (!c.cdp || !c.cnx || !c.cpar || !c.cinb || !c.cinbe))) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound's split");
        goto free_ctx;
    }
    if ((rc = cb_least_over_thresholds(&c, -1, &best, &at)) < 0)
        goto free_ctx;
    if (best == HUGE_VAL) {
        *bound = HUGE_VAL; /* no split fits: nothing does */
        goto free_ctx;
    }
    best += c.w.tail * (isfinite(tail_lb) ? tail_lb : 0);
    /* the tail of the first and of the last stage (the embedding's and
     * the head's, the largest of a transformer) counted with its seconds */
    for (int e = 0; e < 2 && c.w.fill > 0 && c.w.tail > 0; e++) {
        int j = e ? c.D - 1 : 0;
        double bj, aj;
        if (e && j == 0)
            break;
        if ((rc = tail_bound(&c, j, &bj, &aj)) < 0)
            goto free_ctx;
        if (bj > best) {
            best = bj;
            at = aj;
        }
    }
    /* (1 - 1e-12): the evaluator sums in another order */
    *bound = best * (1 - 1e-12);
    /* the plan of the split without classes, then the class-aware one's
     * (two plans of the same TPI lead GLPK's branch and cut differently:
     * the caller keeps the first of the best) */
    for (int cls = 0; cls < (c.AV ? 2 : 1) && rc == UNIAP_OK; cls++) {
        int ok = 0, L = c.L;
        rc = cb_read_plan(&c, at, cls, stage_of + *n_plans * L, strategy_of + *n_plans * L, &ok);
        *n_plans += ok;
    }
free_ctx:
    ctx_free(&c);
    return rc < 0 ? rc : UNIAP_OK;
}
