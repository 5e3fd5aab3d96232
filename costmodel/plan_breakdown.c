/*
 * plan_breakdown.c - one plan's costs by term, per stage: what
 * `uniap estimate` reports (compute, TP/DP communication, resharding, the
 * per-iteration tail, memory by kind), the check that a profile covers a
 * given plan, and small accessors the commands need (framework reserve). Pure library code over the
 * cost model's internals.
 */
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

int64_t uniap_costmodel_reserve(const uniap_costmodel *cm)
{
    return cm->reserve;
}

int uniap_plan_check_profile(const uniap_costmodel *cm, const uniap_plan *p)
{
    const uniap_model *m = cm->model;
    int mb = (int)uniap_micro_batch_size(p->global_batch, p->micro_batches);
    for (int u = 0; u < p->n_layers && u < m->n_layers; u++) {
        int r = uniap_model_run_of(m, u);
        const uniap_strategy *s = &p->strategy_of[u];
        cm_layer_point pt;
        if (s->dp < 1 || !cm_layer_tp_ok(&m->runs[r], s->tp) || mb % s->dp != 0)
            continue; /* reported by uniap_plan_strategy_indices */
        int rc = cm_layer_at(cm_layer_prof(cm, r, u, s->tp), s->tp, mb / s->dp, NULL, &pt);
        if (rc < 0)
            return uniap_err(rc, "layer %d (strategy %s)", u, s->name);
    }
    return UNIAP_OK;
}

/* Adds layer u's row terms (and its resharding to u + 1 on the stage). */
static void add_layer(const uniap_costmodel *cm, const uniap_plan *p, const uniap_cost_table *t,
                      const int *idx, int u, int last, uniap_stage_breakdown *b)
{
    cm_row_terms one;
    if (cm_layer_row_breakdown(cm, t->deg, t->micro_batches, u, &p->strategy_of[u], &one) < 0) {
        uniap_err_clear(); /* the table built: cannot fail here */
        return;
    }
    b->compute += one.compute;
    b->forward += one.forward;
    b->tp_comm += one.tp_comm;
    b->cp_comm += one.cp_comm;
    b->ep_comm += one.ep_comm;
    b->dp_comm += one.dp_comm;
    b->sync_exposed += one.sync_exposed;
    b->param_gather += one.param_gather;
    b->optimizer += one.optimizer;
    if (u < last)
        b->reshard +=
            t->reshard[uniap_ct_pair(t, t->stage_class[p->stage_of[u]], u, idx[u], idx[u + 1])];
}

int uniap_plan_breakdown(const uniap_costmodel *cm, const uniap_plan *p, const uniap_cost_table *t,
                         const int *idx, uniap_stage_breakdown *out)
{
    cm_stage_memory *sm = calloc((size_t)t->deg, sizeof(*sm));
    int rc;
    if (!sm)
        return uniap_err(UNIAP_ENOMEM, "plan breakdown: out of memory");
    if ((rc = cm_stage_breakdown(t, p->schedule, p->stage_of, idx, sm)) < 0)
        goto free_sm;
    for (int i = 0; i < t->deg; i++) {
        uniap_stage_breakdown *b = &out[i];
        memset(b, 0, sizeof(*b));
        b->first_layer = sm[i].first_layer;
        b->last_layer = sm[i].last_layer;
        b->inflight = sm[i].inflight;
        b->states = sm[i].states;
        b->activations = sm[i].activations;
        b->peak = sm[i].peak;
        for (int u = sm[i].first_layer; u <= sm[i].last_layer; u++)
            add_layer(cm, p, t, idx, u, sm[i].last_layer, b);
    }
free_sm:
    free(sm);
    return rc;
}
