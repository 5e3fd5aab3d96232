/*
 * model_params.c - exact parameter counts of a layer and of a model, per
 * layer kind. Notation: h hidden, a heads, k kv_heads, d head_dim, f ffn,
 * V vocab, s seq, w window, C channels, p patch, o out_hidden.
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
 *
 * Not carried by any layer: T5's shared relative-attention bucket tables
 * and encoder final norm (3,072 in T5-Large), BERT's token-type
 * embeddings, embedding LayerNorm, pooler and MLM transform (3.3 M, 0.5 %
 * of BERT-Huge), Swin's patch-embedding LayerNorm (640).
 */
#include <assert.h>

#include "uniap_io.h"

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

int64_t uniap_layer_params(const uniap_layer *l)
{
    int64_t h = l->hidden, p = 0;

    assert(l);
    switch (l->kind) {
    case UNIAP_LAYER_EMBEDDING:
        p = l->vocab * h;
        if (l->position == UNIAP_POS_LEARNED)
            p += l->max_positions * h;
        return p;
    case UNIAP_LAYER_PATCH_EMBED:
        p = (int64_t)l->channels * l->patch * l->patch * h + h;
        if (l->position == UNIAP_POS_LEARNED)
            p += h + l->seq * h; /* cls token + one position per token */
        return p;
    case UNIAP_LAYER_ENCODER:
    case UNIAP_LAYER_DECODER:
        return attention_params(l) + mlp_params(l) + 2 * norm_params(l->norm, h);
    case UNIAP_LAYER_CROSS_DECODER:
        return 2 * attention_params(l) + mlp_params(l) + 3 * norm_params(l->norm, h);
    case UNIAP_LAYER_SWIN:
        p = attention_params(l) + mlp_params(l) + 2 * norm_params(l->norm, h);
        if (l->position == UNIAP_POS_RELATIVE)
            p += (int64_t)(2 * l->window - 1) * (2 * l->window - 1) * l->heads;
        return p;
    case UNIAP_LAYER_PATCH_MERGE:
        return norm_params(l->norm, 4 * h) + 4 * h * l->out_hidden + (l->bias ? l->out_hidden : 0);
    case UNIAP_LAYER_HEAD:
        return norm_params(l->norm, h) + (l->tied ? 0 : l->vocab * h) + (l->bias ? l->vocab : 0);
    default:
        assert(0);
        return 0;
    }
}

int64_t uniap_model_params(const uniap_model *m)
{
    int64_t total = 0;
    for (int r = 0; r < m->n_runs; r++)
        total += uniap_layer_params(&m->runs[r]) * m->runs[r].count;
    return total;
}
