/*
 * mist_memory.c - fidelity of the memory model (and, printed, the time)
 * against Mist's tuned plans measured on NVIDIA L4 (issue 12 items 1, 6).
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
 * printed but left out of the summary, with the reason. The time is
 * evaluated twice: on the datasheet L4 alone (before), and with the L4's
 * achievable GEMM and flash-attention fractions and SM count taken from
 * Mist's own kernel measurements on L4 (mist_kernels.c; after). Memory
 * does not depend on them.
 *
 * fid_mist (fid.h) fills the report; bench_mist_memory [ROOT [KERNELS]]
 * prints the detailed view (defaults: the shared dataset's
 * benchmark/mist/tuned_configs/l4-24gb and mist/node_database/
 * cache_NVIDIA_L4). Reads only data: the YAML is read line by line for the
 * keys below, nothing else of Mist is used.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fid.h"
#include "uniap_costmodel.h"

#define MAX_STAGES 32
#define MIB        1048576.0
#define L4_SMS     58

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
 * shared by the node's GPUs (a cloud g2 instance's network). With facts:
 * the L4's 58 SMs (NVIDIA Ada GPU architecture whitepaper: AD104 in the
 * L4 configuration) and the fractions derived from Mist's kernels. */
static void build_cluster(const mist_plan *p, const fid_l4_facts *facts, uniap_cluster *c)
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
    if (facts) {
        c->sm_count = L4_SMS;
        c->gemm_efficiency = facts->gemm;
        c->flash_fwd_efficiency = facts->flash_fwd;
        c->flash_bwd_efficiency = facts->flash_bwd;
    }
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

/* What one evaluation of a plan gives. */
typedef struct mist_eval {
    double mem[MAX_STAGES], budget, tpi;
} mist_eval;

/* Per-layer stages and strategies of plan p in t: the embedding on stage
 * 0, the blocks by layer_partitions (the first ckpt[i] of stage i fully
 * recomputed), the head on the last stage, the edges with their stage's
 * strategy (Mist's pre_post_strategy). */
static int place_layers(const mist_plan *p, const char *name, const uniap_cost_table *t, int L,
                        int *stage_of, int *strat_of)
{
    int deg = p->n_parts;
    uniap_strategy s;
    for (int i = 0, u = 1; i < deg; i++)
        for (int j = 0; j < p->parts[i] && u < L - 1; j++, u++) {
            stage_strategy(p, i, j < p->ckpt[i], &s);
            stage_of[u] = i;
            strat_of[u] = find_strategy(t, &s);
        }
    stage_strategy(p, 0, 0, &s);
    stage_of[0] = 0;
    strat_of[0] = find_strategy(t, &s);
    stage_strategy(p, deg - 1, 0, &s);
    stage_of[L - 1] = deg - 1;
    strat_of[L - 1] = find_strategy(t, &s);
    for (int u = 0; u < L; u++)
        if (strat_of[u] < 0)
            return uniap_err(UNIAP_EINVAL, "%s: layer %d: the plan's strategy is not in the table",
                             name, u);
    return UNIAP_OK;
}

/* Evaluates plan p on the L4 cluster (facts: NULL for the datasheet). */
static int eval_plan(const mist_plan *p, const char *name, const fid_l4_facts *facts,
                     mist_eval *out)
{
    uniap_model m;
    uniap_cluster c;
    uniap_profile prof;
    uniap_costmodel *cm = NULL;
    uniap_cost_table t;
    uniap_plan_eval ev;
    uniap_cost_options o;
    int mbs[64], n = 0, rc, *stage_of = NULL, *strat_of = NULL;

    memset(&t, 0, sizeof(t));
    memset(&ev, 0, sizeof(ev));
    memset(&prof, 0, sizeof(prof));
    build_cluster(p, facts, &c);
    if ((rc = build_model(p, name, &m)) < 0)
        return rc;
    for (long d = 1; d <= p->batch && n < 64; d++)
        if (p->batch % d == 0)
            mbs[n++] = (int)d;
    if ((rc = uniap_profile_analytic(&m, &c, mbs, n, &prof)) < 0)
        goto free_all;
    uniap_cost_options_default(&o);
    o.global_batch = p->batch;
    o.schedule = UNIAP_SCHED_1F1B;
    if ((rc = uniap_costmodel_create(&m, &c, &prof, &o, &cm)) < 0 ||
        (rc = uniap_costmodel_table(cm, p->n_parts, p->gas, &t)) < 0)
        goto free_all;
    stage_of = calloc((size_t)m.n_layers, sizeof(int));
    strat_of = calloc((size_t)m.n_layers, sizeof(int));
    if (!stage_of || !strat_of) {
        rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory", name);
        goto free_all;
    }
    if ((rc = place_layers(p, name, &t, m.n_layers, stage_of, strat_of)) < 0 ||
        (rc = uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, stage_of, strat_of, &ev)) < 0)
        goto free_all;
    for (int i = 0; i < p->n_parts; i++)
        out->mem[i] = ev.stage_mem[i];
    out->budget = t.mem_budget[0];
    out->tpi = ev.tpi;
free_all:
    free(stage_of);
    free(strat_of);
    uniap_plan_eval_free(&ev);
    uniap_cost_table_free(&t);
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&prof);
    uniap_model_free(&m);
    return rc;
}

/* The report's series: stage memory, time before and after. */
typedef struct mist_series {
    fid_series *mem, *time[2];
    int n_excluded, n_oom;
} mist_series;

/* Evaluates one plan, prints its rows and adds its points. */
static int run_plan(const char *family, const char *name, const mist_plan *p, const cJSON *measured,
                    const fid_l4_facts *facts, mist_series *ms, FILE *f)
{
    mist_eval ev[2];
    double meas[MAX_STAGES];
    const cJSON *jm =
        cJSON_GetObjectItemCaseSensitive(measured, "exec_stage_peak_allocated_memories");
    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(measured, "exec_total_cost");
    int n_meas = parse_mb_list(cJSON_IsString(jm) ? jm->valuestring : NULL, meas, MAX_STAGES);
    double tmeas = cJSON_IsString(jt) ? atof(jt->valuestring) : 0;
    int rc, gpus = (int)(p->nodes * p->gpus);

    if (n_meas != p->n_parts || !(tmeas > 0))
        return uniap_err(UNIAP_EFORMAT,
                         "expected_summary.json: %s/%s: exec_stage_peak_allocated_memories (%d "
                         "stages) and exec_total_cost (s) expected",
                         family, name, p->n_parts);
    if ((rc = eval_plan(p, name, NULL, &ev[0])) < 0 || (rc = eval_plan(p, name, facts, &ev[1])) < 0)
        return rc;
    for (int i = 0; i < p->n_parts; i++) {
        double pred = ev[1].mem[i] / MIB, err = pred / meas[i] - 1;
        int off = 0;
        for (int q = 6; q < 10; q++)
            off |= p->strat[i][q] > 0;
        if (f)
            fprintf(f, "%-6s %-40s %2d %9.0f %9.0f %+7.1f%% %4s", family, name, i, meas[i], pred,
                    100 * err, ev[1].mem[i] > ev[1].budget ? "OOM" : "fits");
        if (off) {
            if (f)
                fprintf(f,
                        "  excluded: offloads %.3g of optimizer states, %.3g of activations to "
                        "CPU (uniap models no offloading)\n",
                        p->strat[i][8], p->strat[i][9]);
            ms->n_excluded++;
            continue;
        }
        if (f)
            fprintf(f, "\n");
        ms->n_oom += ev[1].mem[i] > ev[1].budget;
        if ((rc = fid_series_add(ms->mem, pred, meas[i], gpus)) < 0)
            return rc;
    }
    if (f)
        fprintf(f,
                "%-6s %-40s time measured %.3f s, predicted %.3f s (%+.1f%%) datasheet, "
                "%.3f s (%+.1f%%) kernel facts\n",
                family, name, tmeas, ev[0].tpi, 100 * (ev[0].tpi / tmeas - 1), ev[1].tpi,
                100 * (ev[1].tpi / tmeas - 1));
    if ((rc = fid_series_add(ms->time[0], ev[0].tpi, tmeas, gpus)) < 0)
        return rc;
    return fid_series_add(ms->time[1], ev[1].tpi, tmeas, gpus);
}

static int run_family(const char *root, const char *family, const fid_l4_facts *facts,
                      mist_series *ms, FILE *f)
{
    char path[1024], *text = NULL;
    cJSON *js, *it;
    mist_plan p;
    int rc;

    snprintf(path, sizeof(path), "%s/%s/expected_summary.json", root, family);
    if ((rc = uniap_read_file(path, &text, NULL)) < 0)
        return rc;
    if (!(js = cJSON_Parse(text))) {
        free(text);
        return uniap_err(UNIAP_EFORMAT, "%s: not JSON", path);
    }
    cJSON_ArrayForEach(it, js)
    {
        snprintf(path, sizeof(path), "%s/%s/%s.yaml", root, family, it->string);
        if (read_yaml(path, &p) < 0) {
            rc = uniap_err(UNIAP_EFORMAT,
                           "%s: cannot read the plan (layer_partitions, stage_strategies, "
                           "hidden_size expected)",
                           path);
            break;
        }
        if ((rc = run_plan(family, it->string, &p, it, facts, ms, f)) < 0)
            break;
    }
    cJSON_Delete(js);
    free(text);
    return rc;
}

/* Prints the L4 facts derived from Mist's kernel measurements. */
static void print_facts(FILE *f, const char *kernels, const fid_l4_facts *k)
{
    fprintf(f,
            "L4 facts from Mist's kernel measurements (%s):\n"
            "  GEMM: %d linear-layer entries, median %.3f of the 121 TFLOP/s peak as measured, "
            "%.3f after the model's wave quantization (58 SMs, 128 x 128 tiles): "
            "gemm_efficiency %.3f\n"
            "  flash attention: %d entries, flash_fwd_efficiency %.3f, flash_bwd_efficiency "
            "%.3f (the model's FLOP count: full s^2 scores, backward 2.5x forward)\n"
            "  eager attention bmm/baddbmm: %d entries, median %.3f of peak; the score tensor's "
            "bytes at 300 GB/s take %.2f of their forward time (memory-bound: priced as "
            "element-wise bytes; not used for a fraction)\n\n",
            kernels, k->n_gemm, k->gemm_raw, k->gemm, k->gemm, k->n_flash, k->flash_fwd,
            k->flash_bwd, k->n_bmm, k->bmm_raw, k->bmm_mem_share);
}

int fid_mist(const char *root, const char *kernels, FILE *f, fid_report *r)
{
    mist_series ms = {0};
    fid_l4_facts facts;
    uniap_cluster l4;
    mist_plan one = {.nodes = 1, .gpus = 1, .mem_gib = 22.49};
    int rc;

    build_cluster(&one, NULL, &l4);
    l4.sm_count = L4_SMS;
    if ((rc = fid_l4_kernel_facts(kernels, &l4, &facts)) < 0)
        return rc;
    if (!(ms.mem = fid_series_new(r, "Mist, L4 kernel facts", "stage memory", 0)) ||
        !(ms.time[0] = fid_series_new(r, "Mist, datasheet L4", "TPI", 0)) ||
        !(ms.time[1] = fid_series_new(r, "Mist, L4 kernel facts", "TPI", 0)))
        return UNIAP_ENOMEM;
    fid_note(r,
             "Mist L4 facts from its kernel measurements: gemm_efficiency %.3f (median of %d "
             "linear GEMMs' fwd/bwd, %.3f of peak before wave quantization), "
             "flash_fwd_efficiency %.3f, flash_bwd_efficiency %.3f (%d entries), sm_count %d",
             facts.gemm, facts.n_gemm, facts.gemm_raw, facts.flash_fwd, facts.flash_bwd,
             facts.n_flash, L4_SMS);
    if (f) {
        print_facts(f, kernels, &facts);
        fprintf(f, "%-6s %-40s %2s %9s %9s %8s %4s\n", "family", "plan", "st", "meas MiB",
                "pred MiB", "error", "call");
    }
    if ((rc = run_family(root, "gpt", &facts, &ms, f)) < 0 ||
        (rc = run_family(root, "llama", &facts, &ms, f)) < 0)
        return rc;
    if (f) {
        fid_stats m, t[2];
        if ((rc = fid_stats_compute(ms.mem->pred, ms.mem->meas, ms.mem->n, 0, &m)) < 0 ||
            (rc = fid_stats_compute(ms.time[0]->pred, ms.time[0]->meas, ms.time[0]->n, 0, &t[0])) <
                0 ||
            (rc = fid_stats_compute(ms.time[1]->pred, ms.time[1]->meas, ms.time[1]->n, 0, &t[1])) <
                0)
            return rc;
        fprintf(f,
                "\nsummary: %d stages compared (%d excluded: CPU offloading), memory mean "
                "|error| %.1f%%, max %.1f%%, %d called out of memory; iteration time over %d "
                "plans: mean |error| %.1f%% (signed %+.1f%%) datasheet, %.1f%% (signed %+.1f%%) "
                "kernel facts\n",
                m.n, ms.n_excluded, 100 * m.mean_abs, 100 * m.max_abs, ms.n_oom, t[0].n,
                100 * t[0].mean_abs, 100 * t[0].signed_mean, 100 * t[1].mean_abs,
                100 * t[1].signed_mean);
    }
    return UNIAP_OK;
}
