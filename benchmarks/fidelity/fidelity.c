/*
 * fidelity.c - the fidelity benchmark in one command (issue 12 item 6):
 * `bench_fidelity` runs every comparison of uniap's predictions against
 * measured runs nobody here wrote (AMP's trials on T4, Mist's tuned plans
 * on L4, Sailor's layer times on 7 GPU types, Megatron-LM's published A100
 * runs) and prints one table: per source and quantity n, mean and median
 * |relative error|, the signed bias, Spearman and Kendall rank correlation
 * with measured, the top-1 regret where the points are configurations of
 * one setup; then the signed error of iteration time by GPU count.
 *
 *   bench_fidelity [--datasets DIR] [--megatron TABLE.json] [--detail]
 *                  [--only amp|mist|sailor|megatron]
 *
 * --datasets: the shared datasets folder (default $UNIAP_SHARED_DATASETS,
 * else the one configured at build time); --megatron: another
 * transcription of the Megatron-LM table; --detail adds each comparison's detailed view before the
 * table. All comparisons run before anything is printed: a missing or bad dataset file is one
 * message naming it on stderr, a non-zero exit status (the library's: 2 for bad input) and nothing
 * on stdout. Built with FID_ONLY="<name>" this file is also the detailed view of one comparison
 * under its older program name (bench_fidelity_amp, bench_mist_memory, bench_fidelity_sailor),
 * whose positional arguments name that comparison's dataset folders.
 */
#define _GNU_SOURCE /* open_memstream */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fid.h"

#define FID_DIR UNIAP_FIDELITY_DIR

typedef struct fid_paths {
    char amp[1024], specs[1024], mist[1024], kernels[1024], sailor[1024], megatron[1024];
} fid_paths;

static void default_paths(const char *ds, fid_paths *p)
{
    snprintf(p->amp, sizeof(p->amp), "%s/DachengLi1_AMP_converted", ds);
    snprintf(p->specs, sizeof(p->specs), "%s/specs", FID_DIR);
    snprintf(p->mist, sizeof(p->mist), "%s/Dazz993_Mist/benchmark/mist/tuned_configs/l4-24gb", ds);
    snprintf(p->kernels, sizeof(p->kernels), "%s/Dazz993_Mist/mist/node_database/cache_NVIDIA_L4",
             ds);
    snprintf(p->sailor, sizeof(p->sailor), "%s/eth-easl_sailor/sailor", ds);
    snprintf(p->megatron, sizeof(p->megatron), "%s/megatron_sc21_table1.json", FID_DIR);
}

static const char *const SOURCES[] = {"amp", "mist", "sailor", "megatron"};

/* Runs comparison k (an index of SOURCES). */
static int run_source(int k, const fid_paths *p, FILE *detail, fid_report *r)
{
    if (detail)
        fprintf(detail, "== %s ==\n\n", SOURCES[k]);
    int rc = k == 0   ? fid_amp(p->amp, p->specs, detail, r)
             : k == 1 ? fid_mist(p->mist, p->kernels, detail, r)
             : k == 2 ? fid_sailor(p->sailor, detail, r)
                      : fid_megatron(p->megatron, detail, r);
    if (detail)
        fprintf(detail, "\n");
    return rc;
}

static void print_row(FILE *f, const fid_series *s)
{
    fid_stats st;
    if (fid_stats_compute(s->pred, s->meas, s->n, s->configs, &st) < 0)
        return;
    fprintf(f, "| %-28s | %-13s | %4d | %6.1f %% | %6.1f %% | %+7.1f %% | %6.3f | %6.3f |",
            s->source, s->quantity, st.n, 100 * st.mean_abs, 100 * st.median_abs,
            100 * st.signed_mean, st.spearman, st.kendall);
    if (s->configs)
        fprintf(f, " %5.1f %% |\n", 100 * st.regret);
    else
        fprintf(f, "     - |\n");
}

/* The signed error of every iteration-time series, by GPU count. */
static void print_by_gpus(FILE *f, const fid_report *r)
{
    fprintf(f, "\nSigned error of iteration time (TPI) by GPU count:\n\n"
               "| GPUs | source                       |    n |   signed |   |err| |\n"
               "|---|---|---|---|---|\n");
    int done[8192] = {0};
    for (;;) {
        int g = 0;
        for (int i = 0; i < r->n; i++)
            for (int j = 0; strcmp(r->s[i].quantity, "TPI") == 0 && j < r->s[i].n; j++) {
                int x = r->s[i].gpus[j];
                if (x > 0 && x < 8192 && !done[x] && (g == 0 || x < g))
                    g = x;
            }
        if (g == 0)
            break;
        done[g] = 1;
        for (int i = 0; i < r->n; i++) {
            const fid_series *s = &r->s[i];
            double pr[512], me[512];
            int k = 0;
            for (int j = 0; strcmp(s->quantity, "TPI") == 0 && j < s->n && k < 512; j++)
                if (s->gpus[j] == g)
                    pr[k] = s->pred[j], me[k++] = s->meas[j];
            fid_stats st;
            if (k && fid_stats_compute(pr, me, k, 0, &st) == 0)
                fprintf(f, "| %4d | %-28s | %4d | %+6.1f %% | %5.1f %% |\n", g, s->source, k,
                        100 * st.signed_mean, 100 * st.mean_abs);
        }
    }
}

static void print_summary(FILE *f, const fid_report *r)
{
    fprintf(f, "Fidelity of uniap's predictions against measured runs (relative error = "
               "predicted / measured - 1)\n\n"
               "| source                       | quantity      |    n |  mean |e| | median |e| "
               "|   signed | Spearman | Kendall | top-1 regret |\n"
               "|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < r->n; i++)
        print_row(f, &r->s[i]);
    print_by_gpus(f, r);
    if (r->notes[0])
        fprintf(f, "\n%s", r->notes);
}

static int usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--datasets DIR] [--megatron TABLE.json] [--detail] [--only "
            "amp|mist|sailor|megatron]\n",
            prog);
    return 2;
}

/* Positional folders of the one-comparison views (their older usage). */
static void view_args(int only, int argc, char **argv, int i, fid_paths *p)
{
    char *slot[2] = {NULL, NULL};
    size_t size = sizeof(p->amp);
    if (only == 0)
        slot[0] = p->amp, slot[1] = p->specs;
    else if (only == 1)
        slot[0] = p->mist, slot[1] = p->kernels;
    else if (only == 2)
        slot[0] = p->sailor;
    else
        slot[0] = p->megatron;
    for (int k = 0; k < 2 && i + k < argc; k++)
        if (slot[k])
            snprintf(slot[k], size, "%s", argv[i + k]);
}

static int parse_only(const char *name)
{
    for (int k = 0; k < 4; k++)
        if (strcmp(name, SOURCES[k]) == 0)
            return k;
    return -1;
}

static int fid_main(int argc, char **argv, const char *only_name)
{
    const char *ds = getenv("UNIAP_SHARED_DATASETS"), *table = NULL;
    int detail = only_name != NULL, only = only_name ? parse_only(only_name) : -1, i = 1, rc = 0;
    fid_paths p;
    fid_report r;

    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--detail") == 0)
            detail = 1;
        else if (strcmp(argv[i], "--datasets") == 0 && i + 1 < argc)
            ds = argv[++i];
        else if (strcmp(argv[i], "--megatron") == 0 && i + 1 < argc)
            table = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc && !only_name &&
                 (only = parse_only(argv[++i])) >= 0)
            continue;
        else
            return usage(argv[0]);
    }
    if (i < argc && !only_name)
        return usage(argv[0]);
    default_paths(ds && *ds ? ds : UNIAP_SHARED_DATASETS_DIR, &p);
    if (table)
        snprintf(p.megatron, sizeof(p.megatron), "%s", table);
    if (only_name)
        view_args(only, argc, argv, i, &p);
    memset(&r, 0, sizeof(r));
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = detail ? open_memstream(&buf, &len) : NULL;
    for (int k = 0; k < 4 && rc == 0; k++)
        if (only < 0 || only == k)
            rc = run_source(k, &p, mem, &r);
    if (mem)
        fclose(mem);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], uniap_errmsg());
        rc = uniap_exit_code(rc);
    } else {
        if (buf)
            fwrite(buf, 1, len, stdout);
        print_summary(stdout, &r);
    }
    free(buf);
    fid_report_free(&r);
    return rc;
}

int main(int argc, char **argv)
{
#ifdef FID_ONLY
    return fid_main(argc, argv, FID_ONLY);
#else
    return fid_main(argc, argv, NULL);
#endif
}
