/*
 * prof_output.c - the profile of a sweep, written as it is measured: rank
 * 0 holds every rank's rows (gathered after each item) and rewrites the
 * whole dataset under its final name every few seconds, marked incomplete
 * (complete = 0) until the sweep ends.
 *
 * Why rank 0 gathers and writes serially: an HDF5 file being appended to in
 * place is unreadable if its writer dies between a write and the next
 * H5Fflush (kill -9, a node failure), and parallel HDF5 would make every
 * rank stop for each flush. Each snapshot here is a complete file written by
 * the serial writer to a fresh temporary and renamed over the final name
 * (uniap_output_reserve / _commit_path), so whatever kills the job, the final
 * name holds the last snapshot, checksummed and valid, which `--resume`
 * continues; at most the items measured since that snapshot are lost. The
 * rows are small (a few hundred bytes per rank and item), so gathering them
 * costs one MPI_Gather per layer or GEMM item and one message per collective item,
 * and rank 0's memory grows with the whole table (about 40 MB for 4096
 * ranks x 45 layer items). A snapshot is written when PROF_FLUSH_FACTOR
 * times the last write's duration has passed since the previous one (at
 * least PROF_FLUSH_MIN_S): the writes take at most ~5% of the sweep and a
 * crash loses at most that much time's items (plus the item in flight).
 * The final snapshot (complete = 1) is the same format as any other. Also
 * --resume: what an earlier, interrupted profile holds.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_check.h"
#include "prof_driver.h"
#include "prof_util.h"

#define PROF_FLUSH_FACTOR 20.0
#define PROF_FLUSH_MIN_S  0.25

/* Rank 0: writes the snapshot now (cluster spec from the rows so far). */
static int write_snapshot(prof_output *o)
{
    double t0 = prof_now();
    char *cluster = NULL;
    int rc = prof_cluster_json(o->topo, &o->p.ranks[0], &o->p, &cluster);
    if (rc < 0)
        return rc;
    free(o->p.cluster_json);
    o->p.cluster_json = cluster;
    if ((rc = uniap_profile_write(o->path, &o->p)) < 0)
        return rc;
    o->last_flush = prof_now();
    o->write_s = o->last_flush - t0;
    o->dirty = 0;
    o->n_snapshots++;
    return 0;
}

int prof_output_open(prof_output *o, MPI_Comm world, const prof_topology *t, const char *path,
                     const uniap_rank_info *mine)
{
    int me, size, rc = 0;
    MPI_Comm_rank(world, &me);
    MPI_Comm_size(world, &size);
    memset(o, 0, sizeof(*o));
    uniap_profile_init(&o->p);
    o->path = path;
    o->topo = t;
    if (me == 0) {
        o->p.ranks = calloc((size_t)size, sizeof(*o->p.ranks));
        o->gather = calloc((size_t)size, sizeof(*o->gather));
        o->gather_gemm = calloc((size_t)size, sizeof(*o->gather_gemm));
        if (!o->p.ranks || !o->gather || !o->gather_gemm)
            rc = uniap_err(UNIAP_ENOMEM, "profiler: ranks table and row buffer of %d ranks", size);
    }
    if ((rc = prof_agree(world, rc)) < 0)
        return rc;
    PROF_MPI_CHECK(MPI_Gather(mine, (int)sizeof(*mine), MPI_BYTE, o->p.ranks, (int)sizeof(*mine),
                              MPI_BYTE, 0, world));
    if (me == 0)
        o->p.n_ranks = size;
    return 0;
}

int prof_output_start(prof_output *o, MPI_Comm world)
{
    int me;
    MPI_Comm_rank(world, &me);
    o->p.complete = 0;
    return prof_agree(world, me == 0 ? write_snapshot(o) : 0);
}

/* Collective: gathers each rank's message (msg_size bytes at mine, each
 * beginning with its int have: prof_layer_msg, prof_gemm_msg) into rank
 * 0's all[world size]; rank 0 then adds the row of every message that has
 * one with add (o->dirty when added). Returns 0, add's first failure, or
 * the MPI failure. */
static int gather_rows(prof_output *o, MPI_Comm world, const void *mine, size_t msg_size, void *all,
                       int (*add)(uniap_profile *p, const void *msg))
{
    int me, size, rc = 0;
    MPI_Comm_rank(world, &me);
    MPI_Comm_size(world, &size);
    PROF_MPI_CHECK(
        MPI_Gather(mine, (int)msg_size, MPI_BYTE, all, (int)msg_size, MPI_BYTE, 0, world));
    for (int r = 0; me == 0 && r < size && rc == 0; r++) {
        const void *msg = (const char *)all + (size_t)r * msg_size;
        if (*(const int *)msg && (rc = add(&o->p, msg)) == 0)
            o->dirty = 1;
    }
    return rc;
}

_Static_assert(offsetof(prof_layer_msg, have) == 0 && offsetof(prof_gemm_msg, have) == 0,
               "gather_rows reads a message's have at its start");

static int add_layer(uniap_profile *p, const void *msg)
{
    return uniap_profile_add_layer(p, &((const prof_layer_msg *)msg)->row);
}

static int add_gemm(uniap_profile *p, const void *msg)
{
    return uniap_profile_add_gemm(p, &((const prof_gemm_msg *)msg)->row);
}

int prof_output_layer(prof_output *o, MPI_Comm world, const uniap_layer_prof *row, int have)
{
    prof_layer_msg mine;
    memset(&mine, 0, sizeof(mine)); /* padding too: the bytes travel */
    mine.have = have;
    if (have)
        mine.row = *row;
    return gather_rows(o, world, &mine, sizeof(mine), o->gather, add_layer);
}

int prof_output_gemm(prof_output *o, MPI_Comm world, const uniap_gemm_prof *row, int have)
{
    prof_gemm_msg mine;
    memset(&mine, 0, sizeof(mine));
    mine.have = have;
    if (have)
        mine.row = *row;
    return gather_rows(o, world, &mine, sizeof(mine), o->gather_gemm, add_gemm);
}

int prof_output_coll(prof_output *o, MPI_Comm world, int leader, const uniap_coll_prof *row,
                     int have)
{
    int me;
    struct {
        int have;
        uniap_coll_prof row;
    } msg;
    MPI_Comm_rank(world, &me);
    memset(&msg, 0, sizeof(msg));
    msg.have = have;
    if (have)
        msg.row = *row;
    if (leader != 0 && me == leader)
        PROF_MPI_CHECK(MPI_Send(&msg, (int)sizeof(msg), MPI_BYTE, 0, 0, world));
    if (me != 0)
        return 0;
    if (leader != 0)
        PROF_MPI_CHECK(
            MPI_Recv(&msg, (int)sizeof(msg), MPI_BYTE, leader, 0, world, MPI_STATUS_IGNORE));
    if (!msg.have)
        return 0;
    o->dirty = 1;
    return uniap_profile_add_coll(&o->p, &msg.row);
}

int prof_output_maybe_flush(prof_output *o)
{
    double wait = PROF_FLUSH_FACTOR * o->write_s;
    if (!o->dirty ||
        prof_now() - o->last_flush < (wait > PROF_FLUSH_MIN_S ? wait : PROF_FLUSH_MIN_S))
        return 0;
    return write_snapshot(o);
}

int prof_output_finish(prof_output *o, MPI_Comm world, int complete)
{
    int me;
    MPI_Comm_rank(world, &me);
    o->p.complete = complete;
    return prof_agree(world, me == 0 ? write_snapshot(o) : 0);
}

void prof_output_free(prof_output *o)
{
    free(o->gather);
    free(o->gather_gemm);
    o->gather = NULL;
    o->gather_gemm = NULL;
    uniap_profile_free(&o->p);
}

/* The stored model is compared as a model, not as text: it is parsed and
 * dumped again, so a profile written by an older canonical dump (which
 * spelled out derived fields) still resumes. */
static int same_model(const prof_options *o, const char *stored, const char *model_json)
{
    uniap_model m;
    char *canon = NULL;
    int rc, same;

    if (!stored)
        return uniap_err(UNIAP_EFORMAT, "%s: --resume: the profile stores no model_spec",
                         o->resume);
    if ((rc = uniap_model_parse(stored, o->resume, &m)) < 0)
        return uniap_err(rc, "%s: --resume: root attribute model_spec", o->resume);
    rc = uniap_model_to_json(&m, &canon);
    uniap_model_free(&m);
    if (rc < 0)
        return rc;
    same = strcmp(canon, model_json) == 0;
    free(canon);
    if (!same)
        return uniap_err(UNIAP_EINVAL,
                         "%s: --resume: the profile is of another model (root "
                         "attribute model_spec differs from --model %s)",
                         o->resume, o->model);
    return UNIAP_OK;
}

/* Rank 0: marks the items a previous (interrupted) profile holds and
 * carries its rows into p. */
int prof_resume_from(const prof_options *o, const prof_coll_ctx *ctx, const char *model_json,
                     int world, prof_item *items, int n_items, uniap_profile *p)
{
    uniap_profile old;
    int rc = uniap_profile_read(o->resume, &old);
    if (rc < 0)
        return rc;
    if ((rc = same_model(o, old.model_json, model_json)) < 0)
        goto free_old;
    if (old.world_size != world) {
        rc = uniap_err(UNIAP_EINVAL,
                       "%s: --resume: the profile was taken with %d ranks, this "
                       "run has %d",
                       o->resume, old.world_size, world);
        goto free_old;
    }
    for (int i = 0; i < n_items; i++) {
        prof_item *it = &items[i];
        if (it->kind == PROF_ITEM_LAYER) {
            for (int k = 0; k < old.n_layers && !it->done; k++)
                it->done = strcmp(old.layers[k].layer_type, it->sig) == 0 &&
                           old.layers[k].tp == it->tp && old.layers[k].micro_batch == it->mb;
        } else if (it->kind == PROF_ITEM_GEMM) {
            for (int k = 0; k < old.n_gemm && !it->done; k++)
                it->done = strcmp(old.gemm[k].dtype, uniap_dtype_name(it->gemm_dtype)) == 0 &&
                           old.gemm[k].m == it->gemm.m && old.gemm[k].n == it->gemm.n &&
                           old.gemm[k].k == it->gemm.k;
        } else {
            const prof_group *g = &ctx->groups[it->coll.group];
            for (int k = 0; k < old.n_colls && !it->done; k++) {
                const uniap_coll_prof *c = &old.colls[k];
                it->done = c->op == it->coll.op && c->group_size == g->size &&
                           c->spans_nodes == g->spans_nodes && c->bytes == it->coll_bytes &&
                           (!g->p2p || (c->src == g->members[0] && c->dst == g->members[1]));
            }
        }
    }
    for (int k = 0; k < old.n_layers && rc == 0; k++)
        rc = uniap_profile_add_layer(p, &old.layers[k]);
    for (int k = 0; k < old.n_colls && rc == 0; k++)
        rc = uniap_profile_add_coll(p, &old.colls[k]);
    for (int k = 0; k < old.n_gemm && rc == 0; k++)
        rc = uniap_profile_add_gemm(p, &old.gemm[k]);
free_old:
    uniap_profile_free(&old);
    return rc;
}
