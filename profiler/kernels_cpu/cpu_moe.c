/*
 * cpu_moe.c - the mixture-of-experts MLP of a moe block on the CPU, forward
 * and backward at the tensor-parallel shard (each expert's ffn / tp
 * columns, the router replicated):
 *   router   logits = x Wr (Wr [h, E], no bias), p = softmax over the E
 *            experts, the top_k largest chosen (ties: lower expert index),
 *            gates renormalized over the chosen k (Mixtral, Jiang et al.
 *            2024 s2.1: softmax(top_k(x Wr)), the same as p_j / sum p_chosen)
 *   dispatch each token's rows gathered per expert in token order; with a
 *            capacity factor cf > 0 an expert takes at most
 *            ceil(cf * T * top_k / E) rows (Megatron-Core's get_capacity;
 *            Fedus et al. 2021 s2.1), later rows dropped (they add nothing)
 *   experts  E MLPs of width ffn with the block's activation (prof_mlp on
 *            slices of stacked weights), combined y += gate * expert(x)
 *   shared   shared_experts always-on experts of the same width on every
 *            token, gate 1 (DeepSeekMoE, Dai et al. 2024 s3.2), stacked like
 *            the routed ones (one b2 each, as io's parameter count has)
 * With expert parallelism the experts live on other ranks; a rank's expert
 * compute is its tokens x top_k rows either way, so the profiler measures
 * with every expert local (the all-to-all is the cost model's).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"

#define FSZ(n) ((int64_t)(n) * (int64_t)sizeof(float))
#define ISZ(n) ((int64_t)(n) * (int64_t)sizeof(int32_t))

int prof_moe_cfg_of(const prof_cpu_layer *L, prof_moe_cfg *c)
{
    const uniap_layer *l = &L->spec;
    *c = (prof_moe_cfg){l->experts, l->top_k, l->shared_experts, l->capacity_factor};
    return prof_moe_check(c);
}

int prof_moe_check(const prof_moe_cfg *c)
{
    if (c->experts < 1)
        return uniap_err(UNIAP_EINVAL, "profiler: moe layer: experts %d: expected >= 1",
                         c->experts);
    if (c->top_k < 1 || c->top_k > c->experts || c->top_k > 64)
        return uniap_err(UNIAP_EINVAL,
                         "profiler: moe layer: top_k %d: expected 1..min(experts %d, 64)", c->top_k,
                         c->experts);
    if (c->shared < 0 || !(c->capacity_factor >= 0.0))
        return uniap_err(UNIAP_EINVAL,
                         "profiler: moe layer: shared_experts %d and capacity_factor %g: "
                         "expected >= 0",
                         c->shared, c->capacity_factor);
    return 0;
}

/* Tensor views of slice i of the stacked weights w[4] (w1 b1 w2 b2) for
 * the MLP x. */
static void expert_views(prof_moe *m, prof_tensor *const w[4], int i, prof_tensor *v, prof_mlp *x)
{
    int64_t wa = m->act == UNIAP_ACT_SWIGLU ? 2 * m->f : m->f;
    int64_t n[4] = {m->h * wa, wa, m->f * m->h, m->h};
    prof_tensor **dst[4] = {&x->w1, &x->b1, &x->w2, &x->b2};
    for (int j = 0; j < 4; j++) {
        *dst[j] = NULL;
        if (!w[j])
            continue;
        v[j] = (prof_tensor){w[j]->name, w[j]->data + i * n[j], w[j]->grad + i * n[j], n[j]};
        *dst[j] = &v[j];
    }
    x->act = m->act;
    x->h = m->h;
    x->f = m->f;
}

/* count MLPs' weights stacked, registered under prefix ("moe", "moe.shared"). */
static int mlp_params(prof_cpu_layer *L, prof_moe *m, int count, int shared, prof_tensor *w[4])
{
    int64_t h = m->h, f = m->f, wa = m->act == UNIAP_ACT_SWIGLU ? 2 * f : f;
    w[0] = prof_layer_param(L, shared ? "moe.shared.w1" : "moe.w1", count * h * wa,
                            1.0f / sqrtf((float)h), 0.0f);
    w[2] = prof_layer_param(L, shared ? "moe.shared.w2" : "moe.w2", count * f * h,
                            1.0f / sqrtf((float)f), 0.0f);
    if (!w[0] || !w[2])
        return UNIAP_ENOMEM;
    w[1] = w[3] = NULL;
    if (L->spec.bias) {
        w[1] = prof_layer_param(L, shared ? "moe.shared.b1" : "moe.b1", count * wa, 0.1f, 0.0f);
        w[3] = prof_layer_param(L, shared ? "moe.shared.b2" : "moe.b2", count * h, 0.1f, 0.0f);
        if (!w[1] || !w[3])
            return UNIAP_ENOMEM;
    }
    return 0;
}

int prof_moe_setup(prof_cpu_layer *L, prof_moe *m, const prof_moe_cfg *c, int64_t h, int64_t f)
{
    int rc, E = c->experts, S = c->shared;
    prof_tensor *w[4], *ws[4];
    memset(m, 0, sizeof(*m));
    if ((rc = prof_moe_check(c)) < 0)
        return rc;
    m->c = *c;
    m->act = L->spec.activation;
    m->h = h;
    m->f = f;
    m->wr = prof_layer_param(L, "moe.router", h * E, 1.0f / sqrtf((float)h), 0.0f);
    if (!m->wr)
        return UNIAP_ENOMEM;
    if ((rc = mlp_params(L, m, E, 0, w)) < 0 || (S > 0 && (rc = mlp_params(L, m, S, 1, ws)) < 0))
        return rc;
    m->ex = calloc((size_t)(E + S), sizeof(*m->ex));
    m->views = calloc((size_t)(E + S) * 4, sizeof(*m->views));
    m->off = calloc((size_t)E + 1, sizeof(*m->off));
    if (!m->ex || !m->views || !m->off)
        return uniap_err(UNIAP_ENOMEM, "profiler: moe tables of %d experts", E + S);
    for (int e = 0; e < E + S; e++)
        expert_views(m, e < E ? w : ws, e < E ? e : e - E, m->views + 4 * e, &m->ex[e]);
    return 0;
}

/* Softmax over the E logits of each token, the top_k chosen (strictly
 * larger wins, so ties go to the lower index) and their renormalized
 * gates into sel, gate [T, k]. */
static void route(const prof_moe *m, float *logits, int64_t T)
{
    int E = m->c.experts, k = m->c.top_k;
    for (int64_t t = 0; t < T; t++) {
        float *z = logits + t * E, mx = z[0], sum = 0.0f;
        for (int e = 1; e < E; e++)
            mx = z[e] > mx ? z[e] : mx;
        for (int e = 0; e < E; e++)
            sum += (z[e] = expf(z[e] - mx));
        float chosen = 0.0f;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < E; e++)
                if (z[e] >= 0.0f && (best < 0 || z[e] > z[best]))
                    best = e;
            m->sel[t * k + j] = best;
            m->gate[t * k + j] = z[best] / sum;
            chosen += z[best] / sum;
            z[best] = -1.0f; /* taken */
        }
        for (int j = 0; j < k; j++)
            m->gate[t * k + j] /= chosen;
    }
}

/* Rows of each expert (off[E+1]) and the row of each (token, slot), -1
 * when past the expert's capacity; returns the rows kept. */
static int64_t dispatch(prof_moe *m, int64_t T)
{
    int E = m->c.experts, k = m->c.top_k;
    int64_t cap = T * k;
    if (m->c.capacity_factor > 0.0)
        cap = (int64_t)ceil(m->c.capacity_factor * (double)(T * k) / (double)E);
    memset(m->off, 0, sizeof(*m->off) * (size_t)(E + 1));
    for (int64_t i = 0; i < T * k; i++) {
        int e = m->sel[i];
        m->row[i] = m->off[e + 1] < cap ? (int32_t)m->off[e + 1]++ : -1;
    }
    for (int e = 0; e < E; e++)
        m->off[e + 1] += m->off[e];
    for (int64_t i = 0; i < T * k; i++)
        if (m->row[i] >= 0) {
            m->row[i] += (int32_t)m->off[m->sel[i]];
            m->tok[m->row[i]] = (int32_t)(i / k);
        }
    return m->off[E];
}

int prof_moe_fwd(prof_cpu_layer *L, prof_moe *m, const float *x, int64_t T, float *y)
{
    prof_mem *M = &L->mem;
    int E = m->c.experts, k = m->c.top_k, rc;
    int64_t h = m->h;
    float *logits = prof_alloc(M, FSZ(T * E), 0);
    m->gate = prof_alloc(M, FSZ(T * k), 0);
    m->sel = prof_alloc(M, ISZ(T * k), 0);
    m->row = prof_alloc(M, ISZ(T * k), 0);
    m->tok = prof_alloc(M, ISZ(T * k), 0);
    if (!logits || !m->gate || !m->sel || !m->row || !m->tok)
        goto nomem;
    prof_lfwd(L, x, T, h, m->wr->data, NULL, E, 0.0f, logits);
    route(m, logits, T);
    prof_free(M, logits);
    logits = NULL;
    int64_t N = dispatch(m, T);
    m->xe = prof_alloc(M, FSZ(N * h), 0);
    m->ye = prof_alloc(M, FSZ(N * h), 1);
    if (!m->xe || !m->ye)
        goto nomem;
    for (int64_t r = 0; r < N; r++)
        memcpy(m->xe + r * h, x + m->tok[r] * h, (size_t)FSZ(h));
    for (int e = 0; e < E; e++) {
        int64_t o = m->off[e], n = m->off[e + 1] - o;
        if (n > 0 && (rc = prof_mlp_fwd(L, &m->ex[e], m->xe + o * h, n, m->ye + o * h)) < 0)
            return rc;
    }
    for (int64_t i = 0; i < T * k; i++) {
        if (m->row[i] < 0)
            continue;
        float g = m->gate[i], *yt = y + (i / k) * h;
        const float *ye = m->ye + (int64_t)m->row[i] * h;
        for (int64_t c = 0; c < h; c++)
            yt[c] += g * ye[c];
    }
    for (int e = E; e < E + m->c.shared; e++) /* shared: every token, gate 1 */
        if ((rc = prof_mlp_fwd(L, &m->ex[e], x, T, y)) < 0)
            return rc;
    return 0;
nomem:
    prof_free(M, logits);
    return uniap_err(UNIAP_ENOMEM, "profiler: moe activations of %lld tokens", (long long)T);
}

/* The router's backward: the gates' gradients dgate (dot of dy and the
 * expert's output) through the softmax over the chosen experts, into the
 * logits' gradient dz [T, E]: dz_j = g_j (dgate_j - sum_i g_i dgate_i)
 * for chosen j, 0 for the others (the choice is piecewise constant). */
static void router_grad(const prof_moe *m, const float *dy, int64_t T, float *dz)
{
    int E = m->c.experts, k = m->c.top_k;
    for (int64_t t = 0; t < T; t++) {
        double dg[64], mean = 0.0; /* top_k <= 64 (prof_moe_check) */
        for (int j = 0; j < k; j++) {
            int32_t r = m->row[t * k + j];
            double s = 0.0;
            if (r >= 0)
                for (int64_t c = 0; c < m->h; c++)
                    s += (double)dy[t * m->h + c] * m->ye[(int64_t)r * m->h + c];
            dg[j] = s;
            mean += m->gate[t * k + j] * s;
        }
        for (int j = 0; j < k; j++)
            dz[t * E + m->sel[t * k + j]] = (float)(m->gate[t * k + j] * (dg[j] - mean));
    }
}

#define RELEASE(ptr)                                                                               \
    do {                                                                                           \
        prof_free(M, (ptr));                                                                       \
        (ptr) = NULL;                                                                              \
    } while (0)

int prof_moe_bwd(prof_cpu_layer *L, prof_moe *m, const float *x, const float *dy, int64_t T,
                 float *dx)
{
    prof_mem *M = &L->mem;
    int E = m->c.experts, k = m->c.top_k, rc = 0;
    int64_t h = m->h, N = m->off[E];
    float *dz = prof_alloc(M, FSZ(T * E), 1);
    float *dye = prof_alloc(M, FSZ(N * h), 0), *dxe = prof_alloc(M, FSZ(N * h), 1);
    if (!dz || !dye || !dxe) {
        rc = uniap_err(UNIAP_ENOMEM, "profiler: moe gradients of %lld tokens", (long long)T);
        goto release;
    }
    router_grad(m, dy, T, dz);
    RELEASE(m->ye);
    for (int64_t i = 0; i < T * k; i++) {
        if (m->row[i] < 0)
            continue;
        float g = m->gate[i], *d = dye + (int64_t)m->row[i] * h;
        const float *dyt = dy + (i / k) * h;
        for (int64_t c = 0; c < h; c++)
            d[c] = g * dyt[c];
    }
    for (int e = 0; e < E; e++) {
        int64_t o = m->off[e], n = m->off[e + 1] - o;
        if (n > 0 &&
            (rc = prof_mlp_bwd(L, &m->ex[e], m->xe + o * h, dye + o * h, n, dxe + o * h)) < 0)
            goto release;
    }
    for (int64_t r = 0; r < N; r++) {
        float *d = dx + (int64_t)m->tok[r] * h;
        for (int64_t c = 0; c < h; c++)
            d[c] += dxe[r * h + c];
    }
    prof_lbwd(L, x, dz, T, h, E, m->wr->data, 1.0f, dx, m->wr->grad, NULL);
    for (int e = E; e < E + m->c.shared && rc == 0; e++)
        rc = prof_mlp_bwd(L, &m->ex[e], x, dy, T, dx);
release:
    prof_free(M, dz);
    prof_free(M, dye);
    prof_free(M, dxe);
    prof_moe_release(L, m);
    return rc;
}

void prof_moe_release(prof_cpu_layer *L, prof_moe *m)
{
    prof_mem *M = &L->mem;
    RELEASE(m->gate);
    RELEASE(m->sel);
    RELEASE(m->row);
    RELEASE(m->tok);
    RELEASE(m->xe);
    RELEASE(m->ye);
    for (int e = 0; m->ex && e < m->c.experts + m->c.shared; e++) {
        RELEASE(m->ex[e].a);
        RELEASE(m->ex[e].g);
    }
}

void prof_moe_free(prof_cpu_layer *L, prof_moe *m)
{
    prof_moe_release(L, m);
    free(m->ex);
    free(m->views);
    free(m->off);
    m->ex = NULL;
    m->views = NULL;
    m->off = NULL;
}
