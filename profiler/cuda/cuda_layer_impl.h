/*
 * cuda_layer_impl.h - shared internals of the CUDA layers (private to
 * profiler/cuda/): the layer state, the tracked caching allocator, the
 * GEMM helpers and attention, used by the kind files.
 */
#ifndef UNIAP_CUDA_LAYER_IMPL_H
#define UNIAP_CUDA_LAYER_IMPL_H

#include "cpu_kernels.h"
#include "cuda_check.h"
#include "cuda_kernels.h"

#define CU_MAX_BLOCKS 256
#define CU_MAX_WGRAD  32 /* weight-gradient GEMMs one backward may time (W) */
#define BF16          CUDA_R_16BF
#define F32           CUDA_R_32F

typedef struct cu_block_ent {
    void *p;
    int64_t bytes;
    int used;
} cu_block_ent;

struct cu_layer;

/* A layer kind's CUDA kernels (the table is in cuda_layers.cu): setup
 * (NULL: nothing to prepare) after the parameters and inputs are on the
 * device; forward allocates C->out and what backward keeps; backward
 * releases them. */
typedef struct cu_kind_ops {
    int (*setup)(struct cu_layer *C);
    int (*fwd)(struct cu_layer *C);
    int (*bwd)(struct cu_layer *C);
} cu_kind_ops;

typedef struct cu_layer {
    prof_cpu_layer *cpu;
    const cu_kind_ops *ops; /* the kind's kernels */
    cublasHandle_t blas;
    cudaStream_t st;
    cu_block_ent blocks[CU_MAX_BLOCKS];
    int n_blocks;
    int64_t live, peak;
    bf16 *w[PROF_MAX_PARAMS];  /* parameters, bf16 */
    float *g[PROF_MAX_PARAMS]; /* their gradients, fp32 */
    bf16 *x[2], *dx[2];        /* inputs and their gradients */
    int32_t *ids;
    int64_t *perm, *perm2; /* row permutations (window, merge, im2col) */
    float *relbias;        /* swin: dense [heads][w2][w2] bias and its gradient */
    float *drelbias;
    bf16 *out, *dout;
    float *loss;
    /* kept from forward */
    bf16 *keep[24];
    float *stat[8];
    /* W (zero-bubble schedules): with time_w set, uniap__cu_lin_bwd records
     * an event pair around each weight-gradient GEMM and bias sum, n_wev
     * events so far in this backward (prof_cuda_layer_measure) */
    cudaEvent_t wev[2 * CU_MAX_WGRAD];
    int n_wev, time_w;
} cu_layer;

int uniap__cu_alloc(cu_layer *C, int64_t bytes, void **out);
void uniap__cu_release(cu_layer *C, void *p);

#define ALLOC(C, ptr, n, type)                                                                     \
    do {                                                                                           \
        int a_rc_ = uniap__cu_alloc((C), (int64_t)(n) * (int64_t)sizeof(type), (void **)&(ptr));   \
        if (a_rc_ < 0)                                                                             \
            return a_rc_;                                                                          \
    } while (0)
#define RELEASE(C, ptr)                                                                            \
    do {                                                                                           \
        uniap__cu_release((C), (ptr));                                                             \
        (ptr) = NULL;                                                                              \
    } while (0)
#define TRY(call)                                                                                  \
    do {                                                                                           \
        int t_rc_ = (call);                                                                        \
        if (t_rc_ < 0)                                                                             \
            return t_rc_;                                                                          \
    } while (0)

/* Row-major GEMMs through cuBLAS: C[m, n] = alpha op(A) op(B) + beta C. */
int uniap__cu_gemm(cu_layer *C, int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                   const void *A, cudaDataType at, int64_t lda, const void *B, cudaDataType bt,
                   int64_t ldb, float beta, void *Cm, cudaDataType ct, int64_t ldc);
int uniap__cu_gemm_batched(cu_layer *C, int ta, int tb, int64_t m, int64_t n, int64_t k,
                           float alpha, const void *A, cudaDataType at, int64_t lda, int64_t sa,
                           const void *B, cudaDataType bt, int64_t ldb, int64_t sb, float beta,
                           void *Cm, cudaDataType ct, int64_t ldc, int64_t sc, int64_t batch);
/* Linear layer with parameter indices wi (weight), bi (bias or -1). */
int uniap__cu_lin_fwd(cu_layer *C, const bf16 *x, int64_t T, int64_t in, int wi, int bi,
                      int64_t out, float beta, bf16 *y);
int uniap__cu_lin_bwd(cu_layer *C, const bf16 *x, const bf16 *dy, int64_t T, int64_t in,
                      int64_t out, int wi, int bi, float beta_dx, bf16 *dx);
/* Index of the CPU layer's parameter called name, or -1. */
int uniap__cu_param(const cu_layer *C, const char *name);

typedef struct cu_attn {
    int64_t batch, sq, skv;
    int heads, kv_heads;
    int64_t hd;
    int causal;
} cu_attn;
/* p (kept, bf16 [batch][heads][sq][skv]) and o [batch*sq, heads*hd]. */
int uniap__cu_attn_fwd(cu_layer *C, const cu_attn *a, const bf16 *q, int64_t ldq, const bf16 *k,
                       const bf16 *v, int64_t ldkv, const float *bias, bf16 *p, bf16 *o);
/* dq (overwritten), dk, dv (accumulated; zero them first), dbias += . */
int uniap__cu_attn_bwd(cu_layer *C, const cu_attn *a, const bf16 *q, int64_t ldq, const bf16 *k,
                       const bf16 *v, int64_t ldkv, const bf16 *p, const bf16 *dout, bf16 *dq,
                       bf16 *dk, bf16 *dv, float *dbias);

/* The kinds' kernels (cu_kind_ops): the four attention blocks
 * (cuda_blocks.cu) and the edge layers (cuda_edges.cu). */
int uniap__cu_block_setup(cu_layer *C);
int uniap__cu_block_fwd(cu_layer *C);
int uniap__cu_block_bwd(cu_layer *C);
int uniap__cu_embedding_fwd(cu_layer *C);
int uniap__cu_embedding_bwd(cu_layer *C);
int uniap__cu_patch_embed_setup(cu_layer *C);
int uniap__cu_patch_embed_fwd(cu_layer *C);
int uniap__cu_patch_embed_bwd(cu_layer *C);
int uniap__cu_patch_merge_setup(cu_layer *C);
int uniap__cu_patch_merge_fwd(cu_layer *C);
int uniap__cu_patch_merge_bwd(cu_layer *C);
int uniap__cu_head_fwd(cu_layer *C);
int uniap__cu_head_bwd(cu_layer *C);

#endif
