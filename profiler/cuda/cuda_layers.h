/*
 * cuda_layers.h - the CUDA backend's layer measurements (private to
 * profiler/, CUDA builds only): the same layer kinds as the CPU kernels
 * with cuBLAS GEMMs (bf16 in, fp32 accumulate, tensor cores) and the
 * project's own kernels for the rest, timed with CUDA events.
 */
#ifndef UNIAP_CUDA_LAYERS_H
#define UNIAP_CUDA_LAYERS_H

#include <stdint.h>

#include "cpu_measure.h"
#include "uniap_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Picks this rank's GPU: local_rank modulo the visible devices. EINVAL
 * when there is no GPU. */
int prof_cuda_select_device(int local_rank);
/* 1 when a CUDA device can be used, 0 otherwise (reason in why). */
int prof_cuda_available(char *why, size_t n);

/* 1 when layer kind k has CUDA kernels (cu_kinds[] in cuda_layers.cu). */
int prof_cuda_layer_kind_supported(uniap_layer_kind k);

/* A layer on the device, built from a CPU layer of the same shard (its
 * shapes and values; the CPU layer must outlive it). */
typedef struct cu_layer prof_cuda_layer;
int prof_cuda_layer_create(prof_cpu_layer *cpu, prof_cuda_layer **out);
void prof_cuda_layer_destroy(prof_cuda_layer *C);
/* One forward and backward from the CPU layer's dout; copies the output
 * (n_out floats) and the first input's gradient (when it has one, else
 * dx is untouched) back to the host. */
int prof_cuda_layer_run(prof_cuda_layer *C, float *out, float *dx);

/* Builds the layer on the current device and times warmup + iters passes
 * (CUDA events around forward and backward, and around each Linear's
 * weight-gradient GEMM and bias sum for wgrad, which may be NULL); memory
 * from the tracked device allocations. Same meaning of the outputs as the
 * CPU measurement (prof_cpu_layer_measure). */
int prof_cuda_layer_measure(const uniap_layer *l, int64_t seq, int tp, int micro_batch,
                            uint64_t seed, int warmup, int iters, double *fwd, double *bwd,
                            double *wgrad, prof_layer_memory *mem);

#ifdef __cplusplus
}
#endif
#endif
