/*
 * broadcast.c - the broadcast benchmark: the first member's buffer of
 * bytes copied to every member (busbw factor: UNIAP_COLL_MAP).
 */
#include "coll.h"
#include "prof_check.h"
#ifdef UNIAP_HAVE_CUDA
#include "cuda_check.h"
#endif

static int64_t buffers(int64_t bytes, int n, int64_t *send, int64_t *recv)
{
    (void)n;
    int64_t b = prof_coll_count(bytes, 1) * 4;
    *send = *recv = b;
    return b;
}

static int run_mpi(const prof_group *g, const prof_coll_buf *b, int64_t bytes)
{
    PROF_MPI_CHECK(MPI_Bcast(b->recv, (int)(bytes / 4), MPI_FLOAT, 0, g->comm));
    return 0;
}

#ifdef UNIAP_HAVE_CUDA
static int run_nccl(const prof_group *g, const prof_coll_buf *b, int64_t bytes)
{
    PROF_NCCL_CHECK(ncclBroadcast(b->send, b->recv, (size_t)(bytes / 4), ncclFloat, 0,
                                  (ncclComm_t)g->nccl, (cudaStream_t)g->stream));
    return 0;
}
#define RUN_NCCL run_nccl
#else
#define RUN_NCCL NULL
#endif

const prof_coll prof_coll_broadcast = {UNIAP_COLL_BROADCAST, buffers, run_mpi, RUN_NCCL};
