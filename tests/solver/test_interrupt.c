/*
 * test_interrupt.c - stopping the search (issue 10, item 5) and failing it
 * together, over MPI (ctest runs it with 1 and 2 ranks):
 *   - uniap_search_interrupt() called on rank 0 alone (from the table
 *     callback, after its candidates' heuristics and two candidates)
 *     stops every rank: the search returns 0 with interrupted = 1 on all,
 *     the same plan everywhere, whose TPI is uniap_plan_evaluate's, no
 *     better than the uninterrupted optimum, and a bound no higher than
 *     that optimum (an honest gap); the next search runs to the end and
 *     finds the optimum again (the request was cleared);
 *   - SIGALRM on every rank (as mpirun forwards SIGINT/SIGTERM) during a
 *     branch and cut that runs for 30 s stops it within a second, with a
 *     valid plan and bound;
 *   - a table refused on the last rank only (a NaN time) fails the search
 *     on every rank with UNIAP_EINVAL, and rank 0 holds that rank's
 *     message.
 */
#include <float.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "check.h"
#include "synth_table.h"
#include "uniap_solver.h"

enum { N_MAX = 64 };

typedef struct ctx {
    int rank;
    int runs[3];
    int max_strategies;
    int devices, batch;   /* 0: 8 and 16 */
    double budget_factor; /* 0: 0.15 */
    long calls;
    long interrupt_at; /* this rank calls uniap_search_interrupt() at this call; 0: never */
    int nan_on_rank;   /* -1: none */
} ctx;

static int make_table(void *p, int deg, int c, uniap_cost_table *out)
{
    ctx *x = p;
    synth_spec sp = {.deg = deg,
                     .c = c,
                     .stage_devices = (x->devices ? x->devices : 8) / deg,
                     .micro_batch = (x->batch ? x->batch : 16) / c,
                     .n_runs = 3,
                     .run_len = x->runs,
                     .max_strategies = x->max_strategies,
                     .budget_factor = x->budget_factor > 0 ? x->budget_factor : 0.15,
                     .seed = (uint64_t)(deg * 100 + c)};
    int rc = synth_table(&sp, out);
    if (++x->calls == x->interrupt_at)
        uniap_search_interrupt();
    if (rc == 0 && x->rank == x->nan_on_rank)
        out->time[0] = NAN;
    return rc;
}

static int candidates(int *deg, int *c, uniap_schedule *sched)
{
    int n = 0;
    for (int d = 1; d <= 8; d *= 2)
        for (int x = 1; x <= 16; x *= 2)
            for (int s = 0; s < 2 && n < N_MAX; s++, n++)
                deg[n] = d, c[n] = x, sched[n] = (uniap_schedule)s;
    return n;
}

/* The plan is the same on every rank and evaluates to its TPI. */
static void check_plan(ctx *x, const uniap_search_result *r)
{
    double mine[2] = {r->best.tpi, (double)r->winner}, lo[2], hi[2];
    MPI_Allreduce(mine, lo, 2, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(mine, hi, 2, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    CHECK(lo[0] == hi[0] && lo[1] == hi[1]);
    uniap_cost_table t;
    uniap_plan_eval e;
    long calls = x->calls;
    CHECK_EQ(make_table(x, r->best.deg, r->best.micro_batches, &t), 0);
    x->calls = calls;
    CHECK_EQ(uniap_plan_evaluate(&t, r->schedule, r->best.stage_of, r->best.strategy_of, &e), 0);
    CHECK(e.feasible);
    CHECK_NEAR(e.tpi, r->best.tpi, 1e-12, 0);
    uniap_plan_eval_free(&e);
    uniap_cost_table_free(&t);
}

static void test_interrupt_one_rank(int rank)
{
    int deg[N_MAX], c[N_MAX], n;
    uniap_schedule sched[N_MAX];
    uniap_solve_options o;
    uniap_search_result full, r;
    ctx x = {.rank = rank, .runs = {1, 14, 1}, .max_strategies = 12, .nan_on_rank = -1};

    n = candidates(deg, c, sched);
    uniap_solve_options_default(&o);
    CHECK_EQ(uniap_search(MPI_COMM_WORLD, n, deg, c, sched, make_table, &x, &o, 0, &full), 0);
    CHECK(full.found && full.optimal && !full.interrupted);
    /* rank 0 called the table twice per candidate of its own (heuristic,
     * solve): stop it at its second solve */
    long per_rank = x.calls / 2;
    x.calls = 0;
    x.interrupt_at = rank == 0 ? per_rank + 2 : 0;
    uniap_err_clear();
    CHECK_EQ(uniap_search(MPI_COMM_WORLD, n, deg, c, sched, make_table, &x, &o, 0, &r), 0);
    CHECK_EQ(r.interrupted, 1);
    CHECK_EQ(strlen(uniap_errmsg()), 0); /* not an error: no message left behind */
    CHECK(r.found);
    CHECK(r.pairs_solved + r.pairs_pruned < n); /* not every candidate was reached */
    if (r.found) {
        check_plan(&x, &r);
        CHECK(r.best.tpi >= full.best.tpi * (1 - 1e-12));
        CHECK(r.bound <= full.best.tpi * (1 + 1e-9)); /* honest: below every plan */
        CHECK(r.bound > 0);
        CHECK_NEAR(r.gap, (r.best.tpi - r.bound) / r.best.tpi, 1e-12, 1e-15);
        CHECK(!r.optimal || r.gap == 0);
    }
    uniap_search_result_free(&r);
    /* the request was answered: the next search runs to the end */
    x.calls = 0;
    x.interrupt_at = 0;
    CHECK_EQ(uniap_search(MPI_COMM_WORLD, n, deg, c, sched, make_table, &x, &o, 0, &r), 0);
    CHECK(!r.interrupted && r.optimal);
    CHECK_EQ(r.winner, full.winner);
    CHECK_NEAR(r.best.tpi, full.best.tpi, 1e-12, 0);
    uniap_search_result_free(&r);
    uniap_search_result_free(&full);
}

static void on_alarm(int sig)
{
    (void)sig;
    uniap_search_interrupt();
}

static double now(void)
{
    return MPI_Wtime();
}

static void test_signal(int rank)
{
    /* 16 stages of 4 devices over a run of 78 identical layers under
     * memory pressure: branch and cut runs into its time limit (30 s) */
    int deg[2] = {16, 16}, c[2] = {32, 32};
    uniap_schedule sched[2] = {UNIAP_SCHED_1F1B, UNIAP_SCHED_GPIPE};
    uniap_solve_options o;
    uniap_search_result r;
    ctx x = {.rank = rank,
             .runs = {1, 78, 1},
             .devices = 64,
             .batch = 64,
             .budget_factor = 0.05,
             .nan_on_rank = -1};

    uniap_solve_options_default(&o);
    o.formulation = UNIAP_FORM_AGGREGATED;
    o.time_limit = 30;
    signal(SIGALRM, on_alarm);
    struct itimerval it = {.it_value = {.tv_sec = 1, .tv_usec = 0}};
    MPI_Barrier(MPI_COMM_WORLD);
    uniap_err_clear();
    double t0 = now();
    setitimer(ITIMER_REAL, &it, NULL);
    CHECK_EQ(uniap_search(MPI_COMM_WORLD, 2, deg, c, sched, make_table, &x, &o, 0, &r), 0);
    double took = now() - t0;
    signal(SIGALRM, SIG_DFL);
    CHECK_EQ(strlen(uniap_errmsg()), 0);
    if (rank == 0)
        fprintf(stderr, "signalled after 1 s: the search returned after %.3f s (%s)\n", took,
                r.interrupted ? "interrupted" : "finished first");
    CHECK_EQ(r.interrupted, 1);
    CHECK(took < 1.0 + 3.0); /* 30 s otherwise; typically 1.0 s (generous for loaded CI) */
    CHECK(r.found);
    if (r.found) {
        check_plan(&x, &r);
        CHECK(r.bound > 0 && r.bound <= r.best.tpi);
        CHECK_NEAR(r.gap, (r.best.tpi - r.bound) / r.best.tpi, 1e-12, 1e-15);
        CHECK(!r.optimal);
    }
    uniap_search_result_free(&r);
}

static void test_failure_agreed(int rank, int size)
{
    int deg[N_MAX], c[N_MAX], n;
    uniap_schedule sched[N_MAX];
    uniap_solve_options o;
    uniap_search_result r;
    ctx x = {.rank = rank, .runs = {1, 6, 1}, .max_strategies = 8, .nan_on_rank = size - 1};

    n = candidates(deg, c, sched);
    uniap_solve_options_default(&o);
    uniap_err_clear();
    CHECK_EQ(uniap_search(MPI_COMM_WORLD, n, deg, c, sched, make_table, &x, &o, 0, &r),
             UNIAP_EINVAL);
    CHECK(!r.found && r.best.stage_of == NULL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "time layer 0, strategy 0");
    CHECK_STR_CONTAINS(uniap_errmsg(), "is nan");
    if (size > 1 && rank == 0) {
        char want[32];
        snprintf(want, sizeof want, "rank %d: ", size - 1);
        CHECK_STR_CONTAINS(uniap_errmsg(), want);
    }
}

int main(int argc, char **argv)
{
    int rank, size;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    test_interrupt_one_rank(rank);
    test_failure_agreed(rank, size);
    test_signal(rank);
    int failed = check_report();
    MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return failed;
}
