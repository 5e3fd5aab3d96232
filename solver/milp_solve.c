/*
 * milp_solve.c - solving one (deg, c) candidate: structure, heuristic
 * incumbent, LP relaxation bound (pruning against the best plan of other
 * candidates), GLPK branch and cut with the incumbent injected through
 * GLP_IHEUR, the plan read back and checked against uniap_plan_evaluate,
 * and for infeasible candidates the smallest memory shortfall.
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
    o->schedule = UNIAP_SCHED_1F1B;
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

/* What the branch-and-cut callback needs. */
typedef struct cb_info {
    const double *incumbent; /* full column vector, or NULL */
    int injected;
    double bound;  /* best proven bound seen */
    double cutoff; /* stop once the bound is strictly above this; 0: none */
    int cut_off;   /* 1: stopped because of cutoff */
} cb_info;

static void on_tree(glp_tree *tree, void *info)
{
    cb_info *cb = info;
    int reason = glp_ios_reason(tree);
    if (reason == GLP_IHEUR && cb->incumbent && !cb->injected) {
        glp_ios_heur_sol(tree, cb->incumbent);
        cb->injected = 1;
    }
    if (reason == GLP_ISELECT || reason == GLP_IBINGO || reason == GLP_IHEUR) {
        int best = glp_ios_best_node(tree);
        if (best)
            cb->bound = fmax(cb->bound, glp_ios_node_bound(tree, best));
        /* the candidate cannot beat (nor tie) the best plan of other
         * candidates: stop, as the LP-bound pruning does at the root */
        if (cb->cutoff > 0 && cb->bound > cb->cutoff * (1 + 1e-9)) {
            cb->cut_off = 1;
            glp_ios_terminate(tree);
        }
    }
}

static FILE *glpk_log;
static int log_hook(void *info, const char *s)
{
    (void)info;
    if (glpk_log)
        fputs(s, glpk_log);
    return 1; /* never to the terminal */
}

/* Solves the LP relaxation (presolved) and leaves an optimal basis for
 * branch and cut. Returns the GLPK status of the relaxation. */
static int solve_relaxation(glp_prob *lp, double time_limit)
{
    glp_smcp sm;
    glp_init_smcp(&sm);
    sm.msg_lev = glpk_log ? GLP_MSG_ON : GLP_MSG_OFF;
    sm.presolve = GLP_ON;
    if (time_limit > 0)
        sm.tm_lim = (int)(time_limit * 1000);
    glp_scale_prob(lp, GLP_SF_AUTO);
    glp_adv_basis(lp, 0);
    int rc = glp_simplex(lp, &sm);
    if (rc == 0 && glp_get_status(lp) == GLP_OPT)
        return GLP_OPT;
    if (rc == GLP_ENOPFS || glp_get_status(lp) == GLP_NOFEAS)
        return GLP_NOFEAS;
    sm.presolve = GLP_OFF; /* retry on the original problem */
    rc = glp_simplex(lp, &sm);
    if (rc == 0)
        return glp_get_status(lp);
    return GLP_UNDEF;
}

static int write_lp(const solver_milp *m, const uniap_solve_options *o, const char *tag)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/pair_deg%d_c%d_%s%s.lp", o->lp_dir, m->t->deg,
             m->t->micro_batches, o->schedule == UNIAP_SCHED_GPIPE ? "gpipe" : "1f1b", tag);
    if (glp_write_lp(m->lp, NULL, path) != 0)
        return uniap_err(UNIAP_EIO, "%s: cannot write the MILP in CPLEX LP format", path);
    return UNIAP_OK;
}

/* Branch and cut on a built MILP. Fills status, tpi/obj, bound and the
 * plan when one is found. */
static int branch_and_cut(solver_milp *m, const uniap_solve_options *o, const double *incumbent,
                          double root_bound, double cutoff, uniap_pair_result *out, double *obj)
{
    glp_iocp io;
    cb_info cb = {.incumbent = incumbent, .bound = root_bound, .cutoff = cutoff};
    glp_init_iocp(&io);
    io.msg_lev = glpk_log ? GLP_MSG_ALL : GLP_MSG_OFF;
    io.presolve = GLP_OFF; /* the relaxation's basis is used; see solve_relaxation */
    io.mip_gap = 0.0;
    /* hybrid pseudo-cost branching closed more real tables' gaps than
     * Driebeck-Tomlin, most-fractional or MIR/cover/clique cuts */
    io.br_tech = GLP_BR_PCH;
    io.bt_tech = GLP_BT_BLB;
    /* no cut generators: GLPK's Gomory and MIR generators stall for
     * minutes on these models without checking the time limit, and the
     * aggregated formulation proves optimality without them */
    io.cb_func = on_tree;
    io.cb_info = &cb;
    if (o->time_limit > 0)
        io.tm_lim = (int)fmax(1, o->time_limit * 1000);
    int rc = glp_intopt(m->lp, &io);
    if (rc != 0 && rc != GLP_ETMLIM && rc != GLP_ENOPFS && rc != GLP_ENODFS &&
        !(rc == GLP_ESTOP && cb.cut_off))
        return uniap_err(UNIAP_ELIB, "GLPK glp_intopt failed with code %d (deg %d, c %d)", rc,
                         m->t->deg, m->t->micro_batches);
    int st = glp_mip_status(m->lp);
    if (cb.cut_off) {
        out->status = UNIAP_SOLVE_PRUNED;
        out->bound = cb.bound;
        return UNIAP_OK;
    }
    *obj = st == GLP_OPT || st == GLP_FEAS ? glp_mip_obj_val(m->lp) : 0;
    if (st == GLP_OPT && rc == 0) {
        out->status = UNIAP_SOLVE_OPTIMAL;
        out->bound = *obj;
    } else if (st == GLP_FEAS || (st == GLP_OPT && rc == GLP_ETMLIM)) {
        out->status = UNIAP_SOLVE_FEASIBLE;
        out->bound = fmin(cb.bound, *obj);
    } else if (st == GLP_NOFEAS) {
        out->status = UNIAP_SOLVE_INFEASIBLE;
        return UNIAP_OK;
    } else {
        out->status = UNIAP_SOLVE_NO_SOLUTION;
        out->bound = cb.bound;
        return UNIAP_OK;
    }
    return solver_milp_extract(m, out->stage_of, out->strategy_of);
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
    if ((rc = solver_milp_build(t, s, o->schedule, 1, &m)) < 0)
        return rc;
    if (o->lp_dir && (rc = write_lp(&m, o, "_shortfall")) < 0)
        goto free_milp;
    if (solve_relaxation(m.lp, o->time_limit) != GLP_OPT)
        goto free_milp; /* no placement at all (a layer no strategy allows) */
    /* the excess column is in units of the budget, with the margin */
    double cutoff = shortfall_cutoff > 0 ? shortfall_cutoff / m.mem_scale + SOLVER_MEM_MARGIN : 0;
    if (cutoff > 0 && glp_get_obj_val(m.lp) > cutoff * (1 + 1e-9))
        goto free_milp; /* cannot be the closest candidate */
    if ((rc = branch_and_cut(&m, o, NULL, 0, cutoff, &r, &obj)) < 0)
        goto free_milp;
    if (r.status == UNIAP_SOLVE_OPTIMAL || r.status == UNIAP_SOLVE_FEASIBLE) {
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

int solver_solve_pair(const uniap_cost_table *t, const uniap_solve_options *o,
                      double shortfall_cutoff, uniap_pair_result *out)
{
    int L = t->n_layers, rc;
    double t0 = now(), heur_tpi = 0, obj = 0;
    solver_shape s;
    solver_milp m;
    double *inc = NULL;
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
    if (L < t->deg) {
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
    glp_term_hook(log_hook, NULL);
    if ((rc = solver_shape_build(t, o->formulation == UNIAP_FORM_PER_LAYER, &s)) < 0)
        goto close_log;
    if ((rc = have_heur =
             solver_heuristic(t, &s, o->schedule, out->stage_of, out->strategy_of, &heur_tpi)) < 0)
        goto free_shape;
    if ((rc = solver_milp_build(t, &s, o->schedule, 0, &m)) < 0)
        goto free_shape;
    if (o->lp_dir && (rc = write_lp(&m, o, "")) < 0)
        goto free_milp;
    if (have_heur) {
        inc = malloc(sizeof(double) * (glp_get_num_cols(m.lp) + 1));
        if (!inc) {
            rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for the incumbent");
            goto free_milp;
        }
        if ((rc = solver_milp_encode(&m, out->stage_of, out->strategy_of, inc)) < 0)
            goto free_milp;
    }

    int lp_status = solve_relaxation(m.lp, o->time_limit);
    if (lp_status == GLP_NOFEAS) {
        out->status = UNIAP_SOLVE_INFEASIBLE;
    } else if (lp_status != GLP_OPT) {
        /* the relaxation alone ran out of time: the heuristic plan, if
         * any, with no proven bound */
        out->status = have_heur ? UNIAP_SOLVE_FEASIBLE : UNIAP_SOLVE_NO_SOLUTION;
        out->bound = 0;
        obj = heur_tpi;
    } else {
        out->bound = glp_get_obj_val(m.lp);
        /* strictly greater: a candidate that could tie the best is solved,
         * so ties are broken by candidate order, not by timing */
        if (o->incumbent_tpi > 0 && out->bound > o->incumbent_tpi * (1 + 1e-9)) {
            out->status = UNIAP_SOLVE_PRUNED;
            goto done;
        }
        if ((rc = branch_and_cut(&m, o, inc, out->bound, o->incumbent_tpi, out, &obj)) < 0)
            goto free_milp;
        if (out->status == UNIAP_SOLVE_NO_SOLUTION && have_heur) {
            out->status = UNIAP_SOLVE_FEASIBLE; /* the plan is still the heuristic's */
            obj = heur_tpi;
        }
    }
    if (out->status == UNIAP_SOLVE_INFEASIBLE) {
        if ((rc = min_shortfall(t, &s, o, shortfall_cutoff, out)) < 0)
            goto free_milp;
    } else if (out->status == UNIAP_SOLVE_OPTIMAL || out->status == UNIAP_SOLVE_FEASIBLE) {
        uniap_plan_eval e;
        if ((rc = uniap_plan_evaluate(t, o->schedule, out->stage_of, out->strategy_of, &e)) < 0)
            goto free_milp;
        out->tpi = e.tpi;
        int agree = fabs(e.tpi - obj) <= 1e-6 * fmax(fabs(e.tpi), fabs(obj)) + 1e-12;
        int feasible = e.feasible;
        uniap_plan_eval_free(&e);
        if (!agree || !feasible) {
            rc = uniap_err(UNIAP_ELIB,
                           "solver: deg %d, c %d: MILP objective %.17g but the plan evaluates to "
                           "TPI %.17g (%s)",
                           t->deg, t->micro_batches, obj, out->tpi,
                           feasible ? "feasible" : "over memory");
            goto free_milp;
        }
        out->bound = fmin(out->bound, out->tpi);
        out->gap = out->tpi > 0 ? (out->tpi - out->bound) / out->tpi : 0;
        if (out->status == UNIAP_SOLVE_OPTIMAL)
            out->gap = 0;
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
    solver_shape_free(&s);
close_log:
    glp_term_hook(NULL, NULL);
    if (glpk_log)
        fclose(glpk_log);
    glpk_log = NULL;
    out->seconds = now() - t0;
    if (rc < 0)
        uniap_pair_result_free(out);
    return rc;
}
