/*
 * profile_ref.h - reference profiles for the profile dataset tests: a
 * deterministic profile with varied rows (edge-case doubles, strings that
 * fill their fields, every collective op), the rows a given MPI rank
 * contributes in the parallel test, and a field-by-field comparison at the
 * byte level (memcmp of every double, so -0.0, NaN payloads and
 * subnormals must survive exactly).
 */
#ifndef UNIAP_PROFILE_REF_H
#define UNIAP_PROFILE_REF_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "uniap_io.h"

/* A double with an explicit bit pattern (NaN payloads, signed zero). */
static inline double ref_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

/* Fills s (size n) with exactly len characters derived from seed. */
static inline void ref_fill(char *s, size_t n, size_t len, unsigned seed)
{
    if (len >= n)
        len = n - 1;
    for (size_t i = 0; i < len; i++)
        s[i] = (char)('a' + (seed * 7 + i * 13) % 26);
    s[len] = '\0';
}

static inline uniap_rank_info ref_rank_row(int rank)
{
    uniap_rank_info r;
    memset(&r, 0, sizeof(r));
    r.rank = rank;
    snprintf(r.host, sizeof(r.host), "node%03d.cluster", rank / 4);
    r.node = rank / 4;
    r.local_rank = rank % 4;
    if (rank % 3 == 2)
        ref_fill(r.device, sizeof(r.device), sizeof(r.device) - 1, (unsigned)rank); /* full */
    else
        snprintf(r.device, sizeof(r.device), "NVIDIA H100 80GB HBM3");
    r.device_memory = (int64_t)85899345920LL + rank;
    snprintf(r.backend, sizeof(r.backend), "%s", rank % 2 ? "cpu" : "cuda");
    ref_fill(r.lib_versions, sizeof(r.lib_versions), (size_t)(rank * 37) % sizeof(r.lib_versions),
             (unsigned)rank + 5);
    return r;
}

/* Row i of the layer table of the rank `rank` (varied doubles). */
static inline uniap_layer_prof ref_layer_row(int rank, int i)
{
    static const uint64_t specials[] = {
        0x8000000000000000ULL, /* -0.0 */
        0x0000000000000001ULL, /* smallest subnormal */
        0x7ff8000000000abcULL, /* quiet NaN with payload */
        0x7ff0000000000000ULL, /* +inf */
        0x7fefffffffffffffULL, /* DBL_MAX */
        0x3ff0000000000001ULL, /* 1 + ulp */
    };
    uniap_layer_prof l;
    memset(&l, 0, sizeof(l));
    if (i % 5 == 4)
        ref_fill(l.layer_type, sizeof(l.layer_type), sizeof(l.layer_type) - 1, (unsigned)i);
    else
        snprintf(l.layer_type, sizeof(l.layer_type), "decoder.h%d.a32.kv8.f11008.s2048.swiglu",
                 4096 + 128 * (i % 7));
    l.tp = 1 << (i % 4);
    l.micro_batch = 1 + i % 9;
    l.rank = (i % 11 == 0) ? -1 : rank;
    l.fwd.median = 1.25e-3 * (1 + i) / (1 + rank) + 1e-9 * i;
    l.fwd.min = l.fwd.median * 0.97;
    l.fwd.max = (i % 13 == 3) ? ref_bits(specials[(i / 13) % 6]) : l.fwd.median * 1.0625;
    l.fwd.count = 5 + i % 17;
    l.bwd.median = 2.1 * l.fwd.median + ref_bits(0x3cb0000000000000ULL) * i;
    l.bwd.min = (i % 7 == 1) ? ref_bits(specials[(i + rank) % 6]) : l.bwd.median * 0.9;
    l.bwd.max = l.bwd.median * 1.2;
    l.bwd.count = l.fwd.count;
    if (i % 3 != 2) { /* 1.3's weight-gradient part; every third row unmeasured (count 0) */
        l.wgrad.median = 0.4 * l.bwd.median;
        l.wgrad.min = (i % 7 == 4) ? ref_bits(specials[(i + rank) % 6]) : l.wgrad.median * 0.9;
        l.wgrad.max = l.wgrad.median * 1.3;
        l.wgrad.count = l.bwd.count;
    }
    l.act_bytes = (int64_t)1 << (20 + i % 20);
    l.peak_bytes = (i % 17 == 0) ? INT64_MAX : l.act_bytes * 3 + i;
    l.param_bytes = (i % 19 == 0) ? INT64_MIN : (int64_t)201326592 / l.tp;
    return l;
}

static inline uniap_coll_prof ref_coll_row(int rank, int i)
{
    uniap_coll_prof c;
    memset(&c, 0, sizeof(c));
    c.op = (uniap_coll_op)((i + rank) % UNIAP_COLL_COUNT);
    c.group_size = 2 << (i % 4);
    c.spans_nodes = i % 2;
    c.src = c.op == UNIAP_COLL_P2P ? rank : -1;
    c.dst = c.op == UNIAP_COLL_P2P ? (rank + 1 + i) % 8 : -1;
    c.bytes = (int64_t)8 << (i % 30);
    c.time.median = 1e-5 + (double)c.bytes / 2.5e10 + 1e-7 * rank;
    c.time.min = c.time.median * 0.99;
    c.time.max = (i % 10 == 9) ? ref_bits(0xfff0000000000000ULL) : c.time.median * 1.5; /* -inf */
    c.time.count = 20;
    c.algbw = (double)c.bytes / c.time.median;
    c.busbw = c.algbw * uniap_busbw_factor(c.op, c.group_size);
    return c;
}

/* The serial reference: 4 ranks, n_layers layer rows, n_colls rows. */
static inline void ref_profile(uniap_profile *p, int n_layers, int n_colls)
{
    uniap_profile_init(p);
    snprintf(p->created, sizeof(p->created), "2026-11-22T03:28:52Z");
    snprintf(p->tool_version, sizeof(p->tool_version), "0.1.0-test");
    snprintf(p->git_revision, sizeof(p->git_revision), "0123456789ab");
    p->command_line = strdup("uniap profile --model llama-7b --cluster h100-80g-4x8 -o x.h5");
    p->world_size = 4;
    snprintf(p->slurm_job_id, sizeof(p->slurm_job_id), "424242");
    snprintf(p->provenance, sizeof(p->provenance), "measured");
    p->complete = 1;
    p->model_json = strdup("{\"name\": \"llama-7b\", \"layers\": [{\"type\": \"decoder\", "
                           "\"count\": 32}]}");
    p->cluster_json = NULL; /* absent: stored as "" and read back as NULL */
    p->overlap_coeff = 1.3;
    for (int r = 0; r < 4; r++) {
        uniap_rank_info row = ref_rank_row(r);
        uniap_profile_add_rank(p, &row);
    }
    for (int i = 0; i < n_layers; i++) {
        uniap_layer_prof row = ref_layer_row(i % 4, i);
        uniap_profile_add_layer(p, &row);
    }
    for (int i = 0; i < n_colls; i++) {
        uniap_coll_prof row = ref_coll_row(i % 4, i);
        uniap_profile_add_coll(p, &row);
    }
}

/* Bit-level equality of doubles (NaN payloads and -0.0 included). */
static inline int ref_same(double a, double b)
{
    return memcmp(&a, &b, sizeof(double)) == 0;
}

static inline int ref_stat_same(const uniap_stat *a, const uniap_stat *b)
{
    return ref_same(a->median, b->median) && ref_same(a->min, b->min) && ref_same(a->max, b->max) &&
           a->count == b->count;
}

static inline int ref_str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Field-by-field equality; every mismatch is a CHECK failure. */
static inline void ref_compare(const uniap_profile *a, const uniap_profile *b)
{
    CHECK_EQ(a->version_major, b->version_major);
    CHECK_EQ(a->version_minor, b->version_minor);
    CHECK(strcmp(a->created, b->created) == 0);
    CHECK(strcmp(a->tool_version, b->tool_version) == 0);
    CHECK(strcmp(a->git_revision, b->git_revision) == 0);
    CHECK(ref_str_eq(a->command_line, b->command_line));
    CHECK_EQ(a->world_size, b->world_size);
    CHECK(strcmp(a->slurm_job_id, b->slurm_job_id) == 0);
    CHECK(strcmp(a->provenance, b->provenance) == 0);
    CHECK_EQ(a->complete, b->complete);
    CHECK(ref_str_eq(a->model_json, b->model_json));
    CHECK(ref_str_eq(a->cluster_json, b->cluster_json));
    CHECK(ref_same(a->overlap_coeff, b->overlap_coeff));
    CHECK_EQ(a->n_ranks, b->n_ranks);
    CHECK_EQ(a->n_layers, b->n_layers);
    CHECK_EQ(a->n_colls, b->n_colls);
    for (int i = 0; i < a->n_ranks && i < b->n_ranks; i++) {
        const uniap_rank_info *x = &a->ranks[i], *y = &b->ranks[i];
        CHECK_EQ(x->rank, y->rank);
        CHECK(strcmp(x->host, y->host) == 0);
        CHECK_EQ(x->node, y->node);
        CHECK_EQ(x->local_rank, y->local_rank);
        CHECK(strcmp(x->device, y->device) == 0);
        CHECK_EQ(x->device_memory, y->device_memory);
        CHECK(strcmp(x->backend, y->backend) == 0);
        CHECK(strcmp(x->lib_versions, y->lib_versions) == 0);
    }
    for (int i = 0; i < a->n_layers && i < b->n_layers; i++) {
        const uniap_layer_prof *x = &a->layers[i], *y = &b->layers[i];
        CHECK(strcmp(x->layer_type, y->layer_type) == 0);
        CHECK_EQ(x->tp, y->tp);
        CHECK_EQ(x->micro_batch, y->micro_batch);
        CHECK_EQ(x->rank, y->rank);
        CHECK(ref_stat_same(&x->fwd, &y->fwd));
        CHECK(ref_stat_same(&x->bwd, &y->bwd));
        CHECK(ref_stat_same(&x->wgrad, &y->wgrad));
        CHECK_EQ(x->act_bytes, y->act_bytes);
        CHECK_EQ(x->peak_bytes, y->peak_bytes);
        CHECK_EQ(x->param_bytes, y->param_bytes);
    }
    for (int i = 0; i < a->n_colls && i < b->n_colls; i++) {
        const uniap_coll_prof *x = &a->colls[i], *y = &b->colls[i];
        CHECK_EQ(x->op, y->op);
        CHECK_EQ(x->group_size, y->group_size);
        CHECK_EQ(x->spans_nodes, y->spans_nodes);
        CHECK_EQ(x->src, y->src);
        CHECK_EQ(x->dst, y->dst);
        CHECK_EQ(x->bytes, y->bytes);
        CHECK(ref_stat_same(&x->time, &y->time));
        CHECK(ref_same(x->algbw, y->algbw));
        CHECK(ref_same(x->busbw, y->busbw));
    }
}

#endif
