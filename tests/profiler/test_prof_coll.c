/*
 * test_prof_coll.c - the collective benchmarks compute what they claim to
 * time (run under mpirun with 4 ranks, emulating 2 nodes of 2): the node
 * layout from --ranks-per-node, the groups the driver builds (sizes,
 * placements, members, point-to-point pairs), each primitive's result
 * through the table against the values worked out by hand from the
 * senders' data, and the measurement's row (only on the group's first
 * member, size rounded as the primitive moves it, busbw by the factor);
 * the table generated from UNIAP_COLL_MAP and its busbw factors.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "coll.h"

static float val(int rank, int64_t i)
{
    return (float)(rank * 1000 + i);
}

int main(int argc, char **argv)
{
    int me, world;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    if (world != 4) {
        if (me == 0)
            fprintf(stderr, "test_prof_coll needs 4 ranks, has %d\n", world);
        MPI_Finalize();
        return 2;
    }
    prof_topology t;
    CHECK_EQ(prof_topology_detect(MPI_COMM_WORLD, 2, &t), 0);
    CHECK_EQ(t.n_nodes, 2);
    CHECK_EQ(t.max_local, 2);
    for (int r = 0; r < 4; r++) {
        CHECK_EQ(t.node_of[r], r / 2);
        CHECK_EQ(t.local_of[r], r % 2);
    }

    /* the table generated from UNIAP_COLL_MAP: one entry per op, at its
     * index; the busbw factors are nccl-tests' to the last bit */
    for (int op = 0; op < UNIAP_COLL_COUNT; op++) {
        const prof_coll *c = prof_coll_table((uniap_coll_op)op);
        CHECK(c && (int)c->op == op && c->buffers && c->run_mpi);
        for (int n = 1; n <= 4096; n++) {
            double f = op == UNIAP_COLL_ALLREDUCE                           ? 2.0 * (n - 1) / n
                       : op == UNIAP_COLL_BROADCAST || op == UNIAP_COLL_P2P ? 1.0
                                                                            : (double)(n - 1) / n;
            CHECK(uniap_busbw_factor((uniap_coll_op)op, n) == f);
        }
        CHECK(uniap_busbw_factor((uniap_coll_op)op, 0) == 0.0);
    }
    CHECK(prof_coll_table(UNIAP_COLL_COUNT) == NULL);
    CHECK(strcmp(uniap_coll_name(UNIAP_COLL_P2P), "p2p") == 0);
    CHECK(strcmp(uniap_coll_name(UNIAP_COLL_COUNT), "?") == 0);

    prof_coll_ctx ctx;
    CHECK_EQ(prof_coll_setup(MPI_COMM_WORLD, &t, PROF_BACKEND_CPU, &ctx), 0);
    /* n=2 inside node 0 {0,1}; n=2 spanning {0,2}; n=4 spanning; p2p 0->1,
     * 2->3 inside, 0->2 between */
    static const int want[6][5] = {
        /* size spans p2p m0 m1 */
        {2, 0, 0, 0, 1}, {2, 1, 0, 0, 2}, {4, 1, 0, 0, 1},
        {2, 0, 1, 0, 1}, {2, 0, 1, 2, 3}, {2, 1, 1, 0, 2},
    };
    CHECK_EQ(ctx.n_groups, 6);
    for (int g = 0; g < ctx.n_groups && g < 6; g++) {
        CHECK_EQ(ctx.groups[g].size, want[g][0]);
        CHECK_EQ(ctx.groups[g].spans_nodes, want[g][1]);
        CHECK_EQ(ctx.groups[g].p2p, want[g][2]);
        CHECK_EQ(ctx.groups[g].members[0], want[g][3]);
        CHECK_EQ(ctx.groups[g].members[1], want[g][4]);
    }

    /* each primitive's result on each group this rank is in */
    const int64_t per = 8; /* elements per member block */
    for (int g = 0; g < ctx.n_groups; g++) {
        prof_group *G = &ctx.groups[g];
        if (G->my_index < 0)
            continue;
        int n = G->size, mi = G->my_index;
        for (int op = 0; op < UNIAP_COLL_COUNT; op++) {
            if ((op == UNIAP_COLL_P2P) != G->p2p)
                continue;
            const prof_coll *c = prof_coll_table((uniap_coll_op)op);
            int64_t sb, rb, bytes = c->buffers(4 * per * n, n, &sb, &rb);
            float *s = calloc((size_t)(sb / 4) + 1, sizeof(float));
            float *r = calloc((size_t)(rb / 4) + 1, sizeof(float));
            for (int64_t i = 0; i < sb / 4; i++)
                s[i] = val(G->members[mi], i);
            if (op == UNIAP_COLL_BROADCAST && mi == 0)
                for (int64_t i = 0; i < rb / 4; i++)
                    r[i] = val(G->members[0], i);
            prof_coll_buf b = {s, r, sb > rb ? sb : rb};
            CHECK_EQ(c->run_mpi(G, &b, bytes), 0);
            int bad = 0;
            for (int64_t i = 0; i < rb / 4; i++) {
                double expect = 0.0;
                switch (op) {
                case UNIAP_COLL_ALLREDUCE:
                    for (int m = 0; m < n; m++)
                        expect += val(G->members[m], i);
                    break;
                case UNIAP_COLL_ALLGATHER:
                    expect = val(G->members[i / per], i % per);
                    break;
                case UNIAP_COLL_REDUCESCATTER:
                    for (int m = 0; m < n; m++)
                        expect += val(G->members[m], mi * per + i);
                    break;
                case UNIAP_COLL_ALLTOALL:
                    expect = val(G->members[i / per], mi * per + i % per);
                    break;
                case UNIAP_COLL_BROADCAST:
                    expect = val(G->members[0], i);
                    break;
                case UNIAP_COLL_P2P:
                    expect = mi == 1 ? val(G->members[0], i) : 0.0;
                    break;
                }
                bad += r[i] != (float)expect;
            }
            if (bad)
                fprintf(stderr, "rank %d: %s on group %d: %d wrong elements\n", me,
                        uniap_coll_name(c->op), g, bad);
            CHECK_EQ(bad, 0);
            free(s);
            free(r);
        }
    }

    /* a measurement: all-gather of 4100 bytes on the 4-rank group moves
     * 1024 fp32 elements (a multiple of 4): bytes 4096; one row, on rank 0 */
    prof_coll_item it = {UNIAP_COLL_ALLGATHER, 2, 4100};
    uniap_coll_prof row;
    int have = 0;
    CHECK_EQ(prof_coll_measure(&ctx, &it, 1, 3, &row, &have), 0);
    CHECK_EQ(have, me == 0);
    if (have) {
        CHECK_EQ(row.bytes, 4096);
        CHECK_EQ(row.group_size, 4);
        CHECK_EQ(row.spans_nodes, 1);
        CHECK_EQ(row.time.count, 3);
        CHECK_NEAR(row.busbw, row.algbw * 3.0 / 4.0, 1e-12, 0);
    }
    prof_coll_teardown(&ctx);
    prof_topology_free(&t);
    int fails = check_report(), any = 0;
    MPI_Allreduce(&fails, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any;
}
