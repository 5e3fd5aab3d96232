/*
 * sched_1f1b.c - 1F1B (PipeDream-Flush, Narayanan et al. 2021): after a
 * warm-up, each stage alternates one forward and one backward. Its TPI is
 * GPipe's (the same bubble, method.md section 2.2); stage i of deg holds
 * the activations of at most deg - i micro-batches (min(c, deg - i)).
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
    int k = deg - i;
    return c < k ? c : k;
}

/* deg - i - 1 warm-up forwards (at most c), then one forward and one
 * backward alternately, then the remaining backwards (Narayanan et al.
 * 2021, section 2.2) */
static void order(int c, int deg, int i, int *ops)
{
    int warm = deg - i - 1 < c ? deg - i - 1 : c, f = 0, b = 0, n = 0;
    while (f < warm)
        ops[n++] = ++f;
    while (f < c) {
        ops[n++] = ++f;
        ops[n++] = -(++b);
    }
    while (b < c)
        ops[n++] = -(++b);
}

const uniap_schedule_desc uniap__sched_1f1b = {
    .name = "1f1b",
    .help = "1F1B (PipeDream-Flush): one forward, one backward; stage i holds min(c, deg - i)",
    .terms = terms,
    .inflight = inflight,
    .galvatron = "pipedream_flush",
    .megatron_gap = NULL,
    .order = order,
};
