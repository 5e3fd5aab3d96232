/*
 * prof_gemm.c - the GEMM sweep of `uniap profile`: a few GEMM shapes timed
 * on every rank, like the layer kernels, so that the analytic device
 * model's achievable fraction of peak can be taken from the device itself
 * (costmodel/gemm_eff.c, uniap_cluster_calibrate_gemm) rather than from
 * public cuBLAS figures. Each row is stored in the profile's /gemm table
 * (format 1.2).
 *
 * What is timed: row-major C[m x n] = A[m x k] B[k x n], no transposes,
 * beta 0, A and B filled with the same pseudo-random values in [-1, 1) on
 * every rank (a zero matrix would let some hardware save power, not
 * time). CPU: OpenBLAS cblas_sgemm (fp32, the CPU kernels' dtype) on the
 * rank's share of the cores (prof_sweep.c sets the threads). CUDA:
 * cublasGemmEx in the model's activation dtype with fp32 accumulation
 * (cuda/cuda_gemm.cu).
 *
 * Timing, as the layers: o->layer_warmup untimed GEMMs, then
 * o->layer_iters timed passes, stored as median/min/max. A GEMM much
 * shorter than the clock's resolution or the launch latency would measure
 * those, so each pass runs r GEMMs back to back and stores the pass's
 * time / r, with r chosen once from one timed GEMM after the warm-up so
 * that a pass lasts at least PROF_GEMM_PASS_S (on a CPU core r = 1 from
 * about 0.05 GFLOP up).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "prof_driver.h"
#include "prof_util.h"
#ifdef UNIAP_HAVE_CUDA
#include "cuda/cuda_gemm.h"
#endif

#define PROF_GEMM_PASS_S   1e-3 /* a timed pass lasts at least this long */
#define PROF_GEMM_MAX_REPS 1000

/* CPU default: squares 128..768 and three GEMMs of a transformer block of
 * width h = 256 over 512 tokens (QKV 3h, MLP up 4h, MLP down): 1.95 GFLOP
 * per set of all shapes; the warm-up, the repetition count and 5 timed
 * passes run 7 sets, ~14 GFLOP, ~0.4 s per rank at ~35 GFLOP/s a core
 * (one OpenBLAS thread per rank on a 2-core machine with 2 ranks). */
static const prof_gemm_shape cpu_shapes[] = {
    {128, 128, 128}, {256, 256, 256},  {512, 512, 512},  {768, 768, 768},
    {512, 768, 256}, {512, 1024, 256}, {512, 256, 1024},
};
/* CUDA default: squares 512..8192 and the GEMMs of a Llama-7B block
 * (h = 4096, SwiGLU ffn 11008) over 8192 tokens (micro-batch 4 x 2048):
 * QKV 3h, attention output h, MLP up (one branch) and down. */
static const prof_gemm_shape cuda_shapes[] = {
    {512, 512, 512},    {1024, 1024, 1024},  {2048, 2048, 2048},
    {4096, 4096, 4096}, {8192, 8192, 8192},  {8192, 12288, 4096},
    {8192, 4096, 4096}, {8192, 11008, 4096}, {8192, 4096, 11008},
};

void prof_gemm_default_shapes(prof_options *o)
{
    const prof_gemm_shape *d = o->backend == PROF_BACKEND_CUDA ? cuda_shapes : cpu_shapes;
    int n = o->backend == PROF_BACKEND_CUDA ? (int)(sizeof(cuda_shapes) / sizeof(cuda_shapes[0]))
                                            : (int)(sizeof(cpu_shapes) / sizeof(cpu_shapes[0]));
    if (o->n_gemm > 0)
        return;
    memcpy(o->gemm, d, sizeof(*d) * (size_t)n);
    o->n_gemm = n;
}

uniap_dtype prof_gemm_dtype(const prof_options *o, const uniap_model *m)
{
    return o->backend == PROF_BACKEND_CUDA ? m->act_dtype : UNIAP_DTYPE_FP32;
}

void prof_gemm_label(const prof_item *it, char *buf, size_t n)
{
    snprintf(buf, n, "gemm %lldx%lldx%lld %s", (long long)it->gemm.m, (long long)it->gemm.n,
             (long long)it->gemm.k, uniap_dtype_name(it->gemm_dtype));
}

/* Values in [-1, 1) from (seed, i): splitmix64's finalizer. */
static float fill_value(uint64_t seed, uint64_t i)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (i + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)((double)(z >> 11) / 4503599627370496.0 - 1.0); /* 2^52 */
}

/* One timed run of reps GEMMs on the CPU, seconds per GEMM. */
static double cpu_pass(const prof_gemm_shape *s, const float *A, const float *B, float *C, int reps)
{
    double t0 = prof_now();
    for (int r = 0; r < reps; r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)s->m, (blasint)s->n,
                    (blasint)s->k, 1.0f, A, (blasint)s->k, B, (blasint)s->n, 0.0f, C,
                    (blasint)s->n);
    return (prof_now() - t0) / reps;
}

static int cpu_gemm_measure(const prof_gemm_shape *s, uint64_t seed, int warmup, int iters,
                            double *secs)
{
    size_t na = (size_t)(s->m * s->k), nb = (size_t)(s->k * s->n), nc = (size_t)(s->m * s->n);
    float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb),
          *C = malloc(sizeof(float) * nc);
    int rc = 0;

    if (!A || !B || !C) {
        rc = uniap_err(UNIAP_ENOMEM, "out of memory for the matrices (%.0f MiB)",
                       4.0 * (double)(na + nb + nc) / (1 << 20));
        goto free_mats;
    }
    for (size_t i = 0; i < na; i++)
        A[i] = fill_value(seed, i);
    for (size_t i = 0; i < nb; i++)
        B[i] = fill_value(seed ^ 0x5bd1e995u, i);
    for (int w = 0; w < warmup; w++)
        cpu_pass(s, A, B, C, 1);
    double t1 = cpu_pass(s, A, B, C, 1);
    int reps = t1 > 0 ? (int)ceil(PROF_GEMM_PASS_S / t1) : PROF_GEMM_MAX_REPS;
    reps = reps < 1 ? 1 : reps > PROF_GEMM_MAX_REPS ? PROF_GEMM_MAX_REPS : reps;
    for (int i = 0; i < iters; i++)
        secs[i] = cpu_pass(s, A, B, C, reps);
free_mats:
    free(A);
    free(B);
    free(C);
    return rc;
}

int prof_measure_gemm(const prof_options *o, const prof_item *it, int rank, uniap_gemm_prof *row)
{
    const prof_gemm_shape *s = &it->gemm;
    int rc, iters = o->layer_iters;
    double *secs = calloc((size_t)iters, sizeof(double));
    char label[96];

    if (!secs)
        return uniap_err(UNIAP_ENOMEM, "profiler: GEMM timing array");
    /* the same seed on every rank: ranks measure the same computation */
    uint64_t seed = 0x51ed270bu ^ (uint64_t)(s->m * 31 + s->n * 17 + s->k);
    if (o->backend == PROF_BACKEND_CUDA) {
#ifdef UNIAP_HAVE_CUDA
        rc = prof_cuda_gemm_measure(s->m, s->n, s->k, it->gemm_dtype, seed, o->layer_warmup, iters,
                                    secs);
#else
        rc = uniap_err(UNIAP_EINVAL, "--backend cuda: this build has no CUDA backend");
#endif
    } else {
        rc = cpu_gemm_measure(s, seed, o->layer_warmup, iters, secs);
    }
    if (rc < 0) {
        prof_gemm_label(it, label, sizeof(label));
        uniap_err(rc, "profiler: %s", label);
        goto free_secs;
    }
    memset(row, 0, sizeof(*row));
    row->rank = rank;
    snprintf(row->dtype, sizeof(row->dtype), "%s", uniap_dtype_name(it->gemm_dtype));
    row->m = s->m, row->n = s->n, row->k = s->k;
    row->time = prof_stat_of(secs, iters);
    if (!(row->time.min > 0)) {
        prof_gemm_label(it, label, sizeof(label));
        rc = uniap_err(UNIAP_EINTERNAL, "profiler: %s: a timed pass took %g s (clock?)", label,
                       row->time.min);
        goto free_secs;
    }
    row->flops = 2.0 * (double)s->m * (double)s->n * (double)s->k / row->time.median;
free_secs:
    free(secs);
    return rc;
}
