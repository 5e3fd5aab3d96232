/*
 * layer_kinds.c - the layer kinds as the cost model sees them: one
 * descriptor per kind (cm_layer_kind, cm_internal.h) saying which TP
 * degrees can shard it, the activation it hands on, its Megatron TP
 * collectives, what a checkpointed layer keeps, its analytic figures
 * (activation bytes, GEMM FLOPs, kernels) and its part in other runtimes'
 * terms; the table in uniap_layer_kind order, and run-time registration
 * (tests). shape.c, cost_table.c, analytic.c, import_galvatron.c and
 * plan_export.c read kinds only through here.
 *
 * A new built-in kind: its descriptor here and one line in KINDS (its
 * JSON form and parameters are io/layer_kinds.c, its kernels
 * profiler/kernels_cpu/; docs/architecture.md §4.1).
 *
 * Activation bytes: Korthikanti et al. 2022 (16-bit, GPT block, per layer:
 * s b h (34 + 5 a s / h), with TP t: s b h (10 + 24/t + 5 a s / (h t))),
 * generalized term by term (block_act) to grouped-query attention (K and V
 * of kv_heads), SwiGLU (three ffn-wide tensors instead of two), other
 * dtypes (e bytes per element, dropout masks 1 byte) and other layer
 * kinds; for a GPT block (ffn 4h, kv_heads = heads, GELU, e = 2) it is
 * exactly the published formula.
 */
#include "cm_internal.h"

/* ---- transformer blocks: encoder, decoder, cross_decoder, swin -------- */

static int block_tp_ok(const uniap_layer *l, int tp)
{
    /* Megatron shards attention by heads (query and key/value) and the
     * MLP by its inner width. */
    return l->heads % tp == 0 && (l->kv_heads ? l->kv_heads : l->heads) % tp == 0 &&
           l->ffn % tp == 0;
}

/* Per-token bytes of the attention scores of a heads over span keys kept
 * for backward (before / tp), integer bytes at e bytes per element.
 * Eager: Korthikanti et al. 2022, s4.1 (Table 2's attention terms, eq. 1's
 * 5as/h at e = 2): the softmax output (e per score), with dropout its mask
 * (1) and output (e): a span (e + dropout (1 + e)); without dropout the
 * attention over V reads the softmax output itself (2as/h at e = 2).
 * Flash: Dao et al. 2022 (FlashAttention) s3.1, Dao 2023 (FlashAttention-2)
 * s3.1: no score tensor, only the softmax statistics, the fp32 logsumexp
 * per head and query (4a), the dropout mask regenerated from the RNG
 * state. */
static int64_t score_bytes(const uniap_layer *l, int64_t a, int64_t span, int64_t e)
{
    if (l->flash_attn)
        return 4 * a;
    return a * span * (e + (l->no_dropout ? 0 : 1 + e));
}

/* Dropout masks: 1 byte per element of each dropout (Korthikanti et al.
 * 2022 s4.1, the "sbh" masks); 0 without dropout. */
static int64_t mask_bytes(const uniap_layer *l, int64_t elems)
{
    return l->no_dropout ? 0 : elems;
}

/* Per-token bytes kept for backward of one block shard: repl (not sharded
 * by tp) and shard (divided by tp); integer bytes. The terms name their
 * Korthikanti et al. 2022 s4.1 counterpart at e = 2 (in units of s b h). */
static void block_act(const uniap_layer *l, int64_t e, int64_t *repl, int64_t *shard)
{
    int64_t h = l->hidden, a = l->heads, kv = l->kv_heads ? l->kv_heads : l->heads;
    int64_t hd = l->head_dim ? l->head_dim : (a ? h / a : 0), f = l->ffn;
    int64_t s_att = uniap__cm_attn_span(l);
    /* the inputs of the Linear layers (QKV, output projection, MLP input,
     * the second MLP GEMM's input): FP8 training keeps their FP8 cast, 1
     * byte, for the weight-gradient GEMM (Transformer Engine's Linear,
     * LayerNormLinear and LayerNormMLP save the Float8Tensor of the GEMM
     * input, not the 16-bit tensor: transformer_engine/pytorch/module/,
     * TE 1.x); everything else stays at e */
    int64_t q = l->fp8 ? 1 : e;
    /* MLP: the first GEMM's outputs the activation's backward reads (GELU
     * one, SwiGLU two ffn-wide tensors) at e, the second's input at q;
     * GELU at e = 2: 16 sbh */
    int64_t mlp = (l->activation == UNIAP_ACT_SWIGLU ? 2 : 1) * f * e + f * q;

    /* not sharded: two norm inputs (4), QKV input (2), attention
     * dropout mask (1), MLP input (2), MLP dropout mask (1) = 10 */
    *repl = 2 * h * e + h * q + mask_bytes(l, h) + h * q + mask_bytes(l, h);
    /* sharded: Q and K (4), V (2), output projection input (2): 8;
     * the scores (score_bytes: 5 a s eager with dropout); MLP 16 */
    *shard = (a + 2 * kv) * hd * e + a * hd * q + score_bytes(l, a, s_att, e) + mlp;
}

/* Bytes per token (before / tp) selective recomputation frees: the eager
 * score tensors (Korthikanti et al. 2022 s5: the attention core, QK^T,
 * softmax, dropout and attention over V, is recomputed and its 5as/h term
 * not stored); nothing with flash attention, which stores no scores (its
 * backward already recomputes them). */
static int64_t block_scores(const uniap_layer *l, int64_t e)
{
    return l->flash_attn ? 0 : score_bytes(l, l->heads, uniap__cm_attn_span(l), e);
}

/* Forward FLOPs per token of the attention core (QK^T and attention over
 * V: 2 x 2 a d span), what selective recomputation repeats. */
static double block_core_flops(const uniap_layer *l)
{
    double h = (double)l->hidden, a = l->heads;
    double hd = l->head_dim ? (double)l->head_dim : (a > 0 ? h / a : 0);
    return 2 * 2 * a * hd * (double)uniap__cm_attn_span(l);
}

double uniap__cm_attn_flops(const uniap_layer *l)
{
    double h = (double)l->hidden, a = l->heads, kv = l->kv_heads ? l->kv_heads : l->heads;
    double hd = l->head_dim ? (double)l->head_dim : (a > 0 ? h / a : 0);

    return 2 * h * (a + 2 * kv) * hd /* QKV projections */
           + block_core_flops(l)     /* Q K^T and attention over V */
           + 2 * a * hd * h;         /* output projection */
}

/* Forward GEMM FLOPs per token of a block (self-attention + MLP). */
static double block_flops(const uniap_layer *l)
{
    double h = (double)l->hidden, f = (double)l->ffn;
    return uniap__cm_attn_flops(l) + (l->activation == UNIAP_ACT_SWIGLU ? 3 : 2) * 2 * h * f;
}

/* The forward GEMMs of a block shard (their FLOPs are block_flops x
 * tokens / tp): the QKV projection, the attention core per head and
 * window of attn_span queries (Q K^T, then the scores x V), the output
 * projection, the MLP (SwiGLU's gate and up projections as one GEMM of
 * 2 ffn columns, as Megatron-LM fuses them). */
static int block_gemms(const uniap_layer *l, double tokens, int tp, cm_gemm *g)
{
    double h = (double)l->hidden, a = l->heads, kv = l->kv_heads ? l->kv_heads : l->heads;
    double hd = l->head_dim ? (double)l->head_dim : (a > 0 ? h / a : 0), f = (double)l->ffn;
    double s_att = (double)uniap__cm_attn_span(l);
    double win = s_att > 0 ? tokens / s_att * (a / tp) : 0; /* attention products */
    int n = 0;

    g[n++] = (cm_gemm){tokens, (a + 2 * kv) * hd / tp, h, 1, 0};
    g[n++] = (cm_gemm){s_att, s_att, hd, win, 1};
    g[n++] = (cm_gemm){s_att, hd, s_att, win, 1};
    g[n++] = (cm_gemm){tokens, h, a * hd / tp, 1, 0};
    g[n++] = (cm_gemm){tokens, (l->activation == UNIAP_ACT_SWIGLU ? 2 : 1) * f / tp, h, 1, 0};
    g[n++] = (cm_gemm){tokens, h, f / tp, 1, 0};
    return n;
}

static void cross_decoder_act(const uniap_layer *l, int64_t e, int64_t *repl, int64_t *shard)
{
    int64_t h = l->hidden, a = l->heads, kv = l->kv_heads ? l->kv_heads : l->heads;
    int64_t hd = l->head_dim ? l->head_dim : (a ? h / a : 0);

    int64_t q = l->fp8 ? 1 : e; /* a Linear input in FP8 training (block_act) */

    block_act(l, e, repl, shard);
    /* cross-attention sub-block: norm input, Q input, dropout mask;
     * Q, output projection input, scores over kv_seq encoder tokens;
     * K and V over the encoder tokens (per decoder token: kv_seq/s) */
    *repl += h * e + h * q + mask_bytes(l, h);
    *shard += a * hd * e + a * hd * q + score_bytes(l, a, l->kv_seq, e) +
              (l->seq ? 2 * kv * hd * e * l->kv_seq / l->seq : 0);
}

static int64_t cross_decoder_scores(const uniap_layer *l, int64_t e)
{
    return l->flash_attn ? 0 : block_scores(l, e) + score_bytes(l, l->heads, l->kv_seq, e);
}

static double cross_decoder_core_flops(const uniap_layer *l)
{
    double h = (double)l->hidden, a = l->heads;
    double hd = l->head_dim ? (double)l->head_dim : (a > 0 ? h / a : 0);
    return block_core_flops(l) + 2 * 2 * a * hd * (double)l->kv_seq;
}

static double cross_decoder_flops(const uniap_layer *l)
{
    double h = (double)l->hidden, a = l->heads, kv = l->kv_heads ? l->kv_heads : l->heads;
    double hd = l->head_dim ? (double)l->head_dim : (a > 0 ? h / a : 0);
    double fl = 0.0;

    fl += 2 * h * a * hd + 2 * h * 2 * kv * hd * ((double)l->kv_seq / (double)l->seq) +
          2 * 2 * a * hd * (double)l->kv_seq + 2 * a * hd * h;
    /* plus a self-attention block and the MLP: */
    fl += block_flops(l);
    return fl;
}

static int64_t cross_decoder_out_elems(const uniap_layer *l)
{
    /* the decoder stream plus the encoder output it keeps attending
     * to: both ride along to the next stage */
    return l->seq * l->hidden + l->kv_seq * l->hidden;
}

static double cross_decoder_input_bytes(const uniap_layer *l, double bl, double e)
{
    return bl * (double)(l->seq + l->kv_seq) * (double)l->hidden * e;
}

/* Swin attends within windows of window^2 tokens. */
static int64_t swin_attn_span(const uniap_layer *l)
{
    return (int64_t)l->window * l->window;
}

/* ---- mixture of experts: moe ------------------------------------------ */

/* Experts a token runs through: top_k routed + the shared ones. */
static double moe_active(const uniap_layer *l)
{
    return (double)(l->top_k + l->shared_experts);
}

/* Per-token bytes of one expert MLP shard as block_act counts them (the
 * first GEMM's outputs the activation's backward reads, the second's
 * input). */
static int64_t mlp_act(const uniap_layer *l, int64_t e, int64_t q)
{
    return (l->activation == UNIAP_ACT_SWIGLU ? 2 : 1) * l->ffn * e + l->ffn * q;
}

/* A block whose MLP is a router and top_k + shared experts (Fedus et al.
 * 2022 Switch Transformer s2.1, Jiang et al. 2024 Mixtral s2.1): the
 * attention part and the MLP input as block_act; per token the expert MLP
 * activations top_k + shared times (each routed copy of the token is an
 * expert's input: Megatron-Core's token permutation keeps the permuted
 * hidden states, h each at q, not sharded by tp since ETP = TP shards the
 * experts column/row-wise as the dense MLP), and the router's logits and
 * probabilities (E each at e) for the softmax/top-k backward. */
static void moe_act(const uniap_layer *l, int64_t e, int64_t *repl, int64_t *shard)
{
    int64_t q = l->fp8 ? 1 : e;

    block_act(l, e, repl, shard);
    *shard += (int64_t)(l->top_k + l->shared_experts - 1) * mlp_act(l, e, q);
    *repl += (int64_t)l->top_k * l->hidden * q + 2 * (int64_t)l->experts * e;
}

/* Forward GEMM FLOPs per token: the attention part and one MLP as a block,
 * the other top_k + shared - 1 expert MLPs, the router (2 h E). The router
 * is not sharded by tp in Megatron-Core; its FLOPs (Mixtral: 2 h E = 65.5K
 * of 2.4G per token, 0.003 %) are costed / tp with the rest, as the gemms
 * contract wants. */
static double moe_flops(const uniap_layer *l)
{
    double h = (double)l->hidden, f = (double)l->ffn;
    double mlp = (l->activation == UNIAP_ACT_SWIGLU ? 3 : 2) * 2 * h * f;
    return block_flops(l) + (moe_active(l) - 1) * mlp + 2 * h * l->experts;
}

/* The forward GEMMs of a moe shard: the attention GEMMs of a block, the
 * router, each routed expert over tokens x top_k / E tokens (a batch of E
 * GEMMs: balanced routing, Megatron-Core's grouped GEMM), the shared
 * experts as one MLP of shared x ffn columns. */
static int moe_gemms(const uniap_layer *l, double tokens, int tp, cm_gemm *g)
{
    double h = (double)l->hidden, f = (double)l->ffn, E = l->experts;
    double up = l->activation == UNIAP_ACT_SWIGLU ? 2 : 1;
    double per_expert = tokens * l->top_k / E;
    int n = block_gemms(l, tokens, tp, g) - 2; /* without the dense MLP */

    g[n++] = (cm_gemm){tokens, E / tp, h, 1, 0};
    g[n++] = (cm_gemm){per_expert, up * f / tp, h, E, 0};
    g[n++] = (cm_gemm){per_expert, h, f / tp, E, 0};
    if (l->shared_experts) {
        double fs = f * l->shared_experts;
        g[n++] = (cm_gemm){tokens, up * fs / tp, h, 1, 0};
        g[n++] = (cm_gemm){tokens, h, fs / tp, 1, 0};
    }
    return n;
}

/* The widest intermediate of the backward: the scores or the expert
 * MLPs' ffn-wide tensors of all top_k + shared experts of a token. */
static int64_t moe_widest(const uniap_layer *l, int64_t e)
{
    int64_t scores = l->flash_attn ? 0 : l->heads * uniap__cm_attn_span(l) * e;
    int64_t ffn = (int64_t)(l->top_k + l->shared_experts) * l->ffn * e *
                  (l->activation == UNIAP_ACT_SWIGLU ? 2 : 1);
    return ffn > scores ? ffn : scores;
}

/* ---- edges: embedding, patch_embed, patch_merge, head ----------------- */

static int vocab_tp_ok(const uniap_layer *l, int tp)
{
    /* vocabulary-parallel; the vocabulary is padded to a multiple of
     * tp as Megatron does, so every tp is valid */
    (void)l;
    (void)tp;
    return 1;
}

static double embedding_input_bytes(const uniap_layer *l, double bl, double e)
{
    (void)e;
    return bl * (double)l->seq * 8.0; /* int64 token ids */
}

static void embedding_act(const uniap_layer *l, int64_t e, int64_t *repl, int64_t *shard)
{
    (void)e;
    *repl = mask_bytes(l, l->hidden); /* embedding dropout mask */
    *shard = 0;
}

static int patch_embed_tp_ok(const uniap_layer *l, int tp)
{
    return l->hidden % tp == 0;
}

static double patch_embed_input_bytes(const uniap_layer *l, double bl, double e)
{
    return bl * l->channels * (double)l->image * (double)l->image * e;
}

static void patch_embed_act(const uniap_layer *l, int64_t e, int64_t *repl, int64_t *shard)
{
    int64_t pix = (int64_t)l->channels * l->patch * l->patch;
    *repl = pix * e + mask_bytes(l, l->hidden); /* patch GEMM input, dropout mask */
    *shard = 0;
}

static double patch_embed_flops(const uniap_layer *l)
{
    return 2.0 * l->channels * l->patch * l->patch * (double)l->hidden;
}

static int patch_embed_gemms(const uniap_layer *l, double tokens, int tp, cm_gemm *g)
{
    g[0] = (cm_gemm){tokens, (double)l->hidden / tp,
                     (double)l->channels * l->patch * (double)l->patch, 1, 0};
    return 1;
}

static int64_t merge_width(const uniap_layer *l)
{
    return l->out_hidden ? l->out_hidden : 2 * l->hidden;
}

static int patch_merge_tp_ok(const uniap_layer *l, int tp)
{
    return merge_width(l) % tp == 0;
}

static int64_t patch_merge_out_elems(const uniap_layer *l)
{
    /* 2x2 patches merge into one token of out_hidden channels */
    return (l->seq / 4) * merge_width(l);
}

static void patch_merge_act(const uniap_layer *l, int64_t e, int64_t *repl, int64_t *shard)
{
    *repl = 2 * l->hidden * e; /* norm input and merge GEMM input (per input token) */
    *shard = 0;
}

static double patch_merge_flops(const uniap_layer *l)
{
    return 2 * (double)l->hidden * (double)merge_width(l);
}

static void head_act(const uniap_layer *l, int64_t e, int64_t *repl, int64_t *shard)
{
    *repl = 2 * l->hidden * e; /* final norm input, projection input */
    *shard = l->vocab * 4;     /* fp32 logits for the cross-entropy */
}

static double head_flops(const uniap_layer *l)
{
    return 2 * (double)l->hidden * (double)l->vocab;
}

/* the column-parallel projection onto the vocabulary shard */
static int head_gemms(const uniap_layer *l, double tokens, int tp, cm_gemm *g)
{
    g[0] = (cm_gemm){tokens, (double)l->vocab / tp, (double)l->hidden, 1, 0};
    return 1;
}

static int64_t head_widest(const uniap_layer *l, int64_t e)
{
    (void)e;
    return l->vocab * 4; /* the fp32 logits */
}

/* ---- the descriptors ------------------------------------------------- */

static const cm_layer_kind block = {
    .tp_ok = block_tp_ok,
    /* attention and MLP: the row-parallel output (g) all-reduces in
     * forward, the column-parallel input (f) all-reduces in backward */
    .tp_fwd = 2,
    .tp_bwd = 2,
    .act_per_token = block_act,
    .gemm_flops = block_flops,
    .gemms = block_gemms,
    .scores = block_scores,
    .core_flops = block_core_flops,
    .cp_attn = 1,
    .kernels_fwd = 16,
    .role = CM_ROLE_BLOCK,
};
static const cm_layer_kind cross_decoder = {
    .tp_ok = block_tp_ok,
    .out_elems = cross_decoder_out_elems,
    .tp_fwd = 3, /* self-attention, cross-attention, MLP */
    .tp_bwd = 3,
    .input_bytes = cross_decoder_input_bytes,
    .act_per_token = cross_decoder_act,
    .gemm_flops = cross_decoder_flops,
    .scores = cross_decoder_scores,
    .core_flops = cross_decoder_core_flops,
    .kernels_fwd = 24,
    .role = CM_ROLE_BLOCK,
};
static const cm_layer_kind swin = {
    .tp_ok = block_tp_ok,
    .tp_fwd = 2, /* as a block */
    .tp_bwd = 2,
    .act_per_token = block_act,
    .gemm_flops = block_flops,
    .gemms = block_gemms,
    .scores = block_scores,
    .core_flops = block_core_flops,
    .attn_span = swin_attn_span,
    .kernels_fwd = 16,
    .role = CM_ROLE_BLOCK,
};
/* Megatron-Core's MoE layer with ETP = TP: the attention as a block, the
 * experts sharded as the dense MLP (its all-reduce pair), the token
 * dispatch among ep ranks priced by the expert-parallel dimension. */
static const cm_layer_kind moe = {
    .tp_ok = block_tp_ok,
    .tp_fwd = 2,
    .tp_bwd = 2,
    .act_per_token = moe_act,
    .gemm_flops = moe_flops,
    .gemms = moe_gemms,
    .widest = moe_widest,
    .scores = block_scores,
    .core_flops = block_core_flops,
    .cp_attn = 1,
    .kernels_fwd = 24, /* a block's 16 + router, softmax, top-k, permute, unpermute, ... */
    .role = CM_ROLE_BLOCK,
};
/* An embedding lookup reads only the rows it gathers and writes its output
 * (b s h each), while its backward writes the dense gradient of the whole
 * table shard (analytic.c). */
static const cm_layer_kind embedding = {
    .tp_ok = vocab_tp_ok,
    .tp_fwd = 1, /* vocabulary-parallel lookup sums partial outputs */
    .tp_bwd = 0,
    .input_bytes = embedding_input_bytes,
    .act_per_token = embedding_act,
    .kernels_fwd = 4,
    .lookup = 1,
    .role = CM_ROLE_FIRST,
};
static const cm_layer_kind patch_embed = {
    .tp_ok = patch_embed_tp_ok,
    .tp_fwd = 1, /* as the embedding */
    .tp_bwd = 0,
    .input_bytes = patch_embed_input_bytes,
    .act_per_token = patch_embed_act,
    .gemm_flops = patch_embed_flops,
    .gemms = patch_embed_gemms,
    .kernels_fwd = 4,
    .role = CM_ROLE_FIRST,
};
static const cm_layer_kind patch_merge = {
    .tp_ok = patch_merge_tp_ok,
    .out_elems = patch_merge_out_elems,
    .tp_fwd = 1,
    .tp_bwd = 1,
    .act_per_token = patch_merge_act,
    .gemm_flops = patch_merge_flops,
    .kernels_fwd = 4,
    .role = CM_ROLE_NONE,
};
static const cm_layer_kind head = {
    .tp_ok = vocab_tp_ok,
    .tp_fwd = 0, /* column-parallel head + parallel cross-entropy (its
                  * per-token max/sum all-reduces are b*s floats: ignored) */
    .tp_bwd = 1, /* input gradient of the column-parallel GEMM */
    .act_per_token = head_act,
    .gemm_flops = head_flops,
    .gemms = head_gemms,
    .widest = head_widest,
    .kernels_fwd = 4,
    .role = CM_ROLE_LAST,
};
/* what a kind without a descriptor gets */
static const cm_layer_kind none = {.kernels_fwd = 4};

/* The built-in kinds (encoder and decoder cost the same). */
#define KINDS(X)                                                                                   \
    X(EMBEDDING, embedding)                                                                        \
    X(PATCH_EMBED, patch_embed)                                                                    \
    X(ENCODER, block)                                                                              \
    X(DECODER, block)                                                                              \
    X(CROSS_DECODER, cross_decoder)                                                                \
    X(SWIN, swin)                                                                                  \
    X(PATCH_MERGE, patch_merge)                                                                    \
    X(HEAD, head)                                                                                  \
    X(MOE, moe)

#define ENTRY(K, d) [UNIAP_LAYER_##K] = &d,
static const cm_layer_kind *table[UNIAP_LAYER_KIND_MAX] = {KINDS(ENTRY)};
#undef ENTRY
#define ONE(K, d) +1
_Static_assert(0 KINDS(ONE) == UNIAP_LAYER_KIND_COUNT, "one descriptor per uniap_layer_kind");
#undef ONE

const cm_layer_kind *uniap__cm_layer_kind(uniap_layer_kind k)
{
    return (int)k >= 0 && (int)k < UNIAP_LAYER_KIND_MAX && table[k] ? table[k] : &none;
}

int uniap__cm_layer_kind_register(uniap_layer_kind k, const cm_layer_kind *d)
{
    if ((int)k < 0 || (int)k >= UNIAP_LAYER_KIND_MAX || !d)
        return uniap_err(UNIAP_EINVAL, "cost model: layer kind %d: expected 0..%d and a descriptor",
                         (int)k, UNIAP_LAYER_KIND_MAX - 1);
    if (table[k])
        return uniap_err(UNIAP_EINVAL, "cost model: layer kind %d (%s): already has a descriptor",
                         (int)k, uniap_layer_kind_name(k));
    table[k] = d;
    return UNIAP_OK;
}

int64_t uniap__cm_attn_span(const uniap_layer *l)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    return d->attn_span ? d->attn_span(l) : l->seq;
}
