/*
 * test_cp.c - context parallelism (issue 15 item 2): the cp dimension's
 * names, parsing and enumeration, and each cp term of a table row against
 * hand-worked values on the tiny fixture model (2 decoder blocks of hidden
 * 64, 4 heads of 16, seq 16, + a head) on 2 nodes x 4 devices, with the
 * easy profile figures (cm_fixture.h: fwd 1 ms x mb / tp, bwd 2 ms x mb /
 * tp, act mb x (4000 + 8000 / tp), peak 500 mb; every collective bytes /
 * 1e11 B/s inside a node, / 1e10 across). Global batch 16; deg 1, c 2:
 * micro-batch 8 on a stage of all 8 devices.
 *
 * Rank layout (strategy.c): q = dp_index x cp + cp_index, rank = q x tp +
 * tp_index (consecutive TP): for dp2.cp2.tp2c the CP pairs are ranks
 * {0, 2} and {4, 6} (inside a node), the gradient group of TP index 0 is
 * {0, 2, 4, 6} (across nodes); for dp1.cp4.tp2c the CP group {0, 2, 4, 6}
 * spans the nodes.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"

#define BW0 FX_BW_INSIDE
#define BW1 FX_BW_ACROSS
/* A ring step's merge (cp_comm.c) on the rank's 4 x 8 = 32 tokens at tp
 * 2, mem_bandwidth 1e12: forward 32 x 4 heads x 16 / 2 = 1024 output
 * elements at 2 + 8 B; backward dQ, dK, dV: 32 x (4 + 2 x 4) x 16 / 2 =
 * 3072 elements at 8 B */
#define MERGE_FWD (1024 * 10 / 1e12)
#define MERGE     (MERGE_FWD + 3072 * 8 / 1e12)

static uniap_layer layers[2];
static uniap_model model;
static uniap_cluster cluster;
static uniap_profile prof;

static void test_names(void)
{
    uniap_strategy s;
    CHECK_EQ(uniap_strategy_parse("dp2.cp2.tp2c.zero1.sp", &s), 0);
    CHECK_EQ(s.dp, 2);
    CHECK_EQ(s.cp, 2);
    CHECK_EQ(s.cp_a2a, 0);
    CHECK_EQ(s.tp, 2);
    CHECK_EQ(s.flavour, UNIAP_DP_ZERO1);
    CHECK(strcmp(s.name, "dp2.cp2.tp2c.zero1.sp") == 0);
    CHECK_EQ(uniap_strategy_parse("dp1.cp4u.tp2c", &s), 0);
    CHECK_EQ(s.cp, 4);
    CHECK_EQ(s.cp_a2a, 1);
    CHECK(strcmp(s.name, "dp1.cp4u.tp2c") == 0);
    /* no cp token: cp 1, written as before */
    CHECK_EQ(uniap_strategy_parse("dp4.tp2c.zero3", &s), 0);
    CHECK_EQ(uniap_strategy_cp(&s), 1);
    CHECK_EQ(uniap_strategy_dpcp(&s), 4);
    CHECK(strcmp(s.name, "dp4.tp2c.zero3") == 0);
    /* bad letters and Ulysses at cp 1 are refused naming the token */
    CHECK(uniap_strategy_parse("dp2.cp2x.tp2c", &s) == UNIAP_EINVAL);
    CHECK(strstr(uniap_errmsg(), "cp2x") != NULL);
    CHECK(uniap_strategy_parse("dp2.cp1u.tp2c", &s) == UNIAP_EINVAL);
    CHECK(strstr(uniap_errmsg(), "cp > 1") != NULL);
}

/* The (dp, cp, tp) triples of 8 devices with dp | 8: the ordered
 * factorizations of 8 = 2^3 into three factors, C(3 + 2, 2) = 10; the
 * Ulysses variant doubles those with cp > 1: cp 2 (dp tp = 4: 3 ways),
 * cp 4 (2), cp 8 (1), 6 more: 16. Without cp: the 4 (dp, tp) pairs. */
static void test_enumeration(void)
{
    uniap_cost_options o;
    uniap_strategy *v = NULL;
    int n = 0;
    uniap_cost_options_default(&o);
    o.no_zero = o.no_ckpt = o.no_sp = o.no_strided = 1;
    CHECK_EQ(cm_strategies(8, 8, &o, &v, &n), 0);
    CHECK_EQ(n, 4); /* max_cp 0 unresolved: no cp */
    free(v);
    o.max_cp = 8;
    CHECK_EQ(cm_strategies(8, 8, &o, &v, &n), 0);
    CHECK_EQ(n, 16);
    int cp_ring = 0, cp_u = 0;
    for (int i = 0; i < n; i++) {
        CHECK_EQ(v[i].dp * uniap_strategy_cp(&v[i]) * v[i].tp, 8);
        cp_ring += v[i].cp > 1 && !v[i].cp_a2a;
        cp_u += v[i].cp_a2a;
    }
    CHECK_EQ(cp_ring, 6);
    CHECK_EQ(cp_u, 6);
    free(v);
    o.no_ulysses = 1;
    CHECK_EQ(cm_strategies(8, 8, &o, &v, &n), 0);
    CHECK_EQ(n, 10);
    free(v);
    /* max_tp 2 with max_cp 2: dp 8, 4 (cp2.tp1, tp2), 2 (cp2.tp2) */
    o.max_tp = 2;
    o.max_cp = 2;
    CHECK_EQ(cm_strategies(8, 8, &o, &v, &n), 0);
    CHECK_EQ(n, 4);
    free(v);
}

static void build(void)
{
    fx_tiny_model(layers, &model);
    fx_cluster(&cluster, "test-2x4", 2, 4, 16 * GiB);
    cluster.mem_bandwidth = 1e12;
    fx_easy_profile(&prof, layers, 2, 8);
}

static uniap_costmodel *make(double overlap, int max_cp)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_cost_options_default(&o);
    o.global_batch = 16;
    o.overlap = overlap;
    o.max_cp = max_cp;
    CHECK_EQ(uniap_costmodel_create(&model, &cluster, &prof, &o, &cm), 0);
    return cm;
}

#define row fx_row

static void test_ring(const uniap_costmodel *modelled, const uniap_costmodel *exposed)
{
    double P = (double)uniap_layer_params(&layers[0]);
    cm_row_terms x, y;

    /* dp2.cp2.tp2c: b_l = 8 / 2 = 4 samples of 16 / 2 = 8 tokens each, the
     * profile's figures at micro-batch 4 / 2 = 2 and tp 2: fwd 1 ms x 2 /
     * 2 = 1 ms, bwd 2 ms: compute 3 ms, the same as dp4.tp2c's b_l 2.
     * TP: 2 + 2 all-reduces of 4 x 8 x 64 x 2 = 4096 B inside a node.
     * Ring: cp - 1 = 1 step; the K and V block 2 x 4 x 8 x 4 kv heads x 16
     * x 2 B / tp 2 = 4096 B to the neighbour (rank 0 -> 2, inside a node):
     * 4096 / 1e11 forward, twice the bytes (K, V, dK, dV) backward, each
     * hidden behind the step's attention (half of the core's share of
     * 1 ms, far more). Exposed: the step's merge (MERGE below). */
    row(modelled, 1, 2, 0, "dp2.cp2.tp2c", &x);
    CHECK(x.allowed);
    CHECK_NEAR(x.compute, 3e-3, 1e-12, 0);
    row(modelled, 1, 2, 0, "dp4.tp2c", &y);
    CHECK_NEAR(y.compute, x.compute, 1e-12, 0);
    CHECK_NEAR(x.tp_comm, 4 * 4096 / BW0, 1e-12, 0);
    CHECK_NEAR(x.cp_comm, MERGE, 1e-12, 0);
    CHECK_NEAR(x.cp_hidden, (4096 + 8192) / BW0, 1e-12, 0);
    CHECK_NEAR(x.time, x.compute + x.tp_comm + x.dp_comm + x.cp_comm, 1e-12, 0);
    /* activations: micro-batch 2's 2 x (4000 + 4000) = 16000 B, half of
     * the cp-1 layer dp2.tp2c on a 4-device stage (deg 2), b_l 4:
     * 4 x 8000 = 32000 B; the transient likewise 1000 against 2000 */
    CHECK_NEAR(x.act, 16000, 0, 0);
    row(modelled, 2, 2, 0, "dp2.tp2c", &y);
    CHECK_NEAR(y.act, 32000, 0, 0);
    CHECK_NEAR(x.act, y.act / 2, 0, 0);
    CHECK_NEAR(x.peak, y.peak / 2, 0, 0);
    /* gradient sync: DDP all-reduce of P / 2 x 2 B over the dp x cp = 4
     * ranks {0, 2, 4, 6} (across nodes), hidden behind the 2 ms backward */
    CHECK_NEAR(x.sync_exposed, 0.0, 0, 0);
    CHECK_NEAR(x.sync_hidden, P / BW1, 1e-12, 0);

    /* the same with nothing hidden (--overlap 0): the ring is exposed */
    row(exposed, 1, 2, 0, "dp2.cp2.tp2c", &x);
    CHECK_NEAR(x.cp_comm, (4096 + 8192) / BW0 + MERGE, 1e-12, 0);
    CHECK_NEAR(x.time, 3e-3 + 4 * 4096 / BW0 + (4096 + 8192) / BW0 + MERGE, 1e-12, 0);
    /* full checkpointing repeats the forward's ring step */
    row(exposed, 1, 2, 0, "dp2.cp2.tp2c.ckpt", &x);
    CHECK_NEAR(x.cp_comm, (2 * 4096 + 8192) / BW0 + MERGE + MERGE_FWD, 1e-12, 0);
    /* dp1.cp4.tp2c: b_l 8 of 4 tokens, micro-batch 8 / 4 = 2 again; the
     * block 2 x 8 x 4 x 4 x 16 x 2 / 2 = 4096 B, 3 steps, the CP group
     * {0, 2, 4, 6} across nodes; 3 merges of the same 32 tokens */
    row(exposed, 1, 2, 0, "dp1.cp4.tp2c", &x);
    CHECK_NEAR(x.compute, 3e-3, 1e-12, 0);
    CHECK_NEAR(x.cp_comm, 3 * ((4096 + 8192) / BW1 + MERGE), 1e-12, 0);

    /* states: ZeRO-1 shards the optimizer states over dp x cp = 4:
     * P/2 x (2 + 2) + P/2 x 12 / 4; its step touches 28 B of 1/4 of the
     * shard */
    row(modelled, 1, 2, 0, "dp2.cp2.tp2c.zero1", &x);
    CHECK_NEAR(x.states, P / 2 * 4 + P / 2 * 12 / 4, 1e-9, 0);
    CHECK_NEAR(x.optimizer, P / 2 * 28 / 1e12 / 4, 1e-12, 0);
}

static void test_ulysses(const uniap_costmodel *modelled)
{
    cm_row_terms x;

    /* dp2.cp2u.tp2c: 4 all-to-alls per pass over the CP pair (inside a
     * node) of the rank's q, k, v and output: 4 x 8 tokens x 4 heads x 16
     * x 2 B / tp 2 = 2048 B each (kv heads = heads); forward + backward:
     * 8 x 2048 / 1e11, on the critical path (the modelled overlap hides
     * none of it) */
    row(modelled, 1, 2, 0, "dp2.cp2u.tp2c", &x);
    CHECK(x.allowed);
    CHECK_NEAR(x.cp_comm, 8 * 2048 / BW0, 1e-12, 0);
    CHECK_NEAR(x.cp_hidden, 0.0, 0, 0);
    CHECK_NEAR(x.time, 3e-3 + 4 * 4096 / BW0 + 8 * 2048 / BW0, 1e-12, 0);
    /* cp x tp = 8 does not divide the 4 heads: no Ulysses there; the
     * head layer (no attention) splits its 16 tokens in 4 */
    row(modelled, 1, 2, 0, "dp1.cp4u.tp2c", &x);
    CHECK_EQ(x.allowed, 0);
    row(modelled, 1, 2, 1, "dp1.cp4u.tp2c", &x);
    CHECK_EQ(x.allowed, 1);
    CHECK_NEAR(x.cp_comm, 0.0, 0, 0);
}

/* b_l / cp below one sample: dp4.cp2.tp1 at c 4 (micro-batch 4, b_l 1):
 * micro-batch 0.5 on the line through 1 and 2 of the (proportional)
 * fixture: fwd 0.5 ms, bwd 1 ms. */
static void test_fraction(const uniap_costmodel *modelled)
{
    cm_row_terms x;
    row(modelled, 1, 4, 0, "dp4.cp2.tp1", &x);
    CHECK_NEAR(x.compute, 1.5e-3, 1e-12, 0);
    CHECK_NEAR(x.act, 0.5 * 12000, 1e-9, 0);
}

/* max_cp 0 resolves to seq / 4096 (here 16 tokens: 1), so the table is
 * today's; max_cp 8 adds the cp strategies to the table. */
static void test_auto(void)
{
    uniap_costmodel *cm = make(-1, 0);
    uniap_cost_table t;
    int any = 0;
    CHECK_EQ(uniap_costmodel_table(cm, 1, 2, &t), 0);
    for (int k = 0; k < t.n_strategies; k++)
        any |= uniap_strategy_cp(&t.strategies[k]) > 1;
    CHECK_EQ(any, 0);
    uniap_cost_table_free(&t);
    uniap_costmodel_destroy(cm);
    cm = make(-1, 8);
    CHECK_EQ(uniap_costmodel_table(cm, 1, 2, &t), 0);
    int k = fx_strategy(&t, "dp2.cp2.tp2c.ddp");
    CHECK(uniap_strategy_cp(&t.strategies[k]) == 2);
    uniap_cost_table_free(&t);
    uniap_costmodel_destroy(cm);
}

int main(void)
{
    test_names();
    test_enumeration();
    build();
    uniap_costmodel *modelled = make(-1, 8), *exposed = make(0, 8);
    test_ring(modelled, exposed);
    test_ulysses(modelled);
    test_fraction(modelled);
    test_auto();
    uniap_costmodel_destroy(modelled);
    uniap_costmodel_destroy(exposed);
    uniap_profile_free(&prof);
    return check_report();
}
