/*
 * megatron_args.c - Megatron-LM's command line as a plan's other form: the
 * model arguments the export appends (what a user would otherwise write by
 * hand: --num-layers, --hidden-size, ..., --swiglu, --normalization, --bf16,
 * --use-flash-attn, --fp8-format), the stage split's --decoder-first/last-pipeline-num-
 * layers, and the reader that turns such a command line back into a uniap
 * plan (uniap_plan_import_megatron), so that `uniap estimate --megatron-args`
 * prices exactly what Megatron-LM would run and an export round-trips.
 *
 * Flag names were checked against Megatron-LM's parser at commit
 * d98e8a64ddf34856e74b24714e3bedb2f5a39553 (2026-08-22;
 * megatron/training/arguments.py, and the dataclass fields that
 * megatron/training/argument_utils.py turns into --dashed-names:
 * TransformerConfig, ModelParallelConfig, TrainingConfig); the list is in
 * tests/runtimes/megatron_flags.txt.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

/* The value of --moe-layer-freq for x's blocks (megatron/training/
 * arguments.py moe_freq_type: a Python list expression of one 0 (dense) or
 * 1 (moe) per block): "([0]*D+[1]*M)" for the D dense blocks of x then
 * its M moe blocks, "1" (every block moe, the default) when x has no dense
 * block or no moe one. */
static void layer_freq(const ex_model *x, char *buf, size_t n)
{
    int dense = x->n_blocks - x->n_moe;
    if (x->moe && dense > 0)
        snprintf(buf, n, "([0]*%d+[1]*%d)", dense, x->n_moe);
    else
        snprintf(buf, n, "1");
}

/* The moe blocks' experts: --num-experts, --moe-router-topk, their width
 * (--moe-ffn-hidden-size; --ffn-hidden-size is the dense blocks'), which
 * blocks are moe (--moe-layer-freq, layer_freq; not written when every
 * block is), the shared experts' total width (Megatron-Core fuses them
 * into one MLP of that width: moe_shared_expert_intermediate_size) and a
 * capacity factor (none: dropless, Megatron-Core's default). */
static void moe_args(const ex_model *x, uniap_textbuf *b)
{
    const uniap_layer *e = x->moe;
    char freq[64];
    uniap_textbuf_printf(b, " --num-experts %d --moe-router-topk %d --moe-ffn-hidden-size %lld",
                         e->experts, e->top_k, (long long)e->ffn);
    if (x->n_moe < x->n_blocks) { /* quoted: the shell would read the parentheses */
        layer_freq(x, freq, sizeof freq);
        uniap_textbuf_printf(b, " --moe-layer-freq '%s'", freq);
    }
    if (e->shared_experts > 0)
        uniap_textbuf_printf(b, " --moe-shared-expert-intermediate-size %lld",
                             (long long)e->shared_experts * e->ffn);
    if (e->capacity_factor > 0)
        uniap_textbuf_printf(b, " --moe-expert-capacity-factor %g", e->capacity_factor);
}

int uniap__megatron_model_args(const uniap_model *m, uniap_textbuf *b, uniap_textbuf *gaps)
{
    const uniap_layer *first = &m->runs[0], *last = &m->runs[m->n_runs - 1];
    ex_model x;
    uniap__ex_blocks(m, &x);
    const uniap_layer *blk = x.blk;
    int B = x.n_blocks;
    if (!blk) {
        uniap_textbuf_printf(gaps, "# - the model has no transformer blocks\n");
        return 0;
    }
    if (!x.moe_flags)
        uniap_textbuf_printf(gaps, "# - transformer blocks of different shapes (Megatron-LM "
                                   "builds one block shape, or dense blocks then moe blocks of "
                                   "one shape: --moe-layer-freq)\n");
    uniap_textbuf_printf(b,
                         " --num-layers %d --hidden-size %lld --num-attention-heads %d "
                         "--ffn-hidden-size %lld --seq-length %lld",
                         B, (long long)blk->hidden, blk->heads, (long long)blk->ffn,
                         (long long)blk->seq);
    int kv = blk->kv_heads ? blk->kv_heads : blk->heads;
    if (kv != blk->heads)
        uniap_textbuf_printf(b, " --group-query-attention --num-query-groups %d", kv);
    int64_t maxpos = first->kind == UNIAP_LAYER_EMBEDDING && first->max_positions > 0
                         ? first->max_positions
                         : blk->seq;
    uniap_textbuf_printf(b, " --max-position-embeddings %lld", (long long)maxpos);
    static const char *const pos[] = {"none", "learned_absolute", "rope", "relative"};
    uniap_position p = blk->position != UNIAP_POS_NONE ? blk->position : first->position;
    uniap_textbuf_printf(b, " --position-embedding-type %s", pos[p]);
    if (blk->activation == UNIAP_ACT_SWIGLU)
        uniap_textbuf_printf(b, " --swiglu");
    else if (blk->activation == UNIAP_ACT_RELU)
        uniap_textbuf_printf(gaps, "# - ReLU MLP (Megatron-LM's MLP is GeLU or SwiGLU)\n");
    uniap_textbuf_printf(b, " --normalization %s",
                         blk->norm == UNIAP_NORM_RMSNORM ? "RMSNorm" : "LayerNorm");
    if (x.moe) /* moe blocks: Megatron-Core's MoE layer (megatron_flags.txt) */
        moe_args(&x, b);
    uniap__ex_megatron_switches(m, blk, "--use-flash-attn", b);
    /* FP8: Transformer Engine's hybrid recipe (E4M3 forward, E5M2
     * gradients) with its DelayedScaling defaults, amax history 1024 and
     * the max of it (transformer_engine/common/recipe.py; NeMo's Llama
     * recipes set the same); Megatron-LM's own defaults are 1 and
     * most_recent, so both are written */
    if (m->training.fp8)
        uniap_textbuf_printf(b, " --fp8-format hybrid --fp8-amax-history-len 1024 "
                                "--fp8-amax-compute-algo max");
    if (last->kind == UNIAP_LAYER_HEAD && last->vocab > 0)
        uniap_textbuf_printf(gaps,
                             "# note: the vocabulary is %lld (Megatron-LM takes it from the "
                             "tokenizer: --tokenizer-type NullTokenizer --vocab-size %lld "
                             "for synthetic data)\n",
                             (long long)last->vocab, (long long)last->vocab);
    return 1;
}

/* ---- reading a command line back ---- */

typedef struct mg_args {
    long tp, pp, cp, ep, mbs, gbs, first, last, rc_layers, vpp_layers;
    long experts, topk, shared_width, moe_ffn;
    const char *moe_freq; /* --moe-layer-freq as written (quotes kept) */
    int cp_comm;          /* index + 1 in cp_comm_types, 0: not given (p2p) */
    int sp, distopt, swiglu, gqa, nobias, untie, bf16, fp16, flash;
    int rc_gran, rc_method; /* EX_RC_*, 0: not given */
    int fp8;                /* --fp8-format: 1 e4m3, 2 hybrid; 0: not given */
    long amax_len;          /* --fp8-amax-history-len */
    const char *amax_algo;  /* --fp8-amax-compute-algo */
    long layers, hidden, heads, ffn, seq, groups, maxpos;
    double attn_drop, hidden_drop;
    const char *norm, *pos;
} mg_args;

#define MGI(n, f)                                                                                  \
    {                                                                                              \
        n, EX_FLAG_INT, offsetof(mg_args, f), NULL                                                 \
    }
#define MGF(n, f)                                                                                  \
    {                                                                                              \
        n, EX_FLAG_SWITCH, offsetof(mg_args, f), NULL                                              \
    }
/* Megatron-LM's --fp8-format choices; both cost the same here (the GEMMs
 * at the FP8 rate: E4M3 or E5M2 gradients run at one tensor-core rate) */
static const char *const fp8_formats[] = {"e4m3", "hybrid", NULL};
/* --cp-comm-type: Megatron-LM's ring (p2p) and Ulysses-style (a2a) modes;
 * all_gather and a2a+p2p are not searched (refused as unknown words) */
static const char *const cp_comm_types[] = {"p2p", "a2a", NULL};
static const ex_flag mg_flags[] = {
    MGI("tensor-model-parallel-size", tp),
    MGI("context-parallel-size", cp),
    MGI("expert-model-parallel-size", ep),
    MGI("num-experts", experts),
    MGI("moe-router-topk", topk),
    MGI("moe-shared-expert-intermediate-size", shared_width),
    MGI("moe-ffn-hidden-size", moe_ffn),
    {"moe-layer-freq", EX_FLAG_WORD, offsetof(mg_args, moe_freq), NULL},
    {"cp-comm-type", EX_FLAG_CHOICE, offsetof(mg_args, cp_comm), cp_comm_types},
    MGI("pipeline-model-parallel-size", pp),
    MGI("micro-batch-size", mbs),
    MGI("global-batch-size", gbs),
    MGI("decoder-first-pipeline-num-layers", first),
    MGI("decoder-last-pipeline-num-layers", last),
    MGI("recompute-num-layers", rc_layers),
    MGI("num-layers-per-virtual-pipeline-stage", vpp_layers),
    MGI("num-layers", layers),
    MGI("hidden-size", hidden),
    MGI("num-attention-heads", heads),
    MGI("ffn-hidden-size", ffn),
    MGI("seq-length", seq),
    MGI("num-query-groups", groups),
    MGI("max-position-embeddings", maxpos),
    MGF("sequence-parallel", sp),
    MGF("use-distributed-optimizer", distopt),
    MGF("swiglu", swiglu),
    MGF("group-query-attention", gqa),
    MGF("disable-bias-linear", nobias),
    MGF("untie-embeddings-and-output-weights", untie),
    MGF("bf16", bf16),
    MGF("fp16", fp16),
    MGF("use-flash-attn", flash),
    {"attention-dropout", EX_FLAG_PROB, offsetof(mg_args, attn_drop), NULL},
    {"hidden-dropout", EX_FLAG_PROB, offsetof(mg_args, hidden_drop), NULL},
    {"normalization", EX_FLAG_WORD, offsetof(mg_args, norm), NULL},
    {"position-embedding-type", EX_FLAG_WORD, offsetof(mg_args, pos), NULL},
    {"fp8-format", EX_FLAG_CHOICE, offsetof(mg_args, fp8), fp8_formats},
    MGI("fp8-amax-history-len", amax_len),
    {"fp8-amax-compute-algo", EX_FLAG_WORD, offsetof(mg_args, amax_algo), NULL},
    EX_RC_FLAGS(mg_args, rc_gran, rc_method),
};
#undef MGI
#undef MGF
static const ex_flags mg_table = {mg_flags, sizeof mg_flags / sizeof mg_flags[0], "Megatron-LM",
                                  "parallelism, batch, recompute and model-shape"};

/* --moe-layer-freq given (or not, with experts given) must put the
 * experts on x's moe blocks: the pattern the export writes (quotes
 * around it or not), or 1 when every block is moe. */
static int check_layer_freq(const mg_args *a, const ex_model *x, const uniap_model *m,
                            const char *what)
{
    char want[64];
    int dense = x->n_blocks - x->n_moe;
    layer_freq(x, want, sizeof want);
    if (!a->moe_freq)
        return a->experts && x->moe && dense > 0
                   ? uniap_err(UNIAP_EINVAL,
                               "%s: no --moe-layer-freq (Megatron-LM: every block moe), but model "
                               "'%s' has %d dense blocks first: add --moe-layer-freq '%s'",
                               what, m->name, dense, want)
                   : UNIAP_OK;
    const char *f = a->moe_freq;
    size_t n = strlen(f);
    int quoted = n >= 2 && (f[0] == '\'' || f[0] == '"') && f[n - 1] == f[0];
    if (x->moe && strlen(want) == n - 2 * (size_t)quoted &&
        !strncmp(f + quoted, want, strlen(want)))
        return UNIAP_OK;
    return uniap_err(UNIAP_EINVAL,
                     "%s: --moe-layer-freq %s, but model '%s' has %s (uniap reads '%s')", what, f,
                     m->name, x->moe ? "its dense blocks first, then moe blocks" : "no experts",
                     x->moe ? want : "no --moe-layer-freq");
}

/* The model arguments given must be the model's: EINVAL naming the first
 * that is not. */
static int check_model(const mg_args *a, const uniap_model *m, const char *what)
{
    ex_model x;
    uniap__ex_blocks(m, &x);
    const uniap_layer *blk = x.blk, *e = x.moe ? x.moe : x.blk;
    if (!blk)
        return uniap_err(UNIAP_EINVAL, "%s: model '%s' has no transformer blocks", what, m->name);
    struct {
        const char *flag;
        long given, want;
    } c[] = {
        {"num-layers", a->layers, x.n_blocks},
        {"hidden-size", a->hidden, (long)blk->hidden},
        {"num-attention-heads", a->heads, blk->heads},
        {"ffn-hidden-size", a->ffn, (long)blk->ffn},
        {"seq-length", a->seq, (long)blk->seq},
        {"num-query-groups", a->groups, blk->kv_heads ? blk->kv_heads : blk->heads},
        {"num-experts", a->experts, e->experts},
        {"moe-router-topk", a->topk, e->top_k},
        {"moe-ffn-hidden-size", a->moe_ffn, x.moe ? (long)e->ffn : 0},
        {"moe-shared-expert-intermediate-size", a->shared_width,
         (long)(e->shared_experts * e->ffn)},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        if (c[i].given && c[i].given != c[i].want)
            return uniap_err(UNIAP_EINVAL, "%s: --%s %ld, but model '%s' has %ld", what, c[i].flag,
                             c[i].given, m->name, c[i].want);
    int rc = check_layer_freq(a, &x, m, what);
    if (rc < 0)
        return rc;
    /* the switches are checked both ways only when the command line states
     * the model (a --num-layers or --hidden-size); alone, only what is set */
    int stated = a->layers || a->hidden;
    if ((stated || a->swiglu) && a->swiglu != (blk->activation == UNIAP_ACT_SWIGLU))
        return uniap_err(UNIAP_EINVAL, "%s: %s, but model '%s' has a %s MLP", what,
                         a->swiglu ? "--swiglu" : "no --swiglu", m->name,
                         blk->activation == UNIAP_ACT_SWIGLU ? "SwiGLU" : "non-SwiGLU");
    if ((stated || a->flash) && a->flash != blk->flash_attn)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s, but the model is set to %s attention (--attention on the "
                         "command line, or the spec's \"attention\")",
                         what, a->flash ? "--use-flash-attn" : "no --use-flash-attn",
                         blk->flash_attn ? "flash" : "eager");
    if (a->fp8 && !m->training.fp8)
        return uniap_err(UNIAP_EINVAL,
                         "%s: --fp8-format %s, but model '%s' is priced without FP8: estimate with "
                         "--precision fp8",
                         what, fp8_formats[a->fp8 - 1], m->name);
    if (stated && !a->fp8 && m->training.fp8)
        return uniap_err(UNIAP_EINVAL,
                         "%s: no --fp8-format, but model '%s' trains in FP8 (--precision fp8): "
                         "add --fp8-format hybrid, or estimate with --precision bf16",
                         what, m->name);
    if (a->amax_algo && strcmp(a->amax_algo, "max") && strcmp(a->amax_algo, "most_recent"))
        return uniap_err(UNIAP_EINVAL,
                         "%s: --fp8-amax-compute-algo %s: expected max or most_recent", what,
                         a->amax_algo);
    return UNIAP_OK;
}

/* Blocks per stage from --decoder-first/last-pipeline-num-layers (0: not
 * given), the rest evenly, as Megatron-LM divides them. */
static int stage_blocks(const mg_args *a, int B, int pp, int *blocks, const char *what)
{
    int has_first = a->first > 0, has_last = a->last > 0 && pp > 1;
    long rest = B - (has_first ? a->first : 0) - (has_last ? a->last : 0);
    int mid = pp - has_first - has_last;
    if (rest < 0 || (mid > 0 && rest % mid) || (mid == 0 && rest))
        return uniap_err(UNIAP_EINVAL,
                         "%s: %d blocks on %d stages with --decoder-first-pipeline-num-layers "
                         "%ld and --decoder-last-pipeline-num-layers %ld: the other stages "
                         "cannot split the rest evenly",
                         what, B, pp, a->first, a->last);
    for (int i = 0; i < pp; i++)
        blocks[i] = (int)(mid > 0 ? rest / mid : 0);
    if (has_first)
        blocks[0] = (int)a->first;
    if (has_last)
        blocks[pp - 1] = (int)a->last;
    return UNIAP_OK;
}

/* The schedule: 1F1B, or with --num-layers-per-virtual-pipeline-stage N
 * the interleaved schedule of blocks / N chunks per stage (the table's
 * schedule of that many virtual stages): every stage the same blocks, a
 * multiple of N, and the micro-batches a multiple of the stages
 * (Megatron-LM's rules, arguments.py and schedules.py at d98e8a6). */
static int read_schedule(const mg_args *a, const int *blocks, uniap_plan *out, const char *what)
{
    out->schedule = UNIAP_SCHED_1F1B;
    if (!a->vpp_layers)
        return UNIAP_OK;
    for (int i = 0; i < a->pp; i++)
        if (a->first > 0 || a->last > 0 || blocks[i] != blocks[0] || blocks[i] % a->vpp_layers)
            return uniap_err(UNIAP_EINVAL,
                             "%s: --num-layers-per-virtual-pipeline-stage %ld: every stage must "
                             "hold the same blocks, a multiple of it (stage %d holds %d; no "
                             "--decoder-first/last-pipeline-num-layers)",
                             what, a->vpp_layers, i, blocks[i]);
    int v = blocks[0] / (int)a->vpp_layers;
    if (v == 1)
        return UNIAP_OK; /* one chunk per stage: no interleaving */
    for (uniap_schedule s = 0; s < uniap_schedule_count(); s++)
        if (uniap_schedule_virtual_stages(s) == v && uniap_schedule_get(s)->megatron_gap == NULL) {
            out->schedule = s;
            if (!uniap_schedule_runs(s, out->micro_batches, out->deg))
                return uniap_err(UNIAP_EINVAL,
                                 "%s: --num-layers-per-virtual-pipeline-stage %ld: %d "
                                 "micro-batches on %d stages: interleaving needs a multiple of "
                                 "the stages (2 stages or more)",
                                 what, a->vpp_layers, out->micro_batches, out->deg);
            return UNIAP_OK;
        }
    char have[128] = "";
    for (uniap_schedule s = 0; s < uniap_schedule_count(); s++)
        if (uniap_schedule_virtual_stages(s) > 1)
            snprintf(have + strlen(have), sizeof have - strlen(have), "%s%d", have[0] ? ", " : "",
                     uniap_schedule_virtual_stages(s));
    return uniap_err(UNIAP_EINVAL,
                     "%s: --num-layers-per-virtual-pipeline-stage %ld: %d chunks per stage; "
                     "uniap's schedules interleave %s",
                     what, a->vpp_layers, v, have[0] ? have : "none");
}

/* Every layer's strategy under the read arguments a (dp the rest of the
 * devices): one tp, cp and sp, the distributed optimizer's ZeRO-1, ep on
 * the moe blocks only, the recomputation a asks for. */
static int layer_strategies(const mg_args *a, long dp, const uniap_model *m, uniap_plan *out)
{
    int rc_full = a->rc_gran == EX_RC_FULL, rc_block = a->rc_method == EX_RC_BLOCK, rc;
    int seen_stage = -1, in_stage = 0;
    for (int u = 0; u < m->n_layers; u++) {
        uniap_strategy *s = &out->strategy_of[u];
        int is_blk = uniap__ex_is_block(m, u);
        if (out->stage_of[u] != seen_stage)
            seen_stage = out->stage_of[u], in_stage = 0;
        s->dp = (int)dp;
        s->cp = (int)a->cp;
        s->cp_a2a = a->cp > 1 && a->cp_comm == 2;
        /* the moe blocks' experts over ep of the dp ranks, the rest ep 1 */
        s->ep = m->runs[uniap_model_run_of(m, u)].experts > 0 && a->ep > 1 ? (int)a->ep : 0;
        s->tp = (int)a->tp;
        s->tp_consecutive = 1; /* Megatron-LM's TP ranks are adjacent */
        s->flavour = dp * a->cp > 1 && a->distopt ? UNIAP_DP_ZERO1 : UNIAP_DP_DDP;
        s->sp = a->sp && a->tp > 1;
        if (is_blk && a->rc_gran == EX_RC_SELECTIVE)
            s->ckpt = UNIAP_CKPT_SELECTIVE;
        else if (is_blk && rc_full)
            s->ckpt = !rc_block || in_stage < a->rc_layers ? UNIAP_CKPT_FULL : 0;
        in_stage += is_blk;
        uniap_strategy_format(s);
        if ((rc = uniap_strategy_parse(s->name, s)) < 0)
            return rc;
    }
    return UNIAP_OK;
}

int uniap_plan_import_megatron(const char *text, const char *what, const uniap_model *m,
                               const uniap_cluster *c, uniap_plan *out)
{
    mg_args a = {.tp = 1, .pp = 1, .cp = 1, .ep = 1};
    char *buf = NULL, *tok[512];
    int n = 0, rc = UNIAP_OK, *blocks = NULL;

    memset(out, 0, sizeof(*out));
    if (!(buf = malloc(strlen(text) + 1)))
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory", what);
    strcpy(buf, text);
    /* the first line that is not a comment holds the arguments */
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '#' || !*line)
            continue;
        for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t && n < 512;
             t = strtok_r(NULL, " \t\r", &save))
            tok[n++] = t;
        break;
    }
    if ((rc = uniap__ex_read_args(&mg_table, tok, n, &a, what)) < 0 ||
        (rc = check_model(&a, m, what)) < 0)
        goto free_buf;
    int N = uniap_cluster_devices(c);
    if (a.tp < 1 || a.pp < 1 || a.cp < 1 || N % (a.tp * a.cp * a.pp))
        rc = uniap_err(UNIAP_EINVAL,
                       "%s: tp %ld x cp %ld x pp %ld does not divide the %d devices of '%s'", what,
                       a.tp, a.cp, a.pp, N, c->name);
    long dp = rc < 0 ? 1 : N / (a.tp * a.cp * a.pp);
    if (rc == 0 && (a.mbs < 1 || a.gbs < 1 || a.gbs % (a.mbs * dp)))
        rc = uniap_err(UNIAP_EINVAL,
                       "%s: --global-batch-size %ld is not a multiple of --micro-batch-size %ld "
                       "x data-parallel size %ld",
                       what, a.gbs, a.mbs, dp);
    int rc_full = a.rc_gran == EX_RC_FULL, rc_block = a.rc_method == EX_RC_BLOCK;
    if (rc == 0 && rc_full && !rc_block && a.rc_layers > 1)
        rc = uniap_err(UNIAP_EINVAL,
                       "%s: --recompute-method uniform with --recompute-num-layers %ld: uniap "
                       "checkpoints layer by layer (1), or the first N of each stage (block)",
                       what, a.rc_layers);
    if (rc < 0)
        goto free_buf;
    ex_model x;
    uniap__ex_blocks(m, &x);
    int B = x.n_blocks;
    if (!(blocks = malloc(sizeof(int) * (size_t)a.pp)) ||
        !(out->stage_of = calloc((size_t)m->n_layers, sizeof(int))) ||
        !(out->strategy_of = calloc((size_t)m->n_layers, sizeof(uniap_strategy)))) {
        rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory", what);
        goto free_buf;
    }
    if ((rc = stage_blocks(&a, B, (int)a.pp, blocks, what)) < 0 ||
        (rc = uniap_plan_split_stages(m, (int)a.pp, blocks, out->stage_of)) < 0)
        goto free_buf;
    snprintf(out->model, sizeof out->model, "%s", m->name);
    snprintf(out->cluster, sizeof out->cluster, "%s", c->name);
    snprintf(out->status, sizeof out->status, "given");
    out->global_batch = a.gbs;
    out->deg = (int)a.pp;
    out->micro_batches = (int)(a.gbs / (a.mbs * dp));
    out->micro_batch = (int)(a.mbs * dp);
    if ((rc = read_schedule(&a, blocks, out, what)) < 0)
        goto free_buf;
    out->n_layers = m->n_layers;
    rc = layer_strategies(&a, dp, m, out);
free_buf:
    free(buf);
    free(blocks);
    if (rc < 0)
        uniap_plan_free(out);
    return rc;
}
