/*
 * test_plan_exports.c - the command-line side of the runtime exports
 * (cli/plan_exports.c): the option entries, the checks of their
 * combinations, the texts `uniap plan` writes for a plan (all of them or,
 * when one runtime refuses, none, the message naming the option and
 * file), and `uniap estimate`'s reading of those files back (the
 * --deepspeed_config the arguments name, the global batch the files state
 * or --global-batch gives) into the same plan.
 */
#include <unistd.h>

#include "plan_exports.h"
#include "rt_common.h"

/* Writes text to dir/name; the path in out. */
static void put(const char *dir, const char *name, const char *text, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", dir, name);
    FILE *f = fopen(out, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* `uniap estimate` reads the torchtitan and Galvatron files back into p. */
static void read_back(const uniap_model *m, const uniap_cluster *cl, const uniap_plan *p,
                      const char *toml, const char *gj, const char *ga)
{
    uniap_from_args fa;
    uniap_plan b;
    /* read back: torchtitan, Galvatron with its overrides */
    uniap_from_texts ft;
    int64_t B = 0;
    memset(&fa, 0, sizeof(fa));
    fa.torchtitan = toml;
    CHECK_EQ(uniap_from_given(&fa), 1);
    CHECK_EQ(uniap_from_read(&fa, 0, &ft, &B), 0);
    CHECK_EQ(B, 64);
    CHECK_EQ(uniap_from_import(&ft, 0, m, cl, &b), 0);
    rt_same_plan(p, &b);
    uniap_plan_free(&b);
    uniap_from_free(&ft);
    CHECK_EQ(uniap_from_read(&fa, 64, &ft, &B), UNIAP_EINVAL); /* the file gives it */
    CHECK_STR_CONTAINS(uniap_errmsg(), "--global-batch: --from-torchtitan");
    memset(&fa, 0, sizeof(fa));
    fa.galvatron = gj;
    fa.galvatron_args = ga;
    CHECK_EQ(uniap_from_read(&fa, 0, &ft, &B), 0);
    CHECK_EQ(uniap_from_import(&ft, 0, m, cl, &b), 0);
    rt_same_plan(p, &b);
    uniap_plan_free(&b);
    uniap_from_free(&ft);
    fa.torchtitan = toml;
    CHECK_EQ(uniap_from_given(&fa), UNIAP_EINVAL);
}

/* DeepSpeed: the arguments name the config; a torchtitan file without a
 * global batch takes --global-batch. */
static void deepspeed_and_batch(const uniap_model *m, const uniap_cluster *cl, const char *dir)
{
    /* DeepSpeed: the arguments name the config; a torchtitan file without
     * a global batch takes --global-batch */
    uniap_plan p, b;
    uniap_exports_args ea;
    uniap_from_args fa;
    uniap_export_text t[UNIAP_EXPORTS_MAX];
    uniap_from_texts ft;
    int64_t B = 0;
    int n = 0;
    char cfg[1100], args[1100], toml[1100];
    snprintf(cfg, sizeof cfg, "%s/ds.json", dir);
    CHECK_EQ(rt_plan(m, cl, 2, NULL, "dp4.tp2c.zero1.sp", "dp4.tp2c.zero1.sp", 64, 8, 1, &p), 0);
    ea = (uniap_exports_args){.deepspeed_config = cfg, .deepspeed_args = "a.txt"};
    CHECK_EQ(uniap_exports_make(&ea, &p, m, t, &n), 0);
    if (n == 2) {
        put(dir, "ds.json", t[0].text, cfg, sizeof cfg);
        put(dir, "a.txt", t[1].text, args, sizeof args);
    }
    uniap_exports_free(t, n);
    memset(&fa, 0, sizeof(fa));
    fa.deepspeed = args;
    CHECK_EQ(uniap_from_read(&fa, 0, &ft, &B), 0);
    CHECK_EQ(uniap_from_import(&ft, 0, m, cl, &b), 0);
    rt_same_plan(&p, &b);
    uniap_plan_free(&b);
    uniap_from_free(&ft);
    put(dir, "t2.toml",
        "[activation_checkpoint]\nmode = \"none\"\n[training]\nlocal_batch_size = 4\n", toml,
        sizeof toml);
    memset(&fa, 0, sizeof(fa));
    fa.torchtitan = toml;
    CHECK_EQ(uniap_from_read(&fa, 0, &ft, &B), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "states no global batch: give --global-batch");
    CHECK_EQ(uniap_from_read(&fa, 128, &ft, &B), 0);
    CHECK_EQ(uniap_from_import(&ft, 128, m, cl, &b), UNIAP_EINVAL); /* 4 x dp 16 = 64 */
    CHECK_STR_CONTAINS(uniap_errmsg(), "a global batch of 64, --global-batch 128");
    uniap_from_free(&ft);
    uniap_plan_free(&p);
}

int main(void)
{
    uniap_model m;
    uniap_cluster cl;
    uniap_plan p;
    uniap_opt opts[16];
    uniap_exports_args ea;
    uniap_from_args fa;
    uniap_export_text t[UNIAP_EXPORTS_MAX];
    int n = 0;
    char dir[] = "/tmp/uniap_rtexp_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    uniap_exports_opts(&ea, opts, &n);
    uniap_from_opts(&fa, opts, &n);
    CHECK_EQ(n, UNIAP_EXPORTS_OPTS + UNIAP_FROM_OPTS);
    CHECK(!strcmp(opts[0].name, "deepspeed-config") && opts[0].dest == &ea.deepspeed_config);
    CHECK(!strcmp(opts[4].name, "from-deepspeed") && opts[4].kind == UNIAP_OPTK_INPUT);

    rt_setup("llama-7b", "a100-80g-2x8", 1, &m, &cl);
    CHECK_EQ(rt_plan(&m, &cl, 2, NULL, "dp4.tp2c.zero3.sp", "dp4.tp2c.zero3.sp", 64, 8, 1, &p), 0);

    /* combinations */
    ea.deepspeed_args = "a.txt";
    CHECK_EQ(uniap_exports_check(&ea), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "--deepspeed-config and --deepspeed-args go together");
    ea.deepspeed_args = NULL;
    ea.galvatron_args = "-";
    CHECK_EQ(uniap_exports_check(&ea), UNIAP_EINVAL);
    CHECK_EQ(uniap_exports_stdout(&ea), 1);

    /* torchtitan and Galvatron run the plan; DeepSpeed refuses ZeRO-3 with
     * pp 2: nothing, naming the option */
    char cfg[1100], toml[1100], gj[1100], ga[1100];
    snprintf(cfg, sizeof cfg, "%s/ds.json", dir);
    snprintf(gj, sizeof gj, "%s/g.json", dir);
    ea = (uniap_exports_args){.deepspeed_config = cfg,
                              .deepspeed_args = "x.txt",
                              .torchtitan_toml = "t.toml",
                              .galvatron_args = "g.txt",
                              .galvatron_config = gj};
    uniap_err_clear();
    CHECK_EQ(uniap_exports_make(&ea, &p, &m, t, &n), UNIAP_EINVAL);
    CHECK_EQ(n, 0);
    CHECK_STR_CONTAINS(uniap_errmsg(), "ZeRO stage 3 on 2 pipeline stages");
    CHECK_STR_CONTAINS(uniap_errmsg(), "--deepspeed-config");
    CHECK_STR_CONTAINS(uniap_errmsg(), "nothing written");
    ea.deepspeed_config = ea.deepspeed_args = NULL;
    CHECK_EQ(uniap_exports_make(&ea, &p, &m, t, &n), 0);
    CHECK_EQ(n, 3);
    CHECK(!strcmp(t[1].opt, "--galvatron-config") && !strcmp(t[2].opt, "--galvatron-args"));
    if (n == 3) {
        CHECK_STR_CONTAINS(t[2].text, gj); /* the overrides name the JSON */
        put(dir, "t.toml", t[0].text, toml, sizeof toml);
        put(dir, "g.json", t[1].text, gj, sizeof gj);
        put(dir, "g.txt", t[2].text, ga, sizeof ga);
    }
    uniap_exports_free(t, n);

    read_back(&m, &cl, &p, toml, gj, ga);
    uniap_plan_free(&p);
    deepspeed_and_batch(&m, &cl, dir);
    uniap_model_free(&m);
    const char *files[] = {"ds.json", "a.txt", "t.toml", "t2.toml", "g.json", "g.txt"};
    for (int i = 0; i < 6; i++) {
        char f[1100];
        snprintf(f, sizeof f, "%s/%s", dir, files[i]);
        unlink(f);
    }
    rmdir(dir);
    return check_report();
}
