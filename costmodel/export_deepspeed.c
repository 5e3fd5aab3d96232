/*
 * export_deepspeed.c - a plan as DeepSpeed runs it: the DeepSpeed config
 * JSON (batch sizes, gradient accumulation, ZeRO stage, bf16/fp16,
 * activation checkpointing, the pipeline's checkpoint interval) and the
 * Megatron-DeepSpeed pretrain_gpt.py arguments that launch it (tp, pp,
 * micro-batch, global batch, --zero-stage, recompute, the model's shape).
 * What DeepSpeed cannot run is refused, naming the layer or stage:
 *   - one strategy for every layer (tp, dp, ZeRO stage, sp), recompute of
 *     every block or of none (a per-layer choice is not expressible);
 *   - ZeRO-2/3 with pp > 1 ("ZeRO-2 and ZeRO-3 are incompatible with
 *     pipeline parallelism", deepspeed/runtime/pipe/engine.py);
 *   - bf16 DDP with pp > 1: the pipeline engine runs bf16 at ZeRO stage 0
 *     through BF16_Optimizer, which shards the fp32 optimizer states over
 *     the data-parallel ranks (runtime/engine.py _do_optimizer_sanity_check,
 *     runtime/bf16_optimizer.py): that is ZeRO-1's memory, not DDP's;
 *   - strided TP groups (Megatron's mpu places TP ranks adjacent);
 *   - a split other than GPTModelPipe's partition_method='type:transformer'
 *     (megatron/model/gpt_model.py): DeepSpeed's partition_balanced of one
 *     weight per transformer block (runtime/utils.py), ported below (and
 *     shared with runtime_deepspeed.c's enumeration);
 *   - a schedule other than 1F1B (DeepSpeed's TrainSchedule; with pp 1
 *     gradient accumulation holds one micro-batch, as 1F1B);
 *   - mixture of experts other than DeepSpeed-MoE as Megatron-DeepSpeed
 *     builds it (megatron/model/transformer.py ParallelTransformerLayer:
 *     deepspeed.moe.layer.MoE(num_experts=--num-experts, ep_size=
 *     --moe-expert-parallel-size, k=--topk, drop_tokens, ...) in every
 *     --expert-interval-th block): every block moe of one shape
 *     (--expert-interval 1; dense blocks first are not expressible with one
 *     --num-experts), dropless (--disable-moe-token-dropping; uniap writes
 *     no capacity factor here), no shared experts (DeepSpeed's residual
 *     MoE mixes one dense MLP in by a learned coefficient: not uniap's
 *     shared experts), no ZeRO-3 ("Native DeepSpeed MoE is not supported
 *     with ZeRO Stage 3", runtime/engine.py). The plan's one ep over the
 *     moe blocks is ep_size: DeepSpeed carves the expert-parallel groups
 *     out of the data-parallel ranks (utils/groups.py: ep divides dp, as
 *     uniap's does); the experts are tp-sharded as uniap prices them
 *     (--enable-expert-tensor-parallelism with tp > 1), and ZeRO-1/2 needs
 *     the experts in their own parameter group (--create-moe-param-group:
 *     zero/stage_1_and_2.py asserts one).
 * Checked against DeepSpeed edaa722 and Megatron-DeepSpeed 4efb479 (the
 * lists in tests/runtimes/deepspeed_keys.txt).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "export_internal.h"

void uniap__ds_partition_uniform(int n, int m, int *parts)
{
    if (n <= m) {
        for (int p = 0; p <= m; p++)
            parts[p] = p < n ? p : n;
        return;
    }
    int chunk = n / m, residual = n - chunk * m;
    for (int p = 0; p <= m; p++)
        parts[p] = p * chunk + (p < residual ? p : residual);
}

/* As runtime/utils.py writes it, dp_min[0][0] left at infinity there too. */
int uniap__ds_partition_balanced(const double *w, int n, int m, int *parts)
{
    if (n <= m) {
        uniap__ds_partition_uniform(n, m, parts);
        return UNIAP_OK;
    }
    size_t W = (size_t)m + 1, cells = ((size_t)n + 1) * W;
    double *mx = malloc(sizeof(double) * cells), *mn = malloc(sizeof(double) * cells);
    double *cost = malloc(sizeof(double) * cells), *pre = malloc(sizeof(double) * (n + 1));
    int *pos = calloc(cells, sizeof(int)), rc = UNIAP_OK;
    if (!mx || !mn || !cost || !pre || !pos) {
        rc = uniap_err(UNIAP_ENOMEM, "deepspeed partition: out of memory");
        goto free_all;
    }
    for (size_t a = 0; a < cells; a++)
        mx[a] = mn[a] = cost[a] = INFINITY;
    pre[0] = 0;
    for (int i = 0; i < n; i++)
        pre[i + 1] = pre[i] + w[i];
    mx[0] = cost[0] = 0;
    for (int i = 1; i <= n; i++)
        for (int j = 1; j <= (i < m ? i : m); j++)
            for (int k = 0; k < i; k++) {
                double part = pre[i] - pre[k];
                double hi = fmax(mx[k * W + j - 1], part), lo = fmin(mn[k * W + j - 1], part);
                if (cost[i * W + j] >= hi - lo) {
                    cost[i * W + j] = hi - lo;
                    mx[i * W + j] = hi;
                    mn[i * W + j] = lo;
                    pos[i * W + j] = k;
                }
            }
    parts[m] = n;
    for (int i = m; i >= 1; i--)
        parts[i - 1] = pos[(size_t)parts[i] * W + i];
free_all:
    free(mx), free(mn), free(cost), free(pre), free(pos);
    return rc;
}

int uniap__ds_type_split(const uniap_model *m, int pp, int *blocks, const char *what)
{
    int L = m->n_layers, rc;
    int *parts = malloc(sizeof(int) * (size_t)(pp + 1));
    int *got = malloc(sizeof(int) * (size_t)L), *want = malloc(sizeof(int) * (size_t)L);
    double *w = malloc(sizeof(double) * (size_t)L);
    if (!parts || !got || !want || !w) {
        rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory", what);
        goto free_all;
    }
    for (int u = 0; u < L; u++)
        w[u] = uniap__ex_is_block(m, u);
    if ((rc = uniap__ds_partition_balanced(w, L, pp, parts)) < 0)
        goto free_all;
    for (int i = 0; i < pp; i++) {
        blocks[i] = 0;
        if (parts[i + 1] <= parts[i]) {
            rc = uniap_err(UNIAP_EINVAL,
                           "%s: DeepSpeed's partition_method 'type:transformer' leaves stage %d "
                           "of %d empty (%d layers)",
                           what, i, pp, L);
            goto free_all;
        }
        for (int u = parts[i]; u < parts[i + 1]; u++) {
            got[u] = i;
            blocks[i] += uniap__ex_is_block(m, u);
        }
    }
    if ((rc = uniap_plan_split_stages(m, pp, blocks, want)) < 0)
        goto free_all;
    for (int u = 0; u < L; u++)
        if (got[u] != want[u]) {
            rc = uniap_err(UNIAP_EINVAL,
                           "%s: DeepSpeed's 'type:transformer' partition puts layer %d on stage "
                           "%d, not with its neighbouring block (stage %d)",
                           what, u, got[u], want[u]);
            break;
        }
free_all:
    free(parts), free(got), free(want), free(w);
    return rc;
}

/* The model as Megatron-DeepSpeed's GPT arguments (its megatron/arguments.py). */
static int model_args(const uniap_model *m, const ex_model *x, uniap_textbuf *b)
{
    const uniap_layer *k = x->blk, *first = &m->runs[0];
    if (!x->same)
        return uniap_err(UNIAP_EINVAL,
                         "deepspeed export: model '%s' has transformer blocks of "
                         "different shapes (Megatron-DeepSpeed builds one)",
                         m->name);
    if ((k->kind != UNIAP_LAYER_DECODER && k->kind != UNIAP_LAYER_MOE) ||
        k->activation == UNIAP_ACT_RELU)
        return uniap_err(UNIAP_EINVAL,
                         "deepspeed export: model '%s': Megatron-DeepSpeed's GPTModelPipe builds "
                         "causal decoder blocks with a GeLU or SwiGLU MLP (layer %d is a %s%s)",
                         m->name, x->first_block, uniap_layer_kind_name(k->kind),
                         k->activation == UNIAP_ACT_RELU ? " with a ReLU MLP" : "");
    int kv = k->kv_heads ? k->kv_heads : k->heads;
    int64_t maxpos = first->kind == UNIAP_LAYER_EMBEDDING && first->max_positions > 0
                         ? first->max_positions
                         : k->seq;
    uniap_textbuf_printf(b,
                         " --num-layers %d --hidden-size %lld --ffn-hidden-size %lld "
                         "--num-attention-heads %d --num-key-value-heads %d --seq-length %lld "
                         "--max-position-embeddings %lld",
                         x->n_blocks, (long long)k->hidden, (long long)k->ffn, k->heads, kv,
                         (long long)k->seq, (long long)maxpos);
    if (k->activation == UNIAP_ACT_SWIGLU)
        uniap_textbuf_printf(b, " --swiglu");
    uniap_textbuf_printf(b, " --normalization %s",
                         k->norm == UNIAP_NORM_RMSNORM ? "rmsnorm" : "layernorm");
    uniap_position pos = k->position != UNIAP_POS_NONE ? k->position : first->position;
    if (pos == UNIAP_POS_ROTARY)
        uniap_textbuf_printf(b, " --use-rotary-position-embeddings --no-position-embedding");
    else if (pos != UNIAP_POS_LEARNED)
        uniap_textbuf_printf(b, " --no-position-embedding");
    uniap__ex_megatron_switches(m, k, "--use-flash-attn-v2", b);
    return UNIAP_OK;
}

/* What DeepSpeed-MoE cannot run of x's experts (header): EINVAL. */
static int refuse_moe(const uniap_model *m, const ex_plan *x)
{
    const uniap_layer *e = x->mdl.moe;
    if (!e)
        return UNIAP_OK;
    const char *no = x->mdl.n_moe != x->mdl.n_blocks || !x->mdl.same
                         ? "dense and moe blocks (Megatron-DeepSpeed: --expert-interval 1, every "
                           "block moe, is what this export writes)"
                     : e->shared_experts > 0 ? "shared experts (DeepSpeed's residual MoE is not "
                                               "uniap's shared experts)"
                     : e->capacity_factor > 0
                         ? "an expert capacity factor (this export writes dropless DeepSpeed-MoE)"
                     : x->flavour == UNIAP_DP_FSDP
                         ? "ZeRO-3 (\"Native DeepSpeed MoE is not supported with ZeRO Stage 3\", "
                           "runtime/engine.py)"
                         : NULL;
    if (no)
        return uniap_err(UNIAP_EINVAL,
                         "deepspeed export: model '%s' has mixture-of-experts layers with %s; "
                         "DeepSpeed-MoE as Megatron-DeepSpeed builds it cannot run it",
                         m->name, no);
    return UNIAP_OK;
}

/* DeepSpeed-MoE's arguments of x's experts, as Megatron-DeepSpeed's
 * pretrain_gpt.py takes them (megatron/arguments.py); the plan's ep is
 * --moe-expert-parallel-size, the ep_size of deepspeed.moe.layer.MoE. */
static void moe_args(const ex_plan *x, uniap_textbuf *b)
{
    const uniap_layer *e = x->mdl.moe;
    if (!e)
        return;
    uniap_textbuf_printf(b,
                         " --num-experts %d --topk %d --expert-interval 1 "
                         "--moe-expert-parallel-size %d --disable-moe-token-dropping",
                         e->experts, e->top_k, x->ep);
    if (x->tp > 1) /* uniap's experts are tp-sharded */
        uniap_textbuf_printf(b, " --enable-expert-tensor-parallelism");
    if (x->flavour != UNIAP_DP_DDP) /* ZeRO-1/2 asserts an MoE parameter group */
        uniap_textbuf_printf(b, " --create-moe-param-group");
}

/* What DeepSpeed cannot run of x (the plan's one setting): EINVAL. */
static int refuse(const uniap_plan *p, const uniap_model *m, const ex_plan *x)
{
    const uniap_schedule_desc *sd = uniap_schedule_get(p->schedule);
    if (!sd || strcmp(sd->name, "1f1b") != 0)
        return uniap_err(UNIAP_EINVAL,
                         "deepspeed export: pipeline schedule %s: DeepSpeed's TrainSchedule is "
                         "1F1B",
                         uniap_schedule_name(p->schedule));
    if (x->ckpt < 0)
        for (int u = x->mdl.first_block + 1; u <= x->mdl.last_block; u++)
            if (p->strategy_of[u].ckpt != p->strategy_of[x->mdl.first_block].ckpt)
                return uniap_err(UNIAP_EINVAL,
                                 "deepspeed export: block %d (layer %d, stage %d) uses %s, the "
                                 "first block %s: DeepSpeed recomputes every block or none",
                                 u - x->mdl.first_block, u, p->stage_of[u], p->strategy_of[u].name,
                                 p->strategy_of[x->mdl.first_block].name);
    if (!x->consecutive)
        return uniap_err(UNIAP_EINVAL,
                         "deepspeed export: strided TP groups (%s): Megatron-"
                         "DeepSpeed's TP ranks are adjacent",
                         p->strategy_of[x->mdl.first_block].name);
    if (x->pp > 1 && x->flavour >= UNIAP_DP_ZERO2)
        return uniap_err(UNIAP_EINVAL,
                         "deepspeed export: ZeRO stage %d on %d pipeline stages: DeepSpeed's "
                         "pipeline engine runs ZeRO stage 1 at most",
                         x->flavour, x->pp);
    if (x->pp > 1 && x->dp > 1 && x->flavour == UNIAP_DP_DDP && m->param_dtype == UNIAP_DTYPE_BF16)
        return uniap_err(UNIAP_EINVAL,
                         "deepspeed export: bf16 DDP on %d pipeline stages: DeepSpeed's pipeline "
                         "engine runs bf16 ZeRO stage 0 through BF16_Optimizer, which shards the "
                         "optimizer states over the %d data-parallel ranks (ZeRO-1's memory)",
                         x->pp, x->dp);
    int grad16 = m->training.grad_dtype == 0 || m->training.grad_dtype - 1 == (int)m->param_dtype;
    if (x->flavour == UNIAP_DP_DDP && !grad16 && m->param_dtype != UNIAP_DTYPE_FP32)
        return uniap_err(UNIAP_EINVAL,
                         "deepspeed export: DDP with %s gradients of %s parameters: DeepSpeed "
                         "accumulates gradients in the parameters' type without ZeRO",
                         uniap_dtype_name((uniap_dtype)(m->training.grad_dtype - 1)),
                         uniap_dtype_name(m->param_dtype));
    if (x->pp == 1)
        return UNIAP_OK;
    int *want = malloc(sizeof(int) * (size_t)x->pp), rc;
    if (!want)
        return uniap_err(UNIAP_ENOMEM, "deepspeed export: out of memory");
    rc = uniap__ds_type_split(m, x->pp, want, "deepspeed export");
    for (int i = 0; rc == 0 && i < x->pp; i++)
        if (want[i] != x->blocks[i])
            rc = uniap_err(UNIAP_EINVAL,
                           "deepspeed export: stage %d holds %d blocks; Megatron-DeepSpeed's "
                           "GPTModelPipe partitions with 'type:transformer' (DeepSpeed's "
                           "partition_balanced), which puts %d there",
                           i, x->blocks[i], want[i]);
    free(want);
    return rc;
}

/* The DeepSpeed config JSON of x (cJSON_Print, newline-terminated). */
static char *config_json(const uniap_plan *p, const uniap_model *m, const ex_plan *x)
{
    cJSON *r = cJSON_CreateObject(), *o;
    char *json = NULL, *out = NULL;
    if (!r)
        return NULL;
    cJSON_AddNumberToObject(r, "train_batch_size", (double)p->global_batch);
    cJSON_AddNumberToObject(r, "train_micro_batch_size_per_gpu", x->mb);
    cJSON_AddNumberToObject(r, "gradient_accumulation_steps", p->micro_batches);
    if ((o = cJSON_AddObjectToObject(r, "zero_optimization")))
        cJSON_AddNumberToObject(o, "stage", x->flavour);
    if (m->param_dtype != UNIAP_DTYPE_FP32 &&
        (o = cJSON_AddObjectToObject(r, m->param_dtype == UNIAP_DTYPE_BF16 ? "bf16" : "fp16")))
        cJSON_AddBoolToObject(o, "enabled", 1);
    if (m->training.grad_dtype && m->training.grad_dtype - 1 != (int)m->param_dtype &&
        (o = cJSON_AddObjectToObject(r, "data_types")))
        cJSON_AddStringToObject(o, "grad_accum_dtype",
                                uniap_dtype_name((uniap_dtype)(m->training.grad_dtype - 1)));
    if (x->ckpt == UNIAP_CKPT_FULL &&
        (o = cJSON_AddObjectToObject(r, "activation_checkpointing"))) {
        /* the inputs kept whole on every rank: uniap's full recomputation */
        cJSON_AddBoolToObject(o, "partition_activations", 0);
        cJSON_AddBoolToObject(o, "contiguous_memory_optimization", 0);
        cJSON_AddBoolToObject(o, "cpu_checkpointing", 0);
    }
    if (x->ckpt == UNIAP_CKPT_FULL && x->pp > 1 && (o = cJSON_AddObjectToObject(r, "pipeline")))
        cJSON_AddNumberToObject(o, "activation_checkpoint_interval", 1);
    json = cJSON_Print(r);
    if (json && (out = malloc(strlen(json) + 2)))
        strcat(strcpy(out, json), "\n");
    free(json);
    cJSON_Delete(r);
    return out;
}

int uniap_plan_export_deepspeed(const uniap_plan *p, const uniap_model *m, const char *config_path,
                                char **config, char **args)
{
    ex_plan x;
    uniap_textbuf b = {0};
    int rc;
    *config = *args = NULL;
    if ((rc = uniap__ex_no_fp8(m, "deepspeed export")) < 0 ||
        (rc = uniap__ex_plan(p, m, "deepspeed", &x)) < 0)
        return rc;
    if (x.cp > 1) {
        free(x.blocks);
        return uniap_err(UNIAP_EINVAL,
                         "deepspeed export: the plan uses context parallelism (cp %d): "
                         "Megatron-DeepSpeed's pretrain_gpt.py is not given it by this export "
                         "(plan with --no-cp or --runtime deepspeed)",
                         x.cp);
    }
    if ((rc = refuse(p, m, &x)) < 0 || (rc = refuse_moe(m, &x)) < 0)
        goto free_x;
    uniap_textbuf_printf(&b,
                         "--tensor-model-parallel-size %d --pipeline-model-parallel-size %d%s "
                         "--micro-batch-size %d --global-batch-size %lld --zero-stage %d",
                         x.tp, x.pp, x.pp == 1 ? " --no-pipeline-parallel" : "", x.mb,
                         (long long)p->global_batch, x.flavour);
    if (x.sp)
        uniap_textbuf_printf(&b, " --sequence-parallel");
    if (x.ckpt == UNIAP_CKPT_FULL)
        uniap_textbuf_printf(&b, " --recompute-granularity full --recompute-method uniform "
                                 "--recompute-num-layers 1 --deepspeed-activation-checkpointing");
    else if (x.ckpt == UNIAP_CKPT_SELECTIVE)
        uniap_textbuf_printf(&b, " --recompute-granularity selective");
    if ((rc = model_args(m, &x.mdl, &b)) < 0)
        goto free_x;
    moe_args(&x, &b);
    uniap_textbuf_printf(&b, " --deepspeed --deepspeed_config %s\n",
                         config_path ? config_path : "ds_config.json");
    uniap_textbuf_printf(&b, "# Megatron-DeepSpeed pretrain_gpt.py arguments (deepspeedai/"
                             "Megatron-DeepSpeed 4efb479, DeepSpeed edaa722) of a uniap plan\n");
    if (x.sp)
        uniap_textbuf_printf(&b, "# --sequence-parallel needs CUDA_DEVICE_MAX_CONNECTIONS=1\n");
    if (x.mdl.moe) /* where the plan's ep goes: the MoE layer's argument, no config key */
        uniap_textbuf_printf(&b,
                             "# DeepSpeed-MoE: every block builds deepspeed.moe.layer.MoE("
                             "num_experts=%d, ep_size=%d, k=%d, drop_tokens=False%s) from "
                             "--num-experts, --moe-expert-parallel-size, --topk "
                             "(megatron/model/transformer.py)\n",
                             x.mdl.moe->experts, x.ep, x.mdl.moe->top_k,
                             x.tp > 1 ? ", enable_expert_tensor_parallelism=True" : "");
    const uniap_layer *head = &m->runs[m->n_runs - 1];
    uniap_textbuf_printf(&b,
                         "# yours to add: the tokenizer and data (--tokenizer-type, --vocab-file "
                         "or --tokenizer-model, --data-path)%s",
                         head->kind == UNIAP_LAYER_HEAD && head->vocab > 0 ? "; vocabulary "
                                                                           : "\n");
    if (head->kind == UNIAP_LAYER_HEAD && head->vocab > 0)
        uniap_textbuf_printf(&b, "%lld\n", (long long)head->vocab);
    if (!(*config = config_json(p, m, &x)) || b.oom) {
        rc = uniap_err(UNIAP_ENOMEM, "deepspeed export: out of memory");
        goto free_x;
    }
    *args = b.s;
    b.s = NULL;
free_x:
    if (rc < 0) {
        free(*config);
        *config = NULL;
    }
    free(b.s);
    free(x.blocks);
    return rc;
}
