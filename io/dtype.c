/*
 * dtype.c - numeric types of parameters and activations, and the
 * nccl-tests conventions for collective names and bus bandwidth.
 */
#include <string.h>

#include "uniap_io.h"

int uniap_dtype_bytes(uniap_dtype t)
{
    return t == UNIAP_DTYPE_FP32 ? 4 : 2;
}

const char *uniap_dtype_name(uniap_dtype t)
{
    switch (t) {
    case UNIAP_DTYPE_FP32:
        return "fp32";
    case UNIAP_DTYPE_FP16:
        return "fp16";
    case UNIAP_DTYPE_BF16:
        return "bf16";
    }
    return "?";
}

int uniap_dtype_parse(const char *s, uniap_dtype *out)
{
    static const struct {
        const char *name;
        uniap_dtype t;
    } names[] = {{"fp32", UNIAP_DTYPE_FP32}, {"float32", UNIAP_DTYPE_FP32},
                 {"fp16", UNIAP_DTYPE_FP16}, {"float16", UNIAP_DTYPE_FP16},
                 {"bf16", UNIAP_DTYPE_BF16}, {"bfloat16", UNIAP_DTYPE_BF16}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].t;
            return UNIAP_OK;
        }
    }
    return UNIAP_EINVAL; /* caller names the field */
}

const char *uniap_coll_name(uniap_coll_op op)
{
    static const char *const names[UNIAP_COLL_COUNT] = {
        "all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast", "p2p"};
    return (op >= 0 && op < UNIAP_COLL_COUNT) ? names[op] : "?";
}

/* Bus bandwidth, as nccl-tests defines it, stated once for the project:
 *   algbw = size / time
 *   busbw = algbw * 2(n-1)/n   all-reduce
 *         = algbw * (n-1)/n    all-gather, reduce-scatter, all-to-all
 *         = algbw * 1          broadcast, point-to-point
 * so busbw is comparable to the link's bandwidth whatever the group size. */
double uniap_busbw_factor(uniap_coll_op op, int n)
{
    if (n < 1)
        return 0.0;
    switch (op) {
    case UNIAP_COLL_ALLREDUCE:
        return 2.0 * (n - 1) / n;
    case UNIAP_COLL_ALLGATHER:
    case UNIAP_COLL_REDUCESCATTER:
    case UNIAP_COLL_ALLTOALL:
        return (double)(n - 1) / n;
    case UNIAP_COLL_BROADCAST:
    case UNIAP_COLL_P2P:
        return 1.0;
    default:
        return 0.0;
    }
}
