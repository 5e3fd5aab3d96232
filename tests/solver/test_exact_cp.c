/*
 * test_exact_cp.c - the MILP stays exact with context parallelism (issue
 * 15 items 2 and 5): on the cost model's own tables of the tiny fixture
 * model (2 decoder blocks + head, seq 16) on 4 devices, with cp 2 and 4
 * (ring and Ulysses) in the strategy space, both formulations reach the
 * optimum of exhaustive enumeration (uniap_brute_force) for GPipe and
 * 1F1B on every (deg, c) candidate, at budgets from loose to binding, and
 * every plan evaluates to the TPI the MILP reports. Memory budgets that
 * only cp (or checkpointing) meets make cp the optimum in some cases: the
 * test counts them so that the comparison is not vacuous.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"
#include "uniap_solver.h"

static int n_optimal, n_cp_optimum, n_infeasible;

static void check_table(const uniap_cost_table *t)
{
    for (int sched = 0; sched < 2; sched++) {
        uniap_pair_result bf, pl, ag;
        uniap_solve_options o;
        uniap_solve_options_default(&o);
        o.schedule = (uniap_schedule)sched;
        CHECK_EQ(uniap_brute_force(t, o.schedule, &bf), 0);
        o.formulation = UNIAP_FORM_PER_LAYER;
        CHECK_EQ(uniap_solve_pair(t, &o, &pl), 0);
        o.formulation = UNIAP_FORM_AGGREGATED;
        CHECK_EQ(uniap_solve_pair(t, &o, &ag), 0);
        CHECK_EQ(pl.status, bf.status);
        CHECK_EQ(ag.status, bf.status);
        if (bf.status == UNIAP_SOLVE_OPTIMAL && pl.status == bf.status && ag.status == bf.status) {
            n_optimal++;
            CHECK_NEAR(pl.tpi, bf.tpi, 1e-9, 1e-15);
            CHECK_NEAR(ag.tpi, bf.tpi, 1e-9, 1e-15);
            uniap_plan_eval e;
            CHECK_EQ(uniap_plan_evaluate(t, o.schedule, pl.stage_of, pl.strategy_of, &e), 0);
            CHECK(e.feasible);
            CHECK_NEAR(e.tpi, pl.tpi, 1e-12, 0);
            uniap_plan_eval_free(&e);
            int cp = 0;
            for (int u = 0; u < t->n_layers; u++)
                cp |= uniap_strategy_cp(&t->strategies[bf.strategy_of[u]]) > 1;
            n_cp_optimum += cp;
        } else if (bf.status == UNIAP_SOLVE_INFEASIBLE) {
            n_infeasible++;
            CHECK_NEAR(pl.shortfall, bf.shortfall, 1e-6, 1.0);
        }
        uniap_pair_result_free(&bf);
        uniap_pair_result_free(&pl);
        uniap_pair_result_free(&ag);
    }
}

int main(void)
{
    uniap_layer layers[2];
    uniap_model model;
    uniap_cluster cluster;
    uniap_profile prof;
    int tables = 0, with_cp = 0;

    fx_tiny_model(layers, &model);
    fx_easy_profile(&prof, layers, 2, 8);
    /* collectives 1000 x slower (1e8 and 1e7 B/s): the communication terms
     * then differ between plans by more than GLPK's tolerances (its
     * feasibility and objective tolerances are ~1e-7 of the figures) */
    for (int i = 0; i < prof.n_colls; i++)
        prof.colls[i].time.median *= 1e3;
    /* budgets (bytes per device, less the 1 KiB reserve): loose, and
     * tighter down to where the model states (about 105k parameters x 16
     * B under DDP, 1.7 MB, divided by tp and ZeRO-1's dp x cp) barely fit */
    const int64_t mem[] = {(int64_t)1 << 30, 2000000, 1200000, 800000, 600000, 450000, 350000};
    for (size_t mi = 0; mi < sizeof(mem) / sizeof(mem[0]); mi++) {
        uniap_cost_options o;
        uniap_costmodel *cm = NULL;
        int *deg = NULL, *c = NULL, n = 0;
        fx_cluster(&cluster, "test-1x4", 1, 4, mem[mi] + 1024);
        cluster.mem_bandwidth = 1e12;
        uniap_cost_options_default(&o);
        o.global_batch = 8;
        o.reserve_bytes = 1024;
        o.max_cp = 4;
        o.flavours = (1u << UNIAP_DP_DDP) | (1u << UNIAP_DP_ZERO1); /* keeps K^3 small */
        o.ckpt_modes = UNIAP_CKPT_BIT(UNIAP_CKPT_NONE) | UNIAP_CKPT_BIT(UNIAP_CKPT_FULL);
        CHECK_EQ(uniap_costmodel_create(&model, &cluster, &prof, &o, &cm), 0);
        CHECK_EQ(uniap_costmodel_candidates(cm, &deg, &c, &n), 0);
        for (int i = 0; i < n; i++) {
            uniap_cost_table t;
            CHECK_EQ(uniap_costmodel_table(cm, deg[i], c[i], &t), 0);
            int any = 0;
            for (int k = 0; k < t.n_strategies; k++)
                any |= uniap_strategy_cp(&t.strategies[k]) > 1;
            with_cp += any;
            tables++;
            check_table(&t);
            uniap_cost_table_free(&t);
        }
        free(deg);
        free(c);
        uniap_costmodel_destroy(cm);
    }
    fprintf(stderr,
            "%d tables (%d with cp strategies): %d optimal (%d with cp > 1 in the optimum) and %d "
            "infeasible cases agree with brute force\n",
            tables, with_cp, n_optimal, n_cp_optimum, n_infeasible);
    CHECK(with_cp >= 10);
    CHECK(n_optimal >= 20);
    CHECK(n_cp_optimum >= 1);
    uniap_profile_free(&prof);
    return check_report();
}
