/*
 * sailor_layers.c - fidelity of the analytic device model at layer level:
 * Sailor's measured per-layer forward and backward times (eth-easl/sailor,
 * profiles/<model>/<gpu>/profile.json: {mbs: {tp: {layer: [fwd_s, bwd_s,
 * update_s]}}}) against uniap's analytic times of the same transformer
 * layer, per GPU type: median and mean relative error and the signed bias
 * of forward and backward, at the datasheet peak (before: no GEMM
 * efficiency facts) and with the GEMM efficiency model (after).
 *
 * fid_sailor (fid.h) fills the report (per GPU type, the layer's
 * fwd + bwd with the GEMM efficiency model); bench_fidelity_sailor
 * [SAILOR_DIR] prints the detailed view (default: the shared datasets'
 * eth-easl_sailor/sailor). Data only is read from there.
 *
 * What the comparison assumes (each stated in benchmarks/README.md):
 *  - Sailor's runs are fp32 (its profiler's "profiled-data-fp32"; its
 *    llm_info counts 4 bytes per parameter and activation), on Ampere and
 *    Hopper with TF32 tensor-core GEMMs (NGC PyTorch containers set
 *    TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1): peak_flops_fp32 is the dense TF32
 *    rate there, the FP32 rate on Volta and Turing.
 *  - Shapes: the training configs of Sailor (OPT-350, GPT-Neo-2.7) and
 *    its llm_info (LLAMA-3-8: 16 h^2 parameters per layer = MHA + SwiGLU
 *    of ffn 4h, sequence 8192; OPT-30: OPT-30B's h 7168, 56 heads).
 *  - Eager attention with dropout (the Megatron/HF default of those runs).
 *  - Layer times at tp > 1 contain the TP all-reduces (2 forward, 2
 *    backward, of b s h fp32); they are added from Sailor's own measured
 *    intra-node bandwidth curves (providers/intra_node_bandwidths.json),
 *    so that the comparison isolates compute.
 *  - Two files ran without TF32: OPT-30 and LLAMA-3-8 on A100-40 reach 18
 *    and 16 TFLOPS in their GEMM-bound layers, below even the FP32
 *    CUDA-core peak of 19.5 (TF32 would allow 156): they are costed at
 *    the FP32 rate (NO_TF32 below). Nothing else is per file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cm_internal.h"
#include "fid.h"

#define MAX_PTS 4096

typedef struct {
    const char *name;
    int64_t h, ffn, seq, hd;
    int heads, swiglu;
} model_shape;

static const model_shape MODELS[] = {
    {"OPT-350", 1024, 4096, 2048, 64, 16, 0},      /* training_config_opt_350.json */
    {"GPT-Neo-2.7", 2560, 10240, 2048, 80, 32, 0}, /* training_config_gpt_neo27.json */
    {"LLAMA-3-8", 4096, 16384, 8192, 128, 32, 1},  /* llm_info.json: 16 h^2 / layer, s 8192 */
    {"OPT-30", 7168, 28672, 2048, 128, 56, 0},     /* llm_info.json: 12 h^2 / layer, s 2048 */
};

/* Per-GPU datasheet figures (fp32 path) and GEMM facts. Sources:
 * A100: NVIDIA A100 datasheet, TF32 156 TFLOPS dense, HBM2 1,555 GB/s
 *   (40GB) / 2,039 GB/s (80GB); 108 SMs (A100 whitepaper); TF32 matmul
 *   116 of 156 TFLOPS = 0.74 (transformers-benchmarks micro_bench).
 * GH200 96GB: NVIDIA GH200 datasheet, TF32 989 TFLOPS with sparsity =
 *   494.5 dense, HBM3 4 TB/s; 132 SMs (H100 whitepaper); fraction 0.79,
 *   H100 BF16 780 of 989.4 (H. He's H100 matmul gist; no public TF32
 *   figure found: the BF16 fraction is taken for TF32).
 * V100 SXM2 16GB: NVIDIA V100 datasheet, FP32 15.7 TFLOPS, HBM2 900 GB/s;
 *   80 SMs; FP32 matmul 14 of 16 TFLOPS = 0.875 (transformers-benchmarks).
 * RTX 2080: NVIDIA Turing spec, 2944 cores x 1710 MHz x 2 = 10.07 FP32
 *   TFLOPS, 448 GB/s; 46 SMs; FP32 Linear 4096^3 9.06 TFLOPS = 0.90
 *   (ypwhs's GPU benchmark gist).
 * TITAN RTX: 4608 x 1770 MHz x 2 = 16.31 FP32 TFLOPS, 672 GB/s; 72 SMs;
 *   the Turing fraction of the RTX 2080 (0.90).
 * RTX 3090: 10496 x 1695 MHz x 2 = 35.58 FP32 TFLOPS (TF32 dense the same
 *   rate), 936 GB/s; 82 SMs; the 3090 Ti's FP32/TF32 matmul reaches 42 of
 *   its 40 rated (transformers-benchmarks; boost above the rated clock):
 *   fraction 1. */
typedef struct {
    const char *name;
    double peak32, bw, frac;
    int sms;
    double fp32_cores; /* FP32 CUDA-core rate where peak32 is TF32 (A100: 19.5 TFLOPS) */
} gpu_facts;

/* (model, GPU) runs without TF32 (see the top of this file) */
static const char *const NO_TF32[][2] = {{"OPT-30", "A100-40"}, {"LLAMA-3-8", "A100-40"}};

static const gpu_facts GPUS[] = {
    {"A100-40", 156e12, 1555e9, 0.74, 108, 19.5e12},
    {"A100-80", 156e12, 2039e9, 0.74, 108, 19.5e12},
    {"GH-96", 494.5e12, 4000e9, 0.79, 132, 67e12},
    {"V100-16", 15.7e12, 900e9, 0.875, 80, 15.7e12},
    {"RTX-2080", 10.07e12, 448e9, 0.90, 46, 10.07e12},
    {"Titan-RTX", 16.31e12, 672e9, 0.90, 72, 16.31e12},
    {"RTX-3090", 35.58e12, 936e9, 1.0, 82, 35.58e12},
};
#define N_MODELS (int)(sizeof(MODELS) / sizeof(MODELS[0]))
#define N_GPUS   (int)(sizeof(GPUS) / sizeof(GPUS[0]))

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

/* Sailor's intra-node all-reduce bandwidth (B/s) of a group of tp at msg
 * bytes: GB/s = c2 log2(MB)^2 + c1 log2(MB) + c0, capped; the largest
 * group measured when tp is larger. */
static double sailor_bw(const cJSON *bws, const char *gpu, int tp, double msg)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(bws, gpu), *fit = NULL;
    char key[16];
    for (int t = tp; t >= 2 && !fit; t /= 2) {
        snprintf(key, sizeof(key), "%d", t);
        fit = cJSON_GetObjectItemCaseSensitive(g, key);
    }
    if (!fit)
        return 0;
    const cJSON *c = cJSON_GetArrayItem(fit, 0);
    double x = log2(msg / 1048576.0);
    double gbs = cJSON_GetArrayItem(c, 0)->valuedouble * x * x +
                 cJSON_GetArrayItem(c, 1)->valuedouble * x + cJSON_GetArrayItem(c, 2)->valuedouble;
    double bw = gbs * 1e9, cap = cJSON_GetArrayItem(fit, 1)->valuedouble;
    return bw > cap ? cap : bw;
}

/* One measured (micro-batch, tp) point of a GPU: measured and predicted
 * [before/after] forward and backward seconds. */
typedef struct {
    double mf, mb, pf[2], pb[2];
    int tp;
} point;

typedef struct {
    point p[MAX_PTS];
    int n;
} points;

static int no_tf32(const model_shape *ms, const gpu_facts *g)
{
    for (size_t i = 0; i < sizeof(NO_TF32) / sizeof(NO_TF32[0]); i++)
        if (!strcmp(NO_TF32[i][0], ms->name) && !strcmp(NO_TF32[i][1], g->name))
            return 1;
    return 0;
}

static void build(const model_shape *ms, const gpu_facts *g, int facts, uniap_model *m,
                  uniap_layer *l, uniap_cluster *c)
{
    memset(l, 0, sizeof(*l));
    l->kind = UNIAP_LAYER_DECODER;
    l->count = 1;
    l->hidden = ms->h;
    l->heads = l->kv_heads = ms->heads;
    l->head_dim = ms->hd;
    l->ffn = ms->ffn;
    l->activation = ms->swiglu ? UNIAP_ACT_SWIGLU : UNIAP_ACT_GELU;
    l->norm = ms->swiglu ? UNIAP_NORM_RMSNORM : UNIAP_NORM_LAYERNORM;
    l->position = ms->swiglu ? UNIAP_POS_ROTARY : UNIAP_POS_LEARNED;
    l->bias = !ms->swiglu;
    l->seq = ms->seq;
    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "%s", ms->name);
    m->param_dtype = m->act_dtype = UNIAP_DTYPE_FP32;
    m->seq_len = ms->seq;
    m->n_runs = 1;
    m->runs = l;
    m->n_layers = 1;
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", g->name);
    snprintf(c->device_name, sizeof(c->device_name), "%s", g->name);
    c->nodes = 1;
    c->devices_per_node = 8;
    c->device_memory = 16 * GiB;
    c->peak_flops = c->peak_flops_fp32 = no_tf32(ms, g) ? g->fp32_cores : g->peak32;
    c->mem_bandwidth = g->bw;
    c->intra_node_bw = 100e9; /* unused: TP collectives from Sailor's curves */
    if (facts) {
        c->sm_count = g->sms;
        c->gemm_efficiency = c->gemm_efficiency_fp32 = g->frac;
    }
}

/* Mean measured fwd, bwd over the transformer layers 1..n-2 of one entry;
 * *derived cleared when some update time is not 0 (informative). */
static int measured(const cJSON *layers, double *fwd, double *bwd, int *derived)
{
    int n = cJSON_GetArraySize(layers), k = 0;
    double f = 0, b = 0;
    for (int i = 1; i < n - 1; i++) {
        char key[16];
        snprintf(key, sizeof(key), "%d", i);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(layers, key);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) < 3)
            continue;
        f += cJSON_GetArrayItem(e, 0)->valuedouble;
        b += cJSON_GetArrayItem(e, 1)->valuedouble;
        if (cJSON_GetArrayItem(e, 2)->valuedouble != 0)
            *derived = 0;
        k++;
    }
    if (!k)
        return 0;
    *fwd = f / k;
    *bwd = b / k;
    return 1;
}

/* Analytic fwd, bwd of the layer at (tp, mb), plus the TP all-reduces. */
static int predict(const model_shape *ms, const gpu_facts *g, int facts, const cJSON *bws, int tp,
                   int mb, double *fwd, double *bwd)
{
    uniap_model m;
    uniap_layer l;
    uniap_cluster c;
    uniap_profile p;
    int rc;

    build(ms, g, facts, &m, &l, &c);
    if ((rc = uniap_profile_analytic(&m, &c, &mb, 1, &p)) < 0)
        return rc;
    rc = -1;
    for (int i = 0; i < p.n_layers; i++)
        if (p.layers[i].tp == tp && p.layers[i].micro_batch == mb) {
            double msg = (double)mb * ms->seq * ms->h * 4.0, comm = 0;
            if (tp > 1) {
                double bw = sailor_bw(bws, g->name, tp, msg);
                comm = bw > 0 ? 2.0 * msg / bw : 0; /* 2 all-reduces each way */
            }
            *fwd = p.layers[i].fwd.median + comm;
            *bwd = p.layers[i].bwd.median + comm;
            rc = 0;
        }
    uniap_profile_free(&p);
    return rc;
}

/* The statistics of quantity q (0 fwd, 1 bwd, 2 fwd + bwd) of variant v
 * (0 before, 1 after) over the points of e[0..n) (tp 1 only when tp1). */
static int point_stats(const point *e, int n, int v, int q, int tp1, fid_stats *st)
{
    double pr[MAX_PTS], me[MAX_PTS];
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (tp1 && e[i].tp != 1)
            continue;
        pr[k] = q == 0 ? e[i].pf[v] : q == 1 ? e[i].pb[v] : e[i].pf[v] + e[i].pb[v];
        me[k++] = q == 0 ? e[i].mf : q == 1 ? e[i].mb : e[i].mf + e[i].mb;
    }
    return fid_stats_compute(pr, me, k, 0, st);
}

/* Adds the points of one profile file to e; 0 points when the file is
 * absent (not every model ran on every GPU type). */
static int add_file(const char *dir, const model_shape *ms, const gpu_facts *g, const cJSON *bws,
                    points *e, FILE *detail)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/Planner/sailor_planner/profiles/%s/%s/profile.json", dir,
             ms->name, g->name);
    char *text = slurp(path);
    if (!text)
        return 0;
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root)
        return uniap_err(UNIAP_EFORMAT, "%s: not JSON", path);
    int derived = 1, first = e->n;
    const cJSON *mbs, *tps;
    cJSON_ArrayForEach(mbs, root)
    {
        cJSON_ArrayForEach(tps, mbs)
        {
            int mb = atoi(mbs->string), tp = atoi(tps->string);
            point x = {.tp = tp};
            if (tp < 1 || ms->heads % tp || !measured(tps, &x.mf, &x.mb, &derived) ||
                e->n >= MAX_PTS)
                continue;
            if (predict(ms, g, 0, bws, tp, mb, &x.pf[0], &x.pb[0]) < 0 ||
                predict(ms, g, 1, bws, tp, mb, &x.pf[1], &x.pb[1]) < 0) {
                uniap_err_clear();
                continue;
            }
            e->p[e->n++] = x;
        }
    }
    cJSON_Delete(root);
    fid_stats st[2];
    if (detail && e->n > first && point_stats(e->p + first, e->n - first, 0, 0, 0, &st[0]) == 0 &&
        point_stats(e->p + first, e->n - first, 1, 0, 0, &st[1]) == 0)
        fprintf(detail,
                "  %-12s on %-9s: %3d points, fwd median |err| before %5.1f %%, after %5.1f %%\n",
                ms->name, g->name, e->n - first, 100 * st[0].median_abs, 100 * st[1].median_abs);
    return e->n - first;
}

/* The detailed view's row of e (all points, or tp 1 only). */
static void row(FILE *f, const char *label, const points *e, int tp1)
{
    int k = 0;
    for (int i = 0; i < e->n; i++)
        k += !tp1 || e->p[i].tp == 1;
    fprintf(f, "| %-12s | %4d |", label, k);
    for (int v = 0; v < 2; v++)
        for (int d = 0; d < 2; d++) {
            fid_stats st;
            if (k && point_stats(e->p, e->n, v, d, tp1, &st) == 0)
                fid_print_cell(f, &st);
            else
                fprintf(f, " - |");
        }
    fprintf(f, "\n");
}

static void print_table(FILE *f, const points *e)
{
    fprintf(f, "\nRelative error of uniap's analytic layer time against Sailor's measured\n"
               "(|err| median / mean / signed bias, %%; before: datasheet peak; after: GEMM "
               "efficiency)\n\n");
    fprintf(f, "| GPU, tp      |    n | fwd before            | bwd before            "
               "| fwd after             | bwd after             |\n");
    fprintf(f, "|---|---|---|---|---|---|\n");
    for (int gi = 0; gi < N_GPUS; gi++) {
        char lab[32];
        if (!e[gi].n)
            continue;
        snprintf(lab, sizeof(lab), "%s all", GPUS[gi].name);
        row(f, lab, &e[gi], 0);
        snprintf(lab, sizeof(lab), "%s tp1", GPUS[gi].name);
        row(f, lab, &e[gi], 1);
    }
}

int fid_sailor(const char *dir, FILE *detail, fid_report *r)
{
    char path[1200];
    int rc = 0, total = 0;
    snprintf(path, sizeof(path), "%s/providers/intra_node_bandwidths.json", dir);
    char *bwtext = slurp(path);
    if (!bwtext)
        return uniap_err(UNIAP_EIO, "%s: cannot read (the Sailor dataset folder is expected)",
                         path);
    cJSON *bws = cJSON_Parse(bwtext);
    free(bwtext);
    if (!bws)
        return uniap_err(UNIAP_EFORMAT, "%s: not JSON", path);
    points *e = calloc(N_GPUS, sizeof(points));
    if (!e) {
        cJSON_Delete(bws);
        return uniap_err(UNIAP_ENOMEM, "fid_sailor: out of memory");
    }
    for (int gi = 0; gi < N_GPUS && rc >= 0; gi++)
        for (int mi = 0; mi < N_MODELS && rc >= 0; mi++)
            total += rc = add_file(dir, &MODELS[mi], &GPUS[gi], bws, &e[gi], detail);
    if (rc >= 0 && total == 0)
        rc = uniap_err(UNIAP_EIO, "%s/Planner/sailor_planner/profiles: no profile.json found", dir);
    for (int gi = 0; gi < N_GPUS && rc >= 0; gi++) {
        char name[64];
        snprintf(name, sizeof(name), "Sailor %s", GPUS[gi].name);
        fid_series *s = e[gi].n ? fid_series_new(r, name, "layer fwd+bwd", 0) : NULL;
        if (e[gi].n && !s)
            rc = UNIAP_ENOMEM;
        for (int i = 0; s && i < e[gi].n && rc >= 0; i++)
            rc = fid_series_add(s, e[gi].p[i].pf[1] + e[gi].p[i].pb[1],
                                e[gi].p[i].mf + e[gi].p[i].mb, 0);
    }
    if (rc >= 0 && detail)
        print_table(detail, e);
    free(e);
    cJSON_Delete(bws);
    return rc < 0 ? rc : 0;
}
