/*
 * cpu_block.c - the transformer blocks on the CPU, forward and backward at
 * the tensor-parallel shard (Megatron layout: QKV and MLP-in column
 * parallel, attention-out and MLP-out row parallel; norms replicated; the
 * collectives between shards are the cost model's, not measured here):
 *   encoder        pre-norm MHA + MLP
 *   decoder        causal grouped-query attention (+ rotary) + MLP
 *   cross_decoder  decoder + cross attention to encoder tokens (input enc)
 *   swin           attention inside window x window patches (+ relative
 *                  position bias table) + MLP
 *   moe            decoder with the mixture-of-experts MLP (cpu_moe.c)
 * Norm, activation, biases and positions follow the layer spec.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_kernels.h"

typedef struct block {
    int causal, cross, rotary;
    int64_t side, win, w2; /* swin: grid side, window side, window tokens */
    int64_t wqkv_cols;     /* (heads + 2 kv_heads) * hd */
    prof_tensor *ln1g, *ln1b, *wqkv, *bqkv, *wo, *bo, *relb;
    prof_tensor *lncg, *lncb, *wqc, *bqc, *wkvc, *bkvc, *woc, *boc;
    prof_tensor *ln2g, *ln2b;
    prof_mlp mlp;
    int is_moe; /* the MLP is the mixture of experts moe */
    prof_moe moe;
    int64_t *perm; /* swin: token row of each windowed row */
    int *relidx;   /* swin: bias table index of (i, j) in a window */
    /* kept from forward for backward */
    float *m1, *r1, *n1, *qkv, *p, *ao, *x1;
    float *mc, *rc, *nc, *qc, *kvc, *pc, *aoc, *x2;
    float *m2, *r2, *n2;
} block;

#define FSZ(n) ((int64_t)(n) * (int64_t)sizeof(float))

static int norm_params(prof_cpu_layer *L, const char *g, const char *b, int64_t h, prof_tensor **pg,
                       prof_tensor **pb)
{
    *pg = prof_layer_param(L, g, h, 0.2f, 1.0f);
    *pb = NULL;
    if (!*pg)
        return UNIAP_ENOMEM;
    if (L->spec.norm == UNIAP_NORM_LAYERNORM) {
        *pb = prof_layer_param(L, b, h, 0.1f, 0.0f);
        if (!*pb)
            return UNIAP_ENOMEM;
    }
    return 0;
}

static int block_setup(prof_cpu_layer *L)
{
    const prof_shard *s = &L->sh;
    int64_t h = s->hidden, qw = (int64_t)s->heads * s->hd, kvw = (int64_t)s->kv_heads * s->hd;
    int rc, bias = L->spec.bias;
    block *B = calloc(1, sizeof(*B));
    if (!B)
        return uniap_err(UNIAP_ENOMEM, "profiler: block state");
    L->impl = B;
    /* prof_attn_fwd/_bwd index kv heads by h / (heads / kv_heads) */
    UNIAP_CHECK(s->kv_heads >= 1 && s->heads % s->kv_heads == 0);
    B->causal = L->desc->causal;
    B->cross = L->desc->cross;
    B->rotary = L->spec.position == UNIAP_POS_ROTARY;
    if (B->rotary && s->hd % 2)
        return uniap_err(UNIAP_EINVAL, "profiler: rotary needs an even head_dim, layer has %lld",
                         (long long)s->hd);
    B->wqkv_cols = qw + 2 * kvw;
    if ((rc = norm_params(L, "ln1.g", "ln1.b", h, &B->ln1g, &B->ln1b)) < 0)
        return rc;
    B->wqkv = prof_layer_param(L, "attn.wqkv", h * B->wqkv_cols, 1.0f / sqrtf((float)h), 0.0f);
    B->wo = prof_layer_param(L, "attn.wo", qw * h, 1.0f / sqrtf((float)qw), 0.0f);
    if (!B->wqkv || !B->wo)
        return UNIAP_ENOMEM;
    if (bias) {
        B->bqkv = prof_layer_param(L, "attn.bqkv", B->wqkv_cols, 0.1f, 0.0f);
        B->bo = prof_layer_param(L, "attn.bo", h, 0.1f, 0.0f);
        if (!B->bqkv || !B->bo)
            return UNIAP_ENOMEM;
    }
    if (L->desc->windowed) {
        int64_t side = (int64_t)llround(sqrt((double)s->seq));
        int64_t win = L->spec.window > 0 ? L->spec.window : 7;
        if (win > side)
            win = side;
        if (side * side != s->seq || side % win)
            return uniap_err(UNIAP_EINVAL,
                             "profiler: swin layer: seq %lld is not a square grid divisible by "
                             "window %lld",
                             (long long)s->seq, (long long)win);
        B->side = side;
        B->win = win;
        B->w2 = win * win;
        B->perm = malloc(sizeof(int64_t) * (size_t)s->tokens);
        B->relidx = malloc(sizeof(int) * (size_t)(B->w2 * B->w2));
        if (!B->perm || !B->relidx)
            return uniap_err(UNIAP_ENOMEM, "profiler: swin window tables");
        int64_t nw = side / win, wpos = 0;
        for (int64_t bb = 0; bb < s->batch; bb++)
            for (int64_t wr = 0; wr < nw; wr++)
                for (int64_t wc = 0; wc < nw; wc++)
                    for (int64_t i = 0; i < win; i++)
                        for (int64_t j = 0; j < win; j++)
                            B->perm[wpos++] = bb * s->seq + (wr * win + i) * side + wc * win + j;
        for (int64_t a = 0; a < B->w2; a++)
            for (int64_t b = 0; b < B->w2; b++) {
                int64_t dy = a / win - b / win + win - 1, dx = a % win - b % win + win - 1;
                B->relidx[a * B->w2 + b] = (int)(dy * (2 * win - 1) + dx);
            }
        if (L->spec.position == UNIAP_POS_RELATIVE) {
            B->relb = prof_layer_param(L, "attn.relb", (2 * win - 1) * (2 * win - 1) * s->heads,
                                       0.5f, 0.0f);
            if (!B->relb)
                return UNIAP_ENOMEM;
        }
    }
    if (B->cross) {
        if ((rc = norm_params(L, "xattn.ln.g", "xattn.ln.b", h, &B->lncg, &B->lncb)) < 0)
            return rc;
        B->wqc = prof_layer_param(L, "xattn.wq", h * qw, 1.0f / sqrtf((float)h), 0.0f);
        B->wkvc = prof_layer_param(L, "xattn.wkv", h * 2 * kvw, 1.0f / sqrtf((float)h), 0.0f);
        B->woc = prof_layer_param(L, "xattn.wo", qw * h, 1.0f / sqrtf((float)qw), 0.0f);
        if (!B->wqc || !B->wkvc || !B->woc)
            return UNIAP_ENOMEM;
        if (bias) {
            B->bqc = prof_layer_param(L, "xattn.bq", qw, 0.1f, 0.0f);
            B->bkvc = prof_layer_param(L, "xattn.bkv", 2 * kvw, 0.1f, 0.0f);
            B->boc = prof_layer_param(L, "xattn.bo", h, 0.1f, 0.0f);
            if (!B->bqc || !B->bkvc || !B->boc)
                return UNIAP_ENOMEM;
        }
    }
    if ((rc = norm_params(L, "ln2.g", "ln2.b", h, &B->ln2g, &B->ln2b)) < 0)
        return rc;
    if (L->desc->moe) {
        prof_moe_cfg c;
        B->is_moe = 1;
        if ((rc = L->desc->moe(L, &c)) < 0 || (rc = prof_moe_setup(L, &B->moe, &c, h, s->ffn)) < 0)
            return rc;
    } else if ((rc = prof_mlp_setup(L, &B->mlp, h, s->ffn)) < 0)
        return rc;
    if ((rc = prof_layer_input(L, "x", s->tokens * h)) < 0)
        return rc;
    if (B->cross && (rc = prof_layer_input(L, "enc", s->batch * s->kv_seq * h)) < 0)
        return rc;
    L->n_out = s->tokens * h;
    return 0;
}

/* Rows of src (width w) in windowed order (gather) or back (scatter). */
static void permute_rows(const block *B, const float *src, float *dst, int64_t T, int64_t w,
                         int gather)
{
    for (int64_t r = 0; r < T; r++) {
        const float *from = gather ? src + B->perm[r] * w : src + r * w;
        float *to = gather ? dst + r * w : dst + B->perm[r] * w;
        memcpy(to, from, (size_t)w * sizeof(float));
    }
}

/* The bias of every (head, i, j) in a window from the (2w-1)^2 table. */
static void expand_relbias(const block *B, int heads, float *dense)
{
    int64_t ww = B->w2 * B->w2;
    for (int hh = 0; hh < heads; hh++)
        for (int64_t e = 0; e < ww; e++)
            dense[hh * ww + e] = B->relb->data[B->relidx[e] * heads + hh];
}

static int block_forward(prof_cpu_layer *L)
{
    block *B = L->impl;
    const prof_shard *s = &L->sh;
    prof_mem *M = &L->mem;
    int64_t T = s->tokens, h = s->hidden, qw = (int64_t)s->heads * s->hd;
    int64_t kvw = (int64_t)s->kv_heads * s->hd, C = B->wqkv_cols;
    uniap_norm nk = L->spec.norm;
    const float *x = L->inputs[0].data;
    float *tmp = NULL, *dense = NULL;

    B->m1 = prof_alloc(M, FSZ(T), 0);
    B->r1 = prof_alloc(M, FSZ(T), 0);
    B->n1 = prof_alloc(M, FSZ(T * h), 0);
    B->qkv = prof_alloc(M, FSZ(T * C), 0);
    B->ao = prof_alloc(M, FSZ(T * qw), 0);
    B->x1 = prof_alloc(M, FSZ(T * h), 0);
    if (!B->m1 || !B->r1 || !B->n1 || !B->qkv || !B->ao || !B->x1)
        goto nomem;
    prof_norm_fwd(nk, x, T, h, B->ln1g->data, B->ln1b ? B->ln1b->data : NULL, B->n1, B->m1, B->r1);
    prof_lfwd(L, B->n1, T, h, B->wqkv->data, B->bqkv ? B->bqkv->data : NULL, C, 0.0f, B->qkv);
    if (B->rotary)
        prof_rotary(B->qkv, C, s->batch, s->seq, s->heads + s->kv_heads, s->hd, 0);
    if (B->w2) {
        prof_attn_shape sh = {T / B->w2, B->w2, B->w2, s->heads, s->kv_heads, s->hd, 0};
        B->p = prof_alloc(M, FSZ(T * B->w2 * s->heads), 0);
        tmp = prof_alloc(M, FSZ(T * (C > qw ? C : qw)), 0);
        if (B->relb)
            dense = prof_alloc(M, FSZ(B->w2 * B->w2 * s->heads), 0);
        if (!B->p || !tmp || (B->relb && !dense))
            goto nomem;
        /* the kept qkv is the windowed one */
        permute_rows(B, B->qkv, tmp, T, C, 1);
        memcpy(B->qkv, tmp, (size_t)FSZ(T * C));
        if (dense)
            expand_relbias(B, s->heads, dense);
        prof_attn_fwd(&sh, B->qkv, C, B->qkv + qw, B->qkv + qw + kvw, C, dense, B->p, tmp);
        permute_rows(B, tmp, B->ao, T, qw, 0);
        prof_free(M, tmp);
        prof_free(M, dense);
        tmp = dense = NULL;
        L->gemm_flops_fwd += 4.0 * (double)T * (double)B->w2 * (double)qw;
    } else {
        prof_attn_shape sh = {s->batch, s->seq, s->seq, s->heads, s->kv_heads, s->hd, B->causal};
        B->p = prof_alloc(M, FSZ(T * s->seq * s->heads), 0);
        if (!B->p)
            goto nomem;
        prof_attn_fwd(&sh, B->qkv, C, B->qkv + qw, B->qkv + qw + kvw, C, NULL, B->p, B->ao);
        L->gemm_flops_fwd += 4.0 * (double)T * (double)s->seq * (double)qw;
    }
    memcpy(B->x1, x, (size_t)FSZ(T * h));
    prof_lfwd(L, B->ao, T, qw, B->wo->data, B->bo ? B->bo->data : NULL, h, 1.0f, B->x1);
    const float *xm = B->x1;
    if (B->cross) {
        int64_t Te = s->batch * s->kv_seq;
        prof_attn_shape sh = {s->batch, s->seq, s->kv_seq, s->heads, s->kv_heads, s->hd, 0};
        B->mc = prof_alloc(M, FSZ(T), 0);
        B->rc = prof_alloc(M, FSZ(T), 0);
        B->nc = prof_alloc(M, FSZ(T * h), 0);
        B->qc = prof_alloc(M, FSZ(T * qw), 0);
        B->kvc = prof_alloc(M, FSZ(Te * 2 * kvw), 0);
        B->pc = prof_alloc(M, FSZ(T * s->kv_seq * s->heads), 0);
        B->aoc = prof_alloc(M, FSZ(T * qw), 0);
        B->x2 = prof_alloc(M, FSZ(T * h), 0);
        if (!B->mc || !B->rc || !B->nc || !B->qc || !B->kvc || !B->pc || !B->aoc || !B->x2)
            goto nomem;
        prof_norm_fwd(nk, B->x1, T, h, B->lncg->data, B->lncb ? B->lncb->data : NULL, B->nc, B->mc,
                      B->rc);
        prof_lfwd(L, B->nc, T, h, B->wqc->data, B->bqc ? B->bqc->data : NULL, qw, 0.0f, B->qc);
        prof_lfwd(L, L->inputs[1].data, Te, h, B->wkvc->data, B->bkvc ? B->bkvc->data : NULL,
                  2 * kvw, 0.0f, B->kvc);
        prof_attn_fwd(&sh, B->qc, qw, B->kvc, B->kvc + kvw, 2 * kvw, NULL, B->pc, B->aoc);
        L->gemm_flops_fwd += 4.0 * (double)T * (double)s->kv_seq * (double)qw;
        memcpy(B->x2, B->x1, (size_t)FSZ(T * h));
        prof_lfwd(L, B->aoc, T, qw, B->woc->data, B->boc ? B->boc->data : NULL, h, 1.0f, B->x2);
        xm = B->x2;
    }
    B->m2 = prof_alloc(M, FSZ(T), 0);
    B->r2 = prof_alloc(M, FSZ(T), 0);
    B->n2 = prof_alloc(M, FSZ(T * h), 0);
    L->out = prof_alloc(M, FSZ(T * h), 0);
    if (!B->m2 || !B->r2 || !B->n2 || !L->out)
        goto nomem;
    prof_norm_fwd(nk, xm, T, h, B->ln2g->data, B->ln2b ? B->ln2b->data : NULL, B->n2, B->m2, B->r2);
    memcpy(L->out, xm, (size_t)FSZ(T * h));
    return B->is_moe ? prof_moe_fwd(L, &B->moe, B->n2, T, L->out)
                     : prof_mlp_fwd(L, &B->mlp, B->n2, T, L->out);
nomem:
    prof_free(M, tmp);
    prof_free(M, dense);
    return uniap_err(UNIAP_ENOMEM, "profiler: %s block activations of %lld tokens",
                     uniap_layer_kind_name(L->spec.kind), (long long)T);
}

#define RELEASE(ptr)                                                                               \
    do {                                                                                           \
        prof_free(M, (ptr));                                                                       \
        (ptr) = NULL;                                                                              \
    } while (0)

static int block_backward(prof_cpu_layer *L)
{
    block *B = L->impl;
    const prof_shard *s = &L->sh;
    prof_mem *M = &L->mem;
    int64_t T = s->tokens, h = s->hidden, qw = (int64_t)s->heads * s->hd;
    int64_t kvw = (int64_t)s->kv_heads * s->hd, C = B->wqkv_cols;
    uniap_norm nk = L->spec.norm;
    const float *x = L->inputs[0].data;
    float *dxm = NULL, *dn = NULL, *dao = NULL, *dq = NULL, *dkv = NULL, *scr = NULL;
    float *tmp = NULL, *dense = NULL;
    int rc;

    /* MLP and its norm: dxm = dy + norm2'(mlp'(dy)) */
    dxm = prof_alloc(M, FSZ(T * h), 0);
    dn = prof_alloc(M, FSZ(T * h), 1);
    if (!dxm || !dn)
        goto nomem;
    rc = B->is_moe ? prof_moe_bwd(L, &B->moe, B->n2, L->dout, T, dn)
                   : prof_mlp_bwd(L, &B->mlp, B->n2, L->dout, T, dn);
    if (rc < 0)
        goto fail;
    RELEASE(L->out);
    RELEASE(B->n2);
    memcpy(dxm, L->dout, (size_t)FSZ(T * h));
    prof_norm_bwd(nk, B->cross ? B->x2 : B->x1, dn, T, h, B->ln2g->data, B->m2, B->r2, dxm,
                  B->ln2g->grad, B->ln2b ? B->ln2b->grad : NULL);
    RELEASE(B->m2);
    RELEASE(B->r2);
    RELEASE(dn);
    if (B->cross) {
        int64_t Te = s->batch * s->kv_seq;
        prof_attn_shape sh = {s->batch, s->seq, s->kv_seq, s->heads, s->kv_heads, s->hd, 0};
        RELEASE(B->x2);
        dao = prof_alloc(M, FSZ(T * qw), 0);
        dq = prof_alloc(M, FSZ(T * qw), 0);
        dkv = prof_alloc(M, FSZ(Te * 2 * kvw), 1);
        scr = prof_alloc(M, FSZ(s->seq * s->kv_seq), 0);
        dn = prof_alloc(M, FSZ(T * h), 1);
        if (!dao || !dq || !dkv || !scr || !dn)
            goto nomem;
        prof_lbwd(L, B->aoc, dxm, T, qw, h, B->woc->data, 0.0f, dao, B->woc->grad,
                  B->boc ? B->boc->grad : NULL);
        RELEASE(B->aoc);
        prof_attn_bwd(&sh, B->qc, qw, B->kvc, B->kvc + kvw, 2 * kvw, B->pc, dao, dq, dkv, dkv + kvw,
                      NULL, scr);
        L->gemm_flops_bwd += 8.0 * (double)T * (double)s->kv_seq * (double)qw;
        RELEASE(B->pc);
        RELEASE(scr);
        RELEASE(dao);
        prof_lbwd(L, B->nc, dq, T, h, qw, B->wqc->data, 0.0f, dn, B->wqc->grad,
                  B->bqc ? B->bqc->grad : NULL);
        RELEASE(B->qc);
        RELEASE(dq);
        prof_lbwd(L, L->inputs[1].data, dkv, Te, h, 2 * kvw, B->wkvc->data, 1.0f, L->inputs[1].grad,
                  B->wkvc->grad, B->bkvc ? B->bkvc->grad : NULL);
        RELEASE(B->kvc);
        RELEASE(dkv);
        RELEASE(B->nc);
        prof_norm_bwd(nk, B->x1, dn, T, h, B->lncg->data, B->mc, B->rc, dxm, B->lncg->grad,
                      B->lncb ? B->lncb->grad : NULL);
        RELEASE(B->mc);
        RELEASE(B->rc);
        RELEASE(dn);
    }
    RELEASE(B->x1);
    /* self attention */
    dao = prof_alloc(M, FSZ(T * qw), 0);
    dq = prof_alloc(M, FSZ(T * C), 1); /* dqkv, laid out like qkv */
    if (!dao || !dq)
        goto nomem;
    prof_lbwd(L, B->ao, dxm, T, qw, h, B->wo->data, 0.0f, dao, B->wo->grad,
              B->bo ? B->bo->grad : NULL);
    RELEASE(B->ao);
    if (B->w2) {
        prof_attn_shape sh = {T / B->w2, B->w2, B->w2, s->heads, s->kv_heads, s->hd, 0};
        int64_t ww = B->w2 * B->w2;
        tmp = prof_alloc(M, FSZ(T * (C > qw ? C : qw)), 0);
        scr = prof_alloc(M, FSZ(ww), 0);
        if (B->relb)
            dense = prof_alloc(M, FSZ(ww * s->heads), 1);
        if (!tmp || !scr || (B->relb && !dense))
            goto nomem;
        permute_rows(B, dao, tmp, T, qw, 1);
        prof_attn_bwd(&sh, B->qkv, C, B->qkv + qw, B->qkv + qw + kvw, C, B->p, tmp, dq, dq + qw,
                      dq + qw + kvw, dense, scr);
        permute_rows(B, dq, tmp, T, C, 0);
        memcpy(dq, tmp, (size_t)FSZ(T * C));
        if (dense)
            for (int hh = 0; hh < s->heads; hh++)
                for (int64_t e = 0; e < ww; e++)
                    B->relb->grad[B->relidx[e] * s->heads + hh] += dense[hh * ww + e];
        RELEASE(tmp);
        RELEASE(dense);
        L->gemm_flops_bwd += 8.0 * (double)T * (double)B->w2 * (double)qw;
    } else {
        prof_attn_shape sh = {s->batch, s->seq, s->seq, s->heads, s->kv_heads, s->hd, B->causal};
        scr = prof_alloc(M, FSZ(s->seq * s->seq), 0);
        if (!scr)
            goto nomem;
        prof_attn_bwd(&sh, B->qkv, C, B->qkv + qw, B->qkv + qw + kvw, C, B->p, dao, dq, dq + qw,
                      dq + qw + kvw, NULL, scr);
        L->gemm_flops_bwd += 8.0 * (double)T * (double)s->seq * (double)qw;
    }
    RELEASE(scr);
    RELEASE(B->p);
    RELEASE(dao);
    RELEASE(B->qkv);
    if (B->rotary)
        prof_rotary(dq, C, s->batch, s->seq, s->heads + s->kv_heads, s->hd, 1);
    dn = prof_alloc(M, FSZ(T * h), 0);
    if (!dn)
        goto nomem;
    prof_lbwd(L, B->n1, dq, T, h, C, B->wqkv->data, 0.0f, dn, B->wqkv->grad,
              B->bqkv ? B->bqkv->grad : NULL);
    RELEASE(dq);
    RELEASE(B->n1);
    float *dx = L->inputs[0].grad;
    memcpy(dx, dxm, (size_t)FSZ(T * h));
    prof_norm_bwd(nk, x, dn, T, h, B->ln1g->data, B->m1, B->r1, dx, B->ln1g->grad,
                  B->ln1b ? B->ln1b->grad : NULL);
    RELEASE(B->m1);
    RELEASE(B->r1);
    RELEASE(dn);
    RELEASE(dxm);
    return 0;
nomem:
    rc = uniap_err(UNIAP_ENOMEM, "profiler: %s block gradients of %lld tokens",
                   uniap_layer_kind_name(L->spec.kind), (long long)T);
fail:
    prof_free(M, dxm);
    prof_free(M, dn);
    prof_free(M, dao);
    prof_free(M, dq);
    prof_free(M, dkv);
    prof_free(M, scr);
    prof_free(M, tmp);
    prof_free(M, dense);
    return rc;
}

static void block_release(prof_cpu_layer *L)
{
    block *B = L->impl;
    if (!B)
        return;
    prof_mem *M = &L->mem;
    float **kept[] = {&B->m1, &B->r1, &B->n1, &B->qkv, &B->p,     &B->ao,   &B->x1,
                      &B->mc, &B->rc, &B->nc, &B->qc,  &B->kvc,   &B->pc,   &B->aoc,
                      &B->x2, &B->m2, &B->r2, &B->n2,  &B->mlp.a, &B->mlp.g};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        RELEASE(*kept[i]);
    if (B->is_moe)
        prof_moe_free(L, &B->moe);
    free(B->perm);
    free(B->relidx);
    free(B);
    L->impl = NULL;
}

/* The five attention blocks share the kernels; the kind picks the mask,
 * the cross-attention, the windows and the mixture of experts. */
#define BLOCK_OPS                                                                                  \
    .setup = block_setup, .forward = block_forward, .backward = block_backward,                    \
    .release = block_release, .attention = 1
const prof_layer_kind uniap__cpu_encoder = {BLOCK_OPS};
const prof_layer_kind uniap__cpu_decoder = {BLOCK_OPS, .causal = 1};
const prof_layer_kind uniap__cpu_cross_decoder = {BLOCK_OPS, .causal = 1, .cross = 1};
const prof_layer_kind uniap__cpu_swin = {BLOCK_OPS, .windowed = 1};
const prof_layer_kind uniap__cpu_moe = {BLOCK_OPS, .causal = 1, .moe = prof_moe_cfg_of};
#undef BLOCK_OPS
