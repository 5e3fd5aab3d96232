/*
 * cuda_kernels.cu - the CUDA backend's own kernels (see cuda_kernels.h):
 * conversions, bias, norms, activations, rotary, softmax for attention,
 * row permutations (window partition, patch merge, im2col), embedding and
 * cross-entropy. One block per row where a row reduction is needed
 * (block-wide sums through shared memory), a grid-stride loop otherwise.
 */
#include <math.h>

#include "cuda_kernels.h"

#define THREADS 256

static inline unsigned blocks_for(int64_t n)
{
    int64_t b = (n + THREADS - 1) / THREADS;
    return (unsigned)(b > 65535 ? 65535 : (b < 1 ? 1 : b));
}

#define GRID_LOOP(i, n)                                                                            \
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n);                      \
         i += (int64_t)blockDim.x * gridDim.x)

__device__ static float block_sum(float v)
{
    __shared__ float buf[32];
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0)
        buf[warp] = v;
    __syncthreads();
    float r = 0.0f;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++)
        r += buf[w];
    return r;
}

__device__ static float block_max(float v)
{
    __shared__ float buf[32];
    for (int o = 16; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0)
        buf[warp] = v;
    __syncthreads();
    float r = -INFINITY;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++)
        r = fmaxf(r, buf[w]);
    return r;
}

__global__ static void k_f32_to_bf16(const float *x, bf16 *y, int64_t n)
{
    GRID_LOOP(i, n) y[i] = __float2bfloat16(x[i]);
}
__global__ static void k_bf16_to_f32(const bf16 *x, float *y, int64_t n)
{
    GRID_LOOP(i, n) y[i] = __bfloat162float(x[i]);
}
__global__ static void k_add(bf16 *y, const bf16 *x, int64_t n)
{
    GRID_LOOP(i, n) y[i] = __float2bfloat16(__bfloat162float(y[i]) + __bfloat162float(x[i]));
}
__global__ static void k_bias_add(bf16 *y, const bf16 *b, int64_t rows, int64_t w)
{
    GRID_LOOP(i, rows * w)
    y[i] = __float2bfloat16(__bfloat162float(y[i]) + __bfloat162float(b[i % w]));
}
__global__ static void k_bias_grad(const bf16 *dy, float *db, int64_t rows, int64_t w)
{
    GRID_LOOP(j, w)
    {
        float s = 0.0f;
        for (int64_t r = 0; r < rows; r++)
            s += __bfloat162float(dy[r * w + j]);
        db[j] += s;
    }
}

extern "C" void uniap__cu_f32_to_bf16(const float *x, bf16 *y, int64_t n, cudaStream_t s)
{
    k_f32_to_bf16<<<blocks_for(n), THREADS, 0, s>>>(x, y, n);
}
extern "C" void uniap__cu_bf16_to_f32(const bf16 *x, float *y, int64_t n, cudaStream_t s)
{
    k_bf16_to_f32<<<blocks_for(n), THREADS, 0, s>>>(x, y, n);
}
extern "C" void uniap__cu_add(bf16 *y, const bf16 *x, int64_t n, cudaStream_t s)
{
    k_add<<<blocks_for(n), THREADS, 0, s>>>(y, x, n);
}
extern "C" void uniap__cu_bias_add(bf16 *y, const bf16 *b, int64_t rows, int64_t w, cudaStream_t s)
{
    k_bias_add<<<blocks_for(rows * w), THREADS, 0, s>>>(y, b, rows, w);
}
extern "C" void uniap__cu_bias_grad(const bf16 *dy, float *db, int64_t rows, int64_t w,
                                    cudaStream_t s)
{
    k_bias_grad<<<blocks_for(w), THREADS, 0, s>>>(dy, db, rows, w);
}

/* --- norms: one block per row ------------------------------------------- */

__global__ static void k_norm_fwd(int rms, const bf16 *x, const bf16 *g, const bf16 *b, bf16 *y,
                                  float *mean, float *rstd, int64_t h)
{
    const bf16 *xr = x + blockIdx.x * h;
    bf16 *yr = y + blockIdx.x * h;
    float s = 0.0f;
    if (!rms) {
        for (int64_t j = threadIdx.x; j < h; j += blockDim.x)
            s += __bfloat162float(xr[j]);
        s = block_sum(s);
    }
    float mu = rms ? 0.0f : s / (float)h, v = 0.0f;
    for (int64_t j = threadIdx.x; j < h; j += blockDim.x) {
        float d = __bfloat162float(xr[j]) - mu;
        v += d * d;
    }
    float r = rsqrtf(block_sum(v) / (float)h + 1e-5f);
    for (int64_t j = threadIdx.x; j < h; j += blockDim.x) {
        float o = (__bfloat162float(xr[j]) - mu) * r * __bfloat162float(g[j]);
        if (!rms)
            o += __bfloat162float(b[j]);
        yr[j] = __float2bfloat16(o);
    }
    if (threadIdx.x == 0) {
        mean[blockIdx.x] = mu;
        rstd[blockIdx.x] = r;
    }
}

__global__ static void k_norm_bwd(int rms, const bf16 *x, const bf16 *dy, const bf16 *g,
                                  const float *mean, const float *rstd, bf16 *dx, float *dg,
                                  float *db, int64_t h)
{
    const bf16 *xr = x + blockIdx.x * h, *dyr = dy + blockIdx.x * h;
    bf16 *dxr = dx + blockIdx.x * h;
    float mu = mean[blockIdx.x], r = rstd[blockIdx.x], s1 = 0.0f, s2 = 0.0f;
    for (int64_t j = threadIdx.x; j < h; j += blockDim.x) {
        float xh = (__bfloat162float(xr[j]) - mu) * r;
        float dxh = __bfloat162float(dyr[j]) * __bfloat162float(g[j]);
        s1 += dxh;
        s2 += dxh * xh;
        atomicAdd(&dg[j], __bfloat162float(dyr[j]) * xh);
        if (db)
            atomicAdd(&db[j], __bfloat162float(dyr[j]));
    }
    s1 = rms ? 0.0f : block_sum(s1) / (float)h;
    s2 = block_sum(s2) / (float)h;
    for (int64_t j = threadIdx.x; j < h; j += blockDim.x) {
        float xh = (__bfloat162float(xr[j]) - mu) * r;
        float dxh = __bfloat162float(dyr[j]) * __bfloat162float(g[j]);
        dxr[j] = __float2bfloat16(__bfloat162float(dxr[j]) + r * (dxh - s1 - xh * s2));
    }
}

extern "C" void uniap__cu_norm_fwd(int rms, const bf16 *x, const bf16 *g, const bf16 *b, bf16 *y,
                                   float *mean, float *rstd, int64_t rows, int64_t h,
                                   cudaStream_t s)
{
    k_norm_fwd<<<(unsigned)rows, THREADS, 0, s>>>(rms, x, g, b, y, mean, rstd, h);
}
extern "C" void uniap__cu_norm_bwd(int rms, const bf16 *x, const bf16 *dy, const bf16 *g,
                                   const float *mean, const float *rstd, bf16 *dx, float *dg,
                                   float *db, int64_t rows, int64_t h, cudaStream_t s)
{
    k_norm_bwd<<<(unsigned)rows, THREADS, 0, s>>>(rms, x, dy, g, mean, rstd, dx, dg, db, h);
}

/* --- activations ------------------------------------------------------------ */

__device__ static float gelu_(float x)
{
    return 0.5f * x * (1.0f + tanhf(0.7978845608f * (x + 0.044715f * x * x * x)));
}
__device__ static float gelu_grad_(float x)
{
    float t = tanhf(0.7978845608f * (x + 0.044715f * x * x * x));
    return 0.5f * (1.0f + t) +
           0.5f * x * (1.0f - t * t) * 0.7978845608f * (1.0f + 0.134145f * x * x);
}

__global__ static void k_act_fwd(int act, const bf16 *a, bf16 *g, int64_t rows, int64_t f)
{
    GRID_LOOP(i, rows * f)
    {
        int64_t r = i / f, j = i % f;
        if (act == 1) {
            float z = __bfloat162float(a[r * 2 * f + j]),
                  u = __bfloat162float(a[r * 2 * f + f + j]);
            g[i] = __float2bfloat16(z / (1.0f + __expf(-z)) * u);
        } else {
            float z = __bfloat162float(a[i]);
            g[i] = __float2bfloat16(act == 0 ? gelu_(z) : fmaxf(z, 0.0f));
        }
    }
}

__global__ static void k_act_bwd(int act, const bf16 *a, const bf16 *dg, bf16 *da, int64_t rows,
                                 int64_t f)
{
    GRID_LOOP(i, rows * f)
    {
        int64_t r = i / f, j = i % f;
        float d = __bfloat162float(dg[i]);
        if (act == 1) {
            float z = __bfloat162float(a[r * 2 * f + j]),
                  u = __bfloat162float(a[r * 2 * f + f + j]);
            float sg = 1.0f / (1.0f + __expf(-z));
            da[r * 2 * f + j] = __float2bfloat16(d * u * sg * (1.0f + z * (1.0f - sg)));
            da[r * 2 * f + f + j] = __float2bfloat16(d * z * sg);
        } else {
            float z = __bfloat162float(a[i]);
            da[i] = __float2bfloat16(act == 0 ? d * gelu_grad_(z) : (z > 0.0f ? d : 0.0f));
        }
    }
}

extern "C" void uniap__cu_act_fwd(int act, const bf16 *a, bf16 *g, int64_t rows, int64_t f,
                                  cudaStream_t s)
{
    k_act_fwd<<<blocks_for(rows * f), THREADS, 0, s>>>(act, a, g, rows, f);
}
extern "C" void uniap__cu_act_bwd(int act, const bf16 *a, const bf16 *dg, bf16 *da, int64_t rows,
                                  int64_t f, cudaStream_t s)
{
    k_act_bwd<<<blocks_for(rows * f), THREADS, 0, s>>>(act, a, dg, da, rows, f);
}

/* --- rotary --------------------------------------------------------------- */

__global__ static void k_rotary(bf16 *x, int64_t ld, int64_t rows, int64_t seq, int nheads,
                                int64_t hd, float sign)
{
    int64_t half = hd / 2;
    GRID_LOOP(e, rows * nheads * half)
    {
        int64_t r = e / (nheads * half), n = (e / half) % nheads, i = e % half;
        float th = (float)(r % seq) * powf(10000.0f, -2.0f * (float)i / (float)hd);
        float c = cosf(th), sn = sign * sinf(th);
        bf16 *hp = x + r * ld + n * hd;
        float x1 = __bfloat162float(hp[i]), x2 = __bfloat162float(hp[i + half]);
        hp[i] = __float2bfloat16(x1 * c - x2 * sn);
        hp[i + half] = __float2bfloat16(x2 * c + x1 * sn);
    }
}

extern "C" void uniap__cu_rotary(bf16 *x, int64_t ld, int64_t rows, int64_t seq, int nheads,
                                 int64_t hd, int inverse, cudaStream_t s)
{
    int64_t n = rows * nheads * (hd / 2);
    k_rotary<<<blocks_for(n), THREADS, 0, s>>>(x, ld, rows, seq, nheads, hd,
                                               inverse ? -1.0f : 1.0f);
}

/* --- attention softmax: one block per score row ---------------------------- */

__global__ static void k_softmax_fwd(const float *scores, bf16 *p, const float *bias, int heads,
                                     int64_t sq, int64_t skv, int causal, float scale)
{
    int64_t row = blockIdx.x; /* [batch][heads][sq] */
    int64_t i = row % sq, h = (row / sq) % heads;
    const float *sr = scores + row * skv;
    const float *br = bias ? bias + (h * sq + i) * skv : NULL;
    bf16 *pr = p + row * skv;
    int64_t lim = causal ? i + (skv - sq) + 1 : skv;
    lim = lim > skv ? skv : (lim < 1 ? 1 : lim);
    float mx = -INFINITY;
    for (int64_t j = threadIdx.x; j < lim; j += blockDim.x)
        mx = fmaxf(mx, sr[j] * scale + (br ? br[j] : 0.0f));
    mx = block_max(mx);
    float sum = 0.0f;
    for (int64_t j = threadIdx.x; j < lim; j += blockDim.x)
        sum += __expf(sr[j] * scale + (br ? br[j] : 0.0f) - mx);
    float inv = 1.0f / block_sum(sum);
    for (int64_t j = threadIdx.x; j < skv; j += blockDim.x)
        pr[j] = __float2bfloat16(j < lim ? __expf(sr[j] * scale + (br ? br[j] : 0.0f) - mx) * inv
                                         : 0.0f);
}

__global__ static void k_softmax_bwd(const bf16 *p, const float *dp, bf16 *ds, float *dbias,
                                     int heads, int64_t sq, int64_t skv, float scale)
{
    int64_t row = blockIdx.x;
    int64_t i = row % sq, h = (row / sq) % heads;
    const bf16 *pr = p + row * skv;
    const float *dr = dp + row * skv;
    float dot = 0.0f;
    for (int64_t j = threadIdx.x; j < skv; j += blockDim.x)
        dot += __bfloat162float(pr[j]) * dr[j];
    dot = block_sum(dot);
    for (int64_t j = threadIdx.x; j < skv; j += blockDim.x) {
        float d = __bfloat162float(pr[j]) * (dr[j] - dot);
        if (dbias)
            atomicAdd(&dbias[(h * sq + i) * skv + j], d);
        ds[row * skv + j] = __float2bfloat16(d * scale);
    }
}

extern "C" void uniap__cu_softmax_fwd(const float *scores, bf16 *p, const float *bias,
                                      int64_t batch, int heads, int64_t sq, int64_t skv, int causal,
                                      float scale, cudaStream_t s)
{
    k_softmax_fwd<<<(unsigned)(batch * heads * sq), THREADS, 0, s>>>(scores, p, bias, heads, sq,
                                                                     skv, causal, scale);
}
extern "C" void uniap__cu_softmax_bwd(const bf16 *p, const float *dp, bf16 *ds, float *dbias,
                                      int64_t batch, int heads, int64_t sq, int64_t skv,
                                      float scale, cudaStream_t s)
{
    k_softmax_bwd<<<(unsigned)(batch * heads * sq), THREADS, 0, s>>>(p, dp, ds, dbias, heads, sq,
                                                                     skv, scale);
}

/* --- row permutations ---------------------------------------------------- */

__global__ static void k_permute(const bf16 *src, bf16 *dst, const int64_t *perm, int64_t rows,
                                 int64_t w, int gather)
{
    GRID_LOOP(e, rows * w)
    {
        int64_t r = e / w, j = e % w;
        if (gather)
            dst[e] = src[perm[r] * w + j];
        else
            dst[perm[r] * w + j] = src[e];
    }
}

extern "C" void uniap__cu_permute_rows(const bf16 *src, bf16 *dst, const int64_t *perm,
                                       int64_t rows, int64_t w, int gather, cudaStream_t s)
{
    k_permute<<<blocks_for(rows * w), THREADS, 0, s>>>(src, dst, perm, rows, w, gather);
}

/* --- embedding ----------------------------------------------------------- */

__global__ static void k_embed_fwd(const int32_t *ids, const bf16 *table, const bf16 *pos, bf16 *y,
                                   int64_t rows, int64_t h, int64_t vocab, int64_t seq)
{
    GRID_LOOP(e, rows * h)
    {
        int64_t t = e / h, j = e % h, id = ids[t];
        float v = id >= 0 && id < vocab ? __bfloat162float(table[id * h + j]) : 0.0f;
        if (pos)
            v += __bfloat162float(pos[(t % seq) * h + j]);
        y[e] = __float2bfloat16(v);
    }
}

__global__ static void k_embed_bwd(const int32_t *ids, const bf16 *dy, float *dtable, float *dpos,
                                   int64_t rows, int64_t h, int64_t vocab, int64_t seq)
{
    GRID_LOOP(e, rows * h)
    {
        int64_t t = e / h, j = e % h, id = ids[t];
        float d = __bfloat162float(dy[e]);
        if (id >= 0 && id < vocab)
            atomicAdd(&dtable[id * h + j], d);
        if (dpos)
            atomicAdd(&dpos[(t % seq) * h + j], d);
    }
}

extern "C" void uniap__cu_embed_fwd(const int32_t *ids, const bf16 *table, const bf16 *pos, bf16 *y,
                                    int64_t rows, int64_t h, int64_t vocab, int64_t seq,
                                    cudaStream_t s)
{
    k_embed_fwd<<<blocks_for(rows * h), THREADS, 0, s>>>(ids, table, pos, y, rows, h, vocab, seq);
}
extern "C" void uniap__cu_embed_bwd(const int32_t *ids, const bf16 *dy, float *dtable, float *dpos,
                                    int64_t rows, int64_t h, int64_t vocab, int64_t seq,
                                    cudaStream_t s)
{
    k_embed_bwd<<<blocks_for(rows * h), THREADS, 0, s>>>(ids, dy, dtable, dpos, rows, h, vocab,
                                                         seq);
}

/* --- cross-entropy: one block per token ------------------------------------ */

__global__ static void k_xent_fwd(bf16 *logits, const int32_t *labels, float *loss, int64_t rows,
                                  int64_t v)
{
    bf16 *lr = logits + blockIdx.x * v;
    float mx = -INFINITY;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x)
        mx = fmaxf(mx, __bfloat162float(lr[j]));
    mx = block_max(mx);
    float sum = 0.0f;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x)
        sum += __expf(__bfloat162float(lr[j]) - mx);
    sum = block_sum(sum);
    int32_t y = labels[blockIdx.x];
    if (threadIdx.x == 0)
        atomicAdd(loss, (logf(sum) + mx - __bfloat162float(lr[y])) / (float)rows);
    __syncthreads();
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x)
        lr[j] = __float2bfloat16(__expf(__bfloat162float(lr[j]) - mx) / sum);
}

__global__ static void k_xent_bwd(bf16 *prob, const int32_t *labels, float scale, int64_t v)
{
    bf16 *pr = prob + blockIdx.x * v;
    int32_t y = labels[blockIdx.x];
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x)
        pr[j] = __float2bfloat16((__bfloat162float(pr[j]) - (j == y ? 1.0f : 0.0f)) * scale);
}

extern "C" void uniap__cu_xent_fwd(bf16 *logits, const int32_t *labels, float *loss, int64_t rows,
                                   int64_t v, cudaStream_t s)
{
    cudaMemsetAsync(loss, 0, sizeof(float), s);
    k_xent_fwd<<<(unsigned)rows, THREADS, 0, s>>>(logits, labels, loss, rows, v);
}
extern "C" void uniap__cu_xent_bwd(bf16 *prob, const int32_t *labels, float dloss, int64_t rows,
                                   int64_t v, cudaStream_t s)
{
    k_xent_bwd<<<(unsigned)rows, THREADS, 0, s>>>(prob, labels, dloss / (float)rows, v);
}
