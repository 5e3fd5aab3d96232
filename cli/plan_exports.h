/*
 * plan_exports.h - the command-line side of the DeepSpeed, torchtitan and
 * Galvatron exports (uniap plan) and readers (uniap estimate), for the
 * commands to hook in (plan_exports.c): option entries appended to a
 * command's table, the export texts of a plan, and the plan read back
 * from a runtime's files.
 */
#ifndef UNIAP_CLI_PLAN_EXPORTS_H
#define UNIAP_CLI_PLAN_EXPORTS_H

#include "options.h"
#include "uniap_costmodel.h"

/* ---- uniap plan: --deepspeed-config/-args, --torchtitan-toml, --galvatron-args ---- */

typedef struct uniap_exports_args {
    const char *deepspeed_config, *deepspeed_args, *torchtitan_toml, *galvatron_args;
    /* the caller's --galvatron-config path (NULL: not given): the JSON the
     * overrides name, made here too when --galvatron-args is given */
    const char *galvatron_config;
} uniap_exports_args;

#define UNIAP_EXPORTS_OPTS 4 /* entries uniap_exports_opts appends */
#define UNIAP_EXPORTS_MAX  5 /* texts uniap_exports_make makes at most */

/* Appends the export options over a (zeroed here) to opts at *n. */
void uniap_exports_opts(uniap_exports_args *a, uniap_opt *opts, int *n);
/* Combinations the exports cannot write (before any search): EINVAL
 * naming the options (--deepspeed-config and --deepspeed-args together;
 * --galvatron-args with --galvatron-config). */
int uniap_exports_check(const uniap_exports_args *a);
/* How many of the export paths are "-" (standard output). */
int uniap_exports_stdout(const uniap_exports_args *a);

/* One text to write: the option, its path, a name for the report. */
typedef struct uniap_export_text {
    const char *opt, *path, *what;
    char *text; /* malloc'd */
} uniap_export_text;

/* The texts of the exports a requests for plan p of model m, in
 * out[0..*n-1] (at most UNIAP_EXPORTS_MAX; with --galvatron-args the
 * --galvatron-config JSON is among them: the caller writes that one and
 * makes no other). Nothing is written. On error no text is left and the
 * message ends in "--opt FILE: nothing written"; EINVAL for a plan a
 * runtime cannot run. */
int uniap_exports_make(const uniap_exports_args *a, const uniap_plan *p, const uniap_model *m,
                       uniap_export_text *out, int *n);
void uniap_exports_free(uniap_export_text *t, int n);

/* ---- uniap estimate: --from-deepspeed, --from-torchtitan, --from-galvatron ---- */

typedef struct uniap_from_args {
    const char *deepspeed;        /* the Megatron-DeepSpeed arguments file */
    const char *deepspeed_config; /* its DeepSpeed config (NULL: its --deepspeed_config) */
    const char *torchtitan;       /* the TOML job config */
    const char *galvatron;        /* the strategy JSON */
    const char *galvatron_args;   /* the train_dist.yaml overrides (optional) */
} uniap_from_args;

#define UNIAP_FROM_OPTS 5 /* entries uniap_from_opts appends */

void uniap_from_opts(uniap_from_args *a, uniap_opt *opts, int *n);
/* 1 when one runtime's files are given, 0 when none; EINVAL when several
 * runtimes' are, or a side file without its main one. */
int uniap_from_given(const uniap_from_args *a);

/* The files' texts, read before the inputs load. */
typedef struct uniap_from_texts {
    char *main, *side; /* malloc'd; side: config or overrides, or NULL */
    char main_what[1100], side_what[1100];
    const char *runtime;  /* "deepspeed", "torchtitan", "galvatron" */
    int64_t global_batch; /* what the files state, 0: none */
} uniap_from_texts;

/* Reads a's files into t (uniap_from_free). given_batch is --global-batch
 * (0: not given): EINVAL when the files state one too, or neither does.
 * *batch: the global batch for the inputs. */
int uniap_from_read(const uniap_from_args *a, int64_t given_batch, uniap_from_texts *t,
                    int64_t *batch);
/* The plan the files describe for m on c (uniap_plan_free); with a
 * --global-batch the files did not state, the plan's must equal it. */
int uniap_from_import(const uniap_from_texts *t, int64_t given_batch, const uniap_model *m,
                      const uniap_cluster *c, uniap_plan *out);
void uniap_from_free(uniap_from_texts *t);

#endif /* UNIAP_CLI_PLAN_EXPORTS_H */
