/*
 * search.c - the Unified Optimization Process over MPI ranks: candidates
 * (deg, c, schedule) dealt longest-work-first, solved in rounds (after each
 * round the ranks agree on their status, so that all fail together with
 * the failing rank's message, and share the best TPI for pruning, the
 * smallest shortfall, an interrupt request and progress), in two phases
 * (the first takes every candidate through its bounds and relaxation LP
 * and defers those that need a branch and cut; the second solves the
 * deferred ones, best plan then least bound first, when the incumbent is
 * lowest), the winner chosen by MPI_MINLOC over (TPI, candidate index)
 * and its plan broadcast from the rank that owns it.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

/* Records a failed MPI call (its location shown with --debug only). */
static int mpi_failed(const char *file, int line, const char *call, int code)
{
    char s[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (MPI_Error_string(code, s, &n) != MPI_SUCCESS)
        snprintf(s, sizeof s, "code %d", code);
    return uniap_err_at(file, line, UNIAP_ELIB, "search: MPI call %s failed: %s", call, s);
}

/* Returns UNIAP_ELIB from the enclosing function when an MPI call fails. */
#define UNIAP__MPI_CHECK(call)                                                                     \
    do {                                                                                           \
        int mpi_rc_ = (call);                                                                      \
        if (mpi_rc_ != MPI_SUCCESS)                                                                \
            return mpi_failed(__FILE__, __LINE__, #call, mpi_rc_);                                 \
    } while (0)

typedef struct val_idx {
    double v;
    int i;
} val_idx; /* MPI_DOUBLE_INT */

/* One rank's view of a search. */
typedef struct search_state {
    MPI_Comm comm;
    int rank, size, n_cand;
    const int *deg, *c;
    const uniap_schedule *sched;
    uniap_table_fn table;
    void *ctx;
    const uniap_solve_options *o;
    int *owner, *order, *mine, n_mine, rounds;
    double *heur;   /* [n_cand] heuristic TPI of this rank's candidates */
    double *simple; /* [n_cand] their bound from the table alone */
    val_idx best, worst_fit, hbest;
    uniap_pair_result keep;  /* plan of best (solved candidates) */
    uniap_pair_result hkeep; /* plan of hbest (heuristic plans; used if interrupted) */
    double closest, bound, incumbent;
    int counts[4]; /* solved, pruned, infeasible, timed out */
    long nodes;    /* branch-and-bound nodes of this rank's candidates */
    int short_stage, n_layers;
    int searched;              /* mine[0..searched) were handed to the solver */
    int *deferred, n_deferred; /* this rank's candidates phase 1 deferred */
    int pending;               /* of those, not yet solved in phase 2 */
    double *dbound;            /* [n_cand] a deferred candidate's lower bound */
    double dbest;              /* least TPI of the deferred candidates' plans */
    double shown;              /* the best TPI of all ranks after the last round */
    int interrupted;
} search_state;

void uniap_search_result_free(uniap_search_result *r)
{
    if (r)
        uniap_pair_result_free(&r->best);
}

/* Deals candidates to ranks in decreasing order of pipeline degree (a
 * stable sort), each to the least loaded rank, a candidate of degree deg
 * weighing 1 + deg. */
static int deal(int n, const int *deg, int size, int *owner, int *order)
{
    double *load = calloc((size_t)size, sizeof(double));
    if (!load)
        return uniap_err(UNIAP_ENOMEM, "search: out of memory for %d ranks", size);
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int a = 1; a < n; a++) /* stable insertion sort by work, largest first */
        for (int b = a; b > 0 && deg[order[b]] > deg[order[b - 1]]; b--) {
            int tmp = order[b];
            order[b] = order[b - 1];
            order[b - 1] = tmp;
        }
    for (int a = 0; a < n; a++) {
        int best = 0;
        for (int r = 1; r < size; r++)
            if (load[r] < load[best])
                best = r;
        owner[order[a]] = best;
        load[best] += 1.0 + deg[order[a]];
    }
    free(load);
    return UNIAP_OK;
}

/* Candidate i's heuristic plan (its TPI orders the candidates; the best
 * one is kept as the plan of an interrupted search) and its bound from the
 * table alone (the bound of a candidate an interrupted search left). */
static int heuristic_of(search_state *st, int i)
{
    uniap_cost_table t;
    solver_shape s = {0};
    int rc, *stage_of = NULL, *strategy_of = NULL;
    double work, slowest, tail, h;

    st->heur[i] = DBL_MAX;
    st->simple[i] = HUGE_VAL;
    if ((rc = st->table(st->ctx, st->deg[i], st->c[i], &t)) < 0)
        return rc;
    if ((rc = solver_table_check(&t)) < 0 || t.n_layers < t.deg)
        goto free_table;
    st->n_layers = t.n_layers;
    if ((rc = solver_simple_bounds(&t, st->sched[i], &work, &slowest, &tail)) < 0)
        goto free_table;
    st->simple[i] = uniap_schedule_tpi(st->sched[i], t.micro_batches, t.deg, work, slowest, tail);
    int per_layer = st->o->formulation == UNIAP_FORM_PER_LAYER;
    if (!st->o->space && (rc = solver_shape_build_w(
                              &t, per_layer, NULL, solver_sched_w_terms(st->sched[i], &t), &s)) < 0)
        goto free_table;
    stage_of = malloc(sizeof(int) * t.n_layers);
    strategy_of = malloc(sizeof(int) * t.n_layers);
    if (!stage_of || !strategy_of) {
        rc = uniap_err(UNIAP_ENOMEM, "search: out of memory for a plan of %d layers", t.n_layers);
        goto free_plan;
    }
    if (st->o->space) { /* a runtime's plans: the best heuristic plan of its variants */
        uniap_space sp = {0};
        double simple = HUGE_VAL;
        if ((rc = st->o->space(st->o->space_ctx, &t, st->sched[i], &sp)) == 0)
            rc = solver_space_heuristic(&t, &sp, st->sched[i], per_layer, stage_of, strategy_of, &h,
                                        &simple);
        uniap_space_free(&sp);
        if (rc < 0)
            goto free_plan;
        st->simple[i] = fmax(st->simple[i], simple); /* both bound the runtime's plans */
    } else if ((rc = solver_heuristic(&t, &s, st->sched[i], stage_of, strategy_of, &h)) < 0) {
        goto free_plan;
    }
    if (rc == 1) {
        st->heur[i] = h;
        if (h < st->hbest.v || (h == st->hbest.v && i < st->hbest.i)) {
            uniap_pair_result_free(&st->hkeep);
            st->hkeep = (uniap_pair_result){.status = UNIAP_SOLVE_FEASIBLE,
                                            .deg = st->deg[i],
                                            .micro_batches = st->c[i],
                                            .tpi = h,
                                            .bound = st->simple[i],
                                            .stage_of = stage_of,
                                            .strategy_of = strategy_of};
            stage_of = strategy_of = NULL;
            st->hbest = (val_idx){h, i};
        }
    }
    rc = UNIAP_OK;
free_plan:
    free(stage_of);
    free(strategy_of);
    solver_shape_free(&s);
free_table:
    uniap_cost_table_free(&t);
    return rc;
}

/* Candidate a is solved before b: lower heuristic TPI, then fewer stages,
 * then lower index. */
static int solve_before(const double *heur, const int *deg, int a, int b)
{
    if (heur[a] != heur[b])
        return heur[a] < heur[b];
    if (deg[a] != deg[b])
        return deg[a] < deg[b];
    return a < b;
}

/* Deals the candidates, computes this rank's heuristics, and orders its
 * candidates: the first MILPs then usually hold the best plan, and the
 * later candidates meet a low incumbent and are pruned by their LP bound
 * (at the root or during branch and cut); the winner does not depend on
 * the order (least TPI, then candidate index, and candidates that could
 * tie are solved). Collective. */
static int prepare(search_state *st)
{
    int n = st->n_cand, rc = UNIAP_OK;
    st->owner = malloc(sizeof(int) * (n + 1));
    st->order = malloc(sizeof(int) * (n + 1));
    st->mine = malloc(sizeof(int) * (n + 1));
    st->heur = malloc(sizeof(double) * (n + 1));
    st->simple = malloc(sizeof(double) * (n + 1));
    st->deferred = malloc(sizeof(int) * (n + 1));
    st->dbound = malloc(sizeof(double) * (n + 1));
    if (!st->owner || !st->order || !st->mine || !st->heur || !st->simple || !st->deferred ||
        !st->dbound)
        rc = uniap_err(UNIAP_ENOMEM, "search: out of memory for %d candidates", n);
    if (rc == UNIAP_OK)
        rc = deal(n, st->deg, st->size, st->owner, st->order);
    if ((rc = uniap_mpi_agree(st->comm, rc)) < 0)
        return rc;
    for (int a = 0; a < n; a++) {
        int n_r = 0;
        for (int b = 0; b <= a; b++)
            n_r += st->owner[st->order[b]] == st->owner[st->order[a]];
        if (st->owner[st->order[a]] == st->rank)
            st->mine[st->n_mine++] = st->order[a];
        st->rounds = n_r > st->rounds ? n_r : st->rounds;
    }
    /* (interrupted: the candidates left have no plan and no bound yet) */
    for (int a = 0; a < st->n_mine; a++)
        st->heur[st->mine[a]] = DBL_MAX, st->simple[st->mine[a]] = 0;
    for (int a = 0; a < st->n_mine && rc == UNIAP_OK && !solver_interrupted(); a++)
        rc = heuristic_of(st, st->mine[a]);
    if ((rc = uniap_mpi_agree(st->comm, rc)) < 0)
        return rc;
    /* every heuristic plan is a plan: the least of them is an incumbent
     * for all ranks from the first round on */
    double heur_best = DBL_MAX;
    for (int a = 0; a < st->n_mine; a++)
        heur_best = fmin(heur_best, st->heur[st->mine[a]]);
    UNIAP__MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &heur_best, 1, MPI_DOUBLE, MPI_MIN, st->comm));
    st->incumbent = fmin(st->incumbent, heur_best);
    for (int a = 1; a < st->n_mine; a++)
        for (int b = a; b > 0 && solve_before(st->heur, st->deg, st->mine[b], st->mine[b - 1]);
             b--) {
            int tmp = st->mine[b];
            st->mine[b] = st->mine[b - 1];
            st->mine[b - 1] = tmp;
        }
    return UNIAP_OK;
}

/* Solves candidate i (this rank's) against the incumbent and records it;
 * in phase 1 one that needs a branch and cut is deferred (its
 * bound and plan's TPI kept for phase 2 and the incumbent). */
static int solve_one(search_state *st, int i, int phase)
{
    int deferred = 0;
    uniap_cost_table t;
    uniap_pair_result r;
    uniap_solve_options oi = *st->o;
    oi.schedule = st->sched[i];
    oi.incumbent_tpi = st->incumbent < DBL_MAX ? st->incumbent : 0;
    int rc = st->table(st->ctx, st->deg[i], st->c[i], &t);
    if (rc < 0)
        return rc;
    st->n_layers = t.n_layers;
    double closest = st->closest < DBL_MAX ? st->closest : 0;
    if (st->o->space) { /* a runtime's plans only */
        uniap_space sp = {0};
        if ((rc = st->o->space(st->o->space_ctx, &t, st->sched[i], &sp)) == 0)
            rc = solver_solve_space(&t, &sp, &oi, closest, &r);
        uniap_space_free(&sp);
    } else {
        rc = phase == 1 ? solver_solve_pair_deferring(&t, &oi, closest, &r, &deferred)
                        : solver_solve_pair(&t, &oi, closest, &r);
    }
    uniap_cost_table_free(&t);
    if (rc < 0)
        return rc;
    st->nodes += r.nodes;
    if (deferred) {
        st->dbound[i] = r.bound;
        if (r.tpi > 0) /* a plan evaluated exactly: an incumbent */
            st->dbest = fmin(st->dbest, r.tpi);
        st->deferred[st->n_deferred++] = i;
        st->pending++;
        uniap_pair_result_free(&r);
        return UNIAP_OK;
    }
    st->pending -= phase == 2;
    int has_plan = r.status == UNIAP_SOLVE_OPTIMAL || r.status == UNIAP_SOLVE_FEASIBLE;
    st->counts[0] += r.status != UNIAP_SOLVE_PRUNED;
    st->counts[1] += r.status == UNIAP_SOLVE_PRUNED;
    st->counts[2] += r.status == UNIAP_SOLVE_INFEASIBLE;
    st->counts[3] += r.status == UNIAP_SOLVE_FEASIBLE || r.status == UNIAP_SOLVE_NO_SOLUTION;
    if (r.status != UNIAP_SOLVE_INFEASIBLE)
        st->bound = fmin(st->bound, r.bound);
    if (r.status == UNIAP_SOLVE_INFEASIBLE && r.shortfall < st->worst_fit.v) {
        st->worst_fit = (val_idx){r.shortfall, i};
        st->short_stage = r.shortfall_stage;
    }
    if (has_plan && (r.tpi < st->best.v || (r.tpi == st->best.v && i < st->best.i))) {
        uniap_pair_result_free(&st->keep);
        st->keep = r;
        st->best = (val_idx){r.tpi, i};
    } else {
        uniap_pair_result_free(&r);
    }
    return UNIAP_OK;
}

/* The least bound of the deferred candidates not yet solved. */
static double pending_bound(const search_state *st)
{
    double lb = DBL_MAX;
    for (int a = st->n_deferred - st->pending; a < st->n_deferred; a++)
        lb = fmin(lb, st->dbound[st->deferred[a]]);
    return lb;
}

/* Progress after a round (pr NULL: none): the pairs done, solved and
 * pruned summed over the ranks, and the least lower bound of every pair
 * (solved: its bound; deferred: its relaxation's LP bound; not yet
 * solved: its table bound). Collective. */
static int show_progress(search_state *st, solver_progress *pr, double best, int last)
{
    if (!pr)
        return UNIAP_OK;
    int in[3] = {st->searched - st->pending, st->counts[0], st->counts[1]}, sum[3];
    double lb = fmin(st->bound, pending_bound(st)), all_lb;
    for (int a = st->searched; a < st->n_mine; a++)
        lb = fmin(lb, st->simple[st->mine[a]]);
    UNIAP__MPI_CHECK(MPI_Reduce(in, sum, 3, MPI_INT, MPI_SUM, 0, st->comm));
    UNIAP__MPI_CHECK(MPI_Reduce(&lb, &all_lb, 1, MPI_DOUBLE, MPI_MIN, 0, st->comm));
    if (st->rank == 0) {
        solver_progress_counts k = {sum[0], sum[1], sum[2], best, all_lb};
        solver_progress_show(pr, &k, last);
    }
    return UNIAP_OK;
}

/* One round of a phase: this rank solves list[round] (if it has one and
 * no interrupt came), then all agree on status, best TPI, smallest
 * shortfall and whether any rank was interrupted (a rank alone signalled
 * stops everyone here). */
static int one_round(search_state *st, solver_progress *pr, const int *list, int n, int round,
                     int phase, int last)
{
    int rc = UNIAP_OK;
    if (round < n && !solver_interrupted()) {
        if (phase == 1)
            st->searched = round + 1;
        rc = solve_one(st, list[round], phase);
    }
    if ((rc = uniap_mpi_agree(st->comm, rc)) < 0)
        return rc;
    double v[3] = {fmin(st->best.v, st->dbest), st->worst_fit.v, solver_interrupted() ? -1.0 : 0.0},
           all[3];
    UNIAP__MPI_CHECK(MPI_Allreduce(v, all, 3, MPI_DOUBLE, MPI_MIN, st->comm));
    st->incumbent = fmin(st->incumbent, all[0]);
    st->closest = all[1];
    st->interrupted = all[2] < 0;
    st->shown = all[0];
    return show_progress(st, pr, all[0], last || st->interrupted);
}

/* Deferred candidate a is solved before b: a lower bound (ties keep the
 * order of phase 1). */
static int deferred_before(const search_state *st, int a, int b)
{
    return st->dbound[st->deferred[a]] < st->dbound[st->deferred[b]];
}

/* Orders the deferred candidates least bound first (a stable sort: ties
 * keep phase 1's order): the candidate most likely to hold the optimum
 * lowers the incumbent for the others. (Solving the one with the best
 * heuristic plan first was measured worse with the count bound: GPT-3
 * 175B on 1,024 A100 spent 26 s in a candidate the optimum prunes.) */
static void order_deferred(search_state *st)
{
    int *d = st->deferred;
    for (int a = 1; a < st->n_deferred; a++)
        for (int b = a; b > 0 && deferred_before(st, b, b - 1); b--) {
            int tmp = d[b];
            d[b] = d[b - 1];
            d[b - 1] = tmp;
        }
}

/* Phase 1 over this rank's candidates, then phase 2 over the deferred
 * ones (order_deferred). */
static int run_rounds(search_state *st, int progress)
{
    solver_progress prog, *pr = progress ? &prog : NULL;
    int rc, rounds2;
    solver_progress_init(&prog, st->n_cand, progress && st->rank == 0);
    for (int round = 0; round < st->rounds && !st->interrupted; round++)
        if ((rc = one_round(st, pr, st->mine, st->n_mine, round, 1, 0)) < 0)
            return rc;
    order_deferred(st);
    UNIAP__MPI_CHECK(MPI_Allreduce(&st->n_deferred, &rounds2, 1, MPI_INT, MPI_MAX, st->comm));
    if (st->interrupted)
        return UNIAP_OK;
    if (rounds2 == 0)
        return show_progress(st, pr, st->shown, 1);
    for (int round = 0; round < rounds2 && !st->interrupted; round++)
        if ((rc = one_round(st, pr, st->deferred, st->n_deferred, round, 2, round + 1 == rounds2)) <
            0)
            return rc;
    return UNIAP_OK;
}

/* Interrupted: the candidates left unsolved are bounded by their table
 * bound, and the best heuristic plan competes with the solved ones. */
static void after_interrupt(search_state *st)
{
    for (int a = st->searched; a < st->n_mine; a++)
        st->bound = fmin(st->bound, st->simple[st->mine[a]]);
    st->bound = fmin(st->bound, pending_bound(st));
    if (st->hbest.v < st->best.v || (st->hbest.v == st->best.v && st->hbest.i < st->best.i)) {
        uniap_pair_result_free(&st->keep);
        st->keep = st->hkeep;
        st->hkeep = (uniap_pair_result){0};
        st->best = st->hbest;
    }
}

/* The winner's plan, broadcast from its owner, and the global bound. */
static int share_winner(search_state *st, val_idx got, uniap_search_result *out)
{
    int root = st->owner[got.i], n_layers = st->n_layers, rc = UNIAP_OK;
    const uniap_pair_result *k = &st->keep;
    double vals[5] = {k->tpi, k->bound, k->gap, k->seconds, k->status};
    out->found = 1;
    out->winner = got.i;
    out->schedule = st->sched[got.i];
    out->best.deg = st->deg[got.i];
    out->best.micro_batches = st->c[got.i];
    out->best.stage_of = malloc(sizeof(int) * (n_layers + 1));
    out->best.strategy_of = malloc(sizeof(int) * (n_layers + 1));
    if (!out->best.stage_of || !out->best.strategy_of)
        rc = uniap_err(UNIAP_ENOMEM, "search: out of memory for the plan");
    if ((rc = uniap_mpi_agree(st->comm, rc)) < 0)
        return rc;
    if (st->rank == root) {
        memcpy(out->best.stage_of, k->stage_of, sizeof(int) * n_layers);
        memcpy(out->best.strategy_of, k->strategy_of, sizeof(int) * n_layers);
    }
    UNIAP__MPI_CHECK(MPI_Bcast(vals, 5, MPI_DOUBLE, root, st->comm));
    UNIAP__MPI_CHECK(MPI_Bcast(out->best.stage_of, n_layers, MPI_INT, root, st->comm));
    UNIAP__MPI_CHECK(MPI_Bcast(out->best.strategy_of, n_layers, MPI_INT, root, st->comm));
    out->best.tpi = vals[0];
    out->best.seconds = vals[3];
    out->best.status = (uniap_solve_status)(int)vals[4];
    out->bound = fmin(st->bound, out->best.tpi);
    out->gap = (out->best.tpi - out->bound) / out->best.tpi;
    out->optimal = out->gap <= 1e-9 && out->best.status == UNIAP_SOLVE_OPTIMAL;
    if (out->optimal)
        out->gap = 0;
    out->best.bound = out->bound;
    out->best.gap = out->gap;
    return UNIAP_OK;
}

/* After the rounds: counts, bound, winner (or the smallest shortfall). */
static int finish(search_state *st, uniap_search_result *out)
{
    MPI_Comm comm = st->comm;
    val_idx in = st->best, got;
    int all_counts[4];
    if (st->interrupted) {
        after_interrupt(st);
        in = st->best;
    }
    UNIAP__MPI_CHECK(MPI_Allreduce(&in, &got, 1, MPI_DOUBLE_INT, MPI_MINLOC, comm));
    UNIAP__MPI_CHECK(MPI_Allreduce(st->counts, all_counts, 4, MPI_INT, MPI_SUM, comm));
    UNIAP__MPI_CHECK(MPI_Allreduce(&st->nodes, &out->nodes, 1, MPI_LONG, MPI_SUM, comm));
    UNIAP__MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &st->bound, 1, MPI_DOUBLE, MPI_MIN, comm));
    UNIAP__MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &st->n_layers, 1, MPI_INT, MPI_MAX, comm));
    out->pairs_total = st->n_cand;
    out->pairs_solved = all_counts[0];
    out->pairs_pruned = all_counts[1];
    out->pairs_infeasible = all_counts[2];
    out->pairs_timed_out = all_counts[3];
    out->n_layers = st->n_layers;
    out->interrupted = st->interrupted;
    if (got.v < DBL_MAX)
        return share_winner(st, got, out);
    in = st->worst_fit;
    UNIAP__MPI_CHECK(MPI_Allreduce(&in, &got, 1, MPI_DOUBLE_INT, MPI_MINLOC, comm));
    out->shortfall = got.v < DBL_MAX ? got.v : HUGE_VAL;
    out->shortfall_cand = got.i < st->n_cand ? got.i : -1;
    out->shortfall_stage = -1;
    if (got.i < st->n_cand) {
        int s = st->short_stage;
        UNIAP__MPI_CHECK(MPI_Bcast(&s, 1, MPI_INT, st->owner[got.i], comm));
        out->shortfall_stage = s;
    }
    return UNIAP_OK;
}

int uniap_search(MPI_Comm comm, int n_cand, const int *deg, const int *c,
                 const uniap_schedule *sched, uniap_table_fn table, void *ctx,
                 const uniap_solve_options *o, int progress, uniap_search_result *out)
{
    search_state st = {.comm = comm,
                       .n_cand = n_cand,
                       .deg = deg,
                       .c = c,
                       .sched = sched,
                       .table = table,
                       .ctx = ctx,
                       .o = o,
                       .best = {DBL_MAX, n_cand},
                       .worst_fit = {DBL_MAX, n_cand},
                       .hbest = {DBL_MAX, n_cand},
                       .closest = DBL_MAX,
                       .dbest = DBL_MAX,
                       .shown = DBL_MAX,
                       .bound = DBL_MAX,
                       .incumbent = o->incumbent_tpi > 0 ? o->incumbent_tpi : DBL_MAX,
                       .short_stage = -1};
    double t0 = MPI_Wtime();
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = MPI_Comm_rank(comm, &st.rank)) != MPI_SUCCESS ||
        (rc = MPI_Comm_size(comm, &st.size)) != MPI_SUCCESS) {
        rc = mpi_failed(__FILE__, __LINE__, "MPI_Comm_rank/size", rc);
        goto free_all;
    }
    if (n_cand < 0)
        rc = uniap_err(UNIAP_EINVAL, "search: %d candidates: expected at least 0", n_cand);
    else
        rc = UNIAP_OK;
    if ((rc = uniap_mpi_agree(comm, rc)) < 0 || (rc = prepare(&st)) < 0 ||
        (rc = run_rounds(&st, progress)) < 0 || (rc = finish(&st, out)) < 0)
        goto free_all;
    out->seconds = MPI_Wtime() - t0;

free_all:
    /* the request is answered (or the search failed): a later search runs */
    solver_interrupt_clear();
    uniap_pair_result_free(&st.keep);
    uniap_pair_result_free(&st.hkeep);
    free(st.owner);
    free(st.order);
    free(st.mine);
    free(st.heur);
    free(st.simple);
    free(st.deferred);
    free(st.dbound);
    if (rc < 0)
        uniap_search_result_free(out);
    return rc;
}
