/*
 * prof_api.c - the profiler's public entry (uniap_profiler.h): turns the
 * public uniap_profile_options into the driver's prof_options and runs the
 * sweep (prof_sweep.c).
 */
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
    if (u->n_mb < 0 || u->n_mb > PROF_MAX_LIST || u->n_tp < 0 || u->n_tp > PROF_MAX_LIST)
        return uniap_err(UNIAP_EINVAL, "profile: at most %d micro-batch sizes and tp degrees",
                         PROF_MAX_LIST);
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
    memcpy(o.want_coll, u->want_coll, sizeof(o.want_coll));
    o.command_line = (char *)u->command_line; /* read only by the driver */
    return prof_run(&o);
}
