/*
 * topology.c - which node and local rank each rank of the world is on:
 * nodes are the shared-memory domains of MPI_Comm_split_type (numbered by
 * their lowest world rank), or blocks of K consecutive ranks when the user
 * emulates nodes on one machine (--ranks-per-node K).
 */
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "prof_check.h"

int prof_topology_detect(MPI_Comm world, int ranks_per_node, prof_topology *t)
{
    int rc = 0, node = 0, local = 0;
    MPI_Comm shm = MPI_COMM_NULL, leaders = MPI_COMM_NULL;
    memset(t, 0, sizeof(*t));
    PROF_MPI_CHECK(MPI_Comm_rank(world, &t->rank));
    PROF_MPI_CHECK(MPI_Comm_size(world, &t->world));
    PROF_MPI_CHECK_GOTO(
        MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, t->rank, MPI_INFO_NULL, &shm), rc,
        free_comms);
    PROF_MPI_CHECK_GOTO(MPI_Comm_size(shm, &t->host_local_size), rc, free_comms);
    PROF_MPI_CHECK_GOTO(MPI_Comm_rank(shm, &t->host_local_rank), rc, free_comms);
    if (ranks_per_node > 0) {
        node = t->rank / ranks_per_node;
        local = t->rank % ranks_per_node;
    } else {
        PROF_MPI_CHECK_GOTO(MPI_Comm_rank(shm, &local), rc, free_comms);
        PROF_MPI_CHECK_GOTO(
            MPI_Comm_split(world, local == 0 ? 0 : MPI_UNDEFINED, t->rank, &leaders), rc,
            free_comms);
        if (local == 0)
            PROF_MPI_CHECK_GOTO(MPI_Comm_rank(leaders, &node), rc, free_comms);
        PROF_MPI_CHECK_GOTO(MPI_Bcast(&node, 1, MPI_INT, 0, shm), rc, free_comms);
    }
    t->node = node;
    t->local_rank = local;
    t->node_of = calloc((size_t)t->world, sizeof(int));
    t->local_of = calloc((size_t)t->world, sizeof(int));
    if (!t->node_of || !t->local_of) {
        rc = uniap_err(UNIAP_ENOMEM, "profiler: topology tables");
        goto free_comms;
    }
    PROF_MPI_CHECK_GOTO(MPI_Allgather(&node, 1, MPI_INT, t->node_of, 1, MPI_INT, world), rc,
                        free_comms);
    PROF_MPI_CHECK_GOTO(MPI_Allgather(&local, 1, MPI_INT, t->local_of, 1, MPI_INT, world), rc,
                        free_comms);
    for (int r = 0; r < t->world; r++) {
        if (t->node_of[r] + 1 > t->n_nodes)
            t->n_nodes = t->node_of[r] + 1;
        if (t->local_of[r] + 1 > t->max_local)
            t->max_local = t->local_of[r] + 1;
        if (t->node_of[r] == node)
            t->local_size++;
    }
free_comms:
    if (shm != MPI_COMM_NULL)
        MPI_Comm_free(&shm);
    if (leaders != MPI_COMM_NULL)
        MPI_Comm_free(&leaders);
    if (rc < 0)
        prof_topology_free(t);
    return rc;
}

void prof_topology_free(prof_topology *t)
{
    free(t->node_of);
    free(t->local_of);
    t->node_of = t->local_of = NULL;
}
