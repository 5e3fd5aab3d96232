/*
 * test_analytic.c - the analytic device model against published formulas:
 * Korthikanti et al. 2022 activation bytes of a GPT block (16-bit):
 *   s b h (34 + 5 a s / h) without parallelism,
 *   s b h (10 + 24 / t + 5 a s / (h t)) with tensor parallelism t,
 *   s b h (34 + 5 a s / h) / t with sequence parallelism (through the
 *   cost table);
 * Rajbhandari et al. 2020 (ZeRO) model-state bytes: mixed-precision Adam
 * 2 + 2 + 12 per parameter: DDP 16 P, ZeRO-1 4 P + 12 P / dp, ZeRO-2
 * 2 P + 14 P / dp, ZeRO-3 16 P / dp (all / tp); fp32 Adam 4 + 4 + 8;
 * the GEMM FLOPs of a GPT block (24 s h^2 + 4 s^2 h per sample forward),
 * and its weight-gradient time W (zero bubble) from the Linear 24 s h^2,
 * or measured (format 1.3), interpolated between micro-batches by hand;
 * alpha-beta collectives with the nccl-tests bus-bandwidth factors.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"

static uniap_layer runs[3];
static uniap_model model;
static uniap_cluster cluster;

static void build(void)
{
    memset(runs, 0, sizeof(runs));
    /* a GPT block: ffn 4h, heads = kv_heads, GELU, LayerNorm */
    for (int r = 0; r < 3; r++) {
        runs[r].hidden = 1024;
        runs[r].seq = 512;
        runs[r].count = 1;
    }
    runs[0].kind = UNIAP_LAYER_EMBEDDING;
    runs[0].vocab = 50304;
    runs[0].max_positions = 512;
    runs[0].position = UNIAP_POS_LEARNED;
    runs[1].kind = UNIAP_LAYER_DECODER;
    runs[1].count = 2;
    runs[1].heads = runs[1].kv_heads = 16;
    runs[1].head_dim = 64;
    runs[1].ffn = 4096;
    runs[1].activation = UNIAP_ACT_GELU;
    runs[1].norm = UNIAP_NORM_LAYERNORM;
    runs[1].position = UNIAP_POS_LEARNED;
    runs[1].bias = 1;
    runs[2].kind = UNIAP_LAYER_HEAD;
    runs[2].vocab = 50304;
    runs[2].tied = 1;
    fx_model(&model, "gpt-test", runs, 3, 512);
    fx_cluster(&cluster, "a100-like-1x8", 1, 8, 40 * GiB);
    cluster.peak_flops = 312e12;
    cluster.mem_bandwidth = 1.555e12;
    cluster.intra_node_bw = 300e9;
    cluster.inter_node_bw = 25e9;
    cluster.intra_node_latency = 5e-6;
    cluster.inter_node_latency = 10e-6;
}

static void test_profile(const uniap_profile *p)
{
    char sig[96];
    const int64_t s = 512, h = 1024, a = 16;

    CHECK_STR_CONTAINS(p->provenance, "analytic");
    uniap_layer_signature(&runs[1], sig, sizeof(sig));
    for (int64_t b = 1; b <= 4; b *= 2)
        for (int64_t t = 1; t <= 8; t *= 2) {
            const uniap_layer_prof *r = fx_layer_row(p, sig, (int)t, (int)b);
            CHECK(r != NULL);
            if (!r)
                continue;
            /* s b h (10 + 24/t + 5 a s / (h t)) in integers:
             * s b h 10 + s b h 24 / t + 5 a s^2 b / t (t | h, t | a) */
            int64_t want = s * b * h * 10 + s * b * h * 24 / t + 5 * a * s * s * b / t;
            CHECK_EQ(r->act_bytes, want);
            if (t == 1) /* the unparallel form: s b h (34 + 5 a s / h) */
                CHECK_EQ(r->act_bytes, s * b * h * 34 + 5 * a * s * s * b);
        }
    /* forward time at tp 1, b 1: 2 m n k FLOPs per GEMM: QKV 6 h^2, QK^T
     * and AV 4 s h, projection 2 h^2, MLP 16 h^2 -> s (24 h^2 + 4 s h) /
     * peak, + (weights + 2 x activations) / bandwidth + 16 kernels x 5 us */
    const uniap_layer_prof *r = fx_layer_row(p, sig, 1, 1);
    if (r) {
        double flops = (double)s * (24.0 * h * h + 4.0 * s * h);
        double bytes = (double)uniap_layer_params(&runs[1]) * 2 + 2.0 * (double)r->act_bytes;
        CHECK_NEAR(r->fwd.median, flops / 312e12 + bytes / 1.555e12 + 16 * 5e-6, 1e-12, 0);
        CHECK_NEAR(r->bwd.median, 2 * flops / 312e12 + 2 * bytes / 1.555e12 + 32 * 5e-6, 1e-12, 0);
        CHECK_EQ(r->rank, -1);
    }
    /* tp 3 does not divide 8 devices: absent; every tp | 8 present */
    CHECK(fx_layer_row(p, sig, 3, 1) == NULL);
    /* collectives: all-reduce of 8 at 1 MiB inside the node: 5 us + 2^20
     * x 2 (8 - 1) / 8 / 300e9; all-gather of 4: x 3/4; p2p: x 1 */
    const uniap_coll_prof *c = fx_coll_row(p, UNIAP_COLL_ALLREDUCE, 8, 0, 1 << 20);
    CHECK(c && fabs(c->time.median - (5e-6 + 1048576.0 * 1.75 / 300e9)) < 1e-15);
    c = fx_coll_row(p, UNIAP_COLL_ALLGATHER, 4, 0, 1 << 20);
    CHECK(c && fabs(c->time.median - (5e-6 + 1048576.0 * 0.75 / 300e9)) < 1e-15);
    c = fx_coll_row(p, UNIAP_COLL_P2P, 2, 0, GiB);
    CHECK(c && fabs(c->time.median - (5e-6 + (double)GiB / 300e9)) < 1e-12);
    CHECK(fx_coll_row(p, UNIAP_COLL_ALLREDUCE, 8, 0, 4096) != NULL);
    CHECK(fx_coll_row(p, UNIAP_COLL_ALLREDUCE, 8, 1, 4096) == NULL); /* one node */
    CHECK(fx_coll_row(p, UNIAP_COLL_ALLREDUCE, 16, 0, 4096) == NULL);
}

static void test_table(const uniap_profile *p)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_cost_table t;
    const double s = 512, h = 1024, a = 16;
    double P = (double)uniap_layer_params(&runs[1]);

    uniap_cost_options_default(&o);
    o.global_batch = 16;
    CHECK(uniap_costmodel_create(&model, &cluster, p, &o, &cm) == 0);
    if (!cm)
        return;
    /* deg 1, c 4: micro-batch 4; with dp 2 the local micro-batch is 2,
     * interpolated between the analytic rows at 1 and 4 (exact: affine) */
    CHECK(uniap_costmodel_table(cm, 1, 4, &t) == 0);
    int K = t.n_strategies, u = 1;
    int k = fx_strategy(&t, "dp2.tp4c.ddp");
    CHECK_NEAR(t.mem_act[u * K + k], s * 2 * h * (10 + 24.0 / 4 + 5 * a * s / (h * 4)), 1e-12, 0);
    /* sequence parallelism: s b h (34 + 5 a s / h) / t */
    k = fx_strategy(&t, "dp2.tp4c.ddp.sp");
    CHECK_NEAR(t.mem_act[u * K + k], s * 2 * h * (34 + 5 * a * s / h) / 4, 1e-12, 0);
    k = fx_strategy(&t, "dp1.tp8c.sp");
    CHECK_NEAR(t.mem_act[u * K + k], s * 4 * h * (34 + 5 * a * s / h) / 8, 1e-12, 0);
    /* checkpointing keeps the layer input, s b h x 2 bytes (/ t with SP) */
    k = fx_strategy(&t, "dp1.tp8c.sp.ckpt");
    CHECK_NEAR(t.mem_act[u * K + k], s * 4 * h * 2 / 8, 1e-12, 0);
    /* ZeRO stages, mixed-precision Adam, 16 bytes per parameter */
    CHECK_NEAR(t.mem_states[u * K + fx_strategy(&t, "dp4.tp2c.ddp")], 16 * P / 2, 1e-12, 0);
    CHECK_NEAR(t.mem_states[u * K + fx_strategy(&t, "dp4.tp2c.zero1")], (4 * P + 12 * P / 4) / 2,
               1e-12, 0);
    CHECK_NEAR(t.mem_states[u * K + fx_strategy(&t, "dp4.tp2c.zero2")], (2 * P + 14 * P / 4) / 2,
               1e-12, 0);
    CHECK_NEAR(t.mem_states[u * K + fx_strategy(&t, "dp4.tp2s.zero3")], 16 * P / 4 / 2, 1e-12, 0);
    CHECK_NEAR(t.mem_budget[0], 40.0 * GiB - 1.5 * GiB, 0, 0); /* default reserve */
    /* W (zero bubble, Qi et al. 2024 section 2): the Linear layers' weight-
     * gradient GEMMs, the FLOPs of their forward GEMMs, 24 s h^2 per sample
     * (QKV 6 h^2, projection 2 h^2, MLP 16 h^2; the attention core's 4 s^2 h
     * and the memory-bound kernels are B's), / tp, at peak (this cluster has
     * no GEMM efficiency figures: the forward above is FLOPs / peak):
     * dp2.tp4c: local micro-batch 2 -> 2 x 512 x 24 x 1024^2 / 4 / 312e12;
     * recompute is B's, so checkpointing keeps W; time >= 2 W */
    k = fx_strategy(&t, "dp2.tp4c.ddp");
    CHECK_NEAR(t.wgrad[u * K + k], 2 * s * 24 * h * h / 4 / 312e12, 1e-9, 0);
    CHECK(2 * t.wgrad[u * K + k] <= t.time[u * K + k]);
    k = fx_strategy(&t, "dp1.tp8c.sp.ckpt");
    CHECK_NEAR(t.wgrad[u * K + k], 4 * s * 24 * h * h / 8 / 312e12, 1e-9, 0);
    CHECK_NEAR(t.wgrad[u * K + k], t.wgrad[u * K + fx_strategy(&t, "dp1.tp8c.sp")], 1e-12, 0);
    uniap_cost_table_free(&t);
    uniap_costmodel_destroy(cm);

    /* fp32 Adam: 4 + 4 + 8 bytes per parameter */
    model.mixed_precision = 0;
    CHECK(uniap_costmodel_create(&model, &cluster, p, &o, &cm) == 0);
    if (cm && uniap_costmodel_table(cm, 1, 2, &t) == 0) { /* micro-batch 8: dp 8 */
        K = t.n_strategies;
        CHECK_NEAR(t.mem_states[u * K + fx_strategy(&t, "dp8.tp1.ddp")], 16 * P, 1e-12, 0);
        CHECK_NEAR(t.mem_states[u * K + fx_strategy(&t, "dp8.tp1.zero1")], 8 * P + 8 * P / 8, 1e-12,
                   0);
        CHECK_NEAR(t.mem_states[u * K + fx_strategy(&t, "dp8.tp1.zero2")], 4 * P + 12 * P / 8,
                   1e-12, 0);
        CHECK_NEAR(t.mem_states[u * K + fx_strategy(&t, "dp8.tp1.zero3")], 16 * P / 8, 1e-12, 0);
        uniap_cost_table_free(&t);
    }
    model.mixed_precision = 1;
    uniap_costmodel_destroy(cm);
}

/* The decoder rows of p at tp 4 (every micro-batch): W measured as frac_mb1
 * and frac_mb4 of the backward at micro-batches 1 and 4 (count 0: not
 * measured when frac < 0). */
static void set_wgrad(uniap_profile *p, double frac_mb1, double frac_mb4)
{
    char sig[96];
    uniap_layer_signature(&runs[1], sig, sizeof(sig));
    for (int i = 0; i < p->n_layers; i++) {
        uniap_layer_prof *r = &p->layers[i];
        if (strcmp(r->layer_type, sig) != 0 || r->tp != 4)
            continue;
        double f = r->micro_batch == 1 ? frac_mb1 : frac_mb4;
        r->wgrad.median = r->wgrad.min = r->wgrad.max = f * r->bwd.median;
        r->wgrad.count = f < 0 ? 0 : 3;
    }
}

static const uniap_layer_prof *row_at(const uniap_profile *p, int tp, int mb)
{
    char sig[96];
    uniap_layer_signature(&runs[1], sig, sizeof(sig));
    for (int i = 0; i < p->n_layers; i++)
        if (strcmp(p->layers[i].layer_type, sig) == 0 && p->layers[i].tp == tp &&
            p->layers[i].micro_batch == mb)
            return &p->layers[i];
    return NULL;
}

/* Measured W (profile format 1.3): the table's wgrad is the measured one,
 * interpolated between micro-batches as the times are, where every row of
 * the layer has it, the analytic share otherwise, and at most half of the
 * layer's compute. dp2.tp4c.ddp at deg 1, c 4: local micro-batch 2,
 * between the rows at 1 and 4: W(2) = W1 + (W4 - W1) (2 - 1) / (4 - 1). */
static void test_measured_wgrad(uniap_profile *p)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_cost_table t;
    const uniap_layer_prof *r1 = row_at(p, 4, 1), *r4 = row_at(p, 4, 4);
    CHECK(r1 && r4);
    if (!r1 || !r4)
        return;
    uniap_cost_options_default(&o);
    o.global_batch = 16;
    const double fr[3][2] = {{0.3, 0.2}, {-1, 0.2}, {0.9, 0.9}};
    double analytic = 0;
    for (int c = 0; c < 3; c++) {
        set_wgrad(p, fr[c][0], fr[c][1]);
        CHECK(uniap_costmodel_create(&model, &cluster, p, &o, &cm) == 0);
        if (!cm || uniap_costmodel_table(cm, 1, 4, &t) != 0) {
            CHECK(0);
            uniap_costmodel_destroy(cm);
            continue;
        }
        int K = t.n_strategies, k = fx_strategy(&t, "dp2.tp4c.ddp");
        double w1 = fr[c][0] * r1->bwd.median, w4 = fr[c][1] * r4->bwd.median;
        double fwd2 = r1->fwd.median + (r4->fwd.median - r1->fwd.median) / 3;
        double bwd2 = r1->bwd.median + (r4->bwd.median - r1->bwd.median) / 3;
        double w = t.wgrad[1 * K + k];
        if (c == 0) /* measured at both ends: their lerp */
            CHECK_NEAR(w, w1 + (w4 - w1) / 3, 1e-12, 0);
        if (c == 1) { /* the row at 1 unmeasured: the analytic share (as test_table) */
            analytic = 2 * 512.0 * 24 * 1024 * 1024 / 4 / 312e12;
            CHECK_NEAR(w, analytic, 1e-9, 0);
        }
        if (c == 2) /* 0.9 of the backward: held to half the compute */
            CHECK_NEAR(w, 0.5 * (fwd2 + bwd2), 1e-12, 0);
        CHECK(2 * w <= t.time[1 * K + k] * (1 + 1e-12));
        uniap_cost_table_free(&t);
        uniap_costmodel_destroy(cm);
        cm = NULL;
    }
    set_wgrad(p, -1, -1);
}

int main(void)
{
    uniap_profile p;
    static const int mbs[] = {1, 2, 4};

    build();
    CHECK(uniap_profile_analytic(&model, &cluster, mbs, 3, &p) == 0);
    test_profile(&p);
    uniap_profile_free(&p);
    /* rows at 1 and 4 only: the table interpolates at 2 */
    static const int ends[] = {1, 4};
    CHECK(uniap_profile_analytic(&model, &cluster, ends, 2, &p) == 0);
    test_table(&p);
    test_measured_wgrad(&p);
    uniap_profile_free(&p);
    /* the achieved bus bandwidth (nccl-tests busbw) replaces the link rate
     * inside the node: all-reduce of 8 at 1 MiB = 5 us + 2^20 x 1.75 /
     * 220e9; the 300e9 link rate no longer appears */
    cluster.intra_node_busbw = 220e9;
    CHECK(uniap_profile_analytic(&model, &cluster, mbs, 3, &p) == 0);
    const uniap_coll_prof *c = fx_coll_row(&p, UNIAP_COLL_ALLREDUCE, 8, 0, 1 << 20);
    CHECK(c && fabs(c->time.median - (5e-6 + 1048576.0 * 1.75 / 220e9)) < 1e-15);
    c = fx_coll_row(&p, UNIAP_COLL_P2P, 2, 0, GiB);
    CHECK(c && fabs(c->time.median - (5e-6 + (double)GiB / 220e9)) < 1e-12);
    uniap_profile_free(&p);
    cluster.intra_node_busbw = 0;
    /* no datasheet figures: EMISSING naming the field */
    cluster.mem_bandwidth = 0;
    CHECK_EQ(uniap_profile_analytic(&model, &cluster, mbs, 3, &p), UNIAP_EMISSING);
    CHECK_STR_CONTAINS(uniap_errmsg(), "lacks mem_bandwidth");
    uniap_err_clear();
    return check_report();
}
