/*
 * cmd_estimate.c - `uniap estimate`: the predicted TPI, throughput and
 * per-stage compute, communication and memory (by term) of one fully
 * specified plan: a plan file as `uniap plan` writes it, or a uniform
 * Megatron-style plan from --dp/--tp/--pp/--micro-batches. Exit 0 when the
 * plan fits, 3 (with the shortfall) when it does not, 2 on bad input.
 *
 * Uniform plans: every layer gets the same strategy; layers go to pp
 * stages balanced by layer count: layer u is on stage floor(u pp / L), so
 * stages are contiguous and their sizes differ by at most one.
 *
 * Every rank computes (the work is small and deterministic, so all ranks
 * reach the same status); only rank 0 prints and writes files.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "cm_internal.h"

typedef struct est_args {
    const char *model, *cluster, *profile, *plan, *dump;
    long long global_batch;
    int dp, tp, pp, c;
    uniap_dp_flavour flavour;
    int sp, ckpt, strided, have_schedule;
    uniap_schedule schedule;
    double reserve_gib, overlap;
} est_args;

static void usage(FILE *f)
{
    fprintf(f, "usage: uniap estimate --model M --cluster C [--profile P.h5] --global-batch B\n"
               "         (--plan plan.json | --dp D --tp T --pp P --micro-batches C\n"
               "          [--flavour ddp|zero1|zero2|fsdp] [--sp] [--ckpt] [--strided])\n"
               "         [--schedule 1f1b|gpipe] [--reserve-gib G] [--overlap F]\n"
               "         [--dump-costs FILE]\n"
               "Without --profile the analytic device model of the cluster spec is used.\n"
               "With --dump-costs and no plan, every (deg, c) candidate's table is written.\n");
}

static int parse_long(const char *opt, const char *s, long long lo, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == 0 || *end || v < lo || v > (1LL << 40))
        return uniap_err(UNIAP_EINVAL, "%s '%s': expected an integer >= %lld", opt, s, lo);
    *out = v;
    return UNIAP_OK;
}

static int parse_args(int argc, char **argv, est_args *a)
{
    static const struct option opts[] = {{"model", 1, 0, 'm'},
                                         {"cluster", 1, 0, 'C'},
                                         {"profile", 1, 0, 'p'},
                                         {"plan", 1, 0, 'P'},
                                         {"global-batch", 1, 0, 'B'},
                                         {"dp", 1, 0, 'd'},
                                         {"tp", 1, 0, 't'},
                                         {"pp", 1, 0, 'g'},
                                         {"micro-batches", 1, 0, 'c'},
                                         {"flavour", 1, 0, 'f'},
                                         {"sp", 0, 0, 's'},
                                         {"ckpt", 0, 0, 'k'},
                                         {"strided", 0, 0, 'x'},
                                         {"schedule", 1, 0, 'S'},
                                         {"dump-costs", 1, 0, 'D'},
                                         {"reserve-gib", 1, 0, 'r'},
                                         {"overlap", 1, 0, 'o'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    long long v;
    int ch, rc;

    memset(a, 0, sizeof(*a));
    a->reserve_gib = -1;
    a->overlap = -1;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'm':
            a->model = optarg;
            break;
        case 'C':
            a->cluster = optarg;
            break;
        case 'p':
            a->profile = optarg;
            break;
        case 'P':
            a->plan = optarg;
            break;
        case 'D':
            a->dump = optarg;
            break;
        case 's':
            a->sp = 1;
            break;
        case 'k':
            a->ckpt = 1;
            break;
        case 'x':
            a->strided = 1;
            break;
        case 'h':
            return 1;
        case 'B':
            if ((rc = parse_long("--global-batch", optarg, 1, &a->global_batch)) < 0)
                return rc;
            break;
        case 'd':
        case 't':
        case 'g':
        case 'c':
            if ((rc = parse_long(argv[optind - 1], optarg, 1, &v)) < 0)
                return rc;
            *(ch == 'd' ? &a->dp : ch == 't' ? &a->tp : ch == 'g' ? &a->pp : &a->c) = (int)v;
            break;
        case 'f':
            if (strcmp(optarg, "ddp") == 0)
                a->flavour = UNIAP_DP_DDP;
            else if (strcmp(optarg, "zero1") == 0)
                a->flavour = UNIAP_DP_ZERO1;
            else if (strcmp(optarg, "zero2") == 0)
                a->flavour = UNIAP_DP_ZERO2;
            else if (strcmp(optarg, "fsdp") == 0 || strcmp(optarg, "zero3") == 0)
                a->flavour = UNIAP_DP_FSDP;
            else
                return uniap_err(UNIAP_EINVAL, "--flavour '%s': expected ddp, zero1, zero2 or fsdp",
                                 optarg);
            break;
        case 'S':
            if ((rc = cm_schedule_parse(optarg, &a->schedule)) < 0)
                return rc;
            a->have_schedule = 1;
            break;
        case 'r':
        case 'o': {
            char *end;
            double x = strtod(optarg, &end);
            if (*optarg == 0 || *end || x < 0 || (ch == 'o' && x > 1))
                return uniap_err(UNIAP_EINVAL, "%s '%s': expected a number %s", argv[optind - 1],
                                 optarg, ch == 'o' ? "in [0, 1]" : ">= 0");
            *(ch == 'r' ? &a->reserve_gib : &a->overlap) = x;
            break;
        }
        default:
            return uniap_err(UNIAP_EINVAL, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return uniap_err(UNIAP_EINVAL, "unexpected argument '%s'", argv[optind]);
    if (!a->model || !a->cluster)
        return uniap_err(UNIAP_EINVAL, "--model and --cluster are required");
    int uniform = a->dp || a->tp || a->pp || a->c;
    if (a->plan && uniform)
        return uniap_err(UNIAP_EINVAL, "give either --plan or --dp/--tp/--pp/--micro-batches");
    if (uniform && !(a->dp && a->tp && a->pp && a->c))
        return uniap_err(UNIAP_EINVAL, "a uniform plan needs all of --dp, --tp, --pp and "
                                       "--micro-batches");
    if (!a->plan && !uniform && !a->dump)
        return uniap_err(UNIAP_EINVAL,
                         "no plan: give --plan FILE or --dp/--tp/--pp/--micro-batches");
    if (!a->plan && !a->global_batch)
        return uniap_err(UNIAP_EINVAL, "--global-batch is required");
    return UNIAP_OK;
}

/* The plan to estimate, from a file or the uniform options. */
static int build_plan(const est_args *a, const uniap_model *m, const uniap_cluster *cl,
                      uniap_plan *p)
{
    int rc, N = uniap_cluster_devices(cl);
    uniap_strategy s;

    if (a->plan) {
        if ((rc = uniap_plan_read_json(a->plan, p)) < 0)
            return rc;
        if (a->global_batch && p->global_batch && a->global_batch != p->global_batch)
            return uniap_err(UNIAP_EINVAL, "--global-batch %lld differs from the plan's %lld (%s)",
                             a->global_batch, (long long)p->global_batch, a->plan);
        if (a->global_batch)
            p->global_batch = a->global_batch;
        if (!p->global_batch)
            return uniap_err(UNIAP_EINVAL, "%s has no global_batch: give --global-batch", a->plan);
        if (a->have_schedule)
            p->schedule = a->schedule;
        if (p->n_layers != m->n_layers)
            return uniap_err(UNIAP_EINVAL, "%s: %d layers, model '%s' has %d", a->plan, p->n_layers,
                             m->name, m->n_layers);
        return UNIAP_OK;
    }
    if ((long long)a->dp * a->tp * a->pp != N)
        return uniap_err(UNIAP_EINVAL,
                         "dp %d x tp %d x pp %d = %lld, but cluster '%s' has %d devices", a->dp,
                         a->tp, a->pp, (long long)a->dp * a->tp * a->pp, cl->name, N);
    memset(&s, 0, sizeof(s));
    s.dp = a->dp;
    s.tp = a->tp;
    s.tp_consecutive = !a->strided;
    s.flavour = a->dp > 1 ? a->flavour : UNIAP_DP_DDP;
    s.sp = a->sp;
    s.ckpt = a->ckpt;
    uniap_strategy_format(&s);
    /* re-parse: rejects impossible combinations with a message naming them */
    if ((rc = uniap_strategy_parse(s.name, &s)) < 0)
        return rc;
    memset(p, 0, sizeof(*p));
    p->global_batch = a->global_batch;
    p->deg = a->pp;
    p->micro_batches = a->c;
    p->schedule = a->have_schedule ? a->schedule : UNIAP_SCHED_1F1B;
    p->n_layers = m->n_layers;
    p->stage_of = calloc((size_t)m->n_layers, sizeof(int));
    p->strategy_of = calloc((size_t)m->n_layers, sizeof(uniap_strategy));
    if (!p->stage_of || !p->strategy_of)
        return uniap_err(UNIAP_ENOMEM, "estimate: out of memory");
    for (int u = 0; u < m->n_layers; u++) {
        p->stage_of[u] = (int)((long long)u * a->pp / m->n_layers);
        p->strategy_of[u] = s;
    }
    snprintf(p->status, sizeof(p->status), "given");
    return UNIAP_OK;
}

static double gib(double b)
{
    return b / (double)GiB;
}

static void print_estimate(const uniap_model *m, const uniap_cluster *cl, const char *prof_name,
                           const uniap_costmodel *cm, const uniap_plan *p,
                           const uniap_cost_table *t, const int *idx, const uniap_plan_eval *ev,
                           const cm_stage_memory *sm)
{
    printf("model %s (%d layers), cluster %s (%d x %d %s, %.1f GiB), profile %s\n", m->name,
           m->n_layers, cl->name, cl->nodes, cl->devices_per_node, cl->device_name,
           gib((double)cl->device_memory), prof_name);
    printf("plan: %d stage(s) of %d devices, %d micro-batches of %d samples (global batch %lld), "
           "schedule %s\n",
           t->deg, t->stage_devices, t->micro_batches, t->micro_batch, (long long)p->global_batch,
           cm_schedule_name(p->schedule));
    printf("TPI %.6f s, throughput %.4f samples/s\n", ev->tpi, ev->throughput);
    for (int i = 0; i < t->deg; i++) {
        printf("stage %d: layers %d-%d, strategies", i, sm[i].first_layer, sm[i].last_layer);
        for (int u = sm[i].first_layer; u <= sm[i].last_layer;) {
            int v = u;
            while (v <= sm[i].last_layer &&
                   strcmp(p->strategy_of[v].name, p->strategy_of[u].name) == 0)
                v++;
            printf(" %s x%d", p->strategy_of[u].name, v - u);
            u = v;
        }
        cm_row_terms sum, one;
        memset(&sum, 0, sizeof(sum));
        double reshard = 0.0;
        for (int u = sm[i].first_layer; u <= sm[i].last_layer; u++) {
            if (cm_row_breakdown(cm, t->deg, t->micro_batches, t->run_of[u], &p->strategy_of[u],
                                 &one) < 0) {
                uniap_err_clear(); /* the table built: cannot fail here */
                continue;
            }
            sum.compute += one.compute;
            sum.tp_comm += one.tp_comm;
            sum.dp_comm += one.dp_comm;
            sum.sync_exposed += one.sync_exposed;
            sum.param_gather += one.param_gather;
            sum.optimizer += one.optimizer;
            if (u < sm[i].last_layer)
                reshard += t->reshard[((size_t)u * t->n_strategies + idx[u]) * t->n_strategies +
                                      idx[u + 1]];
        }
        printf("\n  time per micro-batch: %.6f s = compute %.6f + TP comm %.6f + DP comm %.6f + "
               "resharding %.6f; to next stage %.6f s\n",
               ev->stage_compute[i], sum.compute, sum.tp_comm, sum.dp_comm, reshard,
               i + 1 < t->deg ? ev->stage_comm[i] : 0.0);
        printf("  tail per iteration: %.6f s = gradient sync (exposed) %.6f + parameter gather "
               "%.6f + optimizer %.6f\n",
               ev->stage_tail[i], sum.sync_exposed, sum.param_gather, sum.optimizer);
        printf("  memory per device: states %.0f B (%.3f GiB), activations %.0f B (%.3f GiB, %d "
               "micro-batch(es) in flight), peak %.0f B (%.3f GiB), total %.0f B (%.3f GiB); "
               "reserve %.0f B (%.3f GiB), budget %.0f B (%.3f GiB)%s\n",
               sm[i].states, gib(sm[i].states), sm[i].activations, gib(sm[i].activations),
               sm[i].inflight, sm[i].peak, gib(sm[i].peak), ev->stage_mem[i], gib(ev->stage_mem[i]),
               (double)cm->reserve, gib((double)cm->reserve), t->mem_budget, gib(t->mem_budget),
               ev->stage_mem[i] > t->mem_budget ? "  DOES NOT FIT" : "");
    }
    const char *w = uniap_costmodel_warnings(cm);
    fflush(stdout); /* the estimate first, then the warnings about it */
    if (*w)
        fprintf(stderr, "uniap estimate: warnings:\n%s", w);
}

/* Rank 0 alone writes files: every rank takes its status, so that all
 * ranks exit alike. */
static int agree(int rank, int rc)
{
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rc < 0 && rank != 0)
        uniap_err(rc, "rank 0 failed to write its output");
    return rc;
}

/* The table leaves out strategies whose tp the profile lacks
 * (skip_unprofiled_tp): the plan's own layers must be covered, else
 * EMISSING naming the layer type and tp. */
static int check_profile_covers(const uniap_costmodel *cm, const uniap_plan *p)
{
    const uniap_model *m = cm->model;
    int mb = p->micro_batches > 0 ? (int)(p->global_batch / p->micro_batches) : 0;
    for (int u = 0; u < p->n_layers; u++) {
        int r = uniap_model_run_of(m, u);
        const uniap_strategy *s = &p->strategy_of[u];
        cm_layer_point pt;
        if (!cm_layer_tp_ok(&m->runs[r], s->tp) || mb % s->dp != 0)
            continue; /* reported by uniap_plan_strategy_indices */
        int rc = cm_layer_at(cm->run_prof[r], s->tp, mb / s->dp, NULL, &pt);
        if (rc < 0)
            return uniap_err(rc, "layer %d (strategy %s)", u, s->name);
    }
    return UNIAP_OK;
}

/* Profile: read, or the analytic model at micro-batches 1, 2, 4, ... and
 * the global batch (analytic figures are affine in the micro-batch, so
 * interpolating between these is exact). */
static int load_profile(const est_args *a, const uniap_model *m, const uniap_cluster *cl,
                        long long B, uniap_profile *prof)
{
    int mbs[64], n = 0;
    if (a->profile)
        return uniap_profile_read(a->profile, prof);
    for (long long b = 1; b < B && n < 62; b *= 2)
        mbs[n++] = (int)b;
    mbs[n++] = (int)B;
    return uniap_profile_analytic(m, cl, mbs, n, prof);
}

int uniap_cmd_estimate(int argc, char **argv)
{
    est_args a;
    uniap_model m;
    uniap_cluster cl;
    uniap_profile prof;
    uniap_plan plan;
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_cost_table t;
    uniap_plan_eval ev;
    cm_stage_memory *sm = NULL;
    int *idx = NULL, *cdeg = NULL, *cc = NULL, ncand = 0, rank = 0, rc, status;

    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    memset(&m, 0, sizeof(m));
    memset(&prof, 0, sizeof(prof));
    memset(&plan, 0, sizeof(plan));
    memset(&t, 0, sizeof(t));
    memset(&ev, 0, sizeof(ev));
    uniap_err_clear();
    if ((rc = parse_args(argc, argv, &a)) != 0) {
        if (rank == 0) {
            if (rc < 0)
                fprintf(stderr, "uniap estimate: %s\n", uniap_errmsg());
            usage(rc < 0 ? stderr : stdout);
        }
        return rc < 0 ? 2 : 0;
    }
    if ((rc = uniap_model_resolve(a.model, &m)) < 0 ||
        (rc = uniap_cluster_resolve(a.cluster, &cl)) < 0)
        goto report;
    if (a.plan || a.dp) {
        if ((rc = build_plan(&a, &m, &cl, &plan)) < 0)
            goto report;
    } else {
        plan.global_batch = a.global_batch; /* --dump-costs of every candidate */
    }
    if ((rc = load_profile(&a, &m, &cl, plan.global_batch, &prof)) < 0)
        goto report;
    if (a.plan && a.profile && plan.profile_checksum[0] && rank == 0) {
        char crc[20];
        if (uniap_file_crc32(a.profile, crc) == 0 && strcmp(crc, plan.profile_checksum) != 0)
            fprintf(stderr,
                    "uniap estimate: warning: %s was planned with a profile of checksum %s; "
                    "%s has %s\n",
                    a.plan, plan.profile_checksum, a.profile, crc);
        uniap_err_clear();
    }
    uniap_cost_options_default(&o);
    o.global_batch = plan.global_batch;
    o.schedule = plan.deg ? plan.schedule : (a.have_schedule ? a.schedule : UNIAP_SCHED_1F1B);
    o.reserve_bytes = a.reserve_gib >= 0 ? (int64_t)(a.reserve_gib * (double)GiB) : -1;
    o.overlap = a.overlap;
    o.skip_unprofiled_tp = 1; /* only the plan's tp degrees are needed */
    if ((rc = uniap_costmodel_create(&m, &cl, &prof, &o, &cm)) < 0)
        goto report;
    if (a.dump && !plan.deg) {
        if ((rc = uniap_costmodel_candidates(cm, &cdeg, &cc, &ncand)) < 0)
            goto report;
        if (rank == 0)
            rc = cm_dump_costs(a.dump, cm, a.profile ? a.profile : "analytic", cdeg, cc, ncand);
        if ((rc = agree(rank, rc)) < 0)
            goto report;
        if (rank == 0) {
            printf("wrote the cost tables of %d (deg, c) candidates to %s\n", ncand, a.dump);
            fflush(stdout);
            if (*uniap_costmodel_warnings(cm))
                fprintf(stderr, "uniap estimate: warnings:\n%s", uniap_costmodel_warnings(cm));
        }
        goto report;
    }
    if ((rc = check_profile_covers(cm, &plan)) < 0 ||
        (rc = uniap_costmodel_table(cm, plan.deg, plan.micro_batches, &t)) < 0)
        goto report;
    idx = calloc((size_t)m.n_layers, sizeof(int));
    sm = calloc((size_t)plan.deg, sizeof(*sm));
    if (!idx || !sm) {
        rc = uniap_err(UNIAP_ENOMEM, "estimate: out of memory");
        goto report;
    }
    if ((rc = uniap_plan_strategy_indices(&plan, &t, idx)) < 0 ||
        (rc = uniap_plan_evaluate(&t, plan.schedule, plan.stage_of, idx, &ev)) < 0 ||
        (rc = cm_stage_breakdown(&t, plan.schedule, plan.stage_of, idx, sm)) < 0)
        goto report;
    if (a.dump) {
        int d = plan.deg, c = plan.micro_batches;
        if (rank == 0)
            rc = cm_dump_costs(a.dump, cm, a.profile ? a.profile : "analytic", &d, &c, 1);
        if ((rc = agree(rank, rc)) < 0)
            goto report;
    }
    if (rank == 0)
        print_estimate(&m, &cl, a.profile ? a.profile : "analytic (from the cluster spec)", cm,
                       &plan, &t, idx, &ev, sm);
    if (!ev.feasible) {
        int i = ev.worst_stage;
        rc = uniap_err(UNIAP_EINFEASIBLE,
                       "the plan does not fit: stage %d needs %.0f B (%.3f GiB) per device, the "
                       "budget is %.0f B (%.3f GiB = device %.3f GiB - reserve %.3f GiB): short by "
                       "%.0f B (%.3f GiB)",
                       i, ev.stage_mem[i], gib(ev.stage_mem[i]), t.mem_budget, gib(t.mem_budget),
                       gib((double)cl.device_memory), gib((double)cm->reserve), ev.worst_excess,
                       gib(ev.worst_excess));
    }
report:
    status = uniap_exit_code(rc);
    if (rc < 0 && rank == 0)
        fprintf(stderr, "uniap estimate: %s\n", uniap_errmsg());
    free(idx);
    free(sm);
    free(cdeg);
    free(cc);
    uniap_plan_eval_free(&ev);
    uniap_cost_table_free(&t);
    uniap_costmodel_destroy(cm);
    uniap_plan_free(&plan);
    uniap_profile_free(&prof);
    uniap_model_free(&m);
    return status;
}
