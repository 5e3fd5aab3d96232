/*
 * runtime_deepspeed.c - what DeepSpeed runs (deepspeed/runtime at edaa722,
 * the local mirror):
 *   the ZeRO stage is one setting for the whole model: 0 (DDP), 1, 2 or 3
 *     (FSDP); the pipeline engine refuses ZeRO-2 and ZeRO-3 ("ZeRO-2 and
 *     ZeRO-3 are incompatible with pipeline parallelism",
 *     runtime/pipe/engine.py), so with pp > 1 only stages 0 and 1;
 *   tensor parallelism is one degree for every layer, TP ranks adjacent,
 *     and sequence parallelism one flag (Megatron-DeepSpeed's mpu,
 *     --sequence-parallel);
 *   bf16 with pp > 1 runs ZeRO stage 0 through BF16_Optimizer, which shards
 *     the fp32 optimizer states over the data-parallel ranks (ZeRO-1's
 *     memory, runtime/bf16_optimizer.py): no DDP there; without ZeRO the
 *     gradients accumulate in the parameters' type: no DDP with wider
 *     gradients of 16-bit parameters;
 *   activation checkpointing by the pipeline's
 *     activation_checkpoint_interval 1: every transformer block, not the
 *     embedding (_is_checkpointable), or none;
 *   the pipeline split is fixed by PipelineModule's partition_method;
 *     Megatron-DeepSpeed's GPTModelPipe uses "type:transformer":
 *     partition_balanced of 1 per transformer block (runtime/utils.py,
 *     ported in export_deepspeed.c), the embedding and head on their
 *     neighbouring blocks' stages ("uniform" and "parameters" are written
 *     as settings too, not enumerated: uniap's export launches
 *     GPTModelPipe);
 *   its TrainSchedule is 1F1B; the model is GPTModelPipe's: causal decoder
 *     blocks of one shape, GeLU or SwiGLU (as uniap's DeepSpeed export
 *     checks it, export_deepspeed.c);
 *   DeepSpeed-MoE (deepspeed.moe.layer.MoE as Megatron-DeepSpeed builds
 *     it in every block, export_deepspeed.c): ep_size is one degree for
 *     every moe layer (--moe-expert-parallel-size), dividing dp (the
 *     expert groups are carved out of the data-parallel ranks,
 *     utils/groups.py), ep 1 on the other layers; no ZeRO-3 with experts
 *     ("Native DeepSpeed MoE is not supported with ZeRO Stage 3",
 *     runtime/engine.py); the moe blocks dropless, of one shape, without
 *     shared experts.
 */
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "runtime_internal.h"

static int deepspeed_settings(const cm_rt_offer *o, cm_rt_setting *out, int max)
{
    static const int flavour_of_stage[4] = {UNIAP_DP_DDP, UNIAP_DP_ZERO1, UNIAP_DP_ZERO2,
                                            UNIAP_DP_FSDP};
    int n = 0, full = (o->ckpt & UNIAP_CKPT_BIT(UNIAP_CKPT_FULL)) != 0;
    int split = o->deg > 1 ? CM_RT_SPLIT_TYPE : CM_RT_SPLIT_ANY;
    /* no DDP: BF16_Optimizer with a pipeline, or wide gradient accumulation */
    int no_ddp = (o->deg > 1 && (o->model & UNIAP_RT_BF16)) || (o->model & UNIAP_RT_WIDE_GRADS);
    for (int a = 0; a < o->n_tp * o->n_ep; a++) {
        /* ep_size: one ep for the moe layers, dividing dp */
        int tp = o->tp[a / o->n_ep], ep = o->ep[a % o->n_ep], dp = uniap__rt_dp_of(o, tp);
        int stages = dp == 1 ? 1 : o->deg > 1 ? 2 : (o->model & UNIAP_RT_MOE) ? 3 : 4;
        if (dp % ep)
            continue;
        for (int sp = 0; sp <= (tp > 1 && o->has_sp); sp++)
            for (int z = dp > 1 && no_ddp; z < stages; z++)
                for (int ck = 0; ck <= full && n < max; ck++)
                    out[n++] = (cm_rt_setting){.tp = tp,
                                               .sp = sp,
                                               .flavours = CM_FLAVOUR_BIT(flavour_of_stage[z]),
                                               .ckpt = ck ? CM_RT_CKPT_FULL : CM_RT_CKPT_NONE,
                                               .split = split,
                                               .ep = ep};
    }
    return n;
}

static int deepspeed_layer_ok(const cm_rt_setting *v, int role, const uniap_strategy *s)
{
    (void)v;
    (void)role;
    return s->tp_consecutive || s->tp == 1 || s->dp == 1;
}

static int deepspeed_schedule_ok(const uniap_schedule_desc *d)
{
    return !strcmp(d->name, "1f1b");
}

/* The split a setting fixes; the type split also puts the embedding and
 * the head on their neighbouring blocks' stages, as GPTModelPipe does
 * (else the setting is left out, as uniap's export refuses it). */
static int deepspeed_stages(const cm_rt_setting *v, int L, int D, const int *role,
                            const double *params, int *stage_of)
{
    int *parts = malloc(sizeof(int) * (D + 1)), ok = 1, first = -1, last = -1;
    double *w = malloc(sizeof(double) * L);
    if (!parts || !w) {
        free(parts), free(w);
        return 0; /* (out of memory: the variant is left out) */
    }
    for (int u = 0; u < L; u++)
        w[u] = v->split == CM_RT_SPLIT_PARAMS ? params[u] : role[u] == UNIAP_RT_BLOCK;
    if (v->split == CM_RT_SPLIT_UNIFORM)
        uniap__ds_partition_uniform(L, D, parts);
    else if (v->split == CM_RT_SPLIT_PARAMS || v->split == CM_RT_SPLIT_TYPE) {
        ok = uniap__ds_partition_balanced(w, L, D, parts) == UNIAP_OK;
        if (!ok)
            uniap_err_clear(); /* out of memory: the variant is left out, unsaid */
    } else
        ok = 0;
    for (int i = 0; i < D && ok; i++) {
        ok = parts[i + 1] > parts[i]; /* uniap's stages are never empty */
        for (int u = parts[i]; u < parts[i + 1] && ok; u++)
            stage_of[u] = i;
    }
    for (int u = 0; u < L && ok; u++)
        if (role[u] == UNIAP_RT_BLOCK)
            last = u, first = first < 0 ? u : first;
    for (int u = 0; u < L && ok && v->split == CM_RT_SPLIT_TYPE && first >= 0; u++)
        if ((u < first && stage_of[u] != stage_of[first]) ||
            (u > last && stage_of[u] != stage_of[last]))
            ok = 0;
    free(parts);
    free(w);
    return ok;
}

/* GPTModelPipe's model: causal decoder blocks of one shape, GeLU or
 * SwiGLU, or moe blocks of one shape, dropless, without shared experts
 * (the conditions of uniap's DeepSpeed export); no FP8. */
static int deepspeed_model_check(const uniap_model *m)
{
    ex_model x;
    int rc = uniap__ex_model(m, "runtime deepspeed", &x);
    if (rc < 0 || (rc = uniap__ex_no_fp8(m, "runtime deepspeed")) < 0)
        return rc;
    int kind_ok = x.blk->kind == UNIAP_LAYER_DECODER || x.blk->kind == UNIAP_LAYER_MOE;
    if (!x.same || !kind_ok || x.blk->activation == UNIAP_ACT_RELU)
        return uniap_err(UNIAP_EINVAL,
                         "runtime deepspeed: model %s: Megatron-DeepSpeed's GPTModelPipe builds "
                         "causal decoder blocks of one shape with a GeLU or SwiGLU MLP (with "
                         "DeepSpeed-MoE: every block moe)",
                         m->name);
    if (x.moe && (x.moe->shared_experts > 0 || x.moe->capacity_factor > 0))
        return uniap_err(
            UNIAP_EINVAL,
            "runtime deepspeed: model %s: %s: uniap runs DeepSpeed-MoE dropless "
            "without shared experts",
            m->name, x.moe->shared_experts > 0 ? "shared experts" : "an expert capacity factor");
    return UNIAP_OK;
}

const cm_runtime uniap__rt_deepspeed = {
    .name = "deepspeed",
    .help = "Megatron-DeepSpeed, one ZeRO stage (2 and 3 without pipeline), one tp and sp "
            "flag, every block or none recomputed, the type:transformer split, 1F1B, "
            "DeepSpeed-MoE's one ep_size (no ZeRO-3 with experts)",
    .settings = deepspeed_settings,
    .layer_ok = deepspeed_layer_ok,
    .schedule_ok = deepspeed_schedule_ok,
    .model_check = deepspeed_model_check,
    .stages = deepspeed_stages,
};
