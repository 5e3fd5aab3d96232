/*
 * evaluate.c - cost tables (allocation) and the plan evaluator: TPI and
 * per-stage memory of one placement + strategy assignment, exactly the
 * quantities the solver's MILP minimizes and constrains (see the formulas
 * at the top of uniap_costmodel.h), with the schedule's coefficients and
 * in-flight micro-batches from its descriptor (schedule.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "uniap_costmodel.h"

int uniap_cost_table_alloc(uniap_cost_table *t, int deg, int n_strategies, int n_layers)
{
    return uniap_cost_table_alloc_classes(t, deg, n_strategies, n_layers, 1);
}

int uniap_cost_table_alloc_classes(uniap_cost_table *t, int deg, int n_strategies, int n_layers,
                                   int n_classes)
{
    int rc = uniap_cost_table_alloc_pairs(t, deg, n_strategies, n_layers, n_classes,
                                          n_layers > 1 ? n_layers - 1 : 1);
    for (int u = 0; rc == 0 && u + 1 < n_layers; u++)
        t->pair_of[u] = u; /* dense: one set of matrices per boundary */
    return rc;
}

int uniap_cost_table_alloc_pairs(uniap_cost_table *t, int deg, int n_strategies, int n_layers,
                                 int n_classes, int n_pairs)
{
    size_t K = (size_t)n_strategies, L = (size_t)n_layers, Q = (size_t)n_classes;

    memset(t, 0, sizeof(*t));
    if (deg < 1 || n_strategies < 1 || n_layers < 1 || n_classes < 1 || n_pairs < 1 ||
        n_pairs > (n_layers > 1 ? n_layers - 1 : 1))
        return uniap_err(UNIAP_EINVAL,
                         "cost table: deg %d, %d strategies, %d layers, %d device classes, %d "
                         "pair matrices: all must be >= 1, the matrices at most one per boundary",
                         deg, n_strategies, n_layers, n_classes, n_pairs);
    size_t pairs = (L > 1 ? (size_t)n_pairs : 0) * K * K;
    t->deg = deg;
    t->n_strategies = n_strategies;
    t->n_layers = n_layers;
    t->n_classes = n_classes;
    t->n_pairs = n_pairs;
    t->strategies = calloc(K, sizeof(*t->strategies));
    t->stage_class = calloc((size_t)deg, sizeof(int));
    t->run_of = calloc(L, sizeof(int));
    t->pair_of = calloc(L, sizeof(int));
    t->allowed = malloc(Q * L * K);
    t->time = calloc(Q * L * K, sizeof(double));
    t->wgrad = calloc(Q * L * K, sizeof(double));
    t->tail = calloc(Q * L * K, sizeof(double));
    t->mem_states = calloc(Q * L * K, sizeof(double));
    t->mem_act = calloc(Q * L * K, sizeof(double));
    t->mem_peak = calloc(Q * L * K, sizeof(double));
    t->reshard = calloc(pairs ? Q * pairs : 1, sizeof(double));
    t->xstage[0] = calloc(pairs ? pairs : 1, sizeof(double));
    t->xstage[1] = calloc(pairs ? pairs : 1, sizeof(double));
    t->boundary_spans_nodes = calloc((size_t)deg, 1);
    t->mem_budget = calloc(Q, sizeof(double));
    if (!t->strategies || !t->stage_class || !t->run_of || !t->pair_of || !t->allowed || !t->time ||
        !t->wgrad || !t->tail || !t->mem_states || !t->mem_act || !t->mem_peak || !t->reshard ||
        !t->xstage[0] || !t->xstage[1] || !t->boundary_spans_nodes || !t->mem_budget) {
        uniap_cost_table_free(t);
        return uniap_err(UNIAP_ENOMEM,
                         "cost table: out of memory for %d layers x %d strategies x %d device "
                         "classes",
                         n_layers, n_strategies, n_classes);
    }
    memset(t->allowed, 1, Q * L * K);
    return UNIAP_OK;
}

void uniap_cost_table_free(uniap_cost_table *t)
{
    if (!t)
        return;
    free(t->strategies);
    free(t->stage_class);
    free(t->run_of);
    free(t->pair_of);
    free(t->allowed);
    free(t->time);
    free(t->wgrad);
    free(t->tail);
    free(t->mem_states);
    free(t->mem_act);
    free(t->mem_peak);
    free(t->reshard);
    free(t->xstage[0]);
    free(t->xstage[1]);
    free(t->boundary_spans_nodes);
    free(t->mem_budget);
    memset(t, 0, sizeof(*t));
}

void uniap_plan_eval_free(uniap_plan_eval *e)
{
    if (!e)
        return;
    free(e->stage_compute);
    free(e->stage_wgrad);
    free(e->stage_comm);
    free(e->stage_tail);
    free(e->stage_mem);
    memset(e, 0, sizeof(*e));
}

/* Checks that stage_of is a contiguous, order-preserving placement onto
 * exactly deg non-empty stages, and every strategy is allowed. */
static int check_layout(const uniap_cost_table *t, const int *stage_of, const int *strategy_of)
{
    int L = t->n_layers, K = t->n_strategies;

    UNIAP_CHECK(t->n_classes >= 1 && t->stage_class && t->mem_budget && t->pair_of);
    for (int u = 0; u + 1 < L; u++) /* indexes the pair matrices: checked in every build */
        UNIAP_CHECK(t->pair_of[u] >= 0 && t->pair_of[u] < t->n_pairs);
    if (stage_of[0] != 0)
        return uniap_err(UNIAP_EINVAL, "plan: layer 0 is on stage %d, expected stage 0",
                         stage_of[0]);
    for (int u = 1; u < L; u++) {
        int d = stage_of[u] - stage_of[u - 1];
        if (d != 0 && d != 1)
            return uniap_err(UNIAP_EINVAL,
                             "plan: layer %d on stage %d follows layer %d on stage %d; stages "
                             "must be contiguous and in order",
                             u, stage_of[u], u - 1, stage_of[u - 1]);
    }
    if (stage_of[L - 1] != t->deg - 1)
        return uniap_err(UNIAP_EINVAL, "plan: last layer is on stage %d, expected %d (deg %d)",
                         stage_of[L - 1], t->deg - 1, t->deg);
    for (int i = 0; i < t->deg; i++)
        if (t->stage_class[i] < 0 || t->stage_class[i] >= t->n_classes)
            return uniap_err(UNIAP_EINVAL,
                             "cost table: stage %d has device class %d, expected 0..%d", i,
                             t->stage_class[i], t->n_classes - 1);
    for (int u = 0; u < L; u++) {
        int k = strategy_of[u], q = t->stage_class[stage_of[u]];
        if (k < 0 || k >= K)
            return uniap_err(UNIAP_EINVAL, "plan: layer %d: strategy index %d out of range 0..%d",
                             u, k, K - 1);
        if (!t->allowed[uniap_ct_ix(t, q, u, k)])
            return uniap_err(UNIAP_EINVAL, "plan: layer %d: strategy %s is not valid for it%s", u,
                             t->strategies[k].name,
                             t->n_classes > 1 ? " on its stage's device class" : "");
    }
    return UNIAP_OK;
}

int uniap_plan_evaluate(const uniap_cost_table *t, uniap_schedule sched, const int *stage_of,
                        const int *strategy_of, uniap_plan_eval *out)
{
    int L = t->n_layers, deg = t->deg, c = t->micro_batches;
    double *act_sum = NULL, *peak_max = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!uniap_schedule_get(sched))
        return uniap_err(UNIAP_EINVAL, "plan: schedule %d is not in the schedule table (0..%d)",
                         sched, uniap_schedule_count() - 1);
    if ((rc = check_layout(t, stage_of, strategy_of)) < 0)
        return rc;
    char why[160];
    if (!uniap_schedule_plan_ok(sched, c, deg, stage_of, L, why, sizeof why))
        return uniap_err(UNIAP_EINVAL, "plan: schedule %s: %s", uniap_schedule_name(sched), why);

    out->deg = deg;
    out->stage_compute = calloc((size_t)deg, sizeof(double));
    out->stage_wgrad = calloc((size_t)deg, sizeof(double));
    out->stage_comm = calloc((size_t)(deg > 1 ? deg - 1 : 1), sizeof(double));
    out->stage_tail = calloc((size_t)deg, sizeof(double));
    out->stage_mem = calloc((size_t)deg, sizeof(double));
    act_sum = calloc((size_t)deg, sizeof(double));
    peak_max = calloc((size_t)deg, sizeof(double));
    if (!out->stage_compute || !out->stage_wgrad || !out->stage_comm || !out->stage_tail ||
        !out->stage_mem || !act_sum || !peak_max) {
        rc = uniap_err(UNIAP_ENOMEM, "plan evaluation: out of memory");
        goto free_eval;
    }

    for (int u = 0; u < L; u++) {
        int i = stage_of[u], k = strategy_of[u], q = t->stage_class[i];
        size_t uk = uniap_ct_ix(t, q, u, k);
        out->stage_compute[i] += t->time[uk];
        out->stage_wgrad[i] += t->wgrad ? t->wgrad[uk] : 0.0;
        out->stage_tail[i] += t->tail[uk];
        out->stage_mem[i] += t->mem_states[uk];
        act_sum[i] += t->mem_act[uk];
        if (t->mem_peak[uk] > peak_max[i])
            peak_max[i] = t->mem_peak[uk];
        if (u + 1 < L) {
            int l = strategy_of[u + 1];
            if (stage_of[u + 1] == i) {
                out->stage_compute[i] += t->reshard[uniap_ct_pair(t, q, u, k, l)];
            } else {
                /* check_layout: stage_of[u + 1] = i + 1 <= deg - 1 */
                UNIAP_CHECK_GOTO(i < deg - 1, rc, free_eval);
                out->stage_comm[i] =
                    t->xstage[t->boundary_spans_nodes[i] ? 1 : 0][uniap_ct_xpair(t, u, k, l)];
            }
        }
    }

    double sum = 0.0, slowest = 0.0, tail = 0.0, comm = 0.0, slowest_comm = 0.0;
    double wsum = 0.0, wslow = 0.0;
    for (int i = 0; i < deg; i++) {
        sum += out->stage_compute[i];
        wsum += out->stage_wgrad[i];
        wslow = fmax(wslow, out->stage_wgrad[i]);
        slowest = fmax(slowest, out->stage_compute[i]);
        tail = fmax(tail, out->stage_tail[i]);
        out->stage_mem[i] += uniap_inflight(sched, c, deg, i) * act_sum[i] + peak_max[i];
    }
    for (int j = 0; j < deg - 1; j++) {
        comm += out->stage_comm[j];
        slowest_comm = fmax(slowest_comm, out->stage_comm[j]);
    }
    out->tpi =
        uniap_schedule_tpi_w(sched, c, deg, sum, comm, slowest, slowest_comm, tail, wsum, wslow);
    /* samples per second: the global batch (c micro-batches of micro_batch
     * when the table does not say) */
    double samples = t->global_batch > 0 ? (double)t->global_batch : (double)t->micro_batch * c;
    out->throughput = out->tpi > 0 ? samples / out->tpi : 0.0;

    out->feasible = 1;
    out->worst_stage = -1;
    for (int i = 0; i < deg; i++) {
        double excess = out->stage_mem[i] - uniap_ct_budget(t, i);
        if (excess > 0 && excess > out->worst_excess) {
            out->feasible = 0;
            out->worst_stage = i;
            out->worst_excess = excess;
        }
    }
    rc = UNIAP_OK;
    goto free_scratch;

free_eval:
    uniap_plan_eval_free(out);
free_scratch:
    free(act_sum);
    free(peak_max);
    return rc;
}
