/*
 * milp_encode.c - moving between plans and MILP columns: a plan written as
 * a full column vector (the heuristic incumbent handed to GLPK, and the
 * tests' proof that every plan is a feasible point whose objective is its
 * TPI), the bound violation of a point, and the plan read back from GLPK's
 * MIP solution (ordering each segment along an Euler path of its class
 * changes).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

/* The group of layer u, -1 when u is past the chain. */
static int group_of_layer(const solver_shape *s, int u)
{
    for (int g = 0; g < s->G; g++)
        if (u < s->start[g] + s->len[g])
            return g;
    return -1;
}

/* Sets column col to v; a plan needing a missing column is not a point of
 * this MILP (e.g. it uses a dominated strategy). */
static int put(double *x, int col, double v, const char *what)
{
    if (col) {
        x[col] = v;
        return 0;
    }
    if (v == 0.0)
        return 0;
    return uniap_err(UNIAP_EINVAL, "solver: the plan needs %s, which this MILP does not have",
                     what);
}

/* Workspace of encode_flow, sized by the number of classes C. */
typedef struct flow_ws {
    int *order, *parent, *seen; /* [C] each */
    double *sub;                /* [C] */
} flow_ws;

/* Connectivity flow of a segment: a BFS tree from class `first` over the
 * changes cnt[c][d] > 0, each tree edge carrying its subtree's used
 * classes. */
static void encode_flow(const solver_milp *m, double *x, int g, int i, const int *cnt,
                        const int *used, int first, const flow_ws *ws)
{
    int D = m->D, C = m->C, head = 0, tail = 0, nused = 0;
    int *order = ws->order, *parent = ws->parent, *seen = ws->seen;
    double *sub = ws->sub;
    memset(seen, 0, sizeof(int) * (size_t)C);
    order[tail++] = first;
    seen[first] = 1;
    parent[first] = -1;
    while (head < tail) {
        int v = order[head++];
        for (int d = 0; d < C; d++)
            if (!seen[d] && cnt[v * C + d] > 0) {
                seen[d] = 1;
                parent[d] = v;
                order[tail++] = d;
            }
    }
    for (int c = 0; c < C; c++)
        nused += used[c];
    for (int a = tail - 1; a >= 0; a--) {
        int v = order[a];
        sub[v] = used[v];
        for (int b = a + 1; b < tail; b++)
            if (parent[order[b]] == v)
                sub[v] += sub[order[b]];
        if (parent[v] >= 0 && m->phi[SEGCC(g, i, parent[v], v)])
            x[m->phi[SEGCC(g, i, parent[v], v)]] = sub[v];
    }
    if (m->qc[SEGC(g, i, first)])
        x[m->qc[SEGC(g, i, first)]] = nused;
}

/* Sets x[col] to the value that satisfies its defining equality row (the
 * row's other columns already set in x). */
static int defined_by(const solver_milp *m, int row, int col, double *x)
{
    int n = glp_get_mat_row(m->lp, row, NULL, NULL), rc = UNIAP_OK;
    int *ind = malloc(sizeof(int) * (n + 1));
    double *val = malloc(sizeof(double) * (n + 1)), rest = 0, own = 0;
    if (!ind || !val) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory encoding a plan");
        goto free_all;
    }
    glp_get_mat_row(m->lp, row, ind, val);
    for (int q = 1; q <= n; q++) {
        if (ind[q] == col)
            own = val[q];
        else
            rest += val[q] * x[ind[q]];
    }
    UNIAP_CHECK_GOTO(own != 0, rc, free_all);
    x[col] = (glp_get_row_lb(m->lp, row) - rest) / own;
free_all:
    free(ind);
    free(val);
    return rc;
}

int solver_milp_encode(const solver_milp *m, const int *stage_of, const int *strategy_of, double *x)
{
    const solver_shape *s = m->s;
    const uniap_cost_table *t = m->t;
    int G = m->G, D = m->D, K = m->K, C = m->C, L = s->L;
    int ncols = glp_get_num_cols(m->lp), rc;
    uniap_plan_eval e;
    int *cnt = NULL;

    if ((rc = uniap_plan_evaluate(t, m->sched, stage_of, strategy_of, &e)) < 0)
        return rc;
    /* cnt [C*C], ncl, used [C]; then the flow's workspace */
    size_t nc = (size_t)C * C + 2 * (size_t)C;
    cnt = calloc(nc + 3 * (size_t)C, sizeof(int));
    flow_ws ws = {.sub = malloc(sizeof(double) * (size_t)C)};
    if (!cnt || !ws.sub) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory encoding a plan");
        goto free_cnt;
    }
    int *ncl = cnt + (size_t)C * C, *used = ncl + C;
    ws.order = cnt + nc;
    ws.parent = ws.order + C;
    ws.seen = ws.parent + C;
    memset(x, 0, sizeof(double) * (ncols + 1));

    for (int g = 0; g < G; g++)
        for (int i = 0; i < D; i++) {
            int first = -1, last = -1, prev = -1, any = 0;
            memset(cnt, 0, sizeof(int) * nc);
            for (int u = s->start[g]; u < s->start[g] + s->len[g]; u++) {
                if (stage_of[u] != i)
                    continue;
                int k = strategy_of[u], c = s->class_of[k];
                if ((rc = put(x, m->n[SEGK(g, i, k)], x[m->n[SEGK(g, i, k)]] + 1,
                              "a strategy on a stage")) < 0)
                    goto free_cnt;
                any = 1;
                ncl[c]++;
                used[c] = 1;
                if (first < 0)
                    first = c;
                if (prev >= 0 && prev != c)
                    cnt[prev * C + c]++;
                prev = last = c;
            }
            if (!any)
                continue;
            x[m->pres[SEG(g, i)]] = 1;
            for (int k = 0; k < K; k++)
                if (m->y[SEGK(g, i, k)] && x[m->n[SEGK(g, i, k)]] > 0)
                    x[m->y[SEGK(g, i, k)]] = 1;
            if (m->bound_only)
                continue; /* no layout classes */
            x[m->fc[SEGC(g, i, first)]] = 1;
            x[m->ec[SEGC(g, i, last)]] = 1;
            for (int c = 0; c < C; c++) {
                if (m->uc[SEGC(g, i, c)])
                    x[m->uc[SEGC(g, i, c)]] = used[c];
                for (int d = 0; d < C; d++)
                    if ((rc = put(x, m->x[SEGCC(g, i, c, d)], cnt[c * C + d], "a class change")) <
                        0)
                        goto free_cnt;
            }
            encode_flow(m, x, g, i, cnt, used, first, &ws);
        }
    for (int g = 0; g < G; g++)
        for (int j = 0; j + 1 < D; j++) {
            int pre = 0;
            for (int u = s->start[g]; u < s->start[g] + s->len[g]; u++)
                pre += stage_of[u] <= j;
            x[m->pre[SEG(g, j)]] = pre;
        }
    for (int u = 0; u + 1 < L; u++) {
        int gl = group_of_layer(s, u), gr = group_of_layer(s, u + 1);
        UNIAP_CHECK_GOTO(gl >= 0 && gr >= 0, rc, free_cnt);
        int cl = s->class_of[strategy_of[u]], cr = s->class_of[strategy_of[u + 1]];
        int i = stage_of[u];
        if (stage_of[u + 1] != i) {
            int *loc = gl == gr ? m->lin : m->lat, *tb = gl == gr ? m->tbi : m->tba;
            if ((rc = put(x, loc[BND(i, gl)], 1, "a stage boundary there")) < 0 ||
                (!m->bound_only &&
                 (rc = put(x, tb[BNDCC(i, gl, cl, cr)], 1, "a transfer across a boundary")) < 0))
                goto free_cnt;
        } else if (gl != gr && m->bound_only) {
            if (m->jn[SEG(gl, i)]) /* only where the junction has a cost */
                x[m->jn[SEG(gl, i)]] = 1;
        } else if (gl != gr) {
            if ((rc = put(x, m->jn[SEG(gl, i)], 1, "a junction")) < 0 ||
                (rc = put(x, m->tj[SEGCC(gl, i, cl, cr)], 1, "a junction reshard")) < 0)
                goto free_cnt;
        }
    }
    double slowest = 0, tail = 0, excess = 0;
    for (int i = 0; i < D; i++) {
        double pk = 0;
        for (int u = 0; u < L; u++)
            if (stage_of[u] == i)
                pk = fmax(pk, t->mem_peak[uniap_ct_ix(t, t->stage_class[i], u, strategy_of[u])]);
        x[m->pk[i]] = pk / m->mem_scale;
        x[m->p[i]] = e.stage_compute[i];
        if (m->bound_only && (rc = defined_by(m, m->prow[i], m->p[i], x)) < 0)
            goto free_cnt;
        slowest = fmax(slowest, x[m->p[i]]);
        tail = fmax(tail, e.stage_tail[i]);
        excess = fmax(excess, (e.stage_mem[i] - uniap_ct_budget(t, i)) / m->mem_scale +
                                  (m->guarded ? SOLVER_MEM_GUARD : 0));
    }
    for (int j = 0; j + 1 < D; j++) {
        x[m->o[j]] = e.stage_comm[j];
        if (m->bound_only && (rc = defined_by(m, m->orow[j], m->o[j], x)) < 0)
            goto free_cnt;
        slowest = fmax(slowest, uniap_schedule_terms_of(m->sched, t->micro_batches, D).comm_max *
                                    x[m->o[j]]);
    }
    x[m->T] = slowest;
    x[m->tau] = tail;
    for (int i = 0; m->wg && i < D; i++) {
        x[m->wg[i]] = e.stage_wgrad[i];
        x[m->wm] = fmax(x[m->wm], e.stage_wgrad[i]);
    }
    if (m->xs)
        x[m->xs] = excess;
    solver_rules_encode(m, stage_of, strategy_of, x);
    rc = UNIAP_OK;
free_cnt:
    free(cnt);
    free(ws.sub);
    uniap_plan_eval_free(&e);
    return rc;
}

double solver_milp_violation(const solver_milp *m, const double *x)
{
    glp_prob *lp = m->lp;
    int nr = glp_get_num_rows(lp), nc = glp_get_num_cols(lp);
    int *ind = malloc(sizeof(int) * (nc + 1));
    double *val = malloc(sizeof(double) * (nc + 1)), worst = 0;
    if (!ind || !val) {
        free(ind);
        free(val);
        return HUGE_VAL;
    }
    for (int r = 1; r <= nr; r++) {
        int len = glp_get_mat_row(lp, r, ind, val), type = glp_get_row_type(lp, r);
        double a = 0;
        for (int q = 1; q <= len; q++)
            a += val[q] * x[ind[q]];
        if (type == GLP_LO || type == GLP_DB || type == GLP_FX)
            worst = fmax(worst, glp_get_row_lb(lp, r) - a);
        if (type == GLP_UP || type == GLP_DB || type == GLP_FX)
            worst = fmax(worst, a - glp_get_row_ub(lp, r));
    }
    for (int j = 1; j <= nc; j++) {
        int type = glp_get_col_type(lp, j);
        if (type == GLP_LO || type == GLP_DB || type == GLP_FX)
            worst = fmax(worst, glp_get_col_lb(lp, j) - x[j]);
        if (type == GLP_UP || type == GLP_DB || type == GLP_FX)
            worst = fmax(worst, x[j] - glp_get_col_ub(lp, j));
        if (glp_get_col_kind(lp, j) != GLP_CV)
            worst = fmax(worst, fabs(x[j] - round(x[j])));
    }
    free(ind);
    free(val);
    return worst;
}

static int ival(const solver_milp *m, int col)
{
    return col ? (int)lround(glp_mip_col_val(m->lp, col)) : 0;
}

/* Euler path over the class changes cnt from class `first`; writes the
 * classes visited to path and returns their number. */
static int euler_path(int C, int *cnt, int first, int *path, int *stack)
{
    int top = 0, n = 0;
    stack[top++] = first;
    while (top > 0) {
        int v = stack[top - 1], d;
        for (d = 0; d < C; d++)
            if (cnt[v * C + d] > 0)
                break;
        if (d < C) {
            cnt[v * C + d]--;
            stack[top++] = d;
        } else {
            path[n++] = stack[--top];
        }
    }
    for (int a = 0; a < n / 2; a++) {
        int tmp = path[a];
        path[a] = path[n - 1 - a];
        path[n - 1 - a] = tmp;
    }
    return n;
}

int solver_milp_extract(const solver_milp *m, int *stage_of, int *strategy_of)
{
    const solver_shape *s = m->s;
    int G = m->G, D = m->D, K = m->K, C = m->C;
    int *cnt = NULL, *path = NULL, *stack = NULL, *nk = NULL, *pos = NULL;
    int rc = UNIAP_OK;

    cnt = malloc(sizeof(int) * C * C);
    nk = malloc(sizeof(int) * K);
    pos = malloc(sizeof(int) * G);
    path = malloc(sizeof(int) * (s->L + 2));
    stack = malloc(sizeof(int) * (s->L + 2));
    if (!cnt || !nk || !pos || !path || !stack) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory reading the MILP solution");
        goto free_all;
    }
    for (int g = 0; g < G; g++)
        pos[g] = s->start[g];
    for (int i = 0; i < D; i++)
        for (int g = 0; g < G; g++) {
            int a = 0, first = -1, last = -1, changes = 0;
            for (int k = 0; k < K; k++)
                a += nk[k] = ival(m, m->n[SEGK(g, i, k)]);
            if (a == 0)
                continue;
            if (m->bound_only) {
                /* no order in the solution: one block per class, the
                 * fewest class changes */
                for (int c = 0; c < C; c++)
                    for (int k = 0; k < K; k++)
                        while (s->class_of[k] == c && nk[k] > 0 &&
                               pos[g] < s->start[g] + s->len[g]) {
                            stage_of[pos[g]] = i;
                            strategy_of[pos[g]++] = k;
                            nk[k]--;
                        }
                continue;
            }
            int bad = 0;
            for (int c = 0; c < C; c++) {
                if (ival(m, m->fc[SEGC(g, i, c)]))
                    first = c;
                if (ival(m, m->ec[SEGC(g, i, c)]))
                    last = c;
                for (int d = 0; d < C; d++) {
                    int v = cnt[c * C + d] = ival(m, m->x[SEGCC(g, i, c, d)]);
                    bad |= v < 0 || v > s->len[g];
                    changes += bad ? 0 : v;
                }
            }
            /* a solution GLPK got numerically wrong must not walk off the
             * path and stack (L + 2 entries each): checked first */
            int np = 0;
            if (!bad && first >= 0 && changes < s->len[g])
                np = euler_path(C, cnt, first, path, stack);
            if (np == 0 || np != changes + 1 || path[np - 1] != last ||
                pos[g] + a > s->start[g] + s->len[g]) {
                rc = uniap_err(UNIAP_ELIB,
                               "solver: the MILP solution of group %d on stage %d is not a valid "
                               "ordering (%d layers, %d class changes)",
                               g, i, a, changes);
                goto free_all;
            }
            /* visit v of class c takes one layer, the first visit of c
             * takes the rest; strategies of the class in index order */
            for (int v = 0; v < np; v++) {
                int c = path[v], take = 1, left = 0, later = 0;
                for (int k = 0; k < K; k++)
                    if (s->class_of[k] == c)
                        left += nk[k];
                for (int w = v + 1; w < np; w++)
                    later += path[w] == c;
                take = left - later;
                for (int k = 0; k < K && take > 0; k++)
                    while (s->class_of[k] == c && nk[k] > 0 && take > 0) {
                        stage_of[pos[g]] = i;
                        strategy_of[pos[g]++] = k;
                        nk[k]--;
                        take--;
                    }
                if (take != 0) {
                    rc = uniap_err(UNIAP_ELIB,
                                   "solver: class %d visited more often than it has "
                                   "layers (group %d, stage %d)",
                                   c, g, i);
                    goto free_all;
                }
            }
        }
    for (int g = 0; g < G; g++)
        if (pos[g] != s->start[g] + s->len[g]) {
            rc = uniap_err(UNIAP_ELIB,
                           "solver: the MILP solution places %d of %d layers of group %d",
                           pos[g] - s->start[g], s->len[g], g);
            goto free_all;
        }
    solver_rules_order(s, stage_of, strategy_of); /* a runtime's marked-first order */
free_all:
    free(cnt);
    free(nk);
    free(pos);
    free(path);
    free(stack);
    return rc;
}
