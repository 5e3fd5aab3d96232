/*
 * test_terms.c - each term of the cost table against hand-worked values,
 * on a hand-built model (2 decoder blocks + head), cluster (2 nodes x 4)
 * and profile whose figures make the arithmetic easy:
 *   layer fwd = 1 ms x mb / tp, bwd = 2 ms x mb / tp,
 *   act_bytes = mb x (4000 + 8000 / tp), peak_bytes (transient above the
 *   kept activations) = 500 mb;
 *   every collective: time = bytes / BW, BW = 1e11 B/s inside a node and
 *   1e10 B/s across nodes (a power law of exponent 1: log-log exact);
 *   overlap forced to 0.25 with the profile's slowdown coefficient 1.2,
 *   so every overlappable DP collective (gradient sync, ZeRO-2/FSDP
 *   reduce-scatters and gathers) is exposed as x (0.75 + 0.25 x 0.2) =
 *   0.8 x (the modelled overlap: test_overlap.c);
 *   mem_bandwidth 1e12 B/s; Adam touches 28 B per parameter.
 * Global batch 16.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"

#define BW0 FX_BW_INSIDE
#define BW1 FX_BW_ACROSS

static uniap_layer layers[2];
static uniap_model model;
static uniap_cluster cluster;
static uniap_profile prof;

static int skip_tp2(int r, int tp, void *ctx)
{
    (void)r;
    return tp == 2 && !*(const int *)ctx;
}

static void build(int with_tp2)
{
    fx_tiny_model(layers, &model);
    fx_cluster(&cluster, "test-2x4", 2, 4, 16 * GiB);
    cluster.mem_bandwidth = 1e12;

    memset(&prof, 0, sizeof(prof));
    uniap_profile_init(&prof);
    snprintf(prof.provenance, sizeof(prof.provenance), "measured");
    prof.overlap_coeff = 1.2;
    fx_add_layer_rows(&prof, layers, 2, 8, skip_tp2, &with_tp2);
    fx_add_coll_rows(&prof, NULL, NULL);
}

static void test_rows(const uniap_costmodel *cm)
{
    uniap_cost_table t;
    double P = (double)uniap_layer_params(&layers[0]);
    int K;

    /* deg 1, c 2: micro-batch 8 on a stage of all 8 devices */
    CHECK(uniap_costmodel_table(cm, 1, 2, &t) == 0);
    K = t.n_strategies;
    CHECK_EQ(t.micro_batch, 8);
    CHECK_EQ(t.stage_devices, 8);
    CHECK_NEAR(t.mem_budget[0], 15.0 * GiB, 0, 0); /* 16 GiB - 1 GiB reserve */

    /* dp2.tp4c (DDP): local micro-batch 4.
     * compute 1 ms x 4/4 + 2 ms x 4/4 = 3 ms; TP: 2 + 2 all-reduces of
     * 4 x 16 x 64 x 2 = 8192 B inside a node (TP ranks 0-3, 4-7). */
    int k = fx_strategy(&t, "dp2.tp4c.ddp");
    CHECK_NEAR(t.time[k], 3e-3 + 4 * 8192 / BW0, 1e-12, 0);
    /* tail: all-reduce of the P/4 x 2 B gradient over DP groups {r, r+4}
     * (across nodes), 0.8 exposed; optimizer P/4 x 28 B / 1e12 */
    CHECK_NEAR(t.tail[k], 0.8 * (P / 4 * 2) / BW1 + P / 4 * 28 / 1e12, 1e-12, 0);
    CHECK_NEAR(t.mem_states[k], P / 4 * 16, 1e-12, 0);
    CHECK_NEAR(t.mem_act[k], 4 * (4000 + 2000), 0, 0);
    CHECK_NEAR(t.mem_peak[k], 500 * 4, 0, 0); /* transient above activations */

    /* dp2.tp4c.zero3.sp.ckpt: compute + recomputed forward = 4 ms; SP: each
     * all-reduce becomes all-gather + reduce-scatter of 8192 B, 2 + 2 + 2
     * (recompute) of them; FSDP: 3 all-gathers (fwd, recompute, bwd) + 1
     * reduce-scatter of P/4 x 2 B across nodes, 0.8 exposed (the forced
     * overlap applies to every overlappable term; TP's stay exposed). */
    k = fx_strategy(&t, "dp2.tp4c.zero3.sp.ckpt");
    CHECK_NEAR(t.time[k], 4e-3 + 6 * 2 * 8192 / BW0 + 0.8 * 4 * (P / 4 * 2) / BW1, 1e-12, 0);
    CHECK_NEAR(t.tail[k], P / 4 * 28 / 1e12 / 2, 1e-12, 0);
    CHECK_NEAR(t.mem_states[k], P / 4 * 16 / 2, 1e-12, 0);
    /* checkpointed: keeps its input 4 x 16 x 64 x 2 / tp 4 = 2048 B; peak =
     * full SP activations act(tp 1, 4) / 4 = 4 x 12000 / 4 = 12000, + the
     * transient 2000, + FSDP's gathered params and grads P/4 x 4 x 1/2 */
    CHECK_NEAR(t.mem_act[k], 2048, 0, 0);
    CHECK_NEAR(t.mem_peak[k], 12000 + 2000 + P / 4 * 4 * 0.5, 1e-12, 0);

    /* dp8.tp1.zero1: local micro-batch 1: 3 ms; tail = 0.8 x reduce-scatter
     * (P x 2 B) + all-gather of updated params (P x 2 B), all across nodes,
     * + optimizer on 1/8; states 4P + 12P/8 */
    k = fx_strategy(&t, "dp8.tp1.zero1");
    CHECK_NEAR(t.time[k], 3e-3, 1e-12, 0);
    CHECK_NEAR(t.tail[k], 0.8 * P * 2 / BW1 + P * 2 / BW1 + P * 28 / 1e12 / 8, 1e-12, 0);
    CHECK_NEAR(t.mem_states[k], 4 * P + 12 * P / 8, 1e-12, 0);
    /* zero2: the reduce-scatter per micro-batch, 0.8 exposed; the gather of
     * updated shards is exposed; states 2P + 14P/8 */
    k = fx_strategy(&t, "dp8.tp1.zero2");
    CHECK_NEAR(t.time[k], 3e-3 + 0.8 * P * 2 / BW1, 1e-12, 0);
    CHECK_NEAR(t.tail[k], P * 2 / BW1 + P * 28 / 1e12 / 8, 1e-12, 0);
    CHECK_NEAR(t.mem_states[k], 2 * P + 14 * P / 8, 1e-12, 0);

    /* tp 8 does not divide the decoder's 4 heads; the head allows it: one
     * backward all-reduce of 8 x 16 x 64 x 2 = 16384 B over all 8 devices
     * (across nodes); compute 1 + 2 ms x 8/8 */
    k = fx_strategy(&t, "dp1.tp8c");
    CHECK_EQ(t.allowed[0 * K + k], 0);
    CHECK_EQ(t.allowed[1 * K + k], 0);
    CHECK_EQ(t.allowed[2 * K + k], 1);
    CHECK_NEAR(t.time[2 * K + k], 3e-3 + 16384 / BW1, 1e-12, 0);
    /* run rows copied: layer 1 equals layer 0 */
    CHECK(memcmp(t.time, t.time + K, (size_t)K * sizeof(double)) == 0);
    CHECK(memcmp(t.mem_act, t.mem_act + K, (size_t)K * sizeof(double)) == 0);
    CHECK_EQ(t.run_of[1], 0);
    CHECK_EQ(t.run_of[2], 1);

    /* resharding after layer 0 (boundary 8 x 16 x 64 x 2 = 16384 B):
     * dp8.tp1 -> dp2.tp4c: rank r holds sample r, needs its half: 3/8 of
     * 16384 = 6144 B by all-to-all over the stage (spans nodes), fwd + bwd;
     * dp2.tp4c -> dp8.tp1 needs nothing; equal layouts cost 0 */
    int a = fx_strategy(&t, "dp8.tp1.ddp"), b = fx_strategy(&t, "dp2.tp4c.ddp");
    int b2 = fx_strategy(&t, "dp2.tp4c.zero2.ckpt");
    CHECK_NEAR(t.reshard[uniap_ct_pair(&t, 0, 0, a, b)], 2 * 6144 / BW1, 1e-12, 0);
    CHECK_NEAR(t.reshard[uniap_ct_pair(&t, 0, 0, b, a)], 0.0, 0, 0);
    CHECK_NEAR(t.reshard[uniap_ct_pair(&t, 0, 1, b, b2)], 0.0, 0, 0);
    uniap_cost_table_free(&t);
}

static void test_xstage(const uniap_costmodel *cm)
{
    uniap_cost_table t;
    /* deg 2, c 2: stages of 4 devices = one node each: the boundary spans */
    CHECK(uniap_costmodel_table(cm, 2, 2, &t) == 0);
    CHECK_EQ(t.boundary_spans_nodes[0], 1);
    /* into dp2.tp2c (no SP): each receiver gets 16384 / (2 x 2) = 4096 B
     * across nodes, then its TP pair all-gathers 16384 / 2 = 8192 B inside
     * the node; forward + backward */
    int k = fx_strategy(&t, "dp4.tp1.ddp"), l = fx_strategy(&t, "dp2.tp2c.ddp");
    CHECK_NEAR(t.xstage[1][uniap_ct_xpair(&t, 0, k, l)], 2 * (4096 / BW1 + 8192 / BW0), 1e-12, 0);
    /* into dp2.tp2c.sp: only the 4096 B piece */
    l = fx_strategy(&t, "dp2.tp2c.ddp.sp");
    CHECK_NEAR(t.xstage[1][uniap_ct_xpair(&t, 1, k, l)], 2 * 4096 / BW1, 1e-12, 0);
    uniap_cost_table_free(&t);
}

static void test_candidates(const uniap_costmodel *cm)
{
    int *deg, *c, n;
    /* deg in {1, 2} (3 layers: deg 4, 8 leave empty stages); c | 16.
     * deg 1 (n 8), c 16: micro-batch 1 forces dp 1, tp 8: the decoder
     * cannot: dropped. deg 2 (n 4), c 16: dp 1 tp 4 works. */
    static const int want_deg[] = {1, 1, 1, 1, 2, 2, 2, 2, 2};
    static const int want_c[] = {1, 2, 4, 8, 1, 2, 4, 8, 16};
    CHECK(uniap_costmodel_candidates(cm, &deg, &c, &n) == 0);
    CHECK_EQ(n, 9);
    for (int i = 0; i < n && i < 9; i++) {
        CHECK_EQ(deg[i], want_deg[i]);
        CHECK_EQ(c[i], want_c[i]);
    }
    free(deg);
    free(c);
}

int main(void)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;

    build(1);
    uniap_cost_options_default(&o);
    o.global_batch = 16;
    o.overlap = 0.25;
    o.reserve_bytes = GiB;
    CHECK(uniap_costmodel_create(&model, &cluster, &prof, &o, &cm) == 0);
    if (!cm) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        return check_report();
    }
    test_rows(cm);
    test_xstage(cm);
    test_candidates(cm);
    CHECK(strlen(uniap_costmodel_warnings(cm)) == 0);
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&prof);

    /* a profile without tp 2, strict (skip_unprofiled_tp 0): tables
     * needing it fail naming the profile file, layer and tp */
    build(0);
    o.skip_unprofiled_tp = 0;
    o.profile_path = "terms.h5";
    CHECK(uniap_costmodel_create(&model, &cluster, &prof, &o, &cm) == 0);
    uniap_cost_table t;
    uniap_err_clear();
    CHECK_EQ(uniap_costmodel_table(cm, 1, 2, &t), UNIAP_EMISSING);
    CHECK_STR_CONTAINS(uniap_errmsg(), "terms.h5: ");
    CHECK_STR_CONTAINS(uniap_errmsg(), "at tp 2");
    CHECK_STR_CONTAINS(uniap_errmsg(), "decoder.h64");
    uniap_err_clear();
    uniap_costmodel_destroy(cm);
    o.skip_unprofiled_tp = 1;
    o.profile_path = NULL;
    /* a profile without the head's layer type fails at create */
    prof.n_layers = 0;
    CHECK_EQ(uniap_costmodel_create(&model, &cluster, &prof, &o, &cm), UNIAP_EMISSING);
    CHECK_STR_CONTAINS(uniap_errmsg(), "lacks layer type 'decoder.h64");
    uniap_err_clear();
    uniap_profile_free(&prof);
    return check_report();
}
