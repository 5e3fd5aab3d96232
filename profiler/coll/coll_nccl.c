/*
 * coll_nccl.c - the NCCL side of the collective benchmarks (CUDA builds):
 * one communicator and stream per group, created once (the first member
 * makes the unique id and broadcasts it over the group's MPI
 * communicator), device buffers, and the stream synchronization that ends
 * a timed iteration.
 */
#include <string.h>

#include "coll.h"
#include "cuda_check.h"
#include "prof_check.h"

int prof_nccl_group_init(prof_group *g)
{
    ncclUniqueId id;
    ncclComm_t comm;
    cudaStream_t stream;
    if (g->my_index == 0)
        PROF_NCCL_CHECK(ncclGetUniqueId(&id));
    PROF_MPI_CHECK(MPI_Bcast(&id, (int)sizeof(id), MPI_BYTE, 0, g->comm));
    PROF_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    PROF_NCCL_CHECK(ncclCommInitRank(&comm, g->size, id, g->my_index));
    g->nccl = comm;
    g->stream = stream;
    return 0;
}

void prof_nccl_group_free(prof_group *g)
{
    if (g->nccl)
        ncclCommDestroy((ncclComm_t)g->nccl);
    if (g->stream)
        cudaStreamDestroy((cudaStream_t)g->stream);
    g->nccl = NULL;
    g->stream = NULL;
}

int prof_nccl_buffers(prof_coll_buf *b, int64_t bytes)
{
    prof_nccl_buffers_free(b);
    PROF_CUDA_CHECK(cudaMalloc(&b->send, (size_t)bytes));
    PROF_CUDA_CHECK(cudaMalloc(&b->recv, (size_t)bytes));
    PROF_CUDA_CHECK(cudaMemset(b->send, 0, (size_t)bytes));
    PROF_CUDA_CHECK(cudaMemset(b->recv, 0, (size_t)bytes));
    b->cap = bytes;
    return 0;
}

void prof_nccl_buffers_free(prof_coll_buf *b)
{
    if (b->send)
        cudaFree(b->send);
    if (b->recv)
        cudaFree(b->recv);
    memset(b, 0, sizeof(*b));
}

int prof_nccl_sync(const prof_group *g)
{
    PROF_CUDA_CHECK(cudaStreamSynchronize((cudaStream_t)g->stream));
    return 0;
}
