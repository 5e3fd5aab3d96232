/*
 * cmd_plan.c - `uniap plan`: parses the options (cli/options.h), loads the
 * model, cluster and profile (cli/inputs.h: or the analytic profile of the
 * cluster spec), checks every output before the search, runs the Unified
 * Optimization Process over MPI_COMM_WORLD, prints the plan as a table and
 * writes the plan JSON and the Megatron-LM / Galvatron exports: all of
 * them or none. SIGINT/SIGTERM stop the search: the best plan so far is
 * printed marked interrupted, nothing is written, exit 4.
 *
 * Exit status: 0 plan found; 1 no plan for another reason than memory
 * (UNIAP_ENOPLAN, with why); 2 bad input; 3 nothing fits in memory (with
 * the smallest shortfall); 4 interrupted.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd_util.h"
#include "inputs.h"
#include "plan_internal.h"

static const char *const form_names[] = {"auto", "per-layer", "aggregated", NULL};
static const int form_values[] = {UNIAP_FORM_AUTO, UNIAP_FORM_PER_LAYER, UNIAP_FORM_AGGREGATED};
static const char *const format_names[] = {"text", "json", NULL};
static char runtime_help[1024]; /* the --runtime help: the runtimes' own lines */

/* --runtime (its help from the runtimes' own lines) and --compare-any,
 * appended to opts. */
static void runtime_opts(plan_args *a, uniap_opt *opts, int *n)
{
    int w = snprintf(runtime_help, sizeof runtime_help,
                     "search only the plans this training runtime can execute (the proven "
                     "optimum among them)");
    for (int r = 0; uniap_runtime_names()[r] && w >= 0 && (size_t)w < sizeof runtime_help; r++)
        w += snprintf(runtime_help + w, sizeof runtime_help - (size_t)w, "%s %s: %s", r ? ";" : ".",
                      uniap_runtime_names()[r], uniap_runtime_help(r));
    uniap_opt t[] = {
        {.name = "runtime",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &a->runtime,
         .choices = uniap_runtime_names(),
         .def = "any",
         .help = runtime_help},
        {.name = "compare-any",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &a->compare_any,
         .help = "with --runtime: also search every plan (--runtime any) and print both "
                 "TPIs and their ratio (the cost of the runtime's restrictions)"},
    };
    memcpy(opts + *n, t, sizeof(t));
    *n += (int)(sizeof(t) / sizeof(t[0]));
}

/* The option table of `uniap plan` over a (defaults set here). */
static void plan_cmd(plan_args *a, uniap_opt *opts, uniap_cmd *cmd)
{
    int n = 0;
    memset(a, 0, sizeof(*a));
    a->schedule = "1f1b";
    /* a limit of work, not of time, by default: the same inputs give the
     * same plan on any machine and load (about 5 s of branch and cut on
     * the largest growth benchmarks of a 2-core machine) */
    a->node_limit = UNIAP_PLAN_NODE_LIMIT;
    a->time_limit = 0;
    a->form = UNIAP_FORM_AUTO;
    uniap_inputs_opts(&a->req, "plan", NULL, opts, &n);
    opts[n++] = uniap_inputs_schedules_opt(&a->schedule, NULL,
                                           "pipeline schedules searched: a comma list of "
                                           "schedule names, both (1f1b,gpipe) or all");
    uniap_opt t[] = {
        {.name = "node-limit",
         .kind = UNIAP_OPTK_INT,
         .dest = &a->node_limit,
         .metavar = "N",
         .min = 0,
         .max = 1000000000,
         .help = "branch-and-bound nodes per MILP of a candidate (up to three per "
                 "candidate), 0: none; a limit of work, so the plan is the same on any "
                 "machine and load"},
        {.name = "time-limit",
         .kind = UNIAP_OPTK_DOUBLE,
         .dest = &a->time_limit,
         .metavar = "S",
         .dmin = 0,
         .dmax = 1e9,
         .help = "wall-clock seconds per GLPK call (each LP relaxation and MILP of a "
                 "candidate), 0: none; a search it stops depends on the machine's speed "
                 "and load"},
        {.name = "micro-batches",
         .kind = UNIAP_OPTK_INT_LIST,
         .dest = a->mb_counts,
         .count = &a->n_mb_counts,
         .max_count = UNIAP_MAX_MB_COUNTS,
         .metavar = "C,...",
         .min = 1,
         .max = 1 << 30,
         .def = "every divisor of the global batch",
         .help = "the micro-batch counts searched; with --runtime galvatron or any also "
                 "counts that do not divide the global batch, split as torch.chunk does "
                 "(ceil(B / C) samples each, the last fewer; priced as C of ceil(B / C))"},
        {.name = "formulation",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &a->form,
         .choices = form_names,
         .values = form_values,
         .help = "MILP formulation"},
        {.name = "out",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &a->out,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "plan JSON (- : standard output)"},
        {.name = "megatron-args",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &a->megatron,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "the plan as Megatron-LM arguments (- : standard output)"},
        {.name = "galvatron-config",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &a->galvatron,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "the plan as a Galvatron strategy JSON (- : standard output)"},
        {.name = "from",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->from,
         .metavar = "PLAN.json",
         .flags = UNIAP_OPT_NO_RECORD,
         .help = "rerun the search a plan file records (its \"search\" object: every option "
                 "it was searched with); options given here replace the recorded ones"},
        {.name = "format",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &a->format,
         .choices = format_names,
         .flags = UNIAP_OPT_NO_RECORD,
         .help = "json: the plan JSON (the --out schema) on standard output, the table on "
                 "standard error"},
        {.name = "quiet",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &a->quiet,
         .flags = UNIAP_OPT_NO_RECORD,
         .help = "nothing on standard error but errors and input warnings: no progress, notes or "
                 "cost model warnings"},
        {.name = "write-lp",
         .kind = UNIAP_OPTK_STRING,
         .dest = &a->lp_dir,
         .metavar = "DIR",
         .flags = UNIAP_OPT_NO_RECORD,
         .help = "each pair's MILP and its layout-free relaxation (*_bound.lp) in CPLEX LP "
                 "format, into folder DIR (created)"},
        {.name = "log-dir",
         .kind = UNIAP_OPTK_STRING,
         .dest = &a->log_dir,
         .metavar = "DIR",
         .flags = UNIAP_OPT_NO_RECORD,
         .help = "GLPK's log and one summary line per pair in DIR/glpk-rankN.log (created)"},
    };
    memcpy(opts + n, t, sizeof(t));
    n += (int)(sizeof(t) / sizeof(t[0]));
    uniap_exports_opts(&a->ex, opts, &n);
    runtime_opts(a, opts, &n);
    uniap_inputs_restrict_opts(&a->limits, opts, &n);
    uniap_inputs_training_opts(&a->training, opts, &n);
    a->req.training = &a->training;
    memset(&opts[n], 0, sizeof(opts[n]));
    memset(cmd, 0, sizeof(*cmd));
    cmd->name = "plan";
    cmd->summary = "search the fastest parallel plan (one exact MILP per pipeline degree and "
                   "micro-batch count, the pairs split over the MPI ranks)";
    cmd->synopsis = "mpirun -np R uniap plan --model M (--cluster C | --profile P.h5 | both)\n"
                    "         --global-batch B [options]";
    cmd->description =
        "Without --profile the analytic device model of the cluster spec is used; without\n"
        "--cluster the machine the profile measured (its stored cluster_spec). Strategies\n"
        "the profile has no data for are left out (warned once). Every output is checked\n"
        "before the search; all are written at the end, or none. At most one output may be\n"
        "- (standard output); the plan table then goes to standard error. SIGINT/SIGTERM\n"
        "stop the search: the best plan so far is printed, marked interrupted, nothing is\n"
        "written, exit 4. Exit 3: no plan fits in memory; 1: no plan for another reason.\n"
        "\n"
        "Progress goes to standard error: on a terminal one line rewritten in place, else a\n"
        "line per tenth of the pairs (pairs done, solved, pruned, best TPI, proven gap).\n"
        "The plan JSON records every option searched with (\"search\"): uniap plan --from\n"
        "plan.json reruns that search, and fails if the recorded profile has changed.";
    cmd->opts = opts;
}

/* ---- signals ---- */

static void on_signal(int sig)
{
    (void)sig;
    uniap_search_interrupt();
}

/* Installs the handlers of SIGINT and SIGTERM, keeping the old ones. */
static void catch_signals(struct sigaction old[2])
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old[0]);
    sigaction(SIGTERM, &sa, &old[1]);
}

static void restore_signals(const struct sigaction old[2])
{
    sigaction(SIGINT, &old[0], NULL);
    sigaction(SIGTERM, &old[1], NULL);
}

/* ---- steps before the search (each collective: every rank returns the
 * same status, rank 0 holding the failing rank's message) ---- */

static int table_of(void *ctx, int deg, int c, uniap_cost_table *out)
{
    return uniap_costmodel_table(((const plan_ctx *)ctx)->cm, deg, c, out);
}

/* The runtime's plans of a candidate's table (--runtime). */
static int space_of(void *ctx, const uniap_cost_table *t, uniap_schedule sched, uniap_space *out)
{
    const plan_ctx *x = ctx;
    return uniap_runtime_space(x->a.runtime, x->role, x->params, x->model_flags, sched, t, out);
}

/* --runtime: the runtime builds the model and runs a schedule asked for
 * (of a list: one of them at least); the layers' roles. */
static int prepare_runtime(plan_ctx *x)
{
    uniap_runtime r = x->a.runtime;
    const char *name = uniap_runtime_name(r);
    int rc, L = x->in.model.n_layers;
    if (x->a.compare_any && r == UNIAP_RUNTIME_ANY)
        return uniap_err(UNIAP_EINVAL, "--compare-any: compares the plan of a --runtime "
                                       "(megatron, deepspeed, torchtitan, galvatron) with "
                                       "--runtime any; give one");
    if (r == UNIAP_RUNTIME_ANY)
        return UNIAP_OK;
    if ((rc = uniap_runtime_model_check(r, &x->in.model)) < 0)
        return uniap_err(rc, "--runtime %s", name);
    int runs = 0;
    const char *split = NULL; /* why a split-backward schedule is not run */
    for (int s = 0; s < x->a.n_sched; s++) {
        const uniap_schedule_desc *d = uniap_schedule_get(x->a.sched[s]);
        runs += uniap_runtime_schedule_ok(r, x->a.sched[s]);
        split = d && d->split_backward && !split ? d->split_backward : split;
    }
    if (!runs) {
        /* the runtimes that run one of these schedules (the descriptors say) */
        char who[160] = "";
        const char *const *names = uniap_runtime_names();
        for (int k = 0; names[k]; k++) {
            uniap_runtime o;
            int ok = 0;
            if (uniap_runtime_parse(names[k], &o) < 0 || o == UNIAP_RUNTIME_ANY)
                continue;
            for (int s = 0; s < x->a.n_sched; s++)
                ok |= uniap_runtime_schedule_ok(o, x->a.sched[s]);
            if (ok)
                snprintf(who + strlen(who), sizeof who - strlen(who), "--runtime %s, ", names[k]);
        }
        return uniap_err(UNIAP_EINVAL,
                         "--runtime %s --schedule %s: %s does not run %s (%s%s%sor --runtime any)",
                         name, x->a.schedule, name,
                         x->a.n_sched == 1 ? "that schedule" : "any of these schedules",
                         split ? split : "", split ? "; " : "", who);
    }
    x->role = malloc(sizeof(int) * (size_t)(L > 0 ? L : 1));
    x->params = malloc(sizeof(double) * (size_t)(L > 0 ? L : 1));
    if (!x->role || !x->params)
        return uniap_err(UNIAP_ENOMEM, "out of memory for %d layers", L);
    uniap_runtime_roles(&x->in.model, x->role, x->params);
    x->model_flags = uniap_runtime_model_flags(&x->in.model);
    return UNIAP_OK;
}

static int make_dir(const char *opt, const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0777) < 0 && errno != EEXIST)
        return uniap_err(UNIAP_EIO, "%s %s: cannot create the folder: %s", opt, dir,
                         strerror(errno));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return uniap_err(UNIAP_EINVAL, "%s %s: exists and is not a folder", opt, dir);
    return UNIAP_OK;
}

/* Cost model and candidates of the loaded inputs. */
static int prepare_search(plan_ctx *x)
{
    uniap_cost_options co;
    int rc;
    uniap_cost_options_default(&co);
    co.global_batch = x->a.req.global_batch;
    co.schedule = x->a.sched[0];
    co.profile_path = x->a.req.profile;
    if (x->a.n_mb_counts > 0) {
        co.micro_batch_counts = x->a.mb_counts;
        co.n_micro_batch_counts = x->a.n_mb_counts;
    }
    for (int i = 0; i < x->a.n_mb_counts; i++)
        if (uniap_micro_batch_size(co.global_batch, x->a.mb_counts[i]) > 0 &&
            !uniap_runtime_micro_batches_ok(x->a.runtime, co.global_batch, x->a.mb_counts[i]))
            return uniap_err(UNIAP_EINVAL,
                             "--micro-batches %d: --runtime %s runs only micro-batch counts "
                             "that divide the global batch (%lld)",
                             x->a.mb_counts[i], uniap_runtime_name(x->a.runtime),
                             (long long)co.global_batch);
    if ((rc = uniap_inputs_restrict_apply(&x->a.limits, &co)) < 0)
        return rc;
    rc = uniap_costmodel_create(&x->in.model, &x->in.cluster, &x->in.profile, &co, &x->cm);
    if (rc == 0)
        rc = uniap_costmodel_candidates(x->cm, &x->deg, &x->cc, &x->n);
    if (rc == 0 && x->n == 0)
        rc = uniap_err(UNIAP_ENOPLAN,
                       "no (pipeline degree, micro-batch count) pair is viable for %s on %s with "
                       "global batch %lld: no pipeline degree dividing the %d devices%s and "
                       "micro-batch count dividing the global batch leaves every layer a "
                       "strategy%s; try another global batch or fewer restrictions",
                       x->in.model.name, x->in.cluster.name, (long long)x->a.req.global_batch,
                       uniap_cluster_devices(&x->in.cluster),
                       x->a.limits.max_pp ? " (at most --max-pp)" : "",
                       x->a.req.profile ? " the profile has data for" : "");
    if (rc == 0)
        rc = prepare_runtime(x);
    if (rc == 0 && x->rank == 0 && x->a.lp_dir)
        rc = make_dir("--write-lp", x->a.lp_dir);
    if (rc == 0 && x->rank == 0 && x->a.log_dir)
        rc = make_dir("--log-dir", x->a.log_dir);
    return uniap_mpi_agree(MPI_COMM_WORLD, rc);
}

/* The value of --from in argv (before parsing: the record it names
 * completes the command line), or NULL. */
static const char *from_arg(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strncmp(argv[i], "--from=", 7))
            return argv[i] + 7;
        if (!strcmp(argv[i], "--from") && i + 1 < argc)
            return argv[i + 1];
    }
    return NULL;
}

/* Parses the command line, completed by the search --from records. */
static int parse(plan_ctx *x, uniap_cmd *cmd, int argc, char **argv)
{
    const char *from = from_arg(argc, argv);
    int rc;
    if (from) {
        if ((rc = uniap_plan_read_json(from, &x->from_plan)) < 0)
            return uniap_err(rc, "--from %s", from);
        if (!x->from_plan.search)
            return uniap_err(UNIAP_EINVAL,
                             "--from %s: the plan records no search (\"search\": written by "
                             "uniap plan of this version, not by estimate or by hand)",
                             from);
        uniap_opts_relax_required(cmd, x->from_plan.search);
    }
    if ((rc = uniap_opts_parse(cmd, argc, argv)) != 0)
        return rc;
    int profile_given = uniap_opts_given(cmd, "profile");
    /* the batch given here replaces the recorded one, in samples or tokens */
    uniap_opt *gb = uniap_opts_find(cmd, "global-batch"),
              *gt = uniap_opts_find(cmd, "global-batch-tokens");
    if (gb->given || gt->given)
        gb->given = gt->given = 1;
    if (x->a.from &&
        (rc = uniap_opts_replay(cmd, x->from_plan.search, x->a.from, &x->replayed)) < 0)
        return rc;
    x->profile_replayed = x->a.from && !profile_given && x->a.req.profile;
    if ((rc = uniap_opts_record(cmd, &x->search_json)) < 0) /* as given: tokens or samples */
        return rc;
    if ((rc = uniap_inputs_schedules(x->a.schedule, x->a.sched)) < 0)
        return rc;
    x->a.n_sched = rc;
    return uniap_inputs_batch_from_tokens(&x->a.req, 1);
}

/* Which output is standard output (at most one: --format json is one). */
static int outputs_check(plan_ctx *x)
{
    const char *const std[] = {x->a.out, x->a.megatron, x->a.galvatron};
    int n = uniap_exports_stdout(&x->a.ex);
    for (int i = 0; i < 3; i++)
        n += std[i] && !strcmp(std[i], "-");
    x->json_stdout = x->a.format == 1 && !(x->a.out && !strcmp(x->a.out, "-"));
    if (x->json_stdout && n > 0)
        return uniap_err(UNIAP_EINVAL, "--format json writes the plan JSON on standard output: "
                                       "no other output can be - too");
    x->to_stdout = n > 0 || x->json_stdout;
    x->a.ex.galvatron_config = x->a.galvatron;
    return uniap_exports_check(&x->a.ex);
}

/* --from without --profile: the profile must be the one searched. */
static int profile_unchanged(const plan_ctx *x)
{
    const char *want = x->from_plan.profile_checksum;
    if (!x->profile_replayed || !want[0] || !strcmp(want, x->in.profile_checksum))
        return UNIAP_OK;
    return uniap_err(UNIAP_EINVAL,
                     "--from %s: the profile %s has changed since the plan was searched "
                     "(checksum %s, now %s); give --profile %s to search it anew",
                     x->a.from, x->a.req.profile, want, x->in.profile_checksum, x->a.req.profile);
}

/* Parse, agree, check files, load inputs, check that the ranks agree on
 * arguments and inputs. Returns UNIAP_OPTS_HELP/MAN when the command is
 * done (help), else 0 or the error (x->parsed: 0 when the parse failed). The inputs load before the
 * ranks compare arguments so that a rank failing to load (one rank given
 * --model nosuch) reports its own message. */
static int setup(plan_ctx *x, uniap_cmd *cmd, int argc, char **argv)
{
    int rc = uniap__agree_parse(parse(x, cmd, argc, argv), argc, argv);
    if (rc != 0)
        return rc; /* help, or the parse failed (on some rank) */
    x->parsed = 1;
    rc = outputs_check(x);
    if (rc == 0)
        rc = uniap_opts_check_files(cmd, NULL, NULL, 0);
    if ((rc = uniap_mpi_agree(MPI_COMM_WORLD, rc)) < 0)
        return rc;
    x->a.req.verbose = x->rank == 0;
    x->a.req.quiet = x->a.quiet;
    x->a.req.micro_batch_counts = x->a.mb_counts;
    x->a.req.n_micro_batch_counts = x->a.n_mb_counts;
    if ((rc = uniap_inputs_load(&x->a.req, &x->in)) == 0)
        x->loaded = 1;
    if (rc == 0)
        rc = profile_unchanged(x);
    if ((rc = uniap_inputs_agree(rc, argc, argv, &x->in)) < 0 || (rc = prepare_search(x)) < 0)
        return rc;
    uniap_inputs_print_warnings("plan", x->cm, x->rank == 0 && !x->a.quiet);
    return UNIAP_OK;
}

/* The candidates (deg, c, schedule) into dd, cs, sch: every pair with
 * every schedule asked for that runs it (uniap_schedule_runs: interleaving
 * needs c a multiple of deg) and, with runtime, that the runtime runs. */
static int candidates(plan_ctx *x, int runtime)
{
    int kept = 0;
    for (int i = 0; i < x->n; i++)
        for (int s = 0; s < x->a.n_sched; s++) {
            uniap_schedule sc = x->a.sched[s];
            if (!uniap_schedule_runs(sc, x->cc[i], x->deg[i]) ||
                (runtime && !uniap_runtime_schedule_ok(x->a.runtime, sc)))
                continue;
            x->dd[kept] = x->deg[i];
            x->cs[kept] = x->cc[i];
            x->sch[kept++] = sc;
        }
    return kept;
}

/* The candidate list with schedules, and the search itself. */
static int search(plan_ctx *x)
{
    int rc = 0;
    x->nc = x->n * x->a.n_sched;
    x->dd = malloc(sizeof(int) * x->nc);
    x->cs = malloc(sizeof(int) * x->nc);
    x->sch = malloc(sizeof(uniap_schedule) * x->nc);
    if (!x->dd || !x->cs || !x->sch)
        rc = uniap_err(UNIAP_ENOMEM, "out of memory for %d candidates", x->nc);
    if ((rc = uniap_mpi_agree(MPI_COMM_WORLD, rc)) < 0)
        return rc;
    x->nc = candidates(x, 1);
    uniap_solve_options o;
    char log_path[4200];
    uniap_solve_options_default(&o);
    o.formulation = (uniap_formulation)x->a.form;
    o.node_limit = x->a.node_limit;
    o.time_limit = x->a.time_limit;
    o.lp_dir = x->a.lp_dir;
    if (x->a.log_dir) {
        snprintf(log_path, sizeof log_path, "%s/glpk-rank%d.log", x->a.log_dir, x->rank);
        o.log_path = log_path;
    }
    if (x->rank == 0 && !x->a.quiet)
        fprintf(stderr,
                "uniap plan: %s on %s (%d devices), global batch %lld, runtime %s: %d pairs on "
                "%d rank%s\n",
                x->in.model.name, x->in.cluster.name, uniap_cluster_devices(&x->in.cluster),
                (long long)x->a.req.global_batch, uniap_runtime_name(x->a.runtime), x->nc, x->size,
                x->size > 1 ? "s" : "");
    if (x->a.runtime != UNIAP_RUNTIME_ANY) {
        o.space = space_of;
        o.space_ctx = x;
    }
    struct sigaction old[2];
    catch_signals(old);
    rc = uniap_search(MPI_COMM_WORLD, x->nc, x->dd, x->cs, x->sch, table_of, x, &o, !x->a.quiet,
                      &x->sr);
    if (rc == 0 && x->a.compare_any && !x->sr.interrupted) {
        /* every plan, for comparison: the candidates of every schedule asked for */
        int n_any = candidates(x, 0);
        if (x->rank == 0 && !x->a.quiet)
            fprintf(stderr, "uniap plan: --compare-any: every plan (runtime any), %d pairs\n",
                    n_any);
        o.space = NULL;
        o.space_ctx = NULL;
        rc = uniap_search(MPI_COMM_WORLD, n_any, x->dd, x->cs, x->sch, table_of, x, &o, !x->a.quiet,
                          &x->sr_any);
        x->have_any = rc == 0 && !x->sr_any.interrupted;
        /* the runtime's candidates again, for the plan's report */
        candidates(x, 1);
    }
    restore_signals(old);
    return rc;
}

static void explain_nothing_fits(const plan_ctx *x)
{
    const uniap_search_result *sr = &x->sr;
    if (x->a.runtime != UNIAP_RUNTIME_ANY)
        fprintf(stderr,
                "uniap plan: error: no plan that %s can run fits in memory for any of %d "
                "pairs.\n",
                uniap_runtime_name(x->a.runtime), sr->pairs_total);
    else
        fprintf(stderr, "uniap plan: error: no plan fits in memory for any of %d pairs.\n",
                sr->pairs_total);
    if (sr->shortfall_cand >= 0 && sr->shortfall < HUGE_VAL) {
        int i = sr->shortfall_cand;
        fprintf(stderr,
                "  closest: deg %d, %d micro-batches, %s: stage %d is %.3f GiB over the budget\n",
                x->dd[i], x->cs[i], uniap_schedule_name(x->sch[i]), sr->shortfall_stage,
                sr->shortfall / (1024.0 * 1024 * 1024));
    }
    fprintf(stderr, "  what would help: more devices (or devices with more memory), a smaller "
                    "global batch (smaller micro-batches), the 1f1b schedule (interleaving holds "
                    "more activations), or allowing "
                    "activation checkpointing and ZeRO sharding if they were disabled.\n");
}

/* What the search found: the plan written (rank 0), or why not. */
static int conclude(plan_ctx *x)
{
    int rc = 0;
    if (x->sr.interrupted) {
        if (x->rank == 0)
            rc = plan_emit(x, 0); /* printed, marked interrupted, nothing written */
        rc = uniap_mpi_agree(MPI_COMM_WORLD, rc);
        if (rc == 0)
            rc = uniap_err(UNIAP_EINTR, "interrupted (SIGINT/SIGTERM): %s; no output written",
                           x->sr.found ? "the plan above is the best found so far"
                                       : "no plan had been found yet");
        return rc;
    }
    if (!x->sr.found) {
        if (x->sr.pairs_infeasible > 0) {
            if (x->rank == 0)
                explain_nothing_fits(x);
            return UNIAP_EINFEASIBLE; /* explained above */
        }
        return uniap_err(
            UNIAP_ENOPLAN,
            "the search ended without a plan: of %d pairs %d were infeasible and "
            "%d hit the node or time limit before a first solution (raise --node-limit)",
            x->sr.pairs_total, x->sr.pairs_infeasible, x->sr.pairs_timed_out);
    }
    if (x->rank == 0)
        rc = plan_emit(x, 1);
    return uniap_mpi_agree(MPI_COMM_WORLD, rc);
}

static void plan_ctx_free(plan_ctx *x)
{
    uniap_search_result_free(&x->sr);
    uniap_search_result_free(&x->sr_any);
    free(x->role);
    free(x->params);
    free(x->search_json);
    uniap_plan_free(&x->from_plan);
    uniap_opts_replay_free(x->replayed);
    free(x->dd);
    free(x->cs);
    free(x->sch);
    free(x->deg);
    free(x->cc);
    uniap_costmodel_destroy(x->cm);
    if (x->loaded)
        uniap_inputs_free(&x->in);
}

int uniap_cli_plan(int argc, char **argv)
{
    plan_ctx x;
    uniap_opt opts[64];
    uniap_cmd cmd;
    int rc, status;

    memset(&x, 0, sizeof(x));
    uniap_err_clear();
    MPI_Comm_rank(MPI_COMM_WORLD, &x.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &x.size);
    plan_cmd(&x.a, opts, &cmd);
    rc = setup(&x, &cmd, argc, argv);
    if (!x.parsed) { /* help or a parse error: nothing loaded yet */
        (void)uniap_opts_finish(&cmd, rc, x.rank == 0, &status);
        return status;
    }
    if (rc == 0 && (rc = search(&x)) == 0)
        rc = conclude(&x);
    if (rc < 0 && rc != UNIAP_EINFEASIBLE && x.rank == 0)
        uniap__print_error(stderr, "plan", rc);
    status = uniap_exit_code(rc);
    plan_ctx_free(&x);
    return status;
}
