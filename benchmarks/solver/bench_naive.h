/*
 * bench_naive.h - the naive per-layer linearization of one candidate
 * (bench_naive.c), for bench_solver naive.
 */
#ifndef UNIAP_BENCH_NAIVE_H
#define UNIAP_BENCH_NAIVE_H

#include "uniap_solver.h"

typedef struct bench_naive_result {
    int status;     /* 0 optimal, 1 a plan at the limit, 2 infeasible, 3 no plan at the limit */
    double obj;     /* the best plan's objective (NAN: none) */
    double gap;     /* GLPK's relative gap at the end (0 when optimal; NAN: no plan) */
    double seconds; /* GLPK's branch and cut, wall clock */
    int rows, cols; /* the MILP's size */
} bench_naive_result;

/* Builds t's per-layer 1F1B MILP and runs GLPK's branch and cut on it for
 * at most seconds: the result in *r. 0 or a negative code (the MILP could
 * not be built). */
int bench_naive_pair(const uniap_cost_table *t, double seconds, bench_naive_result *r);

#endif
