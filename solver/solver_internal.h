/*
 * solver_internal.h - private to solver/: the structure the MILP is built
 * on (groups of identical consecutive layers, layout classes of
 * strategies, usable strategies after dominance), the MILP's column map,
 * the heuristic, and the GLPK checking macro.
 */
#ifndef UNIAP_SOLVER_INTERNAL_H
#define UNIAP_SOLVER_INTERNAL_H

#include <glpk.h>

#include "uniap_solver.h"

/* Wraps a GLPK call that returns nonzero on failure: records file, line and
 * the call, and propagates UNIAP_ELIB from the enclosing function. */
#define GLP_CHECK(call)                                                                            \
    do {                                                                                           \
        int glp_rc_ = (call);                                                                      \
        if (glp_rc_ != 0)                                                                          \
            return uniap_err(UNIAP_ELIB, "%s:%d: GLPK %s failed with code %d", __FILE__, __LINE__, \
                             #call, glp_rc_);                                                      \
    } while (0)

/* The chain as the MILP sees it.
 * Groups: maximal runs of consecutive layers whose rows (time, tail,
 * memory, allowed) are equal and whose internal reshard / xstage matrices
 * are equal; the per-layer formulation uses one group per layer.
 * Classes: strategies whose reshard and xstage rows and columns are equal
 * for every layer (same activation layout); every resharding cost depends
 * on the classes only, so the MILP tracks transitions between classes.
 * Usable: allowed for the group and not dominated by a strategy of the same
 * class that is no worse in time, tail and each memory term. */
typedef struct solver_shape {
    int L, K, D, G, C;
    int *start, *len;        /* [G] */
    int *class_of;           /* [K] */
    int *class_rep;          /* [C] a strategy of the class */
    unsigned char *usable;   /* [G*K] */
    unsigned char *class_in; /* [G*C]: the group has a usable strategy of the class */
} solver_shape;

int solver_shape_build(const uniap_cost_table *t, int per_layer, solver_shape *s);
void solver_shape_free(solver_shape *s);

/* Class-level cost matrices: internal reshard of group g (len >= 2),
 * reshard at the junction g -> g+1, xstage inside g / at the junction. */
double solver_rint(const uniap_cost_table *t, const solver_shape *s, int g, int c, int d);
double solver_rjunc(const uniap_cost_table *t, const solver_shape *s, int g, int c, int d);
double solver_xint(const uniap_cost_table *t, const solver_shape *s, int span, int g, int c, int d);
double solver_xjunc(const uniap_cost_table *t, const solver_shape *s, int span, int g, int c,
                    int d);

/* Memory rows keep this fraction of the budget free so that GLPK's
 * feasibility tolerance cannot admit a plan the evaluator rejects. */
#define SOLVER_MEM_MARGIN 1e-6

/* Column indices of the MILP (0: no such column). */
typedef struct solver_milp {
    glp_prob *lp;
    const uniap_cost_table *t;
    const solver_shape *s;
    uniap_schedule sched;
    int min_excess;             /* 1: memory may exceed the budget by xs, minimize xs */
    int bound_only;             /* 1: the relaxation without layout classes (a bound) */
    const unsigned char *allow; /* [(g*D+i)*K+k] or NULL: strategies kept */
    int G, D, K, C;
    int *n, *y;       /* [(g*D+i)*K+k] count / used indicator */
    int *pres;        /* [g*D+i] */
    int *fc, *ec;     /* [(g*D+i)*C+c] first / last class of the segment */
    int *uc, *qc;     /* [(g*D+i)*C+c] class used / connectivity supply */
    int *x, *phi;     /* [((g*D+i)*C+c)*C+d] class transitions / flow */
    int *jn;          /* [g*D+i] junction g -> g+1 inside stage i */
    int *tj;          /* [((g*D+i)*C+c)*C+d] transport at that junction */
    int *pre;         /* [g*D+j] layers of g on stages <= j (j < D-1) */
    int *lin, *lat;   /* [j*G+g] boundary j inside g / right after g */
    int *tbi, *tba;   /* [((j*G+g)*C+c)*C+d] transport across boundary j */
    int *p, *o, *pk;  /* [D], [D-1], [D] */
    int *prow, *orow; /* [D], [D-1]: the rows defining p_i and o_j */
    int T, tau, xs;
    double mem_scale; /* memory rows are divided by this */
} solver_milp;

/* Index helpers over a solver_milp's maps; they use locals G, D, K, C. */
#define SEG(g, i)         ((size_t)(g)*D + (i))
#define SEGK(g, i, k)     (SEG(g, i) * K + (k))
#define SEGC(g, i, c)     (SEG(g, i) * C + (c))
#define SEGCC(g, i, c, d) ((SEG(g, i) * C + (c)) * C + (d))
#define BND(j, g)         ((size_t)(j)*G + (g))
#define BNDCC(j, g, c, d) ((BND(j, g) * C + (c)) * C + (d))

/* Flags of solver_milp_build. MIN_EXCESS: memory may exceed the budget
 * by a column xs and the objective is xs (the shortfall problem).
 * BOUND_ONLY: no layout classes: every resharding and cross-stage cost
 * is replaced by the least it can be at that place, so the optimum (and
 * the LP optimum) is a lower bound of the full problem's; about a tenth
 * of its size, used to prune a candidate before the full MILP is built.
 * allow (NULL: all) drops strategy k of segment (g, i) where
 * allow[(g*D+i)*K+k] is 0 (fixed to zero by a reduced-cost argument). */
#define SOLVER_MIN_EXCESS 1u
#define SOLVER_BOUND_ONLY 2u

int solver_milp_build(const uniap_cost_table *t, const solver_shape *s, uniap_schedule sched,
                      unsigned flags, const unsigned char *allow, solver_milp *m);

/* Writing rows: solver_row_add appends a coefficient (column 0 or a zero
 * value is skipped; -1 when out of memory), solver_row_end adds the row
 * to lp with the bounds (repeated columns merged) and returns its index;
 * solver_add_col adds a named column (binary columns get [0, 1]). */
typedef struct solver_rows {
    int n, cap;
    int *ind;
    double *val;
} solver_rows;
int solver_row_add(solver_rows *r, int col, double v);
int solver_row_end(glp_prob *lp, solver_rows *r, int type, double lb, double ub);
int solver_add_col(glp_prob *lp, const char *name, int kind, double lb, double ub, double obj);
/* milp_segment.c: the columns and rows of segment (g, i); the transport
 * block between the last class of (gl, il) and the first of (gr, ir)
 * whose total equals column `on` (its columns written to tcols[c*C+d]). */
int solver_build_segment(solver_milp *m, solver_rows *r, int g, int i);
void solver_build_transport(solver_milp *m, solver_rows *r, int *tcols, int gl, int il, int gr,
                            int ir, int on, const char *tag);
void solver_milp_free(solver_milp *m);
/* Fills x[1..ncols] with the columns of a given plan (objective = its
 * TPI, or its largest memory excess with min_excess). */
int solver_milp_encode(const solver_milp *m, const int *stage_of, const int *strategy_of,
                       double *x);
/* Largest violation of a row or column bound by x[1..ncols] (scaled rows). */
double solver_milp_violation(const solver_milp *m, const double *x);
/* Reads the MIP solution back into a plan: stage_of, strategy_of. */
int solver_milp_extract(const solver_milp *m, int *stage_of, int *strategy_of);

/* uniap_solve_pair, and for a candidate where nothing fits, its smallest
 * shortfall is searched only while it can be at most shortfall_cutoff
 * bytes (<= 0: no cutoff); above it, shortfall is HUGE_VAL. */
int solver_solve_pair(const uniap_cost_table *t, const uniap_solve_options *o,
                      double shortfall_cutoff, uniap_pair_result *out);

/* Fast heuristic: best feasible plan among uniform-strategy assignments
 * with time-balanced stages. Returns 1 when one was found (tpi set), 0
 * when none fits, or a negative status. */
int solver_heuristic(const uniap_cost_table *t, const solver_shape *s, uniap_schedule sched,
                     int *stage_of, int *strategy_of, double *tpi);

/* Lower bounds of every memory-feasible plan from the table alone, each
 * layer at its fastest strategy that fits a device by itself: *work of the
 * stage compute summed over stages, *slowest of the slowest stage (the
 * best contiguous split), *tail of the largest per-iteration tail; all
 * HUGE_VAL when some layer fits nowhere. The TPI is at least
 * work + (c - 1) slowest + tail. Microseconds: checked first. */
int solver_simple_bounds(const uniap_cost_table *t, uniap_schedule sched, double *work,
                         double *slowest, double *tail);

#endif
