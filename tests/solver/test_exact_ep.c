/*
 * test_exact_ep.c - the MILP stays exact with expert parallelism (issue
 * 15 item 3): on the cost model's own tables of a tiny moe model (2 moe
 * blocks of 4 experts, top-2, hidden 64, seq 16, + a head) on 4 devices,
 * with ep 2 and 4 in the strategy space (and a 1.5 routing imbalance, so
 * that ep costs compute as well as all-to-alls), both formulations reach
 * the optimum of exhaustive enumeration (uniap_brute_force) for GPipe and
 * 1F1B on every (deg, c) candidate, at budgets from loose to binding, and
 * every plan evaluates to the TPI the MILP reports. ep shrinks the expert
 * states (and their gradient sync), so some budgets make it the optimum:
 * the test counts them so that the comparison is not vacuous.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"
#include "uniap_solver.h"
#include "exact_tables.h"

/* the dimension under test */
static int has_ep(const uniap_strategy *s)
{
    return uniap_strategy_ep(s) > 1;
}

int main(void)
{
    uniap_layer layers[2];
    uniap_model model;
    uniap_cluster cluster;
    uniap_profile prof;
    exact_counts cnt = {0};

    fx_tiny_model(layers, &model);
    layers[0].kind = UNIAP_LAYER_MOE; /* the blocks' MLP as 4 experts of ffn 64, top-2 */
    layers[0].ffn = 64;
    layers[0].experts = 4;
    layers[0].top_k = 2;
    fx_easy_profile(&prof, layers, 2, 8);
    /* collectives 1000 x slower (1e8 and 1e7 B/s): the communication terms
     * then differ between plans by more than GLPK's tolerances (its
     * feasibility and objective tolerances are ~1e-7 of the figures) */
    for (int i = 0; i < prof.n_colls; i++)
        prof.colls[i].time.median *= 1e3;
    /* budgets (bytes per device, less the 1 KiB reserve): loose, and
     * tighter down to where the model states (2 x 49,664 + 6,528
     * parameters x 16 B under DDP, 1.7 MB, the 2 x 32,768 expert ones
     * divided by ep, all by tp and ZeRO-1's dp) barely fit */
    const int64_t mem[] = {(int64_t)1 << 30, 2000000, 1200000, 800000, 600000,
                           450000,           350000,  300000,  260000};
    for (size_t mi = 0; mi < sizeof(mem) / sizeof(mem[0]); mi++) {
        uniap_cost_options o;
        fx_cluster(&cluster, "test-1x4", 1, 4, mem[mi] + 1024);
        cluster.mem_bandwidth = 1e9; /* the optimizer steps apart by more than GLPK's tolerances */
        uniap_cost_options_default(&o);
        o.global_batch = 8;
        o.reserve_bytes = 1024;
        o.max_cp = 1;
        o.max_ep = 4;
        o.moe_imbalance = mi % 2 ? 1.5 : 1.0; /* balanced, and a slowest rank 1.5x */
        o.flavours = (1u << UNIAP_DP_DDP) | (1u << UNIAP_DP_ZERO1); /* keeps K^3 small */
        o.ckpt_modes = UNIAP_CKPT_BIT(UNIAP_CKPT_NONE) | UNIAP_CKPT_BIT(UNIAP_CKPT_FULL);
        exact_check_model(&model, &cluster, &prof, &o, has_ep, &cnt);
    }
    fprintf(stderr,
            "%d tables (%d with ep strategies): %d optimal (%d with ep > 1 in the optimum) and %d "
            "infeasible cases agree with brute force\n",
            cnt.tables, cnt.tables_marked, cnt.optimal, cnt.marked, cnt.infeasible);
    CHECK(cnt.tables_marked >= 10);
    CHECK(cnt.optimal >= 20);
    CHECK(cnt.marked >= 1);
    uniap_profile_free(&prof);
    return check_report();
}
