/*
 * inputs.c - the one input loader of the commands (see inputs.h): model,
 * cluster and profile by the same resolution rules everywhere, the
 * incomplete-profile warning, the option entries plan and estimate share,
 * and the check that MPI ranks agree on their arguments and inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "inputs.h"

int uniap_inputs_micro_batches(int64_t B, int *mbs, int max)
{
    int n = 0, nbig = 0, big[64];
    if (B < 1 || max < 1)
        return 0;
    if (max > 64)
        max = 64;
    /* small divisors ascending; their co-divisors come out descending */
    for (int64_t x = 1; x * x <= B && n < max; x++) {
        if (B % x != 0)
            continue;
        mbs[n++] = (int)x;
        if (x * x != B && nbig < 64)
            big[nbig++] = (int)(B / x);
    }
    for (int i = nbig - 1; i >= 0 && n < max; i--)
        mbs[n++] = big[i];
    return n;
}

static int load_cluster(const uniap_inputs_req *req, uniap_inputs *in)
{
    if (req->cluster)
        return uniap_cluster_resolve(req->cluster, &in->cluster);
    if (!req->profile)
        return uniap_err(UNIAP_EINVAL, "give --cluster (a preset or a cluster spec file) or "
                                       "--profile (whose stored cluster is used)");
    if (!in->profile.cluster_json || !in->profile.cluster_json[0])
        return uniap_err(UNIAP_EINVAL, "--profile %s stores no cluster_spec: give --cluster",
                         req->profile);
    return uniap_cluster_parse(in->profile.cluster_json, req->profile, &in->cluster);
}

/* Adds x to the n distinct values v (capacity cap) when absent: the
 * analytic profile's sizes, the schedules a search takes. */
static void add_size(int *v, int *n, int cap, int x)
{
    for (int k = 0; k < *n; k++)
        if (v[k] == x)
            return;
    if (*n < cap)
        v[(*n)++] = x;
}

/* Adds the sizes c micro-batches of B need: m = uniap_micro_batch_size(B,
 * c) and its divisors (m / dp on each data-parallel rank). */
static void add_count(int *mbs, int *n, int cap, int64_t B, int c)
{
    int m = (int)uniap_micro_batch_size(B, c);
    for (int d = 1; m > 0 && d <= m; d++)
        if (m % d == 0)
            add_size(mbs, n, cap, m / d);
}

#define ANALYTIC_SIZES (64 + 4 * UNIAP_MAX_MB_COUNTS)

/* 1 when a plan's search record (uniap_opts_record) lists count c in
 * "micro-batches" (plan --micro-batches C,...: a comma list). */
static int searched_count(const char *search, int c)
{
    char list[16 * UNIAP_MAX_MB_COUNTS];
    if (!uniap_opts_record_value(search, "micro-batches", list, sizeof list))
        return 0;
    for (const char *s = list; *s >= '0' && *s <= '9';) {
        char *end;
        if (strtol(s, &end, 10) == c)
            return 1;
        s = *end == ',' ? end + 1 : end;
    }
    return 0;
}

int uniap_inputs_analytic_cover(uniap_inputs *in, int64_t B, int c, const char *search)
{
    int m = (int)uniap_micro_batch_size(B, c), mbs[ANALYTIC_SIZES], n = 0, had = 0;
    /* the sizes plan's analytic profile held: the divisors of B, and those
     * of the counts it was given (a count not dividing B is always one) */
    if (!in->analytic || m < 1 || (B % c == 0 && !searched_count(search, c)))
        return UNIAP_OK;
    /* the sizes it has, and those of c micro-batches it lacks */
    for (int j = 0; j < in->profile.n_layers; j++)
        add_size(mbs, &n, ANALYTIC_SIZES, in->profile.layers[j].micro_batch);
    had = n;
    add_count(mbs, &n, ANALYTIC_SIZES, B, c);
    if (n == had)
        return UNIAP_OK;
    uniap_profile p;
    int rc = uniap_profile_analytic(&in->model, &in->cluster, mbs, n, &p);
    if (rc < 0)
        return rc;
    uniap_profile_free(&in->profile);
    in->profile = p;
    return UNIAP_OK;
}

static int load_analytic(const uniap_inputs_req *req, uniap_inputs *in)
{
    int mbs[ANALYTIC_SIZES], n;
    if (req->global_batch < 1)
        return uniap_err(UNIAP_EINVAL, "--global-batch is required for the analytic profile "
                                       "(no --profile given)");
    /* the divisors of B (at most 64), and what the counts asked for need */
    n = uniap_inputs_micro_batches(req->global_batch, mbs, 64);
    for (int i = 0; i < req->n_micro_batch_counts; i++)
        add_count(mbs, &n, ANALYTIC_SIZES, req->global_batch, req->micro_batch_counts[i]);
    in->analytic = 1;
    if (req->verbose && !req->quiet)
        fprintf(stderr,
                "uniap %s: no --profile given: using the analytic device model from the "
                "cluster spec's datasheet figures\n",
                req->cmd);
    return uniap_profile_analytic(&in->model, &in->cluster, mbs, n, &in->profile);
}

/* The profile's own GEMM sweep (/gemm, format 1.2) calibrates the
 * cluster's analytic device model (costmodel/gemm_eff.c), in place of the
 * spec's public figures; a profile it cannot calibrate (no peak known)
 * keeps them, with a warning. */
static void calibrate(const uniap_inputs_req *req, uniap_inputs *in)
{
    uniap_gemm_calibration cal;
    if (uniap_cluster_calibrate_gemm(&in->cluster, &in->profile, &cal) < 0) {
        if (req->verbose)
            fprintf(stderr, "uniap %s: warning: %s: GEMM sweep not used: %s\n", req->cmd,
                    req->profile, uniap_errmsg());
        uniap_err_clear();
        return;
    }
    for (int i = 0; req->verbose && !req->quiet && i < 2; i++) {
        const uniap_gemm_fit *f = i ? &cal.fp32 : &cal.half;
        if (f->applied)
            fprintf(stderr,
                    "uniap %s: %s calibrated from %s's GEMM sweep: %.3f (spec %.3g; %lldx%lldx%lld "
                    "%s at %.4g TFLOP/s)\n",
                    req->cmd, f->field, req->profile, f->frac, f->spec_frac, (long long)f->m,
                    (long long)f->n, (long long)f->k, f->dtype, f->achieved / 1e12);
    }
}

int uniap_inputs_load(const uniap_inputs_req *req, uniap_inputs *in)
{
    int rc;
    memset(in, 0, sizeof(*in));
    if ((rc = uniap_model_resolve_seq(req->model, req->training ? req->training->seq_len : 0,
                                      &in->model)) < 0)
        goto fail;
    if (req->training && (rc = uniap_inputs_training_apply(req->training, &in->model)) < 0)
        goto fail;
    if (req->profile) {
        if ((rc = uniap_profile_read(req->profile, &in->profile)) < 0)
            goto fail;
        in->profile_path = req->profile;
        if ((rc = uniap_file_crc32(req->profile, in->profile_checksum)) < 0)
            goto fail;
        if (!in->profile.complete && req->verbose)
            fprintf(stderr,
                    "uniap %s: warning: %s is incomplete (interrupted profile): run uniap "
                    "profile --resume %s to finish it\n",
                    req->cmd, req->profile, req->profile);
    }
    if ((rc = load_cluster(req, in)) < 0)
        goto fail;
    const char *cw = uniap_cluster_warnings();
    if (req->verbose && cw[0])
        fprintf(stderr, "uniap %s: warning: %s%s", req->cmd, cw,
                cw[strlen(cw) - 1] == '\n' ? "" : "\n");
    if (!req->profile && (rc = load_analytic(req, in)) < 0)
        goto fail;
    if (req->profile && in->profile.n_gemm > 0)
        calibrate(req, in);
    return UNIAP_OK;
fail:
    uniap_inputs_free(in);
    return rc;
}

void uniap_inputs_free(uniap_inputs *in)
{
    uniap_profile_free(&in->profile);
    uniap_model_free(&in->model);
    memset(in, 0, sizeof(*in));
}

int uniap_inputs_agree(int rc, int argc, char **argv, const uniap_inputs *in)
{
    static const char *const whats[3] = {"model spec (--model)", "cluster spec (--cluster)",
                                         "profile file (--profile, by checksum)"};
    char *mj = NULL, *cj = NULL;
    if (rc == 0)
        rc = uniap_model_to_json(&in->model, &mj);
    if (rc == 0)
        rc = uniap_cluster_to_json(&in->cluster, &cj);
    const char *texts[3] = {mj, cj, rc == 0 ? in->profile_checksum : ""};
    rc = uniap__ranks_agree(rc, argc, argv, 3, texts, whats);
    free(mj);
    free(cj);
    return rc;
}

void uniap_inputs_print_warnings(const char *cmd, const uniap_costmodel *cm, int verbose)
{
    const char *w = uniap_costmodel_warnings(cm);
    if (!verbose || !w[0])
        return;
    fflush(stdout);
    fprintf(stderr, "uniap %s: cost model warnings:\n%s%s", cmd, w,
            w[strlen(w) - 1] == '\n' ? "" : "\n");
}

int uniap_inputs_batch_from_tokens(uniap_inputs_req *r, int required)
{
    uniap_model m;
    int rc;
    if (!r->global_batch_tokens)
        return required && !r->global_batch
                   ? uniap_err(UNIAP_EINVAL, "--global-batch B or --global-batch-tokens T is "
                                             "required")
                   : UNIAP_OK;
    if (r->global_batch)
        return uniap_err(UNIAP_EINVAL, "--global-batch and --global-batch-tokens: give one");
    if ((rc = uniap_model_resolve_seq(r->model, r->training ? r->training->seq_len : 0, &m)) < 0)
        return rc;
    int64_t seq = m.seq_len, T = r->global_batch_tokens;
    uniap_model_free(&m);
    if (seq < 1 || T % seq)
        return uniap_err(UNIAP_EINVAL,
                         "--global-batch-tokens %lld: not a multiple of the sequence length %lld "
                         "(%.6g samples); give a multiple, or --global-batch",
                         (long long)T, (long long)seq, seq > 0 ? (double)T / (double)seq : 0.0);
    r->global_batch = T / seq;
    return UNIAP_OK;
}

void uniap_inputs_opts(uniap_inputs_req *r, const char *cmd, const char *batch_def, uniap_opt *opts,
                       int *n)
{
    memset(r, 0, sizeof(*r));
    r->cmd = cmd;
    uniap_opt t[UNIAP_INPUT_OPTS] = {
        {.name = "model",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &r->model,
         .metavar = "M",
         .help = "zoo name (uniap model) or model spec JSON file",
         .flags = UNIAP_OPT_REQUIRED | UNIAP_OPT_MAYBE_FILE},
        {.name = "cluster",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &r->cluster,
         .metavar = "C",
         .def = "the profile's stored cluster",
         .flags = UNIAP_OPT_MAYBE_FILE,
         .help = "cluster preset or cluster spec JSON file"},
        {.name = "profile",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &r->profile,
         .metavar = "P.h5",
         .def = "the analytic model of the cluster spec",
         .help = "measured HDF5 profile"},
        {.name = "global-batch",
         .kind = UNIAP_OPTK_INT64,
         .dest = &r->global_batch,
         .metavar = "B",
         .min = 1,
         .max = (int64_t)1 << 30,
         .def = batch_def,
         .help = batch_def ? "samples per training iteration"
                           : "samples per training iteration (this or --global-batch-tokens is "
                             "required)"},
        {.name = "global-batch-tokens",
         .kind = UNIAP_OPTK_INT64,
         .dest = &r->global_batch_tokens,
         .metavar = "T",
         .min = 1,
         .max = (int64_t)1 << 50,
         .help = "the global batch in tokens, as LLM recipes state it (e.g. 4194304 = 4M): "
                 "T / the sequence length samples, which must divide T"},
    };
    memcpy(opts + *n, t, sizeof(t));
    *n += UNIAP_INPUT_OPTS;
}

uniap_opt uniap_inputs_schedule_opt(int *dest, const char *def, const char *help)
{
    /* the table's names; a choice stores its index, the schedule's id */
    uniap_opt o = {.name = "schedule",
                   .kind = UNIAP_OPTK_CHOICE,
                   .dest = dest,
                   .choices = uniap_schedule_names(),
                   .def = def,
                   .help = help};
    return o;
}

uniap_opt uniap_inputs_schedules_opt(const char **dest, const char *def, const char *help)
{
    uniap_opt o = {.name = "schedule",
                   .kind = UNIAP_OPTK_STRING,
                   .dest = dest,
                   .metavar = "S[,S...]",
                   .def = def,
                   .help = help};
    return o;
}

int uniap_inputs_schedules(const char *arg, uniap_schedule *out)
{
    char word[64], names[512];
    int n = 0;
    const char *p = arg ? arg : "";
    do {
        size_t len = strcspn(p, ",");
        uniap_schedule s;
        if (len == 0 || len >= sizeof word)
            goto bad_word;
        memcpy(word, p, len);
        word[len] = 0;
        if (!strcmp(word, "both")) {
            add_size(out, &n, UNIAP_INPUTS_SCHED_MAX, UNIAP_SCHED_1F1B);
            add_size(out, &n, UNIAP_INPUTS_SCHED_MAX, UNIAP_SCHED_GPIPE);
        } else if (!strcmp(word, "all")) {
            for (s = 0; s < uniap_schedule_count(); s++)
                add_size(out, &n, UNIAP_INPUTS_SCHED_MAX, s);
        } else if (uniap_schedule_parse(word, &s) == 0) {
            add_size(out, &n, UNIAP_INPUTS_SCHED_MAX, s);
        } else {
            uniap_err_clear();
            goto bad_word;
        }
        p += len;
    } while (*p++ == ',');
    return n;
bad_word:
    uniap_schedule_list(names, sizeof names, "");
    return uniap_err(UNIAP_EINVAL,
                     "--schedule %s: expected a comma list of %s, or both (1f1b,gpipe) or all",
                     arg ? arg : "", names);
}

void uniap_inputs_restrict_opts(uniap_restrict_args *r, uniap_opt *opts, int *n)
{
    memset(r, 0, sizeof(*r));
    r->reserve_gib = -1;
    r->overlap = -1;
    uniap_opt t[UNIAP_RESTRICT_OPTS] = {
        {.name = "max-tp",
         .kind = UNIAP_OPTK_INT,
         .dest = &r->max_tp,
         .min = 1,
         .max = 1 << 20,
         .def = "no limit",
         .help = "largest tensor-parallel degree considered"},
        {.name = "max-pp",
         .kind = UNIAP_OPTK_INT,
         .dest = &r->max_pp,
         .min = 1,
         .max = 1 << 20,
         .def = "no limit",
         .help = "largest pipeline degree (number of stages) considered"},
        {.name = "max-cp",
         .kind = UNIAP_OPTK_INT,
         .dest = &r->max_cp,
         .min = 1,
         .max = 1 << 20,
         .def = "the longest sequence / 4096 (no cp below 8192 tokens)",
         .help = "largest context-parallel degree considered (the sequence split over cp "
                 "ranks: ring attention as Megatron-LM's CP, or DeepSpeed-Ulysses)"},
        {.name = "no-cp",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &r->no_cp,
         .help = "no context parallelism (cp 1 only)"},
        {.name = "no-ulysses",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &r->no_ulysses,
         .help = "context parallelism by ring attention only (no DeepSpeed-Ulysses all-to-all)"},
        {.name = "max-ep",
         .kind = UNIAP_OPTK_INT,
         .dest = &r->max_ep,
         .min = 1,
         .max = 1 << 20,
         .def = "the largest expert count of a moe layer (1 without moe layers)",
         .help = "largest expert-parallel degree considered (a moe layer's experts split over ep "
                 "of the data-parallel ranks, Megatron-LM's --expert-model-parallel-size)"},
        {.name = "no-ep",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &r->no_ep,
         .help = "no expert parallelism (ep 1 only)"},
        {.name = "moe-imbalance",
         .kind = UNIAP_OPTK_DOUBLE,
         .dest = &r->moe_imbalance,
         .metavar = "F",
         .dmin = 1,
         .dmax = 1000,
         .def = "1 (balanced routing)",
         .help = "the slowest expert-parallel rank's routed tokens over the mean: multiplies its "
                 "expert compute and its dispatch all-to-alls (capped by a layer's "
                 "capacity_factor)"},
        {.name = "no-zero",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &r->no_zero,
         .help = "no ZeRO / FSDP sharding of model states"},
        {.name = "no-ckpt",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &r->no_ckpt,
         .help = "no activation checkpointing"},
        {.name = "no-sp",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &r->no_sp,
         .help = "no sequence parallelism"},
        {.name = "no-strided",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &r->no_strided,
         .help = "tensor-parallel groups on consecutive devices only"},
        {.name = "min-pp",
         .kind = UNIAP_OPTK_INT,
         .dest = &r->min_pp,
         .min = 1,
         .max = 1 << 20,
         .def = "1",
         .help = "smallest pipeline degree considered"},
        {.name = "flavours",
         .kind = UNIAP_OPTK_STRING,
         .dest = &r->flavours,
         .metavar = "LIST",
         .def = "ddp,zero1,zero2,fsdp",
         .help = "data-parallel flavours the search may give a layer with dp > 1, a comma list "
                 "of ddp, zero1, zero2 and fsdp (zero3)"},
        {.name = "memory-headroom",
         .kind = UNIAP_OPTK_DOUBLE,
         .dest = &r->memory_headroom,
         .metavar = "F",
         .dmin = 0,
         .dmax = 0.9,
         .def = "0",
         .help = "fraction of the budget (device memory less the reserve) plans leave free, "
                 "against fragmentation and what the model does not count"},
        {.name = "reserve-gib",
         .kind = UNIAP_OPTK_DOUBLE,
         .dest = &r->reserve_gib,
         .metavar = "G",
         .dmin = 0,
         .dmax = 1 << 20,
         .def = "1.5",
         .help = "device memory kept for the framework (CUDA context, workspaces), GiB"},
        {.name = "overlap",
         .kind = UNIAP_OPTK_DOUBLE,
         .dest = &r->overlap,
         .metavar = "F",
         .dmin = 0,
         .dmax = 1,
         .def = "modelled, max(0, comm - compute) per phase",
         .help = "force the fraction of every DP collective hidden behind compute, 0 to 1 "
                 "(0: fully exposed)"},
    };
    memcpy(opts + *n, t, sizeof(t));
    *n += UNIAP_RESTRICT_OPTS;
}

int uniap_inputs_restrict_apply(const uniap_restrict_args *r, uniap_cost_options *o)
{
    static const char *const names[] = {"ddp", "zero1", "zero2", "fsdp"};
    o->max_tp = r->max_tp;
    o->max_cp = r->no_cp ? 1 : r->max_cp;
    o->no_ulysses = r->no_ulysses;
    o->max_ep = r->no_ep ? 1 : r->max_ep;
    o->moe_imbalance = r->moe_imbalance;
    o->max_pp = r->max_pp;
    o->min_pp = r->min_pp;
    o->memory_headroom = r->memory_headroom;
    o->flavours = 0;
    for (const char *p = r->flavours; p && *p;) {
        size_t len = strcspn(p, ",");
        int f = -1;
        for (int k = 0; k < 4; k++)
            if (strlen(names[k]) == len && strncmp(p, names[k], len) == 0)
                f = k;
        if (len == 5 && strncmp(p, "zero3", 5) == 0)
            f = UNIAP_DP_FSDP;
        if (f < 0)
            return uniap_err(UNIAP_EINVAL,
                             "--flavours '%s': '%.*s' is no DP flavour (ddp, zero1, zero2, fsdp "
                             "or zero3 expected, comma-separated)",
                             r->flavours, (int)len, p);
        o->flavours |= 1u << f;
        p += len + (p[len] == ',');
    }
    o->no_zero = r->no_zero;
    o->no_ckpt = r->no_ckpt;
    o->no_sp = r->no_sp;
    o->no_strided = r->no_strided;
    o->reserve_bytes =
        r->reserve_gib >= 0 ? (int64_t)(r->reserve_gib * (double)((int64_t)1 << 30)) : -1;
    o->overlap = r->overlap;
    return UNIAP_OK;
}

void uniap_inputs_training_opts(uniap_training_args *t, uniap_opt *opts, int *n)
{
    static const char *const attn[] = {"eager", "flash", NULL};
    static const char *const onoff[] = {"off", "on", NULL};
    static const char *const dtypes[] = {"fp32", "fp16", "bf16", NULL};
    static const char *const optim[] = {"adam", "sgd_momentum", "sgd", NULL};
    static const int dtype_v[] = {UNIAP_DTYPE_FP32, UNIAP_DTYPE_FP16, UNIAP_DTYPE_BF16};
    static const int optim_v[] = {UNIAP_OPTIM_ADAM, UNIAP_OPTIM_SGD_MOMENTUM, UNIAP_OPTIM_SGD};
    static const char *const precisions[] = {"fp32", "fp16", "bf16", "fp8", NULL};
    static const int precision_v[] = {UNIAP_DTYPE_FP32, UNIAP_DTYPE_FP16, UNIAP_DTYPE_BF16,
                                      UNIAP_INPUTS_PRECISION_FP8};
    const char *model = "the model spec's";

    memset(t, 0, sizeof(*t));
    t->attention = t->dropout = t->grad_dtype = t->master_dtype = t->optimizer = -1;
    t->precision = -1;
    uniap_opt o[UNIAP_TRAINING_OPTS] = {
        {.name = "attention",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &t->attention,
         .choices = attn,
         .def = model,
         .help = "attention kernel: eager stores the score tensor, flash only its softmax "
                 "statistics"},
        {.name = "dropout",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &t->dropout,
         .choices = onoff,
         .def = model,
         .help = "dropout (its masks are kept for backward)"},
        {.name = "checkpointing",
         .kind = UNIAP_OPTK_STRING,
         .dest = &t->checkpointing,
         .metavar = "LIST",
         .def = model,
         .help = "checkpointing granularities the search may give a layer, a comma list of "
                 "none, full and selective"},
        {.name = "grad-dtype",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &t->grad_dtype,
         .choices = dtypes,
         .values = dtype_v,
         .def = model,
         .help = "gradient precision"},
        {.name = "master-dtype",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &t->master_dtype,
         .choices = dtypes,
         .values = dtype_v,
         .def = model,
         .help = "master-weight precision under mixed precision"},
        {.name = "optimizer",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &t->optimizer,
         .choices = optim,
         .values = optim_v,
         .def = model,
         .help = "optimizer: adam (two moments), sgd_momentum (one), sgd (none)"},
        {.name = "precision",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &t->precision,
         .choices = precisions,
         .values = precision_v,
         .def = model,
         .help = "parameter and activation precision: bf16 and fp16 train in mixed precision "
                 "(fp32 master weights), fp32 without; fp8 is bf16 mixed precision with the "
                 "transformer blocks' Linear GEMMs in FP8 (Transformer Engine's hybrid recipe, "
                 "Megatron-LM --fp8-format hybrid), on devices with an FP8 peak (H100, H200) "
                 "and the analytic device model"},
        {.name = "seq-len",
         .kind = UNIAP_OPTK_INT64,
         .dest = &t->seq_len,
         .metavar = "N",
         .min = 1,
         .max = 1LL << 24,
         .def = "the model spec's (a Hugging Face config: its longest sequence, at most 8192)",
         .help = "tokens per sample the model is trained at"},
    };
    memcpy(opts + *n, o, sizeof(o));
    *n += UNIAP_TRAINING_OPTS;
}

int uniap_inputs_training_apply(const uniap_training_args *t, uniap_model *m)
{
    uniap_training tr = m->training;
    int rc;

    if (t->attention >= 0)
        tr.attention = (uniap_attention)t->attention;
    if (t->dropout >= 0)
        tr.no_dropout = !t->dropout;
    if (t->checkpointing &&
        (rc = uniap_ckpt_modes_parse(t->checkpointing, "--checkpointing", &tr.ckpt_modes)) < 0)
        return rc;
    if (t->grad_dtype >= 0)
        tr.grad_dtype = 1 + t->grad_dtype;
    if (t->master_dtype >= 0)
        tr.master_dtype = 1 + t->master_dtype;
    if (t->optimizer >= 0)
        tr.optimizer = (uniap_optimizer)t->optimizer;
    if (t->precision >= 0) { /* --precision: both dtypes, mixed unless fp32 */
        int fp8 = t->precision == UNIAP_INPUTS_PRECISION_FP8;
        m->param_dtype = m->act_dtype = fp8 ? UNIAP_DTYPE_BF16 : (uniap_dtype)t->precision;
        m->mixed_precision = t->precision != UNIAP_DTYPE_FP32;
        if (!m->mixed_precision)
            tr.master_dtype = 0;
        tr.fp8 = fp8;
    }
    return uniap_model_set_training(m, &tr, "command line (--master-dtype)");
}
