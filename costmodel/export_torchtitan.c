/*
 * export_torchtitan.c - a plan as torchtitan's TOML job config (the
 * --job.config_file of torchtitan v0.2.2, 73a0e69, the last release that
 * reads TOML: torchtitan/config/job_config.py; TOML went at 9810191,
 * 2026-02-23): [parallelism] degrees, the pipeline schedule, micro-batch
 * and split (module_fqns_per_model_part), [training] batch sizes, seq_len
 * and precision, [activation_checkpoint] mode, [model] llama3 and the
 * TransformerModelArgs of the model's shape. What torchtitan cannot run is
 * refused, naming the layer or setting (at v0.2.2):
 *   - one tp for every layer (embedding and output sharded on the same
 *     mesh), TP ranks adjacent (innermost in the device mesh), and TP
 *     always with sequence parallelism (SequenceParallel on the norms,
 *     models/llama3/infra/parallelize.py apply_tp);
 *   - data parallelism as FSDP2 (data_parallel_shard_degree; uniap's FSDP
 *     gathers in forward and again in backward: fsdp_reshard_after_forward
 *     "always") or DDP (data_parallel_replicate_degree) with no other
 *     parallelism ("DDP has not supported > 1D parallelism"); no ZeRO-1/2;
 *   - mixed precision runs through FSDP or AMP: a bf16-compute model with
 *     fp32 masters and TP or PP needs FSDP (distributed/utils.py
 *     maybe_enable_amp);
 *   - the schedules GPipe, 1F1B and Interleaved1F1B (v model parts per
 *     rank, written in model order, part k on rank k mod pp: each stage's
 *     blocks a multiple of v);
 *   - activation checkpointing "full" (every block) or "none";
 *     "selective" is a per-op policy, not uniap's selective;
 *   - the llama3 model: RMSNorm, SwiGLU, RoPE, no biases, an untied
 *     output, SDPA (flash) attention, no dropout; fp16 is no dtype there;
 *   - mixture of experts (the moe layers): torchtitan's llama4 when every
 *     block is moe (interleave_moe_layer_step 1), its deepseek_v3 when
 *     dense blocks come first (n_dense_layers; its attention is MLA, which
 *     uniap prices as the model's multi-head attention: a note says so),
 *     both on models/moe/moe.py's MoE: routed experts of one SwiGLU width,
 *     the shared experts one FeedForward of num_shared_experts x that
 *     width, dropless (no capacity factor: one is refused). The plan's one
 *     ep is [parallelism] expert_parallel_degree, its expert tensor
 *     parallelism the layers' tp (uniap's experts are tp-sharded):
 *     expert_tensor_parallel_degree = tp. distributed/parallel_dims.py
 *     _validate (lines 58-59) takes etp = tp or 1, and build_mesh (136-158)
 *     carves the sparse mesh (pp, dp_replicate, efsdp, ep, etp) out of the
 *     world with efsdp = dp_shard x cp x tp / (etp x ep): with etp = tp, ep
 *     divides dp_shard x cp, so ep > 1 needs FSDP (dp_shard > 1; DDP's
 *     dp_shard 1 leaves efsdp = cp / ep, no whole number for uniap's ep,
 *     which divides dp). The ep ranks are the innermost of the dp_shard x
 *     cp mesh (cp first), where uniap prices the ep group as placed as the
 *     dp group (moe_comm.c); no FP8 with experts (uniap prices no grouped
 *     float8 GEMMs);
 *   - FP8 (--precision fp8): [model] converters = ["quantize.linear.float8"]
 *     (the name torchtitan/components/quantization/float8.py registers at
 *     73a0e69; "float8" before) with [quantize.linear.float8] filter_fqns
 *     = ["output"]: the blocks' Linear layers in FP8, the output layer in
 *     bf16, as uniap prices it (its default filter is empty). torchao's
 *     tensorwise float8 recasts the weights each pass where Transformer
 *     Engine, whose memory uniap models, caches FP8 copies: a note says so.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

const char *uniap__tt_model_name(const ex_model *x)
{
    return !x->moe ? "llama3" : x->dense_first ? "deepseek_v3" : "llama4";
}

/* What torchtitan's MoE models cannot build of x's experts, or NULL. */
static const char *moe_gap(const uniap_model *m, const ex_model *x)
{
    const uniap_layer *e = x->moe;
    if (!e)
        return NULL;
    return !x->moe_tail ? "moe blocks of different shapes, or dense blocks after moe ones "
                          "(llama4: every block moe; deepseek_v3: dense blocks first)"
           : e->capacity_factor > 0 ? "an expert capacity factor (torchtitan's MoE is dropless)"
           : x->dense_first && x->blk->kv_heads && x->blk->kv_heads != x->blk->heads
               ? "grouped-query attention before moe blocks (deepseek_v3's attention is MLA)"
           : m->training.fp8 ? "FP8 with experts (uniap prices no float8 grouped GEMMs)"
                             : NULL;
}

/* 0 when torchtitan's llama3 (or, with experts, llama4 or deepseek_v3)
 * builds m's blocks, else EINVAL naming what. */
int uniap__tt_model_check(const uniap_model *m, const ex_model *x, const char *what)
{
    const uniap_layer *k = x->blk, *last = &m->runs[m->n_runs - 1];
    const char *no = moe_gap(m, x)         ? moe_gap(m, x)
                     : !x->same && !x->moe ? "blocks of different shapes"
                     : k->kind != UNIAP_LAYER_DECODER && k->kind != UNIAP_LAYER_MOE
                         ? "blocks that are not causal decoders"
                     : k->activation != UNIAP_ACT_SWIGLU        ? "an MLP that is not SwiGLU"
                     : k->norm != UNIAP_NORM_RMSNORM            ? "LayerNorm (llama3: RMSNorm)"
                     : k->position != UNIAP_POS_ROTARY          ? "positions that are not rotary"
                     : k->bias                                  ? "linear biases"
                     : last->kind != UNIAP_LAYER_HEAD           ? "no head layer"
                     : last->tied                               ? "an output tied to the embedding"
                     : m->runs[0].kind != UNIAP_LAYER_EMBEDDING ? "no token embedding"
                     : m->param_dtype == UNIAP_DTYPE_FP16       ? "fp16 parameters (torchtitan: "
                                                                  "bfloat16 or float32)"
                     : !k->flash_attn ? "eager attention (torchtitan runs SDPA: plan with "
                                        "--attention flash)"
                     : !k->no_dropout ? "dropout (torchtitan's llama3 has none: plan with "
                                        "--dropout off)"
                                      : NULL;
    if (no)
        return uniap_err(UNIAP_EINVAL, "%s: model '%s' has %s; torchtitan's %s cannot build it",
                         what, m->name, no, uniap__tt_model_name(x));
    if (m->n_layers != x->n_blocks + 2)
        return uniap_err(UNIAP_EINVAL,
                         "%s: model '%s': torchtitan's %s is one embedding, the "
                         "blocks and one output",
                         what, m->name, uniap__tt_model_name(x));
    return UNIAP_OK;
}

/* torchtitan's precision fields for m: dtype, mixed_precision_param. */
void uniap__tt_dtypes(const uniap_model *m, const char **dtype, const char **mp)
{
    int bf16 = m->param_dtype == UNIAP_DTYPE_BF16;
    *dtype = bf16 && !m->mixed_precision ? "bfloat16" : "float32";
    *mp = bf16 ? "bfloat16" : "float32";
}

/* The multiple_of (and ffn_dim_multiplier) that make llama3's and
 * llama4's FeedForward width ffn at model width h: multiple_of x
 * ceil(int(8 h / 3) x multiplier / multiple_of). */
static void ffn_args(int64_t h, long long ffn, uniap_textbuf *b)
{
    long long h0 = (long long)(2.0 * (4.0 * (double)h) / 3.0), mo = 0;
    for (long long c = 1024; c >= 1 && !mo; c /= 2)
        if ((h0 + c - 1) / c * c == ffn)
            mo = c;
    if (mo)
        uniap_textbuf_printf(b, "multiple_of=%lld", mo);
    else if (ffn >= h0)
        uniap_textbuf_printf(b, "multiple_of=%lld", ffn);
    else
        uniap_textbuf_printf(b, "multiple_of=%lld, ffn_dim_multiplier=%.17g", ffn,
                             (double)ffn / (double)h0);
}

/* models/moe/moe.py MoEArgs of x's experts (softmax router; dropless). */
static void moe_args(const ex_model *x, uniap_textbuf *b)
{
    const uniap_layer *e = x->moe;
    uniap_textbuf_printf(b,
                         "moe_args=MoEArgs(num_experts=%d, num_shared_experts=%d, top_k=%d, "
                         "score_func=\"softmax\")",
                         e->experts, e->shared_experts, e->top_k);
}

/* The [model] section: llama3 (llama4 or deepseek_v3 with experts), and
 * the shape to register as its flavor. */
static void model_section(const uniap_model *m, const ex_model *x, uniap_textbuf *b)
{
    const uniap_layer *k = x->blk, *e = x->moe;
    const char *name = uniap__tt_model_name(x);
    int kv = k->kv_heads ? k->kv_heads : k->heads;
    uniap_textbuf_printf(b, "[model]\nname = \"%s\"\nflavor = \"%s\"\n", name, m->name);
    if (m->training.fp8) /* torchao's Float8Linear in place of nn.Linear */
        uniap_textbuf_printf(b, "converters = [\"%s\"]\n", UNIAP_TT_FLOAT8);
    uniap_textbuf_printf(b, "# register the flavor in torchtitan/models/%s/__init__.py %s_args:\n",
                         name,
                         !e               ? "llama3"
                         : x->dense_first ? "deepseekv3"
                                          : "llama4");
    if (e && x->dense_first) { /* models/deepseek_v3/model/args.py */
        uniap_textbuf_printf(b,
                             "#   \"%s\": DeepSeekV3ModelArgs(vocab_size=%lld, dim=%lld, "
                             "inter_dim=%lld, moe_inter_dim=%lld, n_layers=%d, n_dense_layers=%d, "
                             "n_heads=%d, ",
                             m->name, (long long)m->runs[0].vocab, (long long)k->hidden,
                             (long long)k->ffn, (long long)e->ffn, x->n_blocks, x->dense_first,
                             k->heads);
        moe_args(x, b);
        uniap_textbuf_printf(b,
                             "),\n# note: deepseek_v3 builds multi-head latent attention "
                             "(its q_lora_rank, kv_lora_rank, qk_*_head_dim, v_head_dim:\n# "
                             "set yours); uniap priced multi-head attention of %d heads of "
                             "%lld\n",
                             k->heads,
                             (long long)(k->head_dim ? k->head_dim : k->hidden / k->heads));
    } else {
        uniap_textbuf_printf(b,
                             "#   \"%s\": TransformerModelArgs(dim=%lld, n_layers=%d, n_heads=%d, "
                             "n_kv_heads=%d, vocab_size=%lld, ",
                             m->name, (long long)k->hidden, x->n_blocks, k->heads, kv,
                             (long long)m->runs[0].vocab);
        ffn_args(k->hidden, (long long)k->ffn, b);
        if (e) { /* models/llama4/model/args.py: every block moe, experts of width ffn */
            uniap_textbuf_printf(b, ", interleave_moe_layer_step=1, auto_scale_hidden_dim=False, ");
            moe_args(x, b);
        }
        uniap_textbuf_printf(b, "),\n");
    }
    uniap_textbuf_printf(b, "# and set hf_assets_path (the tokenizer) to yours\n\n");
}

/* module_fqns_per_model_part: the llama3 module names of each of the deg v
 * model parts in model order (v model chunks per stage under an
 * interleaved schedule, else 1). Part k runs on rank k mod deg
 * (torchtitan's "loop" style), so it takes n_i / v blocks of stage
 * i = k mod deg, n_i the blocks of stage i (a multiple of v: refuse); the
 * embedding opens part 0, the final norm and output close the last. */
static void split_list(const uniap_plan *p, const uniap_model *m, const ex_model *x, int v,
                       uniap_textbuf *b)
{
    int next = x->first_block, parts = p->deg * v;
    uniap_textbuf_printf(b, "module_fqns_per_model_part = [");
    for (int k = 0; k < parts; k++) {
        int i = k % p->deg, n = 0, first = 1;
        for (int u = x->first_block; u <= x->last_block; u++)
            n += p->stage_of[u] == i;
        uniap_textbuf_printf(b, "%s\n    [", k ? "," : "");
        if (k == 0)
            for (int u = 0; u < x->first_block; u++, first = 0)
                uniap_textbuf_printf(b, "%s\"tok_embeddings\"", first ? "" : ", ");
        for (int j = 0; j < n / v; j++, next++, first = 0)
            uniap_textbuf_printf(b, "%s\"layers.%d\"", first ? "" : ", ", next - x->first_block);
        if (k == parts - 1)
            for (int u = x->last_block + 1; u < m->n_layers; u++, first = 0)
                uniap_textbuf_printf(b, "%s\"norm\", \"output\"", first ? "" : ", ");
        uniap_textbuf_printf(b, "]");
    }
    uniap_textbuf_printf(b, "\n]\n");
}

/* An interleaved plan's stages each hold a multiple of its v chunks of
 * blocks (the parts are whole blocks); EINVAL naming the first that does
 * not. */
static int chunks_whole(const uniap_plan *p, const ex_model *x, int v)
{
    for (int i = 0; i < p->deg && v > 1; i++) {
        int n = 0;
        for (int u = x->first_block; u <= x->last_block; u++)
            n += p->stage_of[u] == i;
        if (n % v || n == 0)
            return uniap_err(UNIAP_EINVAL,
                             "torchtitan export: schedule %s: stage %d holds %d blocks, not a "
                             "positive multiple of its %d model chunks (Interleaved1F1B parts "
                             "are whole blocks; plan with --runtime torchtitan)",
                             uniap_schedule_name(p->schedule), i, n, v);
    }
    return UNIAP_OK;
}

/* What torchtitan cannot run of x: EINVAL. */
static int refuse(const uniap_plan *p, const uniap_model *m, const ex_plan *x)
{
    const char *sched = uniap_schedule_name(p->schedule);
    int v = uniap_schedule_virtual_stages(p->schedule);
    if (strcmp(sched, "1f1b") && strcmp(sched, "gpipe") && v <= 1)
        return uniap_err(UNIAP_EINVAL,
                         "torchtitan export: pipeline schedule %s: uniap writes 1F1B, GPipe and "
                         "Interleaved1F1B (torch.distributed.pipelining)",
                         sched);
    int rc = v > 1 ? chunks_whole(p, &x->mdl, v) : UNIAP_OK;
    if (rc < 0)
        return rc;
    if (x->pp == 1 && p->schedule != UNIAP_SCHED_1F1B)
        return uniap_err(UNIAP_EINVAL,
                         "torchtitan export: schedule %s on one stage: without PP torchtitan "
                         "accumulates gradients one micro-batch at a time (1f1b's memory)",
                         sched);
    if (x->ckpt < 0 || x->ckpt == UNIAP_CKPT_SELECTIVE)
        for (int u = x->mdl.first_block; u <= x->mdl.last_block; u++)
            if (x->ckpt == UNIAP_CKPT_SELECTIVE ||
                p->strategy_of[u].ckpt != p->strategy_of[x->mdl.first_block].ckpt)
                return uniap_err(UNIAP_EINVAL,
                                 "torchtitan export: block %d (layer %d, stage %d) uses %s%s: "
                                 "torchtitan's activation checkpointing is \"full\" on every "
                                 "block or \"none\"",
                                 u - x->mdl.first_block, u, p->stage_of[u], p->strategy_of[u].name,
                                 x->ckpt < 0 ? ", another block not" : "");
    if (!x->consecutive)
        return uniap_err(UNIAP_EINVAL,
                         "torchtitan export: strided TP groups (%s): torchtitan's TP "
                         "mesh dimension is innermost (adjacent ranks)",
                         p->strategy_of[0].name);
    if (x->tp > 1 && !x->sp)
        return uniap_err(UNIAP_EINVAL,
                         "torchtitan export: tp %d without sequence parallelism (%s): torchtitan "
                         "v0.2.2 always shards the norms' sequence with TP",
                         x->tp, p->strategy_of[0].name);
    if (x->dp > 1 && (x->flavour == UNIAP_DP_ZERO1 || x->flavour == UNIAP_DP_ZERO2))
        return uniap_err(UNIAP_EINVAL,
                         "torchtitan export: ZeRO-%d (%s): torchtitan shards with FSDP2 "
                         "(ZeRO-3) or replicates (DDP)",
                         x->flavour == UNIAP_DP_ZERO1 ? 1 : 2, p->strategy_of[0].name);
    if (x->ep > 1 && x->flavour != UNIAP_DP_FSDP)
        return uniap_err(UNIAP_EINVAL,
                         "torchtitan export: expert parallelism (ep %d) with %s: torchtitan's "
                         "expert mesh is carved out of the FSDP ranks (parallel_dims.py: efsdp = "
                         "dp_shard x cp x tp / (etp x ep)); shard with FSDP",
                         x->ep, x->flavour == UNIAP_DP_DDP ? "DDP" : "ZeRO-1/2");
    if (x->dp > 1 && x->flavour == UNIAP_DP_DDP && (x->tp > 1 || x->pp > 1))
        return uniap_err(UNIAP_EINVAL,
                         "torchtitan export: DDP with tp %d and pp %d: torchtitan's DDP runs "
                         "alone (\"DDP has not supported > 1D parallelism\"); shard with FSDP",
                         x->tp, x->pp);
    if ((x->dp == 1 || x->flavour != UNIAP_DP_FSDP) && (x->tp > 1 || x->pp > 1) &&
        m->param_dtype == UNIAP_DTYPE_BF16 && m->mixed_precision)
        return uniap_err(UNIAP_EINVAL,
                         "torchtitan export: mixed precision with tp %d, pp %d and no FSDP: "
                         "torchtitan then trains in float32 (maybe_enable_amp)",
                         x->tp, x->pp);
    return UNIAP_OK;
}

/* The [parallelism] section of x: FSDP over dp_shard (DDP: replicate),
 * tp, pp, cp, the experts' ep and etp, the schedule and split. */
static void parallelism_section(const uniap_plan *p, const uniap_model *m, const ex_plan *x,
                                uniap_textbuf *b)
{
    int shard = x->flavour == UNIAP_DP_FSDP ? x->dp : 1, repl = shard > 1 ? 1 : x->dp;
    uniap_textbuf_printf(b,
                         "[parallelism]\ndata_parallel_replicate_degree = %d\n"
                         "data_parallel_shard_degree = %d\n",
                         repl, shard);
    if (shard > 1 || (x->cp > 1 && x->flavour == UNIAP_DP_FSDP))
        uniap_textbuf_printf(b, "fsdp_reshard_after_forward = \"always\"\n");
    uniap_textbuf_printf(b,
                         "tensor_parallel_degree = %d\npipeline_parallel_degree = %d\n"
                         "context_parallel_degree = %d\n",
                         x->tp, x->pp, x->cp);
    if (x->mdl.moe) /* the routed experts over ep, each tp-sharded as the blocks are */
        uniap_textbuf_printf(b, "expert_parallel_degree = %d\nexpert_tensor_parallel_degree = %d\n",
                             x->ep, x->ep > 1 ? x->tp : 1);
    if (x->pp > 1) {
        int v = uniap_schedule_virtual_stages(p->schedule);
        uniap_textbuf_printf(b,
                             "pipeline_parallel_schedule = \"%s\"\n"
                             "pipeline_parallel_microbatch_size = %d\n",
                             v > 1                              ? "Interleaved1F1B"
                             : p->schedule == UNIAP_SCHED_GPIPE ? "GPipe"
                                                                : "1F1B",
                             x->mb);
        split_list(p, m, &x->mdl, v > 1 ? v : 1, b);
    }
}

int uniap_plan_export_torchtitan(const uniap_plan *p, const uniap_model *m, char **toml)
{
    ex_plan x;
    uniap_textbuf b = {0};
    const char *dtype, *mp;
    int rc;
    *toml = NULL;
    if ((rc = uniap__ex_plan(p, m, "torchtitan", &x)) < 0)
        return rc;
    if ((rc = uniap__tt_model_check(m, &x.mdl, "torchtitan export")) < 0 ||
        (rc = refuse(p, m, &x)) < 0)
        goto free_x;
    if (x.cp > 1 && x.flavour != UNIAP_DP_FSDP) {
        rc = uniap_err(UNIAP_EINVAL,
                       "torchtitan export: context parallelism (cp %d) with %s: torchtitan "
                       "shards over dp x cp (FSDP) whenever cp > 1",
                       x.cp, x.flavour == UNIAP_DP_DDP ? "DDP" : "ZeRO-1/2");
        goto free_x;
    }
    if (x.cp_a2a) { /* torchtitan's CP is PyTorch's ring attention */
        rc = uniap_err(UNIAP_EINVAL,
                       "torchtitan export: the plan uses Ulysses context parallelism (cp %du): "
                       "torchtitan's context_parallel_degree runs ring attention only "
                       "(plan with --no-ulysses or --runtime torchtitan)",
                       x.cp);
        goto free_x;
    }
    uniap_textbuf_printf(&b,
                         "# torchtitan job config (--job.config_file) of a uniap plan: model %s, "
                         "cluster %s, %d devices (NGPU)\n# torchtitan v0.2.2 (73a0e69), "
                         "torchtitan/config/job_config.py\n\n",
                         m->name, p->cluster, x.dp * x.cp * x.tp * x.pp);
    model_section(m, &x.mdl, &b);
    uniap__tt_dtypes(m, &dtype, &mp);
    /* PP: one local batch of c micro-batches; no PP: c accumulation steps */
    uniap_textbuf_printf(&b,
                         "[training]\nlocal_batch_size = %lld\nglobal_batch_size = %lld\n"
                         "seq_len = %lld\ndtype = \"%s\"\nmixed_precision_param = \"%s\"\n\n",
                         x.pp > 1 ? (long long)(p->global_batch / x.dp) : (long long)x.mb,
                         (long long)p->global_batch, (long long)x.mdl.blk->seq, dtype, mp);
    parallelism_section(p, m, &x, &b);
    uniap_textbuf_printf(&b, "\n[activation_checkpoint]\nmode = \"%s\"\n",
                         x.ckpt == UNIAP_CKPT_FULL ? "full" : "none");
    if (m->training.fp8)
        uniap_textbuf_printf(&b, "\n[quantize.linear.float8]\nfilter_fqns = [\"output\"]\n"
                                 "# uniap prices memory as Transformer Engine keeps it (FP8 weight "
                                 "copies, FP8 Linear inputs\n# saved for backward); torchao's "
                                 "tensorwise float8 keeps bf16 inputs and no weight copies\n");
    if (b.oom) {
        rc = uniap_err(UNIAP_ENOMEM, "torchtitan export: out of memory");
        goto free_x;
    }
    *toml = b.s;
    b.s = NULL;
free_x:
    free(b.s);
    free(x.blocks);
    return rc;
}
