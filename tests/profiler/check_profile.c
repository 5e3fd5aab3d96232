/*
 * check_profile.c - checks a profile written by `uniap profile` (used by
 * the profiler's end-to-end test scripts): the file validates; the ranks
 * table names every rank once with the node layout asked for; every layer
 * item has one row per rank; no collective measurement appears twice;
 * algbw = bytes / median time and busbw = algbw x the nccl-tests factor;
 * point-to-point rows name their ranks and placement; and the numbers of
 * distinct layer and collective items are the hand-counted ones given.
 *
 * usage: check_profile FILE WORLD RANKS_PER_NODE LAYER_ITEMS COLL_ITEMS COMPLETE
 *   COMPLETE 1: the file is complete and holds exactly the items given;
 *   COMPLETE 0: it is marked incomplete and holds at most the layer items
 *   and fewer collective items.
 * usage: check_profile --contains OLD NEW
 *   every layer and collective row of OLD (an interrupted profile) is in
 *   NEW (the profile resumed from it) with the same figures, measured
 *   once: what was measured before the interruption is kept, not redone.
 */
#include <stdlib.h>

#include "check.h"
#include "uniap_io.h"

static int same_coll(const uniap_coll_prof *a, const uniap_coll_prof *b)
{
    return a->op == b->op && a->group_size == b->group_size && a->spans_nodes == b->spans_nodes &&
           a->src == b->src && a->dst == b->dst && a->bytes == b->bytes;
}

static int same_layer_row(const uniap_layer_prof *a, const uniap_layer_prof *b)
{
    return strcmp(a->layer_type, b->layer_type) == 0 && a->tp == b->tp &&
           a->micro_batch == b->micro_batch && a->rank == b->rank &&
           a->fwd.median == b->fwd.median && a->fwd.min == b->fwd.min &&
           a->bwd.median == b->bwd.median && a->act_bytes == b->act_bytes &&
           a->peak_bytes == b->peak_bytes && a->param_bytes == b->param_bytes;
}

/* --contains OLD NEW */
static int check_contains(const char *old_path, const char *new_path)
{
    uniap_profile o, n;
    int rc_o = uniap_profile_read(old_path, &o), rc_n = uniap_profile_read(new_path, &n);
    CHECK_EQ(rc_o, 0);
    CHECK_EQ(rc_n, 0);
    if (rc_o < 0 || rc_n < 0) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        return check_report();
    }
    CHECK(o.n_layers + o.n_colls > 0); /* something was measured before */
    for (int i = 0; i < o.n_layers; i++) {
        int found = 0;
        for (int k = 0; k < n.n_layers; k++)
            found += same_layer_row(&o.layers[i], &n.layers[k]);
        CHECK_EQ(found, 1);
    }
    for (int i = 0; i < o.n_colls; i++) {
        int found = 0;
        for (int k = 0; k < n.n_colls; k++)
            found += same_coll(&o.colls[i], &n.colls[k]) &&
                     o.colls[i].time.median == n.colls[k].time.median &&
                     o.colls[i].time.min == n.colls[k].time.min;
        CHECK_EQ(found, 1);
    }
    fprintf(stderr, "%s: its %d layer rows and %d collective rows are all in %s\n", old_path,
            o.n_layers, o.n_colls, new_path);
    uniap_profile_free(&o);
    uniap_profile_free(&n);
    return check_report();
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--contains") == 0)
        return check_contains(argv[2], argv[3]);
    if (argc != 7) {
        fprintf(stderr, "usage: check_profile FILE WORLD RANKS_PER_NODE LAYER_ITEMS COLL_ITEMS "
                        "COMPLETE\n");
        return 2;
    }
    const char *path = argv[1];
    int world = atoi(argv[2]), rpn = atoi(argv[3]), want_layers = atoi(argv[4]);
    int want_colls = atoi(argv[5]), complete = atoi(argv[6]);
    uniap_profile p;

    CHECK_EQ(uniap_profile_validate(path), 0);
    int rc = uniap_profile_read(path, &p);
    CHECK_EQ(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        return check_report();
    }
    CHECK_EQ(p.world_size, world);
    CHECK_EQ(p.complete, complete);
    CHECK(strcmp(p.provenance, "measured") == 0);
    CHECK(p.model_json != NULL);
    CHECK_STR_CONTAINS(p.command_line, "uniap profile");
    CHECK(p.cluster_json != NULL);

    /* ranks table */
    CHECK_EQ(p.n_ranks, world);
    for (int r = 0; r < world; r++) {
        int seen = 0;
        for (int i = 0; i < p.n_ranks; i++) {
            const uniap_rank_info *ri = &p.ranks[i];
            if (ri->rank != r)
                continue;
            seen++;
            CHECK_EQ(ri->node, r / rpn);
            CHECK_EQ(ri->local_rank, r % rpn);
            CHECK(strcmp(ri->backend, "cpu") == 0);
            CHECK_STR_CONTAINS(ri->lib_versions, "mpi=");
            CHECK_STR_CONTAINS(ri->lib_versions, "hdf5=");
            CHECK_STR_CONTAINS(ri->lib_versions, "blas=");
            CHECK(ri->device_memory > 0);
            CHECK(ri->host[0] != '\0');
        }
        CHECK_EQ(seen, 1);
    }

    /* layers: one row per rank for each (layer, tp, micro-batch) */
    int distinct = 0;
    for (int i = 0; i < p.n_layers; i++) {
        const uniap_layer_prof *a = &p.layers[i];
        int first = 1, per_rank = 0;
        for (int k = 0; k < p.n_layers; k++) {
            const uniap_layer_prof *b = &p.layers[k];
            if (strcmp(a->layer_type, b->layer_type) || a->tp != b->tp ||
                a->micro_batch != b->micro_batch)
                continue;
            if (k < i)
                first = 0;
            per_rank += b->rank == a->rank;
        }
        CHECK_EQ(per_rank, 1);
        distinct += first;
        CHECK(a->rank >= 0 && a->rank < world);
        CHECK(a->fwd.min > 0 && a->fwd.min <= a->fwd.median && a->fwd.median <= a->fwd.max);
        CHECK(a->bwd.min > 0 && a->bwd.min <= a->bwd.median && a->bwd.median <= a->bwd.max);
        CHECK(a->act_bytes > 0);
        CHECK(a->peak_bytes > 0);
        CHECK(a->param_bytes > 0);
    }
    CHECK_EQ(distinct * world, p.n_layers);
    if (complete)
        CHECK_EQ(distinct, want_layers);
    else
        CHECK(distinct <= want_layers);

    /* collectives */
    for (int i = 0; i < p.n_colls; i++) {
        const uniap_coll_prof *c = &p.colls[i];
        for (int k = 0; k < i; k++)
            CHECK(!same_coll(c, &p.colls[k]));
        CHECK(c->time.min > 0 && c->time.min <= c->time.median && c->time.median <= c->time.max);
        CHECK_NEAR(c->algbw, (double)c->bytes / c->time.median, 1e-12, 0);
        CHECK_NEAR(c->busbw, c->algbw * uniap_busbw_factor(c->op, c->group_size), 1e-12, 0);
        CHECK(c->group_size >= 2 && c->group_size <= world);
        if (c->op == UNIAP_COLL_P2P) {
            CHECK_EQ(c->group_size, 2);
            CHECK(c->src >= 0 && c->src < world && c->dst >= 0 && c->dst < world);
            CHECK_EQ(c->spans_nodes, c->src / rpn != c->dst / rpn);
        } else {
            CHECK_EQ(c->src, -1);
            CHECK_EQ(c->dst, -1);
        }
    }
    if (complete)
        CHECK_EQ(p.n_colls, want_colls);
    else
        CHECK(p.n_colls < want_colls);
    fprintf(stderr, "%s: %d ranks, %d layer items, %d collective items, complete %d\n", path,
            p.n_ranks, distinct, p.n_colls, p.complete);
    uniap_profile_free(&p);
    return check_report();
}
