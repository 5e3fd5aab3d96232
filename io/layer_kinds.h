/*
 * layer_kinds.h - private to io/: a layer kind as io sees it. One
 * descriptor per kind (io/layer_kinds.c): its JSON "type" name, the
 * uniap_layer fields it uses (which the parser accepts, the serializer
 * writes and the signature encodes), its defaults, the parsing and
 * validation of its own fields and its parameter count. The parser
 * (model_spec.c), the serializer and the signature (model_format.c) read
 * nothing else of a kind. The cost model and the profiler keep their own
 * per-kind descriptors (costmodel/layer_kinds.c, profiler/kernels_cpu/).
 */
#ifndef UNIAP_IO_LAYER_KINDS_H
#define UNIAP_IO_LAYER_KINDS_H

#include <stdint.h>

#include "spec_json.h"

/* Upper bounds on sizes keep every parameter count far inside int64. */
#define MAX_COUNT      100000
#define MAX_LAYERS     1000000
#define MAX_HIDDEN     ((int64_t)1 << 20)
#define MAX_HEADS      65536
#define MAX_FFN        ((int64_t)1 << 22)
#define MAX_TOKENS     ((int64_t)1 << 24)
#define MAX_VOCAB      ((int64_t)1 << 24)
#define MAX_ATTN_WIDTH ((int64_t)1 << 24) /* heads * head_dim */
#define MAX_PARAMS     1e18               /* a model's total, far inside int64 */

/* The fields of a uniap_layer a spec may state, in the order the
 * serializer writes them. */
enum spec_layer_field {
    LF_COUNT = 0,
    LF_HIDDEN,
    LF_HEADS,
    LF_KV_HEADS,
    LF_HEAD_DIM,
    LF_FFN,
    LF_ACTIVATION,
    LF_NORM,
    LF_POSITION,
    LF_BIAS,
    LF_SEQ,
    LF_KV_SEQ,
    LF_VOCAB,
    LF_MAX_POSITIONS,
    LF_TIED,
    LF_WINDOW,
    LF_IMAGE,
    LF_PATCH,
    LF_CHANNELS,
    LF_OUT_HIDDEN,
    LF_EXPERTS,
    LF_TOP_K,
    LF_SHARED_EXPERTS,
    LF_CAPACITY_FACTOR,
    LF_N
};

/* JSON key of each field (the uniap_layer member name). */
extern const char *const spec_layer_field_names[LF_N];
extern const char *const spec_activation_names[3];
extern const char *const spec_norm_names[2];
extern const char *const spec_position_names[4];

/* Bit of a field in a descriptor's field mask. */
#define SPEC_F(f) (1u << (f))

/* One layer kind. The shared fields a kind uses are read by the parser
 * before its own hook runs, in this order: count, hidden, seq (every kind
 * uses these three), heads/kv_heads/head_dim (required heads, checked
 * against hidden), ffn (required), activation (default gelu), norm
 * (default layernorm), position (default below), bias. The kind's other
 * fields (kv_seq, vocab, tied, max_positions, window, image, patch,
 * channels, out_hidden, experts, top_k, shared_experts, capacity_factor) are its hook's to read and
 * default. The signature carries every field the kind uses (model_format.c). */
typedef struct spec_layer_kind {
    const char *name;        /* JSON "type" and the signature's first token */
    unsigned fields;         /* SPEC_F(LF_...) of the fields it uses */
    uniap_position position; /* default when it uses LF_POSITION */
    int seq_derived;         /* seq follows from the kind's own fields (left out of dumps) */
    /* Reads and checks the kind's own fields of the JSON object jl (path
     * "layers[i]") into l, whose shared fields are already set; seq_len
     * is the model's. 0, or EINVAL naming source, path and field. NULL:
     * the kind has no fields of its own. */
    int (*parse)(const cJSON *jl, const char *source, const char *path, int64_t seq_len,
                 uniap_layer *l);
    /* Parameters of one layer, unsharded (model_params notation in
     * layer_kinds.c). Required. */
    int64_t (*params)(const uniap_layer *l);
    /* Width of the activation it hands to the next layer; NULL: hidden. */
    int64_t (*out_width)(const uniap_layer *l);
    /* Parameters one token runs through (uniap_layer_active_params); NULL:
     * params. */
    int64_t (*active_params)(const uniap_layer *l);
} spec_layer_kind;

/* The descriptor of kind k: the built-in ones (uniap_layer_kind order),
 * then those registered at run time; NULL for any other k. */
const spec_layer_kind *uniap__layer_kind_get(uniap_layer_kind k);
/* Number of kinds (built-in + registered). */
int uniap__layer_kind_count(void);
/* Adds a kind at run time (tests: a built-in kind is a descriptor in
 * layer_kinds.c and a value of uniap_layer_kind); *id receives its value,
 * UNIAP_LAYER_KIND_COUNT or above. d must outlive every use. Not
 * thread-safe: register before parsing. EINVAL when the name is empty or
 * taken, the mask lacks count, hidden or seq, params is missing, or the
 * table (UNIAP_LAYER_KIND_MAX) is full. */
int uniap__layer_kind_register(const spec_layer_kind *d, uniap_layer_kind *id);

/* 1 when kind k uses field f (0 for a kind that does not exist). */
static inline int spec_kind_uses(uniap_layer_kind k, enum spec_layer_field f)
{
    const spec_layer_kind *d = uniap__layer_kind_get(k);
    return d && ((d->fields >> f) & 1u);
}

/* Reads the integer field f of layer object jl into *dst (path names jl):
 * 1 present, 0 absent (dst untouched), EINVAL outside min..max. */
static inline int spec_layer_get_int(const cJSON *jl, enum spec_layer_field f, const char *source,
                                     const char *path, int64_t min, int64_t max, int64_t *dst)
{
    return spec_get_int(jl, spec_layer_field_names[f], source, path, min, max, dst);
}

/* Integer perfect square root of v >= 0, or -1 when v is no square. */
int64_t uniap__isqrt_exact(int64_t v);

#endif /* UNIAP_IO_LAYER_KINDS_H */
