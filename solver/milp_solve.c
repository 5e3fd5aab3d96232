/*
 * milp_solve.c - solving one (deg, c) candidate, cheapest step first, each
 * able to end it when its bound is above the best TPI of the other
 * candidates (pruned):
 *   1. the simple bound from the table (solver_simple_bounds);
 *   2. the heuristic plan, the first incumbent;
 *   3. the layout-free relaxation (SOLVER_BOUND_ONLY, a tenth of the
 *      size): its LP bound, then its MILP, whose optimum is a bound and
 *      whose plan, evaluated exactly, often is the optimum itself (when it
 *      costs no more than that bound, the candidate is solved here);
 *      between its LP and its MILP, the count bound (count_bound.c): a
 *      combinatorial bound over layer counts per stage whose plan, when it
 *      reaches the bound, solves the candidate with no branch and cut;
 *   4. the full MILP, built without the strategies that reduced costs of
 *      step 3 exclude from any plan as good as the incumbent, solved by
 *      GLPK's branch and cut (stage boundaries branched on first) with the
 *      incumbent injected through GLP_IHEUR (GLPK's runs: milp_run.c).
 * The search may defer the branch and cuts of steps 3 and 4 until every
 * candidate has been through the steps before them
 * (solver_solve_pair_deferring).
 * Every plan is read back and checked against uniap_plan_evaluate; one
 * over the memory budget within GLPK's tolerance is repaired (milp_repair.c). An
 * infeasible candidate gets its smallest memory shortfall, only while no
 * candidate has a plan. The table is refused first when a figure is absurd
 * (table_check.c); a GLPK failure is an error, never an abort
 * (glpk_guard.c); after uniap_search_interrupt() the candidate ends like a
 * time limit: the best plan so far within the best bound so far.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "solver_internal.h"

void uniap_solve_options_default(uniap_solve_options *o)
{
    memset(o, 0, sizeof(*o));
    o->schedule = UNIAP_SCHED_DEFAULT;
    o->formulation = UNIAP_FORM_AUTO;
}

void uniap_pair_result_free(uniap_pair_result *r)
{
    if (!r)
        return;
    free(r->stage_of);
    free(r->strategy_of);
    r->stage_of = r->strategy_of = NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static FILE *glpk_log;

/* relaxed_solve's verdict when it stopped before its branch and cut */
#define VERDICT_DEFERRED (-1)

/* The LP bound of the layout-free relaxation (SOLVER_BOUND_ONLY): a lower
 * bound of the candidate's optimum at about a tenth of the full LP's cost.
 * Returns the GLPK status of the relaxation (GLP_OPT: *bound set). */
static int quick_bound(const uniap_cost_table *t, const solver_shape *s, uniap_schedule sched,
                       unsigned flags, double time_limit, double *bound)
{
    solver_milp m;
    int st = GLP_UNDEF, rc = solver_milp_build(t, s, sched, flags | SOLVER_BOUND_ONLY, NULL, &m);
    if (rc < 0)
        return rc;
    if ((rc = solver_solve_relaxation(&m, time_limit, &st)) == 0 && st == GLP_OPT)
        *bound = glp_get_obj_val(m.lp);
    solver_milp_free(&m);
    return rc < 0 ? rc : st;
}

static int write_lp(const solver_milp *m, const uniap_solve_options *o, const char *tag)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/pair_deg%d_c%d_%s%s.lp", o->lp_dir, m->t->deg,
                     m->t->micro_batches, uniap_schedule_name(o->schedule), tag);
    if (n < 0 || (size_t)n >= sizeof path)
        return uniap_err(UNIAP_EINVAL, "%s: the folder for the MILPs' LP files is too long",
                         o->lp_dir);
    UNIAP_CHECK(m->complete);
    if (glp_write_lp(m->lp, NULL, path) != 0)
        return uniap_err(UNIAP_EIO, "%s: cannot write the MILP in CPLEX LP format", path);
    return UNIAP_OK;
}

/* The count bound (count_bound.c) after the layout-free LP: *lb rises to
 * it, and its plan, evaluated exactly, replaces the incumbent (stage_of,
 * strategy_of, *tpi; *have set) when it fits, is better and keeps the
 * schedule's and the rules' conditions. *verdict: UNIAP_SOLVE_INFEASIBLE
 * (no split fits), UNIAP_SOLVE_PRUNED (*lb above o->incumbent_tpi), else
 * unchanged; *at 1 when the incumbent reaches *lb: the candidate is
 * solved, no branch and cut needed. */
static int count_step(const uniap_cost_table *t, const solver_shape *s,
                      const uniap_solve_options *o, double tail_lb, int *stage_of, int *strategy_of,
                      int *have, double *tpi, double *lb, int *verdict, int *at)
{
    int L = t->n_layers, got = 0, rc;
    double cb = 0;
    int *so = malloc(sizeof(int) * 4 * (size_t)L), *ko = so + 2 * L;
    char why[160];

    *at = 0;
    if (!so)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound's plan");
    if ((rc = solver_count_bound(t, s, o->schedule, tail_lb, &cb, so, ko, &got)) < 0)
        goto free_plan;
    if (cb == HUGE_VAL) {
        *verdict = UNIAP_SOLVE_INFEASIBLE;
        goto free_plan;
    }
    *lb = fmax(*lb, cb);
    if (o->incumbent_tpi > 0 && *lb > o->incumbent_tpi * (1 + 1e-9)) {
        *verdict = UNIAP_SOLVE_PRUNED;
        goto free_plan;
    }
    for (int p = 0; p < got; p++) {
        int *sp = so + (size_t)p * L, *kp = ko + (size_t)p * L;
        if (!uniap_schedule_plan_ok(o->schedule, t->micro_batches, t->deg, sp, L, why,
                                    sizeof why) ||
            (s->rules && !solver_rules_check(s->rules, sp, kp)))
            continue;
        uniap_plan_eval e;
        if ((rc = uniap_plan_evaluate(t, o->schedule, sp, kp, &e)) < 0)
            goto free_plan;
        /* the class-aware split's plan only when it is the proof: as a
         * mere warm start it was measured to lead GLPK's branch and cut
         * worse (GPT-3 175B on 4,096 A100: deg 8 c 24 at the node limit,
         * optimal in 4,000 nodes with the plain split's plan) */
        if (e.feasible && (!*have || e.tpi < *tpi) && (p == 0 || e.tpi <= *lb * (1 + 1e-9))) {
            memcpy(stage_of, sp, sizeof(int) * L);
            memcpy(strategy_of, kp, sizeof(int) * L);
            *tpi = e.tpi;
            *have = 1;
        }
        uniap_plan_eval_free(&e);
    }
    *at = *have && *tpi <= *lb * (1 + 1e-9);
free_plan:
    free(so);
    return rc;
}

/* The layout-free relaxation (SOLVER_BOUND_ONLY) of the candidate, solved
 * as an LP and then as a MILP: *lb becomes a lower bound of the
 * candidate's optimum (raised by the count bound when the LP does not
 * prune: count_step), and the relaxation's plan, evaluated exactly,
 * replaces the incumbent plan (stage_of, strategy_of, *tpi; *have set)
 * when it is better. *verdict: 0 (the full MILP is needed),
 * UNIAP_SOLVE_PRUNED (*lb above o->incumbent_tpi) or
 * UNIAP_SOLVE_INFEASIBLE (nothing fits). */
static int relaxed_solve(const uniap_cost_table *t, const solver_shape *s,
                         const uniap_solve_options *o, double tail_lb, int defer, int *stage_of,
                         int *strategy_of, int *have, double *tpi, double *lb, int *verdict,
                         unsigned char *allow, long *nodes)
{
    solver_milp b;
    uniap_pair_result r = {0};
    double *inc = NULL, *dj = NULL, obj = 0;
    int rc, L = t->n_layers;
    size_t nseg = (size_t)s->G * s->D * s->K;

    *verdict = 0;
    memset(allow, 1, nseg);
    if ((rc = solver_milp_build(t, s, o->schedule, SOLVER_BOUND_ONLY, NULL, &b)) < 0)
        return rc;
    if (o->lp_dir && (rc = write_lp(&b, o, "_bound")) < 0)
        goto free_milp;
    int st;
    if ((rc = solver_solve_relaxation(&b, o->time_limit, &st)) < 0)
        goto free_milp; /* UNIAP_EINTR: the caller keeps the incumbent */
    if (st == GLP_NOFEAS)
        *verdict = UNIAP_SOLVE_INFEASIBLE;
    if (st != GLP_OPT)
        goto free_milp; /* out of time: the full MILP decides */
    double z = *lb = glp_get_obj_val(b.lp);
    if (o->incumbent_tpi > 0 && *lb > o->incumbent_tpi * (1 + 1e-9)) {
        *verdict = UNIAP_SOLVE_PRUNED;
        goto free_milp;
    }
    int at = 0;
    rc = count_step(t, s, o, tail_lb, stage_of, strategy_of, have, tpi, lb, verdict, &at);
    if (rc < 0 || *verdict || at)
        goto free_milp; /* at the bound: solved (verdict 0) */
    if (defer) {        /* every branch and cut waits for a lower incumbent */
        *verdict = VERDICT_DEFERRED;
        goto free_milp;
    }
    /* reduced costs of the counts at the relaxation's LP optimum (read
     * before its MILP changes the problem's solution): any plan using
     * strategy k on segment (g, i) costs at least z + dj */
    if (!(dj = malloc(sizeof(double) * nseg))) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for reduced costs");
        goto free_milp;
    }
    for (size_t a = 0; a < nseg; a++)
        dj[a] = b.n[a] ? glp_get_col_dual(b.lp, b.n[a]) : 0;
    r.stage_of = malloc(sizeof(int) * L);
    r.strategy_of = malloc(sizeof(int) * L);
    inc = malloc(sizeof(double) * (glp_get_num_cols(b.lp) + 1));
    if (!r.stage_of || !r.strategy_of || !inc) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for the relaxation's plan");
        goto free_plan;
    }
    if (*have && (rc = solver_milp_encode(&b, stage_of, strategy_of, inc)) < 0)
        goto free_plan;
    rc = solver_branch_and_cut(&b, o, *have ? inc : NULL, *lb, o->incumbent_tpi, &r, &obj);
    *nodes += r.nodes;
    if (rc < 0)
        goto free_plan;
    if (r.status == UNIAP_SOLVE_FEASIBLE || r.status == UNIAP_SOLVE_NO_SOLUTION)
        *verdict = UNIAP_SOLVE_FEASIBLE; /* out of time: the full MILP would be too */
    if (r.status == UNIAP_SOLVE_PRUNED || r.status == UNIAP_SOLVE_INFEASIBLE)
        *verdict = r.status;
    *lb = fmax(*lb, r.status == UNIAP_SOLVE_OPTIMAL ? obj : r.bound);
    if (o->incumbent_tpi > 0 && *lb > o->incumbent_tpi * (1 + 1e-9))
        *verdict = UNIAP_SOLVE_PRUNED;
    if (r.status == UNIAP_SOLVE_OPTIMAL || r.status == UNIAP_SOLVE_FEASIBLE) {
        uniap_plan_eval e;
        if ((rc = uniap_plan_evaluate(t, o->schedule, r.stage_of, r.strategy_of, &e)) < 0)
            goto free_plan;
        if (e.feasible && (!*have || e.tpi < *tpi)) {
            memcpy(stage_of, r.stage_of, sizeof(int) * L);
            memcpy(strategy_of, r.strategy_of, sizeof(int) * L);
            *tpi = e.tpi;
            *have = 1;
        }
        uniap_plan_eval_free(&e);
    }
    /* reduced-cost fixing against the incumbent: a strategy whose every
     * use costs more than the incumbent's TPI cannot be in a better (or
     * an equal) plan; the full MILP is built without it */
    if (*have)
        for (size_t a = 0; a < nseg; a++)
            allow[a] = !(dj[a] > 0 && z + dj[a] > *tpi * (1 + 1e-6));
free_plan:
    free(inc);
    uniap_pair_result_free(&r);
free_milp:
    free(dj);
    solver_milp_free(&b);
    return rc;
}

/* The smallest largest memory excess over every plan of the candidate. */
static int min_shortfall(const uniap_cost_table *t, const solver_shape *s,
                         const uniap_solve_options *o, double shortfall_cutoff,
                         uniap_pair_result *out)
{
    solver_milp m;
    double obj;
    int rc;
    uniap_pair_result r = {.stage_of = out->stage_of, .strategy_of = out->strategy_of};

    out->shortfall = HUGE_VAL;
    out->shortfall_stage = -1;
    if (shortfall_cutoff > 0) {
        /* in units of the budget, as the excess column */
        double lb = 0, cut = shortfall_cutoff / solver_mem_scale(t);
        int st = quick_bound(t, s, o->schedule, SOLVER_MIN_EXCESS, o->time_limit, &lb);
        if (st == UNIAP_EINTR)
            return UNIAP_OK; /* interrupted: the shortfall stays unknown */
        if (st < 0)
            return st;
        if (st == GLP_NOFEAS || (st == GLP_OPT && lb > cut * (1 + 1e-9)))
            return UNIAP_OK; /* cannot be the closest candidate */
    }
    if ((rc = solver_milp_build(t, s, o->schedule, SOLVER_MIN_EXCESS, NULL, &m)) < 0)
        return rc;
    if (o->lp_dir && (rc = write_lp(&m, o, "_shortfall")) < 0)
        goto free_milp;
    int st;
    if ((rc = solver_solve_relaxation(&m, o->time_limit, &st)) < 0) {
        if (rc == UNIAP_EINTR)
            rc = UNIAP_OK; /* interrupted: the shortfall stays unknown */
        goto free_milp;
    }
    if (st != GLP_OPT)
        goto free_milp; /* no placement at all (a layer no strategy allows) */
    /* the excess column is in units of the budget */
    double cutoff = shortfall_cutoff > 0 ? shortfall_cutoff / m.mem_scale : 0;
    if (cutoff > 0 && glp_get_obj_val(m.lp) > cutoff * (1 + 1e-9))
        goto free_milp; /* cannot be the closest candidate */
    if ((rc = solver_branch_and_cut(&m, o, NULL, 0, cutoff, &r, &obj)) < 0)
        goto free_milp;
    if ((r.status == UNIAP_SOLVE_OPTIMAL || r.status == UNIAP_SOLVE_FEASIBLE) &&
        !solver_interrupted()) { /* (an interrupted search may not be the least) */
        uniap_plan_eval e;
        if ((rc = uniap_plan_evaluate(t, o->schedule, out->stage_of, out->strategy_of, &e)) < 0)
            goto free_milp;
        out->shortfall = e.worst_excess;
        out->shortfall_stage = e.worst_stage;
        uniap_plan_eval_free(&e);
    }
free_milp:
    solver_milp_free(&m);
    return rc;
}

int uniap_solve_pair(const uniap_cost_table *t, const uniap_solve_options *o,
                     uniap_pair_result *out)
{
    return solver_solve_pair(t, o, 0, out);
}

/* solver_solve_pair without the table check and the outer GLPK guard
 * (not inlined: its locals stay out of the frame that calls setjmp);
 * deferred non-NULL: as solver_solve_pair_deferring's. */
static __attribute__((noinline)) int
solve_pair(const uniap_cost_table *t, const solver_rules *rules, const uniap_solve_options *o,
           double shortfall_cutoff, uniap_pair_result *out, int *deferred)
{
    int L = t->n_layers, rc;
    double t0 = now(), heur_tpi = 0, obj = 0, lb = 0, relaxed_lb = 0;
    solver_shape s = {0};
    solver_milp m = {0};
    double *inc = NULL;
    unsigned char *allow = NULL;
    int have_heur;

    memset(out, 0, sizeof(*out));
    out->deg = t->deg;
    out->micro_batches = t->micro_batches;
    out->shortfall_stage = -1;
    out->stage_of = malloc(sizeof(int) * L);
    out->strategy_of = malloc(sizeof(int) * L);
    if (!out->stage_of || !out->strategy_of) {
        uniap_pair_result_free(out);
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for a plan of %d layers", L);
    }
    /* every stage needs a layer per virtual stage; a schedule that does not
     * run (c, deg) has no plan there */
    if (L < t->deg * uniap_schedule_virtual_stages(o->schedule) ||
        (uniap_schedule_get(o->schedule) &&
         !uniap_schedule_runs(o->schedule, t->micro_batches, t->deg))) {
        out->status = UNIAP_SOLVE_INFEASIBLE;
        out->shortfall = HUGE_VAL;
        uniap_pair_result_free(out);
        return UNIAP_OK;
    }
    glpk_log = NULL;
    if (o->log_path && !(glpk_log = fopen(o->log_path, "a"))) {
        uniap_pair_result_free(out);
        return uniap_err(UNIAP_EIO, "%s: cannot open the GLPK log for appending", o->log_path);
    }
    solver_glpk_set_log(glpk_log);
    double work, slowest, tail;
    if ((rc = solver_simple_bounds(t, o->schedule, &work, &slowest, &tail)) < 0)
        goto close_log;
    double simple = uniap_schedule_tpi(o->schedule, t->micro_batches, t->deg, work, slowest, tail);
    if (o->incumbent_tpi > 0 && simple > o->incumbent_tpi * (1 + 1e-9) && !o->lp_dir) {
        out->status = UNIAP_SOLVE_PRUNED;
        out->bound = simple;
        goto done;
    }
    if ((rc = solver_shape_build_w(t, o->formulation == UNIAP_FORM_PER_LAYER, rules,
                                   solver_sched_w_terms(o->schedule, t), &s)) < 0)
        goto close_log;
    if (solver_memory_infeasible(t, o->schedule)) {
        /* no split fits memory: no MILP needed to say so (the shortfall,
         * when it matters, is still the least one: classify) */
        out->status = UNIAP_SOLVE_INFEASIBLE;
        goto classify;
    }
    if ((rc = have_heur =
             solver_heuristic(t, &s, o->schedule, out->stage_of, out->strategy_of, &heur_tpi)) < 0)
        goto free_shape;
    int verdict = 0;
    if (solver_interrupted())
        goto stop;
    /* the layout-free relaxation first: most candidates end there */
    if (!(allow = malloc((size_t)s.G * s.D * s.K))) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for the strategy mask");
        goto free_shape;
    }
    if ((rc = relaxed_solve(t, &s, o, tail, deferred != NULL, out->stage_of, out->strategy_of,
                            &have_heur, &heur_tpi, &lb, &verdict, allow, &out->nodes)) ==
        UNIAP_EINTR)
        goto stop;
    if (rc < 0)
        goto free_shape;
    relaxed_lb = lb;
    if (o->lp_dir) {
        if ((rc = solver_milp_build(t, &s, o->schedule, 0, NULL, &m)) < 0)
            goto free_shape;
        if ((rc = write_lp(&m, o, "")) < 0)
            goto free_milp;
    }
    if (verdict == VERDICT_DEFERRED) {
        *deferred = 1;
        out->status = UNIAP_SOLVE_NO_SOLUTION;
        out->tpi = have_heur ? heur_tpi : 0;
        out->bound = lb;
        goto done;
    }
    if (verdict == UNIAP_SOLVE_PRUNED || verdict == UNIAP_SOLVE_INFEASIBLE) {
        out->status = verdict;
        out->bound = lb;
        goto classify;
    }
    if (verdict == UNIAP_SOLVE_FEASIBLE) {
        /* the relaxation's MILP ran out of time: the best plan so far,
         * proven within lb */
        out->status = have_heur ? UNIAP_SOLVE_FEASIBLE : UNIAP_SOLVE_NO_SOLUTION;
        out->bound = lb;
        obj = heur_tpi;
        goto classify;
    }
    if (have_heur && heur_tpi <= lb * (1 + 1e-9)) {
        /* the relaxation's plan costs no more than the relaxation's
         * optimum: it is optimal, with no need of the full MILP */
        out->status = UNIAP_SOLVE_OPTIMAL;
        out->bound = lb;
        obj = heur_tpi;
        goto classify;
    }
    if (solver_interrupted())
        goto stop;
    if (!m.lp && (rc = solver_milp_build(t, &s, o->schedule, 0, allow, &m)) < 0)
        goto free_shape;
    if (have_heur) {
        inc = malloc(sizeof(double) * (glp_get_num_cols(m.lp) + 1));
        if (!inc) {
            rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for the incumbent");
            goto free_milp;
        }
        if ((rc = solver_milp_encode(&m, out->stage_of, out->strategy_of, inc)) < 0)
            goto free_milp;
    }

    int lp_status;
    if ((rc = solver_solve_relaxation(&m, o->time_limit, &lp_status)) == UNIAP_EINTR)
        goto stop;
    if (rc < 0)
        goto free_milp;
    if (lp_status == GLP_NOFEAS) {
        out->status = UNIAP_SOLVE_INFEASIBLE;
    } else if (lp_status != GLP_OPT) {
        /* the relaxation alone ran out of time: the heuristic plan, if
         * any, with no proven bound */
        out->status = have_heur ? UNIAP_SOLVE_FEASIBLE : UNIAP_SOLVE_NO_SOLUTION;
        out->bound = 0;
        obj = heur_tpi;
    } else {
        out->bound = fmax(glp_get_obj_val(m.lp), lb);
        /* strictly greater: a candidate that could tie the best is solved,
         * so ties are broken by candidate order, not by timing */
        if (o->incumbent_tpi > 0 && out->bound > o->incumbent_tpi * (1 + 1e-9)) {
            out->status = UNIAP_SOLVE_PRUNED;
            goto done;
        }
        if ((rc = solver_branch_and_cut(&m, o, inc, out->bound, o->incumbent_tpi, out, &obj)) < 0)
            goto free_milp;
        if (out->status == UNIAP_SOLVE_NO_SOLUTION && have_heur) {
            out->status = UNIAP_SOLVE_FEASIBLE; /* the plan is still the heuristic's */
            obj = heur_tpi;
        }
    }
    goto classify;
stop:
    /* interrupted: the best plan so far, within the best bound so far */
    rc = UNIAP_OK;
    out->status = have_heur ? UNIAP_SOLVE_FEASIBLE : UNIAP_SOLVE_NO_SOLUTION;
    out->bound = fmax(simple, lb);
    obj = heur_tpi;
classify:
    if (out->status == UNIAP_SOLVE_INFEASIBLE) {
        /* a shortfall matters only when no candidate has a plan */
        out->shortfall = HUGE_VAL;
        if (o->incumbent_tpi <= 0 && !solver_interrupted() &&
            (rc = min_shortfall(t, &s, o, shortfall_cutoff, out)) < 0)
            goto free_milp;
    } else if (out->status == UNIAP_SOLVE_OPTIMAL || out->status == UNIAP_SOLVE_FEASIBLE) {
        int fits;
        if ((rc = solver_check_plan(t, o->schedule, obj, out, &fits)) < 0)
            goto free_milp;
        if (!fits) { /* within GLPK's tolerance, over the budget */
            solver_milp_free(&m);
            if ((rc = solver_repair(t, &s, allow, o, out)) < 0)
                goto free_milp;
            if (out->status != UNIAP_SOLVE_OPTIMAL && out->status != UNIAP_SOLVE_FEASIBLE)
                goto done;
        }
        /* a runtime's rules hold (the MILP's rows and the space's check
         * are one definition) */
        UNIAP_CHECK_GOTO(!rules || solver_rules_check(rules, out->stage_of, out->strategy_of), rc,
                         free_milp);
        out->bound = fmin(out->bound, out->tpi);
        out->gap = out->tpi > 0 ? (out->tpi - out->bound) / out->tpi : 0;
        if (out->status == UNIAP_SOLVE_FEASIBLE && out->tpi <= out->bound * (1 + 1e-9))
            out->status = UNIAP_SOLVE_OPTIMAL; /* the plan reaches the bound */
        if (out->status == UNIAP_SOLVE_OPTIMAL) {
            out->bound = out->tpi; /* (a bound within 1e-9 is the optimum's) */
            out->gap = 0;
        }
    }
done:
    if (out->status != UNIAP_SOLVE_OPTIMAL && out->status != UNIAP_SOLVE_FEASIBLE) {
        free(out->stage_of);
        free(out->strategy_of);
        out->stage_of = out->strategy_of = NULL;
    }
    rc = UNIAP_OK;
free_milp:
    free(inc);
    solver_milp_free(&m);
free_shape:
    free(allow);
    solver_shape_free(&s);
close_log:
    solver_glpk_set_log(NULL);
    out->seconds = now() - t0;
    if (glpk_log) {
        static const char *const names[] = {"optimal", "feasible", "infeasible", "pruned",
                                            "no solution"};
        fprintf(glpk_log,
                "uniap: deg %d c %d %s: %s, tpi %.9g, bound %.9g (relaxation %.9g), %ld nodes, "
                "%.3f s\n",
                t->deg, t->micro_batches, uniap_schedule_name(o->schedule),
                rc < 0                  ? "error"
                : deferred && *deferred ? "deferred"
                                        : names[out->status],
                out->tpi, out->bound, relaxed_lb, out->nodes, out->seconds);
        fclose(glpk_log);
    }
    glpk_log = NULL;
    if (rc < 0)
        uniap_pair_result_free(out);
    return rc;
}

int solver_solve_pair(const uniap_cost_table *t, const uniap_solve_options *o,
                      double shortfall_cutoff, uniap_pair_result *out)
{
    return solver_solve_pair_rules(t, NULL, o, shortfall_cutoff, out);
}

/* solve_pair inside a guard for GLPK's errors (deferred: as solve_pair's). */
static int guarded_solve(const uniap_cost_table *t, const solver_rules *rules,
                         const uniap_solve_options *o, double shortfall_cutoff,
                         uniap_pair_result *out, int *deferred)
{
    solver_glpk_try tr;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = solver_table_check(t)) < 0)
        return rc;
    /* the steps guard their GLPK calls themselves; this catches the rest
     * (a GLPK error there is a bug: what the steps held is not freed, but
     * the process goes on and reports it) */
    solver_glpk_push(&tr);
    if (setjmp(tr.jb)) {
        rc = solver_glpk_caught(&tr, "solving a candidate");
        if (glpk_log)
            fclose(glpk_log);
        glpk_log = NULL;
        solver_glpk_set_log(NULL);
        uniap_pair_result_free(out);
        return rc;
    }
    rc = solve_pair(t, rules, o, shortfall_cutoff, out, deferred);
    solver_glpk_pop(&tr);
    return rc;
}

int solver_solve_pair_rules(const uniap_cost_table *t, const solver_rules *rules,
                            const uniap_solve_options *o, double shortfall_cutoff,
                            uniap_pair_result *out)
{
    return guarded_solve(t, rules, o, shortfall_cutoff, out, NULL);
}

int solver_solve_pair_deferring(const uniap_cost_table *t, const uniap_solve_options *o,
                                double shortfall_cutoff, uniap_pair_result *out, int *deferred)
{
    *deferred = 0;
    return guarded_solve(t, NULL, o, shortfall_cutoff, out, o->lp_dir ? NULL : deferred);
}
