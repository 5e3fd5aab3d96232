/*
 * test_overlap.c - the modelled overlap of data-parallel communication
 * with computation (costmodel/overlap.c, method.md s6.3/s6.4) against
 * hand-worked values: DDP's bucketed all-reduce beside the last backward,
 * ZeRO-2's reduce-scatter beside each backward, FSDP's prefetched gathers
 * beside forward and backward with its reduce-scatter, the profile's
 * slowdown of overlapped compute, and the forced fraction (--overlap).
 *
 * The tiny model of cm_fixture.h (decoder of P = 49,408 parameters, bf16
 * gradients and parameters: 2 P = 98,816 B) on 2 nodes x 4 devices, global
 * batch 16, 2 micro-batches of 8; the profile's layer times scaled by
 * 1/400: fwd = 2.5 us x mb / tp, bwd = 5 us x mb / tp. Collectives take
 * bytes / 1e10 s across nodes (the DP groups of 8 span both nodes), so
 * every DP collective of a decoder shard at tp 1 takes 2 P / 1e10 = 9.8816
 * us. mem_bandwidth 0 (no optimizer step: the tail is the sync alone).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"

#define BW1 FX_BW_ACROSS
#define US  1e-6

static uniap_layer layers[2];
static uniap_model model;
static uniap_cluster cluster;
static uniap_profile prof;

static void build(double overlap_coeff)
{
    fx_tiny_model(layers, &model);
    fx_cluster(&cluster, "test-2x4", 2, 4, 16 * GiB);
    memset(&prof, 0, sizeof(prof));
    uniap_profile_init(&prof);
    snprintf(prof.provenance, sizeof(prof.provenance), "measured");
    prof.overlap_coeff = overlap_coeff;
    fx_add_layer_rows(&prof, layers, 2, 8, NULL, NULL);
    for (int i = 0; i < prof.n_layers; i++) {
        prof.layers[i].fwd.median /= 400;
        prof.layers[i].bwd.median /= 400;
    }
    fx_add_coll_rows(&prof, NULL, NULL);
}

static uniap_costmodel *make(double overlap)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_cost_options_default(&o);
    o.global_batch = 16;
    o.overlap = overlap;
    o.reserve_bytes = GiB;
    CHECK(uniap_costmodel_create(&model, &cluster, &prof, &o, &cm) == 0);
    if (!cm)
        fprintf(stderr, "%s\n", uniap_errmsg());
    return cm;
}

/* The row of strategy name in the (deg, 2) table: time and tail, and
 * the breakdown of its first layer (a decoder). */
static void row_of(uniap_costmodel *cm, int deg, const char *name, double *time, double *tail,
                   cm_row_terms *x)
{
    uniap_cost_table t;
    *time = *tail = -1;
    memset(x, 0, sizeof(*x));
    if (uniap_costmodel_table(cm, deg, 2, &t) != 0) {
        CHECK(0);
        return;
    }
    int k = fx_strategy(&t, name);
    *time = t.time[k];
    *tail = t.tail[k];
    CHECK(cm_row_breakdown(cm, deg, 2, 0, &t.strategies[k], x) == 0);
    uniap_cost_table_free(&t);
}

/* Modelled overlap, no slowdown (overlap coefficient 0). */
static void test_modelled(void)
{
    double P, C, time, tail;
    uniap_costmodel *cm;
    cm_row_terms x;

    build(0.0);
    P = (double)uniap_layer_params(&layers[0]);
    C = 2 * P / BW1;
    if (!(cm = make(-1)))
        return;
    CHECK_EQ((long long)P, 49408);
    CHECK_NEAR(C, 9.8816 * US, 1e-12, 0);

    /* deg 1 (dp 8 across nodes), local micro-batch 1: fwd 2.5 us, bwd 5 us.
     * DDP: the all-reduce C beside the last backward: exposed C - 5 us =
     * 4.8816 us in the tail, 5 us hidden; the per-micro-batch time is the
     * compute */
    row_of(cm, 1, "dp8.tp1.ddp", &time, &tail, &x);
    CHECK_NEAR(time, 7.5 * US, 1e-12, 0);
    CHECK_NEAR(tail, 4.8816 * US, 1e-12, 0);
    CHECK_NEAR(x.sync_exposed, 4.8816 * US, 1e-12, 0);
    CHECK_NEAR(x.sync_hidden, 5 * US, 1e-12, 0);

    /* ZeRO-2: the reduce-scatter C beside every backward: 7.5 + 4.8816 */
    row_of(cm, 1, "dp8.tp1.zero2", &time, &tail, &x);
    CHECK_NEAR(time, 12.3816 * US, 1e-12, 0);

    /* FSDP: forward gather C beside the 2.5 us forward: 7.3816 exposed;
     * backward gather + reduce-scatter 2C = 19.7632 beside 5 us: 14.7632
     * exposed; time 7.5 + 7.3816 + 14.7632 = 29.6448 us (fully exposed:
     * 7.5 + 3C = 37.1448) */
    row_of(cm, 1, "dp8.tp1.zero3", &time, &tail, &x);
    CHECK_NEAR(time, 29.6448 * US, 1e-12, 0);
    CHECK_NEAR(x.dp_comm, 22.1448 * US, 1e-12, 0);
    CHECK_NEAR(x.dp_hidden, 7.5 * US, 1e-12, 0);

    /* FSDP + full checkpointing: compute 10 us; backward phase 5 + 2.5
     * (recompute) beside 2 gathers + the reduce-scatter = 3C = 29.6448:
     * 22.1448 exposed; forward 7.3816; time 10 + 7.3816 + 22.1448 */
    row_of(cm, 1, "dp8.tp1.zero3.ckpt", &time, &tail, &x);
    CHECK_NEAR(time, 39.5264 * US, 1e-12, 0);

    /* deg 2: stages of one node, dp 4 inside it: collectives C / 10 =
     * 0.98816 us; local micro-batch 2: fwd 5 us, bwd 10 us: everything
     * hidden. DDP tail 0; FSDP time = compute 15 us */
    row_of(cm, 2, "dp4.tp1.ddp", &time, &tail, &x);
    CHECK_NEAR(tail, 0.0, 0, 0);
    CHECK_NEAR(x.sync_hidden, C / 10, 1e-12, 0);
    row_of(cm, 2, "dp4.tp1.zero3", &time, &tail, &x);
    CHECK_NEAR(time, 15 * US, 1e-12, 0);
    CHECK_NEAR(x.dp_hidden, 3 * C / 10, 1e-12, 0);
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&prof);
}

/* The profile's slowdown of overlapped compute (Galvatron's coefficient
 * 1.2): the hidden part costs 0.2 of itself. */
static void test_slowdown(void)
{
    double time, tail;
    uniap_costmodel *cm;
    cm_row_terms x;

    build(1.2);
    if (!(cm = make(-1)))
        return;
    /* DDP: 4.8816 exposed + 0.2 x 5 hidden = 5.8816 us */
    row_of(cm, 1, "dp8.tp1.ddp", &time, &tail, &x);
    CHECK_NEAR(tail, 5.8816 * US, 1e-12, 0);
    /* FSDP: forward 7.3816 + 0.2 x 2.5, backward 14.7632 + 0.2 x 5:
     * 7.5 + 7.8816 + 15.7632 = 31.1448 us */
    row_of(cm, 1, "dp8.tp1.zero3", &time, &tail, &x);
    CHECK_NEAR(time, 31.1448 * US, 1e-12, 0);
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&prof);
}

/* A forced fraction (--overlap) replaces the modelled overlap of every
 * term: 0 gives the fully exposed upper bound, 0.5 hides half whatever
 * the compute. */
static void test_forced(void)
{
    double C = 9.8816 * US, time, tail;
    uniap_costmodel *cm;
    cm_row_terms x;

    build(0.0);
    if (!(cm = make(0.0)))
        return;
    row_of(cm, 1, "dp8.tp1.ddp", &time, &tail, &x);
    CHECK_NEAR(tail, C, 1e-12, 0);
    row_of(cm, 1, "dp8.tp1.zero3", &time, &tail, &x);
    CHECK_NEAR(time, 7.5 * US + 3 * C, 1e-12, 0);
    /* the deg-2 rows where the model hides everything: exposed too */
    row_of(cm, 2, "dp4.tp1.zero3", &time, &tail, &x);
    CHECK_NEAR(time, 15 * US + 3 * C / 10, 1e-12, 0);
    uniap_costmodel_destroy(cm);
    if (!(cm = make(0.5)))
        return;
    row_of(cm, 1, "dp8.tp1.zero3", &time, &tail, &x);
    CHECK_NEAR(time, 7.5 * US + 1.5 * C, 1e-12, 0);
    row_of(cm, 1, "dp8.tp1.zero2", &time, &tail, &x);
    CHECK_NEAR(time, 7.5 * US + 0.5 * C, 1e-12, 0);
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&prof);
}

int main(void)
{
    test_modelled();
    test_slowdown();
    test_forced();
    return check_report();
}
