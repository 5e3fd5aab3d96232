/*
 * test_params.c - parameter counts: every zoo model against its published
 * total (within 1 %, sources beside each figure), exact counts of released
 * checkpoints where they are known, and two tiny models whose every layer
 * is counted by hand below. Usage: test_params <tests/data/specs>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "uniap_io.h"

struct published {
    const char *model;
    double total;    /* published parameter count */
    double rel;      /* tolerance */
    const char *src; /* where the figure is published */
};

/* Published totals. Most are given rounded in their sources. */
static const struct published published[] = {
    /* Galvatron (Miao et al., VLDB 2023), model table: BERT-Huge-32, 672M
     * (rounded to 1M). The spec leaves out the token-type embeddings,
     * embedding LayerNorm, pooler and MLM transform (3.3M, 0.5 %). */
    {"bert-huge", 672e6, 0.01, "Galvatron VLDB'23 model table: BERT-Huge-32 672M"},
    /* T5 paper (Raffel et al., JMLR 2020), section 3.7: T5-Large "770
     * million parameters" (rounded). It counts the output layer separately
     * from the input embedding; the released t5-large checkpoint ties them
     * and holds 737.7M. */
    {"t5-large", 770e6, 0.01, "T5 paper sec. 3.7: T5-Large 770M"},
    /* ViT paper (Dosovitskiy et al., ICLR 2021), Table 1: ViT-Huge 632M
     * (rounded to 1M); H/14 at 224 px with a 1000-class head. */
    {"vit-huge", 632e6, 0.01, "ViT paper Table 1: ViT-Huge 632M"},
    /* Galvatron (Miao et al., VLDB 2023), model table: Swin-Huge-48 (depths
     * 2-2-42-2, C 320), 1016M (rounded to 1M). */
    {"swin-huge", 1016e6, 0.01, "Galvatron VLDB'23 model table: Swin-Huge-48 1016M"},
    /* LLaMA paper (Touvron et al. 2023), Table 2: 6.7B, 13.0B (rounded to
     * 0.1B). */
    {"llama-7b", 6.7e9, 0.01, "LLaMA paper Table 2: 6.7B"},
    {"llama-13b", 13.0e9, 0.01, "LLaMA paper Table 2: 13.0B"},
    /* Llama 2 paper (Touvron et al. 2023b), Table 1: "70B" - a nominal size
     * rounded to a name, not a count: the released weights hold 68.98B
     * (exact check below), 1.46 % under it. Checked at 1.5 % against the
     * name; the 1 % check against a precise published figure is the
     * LLaMA-65B one below (same architecture family, 65.2B). */
    {"llama-70b", 70e9, 0.015, "Llama 2 paper Table 1: 70B (nominal)"},
    /* GPT-3 paper (Brown et al. 2020), Table 2.1: GPT-3 175B, 175.0B. */
    {"gpt3-175b", 175.0e9, 0.01, "GPT-3 paper Table 2.1: 175.0B"},
    /* Mistral AI's release of Mixtral 8x7B (Jiang et al. 2024, s2): 46.7B
     * total (rounded to 0.1B); by hand in check_moe. */
    {"mixtral-8x7b", 46.7e9, 0.01, "Mixtral paper s2: 46.7B"},
    /* DeepSeek-V2 paper, appendix B (DeepSeek-V2-Lite): 15.7B total; the
     * zoo's MHA stand-in for MLA carries 81M more (check_moe). */
    {"deepseek-v2-lite", 15.7e9, 0.01, "DeepSeek-V2 paper app. B: V2-Lite 15.7B"},
};

/* Exact totals of released checkpoints (PyTorch num_parameters() of the
 * Hugging Face conversions of Meta's weights): an independent exact check
 * of the decoder/GQA/SwiGLU/RMSNorm formulas. */
static const struct {
    const char *model;
    int64_t total;
} exact[] = {
    {"llama-7b", 6738415616LL},   /* huggyllama/llama-7b */
    {"llama-13b", 13015864320LL}, /* huggyllama/llama-13b */
    {"llama-70b", 68976648192LL}, /* meta-llama/Llama-2-70b-hf */
    /* mistralai/Mixtral-8x7B-v0.1 (also tests/io_specs/test_hf.c) */
    {"mixtral-8x7b", 46702792704LL},
};

static void check_zoo(void)
{
    printf("%-10s %16s %14s %8s  %s\n", "model", "computed", "published", "diff", "source");
    for (size_t i = 0; i < sizeof(published) / sizeof(published[0]); i++) {
        uniap_model m;
        int rc = uniap_zoo_model(published[i].model, &m);
        CHECK_EQ(rc, 0);
        if (rc < 0) {
            fprintf(stderr, "%s\n", uniap_errmsg());
            continue;
        }
        double p = (double)uniap_model_params(&m);
        printf("%-10s %16lld %14.4g %+7.2f%%  %s\n", published[i].model, (long long)p,
               published[i].total, 100.0 * (p - published[i].total) / published[i].total,
               published[i].src);
        CHECK_NEAR(p, published[i].total, published[i].rel, 0);
        uniap_model_free(&m);
    }
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
        uniap_model m;
        CHECK_EQ(uniap_zoo_model(exact[i].model, &m), 0);
        CHECK_EQ(uniap_model_params(&m), exact[i].total);
        uniap_model_free(&m);
    }
}

/* gpt-tiny (zoo; no published count), by hand: h 64, seq_len 32, vocab 512
 *   embedding  512*64 + 32 learned positions * 64        =  34816
 *   decoder x4 heads 4, GELU ffn 256, LayerNorm, biases:
 *              QKVO 4*64*64 = 16384 + 4*64 biases -> 16640;
 *              MLP 2*64*256 = 32768 + 256 + 64 -> 33088;
 *              norms 2*128 = 256 -> 49984 per layer, x4   = 199936
 *   head       LayerNorm 128 + 512*64 untied              =  32896
 *   total                                                 = 267648 */
static void check_gpt_tiny(void)
{
    uniap_model m;
    CHECK_EQ(uniap_zoo_model("gpt-tiny", &m), 0);
    CHECK_EQ(m.n_runs, 3);
    if (m.n_runs == 3) {
        CHECK_EQ(uniap_layer_params(&m.runs[0]), 34816);
        CHECK_EQ(uniap_layer_params(&m.runs[1]), 49984);
        CHECK_EQ(uniap_layer_params(&m.runs[2]), 32896);
    }
    CHECK_EQ(uniap_model_params(&m), 267648);
    uniap_model_free(&m);
}

/* Mixture of experts: total and active parameters per token
 * (uniap_model_active_params) against the published figures, by hand.
 *
 * Mixtral-8x7B (h 4096, 32 heads / 8 KV heads of 128, 8 SwiGLU experts of
 * f 14336, top-2, vocab 32000, untied, RMSNorm): attention 2 x 4096^2 + 2 x
 * 4096 x 1024 = 41,943,040; expert 3 x 4096 x 14336 = 176,160,768; router
 * 4096 x 8 = 32,768; norms 8,192. Layer 1,451,270,144, x 32 =
 * 46,440,644,608; + 2 x 131,072,000 + 4,096 = 46,702,792,704 (46.7B). Active:
 * 41,943,040 + 2 x 176,160,768 + 32,768 + 8,192 = 394,305,536 a layer, x 32
 * + 262,148,096 = 12,879,925,248 (Mistral AI: 12.9B active).
 *
 * deepseek-v2-lite (h 2048, 16 heads of 128 as MHA, layer 0 dense f 10944,
 * 26 moe layers of 64 + 2 shared experts of f 1408, top-6, vocab 102400):
 * attention 4 x 2048^2 = 16,777,216; dense MLP 3 x 2048 x 10944 =
 * 67,239,936; layer 0 = 84,021,248 with its norms (4,096); expert 3 x 2048 x
 * 1408 = 8,650,752; router 2048 x 64 = 131,072; moe layer 16,777,216 + 66 x
 * 8,650,752 + 131,072 + 4,096 = 587,862,016, x 26 = 15,284,412,416;
 * embedding + head 2 x 209,715,200 + 2,048. Total 15,787,866,112; active
 * 16,777,216 + 8 x 8,650,752 + 135,168 = 86,118,400 a layer, total
 * 84,021,248 + 26 x 86,118,400 + 419,432,448 = 2,742,532,096.
 * Against the published 15.7B / 2.4B (DeepSeek-V2 paper, appendix B): MLA
 * (q 2048 x 16 x 192, kv_a 2048 x (512 + 64), its norm 512, kv_b 512 x 16 x
 * 256, o 2048 x 2048 = 13,763,072) has 3,014,144 fewer parameters than the
 * MHA here per layer, 81,381,888 over 27 layers: 15,706,484,224 (15.7B) and
 * 2,661,150,208 active; DeepSeek's activated count leaves out the input
 * embedding table (209,715,200, a lookup): 2,451,435,008 (2.4B). */
static void check_moe(void)
{
    uniap_model m;

    CHECK_EQ(uniap_zoo_model("mixtral-8x7b", &m), 0);
    CHECK_EQ(m.runs[1].kind, UNIAP_LAYER_MOE);
    CHECK_EQ(uniap_layer_params(&m.runs[1]), 1451270144LL);
    CHECK_EQ(uniap_layer_active_params(&m.runs[1]), 394305536LL);
    CHECK_EQ(uniap_model_params(&m), 46702792704LL);
    CHECK_EQ(uniap_model_active_params(&m), 12879925248LL);
    CHECK_NEAR((double)uniap_model_active_params(&m), 12.9e9, 0.005, 0);
    /* a dense layer's active count is its count */
    CHECK_EQ(uniap_layer_active_params(&m.runs[0]), uniap_layer_params(&m.runs[0]));
    uniap_model_free(&m);

    CHECK_EQ(uniap_zoo_model("deepseek-v2-lite", &m), 0);
    CHECK_EQ(m.n_layers, 29); /* embedding, 27 blocks, head */
    CHECK_EQ(uniap_layer_params(&m.runs[1]), 84021248LL);
    CHECK_EQ(uniap_layer_params(&m.runs[2]), 587862016LL);
    CHECK_EQ(uniap_layer_active_params(&m.runs[2]), 86118400LL);
    CHECK_EQ(uniap_model_params(&m), 15787866112LL);
    CHECK_EQ(uniap_model_active_params(&m), 2742532096LL);
    const int64_t mla_less = 27 * (16777216LL - 13763072LL);
    CHECK_NEAR((double)(uniap_model_params(&m) - mla_less), 15.7e9, 0.005, 0);
    CHECK_NEAR((double)(uniap_model_active_params(&m) - mla_less - 209715200LL), 2.4e9, 0.025, 0);
    uniap_model_free(&m);
}

/* LLaMA-65B (LLaMA paper Table 2: dimension 8192, 64 heads, 80 layers;
 * FFN 22016 = 2/3 * 4d rounded up to a multiple of 256): published 65.2B. */
static void check_llama65b(void)
{
    const char *spec =
        "{\"name\": \"llama-65b\", \"seq_len\": 2048, \"layers\": ["
        " {\"type\": \"embedding\", \"hidden\": 8192, \"vocab\": 32000},"
        " {\"type\": \"decoder\", \"count\": 80, \"hidden\": 8192, \"heads\": 64, \"ffn\": 22016,"
        "  \"activation\": \"swiglu\", \"norm\": \"rmsnorm\", \"position\": \"rotary\"},"
        " {\"type\": \"head\", \"hidden\": 8192, \"vocab\": 32000, \"norm\": \"rmsnorm\"}]}";
    uniap_model m;
    CHECK_EQ(uniap_model_parse(spec, "llama-65b", &m), 0);
    printf("%-10s %16lld %14.4g %+7.2f%%  %s\n", "llama-65b", (long long)uniap_model_params(&m),
           65.2e9, 100.0 * ((double)uniap_model_params(&m) - 65.2e9) / 65.2e9,
           "LLaMA paper Table 2: 65.2B (in-test spec)");
    CHECK_NEAR((double)uniap_model_params(&m), 65.2e9, 0.01, 0);
    uniap_model_free(&m);
}

/* Loads good/<file> of the specs folder, a model of 4 runs, and checks
 * each run's parameter count and the total against the hand counts.
 * Returns 1 with *m loaded (the caller frees it), 0 when it did not load. */
static int load_counted(const char *dir, const char *file, const int64_t per_layer[4],
                        int64_t total, uniap_model *m)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/good/%s", dir, file);
    CHECK_EQ(uniap_model_load(path, m), 0);
    if (m->n_runs != 4) {
        CHECK_EQ(m->n_runs, 4);
        fprintf(stderr, "%s\n", uniap_errmsg());
        return 0;
    }
    for (int r = 0; r < 4; r++)
        CHECK_EQ(uniap_layer_params(&m->runs[r]), per_layer[r]);
    CHECK_EQ(uniap_model_params(m), total);
    return 1;
}

/* tiny.json, counted by hand (h 4, seq_len 6):
 *   embedding  vocab 10, learned positions (max_positions = seq 6):
 *              10*4 + 6*4                                   =  64
 *   decoder x2 heads 2, kv_heads 1 (head_dim 2), SwiGLU ffn 8, RMSNorm:
 *              Q 4*4=16, K 4*2=8, V 8, O 16 -> 48; MLP 3*4*8 = 96;
 *              norms 2*4 = 8 -> 152 per layer, x2          = 304
 *   encoder    heads 2, GELU ffn 3, LayerNorm, biases:
 *              QKVO 4*16 = 64 + biases 4*4 = 16 -> 80;
 *              MLP 2*4*3 = 24 + biases 3 + 4 -> 31; norms 2*8 = 16
 *                                                           = 127
 *   head       LayerNorm 8 + 10*4 untied + bias 10          =  58
 *   total                                                   = 553 */
static void check_tiny(const char *dir)
{
    uniap_model m;
    static const int64_t per_layer[] = {64, 152, 127, 58};

    if (!load_counted(dir, "tiny.json", per_layer, 553, &m))
        return;
    /* defaults */
    CHECK_EQ(m.n_layers, 5);
    CHECK_EQ(m.runs[0].max_positions, 6);
    CHECK_EQ(m.runs[1].head_dim, 2);
    CHECK_EQ(m.runs[2].kv_heads, 2);
    CHECK_EQ(m.runs[2].activation, UNIAP_ACT_GELU);
    CHECK_EQ(m.runs[2].norm, UNIAP_NORM_LAYERNORM);
    CHECK_EQ(m.runs[3].seq, 6);
    CHECK_EQ(m.param_dtype, UNIAP_DTYPE_FP16);
    CHECK_EQ(m.act_dtype, UNIAP_DTYPE_FP16); /* defaults to param_dtype */
    CHECK_EQ(m.mixed_precision, 1);
    CHECK(strcmp(m.name, "tiny") == 0);
    CHECK_EQ(uniap_model_run_of(&m, 0), 0);
    CHECK_EQ(uniap_model_run_of(&m, 1), 1);
    CHECK_EQ(uniap_model_run_of(&m, 2), 1);
    CHECK_EQ(uniap_model_run_of(&m, 3), 2);
    CHECK_EQ(uniap_model_run_of(&m, 4), 3);
    uniap_model_free(&m);
}

/* tiny_vision.json, counted by hand (seq_len 4):
 *   patch_embed h 6, image 8, patch 4, 3 channels, learned: 2x2 patches
 *              + cls = seq 5; conv 3*4*4*6 = 288 + bias 6 + cls 6
 *              + positions 5*6 = 30                         = 330
 *   swin       h 6, heads 2 (head_dim 3), GELU ffn 12, biases, window 2
 *              on a 2x2 grid: QKVO 4*36 = 144 + 24 biases -> 168;
 *              MLP 2*6*12 = 144 + 12 + 6 -> 162; LN 2*12 = 24;
 *              relative bias table (2*2-1)^2 * 2 = 18      = 372
 *   patch_merge h 6 -> out 12: LayerNorm(24) 48 + 24*12 = 288 = 336
 *   cross_decoder h 12 (the merge's output), 1 head (head_dim 12), ReLU
 *              ffn 2, RMSNorm, no bias: self + cross attention
 *              2 * 4*12*12 = 1152; MLP 2*12*2 = 48; 3 norms 36 = 1236
 *   total                                                   = 2274 */
static void check_tiny_vision(const char *dir)
{
    uniap_model m;
    static const int64_t per_layer[] = {330, 372, 336, 1236};

    if (!load_counted(dir, "tiny_vision.json", per_layer, 2274, &m))
        return;
    CHECK_EQ(m.runs[0].seq, 5);
    CHECK_EQ(m.runs[1].position, UNIAP_POS_RELATIVE);
    CHECK_EQ(m.runs[2].out_hidden, 12);
    CHECK_EQ(m.runs[3].kv_seq, 3);
    CHECK_EQ(m.mixed_precision, 0);
    uniap_model_free(&m);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <tests/data/specs>\n", argv[0]);
        return 2;
    }
    check_zoo();
    check_llama65b();
    check_gpt_tiny();
    check_moe();
    check_tiny(argv[1]);
    check_tiny_vision(argv[1]);
    return check_report();
}
