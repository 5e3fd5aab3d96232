/*
 * all_gather.c - the all-gather benchmark: bytes is the gathered output;
 * each rank contributes bytes / n (busbw factor: UNIAP_COLL_MAP).
 */
#include "coll.h"
#include "prof_check.h"
#ifdef UNIAP_HAVE_CUDA
#include "cuda_check.h"
#endif

static int64_t buffers(int64_t bytes, int n, int64_t *send, int64_t *recv)
{
    int64_t b = prof_coll_count(bytes, n) * 4;
    *send = b / n;
    *recv = b;
    return b;
}

static int run_mpi(const prof_group *g, const prof_coll_buf *b, int64_t bytes)
{
    int per = (int)(bytes / 4 / g->size);
    PROF_MPI_CHECK(MPI_Allgather(b->send, per, MPI_FLOAT, b->recv, per, MPI_FLOAT, g->comm));
    return 0;
}

#ifdef UNIAP_HAVE_CUDA
static int run_nccl(const prof_group *g, const prof_coll_buf *b, int64_t bytes)
{
    PROF_NCCL_CHECK(ncclAllGather(b->send, b->recv, (size_t)(bytes / 4 / g->size), ncclFloat,
                                  (ncclComm_t)g->nccl, (cudaStream_t)g->stream));
    return 0;
}
#define RUN_NCCL run_nccl
#else
#define RUN_NCCL NULL
#endif

const prof_coll prof_coll_all_gather = {UNIAP_COLL_ALLGATHER, buffers, run_mpi, RUN_NCCL};
