/*
 * dtype.c - numeric types of parameters and activations, and the
 * collectives' names and bus-bandwidth factors (from UNIAP_COLL_MAP).
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
#define NAME(id, name, ring, flat) [UNIAP_COLL_##id] = #name,
    static const char *const names[UNIAP_COLL_COUNT] = {UNIAP_COLL_MAP(NAME)};
#undef NAME
    return ((int)op >= 0 && op < UNIAP_COLL_COUNT) ? names[op] : "?";
}

/* Bus bandwidth, as nccl-tests defines it (algbw = size / time), from the
 * factors of UNIAP_COLL_MAP (uniap_io.h), stated once for the project. */
double uniap_busbw_factor(uniap_coll_op op, int n)
{
#define RING(id, name, ring, flat) [UNIAP_COLL_##id] = ring,
#define FLAT(id, name, ring, flat) [UNIAP_COLL_##id] = flat,
    static const double ring[UNIAP_COLL_COUNT] = {UNIAP_COLL_MAP(RING)};
    static const double flat[UNIAP_COLL_COUNT] = {UNIAP_COLL_MAP(FLAT)};
#undef RING
#undef FLAT
    if (n < 1 || (int)op < 0 || op >= UNIAP_COLL_COUNT)
        return 0.0;
    return ring[op] * (n - 1) / n + flat[op];
}
