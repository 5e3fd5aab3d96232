/*
 * mfu.c - model FLOPs utilization (issue 16 item 6): the FLOPs a training
 * iteration needs by the model alone, over what the devices could do in
 * the iteration's time. Model FLOPs per token: 3 x the forward GEMM FLOPs
 * of every layer (each layer kind's descriptor, costmodel/layer_kinds.c:
 * 2 per weight per token plus the attention core, QK^T and AV over the
 * full span), i.e. the standard 6N + attention count (PaLM, Chowdhery et
 * al. 2022, appendix B; for GPT it is Narayanan et al. 2021's
 * 72 B s l h^2 (1 + s/(6h) + V/(12 l h)) per iteration). Recomputation is
 * not counted (that would be hardware FLOPs utilization), nor the
 * element-wise work. The peak is the 16-bit one (fp32 models: the fp32
 * one), for FP8 training too (--precision fp8), as FP8 runs are usually
 * reported (torchtitan's MFU takes the device's BF16 peak whatever its
 * converters: get_peak_flops, torchtitan/tools/utils.py at 73a0e69, H100
 * SXM 989e12): the same model FLOPs over the same devices, so that bf16 and fp8
 * plans compare directly; against the FP8 peak (twice it on H100, H200)
 * an FP8 plan's MFU is half the figure.
 */
#include "cm_internal.h"

double uniap_model_flops(const uniap_model *m, int64_t global_batch)
{
    double per_sample = 0.0;
    if (!m || global_batch < 1)
        return 0.0;
    for (int r = 0; r < m->n_runs; r++) {
        const uniap_layer *l = &m->runs[r];
        const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
        if (d && d->gemm_flops)
            per_sample += 3.0 * d->gemm_flops(l) * (double)l->seq * l->count;
    }
    return per_sample * (double)global_batch;
}

double uniap_mfu(const uniap_model *m, const uniap_cluster *c, int64_t global_batch, double tpi)
{
    double peak = m && m->param_dtype == UNIAP_DTYPE_FP32 && c && c->peak_flops_fp32 > 0
                      ? c->peak_flops_fp32
                      : (c ? c->peak_flops : 0.0);
    double devices = c ? (double)uniap_cluster_devices(c) : 0.0;
    if (!(tpi > 0) || !(peak > 0) || !(devices > 0))
        return 0.0;
    return uniap_model_flops(m, global_batch) / (devices * peak * tpi);
}
