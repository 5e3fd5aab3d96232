/*
 * cpu_head.c - the output layer on the CPU: final norm, the LM/classifier
 * projection to this shard's vocab / tp logits (vocab-parallel; weights
 * tied to the embedding are computed with but not counted as parameters),
 * softmax cross-entropy against labels (mean over tokens), forward and
 * backward. The softmax normalizes over the shard's logits; the two
 * all-reduces that make it global under tp are the cost model's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"

#define FSZ(n) ((int64_t)(n) * (int64_t)sizeof(float))

typedef struct head {
    prof_tensor *g, *b, *w, *bias;
    float *n, *mean, *rstd, *prob; /* kept */
} head;

static int head_setup(prof_cpu_layer *L)
{
    const prof_shard *s = &L->sh;
    head *H = calloc(1, sizeof(*H));
    if (!H)
        return uniap_err(UNIAP_ENOMEM, "profiler: head state");
    L->impl = H;
    if (s->vocab < 1)
        return uniap_err(UNIAP_EINVAL, "profiler: head layer: vocab must be >= 1");
    H->g = prof_layer_param(L, "head.ln.g", s->hidden, 0.2f, 1.0f);
    if (!H->g)
        return UNIAP_ENOMEM;
    if (L->spec.norm == UNIAP_NORM_LAYERNORM &&
        !(H->b = prof_layer_param(L, "head.ln.b", s->hidden, 0.1f, 0.0f)))
        return UNIAP_ENOMEM;
    H->w =
        prof_layer_param(L, "head.w", s->hidden * s->vocab, 1.0f / sqrtf((float)s->hidden), 0.0f);
    if (!H->w)
        return UNIAP_ENOMEM;
    if (L->spec.tied)
        L->param_count -= H->w->n; /* the embedding's table */
    if (L->spec.bias && !(H->bias = prof_layer_param(L, "head.b", s->vocab, 0.1f, 0.0f)))
        return UNIAP_ENOMEM;
    int rc = prof_layer_input(L, "x", s->tokens * s->hidden);
    if (rc < 0)
        return rc;
    L->ids = prof_alloc(&L->mem, s->tokens * (int64_t)sizeof(int32_t), 0);
    if (!L->ids)
        return uniap_err(UNIAP_ENOMEM, "profiler: head labels");
    for (int64_t t = 0; t < s->tokens; t++) {
        float u = prof_rng_uniform(&L->rng, 0.5f) + 0.5f;
        int64_t id = (int64_t)(u * (float)s->vocab);
        L->ids[t] = (int32_t)(id >= s->vocab ? s->vocab - 1 : id);
    }
    L->n_out = 1;
    return 0;
}

static int head_forward(prof_cpu_layer *L)
{
    head *H = L->impl;
    const prof_shard *s = &L->sh;
    prof_mem *M = &L->mem;
    int64_t T = s->tokens, h = s->hidden, V = s->vocab;
    H->n = prof_alloc(M, FSZ(T * h), 0);
    H->mean = prof_alloc(M, FSZ(T), 0);
    H->rstd = prof_alloc(M, FSZ(T), 0);
    H->prob = prof_alloc(M, FSZ(T * V), 0);
    L->out = prof_alloc(M, FSZ(1), 0);
    if (!H->n || !H->mean || !H->rstd || !H->prob || !L->out)
        return uniap_err(UNIAP_ENOMEM, "profiler: head activations (%lld x %lld logits)",
                         (long long)T, (long long)V);
    prof_norm_fwd(L->spec.norm, L->inputs[0].data, T, h, H->g->data, H->b ? H->b->data : NULL, H->n,
                  H->mean, H->rstd);
    prof_lfwd(L, H->n, T, h, H->w->data, H->bias ? H->bias->data : NULL, V, 0.0f, H->prob);
    double loss = 0.0;
    for (int64_t t = 0; t < T; t++) {
        float *row = H->prob + t * V;
        float mx = row[0];
        for (int64_t j = 1; j < V; j++)
            mx = row[j] > mx ? row[j] : mx;
        double sum = 0.0;
        for (int64_t j = 0; j < V; j++) {
            row[j] = expf(row[j] - mx);
            sum += row[j];
        }
        float inv = (float)(1.0 / sum);
        for (int64_t j = 0; j < V; j++)
            row[j] *= inv;
        loss -= log((double)row[L->ids[t]] > 1e-30 ? (double)row[L->ids[t]] : 1e-30);
    }
    L->out[0] = (float)(loss / (double)T);
    return 0;
}

static int head_backward(prof_cpu_layer *L)
{
    head *H = L->impl;
    const prof_shard *s = &L->sh;
    prof_mem *M = &L->mem;
    int64_t T = s->tokens, h = s->hidden, V = s->vocab;
    float scale = L->dout[0] / (float)T;
    /* dlogits = (p - onehot(label)) dloss / T, in place */
    for (int64_t t = 0; t < T; t++) {
        float *row = H->prob + t * V;
        row[L->ids[t]] -= 1.0f;
        for (int64_t j = 0; j < V; j++)
            row[j] *= scale;
    }
    float *dn = prof_alloc(M, FSZ(T * h), 0);
    if (!dn)
        return uniap_err(UNIAP_ENOMEM, "profiler: head gradients");
    prof_lbwd(L, H->n, H->prob, T, h, V, H->w->data, 0.0f, dn, H->w->grad,
              H->bias ? H->bias->grad : NULL);
    memset(L->inputs[0].grad, 0, (size_t)FSZ(T * h));
    prof_norm_bwd(L->spec.norm, L->inputs[0].data, dn, T, h, H->g->data, H->mean, H->rstd,
                  L->inputs[0].grad, H->g->grad, H->b ? H->b->grad : NULL);
    prof_free(M, dn);
    prof_free(M, H->n);
    prof_free(M, H->mean);
    prof_free(M, H->rstd);
    prof_free(M, H->prob);
    prof_free(M, L->out);
    H->n = H->mean = H->rstd = H->prob = L->out = NULL;
    return 0;
}

static void head_release(prof_cpu_layer *L)
{
    head *H = L->impl;
    if (!H)
        return;
    prof_free(&L->mem, H->n);
    prof_free(&L->mem, H->mean);
    prof_free(&L->mem, H->rstd);
    prof_free(&L->mem, H->prob);
    free(H);
    L->impl = NULL;
}

const prof_layer_kind uniap__cpu_head = {.setup = head_setup,
                                         .forward = head_forward,
                                         .backward = head_backward,
                                         .release = head_release,
                                         .loss = 1,
                                         .keep = PROF_KEEP_INPUT};
