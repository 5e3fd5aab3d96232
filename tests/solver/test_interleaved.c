/*
 * test_interleaved.c - interleaved 1F1B (costmodel/sched_interleaved.c)
 * against references worked by hand: its TPI from the bubble of Narayanan
 * et al. 2021, section 2.2.2 (TPI = (c + (deg - 1) / v) p with equal
 * stages, a bubble of (deg - 1) / (v c) of the ideal c p), the transfers'
 * coefficients derived in sched_interleaved.c, the activations in flight
 * counted from Megatron-LM's warm-up rule, the rules it imposes (c a
 * multiple of deg, a layer per virtual stage: the evaluator refuses, the
 * MILP obeys), and brute force == both MILP formulations on random tables
 * of the shapes interleaving runs on. GPipe and 1F1B are checked unchanged.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "solver_internal.h"
#include "synth_table.h"

static uniap_schedule sched_of(const char *name)
{
    uniap_schedule s = -1;
    CHECK_EQ(uniap_schedule_parse(name, &s), 0);
    return s;
}

/* TPI: the paper's bubble, then the transfers' terms, worked by hand. */
static void test_tpi(void)
{
    uniap_cost_table t;
    int st4[4] = {0, 0, 1, 1};
    /* deg 2, c 4, v 2, p = 2 per stage (2 layers of 1 s), no transfer, tail
     * 0.5: (c + (deg - 1) / v) p + tail = (4 + 1/2) 2 + 0.5 = 9.5; 1F1B
     * (c + deg - 1) p + tail = 10.5; the bubble 1 s = (deg - 1)/(v c) = 1/8
     * of the ideal c p = 8 s */
    CHECK_EQ(synth_uniform(&t, 2, 4, 4, 1.0, 0.0, 0.0, 0.25), 0);
    CHECK_NEAR(synth_tpi(&t, sched_of("interleaved2"), st4), 9.5, 1e-12, 0);
    CHECK_NEAR(synth_tpi(&t, UNIAP_SCHED_1F1B, st4), 10.5, 1e-12, 0);
    CHECK_NEAR((synth_tpi(&t, sched_of("interleaved2"), st4) - 0.5 - 8.0) / 8.0, 1.0 / 8, 1e-12, 0);
    uniap_cost_table_free(&t);
    /* with o = 0.1 s: comm = 1 + (v - 1)/(v (deg - 1)) = 1.5, the max
     * compares p = 2 with v o = 0.2: 0.5 * 4 + 1.5 * 0.1 + 3.5 * 2 + 0.5
     * = 9.65 (1F1B: 4 + 0.1 + 3 * 2 + 0.5 = 10.6) */
    CHECK_EQ(synth_uniform(&t, 2, 4, 4, 1.0, 0.0, 0.1, 0.25), 0);
    CHECK_NEAR(synth_tpi(&t, sched_of("interleaved2"), st4), 9.65, 1e-12, 0);
    CHECK_NEAR(synth_tpi(&t, UNIAP_SCHED_1F1B, st4), 10.6, 1e-12, 0);
    uniap_cost_table_free(&t);
    /* transfer-bound: deg 2, c 2, p = 1 (2 layers of 0.5), o = 0.8, no
     * tail: v o = 1.6 > p: 0.5 * 2 + 1.5 * 0.8 + (2 - 0.5) * 1.6 = 4.6 */
    CHECK_EQ(synth_uniform(&t, 2, 2, 4, 0.5, 0.0, 0.8, 0.0), 0);
    CHECK_NEAR(synth_tpi(&t, sched_of("interleaved2"), st4), 4.6, 1e-12, 0);
    uniap_cost_table_free(&t);
    /* deg 4, c 8, v 4, 16 layers of 0.75 (p = 3), o = 0: (8 + 3/4) 3 = 26.25;
     * v 2: (8 + 3/2) 3 = 28.5; v 3 needs 12 layers: 4 per stage, (8 + 1) 3 */
    int st16[16], st12[12];
    for (int u = 0; u < 16; u++)
        st16[u] = u / 4;
    CHECK_EQ(synth_uniform(&t, 4, 8, 16, 0.75, 0.0, 0.0, 0.0), 0);
    CHECK_NEAR(synth_tpi(&t, sched_of("interleaved4"), st16), 26.25, 1e-12, 0);
    CHECK_NEAR(synth_tpi(&t, sched_of("interleaved2"), st16), 28.5, 1e-12, 0);
    uniap_cost_table_free(&t);
    for (int u = 0; u < 12; u++)
        st12[u] = u / 3;
    CHECK_EQ(synth_uniform(&t, 4, 8, 12, 1.0, 0.0, 0.0, 0.0), 0);
    CHECK_NEAR(synth_tpi(&t, sched_of("interleaved3"), st12), 27.0, 1e-12, 0);
    /* deg 4, v 3, o = 0.3 on each of the 3 boundaries: comm = 1 + 2/9,
     * v o = 0.9 < p = 3: 27 + (11/9) 0.9 = 28.1 */
    uniap_cost_table_free(&t);
    CHECK_EQ(synth_uniform(&t, 4, 8, 12, 1.0, 0.0, 0.3, 0.0), 0);
    CHECK_NEAR(synth_tpi(&t, sched_of("interleaved3"), st12), 28.1, 1e-12, 0);
    uniap_cost_table_free(&t);
}

/* In flight: Megatron-LM's warm-up (deg - i - 1) 2 + (v - 1) deg chunks,
 * + 1 in the steady state, at most the c v of the iteration, 1/v of a
 * micro-batch's activations each. */
static void test_inflight(void)
{
    uniap_schedule v2 = sched_of("interleaved2"), v4 = sched_of("interleaved4");
    /* deg 4, v 2, c 8: warm-ups 10, 8, 6, 4 -> 11, 9, 7, 5 chunks */
    const double want42[4] = {5.5, 4.5, 3.5, 2.5};
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(uniap_inflight(v2, 8, 4, i), want42[i], 1e-15, 0);
    /* deg 2, v 4, c 4: warm-ups 8, 6 -> 9, 7 chunks of 1/4 */
    CHECK_NEAR(uniap_inflight(v4, 4, 2, 0), 2.25, 1e-15, 0);
    CHECK_NEAR(uniap_inflight(v4, 4, 2, 1), 1.75, 1e-15, 0);
    /* c == deg = 4, v 2: warm-ups 10, 8, 6, 4 capped at the c v = 8 chunk
     * forwards: 8, 8, 7, 5 chunks held */
    const double want44[4] = {4.0, 4.0, 3.5, 2.5};
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(uniap_inflight(v2, 4, 4, i), want44[i], 1e-15, 0);
    /* unchanged: 1F1B min(c, deg - i), GPipe c */
    const double f1[4] = {4, 3, 2, 1}, f2[4] = {2, 2, 2, 1};
    for (int i = 0; i < 4; i++) {
        CHECK_NEAR(uniap_inflight(UNIAP_SCHED_1F1B, 8, 4, i), f1[i], 0, 0);
        CHECK_NEAR(uniap_inflight(UNIAP_SCHED_1F1B, 2, 4, i), f2[i], 0, 0);
        CHECK_NEAR(uniap_inflight(UNIAP_SCHED_GPIPE, 8, 4, i), 8, 0, 0);
    }
    /* the evaluator's memory: 4 layers of 1 byte per stage, deg 4, c 8 */
    uniap_cost_table t;
    int st[16], sg[16] = {0};
    for (int u = 0; u < 16; u++)
        st[u] = u / 4;
    CHECK_EQ(synth_uniform(&t, 4, 8, 16, 1.0, 0.0, 0.0, 0.0), 0);
    uniap_plan_eval e;
    CHECK_EQ(uniap_plan_evaluate(&t, v2, st, sg, &e), 0);
    for (int i = 0; i < 4; i++)
        CHECK_NEAR(e.stage_mem[i], 4 * want42[i], 1e-12, 0);
    uniap_plan_eval_free(&e);
    uniap_cost_table_free(&t);
}

/* The rules: c a multiple of deg; a layer per virtual stage. */
static void test_rules(void)
{
    uniap_schedule v2 = sched_of("interleaved2");
    CHECK(uniap_schedule_runs(v2, 4, 2) && uniap_schedule_runs(v2, 8, 4));
    CHECK(!uniap_schedule_runs(v2, 3, 2) && !uniap_schedule_runs(v2, 2, 4) &&
          !uniap_schedule_runs(v2, 4, 1));
    CHECK(uniap_schedule_runs(UNIAP_SCHED_1F1B, 3, 2) &&
          uniap_schedule_runs(UNIAP_SCHED_GPIPE, 2, 4));
    CHECK_EQ(uniap_schedule_virtual_stages(v2), 2);
    CHECK_EQ(uniap_schedule_virtual_stages(UNIAP_SCHED_1F1B), 1);
    /* of the runtimes Megatron-LM and torchtitan interleave (their search
     * on equal stages: tests/solver/test_runtime.c); all run 1F1B */
    const char *const rts[] = {"megatron", "deepspeed", "torchtitan", "galvatron"};
    uniap_runtime rt;
    for (size_t i = 0; i < sizeof rts / sizeof rts[0]; i++) {
        CHECK_EQ(uniap_runtime_parse(rts[i], &rt), 0);
        CHECK(uniap_runtime_schedule_ok(rt, v2) == (i == 0 || i == 2) &&
              uniap_runtime_schedule_ok(rt, UNIAP_SCHED_1F1B));
    }
    CHECK_EQ(uniap_runtime_parse("any", &rt), 0);
    CHECK(uniap_runtime_schedule_ok(rt, v2));

    uniap_cost_table t;
    int sg[4] = {0}, ok[4] = {0, 0, 1, 1}, thin[4] = {0, 1, 1, 1};
    uniap_plan_eval e;
    CHECK_EQ(synth_uniform(&t, 2, 3, 4, 1.0, 0.0, 0.0, 0.0), 0); /* c = 3 on 2 stages */
    CHECK_EQ(uniap_plan_evaluate(&t, v2, ok, sg, &e), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "interleaving needs a multiple of the stages");
    uniap_err_clear();
    uniap_solve_options o;
    uniap_pair_result r;
    uniap_solve_options_default(&o);
    o.schedule = v2;
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
    CHECK_EQ(r.status, UNIAP_SOLVE_INFEASIBLE);
    uniap_pair_result_free(&r);
    uniap_cost_table_free(&t);

    /* one layer on stage 0: refused with the stage named */
    CHECK_EQ(synth_uniform(&t, 2, 4, 4, 1.0, 0.0, 0.0, 0.0), 0);
    CHECK_EQ(uniap_plan_evaluate(&t, v2, thin, sg, &e), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "stage 0 holds 1 layer(s), expected at least 2");
    uniap_err_clear();
    CHECK_EQ(uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, thin, sg, &e), 0);
    uniap_plan_eval_free(&e);
    /* layer 0 is slow (3 s): 1F1B's best split is [0 | 1 2 3] (p = 3, 3),
     * interleaved2 must take [0 1 | 2 3] (p = 4, 2): 0.5 * 6 + 3.5 * 4 = 17,
     * against 1F1B's 6 + 3 * 3 = 15 */
    t.time[0] = 3.0;
    for (int f = 0; f < 2; f++) {
        o.formulation = f ? UNIAP_FORM_AGGREGATED : UNIAP_FORM_PER_LAYER;
        CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
        CHECK_EQ(r.status, UNIAP_SOLVE_OPTIMAL);
        CHECK_NEAR(r.tpi, 17.0, 1e-9, 0);
        CHECK(memcmp(r.stage_of, ok, sizeof ok) == 0);
        uniap_pair_result_free(&r);
    }
    o.schedule = UNIAP_SCHED_1F1B;
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
    CHECK_NEAR(r.tpi, 15.0, 1e-9, 0);
    CHECK(memcmp(r.stage_of, thin, sizeof thin) == 0);
    uniap_pair_result_free(&r);
    /* 3 layers on 2 stages cannot hold 2 each */
    uniap_cost_table_free(&t);
    CHECK_EQ(synth_uniform(&t, 2, 4, 3, 1.0, 0.0, 0.0, 0.0), 0);
    o.schedule = v2;
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
    CHECK_EQ(r.status, UNIAP_SOLVE_INFEASIBLE);
    uniap_pair_result_free(&r);
    uniap_cost_table_free(&t);
}

/* Brute force == both formulations for every interleaved schedule on
 * random tables of deg 2 (4..7 layers) and deg 4 (8 layers). */
static int test_brute(void)
{
    int optimal = 0;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        uint64_t rs = seed * 104729;
        int deg = seed % 3 == 0 ? 4 : 2, L = deg == 4 ? 8 : 4 + (int)(synth_rand(&rs) * 4);
        int runs[6], nr = 0;
        for (int left = L; left > 0 && nr < 6; nr++) {
            runs[nr] = nr == 5 ? left : 1 + (int)(synth_rand(&rs) * left);
            left -= runs[nr];
        }
        synth_spec sp = {.deg = deg,
                         .c = deg * (1 + (int)(synth_rand(&rs) * 2)),
                         .stage_devices = 4 / deg,
                         .micro_batch = 2,
                         .n_runs = nr,
                         .run_len = runs,
                         .max_strategies = deg == 4 ? 3 : (L > 5 ? 5 : 8),
                         .budget_factor = 0.1 + 0.8 * synth_rand(&rs),
                         .seed = seed};
        uniap_cost_table t;
        CHECK_EQ(synth_table(&sp, &t), 0);
        for (uniap_schedule s = 0; s < uniap_schedule_count(); s++) {
            if (uniap_schedule_virtual_stages(s) < 2 || L < deg * uniap_schedule_virtual_stages(s))
                continue;
            uniap_pair_result bf, r;
            uniap_solve_options o;
            uniap_solve_options_default(&o);
            o.schedule = s;
            CHECK_EQ(uniap_brute_force(&t, s, &bf), 0);
            for (int f = 0; f < 2; f++) {
                o.formulation = f ? UNIAP_FORM_AGGREGATED : UNIAP_FORM_PER_LAYER;
                CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
                CHECK_EQ(r.status, bf.status);
                if (bf.status == UNIAP_SOLVE_OPTIMAL && r.status == bf.status) {
                    CHECK_NEAR(r.tpi, bf.tpi, 1e-9, 1e-15);
                    optimal += f == 0;
                }
                if (r.status != bf.status ||
                    (bf.status == 0 && fabs(r.tpi - bf.tpi) > 1e-9 * bf.tpi))
                    fprintf(stderr,
                            "seed %d L %d deg %d %s: brute %d %.9g, formulation %d: %d %.9g\n",
                            (int)seed, L, deg, uniap_schedule_name(s), bf.status, bf.tpi, f,
                            r.status, r.tpi);
                uniap_pair_result_free(&r);
            }
            uniap_pair_result_free(&bf);
        }
        uniap_cost_table_free(&t);
    }
    return optimal;
}

int main(void)
{
    test_tpi();
    test_inflight();
    test_rules();
    int optimal = test_brute();
    fprintf(stderr, "interleaved: %d optimal cases agree with brute force\n", optimal);
    CHECK(optimal >= 20);
    return check_report();
}
