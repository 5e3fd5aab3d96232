/*
 * test_ep.c - expert parallelism (issue 15 item 3): the ep dimension's
 * names, parsing and enumeration, which layers take it, and each ep term
 * of a table row against hand-worked values (moe_comm.c) on a tiny moe
 * model: 2 moe blocks (hidden 64, 4 heads of 16, 4 GELU experts of ffn 64,
 * top-2, seq 16, no bias, LayerNorm) + a head (vocab 100), bf16 with mixed
 * precision (16 B of states per parameter under DDP: 2 + 2 + 12), on one
 * node of 4 devices, with the easy profile (cm_fixture.h: fwd 1 ms x mb /
 * tp, bwd 2 ms x mb / tp; every collective bytes / 1e11 B/s inside a
 * node). Global batch 8, deg 1, c 1: micro-batch 8 on all 4 devices.
 *
 * The moe block's parameters by hand: attention 4 x 64 x 64 = 16,384;
 * router 64 x 4 = 256; an expert 2 x 64 x 64 = 8,192, four 32,768 (the
 * routed part); two LayerNorms 256: 49,664 in all, 16,896 besides the
 * routed experts.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"

#define BW0    FX_BW_INSIDE
#define P_ALL  49664.0
#define P_RTD  32768.0
#define P_DENS (P_ALL - P_RTD)

static uniap_layer layers[2];
static uniap_model model;
static uniap_cluster cluster;
static uniap_profile prof;

static void build(void)
{
    fx_tiny_model(layers, &model); /* its decoder blocks made moe blocks */
    layers[0].kind = UNIAP_LAYER_MOE;
    layers[0].ffn = 64;
    layers[0].experts = 4;
    layers[0].top_k = 2;
    fx_cluster(&cluster, "test-1x4", 1, 4, 16 * GiB);
    cluster.mem_bandwidth = 1e12;
    fx_easy_profile(&prof, layers, 2, 8);
}

static void test_names(void)
{
    uniap_strategy s;
    CHECK_EQ(uniap_strategy_parse("dp8.ep4.tp1.ddp", &s), 0);
    CHECK_EQ(s.dp, 8);
    CHECK_EQ(s.ep, 4);
    CHECK_EQ(s.tp, 1);
    CHECK(strcmp(s.name, "dp8.ep4.tp1.ddp") == 0);
    CHECK_EQ(uniap_strategy_parse("dp4.cp2u.ep2.tp2c.zero1.sp", &s), 0);
    CHECK_EQ(s.ep, 2);
    CHECK_EQ(s.cp, 2);
    CHECK(strcmp(s.name, "dp4.cp2u.ep2.tp2c.zero1.sp") == 0);
    /* no ep token: ep 1, written as before */
    CHECK_EQ(uniap_strategy_parse("dp4.tp2c.zero3", &s), 0);
    CHECK_EQ(uniap_strategy_ep(&s), 1);
    /* ep must divide dp; a bad token is named */
    CHECK(uniap_strategy_parse("dp4.ep3.tp1", &s) == UNIAP_EINVAL);
    CHECK(strstr(uniap_errmsg(), "ep3 needs ep to divide dp (4)") != NULL);
    CHECK(uniap_strategy_parse("dp4.epx.tp1", &s) == UNIAP_EINVAL);
    CHECK(strstr(uniap_errmsg(), "epx") != NULL);
}

/* (dp, tp) of 4 devices: (4, 1), (2, 2), (1, 4); ep over the divisors of
 * dp up to max_ep: dp 4 takes ep 1, 2, 4 and dp 2 ep 1, 2: 3 + 2 + 1 = 6
 * with max_ep 4, 5 with max_ep 2 (dp4.ep4 gone), 3 with max_ep 1. */
static void test_enumeration(void)
{
    uniap_cost_options o;
    uniap_strategy *v = NULL;
    int n = 0;
    uniap_cost_options_default(&o);
    o.no_zero = o.no_ckpt = o.no_sp = o.no_strided = 1;
    CHECK_EQ(cm_strategies(4, 8, &o, &v, &n), 0);
    CHECK_EQ(n, 3); /* max_ep 0 unresolved: no ep */
    free(v);
    o.max_ep = 4;
    CHECK_EQ(cm_strategies(4, 8, &o, &v, &n), 0);
    CHECK_EQ(n, 6);
    for (int i = 0; i < n; i++)
        CHECK_EQ(v[i].dp % uniap_strategy_ep(&v[i]), 0);
    free(v);
    o.max_ep = 2;
    CHECK_EQ(cm_strategies(4, 8, &o, &v, &n), 0);
    CHECK_EQ(n, 5);
    free(v);
}

static uniap_costmodel *make(double imbalance, int max_ep)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_cost_options_default(&o);
    o.global_batch = 8;
    o.moe_imbalance = imbalance;
    o.max_ep = max_ep;
    int rc = uniap_costmodel_create(&model, &cluster, &prof, &o, &cm);
    CHECK_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "%s\n", uniap_errmsg());
    return cm;
}

/* deg 1, c 1: micro-batch 8 on the 4 devices */
static void row(const uniap_costmodel *cm, int r, const char *name, cm_row_terms *out)
{
    fx_row(cm, 1, 1, r, name, out);
}

static void test_layers(void)
{
    uniap_strategy s;
    CHECK_EQ(uniap_strategy_parse("dp4.ep2.tp1", &s), 0);
    CHECK(cm_layer_ep_ok(&layers[0], &s));
    CHECK(!cm_layer_ep_ok(&layers[1], &s)); /* the head has no experts */
    CHECK_EQ(uniap_strategy_parse("dp4.ep4.tp1", &s), 0);
    CHECK(cm_layer_ep_ok(&layers[0], &s));
    uniap_layer three = layers[0];
    three.experts = 6; /* 6 experts do not split over 4 ranks */
    CHECK(!cm_layer_ep_ok(&three, &s));
    CHECK_NEAR(cm_moe_routed_params(&layers[0]), P_RTD, 0, 0);
    CHECK_NEAR(cm_moe_routed_params(&layers[1]), 0, 0, 0);
    /* the auto limit: the largest expert count (4); the head under ep
     * is not allowed in a table */
    uniap_costmodel *cm = make(0, 0);
    cm_row_terms x;
    row(cm, 1, "dp4.ep2.tp1", &x);
    CHECK(!x.allowed);
    row(cm, 0, "dp4.ep2.tp1", &x);
    CHECK(x.allowed);
    uniap_costmodel_destroy(cm);
}

static void test_terms(void)
{
    uniap_costmodel *cm = make(0, 4), *skew = make(1.5, 4);
    cm_row_terms x, y;

    /* dp4.ep2.tp1: b_l = 8 / 4 = 2 samples of 16 tokens, 32 tokens a rank;
     * each all-to-all sends 32 x top-2 x 64 x 2 B = 8192 B over the ep
     * pair (ranks {0, 1}, inside the node): 8192 / 1e11 each, 2 forward
     * (dispatch, combine) + 2 backward */
    uniap_strategy s;
    CHECK_EQ(uniap_strategy_parse("dp4.ep2.tp1", &s), 0);
    CHECK_NEAR(cm_moe_a2a_bytes(cm, &layers[0], &s, 2.0), 8192, 0, 0);
    row(cm, 0, "dp4.ep2.tp1", &x);
    row(cm, 0, "dp4.tp1", &y);
    CHECK_NEAR(x.ep_comm, 4 * 8192 / BW0, 1e-12, 0);
    CHECK_NEAR(y.ep_comm, 0, 0, 0);
    /* balanced routing: the compute of ep 1 (fwd 2 ms + bwd 4 ms at mb 2) */
    CHECK_NEAR(x.compute, 6e-3, 1e-12, 0);
    CHECK_NEAR(y.compute, 6e-3, 1e-12, 0);
    CHECK_NEAR(x.time, x.compute + x.tp_comm + x.dp_comm + x.ep_comm, 1e-12, 0);
    /* full checkpointing repeats the forward's two */
    row(cm, 0, "dp4.ep2.tp1.ckpt", &x);
    CHECK_NEAR(x.ep_comm, 6 * 8192 / BW0, 1e-12, 0);
    /* ep 4: the group {0, 1, 2, 3}, the same bytes */
    row(cm, 0, "dp4.ep4.tp1", &x);
    CHECK_NEAR(x.ep_comm, 4 * 8192 / BW0, 1e-12, 0);

    /* --moe-imbalance 1.5: the slowest rank sends 1.5 x 8192 = 12288 B and
     * computes 0.5 more of the routed experts' share of the FLOPs. Per
     * token: QKV 2 x 64 x 192 = 24,576, core 2 x 2 x 4 x 16 x 16 = 4,096,
     * output 8,192, two experts 2 x 16,384, router 2 x 64 x 4 = 512:
     * 70,144, of which the routed experts 32,768 */
    row(skew, 0, "dp4.ep2.tp1", &x);
    CHECK_NEAR(x.ep_comm, 4 * 12288 / BW0, 1e-12, 0);
    CHECK_NEAR(x.compute, 6e-3 * (1 + 0.5 * 32768.0 / 70144.0), 1e-12, 0);
    /* at ep 1 every rank computes its own tokens: no slowest rank */
    row(skew, 0, "dp4.tp1", &x);
    CHECK_NEAR(x.compute, 6e-3, 1e-12, 0);
    uniap_costmodel_destroy(skew);

    /* a capacity factor 1.25 caps the 1.5: 1.25 x 8192 = 10240 B */
    layers[0].capacity_factor = 1.25;
    fx_add_layer_rows(&prof, layers, 1, 8, NULL, NULL); /* a signature of its own */
    skew = make(1.5, 4);
    row(skew, 0, "dp4.ep2.tp1", &x);
    CHECK_NEAR(x.ep_comm, 4 * 10240 / BW0, 1e-12, 0);
    CHECK_NEAR(x.compute, 6e-3 * (1 + 0.25 * 32768.0 / 70144.0), 1e-12, 0);
    uniap_costmodel_destroy(skew);
    layers[0].capacity_factor = 0;

    /* states per rank: DDP 16 B a parameter, ep 1 the whole layer; ep 2
     * the 16,896 others and 2 of the 4 experts (16,384) */
    row(cm, 0, "dp4.tp1", &y);
    CHECK_NEAR(y.states, P_ALL * 16, 1e-12, 0);
    row(cm, 0, "dp4.ep2.tp1", &x);
    CHECK_NEAR(x.states, P_DENS * 16 + P_RTD / 2 * 16, 1e-12, 0);
    row(cm, 0, "dp4.ep4.tp1", &x);
    CHECK_NEAR(x.states, P_DENS * 16 + P_RTD / 4 * 16, 1e-12, 0);
    /* ZeRO-1: the others' optimizer states over dp 4, the experts' over
     * the expert data-parallel group of dp / ep = 2 */
    row(cm, 0, "dp4.ep2.tp1.zero1", &x);
    CHECK_NEAR(x.states, P_DENS * (4 + 12.0 / 4) + P_RTD / 2 * (4 + 12.0 / 2), 1e-12, 0);
    /* its step: 28 B of each part's shard at 1e12 B/s */
    CHECK_NEAR(x.optimizer, (P_DENS / 4 + P_RTD / 2 / 2) * 28 / 1e12, 1e-12, 0);
    /* ep 4 = dp: one rank per expert group, nothing to shard the experts
     * over (their states whole, no gradient reduction) */
    row(cm, 0, "dp4.ep4.tp1.zero1", &x);
    CHECK_NEAR(x.states, P_DENS * (4 + 12.0 / 4) + P_RTD / 4 * 16, 1e-12, 0);

    /* gradient sync (DDP, hidden behind the 4 ms backward): the others'
     * all-reduce of 16,896 x 2 B over 4 ranks, the experts' of 16,384 x
     * 2 B over the expert pair {0, 2}; ep 1: 49,664 x 2 B over 4 */
    row(cm, 0, "dp4.ep2.tp1", &x);
    CHECK_NEAR(x.sync_exposed, 0, 0, 0);
    CHECK_NEAR(x.sync_hidden, (P_DENS * 2 + P_RTD / 2 * 2) / BW0, 1e-12, 0);
    row(cm, 0, "dp4.tp1", &y);
    CHECK_NEAR(y.sync_hidden, P_ALL * 2 / BW0, 1e-12, 0);
    /* ep 4: the experts' group is one rank, only the others' sync */
    row(cm, 0, "dp4.ep4.tp1", &x);
    CHECK_NEAR(x.sync_hidden, P_DENS * 2 / BW0, 1e-12, 0);
    uniap_costmodel_destroy(cm);
}

/* The moe kind's analytic figures: parameters and FLOPs per token as
 * above; activations per token top_k expert MLPs + the permuted inputs +
 * the router's logits and probabilities (layer_kinds.c's moe_act). */
static void test_analytic(void)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(UNIAP_LAYER_MOE);
    CHECK(d->gemm_flops != NULL);
    CHECK_NEAR(d->gemm_flops(&layers[0]), 70144, 0, 0);
    CHECK_EQ(uniap_layer_params(&layers[0]), (int64_t)P_ALL);
    /* active: attention 16,384 + router 256 + 2 experts 16,384 + norms 256 */
    CHECK_EQ(uniap_layer_active_params(&layers[0]), 33280);
    int64_t repl = 0, shard = 0, drepl = 0, dshard = 0;
    uniap_layer dec = layers[0];
    dec.kind = UNIAP_LAYER_DECODER;
    d->act_per_token(&layers[0], 2, &repl, &shard);
    uniap__cm_layer_kind(UNIAP_LAYER_DECODER)->act_per_token(&dec, 2, &drepl, &dshard);
    /* one more expert MLP (GELU: f e + f e = 256 B) sharded; replicated:
     * 2 permuted inputs (2 x 64 x 2) and the router's 2 x 4 x 2 */
    CHECK_EQ(shard - dshard, 256);
    CHECK_EQ(repl - drepl, 2 * 64 * 2 + 2 * 4 * 2);
}

int main(void)
{
    build();
    test_names();
    test_enumeration();
    test_layers();
    test_terms();
    test_analytic();
    uniap_profile_free(&prof);
    return check_report();
}
