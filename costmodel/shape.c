/*
 * shape.c - facts about a layer's shape that the time and memory models
 * share: which TP degrees can shard it, how big the activation it hands on
 * is, how many Megatron TP collectives it needs, what a checkpointed layer
 * keeps (each from its kind's descriptor, layer_kinds.c, with the defaults
 * here), and the model-state bytes per parameter under each data-parallel
 * flavour.
 */
#include "cm_internal.h"

int cm_layer_tp_ok(const uniap_layer *l, int tp)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    if (tp == 1)
        return 1;
    return d->tp_ok ? d->tp_ok(l, tp) : 0;
}

int64_t cm_layer_out_elems(const uniap_layer *l)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    return d->out_elems ? d->out_elems(l) : l->seq * l->hidden;
}

double cm_boundary_bytes(const uniap_model *m, const uniap_layer *l, double micro_batch)
{
    return micro_batch * (double)cm_layer_out_elems(l) * uniap_dtype_bytes(m->act_dtype);
}

void cm_layer_tp_allreduces(const uniap_layer *l, int *fwd, int *bwd)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    *fwd = d->tp_fwd;
    *bwd = d->tp_bwd;
}

double cm_layer_input_bytes(const uniap_model *m, const uniap_layer *l, double bl)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    double e = uniap_dtype_bytes(m->act_dtype);
    if (d->input_bytes)
        return d->input_bytes(l, bl, e);
    return bl * (double)l->seq * (double)l->hidden * e;
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
