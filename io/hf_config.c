/*
 * hf_config.c - Hugging Face `config.json` files read as uniap model specs
 * (issue 16 item 1): one descriptor per architecture family (the
 * `architectures` names it accepts and its builder), each builder reading
 * the config's fields into the layers of a uniap model spec, written as
 * uniap's own JSON and parsed by uniap_model_parse (so every check of a
 * spec applies). What the config describes and uniap's layer kinds do not
 * model is either refused by name (mixture-of-experts other than Mixtral's, a sliding window
 * shorter than the training length, an unknown activation) or, where it
 * only adds parameters no kernel of consequence runs on (BERT's token-type
 * embeddings, T5's relative-position buckets, Qwen2's q/k/v biases),
 * counted in uniap_hf_info.unmodelled_params and named in its notes, so
 * that modelled + unmodelled is the checkpoint's own parameter count.
 *
 * A new architecture: a builder below and a line in ARCHS.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_json.h"
#include "uniap_io.h"

/* What a builder reads from and writes to. */
typedef struct hf_ctx {
    const cJSON *cfg;
    const char *source, *arch;
    int64_t seq_len;   /* training length (set before the builder runs) */
    int seq_given;     /* asked for (else the default, which a builder may lower) */
    uniap_textbuf out; /* the layers' JSON */
    uniap_hf_info *info;
} hf_ctx;

static void note(hf_ctx *x, int64_t params, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note(hf_ctx *x, int64_t params, const char *fmt, ...)
{
    uniap_hf_info *in = x->info;
    size_t n = strlen(in->notes);
    va_list ap;

    in->unmodelled_params += params;
    if (n + 2 >= sizeof(in->notes))
        return;
    va_start(ap, fmt);
    vsnprintf(in->notes + n, sizeof(in->notes) - n - 1, fmt, ap);
    va_end(ap);
    n = strlen(in->notes);
    if (n + 1 < sizeof(in->notes))
        strcat(in->notes, "\n");
}

/* An integer field (null reads as absent): 1 read, 0 absent, < 0 bad. */
static int get_int(const hf_ctx *x, const char *key, int64_t min, int64_t *out)
{
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(x->cfg, key)))
        return 0;
    return spec_get_int(x->cfg, key, x->source, "", min, SPEC_INT_MAX, out);
}

/* A required integer field >= 1; EINVAL naming the file and the field. */
static int need_int(const hf_ctx *x, const char *key, int64_t *out)
{
    int rc = get_int(x, key, 1, out);
    if (rc == 0)
        return spec_missing(x->source, "", key, "a positive integer");
    return rc < 0 ? rc : 0;
}

static int get_bool(const hf_ctx *x, const char *key, int dflt, int *out)
{
    *out = dflt;
    if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(x->cfg, key)))
        return 0;
    int rc = spec_get_bool(x->cfg, key, x->source, "", out);
    return rc < 0 ? rc : 0;
}

/* The config's activation (key) as a uniap activation; gated says the MLP
 * has a gate projection (Llama-style). EINVAL naming an unknown one. */
static int activation(const hf_ctx *x, const char *key, const char *dflt, int gated,
                      const char **out)
{
    char act[64];
    int rc = spec_get_string(x->cfg, key, x->source, "", act, sizeof(act));
    if (rc < 0)
        return rc;
    if (rc == 0)
        snprintf(act, sizeof(act), "%s", dflt);
    if (gated && strcmp(act, "silu") == 0) {
        *out = "swiglu";
        return 0;
    }
    if (!gated && (strncmp(act, "gelu", 4) == 0 || strcmp(act, "quick_gelu") == 0)) {
        *out = "gelu";
        return 0;
    }
    if (!gated && strcmp(act, "relu") == 0) {
        *out = "relu";
        return 0;
    }
    return uniap_err(UNIAP_EINVAL,
                     "%s: %s: activation '%s' of a %s MLP is not one uniap models (%s expected)",
                     x->source, key, act, gated ? "gated" : "plain",
                     gated ? "silu" : "gelu, gelu_new, gelu_pytorch_tanh or relu");
}

/* Fields that make a model something uniap's layer kinds are not. */
static int refuse_unmodelled(const hf_ctx *x)
{
    static const char *const moe[] = {"num_local_experts", "num_experts", "n_routed_experts",
                                      "moe_num_experts"};
    for (size_t i = 0; i < sizeof(moe) / sizeof(moe[0]); i++) {
        int64_t n = 0;
        if (get_int(x, moe[i], 0, &n) > 0 && n > 1)
            return uniap_err(UNIAP_EINVAL,
                             "%s: %s: %lld experts: %s is a mixture-of-experts model, and uniap "
                             "reads the experts of MixtralForCausalLM only",
                             x->source, moe[i], (long long)n, x->arch);
    }
    return 0;
}

/* ---- decoder-only LMs ------------------------------------------------- */

/* Mixtral's experts (transformers' MixtralConfig: num_local_experts,
 * num_experts_per_tok; MixtralSparseMoeBlock: a bias-free h x E gate and E
 * SwiGLU experts of intermediate_size) as the fields of a moe layer, or ""
 * for a dense model. */
static int moe_fields(const hf_ctx *x, char *buf, size_t n)
{
    int64_t E, k;
    int rc;

    buf[0] = '\0';
    if (strcmp(x->arch, "MixtralForCausalLM") != 0)
        return 0;
    if ((rc = need_int(x, "num_local_experts", &E)) < 0 ||
        (rc = need_int(x, "num_experts_per_tok", &k)) < 0)
        return rc;
    if (k > E)
        return uniap_err(UNIAP_EINVAL,
                         "%s: num_experts_per_tok: expected at most num_local_experts (%lld), got "
                         "%lld",
                         x->source, (long long)E, (long long)k);
    snprintf(buf, n, ", \"experts\": %lld, \"top_k\": %lld", (long long)E, (long long)k);
    return 0;
}

/* Llama, Mistral, Qwen2, Mixtral: RMSNorm, rotary, gated SiLU MLP (Mixtral:
 * experts of it), GQA. */
static int build_llama(hf_ctx *x)
{
    int64_t h, L, a, kv, f, V, hd = 0;
    const char *act;
    char moe[96];
    int tied, abias = 0, mbias = 0, rc, qwen = strncmp(x->arch, "Qwen2", 5) == 0;

    if ((rc = need_int(x, "hidden_size", &h)) < 0 || (rc = need_int(x, "num_hidden_layers", &L)) ||
        (rc = need_int(x, "num_attention_heads", &a)) ||
        (rc = need_int(x, "intermediate_size", &f)) || (rc = need_int(x, "vocab_size", &V)))
        return rc;
    kv = a;
    if ((rc = get_int(x, "num_key_value_heads", 1, &kv)) < 0 ||
        (rc = get_int(x, "head_dim", 1, &hd)) < 0 ||
        (rc = activation(x, "hidden_act", "silu", 1, &act)) < 0 ||
        (rc = get_bool(x, "tie_word_embeddings", 0, &tied)) < 0 ||
        (rc = get_bool(x, "attention_bias", 0, &abias)) < 0 ||
        (rc = get_bool(x, "mlp_bias", 0, &mbias)) < 0 || (rc = moe_fields(x, moe, sizeof(moe))) < 0)
        return rc;
    if (abias != mbias)
        return uniap_err(UNIAP_EINVAL,
                         "%s: attention_bias %s but mlp_bias %s: uniap's layers carry biases on "
                         "every linear layer or on none",
                         x->source, abias ? "true" : "false", mbias ? "true" : "false");
    if (!hd)
        hd = h / a;
    int sliding = !qwen; /* Mistral's window is on unless the config says it is off */
    if ((rc = get_bool(x, "use_sliding_window", sliding, &sliding)) < 0)
        return rc;
    int64_t window = 0;
    if ((rc = get_int(x, "sliding_window", 1, &window)) < 0)
        return rc;
    if (sliding && window > 0 && window < x->seq_len && !x->seq_given) {
        x->seq_len = window; /* the default length stays inside the window */
        note(x, 0, "training length %lld: the sliding window (the default is capped at it)",
             (long long)window);
    }
    if (sliding && window > 0 && window < x->seq_len)
        return uniap_err(UNIAP_EINVAL,
                         "%s: sliding_window: %lld tokens, shorter than the training length %lld: "
                         "uniap models full causal attention only (train at --seq-len %lld or "
                         "less)",
                         x->source, (long long)window, (long long)x->seq_len, (long long)window);
    if (qwen) /* Qwen2 has biases on q, k and v only (transformers' Qwen2Attention) */
        note(x, L * (a * hd + 2 * kv * hd),
             "q/k/v projection biases not modelled: %lld parameters (%lld per layer)",
             (long long)(L * (a * hd + 2 * kv * hd)), (long long)(a * hd + 2 * kv * hd));
    uniap_textbuf_printf(&x->out,
                         "{\"type\": \"embedding\", \"hidden\": %lld, \"vocab\": %lld},"
                         "{\"type\": \"%s\", \"count\": %lld, \"hidden\": %lld, \"heads\": "
                         "%lld, \"kv_heads\": %lld, \"head_dim\": %lld, \"ffn\": %lld, "
                         "\"activation\": \"%s\", \"norm\": \"rmsnorm\", \"position\": \"rotary\", "
                         "\"bias\": %s%s},"
                         "{\"type\": \"head\", \"hidden\": %lld, \"vocab\": %lld, \"norm\": "
                         "\"rmsnorm\", \"tied\": %s}",
                         (long long)h, (long long)V, moe[0] ? "moe" : "decoder", (long long)L,
                         (long long)h, (long long)a, (long long)kv, (long long)hd, (long long)f,
                         act, abias ? "true" : "false", moe, (long long)h, (long long)V,
                         tied ? "true" : "false");
    return 0;
}

/* GPT-2: learned positions, LayerNorm, GELU, biases, tied head. */
static int build_gpt2(hf_ctx *x)
{
    int64_t h, L, a, P, V, f = 0;
    const char *act;
    int tied, rc;

    if ((rc = need_int(x, "n_embd", &h)) < 0 || (rc = need_int(x, "n_layer", &L)) ||
        (rc = need_int(x, "n_head", &a)) || (rc = need_int(x, "n_positions", &P)) ||
        (rc = need_int(x, "vocab_size", &V)) || (rc = get_int(x, "n_inner", 1, &f)) < 0 ||
        (rc = activation(x, "activation_function", "gelu_new", 0, &act)) < 0 ||
        (rc = get_bool(x, "tie_word_embeddings", 1, &tied)) < 0)
        return rc;
    if (!f)
        f = 4 * h; /* transformers' GPT2MLP: n_inner null = 4 n_embd */
    uniap_textbuf_printf(&x->out,
                         "{\"type\": \"embedding\", \"hidden\": %lld, \"vocab\": %lld, "
                         "\"position\": \"learned\", \"max_positions\": %lld},"
                         "{\"type\": \"decoder\", \"count\": %lld, \"hidden\": %lld, \"heads\": "
                         "%lld, \"ffn\": %lld, \"activation\": \"%s\", \"norm\": \"layernorm\", "
                         "\"bias\": true},"
                         "{\"type\": \"head\", \"hidden\": %lld, \"vocab\": %lld, \"norm\": "
                         "\"layernorm\", \"tied\": %s}",
                         (long long)h, (long long)V, (long long)P, (long long)L, (long long)h,
                         (long long)a, (long long)f, act, (long long)h, (long long)V,
                         tied ? "true" : "false");
    return 0;
}

/* GPT-NeoX / Pythia: rotary (partial: rotary_pct, no parameters),
 * LayerNorm, GELU, biases, untied embed_out; the parallel residual
 * changes neither parameters nor FLOPs. */
static int build_neox(hf_ctx *x)
{
    int64_t h, L, a, f, V;
    const char *act;
    int tied, bias, rc;

    if ((rc = need_int(x, "hidden_size", &h)) < 0 || (rc = need_int(x, "num_hidden_layers", &L)) ||
        (rc = need_int(x, "num_attention_heads", &a)) ||
        (rc = need_int(x, "intermediate_size", &f)) || (rc = need_int(x, "vocab_size", &V)) ||
        (rc = activation(x, "hidden_act", "gelu", 0, &act)) < 0 ||
        (rc = get_bool(x, "tie_word_embeddings", 0, &tied)) < 0 ||
        (rc = get_bool(x, "attention_bias", 1, &bias)) < 0)
        return rc;
    if (!bias)
        return uniap_err(UNIAP_EINVAL,
                         "%s: attention_bias false with biased MLPs: uniap's layers carry biases "
                         "on every linear layer or on none",
                         x->source);
    uniap_textbuf_printf(&x->out,
                         "{\"type\": \"embedding\", \"hidden\": %lld, \"vocab\": %lld},"
                         "{\"type\": \"decoder\", \"count\": %lld, \"hidden\": %lld, \"heads\": "
                         "%lld, \"ffn\": %lld, \"activation\": \"%s\", \"norm\": \"layernorm\", "
                         "\"position\": \"rotary\", \"bias\": true},"
                         "{\"type\": \"head\", \"hidden\": %lld, \"vocab\": %lld, \"norm\": "
                         "\"layernorm\", \"tied\": %s}",
                         (long long)h, (long long)V, (long long)L, (long long)h, (long long)a,
                         (long long)f, act, (long long)h, (long long)V, tied ? "true" : "false");
    return 0;
}

/* ---- encoders and encoder-decoders ------------------------------------ */

/* BERT, trained as its masked-LM pretraining: learned positions, encoders,
 * the MLM head tied to the embedding with its output bias. */
static int build_bert(hf_ctx *x)
{
    int64_t h, L, a, f, V, P, types = 2;
    const char *act;
    int rc;

    if ((rc = need_int(x, "hidden_size", &h)) < 0 || (rc = need_int(x, "num_hidden_layers", &L)) ||
        (rc = need_int(x, "num_attention_heads", &a)) ||
        (rc = need_int(x, "intermediate_size", &f)) || (rc = need_int(x, "vocab_size", &V)) ||
        (rc = need_int(x, "max_position_embeddings", &P)) ||
        (rc = get_int(x, "type_vocab_size", 0, &types)) < 0 ||
        (rc = activation(x, "hidden_act", "gelu", 0, &act)) < 0)
        return rc;
    note(x, types * h, "token-type embeddings not modelled: %lld parameters",
         (long long)(types * h));
    note(x, 2 * h, "the embeddings' LayerNorm not modelled: %lld parameters", (long long)(2 * h));
    note(x, h * h + h,
         "the MLM head's transform dense layer not modelled (its LayerNorm is the head's): %lld "
         "parameters",
         (long long)(h * h + h));
    uniap_textbuf_printf(&x->out,
                         "{\"type\": \"embedding\", \"hidden\": %lld, \"vocab\": %lld, "
                         "\"position\": \"learned\", \"max_positions\": %lld},"
                         "{\"type\": \"encoder\", \"count\": %lld, \"hidden\": %lld, \"heads\": "
                         "%lld, \"ffn\": %lld, \"activation\": \"%s\", \"norm\": \"layernorm\", "
                         "\"bias\": true},"
                         "{\"type\": \"head\", \"hidden\": %lld, \"vocab\": %lld, \"norm\": "
                         "\"layernorm\", \"tied\": true, \"bias\": true}",
                         (long long)h, (long long)V, (long long)P, (long long)L, (long long)h,
                         (long long)a, (long long)f, act, (long long)h, (long long)V);
    return 0;
}

/* T5: shared embedding, encoders, cross-attending decoders, RMSNorm
 * without bias (T5LayerNorm), no biases, relative position buckets. */
static int build_t5(hf_ctx *x)
{
    int64_t h, L, Ld, a, dkv, f, V, buckets = 32;
    char proj[32] = "relu";
    int tied, rc;

    if ((rc = need_int(x, "d_model", &h)) < 0 || (rc = need_int(x, "num_layers", &L)) ||
        (rc = need_int(x, "num_heads", &a)) || (rc = need_int(x, "d_kv", &dkv)) ||
        (rc = need_int(x, "d_ff", &f)) || (rc = need_int(x, "vocab_size", &V)) ||
        (rc = get_int(x, "relative_attention_num_buckets", 1, &buckets)) < 0 ||
        (rc = get_bool(x, "tie_word_embeddings", 1, &tied)) < 0 ||
        (rc = spec_get_string(x->cfg, "feed_forward_proj", x->source, "", proj, sizeof(proj))) < 0)
        return rc;
    Ld = L;
    if ((rc = get_int(x, "num_decoder_layers", 1, &Ld)) < 0)
        return rc;
    if (strcmp(proj, "relu") != 0)
        return uniap_err(UNIAP_EINVAL,
                         "%s: feed_forward_proj: '%s': uniap models T5's plain relu MLP only "
                         "(gated-gelu is T5 v1.1's gated MLP)",
                         x->source, proj);
    note(x, 2 * buckets * a,
         "relative-position buckets of the encoder and decoder not modelled: %lld parameters",
         (long long)(2 * buckets * a));
    note(x, h, "the encoder's final RMSNorm not modelled: %lld parameters", (long long)h);
    uniap_textbuf_printf(&x->out,
                         "{\"type\": \"embedding\", \"hidden\": %lld, \"vocab\": %lld},"
                         "{\"type\": \"encoder\", \"count\": %lld, \"hidden\": %lld, \"heads\": "
                         "%lld, \"head_dim\": %lld, \"ffn\": %lld, \"activation\": \"relu\", "
                         "\"norm\": \"rmsnorm\", \"position\": \"relative\"},"
                         "{\"type\": \"cross_decoder\", \"count\": %lld, \"hidden\": %lld, "
                         "\"heads\": %lld, \"head_dim\": %lld, \"ffn\": %lld, \"activation\": "
                         "\"relu\", \"norm\": \"rmsnorm\", \"position\": \"relative\"},"
                         "{\"type\": \"head\", \"hidden\": %lld, \"vocab\": %lld, \"norm\": "
                         "\"rmsnorm\", \"tied\": %s}",
                         (long long)h, (long long)V, (long long)L, (long long)h, (long long)a,
                         (long long)dkv, (long long)f, (long long)Ld, (long long)h, (long long)a,
                         (long long)dkv, (long long)f, (long long)h, (long long)V,
                         tied ? "true" : "false");
    return 0;
}

/* ViT: patch embedding with the class token and learned positions,
 * encoders, the final LayerNorm with the classifier (ViTForImageClassification:
 * num_labels from id2label) or the pooler (ViTModel: an h x h dense layer,
 * the same parameters as a head of h classes). The length is the image's
 * patches + the class token. */
static int build_vit(hf_ctx *x)
{
    int64_t h, L, a, f, img, patch, ch = 3, classes;
    const char *act;
    int qkv_bias = 1, rc;

    if ((rc = need_int(x, "hidden_size", &h)) < 0 || (rc = need_int(x, "num_hidden_layers", &L)) ||
        (rc = need_int(x, "num_attention_heads", &a)) ||
        (rc = need_int(x, "intermediate_size", &f)) || (rc = need_int(x, "image_size", &img)) ||
        (rc = need_int(x, "patch_size", &patch)) || (rc = get_int(x, "num_channels", 1, &ch)) < 0 ||
        (rc = activation(x, "hidden_act", "gelu", 0, &act)) < 0 ||
        (rc = get_bool(x, "qkv_bias", 1, &qkv_bias)) < 0)
        return rc;
    if (!qkv_bias)
        return uniap_err(UNIAP_EINVAL,
                         "%s: qkv_bias false with biased MLPs: uniap's layers carry biases on "
                         "every linear layer or on none",
                         x->source);
    int64_t seq = (img / patch) * (img / patch) + 1;
    if (x->seq_given && x->seq_len != seq)
        return uniap_err(UNIAP_EINVAL,
                         "%s: image_size %lld / patch_size %lld: %lld tokens, not the %lld asked "
                         "for (a ViT's length is its image's patches + the class token)",
                         x->source, (long long)img, (long long)patch, (long long)seq,
                         (long long)x->seq_len);
    x->seq_len = seq;
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(x->cfg, "id2label");
    int classifier = strcmp(x->arch, "ViTForImageClassification") == 0;
    classes = classifier ? (cJSON_IsObject(labels) ? cJSON_GetArraySize(labels) : 2) : h;
    if (!classifier)
        note(x, 0, "the pooler (dense h x h + tanh) costed as a head of %lld classes",
             (long long)h);
    uniap_textbuf_printf(&x->out,
                         "{\"type\": \"patch_embed\", \"hidden\": %lld, \"image\": %lld, "
                         "\"patch\": %lld, \"channels\": %lld, \"position\": \"learned\"},"
                         "{\"type\": \"encoder\", \"count\": %lld, \"hidden\": %lld, \"heads\": "
                         "%lld, \"ffn\": %lld, \"activation\": \"%s\", \"norm\": \"layernorm\", "
                         "\"bias\": true},"
                         "{\"type\": \"head\", \"hidden\": %lld, \"vocab\": %lld, \"norm\": "
                         "\"layernorm\", \"bias\": true}",
                         (long long)h, (long long)img, (long long)patch, (long long)ch,
                         (long long)L, (long long)h, (long long)a, (long long)f, act, (long long)h,
                         (long long)classes);
    return 0;
}

/* ---- the table ---------------------------------------------------------- */

typedef struct hf_arch {
    const char *names[4]; /* `architectures` entries accepted */
    const char *pos_key;  /* the config's longest sequence ("" none) */
    int (*build)(hf_ctx *x);
} hf_arch;

static const hf_arch ARCHS[] = {
    {{"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "MixtralForCausalLM"},
     "max_position_embeddings",
     build_llama},
    {{"GPT2LMHeadModel", "GPT2Model"}, "n_positions", build_gpt2},
    {{"GPTNeoXForCausalLM"}, "max_position_embeddings", build_neox},
    {{"BertForMaskedLM", "BertModel", "BertForPreTraining"}, "max_position_embeddings", build_bert},
    {{"T5ForConditionalGeneration", "T5Model"}, "n_positions", build_t5},
    {{"ViTForImageClassification", "ViTModel"}, "", build_vit},
};
#define N_ARCHS (sizeof(ARCHS) / sizeof(ARCHS[0]))

static const hf_arch *find_arch(const char *name)
{
    for (size_t i = 0; i < N_ARCHS; i++)
        for (int j = 0; j < 4 && ARCHS[i].names[j]; j++)
            if (strcmp(ARCHS[i].names[j], name) == 0)
                return &ARCHS[i];
    return NULL;
}

int uniap_hf_is_config(const char *json)
{
    cJSON *root = cJSON_Parse(json);
    int hf = cJSON_IsObject(root) && !cJSON_GetObjectItemCaseSensitive(root, "layers") &&
             (cJSON_GetObjectItemCaseSensitive(root, "architectures") ||
              cJSON_GetObjectItemCaseSensitive(root, "model_type"));
    cJSON_Delete(root);
    return hf;
}

/* The architecture named by the config (its first `architectures` entry),
 * refused by name when uniap has no builder for it. */
static int config_arch(const cJSON *root, const char *source, char *arch, size_t n,
                       const hf_arch **out)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    const cJSON *first = cJSON_IsArray(list) ? cJSON_GetArrayItem(list, 0) : NULL;
    char known[512] = "";

    if (!cJSON_IsString(first))
        return uniap_err(UNIAP_EINVAL,
                         "%s: architectures: expected a list naming the model class, e.g. "
                         "[\"LlamaForCausalLM\"], got %s",
                         source, list ? "no string at [0]" : "nothing (field missing)");
    snprintf(arch, n, "%s", first->valuestring);
    if ((*out = find_arch(arch)))
        return 0;
    for (size_t i = 0; i < N_ARCHS; i++)
        for (int j = 0; j < 4 && ARCHS[i].names[j]; j++)
            snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s%s",
                     known[0] ? ", " : "", ARCHS[i].names[j]);
    return uniap_err(UNIAP_EINVAL,
                     "%s: architectures: '%s' is not an architecture uniap reads (%s)", source,
                     arch, known);
}

/* The training length: seq_len when > 0, else the config's longest
 * sequence capped at UNIAP_HF_SEQ_CAP. */
static int training_length(hf_ctx *x, const hf_arch *a, int64_t seq_len)
{
    int64_t P = 0;
    int rc = a->pos_key[0] ? get_int(x, a->pos_key, 1, &P) : 0;
    if (rc < 0)
        return rc;
    if (!a->pos_key[0]) { /* the builder derives the length (ViT: its patches) */
        x->seq_given = seq_len > 0;
        x->seq_len = seq_len;
        return 0;
    }
    if (seq_len > 0 && P > 0 && seq_len > P && a->build != build_llama && a->build != build_neox)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s: %lld positions, fewer than the training length %lld asked for "
                         "(learned positions cannot be extended)",
                         x->source, a->pos_key, (long long)P, (long long)seq_len);
    x->seq_given = seq_len > 0;
    x->seq_len = seq_len > 0 ? seq_len : P > 0 ? (P < UNIAP_HF_SEQ_CAP ? P : UNIAP_HF_SEQ_CAP) : 0;
    if (x->seq_len <= 0)
        return uniap_err(UNIAP_EINVAL, "%s: %s: no training length: give one (--seq-len)",
                         x->source, a->pos_key);
    return 0;
}

int uniap_model_from_hf(const char *json, const char *source, int64_t seq_len, uniap_model *out,
                        uniap_hf_info *info)
{
    uniap_hf_info local;
    hf_ctx x = {0};
    const hf_arch *a;
    cJSON *root = NULL;
    char arch[64], dtype[32] = "bfloat16";
    int rc;

    memset(out, 0, sizeof(*out));
    info = info ? info : &local;
    memset(info, 0, sizeof(*info));
    if ((rc = spec_parse_text(json, source, &root)) < 0)
        return rc;
    x.cfg = root;
    x.source = source;
    x.info = info;
    if ((rc = config_arch(root, source, arch, sizeof(arch), &a)) < 0)
        goto free_root;
    x.arch = arch;
    snprintf(info->architecture, sizeof(info->architecture), "%s", arch);
    if ((strcmp(arch, "MixtralForCausalLM") != 0 && (rc = refuse_unmodelled(&x)) < 0) ||
        (rc = training_length(&x, a, seq_len)) < 0 ||
        (rc = spec_get_string(root, "torch_dtype", source, "", dtype, sizeof(dtype))) < 0 ||
        (rc = a->build(&x)) < 0)
        goto free_out;
    /* the model's name: the checkpoint's (its last path part), else the class */
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(root, "_name_or_path");
    const char *name = cJSON_IsString(nm) && nm->valuestring[0] ? nm->valuestring : arch;
    if (strrchr(name, '/') && strrchr(name, '/')[1])
        name = strrchr(name, '/') + 1;
    char safe[64];
    size_t k = 0;
    for (; name[k] && k + 1 < sizeof(safe); k++)
        safe[k] = isalnum((unsigned char)name[k]) || strchr("-_.", name[k]) ? name[k] : '_';
    safe[k] = 0;
    const char *pd = strcmp(dtype, "float32") == 0   ? "fp32"
                     : strcmp(dtype, "float16") == 0 ? "fp16"
                                                     : "bf16";
    uniap_textbuf spec = {0};
    uniap_textbuf_printf(&spec,
                         "{\"name\": \"%s\", \"seq_len\": %lld, \"param_dtype\": \"%s\", "
                         "\"layers\": [%s]}",
                         safe, (long long)x.seq_len, pd, x.out.s ? x.out.s : "");
    if (spec.oom || x.out.oom)
        rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory", source);
    else
        rc = uniap_model_parse(spec.s, source, out);
    free(spec.s);
free_out:
    free(x.out.s);
free_root:
    cJSON_Delete(root);
    if (rc < 0)
        memset(info, 0, sizeof(*info));
    return rc;
}
