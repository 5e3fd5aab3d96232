/*
 * uniap_solver.h - the solver's interface: one MILP per (deg, c) candidate
 * solved with GLPK (the aggregated formulation for runs of identical layers
 * and the general per-layer one), and the Unified Optimization Process that
 * splits the candidates over MPI ranks and keeps the plan of least TPI.
 */
#ifndef UNIAP_SOLVER_H
#define UNIAP_SOLVER_H

#include "uniap_io_mpi.h"

#include "uniap_costmodel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    UNIAP_FORM_AUTO = 0,   /* the same as UNIAP_FORM_AGGREGATED (the solver
                              tells only PER_LAYER apart): a run of one
                              layer is then its per-layer form anyway */
    UNIAP_FORM_PER_LAYER,  /* method.md section 3, one binary per layer/stage */
    UNIAP_FORM_AGGREGATED, /* integer counts per run, stage and strategy */
} uniap_formulation;

/* The plans a runtime can run of one candidate's table (a runtime's
 * space, uniap_runtime_space): fills *out for table t searched under
 * schedule sched; ctx is the caller's. */
typedef int (*uniap_space_fn)(void *ctx, const uniap_cost_table *t, uniap_schedule sched,
                              uniap_space *out);

typedef struct uniap_solve_options {
    uniap_schedule schedule;
    uniap_formulation formulation;
    long node_limit;      /* branch-and-bound nodes per branch and cut (each
                             candidate runs up to three: the layout-free
                             relaxation's, the full MILP's, a repair's); a
                             limit of work, so the same inputs give the same
                             plan on any machine and load; <= 0: none */
    double time_limit;    /* seconds per GLPK call, each LP relaxation and the
                             branch and cut of a candidate alike (up to about
                             5 calls per candidate, so a candidate may take
                             several times this); a wall-clock stop, so a
                             search it ends depends on the machine's speed
                             and load; <= 0: none */
    double incumbent_tpi; /* prune when the LP bound is strictly above; <= 0: none */
    const char *lp_dir;   /* write each MILP in CPLEX LP format here, or NULL */
    const char *log_path; /* GLPK terminal output to this file, or NULL (off) */
    /* The search only: each candidate's plans restricted to what space
     * gives for its table (a runtime, method.md section 10); NULL: every
     * plan of the table (the runtime "any", the default). */
    uniap_space_fn space;
    void *space_ctx;
} uniap_solve_options;

/* The node limit `uniap plan` uses unless told otherwise. */
#define UNIAP_PLAN_NODE_LIMIT 4000

void uniap_solve_options_default(uniap_solve_options *o);

typedef enum {
    UNIAP_SOLVE_OPTIMAL = 0, /* proven optimal for the cost model (gap 0) */
    UNIAP_SOLVE_FEASIBLE,    /* node or time limit hit with an incumbent */
    UNIAP_SOLVE_INFEASIBLE,  /* no plan fits in memory */
    UNIAP_SOLVE_PRUNED,      /* LP bound > incumbent_tpi (ties are solved) */
    UNIAP_SOLVE_NO_SOLUTION, /* node or time limit hit without any plan */
} uniap_solve_status;

typedef struct uniap_pair_result {
    uniap_solve_status status;
    int deg, micro_batches;
    double tpi;    /* of the plan found (evaluated by uniap_plan_evaluate) */
    double bound;  /* best proven lower bound on TPI */
    double gap;    /* (tpi - bound) / tpi */
    int *stage_of; /* [n_layers], malloc'd, NULL without a plan */
    int *strategy_of;
    double seconds;
    long nodes; /* branch-and-bound nodes explored, all branch and cuts */
    /* INFEASIBLE: the smallest memory shortfall seen (bytes) and its stage */
    double shortfall;
    int shortfall_stage;
} uniap_pair_result;

void uniap_pair_result_free(uniap_pair_result *r);

/* Solves one candidate's MILP exactly (up to the time limit). The table is
 * checked first (UNIAP_EINVAL naming the entry: every figure finite, >= 0,
 * and 0 or within what a real device gives, see SOLVER_MIN/MAX_* in
 * solver_internal.h). A GLPK failure is UNIAP_ELIB "GLPK failed ...",
 * never an abort. After uniap_search_interrupt() it ends like a time
 * limit: the best plan so far (FEASIBLE) or none (NO_SOLUTION), with the
 * bound proven so far. */
int uniap_solve_pair(const uniap_cost_table *t, const uniap_solve_options *o,
                     uniap_pair_result *out);

/* uniap_solve_pair over the plans of space sp (made for t): the least TPI
 * over its variants, each solved exactly against the best of the others
 * (pruned strictly, ties to the lower variant); the plan is in t's
 * indices and in a variant of sp. bound is the least over the variants;
 * OPTIMAL only when the best variant is and no other could be better.
 * INFEASIBLE when no variant has a plan that fits (or sp has none). */
int uniap_solve_space(const uniap_cost_table *t, const uniap_space *sp,
                      const uniap_solve_options *o, uniap_pair_result *out);

/* Exhaustive reference: enumerates every placement and strategy
 * assignment (small instances only). Used by tests to prove exactness. */
int uniap_brute_force(const uniap_cost_table *t, uniap_schedule s, uniap_pair_result *out);

/* ------------------------------------------------------------------ */
/* The search (additions by the solver component)                      */
/* ------------------------------------------------------------------ */

/* Builds the cost table of candidate (deg, c); ctx is the caller's. */
typedef int (*uniap_table_fn)(void *ctx, int deg, int c, uniap_cost_table *out);

typedef struct uniap_search_result {
    int found;               /* 1: best holds the plan of least TPI */
    int winner;              /* candidate index of the plan */
    uniap_schedule schedule; /* of the plan */
    uniap_pair_result best;  /* on every rank (plan arrays broadcast) */
    int n_layers;
    double bound; /* least lower bound over all candidates */
    double gap;   /* (best.tpi - bound) / best.tpi, 0 when proven */
    int optimal;  /* best.tpi proven least over all candidates */
    /* nothing fits: the smallest memory shortfall found and where */
    double shortfall; /* bytes; HUGE_VAL when no candidate had a placement */
    int shortfall_cand, shortfall_stage;
    /* candidates: pairs_solved + pairs_pruned = the candidates reached;
     * pairs_solved counts every one not pruned, the infeasible and those
     * stopped by the time limit (pairs_infeasible, pairs_timed_out) among
     * them */
    int pairs_total, pairs_solved, pairs_pruned, pairs_infeasible, pairs_timed_out;
    long nodes; /* branch-and-bound nodes, all candidates and ranks (which
                 * candidates get pruned depends on the rank count, so this
                 * may differ between rank counts; the plan does not) */
    double seconds;
    int interrupted; /* 1: stopped by uniap_search_interrupt(); best (if found)
                      * is the best plan so far, gap against the bound so far */
} uniap_search_result;

/* Async-signal-safe (call it from a SIGINT/SIGTERM handler): asks a running
 * uniap_search on this rank, and the MILP it is solving, to stop at its
 * next check (within about a tenth of a second). All ranks then agree to
 * stop, and the search returns 0 with out->interrupted = 1.
 * Checks: before each candidate, in GLPK's branch-and-bound callback
 * (glp_ios_terminate) and in the simplex's progress output (every 50 ms).
 * The ranks agree at the exchange after each round: a rank signalled
 * alone stops the others once their current candidate ends (mpirun and
 * srun deliver SIGINT/SIGTERM to every rank, so all stop at once there).
 * Result of an interrupted search: found = 1 when any plan is known, the
 * best of the solved candidates' plans and the heuristic plans of all;
 * bound = the least of the solved candidates' proven bounds (a candidate
 * stopped mid-solve gives the bound proven so far) and, for each
 * candidate not reached, its bound from the table alone (each layer at
 * its fastest strategy, the best stage split; see solver_simple_bounds),
 * so gap = (TPI - bound) / TPI is an honest worst case over all
 * candidates; optimal only when that gap is 0. found = 0 then means no
 * plan was found yet (not that nothing fits). A request made before the
 * search starts stops it at its first check; uniap_search clears the
 * request when it returns. */
void uniap_search_interrupt(void);

/* The Unified Optimization Process over comm: candidates i = (deg[i],
 * c[i], sched[i]) dealt to ranks longest-work-first, solved with
 * uniap_solve_pair (pruned against the best TPI shared after each round;
 * pruning is strict so it never changes the result), and the plan of
 * least (TPI, candidate index) chosen with MPI_MINLOC and broadcast: the
 * same plan for any number of ranks as long as no candidate hits the time
 * limit (a candidate stopped by the limit keeps the incumbent reached by
 * then, which depends on the machine's speed and on the pruning TPI it was
 * given, which depends on how the candidates were dealt). Collective; every rank returns the
 * same status, and a failure's message is the failing rank's (through
 * uniap_mpi_agree: "rank R: ..." on the others). progress: rank 0 prints
 * rounds to stderr. */
int uniap_search(MPI_Comm comm, int n_cand, const int *deg, const int *c,
                 const uniap_schedule *sched, uniap_table_fn table, void *ctx,
                 const uniap_solve_options *o, int progress, uniap_search_result *out);
void uniap_search_result_free(uniap_search_result *r);

#ifdef __cplusplus
}
#endif
#endif
