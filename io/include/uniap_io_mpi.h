/*
 * uniap_io_mpi.h - the part of io's interface that needs MPI: one status
 * agreed across ranks (every rank fails together, the cause reaching rank
 * 0), checking that every rank holds the same inputs, and the collective
 * parallel-HDF5 write of a profile. Include it (and link MPI) only where
 * ranks cooperate: the solver's search, the profiler, the commands.
 */
#ifndef UNIAP_IO_MPI_H
#define UNIAP_IO_MPI_H

#include <mpi.h>

#include "uniap_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* MPI agreement                                                       */
/* ------------------------------------------------------------------ */

/* Collective over comm: every rank passes its own status (0 or negative).
 * Returns the same status on every rank: 0 when all are 0, otherwise the
 * status of the lowest-numbered failing rank, whose error message is sent
 * to every rank and recorded there as "rank R: <message>" (the failing
 * rank keeps its own message), so rank 0 can print the real cause. A
 * failing MPI call returns UNIAP_ELIB on the ranks that see it. */
int uniap_mpi_agree(MPI_Comm comm, int rc);
/* Collective: refuses (UNIAP_EINVAL on every rank) unless every rank passed
 * the same len bytes (compared by a 64-bit FNV-1a hash and the length); the
 * message names `what` and the first rank that differs from rank 0. */
int uniap_mpi_same(MPI_Comm comm, const void *data, size_t len, const char *what);

/* ------------------------------------------------------------------ */
/* Parallel profile write                                              */
/* ------------------------------------------------------------------ */

/* Collective write over comm with parallel HDF5 (MPI-IO driver): every rank
 * passes its own rows in p (root attributes are taken from rank 0); the
 * tables are concatenated in rank order, each rank writing its hyperslab
 * with collective I/O. Atomic like the serial write. */
int uniap_profile_write_parallel(MPI_Comm comm, const char *path, const uniap_profile *p);

#ifdef __cplusplus
}
#endif
#endif /* UNIAP_IO_MPI_H */
