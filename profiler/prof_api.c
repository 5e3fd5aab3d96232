/*
 * prof_api.c - the profiler's public entry (uniap_profiler.h): turns the
 * public uniap_profile_options into the driver's prof_options and runs the
 * sweep (prof_sweep.c); parses --gemm-shapes lists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_driver.h"
#include "uniap_profiler.h"

void uniap_profile_options_init(uniap_profile_options *o)
{
    memset(o, 0, sizeof(*o));
    o->min_bytes = 4 * 1024;
    o->max_bytes = 256 * 1024 * 1024;
    o->warmup = 5;
    o->iters = 20;
    o->layer_warmup = 1;
    o->layer_iters = 5;
    o->backend = UNIAP_PROFILE_BACKEND_CPU;
    for (int op = 0; op < UNIAP_COLL_COUNT; op++)
        o->want_coll[op] = 1;
}

/* One dimension of a shape at *p (digits), advancing *p; -1 when bad. */
static long long gemm_dim(const char **p)
{
    char *end;
    if (**p < '0' || **p > '9')
        return -1;
    errno = 0;
    long long v = strtoll(*p, &end, 10);
    *p = end;
    return errno || v < 1 || v > UNIAP_PROFILE_MAX_GEMM_DIM ? -1 : v;
}

int uniap_profile_parse_gemm_shapes(const char *list, uniap_profile_options *o)
{
    int64_t shapes[UNIAP_PROFILE_MAX_LIST][3];
    int n = 0;
    const char *p = list ? list : "";

    for (;;) {
        const char *start = p;
        long long d[3] = {0, 0, 0};
        int nd = 0, bad = 0;
        for (;;) {
            long long v = gemm_dim(&p);
            if (v < 0) {
                bad = 1;
                break;
            }
            d[nd++] = v;
            if (nd == 3 || *p != 'x')
                break;
            p++; /* the x */
        }
        int len = (int)strcspn(start, ",");
        if (bad || (nd != 1 && nd != 3) || (*p && *p != ','))
            return uniap_err(UNIAP_EINVAL,
                             "--gemm-shapes: '%.*s': expected MxNxK or S (a square), each "
                             "dimension 1..%d",
                             len, start, UNIAP_PROFILE_MAX_GEMM_DIM);
        if (n == UNIAP_PROFILE_MAX_LIST)
            return uniap_err(UNIAP_EINVAL, "--gemm-shapes: more than %d shapes",
                             UNIAP_PROFILE_MAX_LIST);
        for (int i = 0; i < 3; i++)
            shapes[n][i] = nd == 1 ? d[0] : d[i];
        for (int q = 0; q < n; q++)
            if (!memcmp(shapes[q], shapes[n], sizeof(shapes[n])))
                return uniap_err(UNIAP_EINVAL, "--gemm-shapes: %lldx%lldx%lld given twice",
                                 (long long)shapes[n][0], (long long)shapes[n][1],
                                 (long long)shapes[n][2]);
        n++;
        if (!*p)
            break;
        p++; /* the comma */
    }
    memcpy(o->gemm, shapes, sizeof(shapes[0]) * (size_t)n);
    o->n_gemm = n;
    return 0;
}

int uniap_profiler_have_cuda(void)
{
#ifdef UNIAP_HAVE_CUDA
    return 1;
#else
    return 0;
#endif
}

int uniap_profile_run(const uniap_profile_options *u)
{
    prof_options o;

    if (!u || !u->model || !u->out)
        return uniap_err(UNIAP_EINVAL, "profile: a model and an output are required");
    if (u->n_mb < 0 || u->n_mb > PROF_MAX_LIST || u->n_tp < 0 || u->n_tp > PROF_MAX_LIST ||
        u->n_gemm < 0 || u->n_gemm > PROF_MAX_LIST)
        return uniap_err(UNIAP_EINVAL,
                         "profile: at most %d micro-batch sizes, tp degrees and GEMM shapes",
                         PROF_MAX_LIST);
    for (int g = 0; g < u->n_gemm; g++)
        for (int d = 0; d < 3; d++)
            if (u->gemm[g][d] < 1 || u->gemm[g][d] > UNIAP_PROFILE_MAX_GEMM_DIM)
                return uniap_err(UNIAP_EINVAL,
                                 "profile: GEMM shape %d: dimension %lld, expected "
                                 "1..%d",
                                 g + 1, (long long)u->gemm[g][d], UNIAP_PROFILE_MAX_GEMM_DIM);
    if (u->backend == UNIAP_PROFILE_BACKEND_CUDA && !uniap_profiler_have_cuda())
        return uniap_err(UNIAP_EINVAL, "profile: this uniap was built without CUDA");
    memset(&o, 0, sizeof(o));
    o.model = u->model;
    o.out = u->out;
    o.resume = u->resume;
    o.ranks_per_node = u->ranks_per_node;
    o.n_mb = u->n_mb;
    memcpy(o.mb, u->mb, sizeof(int) * (size_t)u->n_mb);
    o.n_tp = u->n_tp;
    memcpy(o.tp, u->tp, sizeof(int) * (size_t)u->n_tp);
    o.min_bytes = u->min_bytes;
    o.max_bytes = u->max_bytes;
    o.warmup = u->warmup;
    o.iters = u->iters;
    o.layer_warmup = u->layer_warmup;
    o.layer_iters = u->layer_iters;
    o.time_limit = u->time_limit;
    o.backend = u->backend == UNIAP_PROFILE_BACKEND_CUDA ? PROF_BACKEND_CUDA : PROF_BACKEND_CPU;
    o.skip_layers = u->skip_layers;
    o.skip_collectives = u->skip_collectives;
    o.skip_gemm = u->skip_gemm;
    o.n_gemm = u->n_gemm;
    for (int g = 0; g < u->n_gemm; g++) {
        prof_gemm_shape sh = {u->gemm[g][0], u->gemm[g][1], u->gemm[g][2]};
        o.gemm[g] = sh;
    }
    memcpy(o.want_coll, u->want_coll, sizeof(o.want_coll));
    o.command_line = (char *)u->command_line; /* read only by the driver */
    return prof_run(&o);
}
