/*
 * milp_run.c - GLPK runs on a built MILP: the LP relaxation (presolved,
 * leaving an optimal basis; interruptible through GLPK's progress output)
 * and branch and cut (stage boundaries branched on first, the incumbent
 * injected through GLP_IHEUR, stopped by a cutoff on the bound or by an
 * interrupt through glp_ios_terminate), each under a GLPK guard.
 */
#include <math.h>
#include <stdlib.h>

#include "solver_internal.h"

/* What the branch-and-cut callback needs. */
typedef struct cb_info {
    const double *incumbent; /* full column vector, or NULL */
    int injected;
    double bound;     /* best proven bound seen */
    double cutoff;    /* stop once the bound is strictly above this; 0: none */
    int cut_off;      /* 1: stopped because of cutoff */
    int interrupted;  /* 1: stopped by uniap_search_interrupt() */
    long nodes;       /* subproblems selected so far */
    long node_limit;  /* stop after this many (<= 0: none) */
    int out_of_nodes; /* 1: stopped by node_limit */
    glp_prob *lp;
    const int *placement; /* columns of stage boundaries (pre, lin, lat) */
    int n_placement;
} cb_info;

static void on_tree(glp_tree *tree, void *info)
{
    cb_info *cb = info;
    int reason = glp_ios_reason(tree);
    if (solver_interrupted()) { /* ends like a time limit: best plan so far */
        cb->interrupted = 1;
        glp_ios_terminate(tree);
        return;
    }
    if (reason == GLP_ISELECT && cb->node_limit > 0 && ++cb->nodes > cb->node_limit) {
        cb->out_of_nodes = 1; /* a limit of work: the same stop on any machine */
        glp_ios_terminate(tree);
        return;
    }
    if (reason == GLP_ISELECT && cb->node_limit <= 0)
        cb->nodes++;
    if (reason == GLP_IBRANCH && cb->placement) {
        /* the most fractional stage boundary, else GLPK's choice */
        int best = 0;
        double score = 1e-6;
        for (int a = 0; a < cb->n_placement; a++) {
            int j = cb->placement[a];
            if (!glp_ios_can_branch(tree, j))
                continue;
            double v = glp_get_col_prim(cb->lp, j), f = fmin(v - floor(v), ceil(v) - v);
            if (f > score)
                score = f, best = j;
        }
        if (best) {
            double v = glp_get_col_prim(cb->lp, best);
            glp_ios_branch_upon(tree, best, v - floor(v) > 0.5 ? GLP_UP_BRNCH : GLP_DN_BRNCH);
        }
    }
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

/* Solves the LP relaxation of a complete MILP (presolved) and leaves an
 * optimal basis for branch and cut: *status is the GLPK status of the
 * relaxation. Returns UNIAP_ELIB when GLPK failed, UNIAP_EINTR when
 * interrupted (then every GLPK object is gone, see solver_glpk_push). */
int solver_solve_relaxation(const solver_milp *m, double time_limit, int *status)
{
    solver_glpk_try tr;
    glp_prob *lp = m->lp;
    glp_smcp sm;

    UNIAP_CHECK(m->complete && lp);
    if (solver_interrupted())
        return UNIAP_EINTR; /* (no message, see solver_glpk_caught) */
    glp_init_smcp(&sm);
    /* progress output, discarded unless logging, is where an interrupt is
     * seen (the simplex has no callback) */
    sm.msg_lev = GLP_MSG_ON;
    sm.out_frq = SOLVER_GLPK_TICK_MS;
    sm.presolve = GLP_ON;
    if (time_limit > 0)
        sm.tm_lim = (int)(time_limit * 1000);
    solver_glpk_push(&tr);
    if (setjmp(tr.jb))
        return solver_glpk_caught(&tr, "the LP relaxation");
    solver_glpk_interruptible(1);
    glp_scale_prob(lp, GLP_SF_AUTO);
    glp_adv_basis(lp, 0);
    int rc = glp_simplex(lp, &sm), st = GLP_UNDEF;
    if (rc == 0 && glp_get_status(lp) == GLP_OPT) {
        st = GLP_OPT;
    } else if (rc == GLP_ENOPFS || glp_get_status(lp) == GLP_NOFEAS) {
        st = GLP_NOFEAS;
    } else {
        sm.presolve = GLP_OFF; /* retry on the original problem */
        rc = glp_simplex(lp, &sm);
        if (rc == 0)
            st = glp_get_status(lp);
    }
    solver_glpk_pop(&tr);
    *status = st;
    return UNIAP_OK;
}

/* Branch and cut on a built MILP. Fills status, tpi/obj, bound and the
 * plan when one is found. */
int solver_branch_and_cut(solver_milp *m, const uniap_solve_options *o, const double *incumbent,
                          double root_bound, double cutoff, uniap_pair_result *out, double *obj)
{
    glp_iocp io;
    cb_info cb = {
        .incumbent = incumbent, .bound = root_bound, .cutoff = cutoff, .node_limit = o->node_limit};
    solver_glpk_try tr;
    UNIAP_CHECK(m->complete && m->lp);
    glp_init_iocp(&io);
    /* stage boundaries first in the full MILP, where they closed Swin-Huge's
     * gaps 6x faster; not in the layout-free relaxation, where GLPK's own
     * choice finds far better plans of deep pipelines (Llama-70B on 64
     * GPUs: 62.26 s against 64.64 s in 5 s) */
    size_t nb = (size_t)m->G * m->D;
    int *placement = malloc(sizeof(int) * 3 * nb), np = 0;
    if (!placement)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the branching order");
    for (size_t a = 0; a < nb && !m->bound_only; a++) {
        int cols[3] = {m->pre[a], a < (size_t)m->G * (m->D - 1) ? m->lin[a] : 0,
                       a < (size_t)m->G * (m->D - 1) ? m->lat[a] : 0};
        for (int q = 0; q < 3; q++)
            if (cols[q])
                placement[np++] = cols[q];
    }
    cb.lp = m->lp;
    cb.placement = placement;
    cb.n_placement = np;
    io.msg_lev = o->log_path ? GLP_MSG_ALL : GLP_MSG_OFF;
    io.presolve = GLP_OFF; /* the relaxation's basis is used; see solver_solve_relaxation */
    io.mip_gap = 0.0;
    /* an integer column within tol_int of an integer counts as integral:
     * GLPK's 1e-5 lets a used-strategy indicator of 0.99999 shave 1e-5 of
     * a peak off a memory row, more than the guard of the memory rows
     * (solver_internal.h); at 1e-9 the counts' error is below it */
    io.tol_int = 1e-9;
    /* Driebeck-Tomlin (after stage boundaries, see above): on the
     * benchmark tables this closed the gaps fastest (hybrid pseudo-cost
     * took 1.5-5x longer, most-fractional often hit the time limit) */
    io.br_tech = GLP_BR_DTH;
    io.bt_tech = GLP_BT_BLB;
    /* no cut generators: GLPK's Gomory and MIR generators stall for
     * minutes on the full MILP without checking the time limit, and MIR
     * cuts on the relaxation did not change the growth benchmark's gaps
     * beyond noise */
    io.cb_func = on_tree;
    io.cb_info = &cb;
    if (o->time_limit > 0)
        io.tm_lim = (int)fmax(1, o->time_limit * 1000);
    solver_glpk_push(&tr);
    if (setjmp(tr.jb)) {
        free(placement);
        return solver_glpk_caught(&tr, "branch and cut");
    }
    int rc = glp_intopt(m->lp, &io);
    solver_glpk_pop(&tr);
    free(placement);
    out->nodes += cb.nodes;
    /* an interrupt ends the search like its node or time limit */
    int stopped =
        rc == GLP_ETMLIM || (rc == GLP_ESTOP && (cb.interrupted || cb.out_of_nodes) && !cb.cut_off);
    if (rc != 0 && !stopped && rc != GLP_ENOPFS && rc != GLP_ENODFS &&
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
    } else if (st == GLP_FEAS || (st == GLP_OPT && stopped)) {
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
