/*
 * milp_segment.c - the columns and rows of one segment of the MILP (the
 * layers of group g on stage i): integer counts per strategy with their
 * used indicators (big-M as small as memory allows), the first and last
 * layout class, the class changes inside the segment as an Euler path with
 * a connectivity flow; and the transport block that prices a resharding or
 * a cross-stage transfer between two segments (method.md section 3).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "solver_internal.h"

/* The most layers of group g that stage i can hold with strategy k: the
 * layers of g that can be on stage i at all, and (unless memory may be
 * exceeded) as many as fit in the device's memory beside nothing else. */
static int seg_cap(const solver_milp *m, int g, int i, int k)
{
    const solver_shape *s = m->s;
    const uniap_cost_table *t = m->t;
    int lo = s->start[g] > i ? s->start[g] : i;
    int hi = s->start[g] + s->len[g] - 1;
    if (hi > s->L - s->D + i)
        hi = s->L - s->D + i;
    int cap = hi - lo + 1;
    double budget = uniap_ct_budget(t, i);
    if (m->min_excess || budget <= 0)
        return cap;
    size_t uk = uniap_ct_ix(t, t->stage_class[i], s->start[g], k);
    double per =
        t->mem_states[uk] + uniap_inflight(m->sched, t->micro_batches, s->D, i) * t->mem_act[uk];
    /* the row's right-hand side, with the prefilters' slack */
    double room =
        budget * (1 - (m->guarded ? SOLVER_MEM_GUARD : 0) + SOLVER_MEM_SLACK) - t->mem_peak[uk];
    if (room < 0)
        return 0;
    if (per > 0 && room / per < cap)
        cap = (int)floor(room / per);
    return cap;
}

/* Strategy k may be used in segment (g, i): usable for the group, allowed
 * on stage i's device class, and kept by the reduced-cost fixing. */
static int seg_strategy(const solver_milp *m, int g, int i, int k)
{
    const solver_shape *s = m->s;
    const uniap_cost_table *t = m->t;
    int D = m->D, K = m->K;
    return s->usable[(size_t)g * K + k] &&
           t->allowed[uniap_ct_ix(t, t->stage_class[i], s->start[g], k)] &&
           (!m->allow || m->allow[SEGK(g, i, k)]);
}

/* Columns and rows of segment (g, i): counts, classes, internal order.
 * Returns r->rc (the row builder's first failure, or 0). */
int solver_build_segment(solver_milp *m, solver_rows *r, int g, int i)
{
    const solver_shape *s = m->s;
    glp_prob *lp = m->lp;
    int D = m->D, K = m->K, C = m->C, len = s->len[g];
    int Cg = 0;
    unsigned char *in = m->seg_in; /* [C]: the segment has a strategy of the class */
    char nm[64];

    memset(in, 0, (size_t)C);
    for (int k = 0; k < K; k++)
        if (seg_strategy(m, g, i, k))
            in[s->class_of[k]] = 1;
    for (int c = 0; c < C; c++)
        Cg += in[c];
    snprintf(nm, sizeof nm, "pres_g%d_s%d", g, i);
    m->pres[SEG(g, i)] = solver_add_col(lp, nm, GLP_BV, 0, 1, 0);
    for (int k = 0; k < K; k++) {
        if (!seg_strategy(m, g, i, k))
            continue;
        int cap = seg_cap(m, g, i, k);
        if (cap <= 0)
            continue; /* one layer with it already overflows the stage */
        snprintf(nm, sizeof nm, "n_g%d_s%d_k%d", g, i, k);
        m->n[SEGK(g, i, k)] = solver_add_col(lp, nm, len == 1 ? GLP_BV : GLP_IV, 0, cap, 0);
        if (len >= 2) {
            snprintf(nm, sizeof nm, "y_g%d_s%d_k%d", g, i, k);
            m->y[SEGK(g, i, k)] = solver_add_col(lp, nm, GLP_BV, 0, 1, 0);
            solver_row_add(r, m->n[SEGK(g, i, k)], 1);
            solver_row_add(r, m->y[SEGK(g, i, k)], -cap);
            solver_row_end(lp, r, GLP_UP, 0, 0);
        } else {
            m->y[SEGK(g, i, k)] = m->n[SEGK(g, i, k)];
        }
    }
    /* len * pres >= a >= pres */
    for (int k = 0; k < K; k++)
        solver_row_add(r, m->n[SEGK(g, i, k)], 1);
    solver_row_add(r, m->pres[SEG(g, i)], -1);
    solver_row_end(lp, r, GLP_LO, 0, 0);
    for (int k = 0; k < K; k++)
        solver_row_add(r, m->n[SEGK(g, i, k)], 1);
    solver_row_add(r, m->pres[SEG(g, i)], -len);
    solver_row_end(lp, r, GLP_UP, 0, 0);
    if (m->bound_only)
        return r->rc;

    /* first and last class: one-hot when present, only classes present */
    for (int c = 0; c < C; c++) {
        if (!in[c])
            continue;
        snprintf(nm, sizeof nm, "fc_g%d_s%d_c%d", g, i, c);
        m->fc[SEGC(g, i, c)] = solver_add_col(lp, nm, GLP_BV, 0, 1, 0);
        snprintf(nm, sizeof nm, "ec_g%d_s%d_c%d", g, i, c);
        m->ec[SEGC(g, i, c)] = solver_add_col(lp, nm, GLP_BV, 0, 1, 0);
        for (int e = 0; e < 2; e++) {
            solver_row_add(r, e ? m->ec[SEGC(g, i, c)] : m->fc[SEGC(g, i, c)], 1);
            for (int k = 0; k < K; k++)
                if (s->class_of[k] == c)
                    solver_row_add(r, m->n[SEGK(g, i, k)], -1);
            solver_row_end(lp, r, GLP_UP, 0, 0);
        }
    }
    for (int e = 0; e < 2; e++) {
        for (int c = 0; c < C; c++)
            solver_row_add(r, e ? m->ec[SEGC(g, i, c)] : m->fc[SEGC(g, i, c)], 1);
        solver_row_add(r, m->pres[SEG(g, i)], -1);
        solver_row_end(lp, r, GLP_FX, 0, 0);
    }
    if (len < 2)
        return r->rc;

    /* class changes inside the segment */
    if (Cg >= 2) {
        for (int c = 0; c < C; c++)
            for (int d = 0; d < C; d++) {
                if (c == d || !m->fc[SEGC(g, i, c)] || !m->fc[SEGC(g, i, d)])
                    continue;
                snprintf(nm, sizeof nm, "x_g%d_s%d_c%d_%d", g, i, c, d);
                m->x[SEGCC(g, i, c, d)] = solver_add_col(lp, nm, GLP_IV, 0, len - 1, 0);
                snprintf(nm, sizeof nm, "phi_g%d_s%d_c%d_%d", g, i, c, d);
                m->phi[SEGCC(g, i, c, d)] = solver_add_col(lp, nm, GLP_CV, 0, Cg, 0);
                solver_row_add(r, m->phi[SEGCC(g, i, c, d)], 1);
                solver_row_add(r, m->x[SEGCC(g, i, c, d)], -Cg);
                solver_row_end(lp, r, GLP_UP, 0, 0);
            }
    }
    for (int c = 0; c < C; c++) {
        int fcc = m->fc[SEGC(g, i, c)];
        if (!fcc)
            continue;
        /* visits_c = fc + in_c <= N_c */
        solver_row_add(r, fcc, 1);
        for (int d = 0; d < C; d++)
            solver_row_add(r, m->x[SEGCC(g, i, d, c)], 1);
        for (int k = 0; k < K; k++)
            if (s->class_of[k] == c)
                solver_row_add(r, m->n[SEGK(g, i, k)], -1);
        solver_row_end(lp, r, GLP_UP, 0, 0);
        if (Cg < 2)
            continue;
        /* Euler path: fc + in = ec + out */
        solver_row_add(r, fcc, 1);
        solver_row_add(r, m->ec[SEGC(g, i, c)], -1);
        for (int d = 0; d < C; d++) {
            solver_row_add(r, m->x[SEGCC(g, i, d, c)], 1);
            solver_row_add(r, m->x[SEGCC(g, i, c, d)], -1);
        }
        solver_row_end(lp, r, GLP_FX, 0, 0);
        /* used class: N_c <= len uc, visits_c >= uc */
        snprintf(nm, sizeof nm, "uc_g%d_s%d_c%d", g, i, c);
        int ucc = m->uc[SEGC(g, i, c)] = solver_add_col(lp, nm, GLP_BV, 0, 1, 0);
        for (int k = 0; k < K; k++)
            if (s->class_of[k] == c)
                solver_row_add(r, m->n[SEGK(g, i, k)], 1);
        solver_row_add(r, ucc, -len);
        solver_row_end(lp, r, GLP_UP, 0, 0);
        solver_row_add(r, fcc, 1);
        for (int d = 0; d < C; d++)
            solver_row_add(r, m->x[SEGCC(g, i, d, c)], 1);
        solver_row_add(r, ucc, -1);
        solver_row_end(lp, r, GLP_LO, 0, 0);
        /* connectivity: out - in of phi = q_c - uc, q_c <= Cg fc */
        snprintf(nm, sizeof nm, "q_g%d_s%d_c%d", g, i, c);
        int qcc = m->qc[SEGC(g, i, c)] = solver_add_col(lp, nm, GLP_CV, 0, Cg, 0);
        for (int d = 0; d < C; d++) {
            solver_row_add(r, m->phi[SEGCC(g, i, c, d)], 1);
            solver_row_add(r, m->phi[SEGCC(g, i, d, c)], -1);
        }
        solver_row_add(r, qcc, -1);
        solver_row_add(r, ucc, 1);
        solver_row_end(lp, r, GLP_FX, 0, 0);
        solver_row_add(r, qcc, 1);
        solver_row_add(r, fcc, -Cg);
        solver_row_end(lp, r, GLP_UP, 0, 0);
    }
    return r->rc;
}

/* Transport block between ec of segment (gl, il) and fc of (gr, ir) whose
 * total equals column `on`; returns cost terms through cols/costs. A
 * failure is left in r->rc (the builder is sticky; the caller checks). */
void solver_build_transport(solver_milp *m, solver_rows *r, int *tcols, int gl, int il, int gr,
                            int ir, int on, const char *tag)
{
    int D = m->D, C = m->C;
    char nm[64];
    for (int c = 0; c < C; c++)
        for (int d = 0; d < C; d++) {
            if (!m->ec[SEGC(gl, il, c)] || !m->fc[SEGC(gr, ir, d)])
                continue;
            snprintf(nm, sizeof nm, "%s_c%d_%d", tag, c, d);
            tcols[c * C + d] = solver_add_col(m->lp, nm, GLP_CV, 0, 1, 0);
        }
    for (int c = 0; c < C; c++) {
        if (!m->ec[SEGC(gl, il, c)])
            continue;
        for (int d = 0; d < C; d++)
            solver_row_add(r, tcols[c * C + d], 1);
        solver_row_add(r, m->ec[SEGC(gl, il, c)], -1);
        solver_row_end(m->lp, r, GLP_UP, 0, 0);
    }
    for (int d = 0; d < C; d++) {
        if (!m->fc[SEGC(gr, ir, d)])
            continue;
        for (int c = 0; c < C; c++)
            solver_row_add(r, tcols[c * C + d], 1);
        solver_row_add(r, m->fc[SEGC(gr, ir, d)], -1);
        solver_row_end(m->lp, r, GLP_UP, 0, 0);
    }
    for (int cd = 0; cd < C * C; cd++)
        solver_row_add(r, tcols[cd], 1);
    solver_row_add(r, on, -1);
    solver_row_end(m->lp, r, GLP_FX, 0, 0);
}
