/*
 * cpu_kernels.h - the CPU backend's layer kernels (private to profiler/):
 * a tracked allocator for activation accounting, the fp32 primitives
 * (linear through cblas_sgemm, norms, activations, attention, rotary,
 * softmax cross-entropy) and the layer object that composes them into the
 * forward and backward of each uniap_layer_kind at a tensor-parallel shard
 * and micro-batch size.
 *
 * Layout conventions: activations are row-major [tokens, width]; a linear
 * layer's weight is [in, out] so y = x W (+ b); attention heads of a token
 * row are contiguous blocks of head_dim columns. Every gradient buffer of
 * a parameter is accumulated into (+=); the caller zeroes them.
 */
#ifndef UNIAP_CPU_KERNELS_H
#define UNIAP_CPU_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "uniap_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Tracked allocator                                                   */
/* ------------------------------------------------------------------ */

/* Bytes of activations and workspaces currently allocated, and the most
 * ever allocated at once since the last prof_mem_reset_peak(). */
typedef struct prof_mem {
    int64_t live;
    int64_t peak;
} prof_mem;

/* 64-byte aligned block of `bytes` (zeroed when zero != 0), counted in m;
 * NULL when out of memory. */
void *prof_alloc(prof_mem *m, int64_t bytes, int zero);
/* Releases a block from prof_alloc (NULL is ignored); the memory is kept
 * for the next request of the same size. */
void prof_free(prof_mem *m, void *p);
/* Returns the kept memory to the system (between layers). */
void prof_alloc_cache_clear(void);
static inline void prof_mem_reset_peak(prof_mem *m)
{
    m->peak = m->live;
}

/* Deterministic generator (xorshift64*), uniform in [-scale, scale). */
typedef struct prof_rng {
    uint64_t s;
} prof_rng;
void prof_rng_seed(prof_rng *r, uint64_t seed);
float prof_rng_uniform(prof_rng *r, float scale);
void prof_rng_fill(prof_rng *r, float *x, int64_t n, float scale);

/* ------------------------------------------------------------------ */
/* Primitives                                                          */
/* ------------------------------------------------------------------ */

/* Every GEMM of the kernels goes through here: cblas_sgemm (row major),
 * and a record of its shape while a trace is on (benchmarks replay the
 * trace to compare a layer with bare sgemm on the same shapes). */
void prof_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc);
typedef struct prof_gemm_call {
    int ta, tb, m, n, k;
} prof_gemm_call;
/* Starts recording into buf (cap entries; *n counts every call, also past
 * cap); buf NULL stops. */
void prof_gemm_trace(prof_gemm_call *buf, int cap, int *n);

/* The weight-gradient clock (zero-bubble schedules' W, Qi et al. 2024):
 * prof_linear_bwd adds the seconds and FLOPs of its dw GEMM and db sum,
 * the weight-gradient work of every Linear; the measure loop reads it
 * around each backward. Process-wide, like the trace (one thread a rank). */
typedef struct prof_wgrad_clock {
    double seconds, flops; /* flops: 2 T in out per dw GEMM */
} prof_wgrad_clock;
void prof_wgrad_clock_reset(void);
prof_wgrad_clock prof_wgrad_clock_read(void);

/* y[T, out] = beta * y + x[T, in] w[in, out] + b (b may be NULL). */
void prof_linear_fwd(const float *x, int64_t T, int64_t in, const float *w, const float *b,
                     int64_t out, float beta, float *y);
/* dx = beta_dx * dx + dy w^T (dx may be NULL); dw += x^T dy; db += colsum(dy)
 * (db may be NULL). */
void prof_linear_bwd(const float *x, const float *dy, int64_t T, int64_t in, int64_t out,
                     const float *w, float beta_dx, float *dx, float *dw, float *db);

/* LayerNorm (g, b) or RMSNorm (g only) over rows of width h; saves the row
 * mean (LayerNorm) and reciprocal std in mean[T], rstd[T]. */
void prof_norm_fwd(uniap_norm kind, const float *x, int64_t T, int64_t h, const float *g,
                   const float *b, float *y, float *mean, float *rstd);
/* dx += d/dx; dg += ; db += (b may be NULL for RMSNorm). */
void prof_norm_bwd(uniap_norm kind, const float *x, const float *dy, int64_t T, int64_t h,
                   const float *g, const float *mean, const float *rstd, float *dx, float *dg,
                   float *db);

/* GELU (tanh form), elementwise. */
float prof_gelu(float x);
float prof_gelu_grad(float x);

/* Rotary position embedding (half-split pairs, base 10000) applied in place
 * to nheads heads of width hd starting at column 0 of rows with stride ld;
 * batch samples of s tokens, positions 0..s-1. inverse rotates back (the
 * backward of the forward rotation). */
void prof_rotary(float *x, int64_t ld, int64_t batch, int64_t s, int nheads, int64_t hd,
                 int inverse);

/* Scaled dot-product attention of batch groups: q rows [batch*sq] with
 * stride ldq, heads at columns h*hd; k, v rows [batch*skv] with stride
 * ldkv, kv head g = h / (heads / kv_heads). */
typedef struct prof_attn_shape {
    int64_t batch, sq, skv;
    int heads, kv_heads;
    int64_t hd;
    int causal;
} prof_attn_shape;

/* p[batch][heads][sq][skv] = softmax(q k^T / sqrt(hd) + bias (+ mask));
 * o[batch*sq, heads*hd] = p v. bias [heads][sq][skv] or NULL (shared by
 * every batch group). */
void prof_attn_fwd(const prof_attn_shape *s, const float *q, int64_t ldq, const float *k,
                   const float *v, int64_t ldkv, const float *bias, float *p, float *o);
/* dq (overwritten, stride ldq), dk, dv (accumulated, stride ldkv; zero
 * them first), dbias += (may be NULL). scratch: sq*skv floats. */
void prof_attn_bwd(const prof_attn_shape *s, const float *q, int64_t ldq, const float *k,
                   const float *v, int64_t ldkv, const float *p, const float *dout, float *dq,
                   float *dk, float *dv, float *dbias, float *scratch);

/* ------------------------------------------------------------------ */
/* Layers                                                              */
/* ------------------------------------------------------------------ */

#define PROF_MAX_PARAMS 32

/* A named fp32 tensor with its gradient. */
typedef struct prof_tensor {
    const char *name;
    float *data;
    float *grad;
    int64_t n;
} prof_tensor;

typedef struct prof_cpu_layer prof_cpu_layer;
struct prof_moe_cfg;

/* What of its input a layer's backward reads from the caller's buffer (kept
 * by reference, so counted in its activation bytes). */
typedef enum {
    PROF_KEEP_INPUT = 0, /* the input x itself */
    PROF_KEEP_IDS,       /* its token ids (int32 per token) */
    PROF_KEEP_NONE       /* nothing: backward reads its own copy */
} prof_keep;

/* A layer kind's kernels: one descriptor per kind, defined beside its
 * kernels (cpu_block.c, cpu_embedding.c, cpu_head.c), listed in
 * cpu_layer.c. setup registers the parameters and sizes the input and
 * output, forward allocates what backward keeps, backward releases it,
 * release frees the kind's state (may be NULL). The flags say what the
 * layer object (shards, memory accounting) and the CUDA backend read of
 * the kind. */
typedef struct prof_layer_kind {
    int (*setup)(prof_cpu_layer *L);
    int (*forward)(prof_cpu_layer *L);
    int (*backward)(prof_cpu_layer *L);
    void (*release)(prof_cpu_layer *L);
    int attention;  /* tp shards heads, kv_heads and ffn (prof_layer_shard checks them) */
    int causal;     /* attention: causal mask */
    int cross;      /* attention: + cross-attention over the encoder output (input 2) */
    int windowed;   /* attention: within windows, with the relative position bias */
    int patch_grid; /* its tokens are the image's patch grid, (image / patch)^2 */
    int loss;       /* its output is the scalar mean loss (dout[0] its gradient) */
    int no_dx;      /* its input has no gradient (an image): backward leaves it */
    prof_keep keep; /* what backward reads of the input buffer */
    /* attention blocks: the MLP is a mixture of experts configured by
     * moe from the layer (NULL: the dense MLP) */
    int (*moe)(const prof_cpu_layer *L, struct prof_moe_cfg *c);
} prof_layer_kind;

/* The kernels of kind k, or NULL when it has none. */
const prof_layer_kind *uniap__prof_layer_kind(uniap_layer_kind k);
/* Gives kind k (registered in io at run time: tests) the kernels d, which
 * must outlive every use. Not thread-safe: register before creating
 * layers. EINVAL when k is outside 0..UNIAP_LAYER_KIND_MAX-1, already has
 * kernels, or d lacks setup, forward or backward. */
int uniap__prof_layer_kind_register(uniap_layer_kind k, const prof_layer_kind *d);

/* Local (shard) dimensions of a layer. */
typedef struct prof_shard {
    int64_t batch;  /* micro-batch: samples */
    int64_t seq;    /* tokens per sample */
    int64_t tokens; /* batch * seq */
    int64_t hidden;
    int heads;      /* heads / tp */
    int kv_heads;   /* kv_heads / tp (at least 1) */
    int64_t hd;     /* head width */
    int64_t ffn;    /* ffn / tp */
    int64_t vocab;  /* vocab / tp (rounded up) */
    int64_t kv_seq; /* cross attention: encoder tokens per sample */
    int tp;
} prof_shard;

struct prof_cpu_layer {
    uniap_layer spec; /* the unsharded layer, seq resolved */
    prof_shard sh;
    const prof_layer_kind *desc; /* the kind's kernels */
    prof_mem mem;                /* activations and workspaces */
    int n_params;
    prof_tensor params[PROF_MAX_PARAMS];
    int64_t param_count; /* elements over params */
    /* inputs: x [tokens, in_width] (and enc [batch*kv_seq, hidden] for
     * cross attention), with gradient buffers written by backward */
    int n_inputs;
    prof_tensor inputs[2];
    int32_t *ids;                          /* EMBEDDING: token ids [tokens]; HEAD: labels */
    int64_t n_out;                         /* output elements (HEAD: 1, the mean loss) */
    float *out;                            /* written by forward (allocated by it, tracked) */
    float *dout;                           /* gradient of the output, given to backward */
    double gemm_flops_fwd, gemm_flops_bwd; /* counted by the kernels */
    void *impl;                            /* kind-specific state */
    prof_rng rng;                          /* fills parameters and inputs */
};

/* Creates the layer at shard tp and micro_batch samples (seq: tokens per
 * sample when l->seq is 0), parameters and inputs filled from seed.
 * EINVAL when tp does not divide the layer's heads or ffn. */
int prof_cpu_layer_create(const uniap_layer *l, int64_t seq, int tp, int micro_batch, uint64_t seed,
                          prof_cpu_layer **out);
void prof_cpu_layer_destroy(prof_cpu_layer *L);
/* One forward: allocates L->out and the activations kept for backward. */
int prof_cpu_layer_forward(prof_cpu_layer *L);
/* One backward from L->dout: fills input and parameter gradients, frees
 * the kept activations and L->out. */
int prof_cpu_layer_backward(prof_cpu_layer *L);
/* Zeroes every parameter gradient. */
void prof_cpu_layer_zero_grads(prof_cpu_layer *L);
/* The tensor named name among params and inputs, or NULL. */
prof_tensor *prof_cpu_layer_tensor(prof_cpu_layer *L, const char *name);

/* Helpers for the kind-specific parts. */
/* Registers a parameter of n elements, uniform in center +- scale; NULL
 * when out of memory or the table is full (message recorded). */
prof_tensor *prof_layer_param(prof_cpu_layer *L, const char *name, int64_t n, float scale,
                              float center);
int prof_layer_input(prof_cpu_layer *L, const char *name, int64_t n);
int prof_layer_shard(const uniap_layer *l, int64_t seq, int tp, int micro_batch, prof_shard *sh);

/* Linear forward/backward that also count GEMM FLOPs on the layer. */
static inline void prof_lfwd(prof_cpu_layer *L, const float *x, int64_t T, int64_t in,
                             const float *w, const float *b, int64_t out, float beta, float *y)
{
    prof_linear_fwd(x, T, in, w, b, out, beta, y);
    L->gemm_flops_fwd += 2.0 * (double)T * (double)in * (double)out;
}
static inline void prof_lbwd(prof_cpu_layer *L, const float *x, const float *dy, int64_t T,
                             int64_t in, int64_t out, const float *w, float beta_dx, float *dx,
                             float *dw, float *db)
{
    prof_linear_bwd(x, dy, T, in, out, w, beta_dx, dx, dw, db);
    L->gemm_flops_bwd += (dx ? 4.0 : 2.0) * (double)T * (double)in * (double)out;
}

/* The MLP of a block: GELU/ReLU (w1 [h, f], w2 [f, h]) or SwiGLU (w1 [h, 2f]
 * holding gate | up columns, w2 [f, h]); biases when the layer has them. */
typedef struct prof_mlp {
    uniap_activation act;
    int64_t h, f;
    prof_tensor *w1, *b1, *w2, *b2;
    float *a; /* kept: pre-activation [T, f] (SwiGLU: [T, 2f]) */
    float *g; /* kept: activation output [T, f] */
} prof_mlp;

int prof_mlp_setup(prof_cpu_layer *L, prof_mlp *m, int64_t h, int64_t f);
/* y += mlp(x) over T rows. */
int prof_mlp_fwd(prof_cpu_layer *L, prof_mlp *m, const float *x, int64_t T, float *y);
/* dx += d/dx of mlp given dy; frees what forward kept. */
int prof_mlp_bwd(prof_cpu_layer *L, prof_mlp *m, const float *x, const float *dy, int64_t T,
                 float *dx);

/* The mixture-of-experts MLP of a moe block (cpu_moe.c): a router
 * (h x experts, softmax, top_k, gates renormalized over the chosen),
 * experts MLPs of width f dispatched per token (at most
 * ceil(capacity_factor * T * top_k / experts) rows each when
 * capacity_factor > 0, later tokens dropped) and shared always-on
 * experts of the same width (every token, gate 1). */
typedef struct prof_moe_cfg {
    int experts;            /* E routed experts */
    int top_k;              /* experts per token, 1..min(E, 64) */
    int shared;             /* always-on experts */
    double capacity_factor; /* 0: dropless */
} prof_moe_cfg;

typedef struct prof_moe {
    prof_moe_cfg c;
    uniap_activation act;
    int64_t h, f;
    prof_tensor *wr;    /* router [h, E] */
    prof_tensor *views; /* 4 per expert: its slices of the stacked "moe.w1" ... */
    prof_mlp *ex;       /* E routed then shared experts on the views */
    int64_t *off;       /* E + 1: first row of each expert in xe, ye */
    /* kept from forward for backward */
    float *gate;        /* [T, top_k] renormalized gates */
    int32_t *sel, *row; /* [T, top_k] expert, its row in xe (-1: dropped) */
    int32_t *tok;       /* token of each row */
    float *xe, *ye;     /* [rows, h] gathered inputs, expert outputs */
} prof_moe;

/* EINVAL (naming the field) unless experts >= 1, 1 <= top_k <= min(experts,
 * 64), shared >= 0, capacity_factor >= 0. */
int prof_moe_check(const prof_moe_cfg *c);
/* The configuration of a moe layer (experts, top_k, shared_experts,
 * capacity_factor of L->spec), checked: the moe kind's hook. */
int prof_moe_cfg_of(const prof_cpu_layer *L, prof_moe_cfg *c);
/* Registers the router, expert and shared parameters ("moe.router",
 * "moe.w1", ...; experts stacked) of width h and expert width f. The
 * tables it allocates are freed by prof_moe_free. */
int prof_moe_setup(prof_cpu_layer *L, prof_moe *m, const prof_moe_cfg *c, int64_t h, int64_t f);
/* y += moe(x) over T rows; keeps what backward reads. */
int prof_moe_fwd(prof_cpu_layer *L, prof_moe *m, const float *x, int64_t T, float *y);
/* dx += d/dx of moe given dy, parameter gradients += (the router's too);
 * frees what forward kept. */
int prof_moe_bwd(prof_cpu_layer *L, prof_moe *m, const float *x, const float *dy, int64_t T,
                 float *dx);
/* Frees what forward kept (after a failed pass); prof_moe_free also the
 * tables. */
void prof_moe_release(prof_cpu_layer *L, prof_moe *m);
void prof_moe_free(prof_cpu_layer *L, prof_moe *m);

#ifdef __cplusplus
}
#endif
#endif
