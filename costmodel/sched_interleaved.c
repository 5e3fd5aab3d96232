/*
 * sched_interleaved.c - interleaved 1F1B with v virtual stages (model
 * chunks) per device (Narayanan et al. 2021, "Efficient Large-Scale
 * Language Model Training on GPU Clusters Using Megatron-LM", SC'21,
 * section 2.2.2), for v = 2, 3 and 4: "interleaved2", "interleaved3",
 * "interleaved4". Stage i of a plan is device i's share of the layers; the
 * runtime splits it into v equal chunks, chunk r of device i being virtual
 * stage r deg + i.
 *
 * TPI (the terms of uniap_costmodel.h). Each device does its per-micro-
 * batch work p_i as v chunks of p_i / v; the bubble is (deg - 1) chunk
 * times, (deg - 1) p / v, 1/v of 1F1B's (section 2.2.2). With equal
 * stages, TPI = c p + (deg - 1) p / v = (1/v) deg p + (c - 1/v) p, so
 *   fill 1/v on sum p_i, steady c - 1/v, tail 1 (once per iteration).
 * Transfers: every micro-batch crosses each device boundary j (device j to
 * j + 1) v times, once per chunk round, and the wrap (device deg - 1 to
 * device 0) v - 1 times, between rounds. A boundary is a pipeline element
 * of its own (as in 1F1B, where o_j is in the fill once and in the max),
 * whose work per micro-batch is v o_j in v pieces of o_j; the wrap carries
 * the same activation tensor, taken at the mean of the boundaries,
 * o_w = sum_j o_j / (deg - 1) (the table has no entry for it). The fill
 * term is 1/v of every element's per-micro-batch work:
 *   (1/v) (v sum_j o_j + (v - 1) o_w) = (1 + (v - 1) / (v (deg - 1))) sum_j o_j
 * so comm = 1 + (v - 1) / (v (deg - 1)) (1 when deg = 1: no boundary), and
 * in the steady state boundary j is busy v o_j per micro-batch: comm_max
 * = v (the wrap, (v - 1) o_w <= v max_j o_j, never exceeds the max). At
 * v = 1 these are 1F1B's terms.
 *
 * In-flight activations as Megatron-LM's schedule holds them
 * (megatron/core/pipeline_parallel/schedules.py at d98e8a6,
 * get_pp_rank_microbatches for forward_backward_pipelining_with_
 * interleaving, microbatch_group_size_per_vp_stage at its default deg):
 * rank i runs
 *   warm-up = (deg - i - 1) * 2 + (v - 1) * deg
 * chunk forwards, capped at the c v chunk forwards of the iteration, then
 * one forward before each backward (max_outstanding_backprops = warm-up +
 * 1), so it holds min(warm-up + 1, c v) chunks; a chunk holds 1/v of the
 * stage's activations per micro-batch: inflight = min(warm-up + 1, c v) / v.
 *
 * Validity: Megatron-LM interleaves only when c is a multiple of deg
 * (schedules.py: the remainder of c by the group size deg must be 0 or at
 * least deg) (check; and on 2 stages or more: on one, interleaving is 1F1B's TPI
 * and memory, a tie that only confuses), and each chunk needs a layer: a stage holds >= v layers
 * (virtual_stages; the evaluator refuses other plans, the MILP has the row).
 * No timeline: the operation order (uniap_schedule_timeline) has no chunk
 * in its operations, so .order is NULL (pictures draw no timeline).
 */
#include <stdio.h>

#include "uniap_costmodel.h"

static uniap_schedule_terms terms_v(int c, int deg, int v)
{
    uniap_schedule_terms w = {
        .fill = 1.0 / v,
        .steady = c - 1.0 / v,
        .tail = 1.0,
        .comm = deg > 1 ? 1.0 + (double)(v - 1) / ((double)v * (deg - 1)) : 1.0,
        .comm_max = v,
    };
    return w;
}

static double inflight_v(int c, int deg, int i, int v)
{
    long total = (long)c * v;
    long warm = (long)(deg - i - 1) * 2 + (long)(v - 1) * deg;
    if (warm > total)
        warm = total;
    long held = warm + 1 < total ? warm + 1 : total;
    return (double)held / v;
}

static int check(int c, int deg, char *why, size_t n)
{
    if (deg >= 2 && c >= 1 && c % deg == 0)
        return 1;
    if (why && deg < 2)
        snprintf(why, n, "%d stage(s): interleaving needs a pipeline of 2 stages or more", deg);
    else if (why)
        snprintf(why, n,
                 "%d micro-batches on %d stages: interleaving needs a multiple of the stages "
                 "(Megatron-LM)",
                 c, deg);
    return 0;
}

#define INTERLEAVED(v)                                                                             \
    static uniap_schedule_terms terms##v(int c, int deg)                                           \
    {                                                                                              \
        return terms_v(c, deg, v);                                                                 \
    }                                                                                              \
    static double inflight##v(int c, int deg, int i)                                               \
    {                                                                                              \
        return inflight_v(c, deg, i, v);                                                           \
    }                                                                                              \
    const uniap_schedule_desc uniap__sched_interleaved##v = {                                      \
        .name = "interleaved" #v,                                                                  \
        .help = "interleaved 1F1B, " #v " virtual stages per device (Megatron-LM): bubble 1/" #v   \
                " of 1F1B's, c a multiple of deg",                                                 \
        .terms = terms##v,                                                                         \
        .inflight = inflight##v,                                                                   \
        .galvatron = NULL,                                                                         \
        .megatron_gap = NULL,                                                                      \
        .order = NULL,                                                                             \
        .virtual_stages = v,                                                                       \
        .check = check,                                                                            \
    };

INTERLEAVED(2)
INTERLEAVED(3)
INTERLEAVED(4)
