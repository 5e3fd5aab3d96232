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

/* Bytes per parameter of the master weights and the optimizer state
 * (moments). Master: mixed precision keeps an fp32 copy (Micikevicius et al.
 * 2018, "Mixed Precision Training" s3.1), or the model's master_dtype; fp32
 * training updates the parameters themselves. Moments in fp32: Adam
 * (Kingma and Ba 2015, Algorithm 1: m and v) 8; SGD with momentum (one
 * velocity buffer, PyTorch torch.optim.SGD) 4; plain SGD 0. */
static void optimizer_bytes(const uniap_model *m, double *master, double *moments)
{
    const uniap_training *t = &m->training;
    *master = 0.0;
    if (m->mixed_precision)
        *master = t->master_dtype > 0 ? uniap_dtype_bytes((uniap_dtype)(t->master_dtype - 1)) : 4;
    *moments = t->optimizer == UNIAP_OPTIM_ADAM           ? 8.0
               : t->optimizer == UNIAP_OPTIM_SGD_MOMENTUM ? 4.0
                                                          : 0.0;
}

void cm_state_bytes(const uniap_model *m, double *param, double *grad, double *opt)
{
    double master, moments;

    /* Rajbhandari et al. 2020 (ZeRO) s3.1: mixed-precision Adam holds
     * 16-bit parameters (2) and gradients (2) and K = 12 bytes of optimizer
     * states (fp32 master, momentum, variance); fp32 Adam 4 + 4 + 8. The
     * gradients are the parameters' dtype unless grad_dtype says otherwise
     * (e.g. Megatron-LM's fp32 main_grad accumulation: 4). */
    *param = m->mixed_precision ? uniap_dtype_bytes(m->param_dtype) : 4.0;
    *grad = m->training.grad_dtype > 0
                ? uniap_dtype_bytes((uniap_dtype)(m->training.grad_dtype - 1))
                : *param;
    optimizer_bytes(m, &master, &moments);
    *opt = master + moments;
}

double cm_optimizer_touched(const uniap_model *m)
{
    double pb, gb, ob, master, moments;

    /* one memory-bound pass of the update: the gradient read, the master
     * copy and the moments read and written, the 16-bit parameters written
     * from the master (no master: the parameters read and written). Mixed
     * Adam: 2 + 2 x 12 + 2 = 28; fp32 Adam: 4 + 2 x 8 + 2 x 4 = 28. */
    cm_state_bytes(m, &pb, &gb, &ob);
    optimizer_bytes(m, &master, &moments);
    return gb + 2.0 * ob + (master > 0 ? pb : 2.0 * pb);
}

double cm_mem_states(const uniap_model *m, double params, const uniap_strategy *s)
{
    double pb, gb, ob;
    double shard = params / s->tp;     /* every state is sharded by tp */
    double g = uniap_strategy_dpcp(s); /* ZeRO shards over dp x cp (uniap_strategy_dpcp) */

    cm_state_bytes(m, &pb, &gb, &ob);
    switch (s->flavour) {
    case UNIAP_DP_DDP:
        return shard * (pb + gb + ob);
    case UNIAP_DP_ZERO1: /* optimizer states sharded over dp x cp */
        return shard * (pb + gb) + shard * ob / g;
    case UNIAP_DP_ZERO2: /* + gradients */
        return shard * pb + shard * (gb + ob) / g;
    case UNIAP_DP_FSDP: /* + parameters */
        return shard * (pb + gb + ob) / g;
    }
    /* unreachable: compute_row checks the flavour (UNIAP_CHECK); should a
     * caller pass another, the unsharded states are the safe side */
    return shard * (pb + gb + ob);
}

double cm_tied_copy_params(const uniap_model *m, const uniap_layer *l, int deg)
{
    const uniap_layer *last = &m->runs[m->n_runs - 1];

    /* Megatron-LM (Shoeybi et al. 2019; Narayanan et al. 2021 s4): with
     * tied input and output embeddings and pp > 1, the last stage holds its
     * own copy of the word embeddings (with its gradients and optimizer
     * states, updated in step), and the first and last stages all-reduce
     * the embedding gradient every iteration (_allreduce_word_embedding_
     * grads). The first layer is on stage 0 and the last on stage deg - 1,
     * so deg > 1 separates them. */
    if (deg < 2 || last->kind != UNIAP_LAYER_HEAD || !last->tied || m->runs[0].vocab < 1)
        return 0.0;
    if (l != last && l != &m->runs[0])
        return 0.0;
    return (double)last->vocab * (double)last->hidden;
}

double cm_fp8_weight_bytes(const uniap_layer *l, const uniap_strategy *s)
{
    /* Transformer Engine on Hopper keeps, per Linear module in FP8, the
     * FP8 cast of its weight and of the weight's transpose (the forward
     * and the data-gradient GEMM operands: _Linear.forward's weight_fp8
     * and weight_t_fp8, transformer_engine/pytorch/module/linear.py, TE
     * 1.x), 1 byte each per weight element of the TP shard, cached across
     * the micro-batches of an iteration (is_first_microbatch) and held as
     * module buffers: 2 B per Linear parameter beside the 16-bit ones.
     * Under FSDP they are made from the gathered shard and counted / dp
     * like the parameters (torchtitan's float8 all-gather keeps them
     * sharded). Biases and norm weights stay 16-bit. */
    if (!l->fp8)
        return 0.0;
    double b = 2.0 * uniap__cm_linear_weights(l, s->tp);
    return s->flavour == UNIAP_DP_FSDP ? b / s->dp : b;
}
