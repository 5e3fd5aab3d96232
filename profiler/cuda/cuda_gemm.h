/*
 * cuda_gemm.h - the CUDA backend's GEMM sweep measurement (private to
 * profiler/, CUDA builds only; callable from C): one cublasGemmEx shape
 * timed with CUDA events (cuda_gemm.cu).
 */
#ifndef UNIAP_CUDA_GEMM_H
#define UNIAP_CUDA_GEMM_H

#include <stdint.h>

#include "uniap_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Times row-major C[m x n] = A[m x k] B[k x n] on the current device in
 * dtype (bf16, fp16: tensor cores, fp32 accumulation; fp32: plain FP32,
 * CUBLAS_COMPUTE_32F, no TF32, matching peak_flops_fp32), A and B filled
 * from seed: warmup untimed GEMMs, then iters passes of r back-to-back
 * GEMMs each (r chosen so that a pass lasts >= 1 ms), secs[i] = pass i's
 * seconds / r. Device memory is allocated and freed inside; ENOMEM when
 * the three matrices do not fit in the free device memory. */
int prof_cuda_gemm_measure(int64_t m, int64_t n, int64_t k, uniap_dtype dtype, uint64_t seed,
                           int warmup, int iters, double *secs);

#ifdef __cplusplus
}
#endif
#endif
