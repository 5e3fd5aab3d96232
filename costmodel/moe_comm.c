/*
 * moe_comm.c - expert parallelism's own terms (issue 15 item 3): which
 * layers an ep degree can split, the placement of an ep group, the token
 * dispatch among its ranks, the slowest rank's extra expert compute, and
 * the expert states and gradients a rank holds.
 *
 * A moe layer (io/layer_kinds.c: a router and E experts of one MLP each,
 * top_k of them per token, plus shared experts) under ep > 1 splits its E
 * routed experts over ep of the dp ranks (Lepikhin et al. 2021, GShard
 * s2.2; Fedus et al. 2022, Switch Transformer s2.2; Megatron-Core's
 * expert_model_parallel_size, which carves the ep group out of the data-
 * parallel ranks: ep divides dp, and each rank holds E / ep experts).
 * Attention, router, norms and shared experts stay replicated over dp as
 * in a decoder; expert tensor parallelism is the layer's tp (Megatron-
 * Core's default, expert_tensor_parallel_size = tensor_model_parallel_size).
 *
 * Compute. With balanced routing a rank's experts receive, from the ep
 * ranks of its group, as many token copies as its own tokens send out:
 * local tokens x top_k expert MLPs, plus the shared experts and the router
 * on its own tokens - the FLOPs of ep 1, so the profile's row at (tp, b_l)
 * prices it (the larger per-expert GEMMs of ep > 1 are not credited). The
 * slowest rank receives F times the mean (--moe-imbalance F >= 1; with a
 * capacity factor C > 0 at most C times: tokens beyond an expert's
 * capacity C x tokens x top_k / E are dropped, GShard s2.2), so its routed
 * expert share of the layer's time (the routed experts' share of its
 * FLOPs) takes (F - 1) more; the other ranks wait for it at the combine.
 *
 * Dispatch (Lepikhin et al. 2021 s2.2, Megatron-Core's
 * MoEAlltoAllTokenDispatcher): an all-to-all over the ep group before the
 * experts (dispatch) and one after them (combine) per forward, their
 * gradients' two per backward, a recomputed forward repeating its two; on
 * the critical path (the experts wait for their tokens). The message is
 * the rank's send buffer (nccl-tests all-to-all size): its tokens x top_k
 * hidden vectors at the activation dtype, the slowest rank's F times that
 * (capped by C), divided by tp: with ETP = TP the tp ranks of an ep rank
 * each dispatch a 1/tp share (Megatron-Core requires sequence parallelism
 * with tp > 1 for MoE; the gather of the expert inputs over tp is the
 * layer's own TP collectives, priced as a block's). Priced by the
 * profile's all-to-all curve at group size ep.
 *
 * States and gradients. A rank holds the layer's non-expert parameters as
 * a decoder does, sharded by tp and, with ZeRO, over dp x cp, and E / ep
 * of the routed experts, sharded by tp and, with ZeRO, over the
 * expert-data-parallel group of dp / ep x cp ranks (Megatron-Core's
 * expert data parallel group); the expert gradients are reduced over that
 * group, the others over dp x cp (Megatron-Core: expert parameters are
 * "allreduce=False" and reduced over the expert DP group). The expert
 * group's placement is taken as the dp group's (conservative: a subgroup
 * of it).
 */
#include <string.h>

#include "cm_internal.h"

int cm_layer_ep_ok(const uniap_layer *l, const uniap_strategy *s)
{
    int ep = uniap_strategy_ep(s);
    return ep == 1 || (l->experts > 0 && l->experts % ep == 0 && s->dp % ep == 0);
}

/* Stage rank of DP x CP index q and TP index t (strategy.c's layout). */
static int rank_of(const uniap_strategy *s, int q, int t)
{
    return s->tp_consecutive ? q * s->tp + t : t * uniap_strategy_dpcp(s) + q;
}

/* An ep group: ep consecutive dp indices (Megatron-Core orders its expert
 * groups tp-ep-dp), at one cp and tp index. */
int cm_ep_spans(const uniap_cluster *c, int stage_first, const uniap_strategy *s)
{
    int g = c->devices_per_node, cp = uniap_strategy_cp(s), ep = uniap_strategy_ep(s);
    for (int d0 = 0; ep > 1 && d0 < s->dp; d0 += ep)
        for (int k = 0; k < cp; k++)
            for (int t = 0; t < s->tp; t++) {
                int node0 = (stage_first + rank_of(s, d0 * cp + k, t)) / g;
                for (int j = 1; j < ep; j++)
                    if ((stage_first + rank_of(s, (d0 + j) * cp + k, t)) / g != node0)
                        return 1;
            }
    return 0;
}

double cm_moe_routed_params(const uniap_layer *l)
{
    if (l->experts <= 0)
        return 0.0;
    uniap_layer none = *l;
    none.experts = 0; /* attention, norms and shared experts only */
    return (double)(uniap_layer_params(l) - uniap_layer_params(&none)) -
           (double)l->hidden * l->experts; /* less the router */
}

void cm_moe_split(const uniap_layer *l, const uniap_strategy *s, cm_moe_part *out)
{
    int ep = uniap_strategy_ep(s);
    double routed = ep > 1 ? cm_moe_routed_params(l) : 0.0;

    out->dense = (double)uniap_layer_params(l) - routed;
    out->expert = routed / ep;
    out->expert_s = *s;
    out->expert_s.dp = s->dp / ep; /* the expert data-parallel group: dp / ep x cp */
    out->expert_s.ep = 1;
    if (out->expert_s.dp < 2 && uniap_strategy_cp(s) < 2)
        out->expert_s.flavour = UNIAP_DP_DDP; /* nothing to shard over */
}

double cm_moe_states(const uniap_model *m, const uniap_layer *l, const uniap_strategy *s)
{
    cm_moe_part p;
    cm_moe_split(l, s, &p);
    return cm_mem_states(m, p.dense, s) +
           (p.expert > 0 ? cm_mem_states(m, p.expert, &p.expert_s) : 0.0);
}

double cm_moe_step_seconds(const uniap_layer *l, const uniap_strategy *s, double touched, double bw)
{
    cm_moe_part p;
    cm_moe_split(l, s, &p);
    double t =
        p.dense / s->tp * touched / bw / (s->flavour == UNIAP_DP_DDP ? 1 : uniap_strategy_dpcp(s));
    if (p.expert > 0)
        t += p.expert / s->tp * touched / bw /
             (p.expert_s.flavour == UNIAP_DP_DDP ? 1 : uniap_strategy_dpcp(&p.expert_s));
    return t;
}

int cm_moe_dp_terms(const uniap_costmodel *cm, const uniap_layer *l, const uniap_strategy *s,
                    const cm_placement *pl, double pb, double gb, cm_dp_comm *out)
{
    cm_moe_part p;
    cm_dp_comm ex;
    int rc;

    cm_moe_split(l, s, &p);
    if ((rc = uniap__cm_dp_terms(cm, s, pl, p.dense / s->tp, pb, gb, out)) < 0 || p.expert <= 0)
        return rc;
    if ((rc = uniap__cm_dp_terms(cm, &p.expert_s, pl, p.expert / s->tp, pb, gb, &ex)) < 0)
        return rc; /* the message names the profile */
    out->fwd += ex.fwd;
    out->bwd += ex.bwd;
    out->sync += ex.sync;
    out->post += ex.post;
    return UNIAP_OK;
}

/* The slowest rank's routed tokens over the mean: --moe-imbalance F,
 * capped by the capacity factor C when set (dropped tokens beyond it). */
static double slowest_share(const uniap_costmodel *cm, const uniap_layer *l)
{
    double f = cm->opt.moe_imbalance >= 1 ? cm->opt.moe_imbalance : 1.0;
    return l->capacity_factor > 0 && l->capacity_factor < f ? l->capacity_factor : f;
}

/* The routed experts' share of the layer's forward FLOPs (and backward:
 * every GEMM's backward is twice its forward). */
static double routed_share(const uniap_layer *l)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    double all = d->gemm_flops ? d->gemm_flops(l) : 0.0;
    double mlp = (l->activation == UNIAP_ACT_SWIGLU ? 3 : 2) * 2.0 * (double)l->hidden * l->ffn;
    return all > 0 ? l->top_k * mlp / all : 0.0;
}

double cm_moe_a2a_bytes(const uniap_costmodel *cm, const uniap_layer *l, const uniap_strategy *s,
                        double bl)
{
    double e = uniap_dtype_bytes(cm->model->act_dtype);
    double tokens = bl * (double)l->seq / uniap_strategy_cp(s); /* the rank's tokens */
    return tokens * l->top_k * (double)l->hidden * e / s->tp * slowest_share(cm, l);
}

int cm_moe_comm(const uniap_costmodel *cm, const uniap_layer *l, const uniap_strategy *s,
                const cm_placement *pl, double bl, double compute, int recompute, cm_moe_terms *out)
{
    int ep = uniap_strategy_ep(s), rc;
    double one = 0.0;

    memset(out, 0, sizeof(*out));
    if (ep < 2 || l->experts <= 0)
        return UNIAP_OK;
    out->imbalance = (slowest_share(cm, l) - 1.0) * routed_share(l) * compute;
    if ((rc = cm_coll_time(&cm->index, UNIAP_COLL_ALLTOALL, ep, pl->ep_spans,
                           cm_moe_a2a_bytes(cm, l, s, bl), cm->warnings, &one)) < 0)
        return rc;                                  /* the message names the profile */
    out->a2a_fwd = 2.0 * one;                       /* dispatch, combine */
    out->a2a_bwd = 2.0 * one * (recompute ? 2 : 1); /* their gradients (+ the recomputed pair) */
    return UNIAP_OK;
}
