/*
 * data_needs.c - what a cost table needs from the profile: per strategy,
 * its layer type at its tp degree and the collectives of its tensor-,
 * context-, expert- and data-parallel groups (as placed on the cluster); per pipeline degree,
 * the stage boundaries' p2p and the stages' all-to-all. The table builder
 * (cost_table.c) disallows a strategy lacking data, the candidates leave
 * out a pipeline degree lacking stage-level data, each missing item being
 * warned about once, naming the profile.
 */
#include <stdio.h>

#include "cm_internal.h"

/* Where a group lies, in messages. */
static const char *where(int spans)
{
    return spans ? "spanning nodes" : "inside one node";
}

/* 1 when the profile has op over a group of g at the placement, or none is
 * needed; else 0 with a warning (once) that `what` are left out. */
static int have(const uniap_costmodel *cm, uniap_coll_op op, int g, int spans, const char *what)
{
    if ((g <= 1 && op != UNIAP_COLL_P2P) || cm_index_coll(&cm->index, op, g, spans))
        return 1;
    cm_warn(cm->warnings,
            "%s: profile lacks %s over a group of %d %s: %s are left out of the search", cm->label,
            uniap_coll_name(op), g, where(spans), what);
    return 0;
}

/* Mirrors the look-ups of cost_table.c's compute_row, xstage_time
 * (receiver side) and dp_terms; each missing item is warned about, hence & not &&. */
int cm_strategy_has_data(const uniap_costmodel *cm, int deg, int r, const uniap_strategy *s,
                         const cm_placement *pl)
{
    const uniap_layer *l = &cm->model->runs[r];
    const char *what = "the strategies needing it";
    int nf, nb, ok = 1;

    if (!cm_run_has_tp(cm, r, s->tp)) {
        cm_warn(cm->warnings,
                "%s: profile lacks layer type '%s' at tp %d: its strategies with tp %d are left "
                "out of the search (uniap profile --tp %d measures it; --max-tp limits the search)",
                cm->label, cm->run_sig[r], s->tp, s->tp, s->tp);
        return 0;
    }
    cm_layer_tp_allreduces(l, &nf, &nb);
    if (s->tp > 1 && nf + nb > 0 && l->seq > 0 && l->hidden > 0 &&
        !cm->profile->tp_comm_in_layers) { /* else inside the layer times */
        if (s->sp)
            ok &= have(cm, UNIAP_COLL_ALLGATHER, s->tp, pl->tp_spans, what) &
                  have(cm, UNIAP_COLL_REDUCESCATTER, s->tp, pl->tp_spans, what);
        else
            ok &= have(cm, UNIAP_COLL_ALLREDUCE, s->tp, pl->tp_spans, what);
    }
    int g = uniap_strategy_dpcp(s), cp = uniap_strategy_cp(s);
    if (g > 1 && uniap_layer_params(l) > 0) {
        if (s->flavour == UNIAP_DP_DDP)
            ok &= have(cm, UNIAP_COLL_ALLREDUCE, g, pl->dp_spans, what);
        else
            ok &= have(cm, UNIAP_COLL_REDUCESCATTER, g, pl->dp_spans, what) &
                  have(cm, UNIAP_COLL_ALLGATHER, g, pl->dp_spans, what);
    }
    if (cp > 1 && uniap__cm_layer_kind(l->kind)->cp_attn) /* cp_comm.c */
        ok &= have(cm, s->cp_a2a ? UNIAP_COLL_ALLTOALL : UNIAP_COLL_P2P, s->cp_a2a ? cp : 2,
                   pl->cp_spans, what);
    if (uniap_strategy_ep(s) > 1 && l->experts > 0) { /* moe_comm.c: dispatch, expert DP */
        cm_moe_part mp;
        cm_moe_split(l, s, &mp);
        int ge = uniap_strategy_dpcp(&mp.expert_s);
        ok &= have(cm, UNIAP_COLL_ALLTOALL, uniap_strategy_ep(s), pl->ep_spans, what);
        if (mp.expert_s.flavour == UNIAP_DP_DDP)
            ok &= have(cm, UNIAP_COLL_ALLREDUCE, ge, pl->dp_spans, what);
        else
            ok &= have(cm, UNIAP_COLL_REDUCESCATTER, ge, pl->dp_spans, what) &
                  have(cm, UNIAP_COLL_ALLGATHER, ge, pl->dp_spans, what);
    }
    if (deg > 1 && !s->sp && s->tp > 1) /* gathering a stage's input */
        ok &= have(cm, UNIAP_COLL_ALLGATHER, s->tp, pl->tp_spans, what);
    return ok;
}

int cm_pair_has_data(const uniap_costmodel *cm, int deg, int n)
{
    int need[2] = {0, 0}, stage_spans = 0, ok = 1;
    char what[128];

    for (int j = 0; j + 1 < deg; j++)
        need[cm_boundary_spans(cm->cluster, j, n) ? 1 : 0] = 1;
    for (int j = 0; j < deg; j++)
        stage_spans |= cm_stage_spans(cm->cluster, j * n, n);
    snprintf(what, sizeof(what), "the pipelines of degree %d", deg);
    for (int s = 0; s < 2; s++)
        if (need[s])
            ok &= have(cm, UNIAP_COLL_P2P, 2, s, what);
    snprintf(what, sizeof(what),
             "the pipelines of degree %d (their stages of %d devices reshard by it)", deg, n);
    if (n > 1)
        ok &= have(cm, UNIAP_COLL_ALLTOALL, n, stage_spans, what);
    return ok;
}
