/*
 * test_hf.c - Hugging Face config.json read as model specs (io/hf_config.c)
 * against the published parameter counts of eight real checkpoints
 * (tests/data/hf/README.md): the modelled parameters plus what the reader
 * reports as not modelled equal the checkpoint's count exactly; the shapes
 * land in the right fields; the training length defaults and overrides;
 * what uniap cannot model is refused naming the file and the field.
 * Usage: test_io_hf <tests/data/hf>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "uniap_io.h"

static const char *dir;

static int load(const char *name, uniap_model *m)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return uniap_model_load(path, m);
}

/* The checkpoint's count: modelled + not modelled. */
static int64_t checkpoint_params(const uniap_model *m)
{
    return uniap_model_params(m) + uniap_model_hf_info()->unmodelled_params;
}

static void test_published_counts(void)
{
    static const struct {
        const char *name;
        int64_t published, unmodelled;
    } cases[] = {
        /* fully modelled: every parameter in uniap's layers */
        {"llama-3-8b", 8030261248LL, 0},
        {"llama-3-70b", 70553706496LL, 0},
        {"mistral-7b", 7241732096LL, 0},
        /* Mixtral-8x7B-v0.1: 46.7B (Mistral AI); the checkpoint's count by
         * hand in test_mixtral */
        {"mixtral-8x7b", 46702792704LL, 0},
        {"gpt2", 124439808LL, 0},
        {"gpt-neox-20b", 20554567680LL, 0},
        {"vit-base-patch16-224", 86567656LL, 0},       /* ViTForImageClassification */
        {"vit-base-patch16-224-in21k", 86389248LL, 0}, /* ViTModel, its pooler a head */
        /* Qwen2-7B: q/k/v biases, 28 x (3584 + 2 x 512) */
        {"qwen2-7b", 7615616512LL, 28 * (3584 + 2 * 512)},
        /* t5-large: 2 x 32 buckets x 16 heads + the encoder's final norm */
        {"t5-large", 737668096LL, 2 * 32 * 16 + 1024},
    };
    uniap_model m;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = load(cases[i].name, &m);
        CHECK_EQ(rc, 0);
        if (rc) {
            fprintf(stderr, "%s: %s\n", cases[i].name, uniap_errmsg());
            continue;
        }
        CHECK_EQ((long long)checkpoint_params(&m), (long long)cases[i].published);
        CHECK_EQ((long long)uniap_model_hf_info()->unmodelled_params,
                 (long long)cases[i].unmodelled);
        uniap_model_free(&m);
    }
    /* bert-large-uncased: the published BertModel count 335,141,888 less
     * the pooler (h^2 + h) plus the MLM head (transform h^2 + h, its
     * LayerNorm 2h, the decoder bias V = 30522) is BertForMaskedLM's */
    const int64_t h = 1024, bert_mlm = 335141888LL - (h * h + h) + (h * h + h) + 2 * h + 30522;
    CHECK_EQ(load("bert-large-uncased", &m), 0);
    CHECK_EQ((long long)checkpoint_params(&m), (long long)bert_mlm);
    CHECK_STR_CONTAINS(uniap_model_hf_info()->notes, "token-type embeddings");
    uniap_model_free(&m);
}

static void test_shapes(void)
{
    uniap_model m;

    CHECK_EQ(load("llama-3-70b/config.json", &m), 0);
    CHECK_EQ(m.n_runs, 3);
    CHECK_EQ(m.n_layers, 82);
    CHECK_EQ((long long)m.seq_len, 8192); /* max_position_embeddings 8192, under the cap */
    CHECK_EQ(m.runs[1].kind, UNIAP_LAYER_DECODER);
    CHECK_EQ(m.runs[1].count, 80);
    CHECK_EQ(m.runs[1].heads, 64);
    CHECK_EQ(m.runs[1].kv_heads, 8);
    CHECK_EQ((long long)m.runs[1].ffn, 28672);
    CHECK_EQ(m.runs[1].activation, UNIAP_ACT_SWIGLU);
    CHECK_EQ(m.runs[1].norm, UNIAP_NORM_RMSNORM);
    CHECK_EQ(m.runs[2].tied, 0);
    CHECK_EQ(m.param_dtype, UNIAP_DTYPE_BF16);
    CHECK_STR_CONTAINS(m.name, "Meta-Llama-3-70B");
    uniap_model_free(&m);

    CHECK_EQ(load("gpt2", &m), 0);
    CHECK_EQ((long long)m.seq_len, 1024);
    CHECK_EQ(m.runs[2].tied, 1);
    CHECK_EQ((long long)m.runs[1].ffn, 4 * 768); /* n_inner null */
    uniap_model_free(&m);

    /* Mistral's 4096-token window caps the default length */
    CHECK_EQ(load("mistral-7b", &m), 0);
    CHECK_EQ((long long)m.seq_len, 4096);
    CHECK_STR_CONTAINS(uniap_model_hf_info()->notes, "sliding window");
    uniap_model_free(&m);

    /* ViT: (224 / 16)^2 patches + the class token */
    CHECK_EQ(load("vit-base-patch16-224", &m), 0);
    CHECK_EQ((long long)m.seq_len, 197);
    CHECK_EQ(m.runs[0].kind, UNIAP_LAYER_PATCH_EMBED);
    CHECK_EQ((long long)m.runs[2].vocab, 1000);
    uniap_model_free(&m);

    /* GPT-NeoX-20B is float16 */
    CHECK_EQ(load("gpt-neox-20b", &m), 0);
    CHECK_EQ(m.param_dtype, UNIAP_DTYPE_FP16);
    uniap_model_free(&m);

    /* the canonical spec of a read config reads back to the same count */
    char *json = NULL;
    uniap_model back;
    CHECK_EQ(load("t5-large", &m), 0);
    CHECK_EQ(uniap_model_to_json(&m, &json), 0);
    CHECK_EQ(uniap_model_parse(json, "dump", &back), 0);
    CHECK_EQ((long long)uniap_model_params(&back), (long long)uniap_model_params(&m));
    CHECK_EQ(back.n_layers, 1 + 24 + 24 + 1);
    free(json);
    uniap_model_free(&back);
    uniap_model_free(&m);
}

static char *read_config(const char *name);

/* MixtralForCausalLM: num_local_experts 8, num_experts_per_tok 2 as a moe
 * run. By hand (h 4096, 32 heads and 8 KV heads of 128, f 14336, V 32000):
 * attention 2 x 4096^2 + 2 x 4096 x 1024 = 41,943,040; an expert 3 x 4096 x
 * 14336 = 176,160,768; router 4096 x 8 = 32,768; norms 2 x 4096; a layer
 * 41,943,040 + 8 x 176,160,768 + 32,768 + 8,192 = 1,451,270,144; x 32 =
 * 46,440,644,608, + embedding and head 2 x 131,072,000 + final norm 4,096 =
 * 46,702,792,704 (46.7B). Active: 2 experts, 394,305,536 a layer, x 32 +
 * 262,148,096 = 12,879,925,248 (Mistral AI: 12.9B active). */
static void test_mixtral(void)
{
    uniap_model m;

    CHECK_EQ(load("mixtral-8x7b", &m), 0);
    CHECK_EQ(m.n_runs, 3);
    CHECK_EQ(m.runs[1].kind, UNIAP_LAYER_MOE);
    CHECK_EQ(m.runs[1].count, 32);
    CHECK_EQ(m.runs[1].experts, 8);
    CHECK_EQ(m.runs[1].top_k, 2);
    CHECK_EQ(m.runs[1].shared_experts, 0);
    CHECK_EQ(m.runs[1].kv_heads, 8);
    CHECK_EQ((long long)uniap_layer_params(&m.runs[1]), 1451270144LL);
    CHECK_EQ((long long)uniap_model_params(&m), 46702792704LL);
    CHECK_EQ((long long)uniap_model_active_params(&m), 12879925248LL);
    /* the same as the zoo's mixtral-8x7b at 4096 tokens */
    uniap_model z;
    CHECK_EQ(uniap_zoo_model("mixtral-8x7b", &z), 0);
    CHECK_EQ((long long)uniap_model_params(&z), 46702792704LL);
    CHECK_EQ((long long)uniap_model_active_params(&z), 12879925248LL);
    uniap_model_free(&z);
    uniap_model_free(&m);
    /* top-k above the experts refused by the field */
    char *text = read_config("mixtral-8x7b"), *k;
    if (!text || !(k = strstr(text, "\"num_experts_per_tok\": 2"))) {
        CHECK(0);
        free(text);
        return;
    }
    k[strlen("\"num_experts_per_tok\": ")] = '9';
    uniap_hf_info info;
    CHECK_EQ(uniap_model_from_hf(text, "x.json", 0, &m, &info), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "x.json: num_experts_per_tok: expected at most");
    free(text);
}

static char *read_config(const char *name)
{
    char path[1024], *text = NULL;
    snprintf(path, sizeof(path), "%s/%s/config.json", dir, name);
    CHECK_EQ(uniap_read_file(path, &text, NULL), 0);
    return text;
}

static void test_seq_len_and_refusals(void)
{
    uniap_model m;
    uniap_hf_info info;
    char *llama = read_config("llama-3-8b"), *mistral = read_config("mistral-7b");
    char *gpt2 = read_config("gpt2");

    CHECK_EQ(uniap_model_from_hf(llama, "l.json", 2048, &m, &info), 0);
    CHECK_EQ((long long)m.seq_len, 2048);
    CHECK_EQ((long long)m.runs[1].seq, 2048);
    uniap_model_free(&m);
    /* a training length past Mistral's window is refused by the field */
    CHECK_EQ(uniap_model_from_hf(mistral, "m.json", 8192, &m, &info), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "m.json: sliding_window: 4096 tokens");
    CHECK_EQ(m.n_runs, 0);
    /* learned positions cannot be extended */
    CHECK_EQ(uniap_model_from_hf(gpt2, "g.json", 2048, &m, &info), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "g.json: n_positions: 1024 positions");
    /* an expert field in a class without experts */
    char bad[8192];
    snprintf(bad, sizeof(bad), "%.*s, \"num_local_experts\": 8}",
             (int)(strrchr(llama, '}') - llama), llama);
    CHECK_EQ(uniap_model_from_hf(bad, "e.json", 0, &m, &info), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "e.json: num_local_experts: 8 experts");
    /* unknown class, missing field, unknown activation */
    CHECK_EQ(
        uniap_model_from_hf("{\"architectures\": [\"FalconForCausalLM\"]}", "f.json", 0, &m, &info),
        UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "f.json: architectures: 'FalconForCausalLM' is not");
    CHECK_EQ(uniap_model_from_hf("{\"architectures\": [\"LlamaForCausalLM\"], "
                                 "\"max_position_embeddings\": 4096}",
                                 "h.json", 0, &m, &info),
             UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "h.json: hidden_size: expected a positive integer");
    snprintf(bad, sizeof(bad), "%.*s, \"activation_function\": \"swish\"}",
             (int)(strrchr(gpt2, '}') - gpt2), gpt2);
    char *at = strstr(bad, "\"activation_function\": \"gelu_new\",");
    if (at) /* the first one would win: drop it */
        memset(at, ' ', strlen("\"activation_function\": \"gelu_new\","));
    CHECK_EQ(uniap_model_from_hf(bad, "a.json", 0, &m, &info), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "a.json: activation_function: activation 'swish'");
    CHECK(uniap_hf_is_config(llama));
    CHECK(!uniap_hf_is_config("{\"name\": \"x\", \"seq_len\": 8, \"layers\": []}"));
    free(llama);
    free(mistral);
    free(gpt2);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <tests/data/hf>\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    test_published_counts();
    test_shapes();
    test_mixtral();
    test_seq_len_and_refusals();
    return check_report();
}
