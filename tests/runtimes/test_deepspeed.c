/*
 * test_deepspeed.c - DeepSpeed (through Megatron-DeepSpeed) as a plan's
 * other form (issue 14 items 2-3): plans DeepSpeed can run are exported
 * (uniap_plan_export_deepspeed), read back (uniap_plan_import_deepspeed)
 * to the same plan, layer by layer, and cost the same TPI and per-stage
 * memory (==); the uneven split is DeepSpeed's own (partition_balanced,
 * the reference below computed by DeepSpeed's Python code); every config
 * key and flag written is one of the runtimes' (deepspeed_keys.txt, with
 * its commits) with the right type; what DeepSpeed cannot run is refused
 * by name, and so is bad input to the reader.
 */
#include <cjson/cJSON.h>

#include "rt_common.h"

/* costmodel's private port of DeepSpeed's 'type:transformer' partition
 * (export_internal.h), checked here against DeepSpeed's own result */
int uniap__ds_type_split(const uniap_model *m, int pp, int *blocks, const char *what);

static char keys[64][96], ktype[64][16], flags[64][96], ftype[64][16];
static int n_keys = -1, n_flags = -1;

/* Every leaf of the config JSON is a listed key of the listed type. */
static void check_json(const cJSON *o, const char *prefix)
{
    for (const cJSON *k = o->child; k; k = k->next) {
        char path[160];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", k->string);
        if (cJSON_IsObject(k)) {
            check_json(k, path);
            continue;
        }
        int i = rt_find(keys, n_keys, path);
        const char *t = i < 0 ? "" : ktype[i];
        int ok = i >= 0 && ((!strcmp(t, "int") && cJSON_IsNumber(k) &&
                             k->valuedouble == (double)(long)k->valuedouble) ||
                            (!strcmp(t, "bool") && cJSON_IsBool(k)) ||
                            (!strcmp(t, "str") && cJSON_IsString(k)));
        if (!ok)
            fprintf(stderr, "config key %s: not in deepspeed_keys.txt as %s\n", path, t);
        CHECK(ok);
    }
}

/* Every --flag of the first line is listed, with a value of its type. */
static void check_args(const char *text)
{
    char buf[4096], *save = NULL, *tok[256];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", text);
    *strchr(buf, '\n') = '\0';
    for (char *t = strtok_r(buf, " ", &save); t && n < 256; t = strtok_r(NULL, " ", &save))
        tok[n++] = t;
    for (int i = 0; i < n; i++) {
        int f = rt_find(flags, n_flags, tok[i]);
        if (f < 0) {
            fprintf(stderr, "not a listed flag: %s\n", tok[i]);
            CHECK(0);
            continue;
        }
        if (!strcmp(ftype[f], "switch"))
            continue;
        char *end = NULL;
        const char *v = i + 1 < n ? tok[++i] : "";
        if (!strcmp(ftype[f], "int"))
            (void)strtol(v, &end, 10);
        else if (!strcmp(ftype[f], "float"))
            (void)strtod(v, &end);
        CHECK(*v && strncmp(v, "--", 2) && (!end || !*end));
    }
}

/* p -> (config, args) -> plan: the same plan and price; returns args. */
static char *round_trip(const uniap_model *m, const uniap_cluster *cl, const uniap_plan *p)
{
    char *cfg = NULL, *args = NULL;
    uniap_plan b;
    if (!rt_exported(uniap_plan_export_deepspeed(p, m, "ds.json", &cfg, &args)))
        return NULL;
    cJSON *j = cJSON_Parse(cfg);
    CHECK(j != NULL);
    if (j && n_keys >= 0)
        check_json(j, "");
    cJSON_Delete(j);
    if (n_flags >= 0)
        check_args(args);
    CHECK_STR_CONTAINS(args, "--deepspeed --deepspeed_config ds.json");
    rt_read_back(uniap_plan_import_deepspeed(cfg, "ds.json", args, "args.txt", m, cl, &b), m, cl, p,
                 &b, cfg, args);
    free(cfg);
    return args;
}

static void refused(const uniap_model *m, const uniap_plan *p, const char *msg)
{
    char *cfg = (char *)1, *args = (char *)1;
    uniap_err_clear();
    CHECK_EQ(uniap_plan_export_deepspeed(p, m, NULL, &cfg, &args), UNIAP_EINVAL);
    CHECK(cfg == NULL && args == NULL);
    CHECK_STR_CONTAINS(uniap_errmsg(), msg);
}

static void read_refused(const uniap_model *m, const uniap_cluster *cl, const char *cfg,
                         const char *args, const char *msg)
{
    uniap_plan b;
    uniap_err_clear();
    CHECK_EQ(uniap_plan_import_deepspeed(cfg, "ds.json", args, "args.txt", m, cl, &b),
             UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), msg);
}

/* The uneven split of 30 blocks on 4 stages: DeepSpeed's own. */
static void uneven(const uniap_cluster *cl)
{
    static const char *spec =
        "{\"name\": \"llama-30\", \"seq_len\": 2048, \"param_dtype\": \"bf16\", \"layers\": ["
        " {\"type\": \"embedding\", \"hidden\": 4096, \"vocab\": 32000},"
        " {\"type\": \"decoder\", \"count\": 30, \"hidden\": 4096, \"heads\": 32, \"ffn\": 11008,"
        "  \"activation\": \"swiglu\", \"norm\": \"rmsnorm\", \"position\": \"rotary\"},"
        " {\"type\": \"head\", \"hidden\": 4096, \"vocab\": 32000, \"norm\": \"rmsnorm\"}]}";
    uniap_model m;
    uniap_plan p;
    CHECK_EQ(uniap_model_parse(spec, "llama-30", &m), 0);
    /* DeepSpeed's partition_balanced (runtime/utils.py, edaa722) run in
     * Python on weights [0, 1 x 30, 0] and on Megatron-DeepSpeed's own
     * layer list [0, 0, 1 x 30, 0, 0, 0]: parts [0, 9, 17, 24, 32], blocks
     * 8, 8, 7, 7 either way */
    int ds[4] = {8, 8, 7, 7}, other[4] = {7, 8, 8, 7}, got[4];
    CHECK_EQ(uniap__ds_type_split(&m, 4, got, "test"), 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(got[i], ds[i]);
    CHECK_EQ(
        rt_plan(&m, cl, 4, ds, "dp2.tp2c.zero1", "dp2.tp2c.zero1", 32, 8, UNIAP_SCHED_1F1B, &p), 0);
    free(round_trip(&m, cl, &p));
    uniap_plan_free(&p);
    CHECK_EQ(
        rt_plan(&m, cl, 4, other, "dp2.tp2c.zero1", "dp2.tp2c.zero1", 32, 8, UNIAP_SCHED_1F1B, &p),
        0);
    refused(&m, &p,
            "stage 0 holds 7 blocks; Megatron-DeepSpeed's GPTModelPipe partitions with "
            "'type:transformer'");
    uniap_plan_free(&p);
    uniap_model_free(&m);
}

/* Round trips: pp 4 with ZeRO-1, sp and recomputation; pp 1 with ZeRO-3,
 * ZeRO-2 and DDP. */
static void round_trips(const uniap_model *m, const uniap_cluster *cl)
{
    uniap_plan p;
    /* tp 2 x pp 4, ZeRO-1, sp, every block recomputed */
    CHECK_EQ(rt_plan(m, cl, 4, NULL, "dp2.tp2c.zero1.sp.ckpt", "dp2.tp2c.zero1.sp", 64, 8,
                     UNIAP_SCHED_1F1B, &p),
             0);
    char *a = round_trip(m, cl, &p);
    if (a) {
        CHECK_STR_CONTAINS(a, "--tensor-model-parallel-size 2 --pipeline-model-parallel-size 4 "
                              "--micro-batch-size 4 --global-batch-size 64 --zero-stage 1 "
                              "--sequence-parallel --recompute-granularity full");
        CHECK_STR_CONTAINS(a, "--num-layers 32 --hidden-size 4096 --ffn-hidden-size 11008");
        CHECK_STR_CONTAINS(a, "--swiglu --normalization rmsnorm --use-rotary-position-embeddings");
        CHECK_STR_CONTAINS(a, "--bf16 --use-flash-attn-v2");
    }
    free(a);
    uniap_plan_free(&p);
    /* pp 1: ZeRO-3, selective; ZeRO-2; bf16 DDP */
    const char *one[][2] = {{"dp4.tp4c.zero3.sp.selckpt", "dp4.tp4c.zero3.sp"},
                            {"dp8.tp2c.zero2", "dp8.tp2c.zero2"},
                            {"dp16.tp1.ddp.ckpt", "dp16.tp1.ddp"}};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(rt_plan(m, cl, 1, NULL, one[i][0], one[i][1], 64, 2, UNIAP_SCHED_1F1B, &p), 0);
        free(round_trip(m, cl, &p));
        uniap_plan_free(&p);
    }
}

/* What DeepSpeed cannot run, refused by name. */
static void plan_refusals(const uniap_model *m, const uniap_cluster *cl)
{
    uniap_plan p;
    /* refused by name */
    const rt_refusal no[] = {
        {2, NULL, "dp4.tp2c.zero2", "dp4.tp2c.zero2", "ZeRO stage 2 on 2 pipeline stages", 1},
        {2, NULL, "dp4.tp2c.zero3", "dp4.tp2c.zero3", "ZeRO stage 3 on 2 pipeline stages", 1},
        {2, NULL, "dp4.tp2c", "dp4.tp2c", "bf16 DDP on 2 pipeline stages", 1},
        {2, NULL, "dp2.tp4s.zero1", "dp2.tp4s.zero1", "strided TP groups", 1},
        {2, NULL, "dp4.tp2c.zero1", "dp4.tp2c.zero1", "DeepSpeed's TrainSchedule is 1F1B", 0},
        {1, NULL, "dp8.tp2c.zero1", "dp4.tp4c.zero1", "layer 0 (stage 0) uses dp4.tp4c.zero1", 1},
        {1, NULL, "dp8.tp2c.zero1", "dp8.tp2c.zero1.ckpt", "recomputes transformer blocks only", 1},
    };
    rt_refusals(m, cl, no, sizeof no / sizeof no[0], refused);
    CHECK_EQ(rt_plan(m, cl, 1, NULL, "dp8.tp2c.zero1", "dp8.tp2c.zero1", 64, 4, 1, &p), 0);
    uniap_strategy_parse("dp8.tp2c.zero1.ckpt", &p.strategy_of[5]);
    refused(m, &p,
            "block 4 (layer 5, stage 0) uses dp8.tp2c.zero1.ckpt, the first block "
            "dp8.tp2c.zero1: DeepSpeed recomputes every block or none");
    uniap_plan_free(&p);
}

/* The reader refuses what it cannot read; bf16 stage 0 under the
 * pipeline engine is ZeRO-1. */
static void reader_cases(const uniap_model *m, const uniap_cluster *cl)
{
    /* the reader refuses what it cannot read, naming file and key */
    const char *cfg = "{\"train_batch_size\": 64, \"train_micro_batch_size_per_gpu\": 4, "
                      "\"gradient_accumulation_steps\": 2, \"zero_optimization\": {\"stage\": 1}, "
                      "\"bf16\": {\"enabled\": true}}";
    const char *args = "--tensor-model-parallel-size 2 --pipeline-model-parallel-size 4 "
                       "--micro-batch-size 4 --global-batch-size 64 --bf16 --deepspeed";
    read_refused(m, cl, cfg, "--micro-batch-size 4 --global-batch-size 64 --deepspeed --foo 1",
                 "args.txt: --foo is not a Megatron-DeepSpeed argument uniap reads");
    read_refused(m, cl, cfg, args,
                 "ds.json: \"gradient_accumulation_steps\" 2, but 64 / (4 x 2) is 8");
    read_refused(m, cl, "{\"train_batch_size\": 32, \"bf16\": {\"enabled\": true}}", args,
                 "ds.json: \"train_batch_size\" 32, args.txt --global-batch-size 64");
    read_refused(m, cl, "{\"zero_optimization\": {\"stage\": 2}, \"bf16\": {\"enabled\": true}}",
                 args, "\"zero_optimization.stage\" 2 under DeepSpeed's pipeline engine");
    read_refused(m, cl, "{\"bf16\": {\"enabled\": true}, \"offload\": 1}", args,
                 "ds.json: \"offload\" is not a DeepSpeed config key uniap reads");
    read_refused(m, cl, "{\"bf16\": {\"enabled\": true}}",
                 "--micro-batch-size 1 --global-batch-size 64 --deepspeed --hidden-size 5120",
                 "args.txt: --hidden-size 5120, but model 'llama-7b' has 4096");
    /* bf16 stage 0 under the pipeline engine is BF16_Optimizer: ZeRO-1 */
    uniap_plan b;
    CHECK_EQ(uniap_plan_import_deepspeed("{\"bf16\": {\"enabled\": true}}", "ds.json", args,
                                         "args.txt", m, cl, &b),
             0);
    CHECK(strcmp(b.strategy_of[3].name, "dp2.tp2c.zero1") == 0);
    CHECK_EQ(b.micro_batches, 8);
    uniap_plan_free(&b);
}

/* Mixtral-8x7B (the zoo: 32 moe blocks of 8 experts, top-2) on 2 x 8
 * A100s with DeepSpeed-MoE: tp 2 with sp, ZeRO-1 over dp 8, ep 4 on the
 * moe blocks. Megatron-DeepSpeed builds deepspeed.moe.layer.MoE(
 * num_experts=8, ep_size=4, k=2) in every block from --num-experts 8
 * --topk 2 --expert-interval 1 --moe-expert-parallel-size 4 (flags of the
 * list); ep 4 divides dp 8 (utils/groups.py) and the experts 8 (MoE's
 * assert). pp 2 (16 + 16 blocks, the type:transformer split) round-trips
 * too. Refused by name: two eps on the moe blocks (the layer named),
 * ZeRO-3 with experts, a model with a dense block first
 * (deepseek-v2-lite); the reader refuses ep on a model without experts,
 * other experts, token dropping and an ep that does not divide dp. */
static void moe_cases(const uniap_model *llama)
{
    uniap_model m, d;
    uniap_cluster cl;
    uniap_plan p, b;
    rt_setup("mixtral-8x7b", "a100-80g-2x8", 1, &m, &cl);
    CHECK_EQ(rt_plan(&m, &cl, 1, NULL, "dp8.ep4.tp2c.zero1.sp", "dp8.tp2c.zero1.sp", 64, 4,
                     UNIAP_SCHED_1F1B, &p),
             0);
    char *a = round_trip(&m, &cl, &p);
    if (a) {
        CHECK_STR_CONTAINS(a, "--num-experts 8 --topk 2 --expert-interval 1 "
                              "--moe-expert-parallel-size 4 --disable-moe-token-dropping "
                              "--enable-expert-tensor-parallelism --create-moe-param-group");
        CHECK_STR_CONTAINS(a, "deepspeed.moe.layer.MoE(num_experts=8, ep_size=4, k=2");
        CHECK_EQ(uniap_plan_import_deepspeed("{\"bf16\": {\"enabled\": true}, "
                                             "\"zero_optimization\": {\"stage\": 1}}",
                                             "ds.json", a, "args.txt", &m, &cl, &b),
                 0);
        rt_moe_ep(&m, &b, 4);
        uniap_plan_free(&b);
    }
    free(a);
    uniap_strategy_parse("dp8.ep2.tp2c.zero1.sp", &p.strategy_of[7]);
    refused(&m, &p,
            "moe layer 7 (stage 0) uses dp8.ep2.tp2c.zero1.sp, moe layer 1 "
            "dp8.ep4.tp2c.zero1.sp: deepspeed runs one expert-parallel degree");
    uniap_plan_free(&p);
    CHECK_EQ(rt_plan(&m, &cl, 2, NULL, "dp4.ep4.tp2c.zero1.sp", "dp4.tp2c.zero1.sp", 64, 8,
                     UNIAP_SCHED_1F1B, &p),
             0);
    free(round_trip(&m, &cl, &p));
    uniap_plan_free(&p);
    const rt_refusal no[] = {
        {1, NULL, "dp8.ep4.tp2c.zero3.sp", "dp8.tp2c.zero3.sp", "with ZeRO-3", 1},
        {1, NULL, "dp8.tp2c.zero1.sp", "dp8.tp2c.zero1.sp",
         "model 'deepseek-v2-lite' has mixture-of-experts layers with dense and moe blocks", 1},
    };
    rt_refusals(&m, &cl, no, 1, refused);
    CHECK_EQ(uniap_model_resolve("deepseek-v2-lite", &d), 0);
    rt_refusals(&d, &cl, no + 1, 1, refused);
    uniap_model_free(&d);
    const char *cfg = "{\"bf16\": {\"enabled\": true}, \"zero_optimization\": {\"stage\": 1}}";
    const char *base = "--tensor-model-parallel-size 2 --micro-batch-size 1 --global-batch-size 64 "
                       "--zero-stage 1 --no-pipeline-parallel --bf16 --deepspeed";
    char args[512];
    snprintf(args, sizeof args, "%s --moe-expert-parallel-size 2", base);
    read_refused(llama, &cl, cfg, args, "--moe-expert-parallel-size 2: model 'llama-7b' has no");
    snprintf(args, sizeof args, "%s --num-experts 16", base);
    read_refused(&m, &cl, cfg, args, "--num-experts 16, but model 'mixtral-8x7b' has 8");
    snprintf(args, sizeof args, "%s --num-experts 8 --expert-interval 1", base);
    read_refused(&m, &cl, cfg, args, "DeepSpeed-MoE with no --disable-moe-token-dropping");
    snprintf(args, sizeof args, "%s --moe-expert-parallel-size 3", base);
    read_refused(&m, &cl, cfg, args, "ep3 needs ep to divide dp (8)");
    uniap_model_free(&m);
}

int main(int argc, char **argv)
{
    uniap_model m;
    uniap_cluster cl;
    CHECK(argc == 2);
    n_keys = rt_load_list(argv[1], "key", keys, ktype, 64);
    n_flags = rt_load_list(argv[1], "flag", flags, ftype, 64);
    if (n_keys < 0)
        printf("SKIP: %s absent: config keys and flags not checked\n", argv[1]);
    else
        CHECK(n_keys >= 10 && n_flags >= 30);
    rt_setup("llama-7b", "a100-80g-2x8", 1, &m, &cl);

    round_trips(&m, &cl);
    uneven(&cl);
    plan_refusals(&m, &cl);
    reader_cases(&m, &cl);
    moe_cases(&m);
    uniap_model_free(&m);
    return check_report();
}
