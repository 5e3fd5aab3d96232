/*
 * bench_naive.c - the naive per-layer linearization (issue 13's
 * baseline): one (deg, c) candidate's per-layer MILP (a binary per layer,
 * stage and strategy, resharding and transfers linearized per adjacent
 * pair: UniAP's MIQP linearized, uniap's --formulation per-layer) handed
 * to GLPK's branch and cut as it is, with presolve and a wall-clock
 * limit: no count bound, no layout-free relaxation, no incumbent, no
 * branching order, no pruning against other candidates. bench_solver
 * naive puts it beside uniap's whole search.
 */
#include <float.h>
#include <glpk.h>
#include <math.h>
#include <time.h>

#include "bench_naive.h"
#include "solver_internal.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* GLPK's relative gap whenever it has an incumbent */
static void record_gap(glp_tree *tree, void *info)
{
    int why = glp_ios_reason(tree);
    if (why == GLP_IBINGO || why == GLP_ISELECT)
        *(double *)info = glp_ios_mip_gap(tree);
}

int bench_naive_pair(const uniap_cost_table *t, double seconds, bench_naive_result *r)
{
    solver_shape s;
    solver_milp m;
    double gap = DBL_MAX;
    int rc;
    *r = (bench_naive_result){.status = -1, .obj = NAN, .gap = NAN};
    if ((rc = solver_shape_build(t, 1, &s)) < 0)
        return rc;
    if ((rc = solver_milp_build(t, &s, UNIAP_SCHED_1F1B, 0, NULL, &m)) < 0)
        goto free_shape;
    r->rows = glp_get_num_rows(m.lp);
    r->cols = glp_get_num_cols(m.lp);
    glp_iocp p;
    glp_init_iocp(&p);
    p.presolve = GLP_ON;
    p.msg_lev = GLP_MSG_OFF;
    p.tm_lim = (int)(seconds * 1000);
    p.cb_func = record_gap;
    p.cb_info = &gap;
    double t0 = now();
    int ret = glp_intopt(m.lp, &p);
    r->seconds = now() - t0;
    int st = glp_mip_status(m.lp);
    r->status = ret == 0 && st == GLP_OPT ? 0 : st == GLP_FEAS ? 1 : st == GLP_NOFEAS ? 2 : 3;
    if (st == GLP_OPT || st == GLP_FEAS) {
        r->obj = glp_mip_obj_val(m.lp);
        r->gap = r->status == 0 ? 0 : gap;
    }
    solver_milp_free(&m);
free_shape:
    solver_shape_free(&s);
    return rc;
}
