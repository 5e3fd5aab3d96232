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
 * When a measured profile holds a GEMM sweep (/gemm, format 1.2), the
 * achievable fraction comes from the device's own measurements instead
 * (uniap_cluster_calibrate_gemm, at the end of this file).
 *
 * Nothing here is fitted to end-to-end training throughput.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

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
    out->lin_peak = out->lin_frac = 0.0; /* every GEMM at peak x frac */
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

/* FLOP/s a GEMM reaches before quantization: the Linear GEMMs at their
 * own rate where set (FP8), the rest at the 16-bit (or fp32) one. */
static double rate_of(const cm_gemm_device *d, int attn)
{
    return !attn && d->lin_peak > 0 ? d->lin_peak * d->lin_frac : d->peak * d->frac;
}

double uniap__cm_gemm_seconds(const cm_gemm_device *d, const cm_gemm *g)
{
    double flops = 2.0 * g->m * g->n * g->k * g->batch;
    if (!(flops > 0))
        return 0.0;
    return flops / (rate_of(d, g->attn) * uniap__cm_gemm_util(d, g->m, g->n, g->batch));
}

/* ---- FP8 (Transformer Engine, Megatron-LM --fp8-format hybrid) ----
 *
 * What runs in FP8: the Linear layers' GEMMs only, forward (E4M3) and
 * both backward GEMMs (data and weight gradients, E5M2 gradients):
 * Transformer Engine's Linear / LayerNormLinear / LayerNormMLP call
 * fp8_gemm under fp8_autocast, while its DotProductAttention (the
 * attention core, flash or not), the norms and the element-wise kernels
 * stay in 16 bits (TE user guide, "Using FP8 with Transformer Engine":
 * FP8 is applied to the GEMMs). In this model that is exactly the split
 * the cost descriptors already make: cm_gemm.attn 0 (QKV, output
 * projection, MLP) at the FP8 rate, attn 1 (Q K^T, scores x V, or the
 * fused flash kernel) and the memory-bound bytes at the 16-bit figures.
 * Wave quantization is the same: the tile counts of the output do not
 * change with the input type (an assumption: FP8 kernels may pick other
 * tiles). Rates: [FP8] in io/cluster_spec.c. */
void uniap__cm_gemm_device_fp8(const uniap_cluster *c, cm_gemm_device *out)
{
    uniap__cm_gemm_device(c, 0, out);
    out->lin_peak = c->peak_flops_fp8;
    out->lin_frac = c->gemm_efficiency_fp8 > 0 ? c->gemm_efficiency_fp8 : out->frac;
}

int uniap__cm_fp8_check(const uniap_model *m, const uniap_cluster *c, const char *what)
{
    if (!m->training.fp8 || c->peak_flops_fp8 > 0)
        return UNIAP_OK;
    return uniap_err(UNIAP_EINVAL,
                     "%s: model '%s' trains in FP8 (--precision fp8), but cluster '%s' (%s) has "
                     "no peak_flops_fp8: FP8 GEMMs need FP8 tensor cores (H100, H200); give the "
                     "device's dense FP8 FLOP/s in the cluster spec, or plan with --precision "
                     "bf16",
                     what, m->name, c->name, c->device_name);
}

double uniap__cm_linear_weights(const uniap_layer *l, int tp)
{
    const cm_layer_kind *kd = uniap__cm_layer_kind(l->kind);
    cm_gemm g[CM_MAX_GEMMS];
    double w = 0.0;
    int n = kd->gemms ? kd->gemms(l, 1.0, tp, g) : 0;
    for (int i = 0; i < n && i < CM_MAX_GEMMS; i++)
        if (!g[i].attn)
            w += g[i].k * g[i].n * g[i].batch;
    return w;
}

void uniap__cm_fp8_cast_bytes(const uniap_layer *l, double tokens, int tp, double *fwd, double *bwd)
{
    const cm_layer_kind *kd = uniap__cm_layer_kind(l->kind);
    cm_gemm g[CM_MAX_GEMMS];
    int n = l->fp8 && kd->gemms ? kd->gemms(l, tokens, tp, g) : 0;
    *fwd = *bwd = 0.0;
    for (int i = 0; i < n && i < CM_MAX_GEMMS; i++) {
        if (g[i].attn)
            continue;
        *fwd += 4.0 * g[i].m * g[i].k * g[i].batch; /* input: 2 read + 1 + 1 written */
        *bwd += 4.0 * g[i].m * g[i].n * g[i].batch; /* output gradient, the same */
    }
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
        /* no GEMM list, no split of the Linear GEMMs from the attention
         * core: all at the 16-bit rate (FP8 speeds nothing up here; the
         * kinds FP8 applies to with a list: blocks, swin) */
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

double uniap__cm_gemm_layer_wgrad_seconds(const cm_gemm_device *d, const uniap_layer *l,
                                          double tokens, int tp)
{
    const cm_layer_kind *kd = uniap__cm_layer_kind(l->kind);
    cm_gemm g[CM_MAX_GEMMS];
    double w = 0.0;

    if (!kd->gemms)
        return (kd->gemm_flops ? kd->gemm_flops(l) : 0.0) / tp * tokens / (d->peak * d->frac);
    int n = kd->gemms(l, tokens, tp, g);
    for (int i = 0; i < n && i < CM_MAX_GEMMS; i++)
        if (!g[i].attn) {
            cm_gemm wgrad = {g[i].k, g[i].n, g[i].m, g[i].batch, 0};
            w += uniap__cm_gemm_seconds(d, &wgrad);
        }
    return w;
}

/* ---- calibration from a profile's measured GEMMs (/gemm, format 1.2) ----
 *
 * Rule. The model times a GEMM as 2 m n k / (peak x frac x util(m, n));
 * a /gemm row (profiler/prof_gemm.c: the profiler's own cuBLAS or OpenBLAS
 * sweep on the device) gives 2 m n k / t directly. For the largest
 * measured GEMM (the most m n k; of equal ones the higher fraction), the
 * kind of GEMM the spec's public figure describes ([GEMM] in
 * io/cluster_spec.c: large cuBLAS matmuls), frac = achieved / (peak x
 * util): the model then reproduces that GEMM's measured time exactly, and
 * the tile and wave loss it already predicts (util) is not counted a
 * second time inside frac. achieved is the slowest rank's (the least
 * FLOP/s among the rows of that shape), as the cost model reads several
 * ranks' layer rows (method.md §6.2). frac is capped at 1 (a GEMM faster
 * than peak x util means the quantization overstated its loss; the field
 * stays a fraction of peak). No further shape dependence is fitted: the
 * sweep's smaller shapes are slower than the model for reasons it does not
 * have (launch latency, memory-bound reductions), and worst_ratio reports
 * by how much, so that a reader can judge the single fraction.
 */
static int is_half(const char *dtype)
{
    return strcmp(dtype, "bf16") == 0 || strcmp(dtype, "fp16") == 0;
}

static int same_shape(const uniap_gemm_prof *a, const uniap_gemm_prof *b)
{
    return a->m == b->m && a->n == b->n && a->k == b->k && strcmp(a->dtype, b->dtype) == 0;
}

/* The least FLOP/s among the rows of row i's shape and dtype. */
static double slowest(const uniap_profile *p, int i)
{
    double f = p->gemm[i].flops;
    for (int j = 0; j < p->n_gemm; j++)
        if (same_shape(&p->gemm[j], &p->gemm[i]) && p->gemm[j].flops < f)
            f = p->gemm[j].flops;
    return f;
}

/* The fit of one class (half: 16-bit rows, else fp32) against f->peak
 * (set by the caller; 0: counts the rows only). */
static int fit_class(const uniap_profile *p, const uniap_cluster *c, int half, uniap_gemm_fit *f)
{
    cm_gemm_device d;
    double best = -1.0, best_mnk = 0.0;

    uniap__cm_gemm_device(c, !half, &d);
    for (int i = 0; i < p->n_gemm; i++) {
        const uniap_gemm_prof *g = &p->gemm[i];
        if (is_half(g->dtype) != half)
            continue;
        f->rows++;
        if (!(f->peak > 0))
            continue;
        if (g->flops > f->peak)
            return uniap_err(UNIAP_EINVAL,
                             "cluster '%s': /gemm row %d (%lldx%lldx%lld %s, rank %d) reached %g "
                             "FLOP/s, above its %s peak %g: the peak is wrong or the profile is "
                             "of another device",
                             c->name, i, (long long)g->m, (long long)g->n, (long long)g->k,
                             g->dtype, g->rank, g->flops, half ? "16-bit" : "fp32", f->peak);
        double mnk = (double)g->m * (double)g->n * (double)g->k;
        double util = uniap__cm_gemm_util(&d, (double)g->m, (double)g->n, 1.0);
        double frac = slowest(p, i) / (f->peak * util);
        if (mnk > best_mnk || (mnk == best_mnk && frac > best)) {
            best_mnk = mnk, best = frac;
            f->m = g->m, f->n = g->n, f->k = g->k;
            snprintf(f->dtype, sizeof(f->dtype), "%s", g->dtype);
            f->achieved = slowest(p, i);
            f->util = util;
        }
    }
    if (best < 0)
        return UNIAP_OK;
    f->frac = best < 1.0 ? best : 1.0;
    /* how far the calibrated model is from every measured row */
    for (int i = 0; i < p->n_gemm; i++) {
        const uniap_gemm_prof *g = &p->gemm[i];
        if (is_half(g->dtype) != half)
            continue;
        double flops = 2.0 * (double)g->m * (double)g->n * (double)g->k;
        double model =
            flops / (f->peak * f->frac * uniap__cm_gemm_util(&d, (double)g->m, (double)g->n, 1.0));
        if (g->time.median / model > f->worst_ratio) {
            f->worst_ratio = g->time.median / model;
            f->worst_m = g->m, f->worst_n = g->n, f->worst_k = g->k;
        }
    }
    return UNIAP_OK;
}

int uniap_gemm_calibrate(const uniap_profile *p, const uniap_cluster *c,
                         uniap_gemm_calibration *out)
{
    uniap_gemm_fit *h = &out->half, *s = &out->fp32;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!p || p->n_gemm < 1)
        return uniap_err(UNIAP_EMISSING,
                         "the profile has no /gemm rows to calibrate the GEMM efficiency with "
                         "(format 1.2: measured by uniap profile without --skip-gemm)");
    h->field = "gemm_efficiency";
    h->peak = c->peak_flops;
    h->spec_frac = c->gemm_efficiency;
    /* fp32 at its own peak when known, else as the model runs it: at
     * peak_flops x gemm_efficiency (uniap__cm_gemm_device) */
    s->field = c->peak_flops_fp32 > 0 ? "gemm_efficiency_fp32" : "gemm_efficiency";
    s->peak = c->peak_flops_fp32 > 0 ? c->peak_flops_fp32 : c->peak_flops;
    s->spec_frac = c->peak_flops_fp32 > 0 ? c->gemm_efficiency_fp32 : c->gemm_efficiency;
    if ((rc = fit_class(p, c, 1, h)) < 0 || (rc = fit_class(p, c, 0, s)) < 0)
        return rc;
    h->applied = h->rows > 0 && h->peak > 0;
    /* fp32 rows share gemm_efficiency with the 16-bit ones without an fp32
     * peak: the 16-bit rows describe it */
    s->applied = s->rows > 0 && s->peak > 0 && (c->peak_flops_fp32 > 0 || h->rows == 0);
    if (!h->applied && !s->applied)
        return uniap_err(UNIAP_EINVAL,
                         "cluster '%s' has no %s: the profile's /gemm rows (%d of 16-bit, %d of "
                         "fp32) give FLOP/s, and a fraction of peak needs the peak",
                         c->name, h->rows ? "peak_flops" : "peak_flops_fp32 or peak_flops", h->rows,
                         s->rows);
    return UNIAP_OK;
}

int uniap_cluster_calibrate_gemm(uniap_cluster *c, const uniap_profile *p,
                                 uniap_gemm_calibration *out)
{
    uniap_gemm_calibration cal;
    int rc = uniap_gemm_calibrate(p, c, &cal);
    if (rc < 0)
        return rc;
    if (cal.half.applied)
        c->gemm_efficiency = cal.half.frac;
    if (cal.fp32.applied && c->peak_flops_fp32 > 0)
        c->gemm_efficiency_fp32 = cal.fp32.frac;
    else if (cal.fp32.applied)
        c->gemm_efficiency = cal.fp32.frac;
    if (out)
        *out = cal;
    return UNIAP_OK;
}
