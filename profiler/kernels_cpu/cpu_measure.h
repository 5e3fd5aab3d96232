/*
 * cpu_measure.h - timing a CPU layer's forward and backward (private to
 * profiler/): what the driver records per (layer, tp, micro-batch).
 */
#ifndef UNIAP_CPU_MEASURE_H
#define UNIAP_CPU_MEASURE_H

#include "cpu_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Memory of one micro-batch through the layer:
 *   act_bytes   what forward leaves for backward (the layer's kept
 *               activations, including the input it keeps a reference to;
 *               not its output, which the next layer counts as its input)
 *   peak_bytes  the most allocated at once during forward and backward on
 *               top of act_bytes (workspaces, output, gradients in flight)
 *   param_count parameter elements of the shard (tied weights excluded) */
typedef struct prof_layer_memory {
    int64_t act_bytes, peak_bytes, param_count;
} prof_layer_memory;

/* warmup untimed then iters timed forward+backward passes; fwd[i], bwd[i]
 * seconds of timed pass i; wgrad[i] (wgrad may be NULL) the part of bwd[i]
 * its Linear weight gradients took (the weight-gradient clock). */
int prof_cpu_layer_measure(prof_cpu_layer *L, int warmup, int iters, double *fwd, double *bwd,
                           double *wgrad, prof_layer_memory *mem);

#ifdef __cplusplus
}
#endif
#endif
