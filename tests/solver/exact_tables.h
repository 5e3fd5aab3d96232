/*
 * exact_tables.h - the exactness check the exactness tests of
 * tests/solver share (test_exact_cp.c, test_exact_ep.c), on a cost table
 * the cost model built: for GPipe and 1F1B, both MILP formulations reach
 * the optimum of exhaustive enumeration (uniap_brute_force) or agree that
 * none fits (the shortfall too), and the plan evaluates to the TPI the
 * MILP reports. Counts the optimal cases whose optimum uses a strategy
 * `marked` says has the dimension under test, so that a test can require
 * the comparison not to be vacuous. test_exact.c compares every schedule
 * of its synthetic tables with the same exact_compare. Header only: each
 * test is one program; needs check.h and uniap_solver.h included first.
 */
#ifndef UNIAP_TEST_EXACT_TABLES_H
#define UNIAP_TEST_EXACT_TABLES_H

typedef struct exact_counts {
    int optimal, marked, infeasible;
    int tables, tables_marked; /* tables checked; those offering a marked strategy */
} exact_counts;

/* Brute force and both formulations of t under sched, compared: the
 * statuses agree; when all are optimal, the TPIs agree, the search
 * reports no gap and each formulation's plan evaluates feasible to the
 * TPI it reports; when none fits, both formulations report brute force's
 * (positive) shortfall. Fills bf, pl and ag (the caller frees them);
 * returns 1 when all three are optimal. */
static inline int exact_compare(const uniap_cost_table *t, uniap_schedule sched,
                                uniap_pair_result *bf, uniap_pair_result *pl, uniap_pair_result *ag)
{
    uniap_solve_options o;
    uniap_solve_options_default(&o);
    o.schedule = sched;
    CHECK_EQ(uniap_brute_force(t, sched, bf), 0);
    o.formulation = UNIAP_FORM_PER_LAYER;
    CHECK_EQ(uniap_solve_pair(t, &o, pl), 0);
    o.formulation = UNIAP_FORM_AGGREGATED;
    CHECK_EQ(uniap_solve_pair(t, &o, ag), 0);
    CHECK_EQ(pl->status, bf->status);
    CHECK_EQ(ag->status, bf->status);
    if (bf->status == UNIAP_SOLVE_OPTIMAL && pl->status == bf->status && ag->status == bf->status) {
        CHECK_NEAR(pl->tpi, bf->tpi, 1e-9, 1e-15);
        CHECK_NEAR(ag->tpi, bf->tpi, 1e-9, 1e-15);
        CHECK_EQ(pl->gap, 0);
        const uniap_pair_result *rs[2] = {pl, ag};
        for (int a = 0; a < 2; a++) {
            uniap_plan_eval e;
            CHECK_EQ(uniap_plan_evaluate(t, sched, rs[a]->stage_of, rs[a]->strategy_of, &e), 0);
            CHECK(e.feasible);
            CHECK_NEAR(e.tpi, rs[a]->tpi, 1e-12, 0);
            uniap_plan_eval_free(&e);
        }
        return 1;
    }
    if (bf->status == UNIAP_SOLVE_INFEASIBLE) {
        CHECK_NEAR(pl->shortfall, bf->shortfall, 1e-6, 1.0);
        CHECK_NEAR(ag->shortfall, bf->shortfall, 1e-6, 1.0);
        CHECK(bf->shortfall > 0);
    }
    return 0;
}

static inline void exact_check_table(const uniap_cost_table *t,
                                     int (*marked)(const uniap_strategy *s), exact_counts *n)
{
    for (int sched = 0; sched < 2; sched++) {
        uniap_pair_result bf, pl, ag;
        if (exact_compare(t, (uniap_schedule)sched, &bf, &pl, &ag)) {
            n->optimal++;
            int any = 0;
            for (int u = 0; u < t->n_layers; u++)
                any |= marked(&t->strategies[bf.strategy_of[u]]);
            n->marked += any;
        } else if (bf.status == UNIAP_SOLVE_INFEASIBLE) {
            n->infeasible++;
        }
        uniap_pair_result_free(&bf);
        uniap_pair_result_free(&pl);
        uniap_pair_result_free(&ag);
    }
}

/* exact_check_table on every (deg, c) table of the cost model of m and
 * prof on cluster c under options o; counts the tables and those that
 * offer a marked strategy. */
static inline void exact_check_model(const uniap_model *m, const uniap_cluster *c,
                                     const uniap_profile *prof, const uniap_cost_options *o,
                                     int (*marked)(const uniap_strategy *s), exact_counts *n)
{
    uniap_costmodel *cm = NULL;
    int *deg = NULL, *mbs = NULL, k = 0;
    CHECK_EQ(uniap_costmodel_create(m, c, prof, o, &cm), 0);
    CHECK_EQ(uniap_costmodel_candidates(cm, &deg, &mbs, &k), 0);
    for (int i = 0; i < k; i++) {
        uniap_cost_table t;
        CHECK_EQ(uniap_costmodel_table(cm, deg[i], mbs[i], &t), 0);
        int any = 0;
        for (int j = 0; j < t.n_strategies; j++)
            any |= marked(&t.strategies[j]);
        n->tables_marked += any;
        n->tables++;
        exact_check_table(&t, marked, n);
        uniap_cost_table_free(&t);
    }
    free(deg);
    free(mbs);
    uniap_costmodel_destroy(cm);
}

#endif /* UNIAP_TEST_EXACT_TABLES_H */
