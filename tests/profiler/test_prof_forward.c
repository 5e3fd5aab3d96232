/*
 * test_prof_forward.c - every CPU layer kernel's forward against a naive
 * reference written here with plain loops in double (no BLAS, no shared
 * code with the kernels), reading the same parameters by name; and the
 * activation accounting of an encoder block against a hand count of what
 * its backward needs.
 */
#include <stdlib.h>

#include "check.h"
#include "cpu_kernels.h"
#include "cpu_measure.h"
#include "prof_test_layers.h"

typedef struct mat {
    int64_t r, c;
    double *a;
} mat;

static mat mk(int64_t r, int64_t c)
{
    mat m = {r, c, calloc((size_t)(r * c), sizeof(double))};
    return m;
}
#define AT(m, i, j) ((m).a[(i) * (m).c + (j)])

static const float *P(prof_cpu_layer *L, const char *name)
{
    prof_tensor *t = prof_cpu_layer_tensor(L, name);
    return t ? t->data : NULL;
}

static mat from_f(const float *x, int64_t r, int64_t c)
{
    mat m = mk(r, c);
    for (int64_t i = 0; i < r * c; i++)
        m.a[i] = x[i];
    return m;
}

/* y = x w + b, w [in, out] */
static mat linear(mat x, const float *w, const float *b, int64_t out)
{
    mat y = mk(x.r, out);
    for (int64_t i = 0; i < x.r; i++)
        for (int64_t j = 0; j < out; j++) {
            double s = b ? b[j] : 0.0;
            for (int64_t k = 0; k < x.c; k++)
                s += AT(x, i, k) * w[k * out + j];
            AT(y, i, j) = s;
        }
    return y;
}

static mat norm(mat x, uniap_norm kind, const float *g, const float *b)
{
    mat y = mk(x.r, x.c);
    for (int64_t i = 0; i < x.r; i++) {
        double mu = 0.0, var = 0.0;
        if (kind == UNIAP_NORM_LAYERNORM) {
            for (int64_t j = 0; j < x.c; j++)
                mu += AT(x, i, j) / (double)x.c;
        }
        for (int64_t j = 0; j < x.c; j++)
            var += (AT(x, i, j) - mu) * (AT(x, i, j) - mu) / (double)x.c;
        for (int64_t j = 0; j < x.c; j++)
            AT(y, i, j) = (AT(x, i, j) - mu) / sqrt(var + 1e-5) * g[j] + (b ? b[j] : 0.0);
    }
    return y;
}

static void add_to(mat *y, mat x)
{
    for (int64_t i = 0; i < y->r * y->c; i++)
        y->a[i] += x.a[i];
}

/* rotate pairs (i, i + hd/2) of heads [0, nheads) of token rows at their
 * position t % seq by angle t * 10000^(-2i/hd) */
static void rotary(mat *x, int64_t seq, int nheads, int64_t hd)
{
    for (int64_t r = 0; r < x->r; r++)
        for (int hh = 0; hh < nheads; hh++)
            for (int64_t i = 0; i < hd / 2; i++) {
                double th = (double)(r % seq) * pow(10000.0, -2.0 * (double)i / (double)hd);
                double *a = &AT(*x, r, hh * hd + i), *b = &AT(*x, r, hh * hd + i + hd / 2);
                double x1 = *a, x2 = *b;
                *a = x1 * cos(th) - x2 * sin(th);
                *b = x2 * cos(th) + x1 * sin(th);
            }
}

/* Attention of query row i (sample bi) over key rows j with group(i) ==
 * group(j): groups are samples, or windows for swin (winof). */
typedef struct attn_ref {
    int heads, kv_heads;
    int64_t hd;
    int causal;
    const int64_t *gq, *gk; /* group of each query row / key row */
    const int64_t *pq, *pk; /* position in the group (causal order) */
    const float *relb;      /* swin: table [(2w-1)^2][heads] */
    const int64_t *rq, *cq; /* swin: grid row, column of each token */
    int64_t win;
} attn_ref;

static mat attention(const attn_ref *a, mat q, int64_t qoff, mat kv, int64_t koff, int64_t voff)
{
    mat o = mk(q.r, (int64_t)a->heads * a->hd);
    /* kv.r >= 1 always; the bound tells GCC the size is in range */
    size_t nkv = kv.r > 0 && kv.r < (int64_t)1 << 40 ? (size_t)kv.r : 1;
    double *s = calloc(nkv, sizeof(double));
    for (int hh = 0; hh < a->heads; hh++) {
        int g = hh / (a->heads / a->kv_heads);
        for (int64_t i = 0; i < q.r; i++) {
            double mx = -1e300, sum = 0.0;
            for (int64_t j = 0; j < kv.r; j++) {
                s[j] = -1e300;
                if (a->gq[i] != a->gk[j] || (a->causal && a->pk[j] > a->pq[i]))
                    continue;
                double d = 0.0;
                for (int64_t e = 0; e < a->hd; e++)
                    d += AT(q, i, qoff + hh * a->hd + e) * AT(kv, j, koff + g * a->hd + e);
                d /= sqrt((double)a->hd);
                if (a->relb) {
                    int64_t dy = a->rq[i] - a->rq[j] + a->win - 1;
                    int64_t dx = a->cq[i] - a->cq[j] + a->win - 1;
                    d += a->relb[(dy * (2 * a->win - 1) + dx) * a->heads + hh];
                }
                s[j] = d;
                mx = d > mx ? d : mx;
            }
            for (int64_t j = 0; j < kv.r; j++)
                if (s[j] > -1e299)
                    sum += exp(s[j] - mx);
            for (int64_t j = 0; j < kv.r; j++) {
                if (s[j] < -1e299)
                    continue;
                double p = exp(s[j] - mx) / sum;
                for (int64_t e = 0; e < a->hd; e++)
                    AT(o, i, hh * a->hd + e) += p * AT(kv, j, voff + g * a->hd + e);
            }
        }
    }
    free(s);
    return o;
}

static double act(uniap_activation k, double x)
{
    if (k == UNIAP_ACT_RELU)
        return x > 0 ? x : 0;
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

/* The MLP of width f on the rows of x: act(x w1 + b1) w2 + b2; SwiGLU:
 * w1 [h, 2f] holds the gate then the up columns. */
static mat mlp_ref(uniap_activation k, mat x, const float *w1, const float *b1, const float *w2,
                   const float *b2, int64_t f)
{
    mat a = linear(x, w1, b1, k == UNIAP_ACT_SWIGLU ? 2 * f : f);
    mat g = mk(x.r, f);
    for (int64_t t = 0; t < x.r; t++)
        for (int64_t j = 0; j < f; j++) {
            double z = AT(a, t, j);
            AT(g, t, j) = k == UNIAP_ACT_SWIGLU ? z / (1.0 + exp(-z)) * AT(a, t, f + j) : act(k, z);
        }
    mat y = linear(g, w2, b2, x.c);
    free(a.a), free(g.a);
    return y;
}

/* The mixture of experts on the rows of x, token by token: softmax of the
 * router's logits, the top_k largest (first index on ties), gates
 * p_j / sum of the chosen p, each chosen expert's MLP (the experts'
 * weights stacked) unless the expert already took its capacity
 * ceil(cf T k / E) of earlier (token, choice) pairs, plus every shared
 * expert (stacked like the routed ones). */
static mat moe_ref(prof_cpu_layer *L, mat x)
{
    const uniap_layer *l = &L->spec;
    int E = l->experts, k = l->top_k;
    int64_t h = x.c, f = L->sh.ffn, wa = l->activation == UNIAP_ACT_SWIGLU ? 2 * f : f;
    int64_t cap = l->capacity_factor > 0 ? (int64_t)ceil(l->capacity_factor * (double)(x.r * k) / E)
                                         : x.r * k;
    const float *w1 = P(L, "moe.w1"), *b1 = P(L, "moe.b1"), *w2 = P(L, "moe.w2"),
                *b2 = P(L, "moe.b2");
    mat z = linear(x, P(L, "moe.router"), NULL, E);
    mat y = mk(x.r, h);
    int64_t *taken = calloc((size_t)E, sizeof(int64_t));
    for (int64_t t = 0; t < x.r; t++) {
        double p[64], chosen = 0.0, mx = -1e300, sum = 0.0;
        int sel[64], used[64] = {0};
        for (int e = 0; e < E; e++)
            mx = AT(z, t, e) > mx ? AT(z, t, e) : mx;
        for (int e = 0; e < E; e++)
            sum += (p[e] = exp(AT(z, t, e) - mx));
        for (int j = 0; j < k; j++) {
            sel[j] = -1;
            for (int e = 0; e < E; e++)
                if (!used[e] && (sel[j] < 0 || p[e] > p[sel[j]]))
                    sel[j] = e;
            used[sel[j]] = 1;
            chosen += p[sel[j]] / sum;
        }
        mat row = {1, h, &AT(x, t, 0)};
        for (int j = 0; j < k; j++) {
            int e = sel[j];
            if (taken[e]++ >= cap)
                continue; /* dropped */
            mat ye = mlp_ref(l->activation, row, w1 + e * h * wa, b1 ? b1 + e * wa : NULL,
                             w2 + e * f * h, b2 ? b2 + e * h : NULL, f);
            for (int64_t c = 0; c < h; c++)
                AT(y, t, c) += p[e] / sum / chosen * ye.a[c];
            free(ye.a);
        }
    }
    const float *s1 = P(L, "moe.shared.w1"), *sb1 = P(L, "moe.shared.b1"),
                *s2 = P(L, "moe.shared.w2"), *sb2 = P(L, "moe.shared.b2");
    for (int e = 0; e < l->shared_experts; e++) {
        mat ys = mlp_ref(l->activation, x, s1 + e * h * wa, sb1 ? sb1 + e * wa : NULL,
                         s2 + e * f * h, sb2 ? sb2 + e * h : NULL, f);
        add_to(&y, ys);
        free(ys.a);
    }
    free(taken), free(z.a);
    return y;
}

static mat block_ref(prof_cpu_layer *L)
{
    const prof_shard *s = &L->sh;
    const uniap_layer *l = &L->spec;
    int64_t T = s->tokens, h = s->hidden, qw = s->heads * s->hd, kvw = s->kv_heads * s->hd;
    int64_t *gq = malloc(sizeof(int64_t) * (size_t)T), *pq = malloc(sizeof(int64_t) * (size_t)T);
    int64_t *rq = malloc(sizeof(int64_t) * (size_t)T), *cq = malloc(sizeof(int64_t) * (size_t)T);
    attn_ref ar = {s->heads,
                   s->kv_heads,
                   s->hd,
                   l->kind == UNIAP_LAYER_DECODER || l->kind == UNIAP_LAYER_CROSS_DECODER ||
                       l->kind == UNIAP_LAYER_MOE,
                   gq,
                   gq,
                   pq,
                   pq,
                   NULL,
                   rq,
                   cq,
                   0};
    for (int64_t t = 0; t < T; t++) {
        gq[t] = t / s->seq;
        pq[t] = t % s->seq;
    }
    if (l->kind == UNIAP_LAYER_SWIN) {
        int64_t side = (int64_t)llround(sqrt((double)s->seq)), w = l->window;
        for (int64_t t = 0; t < T; t++) {
            rq[t] = (t % s->seq) / side;
            cq[t] = (t % s->seq) % side;
            gq[t] = (t / s->seq) * 1000 + (rq[t] / w) * 100 + cq[t] / w;
        }
        ar.relb = P(L, "attn.relb");
        ar.win = w;
    }
    mat x = from_f(L->inputs[0].data, T, h);
    mat n1 = norm(x, l->norm, P(L, "ln1.g"), P(L, "ln1.b"));
    mat qkv = linear(n1, P(L, "attn.wqkv"), P(L, "attn.bqkv"), qw + 2 * kvw);
    if (l->position == UNIAP_POS_ROTARY)
        rotary(&qkv, s->seq, s->heads + s->kv_heads, s->hd);
    mat ao = attention(&ar, qkv, 0, qkv, qw, qw + kvw);
    mat y = linear(ao, P(L, "attn.wo"), P(L, "attn.bo"), h);
    add_to(&y, x);
    if (l->kind == UNIAP_LAYER_CROSS_DECODER) {
        int64_t Te = s->batch * s->kv_seq;
        int64_t *gk = malloc(sizeof(int64_t) * (size_t)Te);
        for (int64_t t = 0; t < Te; t++)
            gk[t] = t / s->kv_seq;
        attn_ref xr = {s->heads, s->kv_heads, s->hd, 0, gq, gk, pq, pq, NULL, NULL, NULL, 0};
        mat enc = from_f(L->inputs[1].data, Te, h);
        mat nc = norm(y, l->norm, P(L, "xattn.ln.g"), P(L, "xattn.ln.b"));
        mat qc = linear(nc, P(L, "xattn.wq"), P(L, "xattn.bq"), qw);
        mat kvc = linear(enc, P(L, "xattn.wkv"), P(L, "xattn.bkv"), 2 * kvw);
        mat aoc = attention(&xr, qc, 0, kvc, 0, kvw);
        mat y2 = linear(aoc, P(L, "xattn.wo"), P(L, "xattn.bo"), h);
        add_to(&y, y2);
        free(gk), free(enc.a), free(nc.a), free(qc.a), free(kvc.a), free(aoc.a), free(y2.a);
    }
    mat n2 = norm(y, l->norm, P(L, "ln2.g"), P(L, "ln2.b"));
    mat m = l->kind == UNIAP_LAYER_MOE ? moe_ref(L, n2)
                                       : mlp_ref(l->activation, n2, P(L, "mlp.w1"), P(L, "mlp.b1"),
                                                 P(L, "mlp.w2"), P(L, "mlp.b2"), s->ffn);
    add_to(&y, m);
    free(gq), free(pq), free(rq), free(cq), free(x.a), free(n1.a), free(qkv.a), free(ao.a);
    free(n2.a), free(m.a);
    return y;
}

static mat layer_ref(prof_cpu_layer *L)
{
    const prof_shard *s = &L->sh;
    const uniap_layer *l = &L->spec;
    int64_t h = s->hidden;
    switch (l->kind) {
    case UNIAP_LAYER_EMBEDDING: {
        mat y = mk(s->tokens, h);
        const float *tab = P(L, "emb.table"), *pos = P(L, "emb.pos");
        for (int64_t t = 0; t < s->tokens; t++)
            for (int64_t j = 0; j < h; j++)
                AT(y, t, j) = (L->ids[t] < s->vocab ? tab[L->ids[t] * h + j] : 0.0) +
                              (pos ? pos[(t % s->seq) * h + j] : 0.0);
        return y;
    }
    case UNIAP_LAYER_PATCH_EMBED: {
        int64_t p = l->patch, grid = l->image / p, C = l->channels, K = C * p * p;
        mat cols = mk(s->batch * grid * grid, K);
        const float *img = L->inputs[0].data;
        for (int64_t r = 0; r < cols.r; r++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t i = 0; i < p; i++)
                    for (int64_t j = 0; j < p; j++) {
                        int64_t bb = r / (grid * grid), gr = (r % (grid * grid)) / grid,
                                gc = r % grid;
                        AT(cols, r, (c * p + i) * p + j) =
                            img[((bb * C + c) * l->image + gr * p + i) * l->image + gc * p + j];
                    }
        mat y = linear(cols, P(L, "patch.w"), P(L, "patch.b"), h);
        const float *pos = P(L, "patch.pos");
        for (int64_t r = 0; pos && r < y.r; r++)
            for (int64_t j = 0; j < h; j++)
                AT(y, r, j) += pos[(r % (grid * grid)) * h + j];
        free(cols.a);
        return y;
    }
    case UNIAP_LAYER_PATCH_MERGE: {
        int64_t side = (int64_t)llround(sqrt((double)s->seq)), half = side / 2;
        mat cat = mk(s->batch * half * half, 4 * h);
        for (int64_t r = 0; r < cat.r; r++)
            for (int q = 0; q < 4; q++)
                for (int64_t j = 0; j < h; j++) {
                    int64_t bb = r / (half * half), i = (r % (half * half)) / half, jj = r % half;
                    int64_t src = bb * s->seq + (2 * i + (q & 1)) * side + 2 * jj + (q >> 1);
                    AT(cat, r, q * h + j) = L->inputs[0].data[src * h + j];
                }
        mat n = norm(cat, l->norm, P(L, "merge.ln.g"), P(L, "merge.ln.b"));
        mat y = linear(n, P(L, "merge.w"), P(L, "merge.b"), l->out_hidden);
        free(cat.a), free(n.a);
        return y;
    }
    case UNIAP_LAYER_HEAD: {
        mat x = from_f(L->inputs[0].data, s->tokens, h);
        mat n = norm(x, l->norm, P(L, "head.ln.g"), P(L, "head.ln.b"));
        mat z = linear(n, P(L, "head.w"), P(L, "head.b"), s->vocab);
        mat y = mk(1, 1);
        for (int64_t t = 0; t < z.r; t++) {
            double mx = -1e300, sum = 0.0;
            for (int64_t j = 0; j < z.c; j++)
                mx = AT(z, t, j) > mx ? AT(z, t, j) : mx;
            for (int64_t j = 0; j < z.c; j++)
                sum += exp(AT(z, t, j) - mx);
            y.a[0] += (log(sum) + mx - AT(z, t, L->ids[t])) / (double)z.r;
        }
        free(x.a), free(n.a), free(z.a);
        return y;
    }
    default:
        return block_ref(L);
    }
}

int main(void)
{
    test_layer tl[32];
    int n = test_layers(tl);
    for (int c = 0; c < n; c++) {
        prof_cpu_layer *L;
        int rc = prof_cpu_layer_create(&tl[c].l, 0, tl[c].tp, tl[c].batch, 200 + c, &L);
        CHECK_EQ(rc, 0);
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", tl[c].name, uniap_errmsg());
            continue;
        }
        CHECK_EQ(prof_cpu_layer_forward(L), 0);
        mat ref = layer_ref(L);
        CHECK_EQ(ref.r * ref.c, L->n_out);
        double worst = 0.0;
        for (int64_t i = 0; i < L->n_out && i < ref.r * ref.c; i++) {
            double e = fabs(L->out[i] - ref.a[i]) / (1.0 + fabs(ref.a[i]));
            worst = e > worst ? e : worst;
            CHECK_NEAR(L->out[i], ref.a[i], 1e-4, 1e-4);
        }
        fprintf(stderr, "%s: %lld outputs, worst error %.2g\n", tl[c].name, (long long)L->n_out,
                worst);
        CHECK_EQ(prof_cpu_layer_backward(L), 0);
        free(ref.a);
        prof_cpu_layer_destroy(L);
    }

    /* Every kind's timed passes leave the tracked memory where they found
     * it (the always-on invariant in prof_cpu_layer_measure) and report
     * its activations. */
    for (int c = 0; c < n; c++) {
        prof_cpu_layer *L;
        double fwd[2], bwd[2];
        prof_layer_memory mem = {0};
        if (prof_cpu_layer_create(&tl[c].l, 0, tl[c].tp, tl[c].batch, 300 + c, &L) < 0)
            continue; /* reported above */
        int rc = prof_cpu_layer_measure(L, 1, 2, fwd, bwd, NULL, &mem);
        CHECK_EQ(rc, 0);
        if (rc < 0)
            fprintf(stderr, "%s: measure: %s\n", tl[c].name, uniap_errmsg());
        CHECK(mem.param_count > 0 || tl[c].l.tied);
        prof_cpu_layer_destroy(L);
    }

    /* Activation accounting, encoder block (fp32): what backward reads.
     * x, n1, x1, n2: T h each; norm stats: 4 T; qkv: 3 T qw; probabilities:
     * b a s^2; attention output: T qw; MLP pre-activation and output: 2 T f. */
    int64_t act1 = 0;
    for (int b = 1; b <= 2; b++) {
        uniap_layer l = tl[0].l;
        prof_cpu_layer *L;
        CHECK_EQ(prof_cpu_layer_create(&l, 0, 1, b, 1, &L), 0);
        double fwd[2], bwd[2], wgrad[2];
        prof_layer_memory mem;
        CHECK_EQ(prof_cpu_layer_measure(L, 1, 2, fwd, bwd, wgrad, &mem), 0);
        int64_t T = b * l.seq, h = l.hidden, qw = h, f = l.ffn, a = l.heads;
        /* W, the weight-gradient part of backward (ZB-H1's split): the dW
         * GEMMs of the four Linears, h x 3qw, qw x h, h x f, f x h, each
         * 2 T in out FLOPs in the last timed pass; a part of that pass's
         * backward, so 0 < W <= B + W. */
        CHECK_EQ(prof_wgrad_clock_read().flops,
                 2.0 * (double)T * (double)(h * 3 * qw + qw * h + h * f + f * h));
        for (int i = 0; i < 2; i++)
            CHECK(wgrad[i] > 0 && wgrad[i] <= bwd[i]);
        int64_t hand =
            4 * (4 * T * h + 4 * T + 3 * T * qw + b * a * l.seq * l.seq + T * qw + 2 * T * f);
        CHECK_EQ(mem.act_bytes, hand);
        int64_t params = 2 * h + 3 * h * h + 3 * h + h * h + h + 2 * h + 2 * h * f + f + h;
        CHECK_EQ(mem.param_count, params);
        CHECK(mem.peak_bytes > 0);
        CHECK(fwd[0] > 0 && bwd[0] > 0);
        if (b == 1)
            act1 = mem.act_bytes;
        else
            CHECK_EQ(mem.act_bytes, 2 * act1);
        prof_cpu_layer_destroy(L);
    }

    /* Activation accounting, moe block (the "moe" test layer, fp32, no
     * token dropped): x, n1, x1, n2: T h each; norm stats 4 T; qkv
     * T (qw + 2 kvw); probabilities b a s^2; attention output T qw; the
     * router's gates, experts, rows and tokens of the T k (token, choice)
     * pairs: 4 T k; the gathered inputs and the experts' outputs 2 T k h;
     * each row's expert pre-activation (SwiGLU: 2f) and output f:
     * T k 3 f. Parameters: io's count (uniap_layer_params). */
    for (int c = 0; c < n; c++) {
        if (strcmp(tl[c].name, "moe") != 0)
            continue;
        const uniap_layer *l = &tl[c].l;
        for (int b = 1; b <= 2; b++) {
            prof_cpu_layer *L;
            CHECK_EQ(prof_cpu_layer_create(l, 0, 1, b, 1, &L), 0);
            double fwd[2], bwd[2];
            prof_layer_memory mem;
            CHECK_EQ(prof_cpu_layer_measure(L, 1, 2, fwd, bwd, NULL, &mem), 0);
            int64_t T = b * l->seq, h = l->hidden, hd = h / l->heads, qw = l->heads * hd;
            int64_t kvw = l->kv_heads * hd, f = l->ffn, k = l->top_k;
            int64_t hand =
                4 * (4 * T * h + 4 * T + T * (qw + 2 * kvw) + b * l->heads * l->seq * l->seq +
                     T * qw + 4 * T * k + 2 * T * k * h + T * k * 3 * f);
            CHECK_EQ(mem.act_bytes, hand);
            uniap_layer lp = *l;
            lp.head_dim = hd; /* as the JSON reader resolves it */
            CHECK_EQ(mem.param_count, uniap_layer_params(&lp));
            CHECK(fwd[0] > 0 && bwd[0] > 0);
            prof_cpu_layer_destroy(L);
        }
    }
    return check_report();
}
