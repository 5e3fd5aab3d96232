/*
 * test_memory.c - the memory terms of modern training (issue 12 item 1)
 * against hand-worked values: activation bytes by attention kernel and
 * dropout (Korthikanti et al. 2022's sbh(34 + 5as/h) and its flash and
 * no-dropout forms), selective checkpointing's rows (the scores dropped,
 * rebuilt as a transient, the attention core's share of the forward
 * repeated), model-state bytes by gradient and master precision and
 * optimizer, the optimizer step's traffic, and the tied word-embedding copy
 * on the last stage.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"

/* A decoder of h 64, a 4 (d 16), ffn 256 (GELU), s 16: per token, in
 * bytes at e = 2, tp 1. */
static void block(uniap_layer *l)
{
    memset(l, 0, sizeof(*l));
    l->kind = UNIAP_LAYER_DECODER;
    l->count = 1;
    l->hidden = 64;
    l->heads = l->kv_heads = 4;
    l->head_dim = 16;
    l->ffn = 256;
    l->seq = 16;
}

static void test_activations(void)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(UNIAP_LAYER_DECODER);
    uniap_layer l;
    int64_t repl, shard;

    block(&l);
    /* eager, dropout: repl 4+2+1+2+1 = 10 h = 640; shard QKV 12*16*2 =
     * 384, out-proj input 128, scores a s (2e + 1) = 320, MLP 2*256*2 =
     * 1024: 1856; total 2496 = h (34 + 5 a s / h) = 64 x 39 */
    d->act_per_token(&l, 2, &repl, &shard);
    CHECK_EQ(repl, 640);
    CHECK_EQ(shard, 1856);
    CHECK_EQ(repl + shard, 64 * (34 + 5 * 4 * 16 / 64));
    CHECK_EQ(d->scores(&l, 2), 320);
    /* no dropout: the masks gone (8 h), scores the softmax output only
     * (a s e = 128): 64 x (32 + 2 a s / h) = 2176 */
    l.no_dropout = 1;
    d->act_per_token(&l, 2, &repl, &shard);
    CHECK_EQ(repl, 512);
    CHECK_EQ(shard, 1664);
    CHECK_EQ(repl + shard, 64 * (32 + 2 * 4 * 16 / 64));
    CHECK_EQ(d->scores(&l, 2), 128);
    /* flash, dropout: no score tensor, the fp32 logsumexp per head (4a =
     * 16) and no attention-dropout mask beyond the block's own: repl 640,
     * shard 384 + 128 + 16 + 1024 = 1552; nothing for selective to drop */
    l.no_dropout = 0;
    l.flash_attn = 1;
    d->act_per_token(&l, 2, &repl, &shard);
    CHECK_EQ(repl, 640);
    CHECK_EQ(shard, 1552);
    CHECK_EQ(d->scores(&l, 2), 0);
    /* flash, no dropout: 512 + 1552 - 0 = 64 x 32 + 16 */
    l.no_dropout = 1;
    d->act_per_token(&l, 2, &repl, &shard);
    CHECK_EQ(repl + shard, 64 * 32 + 16);
    /* the attention core: 2 x 2 a d s = 4096 FLOPs per token */
    CHECK_NEAR(d->core_flops(&l), 4.0 * 4 * 16 * 16, 0, 0);
    /* the embedding's dropout mask */
    uniap_layer e = {.kind = UNIAP_LAYER_EMBEDDING, .count = 1, .hidden = 64, .seq = 16};
    uniap__cm_layer_kind(UNIAP_LAYER_EMBEDDING)->act_per_token(&e, 2, &repl, &shard);
    CHECK_EQ(repl, 64);
    e.no_dropout = 1;
    uniap__cm_layer_kind(UNIAP_LAYER_EMBEDDING)->act_per_token(&e, 2, &repl, &shard);
    CHECK_EQ(repl, 0);
}

static void test_states(void)
{
    uniap_layer layers[2];
    uniap_model m;
    double pb, gb, ob;

    fx_tiny_model(layers, &m);
    m.mixed_precision = 1;
    m.param_dtype = UNIAP_DTYPE_BF16;
    cm_state_bytes(&m, &pb, &gb, &ob); /* ZeRO's 2 + 2 + 12 */
    CHECK_NEAR(pb + gb + ob, 16, 0, 0);
    CHECK_NEAR(cm_optimizer_touched(&m), 28, 0, 0);
    m.training.grad_dtype = 1 + UNIAP_DTYPE_FP32; /* fp32 main grads */
    cm_state_bytes(&m, &pb, &gb, &ob);
    CHECK_NEAR(gb, 4, 0, 0);
    CHECK_NEAR(cm_optimizer_touched(&m), 4 + 24 + 2, 0, 0);
    m.training.grad_dtype = 0;
    m.training.master_dtype = 1 + UNIAP_DTYPE_BF16; /* 16-bit master */
    cm_state_bytes(&m, &pb, &gb, &ob);
    CHECK_NEAR(ob, 2 + 8, 0, 0);
    m.training.master_dtype = 0;
    m.training.optimizer = UNIAP_OPTIM_SGD_MOMENTUM; /* master 4 + velocity 4 */
    cm_state_bytes(&m, &pb, &gb, &ob);
    CHECK_NEAR(ob, 8, 0, 0);
    CHECK_NEAR(cm_optimizer_touched(&m), 2 + 16 + 2, 0, 0);
    m.training.optimizer = UNIAP_OPTIM_SGD; /* master only */
    cm_state_bytes(&m, &pb, &gb, &ob);
    CHECK_NEAR(ob, 4, 0, 0);
    m.mixed_precision = 0; /* fp32 SGD: 4 + 4, no state */
    cm_state_bytes(&m, &pb, &gb, &ob);
    CHECK_NEAR(pb + gb + ob, 8, 0, 0);
    CHECK_NEAR(cm_optimizer_touched(&m), 4 + 0 + 8, 0, 0);
}

static void test_tied(void)
{
    uniap_model m;
    const char *json =
        "{\"seq_len\": 16, \"layers\": [{\"type\": \"embedding\", \"hidden\": 64, \"vocab\": 100},"
        "{\"type\": \"decoder\", \"hidden\": 64, \"heads\": 4, \"ffn\": 256},"
        "{\"type\": \"head\", \"hidden\": 64, \"vocab\": 100, \"tied\": true}]}";

    CHECK(uniap_model_parse(json, "tied", &m) == 0);
    CHECK_NEAR(cm_tied_copy_params(&m, &m.runs[2], 1), 0, 0, 0); /* one stage: one copy */
    CHECK_NEAR(cm_tied_copy_params(&m, &m.runs[2], 2), 6400, 0, 0);
    CHECK_NEAR(cm_tied_copy_params(&m, &m.runs[0], 2), 6400, 0, 0); /* syncs it */
    CHECK_NEAR(cm_tied_copy_params(&m, &m.runs[1], 2), 0, 0, 0);
    m.runs[2].tied = 0;
    CHECK_NEAR(cm_tied_copy_params(&m, &m.runs[2], 2), 0, 0, 0);
    uniap_model_free(&m);
}

static int find(const uniap_cost_table *t, const char *name)
{
    for (int k = 0; k < t->n_strategies; k++)
        if (strcmp(t->strategies[k].name, name) == 0)
            return k;
    return -1;
}

/* Selective checkpointing's row against no checkpointing on one device of
 * an analytic profile: act less b s scores, peak plus them, time plus fwd
 * x core / all FLOPs. */
static void test_selective(void)
{
    uniap_layer layers[2];
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;
    uniap_costmodel *cm = NULL;
    uniap_cost_options o;
    uniap_cost_table t;
    int mbs[] = {1, 2, 4};

    fx_tiny_model(layers, &m);
    fx_cluster(&c, "one", 1, 1, 16 * GiB);
    c.peak_flops = 1e14;
    c.mem_bandwidth = 1e12;
    CHECK(uniap_profile_analytic(&m, &c, mbs, 3, &p) == 0);
    uniap_cost_options_default(&o);
    o.global_batch = 4;
    o.ckpt_modes = UNIAP_CKPT_BIT(UNIAP_CKPT_NONE) | UNIAP_CKPT_BIT(UNIAP_CKPT_FULL) |
                   UNIAP_CKPT_BIT(UNIAP_CKPT_SELECTIVE);
    CHECK(uniap_costmodel_create(&m, &c, &p, &o, &cm) == 0);
    CHECK(uniap_costmodel_table(cm, 1, 1, &t) == 0);
    int k0 = find(&t, "dp1.tp1"), ks = find(&t, "dp1.tp1.selckpt"), kf = find(&t, "dp1.tp1.ckpt");
    CHECK(k0 >= 0 && ks >= 0 && kf >= 0);
    if (k0 >= 0 && ks >= 0) {
        const cm_layer_kind *d = uniap__cm_layer_kind(UNIAP_LAYER_DECODER);
        double scores = 4.0 * 16 * (double)d->scores(&layers[0], 2); /* b 4, s 16, bf16 */
        cm_layer_point pt;
        CHECK(cm_layer_at(cm->run_prof[0], 1, 4, NULL, &pt) == 0);
        CHECK_NEAR(t.mem_act[k0] - t.mem_act[ks], scores, 1e-12, 0);
        CHECK_NEAR(t.mem_peak[ks] - t.mem_peak[k0], scores, 1e-12, 0);
        CHECK_NEAR(t.time[ks] - t.time[k0],
                   pt.fwd * d->core_flops(&layers[0]) / d->gemm_flops(&layers[0]), 1e-9, 0);
        CHECK_NEAR(t.mem_states[ks], t.mem_states[k0], 0, 0);
        /* the head has no attention core: selective is no checkpointing */
        size_t h0 = uniap_ct_ix(&t, 0, 2, k0), hs = uniap_ct_ix(&t, 0, 2, ks);
        CHECK_NEAR(t.mem_act[hs], t.mem_act[h0], 0, 0);
        CHECK_NEAR(t.time[hs], t.time[h0], 0, 0);
    }
    uniap_strategy s;
    CHECK(uniap_strategy_parse("dp2.tp1.zero1.selckpt", &s) == 0);
    CHECK_EQ(s.ckpt, UNIAP_CKPT_SELECTIVE);
    uniap_strategy_format(&s);
    CHECK(strcmp(s.name, "dp2.tp1.zero1.selckpt") == 0);
    uniap_cost_table_free(&t);
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&p);
}

int main(void)
{
    test_activations();
    test_states();
    test_tied();
    test_selective();
    return check_report();
}
