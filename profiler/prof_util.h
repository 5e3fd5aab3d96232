/*
 * prof_util.h - small helpers shared by the profiler's parts (private):
 * timing statistics and the monotonic clock.
 */
#ifndef UNIAP_PROF_UTIL_H
#define UNIAP_PROF_UTIL_H

#include <mpi.h>

#include "uniap_io.h"

/* Median, min and max of v[0..n) (v is sorted in place); zeros when n = 0. */
uniap_stat prof_stat_of(double *v, int n);
/* In-place all-reduce that waits by sleeping between polls instead of
 * spinning: ranks idle while others measure leave them the cores
 * (oversubscribed nodes, emulated nodes on one machine). */
int prof_allreduce_lazy(void *buf, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm);
/* Seconds of the monotonic clock. */
double prof_now(void);

#endif
