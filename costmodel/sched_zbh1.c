/*
 * sched_zbh1.c - ZB-H1, the zero-bubble schedule of Qi et al. 2024 ("Zero
 * Bubble Pipeline Parallelism", ICLR 2024, section 3.1) that keeps 1F1B's
 * peak memory (stage 0's p micro-batches). The backward of a layer is split into B, the input
 * gradient (on the critical path: the stage before waits for it), and W, the weight gradient
 * (nothing waits for it). ZB-H1 runs 1F1B's forwards and B's and defers each stage's W's into the
 * bubbles of its drain.
 *
 * TPI. With T_F, T_B, T_W per stage and p stages, 1F1B's bubble is
 * (p - 1)(T_F + T_B + T_W) and ZB-H1's (p - 1)(T_F + T_B - T_W) (section
 * 3.1, figure 3 and its table), for m >= p micro-batches. Per stage i the
 * table gives p_i = F_i + B_i + W_i (its time) and w_i = W_i (its wgrad),
 * so a stage's share of the bubble, F_i + B_i - W_i, is p_i - 2 w_i.
 * Heterogeneous stages, as the 1F1B closed form (method.md section 2.2:
 * sum p_i + (c - 1) max p_i = c p_s + sum_{i != s} p_i, s the slowest
 * stage, every other stage's per-micro-batch time once in the fill and
 * drain) with each other stage's share replaced by F_i + B_i - W_i:
 *   TPI = c p_s + sum_{i != s} (p_i - 2 w_i)
 *       = sum_i (p_i - 2 w_i) + (c - 1) p_s + 2 w_s.
 * w_s, the slowest stage's W, is bounded by max_i w_i (a linear term the
 * MILP minimizes with an epigraph, as it does max p_i):
 *   TPI = sum p_i - 2 sum w_i + (c - 1) max p_i + 2 max w_i,
 * exact where the slowest stage has the largest W (equal stages among
 * them: c p + (p - 1)(p - 2w) = c (F + B + W) + (p - 1)(F + B - W), the
 * paper's), else an upper bound by 2 (max w - w_s). Terms: 1F1B's plus
 * wfill = -2, wmax = 2. Transfers as 1F1B (comm 1, comm_max 1); the tail
 * (gradient sync, optimizer) once, as 1F1B.
 *
 * Validity: the bubble is the paper's for m >= p (with fewer micro-batches
 * the W's have no drain bubble to fill: on 2 stages with c = 1 it runs
 * 2 (F + B) + W, not 2 (F + B)), so c >= deg is required (check); on one
 * stage there is no bubble and ZB-H1 is 1F1B (a tie that only confuses,
 * as for interleaving): deg >= 2.
 *
 * Memory. The paper's claim (section 3.1, "the same peak memory as
 * 1F1B", p M_B) is the peak over workers, stage 0's. A later stage holds
 * more than its 1F1B share: stage i runs 1F1B's forwards ahead (at most
 * deg - i micro-batches between F and B) and defers W's into its drain
 * (on 2 stages, c = 2, F = B = W: stage 1 must run F1 B1 F2 B2 W1 W2 for
 * the TPI of 7, holding micro-batch 1 for its W while 2 is in flight),
 * and a pending W keeps the Linear layers' inputs and output gradients,
 * nearly all of a block's kept activations (Korthikanti et al. 2022: ~32
 * of 34 s b h). The table has no separate M_W, so a pending W is counted
 * a whole micro-batch and every stage holds at most the paper's p M_B:
 * inflight = min(c, deg) (an upper bound; equal to 1F1B's on stage 0).
 *
 * Order (the timeline): 1F1B's forwards and B's (deg - i - 1 warm-up
 * forwards, then one F and one B), stage i keeping at most i W's
 * deferred (after each B, W's until i are pending; the rest at the end).
 * Simulated (uniap_schedule_timeline_w) it ends at the closed form above
 * on equal stages (tests/costmodel/test_timeline.c), and the F-to-W
 * micro-batches a stage holds peak at deg (memory above). On 300 random
 * heterogeneous pipelines (2..6 stages, c = 1..3 deg) the closed form was
 * -0.3 % to +15.6 % off that simulation (1F1B's closed form against its
 * own: +2 % to +27.5 %).
 * Runtimes: Megatron-LM, DeepSpeed, Galvatron and torchtitan's exports
 * run the backward whole (megatron_gap, galvatron NULL, split_backward).
 */
#include <stdio.h>

#include "uniap_costmodel.h"

static uniap_schedule_terms terms(int c, int deg)
{
    (void)deg;
    uniap_schedule_terms w = {
        .fill = 1.0,
        .steady = c - 1,
        .tail = 1.0,
        .comm = 1.0,
        .comm_max = 1.0,
        .wfill = -2.0,
        .wmax = 2.0,
    };
    return w;
}

/* min(c, deg) on every stage (above): 1F1B's deg - i ahead plus the i
 * deferred W's of stage i */
static double inflight(int c, int deg, int i)
{
    (void)i;
    return c < deg ? c : deg;
}

/* warm-up forwards, then F, B and W's past i deferred; W of m is c + m + 1 */
static void order(int c, int deg, int i, int *ops)
{
    int warm = deg - i - 1 < c ? deg - i - 1 : c, f = 0, b = 0, w = 0, n = 0;
    while (f < warm)
        ops[n++] = ++f;
    while (b < c) {
        if (f < c)
            ops[n++] = ++f;
        ops[n++] = -(++b);
        while (b - w > i)
            ops[n++] = c + ++w;
    }
    while (w < c)
        ops[n++] = c + ++w;
}

static int check(int c, int deg, char *why, size_t n)
{
    int ok = deg >= 2 && c >= deg;
    if (!ok && why)
        snprintf(why, n, "%d micro-batches on %d stage(s): zb-h1 needs %s", c, deg,
                 deg < 2 ? "a pipeline of 2 stages or more"
                         : "at least as many micro-batches as stages (Qi et al. 2024, section "
                           "3.1: the W's fill the drain of m >= p micro-batches)");
    return ok;
}

#define WHOLE_BACKWARD                                                                             \
    "ZB-H1 splits the backward into input and weight gradients, which this runtime runs as one"

const uniap_schedule_desc uniap__sched_zbh1 = {
    .name = "zb-h1",
    .help = "ZB-H1 (zero bubble, Qi et al. 2024): 1F1B with W deferred; bubble (deg - 1)(F + B "
            "- W), every stage holds deg micro-batches, c >= deg",
    .terms = terms,
    .inflight = inflight,
    .galvatron = NULL,
    .megatron_gap = WHOLE_BACKWARD " (Megatron-LM runs 1F1B)",
    .order = order,
    .check = check,
    .split_backward = WHOLE_BACKWARD,
};
