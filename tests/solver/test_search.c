/*
 * test_search.c - the Unified Optimization Process over MPI: a search over
 * synthetic candidates (deg x c x schedule on 8 devices) must pick the
 * candidate of least (TPI, index) found by solving every candidate alone
 * (checked on rank 0), and writes the chosen plan canonically to
 * argv[1]; ctest runs it with 1, 2 and 4 ranks and compares the files.
 * With a budget nothing fits, the search reports the smallest shortfall
 * of every candidate solved alone (its cut-off drops only candidates that
 * cannot be the closest), and the candidate that has it.
 */
#include <assert.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "synth_table.h"
#include "uniap_solver.h"

static const int runs[3] = {1, 14, 1}, short_runs[3] = {1, 6, 1};

/* ctx NULL: 16 layers where plans fit; else 8 layers and a budget of half
 * the lightest plan's memory, where nothing fits */
static int make_table(void *ctx, int deg, int c, uniap_cost_table *out)
{
    synth_spec sp = {.deg = deg,
                     .c = c,
                     .stage_devices = 8 / deg,
                     .micro_batch = 16 / c,
                     .n_runs = 3,
                     .run_len = ctx ? short_runs : runs,
                     .max_strategies = ctx ? 8 : 12,
                     .budget_factor = ctx ? -1 : 0.15,
                     .seed = (uint64_t)(deg * 100 + c)};
    return synth_table(&sp, out);
}

int main(int argc, char **argv)
{
    /* deg 1,2,4,8 x c 1,2,4,8,16 x 2 schedules */
    enum { N_PAIRS = 4 * 5 * 2 };
    int rank, size, n = 0;
    int deg[N_PAIRS], c[N_PAIRS];
    uniap_schedule sched[N_PAIRS];
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (int d = 1; d <= 8; d *= 2)
        for (int x = 1; x <= 16; x *= 2)
            for (int s = 0; s < 2; s++, n++) {
                assert(n < N_PAIRS);
                deg[n] = d, c[n] = x;
                sched[n] = (uniap_schedule)s;
            }
    uniap_solve_options o;
    uniap_solve_options_default(&o);
    uniap_search_result r;
    CHECK_EQ(uniap_search(MPI_COMM_WORLD, n, deg, c, sched, make_table, NULL, &o, 0, &r), 0);
    CHECK(r.found);
    CHECK_EQ(r.pairs_total, n);
    CHECK_EQ(r.pairs_solved + r.pairs_pruned, n);
    if (rank == 0 && r.found) {
        /* reference: every candidate alone, least (TPI, index) */
        double best = DBL_MAX;
        int win = -1;
        for (int i = 0; i < n; i++) {
            uniap_cost_table t;
            uniap_pair_result p;
            uniap_solve_options oi = o;
            oi.schedule = sched[i];
            CHECK_EQ(make_table(NULL, deg[i], c[i], &t), 0);
            CHECK_EQ(uniap_solve_pair(&t, &oi, &p), 0);
            if (p.status == UNIAP_SOLVE_OPTIMAL && p.tpi < best) {
                best = p.tpi;
                win = i;
            }
            uniap_pair_result_free(&p);
            uniap_cost_table_free(&t);
        }
        CHECK_EQ(r.winner, win);
        CHECK_NEAR(r.best.tpi, best, 1e-12, 0);
        CHECK(r.optimal);
        /* the plan broadcast evaluates to the TPI reported */
        uniap_cost_table t;
        uniap_plan_eval e;
        CHECK_EQ(make_table(NULL, r.best.deg, r.best.micro_batches, &t), 0);
        CHECK_EQ(uniap_plan_evaluate(&t, r.schedule, r.best.stage_of, r.best.strategy_of, &e), 0);
        CHECK_NEAR(e.tpi, r.best.tpi, 1e-12, 0);
        uniap_plan_eval_free(&e);
        uniap_cost_table_free(&t);
        FILE *f = argc > 1 ? fopen(argv[1], "w") : NULL;
        CHECK(f != NULL);
        if (f) {
            fprintf(f, "winner %d deg %d c %d schedule %d tpi %.17g\n", r.winner, r.best.deg,
                    r.best.micro_batches, (int)r.schedule, r.best.tpi);
            for (int u = 0; u < r.n_layers; u++)
                fprintf(f, "%d %d %d\n", u, r.best.stage_of[u], r.best.strategy_of[u]);
            fclose(f);
        }
        fprintf(stderr, "%d ranks: winner %d (deg %d, c %d), %d solved, %d pruned\n", size,
                r.winner, r.best.deg, r.best.micro_batches, r.pairs_solved, r.pairs_pruned);
    }
    uniap_search_result_free(&r);

    /* nothing fits: the smallest shortfall of all candidates */
    int tight = 1;
    CHECK_EQ(uniap_search(MPI_COMM_WORLD, n, deg, c, sched, make_table, &tight, &o, 0, &r), 0);
    CHECK(!r.found);
    if (rank == 0 && !r.found) {
        double closest = DBL_MAX;
        int at = -1, infeasible = 0;
        for (int i = 0; i < n; i++) {
            uniap_cost_table t;
            uniap_pair_result p;
            uniap_solve_options oi = o;
            oi.schedule = sched[i];
            CHECK_EQ(make_table(&tight, deg[i], c[i], &t), 0);
            CHECK_EQ(uniap_solve_pair(&t, &oi, &p), 0);
            CHECK(p.status == UNIAP_SOLVE_INFEASIBLE);
            infeasible += p.status == UNIAP_SOLVE_INFEASIBLE;
            if (p.shortfall < closest) {
                closest = p.shortfall;
                at = i;
            }
            uniap_pair_result_free(&p);
            uniap_cost_table_free(&t);
        }
        CHECK_EQ(infeasible, n);
        CHECK(closest > 0 && closest < DBL_MAX);
        CHECK_NEAR(r.shortfall, closest, 1e-9, 1.0);
        CHECK_EQ(r.shortfall_cand, at);
        CHECK(r.shortfall_stage >= 0 && r.shortfall_stage < deg[at]);
        fprintf(stderr, "%d ranks: nothing fits, smallest shortfall %.6g bytes at candidate %d\n",
                size, r.shortfall, r.shortfall_cand);
    }
    uniap_search_result_free(&r);
    int rc = check_report();
    MPI_Finalize();
    return rc;
}
