/*
 * sendrecv.c - the point-to-point benchmark on a pair: the first member
 * sends a message of bytes to the second (busbw factor: UNIAP_COLL_MAP;
 * the op is p2p, the symbol prof_coll_p2p). Pairs inside a node and
 * between nodes come from the driver's groups.
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
    int count = (int)(bytes / 4);
    if (g->my_index == 0)
        PROF_MPI_CHECK(MPI_Send(b->send, count, MPI_FLOAT, 1, 0, g->comm));
    else if (g->my_index == 1)
        PROF_MPI_CHECK(MPI_Recv(b->recv, count, MPI_FLOAT, 0, 0, g->comm, MPI_STATUS_IGNORE));
    return 0;
}

#ifdef UNIAP_HAVE_CUDA
static int run_nccl(const prof_group *g, const prof_coll_buf *b, int64_t bytes)
{
    size_t count = (size_t)(bytes / 4);
    if (g->my_index == 0)
        PROF_NCCL_CHECK(
            ncclSend(b->send, count, ncclFloat, 1, (ncclComm_t)g->nccl, (cudaStream_t)g->stream));
    else if (g->my_index == 1)
        PROF_NCCL_CHECK(
            ncclRecv(b->recv, count, ncclFloat, 0, (ncclComm_t)g->nccl, (cudaStream_t)g->stream));
    return 0;
}
#define RUN_NCCL run_nccl
#else
#define RUN_NCCL NULL
#endif

const prof_coll prof_coll_p2p = {UNIAP_COLL_P2P, buffers, run_mpi, RUN_NCCL};
