/*
 * shape.c - facts about a layer's shape that the time and memory models
 * share: which TP degrees can shard it, how big the activation it hands on
 * is, how many Megatron TP collectives it needs, and the model-state bytes
 * per parameter under each data-parallel flavour.
 */
#include "cm_internal.h"

int cm_layer_tp_ok(const uniap_layer *l, int tp)
{
    if (tp == 1)
        return 1;
    switch (l->kind) {
    case UNIAP_LAYER_ENCODER:
    case UNIAP_LAYER_DECODER:
    case UNIAP_LAYER_CROSS_DECODER:
    case UNIAP_LAYER_SWIN:
        /* Megatron shards attention by heads (query and key/value) and the
         * MLP by its inner width. */
        return l->heads % tp == 0 && (l->kv_heads ? l->kv_heads : l->heads) % tp == 0 &&
               l->ffn % tp == 0;
    case UNIAP_LAYER_PATCH_EMBED:
        return l->hidden % tp == 0;
    case UNIAP_LAYER_PATCH_MERGE:
        return (l->out_hidden ? l->out_hidden : 2 * l->hidden) % tp == 0;
    case UNIAP_LAYER_EMBEDDING:
    case UNIAP_LAYER_HEAD:
        /* vocabulary-parallel; the vocabulary is padded to a multiple of
         * tp as Megatron does, so every tp is valid */
        return 1;
    default:
        return 0;
    }
}

int64_t cm_layer_out_elems(const uniap_layer *l)
{
    switch (l->kind) {
    case UNIAP_LAYER_PATCH_MERGE:
        /* 2x2 patches merge into one token of out_hidden channels */
        return (l->seq / 4) * (l->out_hidden ? l->out_hidden : 2 * l->hidden);
    case UNIAP_LAYER_CROSS_DECODER:
        /* the decoder stream plus the encoder output it keeps attending
         * to: both ride along to the next stage */
        return l->seq * l->hidden + l->kv_seq * l->hidden;
    default:
        return l->seq * l->hidden;
    }
}

double cm_boundary_bytes(const uniap_model *m, const uniap_layer *l, double micro_batch)
{
    return micro_batch * (double)cm_layer_out_elems(l) * uniap_dtype_bytes(m->act_dtype);
}

void cm_layer_tp_allreduces(const uniap_layer *l, int *fwd, int *bwd)
{
    switch (l->kind) {
    case UNIAP_LAYER_ENCODER:
    case UNIAP_LAYER_DECODER:
    case UNIAP_LAYER_SWIN:
        /* attention and MLP: the row-parallel output (g) all-reduces in
         * forward, the column-parallel input (f) all-reduces in backward */
        *fwd = 2;
        *bwd = 2;
        break;
    case UNIAP_LAYER_CROSS_DECODER:
        *fwd = 3; /* self-attention, cross-attention, MLP */
        *bwd = 3;
        break;
    case UNIAP_LAYER_EMBEDDING:
    case UNIAP_LAYER_PATCH_EMBED:
        *fwd = 1; /* vocabulary-parallel lookup sums partial outputs */
        *bwd = 0;
        break;
    case UNIAP_LAYER_HEAD:
        *fwd = 0; /* column-parallel head + parallel cross-entropy (its
                   * per-token max/sum all-reduces are b*s floats: ignored) */
        *bwd = 1; /* input gradient of the column-parallel GEMM */
        break;
    case UNIAP_LAYER_PATCH_MERGE:
        *fwd = 1;
        *bwd = 1;
        break;
    default:
        *fwd = *bwd = 0;
    }
}

void cm_state_bytes(const uniap_model *m, double *param, double *grad, double *opt)
{
    if (m->mixed_precision) {
        /* Rajbhandari et al. 2020 (ZeRO): 16-bit parameters (2) and
         * gradients (2), fp32 master weights, momentum and variance (12) */
        *param = uniap_dtype_bytes(m->param_dtype);
        *grad = uniap_dtype_bytes(m->param_dtype);
        *opt = 12.0;
    } else {
        /* fp32 Adam: parameters 4, gradients 4, momentum + variance 8 */
        *param = 4.0;
        *grad = 4.0;
        *opt = 8.0;
    }
}

double cm_mem_states(const uniap_model *m, double params, const uniap_strategy *s)
{
    double pb, gb, ob;
    double shard = params / s->tp; /* every state is sharded by tp */

    cm_state_bytes(m, &pb, &gb, &ob);
    switch (s->flavour) {
    case UNIAP_DP_DDP:
        return shard * (pb + gb + ob);
    case UNIAP_DP_ZERO1: /* optimizer states sharded over dp */
        return shard * (pb + gb) + shard * ob / s->dp;
    case UNIAP_DP_ZERO2: /* + gradients */
        return shard * pb + shard * (gb + ob) / s->dp;
    case UNIAP_DP_FSDP: /* + parameters */
        return shard * (pb + gb + ob) / s->dp;
    }
    /* unreachable: compute_row checks the flavour (UNIAP_CHECK); should a
     * caller pass another, the unsharded states are the safe side */
    return shard * (pb + gb + ob);
}
