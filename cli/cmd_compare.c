/*
 * cmd_compare.c - `uniap compare A.json B.json ...` (issue 16 item 4):
 * plans side by side under one cost model, each evaluated again (not read
 * from its file): TPI, throughput, MFU, the fullest stage against its
 * budget; per stage the time per micro-batch and the memory; the layers
 * whose stage or strategy differ from the first plan's; and how much
 * faster or slower each is than the first. The model, cluster and profile
 * are the first plan's unless --model, --cluster, --profile say otherwise.
 * Bad input exits 2 (a plan of another layer count names both).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "inputs.h"

#define MAX_PLANS 16

/* One plan evaluated. */
typedef struct cmp_plan {
    const char *path;
    uniap_plan p;
    uniap_costmodel *cm;
    uniap_cost_table t;
    uniap_plan_eval ev;
    uniap_stage_breakdown *sb;
    int *idx, have_table;
} cmp_plan;

static int evaluate(cmp_plan *x, const uniap_inputs *in, const char *profile)
{
    uniap_cost_options o;
    int rc;

    if (x->p.n_layers != in->model.n_layers)
        return uniap_err(UNIAP_EINVAL, "%s: %d layers, model '%s' has %d", x->path, x->p.n_layers,
                         in->model.name, in->model.n_layers);
    uniap_cost_options_default(&o);
    o.global_batch = x->p.global_batch;
    o.schedule = x->p.schedule;
    o.profile_path = profile;
    /* every granularity the plan uses, so that any plan is costed */
    o.ckpt_modes = uniap_training_ckpt_modes(&in->model.training);
    for (int u = 0; u < x->p.n_layers; u++)
        if ((unsigned)x->p.strategy_of[u].ckpt < UNIAP_CKPT_COUNT)
            o.ckpt_modes |= UNIAP_CKPT_BIT(x->p.strategy_of[u].ckpt);
    if ((rc = uniap_costmodel_create(&in->model, &in->cluster, &in->profile, &o, &x->cm)) < 0 ||
        (rc = uniap_plan_check_profile(x->cm, &x->p)) < 0 ||
        (rc = uniap_costmodel_table(x->cm, x->p.deg, x->p.micro_batches, &x->t)) < 0)
        return uniap_err(rc, "%s", x->path);
    x->have_table = 1;
    x->idx = calloc((size_t)x->p.n_layers, sizeof(int));
    x->sb = calloc((size_t)x->p.deg, sizeof(*x->sb));
    if (!x->idx || !x->sb)
        return uniap_err(UNIAP_ENOMEM, "compare: out of memory");
    if ((rc = uniap_plan_strategy_indices(&x->p, &x->t, x->idx)) < 0 ||
        (rc = uniap_plan_evaluate(&x->t, x->p.schedule, x->p.stage_of, x->idx, &x->ev)) < 0 ||
        (rc = uniap_plan_breakdown(x->cm, &x->p, &x->t, x->idx, x->sb)) < 0)
        return uniap_err(rc, "%s", x->path);
    return UNIAP_OK;
}

static void cmp_free(cmp_plan *x)
{
    free(x->idx);
    free(x->sb);
    uniap_plan_eval_free(&x->ev);
    if (x->have_table)
        uniap_cost_table_free(&x->t);
    uniap_costmodel_destroy(x->cm);
    uniap_plan_free(&x->p);
}

/* The fullest stage's memory over its budget. */
static double fill(const cmp_plan *x, int *stage)
{
    double worst = 0;
    *stage = 0;
    for (int i = 0; i < x->p.deg; i++) {
        double f = x->ev.stage_mem[i] / uniap_ct_budget(&x->t, i);
        if (f > worst)
            worst = f, *stage = i;
    }
    return worst;
}

static void print_summary(const cmp_plan *x, int n, const uniap_inputs *in)
{
    printf("model %s, cluster %s (%d devices), profile %s; every plan evaluated again\n\n",
           in->model.name, in->cluster.name, uniap_cluster_devices(&in->cluster),
           in->analytic ? "analytic (from the cluster spec)" : in->profile_path);
    printf("%-3s %-28s %4s %5s %6s %7s %12s %14s %7s %15s\n", "", "plan", "deg", "c", "sched",
           "batch", "TPI s", "samples/s", "MFU %", "fullest stage");
    for (int k = 0; k < n; k++) {
        int st;
        double f = fill(&x[k], &st);
        printf("%-3c %-28.28s %4d %5d %6s %7lld %12.6f %14.4f %7.1f %8.1f%% (s%d)%s\n", 'A' + k,
               x[k].path, x[k].p.deg, x[k].p.micro_batches, uniap_schedule_name(x[k].p.schedule),
               (long long)x[k].p.global_batch, x[k].ev.tpi, x[k].ev.throughput,
               100 * uniap_mfu(&in->model, &in->cluster, x[k].p.global_batch, x[k].ev.tpi), 100 * f,
               st, x[k].ev.feasible ? "" : " DOES NOT FIT");
    }
}

static void print_stages(const cmp_plan *x, int n)
{
    printf("\nper stage: time per micro-batch (s) / memory per device (GiB)\n");
    int D = 0;
    for (int k = 0; k < n; k++)
        D = x[k].p.deg > D ? x[k].p.deg : D;
    for (int i = 0; i < D; i++) {
        printf("  stage %-3d", i);
        for (int k = 0; k < n; k++) {
            if (i < x[k].p.deg)
                printf("  %c: %10.6f / %7.3f", 'A' + k, x[k].ev.stage_compute[i],
                       x[k].ev.stage_mem[i] / 1073741824.0);
            else
                printf("  %c: %21s", 'A' + k, "-");
        }
        printf("\n");
    }
}

/* Layer ranges where plan k differs from the first (stage or strategy). */
static void print_layer_diffs(const cmp_plan *x, int n)
{
    for (int k = 1; k < n; k++) {
        const uniap_plan *a = &x[0].p, *b = &x[k].p;
        int shown = 0;
        printf("\nlayers where %c differs from A:\n", 'A' + k);
        for (int u = 0; u < a->n_layers;) {
            int same = a->stage_of[u] == b->stage_of[u] &&
                       strcmp(a->strategy_of[u].name, b->strategy_of[u].name) == 0;
            int v = u + 1;
            while (v < a->n_layers && a->stage_of[v] == a->stage_of[u] &&
                   b->stage_of[v] == b->stage_of[u] &&
                   strcmp(a->strategy_of[v].name, a->strategy_of[u].name) == 0 &&
                   strcmp(b->strategy_of[v].name, b->strategy_of[u].name) == 0)
                v++;
            if (!same) {
                printf("  layers %d-%d: A stage %d %s, %c stage %d %s\n", u, v - 1, a->stage_of[u],
                       a->strategy_of[u].name, 'A' + k, b->stage_of[u], b->strategy_of[u].name);
                shown = 1;
            }
            u = v;
        }
        if (!shown)
            printf("  none: the same stages and strategies\n");
    }
}

/* Throughput, not TPI, decides: the plans may run different global batches. */
static void print_verdict(const cmp_plan *x, int n)
{
    printf("\n");
    for (int k = 1; k < n; k++) {
        double r = x[k].ev.throughput / x[0].ev.throughput;
        printf("%c is %.3fx %s than A (throughput %+.1f %%, TPI %+.1f %%)%s\n", 'A' + k,
               r >= 1 ? r : 1 / r, r >= 1 ? "faster" : "slower", 100 * (r - 1),
               100 * (x[k].ev.tpi / x[0].ev.tpi - 1),
               x[k].p.global_batch != x[0].p.global_batch ? " at another global batch" : "");
    }
}

int uniap_cli_compare(int argc, char **argv)
{
    const char *plans[MAX_PLANS];
    int n = 0, status, rc;
    uniap__plan_inputs pi;
    uniap_training_args training;
    void *replayed = NULL;
    uniap_opt opts[2 + UNIAP__PLAN_INPUT_OPTS + UNIAP_TRAINING_OPTS] = {
        {.name = "PLAN",
         .kind = UNIAP_OPTK_INPUT,
         .dest = plans,
         .count = &n,
         .max_count = MAX_PLANS,
         .flags = UNIAP_OPT_POSITIONAL | UNIAP_OPT_REQUIRED | UNIAP_OPT_MANY,
         .help = "plan JSON files (uniap plan, or uniap estimate of your own)"}};
    int n_opts = 1;
    uniap__plan_inputs_opts(&pi, "the first plan's", opts, &n_opts);
    uniap_inputs_training_opts(&training, opts, &n_opts);
    uniap_cmd cmd = {.name = "compare",
                     .summary = "plans side by side under one cost model",
                     .synopsis = "uniap compare A.json B.json [C.json ...] [--model M] "
                                 "[--cluster C] [--profile P.h5]",
                     .description =
                         "Evaluates every plan again under the same cost model (the first "
                         "plan's model, cluster, profile and training settings unless given) and "
                         "prints their TPI, "
                         "throughput, MFU and fullest stage, each stage's time and memory, the "
                         "layers whose stage or strategy differ from the first plan's, and how "
                         "much faster each is than the first (by throughput).",
                     .opts = opts};
    cmp_plan x[MAX_PLANS];
    uniap_inputs in;
    int loaded = 0;

    memset(x, 0, sizeof(x));
    if (uniap_opts_finish(&cmd, uniap_opts_parse(&cmd, argc, argv), uniap__world_rank() == 0,
                          &status))
        return status;
    rc = n < 2 ? uniap_err(UNIAP_EINVAL, "give two plans or more to compare") : 0;
    for (int k = 0; k < n && rc == 0; k++) {
        x[k].path = plans[k];
        rc = uniap_plan_read_json(plans[k], &x[k].p);
    }
    /* the first plan's training settings, where not given */
    if (rc == 0 && x[0].p.search)
        rc = uniap_opts_replay_keys(&cmd, x[0].p.search, plans[0], uniap__plan_training_keys,
                                    &replayed);
    if (rc == 0) {
        uniap_inputs_req req = {.cmd = "compare",
                                .global_batch = x[0].p.global_batch,
                                .verbose = uniap__world_rank() == 0,
                                .training = &training};
        uniap__plan_inputs_pick(&pi, x[0].p.model, x[0].p.cluster, x[0].p.profile, &req.model,
                                &req.cluster, &req.profile);
        loaded = (rc = uniap_inputs_load(&req, &in)) == 0;
    }
    /* every plan's micro-batch size in the analytic profile, before any
     * cost model is made over it */
    for (int k = 0; k < n && rc == 0; k++)
        rc = uniap_inputs_analytic_cover(&in, x[k].p.global_batch, x[k].p.micro_batches,
                                         x[k].p.search);
    for (int k = 0; k < n && rc == 0; k++)
        rc = evaluate(&x[k], &in, pi.profile);
    rc = uniap_mpi_agree(MPI_COMM_WORLD, rc);
    if (rc == 0 && uniap__world_rank() == 0) {
        print_summary(x, n, &in);
        print_stages(x, n);
        print_layer_diffs(x, n);
        print_verdict(x, n);
    }
    for (int k = 0; k < n; k++)
        cmp_free(&x[k]);
    if (loaded)
        uniap_inputs_free(&in);
    uniap_opts_replay_free(replayed);
    return rc < 0 ? uniap__report("compare", rc) : 0;
}
