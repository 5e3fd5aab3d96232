/*
 * amp_trials.c - fidelity of uniap's iteration time against AMP's measured
 * trials (issue 12 item 6): GPT-2 350M, global batch 32, on 16 NVIDIA T4
 * (4 x g4dn.12xlarge). Each measured configuration of AMP's
 * results/homogeneous_trials.json (layer partition over AMP's 30 layer
 * positions, micro-batch size, mp, dp, pp; real_iter_s null = failed or
 * out of memory, skipped) becomes a uniap plan: 1F1B, pp stages split as
 * the partition, every layer dp x tp (DDP, no checkpointing), and
 * uniap_plan_evaluate gives its TPI from (a) the imported AMP profile
 * (uniap_profile_import "amp") and (b) the analytic model of the T4's
 * datasheet alone. Printed per source: mean and median relative error,
 * Spearman and Kendall (tau-b) rank correlation with measured, top-1
 * regret (measured time of the predicted best against the measured best),
 * beside AMP's own predictions.
 *
 * fid_amp (fid.h) fills the report; bench_fidelity_amp [AMP_DIR
 * [SPECS_DIR]] prints the detailed view (defaults: the shared dataset and
 * benchmarks/fidelity/specs/).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fid.h"
#include "uniap_costmodel.h"

#define MAX_TRIALS   256
#define MAX_STAGES   32
#define GLOBAL_BATCH 32
#define AMP_PRE      2 /* AMP's layer positions before the blocks (embedding) */

typedef struct trial {
    int part[MAX_STAGES + 1], pp, mbs, mp, dp;
    double amp_pred, meas, pred[2];
} trial;

/* uniap layer of AMP position q: 0, 1 embedding; 2..25 blocks; head. */
static int layer_of(int q, int n_layers)
{
    int u = q < AMP_PRE ? 0 : q - AMP_PRE + 1;
    return u < n_layers ? u : n_layers - 1;
}

static int read_trials(const char *path, trial *t, int *n)
{
    char *text = NULL;
    cJSON *js = NULL, *row;
    int rc = uniap_read_file(path, &text, NULL);

    *n = 0;
    if (rc < 0 || !(js = cJSON_Parse(text))) {
        free(text);
        return rc < 0 ? rc : uniap_err(UNIAP_EFORMAT, "%s: not JSON", path);
    }
    cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(js, "rows"))
    {
        const cJSON *meas = cJSON_GetObjectItemCaseSensitive(row, "real_iter_s"), *q;
        if (!cJSON_IsNumber(meas) || *n >= MAX_TRIALS)
            continue; /* null: the run failed or ran out of memory */
        trial *x = &t[(*n)++];
        memset(x, 0, sizeof(*x));
        x->meas = meas->valuedouble;
        x->amp_pred = cJSON_GetObjectItemCaseSensitive(row, "predicted_iter_s")->valuedouble;
        x->mbs = cJSON_GetObjectItemCaseSensitive(row, "micro_batch_size")->valueint;
        x->mp = cJSON_GetObjectItemCaseSensitive(row, "mp")->valueint;
        x->dp = cJSON_GetObjectItemCaseSensitive(row, "dp")->valueint;
        x->pp = cJSON_GetObjectItemCaseSensitive(row, "pp")->valueint;
        int k = 0;
        cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(row, "layer_partition"))
        {
            if (k <= MAX_STAGES)
                x->part[k++] = q->valueint;
        }
        if (k != x->pp + 1)
            (*n)--;
    }
    cJSON_Delete(js);
    free(text);
    return UNIAP_OK;
}

static int find_strategy(const uniap_cost_table *t, const uniap_strategy *s)
{
    for (int k = 0; k < t->n_strategies; k++)
        if (strcmp(t->strategies[k].name, s->name) == 0)
            return k;
    return -1;
}

/* TPI of trial x from profile p; NAN when uniap cannot build it. */
static double evaluate(const uniap_model *m, const uniap_cluster *c, const uniap_profile *p,
                       const trial *x)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_cost_table t;
    uniap_plan_eval ev;
    uniap_strategy s = {.dp = x->dp, .tp = x->mp, .tp_consecutive = 1, .flavour = UNIAP_DP_DDP};
    int stage_of[256], strat_of[256], c_mb = GLOBAL_BATCH / (x->dp * x->mbs);
    double tpi = NAN;

    memset(&t, 0, sizeof(t));
    memset(&ev, 0, sizeof(ev));
    uniap_strategy_format(&s);
    uniap_cost_options_default(&o);
    o.global_batch = GLOBAL_BATCH;
    o.schedule = UNIAP_SCHED_1F1B;
    if (m->n_layers > 256 || uniap_costmodel_create(m, c, p, &o, &cm) < 0 ||
        uniap_costmodel_table(cm, x->pp, c_mb, &t) < 0)
        goto done;
    int k = find_strategy(&t, &s);
    if (k < 0)
        goto done;
    for (int i = 0; i < x->pp; i++)
        for (int u = layer_of(x->part[i], m->n_layers);
             u < (i + 1 < x->pp ? layer_of(x->part[i + 1], m->n_layers) : m->n_layers); u++)
            stage_of[u] = i;
    for (int u = 0; u < m->n_layers; u++)
        strat_of[u] = k;
    if (uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, stage_of, strat_of, &ev) == 0)
        tpi = ev.tpi;
done:
    if (isnan(tpi))
        fprintf(stderr, "mbs %d mp %d dp %d pp %d: %s\n", x->mbs, x->mp, x->dp, x->pp,
                uniap_errmsg());
    uniap_err_clear();
    uniap_plan_eval_free(&ev);
    uniap_cost_table_free(&t);
    uniap_costmodel_destroy(cm);
    return tpi;
}

/* Prints one source's row of the detailed view. */
static void report(FILE *f, const fid_series *x)
{
    fid_stats st;
    if (fid_stats_compute(x->pred, x->meas, x->n, x->configs, &st) < 0)
        return;
    fprintf(f, "| %-27s | %3d | %6.1f %% | %6.1f %% | %+7.1f %% | %6.3f | %6.3f | %5.1f %% |\n",
            x->source, st.n, 100 * st.mean_abs, 100 * st.median_abs, 100 * st.signed_mean,
            st.spearman, st.kendall, 100 * st.regret);
}

/* The detailed view's line of trial i. */
static void print_trial(FILE *f, int i, const trial *x)
{
    char part[256] = "";
    for (int k = 0; k <= x->pp; k++)
        snprintf(part + strlen(part), sizeof(part) - strlen(part), "%s%d", k ? "," : "",
                 x->part[k]);
    fprintf(f, "%-3d %-40s %3d %3d %3d %3d %8.3f %8.3f %8.3f %8.3f\n", i, part, x->mbs, x->mp,
            x->dp, x->pp, x->meas, x->amp_pred, x->pred[0], x->pred[1]);
}

int fid_amp(const char *amp, const char *specs, FILE *detail, fid_report *r)
{
    static trial t[MAX_TRIALS];
    static const int mbs[] = {1, 2, 4, 8, 16, 32};
    char path[1024], mpath[1024], cpath[1024];
    uniap_model m;
    uniap_cluster c;
    uniap_profile prof[2];
    fid_series *sr[3];
    int n = 0, ok = 0, rc;

    memset(prof, 0, sizeof(prof));
    snprintf(path, sizeof(path), "%s/results/homogeneous_trials.json", amp);
    snprintf(mpath, sizeof(mpath), "%s/gpt2-350m-amp.json", specs);
    snprintf(cpath, sizeof(cpath), "%s/t4-g4dn-16.json", specs);
    if ((rc = uniap_model_load(mpath, &m)) < 0)
        return rc;
    if ((rc = uniap_cluster_load(cpath, &c)) < 0 || (rc = read_trials(path, t, &n)) < 0 ||
        (rc = uniap_profile_import("amp", amp, &m, &c, &prof[0])) < 0 ||
        (rc = uniap_profile_analytic(&m, &c, mbs, 6, &prof[1])) < 0)
        goto free_model;
    if (n == 0) {
        rc = uniap_err(UNIAP_EFORMAT, "%s: rows: no trial with a measured real_iter_s", path);
        goto free_model;
    }
    if (!(sr[0] = fid_series_new(r, "AMP's own model", "TPI", 1)) ||
        !(sr[1] = fid_series_new(r, "uniap, imported AMP profile", "TPI", 1)) ||
        !(sr[2] = fid_series_new(r, "uniap, analytic T4", "TPI", 1))) {
        rc = UNIAP_ENOMEM;
        goto free_model;
    }
    if (detail)
        fprintf(detail, "%-3s %-40s %3s %3s %3s %3s %8s %8s %8s %8s\n", "#", "partition", "mbs",
                "mp", "dp", "pp", "meas s", "AMP s", "import s", "analyt s");
    for (int i = 0; i < n && rc == 0; i++) {
        for (int s = 0; s < 2; s++)
            t[i].pred[s] = evaluate(&m, &c, &prof[s], &t[i]);
        if (detail)
            print_trial(detail, i, &t[i]);
        if (isnan(t[i].pred[0]) || isnan(t[i].pred[1]))
            continue;
        int g = t[i].mp * t[i].dp * t[i].pp;
        ok++;
        if ((rc = fid_series_add(sr[0], t[i].amp_pred, t[i].meas, g)) < 0 ||
            (rc = fid_series_add(sr[1], t[i].pred[0], t[i].meas, g)) < 0)
            break;
        rc = fid_series_add(sr[2], t[i].pred[1], t[i].meas, g);
    }
    if (rc == 0 && ok == 0)
        rc = uniap_err(UNIAP_EINVAL, "%s: uniap could build none of the %d trials", path, n);
    if (rc == 0 && detail) {
        fprintf(detail, "\n| source                      |   n |      MRE |   median |   signed | "
                        "Spearman | Kendall | regret |\n|---|---|---|---|---|---|---|---|\n");
        for (int s = 0; s < 3; s++)
            report(detail, sr[s]);
        fprintf(detail,
                "\n%d measured trials, %d evaluated (a trial uniap cannot build is listed on "
                "stderr)\n",
                n, ok);
    }
free_model:
    for (int s = 0; s < 2; s++)
        uniap_profile_free(&prof[s]);
    uniap_model_free(&m);
    return rc;
}
