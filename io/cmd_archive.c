/*
 * cmd_archive.c - `uniap archive`: the tools for folders of profile
 * datasets. list DIR (a catalogue, corrupt files listed as such), show
 * FILE (a summary of what is inside), verify FILE... (schema, checksums,
 * completeness; non-zero exit with the reason on any failure), merge OUT
 * IN... (profile_merge.c), export FILE --csv DIR (profile_csv.c). Output
 * goes to stdout from MPI rank 0 only; errors to stderr.
 */
#include <dirent.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "profile_h5.h"

static const char usage_text[] =
    "usage: uniap archive <command> [options]\n"
    "\n"
    "  list DIR                  catalogue of the profile datasets (*.h5, *.hdf5) in DIR:\n"
    "                            model, devices, world size, backend, date, complete, size;\n"
    "                            unreadable files are listed as CORRUPT with the reason\n"
    "  show FILE                 what a dataset holds, summarised\n"
    "  verify FILE...            schema, Fletcher32 checksums and completeness of each file;\n"
    "                            exit status 0 only when every file passes\n"
    "  merge [--force] OUT IN... one dataset from several (tables concatenated in input\n"
    "                            order, each input's provenance kept in /inputs); refuses\n"
    "                            inputs of different devices unless --force (default: off)\n"
    "  export FILE --csv DIR     the tables as CSV files in DIR (created when missing)\n"
    "\n"
    "Exit status: 0 ok, 2 bad input or a corrupt/foreign/incomplete dataset, 1 other errors.\n";

static int is_root(void)
{
    int init = 0, rank = 0;
    MPI_Initialized(&init);
    if (init)
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank == 0;
}

static int fail(int rc)
{
    if (is_root())
        fprintf(stderr, "uniap archive: %s\n", uniap_errmsg());
    uniap_err_clear();
    return uniap_exit_code(rc);
}

static void human_size(long long bytes, char *buf, size_t n)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 4)
        v /= 1024, u++;
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* Distinct backends of /ranks joined by ','. */
static void backends(const uniap_profile *p, char *buf, size_t n)
{
    buf[0] = '\0';
    for (int i = 0; i < p->n_ranks; i++) {
        const char *b = p->ranks[i].backend;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(p->ranks[j].backend, b) == 0;
        if (!seen && strlen(buf) + strlen(b) + 2 < n)
            strcat(strcat(buf, buf[0] ? "," : ""), b);
    }
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_list(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, path[PATH_MAX];
    int n = 0, cap = 0, corrupt = 0, rc = UNIAP_OK;

    if (!d)
        return fail(uniap_err(UNIAP_EIO, "%s: cannot open the folder", dir));
    while ((e = readdir(d))) {
        if (!has_suffix(e->d_name, ".h5") && !has_suffix(e->d_name, ".hdf5"))
            continue;
        if (n == cap) {
            char **nn = realloc(names, sizeof(char *) * (size_t)(cap = cap ? 2 * cap : 16));
            if (!nn) {
                rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory listing", dir);
                break;
            }
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory listing", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == UNIAP_OK) {
        qsort(names, (size_t)n, sizeof(*names), cmp_names);
        printf("%-28s %-14s %-26s %5s %-8s %-20s %-8s %10s\n", "FILE", "MODEL", "DEVICES", "WORLD",
               "BACKEND", "CREATED", "COMPLETE", "SIZE");
    }
    for (int i = 0; i < n && rc == UNIAP_OK; i++) {
        uniap_profile p;
        struct stat st;
        char size[32], model[64], dev[256], be[64];

        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        human_size(stat(path, &st) == 0 ? (long long)st.st_size : 0, size, sizeof(size));
        uniap_err_clear();
        if (uniap_profile_read(path, &p) < 0) {
            printf("%-28s CORRUPT (%s): %s\n", names[i], size, uniap_errmsg());
            uniap_err_clear();
            corrupt++;
            continue;
        }
        uniap_profile_model_name(&p, model, sizeof(model));
        uniap_profile_devices(&p, dev, sizeof(dev));
        backends(&p, be, sizeof(be));
        printf("%-28s %-14s %-26s %5d %-8s %-20s %-8s %10s\n", names[i], model[0] ? model : "-",
               dev[0] ? dev : "-", p.world_size, be[0] ? be : "-", p.created,
               p.complete ? "yes" : "NO", size);
        uniap_profile_free(&p);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc < 0)
        return fail(rc);
    printf("%d dataset%s, %d corrupt\n", n, n == 1 ? "" : "s", corrupt);
    return 0;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Distinct values of v[0..n) (sorted in place), printed "1,2,4". */
static void distinct_ints(int *v, int n, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    qsort(v, (size_t)n, sizeof(int), cmp_int);
    for (int i = 0; i < n; i++) {
        int x = v[i];
        if (i > 0 && v[i - 1] == x)
            continue;
        int w = snprintf(buf + used, cap - used, "%s%d", used ? "," : "", x);
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
    }
}

static void show_layers(const uniap_profile *p)
{
    char tps[128], mbs[128];
    printf("/layers       %d rows\n", p->n_layers);
    for (int i = 0; i < p->n_layers; i++) {
        const char *sig = p->layers[i].layer_type;
        int seen = 0, rows = 0;
        double lo = 1e300, hi = -1e300;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(p->layers[j].layer_type, sig) == 0;
        if (seen)
            continue;
        int *tp = malloc(sizeof(int) * (size_t)p->n_layers),
            *mb = tp ? malloc(sizeof(int) * (size_t)p->n_layers) : NULL;
        if (!mb) {
            free(tp);
            return;
        }
        for (int j = i; j < p->n_layers; j++) {
            if (strcmp(p->layers[j].layer_type, sig) != 0)
                continue;
            tp[rows] = p->layers[j].tp, mb[rows] = p->layers[j].micro_batch, rows++;
            if (p->layers[j].fwd.median < lo)
                lo = p->layers[j].fwd.median;
            if (p->layers[j].fwd.median > hi)
                hi = p->layers[j].fwd.median;
        }
        distinct_ints(tp, rows, tps, sizeof(tps));
        distinct_ints(mb, rows, mbs, sizeof(mbs));
        printf("  %-50s %5d rows  tp {%s}  micro_batch {%s}  fwd %.3g..%.3g s\n", sig, rows, tps,
               mbs, lo, hi);
        free(tp);
        free(mb);
    }
}

static void show_colls(const uniap_profile *p)
{
    char groups[128];
    printf("/collectives  %d rows\n", p->n_colls);
    for (int op = 0; op < UNIAP_COLL_COUNT; op++) {
        int rows = 0, *g = malloc(sizeof(int) * (size_t)(p->n_colls ? p->n_colls : 1));
        long long lo = LLONG_MAX, hi = 0;
        double best = 0;
        if (!g)
            return;
        for (int j = 0; j < p->n_colls; j++) {
            const uniap_coll_prof *c = &p->colls[j];
            if ((int)c->op != op)
                continue;
            g[rows++] = c->group_size;
            lo = c->bytes < lo ? c->bytes : lo;
            hi = c->bytes > hi ? c->bytes : hi;
            best = c->busbw > best ? c->busbw : best;
        }
        if (rows) {
            distinct_ints(g, rows, groups, sizeof(groups));
            printf("  %-15s %5d rows  groups {%s}  bytes %lld..%lld  best busbw %.3g GB/s\n",
                   uniap_coll_name((uniap_coll_op)op), rows, groups, lo, hi, best / 1e9);
        }
        free(g);
    }
}

static int cmd_show(const char *path)
{
    uniap_profile p;
    uniap_h5_input *in = NULL;
    int n_in = 0, rc;
    struct stat st;
    char size[32], model[64], dev[256], be[64];

    if ((rc = uniap_profile_read(path, &p)) < 0 ||
        (rc = uniap_h5_read_inputs(path, &in, &n_in)) < 0) {
        uniap_profile_free(&p); /* zeroed by a failed read: safe */
        return fail(rc);
    }
    human_size(stat(path, &st) == 0 ? (long long)st.st_size : 0, size, sizeof(size));
    uniap_profile_model_name(&p, model, sizeof(model));
    uniap_profile_devices(&p, dev, sizeof(dev));
    backends(&p, be, sizeof(be));
    printf("file          %s (%s)\n", path, size);
    printf("format        %s %d.%d\n", UNIAP_PROFILE_FORMAT, p.version_major, p.version_minor);
    printf("created       %s by uniap %s (git %s)\n", p.created, p.tool_version, p.git_revision);
    printf("command       %s\n", p.command_line ? p.command_line : "-");
    printf("world size    %d   slurm job %s   provenance %s   complete %s\n", p.world_size,
           p.slurm_job_id[0] ? p.slurm_job_id : "-", p.provenance[0] ? p.provenance : "-",
           p.complete ? "yes" : "NO");
    printf("overlap       %g\n", p.overlap_coeff);
    printf("model spec    %s (%zu bytes stored)\n", model[0] ? model : "-",
           p.model_json ? strlen(p.model_json) : 0);
    printf("cluster spec  %zu bytes stored\n", p.cluster_json ? strlen(p.cluster_json) : 0);
    printf("/ranks        %d rows  devices %s  backends %s\n", p.n_ranks, dev[0] ? dev : "-",
           be[0] ? be : "-");
    show_layers(&p);
    show_colls(&p);
    if (n_in) {
        printf("/inputs       %d merged inputs\n", n_in);
        for (int i = 0; i < n_in; i++)
            printf("  [%d] %s  created %s  git %s  job %s  %s  %s  ranks %d+%d layers %d+%d "
                   "collectives %d+%d\n",
                   in[i].index, in[i].file, in[i].created, in[i].git_revision,
                   in[i].slurm_job_id[0] ? in[i].slurm_job_id : "-", in[i].model, in[i].device,
                   in[i].ranks_first, in[i].n_ranks, in[i].layers_first, in[i].n_layers,
                   in[i].colls_first, in[i].n_colls);
    }
    free(in);
    uniap_profile_free(&p);
    return 0;
}

static int cmd_verify(int n, char **files)
{
    int worst = UNIAP_OK;

    for (int i = 0; i < n; i++) {
        uniap_profile p;
        int rc;
        uniap_err_clear();
        rc = uniap_profile_read(files[i], &p);
        if (rc == UNIAP_OK && !p.complete)
            rc = uniap_err(UNIAP_EMISSING,
                           "%s: incomplete (root attribute complete = 0): the profiling run was "
                           "interrupted; `uniap profile --resume` can finish it",
                           files[i]);
        if (rc < 0) {
            printf("FAIL  %s\n", uniap_errmsg());
            if (worst == UNIAP_OK)
                worst = rc;
        } else {
            printf("OK    %s  (%d ranks, %d layer rows, %d collective rows; checksums verified)\n",
                   files[i], p.n_ranks, p.n_layers, p.n_colls);
        }
        uniap_profile_free(&p);
    }
    uniap_err_clear();
    return uniap_exit_code(worst);
}

int uniap_cmd_archive(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;
    int rc;

    if (!cmd || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_text, cmd ? stdout : stderr);
        return cmd ? 0 : 2;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
    if (!is_root()) /* archive work is serial: rank 0 does it */
        return 0;
    if (strcmp(cmd, "list") == 0 && argc == 3)
        return cmd_list(argv[2]);
    if (strcmp(cmd, "show") == 0 && argc == 3)
        return cmd_show(argv[2]);
    if (strcmp(cmd, "verify") == 0 && argc >= 3)
        return cmd_verify(argc - 2, argv + 2);
    if (strcmp(cmd, "export") == 0 && argc == 5 && strcmp(argv[3], "--csv") == 0) {
        if ((rc = uniap_profile_export_csv(argv[2], argv[4])) < 0)
            return fail(rc);
        printf("wrote %s/{root,ranks,layers,collectives}.csv\n", argv[4]);
        return 0;
    }
    if (strcmp(cmd, "merge") == 0) {
        int force = 0, first = 2;
        for (int i = 2; i < argc && strcmp(argv[i], "--force") == 0; i++)
            force = 1, first = i + 1;
        if (argc - first >= 2) {
            char *line = uniap_join_args("uniap", argc, argv);
            rc = uniap_profile_merge(argv[first], argv + first + 1, argc - first - 1, force, line);
            free(line);
            if (rc < 0)
                return fail(rc);
            printf("merged %d inputs into %s\n", argc - first - 1, argv[first]);
            return 0;
        }
    }
    fprintf(stderr, "uniap archive: bad arguments for '%s'\n\n%s", cmd, usage_text);
    return 2;
}
