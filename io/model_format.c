/*
 * model_format.c - the written forms of a model: the JSON names of the
 * layer fields, the canonical JSON a uniap_model serializes to (it parses back
 * to an equal model; fields the parser derives are left out, so that the
 * model's seq_len is the one source of every length not stated per layer),
 * and the layer signature profiles are keyed by. Which fields a kind uses
 * is its descriptor's (layer_kinds.c).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_kinds.h"
#include "training_json.h"

const char *const spec_layer_field_names[LF_N] = {
    "count",   "hidden",     "heads",          "kv_heads",       "head_dim",
    "ffn",     "activation", "norm",           "position",       "bias",
    "seq",     "kv_seq",     "vocab",          "max_positions",  "tied",
    "window",  "image",      "patch",          "channels",       "out_hidden",
    "experts", "top_k",      "shared_experts", "capacity_factor"};

const char *const spec_activation_names[3] = {"gelu", "swiglu", "relu"};
const char *const spec_norm_names[2] = {"layernorm", "rmsnorm"};
const char *const spec_position_names[4] = {"none", "learned", "rotary", "relative"};

/* Integer value of a numeric field of l. */
static int64_t field_int(const uniap_layer *l, enum spec_layer_field f)
{
    switch (f) {
    case LF_COUNT:
        return l->count;
    case LF_HIDDEN:
        return l->hidden;
    case LF_HEADS:
        return l->heads;
    case LF_KV_HEADS:
        return l->kv_heads;
    case LF_HEAD_DIM:
        return l->head_dim;
    case LF_FFN:
        return l->ffn;
    case LF_SEQ:
        return l->seq;
    case LF_KV_SEQ:
        return l->kv_seq;
    case LF_VOCAB:
        return l->vocab;
    case LF_MAX_POSITIONS:
        return l->max_positions;
    case LF_WINDOW:
        return l->window;
    case LF_IMAGE:
        return l->image;
    case LF_PATCH:
        return l->patch;
    case LF_CHANNELS:
        return l->channels;
    case LF_OUT_HIDDEN:
        return l->out_hidden;
    case LF_EXPERTS:
        return l->experts;
    case LF_TOP_K:
        return l->top_k;
    case LF_SHARED_EXPERTS:
        return l->shared_experts;
    case LF_ACTIVATION:
        return l->activation;
    case LF_NORM:
        return l->norm;
    case LF_POSITION:
        return l->position;
    case LF_BIAS:
        return l->bias;
    case LF_TIED:
        return l->tied;
    default:
        assert(0);
        return 0;
    }
}

/* 1 when field f of l holds the value the parser derives when the key is
 * absent from the spec, so the dump leaves it out and it follows its
 * source: seq (and a cross-decoder's kv_seq) the model's seq_len, a patch
 * embedding's seq its image/patch grid, kv_heads the heads, head_dim
 * hidden/heads, a moe layer's shared_experts and capacity_factor their
 * defaults 0. A user who edits seq_len in a dump changes every layer
 * that did not state its own length. */
static int field_is_derived(const uniap_layer *l, int64_t seq_len, enum spec_layer_field f)
{
    switch (f) {
    case LF_SEQ:
        return uniap__layer_kind_get(l->kind)->seq_derived || l->seq == seq_len;
    case LF_KV_SEQ:
        return l->kv_seq == seq_len;
    case LF_KV_HEADS:
        return l->kv_heads == l->heads;
    case LF_HEAD_DIM:
        return l->heads > 0 && l->hidden % l->heads == 0 && l->head_dim == l->hidden / l->heads;
    case LF_SHARED_EXPERTS: /* the defaults: none, dropless */
        return l->shared_experts == 0;
    case LF_CAPACITY_FACTOR:
        return l->capacity_factor == 0;
    default:
        return 0;
    }
}

static int add_layer_json(cJSON *arr, const uniap_layer *l, int64_t seq_len)
{
    cJSON *o = cJSON_CreateObject();

    if (!o || !cJSON_AddStringToObject(o, "type", uniap_layer_kind_name(l->kind)))
        goto free_obj;
    for (int f = 0; f < LF_N; f++) {
        const char *key = spec_layer_field_names[f];
        cJSON *v;
        if (!spec_kind_uses(l->kind, f) || field_is_derived(l, seq_len, f))
            continue;
        switch (f) {
        case LF_ACTIVATION:
            v = cJSON_CreateString(spec_activation_names[l->activation]);
            break;
        case LF_NORM:
            v = cJSON_CreateString(spec_norm_names[l->norm]);
            break;
        case LF_POSITION:
            v = cJSON_CreateString(spec_position_names[l->position]);
            break;
        case LF_BIAS:
        case LF_TIED:
            v = cJSON_CreateBool(field_int(l, f) != 0);
            break;
        case LF_MAX_POSITIONS: /* only meaningful with learned positions */
            if (l->position != UNIAP_POS_LEARNED)
                continue;
            v = spec_json_int(l->max_positions);
            break;
        case LF_CAPACITY_FACTOR:
            v = cJSON_CreateNumber(l->capacity_factor);
            break;
        default:
            v = cJSON_CreateNumber((double)field_int(l, f));
            break;
        }
        if (!v)
            goto free_obj;
        cJSON_AddItemToObject(o, key, v);
    }
    cJSON_AddItemToArray(arr, o);
    return UNIAP_OK;
free_obj:
    cJSON_Delete(o);
    return uniap_err(UNIAP_ENOMEM, "model JSON: out of memory");
}

int uniap_model_to_json(const uniap_model *m, char **json)
{
    cJSON *root, *arr, *seq_len;
    int rc = UNIAP_OK;

    *json = NULL;
    root = cJSON_CreateObject();
    if (!root)
        return uniap_err(UNIAP_ENOMEM, "model JSON: out of memory");
    if (!cJSON_AddStringToObject(root, "name", m->name) || !(seq_len = spec_json_int(m->seq_len)) ||
        !cJSON_AddItemToObject(root, "seq_len", seq_len) ||
        !cJSON_AddStringToObject(root, "param_dtype", uniap_dtype_name(m->param_dtype)) ||
        !cJSON_AddStringToObject(root, "act_dtype", uniap_dtype_name(m->act_dtype)) ||
        !cJSON_AddBoolToObject(root, "mixed_precision", m->mixed_precision != 0) ||
        spec_training_to_json(m, root) < 0 || !(arr = cJSON_AddArrayToObject(root, "layers"))) {
        rc = uniap_err(UNIAP_ENOMEM, "model JSON: out of memory");
        goto free_root;
    }
    for (int r = 0; r < m->n_runs; r++) {
        if ((rc = add_layer_json(arr, &m->runs[r], m->seq_len)) < 0)
            goto free_root;
    }
    *json = cJSON_Print(root);
    if (!*json)
        rc = uniap_err(UNIAP_ENOMEM, "model JSON: out of memory");
free_root:
    cJSON_Delete(root);
    return rc;
}

/* Signature tokens: every field of the kind that changes time or memory,
 * in table order, tagged so that no two layers with different fields share
 * a signature. head_dim appears only when it is not hidden/heads (the
 * default), bias/tied, shared experts and a capacity factor only when set.
 * Example:
 *   decoder.h4096.a32.kv32.f11008.s2048.swiglu.rmsnorm.rope */
int uniap_layer_signature(const uniap_layer *l, char *buf, size_t n)
{
    static const char *const pos_tokens[4] = {"nopos", "learned", "rope", "relbias"};
    size_t o = 0;
    int len;

#define EMIT(...)                                                                                  \
    do {                                                                                           \
        len = snprintf(buf + o, o < n ? n - o : 0, __VA_ARGS__);                                   \
        if (len < 0)                                                                               \
            return uniap_err(UNIAP_EINVAL, "layer signature: format error");                       \
        o += (size_t)len;                                                                          \
    } while (0)

    assert(buf && n > 0);
    if (!uniap__layer_kind_get(l->kind))
        return uniap_err(UNIAP_EINVAL, "layer signature: expected a layer kind 0..%d, got %d",
                         uniap__layer_kind_count() - 1, (int)l->kind);
    EMIT("%s.h%lld", uniap_layer_kind_name(l->kind), (long long)l->hidden);
    if (spec_kind_uses(l->kind, LF_HEADS)) {
        EMIT(".a%d.kv%d", l->heads, l->kv_heads);
        if (l->heads > 0 && l->head_dim != l->hidden / l->heads)
            EMIT(".d%lld", (long long)l->head_dim);
    }
    if (spec_kind_uses(l->kind, LF_FFN))
        EMIT(".f%lld", (long long)l->ffn);
    if (spec_kind_uses(l->kind, LF_EXPERTS)) /* moe: .e8.k2[.se2][.cf1.25] */
        EMIT(".e%d.k%d", l->experts, l->top_k);
    if (spec_kind_uses(l->kind, LF_SHARED_EXPERTS) && l->shared_experts)
        EMIT(".se%d", l->shared_experts);
    if (spec_kind_uses(l->kind, LF_CAPACITY_FACTOR) && l->capacity_factor > 0)
        EMIT(".cf%g", l->capacity_factor);
    if (spec_kind_uses(l->kind, LF_OUT_HIDDEN))
        EMIT(".o%lld", (long long)l->out_hidden);
    if (spec_kind_uses(l->kind, LF_VOCAB))
        EMIT(".v%lld", (long long)l->vocab);
    if (spec_kind_uses(l->kind, LF_IMAGE))
        EMIT(".i%lld.p%d.c%d", (long long)l->image, l->patch, l->channels);
    EMIT(".s%lld", (long long)l->seq);
    if (spec_kind_uses(l->kind, LF_KV_SEQ))
        EMIT(".kvs%lld", (long long)l->kv_seq);
    if (spec_kind_uses(l->kind, LF_WINDOW))
        EMIT(".w%d", l->window);
    if (spec_kind_uses(l->kind, LF_ACTIVATION))
        EMIT(".%s", spec_activation_names[l->activation % 3]);
    if (spec_kind_uses(l->kind, LF_NORM))
        EMIT(".%s", spec_norm_names[l->norm % 2]);
    if (spec_kind_uses(l->kind, LF_POSITION))
        EMIT(".%s", pos_tokens[l->position % 4]);
    if (spec_kind_uses(l->kind, LF_MAX_POSITIONS) && l->position == UNIAP_POS_LEARNED)
        EMIT(".mp%lld", (long long)l->max_positions);
    if (spec_kind_uses(l->kind, LF_BIAS) && l->bias)
        EMIT(".bias");
    if (spec_kind_uses(l->kind, LF_TIED) && l->tied)
        EMIT(".tied");
    if (spec_kind_uses(l->kind, LF_HEADS) && l->flash_attn)
        EMIT(".flash"); /* no score tensor kept */
    if (l->no_dropout)
        EMIT(".nodrop");
    if (l->fp8)
        EMIT(".fp8"); /* Linear GEMMs in FP8: rows of their own */
#undef EMIT
    if (o >= n)
        return uniap_err(UNIAP_EINVAL, "layer signature: expected at most %zu characters, got %zu",
                         n - 1, o);
    return UNIAP_OK;
}
