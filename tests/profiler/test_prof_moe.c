/*
 * test_prof_moe.c - the CPU mixture-of-experts MLP (cpu_moe.c) on its own,
 * as a layer kind registered here whose output is moe(x): a 1-token
 * 2-expert case worked by hand (top-1 and top-2, the router's gradient
 * too), top_k = E with equal router weights against the average of the
 * experts computed with plain loops, ties going to the lower expert,
 * capacity-factor dropping in token order, and every tensor's gradient
 * against finite differences (prof_test_grad.h).
 */
#include "check.h"
#include "cpu_kernels.h"
#include "prof_test_grad.h"

#define TEST_KIND ((uniap_layer_kind)(UNIAP_LAYER_KIND_MAX - 1))

typedef struct moe_layer {
    prof_moe m;
} moe_layer;

static prof_moe_cfg g_cfg; /* the configuration the next layer is created with */

static int ml_setup(prof_cpu_layer *L)
{
    moe_layer *S = calloc(1, sizeof(*S));
    if (!S)
        return UNIAP_ENOMEM;
    L->impl = S;
    int rc = prof_moe_setup(L, &S->m, &g_cfg, L->sh.hidden, L->spec.ffn);
    if (rc < 0)
        return rc;
    L->n_out = L->sh.tokens * L->sh.hidden;
    return prof_layer_input(L, "x", L->n_out);
}

static int ml_forward(prof_cpu_layer *L)
{
    moe_layer *S = L->impl;
    L->out = prof_alloc(&L->mem, L->n_out * (int64_t)sizeof(float), 1);
    if (!L->out)
        return UNIAP_ENOMEM;
    return prof_moe_fwd(L, &S->m, L->inputs[0].data, L->sh.tokens, L->out);
}

static int ml_backward(prof_cpu_layer *L)
{
    moe_layer *S = L->impl;
    memset(L->inputs[0].grad, 0, sizeof(float) * (size_t)L->n_out);
    int rc = prof_moe_bwd(L, &S->m, L->inputs[0].data, L->dout, L->sh.tokens, L->inputs[0].grad);
    prof_free(&L->mem, L->out);
    L->out = NULL;
    return rc;
}

static void ml_release(prof_cpu_layer *L)
{
    moe_layer *S = L->impl;
    if (S)
        prof_moe_free(L, &S->m);
    free(S);
}

static const prof_layer_kind moe_mlp_kind = {
    .setup = ml_setup, .forward = ml_forward, .backward = ml_backward, .release = ml_release};

static prof_cpu_layer *make(int64_t h, int64_t f, uniap_activation act, int bias, int64_t T, int E,
                            int k, int shared, double cf)
{
    uniap_layer l;
    memset(&l, 0, sizeof(l));
    l.kind = TEST_KIND, l.count = 1, l.hidden = h, l.ffn = f, l.activation = act, l.bias = bias;
    l.seq = T;
    g_cfg = (prof_moe_cfg){E, k, shared, cf};
    prof_cpu_layer *L = NULL;
    int rc = prof_cpu_layer_create(&l, 0, 1, 1, 11, &L);
    CHECK_EQ(rc, 0);
    if (rc < 0)
        fprintf(stderr, "create: %s\n", uniap_errmsg());
    return L;
}

static void set(prof_cpu_layer *L, const char *name, const float *v)
{
    prof_tensor *t = prof_cpu_layer_tensor(L, name);
    CHECK(t != NULL);
    memcpy(t->data, v, sizeof(float) * (size_t)t->n);
}

/* h = 2, ffn 1, ReLU, no bias, E = 2, one token x = (1, 2).
 * Router Wr = I: logits (1, 2), p = (1/(1+e), e/(1+e)) = (0.268941, 0.731059).
 * Expert 0: w1 = (1, 0)^T, a = 1, w2 = (1, 1): y0 = (1, 1).
 * Expert 1: w1 = (1, 1)^T, a = 3, w2 = (2, -1): y1 = (6, -3).
 * top-1: expert 1, gate renormalized to 1: y = (6, -3).
 * top-2: y = 0.268941 (1, 1) + 0.731059 (6, -3) = (4.655293, -1.924235).
 * With dout = (1, 0): dgate = (1, 6), sum g dgate = 4.655293,
 * dz = (0.268941 (1 - 4.655293), 0.731059 (6 - 4.655293)) = (-0.983053, 0.983053),
 * dWr = x^T dz = [[-0.983053, 0.983053], [-1.966105, 1.966105]]. */
static void test_hand(void)
{
    const float wr[4] = {1, 0, 0, 1}, w1[2 * 2] = {1, 0, 1, 1}, w2[2 * 2] = {1, 1, 2, -1};
    const float x[2] = {1, 2}, dout[2] = {1, 0};
    for (int k = 1; k <= 2; k++) {
        prof_cpu_layer *L = make(2, 1, UNIAP_ACT_RELU, 0, 1, 2, k, 0, 0.0);
        if (!L)
            return;
        set(L, "moe.router", wr);
        set(L, "moe.w1", w1); /* stacked [E][h, f]: expert 0 (1, 0), expert 1 (1, 1) */
        set(L, "moe.w2", w2); /* stacked [E][f, h] */
        set(L, "x", x);
        memcpy(L->dout, dout, sizeof(dout));
        prof_cpu_layer_zero_grads(L);
        CHECK_EQ(prof_cpu_layer_forward(L), 0);
        if (k == 1) {
            CHECK_NEAR(L->out[0], 6.0, 1e-6, 1e-6);
            CHECK_NEAR(L->out[1], -3.0, 1e-6, 1e-6);
        } else {
            CHECK_NEAR(L->out[0], 4.655293, 1e-5, 1e-5);
            CHECK_NEAR(L->out[1], -1.924235, 1e-5, 1e-5);
        }
        CHECK_EQ(prof_cpu_layer_backward(L), 0);
        const float *g = prof_cpu_layer_tensor(L, "moe.router")->grad;
        if (k == 1) { /* one chosen expert: its gate is 1 whatever the logits */
            for (int i = 0; i < 4; i++)
                CHECK_NEAR(g[i], 0.0, 1e-7, 1e-7);
        } else {
            CHECK_NEAR(g[0], -0.983053, 1e-5, 1e-5);
            CHECK_NEAR(g[1], 0.983053, 1e-5, 1e-5);
            CHECK_NEAR(g[2], -1.966105, 1e-5, 1e-5);
            CHECK_NEAR(g[3], 1.966105, 1e-5, 1e-5);
        }
        prof_cpu_layer_destroy(L);
    }
}

/* Expert e's SwiGLU MLP on row x in double: w1 [h, 2f] (gate | up), w2 [f, h]. */
static void expert_ref(const float *w1, const float *w2, const float *x, int64_t h, int64_t f,
                       double *y)
{
    for (int64_t c = 0; c < h; c++)
        y[c] = 0.0;
    for (int64_t j = 0; j < f; j++) {
        double z = 0.0, u = 0.0;
        for (int64_t i = 0; i < h; i++) {
            z += (double)x[i] * w1[i * 2 * f + j];
            u += (double)x[i] * w1[i * 2 * f + f + j];
        }
        double a = z / (1.0 + exp(-z)) * u;
        for (int64_t c = 0; c < h; c++)
            y[c] += a * w2[j * h + c];
    }
}

/* top_k = E with a zero router: every gate 1/E, so moe(x) is the mean of
 * the E experts (plain loops here); top_k = 1 with a zero router: every
 * token ties, and goes to expert 0. */
static void test_average_and_ties(void)
{
    const int64_t h = 6, f = 4, T = 5;
    const int E = 3;
    for (int k = E; k >= 1; k -= E - 1) {
        prof_cpu_layer *L = make(h, f, UNIAP_ACT_SWIGLU, 0, T, E, k, 0, 0.0);
        if (!L)
            return;
        prof_tensor *wr = prof_cpu_layer_tensor(L, "moe.router");
        memset(wr->data, 0, sizeof(float) * (size_t)wr->n);
        const float *w1 = prof_cpu_layer_tensor(L, "moe.w1")->data;
        const float *w2 = prof_cpu_layer_tensor(L, "moe.w2")->data;
        const float *x = L->inputs[0].data;
        CHECK_EQ(prof_cpu_layer_forward(L), 0);
        for (int64_t t = 0; t < T; t++) {
            double ref[6] = {0}, ye[6];
            for (int e = 0; e < (k == E ? E : 1); e++) {
                expert_ref(w1 + e * h * 2 * f, w2 + e * f * h, x + t * h, h, f, ye);
                for (int64_t c = 0; c < h; c++)
                    ref[c] += ye[c] / (k == E ? E : 1);
            }
            for (int64_t c = 0; c < h; c++)
                CHECK_NEAR(L->out[t * h + c], ref[c], 1e-5, 1e-5);
        }
        CHECK_EQ(prof_cpu_layer_backward(L), 0);
        prof_cpu_layer_destroy(L);
    }
}

/* E = 2, top-1, zero router: all T = 4 tokens tie and go to expert 0.
 * capacity_factor 1: capacity ceil(1 * 4 * 1 / 2) = 2, so tokens 0, 1 keep
 * the dropless output and tokens 2, 3 are dropped (output 0, no input
 * gradient); 0.5: capacity 1, only token 0; 2: capacity 4, none dropped. */
static void test_capacity(void)
{
    const int64_t h = 4, f = 3, T = 4;
    const double cfs[4] = {0.0, 1.0, 0.5, 2.0};
    const int kept[4] = {4, 2, 1, 4};
    float full[16], dfull[16];
    for (int c = 0; c < 4; c++) {
        prof_cpu_layer *L = make(h, f, UNIAP_ACT_GELU, 1, T, 2, 1, 0, cfs[c]);
        if (!L)
            return;
        prof_tensor *wr = prof_cpu_layer_tensor(L, "moe.router");
        memset(wr->data, 0, sizeof(float) * (size_t)wr->n);
        CHECK_EQ(prof_cpu_layer_forward(L), 0);
        float out[16];
        memcpy(out, L->out, sizeof(out));
        CHECK_EQ(prof_cpu_layer_backward(L), 0);
        const float *dx = L->inputs[0].grad;
        if (c == 0) {
            memcpy(full, out, sizeof(full));
            memcpy(dfull, dx, sizeof(dfull));
        }
        for (int64_t t = 0; t < T; t++)
            for (int64_t j = 0; j < h; j++) {
                int keep = t < kept[c];
                CHECK_NEAR(out[t * h + j], keep ? full[t * h + j] : 0.0, 1e-6, 1e-6);
                CHECK_NEAR(dx[t * h + j], keep ? dfull[t * h + j] : 0.0, 1e-6, 1e-6);
            }
        CHECK(fabs(full[3 * h]) > 1e-4); /* a dropped row is not zero by chance */
        prof_cpu_layer_destroy(L);
    }
}

/* Every tensor's gradient against finite differences (smooth activations:
 * ReLU's kinks spoil central differences at these sizes; test_hand has
 * ReLU). */
static void test_grad(void)
{
    struct {
        const char *name;
        uniap_activation act;
        int bias, E, k, shared;
        double cf;
    } cs[] = {
        {"swiglu.E4.k2.shared1", UNIAP_ACT_SWIGLU, 0, 4, 2, 1, 0.0},
        {"gelu.bias.E3.k3", UNIAP_ACT_GELU, 1, 3, 3, 0, 0.0},
        {"gelu.E4.k2.cf0.75", UNIAP_ACT_GELU, 1, 4, 2, 2, 0.75},
        {"swiglu.E2.k1", UNIAP_ACT_SWIGLU, 0, 2, 1, 0, 0.0},
    };
    prof_rng rng;
    prof_rng_seed(&rng, 5);
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        prof_cpu_layer *L =
            make(8, 6, cs[c].act, cs[c].bias, 7, cs[c].E, cs[c].k, cs[c].shared, cs[c].cf);
        if (!L)
            return;
        prof_cpu_layer_zero_grads(L);
        CHECK_EQ(prof_cpu_layer_forward(L), 0);
        /* capacity ceil(0.75 * 7 * 2 / 4) = 3: at most 12 of the 14 rows kept */
        const int64_t *off = ((moe_layer *)L->impl)->m.off;
        CHECK(cs[c].cf > 0.0 ? off[cs[c].E] <= 12 : off[cs[c].E] == 7 * cs[c].k);
        CHECK_EQ(prof_cpu_layer_backward(L), 0);
        int nt = L->n_params + L->n_inputs;
        float *g[PROF_MAX_PARAMS + 2];
        prof_tensor *ts[PROF_MAX_PARAMS + 2];
        for (int i = 0; i < nt; i++) { /* the gradients before the differences run passes */
            ts[i] = i < L->n_params ? &L->params[i] : &L->inputs[i - L->n_params];
            g[i] = malloc(sizeof(float) * (size_t)ts[i]->n);
            memcpy(g[i], ts[i]->grad, sizeof(float) * (size_t)ts[i]->n);
        }
        for (int i = 0; i < nt; i++) {
            check_tensor(cs[c].name, L, ts[i], g[i], &rng);
            free(g[i]);
        }
        fprintf(stderr, "%s: %d tensors checked\n", cs[c].name, nt);
        prof_cpu_layer_destroy(L);
    }
}

static void test_bad_config(void)
{
    prof_moe_cfg bad[3] = {{0, 1, 0, 0.0}, {4, 5, 0, 0.0}, {4, 2, 0, -1.0}};
    for (int i = 0; i < 3; i++)
        CHECK_EQ(prof_moe_check(&bad[i]), UNIAP_EINVAL);
    CHECK(strstr(uniap_errmsg(), "capacity_factor") != NULL);
}

int main(void)
{
    CHECK_EQ(uniap__prof_layer_kind_register(TEST_KIND, &moe_mlp_kind), 0);
    test_hand();
    test_average_and_ties();
    test_capacity();
    test_grad();
    test_bad_config();
    return check_report();
}
