/*
 * heuristic.c - plans and bounds without the MILP: the simple lower bounds
 * from the table that prune a candidate first (and start the MILP's T and
 * tau), the fast heuristic whose plan is GLPK's first incumbent (uniform
 * strategy per layer where allowed, stages balanced by time or by memory),
 * and the exhaustive reference that enumerates every placement and
 * strategy assignment (tests only).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

/* The smallest largest stage sum of a split of weights w[0..L) into D
 * contiguous stages, bracketed by bisection with a greedy check from
 * [max(w, start), sum of w] until the ends are within a relative tol (at
 * most 60 halvings): *below <= it <= *above (every split exceeds *below
 * unless it is the start; a greedy split within *above exists). */
static void minmax_bracket(const double *w, int L, int D, double start, double tol, double *below,
                           double *above)
{
    double lo = start, hi = 0;
    for (int u = 0; u < L; u++) {
        lo = fmax(lo, w[u]);
        hi += w[u];
    }
    for (int it = 0; it < 60 && hi > lo * (1 + tol); it++) {
        double mid = 0.5 * (lo + hi), acc = 0;
        int parts = 1;
        for (int u = 0; u < L; u++) {
            if (acc + w[u] > mid && acc > 0) {
                parts++;
                acc = 0;
            }
            acc += w[u];
        }
        if (parts <= D)
            hi = mid;
        else
            lo = mid;
    }
    *below = lo;
    *above = hi;
}

/* Splits weights w[0..L) into exactly D contiguous stages of at least
 * minl layers each (L >= D minl) with the smallest largest stage sum (the
 * bracket's upper end, then stages split further until there are D). */
static void balance(const double *w, int L, int D, int minl, int *stage_of)
{
    double lo, hi;
    minmax_bracket(w, L, D, 0, 0, &lo, &hi);
    double acc = 0;
    int st = 0, held = 0;
    for (int u = 0; u < L; u++) {
        /* cut when over the bound, or when the layers left are just
         * enough for the stages left; a stage keeps minl layers */
        int must = L - u <= (D - 1 - st) * minl;
        if (u > 0 && st < D - 1 && held >= minl && ((acc + w[u] > hi && acc > 0) || must)) {
            st++;
            acc = 0;
            held = 0;
        }
        acc += w[u];
        held++;
        stage_of[u] = st;
    }
}

int solver_simple_bounds(const uniap_cost_table *t, uniap_schedule sched, double *work,
                         double *slowest, double *tail)
{
    int L = t->n_layers, K = t->n_strategies, D = t->deg;
    double *w, infl = HUGE_VAL;
    if (!uniap_schedule_get(sched))
        return uniap_err(UNIAP_EINVAL, "solver: schedule %d is not in the schedule table (0..%d)",
                         sched, uniap_schedule_count() - 1);
    w = malloc(sizeof(double) * 2 * L);
    if (!w)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for a bound of %d layers", L);
    double *tl = w + L, tail_sum = 0, time_sum = 0, hi;
    uniap_schedule_terms st = uniap_schedule_terms_of(sched, t->micro_batches, D);
    /* a split-backward schedule's fill counts time + (wfill / fill) wgrad */
    double wf = t->wgrad && st.wfill != 0.0 && st.fill > 0 ? st.wfill / st.fill : 0.0;
    *work = 0;
    for (int i = 0; i < D; i++)
        infl = fmin(infl, uniap_inflight(sched, t->micro_batches, D, i));
    for (int u = 0; u < L; u++) {
        double fw = HUGE_VAL; /* the least fill time */
        w[u] = tl[u] = HUGE_VAL;
        /* the least over the device classes that some stage has */
        for (int q = 0; q < t->n_classes; q++) {
            int staged = 0;
            for (int i = 0; i < D && !staged; i++)
                staged = t->stage_class[i] == q;
            double budget = t->mem_budget[q];
            for (int k = 0; k < K && staged; k++) {
                size_t uk = uniap_ct_ix(t, q, u, k);
                /* a strategy whose layer alone overflows a device never runs */
                if (!t->allowed[uk] ||
                    (budget > 0 && t->mem_states[uk] + infl * t->mem_act[uk] + t->mem_peak[uk] >
                                       budget * (1 + SOLVER_MEM_SLACK)))
                    continue;
                w[u] = fmin(w[u], t->time[uk]);
                tl[u] = fmin(tl[u], t->tail[uk]);
                fw = fmin(fw, wf != 0.0 ? t->time[uk] + wf * t->wgrad[uk] : t->time[uk]);
            }
        }
        if (w[u] == HUGE_VAL) {
            *work = *slowest = *tail = HUGE_VAL;
            free(w);
            return UNIAP_OK;
        }
        *work += fw;
        time_sum += w[u];
        tail_sum += tl[u];
    }
    /* the brackets' lower ends, started at the mean (no split is below) */
    minmax_bracket(w, L, D, time_sum / D, 1e-12, slowest, &hi);
    minmax_bracket(tl, L, D, tail_sum / D, 1e-12, tail, &hi);
    free(w);
    return UNIAP_OK;
}

int solver_memory_infeasible(const uniap_cost_table *t, uniap_schedule sched)
{
    int L = t->n_layers, K = t->n_strategies, D = t->deg, parts = 1;
    double budget = 0, infl = HUGE_VAL, acc = 0;
    for (int i = 0; i < D; i++) {
        double b = uniap_ct_budget(t, i);
        if (!(b > 0))
            return 0; /* a stage without a limit */
        budget = fmax(budget, b);
        infl = fmin(infl, uniap_inflight(sched, t->micro_batches, D, i));
    }
    /* the evaluator's fit, widened by the solver's slack and then by a
     * margin far above the rounding of summing in another order */
    budget *= (1 + SOLVER_MEM_SLACK) * (1 + 1e-9);
    for (int u = 0; u < L; u++) {
        double least = HUGE_VAL; /* the least states + in-flight activations of layer u */
        for (int q = 0; q < t->n_classes; q++)
            for (int k = 0; k < K; k++) {
                size_t uk = uniap_ct_ix(t, q, u, k);
                if (t->allowed[uk])
                    least = fmin(least, t->mem_states[uk] + infl * t->mem_act[uk]);
            }
        if (!(least <= budget))
            return 1;
        if (acc + least > budget) { /* greedy packing: the fewest stages of sums <= budget */
            parts++;
            acc = 0;
        }
        acc += least;
    }
    return parts > D;
}

/* Under rules with tied layers: each tied layer takes the fastest usable
 * strategy of the first tied layer's key (when it has one). */
static void tie_fix(const uniap_cost_table *t, const solver_shape *s, const int *grp, int *sg)
{
    const solver_rules *ru = s->rules;
    int L = t->n_layers, K = t->n_strategies, key = -1;
    for (int u = 0; u < L; u++) {
        if (ru->tie[u] < 0)
            continue;
        if (key < 0) {
            key = ru->key[sg[u]];
            continue;
        }
        int best = -1;
        for (int k = 0; k < K; k++)
            if (s->usable[(size_t)grp[u] * K + k] && ru->key[k] == key &&
                (best < 0 || t->time[(size_t)u * K + k] < t->time[(size_t)u * K + best]))
                best = k;
        if (best >= 0 && ru->key[sg[u]] != key)
            sg[u] = best;
    }
}

/* The best feasible plan of strategies sg over the splits of weights w
 * (the rules' splits when they have any, else the balanced one); found
 * and the best kept in stage_of, strategy_of, *tpi. */
static int try_splits(const uniap_cost_table *t, const solver_shape *s, uniap_schedule sched,
                      const double *w, const int *sg, int *st, int max_splits, int *found,
                      int *stage_of, int *strategy_of, double *tpi)
{
    int L = t->n_layers, D = t->deg, rc = 0;
    int ns = s->rules ? solver_rules_splits(s->rules, w, L, D, st, max_splits) : 0;
    if (ns == 0) {
        balance(w, L, D, uniap_schedule_virtual_stages(sched), st);
        ns = 1;
    }
    for (int a = 0; a < ns; a++) {
        const int *sa = st + (size_t)a * L;
        int runs = 1; /* every strategy allowed on its stage's device class */
        for (int u = 0; u < L && runs; u++)
            runs = t->allowed[uniap_ct_ix(t, t->stage_class[sa[u]], u, sg[u])];
        if (!runs || (s->rules && !solver_rules_check(s->rules, sa, sg)) ||
            !uniap_schedule_plan_ok(sched, t->micro_batches, D, sa, L, NULL, 0))
            continue;
        uniap_plan_eval e;
        if ((rc = uniap_plan_evaluate(t, sched, sa, sg, &e)) < 0)
            return rc;
        if (e.feasible && (!*found || e.tpi < *tpi)) {
            *found = 1;
            *tpi = e.tpi;
            memcpy(stage_of, sa, sizeof(int) * L);
            memcpy(strategy_of, sg, sizeof(int) * L);
        }
        uniap_plan_eval_free(&e);
    }
    return 0;
}

#define SOLVER_HEUR_SPLITS 64 /* splits tried per assignment under rules */

/* fb[u] (fallback 0) and fb[L + u] (1): layer u's fastest and its
 * smallest (states + activations) usable strategy, the first of equals;
 * -1 when none is usable. */
static void fallbacks(const uniap_cost_table *t, const solver_shape *s, const int *grp, int *fb)
{
    int L = t->n_layers, K = t->n_strategies;
    for (int fallback = 0; fallback < 2; fallback++)
        for (int u = 0; u < L; u++) {
            const unsigned char *ok = s->usable + (size_t)grp[u] * K;
            size_t row = (size_t)u * K;
            int best = -1;
            double bv = 0;
            for (int k = 0; k < K; k++) {
                if (!ok[k])
                    continue;
                double a =
                    fallback ? t->mem_states[row + k] + t->mem_act[row + k] : t->time[row + k];
                if (best < 0 || a < bv)
                    best = k, bv = a;
            }
            fb[fallback * L + u] = best;
        }
}

int solver_heuristic(const uniap_cost_table *t, const solver_shape *s, uniap_schedule sched,
                     int *stage_of, int *strategy_of, double *tpi)
{
    int L = t->n_layers, K = t->n_strategies, found = 0, nowhere_done = 0;
    int max_splits = s->rules ? SOLVER_HEUR_SPLITS : 1;
    int *st = malloc(sizeof(int) * L * max_splits), *sg = malloc(sizeof(int) * L),
        *grp = malloc(sizeof(int) * L), *fb = malloc(sizeof(int) * 2 * L);
    double *w = malloc(sizeof(double) * L);
    int rc = 0;

    if (!st || !sg || !w || !grp || !fb) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory in the heuristic");
        goto free_all;
    }
    for (int g = 0; g < s->G; g++)
        for (int u = s->start[g]; u < s->start[g] + s->len[g]; u++)
            grp[u] = g;
    fallbacks(t, s, grp, fb);
    for (int base = 0; base < K; base++) {
        /* a base no layer may use gives the fallback plans themselves: they
         * are tried once (a repeat could only tie, and ties keep the first) */
        int somewhere = 0;
        for (int g = 0; g < s->G && !somewhere; g++)
            somewhere = s->usable[(size_t)g * K + base];
        if (!somewhere && nowhere_done++)
            continue;
        for (int fallback = 0; fallback < 2; fallback++) {
            /* base where usable, else the fastest (0) or smallest (1) */
            for (int u = 0; u < L; u++) {
                sg[u] = s->usable[(size_t)grp[u] * K + base] ? base : fb[fallback * L + u];
                if (sg[u] < 0)
                    goto next;
            }
            if (s->rules && s->rules->has_tie)
                tie_fix(t, s, grp, sg);
            for (int by_mem = 0; by_mem < 2; by_mem++) {
                for (int u = 0; u < L; u++) {
                    size_t uk = (size_t)u * K + sg[u];
                    w[u] = by_mem ? t->mem_states[uk] + t->mem_act[uk] : t->time[uk];
                }
                if ((rc = try_splits(t, s, sched, w, sg, st, max_splits, &found, stage_of,
                                     strategy_of, tpi)) < 0)
                    goto free_all;
            }
        next:;
        }
    }
    rc = found;
free_all:
    free(st);
    free(sg);
    free(w);
    free(grp);
    free(fb);
    return rc;
}

/* Brute force state: the placement being enumerated and the best so far. */
typedef struct brute {
    const uniap_cost_table *t;
    uniap_schedule sched;
    int *stage_of, *strategy_of;
    uniap_pair_result *out;
    int found;
    int rc;
} brute;

static void brute_strategies(brute *b, int u)
{
    const uniap_cost_table *t = b->t;
    int K = t->n_strategies;
    if (b->rc < 0)
        return;
    if (u == t->n_layers) {
        uniap_plan_eval e;
        if ((b->rc = uniap_plan_evaluate(t, b->sched, b->stage_of, b->strategy_of, &e)) < 0)
            return;
        if (e.feasible) {
            if (!b->found || e.tpi < b->out->tpi) {
                b->found = 1;
                b->out->tpi = e.tpi;
                memcpy(b->out->stage_of, b->stage_of, sizeof(int) * t->n_layers);
                memcpy(b->out->strategy_of, b->strategy_of, sizeof(int) * t->n_layers);
            }
        } else if (!b->found && e.worst_excess < b->out->shortfall) {
            b->out->shortfall = e.worst_excess;
            b->out->shortfall_stage = e.worst_stage;
        }
        uniap_plan_eval_free(&e);
        return;
    }
    for (int k = 0; k < K; k++)
        if (t->allowed[uniap_ct_ix(t, t->stage_class[b->stage_of[u]], u, k)]) {
            b->strategy_of[u] = k;
            brute_strategies(b, u + 1);
        }
}

/* Chooses the stage of layer u onward: same as u-1 or the next one. */
static void brute_stages(brute *b, int u)
{
    const uniap_cost_table *t = b->t;
    int L = t->n_layers, D = t->deg;
    if (u == L) {
        /* the placements the schedule runs (a layer per virtual stage) */
        if (b->stage_of[L - 1] == D - 1 &&
            uniap_schedule_plan_ok(b->sched, t->micro_batches, D, b->stage_of, L, NULL, 0))
            brute_strategies(b, 0);
        return;
    }
    int prev = b->stage_of[u - 1];
    if (D - 1 - prev <= L - 1 - u) { /* enough layers left to stay */
        b->stage_of[u] = prev;
        brute_stages(b, u + 1);
    }
    if (prev + 1 < D) {
        b->stage_of[u] = prev + 1;
        brute_stages(b, u + 1);
    }
}

int uniap_brute_force(const uniap_cost_table *t, uniap_schedule s, uniap_pair_result *out)
{
    int L = t->n_layers;
    brute b = {.t = t, .sched = s, .out = out};

    memset(out, 0, sizeof(*out));
    if ((b.rc = solver_table_check(t)) < 0)
        return b.rc;
    out->deg = t->deg;
    out->micro_batches = t->micro_batches;
    out->shortfall = HUGE_VAL;
    out->shortfall_stage = -1;
    b.stage_of = malloc(sizeof(int) * L);
    b.strategy_of = malloc(sizeof(int) * L);
    out->stage_of = malloc(sizeof(int) * L);
    out->strategy_of = malloc(sizeof(int) * L);
    if (!b.stage_of || !b.strategy_of || !out->stage_of || !out->strategy_of) {
        b.rc = uniap_err(UNIAP_ENOMEM, "brute force: out of memory for %d layers", L);
        goto free_all;
    }
    if (L >= t->deg) {
        b.stage_of[0] = 0;
        brute_stages(&b, 1);
    }
    if (b.rc < 0)
        goto free_all;
    if (b.found) {
        out->status = UNIAP_SOLVE_OPTIMAL;
        out->bound = out->tpi;
        out->shortfall = 0;
    } else {
        out->status = UNIAP_SOLVE_INFEASIBLE;
        free(out->stage_of);
        free(out->strategy_of);
        out->stage_of = out->strategy_of = NULL;
    }
free_all:
    free(b.stage_of);
    free(b.strategy_of);
    if (b.rc < 0)
        uniap_pair_result_free(out);
    return b.rc;
}
