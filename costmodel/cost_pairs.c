/*
 * cost_pairs.c - the pair matrices of a cost table (cost_table.c builds the
 * rest): per run with a boundary after it, the resharding time between two
 * layers' layouts inside a stage (reshard) and the cross-stage transfer
 * after the run's last layer into each receiving layout (xstage), for the
 * boundary inside a node and between nodes. They depend only on the
 * sending layer's boundary activation, so one set serves the run.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

/* Cross-stage transfer after a layer whose boundary activation is B bytes
 * per micro-batch, into receiver layout s: each receiving device gets a
 * distinct 1/(dp tp) piece point-to-point (senders hold every piece, so
 * the send side splits evenly), then without SP the TP group all-gathers
 * the full b_l x s x h it needs (Megatron's scatter-gather). Forward
 * activation plus backward gradient: twice. */
static int xstage_time(const uniap_costmodel *cm, int deg, int n, double B, const uniap_strategy *s,
                       int spans, double *out)
{
    double p2p = 0.0, ag = 0.0;
    cm_placement pl;
    int rc;

    if ((rc = cm_coll_time(&cm->index, UNIAP_COLL_P2P, 2, spans, B / ((double)n), cm->warnings,
                           &p2p)) < 0)
        return rc;
    if (!s->sp && s->tp > 1) {
        cm_place(cm->cluster, deg, n, s, &pl);
        if ((rc = cm_coll_time(&cm->index, UNIAP_COLL_ALLGATHER, s->tp, pl.tp_spans,
                               B / uniap_strategy_dpcp(s), cm->warnings, &ag)) < 0)
            return rc;
    }
    *out = 2.0 * (p2p + ag);
    return UNIAP_OK;
}

/* The reshard fractions a cost model has computed, by (n, layout of the
 * sending strategy, layout of the receiving one): every table of the same
 * stage size meets the same layouts again (the micro-batch counts only
 * drop some), and at thousands of devices one fraction is a pass over
 * every rank (cm_reshard_fraction). Open addressing, grown at half load;
 * a pure function's values, so what is cached changes no result. */
#define FRAC_KEY 11
typedef struct frac_entry {
    int key[FRAC_KEY], set;
    double v;
} frac_entry;
struct cm_frac_cache {
    size_t cap, used;
    frac_entry *e;
};

struct cm_frac_cache *cm_frac_cache_new(void)
{
    return calloc(1, sizeof(struct cm_frac_cache));
}

void cm_frac_cache_free(struct cm_frac_cache *c)
{
    if (c)
        free(c->e);
    free(c);
}

static void layout_key(const uniap_strategy *s, int *k)
{
    k[0] = s->dp, k[1] = s->tp, k[2] = s->sp, k[3] = uniap_strategy_cp(s);
    k[4] = s->tp_consecutive;
}

static size_t key_hash(const int *k)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a over the key's ints */
    for (int i = 0; i < FRAC_KEY; i++)
        h = (h ^ (uint32_t)k[i]) * 1099511628211ULL;
    return (size_t)h;
}

/* The slot of key k in c (its entry, or the empty slot it goes in). */
static frac_entry *frac_slot(struct cm_frac_cache *c, const int *k)
{
    size_t i = key_hash(k) & (c->cap - 1);
    while (c->e[i].set && memcmp(c->e[i].key, k, sizeof(int) * FRAC_KEY))
        i = (i + 1) & (c->cap - 1);
    return &c->e[i];
}

/* Doubles c (or makes its first 1024 slots); UNIAP_ENOMEM. */
static int frac_grow(struct cm_frac_cache *c)
{
    size_t cap = c->cap ? 2 * c->cap : 1024;
    frac_entry *old = c->e, *e = calloc(cap, sizeof(*e));
    if (!e)
        return uniap_err(UNIAP_ENOMEM, "cost table: out of memory for the reshard cache");
    size_t was = c->cap;
    c->e = e, c->cap = cap;
    for (size_t i = 0; i < was; i++)
        if (old[i].set)
            *frac_slot(c, old[i].key) = old[i];
    free(old);
    return UNIAP_OK;
}

/* cm_reshard_fraction(n, a, b) through cm's cache. */
static int cached_fraction(const uniap_costmodel *cm, int n, const uniap_strategy *a,
                           const uniap_strategy *b, double *out)
{
    struct cm_frac_cache *c = cm->frac_cache; /* mutable through const cm */
    int k[FRAC_KEY], rc;
    if (2 * (c->used + 1) > c->cap && (rc = frac_grow(c)) < 0)
        return rc;
    k[0] = n;
    layout_key(a, k + 1);
    layout_key(b, k + 6);
    frac_entry *e = frac_slot(c, k);
    if (!e->set) {
        memcpy(e->key, k, sizeof k);
        e->v = cm_reshard_fraction(n, a, b);
        e->set = 1;
        c->used++;
    }
    *out = e->v;
    return UNIAP_OK;
}

/* Reshard fractions frac[k*K + l] of the table's strategies, computed
 * once per pair of distinct layouts (dp, tp, placement, sp, cp): flavour
 * and checkpointing do not move activations. */
static int reshard_fractions(const uniap_costmodel *cm, const uniap_cost_table *t, int n,
                             double *frac, int *cls)
{
    int K = t->n_strategies, rc;

    for (int k = 0; k < K; k++) {
        const uniap_strategy *a = &t->strategies[k];
        cls[k] = k;
        for (int k2 = 0; k2 < k && cls[k] == k; k2++) {
            const uniap_strategy *a2 = &t->strategies[k2];
            if (a2->dp == a->dp && a2->tp == a->tp && a2->sp == a->sp &&
                uniap_strategy_cp(a2) == uniap_strategy_cp(a) &&
                a2->tp_consecutive == a->tp_consecutive)
                cls[k] = cls[k2];
        }
    }
    for (int k = 0; k < K; k++)
        for (int l = 0; l < K; l++)
            if (cls[k] == k && cls[l] == l &&
                (rc = cached_fraction(cm, n, &t->strategies[k], &t->strategies[l],
                                      &frac[(size_t)k * K + l])) < 0)
                return rc;
    for (int k = 0; k < K; k++)
        for (int l = 0; l < K; l++)
            frac[(size_t)k * K + l] = frac[(size_t)cls[k] * K + cls[l]];
    return UNIAP_OK;
}

/* The pair blocks of run r (boundary activation B bytes): blk[0] the
 * resharding on a stage, an all-to-all over the stage's n devices in which
 * each device fetches what it lacks (frac x B), forward activation plus
 * backward gradient; blk[1 + s] the cross-stage transfer into each
 * receiver strategy (s: the boundary spans nodes), for receivers some
 * layer allows (usable[l]). */
static int run_blocks(const uniap_costmodel *cm, const uniap_cost_table *t, int r, double B,
                      const double *frac, const int *cls, const unsigned char *usable,
                      double *blk[3])
{
    int K = t->n_strategies, deg = t->deg, n = t->stage_devices, rc;
    int need[2] = {0, 0}, stage_spans = 0;
    char e[160];

    for (int j = 0; j + 1 < deg; j++)
        need[t->boundary_spans_nodes[j] ? 1 : 0] = 1;
    for (int j = 0; j < deg; j++)
        stage_spans |= cm_stage_spans(cm->cluster, j * n, n);
    for (size_t kl = 0; kl < (size_t)K * K; kl++) {
        double a2a = 0.0;
        size_t k = kl / K, l = kl % K, rep = (size_t)cls[k] * K + cls[l];
        if (rep < kl) { /* the same layouts as an earlier pair: the same cost */
            blk[0][kl] = blk[0][rep];
            continue;
        }
        if (frac[kl] > 0 && (rc = cm_coll_time(&cm->index, UNIAP_COLL_ALLTOALL, n, stage_spans,
                                               frac[kl] * B, cm->warnings, &a2a)) < 0)
            return rc; /* the message names the profile */
        blk[0][kl] = 2.0 * a2a;
        if (!(isfinite(blk[0][kl]) && blk[0][kl] >= 0 && blk[0][kl] <= CM_MAX_SECONDS)) {
            snprintf(e, sizeof(e), "layer type '%s': resharding from %s to %s", cm->run_sig[r],
                     t->strategies[kl / K].name, t->strategies[kl % K].name);
            return cm_check_figure(cm, blk[0][kl], CM_MAX_SECONDS, e, "s");
        }
    }
    for (int s = 0; s < 2; s++) {
        for (int l = 0; l < K; l++) {
            double x = 0.0;
            if (need[s] && usable[l] &&
                (rc = xstage_time(cm, deg, n, B, &t->strategies[l], s, &x)) < 0)
                return rc; /* the message names the profile */
            if (!(isfinite(x) && x >= 0 && x <= CM_MAX_SECONDS)) {
                snprintf(e, sizeof(e), "layer type '%s': cross-stage transfer into %s",
                         cm->run_sig[r], t->strategies[l].name);
                return cm_check_figure(cm, x, CM_MAX_SECONDS, e, "s");
            }
            for (int k = 0; k < K; k++)
                blk[1 + s][(size_t)k * K + l] = x;
        }
    }
    return UNIAP_OK;
}

int cm_fill_pairs(const uniap_costmodel *cm, uniap_cost_table *t, int b)
{
    const uniap_model *m = cm->model;
    int K = t->n_strategies, L = t->n_layers, rc = UNIAP_OK;
    size_t KK = (size_t)K * K;
    double *frac = malloc(KK * sizeof(double)), *blk[3] = {NULL, NULL, NULL};
    int *cls = malloc((size_t)K * sizeof(int));
    unsigned char *usable = calloc((size_t)K, 1);

    for (int i = 0; i < 3; i++)
        blk[i] = malloc(KK * sizeof(double));
    if (!frac || !cls || !usable || !blk[0] || !blk[1] || !blk[2]) {
        rc = uniap_err(UNIAP_ENOMEM, "cost table: out of memory for %d x %d pairs", K, K);
        goto free_blocks;
    }
    for (size_t uk = 0; uk < (size_t)L * K; uk++)
        usable[uk % K] |= t->allowed[uk];
    if ((rc = reshard_fractions(cm, t, t->stage_devices, frac, cls)) < 0)
        goto free_blocks;
    int p = 0; /* the next pair matrices */
    for (int r = 0; r < m->n_runs; r++) {
        int first = -1, last = -1;
        for (int u = 0; u < L - 1; u++)
            if (t->run_of[u] == r) {
                if (first < 0)
                    first = u;
                last = u;
            }
        if (first < 0)
            continue; /* only the model's last layer: no boundary after it */
        double B = cm_boundary_bytes(m, &m->runs[r], b);
        if ((rc = run_blocks(cm, t, r, B, frac, cls, usable, blk)) < 0)
            goto free_blocks;
        /* the run's matrices, once: every boundary after one of its layers
         * points to them */
        UNIAP_CHECK_GOTO(p < t->n_pairs, rc, free_blocks);
        memcpy(t->reshard + (size_t)p * KK, blk[0], KK * sizeof(double));
        memcpy(t->xstage[0] + (size_t)p * KK, blk[1], KK * sizeof(double));
        memcpy(t->xstage[1] + (size_t)p * KK, blk[2], KK * sizeof(double));
        for (int u = first; u <= last; u++)
            t->pair_of[u] = p;
        p++;
    }
    UNIAP_CHECK_GOTO(p == t->n_pairs || (L == 1 && p == 0), rc, free_blocks);
free_blocks:
    free(frac);
    free(cls);
    free(usable);
    for (int i = 0; i < 3; i++)
        free(blk[i]);
    return rc;
}
