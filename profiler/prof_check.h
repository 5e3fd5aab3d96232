/*
 * prof_check.h - the profiler's MPI-call checking macros (private): each
 * records the call and MPI's message with uniap_err_at() (the source
 * location shows only under --debug) and makes the enclosing function
 * return UNIAP_ELIB (PROF_MPI_CHECK) or jump to a cleanup label with rc set
 * (PROF_MPI_CHECK_GOTO). CUDA, cuBLAS and NCCL have theirs in
 * cuda/cuda_check.h.
 */
#ifndef UNIAP_PROF_CHECK_H
#define UNIAP_PROF_CHECK_H

#include <mpi.h>

#include "uniap_io.h"

static inline int prof_mpi_fail(int code, const char *call, const char *file, int line)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS)
        len = 0;
    msg[len] = '\0';
    return uniap_err_at(file, line, UNIAP_ELIB, "%s failed: %s", call, msg);
}

#define PROF_MPI_CHECK(call)                                                                       \
    do {                                                                                           \
        int mpi_rc_ = (call);                                                                      \
        if (mpi_rc_ != MPI_SUCCESS)                                                                \
            return prof_mpi_fail(mpi_rc_, #call, __FILE__, __LINE__);                              \
    } while (0)

#define PROF_MPI_CHECK_GOTO(call, rc, label)                                                       \
    do {                                                                                           \
        int mpi_rc_ = (call);                                                                      \
        if (mpi_rc_ != MPI_SUCCESS) {                                                              \
            (rc) = prof_mpi_fail(mpi_rc_, #call, __FILE__, __LINE__);                              \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

#endif
