/*
 * prof_layers.c - one layer measurement of the sweep on this rank: builds
 * the layer at its tensor-parallel shard and micro-batch on the chosen
 * backend, times warm-up + timed forward/backward passes and fills the
 * profile row (median/min/max seconds, activation, peak and parameter
 * bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"
#include "cpu_measure.h"
#include "prof_driver.h"
#include "prof_util.h"
#ifdef UNIAP_HAVE_CUDA
#include "cuda/cuda_layers.h"
#endif

int prof_measure_layer(const prof_options *o, const uniap_model *m, const prof_item *it, int rank,
                       uniap_layer_prof *row)
{
    const uniap_layer *l = &m->runs[it->run];
    int rc, iters = o->layer_iters;
    double *fwd = calloc((size_t)iters, sizeof(double)),
           *bwd = calloc((size_t)iters, sizeof(double)),
           *wgrad = calloc((size_t)iters, sizeof(double));
    int has_wgrad = 0; /* both backends time W apart (a build without CUDA kernels: none) */
    prof_layer_memory mem = {0};
    if (!fwd || !bwd || !wgrad) {
        rc = uniap_err(UNIAP_ENOMEM, "profiler: timing arrays");
        goto free_times;
    }
    /* the same seed on every rank: ranks measure the same computation */
    uint64_t seed =
        1000003u * (uint64_t)(it->run + 1) + 1009u * (uint64_t)it->tp + (uint64_t)it->mb;
    if (o->backend == PROF_BACKEND_CUDA) {
#ifdef UNIAP_HAVE_CUDA_LAYERS
        rc = prof_cuda_layer_measure(l, m->seq_len, it->tp, it->mb, seed, o->layer_warmup, iters,
                                     fwd, bwd, wgrad, &mem);
        has_wgrad = 1;
#else
        rc = uniap_err(UNIAP_EINVAL, "profiler: --backend cuda: this build has no CUDA layer "
                                     "kernels; use --skip-layers to measure NCCL collectives");
#endif
    } else {
        prof_cpu_layer *L = NULL;
        rc = prof_cpu_layer_create(l, m->seq_len, it->tp, it->mb, seed, &L);
        if (rc == 0)
            rc = prof_cpu_layer_measure(L, o->layer_warmup, iters, fwd, bwd, wgrad, &mem);
        has_wgrad = 1;
        prof_cpu_layer_destroy(L);
    }
    if (rc < 0) {
        uniap_err(rc, "layer %s at tp %d, micro-batch %d", it->sig, it->tp, it->mb);
        goto free_times;
    }
    memset(row, 0, sizeof(*row));
    snprintf(row->layer_type, sizeof(row->layer_type), "%s", it->sig);
    row->tp = it->tp;
    row->micro_batch = it->mb;
    row->rank = rank;
    row->fwd = prof_stat_of(fwd, iters);
    row->bwd = prof_stat_of(bwd, iters);
    if (has_wgrad)
        row->wgrad = prof_stat_of(wgrad, iters);
    row->act_bytes = mem.act_bytes;
    row->peak_bytes = mem.peak_bytes;
    row->param_bytes = mem.param_count * uniap_dtype_bytes(m->param_dtype);
free_times:
    free(fwd);
    free(bwd);
    free(wgrad);
    return rc;
}
