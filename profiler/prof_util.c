/*
 * prof_util.c - timing statistics and the monotonic clock for the
 * profiler's measurements.
 */
#include <stdlib.h>
#include <time.h>

#include "prof_check.h"
#include "prof_util.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

uniap_stat prof_stat_of(double *v, int n)
{
    uniap_stat s = {0.0, 0.0, 0.0, n};
    if (n <= 0)
        return s;
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return s;
}

double prof_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int prof_allreduce_lazy(void *buf, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm)
{
    MPI_Request req;
    int done = 0;
    struct timespec nap = {0, 50000}; /* 50 us */
    PROF_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, buf, count, type, op, comm, &req));
    for (;;) {
        PROF_MPI_CHECK(MPI_Test(&req, &done, MPI_STATUS_IGNORE));
        if (done)
            return 0;
        nanosleep(&nap, NULL);
    }
}
