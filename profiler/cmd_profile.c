/*
 * cmd_profile.c - `uniap profile`: options, help, and the hand-over to the
 * measurement driver (prof_sweep.c). Run under mpirun or srun; every rank
 * parses the same command line, so bad input is rejected by all ranks
 * alike (exit 2), reported once by rank 0.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_driver.h"
#include "uniap_profiler.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mpirun -np N uniap profile --model M --out P.h5 [options]\n"
               "\n"
               "Measures, on every rank, the forward and backward of each distinct layer of\n"
               "model M at each tensor-parallel degree and micro-batch size, and the\n"
               "collectives (all_reduce, all_gather, reduce_scatter, all_to_all, broadcast,\n"
               "p2p) over every group size and placement; writes one HDF5 profile dataset.\n"
               "\n"
               "options (default):\n"
               "  --model M            zoo name (uniap model) or model spec JSON file\n"
               "  --out P.h5           output profile (the --resume file when omitted)\n"
               "  --ranks-per-node K   emulate nodes of K consecutive ranks (detected:\n"
               "                       shared-memory domains)\n"
               "  --micro-batches L    micro-batch sizes, comma list (1,2,4)\n"
               "  --tp L               tensor-parallel degrees (divisors of ranks per node)\n"
               "  --min-bytes S        smallest collective message (4K)\n"
               "  --max-bytes S        largest collective message, doubling (256M)\n"
               "  --warmup W           untimed collective iterations (5)\n"
               "  --iters I            timed collective iterations (20)\n"
               "  --layer-warmup W     untimed layer passes (1)\n"
               "  --layer-iters I      timed layer passes (5)\n"
               "  --time-limit S       seconds; skips what would overrun and lists it (none)\n"
               "  --backend B          cpu or cuda (cpu)\n"
               "  --resume P.h5        measure only what the (interrupted) profile lacks\n"
               "  --skip-layers        no layer measurements\n"
               "  --skip-collectives   no collective measurements\n"
               "  --collectives L      which collectives, comma list of the names above (all)\n"
               "  -h, --help           this text\n"
               "\n"
               "Sizes take K, M, G suffixes (powers of 1024). SIGTERM or SIGINT finishes the\n"
               "item in progress, writes what is done marked incomplete, and exits 1.\n");
}

static int parse_size(const char *opt, const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    int64_t mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1024 * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1024 * 1024 * 1024, end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (errno || end == s || *end || v * (double)mul < 4 ||
        v * (double)mul > 4.0 * 1024 * 1024 * 1024)
        return uniap_err(UNIAP_EINVAL, "%s '%s': expected a size from 4 bytes to 4G (e.g. 4K)", opt,
                         s);
    *out = (int64_t)(v * (double)mul);
    return 0;
}

static int parse_int(const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return uniap_err(UNIAP_EINVAL, "%s '%s': expected an integer from %d to %d", opt, s, lo,
                         hi);
    *out = (int)v;
    return 0;
}

static int parse_list(const char *opt, const char *s, int *v, int *n)
{
    char buf[512], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", s);
    *n = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == PROF_MAX_LIST)
            return uniap_err(UNIAP_EINVAL, "%s: more than %d values", opt, PROF_MAX_LIST);
        int rc = parse_int(opt, tok, 1, 1 << 20, &v[*n]);
        if (rc < 0)
            return rc;
        (*n)++;
    }
    if (*n == 0)
        return uniap_err(UNIAP_EINVAL, "%s '%s': expected a comma-separated list", opt, s);
    return 0;
}

static int parse_collectives(const char *s, int *want)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", s);
    for (int op = 0; op < UNIAP_COLL_COUNT; op++)
        want[op] = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int op = 0; op < UNIAP_COLL_COUNT; op++)
            if (strcmp(tok, uniap_coll_name((uniap_coll_op)op)) == 0)
                want[op] = found = 1;
        if (!found)
            return uniap_err(UNIAP_EINVAL,
                             "--collectives: unknown collective '%s' (expected all_reduce, "
                             "all_gather, reduce_scatter, all_to_all, broadcast, p2p)",
                             tok);
    }
    return 0;
}

enum {
    OPT_MODEL = 256,
    OPT_OUT,
    OPT_RPN,
    OPT_MB,
    OPT_TP,
    OPT_MIN,
    OPT_MAX,
    OPT_WARMUP,
    OPT_ITERS,
    OPT_LWARMUP,
    OPT_LITERS,
    OPT_TIME,
    OPT_BACKEND,
    OPT_RESUME,
    OPT_SKIP_LAYERS,
    OPT_SKIP_COLLS,
    OPT_COLLS,
};

/* Fills o from argv; 1 when help was asked for. */
static int parse_options(int argc, char **argv, prof_options *o)
{
    static const struct option longopts[] = {
        {"model", required_argument, 0, OPT_MODEL},
        {"out", required_argument, 0, OPT_OUT},
        {"ranks-per-node", required_argument, 0, OPT_RPN},
        {"micro-batches", required_argument, 0, OPT_MB},
        {"tp", required_argument, 0, OPT_TP},
        {"min-bytes", required_argument, 0, OPT_MIN},
        {"max-bytes", required_argument, 0, OPT_MAX},
        {"warmup", required_argument, 0, OPT_WARMUP},
        {"iters", required_argument, 0, OPT_ITERS},
        {"layer-warmup", required_argument, 0, OPT_LWARMUP},
        {"layer-iters", required_argument, 0, OPT_LITERS},
        {"time-limit", required_argument, 0, OPT_TIME},
        {"backend", required_argument, 0, OPT_BACKEND},
        {"resume", required_argument, 0, OPT_RESUME},
        {"skip-layers", no_argument, 0, OPT_SKIP_LAYERS},
        {"skip-collectives", no_argument, 0, OPT_SKIP_COLLS},
        {"collectives", required_argument, 0, OPT_COLLS},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c, rc = 0;
    memset(o, 0, sizeof(*o));
    o->min_bytes = 4 * 1024;
    o->max_bytes = 256 * 1024 * 1024;
    o->warmup = 5;
    o->iters = 20;
    o->layer_warmup = 1;
    o->layer_iters = 5;
    o->backend = PROF_BACKEND_CPU;
    for (int op = 0; op < UNIAP_COLL_COUNT; op++)
        o->want_coll[op] = 1;
    optind = 1;
    opterr = 0;
    while (rc == 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_MODEL:
            o->model = optarg;
            break;
        case OPT_OUT:
            o->out = optarg;
            break;
        case OPT_RESUME:
            o->resume = optarg;
            break;
        case OPT_RPN:
            rc = parse_int("--ranks-per-node", optarg, 1, 1 << 20, &o->ranks_per_node);
            break;
        case OPT_MB:
            rc = parse_list("--micro-batches", optarg, o->mb, &o->n_mb);
            break;
        case OPT_TP:
            rc = parse_list("--tp", optarg, o->tp, &o->n_tp);
            break;
        case OPT_MIN:
            rc = parse_size("--min-bytes", optarg, &o->min_bytes);
            break;
        case OPT_MAX:
            rc = parse_size("--max-bytes", optarg, &o->max_bytes);
            break;
        case OPT_WARMUP:
            rc = parse_int("--warmup", optarg, 0, 1000000, &o->warmup);
            break;
        case OPT_ITERS:
            rc = parse_int("--iters", optarg, 1, 1000000, &o->iters);
            break;
        case OPT_LWARMUP:
            rc = parse_int("--layer-warmup", optarg, 0, 1000000, &o->layer_warmup);
            break;
        case OPT_LITERS:
            rc = parse_int("--layer-iters", optarg, 1, 1000000, &o->layer_iters);
            break;
        case OPT_TIME: {
            char *end;
            o->time_limit = strtod(optarg, &end);
            if (end == optarg || *end || o->time_limit <= 0)
                rc = uniap_err(UNIAP_EINVAL, "--time-limit '%s': expected seconds > 0", optarg);
            break;
        }
        case OPT_BACKEND:
            if (strcmp(optarg, "cpu") == 0)
                o->backend = PROF_BACKEND_CPU;
            else if (strcmp(optarg, "cuda") == 0)
                o->backend = PROF_BACKEND_CUDA;
            else
                rc = uniap_err(UNIAP_EINVAL, "--backend '%s': expected cpu or cuda", optarg);
            break;
        case OPT_SKIP_LAYERS:
            o->skip_layers = 1;
            break;
        case OPT_SKIP_COLLS:
            o->skip_collectives = 1;
            break;
        case OPT_COLLS:
            rc = parse_collectives(optarg, o->want_coll);
            break;
        case 'h':
            return 1;
        default:
            rc = uniap_err(UNIAP_EINVAL, "unknown option or missing value: '%s'", argv[optind - 1]);
        }
    }
    if (rc == 0 && optind < argc)
        rc = uniap_err(UNIAP_EINVAL, "unexpected argument '%s'", argv[optind]);
    if (rc == 0 && !o->model)
        rc = uniap_err(UNIAP_EINVAL, "--model is required (a zoo name or a spec file)");
    if (rc == 0 && !o->out)
        o->out = o->resume;
    if (rc == 0 && !o->out)
        rc = uniap_err(UNIAP_EINVAL, "--out is required (the profile to write)");
    if (rc == 0 && o->min_bytes > o->max_bytes)
        rc = uniap_err(UNIAP_EINVAL, "--min-bytes %lld exceeds --max-bytes %lld",
                       (long long)o->min_bytes, (long long)o->max_bytes);
#ifndef UNIAP_HAVE_CUDA
    if (rc == 0 && o->backend == PROF_BACKEND_CUDA)
        rc = uniap_err(UNIAP_EINVAL, "--backend cuda: this uniap was built without CUDA");
#endif
    return rc;
}

int uniap_cmd_profile(int argc, char **argv)
{
    prof_options o;
    int rank = 0, rc;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    uniap_err_clear();
    rc = parse_options(argc, argv, &o);
    if (rc == 1) {
        if (rank == 0)
            usage(stdout);
        return 0;
    }
    if (rc < 0) {
        if (rank == 0) {
            fprintf(stderr, "uniap profile: %s\n\n", uniap_errmsg());
            usage(stderr);
        }
        return uniap_exit_code(rc);
    }
    o.command_line = uniap_join_args("uniap", argc, argv);
    rc = prof_run(&o);
    if (rc < 0 && rank == 0)
        fprintf(stderr, "uniap profile: %s\n", uniap_errmsg());
    free(o.command_line);
    return uniap_exit_code(rc);
}
