/*
 * plan_exports.c - the command-line side of the DeepSpeed, torchtitan and
 * Galvatron exports and readers (plan_exports.h): the options of `uniap
 * plan` that write them (--deepspeed-config FILE with --deepspeed-args
 * FILE, --torchtitan-toml FILE, --galvatron-args FILE beside
 * --galvatron-config), the texts of a plan's exports (the command writes
 * them with its other outputs: all or none), and the options of `uniap
 * estimate` that read such files back into the plan the runtime runs
 * (--from-deepspeed, --from-torchtitan, --from-galvatron).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_exports.h"

void uniap_exports_opts(uniap_exports_args *a, uniap_opt *opts, int *n)
{
    memset(a, 0, sizeof(*a));
    uniap_opt t[UNIAP_EXPORTS_OPTS] = {
        {.name = "deepspeed-config",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &a->deepspeed_config,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "the plan as a DeepSpeed config JSON (ZeRO stage, batch sizes, gradient "
                 "accumulation, bf16/fp16, activation checkpointing; with --deepspeed-args; "
                 "- : standard output)"},
        {.name = "deepspeed-args",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &a->deepspeed_args,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "the Megatron-DeepSpeed pretrain_gpt.py arguments that run it with the "
                 "--deepspeed-config file (- : standard output)"},
        {.name = "torchtitan-toml",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &a->torchtitan_toml,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "the plan as a torchtitan job config TOML (v0.2.2: [parallelism], "
                 "[training], [activation_checkpoint]; - : standard output)"},
        {.name = "galvatron-args",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &a->galvatron_args,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "with --galvatron-config: the train_dist.yaml overrides its JSON cannot hold "
                 "(train.sequence_parallel, precision; - : standard output)"},
    };
    memcpy(opts + *n, t, sizeof(t));
    *n += UNIAP_EXPORTS_OPTS;
}

int uniap_exports_check(const uniap_exports_args *a)
{
    if (!a->deepspeed_config != !a->deepspeed_args)
        return uniap_err(UNIAP_EINVAL, "--deepspeed-config and --deepspeed-args go together (the "
                                       "arguments name the config)");
    if (a->galvatron_args && !a->galvatron_config)
        return uniap_err(UNIAP_EINVAL, "--galvatron-args needs --galvatron-config (the "
                                       "overrides name the JSON)");
    return UNIAP_OK;
}

int uniap_exports_stdout(const uniap_exports_args *a)
{
    const char *p[] = {a->deepspeed_config, a->deepspeed_args, a->torchtitan_toml,
                       a->galvatron_args};
    int n = 0;
    for (int i = 0; i < 4; i++)
        n += p[i] && !strcmp(p[i], "-");
    return n;
}

void uniap_exports_free(uniap_export_text *t, int n)
{
    for (int i = 0; i < n; i++) {
        free(t[i].text);
        t[i].text = NULL;
    }
}

/* A path as another file names it ("-": the user's own name for it). */
static const char *named(const char *path, const char *dflt)
{
    return path && strcmp(path, "-") ? path : dflt;
}

int uniap_exports_make(const uniap_exports_args *a, const uniap_plan *p, const uniap_model *m,
                       uniap_export_text *out, int *n)
{
    int rc = UNIAP_OK;
    const char *fail = NULL, *path = NULL, *rt = NULL;
    *n = 0;
    memset(out, 0, sizeof(*out) * UNIAP_EXPORTS_MAX);
    if (a->deepspeed_config && a->deepspeed_args) {
        out[0] = (uniap_export_text){
            .opt = "--deepspeed-config", .path = a->deepspeed_config, .what = "DeepSpeed config"};
        out[1] = (uniap_export_text){.opt = "--deepspeed-args",
                                     .path = a->deepspeed_args,
                                     .what = "Megatron-DeepSpeed arguments"};
        rc = uniap_plan_export_deepspeed(p, m, named(a->deepspeed_config, "ds_config.json"),
                                         &out[0].text, &out[1].text);
        *n = rc == 0 ? 2 : 0;
        fail = "--deepspeed-config", path = a->deepspeed_config, rt = "deepspeed";
    }
    if (rc == 0 && a->torchtitan_toml) {
        out[*n] = (uniap_export_text){
            .opt = "--torchtitan-toml", .path = a->torchtitan_toml, .what = "torchtitan TOML"};
        rc = uniap_plan_export_torchtitan(p, m, &out[*n].text);
        *n += rc == 0;
        fail = "--torchtitan-toml", path = a->torchtitan_toml, rt = "torchtitan";
    }
    if (rc == 0 && a->galvatron_args && a->galvatron_config) {
        out[*n] = (uniap_export_text){
            .opt = "--galvatron-config", .path = a->galvatron_config, .what = "Galvatron config"};
        out[*n + 1] = (uniap_export_text){
            .opt = "--galvatron-args", .path = a->galvatron_args, .what = "Galvatron overrides"};
        rc = uniap_plan_export_galvatron_launch(p, m,
                                                named(a->galvatron_config, "galvatron_config.json"),
                                                &out[*n].text, &out[*n + 1].text);
        *n += rc == 0 ? 2 : 0;
        fail = "--galvatron-args", path = a->galvatron_args, rt = "galvatron";
    }
    if (rc < 0) {
        uniap_exports_free(out, UNIAP_EXPORTS_MAX);
        *n = 0;
        return uniap_err(rc,
                         "%s %s: nothing written (--runtime %s searches only the plans %s runs)",
                         fail, path, rt, rt);
    }
    return UNIAP_OK;
}

/* ---- estimate ---- */

void uniap_from_opts(uniap_from_args *a, uniap_opt *opts, int *n)
{
    memset(a, 0, sizeof(*a));
    uniap_opt t[UNIAP_FROM_OPTS] = {
        {.name = "from-deepspeed",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->deepspeed,
         .metavar = "FILE",
         .help = "a Megatron-DeepSpeed command line (as uniap plan --deepspeed-args writes it, "
                 "or your own) with the DeepSpeed config its --deepspeed_config names: the plan "
                 "DeepSpeed runs"},
        {.name = "from-deepspeed-config",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->deepspeed_config,
         .metavar = "FILE",
         .help = "with --from-deepspeed: the DeepSpeed config, in place of the one its "
                 "--deepspeed_config names"},
        {.name = "from-torchtitan",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->torchtitan,
         .metavar = "FILE",
         .help = "a torchtitan job config TOML (v0.2.2; torchtitan's defaults for what it "
                 "leaves out): the plan torchtitan runs"},
        {.name = "from-galvatron",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->galvatron,
         .metavar = "FILE",
         .help = "a Galvatron strategy JSON (galvatron_config_*.json): the plan Galvatron runs"},
        {.name = "from-galvatron-args",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->galvatron_args,
         .metavar = "FILE",
         .help = "with --from-galvatron: its train_dist.yaml overrides (as uniap plan "
                 "--galvatron-args writes them; without: Galvatron's defaults)"},
    };
    memcpy(opts + *n, t, sizeof(t));
    *n += UNIAP_FROM_OPTS;
}

int uniap_from_given(const uniap_from_args *a)
{
    int k = !!a->deepspeed + !!a->torchtitan + !!a->galvatron;
    if (k > 1)
        return uniap_err(UNIAP_EINVAL,
                         "give one of --from-deepspeed, --from-torchtitan and --from-galvatron");
    if (a->deepspeed_config && !a->deepspeed)
        return uniap_err(UNIAP_EINVAL, "--from-deepspeed-config needs --from-deepspeed");
    if (a->galvatron_args && !a->galvatron)
        return uniap_err(UNIAP_EINVAL, "--from-galvatron-args needs --from-galvatron");
    return k;
}

void uniap_from_free(uniap_from_texts *t)
{
    free(t->main);
    free(t->side);
    memset(t, 0, sizeof(*t));
}

/* The --deepspeed_config path of a Megatron-DeepSpeed command line. */
static int config_of(const char *args, const char *what, char *path, size_t n)
{
    const char *f = strstr(args, "--deepspeed_config ");
    size_t k = 0;
    if (f)
        for (f += 19; *f == ' '; f++)
            ;
    while (f && f[k] && f[k] != ' ' && f[k] != '\n' && f[k] != '\t' && k + 1 < n)
        k++;
    if (!f || !k)
        return uniap_err(UNIAP_EINVAL,
                         "%s: no --deepspeed_config FILE (or give "
                         "--from-deepspeed-config)",
                         what);
    memcpy(path, f, k);
    path[k] = '\0';
    return UNIAP_OK;
}

/* The files of a into t. */
static int read_texts(const uniap_from_args *a, uniap_from_texts *t)
{
    size_t len;
    char cfg[1024];
    int rc;
    const char *main = a->deepspeed ? a->deepspeed : a->torchtitan ? a->torchtitan : a->galvatron;
    t->runtime = a->deepspeed ? "deepspeed" : a->torchtitan ? "torchtitan" : "galvatron";
    snprintf(t->main_what, sizeof t->main_what, "--from-%s %s", t->runtime, main);
    if ((rc = uniap_read_file(main, &t->main, &len)) < 0)
        return rc;
    const char *side = a->galvatron_args;
    if (a->deepspeed) {
        if (!(side = a->deepspeed_config)) {
            if ((rc = config_of(t->main, t->main_what, cfg, sizeof cfg)) < 0)
                return rc;
            side = cfg;
        }
        snprintf(t->side_what, sizeof t->side_what, "%s %s",
                 a->deepspeed_config ? "--from-deepspeed-config" : "DeepSpeed config", side);
    } else if (side)
        snprintf(t->side_what, sizeof t->side_what, "--from-galvatron-args %s", side);
    return side ? uniap_read_file(side, &t->side, &len) : UNIAP_OK;
}

int uniap_from_read(const uniap_from_args *a, int64_t given_batch, uniap_from_texts *t,
                    int64_t *batch)
{
    int64_t b1 = 0, b2 = 0;
    int rc;
    memset(t, 0, sizeof(*t));
    if ((rc = read_texts(a, t)) < 0)
        goto fail;
    if (a->deepspeed)
        rc = uniap_runtime_file_batch("deepspeed-args", t->main, &b1) < 0 ||
                     uniap_runtime_file_batch("deepspeed-config", t->side, &b2) < 0
                 ? UNIAP_EINVAL
                 : 0;
    else
        rc = uniap_runtime_file_batch(t->runtime, t->main, &b1);
    if (rc < 0)
        goto fail;
    t->global_batch = b1 ? b1 : b2;
    if (t->global_batch && given_batch)
        rc = uniap_err(UNIAP_EINVAL, "--global-batch: %s gives it (%lld)", t->main_what,
                       (long long)t->global_batch);
    else if (!t->global_batch && !given_batch)
        rc =
            uniap_err(UNIAP_EINVAL, "%s states no global batch: give --global-batch", t->main_what);
    if (rc < 0)
        goto fail;
    *batch = t->global_batch ? t->global_batch : given_batch;
    return UNIAP_OK;
fail:
    uniap_from_free(t);
    return rc;
}

int uniap_from_import(const uniap_from_texts *t, int64_t given_batch, const uniap_model *m,
                      const uniap_cluster *c, uniap_plan *out)
{
    int rc;
    if (!strcmp(t->runtime, "deepspeed"))
        rc = uniap_plan_import_deepspeed(t->side, t->side_what, t->main, t->main_what, m, c, out);
    else if (!strcmp(t->runtime, "torchtitan"))
        rc = uniap_plan_import_torchtitan(t->main, t->main_what, m, c, out);
    else
        rc = uniap_plan_import_galvatron(t->main, t->main_what, t->side, t->side_what, m, c, out);
    if (rc == 0 && !t->global_batch && given_batch && out->global_batch != given_batch) {
        rc = uniap_err(UNIAP_EINVAL, "%s: a global batch of %lld, --global-batch %lld",
                       t->main_what, (long long)out->global_batch, (long long)given_batch);
        uniap_plan_free(out);
    }
    return rc;
}
