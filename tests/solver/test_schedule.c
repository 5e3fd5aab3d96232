/*
 * test_schedule.c - a pipeline schedule is one descriptor: a toy third
 * schedule, defined here and nowhere else, is registered at run time and
 * then named, parsed, evaluated and solved like the built-in ones. Its
 * TPI coefficients (fill 1/2, steady c - 1/2 + deg/4, tail 3/2) and its
 * in-flight micro-batches (min(c, i + 1): the last stage holds the most)
 * differ from GPipe's and 1F1B's, so any consumer that ignored the
 * descriptor would disagree: on random structured tables the evaluator's
 * TPI equals the toy formula computed here from its stage terms, its
 * memory uses the toy's inflight, and both MILP formulations reach the
 * optimum of exhaustive enumeration (uniap_brute_force), infeasible cases
 * with the same shortfall. The table refuses a second schedule of the same
 * name and unknown ids are errors, not silent defaults.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "solver_internal.h"
#include "synth_table.h"

static uniap_schedule_terms toy_terms(int c, int deg)
{
    uniap_schedule_terms w = {
        .fill = 0.5, .steady = c - 0.5 + 0.25 * deg, .tail = 1.5, .comm = 0.5, .comm_max = 1};
    return w;
}

static double toy_inflight(int c, int deg, int i)
{
    (void)deg;
    return c < i + 1 ? c : i + 1;
}

static const uniap_schedule_desc toy = {
    .name = "toy",
    .help = "a test schedule",
    .terms = toy_terms,
    .inflight = toy_inflight,
};

static void test_table(uniap_schedule id, int n_builtin)
{
    uniap_schedule got = -1, dup;
    char list[128];

    CHECK_EQ(id, n_builtin);
    CHECK_EQ(uniap_schedule_count(), n_builtin + 1);
    CHECK(uniap_schedule_get(id) == &toy);
    CHECK_STR_CONTAINS(uniap_schedule_name(id), "toy");
    CHECK_EQ(uniap_schedule_parse("toy", &got), 0);
    CHECK_EQ(got, id);
    CHECK_EQ(uniap_schedule_parse("gpipe", &got), 0);
    CHECK_EQ(got, UNIAP_SCHED_GPIPE);
    CHECK_EQ(uniap_schedule_parse("1f1b", &got), 0);
    CHECK_EQ(got, UNIAP_SCHED_1F1B);
    const char *const *names = uniap_schedule_names();
    CHECK(names[id] && strcmp(names[id], "toy") == 0 && names[id + 1] == NULL);
    CHECK(uniap_schedule_list(list, sizeof list, "") > 0);
    CHECK_STR_CONTAINS(list, "gpipe, 1f1b, ");
    CHECK_STR_CONTAINS(list, " or toy");
    CHECK_EQ(uniap_schedule_parse("zigzag", &got), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "expected gpipe, 1f1b, ");
    CHECK_STR_CONTAINS(uniap_errmsg(), " or toy");
    uniap_err_clear();
    CHECK_EQ(uniap_schedule_register(&toy, &dup), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "already registered");
    uniap_err_clear();
    CHECK(uniap_schedule_get(id + 1) == NULL && uniap_schedule_get(-1) == NULL);
    CHECK_STR_CONTAINS(uniap_schedule_name(id + 1), "?");
}

/* The evaluator's TPI and memory are the toy's formulas over its terms. */
static void check_eval(const uniap_cost_table *t, uniap_schedule id, const int *stage_of,
                       const int *strategy_of, double tpi)
{
    uniap_plan_eval e, g;
    int D = t->deg, c = t->micro_batches, K = t->n_strategies;
    double sum = 0, slowest = 0, tail = 0;

    CHECK_EQ(uniap_plan_evaluate(t, id, stage_of, strategy_of, &e), 0);
    CHECK_EQ(uniap_plan_evaluate(t, UNIAP_SCHED_GPIPE, stage_of, strategy_of, &g), 0);
    for (int i = 0; i < D; i++) {
        sum += e.stage_compute[i];
        slowest = fmax(slowest, e.stage_compute[i]);
        tail = fmax(tail, e.stage_tail[i]);
    }
    for (int j = 0; j + 1 < D; j++) {
        sum += e.stage_comm[j];
        slowest = fmax(slowest, e.stage_comm[j]);
    }
    CHECK_NEAR(e.tpi, 0.5 * sum + (c - 0.5 + 0.25 * D) * slowest + 1.5 * tail, 1e-12, 0);
    CHECK_NEAR(e.tpi, tpi, 1e-9, 1e-15);
    for (int i = 0; i < D; i++) { /* GPipe holds c, the toy min(c, i + 1) */
        double act = 0;
        for (int u = 0; u < t->n_layers; u++)
            if (stage_of[u] == i)
                act += t->mem_act[(size_t)u * K + strategy_of[u]];
        CHECK_NEAR(g.stage_mem[i] - e.stage_mem[i], (c - toy_inflight(c, D, i)) * act, 1e-9, 1.0);
    }
    uniap_plan_eval_free(&e);
    uniap_plan_eval_free(&g);
}

int main(void)
{
    uniap_schedule id = -1;
    int optimal = 0, infeasible = 0, differs = 0;
    uniap_plan_eval e;

    /* an unknown schedule is refused before registration */
    {
        uniap_cost_table t;
        int st[1] = {0}, sg[1] = {0};
        CHECK_EQ(uniap_cost_table_alloc(&t, 1, 1, 1), 0);
        t.micro_batches = 1;
        CHECK_EQ(uniap_plan_evaluate(&t, uniap_schedule_count(), st, sg, &e), UNIAP_EINVAL);
        CHECK_STR_CONTAINS(uniap_errmsg(), "not in the schedule table");
        uniap_err_clear();
        uniap_cost_table_free(&t);
    }
    int n_builtin = uniap_schedule_count();
    CHECK(n_builtin >= 2);
    CHECK_EQ(uniap_schedule_register(&toy, &id), 0);
    test_table(id, n_builtin);

    for (uint64_t seed = 1; seed <= 40; seed++) {
        uint64_t rs = seed * 7919 + 17;
        int deg, runs[6], nr;
        int L = synth_shape(&rs, 2, 4, &deg, runs, &nr);
        synth_spec sp = {.deg = deg,
                         .c = 1 << (int)(synth_rand(&rs) * 3),
                         .stage_devices = 4 / deg,
                         .micro_batch = 2,
                         .n_runs = nr,
                         .run_len = runs,
                         .max_strategies = 6 + (int)(synth_rand(&rs) * 6),
                         .budget_factor = seed % 7 == 0 ? -1 : 0.05 + 0.7 * synth_rand(&rs),
                         .seed = seed};
        uniap_cost_table t;
        uniap_pair_result bf, pl, ag, ref;
        uniap_solve_options o;
        CHECK_EQ(synth_table(&sp, &t), 0);
        uniap_solve_options_default(&o);
        o.schedule = id;
        CHECK_EQ(uniap_brute_force(&t, id, &bf), 0);
        CHECK_EQ(uniap_brute_force(&t, UNIAP_SCHED_1F1B, &ref), 0);
        o.formulation = UNIAP_FORM_PER_LAYER;
        CHECK_EQ(uniap_solve_pair(&t, &o, &pl), 0);
        o.formulation = UNIAP_FORM_AGGREGATED;
        CHECK_EQ(uniap_solve_pair(&t, &o, &ag), 0);
        CHECK_EQ(pl.status, bf.status);
        CHECK_EQ(ag.status, bf.status);
        if (bf.status == UNIAP_SOLVE_OPTIMAL) {
            optimal++;
            CHECK_NEAR(pl.tpi, bf.tpi, 1e-9, 1e-15);
            CHECK_NEAR(ag.tpi, bf.tpi, 1e-9, 1e-15);
            check_eval(&t, id, bf.stage_of, bf.strategy_of, bf.tpi);
            if (pl.status == UNIAP_SOLVE_OPTIMAL)
                check_eval(&t, id, pl.stage_of, pl.strategy_of, pl.tpi);
            if (ag.status == UNIAP_SOLVE_OPTIMAL)
                check_eval(&t, id, ag.stage_of, ag.strategy_of, ag.tpi);
            differs += ref.status != UNIAP_SOLVE_OPTIMAL || fabs(ref.tpi - bf.tpi) > 1e-9 * bf.tpi;
        } else if (bf.status == UNIAP_SOLVE_INFEASIBLE) {
            infeasible++;
            CHECK_NEAR(pl.shortfall, bf.shortfall, 1e-6, 1.0);
            CHECK_NEAR(ag.shortfall, bf.shortfall, 1e-6, 1.0);
        }
        if (pl.status != bf.status || ag.status != bf.status)
            fprintf(stderr, "seed %d L %d deg %d: brute %d %.9g, per-layer %d %.9g, agg %d %.9g\n",
                    (int)seed, L, deg, bf.status, bf.tpi, pl.status, pl.tpi, ag.status, ag.tpi);
        uniap_pair_result_free(&bf);
        uniap_pair_result_free(&ref);
        uniap_pair_result_free(&pl);
        uniap_pair_result_free(&ag);
        uniap_cost_table_free(&t);
    }
    fprintf(stderr,
            "toy schedule: %d optimal and %d infeasible cases agree with brute force; its optimum "
            "differs from 1F1B's in %d\n",
            optimal, infeasible, differs);
    CHECK(optimal >= 20);
    CHECK(infeasible >= 3);
    CHECK(differs >= 10); /* the toy is not a built-in schedule in disguise */
    return check_report();
}
