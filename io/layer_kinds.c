/*
 * layer_kinds.c - the layer kinds as io sees them: one descriptor per kind
 * (its JSON name, the fields it uses, its defaults, the parsing and
 * validation of its own fields, its exact parameter count), the table in
 * uniap_layer_kind order, and run-time registration (tests). The shared
 * fields (count, hidden, seq, attention, ffn, activation, norm, position,
 * bias) are parsed by model_spec.c from each kind's field mask.
 *
 * A new built-in kind: its value in uniap_layer_kind (io/include/
 * uniap_io.h, before UNIAP_LAYER_KIND_COUNT), its descriptor here and one
 * line in KINDS. Its costs are costmodel/layer_kinds.c, its kernels
 * profiler/kernels_cpu/ (docs/architecture.md §4.1).
 *
 * Parameter counts. Notation: h hidden, a heads, k kv_heads, d head_dim,
 * f ffn, V vocab, s seq, w window, C channels, p patch, o out_hidden,
 * E experts, K top_k, S shared_experts.
 *
 *   norm(x)    = 2x (LayerNorm: weight + bias) | x (RMSNorm: weight)
 *   attn       = h*a*d (Q) + 2*h*k*d (K, V; grouped-query when k < a)
 *              + a*d*h (O)  [+ a*d + 2*k*d + h biases when bias]
 *   mlp        = GELU/ReLU: 2*h*f [+ f + h]; SwiGLU: 3*h*f [+ 2f + h]
 *   encoder, decoder = attn + mlp + 2 norm(h)
 *   cross_decoder    = 2 attn (self + cross; K/V read the encoder output,
 *                      width h) + mlp + 3 norm(h)
 *   swin       = encoder + (2w-1)^2 * a   relative-position bias table
 *                (position "relative", the Swin default)
 *   embedding  = V*h [+ max_positions*h when position "learned"]
 *   patch_embed = C*p^2*h + h (conv as a GEMM + bias)
 *                [+ h (cls token) + s*h (positions, s = patches + 1) when
 *                position "learned", ViT style]
 *   patch_merge = norm(4h) + 4h*o [+ o]
 *   head       = norm(h) (final norm) + V*h unless tied [+ V when bias]
 *   moe        = attn + h*E (router, no bias: Mixtral's gate, Megatron-Core's
 *                TopKRouter) + (E + S) mlp + 2 norm(h); active per token
 *                (uniap_layer_active_params): attn + h*E + (K + S) mlp
 *                + 2 norm(h). Mixtral-8x7B: 46,702,792,704 total (the
 *                checkpoint's), 12,879,925,248 active (Mistral AI: 12.9B).
 *
 * Not carried by any layer: T5's shared relative-attention bucket tables
 * and encoder final norm (3,072 in T5-Large), BERT's token-type
 * embeddings, embedding LayerNorm, pooler and MLM transform (3.3 M, 0.5 %
 * of BERT-Huge), Swin's patch-embedding LayerNorm (640).
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "layer_kinds.h"

int64_t uniap__isqrt_exact(int64_t v)
{
    int64_t r = (int64_t)llround(sqrt((double)v));
    while (r > 0 && r * r > v)
        r--;
    while ((r + 1) * (r + 1) <= v)
        r++;
    return r * r == v ? r : -1;
}

/* ---- parameter counts ------------------------------------------------ */

static int64_t norm_params(uniap_norm norm, int64_t width)
{
    return norm == UNIAP_NORM_RMSNORM ? width : 2 * width;
}

static int64_t attention_params(const uniap_layer *l)
{
    int64_t h = l->hidden, q = (int64_t)l->heads * l->head_dim,
            kv = (int64_t)l->kv_heads * l->head_dim;
    int64_t p = h * q + 2 * h * kv + q * h;
    if (l->bias)
        p += q + 2 * kv + h;
    return p;
}

static int64_t mlp_params(const uniap_layer *l)
{
    int64_t h = l->hidden, f = l->ffn;
    if (l->activation == UNIAP_ACT_SWIGLU)
        return 3 * h * f + (l->bias ? 2 * f + h : 0);
    return 2 * h * f + (l->bias ? f + h : 0);
}

static int64_t embedding_params(const uniap_layer *l)
{
    int64_t p = l->vocab * l->hidden;
    if (l->position == UNIAP_POS_LEARNED)
        p += l->max_positions * l->hidden;
    return p;
}

static int64_t patch_embed_params(const uniap_layer *l)
{
    int64_t h = l->hidden, p = (int64_t)l->channels * l->patch * l->patch * h + h;
    if (l->position == UNIAP_POS_LEARNED)
        p += h + l->seq * h; /* cls token + one position per token */
    return p;
}

static int64_t block_params(const uniap_layer *l) /* encoder, decoder */
{
    return attention_params(l) + mlp_params(l) + 2 * norm_params(l->norm, l->hidden);
}

static int64_t cross_decoder_params(const uniap_layer *l)
{
    return 2 * attention_params(l) + mlp_params(l) + 3 * norm_params(l->norm, l->hidden);
}

static int64_t swin_params(const uniap_layer *l)
{
    int64_t p = attention_params(l) + mlp_params(l) + 2 * norm_params(l->norm, l->hidden);
    if (l->position == UNIAP_POS_RELATIVE)
        p += (int64_t)(2 * l->window - 1) * (2 * l->window - 1) * l->heads;
    return p;
}

static int64_t patch_merge_params(const uniap_layer *l)
{
    int64_t h = l->hidden;
    return norm_params(l->norm, 4 * h) + 4 * h * l->out_hidden + (l->bias ? l->out_hidden : 0);
}

/* attention + router + (E + S) experts + two norms (notation above) */
static int64_t moe_params(const uniap_layer *l)
{
    return attention_params(l) + l->hidden * l->experts +
           (int64_t)(l->experts + l->shared_experts) * mlp_params(l) +
           2 * norm_params(l->norm, l->hidden);
}

/* what one token runs through: the router, top_k routed and the shared
 * experts */
static int64_t moe_active_params(const uniap_layer *l)
{
    return attention_params(l) + l->hidden * l->experts +
           (int64_t)(l->top_k + l->shared_experts) * mlp_params(l) +
           2 * norm_params(l->norm, l->hidden);
}

static int64_t head_params(const uniap_layer *l)
{
    int64_t h = l->hidden;
    return norm_params(l->norm, h) + (l->tied ? 0 : l->vocab * h) + (l->bias ? l->vocab : 0);
}

/* ---- the kinds' own fields ------------------------------------------- */

static int cross_decoder_parse(const cJSON *jl, const char *source, const char *path,
                               int64_t seq_len, uniap_layer *l)
{
    l->kv_seq = seq_len;
    int rc = spec_layer_get_int(jl, LF_KV_SEQ, source, path, 1, MAX_TOKENS, &l->kv_seq);
    return rc < 0 ? rc : UNIAP_OK;
}

static int swin_parse(const cJSON *jl, const char *source, const char *path, int64_t seq_len,
                      uniap_layer *l)
{
    int64_t v, side;
    int rc = spec_layer_get_int(jl, LF_WINDOW, source, path, 1, 4096, &v);

    (void)seq_len;
    if (rc < 0)
        return rc;
    if (!rc)
        return spec_missing(source, path, "window", "a positive integer (window side)");
    l->window = (int)v;
    side = uniap__isqrt_exact(l->seq);
    if (side < 0)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s.seq: expected a square token grid (side^2 tokens), got %lld",
                         source, path, (long long)l->seq);
    if (side % l->window != 0)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s.window: expected a divisor of the token grid side %lld "
                         "(seq %lld), got %d",
                         source, path, (long long)side, (long long)l->seq, l->window);
    return UNIAP_OK;
}

/* vocab: the embedding's and the head's, required. */
static int parse_vocab(const cJSON *jl, const char *source, const char *path, uniap_layer *l)
{
    int rc = spec_layer_get_int(jl, LF_VOCAB, source, path, 1, MAX_VOCAB, &l->vocab);
    if (rc < 0)
        return rc;
    if (!rc)
        return spec_missing(source, path, "vocab", "a positive integer (vocabulary/classes)");
    return UNIAP_OK;
}

static int embedding_parse(const cJSON *jl, const char *source, const char *path, int64_t seq_len,
                           uniap_layer *l)
{
    int rc;

    (void)seq_len;
    if ((rc = parse_vocab(jl, source, path, l)) < 0)
        return rc;
    rc = spec_layer_get_int(jl, LF_MAX_POSITIONS, source, path, 1, MAX_TOKENS, &l->max_positions);
    if (rc < 0)
        return rc;
    if (l->position != UNIAP_POS_LEARNED && rc)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s.max_positions: expected only with position \"learned\", "
                         "got it with position \"%s\"",
                         source, path, spec_position_names[l->position]);
    if (l->position == UNIAP_POS_LEARNED && !rc)
        l->max_positions = l->seq;
    if (l->position == UNIAP_POS_LEARNED && l->max_positions < l->seq)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s.max_positions: expected at least seq (%lld), got %lld", source,
                         path, (long long)l->seq, (long long)l->max_positions);
    return UNIAP_OK;
}

static int head_parse(const cJSON *jl, const char *source, const char *path, int64_t seq_len,
                      uniap_layer *l)
{
    int rc;

    (void)seq_len;
    if ((rc = parse_vocab(jl, source, path, l)) < 0)
        return rc;
    rc = spec_get_bool(jl, "tied", source, path, &l->tied);
    return rc < 0 ? rc : UNIAP_OK;
}

/* image, patch (required), channels (3); seq follows from the grid. */
static int patch_embed_parse(const cJSON *jl, const char *source, const char *path, int64_t seq_len,
                             uniap_layer *l)
{
    int64_t v, grid, tokens;
    int rc;

    (void)seq_len;
    if ((rc = spec_layer_get_int(jl, LF_IMAGE, source, path, 1, 65536, &l->image)) < 0)
        return rc;
    if (!rc)
        return spec_missing(source, path, "image", "a positive integer (image side, pixels)");
    if ((rc = spec_layer_get_int(jl, LF_PATCH, source, path, 1, 1024, &v)) < 0)
        return rc;
    if (!rc)
        return spec_missing(source, path, "patch", "a positive integer (patch side, pixels)");
    l->patch = (int)v;
    l->channels = 3;
    if ((rc = spec_layer_get_int(jl, LF_CHANNELS, source, path, 1, 1024, &v)) < 0)
        return rc;
    if (rc)
        l->channels = (int)v;
    if (l->image % l->patch != 0)
        return uniap_err(UNIAP_EINVAL, "%s: %s.patch: expected a divisor of image (%lld), got %d",
                         source, path, (long long)l->image, l->patch);
    if (l->position != UNIAP_POS_NONE && l->position != UNIAP_POS_LEARNED)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s.position: expected none|learned for a patch_embed layer, "
                         "got \"%s\"",
                         source, path, spec_position_names[l->position]);
    grid = l->image / l->patch;
    tokens = grid * grid + (l->position == UNIAP_POS_LEARNED ? 1 : 0); /* + cls token */
    if (tokens > MAX_TOKENS)
        return uniap_err(UNIAP_EINVAL, "%s: %s.image: expected at most %lld patches, got %lld",
                         source, path, (long long)MAX_TOKENS, (long long)tokens);
    if (cJSON_GetObjectItemCaseSensitive(jl, "seq") && l->seq != tokens)
        return uniap_err(UNIAP_EINVAL, "%s: %s.seq: expected %lld ((image/patch)^2%s), got %lld",
                         source, path, (long long)tokens,
                         l->position == UNIAP_POS_LEARNED ? " + cls token" : "", (long long)l->seq);
    l->seq = tokens;
    return UNIAP_OK;
}

static int patch_merge_parse(const cJSON *jl, const char *source, const char *path, int64_t seq_len,
                             uniap_layer *l)
{
    int64_t side = uniap__isqrt_exact(l->seq);
    int rc;

    (void)seq_len;
    l->out_hidden = 2 * l->hidden;
    rc = spec_layer_get_int(jl, LF_OUT_HIDDEN, source, path, 1, 2 * MAX_HIDDEN, &l->out_hidden);
    if (rc < 0)
        return rc;
    if (side < 0 || side % 2 != 0)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s.seq: expected a square token grid of even side (input "
                         "tokens), got %lld",
                         source, path, (long long)l->seq);
    return UNIAP_OK;
}

/* experts (required), top_k (required, 1..experts), shared_experts (0),
 * capacity_factor (0 dropless, else >= 1). */
static int moe_parse(const cJSON *jl, const char *source, const char *path, int64_t seq_len,
                     uniap_layer *l)
{
    int64_t v;
    double cf = 0;
    int rc;

    (void)seq_len;
    if ((rc = spec_layer_get_int(jl, LF_EXPERTS, source, path, 1, 65536, &v)) < 0)
        return rc;
    if (!rc)
        return spec_missing(source, path, "experts", "a positive integer (routed experts)");
    l->experts = (int)v;
    if ((rc = spec_layer_get_int(jl, LF_TOP_K, source, path, 1, l->experts, &v)) < 0)
        return rc;
    if (!rc)
        return spec_missing(source, path, "top_k", "an integer 1..experts (experts per token)");
    l->top_k = (int)v;
    if ((rc = spec_layer_get_int(jl, LF_SHARED_EXPERTS, source, path, 0, 65536, &v)) < 0)
        return rc;
    l->shared_experts = rc ? (int)v : 0;
    rc = spec_get_number(jl, spec_layer_field_names[LF_CAPACITY_FACTOR], source, path, 0, 1e6, &cf);
    if (rc < 0)
        return rc;
    if (rc && cf != 0 && !(cf >= 1))
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s.capacity_factor: expected 0 (dropless) or at least 1, got %g",
                         source, path, cf);
    l->capacity_factor = cf;
    return UNIAP_OK;
}

/* 2x2 patches merge into one token of out_hidden channels */
static int64_t patch_merge_out_width(const uniap_layer *l)
{
    return l->out_hidden;
}

/* ---- the descriptors ------------------------------------------------- */

#define F SPEC_F
/* what every attention block uses */
#define ATTN_FIELDS                                                                                \
    (F(LF_COUNT) | F(LF_HIDDEN) | F(LF_HEADS) | F(LF_KV_HEADS) | F(LF_HEAD_DIM) | F(LF_FFN) |      \
     F(LF_ACTIVATION) | F(LF_NORM) | F(LF_POSITION) | F(LF_BIAS) | F(LF_SEQ))

static const spec_layer_kind embedding = {
    .name = "embedding",
    .fields =
        F(LF_COUNT) | F(LF_HIDDEN) | F(LF_VOCAB) | F(LF_POSITION) | F(LF_MAX_POSITIONS) | F(LF_SEQ),
    .parse = embedding_parse,
    .params = embedding_params,
};
static const spec_layer_kind patch_embed = {
    .name = "patch_embed",
    .fields = F(LF_COUNT) | F(LF_HIDDEN) | F(LF_IMAGE) | F(LF_PATCH) | F(LF_CHANNELS) |
              F(LF_POSITION) | F(LF_SEQ),
    .seq_derived = 1,
    .parse = patch_embed_parse,
    .params = patch_embed_params,
};
static const spec_layer_kind encoder = {
    .name = "encoder",
    .fields = ATTN_FIELDS,
    .params = block_params,
};
static const spec_layer_kind decoder = {
    .name = "decoder",
    .fields = ATTN_FIELDS,
    .params = block_params,
};
static const spec_layer_kind cross_decoder = {
    .name = "cross_decoder",
    .fields = ATTN_FIELDS | F(LF_KV_SEQ),
    .parse = cross_decoder_parse,
    .params = cross_decoder_params,
};
static const spec_layer_kind swin = {
    .name = "swin",
    .fields = ATTN_FIELDS | F(LF_WINDOW),
    .position = UNIAP_POS_RELATIVE,
    .parse = swin_parse,
    .params = swin_params,
};
static const spec_layer_kind patch_merge = {
    .name = "patch_merge",
    .fields = F(LF_COUNT) | F(LF_HIDDEN) | F(LF_OUT_HIDDEN) | F(LF_NORM) | F(LF_BIAS) | F(LF_SEQ),
    .parse = patch_merge_parse,
    .params = patch_merge_params,
    .out_width = patch_merge_out_width,
};
static const spec_layer_kind head = {
    .name = "head",
    .fields =
        F(LF_COUNT) | F(LF_HIDDEN) | F(LF_VOCAB) | F(LF_NORM) | F(LF_BIAS) | F(LF_TIED) | F(LF_SEQ),
    .parse = head_parse,
    .params = head_params,
};
static const spec_layer_kind moe = {
    .name = "moe",
    .fields =
        ATTN_FIELDS | F(LF_EXPERTS) | F(LF_TOP_K) | F(LF_SHARED_EXPERTS) | F(LF_CAPACITY_FACTOR),
    .parse = moe_parse,
    .params = moe_params,
    .active_params = moe_active_params,
};
#undef F

/* The built-in kinds, in uniap_layer_kind order. */
#define KINDS(X)                                                                                   \
    X(EMBEDDING, embedding)                                                                        \
    X(PATCH_EMBED, patch_embed)                                                                    \
    X(ENCODER, encoder)                                                                            \
    X(DECODER, decoder)                                                                            \
    X(CROSS_DECODER, cross_decoder)                                                                \
    X(SWIN, swin)                                                                                  \
    X(PATCH_MERGE, patch_merge)                                                                    \
    X(HEAD, head)                                                                                  \
    X(MOE, moe)

#define ENTRY(K, d) [UNIAP_LAYER_##K] = &d,
static const spec_layer_kind *table[UNIAP_LAYER_KIND_MAX] = {KINDS(ENTRY)};
#undef ENTRY
#define ONE(K, d) +1
_Static_assert(0 KINDS(ONE) == UNIAP_LAYER_KIND_COUNT, "one descriptor per uniap_layer_kind");
#undef ONE
_Static_assert(UNIAP_LAYER_KIND_COUNT <= UNIAP_LAYER_KIND_MAX, "UNIAP_LAYER_KIND_MAX too small");

static int n_table = UNIAP_LAYER_KIND_COUNT;

const spec_layer_kind *uniap__layer_kind_get(uniap_layer_kind k)
{
    return (int)k >= 0 && (int)k < n_table ? table[k] : NULL;
}

int uniap__layer_kind_count(void)
{
    return n_table;
}

int uniap__layer_kind_register(const spec_layer_kind *d, uniap_layer_kind *id)
{
    const unsigned shared = SPEC_F(LF_COUNT) | SPEC_F(LF_HIDDEN) | SPEC_F(LF_SEQ);

    if (!d || !d->name || !*d->name || !d->params || (d->fields & shared) != shared ||
        (d->fields >> LF_N) != 0)
        return uniap_err(UNIAP_EINVAL,
                         "layer kind '%s': a descriptor needs a name, a parameter count and "
                         "the fields count, hidden and seq",
                         d && d->name ? d->name : "(null)");
    for (int i = 0; i < n_table; i++)
        if (strcmp(d->name, table[i]->name) == 0)
            return uniap_err(UNIAP_EINVAL, "layer kind '%s': already registered", d->name);
    if (n_table >= UNIAP_LAYER_KIND_MAX)
        return uniap_err(UNIAP_EINVAL, "layer kind '%s': the table holds at most %d kinds", d->name,
                         UNIAP_LAYER_KIND_MAX);
    table[n_table] = d;
    *id = (uniap_layer_kind)n_table++;
    return UNIAP_OK;
}

const char *uniap_layer_kind_name(uniap_layer_kind k)
{
    const spec_layer_kind *d = uniap__layer_kind_get(k);
    return d ? d->name : "?";
}

int64_t uniap_layer_params(const uniap_layer *l)
{
    const spec_layer_kind *d;

    assert(l);
    d = uniap__layer_kind_get(l->kind);
    assert(d);
    return d ? d->params(l) : 0;
}

int64_t uniap_model_params(const uniap_model *m)
{
    int64_t total = 0;
    for (int r = 0; r < m->n_runs; r++)
        total += uniap_layer_params(&m->runs[r]) * m->runs[r].count;
    return total;
}

int64_t uniap_layer_active_params(const uniap_layer *l)
{
    const spec_layer_kind *d;

    assert(l);
    d = uniap__layer_kind_get(l->kind);
    assert(d);
    return !d ? 0 : d->active_params ? d->active_params(l) : d->params(l);
}

int64_t uniap_model_active_params(const uniap_model *m)
{
    int64_t total = 0;
    for (int r = 0; r < m->n_runs; r++)
        total += uniap_layer_active_params(&m->runs[r]) * m->runs[r].count;
    return total;
}
