/*
 * test_import.c - the importers of peers' published profiles
 * (costmodel/import*.c) on the real dataset files: AMP's known_cost on T4,
 * Sailor's OPT-350M on A100-40, Galvatron's Llama-7B; the figures land in
 * the rows they belong to, provenance and notes are set and survive a
 * write/read round trip (format 1.1 notes, 1.2 per-position rows and the
 * TP-communication mark), and bad input is refused
 * naming the file and field with nothing returned.
 * Usage: test_cost_import DATASETS_DIR SPECS_DIR WORKDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "uniap_costmodel.h"

static const uniap_layer_prof *row(const uniap_profile *p, const char *prefix, int tp, int b)
{
    for (int i = 0; i < p->n_layers; i++)
        if (p->layers[i].tp == tp && p->layers[i].micro_batch == b &&
            strncmp(p->layers[i].layer_type, prefix, strlen(prefix)) == 0)
            return &p->layers[i];
    return NULL;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_amp(const char *data, const char *specs, const char *work)
{
    char src[512], path[1024];
    uniap_model m;
    uniap_cluster c;
    uniap_profile p, back;

    snprintf(src, sizeof(src), "%s/DachengLi1_AMP_converted", data);
    snprintf(path, sizeof(path), "%s/gpt2-350m-amp.json", specs);
    CHECK(uniap_model_load(path, &m) == 0);
    snprintf(path, sizeof(path), "%s/t4-g4dn-16.json", specs);
    CHECK(uniap_cluster_load(path, &c) == 0);
    CHECK(uniap_profile_import("amp", src, &m, &c, &p) == 0);
    CHECK_STR_CONTAINS(p.provenance, "imported:amp");
    /* gpt2_G4_1.json: entries 2..25 average 5.470 ms, 0+1 = 0.354 ms */
    const uniap_layer_prof *d = row(&p, "decoder.", 1, 1), *e = row(&p, "embedding.", 1, 1);
    CHECK(d && e);
    if (d && e) {
        CHECK_NEAR(d->fwd.median, 5.470e-3, 1e-3, 0);
        CHECK_NEAR(d->bwd.median, 2 * d->fwd.median, 1e-12, 0);
        CHECK_NEAR(e->fwd.median, 0.3536e-3, 1e-3, 0);
        CHECK_EQ(d->rank, -1);
    }
    CHECK(row(&p, "decoder.", 4, 8) != NULL);
    CHECK(row(&p, "decoder.", 8, 1) == NULL); /* AMP has no mp 8 */
    /* per-position rows (format 1.2): values[2] = 4.904 ms is the first
     * block (model layer 1), values[20] = 5.828 ms the 19th (layer 19) */
    const uniap_layer_prof *d1 = NULL, *d19 = NULL;
    for (int i = 0; i < p.n_layers; i++) {
        const uniap_layer_prof *r = &p.layers[i];
        const char *at = strchr(r->layer_type, '@');
        if (r->tp == 1 && r->micro_batch == 1 && at && strcmp(at, "@1") == 0)
            d1 = r;
        if (r->tp == 1 && r->micro_batch == 1 && at && strcmp(at, "@19") == 0)
            d19 = r;
    }
    CHECK(d1 && d19);
    if (d1 && d19 && d) {
        CHECK_NEAR(d1->fwd.median, 4.904e-3, 1e-3, 0);
        CHECK_NEAR(d19->fwd.median, 5.828e-3, 1e-3, 0);
        CHECK_NEAR(d19->bwd.median, 2 * d19->fwd.median, 1e-12, 0);
        CHECK(strncmp(d1->layer_type, d->layer_type, strlen(d->layer_type)) == 0);
    }
    CHECK_EQ(p.tp_comm_in_layers, 1); /* AMP's mp > 1 times hold the all-reduces */
    /* tp 2 backward: gpt2_G4_2.json's blocks average f = 5.962 ms; the
     * compute share is the tp 1 mean 5.470 / 2 = 2.735 ms, so bwd = 2 x
     * 2.735 + (5.962 - 2.735) = 8.697 ms (not 2 x 5.962) */
    const uniap_layer_prof *d2 = row(&p, "decoder.", 2, 1);
    CHECK(d2 != NULL);
    if (d2) {
        CHECK_NEAR(d2->fwd.median, 5.962e-3, 1e-3, 0);
        CHECK_NEAR(d2->bwd.median, 8.697e-3, 1e-3, 0);
    }
    CHECK(p.notes != NULL);
    CHECK_STR_CONTAINS(p.notes, "differ by up to 19.0%");
    CHECK_STR_CONTAINS(p.notes, "backward = 2 x forward");
    snprintf(path, sizeof(path), "%s/amp.h5", work);
    CHECK(uniap_profile_write(path, &p) == 0);
    CHECK(uniap_profile_read(path, &back) == 0);
    CHECK_EQ(back.version_minor, UNIAP_PROFILE_VERSION_MINOR);
    CHECK(back.notes && p.notes && strcmp(back.notes, p.notes) == 0);
    CHECK_EQ(back.n_layers, p.n_layers);
    CHECK_EQ(back.tp_comm_in_layers, 1);
    uniap_profile_free(&back);
    uniap_profile_free(&p);

    /* one file: its siblings of other mp are read too */
    snprintf(path, sizeof(path), "%s/known_cost/gpt2_G4_2.json", src);
    CHECK(uniap_profile_import("amp", path, &m, &c, &p) == 0);
    CHECK(row(&p, "decoder.", 4, 1) != NULL);
    uniap_profile_free(&p);

    /* bad input: a wrong field, a missing file, an unknown tool */
    char bad[512];
    snprintf(bad, sizeof(bad), "%s/badamp", work);
    mkdir(bad, 0755);
    snprintf(path, sizeof(path), "%s/gpt2_G4_1.json", bad);
    write_text(path, "{\"values\": \"fast\"}");
    CHECK(uniap_profile_import("amp", path, &m, &c, &p) < 0);
    CHECK_STR_CONTAINS(uniap_errmsg(), path);
    CHECK_STR_CONTAINS(uniap_errmsg(), "field 'values'");
    CHECK_EQ(p.n_layers, 0);
    write_text(path, "{\"values\": [1, 2, 3]}");
    CHECK(uniap_profile_import("amp", path, &m, &c, &p) < 0);
    CHECK_STR_CONTAINS(uniap_errmsg(), "expected an array of 30");
    snprintf(path, sizeof(path), "%s/nothing/gpt2_G4_1.json", work);
    CHECK(uniap_profile_import("amp", path, &m, &c, &p) < 0);
    CHECK_STR_CONTAINS(uniap_errmsg(), path);
    CHECK(uniap_profile_import("piper", src, &m, &c, &p) == UNIAP_EINVAL);
    uniap_cluster_preset("a100-40g-1x8", &c);
    CHECK(uniap_profile_import("amp", src, &m, &c, &p) == UNIAP_EINVAL); /* not T4/V100 */
    CHECK_STR_CONTAINS(uniap_errmsg(), "give one known_cost file");
    uniap_model_free(&m);
}

static void test_sailor(const char *data, const char *work)
{
    static const char opt350[] =
        "{\"name\": \"opt-350m\", \"seq_len\": 2048, \"param_dtype\": \"fp16\", \"layers\": ["
        "{\"type\": \"embedding\", \"hidden\": 1024, \"vocab\": 50272, \"position\": \"learned\"},"
        "{\"type\": \"decoder\", \"count\": 24, \"hidden\": 1024, \"heads\": 16, \"ffn\": 4096, "
        "\"activation\": \"relu\", \"norm\": \"layernorm\", \"bias\": true},"
        "{\"type\": \"head\", \"hidden\": 1024, \"vocab\": 50272, \"norm\": \"layernorm\"}]}";
    char src[512], path[1024];
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;

    snprintf(src, sizeof(src),
             "%s/eth-easl_sailor/sailor/Planner/sailor_planner/profiles/OPT-350/A100-40", data);
    CHECK(uniap_model_parse(opt350, "opt350", &m) == 0);
    CHECK(uniap_cluster_preset("a100-40g-1x8", &c) == 0);
    CHECK(uniap_profile_import("sailor", src, &m, &c, &p) == 0);
    CHECK_STR_CONTAINS(p.provenance, "imported:sailor");
    /* mbs 1, tp 2: block 1 [0.001853, 0.003388], blocks 2..24 [0.001908, 0.003398] */
    const uniap_layer_prof *d = row(&p, "decoder.", 2, 1), *h = row(&p, "head.", 2, 1);
    CHECK(d && h);
    if (d && h) {
        CHECK_NEAR(d->fwd.median, (0.001853 + 23 * 0.001908) / 24, 1e-9, 0);
        CHECK_NEAR(d->bwd.median, (0.003388 + 23 * 0.003398) / 24, 1e-9, 0);
        CHECK_NEAR(h->fwd.median, 0.002604, 1e-9, 0);
    }
    /* per-position rows: block 1 (model layer 1) keeps its own
     * [0.001853, 0.003388], block 2 (layer 2) 0.001908 */
    const uniap_layer_prof *p1 = NULL, *p2 = NULL;
    for (int i = 0; i < p.n_layers; i++) {
        const uniap_layer_prof *r = &p.layers[i];
        const char *at = strchr(r->layer_type, '@');
        if (r->tp == 2 && r->micro_batch == 1 && at && strcmp(at, "@1") == 0)
            p1 = r;
        if (r->tp == 2 && r->micro_batch == 1 && at && strcmp(at, "@2") == 0)
            p2 = r;
    }
    CHECK(p1 && p2);
    if (p1 && p2) {
        CHECK_NEAR(p1->fwd.median, 0.001853, 1e-9, 0);
        CHECK_NEAR(p1->bwd.median, 0.003388, 1e-9, 0);
        CHECK_NEAR(p2->fwd.median, 0.001908, 1e-9, 0);
    }
    CHECK_EQ(p.tp_comm_in_layers, 1);
    CHECK(p.notes && strstr(p.notes, "update_s"));
    uniap_profile_free(&p);
    snprintf(path, sizeof(path), "%s/sailor_bad.json", work);
    write_text(path, "{\"1\": {\"1\": {\"0\": [0.1, 0.2, 0]}}}");
    CHECK(uniap_profile_import("sailor", path, &m, &c, &p) < 0);
    CHECK_STR_CONTAINS(uniap_errmsg(), "sailor_bad.json: field '1'.'1'");
    uniap_model_free(&m);
}

static void test_galvatron(const char *data)
{
    char src[1024];
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;

    snprintf(src, sizeof(src), "%s/PKU-DAIR_Hetu-Galvatron/galvatron/models/llama_hf/configs",
             data);
    CHECK(uniap_zoo_model("llama-7b", &m) == 0);
    CHECK(uniap_cluster_preset("a100-40g-1x8", &c) == 0);
    CHECK(uniap_profile_import("galvatron", src, &m, &c, &p) == 0);
    CHECK_STR_CONTAINS(p.provenance, "imported:galvatron");
    CHECK(p.n_layers > 0 && p.n_colls > 0);
    CHECK(p.notes && strstr(p.notes, "computation_profiling_bf16_"));
    uniap_profile_free(&p);
    uniap_model_free(&m);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: test_cost_import DATASETS_DIR SPECS_DIR WORKDIR\n");
        return 2;
    }
    mkdir(argv[3], 0755);
    test_amp(argv[1], argv[2], argv[3]);
    test_sailor(argv[1], argv[3]);
    test_galvatron(argv[1]);
    return check_report();
}
