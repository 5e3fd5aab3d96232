/*
 * test_mfu.c - model FLOPs and MFU (costmodel/mfu.c) against published
 * formulas: GPT-3 175B's iteration FLOPs equal Narayanan et al. 2021's
 * 72 B s l h^2 (1 + s/(6h) + V/(12 l h)) (their equation without the
 * recomputation factor 4/3); Llama-2-70B-shaped GQA + SwiGLU blocks the
 * PaLM count 6N + 12 L H Q T per token worked by hand; the MFU of a given
 * TPI is those FLOPs over devices x peak x TPI; no peak: 0.
 */
#include <math.h>

#include "check.h"
#include "uniap_costmodel.h"

int main(void)
{
    uniap_model m;
    uniap_cluster c;

    CHECK_EQ(uniap_zoo_model("gpt3-175b", &m), 0);
    double B = 1536, s = 2048, l = 96, h = 12288, V = 50257;
    double want = 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h));
    CHECK_NEAR(uniap_model_flops(&m, 1536), want, 1e-12, 0);
    CHECK_EQ(uniap_cluster_preset("a100-80g-2x8", &c), 0);
    /* 16 A100 at 312 TFLOP/s for 100 s */
    CHECK_NEAR(uniap_mfu(&m, &c, 1536, 100.0), want / (16 * 312e12 * 100.0), 1e-12, 0);
    CHECK(uniap_mfu(&m, &c, 1536, 0.0) == 0.0);
    c.peak_flops = 0;
    CHECK(uniap_mfu(&m, &c, 1536, 100.0) == 0.0);
    uniap_model_free(&m);

    /* llama-70b (zoo): h 8192, 64 heads of 128, 8 kv heads, ffn 28672,
     * 80 blocks, vocab 32000, s 4096. Per token: 6 x (weights of the
     * blocks' matmuls + the head's h V) + 12 L H Q s (PaLM appendix B) */
    CHECK_EQ(uniap_zoo_model("llama-70b", &m), 0);
    double H = 8192, q = 64 * 128, kv = 8 * 128, f = 28672, L = 80, T = 4096;
    double N = L * (H * q + 2 * H * kv + q * H + 3 * H * f) + H * 32000;
    double per_token = 6 * N + 12 * L * q * T;
    CHECK_NEAR(uniap_model_flops(&m, 8), 8 * T * per_token, 1e-12, 0);
    uniap_model_free(&m);
    return check_report();
}
