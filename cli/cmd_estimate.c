/*
 * cmd_estimate.c - `uniap estimate`: the predicted TPI, throughput and
 * per-stage compute, communication and memory (by term) of one fully
 * specified plan: a plan file as `uniap plan` writes it, or a uniform
 * Megatron-style plan from --dp/--tp/--pp/--micro-batches. Inputs are
 * loaded by cli/inputs.h as for `uniap plan` (the cluster from the
 * profile when --cluster is absent; the same analytic profile). Exit 0
 * when the plan fits, 3 (with the shortfall) when it does not, 2 on bad
 * input.
 *
 * Uniform plans: every layer gets the same strategy; stages are split as
 * Megatron-LM splits them (uniap_plan_split_stages): the transformer
 * blocks evenly, or as --layers-per-stage gives, the embedding on the
 * first stage and the head on the last. (Before 2026-12 the embedding and
 * head counted as layers of an even split, which placed a published plan
 * differently from how Megatron-LM runs it.)
 *
 * Every rank computes (the work is small and deterministic, so all ranks
 * reach the same status); only rank 0 prints and writes files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "inputs.h"
#include "plan_exports.h"
#include "estimate_internal.h"
#include "plan_svg.h"

/* --format (file scope: the option table outlives est_cmd) */
static const char *const format_names[] = {"text", "json", NULL};
static const char *const flavour_names[] = {"ddp", "zero1", "zero2", "fsdp", "zero3", NULL};
static const int flavour_values[] = {UNIAP_DP_DDP, UNIAP_DP_ZERO1, UNIAP_DP_ZERO2, UNIAP_DP_FSDP,
                                     UNIAP_DP_FSDP};

/* The entries describing a uniform plan: a degree in [1, max], a flag. */
#define UNIFORM_INT(nm, field, hi, text)                                                           \
    {                                                                                              \
        .name = nm, .kind = UNIAP_OPTK_INT, .dest = &a->field, .min = 1, .max = hi, .def = "",     \
        .help = "uniform plan: " text                                                              \
    }
#define UNIFORM_FLAG(nm, field, text)                                                              \
    {                                                                                              \
        .name = nm, .kind = UNIAP_OPTK_FLAG, .dest = &a->field, .help = "uniform plan: " text      \
    }

/* The option table of `uniap estimate` over a (defaults set here). */
static void est_cmd(est_args *a, uniap_opt *opts, uniap_cmd *cmd)
{
    memset(a, 0, sizeof(*a));
    a->schedule = UNIAP_SCHED_1F1B;
    int n = 0;
    uniap_inputs_opts(&a->req, "estimate", "the plan's", opts, &n);
    uniap_opt t[] = {
        {.name = "plan",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->plan,
         .metavar = "FILE",
         .help = "plan JSON as uniap plan writes it"},
        {.name = "megatron-args",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->megatron,
         .metavar = "FILE",
         .help = "a Megatron-LM command line (as uniap plan --megatron-args writes it, or your "
                 "own): the plan Megatron-LM runs with those arguments"},
        UNIFORM_INT("dp", dp, 1 << 20, "data-parallel degree"),
        UNIFORM_INT("cp", cp, 1 << 20,
                    "context-parallel degree (default 1; ring attention, or --ulysses)"),
        UNIFORM_INT("ep", ep, 1 << 20,
                    "expert-parallel degree of the moe layers (default 1; divides --dp and their "
                    "experts; the other layers ep 1)"),
        UNIFORM_INT("tp", tp, 1 << 20, "tensor-parallel degree"),
        UNIFORM_INT("pp", pp, 1 << 20, "pipeline stages"),
        UNIFORM_INT("micro-batches", c, 1 << 30, "micro-batches per iteration"),
        {.name = "flavour",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &a->flavour,
         .choices = flavour_names,
         .values = flavour_values,
         .help = "uniform plan: data-parallel flavour"},
        UNIFORM_FLAG("sp", sp, "sequence parallelism"),
        UNIFORM_FLAG("ckpt", ckpt, "activation checkpointing"),
        UNIFORM_FLAG("strided", strided, "strided tensor-parallel groups"),
        UNIFORM_FLAG("ulysses", ulysses, "context parallelism by DeepSpeed-Ulysses all-to-alls"),
        {.name = "layers-per-stage",
         .kind = UNIAP_OPTK_STRING,
         .dest = &a->layers_per_stage,
         .metavar = "A,B,...",
         .def = "even",
         .help = "uniform plan: transformer blocks per stage, one count per --pp stage (the "
                 "embedding goes with the first stage, the head with the last; first and last "
                 "may be 0), as Megatron-LM's uneven splits"},
        uniap_inputs_schedule_opt(&a->schedule, "the plan's, else 1f1b", "pipeline schedule"),
        {.name = "vpp",
         .kind = UNIAP_OPTK_INT,
         .dest = &a->vpp,
         .min = 1,
         .max = 64,
         .def = "",
         .metavar = "V",
         .help = "virtual pipeline stages (model chunks) per device: interleaved 1F1B with V "
                 "chunks, the schedule interleavedV (1: 1f1b), as Megatron-LM's "
                 "--virtual-pipeline-model-parallel-size"},
        {.name = "out",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &a->out,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "the estimated plan as plan JSON (as uniap plan writes it: uniap compare, "
                 "show and estimate --plan read it; - : standard output)"},
        {.name = "format",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &a->format,
         .choices = format_names,
         .help = "text (the report) or json: the estimated plan as plan JSON on stdout (as --out "
                 "-), the report on stderr"},
        {.name = "svg",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &a->svg,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "the plan as a picture (SVG): the pipeline timeline of one iteration, memory "
                 "per stage against the device, layers to stages by strategy (- : standard "
                 "output)"},
        {.name = "html",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &a->html,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "the same picture inline in an HTML page"},
        {.name = "dump-costs",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &a->dump,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "the cost tables as JSON (- : standard output); without a plan, every "
                 "(deg, c) candidate's"},
    };
    memcpy(opts + n, t, sizeof(t));
    n += (int)(sizeof(t) / sizeof(t[0]));
    uniap_inputs_restrict_opts(&a->limits, opts, &n);
    uniap_inputs_training_opts(&a->training, opts, &n);
    uniap_from_opts(&a->from, opts, &n);
    a->req.training = &a->training;
    memset(&opts[n], 0, sizeof(opts[n]));
    memset(cmd, 0, sizeof(*cmd));
    cmd->name = "estimate";
    cmd->summary = "predict the TPI, throughput and per-stage time and memory of one given plan";
    cmd->synopsis = "uniap estimate --model M (--cluster C | --profile P.h5 | both)\n"
                    "         (--plan plan.json |\n"
                    "          --dp D --tp T --pp P --micro-batches C --global-batch B) [options]";
    cmd->description =
        "Without --profile the analytic device model of the cluster spec is used; without\n"
        "--cluster the machine the profile measured. With --dump-costs and no plan, every\n"
        "(deg, c) candidate's cost table is written. Exit 3: the plan does not fit.";
    cmd->opts = opts;
}
#undef UNIFORM_INT
#undef UNIFORM_FLAG

/* Option combinations the table cannot express. */
static int check_args(const est_args *a, const uniap_cmd *cmd)
{
    int uniform = a->dp || a->cp || a->ep || a->tp || a->pp || a->c,
        from = uniap_from_given(&a->from);
    if (from < 0)
        return from;
    if (!!a->plan + !!uniform + !!a->megatron + from > 1)
        return uniap_err(UNIAP_EINVAL, "give one of --plan, --megatron-args, --from-deepspeed, "
                                       "--from-torchtitan, --from-galvatron or "
                                       "--dp/--tp/--pp/--micro-batches");
    if (a->megatron && a->req.global_batch)
        return uniap_err(UNIAP_EINVAL,
                         "--global-batch: --megatron-args gives it (--global-batch-size)");
    if (uniform && !(a->dp && a->tp && a->pp && a->c))
        return uniap_err(UNIAP_EINVAL, "a uniform plan needs all of --dp, --tp, --pp and "
                                       "--micro-batches");
    if (from)
        return UNIAP_OK; /* the files give the plan and its global batch */
    if (!a->plan && !uniform && !a->dump && !a->megatron)
        return uniap_err(UNIAP_EINVAL,
                         "no plan: give --plan FILE or --dp/--tp/--pp/--micro-batches");
    if (!a->plan && !a->megatron && !a->req.global_batch)
        return uniap_err(UNIAP_EINVAL, "--global-batch is required without --plan");
    if (!uniform &&
        (uniap_opts_given(cmd, "flavour") || a->sp || a->ckpt || a->strided || a->layers_per_stage))
        return uniap_err(UNIAP_EINVAL, "--flavour, --sp, --ckpt, --strided and --layers-per-stage "
                                       "describe a uniform plan: give "
                                       "--dp/--tp/--pp/--micro-batches too");
    return UNIAP_OK;
}

/* --vpp V as the schedule with V model chunks per stage (1: 1f1b); with
 * --schedule as well, the two must agree. */
static int resolve_vpp(est_args *a, const uniap_cmd *cmd)
{
    char name[32];
    uniap_schedule s = UNIAP_SCHED_1F1B;
    if (!a->vpp)
        return UNIAP_OK;
    if (a->megatron || uniap_from_given(&a->from) > 0)
        return uniap_err(UNIAP_EINVAL, "--vpp: the runtime's files give the schedule (Megatron-LM: "
                                       "--num-layers-per-virtual-pipeline-stage)");
    snprintf(name, sizeof name, "interleaved%d", a->vpp);
    if (a->vpp > 1 &&
        (uniap_schedule_parse(name, &s) < 0 || uniap_schedule_virtual_stages(s) != a->vpp)) {
        char list[256];
        uniap_err_clear();
        uniap_schedule_list(list, sizeof list, "");
        return uniap_err(UNIAP_EINVAL,
                         "--vpp %d: no interleaved schedule has %d model chunks per stage (the "
                         "schedules: %s)",
                         a->vpp, a->vpp, list);
    }
    if (uniap_opts_given(cmd, "schedule") && a->schedule != (int)s)
        return uniap_err(UNIAP_EINVAL, "--vpp %d is schedule %s, but --schedule says %s", a->vpp,
                         uniap_schedule_name(s), uniap_schedule_name((uniap_schedule)a->schedule));
    a->schedule = (int)s;
    return UNIAP_OK;
}

/* The plan file, checked against the options (before the inputs load). */
static int read_plan(const est_args *a, uniap_cmd *cmd, uniap_plan *p, void **keep)
{
    int rc;
    if ((rc = uniap_plan_read_json(a->plan, p)) < 0)
        return rc;
    if (p->search &&
        (rc = uniap_opts_replay_keys(cmd, p->search, a->plan, uniap__plan_training_keys, keep)) < 0)
        return rc;
    if (a->req.global_batch && p->global_batch && a->req.global_batch != p->global_batch)
        return uniap_err(UNIAP_EINVAL, "--global-batch %lld differs from the plan's %lld (%s)",
                         (long long)a->req.global_batch, (long long)p->global_batch, a->plan);
    if (a->req.global_batch)
        p->global_batch = a->req.global_batch;
    if (!p->global_batch)
        return uniap_err(UNIAP_EINVAL, "%s has no global_batch: give --global-batch", a->plan);
    if (uniap_opts_given(cmd, "schedule") || a->vpp)
        p->schedule = (uniap_schedule)a->schedule;
    return UNIAP_OK;
}

#define UNIAP_LPS_MAX 4096 /* stages --layers-per-stage may list */

/* --layers-per-stage "a,b,c": pp counts >= 0 into blocks. */
static int parse_layers_per_stage(const char *text, int pp, int *blocks)
{
    const char *p = text;
    int n = 0;
    if (pp > UNIAP_LPS_MAX)
        return uniap_err(UNIAP_EINVAL, "--layers-per-stage: at most %d stages", UNIAP_LPS_MAX);
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 1000000 || (*end && *end != ','))
            return uniap_err(UNIAP_EINVAL,
                             "--layers-per-stage '%s': expected comma-separated block counts "
                             "(integers >= 0), one per stage",
                             text);
        if (n == pp)
            return uniap_err(UNIAP_EINVAL, "--layers-per-stage '%s': more than --pp %d counts",
                             text, pp);
        blocks[n++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (n != pp)
        return uniap_err(UNIAP_EINVAL, "--layers-per-stage '%s': %d counts for --pp %d stages",
                         text, n, pp);
    return UNIAP_OK;
}

/* A uniform plan from --dp/--tp/--pp/--micro-batches. */
static int uniform_plan(const est_args *a, const uniap_model *m, const uniap_cluster *cl,
                        uniap_plan *p)
{
    int rc, N = uniap_cluster_devices(cl), cp = a->cp > 1 ? a->cp : 1;
    uniap_strategy s;
    if ((long long)a->dp * cp * a->tp * a->pp != N)
        return uniap_err(UNIAP_EINVAL,
                         "--dp %d x --cp %d x --tp %d x --pp %d = %lld, but cluster '%s' has %d "
                         "devices",
                         a->dp, cp, a->tp, a->pp, (long long)a->dp * cp * a->tp * a->pp, cl->name,
                         N);
    memset(&s, 0, sizeof(s));
    s.dp = a->dp;
    s.cp = cp;
    s.cp_a2a = a->ulysses;
    s.tp = a->tp;
    s.tp_consecutive = !a->strided;
    s.flavour = a->dp > 1 ? (uniap_dp_flavour)a->flavour : UNIAP_DP_DDP;
    s.sp = a->sp;
    s.ckpt = a->ckpt;
    uniap_strategy_format(&s);
    /* re-parse: rejects impossible combinations with a message naming them */
    if ((rc = uniap_strategy_parse(s.name, &s)) < 0)
        return rc;
    memset(p, 0, sizeof(*p));
    p->global_batch = a->req.global_batch;
    p->deg = a->pp;
    p->micro_batches = a->c;
    p->schedule = (uniap_schedule)a->schedule;
    p->n_layers = m->n_layers;
    p->stage_of = calloc((size_t)m->n_layers, sizeof(int));
    p->strategy_of = calloc((size_t)m->n_layers, sizeof(uniap_strategy));
    if (!p->stage_of || !p->strategy_of)
        return uniap_err(UNIAP_ENOMEM, "estimate: out of memory");
    int blocks[UNIAP_LPS_MAX];
    if (a->layers_per_stage &&
        (rc = parse_layers_per_stage(a->layers_per_stage, a->pp, blocks)) < 0)
        return rc;
    /* as Megatron-LM places them: blocks evenly (or as given), the
     * embedding on the first stage, the head on the last */
    if ((rc = uniap_plan_split_stages(m, a->pp, a->layers_per_stage ? blocks : NULL, p->stage_of)) <
        0)
        return rc;
    uniap_strategy s_ep = s; /* the moe layers' */
    s_ep.ep = a->ep > 1 ? a->ep : 0;
    uniap_strategy_format(&s_ep);
    if ((rc = uniap_strategy_parse(s_ep.name, &s_ep)) < 0)
        return uniap_err(rc, "--ep %d", a->ep);
    for (int u = 0; u < m->n_layers; u++)
        p->strategy_of[u] = m->runs[uniap_model_run_of(m, u)].experts > 0 ? s_ep : s;
    snprintf(p->status, sizeof(p->status), "given");
    return UNIAP_OK;
}

/* --megatron-args FILE: its text in *text (malloc'd) and its
 * --global-batch-size in *B, which the inputs need before the plan. */
static int read_megatron(const char *path, char **text, int64_t *B)
{
    size_t len;
    int rc = uniap_read_file(path, text, &len);
    if (rc < 0)
        return rc;
    const char *g = strstr(*text, "--global-batch-size ");
    long long b = 0;
    if (!g || sscanf(g + 20, "%lld", &b) != 1 || b < 1)
        return uniap_err(UNIAP_EINVAL, "--megatron-args %s: no --global-batch-size N", path);
    *B = b;
    return UNIAP_OK;
}

/* The plan (file, Megatron-LM arguments or uniform), the inputs, the cost
 * model. Collective. */
static int load(est_ctx *x, uniap_cmd *cmd)
{
    const est_args *a = &x->a;
    char *mg = NULL;
    int64_t B = 0;
    uniap_from_texts ft;
    int from = uniap_from_given(&a->from) > 0;
    memset(&ft, 0, sizeof(ft));
    int rc = a->plan       ? read_plan(a, cmd, &x->plan, &x->replayed)
             : a->megatron ? read_megatron(a->megatron, &mg, &B)
             : from        ? uniap_from_read(&a->from, a->req.global_batch, &ft, &B)
                           : 0;
    if (!a->megatron && !from)
        B = a->plan ? x->plan.global_batch : a->req.global_batch;
    uniap_inputs_req req = a->req;
    req.global_batch = B;
    req.verbose = x->rank == 0;
    if (rc == 0 && (rc = uniap_inputs_load(&req, &x->in)) == 0)
        x->loaded = 1;
    if ((rc = uniap_inputs_agree(rc, x->argc, x->argv, &x->in)) < 0) {
        free(mg);
        uniap_from_free(&ft);
        return rc;
    }
    if (a->plan && x->plan.n_layers != x->in.model.n_layers)
        rc = uniap_err(UNIAP_EINVAL, "--plan %s: %d layers, model '%s' has %d", a->plan,
                       x->plan.n_layers, x->in.model.name, x->in.model.n_layers);
    else if (!a->plan && a->dp)
        rc = uniform_plan(a, &x->in.model, &x->in.cluster, &x->plan);
    else if (from) /* the runtime's own files (plan_exports.c) */
        rc = uniap_from_import(&ft, a->req.global_batch, &x->in.model, &x->in.cluster, &x->plan);
    else if (a->megatron) {
        char what[4200];
        snprintf(what, sizeof what, "--megatron-args %s", a->megatron);
        rc = uniap_plan_import_megatron(mg, what, &x->in.model, &x->in.cluster, &x->plan);
    } else if (!a->plan)
        x->plan.global_batch = B; /* --dump-costs of every candidate */
    free(mg);
    uniap_from_free(&ft);
    if (rc == 0 && x->plan.micro_batches > 0)
        rc = uniap_inputs_analytic_cover(&x->in, x->plan.global_batch, x->plan.micro_batches,
                                         x->plan.search);
    if (rc == 0 && a->plan && a->req.profile && x->plan.profile_checksum[0] && x->rank == 0 &&
        strcmp(x->in.profile_checksum, x->plan.profile_checksum) != 0)
        fprintf(stderr,
                "uniap estimate: warning: %s was planned with a profile of checksum %s; %s has "
                "%s\n",
                a->plan, x->plan.profile_checksum, a->req.profile, x->in.profile_checksum);
    uniap_cost_options o;
    uniap_cost_options_default(&o);
    o.global_batch = x->plan.global_batch;
    o.schedule = x->plan.deg ? x->plan.schedule : (uniap_schedule)a->schedule;
    o.profile_path = a->req.profile;
    if (rc == 0)
        rc = uniap_inputs_restrict_apply(&a->limits, &o);
    /* the tables offer the model's checkpointing granularities and every
     * one the plan uses, so that any plan can be estimated */
    o.ckpt_modes = uniap_training_ckpt_modes(&x->in.model.training);
    for (int u = 0; x->plan.strategy_of && u < x->plan.n_layers; u++)
        if ((unsigned)x->plan.strategy_of[u].ckpt < UNIAP_CKPT_COUNT)
            o.ckpt_modes |= UNIAP_CKPT_BIT(x->plan.strategy_of[u].ckpt);
    /* and every context-parallel degree the plan uses */
    for (int u = 0; x->plan.strategy_of && u < x->plan.n_layers; u++)
        if (uniap_strategy_cp(&x->plan.strategy_of[u]) > o.max_cp && !a->limits.no_cp)
            o.max_cp = uniap_strategy_cp(&x->plan.strategy_of[u]);
    /* and expert-parallel degree */
    for (int u = 0; x->plan.strategy_of && u < x->plan.n_layers; u++)
        if (uniap_strategy_ep(&x->plan.strategy_of[u]) > o.max_ep && o.max_ep > 0 &&
            !a->limits.no_ep)
            o.max_ep = uniap_strategy_ep(&x->plan.strategy_of[u]);
    if (rc == 0)
        rc = uniap_costmodel_create(&x->in.model, &x->in.cluster, &x->in.profile, &o, &x->cm);
    return uniap_mpi_agree(MPI_COMM_WORLD, rc);
}

/* The plan's table, evaluation and breakdown. */
static int evaluate(est_ctx *x)
{
    const uniap_plan *p = &x->plan;
    int rc;
    if ((rc = uniap_plan_check_profile(x->cm, p)) < 0 ||
        (rc = uniap_costmodel_table(x->cm, p->deg, p->micro_batches, &x->t)) < 0)
        return rc;
    x->idx = calloc((size_t)x->in.model.n_layers, sizeof(int));
    x->sb = calloc((size_t)p->deg, sizeof(*x->sb));
    if (!x->idx || !x->sb)
        return uniap_err(UNIAP_ENOMEM, "estimate: out of memory");
    if ((rc = uniap_plan_strategy_indices(p, &x->t, x->idx)) < 0 ||
        (rc = uniap_plan_evaluate(&x->t, p->schedule, p->stage_of, x->idx, &x->ev)) < 0 ||
        (rc = uniap_plan_breakdown(x->cm, p, &x->t, x->idx, x->sb)) < 0)
        return rc;
    return UNIAP_OK;
}

/* Everything after the parse; returns a status (the same on every rank). */
static int run(est_ctx *x, uniap_cmd *cmd)
{
    int rc, d, c;
    if ((rc = load(x, cmd)) < 0)
        return rc;
    if (x->a.dump && !x->plan.deg) {
        rc = uniap_costmodel_candidates(x->cm, &x->cdeg, &x->cc, &x->ncand);
        if (rc == 0 && x->rank == 0 &&
            (rc = uniap__est_dump_costs(x, x->cdeg, x->cc, x->ncand)) == 0)
            fprintf(x->rep, "wrote the cost tables of %d (deg, c) candidates to %s\n", x->ncand,
                    x->a.dump);
        if (x->rank == 0)
            uniap_inputs_print_warnings("estimate", x->cm, 1);
        return uniap_mpi_agree(MPI_COMM_WORLD, rc);
    }
    rc = evaluate(x);
    d = x->plan.deg, c = x->plan.micro_batches;
    if (rc == 0 && x->a.dump && x->rank == 0)
        rc = uniap__est_dump_costs(x, &d, &c, 1);
    if ((rc = uniap_mpi_agree(MPI_COMM_WORLD, rc)) < 0)
        return rc;
    if (x->rank == 0) {
        uniap__est_print(x);
        uniap_inputs_print_warnings("estimate", x->cm, 1);
    }
    if (x->a.out) {
        rc = x->rank == 0 ? uniap__est_write_plan(x) : 0;
        if ((rc = uniap_mpi_agree(MPI_COMM_WORLD, rc)) < 0)
            return rc;
    }
    if (x->a.svg || x->a.html) { /* rank 0 draws; every rank learns the outcome */
        rc = x->rank == 0 ? uniap__est_write_pictures(x) : 0;
        if ((rc = uniap_mpi_agree(MPI_COMM_WORLD, rc)) < 0)
            return rc;
    }
    if (!x->ev.feasible) {
        int i = x->ev.worst_stage;
        double reserve = (double)uniap_costmodel_reserve(x->cm);
        rc = uniap_err(UNIAP_EINFEASIBLE,
                       "the plan does not fit: stage %d needs %.0f B (%.3f GiB) per device, the "
                       "budget is %.0f B (%.3f GiB = device %.3f GiB - reserve %.3f GiB): short by "
                       "%.0f B (%.3f GiB)",
                       i, x->ev.stage_mem[i], x->ev.stage_mem[i] / GIB, uniap_ct_budget(&x->t, i),
                       uniap_ct_budget(&x->t, i) / GIB, (double)x->in.cluster.device_memory / GIB,
                       reserve / GIB, x->ev.worst_excess, x->ev.worst_excess / GIB);
    }
    return rc;
}

static void est_ctx_free(est_ctx *x)
{
    free(x->idx);
    free(x->sb);
    free(x->cdeg);
    free(x->cc);
    uniap_plan_eval_free(&x->ev);
    uniap_cost_table_free(&x->t);
    uniap_costmodel_destroy(x->cm);
    uniap_plan_free(&x->plan);
    if (x->loaded)
        uniap_inputs_free(&x->in);
    uniap_opts_replay_free(x->replayed);
}

int uniap_cli_estimate(int argc, char **argv)
{
    est_ctx x;
    uniap_opt opts[64];
    uniap_cmd cmd;
    int rc, prc, status;

    memset(&x, 0, sizeof(x));
    uniap_err_clear();
    MPI_Comm_rank(MPI_COMM_WORLD, &x.rank);
    est_cmd(&x.a, opts, &cmd);
    x.argc = argc;
    x.argv = argv;
    prc = uniap_opts_parse(&cmd, argc, argv);
    if (prc == 0)
        prc = uniap_inputs_batch_from_tokens(&x.a.req, 0);
    if (prc == 0)
        prc = check_args(&x.a, &cmd);
    if (prc == 0)
        prc = resolve_vpp(&x.a, &cmd);
    if (uniap_opts_finish(&cmd, uniap__agree_parse(prc, argc, argv), x.rank == 0, &status))
        return status;
    if (x.a.format == 1 && !x.a.out)
        x.a.out = "-"; /* --format json: the plan JSON on stdout */
    /* the report moves to stderr when an output is standard output */
    int to_stdout = (x.a.dump && !strcmp(x.a.dump, "-")) || (x.a.svg && !strcmp(x.a.svg, "-")) ||
                    (x.a.html && !strcmp(x.a.html, "-")) || (x.a.out && !strcmp(x.a.out, "-"));
    x.rep = to_stdout ? stderr : stdout;
    rc = uniap_mpi_agree(MPI_COMM_WORLD, uniap_opts_check_files(&cmd, NULL, NULL, 0));
    if (rc == 0)
        rc = run(&x, &cmd);
    status = uniap_exit_code(rc);
    if (rc < 0 && x.rank == 0)
        uniap__print_error(stderr, "estimate", rc);
    est_ctx_free(&x);
    return status;
}
