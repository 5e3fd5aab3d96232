/*
 * cost_table.c - the cost table of one (deg, c) candidate: per layer and
 * strategy the per-micro-batch time, the per-iteration tail and the memory
 * terms, and the resharding and cross-stage matrices (the meaning of each
 * array is fixed by evaluate.c and uniap_costmodel.h).
 *
 * Rows are computed once per run of identical layers and copied to the
 * run's layers; the pair matrices once per run (they depend only on the
 * sending layer's boundary activation) and copied likewise.
 *
 * Notation: b = micro-batch (global batch / c), dp/tp of the strategy,
 * b_l = b / dp the local micro-batch, e = activation dtype bytes, P the
 * layer's parameters (unsharded). The groups' placement comes from the rank
 * layout of strategy.c; a table row holds for every stage, so a group is
 * costed as spanning nodes when it does so on any stage (identical on all
 * stages whenever n divides or is a multiple of devices_per_node).
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

/* Everything one row needs about the placement of strategy s. */
typedef struct placement {
    int tp_spans, dp_spans, stage_spans;
} placement;

static void place(const uniap_cluster *c, int deg, int n, const uniap_strategy *s, placement *pl)
{
    memset(pl, 0, sizeof(*pl));
    for (int j = 0; j < deg; j++) {
        pl->tp_spans |= cm_tp_spans(c, j * n, s);
        pl->dp_spans |= cm_dp_spans(c, j * n, s);
        pl->stage_spans |= cm_stage_spans(c, j * n, n);
    }
}

/* Input bytes of a layer at b_l samples: what a checkpointed layer keeps. */
static double layer_input_bytes(const uniap_model *m, const uniap_layer *l, double bl)
{
    double e = uniap_dtype_bytes(m->act_dtype);
    switch (l->kind) {
    case UNIAP_LAYER_EMBEDDING:
        return bl * (double)l->seq * 8.0; /* int64 token ids */
    case UNIAP_LAYER_PATCH_EMBED:
        return bl * l->channels * (double)l->image * (double)l->image * e;
    case UNIAP_LAYER_CROSS_DECODER:
        return bl * (double)(l->seq + l->kv_seq) * (double)l->hidden * e;
    default:
        return bl * (double)l->seq * (double)l->hidden * e;
    }
}

typedef cm_row_terms row;

/* Time of one Megatron TP all-reduce of msg bytes, or with sequence
 * parallelism its replacement, an all-gather plus a reduce-scatter of the
 * same full buffer (nccl-tests sizes: gathered output, scattered input). */
static int tp_collective(const uniap_costmodel *cm, const uniap_strategy *s, int spans, double msg,
                         double *t)
{
    double ag, rs;
    int rc;

    if (!s->sp)
        return cm_coll_time(&cm->index, UNIAP_COLL_ALLREDUCE, s->tp, spans, msg, cm->warnings, t);
    if ((rc = cm_coll_time(&cm->index, UNIAP_COLL_ALLGATHER, s->tp, spans, msg, cm->warnings,
                           &ag)) < 0 ||
        (rc = cm_coll_time(&cm->index, UNIAP_COLL_REDUCESCATTER, s->tp, spans, msg, cm->warnings,
                           &rs)) < 0)
        return rc;
    *t = ag + rs;
    return UNIAP_OK;
}

static int compute_row(const uniap_costmodel *cm, int r, int deg, int n, int b,
                       const uniap_strategy *s, row *out)
{
    const uniap_model *m = cm->model;
    const uniap_layer *l = &m->runs[r];
    double P = (double)uniap_layer_params(l), e = uniap_dtype_bytes(m->act_dtype);
    double pb, gb, ob, bl = (double)b / s->dp;
    cm_layer_point pt, ref;
    placement pl;
    int rc, nf, nb;

    memset(out, 0, sizeof(*out));
    if (!cm_layer_tp_ok(l, s->tp))
        return UNIAP_OK; /* allowed = 0 */
    out->allowed = 1;
    place(cm->cluster, deg, n, s, &pl);
    cm_state_bytes(m, &pb, &gb, &ob);
    if ((rc = cm_layer_at(cm->run_prof[r], s->tp, b / s->dp, cm->warnings, &pt)) < 0) {
        if (rc != UNIAP_EMISSING || !cm->opt.skip_unprofiled_tp)
            return rc;
        uniap_err_clear();
        cm_warn(cm->warnings,
                "profile lacks layer type '%s' at tp %d: its tp-%d strategies are "
                "left out",
                cm->run_sig[r], s->tp, s->tp);
        out->allowed = 0;
        return UNIAP_OK;
    }

    /* compute: forward + backward of the local shard; checkpointing
     * recomputes the forward once more before the backward */
    double compute = pt.fwd + pt.bwd + (s->ckpt ? pt.fwd : 0.0);

    /* TP: nf all-reduces in forward, nb in backward, each of the b_l x s x
     * h activation; the recomputed forward repeats its nf */
    double tp_comm = 0.0, one = 0.0;
    cm_layer_tp_allreduces(l, &nf, &nb);
    if (s->tp > 1 && nf + nb > 0) {
        double msg = bl * (double)l->seq * (double)l->hidden * e;
        if ((rc = tp_collective(cm, s, pl.tp_spans, msg, &one)) < 0)
            return rc;
        tp_comm = (nf + nb + (s->ckpt ? nf : 0)) * one;
    }

    /* DP per micro-batch. ZeRO-2 and FSDP keep only a 1/dp shard of the
     * gradients, so the gradients are reduce-scattered after every
     * micro-batch's backward (they cannot accumulate unsharded); FSDP also
     * all-gathers the parameter shard before forward and before backward
     * (and once more for a checkpointed layer's recompute). */
    double shard_params = P / s->tp;
    double dp_comm = 0.0, rs = 0.0, ag = 0.0;
    if (s->dp > 1) {
        if ((rc = cm_coll_time(&cm->index, UNIAP_COLL_REDUCESCATTER, s->dp, pl.dp_spans,
                               shard_params * gb, cm->warnings, &rs)) < 0 ||
            (rc = cm_coll_time(&cm->index, UNIAP_COLL_ALLGATHER, s->dp, pl.dp_spans,
                               shard_params * pb, cm->warnings, &ag)) < 0)
            return rc;
        if (s->flavour == UNIAP_DP_ZERO2)
            dp_comm = rs;
        else if (s->flavour == UNIAP_DP_FSDP)
            dp_comm = rs + (s->ckpt ? 3 : 2) * ag;
    }
    out->time = compute + tp_comm + dp_comm;
    out->compute = compute;
    out->tp_comm = tp_comm;
    out->dp_comm = dp_comm;

    /* Tail, once per iteration: DDP all-reduces the accumulated gradients,
     * ZeRO-1 reduce-scatters them (then all-gathers the updated parameter
     * shards); ZeRO-2 only all-gathers the updated shards; FSDP nothing.
     * The gradient reduction overlaps the last backward by the overlap
     * fraction, the hidden part slowing compute by the profile's overlap
     * coefficient. Then the optimizer step: Adam touches 28 bytes per
     * parameter in both precisions (mixed: 2 grad read + 4+4 master rw +
     * 8+8 moments rw + 2 param write; fp32: 4 + 8 + 8 + 8), memory-bound at
     * the device's bandwidth, on the 1/dp shard for ZeRO flavours. */
    double sync = 0.0, post = 0.0, opt_step = 0.0;
    if (s->dp > 1) {
        if (s->flavour == UNIAP_DP_DDP) {
            if ((rc = cm_coll_time(&cm->index, UNIAP_COLL_ALLREDUCE, s->dp, pl.dp_spans,
                                   shard_params * gb, cm->warnings, &sync)) < 0)
                return rc;
        } else if (s->flavour == UNIAP_DP_ZERO1) {
            sync = rs;
            post = ag;
        } else if (s->flavour == UNIAP_DP_ZERO2) {
            post = ag;
        }
    }
    double exposed = sync * (1.0 - cm->overlap) + sync * cm->overlap * (cm->overlap_slow - 1.0);
    double touched = gb + 2.0 * ob + (m->mixed_precision ? pb : 2.0 * pb);
    if (cm->cluster->mem_bandwidth > 0)
        opt_step = shard_params * touched / cm->cluster->mem_bandwidth /
                   (s->flavour == UNIAP_DP_DDP ? 1 : s->dp);
    else if (P > 0)
        cm_warn(cm->warnings, "cluster '%s' has no mem_bandwidth: optimizer step taken as 0",
                cm->cluster->name);
    out->tail = exposed + post + opt_step;
    out->sync_exposed = exposed;
    out->param_gather = post;
    out->optimizer = opt_step;

    /* Memory. States per cm_mem_states (Rajbhandari et al. 2020). Kept
     * activations: the profile's act_bytes at (tp, b_l); with sequence
     * parallelism every activation is sharded by tp (Korthikanti et al.
     * 2022: sbh(34 + 5as/h)/t), i.e. the tp-1 figure / tp. The profile's
     * peak_bytes is the transient above the parameters and the kept
     * activations (the profiler measures peak - base - kept). A checkpointed layer keeps its input
     * only (sharded by tp under SP) and its full activations become part of the transient peak
     * during recompute. FSDP's gathered parameters and unsharded gradients are transient too. */
    out->states = cm_mem_states(m, P, s);
    double act_full = pt.act_bytes;
    if (s->sp) {
        if ((rc = cm_layer_at(cm->run_prof[r], 1, b / s->dp, cm->warnings, &ref)) < 0)
            return rc;
        act_full = ref.act_bytes / s->tp;
    }
    double transient = pt.peak_bytes;
    if (s->ckpt) {
        out->act = layer_input_bytes(m, l, bl) / (s->sp ? s->tp : 1);
        out->peak = act_full + transient;
    } else {
        out->act = act_full;
        out->peak = transient;
    }
    if (s->flavour == UNIAP_DP_FSDP)
        out->peak += shard_params * (pb + gb) * (1.0 - 1.0 / s->dp);
    return UNIAP_OK;
}

int cm_row_breakdown(const uniap_costmodel *cm, int deg, int c, int r, const uniap_strategy *s,
                     cm_row_terms *out)
{
    int N = uniap_cluster_devices(cm->cluster);
    assert(deg >= 1 && N % deg == 0 && c >= 1 && r >= 0 && r < cm->model->n_runs);
    return compute_row(cm, r, deg, N / deg, (int)(cm->opt.global_batch / c), s, out);
}

/* Cross-stage transfer after a layer whose boundary activation is B bytes
 * per micro-batch, into receiver layout s: each receiving device gets a
 * distinct 1/(dp tp) piece point-to-point (senders hold every piece, so
 * the send side splits evenly), then without SP the TP group all-gathers
 * the full b_l x s x h it needs (Megatron's scatter-gather). Forward
 * activation plus backward gradient: twice. */
static int xstage_time(const uniap_costmodel *cm, int deg, int n, double B, const uniap_strategy *s,
                       int spans, double *out)
{
    double p2p = 0.0, ag = 0.0;
    placement pl;
    int rc;

    if ((rc = cm_coll_time(&cm->index, UNIAP_COLL_P2P, 2, spans, B / ((double)s->dp * s->tp),
                           cm->warnings, &p2p)) < 0)
        return rc;
    if (!s->sp && s->tp > 1) {
        place(cm->cluster, deg, n, s, &pl);
        if ((rc = cm_coll_time(&cm->index, UNIAP_COLL_ALLGATHER, s->tp, pl.tp_spans, B / s->dp,
                               cm->warnings, &ag)) < 0)
            return rc;
    }
    *out = 2.0 * (p2p + ag);
    return UNIAP_OK;
}

/* Keeps the strategies that some run allows. */
static void filter_strategies(const uniap_model *m, uniap_strategy *v, int *count)
{
    int k = 0;
    for (int i = 0; i < *count; i++) {
        int any = 0;
        for (int r = 0; r < m->n_runs && !any; r++)
            any = cm_layer_tp_ok(&m->runs[r], v[i].tp);
        if (any)
            v[k++] = v[i];
    }
    *count = k;
}

static int fill_pairs(const uniap_costmodel *cm, uniap_cost_table *t, int n, int b)
{
    const uniap_model *m = cm->model;
    int K = t->n_strategies, L = t->n_layers, deg = t->deg, rc = UNIAP_OK;
    size_t KK = (size_t)K * K;
    double *frac = malloc(KK * sizeof(double)), *blk[3] = {NULL, NULL, NULL};
    int *cls = malloc((size_t)K * sizeof(int));
    int need[2] = {0, 0}, stage_spans = 0;

    for (int j = 0; j + 1 < deg; j++)
        need[t->boundary_spans_nodes[j] ? 1 : 0] = 1;
    for (int j = 0; j < deg; j++)
        stage_spans |= cm_stage_spans(cm->cluster, j * n, n);
    for (int i = 0; i < 3; i++)
        blk[i] = malloc(KK * sizeof(double));
    if (!frac || !cls || !blk[0] || !blk[1] || !blk[2]) {
        rc = uniap_err(UNIAP_ENOMEM, "cost table: out of memory for %d x %d pairs", K, K);
        goto free_blocks;
    }
    /* layout fractions once per pair of distinct layouts (dp, tp,
     * placement, sp): flavour and checkpointing do not move activations */
    for (int k = 0; k < K; k++) {
        const uniap_strategy *a = &t->strategies[k];
        cls[k] = k;
        for (int k2 = 0; k2 < k && cls[k] == k; k2++) {
            const uniap_strategy *a2 = &t->strategies[k2];
            if (a2->dp == a->dp && a2->tp == a->tp && a2->sp == a->sp &&
                a2->tp_consecutive == a->tp_consecutive)
                cls[k] = cls[k2];
        }
    }
    for (int k = 0; k < K; k++)
        for (int l = 0; l < K; l++)
            if (cls[k] == k && cls[l] == l)
                frac[(size_t)k * K + l] =
                    cm_reshard_fraction(n, &t->strategies[k], &t->strategies[l]);
    for (int k = 0; k < K; k++)
        for (int l = 0; l < K; l++)
            frac[(size_t)k * K + l] = frac[(size_t)cls[k] * K + cls[l]];
    for (int r = 0; r < m->n_runs; r++) {
        const uniap_layer *ly = &m->runs[r];
        double B = cm_boundary_bytes(m, ly, b);
        int first = -1, last = -1;
        for (int u = 0; u < L - 1; u++)
            if (t->run_of[u] == r) {
                if (first < 0)
                    first = u;
                last = u;
            }
        if (first < 0)
            continue; /* only the model's last layer: no boundary after it */
        /* resharding on a stage: an all-to-all over the stage's n devices
         * in which each device fetches what it lacks (frac x B), forward
         * activation plus backward gradient */
        for (size_t kl = 0; kl < KK; kl++) {
            double a2a = 0.0;
            if (frac[kl] > 0 && (rc = cm_coll_time(&cm->index, UNIAP_COLL_ALLTOALL, n, stage_spans,
                                                   frac[kl] * B, cm->warnings, &a2a)) < 0)
                goto free_blocks;
            blk[0][kl] = 2.0 * a2a;
        }
        for (int s = 0; s < 2; s++) {
            for (int l = 0; l < K; l++) {
                double x = 0.0;
                if (need[s] && (rc = xstage_time(cm, deg, n, B, &t->strategies[l], s, &x)) < 0)
                    goto free_blocks;
                for (int k = 0; k < K; k++)
                    blk[1 + s][(size_t)k * K + l] = x;
            }
        }
        for (int u = first; u <= last; u++) {
            memcpy(t->reshard + (size_t)u * KK, blk[0], KK * sizeof(double));
            memcpy(t->xstage[0] + (size_t)u * KK, blk[1], KK * sizeof(double));
            memcpy(t->xstage[1] + (size_t)u * KK, blk[2], KK * sizeof(double));
        }
    }
free_blocks:
    free(frac);
    free(cls);
    for (int i = 0; i < 3; i++)
        free(blk[i]);
    return rc;
}

int uniap_costmodel_table(const uniap_costmodel *cm, int deg, int c, uniap_cost_table *out)
{
    const uniap_model *m = cm->model;
    int N = uniap_cluster_devices(cm->cluster), K = 0, rc;
    int64_t B = cm->opt.global_batch;
    uniap_strategy *strat = NULL;
    row *rows = NULL;

    memset(out, 0, sizeof(*out));
    if (deg < 1 || N % deg != 0 || deg > m->n_layers)
        return uniap_err(UNIAP_EINVAL,
                         "cost table: pipeline degree %d must divide the %d devices and not "
                         "exceed the %d layers",
                         deg, N, m->n_layers);
    if (c < 1 || B % c != 0)
        return uniap_err(UNIAP_EINVAL,
                         "cost table: %d micro-batches must divide the global batch %lld", c,
                         (long long)B);
    int n = N / deg, b = (int)(B / c);
    if ((rc = cm_strategies(n, b, &cm->opt, &strat, &K)) < 0)
        return rc;
    filter_strategies(m, strat, &K);
    if (K == 0) {
        rc = uniap_err(UNIAP_EINVAL,
                       "cost table: no strategy for stages of %d devices at micro-batch %d "
                       "(no dp x tp = %d with dp dividing %d that the layers allow)",
                       n, b, n, b);
        goto free_strat;
    }
    if ((rc = uniap_cost_table_alloc(out, deg, K, m->n_layers)) < 0)
        goto free_strat;
    memcpy(out->strategies, strat, (size_t)K * sizeof(*strat));
    out->micro_batches = c;
    out->micro_batch = b;
    out->stage_devices = n;
    out->mem_budget = (double)cm->cluster->device_memory - (double)cm->reserve;
    for (int j = 0; j + 1 < deg; j++)
        out->boundary_spans_nodes[j] = (unsigned char)cm_boundary_spans(cm->cluster, j, n);

    rows = malloc((size_t)K * sizeof(*rows));
    if (!rows) {
        rc = uniap_err(UNIAP_ENOMEM, "cost table: out of memory");
        goto free_table;
    }
    for (int r = 0, u0 = 0; r < m->n_runs; u0 += m->runs[r].count, r++) {
        for (int k = 0; k < K; k++)
            if ((rc = compute_row(cm, r, deg, n, b, &strat[k], &rows[k])) < 0)
                goto free_table;
        for (int u = u0; u < u0 + m->runs[r].count; u++) {
            out->run_of[u] = r;
            for (int k = 0; k < K; k++) {
                size_t uk = (size_t)u * K + k;
                out->allowed[uk] = rows[k].allowed;
                out->time[uk] = rows[k].time;
                out->tail[uk] = rows[k].tail;
                out->mem_states[uk] = rows[k].states;
                out->mem_act[uk] = rows[k].act;
                out->mem_peak[uk] = rows[k].peak;
            }
        }
    }
    if ((rc = fill_pairs(cm, out, n, b)) < 0)
        goto free_table;
    rc = UNIAP_OK;
    goto free_strat;

free_table:
    uniap_cost_table_free(out);
free_strat:
    free(rows);
    free(strat);
    return rc;
}
