/*
 * cmd_model.c - `uniap model` (a model spec's runs of layers and parameter
 * counts) and `uniap cluster` (a cluster spec), by zoo/preset name or file.
 * Both run under MPI (initialized by main); every rank parses, only rank 0
 * prints. Bad input prints "uniap: <message>" and exits 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mpi.h>

#include "spec_json.h"

static int world_rank(void)
{
    int rank = 0, init = 0;
    MPI_Initialized(&init);
    if (init)
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

/* "6.74 B", "632.0 M", "12.3 K". */
static void human_count(int64_t n, char *buf, size_t len)
{
    if (n >= 1000000000)
        snprintf(buf, len, "%.2f B", (double)n / 1e9);
    else if (n >= 1000000)
        snprintf(buf, len, "%.1f M", (double)n / 1e6);
    else if (n >= 1000)
        snprintf(buf, len, "%.1f K", (double)n / 1e3);
    else
        snprintf(buf, len, "%lld", (long long)n);
}

/* Parses [--json] [--list] [--help] NAME|FILE; returns 0, 1 (help/list
 * done) or UNIAP_EINVAL with the message set. */
static int parse_args(int argc, char **argv, const char *cmd, int *json, int *list,
                      const char **target)
{
    *json = *list = 0;
    *target = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            *json = 1;
        else if (strcmp(argv[i], "--list") == 0)
            *list = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return uniap_err(UNIAP_EINVAL, "%s: expected an option of `uniap %s --help`, got '%s'",
                             cmd, cmd, argv[i]);
        else if (*target)
            return uniap_err(UNIAP_EINVAL, "%s: expected one NAME|FILE, got '%s' and '%s'", cmd,
                             *target, argv[i]);
        else
            *target = argv[i];
    }
    if (!*list && !*target)
        return uniap_err(UNIAP_EINVAL, "%s: expected NAME|FILE (or --list), got nothing", cmd);
    return 0;
}

static void model_help(void)
{
    const char *const *zoo = uniap_zoo_models();
    printf("usage: uniap model [options] NAME|FILE\n\n"
           "Prints a model spec's layers, one row per run of identical layers, and its\n"
           "parameter count. NAME is a bundled zoo model, FILE a model spec (JSON).\n\n"
           "options:\n"
           "  --json    print the canonical spec with per-run parameter counts as JSON (off)\n"
           "  --list    list the zoo models (off)\n"
           "  --help    this help\n\n"
           "model spec (JSON; unknown keys are errors):\n"
           "  name, seq_len (required), param_dtype fp32|fp16|bf16 (bf16), act_dtype\n"
           "  (= param_dtype), mixed_precision (true), layers: [ {type, count (1), ...} ]\n"
           "  type embedding|patch_embed|encoder|decoder|cross_decoder|swin|patch_merge|head;\n"
           "  layer keys are the uniap_layer fields: hidden, heads, kv_heads (= heads),\n"
           "  head_dim (hidden/heads), ffn, activation gelu|swiglu|relu (gelu), norm\n"
           "  layernorm|rmsnorm (layernorm), position none|learned|rotary|relative (none;\n"
           "  swin: relative), bias (false), seq (seq_len), kv_seq (seq_len), vocab,\n"
           "  max_positions (seq), tied (false), window, image, patch, channels (3),\n"
           "  out_hidden (2 hidden); each kind takes only the keys it uses.\n\nzoo:");
    for (int i = 0; zoo[i]; i++)
        printf(" %s", zoo[i]);
    printf("\n");
}

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
    human_count(total, h, sizeof(h));
    printf("\ntotal parameters: %lld (%s)\n", (long long)total, h);
}

static int print_model_json(const uniap_model *m)
{
    char *spec = NULL, *text = NULL;
    cJSON *root = NULL, *runs, *spec_json;
    int rc, first = 0;

    if ((rc = uniap_model_to_json(m, &spec)) < 0)
        return rc;
    root = cJSON_CreateObject();
    spec_json = cJSON_Parse(spec);
    if (!root || !spec_json) {
        cJSON_Delete(spec_json);
        rc = uniap_err(UNIAP_ENOMEM, "model --json: out of memory");
        goto free_root;
    }
    cJSON_AddItemToObject(root, "model", spec_json);
    cJSON_AddNumberToObject(root, "n_layers", m->n_layers);
    cJSON_AddItemToObject(root, "total_params", spec_json_int(uniap_model_params(m)));
    runs = cJSON_AddArrayToObject(root, "runs");
    for (int r = 0; runs && r < m->n_runs; r++) {
        const uniap_layer *l = &m->runs[r];
        char sig[128];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        if (uniap_layer_signature(l, sig, sizeof(sig)) < 0)
            sig[0] = '\0';
        cJSON_AddNumberToObject(o, "first", first);
        cJSON_AddNumberToObject(o, "last", first + l->count - 1);
        cJSON_AddStringToObject(o, "type", uniap_layer_kind_name(l->kind));
        cJSON_AddStringToObject(o, "signature", sig);
        cJSON_AddItemToObject(o, "params_per_layer", spec_json_int(uniap_layer_params(l)));
        cJSON_AddItemToObject(o, "params", spec_json_int(uniap_layer_params(l) * l->count));
        cJSON_AddItemToArray(runs, o);
        first += l->count;
    }
    text = cJSON_Print(root);
    if (!text) {
        rc = uniap_err(UNIAP_ENOMEM, "model --json: out of memory");
        goto free_root;
    }
    printf("%s\n", text);
    free(text);
free_root:
    cJSON_Delete(root);
    free(spec);
    return rc;
}

int uniap_cmd_model(int argc, char **argv)
{
    int json, list, rc, rank = world_rank();
    const char *target;
    uniap_model m;

    uniap_err_clear();
    rc = parse_args(argc, argv, "model", &json, &list, &target);
    if (rc == 1) {
        if (rank == 0)
            model_help();
        return 0;
    }
    if (rc < 0)
        goto report;
    if (list) {
        const char *const *zoo = uniap_zoo_models();
        for (int i = 0; zoo[i] && rank == 0; i++) {
            char h[32];
            if ((rc = uniap_zoo_model(zoo[i], &m)) < 0)
                goto report;
            human_count(uniap_model_params(&m), h, sizeof(h));
            printf("%-10s %4d layers %10s parameters\n", zoo[i], m.n_layers, h);
            uniap_model_free(&m);
        }
        return 0;
    }
    if ((rc = uniap_model_resolve(target, &m)) < 0)
        goto report;
    if (rank == 0) {
        if (json)
            rc = print_model_json(&m);
        else
            print_model_table(&m);
    }
    uniap_model_free(&m);
    if (rc < 0)
        goto report;
    fflush(stdout);
    return 0;
report:
    if (rank == 0)
        fprintf(stderr, "uniap: %s\n", uniap_errmsg());
    return uniap_exit_code(rc);
}

static void cluster_help(void)
{
    const char *const *p = uniap_cluster_presets();
    printf("usage: uniap cluster [options] NAME|FILE\n\n"
           "Prints a cluster spec. NAME is a bundled preset, FILE a cluster spec (JSON).\n\n"
           "options:\n"
           "  --json    print the canonical spec as JSON (off)\n"
           "  --list    list the presets (off)\n"
           "  --help    this help\n\n"
           "cluster spec (JSON; unknown keys are errors): name, nodes, devices_per_node,\n"
           "  device_name, device_memory (bytes) or device_memory_gib (all required but\n"
           "  name); optional, 0 = unknown: peak_flops (16-bit dense FLOP/s),\n"
           "  peak_flops_fp32, mem_bandwidth, intra_node_bw, inter_node_bw (bytes/s per\n"
           "  device, one direction), intra_node_latency, inter_node_latency (s).\n\npresets:");
    for (int i = 0; p[i]; i++)
        printf(" %s", p[i]);
    printf("\n");
}

static void print_cluster(const uniap_cluster *c)
{
    printf("cluster %s: %d node%s x %d devices = %d %s\n", c->name, c->nodes,
           c->nodes == 1 ? "" : "s", c->devices_per_node, uniap_cluster_devices(c), c->device_name);
    printf("  device memory        %lld bytes (%.2f GiB)\n", (long long)c->device_memory,
           (double)c->device_memory / (1024.0 * 1024 * 1024));
    printf("  peak 16-bit          %.1f TFLOP/s\n", c->peak_flops / 1e12);
    printf("  peak fp32            %.1f TFLOP/s\n", c->peak_flops_fp32 / 1e12);
    printf("  memory bandwidth     %.1f GB/s\n", c->mem_bandwidth / 1e9);
    printf("  inside a node        %.2f GB/s per device each way, latency %.1f us\n",
           c->intra_node_bw / 1e9, c->intra_node_latency * 1e6);
    printf("  between nodes        %.2f GB/s per device each way, latency %.1f us\n",
           c->inter_node_bw / 1e9, c->inter_node_latency * 1e6);
    printf("  (0 means unknown: measure with `uniap profile`)\n");
}

int uniap_cmd_cluster(int argc, char **argv)
{
    int json, list, rc, rank = world_rank();
    const char *target;
    uniap_cluster c;

    uniap_err_clear();
    rc = parse_args(argc, argv, "cluster", &json, &list, &target);
    if (rc == 1) {
        if (rank == 0)
            cluster_help();
        return 0;
    }
    if (rc < 0)
        goto report;
    if (list) {
        const char *const *p = uniap_cluster_presets();
        for (int i = 0; p[i] && rank == 0; i++) {
            if ((rc = uniap_cluster_preset(p[i], &c)) < 0)
                goto report;
            printf("%-14s %2d x %d %-16s %5.0f GiB\n", p[i], c.nodes, c.devices_per_node,
                   c.device_name, (double)c.device_memory / (1024.0 * 1024 * 1024));
        }
        return 0;
    }
    if ((rc = uniap_cluster_resolve(target, &c)) < 0)
        goto report;
    if (rank == 0) {
        if (json) {
            char *text = NULL;
            if ((rc = uniap_cluster_to_json(&c, &text)) < 0)
                goto report;
            printf("%s\n", text);
            free(text);
        } else {
            print_cluster(&c);
        }
    }
    fflush(stdout);
    return 0;
report:
    if (rank == 0)
        fprintf(stderr, "uniap: %s\n", uniap_errmsg());
    return uniap_exit_code(rc);
}
