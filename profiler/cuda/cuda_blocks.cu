/*
 * cuda_blocks.cu - the transformer blocks on the GPU (encoder, decoder,
 * cross_decoder, swin), forward and backward at the tensor-parallel
 * shard, step for step as the CPU blocks (cpu_block.c) compute them:
 * pre-norm attention (grouped-query, causal, rotary, windows with the
 * relative position bias) + MLP (GELU, ReLU or SwiGLU), residuals.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_layer_impl.h"

enum { K_N1, K_QKV, K_P, K_AO, K_X1, K_NC, K_QC, K_KVC, K_PC, K_AOC, K_X2, K_N2, K_A, K_G };
enum { S_M1, S_R1, S_MC, S_RC, S_M2, S_R2 };

typedef struct blk {
    int rms, causal, cross, rotary, act;
    int64_t T, h, qw, kvw, C, f, w2, Te;
} blk;

static blk shape(const cu_layer *C)
{
    const prof_cpu_layer *L = C->cpu;
    const prof_shard *s = &L->sh;
    blk b;
    b.rms = L->spec.norm == UNIAP_NORM_RMSNORM;
    b.causal = L->desc->causal;
    b.cross = L->desc->cross;
    b.rotary = L->spec.position == UNIAP_POS_ROTARY;
    b.act = L->spec.activation == UNIAP_ACT_SWIGLU ? 1
            : L->spec.activation == UNIAP_ACT_RELU ? 2
                                                   : 0;
    b.T = s->tokens, b.h = s->hidden, b.qw = (int64_t)s->heads * s->hd;
    b.kvw = (int64_t)s->kv_heads * s->hd, b.C = b.qw + 2 * b.kvw, b.f = s->ffn;
    b.w2 = 0;
    if (L->desc->windowed) {
        int64_t side = (int64_t)llround(sqrt((double)s->seq));
        int64_t win = L->spec.window > 0 ? L->spec.window : 7;
        b.w2 = (win > side ? side : win) * (win > side ? side : win);
    }
    b.Te = s->batch * s->kv_seq;
    return b;
}

int uniap__cu_block_setup(cu_layer *C)
{
    const prof_cpu_layer *L = C->cpu;
    const prof_shard *s = &L->sh;
    if (!L->desc->windowed)
        return 0;
    /* window partition order and the dense relative position bias */
    int64_t side = (int64_t)llround(sqrt((double)s->seq));
    int64_t win = L->spec.window > 0 ? L->spec.window : 7;
    win = win > side ? side : win;
    int64_t w2 = win * win, nw = side / win, k = 0;
    int64_t *perm = (int64_t *)malloc(sizeof(int64_t) * (size_t)s->tokens);
    if (!perm)
        return uniap_err(UNIAP_ENOMEM, "profiler: CUDA swin window table");
    for (int64_t bb = 0; bb < s->batch; bb++)
        for (int64_t wr = 0; wr < nw; wr++)
            for (int64_t wc = 0; wc < nw; wc++)
                for (int64_t i = 0; i < win; i++)
                    for (int64_t j = 0; j < win; j++)
                        perm[k++] = bb * s->seq + (wr * win + i) * side + wc * win + j;
    cudaError_t e = cudaMalloc((void **)&C->perm, sizeof(int64_t) * (size_t)s->tokens);
    if (e == cudaSuccess)
        e = cudaMemcpy(C->perm, perm, sizeof(int64_t) * (size_t)s->tokens, cudaMemcpyHostToDevice);
    free(perm);
    PROF_CUDA_CHECK(e);
    int rb = uniap__cu_param(C, "attn.relb");
    if (rb < 0)
        return 0;
    int64_t n = (int64_t)s->heads * w2 * w2;
    float *dense = (float *)malloc(sizeof(float) * (size_t)n);
    if (!dense)
        return uniap_err(UNIAP_ENOMEM, "profiler: CUDA swin bias");
    for (int hh = 0; hh < s->heads; hh++)
        for (int64_t a = 0; a < w2; a++)
            for (int64_t b = 0; b < w2; b++) {
                int64_t dy = a / win - b / win + win - 1, dx = a % win - b % win + win - 1;
                dense[(hh * w2 + a) * w2 + b] =
                    L->params[rb].data[(dy * (2 * win - 1) + dx) * s->heads + hh];
            }
    e = cudaMalloc((void **)&C->relbias, sizeof(float) * (size_t)n);
    if (e == cudaSuccess)
        e = cudaMemcpy(C->relbias, dense, sizeof(float) * (size_t)n, cudaMemcpyHostToDevice);
    if (e == cudaSuccess)
        e = cudaMalloc((void **)&C->drelbias, sizeof(float) * (size_t)n);
    free(dense);
    PROF_CUDA_CHECK(e);
    return 0;
}

static int norm_f(cu_layer *C, const blk *b, const bf16 *x, const char *g, const char *bias,
                  bf16 **y, float **m, float **r)
{
    ALLOC(C, *y, b->T * b->h, bf16);
    ALLOC(C, *m, b->T, float);
    ALLOC(C, *r, b->T, float);
    int bi = uniap__cu_param(C, bias);
    uniap__cu_norm_fwd(b->rms, x, C->w[uniap__cu_param(C, g)], bi >= 0 ? C->w[bi] : NULL, *y, *m,
                       *r, b->T, b->h, C->st);
    return 0;
}

int uniap__cu_block_fwd(cu_layer *C)
{
    const prof_shard *s = &C->cpu->sh;
    blk b = shape(C);
    bf16 **K = C->keep;
    float **S = C->stat;
    bf16 *tmp = NULL;
    TRY(norm_f(C, &b, C->x[0], "ln1.g", "ln1.b", &K[K_N1], &S[S_M1], &S[S_R1]));
    ALLOC(C, K[K_QKV], b.T * b.C, bf16);
    TRY(uniap__cu_lin_fwd(C, K[K_N1], b.T, b.h, uniap__cu_param(C, "attn.wqkv"),
                          uniap__cu_param(C, "attn.bqkv"), b.C, 0.0f, K[K_QKV]));
    if (b.rotary)
        uniap__cu_rotary(K[K_QKV], b.C, b.T, s->seq, s->heads + s->kv_heads, s->hd, 0, C->st);
    ALLOC(C, K[K_AO], b.T * b.qw, bf16);
    if (b.w2) {
        cu_attn a = {b.T / b.w2, b.w2, b.w2, s->heads, s->kv_heads, s->hd, 0};
        ALLOC(C, K[K_P], b.T * b.w2 * s->heads, bf16);
        ALLOC(C, tmp, b.T * (b.C > b.qw ? b.C : b.qw), bf16);
        uniap__cu_permute_rows(K[K_QKV], tmp, C->perm, b.T, b.C, 1, C->st);
        PROF_CUDA_CHECK(cudaMemcpyAsync(K[K_QKV], tmp, (size_t)(b.T * b.C) * sizeof(bf16),
                                        cudaMemcpyDeviceToDevice, C->st));
        TRY(uniap__cu_attn_fwd(C, &a, K[K_QKV], b.C, K[K_QKV] + b.qw, K[K_QKV] + b.qw + b.kvw, b.C,
                               C->relbias, K[K_P], tmp));
        uniap__cu_permute_rows(tmp, K[K_AO], C->perm, b.T, b.qw, 0, C->st);
        RELEASE(C, tmp);
    } else {
        cu_attn a = {s->batch, s->seq, s->seq, s->heads, s->kv_heads, s->hd, b.causal};
        ALLOC(C, K[K_P], b.T * s->seq * s->heads, bf16);
        TRY(uniap__cu_attn_fwd(C, &a, K[K_QKV], b.C, K[K_QKV] + b.qw, K[K_QKV] + b.qw + b.kvw, b.C,
                               NULL, K[K_P], K[K_AO]));
    }
    ALLOC(C, K[K_X1], b.T * b.h, bf16);
    PROF_CUDA_CHECK(cudaMemcpyAsync(K[K_X1], C->x[0], (size_t)(b.T * b.h) * sizeof(bf16),
                                    cudaMemcpyDeviceToDevice, C->st));
    TRY(uniap__cu_lin_fwd(C, K[K_AO], b.T, b.qw, uniap__cu_param(C, "attn.wo"),
                          uniap__cu_param(C, "attn.bo"), b.h, 1.0f, K[K_X1]));
    bf16 *xm = K[K_X1];
    if (b.cross) {
        cu_attn a = {s->batch, s->seq, s->kv_seq, s->heads, s->kv_heads, s->hd, 0};
        TRY(norm_f(C, &b, K[K_X1], "xattn.ln.g", "xattn.ln.b", &K[K_NC], &S[S_MC], &S[S_RC]));
        ALLOC(C, K[K_QC], b.T * b.qw, bf16);
        ALLOC(C, K[K_KVC], b.Te * 2 * b.kvw, bf16);
        ALLOC(C, K[K_PC], b.T * s->kv_seq * s->heads, bf16);
        ALLOC(C, K[K_AOC], b.T * b.qw, bf16);
        ALLOC(C, K[K_X2], b.T * b.h, bf16);
        TRY(uniap__cu_lin_fwd(C, K[K_NC], b.T, b.h, uniap__cu_param(C, "xattn.wq"),
                              uniap__cu_param(C, "xattn.bq"), b.qw, 0.0f, K[K_QC]));
        TRY(uniap__cu_lin_fwd(C, C->x[1], b.Te, b.h, uniap__cu_param(C, "xattn.wkv"),
                              uniap__cu_param(C, "xattn.bkv"), 2 * b.kvw, 0.0f, K[K_KVC]));
        TRY(uniap__cu_attn_fwd(C, &a, K[K_QC], b.qw, K[K_KVC], K[K_KVC] + b.kvw, 2 * b.kvw, NULL,
                               K[K_PC], K[K_AOC]));
        PROF_CUDA_CHECK(cudaMemcpyAsync(K[K_X2], K[K_X1], (size_t)(b.T * b.h) * sizeof(bf16),
                                        cudaMemcpyDeviceToDevice, C->st));
        TRY(uniap__cu_lin_fwd(C, K[K_AOC], b.T, b.qw, uniap__cu_param(C, "xattn.wo"),
                              uniap__cu_param(C, "xattn.bo"), b.h, 1.0f, K[K_X2]));
        xm = K[K_X2];
    }
    TRY(norm_f(C, &b, xm, "ln2.g", "ln2.b", &K[K_N2], &S[S_M2], &S[S_R2]));
    int64_t wa = b.act == 1 ? 2 * b.f : b.f;
    ALLOC(C, K[K_A], b.T * wa, bf16);
    ALLOC(C, K[K_G], b.T * b.f, bf16);
    ALLOC(C, C->out, b.T * b.h, bf16);
    TRY(uniap__cu_lin_fwd(C, K[K_N2], b.T, b.h, uniap__cu_param(C, "mlp.w1"),
                          uniap__cu_param(C, "mlp.b1"), wa, 0.0f, K[K_A]));
    uniap__cu_act_fwd(b.act, K[K_A], K[K_G], b.T, b.f, C->st);
    PROF_CUDA_CHECK(cudaMemcpyAsync(C->out, xm, (size_t)(b.T * b.h) * sizeof(bf16),
                                    cudaMemcpyDeviceToDevice, C->st));
    return uniap__cu_lin_fwd(C, K[K_G], b.T, b.f, uniap__cu_param(C, "mlp.w2"),
                             uniap__cu_param(C, "mlp.b2"), b.h, 1.0f, C->out);
}

static void norm_b(cu_layer *C, const blk *b, const bf16 *x, const bf16 *dy, const char *g,
                   const char *bias, float *m, float *r, bf16 *dx)
{
    int gi = uniap__cu_param(C, g), bi = uniap__cu_param(C, bias);
    uniap__cu_norm_bwd(b->rms, x, dy, C->w[gi], m, r, dx, C->g[gi], bi >= 0 ? C->g[bi] : NULL, b->T,
                       b->h, C->st);
}

int uniap__cu_block_bwd(cu_layer *C)
{
    const prof_shard *s = &C->cpu->sh;
    blk b = shape(C);
    bf16 **K = C->keep;
    float **S = C->stat;
    bf16 *dxm, *dn, *dao, *dq, *dkv, *tmp;
    int64_t wa = b.act == 1 ? 2 * b.f : b.f;
    size_t row_bytes = (size_t)(b.T * b.h) * sizeof(bf16);
    /* MLP: dxm = dy + norm2'(mlp'(dy)) */
    ALLOC(C, dxm, b.T * b.h, bf16);
    ALLOC(C, dn, b.T * b.h, bf16);
    ALLOC(C, dq, b.T * b.f, bf16); /* dg */
    ALLOC(C, dao, b.T * wa, bf16); /* da */
    TRY(uniap__cu_lin_bwd(C, K[K_G], C->dout, b.T, b.f, b.h, uniap__cu_param(C, "mlp.w2"),
                          uniap__cu_param(C, "mlp.b2"), 0.0f, dq));
    uniap__cu_act_bwd(b.act, K[K_A], dq, dao, b.T, b.f, C->st);
    TRY(uniap__cu_lin_bwd(C, K[K_N2], dao, b.T, b.h, wa, uniap__cu_param(C, "mlp.w1"),
                          uniap__cu_param(C, "mlp.b1"), 0.0f, dn));
    RELEASE(C, dq);
    RELEASE(C, dao);
    RELEASE(C, K[K_A]);
    RELEASE(C, K[K_G]);
    RELEASE(C, K[K_N2]);
    RELEASE(C, C->out);
    PROF_CUDA_CHECK(cudaMemcpyAsync(dxm, C->dout, row_bytes, cudaMemcpyDeviceToDevice, C->st));
    norm_b(C, &b, b.cross ? K[K_X2] : K[K_X1], dn, "ln2.g", "ln2.b", S[S_M2], S[S_R2], dxm);
    RELEASE(C, S[S_M2]);
    RELEASE(C, S[S_R2]);
    if (b.cross) {
        cu_attn a = {s->batch, s->seq, s->kv_seq, s->heads, s->kv_heads, s->hd, 0};
        RELEASE(C, K[K_X2]);
        ALLOC(C, dao, b.T * b.qw, bf16);
        ALLOC(C, dq, b.T * b.qw, bf16);
        ALLOC(C, dkv, b.Te * 2 * b.kvw, bf16);
        PROF_CUDA_CHECK(cudaMemsetAsync(dkv, 0, (size_t)(b.Te * 2 * b.kvw) * sizeof(bf16), C->st));
        TRY(uniap__cu_lin_bwd(C, K[K_AOC], dxm, b.T, b.qw, b.h, uniap__cu_param(C, "xattn.wo"),
                              uniap__cu_param(C, "xattn.bo"), 0.0f, dao));
        TRY(uniap__cu_attn_bwd(C, &a, K[K_QC], b.qw, K[K_KVC], K[K_KVC] + b.kvw, 2 * b.kvw, K[K_PC],
                               dao, dq, dkv, dkv + b.kvw, NULL));
        PROF_CUDA_CHECK(cudaMemsetAsync(dn, 0, row_bytes, C->st));
        TRY(uniap__cu_lin_bwd(C, K[K_NC], dq, b.T, b.h, b.qw, uniap__cu_param(C, "xattn.wq"),
                              uniap__cu_param(C, "xattn.bq"), 0.0f, dn));
        TRY(uniap__cu_lin_bwd(C, C->x[1], dkv, b.Te, b.h, 2 * b.kvw,
                              uniap__cu_param(C, "xattn.wkv"), uniap__cu_param(C, "xattn.bkv"),
                              0.0f, C->dx[1]));
        norm_b(C, &b, K[K_X1], dn, "xattn.ln.g", "xattn.ln.b", S[S_MC], S[S_RC], dxm);
        RELEASE(C, dao);
        RELEASE(C, dq);
        RELEASE(C, dkv);
        RELEASE(C, K[K_AOC]);
        RELEASE(C, K[K_PC]);
        RELEASE(C, K[K_QC]);
        RELEASE(C, K[K_KVC]);
        RELEASE(C, K[K_NC]);
        RELEASE(C, S[S_MC]);
        RELEASE(C, S[S_RC]);
    }
    RELEASE(C, K[K_X1]);
    /* self attention */
    ALLOC(C, dao, b.T * b.qw, bf16);
    ALLOC(C, dq, b.T * b.C, bf16); /* dqkv */
    PROF_CUDA_CHECK(cudaMemsetAsync(dq, 0, (size_t)(b.T * b.C) * sizeof(bf16), C->st));
    TRY(uniap__cu_lin_bwd(C, K[K_AO], dxm, b.T, b.qw, b.h, uniap__cu_param(C, "attn.wo"),
                          uniap__cu_param(C, "attn.bo"), 0.0f, dao));
    if (b.w2) {
        cu_attn a = {b.T / b.w2, b.w2, b.w2, s->heads, s->kv_heads, s->hd, 0};
        ALLOC(C, tmp, b.T * (b.C > b.qw ? b.C : b.qw), bf16);
        if (C->drelbias)
            PROF_CUDA_CHECK(cudaMemsetAsync(
                C->drelbias, 0, sizeof(float) * (size_t)(s->heads * b.w2 * b.w2), C->st));
        uniap__cu_permute_rows(dao, tmp, C->perm, b.T, b.qw, 1, C->st);
        TRY(uniap__cu_attn_bwd(C, &a, K[K_QKV], b.C, K[K_QKV] + b.qw, K[K_QKV] + b.qw + b.kvw, b.C,
                               K[K_P], tmp, dq, dq + b.qw, dq + b.qw + b.kvw, C->drelbias));
        uniap__cu_permute_rows(dq, tmp, C->perm, b.T, b.C, 0, C->st);
        PROF_CUDA_CHECK(cudaMemcpyAsync(dq, tmp, (size_t)(b.T * b.C) * sizeof(bf16),
                                        cudaMemcpyDeviceToDevice, C->st));
        RELEASE(C, tmp);
    } else {
        cu_attn a = {s->batch, s->seq, s->seq, s->heads, s->kv_heads, s->hd, b.causal};
        TRY(uniap__cu_attn_bwd(C, &a, K[K_QKV], b.C, K[K_QKV] + b.qw, K[K_QKV] + b.qw + b.kvw, b.C,
                               K[K_P], dao, dq, dq + b.qw, dq + b.qw + b.kvw, NULL));
    }
    RELEASE(C, K[K_P]);
    RELEASE(C, K[K_AO]);
    RELEASE(C, K[K_QKV]);
    RELEASE(C, dao);
    if (b.rotary)
        uniap__cu_rotary(dq, b.C, b.T, s->seq, s->heads + s->kv_heads, s->hd, 1, C->st);
    TRY(uniap__cu_lin_bwd(C, K[K_N1], dq, b.T, b.h, b.C, uniap__cu_param(C, "attn.wqkv"),
                          uniap__cu_param(C, "attn.bqkv"), 0.0f, dn));
    RELEASE(C, dq);
    RELEASE(C, K[K_N1]);
    PROF_CUDA_CHECK(cudaMemcpyAsync(C->dx[0], dxm, row_bytes, cudaMemcpyDeviceToDevice, C->st));
    norm_b(C, &b, C->x[0], dn, "ln1.g", "ln1.b", S[S_M1], S[S_R1], C->dx[0]);
    RELEASE(C, S[S_M1]);
    RELEASE(C, S[S_R1]);
    RELEASE(C, dn);
    RELEASE(C, dxm);
    return 0;
}
