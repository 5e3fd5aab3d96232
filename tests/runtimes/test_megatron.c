/*
 * test_megatron.c - Megatron-LM arguments as a plan's other form (issue 14
 * item 3, the round trip): plans read from Megatron-LM command lines
 * (uniap_plan_import_megatron) are exported (uniap_plan_export_megatron)
 * and read back to the same plan, layer by layer, and the same TPI and
 * per-stage memory under the analytic cost model (rt_common.h); every
 * flag written is one of Megatron-LM's (megatron_flags.txt, checked
 * against its parser); what does not match the model or cannot be read
 * is refused by name.
 */
#include "rt_common.h"

static char flags[64][64];
static int n_flags;

static void load_flags(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    CHECK(f != NULL);
    while (f && fgets(line, sizeof line, f))
        if (line[0] == '-' && n_flags < 64)
            sscanf(line, "%63s", flags[n_flags++]);
    if (f)
        fclose(f);
    CHECK(n_flags >= 30);
}

/* Every --flag of the export's first line is in the list. */
static void check_flags(const char *text)
{
    char buf[4096], *save = NULL;
    snprintf(buf, sizeof buf, "%s", text);
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (strncmp(t, "--", 2))
            continue;
        int known = 0;
        for (int i = 0; i < n_flags && !known; i++)
            known = !strcmp(t, flags[i]);
        if (!known)
            fprintf(stderr, "not a Megatron-LM flag of the list: %s\n", t);
        CHECK(known);
    }
}

/* args -> plan -> export -> plan: the same plan, TPI and memory; returns
 * the export (malloc'd). */
static char *round_trip(const uniap_model *m, const uniap_cluster *c, const char *args,
                        const char *expect_in_export)
{
    uniap_plan a, b;
    char *text = NULL;
    if (uniap_plan_import_megatron(args, "case", m, c, &a) != 0) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        CHECK(0);
        return NULL;
    }
    if (!rt_exported(uniap_plan_export_megatron(&a, m, &text)) || !text) {
        uniap_plan_free(&a);
        return NULL;
    }
    check_flags(text);
    CHECK_STR_CONTAINS(text, "# the plan is expressible in Megatron-LM");
    if (expect_in_export)
        CHECK_STR_CONTAINS(text, expect_in_export);
    rt_read_back(uniap_plan_import_megatron(text, "export", m, c, &b), m, c, &a, &b, text, NULL);
    uniap_plan_free(&a);
    return text;
}

static void refused(const uniap_model *m, const uniap_cluster *c, const char *args, const char *msg)
{
    uniap_plan p;
    uniap_err_clear();
    CHECK_EQ(uniap_plan_import_megatron(args, "case", m, c, &p), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), msg);
    uniap_err_clear();
}

/* FP8 (--precision fp8) on H100s: the export writes --fp8-format hybrid
 * with Transformer Engine's amax recipe (flags of the list) and reads back
 * to the same plan and price; the reader holds the command line to the
 * model's precision both ways (m16, c16: the bf16 model on A100s). */
static void fp8_cases(const uniap_model *m16, const uniap_cluster *c16)
{
    uniap_model m;
    uniap_cluster h;
    const char *base = "--micro-batch-size 1 --global-batch-size 64";
    char args[256];
    rt_setup("llama-7b", "h100-80g-4x8", 0, &m, &h);
    uniap_training tr = m.training;
    tr.fp8 = 1;
    CHECK_EQ(uniap_model_set_training(&m, &tr, "test"), 0);
    free(round_trip(&m, &h,
                    "--tensor-model-parallel-size 2 --pipeline-model-parallel-size 4 "
                    "--micro-batch-size 4 --global-batch-size 64 --fp8-format hybrid",
                    "--fp8-format hybrid --fp8-amax-history-len 1024 --fp8-amax-compute-algo max"));
    snprintf(args, sizeof args, "%s --fp8-format hybrid", base);
    refused(m16, c16, args, "--fp8-format hybrid, but model 'llama-7b' is priced without FP8");
    snprintf(args, sizeof args, "%s --num-layers 32 --swiglu", base);
    refused(&m, &h, args, "no --fp8-format, but model 'llama-7b' trains in FP8");
    snprintf(args, sizeof args, "%s --fp8-format e5m2", base);
    refused(&m, &h, args, "--fp8-format e5m2: expected e4m3 or hybrid");
    snprintf(args, sizeof args, "%s --fp8-format e4m3 --fp8-amax-compute-algo mean", base);
    refused(&m, &h, args, "--fp8-amax-compute-algo mean: expected max or most_recent");
    uniap_model_free(&m);
}

/* The schedule an import reads. */
static void imported_schedule(const uniap_model *m, const uniap_cluster *c, const char *args,
                              const char *want)
{
    uniap_plan p;
    CHECK_EQ(uniap_plan_import_megatron(args, "case", m, c, &p), 0);
    CHECK_STR_CONTAINS(uniap_schedule_name(p.schedule), want);
    uniap_plan_free(&p);
}

/* Interleaving (--num-layers-per-virtual-pipeline-stage N): Llama-7B's 32
 * blocks on 4 stages are 8 per stage, N = 4 -> 2 chunks (interleaved2),
 * N = 2 -> 4 chunks, N = 8 -> 1 chunk (plain 1F1B); the round trip keeps
 * the schedule and the TPI; what Megatron-LM cannot interleave is refused
 * on reading, and noted on export. */
static void interleaving(const uniap_model *m, const uniap_cluster *c)
{
    const char *base = "--tensor-model-parallel-size 2 --pipeline-model-parallel-size 4 "
                       "--micro-batch-size 1 --global-batch-size 32 "; /* dp 2, c 16 */
    char args[512];
    const struct {
        int n;
        const char *sched;
    } ok[] = {{4, "interleaved2"}, {2, "interleaved4"}, {8, "1f1b"}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char want[96];
        snprintf(args, sizeof args, "%s--num-layers-per-virtual-pipeline-stage %d", base, ok[i].n);
        snprintf(want, sizeof want, "--num-layers-per-virtual-pipeline-stage %d", ok[i].n);
        imported_schedule(m, c, args, ok[i].sched);
        free(round_trip(m, c, args, ok[i].n == 8 ? NULL : want));
    }
    snprintf(args, sizeof args, "%s--num-layers-per-virtual-pipeline-stage 3", base);
    refused(m, c, args, "every stage must hold the same blocks, a multiple of it (stage 0 holds 8");
    snprintf(args, sizeof args,
             "%s--num-layers-per-virtual-pipeline-stage 2 --decoder-first-pipeline-num-layers 5 "
             "--decoder-last-pipeline-num-layers 9",
             base);
    refused(m, c, args, "no --decoder-first/last-pipeline-num-layers");
    snprintf(args, sizeof args, "%s--num-layers-per-virtual-pipeline-stage 1", base);
    refused(m, c, args, "8 chunks per stage; uniap's schedules interleave 2, 3, 4");
    refused(m, c,
            "--tensor-model-parallel-size 2 --pipeline-model-parallel-size 4 "
            "--micro-batch-size 1 --global-batch-size 12 --num-layers-per-virtual-pipeline-stage 4",
            "6 micro-batches on 4 stages: interleaving needs a multiple of the stages");
    /* an uneven split cannot interleave in Megatron-LM: exported with a note */
    uniap_plan p;
    char *text = NULL;
    snprintf(args, sizeof args,
             "%s--decoder-first-pipeline-num-layers 6 --decoder-last-pipeline-num-layers 6", base);
    CHECK_EQ(uniap_plan_import_megatron(args, "case", m, c, &p), 0);
    CHECK_EQ(uniap_schedule_parse("interleaved2", &p.schedule), 0);
    CHECK_EQ(uniap_plan_export_megatron(&p, m, &text), 0);
    if (text) {
        CHECK_STR_CONTAINS(text, "# NOT fully expressible in Megatron-LM");
        CHECK_STR_CONTAINS(text, "# - interleaved2 interleaves 2 model chunks per stage: "
                                 "Megatron-LM (--num-layers-per-virtual-pipeline-stage) needs the "
                                 "same number of blocks on every stage, a multiple of 2");
        CHECK(!strstr(text, "--num-layers-per-virtual-pipeline-stage 3"));
    }
    free(text);
    uniap_plan_free(&p);
}

/* Mixtral-8x7B with expert parallelism (issue 15 item 3): ep 4 over the
 * dp 4 of 2 x 8 A100s at tp 2, pp 2, written as --num-experts 8
 * --moe-router-topk 2 --expert-model-parallel-size 4 (flags of the list)
 * and read back to the same plan, TPI and memory; the moe blocks take ep
 * 4, the embedding and head ep 1 (Megatron-LM's dense layers are
 * data-parallel over all dp ranks); a command line with other experts, or
 * an ep that does not divide dp, is refused by name. */
static void moe_cases(void)
{
    uniap_model m;
    uniap_cluster c;
    const char *args = "--tensor-model-parallel-size 2 --pipeline-model-parallel-size 2 "
                       "--micro-batch-size 1 --global-batch-size 32 "
                       "--expert-model-parallel-size 4";
    rt_setup("mixtral-8x7b", "a100-80g-2x8", 0, &m, &c);
    char *t = round_trip(&m, &c, args, "--expert-model-parallel-size 4");
    if (t)
        CHECK_STR_CONTAINS(t, "--num-experts 8 --moe-router-topk 2");
    free(t);
    uniap_plan p;
    CHECK_EQ(uniap_plan_import_megatron(args, "case", &m, &c, &p), 0);
    if (p.n_layers == 34) {
        CHECK_EQ(uniap_strategy_ep(&p.strategy_of[0]), 1);
        CHECK_EQ(uniap_strategy_ep(&p.strategy_of[1]), 4);
        CHECK_EQ(uniap_strategy_ep(&p.strategy_of[32]), 4);
        CHECK_EQ(uniap_strategy_ep(&p.strategy_of[33]), 1);
        CHECK(strcmp(p.strategy_of[1].name, "dp4.ep4.tp2c.ddp") == 0);
    }
    uniap_plan_free(&p);
    refused(&m, &c, "--micro-batch-size 1 --global-batch-size 32 --num-experts 16",
            "--num-experts 16, but model 'mixtral-8x7b' has 8");
    refused(&m, &c,
            "--tensor-model-parallel-size 2 --pipeline-model-parallel-size 2 "
            "--micro-batch-size 1 --global-batch-size 32 --expert-model-parallel-size 3",
            "ep3 needs ep to divide dp (4)");
    uniap_model_free(&m);
}

/* DeepSeek-V2-Lite-like (the zoo, io/model_zoo.c): its "decoder" run is
 * one dense block (ffn 10944), its "moe" run 26 blocks ("count": 26) of
 * 64 routed experts of ffn 1408, top-6, 2 shared experts: 27 blocks, the
 * first dense. Megatron-LM says so with --moe-layer-freq "([0]*1+[1]*26)"
 * (arguments.py moe_freq_type: 1 dense then 26 expert layers), the
 * experts' width with --moe-ffn-hidden-size 1408 beside --ffn-hidden-size
 * 10944, and the shared experts as one MLP of 2 x 1408 = 2816
 * (--moe-shared-expert-intermediate-size). ep 4 over dp 8 (16 A100s, tp
 * 2) round-trips; a command line giving the experts without the pattern,
 * or another pattern, is refused naming the one expected. */
static void dense_first_cases(void)
{
    uniap_model m;
    uniap_cluster c;
    const char *base = "--tensor-model-parallel-size 2 --pipeline-model-parallel-size 1 "
                       "--micro-batch-size 1 --global-batch-size 32";
    char args[512];
    rt_setup("deepseek-v2-lite", "a100-80g-2x8", 0, &m, &c);
    snprintf(args, sizeof args, "%s --expert-model-parallel-size 4", base);
    char *t = round_trip(&m, &c, args, "--moe-layer-freq '([0]*1+[1]*26)'");
    if (t) {
        CHECK_STR_CONTAINS(t, "--num-layers 27 ");
        CHECK_STR_CONTAINS(t, "--ffn-hidden-size 10944 ");
        CHECK_STR_CONTAINS(t, "--num-experts 64 --moe-router-topk 6 --moe-ffn-hidden-size 1408");
        CHECK_STR_CONTAINS(t, "--moe-shared-expert-intermediate-size 2816");
        CHECK_STR_CONTAINS(t, "--expert-model-parallel-size 4");
    }
    free(t);
    uniap_plan p;
    CHECK_EQ(uniap_plan_import_megatron(args, "case", &m, &c, &p), 0);
    if (p.n_layers == 29) { /* embedding, 27 blocks, head: ep 4 on layers 2..27 only */
        CHECK_EQ(uniap_strategy_ep(&p.strategy_of[1]), 1);
        CHECK_EQ(uniap_strategy_ep(&p.strategy_of[2]), 4);
        CHECK_EQ(uniap_strategy_ep(&p.strategy_of[27]), 4);
        CHECK_EQ(uniap_strategy_ep(&p.strategy_of[28]), 1);
    }
    uniap_plan_free(&p);
    snprintf(args, sizeof args, "%s --num-experts 64", base);
    refused(&m, &c, args,
            "no --moe-layer-freq (Megatron-LM: every block moe), but model "
            "'deepseek-v2-lite' has 1 dense blocks first: add --moe-layer-freq "
            "'([0]*1+[1]*26)'");
    snprintf(args, sizeof args, "%s --num-experts 64 --moe-layer-freq 2", base);
    refused(&m, &c, args,
            "--moe-layer-freq 2, but model 'deepseek-v2-lite' has its dense "
            "blocks first, then moe blocks (uniap reads '([0]*1+[1]*26)')");
    snprintf(args, sizeof args, "%s --moe-ffn-hidden-size 10944", base);
    refused(&m, &c, args, "--moe-ffn-hidden-size 10944, but model 'deepseek-v2-lite' has 1408");
    uniap_model_free(&m);
}

/* Command lines of Llama-7B refused by name: the reader's own, then
 * the flag reader's (export_util.c's uniap__ex_read_args). */
static void refusals(const uniap_model *m, const uniap_cluster *c)
{
    static const char *const no[][2] = {
        {"--tensor-model-parallel-size 2 --global-batch-size 64 --micro-batch-size 1 "
         "--hidden-size 4000",
         "--hidden-size 4000, but model 'llama-7b' has 4096"},
        {"--micro-batch-size 1 --global-batch-size 64 --foo 3",
         "--foo is not a Megatron-LM argument uniap reads"},
        {"--tensor-model-parallel-size 2 --micro-batch-size 3 --global-batch-size 64",
         "--global-batch-size 64 is not a multiple of --micro-batch-size 3 x data-parallel "
         "size 8"},
        {"--micro-batch-size 1 --global-batch-size 64 --recompute-granularity full "
         "--recompute-num-layers 2",
         "--recompute-num-layers 2: uniap checkpoints layer by layer"},
        {"--pipeline-model-parallel-size 4 --micro-batch-size 1 --global-batch-size 64 "
         "--decoder-first-pipeline-num-layers 6",
         "cannot split the rest evenly"},
        {"--micro-batch-size 1 --global-batch-size 64 --use-flash-attn",
         "--use-flash-attn, but the model is set to eager attention"},
        {"--micro-batch-size 1 --global-batch-size 64 --recompute-granularity half",
         "case: --recompute-granularity half: expected full or selective"},
        {"--micro-batch-size 1 --global-batch-size 64 --hidden-dropout 1.5",
         "case: --hidden-dropout 1.5: expected a probability in [0, 1]"},
        {"--global-batch-size 64 --micro-batch-size", "case: --micro-batch-size needs a value"},
        {"--global-batch-size 64 micro-batch-size 1",
         "case: 'micro-batch-size': expected --flag [value] arguments"},
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        refused(m, c, no[i][0], no[i][1]);
}

int main(int argc, char **argv)
{
    uniap_model m = {0};
    uniap_cluster c = {0};
    CHECK(argc == 2);
    load_flags(argv[1]);
    rt_setup("llama-7b", "a100-80g-2x8", 0, &m, &c);

    /* the model arguments come out as Megatron-LM wants them for Llama-7B */
    free(round_trip(&m, &c,
                    "--tensor-model-parallel-size 2 --pipeline-model-parallel-size 4 "
                    "--micro-batch-size 4 --global-batch-size 64 --sequence-parallel "
                    "--recompute-granularity full --recompute-method uniform "
                    "--recompute-num-layers 1 --use-distributed-optimizer",
                    "--num-layers 32 --hidden-size 4096 --num-attention-heads 32 "
                    "--ffn-hidden-size 11008 --seq-length 2048"));
    /* an uneven split: 7 + 9 + 9 + 7 blocks */
    char *t = round_trip(&m, &c,
                         "--tensor-model-parallel-size 2 --pipeline-model-parallel-size 4 "
                         "--micro-batch-size 1 --global-batch-size 32 "
                         "--decoder-first-pipeline-num-layers 7 "
                         "--decoder-last-pipeline-num-layers 7",
                         "--decoder-first-pipeline-num-layers 7 "
                         "--decoder-last-pipeline-num-layers 7");
    if (t) {
        CHECK_STR_CONTAINS(t, "--swiglu");
        CHECK_STR_CONTAINS(t, "--normalization RMSNorm");
        CHECK_STR_CONTAINS(t, "--position-embedding-type rope");
        CHECK_STR_CONTAINS(t, "--bf16");
    }
    free(t);
    /* recompute of the first 3 blocks of each stage; selective; 2 stages
     * with an uneven first */
    free(round_trip(&m, &c,
                    "--tensor-model-parallel-size 1 --pipeline-model-parallel-size 4 "
                    "--micro-batch-size 2 --global-batch-size 64 --recompute-granularity full "
                    "--recompute-method block --recompute-num-layers 3",
                    "--recompute-method block --recompute-num-layers 3"));
    free(
        round_trip(&m, &c,
                   "--tensor-model-parallel-size 4 --pipeline-model-parallel-size 2 "
                   "--micro-batch-size 2 --global-batch-size 32 --sequence-parallel "
                   "--recompute-granularity selective --decoder-first-pipeline-num-layers 12",
                   "--decoder-first-pipeline-num-layers 12 --decoder-last-pipeline-num-layers 20"));

    interleaving(&m, &c);
    moe_cases();
    dense_first_cases();

    refusals(&m, &c);
    /* a flag given twice: the last value, as argparse takes it (full
     * recompute of every block: 32 .ckpt layers) */
    uniap_plan p;
    CHECK_EQ(uniap_plan_import_megatron("--micro-batch-size 1 --global-batch-size 64 "
                                        "--recompute-granularity selective "
                                        "--recompute-granularity full",
                                        "case", &m, &c, &p),
             0);
    int full = 0;
    for (int u = 0; u < p.n_layers; u++)
        full += p.strategy_of[u].ckpt == UNIAP_CKPT_FULL;
    CHECK_EQ(full, 32);
    uniap_plan_free(&p);
    fp8_cases(&m, &c);
    uniap_model_free(&m);
    return check_report();
}
