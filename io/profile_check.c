/*
 * profile_check.c - the values a profile dataset may hold, checked by the
 * reader after the format checks (profile_h5_read.c): root attributes no
 * run can produce (world_size <= 0, complete not 0 or 1, a NaN or negative
 * overlap coefficient, control characters in the short text attributes)
 * and rows that name a rank outside the world, a shard or micro-batch
 * below 1, a negative repeat count, or a NaN or negative median time. Each
 * error is UNIAP_EFORMAT naming the file, the attribute or table row and
 * field, the value and what was expected.
 *
 * Fields whose values do not feed a plan (min/max timings, byte counts,
 * peer ranks of a point-to-point row) are not restricted: the 1.0 golden
 * file stores edge-case bit patterns there, which every 1.x reader reads.
 * The /gemm table (1.2) had no such past: all of its fields are checked.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "h5_check.h"

#define MAX_WORLD (1 << 24)

/* Index of the first byte of s outside printable ASCII, or -1. */
static int first_unprintable(const char *s)
{
    for (int i = 0; s[i]; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return i;
    return -1;
}

static int check_root(const char *path, const uniap_profile *p)
{
    static const struct {
        const char *name;
        size_t offset;
    } texts[] = {
        {"created", offsetof(uniap_profile, created)},
        {"tool_version", offsetof(uniap_profile, tool_version)},
        {"git_revision", offsetof(uniap_profile, git_revision)},
        {"slurm_job_id", offsetof(uniap_profile, slurm_job_id)},
        {"provenance", offsetof(uniap_profile, provenance)},
    };

    if (p->world_size < 1 || p->world_size > MAX_WORLD)
        return uniap_err(UNIAP_EFORMAT,
                         "%s: root attribute world_size is %d, expected 1..%d ranks: corrupt or "
                         "not written by uniap",
                         path, p->world_size, MAX_WORLD);
    if (p->complete != 0 && p->complete != 1)
        return uniap_err(UNIAP_EFORMAT, "%s: root attribute complete is %d, expected 0 or 1", path,
                         p->complete);
    if (p->tp_comm_in_layers != 0 && p->tp_comm_in_layers != 1)
        return uniap_err(UNIAP_EFORMAT,
                         "%s: root attribute layer_times_include_tp_comm is %d, expected 0 or 1",
                         path, p->tp_comm_in_layers);
    if (!isfinite(p->overlap_coeff) || p->overlap_coeff < 0)
        return uniap_err(UNIAP_EFORMAT,
                         "%s: root attribute overlap_coefficient is %g, expected a finite number "
                         ">= 0 (0: unknown)",
                         path, p->overlap_coeff);
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        const char *s = (const char *)p + texts[i].offset;
        int at = first_unprintable(s);
        if (at >= 0)
            return uniap_err(UNIAP_EFORMAT,
                             "%s: root attribute %s holds a non-printable character (byte 0x%02x "
                             "at %d), expected printable ASCII: corrupt or forged",
                             path, texts[i].name, (unsigned char)s[at], at);
    }
    return UNIAP_OK;
}

/* 1 when t is a usable median time: finite and >= 0. */
static int good_time(double t)
{
    return isfinite(t) && t >= 0;
}

static int check_ranks(const char *path, const uniap_profile *p)
{
    for (int i = 0; i < p->n_ranks; i++) {
        const uniap_rank_info *r = &p->ranks[i];
        if (r->rank < 0 || r->rank >= p->world_size)
            return uniap_err(UNIAP_EFORMAT,
                             "%s: /ranks row %d: rank %d, expected 0..%d (world_size %d)", path, i,
                             r->rank, p->world_size - 1, p->world_size);
        if (r->node < 0 || r->local_rank < 0 || r->device_memory < 0)
            return uniap_err(UNIAP_EFORMAT,
                             "%s: /ranks row %d: node %d, local_rank %d, device_memory %lld, "
                             "expected all >= 0",
                             path, i, r->node, r->local_rank, (long long)r->device_memory);
    }
    return UNIAP_OK;
}

static int check_layers(const char *path, const uniap_profile *p)
{
    for (int i = 0; i < p->n_layers; i++) {
        const uniap_layer_prof *l = &p->layers[i];
        int at = first_unprintable(l->layer_type);
        if (at >= 0 || !l->layer_type[0])
            return uniap_err(UNIAP_EFORMAT,
                             "%s: /layers row %d: layer_type %s, expected a layer signature of "
                             "printable ASCII",
                             path, i, at >= 0 ? "holds a non-printable character" : "is empty");
        if (l->tp < 1 || l->micro_batch < 1)
            return uniap_err(UNIAP_EFORMAT,
                             "%s: /layers row %d: tp %d, micro_batch %d, expected both >= 1", path,
                             i, l->tp, l->micro_batch);
        if (l->rank < -1 || l->rank >= p->world_size)
            return uniap_err(UNIAP_EFORMAT,
                             "%s: /layers row %d: rank %d, expected -1 (median over ranks) or "
                             "0..%d (world_size %d)",
                             path, i, l->rank, p->world_size - 1, p->world_size);
        if (!good_time(l->fwd.median) || !good_time(l->bwd.median))
            return uniap_err(UNIAP_EFORMAT,
                             "%s: /layers row %d: fwd_median %g s, bwd_median %g s, expected "
                             "finite times >= 0",
                             path, i, l->fwd.median, l->bwd.median);
        if (l->fwd.count < 0 || l->bwd.count < 0 || l->wgrad.count < 0)
            return uniap_err(UNIAP_EFORMAT,
                             "%s: /layers row %d: fwd_count %d, bwd_count %d, wgrad_count %d, "
                             "expected >= 0",
                             path, i, l->fwd.count, l->bwd.count, l->wgrad.count);
        /* W is part of the backward, pass by pass, so its median is too */
        if (l->wgrad.count > 0 && !(good_time(l->wgrad.median) && l->wgrad.median <= l->bwd.median))
            return uniap_err(UNIAP_EFORMAT,
                             "%s: /layers row %d: wgrad_median %g s, expected a finite time >= 0 "
                             "and at most bwd_median %g s (the weight gradients are part of the "
                             "backward)",
                             path, i, l->wgrad.median, l->bwd.median);
    }
    return UNIAP_OK;
}

static int check_colls(const char *path, const uniap_profile *p)
{
    for (int i = 0; i < p->n_colls; i++) {
        const uniap_coll_prof *c = &p->colls[i];
        if (c->group_size < 1 || c->bytes < 0 || c->time.count < 0)
            return uniap_err(UNIAP_EFORMAT,
                             "%s: /collectives row %d: group_size %d, bytes %lld, time_count %d, "
                             "expected group_size >= 1 and the others >= 0",
                             path, i, c->group_size, (long long)c->bytes, c->time.count);
        if (c->src < -1 || c->dst < -1)
            return uniap_err(UNIAP_EFORMAT,
                             "%s: /collectives row %d: src %d, dst %d, expected ranks >= 0 (or "
                             "-1: not point-to-point)",
                             path, i, c->src, c->dst);
        if (!good_time(c->time.median) || isnan(c->algbw) || c->algbw < 0 || isnan(c->busbw) ||
            c->busbw < 0)
            return uniap_err(UNIAP_EFORMAT,
                             "%s: /collectives row %d: time_median %g s, algbw %g B/s, busbw %g "
                             "B/s, expected a finite time >= 0 and rates >= 0",
                             path, i, c->time.median, c->algbw, c->busbw);
    }
    return UNIAP_OK;
}

/* /gemm (1.2) is new, so its rows are held to what a measurement is:
 * every dimension >= 1, a known dtype, median, min and max finite and > 0
 * in order, at least one timed pass, and flops = 2 m n k / time_median
 * (to 1e-9 relative: the writer's own division, any rounding of it). */
static int check_gemm_row(const char *path, const uniap_profile *p, int i)
{
    const uniap_gemm_prof *g = &p->gemm[i];
    uniap_dtype dt;

    if (g->rank < -1 || g->rank >= p->world_size)
        return uniap_err(UNIAP_EFORMAT,
                         "%s: /gemm row %d: rank %d, expected -1 (summary) or 0..%d (world_size "
                         "%d)",
                         path, i, g->rank, p->world_size - 1, p->world_size);
    if (first_unprintable(g->dtype) >= 0 || uniap_dtype_parse(g->dtype, &dt) < 0 ||
        strcmp(uniap_dtype_name(dt), g->dtype) != 0)
        return uniap_err(UNIAP_EFORMAT, "%s: /gemm row %d: dtype '%s', expected fp32, bf16 or fp16",
                         path, i, first_unprintable(g->dtype) >= 0 ? "?" : g->dtype);
    if (g->m < 1 || g->n < 1 || g->k < 1)
        return uniap_err(UNIAP_EFORMAT,
                         "%s: /gemm row %d: m %lld, n %lld, k %lld, expected every dimension >= 1",
                         path, i, (long long)g->m, (long long)g->n, (long long)g->k);
    if (!isfinite(g->time.median) || !(g->time.median > 0) || !isfinite(g->time.min) ||
        !(g->time.min > 0) || !isfinite(g->time.max) || g->time.min > g->time.median ||
        g->time.median > g->time.max)
        return uniap_err(UNIAP_EFORMAT,
                         "%s: /gemm row %d: time_min %g s, time_median %g s, time_max %g s, "
                         "expected finite times > 0 with min <= median <= max",
                         path, i, g->time.min, g->time.median, g->time.max);
    if (g->time.count < 1)
        return uniap_err(UNIAP_EFORMAT, "%s: /gemm row %d: time_count %d, expected >= 1", path, i,
                         g->time.count);
    double want = 2.0 * (double)g->m * (double)g->n * (double)g->k / g->time.median;
    if (!isfinite(g->flops) || !(fabs(g->flops - want) <= 1e-9 * want))
        return uniap_err(UNIAP_EFORMAT,
                         "%s: /gemm row %d: flops %g FLOP/s, expected 2 m n k / time_median = %g",
                         path, i, g->flops, want);
    return UNIAP_OK;
}

static int check_gemm(const char *path, const uniap_profile *p)
{
    int rc;
    for (int i = 0; i < p->n_gemm; i++)
        if ((rc = check_gemm_row(path, p, i)) < 0)
            return rc;
    return UNIAP_OK;
}

int uniap_h5_check_values(const char *path, const uniap_profile *p)
{
    int rc;

    if ((rc = check_root(path, p)) < 0 || (rc = check_ranks(path, p)) < 0 ||
        (rc = check_layers(path, p)) < 0 || (rc = check_colls(path, p)) < 0 ||
        (rc = check_gemm(path, p)) < 0)
        return rc;
    return UNIAP_OK;
}
