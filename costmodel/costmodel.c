/*
 * costmodel.c - binding a model, a cluster and a profile into a cost
 * model: option defaults, validation of what the profile must hold, the
 * (deg, c) candidates of the Unified Optimization Process, warnings.
 * The per-candidate tables are built in cost_table.c.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

void uniap_cost_options_default(uniap_cost_options *o)
{
    memset(o, 0, sizeof(*o));
    o->global_batch = 0; /* must be set by the caller */
    o->schedule = UNIAP_SCHED_1F1B;
    o->reserve_bytes = -1; /* UNIAP_DEFAULT_RESERVE */
    o->overlap = -1.0;     /* UNIAP_DEFAULT_OVERLAP */
    o->max_tp = 0;
}

int uniap_costmodel_create(const uniap_model *m, const uniap_cluster *c, const uniap_profile *p,
                           const uniap_cost_options *o, uniap_costmodel **out)
{
    uniap_costmodel *cm;
    int rc;

    *out = NULL;
    if (!m || m->n_runs < 1 || !m->runs)
        return uniap_err(UNIAP_EINVAL, "cost model: the model has no layers");
    if (!c || c->nodes < 1 || c->devices_per_node < 1)
        return uniap_err(UNIAP_EINVAL, "cost model: cluster '%s' has %d nodes x %d devices",
                         c ? c->name : "", c ? c->nodes : 0, c ? c->devices_per_node : 0);
    if (o->global_batch < 1)
        return uniap_err(UNIAP_EINVAL, "cost model: global batch %lld, expected >= 1",
                         (long long)o->global_batch);
    if (o->global_batch > (int64_t)1 << 30)
        return uniap_err(UNIAP_EINVAL, "cost model: global batch %lld is too large",
                         (long long)o->global_batch);
    cm = calloc(1, sizeof(*cm));
    if (!cm)
        return uniap_err(UNIAP_ENOMEM, "cost model: out of memory");
    cm->model = m;
    cm->cluster = c;
    cm->profile = p;
    cm->opt = *o;
    cm->reserve = o->reserve_bytes >= 0 ? o->reserve_bytes : UNIAP_DEFAULT_RESERVE;
    cm->overlap = o->overlap >= 0 ? (o->overlap > 1 ? 1.0 : o->overlap) : UNIAP_DEFAULT_OVERLAP;
    /* The profile's overlap coefficient (Galvatron's convention) is the
     * slowdown of compute that runs while communication is overlapped;
     * the hidden part of the gradient sync costs (coeff - 1) of itself. */
    cm->overlap_slow = p && p->overlap_coeff > 1.0 ? p->overlap_coeff : 1.0;
    cm->warnings = calloc(1, sizeof(*cm->warnings));
    cm->run_sig = calloc((size_t)m->n_runs, sizeof(*cm->run_sig));
    cm->run_prof = calloc((size_t)m->n_runs, sizeof(*cm->run_prof));
    if (!cm->warnings || !cm->run_sig || !cm->run_prof) {
        rc = uniap_err(UNIAP_ENOMEM, "cost model: out of memory");
        goto free_cm;
    }
    if (!p) {
        rc = uniap_err(UNIAP_EINVAL, "cost model: no profile given");
        goto free_cm;
    }
    if ((rc = cm_index_build(p, &cm->index)) < 0)
        goto free_cm;
    for (int r = 0; r < m->n_runs; r++) {
        if ((rc = uniap_layer_signature(&m->runs[r], cm->run_sig[r], sizeof(cm->run_sig[r]))) < 0)
            goto free_cm;
        cm->run_prof[r] = cm_index_layer(&cm->index, cm->run_sig[r]);
        if (!cm->run_prof[r]) {
            rc = uniap_err(UNIAP_EMISSING,
                           "profile (provenance '%s') lacks layer type '%s' (run %d, %s, of "
                           "model '%s')",
                           p->provenance, cm->run_sig[r], r, uniap_layer_kind_name(m->runs[r].kind),
                           m->name);
            goto free_cm;
        }
        /* tp 1 is the reference for sequence parallelism's activations */
        int has_tp1 = 0;
        for (int i = 0; i < cm->run_prof[r]->n_curves; i++)
            has_tp1 |= cm->run_prof[r]->curves[i].tp == 1;
        if (!has_tp1) {
            rc = uniap_err(UNIAP_EMISSING, "profile lacks layer type '%s' at tp 1", cm->run_sig[r]);
            goto free_cm;
        }
    }
    if (p->provenance[0] && strcmp(p->provenance, "measured") != 0)
        cm_warn(cm->warnings, "profile provenance is '%s', not a measurement", p->provenance);
    *out = cm;
    return UNIAP_OK;

free_cm:
    uniap_costmodel_destroy(cm);
    return rc;
}

void uniap_costmodel_destroy(uniap_costmodel *cm)
{
    if (!cm)
        return;
    cm_index_free(&cm->index);
    cm_warnings_free(cm->warnings);
    free(cm->warnings);
    free(cm->run_sig);
    free(cm->run_prof);
    free(cm);
}

const char *uniap_costmodel_warnings(const uniap_costmodel *cm)
{
    return cm && cm->warnings && cm->warnings->text ? cm->warnings->text : "";
}

/* A (deg, c) pair is a candidate when every layer has at least one
 * strategy: some tp | n with whole local micro-batch (micro_batch % dp ==
 * 0), within max_tp, that the layer's shape allows; and deg <= layers. */
static int pair_viable(const uniap_costmodel *cm, int deg, int c)
{
    const uniap_model *m = cm->model;
    int n = uniap_cluster_devices(cm->cluster) / deg;
    int mb = (int)(cm->opt.global_batch / c);

    if (deg > m->n_layers)
        return 0;
    for (int r = 0; r < m->n_runs; r++) {
        int ok = 0;
        for (int tp = 1; tp <= n && !ok; tp++)
            ok = n % tp == 0 && mb % (n / tp) == 0 &&
                 (cm->opt.max_tp <= 0 || tp <= cm->opt.max_tp) && cm_layer_tp_ok(&m->runs[r], tp);
        if (!ok)
            return 0;
    }
    return 1;
}

int uniap_costmodel_candidates(const uniap_costmodel *cm, int **deg, int **c, int *n)
{
    int N = uniap_cluster_devices(cm->cluster);
    int64_t B = cm->opt.global_batch;
    int cap = 0, k = 0;

    *deg = *c = NULL;
    *n = 0;
    for (int d = 1; d <= N; d++)
        if (N % d == 0)
            for (int64_t x = 1; x <= B; x++)
                cap += B % x == 0;
    *deg = malloc((size_t)(cap ? cap : 1) * sizeof(int));
    *c = malloc((size_t)(cap ? cap : 1) * sizeof(int));
    if (!*deg || !*c) {
        free(*deg);
        free(*c);
        *deg = *c = NULL;
        return uniap_err(UNIAP_ENOMEM, "cost model: out of memory for %d candidates", cap);
    }
    for (int d = 1; d <= N; d++) {
        if (N % d)
            continue;
        for (int64_t x = 1; x <= B; x++) {
            if (B % x || !pair_viable(cm, d, (int)x))
                continue;
            (*deg)[k] = d;
            (*c)[k] = (int)x;
            k++;
        }
    }
    *n = k;
    return UNIAP_OK;
}
