/*
 * mpi_agree.c - collective agreement on a status and on inputs: every
 * rank learns that some rank failed and why (the lowest-numbered failing
 * rank's message reaches rank 0, which prints), and ranks refuse to work
 * together unless they were given the same inputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uniap_io_mpi.h"

#define AGREE_MSG_MAX 2048

/* Records a failed MPI call and returns UNIAP_ELIB. */
static int mpi_fail(const char *what, int mpi_rc)
{
    char s[MPI_MAX_ERROR_STRING];
    int n = 0;

    if (MPI_Error_string(mpi_rc, s, &n) != MPI_SUCCESS)
        snprintf(s, sizeof(s), "code %d", mpi_rc);
    return uniap_err(UNIAP_ELIB, "MPI %s failed: %s", what, s);
}

#define MPI_TRY(call, name)                                                                        \
    do {                                                                                           \
        int mpi_rc_ = (call);                                                                      \
        if (mpi_rc_ != MPI_SUCCESS)                                                                \
            return mpi_fail(name, mpi_rc_);                                                        \
    } while (0)

int uniap_mpi_agree(MPI_Comm comm, int rc)
{
    int rank, size, first, hdr[2];
    char msg[AGREE_MSG_MAX];

    MPI_TRY(MPI_Comm_rank(comm, &rank), "Comm_rank");
    MPI_TRY(MPI_Comm_size(comm, &size), "Comm_size");
    int mine = rc < 0 ? rank : size;
    MPI_TRY(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm), "Allreduce (status)");
    if (first >= size)
        return UNIAP_OK;

    /* The lowest failing rank sends its status and message to all. */
    if (rank == first) {
        snprintf(msg, sizeof(msg), "%s", uniap_errmsg());
        if (msg[0] == '\0')
            snprintf(msg, sizeof(msg), "%s", uniap_strstatus(rc));
        hdr[0] = rc;
        hdr[1] = (int)strlen(msg) + 1;
    }
    MPI_TRY(MPI_Bcast(hdr, 2, MPI_INT, first, comm), "Bcast (status)");
    if (hdr[1] < 1 || hdr[1] > AGREE_MSG_MAX)
        return uniap_err(UNIAP_ELIB, "MPI Bcast (status): bad message length %d", hdr[1]);
    MPI_TRY(MPI_Bcast(msg, hdr[1], MPI_CHAR, first, comm), "Bcast (message)");
    msg[hdr[1] - 1] = '\0';
    /* Ranks that failed keep their own cause; the others record rank
     * first's, so that rank 0 can print it. */
    if (rc >= 0) {
        uniap_err_clear();
        uniap_err(hdr[0], "rank %d: %s", first, msg);
    }
    return hdr[0] < 0 ? hdr[0] : UNIAP_ELIB;
}

/* 64-bit FNV-1a. */
static uint64_t fnv1a64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int uniap_mpi_same(MPI_Comm comm, const void *data, size_t len, const char *what)
{
    int rank, size, differs = -1, rc = UNIAP_OK;
    uint64_t mine[2];
    uint64_t *all;

    MPI_TRY(MPI_Comm_rank(comm, &rank), "Comm_rank");
    MPI_TRY(MPI_Comm_size(comm, &size), "Comm_size");
    mine[0] = data || len == 0 ? fnv1a64(data, len) : 0;
    mine[1] = (uint64_t)len;
    /* The gather buffer is allocated on every rank; an allocation failure
     * must still take part in the collective, so fall back to a status. */
    all = calloc((size_t)size, sizeof(mine));
    int ok = all != NULL, all_ok = 0;
    MPI_TRY(MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm), "Allreduce (same)");
    if (!all_ok) {
        free(all);
        return uniap_err(UNIAP_ENOMEM, "out of memory comparing %s across ranks", what);
    }
    int mrc = MPI_Allgather(mine, 2, MPI_UINT64_T, all, 2, MPI_UINT64_T, comm);
    if (mrc != MPI_SUCCESS) {
        rc = mpi_fail("Allgather (same)", mrc);
        goto free_all;
    }
    for (int r = 1; r < size && differs < 0; r++)
        if (all[2 * r] != all[0] || all[2 * r + 1] != all[1])
            differs = r;
    if (differs >= 0) {
        if (all[2 * differs + 1] != all[1])
            rc = uniap_err(UNIAP_EINVAL,
                           "ranks disagree on %s: rank %d has %llu bytes of it, rank 0 %llu; "
                           "give every rank the same %s",
                           what, differs, (unsigned long long)all[2 * differs + 1],
                           (unsigned long long)all[1], what);
        else
            rc = uniap_err(UNIAP_EINVAL,
                           "ranks disagree on %s: rank %d's differs from rank 0's; give every "
                           "rank the same %s",
                           what, differs, what);
    }
free_all:
    free(all);
    return rc;
}
