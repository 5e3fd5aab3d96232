/*
 * model_spec.c - the model spec: JSON text -> uniap_model, with the
 * defaults and the validation of every layer: the fields the kinds share
 * here, each kind's own in its descriptor (layer_kinds.c); the JSON form
 * and the signature are in model_format.c. A spec is strict: an
 * unknown key, a key the layer kind does not use, a mistyped value or an
 * impossible shape is refused with "<file>: <json path>: expected ..., got
 * ...". Loading by zoo name or file path is uniap_model_resolve().
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "layer_kinds.h"
#include "training_json.h"

static const char *const model_keys[] = {
    "name", "seq_len", "param_dtype", "act_dtype", "mixed_precision", "layers", SPEC_TRAINING_KEYS};
static const char *const dtype_names[] = {"fp32", "fp16", "bf16"};

/* Refuses a key that is a layer field but not one this kind uses. */
static int check_layer_keys(const cJSON *jl, uniap_layer_kind kind, const char *source,
                            const char *path)
{
    const char *allowed[LF_N + 1];
    int n = 0;
    const cJSON *it;

    allowed[n++] = "type";
    for (int f = 0; f < LF_N; f++) {
        if (spec_kind_uses(kind, f))
            allowed[n++] = spec_layer_field_names[f];
    }
    cJSON_ArrayForEach(it, jl)
    {
        for (int f = 0; f < LF_N; f++) {
            if (it->string && strcmp(it->string, spec_layer_field_names[f]) == 0 &&
                !spec_kind_uses(kind, f))
                return uniap_err(UNIAP_EINVAL,
                                 "%s: %s.%s: expected only fields a %s layer uses, got a field "
                                 "of other layer kinds",
                                 source, path, it->string, uniap_layer_kind_name(kind));
        }
    }
    return spec_check_keys(jl, source, path, allowed, n);
}

/* Reads the attention fields (heads required, kv_heads default heads,
 * head_dim default hidden / heads) into l and checks their shape. */
static int parse_attention(const cJSON *jl, const char *source, const char *path, uniap_layer *l)
{
    int64_t v;
    int rc_ = 0;

    JSON_CHECK(spec_layer_get_int(jl, LF_HEADS, source, path, 1, MAX_HEADS, &v), fail);
    if (!rc_)
        return spec_missing(source, path, "heads", "a positive integer");
    l->heads = (int)v;
    l->kv_heads = l->heads;
    JSON_CHECK(spec_layer_get_int(jl, LF_KV_HEADS, source, path, 1, MAX_HEADS, &v), fail);
    if (rc_)
        l->kv_heads = (int)v;
    JSON_CHECK(spec_layer_get_int(jl, LF_HEAD_DIM, source, path, 1, MAX_HIDDEN, &l->head_dim),
               fail);
    if (!rc_) {
        if (l->hidden % l->heads != 0)
            return uniap_err(UNIAP_EINVAL,
                             "%s: %s.heads: expected a divisor of hidden (%lld) or an "
                             "explicit head_dim, got %d",
                             source, path, (long long)l->hidden, l->heads);
        l->head_dim = l->hidden / l->heads;
    }
    if (l->heads % l->kv_heads != 0)
        return uniap_err(UNIAP_EINVAL, "%s: %s.kv_heads: expected a divisor of heads (%d), got %d",
                         source, path, l->heads, l->kv_heads);
    if ((int64_t)l->heads * l->head_dim > MAX_ATTN_WIDTH)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s.head_dim: expected heads * head_dim <= %lld, got %d * %lld",
                         source, path, (long long)MAX_ATTN_WIDTH, l->heads, (long long)l->head_dim);
    return UNIAP_OK;
fail:
    return rc_;
}

/* Reads "type" into l->kind: one of the kinds' names. */
static int parse_kind(const cJSON *jl, const char *source, const char *path, uniap_layer *l)
{
    const char *names[UNIAP_LAYER_KIND_MAX];
    char list[256], expected[300];
    int n = uniap__layer_kind_count(), kind = 0, rc;
    size_t o = 0;

    for (int k = 0; k < n; k++)
        names[k] = uniap__layer_kind_get((uniap_layer_kind)k)->name;
    if ((rc = spec_get_enum(jl, "type", source, path, names, n, &kind)) < 0)
        return rc;
    if (rc == 0) {
        list[0] = '\0';
        for (int k = 0; k < n && o + 1 < sizeof(list); k++)
            o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", k ? "|" : "", names[k]);
        snprintf(expected, sizeof(expected), "a layer type (%s)", list);
        return spec_missing(source, path, "type", expected);
    }
    l->kind = (uniap_layer_kind)kind;
    return UNIAP_OK;
}

/* Fills l from the JSON object of layers[idx] and validates it: the shared
 * fields its kind uses here, then the kind's own (its descriptor's parse,
 * layer_kinds.c). */
static int parse_layer(const cJSON *jl, int idx, const char *source, int64_t seq_len,
                       uniap_layer *l)
{
    const spec_layer_kind *d;
    char path[32], got[160];
    int e = 0, rc_ = 0;
    int64_t v;

    memset(l, 0, sizeof(*l));
    snprintf(path, sizeof(path), "layers[%d]", idx);
    if (!cJSON_IsObject(jl))
        return uniap_err(UNIAP_EINVAL, "%s: %s: expected a layer object, got %s", source, path,
                         spec_describe(jl, got, sizeof(got)));
    JSON_CHECK(parse_kind(jl, source, path, l), fail);
    d = uniap__layer_kind_get(l->kind);
    JSON_CHECK(check_layer_keys(jl, l->kind, source, path), fail);

    /* count, hidden, seq: every kind */
    l->count = 1;
    JSON_CHECK(spec_layer_get_int(jl, LF_COUNT, source, path, 1, MAX_COUNT, &v), fail);
    if (rc_)
        l->count = (int)v;
    JSON_CHECK(spec_layer_get_int(jl, LF_HIDDEN, source, path, 1, MAX_HIDDEN, &l->hidden), fail);
    if (!rc_)
        return spec_missing(source, path, "hidden", "a positive integer");
    l->seq = seq_len;
    JSON_CHECK(spec_layer_get_int(jl, LF_SEQ, source, path, 1, MAX_TOKENS, &l->seq), fail);

    if (spec_kind_uses(l->kind, LF_HEADS))
        JSON_CHECK(parse_attention(jl, source, path, l), fail);
    if (spec_kind_uses(l->kind, LF_FFN)) {
        JSON_CHECK(spec_layer_get_int(jl, LF_FFN, source, path, 1, MAX_FFN, &l->ffn), fail);
        if (!rc_)
            return spec_missing(source, path, "ffn", "a positive integer (FFN inner width)");
    }
    if (spec_kind_uses(l->kind, LF_ACTIVATION)) {
        JSON_CHECK(spec_get_enum(jl, "activation", source, path, spec_activation_names, 3, &e),
                   fail);
        l->activation = rc_ ? (uniap_activation)e : UNIAP_ACT_GELU;
    }
    if (spec_kind_uses(l->kind, LF_NORM)) {
        JSON_CHECK(spec_get_enum(jl, "norm", source, path, spec_norm_names, 2, &e), fail);
        l->norm = rc_ ? (uniap_norm)e : UNIAP_NORM_LAYERNORM;
    }
    if (spec_kind_uses(l->kind, LF_POSITION)) {
        l->position = d->position;
        JSON_CHECK(spec_get_enum(jl, "position", source, path, spec_position_names, 4, &e), fail);
        if (rc_)
            l->position = (uniap_position)e;
    }
    if (spec_kind_uses(l->kind, LF_BIAS))
        JSON_CHECK(spec_get_bool(jl, "bias", source, path, &l->bias), fail);
    if (d->parse)
        JSON_CHECK(d->parse(jl, source, path, seq_len, l), fail);
    return UNIAP_OK;
fail:
    return rc_;
}

/* Checks layer idx against the chain: its input width is the width the
 * previous layer outputs (out_hidden after a patch_merge, else hidden), and
 * its signature fits a profile's layer_type field. */
static int check_chain(const uniap_layer *runs, int idx, const char *source)
{
    char sig[sizeof(((uniap_layer_prof *)0)->layer_type)];
    const uniap_layer *l = &runs[idx], *prev = idx > 0 ? &runs[idx - 1] : NULL;

    if (prev) {
        const spec_layer_kind *pd = uniap__layer_kind_get(prev->kind);
        int64_t width = pd && pd->out_width ? pd->out_width(prev) : prev->hidden;
        if (l->hidden != width)
            return uniap_err(UNIAP_EINVAL,
                             "%s: layers[%d].hidden: expected %lld (the width layers[%d] "
                             "outputs), got %lld",
                             source, idx, (long long)width, idx - 1, (long long)l->hidden);
    }
    if (uniap_layer_signature(l, sig, sizeof(sig)) < 0) {
        uniap_err_clear();
        return uniap_err(UNIAP_EINVAL,
                         "%s: layers[%d]: expected a layer whose signature fits %zu characters, "
                         "got a longer one",
                         source, idx, sizeof(sig) - 1);
    }
    return UNIAP_OK;
}

int uniap_model_parse(const char *json, const char *source, uniap_model *out)
{
    cJSON *root = NULL, *layers, *jl;
    uniap_model m;
    int rc_ = 0, e = 0, idx = 0;
    int64_t total = 0;
    double total_params = 0;
    char got[160];

    assert(out);
    memset(out, 0, sizeof(*out));
    memset(&m, 0, sizeof(m));
    if (!source)
        source = "(model spec)";
    JSON_CHECK(spec_parse_text(json, source, &root), fail);
    JSON_CHECK(spec_check_keys(root, source, "", model_keys, 6 + SPEC_TRAINING_N_KEYS), free_root);

    spec_default_name(source, m.name, sizeof(m.name));
    JSON_CHECK(spec_get_string(root, "name", source, "", m.name, sizeof(m.name)), free_root);
    JSON_CHECK(spec_get_int(root, "seq_len", source, "", 1, MAX_TOKENS, &m.seq_len), free_root);
    if (!rc_) {
        rc_ = spec_missing(source, "", "seq_len", "a positive integer (tokens per sample)");
        goto free_root;
    }
    m.param_dtype = UNIAP_DTYPE_BF16;
    JSON_CHECK(spec_get_enum(root, "param_dtype", source, "", dtype_names, 3, &e), free_root);
    if (rc_)
        m.param_dtype = (uniap_dtype)e;
    m.act_dtype = m.param_dtype;
    JSON_CHECK(spec_get_enum(root, "act_dtype", source, "", dtype_names, 3, &e), free_root);
    if (rc_)
        m.act_dtype = (uniap_dtype)e;
    m.mixed_precision = 1;
    JSON_CHECK(spec_get_bool(root, "mixed_precision", source, "", &m.mixed_precision), free_root);

    layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 1) {
        rc_ = uniap_err(
            UNIAP_EINVAL, "%s: layers: expected a non-empty array of layers, got %s", source,
            cJSON_IsArray(layers) ? "an empty array" : spec_describe(layers, got, sizeof(got)));
        goto free_root;
    }
    m.n_runs = cJSON_GetArraySize(layers);
    m.runs = calloc((size_t)m.n_runs, sizeof(*m.runs));
    if (!m.runs) {
        rc_ = uniap_err(UNIAP_ENOMEM, "%s: out of memory for %d layer runs", source, m.n_runs);
        goto free_root;
    }
    cJSON_ArrayForEach(jl, layers)
    {
        JSON_CHECK(parse_layer(jl, idx, source, m.seq_len, &m.runs[idx]), free_runs);
        JSON_CHECK(check_chain(m.runs, idx, source), free_runs);
        total += m.runs[idx].count;
        total_params += (double)uniap_layer_params(&m.runs[idx]) * m.runs[idx].count;
        if (total_params > MAX_PARAMS) {
            rc_ = uniap_err(UNIAP_EINVAL,
                            "%s: layers[%d]: expected at most %.0e parameters in all, got %.3g",
                            source, idx, MAX_PARAMS, total_params);
            goto free_runs;
        }
        if (total > MAX_LAYERS) {
            rc_ = uniap_err(UNIAP_EINVAL,
                            "%s: layers[%d].count: expected at most %d layers in all, got %lld",
                            source, idx, MAX_LAYERS, (long long)total);
            goto free_runs;
        }
        idx++;
    }
    m.n_layers = (int)total;
    JSON_CHECK(spec_parse_training(root, source, &m), free_runs);
    cJSON_Delete(root);
    *out = m;
    return UNIAP_OK;

free_runs:
    free(m.runs);
free_root:
    cJSON_Delete(root);
fail:
    return rc_;
}

static uniap_hf_info last_hf;

const uniap_hf_info *uniap_model_hf_info(void)
{
    return &last_hf;
}

int uniap_model_load(const char *path, uniap_model *out)
{
    char *text = NULL, cfg[4096];
    struct stat st;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&last_hf, 0, sizeof(last_hf));
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) { /* a Hugging Face model folder */
        snprintf(cfg, sizeof(cfg), "%s/config.json", path);
        path = cfg;
    }
    if ((rc = uniap_read_file(path, &text, NULL)) < 0)
        return rc;
    if (uniap_hf_is_config(text))
        rc = uniap_model_from_hf(text, path, 0, out, &last_hf);
    else
        rc = uniap_model_parse(text, path, out);
    free(text);
    return rc;
}

void uniap_model_free(uniap_model *m)
{
    if (!m)
        return;
    free(m->runs);
    memset(m, 0, sizeof(*m));
}

int uniap_model_resolve(const char *name_or_path, uniap_model *out)
{
    const char *const *zoo = uniap_zoo_models();
    struct stat st;

    memset(out, 0, sizeof(*out));
    for (int i = 0; zoo[i]; i++) {
        if (strcmp(zoo[i], name_or_path) == 0)
            return uniap_zoo_model(name_or_path, out);
    }
    if (stat(name_or_path, &st) != 0) {
        char list[512];
        size_t o = 0;
        list[0] = '\0';
        for (int i = 0; zoo[i] && o + 1 < sizeof(list); i++)
            o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", zoo[i]);
        return uniap_err(UNIAP_EINVAL,
                         "%s: expected a zoo model (%s) or a model spec file, got no such "
                         "name or file (%s)",
                         name_or_path, list, strerror(errno));
    }
    return uniap_model_load(name_or_path, out);
}

int uniap_model_run_of(const uniap_model *m, int u)
{
    int first = 0;

    assert(m && u >= 0 && u < m->n_layers);
    for (int r = 0; r < m->n_runs; r++) {
        first += m->runs[r].count;
        if (u < first)
            return r;
    }
    return -1;
}

int uniap_model_has_experts(const uniap_model *m)
{
    int moe = 0;

    for (int r = 0; r < m->n_runs; r++)
        moe |= m->runs[r].experts > 0;
    return moe;
}

int uniap_model_set_seq_len(uniap_model *m, int64_t seq_len, const char *what)
{
    char *json = NULL, *text = NULL;
    cJSON *root = NULL;
    uniap_model next;
    int rc;

    if (seq_len < 1 || seq_len > SPEC_INT_MAX)
        return uniap_err(UNIAP_EINVAL, "%s: expected a training length >= 1 token, got %lld", what,
                         (long long)seq_len);
    /* through the canonical spec: the layers that take the model's length
     * (those that state none of their own) follow it, and the parser
     * checks the result (learned positions cover it) */
    if ((rc = uniap_model_to_json(m, &json)) < 0)
        return rc;
    root = cJSON_Parse(json);
    cJSON *v = root ? cJSON_GetObjectItemCaseSensitive(root, "seq_len") : NULL;
    if (!v || !cJSON_IsNumber(v)) {
        rc = uniap_err(UNIAP_EINTERNAL, "%s: the canonical model spec has no seq_len", what);
        goto free_json;
    }
    cJSON_SetNumberValue(v, (double)seq_len);
    if (!(text = cJSON_PrintUnformatted(root))) {
        rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory", what);
        goto free_json;
    }
    if ((rc = uniap_model_parse(text, what, &next)) == 0) {
        uniap_model_free(m);
        *m = next;
    }
    free(text);
free_json:
    cJSON_Delete(root);
    free(json);
    return rc;
}

int uniap_model_resolve_seq(const char *name_or_path, int64_t seq_len, uniap_model *out)
{
    char cfg[4096], *text = NULL;
    struct stat st;
    int rc;

    if (seq_len <= 0)
        return uniap_model_resolve(name_or_path, out);
    memset(out, 0, sizeof(*out));
    /* a Hugging Face config is read at that length (its own limits: a
     * sliding window, learned positions) */
    if (stat(name_or_path, &st) == 0) {
        snprintf(cfg, sizeof(cfg), S_ISDIR(st.st_mode) ? "%s/config.json" : "%s", name_or_path);
        if ((rc = uniap_read_file(cfg, &text, NULL)) < 0)
            return rc;
        int hf = uniap_hf_is_config(text);
        if (hf) {
            memset(&last_hf, 0, sizeof(last_hf));
            rc = uniap_model_from_hf(text, cfg, seq_len, out, &last_hf);
        }
        free(text);
        if (hf)
            return rc;
    }
    if ((rc = uniap_model_resolve(name_or_path, out)) < 0)
        return rc;
    if ((rc = uniap_model_set_seq_len(out, seq_len, "--seq-len")) < 0)
        uniap_model_free(out);
    return rc;
}
