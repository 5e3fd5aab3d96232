/*
 * uniap.c - the `uniap` executable: initializes MPI (every subcommand may
 * run under mpirun/srun; a plain start is an MPI singleton) and dispatches
 * to the subcommand table below. Each subcommand is a file of cli/ (one
 * per command, parsed by cli/options.h) that calls the libraries with
 * structs, and returns a process exit status.
 */
#include <stdio.h>
#include <string.h>

#include <mpi.h>

#include "uniap_costmodel.h"
#include "uniap_io.h"
#include "uniap_profiler.h"
#include "uniap_solver.h"
#include "uniap_version.h"

#include "cmd_util.h"

#ifdef UNIAP_SANITIZE_BUILD
/* Sanitizer builds: Open MPI leaks from plugins it has already unloaded,
 * which no LeakSanitizer suppression can name, so the executable (which
 * always calls MPI_Init) starts with leak checking off; ASAN_OPTIONS
 * overrides this. The library test programs keep leak checking on. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}
#endif

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"profile", uniap_cli_profile, "measure layer kernels and collectives into an HDF5 profile"},
    {"plan", uniap_cli_plan,
     "search the fastest parallel plan (MILP per (deg, c), over MPI ranks)"},
    {"estimate", uniap_cli_estimate, "predict TPI, throughput and memory of one given plan"},
    {"compare", uniap_cli_compare, "plans side by side under one cost model"},
    {"show", uniap_cli_show, "draw a plan: pipeline timeline, memory per stage, layers to stages"},
    {"archive", uniap_cli_archive, "list, show, verify, merge and export profile datasets"},
    {"model", uniap_cli_model, "print a model spec's layers and parameter count"},
    {"cluster", uniap_cli_cluster, "print a cluster spec"},
};
#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: uniap <command> [options]\n"
               "  (uniap <command> --help: its options; uniap <command> --man: its man page)\n\n"
               "commands:\n");
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(f, "\nuniap %s (%s)\n", UNIAP_VERSION, UNIAP_GIT_REVISION);
}

int main(int argc, char **argv)
{
    int provided, rank = 0, status = 2;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("uniap %s (%s)\n", UNIAP_VERSION, UNIAP_GIT_REVISION);
        return 0;
    }
    for (size_t i = 0; i < N_SUBCOMMANDS; i++) {
        if (strcmp(argv[1], subcommands[i].name) != 0)
            continue;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        status = subcommands[i].run(argc - 1, argv + 1);
        MPI_Finalize();
        return status;
    }
    fprintf(stderr, "uniap: error: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
