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
    double t0 = MPI_Wtime();
    struct {
        double v;
        int i;
    } best = {DBL_MAX, n_cand}, worst_fit = {DBL_MAX, n_cand}, in, got;
    uniap_pair_result keep = {0};
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
                rc = uniap_solve_pair(&t, &oi, &r);
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
    if (rc < 0)
        uniap_search_result_free(out);
    return rc;
}
