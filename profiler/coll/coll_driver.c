/*
 * coll_driver.c - the one driver behind every collective benchmark (the
 * nccl-tests structure): the groups a sweep runs on (each group size that
 * divides the world, the sizes a plan's TP and DP groups can have, inside
 * one node and spanning nodes where such a group exists; point-to-point pairs inside each node and
 * between every pair of nodes), their communicators (created once, reused), the sweep's items, and
 * the measurement of one item: warm-up, timed iterations, the slowest member's time per iteration
 * (MPI_Allreduce MAX), algbw and busbw.
 */
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "prof_check.h"
#include "prof_util.h"

const prof_coll *prof_coll_table(uniap_coll_op op)
{
#define ENTRY(id, name, ring, flat) [UNIAP_COLL_##id] = &prof_coll_##name,
    static const prof_coll *const table[UNIAP_COLL_COUNT] = {UNIAP_COLL_MAP(ENTRY)};
#undef ENTRY
    return (int)op >= 0 && op < UNIAP_COLL_COUNT ? table[op] : NULL;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Adds a group of the given members (copied); sorted unless a p2p pair. */
static int add_group(prof_coll_ctx *ctx, const int *members, int n, int p2p)
{
    prof_group *g = realloc(ctx->groups, sizeof(*g) * (size_t)(ctx->n_groups + 1));
    if (!g)
        return uniap_err(UNIAP_ENOMEM, "profiler: collective groups");
    ctx->groups = g;
    g = &ctx->groups[ctx->n_groups];
    memset(g, 0, sizeof(*g));
    g->members = malloc(sizeof(int) * (size_t)n);
    if (!g->members)
        return uniap_err(UNIAP_ENOMEM, "profiler: collective group members");
    memcpy(g->members, members, sizeof(int) * (size_t)n);
    if (!p2p)
        qsort(g->members, (size_t)n, sizeof(int), cmp_int);
    g->size = n;
    g->p2p = p2p;
    g->my_index = -1;
    g->comm = MPI_COMM_NULL;
    for (int i = 0; i < n; i++) {
        if (ctx->topo->node_of[g->members[i]] != ctx->topo->node_of[g->members[0]])
            g->spans_nodes = 1;
        if (g->members[i] == ctx->topo->rank)
            g->my_index = i;
    }
    ctx->n_groups++;
    return 0;
}

/* The first rank of node n with local rank l, or -1. */
static int rank_at(const prof_topology *t, int n, int l)
{
    for (int r = 0; r < t->world; r++)
        if (t->node_of[r] == n && t->local_of[r] == l)
            return r;
    return -1;
}

static int build_groups(prof_coll_ctx *ctx)
{
    const prof_topology *t = ctx->topo;
    int rc = 0, big = 0, big_n = 0;
    int *m = malloc(sizeof(int) * (size_t)t->world);
    if (!m)
        return uniap_err(UNIAP_ENOMEM, "profiler: group members");
    for (int n = 0; n < t->n_nodes; n++) {
        int c = 0;
        for (int r = 0; r < t->world; r++)
            c += t->node_of[r] == n;
        if (c > big_n)
            big = n, big_n = c;
    }
    /* every size a plan can use: the divisors of the world (TP and DP
     * groups lie inside a pipeline stage, whose size divides it; so do the
     * expert-parallel groups, ep ranks of a DP group strided by tp, whose
     * all-to-all the cost model reads by (size, spans_nodes) like any
     * other group: a strided group is one of these two placements) */
    for (int g = 2; g <= t->world; g++) {
        if (t->world % g)
            continue;
        /* inside one node: the first g ranks of the node with the most */
        if (g <= big_n) {
            for (int l = 0; l < g; l++)
                m[l] = rank_at(t, big, l);
            if ((rc = add_group(ctx, m, g, 0)) < 0)
                goto free_m;
        }
        /* spanning nodes: ranks dealt round-robin over the nodes */
        if (t->n_nodes > 1) {
            int k = 0;
            for (int l = 0; l < t->max_local && k < g; l++)
                for (int n = 0; n < t->n_nodes && k < g; n++) {
                    int r = rank_at(t, n, l);
                    if (r >= 0)
                        m[k++] = r;
                }
            if ((rc = add_group(ctx, m, g, 0)) < 0)
                goto free_m;
        }
    }
    /* point to point: inside every node with two ranks, between node pairs */
    for (int n = 0; n < t->n_nodes; n++) {
        m[0] = rank_at(t, n, 0);
        m[1] = rank_at(t, n, 1);
        if (m[0] >= 0 && m[1] >= 0 && (rc = add_group(ctx, m, 2, 1)) < 0)
            goto free_m;
    }
    for (int a = 0; a < t->n_nodes; a++)
        for (int b = a + 1; b < t->n_nodes; b++) {
            m[0] = rank_at(t, a, 0);
            m[1] = rank_at(t, b, 0);
            if ((rc = add_group(ctx, m, 2, 1)) < 0)
                goto free_m;
        }
free_m:
    free(m);
    return rc;
}

int prof_coll_setup(MPI_Comm world, prof_topology *topo, prof_backend backend, prof_coll_ctx *ctx)
{
    int rc;
    memset(ctx, 0, sizeof(*ctx));
    ctx->world = world;
    ctx->topo = topo;
    ctx->backend = backend;
    if ((rc = build_groups(ctx)) < 0)
        return rc;
    for (int i = 0; i < ctx->n_groups; i++) {
        prof_group *g = &ctx->groups[i];
        int member = g->my_index >= 0;
        PROF_MPI_CHECK(MPI_Comm_split(world, member ? 0 : MPI_UNDEFINED, g->my_index, &g->comm));
        if (member)
            PROF_MPI_CHECK(MPI_Comm_set_errhandler(g->comm, MPI_ERRORS_RETURN));
    }
#ifdef UNIAP_HAVE_CUDA
    if (backend == PROF_BACKEND_CUDA) {
        /* every group's NCCL communicator, in the same order on all ranks */
        for (int i = 0; i < ctx->n_groups; i++)
            if (ctx->groups[i].my_index >= 0 && (rc = prof_nccl_group_init(&ctx->groups[i])) < 0)
                return rc;
    }
#else
    if (backend == PROF_BACKEND_CUDA)
        return uniap_err(UNIAP_EINVAL, "profiler: --backend cuda: built without CUDA");
#endif
    return 0;
}

void prof_coll_teardown(prof_coll_ctx *ctx)
{
    for (int i = 0; i < ctx->n_groups; i++) {
        prof_group *g = &ctx->groups[i];
#ifdef UNIAP_HAVE_CUDA
        if (ctx->backend == PROF_BACKEND_CUDA)
            prof_nccl_group_free(g);
#endif
        if (g->comm != MPI_COMM_NULL)
            MPI_Comm_free(&g->comm);
        free(g->members);
    }
    free(ctx->groups);
#ifdef UNIAP_HAVE_CUDA
    if (ctx->backend == PROF_BACKEND_CUDA)
        prof_nccl_buffers_free(&ctx->buf);
    else
#endif
    {
        free(ctx->buf.send);
        free(ctx->buf.recv);
    }
    memset(ctx, 0, sizeof(*ctx));
}

int prof_coll_items(const prof_coll_ctx *ctx, const int *want, int64_t min_bytes, int64_t max_bytes,
                    prof_coll_item **items, int *n_items)
{
    int n = 0, cap = 64;
    prof_coll_item *v = malloc(sizeof(*v) * (size_t)cap);
    if (!v)
        return uniap_err(UNIAP_ENOMEM, "profiler: collective items");
    /* sizes ascending outermost: a trimmed sweep loses the largest sizes
     * of every curve, not whole primitives */
    for (int64_t b = min_bytes; b <= max_bytes; b *= 2) {
        for (int op = 0; op < UNIAP_COLL_COUNT; op++) {
            if (!want[op])
                continue;
            for (int gi = 0; gi < ctx->n_groups; gi++) {
                if (ctx->groups[gi].p2p != (op == UNIAP_COLL_P2P))
                    continue;
                if (n == cap) {
                    prof_coll_item *nv = realloc(v, sizeof(*v) * (size_t)(cap *= 2));
                    if (!nv) {
                        free(v);
                        return uniap_err(UNIAP_ENOMEM, "profiler: collective items");
                    }
                    v = nv;
                }
                v[n].op = (uniap_coll_op)op;
                v[n].group = gi;
                v[n].bytes = b;
                n++;
            }
        }
        if (b > max_bytes / 2)
            break;
    }
    *items = v;
    *n_items = n;
    return 0;
}

static int ensure_buffers(prof_coll_ctx *ctx, int64_t bytes)
{
    if (bytes <= ctx->buf.cap)
        return 0;
#ifdef UNIAP_HAVE_CUDA
    if (ctx->backend == PROF_BACKEND_CUDA)
        return prof_nccl_buffers(&ctx->buf, bytes);
#endif
    free(ctx->buf.send);
    free(ctx->buf.recv);
    ctx->buf.send = malloc((size_t)bytes);
    ctx->buf.recv = malloc((size_t)bytes);
    ctx->buf.cap = 0;
    if (!ctx->buf.send || !ctx->buf.recv)
        return uniap_err(UNIAP_ENOMEM,
                         "profiler: out of memory for two collective buffers of %lld bytes",
                         (long long)bytes);
    /* touch every page before timing; values summed stay finite */
    memset(ctx->buf.send, 0, (size_t)bytes);
    memset(ctx->buf.recv, 0, (size_t)bytes);
    ctx->buf.cap = bytes;
    return 0;
}

int prof_coll_measure(prof_coll_ctx *ctx, const prof_coll_item *item, int warmup, int iters,
                      uniap_coll_prof *row, int *have_row)
{
    const prof_coll *c = prof_coll_table(item->op);
    prof_group *g = &ctx->groups[item->group];
    int64_t sb, rb, bytes;
    int rc = 0;
    double *times = NULL;

    UNIAP_CHECK(c && iters >= 1);
    *have_row = 0;
    if (g->my_index < 0)
        return 0;
    bytes = c->buffers(item->bytes, g->size, &sb, &rb);
    if (bytes <= 0)
        return 0;
    int (*run)(const prof_group *, const prof_coll_buf *, int64_t) =
        ctx->backend == PROF_BACKEND_CUDA ? c->run_nccl : c->run_mpi;
    if (!run)
        return uniap_err(UNIAP_EINVAL, "profiler: %s has no %s implementation",
                         uniap_coll_name(c->op),
                         ctx->backend == PROF_BACKEND_CUDA ? "NCCL" : "MPI");
    /* every member must have its buffers before any waits in a barrier;
     * a member that failed reports its own error, the others return no row
     * and no error, so the sweep's agreement names the failing rank */
    rc = ensure_buffers(ctx, sb > rb ? sb : rb);
    times = rc < 0 ? NULL : malloc(sizeof(double) * (size_t)iters);
    if (rc == 0 && !times)
        rc = uniap_err(UNIAP_ENOMEM, "profiler: timing array");
    /* the barrier before each run also carries any member's failure, so
     * no member waits for one that has given up */
    for (int it = -warmup;; it++) {
        int all = rc;
        PROF_MPI_CHECK_GOTO(MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, g->comm), rc, free_times);
        if (all < 0)
            goto free_times; /* rc: this member's own status */
        if (it == iters)
            break;
        double t0 = prof_now();
        rc = run(g, &ctx->buf, bytes);
#ifdef UNIAP_HAVE_CUDA
        if (rc == 0 && ctx->backend == PROF_BACKEND_CUDA)
            rc = prof_nccl_sync(g);
#endif
        if (rc == 0 && it >= 0)
            times[it] = prof_now() - t0;
    }
    /* each iteration's time is its slowest member's */
    PROF_MPI_CHECK_GOTO(MPI_Allreduce(MPI_IN_PLACE, times, iters, MPI_DOUBLE, MPI_MAX, g->comm), rc,
                        free_times);
    if (g->my_index == 0) {
        memset(row, 0, sizeof(*row));
        row->op = item->op;
        row->group_size = g->size;
        row->spans_nodes = g->spans_nodes;
        row->src = g->p2p ? g->members[0] : -1;
        row->dst = g->p2p ? g->members[1] : -1;
        row->bytes = bytes;
        row->time = prof_stat_of(times, iters);
        row->algbw = row->time.median > 0 ? (double)bytes / row->time.median : 0.0;
        row->busbw = row->algbw * uniap_busbw_factor(item->op, g->size);
        *have_row = 1;
    }
free_times:
    free(times);
    return rc;
}
