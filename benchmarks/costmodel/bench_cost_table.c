/*
 * bench_cost_table.c - measures uniap_costmodel_table: the time to build
 * every (deg, c) candidate's cost table of a zoo model on a cluster of
 * nodes x devices_per_node (analytic profile), printing the time to find
 * the candidates, the slowest table, the total, and the largest table's
 * strategy count.
 * usage: bench_cost_table MODEL PRESET NODES GLOBAL_BATCH
 *   e.g. bench_cost_table gpt3-175b h100-80g-16x8 512 1536  (4096 devices)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "uniap_costmodel.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;
    uniap_cost_options o;
    uniap_costmodel *cm;
    int *deg, *cc, n, mbs[40], nm = 0;

    if (argc < 5) {
        fprintf(stderr, "usage: %s MODEL PRESET NODES GLOBAL_BATCH\n", argv[0]);
        return 2;
    }
    if (uniap_zoo_model(argv[1], &m) < 0 || uniap_cluster_preset(argv[2], &c) < 0) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        return 2;
    }
    c.nodes = atoi(argv[3]);
    long long B = atoll(argv[4]);
    for (long long b = 1; b < B && nm < 38; b *= 2)
        mbs[nm++] = (int)b;
    mbs[nm++] = (int)B;
    double t0 = now();
    if (uniap_profile_analytic(&m, &c, mbs, nm, &p) < 0) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        return 1;
    }
    double t1 = now();
    uniap_cost_options_default(&o);
    o.global_batch = B;
    if (uniap_costmodel_create(&m, &c, &p, &o, &cm) < 0) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        return 1;
    }
    double t2 = now();
    if (uniap_costmodel_candidates(cm, &deg, &cc, &n) < 0) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        return 1;
    }
    double t3 = now();
    double worst = 0, total = 0;
    int worst_i = 0, kmax = 0;
    for (int i = 0; i < n; i++) {
        uniap_cost_table t;
        double a = now();
        if (uniap_costmodel_table(cm, deg[i], cc[i], &t) < 0) {
            fprintf(stderr, "deg %d c %d: %s\n", deg[i], cc[i], uniap_errmsg());
            return 1;
        }
        double d = now() - a;
        total += d;
        if (d > worst) {
            worst = d;
            worst_i = i;
        }
        if (t.n_strategies > kmax)
            kmax = t.n_strategies;
        uniap_cost_table_free(&t);
    }
    printf("%s on %d x %d devices, global batch %lld: analytic profile %.3f s (%d layer rows, %d "
           "collective rows)\n",
           m.name, c.nodes, c.devices_per_node, B, t1 - t0, p.n_layers, p.n_colls);
    printf("%d candidates (found in %.3f s): tables total %.3f s, mean %.4f s, slowest %.4f s "
           "(deg %d, c %d); largest K %d\n",
           n, t3 - t2, total, n ? total / n : 0, worst, deg[worst_i], cc[worst_i], kmax);
    free(deg);
    free(cc);
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&p);
    uniap_model_free(&m);
    return 0;
}
