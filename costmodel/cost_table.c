/*
 * cost_table.c - the cost table of one (deg, c) candidate: per layer and
 * strategy the per-micro-batch time, the per-iteration tail and the memory
 * terms, and the resharding and cross-stage matrices (the meaning of each
 * array is fixed by evaluate.c and uniap_costmodel.h).
 *
 * Rows are computed once per run of identical layers and copied to the
 * run's layers; the pair matrices (cost_pairs.c) once per run (they depend
 * only on the sending layer's boundary activation) and copied likewise.
 *
 * Notation: b = micro-batch (global batch / c), dp/cp/tp of the strategy,
 * b_l = b / dp the local micro-batch (of seq / cp tokens per sample under
 * context parallelism: the profile's figures at (tp, b_l / cp),
 * cm_cp_layer_at), e = activation dtype bytes, P the
 * layer's parameters (unsharded). The groups' placement comes from the rank
 * layout of strategy.c; a table row holds for every stage, so a group is
 * costed as spanning nodes when it does so on any stage (identical on all
 * stages whenever n divides or is a multiple of devices_per_node).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

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

/* A figure of a table entry: finite, >= 0 and within max, else EINVAL
 * naming the entry and the inputs that produce it. */
int cm_check_figure(const uniap_costmodel *cm, double v, double max, const char *entry,
                    const char *unit)
{
    const uniap_cluster *c = cm->cluster;
    if (isfinite(v) && v >= 0 && v <= max)
        return UNIAP_OK;
    return uniap_err(UNIAP_EINVAL,
                     "cost model: %s = %g %s is %s: the cluster spec's figures (cluster '%s': "
                     "peak_flops %g, mem_bandwidth %g, intra_node_bw %g, inter_node_bw %g, "
                     "latencies %g and %g s) or the figures of %s are absurd",
                     entry, v, unit,
                     !isfinite(v) ? "not finite"
                     : v < 0      ? "negative"
                                  : "beyond any real run's",
                     c->name, c->peak_flops, c->mem_bandwidth, c->intra_node_bw, c->inter_node_bw,
                     c->intra_node_latency, c->inter_node_latency, cm->label);
}

static int check_row(const uniap_costmodel *cm, int r, const uniap_strategy *s, const row *x)
{
    char e[192];
    const struct {
        const char *name;
        double v, max;
        const char *unit;
    } f[] = {
        {"time per micro-batch", x->time, CM_MAX_SECONDS, "s"},
        {"tail per iteration", x->tail, CM_MAX_SECONDS, "s"},
        {"model states", x->states, CM_MAX_BYTES, "B"},
        {"activations", x->act, CM_MAX_BYTES, "B"},
        {"transient peak", x->peak, CM_MAX_BYTES, "B"},
    };
    int rc;

    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        snprintf(e, sizeof(e), "layer type '%s' under %s: %s", cm->run_sig[r], s->name, f[i].name);
        if ((rc = cm_check_figure(cm, f[i].v, f[i].max, e, f[i].unit)) < 0)
            return rc;
    }
    return UNIAP_OK;
}

/* Memory. States per cm_mem_states (Rajbhandari et al. 2020), plus the
 * last stage's copy of tied word embeddings (cm_tied_copy_params) and FP8
 * training's weight copies (cm_fp8_weight_bytes). Kept
 * activations: the profile's act_bytes at (tp, b_l); with sequence
 * parallelism every activation is sharded by tp (Korthikanti et al. 2022
 * s4.2.2: sbh(34 + 5as/h)/t), i.e. the tp-1 figure / tp. The profile's
 * peak_bytes is the transient above the parameters and the kept
 * activations (the profiler measures peak - base - kept). A fully
 * checkpointed layer keeps its input only (sharded by tp under SP) and its
 * full activations become part of the transient peak during recompute. A
 * selectively checkpointed one (Korthikanti et al. 2022 s5) keeps all but
 * the attention scores (the kind's scores, sharded by heads over tp), which
 * its backward rebuilds: a transient. FSDP's gathered parameters and
 * unsharded gradients are transient too. */
static int memory_terms(const uniap_costmodel *cm, int r, int u, int deg, int b,
                        const uniap_strategy *s, const cm_layer_point *pt, row *out)
{
    const uniap_model *m = cm->model;
    const uniap_layer *l = &m->runs[r];
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    double P = (double)uniap_layer_params(l), pb, gb, ob, bl = (double)b / s->dp;
    cm_layer_point ref;
    int rc;

    cm_state_bytes(m, &pb, &gb, &ob);
    out->states = cm_moe_states(m, l, s); /* cm_mem_states; ep > 1: two parts */
    if (l->kind == UNIAP_LAYER_HEAD)
        out->states += cm_mem_states(m, cm_tied_copy_params(m, l, deg), s);
    out->states += cm_fp8_weight_bytes(l, s); /* Transformer Engine's FP8 copies */
    double act_full = pt->act_bytes;
    if (s->sp) {
        if ((rc = cm_cp_layer_at(cm_layer_prof(cm, r, u, 1), 1, b / s->dp, uniap_strategy_cp(s),
                                 cm->warnings, &ref)) < 0)
            return rc; /* the message names the profile */
        act_full = ref.act_bytes / s->tp;
    }
    double transient = pt->peak_bytes;
    if (s->ckpt == UNIAP_CKPT_FULL) {
        out->act = cm_layer_input_bytes(m, l, bl) / (s->sp ? s->tp : 1) / uniap_strategy_cp(s);
        out->peak = act_full + transient;
    } else if (s->ckpt == UNIAP_CKPT_SELECTIVE && d->scores) {
        double e = uniap_dtype_bytes(m->act_dtype);
        double scores =
            bl * (double)l->seq * (double)d->scores(l, (int64_t)e) / s->tp / uniap_strategy_cp(s);
        out->act = act_full > scores ? act_full - scores : 0.0;
        out->peak = transient + scores;
    } else {
        out->act = act_full;
        out->peak = transient;
    }
    if (s->flavour == UNIAP_DP_FSDP) { /* each part gathered over its group */
        cm_moe_part mp;
        cm_moe_split(l, s, &mp);
        out->peak += mp.dense / s->tp * (pb + gb) * (1.0 - 1.0 / uniap_strategy_dpcp(s));
        if (mp.expert > 0 && mp.expert_s.flavour == UNIAP_DP_FSDP)
            out->peak +=
                mp.expert / s->tp * (pb + gb) * (1.0 - 1.0 / uniap_strategy_dpcp(&mp.expert_s));
    }
    (void)P;
    return UNIAP_OK;
}

/* Forward time a checkpointed layer repeats: all of it (full), or the
 * attention core's share of its forward GEMM FLOPs (selective: the core,
 * Korthikanti et al. 2022 s5; the profile times the layer as a whole). */
static double recompute_time(const uniap_layer *l, const uniap_strategy *s, double fwd)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    if (s->ckpt == UNIAP_CKPT_FULL)
        return fwd;
    if (s->ckpt != UNIAP_CKPT_SELECTIVE || !d->core_flops || !d->gemm_flops || l->flash_attn)
        return 0.0;
    double all = d->gemm_flops(l);
    return all > 0 ? fwd * d->core_flops(l) / all : 0.0;
}

/* The tied embeddings' gradient all-reduce between the first and the last
 * stage (cm_tied_copy_params), each of the dp x tp pairs its 1/tp shard: a
 * ring all-reduce of two ranks moves each byte once each way (bus
 * bandwidth factor 2(n-1)/n = 1), timed as one p2p transfer of the shard
 * over the first-to-last link. */
static int tied_sync(const uniap_costmodel *cm, int r, int deg, int n, const uniap_strategy *s,
                     double gb, double *t)
{
    double V = cm_tied_copy_params(cm->model, &cm->model->runs[r], deg);
    int spans = (int64_t)(deg - 1) * n >= cm->cluster->devices_per_node;

    *t = 0.0;
    if (V <= 0)
        return UNIAP_OK;
    return cm_coll_time(&cm->index, UNIAP_COLL_P2P, 2, spans, V / s->tp * gb, cm->warnings, t);
}

/* The row of run r (layer u of it: its per-position rows where the
 * profile has them; u < 0: the run's signature rows) under s. */
static int compute_row(const uniap_costmodel *cm, int r, int u, int deg, int n, int b,
                       const uniap_strategy *s, row *out)
{
    const uniap_model *m = cm->model;
    const uniap_layer *l = &m->runs[r];
    double P = (double)uniap_layer_params(l), e = uniap_dtype_bytes(m->act_dtype);
    double pb, gb, ob, bl = (double)b / s->dp;
    cm_layer_point pt;
    cm_placement pl;
    int rc, nf, nb;

    memset(out, 0, sizeof(*out));
    UNIAP_CHECK(s->dp >= 1 && s->tp >= 1 && uniap_strategy_dpcp(s) * s->tp == n && b % s->dp == 0 &&
                (unsigned)s->flavour <= UNIAP_DP_FSDP);
    if (!cm_layer_tp_ok(l, s->tp) || !cm_layer_cp_ok(l, s) || !cm_layer_ep_ok(l, s))
        return UNIAP_OK; /* allowed = 0 */
    cm_place(cm->cluster, deg, n, s, &pl);
    if (cm->opt.skip_unprofiled_tp && !cm_strategy_has_data(cm, deg, r, s, &pl))
        return UNIAP_OK; /* allowed = 0, warned */
    out->allowed = 1;
    cm_state_bytes(m, &pb, &gb, &ob);
    if ((rc = cm_cp_layer_at(cm_layer_prof(cm, r, u, s->tp), s->tp, b / s->dp, uniap_strategy_cp(s),
                             cm->warnings, &pt)) < 0)
        return rc; /* the message names the profile */

    /* compute: forward + backward of the local shard; checkpointing
     * recomputes the forward once more before the backward */
    double compute = pt.fwd + pt.bwd + recompute_time(l, s, pt.fwd);

    /* TP: nf all-reduces in forward, nb in backward, each of the b_l x s x
     * h activation; the recomputed forward repeats its nf. None when the
     * profile's layer times already contain them (profile format 1.2
     * layer_times_include_tp_comm: AMP times its tp > 1 layers with the
     * all-reduces inside, and its recompute repeats the measured forward) */
    double tp_comm = 0.0, one = 0.0;
    cm_layer_tp_allreduces(l, &nf, &nb);
    if (s->tp > 1 && nf + nb > 0 && !cm->profile->tp_comm_in_layers) {
        double msg = bl * (double)l->seq / uniap_strategy_cp(s) * (double)l->hidden * e;
        if ((rc = tp_collective(cm, s, pl.tp_spans, msg, &one)) < 0)
            return rc; /* the message names the profile */
        tp_comm = (nf + nb + (s->ckpt == UNIAP_CKPT_FULL ? nf : 0)) * one;
    }
    /* DP: the phases' collectives (overlap.c: which runs beside which
     * compute), exposed per phase as max(0, comm - that phase's compute):
     * forward gathers beside the forward, backward gathers and
     * reduce-scatters beside the backward and its recompute */
    double opt_step = 0.0, bwd_phase = compute - pt.fwd;
    cm_dp_comm dp;
    if ((rc = cm_moe_dp_terms(cm, l, s, &pl, pb, gb, &dp)) < 0)
        return rc; /* the message names the profile */
    double dp_comm =
        uniap__cm_exposed(cm, dp.fwd, pt.fwd) + uniap__cm_exposed(cm, dp.bwd, bwd_phase);
    /* CP: the attention's KV ring or all-to-alls (cp_comm.c), exposed */
    double cp_fwd = 0.0, cp_bwd = 0.0, cp_all = 0.0;
    if ((rc = cm_cp_comm(cm, l, s, &pl, bl, pt.fwd, pt.bwd, recompute_time(l, s, pt.fwd) > 0,
                         &cp_fwd, &cp_bwd, &cp_all)) < 0)
        return rc; /* the message names the profile */
    /* EP: the slowest rank's extra expert compute and the dispatch and
     * combine all-to-alls (moe_comm.c), on the critical path */
    cm_moe_terms ep;
    if ((rc = cm_moe_comm(cm, l, s, &pl, bl, compute, s->ckpt == UNIAP_CKPT_FULL, &ep)) < 0)
        return rc; /* the message names the profile */
    compute += ep.imbalance;
    out->time = compute + tp_comm + dp_comm + cp_fwd + cp_bwd + ep.a2a_fwd + ep.a2a_bwd;
    /* W (zero-bubble schedules, Qi et al. 2024 section 2): the weight-
     * gradient GEMMs of the backward. Measured (profile format 1.3: both
     * profiler backends time every Linear's dw GEMM and bias sum apart)
     * where the profile has it; where it times the backward whole
     * (imports, older files), W is its analytic share (the Linear wgrad GEMMs over
     * the analytic backward of the same shard: exactly those GEMMs'
     * seconds on an analytic profile); recompute, collectives, the
     * attention core, norms and activations stay in B */
    int wmb = b / s->dp / uniap_strategy_cp(s); /* the share at >= 1 sample (CP splits below) */
    out->wgrad = pt.wgrad_known
                     ? pt.wgrad
                     : pt.bwd * uniap__cm_wgrad_share(m, cm->cluster, l, s->tp, wmb > 1 ? wmb : 1);
    /* ZB-H1's bubble F + B - W per stage needs W <= F + B (sched_zbh1.c;
     * the table check holds every row to it). A measured W can pass that
     * on tiny layers, where the dW GEMMs' fixed costs outweigh a forward
     * of a few microseconds; held to half the layer's compute it only
     * makes the zero-bubble TPI larger (conservative), never smaller */
    out->wgrad = fmin(out->wgrad, 0.5 * (pt.fwd + pt.bwd));
    /* the forward phase alone (pictures: uniap show): the layer's forward,
     * its nf TP collectives, its exposed CP exchange and the exposed
     * gathers beside it */
    out->forward = pt.fwd + (tp_comm > 0 ? nf * one : 0.0) + cp_fwd +
                   uniap__cm_exposed(cm, dp.fwd, pt.fwd) + ep.a2a_fwd;
    out->compute = compute;
    out->tp_comm = tp_comm;
    out->cp_comm = cp_fwd + cp_bwd;
    out->cp_hidden = cp_all - out->cp_comm;
    out->ep_comm = ep.a2a_fwd + ep.a2a_bwd;
    out->dp_comm = dp_comm;
    out->dp_hidden = dp.fwd + dp.bwd - dp_comm;

    /* Tail, once per iteration: the gradient sync (DDP all-reduce, ZeRO-1
     * reduce-scatter) runs in buckets beside the last micro-batch's
     * backward (overlap.c), exposed as max(0, sync - backward phase); the
     * tied embeddings' all-reduce (after the pipeline flush, Megatron's
     * finalize_model_grads) and the gather of the updated shards after the
     * optimizer step are exposed; then the optimizer step: Adam touches
     * 28 bytes per parameter in both precisions (mixed: 2 grad read + 4+4
     * master rw + 8+8 moments rw + 2 param write; fp32: 4 + 8 + 8 + 8),
     * memory-bound at the device's bandwidth, on the 1/dp shard for ZeRO
     * flavours. */
    double tied = 0.0;
    if ((rc = tied_sync(cm, r, deg, n, s, gb, &tied)) < 0)
        return rc; /* the message names the profile */
    double post = dp.post, exposed = uniap__cm_exposed(cm, dp.sync, bwd_phase) + tied;
    double touched = cm_optimizer_touched(m);
    if (cm->cluster->mem_bandwidth > 0)
        opt_step = cm_moe_step_seconds(l, s, touched, cm->cluster->mem_bandwidth);
    else if (P > 0)
        cm_warn(cm->warnings, "cluster '%s' has no mem_bandwidth: optimizer step taken as 0",
                cm->cluster->name);
    out->tail = exposed + post + opt_step;
    out->sync_exposed = exposed;
    out->sync_hidden = dp.sync + tied - exposed;
    out->param_gather = post;
    out->optimizer = opt_step;
    if ((rc = memory_terms(cm, r, u, deg, b, s, &pt, out)) < 0)
        return rc;
    return check_row(cm, r, s, out);
}

int cm_row_breakdown(const uniap_costmodel *cm, int deg, int c, int r, const uniap_strategy *s,
                     cm_row_terms *out)
{
    int N = uniap_cluster_devices(cm->cluster);
    UNIAP_CHECK(deg >= 1 && N % deg == 0 && uniap_micro_batch_size(cm->opt.global_batch, c) > 0 &&
                r >= 0 && r < cm->model->n_runs);
    return compute_row(cm, r, -1, deg, N / deg,
                       (int)uniap_micro_batch_size(cm->opt.global_batch, c), s, out);
}

int cm_layer_row_breakdown(const uniap_costmodel *cm, int deg, int c, int u,
                           const uniap_strategy *s, cm_row_terms *out)
{
    int N = uniap_cluster_devices(cm->cluster);
    UNIAP_CHECK(deg >= 1 && N % deg == 0 && uniap_micro_batch_size(cm->opt.global_batch, c) > 0 &&
                u >= 0 && u < cm->model->n_layers);
    return compute_row(cm, uniap_model_run_of(cm->model, u), u, deg, N / deg,
                       (int)uniap_micro_batch_size(cm->opt.global_batch, c), s, out);
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

/* Every entry of a finished table is a finite cost >= 0: what reaches the
 * solver is never NaN, infinite or negative (rows and pairs were checked
 * against their inputs as they were computed; this is the invariant). */
static int check_table(const uniap_cost_table *t)
{
    size_t LK = (size_t)t->n_layers * t->n_strategies;
    size_t pairs = (t->n_layers > 1 ? (size_t)t->n_pairs : 0) * t->n_strategies * t->n_strategies;
    const double *per_layer[] = {t->time,       t->wgrad,   t->tail,
                                 t->mem_states, t->mem_act, t->mem_peak};
    const double *per_pair[] = {t->reshard, t->xstage[0], t->xstage[1]};

    for (size_t a = 0; a < sizeof(per_layer) / sizeof(per_layer[0]); a++)
        for (size_t i = 0; i < LK; i++)
            UNIAP_CHECK(isfinite(per_layer[a][i]) && per_layer[a][i] >= 0);
    for (size_t a = 0; a < sizeof(per_pair) / sizeof(per_pair[0]); a++)
        for (size_t i = 0; i < pairs; i++)
            UNIAP_CHECK(isfinite(per_pair[a][i]) && per_pair[a][i] >= 0);
    return UNIAP_OK;
}

/* The K rows of run r (layer u of it; u < 0: the run's signature; u0 its
 * first layer) in table t at micro-batch b; EMISSING when the layer has
 * strategies but the profile has data for none. */
static int strategy_rows(const uniap_costmodel *cm, const uniap_cost_table *t, int r, int u0, int u,
                         int b, row *rows)
{
    const uniap_model *m = cm->model;
    int any = 0, shape = 0, rc;

    for (int k = 0; k < t->n_strategies; k++) {
        if ((rc = compute_row(cm, r, u, t->deg, t->stage_devices, b, &t->strategies[k], &rows[k])) <
            0)
            return rc;
        any |= rows[k].allowed;
        shape |= cm_layer_tp_ok(&m->runs[r], t->strategies[k].tp);
    }
    if (!any && shape) /* every strategy it has lacks data */
        return uniap_err(UNIAP_EMISSING,
                         "%s: layer %d (type '%s') has no strategy the profile has data for on %d "
                         "stages of %d devices at micro-batch %d:\n%s",
                         cm->label, u >= 0 ? u : u0, cm->run_sig[r], t->deg, t->stage_devices, b,
                         uniap_costmodel_warnings(cm));
    return UNIAP_OK;
}

static void store_rows(uniap_cost_table *t, int u, int r, const row *rows)
{
    int K = t->n_strategies;
    t->run_of[u] = r;
    for (int k = 0; k < K; k++) {
        size_t uk = (size_t)u * K + k;
        t->allowed[uk] = rows[k].allowed;
        t->time[uk] = rows[k].time;
        t->wgrad[uk] = rows[k].wgrad;
        t->tail[uk] = rows[k].tail;
        t->mem_states[uk] = rows[k].states;
        t->mem_act[uk] = rows[k].act;
        t->mem_peak[uk] = rows[k].peak;
    }
}

/* The per-layer rows of table t (strategies, deg, stage devices set) at
 * micro-batch b: computed once per run and copied to its layers, or per
 * layer for a run some of whose layers have per-position rows. */
static int fill_rows(const uniap_costmodel *cm, uniap_cost_table *t, int b)
{
    const uniap_model *m = cm->model;
    row *rows = malloc((size_t)t->n_strategies * sizeof(*rows));
    int rc = UNIAP_OK;

    if (!rows)
        return uniap_err(UNIAP_ENOMEM, "cost table: out of memory");
    for (int r = 0, u0 = 0; r < m->n_runs; u0 += m->runs[r].count, r++) {
        int count = m->runs[r].count, own = 0;
        UNIAP_CHECK_GOTO(u0 + count <= t->n_layers, rc, free_rows);
        for (int u = u0; cm->has_pos_prof && u < u0 + count; u++)
            own |= cm->pos_prof[u] != NULL;
        for (int u = u0; u < u0 + count; u++) {
            if ((u == u0 || own) && (rc = strategy_rows(cm, t, r, u0, own ? u : -1, b, rows)) < 0)
                goto free_rows;
            store_rows(t, u, r, rows);
        }
    }
free_rows:
    free(rows);
    return rc;
}

int uniap_costmodel_table(const uniap_costmodel *cm, int deg, int c, uniap_cost_table *out)
{
    const uniap_model *m = cm->model;
    int N = uniap_cluster_devices(cm->cluster), K = 0, rc;
    int64_t B = cm->opt.global_batch;
    uniap_strategy *strat = NULL;

    memset(out, 0, sizeof(*out));
    if (deg < 1 || N % deg != 0 || deg > m->n_layers)
        return uniap_err(UNIAP_EINVAL,
                         "cost table: pipeline degree %d must divide the %d devices and not "
                         "exceed the %d layers",
                         deg, N, m->n_layers);
    if (uniap_micro_batch_size(B, c) == 0)
        return uniap_err(UNIAP_EINVAL,
                         "cost table: the global batch %lld does not split into %d micro-batches "
                         "(a divisor, or a count torch.chunk makes)",
                         (long long)B, c);
    int n = N / deg, b = (int)uniap_micro_batch_size(B, c);
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
    /* one set of pair matrices per run with a boundary after it: they
     * depend on the sending layer's activation only (cm_fill_pairs, cost_pairs.c) */
    int n_pairs = 0;
    for (int r = 0, u0 = 0; r < m->n_runs; u0 += m->runs[r].count, r++)
        n_pairs += u0 < m->n_layers - 1;
    if ((rc = uniap_cost_table_alloc_pairs(out, deg, K, m->n_layers, 1, n_pairs ? n_pairs : 1)) < 0)
        goto free_strat;
    memcpy(out->strategies, strat, (size_t)K * sizeof(*strat));
    out->micro_batches = c;
    out->micro_batch = b;
    out->global_batch = B;
    out->stage_devices = n;
    /* device memory less the framework reserve, less the headroom the user
     * keeps (--memory-headroom: a fraction of what is left) */
    out->mem_budget[0] = ((double)cm->cluster->device_memory - (double)cm->reserve) *
                         (1.0 - cm->opt.memory_headroom);
    for (int j = 0; j + 1 < deg; j++)
        out->boundary_spans_nodes[j] = (unsigned char)cm_boundary_spans(cm->cluster, j, n);

    if ((rc = fill_rows(cm, out, b)) < 0 || (rc = cm_fill_pairs(cm, out, b)) < 0 ||
        (rc = check_table(out)) < 0)
        goto free_table;
    rc = UNIAP_OK;
    goto free_strat;

free_table:
    uniap_cost_table_free(out);
free_strat:
    free(strat);
    return rc;
}
