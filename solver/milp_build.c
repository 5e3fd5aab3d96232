/*
 * milp_build.c - the MILP of one (deg, c) candidate, written for GLPK.
 *
 * One formulation over groups of identical layers (solver_shape); with one
 * group per layer it is the per-layer formulation of method.md section 3,
 * with runs it is the aggregated one. Variables of segment (g, i), the
 * layers of group g on stage i:
 *   n[g,i,k]  integer count of them with strategy k (binary for one layer;
 *             n = P[u][i] * S[u][k] of the paper, linearized by design);
 *   pres      the segment is non-empty; y[k] strategy k is used (peak);
 *   fc[c], ec[c]  layout class of its first / last layer;
 *   x[c][d]   class changes c -> d between consecutive layers inside it,
 *             with flow conservation from fc to ec (an Euler path over
 *             classes), visits of c <= layers of c, and a single-commodity
 *             flow phi from fc to every used class (connectivity: no
 *             detached cycle can hide a class change). Every ordering of a
 *             segment's layers is an Euler path of this kind and every such
 *             path is an ordering, so the internal resharding
 *               sum_{c!=d} R[c][d] x[c][d] + sum_c R[c][c] (N_c - visits_c)
 *             is exact, not a bound (R depends on classes only).
 * Placement: pre[g,j] = layers of g on stages <= j; boundary j lies inside
 * group g (lin) or right after it (lat), one location per boundary; the
 * prefix rules make every stage a contiguous, ordered block.
 * Junction g -> g+1 inside stage i (jn) and each boundary location carry
 * a transport block between ec of the left segment and fc of the right
 * one (method.md section 3), so the cross-stage o_j and junction reshards
 * are exact. Epigraphs: T >= p_i, comm_max o_j; tau >= tail_i; pk_i >=
 * peak of every used strategy. Objective: the schedule's TPI terms (fill
 * sum p + comm sum o + steady T + tail tau, uniap_schedule_terms_of),
 * memory rows with its inflight(i), every stage at least the schedule's
 * virtual stages of layers (uniap_schedule_virtual_stages). Memory rows
 * are scaled by the budget. Split-backward schedules (zero bubble) add
 * w_i per stage and its epigraph (build_wgrad). Cuts: T and tau start at the simple bounds
 * (solver_simple_bounds), which the LP's fractional stage split would
 * otherwise undercut.
 * The layout-free relaxation (SOLVER_BOUND_ONLY) keeps counts, placement,
 * time, tail and memory, and drops every layout class: each reshard and
 * transfer is charged the least it can cost where it happens.
 * Segment columns and rows are written by milp_segment.c.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

static long row_calls, row_fault_at;

void solver_test_row_fault(long k)
{
    row_calls = 0;
    row_fault_at = k > 0 ? k : 0;
}

long solver_test_row_calls(void)
{
    return row_calls;
}

/* Doubles the capacity; fault: fail as realloc would. */
static int rows_grow(solver_rows *r, int fault)
{
    int cap = r->cap ? (r->cap <= INT_MAX / 2 ? 2 * r->cap : 0) : 256;
    int *ind = fault || !cap ? NULL : realloc(r->ind, sizeof(int) * (size_t)cap);
    if (!ind)
        return r->rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for a MILP row of %d terms",
                                 r->n + 1);
    r->ind = ind;
    double *val = realloc(r->val, sizeof(double) * (size_t)cap);
    if (!val)
        return r->rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for a MILP row of %d terms",
                                 r->n + 1);
    r->val = val;
    r->cap = cap;
    return 0;
}

int solver_row_add(solver_rows *r, int col, double v)
{
    if (r->rc < 0)
        return r->rc;
    if (!col || v == 0.0)
        return 0;
    int fault = ++row_calls == row_fault_at;
    if (!isfinite(v))
        return r->rc = uniap_err_at(__FILE__, __LINE__, UNIAP_EINTERNAL,
                                    "internal error: MILP coefficient %g of column %d", v, col);
    if ((r->n + 2 > r->cap || fault) && rows_grow(r, fault) < 0)
        return r->rc;
    /* GLPK rows are 1-based: ind[1..n] */
    r->n++;
    r->ind[r->n] = col;
    r->val[r->n] = v;
    return 0;
}

/* Adds the row (merging repeated columns) with bounds of the given type. */
int solver_row_end(glp_prob *lp, solver_rows *r, int type, double lb, double ub)
{
    if (r->rc < 0) {
        r->n = 0;
        return 0;
    }
    for (int a = 1; a <= r->n; a++)
        for (int b = a + 1; b <= r->n; b++)
            if (r->ind[b] == r->ind[a]) {
                r->val[a] += r->val[b];
                r->ind[b] = r->ind[r->n];
                r->val[b] = r->val[r->n];
                r->n--;
                b--;
            }
    int row = glp_add_rows(lp, 1);
    glp_set_mat_row(lp, row, r->n, r->ind, r->val);
    glp_set_row_bnds(lp, row, type, lb, ub);
    r->n = 0;
    return row;
}

int solver_add_col(glp_prob *lp, const char *name, int kind, double lb, double ub, double obj)
{
    int j = glp_add_cols(lp, 1);
    glp_set_col_name(lp, j, name);
    glp_set_col_kind(lp, j, kind);
    if (kind == GLP_BV)
        ub = 1.0, lb = 0.0;
    glp_set_col_bnds(lp, j, lb == ub ? GLP_FX : (ub > 1e300 ? GLP_LO : GLP_DB), lb, ub);
    glp_set_obj_coef(lp, j, obj);
    return j;
}

void solver_milp_free(solver_milp *m)
{
    /* a problem made before a caught GLPK error is already gone */
    if (m->lp && m->glp_gen == solver_glpk_generation())
        glp_delete_prob(m->lp);
    free(m->seg_in);
    free(m->wck);
    int **arrs[] = {&m->n,   &m->y,  &m->pres, &m->fc,   &m->ec,   &m->uc,  &m->qc,  &m->x,
                    &m->phi, &m->jn, &m->tj,   &m->pre,  &m->lin,  &m->lat, &m->tbi, &m->tba,
                    &m->p,   &m->o,  &m->pk,   &m->prow, &m->orow, &m->wg};
    for (size_t a = 0; a < sizeof(arrs) / sizeof(arrs[0]); a++)
        free(*arrs[a]);
    memset(m, 0, sizeof(*m));
}

/* Can a layer of group g be on stage i (every stage needs a layer)? */
static int seg_possible(const solver_shape *s, int g, int i)
{
    int lo = s->start[g] > i ? s->start[g] : i;
    int hi = s->start[g] + s->len[g] - 1;
    if (hi > s->L - s->D + i)
        hi = s->L - s->D + i;
    return lo <= hi;
}

/* Can boundary j (after stage j) fall at prefix length b? */
static int bound_possible(const solver_shape *s, int j, int b)
{
    return b >= j + 1 && b <= s->L - s->D + j + 1;
}

static int alloc_maps(solver_milp *m)
{
    size_t G = m->G, D = m->D, K = m->K, C = m->C, B = D > 1 ? D - 1 : 1;
    m->n = calloc(G * D * K, sizeof(int));
    m->y = calloc(G * D * K, sizeof(int));
    m->pres = calloc(G * D, sizeof(int));
    m->fc = calloc(G * D * C, sizeof(int));
    m->ec = calloc(G * D * C, sizeof(int));
    m->uc = calloc(G * D * C, sizeof(int));
    m->qc = calloc(G * D * C, sizeof(int));
    m->x = calloc(G * D * C * C, sizeof(int));
    m->phi = calloc(G * D * C * C, sizeof(int));
    m->jn = calloc(G * D, sizeof(int));
    m->tj = calloc(G * D * C * C, sizeof(int));
    m->pre = calloc(G * D, sizeof(int));
    m->lin = calloc(B * G, sizeof(int));
    m->lat = calloc(B * G, sizeof(int));
    m->tbi = calloc(B * G * C * C, sizeof(int));
    m->tba = calloc(B * G * C * C, sizeof(int));
    m->p = calloc(D, sizeof(int));
    m->o = calloc(B, sizeof(int));
    m->pk = calloc(D, sizeof(int));
    m->prow = calloc(D, sizeof(int));
    m->orow = calloc(B, sizeof(int));
    m->seg_in = calloc(C ? C : 1, 1);
    return m->seg_in && m->n && m->y && m->pres && m->fc && m->ec && m->uc && m->qc && m->x &&
                   m->phi && m->jn && m->tj && m->pre && m->lin && m->lat && m->tbi && m->tba &&
                   m->p && m->o && m->pk && m->prow && m->orow
               ? 0
               : -1;
}

/* A split-backward schedule's W terms (uniap_schedule_terms: wfill sum w +
 * wmax max w): per stage w_i = sum of the wgrad of its layers' strategies
 * (exact, as p_i), and the epigraph wm >= w_i, minimized by its wmax >= 0.
 * Only for schedules with W terms: the others' MILPs are unchanged. */
static int build_wgrad(solver_milp *m, solver_rows *r, uniap_schedule_terms w)
{
    const uniap_cost_table *t = m->t;
    const solver_shape *s = m->s;
    int G = m->G, D = m->D, K = m->K;
    char nm[64];

    if (!(m->wg = calloc((size_t)D, sizeof(int))))
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the MILP's W columns");
    for (int i = 0; i < D; i++) {
        snprintf(nm, sizeof nm, "w_s%d", i);
        m->wg[i] = solver_add_col(m->lp, nm, GLP_CV, 0, 1e301, m->min_excess ? 0 : w.wfill);
    }
    m->wm = solver_add_col(m->lp, "W_max", GLP_CV, 0, 1e301, m->min_excess ? 0 : w.wmax);
    for (int i = 0; i < D; i++) {
        int q = t->stage_class[i];
        solver_row_add(r, m->wg[i], 1);
        for (int g = 0; g < G; g++)
            for (int k = 0; k < K; k++)
                solver_row_add(r, m->n[SEGK(g, i, k)],
                               -t->wgrad[uniap_ct_ix(t, q, s->start[g], k)]);
        solver_row_end(m->lp, r, GLP_FX, 0, 0);
        solver_row_add(r, m->wm, 1);
        solver_row_add(r, m->wg[i], -1);
        solver_row_end(m->lp, r, GLP_LO, 0, 0);
    }
    return r->rc;
}

/* A class-level cost; where: the span of a boundary (xstage) or the device
 * class of a stage (reshard). */
typedef double (*class_cost_fn)(const uniap_cost_table *t, const solver_shape *s, int where, int g,
                                int c, int d);

static double rint_any(const uniap_cost_table *t, const solver_shape *s, int q, int g, int c, int d)
{
    return solver_rint(t, s, q, g, c, d);
}

static double rjunc_any(const uniap_cost_table *t, const solver_shape *s, int q, int g, int c,
                        int d)
{
    return solver_rjunc(t, s, q, g, c, d);
}

/* The least of a class-level cost of group g over the class pairs that can
 * meet there (left: classes of g; right: of g or of g + 1); >= 0. */
static double min_cost(const uniap_cost_table *t, const solver_shape *s, int g, int where,
                       class_cost_fn f)
{
    int C = s->C, right = f == rint_any || f == solver_xint ? g : g + 1;
    double best = HUGE_VAL;
    for (int c = 0; c < C; c++)
        for (int d = 0; d < C; d++)
            if (s->class_in[(size_t)g * C + c] && s->class_in[(size_t)right * C + d]) {
                double v = f(t, s, where, g, c, d);
                if (isnan(v))
                    return v; /* out of range: the row builder refuses it */
                best = fmin(best, v);
            }
    return best < HUGE_VAL && best > 0 ? best : 0.0;
}

/* The MILP's columns and rows (see the top of the file); on failure frees
 * m. r: the row builder, its buffers freed by the caller. */
static int build(const uniap_cost_table *t, const solver_shape *s, uniap_schedule sched,
                 unsigned flags, const unsigned char *allow, solver_milp *m, solver_rows *r)
{
    int min_excess = (flags & SOLVER_MIN_EXCESS) != 0;
    int G = s->G, D = s->D, K = s->K, C = s->C, L = s->L;
    char nm[64];
    int rc = UNIAP_OK;

    m->t = t;
    m->s = s;
    m->sched = sched;
    m->min_excess = min_excess;
    m->bound_only = (flags & SOLVER_BOUND_ONLY) != 0;
    m->guarded = (flags & SOLVER_MEM_GUARDED) != 0;
    m->allow = allow;
    m->G = G, m->D = D, m->K = K, m->C = C;
    m->mem_scale = solver_mem_scale(t);
    /* every stage needs a layer (solver_solve_pair checks it first) */
    UNIAP_CHECK(L >= D && D >= 1 && K >= 1 && C >= 1 && C <= K);
    if (alloc_maps(m) < 0)
        goto fail_nomem;
    m->lp = glp_create_prob();
    m->glp_gen = solver_glpk_generation();
    glp_set_prob_name(m->lp, "uniap_pair");
    glp_set_obj_dir(m->lp, GLP_MIN);

    /* the objective is the schedule's TPI (uniap_schedule_tpi's terms) */
    UNIAP_CHECK(uniap_schedule_get(sched) != NULL);
    uniap_schedule_terms w = uniap_schedule_terms_of(sched, t->micro_batches, D);
    for (int i = 0; i < D; i++) {
        snprintf(nm, sizeof nm, "p_s%d", i);
        m->p[i] = solver_add_col(m->lp, nm, GLP_CV, 0, 1e301, min_excess ? 0 : w.fill);
        snprintf(nm, sizeof nm, "pk_s%d", i);
        m->pk[i] = solver_add_col(m->lp, nm, GLP_CV, 0, 1e301, 0);
    }
    for (int j = 0; j + 1 < D; j++) {
        snprintf(nm, sizeof nm, "o_b%d", j);
        m->o[j] = solver_add_col(m->lp, nm, GLP_CV, 0, 1e301, min_excess ? 0 : w.comm);
    }
    /* the slowest stage and the tail are at least their simple bounds (a
     * valid cut that the LP's fractional stage split would miss) */
    double work = 0, slow_lb = 0, tail_lb = 0;
    if (!min_excess && (rc = solver_simple_bounds(t, sched, &work, &slow_lb, &tail_lb)) < 0)
        goto fail;
    if (!(slow_lb < HUGE_VAL))
        slow_lb = tail_lb = 0; /* nothing fits: the LP says so itself */
    m->T = solver_add_col(m->lp, "T_slowest", GLP_CV, slow_lb, 1e301, min_excess ? 0 : w.steady);
    m->tau = solver_add_col(m->lp, "tau_tail", GLP_CV, tail_lb, 1e301, min_excess ? 0 : w.tail);
    if (min_excess)
        m->xs = solver_add_col(m->lp, "excess", GLP_CV, 0, 1e301, 1);

    for (int g = 0; g < G; g++)
        for (int i = 0; i < D; i++)
            if (seg_possible(s, g, i) && (rc = solver_build_segment(m, r, g, i)) < 0)
                goto fail;

    /* boundary locations and prefixes */
    for (int j = 0; j + 1 < D; j++) {
        for (int g = 0; g < G; g++) {
            int a = s->start[g], e = a + s->len[g];
            int in_ok = 0;
            for (int b = a + 1; b < e && !in_ok; b++)
                in_ok = bound_possible(s, j, b);
            if (in_ok) {
                snprintf(nm, sizeof nm, "lin_b%d_g%d", j, g);
                m->lin[BND(j, g)] = solver_add_col(m->lp, nm, GLP_BV, 0, 1, 0);
            }
            if (g + 1 < G && bound_possible(s, j, e)) {
                snprintf(nm, sizeof nm, "lat_b%d_g%d", j, g);
                m->lat[BND(j, g)] = solver_add_col(m->lp, nm, GLP_BV, 0, 1, 0);
            }
            snprintf(nm, sizeof nm, "pre_g%d_b%d", g, j);
            m->pre[SEG(g, j)] = solver_add_col(m->lp, nm, GLP_IV, 0, s->len[g], 0);
        }
        for (int g = 0; g < G; g++) {
            solver_row_add(r, m->lin[BND(j, g)], 1);
            solver_row_add(r, m->lat[BND(j, g)], 1);
        }
        solver_row_end(m->lp, r, GLP_FX, 1, 1);
        for (int g = 0; g < G; g++) {
            int len = s->len[g];
            /* pre >= len * A + I and pre <= len * A + (len-1) I, where A:
             * the boundary is at or after the end of g, I: inside g */
            for (int e = 0; e < 2; e++) {
                solver_row_add(r, m->pre[SEG(g, j)], 1);
                solver_row_add(r, m->lat[BND(j, g)], -len);
                for (int h = g + 1; h < G; h++) {
                    solver_row_add(r, m->lin[BND(j, h)], -len);
                    solver_row_add(r, m->lat[BND(j, h)], -len);
                }
                solver_row_add(r, m->lin[BND(j, g)], e ? -(len - 1) : -1);
                solver_row_end(m->lp, r, e ? GLP_UP : GLP_LO, 0, 0);
            }
        }
    }
    /* segment sizes follow the prefixes; every stage holds a layer per
     * virtual stage of the schedule (1: non-empty) */
    for (int g = 0; g < G; g++)
        for (int i = 0; i < D; i++) {
            for (int k = 0; k < K; k++)
                solver_row_add(r, m->n[SEGK(g, i, k)], 1);
            double rhs = 0;
            if (i + 1 < D)
                solver_row_add(r, m->pre[SEG(g, i)], -1);
            else
                rhs += s->len[g];
            if (i > 0)
                solver_row_add(r, m->pre[SEG(g, i - 1)], 1);
            solver_row_end(m->lp, r, GLP_FX, rhs, rhs);
        }
    for (int i = 0; i < D; i++) {
        for (int g = 0; g < G; g++)
            for (int k = 0; k < K; k++)
                solver_row_add(r, m->n[SEGK(g, i, k)], 1);
        solver_row_end(m->lp, r, GLP_LO, uniap_schedule_virtual_stages(sched), 0);
    }
    /* a runtime's stage rules (milp_rules.c) */
    if ((rc = solver_build_rules(m, r)) < 0)
        goto fail;

    /* junctions inside a stage */
    for (int g = 0; g + 1 < G; g++)
        for (int i = 0; i < D; i++) {
            if (!m->pres[SEG(g, i)] || !m->pres[SEG(g + 1, i)])
                continue;
            if (m->bound_only && min_cost(t, s, g, t->stage_class[i], rjunc_any) <= 0)
                continue; /* its lower bound is 0: no column needed */
            snprintf(nm, sizeof nm, "jn_g%d_s%d", g, i);
            int jn = m->jn[SEG(g, i)] = solver_add_col(m->lp, nm, GLP_BV, 0, 1, 0);
            solver_row_add(r, jn, 1);
            solver_row_add(r, m->pres[SEG(g, i)], -1);
            solver_row_end(m->lp, r, GLP_UP, 0, 0);
            solver_row_add(r, jn, 1);
            solver_row_add(r, m->pres[SEG(g + 1, i)], -1);
            solver_row_end(m->lp, r, GLP_UP, 0, 0);
            solver_row_add(r, jn, 1);
            solver_row_add(r, m->pres[SEG(g, i)], -1);
            solver_row_add(r, m->pres[SEG(g + 1, i)], -1);
            solver_row_end(m->lp, r, GLP_LO, -1, 0);
            if (m->bound_only)
                continue;
            snprintf(nm, sizeof nm, "tj_g%d_s%d", g, i);
            solver_build_transport(m, r, m->tj + SEGCC(g, i, 0, 0), g, i, g + 1, i, jn, nm);
        }
    /* transports across boundaries, and o_j */
    for (int j = 0; j + 1 < D; j++) {
        int span = t->boundary_spans_nodes[j] ? 1 : 0;
        for (int g = 0; g < G && !m->bound_only; g++) {
            if (m->lin[BND(j, g)]) {
                snprintf(nm, sizeof nm, "tbi_b%d_g%d", j, g);
                solver_build_transport(m, r, m->tbi + BNDCC(j, g, 0, 0), g, j, g, j + 1,
                                       m->lin[BND(j, g)], nm);
            }
            if (m->lat[BND(j, g)]) {
                snprintf(nm, sizeof nm, "tba_b%d_g%d", j, g);
                solver_build_transport(m, r, m->tba + BNDCC(j, g, 0, 0), g, j, g + 1, j + 1,
                                       m->lat[BND(j, g)], nm);
            }
        }
        solver_row_add(r, m->o[j], 1);
        for (int g = 0; g < G; g++) {
            if (m->bound_only) { /* the cheapest transfer at each location */
                if (m->lin[BND(j, g)])
                    solver_row_add(r, m->lin[BND(j, g)], -min_cost(t, s, g, span, solver_xint));
                if (m->lat[BND(j, g)])
                    solver_row_add(r, m->lat[BND(j, g)], -min_cost(t, s, g, span, solver_xjunc));
                continue;
            }
            for (int c = 0; c < C; c++)
                for (int d = 0; d < C; d++) {
                    if (m->tbi[BNDCC(j, g, c, d)])
                        solver_row_add(r, m->tbi[BNDCC(j, g, c, d)],
                                       -solver_xint(t, s, span, g, c, d));
                    if (m->tba[BNDCC(j, g, c, d)])
                        solver_row_add(r, m->tba[BNDCC(j, g, c, d)],
                                       -solver_xjunc(t, s, span, g, c, d));
                }
        }
        m->orow[j] = solver_row_end(m->lp, r, GLP_FX, 0, 0);
        solver_row_add(r, m->T, 1);
        solver_row_add(r, m->o[j], -w.comm_max); /* boundary j crossed comm_max times */
        solver_row_end(m->lp, r, GLP_LO, 0, 0);
    }

    /* stage time, tail and memory */
    for (int i = 0; i < D; i++) {
        double infl = uniap_inflight(sched, t->micro_batches, D, i);
        int q = t->stage_class[i]; /* the rows of stage i are its device class's */
        solver_row_add(r, m->p[i], 1);
        for (int g = 0; g < G; g++) {
            size_t u = uniap_ct_ix(t, q, s->start[g], 0);
            if (m->bound_only) {
                /* a segment of N layers has N - 1 internal reshards, each
                 * at least the group's cheapest; junctions at least theirs */
                double rmin = s->len[g] >= 2 ? min_cost(t, s, g, q, rint_any) : 0.0;
                for (int k = 0; k < K; k++)
                    solver_row_add(r, m->n[SEGK(g, i, k)], -(t->time[u + k] + rmin));
                solver_row_add(r, m->pres[SEG(g, i)], rmin);
                if (m->jn[SEG(g, i)])
                    solver_row_add(r, m->jn[SEG(g, i)], -min_cost(t, s, g, q, rjunc_any));
                continue;
            }
            for (int k = 0; k < K; k++) {
                double self =
                    s->len[g] >= 2 ? solver_rint(t, s, q, g, s->class_of[k], s->class_of[k]) : 0.0;
                solver_row_add(r, m->n[SEGK(g, i, k)], -(t->time[u + k] + self));
            }
            if (s->len[g] >= 2)
                for (int c = 0; c < C; c++) {
                    double rcc = solver_rint(t, s, q, g, c, c);
                    solver_row_add(r, m->fc[SEGC(g, i, c)], rcc);
                    for (int d = 0; d < C; d++)
                        solver_row_add(r, m->x[SEGCC(g, i, d, c)],
                                       -(solver_rint(t, s, q, g, d, c) - rcc));
                }
            if (g + 1 < G)
                for (int c = 0; c < C; c++)
                    for (int d = 0; d < C; d++)
                        solver_row_add(r, m->tj[SEGCC(g, i, c, d)],
                                       -solver_rjunc(t, s, q, g, c, d));
        }
        m->prow[i] = solver_row_end(m->lp, r, GLP_FX, 0, 0);
        solver_row_add(r, m->T, 1);
        solver_row_add(r, m->p[i], -1);
        solver_row_end(m->lp, r, GLP_LO, 0, 0);
        solver_row_add(r, m->tau, 1);
        for (int g = 0; g < G; g++)
            for (int k = 0; k < K; k++)
                solver_row_add(r, m->n[SEGK(g, i, k)], -t->tail[uniap_ct_ix(t, q, s->start[g], k)]);
        solver_row_end(m->lp, r, GLP_LO, 0, 0);
        for (int g = 0; g < G; g++)
            for (int k = 0; k < K; k++) {
                size_t uk = uniap_ct_ix(t, q, s->start[g], k);
                solver_row_add(r, m->n[SEGK(g, i, k)],
                               (t->mem_states[uk] + infl * t->mem_act[uk]) / m->mem_scale);
            }
        solver_row_add(r, m->pk[i], 1);
        solver_row_add(r, m->xs, -1);
        solver_row_end(m->lp, r, GLP_UP, 0,
                       uniap_ct_budget(t, i) / m->mem_scale - (m->guarded ? SOLVER_MEM_GUARD : 0));
        for (int g = 0; g < G; g++)
            for (int k = 0; k < K; k++) {
                double pk = t->mem_peak[uniap_ct_ix(t, q, s->start[g], k)] / m->mem_scale;
                if (pk <= 0 || !m->y[SEGK(g, i, k)])
                    continue;
                solver_row_add(r, m->pk[i], 1);
                solver_row_add(r, m->y[SEGK(g, i, k)], -pk);
                solver_row_end(m->lp, r, GLP_LO, 0, 0);
            }
    }
    /* a split-backward schedule's W terms; its shape groups by wgrad too */
    if (solver_sched_w_terms(sched, t)) {
        UNIAP_CHECK_GOTO(s->w_terms, rc, fail);
        if ((rc = build_wgrad(m, r, w)) < 0)
            goto fail;
    }
    /* any row that failed (sticky builder) makes the whole MILP fail */
    if ((rc = r->rc) < 0)
        goto fail;
    m->complete = 1;
    return UNIAP_OK;

fail_nomem:
    rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory building the MILP of deg %d, c %d", D,
                   t->micro_batches);
fail:
    solver_milp_free(m);
    return rc;
}

int solver_milp_build(const uniap_cost_table *t, const solver_shape *s, uniap_schedule sched,
                      unsigned flags, const unsigned char *allow, solver_milp *m)
{
    solver_glpk_try tr;
    solver_rows *r = calloc(1, sizeof(*r));
    int rc;

    memset(m, 0, sizeof(*m));
    if (!r)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the MILP's row builder");
    solver_glpk_push(&tr);
    if (setjmp(tr.jb)) { /* GLPK failed (its heap, most likely) */
        rc = solver_glpk_caught(&tr, "building the MILP");
        solver_milp_free(m);
        goto free_rows;
    }
    rc = build(t, s, sched, flags, allow, m, r);
    solver_glpk_pop(&tr);
free_rows:
    free(r->ind);
    free(r->val);
    free(r);
    return rc;
}
