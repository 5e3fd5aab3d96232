/*
 * test_roundtrip.c - canonical JSON of every zoo model, cluster preset and
 * good spec file parses back to an equal struct (and prints identically a
 * second time); editing seq_len in a dump changes the layers that did not
 * state their own length; layer signatures: the documented form, a change of any
 * cost-bearing field changes the signature, and equal signatures in the
 * zoo mean interchangeable layers. Usage: test_roundtrip <tests/data/specs>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "uniap_io.h"

/* Field-by-field equality of two runs, count included when with_count. */
static int layer_equal(const uniap_layer *a, const uniap_layer *b, int with_count)
{
    return a->kind == b->kind && (!with_count || a->count == b->count) && a->hidden == b->hidden &&
           a->heads == b->heads && a->kv_heads == b->kv_heads && a->head_dim == b->head_dim &&
           a->ffn == b->ffn && a->activation == b->activation && a->norm == b->norm &&
           a->position == b->position && a->bias == b->bias && a->seq == b->seq &&
           a->kv_seq == b->kv_seq && a->vocab == b->vocab && a->max_positions == b->max_positions &&
           a->tied == b->tied && a->window == b->window && a->image == b->image &&
           a->patch == b->patch && a->channels == b->channels && a->out_hidden == b->out_hidden &&
           a->experts == b->experts && a->top_k == b->top_k &&
           a->shared_experts == b->shared_experts && a->capacity_factor == b->capacity_factor;
}

static void check_model_roundtrip(const uniap_model *m, const char *what)
{
    char *j1 = NULL, *j2 = NULL;
    uniap_model back;

    CHECK_EQ(uniap_model_to_json(m, &j1), 0);
    CHECK_EQ(uniap_model_parse(j1, what, &back), 0);
    if (back.n_runs != m->n_runs) {
        CHECK_EQ(back.n_runs, m->n_runs);
        fprintf(stderr, "%s: %s\n", what, uniap_errmsg());
        free(j1);
        return;
    }
    CHECK(strcmp(back.name, m->name) == 0);
    CHECK_EQ(back.seq_len, m->seq_len);
    CHECK_EQ(back.param_dtype, m->param_dtype);
    CHECK_EQ(back.act_dtype, m->act_dtype);
    CHECK_EQ(back.mixed_precision, m->mixed_precision);
    CHECK_EQ(back.n_layers, m->n_layers);
    for (int r = 0; r < m->n_runs; r++)
        CHECK(layer_equal(&back.runs[r], &m->runs[r], 1));
    CHECK_EQ(uniap_model_params(&back), uniap_model_params(m));
    CHECK_EQ(uniap_model_to_json(&back, &j2), 0);
    CHECK(j1 && j2 && strcmp(j1, j2) == 0);
    free(j1);
    free(j2);
    uniap_model_free(&back);
}

static void check_cluster_roundtrip(const uniap_cluster *c, const char *what)
{
    char *j1 = NULL, *j2 = NULL;
    uniap_cluster back;

    CHECK_EQ(uniap_cluster_to_json(c, &j1), 0);
    CHECK_EQ(uniap_cluster_parse(j1, what, &back), 0);
    CHECK(memcmp(&back, c, sizeof(*c)) == 0); /* both zero-filled before parse */
    CHECK_EQ(uniap_cluster_to_json(&back, &j2), 0);
    CHECK(j1 && j2 && strcmp(j1, j2) == 0);
    free(j1);
    free(j2);
}

/* Numbers whose shortest 15-digit form reads back only within an epsilon
 * (found by fuzz_cluster_spec) must still round-trip bit for bit. */
static void check_exact_numbers(void)
{
    uniap_cluster c;
    CHECK_EQ(
        uniap_cluster_parse("{\"nodes\": 2, \"devices_per_node\": 2, \"device_name\": \"x\","
                            " \"device_memory\": 17592186044415,"
                            " \"peak_flops\": 5555555555555559,"
                            " \"mem_bandwidth\": 123456789012.34567,"
                            " \"intra_node_latency\": 3.0000000000000001e-6,"
                            " \"inter_node_bw\": 123456789.12345679, \"inter_node_latency\": -0.0}",
                            "exact.json", &c),
        0);
    CHECK_EQ(c.device_memory, 17592186044415LL);
    CHECK(c.mem_bandwidth == 123456789012.34567);
    CHECK(c.peak_flops == 5555555555555559.0);
    check_cluster_roundtrip(&c, "exact.json");
}

static void check_zoo_and_presets(void)
{
    const char *const *zoo = uniap_zoo_models();
    const char *const *pre = uniap_cluster_presets();
    int n = 0;

    for (int i = 0; zoo[i]; i++, n++) {
        uniap_model m;
        CHECK_EQ(uniap_zoo_model(zoo[i], &m), 0);
        CHECK(strcmp(m.name, zoo[i]) == 0);
        check_model_roundtrip(&m, zoo[i]);
        uniap_model_free(&m);
        /* resolve finds zoo names before files */
        CHECK_EQ(uniap_model_resolve(zoo[i], &m), 0);
        CHECK(strcmp(m.name, zoo[i]) == 0);
        uniap_model_free(&m);
    }
    CHECK_EQ(n, 11);
    n = 0;
    for (int i = 0; pre[i]; i++, n++) {
        uniap_cluster c;
        CHECK_EQ(uniap_cluster_preset(pre[i], &c), 0);
        CHECK(strcmp(c.name, pre[i]) == 0);
        CHECK(c.device_memory > 0 && c.peak_flops > 0 && c.intra_node_bw > 0);
        /* inside a node is faster than between nodes on every preset */
        CHECK(c.intra_node_bw > c.inter_node_bw);
        /* an achieved bus bandwidth, where given, is below its link's
         * rate (the presets' figures are ring collectives: io/cluster_spec.c
         * [BUSBW]) */
        CHECK(c.intra_node_busbw <= c.intra_node_bw && c.inter_node_busbw <= c.inter_node_bw);
        check_cluster_roundtrip(&c, pre[i]);
        CHECK_EQ(uniap_cluster_resolve(pre[i], &c), 0);
    }
    CHECK_EQ(n, 6);
    {
        uniap_cluster c;
        CHECK_EQ(uniap_cluster_preset("h100-80g-16x8", &c), 0);
        CHECK_EQ(uniap_cluster_devices(&c), 128);
        CHECK_EQ(uniap_cluster_preset("titanxp-2x4", &c), 0);
        CHECK_EQ(uniap_cluster_devices(&c), 8);
        /* H200 SXM [io/cluster_spec.c]: the H100's chip, more and faster HBM */
        CHECK_EQ(uniap_cluster_preset("h200-141g-4x8", &c), 0);
        CHECK_EQ(uniap_cluster_devices(&c), 32);
        CHECK_EQ(c.device_memory, 141000000000LL);
        CHECK(c.mem_bandwidth == 4.8e12 && c.peak_flops == 989.4e12);
        /* NVLink 4 at the NCCL maintainers' 370 GB/s (nccl-tests#212) */
        CHECK(c.intra_node_busbw == 370e9 && c.inter_node_busbw == 41.6e9);
    }
}

static void check_files(const char *dir)
{
    static const char *const models[] = {"tiny.json", "tiny_vision.json"};
    char path[1024];
    uniap_model m;
    uniap_cluster c;

    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/good/%s", dir, models[i]);
        CHECK_EQ(uniap_model_resolve(path, &m), 0);
        check_model_roundtrip(&m, path);
        uniap_model_free(&m);
    }
    snprintf(path, sizeof(path), "%s/good/cluster_small.json", dir);
    CHECK_EQ(uniap_cluster_resolve(path, &c), 0);
    CHECK_EQ(c.device_memory, 24LL << 30); /* device_memory_gib: 24 */
    CHECK_EQ(uniap_cluster_devices(&c), 4);
    CHECK(c.inter_node_bw == 0); /* optional: unknown */
    check_cluster_roundtrip(&c, path);
}

/* Returns the signature of l (static buffer). */
static const char *sig(const uniap_layer *l)
{
    static char buf[128];
    if (uniap_layer_signature(l, buf, sizeof(buf)) < 0)
        snprintf(buf, sizeof(buf), "(error)");
    return buf;
}

/* Perturbs field f of l (numbers +1, enums next value, flags flipped). */
static void perturb(uniap_layer *l, int f)
{
    switch (f) {
    case 0:
        l->hidden++;
        break;
    case 1:
        l->heads++;
        break;
    case 2:
        l->kv_heads++;
        break;
    case 3:
        l->head_dim++;
        break;
    case 4:
        l->ffn++;
        break;
    case 5:
        l->activation = (l->activation + 1) % 3;
        break;
    case 6:
        l->norm = (l->norm + 1) % 2;
        break;
    case 7:
        l->position = (l->position + 1) % 4;
        break;
    case 8:
        l->bias = !l->bias;
        break;
    case 9:
        l->seq++;
        break;
    case 10:
        l->kv_seq++;
        break;
    case 11:
        l->vocab++;
        break;
    case 12:
        l->max_positions++;
        break;
    case 13:
        l->tied = !l->tied;
        break;
    case 14:
        l->window++;
        break;
    case 15:
        l->image++;
        break;
    case 16:
        l->patch++;
        break;
    case 17:
        l->channels++;
        break;
    case 18:
        l->out_hidden++;
        break;
    case 19:
        l->experts++;
        break;
    case 20:
        l->shared_experts++;
        break;
    }
}
#define N_PERTURB 21

static void check_signatures(void)
{
    uniap_model m, all[16];
    const char *const *zoo = uniap_zoo_models();
    int nz = 0;

    CHECK_EQ(uniap_zoo_model("llama-7b", &m), 0);
    CHECK(strcmp(sig(&m.runs[1]), "decoder.h4096.a32.kv32.f11008.s2048.swiglu.rmsnorm.rope") == 0);
    fprintf(stderr, "llama-7b decoder: %s\n", sig(&m.runs[1]));
    uniap_model_free(&m);

    /* count does not change the signature; any field that changes the
     * parameter count does. */
    for (int i = 0; zoo[i]; i++) {
        CHECK_EQ(uniap_zoo_model(zoo[i], &all[nz]), 0);
        nz++;
    }
    for (int z = 0; z < nz; z++) {
        for (int r = 0; r < all[z].n_runs; r++) {
            uniap_layer base = all[z].runs[r], t;
            char s0[128];
            snprintf(s0, sizeof(s0), "%s", sig(&base));
            CHECK(strlen(s0) < 96); /* fits uniap_layer_prof.layer_type */
            t = base;
            t.count += 5;
            CHECK(strcmp(sig(&t), s0) == 0);
            /* a layer with a different parameter count is not
             * interchangeable: its signature must differ */
            for (int f = 0; f < N_PERTURB; f++) {
                t = base;
                perturb(&t, f);
                if (uniap_layer_params(&t) != uniap_layer_params(&base))
                    CHECK(strcmp(sig(&t), s0) != 0);
            }
        }
    }
    /* Equal signatures across the whole zoo imply equal layers. */
    for (int z1 = 0; z1 < nz; z1++)
        for (int r1 = 0; r1 < all[z1].n_runs; r1++)
            for (int z2 = 0; z2 < nz; z2++)
                for (int r2 = 0; r2 < all[z2].n_runs; r2++) {
                    char s1[128];
                    snprintf(s1, sizeof(s1), "%s", sig(&all[z1].runs[r1]));
                    if (strcmp(s1, sig(&all[z2].runs[r2])) == 0)
                        CHECK(layer_equal(&all[z1].runs[r1], &all[z2].runs[r2], 0));
                }
    for (int z = 0; z < nz; z++)
        uniap_model_free(&all[z]);
}

/* Fields that change time but not parameters must still change the
 * signature: seq, kv_seq, window, activation of equal-size MLPs, position
 * kind of attention layers. */
static void check_signature_time_fields(void)
{
    uniap_model m;
    uniap_layer l, t;
    char s0[128];

    CHECK_EQ(uniap_zoo_model("t5-large", &m), 0);
    l = m.runs[2]; /* cross_decoder */
    snprintf(s0, sizeof(s0), "%s", sig(&l));
    t = l;
    t.seq *= 2;
    CHECK(strcmp(sig(&t), s0) != 0);
    t = l;
    t.kv_seq *= 2;
    CHECK(strcmp(sig(&t), s0) != 0);
    t = l;
    t.activation = UNIAP_ACT_GELU; /* same parameter count as ReLU */
    CHECK_EQ(uniap_layer_params(&t), uniap_layer_params(&l));
    CHECK(strcmp(sig(&t), s0) != 0);
    t = l;
    t.position = UNIAP_POS_ROTARY;
    CHECK(strcmp(sig(&t), s0) != 0);
    uniap_model_free(&m);

    CHECK_EQ(uniap_zoo_model("swin-huge", &m), 0);
    l = m.runs[5];
    snprintf(s0, sizeof(s0), "%s", sig(&l));
    t = l;
    t.window = 14;
    CHECK(strcmp(sig(&t), s0) != 0);
    uniap_model_free(&m);
}

/* The dump text with the number after "seq_len": replaced by v
 * (malloc'd), or NULL when the key is missing. */
static char *edit_seq_len(const char *json, long long v)
{
    const char *k = strstr(json, "\"seq_len\":");
    char *out;
    if (!k)
        return NULL;
    const char *num = k + strlen("\"seq_len\":");
    while (*num == ' ' || *num == '\t')
        num++;
    const char *end = num;
    while (*end >= '0' && *end <= '9')
        end++;
    out = malloc(strlen(json) + 32);
    if (out)
        sprintf(out, "%.*s%lld%s", (int)(num - json), json, v, end);
    return out;
}

/* issue 10 item 7: the model's seq_len is the one source of truth. Editing
 * it in a dump changes every layer that did not state its own length; a
 * per-layer length that differs from the model's stays explicit. */
/* A moe layer with every field of its own round-trips; its defaults
 * (shared_experts 0, capacity_factor 0) are left out of the dump; top_k and
 * capacity_factor, which change time but not the parameter count, change
 * the signature. */
static void check_moe(void)
{
    const char *spec = "{\"name\": \"m\", \"seq_len\": 64, \"layers\": [{\"type\": \"moe\", "
                       "\"count\": 2, \"hidden\": 64, \"heads\": 4, \"ffn\": 32, \"activation\": "
                       "\"swiglu\", \"experts\": 8, \"top_k\": 2, \"shared_experts\": 1, "
                       "\"capacity_factor\": 1.25}]}";
    uniap_model m;
    char *json = NULL;

    CHECK_EQ(uniap_model_parse(spec, "moe.json", &m), 0);
    if (m.n_runs != 1)
        return;
    CHECK_EQ(m.runs[0].experts, 8);
    CHECK_EQ(m.runs[0].top_k, 2);
    CHECK_EQ(m.runs[0].shared_experts, 1);
    CHECK(m.runs[0].capacity_factor == 1.25);
    check_model_roundtrip(&m, "moe.json");
    CHECK(strcmp(sig(&m.runs[0]),
                 "moe.h64.a4.kv4.f32.e8.k2.se1.cf1.25.s64.swiglu.layernorm.nopos") == 0);
    char s0[128];
    snprintf(s0, sizeof(s0), "%s", sig(&m.runs[0]));
    uniap_layer t = m.runs[0];
    t.top_k = 3;
    CHECK(strcmp(sig(&t), s0) != 0);
    t = m.runs[0];
    t.capacity_factor = 2;
    CHECK(strcmp(sig(&t), s0) != 0);
    m.runs[0].shared_experts = 0;
    m.runs[0].capacity_factor = 0;
    CHECK_EQ(uniap_model_to_json(&m, &json), 0);
    CHECK(json && !strstr(json, "shared_experts") && !strstr(json, "capacity_factor") &&
          strstr(json, "\"top_k\""));
    free(json);
    check_model_roundtrip(&m, "moe-defaults.json");
    uniap_model_free(&m);
}

static void check_seq_len_edit(void)
{
    uniap_model m, back;
    char *j = NULL, *edited;

    CHECK_EQ(uniap_zoo_model("llama-7b", &m), 0);
    CHECK_EQ(uniap_model_to_json(&m, &j), 0);
    edited = j ? edit_seq_len(j, 1024) : NULL;
    CHECK(edited != NULL);
    uniap_err_clear();
    CHECK_EQ(uniap_model_parse(edited ? edited : "", "m.json", &back), 0);
    CHECK_EQ(back.seq_len, 1024);
    for (int r = 0; r < back.n_runs; r++)
        CHECK_EQ(back.runs[r].seq, 1024);
    CHECK_EQ(uniap_model_params(&back), uniap_model_params(&m));
    uniap_model_free(&back);
    uniap_model_free(&m);
    free(edited);
    free(j);

    /* t5-large: encoder, decoder and the decoder's encoder length follow. */
    CHECK_EQ(uniap_zoo_model("t5-large", &m), 0);
    CHECK_EQ(uniap_model_to_json(&m, &j), 0);
    edited = j ? edit_seq_len(j, 256) : NULL;
    CHECK_EQ(uniap_model_parse(edited ? edited : "", "t5.json", &back), 0);
    CHECK_EQ(back.runs[1].seq, 256);
    CHECK_EQ(back.runs[2].seq, 256);
    CHECK_EQ(back.runs[2].kv_seq, 256);
    uniap_model_free(&back);
    uniap_model_free(&m);
    free(edited);
    free(j);

    /* A layer with its own length keeps it; the others follow. */
    CHECK_EQ(uniap_model_parse("{\"seq_len\": 512, \"layers\": ["
                               " {\"type\": \"embedding\", \"hidden\": 64, \"vocab\": 100},"
                               " {\"type\": \"decoder\", \"hidden\": 64, \"heads\": 4,"
                               "  \"ffn\": 256, \"seq\": 128},"
                               " {\"type\": \"head\", \"hidden\": 64, \"vocab\": 100}]}",
                               "own.json", &m),
             0);
    CHECK_EQ(uniap_model_to_json(&m, &j), 0);
    CHECK(j && strstr(j, "\"seq\":") != NULL);
    edited = j ? edit_seq_len(j, 64) : NULL;
    CHECK_EQ(uniap_model_parse(edited ? edited : "", "own.json", &back), 0);
    CHECK_EQ(back.runs[0].seq, 64);
    CHECK_EQ(back.runs[1].seq, 128);
    CHECK_EQ(back.runs[2].seq, 64);
    uniap_model_free(&back);
    uniap_model_free(&m);
    free(edited);
    free(j);

    /* vit-huge: the patch embedding's tokens come from image/patch. */
    CHECK_EQ(uniap_zoo_model("vit-huge", &m), 0);
    CHECK_EQ(uniap_model_to_json(&m, &j), 0);
    CHECK_EQ(uniap_model_parse(j ? j : "", "vit.json", &back), 0);
    CHECK_EQ(back.runs[0].seq, 257);
    uniap_model_free(&back);
    uniap_model_free(&m);
    free(j);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s <tests/data/specs>\n", argv[0]);
        return 2;
    }
    check_zoo_and_presets();
    check_exact_numbers();
    check_files(argv[1]);
    check_signatures();
    check_moe();
    check_signature_time_fields();
    check_seq_len_edit();
    return check_report();
}
