/*
 * cmd_profile.c - `uniap profile`: the options (layers, GEMM sweep,
 * collectives), the checks made before any measurement (every output
 * writable and not an input, an existing profile never replaced by
 * accident, the ranks agreeing on their inputs), and the hand-over to the
 * profiler (uniap_profile_run). Run under mpirun or srun;
 * every rank parses the same command line; a rank's own error reaches rank
 * 0, which reports it once (exit 2 on bad input).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mpi.h>

#include "cmd_util.h"
#include "options.h"
#include "uniap_profiler.h"

static const char profile_description[] =
    "Measures, on every rank, the forward and backward of each distinct layer of model M at "
    "each tensor-parallel degree and micro-batch size, a sweep of GEMM shapes (the /gemm "
    "table, which calibrates the analytic device model's GEMM efficiency), and the "
    "collectives (all_reduce, all_gather, reduce_scatter, all_to_all, broadcast, p2p) over "
    "every group size and placement; writes one HDF5 profile dataset.\n\n"
    "Sizes take K, M, G suffixes (powers of 1024). The profile is written as it is measured "
    "(marked incomplete until the end), so an interrupted or crashed run leaves what it "
    "measured; --resume continues it. SIGTERM or SIGINT finishes the item in progress, writes "
    "what is done and exits 4. An existing profile at --out is never replaced without --force; "
    "every output is checked before any measurement starts.";

static const char *const backend_names[] = {"cpu", "cuda", NULL};
static const int backend_values[] = {UNIAP_PROFILE_BACKEND_CPU, UNIAP_PROFILE_BACKEND_CUDA};

static int parse_collectives(const char *s, int *want)
{
    char buf[256], *save = NULL;
    if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
        return uniap_err(UNIAP_EINVAL, "--collectives: list too long");
    for (int op = 0; op < UNIAP_COLL_COUNT; op++)
        want[op] = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int op = 0; op < UNIAP_COLL_COUNT; op++)
            if (strcmp(tok, uniap_coll_name((uniap_coll_op)op)) == 0)
                want[op] = found = 1;
        if (!found)
            return uniap_err(UNIAP_EINVAL,
                             "--collectives %s: unknown collective '%s' (expected all_reduce, "
                             "all_gather, reduce_scatter, all_to_all, broadcast, p2p)",
                             s, tok);
    }
    return 0;
}

/* The existing-profile rule, for the file at out (rank 0): a complete
 * profile is replaced only with --force, an incomplete one is continued
 * with --resume; --resume of a complete one has nothing to do (*done). */
static int check_existing(const char *out, const char *resume, int force, int *done)
{
    struct stat st;
    uniap_profile p;
    int rc, complete;

    *done = 0;
    if (resume) {
        if ((rc = uniap_profile_read(resume, &p)) < 0)
            return uniap_err(rc, "--resume %s: cannot continue it", resume);
        complete = p.complete;
        uniap_profile_free(&p);
        if (!complete && strcmp(resume, out) != 0 && stat(out, &st) == 0 && !force)
            return uniap_err(UNIAP_EINVAL,
                             "--out %s exists: the resumed profile would replace it (--force "
                             "replaces it)",
                             out);
        if (complete && strcmp(resume, out) == 0)
            *done = 1;
        else if (complete)
            return uniap_err(UNIAP_EINVAL,
                             "--resume %s: the profile is already complete, nothing to resume",
                             resume);
        return 0;
    }
    if (stat(out, &st) != 0 || force)
        return 0;
    uniap_err_clear();
    if (uniap_profile_read(out, &p) < 0) {
        uniap_err_clear();
        return uniap_err(UNIAP_EINVAL,
                         "--out %s exists and is not a readable uniap profile; --force replaces "
                         "it",
                         out);
    }
    complete = p.complete;
    uniap_profile_free(&p);
    if (complete)
        return uniap_err(UNIAP_EINVAL,
                         "--out %s is already a complete profile; --force replaces it (or choose "
                         "another --out)",
                         out);
    return uniap_err(UNIAP_EINVAL,
                     "--out %s is an incomplete profile (an interrupted run): --resume %s "
                     "continues it, --force starts it over",
                     out, out);
}

typedef struct profile_args {
    uniap_profile_options o;
    const char *colls;
    const char *gemm_shapes;
    int force;
} profile_args;

#define N_PROFILE_OPTS 20

static void profile_table(profile_args *a, uniap_opt *opts)
{
    const uniap_opt t[] = {{.name = "model",
                            .kind = UNIAP_OPTK_INPUT,
                            .dest = &a->o.model,
                            .metavar = "M",
                            .flags = UNIAP_OPT_REQUIRED | UNIAP_OPT_MAYBE_FILE,
                            .help = "zoo name (uniap model --list) or model spec JSON file"},
                           {.name = "out",
                            .kind = UNIAP_OPTK_OUTPUT,
                            .dest = &a->o.out,
                            .metavar = "P.h5",
                            .def = "the --resume file",
                            .help = "output profile"},
                           {.name = "force",
                            .kind = UNIAP_OPTK_FLAG,
                            .dest = &a->force,
                            .help = "replace an existing profile at --out"},
                           {.name = "resume",
                            .kind = UNIAP_OPTK_STRING,
                            .dest = &a->o.resume,
                            .metavar = "P.h5",
                            .help = "measure only what the (interrupted) profile lacks"},
                           {.name = "ranks-per-node",
                            .kind = UNIAP_OPTK_INT,
                            .dest = &a->o.ranks_per_node,
                            .metavar = "K",
                            .min = 1,
                            .max = 1 << 20,
                            .def = "detected: shared-memory domains",
                            .help = "emulate nodes of K consecutive ranks"},
                           {.name = "micro-batches",
                            .kind = UNIAP_OPTK_INT_LIST,
                            .dest = a->o.mb,
                            .metavar = "L",
                            .count = &a->o.n_mb,
                            .max_count = UNIAP_PROFILE_MAX_LIST,
                            .min = 1,
                            .max = 1 << 20,
                            .def = "1,2,4",
                            .help = "micro-batch sizes, comma list"},
                           {.name = "tp",
                            .kind = UNIAP_OPTK_INT_LIST,
                            .dest = a->o.tp,
                            .metavar = "L",
                            .count = &a->o.n_tp,
                            .max_count = UNIAP_PROFILE_MAX_LIST,
                            .min = 1,
                            .max = 1 << 20,
                            .def = "the divisors of nodes x ranks per node",
                            .help = "tensor-parallel degrees, comma list"},
                           {.name = "min-bytes",
                            .kind = UNIAP_OPTK_SIZE,
                            .dest = &a->o.min_bytes,
                            .metavar = "S",
                            .min = 4,
                            .max = 4LL << 30,
                            .def = "4K",
                            .help = "smallest collective message"},
                           {.name = "max-bytes",
                            .kind = UNIAP_OPTK_SIZE,
                            .dest = &a->o.max_bytes,
                            .metavar = "S",
                            .min = 4,
                            .max = 4LL << 30,
                            .def = "256M",
                            .help = "largest collective message (sizes double from --min-bytes)"},
                           {.name = "warmup",
                            .kind = UNIAP_OPTK_INT,
                            .dest = &a->o.warmup,
                            .metavar = "W",
                            .min = 0,
                            .max = 1000000,
                            .help = "untimed collective iterations"},
                           {.name = "iters",
                            .kind = UNIAP_OPTK_INT,
                            .dest = &a->o.iters,
                            .metavar = "I",
                            .min = 1,
                            .max = 1000000,
                            .help = "timed collective iterations"},
                           {.name = "layer-warmup",
                            .kind = UNIAP_OPTK_INT,
                            .dest = &a->o.layer_warmup,
                            .metavar = "W",
                            .min = 0,
                            .max = 1000000,
                            .help = "untimed layer passes"},
                           {.name = "layer-iters",
                            .kind = UNIAP_OPTK_INT,
                            .dest = &a->o.layer_iters,
                            .metavar = "I",
                            .min = 1,
                            .max = 1000000,
                            .help = "timed layer passes"},
                           {.name = "time-limit",
                            .kind = UNIAP_OPTK_DOUBLE,
                            .dest = &a->o.time_limit,
                            .metavar = "S",
                            .dmin = 0,
                            .dmax = 1e9,
                            .flags = UNIAP_OPT_GT_MIN,
                            .def = "none",
                            .help = "seconds; skips what would overrun and lists it"},
                           {.name = "backend",
                            .kind = UNIAP_OPTK_CHOICE,
                            .dest = &a->o.backend,
                            .choices = backend_names,
                            .values = backend_values,
                            .help = "layer kernels and "
                                    "collectives on"},
                           {.name = "skip-layers",
                            .kind = UNIAP_OPTK_FLAG,
                            .dest = &a->o.skip_layers,
                            .help = "no layer measurements"},
                           {.name = "skip-collectives",
                            .kind = UNIAP_OPTK_FLAG,
                            .dest = &a->o.skip_collectives,
                            .help = "no collective measurements"},
                           {.name = "collectives",
                            .kind = UNIAP_OPTK_STRING,
                            .dest = &a->colls,
                            .metavar = "L",
                            .def = "all",
                            .help = "which collectives, comma list of the names above"},
                           {.name = "gemm-shapes",
                            .kind = UNIAP_OPTK_STRING,
                            .dest = &a->gemm_shapes,
                            .metavar = "L",
                            .def = "cpu: 128..768 squares and 3 transformer GEMMs; cuda: "
                                   "512..8192 squares and 4 Llama-7B GEMMs",
                            .help = "GEMM sweep shapes, comma list of MxNxK (or S: SxSxS), in "
                                    "the run's dtype (cpu: fp32), timed like the layers "
                                    "(--layer-warmup, --layer-iters)"},
                           {.name = "skip-gemm",
                            .kind = UNIAP_OPTK_FLAG,
                            .dest = &a->o.skip_gemm,
                            .help = "no GEMM sweep (no /gemm table)"},
                           {0}};
    _Static_assert(sizeof(t) == sizeof(uniap_opt) * (N_PROFILE_OPTS + 1), "N_PROFILE_OPTS");
    memcpy(opts, t, sizeof(t));
}

/* Parses and checks the command line (every rank alike). */
static int parse_profile(uniap_cmd *cmd, profile_args *a, int argc, char **argv)
{
    int rc = uniap_opts_parse(cmd, argc, argv);
    if (rc != 0)
        return rc;
    if (a->colls && (rc = parse_collectives(a->colls, a->o.want_coll)) < 0)
        return rc;
    if (a->gemm_shapes && a->o.skip_gemm)
        return uniap_err(UNIAP_EINVAL, "--gemm-shapes with --skip-gemm: give one of them");
    if (a->gemm_shapes && (rc = uniap_profile_parse_gemm_shapes(a->gemm_shapes, &a->o)) < 0)
        return rc;
    if (!a->o.out)
        a->o.out = a->o.resume;
    if (!a->o.out)
        return uniap_err(UNIAP_EINVAL, "--out is required (the profile to write)");
    if (a->o.min_bytes > a->o.max_bytes)
        return uniap_err(UNIAP_EINVAL, "--min-bytes %lld exceeds --max-bytes %lld",
                         (long long)a->o.min_bytes, (long long)a->o.max_bytes);
    if (a->o.backend == UNIAP_PROFILE_BACKEND_CUDA && !uniap_profiler_have_cuda())
        return uniap_err(UNIAP_EINVAL, "--backend cuda: this uniap was built without CUDA");
    return 0;
}

int uniap_cli_profile(int argc, char **argv)
{
    profile_args a = {0};
    uniap_opt opts[N_PROFILE_OPTS + 1];
    uniap_cmd cmd = {.name = "profile",
                     .summary = "measure layer kernels and collectives into an HDF5 profile",
                     .synopsis = "mpirun -np N uniap profile --model M --out P.h5 [options]",
                     .description = profile_description,
                     .opts = opts};
    uniap_model m = {0};
    char *spec = NULL, *line = NULL;
    int rank = uniap__world_rank(), rc, status, done = 0;

    uniap_err_clear();
    uniap_profile_options_init(&a.o);
    profile_table(&a, opts);
    rc = uniap__agree_parse(parse_profile(&cmd, &a, argc, argv), argc, argv);
    if (uniap_opts_finish(&cmd, rc, rank == 0, &status))
        return status;
    /* every output checked, and the existing file judged, before any work */
    if (rank == 0) {
        const char *extra = a.o.out, *extra_opt = "--resume";
        rc =
            uniap_opts_check_files(&cmd, &extra, &extra_opt, uniap_opts_given(&cmd, "out") ? 0 : 1);
        if (rc == 0)
            rc = check_existing(a.o.out, a.o.resume, a.force, &done);
    }
    /* each rank loads its model: its own error reaches rank 0 */
    if (rc == 0 && (rc = uniap_model_resolve(a.o.model, &m)) == 0)
        rc = uniap_model_to_json(&m, &spec);
    uniap_model_free(&m);
    const char *texts[1] = {spec}, *whats[1] = {"model spec"};
    rc = uniap__ranks_agree(rc, argc, argv, 1, texts, whats);
    free(spec);
    if (rc == 0) /* rank 0 judged the existing file */
        MPI_Bcast(&done, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rc < 0)
        return uniap__report("profile", rc);
    if (done) {
        if (rank == 0)
            fprintf(stderr, "uniap profile: %s is already complete: nothing to resume\n", a.o.out);
        return 0;
    }
    if (!(line = uniap_join_args("uniap", argc, argv)))
        return uniap__report("profile",
                             uniap_err(UNIAP_ENOMEM, "out of memory joining the command line"));
    a.o.command_line = line;
    rc = uniap_profile_run(&a.o);
    free(line);
    return rc < 0 ? uniap__report("profile", rc) : 0;
}
