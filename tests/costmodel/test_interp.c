/*
 * test_interp.c - interpolation of the profile: layer figures linear in
 * micro-batch between measured points (exact at the points, warned
 * extrapolation outside, proportional above a falling pair), collectives piecewise linear in
 * log-log, and EMISSING naming what a profile lacks.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"

static void add_layer(uniap_profile *p, const char *sig, int tp, int mb, int rank, double fwd,
                      double bwd, int64_t act, int64_t peak)
{
    uniap_layer_prof r;
    memset(&r, 0, sizeof(r));
    snprintf(r.layer_type, sizeof(r.layer_type), "%s", sig);
    r.tp = tp;
    r.micro_batch = mb;
    r.rank = rank;
    r.fwd.median = fwd;
    r.bwd.median = bwd;
    r.act_bytes = act;
    r.peak_bytes = peak;
    uniap_profile_add_layer(p, &r);
}

static void add_coll(uniap_profile *p, uniap_coll_op op, int g, int spans, int64_t bytes, double t)
{
    uniap_coll_prof r;
    memset(&r, 0, sizeof(r));
    r.op = op;
    r.group_size = g;
    r.spans_nodes = spans;
    r.bytes = bytes;
    r.time.median = t;
    uniap_profile_add_coll(p, &r);
}

int main(void)
{
    uniap_profile p;
    cm_profile_index ix;
    cm_warnings w = {0};
    cm_layer_point pt;
    double t;

    memset(&p, 0, sizeof(p));
    uniap_profile_init(&p);
    /* measured points at micro-batch 2, 4, 8 (added out of order) */
    add_layer(&p, "blk", 1, 8, -1, 8.0, 20.0, 800, 1000);
    add_layer(&p, "blk", 1, 2, -1, 3.0, 5.0, 200, 260);
    add_layer(&p, "blk", 1, 4, -1, 4.0, 9.0, 400, 500);
    /* two ranks at tp 2 and micro-batch 2: the slowest wins; no summary */
    add_layer(&p, "blk", 2, 2, 0, 1.0, 2.0, 100, 150);
    add_layer(&p, "blk", 2, 2, 1, 1.5, 1.8, 120, 140);
    /* a summary row (rank -1) wins over the per-rank rows */
    add_layer(&p, "blk", 4, 2, 0, 9.0, 9.0, 900, 900);
    add_layer(&p, "blk", 4, 2, -1, 0.5, 1.0, 50, 70);
    /* a falling pair (timing noise): forward 2.0 at 1, 1.8 at 2 */
    add_layer(&p, "noisy", 1, 1, -1, 2.0, 4.0, 100, 100);
    add_layer(&p, "noisy", 1, 2, -1, 1.8, 4.4, 200, 200);
    /* collective curve: 1 MiB -> 10 us, 4 MiB -> 20 us, 16 MiB -> 80 us */
    add_coll(&p, UNIAP_COLL_ALLREDUCE, 8, 0, 1 << 20, 10e-6);
    add_coll(&p, UNIAP_COLL_ALLREDUCE, 8, 0, 4 << 20, 20e-6);
    add_coll(&p, UNIAP_COLL_ALLREDUCE, 8, 0, 16 << 20, 80e-6);
    add_coll(&p, UNIAP_COLL_P2P, 2, 1, 1 << 20, 100e-6); /* two pairs: the slower kept */
    add_coll(&p, UNIAP_COLL_P2P, 2, 1, 1 << 20, 150e-6);
    CHECK(cm_index_build(&p, "interp.h5", &ix) == 0);
    const cm_layer_index *li = cm_index_layer(&ix, "blk");
    CHECK(li != NULL);
    if (!li)
        return check_report();

    /* exact at measured points */
    CHECK(cm_layer_at(li, 1, 4, &w, &pt) == 0);
    CHECK_NEAR(pt.fwd, 4.0, 0, 0);
    CHECK_NEAR(pt.bwd, 9.0, 0, 0);
    CHECK_NEAR(pt.act_bytes, 400, 0, 0);
    /* between 2 and 4: midpoint at 3 */
    CHECK(cm_layer_at(li, 1, 3, &w, &pt) == 0);
    CHECK_NEAR(pt.fwd, 3.5, 1e-15, 0);
    CHECK_NEAR(pt.bwd, 7.0, 1e-15, 0);
    CHECK_NEAR(pt.act_bytes, 300, 1e-15, 0);
    CHECK_NEAR(pt.peak_bytes, 380, 1e-15, 0);
    /* between 4 and 8 at 6: fwd 4 + (8-4)*2/4 = 6; bwd 9 + 11*2/4 = 14.5 */
    CHECK(cm_layer_at(li, 1, 6, &w, &pt) == 0);
    CHECK_NEAR(pt.fwd, 6.0, 1e-15, 0);
    CHECK_NEAR(pt.bwd, 14.5, 1e-15, 0);
    CHECK(w.text == NULL); /* no warning inside the measured range */
    /* beyond: 16 extrapolated from (4, 4) and (8, 8): 16; warned */
    CHECK(cm_layer_at(li, 1, 16, &w, &pt) == 0);
    CHECK_NEAR(pt.fwd, 16.0, 1e-15, 0);
    CHECK_NEAR(pt.bwd, 9.0 + 11.0 * 12 / 4, 1e-15, 0);
    CHECK_STR_CONTAINS(w.text, "micro-batch 16 is outside the measured 2..8");
    /* below: 1 from (2, 3) and (4, 4): 2.5 */
    CHECK(cm_layer_at(li, 1, 1, &w, &pt) == 0);
    CHECK_NEAR(pt.fwd, 2.5, 1e-15, 0);
    CHECK_STR_CONTAINS(w.text, "micro-batch 1 is outside");
    /* above a falling pair: proportional from the last point, 1.8 x 16 / 2
     * = 14.4 (the line, 2.0 - 0.2 x 15, would be below 0); the rising
     * backward keeps its line, 4.0 + 0.4 x 15 = 10 */
    const cm_layer_index *ln = cm_index_layer(&ix, "noisy");
    CHECK(ln && cm_layer_at(ln, 1, 16, &w, &pt) == 0);
    CHECK_NEAR(pt.fwd, 14.4, 1e-14, 0);
    CHECK_NEAR(pt.bwd, 10.0, 1e-14, 0);
    /* ranks: max over ranks without a summary; the summary when present */
    CHECK(cm_layer_at(li, 2, 2, &w, &pt) == 0);
    CHECK_NEAR(pt.fwd, 1.5, 0, 0);
    CHECK_NEAR(pt.bwd, 2.0, 0, 0);
    CHECK_NEAR(pt.act_bytes, 120, 0, 0);
    CHECK(cm_layer_at(li, 4, 2, &w, &pt) == 0);
    CHECK_NEAR(pt.fwd, 0.5, 0, 0);
    /* one point only: proportional, warned */
    CHECK(cm_layer_at(li, 4, 4, &w, &pt) == 0);
    CHECK_NEAR(pt.fwd, 1.0, 1e-15, 0);
    CHECK_STR_CONTAINS(w.text, "only micro-batch 2 measured");
    /* missing tp: EMISSING naming the layer type and tp */
    uniap_err_clear();
    CHECK_EQ(cm_layer_at(li, 8, 2, &w, &pt), UNIAP_EMISSING);
    CHECK_STR_CONTAINS(uniap_errmsg(), "interp.h5: profile lacks layer type 'blk' at tp 8");
    uniap_err_clear();

    /* collectives: exact at the points */
    CHECK(cm_coll_time(&ix, UNIAP_COLL_ALLREDUCE, 8, 0, 4 << 20, &w, &t) == 0);
    CHECK_NEAR(t, 20e-6, 1e-12, 0);
    /* 2 MiB, half-way in log between 1 and 4 MiB: 10 us x 2^(1/2) */
    CHECK(cm_coll_time(&ix, UNIAP_COLL_ALLREDUCE, 8, 0, 2 << 20, &w, &t) == 0);
    CHECK_NEAR(t, 10e-6 * sqrt(2.0), 1e-12, 0);
    /* 8 MiB between 4 (20 us) and 16 (80 us): slope log(4)/log(4) = 1: 40 us */
    CHECK(cm_coll_time(&ix, UNIAP_COLL_ALLREDUCE, 8, 0, 8 << 20, &w, &t) == 0);
    CHECK_NEAR(t, 40e-6, 1e-12, 0);
    /* below the smallest: the latency floor */
    CHECK(cm_coll_time(&ix, UNIAP_COLL_ALLREDUCE, 8, 0, 1000, &w, &t) == 0);
    CHECK_NEAR(t, 10e-6, 0, 0);
    /* beyond the largest: linear through (4, 20) and (16, 80) MiB: 32 MiB
     * -> 20 + 60 x 28/12 = 160 us; warned */
    CHECK(cm_coll_time(&ix, UNIAP_COLL_ALLREDUCE, 8, 0, 32 << 20, &w, &t) == 0);
    CHECK_NEAR(t, 160e-6, 1e-12, 0);
    CHECK_STR_CONTAINS(w.text, "all_reduce group 8 in node");
    /* zero bytes or a group of one: free */
    CHECK(cm_coll_time(&ix, UNIAP_COLL_ALLREDUCE, 1, 0, 4 << 20, &w, &t) == 0 && t == 0);
    CHECK(cm_coll_time(&ix, UNIAP_COLL_ALLREDUCE, 8, 0, 0, &w, &t) == 0 && t == 0);
    /* p2p: the slower of two rows at one size */
    CHECK(cm_coll_time(&ix, UNIAP_COLL_P2P, 2, 1, 1 << 20, &w, &t) == 0);
    CHECK_NEAR(t, 150e-6, 0, 0);
    /* missing: op, group and placement named */
    CHECK_EQ(cm_coll_time(&ix, UNIAP_COLL_ALLREDUCE, 8, 1, 1 << 20, &w, &t), UNIAP_EMISSING);
    CHECK_STR_CONTAINS(uniap_errmsg(),
                       "interp.h5: profile lacks collective all_reduce over a group of 8 spanning "
                       "nodes");
    uniap_err_clear();
    CHECK_EQ(cm_coll_time(&ix, UNIAP_COLL_ALLGATHER, 4, 0, 1 << 20, &w, &t), UNIAP_EMISSING);
    CHECK_STR_CONTAINS(uniap_errmsg(), "group of 4 inside one node");
    uniap_err_clear();

    cm_index_free(&ix);
    cm_warnings_free(&w);
    uniap_profile_free(&p);
    return check_report();
}
