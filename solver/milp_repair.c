/*
 * milp_repair.c - a candidate whose MILP returned a plan over the memory
 * budget by less than GLPK's feasibility tolerance (solver_internal.h: the
 * memory rows end at the budget itself, so no plan that fits is lost, but
 * GLPK may admit one a few bytes over). The candidate is solved again in
 * the per-layer formulation, where a stage's contents are binary columns
 * n[u, i, k], with a cover cut for each overflowing stage of the plan:
 *     sum_{u on i} n[u, i, k_u] <= |layers on i| - 1,
 * valid because memory only grows when a stage holds more: every plan
 * putting those layers with those strategies on stage i overflows too. The
 * cut has integer coefficients and right-hand side, so no tolerance admits
 * the plan again. Each round cuts at least one plan; the first plan that
 * fits is the candidate's optimum (branch and cut proves it over every plan
 * not cut, and every plan cut overflows). Past SOLVER_REPAIR_ROUNDS the
 * guarded rows decide: the plan fits, optimal only when it reaches the
 * first solve's bound, otherwise reported feasible with the gap.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

int solver_check_plan(const uniap_cost_table *t, uniap_schedule sched, double obj,
                      uniap_pair_result *out, int *fits)
{
    uniap_plan_eval e;
    int rc;
    if ((rc = uniap_plan_evaluate(t, sched, out->stage_of, out->strategy_of, &e)) < 0)
        return rc;
    out->tpi = e.tpi;
    *fits = e.feasible;
    uniap_plan_eval_free(&e);
    if (!(fabs(out->tpi - obj) <= 1e-6 * fmax(fabs(out->tpi), fabs(obj)) + 1e-12))
        return uniap_err(UNIAP_ELIB,
                         "solver: deg %d, c %d: MILP objective %.17g but the plan evaluates to "
                         "TPI %.17g",
                         t->deg, t->micro_batches, obj, out->tpi);
    return UNIAP_OK;
}

/* Cover cuts of the stages of the plan in p that overflow (m: a per-layer
 * MILP); *excess: the plan's largest overflow. Returns the row builder's
 * status (cuts of columns the MILP lacks are not needed and not added). */
static int add_cover_cuts(solver_milp *m, uniap_schedule sched, const uniap_pair_result *p,
                          double *excess)
{
    const uniap_cost_table *t = m->t;
    int G = m->G, D = m->D, K = m->K, L = t->n_layers, rc;
    solver_rows r = {0};
    uniap_plan_eval e;
    UNIAP_CHECK(G == L); /* one group per layer */
    if ((rc = uniap_plan_evaluate(t, sched, p->stage_of, p->strategy_of, &e)) < 0)
        return rc;
    *excess = e.worst_excess;
    for (int i = 0; i < D; i++) {
        if (!(e.stage_mem[i] > uniap_ct_budget(t, i)))
            continue;
        int cnt = 0, in_milp = 1;
        for (int u = 0; u < L; u++)
            if (p->stage_of[u] == i) {
                int col = m->n[SEGK(u, i, p->strategy_of[u])];
                in_milp = in_milp && col;
                solver_row_add(&r, col, 1);
                cnt++;
            }
        if (in_milp)
            solver_row_end(m->lp, &r, GLP_UP, 0, cnt - 1);
        r.n = 0;
    }
    uniap_plan_eval_free(&e);
    rc = r.rc;
    free(r.ind);
    free(r.val);
    return rc;
}

/* The guarded fallback (see the top of the file): bound is the first
 * solve's. */
static int guarded_solve(const uniap_cost_table *t, const solver_shape *s,
                         const unsigned char *allow, const uniap_solve_options *o, double bound,
                         uniap_pair_result *out)
{
    uniap_pair_result r = {.stage_of = out->stage_of, .strategy_of = out->strategy_of};
    solver_milp m;
    double obj = 0;
    int rc, st, fits;
    if ((rc = solver_milp_build(t, s, o->schedule, SOLVER_MEM_GUARDED, allow, &m)) < 0)
        return rc;
    out->status = UNIAP_SOLVE_NO_SOLUTION;
    out->bound = bound;
    if ((rc = solver_solve_relaxation(&m, o->time_limit, &st)) < 0 || st != GLP_OPT)
        goto free_milp;
    rc = solver_branch_and_cut(&m, o, NULL, bound, o->incumbent_tpi, &r, &obj);
    out->nodes += r.nodes;
    if (rc < 0)
        goto free_milp;
    if (r.status == UNIAP_SOLVE_PRUNED)
        out->status = r.status, out->bound = fmax(bound, r.bound);
    if (r.status != UNIAP_SOLVE_OPTIMAL && r.status != UNIAP_SOLVE_FEASIBLE)
        goto free_milp;
    if ((rc = solver_check_plan(t, o->schedule, obj, out, &fits)) < 0)
        goto free_milp;
    UNIAP_CHECK_GOTO(fits, rc, free_milp); /* the guard is beyond GLPK's tolerance */
    out->bound = fmin(bound, out->tpi);
    out->status = out->tpi <= bound * (1 + 1e-9) ? UNIAP_SOLVE_OPTIMAL : UNIAP_SOLVE_FEASIBLE;
free_milp:
    solver_milp_free(&m);
    return rc == UNIAP_EINTR ? UNIAP_OK : rc;
}

int solver_repair(const uniap_cost_table *t, const solver_shape *s, const unsigned char *allow,
                  const uniap_solve_options *o, uniap_pair_result *out)
{
    /* every plan that fits is a point of the first MILP: its optimum (or
     * its bound) bounds the candidate */
    double bound = out->status == UNIAP_SOLVE_OPTIMAL ? fmax(out->bound, out->tpi) : out->bound;
    double least_excess = HUGE_VAL, excess = 0, obj = 0;
    uniap_pair_result r = {.stage_of = out->stage_of, .strategy_of = out->strategy_of};
    solver_shape ps;
    solver_milp m = {0};
    int rc, st, fits;

    if ((rc = solver_shape_build_w(t, 1, s->rules, s->w_terms, &ps)) < 0)
        return rc;
    if ((rc = solver_milp_build(t, &ps, o->schedule, 0, NULL, &m)) < 0)
        goto free_shape;
    for (int round = 0; round < SOLVER_REPAIR_ROUNDS; round++) {
        if ((rc = add_cover_cuts(&m, o->schedule, out, &excess)) < 0)
            goto free_milp;
        least_excess = fmin(least_excess, excess);
        if ((rc = solver_solve_relaxation(&m, o->time_limit, &st)) < 0)
            goto free_milp;
        if (st == GLP_NOFEAS) { /* every plan overflows */
            out->status = UNIAP_SOLVE_INFEASIBLE;
            out->shortfall = least_excess;
            goto free_milp;
        }
        if (st != GLP_OPT)
            break;
        r.nodes = 0;
        rc = solver_branch_and_cut(&m, o, NULL, bound, o->incumbent_tpi, &r, &obj);
        out->nodes += r.nodes;
        if (rc < 0)
            goto free_milp;
        if (r.status == UNIAP_SOLVE_INFEASIBLE) {
            out->status = r.status;
            out->shortfall = least_excess;
            goto free_milp;
        }
        if (r.status != UNIAP_SOLVE_OPTIMAL && r.status != UNIAP_SOLVE_FEASIBLE) {
            out->status = r.status; /* pruned, or out of time */
            out->bound = fmax(bound, r.bound);
            goto free_milp;
        }
        if ((rc = solver_check_plan(t, o->schedule, obj, out, &fits)) < 0)
            goto free_milp;
        if (fits) {
            out->status = r.status;
            out->bound = r.status == UNIAP_SOLVE_OPTIMAL ? out->tpi : fmax(bound, r.bound);
            goto free_milp;
        }
    }
    solver_milp_free(&m);
    rc = guarded_solve(t, s, allow, o, bound, out);
    goto free_shape;
free_milp:
    solver_milp_free(&m);
free_shape:
    solver_shape_free(&ps);
    return rc == UNIAP_EINTR ? (out->status = UNIAP_SOLVE_NO_SOLUTION, UNIAP_OK) : rc;
}
