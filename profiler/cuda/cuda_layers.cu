/*
 * cuda_layers.cu - the CUDA backend's layers: each layer kind the CPU
 * kernels have, built from the CPU layer object of the same shard (its
 * shapes and its initial values, so both backends compute the same
 * function), with cuBLAS GEMMs (bf16 inputs, fp32 accumulation, tensor
 * cores; weight gradients accumulated in fp32) and the project's kernels
 * (cuda_kernels.cu) for the rest. This file: the tracked caching
 * allocator (no cudaMalloc inside timed passes), GEMM helpers, attention,
 * and the timed measurement (CUDA events after warm-up; free memory
 * checked with cudaMemGetInfo first).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_layer_impl.h"
#include "cuda_layers.h"

int uniap__cu_alloc(cu_layer *C, int64_t bytes, void **out)
{
    for (int i = 0; i < C->n_blocks; i++)
        if (!C->blocks[i].used && C->blocks[i].bytes == bytes) {
            C->blocks[i].used = 1;
            *out = C->blocks[i].p;
            goto count;
        }
    if (C->n_blocks == CU_MAX_BLOCKS)
        return uniap_err(UNIAP_ENOMEM, "profiler: CUDA layer: more than %d live blocks",
                         CU_MAX_BLOCKS);
    PROF_CUDA_CHECK(cudaMalloc(out, (size_t)(bytes > 0 ? bytes : 16)));
    C->blocks[C->n_blocks].p = *out;
    C->blocks[C->n_blocks].bytes = bytes;
    C->blocks[C->n_blocks].used = 1;
    C->n_blocks++;
count:
    C->live += bytes;
    if (C->live > C->peak)
        C->peak = C->live;
    return 0;
}

void uniap__cu_release(cu_layer *C, void *p)
{
    if (!p)
        return;
    for (int i = 0; i < C->n_blocks; i++)
        if (C->blocks[i].p == p && C->blocks[i].used) {
            C->blocks[i].used = 0;
            C->live -= C->blocks[i].bytes;
            return;
        }
}

int uniap__cu_gemm(cu_layer *C, int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha,
                   const void *A, cudaDataType at, int64_t lda, const void *B, cudaDataType bt,
                   int64_t ldb, float beta, void *Cm, cudaDataType ct, int64_t ldc)
{
    /* row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T */
    PROF_CUBLAS_CHECK(cublasGemmEx(C->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                                   ta ? CUBLAS_OP_T : CUBLAS_OP_N, (int)n, (int)m, (int)k, &alpha,
                                   B, bt, (int)ldb, A, at, (int)lda, &beta, Cm, ct, (int)ldc,
                                   CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return 0;
}

int uniap__cu_gemm_batched(cu_layer *C, int ta, int tb, int64_t m, int64_t n, int64_t k,
                           float alpha, const void *A, cudaDataType at, int64_t lda, int64_t sa,
                           const void *B, cudaDataType bt, int64_t ldb, int64_t sb, float beta,
                           void *Cm, cudaDataType ct, int64_t ldc, int64_t sc, int64_t batch)
{
    PROF_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
        C->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, (int)n, (int)m,
        (int)k, &alpha, B, bt, (int)ldb, sb, A, at, (int)lda, sa, &beta, Cm, ct, (int)ldc, sc,
        (int)batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return 0;
}

int uniap__cu_lin_fwd(cu_layer *C, const bf16 *x, int64_t T, int64_t in, int wi, int bi,
                      int64_t out, float beta, bf16 *y)
{
    TRY(uniap__cu_gemm(C, 0, 0, T, out, in, 1.0f, x, BF16, in, C->w[wi], BF16, out, beta, y, BF16,
                       out));
    if (bi >= 0)
        uniap__cu_bias_add(y, C->w[bi], T, out, C->st);
    return 0;
}

int uniap__cu_lin_bwd(cu_layer *C, const bf16 *x, const bf16 *dy, int64_t T, int64_t in,
                      int64_t out, int wi, int bi, float beta_dx, bf16 *dx)
{
    if (dx)
        TRY(uniap__cu_gemm(C, 0, 1, T, in, out, 1.0f, dy, BF16, out, C->w[wi], BF16, out, beta_dx,
                           dx, BF16, in));
    if (C->time_w && C->n_wev + 2 > 2 * CU_MAX_WGRAD)
        return uniap_err(UNIAP_EINVAL,
                         "cuda: a backward with more than %d weight-gradient GEMMs "
                         "to time (raise CU_MAX_WGRAD)",
                         CU_MAX_WGRAD);
    if (C->time_w) /* W: the weight and bias gradients */
        PROF_CUDA_CHECK(cudaEventRecord(C->wev[C->n_wev], C->st));
    TRY(uniap__cu_gemm(C, 1, 0, in, out, T, 1.0f, x, BF16, in, dy, BF16, out, 1.0f, C->g[wi], F32,
                       out));
    if (bi >= 0)
        uniap__cu_bias_grad(dy, C->g[bi], T, out, C->st);
    if (C->time_w) {
        PROF_CUDA_CHECK(cudaEventRecord(C->wev[C->n_wev + 1], C->st));
        C->n_wev += 2;
    }
    return 0;
}

int uniap__cu_param(const cu_layer *C, const char *name)
{
    for (int i = 0; i < C->cpu->n_params; i++)
        if (strcmp(C->cpu->params[i].name, name) == 0)
            return i;
    return -1;
}

int uniap__cu_attn_fwd(cu_layer *C, const cu_attn *a, const bf16 *q, int64_t ldq, const bf16 *k,
                       const bf16 *v, int64_t ldkv, const float *bias, bf16 *p, bf16 *o)
{
    int group = a->heads / a->kv_heads;
    int64_t ss = a->sq * a->skv, ldo = (int64_t)a->heads * a->hd;
    float *scores;
    ALLOC(C, scores, a->batch * a->heads * ss, float);
    for (int h = 0; h < a->heads; h++) {
        int g = h / group;
        TRY(uniap__cu_gemm_batched(C, 0, 1, a->sq, a->skv, a->hd, 1.0f, q + h * a->hd, BF16, ldq,
                                   a->sq * ldq, k + g * a->hd, BF16, ldkv, a->skv * ldkv, 0.0f,
                                   scores + h * ss, F32, a->skv, a->heads * ss, a->batch));
    }
    uniap__cu_softmax_fwd(scores, p, bias, a->batch, a->heads, a->sq, a->skv, a->causal,
                          1.0f / sqrtf((float)a->hd), C->st);
    uniap__cu_release(C, scores);
    for (int h = 0; h < a->heads; h++) {
        int g = h / group;
        TRY(uniap__cu_gemm_batched(C, 0, 0, a->sq, a->hd, a->skv, 1.0f, p + h * ss, BF16, a->skv,
                                   a->heads * ss, v + g * a->hd, BF16, ldkv, a->skv * ldkv, 0.0f,
                                   o + h * a->hd, BF16, ldo, a->sq * ldo, a->batch));
    }
    return 0;
}

int uniap__cu_attn_bwd(cu_layer *C, const cu_attn *a, const bf16 *q, int64_t ldq, const bf16 *k,
                       const bf16 *v, int64_t ldkv, const bf16 *p, const bf16 *dout, bf16 *dq,
                       bf16 *dk, bf16 *dv, float *dbias)
{
    int group = a->heads / a->kv_heads;
    int64_t ss = a->sq * a->skv, ldo = (int64_t)a->heads * a->hd;
    float *dp;
    bf16 *ds;
    ALLOC(C, dp, a->batch * a->heads * ss, float);
    ALLOC(C, ds, a->batch * a->heads * ss, bf16);
    for (int h = 0; h < a->heads; h++) {
        int g = h / group;
        /* dP = dO V^T; dV += P^T dO */
        TRY(uniap__cu_gemm_batched(C, 0, 1, a->sq, a->skv, a->hd, 1.0f, dout + h * a->hd, BF16, ldo,
                                   a->sq * ldo, v + g * a->hd, BF16, ldkv, a->skv * ldkv, 0.0f,
                                   dp + h * ss, F32, a->skv, a->heads * ss, a->batch));
        TRY(uniap__cu_gemm_batched(C, 1, 0, a->skv, a->hd, a->sq, 1.0f, p + h * ss, BF16, a->skv,
                                   a->heads * ss, dout + h * a->hd, BF16, ldo, a->sq * ldo, 1.0f,
                                   dv + g * a->hd, BF16, ldkv, a->skv * ldkv, a->batch));
    }
    uniap__cu_softmax_bwd(p, dp, ds, dbias, a->batch, a->heads, a->sq, a->skv,
                          1.0f / sqrtf((float)a->hd), C->st);
    uniap__cu_release(C, dp);
    for (int h = 0; h < a->heads; h++) {
        int g = h / group;
        /* dQ = dS K; dK += dS^T Q */
        TRY(uniap__cu_gemm_batched(C, 0, 0, a->sq, a->hd, a->skv, 1.0f, ds + h * ss, BF16, a->skv,
                                   a->heads * ss, k + g * a->hd, BF16, ldkv, a->skv * ldkv, 0.0f,
                                   dq + h * a->hd, BF16, ldq, a->sq * ldq, a->batch));
        TRY(uniap__cu_gemm_batched(C, 1, 0, a->skv, a->hd, a->sq, 1.0f, ds + h * ss, BF16, a->skv,
                                   a->heads * ss, q + h * a->hd, BF16, ldq, a->sq * ldq, 1.0f,
                                   dk + g * a->hd, BF16, ldkv, a->skv * ldkv, a->batch));
    }
    uniap__cu_release(C, ds);
    return 0;
}

static int upload_bf16(cu_layer *C, const float *host, int64_t n, bf16 **dev)
{
    float *tmp;
    PROF_CUDA_CHECK(cudaMalloc((void **)&tmp, (size_t)(n > 0 ? n : 1) * sizeof(float)));
    PROF_CUDA_CHECK(cudaMemcpy(tmp, host, (size_t)n * sizeof(float), cudaMemcpyHostToDevice));
    PROF_CUDA_CHECK(cudaMalloc((void **)dev, (size_t)(n > 0 ? n : 1) * sizeof(bf16)));
    uniap__cu_f32_to_bf16(tmp, *dev, n, C->st);
    PROF_CUDA_CHECK(cudaStreamSynchronize(C->st));
    PROF_CUDA_CHECK(cudaFree(tmp));
    return 0;
}

/* The kinds' CUDA kernels: kind, then setup (or NULL), forward, backward.
 * A new kind: its kernels (a cuda_<kind>.cu or beside similar ones) and
 * one line here. */
static const cu_kind_ops cu_block = {uniap__cu_block_setup, uniap__cu_block_fwd,
                                     uniap__cu_block_bwd};
static const cu_kind_ops cu_embedding = {NULL, uniap__cu_embedding_fwd, uniap__cu_embedding_bwd};
static const cu_kind_ops cu_patch_embed = {uniap__cu_patch_embed_setup, uniap__cu_patch_embed_fwd,
                                           uniap__cu_patch_embed_bwd};
static const cu_kind_ops cu_patch_merge = {uniap__cu_patch_merge_setup, uniap__cu_patch_merge_fwd,
                                           uniap__cu_patch_merge_bwd};
static const cu_kind_ops cu_head = {NULL, uniap__cu_head_fwd, uniap__cu_head_bwd};
static const struct {
    uniap_layer_kind kind;
    const cu_kind_ops *ops;
} cu_kinds[] = {
    {UNIAP_LAYER_EMBEDDING, &cu_embedding},     {UNIAP_LAYER_PATCH_EMBED, &cu_patch_embed},
    {UNIAP_LAYER_ENCODER, &cu_block},           {UNIAP_LAYER_DECODER, &cu_block},
    {UNIAP_LAYER_CROSS_DECODER, &cu_block},     {UNIAP_LAYER_SWIN, &cu_block},
    {UNIAP_LAYER_PATCH_MERGE, &cu_patch_merge}, {UNIAP_LAYER_HEAD, &cu_head},
};

/* The CUDA kernels of kind k, or NULL when it has none. */
static const cu_kind_ops *cu_kind_of(uniap_layer_kind k)
{
    for (size_t i = 0; i < sizeof(cu_kinds) / sizeof(cu_kinds[0]); i++)
        if (cu_kinds[i].kind == k)
            return cu_kinds[i].ops;
    return NULL;
}

extern "C" int prof_cuda_layer_kind_supported(uniap_layer_kind k)
{
    return cu_kind_of(k) != NULL;
}

extern "C" int prof_cuda_layer_create(prof_cpu_layer *cpu, prof_cuda_layer **out)
{
    int rc;
    size_t free_b = 0, total_b = 0;
    cu_layer *C = (cu_layer *)calloc(1, sizeof(cu_layer));
    *out = NULL;
    if (!C)
        return uniap_err(UNIAP_ENOMEM, "profiler: CUDA layer state");
    C->cpu = cpu;
    C->ops = cu_kind_of(cpu->spec.kind);
    if (!C->ops) {
        free(C);
        return uniap_err(UNIAP_EINVAL, "profiler: layer kind %d (%s) has no CUDA kernel",
                         (int)cpu->spec.kind, uniap_layer_kind_name(cpu->spec.kind));
    }
    /* parameters (bf16) + fp32 gradients, inputs: must fit beside the
     * activations; refuse early when the device cannot hold even those */
    int64_t need = 6 * cpu->param_count;
    for (int i = 0; i < cpu->n_inputs; i++)
        need += 4 * cpu->inputs[i].n;
    PROF_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    if ((size_t)need > free_b) {
        free(C);
        return uniap_err(UNIAP_ENOMEM, "profiler: CUDA layer needs %lld bytes, %zu free of %zu",
                         (long long)need, free_b, total_b);
    }
    PROF_CUDA_CHECK(cudaStreamCreate(&C->st));
    PROF_CUBLAS_CHECK(cublasCreate(&C->blas));
    PROF_CUBLAS_CHECK(cublasSetStream(C->blas, C->st));
    for (int i = 0; i < cpu->n_params; i++) {
        if ((rc = upload_bf16(C, cpu->params[i].data, cpu->params[i].n, &C->w[i])) < 0)
            goto fail;
        PROF_CUDA_CHECK(
            cudaMalloc((void **)&C->g[i], (size_t)cpu->params[i].n * sizeof(float) + 4));
    }
    for (int i = 0; i < cpu->n_inputs; i++) {
        if ((rc = upload_bf16(C, cpu->inputs[i].data, cpu->inputs[i].n, &C->x[i])) < 0)
            goto fail;
        PROF_CUDA_CHECK(
            cudaMalloc((void **)&C->dx[i], (size_t)cpu->inputs[i].n * sizeof(bf16) + 4));
    }
    if (cpu->ids) { /* the embedding's token ids, the head's labels: one per token */
        int64_t n = cpu->sh.tokens;
        PROF_CUDA_CHECK(cudaMalloc((void **)&C->ids, (size_t)n * sizeof(int32_t) + 4));
        PROF_CUDA_CHECK(
            cudaMemcpy(C->ids, cpu->ids, (size_t)n * sizeof(int32_t), cudaMemcpyHostToDevice));
    }
    if (cpu->desc->loss) {
        PROF_CUDA_CHECK(cudaMalloc((void **)&C->loss, sizeof(float)));
        C->dout = NULL; /* the head's dloss is the scalar cpu->dout[0] */
    } else if ((rc = upload_bf16(C, cpu->dout, cpu->n_out, &C->dout)) < 0) {
        goto fail;
    }
    if (C->ops->setup && (rc = C->ops->setup(C)) < 0)
        goto fail;
    *out = C;
    return 0;
fail:
    prof_cuda_layer_destroy(C);
    return rc;
}

extern "C" void prof_cuda_layer_destroy(prof_cuda_layer *C)
{
    if (!C)
        return;
    for (int i = 0; i < PROF_MAX_PARAMS; i++) {
        cudaFree(C->w[i]);
        cudaFree(C->g[i]);
    }
    for (int i = 0; i < 2; i++) {
        cudaFree(C->x[i]);
        cudaFree(C->dx[i]);
    }
    cudaFree(C->ids);
    cudaFree(C->perm);
    cudaFree(C->perm2);
    cudaFree(C->relbias);
    cudaFree(C->drelbias);
    cudaFree(C->dout);
    cudaFree(C->loss);
    for (int i = 0; i < C->n_blocks; i++)
        cudaFree(C->blocks[i].p);
    for (int i = 0; i < 2 * CU_MAX_WGRAD; i++)
        if (C->wev[i])
            cudaEventDestroy(C->wev[i]);
    if (C->blas)
        cublasDestroy(C->blas);
    if (C->st)
        cudaStreamDestroy(C->st);
    free(C);
}

static int zero_grads(cu_layer *C)
{
    for (int i = 0; i < C->cpu->n_params; i++)
        PROF_CUDA_CHECK(
            cudaMemsetAsync(C->g[i], 0, (size_t)C->cpu->params[i].n * sizeof(float), C->st));
    return 0;
}

static int fwd(cu_layer *C)
{
    return C->ops->fwd(C);
}

static int bwd(cu_layer *C)
{
    return C->ops->bwd(C);
}

extern "C" int prof_cuda_layer_run(prof_cuda_layer *C, float *out, float *dx)
{
    prof_cpu_layer *L = C->cpu;
    float *tmp;
    int64_t n = L->n_out > (L->n_inputs ? L->inputs[0].n : 0) ? L->n_out : L->inputs[0].n;
    TRY(zero_grads(C));
    TRY(fwd(C));
    PROF_CUDA_CHECK(cudaMalloc((void **)&tmp, (size_t)n * sizeof(float) + 4));
    if (L->desc->loss)
        PROF_CUDA_CHECK(
            cudaMemcpyAsync(tmp, C->loss, sizeof(float), cudaMemcpyDeviceToDevice, C->st));
    else
        uniap__cu_bf16_to_f32(C->out, tmp, L->n_out, C->st);
    PROF_CUDA_CHECK(cudaStreamSynchronize(C->st));
    PROF_CUDA_CHECK(cudaMemcpy(out, tmp, (size_t)L->n_out * sizeof(float), cudaMemcpyDeviceToHost));
    TRY(bwd(C));
    if (dx && L->n_inputs && !L->desc->no_dx) {
        uniap__cu_bf16_to_f32(C->dx[0], tmp, L->inputs[0].n, C->st);
        PROF_CUDA_CHECK(cudaStreamSynchronize(C->st));
        PROF_CUDA_CHECK(
            cudaMemcpy(dx, tmp, (size_t)L->inputs[0].n * sizeof(float), cudaMemcpyDeviceToHost));
    }
    PROF_CUDA_CHECK(cudaFree(tmp));
    return 0;
}

/* The seconds between the event pairs of C's last backward (its W). */
static int wgrad_seconds(cu_layer *C, double *out)
{
    double ms = 0.0;
    for (int i = 0; i + 1 < C->n_wev; i += 2) {
        float m = 0.0f;
        PROF_CUDA_CHECK(cudaEventElapsedTime(&m, C->wev[i], C->wev[i + 1]));
        ms += m;
    }
    *out = 1e-3 * ms;
    return 0;
}

extern "C" int prof_cuda_layer_measure(const uniap_layer *l, int64_t seq, int tp, int micro_batch,
                                       uint64_t seed, int warmup, int iters, double *fwd_s,
                                       double *bwd_s, double *wgrad_s, prof_layer_memory *mem)
{
    prof_cpu_layer *L = NULL;
    cu_layer *C = NULL;
    cudaEvent_t ev[3] = {0, 0, 0};
    int rc = prof_cpu_layer_create(l, seq, tp, micro_batch, seed, &L);
    if (rc < 0)
        return rc;
    if ((rc = prof_cuda_layer_create(L, &C)) < 0)
        goto free_cpu;
    for (int i = 0; i < 3; i++)
        PROF_CUDA_CHECK_GOTO(cudaEventCreate(&ev[i]), rc, free_all);
    for (int i = 0; wgrad_s && i < 2 * CU_MAX_WGRAD; i++)
        PROF_CUDA_CHECK_GOTO(cudaEventCreate(&C->wev[i]), rc, free_all);
    C->time_w = wgrad_s != NULL;
    for (int it = -warmup; it < iters; it++) {
        int64_t base = C->live;
        float ms_f = 0.0f, ms_b = 0.0f;
        if ((rc = zero_grads(C)) < 0)
            goto free_all;
        C->peak = C->live;
        PROF_CUDA_CHECK_GOTO(cudaEventRecord(ev[0], C->st), rc, free_all);
        if ((rc = fwd(C)) < 0)
            goto free_all;
        PROF_CUDA_CHECK_GOTO(cudaEventRecord(ev[1], C->st), rc, free_all);
        int64_t kept = C->live - base - (L->desc->loss ? 0 : 2 * L->n_out);
        C->n_wev = 0;
        if ((rc = bwd(C)) < 0)
            goto free_all;
        PROF_CUDA_CHECK_GOTO(cudaEventRecord(ev[2], C->st), rc, free_all);
        PROF_CUDA_CHECK_GOTO(cudaEventSynchronize(ev[2]), rc, free_all);
        PROF_CUDA_CHECK_GOTO(cudaEventElapsedTime(&ms_f, ev[0], ev[1]), rc, free_all);
        PROF_CUDA_CHECK_GOTO(cudaEventElapsedTime(&ms_b, ev[1], ev[2]), rc, free_all);
        if (it >= 0) {
            fwd_s[it] = 1e-3 * ms_f;
            bwd_s[it] = 1e-3 * ms_b;
            /* inside the backward's events, so at most the backward */
            if (wgrad_s && (rc = wgrad_seconds(C, &wgrad_s[it])) < 0)
                goto free_all;
            if (wgrad_s)
                wgrad_s[it] = fmin(wgrad_s[it], bwd_s[it]);
        }
        /* the input is kept by reference (bf16) where backward reads it */
        mem->act_bytes = kept + (L->desc->keep == PROF_KEEP_INPUT ? 2 * L->inputs[0].n : 0);
        mem->peak_bytes = C->peak - base - kept;
    }
    mem->param_count = L->param_count;
free_all:
    for (int i = 0; i < 3; i++)
        if (ev[i])
            cudaEventDestroy(ev[i]);
    prof_cuda_layer_destroy(C);
free_cpu:
    prof_cpu_layer_destroy(L);
    return rc;
}
