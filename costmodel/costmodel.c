/*
 * costmodel.c - binding a model, a cluster and a profile into a cost
 * model: option defaults, validation of the inputs (cluster figures, what
 * the profile must hold), the (deg, c) candidates of the Unified
 * Optimization Process, warnings. The per-candidate tables are built in
 * cost_table.c, which also says what data each strategy needs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

void uniap_cost_options_default(uniap_cost_options *o)
{
    memset(o, 0, sizeof(*o));
    o->global_batch = 0; /* must be set by the caller */
    o->schedule = UNIAP_SCHED_DEFAULT;
    o->reserve_bytes = -1; /* UNIAP_DEFAULT_RESERVE */
    o->overlap = -1.0;     /* UNIAP_DEFAULT_OVERLAP */
    o->max_tp = 0;
    o->max_pp = 0;
    /* the planner drops the strategies it has no data for, saying which */
    o->skip_unprofiled_tp = 1;
    o->profile_path = NULL;
}

/* The context-parallel degrees searched by default: up to the longest
 * sequence / 4096, so that each rank keeps chunks of >= 4096 tokens (no
 * cp below 8192 tokens). Below that, a ring step's attention (~ (s/cp)^2
 * FLOPs) no longer hides its KV transfer (~ s/cp bytes) on NVLink-class
 * links (Liu et al. 2023 s3.1: the block must exceed FLOPs / bandwidth),
 * and the search space stays today's for short sequences; --max-cp
 * searches any degree. */
static int auto_max_cp(const uniap_model *m)
{
    int64_t seq = 0;
    for (int r = 0; r < m->n_runs; r++)
        if (m->runs[r].seq > seq)
            seq = m->runs[r].seq;
    return seq / 4096 > 1 ? (int)(seq / 4096 < (1 << 20) ? seq / 4096 : 1 << 20) : 1;
}

/* The expert-parallel degrees searched by default: up to the largest
 * routed-expert count of a moe layer (each rank at least one expert), 1
 * for a model without moe layers (its strategy space unchanged). */
static int auto_max_ep(const uniap_model *m)
{
    int ep = 1;
    for (int r = 0; r < m->n_runs; r++)
        if (m->runs[r].experts > ep)
            ep = m->runs[r].experts;
    return ep;
}

/* The cluster's figures divide and multiply costs: each must be a finite
 * number >= 0 (0: not given). */
static int check_cluster(const uniap_cluster *c)
{
    const struct {
        const char *name;
        double v;
    } f[] = {
        {"peak_flops", c->peak_flops},
        {"peak_flops_fp32", c->peak_flops_fp32},
        {"peak_flops_fp8", c->peak_flops_fp8},
        {"mem_bandwidth", c->mem_bandwidth},
        {"intra_node_bw", c->intra_node_bw},
        {"inter_node_bw", c->inter_node_bw},
        {"intra_node_latency", c->intra_node_latency},
        {"inter_node_latency", c->inter_node_latency},
    };

    if (c->nodes < 1 || c->devices_per_node < 1 ||
        (int64_t)c->nodes * c->devices_per_node > CM_MAX_DEVICES)
        return uniap_err(UNIAP_EINVAL,
                         "cost model: cluster '%s' has %d nodes x %d devices, expected 1 to %d "
                         "devices in all",
                         c->name, c->nodes, c->devices_per_node, CM_MAX_DEVICES);
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (!isfinite(f[i].v) || f[i].v < 0)
            return uniap_err(UNIAP_EINVAL,
                             "cost model: cluster '%s': %s = %g, expected a finite number >= 0 "
                             "(0: not given)",
                             c->name, f[i].name, f[i].v);
    if (c->device_memory < 0)
        return uniap_err(UNIAP_EINVAL,
                         "cost model: cluster '%s': device_memory = %lld, expected >= 0", c->name,
                         (long long)c->device_memory);
    return UNIAP_OK;
}

/* FP8 training is priced by the analytic device model only. A measured
 * profile (uniap profile, or an importer's) timed its layers with 16-bit
 * kernels: uniap's CPU and CUDA kernels have no FP8 path. Scaling its GEMM
 * part by the analytic FP8/BF16 ratio would need that part apart from the
 * attention core and the element-wise kernels, which a layer row does not
 * hold (one forward and one backward time); so it is refused, naming the
 * way out, rather than priced as bf16 or by a guessed split. */
static int check_fp8_profile(const uniap_model *m, const uniap_profile *p,
                             const uniap_cost_options *o)
{
    if (!m->training.fp8 || !strcmp(p->provenance, "analytic"))
        return UNIAP_OK;
    return uniap_err(UNIAP_EINVAL,
                     "cost model: --precision fp8 with the measured profile %s (provenance "
                     "'%s'): its layer kernels ran in 16 bits and it holds no FP8 GEMM times; "
                     "plan FP8 with the analytic device model (no --profile, the cluster's "
                     "peak_flops_fp8), or without fp8 on this profile",
                     o->profile_path ? o->profile_path : "given", p->provenance);
}

/* What messages call the profile: its file, else its provenance. */
static int set_label(uniap_costmodel *cm, const uniap_profile *p)
{
    if (cm->opt.profile_path) {
        cm->profile_path = strdup(cm->opt.profile_path);
        if (!cm->profile_path)
            return uniap_err(UNIAP_ENOMEM, "cost model: out of memory");
        cm->opt.profile_path = cm->profile_path; /* ours, not the caller's */
        snprintf(cm->label, sizeof(cm->label), "%s", cm->profile_path);
    } else if (p->provenance[0]) {
        snprintf(cm->label, sizeof(cm->label), "%s profile", p->provenance);
    } else {
        snprintf(cm->label, sizeof(cm->label), "in-memory profile");
    }
    return UNIAP_OK;
}

/* Index of the first layer of run r. */
static int first_layer(const uniap_model *m, int r)
{
    int u = 0;
    for (int q = 0; q < r; q++)
        u += m->runs[q].count;
    return u;
}

/* Every run's layer type must be in the profile, at tp 1 at least (the
 * reference of sequence parallelism's activations and the strategy every
 * layer has): without, a layer has no strategy at all. */
static int check_runs(uniap_costmodel *cm)
{
    const uniap_model *m = cm->model;
    int rc;

    for (int r = 0; r < m->n_runs; r++) {
        if ((rc = uniap_layer_signature(&m->runs[r], cm->run_sig[r], sizeof(cm->run_sig[r]))) < 0)
            return rc;
        cm->run_prof[r] = cm_index_layer(&cm->index, cm->run_sig[r]);
        if (!cm->run_prof[r])
            return uniap_err(UNIAP_EMISSING,
                             "%s: profile (provenance '%s') lacks layer type '%s' (layer %d, %s, "
                             "of model '%s'), so that layer has no strategy: profile this model "
                             "(uniap profile --model)",
                             cm->label, cm->profile->provenance, cm->run_sig[r], first_layer(m, r),
                             uniap_layer_kind_name(m->runs[r].kind), m->name);
        if (!cm_run_has_tp(cm, r, 1))
            return uniap_err(UNIAP_EMISSING,
                             "%s: profile lacks layer type '%s' (layer %d of model '%s') at tp 1, "
                             "the reference every strategy of it needs: profile it at tp 1 "
                             "(uniap profile --tp 1)",
                             cm->label, cm->run_sig[r], first_layer(m, r), m->name);
        /* per-position rows (profile format 1.2): "<signature>@<layer>" */
        for (int u = first_layer(m, r); u < first_layer(m, r) + m->runs[r].count; u++) {
            char key[112];
            snprintf(key, sizeof(key), "%s@%d", cm->run_sig[r], u);
            cm->pos_prof[u] = cm_index_layer(&cm->index, key);
            cm->has_pos_prof |= cm->pos_prof[u] != NULL;
        }
    }
    return UNIAP_OK;
}

int uniap_costmodel_create(const uniap_model *m, const uniap_cluster *c, const uniap_profile *p,
                           const uniap_cost_options *o, uniap_costmodel **out)
{
    uniap_costmodel *cm;
    int rc;

    *out = NULL;
    if (!m || m->n_runs < 1 || !m->runs)
        return uniap_err(UNIAP_EINVAL, "cost model: the model has no layers");
    int64_t layers = 0;
    for (int r = 0; r < m->n_runs; r++)
        layers += m->runs[r].count >= 1 ? m->runs[r].count : INT32_MIN;
    if (layers != m->n_layers)
        return uniap_err(UNIAP_EINVAL,
                         "cost model: model '%s' has %d layers, but its runs' counts (each >= 1 "
                         "expected) add up to %lld",
                         m->name, m->n_layers, (long long)layers);
    if (!c)
        return uniap_err(UNIAP_EINVAL, "cost model: no cluster given");
    if ((rc = check_cluster(c)) < 0)
        return rc;
    if (!p)
        return uniap_err(UNIAP_EINVAL, "cost model: no profile given");
    if ((rc = uniap__cm_fp8_check(m, c, "cost model")) < 0 || (rc = check_fp8_profile(m, p, o)) < 0)
        return rc;
    if (o->global_batch < 1)
        return uniap_err(UNIAP_EINVAL, "cost model: global batch %lld, expected >= 1",
                         (long long)o->global_batch);
    if (o->global_batch > (int64_t)1 << 30)
        return uniap_err(UNIAP_EINVAL, "cost model: global batch %lld is too large (at most %lld)",
                         (long long)o->global_batch, (long long)1 << 30);
    if (!(o->memory_headroom >= 0 && o->memory_headroom <= 0.9) || o->min_pp < 0 ||
        o->flavours >= (1u << (UNIAP_DP_FSDP + 1)))
        return uniap_err(UNIAP_EINVAL,
                         "cost model: memory headroom %g (0..0.9 expected), min_pp %d (>= 0), "
                         "flavour mask %#x (DDP, ZeRO-1, ZeRO-2, FSDP bits)",
                         o->memory_headroom, o->min_pp, o->flavours);
    if (!isfinite(p->overlap_coeff) || p->overlap_coeff < 0)
        return uniap_err(UNIAP_EINVAL,
                         "cost model: profile overlap_coeff = %g, expected a finite number >= 0",
                         p->overlap_coeff);
    if (o->moe_imbalance != 0 && !(o->moe_imbalance >= 1 && o->moe_imbalance <= 1e3))
        return uniap_err(UNIAP_EINVAL,
                         "cost model: moe_imbalance %g: expected 1..1000 (the slowest "
                         "expert-parallel rank's routed tokens over the mean)",
                         o->moe_imbalance);
    cm = calloc(1, sizeof(*cm));
    if (!cm)
        return uniap_err(UNIAP_ENOMEM, "cost model: out of memory");
    cm->model = m;
    cm->cluster = c;
    cm->profile = p;
    cm->opt = *o;
    if (!cm->opt.ckpt_modes) /* the model's checkpointing granularities */
        cm->opt.ckpt_modes = uniap_training_ckpt_modes(&m->training);
    if (cm->opt.max_cp <= 0) /* auto: the sequence split in chunks of >= 4096 tokens */
        cm->opt.max_cp = auto_max_cp(m);
    if (cm->opt.max_ep <= 0) /* auto: up to the largest expert count (1 without experts) */
        cm->opt.max_ep = auto_max_ep(m);
    cm->reserve = o->reserve_bytes >= 0 ? o->reserve_bytes : UNIAP_DEFAULT_RESERVE;
    /* a forced fraction, else the modelled overlap (overlap.c) */
    cm->overlap = o->overlap >= 0 ? (o->overlap > 1 ? 1.0 : o->overlap) : UNIAP_DEFAULT_OVERLAP;
    /* The profile's overlap coefficient (Galvatron's convention) is the
     * slowdown of compute that runs while communication is overlapped;
     * the hidden part of any overlapped comm costs (coeff - 1) of itself. */
    cm->overlap_slow = p->overlap_coeff > 1.0 ? p->overlap_coeff : 1.0;
    cm->warnings = calloc(1, sizeof(*cm->warnings));
    cm->run_sig = calloc((size_t)m->n_runs, sizeof(*cm->run_sig));
    cm->run_prof = calloc((size_t)m->n_runs, sizeof(*cm->run_prof));
    cm->pos_prof = calloc((size_t)m->n_layers, sizeof(*cm->pos_prof));
    cm->frac_cache = cm_frac_cache_new();
    if (!cm->warnings || !cm->run_sig || !cm->run_prof || !cm->pos_prof || !cm->frac_cache) {
        rc = uniap_err(UNIAP_ENOMEM, "cost model: out of memory");
        goto free_cm;
    }
    if ((rc = set_label(cm, p)) < 0)
        goto free_cm;
    if ((rc = cm_index_build(p, cm->label, &cm->index)) < 0)
        goto free_cm;
    if ((rc = check_runs(cm)) < 0)
        goto free_cm;
    if (p->provenance[0] && strcmp(p->provenance, "measured") != 0)
        cm_warn(cm->warnings, "profile provenance is '%s', not a measurement", p->provenance);
    *out = cm;
    return UNIAP_OK;

free_cm:
    uniap_costmodel_destroy(cm);
    return rc;
}

void uniap_costmodel_destroy(uniap_costmodel *cm)
{
    if (!cm)
        return;
    cm_index_free(&cm->index);
    cm_warnings_free(cm->warnings);
    free(cm->warnings);
    cm_frac_cache_free(cm->frac_cache);
    free(cm->run_sig);
    free(cm->run_prof);
    free(cm->pos_prof);
    free(cm->profile_path);
    free(cm);
}

const char *uniap_costmodel_warnings(const uniap_costmodel *cm)
{
    return cm && cm->warnings && cm->warnings->text ? cm->warnings->text : "";
}

/* 1 when li has a non-empty curve at tp. */
static int has_tp(const cm_layer_index *li, int tp)
{
    for (int i = 0; li && i < li->n_curves; i++)
        if (li->curves[i].tp == tp && li->curves[i].n > 0)
            return 1;
    return 0;
}

const cm_layer_index *cm_layer_prof(const uniap_costmodel *cm, int r, int u, int tp)
{
    if (u >= 0 && cm->has_pos_prof && u < cm->model->n_layers && has_tp(cm->pos_prof[u], tp))
        return cm->pos_prof[u];
    return cm->run_prof[r];
}

int cm_run_has_tp(const uniap_costmodel *cm, int r, int tp)
{
    return has_tp(cm->run_prof[r], tp);
}

/* Whether (deg, c) is a candidate: deg within the layers and max_pp, and
 * every run has a strategy of the stage's space that its shape allows and,
 * with `data`, that the profile has the data for (and the profile has the
 * pair's stage-level collectives). run_ok[r] = 1 for each run that has
 * one, run_ok[n_runs] = 1 when the pair has its stage-level data (given
 * data). Missing data is warned about (once per item). */
static int pair_viable(const uniap_costmodel *cm, int deg, int c, int data, unsigned char *run_ok,
                       int *viable)
{
    const uniap_model *m = cm->model;
    int n = uniap_cluster_devices(cm->cluster) / deg, K, rc;
    int mb = (int)uniap_micro_batch_size(cm->opt.global_batch, c), ok = 1;
    uniap_strategy *s;

    *viable = 0;
    if (deg > m->n_layers || (cm->opt.max_pp > 0 && deg > cm->opt.max_pp) ||
        (cm->opt.min_pp > 0 && deg < cm->opt.min_pp))
        return UNIAP_OK;
    if (data && !cm_pair_has_data(cm, deg, n))
        return UNIAP_OK;
    if (run_ok)
        run_ok[m->n_runs] = 1; /* some pair has its stage-level data */
    if ((rc = cm_strategies(n, mb, &cm->opt, &s, &K)) < 0)
        return rc;
    /* any[r]: run r has a strategy; with data, every strategy is looked at,
     * so that the warnings name all that the tables leave out */
    unsigned char *any = calloc((size_t)m->n_runs, 1);
    if (!any) {
        free(s);
        return uniap_err(UNIAP_ENOMEM, "cost model: out of memory");
    }
    for (int k = 0; k < K; k++) {
        cm_placement pl;
        if (data)
            cm_place(cm->cluster, deg, n, &s[k], &pl);
        for (int r = 0; r < m->n_runs; r++)
            if (!any[r] || data)
                any[r] |= cm_layer_tp_ok(&m->runs[r], s[k].tp) &&
                          (!data || cm_strategy_has_data(cm, deg, r, &s[k], &pl));
    }
    for (int r = 0; r < m->n_runs; r++) {
        if (any[r] && run_ok)
            run_ok[r] = 1;
        ok &= any[r];
    }
    free(any);
    free(s);
    *viable = ok;
    return UNIAP_OK;
}

int64_t cm_chunk_split(int64_t B, int c, int64_t *size)
{
    *size = B >= 1 && c >= 1 ? (B + c - 1) / c : 0; /* torch.chunk: ceil(B / c) per chunk */
    return *size ? (B + *size - 1) / *size : 0;
}

int64_t uniap_micro_batch_size(int64_t B, int c)
{
    int64_t m;
    return c <= B && cm_chunk_split(B, c, &m) == c ? m : 0;
}

/* The divisors of x >= 1 in increasing order (malloc'd). */
static int divisors(int64_t x, int64_t **out, int *n)
{
    int64_t root = 1, *v;
    int k = 0, small;

    while ((root + 1) * (root + 1) <= x)
        root++;
    *n = 0;
    *out = v = malloc((size_t)(2 * root + 1) * sizeof(*v));
    if (!v)
        return uniap_err(UNIAP_ENOMEM, "cost model: out of memory for the divisors of %lld",
                         (long long)x);
    for (int64_t d = 1; d <= root; d++)
        if (x % d == 0)
            v[k++] = d;
    small = k;
    for (int i = small - 1; i >= 0; i--)
        if (x / v[i] != v[i])
            v[k++] = x / v[i];
    *n = k;
    return UNIAP_OK;
}

/* No candidate is left although some (deg, c) would be one with complete
 * data: EMISSING naming the profile, a layer without any strategy and
 * what to profile, or what the profile lacks that every pair needs. */
static int no_candidate_left(const uniap_costmodel *cm, const unsigned char *run_ok)
{
    const uniap_model *m = cm->model;
    int N = uniap_cluster_devices(cm->cluster);
    char tps[256] = "";
    size_t len = 0;

    for (int r = 0; r < m->n_runs && run_ok[m->n_runs]; r++) {
        if (run_ok[r])
            continue;
        for (int tp = 2; tp <= N && len + 16 < sizeof(tps); tp++)
            if (N % tp == 0 && cm_layer_tp_ok(&m->runs[r], tp) &&
                (cm->opt.max_tp <= 0 || tp <= cm->opt.max_tp) && !cm_run_has_tp(cm, r, tp))
                len += (size_t)snprintf(tps + len, sizeof(tps) - len, "%s%d", len ? ", " : "", tp);
        return uniap_err(UNIAP_EMISSING,
                         "%s: no (pipeline degree, micro-batches) candidate is left for model "
                         "'%s' on cluster '%s': layer %d (type '%s') has no strategy the profile "
                         "has data for in any of them; profile %s%s%s and the collectives of "
                         "this cluster's groups (uniap profile on this cluster); what is "
                         "lacking:\n%s",
                         cm->label, m->name, cm->cluster->name, first_layer(m, r), cm->run_sig[r],
                         tps[0] ? "that layer type at tp " : "", tps, tps[0] ? "" : "it",
                         uniap_costmodel_warnings(cm));
    }
    return uniap_err(UNIAP_EMISSING,
                     "%s: no (pipeline degree, micro-batches) candidate is left for model '%s' on "
                     "cluster '%s': every one needs collectives the profile lacks; profile on "
                     "this cluster (uniap profile) what is lacking:\n%s",
                     cm->label, m->name, cm->cluster->name, uniap_costmodel_warnings(cm));
}

/* The micro-batch counts searched: o->micro_batch_counts (checked, in the
 * order given) or the divisors of the global batch. */
static int micro_batch_counts(const uniap_costmodel *cm, int64_t **out, int *n)
{
    const uniap_cost_options *o = &cm->opt;
    if (!o->micro_batch_counts)
        return divisors(o->global_batch, out, n);
    if (o->n_micro_batch_counts < 1)
        return uniap_err(UNIAP_EINVAL, "cost model: an empty list of micro-batch counts");
    for (int i = 0; i < o->n_micro_batch_counts; i++) {
        int c = o->micro_batch_counts[i];
        int64_t B = o->global_batch, m, made = cm_chunk_split(B, c, &m);
        if (c < 1 || c > B)
            return uniap_err(UNIAP_EINVAL,
                             "micro-batch count %d: expected 1 to the global batch (%lld)", c,
                             (long long)B);
        for (int j = 0; j < i; j++)
            if (o->micro_batch_counts[j] == c)
                return uniap_err(UNIAP_EINVAL, "micro-batch count %d: given twice", c);
        if (uniap_micro_batch_size(B, c) == 0)
            return uniap_err(UNIAP_EINVAL,
                             "micro-batch count %d: the global batch of %lld samples does not "
                             "split into %d (as torch.chunk splits it: ceil(%lld / %d) = %lld "
                             "samples each make %lld micro-batches of %lld)",
                             c, (long long)B, c, (long long)B, c, (long long)m, (long long)made,
                             (long long)m);
    }
    *out = malloc((size_t)o->n_micro_batch_counts * sizeof(**out));
    if (!*out)
        return uniap_err(UNIAP_ENOMEM, "cost model: out of memory");
    for (int i = 0; i < o->n_micro_batch_counts; i++)
        (*out)[i] = o->micro_batch_counts[i];
    *n = o->n_micro_batch_counts;
    return UNIAP_OK;
}

int uniap_costmodel_candidates(const uniap_costmodel *cm, int **deg, int **c, int *n)
{
    int N = uniap_cluster_devices(cm->cluster), nd = 0, nc = 0, k = 0, shape_only = 0, rc;
    int data = cm->opt.skip_unprofiled_tp;
    int64_t *degs = NULL, *cs = NULL;
    unsigned char *run_ok = calloc((size_t)cm->model->n_runs + 1, 1);

    *deg = *c = NULL;
    *n = 0;
    if (!run_ok)
        return uniap_err(UNIAP_ENOMEM, "cost model: out of memory");
    if ((rc = divisors(N, &degs, &nd)) < 0 || (rc = micro_batch_counts(cm, &cs, &nc)) < 0)
        goto free_all;
    *deg = malloc((size_t)nd * nc * sizeof(int));
    *c = malloc((size_t)nd * nc * sizeof(int));
    if (!*deg || !*c) {
        rc = uniap_err(UNIAP_ENOMEM, "cost model: out of memory for %d candidates", nd * nc);
        goto free_all;
    }
    for (int i = 0; i < nd; i++)
        for (int j = 0; j < nc; j++) {
            int d = (int)degs[i], x = (int)cs[j], ok;
            if ((rc = pair_viable(cm, d, x, data, run_ok, &ok)) < 0)
                goto free_all;
            if (ok) {
                (*deg)[k] = d;
                (*c)[k] = x;
                k++;
            } else if (data && !shape_only) {
                /* would it be one with complete data? */
                if ((rc = pair_viable(cm, d, x, 0, NULL, &shape_only)) < 0)
                    goto free_all;
            }
        }
    if (k == 0 && shape_only) {
        rc = no_candidate_left(cm, run_ok);
        goto free_all;
    }
    *n = k;
    rc = UNIAP_OK;

free_all:
    if (rc < 0) {
        free(*deg);
        free(*c);
        *deg = *c = NULL;
    }
    free(degs);
    free(cs);
    free(run_ok);
    return rc;
}
