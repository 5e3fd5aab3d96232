/*
 * runtime_any.c - the runtime "any": every plan of the cost model (what
 * `uniap plan` searched before runtimes existed, and its default). One
 * setting that leaves every strategy and split open; `uniap plan
 * --runtime any` searches without a space at all, so this descriptor
 * serves the tests (a space of one unrestricted variant must give the
 * unrestricted optimum).
 */
#include "runtime_internal.h"

static int any_settings(const cm_rt_offer *o, cm_rt_setting *out, int max)
{
    (void)o;
    if (max < 1)
        return 0;
    out[0] = (cm_rt_setting){
        .tp = 0, .sp = -1, .flavours = 0xfu, .ckpt = CM_RT_CKPT_ANY, .split = CM_RT_SPLIT_ANY};
    return 1;
}

const cm_runtime uniap__rt_any = {
    .name = "any",
    .help = "every plan of the cost model (no runtime's restriction)",
    .settings = any_settings,
    .uneven_micro_batches = 1,
};
