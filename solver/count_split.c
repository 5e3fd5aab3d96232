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

/* Stage i's cost for a variant taking t seconds (class changes in)
 * (HUGE_VAL above T): at least fill x its seconds; stage tj's, for each
 * multiplier lambda >= 0, at least the least of (fill + lambda) x seconds
 * + tail x its tail, minus lambda T (its seconds are at most T). */
static double variant_cost(const cb_ctx *c, int tj, int i, int a, int b, double t, double T)
{
    if (t > T)
        return HUGE_VAL;
    double v = c->w.fill * t;
    for (int l = 0; i == tj && l < CB_LAMBDAS; l++) {
        double g = c->Aj[(size_t)l * (c->L + 1) + (i == 0 ? b : a)];
        v = fmax(v, c->lambda[l] > 0 ? g - c->lambda[l] * T : g);
    }
    return v;
}

/* stage i's cost on [a, b) at threshold T (HUGE_VAL: not allowed), its
 * least compute over every variant; *mx that compute */
static double stage_cost(const cb_ctx *c, int tj, int i, int a, int b, double T, double *mx)
{
    *mx = c->A[AIX(c, c->sig_of[i], a, b)];
    return variant_cost(c, tj, i, a, b, *mx, T);
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

/* nx[b*C+l] = the least cost + v with stage i on [a, b) ending on class l
 * (kept with its parent when less) */
static void relax(cb_ctx *c, double *nx, int keep, int i, int b, int l, double v, int a, int e,
                  int var, int f)
{
    size_t o = (size_t)b * c->C + l;
    if (v >= nx[o])
        return;
    nx[o] = v;
    if (keep) {
        int *p = &c->cpar[(((size_t)i * (c->L + 1) + b) * c->C + l) * 4];
        p[0] = a, p[1] = e, p[2] = var, p[3] = f;
    }
}

/* A mixed stage i on [a, b) ending on class l, first class f, each f
 * (CB_PAIR_CLASSES classes at most): compute at least both CB_REQ mixes'
 * plus one change (f != l) or two (f == l) at the range's least (chg),
 * and at least the least path of changes from f to l. */
static void mixed_pairs(cb_ctx *c, double T, int keep, int tj, int i, int a, int b, double chg,
                        const double *inb, const int *inbe, double *nx)
{
    int C = c->C, sg = c->sig_of[i], q = c->sig_q[sg];
    const double *rp = &c->rpath[(size_t)q * C * C];
    for (int l = 0; l < C; l++) {
        double rl = cb_av(c, sg, CB_REQL(c, l), a, b);
        if (rl == HUGE_VAL)
            continue; /* no mix ends on l */
        for (int f = 0; f < C; f++) {
            double rf = cb_av(c, sg, CB_REQ(c, f), a, b), tm = fmax(rf, rl);
            if (inb[f] == HUGE_VAL || rp[f * C + l] == HUGE_VAL || rf == HUGE_VAL)
                continue; /* (no path of changes from f to l) */
            double v = variant_cost(c, tj, i, a, b, tm + (1 + (f == l)) * chg, T);
            if (v == HUGE_VAL)
                continue;
            v = fmax(v, c->w.fill * (tm + rp[f * C + l]));
            relax(c, nx, keep, i, b, l, inb[f] + v, a, inbe[f],
                  rf >= rl ? CB_REQ(c, f) : CB_REQL(c, l), f);
        }
    }
}

/* The same for more classes, in O(C) a range: the first class's mix
 * left out (at least l's), and the least over f of the cost into the
 * stage (in1[l], first f1[l]) and of it plus the path (inp[l]) taken
 * apart (each a bound); f == l as in mixed_pairs. */
static void mixed_classes(cb_ctx *c, double T, int keep, int tj, int i, int a, int b, double chg,
                          const double *inb, const int *inbe, const double *in1, const int *f1,
                          const double *inp, double *nx)
{
    int C = c->C, sg = c->sig_of[i], q = c->sig_q[sg];
    const double *rp = &c->rpath[(size_t)q * C * C];
    double fill = c->w.fill;
    for (int l = 0; l < C; l++) {
        double rl = cb_av(c, sg, CB_REQL(c, l), a, b);
        if (rl == HUGE_VAL)
            continue;
        double v = variant_cost(c, tj, i, a, b, rl + chg, T);
        if (in1[l] != HUGE_VAL && v != HUGE_VAL)
            relax(c, nx, keep, i, b, l, fmax(in1[l] + v, inp[l] + fill * rl), a, inbe[f1[l]],
                  CB_REQL(c, l), f1[l]);
        v = variant_cost(c, tj, i, a, b, rl + 2 * chg, T);
        if (inb[l] != HUGE_VAL && rp[l * C + l] != HUGE_VAL && v != HUGE_VAL)
            relax(c, nx, keep, i, b, l, inb[l] + fmax(v, fill * (rl + rp[l * C + l])), a, inbe[l],
                  CB_REQL(c, l), l);
    }
}

/* A stage i on [a, b) of one kind (c->seq_ok): from each first class f
 * to each last l at its SQ price, exact up to the least changes. */
static void seq_stage(cb_ctx *c, double T, int keep, int tj, int i, int a, int b, const double *inb,
                      const int *inbe, double *nx)
{
    int C = c->C, sg = c->sig_of[i];
    for (int f = 0; f < C; f++) {
        if (inb[f] == HUGE_VAL)
            continue;
        for (int l = 0; l < C; l++) {
            double v = variant_cost(c, tj, i, a, b, cb_sq(c, sg, f, l, a, b), T);
            if (v != HUGE_VAL)
                relax(c, nx, keep, i, b, l, inb[f] + v, a, inbe[f], CB_SEQ_VAR(c), f);
        }
    }
}

/* One stage of the class-aware split: cur by the end class of stage i -
 * 1 (unused for i = 0) into nx. A stage on one layout class l starts and
 * ends on l; a mixed one (two classes at least) holds a layer of its
 * first class f and one of its last l (so its compute is at least both
 * CB_REQ mixes'), and changes class once when f != l, twice when f == l,
 * each change at least the range's least, all of them at least the least
 * path of changes from f to l (rpath). The transfer into a stage is at
 * least ox of the two classes that meet. scratch: 3 C doubles, 2 C ints. */
static void class_stage(cb_ctx *c, double T, int keep, int tj, int i, const double *cur, double *nx,
                        double *scratch, int *iscratch)
{
    int L = c->L, D = c->D, C = c->C, sg = c->sig_of[i], q = c->sig_q[sg];
    int sp = i > 0 && c->t->boundary_spans_nodes[i - 1] ? 1 : 0;
    const double *rp = &c->rpath[(size_t)q * C * C];
    double *inb = scratch, *in1 = scratch + C, *inp = scratch + 2 * C;
    int *inbe = iscratch, *f1 = iscratch + C;
    for (size_t x = 0; x < (size_t)(L + 1) * C; x++)
        nx[x] = HUGE_VAL;
    for (int a = i; a <= (i == 0 ? 0 : L - (D - i)); a++) {
        int any = 0;
        for (int f = 0; f < C; f++) {
            inb[f] = i == 0 ? 0 : HUGE_VAL;
            inbe[f] = -1;
            for (int e = 0; i > 0 && e < C; e++) {
                double v = cur[(size_t)a * C + e];
                if (v == HUGE_VAL)
                    continue;
                v += c->w.comm * c->ox[sp][((size_t)(a - 1) * C + e) * C + f];
                if (v < inb[f])
                    inb[f] = v, inbe[f] = e;
            }
            any |= inb[f] != HUGE_VAL;
        }
        if (!any)
            continue;
        for (int l = 0; C > CB_PAIR_CLASSES && l < C; l++) {
            in1[l] = inp[l] = HUGE_VAL;
            f1[l] = -1;
            for (int f = 0; f < C; f++)
                if (f != l && inb[f] != HUGE_VAL && rp[f * C + l] != HUGE_VAL) {
                    if (inb[f] < in1[l])
                        in1[l] = inb[f], f1[l] = f;
                    inp[l] = fmin(inp[l], inb[f] + c->w.fill * rp[f * C + l]);
                }
        }
        double chg = HUGE_VAL;
        for (int b = a + 1; b <= L - (D - 1 - i) && b - a <= c->span; b++) {
            if (b - a >= 2)
                chg = fmin(chg, c->rchg[(size_t)q * L + b - 2]);
            if (i == D - 1 && b < L)
                continue;
            if (c->seq_ok && cb_seq_shape(c, a, b)) {
                seq_stage(c, T, keep, tj, i, a, b, inb, inbe, nx);
                continue;
            }
            for (int l = 0; l < C; l++) {
                double v = variant_cost(c, tj, i, a, b, cb_av(c, sg, CB_PURE(l), a, b), T);
                if (v != HUGE_VAL && inb[l] != HUGE_VAL)
                    relax(c, nx, keep, i, b, l, inb[l] + v, a, inbe[l], CB_PURE(l), l);
            }
            if (chg == HUGE_VAL)
                continue;
            if (C <= CB_PAIR_CLASSES)
                mixed_pairs(c, T, keep, tj, i, a, b, chg, inb, inbe, nx);
            else
                mixed_classes(c, T, keep, tj, i, a, b, chg, inb, inbe, in1, f1, inp, nx);
        }
    }
}

/* The class-aware split_dp (c->AV set): the least cost over splits and
 * each stage's variant; keep 1: parents in c->cpar. *end: the last
 * stage's end class. */
static double class_dp(cb_ctx *c, double T, int keep, int tj, int *end)
{
    int C = c->C;
    double *cur = c->cdp, *nx = c->cnx, best = HUGE_VAL;
    double *inb = c->cinb;
    int *inbe = c->cinbe;
    for (int i = 0; i < c->D; i++) {
        class_stage(c, T, keep, tj, i, cur, nx, inb, inbe);
        double *tmp = cur;
        cur = nx;
        nx = tmp;
    }
    *end = -1;
    for (int e = 0; e < C; e++)
        if (cur[(size_t)c->L * C + e] < best)
            best = cur[(size_t)c->L * C + e], *end = e;
    c->cdp = cur;
    c->cnx = nx;
    return best;
}

/* The split's cost at threshold T: class-aware when its tables exist. */
static double dp_cost(cb_ctx *c, double T, int keep, int tj, int *end)
{
    *end = -1;
    return c->AV ? class_dp(c, T, keep, tj, end) : split_dp(c, T, 0, keep, tj);
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
        /* the values of the variants (class-aware split: each class alone,
         * a mix holding a class with one or two class changes) or of A */
        int sg = (int)(x / ((size_t)(c->L + 1) * (c->L + 1))),
            ra = (int)(x / (c->L + 1) % (c->L + 1));
        int rb = (int)(x % (c->L + 1)), C = c->C;
        int seq = c->seq_ok && rb > ra && cb_seq_shape(c, ra, rb);
        int nvar = !c->AV ? 1 : seq ? C * C : c->req_ok ? 5 * C : C + 2; /* (CB_REQ: CB_ANY's) */
        double chg = -1;
        for (int w = 0; w < nvar; w++) {
            double a = !c->AV  ? c->A[x]
                       : seq   ? cb_sq(c, sg, w / C, w % C, ra, rb)
                       : w < C ? cb_av(c, sg, CB_PURE(w), ra, rb)
                               : cb_av(c, sg, CB_REQ(c, 0) + (w - C) / 2, ra, rb);
            if (!seq && w >= C && a != HUGE_VAL && s_inf + st * fmax(a, c->xmax) < best) {
                if (chg < 0) {
                    chg = HUGE_VAL;
                    for (int u = ra; u + 1 < rb; u++)
                        chg = fmin(chg, c->rchg[(size_t)c->sig_q[sg] * c->L + u]);
                }
                a = chg == HUGE_VAL ? HUGE_VAL : a + (1 + (w - C) % 2) * chg;
            }
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
    int end;
    double s_inf = dp_cost(c, HUGE_VAL, 0, tj, &end);
    if (st <= 0) {
        *best = s_inf + st * c->xmax;
        return UNIAP_OK;
    }
    *best = dp_cost(c, t_min, 0, tj, &end) + st * fmax(t_min, c->xmax);
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
        double val = dp_cost(c, v[x], 0, tj, &end) + st * fmax(v[x], c->xmax);
        if (val < *best) {
            *best = val;
            *at = v[x];
        }
    }
    free(v);
    return UNIAP_OK;
}

static const int *sort_class;     /* by_class's layout classes (not reentrant, as GLPK) */
static int sort_first, sort_last; /* the classes a mixed stage starts and ends on (-1: any) */

/* the first class, the others, the last class; then layout class, then
 * index: a mix's strategies with the fewest class changes */
static int by_class(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    int cx = sort_class[x], cy = sort_class[y];
    int rx = cx == sort_first ? 0 : cx == sort_last ? 2 : 1;
    int ry = cy == sort_first ? 0 : cy == sort_last ? 2 : 1;
    if (rx != ry)
        return rx < ry ? -1 : 1;
    if (cx != cy)
        return cx < cy ? -1 : 1;
    return (x > y) - (x < y);
}

/* Stage i's layers of [a, b), kind by kind, on the strategies of the
 * picked points, first class f and last l (-1: any; f == l: the f ones
 * split between both ends); list: scratch of L. */
static int assign(const cb_ctx *c, const long *pick, int a, int b, int f, int l, int *list,
                  int *strategy_of)
{
    int rc = UNIAP_OK;
    for (int k = 0; k < c->nk; k++) {
        int n = 0, nf = 0;
        for (long x = pick[k]; x >= 0 && c->pool.p[x].parent >= 0; x = c->pool.p[x].parent)
            list[n++] = c->pool.p[x].k;
        sort_class = c->s->class_of;
        sort_first = f;
        sort_last = f == l ? -1 : l;
        qsort(list, (size_t)n, sizeof(int), by_class);
        while (nf < n && sort_class[list[nf]] == f)
            nf++;
        if (f >= 0 && f == l && nf >= 2 && nf < n) { /* the second half of f to the end */
            int move = nf / 2, *tmp = list + n;      /* (list has room for 2 L) */
            memcpy(tmp, list + nf - move, sizeof(int) * move);
            memmove(list + nf - move, list + nf, sizeof(int) * (n - nf));
            memcpy(list + n - move, tmp, sizeof(int) * move);
        }
        for (int u = a, at = 0; u < b; u++)
            if (c->kind_of[u] == k) {
                UNIAP_CHECK_GOTO(at < n, rc, out);
                strategy_of[u] = list[at++];
            }
    }
out:
    return rc;
}

/* The stages of the split kept at threshold T (classes 1: the
 * class-aware split, when it exists): starts[D+1], and per stage the
 * variant and first / last class (-1: the split without classes). 0: no
 * split. */
static int kept_split(cb_ctx *c, double T, int classes, int *starts, int *var, int *first,
                      int *last)
{
    int L = c->L, D = c->D, e;
    starts[D] = L;
    starts[0] = 0;
    if (!c->AV || !classes) {
        if (split_dp(c, T, 0, 1, -1) == HUGE_VAL)
            return 0;
        for (int i = D - 1, b = L; i >= 0; i--) {
            if (i > 0)
                b = starts[i] = c->par[(size_t)i * (L + 1) + b];
            var[i] = first[i] = last[i] = -1;
        }
        return 1;
    }
    if (class_dp(c, T, 1, -1, &e) == HUGE_VAL)
        return 0;
    for (int i = D - 1, b = L; i >= 0; i--) {
        const int *p = &c->cpar[(((size_t)i * (L + 1) + b) * c->C + e) * 4];
        last[i] = e;
        var[i] = p[2];
        first[i] = p[3];
        b = starts[i] = p[0];
        e = p[1];
    }
    return 1;
}

int cb_read_plan(cb_ctx *c, double T, int classes, int *stage_of, int *strategy_of, int *ok)
{
    int L = c->L, D = c->D, rc = UNIAP_OK;
    int *starts = malloc(sizeof(int) * (4 * D + 1)), *list = malloc(sizeof(int) * 2 * L);
    int *var = starts + D + 1, *first = var + D, *last = first + D;
    long *pick = malloc(sizeof(long) * c->nk);
    *ok = 0;
    if (!starts || !list || !pick) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound's plan");
        goto free_plan;
    }
    if (!kept_split(c, T, classes, starts, var, first, last))
        goto free_plan;
    for (int i = 0; i < D; i++) {
        int a = starts[i], b = starts[i + 1], sg = c->sig_of[i];
        for (int u = a; u < b; u++)
            stage_of[u] = i;
        if (var[i] == CB_SEQ_VAR(c)) { /* the sequence, in order */
            if (!cb_seq_read(c, sg, first[i], last[i], a, b, strategy_of))
                goto free_plan;
            continue;
        }
        double x = var[i] < 0 ? cb_stage_least(c, c->fr, c->minpeak, sg, a, b, HUGE_VAL, pick)
                              : cb_least_mix(c, c->fr, c->minpeak, sg, var[i], a, b, pick);
        if (x == HUGE_VAL)
            goto free_plan;
        int mixed = var[i] >= CB_REQ_OF(c);
        if ((rc = assign(c, pick, a, b, mixed ? first[i] : -1, mixed ? last[i] : -1, list,
                         strategy_of)) < 0)
            goto free_plan;
    }
    *ok = 1;
free_plan:
    free(starts);
    free(list);
    free(pick);
    return rc;
}
