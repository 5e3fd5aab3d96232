/*
 * test_moe_spaces.c - expert parallelism in the runtimes' search spaces
 * (runtime_torchtitan.c, runtime_deepspeed.c, runtime.c add_variant): on
 * the analytic cost table of Mixtral-8x7B (the zoo: an embedding, 32 moe
 * blocks, a head) on 2 x 8 A100s, pp 1, the space of torchtitan
 * (expert_parallel_degree) and of DeepSpeed (DeepSpeed-MoE's ep_size) holds
 * a plan with one ep on every moe block and ep 1 on the embedding and head,
 * in a variant labelled with that ep, and no plan with two eps on the moe
 * blocks (both runtimes pass one degree for the whole model; ep on a layer
 * without experts the table itself never offers); DeepSpeed's holds no ZeRO-3 plan with experts
 * ("Native DeepSpeed MoE is not supported with ZeRO Stage 3",
 * runtime/engine.py) though the table offers it, while its ZeRO-3 plans of
 * Llama-7B stay in. Megatron-LM's (--expert-model-parallel-size) holds
 * the one-ep plans with the distributed optimizer, as torchtitan's and
 * DeepSpeed's, and no plan of two eps.
 */
#include "rt_common.h"

/* The cost table of m on cl at pp 1 in 4 micro-batches of a global batch
 * of 64 (analytic profile, every recomputation mode). */
static int table_of(const uniap_model *m, const uniap_cluster *cl, uniap_cost_table *t)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_profile prof;
    int mbs[] = {1, 2, 4, 8, 16}, rc;
    uniap_profile_init(&prof);
    CHECK_EQ(uniap_profile_analytic(m, cl, mbs, 5, &prof), 0);
    uniap_cost_options_default(&o);
    o.global_batch = 64;
    o.schedule = UNIAP_SCHED_1F1B;
    o.ckpt_modes = UNIAP_CKPT_BIT(UNIAP_CKPT_NONE) | UNIAP_CKPT_BIT(UNIAP_CKPT_FULL);
    if ((rc = uniap_costmodel_create(m, cl, &prof, &o, &cm)) == 0)
        rc = uniap_costmodel_table(cm, 1, 4, t);
    if (rc != 0)
        fprintf(stderr, "table: %s\n", uniap_errmsg());
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&prof);
    return rc;
}

/* The label of the first variant of s holding the plan of blocks on blk
 * and the other layers on edge, with layer `odd` (0: none) on odd_s
 * instead; NULL when none holds it. */
static const char *held(const uniap_space *s, const uniap_model *m, const uniap_cluster *cl,
                        const uniap_cost_table *t, const char *blk, const char *edge, int odd,
                        const char *odd_s)
{
    uniap_plan p;
    int idx[64];
    const char *label = NULL;
    CHECK_EQ(rt_plan(m, cl, 1, NULL, blk, edge, 64, 4, UNIAP_SCHED_1F1B, &p), 0);
    if (odd)
        CHECK_EQ(uniap_strategy_parse(odd_s, &p.strategy_of[odd]), 0);
    if (uniap_plan_strategy_indices(&p, t, idx) != 0) {
        fprintf(stderr, "%s / %s: %s\n", blk, edge, uniap_errmsg());
        CHECK(0);
    } else
        for (int v = 0; v < s->n_variants && !label; v++)
            if (uniap_space_check(s, v, t, p.stage_of, idx, NULL, 0))
                label = s->v[v].label;
    uniap_plan_free(&p);
    return label;
}

/* The space of runtime name on t. */
static void space_of(const char *name, const uniap_model *m, const uniap_cost_table *t,
                     uniap_space *s)
{
    uniap_runtime r;
    int role[64];
    double params[64];
    CHECK(m->n_layers <= 64);
    CHECK_EQ(uniap_runtime_parse(name, &r), 0);
    uniap_runtime_roles(m, role, params);
    CHECK_EQ(
        uniap_runtime_space(r, role, params, uniap_runtime_model_flags(m), UNIAP_SCHED_1F1B, t, s),
        0);
}

/* rt's space on Mixtral: ep 4 on the moe blocks held (its variant says
 * ep4), ep 1 everywhere held, two eps not;
 * flavour is the DP flavour both use (torchtitan: FSDP, "zero3"). */
static void one_runtime(const char *rt, const char *flavour, const uniap_model *m,
                        const uniap_cluster *cl, const uniap_cost_table *t)
{
    uniap_space s;
    char ep4[64], ep2[64], none[64];
    snprintf(ep4, sizeof ep4, "dp8.ep4.tp2c.%s.sp", flavour);
    snprintf(ep2, sizeof ep2, "dp8.ep2.tp2c.%s.sp", flavour);
    snprintf(none, sizeof none, "dp8.tp2c.%s.sp", flavour);
    space_of(rt, m, t, &s);
    const char *l = held(&s, m, cl, t, ep4, none, 0, NULL);
    CHECK(l != NULL);
    if (l) {
        printf("%s: ep 4 on the moe blocks in variant \"%s\"\n", rt, l);
        CHECK(strstr(l, " ep4") != NULL);
    }
    CHECK(held(&s, m, cl, t, none, none, 0, NULL) != NULL);
    CHECK(held(&s, m, cl, t, ep4, none, 7, ep2) == NULL); /* block 7 on ep 2 */
    uniap_space_free(&s);
}

int main(void)
{
    uniap_model m, l;
    uniap_cluster cl;
    uniap_cost_table t, tl;
    uniap_space s;
    rt_setup("mixtral-8x7b", "a100-80g-2x8", 1, &m, &cl);
    if (table_of(&m, &cl, &t) != 0)
        return check_report();
    one_runtime("torchtitan", "zero3", &m, &cl, &t);
    one_runtime("deepspeed", "zero1", &m, &cl, &t);
    /* the table offers ZeRO-3 with ep; DeepSpeed-MoE does not run it */
    space_of("deepspeed", &m, &t, &s);
    CHECK(held(&s, &m, &cl, &t, "dp8.ep4.tp2c.zero3.sp", "dp8.tp2c.zero3.sp", 0, NULL) == NULL);
    CHECK(held(&s, &m, &cl, &t, "dp8.tp2c.zero3.sp", "dp8.tp2c.zero3.sp", 0, NULL) == NULL);
    uniap_space_free(&s);
    one_runtime("megatron", "zero1", &m, &cl, &t);
    uniap_cost_table_free(&t);
    /* without experts, DeepSpeed's ZeRO-3 stays */
    rt_setup("llama-7b", "a100-80g-2x8", 1, &l, &cl);
    if (table_of(&l, &cl, &tl) == 0) {
        space_of("deepspeed", &l, &tl, &s);
        CHECK(held(&s, &l, &cl, &tl, "dp8.tp2c.zero3.sp", "dp8.tp2c.zero3.sp", 0, NULL) != NULL);
        uniap_space_free(&s);
        uniap_cost_table_free(&tl);
    }
    uniap_model_free(&l);
    uniap_model_free(&m);
    return check_report();
}
