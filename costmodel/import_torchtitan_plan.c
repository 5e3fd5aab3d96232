/*
 * import_torchtitan_plan.c - the plan torchtitan v0.2.2 runs with a TOML
 * job config (what uniap_plan_export_torchtitan writes, or a user's own),
 * with torchtitan's defaults for what the file leaves out
 * (torchtitan/config/job_config.py at 73a0e69): [parallelism] degrees
 * (data_parallel_shard_degree -1: the devices left), the schedule, the
 * micro-batch and module_fqns_per_model_part; [training] batch sizes,
 * seq_len and precision; [activation_checkpoint] mode (default
 * "selective", which uniap does not model: refused); [model] converters
 * (float8 only, with [quantize.linear.float8] filter_fqns = ["output"]:
 * FP8 in the blocks, as --precision fp8 prices it). Every [parallelism]
 * key must be one uniap reads; other tables are training details, not
 * read. Errors name the file, the table and the key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export_internal.h"
#include "toml_lite.h"

typedef struct tt_cfg {
    long repl, shard, tp, pp, cp, ep, etp, mbs, local, global, seq;
    const char *sched, *reshard, *dtype, *mp, *ac, *model;
    const toml_value *fqns;
    int ac_given; /* [activation_checkpoint] mode is in the file */
    int fp8;      /* [model] converters holds the float8 converter */
} tt_cfg;

/* An integer of table.key into *v (kept when absent). */
static int get_int(const toml_doc *d, const char *t, const char *k, const char *what, long *v)
{
    const toml_entry *e = uniap__toml_get(d, t, k);
    if (e && e->v.type != TOML_INT)
        return uniap_err(UNIAP_EINVAL, "%s: line %d: [%s] %s: expected an integer", what, e->line,
                         t, k);
    if (e)
        *v = e->v.i;
    return UNIAP_OK;
}

/* A string of table.key into *v (kept when absent). */
static int get_str(const toml_doc *d, const char *t, const char *k, const char *what,
                   const char **v)
{
    const toml_entry *e = uniap__toml_get(d, t, k);
    if (e && e->v.type != TOML_STR)
        return uniap_err(UNIAP_EINVAL, "%s: line %d: [%s] %s: expected a string", what, e->line, t,
                         k);
    if (e)
        *v = e->v.s;
    return UNIAP_OK;
}

/* The keys of [parallelism] uniap reads (the rest would change the plan
 * in ways it does not model, or are unknown). */
static int check_parallelism_keys(const toml_doc *d, const char *what)
{
    static const char *const known[] = {
        "data_parallel_replicate_degree",    "data_parallel_shard_degree",
        "fsdp_reshard_after_forward",        "tensor_parallel_degree",
        "pipeline_parallel_degree",          "pipeline_parallel_schedule",
        "pipeline_parallel_microbatch_size", "module_fqns_per_model_part",
        "context_parallel_degree",           "expert_parallel_degree",
        "expert_tensor_parallel_degree",     "disable_loss_parallel",
        "enable_async_tensor_parallel"};
    for (int i = 0; i < d->n; i++) {
        if (strcmp(d->k[i].table, "parallelism"))
            continue;
        int ok = 0;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            ok |= !strcmp(d->k[i].key, known[k]);
        if (!ok)
            return uniap_err(UNIAP_EINVAL, "%s: line %d: [parallelism] %s is not a key uniap reads",
                             what, d->k[i].line, d->k[i].key);
    }
    const toml_entry *e = uniap__toml_get(d, "training", "enable_cpu_offload");
    if (e && (e->v.type != TOML_BOOL || e->v.i))
        return uniap_err(UNIAP_EINVAL,
                         "%s: line %d: [training] enable_cpu_offload: uniap keeps "
                         "every state on the device",
                         what, e->line);
    return UNIAP_OK;
}

/* [model] converters: none, or the float8 converter alone with the
 * output layer filtered out (what uniap's FP8 prices); into g->fp8. */
static int read_converters(const toml_doc *d, const char *what, tt_cfg *g)
{
    const toml_entry *e = uniap__toml_get(d, "model", "converters");
    g->fp8 = 0;
    for (int i = 0; e && i < (e->v.type == TOML_ARR ? e->v.n : 1); i++) {
        const toml_value *v = e->v.type == TOML_ARR ? &e->v.a[i] : &e->v;
        const char *s = v->type == TOML_STR ? v->s : "";
        if (strcmp(s, UNIAP_TT_FLOAT8) && strcmp(s, "float8"))
            return uniap_err(UNIAP_EINVAL,
                             "%s: line %d: [model] converters: '%s': uniap models the float8 "
                             "converter only (\"%s\")",
                             what, e->line, s, UNIAP_TT_FLOAT8);
        g->fp8 = 1;
    }
    if (!g->fp8)
        return UNIAP_OK;
    const toml_entry *f = uniap__toml_get(d, UNIAP_TT_FLOAT8, "filter_fqns");
    if (!f || f->v.type != TOML_ARR || f->v.n != 1 || f->v.a[0].type != TOML_STR ||
        strcmp(f->v.a[0].s, "output"))
        return uniap_err(UNIAP_EINVAL,
                         "%s: [%s] filter_fqns: expected [\"output\"] with the float8 "
                         "converter (uniap prices the blocks' Linear layers in FP8 and the "
                         "output layer in bf16)",
                         what, UNIAP_TT_FLOAT8);
    return UNIAP_OK;
}

static int read_cfg(const toml_doc *d, const char *what, tt_cfg *g)
{
    int rc = check_parallelism_keys(d, what);
    const char *P = "parallelism", *T = "training";
    /* torchtitan's defaults (job_config.py) */
    *g = (tt_cfg){.repl = 1,
                  .shard = -1,
                  .tp = 1,
                  .pp = 1,
                  .cp = 1,
                  .ep = 1,
                  .etp = 1,
                  .mbs = 1,
                  .local = 8,
                  .global = -1,
                  .seq = 2048,
                  .sched = "1F1B",
                  .reshard = "default",
                  .dtype = "float32",
                  .mp = "bfloat16",
                  .ac = "selective",
                  .model = NULL};
    if (rc == 0)
        rc = get_int(d, P, "data_parallel_replicate_degree", what, &g->repl);
    if (rc == 0)
        rc = get_int(d, P, "data_parallel_shard_degree", what, &g->shard);
    if (rc == 0)
        rc = get_int(d, P, "tensor_parallel_degree", what, &g->tp);
    if (rc == 0)
        rc = get_int(d, P, "pipeline_parallel_degree", what, &g->pp);
    if (rc == 0)
        rc = get_int(d, P, "context_parallel_degree", what, &g->cp);
    if (rc == 0)
        rc = get_int(d, P, "expert_parallel_degree", what, &g->ep);
    if (rc == 0)
        rc = get_int(d, P, "expert_tensor_parallel_degree", what, &g->etp);
    if (rc == 0)
        rc = get_int(d, P, "pipeline_parallel_microbatch_size", what, &g->mbs);
    if (rc == 0)
        rc = get_str(d, P, "pipeline_parallel_schedule", what, &g->sched);
    if (rc == 0)
        rc = get_str(d, P, "fsdp_reshard_after_forward", what, &g->reshard);
    if (rc == 0)
        rc = get_int(d, T, "local_batch_size", what, &g->local);
    if (rc == 0)
        rc = get_int(d, T, "global_batch_size", what, &g->global);
    if (rc == 0)
        rc = get_int(d, T, "seq_len", what, &g->seq);
    if (rc == 0)
        rc = get_str(d, T, "dtype", what, &g->dtype);
    if (rc == 0)
        rc = get_str(d, T, "mixed_precision_param", what, &g->mp);
    if (rc == 0)
        rc = get_str(d, "activation_checkpoint", "mode", what, &g->ac);
    g->ac_given = uniap__toml_get(d, "activation_checkpoint", "mode") != NULL;
    if (rc == 0)
        rc = get_str(d, "model", "name", what, &g->model);
    if (rc == 0)
        rc = read_converters(d, what, g);
    const toml_entry *f = uniap__toml_get(d, P, "module_fqns_per_model_part");
    g->fqns = f ? &f->v : NULL;
    if (rc == 0 && f && f->v.type != TOML_ARR)
        rc = uniap_err(UNIAP_EINVAL,
                       "%s: line %d: [parallelism] module_fqns_per_model_part: "
                       "expected a list of lists of module names",
                       what, f->line);
    return rc;
}

/* The layer index of a llama3 module name, or -1. */
static int layer_of(const char *name, const ex_model *x, int L)
{
    if (!strcmp(name, "tok_embeddings"))
        return 0;
    if (!strcmp(name, "norm") || !strcmp(name, "output"))
        return L - 1;
    if (!strncmp(name, "layers.", 7)) {
        char *end;
        long b = strtol(name + 7, &end, 10);
        if (!*end && name[7] && b >= 0 && b < x->n_blocks)
            return x->first_block + (int)b;
    }
    return -1;
}

/* Blocks per stage from module_fqns_per_model_part: every module once, in
 * order, each part holding some; pp v parts (v model chunks per rank,
 * part k on rank k mod pp: torchtitan's "loop" style) when interleaved
 * (v > 1), else pp. */
static int read_split(const toml_value *f, const ex_model *x, int L, int pp, int v,
                      const char *what, int *blocks)
{
    const char *key = "[parallelism] module_fqns_per_model_part";
    int next = 0, seen_norm = 0, seen_out = 0;
    if (!f)
        return uniap_err(UNIAP_EINVAL,
                         "%s: pipeline_parallel_degree %d without %s: uniap reads the split "
                         "from that list",
                         what, pp, key);
    if (f->n != pp * v)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s has %d parts for pipeline_parallel_degree %d%s (%d expected)",
                         what, key, f->n, pp, v > 1 ? " and its model chunks" : "", pp * v);
    for (int i = 0; i < pp; i++)
        blocks[i] = 0;
    for (int i = 0; i < pp * v; i++) {
        const toml_value *s = &f->a[i];
        if (s->type != TOML_ARR || s->n == 0)
            return uniap_err(UNIAP_EINVAL,
                             "%s: %s: part %d: expected a non-empty list of module "
                             "names",
                             what, key, i);
        for (int j = 0; j < s->n; j++) {
            const char *nm = s->a[j].type == TOML_STR ? s->a[j].s : "";
            int u = layer_of(nm, x, L);
            int want = !strcmp(nm, "output") ? (seen_norm && !seen_out) : u == next;
            if (u < 0 || !want || (!strcmp(nm, "norm") && seen_norm))
                return uniap_err(UNIAP_EINVAL,
                                 "%s: %s: part %d: '%s' is not the next llama3 module (%s "
                                 "expected)",
                                 what, key, i, nm,
                                 seen_norm && !seen_out ? "output"
                                 : next == 0            ? "tok_embeddings"
                                 : next == L - 1        ? "norm"
                                                        : "the next layers.N");
            seen_norm |= !strcmp(nm, "norm");
            seen_out |= !strcmp(nm, "output");
            if (strcmp(nm, "output"))
                next = u + 1;
            blocks[i % pp] += u >= x->first_block && u <= x->last_block;
        }
    }
    if (!seen_out)
        return uniap_err(UNIAP_EINVAL, "%s: %s ends before 'norm' and 'output'", what, key);
    return UNIAP_OK;
}

/* Interleaved1F1B: v = the model parts per rank of module_fqns_per_model_part
 * (read_split checks the list itself), uniap's "interleaved<v>". */
static int interleaved(const tt_cfg *g, const char *what, ex_build *b)
{
    char name[32];
    int parts = g->fqns && g->fqns->type == TOML_ARR ? g->fqns->n : 0;
    long v = parts % g->pp ? 0 : parts / g->pp;
    snprintf(name, sizeof name, "interleaved%ld", v);
    uniap_schedule s;
    if (v < 2 || uniap_schedule_parse(name, &s) < 0 || uniap_schedule_virtual_stages(s) != v) {
        uniap_err_clear();
        return uniap_err(UNIAP_EINVAL,
                         "%s: [parallelism] pipeline_parallel_schedule \"Interleaved1F1B\" with "
                         "%d parts in module_fqns_per_model_part on pipeline_parallel_degree %ld: "
                         "uniap reads 2, 3 or 4 model parts per rank",
                         what, parts, g->pp);
    }
    b->schedule = s;
    return UNIAP_OK;
}

/* expert_parallel_degree and expert_tensor_parallel_degree as uniap runs
 * them (export_torchtitan.c): ep > 1 on a model with experts, over FSDP
 * ranks (shard a multiple of ep: parallel_dims.py efsdp), with etp = tp
 * (uniap's experts are tp-sharded; torchtitan also takes etp 1). */
static int expert_degrees(const tt_cfg *g, const uniap_model *m, long shard, const char *what)
{
    if (g->ep > 1 && !uniap_model_has_experts(m))
        return uniap_err(UNIAP_EINVAL,
                         "%s: [parallelism] expert_parallel_degree %ld: model '%s' has no experts",
                         what, g->ep, m->name);
    if (g->ep > 1 && (g->repl > 1 || shard % g->ep))
        return uniap_err(UNIAP_EINVAL,
                         "%s: [parallelism] expert_parallel_degree %ld with replicate %ld, shard "
                         "%ld: uniap reads ep over the FSDP ranks (shard a multiple of ep)",
                         what, g->ep, g->repl, shard);
    if (g->ep > 1 && g->etp != g->tp)
        return uniap_err(UNIAP_EINVAL,
                         "%s: [parallelism] expert_tensor_parallel_degree %ld with "
                         "tensor_parallel_degree %ld: uniap shards the experts by tp (etp = tp)",
                         what, g->etp, g->tp);
    return UNIAP_OK;
}

/* [training] dtype, mixed_precision_param and [model] converters as m
 * trains (shard: the FSDP degree, 1 without). */
static int precision(const tt_cfg *g, const uniap_model *m, long shard, const char *what)
{
    const char *dt, *mp;
    uniap__tt_dtypes(m, &dt, &mp);
    if (strcmp(g->dtype, dt) || strcmp(g->mp, mp))
        return uniap_err(UNIAP_EINVAL,
                         "%s: [training] dtype \"%s\", mixed_precision_param \"%s\": model '%s' "
                         "trains as \"%s\", \"%s\"",
                         what, g->dtype, g->mp, m->name, dt, mp);
    if (g->fp8 != (m->training.fp8 != 0))
        return uniap_err(UNIAP_EINVAL,
                         "%s: [model] converters %s the float8 converter, but model '%s' is "
                         "priced %s FP8: estimate with --precision %s",
                         what, g->fp8 ? "holds" : "lacks", m->name,
                         m->training.fp8 ? "with" : "without", g->fp8 ? "fp8" : "bf16");
    if (shard == 1 && (g->tp > 1 || g->pp > 1) && m->param_dtype == UNIAP_DTYPE_BF16 &&
        m->mixed_precision)
        return uniap_err(UNIAP_EINVAL,
                         "%s: mixed precision with tp or pp and no FSDP: torchtitan "
                         "then trains in float32",
                         what);
    return UNIAP_OK;
}

/* Degrees, data parallelism, precision and recomputation of g. */
static int settings(const tt_cfg *g, const uniap_model *m, const uniap_cluster *c, const char *what,
                    ex_build *b, long *dp)
{
    int N = uniap_cluster_devices(c), rc;
    if (g->cp < 1 || g->ep < 1 || g->etp < 1)
        return uniap_err(UNIAP_EINVAL,
                         "%s: [parallelism] context/expert/expert tensor parallel degree "
                         "%ld/%ld/%ld: expected degrees >= 1",
                         what, g->cp, g->ep, g->etp);
    long shard = g->shard;
    if (g->repl < 1 || g->tp < 1 || g->pp < 1 || (shard < 1 && shard != -1))
        return uniap_err(UNIAP_EINVAL, "%s: [parallelism] degrees must be >= 1 (shard: -1)", what);
    long rest = g->repl * g->cp * g->tp * g->pp;
    if (shard == -1)
        shard = N % rest ? 0 : N / rest;
    if (shard < 1 || rest * shard != N)
        return uniap_err(UNIAP_EINVAL,
                         "%s: [parallelism] replicate %ld x shard %ld x cp %ld x tp %ld x pp %ld "
                         "is not the %d devices of '%s'",
                         what, g->repl, g->shard, g->cp, g->tp, g->pp, N, c->name);
    if (g->cp > 1 && g->repl > 1)
        return uniap_err(UNIAP_EINVAL,
                         "%s: [parallelism] context_parallel_degree %ld with "
                         "data_parallel_replicate_degree %ld: torchtitan shards over dp x cp "
                         "(FSDP), uniap reads no HSDP",
                         what, g->cp, g->repl);
    if (g->repl > 1 && shard > 1)
        return uniap_err(UNIAP_EINVAL,
                         "%s: [parallelism] replicate %ld and shard %ld: HSDP is not a "
                         "uniap data-parallel flavour",
                         what, g->repl, shard);
    if ((rc = expert_degrees(g, m, shard, what)) < 0)
        return rc;
    if (g->repl > 1 && (g->tp > 1 || g->pp > 1))
        return uniap_err(UNIAP_EINVAL,
                         "%s: [parallelism] data_parallel_replicate_degree %ld with "
                         "tp or pp: torchtitan's DDP runs alone",
                         what, g->repl);
    if (shard > 1 && strcmp(g->reshard, "always") &&
        !(g->pp == 1 && !strcmp(g->reshard, "default")))
        return uniap_err(UNIAP_EINVAL,
                         "%s: [parallelism] fsdp_reshard_after_forward \"%s\"%s: uniap's FSDP "
                         "gathers the parameters again for backward (\"always\")",
                         what, g->reshard, g->pp > 1 ? " with PP" : "");
    if ((rc = precision(g, m, shard, what)) < 0)
        return rc;
    if (strcmp(g->ac, "full") && strcmp(g->ac, "none"))
        return uniap_err(UNIAP_EINVAL,
                         "%s: [activation_checkpoint] mode \"%s\"%s: uniap reads \"full\" or "
                         "\"none\"",
                         what, g->ac,
                         g->ac_given ? "" : " (torchtitan's default, the file sets none)");
    *dp = g->repl * shard;
    b->pp = (int)g->pp;
    b->tp = (int)g->tp;
    /* torchtitan's FSDP runs over the dp_shard x cp mesh */
    b->flavour = shard * g->cp > 1 ? UNIAP_DP_FSDP : UNIAP_DP_DDP;
    b->cp = (int)g->cp;
    b->ep = (int)g->ep;
    b->sp = g->tp > 1; /* torchtitan v0.2.2: TP always with sequence parallelism */
    b->ckpt = !strcmp(g->ac, "full") ? UNIAP_CKPT_FULL : UNIAP_CKPT_NONE;
    b->schedule = UNIAP_SCHED_1F1B;
    if (g->pp > 1 && !strcasecmp(g->sched, "gpipe"))
        b->schedule = UNIAP_SCHED_GPIPE;
    else if (g->pp > 1 && !strcasecmp(g->sched, "interleaved1f1b"))
        return interleaved(g, what, b);
    else if (g->pp > 1 && strcasecmp(g->sched, "1f1b"))
        return uniap_err(UNIAP_EINVAL,
                         "%s: [parallelism] pipeline_parallel_schedule \"%s\": uniap reads "
                         "1F1B, GPipe and Interleaved1F1B",
                         what, g->sched);
    return UNIAP_OK;
}

/* Batch sizes: PP runs one local batch of local / micro-batch-size
 * micro-batches; without PP, global / (local dp) accumulation steps. */
static int batches(const tt_cfg *g, long dp, const char *what, ex_build *b)
{
    long global = g->global < 0 ? g->local * dp : g->global;
    if (g->local < 1 || g->mbs < 1 || global % (g->local * dp))
        return uniap_err(UNIAP_EINVAL,
                         "%s: [training] global_batch_size %ld is not a multiple of "
                         "local_batch_size %ld x data-parallel degree %ld",
                         what, global, g->local, dp);
    long steps = global / (g->local * dp);
    if (g->pp > 1 && (steps != 1 || g->local % g->mbs))
        return uniap_err(UNIAP_EINVAL,
                         "%s: [training] local_batch_size %ld with "
                         "pipeline_parallel_microbatch_size %ld and %ld accumulation steps: "
                         "uniap reads one pipeline pass per step of whole micro-batches",
                         what, g->local, g->mbs, steps);
    b->global_batch = global;
    b->micro_batches = (int)(g->pp > 1 ? g->local / g->mbs : steps);
    return UNIAP_OK;
}

int uniap_plan_import_torchtitan(const char *toml, const char *what, const uniap_model *m,
                                 const uniap_cluster *c, uniap_plan *out)
{
    toml_doc d;
    tt_cfg g;
    ex_model x;
    ex_build b;
    long dp = 1;
    int *blocks = NULL, rc;
    memset(out, 0, sizeof(*out));
    memset(&b, 0, sizeof(b));
    if ((rc = uniap__toml_parse(toml, what, &d)) < 0)
        return rc;
    if ((rc = read_cfg(&d, what, &g)) < 0 || (rc = uniap__ex_model(m, "torchtitan", &x)) < 0 ||
        (rc = uniap__tt_model_check(m, &x, what)) < 0)
        goto free_doc;
    if (g.model && strcmp(g.model, uniap__tt_model_name(&x))) {
        rc = uniap_err(UNIAP_EINVAL, "%s: [model] name \"%s\": model '%s' is torchtitan's %s", what,
                       g.model, m->name, uniap__tt_model_name(&x));
        goto free_doc;
    }
    if (g.seq != x.blk->seq) {
        rc = uniap_err(UNIAP_EINVAL, "%s: [training] seq_len %ld, but model '%s' has %lld", what,
                       g.seq, m->name, (long long)x.blk->seq);
        goto free_doc;
    }
    if ((rc = settings(&g, m, c, what, &b, &dp)) < 0 || (rc = batches(&g, dp, what, &b)) < 0)
        goto free_doc;
    if (g.pp > 1) {
        if (!(blocks = malloc(sizeof(int) * (size_t)g.pp))) {
            rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory", what);
            goto free_doc;
        }
        int v = uniap_schedule_virtual_stages(b.schedule);
        if ((rc = read_split(g.fqns, &x, m->n_layers, (int)g.pp, v > 1 ? v : 1, what, blocks)) < 0)
            goto free_doc;
        b.blocks = blocks;
    }
    rc = uniap__ex_build(&b, m, c, what, out);
free_doc:
    free(blocks);
    uniap__toml_free(&d);
    return rc;
}
