/*
 * plan_emit.c - the end of `uniap plan` on rank 0: the plan as a table
 * (stdout, or stderr when an output is standard output), and its outputs
 * (plan JSON, Megatron-LM arguments, Galvatron config) written all or
 * none: every text is made first, then every file is opened under a
 * temporary name and written, and all are committed at the end; any error
 * aborts them all, so a failing export leaves no other file behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_internal.h"

/* Prints the plan: per stage, then per run of layers with one strategy. */
static void print_plan(FILE *f, const uniap_plan *p, const uniap_model *m,
                       const uniap_cost_table *t, const uniap_plan_eval *e,
                       const uniap_search_result *sr)
{
    const double gib = 1024.0 * 1024 * 1024;
    fprintf(f, "plan: deg %d, %d micro-batches of %d, schedule %s", p->deg, p->micro_batches,
            p->micro_batch, uniap_schedule_name(p->schedule));
    if (uniap_schedule_virtual_stages(p->schedule) > 1)
        fprintf(f, " (%d virtual stages per device)", uniap_schedule_virtual_stages(p->schedule));
    fprintf(f, ": %s", p->status);
    if (strcmp(p->status, "optimal"))
        fprintf(f, ", gap %.3g %%", 100 * p->gap);
    fprintf(f, "\nTPI %.6g s, throughput %.4g samples/s", p->tpi, p->throughput);
    if (p->mfu > 0) /* model FLOPs 6N + attention per token over devices x peak (mfu.c) */
        fprintf(f, ", MFU %.1f %%", 100 * p->mfu);
    fprintf(f,
            "; %d pairs: %d solved (%d infeasible, %d at the search limit), %d pruned; search "
            "%.3f s\n",
            sr->pairs_total, sr->pairs_solved, sr->pairs_infeasible, sr->pairs_timed_out,
            sr->pairs_pruned, p->search_seconds);
    fprintf(f, "\n%-6s %-12s %-10s %12s %12s %12s %14s\n", "stage", "devices", "layers",
            "compute(s)", "comm(s)", "tail(s)", "memory(GiB)");
    for (int i = 0, u = 0; i < p->deg; i++) {
        int first = u;
        while (u < p->n_layers && p->stage_of[u] == i)
            u++;
        char dev[32], lay[32];
        snprintf(dev, sizeof dev, "%d-%d", i * t->stage_devices, (i + 1) * t->stage_devices - 1);
        snprintf(lay, sizeof lay, "%d-%d", first, u - 1);
        fprintf(f, "%-6d %-12s %-10s %12.6g %12.6g %12.6g %8.2f/%.2f\n", i, dev, lay,
                e->stage_compute[i], i + 1 < p->deg ? e->stage_comm[i] : 0.0, e->stage_tail[i],
                e->stage_mem[i] / gib, uniap_ct_budget(t, i) / gib);
    }
    fprintf(f, "\n%-10s %-16s %-6s %s\n", "layers", "kind", "stage", "strategy");
    for (int u = 0; u < p->n_layers;) {
        int v = u;
        while (v + 1 < p->n_layers && p->stage_of[v + 1] == p->stage_of[u] &&
               !strcmp(p->strategy_of[v + 1].name, p->strategy_of[u].name) &&
               uniap_model_run_of(m, v + 1) == uniap_model_run_of(m, u))
            v++;
        char lay[32];
        snprintf(lay, sizeof lay, "%d-%d", u, v);
        fprintf(f, "%-10s %-16s %-6d %s\n", lay,
                uniap_layer_kind_name(m->runs[uniap_model_run_of(m, u)].kind), p->stage_of[u],
                p->strategy_of[u].name);
        u = v + 1;
    }
}

/* The runtime searched and, with --compare-any, the unrestricted plan's
 * TPI beside it: what the runtime's restrictions cost. */
static void print_runtime(FILE *f, const plan_ctx *x, const uniap_plan *p)
{
    const uniap_search_result *a = &x->sr_any;
    if (x->a.runtime == UNIAP_RUNTIME_ANY)
        return;
    fprintf(f, "\nruntime %s: the fastest plan %s can run (TPI %.6g s, search %.3f s)\n",
            p->runtime, p->runtime, p->tpi, x->sr.seconds);
    if (!x->a.compare_any)
        return;
    if (!x->have_any || !a->found) {
        fprintf(f, "runtime any: %s\n",
                x->have_any ? "no plan fits" : "not searched (interrupted or failed)");
        return;
    }
    char st[64] = "optimal";
    if (!a->optimal)
        snprintf(st, sizeof st, "feasible, gap %.3g %%: not proven least", 100 * a->gap);
    fprintf(f,
            "runtime any: TPI %.6g s (deg %d, %d micro-batches, %s), search %.3f s\n"
            "%s / any = %.4f: the runtime's restrictions cost %.2f %% of the TPI%s\n",
            a->best.tpi, a->best.deg, a->best.micro_batches, st, a->seconds, p->runtime,
            p->tpi / a->best.tpi, 100 * (p->tpi / a->best.tpi - 1),
            p->tpi < a->best.tpi ? " (below 1: the unrestricted search stopped at its node "
                                   "limit before this plan, which it also has)"
                                 : "");
}

/* The plan struct of the search's best (strategy_of malloc'd). */
static int fill_plan(const plan_ctx *x, const uniap_cost_table *t, const uniap_plan_eval *e,
                     uniap_plan *p)
{
    const uniap_search_result *sr = &x->sr;
    memset(p, 0, sizeof(*p));
    snprintf(p->model, sizeof p->model, "%s", x->in.model.name);
    snprintf(p->cluster, sizeof p->cluster, "%s", x->in.cluster.name);
    snprintf(p->profile, sizeof p->profile, "%s", x->a.req.profile ? x->a.req.profile : "analytic");
    snprintf(p->profile_checksum, sizeof p->profile_checksum, "%s", x->in.profile_checksum);
    p->global_batch = x->a.req.global_batch;
    p->deg = t->deg;
    p->micro_batches = t->micro_batches;
    p->micro_batch = t->micro_batch;
    p->schedule = sr->schedule;
    p->n_layers = t->n_layers;
    p->stage_of = sr->best.stage_of;
    p->strategy_of = malloc(sizeof(uniap_strategy) * (size_t)t->n_layers);
    if (!p->strategy_of)
        return uniap_err(UNIAP_ENOMEM, "out of memory");
    for (int u = 0; u < t->n_layers; u++)
        p->strategy_of[u] = t->strategies[sr->best.strategy_of[u]];
    p->tpi = e->tpi;
    p->throughput = e->throughput;
    snprintf(p->status, sizeof p->status, "%s",
             sr->interrupted ? "interrupted"
             : sr->optimal   ? "optimal"
                             : "feasible");
    p->gap = sr->gap;
    p->search_seconds = sr->seconds;
    p->pairs_total = sr->pairs_total;
    p->pairs_solved = sr->pairs_solved;
    p->pairs_pruned = sr->pairs_pruned;
    snprintf(p->runtime, sizeof p->runtime, "%s", uniap_runtime_name(x->a.runtime));
    p->any_tpi = x->have_any && x->sr_any.found ? x->sr_any.best.tpi : 0;
    p->mfu = uniap_mfu(&x->in.model, &x->in.cluster, p->global_batch, e->tpi);
    p->search = x->search_json; /* borrowed: not freed with the plan */
    return UNIAP_OK;
}

/* One output being produced. */
typedef struct out_file {
    const char *opt, *path, *what;
    char *text;     /* the export's text (owned); NULL for the plan JSON */
    uniap_output o; /* open (or reserved) temporary */
    int open;
} out_file;

#define OUT_MAX (4 + UNIAP_EXPORTS_MAX) /* --out, --format json, Megatron-LM, Galvatron */

/* Opens every output, writes it, and commits all, or aborts all. */
static int write_outputs(out_file *of, int n, const uniap_plan *p, const plan_ctx *x,
                         const uniap_cost_table *t, const uniap_plan_eval *e)
{
    int rc = 0, i;
    for (i = 0; i < n && rc == 0; i++) {
        if (!strcmp(of[i].path, "-"))
            continue; /* standard output: after every file is ready */
        if (of[i].text) {
            rc = uniap_output_open(&of[i].o, of[i].path, 1);
            of[i].open = rc == 0;
            if (rc == 0 && fputs(of[i].text, of[i].o.f) == EOF)
                rc = uniap_err(UNIAP_EIO, "%s %s: write failed", of[i].opt, of[i].path);
        } else {
            rc = uniap_output_reserve(&of[i].o, of[i].path);
            of[i].open = rc == 0;
            if (rc == 0)
                rc = uniap_plan_write_json(of[i].o.tmp, p, &x->in.model, t, e);
        }
    }
    for (i = 0; i < n && rc == 0; i++) /* the one output on stdout: last */
        if (!strcmp(of[i].path, "-")) {
            if (of[i].text && (fputs(of[i].text, stdout) == EOF || fflush(stdout) == EOF))
                rc = uniap_err(UNIAP_EIO, "%s -: write to standard output failed", of[i].opt);
            else if (!of[i].text)
                rc = uniap_plan_write_json("-", p, &x->in.model, t, e);
        }
    for (i = 0; i < n && rc == 0; i++) {
        if (!of[i].open)
            continue;
        rc = of[i].text ? uniap_output_commit(&of[i].o) : uniap_output_commit_path(&of[i].o);
        of[i].open = 0;
    }
    for (i = 0; i < n; i++)
        if (of[i].open)
            uniap_output_abort(&of[i].o);
    return rc;
}

/* The texts of the given outputs in of[0..*n-1]: the plan JSON (made when
 * written), Megatron-LM arguments, Galvatron config (from the exports'
 * launch pair when --galvatron-args is given), DeepSpeed and torchtitan. */
static int make_texts(const plan_ctx *x, const uniap_plan *p, out_file *of, int *n)
{
    uniap_export_text ex[UNIAP_EXPORTS_MAX];
    int rc = 0, k = 0;
    *n = 0;
    if (x->a.out)
        of[(*n)++] = (out_file){.opt = "--out", .path = x->a.out, .what = "plan"};
    if (x->json_stdout)
        of[(*n)++] = (out_file){.opt = "--format json", .path = "-", .what = "plan"};
    if (x->a.megatron) {
        of[*n] = (out_file){
            .opt = "--megatron-args", .path = x->a.megatron, .what = "Megatron-LM arguments"};
        rc = uniap_plan_export_megatron(p, &x->in.model, &of[(*n)++].text);
    }
    if (rc == 0 && x->a.galvatron && !x->a.ex.galvatron_args) {
        of[*n] = (out_file){
            .opt = "--galvatron-config", .path = x->a.galvatron, .what = "Galvatron config"};
        rc = uniap_plan_export_galvatron(p, &x->in.model, &of[(*n)++].text);
        if (rc < 0)
            uniap_err(rc, "--galvatron-config %s: nothing written", x->a.galvatron);
    }
    if (rc == 0 && (rc = uniap_exports_make(&x->a.ex, p, &x->in.model, ex, &k)) == 0)
        for (int i = 0; i < k; i++) {
            of[(*n)++] = (out_file){
                .opt = ex[i].opt, .path = ex[i].path, .what = ex[i].what, .text = ex[i].text};
            ex[i].text = NULL; /* owned by of now */
        }
    return rc;
}

/* Makes the texts of the given outputs, then writes them all. */
static int emit_outputs(const plan_ctx *x, const uniap_plan *p, const uniap_cost_table *t,
                        const uniap_plan_eval *e, FILE *rep)
{
    out_file of[OUT_MAX];
    int n = 0, rc;
    memset(of, 0, sizeof(of));
    rc = make_texts(x, p, of, &n);
    UNIAP_CHECK(n <= OUT_MAX);
    if (rc == 0)
        rc = write_outputs(of, n, p, x, t, e);
    if (rc == 0 && !x->a.quiet) {
        for (int i = 0; i < n; i++)
            if (strcmp(of[i].path, "-") != 0)
                fprintf(rep, "%s written to %s\n", of[i].what, of[i].path);
        for (int i = 0; i < n; i++)
            if (!strcmp(of[i].opt, "--megatron-args") && strcmp(of[i].path, "-") != 0)
                fprintf(rep, "\nMegatron-LM: %s", of[i].text);
    }
    for (int i = 0; i < n; i++)
        free(of[i].text);
    return rc;
}

int plan_emit(const plan_ctx *x, int write)
{
    const uniap_search_result *sr = &x->sr;
    FILE *rep = x->to_stdout ? stderr : stdout;
    uniap_cost_table t;
    uniap_plan_eval e;
    uniap_plan p;
    int rc;

    if (!sr->found) {
        fprintf(stderr,
                "uniap plan: interrupted before any plan was found (%d of %d pairs "
                "solved)\n",
                sr->pairs_solved, sr->pairs_total);
        return UNIAP_OK;
    }
    memset(&e, 0, sizeof(e));
    memset(&p, 0, sizeof(p));
    if ((rc = uniap_costmodel_table(x->cm, sr->best.deg, sr->best.micro_batches, &t)) < 0)
        return rc;
    if ((rc = uniap_plan_evaluate(&t, sr->schedule, sr->best.stage_of, sr->best.strategy_of, &e)) <
            0 ||
        (rc = fill_plan(x, &t, &e, &p)) < 0)
        goto free_all;
    if (sr->interrupted)
        fprintf(rep,
                "interrupted: the best plan found before the signal (gap %.3g %% against "
                "the bound so far); nothing is written\n",
                100 * sr->gap);
    if (!(x->a.quiet && x->to_stdout)) { /* --quiet: nothing on stderr but warnings */
        print_plan(rep, &p, &x->in.model, &t, &e, sr);
        print_runtime(rep, x, &p);
        fflush(rep);
    }
    if (write)
        rc = emit_outputs(x, &p, &t, &e, rep);
free_all:
    free(p.strategy_of);
    uniap_plan_eval_free(&e);
    uniap_cost_table_free(&t);
    return rc;
}
