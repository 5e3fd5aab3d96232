/*
 * prof_test_layers.h - the small layer shapes the profiler's kernel tests
 * share (one of each kind the model specs use, with the features switched
 * on that the kind's real models have).
 */
#ifndef PROF_TEST_LAYERS_H
#define PROF_TEST_LAYERS_H

#include <string.h>

#include "uniap_io.h"

typedef struct test_layer {
    const char *name;
    uniap_layer l;
    int tp, batch;
} test_layer;

static inline int test_layers(test_layer *out)
{
    int n = 0;
    uniap_layer l;
#define ADD(nm, tp_, b_)                                                                           \
    do {                                                                                           \
        out[n].name = nm;                                                                          \
        out[n].l = l;                                                                              \
        out[n].tp = tp_;                                                                           \
        out[n].batch = b_;                                                                         \
        n++;                                                                                       \
    } while (0)
    /* BERT-like encoder: LayerNorm, GELU, biases */
    memset(&l, 0, sizeof(l));
    l.kind = UNIAP_LAYER_ENCODER, l.count = 1, l.hidden = 8, l.heads = 2, l.kv_heads = 2;
    l.ffn = 12, l.activation = UNIAP_ACT_GELU, l.norm = UNIAP_NORM_LAYERNORM, l.bias = 1;
    l.seq = 5;
    ADD("encoder", 1, 2);
    l.heads = 4, l.kv_heads = 4, l.head_dim = 3, l.ffn = 16;
    ADD("encoder.tp2", 2, 1);
    /* Llama-like decoder: RMSNorm, SwiGLU, rotary, grouped-query heads */
    memset(&l, 0, sizeof(l));
    l.kind = UNIAP_LAYER_DECODER, l.count = 1, l.hidden = 16, l.heads = 4, l.kv_heads = 2;
    l.ffn = 24, l.activation = UNIAP_ACT_SWIGLU, l.norm = UNIAP_NORM_RMSNORM;
    l.position = UNIAP_POS_ROTARY, l.seq = 6;
    ADD("decoder", 1, 2);
    ADD("decoder.tp2", 2, 1);
    /* T5-like decoder with cross attention: RMSNorm, ReLU */
    memset(&l, 0, sizeof(l));
    l.kind = UNIAP_LAYER_CROSS_DECODER, l.count = 1, l.hidden = 8, l.heads = 2, l.kv_heads = 2;
    l.ffn = 12, l.activation = UNIAP_ACT_RELU, l.norm = UNIAP_NORM_RMSNORM, l.seq = 4;
    l.kv_seq = 6;
    ADD("cross_decoder", 1, 2);
    /* Swin block: 4x4 patches, 2x2 windows, relative position bias */
    memset(&l, 0, sizeof(l));
    l.kind = UNIAP_LAYER_SWIN, l.count = 1, l.hidden = 8, l.heads = 2, l.kv_heads = 2;
    l.ffn = 16, l.activation = UNIAP_ACT_GELU, l.norm = UNIAP_NORM_LAYERNORM, l.bias = 1;
    l.position = UNIAP_POS_RELATIVE, l.seq = 16, l.window = 2;
    ADD("swin", 1, 2);
    /* embeddings */
    memset(&l, 0, sizeof(l));
    l.kind = UNIAP_LAYER_EMBEDDING, l.count = 1, l.hidden = 6, l.vocab = 11, l.seq = 5;
    l.position = UNIAP_POS_LEARNED, l.max_positions = 5;
    ADD("embedding", 1, 2);
    ADD("embedding.tp2", 2, 2);
    memset(&l, 0, sizeof(l));
    l.kind = UNIAP_LAYER_PATCH_EMBED, l.count = 1, l.hidden = 6, l.image = 8, l.patch = 4;
    l.channels = 3, l.bias = 1, l.position = UNIAP_POS_LEARNED;
    ADD("patch_embed", 1, 2);
    memset(&l, 0, sizeof(l));
    l.kind = UNIAP_LAYER_PATCH_MERGE, l.count = 1, l.hidden = 4, l.seq = 16, l.out_hidden = 8;
    l.norm = UNIAP_NORM_LAYERNORM, l.bias = 1;
    ADD("patch_merge", 1, 2);
    /* LM head with cross-entropy */
    memset(&l, 0, sizeof(l));
    l.kind = UNIAP_LAYER_HEAD, l.count = 1, l.hidden = 8, l.vocab = 13, l.seq = 3;
    l.norm = UNIAP_NORM_LAYERNORM;
    ADD("head", 1, 2);
    l.norm = UNIAP_NORM_RMSNORM, l.tied = 1, l.bias = 1;
    ADD("head.tied.tp2", 2, 2);
    /* Mixtral-like moe block: the decoder's attention, 4 experts, top 2 */
    memset(&l, 0, sizeof(l));
    l.kind = UNIAP_LAYER_MOE, l.count = 1, l.hidden = 16, l.heads = 4, l.kv_heads = 2;
    l.ffn = 12, l.activation = UNIAP_ACT_SWIGLU, l.norm = UNIAP_NORM_RMSNORM;
    l.position = UNIAP_POS_ROTARY, l.seq = 6, l.experts = 4, l.top_k = 2;
    ADD("moe", 1, 2);
    /* + a shared expert, capacity factor 1 (tokens dropped), GELU, biases */
    l.activation = UNIAP_ACT_GELU, l.norm = UNIAP_NORM_LAYERNORM, l.bias = 1, l.ffn = 16;
    l.shared_experts = 1, l.capacity_factor = 1.0;
    ADD("moe.shared.cf1.tp2", 2, 2);
#undef ADD
    return n;
}

#endif
