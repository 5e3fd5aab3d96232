/*
 * solver_internal.h - private to solver/: the structure the MILP is built
 * on (groups of identical consecutive layers, layout classes of
 * strategies, usable strategies after dominance), the MILP's column map,
 * the heuristic, the GLPK guard and the interrupt flag.
 */
#ifndef UNIAP_SOLVER_INTERNAL_H
#define UNIAP_SOLVER_INTERNAL_H

#include <glpk.h>
#include <setjmp.h>
#include <stdio.h>

#include "uniap_solver.h"

/* GLPK under a guard (glpk_guard.c): GLPK's errors, which would abort the
 * process, jump back to the innermost guard. Use:
 *     solver_glpk_try tr;
 *     solver_glpk_push(&tr);
 *     if (setjmp(tr.jb))
 *         return solver_glpk_caught(&tr, "what was being done");
 *     ... GLPK calls ...
 *     solver_glpk_pop(&tr);
 * After a catch every GLPK problem object
 * is gone (glp_free_env): objects made before it are recognised by
 * solver_glpk_generation() and never touched again (solver_milp_free
 * does this). solver_glpk_caught pops the guard and records UNIAP_ELIB
 * ("GLPK failed in what: GLPK's message"; UNIAP_ENOMEM when GLPK ran out
 * of memory), or UNIAP_EINTR (with no message: it is not an error, the
 * callers turn it into an interrupted result) when an interruptible
 * simplex was stopped by uniap_search_interrupt(). Not thread-safe
 * (neither is the solver). */
typedef struct solver_glpk_try {
    jmp_buf jb;
    struct solver_glpk_try *prev;
    volatile int how; /* set before the jump: 1 GLPK error, 2 interrupted */
} solver_glpk_try;
void solver_glpk_push(solver_glpk_try *tr);
void solver_glpk_pop(solver_glpk_try *tr);
int solver_glpk_caught(solver_glpk_try *tr, const char *what);
unsigned long solver_glpk_generation(void);
/* GLPK's terminal output goes to f (NULL: nowhere) while guarded. */
void solver_glpk_set_log(FILE *f);
/* 1: the simplex now running under the innermost guard stops (UNIAP_EINTR)
 * when the interrupt flag is seen; GLPK must print progress (msg_lev at
 * least GLP_MSG_ON, out_frq SOLVER_GLPK_TICK_MS) for the check to run.
 * Reset by solver_glpk_pop. */
void solver_glpk_interruptible(int on);
#define SOLVER_GLPK_TICK_MS 50
/* The flag uniap_search_interrupt() sets, and clearing it. */
int solver_interrupted(void);
void solver_interrupt_clear(void);

/* Refuses (UNIAP_EINVAL) a cost table with a size below 1, or an entry that
 * is not finite, negative, or beyond what any device gives: seconds 0 or
 * in [SOLVER_MIN_SECONDS, SOLVER_MAX_SECONDS], bytes 0 or in
 * [SOLVER_MIN_BYTES, SOLVER_MAX_BYTES], a budget in [-SOLVER_MAX_BYTES, 0]
 * (nothing fits) or [1, SOLVER_MAX_BYTES]. Per-layer entries are checked
 * where allowed, pair entries all. The message names the entry (field,
 * layer, strategy) and the range. Linear in the table's size. */
#define SOLVER_MIN_SECONDS 1e-12
#define SOLVER_MAX_SECONDS 1e9
#define SOLVER_MIN_BYTES   1e-6
#define SOLVER_MAX_BYTES   1e18
int solver_table_check(const uniap_cost_table *t);

/* The chain as the MILP sees it.
 * Groups: maximal runs of consecutive layers whose rows (time, tail,
 * memory, allowed) are equal and whose internal reshard / xstage matrices
 * are equal; the per-layer formulation uses one group per layer.
 * Rows are compared in every device class of the table.
 * Classes (layout classes; not the table's device classes): strategies
 * whose reshard (of every device class) and xstage rows and columns are
 * equal for every layer (same activation layout); every resharding cost
 * depends on the classes only, so the MILP tracks transitions between
 * classes.
 * Usable: allowed for the group on some device class and not dominated by
 * a strategy of the same class that, on every device class where the
 * strategy is allowed, is allowed and no worse in time, tail and each
 * memory term. A segment on a stage of device class q still leaves out a
 * usable strategy not allowed on q. */
/* A runtime's rules for one variant of its space (uniap_space), on the
 * variant's compact table: the strategies the variant allows somewhere,
 * map[k] the space's index of strategy k (space_solve.c). The MILP writes
 * them as rows (milp_rules.c, method.md section 10); the shape keeps the
 * groups and the dominance they need. */
typedef struct solver_rules {
    const uniap_space *sp;          /* the space, in the full table's indices */
    int v;                          /* the variant */
    const uniap_cost_table *orig;   /* the full table (for uniap_space_check) */
    const int *map;                 /* [K] strategy of the compact table -> of orig */
    const unsigned char *counted;   /* [L] transformer blocks */
    unsigned char *marked;          /* [K] full recomputation */
    int *key;                       /* [K] tie key */
    const int *tie;                 /* [L] 0: tied layer, -1: not */
    const int *lo, *hi;             /* [L] stage range of each layer, or NULL */
    int equal_middle, equal_marked; /* the variant's rules */
    int min_counted;                /* every stage holds this many counted layers at least */
    int has_tie;                    /* some layer is tied (two at least) */
} solver_rules;

typedef struct solver_shape {
    const solver_rules *rules; /* NULL: every plan of the table */
    int L, K, D, G, C;
    int *start, *len;        /* [G] */
    int *class_of;           /* [K] */
    int *class_rep;          /* [C] a strategy of the class */
    unsigned char *usable;   /* [G*K] */
    unsigned char *class_in; /* [G*C]: the group has a usable strategy of the class */
    int w_terms;             /* 1: the schedule prices W (uniap_schedule_terms' wfill, wmax) */
} solver_shape;

int solver_shape_build(const uniap_cost_table *t, int per_layer, solver_shape *s);
/* The same under rules (NULL: as above): groups also break where the
 * counted layers begin or end and around each tied layer; a strategy
 * dominates another only when the rules cannot tell them apart (both or
 * neither marked, the same tie key on a tied layer). EINVAL when
 * equal_marked meets a counted group whose usable strategies are of more
 * than one layout class (the marked-first order would then change the
 * cost; no runtime descriptor makes such a variant). */
int solver_shape_build_rules(const uniap_cost_table *t, int per_layer, const solver_rules *rules,
                             solver_shape *s);
/* The same for a schedule whose TPI has W terms when w_terms is 1: layers
 * group only when their wgrad rows are equal too, and a strategy dominates
 * another only with no less wgrad as well (more W never costs a
 * split-backward schedule time: -2 sum w + 2 max w falls as a w grows). */
int solver_shape_build_w(const uniap_cost_table *t, int per_layer, const solver_rules *rules,
                         int w_terms, solver_shape *s);
/* 1 when schedule sched's TPI for table t's (c, deg) has W terms. */
int solver_sched_w_terms(uniap_schedule sched, const uniap_cost_table *t);
void solver_shape_free(solver_shape *s);

/* Class-level cost matrices: internal reshard of group g (len >= 2) on a
 * stage of device class q, reshard at the junction g -> g+1 there, xstage
 * inside g / at the junction. NaN for a group, place, device class or
 * layout class out of range (refused by the row builder, so such a MILP
 * is never solved). */
double solver_rint(const uniap_cost_table *t, const solver_shape *s, int q, int g, int c, int d);
double solver_rjunc(const uniap_cost_table *t, const solver_shape *s, int q, int g, int c, int d);
double solver_xint(const uniap_cost_table *t, const solver_shape *s, int span, int g, int c, int d);
double solver_xjunc(const uniap_cost_table *t, const solver_shape *s, int span, int g, int c,
                    int d);

/* Memory: one definition of "fits", the evaluator's (uniap_plan_evaluate:
 * a stage's bytes <= its class's budget, compared exactly). The MILP's
 * memory rows have the budget itself as right-hand side, so every plan
 * that fits is a point of the MILP and every bound and pruning step is
 * valid at the boundary. GLPK accepts a row as met within its feasibility
 * tolerance (tol_bnd 1e-7, relative to the scaled right-hand side of
 * about 1), so a plan it returns may overflow by up to ~2e-7 of the
 * budget: every plan is evaluated, and one that overflows makes the
 * candidate be solved again with SOLVER_MEM_GUARDED rows (right-hand side
 * lowered by SOLVER_MEM_GUARD, beyond GLPK's tolerance, so each plan
 * returned fits); the first solve's bound stays the candidate's bound, and
 * the candidate is optimal only when the guarded plan reaches it.
 * SOLVER_MEM_SLACK: the relative slack of the prefilters that leave out a
 * strategy or a count before the MILP (a layer that alone overflows a
 * device, segment capacities), so that rounding in a different summation
 * order never leaves out a plan that fits. */
#define SOLVER_MEM_GUARD 4e-7
#define SOLVER_MEM_SLACK 1e-9
/* The bytes memory rows are divided by: the largest positive budget of
 * the table's device classes (1 when none is positive). */
double solver_mem_scale(const uniap_cost_table *t);

/* Column indices of the MILP (0: no such column). */
typedef struct solver_milp {
    glp_prob *lp;
    const uniap_cost_table *t;
    const solver_shape *s;
    uniap_schedule sched;
    int min_excess;             /* 1: memory may exceed the budget by xs, minimize xs */
    int guarded;                /* 1: memory rows end SOLVER_MEM_GUARD below the budget */
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
    int *wg, wm;           /* [D] w_i and max w_i: schedules with W terms only (else NULL, 0) */
    int mid, nck;          /* rules: blocks per middle stage, recomputed blocks per stage */
    int *wck;              /* [g*D+i] rules: an unrecomputed block in groups <= g on stage i */
    double mem_scale;      /* memory rows are divided by this */
    unsigned char *seg_in; /* [C] scratch of solver_build_segment */
    unsigned long glp_gen; /* solver_glpk_generation() when lp was made */
    int complete;          /* 1: every row was written (nothing failed) */
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
#define SOLVER_MIN_EXCESS  1u
#define SOLVER_BOUND_ONLY  2u
#define SOLVER_MEM_GUARDED 4u /* memory rows end SOLVER_MEM_GUARD below the budget */

/* Builds the MILP into m (free it with solver_milp_free, also after a
 * failure). Every failure is an error with m freed: out of memory (the
 * row builder's, or GLPK's own, caught by a guard), a coefficient that is
 * not finite or an invariant (UNIAP_EINTERNAL); on success m->complete is
 * 1, which the solving steps check before GLPK runs. */
int solver_milp_build(const uniap_cost_table *t, const solver_shape *s, uniap_schedule sched,
                      unsigned flags, const unsigned char *allow, solver_milp *m);

/* Writing rows: solver_row_add appends a coefficient (column 0 or a zero
 * value is skipped), solver_row_end adds the row to lp with the bounds
 * (repeated columns merged) and returns its index; solver_add_col adds a
 * named column (binary columns get [0, 1]). The builder is sticky: the
 * first failure (out of memory: UNIAP_ENOMEM; a coefficient that is not
 * finite: UNIAP_EINTERNAL) is recorded in rc with its message, every later
 * call does nothing and returns it (solver_row_end adds no row and returns
 * 0), so a builder checks rc once when done and a truncated MILP is never
 * solved (solver_milp.complete stays 0). Start zeroed. */
typedef struct solver_rows {
    int n, cap;
    int *ind;
    double *val;
    int rc; /* 0, or the first failure */
} solver_rows;
int solver_row_add(solver_rows *r, int col, double v);
int solver_row_end(glp_prob *lp, solver_rows *r, int type, double lb, double ub);
/* Test hook: the k-th call of solver_row_add from now fails as if out of
 * memory (k <= 0: none); solver_test_row_calls() counts the calls since. */
void solver_test_row_fault(long k);
long solver_test_row_calls(void);
int solver_add_col(glp_prob *lp, const char *name, int kind, double lb, double ub, double obj);
/* milp_segment.c: the columns and rows of segment (g, i); the transport
 * block between the last class of (gl, il) and the first of (gr, ir)
 * whose total equals column `on` (its columns written to tcols[c*C+d]). */
int solver_build_segment(solver_milp *m, solver_rows *r, int g, int i); /* r->rc */
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

/* milp_run.c: the LP relaxation of a complete MILP (presolved, leaving an
 * optimal basis for branch and cut; *status: GLPK's status of it), and
 * branch and cut on it (out: status, bound and, with a plan, stage_of /
 * strategy_of; *obj the MIP objective; stopped as PRUNED once the bound
 * is strictly above cutoff > 0; an interrupt ends it like its time
 * limit). Both return UNIAP_ELIB when GLPK failed; the relaxation
 * UNIAP_EINTR when interrupted (then every GLPK object is gone). */
int solver_solve_relaxation(const solver_milp *m, double time_limit, int *status);
int solver_branch_and_cut(solver_milp *m, const uniap_solve_options *o, const double *incumbent,
                          double root_bound, double cutoff, uniap_pair_result *out, double *obj);

/* milp_repair.c. solver_check_plan: the plan in out, read back from a
 * MILP of objective obj: out->tpi set from the evaluator, *fits its verdict
 * on memory; UNIAP_ELIB when the objective and the evaluated TPI disagree
 * (the MILP and the evaluator must be one model). solver_repair: out holds
 * a plan (OPTIMAL or FEASIBLE, with its bound) that overflows by less than
 * GLPK's tolerance; the candidate is solved again without it (see the
 * file), out ends with a plan that fits (OPTIMAL or FEASIBLE, bound and
 * tpi set), or PRUNED, INFEASIBLE (every plan of the MILP overflowed:
 * shortfall the least seen) or NO_SOLUTION. s and allow: the first solve's
 * shape and strategy mask, for the guarded fallback. */
int solver_check_plan(const uniap_cost_table *t, uniap_schedule sched, double obj,
                      uniap_pair_result *out, int *fits);
int solver_repair(const uniap_cost_table *t, const solver_shape *s, const unsigned char *allow,
                  const uniap_solve_options *o, uniap_pair_result *out);
#define SOLVER_REPAIR_ROUNDS 64

/* uniap_solve_pair, and for a candidate where nothing fits, its smallest
 * shortfall is searched only while it can be at most shortfall_cutoff
 * bytes (<= 0: no cutoff); above it, shortfall is HUGE_VAL. */
int solver_solve_pair(const uniap_cost_table *t, const uniap_solve_options *o,
                      double shortfall_cutoff, uniap_pair_result *out);
/* solver_solve_pair, but a candidate that needs a branch and cut (its
 * layout-free relaxation's MILP, then the full one) stops before it
 * (*deferred = 1; else 0): out->status is UNIAP_SOLVE_NO_SOLUTION with no
 * plan, out->bound the candidate's proven lower bound (its simple bound
 * and its relaxation's LP), out->tpi the TPI of the heuristic plan
 * (evaluated exactly; 0: none). The search solves the deferred candidates
 * afterwards, least bound first, against the incumbent the others left
 * (search.c). */
int solver_solve_pair_deferring(const uniap_cost_table *t, const uniap_solve_options *o,
                                double shortfall_cutoff, uniap_pair_result *out, int *deferred);

/* milp_rules.c: the rows of s->rules (stage ranges as bounds of the
 * prefixes, equal middle stages, equal recomputed counts with the
 * marked-first order, tied layers' keys); returns r->rc. Encoding a plan's
 * rule columns; ordering each segment's marked strategies first inside
 * runs of one layout class (cost-neutral: layers of a group with one class
 * have equal costs and pair costs); checking a plan (compact indices)
 * against the rules, through uniap_space_check (1: it holds). */
int solver_build_rules(solver_milp *m, solver_rows *r);
void solver_rules_encode(const solver_milp *m, const int *stage_of, const int *strategy_of,
                         double *x);
void solver_rules_order(const solver_shape *s, const int *stage_of, int *strategy_of);
int solver_rules_check(const solver_rules *r, const int *stage_of, const int *strategy_of);
/* Stage splits the rules allow for the heuristic, from layer weights w:
 * up to max splits into st[max][L]; returns how many (0: none found). */
int solver_rules_splits(const solver_rules *r, const double *w, int L, int D, int *st, int max);

/* uniap_solve_pair under rules (NULL: none) on a variant's compact table. */
int solver_solve_pair_rules(const uniap_cost_table *t, const solver_rules *rules,
                            const uniap_solve_options *o, double shortfall_cutoff,
                            uniap_pair_result *out);
/* space_solve.c: the variants of space sp on table t (the full table),
 * solved in turn against one incumbent (uniap_solve_space, and
 * shortfall_cutoff as solver_solve_pair's); and the heuristic over the
 * variants: the least heuristic TPI (*tpi, 1 returned when a plan was
 * found, in t's indices) and the least table bound (*simple). */
int solver_solve_space(const uniap_cost_table *t, const uniap_space *sp,
                       const uniap_solve_options *o, double shortfall_cutoff,
                       uniap_pair_result *out);
int solver_space_heuristic(const uniap_cost_table *t, const uniap_space *sp, uniap_schedule sched,
                           int per_layer, int *stage_of, int *strategy_of, double *tpi,
                           double *simple);

/* Fast heuristic: best feasible plan among uniform-strategy assignments
 * with contiguous stages balanced by time and, tried as well, by memory
 * (model states + activations). Returns 1 when one was found (tpi set), 0
 * when none fits, or a negative status. */
int solver_heuristic(const uniap_cost_table *t, const solver_shape *s, uniap_schedule sched,
                     int *stage_of, int *strategy_of, double *tpi);

/* 1 when no split of t's layers into its deg contiguous stages can fit
 * memory: each layer's least states + in-flight activations (the fewest
 * micro-batches any stage holds under sched, over every allowed strategy
 * and device class; the transient peak left out) packed greedily into
 * stages of the largest budget needs more than deg stages. A lower bound
 * of every plan's stage memory (uniap_plan_evaluate's), so 1 proves the
 * candidate infeasible; 0 proves nothing. O(L K). */
int solver_memory_infeasible(const uniap_cost_table *t, uniap_schedule sched);
/* Lower bounds of every memory-feasible plan from the table alone, each
 * layer at its fastest strategy that fits a device by itself: *work of the
 * stage compute summed over stages, *slowest of the slowest stage (the
 * best contiguous split), *tail of the largest per-iteration tail; all
 * HUGE_VAL when some layer fits nowhere. The TPI is at least
 * work + (c - 1) slowest + tail. Under a schedule with W terms, *work is
 * of time + (wfill / fill) wgrad per layer, its least (wmax max w >= 0
 * left out), so that the schedule's fill x work stays a lower bound.
 * Microseconds: checked first. */
int solver_simple_bounds(const uniap_cost_table *t, uniap_schedule sched, double *work,
                         double *slowest, double *tail);

/* The count bound (count_bound.c, docs/method.md section 5.6): a lower
 * bound of every plan of table t (deg, c) under sched from per-stage
 * Pareto fronts over layer counts and a split DP; tail_lb a lower bound
 * of the slowest stage's tail (solver_simple_bounds'). *bound HUGE_VAL:
 * no plan fits; 0: not computed (W terms, or past its work limits, which
 * are counted in points, never in seconds). The *n_plans (0 to 2) plans
 * the bound was read from go to stage_of / strategy_of (caller's, 2 L
 * each: plan p at p L), the plain split's first: evaluate them, they may
 * not fit (the peak and resharding were bounds). Deterministic;
 * UNIAP_ENOMEM. */
int solver_count_bound(const uniap_cost_table *t, const solver_shape *s, uniap_schedule sched,
                       double tail_lb, double *bound, int *stage_of, int *strategy_of,
                       int *n_plans);

/* Progress of a search on rank 0's stderr (progress.c). */
typedef struct solver_progress {
    int mode; /* 0 none, 1 a line per tenth of the pairs, 2 one line rewritten (a terminal) */
    int n_cand, tenth, drawn;
} solver_progress;
typedef struct solver_progress_counts {
    int done, solved, pruned;
    double best;  /* best TPI so far, DBL_MAX: none */
    double bound; /* least lower bound over every pair */
} solver_progress_counts;
/* enabled 0: shows nothing. */
void solver_progress_init(solver_progress *p, int n_cand, int enabled);
/* Shows k (last: the final line, ended by a newline on a terminal). */
void solver_progress_show(solver_progress *p, const solver_progress_counts *k, int last);

#endif
