/*
 * milp_rules.c - a runtime's stage rules in the MILP (method.md section
 * 10), for one variant of its space (solver_rules, on the variant's
 * compact table, whose strategies the variant already restricts):
 *   stage ranges (DeepSpeed's fixed split): layer u, position p of group
 *     g, is on a stage <= hi[u] iff pre[g, hi[u]] >= p + 1, and on a stage
 *     >= lo[u] iff pre[g, lo[u] - 1] <= p: bounds of the prefixes;
 *   equal middle stages (Megatron-LM's --decoder-first/last-pipeline-num-
 *     layers): an integer mid, sum_{g counted, k} n[g,i,k] = mid on every
 *     stage 1..D-2;
 *   equal recomputation (Megatron-LM's --recompute-method block): an
 *     integer nck, sum_{g counted, k marked} n[g,i,k] = nck on every
 *     stage, and the marked blocks first: with w[g,i] = "an unmarked block
 *     in the counted groups <= g on stage i" (binary),
 *       sum_{k unmarked} n[g,i,k] <= len_g w[g,i],  w[g,i] >= w[g',i],
 *       sum_{k marked} n[g,i,k] <= len_g (1 - w[g',i])
 *     (g' the previous counted group on stage i); inside a group the
 *     order is free, and the plan read back puts marked layers first
 *     (solver_rules_order);
 *   blocks on every stage (Galvatron's pp_division): sum_{g counted, k}
 *     n[g,i,k] >= min_counted on every stage;
 *   tied layers (Galvatron's vocab_tp, vocab_sdp): each is a group of one,
 *     and for every key value v, sum_{i, k: key v} n[a,i,k] is the same
 *     for every tied group a.
 * Every rule is linear in the counts and the prefixes, so the layout-free
 * relaxation and the shortfall problem carry it as well.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

/* Stage ranges as rows on the prefixes (rows, not column bounds: a range
 * no placement meets is then an infeasible LP, not a GLPK error). */
static void range_rows(solver_milp *m, solver_rows *r)
{
    const solver_shape *s = m->s;
    const solver_rules *ru = s->rules;
    int G = m->G, D = m->D;
    for (int g = 0; g < G; g++)
        for (int j = 0; j + 1 < D; j++) {
            int col = m->pre[SEG(g, j)], lb = 0, ub = s->len[g];
            for (int p = 0; p < s->len[g]; p++) {
                int u = s->start[g] + p;
                if (ru->hi[u] <= j && p + 1 > lb)
                    lb = p + 1; /* u is on a stage <= j */
                if (ru->lo[u] > j && p < ub)
                    ub = p; /* u is on a stage > j */
            }
            if (lb > 0) {
                solver_row_add(r, col, 1);
                solver_row_end(m->lp, r, GLP_LO, lb, 0);
            }
            if (ub < s->len[g]) {
                solver_row_add(r, col, 1);
                solver_row_end(m->lp, r, GLP_UP, 0, ub);
            }
        }
}

/* sum of n[g,i,k] over counted groups g and strategies k with marked[k]
 * == mark (mark < 0: every k), times coef, into r. */
static void add_counted(solver_milp *m, solver_rows *r, int i, int mark, double coef)
{
    const solver_shape *s = m->s;
    const solver_rules *ru = s->rules;
    int D = m->D, K = m->K;
    for (int g = 0; g < m->G; g++)
        if (ru->counted[s->start[g]])
            for (int k = 0; k < K; k++)
                if (mark < 0 || ru->marked[k] == mark)
                    solver_row_add(r, m->n[SEGK(g, i, k)], coef);
}

/* The marked-first order on stage i over its counted groups. */
static void prefix_rows(solver_milp *m, solver_rows *r, int i)
{
    const solver_shape *s = m->s;
    const solver_rules *ru = s->rules;
    int D = m->D, K = m->K, segs = 0, prev = 0;
    char nm[64];
    for (int g = 0; g < m->G; g++)
        segs += ru->counted[s->start[g]] && m->pres[SEG(g, i)];
    if (segs < 2)
        return; /* one group of blocks on the stage: its order is free */
    for (int g = 0; g < m->G; g++) {
        if (!ru->counted[s->start[g]] || !m->pres[SEG(g, i)])
            continue;
        int len = s->len[g];
        snprintf(nm, sizeof nm, "wck_g%d_s%d", g, i);
        int w = m->wck[SEG(g, i)] = solver_add_col(m->lp, nm, GLP_BV, 0, 1, 0);
        for (int k = 0; k < K; k++)
            if (!ru->marked[k])
                solver_row_add(r, m->n[SEGK(g, i, k)], 1);
        solver_row_add(r, w, -len);
        solver_row_end(m->lp, r, GLP_UP, 0, 0);
        if (prev) {
            solver_row_add(r, w, 1);
            solver_row_add(r, prev, -1);
            solver_row_end(m->lp, r, GLP_LO, 0, 0);
            for (int k = 0; k < K; k++)
                if (ru->marked[k])
                    solver_row_add(r, m->n[SEGK(g, i, k)], 1);
            solver_row_add(r, prev, len);
            solver_row_end(m->lp, r, GLP_UP, 0, len);
        }
        prev = w;
    }
}

/* The tied groups use strategies of one key. */
static void tie_rows(solver_milp *m, solver_rows *r)
{
    const solver_shape *s = m->s;
    const solver_rules *ru = s->rules;
    int D = m->D, K = m->K, first = -1;
    for (int a = 0; a < m->G; a++) {
        if (ru->tie[s->start[a]] < 0)
            continue;
        if (first < 0) {
            first = a;
            continue;
        }
        for (int k = 0; k < K; k++) {
            int seen = 0;
            for (int l = 0; l < k && !seen; l++)
                seen = ru->key[l] == ru->key[k];
            if (seen)
                continue; /* one row per key value */
            for (int i = 0; i < D; i++)
                for (int l = 0; l < K; l++)
                    if (ru->key[l] == ru->key[k]) {
                        solver_row_add(r, m->n[SEGK(first, i, l)], 1);
                        solver_row_add(r, m->n[SEGK(a, i, l)], -1);
                    }
            solver_row_end(m->lp, r, GLP_FX, 0, 0);
        }
    }
}

int solver_build_rules(solver_milp *m, solver_rows *r)
{
    const solver_rules *ru = m->s->rules;
    int D = m->D, L = m->s->L;
    if (!ru || r->rc < 0)
        return r->rc;
    if (ru->lo && D > 1)
        range_rows(m, r);
    if (ru->equal_middle && D >= 4) {
        m->mid = solver_add_col(m->lp, "rule_mid", GLP_IV, 0, L, 0);
        for (int i = 1; i + 1 < D; i++) {
            add_counted(m, r, i, -1, 1);
            solver_row_add(r, m->mid, -1);
            solver_row_end(m->lp, r, GLP_FX, 0, 0);
        }
    }
    for (int i = 0; i < D && ru->min_counted > 0; i++) {
        add_counted(m, r, i, -1, 1);
        solver_row_end(m->lp, r, GLP_LO, ru->min_counted, 0);
    }
    if (ru->equal_marked) {
        m->nck = solver_add_col(m->lp, "rule_nck", GLP_IV, 0, L, 0);
        if (!m->wck && !(m->wck = calloc((size_t)m->G * D, sizeof(int))))
            return r->rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for the rules' rows");
        for (int i = 0; i < D; i++) {
            add_counted(m, r, i, 1, 1);
            solver_row_add(r, m->nck, -1);
            solver_row_end(m->lp, r, GLP_FX, 0, 0);
            prefix_rows(m, r, i);
        }
    }
    if (ru->has_tie)
        tie_rows(m, r);
    return r->rc;
}

void solver_rules_encode(const solver_milp *m, const int *stage_of, const int *strategy_of,
                         double *x)
{
    const solver_shape *s = m->s;
    const solver_rules *ru = s->rules;
    int D = m->D;
    if (!ru)
        return;
    for (int i = 0; i < D; i++) {
        int blocks = 0, marked = 0, plain = 0;
        for (int g = 0; g < m->G; g++) {
            for (int u = s->start[g]; u < s->start[g] + s->len[g]; u++)
                if (stage_of[u] == i && ru->counted[u]) {
                    blocks++;
                    marked += ru->marked[strategy_of[u]];
                    plain |= !ru->marked[strategy_of[u]];
                }
            if (m->wck && m->wck[SEG(g, i)])
                x[m->wck[SEG(g, i)]] = plain;
        }
        if (m->mid && i == 1)
            x[m->mid] = blocks;
        if (m->nck && i == 0)
            x[m->nck] = marked;
    }
}

void solver_rules_order(const solver_shape *s, const int *stage_of, int *strategy_of)
{
    const solver_rules *ru = s->rules;
    if (!ru || !ru->equal_marked)
        return;
    for (int g = 0; g < s->G; g++) {
        int end = s->start[g] + s->len[g];
        for (int a = s->start[g]; a < end;) {
            int b = a + 1, c = s->class_of[strategy_of[a]];
            while (b < end && stage_of[b] == stage_of[a] && s->class_of[strategy_of[b]] == c)
                b++;
            /* layers a..b-1: one stage, one class: marked first, stable */
            for (int p = a + 1; p < b; p++)
                for (int q = p;
                     q > a && ru->marked[strategy_of[q]] && !ru->marked[strategy_of[q - 1]]; q--) {
                    int tmp = strategy_of[q];
                    strategy_of[q] = strategy_of[q - 1];
                    strategy_of[q - 1] = tmp;
                }
            a = b;
        }
    }
}

int solver_rules_check(const solver_rules *ru, const int *stage_of, const int *strategy_of)
{
    int L = ru->orig->n_layers, ok;
    int *orig = malloc(sizeof(int) * (size_t)L);
    if (!orig)
        return 0;
    for (int u = 0; u < L; u++)
        orig[u] = ru->map[strategy_of[u]];
    ok = uniap_space_check(ru->sp, ru->v, ru->orig, stage_of, orig, NULL, 0);
    free(orig);
    return ok;
}

/* The split with cnt[i] counted layers on stage i: each counted layer on
 * the stage its rank falls in, a layer that is not counted on the stage
 * of the counted layer before it (those before the first on stage 0,
 * those after the last on the last stage). 1 when every stage is
 * non-empty (the split is then contiguous and ordered). */
static int split_of(const solver_rules *ru, const int *cnt, int L, int D, int *st)
{
    int i = 0, have = 0, seen = 0, left = 0;
    for (int u = 0; u < L; u++)
        left += ru->counted[u];
    for (int u = 0; u < L; u++) {
        if (ru->counted[u]) {
            while (i + 1 < D && have >= cnt[i])
                i++, have = 0;
            have++;
            seen = 1;
            left--;
        } else if (seen && left == 0) {
            i = D - 1; /* after the last counted layer */
        }
        st[u] = i;
    }
    for (int j = 0, u = 0; j < D; j++) {
        int n = 0;
        while (u < L && st[u] == j)
            u++, n++;
        if (n == 0)
            return 0;
    }
    return 1;
}

/* The largest stage sum of w under split st. */
static double split_max(const double *w, const int *st, int L, int D)
{
    double best = 0, acc = 0;
    for (int u = 0; u < L; u++) {
        acc += w[u];
        if (u + 1 == L || st[u + 1] != st[u]) {
            best = acc > best ? acc : best;
            acc = 0;
        }
    }
    (void)D;
    return best;
}

int solver_rules_splits(const solver_rules *ru, const double *w, int L, int D, int *st, int max)
{
    int n = 0, B = 0, *cnt = NULL, *tmp = NULL;
    if (ru->lo) { /* a fixed split */
        for (int u = 0; u < L; u++)
            if (ru->lo[u] != ru->hi[u])
                return 0;
        memcpy(st, ru->lo, sizeof(int) * (size_t)L);
        return max >= 1;
    }
    if (!ru->equal_middle || D < 4)
        return 0;
    for (int u = 0; u < L; u++)
        B += ru->counted[u];
    cnt = malloc(sizeof(int) * (size_t)D);
    tmp = malloc(sizeof(int) * (size_t)L);
    if (!cnt || !tmp)
        goto free_all;
    /* for each count m of the middle stages, the first-stage count that
     * balances the stage sums best */
    for (int m = 1; m * (D - 2) <= B && n < max; m++) {
        int rest = B - m * (D - 2), found = 0;
        double best = 0;
        for (int i = 1; i + 1 < D; i++)
            cnt[i] = m;
        for (int f = 0; f <= rest; f++) {
            cnt[0] = f;
            cnt[D - 1] = rest - f;
            if (!split_of(ru, cnt, L, D, tmp))
                continue;
            double v = split_max(w, tmp, L, D);
            if (!found || v < best) {
                best = v;
                found = 1;
                memcpy(st + (size_t)n * L, tmp, sizeof(int) * (size_t)L);
            }
        }
        n += found;
    }
free_all:
    free(cnt);
    free(tmp);
    return n;
}
