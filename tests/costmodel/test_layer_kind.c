/*
 * test_layer_kind.c - a new layer kind goes in one place per component.
 * A toy kind, a standalone MLP block ("mlp": hidden -> ffn -> hidden,
 * GELU or ReLU, optional biases), is registered at run time with one
 * descriptor in each component's table, all of them in this file:
 *   io        (io/layer_kinds.h)           name, fields, a check, parameters
 *   costmodel (costmodel/cm_internal.h)    tp, TP collectives, analytic figures
 *   profiler  (profiler/kernels_cpu/)      the CPU kernels (prof_mlp_*)
 * and run through spec parsing (defaults, refusals, the round trip and the
 * signature), the parameter count, the analytic profile, a cost table and
 * a CPU measurement, whose figures agree with each other.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cpu_kernels.h"
#include "cpu_measure.h"
#include "layer_kinds.h"

#define FSZ(n) ((int64_t)(n) * (int64_t)sizeof(float))

/* ---- io: the spec side ---------------------------------------------- */

static int64_t mlp_params(const uniap_layer *l)
{
    int64_t h = l->hidden, f = l->ffn;
    return 2 * h * f + (l->bias ? f + h : 0);
}

static int mlp_parse(const cJSON *jl, const char *source, const char *path, int64_t seq_len,
                     uniap_layer *l)
{
    (void)jl;
    (void)seq_len;
    if (l->activation == UNIAP_ACT_SWIGLU)
        return uniap_err(UNIAP_EINVAL, "%s: %s.activation: expected gelu|relu for an mlp layer",
                         source, path);
    if (l->ffn < l->hidden)
        return uniap_err(UNIAP_EINVAL, "%s: %s.ffn: expected at least hidden (%lld), got %lld",
                         source, path, (long long)l->hidden, (long long)l->ffn);
    return UNIAP_OK;
}

static const spec_layer_kind mlp_io = {
    .name = "mlp",
    .fields = SPEC_F(LF_COUNT) | SPEC_F(LF_HIDDEN) | SPEC_F(LF_FFN) | SPEC_F(LF_ACTIVATION) |
              SPEC_F(LF_BIAS) | SPEC_F(LF_SEQ),
    .parse = mlp_parse,
    .params = mlp_params,
};

/* ---- costmodel: what it costs ----------------------------------------- */

static int mlp_tp_ok(const uniap_layer *l, int tp)
{
    return l->ffn % tp == 0; /* column- then row-parallel, as a block's MLP */
}

static void mlp_act(const uniap_layer *l, int64_t e, int64_t *repl, int64_t *shard)
{
    *repl = l->hidden * e;   /* the input of the first GEMM */
    *shard = 2 * l->ffn * e; /* pre-activation and activation */
}

static double mlp_flops(const uniap_layer *l)
{
    return 2.0 * 2.0 * (double)l->hidden * (double)l->ffn;
}

static const cm_layer_kind mlp_cm = {
    .tp_ok = mlp_tp_ok,
    .tp_fwd = 1, /* the row-parallel output */
    .tp_bwd = 1, /* the column-parallel input */
    .act_per_token = mlp_act,
    .gemm_flops = mlp_flops,
    .kernels_fwd = 3,
};

/* ---- profiler: the CPU kernels ---------------------------------------- */

static int mlp_setup(prof_cpu_layer *L)
{
    prof_mlp *m = calloc(1, sizeof(*m));
    int rc;

    if (!(L->impl = m))
        return uniap_err(UNIAP_ENOMEM, "mlp state");
    if (L->spec.ffn % L->sh.tp)
        return uniap_err(UNIAP_EINVAL, "mlp: tp %d does not divide ffn", L->sh.tp);
    if ((rc = prof_mlp_setup(L, m, L->sh.hidden, L->spec.ffn / L->sh.tp)) < 0 ||
        (rc = prof_layer_input(L, "x", L->sh.tokens * L->sh.hidden)) < 0)
        return rc;
    L->n_out = L->sh.tokens * L->sh.hidden;
    return 0;
}

static int mlp_forward(prof_cpu_layer *L)
{
    if (!(L->out = prof_alloc(&L->mem, FSZ(L->n_out), 1)))
        return uniap_err(UNIAP_ENOMEM, "mlp output");
    return prof_mlp_fwd(L, L->impl, L->inputs[0].data, L->sh.tokens, L->out);
}

static int mlp_backward(prof_cpu_layer *L)
{
    int rc = prof_mlp_bwd(L, L->impl, L->inputs[0].data, L->dout, L->sh.tokens, L->inputs[0].grad);
    prof_free(&L->mem, L->out);
    L->out = NULL;
    return rc;
}

static void mlp_release(prof_cpu_layer *L)
{
    prof_mlp *m = L->impl;
    if (m) {
        prof_free(&L->mem, m->a);
        prof_free(&L->mem, m->g);
    }
    free(m);
    L->impl = NULL;
}

static const prof_layer_kind mlp_cpu = {.setup = mlp_setup,
                                        .forward = mlp_forward,
                                        .backward = mlp_backward,
                                        .release = mlp_release,
                                        .keep = PROF_KEEP_INPUT};

/* ---- the checks ------------------------------------------------------- */

#define H        64
#define F        256
#define SEQ      32
#define SPEC     "{\"name\": \"toy\", \"seq_len\": 32, \"param_dtype\": \"fp32\", \"layers\": ["
#define EDGE_IN  "{\"type\": \"embedding\", \"hidden\": 64, \"vocab\": 100}, "
#define EDGE_OUT ", {\"type\": \"head\", \"hidden\": 64, \"vocab\": 100}]}"

static uniap_layer_kind mlp_kind;

/* Parses SPEC EDGE_IN layer EDGE_OUT: its status (the message recorded). */
static int parse_with(const char *layer, uniap_model *m)
{
    char json[512];
    snprintf(json, sizeof(json), "%s%s%s%s", SPEC, EDGE_IN, layer, EDGE_OUT);
    uniap_err_clear();
    return uniap_model_parse(json, "toy.json", m);
}

static void test_spec(uniap_model *m)
{
    uniap_model back, bad;
    char sig[96], *json = NULL;

    CHECK_EQ(parse_with("{\"type\": \"mlp\", \"count\": 3, \"hidden\": 64, \"ffn\": 256, "
                        "\"bias\": true}",
                        m),
             0);
    CHECK_EQ(m->n_runs, 3);
    CHECK_EQ(m->n_layers, 5);
    CHECK_EQ(m->runs[1].kind, mlp_kind);
    CHECK_EQ(m->runs[1].seq, SEQ); /* the shared fields' defaults */
    CHECK_EQ(m->runs[1].activation, UNIAP_ACT_GELU);
    CHECK_EQ(m->runs[1].heads, 0);
    CHECK(strcmp(uniap_layer_kind_name(mlp_kind), "mlp") == 0);
    CHECK_EQ(uniap_layer_params(&m->runs[1]), 2 * H * F + F + H);
    CHECK_EQ(uniap_model_params(m), 100 * H + 3 * (2 * H * F + F + H) + (2 * H + 100 * H));
    CHECK_EQ(uniap_layer_signature(&m->runs[1], sig, sizeof(sig)), 0);
    CHECK(strcmp(sig, "mlp.h64.f256.s32.gelu.bias") == 0);

    /* the canonical JSON reads back to the same model */
    CHECK_EQ(uniap_model_to_json(m, &json), 0);
    CHECK_STR_CONTAINS(json, "\"mlp\"");
    CHECK_EQ(uniap_model_parse(json, "dump.json", &back), 0);
    CHECK_EQ(back.n_runs, 3);
    CHECK(back.n_runs == 3 && memcmp(&back.runs[1], &m->runs[1], sizeof(uniap_layer)) == 0);
    uniap_model_free(&back);
    free(json);

    /* refusals: the kind's own check, a field it does not use, a missing
     * required shared field; the type list names it */
    CHECK_EQ(parse_with("{\"type\": \"mlp\", \"hidden\": 64, \"ffn\": 32}", &bad), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "layers[1].ffn: expected at least hidden (64), got 32");
    CHECK_EQ(parse_with("{\"type\": \"mlp\", \"hidden\": 64, \"ffn\": 256, \"heads\": 4}", &bad),
             UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "layers[1].heads: expected only fields a mlp layer uses");
    CHECK_EQ(parse_with("{\"type\": \"mlp\", \"hidden\": 64}", &bad), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "ffn");
    CHECK_EQ(parse_with("{\"type\": \"mlpx\", \"hidden\": 64}", &bad), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "patch_merge|head|moe|mlp");
    uniap_err_clear();
}

/* The analytic rows of the toy kind at (tp, mb). */
static const uniap_layer_prof *row_of(const uniap_profile *p, const char *sig, int tp, int mb)
{
    for (int i = 0; i < p->n_layers; i++)
        if (strcmp(p->layers[i].layer_type, sig) == 0 && p->layers[i].tp == tp &&
            p->layers[i].micro_batch == mb)
            return &p->layers[i];
    return NULL;
}

static void test_analytic(const uniap_model *m, const uniap_cluster *c, uniap_profile *p)
{
    static const int mbs[] = {1, 2, 4, 8};
    char sig[96];

    CHECK_EQ(uniap_profile_analytic(m, c, mbs, 4, p), 0);
    uniap_layer_signature(&m->runs[1], sig, sizeof(sig));
    for (int tp = 1; tp <= 8; tp *= 2) {
        const uniap_layer_prof *r = row_of(p, sig, tp, 2);
        int64_t tokens = 2 * SEQ, e = 4; /* fp32 */
        CHECK(r != NULL);
        if (!r)
            continue;
        CHECK_EQ(r->act_bytes, tokens * H * e + tokens * 2 * F * e / tp);
        CHECK_EQ(r->param_bytes, (2 * H * F + F + H) / tp * 4);
        CHECK(r->fwd.median > 0 && r->bwd.median > r->fwd.median);
    }
}

static void test_table(const uniap_model *m, const uniap_cluster *c, const uniap_profile *p)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_cost_table t;
    int seen_tp = 0, seen_ckpt = 0;

    uniap_cost_options_default(&o);
    o.global_batch = 8;
    CHECK_EQ(uniap_costmodel_create(m, c, p, &o, &cm), 0);
    if (!cm) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        return;
    }
    CHECK_EQ(uniap_costmodel_table(cm, 1, 1, &t), 0); /* one stage of 8, micro-batch 8 */
    for (int k = 0; k < t.n_strategies; k++) {
        const uniap_strategy *s = &t.strategies[k];
        size_t ix = (size_t)1 * (size_t)t.n_strategies + (size_t)k; /* layer 1: an mlp */
        cm_row_terms row;
        CHECK_EQ(cm_row_breakdown(cm, 1, 1, 1, s, &row), 0);
        CHECK_EQ(row.allowed, t.allowed[ix]);
        CHECK_EQ(row.allowed, F % s->tp == 0);
        if (!row.allowed)
            continue;
        CHECK(row.time == t.time[ix]);
        CHECK(s->tp == 1 || row.tp_comm > 0); /* one all-reduce each way */
        seen_tp |= s->tp > 1;
        if (s->ckpt) { /* keeps its input: the default, b_l s h e */
            CHECK(row.act == (8.0 / s->dp) * SEQ * H * 4 / (s->sp ? s->tp : 1));
            seen_ckpt = 1;
        }
    }
    CHECK(seen_tp && seen_ckpt);
    uniap_cost_table_free(&t);
    uniap_costmodel_destroy(cm);
}

static void test_kernels(const uniap_model *m, const uniap_profile *p)
{
    prof_cpu_layer *L = NULL;
    prof_layer_memory mem;
    double fwd[2], bwd[2];
    char sig[96];

    uniap_layer_signature(&m->runs[1], sig, sizeof(sig));
    CHECK_EQ(prof_cpu_layer_create(&m->runs[1], 0, 1, 2, 7, &L), 0);
    if (!L) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        return;
    }
    CHECK_EQ(prof_cpu_layer_measure(L, 1, 2, fwd, bwd, NULL, &mem), 0);
    CHECK_EQ(mem.param_count, uniap_layer_params(&m->runs[1]));
    /* what the CPU kernels keep is what the analytic model says (fp32) */
    const uniap_layer_prof *r = row_of(p, sig, 1, 2);
    CHECK(r && mem.act_bytes == r->act_bytes);
    CHECK_EQ(mem.act_bytes, 2 * SEQ * (H + 2 * F) * 4);
    prof_cpu_layer_destroy(L);
}

int main(void)
{
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;

    CHECK_EQ(uniap__layer_kind_register(&mlp_io, &mlp_kind), 0);
    CHECK_EQ(mlp_kind, UNIAP_LAYER_KIND_COUNT);
    CHECK_EQ(uniap__cm_layer_kind_register(mlp_kind, &mlp_cm), 0);
    CHECK_EQ(uniap__prof_layer_kind_register(mlp_kind, &mlp_cpu), 0);
    /* a kind is registered once; the built-in ones are taken */
    uniap_layer_kind dup;
    spec_layer_kind decoder = mlp_io;
    decoder.name = "decoder";
    CHECK_EQ(uniap__layer_kind_register(&mlp_io, &dup), UNIAP_EINVAL);
    CHECK_EQ(uniap__layer_kind_register(&decoder, &dup), UNIAP_EINVAL);
    CHECK_EQ(uniap__cm_layer_kind_register(UNIAP_LAYER_DECODER, &mlp_cm), UNIAP_EINVAL);
    CHECK_EQ(uniap__prof_layer_kind_register(UNIAP_LAYER_DECODER, &mlp_cpu), UNIAP_EINVAL);
    uniap_err_clear();

    test_spec(&m);
    CHECK_EQ(uniap_cluster_preset("a100-40g-1x8", &c), 0);
    test_analytic(&m, &c, &p);
    test_table(&m, &c, &p);
    test_kernels(&m, &p);
    uniap_profile_free(&p);
    uniap_model_free(&m);
    return check_report();
}
