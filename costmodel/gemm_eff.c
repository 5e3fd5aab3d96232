/*
 * gemm_eff.c - the compute a device really reaches, for the analytic
 * device model (analytic.c): a GEMM runs at the device's peak times the
 * achievable fraction its vendor's BLAS reaches on large GEMMs (the
 * cluster spec's gemm_efficiency, taken from public cuBLAS benchmark
 * figures: io/cluster_spec.c [GEMM], benchmarks/README.md) times the
 * utilization its shape leaves after tiling the output into the SMs'
 * tiles and running them in waves of one tile per SM.
 *
 * Wave quantization (NVIDIA, "Matrix Multiplication Background User's
 * Guide", Deep Learning Performance docs, sections "Tile quantization" and
 * "Wave quantization"): an m x n output is computed in ceil(m/tm) x
 * ceil(n/tn) tiles, one per SM at a time; a GEMM of T tiles on S SMs runs
 * ceil(T/S) waves, each as long as a full one, so the work it pays for is
 * ceil(T/S) x S x tm x tn elements of which m x n are useful.
 *
 * Attention by implementation: eager attention runs Q K^T and the scores x
 * V as batched GEMMs (and moves the score tensor through memory: the
 * element-wise traffic of analytic.c); flash attention fuses both into
 * one kernel at its own measured fraction of peak (FlashAttention-2, Dao
 * 2023: up to 73 % forward, 63 % backward on A100), its backward 2.5x the
 * forward's FLOPs (the recomputed scores; FlashAttention-2 section 4.1
 * counts them so).
 *
 * Nothing here is fitted to end-to-end training throughput.
 */
#include <math.h>

#include "cm_internal.h"

#define DEFAULT_TILE 128 /* CUTLASS's default threadblock tile for tensor-op GEMMs */

void uniap__cm_gemm_device(const uniap_cluster *c, int fp32, cm_gemm_device *out)
{
    int use32 = fp32 && c->peak_flops_fp32 > 0;
    double frac =
        use32 && c->gemm_efficiency_fp32 > 0 ? c->gemm_efficiency_fp32 : c->gemm_efficiency;

    out->peak = use32 ? c->peak_flops_fp32 : c->peak_flops;
    out->sms = c->sm_count > 0 ? c->sm_count : 0;
    out->tile_m = c->gemm_tile_m > 0 ? c->gemm_tile_m : DEFAULT_TILE;
    out->tile_n = c->gemm_tile_n > 0 ? c->gemm_tile_n : DEFAULT_TILE;
    out->frac = frac > 0 ? frac : 1.0;
    /* flash attention's fractions are of the 16-bit peak (it runs in 16
     * bits only); with fp32 activations or unknown: the GEMMs' */
    out->flash_fwd = !use32 && c->flash_fwd_efficiency > 0 ? c->flash_fwd_efficiency : out->frac;
    out->flash_bwd = !use32 && c->flash_bwd_efficiency > 0 ? c->flash_bwd_efficiency : out->frac;
}

/* The tile side for an output side of dim elements: the configured side,
 * or the side rounded up to 16 (the tensor cores' MMA granularity) when
 * the output is narrower than a tile (cuBLAS then runs a narrower tile;
 * e.g. the scores x V product, head_dim 64 wide). */
static double tile_side(int tile, double dim)
{
    double r = ceil(dim / 16.0) * 16.0;
    return r < tile ? r : tile;
}

double uniap__cm_gemm_util(const cm_gemm_device *d, double m, double n, double batch)
{
    if (d->sms <= 0 || !(m > 0) || !(n > 0) || !(batch > 0))
        return 1.0;
    double tm = tile_side(d->tile_m, m), tn = tile_side(d->tile_n, n);
    double tiles = ceil(m / tm) * ceil(n / tn) * batch;
    double waves = ceil(tiles / d->sms);
    /* useful elements over the elements the waves pay for */
    return m * n * batch / (waves * d->sms * tm * tn);
}

double uniap__cm_gemm_seconds(const cm_gemm_device *d, const cm_gemm *g)
{
    double flops = 2.0 * g->m * g->n * g->k * g->batch;
    if (!(flops > 0))
        return 0.0;
    return flops / (d->peak * d->frac * uniap__cm_gemm_util(d, g->m, g->n, g->batch));
}

void uniap__cm_gemm_layer_seconds(const cm_gemm_device *d, const uniap_layer *l, double tokens,
                                  int tp, int flash, double *fwd, double *bwd)
{
    const cm_layer_kind *kd = uniap__cm_layer_kind(l->kind);
    cm_gemm g[CM_MAX_GEMMS];
    int n;

    *fwd = *bwd = 0.0;
    if (!kd->gemms) {
        double fl = (kd->gemm_flops ? kd->gemm_flops(l) : 0.0) / tp * tokens;
        *fwd = fl / (d->peak * d->frac);
        *bwd = 2.0 * *fwd; /* data and weight gradients */
        return;
    }
    n = kd->gemms(l, tokens, tp, g);
    for (int i = 0; i < n && i < CM_MAX_GEMMS; i++) {
        if (g[i].attn && flash) {
            double fl = 2.0 * g[i].m * g[i].n * g[i].k * g[i].batch;
            *fwd += fl / (d->peak * d->flash_fwd);
            *bwd += 2.5 * fl / (d->peak * d->flash_bwd);
            continue;
        }
        /* forward m x n (reduction k); data gradient m x k (reduction n);
         * weight gradient k x n (reduction m) */
        cm_gemm dgrad = {g[i].m, g[i].k, g[i].n, g[i].batch, g[i].attn};
        cm_gemm wgrad = {g[i].k, g[i].n, g[i].m, g[i].batch, g[i].attn};
        *fwd += uniap__cm_gemm_seconds(d, &g[i]);
        *bwd += uniap__cm_gemm_seconds(d, &dgrad) + uniap__cm_gemm_seconds(d, &wgrad);
    }
}
