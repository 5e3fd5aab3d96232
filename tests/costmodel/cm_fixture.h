/*
 * cm_fixture.h - the hand-built inputs the cost-model tests share, written
 * once (header only: each test is one program):
 *   - the tiny model: 2 decoder blocks (hidden 64, 4 heads of 16, ffn 256,
 *     seq 16) + a head (vocab 100), bf16 with mixed precision;
 *   - a cluster of nodes x devices_per_node devices (other figures 0);
 *   - the easy profile figures: layer fwd = 1 ms x mb / tp, bwd = 2 ms x
 *     mb / tp, act_bytes = mb x (4000 + 8000 / tp), peak_bytes = 500 mb;
 *     every collective at groups 2, 4, 8, inside and across nodes, 1 KiB
 *     to 1 GiB by factors of 4, time = bytes / (1e11 B/s inside a node,
 *     1e10 B/s across nodes);
 *   - lookups of a profile's layer and collective rows, of a table's
 *     strategy and of a row's terms.
 * Needs check.h and cm_internal.h (GiB, cm_layer_tp_ok) included first.
 */
#ifndef UNIAP_TEST_CM_FIXTURE_H
#define UNIAP_TEST_CM_FIXTURE_H

#include <stdio.h>
#include <string.h>

#define FX_BW_INSIDE 1e11 /* collective bandwidth inside a node, B/s */
#define FX_BW_ACROSS 1e10 /* ... across nodes */

/* The model header over runs[0..n_runs) (not copied): bf16, mixed
 * precision, n_layers the sum of the runs' counts. */
static inline void fx_model(uniap_model *m, const char *name, uniap_layer *runs, int n_runs,
                            int64_t seq_len)
{
    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "%s", name);
    m->param_dtype = m->act_dtype = UNIAP_DTYPE_BF16;
    m->mixed_precision = 1;
    m->seq_len = seq_len;
    m->n_runs = n_runs;
    m->runs = runs;
    for (int r = 0; r < n_runs; r++)
        m->n_layers += runs[r].count;
}

/* The tiny model over layers[2] (see the top of this file). */
static inline void fx_tiny_model(uniap_layer layers[2], uniap_model *m)
{
    memset(layers, 0, 2 * sizeof(*layers));
    layers[0].kind = UNIAP_LAYER_DECODER;
    layers[0].count = 2;
    layers[0].hidden = 64;
    layers[0].heads = layers[0].kv_heads = 4;
    layers[0].head_dim = 16;
    layers[0].ffn = 256;
    layers[0].seq = 16;
    layers[1].kind = UNIAP_LAYER_HEAD;
    layers[1].count = 1;
    layers[1].hidden = 64;
    layers[1].seq = 16;
    layers[1].vocab = 100;
    fx_model(m, "tiny", layers, 2, 16);
}

/* A cluster of nodes x per_node devices of mem bytes; other figures 0. */
static inline void fx_cluster(uniap_cluster *c, const char *name, int nodes, int per_node,
                              int64_t mem)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->nodes = nodes;
    c->devices_per_node = per_node;
    c->device_memory = mem;
}

/* Adds layer rows with the easy figures for run r of layers at every tp
 * 1, 2, 4, 8 the layer allows and micro-batch 1, 2, 4 ... max_mb, except
 * where skip(r, tp, ctx) is nonzero (skip NULL: none). */
static inline void fx_add_layer_rows(uniap_profile *p, const uniap_layer *layers, int n_runs,
                                     int max_mb, int (*skip)(int r, int tp, void *ctx), void *ctx)
{
    for (int r = 0; r < n_runs; r++)
        for (int tp = 1; tp <= 8; tp *= 2) {
            if (!cm_layer_tp_ok(&layers[r], tp) || (skip && skip(r, tp, ctx)))
                continue;
            for (int mb = 1; mb <= max_mb; mb *= 2) {
                uniap_layer_prof row;
                memset(&row, 0, sizeof(row));
                uniap_layer_signature(&layers[r], row.layer_type, sizeof(row.layer_type));
                row.tp = tp;
                row.micro_batch = mb;
                row.rank = -1;
                row.fwd.median = 1e-3 * mb / tp;
                row.bwd.median = 2e-3 * mb / tp;
                row.act_bytes = (int64_t)mb * (4000 + 8000 / tp);
                row.peak_bytes = 500 * mb;
                uniap_profile_add_layer(p, &row);
            }
        }
}

/* Adds the collective rows with the easy figures (see the top), except
 * where skip(op, group, spans, ctx) is nonzero (skip NULL: none). */
static inline void fx_add_coll_rows(uniap_profile *p, int (*skip)(int op, int g, int s, void *ctx),
                                    void *ctx)
{
    for (int op = 0; op < UNIAP_COLL_COUNT; op++)
        for (int g = 2; g <= 8; g *= 2)
            for (int s = 0; s < 2; s++) {
                if (skip && skip(op, g, s, ctx))
                    continue;
                for (int64_t b = 1024; b <= GiB; b *= 4) {
                    uniap_coll_prof c;
                    memset(&c, 0, sizeof(c));
                    c.op = (uniap_coll_op)op;
                    c.group_size = g;
                    c.spans_nodes = s;
                    c.bytes = b;
                    c.time.median = (double)b / (s ? FX_BW_ACROSS : FX_BW_INSIDE);
                    uniap_profile_add_coll(p, &c);
                }
            }
}

/* p initialised as a "measured" profile (overlap coefficient 1) with the
 * easy layer rows of runs[0..n_runs) up to micro-batch max_mb and every
 * collective row. */
static inline void fx_easy_profile(uniap_profile *p, const uniap_layer *runs, int n_runs,
                                   int max_mb)
{
    memset(p, 0, sizeof(*p));
    uniap_profile_init(p);
    snprintf(p->provenance, sizeof(p->provenance), "measured");
    p->overlap_coeff = 1.0;
    fx_add_layer_rows(p, runs, n_runs, max_mb, NULL, NULL);
    fx_add_coll_rows(p, NULL, NULL);
}

/* The profile's layer row of signature sig at tp and micro-batch mb, or
 * NULL. */
static inline const uniap_layer_prof *fx_layer_row(const uniap_profile *p, const char *sig, int tp,
                                                   int mb)
{
    for (int i = 0; i < p->n_layers; i++)
        if (strcmp(p->layers[i].layer_type, sig) == 0 && p->layers[i].tp == tp &&
            p->layers[i].micro_batch == mb)
            return &p->layers[i];
    return NULL;
}

/* The profile's collective row of op over g ranks (spanning nodes or not)
 * at bytes, or NULL. */
static inline const uniap_coll_prof *fx_coll_row(const uniap_profile *p, uniap_coll_op op, int g,
                                                 int spans, int64_t bytes)
{
    for (int i = 0; i < p->n_colls; i++)
        if (p->colls[i].op == op && p->colls[i].group_size == g &&
            p->colls[i].spans_nodes == spans && p->colls[i].bytes == bytes)
            return &p->colls[i];
    return NULL;
}

/* The row terms of run r under the strategy named name in cm's table of
 * (deg, c), checking that the name parses and the row builds. */
static inline void fx_row(const uniap_costmodel *cm, int deg, int c, int r, const char *name,
                          cm_row_terms *out)
{
    uniap_strategy s;
    CHECK_EQ(uniap_strategy_parse(name, &s), 0);
    CHECK_EQ(cm_row_breakdown(cm, deg, c, r, &s, out), 0);
}

/* The index of strategy name in table t; 0 (with a note on stderr, so
 * that the checks on it fail visibly) when absent. */
static inline int fx_strategy(const uniap_cost_table *t, const char *name)
{
    for (int k = 0; k < t->n_strategies; k++)
        if (strcmp(t->strategies[k].name, name) == 0)
            return k;
    fprintf(stderr, "strategy %s not in table\n", name);
    return 0;
}

#endif /* UNIAP_TEST_CM_FIXTURE_H */
