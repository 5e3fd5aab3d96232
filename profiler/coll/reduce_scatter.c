/*
 * reduce_scatter.c - the reduce-scatter benchmark: bytes is each rank's
 * input; rank i receives the sum of block i, bytes / n (busbw factor:
 * UNIAP_COLL_MAP).
 */
#include "coll.h"
#include "prof_check.h"
#ifdef UNIAP_HAVE_CUDA
#include "cuda_check.h"
#endif

static int64_t buffers(int64_t bytes, int n, int64_t *send, int64_t *recv)
{
    int64_t b = prof_coll_count(bytes, n) * 4;
    *send = b;
    *recv = b / n;
    return b;
}

static int run_mpi(const prof_group *g, const prof_coll_buf *b, int64_t bytes)
{
    int per = (int)(bytes / 4 / g->size);
    PROF_MPI_CHECK(MPI_Reduce_scatter_block(b->send, b->recv, per, MPI_FLOAT, MPI_SUM, g->comm));
    return 0;
}

#ifdef UNIAP_HAVE_CUDA
static int run_nccl(const prof_group *g, const prof_coll_buf *b, int64_t bytes)
{
    PROF_NCCL_CHECK(ncclReduceScatter(b->send, b->recv, (size_t)(bytes / 4 / g->size), ncclFloat,
                                      ncclSum, (ncclComm_t)g->nccl, (cudaStream_t)g->stream));
    return 0;
}
#define RUN_NCCL run_nccl
#else
#define RUN_NCCL NULL
#endif

const prof_coll prof_coll_reduce_scatter = {UNIAP_COLL_REDUCESCATTER, buffers, run_mpi, RUN_NCCL};
