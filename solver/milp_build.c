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
 * are exact. Epigraphs: T >= p_i, o_j; tau >= tail_i; pk_i >= peak of
 * every used strategy. Memory rows are scaled by the budget.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

typedef struct row_buf {
    int n, cap;
    int *ind;
    double *val;
} row_buf;

static int rb_add(row_buf *r, int col, double v)
{
    if (!col || v == 0.0)
        return 0;
    if (r->n + 2 > r->cap) {
        int cap = r->cap ? 2 * r->cap : 256;
        int *ind = realloc(r->ind, sizeof(int) * cap);
        if (!ind)
            return -1;
        r->ind = ind;
        double *val = realloc(r->val, sizeof(double) * cap);
        if (!val)
            return -1;
        r->val = val;
        r->cap = cap;
    }
    /* GLPK rows are 1-based: ind[1..n] */
    r->n++;
    r->ind[r->n] = col;
    r->val[r->n] = v;
    return 0;
}

/* Adds the row (merging repeated columns) with bounds of the given type. */
static int rb_end(glp_prob *lp, row_buf *r, int type, double lb, double ub)
{
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

static int add_col(glp_prob *lp, const char *name, int kind, double lb, double ub, double obj)
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
    if (m->lp)
        glp_delete_prob(m->lp);
    int **arrs[] = {&m->n,   &m->y,   &m->pres, &m->fc, &m->ec,  &m->uc,  &m->qc,
                    &m->x,   &m->phi, &m->jn,   &m->tj, &m->pre, &m->lin, &m->lat,
                    &m->tbi, &m->tba, &m->p,    &m->o,  &m->pk};
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
    return m->n && m->y && m->pres && m->fc && m->ec && m->uc && m->qc && m->x && m->phi && m->jn &&
                   m->tj && m->pre && m->lin && m->lat && m->tbi && m->tba && m->p && m->o && m->pk
               ? 0
               : -1;
}

/* Columns and rows of segment (g, i): counts, classes, internal order. */
static int build_segment(solver_milp *m, row_buf *r, int g, int i)
{
    const solver_shape *s = m->s;
    glp_prob *lp = m->lp;
    int D = m->D, K = m->K, C = m->C, len = s->len[g];
    int Cg = 0;
    char nm[64];

    for (int c = 0; c < C; c++)
        Cg += s->class_in[(size_t)g * C + c];
    snprintf(nm, sizeof nm, "pres_g%d_s%d", g, i);
    m->pres[SEG(g, i)] = add_col(lp, nm, GLP_BV, 0, 1, 0);
    for (int k = 0; k < K; k++) {
        if (!s->usable[(size_t)g * K + k])
            continue;
        snprintf(nm, sizeof nm, "n_g%d_s%d_k%d", g, i, k);
        m->n[SEGK(g, i, k)] = add_col(lp, nm, len == 1 ? GLP_BV : GLP_IV, 0, len, 0);
        if (len >= 2) {
            snprintf(nm, sizeof nm, "y_g%d_s%d_k%d", g, i, k);
            m->y[SEGK(g, i, k)] = add_col(lp, nm, GLP_BV, 0, 1, 0);
            rb_add(r, m->n[SEGK(g, i, k)], 1);
            rb_add(r, m->y[SEGK(g, i, k)], -len);
            rb_end(lp, r, GLP_UP, 0, 0);
        } else {
            m->y[SEGK(g, i, k)] = m->n[SEGK(g, i, k)];
        }
    }
    /* len * pres >= a >= pres */
    for (int k = 0; k < K; k++)
        rb_add(r, m->n[SEGK(g, i, k)], 1);
    rb_add(r, m->pres[SEG(g, i)], -1);
    rb_end(lp, r, GLP_LO, 0, 0);
    for (int k = 0; k < K; k++)
        rb_add(r, m->n[SEGK(g, i, k)], 1);
    rb_add(r, m->pres[SEG(g, i)], -len);
    rb_end(lp, r, GLP_UP, 0, 0);

    /* first and last class: one-hot when present, only classes present */
    for (int c = 0; c < C; c++) {
        if (!s->class_in[(size_t)g * C + c])
            continue;
        snprintf(nm, sizeof nm, "fc_g%d_s%d_c%d", g, i, c);
        m->fc[SEGC(g, i, c)] = add_col(lp, nm, GLP_BV, 0, 1, 0);
        snprintf(nm, sizeof nm, "ec_g%d_s%d_c%d", g, i, c);
        m->ec[SEGC(g, i, c)] = add_col(lp, nm, GLP_BV, 0, 1, 0);
        for (int e = 0; e < 2; e++) {
            rb_add(r, e ? m->ec[SEGC(g, i, c)] : m->fc[SEGC(g, i, c)], 1);
            for (int k = 0; k < K; k++)
                if (s->class_of[k] == c)
                    rb_add(r, m->n[SEGK(g, i, k)], -1);
            rb_end(lp, r, GLP_UP, 0, 0);
        }
    }
    for (int e = 0; e < 2; e++) {
        for (int c = 0; c < C; c++)
            rb_add(r, e ? m->ec[SEGC(g, i, c)] : m->fc[SEGC(g, i, c)], 1);
        rb_add(r, m->pres[SEG(g, i)], -1);
        rb_end(lp, r, GLP_FX, 0, 0);
    }
    if (len < 2)
        return 0;

    /* class changes inside the segment */
    if (Cg >= 2) {
        for (int c = 0; c < C; c++)
            for (int d = 0; d < C; d++) {
                if (c == d || !m->fc[SEGC(g, i, c)] || !m->fc[SEGC(g, i, d)])
                    continue;
                snprintf(nm, sizeof nm, "x_g%d_s%d_c%d_%d", g, i, c, d);
                m->x[SEGCC(g, i, c, d)] = add_col(lp, nm, GLP_IV, 0, len - 1, 0);
                snprintf(nm, sizeof nm, "phi_g%d_s%d_c%d_%d", g, i, c, d);
                m->phi[SEGCC(g, i, c, d)] = add_col(lp, nm, GLP_CV, 0, Cg, 0);
                rb_add(r, m->phi[SEGCC(g, i, c, d)], 1);
                rb_add(r, m->x[SEGCC(g, i, c, d)], -Cg);
                rb_end(lp, r, GLP_UP, 0, 0);
            }
    }
    for (int c = 0; c < C; c++) {
        int fcc = m->fc[SEGC(g, i, c)];
        if (!fcc)
            continue;
        /* visits_c = fc + in_c <= N_c */
        rb_add(r, fcc, 1);
        for (int d = 0; d < C; d++)
            rb_add(r, m->x[SEGCC(g, i, d, c)], 1);
        for (int k = 0; k < K; k++)
            if (s->class_of[k] == c)
                rb_add(r, m->n[SEGK(g, i, k)], -1);
        rb_end(lp, r, GLP_UP, 0, 0);
        if (Cg < 2)
            continue;
        /* Euler path: fc + in = ec + out */
        rb_add(r, fcc, 1);
        rb_add(r, m->ec[SEGC(g, i, c)], -1);
        for (int d = 0; d < C; d++) {
            rb_add(r, m->x[SEGCC(g, i, d, c)], 1);
            rb_add(r, m->x[SEGCC(g, i, c, d)], -1);
        }
        rb_end(lp, r, GLP_FX, 0, 0);
        /* used class: N_c <= len uc, visits_c >= uc */
        snprintf(nm, sizeof nm, "uc_g%d_s%d_c%d", g, i, c);
        int ucc = m->uc[SEGC(g, i, c)] = add_col(lp, nm, GLP_BV, 0, 1, 0);
        for (int k = 0; k < K; k++)
            if (s->class_of[k] == c)
                rb_add(r, m->n[SEGK(g, i, k)], 1);
        rb_add(r, ucc, -len);
        rb_end(lp, r, GLP_UP, 0, 0);
        rb_add(r, fcc, 1);
        for (int d = 0; d < C; d++)
            rb_add(r, m->x[SEGCC(g, i, d, c)], 1);
        rb_add(r, ucc, -1);
        rb_end(lp, r, GLP_LO, 0, 0);
        /* connectivity: out - in of phi = q_c - uc, q_c <= Cg fc */
        snprintf(nm, sizeof nm, "q_g%d_s%d_c%d", g, i, c);
        int qcc = m->qc[SEGC(g, i, c)] = add_col(lp, nm, GLP_CV, 0, Cg, 0);
        for (int d = 0; d < C; d++) {
            rb_add(r, m->phi[SEGCC(g, i, c, d)], 1);
            rb_add(r, m->phi[SEGCC(g, i, d, c)], -1);
        }
        rb_add(r, qcc, -1);
        rb_add(r, ucc, 1);
        rb_end(lp, r, GLP_FX, 0, 0);
        rb_add(r, qcc, 1);
        rb_add(r, fcc, -Cg);
        rb_end(lp, r, GLP_UP, 0, 0);
    }
    return 0;
}

/* Transport block between ec of segment (gl, il) and fc of (gr, ir) whose
 * total equals column `on`; returns cost terms through cols/costs. */
static void build_transport(solver_milp *m, row_buf *r, int *tcols, int gl, int il, int gr, int ir,
                            int on, const char *tag)
{
    int D = m->D, C = m->C;
    char nm[64];
    for (int c = 0; c < C; c++)
        for (int d = 0; d < C; d++) {
            if (!m->ec[SEGC(gl, il, c)] || !m->fc[SEGC(gr, ir, d)])
                continue;
            snprintf(nm, sizeof nm, "%s_c%d_%d", tag, c, d);
            tcols[c * C + d] = add_col(m->lp, nm, GLP_CV, 0, 1, 0);
        }
    for (int c = 0; c < C; c++) {
        if (!m->ec[SEGC(gl, il, c)])
            continue;
        for (int d = 0; d < C; d++)
            rb_add(r, tcols[c * C + d], 1);
        rb_add(r, m->ec[SEGC(gl, il, c)], -1);
        rb_end(m->lp, r, GLP_UP, 0, 0);
    }
    for (int d = 0; d < C; d++) {
        if (!m->fc[SEGC(gr, ir, d)])
            continue;
        for (int c = 0; c < C; c++)
            rb_add(r, tcols[c * C + d], 1);
        rb_add(r, m->fc[SEGC(gr, ir, d)], -1);
        rb_end(m->lp, r, GLP_UP, 0, 0);
    }
    for (int cd = 0; cd < C * C; cd++)
        rb_add(r, tcols[cd], 1);
    rb_add(r, on, -1);
    rb_end(m->lp, r, GLP_FX, 0, 0);
}

int solver_milp_build(const uniap_cost_table *t, const solver_shape *s, uniap_schedule sched,
                      int min_excess, solver_milp *m)
{
    int G = s->G, D = s->D, K = s->K, C = s->C, L = s->L;
    row_buf rb = {0}, *r = &rb;
    char nm[64];
    int rc = UNIAP_OK;

    memset(m, 0, sizeof(*m));
    m->t = t;
    m->s = s;
    m->sched = sched;
    m->min_excess = min_excess;
    m->G = G, m->D = D, m->K = K, m->C = C;
    m->mem_scale = t->mem_budget > 0 ? t->mem_budget : 1.0;
    assert(L >= D);
    (void)L;
    if (alloc_maps(m) < 0 || !(m->lp = glp_create_prob()))
        goto fail_nomem;
    glp_set_prob_name(m->lp, "uniap_pair");
    glp_set_obj_dir(m->lp, GLP_MIN);

    double cm1 = t->micro_batches - 1;
    for (int i = 0; i < D; i++) {
        snprintf(nm, sizeof nm, "p_s%d", i);
        m->p[i] = add_col(m->lp, nm, GLP_CV, 0, 1e301, min_excess ? 0 : 1);
        snprintf(nm, sizeof nm, "pk_s%d", i);
        m->pk[i] = add_col(m->lp, nm, GLP_CV, 0, 1e301, 0);
    }
    for (int j = 0; j + 1 < D; j++) {
        snprintf(nm, sizeof nm, "o_b%d", j);
        m->o[j] = add_col(m->lp, nm, GLP_CV, 0, 1e301, min_excess ? 0 : 1);
    }
    m->T = add_col(m->lp, "T_slowest", GLP_CV, 0, 1e301, min_excess ? 0 : cm1);
    m->tau = add_col(m->lp, "tau_tail", GLP_CV, 0, 1e301, min_excess ? 0 : 1);
    if (min_excess)
        m->xs = add_col(m->lp, "excess", GLP_CV, 0, 1e301, 1);

    for (int g = 0; g < G; g++)
        for (int i = 0; i < D; i++)
            if (seg_possible(s, g, i) && build_segment(m, r, g, i) < 0)
                goto fail_nomem;

    /* boundary locations and prefixes */
    for (int j = 0; j + 1 < D; j++) {
        for (int g = 0; g < G; g++) {
            int a = s->start[g], e = a + s->len[g];
            int in_ok = 0;
            for (int b = a + 1; b < e && !in_ok; b++)
                in_ok = bound_possible(s, j, b);
            if (in_ok) {
                snprintf(nm, sizeof nm, "lin_b%d_g%d", j, g);
                m->lin[BND(j, g)] = add_col(m->lp, nm, GLP_BV, 0, 1, 0);
            }
            if (g + 1 < G && bound_possible(s, j, e)) {
                snprintf(nm, sizeof nm, "lat_b%d_g%d", j, g);
                m->lat[BND(j, g)] = add_col(m->lp, nm, GLP_BV, 0, 1, 0);
            }
            snprintf(nm, sizeof nm, "pre_g%d_b%d", g, j);
            m->pre[SEG(g, j)] = add_col(m->lp, nm, GLP_IV, 0, s->len[g], 0);
        }
        for (int g = 0; g < G; g++) {
            rb_add(r, m->lin[BND(j, g)], 1);
            rb_add(r, m->lat[BND(j, g)], 1);
        }
        rb_end(m->lp, r, GLP_FX, 1, 1);
        for (int g = 0; g < G; g++) {
            int len = s->len[g];
            /* pre >= len * A + I and pre <= len * A + (len-1) I, where A:
             * the boundary is at or after the end of g, I: inside g */
            for (int e = 0; e < 2; e++) {
                rb_add(r, m->pre[SEG(g, j)], 1);
                rb_add(r, m->lat[BND(j, g)], -len);
                for (int h = g + 1; h < G; h++) {
                    rb_add(r, m->lin[BND(j, h)], -len);
                    rb_add(r, m->lat[BND(j, h)], -len);
                }
                rb_add(r, m->lin[BND(j, g)], e ? -(len - 1) : -1);
                rb_end(m->lp, r, e ? GLP_UP : GLP_LO, 0, 0);
            }
        }
    }
    /* segment sizes follow the prefixes; every stage is non-empty */
    for (int g = 0; g < G; g++)
        for (int i = 0; i < D; i++) {
            for (int k = 0; k < K; k++)
                rb_add(r, m->n[SEGK(g, i, k)], 1);
            double rhs = 0;
            if (i + 1 < D)
                rb_add(r, m->pre[SEG(g, i)], -1);
            else
                rhs += s->len[g];
            if (i > 0)
                rb_add(r, m->pre[SEG(g, i - 1)], 1);
            rb_end(m->lp, r, GLP_FX, rhs, rhs);
        }
    for (int i = 0; i < D; i++) {
        for (int g = 0; g < G; g++)
            for (int k = 0; k < K; k++)
                rb_add(r, m->n[SEGK(g, i, k)], 1);
        rb_end(m->lp, r, GLP_LO, 1, 0);
    }

    /* junctions inside a stage */
    for (int g = 0; g + 1 < G; g++)
        for (int i = 0; i < D; i++) {
            if (!m->pres[SEG(g, i)] || !m->pres[SEG(g + 1, i)])
                continue;
            snprintf(nm, sizeof nm, "jn_g%d_s%d", g, i);
            int jn = m->jn[SEG(g, i)] = add_col(m->lp, nm, GLP_BV, 0, 1, 0);
            rb_add(r, jn, 1);
            rb_add(r, m->pres[SEG(g, i)], -1);
            rb_end(m->lp, r, GLP_UP, 0, 0);
            rb_add(r, jn, 1);
            rb_add(r, m->pres[SEG(g + 1, i)], -1);
            rb_end(m->lp, r, GLP_UP, 0, 0);
            rb_add(r, jn, 1);
            rb_add(r, m->pres[SEG(g, i)], -1);
            rb_add(r, m->pres[SEG(g + 1, i)], -1);
            rb_end(m->lp, r, GLP_LO, -1, 0);
            snprintf(nm, sizeof nm, "tj_g%d_s%d", g, i);
            build_transport(m, r, m->tj + SEGCC(g, i, 0, 0), g, i, g + 1, i, jn, nm);
        }
    /* transports across boundaries, and o_j */
    for (int j = 0; j + 1 < D; j++) {
        int span = t->boundary_spans_nodes[j] ? 1 : 0;
        for (int g = 0; g < G; g++) {
            if (m->lin[BND(j, g)]) {
                snprintf(nm, sizeof nm, "tbi_b%d_g%d", j, g);
                build_transport(m, r, m->tbi + BNDCC(j, g, 0, 0), g, j, g, j + 1, m->lin[BND(j, g)],
                                nm);
            }
            if (m->lat[BND(j, g)]) {
                snprintf(nm, sizeof nm, "tba_b%d_g%d", j, g);
                build_transport(m, r, m->tba + BNDCC(j, g, 0, 0), g, j, g + 1, j + 1,
                                m->lat[BND(j, g)], nm);
            }
        }
        rb_add(r, m->o[j], 1);
        for (int g = 0; g < G; g++)
            for (int c = 0; c < C; c++)
                for (int d = 0; d < C; d++) {
                    if (m->tbi[BNDCC(j, g, c, d)])
                        rb_add(r, m->tbi[BNDCC(j, g, c, d)], -solver_xint(t, s, span, g, c, d));
                    if (m->tba[BNDCC(j, g, c, d)])
                        rb_add(r, m->tba[BNDCC(j, g, c, d)], -solver_xjunc(t, s, span, g, c, d));
                }
        rb_end(m->lp, r, GLP_FX, 0, 0);
        rb_add(r, m->T, 1);
        rb_add(r, m->o[j], -1);
        rb_end(m->lp, r, GLP_LO, 0, 0);
    }

    /* stage time, tail and memory */
    for (int i = 0; i < D; i++) {
        double infl = uniap_inflight(sched, t->micro_batches, D, i);
        rb_add(r, m->p[i], 1);
        for (int g = 0; g < G; g++) {
            size_t u = (size_t)s->start[g] * K;
            for (int k = 0; k < K; k++) {
                double self =
                    s->len[g] >= 2 ? solver_rint(t, s, g, s->class_of[k], s->class_of[k]) : 0.0;
                rb_add(r, m->n[SEGK(g, i, k)], -(t->time[u + k] + self));
            }
            if (s->len[g] >= 2)
                for (int c = 0; c < C; c++) {
                    double rcc = solver_rint(t, s, g, c, c);
                    rb_add(r, m->fc[SEGC(g, i, c)], rcc);
                    for (int d = 0; d < C; d++)
                        rb_add(r, m->x[SEGCC(g, i, d, c)], -(solver_rint(t, s, g, d, c) - rcc));
                }
            if (g + 1 < G)
                for (int c = 0; c < C; c++)
                    for (int d = 0; d < C; d++)
                        rb_add(r, m->tj[SEGCC(g, i, c, d)], -solver_rjunc(t, s, g, c, d));
        }
        rb_end(m->lp, r, GLP_FX, 0, 0);
        rb_add(r, m->T, 1);
        rb_add(r, m->p[i], -1);
        rb_end(m->lp, r, GLP_LO, 0, 0);
        rb_add(r, m->tau, 1);
        for (int g = 0; g < G; g++)
            for (int k = 0; k < K; k++)
                rb_add(r, m->n[SEGK(g, i, k)], -t->tail[(size_t)s->start[g] * K + k]);
        rb_end(m->lp, r, GLP_LO, 0, 0);
        for (int g = 0; g < G; g++)
            for (int k = 0; k < K; k++) {
                size_t uk = (size_t)s->start[g] * K + k;
                rb_add(r, m->n[SEGK(g, i, k)],
                       (t->mem_states[uk] + infl * t->mem_act[uk]) / m->mem_scale);
            }
        rb_add(r, m->pk[i], 1);
        rb_add(r, m->xs, -1);
        rb_end(m->lp, r, GLP_UP, 0, t->mem_budget / m->mem_scale - SOLVER_MEM_MARGIN);
        for (int g = 0; g < G; g++)
            for (int k = 0; k < K; k++) {
                double pk = t->mem_peak[(size_t)s->start[g] * K + k] / m->mem_scale;
                if (pk <= 0 || !m->y[SEGK(g, i, k)])
                    continue;
                rb_add(r, m->pk[i], 1);
                rb_add(r, m->y[SEGK(g, i, k)], -pk);
                rb_end(m->lp, r, GLP_LO, 0, 0);
            }
    }
    goto free_rows;

fail_nomem:
    solver_milp_free(m);
    rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory building the MILP of deg %d, c %d", D,
                   t->micro_batches);
free_rows:
    free(rb.ind);
    free(rb.val);
    return rc;
}
