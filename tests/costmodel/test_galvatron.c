/*
 * test_galvatron.c - the Galvatron importer against the published files,
 * read independently here with cJSON: for the Llama-7B files the imported
 * decoder forward time at batch 8 and the per-sample activation MiB at tp
 * 1, 2, 4, 8 equal the file's values; bandwidth figures become collective
 * curves; every computation/memory file of a model the zoo has imports;
 * the imported profile builds cost tables; Mixtral-8x7B's separate
 * attention and MLP figures make its moe block's rows (check_mixtral).
 * usage: test_cost_galvatron GALVATRON_DIR (.../PKU-DAIR_Hetu-Galvatron/galvatron)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"

static const char *root;

static cJSON *load(const char *path)
{
    char *text = NULL;
    size_t len;
    if (uniap_read_file(path, &text, &len) < 0)
        return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

/* The Llama-7B files of one model folder: layer forward at batch 8 and
 * activation MiB per sample at tp 1..8 equal the file's numbers. */
static void check_llama(const char *sub, const char *suffix, const char *act_key)
{
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;
    char comp[1024], mem[1024], hw[1024], sig[96], key[64];
    char *notes = NULL;

    CHECK(uniap_zoo_model("llama-7b", &m) == 0);
    CHECK(uniap_cluster_preset("a100-40g-1x8", &c) == 0);
    snprintf(comp, sizeof(comp), "%s/models/%s/configs/computation_profiling_bf16_%s.json", root,
             sub, suffix);
    snprintf(mem, sizeof(mem), "%s/models/%s/configs/memory_profiling_bf16_%s.json", root, sub,
             suffix);
    snprintf(hw, sizeof(hw), "%s/profile_hardware/hardware_configs", root);
    CHECK(uniap_profile_import_galvatron_files(&m, &c, comp, mem, hw, &p, &notes) == 0);
    if (!notes) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        uniap_model_free(&m);
        return;
    }
    fprintf(stderr, "notes for %s:\n%s", suffix, notes);
    CHECK_STR_CONTAINS(p.provenance, "imported:galvatron");
    CHECK_STR_CONTAINS(notes, "backward time = 2 x forward");
    uniap_layer_signature(&m.runs[1], sig, sizeof(sig)); /* the decoder */

    cJSON *cj = load(comp), *mj = load(mem);
    CHECK(cj && mj);
    /* forward ms per layer per sample at bsz 8 */
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(cj, "layertype_0_bsz8_seq2048");
    if (!f) /* the hidden<h>_head<a>_seqlen<s> files leave the seq out */
        f = cJSON_GetObjectItemCaseSensitive(cj, "layertype_0_bsz8");
    const uniap_layer_prof *r = fx_layer_row(&p, sig, 1, 8);
    CHECK(f && r);
    if (f && r) {
        CHECK_NEAR(r->fwd.median / 8 * 1000, f->valuedouble, 1e-12, 0);
        CHECK_NEAR(r->bwd.median, 2 * r->fwd.median, 1e-15, 0);
    }
    /* activation MiB per sample per layer at tp 1, 2, 4, 8 */
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(mj, act_key);
    if (d && !cJSON_GetObjectItemCaseSensitive(d, "tp_activation_per_bsz_dict"))
        d = cJSON_GetObjectItemCaseSensitive(d, "2048");
    d = cJSON_GetObjectItemCaseSensitive(d, "tp_activation_per_bsz_dict");
    CHECK(d != NULL);
    for (int tp = 1; tp <= 8; tp *= 2) {
        snprintf(key, sizeof(key), "%d", tp);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, key);
        r = fx_layer_row(&p, sig, tp, 8);
        CHECK(v && r);
        if (v && r)
            CHECK_NEAR((double)r->act_bytes / 8 / (1 << 20), v->valuedouble, 1e-12, 0);
    }
    /* hardware: all-reduce of 8 inside the node at 154.203 GB/s bus
     * bandwidth: 1 GiB takes 2^30 x 2 x 7/8 / 154.203e9 s; p2p 163.671 */
    /* sp_time_1nodes_8gpus_per_node.json measures all-reduce and all-to-all
     * curves, which replace the bandwidth-derived ones: all-reduce of 8 at
     * 1024 MB took 8.1409 ms, all-to-all of 4 at 64 MB 0.3654 ms */
    int seen = 0;
    for (int i = 0; i < p.n_colls; i++) {
        const uniap_coll_prof *cp = &p.colls[i];
        if (cp->op == UNIAP_COLL_ALLREDUCE && cp->group_size == 8 && cp->bytes == GiB) {
            CHECK_NEAR(cp->time.median, 8.1409e-3, 1e-12, 0);
            seen++;
        }
        if (cp->op == UNIAP_COLL_ALLTOALL && cp->group_size == 4 && cp->bytes == 64 * MiB) {
            CHECK_NEAR(cp->time.median, 0.3654e-3, 1e-12, 0);
            seen++;
        }
        /* all-gather keeps the all-reduce bus bandwidth, 154.203 GB/s for
         * 8: 1 GiB x 7/8 / 154.203e9 */
        if (cp->op == UNIAP_COLL_ALLGATHER && cp->group_size == 8 && cp->bytes == GiB) {
            CHECK_NEAR(cp->time.median, (double)GiB * 0.875 / 154.203e9, 1e-12, 0);
            seen++;
        }
        if (cp->op == UNIAP_COLL_P2P && cp->bytes == GiB) {
            CHECK_NEAR(cp->time.median, (double)GiB / 163.671e9, 1e-12, 0);
            seen++;
        }
    }
    CHECK_EQ(seen, 4);
    CHECK_NEAR(p.overlap_coeff, 1.125552573612729, 1e-15, 0);

    /* the imported profile drives the cost model: tables for stages of 8 */
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_cost_table t;
    uniap_cost_options_default(&o);
    o.global_batch = 16;
    CHECK(uniap_costmodel_create(&m, &c, &p, &o, &cm) == 0);
    if (cm) {
        CHECK(uniap_costmodel_table(cm, 1, 2, &t) == 0);
        uniap_cost_table_free(&t);
        CHECK(uniap_costmodel_table(cm, 2, 4, &t) == 0);
        uniap_cost_table_free(&t);
        uniap_costmodel_destroy(cm);
    }
    cJSON_Delete(cj);
    cJSON_Delete(mj);
    free(notes);
    uniap_profile_free(&p);
    uniap_model_free(&m);
}

/* The folder API picks the model's files and imports them; two nodes give
 * between-node curves from the 2-node files (p2p pp_size_2 = 7.65998). */
static void check_folder(const char *sub, const char *model, const char *cluster, int nodes)
{
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;
    char dir[1024], hw[1024];

    CHECK(uniap_zoo_model(model, &m) == 0);
    CHECK(uniap_cluster_preset(cluster, &c) == 0);
    c.nodes = nodes;
    snprintf(dir, sizeof(dir), "%s/models/%s/configs", root, sub);
    snprintf(hw, sizeof(hw), "%s/profile_hardware/hardware_configs", root);
    int rc = uniap_profile_import_galvatron(&m, &c, dir, hw, &p);
    CHECK_EQ(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "%s %s: %s\n", sub, model, uniap_errmsg());
        uniap_err_clear();
        uniap_model_free(&m);
        return;
    }
    CHECK(p.n_layers > 0);
    /* every block run of the model got rows */
    for (int r = 0; r < m.n_runs; r++) {
        char sig[96];
        int found = 0;
        if (m.runs[r].heads == 0)
            continue;
        uniap_layer_signature(&m.runs[r], sig, sizeof(sig));
        for (int i = 0; i < p.n_layers && !found; i++)
            found = strcmp(p.layers[i].layer_type, sig) == 0;
        CHECK(found);
    }
    int inter = 0;
    for (int i = 0; i < p.n_colls; i++)
        if (p.colls[i].op == UNIAP_COLL_P2P && p.colls[i].spans_nodes && p.colls[i].bytes == GiB) {
            inter = 1;
            CHECK_NEAR(p.colls[i].time.median, (double)GiB / 7.65998e9, 1e-12, 0);
        }
    CHECK_EQ(inter, nodes > 1);
    uniap_profile_free(&p);
    uniap_model_free(&m);
}

/* A number of the JSON file at path (NAN when absent). */
static double num(const char *path, const char *key)
{
    cJSON *j = load(path);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    cJSON_Delete(j);
    return x;
}

/* Mixtral-8x7B (models/moe): Galvatron times the attention and the MLP
 * (router + experts) layers apart; uniap's moe block is both. Worked by
 * hand from the raw layernum[L] keys (forward ms of an L-layer model), per
 * layer per sample = (T(4) - T(2)) / (2 b), at b = 2:
 *   MLP at seq 4096 (computation_profiling_bf16_mixtral-8x7b.json, keys
 *   layernum[4|2]_bsz2_seq4096_mlp): (66.68552 - 41.11559) / 4 = 6.39248
 *   attention, timed at seq 8192 only (_attention.json,
 *   layernum[4|2]_bsz2_seq8192): (79.03095 - 54.33357) / 4 = 6.17434,
 *   scaled to 4096 by its forward FLOPs per sample, h 4096, 32 heads of
 *   128, 8 KV heads: per token QKV 2 h (32 + 16) 128 = 50331648, output
 *   2 h h = 33554432, core 2 x 2 x 4096 x s; F(4096) = 4096 (83886080 +
 *   67108864) = 4096 x 9 x 2^24, F(8192) = 8192 x 13 x 2^24, so x 9/26:
 *   2.13727
 *   block: 6.39248 + 2.13727 = 8.52975 ms per sample, fwd(b 2, tp 1) =
 *   0.0170595 s; tp 2: half (Galvatron's tp-1 time / tp); bwd = 2 fwd.
 * Activations at b 2 (8192 tokens), tp t: the attention's published
 * layertype_0_sp MiB per sample x 2^20 x 2 + uniap's analytic bytes of the
 * router and experts per token (bf16, e = 2): not sharded, the permuted
 * tokens top_k h e = 2 x 4096 x 2 and the router's logits and probabilities
 * 2 E e = 32: 16416; sharded, the two experts' SwiGLU tensors 2 x 3 ffn e
 * = 12 x 14336 = 172032, / t. */
static void check_mixtral(void)
{
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;
    char dir[1024], base[1100], att[1100], mem[1100], sig[96];

    CHECK(uniap_zoo_model("mixtral-8x7b", &m) == 0);
    CHECK(uniap_cluster_preset("a100-40g-1x8", &c) == 0);
    snprintf(dir, sizeof(dir), "%s/models/moe/configs", root);
    snprintf(base, sizeof(base), "%s/computation_profiling_bf16_mixtral-8x7b.json", dir);
    snprintf(att, sizeof(att), "%s/computation_profiling_bf16_mixtral-8x7b_attention.json", dir);
    snprintf(mem, sizeof(mem), "%s/memory_profiling_bf16_mixtral-8x7b_attention.json", dir);
    int rc = uniap_profile_import("galvatron", dir, &m, &c, &p);
    CHECK_EQ(rc, 0);
    if (rc < 0) {
        fprintf(stderr, "mixtral: %s\n", uniap_errmsg());
        uniap_model_free(&m);
        return;
    }
    /* the exact name's files, not _attention's or _mlp's alone */
    CHECK_STR_CONTAINS(p.notes, "computation_profiling_bf16_mixtral-8x7b{,_attention,_mlp}.json");
    CHECK_STR_CONTAINS(p.notes, "no MLP memory is published");
    double mlp =
        (num(base, "layernum[4]_bsz2_seq4096_mlp") - num(base, "layernum[2]_bsz2_seq4096_mlp")) / 4;
    double a8k = (num(att, "layernum[4]_bsz2_seq8192") - num(att, "layernum[2]_bsz2_seq8192")) / 4;
    CHECK_NEAR(mlp, 6.39248, 1e-6, 0);
    CHECK_NEAR(a8k, 6.17434, 1e-6, 0);
    double fwd = (mlp + a8k * 9.0 / 26.0) * 2 / 1000;
    CHECK_NEAR(fwd, 0.0170595, 1e-6, 0);
    cJSON *mj = load(mem);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(mj, "layertype_0_sp"),
                                         "4096"),
        "tp_activation_per_bsz_dict");
    uniap_layer_signature(&m.runs[1], sig, sizeof(sig)); /* the moe block */
    for (int tp = 1; tp <= 2; tp++) {
        const uniap_layer_prof *r = fx_layer_row(&p, sig, tp, 2);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, tp == 1 ? "1" : "2");
        CHECK(r && v);
        if (!r || !v)
            continue;
        CHECK_NEAR(r->fwd.median, fwd / tp, 1e-12, 0);
        CHECK_NEAR(r->bwd.median, 2 * fwd / tp, 1e-12, 0);
        double act = v->valuedouble * (1 << 20) * 2 + 8192.0 * (16416 + 172032 / tp);
        CHECK_NEAR((double)r->act_bytes, act, 0, 1);
    }
    cJSON_Delete(mj);
    uniap_profile_free(&p);
    /* a model the meta config does not describe: refused, naming the field */
    m.runs[1].experts = 4;
    CHECK_EQ(uniap_profile_import("galvatron", dir, &m, &c, &p), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "meta_configs/mixtral-8x7b.json: field 'num_local_experts' "
                                       "= 8, but model 'mixtral-8x7b' has 4");
    uniap_err_clear();
    uniap_model_free(&m);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    root = argv[1];
    /* Llama-2-7B (models/gpt, SP measurements only) and Llama-7B (llama_hf) */
    check_llama("gpt", "llama2-7b_all", "layertype_0_sp");
    check_llama("llama_hf", "llama-7b_all", "layertype_0_sp");
    check_llama("llama_hf", "hidden4096_head32_seqlen2048", "layertype_0");
    /* every folder whose model the zoo has (Llama-7B block shape: llama_hf,
     * llama_fa, baichuan, gpt; swin-huge; vit-huge) */
    check_folder("llama_hf", "llama-7b", "a100-40g-1x8", 1);
    check_folder("llama_fa", "llama-7b", "a100-40g-1x8", 1);
    check_folder("baichuan", "llama-7b", "a100-40g-1x8", 1);
    check_folder("gpt", "llama-7b", "a100-80g-2x8", 2);
    check_folder("llama_hf", "llama-7b", "titanxp-2x4", 1); /* the 1-node x 4 files */
    check_folder("swin", "swin-huge", "a100-40g-1x8", 1);
    check_mixtral();
    /* vit_hf: Galvatron's ViT-H is /16 at 224 px (197 tokens), the zoo's
     * vit-huge is /14 (257 tokens): nothing fits, and the error says so */
    {
        uniap_model m;
        uniap_cluster c;
        uniap_profile p;
        char dir[1024], hw[1024];
        CHECK(uniap_zoo_model("vit-huge", &m) == 0);
        CHECK(uniap_cluster_preset("a100-40g-1x8", &c) == 0);
        snprintf(dir, sizeof(dir), "%s/models/vit_hf/configs", root);
        snprintf(hw, sizeof(hw), "%s/profile_hardware/hardware_configs", root);
        CHECK_EQ(uniap_profile_import_galvatron(&m, &c, dir, hw, &p), UNIAP_EMISSING);
        CHECK_STR_CONTAINS(uniap_errmsg(), "lacks forward times at seq 257");
        uniap_err_clear();
        uniap_model_free(&m);
    }
    /* a cluster shape without hardware files: EMISSING naming it */
    {
        uniap_model m;
        uniap_cluster c;
        uniap_profile p;
        char dir[1024], hw[1024];
        CHECK(uniap_zoo_model("llama-7b", &m) == 0);
        CHECK(uniap_cluster_preset("h100-80g-4x8", &c) == 0);
        snprintf(dir, sizeof(dir), "%s/models/llama_hf/configs", root);
        snprintf(hw, sizeof(hw), "%s/profile_hardware/hardware_configs", root);
        CHECK_EQ(uniap_profile_import_galvatron(&m, &c, dir, hw, &p), UNIAP_EMISSING);
        CHECK_STR_CONTAINS(uniap_errmsg(), "4 nodes x 8 devices");
        uniap_err_clear();
        uniap_model_free(&m);
    }
    return check_report();
}
