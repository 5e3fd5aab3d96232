/*
 * runtime_megatron.c - what Megatron-LM runs (megatron/training/arguments.py
 * and megatron/core/transformer/transformer_config.py at d98e8a6, the
 * mirror the export's flags were checked against):
 *   --context-parallel-size with --cp-comm-type p2p (ring attention) or
 *     a2a (Ulysses-style head scatter, TransformerEngine): one cp and one
 *     comm type for every layer (the cp process group; the distributed
 *     optimizer shards over dp x cp);
 *   --tensor-model-parallel-size: one tp for every layer, embedding and
 *     output layer included (vocabulary-parallel), TP ranks adjacent (the
 *     tp-cp-ep-dp-pp rank order puts tp innermost);
 *   --expert-model-parallel-size: one ep for every moe layer, ep 1 on the
 *     others; the expert ranks are data-parallel ranks of the dense
 *     layers (parallel_state.py builds the expert mesh etp x ep x edp over
 *     the tp x cp x dp ranks, etp defaulting to tp), so uniap offers the ep
 *     that divide dp, the ones --expert-model-parallel-size takes with
 *     --expert-tensor-parallel-size left at tp (the export writes neither
 *     else);
 *   --sequence-parallel: one flag for every layer (only with tp > 1);
 *   --use-distributed-optimizer: ZeRO-1 on every layer, or DDP (its
 *     gradient buffer keeps the whole gradient between micro-batches, so
 *     it is not ZeRO-2; Megatron-FSDP, --use-megatron-fsdp, is not
 *     written by uniap's export and not searched);
 *   --recompute-granularity selective (every block's attention core),
 *     full with --recompute-method uniform --recompute-num-layers 1
 *     (every block), or full with block N (the first N blocks of each
 *     stage: megatron/core/recompute.py); the embedding and the output
 *     layer are never recomputed. uniap searches block N as the same N on
 *     every stage, as its export writes it (Megatron-LM itself takes
 *     min(N, blocks) on a shorter stage);
 *   the pipeline split: blocks evenly, the first and the last stage set by
 *     --decoder-first/last-pipeline-num-layers, the embedding on the first
 *     stage and the output layer on the last (--pipeline-model-parallel-
 *     layout would allow any split; uniap's export does not write it);
 *   1F1B, or interleaved 1F1B (--num-layers-per-virtual-pipeline-stage
 *     N: the same blocks on every stage, a multiple of the v chunks per
 *     stage, no first/last stage counts; arguments.py): under an
 *     interleaved schedule the split is fixed to equal stages
 *     (CM_RT_SPLIT_EQUAL, runtime.c) and recompute is none, full on
 *     every block or selective (--recompute-method block counts blocks
 *     per model chunk there, which uniap's per-stage count is not).
 */
#include <stdlib.h>
#include <string.h>

#include "runtime_internal.h"

static int megatron_settings(const cm_rt_offer *o, cm_rt_setting *out, int max)
{
    int n = 0, modes[4], n_modes = 0, v = o->virtual_stages > 1 ? o->virtual_stages : 0;
    if (v) /* interleaved: no block recompute (counted per chunk in Megatron-LM) */
        modes[n_modes++] = CM_RT_CKPT_NONE;
    else
        modes[n_modes++] =
            o->ckpt & UNIAP_CKPT_BIT(UNIAP_CKPT_FULL) ? CM_RT_CKPT_BLOCK : CM_RT_CKPT_NONE;
    if (o->ckpt & UNIAP_CKPT_BIT(UNIAP_CKPT_FULL))
        modes[n_modes++] = CM_RT_CKPT_FULL;
    if (o->ckpt & UNIAP_CKPT_BIT(UNIAP_CKPT_SELECTIVE))
        modes[n_modes++] = CM_RT_CKPT_SELECTIVE;
    for (int a = 0; a < o->n_tp * o->n_ep; a++)
        for (int c = 0; c < o->n_cp; c++) {
            int tp = o->tp[a / o->n_ep], cp = o->cp[c], ep = o->ep[a % o->n_ep];
            if (o->n % (tp * cp) || (o->n / (tp * cp)) % ep)
                continue;
            int g = tp > 0 ? o->n / tp : o->n; /* the gradient group dp x cp */
            for (int a2a = 0; a2a <= (cp > 1 && o->has_a2a); a2a++)
                for (int sp = 0; sp <= (tp > 1 && o->has_sp); sp++)
                    for (int z = 0; z <= (g > 1); z++)
                        for (int m = 0; m < n_modes && n < max; m++)
                            out[n++] = (cm_rt_setting){
                                .tp = tp,
                                .sp = sp,
                                .flavours = CM_FLAVOUR_BIT(z ? UNIAP_DP_ZERO1 : UNIAP_DP_DDP),
                                .ckpt = modes[m],
                                .split = v ? CM_RT_SPLIT_EQUAL : CM_RT_SPLIT_MIDDLE_EQUAL,
                                .chunks = v,
                                .cp = cp,
                                .cp_a2a = a2a,
                                .ep = ep};
        }
    return n;
}

static int megatron_layer_ok(const cm_rt_setting *v, int role, const uniap_strategy *s)
{
    (void)v;
    (void)role;
    return s->tp_consecutive || s->tp == 1 || s->dp == 1;
}

static int megatron_schedule_ok(const uniap_schedule_desc *d)
{
    return d->megatron_gap == NULL;
}

/* The model arguments' gaps (megatron_args.c, as the export reports them). */
static int megatron_model_check(const uniap_model *m)
{
    uniap_textbuf b = {0}, gaps = {0};
    int rc = UNIAP_OK;
    uniap__megatron_model_args(m, &b, &gaps);
    if (b.oom || gaps.oom) {
        rc = uniap_err(UNIAP_ENOMEM, "runtime megatron: out of memory");
    } else if (gaps.s && strstr(gaps.s, "# - ")) {
        const char *g = strstr(gaps.s, "# - ") + 4;
        size_t len = strcspn(g, "\n");
        rc =
            uniap_err(UNIAP_EINVAL, "runtime megatron: model %s: Megatron-LM cannot build it: %.*s",
                      m->name, (int)len, g);
    }
    free(b.s);
    free(gaps.s);
    return rc;
}

const cm_runtime uniap__rt_megatron = {
    .name = "megatron",
    .help = "Megatron-LM, one tp, cp and sp flag, DDP or the distributed optimizer, "
            "selective/full/block recompute, one ep on the moe layers, even splits with "
            "first/last stage counts, 1F1B or interleaved 1F1B (equal stages)",
    .settings = megatron_settings,
    .layer_ok = megatron_layer_ok,
    .schedule_ok = megatron_schedule_ok,
    .model_check = megatron_model_check,
};
