/*
 * test_galvatron.c - Galvatron's strategy JSON and train_dist.yaml
 * overrides as a plan's other form (issue 14 items 2-3): plans Galvatron
 * can run, per-layer strategies among them, are exported
 * (uniap_plan_export_galvatron_launch), read back
 * (uniap_plan_import_galvatron) to the same plan and the same TPI and
 * per-stage memory (==); Galvatron's own configs of the shared dataset
 * are read as Galvatron runs them; keys and overrides are the listed ones
 * (galvatron_keys.txt, with its commit); the semantics the export once
 * got wrong are refused by name: ZeRO-1, DDP beside ZeRO-2, uniap's sp
 * written as Ulysses' use_sp, TP without sp in the JSON alone.
 */
#include <cjson/cJSON.h>

#include "rt_common.h"

static const int first0[2] = {0, 32}; /* the first stage only the embedding */
static char jkeys[64][96], jtype[64][16], okeys[64][96], otype[64][16];
static int n_json = -1, n_over = -1;

static void check_keys(const char *json, const char *over)
{
    cJSON *j = cJSON_Parse(json);
    CHECK(j != NULL);
    for (const cJSON *k = j ? j->child : NULL; k && n_json >= 0; k = k->next) {
        int i = rt_find(jkeys, n_json, k->string);
        int ok = i >= 0 && (strcmp(jtype[i], "int") ? cJSON_IsString(k) : cJSON_IsNumber(k));
        if (!ok)
            fprintf(stderr, "JSON key %s: not listed with its type\n", k->string);
        CHECK(ok);
    }
    cJSON_Delete(j);
    char buf[2048], *save = NULL;
    snprintf(buf, sizeof buf, "%s", over ? over : "");
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    for (char *t = strtok_r(buf, " ", &save); t && n_over >= 0; t = strtok_r(NULL, " ", &save)) {
        char *v = strchr(t, '=');
        CHECK(v != NULL);
        if (!v)
            continue;
        *v++ = '\0';
        int i = rt_find(okeys, n_over, t);
        int ok = i >= 0 && (strcmp(otype[i], "bool") || !strcmp(v, "true") || !strcmp(v, "false"));
        if (!ok)
            fprintf(stderr, "override %s=%s: not listed with its type\n", t, v);
        CHECK(ok);
    }
}

/* p -> (JSON, overrides) -> plan: the same plan and price. */
static void round_trip(const uniap_model *m, const uniap_cluster *cl, const uniap_plan *p,
                       int with_overrides, const char *expect)
{
    char *json = NULL, *over = NULL;
    uniap_plan b;
    int rc = with_overrides ? uniap_plan_export_galvatron_launch(p, m, "/cfg/g.json", &json, &over)
                            : uniap_plan_export_galvatron(p, m, &json);
    if (!rt_exported(rc))
        return;
    check_keys(json, over);
    if (expect)
        CHECK_STR_CONTAINS(json, expect);
    rt_read_back(uniap_plan_import_galvatron(json, "g.json", over, "overrides", m, cl, &b), m, cl,
                 p, &b, json, over);
    free(json);
    free(over);
}

static void refused(const uniap_model *m, const uniap_plan *p, const char *msg)
{
    char *json = (char *)1;
    uniap_err_clear();
    CHECK_EQ(uniap_plan_export_galvatron(p, m, &json), UNIAP_EINVAL);
    CHECK(json == NULL);
    CHECK_STR_CONTAINS(uniap_errmsg(), msg);
}

/* Galvatron's published configs, read as Galvatron runs them. */
static void shared_configs(const uniap_model *m, const uniap_cluster *cl)
{
    const char *root = getenv("UNIAP_SHARED_DATASETS");
    char path[1024], *text = NULL;
    size_t len;
    uniap_plan b;
    snprintf(path, sizeof path,
             "%s/PKU-DAIR_Hetu-Galvatron/galvatron/models/llama_fa/configs/"
             "galvatron_config_llama-7b_2nodes_8gpus_per_node_40GB_bf16_3D_example.json",
             root ? root : "");
    if (!root || uniap_read_file(path, &text, &len) != 0) {
        printf("SKIP: the shared Galvatron configs are absent (%s)\n", path);
        uniap_err_clear();
        return;
    }
    /* pp 2, pp_division 16,16, tp 2 consecutive on every layer, zero2,
     * global 256 in 32 chunks, pipedream_flush; no vtp: 1 */
    CHECK_EQ(uniap_plan_import_galvatron(text, path, NULL, NULL, m, cl, &b), 0);
    CHECK_EQ(b.deg, 2);
    CHECK_EQ(b.micro_batches, 32);
    CHECK_EQ(b.micro_batch, 8);
    CHECK_EQ(b.schedule, UNIAP_SCHED_1F1B);
    CHECK_EQ(b.stage_of[16], 0);
    CHECK_EQ(b.stage_of[17], 1);
    CHECK(strcmp(b.strategy_of[5].name, "dp4.tp2c.zero2.sp") == 0);
    CHECK(strcmp(b.strategy_of[0].name, "dp8.tp1.zero2") == 0);
    round_trip(m, cl, &b, 0, "\"pp_division\":\t\"16,16\"");
    uniap_plan_free(&b);
    free(text);
    /* a config of Galvatron's search with Ulysses on the vocabulary (vsp 1) */
    snprintf(path, sizeof path,
             "%s/PKU-DAIR_Hetu-Galvatron/galvatron/models/gpt/configs/"
             "galvatron_config_llama2-7b_1nodes_8gpus_per_node_36GB_bf16.json",
             root);
    if (uniap_read_file(path, &text, &len) == 0) {
        uniap_cluster c8;
        CHECK_EQ(uniap_cluster_resolve("a100-40g-1x8", &c8), 0);
        /* the search wrote embed_sdp 1, which Galvatron's runtime reads as
         * vocab_sdp: refused alone, read with the override that says it */
        uniap_err_clear();
        CHECK_EQ(uniap_plan_import_galvatron(text, path, NULL, NULL, m, &c8, &b), UNIAP_EINVAL);
        CHECK_STR_CONTAINS(uniap_errmsg(), "\"embed_sdp\" 1, but Galvatron's runtime reads");
        /* pp 1 on 8 devices; every layer sdp (dp_types_enc 1: ZeRO-3) at
         * tp 1: dp8; layers 0-19 checkpointed; global 16 in 1 chunk; the
         * vocabulary vtp 2 with vsp 1: Ulysses over 2 ranks with tp 1,
         * dp 8 / 2 = 4, sdp (vocab_sdp 1) */
        CHECK_EQ(uniap_plan_import_galvatron(text, path, "runtime.parallel.vocab_sdp=1", "over", m,
                                             &c8, &b),
                 0);
        CHECK(strcmp(b.strategy_of[0].name, "dp4.cp2u.tp1.zero3") == 0);
        CHECK(strcmp(b.strategy_of[33].name, "dp4.cp2u.tp1.zero3") == 0);
        CHECK(strcmp(b.strategy_of[1].name, "dp8.tp1.zero3.ckpt") == 0);
        CHECK(strcmp(b.strategy_of[21].name, "dp8.tp1.zero3") == 0);
        CHECK_EQ(b.micro_batches, 1);
        CHECK_EQ(b.micro_batch, 16);
        round_trip(m, &c8, &b, 1, "\"vsp\":\t1");
        uniap_plan_free(&b);
        free(text);
    }
}

/* Per-layer strategies, TP without sp, GPipe and DDP round trip. */
static void per_layer(const uniap_model *m, const uniap_cluster *cl)
{
    uniap_plan p;
    /* per-layer strategies: pp 2 (15 + 17 blocks), tp 2 and strided tp 4,
     * sdp on some layers, zero2 elsewhere, checkpointing per layer, the
     * vocabulary at tp 2 with sdp */
    int split[2] = {15, 17};
    CHECK_EQ(rt_plan(m, cl, 2, split, "dp4.tp2c.zero2.sp", "dp4.tp2c.zero3.sp", 64, 8, 1, &p), 0);
    for (int u = 3; u < 9; u++)
        uniap_strategy_parse(u % 2 ? "dp2.tp4s.zero3.sp.ckpt" : "dp2.tp4c.zero2.sp",
                             &p.strategy_of[u]);
    uniap_strategy_parse("dp8.tp1.zero3.ckpt", &p.strategy_of[20]);
    round_trip(m, cl, &p, 1, "\"tp_sizes_enc\":\t\"2,2,4,4,4,4,4,4,2,2,2,2,2,2,2,2,2,2,2,1,2");
    round_trip(m, cl, &p, 0, "\"default_dp_type\":\t\"zero2\"");
    char *json = NULL;
    CHECK_EQ(uniap_plan_export_galvatron(&p, m, &json), 0);
    if (json) {
        CHECK_STR_CONTAINS(json, "\"tp_consecutive_flags\":\t\"1,1,0,1,0,1,0,1,1");
        CHECK_STR_CONTAINS(json, "\"dp_types_enc\":\t\"0,0,1,0,1,0,1,0,0,0,0,0,0,0,0,0,0,0,0,1,0");
        CHECK_STR_CONTAINS(json, "\"use_sp\":\t\"0,0,0,0,0"); /* uniap's sp is not Ulysses */
        CHECK_STR_CONTAINS(json, "\"checkpoint\":\t\"0,0,1,0,1,0,1,0,0");
        CHECK_STR_CONTAINS(json, "\"vtp\":\t2");
        CHECK_STR_CONTAINS(json, "\"vocab_sdp\":\t1");
        CHECK_STR_CONTAINS(json, "\"pipeline_type\":\t\"pipedream_flush\"");
    }
    free(json);
    uniap_plan_free(&p);
    /* context parallelism per layer: ring cp 2 with tp 2 on blocks 3-5,
     * Ulysses cp 4 (tp 1) on 6-8, the vocabulary Ulysses cp 2 */
    CHECK_EQ(rt_plan(m, cl, 2, NULL, "dp4.tp2c.zero2.sp", "dp4.cp2u.tp1.zero3", 64, 8, 1, &p), 0);
    for (int u = 3; u < 6; u++)
        CHECK_EQ(uniap_strategy_parse("dp2.cp2.tp2c.zero2.sp", &p.strategy_of[u]), 0);
    for (int u = 6; u < 9; u++)
        CHECK_EQ(uniap_strategy_parse("dp2.cp4u.tp1.zero3", &p.strategy_of[u]), 0);
    round_trip(m, cl, &p, 1, "\"cp_sizes_enc\":\t\"1,1,2,2,2,1,1,1,1");
    json = NULL;
    if (uniap_plan_export_galvatron(&p, m, &json) == 0) {
        CHECK_STR_CONTAINS(json, "\"tp_sizes_enc\":\t\"2,2,2,2,2,4,4,4,2");
        CHECK_STR_CONTAINS(json, "\"use_sp\":\t\"0,0,0,0,0,1,1,1,0");
        CHECK_STR_CONTAINS(json, "\"vtp\":\t2,\n\t\"vsp\":\t1,\n\t\"vcp\":\t1");
    }
    free(json);
    /* Ulysses with TP; the edges disagreeing on Ulysses */
    CHECK_EQ(uniap_strategy_parse("dp2.cp2u.tp2c.zero2", &p.strategy_of[4]), 0);
    refused(m, &p, "layer 4 uses dp2.cp2u.tp2c.zero2: Galvatron's Ulysses (use_sp)");
    CHECK_EQ(uniap_strategy_parse("dp2.cp2.tp2c.zero2.sp", &p.strategy_of[4]), 0);
    CHECK_EQ(uniap_strategy_parse("dp4.cp2.tp1.zero3", &p.strategy_of[33]), 0);
    refused(m, &p, "the embedding and the head share one vtp, vsp, vcp and vocab_sdp");
    uniap_plan_free(&p);
    /* TP without sp: only with the overrides (sequence_parallel=false);
     * GPipe; DDP */
    CHECK_EQ(rt_plan(m, cl, 1, NULL, "dp8.tp2c.ddp", "dp8.tp2c.ddp", 64, 4, 0, &p), 0);
    refused(m, &p, "TP without sequence parallelism needs train.sequence_parallel false");
    round_trip(m, cl, &p, 1, "\"default_dp_type\":\t\"ddp\"");
    uniap_plan_free(&p);
}

/* What Galvatron cannot run, refused by name. */
static void plan_refusals(const uniap_model *m, const uniap_cluster *cl)
{
    uniap_plan p;
    /* what Galvatron cannot run */
    const rt_refusal no[] = {
        {2, NULL, "dp4.tp2c.zero1.sp", "dp4.tp2c.zero1.sp", "Galvatron has no ZeRO-1", 1},
        {2, NULL, "dp4.tp2c.zero2.sp.selckpt", "dp4.tp2c.zero2.sp", "whole transformer layers", 1},
        {2, first0, "dp4.tp2c.zero2.sp", "dp4.tp2c.zero2.sp",
         "layer 0 (embedding) is on stage 0, its neighbouring transformer layer 1 on stage 1", 1},
        {2, NULL, "dp4.tp2c.zero2.sp", "dp2.tp4s.zero2.sp", "vocabulary TP ranks are adjacent", 1},
    };
    rt_refusals(m, cl, no, sizeof no / sizeof no[0], refused);
    CHECK_EQ(rt_plan(m, cl, 2, NULL, "dp4.tp2c.zero2.sp", "dp4.tp2c.zero2.sp", 64, 4, 1, &p), 0);
    uniap_strategy_parse("dp4.tp2c.sp", &p.strategy_of[9]);
    refused(m, &p,
            "layer 9 uses dp4.tp2c.ddp.sp, layer 0 dp4.tp2c.zero2.sp: Galvatron runs one "
            "default_dp_type");
    uniap_strategy_parse("dp4.tp2c.zero2", &p.strategy_of[9]);
    refused(m, &p, "sequence parallelism is one flag (train.sequence_parallel)");
    uniap_strategy_parse("dp8.tp1.zero2", &p.strategy_of[33]);
    uniap_strategy_parse("dp4.tp2c.zero2.sp", &p.strategy_of[9]);
    refused(m, &p,
            "layer 33 uses dp8.tp1.zero2, layer 0 dp4.tp2c.zero2.sp: the embedding and the "
            "head share one vtp");
    uniap_plan_free(&p);
}

/* The reader: Ulysses, unknown keys, disagreeing overrides, defaults. */
static void reader_cases(const uniap_model *m, const uniap_cluster *cl)
{
    /* the reader: Ulysses, unknown keys, disagreeing overrides */
    const char *g = "{\"pp_deg\": 1, \"tp_sizes_enc\": \"%s\", \"tp_consecutive_flags\": \"%s\", "
                    "\"dp_types_enc\": \"%s\", \"global_bsz\": 64, \"chunks\": 4%s}";
    char tp[256] = "", ones[256] = "", zeros[256] = "", buf[2048];
    for (int i = 0; i < 32; i++) {
        strcat(tp, i ? ",2" : "2");
        strcat(ones, i ? ",1" : "1");
        strcat(zeros, i ? ",0" : "0");
    }
    uniap_plan b;
    snprintf(buf, sizeof buf, g, tp, ones, zeros, ", \"use_sp\": \"1\"");
    uniap_err_clear();
    CHECK_EQ(uniap_plan_import_galvatron(buf, "g.json", NULL, NULL, m, cl, &b), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "g.json: \"use_sp\": entry 0: expected 32 integers");
    /* one Ulysses layer */
    char sp1[256];
    snprintf(sp1, sizeof sp1, "%s", zeros);
    sp1[2] = '1';
    char extra[300];
    snprintf(extra, sizeof extra, ", \"use_sp\": \"%s\"", sp1);
    snprintf(buf, sizeof buf, g, tp, ones, zeros, extra);
    uniap_err_clear();
    /* ... is uniap's Ulysses cp over the layer's tp ranks, with tp 1:
     * 16 devices / cp 2 = dp 8 */
    CHECK_EQ(uniap_plan_import_galvatron(buf, "g.json", NULL, NULL, m, cl, &b), 0);
    CHECK(strcmp(b.strategy_of[2].name, "dp8.cp2u.tp1.ddp") == 0);
    CHECK(strcmp(b.strategy_of[3].name, "dp8.tp2c.ddp.sp") == 0);
    uniap_plan_free(&b);
    /* ring cp on layer 2 (cp_sizes_enc): tp 2 x cp 2, dp 4; with Ulysses
     * on the same layer: refused */
    char cp1[256], extra2[600];
    snprintf(cp1, sizeof cp1, "%s", ones);
    cp1[4] = '2';
    snprintf(extra2, sizeof extra2, ", \"cp_sizes_enc\": \"%s\"", cp1);
    snprintf(buf, sizeof buf, g, tp, ones, zeros, extra2);
    CHECK_EQ(uniap_plan_import_galvatron(buf, "g.json", NULL, NULL, m, cl, &b), 0);
    CHECK(strcmp(b.strategy_of[3].name, "dp4.cp2.tp2c.ddp.sp") == 0);
    uniap_plan_free(&b);
    cp1[4] = '1', cp1[2] = '2';
    snprintf(extra2, sizeof extra2, ", \"cp_sizes_enc\": \"%s\", \"use_sp\": \"%s\"", cp1, sp1);
    snprintf(buf, sizeof buf, g, tp, ones, zeros, extra2);
    uniap_err_clear();
    CHECK_EQ(uniap_plan_import_galvatron(buf, "g.json", NULL, NULL, m, cl, &b), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "transformer layer 1 runs Ulysses over 2 ranks and ring "
                                       "attention over 2");
    /* Galvatron's search writes embed_sdp, its runtime reads vocab_sdp */
    snprintf(buf, sizeof buf, g, tp, ones, zeros, ", \"embed_sdp\": 1");
    uniap_err_clear();
    CHECK_EQ(uniap_plan_import_galvatron(buf, "g.json", NULL, NULL, m, cl, &b), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "g.json: \"embed_sdp\" 1, but Galvatron's runtime reads "
                                       "\"vocab_sdp\", 0 here");
    uniap_err_clear();
    snprintf(buf, sizeof buf, g, tp, ones, zeros, ", \"foo\": 1");
    CHECK_EQ(uniap_plan_import_galvatron(buf, "g.json", NULL, NULL, m, cl, &b), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "g.json: \"foo\" is not a Galvatron config key");
    snprintf(buf, sizeof buf, g, tp, ones, zeros, "");
    uniap_err_clear();
    CHECK_EQ(uniap_plan_import_galvatron(buf, "g.json", "runtime.train.chunks=8", "ov", m, cl, &b),
             UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "ov: runtime.train.chunks=8, but the JSON config has 4");
    /* defaults: sequence_parallel on, ddp, gpipe */
    CHECK_EQ(uniap_plan_import_galvatron(buf, "g.json", NULL, NULL, m, cl, &b), 0);
    CHECK(strcmp(b.strategy_of[4].name, "dp8.tp2c.ddp.sp") == 0);
    CHECK_EQ(b.schedule, UNIAP_SCHED_GPIPE);
    uniap_plan_free(&b);
    CHECK_EQ(uniap_plan_import_galvatron(buf, "g.json", "runtime.train.sequence_parallel=false",
                                         "ov", m, cl, &b),
             0);
    CHECK(strcmp(b.strategy_of[4].name, "dp8.tp2c.ddp") == 0);
    uniap_plan_free(&b);
}

int main(int argc, char **argv)
{
    uniap_model m;
    uniap_cluster cl;
    CHECK(argc == 2);
    n_json = rt_load_list(argv[1], "json", jkeys, jtype, 64);
    n_over = rt_load_list(argv[1], "override", okeys, otype, 64);
    if (n_json < 0)
        printf("SKIP: %s absent: keys not checked\n", argv[1]);
    else
        CHECK(n_json >= 14 && n_over >= 9);
    rt_setup("llama-7b", "a100-80g-2x8", 0, &m, &cl);

    per_layer(&m, &cl);
    plan_refusals(&m, &cl);
    reader_cases(&m, &cl);
    shared_configs(&m, &cl);
    uniap_model_free(&m);
    return check_report();
}
