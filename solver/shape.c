/*
 * shape.c - the structure a cost table gives the MILP: groups of identical
 * consecutive layers (detected from the table's rows, not trusted from
 * run_of), layout classes of strategies (equal resharding rows and
 * columns), dominance among strategies of one class, and the class-level
 * resharding matrices.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

/* Per-layer rows of u and v are equal, in every device class. */
static int rows_equal(const uniap_cost_table *t, int w_terms, int u, int v)
{
    size_t K = t->n_strategies;
    for (int q = 0; q < t->n_classes; q++) {
        size_t a = uniap_ct_ix(t, q, u, 0), b = uniap_ct_ix(t, q, v, 0);
        if ((w_terms && memcmp(t->wgrad + a, t->wgrad + b, K * sizeof(double)) != 0) ||
            memcmp(t->time + a, t->time + b, K * sizeof(double)) != 0 ||
            memcmp(t->tail + a, t->tail + b, K * sizeof(double)) != 0 ||
            memcmp(t->mem_states + a, t->mem_states + b, K * sizeof(double)) != 0 ||
            memcmp(t->mem_act + a, t->mem_act + b, K * sizeof(double)) != 0 ||
            memcmp(t->mem_peak + a, t->mem_peak + b, K * sizeof(double)) != 0 ||
            memcmp(t->allowed + a, t->allowed + b, K) != 0)
            return 0;
    }
    return 1;
}

/* Pair matrices after u and after v are equal (reshard of every device
 * class and both xstage). */
static int pairs_equal(const uniap_cost_table *t, int u, int v)
{
    size_t KK = (size_t)t->n_strategies * t->n_strategies;
    size_t bytes = KK * sizeof(double);
    if (t->pair_of[u] == t->pair_of[v])
        return 1; /* the same matrices */
    for (int q = 0; q < t->n_classes; q++)
        if (memcmp(t->reshard + uniap_ct_pair(t, q, u, 0, 0),
                   t->reshard + uniap_ct_pair(t, q, v, 0, 0), bytes) != 0)
            return 0;
    size_t a = uniap_ct_xpair(t, u, 0, 0), b = uniap_ct_xpair(t, v, 0, 0);
    return memcmp(t->xstage[0] + a, t->xstage[0] + b, bytes) == 0 &&
           memcmp(t->xstage[1] + a, t->xstage[1] + b, bytes) == 0;
}

/* The distinct pair matrices a layout class must agree on, into out
 * (room for 2 G (n_classes + 2)); returns how many (each once). After each group's
 * first and last layer (inside a group all but the last layer's are
 * equal, see the grouping, so a group has at most two), the reshard
 * matrix of every device class, then xstage inside and between nodes. */
static int layout_matrices(const uniap_cost_table *t, const solver_shape *s, const double **out)
{
    int n = 0;
    for (int g = 0; g < s->G; g++)
        for (int e = 0; e < 2; e++) {
            int u = e ? s->start[g] + s->len[g] - 1 : s->start[g];
            if ((e == 0 && s->len[g] < 2) || u + 1 >= t->n_layers)
                continue;
            for (int q = 0; q < t->n_classes; q++)
                out[n++] = t->reshard + uniap_ct_pair(t, q, u, 0, 0);
            for (int span = 0; span < 2; span++)
                out[n++] = t->xstage[span] + uniap_ct_xpair(t, u, 0, 0);
        }
    /* a matrix shared by several boundaries (pair_of) is compared once */
    int kept = 0;
    for (int a = 0; a < n; a++) {
        int seen = 0;
        for (int b = 0; b < kept && !seen; b++)
            seen = out[b] == out[a];
        if (!seen)
            out[kept++] = out[a];
    }
    return kept;
}

/* Strategies k and l reshard identically: equal rows and columns of the
 * n K x K matrices mat (layout_matrices). */
static int same_layout(const double *const *mat, int n, int K, int k, int l)
{
    for (int i = 0; i < n; i++) {
        const double *a = mat[i];
        for (int j = 0; j < K; j++)
            if (a[(size_t)k * K + j] != a[(size_t)l * K + j] ||
                a[(size_t)j * K + k] != a[(size_t)j * K + l])
                return 0;
    }
    return 1;
}

/* Hashes h[k] of every strategy's rows and columns in the matrices
 * same_layout compares (0.0 and -0.0 alike, as == has them): equal for
 * strategies same_layout calls equal, so only those with equal hashes are
 * compared. Read row by row (the matrices are large: K x K each). */
static void layout_hashes(const double *const *mat, int n, int K, uint64_t *h, uint64_t *col)
{
    for (int k = 0; k < K; k++)
        h[k] = col[k] = 1469598103934665603ULL;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < K; k++) {
            const double *row = mat[i] + (size_t)k * K;
            for (int j = 0; j < K; j++) {
                uint64_t b = 0;
                if (row[j] != 0)
                    memcpy(&b, &row[j], sizeof b);
                h[k] = (h[k] ^ b) * 1099511628211ULL;     /* k's row, in order */
                col[j] = (col[j] ^ b) * 1099511628211ULL; /* j's column, in order */
            }
        }
    for (int k = 0; k < K; k++)
        h[k] = (h[k] ^ col[k]) * 1099511628211ULL;
}

/* The layout classes when every strategy has the same layout as the first
 * strategy of its hash (checked row by row: reading a column of a K x K
 * matrix touches K rows, so all strategies' columns are compared in one
 * pass over the rows): the classes the strategy-by-strategy comparison
 * gives (the first strategy of a hash is the first class of that hash).
 * 0, s->C left 0, when some strategy is not (a hash collision): then the
 * caller compares strategy by strategy. cand: scratch of 2 K. */
static int classes_by_hash(const double *const *mat, int n, int K, const uint64_t *hash, int *cand,
                           solver_shape *s)
{
    int *pend = cand + K, np = 0;
    for (int k = 0; k < K; k++) {
        int j = 0;
        while (hash[j] != hash[k])
            j++;
        cand[k] = j;
        if (j != k)
            pend[np++] = k;
    }
    for (int i = 0; i < n; i++)
        for (int r = 0; r < K; r++) {
            const double *row = mat[i] + (size_t)r * K;
            for (int a = 0; a < np; a++) {
                int k = pend[a], c = cand[k];
                if (row[k] != row[c]) /* column k against column c */
                    return 0;
                if (r == 0) /* row k against row c, once per matrix */
                    for (int j = 0; j < K; j++)
                        if (mat[i][(size_t)k * K + j] != mat[i][(size_t)c * K + j])
                            return 0;
            }
        }
    s->C = 0;
    for (int k = 0; k < K; k++) {
        if (cand[k] == k)
            s->class_rep[s->C++] = k;
        s->class_of[k] = cand[k] == k ? s->C - 1 : s->class_of[cand[k]];
    }
    return 1;
}

/* l dominates k for layer u: on every device class where k is allowed, l
 * is allowed too and no worse in every term; and better in one or equal
 * with a smaller index (so exactly one of equal twins survives). Under
 * rules, only when the rules cannot tell them apart on u. */
static int dominates(const uniap_cost_table *t, const solver_rules *ru, int w_terms, int u, int l,
                     int k)
{
    const double *v[5] = {t->time, t->tail, t->mem_states, t->mem_act, t->mem_peak};
    int better = 0;
    if (ru && ((ru->equal_marked && ru->marked[l] != ru->marked[k]) ||
               (ru->tie[u] >= 0 && ru->key[l] != ru->key[k])))
        return 0;
    for (int q = 0; q < t->n_classes; q++) {
        size_t a = uniap_ct_ix(t, q, u, l), b = uniap_ct_ix(t, q, u, k);
        if (!t->allowed[b])
            continue;
        if (!t->allowed[a])
            return 0;
        if (w_terms && t->wgrad[a] != t->wgrad[b]) { /* more W is better */
            if (t->wgrad[a] < t->wgrad[b])
                return 0;
            better = 1;
        }
        for (int m = 0; m < 5; m++) {
            if (v[m][a] > v[m][b])
                return 0;
            if (v[m][a] < v[m][b])
                better = 1;
        }
    }
    return better || l < k;
}

/* k is allowed for layer u on some device class. */
static int allowed_somewhere(const uniap_cost_table *t, int u, int k)
{
    for (int q = 0; q < t->n_classes; q++)
        if (t->allowed[uniap_ct_ix(t, q, u, k)])
            return 1;
    return 0;
}

/* Under rules, layer u cannot join the group of u - 1: the counted
 * layers begin or end there, or one of the two is tied. */
static int rules_break(const solver_rules *ru, int u)
{
    return ru && (ru->counted[u] != ru->counted[u - 1] || ru->tie[u] >= 0 || ru->tie[u - 1] >= 0);
}

/* equal_marked orders a segment's marked strategies first, which costs
 * nothing only inside one layout class: each counted group's usable
 * strategies must be of one class. */
static int rules_classes_ok(const solver_shape *s, const solver_rules *ru)
{
    if (!ru || !ru->equal_marked)
        return UNIAP_OK;
    for (int g = 0; g < s->G; g++) {
        int c = -1;
        for (int k = 0; k < s->K && ru->counted[s->start[g]]; k++)
            if (s->usable[(size_t)g * s->K + k]) {
                if (c >= 0 && s->class_of[k] != c)
                    return uniap_err(UNIAP_EINVAL,
                                     "solver: runtime %s, %s: the recompute rule needs one "
                                     "layout class per group of blocks (layers %d..%d have two)",
                                     ru->sp->runtime, ru->sp->v[ru->v].label, s->start[g],
                                     s->start[g] + s->len[g] - 1);
                c = s->class_of[k];
            }
    }
    return UNIAP_OK;
}

int solver_shape_build(const uniap_cost_table *t, int per_layer, solver_shape *s)
{
    return solver_shape_build_rules(t, per_layer, NULL, s);
}

int solver_shape_build_rules(const uniap_cost_table *t, int per_layer, const solver_rules *ru,
                             solver_shape *s)
{
    return solver_shape_build_w(t, per_layer, ru, 0, s);
}

int solver_sched_w_terms(uniap_schedule sched, const uniap_cost_table *t)
{
    uniap_schedule_terms w = uniap_schedule_terms_of(sched, t->micro_batches, t->deg);
    return (w.wfill != 0.0 || w.wmax != 0.0) && t->wgrad != NULL;
}

int solver_shape_build_w(const uniap_cost_table *t, int per_layer, const solver_rules *ru,
                         int w_terms, solver_shape *s)
{
    int L = t->n_layers, K = t->n_strategies, rc;

    memset(s, 0, sizeof(*s));
    s->rules = ru;
    s->w_terms = w_terms && t->wgrad;
    s->L = L;
    s->K = K;
    s->D = t->deg;
    s->start = malloc(sizeof(int) * L);
    s->len = malloc(sizeof(int) * L);
    s->class_of = malloc(sizeof(int) * K);
    s->class_rep = malloc(sizeof(int) * K);
    if (!s->start || !s->len || !s->class_of || !s->class_rep)
        goto fail_nomem;

    /* groups */
    for (int u = 0; u < L; u++) {
        int g = s->G - 1;
        int joins = !per_layer && u > 0 && !rules_break(ru, u) &&
                    rows_equal(t, s->w_terms, u - 1, u) &&
                    (s->len[g] < 2 || pairs_equal(t, u - 2, u - 1));
        if (joins) {
            s->len[g]++;
        } else {
            s->start[s->G] = u;
            s->len[s->G] = 1;
            s->G++;
        }
    }

    /* layout classes: the first representative k is the same layout as
     * (only those of k's hash are compared) */
    uint64_t *hash = malloc(sizeof(uint64_t) * 2 * (size_t)(K > 0 ? K : 1));
    const double **mat = malloc(sizeof(*mat) * (2 * (size_t)s->G * (t->n_classes + 2) + 1));
    if (!hash || !mat) {
        free(hash);
        free(mat);
        goto fail_nomem;
    }
    int nm = layout_matrices(t, s, mat);
    layout_hashes(mat, nm, K, hash, hash + K);
    int *cand = malloc(sizeof(int) * 2 * (size_t)(K > 0 ? K : 1));
    if (!cand) {
        free(hash);
        free(mat);
        goto fail_nomem;
    }
    if (!classes_by_hash(mat, nm, K, hash, cand, s)) /* (a hash collision: compare all) */
        for (int k = 0; k < K; k++) {
            int c;
            for (c = 0; c < s->C; c++)
                if (hash[s->class_rep[c]] == hash[k] && same_layout(mat, nm, K, s->class_rep[c], k))
                    break;
            if (c == s->C)
                s->class_rep[s->C++] = k;
            s->class_of[k] = c;
        }
    free(cand);
    free(hash);
    free(mat);

    /* usable strategies per group */
    s->usable = calloc((size_t)s->G * (size_t)(K > 0 ? K : 1), 1);
    s->class_in = calloc((size_t)s->G * (size_t)(s->C > 0 ? s->C : 1), 1);
    if (!s->usable || !s->class_in)
        goto fail_nomem;
    for (int g = 0; g < s->G; g++) {
        int u = s->start[g];
        for (int k = 0; k < K; k++) {
            if (!allowed_somewhere(t, u, k))
                continue;
            int dominated = 0;
            for (int l = 0; l < K && !dominated; l++)
                dominated = l != k && s->class_of[l] == s->class_of[k] &&
                            dominates(t, ru, s->w_terms, u, l, k);
            if (!dominated) {
                s->usable[(size_t)g * K + k] = 1;
                s->class_in[(size_t)g * s->C + s->class_of[k]] = 1;
            }
        }
    }
    if ((rc = rules_classes_ok(s, ru)) < 0) {
        solver_shape_free(s);
        return rc;
    }
    return UNIAP_OK;

fail_nomem:
    solver_shape_free(s);
    return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the structure of %d layers", L);
}

void solver_shape_free(solver_shape *s)
{
    free(s->start);
    free(s->len);
    free(s->class_of);
    free(s->class_rep);
    free(s->usable);
    free(s->class_in);
    memset(s, 0, sizeof(*s));
}

/* The pair cost after layer u between layout classes c and d: reshard of
 * device class q (q >= 0), or xstage[span] (q < 0). NaN (which the row
 * builder refuses: the MILP fails EINTERNAL) for a place or class out of
 * range, in every build. */
static double pair_at(const uniap_cost_table *t, int q, int span, const solver_shape *s, int u,
                      int c, int d)
{
    if (!(u >= 0 && u + 1 < t->n_layers && c >= 0 && c < s->C && d >= 0 && d < s->C &&
          q < t->n_classes && span >= 0 && span < 2))
        return NAN;
    int k = s->class_rep[c], l = s->class_rep[d];
    return q >= 0 ? t->reshard[uniap_ct_pair(t, q, u, k, l)]
                  : t->xstage[span][uniap_ct_xpair(t, u, k, l)];
}

double solver_rint(const uniap_cost_table *t, const solver_shape *s, int q, int g, int c, int d)
{
    if (s->len[g] < 2 || q < 0)
        return NAN;
    return pair_at(t, q, 0, s, s->start[g], c, d);
}

double solver_rjunc(const uniap_cost_table *t, const solver_shape *s, int q, int g, int c, int d)
{
    if (q < 0)
        return NAN;
    return pair_at(t, q, 0, s, s->start[g] + s->len[g] - 1, c, d);
}

double solver_xint(const uniap_cost_table *t, const solver_shape *s, int span, int g, int c, int d)
{
    if (s->len[g] < 2)
        return NAN;
    return pair_at(t, -1, span, s, s->start[g], c, d);
}

double solver_xjunc(const uniap_cost_table *t, const solver_shape *s, int span, int g, int c, int d)
{
    return pair_at(t, -1, span, s, s->start[g] + s->len[g] - 1, c, d);
}
