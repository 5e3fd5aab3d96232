/*
 * import_deepspeed_plan.c - the plan DeepSpeed runs, read from a
 * Megatron-DeepSpeed command line and its DeepSpeed config JSON (what
 * uniap_plan_export_deepspeed writes, or a user's own): tp, pp, dp = the
 * rest of the devices, the ZeRO stage (zero_optimization.stage; with the
 * pipeline engine bf16 stage 0 runs BF16_Optimizer, ZeRO-1's sharding),
 * micro-batches = gradient_accumulation_steps, recompute (full of every
 * block, or selective), --sequence-parallel, the split of partition_method
 * 'type:transformer', 1F1B, and DeepSpeed-MoE's ep_size
 * (--moe-expert-parallel-size) on the moe blocks. Both files must agree
 * (batch sizes, ZeRO stage, precision); model arguments given must be the
 * model's; anything uniap does not read is refused by name.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "export_internal.h"

typedef struct ds_args {
    long tp, pp, mbs, gbs, zero, rc_layers, ck_layers; /* zero: -1 when not given */
    long layers, hidden, ffn, heads, kv, seq, maxpos;
    long experts, topk, interval, ep; /* DeepSpeed-MoE; 0: not given (ep 1) */
    int dropless, etp, moe_group;     /* --disable-moe-token-dropping, ... */
    int nopipe, sp, ck_act, ds_ck, deepspeed, swiglu, rope, nopos, nobias, untie, bf16, fp16, flash;
    int rc_gran, rc_method; /* EX_RC_*, 0: not given */
    double attn_drop, hidden_drop;
    const char *norm, *config;
} ds_args;

#define DSI(n, f)                                                                                  \
    {                                                                                              \
        n, EX_FLAG_INT, offsetof(ds_args, f), NULL                                                 \
    }
#define DSF(n, f)                                                                                  \
    {                                                                                              \
        n, EX_FLAG_SWITCH, offsetof(ds_args, f), NULL                                              \
    }
static const ex_flag ds_flags[] = {
    DSI("tensor-model-parallel-size", tp),
    DSI("pipeline-model-parallel-size", pp),
    DSI("micro-batch-size", mbs),
    DSI("global-batch-size", gbs),
    DSI("zero-stage", zero),
    DSI("recompute-num-layers", rc_layers),
    DSI("checkpoint-num-layers", ck_layers),
    DSI("num-layers", layers),
    DSI("hidden-size", hidden),
    DSI("ffn-hidden-size", ffn),
    DSI("num-attention-heads", heads),
    DSI("num-key-value-heads", kv),
    DSI("seq-length", seq),
    DSI("max-position-embeddings", maxpos),
    DSI("num-experts", experts),
    DSI("topk", topk),
    DSI("expert-interval", interval),
    DSI("moe-expert-parallel-size", ep),
    DSF("disable-moe-token-dropping", dropless),
    DSF("enable-expert-tensor-parallelism", etp),
    DSF("create-moe-param-group", moe_group),
    DSF("no-pipeline-parallel", nopipe),
    DSF("sequence-parallel", sp),
    DSF("checkpoint-activations", ck_act),
    DSF("deepspeed-activation-checkpointing", ds_ck),
    DSF("deepspeed", deepspeed),
    DSF("swiglu", swiglu),
    DSF("use-rotary-position-embeddings", rope),
    DSF("no-position-embedding", nopos),
    DSF("disable-bias-linear", nobias),
    DSF("untie-embeddings-and-output-weights", untie),
    DSF("bf16", bf16),
    DSF("fp16", fp16),
    DSF("use-flash-attn-v2", flash),
    {"attention-dropout", EX_FLAG_PROB, offsetof(ds_args, attn_drop), NULL},
    {"hidden-dropout", EX_FLAG_PROB, offsetof(ds_args, hidden_drop), NULL},
    {"normalization", EX_FLAG_WORD, offsetof(ds_args, norm), NULL},
    {"deepspeed_config", EX_FLAG_WORD, offsetof(ds_args, config), NULL},
    EX_RC_FLAGS(ds_args, rc_gran, rc_method),
};
#undef DSI
#undef DSF
static const ex_flags ds_table = {ds_flags, sizeof ds_flags / sizeof ds_flags[0],
                                  "Megatron-DeepSpeed",
                                  "parallelism, batch, ZeRO, recompute and model-shape"};

/* DeepSpeed-MoE's arguments given must be x's experts as uniap prices
 * them (export_deepspeed.c): --num-experts and --topk the model's, every
 * block moe (--expert-interval 1, or the model has none), dropless, the
 * experts tp-sharded; ep > 1 only with experts. */
static int check_moe(const ds_args *a, const ex_model *x, const uniap_model *m, const char *what)
{
    const uniap_layer *e = x->moe;
    long want = e ? e->experts : 1;
    if ((a->experts && a->experts != want) || (a->topk && e && a->topk != e->top_k))
        return uniap_err(UNIAP_EINVAL, "%s: --%s %ld, but model '%s' has %ld", what,
                         a->experts && a->experts != want ? "num-experts" : "topk",
                         a->experts && a->experts != want ? a->experts : a->topk, m->name,
                         a->experts && a->experts != want ? want : (long)e->top_k);
    if (a->ep > 1 && !e)
        return uniap_err(UNIAP_EINVAL,
                         "%s: --moe-expert-parallel-size %ld: model '%s' has no experts", what,
                         a->ep, m->name);
    if (!e || a->experts <= 1) /* the experts not stated: only ep is read */
        return UNIAP_OK;
    const char *no = a->interval != 1 ? "--expert-interval other than 1 (experts on every "
                                        "N-th block; uniap reads every block moe)"
                     : !a->dropless   ? "no --disable-moe-token-dropping (DeepSpeed-MoE drops "
                                        "tokens at --moe-train-capacity-factor; uniap reads "
                                        "dropless experts)"
                     : a->tp > 1 && !a->etp
                         ? "tp > 1 without --enable-expert-tensor-parallelism (the experts "
                           "replicated on the TP ranks; uniap shards them)"
                         : NULL;
    if (no)
        return uniap_err(UNIAP_EINVAL, "%s: DeepSpeed-MoE with %s", what, no);
    return UNIAP_OK;
}

/* Model arguments given must be m's. */
static int check_model(const ds_args *a, const uniap_model *m, const char *what)
{
    ex_model x;
    int rc = uniap__ex_model(m, "deepspeed", &x);
    if (rc < 0)
        return rc;
    const uniap_layer *b = x.blk;
    struct {
        const char *flag;
        long given, want;
    } c[] = {
        {"num-layers", a->layers, x.n_blocks},
        {"hidden-size", a->hidden, (long)b->hidden},
        {"ffn-hidden-size", a->ffn, (long)b->ffn},
        {"num-attention-heads", a->heads, b->heads},
        {"num-key-value-heads", a->kv, b->kv_heads ? b->kv_heads : b->heads},
        {"seq-length", a->seq, (long)b->seq},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        if (c[i].given && c[i].given != c[i].want)
            return uniap_err(UNIAP_EINVAL, "%s: --%s %ld, but model '%s' has %ld", what, c[i].flag,
                             c[i].given, m->name, c[i].want);
    if ((rc = check_moe(a, &x, m, what)) < 0)
        return rc;
    int stated = a->layers || a->hidden;
    if ((stated || a->swiglu) && a->swiglu != (b->activation == UNIAP_ACT_SWIGLU))
        return uniap_err(UNIAP_EINVAL, "%s: %s, but model '%s' has a %s MLP", what,
                         a->swiglu ? "--swiglu" : "no --swiglu", m->name,
                         b->activation == UNIAP_ACT_SWIGLU ? "SwiGLU" : "non-SwiGLU");
    if ((stated || a->flash) && a->flash != b->flash_attn)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s, but the model is set to %s attention (--attention, or the "
                         "spec's \"attention\")",
                         what, a->flash ? "--use-flash-attn-v2" : "no --use-flash-attn-v2",
                         b->flash_attn ? "flash" : "eager");
    int want16 = m->param_dtype == UNIAP_DTYPE_BF16   ? 1
                 : m->param_dtype == UNIAP_DTYPE_FP16 ? 2
                                                      : 0;
    int got16 = a->bf16 ? 1 : a->fp16 ? 2 : 0;
    if ((stated || got16) && got16 != want16)
        return uniap_err(UNIAP_EINVAL, "%s: %s, but model '%s' has %s parameters", what,
                         got16 == 1   ? "--bf16"
                         : got16 == 2 ? "--fp16"
                                      : "neither --bf16 nor --fp16",
                         m->name, uniap_dtype_name(m->param_dtype));
    return UNIAP_OK;
}

/* cfg's integer at key (a number with no fraction), *v kept when absent. */
static int cfg_int(const cJSON *o, const char *key, const char *what, long *v, int *given)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    if (given)
        *given = j != NULL;
    if (!j)
        return UNIAP_OK;
    if (!cJSON_IsNumber(j) || j->valuedouble != (double)(long)j->valuedouble || j->valuedouble < 0)
        return uniap_err(UNIAP_EINVAL, "%s: \"%s\": expected an integer >= 0", what, key);
    *v = (long)j->valuedouble;
    return UNIAP_OK;
}

/* What the DeepSpeed config says. */
typedef struct ds_cfg {
    long tbs, mbs, gas, stage, interval;
    int has_tbs, has_mbs, has_gas, has_stage, bf16, fp16, partition, grad_dtype;
} ds_cfg;

/* Reads the config's keys (the others are refused by name). */
static int read_config(const char *text, const char *what, ds_cfg *g)
{
    static const char *const ignored[] = {"steps_per_print",
                                          "wall_clock_breakdown",
                                          "gradient_clipping",
                                          "optimizer",
                                          "scheduler",
                                          "prescale_gradients",
                                          "zero_allow_untested_optimizer"};
    cJSON *r = cJSON_Parse(text);
    int rc = UNIAP_OK;
    memset(g, 0, sizeof(*g));
    if (!cJSON_IsObject(r)) {
        cJSON_Delete(r);
        return uniap_err(UNIAP_EINVAL, "%s: not a JSON object (a DeepSpeed config)", what);
    }
    for (const cJSON *k = r->child; k && rc == 0; k = k->next) {
        const char *n = k->string;
        int known = 0;
        for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
            known |= !strcmp(n, ignored[i]);
        if (!strcmp(n, "train_batch_size"))
            rc = cfg_int(r, n, what, &g->tbs, &g->has_tbs);
        else if (!strcmp(n, "train_micro_batch_size_per_gpu"))
            rc = cfg_int(r, n, what, &g->mbs, &g->has_mbs);
        else if (!strcmp(n, "gradient_accumulation_steps"))
            rc = cfg_int(r, n, what, &g->gas, &g->has_gas);
        else if (!strcmp(n, "zero_optimization")) {
            for (const cJSON *z = k->child; z && rc == 0; z = z->next)
                if (strcmp(z->string, "stage"))
                    rc = uniap_err(UNIAP_EINVAL,
                                   "%s: \"zero_optimization.%s\" is not a key uniap reads "
                                   "(stage is)",
                                   what, z->string);
            if (rc == 0)
                rc = cfg_int(k, "stage", what, &g->stage, &g->has_stage);
            if (rc == 0 && g->stage > 3)
                rc = uniap_err(UNIAP_EINVAL, "%s: \"zero_optimization.stage\" %ld: 0 to 3", what,
                               g->stage);
        } else if (!strcmp(n, "bf16") || !strcmp(n, "fp16")) {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(k, "enabled");
            if (!cJSON_IsBool(e))
                rc = uniap_err(UNIAP_EINVAL, "%s: \"%s.enabled\": expected true or false", what, n);
            else
                *(n[0] == 'b' ? &g->bf16 : &g->fp16) = cJSON_IsTrue(e);
        } else if (!strcmp(n, "data_types")) {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(k, "grad_accum_dtype");
            uniap_dtype t;
            if (!cJSON_IsString(e) || uniap_dtype_parse(e->valuestring, &t) < 0)
                rc = uniap_err(UNIAP_EINVAL,
                               "%s: \"data_types.grad_accum_dtype\": expected fp32, fp16 or bf16",
                               what);
            else
                g->grad_dtype = 1 + (int)t;
        } else if (!strcmp(n, "activation_checkpointing")) {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(k, "partition_activations");
            const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(k, "cpu_checkpointing");
            g->partition = cJSON_IsTrue(e) || cJSON_IsTrue(cpu);
        } else if (!strcmp(n, "pipeline"))
            rc = cfg_int(k, "activation_checkpoint_interval", what, &g->interval, NULL);
        else if (!known)
            rc = uniap_err(UNIAP_EINVAL, "%s: \"%s\" is not a DeepSpeed config key uniap reads",
                           what, n);
    }
    if (rc == 0 && g->partition)
        rc = uniap_err(UNIAP_EINVAL,
                       "%s: \"activation_checkpointing\": partition_activations or "
                       "cpu_checkpointing: uniap keeps each checkpointed input whole on the device",
                       what);
    cJSON_Delete(r);
    return rc;
}

/* The two sources agree: batch sizes, ZeRO stage, precision, interval. */
static int agree(const ds_args *a, const ds_cfg *g, long dp, const char *cw, const char *aw,
                 const uniap_model *m)
{
    if (g->has_tbs && a->gbs && g->tbs != a->gbs)
        return uniap_err(UNIAP_EINVAL, "%s: \"train_batch_size\" %ld, %s --global-batch-size %ld",
                         cw, g->tbs, aw, a->gbs);
    if (g->has_mbs && a->mbs && g->mbs != a->mbs)
        return uniap_err(UNIAP_EINVAL,
                         "%s: \"train_micro_batch_size_per_gpu\" %ld, %s --micro-batch-size %ld",
                         cw, g->mbs, aw, a->mbs);
    long gbs = a->gbs ? a->gbs : g->tbs, mbs = a->mbs ? a->mbs : g->mbs;
    if (gbs < 1 || mbs < 1 || gbs % (mbs * dp))
        return uniap_err(
            UNIAP_EINVAL,
            "%s: global batch %ld is not a multiple of micro-batch %ld x data-parallel "
            "size %ld",
            aw, gbs, mbs, dp);
    if (g->has_gas && g->gas != gbs / (mbs * dp))
        return uniap_err(UNIAP_EINVAL,
                         "%s: \"gradient_accumulation_steps\" %ld, but %ld / (%ld x %ld) is %ld",
                         cw, g->gas, gbs, mbs, dp, gbs / (mbs * dp));
    if (a->zero >= 0 && g->has_stage && a->zero != g->stage)
        return uniap_err(UNIAP_EINVAL, "%s: \"zero_optimization.stage\" %ld, %s --zero-stage %ld",
                         cw, g->stage, aw, a->zero);
    if (g->bf16 != (m->param_dtype == UNIAP_DTYPE_BF16) ||
        g->fp16 != (m->param_dtype == UNIAP_DTYPE_FP16))
        return uniap_err(UNIAP_EINVAL,
                         "%s: \"bf16\"/\"fp16\" enabled: %s/%s, but model '%s' has %s "
                         "parameters",
                         cw, g->bf16 ? "true" : "false", g->fp16 ? "true" : "false", m->name,
                         uniap_dtype_name(m->param_dtype));
    int want = m->training.grad_dtype && m->training.grad_dtype - 1 != (int)m->param_dtype
                   ? m->training.grad_dtype
                   : 0;
    if ((g->grad_dtype && g->grad_dtype - 1 == (int)m->param_dtype ? 0 : g->grad_dtype) != want)
        return uniap_err(
            UNIAP_EINVAL,
            "%s: \"data_types.grad_accum_dtype\" %s, but the model's gradients are %s", cw,
            g->grad_dtype ? uniap_dtype_name((uniap_dtype)(g->grad_dtype - 1)) : "unset",
            uniap_dtype_name(want ? (uniap_dtype)(want - 1) : m->param_dtype));
    return UNIAP_OK;
}

/* The blocks' recomputation from the arguments and the interval. */
static int recompute(const ds_args *a, const ds_cfg *g, const char *cw, const char *aw, int *ckpt)
{
    int rc_full = a->rc_gran == EX_RC_FULL, rc_sel = a->rc_gran == EX_RC_SELECTIVE;
    int full = (rc_full && a->rc_method == EX_RC_UNIFORM) || a->ck_act || g->interval > 0;
    if (rc_full && a->rc_method == EX_RC_BLOCK)
        return uniap_err(UNIAP_EINVAL,
                         "%s: --recompute-method block: DeepSpeed's pipeline "
                         "checkpoints every N-th layer (uniform) only",
                         aw);
    if (rc_full && a->rc_method != EX_RC_UNIFORM)
        return uniap_err(UNIAP_EINVAL,
                         "%s: --recompute-granularity full needs "
                         "--recompute-method uniform",
                         aw);
    if ((rc_full && a->rc_layers > 1) || (a->ck_act && a->ck_layers > 1) || g->interval > 1)
        return uniap_err(UNIAP_EINVAL,
                         "%s / %s: checkpointing %ld layers at once: uniap checkpoints layer by "
                         "layer (1)",
                         aw, cw,
                         g->interval > 1    ? g->interval
                         : a->rc_layers > 1 ? a->rc_layers
                                            : a->ck_layers);
    if (full && rc_sel)
        return uniap_err(UNIAP_EINVAL, "%s: full and selective recomputation at once", aw);
    *ckpt = full ? UNIAP_CKPT_FULL : rc_sel ? UNIAP_CKPT_SELECTIVE : UNIAP_CKPT_NONE;
    return UNIAP_OK;
}

/* The plan of the read arguments a and config g. */
static int build(const ds_args *a, const ds_cfg *g, const char *cw, const char *aw,
                 const uniap_model *m, const uniap_cluster *c, uniap_plan *out)
{
    int dp = 1, rc, ckpt = UNIAP_CKPT_NONE, *blocks = NULL;
    if ((rc = uniap__ex_dp(c, (int)a->tp, (int)a->pp, aw, &dp)) < 0 ||
        (rc = agree(a, g, dp, cw, aw, m)) < 0 || (rc = recompute(a, g, cw, aw, &ckpt)) < 0)
        return rc;
    int pipe = !a->nopipe, stage = g->has_stage ? (int)g->stage : 0;
    if (a->nopipe && a->pp > 1)
        return uniap_err(UNIAP_EINVAL,
                         "%s: --no-pipeline-parallel with "
                         "--pipeline-model-parallel-size %ld",
                         aw, a->pp);
    if (pipe && stage >= 2)
        return uniap_err(UNIAP_EINVAL,
                         "%s: \"zero_optimization.stage\" %d under DeepSpeed's pipeline engine "
                         "(%s has no --no-pipeline-parallel): it runs ZeRO stage 1 at most",
                         cw, stage, aw);
    if (stage == 3 && uniap_model_has_experts(m))
        return uniap_err(UNIAP_EINVAL,
                         "%s: \"zero_optimization.stage\" 3 on model '%s' with experts: "
                         "\"Native DeepSpeed MoE is not supported with ZeRO Stage 3\" "
                         "(runtime/engine.py)",
                         cw, m->name);
    if (pipe && stage == 0 && dp > 1 && m->param_dtype == UNIAP_DTYPE_BF16)
        stage = 1; /* BF16_Optimizer shards the optimizer states over dp */
    if (a->pp > 1) {
        if (!(blocks = malloc(sizeof(int) * (size_t)a->pp)))
            return uniap_err(UNIAP_ENOMEM, "%s: out of memory", aw);
        if ((rc = uniap__ds_type_split(m, (int)a->pp, blocks, aw)) < 0) {
            free(blocks);
            return rc;
        }
    }
    long gbs = a->gbs ? a->gbs : g->tbs, mbs = a->mbs ? a->mbs : g->mbs;
    ex_build b = {.pp = (int)a->pp,
                  .tp = (int)a->tp,
                  .flavour = stage,
                  .sp = a->sp,
                  .ckpt = ckpt,
                  .ep = (int)a->ep,
                  .blocks = blocks,
                  .global_batch = gbs,
                  .micro_batches = (int)(gbs / (mbs * dp)),
                  .schedule = UNIAP_SCHED_1F1B};
    rc = uniap__ex_build(&b, m, c, aw, out);
    free(blocks);
    return rc;
}

int uniap_plan_import_deepspeed(const char *config, const char *config_what, const char *args,
                                const char *args_what, const uniap_model *m, const uniap_cluster *c,
                                uniap_plan *out)
{
    ds_args a = {.tp = 1, .pp = 1, .zero = -1};
    ds_cfg g;
    char *buf = NULL, *tok[512];
    int n = 0, rc;
    memset(out, 0, sizeof(*out));
    if ((rc = uniap__ex_no_fp8(m, args_what)) < 0)
        return rc;
    if ((rc = uniap__ex_tokens(args, args_what, &buf, tok, 512, &n)) < 0)
        goto free_buf;
    rc = uniap__ex_read_args(&ds_table, tok, n, &a, args_what);
    if (rc == 0 && !a.deepspeed)
        rc = uniap_err(UNIAP_EINVAL,
                       "%s: no --deepspeed: Megatron-DeepSpeed would run without "
                       "DeepSpeed",
                       args_what);
    if (rc == 0 && (a.norm && strcmp(a.norm, "layernorm") && strcmp(a.norm, "rmsnorm")))
        rc = uniap_err(UNIAP_EINVAL, "%s: --normalization %s: expected layernorm or rmsnorm",
                       args_what, a.norm);
    if (rc == 0)
        rc = check_model(&a, m, args_what);
    if (rc == 0)
        rc = read_config(config, config_what, &g);
    if (rc == 0)
        rc = build(&a, &g, config_what, args_what, m, c, out);
free_buf:
    free(buf);
    return rc;
}
