/*
 * cpu_embedding.c - the layers at the edges of a network's input side on
 * the CPU, forward and backward:
 *   embedding     token table (vocab-parallel shard, vocab / tp rows; ids
 *                 outside the shard give zero rows) + learned positions
 *   patch_embed   ViT/Swin patch embedding: im2col of the image, then one
 *                 GEMM with the [channels*patch*patch, hidden] kernel
 *                 (+ bias, + learned positions); replicated across tp
 *   patch_merge   Swin downsampling: 2x2 neighbours concatenated (4C),
 *                 norm, linear 4C -> out_hidden (bias when the spec has
 *                 one); replicated
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"

#define FSZ(n) ((int64_t)(n) * (int64_t)sizeof(float))

/* --- embedding ---------------------------------------------------------- */

typedef struct embedding {
    prof_tensor *table, *pos;
    int64_t vocab_lo; /* first id of this shard (shard 0) */
} embedding;

static int embedding_setup(prof_cpu_layer *L)
{
    const prof_shard *s = &L->sh;
    embedding *E = calloc(1, sizeof(*E));
    if (!E)
        return uniap_err(UNIAP_ENOMEM, "profiler: embedding state");
    L->impl = E;
    if (s->vocab < 1)
        return uniap_err(UNIAP_EINVAL, "profiler: embedding layer: vocab must be >= 1");
    E->table = prof_layer_param(L, "emb.table", s->vocab * s->hidden, 1.0f, 0.0f);
    if (!E->table)
        return UNIAP_ENOMEM;
    if (L->spec.position == UNIAP_POS_LEARNED) {
        E->pos = prof_layer_param(L, "emb.pos", s->seq * s->hidden, 0.5f, 0.0f);
        if (!E->pos)
            return UNIAP_ENOMEM;
    }
    L->ids = prof_alloc(&L->mem, s->tokens * (int64_t)sizeof(int32_t), 0);
    if (!L->ids)
        return uniap_err(UNIAP_ENOMEM, "profiler: embedding ids");
    /* ids over the whole vocabulary: about 1/tp of them fall in this shard */
    int64_t full = L->spec.vocab;
    for (int64_t t = 0; t < s->tokens; t++) {
        float u = prof_rng_uniform(&L->rng, 0.5f) + 0.5f;
        int64_t id = (int64_t)(u * (float)full);
        L->ids[t] = (int32_t)(id >= full ? full - 1 : id);
    }
    L->n_out = s->tokens * s->hidden;
    return 0;
}

static int embedding_forward(prof_cpu_layer *L)
{
    embedding *E = L->impl;
    const prof_shard *s = &L->sh;
    int64_t h = s->hidden;
    L->out = prof_alloc(&L->mem, FSZ(s->tokens * h), 0);
    if (!L->out)
        return uniap_err(UNIAP_ENOMEM, "profiler: embedding output");
    for (int64_t t = 0; t < s->tokens; t++) {
        float *o = L->out + t * h;
        int64_t id = L->ids[t] - E->vocab_lo;
        if (id >= 0 && id < s->vocab)
            memcpy(o, E->table->data + id * h, (size_t)FSZ(h));
        else
            memset(o, 0, (size_t)FSZ(h));
        if (E->pos) {
            const float *p = E->pos->data + (t % s->seq) * h;
            for (int64_t j = 0; j < h; j++)
                o[j] += p[j];
        }
    }
    return 0;
}

static int embedding_backward(prof_cpu_layer *L)
{
    embedding *E = L->impl;
    const prof_shard *s = &L->sh;
    int64_t h = s->hidden;
    for (int64_t t = 0; t < s->tokens; t++) {
        const float *d = L->dout + t * h;
        int64_t id = L->ids[t] - E->vocab_lo;
        if (id >= 0 && id < s->vocab) {
            float *g = E->table->grad + id * h;
            for (int64_t j = 0; j < h; j++)
                g[j] += d[j];
        }
        if (E->pos) {
            float *g = E->pos->grad + (t % s->seq) * h;
            for (int64_t j = 0; j < h; j++)
                g[j] += d[j];
        }
    }
    prof_free(&L->mem, L->out);
    L->out = NULL;
    return 0;
}

static void embedding_release(prof_cpu_layer *L)
{
    free(L->impl);
    L->impl = NULL;
}

const prof_layer_kind uniap__cpu_embedding = {.setup = embedding_setup,
                                              .forward = embedding_forward,
                                              .backward = embedding_backward,
                                              .release = embedding_release,
                                              .keep = PROF_KEEP_IDS};

/* --- patch_embed ---------------------------------------------------------- */

typedef struct patch_embed {
    int64_t image, patch, channels, grid, np, K;
    prof_tensor *w, *b, *pos;
    float *cols; /* kept: im2col [batch*np, K] */
} patch_embed;

static int patch_embed_setup(prof_cpu_layer *L)
{
    const prof_shard *s = &L->sh;
    patch_embed *P = calloc(1, sizeof(*P));
    if (!P)
        return uniap_err(UNIAP_ENOMEM, "profiler: patch_embed state");
    L->impl = P;
    P->image = L->spec.image;
    P->patch = L->spec.patch;
    P->channels = L->spec.channels > 0 ? L->spec.channels : 3;
    if (P->image < 1 || P->patch < 1 || P->image % P->patch)
        return uniap_err(UNIAP_EINVAL,
                         "profiler: patch_embed layer: image %lld must be a multiple of patch %lld",
                         (long long)P->image, (long long)P->patch);
    P->grid = P->image / P->patch;
    P->np = P->grid * P->grid;
    P->K = P->channels * P->patch * P->patch;
    P->w = prof_layer_param(L, "patch.w", P->K * s->hidden, 1.0f / sqrtf((float)P->K), 0.0f);
    if (!P->w)
        return UNIAP_ENOMEM;
    /* a patch embedding is a convolution: always with a bias */
    if (!(P->b = prof_layer_param(L, "patch.b", s->hidden, 0.1f, 0.0f)))
        return UNIAP_ENOMEM;
    if (L->spec.position == UNIAP_POS_LEARNED &&
        !(P->pos = prof_layer_param(L, "patch.pos", P->np * s->hidden, 0.5f, 0.0f)))
        return UNIAP_ENOMEM;
    int rc = prof_layer_input(L, "image", s->batch * P->channels * P->image * P->image);
    if (rc < 0)
        return rc;
    L->n_out = s->batch * P->np * s->hidden;
    return 0;
}

static int patch_embed_forward(prof_cpu_layer *L)
{
    patch_embed *P = L->impl;
    const prof_shard *s = &L->sh;
    int64_t T = s->batch * P->np, h = s->hidden, img = P->image, p = P->patch;
    P->cols = prof_alloc(&L->mem, FSZ(T * P->K), 0);
    L->out = prof_alloc(&L->mem, FSZ(T * h), 0);
    if (!P->cols || !L->out)
        return uniap_err(UNIAP_ENOMEM, "profiler: patch_embed activations");
    const float *x = L->inputs[0].data;
    for (int64_t bb = 0; bb < s->batch; bb++)
        for (int64_t gr = 0; gr < P->grid; gr++)
            for (int64_t gc = 0; gc < P->grid; gc++) {
                float *row = P->cols + ((bb * P->grid + gr) * P->grid + gc) * P->K;
                for (int64_t c = 0; c < P->channels; c++)
                    for (int64_t i = 0; i < p; i++)
                        memcpy(row + (c * p + i) * p,
                               x + ((bb * P->channels + c) * img + gr * p + i) * img + gc * p,
                               (size_t)FSZ(p));
            }
    prof_lfwd(L, P->cols, T, P->K, P->w->data, P->b ? P->b->data : NULL, h, 0.0f, L->out);
    if (P->pos)
        for (int64_t t = 0; t < T; t++)
            for (int64_t j = 0; j < h; j++)
                L->out[t * h + j] += P->pos->data[(t % P->np) * h + j];
    return 0;
}

static int patch_embed_backward(prof_cpu_layer *L)
{
    patch_embed *P = L->impl;
    const prof_shard *s = &L->sh;
    int64_t T = s->batch * P->np, h = s->hidden;
    /* the image needs no gradient */
    prof_lbwd(L, P->cols, L->dout, T, P->K, h, P->w->data, 0.0f, NULL, P->w->grad,
              P->b ? P->b->grad : NULL);
    if (P->pos)
        for (int64_t t = 0; t < T; t++)
            for (int64_t j = 0; j < h; j++)
                P->pos->grad[(t % P->np) * h + j] += L->dout[t * h + j];
    prof_free(&L->mem, P->cols);
    prof_free(&L->mem, L->out);
    P->cols = NULL;
    L->out = NULL;
    return 0;
}

static void patch_embed_release(prof_cpu_layer *L)
{
    patch_embed *P = L->impl;
    if (!P)
        return;
    prof_free(&L->mem, P->cols);
    free(P);
    L->impl = NULL;
}

const prof_layer_kind uniap__cpu_patch_embed = {.setup = patch_embed_setup,
                                                .forward = patch_embed_forward,
                                                .backward = patch_embed_backward,
                                                .release = patch_embed_release,
                                                .patch_grid = 1,
                                                .no_dx = 1,
                                                .keep = PROF_KEEP_NONE};

/* --- patch_merge ---------------------------------------------------------- */

typedef struct patch_merge {
    int64_t side, C, C4, out_h, To;
    prof_tensor *g, *b, *w, *bias;
    float *cat, *n, *mean, *rstd; /* kept */
} patch_merge;

static int patch_merge_setup(prof_cpu_layer *L)
{
    const prof_shard *s = &L->sh;
    patch_merge *P = calloc(1, sizeof(*P));
    if (!P)
        return uniap_err(UNIAP_ENOMEM, "profiler: patch_merge state");
    L->impl = P;
    P->side = (int64_t)llround(sqrt((double)s->seq));
    if (P->side * P->side != s->seq || P->side % 2)
        return uniap_err(UNIAP_EINVAL,
                         "profiler: patch_merge layer: seq %lld is not an even square grid",
                         (long long)s->seq);
    P->C = s->hidden;
    P->C4 = 4 * P->C;
    P->out_h = L->spec.out_hidden > 0 ? L->spec.out_hidden : 2 * P->C;
    P->To = s->batch * s->seq / 4;
    P->g = prof_layer_param(L, "merge.ln.g", P->C4, 0.2f, 1.0f);
    if (!P->g)
        return UNIAP_ENOMEM;
    if (L->spec.norm == UNIAP_NORM_LAYERNORM &&
        !(P->b = prof_layer_param(L, "merge.ln.b", P->C4, 0.1f, 0.0f)))
        return UNIAP_ENOMEM;
    P->w = prof_layer_param(L, "merge.w", P->C4 * P->out_h, 1.0f / sqrtf((float)P->C4), 0.0f);
    if (!P->w)
        return UNIAP_ENOMEM;
    if (L->spec.bias && !(P->bias = prof_layer_param(L, "merge.b", P->out_h, 0.1f, 0.0f)))
        return UNIAP_ENOMEM;
    int rc = prof_layer_input(L, "x", s->tokens * P->C);
    if (rc < 0)
        return rc;
    L->n_out = P->To * P->out_h;
    return 0;
}

/* Row of the input token feeding quarter q (of 4) of merged token r. */
static int64_t merge_src(const patch_merge *P, int64_t r, int q)
{
    int64_t half = P->side / 2, per = half * half;
    int64_t bb = r / per, i = (r % per) / half, j = r % half;
    int64_t di = q & 1, dj = q >> 1; /* (0,0) (1,0) (0,1) (1,1) */
    return bb * P->side * P->side + (2 * i + di) * P->side + 2 * j + dj;
}

static int patch_merge_forward(prof_cpu_layer *L)
{
    patch_merge *P = L->impl;
    prof_mem *M = &L->mem;
    P->cat = prof_alloc(M, FSZ(P->To * P->C4), 0);
    P->n = prof_alloc(M, FSZ(P->To * P->C4), 0);
    P->mean = prof_alloc(M, FSZ(P->To), 0);
    P->rstd = prof_alloc(M, FSZ(P->To), 0);
    L->out = prof_alloc(M, FSZ(P->To * P->out_h), 0);
    if (!P->cat || !P->n || !P->mean || !P->rstd || !L->out)
        return uniap_err(UNIAP_ENOMEM, "profiler: patch_merge activations");
    for (int64_t r = 0; r < P->To; r++)
        for (int q = 0; q < 4; q++)
            memcpy(P->cat + r * P->C4 + q * P->C, L->inputs[0].data + merge_src(P, r, q) * P->C,
                   (size_t)FSZ(P->C));
    prof_norm_fwd(L->spec.norm, P->cat, P->To, P->C4, P->g->data, P->b ? P->b->data : NULL, P->n,
                  P->mean, P->rstd);
    prof_lfwd(L, P->n, P->To, P->C4, P->w->data, P->bias ? P->bias->data : NULL, P->out_h, 0.0f,
              L->out);
    return 0;
}

static int patch_merge_backward(prof_cpu_layer *L)
{
    patch_merge *P = L->impl;
    prof_mem *M = &L->mem;
    float *dn = prof_alloc(M, FSZ(P->To * P->C4), 0);
    float *dcat = prof_alloc(M, FSZ(P->To * P->C4), 1);
    if (!dn || !dcat) {
        prof_free(M, dn);
        prof_free(M, dcat);
        return uniap_err(UNIAP_ENOMEM, "profiler: patch_merge gradients");
    }
    prof_lbwd(L, P->n, L->dout, P->To, P->C4, P->out_h, P->w->data, 0.0f, dn, P->w->grad,
              P->bias ? P->bias->grad : NULL);
    prof_norm_bwd(L->spec.norm, P->cat, dn, P->To, P->C4, P->g->data, P->mean, P->rstd, dcat,
                  P->g->grad, P->b ? P->b->grad : NULL);
    for (int64_t r = 0; r < P->To; r++)
        for (int q = 0; q < 4; q++)
            memcpy(L->inputs[0].grad + merge_src(P, r, q) * P->C, dcat + r * P->C4 + q * P->C,
                   (size_t)FSZ(P->C));
    prof_free(M, dn);
    prof_free(M, dcat);
    prof_free(M, P->cat);
    prof_free(M, P->n);
    prof_free(M, P->mean);
    prof_free(M, P->rstd);
    prof_free(M, L->out);
    P->cat = P->n = P->mean = P->rstd = L->out = NULL;
    return 0;
}

static void patch_merge_release(prof_cpu_layer *L)
{
    patch_merge *P = L->impl;
    if (!P)
        return;
    prof_free(&L->mem, P->cat);
    prof_free(&L->mem, P->n);
    prof_free(&L->mem, P->mean);
    prof_free(&L->mem, P->rstd);
    free(P);
    L->impl = NULL;
}

const prof_layer_kind uniap__cpu_patch_merge = {.setup = patch_merge_setup,
                                                .forward = patch_merge_forward,
                                                .backward = patch_merge_backward,
                                                .release = patch_merge_release,
                                                .keep = PROF_KEEP_NONE};
