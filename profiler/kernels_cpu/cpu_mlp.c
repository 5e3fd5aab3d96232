/*
 * cpu_mlp.c - the feed-forward part of a transformer block on the CPU:
 * GELU (tanh form) or ReLU MLP and the SwiGLU MLP (Llama), at the
 * tensor-parallel shard (ffn / tp columns), forward and backward.
 */
#include <math.h>
#include <string.h>

#include "cpu_kernels.h"

#define GELU_K 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_C 0.044715f

/* tanh through one expf: libm's tanhf (through expm1f) was a fifth of a
 * Swin block's time; this form stays within a few fp32 ulps of 1 - |t|,
 * which is what GELU uses. */
static inline float tanh_fast(float u)
{
    return 1.0f - 2.0f / (expf(2.0f * u) + 1.0f);
}

float prof_gelu(float x)
{
    float t = tanh_fast(GELU_K * (x + GELU_C * x * x * x));
    return 0.5f * x * (1.0f + t);
}

float prof_gelu_grad(float x)
{
    float t = tanh_fast(GELU_K * (x + GELU_C * x * x * x));
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * GELU_C * x * x);
}

static inline float sigmoidf_(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

int prof_mlp_setup(prof_cpu_layer *L, prof_mlp *m, int64_t h, int64_t f)
{
    int glu = L->spec.activation == UNIAP_ACT_SWIGLU;
    memset(m, 0, sizeof(*m));
    m->act = L->spec.activation;
    m->h = h;
    m->f = f;
    m->w1 = prof_layer_param(L, "mlp.w1", h * f * (glu ? 2 : 1), 1.0f / sqrtf((float)h), 0.0f);
    m->w2 = prof_layer_param(L, "mlp.w2", f * h, 1.0f / sqrtf((float)f), 0.0f);
    if (!m->w1 || !m->w2)
        return UNIAP_ENOMEM;
    if (L->spec.bias) {
        m->b1 = prof_layer_param(L, "mlp.b1", f * (glu ? 2 : 1), 0.1f, 0.0f);
        m->b2 = prof_layer_param(L, "mlp.b2", h, 0.1f, 0.0f);
        if (!m->b1 || !m->b2)
            return UNIAP_ENOMEM;
    }
    return 0;
}

int prof_mlp_fwd(prof_cpu_layer *L, prof_mlp *m, const float *x, int64_t T, float *y)
{
    int glu = m->act == UNIAP_ACT_SWIGLU;
    int64_t f = m->f, wa = glu ? 2 * f : f;
    m->a = prof_alloc(&L->mem, T * wa * (int64_t)sizeof(float), 0);
    m->g = prof_alloc(&L->mem, T * f * (int64_t)sizeof(float), 0);
    if (!m->a || !m->g)
        return uniap_err(UNIAP_ENOMEM, "profiler: MLP activations of %lld tokens", (long long)T);
    prof_lfwd(L, x, T, m->h, m->w1->data, m->b1 ? m->b1->data : NULL, wa, 0.0f, m->a);
    for (int64_t t = 0; t < T; t++) {
        const float *ar = m->a + t * wa;
        float *gr = m->g + t * f;
        if (glu) {
            for (int64_t j = 0; j < f; j++)
                gr[j] = ar[j] * sigmoidf_(ar[j]) * ar[f + j];
        } else if (m->act == UNIAP_ACT_GELU) {
            for (int64_t j = 0; j < f; j++)
                gr[j] = prof_gelu(ar[j]);
        } else {
            for (int64_t j = 0; j < f; j++)
                gr[j] = ar[j] > 0.0f ? ar[j] : 0.0f;
        }
    }
    prof_lfwd(L, m->g, T, f, m->w2->data, m->b2 ? m->b2->data : NULL, m->h, 1.0f, y);
    return 0;
}

int prof_mlp_bwd(prof_cpu_layer *L, prof_mlp *m, const float *x, const float *dy, int64_t T,
                 float *dx)
{
    int glu = m->act == UNIAP_ACT_SWIGLU;
    int64_t f = m->f, wa = glu ? 2 * f : f;
    float *dg = prof_alloc(&L->mem, T * f * (int64_t)sizeof(float), 0);
    if (!dg)
        return uniap_err(UNIAP_ENOMEM, "profiler: MLP gradients of %lld tokens", (long long)T);
    prof_lbwd(L, m->g, dy, T, f, m->h, m->w2->data, 0.0f, dg, m->w2->grad,
              m->b2 ? m->b2->grad : NULL);
    prof_free(&L->mem, m->g);
    m->g = NULL;
    /* da overwrites a in place: a is not needed once its gradient is known */
    for (int64_t t = 0; t < T; t++) {
        float *ar = m->a + t * wa;
        const float *dgr = dg + t * f;
        if (glu) {
            for (int64_t j = 0; j < f; j++) {
                float z = ar[j], u = ar[f + j], sg = sigmoidf_(z);
                float silu = z * sg;
                ar[j] = dgr[j] * u * sg * (1.0f + z * (1.0f - sg));
                ar[f + j] = dgr[j] * silu;
            }
        } else if (m->act == UNIAP_ACT_GELU) {
            for (int64_t j = 0; j < f; j++)
                ar[j] = dgr[j] * prof_gelu_grad(ar[j]);
        } else {
            for (int64_t j = 0; j < f; j++)
                ar[j] = ar[j] > 0.0f ? dgr[j] : 0.0f;
        }
    }
    prof_free(&L->mem, dg);
    prof_lbwd(L, x, m->a, T, m->h, wa, m->w1->data, 1.0f, dx, m->w1->grad,
              m->b1 ? m->b1->grad : NULL);
    prof_free(&L->mem, m->a);
    m->a = NULL;
    return 0;
}
