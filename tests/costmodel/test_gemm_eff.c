/*
 * test_gemm_eff.c - the GEMM efficiency of the analytic device model
 * (costmodel/gemm_eff.c) on hand-worked cases: tile and wave quantization
 * over the SMs (one wave vs one tile over), the achievable fraction per
 * device generation from the presets, a decoder layer's GEMMs summing to
 * its FLOPs, flash attention at its own fractions, the analytic profile of
 * an A100 decoder layer worked GEMM by GEMM, and the cluster-spec fields'
 * validation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"

static cm_gemm_device a100(void)
{
    cm_gemm_device d = {312e12, 108, 128, 128, 0.74, 0.73, 0.63, 0, 0};
    return d;
}

static void test_quantization(void)
{
    cm_gemm_device d = a100();

    /* 1536 x 1152 = 12 x 9 = 108 tiles of 128 x 128: one full wave */
    CHECK_NEAR(uniap__cm_gemm_util(&d, 1536, 1152, 1), 1.0, 1e-15, 0);
    /* one column more: 12 x 10 = 120 tiles, one over a wave: 2 waves pay
     * 2 x 108 tiles for 1536 x 1153 useful elements */
    CHECK_NEAR(uniap__cm_gemm_util(&d, 1536, 1153, 1), 1536.0 * 1153 / (2 * 108 * 128.0 * 128),
               1e-15, 0);
    /* a batch: 4 x 4 tiles x 16 = 256 tiles, 3 waves */
    CHECK_NEAR(uniap__cm_gemm_util(&d, 512, 512, 16), 256.0 / 324, 1e-15, 0);
    /* an output 64 wide gets 128 x 64 tiles: 4 x 1 x 16 = 64, one wave */
    CHECK_NEAR(uniap__cm_gemm_util(&d, 512, 64, 16), 64.0 / 108, 1e-15, 0);
    /* no SM count: no quantization */
    d.sms = 0;
    CHECK_NEAR(uniap__cm_gemm_util(&d, 1536, 1153, 1), 1.0, 0, 0);

    /* seconds: 2 m n k / (peak x fraction x utilization) */
    d = a100();
    cm_gemm g = {1536, 1153, 4096, 1, 0};
    CHECK_NEAR(uniap__cm_gemm_seconds(&d, &g),
               2.0 * 1536 * 1153 * 4096 / (312e12 * 0.74 * (1536.0 * 1153 / (216 * 16384.0))),
               1e-12, 0);
}

static void test_generations(void)
{
    uniap_cluster c;
    cm_gemm_device d;

    /* A100: 230 of 312 TFLOPS (cuBLAS FP16), 108 SMs */
    CHECK_EQ(uniap_cluster_preset("a100-40g-1x8", &c), 0);
    uniap__cm_gemm_device(&c, 0, &d);
    CHECK_NEAR(d.peak, 312e12, 0, 0);
    CHECK_NEAR(d.frac, 0.74, 0, 0);
    CHECK_EQ(d.sms, 108);
    CHECK_EQ(d.tile_m, 128);
    CHECK_NEAR(d.flash_fwd, 0.73, 0, 0);
    CHECK_NEAR(d.flash_bwd, 0.63, 0, 0);
    /* fp32 activations: the FP32 peak, no fp32 fraction given: the 16-bit
     * one; flash attention (16-bit only): the GEMM fraction */
    uniap__cm_gemm_device(&c, 1, &d);
    CHECK_NEAR(d.peak, 19.5e12, 0, 0);
    CHECK_NEAR(d.flash_fwd, 0.74, 0, 0);
    /* H100: 780 of 989.4 TFLOPS BF16 = 0.79, 132 SMs; FA2 about 35 % */
    CHECK_EQ(uniap_cluster_preset("h100-80g-4x8", &c), 0);
    uniap__cm_gemm_device(&c, 0, &d);
    CHECK_NEAR(d.frac, 0.79, 0, 0);
    CHECK_EQ(d.sms, 132);
    CHECK_NEAR(d.flash_bwd, 0.35, 0, 0);
    /* a large GEMM on H100: 8192^3, 64 x 64 = 4096 tiles, 32 waves of 132
     * (31.03 rounded up) */
    cm_gemm g = {8192, 8192, 8192, 1, 0};
    CHECK_NEAR(uniap__cm_gemm_seconds(&d, &g),
               2.0 * 8192 * 8192 * 8192 / (989.4e12 * 0.79 * (4096.0 / (32 * 132))), 1e-12, 0);
    /* unknown facts: the datasheet peak, no quantization */
    memset(&c, 0, sizeof(c));
    c.peak_flops = 100e12;
    uniap__cm_gemm_device(&c, 0, &d);
    CHECK_NEAR(d.frac, 1.0, 0, 0);
    CHECK_EQ(d.sms, 0);
    CHECK_NEAR(uniap__cm_gemm_seconds(&d, &g), 2.0 * 8192 * 8192 * 8192 / 100e12, 1e-12, 0);
}

static uniap_layer decoder(void)
{
    uniap_layer l;
    memset(&l, 0, sizeof(l));
    l.kind = UNIAP_LAYER_DECODER;
    l.count = 1;
    l.hidden = 1024;
    l.seq = 512;
    l.heads = l.kv_heads = 16;
    l.head_dim = 64;
    l.ffn = 4096;
    l.activation = UNIAP_ACT_GELU;
    l.norm = UNIAP_NORM_LAYERNORM;
    l.position = UNIAP_POS_LEARNED;
    l.bias = 1;
    return l;
}

static void test_layer_gemms(void)
{
    uniap_layer l = decoder();
    const cm_layer_kind *k = uniap__cm_layer_kind(l.kind);
    cm_gemm g[CM_MAX_GEMMS];

    /* the GEMMs' FLOPs are the layer's FLOPs, also with GQA and SwiGLU */
    for (int v = 0; v < 2; v++) {
        if (v) {
            l.kv_heads = 4;
            l.activation = UNIAP_ACT_SWIGLU;
        }
        for (int tp = 1; tp <= 4; tp *= 2) {
            int n = k->gemms(&l, 3 * 512.0, tp, g);
            double sum = 0;
            for (int i = 0; i < n; i++)
                sum += 2 * g[i].m * g[i].n * g[i].k * g[i].batch;
            CHECK_NEAR(sum, k->gemm_flops(&l) * 3 * 512.0 / tp, 1e-12, 0);
        }
    }
    /* flash attention: the core at its own fractions, backward 2.5x the
     * forward FLOPs; the other GEMMs unchanged */
    l = decoder();
    cm_gemm_device d = a100();
    double fe, be, ff, bf;
    uniap__cm_gemm_layer_seconds(&d, &l, 512, 1, 0, &fe, &be);
    uniap__cm_gemm_layer_seconds(&d, &l, 512, 1, 1, &ff, &bf);
    double core = 2 * 2.0 * 512 * 512 * 64 * 16; /* Q K^T and scores x V */
    double eager_core = 2.0 * 512 * 512 * 64 * 16 / (312e12 * 0.74 * (256.0 / 324)) +
                        2.0 * 512 * 64 * 512 * 16 / (312e12 * 0.74 * (64.0 / 108));
    CHECK_NEAR(ff - (fe - eager_core), core / (312e12 * 0.73), 1e-9, 0);
    /* eager backward of the core: Q K^T's data gradient 512 x 64 (64
     * tiles), weight gradient 64 x 512 (64 tiles of 64 x 128); scores x
     * V's data gradient 512 x 512 (256 tiles, 3 waves), weight gradient
     * 512 x 64 (64 tiles); each of the four 2 x 512 x 512 x 64 x 16 FLOPs */
    double F = 2.0 * 512 * 512 * 64 * 16, Pe = 312e12 * 0.74;
    double eager_core_bwd = F / Pe * (3 * 108.0 / 64 + 324.0 / 256);
    CHECK_NEAR(bf - (be - eager_core_bwd), 2.5 * core / (312e12 * 0.63), 1e-9, 0);
    /* a single-GEMM layer, the head (vocabulary 50304 = 393 tiles of
     * 128): forward 512 x 50304 (4 x 393 = 1572 tiles, 15 waves), data
     * gradient 512 x 1024 (32 tiles, 1 wave), weight gradient 1024 x
     * 50304 (3144 tiles, 30 waves) */
    uniap_layer h;
    memset(&h, 0, sizeof(h));
    h.kind = UNIAP_LAYER_HEAD;
    h.count = 1;
    h.hidden = 1024;
    h.seq = 512;
    h.vocab = 50304;
    uniap__cm_gemm_layer_seconds(&d, &h, 512, 1, 0, &ff, &bf);
    double fl = 2.0 * 512 * 50304 * 1024, P = 312e12 * 0.74;
    CHECK_NEAR(ff, fl / (P * (1572.0 / (15 * 108))), 1e-12, 0);
    CHECK_NEAR(bf, fl / (P * (32.0 / 108)) + fl / (P * (3144.0 / (30 * 108))), 1e-12, 0);
}

/* The analytic profile's decoder row on an A100-like cluster with the
 * GEMM facts, worked GEMM by GEMM (s 512, h 1024, 16 heads of 64, ffn
 * 4096, b 1, tp 1: 512 tokens = 4 row tiles). */
static void test_analytic_row(void)
{
    uniap_layer runs[1] = {decoder()};
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;
    char sig[96];
    int mbs[1] = {1};

    fx_model(&m, "dec", runs, 1, 512);
    fx_cluster(&c, "a100-facts", 1, 8, 40 * GiB);
    c.peak_flops = 312e12;
    c.mem_bandwidth = 1.555e12;
    c.intra_node_bw = 300e9;
    c.sm_count = 108;
    c.gemm_efficiency = 0.74;
    CHECK_EQ(uniap_profile_analytic(&m, &c, mbs, 1, &p), 0);
    uniap_layer_signature(&runs[0], sig, sizeof(sig));
    const uniap_layer_prof *r = fx_layer_row(&p, sig, 1, 1);
    CHECK(r != NULL);
    if (r) {
        double P = 312e12 * 0.74;
        /* QKV 512 x 3072 (96 tiles: 1 wave), Q K^T 16 x 512 x 512 (256
         * tiles: 3 waves), scores x V 16 x 512 x 64 (64 tiles of 128 x
         * 64), projection 512 x 1024 (32 tiles), MLP up 512 x 4096 (128
         * tiles: 2 waves), down 512 x 1024 (32 tiles) */
        double gemm = 2.0 * 512 * 3072 * 1024 / (P * (96.0 / 108)) +
                      2.0 * 512 * 512 * 64 * 16 / (P * (256.0 / 324)) +
                      2.0 * 512 * 64 * 512 * 16 / (P * (64.0 / 108)) +
                      2.0 * 512 * 1024 * 1024 / (P * (32.0 / 108)) +
                      2.0 * 512 * 4096 * 1024 / (P * (128.0 / 216)) +
                      2.0 * 512 * 1024 * 4096 / (P * (32.0 / 108));
        double bytes = (double)uniap_layer_params(&runs[0]) * 2 + 2.0 * (double)r->act_bytes;
        CHECK_NEAR(r->fwd.median, gemm + bytes / 1.555e12 + 16 * 5e-6, 1e-12, 0);
        /* slower than the datasheet peak by more than the 0.74 alone */
        double peak_gemm = 512.0 * (24.0 * 1024 * 1024 + 4.0 * 512 * 1024) / 312e12;
        CHECK(gemm > peak_gemm / 0.74);
    }
    uniap_profile_free(&p);
}

static void test_spec_fields(void)
{
    uniap_cluster c;
    char *json = NULL;
    const char *base = "{\"nodes\": 1, \"devices_per_node\": 8, \"device_name\": \"X\","
                       " \"device_memory_gib\": 40, \"peak_flops\": 312e12, %s}";
    char text[512];

    snprintf(text, sizeof(text), base,
             "\"sm_count\": 108, \"gemm_tile_m\": 256, \"gemm_tile_n\": 128,"
             " \"gemm_efficiency\": 0.74, \"gemm_efficiency_fp32\": 0.9,"
             " \"flash_fwd_efficiency\": 0.73, \"flash_bwd_efficiency\": 0.63");
    CHECK_EQ(uniap_cluster_parse(text, "t.json", &c), 0);
    CHECK_EQ(c.sm_count, 108);
    CHECK_EQ(c.gemm_tile_m, 256);
    CHECK_NEAR(c.gemm_efficiency_fp32, 0.9, 0, 0);
    /* round trip */
    CHECK_EQ(uniap_cluster_to_json(&c, &json), 0);
    uniap_cluster back;
    CHECK_EQ(uniap_cluster_parse(json, "back", &back), 0);
    CHECK_EQ(back.gemm_tile_m, 256);
    CHECK_NEAR(back.flash_bwd_efficiency, 0.63, 0, 0);
    free(json);
    /* refused, naming the field and the fix */
    snprintf(text, sizeof(text), base, "\"gemm_efficiency\": 74");
    CHECK(uniap_cluster_parse(text, "t.json", &c) == UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "gemm_efficiency");
    CHECK_STR_CONTAINS(uniap_errmsg(), "write 0.74");
    snprintf(text, sizeof(text), base, "\"sm_count\": 5000");
    CHECK(uniap_cluster_parse(text, "t.json", &c) == UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "sm_count");
    snprintf(text, sizeof(text), base, "\"gemm_tile_n\": 100");
    CHECK(uniap_cluster_parse(text, "t.json", &c) == UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "multiples of 8");
    snprintf(text, sizeof(text), base, "\"flash_fwd_efficiency\": -0.5");
    CHECK(uniap_cluster_parse(text, "t.json", &c) == UNIAP_EINVAL);
}

int main(void)
{
    test_quantization();
    test_generations();
    test_layer_gemms();
    test_analytic_row();
    test_spec_fields();
    return check_report();
}
