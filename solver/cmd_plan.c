/*
 * cmd_plan.c - `uniap plan`: loads the model, cluster and profile (or the
 * analytic profile of the cluster spec), runs the Unified Optimization
 * Process over MPI_COMM_WORLD, prints the plan as a table, writes the plan
 * JSON and the Megatron-LM / Galvatron exports; exit 3 with the smallest
 * memory shortfall when nothing fits.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "solver_export.h"
#include "solver_internal.h"

typedef struct plan_args {
    const char *model, *cluster, *profile, *out, *megatron, *galvatron, *lp_dir, *log_dir;
    long long global_batch;
    int sched_both;
    uniap_schedule schedule;
    uniap_formulation form;
    double time_limit;
} plan_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mpirun -np R uniap plan --model M (--cluster C | --profile P.h5 | both)\n"
            "         --global-batch B [--schedule 1f1b|gpipe|both] [--time-limit S (5; 0 none)]\n"
            "         [--out plan.json] [--megatron-args FILE] [--galvatron-config FILE]\n"
            "         [--write-lp DIR] [--log-dir DIR] [--formulation auto|per-layer|aggregated]\n"
            "Searches pipeline degree x micro-batches (x schedule), one MILP per pair solved\n"
            "exactly with GLPK, the pairs split over the MPI ranks. Without --profile the\n"
            "analytic device model of the cluster spec is used; without --cluster the\n"
            "machine the profile measured (its stored cluster_spec). Exit 3: nothing fits.\n"
            "--log-dir: GLPK's log and one summary line per pair (status, TPI, bound,\n"
            "seconds) in DIR/glpk-rankN.log; --write-lp: each pair's MILP and its\n"
            "layout-free relaxation (*_bound.lp) in CPLEX LP format.\n");
}

static int parse_args(int argc, char **argv, plan_args *a)
{
    memset(a, 0, sizeof(*a));
    a->schedule = UNIAP_SCHED_1F1B;
    a->time_limit = 5; /* seconds per MILP unless --time-limit says otherwise */
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(k, "--help") || !strcmp(k, "-h"))
            return 1;
        if (!v)
            return uniap_err(UNIAP_EINVAL, "uniap plan: option %s needs a value", k);
        i++;
        if (!strcmp(k, "--model"))
            a->model = v;
        else if (!strcmp(k, "--cluster"))
            a->cluster = v;
        else if (!strcmp(k, "--profile"))
            a->profile = v;
        else if (!strcmp(k, "--out"))
            a->out = v;
        else if (!strcmp(k, "--megatron-args"))
            a->megatron = v;
        else if (!strcmp(k, "--galvatron-config"))
            a->galvatron = v;
        else if (!strcmp(k, "--write-lp"))
            a->lp_dir = v;
        else if (!strcmp(k, "--log-dir"))
            a->log_dir = v;
        else if (!strcmp(k, "--global-batch")) {
            char *end;
            a->global_batch = strtoll(v, &end, 10);
            if (*end || a->global_batch < 1)
                return uniap_err(UNIAP_EINVAL,
                                 "uniap plan: --global-batch '%s': expected an "
                                 "integer >= 1",
                                 v);
        } else if (!strcmp(k, "--time-limit")) {
            char *end;
            a->time_limit = strtod(v, &end);
            if (*end || !(a->time_limit >= 0))
                return uniap_err(
                    UNIAP_EINVAL,
                    "uniap plan: --time-limit '%s': expected seconds >= 0 (0: no limit)", v);
        } else if (!strcmp(k, "--schedule")) {
            if (!strcmp(v, "both"))
                a->sched_both = 1;
            else if (!strcmp(v, "gpipe"))
                a->schedule = UNIAP_SCHED_GPIPE;
            else if (strcmp(v, "1f1b"))
                return uniap_err(UNIAP_EINVAL,
                                 "uniap plan: --schedule '%s': expected 1f1b, "
                                 "gpipe or both",
                                 v);
        } else if (!strcmp(k, "--formulation")) {
            if (!strcmp(v, "auto"))
                a->form = UNIAP_FORM_AUTO;
            else if (!strcmp(v, "per-layer"))
                a->form = UNIAP_FORM_PER_LAYER;
            else if (!strcmp(v, "aggregated"))
                a->form = UNIAP_FORM_AGGREGATED;
            else
                return uniap_err(UNIAP_EINVAL,
                                 "uniap plan: --formulation '%s': expected auto, "
                                 "per-layer or aggregated",
                                 v);
        } else {
            return uniap_err(UNIAP_EINVAL, "uniap plan: unknown option '%s' (see --help)", k);
        }
    }
    if (!a->model || (!a->cluster && !a->profile) || !a->global_batch)
        return uniap_err(UNIAP_EINVAL, "uniap plan: --model, --global-batch and --cluster "
                                       "or --profile are required (see --help)");
    return 0;
}

/* Every rank learns whether all succeeded (lowest failing code wins). */
static int all_ok(int rc)
{
    int worst;
    if (MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
        return uniap_err(UNIAP_ELIB, "uniap plan: MPI_Allreduce of the status failed");
    if (worst < 0 && rc == 0)
        return uniap_err(worst, "uniap plan: another rank failed");
    return worst;
}

static int table_of(void *ctx, int deg, int c, uniap_cost_table *out)
{
    return uniap_costmodel_table(ctx, deg, c, out);
}

/* Prints the plan: per stage, then per run of layers with one strategy. */
static void print_plan(const uniap_plan *p, const uniap_model *m, const uniap_cost_table *t,
                       const uniap_plan_eval *e, const uniap_search_result *sr)
{
    const double gib = 1024.0 * 1024 * 1024;
    printf("plan: deg %d, %d micro-batches of %d, schedule %s: %s", p->deg, p->micro_batches,
           p->micro_batch, p->schedule == UNIAP_SCHED_GPIPE ? "gpipe" : "1f1b", p->status);
    if (strcmp(p->status, "optimal"))
        printf(", gap %.3g %%", 100 * p->gap);
    printf("\nTPI %.6g s, throughput %.4g samples/s; %d pairs: %d solved, %d pruned, %d "
           "infeasible, %d hit the time limit; search %.3f s\n",
           p->tpi, p->throughput, sr->pairs_total, sr->pairs_solved, sr->pairs_pruned,
           sr->pairs_infeasible, sr->pairs_timed_out, p->search_seconds);
    printf("\n%-6s %-12s %-10s %12s %12s %12s %14s\n", "stage", "devices", "layers", "compute(s)",
           "comm(s)", "tail(s)", "memory(GiB)");
    for (int i = 0, u = 0; i < p->deg; i++) {
        int first = u;
        while (u < p->n_layers && p->stage_of[u] == i)
            u++;
        char dev[32], lay[32];
        snprintf(dev, sizeof dev, "%d-%d", i * t->stage_devices, (i + 1) * t->stage_devices - 1);
        snprintf(lay, sizeof lay, "%d-%d", first, u - 1);
        printf("%-6d %-12s %-10s %12.6g %12.6g %12.6g %8.2f/%.2f\n", i, dev, lay,
               e->stage_compute[i], i + 1 < p->deg ? e->stage_comm[i] : 0.0, e->stage_tail[i],
               e->stage_mem[i] / gib, t->mem_budget / gib);
    }
    printf("\n%-10s %-16s %-6s %s\n", "layers", "kind", "stage", "strategy");
    for (int u = 0; u < p->n_layers;) {
        int v = u;
        while (v + 1 < p->n_layers && p->stage_of[v + 1] == p->stage_of[u] &&
               !strcmp(p->strategy_of[v + 1].name, p->strategy_of[u].name) &&
               uniap_model_run_of(m, v + 1) == uniap_model_run_of(m, u))
            v++;
        char lay[32];
        snprintf(lay, sizeof lay, "%d-%d", u, v);
        printf("%-10s %-16s %-6d %s\n", lay,
               uniap_layer_kind_name(m->runs[uniap_model_run_of(m, u)].kind), p->stage_of[u],
               p->strategy_of[u].name);
        u = v + 1;
    }
}

static int write_text(const char *path, const char *text)
{
    return uniap_write_file_atomic(path, text, strlen(text));
}

/* Rank 0: the chosen plan as a table, JSON and exports. */
static int emit_plan(const plan_args *a, const uniap_model *m, const uniap_cluster *cl,
                     const uniap_costmodel *cm, const uniap_search_result *sr)
{
    uniap_cost_table t;
    uniap_plan_eval e;
    uniap_plan p;
    char *text = NULL;
    int rc;

    if ((rc = uniap_costmodel_table(cm, sr->best.deg, sr->best.micro_batches, &t)) < 0)
        return rc;
    if ((rc = uniap_plan_evaluate(&t, sr->schedule, sr->best.stage_of, sr->best.strategy_of, &e)) <
        0)
        goto free_table;
    memset(&p, 0, sizeof(p));
    snprintf(p.model, sizeof p.model, "%s", m->name);
    snprintf(p.cluster, sizeof p.cluster, "%s", cl->name);
    snprintf(p.profile, sizeof p.profile, "%s", a->profile ? a->profile : "analytic");
    if (a->profile)
        (void)uniap_file_crc32(a->profile, p.profile_checksum);
    p.global_batch = a->global_batch;
    p.deg = t.deg;
    p.micro_batches = t.micro_batches;
    p.micro_batch = t.micro_batch;
    p.schedule = sr->schedule;
    p.n_layers = t.n_layers;
    p.stage_of = sr->best.stage_of;
    p.strategy_of = malloc(sizeof(uniap_strategy) * t.n_layers);
    if (!p.strategy_of) {
        rc = uniap_err(UNIAP_ENOMEM, "uniap plan: out of memory");
        goto free_eval;
    }
    for (int u = 0; u < t.n_layers; u++)
        p.strategy_of[u] = t.strategies[sr->best.strategy_of[u]];
    p.tpi = e.tpi;
    p.throughput = e.throughput;
    snprintf(p.status, sizeof p.status, "%s", sr->optimal ? "optimal" : "feasible");
    p.gap = sr->gap;
    p.search_seconds = sr->seconds;
    p.pairs_total = sr->pairs_total;
    p.pairs_solved = sr->pairs_solved;
    p.pairs_pruned = sr->pairs_pruned;
    print_plan(&p, m, &t, &e, sr);
    if (a->out && (rc = uniap_plan_write_json(a->out, &p, m, &t, &e)) < 0)
        goto free_plan;
    if (a->megatron) {
        if ((rc = solver_export_megatron(&p, m, &text)) < 0 ||
            (rc = write_text(a->megatron, text)) < 0)
            goto free_plan;
        printf("\nMegatron-LM: %s", text);
        free(text);
        text = NULL;
    }
    if (a->galvatron) {
        if ((rc = solver_export_galvatron(&p, m, &text)) < 0)
            goto free_plan;
        char *nl = realloc(text, strlen(text) + 2);
        if (!nl) {
            rc = uniap_err(UNIAP_ENOMEM, "uniap plan: out of memory");
            goto free_plan;
        }
        text = strcat(nl, "\n");
        if ((rc = write_text(a->galvatron, text)) < 0)
            goto free_plan;
        printf("Galvatron config written to %s\n", a->galvatron);
    }
    if (a->out)
        printf("plan written to %s\n", a->out);
free_plan:
    free(text);
    free(p.strategy_of);
free_eval:
    uniap_plan_eval_free(&e);
free_table:
    uniap_cost_table_free(&t);
    return rc;
}

static void explain_nothing_fits(const uniap_search_result *sr, const int *deg, const int *c,
                                 const uniap_schedule *sch)
{
    fprintf(stderr, "uniap plan: no plan fits in memory for any of %d pairs.\n", sr->pairs_total);
    if (sr->shortfall_cand >= 0 && sr->shortfall < HUGE_VAL) {
        int i = sr->shortfall_cand;
        fprintf(stderr,
                "  closest: deg %d, %d micro-batches, %s: stage %d is %.3f GiB over the budget\n",
                deg[i], c[i], sch[i] == UNIAP_SCHED_GPIPE ? "gpipe" : "1f1b", sr->shortfall_stage,
                sr->shortfall / (1024.0 * 1024 * 1024));
    }
    fprintf(stderr, "  what would help: more devices (or devices with more memory), a smaller "
                    "global batch (smaller micro-batches), the 1f1b schedule, or allowing "
                    "activation checkpointing and ZeRO sharding if they were disabled.\n");
}

int uniap_cmd_plan(int argc, char **argv)
{
    plan_args a;
    int rank, size, rc, n = 0, *deg = NULL, *cc = NULL, *dd = NULL, *cs = NULL;
    uniap_schedule *sch = NULL;
    uniap_model m = {0};
    uniap_cluster cl = {0};
    uniap_profile prof = {0};
    uniap_costmodel *cm = NULL;
    uniap_search_result sr = {0};
    char log_path[1024];

    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    uniap_err_clear();
    rc = parse_args(argc, argv, &a);
    if (rc == 1) {
        if (rank == 0)
            usage(stdout);
        return 0;
    }
    if (rc == 0)
        rc = uniap_model_resolve(a.model, &m);
    if (rc == 0 && a.cluster)
        rc = uniap_cluster_resolve(a.cluster, &cl);
    if (rc == 0 && a.profile) {
        rc = uniap_profile_read(a.profile, &prof);
        /* No --cluster: plan for the machine the profile measured. */
        if (rc == 0 && !a.cluster) {
            if (!prof.cluster_json || !prof.cluster_json[0])
                rc = uniap_err(UNIAP_EINVAL,
                               "%s: the profile stores no cluster_spec: give --cluster", a.profile);
            else
                rc = uniap_cluster_parse(prof.cluster_json, a.profile, &cl);
        }
    } else if (rc == 0) {
        int mbs[64], nm = 0;
        for (long long x = 1; x <= a.global_batch && nm < 64; x++)
            if (a.global_batch % x == 0)
                mbs[nm++] = (int)x;
        rc = uniap_profile_analytic(&m, &cl, mbs, nm, &prof);
        if (rc == 0 && rank == 0)
            fprintf(stderr, "uniap plan: no --profile given: using the analytic device model "
                            "from the cluster spec's datasheet figures\n");
    }
    if (rc == 0) {
        uniap_cost_options co;
        uniap_cost_options_default(&co);
        co.global_batch = a.global_batch;
        co.schedule = a.schedule;
        rc = uniap_costmodel_create(&m, &cl, &prof, &co, &cm);
    }
    if (rc == 0)
        rc = uniap_costmodel_candidates(cm, &deg, &cc, &n);
    if (rc == 0 && n == 0)
        rc = uniap_err(UNIAP_EINFEASIBLE,
                       "uniap plan: no (deg, micro-batch) pair is viable for "
                       "%s on %s with global batch %lld",
                       m.name, cl.name, a.global_batch);
    if (rc == 0 && a.lp_dir && rank == 0 && mkdir(a.lp_dir, 0777) < 0 && errno != EEXIST)
        rc = uniap_err(UNIAP_EIO, "%s: cannot create the --write-lp folder", a.lp_dir);
    if (rc == 0 && a.log_dir && rank == 0 && mkdir(a.log_dir, 0777) < 0 && errno != EEXIST)
        rc = uniap_err(UNIAP_EIO, "%s: cannot create the --log-dir folder", a.log_dir);
    if ((rc = all_ok(rc)) < 0)
        goto fail;
    if (rank == 0 && uniap_costmodel_warnings(cm)[0])
        fprintf(stderr, "uniap plan: cost model warnings: %s\n", uniap_costmodel_warnings(cm));

    int ns = a.sched_both ? 2 : 1;
    dd = malloc(sizeof(int) * n * ns);
    cs = malloc(sizeof(int) * n * ns);
    sch = malloc(sizeof(uniap_schedule) * n * ns);
    if (!dd || !cs || !sch)
        rc = uniap_err(UNIAP_ENOMEM, "uniap plan: out of memory for %d candidates", n * ns);
    if ((rc = all_ok(rc)) < 0)
        goto fail;
    for (int i = 0; i < n; i++)
        for (int s = 0; s < ns; s++) {
            dd[i * ns + s] = deg[i];
            cs[i * ns + s] = cc[i];
            sch[i * ns + s] = a.sched_both ? (uniap_schedule)(1 - s) : a.schedule;
        }
    uniap_solve_options o;
    uniap_solve_options_default(&o);
    o.formulation = a.form;
    o.time_limit = a.time_limit;
    o.lp_dir = a.lp_dir;
    if (a.log_dir) {
        snprintf(log_path, sizeof log_path, "%s/glpk-rank%d.log", a.log_dir, rank);
        o.log_path = log_path;
    }
    if (rank == 0)
        fprintf(stderr,
                "uniap plan: %s on %s (%d devices), global batch %lld: %d pairs on %d "
                "rank%s\n",
                m.name, cl.name, uniap_cluster_devices(&cl), a.global_batch, n * ns, size,
                size > 1 ? "s" : "");
    if ((rc = uniap_search(MPI_COMM_WORLD, n * ns, dd, cs, sch, table_of, cm, &o, 1, &sr)) < 0)
        goto fail;
    if (!sr.found) {
        if (rank == 0)
            explain_nothing_fits(&sr, dd, cs, sch);
        rc = UNIAP_EINFEASIBLE;
        goto free_all;
    }
    rc = rank == 0 ? emit_plan(&a, &m, &cl, cm, &sr) : 0;
    if ((rc = all_ok(rc)) < 0)
        goto fail;
    goto free_all;

fail:
    if (rank == 0)
        fprintf(stderr, "uniap plan: error: %s\n", uniap_errmsg());
free_all:
    uniap_search_result_free(&sr);
    free(dd);
    free(cs);
    free(sch);
    free(deg);
    free(cc);
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&prof);
    uniap_model_free(&m);
    return uniap_exit_code(rc);
}
