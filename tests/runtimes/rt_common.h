/*
 * rt_common.h - what the runtime round-trip tests share (test_megatron.c,
 * test_deepspeed.c, test_torchtitan.c, test_galvatron.c,
 * test_plan_exports.c): the model and cluster they run on, plans made by
 * hand, an export's and a read-back's outcome checked (the two plans'
 * equality layer by layer, and their prices under the analytic cost
 * model: uniap_plan_evaluate's TPI and every stage's memory, compared
 * with ==), a table of plans an export must refuse, and the reading of a
 * runtime's key/flag list. Header-only, static.
 */
#ifndef UNIAP_TESTS_RT_COMMON_H
#define UNIAP_TESTS_RT_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "uniap_costmodel.h"

/* Resolves the built-in model and cluster by name into *m, *cl (the
 * caller frees m); flash: flash attention and no dropout, as the exports'
 * model switches are checked with. */
static inline void rt_setup(const char *model, const char *cluster, int flash, uniap_model *m,
                            uniap_cluster *cl)
{
    CHECK_EQ(uniap_model_resolve(model, m), 0);
    CHECK_EQ(uniap_cluster_resolve(cluster, cl), 0);
    if (!flash)
        return;
    uniap_training tr = m->training;
    tr.attention = UNIAP_ATTN_FLASH;
    tr.no_dropout = 1;
    CHECK_EQ(uniap_model_set_training(m, &tr, "test"), 0);
}

/* A plan of m on c by hand: pp stages split as uniap_plan_split_stages
 * does (blocks per stage, NULL: even), every block on strategy blk, the
 * other layers on edge; global batch B in c micro-batches. */
static inline int rt_plan(const uniap_model *m, const uniap_cluster *cl, int pp, const int *blocks,
                          const char *blk, const char *edge, int64_t B, int c, uniap_schedule sched,
                          uniap_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->stage_of = calloc((size_t)m->n_layers, sizeof(int));
    p->strategy_of = calloc((size_t)m->n_layers, sizeof(uniap_strategy));
    snprintf(p->model, sizeof p->model, "%s", m->name);
    snprintf(p->cluster, sizeof p->cluster, "%s", cl->name);
    p->n_layers = m->n_layers;
    p->deg = pp;
    p->global_batch = B;
    p->micro_batches = c;
    p->micro_batch = (int)(B / c);
    p->schedule = sched;
    if (uniap_plan_split_stages(m, pp, blocks, p->stage_of) < 0)
        return -1;
    for (int u = 0; u < m->n_layers; u++) {
        int is_blk = u > 0 && u < m->n_layers - 1; /* embedding, blocks, head */
        if (uniap_strategy_parse(is_blk ? blk : edge, &p->strategy_of[u]) < 0)
            return -1;
    }
    return 0;
}

/* The read plan b is a: stages, strategies, batches, schedule. */
static inline void rt_same_plan(const uniap_plan *a, const uniap_plan *b)
{
    CHECK_EQ(a->deg, b->deg);
    CHECK_EQ(a->n_layers, b->n_layers);
    CHECK_EQ(a->micro_batches, b->micro_batches);
    CHECK_EQ(a->micro_batch, b->micro_batch);
    CHECK_EQ(a->global_batch, b->global_batch);
    CHECK_EQ(a->schedule, b->schedule);
    for (int u = 0; u < a->n_layers && u < b->n_layers; u++) {
        CHECK_EQ(a->stage_of[u], b->stage_of[u]);
        if (strcmp(a->strategy_of[u].name, b->strategy_of[u].name) != 0) {
            fprintf(stderr, "layer %d: %s, read back as %s\n", u, a->strategy_of[u].name,
                    b->strategy_of[u].name);
            CHECK(0);
        }
    }
}

/* Every moe layer of m runs ep in p, every other layer ep 1 (the one
 * expert-parallel degree a runtime passes for the whole model). */
static inline void rt_moe_ep(const uniap_model *m, const uniap_plan *p, int ep)
{
    CHECK_EQ(p->n_layers, m->n_layers);
    for (int u = 0; u < p->n_layers && u < m->n_layers; u++) {
        int want = m->runs[uniap_model_run_of(m, u)].experts > 0 ? ep : 1;
        if (uniap_strategy_ep(&p->strategy_of[u]) != want) {
            fprintf(stderr, "layer %d: %s, expected ep %d\n", u, p->strategy_of[u].name, want);
            CHECK(0);
        }
    }
}

/* Evaluates p under the analytic cost model of m on cl: TPI and each
 * stage's memory into mem[deg]. */
static inline double rt_price(const uniap_model *m, const uniap_cluster *cl, const uniap_plan *p,
                              double *mem)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_profile prof;
    uniap_cost_table t;
    uniap_plan_eval e;
    int mbs[] = {1, 2, 4, 8, 16, 32}, idx[512];
    double tpi = -1;
    uniap_profile_init(&prof);
    CHECK_EQ(uniap_profile_analytic(m, cl, mbs, 6, &prof), 0);
    uniap_cost_options_default(&o);
    o.global_batch = p->global_batch;
    o.schedule = p->schedule;
    for (int u = 0; u < p->n_layers; u++) /* the plan's cp degrees in the table */
        if (uniap_strategy_cp(&p->strategy_of[u]) > o.max_cp)
            o.max_cp = uniap_strategy_cp(&p->strategy_of[u]);
    o.ckpt_modes = UNIAP_CKPT_BIT(UNIAP_CKPT_NONE) | UNIAP_CKPT_BIT(UNIAP_CKPT_FULL) |
                   UNIAP_CKPT_BIT(UNIAP_CKPT_SELECTIVE);
    CHECK_EQ(uniap_costmodel_create(m, cl, &prof, &o, &cm), 0);
    if (cm && uniap_costmodel_table(cm, p->deg, p->micro_batches, &t) == 0) {
        CHECK_EQ(uniap_plan_strategy_indices(p, &t, idx), 0);
        if (uniap_plan_evaluate(&t, p->schedule, p->stage_of, idx, &e) == 0) {
            tpi = e.tpi;
            for (int i = 0; i < e.deg; i++)
                mem[i] = e.stage_mem[i];
            uniap_plan_eval_free(&e);
        } else {
            fprintf(stderr, "evaluate: %s\n", uniap_errmsg());
            CHECK(0);
        }
        uniap_cost_table_free(&t);
    } else {
        fprintf(stderr, "table: %s\n", uniap_errmsg());
        CHECK(0);
    }
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&prof);
    return tpi;
}

/* a and b cost the same to the last bit: TPI and every stage's memory. */
static inline void rt_same_price(const uniap_model *m, const uniap_cluster *cl, const uniap_plan *a,
                                 const uniap_plan *b)
{
    double ma[64] = {0}, mb[64] = {0};
    double ta = rt_price(m, cl, a, ma), tb = rt_price(m, cl, b, mb);
    CHECK(ta > 0);
    CHECK(ta == tb);
    for (int i = 0; i < a->deg && i < 64; i++)
        CHECK(ma[i] == mb[i] && ma[i] > 0);
}

/* 1 when an export returned 0 (rc); else the message, a failed check and
 * 0. */
static inline int rt_exported(int rc)
{
    if (rc == 0)
        return 1;
    fprintf(stderr, "export: %s\n", uniap_errmsg());
    CHECK(0);
    return 0;
}

/* The read-back of p's export returned rc into *b: with 0, b is p
 * (rt_same_plan) at p's price (rt_same_price) and is freed; else the
 * message and the exported texts (more may be NULL) and a failed check. */
static inline void rt_read_back(int rc, const uniap_model *m, const uniap_cluster *cl,
                                const uniap_plan *p, uniap_plan *b, const char *text,
                                const char *more)
{
    if (rc != 0) {
        fprintf(stderr, "import: %s\n%s%s", uniap_errmsg(), text, more ? more : "");
        CHECK(0);
        return;
    }
    rt_same_plan(p, b);
    rt_same_price(m, cl, p, b);
    uniap_plan_free(b);
}

/* A plan a runtime's export must refuse (rt_plan's pp, split, blk, edge
 * and schedule; global batch 64 in 4 micro-batches), and what its message
 * says. */
typedef struct rt_refusal {
    int pp;
    const int *split;
    const char *blk, *edge, *msg;
    uniap_schedule sched;
} rt_refusal;

/* Makes each plan of no[n] and hands it to refused(m, plan, msg), the
 * test's check of its runtime's refusal. */
static inline void
rt_refusals(const uniap_model *m, const uniap_cluster *cl, const rt_refusal *no, size_t n,
            void (*refused)(const uniap_model *m, const uniap_plan *p, const char *msg))
{
    uniap_plan p;
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(
            rt_plan(m, cl, no[i].pp, no[i].split, no[i].blk, no[i].edge, 64, 4, no[i].sched, &p),
            0);
        refused(m, &p, no[i].msg);
        uniap_plan_free(&p);
    }
}

/* The lines of a list file whose first word is kind: their second and
 * third words into name[][96], type[][16]; returns the count (-1: no
 * file). */
static inline int rt_load_list(const char *path, const char *kind, char (*name)[96],
                               char (*type)[16], int max)
{
    FILE *f = fopen(path, "r");
    char line[512], k[32];
    int n = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f) && n < max)
        if (line[0] != '#' && sscanf(line, "%31s %95s %15s", k, name[n], type[n]) == 3 &&
            !strcmp(k, kind))
            n++;
    fclose(f);
    return n;
}

/* The index of s in name[0..n-1], or -1. */
static inline int rt_find(char (*name)[96], int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(name[i], s))
            return i;
    return -1;
}

#endif /* UNIAP_TESTS_RT_COMMON_H */
