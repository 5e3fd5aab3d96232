/*
 * test_position.c - profile format 1.2's two marks on layer rows, against
 * hand-worked values:
 *   - per-position rows ("<signature>@<layer>"): layer 1 of the tiny
 *     model's two decoders measured 3x slower at tp 1 and 2 gets 3x the
 *     compute of layer 0 in the cost table, the run's rows elsewhere (tp 4
 *     has no per-position rows: both layers equal), and the breakdown of a
 *     plan follows the table;
 *   - layer_times_include_tp_comm: with the mark a tp > 1 row's time is its
 *     compute alone (no TP all-reduces added, none needed from the
 *     profile), without it compute + (2 fwd + 2 bwd) all-reduces of
 *     b s h bf16 bytes at the fixture's 1e11 B/s;
 *   - both survive an HDF5 write and read, and the checker refuses a mark
 *     that is not 0 or 1.
 *
 * The tiny model of cm_fixture.h on 1 node of 2 devices, global batch 2,
 * one micro-batch: deg 1, dp x tp = 2. Fixture times: fwd 1 ms x mb / tp,
 * bwd 2 ms x mb / tp; overlap forced to 0 so DP communication adds plainly.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"

static uniap_layer layers[2];
static uniap_model model;
static uniap_cluster cluster;

static void build(uniap_profile *p, int slow_layer1)
{
    char sig[80];
    fx_tiny_model(layers, &model);
    fx_cluster(&cluster, "test-1x2", 1, 2, 16 * GiB);
    uniap_profile_init(p);
    snprintf(p->provenance, sizeof(p->provenance), "measured");
    fx_add_layer_rows(p, layers, 2, 2, NULL, NULL);
    fx_add_coll_rows(p, NULL, NULL);
    if (!slow_layer1)
        return;
    uniap_layer_signature(&layers[0], sig, sizeof(sig));
    int n = p->n_layers;
    for (int i = 0; i < n; i++) {
        uniap_layer_prof row = p->layers[i];
        if (strcmp(row.layer_type, sig) != 0 || row.tp > 2)
            continue;
        snprintf(row.layer_type, sizeof(row.layer_type), "%s@1", sig);
        row.fwd.median *= 3;
        row.bwd.median *= 3;
        uniap_profile_add_layer(p, &row);
    }
}

static uniap_costmodel *make(const uniap_profile *p)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_cost_options_default(&o);
    o.global_batch = 2;
    o.overlap = 0;
    o.reserve_bytes = GiB;
    if (uniap_costmodel_create(&model, &cluster, p, &o, &cm) != 0) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        CHECK(0);
    }
    return cm;
}

static void test_per_position(void)
{
    uniap_profile p;
    uniap_cost_table t;
    uniap_costmodel *cm;

    build(&p, 1);
    if (!(cm = make(&p)))
        goto free_profile;
    CHECK_EQ(uniap_costmodel_table(cm, 1, 1, &t), 0);
    int K = t.n_strategies;
    int k1 = fx_strategy(&t, "dp2.tp1.ddp"), k2 = fx_strategy(&t, "dp1.tp2c");
    /* dp 2: local micro-batch 1 at tp 1: 3 ms on layer 0, 9 ms on layer 1
     * (plus the same DP terms on both: compare the breakdowns' compute) */
    cm_row_terms a, b;
    CHECK_EQ(cm_layer_row_breakdown(cm, 1, 1, 0, &t.strategies[k1], &a), 0);
    CHECK_EQ(cm_layer_row_breakdown(cm, 1, 1, 1, &t.strategies[k1], &b), 0);
    CHECK_NEAR(a.compute, 3e-3, 1e-12, 0);
    CHECK_NEAR(b.compute, 9e-3, 1e-12, 0);
    CHECK_NEAR(t.time[1 * K + k1] - t.time[0 * K + k1], 6e-3, 1e-12, 0);
    /* tp 2, micro-batch 2: 3 ms / 2 x 2 = 3 ms on layer 0, 9 ms on 1 */
    CHECK_EQ(cm_layer_row_breakdown(cm, 1, 1, 0, &t.strategies[k2], &a), 0);
    CHECK_EQ(cm_layer_row_breakdown(cm, 1, 1, 1, &t.strategies[k2], &b), 0);
    CHECK_NEAR(a.compute, 3e-3, 1e-12, 0);
    CHECK_NEAR(b.compute, 9e-3, 1e-12, 0);
    /* the run's breakdown (no layer) is the signature's rows */
    CHECK_EQ(cm_row_breakdown(cm, 1, 1, 0, &t.strategies[k2], &a), 0);
    CHECK_NEAR(a.compute, 3e-3, 1e-12, 0);
    /* memory rows equal (the per-position rows copy the bytes) */
    CHECK_NEAR(t.mem_act[1 * K + k1], t.mem_act[0 * K + k1], 0, 0);
    uniap_cost_table_free(&t);
    uniap_costmodel_destroy(cm);
free_profile:
    uniap_profile_free(&p);
}

/* Without per-position rows both decoders' rows are bitwise equal (the
 * solver groups them). */
static void test_no_position(void)
{
    uniap_profile p;
    uniap_cost_table t;
    uniap_costmodel *cm;

    build(&p, 0);
    if (!(cm = make(&p)))
        goto free_profile;
    CHECK_EQ(uniap_costmodel_table(cm, 1, 1, &t), 0);
    int K = t.n_strategies;
    CHECK(memcmp(t.time, t.time + K, (size_t)K * sizeof(double)) == 0);
    uniap_cost_table_free(&t);
    uniap_costmodel_destroy(cm);
free_profile:
    uniap_profile_free(&p);
}

static void test_tp_comm_mark(void)
{
    uniap_profile p;
    uniap_costmodel *cm;
    cm_row_terms x;
    uniap_strategy s;

    build(&p, 0);
    for (int mark = 0; mark <= 1; mark++) {
        p.tp_comm_in_layers = mark;
        if (!(cm = make(&p)))
            break;
        uniap_cost_table t;
        CHECK_EQ(uniap_costmodel_table(cm, 1, 1, &t), 0);
        s = t.strategies[fx_strategy(&t, "dp1.tp2c")];
        CHECK_EQ(cm_row_breakdown(cm, 1, 1, 0, &s, &x), 0);
        /* tp 2 at micro-batch 2: compute (1 + 2) ms x 2 / 2 = 3 ms. Without
         * the mark: the decoder's 2 forward + 2 backward all-reduces of
         * 2 x 16 x 64 x 2 B = 4096 B each at 1e11 B/s (the fixture's curve,
         * 1 KiB to 1 GiB: 4 KiB is a point) = 4.096e-8 s each */
        CHECK_NEAR(x.compute, 3e-3, 1e-12, 0);
        CHECK_NEAR(x.tp_comm, mark ? 0.0 : 4 * 4096 / FX_BW_INSIDE, 1e-15, 0);
        CHECK_NEAR(t.time[fx_strategy(&t, "dp1.tp2c")], x.compute + x.tp_comm + x.dp_comm, 1e-15,
                   0);
        uniap_cost_table_free(&t);
        uniap_costmodel_destroy(cm);
    }
    uniap_profile_free(&p);
}

/* The mark and the per-position rows through an HDF5 file; a mark of 2 is
 * refused on reading, naming the attribute. */
static void test_file(const char *dir)
{
    char path[1024];
    uniap_profile p, q;

    build(&p, 1);
    p.tp_comm_in_layers = 1;
    snprintf(path, sizeof(path), "%s/position.h5", dir);
    CHECK_EQ(uniap_profile_write(path, &p), 0);
    CHECK_EQ(uniap_profile_read(path, &q), 0);
    CHECK_EQ(q.tp_comm_in_layers, 1);
    CHECK_EQ(q.version_minor, UNIAP_PROFILE_VERSION_MINOR);
    CHECK_EQ(q.n_layers, p.n_layers);
    int pos = 0;
    for (int i = 0; i < q.n_layers; i++)
        pos += strstr(q.layers[i].layer_type, "@1") != NULL;
    CHECK_EQ(pos, 2 * 2); /* tp 1, 2 x micro-batch 1, 2 */
    uniap_profile_free(&q);
    p.tp_comm_in_layers = 2;
    CHECK_EQ(uniap_profile_write(path, &p), 0);
    CHECK_EQ(uniap_profile_read(path, &q), UNIAP_EFORMAT);
    CHECK_STR_CONTAINS(uniap_errmsg(), "layer_times_include_tp_comm is 2, expected 0 or 1");
    uniap_profile_free(&p);
    unlink(path);
}

int main(int argc, char **argv)
{
    test_per_position();
    test_no_position();
    test_tp_comm_mark();
    test_file(argc > 1 ? argv[1] : ".");
    return check_report();
}
