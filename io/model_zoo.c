/*
 * model_zoo.c - the bundled model specs, written as JSON text and parsed by
 * the same parser as user files (so the zoo exercises it). Hyper-parameters
 * are the published ones; tests/io_specs checks each total against its
 * published parameter count.
 *   bert-huge  BERT-Huge-32 of Galvatron (Miao et al., VLDB 2023) and UniAP
 *              (Lin et al., CVPR 2025): 32 x h1280, 16 heads, vocab 30522.
 *   t5-large   T5 paper (Raffel et al., JMLR 2020) / HF t5-large config:
 *              24 + 24 blocks, d_model 1024, d_ff 4096, 16 x 64 heads,
 *              ReLU, scale-only norm, no biases, vocab 32128, untied
 *              output layer (the paper's 770M counts it).
 *   vit-huge   ViT-H/14 (Dosovitskiy et al., ICLR 2021, Table 1): 32 x
 *              h1280, MLP 5120, 16 heads, 224 px, 14 px patches, 1000
 *              classes.
 *   swin-huge  Swin-Huge of Galvatron and UniAP: C 320, depths 2-2-42-2,
 *              heads 8-16-32-64, window 7, 224 px, patch 4, 1000 classes.
 *   llama-7b, llama-13b  LLaMA (Touvron et al. 2023, Table 2): h4096/5120,
 *              32/40 heads, 32/40 layers, SwiGLU FFN 11008/13824, RMSNorm,
 *              RoPE, vocab 32000, context 2048.
 *   llama-70b  Llama 2 70B (Touvron et al. 2023b): h8192, 64 heads, 8 KV
 *              heads (GQA), 80 layers, FFN 28672, vocab 32000, context 4096.
 *   gpt3-175b  GPT-3 (Brown et al. 2020, Table 2.1): 96 x d_model 12288,
 *              96 heads of 128, FFN 4 d_model, context 2048, GPT-2 BPE vocab
 *              50257, learned positions, tied output embedding.
 *   mixtral-8x7b  Mixtral-8x7B-v0.1 (Jiang et al. 2024; HF config
 *              mistralai/Mixtral-8x7B-v0.1): 32 moe blocks, h4096, 32 heads,
 *              8 KV heads, 8 SwiGLU experts of ffn 14336, top-2, RMSNorm,
 *              RoPE, no biases, vocab 32000, untied head; trained at 4096
 *              tokens here (the config's 32768 is its longest).
 *   deepseek-v2-lite  DeepSeek-V2-Lite-like (DeepSeek-AI 2024, the
 *              DeepSeek-V2 paper's appendix and HF config
 *              deepseek-ai/DeepSeek-V2-Lite): 27 layers, h2048, 16 heads;
 *              layer 0 a dense SwiGLU decoder of ffn 10944, layers 1-26 moe
 *              with 64 routed experts of ffn 1408, top-6, 2 shared experts;
 *              vocab 102400, untied. Multi-head latent attention (MLA) is
 *              approximated by multi-head attention with head_dim 128
 *              (q, k, v, o of 16 x 128): uniap has no MLA kind, and MHA
 *              carries 3.0M more parameters per layer than MLA's low-rank
 *              projections (tests/io_specs/test_params.c works the
 *              difference out).
 *   gpt-tiny   not a published model: a GPT-shaped 4 x h64 model (268K
 *              parameters, fp32) small enough to profile on a CPU in
 *              seconds, for the default run and the tests.
 */
#include <stdio.h>
#include <string.h>

#include "uniap_io.h"

struct zoo_entry {
    const char *name;
    const char *json;
};

static const struct zoo_entry zoo[] = {
    {"bert-huge",
     "{\"name\": \"bert-huge\", \"seq_len\": 512, \"param_dtype\": \"bf16\", \"layers\": ["
     " {\"type\": \"embedding\", \"hidden\": 1280, \"vocab\": 30522, \"position\": \"learned\","
     "  \"max_positions\": 512},"
     " {\"type\": \"encoder\", \"count\": 32, \"hidden\": 1280, \"heads\": 16, \"ffn\": 5120,"
     "  \"activation\": \"gelu\", \"norm\": \"layernorm\", \"bias\": true},"
     " {\"type\": \"head\", \"hidden\": 1280, \"vocab\": 30522, \"norm\": \"layernorm\","
     "  \"tied\": true, \"bias\": true}]}"},
    {"t5-large",
     "{\"name\": \"t5-large\", \"seq_len\": 512, \"param_dtype\": \"bf16\", \"layers\": ["
     " {\"type\": \"embedding\", \"hidden\": 1024, \"vocab\": 32128},"
     " {\"type\": \"encoder\", \"count\": 24, \"hidden\": 1024, \"heads\": 16, \"head_dim\": 64,"
     "  \"ffn\": 4096, \"activation\": \"relu\", \"norm\": \"rmsnorm\", \"position\": "
     "\"relative\"},"
     " {\"type\": \"cross_decoder\", \"count\": 24, \"hidden\": 1024, \"heads\": 16,"
     "  \"head_dim\": 64, \"ffn\": 4096, \"activation\": \"relu\", \"norm\": \"rmsnorm\","
     "  \"position\": \"relative\", \"kv_seq\": 512},"
     " {\"type\": \"head\", \"hidden\": 1024, \"vocab\": 32128, \"norm\": \"rmsnorm\"}]}"},
    {"vit-huge",
     "{\"name\": \"vit-huge\", \"seq_len\": 257, \"param_dtype\": \"bf16\", \"layers\": ["
     " {\"type\": \"patch_embed\", \"hidden\": 1280, \"image\": 224, \"patch\": 14,"
     "  \"channels\": 3, \"position\": \"learned\"},"
     " {\"type\": \"encoder\", \"count\": 32, \"hidden\": 1280, \"heads\": 16, \"ffn\": 5120,"
     "  \"activation\": \"gelu\", \"norm\": \"layernorm\", \"bias\": true},"
     " {\"type\": \"head\", \"hidden\": 1280, \"vocab\": 1000, \"norm\": \"layernorm\","
     "  \"bias\": true}]}"},
    {"swin-huge",
     "{\"name\": \"swin-huge\", \"seq_len\": 3136, \"param_dtype\": \"bf16\", \"layers\": ["
     " {\"type\": \"patch_embed\", \"hidden\": 320, \"image\": 224, \"patch\": 4,"
     "  \"channels\": 3},"
     " {\"type\": \"swin\", \"count\": 2, \"hidden\": 320, \"heads\": 8, \"ffn\": 1280,"
     "  \"window\": 7, \"seq\": 3136, \"bias\": true},"
     " {\"type\": \"patch_merge\", \"hidden\": 320, \"out_hidden\": 640, \"seq\": 3136},"
     " {\"type\": \"swin\", \"count\": 2, \"hidden\": 640, \"heads\": 16, \"ffn\": 2560,"
     "  \"window\": 7, \"seq\": 784, \"bias\": true},"
     " {\"type\": \"patch_merge\", \"hidden\": 640, \"out_hidden\": 1280, \"seq\": 784},"
     " {\"type\": \"swin\", \"count\": 42, \"hidden\": 1280, \"heads\": 32, \"ffn\": 5120,"
     "  \"window\": 7, \"seq\": 196, \"bias\": true},"
     " {\"type\": \"patch_merge\", \"hidden\": 1280, \"out_hidden\": 2560, \"seq\": 196},"
     " {\"type\": \"swin\", \"count\": 2, \"hidden\": 2560, \"heads\": 64, \"ffn\": 10240,"
     "  \"window\": 7, \"seq\": 49, \"bias\": true},"
     " {\"type\": \"head\", \"hidden\": 2560, \"vocab\": 1000, \"seq\": 49,"
     "  \"norm\": \"layernorm\", \"bias\": true}]}"},
    {"llama-7b",
     "{\"name\": \"llama-7b\", \"seq_len\": 2048, \"param_dtype\": \"bf16\", \"layers\": ["
     " {\"type\": \"embedding\", \"hidden\": 4096, \"vocab\": 32000},"
     " {\"type\": \"decoder\", \"count\": 32, \"hidden\": 4096, \"heads\": 32, \"ffn\": 11008,"
     "  \"activation\": \"swiglu\", \"norm\": \"rmsnorm\", \"position\": \"rotary\"},"
     " {\"type\": \"head\", \"hidden\": 4096, \"vocab\": 32000, \"norm\": \"rmsnorm\"}]}"},
    {"llama-13b",
     "{\"name\": \"llama-13b\", \"seq_len\": 2048, \"param_dtype\": \"bf16\", \"layers\": ["
     " {\"type\": \"embedding\", \"hidden\": 5120, \"vocab\": 32000},"
     " {\"type\": \"decoder\", \"count\": 40, \"hidden\": 5120, \"heads\": 40, \"ffn\": 13824,"
     "  \"activation\": \"swiglu\", \"norm\": \"rmsnorm\", \"position\": \"rotary\"},"
     " {\"type\": \"head\", \"hidden\": 5120, \"vocab\": 32000, \"norm\": \"rmsnorm\"}]}"},
    {"llama-70b",
     "{\"name\": \"llama-70b\", \"seq_len\": 4096, \"param_dtype\": \"bf16\", \"layers\": ["
     " {\"type\": \"embedding\", \"hidden\": 8192, \"vocab\": 32000},"
     " {\"type\": \"decoder\", \"count\": 80, \"hidden\": 8192, \"heads\": 64, \"kv_heads\": 8,"
     "  \"ffn\": 28672, \"activation\": \"swiglu\", \"norm\": \"rmsnorm\","
     "  \"position\": \"rotary\"},"
     " {\"type\": \"head\", \"hidden\": 8192, \"vocab\": 32000, \"norm\": \"rmsnorm\"}]}"},
    {"gpt3-175b",
     "{\"name\": \"gpt3-175b\", \"seq_len\": 2048, \"param_dtype\": \"bf16\", \"layers\": ["
     " {\"type\": \"embedding\", \"hidden\": 12288, \"vocab\": 50257, \"position\": \"learned\","
     "  \"max_positions\": 2048},"
     " {\"type\": \"decoder\", \"count\": 96, \"hidden\": 12288, \"heads\": 96, \"ffn\": 49152,"
     "  \"activation\": \"gelu\", \"norm\": \"layernorm\", \"bias\": true},"
     " {\"type\": \"head\", \"hidden\": 12288, \"vocab\": 50257, \"norm\": \"layernorm\","
     "  \"tied\": true}]}"},
    {"mixtral-8x7b",
     "{\"name\": \"mixtral-8x7b\", \"seq_len\": 4096, \"param_dtype\": \"bf16\", \"layers\": ["
     " {\"type\": \"embedding\", \"hidden\": 4096, \"vocab\": 32000},"
     " {\"type\": \"moe\", \"count\": 32, \"hidden\": 4096, \"heads\": 32, \"kv_heads\": 8,"
     "  \"ffn\": 14336, \"activation\": \"swiglu\", \"norm\": \"rmsnorm\","
     "  \"position\": \"rotary\", \"experts\": 8, \"top_k\": 2},"
     " {\"type\": \"head\", \"hidden\": 4096, \"vocab\": 32000, \"norm\": \"rmsnorm\"}]}"},
    {"deepseek-v2-lite",
     "{\"name\": \"deepseek-v2-lite\", \"seq_len\": 4096, \"param_dtype\": \"bf16\","
     " \"layers\": ["
     " {\"type\": \"embedding\", \"hidden\": 2048, \"vocab\": 102400},"
     " {\"type\": \"decoder\", \"hidden\": 2048, \"heads\": 16, \"head_dim\": 128,"
     "  \"ffn\": 10944, \"activation\": \"swiglu\", \"norm\": \"rmsnorm\","
     "  \"position\": \"rotary\"},"
     " {\"type\": \"moe\", \"count\": 26, \"hidden\": 2048, \"heads\": 16, \"head_dim\": 128,"
     "  \"ffn\": 1408, \"activation\": \"swiglu\", \"norm\": \"rmsnorm\","
     "  \"position\": \"rotary\", \"experts\": 64, \"top_k\": 6, \"shared_experts\": 2},"
     " {\"type\": \"head\", \"hidden\": 2048, \"vocab\": 102400, \"norm\": \"rmsnorm\"}]}"},
    {"gpt-tiny",
     "{\"name\": \"gpt-tiny\", \"seq_len\": 32, \"param_dtype\": \"fp32\", \"layers\": ["
     " {\"type\": \"embedding\", \"hidden\": 64, \"vocab\": 512, \"position\": \"learned\"},"
     " {\"type\": \"decoder\", \"count\": 4, \"hidden\": 64, \"heads\": 4, \"ffn\": 256,"
     "  \"activation\": \"gelu\", \"norm\": \"layernorm\", \"bias\": true},"
     " {\"type\": \"head\", \"hidden\": 64, \"vocab\": 512, \"norm\": \"layernorm\"}]}"},
};
#define N_ZOO (sizeof(zoo) / sizeof(zoo[0]))

static const char *const zoo_names[] = {
    "bert-huge", "t5-large",  "vit-huge",     "swin-huge",        "llama-7b", "llama-13b",
    "llama-70b", "gpt3-175b", "mixtral-8x7b", "deepseek-v2-lite", "gpt-tiny", NULL};
_Static_assert(sizeof(zoo_names) / sizeof(zoo_names[0]) == N_ZOO + 1, "one name per zoo model");

const char *const *uniap_zoo_models(void)
{
    return zoo_names;
}

int uniap_zoo_model(const char *name, uniap_model *out)
{
    char source[96];

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < N_ZOO; i++) {
        if (strcmp(zoo[i].name, name) == 0) {
            snprintf(source, sizeof(source), "zoo:%s", name);
            return uniap_model_parse(zoo[i].json, source, out);
        }
    }
    return uniap_err(UNIAP_EINVAL, "%s: expected a zoo model name, got an unknown one", name);
}
