/*
 * search.c - the Unified Optimization Process over MPI ranks: candidates
 * (deg, c, schedule) dealt longest-work-first, solved in rounds (after each
 * round the ranks share the best TPI for pruning, their status so that all
 * fail together, and progress), the winner chosen by MPI_MINLOC over
 * (TPI, candidate index) and its plan broadcast from the rank that owns it.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solver_internal.h"

#define MPI_CHECK(call)                                                                            \
    do {                                                                                           \
        int mpi_rc_ = (call);                                                                      \
        if (mpi_rc_ != MPI_SUCCESS)                                                                \
            return uniap_err(UNIAP_ELIB, "%s:%d: MPI %s failed with code %d", __FILE__, __LINE__,  \
                             #call, mpi_rc_);                                                      \
    } while (0)

void uniap_search_result_free(uniap_search_result *r)
{
    if (r)
        uniap_pair_result_free(&r->best);
}

/* Deals candidates to ranks: estimated work (more stages, more micro-batch
 * memory terms) in decreasing order, each to the least loaded rank. */
static void deal(int n, const int *deg, int size, int *owner, int *order)
{
    double *load = calloc((size_t)size, sizeof(double));
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
}

/* The TPI of the heuristic plan of candidate (deg, c, sched), DBL_MAX
 * when it has none; used only to order the candidates. */
static int heuristic_tpi(uniap_table_fn table, void *ctx, const uniap_solve_options *o, int deg,
                         int c, uniap_schedule sched, double *tpi)
{
    uniap_cost_table t;
    solver_shape s;
    int rc, *stage_of = NULL, *strategy_of = NULL;

    *tpi = DBL_MAX;
    if ((rc = table(ctx, deg, c, &t)) < 0)
        return rc;
    if (t.n_layers < t.deg)
        goto free_table;
    if ((rc = solver_shape_build(&t, o->formulation == UNIAP_FORM_PER_LAYER, &s)) < 0)
        goto free_table;
    stage_of = malloc(sizeof(int) * t.n_layers);
    strategy_of = malloc(sizeof(int) * t.n_layers);
    if (!stage_of || !strategy_of) {
        rc = uniap_err(UNIAP_ENOMEM, "search: out of memory for a plan of %d layers", t.n_layers);
        goto free_plan;
    }
    double h;
    if ((rc = solver_heuristic(&t, &s, sched, stage_of, strategy_of, &h)) < 0)
        goto free_plan;
    if (rc == 1)
        *tpi = h;
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

/* After a failure on some rank, every rank returns the same status and the
 * message of the lowest failing rank. */
static int agree_status(MPI_Comm comm, int rc)
{
    int rank, size, in[2], out[2];
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    in[0] = rc < 0 ? rank : size;
    in[1] = rc;
    MPI_CHECK(MPI_Allreduce(in, out, 1, MPI_2INT, MPI_MINLOC, comm));
    if (out[0] == size)
        return UNIAP_OK;
    char msg[1024] = "";
    if (rank == out[0])
        snprintf(msg, sizeof msg, "%s", uniap_errmsg());
    int code = rc;
    MPI_CHECK(MPI_Bcast(&code, 1, MPI_INT, out[0], comm));
    MPI_CHECK(MPI_Bcast(msg, sizeof msg, MPI_CHAR, out[0], comm));
    if (rank != out[0]) {
        uniap_err_clear();
        uniap_err(code, "rank %d: %s", out[0], msg);
    }
    return code;
}

int uniap_search(MPI_Comm comm, int n_cand, const int *deg, const int *c,
                 const uniap_schedule *sched, uniap_table_fn table, void *ctx,
                 const uniap_solve_options *o, int progress, uniap_search_result *out)
{
    int rank, size, rc = UNIAP_OK, rounds = 0;
    int *owner = NULL, *order = NULL, *mine = NULL, n_mine = 0;
    double *heur = NULL; /* [n_cand] heuristic TPI of this rank's candidates */
    double t0 = MPI_Wtime();
    struct {
        double v;
        int i;
    } best = {DBL_MAX, n_cand}, worst_fit = {DBL_MAX, n_cand}, in, got;
    uniap_pair_result keep = {0};
    double closest = DBL_MAX; /* smallest shortfall of all ranks so far */
    double bound = DBL_MAX, incumbent = o->incumbent_tpi > 0 ? o->incumbent_tpi : DBL_MAX;
    int counts[4] = {0}, short_stage = -1, n_layers = 0; /* solved, pruned, infeasible, timed out */

    memset(out, 0, sizeof(*out));
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    owner = malloc(sizeof(int) * (n_cand + 1));
    order = malloc(sizeof(int) * (n_cand + 1));
    mine = malloc(sizeof(int) * (n_cand + 1));
    if (!owner || !order || !mine)
        rc = uniap_err(UNIAP_ENOMEM, "search: out of memory for %d candidates", n_cand);
    if ((rc = agree_status(comm, rc)) < 0)
        goto free_all;
    deal(n_cand, deg, size, owner, order);
    for (int a = 0; a < n_cand; a++) {
        int n_r = 0;
        for (int b = 0; b <= a; b++)
            n_r += owner[order[b]] == owner[order[a]];
        if (owner[order[a]] == rank)
            mine[n_mine++] = order[a];
        rounds = n_r > rounds ? n_r : rounds;
    }
    /* each rank solves its candidates in the order of their heuristic
     * plans' TPI (then shallowest pipeline first): the first MILPs then
     * usually hold the best plan, and the later candidates meet a low
     * incumbent and are pruned by their LP bound (at the root or during
     * branch and cut); the winner does not depend on the order (least TPI,
     * then candidate index, and candidates that could tie are solved) */
    if (n_mine > 0 && !(heur = malloc(sizeof(double) * n_cand)))
        rc = uniap_err(UNIAP_ENOMEM, "search: out of memory for %d candidates", n_cand);
    for (int a = 0; a < n_mine && rc == UNIAP_OK; a++)
        rc = heuristic_tpi(table, ctx, o, deg[mine[a]], c[mine[a]], sched[mine[a]], &heur[mine[a]]);
    if ((rc = agree_status(comm, rc)) < 0)
        goto free_all;
    /* every heuristic plan is a plan: the least of them is an incumbent
     * for all ranks from the first round on */
    double heur_best = DBL_MAX;
    for (int a = 0; a < n_mine; a++)
        heur_best = fmin(heur_best, heur[mine[a]]);
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &heur_best, 1, MPI_DOUBLE, MPI_MIN, comm));
    incumbent = fmin(incumbent, heur_best);
    for (int a = 1; a < n_mine; a++)
        for (int b = a; b > 0 && solve_before(heur, deg, mine[b], mine[b - 1]); b--) {
            int tmp = mine[b];
            mine[b] = mine[b - 1];
            mine[b - 1] = tmp;
        }

    for (int round = 0; round < rounds; round++) {
        if (round < n_mine) {
            int i = mine[round];
            uniap_cost_table t;
            uniap_pair_result r;
            uniap_solve_options oi = *o;
            oi.schedule = sched[i];
            oi.incumbent_tpi = incumbent < DBL_MAX ? incumbent : 0;
            rc = table(ctx, deg[i], c[i], &t);
            if (rc == UNIAP_OK) {
                n_layers = t.n_layers;
                rc = solver_solve_pair(&t, &oi, closest < DBL_MAX ? closest : 0, &r);
                uniap_cost_table_free(&t);
            }
            if (rc == UNIAP_OK) {
                int has_plan = r.status == UNIAP_SOLVE_OPTIMAL || r.status == UNIAP_SOLVE_FEASIBLE;
                counts[0] += r.status != UNIAP_SOLVE_PRUNED;
                counts[1] += r.status == UNIAP_SOLVE_PRUNED;
                counts[2] += r.status == UNIAP_SOLVE_INFEASIBLE;
                counts[3] +=
                    r.status == UNIAP_SOLVE_FEASIBLE || r.status == UNIAP_SOLVE_NO_SOLUTION;
                if (r.status != UNIAP_SOLVE_INFEASIBLE)
                    bound = fmin(bound, r.bound);
                if (r.status == UNIAP_SOLVE_INFEASIBLE && r.shortfall < worst_fit.v) {
                    worst_fit.v = r.shortfall;
                    worst_fit.i = i;
                    short_stage = r.shortfall_stage;
                }
                if (has_plan && (r.tpi < best.v || (r.tpi == best.v && i < best.i))) {
                    uniap_pair_result_free(&keep);
                    keep = r;
                    best.v = r.tpi;
                    best.i = i;
                } else {
                    uniap_pair_result_free(&r);
                }
            }
        }
        if ((rc = agree_status(comm, rc)) < 0)
            goto free_all;
        double mine_best = best.v, all_best;
        MPI_CHECK(MPI_Allreduce(&mine_best, &all_best, 1, MPI_DOUBLE, MPI_MIN, comm));
        incumbent = fmin(incumbent, all_best);
        double mine_closest = worst_fit.v;
        MPI_CHECK(MPI_Allreduce(&mine_closest, &closest, 1, MPI_DOUBLE, MPI_MIN, comm));
        if (progress) {
            int sum = 0;
            int local = round < n_mine ? round + 1 : n_mine;
            MPI_CHECK(MPI_Reduce(&local, &sum, 1, MPI_INT, MPI_SUM, 0, comm));
            if (rank == 0) {
                if (all_best < DBL_MAX)
                    fprintf(stderr, "uniap plan: %d of %d pairs done, best TPI so far %.6g s\n",
                            sum, n_cand, all_best);
                else
                    fprintf(stderr, "uniap plan: %d of %d pairs done, no feasible plan yet\n", sum,
                            n_cand);
            }
        }
    }

    /* the winner: least (TPI, candidate index) */
    in = best;
    MPI_CHECK(MPI_Allreduce(&in, &got, 1, MPI_DOUBLE_INT, MPI_MINLOC, comm));
    int all_counts[4];
    MPI_CHECK(MPI_Allreduce(counts, all_counts, 4, MPI_INT, MPI_SUM, comm));
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &bound, 1, MPI_DOUBLE, MPI_MIN, comm));
    MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &n_layers, 1, MPI_INT, MPI_MAX, comm));
    out->pairs_total = n_cand;
    out->pairs_solved = all_counts[0];
    out->pairs_pruned = all_counts[1];
    out->pairs_infeasible = all_counts[2];
    out->pairs_timed_out = all_counts[3];
    out->n_layers = n_layers;
    if (got.v < DBL_MAX) {
        int root = owner[got.i];
        double vals[5] = {keep.tpi, keep.bound, keep.gap, keep.seconds, keep.status};
        out->found = 1;
        out->winner = got.i;
        out->schedule = sched[got.i];
        out->best.deg = deg[got.i];
        out->best.micro_batches = c[got.i];
        out->best.stage_of = malloc(sizeof(int) * (n_layers + 1));
        out->best.strategy_of = malloc(sizeof(int) * (n_layers + 1));
        if (!out->best.stage_of || !out->best.strategy_of)
            rc = uniap_err(UNIAP_ENOMEM, "search: out of memory for the plan");
        if ((rc = agree_status(comm, rc)) < 0)
            goto free_all;
        if (rank == root) {
            memcpy(out->best.stage_of, keep.stage_of, sizeof(int) * n_layers);
            memcpy(out->best.strategy_of, keep.strategy_of, sizeof(int) * n_layers);
        }
        MPI_CHECK(MPI_Bcast(vals, 5, MPI_DOUBLE, root, comm));
        MPI_CHECK(MPI_Bcast(out->best.stage_of, n_layers, MPI_INT, root, comm));
        MPI_CHECK(MPI_Bcast(out->best.strategy_of, n_layers, MPI_INT, root, comm));
        out->best.tpi = vals[0];
        out->best.seconds = vals[3];
        out->best.status = (uniap_solve_status)(int)vals[4];
        out->bound = fmin(bound, out->best.tpi);
        out->gap = (out->best.tpi - out->bound) / out->best.tpi;
        out->optimal = out->gap <= 1e-9 && out->best.status == UNIAP_SOLVE_OPTIMAL;
        if (out->optimal)
            out->gap = 0;
        out->best.bound = out->bound;
        out->best.gap = out->gap;
    } else {
        in = worst_fit;
        MPI_CHECK(MPI_Allreduce(&in, &got, 1, MPI_DOUBLE_INT, MPI_MINLOC, comm));
        out->shortfall = got.v < DBL_MAX ? got.v : HUGE_VAL;
        out->shortfall_cand = got.i < n_cand ? got.i : -1;
        out->shortfall_stage = -1;
        if (got.i < n_cand) {
            int st = short_stage;
            MPI_CHECK(MPI_Bcast(&st, 1, MPI_INT, owner[got.i], comm));
            out->shortfall_stage = st;
        }
    }
    out->seconds = MPI_Wtime() - t0;

free_all:
    uniap_pair_result_free(&keep);
    free(owner);
    free(order);
    free(mine);
    free(heur);
    if (rc < 0)
        uniap_search_result_free(out);
    return rc;
}
