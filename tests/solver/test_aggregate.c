/*
 * test_aggregate.c - the aggregated formulation (integer counts per run,
 * stage and strategy, class changes inside a run as an Euler path) reaches
 * the same optimum as the per-layer formulation on medium chains (12 to 34
 * layers in 2 to 4 runs, with single distinct layers at the ends; the
 * 34-layer chain is method.md's example of symmetry stalling a per-layer
 * MILP), for GPipe and 1F1B, with budgets that force mixed strategies
 * inside runs. Where the per-layer MILP hits its time limit, its plan is
 * never better than the aggregated optimum.
 * Also checks that the aggregated MILP is smaller.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "solver_internal.h"
#include "synth_table.h"

int main(void)
{
    static const int shapes[][5] = {
        {3, 1, 32, 1}, {4, 1, 12, 12, 1}, {3, 1, 10, 1}, {3, 2, 8, 2}, {2, 5, 7},
    };
    int compared = 0, mixed = 0;
    for (int sh = 0; sh < 5; sh++)
        for (int v = 0; v < 4; v++) {
            uint64_t seed = 100 + sh * 10 + v;
            int deg = v == 3 ? 4 : 2;
            synth_spec sp = {.deg = deg,
                             .c = v < 2 ? 4 : 8,
                             .stage_devices = 8 / deg,
                             .micro_batch = 1,
                             .n_runs = shapes[sh][0],
                             .run_len = shapes[sh] + 1,
                             .max_strategies = 6 + v % 3,
                             .budget_factor = 0.05 + 0.1 * v,
                             .seed = seed};
            uniap_cost_table t;
            CHECK_EQ(synth_table(&sp, &t), 0);
            for (int sched = 0; sched < 2; sched++) {
                uniap_pair_result pl, ag;
                uniap_solve_options o;
                uniap_solve_options_default(&o);
                o.schedule = (uniap_schedule)sched;
                o.time_limit = 4;
                o.formulation = UNIAP_FORM_PER_LAYER;
                CHECK_EQ(uniap_solve_pair(&t, &o, &pl), 0);
                o.formulation = UNIAP_FORM_AGGREGATED;
                CHECK_EQ(uniap_solve_pair(&t, &o, &ag), 0);
                /* the aggregated optimum is never worse than a per-layer
                 * incumbent cut short by the time limit */
                CHECK(ag.status == UNIAP_SOLVE_OPTIMAL || ag.status == UNIAP_SOLVE_INFEASIBLE);
                if (ag.status == UNIAP_SOLVE_INFEASIBLE) /* both, and equally short */
                    CHECK(pl.status == ag.status &&
                          fabs(pl.shortfall - ag.shortfall) <= 1e-6 * ag.shortfall + 1.0);
                else if (pl.status == UNIAP_SOLVE_FEASIBLE)
                    CHECK(ag.tpi <= pl.tpi * (1 + 1e-9));
                else
                    CHECK_EQ(pl.status, ag.status);
                if (pl.status == UNIAP_SOLVE_OPTIMAL && ag.status == UNIAP_SOLVE_OPTIMAL) {
                    compared++;
                    CHECK_NEAR(pl.tpi, ag.tpi, 1e-9, 1e-15);
                    int kinds = 0;
                    for (int u = 1; u < t.n_layers; u++)
                        kinds += ag.strategy_of[u] != ag.strategy_of[u - 1] &&
                                 t.run_of[u] == t.run_of[u - 1];
                    mixed += kinds > 0;
                }
                fprintf(stderr,
                        "shape %d seed %d deg %d sched %d: per-layer %d %.9g (%.2fs), "
                        "aggregated %d %.9g (%.3fs)\n",
                        sh, (int)seed, deg, sched, pl.status, pl.tpi, pl.seconds, ag.status, ag.tpi,
                        ag.seconds);
                uniap_pair_result_free(&pl);
                uniap_pair_result_free(&ag);
            }
            solver_shape sa, sl;
            CHECK_EQ(solver_shape_build(&t, 0, &sa), 0);
            CHECK_EQ(solver_shape_build(&t, 1, &sl), 0);
            CHECK_EQ(sa.G, shapes[sh][0]);
            CHECK_EQ(sl.G, t.n_layers);
            solver_shape_free(&sa);
            solver_shape_free(&sl);
            uniap_cost_table_free(&t);
        }
    fprintf(stderr, "%d cases compared, %d with mixed strategies inside a run\n", compared, mixed);
    CHECK(compared >= 25);
    CHECK(mixed >= 5);
    return check_report();
}
