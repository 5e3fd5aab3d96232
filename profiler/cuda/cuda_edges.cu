/*
 * cuda_edges.cu - the layers at a network's edges on the GPU, as the CPU
 * versions (cpu_embedding.c, cpu_head.c) compute them: embedding
 * (vocab-parallel table + learned positions), patch_embed (im2col as a
 * row gather, one GEMM), patch_merge (2x2 gather, norm, linear), head
 * (norm, vocab-shard logits, softmax cross-entropy): one setup (where the
 * kind needs one), forward and backward per kind, listed in the kinds'
 * table of cuda_layers.cu.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_layer_impl.h"

enum { K_COLS, K_CAT, K_N, K_PROB };
enum { S_M, S_R };

static int upload_perm(int64_t *host, int64_t n, int64_t **dev)
{
    cudaError_t e = cudaMalloc((void **)dev, sizeof(int64_t) * (size_t)n);
    if (e == cudaSuccess)
        e = cudaMemcpy(*dev, host, sizeof(int64_t) * (size_t)n, cudaMemcpyHostToDevice);
    free(host);
    PROF_CUDA_CHECK(e);
    return 0;
}

/* --- embedding --------------------------------------------------------- */

int uniap__cu_embedding_fwd(cu_layer *C)
{
    const prof_shard *s = &C->cpu->sh;
    int64_t h = s->hidden;
    int pi = uniap__cu_param(C, "emb.pos");
    ALLOC(C, C->out, s->tokens * h, bf16);
    uniap__cu_embed_fwd(C->ids, C->w[uniap__cu_param(C, "emb.table")], pi >= 0 ? C->w[pi] : NULL,
                        C->out, s->tokens, h, s->vocab, s->seq, C->st);
    return 0;
}

int uniap__cu_embedding_bwd(cu_layer *C)
{
    const prof_shard *s = &C->cpu->sh;
    int64_t h = s->hidden;
    int pi = uniap__cu_param(C, "emb.pos");
    uniap__cu_embed_bwd(C->ids, C->dout, C->g[uniap__cu_param(C, "emb.table")],
                        pi >= 0 ? C->g[pi] : NULL, s->tokens, h, s->vocab, s->seq, C->st);
    RELEASE(C, C->out);
    return 0;
}

/* --- patch_embed ------------------------------------------------------- */

int uniap__cu_patch_embed_setup(cu_layer *C)
{
    const prof_cpu_layer *L = C->cpu;
    const prof_shard *s = &L->sh;
    /* im2col: cols [T, C p p] as sub-rows of p pixels gathered from the
     * image [b, C, img, img] seen as rows of p pixels */
    int64_t p = L->spec.patch, img = L->spec.image,
            ch = L->spec.channels > 0 ? L->spec.channels : 3;
    int64_t grid = img / p, n = s->batch * grid * grid * ch * p, k = 0;
    int64_t *perm = (int64_t *)malloc(sizeof(int64_t) * (size_t)n);
    if (!perm)
        return uniap_err(UNIAP_ENOMEM, "profiler: CUDA im2col table");
    for (int64_t bb = 0; bb < s->batch; bb++)
        for (int64_t gr = 0; gr < grid; gr++)
            for (int64_t gc = 0; gc < grid; gc++)
                for (int64_t c = 0; c < ch; c++)
                    for (int64_t i = 0; i < p; i++)
                        perm[k++] = ((bb * ch + c) * img + gr * p + i) * grid + gc;
    return upload_perm(perm, n, &C->perm);
}

int uniap__cu_patch_embed_fwd(cu_layer *C)
{
    const prof_cpu_layer *L = C->cpu;
    const prof_shard *s = &L->sh;
    bf16 **K = C->keep;
    int64_t h = s->hidden;
    int64_t p = L->spec.patch, ch = L->spec.channels > 0 ? L->spec.channels : 3;
    int64_t Kw = ch * p * p, T = s->tokens;
    int pi = uniap__cu_param(C, "patch.pos");
    ALLOC(C, K[K_COLS], T * Kw, bf16);
    ALLOC(C, C->out, T * h, bf16);
    uniap__cu_permute_rows(C->x[0], K[K_COLS], C->perm, T * ch * p, p, 1, C->st);
    TRY(uniap__cu_lin_fwd(C, K[K_COLS], T, Kw, uniap__cu_param(C, "patch.w"),
                          uniap__cu_param(C, "patch.b"), h, 0.0f, C->out));
    for (int64_t bb = 0; pi >= 0 && bb < s->batch; bb++)
        uniap__cu_add(C->out + bb * s->seq * h, C->w[pi], s->seq * h, C->st);
    return 0;
}

int uniap__cu_patch_embed_bwd(cu_layer *C)
{
    const prof_cpu_layer *L = C->cpu;
    const prof_shard *s = &L->sh;
    bf16 **K = C->keep;
    int64_t h = s->hidden;
    int64_t p = L->spec.patch, ch = L->spec.channels > 0 ? L->spec.channels : 3;
    int pi = uniap__cu_param(C, "patch.pos");
    TRY(uniap__cu_lin_bwd(C, K[K_COLS], C->dout, s->tokens, ch * p * p, h,
                          uniap__cu_param(C, "patch.w"), uniap__cu_param(C, "patch.b"), 0.0f,
                          NULL));
    if (pi >= 0) /* positions: the gradient summed over samples */
        uniap__cu_bias_grad(C->dout, C->g[pi], s->batch, s->seq * h, C->st);
    RELEASE(C, K[K_COLS]);
    RELEASE(C, C->out);
    return 0;
}

/* --- patch_merge ------------------------------------------------------- */

int uniap__cu_patch_merge_setup(cu_layer *C)
{
    const prof_shard *s = &C->cpu->sh;
    int64_t side = (int64_t)llround(sqrt((double)s->seq)), half = side / 2;
    int64_t To = s->batch * half * half, k = 0;
    int64_t *perm = (int64_t *)malloc(sizeof(int64_t) * (size_t)(4 * To));
    if (!perm)
        return uniap_err(UNIAP_ENOMEM, "profiler: CUDA patch merge table");
    for (int64_t r = 0; r < To; r++)
        for (int q = 0; q < 4; q++) {
            int64_t bb = r / (half * half), i = (r % (half * half)) / half, j = r % half;
            perm[k++] = bb * side * side + (2 * i + (q & 1)) * side + 2 * j + (q >> 1);
        }
    return upload_perm(perm, 4 * To, &C->perm);
}

int uniap__cu_patch_merge_fwd(cu_layer *C)
{
    const prof_cpu_layer *L = C->cpu;
    const prof_shard *s = &L->sh;
    bf16 **K = C->keep;
    float **S = C->stat;
    int64_t h = s->hidden;
    int64_t To = s->tokens / 4, C4 = 4 * h;
    int64_t oh = L->spec.out_hidden > 0 ? L->spec.out_hidden : 2 * h;
    int bi = uniap__cu_param(C, "merge.ln.b");
    ALLOC(C, K[K_CAT], To * C4, bf16);
    ALLOC(C, K[K_N], To * C4, bf16);
    ALLOC(C, S[S_M], To, float);
    ALLOC(C, S[S_R], To, float);
    ALLOC(C, C->out, To * oh, bf16);
    uniap__cu_permute_rows(C->x[0], K[K_CAT], C->perm, 4 * To, h, 1, C->st);
    uniap__cu_norm_fwd(L->spec.norm == UNIAP_NORM_RMSNORM, K[K_CAT],
                       C->w[uniap__cu_param(C, "merge.ln.g")], bi >= 0 ? C->w[bi] : NULL, K[K_N],
                       S[S_M], S[S_R], To, C4, C->st);
    return uniap__cu_lin_fwd(C, K[K_N], To, C4, uniap__cu_param(C, "merge.w"),
                             uniap__cu_param(C, "merge.b"), oh, 0.0f, C->out);
}

int uniap__cu_patch_merge_bwd(cu_layer *C)
{
    const prof_cpu_layer *L = C->cpu;
    const prof_shard *s = &L->sh;
    bf16 **K = C->keep;
    float **S = C->stat;
    int64_t h = s->hidden;
    int64_t To = s->tokens / 4, C4 = 4 * h;
    int64_t oh = L->spec.out_hidden > 0 ? L->spec.out_hidden : 2 * h;
    int gi = uniap__cu_param(C, "merge.ln.g"), bi = uniap__cu_param(C, "merge.ln.b");
    bf16 *dn, *dcat;
    ALLOC(C, dn, To * C4, bf16);
    ALLOC(C, dcat, To * C4, bf16);
    PROF_CUDA_CHECK(cudaMemsetAsync(dcat, 0, (size_t)(To * C4) * sizeof(bf16), C->st));
    TRY(uniap__cu_lin_bwd(C, K[K_N], C->dout, To, C4, oh, uniap__cu_param(C, "merge.w"),
                          uniap__cu_param(C, "merge.b"), 0.0f, dn));
    uniap__cu_norm_bwd(L->spec.norm == UNIAP_NORM_RMSNORM, K[K_CAT], dn, C->w[gi], S[S_M], S[S_R],
                       dcat, C->g[gi], bi >= 0 ? C->g[bi] : NULL, To, C4, C->st);
    uniap__cu_permute_rows(dcat, C->dx[0], C->perm, 4 * To, h, 0, C->st);
    RELEASE(C, dn);
    RELEASE(C, dcat);
    RELEASE(C, K[K_CAT]);
    RELEASE(C, K[K_N]);
    RELEASE(C, S[S_M]);
    RELEASE(C, S[S_R]);
    RELEASE(C, C->out);
    return 0;
}

/* --- head -------------------------------------------------------------- */

int uniap__cu_head_fwd(cu_layer *C)
{
    const prof_cpu_layer *L = C->cpu;
    const prof_shard *s = &L->sh;
    bf16 **K = C->keep;
    float **S = C->stat;
    int64_t h = s->hidden;
    int64_t T = s->tokens, V = s->vocab;
    int bi = uniap__cu_param(C, "head.ln.b");
    ALLOC(C, K[K_N], T * h, bf16);
    ALLOC(C, S[S_M], T, float);
    ALLOC(C, S[S_R], T, float);
    ALLOC(C, K[K_PROB], T * V, bf16);
    uniap__cu_norm_fwd(L->spec.norm == UNIAP_NORM_RMSNORM, C->x[0],
                       C->w[uniap__cu_param(C, "head.ln.g")], bi >= 0 ? C->w[bi] : NULL, K[K_N],
                       S[S_M], S[S_R], T, h, C->st);
    TRY(uniap__cu_lin_fwd(C, K[K_N], T, h, uniap__cu_param(C, "head.w"),
                          uniap__cu_param(C, "head.b"), V, 0.0f, K[K_PROB]));
    uniap__cu_xent_fwd(K[K_PROB], C->ids, C->loss, T, V, C->st);
    return 0;
}

int uniap__cu_head_bwd(cu_layer *C)
{
    const prof_cpu_layer *L = C->cpu;
    const prof_shard *s = &L->sh;
    bf16 **K = C->keep;
    float **S = C->stat;
    int64_t h = s->hidden;
    int64_t T = s->tokens, V = s->vocab;
    int gi = uniap__cu_param(C, "head.ln.g"), bi = uniap__cu_param(C, "head.ln.b");
    bf16 *dn;
    ALLOC(C, dn, T * h, bf16);
    uniap__cu_xent_bwd(K[K_PROB], C->ids, L->dout[0], T, V, C->st);
    TRY(uniap__cu_lin_bwd(C, K[K_N], K[K_PROB], T, h, V, uniap__cu_param(C, "head.w"),
                          uniap__cu_param(C, "head.b"), 0.0f, dn));
    PROF_CUDA_CHECK(cudaMemsetAsync(C->dx[0], 0, (size_t)(T * h) * sizeof(bf16), C->st));
    uniap__cu_norm_bwd(L->spec.norm == UNIAP_NORM_RMSNORM, C->x[0], dn, C->w[gi], S[S_M], S[S_R],
                       C->dx[0], C->g[gi], bi >= 0 ? C->g[bi] : NULL, T, h, C->st);
    RELEASE(C, dn);
    RELEASE(C, K[K_N]);
    RELEASE(C, K[K_PROB]);
    RELEASE(C, S[S_M]);
    RELEASE(C, S[S_R]);
    return 0;
}
