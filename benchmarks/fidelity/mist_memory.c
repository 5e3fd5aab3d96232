/*
 * mist_memory.c - fidelity of the memory model (and, printed, the time)
 * against Mist's tuned plans measured on NVIDIA L4 (issue 12 item 1).
 *
 * For every plan folder <root>/<family>/ with an expected_summary.json,
 * each measured plan <name>.yaml (Mist's full configuration: model,
 * sequence, vocabulary, global batch, nodes x GPUs, flash attention,
 * dtypes, per-stage layers, micro-batches, dp/tp, ZeRO flags, checkpointed
 * layers, offloading ratios) is built in uniap's terms: a model spec of
 * the same shape (embedding, blocks, head), an L4 cluster from the
 * datasheet, the analytic profile, the table of the plan's (pp, c) and the
 * plan's per-layer strategies; uniap_plan_evaluate gives per-stage memory
 * and the TPI, printed beside Mist's measured peak allocated memory and
 * iteration time. A stage with CPU offloading (uniap models none) is
 * printed but left out of the summary, with the reason.
 *
 * Usage: bench_mist_memory [ROOT]   (default: the shared dataset's
 * benchmark/mist/tuned_configs/l4-24gb). Reads only data: the YAML is
 * read line by line for the keys below, nothing else of Mist is used.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "uniap_costmodel.h"

#define DEFAULT_ROOT UNIAP_SHARED_DATASETS_DIR "/Dazz993_Mist/benchmark/mist/tuned_configs/l4-24gb"
#define MAX_STAGES   32
#define MIB          1048576.0

/* What the benchmark reads of one Mist plan. */
typedef struct mist_plan {
    long seq, vocab, batch, nodes, gpus, hidden, ffn, layers, heads, kv_heads;
    int flash, rms, swiglu, tied, dropout;
    double mem_gib;
    int n_parts, parts[MAX_STAGES], ckpt[MAX_STAGES], gas;
    double strat[MAX_STAGES][10]; /* b, dp, tp, zero w/g/o, offload w/g/o/a */
    int n_strat;
} mist_plan;

static long num_after(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    return p ? strtol(p + strlen(key), NULL, 10) : 0;
}

/* Reads the keys the benchmark needs from the YAML text, line by line. */
static int read_yaml(const char *path, mist_plan *p)
{
    FILE *f = fopen(path, "r");
    char line[256], list[64] = "";
    int row = -1, col = 0;

    if (!f)
        return -1;
    memset(p, 0, sizeof(*p));
    while (fgets(line, sizeof(line), f)) {
        char *t = line + strspn(line, " ");
        if (strncmp(line, "  ", 2) == 0 && t[0] != '-')
            list[0] = 0; /* a key ends the list before it */
        if (strncmp(t, "- - ", 4) == 0 && strcmp(list, "stage_strategies") == 0) {
            row = p->n_strat++;
            col = 0;
            p->strat[row][col++] = atof(t + 4);
            continue;
        }
        if (t[0] == '-' && list[0]) {
            double v = atof(t + 2);
            if (strcmp(list, "layer_partitions") == 0 && p->n_parts < MAX_STAGES)
                p->parts[p->n_parts++] = (int)v;
            else if (strcmp(list, "gradient_checkpointing") == 0)
                p->ckpt[col++] = (int)v;
            else if (strcmp(list, "stage_strategies") == 0 && row >= 0 && col < 10)
                p->strat[row][col++] = v;
            continue;
        }
        if (strstr(t, "layer_partitions:") == t || strstr(t, "gradient_checkpointing:") == t ||
            strstr(t, "stage_strategies:") == t) {
            snprintf(list, sizeof(list), "%.*s", (int)strcspn(t, ":"), t);
            col = 0;
            continue;
        }
        if (strstr(t, "max_sequence_length:") == t)
            p->seq = num_after(t, ":");
        else if (strstr(t, "vocab_size:") == t)
            p->vocab = num_after(t, ":");
        else if (strstr(t, "global_batch_size:") == t)
            p->batch = num_after(t, ":");
        else if (strstr(t, "num_nodes:") == t)
            p->nodes = num_after(t, ":");
        else if (strstr(t, "num_gpus_per_node:") == t)
            p->gpus = num_after(t, ":");
        else if (strstr(t, "memory_capacity:") == t)
            p->mem_gib = atof(t + strlen("memory_capacity:"));
        else if (strstr(t, "gradient_accumulation_steps:") == t)
            p->gas = (int)num_after(t, ":");
        else if (strstr(t, "hidden_size:") == t)
            p->hidden = num_after(t, ":");
        else if (strstr(t, "intermediate_size:") == t)
            p->ffn = num_after(t, ":");
        else if (strstr(t, "num_hidden_layers:") == t)
            p->layers = num_after(t, ":");
        else if (strstr(t, "num_attention_heads:") == t)
            p->heads = num_after(t, ":");
        else if (strstr(t, "num_heads_kv:") == t)
            p->kv_heads = num_after(t, ":");
        else if (strstr(t, "use_flash_attn:") == t)
            p->flash = strstr(t, "true") != NULL;
        else if (strstr(t, "normalization:") == t)
            p->rms = strstr(t, "rmsnorm") != NULL;
        else if (strstr(t, "mlp_type:") == t)
            p->swiglu = strstr(t, "gated") != NULL;
        else if (strstr(t, "tie_word_embeddings:") == t)
            p->tied = strstr(t, "true") != NULL;
        else if (strstr(t, "hidden_dropout:") == t || strstr(t, "attention_dropout:") == t)
            p->dropout |= atof(strchr(t, ':') + 1) > 0;
    }
    fclose(f);
    return p->n_parts > 0 && p->n_strat == p->n_parts && p->hidden > 0 ? 0 : -1;
}

/* The model spec of p (GPT: learned positions, LayerNorm, GELU; Llama:
 * rotary, RMSNorm, SwiGLU; no biases, as Mist's configs). */
static int build_model(const mist_plan *p, const char *name, uniap_model *m)
{
    char json[2048];
    const char *norm = p->rms ? "rmsnorm" : "layernorm";
    snprintf(json, sizeof(json),
             "{\"name\": \"%s\", \"seq_len\": %ld, \"param_dtype\": \"fp16\", "
             "\"attention\": \"%s\", \"dropout\": %s, \"layers\": ["
             "{\"type\": \"embedding\", \"hidden\": %ld, \"vocab\": %ld%s},"
             "{\"type\": \"decoder\", \"count\": %ld, \"hidden\": %ld, \"heads\": %ld, "
             "\"kv_heads\": %ld, \"ffn\": %ld, \"activation\": \"%s\", \"norm\": \"%s\", "
             "\"position\": \"%s\"},"
             "{\"type\": \"head\", \"hidden\": %ld, \"vocab\": %ld, \"norm\": \"%s\", "
             "\"tied\": %s}]}",
             name, p->seq, p->flash ? "flash" : "eager", p->dropout ? "true" : "false", p->hidden,
             p->vocab, p->rms ? "" : ", \"position\": \"learned\"", p->layers, p->hidden, p->heads,
             p->kv_heads ? p->kv_heads : p->heads, p->ffn, p->swiglu ? "swiglu" : "gelu", norm,
             p->rms ? "rotary" : "none", p->hidden, p->vocab, norm, p->tied ? "true" : "false");
    return uniap_model_parse(json, name, m);
}

/* NVIDIA L4 datasheet (NVIDIA L4 Tensor Core GPU datasheet, 2023): 24 GB
 * GDDR6 at 300 GB/s, 121 TFLOP/s dense FP16 tensor, 30.3 TFLOP/s FP32,
 * PCIe Gen4 x16 (32 GB/s per direction), no NVLink; the device memory the
 * runtime reports (Mist's memory_capacity, GiB); between nodes 100 Gb/s
 * shared by the node's GPUs (a cloud g2 instance's network). */
static void build_cluster(const mist_plan *p, uniap_cluster *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "l4-%ldx%ld", p->nodes, p->gpus);
    snprintf(c->device_name, sizeof(c->device_name), "NVIDIA L4");
    c->nodes = (int)p->nodes;
    c->devices_per_node = (int)p->gpus;
    c->device_memory = (int64_t)(p->mem_gib * 1073741824.0);
    c->peak_flops = 121e12;
    c->peak_flops_fp32 = 30.3e12;
    c->mem_bandwidth = 300e9;
    c->intra_node_bw = 32e9;
    c->inter_node_bw = 12.5e9 / (double)p->gpus;
    c->intra_node_latency = 10e-6;
    c->inter_node_latency = 30e-6;
}

/* Parses "[18506 MB, 13406 MB]" into v; returns the count. */
static int parse_mb_list(const char *s, double *v, int max)
{
    int n = 0;
    while (s && *s && n < max) {
        s += strcspn(s, "0123456789");
        if (!*s)
            break;
        char *end;
        v[n++] = strtod(s, &end);
        s = end;
    }
    return n;
}

typedef struct summary {
    int n_mem, n_oom, n_time, n_excluded;
    double sum_abs_mem, max_abs_mem, sum_abs_time;
} summary;

/* The strategy of stage i's layers (ckpt: full recompute). */
static void stage_strategy(const mist_plan *p, int i, int ckpt, uniap_strategy *s)
{
    memset(s, 0, sizeof(*s));
    s->dp = (int)p->strat[i][1];
    s->tp = (int)p->strat[i][2];
    s->tp_consecutive = 1;
    s->flavour = s->dp < 2            ? UNIAP_DP_DDP
                 : p->strat[i][3] > 0 ? UNIAP_DP_FSDP
                 : p->strat[i][4] > 0 ? UNIAP_DP_ZERO2
                 : p->strat[i][5] > 0 ? UNIAP_DP_ZERO1
                                      : UNIAP_DP_DDP;
    s->ckpt = ckpt ? UNIAP_CKPT_FULL : UNIAP_CKPT_NONE;
    uniap_strategy_format(s);
}

static int find_strategy(const uniap_cost_table *t, const uniap_strategy *s)
{
    for (int k = 0; k < t->n_strategies; k++)
        if (strcmp(t->strategies[k].name, s->name) == 0)
            return k;
    return -1;
}

/* Evaluates one plan and prints its rows. */
static int run_plan(const char *family, const char *name, const mist_plan *p, const cJSON *measured,
                    summary *sum)
{
    uniap_model m;
    uniap_cluster c;
    uniap_profile prof;
    uniap_costmodel *cm = NULL;
    uniap_cost_table t;
    uniap_plan_eval ev;
    uniap_cost_options o;
    int mbs[64], deg = p->n_parts, rc, *stage_of = NULL, *strat_of = NULL;
    double meas[MAX_STAGES];
    const cJSON *jm =
        cJSON_GetObjectItemCaseSensitive(measured, "exec_stage_peak_allocated_memories");
    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(measured, "exec_total_cost");
    int n_meas = parse_mb_list(cJSON_IsString(jm) ? jm->valuestring : NULL, meas, MAX_STAGES);
    double tmeas = cJSON_IsString(jt) ? atof(jt->valuestring) : 0;

    memset(&t, 0, sizeof(t));
    memset(&ev, 0, sizeof(ev));
    memset(&prof, 0, sizeof(prof));
    build_cluster(p, &c);
    if ((rc = build_model(p, name, &m)) < 0)
        return rc;
    int n = 0;
    for (long d = 1; d <= p->batch && n < 64; d++)
        if (p->batch % d == 0)
            mbs[n++] = (int)d;
    if ((rc = uniap_profile_analytic(&m, &c, mbs, n, &prof)) < 0)
        goto done;
    uniap_cost_options_default(&o);
    o.global_batch = p->batch;
    o.schedule = UNIAP_SCHED_1F1B;
    if ((rc = uniap_costmodel_create(&m, &c, &prof, &o, &cm)) < 0 ||
        (rc = uniap_costmodel_table(cm, deg, p->gas, &t)) < 0)
        goto done;
    stage_of = calloc((size_t)m.n_layers, sizeof(int));
    strat_of = calloc((size_t)m.n_layers, sizeof(int));
    if (!stage_of || !strat_of) {
        rc = UNIAP_ENOMEM;
        goto done;
    }
    /* embedding on stage 0, the blocks by layer_partitions (the first
     * ckpt[i] of stage i fully recomputed), the head on the last stage,
     * the edges with their stage's strategy (Mist's pre_post_strategy) */
    for (int i = 0, u = 1; i < deg; i++)
        for (int j = 0; j < p->parts[i]; j++, u++) {
            uniap_strategy s;
            stage_strategy(p, i, j < p->ckpt[i], &s);
            stage_of[u] = i;
            strat_of[u] = find_strategy(&t, &s);
        }
    uniap_strategy e0, e1;
    stage_strategy(p, 0, 0, &e0);
    stage_strategy(p, deg - 1, 0, &e1);
    strat_of[0] = find_strategy(&t, &e0);
    stage_of[m.n_layers - 1] = deg - 1;
    strat_of[m.n_layers - 1] = find_strategy(&t, &e1);
    for (int u = 0; u < m.n_layers; u++)
        if (strat_of[u] < 0) {
            rc = uniap_err(UNIAP_EINVAL, "%s: layer %d: the plan's strategy is not in the table",
                           name, u);
            goto done;
        }
    if ((rc = uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, stage_of, strat_of, &ev)) < 0)
        goto done;
    double budget = t.mem_budget[0];
    for (int i = 0; i < deg; i++) {
        double pred = ev.stage_mem[i] / MIB, err = i < n_meas ? pred / meas[i] - 1 : NAN;
        int off = 0;
        for (int q = 6; q < 10; q++)
            off |= p->strat[i][q] > 0;
        printf("%-6s %-40s %2d %9.0f %9.0f %+7.1f%% %4s", family, name, i,
               i < n_meas ? meas[i] : NAN, pred, 100 * err,
               ev.stage_mem[i] > budget ? "OOM" : "fits");
        if (off) {
            printf("  excluded: offloads %.3g of optimizer states, %.3g of activations to CPU "
                   "(uniap models no offloading)\n",
                   p->strat[i][8], p->strat[i][9]);
            sum->n_excluded++;
            continue;
        }
        printf("\n");
        if (i < n_meas) {
            sum->n_mem++;
            sum->sum_abs_mem += fabs(err);
            if (fabs(err) > sum->max_abs_mem)
                sum->max_abs_mem = fabs(err);
            sum->n_oom += ev.stage_mem[i] > budget;
        }
    }
    printf("%-6s %-40s time measured %.3f s, predicted %.3f s (%+.1f%%)\n", family, name, tmeas,
           ev.tpi, tmeas > 0 ? 100 * (ev.tpi / tmeas - 1) : NAN);
    if (tmeas > 0) {
        sum->n_time++;
        sum->sum_abs_time += fabs(ev.tpi / tmeas - 1);
    }
done:
    if (rc < 0)
        fprintf(stderr, "%s/%s: %s\n", family, name, uniap_errmsg());
    free(stage_of);
    free(strat_of);
    uniap_plan_eval_free(&ev);
    uniap_cost_table_free(&t);
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&prof);
    uniap_model_free(&m);
    return rc;
}

static int run_family(const char *root, const char *family, summary *sum)
{
    char path[1024], *text = NULL;
    cJSON *js, *it;
    mist_plan p;

    snprintf(path, sizeof(path), "%s/%s/expected_summary.json", root, family);
    if (uniap_read_file(path, &text, NULL) < 0 || !(js = cJSON_Parse(text))) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(text);
        return -1;
    }
    cJSON_ArrayForEach(it, js)
    {
        snprintf(path, sizeof(path), "%s/%s/%s.yaml", root, family, it->string);
        if (read_yaml(path, &p) < 0) {
            fprintf(stderr, "%s: cannot read the plan\n", path);
            continue;
        }
        uniap_err_clear();
        run_plan(family, it->string, &p, it, sum);
    }
    cJSON_Delete(js);
    free(text);
    return 0;
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : DEFAULT_ROOT;
    summary sum = {0};

    printf("%-6s %-40s %2s %9s %9s %8s %4s\n", "family", "plan", "st", "meas MiB", "pred MiB",
           "error", "call");
    run_family(root, "gpt", &sum);
    run_family(root, "llama", &sum);
    printf("\nsummary: %d stages compared (%d excluded: CPU offloading), memory mean |error| "
           "%.1f%%, max %.1f%%, %d called out of memory; iteration time mean |error| %.1f%% "
           "over %d plans\n",
           sum.n_mem, sum.n_excluded, sum.n_mem ? 100 * sum.sum_abs_mem / sum.n_mem : 0.0,
           100 * sum.max_abs_mem, sum.n_oom, sum.n_time ? 100 * sum.sum_abs_time / sum.n_time : 0.0,
           sum.n_time);
    return 0;
}
