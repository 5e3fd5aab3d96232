/*
 * test_count_bound.c - the count bound (solver/count_bound.c) on a table
 * worked by hand: 4 identical layers, 2 strategies, 1F1B with deg 2 and
 * c 4 (TPI = A0 + A1 + o + 3 max(A0, A1, o) + tail; stage 0 holds 2
 * micro-batches in flight, stage 1 one):
 *   fast: 1 s, 9 B states, 3 B activations -> 15 B a layer on stage 0, 12 on 1
 *   lean: 1.5 s, 3 B states, 1.5 B activations -> 6 B on stage 0, 4.5 on 1
 * resharding fast <-> lean inside a stage 0.2 s (the two are different
 * layout classes), transfers and tails 0. A stage on one class reshards
 * nothing; one that mixes them pays at least one change, 0.2 s. Splits
 * (layers on stage 0, stage 1), each stage at its fastest way to fit:
 *   budget 30 B: (2, 2) all fast, 15 + 15 = 30 and 12 + 12 = 24: A = 2, 2,
 *     bound 4 + 3 x 2 = 10; the plan has no resharding: it is optimal.
 *   budget 29 B (one byte less): stage 0 of two layers is fast + lean
 *     (21 B) 2.5 + 0.2 = 2.7 (all lean: 3), stage 1 all fast (24 B) 2:
 *     2.7 + 2 + 3 x 2.7 = 12.8; (1, 3): 1 and 2 fast + lean (28.5 B)
 *     3.7: 15.8; (3, 1): fast + 2 lean (27 B) 4.2 and 1: 17.8. Bound
 *     12.8, and the plan read from it (fast then lean on stage 0) is
 *     12.8: optimal, as the brute force must agree.
 *   budget 24 B: the same 12.8 (stage 1's two fast layers take 24 B); at
 *     23 B stage 1 is fast + lean (16.5 B) too: 2.7 + 2.7 + 3 x 2.7 = 13.5.
 *   budget 12 B: only (2, 2) all lean fits (12 and 9 B): bound and
 *     optimum 3 + 3 + 3 x 3 = 15.
 *   budget 11 B: no split fits (the least is 12 B): no plan.
 * Without the class change (resharding at 0, as the layout-free LP may
 * price it) the 29 B bound would be 12. The search prunes the 29 B
 * candidate against a best TPI of 12.7 (below the bound, above the
 * layout-free LP) and solves it to 12.8 without one.
 *
 * A mixed stage holds a layer of the class it ends on. Second table, the
 * same shape, memory no object: fast 1 s (class 0), relay 1.2 s (class
 * 1), resharding between them 0.05 s; the transfer to stage 1 costs 0.5
 * s from a fast layer and nothing from a relay layer. Stage 0 of (2, 2)
 * all fast: 2 + 2 + 0.5 + 3 x 2 = 10.5; fast then relay (2.2 + 0.05 =
 * 2.25, no transfer): 2.25 + 2 + 3 x 2.25 = 11; all relay: 2.4 + 2 + 3 x
 * 2.4 = 11.6; (3, 1) and (1, 3): 13.5 at least. The optimum is 10.5, and
 * so is the bound: were a mixed stage priced by the fastest mix of any
 * classes (fast, fast) plus one change, stage 0 ending on relay would
 * cost 2.05 and the bound be 2.05 + 2 + 3 x 2.05 = 10.2.
 */
#include <math.h>
#include <string.h>

#include "check.h"
#include "solver_internal.h"

static void make_table(double budget, uniap_cost_table *t)
{
    CHECK_EQ(uniap_cost_table_alloc(t, 2, 2, 4), 0);
    t->micro_batches = 4;
    t->micro_batch = 1;
    t->stage_devices = 1;
    strcpy(t->strategies[0].name, "fast");
    strcpy(t->strategies[1].name, "lean");
    for (int u = 0; u < 4; u++) {
        size_t f = uniap_ct_ix(t, 0, u, 0), l = uniap_ct_ix(t, 0, u, 1);
        t->time[f] = 1.0;
        t->mem_states[f] = 9;
        t->mem_act[f] = 3;
        t->time[l] = 1.5;
        t->mem_states[l] = 3;
        t->mem_act[l] = 1.5;
        if (u < 3) {
            t->reshard[uniap_ct_pair(t, 0, u, 0, 1)] = 0.2;
            t->reshard[uniap_ct_pair(t, 0, u, 1, 0)] = 0.2;
        }
    }
    t->mem_budget[0] = budget;
}

/* The second table: fast and relay, transfers from fast only. */
static void make_relay_table(uniap_cost_table *t)
{
    make_table(1e12, t);
    strcpy(t->strategies[1].name, "relay");
    for (int u = 0; u < 4; u++) {
        size_t f = uniap_ct_ix(t, 0, u, 0), l = uniap_ct_ix(t, 0, u, 1);
        t->time[l] = 1.2;
        t->mem_states[f] = t->mem_states[l] = 1;
        t->mem_act[f] = t->mem_act[l] = 1;
        if (u < 3) {
            t->reshard[uniap_ct_pair(t, 0, u, 0, 1)] = 0.05;
            t->reshard[uniap_ct_pair(t, 0, u, 1, 0)] = 0.05;
            for (int sp = 0; sp < 2; sp++)
                for (int k = 0; k < 2; k++)
                    t->xstage[sp][uniap_ct_xpair(t, u, 0, k)] = 0.5;
        }
    }
}

/* The count bound of the table at budget (budget < 0: the relay table),
 * its best plan's TPI (0: none that fits), and the optimum by brute force
 * (0: none). */
static double count_bound(double budget, double *plan_tpi, double *optimum)
{
    uniap_cost_table t;
    solver_shape s;
    uniap_pair_result bf;
    int stage_of[8], strategy_of[8], have = -1;
    double bound = -1, work, slowest, tail;
    if (budget < 0)
        make_relay_table(&t);
    else
        make_table(budget, &t);
    CHECK_EQ(solver_shape_build(&t, 0, &s), 0);
    CHECK_EQ(solver_simple_bounds(&t, UNIAP_SCHED_1F1B, &work, &slowest, &tail), 0);
    CHECK_EQ(
        solver_count_bound(&t, &s, UNIAP_SCHED_1F1B, tail, &bound, stage_of, strategy_of, &have),
        0);
    *plan_tpi = 0;
    CHECK(have >= 0 && have <= 2);
    for (int p = 0; p < have; p++) {
        uniap_plan_eval e;
        CHECK_EQ(
            uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, stage_of + 4 * p, strategy_of + 4 * p, &e),
            0);
        if (e.feasible && (*plan_tpi == 0 || e.tpi < *plan_tpi))
            *plan_tpi = e.tpi;
        uniap_plan_eval_free(&e);
    }
    CHECK_EQ(uniap_brute_force(&t, UNIAP_SCHED_1F1B, &bf), 0);
    *optimum = bf.status == UNIAP_SOLVE_OPTIMAL ? bf.tpi : 0;
    uniap_pair_result_free(&bf);
    solver_shape_free(&s);
    uniap_cost_table_free(&t);
    return bound;
}

/* The layout-free relaxation's LP bound at budget. */
static double lp_bound(double budget)
{
    uniap_cost_table t;
    solver_shape s;
    solver_milp m;
    int st = 0;
    make_table(budget, &t);
    CHECK_EQ(solver_shape_build(&t, 0, &s), 0);
    CHECK_EQ(solver_milp_build(&t, &s, UNIAP_SCHED_1F1B, SOLVER_BOUND_ONLY, NULL, &m), 0);
    CHECK_EQ(solver_solve_relaxation(&m, 0, &st), 0);
    CHECK_EQ(st, GLP_OPT);
    double z = glp_get_obj_val(m.lp);
    solver_milp_free(&m);
    solver_shape_free(&s);
    uniap_cost_table_free(&t);
    return z;
}

int main(void)
{
    double plan, opt;
    /* 1e-11: the bound is shaded by 1e-12 against rounding */
    CHECK_NEAR(count_bound(30, &plan, &opt), 10.0, 1e-11, 0);
    CHECK_NEAR(plan, 10.0, 1e-12, 0);
    CHECK_NEAR(opt, 10.0, 1e-12, 0);

    CHECK_NEAR(count_bound(29, &plan, &opt), 12.8, 1e-11, 0);
    CHECK_NEAR(plan, 12.8, 1e-12, 0);
    CHECK_NEAR(opt, 12.8, 1e-12, 0);
    /* stage 1's two fast layers need 24 B: to the byte */
    CHECK_NEAR(count_bound(24, &plan, &opt), 12.8, 1e-11, 0);
    CHECK_NEAR(count_bound(23, &plan, &opt), 13.5, 1e-11, 0);
    CHECK(plan >= opt - 1e-12 && opt > 0);

    CHECK_NEAR(count_bound(12, &plan, &opt), 15.0, 1e-11, 0);
    CHECK_NEAR(plan, 15.0, 1e-12, 0);
    CHECK_NEAR(opt, 15.0, 1e-12, 0);

    CHECK(count_bound(11, &plan, &opt) == HUGE_VAL);
    CHECK(plan == 0 && opt == 0);

    CHECK_NEAR(count_bound(-1, &plan, &opt), 10.5, 1e-11, 0);
    CHECK_NEAR(plan, 10.5, 1e-12, 0);
    CHECK_NEAR(opt, 10.5, 1e-12, 0);

    /* pruned against 12.7 where the LP alone would not prune */
    double z = lp_bound(29);
    CHECK(z < 12.7);
    uniap_solve_options o;
    uniap_pair_result r;
    uniap_cost_table t;
    uniap_solve_options_default(&o);
    o.schedule = UNIAP_SCHED_1F1B;
    o.incumbent_tpi = 12.7;
    make_table(29, &t);
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
    CHECK_EQ(r.status, UNIAP_SOLVE_PRUNED);
    CHECK(r.bound > 12.7 && r.bound <= 12.8);
    uniap_pair_result_free(&r);
    /* and solved to 12.8 without an incumbent */
    o.incumbent_tpi = 0;
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
    CHECK_EQ(r.status, UNIAP_SOLVE_OPTIMAL);
    CHECK_NEAR(r.tpi, 12.8, 1e-12, 1e-15);
    uniap_pair_result_free(&r);
    uniap_cost_table_free(&t);
    return check_report();
}
