/*
 * cp_comm.c - context parallelism's own terms (issue 15 item 2): which
 * layers a cp degree can split, and the exchange its attention needs per
 * micro-batch, in its two variants.
 *
 * Everything else cp does is a division by cp: each of the cp ranks holds
 * seq / cp tokens of every sample, so its per-token FLOPs, activations and
 * TP messages are 1/cp of the unsplit layer's; its share of the attention
 * FLOPs is 1/cp too, because both runtimes balance the causal mask: Megatron-LM splits the sequence
 * into 2 cp chunks and gives rank i chunks i and 2cp-1-i (zigzag; megatron/training/utils.py
 * get_batch_on_this_cp_rank), and Ulysses computes full-sequence attention
 * over heads / cp heads (Jacobs et al. 2023, "DeepSpeed Ulysses", s3).
 *
 * Ring attention (Liu et al. 2023, "Ring Attention with Blockwise
 * Transformers", s3; Megatron-LM's CP, cp_comm_type p2p): cp blockwise
 * attention steps; during each of the first cp - 1 the rank sends its
 * current K and V blocks to the next rank and receives the previous
 * rank's, overlapped with that step's attention. A block pair is
 * 2 x b_l x seq/cp x kv_heads x head_dim x e / tp bytes (K and V of the
 * rank's kv-head shard). The backward passes K, V and their gradients
 * dK, dV around the ring: twice the bytes per step. Exposed per step:
 * max(0, transfer - step's attention), the step's attention being 1/cp of
 * the rank's attention time (the rank's forward x the attention core's
 * share of the layer's FLOPs). The transfer is priced by the profile's
 * p2p curve (the profiler's send/recv between a pair,
 * profiler/coll/sendrecv.c): every rank of the ring sends and receives at
 * once over its own links, so a step takes one pair's transfer time.
 * Each step after the first also merges its partial result into the
 * running one, on the critical path: the forward rescales the output by
 * the new log-sum-exp (TransformerEngine's AttnFuncWithCPAndKVP2P,
 * flash_attn_fwd_out_correction: the step's e-byte output read, the fp32
 * accumulator read and written, e + 8 bytes per output element), the
 * backward adds the step's dQ, dK and dV into fp32 accumulators (8 bytes
 * per element read and written); memory-bound at the device's bandwidth.
 * This is what makes a cp plan cost more than the dp plan with the same
 * tokens per rank when the ring itself hides: at short sequences cp never
 * wins on time (it still may where only it fits).
 *
 * Ulysses (Jacobs et al. 2023 s3.1): an all-to-all over the cp group
 * before attention for each of q, k and v (sequence-sharded to
 * head-sharded) and one after it for the output (back): 4 per forward,
 * the same 4 of the gradients per backward, on the critical path. The
 * message of each is the rank's local tensor (nccl-tests all-to-all
 * size: the send buffer): q and the output b_l x seq/cp x heads x
 * head_dim x e / tp, k and v with kv_heads.
 *
 * The rank's layer figures (cm_cp_layer_at) are therefore those of b_l / cp
 * samples of the full sequence: the same GEMM rows (b_l seq / cp tokens)
 * and the same attention FLOPs (b_l seq^2 / cp). Where b_l / cp is no
 * whole micro-batch they are interpolated linearly between the profile's
 * figures at the whole micro-batches around it, below 1 on the line
 * through micro-batches 1 and 2 (which keeps the per-kernel fixed cost a
 * smaller slice does not shed; never below 1's figures x b_l / cp).
 *
 * A recomputed forward (checkpointing) repeats its exchange.
 */
#include <string.h>

#include "cm_internal.h"

int cm_cp_layer_at(const cm_layer_index *li, int tp, int bl, int cp, cm_warnings *w,
                   cm_layer_point *out)
{
    cm_layer_point lo, hi;
    int rc;

    if (cp <= 1 || bl % cp == 0)
        return cm_layer_at(li, tp, cp > 1 ? bl / cp : bl, w, out);
    double x = (double)bl / cp;
    int a = bl / cp > 1 ? bl / cp : 1;
    if ((rc = cm_layer_at(li, tp, a, w, &lo)) < 0 ||
        (rc = cm_layer_at(li, tp, a + 1, NULL, &hi)) < 0)
        return rc; /* the message names the profile */
    double f = x - a, *o[] = {&out->fwd, &out->bwd, &out->act_bytes, &out->peak_bytes, &out->wgrad};
    const double pl[] = {lo.fwd, lo.bwd, lo.act_bytes, lo.peak_bytes, lo.wgrad};
    const double ph[] = {hi.fwd, hi.bwd, hi.act_bytes, hi.peak_bytes, hi.wgrad};
    memset(out, 0, sizeof(*out));
    out->micro_batch = bl;
    out->wgrad_known = lo.wgrad_known && hi.wgrad_known;
    for (int i = 0; i < 5; i++) {
        double v = pl[i] + f * (ph[i] - pl[i]), floor_v = x < 1 ? pl[i] * x : 0.0;
        *o[i] = v > floor_v ? v : floor_v;
    }
    if (out->wgrad > out->bwd) /* W stays a part of the backward */
        out->wgrad = out->bwd;
    return UNIAP_OK;
}

int cm_layer_cp_ok(const uniap_layer *l, const uniap_strategy *s)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    int cp = uniap_strategy_cp(s), kv = l->kv_heads ? l->kv_heads : l->heads;

    if (cp == 1)
        return 1;
    if (!d->core_flops) /* no attention: the tokens split */
        return l->seq % cp == 0;
    if (!d->cp_attn || l->seq % (2 * cp) != 0)
        return 0;
    return !s->cp_a2a || (l->heads % (cp * s->tp) == 0 && kv % (cp * s->tp) == 0);
}

/* The attention core's share of the layer's forward FLOPs (and, the
 * backward doing twice the forward's FLOPs of every GEMM, of its
 * backward). */
static double attn_share(const uniap_layer *l)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    double all = d->gemm_flops ? d->gemm_flops(l) : 0.0;
    return all > 0 && d->core_flops ? d->core_flops(l) / all : 0.0;
}

/* The exposed merge of one step's partial attention (see the top):
 * forward q_elems output elements at e + 8 bytes, backward qkv_elems
 * gradient elements at 8 bytes. 0 without the cluster's mem_bandwidth. */
static void ring_merge(const uniap_costmodel *cm, double q_elems, double qkv_elems, double e,
                       double *fwd, double *bwd)
{
    double bw = cm->cluster->mem_bandwidth;
    *fwd = bw > 0 ? q_elems * (e + 8.0) / bw : 0.0;
    *bwd = bw > 0 ? qkv_elems * 8.0 / bw : 0.0;
}

/* Ring attention: (cp - 1) overlapped transfers per pass, and (cp - 1)
 * merges (merge[0] forward, merge[1] backward, per step). */
static int ring(const uniap_costmodel *cm, const uniap_strategy *s, const cm_placement *pl,
                double kv_block, double attn_fwd, double attn_bwd, const double merge[2],
                int recompute, double out[3])
{
    double cp = uniap_strategy_cp(s), tf = 0.0, tb = 0.0;
    int rc;

    if ((rc = cm_coll_time(&cm->index, UNIAP_COLL_P2P, 2, pl->cp_spans, kv_block, cm->warnings,
                           &tf)) < 0 ||
        (rc = cm_coll_time(&cm->index, UNIAP_COLL_P2P, 2, pl->cp_spans, 2.0 * kv_block,
                           cm->warnings, &tb)) < 0)
        return rc; /* the message names the profile */
    double ef = (cp - 1) * (uniap__cm_exposed(cm, tf, attn_fwd / cp) + merge[0]);
    double eb = (cp - 1) * (uniap__cm_exposed(cm, tb, attn_bwd / cp) + merge[1]);
    out[0] = ef;
    out[1] = eb + (recompute ? ef : 0.0);
    out[2] = (cp - 1) * ((tf + merge[0]) * (recompute ? 2 : 1) + tb + merge[1]);
    return UNIAP_OK;
}

/* Ulysses: 4 all-to-alls per pass (q, k, v, output), exposed. */
static int ulysses(const uniap_costmodel *cm, const uniap_strategy *s, const cm_placement *pl,
                   double q_bytes, double kv_bytes, int recompute, double out[3])
{
    double tq = 0.0, tk = 0.0;
    int cp = uniap_strategy_cp(s), rc;

    if ((rc = cm_coll_time(&cm->index, UNIAP_COLL_ALLTOALL, cp, pl->cp_spans, q_bytes, cm->warnings,
                           &tq)) < 0 ||
        (rc = cm_coll_time(&cm->index, UNIAP_COLL_ALLTOALL, cp, pl->cp_spans, kv_bytes,
                           cm->warnings, &tk)) < 0)
        return rc; /* the message names the profile */
    double pass = 2.0 * tq + 2.0 * tk;
    out[0] = pass;
    out[1] = pass * (recompute ? 2 : 1);
    out[2] = out[0] + out[1];
    return UNIAP_OK;
}

int cm_cp_comm(const uniap_costmodel *cm, const uniap_layer *l, const uniap_strategy *s,
               const cm_placement *pl, double bl, double fwd, double bwd, int recompute,
               double *fwd_exposed, double *bwd_exposed, double *total)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    double e = uniap_dtype_bytes(cm->model->act_dtype), out[3] = {0.0, 0.0, 0.0};
    double a = l->heads, kv = l->kv_heads ? l->kv_heads : l->heads;
    double hd = l->head_dim ? (double)l->head_dim : (a > 0 ? (double)l->hidden / a : 0);
    int cp = uniap_strategy_cp(s), rc = UNIAP_OK;

    if (cp > 1 && d->core_flops && d->cp_attn) {
        double tokens = bl * (double)l->seq / cp; /* the rank's tokens */
        double kv_bytes = tokens * kv * hd * e / s->tp, q_bytes = tokens * a * hd * e / s->tp;
        double merge[2], q_elems = tokens * a * hd / s->tp;
        ring_merge(cm, q_elems, tokens * (a + 2 * kv) * hd / s->tp, e, &merge[0], &merge[1]);
        if (s->cp_a2a)
            rc = ulysses(cm, s, pl, q_bytes, kv_bytes, recompute, out);
        else
            rc = ring(cm, s, pl, 2.0 * kv_bytes, fwd * attn_share(l), bwd * attn_share(l), merge,
                      recompute, out);
    }
    *fwd_exposed = out[0];
    *bwd_exposed = out[1];
    *total = out[2];
    return rc;
}
