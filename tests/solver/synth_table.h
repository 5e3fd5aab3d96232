/*
 * synth_table.h - structured random cost tables for the solver's tests and
 * benchmarks: a chain of runs of identical layers (equal rows inside a
 * run), strategies of a real strategy space (dp x tp = n, layout, ZeRO
 * flavour, sequence parallelism, checkpointing) with costs of realistic
 * shape and magnitude (compute shrinking with tp, TP and FSDP traffic,
 * ZeRO memory, checkpointing trading time for activations, resharding
 * only between different layouts), and a memory budget that binds.
 */
#ifndef UNIAP_SYNTH_TABLE_H
#define UNIAP_SYNTH_TABLE_H

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uniap_costmodel.h"

typedef struct synth_spec {
    int deg, c, stage_devices, micro_batch;
    int n_runs;
    const int *run_len;   /* layers per run */
    int max_strategies;   /* keep a random subset of this size (0: all) */
    double budget_factor; /* 0: lightest plan's memory .. 1: heaviest; < 0 infeasible */
    uint64_t seed;
} synth_spec;

static inline double synth_rand(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* A random chain shape drawn from *rs: l_min + [0, l_span) layers split
 * into runs (runs[], *n_runs, at most 6), and a pipeline degree of 1, 2 or
 * 4 that is at most the layer count. Returns the layer count. The draws
 * come in a fixed order, so a seed always gives the same instance. */
static inline int synth_shape(uint64_t *rs, int l_min, int l_span, int *deg, int runs[6],
                              int *n_runs)
{
    static const int degs[3] = {1, 2, 4};
    int L = l_min + (int)(synth_rand(rs) * l_span);
    *deg = degs[(int)(synth_rand(rs) * 3)];
    while (*deg > L)
        *deg /= 2;
    *n_runs = 0;
    for (int left = L; left > 0; (*n_runs)++) {
        runs[*n_runs] = 1 + (int)(synth_rand(rs) * left);
        left -= runs[*n_runs];
    }
    return L;
}

/* Strategies of n devices; returns the count written to out (cap 128). */
static inline int synth_strategies(int n, uniap_strategy *out)
{
    int K = 0;
    for (int tp = 1; tp <= n; tp *= 2) {
        if (n % tp)
            continue;
        int dp = n / tp;
        for (int consec = 1; consec >= (tp > 1 && dp > 1 ? 0 : 1); consec--)
            for (int fl = 0; fl < (dp > 1 ? 4 : 1); fl++)
                for (int sp = 0; sp <= (tp > 1); sp++)
                    for (int ck = 0; ck < 2 && K < 128; ck++) {
                        uniap_strategy *s = &out[K++];
                        memset(s, 0, sizeof(*s));
                        s->dp = dp, s->tp = tp, s->tp_consecutive = consec;
                        s->flavour = (uniap_dp_flavour)fl, s->sp = sp, s->ckpt = ck;
                        snprintf(s->name, sizeof s->name, "dp%d.tp%d%s.f%d%s%s", dp, tp,
                                 tp > 1 ? (consec ? "c" : "s") : "", fl, sp ? ".sp" : "",
                                 ck ? ".ckpt" : "");
                    }
    }
    return K;
}

/* Layout class of a strategy: resharding is zero inside one. */
static inline int synth_layout(const uniap_strategy *s)
{
    return s->tp * 4 + s->tp_consecutive * 2 + s->sp;
}

static inline int synth_table(const synth_spec *sp, uniap_cost_table *t)
{
    uniap_strategy all[128];
    uint64_t rs = sp->seed * 2654435761ULL + 12345;
    int K = synth_strategies(sp->stage_devices, all), L = 0, rc;
    for (int r = 0; r < sp->n_runs; r++)
        L += sp->run_len[r];
    if (sp->max_strategies > 0 && sp->max_strategies < K) {
        for (int a = K - 1; a > 0; a--) { /* shuffle, keep a prefix */
            int b = (int)(synth_rand(&rs) * (a + 1));
            uniap_strategy tmp = all[a];
            all[a] = all[b];
            all[b] = tmp;
        }
        K = sp->max_strategies;
    }
    if ((rc = uniap_cost_table_alloc(t, sp->deg, K, L)) < 0)
        return rc;
    t->micro_batches = sp->c;
    t->micro_batch = sp->micro_batch;
    t->stage_devices = sp->stage_devices;
    memcpy(t->strategies, all, sizeof(uniap_strategy) * K);
    double mb = sp->micro_batch, bw = 1e11;
    double *act_r = malloc(sizeof(double) * sp->n_runs);
    int u = 0;
    for (int r = 0; r < sp->n_runs; r++) {
        /* per-run scale: compute per sample, params, activations */
        double flops = 0.002 + 0.02 * synth_rand(&rs), params = 2e8 * (0.2 + synth_rand(&rs));
        double act = 3e7 * (0.3 + synth_rand(&rs));
        act_r[r] = act;
        for (int k = 0; k < K; k++) {
            const uniap_strategy *s = &all[k];
            double jit = 0.95 + 0.1 * synth_rand(&rs);
            double tpc = s->tp > 1
                             ? 4 * mb * act / bw * (s->tp_consecutive ? 1 : 2.5) * (s->sp ? 0.9 : 1)
                             : 0;
            double fsdp = s->flavour == UNIAP_DP_FSDP ? 2 * params / s->tp / bw : 0;
            double time = (mb * flops / s->tp * (1 + 0.08 * log2(s->tp)) * (s->ckpt ? 1.33 : 1) +
                           tpc + fsdp) *
                          jit;
            double shard = s->flavour == UNIAP_DP_DDP     ? 16
                           : s->flavour == UNIAP_DP_ZERO1 ? 4 + 12.0 / s->dp
                           : s->flavour == UNIAP_DP_ZERO2 ? 2 + 14.0 / s->dp
                                                          : 16.0 / s->dp;
            double a = s->ckpt ? mb * act * 0.06 : mb * act / (s->sp ? s->tp : 1) / sqrt(s->tp);
            int ok = synth_rand(&rs) > 0.08 || k == 0;
            for (int v = u; v < u + sp->run_len[r]; v++) {
                t->run_of[v] = r;
                size_t vk = (size_t)v * K + k;
                t->time[vk] = time;
                /* W: a share of time that varies by strategy, drawn from no
                 * random number (the other figures stay as they were) */
                t->wgrad[vk] = time * (0.1 + 0.15 * (k % 3)) * (s->ckpt ? 0.75 : 1);
                t->tail[vk] = params / s->tp * 2.0 * (s->dp - 1) / s->dp / bw * 0.5 +
                              params / s->tp / (s->flavour ? s->dp : 1) * 1e-11;
                t->mem_states[vk] = params / s->tp * shard / 8;
                t->mem_act[vk] = a;
                t->mem_peak[vk] = mb * act * 0.3 / s->tp;
                t->allowed[vk] = (unsigned char)ok;
            }
        }
        u += sp->run_len[r];
    }
    /* resharding and cross-stage transfers from the left layer's run */
    for (int v = 0; v + 1 < L; v++) {
        double act = mb * act_r[t->run_of[v]];
        for (int k = 0; k < K; k++)
            for (int l = 0; l < K; l++) {
                const uniap_strategy *a = &all[k], *b = &all[l];
                size_t q = ((size_t)v * K + k) * K + l;
                int same = synth_layout(a) == synth_layout(b);
                t->reshard[q] = same ? 0 : act / bw * (1.0 + 0.3 * abs(a->tp - b->tp));
                double shard = act / (a->tp < b->tp ? a->tp : b->tp);
                t->xstage[0][q] = 2e-5 + shard / (2 * bw) * (same ? 1 : 1.5);
                t->xstage[1][q] = 5e-5 + shard / (0.25 * bw) * (same ? 1 : 1.5);
            }
    }
    for (int j = 0; j + 1 < sp->deg; j++)
        t->boundary_spans_nodes[j] = (unsigned char)(synth_rand(&rs) < 0.5);
    free(act_r);
    /* budget between the lightest and the heaviest even split */
    double light = 0, heavy = 0;
    for (int v = 0; v < L; v++) {
        double lo = HUGE_VAL, hi = 0;
        for (int k = 0; k < K; k++) {
            size_t vk = (size_t)v * K + k;
            if (!t->allowed[vk])
                continue;
            double m = t->mem_states[vk] + sp->c * t->mem_act[vk];
            lo = fmin(lo, m);
            hi = fmax(hi, m);
        }
        light += lo;
        heavy += hi;
    }
    light /= sp->deg;
    heavy /= sp->deg;
    t->mem_budget[0] =
        sp->budget_factor >= 0 ? light + sp->budget_factor * (heavy - light) : light * 0.5;
    return 0;
}

/* A table of n_classes device classes from the one-class table one: class
 * 0 is one's block, each further class the same layers on other devices.
 * identical: every block and budget equal to one's (the same problem, told
 * as classes). Else class q > 0 scales each strategy's time and tail by a
 * factor in [0.5, 2) and its peak memory by one in [0.8, 1.25) (the same
 * for every layer, so runs stay runs), reshard by one factor, disallows a
 * strategy with probability 0.1 (never strategy 0), and has a budget of
 * [0.6, 1.4) times one's. Stages get random classes. */
static inline int synth_classes(const uniap_cost_table *one, int n_classes, int identical,
                                uint64_t seed, uniap_cost_table *t)
{
    uint64_t rs = seed * 40503ULL + 977;
    int K = one->n_strategies, L = one->n_layers, rc;
    size_t n = (size_t)L * K, pairs = (size_t)(L - 1) * K * K;
    if ((rc = uniap_cost_table_alloc_classes(t, one->deg, K, L, n_classes)) < 0)
        return rc;
    t->micro_batches = one->micro_batches;
    t->micro_batch = one->micro_batch;
    t->stage_devices = one->stage_devices;
    memcpy(t->strategies, one->strategies, sizeof(uniap_strategy) * K);
    memcpy(t->run_of, one->run_of, sizeof(int) * L);
    memcpy(t->xstage[0], one->xstage[0], sizeof(double) * pairs);
    memcpy(t->xstage[1], one->xstage[1], sizeof(double) * pairs);
    memcpy(t->boundary_spans_nodes, one->boundary_spans_nodes, (size_t)one->deg);
    for (int q = 0; q < n_classes; q++) {
        double rsh = q && !identical ? 0.5 + 1.5 * synth_rand(&rs) : 1;
        t->mem_budget[q] = one->mem_budget[0] * (q && !identical ? 0.6 + 0.8 * synth_rand(&rs) : 1);
        for (size_t a = 0; a < pairs; a++)
            t->reshard[q * pairs + a] = rsh * one->reshard[a];
        for (int k = 0; k < K; k++) {
            int diff = q && !identical;
            double ft = diff ? 0.5 + 1.5 * synth_rand(&rs) : 1;
            double fp = diff ? 0.8 + 0.45 * synth_rand(&rs) : 1;
            int off = diff && k > 0 && synth_rand(&rs) < 0.1;
            for (int u = 0; u < L; u++) {
                size_t a = (size_t)u * K + k, b = q * n + a;
                t->time[b] = ft * one->time[a];
                t->wgrad[b] = ft * one->wgrad[a];
                t->tail[b] = ft * one->tail[a];
                t->mem_states[b] = one->mem_states[a];
                t->mem_act[b] = one->mem_act[a];
                t->mem_peak[b] = fp * one->mem_peak[a];
                t->allowed[b] = off ? 0 : one->allowed[a];
            }
        }
    }
    for (int i = 0; i < one->deg; i++)
        t->stage_class[i] = (int)(synth_rand(&rs) * n_classes);
    return 0;
}

/* A hand-worked table: one strategy "dp1", L layers of time t_layer of
 * which wgrad w_layer, 1 byte of activations each, transfer o after every
 * layer, tail tl per layer, deg stages, c micro-batches, an ample budget. */
static inline int synth_uniform(uniap_cost_table *t, int deg, int c, int L, double t_layer,
                                double w_layer, double o, double tl)
{
    int rc = uniap_cost_table_alloc(t, deg, 1, L);
    if (rc < 0)
        return rc;
    t->micro_batches = c;
    t->micro_batch = 1;
    t->stage_devices = 1;
    snprintf(t->strategies[0].name, sizeof t->strategies[0].name, "dp1");
    t->strategies[0].dp = t->strategies[0].tp = 1;
    for (int u = 0; u < L; u++) {
        t->time[u] = t_layer;
        t->wgrad[u] = w_layer;
        t->tail[u] = tl;
        t->mem_act[u] = 1.0;
        if (u + 1 < L)
            t->xstage[0][u] = t->xstage[1][u] = o;
    }
    t->mem_budget[0] = 1e18;
    return 0;
}

/* The evaluator's TPI of stage_of (every layer on strategy 0) under s;
 * NaN when it refuses the plan. */
static inline double synth_tpi(const uniap_cost_table *t, uniap_schedule s, const int *stage_of)
{
    int sg[64] = {0};
    uniap_plan_eval e;
    if (t->n_layers > 64 || uniap_plan_evaluate(t, s, stage_of, sg, &e) < 0)
        return NAN;
    double tpi = e.tpi;
    uniap_plan_eval_free(&e);
    return tpi;
}

#endif
