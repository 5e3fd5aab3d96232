/*
 * bench_solver.c - measured figures of the solver (run under mpirun):
 * The limit is seconds per GLPK call (e.g. 5), or with a trailing n a node
 * limit per branch and cut (e.g. 4000n: deterministic, as `uniap plan`'s
 * default).
 *   bench_solver search  [limit]        zoo models x presets: search time,
 *                                       pairs proven optimal, plan TPI
 *   bench_solver growth  [limit]        llama-70b (and 32..160-layer
 *                                       variants) on 64..4096 H100s
 *   bench_solver quality [limit]        joint optimum vs best uniform
 *                                       Megatron-style plan, intra-layer
 *                                       only (deg 1), inter-layer only
 *   bench_solver runtimes [limit] [case] the optimum inside each training
 *                                       runtime's plans (--runtime) beside
 *                                       the unrestricted one: Llama-70B on
 *                                       4 x 8 and 16 x 8 H100, GPT-3 175B
 *                                       on 16 x 8 A100-80GB (bench_runtimes.c)
 *   bench_solver naive [seconds] [case] the growth cases and GPT-3 175B /
 *                                       Llama-70B on 128 H100: uniap's
 *                                       search (node limit 4000) beside the
 *                                       naive per-layer linearization of
 *                                       its winning candidate, GLPK alone
 *                                       for at most seconds (default 60;
 *                                       bench_naive.c)
 *   bench_solver naive seconds MODEL CLUSTER BATCH [SEQ]  the same for one
 *                                       case (zoo name or spec file, preset
 *                                       or cluster spec file)
 * Analytic profiles from the cluster specs; prints one line per case.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_naive.h"
#include "uniap_solver.h"

typedef struct ctx {
    uniap_costmodel *cm;
    int restrict_inter; /* keep only tp 1, replicated DDP strategies */
} ctx;

int bench_runtimes(int rank, long node_limit, double time_limit, int only);

static long node_limit; /* from the limit argument "<N>n" */

static int table_of(void *p, int deg, int c, uniap_cost_table *out)
{
    ctx *x = p;
    int rc = uniap_costmodel_table(x->cm, deg, c, out);
    if (rc < 0 || !x->restrict_inter)
        return rc;
    for (int u = 0; u < out->n_layers; u++)
        for (int k = 0; k < out->n_strategies; k++) {
            const uniap_strategy *s = &out->strategies[k];
            if (s->tp > 1 || s->flavour != UNIAP_DP_DDP)
                out->allowed[(size_t)u * out->n_strategies + k] = 0;
        }
    return 0;
}

typedef struct setup {
    uniap_model m;
    uniap_cluster cl;
    uniap_profile prof;
    uniap_costmodel *cm;
    int *deg, *c, n;
} setup;

static long long seq_len; /* naive's own case: the model at this length (0: its own) */

static int make_setup(setup *s, const char *model, int layers, const uniap_cluster *cl, long long B)
{
    memset(s, 0, sizeof(*s));
    int rc = uniap_model_resolve_seq(model, seq_len, &s->m);
    if (rc < 0)
        return rc;
    if (layers > 0) /* resize the run of transformer blocks */
        for (int r = 0; r < s->m.n_runs; r++)
            if (s->m.runs[r].count > 1) {
                s->m.n_layers += layers - s->m.runs[r].count;
                s->m.runs[r].count = layers;
                break;
            }
    s->cl = *cl;
    int mbs[64], nm = 0;
    for (long long x = 1; x <= B && nm < 64; x++)
        if (B % x == 0)
            mbs[nm++] = (int)x;
    if ((rc = uniap_profile_analytic(&s->m, &s->cl, mbs, nm, &s->prof)) < 0)
        return rc;
    uniap_cost_options co;
    uniap_cost_options_default(&co);
    co.global_batch = B;
    if ((rc = uniap_costmodel_create(&s->m, &s->cl, &s->prof, &co, &s->cm)) < 0)
        return rc;
    return uniap_costmodel_candidates(s->cm, &s->deg, &s->c, &s->n);
}

static void free_setup(setup *s)
{
    uniap_costmodel_destroy(s->cm);
    uniap_profile_free(&s->prof);
    uniap_model_free(&s->m);
    free(s->deg);
    free(s->c);
}

/* Searches the candidates (optionally deg 1 only / inter-layer only). */
static int search(setup *s, double tl, int deg1_only, int inter_only, uniap_search_result *r)
{
    int *d = malloc(sizeof(int) * s->n), *c = malloc(sizeof(int) * s->n), n = 0;
    uniap_schedule *sch = malloc(sizeof(uniap_schedule) * s->n);
    for (int i = 0; i < s->n; i++)
        if (!deg1_only || s->deg[i] == 1) {
            d[n] = s->deg[i], c[n] = s->c[i], sch[n] = UNIAP_SCHED_1F1B;
            n++;
        }
    uniap_solve_options o;
    uniap_solve_options_default(&o);
    o.time_limit = tl;
    o.node_limit = node_limit;
    ctx x = {s->cm, inter_only};
    int rc = uniap_search(MPI_COMM_WORLD, n, d, c, sch, table_of, &x, &o, 0, r);
    free(d);
    free(c);
    free(sch);
    return rc;
}

static void report(int rank, const char *what, const uniap_search_result *r)
{
    if (rank)
        return;
    if (r->found)
        printf("%-44s pairs %3d solved %3d pruned %3d timed-out %2d  %-8s gap %6.3f%%  TPI %9.4f s"
               "  deg %2d c %4d  nodes %7ld  search %7.3f s\n",
               what, r->pairs_total, r->pairs_solved, r->pairs_pruned, r->pairs_timed_out,
               r->optimal ? "optimal" : "feasible", 100 * r->gap, r->best.tpi, r->best.deg,
               r->best.micro_batches, r->nodes, r->seconds);
    else
        printf("%-44s pairs %3d  nothing fits (shortfall %.2f GiB)  search %7.3f s\n", what,
               r->pairs_total, r->shortfall / 1073741824.0, r->seconds);
    fflush(stdout);
}

/* The growth cases (llama-70b's 80 layers at every scale, then batch and
 * depth at 4096 GPUs), then (naive only) the 128-GPU ones of issue 13. */
static const struct {
    const char *model;
    int layers, gpus, batch, naive_only; /* layers 0: the model's */
} growth[] = {{"llama-70b", 80, 64, 1024, 0},    {"llama-70b", 80, 256, 1024, 0},
              {"llama-70b", 80, 1024, 1024, 0},  {"llama-70b", 80, 4096, 1024, 0},
              {"llama-70b", 80, 4096, 4096, 0},  {"llama-70b", 32, 4096, 4096, 0},
              {"llama-70b", 160, 4096, 4096, 0}, {"llama-70b", 0, 128, 256, 1},
              {"gpt3-175b", 0, 128, 1536, 1}};

/* The naive per-layer linearization of the search's winning candidate,
 * printed beside it. */
static void naive_beside(setup *s, const uniap_search_result *r, double seconds)
{
    uniap_cost_table t;
    bench_naive_result n;
    static const char *what[] = {"optimal", "at the limit", "infeasible", "no plan"};
    if (uniap_costmodel_table(s->cm, r->best.deg, r->best.micro_batches, &t) < 0 ||
        bench_naive_pair(&t, seconds, &n) < 0) {
        printf("  naive: failed: %s\n", uniap_errmsg());
        uniap_err_clear();
        return;
    }
    printf("  naive per-layer MILP of deg %d c %d (%d rows, %d columns): %s, objective %.4f s, "
           "gap %.3f%%, %.1f s: %s%.0fx uniap's whole search\n",
           t.deg, t.micro_batches, n.rows, n.cols, what[n.status], n.obj, 100 * n.gap, n.seconds,
           n.status ? ">= " : "", n.seconds / r->seconds);
    fflush(stdout);
    uniap_cost_table_free(&t);
}

/* Best uniform Megatron-style plan: one strategy for every layer, layers
 * split evenly over the stages, every (deg, c). */
static double best_uniform(setup *s, char *desc, size_t n)
{
    double best = DBL_MAX;
    for (int i = 0; i < s->n; i++) {
        uniap_cost_table t;
        if (uniap_costmodel_table(s->cm, s->deg[i], s->c[i], &t) < 0)
            continue;
        int L = t.n_layers, *st = malloc(sizeof(int) * L), *sg = malloc(sizeof(int) * L);
        for (int u = 0; u < L; u++)
            st[u] = (int)((long long)u * t.deg / L);
        for (int k = 0; k < t.n_strategies; k++) {
            int ok = 1;
            for (int u = 0; u < L; u++) {
                sg[u] = k;
                ok &= t.allowed[(size_t)u * t.n_strategies + k];
            }
            uniap_plan_eval e;
            if (!ok || uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, st, sg, &e) < 0)
                continue;
            if (e.feasible && e.tpi < best) {
                best = e.tpi;
                snprintf(desc, n, "pp%d c%d %s", t.deg, t.micro_batches, t.strategies[k].name);
            }
            uniap_plan_eval_free(&e);
        }
        free(st);
        free(sg);
        uniap_cost_table_free(&t);
    }
    return best;
}

int main(int argc, char **argv)
{
    int rank;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const char *mode = argc > 1 ? argv[1] : "search";
    double tl = argc > 2 ? atof(argv[2]) : 10;
    if (argc > 2 && strchr(argv[2], 'n')) { /* "<N>n": a node limit */
        node_limit = atol(argv[2]);
        tl = 0;
    }
    int only = argc > 3 ? atoi(argv[3]) : -1; /* growth: run one case */
    static const char *models[] = {"bert-huge", "t5-large", "vit-huge", "swin-huge", "llama-7b"};
    static const char *presets[] = {"a100-40g-1x8", "titanxp-2x4", "a100-80g-2x8"};
    char what[128];
    uniap_search_result r;
    setup s;

    if (!strcmp(mode, "search") || !strcmp(mode, "quality")) {
        int q = !strcmp(mode, "quality");
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 3; b++) {
                uniap_cluster cl;
                if (uniap_cluster_resolve(presets[b], &cl) < 0 ||
                    make_setup(&s, models[a], 0, &cl, 32) < 0) {
                    if (!rank)
                        printf("%s on %s: setup failed: %s\n", models[a], presets[b],
                               uniap_errmsg());
                    uniap_err_clear();
                    continue;
                }
                snprintf(what, sizeof what, "%s %s B=32", models[a], presets[b]);
                if (search(&s, tl, 0, 0, &r) == 0)
                    report(rank, what, &r);
                if (q && !rank) {
                    char desc[96] = "";
                    double uni = best_uniform(&s, desc, sizeof desc);
                    double joint = r.found ? r.best.tpi : NAN;
                    if (uni < DBL_MAX)
                        printf("  uniform best %9.4f s (%s): joint is %.3fx faster\n", uni, desc,
                               uni / joint);
                    else
                        printf("  no uniform plan fits\n");
                }
                uniap_search_result_free(&r);
                if (q) {
                    uniap_search_result ri, re;
                    if (search(&s, tl, 1, 0, &ri) == 0 && search(&s, tl, 0, 1, &re) == 0 && !rank) {
                        printf("  intra-layer only (deg 1): %s %9.4f s;  inter-layer only (no TP, "
                               "no ZeRO): %s %9.4f s\n",
                               ri.found ? "TPI" : "nothing fits", ri.found ? ri.best.tpi : NAN,
                               re.found ? "TPI" : "nothing fits", re.found ? re.best.tpi : NAN);
                        fflush(stdout);
                    }
                    uniap_search_result_free(&ri);
                    uniap_search_result_free(&re);
                }
                free_setup(&s);
            }
    } else if (!strcmp(mode, "runtimes")) {
        bench_runtimes(rank, node_limit, tl, only);
    } else if (!strcmp(mode, "growth") || !strcmp(mode, "naive")) {
        int naive = !strcmp(mode, "naive");
        if (naive) { /* ours at uniap plan's default; the limit is the naive one's */
            node_limit = UNIAP_PLAN_NODE_LIMIT;
            tl = argc > 2 ? atof(argv[2]) : 60;
        }
        uniap_cluster base;
        uniap_cluster_resolve("h100-80g-16x8", &base);
        if (naive && argc > 5) { /* one case of the command line */
            seq_len = argc > 6 ? atoll(argv[6]) : 0;
            if (uniap_cluster_resolve(argv[4], &base) < 0 ||
                make_setup(&s, argv[3], 0, &base, atoll(argv[5])) < 0) {
                if (!rank)
                    printf("setup failed: %s\n", uniap_errmsg());
                MPI_Finalize();
                return 1;
            }
            snprintf(what, sizeof what, "%s on %s B=%s", argv[3], base.name, argv[5]);
            if (search(&s, 0, 0, 0, &r) == 0 && !rank) {
                report(rank, what, &r);
                if (r.found)
                    naive_beside(&s, &r, tl);
            }
            uniap_search_result_free(&r);
            free_setup(&s);
            MPI_Finalize();
            return 0;
        }
        for (size_t a = 0; a < sizeof(growth) / sizeof(growth[0]); a++) {
            if ((only >= 0 && (int)a != only) || (!naive && growth[a].naive_only))
                continue;
            uniap_cluster cl = base;
            cl.nodes = growth[a].gpus / cl.devices_per_node;
            snprintf(cl.name, sizeof cl.name, "h100-80g-%dx%d", cl.nodes, cl.devices_per_node);
            if (make_setup(&s, growth[a].model, growth[a].layers, &cl, growth[a].batch) < 0) {
                if (!rank)
                    printf("setup failed: %s\n", uniap_errmsg());
                uniap_err_clear();
                continue;
            }
            snprintf(what, sizeof what, "%s %3d layers %4d GPUs B=%d", growth[a].model,
                     s.m.n_layers - 2, growth[a].gpus, growth[a].batch);
            if (search(&s, naive ? 0 : tl, 0, 0, &r) == 0) {
                report(rank, what, &r);
                if (naive && !rank && r.found)
                    naive_beside(&s, &r, tl);
            } else if (!rank) {
                printf("%-44s search failed: %s\n", what, uniap_errmsg());
            }
            uniap_err_clear();
            uniap_search_result_free(&r);
            free_setup(&s);
        }
    }
    MPI_Finalize();
    return 0;
}
