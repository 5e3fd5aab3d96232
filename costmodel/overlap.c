/*
 * overlap.c - the data-parallel communication of a table row and how much
 * of it the runtimes hide behind computation (issue 12 item 3): per
 * strategy, which collective runs during which compute phase, and the
 * exposed time max(0, comm - overlappable compute) per phase.
 *
 * Which comm overlaps which compute, as the runtimes do it:
 *   DDP      the accumulated gradients are all-reduced once per iteration
 *            in buckets (25 MB by default) launched as soon as a bucket's
 *            gradients are ready during the last micro-batch's backward
 *            (Li et al., "PyTorch Distributed: Experiences on Accelerating
 *            Data Parallel Training", PVLDB 13(12) 2020, s3.2.2 gradient
 *            bucketing, s3.2.3 overlapping computation with communication,
 *            s3.2.4 no_sync under gradient accumulation); ZeRO-1
 *            reduce-scatters them the same way (DeepSpeed overlap_comm).
 *   ZeRO-2   gradients reduce-scattered after every micro-batch's backward,
 *            bucketed during that backward likewise (Rajbhandari et al.,
 *            "ZeRO", SC 2020: P_os+g; DeepSpeed's overlap_comm buckets).
 *   FSDP     the next layer's parameter all-gather is prefetched while the
 *            current layer computes, in forward and (backward prefetch) in
 *            backward; the gradient reduce-scatter runs during the backward
 *            of the layers after it (Zhao et al., "PyTorch FSDP: Experiences
 *            on Scaling Fully Sharded Data Parallel", PVLDB 16(12) 2023, s3.3:
 *            overlapping, backward and forward prefetching; one NCCL
 *            stream, so a phase's gathers and reduce-scatters queue on it).
 *   ZeRO-1/2's gather of the updated shards after the optimizer step and
 *   TP's collectives (on the critical path of the layer's own math) stay
 *   exposed.
 *
 * Per row (a layer under a strategy), the comm of a phase is set against
 * the compute of the same phase of the layer itself: in the runtimes it
 * hides behind the neighbouring layer's compute (the next layer's forward,
 * the previous layer's backward), which the layer's own figure stands for;
 * exact inside a run of identical layers. The stage's edges (its first
 * layer's forward gather and last reduce-scatter / DDP bucket, which have
 * no neighbour to hide behind) are not charged apart: the table has no
 * per-stage term (method.md s6.4).
 *
 * Hidden communication still slows the compute it runs beside by the
 * profile's overlap coefficient (Galvatron's convention, cm->overlap_slow
 * >= 1): the hidden part costs (slow - 1) of itself. A fraction forced by
 * the options (--overlap, cm->overlap >= 0) replaces the modelled overlap
 * of every term above: exposed = comm (1 - ov) + comm ov (slow - 1).
 */
#include "cm_internal.h"

double uniap__cm_exposed(const uniap_costmodel *cm, double comm, double compute)
{
    double hidden;

    if (comm <= 0)
        return 0.0;
    if (cm->overlap >= 0)
        hidden = comm * cm->overlap;
    else
        hidden = compute <= 0 ? 0.0 : (comm < compute ? comm : compute);
    return comm - hidden + hidden * (cm->overlap_slow - 1.0);
}

int uniap__cm_dp_terms(const uniap_costmodel *cm, const uniap_strategy *s, const cm_placement *pl,
                       double shard_params, double pb, double gb, cm_dp_comm *out)
{
    double rs = 0.0, ag = 0.0;
    int rc;

    int g = uniap_strategy_dpcp(s); /* the gradient group: dp x cp (weights replicated over cp) */

    *out = (cm_dp_comm){0};
    if (g <= 1)
        return UNIAP_OK;
    if (s->flavour == UNIAP_DP_DDP)
        return cm_coll_time(&cm->index, UNIAP_COLL_ALLREDUCE, g, pl->dp_spans, shard_params * gb,
                            cm->warnings, &out->sync);
    if ((rc = cm_coll_time(&cm->index, UNIAP_COLL_REDUCESCATTER, g, pl->dp_spans, shard_params * gb,
                           cm->warnings, &rs)) < 0 ||
        (rc = cm_coll_time(&cm->index, UNIAP_COLL_ALLGATHER, g, pl->dp_spans, shard_params * pb,
                           cm->warnings, &ag)) < 0)
        return rc;
    if (s->flavour == UNIAP_DP_ZERO1) {
        out->sync = rs;
        out->post = ag;
    } else if (s->flavour == UNIAP_DP_ZERO2) {
        out->bwd = rs;
        out->post = ag;
    } else { /* FSDP: gather for forward; for backward (and recompute) + RS */
        out->fwd = ag;
        out->bwd = rs + (s->ckpt == UNIAP_CKPT_FULL ? 2 : 1) * ag;
    }
    return UNIAP_OK;
}
