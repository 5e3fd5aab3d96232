/*
 * archive_show.c - what `uniap archive` prints and writes (see
 * archive_show.h): catalogue rows, summaries and verification lines, with
 * every string taken from a file escaped, and the CSV export through the
 * atomic-output helper.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive_show.h"
#include "cmd_util.h"
#include "uniap_io.h"

#define N_TABLES 5

const char *const uniap__archive_tables[] = {"root",        "ranks",  "layers",
                                             "collectives", "inputs", NULL};

/* Escaped copies of file strings, in rotating buffers (enough for one
 * printf with several of them). */
static const char *esc(const char *s)
{
    static char buf[8][1024];
    static int next;
    char *b = buf[next];
    next = (next + 1) % 8;
    return uniap__escape(s, b, sizeof(buf[0]));
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

static const char *dash(const char *s)
{
    return s && s[0] ? s : "-";
}

void uniap__archive_list_header(void)
{
    printf("%-28s %-14s %-26s %5s %-8s %-20s %-8s %10s\n", "FILE", "MODEL", "DEVICES", "WORLD",
           "BACKEND", "CREATED", "COMPLETE", "SIZE");
}

int uniap__archive_list_row(const char *path, const char *name)
{
    uniap_profile p;
    struct stat st;
    char size[32], model[64], dev[256], be[64];
    int rc;

    human_size(stat(path, &st) == 0 ? (long long)st.st_size : 0, size, sizeof(size));
    uniap_err_clear();
    if ((rc = uniap_profile_read(path, &p)) < 0) {
        printf("%-28s CORRUPT (%s): %s\n", esc(name), size, esc(uniap_errmsg()));
        uniap_err_clear();
        return rc;
    }
    uniap_profile_model_name(&p, model, sizeof(model));
    uniap_profile_devices(&p, dev, sizeof(dev));
    backends(&p, be, sizeof(be));
    printf("%-28s %-14s %-26s %5d %-8s %-20s %-8s %10s\n", esc(name), esc(dash(model)),
           esc(dash(dev)), p.world_size, esc(dash(be)), esc(p.created), p.complete ? "yes" : "NO",
           size);
    uniap_profile_free(&p);
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
    if (n > 0)
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

static int show_layers(const uniap_profile *p)
{
    char tps[128], mbs[128];
    int *tp = malloc(sizeof(int) * (size_t)(p->n_layers + 1)),
        *mb = malloc(sizeof(int) * (size_t)(p->n_layers + 1));

    if (!tp || !mb) {
        free(tp);
        free(mb);
        return uniap_err(UNIAP_ENOMEM, "archive show: out of memory");
    }
    printf("/layers       %d rows\n", p->n_layers);
    for (int i = 0; i < p->n_layers; i++) {
        const char *sig = p->layers[i].layer_type;
        int seen = 0, rows = 0;
        double lo = 1e300, hi = -1e300;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(p->layers[j].layer_type, sig) == 0;
        if (seen)
            continue;
        for (int j = i; j < p->n_layers; j++) {
            if (strcmp(p->layers[j].layer_type, sig) != 0)
                continue;
            tp[rows] = p->layers[j].tp, mb[rows] = p->layers[j].micro_batch, rows++;
            lo = p->layers[j].fwd.median < lo ? p->layers[j].fwd.median : lo;
            hi = p->layers[j].fwd.median > hi ? p->layers[j].fwd.median : hi;
        }
        distinct_ints(tp, rows, tps, sizeof(tps));
        distinct_ints(mb, rows, mbs, sizeof(mbs));
        printf("  %-50s %5d rows  tp {%s}  micro_batch {%s}  fwd %.3g..%.3g s\n", esc(sig), rows,
               tps, mbs, lo, hi);
    }
    free(tp);
    free(mb);
    return 0;
}

static int show_colls(const uniap_profile *p)
{
    char groups[128];
    int *g = malloc(sizeof(int) * (size_t)(p->n_colls + 1));

    if (!g)
        return uniap_err(UNIAP_ENOMEM, "archive show: out of memory");
    printf("/collectives  %d rows\n", p->n_colls);
    for (int op = 0; op < UNIAP_COLL_COUNT; op++) {
        int rows = 0;
        long long lo = LLONG_MAX, hi = 0;
        double best = 0;
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
    }
    free(g);
    return 0;
}

/* /gemm (format 1.2): rows, shapes and the best achieved rate per dtype. */
static void show_gemm(const uniap_profile *p)
{
    static const char *const dtypes[] = {"fp32", "fp16", "bf16"};
    if (!p->n_gemm)
        return;
    printf("/gemm         %d rows\n", p->n_gemm);
    for (int d = 0; d < 3; d++) {
        int rows = 0;
        double best = 0, lo = INFINITY, hi = 0;
        for (int j = 0; j < p->n_gemm; j++) {
            const uniap_gemm_prof *g = &p->gemm[j];
            if (strcmp(g->dtype, dtypes[d]) != 0)
                continue;
            double mnk = (double)g->m * (double)g->n * (double)g->k;
            rows++;
            best = g->flops > best ? g->flops : best;
            lo = mnk < lo ? mnk : lo;
            hi = mnk > hi ? mnk : hi;
        }
        if (rows)
            printf("  %-15s %5d rows  m n k %.3g..%.3g  best %.4g TFLOP/s\n", dtypes[d], rows, lo,
                   hi, best / 1e12);
    }
}

static void show_inputs(const uniap_profile_input *in, int n_in)
{
    if (!n_in)
        return;
    printf("/inputs       %d merged inputs\n", n_in);
    for (int i = 0; i < n_in; i++)
        printf("  [%d] %s  created %s  git %s  job %s  %s  %s  ranks %d+%d layers %d+%d "
               "collectives %d+%d\n",
               in[i].index, esc(in[i].file), esc(in[i].created), esc(in[i].git_revision),
               esc(dash(in[i].slurm_job_id)), esc(in[i].model), esc(in[i].device),
               in[i].ranks_first, in[i].n_ranks, in[i].layers_first, in[i].n_layers,
               in[i].colls_first, in[i].n_colls);
}

int uniap__archive_show(const char *path)
{
    uniap_profile p;
    uniap_profile_input *in = NULL;
    int n_in = 0, rc;
    struct stat st;
    char size[32], model[64], dev[256], be[64];

    if ((rc = uniap_profile_read(path, &p)) < 0)
        return rc;
    if ((rc = uniap_profile_read_inputs(path, &in, &n_in)) < 0)
        goto free_profile;
    human_size(stat(path, &st) == 0 ? (long long)st.st_size : 0, size, sizeof(size));
    uniap_profile_model_name(&p, model, sizeof(model));
    uniap_profile_devices(&p, dev, sizeof(dev));
    backends(&p, be, sizeof(be));
    printf("file          %s (%s)\n", esc(path), size);
    printf("format        %s %d.%d\n", UNIAP_PROFILE_FORMAT, p.version_major, p.version_minor);
    printf("created       %s by uniap %s (git %s)\n", esc(p.created), esc(p.tool_version),
           esc(p.git_revision));
    printf("command       %s\n", esc(dash(p.command_line)));
    printf("world size    %d   slurm job %s   provenance %s   complete %s\n", p.world_size,
           esc(dash(p.slurm_job_id)), esc(dash(p.provenance)), p.complete ? "yes" : "NO");
    printf("overlap       %g\n", p.overlap_coeff);
    if (p.tp_comm_in_layers)
        printf("tp comm       included in the layer times at tp > 1 (none added)\n");
    printf("model spec    %s (%zu bytes stored)\n", esc(dash(model)),
           p.model_json ? strlen(p.model_json) : 0);
    printf("cluster spec  %zu bytes stored\n", p.cluster_json ? strlen(p.cluster_json) : 0);
    for (char *l = p.notes, *nl; l && *l; l = nl ? nl + 1 : l + strlen(l)) {
        if ((nl = strchr(l, '\n')))
            *nl = '\0'; /* our copy: one note a line */
        printf("note          %s\n", esc(l));
    }
    printf("/ranks        %d rows  devices %s  backends %s\n", p.n_ranks, esc(dash(dev)),
           esc(dash(be)));
    if ((rc = show_layers(&p)) == 0 && (rc = show_colls(&p)) == 0) {
        show_gemm(&p);
        show_inputs(in, n_in);
    }
    free(in);
free_profile:
    uniap_profile_free(&p);
    return rc;
}

int uniap__archive_verify_one(const char *path)
{
    uniap_profile p;
    int rc;

    uniap_err_clear();
    rc = uniap_profile_read(path, &p);
    if (rc == 0 && p.world_size < 1)
        rc = uniap_err(UNIAP_EFORMAT, "%s: root attribute world_size = %d: expected at least 1",
                       path, p.world_size);
    if (rc == 0 && !p.complete)
        rc = uniap_err(UNIAP_EMISSING,
                       "%s: incomplete (root attribute complete = 0): the profiling run was "
                       "interrupted; `uniap profile --resume` can finish it",
                       path);
    if (rc < 0) {
        const char *msg = uniap_errmsg();
        /* every line names the file, whatever the message says */
        if (strstr(msg, path))
            printf("FAIL  %s\n", esc(msg));
        else
            printf("FAIL  %s: %s\n", esc(path), esc(msg));
    } else {
        printf("OK    %s  (%d ranks, %d layer rows, %d collective rows, %d GEMM rows; checksums "
               "verified)\n",
               esc(path), p.n_ranks, p.n_layers, p.n_colls, p.n_gemm);
    }
    uniap_profile_free(&p);
    return rc;
}

/* Checks every output of the export before anything is read: dir is a
 * folder (or can be created), each target a writable regular file that is
 * not the input. */
static int export_check(const char *path, const char *dir, int first, int last,
                        char paths[][PATH_MAX])
{
    struct stat st;
    const char *in_opt = "FILE";
    int rc;

    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return uniap_err(UNIAP_EINVAL, "--csv %s: expected a folder (or - with --table)", dir);
    if (stat(dir, &st) != 0 && (rc = uniap_output_check("--csv", dir, 0)) < 0)
        return rc; /* to be created: its parent must be a writable folder */
    for (int t = first; t <= last; t++) {
        if (snprintf(paths[t], PATH_MAX, "%s/%s.csv", dir, uniap__archive_tables[t]) >= PATH_MAX)
            return uniap_err(UNIAP_EINVAL, "--csv %s: path too long", dir);
        if (stat(dir, &st) != 0)
            continue;
        if ((rc = uniap_output_check("--csv", paths[t], 0)) < 0 ||
            (rc = uniap_output_not_input("--csv", paths[t], &path, &in_opt, 1)) < 0)
            return rc;
    }
    return 0;
}

int uniap__archive_export(const char *path, const char *dir, int table)
{
    char paths[N_TABLES][PATH_MAX], *csv[N_TABLES] = {0};
    uniap_output out[N_TABLES];
    int first = table < 0 ? 0 : table, last = table < 0 ? N_TABLES - 1 : table, n_open = 0, rc;
    int to_stdout = strcmp(dir, "-") == 0;

    if (to_stdout && table < 0)
        return uniap_err(UNIAP_EINVAL, "--csv -: standard output takes one table: add --table "
                                       "root|ranks|layers|collectives|inputs");
    if (!to_stdout && (rc = export_check(path, dir, first, last, paths)) < 0)
        return rc;
    /* every table's text first: a bad dataset leaves no file behind */
    for (int t = first; t <= last; t++)
        if ((rc = uniap_profile_table_csv(path, uniap__archive_tables[t], &csv[t])) < 0)
            goto free_csv;
    if (table >= 0 && !csv[table]) {
        rc = uniap_err(UNIAP_EMISSING, "%s: no /%s table (only merged datasets have one)", path,
                       uniap__archive_tables[table]);
        goto free_csv;
    }
    if (!to_stdout && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        rc = uniap_err(UNIAP_EIO, "--csv %s: cannot create the folder: %s", dir, strerror(errno));
        goto free_csv;
    }
    /* all files written under temporary names, then all renamed */
    for (int t = first; t <= last && rc == 0; t++) {
        if (!csv[t])
            continue;
        if ((rc = uniap_output_open(&out[n_open], to_stdout ? "-" : paths[t], 1)) < 0)
            break;
        n_open++;
        if (fputs(csv[t], out[n_open - 1].f) == EOF)
            rc = uniap_err(UNIAP_EIO, "%s: write failed: %s",
                           to_stdout ? "standard output" : paths[t], strerror(errno));
    }
    for (int i = 0; i < n_open; i++) {
        if (rc == 0)
            rc = uniap_output_commit(&out[i]);
        else
            uniap_output_abort(&out[i]);
    }
    if (rc == 0 && !to_stdout)
        printf("wrote %s/{%s}.csv\n", dir,
               table >= 0 ? uniap__archive_tables[table]
               : csv[4]   ? "root,ranks,layers,collectives,inputs"
                          : "root,ranks,layers,collectives");
free_csv:
    for (int t = 0; t < N_TABLES; t++)
        free(csv[t]);
    return rc;
}
