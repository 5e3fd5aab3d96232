/*
 * coll.h - the collective micro-benchmarks (private to profiler/), in the
 * structure of nccl-tests: one file per primitive behind the table of
 * prof_coll entries below, one driver (coll_driver.c) that sweeps group
 * sizes, placements and message sizes for every entry, and the node
 * layout the placements come from (topology.c).
 */
#ifndef UNIAP_PROF_COLL_H
#define UNIAP_PROF_COLL_H

#include <stdint.h>

#include <mpi.h>

#include "uniap_io.h"

typedef enum { PROF_BACKEND_CPU = 0, PROF_BACKEND_CUDA } prof_backend;

/* Where each rank of the world runs: nodes from MPI_Comm_split_type
 * (shared memory) or, with ranks_per_node K > 0, rank / K. */
typedef struct prof_topology {
    int world, rank;
    int node, local_rank, local_size; /* of this rank */
    int n_nodes;
    int *node_of;        /* [world] */
    int *local_of;       /* [world] */
    int max_local;       /* most ranks on one node */
    int host_local_size; /* ranks sharing this rank's machine (real, not emulated) */
    int host_local_rank; /* this rank's index among them (picks its GPU) */
} prof_topology;

int prof_topology_detect(MPI_Comm world, int ranks_per_node, prof_topology *t);
void prof_topology_free(prof_topology *t);

/* One group of ranks a collective runs on, with its communicators
 * (created once, reused by every primitive and size). */
typedef struct prof_group {
    int size;
    int spans_nodes;
    int p2p;       /* 1: a send/receive pair, members[0] sends to members[1] */
    int *members;  /* world ranks, ascending for collectives */
    int my_index;  /* this rank's place in members, -1 when not a member */
    MPI_Comm comm; /* MPI_COMM_NULL when not a member */
    void *nccl;    /* ncclComm_t (CUDA backend) */
    void *stream;  /* cudaStream_t (CUDA backend) */
} prof_group;

/* Buffers a primitive runs on (host memory, or device memory on CUDA). */
typedef struct prof_coll_buf {
    void *send, *recv;
    int64_t cap; /* bytes of each */
} prof_coll_buf;

/* One primitive (its name and busbw factor: UNIAP_COLL_MAP, uniap_io.h).
 * bytes is the nccl-tests size (uniap_coll_prof.bytes). */
typedef struct prof_coll {
    uniap_coll_op op;
    /* Rounds bytes down to what the primitive can move on n ranks (whole
     * fp32 elements, divisible by n where it splits) and gives the per-rank
     * send and receive buffer bytes. */
    int64_t (*buffers)(int64_t bytes, int n, int64_t *send, int64_t *recv);
    int (*run_mpi)(const prof_group *g, const prof_coll_buf *b, int64_t bytes);
    int (*run_nccl)(const prof_group *g, const prof_coll_buf *b, int64_t bytes); /* or NULL */
} prof_coll;

/* The primitives, prof_coll_<name> for each line of UNIAP_COLL_MAP (one
 * file each: profiler/coll/<name>.c, sendrecv.c for p2p). */
#define PROF__COLL_EXTERN(id, name, ring, flat) extern const prof_coll prof_coll_##name;
UNIAP_COLL_MAP(PROF__COLL_EXTERN)
#undef PROF__COLL_EXTERN

/* The table, indexed by uniap_coll_op (NULL past the end). */
const prof_coll *prof_coll_table(uniap_coll_op op);

/* Element count of bytes rounded down to a multiple of n fp32 elements. */
static inline int64_t prof_coll_count(int64_t bytes, int n)
{
    int64_t c = bytes / 4;
    return c - c % n;
}

/* --- the sweep ----------------------------------------------------------- */

typedef struct prof_coll_item {
    uniap_coll_op op;
    int group;     /* index into the context's groups */
    int64_t bytes; /* requested size (rounded by the primitive) */
} prof_coll_item;

typedef struct prof_coll_ctx {
    MPI_Comm world;
    prof_topology *topo;
    prof_backend backend;
    int n_groups;
    prof_group *groups;
    prof_coll_buf buf;
} prof_coll_ctx;

/* Builds every group (each size >= 2 dividing the world; inside one node and
 * spanning nodes where such a group exists; p2p pairs inside each node and
 * between every pair of nodes) and their communicators. Collective over
 * world. */
int prof_coll_setup(MPI_Comm world, prof_topology *topo, prof_backend backend, prof_coll_ctx *ctx);
void prof_coll_teardown(prof_coll_ctx *ctx);
/* The items of a sweep over [min_bytes, max_bytes] doubling, for the ops
 * with want[op] set, in a fixed order every rank agrees on (malloc'd). */
int prof_coll_items(const prof_coll_ctx *ctx, const int *want, int64_t min_bytes, int64_t max_bytes,
                    prof_coll_item **items, int *n_items);
/* Measures one item: warmup untimed then iters timed runs on the group's
 * members; each iteration's time is the slowest member's. Every rank of
 * world calls it; *have_row is set on the group's first member only,
 * which fills row. */
int prof_coll_measure(prof_coll_ctx *ctx, const prof_coll_item *item, int warmup, int iters,
                      uniap_coll_prof *row, int *have_row);

/* NCCL side (coll_nccl.c, CUDA builds): communicators per group, device
 * buffers, stream synchronization. */
int prof_nccl_group_init(prof_group *g);
void prof_nccl_group_free(prof_group *g);
int prof_nccl_buffers(prof_coll_buf *b, int64_t bytes);
void prof_nccl_buffers_free(prof_coll_buf *b);
int prof_nccl_sync(const prof_group *g);

#endif
