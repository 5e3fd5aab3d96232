/*
 * all_to_all.c - the all-to-all benchmark: bytes is each rank's send
 * buffer, block j going to rank j (busbw factor: UNIAP_COLL_MAP).
 */
#include "coll.h"
#include "prof_check.h"
#ifdef UNIAP_HAVE_CUDA
#include "cuda_check.h"
#endif

static int64_t buffers(int64_t bytes, int n, int64_t *send, int64_t *recv)
{
    int64_t b = prof_coll_count(bytes, n) * 4;
    *send = *recv = b;
    return b;
}

static int run_mpi(const prof_group *g, const prof_coll_buf *b, int64_t bytes)
{
    int per = (int)(bytes / 4 / g->size);
    PROF_MPI_CHECK(MPI_Alltoall(b->send, per, MPI_FLOAT, b->recv, per, MPI_FLOAT, g->comm));
    return 0;
}

#ifdef UNIAP_HAVE_CUDA
static int run_nccl(const prof_group *g, const prof_coll_buf *b, int64_t bytes)
{
    size_t per = (size_t)(bytes / 4 / g->size);
    ncclComm_t comm = (ncclComm_t)g->nccl;
    cudaStream_t st = (cudaStream_t)g->stream;
    PROF_NCCL_CHECK(ncclGroupStart());
    for (int peer = 0; peer < g->size; peer++) {
        PROF_NCCL_CHECK(
            ncclSend((const float *)b->send + per * (size_t)peer, per, ncclFloat, peer, comm, st));
        PROF_NCCL_CHECK(
            ncclRecv((float *)b->recv + per * (size_t)peer, per, ncclFloat, peer, comm, st));
    }
    PROF_NCCL_CHECK(ncclGroupEnd());
    return 0;
}
#define RUN_NCCL run_nccl
#else
#define RUN_NCCL NULL
#endif

const prof_coll prof_coll_all_to_all = {UNIAP_COLL_ALLTOALL, buffers, run_mpi, RUN_NCCL};
