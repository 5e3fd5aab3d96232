/*
 * cpu_layer.c - the CPU layer object: shard dimensions of a uniap_layer at
 * a tensor-parallel degree and micro-batch, parameter and input
 * registration, the table of the kinds' kernels (their descriptors are
 * beside the kernels) and dispatch to them, and the timed
 * measurement the profiler records (forward and backward seconds per
 * iteration, activation and peak bytes from the tracked allocator).
 */
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "cpu_kernels.h"
#include "cpu_measure.h"

#define FSZ(n) ((int64_t)(n) * (int64_t)sizeof(float))

/* The built-in kinds' kernels: kind, descriptor (defined beside the
 * kernels). A new kind: its descriptor beside its kernels and one line
 * here. */
#define KINDS(X)                                                                                   \
    X(EMBEDDING, embedding)                                                                        \
    X(PATCH_EMBED, patch_embed)                                                                    \
    X(ENCODER, encoder)                                                                            \
    X(DECODER, decoder)                                                                            \
    X(CROSS_DECODER, cross_decoder)                                                                \
    X(SWIN, swin)                                                                                  \
    X(PATCH_MERGE, patch_merge)                                                                    \
    X(HEAD, head)                                                                                  \
    X(MOE, moe)

#define DECLARE(K, n) extern const prof_layer_kind uniap__cpu_##n;
KINDS(DECLARE)
#undef DECLARE
#define ENTRY(K, n) [UNIAP_LAYER_##K] = &uniap__cpu_##n,
static const prof_layer_kind *kinds[UNIAP_LAYER_KIND_MAX] = {KINDS(ENTRY)};
#undef ENTRY

const prof_layer_kind *uniap__prof_layer_kind(uniap_layer_kind k)
{
    return (int)k >= 0 && (int)k < UNIAP_LAYER_KIND_MAX ? kinds[k] : NULL;
}

int uniap__prof_layer_kind_register(uniap_layer_kind k, const prof_layer_kind *d)
{
    if ((int)k < 0 || (int)k >= UNIAP_LAYER_KIND_MAX || !d || !d->setup || !d->forward ||
        !d->backward)
        return uniap_err(UNIAP_EINVAL,
                         "profiler: layer kind %d: expected 0..%d and kernels with setup, "
                         "forward and backward",
                         (int)k, UNIAP_LAYER_KIND_MAX - 1);
    if (kinds[k])
        return uniap_err(UNIAP_EINVAL, "profiler: layer kind %d (%s): already has kernels", (int)k,
                         uniap_layer_kind_name(k));
    kinds[k] = d;
    return UNIAP_OK;
}

int prof_layer_shard(const uniap_layer *l, int64_t seq, int tp, int micro_batch, prof_shard *sh)
{
    const char *kind = uniap_layer_kind_name(l->kind);
    const prof_layer_kind *d = uniap__prof_layer_kind(l->kind);
    memset(sh, 0, sizeof(*sh));
    if (tp < 1 || micro_batch < 1)
        return uniap_err(UNIAP_EINVAL, "profiler: %s layer: tp %d and micro_batch %d must be >= 1",
                         kind, tp, micro_batch);
    if (l->hidden < 1)
        return uniap_err(UNIAP_EINVAL, "profiler: %s layer: hidden must be >= 1", kind);
    sh->tp = tp;
    sh->batch = micro_batch;
    sh->seq = l->seq > 0 ? l->seq : seq;
    if (d && d->patch_grid && l->patch > 0)
        sh->seq = (l->image / l->patch) * (l->image / l->patch);
    if (sh->seq < 1)
        return uniap_err(UNIAP_EINVAL, "profiler: %s layer: seq must be >= 1", kind);
    sh->tokens = sh->batch * sh->seq;
    sh->hidden = l->hidden;
    sh->kv_seq = l->kv_seq > 0 ? l->kv_seq : sh->seq;
    sh->vocab = l->vocab > 0 ? (l->vocab + tp - 1) / tp : 0;
    if (!d || !d->attention)
        return 0;
    int heads = l->heads, kv = l->kv_heads > 0 ? l->kv_heads : l->heads;
    int64_t ffn = l->ffn > 0 ? l->ffn : 4 * l->hidden;
    if (heads < 1 || heads % tp)
        return uniap_err(UNIAP_EINVAL, "profiler: %s layer: tp %d does not divide heads %d", kind,
                         tp, heads);
    if (kv % tp && tp % kv)
        return uniap_err(UNIAP_EINVAL, "profiler: %s layer: tp %d and kv_heads %d do not nest",
                         kind, tp, kv);
    if (ffn % tp)
        return uniap_err(UNIAP_EINVAL, "profiler: %s layer: tp %d does not divide ffn %lld", kind,
                         tp, (long long)ffn);
    sh->heads = heads / tp;
    sh->kv_heads = kv >= tp ? kv / tp : 1; /* fewer kv heads than shards: replicated */
    if (sh->heads % sh->kv_heads)
        return uniap_err(UNIAP_EINVAL, "profiler: %s layer: heads %d not a multiple of kv_heads %d",
                         kind, heads, kv);
    sh->hd = l->head_dim > 0 ? l->head_dim : l->hidden / heads;
    sh->ffn = ffn / tp;
    if (sh->hd < 1)
        return uniap_err(UNIAP_EINVAL, "profiler: %s layer: head_dim must be >= 1", kind);
    return 0;
}

prof_tensor *prof_layer_param(prof_cpu_layer *L, const char *name, int64_t n, float scale,
                              float center)
{
    if (L->n_params >= PROF_MAX_PARAMS) {
        uniap_err(UNIAP_ENOMEM, "profiler: more than %d parameter tensors", PROF_MAX_PARAMS);
        return NULL;
    }
    size_t bytes = ((size_t)FSZ(n) + 63) & ~(size_t)63;
    prof_tensor *t = &L->params[L->n_params];
    t->name = name;
    t->n = n;
    t->data = aligned_alloc(64, bytes ? bytes : 64);
    t->grad = aligned_alloc(64, bytes ? bytes : 64);
    if (!t->data || !t->grad) {
        free(t->data);
        free(t->grad);
        uniap_err(UNIAP_ENOMEM, "profiler: parameter %s of %lld elements", name, (long long)n);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++)
        t->data[i] = center + prof_rng_uniform(&L->rng, scale);
    memset(t->grad, 0, (size_t)FSZ(n));
    L->n_params++;
    L->param_count += n;
    return t;
}

int prof_layer_input(prof_cpu_layer *L, const char *name, int64_t n)
{
    UNIAP_CHECK(L->n_inputs < 2);
    prof_tensor *t = &L->inputs[L->n_inputs];
    t->name = name;
    t->n = n;
    t->data = prof_alloc(&L->mem, FSZ(n), 0);
    t->grad = prof_alloc(&L->mem, FSZ(n), 1);
    if (!t->data || !t->grad)
        return uniap_err(UNIAP_ENOMEM, "profiler: input %s of %lld elements", name, (long long)n);
    prof_rng_fill(&L->rng, t->data, n, 1.0f);
    L->n_inputs++;
    return 0;
}

int prof_cpu_layer_create(const uniap_layer *l, int64_t seq, int tp, int micro_batch, uint64_t seed,
                          prof_cpu_layer **out)
{
    int rc;
    *out = NULL;
    prof_cpu_layer *L = calloc(1, sizeof(*L));
    if (!L)
        return uniap_err(UNIAP_ENOMEM, "profiler: layer object");
    L->spec = *l;
    if ((rc = prof_layer_shard(l, seq, tp, micro_batch, &L->sh)) < 0)
        goto fail;
    L->spec.seq = L->sh.seq;
    L->desc = uniap__prof_layer_kind(l->kind);
    if (!L->desc) {
        rc = uniap_err(UNIAP_EINVAL, "profiler: layer kind %d has no CPU kernel", (int)l->kind);
        goto fail;
    }
    prof_rng_seed(&L->rng, seed);
    if ((rc = L->desc->setup(L)) < 0)
        goto fail;
    L->dout = prof_alloc(&L->mem, FSZ(L->n_out), 0);
    if (!L->dout) {
        rc = uniap_err(UNIAP_ENOMEM, "profiler: output gradient");
        goto fail;
    }
    prof_rng_fill(&L->rng, L->dout, L->n_out, 1.0f);
    *out = L;
    return 0;
fail:
    prof_cpu_layer_destroy(L);
    return rc;
}

void prof_cpu_layer_destroy(prof_cpu_layer *L)
{
    if (!L)
        return;
    if (L->desc && L->desc->release)
        L->desc->release(L);
    for (int i = 0; i < L->n_params; i++) {
        free(L->params[i].data);
        free(L->params[i].grad);
    }
    for (int i = 0; i < L->n_inputs; i++) {
        prof_free(&L->mem, L->inputs[i].data);
        prof_free(&L->mem, L->inputs[i].grad);
    }
    prof_free(&L->mem, L->ids);
    prof_free(&L->mem, L->out);
    prof_free(&L->mem, L->dout);
    free(L);
    prof_alloc_cache_clear();
}

int prof_cpu_layer_forward(prof_cpu_layer *L)
{
    UNIAP_CHECK(!L->out);
    return L->desc->forward(L);
}

int prof_cpu_layer_backward(prof_cpu_layer *L)
{
    UNIAP_CHECK(L->out);
    return L->desc->backward(L);
}

void prof_cpu_layer_zero_grads(prof_cpu_layer *L)
{
    for (int i = 0; i < L->n_params; i++)
        memset(L->params[i].grad, 0, (size_t)FSZ(L->params[i].n));
}

prof_tensor *prof_cpu_layer_tensor(prof_cpu_layer *L, const char *name)
{
    for (int i = 0; i < L->n_params; i++)
        if (strcmp(L->params[i].name, name) == 0)
            return &L->params[i];
    for (int i = 0; i < L->n_inputs; i++)
        if (strcmp(L->inputs[i].name, name) == 0)
            return &L->inputs[i];
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Bytes of the layer's inputs that its backward reads (kept by reference). */
static int64_t kept_input_bytes(const prof_cpu_layer *L)
{
    switch (L->desc->keep) {
    case PROF_KEEP_IDS:
        return L->sh.tokens * (int64_t)sizeof(int32_t);
    case PROF_KEEP_NONE:
        return 0; /* backward reads its own copy */
    default:
        return FSZ(L->inputs[0].n);
    }
}

int prof_cpu_layer_measure(prof_cpu_layer *L, int warmup, int iters, double *fwd, double *bwd,
                           double *wgrad, prof_layer_memory *mem)
{
    int rc;
    int64_t out_bytes = FSZ(L->n_out);
    for (int it = -warmup; it < iters; it++) {
        prof_cpu_layer_zero_grads(L);
        int64_t base = L->mem.live;
        prof_mem_reset_peak(&L->mem);
        double t0 = now_s();
        if ((rc = prof_cpu_layer_forward(L)) < 0)
            return rc;
        double t1 = now_s();
        int64_t kept = L->mem.live - base - out_bytes;
        prof_wgrad_clock_reset();
        double t1b = now_s();
        if ((rc = prof_cpu_layer_backward(L)) < 0)
            return rc;
        double t2 = now_s();
        if (it >= 0) {
            fwd[it] = t1 - t0;
            bwd[it] = t2 - t1;
            /* inside [t1b, t2], so at most the backward (clock reads round) */
            if (wgrad)
                wgrad[it] = fmin(prof_wgrad_clock_read().seconds, t2 - t1b);
        }
        mem->act_bytes = kept + kept_input_bytes(L);
        mem->peak_bytes = L->mem.peak - base - kept;
        UNIAP_CHECK(L->mem.live == base);
    }
    mem->param_count = L->param_count;
    return 0;
}
