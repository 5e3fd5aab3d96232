/*
 * cuda_kernels.h - the CUDA backend's own kernels (everything that is not
 * a cuBLAS GEMM), as host functions launching on a stream. Activations and
 * weights are bf16, statistics and parameter gradients fp32, arithmetic
 * fp32. Layouts as the CPU kernels: row-major [rows, width].
 */
#ifndef UNIAP_CUDA_KERNELS_H
#define UNIAP_CUDA_KERNELS_H

#include <stdint.h>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef __nv_bfloat16 bf16;

void uniap__cu_f32_to_bf16(const float *x, bf16 *y, int64_t n, cudaStream_t s);
void uniap__cu_bf16_to_f32(const bf16 *x, float *y, int64_t n, cudaStream_t s);
/* y += x (bf16) */
void uniap__cu_add(bf16 *y, const bf16 *x, int64_t n, cudaStream_t s);
/* y[r, :] += b (b bf16, width w) */
void uniap__cu_bias_add(bf16 *y, const bf16 *b, int64_t rows, int64_t w, cudaStream_t s);
/* db[j] += sum_r dy[r, j] */
void uniap__cu_bias_grad(const bf16 *dy, float *db, int64_t rows, int64_t w, cudaStream_t s);

/* rms: 1 for RMSNorm (b unused). mean, rstd: fp32 [rows]. */
void uniap__cu_norm_fwd(int rms, const bf16 *x, const bf16 *g, const bf16 *b, bf16 *y, float *mean,
                        float *rstd, int64_t rows, int64_t h, cudaStream_t s);
/* dx += ; dg, db += (db may be NULL) */
void uniap__cu_norm_bwd(int rms, const bf16 *x, const bf16 *dy, const bf16 *g, const float *mean,
                        const float *rstd, bf16 *dx, float *dg, float *db, int64_t rows, int64_t h,
                        cudaStream_t s);

/* act: 0 GELU (tanh), 1 SwiGLU (a is [rows, 2f]: gate | up), 2 ReLU.
 * g[rows, f] = act(a). */
void uniap__cu_act_fwd(int act, const bf16 *a, bf16 *g, int64_t rows, int64_t f, cudaStream_t s);
/* da (same shape as a) from dg and a; may not alias a. */
void uniap__cu_act_bwd(int act, const bf16 *a, const bf16 *dg, bf16 *da, int64_t rows, int64_t f,
                       cudaStream_t s);

/* Rotary (half-split, base 10000) on nheads heads of width hd at column 0
 * of rows with stride ld, positions row % seq; inverse rotates back. */
void uniap__cu_rotary(bf16 *x, int64_t ld, int64_t rows, int64_t seq, int nheads, int64_t hd,
                      int inverse, cudaStream_t s);

/* Softmax of each row of skv scores in place (fp32 in scores, bf16 out
 * in p), rows grouped [batch][heads][sq]; causal masks j > i + skv - sq;
 * bias [heads][sq][skv] added first when given; scale multiplies scores. */
void uniap__cu_softmax_fwd(const float *scores, bf16 *p, const float *bias, int64_t batch,
                           int heads, int64_t sq, int64_t skv, int causal, float scale,
                           cudaStream_t s);
/* ds = p * (dp - rowsum(p * dp)) * scale, over rows of skv (dp fp32 in,
 * ds bf16 out); dbias += unscaled ds summed over the batch when given. */
void uniap__cu_softmax_bwd(const bf16 *p, const float *dp, bf16 *ds, float *dbias, int64_t batch,
                           int heads, int64_t sq, int64_t skv, float scale, cudaStream_t s);

/* Rows permuted: gather dst[r] = src[perm[r]], scatter dst[perm[r]] = src[r]. */
void uniap__cu_permute_rows(const bf16 *src, bf16 *dst, const int64_t *perm, int64_t rows,
                            int64_t w, int gather, cudaStream_t s);

/* Embedding: y[t] = table[ids[t] - lo] (zero outside [0, vocab)) + pos[t % seq] */
void uniap__cu_embed_fwd(const int32_t *ids, const bf16 *table, const bf16 *pos, bf16 *y,
                         int64_t rows, int64_t h, int64_t vocab, int64_t seq, cudaStream_t s);
void uniap__cu_embed_bwd(const int32_t *ids, const bf16 *dy, float *dtable, float *dpos,
                         int64_t rows, int64_t h, int64_t vocab, int64_t seq, cudaStream_t s);

/* Cross-entropy over logits [rows, v] in place: probabilities, then
 * d logits = (p - onehot) * dloss / rows; loss (fp32 scalar, mean). */
void uniap__cu_xent_fwd(bf16 *logits, const int32_t *labels, float *loss, int64_t rows, int64_t v,
                        cudaStream_t s);
void uniap__cu_xent_bwd(bf16 *prob, const int32_t *labels, float dloss, int64_t rows, int64_t v,
                        cudaStream_t s);

#ifdef __cplusplus
}
#endif
#endif
