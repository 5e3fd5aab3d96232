/*
 * sched_gpipe.c - GPipe (Huang et al. 2019): every micro-batch's forward,
 * then every backward. One micro-batch fills and drains the pipeline, the
 * slowest stage repeats for the other c - 1 (method.md section 2.2), and
 * every stage holds the activations of all c micro-batches.
 */
#include "uniap_costmodel.h"

static uniap_schedule_terms terms(int c, int deg)
{
    (void)deg;
    uniap_schedule_terms w = {
        .fill = 1.0, .steady = c - 1, .tail = 1.0, .comm = 1.0, .comm_max = 1.0};
    return w;
}

static double inflight(int c, int deg, int i)
{
    (void)deg, (void)i;
    return c;
}

/* every forward, then every backward */
static void order(int c, int deg, int i, int *ops)
{
    (void)deg, (void)i;
    for (int m = 0; m < c; m++) {
        ops[m] = m + 1;
        ops[c + m] = -(m + 1);
    }
}

const uniap_schedule_desc uniap__sched_gpipe = {
    .name = "gpipe",
    .help = "GPipe: all forwards, then all backwards; every stage holds c micro-batches",
    .terms = terms,
    .inflight = inflight,
    .galvatron = "gpipe",
    .megatron_gap = "GPipe schedule (Megatron runs 1F1B)",
    .order = order,
};
