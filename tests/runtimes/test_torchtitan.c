/*
 * test_torchtitan.c - torchtitan's TOML job config as a plan's other form
 * (issue 14 items 2-3): plans torchtitan v0.2.2 can run are exported
 * (uniap_plan_export_torchtitan), read back (uniap_plan_import_torchtitan)
 * to the same plan, layer by layer, and cost the same TPI and per-stage
 * memory (==); the TOML is parsed independently by Python's tomllib (when
 * python3 has it) and every table.key is a JobConfig field of the listed
 * type and values (torchtitan_keys.txt, with its commit); what torchtitan
 * cannot run is refused by name, and so is bad input to the reader.
 */
#include <unistd.h>

#include <cjson/cJSON.h>

#include "rt_common.h"

static char keys[64][96], ktype[64][16], kvals[64][96];
static int n_keys = -1;

/* The fourth word of each key line (the Literal values or "-"). */
static void load_values(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512], k[16], n[96], t[16];
    int i = 0;
    while (f && fgets(line, sizeof line, f) && i < 64)
        if (line[0] != '#' && sscanf(line, "%15s %95s %15s %95s", k, n, t, kvals[i]) == 4 &&
            !strcmp(k, "key"))
            i++;
    if (f)
        fclose(f);
}

/* One leaf of the tomllib JSON: a listed key, its type and value. */
static void check_leaf(const char *path, const cJSON *v)
{
    int i = rt_find(keys, n_keys, path);
    const char *t = i < 0 ? "?" : ktype[i];
    int ok = i >= 0;
    if (ok && !strcmp(t, "int"))
        ok = cJSON_IsNumber(v) && v->valuedouble == (double)(long)v->valuedouble;
    else if (ok && !strcmp(t, "str")) {
        ok = cJSON_IsString(v);
        if (ok && strcmp(kvals[i], "-")) { /* a Literal: one of its values */
            char w[100];
            snprintf(w, sizeof w, ",%s,", v->valuestring);
            char all[100];
            snprintf(all, sizeof all, ",%s,", kvals[i]);
            ok = strstr(all, w) != NULL;
        }
    } else if (ok && !strcmp(t, "strlist")) {
        ok = cJSON_IsArray(v);
        for (const cJSON *s = v ? v->child : NULL; s && ok; s = s->next) {
            char w[100], all[100];
            snprintf(w, sizeof w, ",%s,", cJSON_IsString(s) ? s->valuestring : "");
            snprintf(all, sizeof all, ",%s,", kvals[i]);
            ok = cJSON_IsString(s) && (!strcmp(kvals[i], "-") || strstr(all, w) != NULL);
        }
    } else if (ok && !strcmp(t, "strlistlist")) {
        ok = cJSON_IsArray(v);
        for (const cJSON *a = v ? v->child : NULL; a && ok; a = a->next) {
            ok = cJSON_IsArray(a);
            for (const cJSON *s = a->child; s && ok; s = s->next)
                ok = cJSON_IsString(s);
        }
    }
    if (!ok)
        fprintf(stderr, "TOML key %s: not a listed torchtitan field of type %s\n", path, t);
    CHECK(ok);
}

/* The leaves under table t (named path): nested tables ([a.b.c]) by
 * their dotted path. */
static void check_table(const char *path, const cJSON *t)
{
    for (const cJSON *k = t->child; k; k = k->next) {
        char key[160];
        snprintf(key, sizeof key, "%s.%s", path, k->string);
        if (cJSON_IsObject(k))
            check_table(key, k);
        else if (n_keys >= 0)
            check_leaf(key, k);
    }
}

/* Python's tomllib reads the TOML; every table.key is listed. */
static void check_toml(const char *toml)
{
    char path[] = "/tmp/uniap_tt_XXXXXX", cmd[512], out[16384];
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(toml, f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys,tomllib; print(json.dumps(tomllib.load("
             "open(sys.argv[1],\"rb\"))))' %s 2>/dev/null",
             path);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    int st = p ? pclose(p) : -1;
    unlink(path);
    out[n] = '\0';
    if (st != 0) {
        static int said;
        if (!said++)
            printf("SKIP: python3 with tomllib not found: the TOML is not parsed independently\n");
        return;
    }
    cJSON *j = cJSON_Parse(out);
    CHECK(j != NULL);
    for (const cJSON *t = j ? j->child : NULL; t; t = t->next) {
        CHECK(cJSON_IsObject(t)); /* every key sits in a table */
        if (cJSON_IsObject(t))
            check_table(t->string, t);
    }
    cJSON_Delete(j);
}

/* p -> TOML -> plan: the same plan and price; returns the TOML. */
static char *round_trip(const uniap_model *m, const uniap_cluster *cl, const uniap_plan *p)
{
    char *toml = NULL;
    uniap_plan b;
    if (!rt_exported(uniap_plan_export_torchtitan(p, m, &toml)))
        return NULL;
    check_toml(toml);
    rt_read_back(uniap_plan_import_torchtitan(toml, "job.toml", m, cl, &b), m, cl, p, &b, toml,
                 NULL);
    return toml;
}

static void refused(const uniap_model *m, const uniap_plan *p, const char *msg)
{
    char *toml = (char *)1;
    uniap_err_clear();
    CHECK_EQ(uniap_plan_export_torchtitan(p, m, &toml), UNIAP_EINVAL);
    CHECK(toml == NULL);
    CHECK_STR_CONTAINS(uniap_errmsg(), msg);
}

static void read_refused(const uniap_model *m, const uniap_cluster *cl, const char *toml,
                         const char *msg)
{
    uniap_plan b;
    uniap_err_clear();
    CHECK_EQ(uniap_plan_import_torchtitan(toml, "job.toml", m, cl, &b), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), msg);
}

static void refusals(const uniap_model *m, const uniap_cluster *cl)
{
    uniap_plan p;
    const rt_refusal no[] = {
        {2, NULL, "dp4.tp2c.zero1.sp", "dp4.tp2c.zero1.sp", "ZeRO-1 (dp4.tp2c.zero1.sp)", 1},
        {1, NULL, "dp8.tp2c.zero2.sp", "dp8.tp2c.zero2.sp", "ZeRO-2", 1},
        {2, NULL, "dp4.tp2c.zero3", "dp4.tp2c.zero3", "tp 2 without sequence parallelism", 1},
        {1, NULL, "dp8.tp2c.sp", "dp8.tp2c.sp", "DDP with tp 2 and pp 1", 1},
        {2, NULL, "dp2.tp4s.zero3.sp", "dp2.tp4s.zero3.sp", "strided TP groups", 1},
        {2, NULL, "dp4.tp2c.zero3.sp.selckpt", "dp4.tp2c.zero3.sp", "\"full\" on every block", 1},
        {1, NULL, "dp16.tp1.ddp", "dp16.tp1.ddp", "schedule gpipe on one stage", 0},
        {2, NULL, "dp1.tp8c.sp", "dp1.tp8c.sp", "mixed precision with tp 8, pp 2 and no FSDP", 1},
    };
    rt_refusals(m, cl, no, sizeof no / sizeof no[0], refused);
    /* interleaving: each stage's blocks must split into v whole parts */
    uniap_schedule v2 = -1;
    CHECK_EQ(uniap_schedule_parse("interleaved2", &v2), 0);
    int odd[2] = {15, 17};
    CHECK_EQ(rt_plan(m, cl, 2, odd, "dp4.tp2c.zero3.sp", "dp4.tp2c.zero3.sp", 64, 4, v2, &p), 0);
    refused(m, &p, "stage 0 holds 15 blocks, not a positive multiple of its 2 model chunks");
    uniap_plan_free(&p);
    CHECK_EQ(rt_plan(m, cl, 2, NULL, "dp4.tp2c.zero3.sp", "dp4.tp2c.zero3.sp", 64, 4, 1, &p), 0);
    uniap_strategy_parse("dp4.tp2c.zero3.sp.ckpt", &p.strategy_of[7]);
    refused(m, &p, "block 6 (layer 7, stage 0) uses dp4.tp2c.zero3.sp.ckpt, another block not");
    uniap_plan_free(&p);
    /* a model torchtitan's llama3 cannot build */
    uniap_model g;
    CHECK_EQ(uniap_model_resolve("gpt3-175b", &g), 0);
    CHECK_EQ(rt_plan(&g, cl, 1, NULL, "dp2.tp8c.zero3.sp", "dp2.tp8c.zero3.sp", 64, 4, 1, &p), 0);
    refused(&g, &p, "model 'gpt3-175b' has an MLP that is not SwiGLU");
    uniap_plan_free(&p);
    uniap_model_free(&g);
}

/* Interleaved1F1B: pp v model parts in model order, part k on rank
 * k mod pp (torchtitan's "loop" style), read back to the same stages and
 * schedule. Hand-worked for llama-7b's 32 blocks: pp 2, v 2, stages of 16
 * blocks: 4 parts of 8, part 0 (rank 0) layers 0-7 after the embedding,
 * part 1 (rank 1) 8-15, part 2 (rank 0) 16-23, part 3 (rank 1) 24-31 and
 * the norm and output; stages of 12 and 20 blocks: parts of 6, 10, 6, 10,
 * i.e. 0-5, 6-15, 16-21, 22-31; pp 2, v 4: 8 parts of 4. */
static void read_refused(const uniap_model *m, const uniap_cluster *cl, const char *toml,
                         const char *msg);

static void interleaved_cases(const uniap_model *m, const uniap_cluster *cl)
{
    uniap_schedule v2 = -1, v4 = -1;
    uniap_plan p;
    CHECK_EQ(uniap_schedule_parse("interleaved2", &v2), 0);
    CHECK_EQ(uniap_schedule_parse("interleaved4", &v4), 0);
    CHECK_EQ(rt_plan(m, cl, 2, NULL, "dp4.tp2c.zero3.sp", "dp4.tp2c.zero3.sp", 64, 4, v2, &p), 0);
    char *t = round_trip(m, cl, &p);
    if (t) {
        CHECK_STR_CONTAINS(t, "pipeline_parallel_schedule = \"Interleaved1F1B\"");
        CHECK_STR_CONTAINS(t, "[\n    [\"tok_embeddings\", \"layers.0\", ");
        CHECK_STR_CONTAINS(t, "\"layers.7\"],\n    [\"layers.8\", ");
        CHECK_STR_CONTAINS(t, "\"layers.15\"],\n    [\"layers.16\", ");
        CHECK_STR_CONTAINS(t, "\"layers.23\"],\n    [\"layers.24\", ");
        CHECK_STR_CONTAINS(t, "\"layers.31\", \"norm\", \"output\"]\n]\n");
        /* the same 4 parts under plain 1F1B: one part per rank expected */
        char *q = strstr(t, "\"Interleaved1F1B\""), buf[4096];
        CHECK(q != NULL && strlen(t) < sizeof buf);
        if (q && strlen(t) < sizeof buf) {
            snprintf(buf, sizeof buf, "%.*s\"1F1B\"%s", (int)(q - t), t, q + 17);
            read_refused(m, cl, buf, "has 4 parts for pipeline_parallel_degree 2 (2 expected)");
        }
    }
    free(t);
    uniap_plan_free(&p);
    /* Interleaved1F1B over one part per rank: no model chunks */
    CHECK_EQ(rt_plan(m, cl, 2, NULL, "dp4.tp2c.zero3.sp", "dp4.tp2c.zero3.sp", 64, 4, 1, &p), 0);
    uniap_plan_export_torchtitan(&p, m, &t);
    char *q = t ? strstr(t, "\"1F1B\"") : NULL, buf[4096];
    CHECK(q != NULL && strlen(t) < sizeof buf);
    if (q && strlen(t) < sizeof buf) {
        snprintf(buf, sizeof buf, "%.*s\"Interleaved1F1B\"%s", (int)(q - t), t, q + 6);
        read_refused(m, cl, buf,
                     "\"Interleaved1F1B\" with 2 parts in module_fqns_per_model_part on "
                     "pipeline_parallel_degree 2: uniap reads 2, 3 or 4 model parts per rank");
    }
    free(t);
    uniap_plan_free(&p);
    int uneven[2] = {12, 20};
    CHECK_EQ(rt_plan(m, cl, 2, uneven, "dp4.tp2c.zero3.sp", "dp4.tp2c.zero3.sp", 64, 4, v2, &p), 0);
    t = round_trip(m, cl, &p);
    if (t) {
        CHECK_STR_CONTAINS(t, "\"layers.5\"],\n    [\"layers.6\", ");
        CHECK_STR_CONTAINS(t, "\"layers.15\"],\n    [\"layers.16\", ");
        CHECK_STR_CONTAINS(t, "\"layers.21\"],\n    [\"layers.22\", ");
    }
    free(t);
    uniap_plan_free(&p);
    CHECK_EQ(rt_plan(m, cl, 2, NULL, "dp4.tp2c.zero3.sp", "dp4.tp2c.zero3.sp", 64, 4, v4, &p), 0);
    t = round_trip(m, cl, &p);
    if (t) {
        CHECK_STR_CONTAINS(t, "\"layers.3\"],\n    [\"layers.4\", ");
        CHECK_STR_CONTAINS(t, "\"layers.27\"],\n    [\"layers.28\", ");
        int parts = 0; /* the list's brackets up to its closing "\n]" */
        const char *q = strstr(t, "module_fqns_per_model_part");
        for (; q && *q && strncmp(q, "\n]", 2); q++)
            parts += *q == '[';
        CHECK_EQ(parts, 1 + 8);
    }
    free(t);
    uniap_plan_free(&p);
}

/* The reader: torchtitan's defaults, and what uniap does not read. */
static void reader_cases(const uniap_model *m, const uniap_cluster *cl)
{
    /* the reader: torchtitan's defaults, and what uniap does not read */
    const char *base = "[parallelism]\ntensor_parallel_degree = 2\n[training]\n"
                       "local_batch_size = 2\nseq_len = 2048\n";
    char buf[1024];
    read_refused(m, cl, base, "[activation_checkpoint] mode \"selective\" (torchtitan's default");
    snprintf(buf, sizeof buf, "%s[activation_checkpoint]\nmode = \"none\"\n", base);
    uniap_plan b;
    CHECK_EQ(uniap_plan_import_torchtitan(buf, "job.toml", m, cl, &b), 0); /* shard -1: 8 */
    CHECK(strcmp(b.strategy_of[1].name, "dp8.tp2c.zero3.sp") == 0);
    CHECK_EQ(b.global_batch, 16);
    uniap_plan_free(&b);
    read_refused(m, cl, "[parallelism]\nfoo = 1\n", "line 2: [parallelism] foo is not a key");
    read_refused(m, cl, "[parallelism]\ndata_parallel_replicate_degree = 2\n",
                 "replicate 2 and shard 8: HSDP");
    read_refused(m, cl, "[training]\nseq_len = 4096\n", "seq_len 4096, but model 'llama-7b'");
    read_refused(m, cl, "[parallelism]\ntensor_parallel_degree = \"2\"\n",
                 "line 2: [parallelism] tensor_parallel_degree: expected an integer");
    read_refused(
        m, cl,
        "[parallelism]\npipeline_parallel_degree = 2\nfsdp_reshard_after_forward = \"always\"\n"
        "module_fqns_per_model_part = "
        "[[\"tok_embeddings\", \"layers.1\"], [\"layers.0\"]]\n[activation_checkpoint]\n"
        "mode = \"none\"\n",
        "part 0: 'layers.1' is not the next llama3 module");
    read_refused(m, cl, "[parallelism\n", "line 1: expected ']'");
}

/* FP8 on H100s: the float8 converter and its filter (keys of the list,
 * read by tomllib), read back to the same plan and price; the reader holds
 * the file to the model's precision both ways and to the filter uniap
 * prices (m16: the bf16 model). */
static void fp8_cases(const uniap_model *m16)
{
    uniap_model m;
    uniap_cluster h;
    uniap_plan p;
    rt_setup("llama-7b", "h100-80g-4x8", 1, &m, &h);
    uniap_training tr = m.training;
    tr.fp8 = 1;
    CHECK_EQ(uniap_model_set_training(&m, &tr, "test"), 0);
    CHECK_EQ(rt_plan(&m, &h, 1, NULL, "dp16.tp2c.zero3.sp", "dp16.tp2c.zero3.sp", 64, 2, 1, &p), 0);
    char *t = round_trip(&m, &h, &p);
    if (t) {
        CHECK_STR_CONTAINS(t, "converters = [\"quantize.linear.float8\"]");
        CHECK_STR_CONTAINS(t, "[quantize.linear.float8]\nfilter_fqns = [\"output\"]");
        read_refused(m16, &h, t,
                     "converters holds the float8 converter, but model "
                     "'llama-7b' is priced without FP8");
    }
    free(t);
    uniap_plan_free(&p);
    const char *base = "[parallelism]\ntensor_parallel_degree = 2\n[training]\n"
                       "local_batch_size = 2\nseq_len = 2048\n[activation_checkpoint]\n"
                       "mode = \"none\"\n";
    char buf[1024];
    read_refused(&m, &h, base,
                 "converters lacks the float8 converter, but model 'llama-7b' "
                 "is priced with FP8");
    snprintf(buf, sizeof buf, "%s[model]\nconverters = [\"float8\"]\n", base);
    read_refused(&m, &h, buf, "filter_fqns: expected [\"output\"]");
    snprintf(buf, sizeof buf, "%s[model]\nconverters = [\"quantize.linear.mx\"]\n", base);
    read_refused(&m, &h, buf, "'quantize.linear.mx': uniap models the float8 converter only");
    uniap_model_free(&m);
}

/* Mixtral-8x7B (the zoo: 32 moe blocks of 8 experts, top-2, every block
 * moe) on 2 x 8 A100s: tp 2 with sp, FSDP over dp 8, ep 4 on the 32 moe
 * blocks, ep 1 on the embedding and head. torchtitan builds it as llama4
 * (interleave_moe_layer_step 1) with expert_parallel_degree = 4 and
 * expert_tensor_parallel_degree = tp = 2; its sparse mesh
 * (parallel_dims.py) is then efsdp = dp_shard x cp x tp / (etp x ep) =
 * 8 x 1 x 2 / (2 x 4) = 2, a whole number. Read back: ep 4 on every moe
 * block, 1 elsewhere, the same price. Refused by name: two eps on the moe
 * blocks (the layer named), ep on a layer without experts, ep with DDP;
 * the reader refuses ep on a model without experts and an etp other than
 * tp. */
static void moe_cases(void)
{
    uniap_model m;
    uniap_cluster cl;
    uniap_plan p, b;
    rt_setup("mixtral-8x7b", "a100-80g-2x8", 1, &m, &cl);
    CHECK_EQ(rt_plan(&m, &cl, 1, NULL, "dp8.ep4.tp2c.zero3.sp", "dp8.tp2c.zero3.sp", 64, 2, 1, &p),
             0);
    char *t = round_trip(&m, &cl, &p);
    if (t) {
        CHECK_STR_CONTAINS(t, "name = \"llama4\"\nflavor = \"mixtral-8x7b\"");
        CHECK_STR_CONTAINS(t, "context_parallel_degree = 1\nexpert_parallel_degree = 4\n"
                              "expert_tensor_parallel_degree = 2\n");
        CHECK_STR_CONTAINS(t, "MoEArgs(num_experts=8, num_shared_experts=0, top_k=2");
        CHECK_EQ(uniap_plan_import_torchtitan(t, "job.toml", &m, &cl, &b), 0);
        rt_moe_ep(&m, &b, 4);
        uniap_plan_free(&b);
    }
    free(t);
    uniap_strategy_parse("dp8.ep2.tp2c.zero3.sp", &p.strategy_of[5]);
    refused(&m, &p,
            "moe layer 5 (stage 0) uses dp8.ep2.tp2c.zero3.sp, moe layer 1 "
            "dp8.ep4.tp2c.zero3.sp: torchtitan runs one expert-parallel degree");
    uniap_plan_free(&p);
    const rt_refusal no[] = {
        {1, NULL, "dp8.ep4.tp2c.zero3.sp", "dp8.ep4.tp2c.zero3.sp",
         "layer 0 (stage 0) has no experts but uses dp8.ep4.tp2c.zero3.sp (ep 4)", 1},
        {1, NULL, "dp16.ep4.tp1.ddp", "dp16.tp1.ddp", "expert parallelism (ep 4) with DDP", 1},
    };
    rt_refusals(&m, &cl, no, sizeof no / sizeof no[0], refused);
    const char *base = "[parallelism]\ntensor_parallel_degree = 2\n%s[training]\n"
                       "local_batch_size = 2\nseq_len = %d\n[activation_checkpoint]\n"
                       "mode = \"none\"\n";
    char buf[1024];
    snprintf(buf, sizeof buf, base,
             "expert_parallel_degree = 4\nexpert_tensor_parallel_degree = 1\n", 4096);
    read_refused(&m, &cl, buf, "expert_tensor_parallel_degree 1 with tensor_parallel_degree 2");
    uniap_model l;
    uniap_cluster c2;
    rt_setup("llama-7b", "a100-80g-2x8", 1, &l, &c2);
    snprintf(buf, sizeof buf, base, "expert_parallel_degree = 2\n", 2048);
    read_refused(&l, &cl, buf, "expert_parallel_degree 2: model 'llama-7b' has no experts");
    uniap_model_free(&l);
    uniap_model_free(&m);
}

int main(int argc, char **argv)
{
    uniap_model m;
    uniap_cluster cl;
    uniap_plan p;
    CHECK(argc == 2);
    n_keys = rt_load_list(argv[1], "key", keys, ktype, 64);
    load_values(argv[1]);
    if (n_keys < 0)
        printf("SKIP: %s absent: TOML keys not checked\n", argv[1]);
    else
        CHECK(n_keys >= 15);
    rt_setup("llama-7b", "a100-80g-2x8", 1, &m, &cl);

    /* pp 4, an uneven split, tp 2 with sp, FSDP over 2, every block
     * recomputed, 1F1B */
    int split[4] = {7, 9, 9, 7};
    CHECK_EQ(
        rt_plan(&m, &cl, 4, split, "dp2.tp2c.zero3.sp.ckpt", "dp2.tp2c.zero3.sp", 64, 8, 1, &p), 0);
    char *t = round_trip(&m, &cl, &p);
    if (t) {
        CHECK_STR_CONTAINS(t,
                           "data_parallel_shard_degree = 2\nfsdp_reshard_after_forward = "
                           "\"always\"\ntensor_parallel_degree = 2\npipeline_parallel_degree = 4");
        CHECK_STR_CONTAINS(t, "local_batch_size = 32\nglobal_batch_size = 64\nseq_len = 2048");
        CHECK_STR_CONTAINS(t, "pipeline_parallel_microbatch_size = 4");
        CHECK_STR_CONTAINS(t, "\"layers.6\"],\n    [\"layers.7\", ");
        CHECK_STR_CONTAINS(t, "\"layers.24\"],\n    [\"layers.25\", ");
        CHECK_STR_CONTAINS(t, "mode = \"full\"");
        CHECK_STR_CONTAINS(t, "multiple_of=256"); /* 256 ceil(int(8 x 4096 / 3) / 256) = 11008 */
    }
    free(t);
    uniap_plan_free(&p);
    /* GPipe, the first stage only the embedding */
    int first0[2] = {0, 32};
    CHECK_EQ(rt_plan(&m, &cl, 2, first0, "dp2.tp4c.zero3.sp", "dp2.tp4c.zero3.sp", 32, 4, 0, &p),
             0);
    t = round_trip(&m, &cl, &p);
    if (t)
        CHECK_STR_CONTAINS(t, "module_fqns_per_model_part = [\n    [\"tok_embeddings\"],\n    "
                              "[\"layers.0\"");
    free(t);
    uniap_plan_free(&p);
    interleaved_cases(&m, &cl);
    /* no PP: DDP alone with 4 accumulation steps; FSDP with tp */
    CHECK_EQ(rt_plan(&m, &cl, 1, NULL, "dp16.tp1.ddp", "dp16.tp1.ddp", 64, 4, 1, &p), 0);
    free(round_trip(&m, &cl, &p));
    uniap_plan_free(&p);
    CHECK_EQ(rt_plan(&m, &cl, 1, NULL, "dp8.tp2c.zero3.sp.ckpt", "dp8.tp2c.zero3.sp", 64, 2, 1, &p),
             0);
    free(round_trip(&m, &cl, &p));
    uniap_plan_free(&p);
    refusals(&m, &cl);

    reader_cases(&m, &cl);
    fp8_cases(&m);
    moe_cases();
    uniap_model_free(&m);
    return check_report();
}
