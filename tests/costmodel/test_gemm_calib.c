/*
 * test_gemm_calib.c - the analytic device model's GEMM efficiency taken
 * from a measured profile's /gemm rows (costmodel/gemm_eff.c:
 * uniap_gemm_calibrate, uniap_cluster_calibrate_gemm) on hand-made rows
 * and hand-worked fractions: the largest GEMM's slowest rank over the
 * peak and the model's wave-quantization utilization; the fp32 class at
 * its own peak; equal FLOPs resolved to the higher fraction; the cap at 1;
 * fp32 rows alone standing for gemm_efficiency; the calibrated model then
 * reproducing the measured time; and the refusals (no rows, no peak, a
 * row above the peak).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"

static void add(uniap_profile *p, int rank, const char *dtype, int64_t m, int64_t n, int64_t k,
                double secs)
{
    uniap_gemm_prof g;
    memset(&g, 0, sizeof(g));
    g.rank = rank;
    snprintf(g.dtype, sizeof(g.dtype), "%s", dtype);
    g.m = m, g.n = n, g.k = k;
    g.time.median = g.time.min = g.time.max = secs;
    g.time.count = 5;
    g.flops = 2.0 * (double)m * (double)n * (double)k / secs;
    CHECK_EQ(uniap_profile_add_gemm(p, &g), 0);
}

/* Two ranks of an A100 (312 TFLOP/s bf16, 19.5 fp32, 108 SMs, 128 x 128
 * tiles, spec fraction 0.74). */
static void a100_rows(uniap_profile *p)
{
    uniap_profile_init(p);
    p->world_size = 2;
    add(p, 0, "bf16", 8192, 8192, 8192, 0.0048);
    add(p, 1, "bf16", 8192, 8192, 8192, 0.0050); /* the slowest rank */
    add(p, 0, "bf16", 4096, 4096, 4096, 0.0008);
    add(p, 1, "bf16", 4096, 4096, 4096, 0.0007);
    add(p, 0, "fp32", 4096, 4096, 4096, 0.0095); /* the slowest rank */
    add(p, 1, "fp32", 4096, 4096, 4096, 0.0090);
}

static void test_a100(void)
{
    uniap_cluster c;
    uniap_profile p;
    uniap_gemm_calibration cal;
    cm_gemm_device d;

    CHECK_EQ(uniap_cluster_preset("a100-40g-1x8", &c), 0);
    a100_rows(&p);
    CHECK_EQ(uniap_gemm_calibrate(&p, &c, &cal), 0);
    /* 16-bit: 8192^3 is the largest; its slowest rank reached 2 x 8192^3
     * / 0.0050 s = 219.90 TFLOP/s. The model tiles 8192 x 8192 into 64 x
     * 64 = 4096 tiles of 128 x 128, 38 waves over 108 SMs pay 4104: util
     * 4096/4104. frac = 219.90e12 / (312e12 x 4096/4104) = 0.70619. */
    const double u8 = 4096.0 / 4104, u4 = 1024.0 / 1080; /* 4096^2: 1024 tiles, 10 waves */
    const double frac = 2.0 * 8192 * 8192 * 8192 / 0.0050 / (312e12 * u8);
    CHECK_NEAR(frac, 0.70619, 1e-5, 0);
    CHECK_EQ(cal.half.rows, 4);
    CHECK_EQ(cal.half.applied, 1);
    CHECK(strcmp(cal.half.field, "gemm_efficiency") == 0);
    CHECK(cal.half.m == 8192 && cal.half.n == 8192 && cal.half.k == 8192);
    CHECK(strcmp(cal.half.dtype, "bf16") == 0);
    CHECK_NEAR(cal.half.achieved, 2.0 * 8192 * 8192 * 8192 / 0.0050, 1e-12, 0);
    CHECK_NEAR(cal.half.util, u8, 1e-12, 0);
    CHECK_NEAR(cal.half.frac, frac, 1e-12, 0);
    CHECK_NEAR(cal.half.spec_frac, 0.74, 0, 0);
    /* the model with frac times 4096^3 at 0.0050 / 8 x u8 / u4 = 0.00065790 s;
     * rank 0 measured 0.0008: 1.2160 times the model, the worst row */
    CHECK_NEAR(cal.half.worst_ratio, 0.0008 / (0.0050 / 8 * u8 / u4), 1e-12, 0);
    CHECK_NEAR(cal.half.worst_ratio, 1.2160, 1e-4, 0);
    CHECK(cal.half.worst_m == 4096 && cal.half.worst_k == 4096);
    /* fp32 at its own peak: 2 x 4096^3 / 0.0095 s = 14.467 TFLOP/s over
     * 19.5e12 x 1024/1080 = 0.78248 */
    const double frac32 = 2.0 * 4096 * 4096 * 4096 / 0.0095 / (19.5e12 * u4);
    CHECK_NEAR(frac32, 0.78248, 1e-5, 0);
    CHECK_EQ(cal.fp32.rows, 2);
    CHECK_EQ(cal.fp32.applied, 1);
    CHECK(strcmp(cal.fp32.field, "gemm_efficiency_fp32") == 0);
    CHECK_NEAR(cal.fp32.frac, frac32, 1e-12, 0);
    CHECK_NEAR(cal.fp32.peak, 19.5e12, 0, 0);

    /* applied: the cluster's fractions replaced, and the analytic model
     * built from it reproduces the measured times of the largest GEMMs */
    uniap_cluster spec = c;
    CHECK_EQ(uniap_cluster_calibrate_gemm(&c, &p, NULL), 0);
    CHECK_NEAR(c.gemm_efficiency, frac, 1e-12, 0);
    CHECK_NEAR(c.gemm_efficiency_fp32, frac32, 1e-12, 0);
    uniap__cm_gemm_device(&c, 0, &d);
    cm_gemm big = {8192, 8192, 8192, 1, 0}, mid = {4096, 4096, 4096, 1, 0};
    CHECK_NEAR(uniap__cm_gemm_seconds(&d, &big), 0.0050, 1e-12, 0);
    uniap__cm_gemm_device(&c, 1, &d);
    CHECK_NEAR(uniap__cm_gemm_seconds(&d, &mid), 0.0095, 1e-12, 0);
    /* a layer's GEMM time scales by spec / measured fraction */
    uniap_layer l;
    memset(&l, 0, sizeof(l));
    l.kind = UNIAP_LAYER_DECODER, l.count = 1, l.hidden = 1024, l.seq = 512;
    l.heads = l.kv_heads = 16, l.head_dim = 64, l.ffn = 4096;
    double f0, b0, f1, b1;
    cm_gemm_device d0;
    uniap__cm_gemm_device(&spec, 0, &d0);
    uniap__cm_gemm_device(&c, 0, &d);
    uniap__cm_gemm_layer_seconds(&d0, &l, 2048, 1, 0, &f0, &b0);
    uniap__cm_gemm_layer_seconds(&d, &l, 2048, 1, 0, &f1, &b1);
    CHECK(f0 > 0 && b0 > 0);
    CHECK_NEAR(f1 / f0, 0.74 / frac, 1e-12, 0);
    CHECK_NEAR(b1 / b0, 0.74 / frac, 1e-12, 0);
    uniap_profile_free(&p);
}

static void test_rules(void)
{
    uniap_cluster c;
    uniap_profile p;
    uniap_gemm_calibration cal;

    /* equal m n k: 1536 x 1152 x 4096 fills one wave (12 x 9 = 108 tiles,
     * util 1); 4096 x 1536 x 1152 has 32 x 12 = 384 tiles, 4 waves pay
     * 432 (util 8/9). Both in 1e-4 s: 144.96 TFLOP/s; the second's
     * fraction is the higher, 144.96e12 / (312e12 x 8/9) = 0.52268. */
    CHECK_EQ(uniap_cluster_preset("a100-40g-1x8", &c), 0);
    uniap_profile_init(&p);
    add(&p, 0, "fp16", 1536, 1152, 4096, 1e-4);
    add(&p, 0, "fp16", 4096, 1536, 1152, 1e-4);
    CHECK_EQ(uniap_gemm_calibrate(&p, &c, &cal), 0);
    CHECK(cal.half.m == 4096 && cal.half.n == 1536);
    CHECK_NEAR(cal.half.frac, 2.0 * 1536 * 1152 * 4096 / 1e-4 / (312e12 * 8.0 / 9), 1e-12, 0);
    CHECK_NEAR(cal.half.frac, 0.52268, 1e-5, 0);
    CHECK_EQ(cal.fp32.rows, 0);
    CHECK_EQ(cal.fp32.applied, 0);
    /* faster than peak x util (0.95 of peak at util 8/9): capped at 1 */
    p.gemm[1].time.median = 2.0 * 1536 * 1152 * 4096 / (0.95 * 312e12);
    p.gemm[1].flops = 0.95 * 312e12;
    CHECK_EQ(uniap_gemm_calibrate(&p, &c, &cal), 0);
    CHECK_NEAR(cal.half.frac, 1.0, 0, 0);
    /* above the peak itself: the peak or the device is wrong */
    p.gemm[1].flops = 1.2 * 312e12;
    uniap_err_clear();
    CHECK_EQ(uniap_gemm_calibrate(&p, &c, &cal), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "/gemm row 1 (4096x1536x1152 fp16, rank 0)");
    CHECK_STR_CONTAINS(uniap_errmsg(), "a100-40g-1x8");
    uniap_err_clear();
    uniap_profile_free(&p);

    /* fp32 rows and no fp32 peak: the model runs fp32 at peak_flops x
     * gemm_efficiency, so they stand for gemm_efficiency: 2 x 4096^3 /
     * 0.0095 s / (312e12 x 1024/1080) = 0.048905 */
    c.peak_flops_fp32 = 0;
    uniap_profile_init(&p);
    add(&p, 0, "fp32", 4096, 4096, 4096, 0.0095);
    uniap_cluster before = c;
    CHECK_EQ(uniap_cluster_calibrate_gemm(&c, &p, &cal), 0);
    CHECK(strcmp(cal.fp32.field, "gemm_efficiency") == 0);
    CHECK_NEAR(c.gemm_efficiency, 2.0 * 4096 * 4096 * 4096 / 0.0095 / (312e12 * 1024 / 1080), 1e-12,
               0);
    CHECK_NEAR(c.gemm_efficiency, 0.048905, 1e-5, 0);
    CHECK_NEAR(c.gemm_efficiency_fp32, before.gemm_efficiency_fp32, 0, 0);
    /* ... but 16-bit rows beside them describe gemm_efficiency */
    c = before;
    add(&p, 0, "bf16", 4096, 4096, 4096, 0.0008);
    CHECK_EQ(uniap_cluster_calibrate_gemm(&c, &p, &cal), 0);
    CHECK_EQ(cal.fp32.applied, 0);
    CHECK_NEAR(c.gemm_efficiency, 2.0 * 4096 * 4096 * 4096 / 0.0008 / (312e12 * 1024 / 1080), 1e-12,
               0);

    /* no peak at all: refused, the cluster unchanged */
    c = before;
    c.peak_flops = 0;
    uniap_err_clear();
    CHECK_EQ(uniap_cluster_calibrate_gemm(&c, &p, &cal), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "has no peak_flops");
    CHECK_NEAR(c.gemm_efficiency, before.gemm_efficiency, 0, 0);
    uniap_err_clear();
    uniap_profile_free(&p);

    /* no rows (a 1.1 profile, --skip-gemm): EMISSING */
    uniap_profile_init(&p);
    CHECK_EQ(uniap_gemm_calibrate(&p, &c, &cal), UNIAP_EMISSING);
    CHECK_STR_CONTAINS(uniap_errmsg(), "no /gemm rows");
    uniap_err_clear();
    uniap_profile_free(&p);
}

int main(void)
{
    test_a100();
    test_rules();
    return check_report();
}
