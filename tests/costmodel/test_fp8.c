/*
 * test_fp8.c - FP8 training (--precision fp8, issue 15 item 4) against
 * hand-worked references: one Llama-70B decoder layer's GEMM time on an
 * H100 at the FP8 and the BF16 rate from the datasheet figures (1978.9 and
 * 989.4 TFLOPS dense) and the achievable fractions ([GEMM], [FP8] in
 * io/cluster_spec.c), the attention core the same in both; the FP8 casts'
 * bytes and the FP8-kept Linear inputs counted tensor by tensor; model
 * states per parameter (16 B of bf16 mixed-precision Adam + 2 B of FP8
 * weight copies per Linear weight) in a real cost table; the refusals (a
 * device without an FP8 peak, named; a measured profile); the cluster and
 * model spec fields' validation and round trip.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"

/* Llama-70B's decoder block, from the zoo (llama-70b: h 8192, 64 heads of
 * 128, 8 KV heads, SwiGLU ffn 28672, RMSNorm, RoPE, 4096 tokens), trained
 * with flash attention, no dropout, and FP8 when fp8. */
static uniap_layer llama70b_block(int fp8)
{
    uniap_model m;
    uniap_layer l;
    memset(&l, 0, sizeof(l));
    CHECK_EQ(uniap_zoo_model("llama-70b", &m), 0);
    uniap_training t = m.training;
    t.attention = UNIAP_ATTN_FLASH;
    t.no_dropout = 1;
    t.fp8 = fp8;
    CHECK_EQ(uniap_model_set_training(&m, &t, "test"), 0);
    if (m.n_runs == 3)
        l = m.runs[1];
    CHECK(l.kind == UNIAP_LAYER_DECODER && l.hidden == 8192 && l.ffn == 28672 && l.fp8 == fp8);
    uniap_model_free(&m);
    return l;
}

/* One block at tp 8, micro-batch 1 (4096 tokens) on the h100-80g-16x8
 * preset: 132 SMs, 128 x 128 tiles. The shard's Linear GEMMs (m x n,
 * reduction k), their tiles and waves:
 *   QKV   4096 x 1280 (80 heads' worth of 128 / 8), k 8192: 32 x 10 = 320
 *         tiles, 3 waves, util 320 / 396
 *   proj  4096 x 8192, k 1024: 2048 tiles, 16 waves, util 2048 / 2112
 *   up    4096 x 7168 (gate + up, 2 x 28672 / 8), k 8192: 1792 tiles, 14
 *         waves, util 1792 / 1848
 *   down  4096 x 8192, k 3584: 2048 tiles, util 2048 / 2112
 * BF16 at 989.4e12 x 0.79 = 781.6 TFLOP/s: 1.178659 ms forward; FP8 at
 * 1978.9e12 x 0.75 = 1484.2 TFLOP/s: 0.620729 ms (x 0.52664). The
 * attention core (8 heads, flash) stays 16-bit: 2 x 2 x 4096^2 x 128 x 8
 * FLOPs at 989.4e12 x 0.35 = 0.198445 ms forward, 2.5x that backward. */
static void test_gemm_h100(void)
{
    uniap_cluster c;
    cm_gemm_device d16, d8;
    uniap_layer l16 = llama70b_block(0), l8 = llama70b_block(1);
    double f16, b16, f8, b8;

    CHECK_EQ(uniap_cluster_preset("h100-80g-16x8", &c), 0);
    CHECK_NEAR(c.peak_flops_fp8, 1978.9e12, 0, 0);
    uniap__cm_gemm_device(&c, 0, &d16);
    uniap__cm_gemm_device_fp8(&c, &d8);
    uniap__cm_gemm_layer_seconds(&d16, &l16, 4096, 8, 1, &f16, &b16);
    uniap__cm_gemm_layer_seconds(&d8, &l8, 4096, 8, 1, &f8, &b8);

    double R16 = 989.4e12 * 0.79, R8 = 1978.9e12 * 0.75;
    double lin = 2.0 * 4096 * 1280 * 8192 / (320.0 / 396) +
                 2.0 * 4096 * 8192 * 1024 / (2048.0 / 2112) +
                 2.0 * 4096 * 7168 * 8192 / (1792.0 / 1848) +
                 2.0 * 4096 * 8192 * 3584 / (2048.0 / 2112); /* FLOPs / util */
    double core = 2 * 2.0 * 4096 * 4096 * 128 * 8 / (989.4e12 * 0.35);
    CHECK_NEAR(f16, lin / R16 + core, 1e-12, 0);
    CHECK_NEAR(f8, lin / R8 + core, 1e-12, 0);
    CHECK_NEAR(f16, 1.377104e-3, 1e-6, 0); /* the numbers above */
    CHECK_NEAR(f8, 0.819174e-3, 1e-6, 0);
    /* backward: the Linear GEMMs' data and weight gradients scale by the
     * same ratio of rates (the same shapes, the same quantization); the
     * flash backward (2.5x the core's FLOPs) does not change */
    double core_b = 2.5 * core;
    CHECK_NEAR(b8 - core_b, (b16 - core_b) * R16 / R8, 1e-12, 0);
    CHECK(f8 < f16 && b8 < b16);
    /* an unknown FP8 fraction falls back to the 16-bit one */
    c.gemm_efficiency_fp8 = 0;
    uniap__cm_gemm_device_fp8(&c, &d8);
    CHECK_NEAR(d8.lin_peak * d8.lin_frac, 1978.9e12 * 0.79, 0, 0);
    CHECK_NEAR(d8.peak * d8.frac, R16, 0, 0);
}

/* What FP8 changes in the bytes: the casts (4 B per element of each Linear
 * input forward, of each output gradient backward) and the kept Linear
 * inputs at 1 B. */
static void test_bytes(void)
{
    uniap_layer l16 = llama70b_block(0), l8 = llama70b_block(1);
    const cm_layer_kind *d = uniap__cm_layer_kind(UNIAP_LAYER_DECODER);
    double fw, bw;
    int64_t r16, s16, r8, s8;

    /* inputs 8192 (QKV), 1024 (proj), 8192 (up), 3584 (down) wide; output
     * gradients 1280, 8192, 7168, 8192 wide; 4096 tokens */
    uniap__cm_fp8_cast_bytes(&l8, 4096, 8, &fw, &bw);
    CHECK_NEAR(fw, 4.0 * 4096 * (8192 + 1024 + 8192 + 3584), 0, 0); /* 343,932,928 */
    CHECK_NEAR(bw, 4.0 * 4096 * (1280 + 8192 + 7168 + 8192), 0, 0); /* 406,847,488 */
    uniap__cm_fp8_cast_bytes(&l16, 4096, 8, &fw, &bw);
    CHECK_NEAR(fw + bw, 0, 0, 0);

    /* per token, bf16 (e 2), no dropout, flash:
     *   not sharded: two norm inputs 2 x 2h, QKV input 2h, MLP input 2h
     *     = 8h = 65536; FP8: 4h + h + h = 49152
     *   sharded: Q, K, V 2 x (64 + 16) x 128 = 20480, proj input 2 x 8192,
     *     softmax statistics 4 x 64 = 256, SwiGLU gate and up outputs 2 x 2
     *     x 28672 and the down input 2 x 28672: 209152; FP8: the proj input
     *     8192 and the down input 28672 at 1 B: 172288 */
    d->act_per_token(&l16, 2, &r16, &s16);
    d->act_per_token(&l8, 2, &r8, &s8);
    CHECK_EQ(r16, 65536);
    CHECK_EQ(s16, 209152);
    CHECK_EQ(r8, 49152);
    CHECK_EQ(s8, 172288);
}

/* Model states per parameter, hand-counted, in a real cost table: bf16
 * parameter 2 + gradient 2 + fp32 master 4 + Adam moments 8 = 16 B per
 * parameter (Rajbhandari et al. 2020 s3.1, as bf16 mixed precision), plus
 * Transformer Engine's FP8 weight and transposed weight, 1 + 1 B per Linear
 * weight element: 18 B per Linear weight, 16 per norm weight. The tiny
 * block (h 64, 4 heads of 16, GELU ffn 256): Linear weights 64 x 192 (QKV)
 * + 64 x 64 (proj) + 2 x 64 x 256 (MLP) = 49152. */
static void test_states(void)
{
    int mbs[] = {1, 2, 4};
    uniap_layer layers[2];
    uniap_model m;
    uniap_costmodel *cm = NULL;
    uniap_cluster c;
    uniap_cost_options o;
    uniap_profile p;
    uniap_cost_table t;
    fx_tiny_model(layers, &m);
    uniap_training tr = m.training;
    tr.fp8 = 1;
    CHECK_EQ(uniap_model_set_training(&m, &tr, "test"), 0);
    CHECK_EQ(layers[0].fp8, 1); /* the decoder: attention block */
    CHECK_EQ(layers[1].fp8, 0); /* the head stays bf16 */
    CHECK_NEAR(uniap__cm_linear_weights(&layers[0], 1), 49152, 0, 0);
    CHECK_NEAR(uniap__cm_linear_weights(&layers[0], 4), 49152 / 4, 0, 0);
    uniap_strategy s;
    CHECK_EQ(uniap_strategy_parse("dp4.tp2c.fsdp", &s), 0);
    CHECK_NEAR(cm_fp8_weight_bytes(&layers[0], &s), 2.0 * 49152 / 2 / 4, 0, 0);
    CHECK_NEAR(cm_fp8_weight_bytes(&layers[1], &s), 0, 0, 0);

    fx_cluster(&c, "h100-like", 1, 1, 16 * GiB);
    c.peak_flops = 989.4e12;
    c.peak_flops_fp8 = 1978.9e12;
    c.mem_bandwidth = 3.35e12;
    CHECK_EQ(uniap_profile_analytic(&m, &c, mbs, 3, &p), 0);
    uniap_cost_options_default(&o);
    o.global_batch = 4;
    CHECK_EQ(uniap_costmodel_create(&m, &c, &p, &o, &cm), 0);
    if (cm && uniap_costmodel_table(cm, 1, 1, &t) == 0) {
        int k = fx_strategy(&t, "dp1.tp1");
        double P = (double)uniap_layer_params(&layers[0]), W = 49152;
        CHECK_NEAR(t.mem_states[uniap_ct_ix(&t, 0, 0, k)], 16 * P + 2 * W, 0, 0);
        /* the head: 16 B per parameter, no FP8 copy */
        CHECK_NEAR(t.mem_states[uniap_ct_ix(&t, 0, 2, k)],
                   16.0 * (double)uniap_layer_params(&layers[1]), 0, 0);
        uniap_cost_table_free(&t);
    }
    uniap_costmodel_destroy(cm);
    cm = NULL;

    /* a measured profile (16-bit kernels): refused, naming the way out */
    snprintf(p.provenance, sizeof(p.provenance), "measured");
    CHECK(uniap_costmodel_create(&m, &c, &p, &o, &cm) == UNIAP_EINVAL);
    CHECK(strstr(uniap_errmsg(), "--precision fp8 with the measured profile") != NULL);
    uniap_profile_free(&p);

    /* a device without an FP8 peak: refused naming the cluster, the
     * device and the field (the A100 preset) */
    CHECK_EQ(uniap_cluster_preset("a100-80g-2x8", &c), 0);
    CHECK(uniap_profile_analytic(&m, &c, mbs, 3, &p) == UNIAP_EINVAL);
    CHECK(strstr(uniap_errmsg(), "cluster 'a100-80g-2x8' (A100-SXM4-80GB) has no "
                                 "peak_flops_fp8") != NULL);
}

/* The cluster spec's FP8 fields: plausible range with the unit slip, not
 * below the 16-bit peak, the fraction checked, written only when known. */
static void test_cluster_spec(void)
{
    static const char *const base =
        "{\"nodes\": 1, \"devices_per_node\": 8, \"device_name\": \"H100\", "
        "\"device_memory_gib\": 80, \"peak_flops\": 989.4e12, %s}";
    const struct {
        const char *fields, *msg;
    } bad[] = {
        {"\"peak_flops_fp8\": 1978.9", "1978.9 looks like TFLOP/s: write 1978.9e12"},
        {"\"peak_flops_fp8\": 500e12", "peak_flops_fp8: expected at least peak_flops"},
        {"\"peak_flops_fp8\": 1978.9e12, \"gemm_efficiency_fp8\": 75",
         "75 looks like a percentage: write 0.75"},
        {"\"gemm_efficiency_fp8\": 0.75", "gemm_efficiency_fp8: given without peak_flops_fp8"},
    };
    char json[512], *out = NULL;
    uniap_cluster c;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(json, sizeof(json), base, bad[i].fields);
        CHECK(uniap_cluster_parse(json, "x.json", &c) == UNIAP_EINVAL);
        if (!strstr(uniap_errmsg(), bad[i].msg))
            fprintf(stderr, "case %zu: %s\n", i, uniap_errmsg());
        CHECK(strstr(uniap_errmsg(), bad[i].msg) != NULL);
    }
    CHECK_EQ(uniap_cluster_preset("h200-141g-4x8", &c), 0);
    CHECK_EQ(uniap_cluster_to_json(&c, &out), 0);
    CHECK(out && strstr(out, "\"peak_flops_fp8\":") && strstr(out, "\"gemm_efficiency_fp8\":"));
    uniap_cluster back;
    CHECK_EQ(uniap_cluster_parse(out, "dump", &back), 0);
    CHECK_NEAR(back.peak_flops_fp8, 1978.9e12, 0, 0);
    free(out);
    CHECK_EQ(uniap_cluster_preset("a100-40g-1x8", &c), 0);
    CHECK_EQ(uniap_cluster_to_json(&c, &out), 0);
    CHECK(out && !strstr(out, "fp8")); /* unknown: not written */
    free(out);
}

/* The model spec's "fp8": only with 16-bit mixed precision; round trip;
 * the attention blocks' signatures carry it, the head's does not. */
static void test_model_spec(void)
{
    const char *ok = "{\"seq_len\": 16, \"fp8\": \"hybrid\", \"layers\": ["
                     "{\"type\": \"decoder\", \"hidden\": 64, \"heads\": 4, \"ffn\": 256},"
                     "{\"type\": \"head\", \"hidden\": 64, \"vocab\": 100}]}";
    const char *fp32 = "{\"seq_len\": 16, \"param_dtype\": \"fp32\", \"mixed_precision\": false, "
                       "\"fp8\": \"hybrid\", \"layers\": [{\"type\": \"decoder\", \"hidden\": "
                       "64, \"heads\": 4, \"ffn\": 256}]}";
    uniap_model m, back;
    char *json = NULL, sig[128];

    CHECK_EQ(uniap_model_parse(ok, "m.json", &m), 0);
    CHECK_EQ(m.training.fp8, 1);
    uniap_layer_signature(&m.runs[0], sig, sizeof(sig));
    CHECK(strstr(sig, ".fp8") != NULL);
    uniap_layer_signature(&m.runs[1], sig, sizeof(sig));
    CHECK(strstr(sig, ".fp8") == NULL);
    CHECK_EQ(uniap_model_to_json(&m, &json), 0);
    CHECK(json && strstr(json, "\"fp8\":"));
    CHECK_EQ(uniap_model_parse(json, "dump", &back), 0);
    CHECK_EQ(back.training.fp8, 1);
    CHECK_EQ(back.runs[0].fp8, 1);
    free(json);
    uniap_model_free(&back);
    uniap_model_free(&m);
    CHECK(uniap_model_parse(fp32, "f.json", &m) == UNIAP_EINVAL);
    CHECK(strstr(uniap_errmsg(), "fp8: expected only with mixed precision at bf16 or fp16") !=
          NULL);
}

int main(void)
{
    test_gemm_h100();
    test_bytes();
    test_states();
    test_cluster_spec();
    test_model_spec();
    return check_report();
}
