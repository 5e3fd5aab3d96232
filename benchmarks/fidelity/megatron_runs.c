/*
 * megatron_runs.c - fidelity of uniap's iteration time against the
 * published Megatron-LM runs on A100 (Narayanan et al., SC21, Table 1:
 * GPT models of 1.7B to 1T parameters on 32 to 3072 A100-80GB), whose
 * transcription with its citation is megatron_sc21_table1.json.
 *
 * Per row: the model spec (GPT as Megatron-LM builds it: learned positions,
 * LayerNorm, GeLU MLP of 4h, biases, output layer tied to the embedding,
 * fp16 mixed precision, eager attention with dropout: flash attention
 * postdates the paper), the cluster (preset a100-80g-2x8 with gpus / 8
 * nodes: 8 A100-80GB per node on NVLink, HDR InfiniBand 25 GB/s per GPU,
 * as the paper's Selene; the preset's cited figures, io/cluster_spec.c) and the plan Megatron-LM
 * ran, read by uniap's own reader of Megatron-LM command lines (uniap_plan_import_megatron): tp, pp
 * with the blocks split evenly, dp = gpus / (tp pp), micro-batch 1, 1F1B, full activation
 * recomputation of every block, no distributed optimizer (DDP). The paper ran the interleaved
 * schedule, which uniap does not model: its smaller pipeline bubble makes the measured run faster
 * than a 1F1B one by up to (pp - 1) / m (1 - 1 / v) of the ideal time (m
 * micro-batches, v model chunks per GPU, not stated). uniap_plan_evaluate
 * on the analytic profile gives the TPI; the measured seconds per
 * iteration are the paper's: F / (TFLOP/s per GPU x GPUs), F its equation
 * (3). Each row is checked against the paper's own arithmetic (parameter
 * count by its equation (2), aggregate PFLOP/s, % of the 312 TFLOP/s peak)
 * so that a transcription slip is refused.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fid.h"
#include "uniap_costmodel.h"

typedef struct mg_row {
    double params_b, tflops, pct, agg;
    int heads, hidden, layers, tp, pp, gpus, batch;
} mg_row;

typedef struct mg_table {
    int seq, vocab, n;
    double peak_tflops;
    mg_row rows[32];
} mg_table;

static int num(const cJSON *o, const char *key, const char *path, int i, double *v)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(x) || !(x->valuedouble > 0))
        return uniap_err(UNIAP_EFORMAT, "%s: rows[%d].%s: expected a number > 0", path, i, key);
    *v = x->valuedouble;
    return UNIAP_OK;
}

/* Checks row i against the paper's arithmetic and the plan's shape. */
static int check_row(const mg_table *t, const mg_row *r, const char *path, int i)
{
    double h = r->hidden, l = r->layers, V = t->vocab, s = t->seq;
    double P = 12 * l * h * h * (1 + 13 / (12 * h) + (V + s) / (12 * l * h)); /* eq. (2) */
    const char *bad = NULL;
    if (fabs(P / 1e9 - r->params_b) > 0.0505) /* the paper rounds to 0.1B */
        bad = "params_b (equation 2 of the layers, hidden, vocab and sequence)";
    else if (fabs(r->tflops * r->gpus / 1e3 - r->agg) > 0.05 + 0.01 * r->agg)
        bad = "aggregate_pflops (tflops_per_gpu x gpus)";
    else if (fabs(100 * r->tflops / t->peak_tflops - r->pct) > 1)
        bad = "pct_peak (tflops_per_gpu / peak_tflops)";
    else if (r->gpus % (r->tp * r->pp) || r->layers % r->pp || r->gpus % 8 ||
             r->batch % (r->gpus / (r->tp * r->pp)))
        bad = "tp, pp, gpus, batch (tp x pp divides gpus, pp the layers, dp the batch; 8 GPUs "
              "a node)";
    return bad ? uniap_err(UNIAP_EFORMAT, "%s: rows[%d]: %s does not add up", path, i, bad)
               : UNIAP_OK;
}

static int read_table(const char *path, mg_table *t)
{
    char *text = NULL;
    cJSON *js, *row;
    double v[11];
    static const char *const keys[] = {
        "params_b", "heads",          "hidden",   "layers",          "tp", "pp", "gpus",
        "batch",    "tflops_per_gpu", "pct_peak", "aggregate_pflops"};
    int rc = uniap_read_file(path, &text, NULL);
    if (rc < 0)
        return rc;
    memset(t, 0, sizeof(*t));
    if (!(js = cJSON_Parse(text))) {
        free(text);
        return uniap_err(UNIAP_EFORMAT, "%s: not JSON", path);
    }
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(js, "seq_len");
    const cJSON *voc = cJSON_GetObjectItemCaseSensitive(js, "vocab");
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(js, "peak_tflops");
    if (!cJSON_IsNumber(seq) || !cJSON_IsNumber(voc) || !cJSON_IsNumber(pk))
        rc = uniap_err(UNIAP_EFORMAT, "%s: seq_len, vocab, peak_tflops: expected numbers", path);
    else
        t->seq = seq->valueint, t->vocab = voc->valueint, t->peak_tflops = pk->valuedouble;
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(js, "rows"))
    {
        if (rc < 0 || t->n >= 32)
            break;
        for (int k = 0; k < 11 && rc == 0; k++)
            rc = num(row, keys[k], path, t->n, &v[k]);
        if (rc < 0)
            break;
        mg_row *r = &t->rows[t->n];
        *r = (mg_row){v[0],      v[8],      v[9],      v[10],     (int)v[1], (int)v[2],
                      (int)v[3], (int)v[4], (int)v[5], (int)v[6], (int)v[7]};
        rc = check_row(t, r, path, t->n++);
    }
    if (rc == 0 && t->n == 0)
        rc = uniap_err(UNIAP_EFORMAT, "%s: rows: expected the table's rows", path);
    cJSON_Delete(js);
    free(text);
    return rc;
}

/* Measured seconds per iteration: equation (3) over the achieved rate. */
static double measured_seconds(const mg_table *t, const mg_row *r)
{
    double B = r->batch, s = t->seq, l = r->layers, h = r->hidden, V = t->vocab;
    double F = 96 * B * s * l * h * h * (1 + s / (6 * h) + V / (16 * l * h));
    return F / (r->tflops * 1e12 * r->gpus);
}

static int build_model(const mg_table *t, const mg_row *r, uniap_model *m)
{
    char json[2048], name[64];
    snprintf(name, sizeof(name), "gpt-%.1fb-sc21", r->params_b);
    snprintf(json, sizeof(json),
             "{\"name\": \"%s\", \"seq_len\": %d, \"param_dtype\": \"fp16\", "
             "\"attention\": \"eager\", \"layers\": ["
             "{\"type\": \"embedding\", \"hidden\": %d, \"vocab\": %d, \"position\": \"learned\", "
             "\"max_positions\": %d},"
             "{\"type\": \"decoder\", \"count\": %d, \"hidden\": %d, \"heads\": %d, \"ffn\": %d, "
             "\"activation\": \"gelu\", \"norm\": \"layernorm\", \"bias\": true},"
             "{\"type\": \"head\", \"hidden\": %d, \"vocab\": %d, \"norm\": \"layernorm\", "
             "\"tied\": true}]}",
             name, t->seq, r->hidden, t->vocab, t->seq, r->layers, r->hidden, r->heads,
             4 * r->hidden, r->hidden, t->vocab);
    return uniap_model_parse(json, name, m);
}

/* What one row's evaluation gives. */
typedef struct mg_eval {
    double tpi, mem_gib, compute, tp_comm, tail;
    int dp, micro_batches, feasible;
} mg_eval;

/* The table of plan p and its evaluation (cm built for p). */
static int evaluate_plan(const uniap_costmodel *cm, const uniap_plan *p, int n_layers, mg_eval *out)
{
    uniap_cost_table t;
    uniap_plan_eval ev;
    uniap_stage_breakdown *sb = calloc((size_t)p->deg, sizeof(*sb));
    int *idx = calloc((size_t)n_layers, sizeof(int)), rc;

    memset(&t, 0, sizeof(t));
    memset(&ev, 0, sizeof(ev));
    if (!sb || !idx)
        rc = uniap_err(UNIAP_ENOMEM, "megatron runs: out of memory");
    else if ((rc = uniap_costmodel_table(cm, p->deg, p->micro_batches, &t)) == 0 &&
             (rc = uniap_plan_strategy_indices(p, &t, idx)) == 0 &&
             (rc = uniap_plan_evaluate(&t, p->schedule, p->stage_of, idx, &ev)) == 0 &&
             (rc = uniap_plan_breakdown(cm, p, &t, idx, sb)) == 0) {
        out->tpi = ev.tpi;
        out->feasible = ev.feasible;
        out->compute = sb[0].compute;
        out->tp_comm = sb[0].tp_comm;
        out->tail = sb[0].sync_exposed + sb[0].optimizer + sb[0].param_gather;
        for (int i = 0; i < p->deg; i++)
            out->mem_gib = fmax(out->mem_gib, ev.stage_mem[i] / 1073741824.0);
    }
    free(sb);
    free(idx);
    uniap_plan_eval_free(&ev);
    uniap_cost_table_free(&t);
    return rc;
}

/* Builds and evaluates row r. */
static int run_row(const mg_table *tb, const mg_row *r, mg_eval *out)
{
    uniap_model m;
    uniap_cluster c;
    uniap_profile prof;
    uniap_plan plan;
    uniap_costmodel *cm = NULL;
    uniap_cost_options o;
    char args[512];
    int mbs[64], n = 0, rc;

    memset(&prof, 0, sizeof(prof));
    memset(&plan, 0, sizeof(plan));
    memset(out, 0, sizeof(*out));
    if ((rc = build_model(tb, r, &m)) < 0)
        return rc;
    if ((rc = uniap_cluster_preset("a100-80g-2x8", &c)) < 0)
        goto free_model;
    c.nodes = r->gpus / 8;
    snprintf(c.name, sizeof(c.name), "a100-80g-%dx8", c.nodes);
    snprintf(args, sizeof(args),
             "--tensor-model-parallel-size %d --pipeline-model-parallel-size %d "
             "--micro-batch-size 1 --global-batch-size %d --recompute-granularity full "
             "--recompute-method uniform --recompute-num-layers 1 --num-layers %d "
             "--hidden-size %d --num-attention-heads %d --ffn-hidden-size %d --seq-length %d "
             "--max-position-embeddings %d --fp16",
             r->tp, r->pp, r->batch, r->layers, r->hidden, r->heads, 4 * r->hidden, tb->seq,
             tb->seq);
    if ((rc = uniap_plan_import_megatron(args, "megatron runs", &m, &c, &plan)) < 0)
        goto free_model;
    for (int d = 1; d <= plan.micro_batch && n < 64; d++)
        if (plan.micro_batch % d == 0)
            mbs[n++] = d; /* every per-device micro-batch of the stage's strategies */
    if ((rc = uniap_profile_analytic(&m, &c, mbs, n, &prof)) < 0)
        goto free_model;
    uniap_cost_options_default(&o);
    o.global_batch = plan.global_batch;
    o.schedule = plan.schedule;
    o.ckpt_modes = uniap_training_ckpt_modes(&m.training) | UNIAP_CKPT_BIT(UNIAP_CKPT_FULL);
    if ((rc = uniap_costmodel_create(&m, &c, &prof, &o, &cm)) < 0 ||
        (rc = evaluate_plan(cm, &plan, m.n_layers, out)) < 0)
        goto free_model;
    out->dp = r->gpus / (r->tp * r->pp);
    out->micro_batches = plan.micro_batches;
free_model:
    uniap_costmodel_destroy(cm);
    uniap_plan_free(&plan);
    uniap_profile_free(&prof);
    uniap_model_free(&m);
    return rc;
}

int fid_megatron(const char *path, FILE *f, fid_report *rep)
{
    static mg_table t;
    int rc = read_table(path, &t);
    fid_series *s;
    if (rc < 0)
        return rc;
    if (!(s = fid_series_new(rep, "Megatron-LM SC21, A100", "TPI", 0)))
        return UNIAP_ENOMEM;
    if (f)
        fprintf(f, "%-7s %5s %3s %3s %4s %5s %8s %8s %8s %9s %9s %8s %7s %4s\n", "params", "GPUs",
                "tp", "pp", "dp", "m", "meas s", "pred s", "error", "comp/mb s", "tp/mb s",
                "tail s", "mem GiB", "fits");
    for (int i = 0; i < t.n; i++) {
        const mg_row *r = &t.rows[i];
        mg_eval ev;
        double meas = measured_seconds(&t, r);
        if ((rc = run_row(&t, r, &ev)) < 0)
            return uniap_err(rc, "%s: rows[%d] (%.1fB on %d GPUs)", path, i, r->params_b, r->gpus);
        if (f)
            fprintf(f,
                    "%6.1fB %5d %3d %3d %4d %5d %8.3f %8.3f %+7.1f%% %9.4f %9.4f %8.3f %7.1f %4s\n",
                    r->params_b, r->gpus, r->tp, r->pp, ev.dp, ev.micro_batches, meas, ev.tpi,
                    100 * (ev.tpi / meas - 1), ev.compute, ev.tp_comm, ev.tail, ev.mem_gib,
                    ev.feasible ? "yes" : "no");
        if ((rc = fid_series_add(s, ev.tpi, meas, r->gpus)) < 0)
            return rc;
    }
    return UNIAP_OK;
}
