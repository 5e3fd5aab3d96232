/*
 * test_import_peers.c - the Metis and Mist importers of `uniap archive
 * import` (costmodel/import_metis.c, import_mist.c) on the real dataset
 * files: Metis's A100 samples (GPT-3 of 8 blocks, tp 1/2/4 x bs 1/2/4) and
 * Mist's per-operator cache on NVIDIA L4 (GPT 1.3B); the figures land in
 * the rows they belong to (hand-worked from the JSON entries below),
 * Metis's per-position block rows (format 1.2) survive a write/read round
 * trip, the notes are present, and bad input (a missing file, a wrong
 * field, a model the files do not describe) is refused naming the file and
 * field with nothing returned.
 * Usage: test_cost_import_peers DATASETS_DIR SPECS_DIR WORKDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "uniap_costmodel.h"

/* The row of signature prefix at (tp, b) that is no per-position row. */
static const uniap_layer_prof *row(const uniap_profile *p, const char *prefix, int tp, int b)
{
    for (int i = 0; i < p->n_layers; i++)
        if (p->layers[i].tp == tp && p->layers[i].micro_batch == b &&
            strncmp(p->layers[i].layer_type, prefix, strlen(prefix)) == 0 &&
            !strchr(p->layers[i].layer_type, '@'))
            return &p->layers[i];
    return NULL;
}

/* The per-position row "<signature>@<at>" at (tp, b). */
static const uniap_layer_prof *pos_row(const uniap_profile *p, int at, int tp, int b)
{
    char tail[16];
    snprintf(tail, sizeof(tail), "@%d", at);
    for (int i = 0; i < p->n_layers; i++) {
        const char *a = strchr(p->layers[i].layer_type, '@');
        if (p->layers[i].tp == tp && p->layers[i].micro_batch == b && a && strcmp(a, tail) == 0)
            return &p->layers[i];
    }
    return NULL;
}

/* Copies src to dst with the first `from` replaced by `to` (from NULL: as is). */
static void copy_edit(const char *src, const char *dst, const char *from, const char *to)
{
    char *text = NULL;
    size_t len;
    CHECK(uniap_read_file(src, &text, &len) == 0);
    FILE *f = fopen(dst, "w");
    CHECK(f != NULL);
    if (f && text) {
        char *at = from ? strstr(text, from) : NULL;
        CHECK(!from || at != NULL);
        if (at) {
            fwrite(text, 1, (size_t)(at - text), f);
            fputs(to, f);
            fputs(at + strlen(from), f);
        } else
            fputs(text, f);
    }
    if (f)
        fclose(f);
    free(text);
}

/* Import expected to fail: the message names each of want[], nothing is
 * returned. */
static void refused(const char *tool, const char *src, const uniap_model *m, const uniap_cluster *c,
                    const char *want1, const char *want2)
{
    uniap_profile p;
    uniap_err_clear();
    CHECK(uniap_profile_import(tool, src, m, c, &p) < 0);
    CHECK_STR_CONTAINS(uniap_errmsg(), want1);
    if (want2)
        CHECK_STR_CONTAINS(uniap_errmsg(), want2);
    CHECK_EQ(p.n_layers, 0);
    CHECK_EQ(p.n_colls, 0);
    CHECK(p.notes == NULL);
}

static const char gpt3_fmt[] =
    "{\"name\": \"%s\", \"seq_len\": %d, \"param_dtype\": \"fp16\", \"layers\": ["
    "{\"type\": \"embedding\", \"hidden\": %d, \"vocab\": 51200, \"position\": \"learned\"},"
    "{\"type\": \"decoder\", \"count\": %d, \"hidden\": %d, \"heads\": 32, \"ffn\": %d, "
    "\"activation\": \"gelu\", \"norm\": \"layernorm\", \"bias\": true},"
    "{\"type\": \"head\", \"hidden\": %d, \"vocab\": 51200, \"norm\": \"layernorm\"}]}";

static void metis_bad(const char *dir, const uniap_model *m, const uniap_cluster *c,
                      const char *work)
{
    char json[1024], path[1200], src[1200], bad[1024];
    uniap_model other;

    /* models the files do not describe: 12 blocks, hidden 2048, seq 2048 */
    snprintf(json, sizeof(json), gpt3_fmt, "gpt3-12", 1024, 4096, 12, 4096, 16384, 4096);
    CHECK(uniap_model_parse(json, "gpt3-12", &other) == 0);
    refused("metis", dir, &other, c, "field 'model'.'num_layers' = 10", "'gpt3-12' has 12 blocks");
    uniap_model_free(&other);
    snprintf(json, sizeof(json), gpt3_fmt, "gpt3-h2048", 1024, 2048, 8, 2048, 8192, 2048);
    CHECK(uniap_model_parse(json, "gpt3-h2048", &other) == 0);
    refused("metis", dir, &other, c, "'parameters_per_layer_bytes'[1] = 202383360",
            "'gpt3-h2048' has blocks of 50358272 parameters (hidden 2048, ffn 8192");
    uniap_model_free(&other);
    snprintf(json, sizeof(json), gpt3_fmt, "gpt3-s2048", 2048, 4096, 8, 4096, 16384, 4096);
    CHECK(uniap_model_parse(json, "gpt3-s2048", &other) == 0);
    refused("metis", dir, &other, c, "'gpt3-s2048' has sequence length 2048", "at 1024");
    uniap_model_free(&other);

    /* a missing folder; another device's cluster */
    snprintf(path, sizeof(path), "%s/nothing", work);
    refused("metis", path, m, c, path, "no such Metis profile");
    uniap_cluster h100;
    CHECK(uniap_cluster_preset("h100-80g-4x8", &h100) == 0);
    refused("metis", dir, m, &h100, "devices found: A100", "give one file");

    /* a wrong field, a value out of range: the file and the field named */
    snprintf(bad, sizeof(bad), "%s/metis_bad", work);
    mkdir(bad, 0755);
    snprintf(src, sizeof(src), "%s/DeviceType.A100_tp1_bs1.json", dir);
    snprintf(path, sizeof(path), "%s/DeviceType.A100_tp1_bs1.json", bad);
    copy_edit(src, path, "\"layer_compute_total_ms\"", "\"layer_compute_ms\"");
    refused("metis", path, m, c, path, "field 'execution_time'.'layer_compute_total_ms'");
    copy_edit(src, path, "29.507994651794434", "-29.5");
    refused("metis", bad, m, c, path, "field 'execution_time'.'layer_compute_total_ms'[1]");
    copy_edit(src, path, "\"num_layers\": 10", "\"num_layers\": \"ten\"");
    refused("metis", path, m, c, path, "field 'model'.'num_layers'");
}

/* DeviceType.A100_tp{1,2,4}_bs{1,2,4}.json, "execution_time".
 * "layer_compute_total_ms" (forward + backward ms per layer; split 1 : 2):
 *   tp1_bs1: [0] 0.2892017364501953 (embedding), [1..8] 29.507994651794434,
 *            [9] 0.4100799560546875 (head)
 *   tp2_bs2: [1..8] 32.2415828704834
 *   tp4_bs4: [1..8] 35.823822021484375
 * The model's blocks are its layers 1..8, so Metis's [8] is row "@8". */
static void test_metis(const char *data, const char *specs, const char *work)
{
    char dir[512], path[1024];
    uniap_model m;
    uniap_cluster c;
    uniap_profile p, back, base;

    snprintf(dir, sizeof(dir), "%s/SamsungLabs_Metis/profile_data_samples", data);
    snprintf(path, sizeof(path), "%s/gpt3-metis.json", specs);
    CHECK(uniap_model_load(path, &m) == 0);
    CHECK(uniap_cluster_preset("a100-80g-2x8", &c) == 0);
    CHECK(uniap_profile_import("metis", dir, &m, &c, &p) == 0);
    CHECK_STR_CONTAINS(p.provenance, "imported:metis");
    const uniap_layer_prof *e = row(&p, "embedding.", 1, 1), *d = row(&p, "decoder.", 1, 1),
                           *h = row(&p, "head.", 1, 1);
    CHECK(e && d && h);
    if (e && d && h) {
        CHECK_NEAR(d->fwd.median, 29.507994651794434e-3 / 3, 1e-12, 0);
        CHECK_NEAR(d->bwd.median, 2 * 29.507994651794434e-3 / 3, 1e-12, 0);
        CHECK_NEAR(e->fwd.median, 0.2892017364501953e-3 / 3, 1e-12, 0);
        CHECK_NEAR(h->bwd.median, 2 * 0.4100799560546875e-3 / 3, 1e-12, 0);
        CHECK_EQ(d->rank, -1);
    }
    const uniap_layer_prof *d44 = row(&p, "decoder.", 4, 4);
    CHECK(d44 != NULL);
    if (d44)
        CHECK_NEAR(d44->fwd.median, 35.823822021484375e-3 / 3, 1e-12, 0);
    CHECK(row(&p, "decoder.", 8, 1) == NULL); /* Metis has tp 1, 2, 4 */
    CHECK(row(&p, "decoder.", 1, 8) == NULL); /* and bs 1, 2, 4 */
    /* per-position rows: every block at every point, layers 1..8 */
    const uniap_layer_prof *p1 = pos_row(&p, 1, 2, 2), *p8 = pos_row(&p, 8, 2, 2);
    CHECK(p1 && p8 && pos_row(&p, 0, 2, 2) == NULL && pos_row(&p, 9, 2, 2) == NULL);
    if (p1 && p8 && d) {
        CHECK_NEAR(p8->fwd.median, 32.2415828704834e-3 / 3, 1e-12, 0);
        CHECK_NEAR(p8->bwd.median, 2 * 32.2415828704834e-3 / 3, 1e-12, 0);
        CHECK(strncmp(p1->layer_type, d->layer_type, strlen(d->layer_type)) == 0);
    }
    CHECK_EQ(p.n_layers, 9 * (3 + 8)); /* 9 points x (embedding, block, head, 8 positions) */
    CHECK_EQ(p.tp_comm_in_layers, 1);  /* hooks around Megatron layers: with the all-reduces */
    /* memory columns: the analytic model's at the same point */
    int mbs[] = {1, 2, 4};
    CHECK(uniap_profile_analytic(&m, &c, mbs, 3, &base) == 0);
    const uniap_layer_prof *bd = row(&base, "decoder.", 2, 4), *pd = row(&p, "decoder.", 2, 4);
    CHECK(bd && pd);
    if (bd && pd) {
        CHECK_EQ(pd->act_bytes, bd->act_bytes);
        CHECK_EQ(pd->param_bytes, bd->param_bytes);
        CHECK(pd->fwd.median != bd->fwd.median);
    }
    uniap_profile_free(&base);
    CHECK_STR_CONTAINS(p.notes, "forward : backward = 1 : 2");
    CHECK_STR_CONTAINS(p.notes, "max_memory_reserved");
    CHECK_STR_CONTAINS(p.notes, "(tp/micro-batch) 1/1 1/2 1/4 2/1 2/2 2/4 4/1 4/2 4/4");
    snprintf(path, sizeof(path), "%s/metis.h5", work);
    CHECK(uniap_profile_write(path, &p) == 0);
    CHECK(uniap_profile_read(path, &back) == 0);
    CHECK_EQ(back.n_layers, p.n_layers);
    CHECK(back.notes && p.notes && strcmp(back.notes, p.notes) == 0);
    CHECK(pos_row(&back, 8, 2, 2) != NULL);
    CHECK_EQ(back.tp_comm_in_layers, 1);
    uniap_profile_free(&back);
    uniap_profile_free(&p);

    /* one file: its device's siblings of every tp and bs are read too */
    snprintf(path, sizeof(path), "%s/DeviceType.A100_tp2_bs1.json", dir);
    CHECK(uniap_profile_import("metis", path, &m, &c, &p) == 0);
    CHECK(row(&p, "decoder.", 4, 4) != NULL);
    uniap_profile_free(&p);
    metis_bad(dir, &m, &c, work);
    uniap_model_free(&m);
}

static void mist_bad(const char *cache, const uniap_model *m, const uniap_cluster *c,
                     const char *work)
{
    char path[1200], src[1200], dir[1024];
    uniap_model other;

    /* GPT 2.7B (hidden 2560): no entry at its shapes; Llama: not the GPT block */
    static const char gpt27[] =
        "{\"name\": \"gpt-2.7b\", \"seq_len\": 2048, \"param_dtype\": \"fp16\", \"attention\": "
        "\"flash\", \"layers\": [{\"type\": \"embedding\", \"hidden\": 2560, \"vocab\": 50304},"
        "{\"type\": \"decoder\", \"count\": 32, \"hidden\": 2560, \"heads\": 32, \"ffn\": 10240, "
        "\"activation\": \"gelu\", \"norm\": \"layernorm\", \"bias\": false},"
        "{\"type\": \"head\", \"hidden\": 2560, \"vocab\": 50304, \"norm\": \"layernorm\"}]}";
    CHECK(uniap_model_parse(gpt27, "gpt27", &other) == 0);
    refused("mist", cache, &other, c,
            "no mist.modules.layer_norm.layer_norm entry with x (1, "
            "2048, 2560)",
            "model 'gpt-2.7b' at tp 1, micro-batch 1");
    uniap_model_free(&other);
    CHECK(uniap_zoo_model("llama-7b", &other) == 0);
    refused("mist", cache, &other, c, "'llama-7b'", "not Mist's GPT block");
    uniap_model_free(&other);

    /* a missing folder; a cache lacking an op's file; a wrong field */
    snprintf(path, sizeof(path), "%s/nothing", work);
    refused("mist", path, m, c, path, "mist.modules.layer_norm.layer_norm.json");
    snprintf(dir, sizeof(dir), "%s/mist_part", work);
    mkdir(dir, 0755);
    snprintf(dir, sizeof(dir), "%s/mist_part/cache_NVIDIA_L4", work);
    mkdir(dir, 0755);
    snprintf(src, sizeof(src), "%s/mist.modules.layer_norm.layer_norm.json", cache);
    snprintf(path, sizeof(path), "%s/mist.modules.layer_norm.layer_norm.json", dir);
    copy_edit(src, path, NULL, NULL);
    snprintf(path, sizeof(path), "%s/mist_part", work); /* the node_database form */
    refused("mist", path, m, c,
            "mist_part/cache_NVIDIA_L4/mist.modules.fused_dense.fused_dense_func.json", NULL);
    snprintf(path, sizeof(path), "%s/mist.modules.layer_norm.layer_norm.json", dir);
    copy_edit(src, path, "0.0005557248055934906", "\"fast\""); /* x (1, 2048, 2048) fwd mean */
    refused("mist", dir, m, c, "cache_NVIDIA_L4/mist.modules.layer_norm.layer_norm.json: field",
            "'fwd': expected [mean, median, std] seconds");
}

/* Sums of the cache's medians (entry[1] of "fwd"/"bwd": [mean, median,
 * std]) at micro-batch 1, tp 1 (h 2048, 16 heads of 128, s 2048):
 *   layer_norm x (1, 2048, 2048)                 x2  5.550079941749573e-4   5.60128003358841e-4
 *   fused_dense x (1,2048,2048) weight (6144,2048)    9.861119985580444e-4   1.9363839626312257e-3
 *   flash_attn_qkvpacked qkv (1, 2048, 3, 16, 128)    4.7308799624443056e-4  1.2718080282211304e-3
 *   fused_dense weight (2048, 2048)                   4.1420800983905796e-4  8.407040238380433e-4
 *   dropout input (1, 2048, 2048)                x2  2.5599999353289605e-5  1.1008000001311302e-4
 *   _operator.add a (1, 2048, 2048)              x2  7.21920020878315e-5    1.3312000036239623e-4
 *   fused_dense weight (8192, 2048)                   1.2666879892349243e-3  2.5323519706726074e-3
 *   gelu input (1, 2048, 8192)                        1.4950400590896606e-4  3.824639916419983e-4
 *   fused_dense x (1,2048,8192) weight (2048,8192)    1.3199360370635986e-3  2.520064115524292e-3
 *   _make_viewless_tensor inp (1, 2048, 2048)         1.1264000087976456e-5  1.1724800243973732e-4
 * embedding: VocabParallelEmbedding input (1, 2048) 1.1161600053310394e-4, Dropout module
 * (1, 2048, 2048) 7.577600330114365e-5; head: layer_norm 5.550079941749573e-4, fused_dense
 * weight (50304, 2048) 7.654911994934082e-3, half (1, 2048, 50304) 2.0479999948292972e-6,
 * cross entropy (2048, 50304) 6.897664070129395e-3, mean (2048,) 4.812800139188767e-5.
 * Eager attention at micro-batch 2 replaces flash by: unbind 2.048e-6 / 0, 3 x transpose
 * (2, 2048, 16, 128) 2.048e-6 / 6.656000018119811e-5, transpose (2, 16, 2048, 128) dims 2,3
 * 2.048e-6 / 8.089599758386612e-5, baddbmm batch1 (32, 2048, 128) 1.1115520000457763e-3 /
 * 2.673664093017578e-3, softmax (32, 2048, 2048) 1.6783360242843628e-3 / 4.573184013366699e-3,
 * Identity (2, 16, 2048, 2048) 2.048e-6 / 2.276863932609558e-3, bmm 1.3818880319595337e-3 /
 * 2.519040107727051e-3, context transpose dims 1,2 2.048e-6 / 6.604800000786781e-5; the
 * block at micro-batch 2 with flash: 1.0190336061408744e-2 / 2.0007424268871546e-2, flash
 * itself 8.657920062541962e-4 / 2.6065920591354366e-3. */
static void test_mist(const char *data, const char *specs, const char *work)
{
    char cache[512], path[1024];
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;

    snprintf(cache, sizeof(cache), "%s/Dazz993_Mist/mist/node_database/cache_NVIDIA_L4", data);
    snprintf(path, sizeof(path), "%s/gpt-1.3b-mist.json", specs);
    CHECK(uniap_model_load(path, &m) == 0);
    snprintf(path, sizeof(path), "%s/l4-24g-1x8.json", specs);
    CHECK(uniap_cluster_load(path, &c) == 0);
    CHECK(uniap_profile_import("mist", cache, &m, &c, &p) == 0);
    CHECK_STR_CONTAINS(p.provenance, "imported:mist");
    const uniap_layer_prof *e = row(&p, "embedding.", 1, 1), *d = row(&p, "decoder.", 1, 1),
                           *h = row(&p, "head.", 1, 1);
    CHECK(e && d && h);
    if (e && d && h) {
        double f = 2 * 5.550079941749573e-4 + 9.861119985580444e-4 + 4.7308799624443056e-4 +
                   4.1420800983905796e-4 + 2 * 2.5599999353289605e-5 + 2 * 7.21920020878315e-5 +
                   1.2666879892349243e-3 + 1.4950400590896606e-4 + 1.3199360370635986e-3 +
                   1.1264000087976456e-5;
        double b = 2 * 5.60128003358841e-4 + 1.9363839626312257e-3 + 1.2718080282211304e-3 +
                   8.407040238380433e-4 + 2 * 1.1008000001311302e-4 + 2 * 1.3312000036239623e-4 +
                   2.5323519706726074e-3 + 3.824639916419983e-4 + 2.520064115524292e-3 +
                   1.1724800243973732e-4;
        CHECK_NEAR(d->fwd.median, f, 1e-12, 0);
        CHECK_NEAR(d->bwd.median, b, 1e-12, 0);
        CHECK_NEAR(e->fwd.median, 1.1161600053310394e-4 + 7.577600330114365e-5, 1e-12, 0);
        CHECK_NEAR(h->fwd.median,
                   5.550079941749573e-4 + 7.654911994934082e-3 + 2.0479999948292972e-6 +
                       6.897664070129395e-3 + 4.812800139188767e-5,
                   1e-12, 0);
    }
    CHECK(row(&p, "decoder.", 1, 8) != NULL);  /* micro-batches 1, 2, 4, 8 */
    CHECK(row(&p, "decoder.", 1, 16) == NULL); /* not in the cache */
    CHECK(row(&p, "decoder.", 2, 1) == NULL);  /* Mist profiled tp 1 only */
    CHECK_EQ(p.n_layers, 4 * 3);               /* no per-position rows: Mist has none */
    CHECK_EQ(p.tp_comm_in_layers, 0);
    CHECK_STR_CONTAINS(p.notes, "median of Mist's [mean, median, std]");
    CHECK_STR_CONTAINS(p.notes, "tp 2, micro-batch 1,2,4,8,16,32: no rows");
    CHECK_STR_CONTAINS(p.notes, "weight (3072, 2048) (the QKV projection at micro-batch 1)");
    CHECK_STR_CONTAINS(p.notes, "position-embedding lookup");
    const uniap_layer_prof *flash2 = row(&p, "decoder.", 1, 2);
    double flash2_f = flash2 ? flash2->fwd.median : 0, flash2_b = flash2 ? flash2->bwd.median : 0;
    CHECK_NEAR(flash2_f, 1.0190336061408744e-2, 1e-9, 0);
    uniap_profile_free(&p);

    /* eager attention: flash's entry replaced by the eager ops */
    uniap_training t = m.training;
    t.attention = UNIAP_ATTN_EAGER;
    CHECK(uniap_model_set_training(&m, &t, "test") == 0);
    CHECK(uniap_profile_import("mist", cache, &m, &c, &p) == 0);
    const uniap_layer_prof *eager2 = row(&p, "decoder.", 1, 2);
    CHECK(eager2 != NULL);
    if (eager2) {
        double ef = 2.048e-6 + 3 * 2.048e-6 + 2.048e-6 + 1.1115520000457763e-3 +
                    1.6783360242843628e-3 + 2.048e-6 + 1.3818880319595337e-3 + 2.048e-6;
        double eb = 0 + 3 * 6.656000018119811e-5 + 8.089599758386612e-5 + 2.673664093017578e-3 +
                    4.573184013366699e-3 + 2.276863932609558e-3 + 2.519040107727051e-3 +
                    6.604800000786781e-5;
        CHECK_NEAR(eager2->fwd.median, flash2_f - 8.657920062541962e-4 + ef, 1e-6, 0);
        CHECK_NEAR(eager2->bwd.median, flash2_b - 2.6065920591354366e-3 + eb, 1e-6, 0);
    }
    CHECK_STR_CONTAINS(p.notes, "(eager attention)");
    uniap_profile_free(&p);
    mist_bad(cache, &m, &c, work);
    uniap_model_free(&m);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_cost_import_peers DATASETS_DIR SPECS_DIR WORKDIR\n");
        return 2;
    }
    mkdir(argv[3], 0755);
    test_metis(argv[1], argv[2], argv[3]);
    test_mist(argv[1], argv[2], argv[3]);
    return check_report();
}
