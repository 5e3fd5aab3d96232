/*
 * bench_runtimes.c - `bench_solver runtimes`: the cost of each training
 * runtime's restrictions (issue 14 item 1). For each case (Llama-70B on
 * 4 x 8 and 16 x 8 H100, GPT-3 175B on 16 x 8 A100-80GB: the a100-80g-2x8
 * preset with 16 nodes, benchmarks/solver/a100-80g-16x8.json; analytic
 * profiles, 1F1B) the unrestricted search (--runtime any) and, for each
 * runtime, the search inside its plans (uniap plan --runtime R; torchtitan
 * on the model with flash attention and no dropout, --attention flash
 * --dropout 0, as its llama3 runs, beside that model's own unrestricted
 * search): TPI, the
 * ratio to the unrestricted TPI, search time and status, the plan's
 * shape; and the checks of the Done-when: the plan is in a variant of the
 * runtime's space, fits memory (the evaluator) and, for Megatron-LM, is
 * what uniap's export calls expressible. One markdown table row per
 * runtime and case.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uniap_solver.h"

typedef struct rt_case {
    const char *model, *preset;
    int nodes;
    long long batch;
} rt_case;

typedef struct rt_ctx {
    uniap_costmodel *cm;
    uniap_runtime rt;
    int *role;
    double *params;
    unsigned flags; /* uniap_runtime_model_flags */
} rt_ctx;

static int rt_table(void *p, int deg, int c, uniap_cost_table *out)
{
    return uniap_costmodel_table(((rt_ctx *)p)->cm, deg, c, out);
}

static int rt_space(void *p, const uniap_cost_table *t, uniap_schedule sched, uniap_space *out)
{
    const rt_ctx *x = p;
    return uniap_runtime_space(x->rt, x->role, x->params, x->flags, sched, t, out);
}

/* 1 when uniap's export of runtime rt writes plan p of model m (Megatron-
 * LM: the export says the plan is expressible; the others refuse what
 * their runtime cannot run). */
static int export_verdict(uniap_runtime rt, const uniap_plan *p, const uniap_model *m)
{
    char *a = NULL, *b = NULL;
    const char *name = uniap_runtime_name(rt);
    int ok = 0;
    if (!strcmp(name, "megatron"))
        ok = uniap_plan_export_megatron(p, m, &a) == 0 &&
             strstr(a, "# the plan is expressible in Megatron-LM") != NULL;
    else if (!strcmp(name, "deepspeed"))
        ok = uniap_plan_export_deepspeed(p, m, NULL, &a, &b) == 0;
    else if (!strcmp(name, "torchtitan"))
        ok = uniap_plan_export_torchtitan(p, m, &a) == 0;
    else if (!strcmp(name, "galvatron"))
        ok = uniap_plan_export_galvatron_launch(p, m, NULL, &a, &b) == 0;
    if (!ok)
        fprintf(stderr, "%s export: %s\n", name, uniap_errmsg());
    uniap_err_clear();
    free(a);
    free(b);
    return ok;
}

/* The winner's checks: in a variant of the space, fits memory, and uniap's
 * export of the runtime writes it. Writes a short verdict. */
static void verdict(rt_ctx *x, const uniap_model *m, const uniap_search_result *r, char *out,
                    size_t n)
{
    uniap_cost_table t;
    uniap_space sp = {0};
    uniap_plan_eval e;
    int in = 0, fits = 0, expr;
    if (uniap_costmodel_table(x->cm, r->best.deg, r->best.micro_batches, &t) < 0) {
        snprintf(out, n, "table failed");
        return;
    }
    if (uniap_runtime_space(x->rt, x->role, x->params, x->flags, r->schedule, &t, &sp) == 0)
        for (int v = 0; v < sp.n_variants && !in; v++)
            in = uniap_space_check(&sp, v, &t, r->best.stage_of, r->best.strategy_of, NULL, 0);
    if (uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, r->best.stage_of, r->best.strategy_of, &e) == 0) {
        fits = e.feasible;
        uniap_plan_eval_free(&e);
    }
    uniap_plan p;
    memset(&p, 0, sizeof(p));
    snprintf(p.model, sizeof p.model, "%s", m->name);
    p.deg = t.deg;
    p.micro_batches = t.micro_batches;
    p.micro_batch = t.micro_batch;
    p.global_batch = (int64_t)t.micro_batch * t.micro_batches;
    p.schedule = UNIAP_SCHED_1F1B;
    p.n_layers = t.n_layers;
    p.stage_of = r->best.stage_of;
    p.strategy_of = malloc(sizeof(uniap_strategy) * (size_t)t.n_layers);
    for (int u = 0; p.strategy_of && u < t.n_layers; u++)
        p.strategy_of[u] = t.strategies[r->best.strategy_of[u]];
    expr = p.strategy_of ? export_verdict(x->rt, &p, m) : 0;
    free(p.strategy_of);
    snprintf(out, n, "%s, %s, %s", in ? "in its space" : "NOT in its space",
             fits ? "fits" : "DOES NOT FIT", expr ? "export accepts" : "export REFUSES");
    uniap_space_free(&sp);
    uniap_cost_table_free(&t);
}

/* The plan's shape: pp, micro-batches, the first block's strategy. */
static void shape_of(rt_ctx *x, const uniap_search_result *r, char *out, size_t n)
{
    uniap_cost_table t;
    if (uniap_costmodel_table(x->cm, r->best.deg, r->best.micro_batches, &t) < 0) {
        snprintf(out, n, "?");
        return;
    }
    int u = 0;
    while (u + 1 < t.n_layers && x->role[u] != UNIAP_RT_BLOCK)
        u++;
    snprintf(out, n, "pp%d c%d %s", t.deg, t.micro_batches,
             t.strategies[r->best.strategy_of[u]].name);
    uniap_cost_table_free(&t);
}

/* "optimal", or "feasible, gap G %" (the node limit stopped a candidate). */
static const char *status_of(const uniap_search_result *r)
{
    static char buf[48];
    if (r->optimal)
        return "optimal";
    snprintf(buf, sizeof buf, "feasible, gap %.2f %%", 100 * r->gap);
    return buf;
}

static int search(rt_ctx *x, const int *deg, const int *c, int n, long node_limit, double tl,
                  uniap_search_result *r)
{
    uniap_schedule *sch = malloc(sizeof(uniap_schedule) * (size_t)(n > 0 ? n : 1));
    uniap_solve_options o;
    int rc;
    for (int i = 0; i < n; i++)
        sch[i] = UNIAP_SCHED_1F1B;
    uniap_solve_options_default(&o);
    o.node_limit = node_limit;
    o.time_limit = tl;
    if (x->rt != UNIAP_RUNTIME_ANY) {
        o.space = rt_space;
        o.space_ctx = x;
    }
    rc = uniap_search(MPI_COMM_WORLD, n, deg, c, sch, rt_table, x, &o, 0, r);
    free(sch);
    return rc;
}

/* Each runtime's search of one case beside the unrestricted one (any):
 * one table row each. */
static int run_runtimes(int rank, rt_ctx *x, const uniap_model *m, const char *what, const int *deg,
                        const int *c, int n, long node_limit, double tl,
                        const uniap_search_result *any, int flash)
{
    char shape[96], ok[96];
    int rc = 0;
    for (int r = 1; uniap_runtime_names()[r]; r++) {
        uniap_search_result res;
        if (flash != !strcmp(uniap_runtime_name(r), "torchtitan"))
            continue; /* torchtitan on the flash-attention model, the others on the zoo's */
        x->rt = r;
        if (uniap_runtime_model_check(r, m) < 0) {
            if (!rank)
                printf("| %s | %s | - | - | - | - | %s | - | - |\n", what, uniap_runtime_name(r),
                       uniap_errmsg());
            uniap_err_clear();
            continue;
        }
        if ((rc = search(x, deg, c, n, node_limit, tl, &res)) < 0)
            break;
        if (!rank && res.found) {
            shape_of(x, &res, shape, sizeof shape);
            verdict(x, m, &res, ok, sizeof ok);
            printf("| %s | %s | %.4f | %.4f | %.3f | %.1f | %s | %s | %s |\n", what,
                   uniap_runtime_name(r), res.best.tpi, any->best.tpi, res.best.tpi / any->best.tpi,
                   res.seconds, status_of(&res), shape, ok);
        } else if (!rank) {
            printf("| %s | %s | nothing fits | %.4f | - | %.1f | - | - | - |\n", what,
                   uniap_runtime_name(r), any->best.tpi, res.seconds);
        }
        fflush(stdout);
        uniap_search_result_free(&res);
    }
    return rc;
}

/* One case: the unrestricted search, then each runtime's. */
static int run_case(int rank, const rt_case *k, long node_limit, double tl, int flash)
{
    uniap_model m;
    uniap_cluster cl;
    uniap_profile prof;
    uniap_cost_options co;
    rt_ctx x = {0};
    int *deg = NULL, *c = NULL, n = 0, rc, mbs[64], nm = 0;
    char what[160];
    if ((rc = uniap_model_resolve(k->model, &m)) < 0 ||
        (rc = uniap_cluster_resolve(k->preset, &cl)) < 0)
        return rc;
    if (flash) { /* torchtitan's llama3 runs SDPA without dropout */
        uniap_training tr = m.training;
        tr.attention = UNIAP_ATTN_FLASH;
        tr.no_dropout = 1;
        if ((rc = uniap_model_set_training(&m, &tr, "bench runtimes")) < 0)
            goto free_model;
    }
    cl.nodes = k->nodes;
    snprintf(cl.name, sizeof cl.name, "%.*s-%dx%d", (int)(strchr(k->preset, 'g') - k->preset + 1),
             k->preset, cl.nodes, cl.devices_per_node);
    for (long long b = 1; b <= k->batch && nm < 64; b++)
        if (k->batch % b == 0)
            mbs[nm++] = (int)b;
    if ((rc = uniap_profile_analytic(&m, &cl, mbs, nm, &prof)) < 0)
        goto free_model;
    uniap_cost_options_default(&co);
    co.global_batch = k->batch;
    if ((rc = uniap_costmodel_create(&m, &cl, &prof, &co, &x.cm)) < 0 ||
        (rc = uniap_costmodel_candidates(x.cm, &deg, &c, &n)) < 0)
        goto free_all;
    x.role = malloc(sizeof(int) * (size_t)m.n_layers);
    x.params = malloc(sizeof(double) * (size_t)m.n_layers);
    uniap_runtime_roles(&m, x.role, x.params);
    x.flags = uniap_runtime_model_flags(&m);
    snprintf(what, sizeof what, "%s on %s, B=%lld%s", m.name, cl.name, k->batch,
             flash ? " (flash, no dropout)" : "");
    uniap_search_result any;
    x.rt = UNIAP_RUNTIME_ANY;
    if ((rc = search(&x, deg, c, n, node_limit, tl, &any)) < 0)
        goto free_all;
    char shape[96];
    if (!rank && any.found) {
        shape_of(&x, &any, shape, sizeof shape);
        printf("| %s | any | %.4f | %.4f | 1.000 | %.1f | %s | %s | - |\n", what, any.best.tpi,
               any.best.tpi, any.seconds, status_of(&any), shape);
        fflush(stdout);
    }
    if (!any.found) {
        if (!rank)
            printf("| %s | any | nothing fits | | | %.1f | | | |\n", what, any.seconds);
        goto free_any;
    }
    rc = run_runtimes(rank, &x, &m, what, deg, c, n, node_limit, tl, &any, flash);
free_any:
    uniap_search_result_free(&any);
free_all:
    free(x.role);
    free(x.params);
    free(deg);
    free(c);
    uniap_costmodel_destroy(x.cm);
    uniap_profile_free(&prof);
free_model:
    uniap_model_free(&m);
    return rc;
}

int bench_runtimes(int rank, long node_limit, double time_limit, int only)
{
    static const rt_case cases[] = {{"llama-70b", "h100-80g-16x8", 4, 512},
                                    {"llama-70b", "h100-80g-16x8", 16, 1024},
                                    {"gpt3-175b", "a100-80g-2x8", 16, 1536}};
    if (!rank)
        printf("| case | runtime | TPI (s) | unrestricted TPI (s) | ratio | search (s) | status "
               "| plan | checks |\n|---|---|---|---|---|---|---|---|---|\n");
    for (size_t a = 0; a < sizeof(cases) / sizeof(cases[0]); a++) {
        if (only >= 0 && (int)a != only)
            continue;
        for (int flash = 0; flash < 2; flash++) {
            if (run_case(rank, &cases[a], node_limit, time_limit, flash) < 0 && !rank)
                printf("%s: failed: %s\n", cases[a].model, uniap_errmsg());
            uniap_err_clear();
        }
    }
    return 0;
}
