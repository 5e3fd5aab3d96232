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
#include "exact_tables.h"

/* the dimension under test */
static int has_cp(const uniap_strategy *s)
{
    return uniap_strategy_cp(s) > 1;
}

int main(void)
{
    uniap_layer layers[2];
    uniap_model model;
    uniap_cluster cluster;
    uniap_profile prof;
    exact_counts cnt = {0};

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
        fx_cluster(&cluster, "test-1x4", 1, 4, mem[mi] + 1024);
        cluster.mem_bandwidth = 1e12;
        uniap_cost_options_default(&o);
        o.global_batch = 8;
        o.reserve_bytes = 1024;
        o.max_cp = 4;
        o.flavours = (1u << UNIAP_DP_DDP) | (1u << UNIAP_DP_ZERO1); /* keeps K^3 small */
        o.ckpt_modes = UNIAP_CKPT_BIT(UNIAP_CKPT_NONE) | UNIAP_CKPT_BIT(UNIAP_CKPT_FULL);
        exact_check_model(&model, &cluster, &prof, &o, has_cp, &cnt);
    }
    fprintf(stderr,
            "%d tables (%d with cp strategies): %d optimal (%d with cp > 1 in the optimum) and %d "
            "infeasible cases agree with brute force\n",
            cnt.tables, cnt.tables_marked, cnt.optimal, cnt.marked, cnt.infeasible);
    CHECK(cnt.tables_marked >= 10);
    CHECK(cnt.optimal >= 20);
    CHECK(cnt.marked >= 1);
    uniap_profile_free(&prof);
    return check_report();
}
