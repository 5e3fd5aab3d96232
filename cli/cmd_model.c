/*
 * cmd_model.c - `uniap model`: a model spec's runs of layers and parameter
 * counts, by zoo name or file; `--json` prints the canonical spec, which
 * reads back (`uniap model --json M > m.json; uniap model m.json`). Runs
 * under MPI (initialized by main): every rank parses and loads, the ranks
 * agree on the outcome and on their inputs, only rank 0 prints (the driver
 * shared with `uniap cluster`: spec_cmd.c). Bad input prints "uniap model:
 * error: <message>" and exits 2.
 */
#include <stdio.h>
#include <string.h>

#include "cmd_util.h"
#include "uniap_io.h"

static const char model_description[] =
    "Prints a model spec's layers, one row per run of identical layers, and its parameter "
    "count. NAME is a bundled zoo model (see --list), FILE a model spec (JSON) or a Hugging Face "
    "config.json (or the folder holding one: Llama, Mistral, Qwen2, GPT-2, GPT-NeoX, BERT, T5, "
    "ViT; "
    "trained at the config's longest sequence capped at 8192 tokens, and within a sliding "
    "window), which every command reads the same way; what the config holds and uniap does not "
    "model is listed with its parameter count. --json prints the canonical spec, which `uniap "
    "model` and every other command read back.\n\n"
    "Model spec (JSON; unknown keys are errors): name, seq_len (required), param_dtype "
    "fp32|fp16|bf16 (bf16), act_dtype (= param_dtype), mixed_precision (true), layers: [ {type, "
    "count (1), ...} ]; type embedding|patch_embed|encoder|decoder|cross_decoder|swin|"
    "patch_merge|head|moe; layer keys are the uniap_layer fields: hidden, heads, kv_heads (= "
    "heads), "
    "head_dim (hidden/heads), ffn, activation gelu|swiglu|relu (gelu), norm layernorm|rmsnorm "
    "(layernorm), position none|learned|rotary|relative (none; swin: relative), bias (false), "
    "seq (seq_len), kv_seq (seq_len), vocab, max_positions (seq), tied (false), window, image, "
    "patch, channels (3), out_hidden (2 hidden), experts, top_k, shared_experts (0), "
    "capacity_factor (0: dropless); each kind takes only the keys it uses.";

static void print_model_table(const uniap_model *m)
{
    char h[32], a[32], f[32], pl[32];
    int first = 0;
    int64_t total = uniap_model_params(m);

    printf("model %s: %d layers in %d runs, seq_len %lld, params %s, activations %s%s\n\n", m->name,
           m->n_layers, m->n_runs, (long long)m->seq_len, uniap_dtype_name(m->param_dtype),
           uniap_dtype_name(m->act_dtype),
           m->mixed_precision ? ", mixed precision (fp32 master + Adam)" : "");
    printf("%-9s %-13s %5s %6s %8s %6s %6s %15s %16s\n", "layers", "type", "count", "hidden",
           "heads/kv", "ffn", "seq", "params/layer", "params/run");
    for (int r = 0; r < m->n_runs; r++) {
        const uniap_layer *l = &m->runs[r];
        int64_t p = uniap_layer_params(l);
        if (l->count > 1)
            snprintf(h, sizeof(h), "%d-%d", first, first + l->count - 1);
        else
            snprintf(h, sizeof(h), "%d", first);
        if (l->heads)
            snprintf(a, sizeof(a), "%d/%d", l->heads, l->kv_heads);
        else
            snprintf(a, sizeof(a), "-");
        if (l->ffn)
            snprintf(f, sizeof(f), "%lld", (long long)l->ffn);
        else
            snprintf(f, sizeof(f), "-");
        snprintf(pl, sizeof(pl), "%lld", (long long)l->hidden);
        printf("%-9s %-13s %5d %6s %8s %6s %6lld %15lld %16lld\n", h,
               uniap_layer_kind_name(l->kind), l->count, pl, a, f, (long long)l->seq, (long long)p,
               (long long)p * l->count);
        first += l->count;
    }
    uniap__human_count(total, h, sizeof(h));
    printf("\ntotal parameters: %lld (%s)\n", (long long)total, h);
    int64_t active = uniap_model_active_params(m);
    if (active != total) { /* mixture of experts */
        uniap__human_count(active, h, sizeof(h));
        printf("active parameters per token: %lld (%s)\n", (long long)active, h);
    }
    const uniap_hf_info *hf = uniap_model_hf_info();
    if (!hf->architecture[0])
        return;
    uniap__human_count(total + hf->unmodelled_params, h, sizeof(h));
    printf("Hugging Face %s: %lld parameters not modelled, the checkpoint's %lld (%s)\n",
           hf->architecture, (long long)hf->unmodelled_params,
           (long long)(total + hf->unmodelled_params), h);
    for (const char *l = hf->notes; *l;) {
        const char *nl = strchr(l, '\n');
        int n = nl ? (int)(nl - l) : (int)strlen(l);
        printf("  note: %.*s\n", n, l);
        l += n + (nl ? 1 : 0);
    }
}

static int print_zoo(void)
{
    const char *const *zoo = uniap_zoo_models();
    uniap_model m;
    int rc;

    for (int i = 0; zoo[i]; i++) {
        char h[32];
        if ((rc = uniap_zoo_model(zoo[i], &m)) < 0)
            return rc;
        uniap__human_count(uniap_model_params(&m), h, sizeof(h));
        printf("%-10s %4d layers %10s parameters\n", zoo[i], m.n_layers, h);
        uniap_model_free(&m);
    }
    return 0;
}

static int load_model(const char *target, void *spec, char **json)
{
    int rc = uniap_model_resolve(target, spec);
    return rc == 0 ? uniap_model_to_json(spec, json) : rc;
}

static void print_model_spec(const void *spec)
{
    print_model_table(spec);
}

static void release_model(void *spec)
{
    uniap_model_free(spec);
}

int uniap_cli_model(int argc, char **argv)
{
    static const uniap__spec_cmd sc = {
        .cmd = {.name = "model",
                .summary = "print a model spec's layers and parameter count",
                .synopsis = "uniap model [--json] NAME|FILE\n       uniap model --list",
                .description = model_description},
        .json_help = "print the canonical spec as JSON (reads back as a model spec)",
        .list_help = "list the zoo models",
        .target_help = "zoo model name or model spec JSON file",
        .what = "model spec",
        .list = print_zoo,
        .load = load_model,
        .print = print_model_spec,
        .release = release_model};
    uniap_model m = {0};
    return uniap__spec_command(&sc, &m, argc, argv);
}
