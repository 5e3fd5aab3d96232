/*
 * test_zbh1.c - ZB-H1 (costmodel/sched_zbh1.c) against references worked
 * by hand from Qi et al. 2024 ("Zero Bubble Pipeline Parallelism", ICLR
 * 2024, section 3.1): with equal stages of T_F, T_B, T_W its TPI is
 * c (T_F + T_B + T_W) + (p - 1)(T_F + T_B - T_W), 1F1B's being
 * c (T_F + T_B + T_W) + (p - 1)(T_F + T_B + T_W); heterogeneous stages by
 * the closed form of sched_zbh1.c; W = 0 makes its TPI 1F1B's bit for bit
 * (every plan, the MILP's optimum); every stage holds deg micro-batches
 * (the paper's peak p M_B; 1F1B's on stage 0); the rules (c >= deg,
 * deg >= 2) refused by the evaluator and obeyed by the MILP; the MILP
 * trades a faster strategy for one with more W where the bubble pays for
 * it; runtimes other than "any" do not run it. Brute force == both MILP
 * formulations with W is in test_exact.c (every schedule of the table).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "solver_internal.h"
#include "synth_table.h"

static uniap_schedule zb(void)
{
    uniap_schedule s = -1;
    CHECK_EQ(uniap_schedule_parse("zb-h1", &s), 0);
    return s;
}

/* The paper's equal-stage TPIs, then a heterogeneous pair of stages. */
static void test_tpi(void)
{
    uniap_cost_table t;
    /* 2 stages, one layer each, T_F = T_B = T_W = 1 (time 3, wgrad 1),
     * c = 4: ZB-H1 4 x 3 + 1 x (1 + 1 - 1) = 13; 1F1B 4 x 3 + 1 x 3 = 15 */
    CHECK_EQ(synth_uniform(&t, 2, 4, 2, 3.0, 1.0, 0.0, 0.0), 0);
    int two[2] = {0, 1};
    CHECK_NEAR(synth_tpi(&t, zb(), two), 13.0, 1e-12, 0);
    CHECK_NEAR(synth_tpi(&t, UNIAP_SCHED_1F1B, two), 15.0, 1e-12, 0);
    uniap_cost_table_free(&t);

    /* 4 stages of 2 layers, each layer time 2.5 of which W 0.5: a stage
     * T_F + T_B = 4, T_W = 1 (say F 2, B 2), c = 8: ZB-H1 8 x 5 + 3 x
     * (4 - 1) = 49; 1F1B 8 x 5 + 3 x 5 = 55. With transfers 0.1 on the 3
     * boundaries (comm 1: + 0.3, max(5, 0.1) = 5) and a tail of 0.2 a layer
     * (0.4 a stage, once): 49 + 0.3 + 0.4 = 49.7 */
    CHECK_EQ(synth_uniform(&t, 4, 8, 8, 2.5, 0.5, 0.0, 0.0), 0);
    int four[8] = {0, 0, 1, 1, 2, 2, 3, 3};
    CHECK_NEAR(synth_tpi(&t, zb(), four), 49.0, 1e-12, 0);
    CHECK_NEAR(synth_tpi(&t, UNIAP_SCHED_1F1B, four), 55.0, 1e-12, 0);
    uniap_cost_table_free(&t);
    CHECK_EQ(synth_uniform(&t, 4, 8, 8, 2.5, 0.5, 0.1, 0.2), 0);
    CHECK_NEAR(synth_tpi(&t, zb(), four), 49.7, 1e-12, 0);
    uniap_cost_table_free(&t);

    /* heterogeneous, 2 stages, c = 3: stage 0 p 4, w 1; stage 1 p 6, w 1.5
     * (the slowest has the largest W): c p_s + (p_0 - 2 w_0) = 18 + 2 =
     * 20; the terms: sum p 10 - 2 sum w 5 + (c - 1) max p 12 + 2 max w 3 =
     * 20. Layers: stage 0 two of (2, 0.5), stage 1 two of (3, 0.75) */
    CHECK_EQ(synth_uniform(&t, 2, 3, 4, 2.0, 0.5, 0.0, 0.0), 0);
    t.time[2] = t.time[3] = 3.0;
    t.wgrad[2] = t.wgrad[3] = 0.75;
    int het[4] = {0, 0, 1, 1};
    CHECK_NEAR(synth_tpi(&t, zb(), het), 20.0, 1e-12, 0);
    CHECK_NEAR(synth_tpi(&t, UNIAP_SCHED_1F1B, het), 22.0, 1e-12, 0); /* 10 + 2 x 6 */
    /* the largest W not on the slowest stage: stage 0 w 1.5, stage 1 w 1:
     * 10 - 5 + 12 + 2 x 1.5 = 20, above c p_s + (p_0 - 2 w_0) = 18 + 1 =
     * 19 by 2 (max w - w_s) = 1 (the bound of sched_zbh1.c) */
    t.wgrad[0] = t.wgrad[1] = 0.75;
    t.wgrad[2] = t.wgrad[3] = 0.5;
    CHECK_NEAR(synth_tpi(&t, zb(), het), 20.0, 1e-12, 0);
    uniap_cost_table_free(&t);
}

/* W = 0: ZB-H1 is 1F1B exactly (TPI, memory, the MILP's optimum). */
static void test_no_w(void)
{
    int optimal = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        int deg = seed % 2 ? 2 : 4, L = deg + 2 + (int)(seed % 3), runs[2] = {L / 2, L - L / 2};
        synth_spec sp = {.deg = deg,
                         .c = deg * (1 + (int)(seed % 2)),
                         .stage_devices = 4 / deg,
                         .micro_batch = 2,
                         .n_runs = 2,
                         .run_len = runs,
                         .max_strategies = 4,
                         .budget_factor = 0.3 + 0.05 * (double)seed,
                         .seed = seed};
        uniap_cost_table t;
        CHECK_EQ(synth_table(&sp, &t), 0);
        memset(t.wgrad, 0, sizeof(double) * (size_t)L * t.n_strategies);
        /* memory apart (zb-h1's later stages hold more: test_rules) */
        t.mem_budget[0] = 1e15;
        uniap_pair_result a, b;
        CHECK_EQ(uniap_brute_force(&t, UNIAP_SCHED_1F1B, &a), 0);
        CHECK_EQ(uniap_brute_force(&t, zb(), &b), 0);
        CHECK_EQ(a.status, b.status);
        if (a.status == UNIAP_SOLVE_OPTIMAL) {
            uniap_plan_eval e1, e2;
            CHECK_EQ(uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, a.stage_of, a.strategy_of, &e1), 0);
            CHECK_EQ(uniap_plan_evaluate(&t, zb(), a.stage_of, a.strategy_of, &e2), 0);
            CHECK(memcmp(&e1.tpi, &e2.tpi, sizeof(double)) == 0);
            CHECK(memcmp(e1.stage_mem, e2.stage_mem, sizeof(double)) == 0); /* stage 0 */
            CHECK(memcmp(&a.tpi, &b.tpi, sizeof(double)) == 0);
            uniap_plan_eval_free(&e1);
            uniap_plan_eval_free(&e2);
            uniap_solve_options o;
            uniap_pair_result r;
            uniap_solve_options_default(&o);
            o.schedule = zb();
            CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
            CHECK_NEAR(r.tpi, a.tpi, 1e-9, 1e-15);
            optimal += r.status == UNIAP_SOLVE_OPTIMAL;
            uniap_pair_result_free(&r);
        }
        uniap_pair_result_free(&a);
        uniap_pair_result_free(&b);
        uniap_cost_table_free(&t);
    }
    CHECK(optimal >= 6);
}

/* Memory: the paper's peak p M_B (1F1B's stage 0) on every stage: stage
 * i's deg - i forwards ahead plus its i deferred W's; c >= deg and
 * deg >= 2, refused by name and obeyed. */
static void test_rules(void)
{
    for (int deg = 2; deg <= 8; deg *= 2)
        for (int c = deg; c <= 3 * deg; c++)
            for (int i = 0; i < deg; i++) {
                CHECK_EQ(uniap_inflight(zb(), c, deg, i), deg);
                CHECK_EQ(uniap_inflight(UNIAP_SCHED_1F1B, c, deg, i), deg - i);
            }
    CHECK(!uniap_schedule_runs(zb(), 3, 4));
    CHECK(uniap_schedule_runs(zb(), 4, 4));
    CHECK(!uniap_schedule_runs(zb(), 8, 1));
    uniap_cost_table t;
    CHECK_EQ(synth_uniform(&t, 4, 3, 4, 1.0, 0.25, 0.0, 0.0), 0);
    int st[4] = {0, 1, 2, 3}, sg[4] = {0};
    uniap_plan_eval e;
    CHECK_EQ(uniap_plan_evaluate(&t, zb(), st, sg, &e), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "zb-h1 needs at least as many micro-batches as stages");
    uniap_solve_options o;
    uniap_pair_result r;
    uniap_solve_options_default(&o);
    o.schedule = zb();
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
    CHECK_EQ(r.status, UNIAP_SOLVE_INFEASIBLE);
    uniap_pair_result_free(&r);
    uniap_cost_table_free(&t);
    /* runtimes: only "any" runs it */
    const char *const *names = uniap_runtime_names();
    int any = 0;
    for (int k = 0; names[k]; k++) {
        uniap_runtime rt;
        CHECK_EQ(uniap_runtime_parse(names[k], &rt), 0);
        int ok = uniap_runtime_schedule_ok(rt, zb());
        CHECK_EQ(ok, strcmp(names[k], "any") == 0);
        any += ok;
    }
    CHECK_EQ(any, 1);
}

/* Two strategies a layer: k0 time 3, no W; k1 time 3.2 of which W 1.2.
 * 2 stages of one layer, c = 2. 1F1B: k0, 2 x 3 + 3 = 9 (k1: 9.6).
 * ZB-H1: k1, c p + (p - 1)(p - 2w) = 6.4 + (3.2 - 2.4) = 7.2 (k0: 9). */
static void test_choice(void)
{
    uniap_cost_table t;
    CHECK_EQ(uniap_cost_table_alloc(&t, 2, 2, 2), 0);
    t.micro_batches = 2, t.micro_batch = 1, t.stage_devices = 1;
    for (int k = 0; k < 2; k++) {
        snprintf(t.strategies[k].name, sizeof t.strategies[k].name, "k%d", k);
        t.strategies[k].dp = t.strategies[k].tp = 1;
        for (int u = 0; u < 2; u++) {
            t.time[u * 2 + k] = k ? 3.2 : 3.0;
            t.wgrad[u * 2 + k] = k ? 1.2 : 0.0;
            t.mem_act[u * 2 + k] = 1.0;
        }
    }
    t.mem_budget[0] = 1e18;
    uniap_solve_options o;
    uniap_pair_result r;
    const double want[2] = {9.0, 7.2};
    for (int z = 0; z < 2; z++)
        for (int f = 0; f < 2; f++) {
            uniap_solve_options_default(&o);
            o.schedule = z ? zb() : UNIAP_SCHED_1F1B;
            o.formulation = f ? UNIAP_FORM_AGGREGATED : UNIAP_FORM_PER_LAYER;
            CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
            CHECK_EQ(r.status, UNIAP_SOLVE_OPTIMAL);
            CHECK_NEAR(r.tpi, want[z], 1e-9, 0);
            CHECK_EQ(r.strategy_of[0], z);
            CHECK_EQ(r.strategy_of[1], z);
            uniap_pair_result_free(&r);
        }
    uniap_cost_table_free(&t);
}

int main(void)
{
    test_tpi();
    test_no_w();
    test_rules();
    test_choice();
    return check_report();
}
