/*
 * analytic.c - the analytic device model: a profile dataset computed from
 * the cluster spec's datasheet figures, for hardware one cannot measure.
 * Provenance "analytic". Memory figures are affine in the micro-batch;
 * GEMM times are too except for wave quantization (a step function of the
 * tile count), so interpolation between rows is exact only at the rows:
 * rows are computed at every micro-batch the cost table queries.
 *
 * Layer time (per kernel class, summed: the roofline applied per class):
 * the shard's GEMMs at the compute the device really reaches (peak x the
 * achievable fraction of its BLAS x each GEMM's wave-quantization
 * utilization; flash attention at its own fraction: gemm_eff.c) + bytes
 * the memory-bound kernels move / memory bandwidth + kernels x a fixed
 * per-kernel overhead. Backward: each GEMM's data and weight gradients
 * (twice the FLOPs), twice the bytes, twice the kernels. FP8 training
 * (l->fp8): the Linear GEMMs at the FP8 rate, plus the bytes of their FP8
 * casts (gemm_eff.c).
 *
 * Activation bytes: Korthikanti et al. 2022, generalized per layer kind;
 * each kind's activation bytes per token, GEMM FLOPs and kernel count are
 * its descriptor's (layer_kinds.c, with the derivation).
 *
 * Collectives (alpha-beta): time = latency + bytes x busbw_factor(op, n) /
 * bus bandwidth, the bandwidth NCCL achieves on the intra-node or
 * inter-node link by placement (the cluster's *_busbw, nccl-tests figures;
 * unknown: the link rate *_bw), for every op, every group size that divides the
 * world size (the groups a stage can form), both placements where they
 * exist, 4 KiB to 1 GiB doubling.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

#define KERNEL_OVERHEAD 5e-6 /* s: launch + inter-kernel gap of an eager framework */

/* One analytic layer row at (tp, micro_batch). */
static void layer_row(const uniap_model *m, const uniap_cluster *c, const uniap_layer *l, int tp,
                      int mb, uniap_layer_prof *row)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    int64_t e = uniap_dtype_bytes(m->act_dtype), repl = 0, shard = 0;
    cm_gemm_device dev;
    int64_t param_bytes = uniap_layer_params(l) / tp * uniap_dtype_bytes(m->param_dtype);
    int64_t tokens = (int64_t)mb * l->seq;

    if (d->act_per_token)
        d->act_per_token(l, e, &repl, &shard);
    int64_t act = tokens * repl + tokens * shard / tp;
    /* transient above the kept activations: the gradient of the widest
     * intermediate of the backward (scores, the ffn-wide tensors or the
     * logits), per token of the shard */
    int64_t s_att = uniap__cm_attn_span(l);
    /* flash attention materializes no score tensor, nor its gradient
     * (Dao et al. 2022 s3.1: tiles in on-chip memory) */
    int64_t widest = l->flash_attn ? 0 : l->heads * s_att * e;
    if (l->ffn * e * (l->activation == UNIAP_ACT_SWIGLU ? 2 : 1) > widest)
        widest = l->ffn * e * (l->activation == UNIAP_ACT_SWIGLU ? 2 : 1);
    if (d->widest)
        widest = d->widest(l, e);
    int64_t transient = tokens * (widest / tp + l->hidden * e);

    /* compute: each GEMM of the shard at the device's achievable
     * fraction of peak times its wave-quantization utilization, the
     * attention core by the layer's implementation (gemm_eff.c) */
    double fwd_gemm, bwd_gemm, cast_fwd, cast_bwd;
    if (l->fp8) /* the Linear GEMMs at the FP8 rate (gemm_eff.c) */
        uniap__cm_gemm_device_fp8(c, &dev);
    else
        uniap__cm_gemm_device(c, m->act_dtype == UNIAP_DTYPE_FP32, &dev);
    uniap__cm_gemm_layer_seconds(&dev, l, (double)tokens, tp, l->flash_attn, &fwd_gemm, &bwd_gemm);
    /* memory-bound (element-wise) traffic at the memory bandwidth: the
     * weights once, the kept activations (eager attention's score tensor
     * among them) written and read back once more by the next kernel;
     * backward twice that. An
     * embedding lookup instead reads only the rows it gathers and writes
     * its output (b s h each), while its backward writes the dense gradient
     * of the whole table shard. */
    double fwd_bytes = (double)param_bytes + 2.0 * (double)act;
    double bwd_bytes = 2.0 * fwd_bytes;
    if (d->lookup) {
        double rows = (double)tokens * (double)l->hidden * (double)e;
        fwd_bytes = 2.0 * rows + (double)act;
        bwd_bytes = (double)param_bytes + 2.0 * rows;
    }
    /* FP8: the casts of the Linear inputs and output gradients */
    uniap__cm_fp8_cast_bytes(l, (double)tokens, tp, &cast_fwd, &cast_bwd);
    fwd_bytes += cast_fwd;
    bwd_bytes += cast_bwd;
    double fwd = fwd_gemm + fwd_bytes / c->mem_bandwidth + d->kernels_fwd * KERNEL_OVERHEAD;
    double bwd = bwd_gemm + bwd_bytes / c->mem_bandwidth + 2 * d->kernels_fwd * KERNEL_OVERHEAD;

    memset(row, 0, sizeof(*row));
    uniap_layer_signature(l, row->layer_type, sizeof(row->layer_type));
    row->tp = tp;
    row->micro_batch = mb;
    row->rank = -1;
    row->fwd = (uniap_stat){fwd, fwd, fwd, 1};
    row->bwd = (uniap_stat){bwd, bwd, bwd, 1};
    row->act_bytes = act;
    row->peak_bytes = transient; /* above the kept activations */
    row->param_bytes = param_bytes;
}

/* The curves of one placement (spans: across nodes): every op over every
 * group size g >= 2 dividing the world (the groups a stage or a strategy
 * can form: stage sizes divide the world, dp and tp divide a stage), and
 * p2p (pairs, whatever the world size: stage boundaries exist for every
 * pipeline degree > 1). */
static int add_placement(const uniap_cluster *c, int spans, uniap_profile *out)
{
    int N = uniap_cluster_devices(c), rc;
    /* the bus bandwidth collectives achieve on the link (nccl-tests
     * figures of the cluster spec: io/cluster_spec.c [BUSBW]), else the
     * link rate */
    double busbw = spans ? c->inter_node_busbw : c->intra_node_busbw;
    double bw = busbw > 0 ? busbw : spans ? c->inter_node_bw : c->intra_node_bw;
    double lat = spans ? c->inter_node_latency : c->intra_node_latency;

    if (!(bw > 0))
        return uniap_err(UNIAP_EMISSING,
                         "cluster '%s' lacks %s for the analytic collectives (groups %s)", c->name,
                         spans ? "inter_node_bw" : "intra_node_bw",
                         spans ? "across nodes" : "inside a node");
    if ((rc = cm_add_modelled_curve(out, UNIAP_COLL_P2P, 2, spans, lat, bw, 1)) < 0)
        goto bad_figures;
    for (int g = 2; g <= N; g++) {
        if (N % g || (spans == 0 && g > c->devices_per_node))
            continue; /* not a group of this cluster, or cannot fit in one node */
        for (int op = 0; op < UNIAP_COLL_COUNT; op++)
            if (op != UNIAP_COLL_P2P &&
                (rc = cm_add_modelled_curve(out, (uniap_coll_op)op, g, spans, lat, bw, 1)) < 0)
                goto bad_figures;
    }
    return UNIAP_OK;

bad_figures:
    return rc == UNIAP_EINVAL ? uniap_err(rc, "cluster '%s': %s %g, %s %g", c->name,
                                          spans ? "inter_node_bw" : "intra_node_bw", bw,
                                          spans ? "inter_node_latency" : "intra_node_latency", lat)
                              : rc;
}

static int add_colls(const uniap_cluster *c, uniap_profile *out)
{
    int rc;

    /* inside a node: where a node has two devices; spanning: several nodes */
    if (c->devices_per_node >= 2 && (rc = add_placement(c, 0, out)) < 0)
        return rc;
    if (c->nodes >= 2 && (rc = add_placement(c, 1, out)) < 0)
        return rc;
    return UNIAP_OK;
}

int cm_add_modelled_curve(uniap_profile *out, uniap_coll_op op, int g, int spans, double latency,
                          double busbw, int count)
{
    double f = uniap_busbw_factor(op, g);
    int rc;

    for (int64_t bytes = 4096; bytes <= GiB; bytes *= 2) {
        uniap_coll_prof row;
        double t = latency + (double)bytes * f / busbw;
        if (!isfinite(t) || !(t > 0))
            return uniap_err(UNIAP_EINVAL,
                             "modelled %s over a group of %d %s: latency %g s and bandwidth %g "
                             "B/s give %g s for %lld bytes, expected a finite time > 0",
                             uniap_coll_name(op), g, spans ? "across nodes" : "inside a node",
                             latency, busbw, t, (long long)bytes);
        memset(&row, 0, sizeof(row));
        row.op = op;
        row.group_size = g;
        row.spans_nodes = spans;
        row.src = row.dst = -1;
        row.bytes = bytes;
        row.time = (uniap_stat){t, t, t, count};
        row.algbw = (double)bytes / t;
        row.busbw = row.algbw * f;
        if ((rc = uniap_profile_add_coll(out, &row)) < 0)
            return rc;
    }
    return UNIAP_OK;
}

int uniap_profile_analytic(const uniap_model *m, const uniap_cluster *c, const int *micro_batches,
                           int n_micro_batches, uniap_profile *out)
{
    int N = uniap_cluster_devices(c), rc;
    char sig[96], prev[96] = "";

    memset(out, 0, sizeof(*out));
    uniap_profile_init(out);
    snprintf(out->provenance, sizeof(out->provenance), "analytic");
    out->world_size = N;
    out->complete = 1;
    if (!(c->peak_flops > 0) || !(c->mem_bandwidth > 0)) {
        rc = uniap_err(UNIAP_EMISSING,
                       "cluster '%s' lacks %s: the analytic device model needs the datasheet "
                       "peak FLOP/s and memory bandwidth",
                       c->name, c->peak_flops > 0 ? "mem_bandwidth" : "peak_flops");
        goto free_profile;
    }
    if ((rc = uniap__cm_fp8_check(m, c, "analytic device model")) < 0)
        goto free_profile;
    if (n_micro_batches < 1) {
        rc = uniap_err(UNIAP_EINVAL, "analytic profile: no micro-batch sizes given");
        goto free_profile;
    }
    for (int r = 0; r < m->n_runs; r++) {
        const uniap_layer *l = &m->runs[r];
        if ((rc = uniap_layer_signature(l, sig, sizeof(sig))) < 0)
            goto free_profile;
        int dup = strcmp(sig, prev) == 0;
        for (int q = 0; q < r && !dup; q++) {
            char other[96];
            uniap_layer_signature(&m->runs[q], other, sizeof(other));
            dup = strcmp(sig, other) == 0;
        }
        snprintf(prev, sizeof(prev), "%s", sig);
        if (dup)
            continue;
        for (int tp = 1; tp <= N; tp++) {
            if (N % tp || !cm_layer_tp_ok(l, tp))
                continue;
            for (int i = 0; i < n_micro_batches; i++) {
                uniap_layer_prof row;
                if (micro_batches[i] < 1) {
                    rc = uniap_err(UNIAP_EINVAL, "analytic profile: micro-batch %d, expected >= 1",
                                   micro_batches[i]);
                    goto free_profile;
                }
                layer_row(m, c, l, tp, micro_batches[i], &row);
                if (!isfinite(row.fwd.median) || !isfinite(row.bwd.median) || row.act_bytes < 0 ||
                    row.peak_bytes < 0) {
                    rc = uniap_err(UNIAP_EINVAL,
                                   "cluster '%s': peak_flops %g and mem_bandwidth %g give layer "
                                   "'%s' (tp %d, micro-batch %d) a forward time of %g s: "
                                   "expected finite figures of a real device",
                                   c->name, c->peak_flops, c->mem_bandwidth, sig, tp,
                                   micro_batches[i], row.fwd.median);
                    goto free_profile;
                }
                if ((rc = uniap_profile_add_layer(out, &row)) < 0)
                    goto free_profile;
            }
        }
    }
    if ((rc = add_colls(c, out)) < 0)
        goto free_profile;
    /* the specs ride along so that the dataset says what it was computed for */
    if (uniap_model_to_json(m, &out->model_json) < 0 ||
        uniap_cluster_to_json(c, &out->cluster_json) < 0)
        uniap_err_clear(); /* optional metadata */
    return UNIAP_OK;

free_profile:
    uniap_profile_free(out);
    return rc;
}

double uniap__cm_wgrad_share(const uniap_model *m, const uniap_cluster *c, const uniap_layer *l,
                             int tp, int mb)
{
    uniap_layer_prof row;
    cm_gemm_device dev;

    if (!(c->peak_flops > 0) || !(c->mem_bandwidth > 0) || mb < 1 || tp < 1)
        return 0.0;
    layer_row(m, c, l, tp, mb, &row); /* the backward it is a share of */
    if (l->fp8)
        uniap__cm_gemm_device_fp8(c, &dev);
    else
        uniap__cm_gemm_device(c, m->act_dtype == UNIAP_DTYPE_FP32, &dev);
    double w = uniap__cm_gemm_layer_wgrad_seconds(&dev, l, (double)mb * l->seq, tp);
    double share = row.bwd.median > 0 ? w / row.bwd.median : 0.0;
    return isfinite(share) && share > 0 ? fmin(share, 0.5) : 0.0;
}
