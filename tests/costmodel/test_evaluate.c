/*
 * test_evaluate.c - uniap_plan_evaluate on a tiny hand-built table: TPI,
 * throughput and per-stage memory for GPipe and 1F1B worked by hand, and
 * rejected layouts.
 */
#include <string.h>

#include "check.h"
#include "uniap_costmodel.h"

/* Two device classes: class 0 the table of main (copied in), class 1 a
 * device twice as slow with half the memory, its resharding three times
 * as dear; stage 0 on class 1, stage 1 on class 0. */
static void two_classes(const uniap_cost_table *one)
{
    uniap_cost_table t;
    uniap_plan_eval e;
    size_t n = 3 * 2, kk = 2 * 2 * 2; /* L*K, (L-1)*K*K */

    CHECK(uniap_cost_table_alloc_classes(&t, 2, 2, 3, 2) == 0);
    t.micro_batches = one->micro_batches;
    t.micro_batch = one->micro_batch;
    memcpy(t.strategies, one->strategies, 2 * sizeof(*t.strategies));
    for (size_t a = 0; a < n; a++) {
        t.time[a] = one->time[a], t.time[n + a] = 2 * one->time[a];
        t.tail[a] = one->tail[a], t.tail[n + a] = 2 * one->tail[a];
        t.mem_states[a] = t.mem_states[n + a] = one->mem_states[a];
        t.mem_act[a] = t.mem_act[n + a] = one->mem_act[a];
        t.mem_peak[a] = t.mem_peak[n + a] = one->mem_peak[a];
    }
    for (size_t a = 0; a < kk; a++) {
        t.reshard[a] = one->reshard[a], t.reshard[kk + a] = 3 * one->reshard[a];
        t.xstage[0][a] = one->xstage[0][a], t.xstage[1][a] = one->xstage[1][a];
    }
    t.boundary_spans_nodes[0] = 1;
    t.mem_budget[0] = 70, t.mem_budget[1] = 35;
    t.stage_class[0] = 1, t.stage_class[1] = 0;
    CHECK_EQ(uniap_ct_ix(&t, 1, 2, 1), (size_t)11);
    CHECK_EQ(uniap_ct_pair(&t, 1, 0, 0, 1), (size_t)9);

    int stage_of[] = {0, 0, 1}, strat[] = {0, 1, 0};
    /* p0 on class 1 = 2 x (1 + 1) + 3 x 0.5 = 5.5; p1 on class 0 = 3;
     * o0 = 0.7 (the link, not a class); tails: stage 0 2 x 0.2 = 0.4,
     * stage 1 0.5. 1F1B: TPI = 5.5 + 3 + 0.7 + 3 x 5.5 + 0.5 = 26.2.
     * Memory as in main (58 and 40), against budgets 35 (stage 0, class 1)
     * and 70: stage 0 over by 23. */
    CHECK(uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, stage_of, strat, &e) == 0);
    CHECK_NEAR(e.stage_compute[0], 5.5, 1e-15, 0);
    CHECK_NEAR(e.stage_compute[1], 3, 1e-15, 0);
    CHECK_NEAR(e.stage_tail[0], 0.4, 1e-15, 0);
    CHECK_NEAR(e.tpi, 26.2, 1e-14, 0);
    CHECK_NEAR(e.stage_mem[0], 58, 0, 0);
    CHECK_EQ(e.feasible, 0);
    CHECK_EQ(e.worst_stage, 0);
    CHECK_NEAR(e.worst_excess, 23, 0, 0);
    uniap_plan_eval_free(&e);

    /* the stages swapped onto the classes: class 0 first, class 1 second:
     * p0 = 2.5, p1 = 6, TPI = 2.5 + 6 + 0.7 + 3 x 6 + max(0.2, 1.0) =
     * 28.2; stage 1 needs 40 > 35: over by 5 */
    t.stage_class[0] = 0, t.stage_class[1] = 1;
    CHECK(uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, stage_of, strat, &e) == 0);
    CHECK_NEAR(e.tpi, 28.2, 1e-14, 0);
    CHECK_EQ(e.worst_stage, 1);
    CHECK_NEAR(e.worst_excess, 5, 0, 0);
    uniap_plan_eval_free(&e);

    /* a strategy not allowed on class 1 only: refused on stage 1 */
    t.allowed[uniap_ct_ix(&t, 1, 2, 0)] = 0;
    CHECK_EQ(uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, stage_of, strat, &e), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "layer 2: strategy s0 is not valid for it on its stage's");
    uniap_err_clear();
    t.stage_class[1] = 0; /* on class 0 it is allowed */
    CHECK(uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, stage_of, strat, &e) == 0);
    uniap_plan_eval_free(&e);
    t.stage_class[1] = 2; /* no such class */
    CHECK_EQ(uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, stage_of, strat, &e), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "stage 1 has device class 2, expected 0..1");
    uniap_err_clear();
    uniap_cost_table_free(&t);
}

int main(void)
{
    uniap_cost_table t;
    uniap_plan_eval e;
    /* 3 layers, 2 strategies, 2 stages, 4 micro-batches of 2 samples */
    const double time[] = {1, 2, 2, 1, 3, 3};
    const double tail[] = {0.1, 0.2, 0.1, 0.1, 0.5, 0.4};
    const double states[] = {10, 20, 10, 20, 30, 40};
    const double act[] = {5, 6, 5, 7, 8, 9};
    const double peak[] = {1, 2, 3, 4, 2, 2};
    const double reshard0[] = {0, 0.5, 0.25, 0}; /* after layer 0: [k][l] */

    CHECK(uniap_cost_table_alloc(&t, 2, 2, 3) == 0);
    t.micro_batches = 4;
    t.micro_batch = 2;
    memcpy(t.time, time, sizeof(time));
    memcpy(t.tail, tail, sizeof(tail));
    memcpy(t.mem_states, states, sizeof(states));
    memcpy(t.mem_act, act, sizeof(act));
    memcpy(t.mem_peak, peak, sizeof(peak));
    memcpy(t.reshard, reshard0, sizeof(reshard0));
    for (int i = 0; i < 4; i++) {
        t.xstage[0][4 + i] = 0.3; /* after layer 1 */
        t.xstage[1][4 + i] = 0.7;
    }
    t.boundary_spans_nodes[0] = 1;
    t.mem_budget[0] = 70;
    snprintf(t.strategies[0].name, sizeof(t.strategies[0].name), "s0");
    snprintf(t.strategies[1].name, sizeof(t.strategies[1].name), "s1");

    int stage_of[] = {0, 0, 1}, strat[] = {0, 1, 0};
    /* p0 = time[0][0] + time[1][1] + reshard[0][0->1] = 1 + 1 + 0.5 = 2.5
     * p1 = time[2][0] = 3; o0 = xstage[between nodes][1][1->0] = 0.7
     * tails: stage 0 0.1 + 0.1 = 0.2, stage 1 0.5: max 0.5
     * TPI = 2.5 + 3 + 0.7 + (4 - 1) x max(2.5, 3, 0.7) + 0.5 = 15.7 */
    CHECK(uniap_plan_evaluate(&t, UNIAP_SCHED_GPIPE, stage_of, strat, &e) == 0);
    CHECK_NEAR(e.tpi, 15.7, 1e-14, 0);
    CHECK_NEAR(e.throughput, 8 / 15.7, 1e-14, 0);
    CHECK_NEAR(e.stage_compute[0], 2.5, 1e-15, 0);
    CHECK_NEAR(e.stage_comm[0], 0.7, 1e-15, 0);
    CHECK_NEAR(e.stage_tail[0], 0.2, 1e-15, 0);
    /* GPipe: all 4 micro-batches in flight.
     * stage 0: states 10 + 20, acts (5 + 7) x 4, peak max(1, 4) = 82
     * stage 1: 30 + 8 x 4 + 2 = 64; budget 70: stage 0 over by 12 */
    CHECK_NEAR(e.stage_mem[0], 82, 0, 0);
    CHECK_NEAR(e.stage_mem[1], 64, 0, 0);
    CHECK_EQ(e.feasible, 0);
    CHECK_EQ(e.worst_stage, 0);
    CHECK_NEAR(e.worst_excess, 12, 0, 0);
    uniap_plan_eval_free(&e);

    /* 1F1B: same TPI; stage i holds min(c, deg - i): 2 and 1.
     * stage 0: 30 + 12 x 2 + 4 = 58; stage 1: 30 + 8 + 2 = 40: fits */
    CHECK(uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, stage_of, strat, &e) == 0);
    CHECK_NEAR(e.tpi, 15.7, 1e-14, 0);
    CHECK_NEAR(e.stage_mem[0], 58, 0, 0);
    CHECK_NEAR(e.stage_mem[1], 40, 0, 0);
    CHECK_EQ(e.feasible, 1);
    uniap_plan_eval_free(&e);

    /* the boundary inside a node uses xstage[0]: 15.7 - 0.7 + 0.3 */
    t.boundary_spans_nodes[0] = 0;
    CHECK(uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, stage_of, strat, &e) == 0);
    CHECK_NEAR(e.tpi, 15.3, 1e-14, 0);
    uniap_plan_eval_free(&e);

    two_classes(&t);

    /* rejected: non-contiguous stages; a disallowed strategy */
    int bad_stage[] = {0, 1, 0};
    CHECK_EQ(uniap_plan_evaluate(&t, UNIAP_SCHED_GPIPE, bad_stage, strat, &e), UNIAP_EINVAL);
    uniap_err_clear();
    t.allowed[1 * 2 + 1] = 0;
    CHECK_EQ(uniap_plan_evaluate(&t, UNIAP_SCHED_GPIPE, stage_of, strat, &e), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "layer 1: strategy s1");
    uniap_err_clear();
    uniap_cost_table_free(&t);
    return check_report();
}
