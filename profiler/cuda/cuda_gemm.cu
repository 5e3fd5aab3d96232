/*
 * cuda_gemm.cu - the CUDA backend's GEMM sweep measurement (see
 * cuda_gemm.h and prof_gemm.c): device matrices filled by a kernel with
 * the same pseudo-random values as the CPU sweep, one cuBLAS handle per
 * shape, cublasGemmEx (row-major C = A B is column-major C^T = B^T A^T),
 * CUDA events around each timed pass.
 */
#include <math.h>
#include <string.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda_check.h"
#include "cuda_gemm.h"

#define PASS_S   1e-3 /* a timed pass lasts at least this long */
#define MAX_REPS 1000

/* Values in [-1, 1) from (seed, i): splitmix64's finalizer, as
 * prof_gemm.c. */
__device__ static float fill_value(uint64_t seed, uint64_t i)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (i + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)((double)(z >> 11) / 4503599627370496.0 - 1.0);
}

__device__ static void store(float *p, float v)
{
    *p = v;
}
__device__ static void store(__half *p, float v)
{
    *p = __float2half(v);
}
__device__ static void store(__nv_bfloat16 *p, float v)
{
    *p = __float2bfloat16(v);
}

template <typename T> __global__ void fill_kernel(T *p, int64_t n, uint64_t seed)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        store(p + i, fill_value(seed, (uint64_t)i));
}

/* What one measurement holds; released by release() whatever happened. */
typedef struct gemm_run {
    int64_t m, n, k;
    cudaDataType type;
    size_t elem;
    void *A, *B, *C;
    cublasHandle_t blas;
    cudaEvent_t start, stop;
} gemm_run;

static void release(gemm_run *g)
{
    if (g->start)
        cudaEventDestroy(g->start);
    if (g->stop)
        cudaEventDestroy(g->stop);
    if (g->blas)
        cublasDestroy(g->blas);
    cudaFree(g->A);
    cudaFree(g->B);
    cudaFree(g->C);
}

template <typename T> static void fill(void *p, int64_t n, uint64_t seed)
{
    fill_kernel<T><<<1024, 256>>>((T *)p, n, seed);
}

static int setup(gemm_run *g, uniap_dtype dtype, uint64_t seed)
{
    size_t free_b = 0, total_b = 0;
    int64_t na = g->m * g->k, nb = g->k * g->n, nc = g->m * g->n;
    g->type = dtype == UNIAP_DTYPE_FP32   ? CUDA_R_32F
              : dtype == UNIAP_DTYPE_FP16 ? CUDA_R_16F
                                          : CUDA_R_16BF;
    g->elem = dtype == UNIAP_DTYPE_FP32 ? 4 : 2;
    PROF_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    double need = (double)g->elem * (double)(na + nb + nc);
    if (need > 0.9 * (double)free_b)
        return uniap_err(UNIAP_ENOMEM, "the matrices need %.0f MiB, the device has %.0f MiB free",
                         need / (1 << 20), (double)free_b / (1 << 20));
    PROF_CUDA_CHECK(cudaMalloc(&g->A, g->elem * (size_t)na));
    PROF_CUDA_CHECK(cudaMalloc(&g->B, g->elem * (size_t)nb));
    PROF_CUDA_CHECK(cudaMalloc(&g->C, g->elem * (size_t)nc));
    if (dtype == UNIAP_DTYPE_FP32) {
        fill<float>(g->A, na, seed);
        fill<float>(g->B, nb, seed ^ 0x5bd1e995u);
    } else if (dtype == UNIAP_DTYPE_FP16) {
        fill<__half>(g->A, na, seed);
        fill<__half>(g->B, nb, seed ^ 0x5bd1e995u);
    } else {
        fill<__nv_bfloat16>(g->A, na, seed);
        fill<__nv_bfloat16>(g->B, nb, seed ^ 0x5bd1e995u);
    }
    PROF_CUDA_CHECK(cudaGetLastError());
    PROF_CUBLAS_CHECK(cublasCreate(&g->blas));
    PROF_CUDA_CHECK(cudaEventCreate(&g->start));
    PROF_CUDA_CHECK(cudaEventCreate(&g->stop));
    return 0;
}

/* reps GEMMs between two events; *secs: seconds per GEMM. */
static int pass(gemm_run *g, int reps, double *secs)
{
    const float alpha = 1.0f, beta = 0.0f;
    float ms = 0.0f;
    PROF_CUDA_CHECK(cudaEventRecord(g->start, 0));
    for (int r = 0; r < reps; r++)
        PROF_CUBLAS_CHECK(cublasGemmEx(g->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)g->n, (int)g->m,
                                       (int)g->k, &alpha, g->B, g->type, (int)g->n, g->A, g->type,
                                       (int)g->k, &beta, g->C, g->type, (int)g->n,
                                       CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    PROF_CUDA_CHECK(cudaEventRecord(g->stop, 0));
    PROF_CUDA_CHECK(cudaEventSynchronize(g->stop));
    PROF_CUDA_CHECK(cudaEventElapsedTime(&ms, g->start, g->stop));
    *secs = 1e-3 * (double)ms / reps;
    return 0;
}

static int timed(gemm_run *g, int warmup, int iters, double *secs)
{
    double t1 = 0.0;
    int rc;
    for (int w = 0; w < warmup; w++)
        if ((rc = pass(g, 1, &t1)) < 0)
            return rc;
    if ((rc = pass(g, 1, &t1)) < 0)
        return rc;
    int reps = t1 > 0 ? (int)ceil(PASS_S / t1) : MAX_REPS;
    reps = reps < 1 ? 1 : reps > MAX_REPS ? MAX_REPS : reps;
    for (int i = 0; i < iters; i++)
        if ((rc = pass(g, reps, &secs[i])) < 0)
            return rc;
    return 0;
}

extern "C" int prof_cuda_gemm_measure(int64_t m, int64_t n, int64_t k, uniap_dtype dtype,
                                      uint64_t seed, int warmup, int iters, double *secs)
{
    gemm_run g;
    int rc;
    memset(&g, 0, sizeof(g));
    g.m = m, g.n = n, g.k = k;
    if ((rc = setup(&g, dtype, seed)) == 0)
        rc = timed(&g, warmup, iters, secs);
    release(&g);
    return rc;
}
