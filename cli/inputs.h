/*
 * inputs.h - the one loader of a command's inputs (model, cluster,
 * profile), so that every command resolves them by the same rules:
 *   - model: a zoo name (uniap model) or a model spec JSON file;
 *   - cluster: a preset name or a cluster spec JSON file; when absent, the
 *     cluster the profile measured (its stored cluster_spec);
 *   - profile: an HDF5 profile; when absent, the analytic device model of
 *     the cluster spec at the micro-batch sizes that divide the global
 *     batch (the 64 smallest), the same list for every command;
 * and the warnings about them (an incomplete profile) are printed once.
 * Also the option entries of these inputs (and of the search restrictions)
 * that plan and estimate share, written once here, and the check that all
 * MPI ranks run on the same inputs.
 */
#ifndef UNIAP_CLI_INPUTS_H
#define UNIAP_CLI_INPUTS_H

#include <stdint.h>

#include "options.h"
#include "uniap_costmodel.h"
#include "uniap_io_mpi.h"

/* Command-line overrides of the model spec's training fields
 * (uniap_training): -1 / NULL keeps the model's. */
typedef struct uniap_training_args {
    int attention;             /* uniap_attention */
    int dropout;               /* 0 off, 1 on */
    const char *checkpointing; /* comma list of none, full, selective */
    int grad_dtype;            /* uniap_dtype */
    int master_dtype;          /* uniap_dtype */
    int optimizer;             /* uniap_optimizer */
    int64_t seq_len;           /* tokens per sample; 0: the model's */
    int precision;             /* uniap_dtype of parameters and activations, or
                                * UNIAP_INPUTS_PRECISION_FP8 (bf16 + FP8 GEMMs); -1: the model's */
} uniap_training_args;
#define UNIAP_INPUTS_PRECISION_FP8 (UNIAP_DTYPE_BF16 + 1) /* --precision fp8 */
#define UNIAP_TRAINING_OPTS        8 /* entries uniap_inputs_training_opts appends */

#define UNIAP_MAX_MB_COUNTS 64 /* --micro-batches: counts at most */

/* What to load. */
typedef struct uniap_inputs_req {
    const char *cmd;                     /* command name for messages ("plan") */
    const char *model;                   /* required */
    const char *cluster;                 /* NULL: the profile's stored cluster_spec */
    const char *profile;                 /* NULL: the analytic profile of the cluster */
    int64_t global_batch;                /* > 0: the analytic profile's micro-batches divide it */
    int64_t global_batch_tokens;         /* --global-batch-tokens, 0: not given */
    int verbose;                         /* 1: print warnings and notes to stderr (rank 0) */
    int quiet;                           /* with verbose: the warnings only, no notes */
    const uniap_training_args *training; /* overrides applied to the model, or NULL */
    const int *micro_batch_counts;       /* the counts searched (--micro-batches), or NULL: the
                                          * analytic profile adds their sizes (ceil(B / c)) */
    int n_micro_batch_counts;
} uniap_inputs_req;

/* What was loaded; owned by the struct, released by uniap_inputs_free. */
typedef struct uniap_inputs {
    uniap_model model;
    uniap_cluster cluster;
    uniap_profile profile;
    int analytic;              /* 1: profile computed from the cluster spec */
    const char *profile_path;  /* req->profile (not copied), NULL when analytic */
    char profile_checksum[20]; /* CRC-32 of the profile file, "" when analytic */
} uniap_inputs;

/* Loads model, cluster and profile by the rules above. Errors name the
 * option and the file; on error everything loaded is released. With
 * verbose, prints the cluster parser's warnings (uniap_cluster_warnings)
 * and warns once about an incomplete profile ("P.h5 is incomplete
 * (interrupted profile): run uniap profile --resume") and says when the
 * analytic device model is used. */
int uniap_inputs_load(const uniap_inputs_req *req, uniap_inputs *in);
void uniap_inputs_free(uniap_inputs *in);
/* With the analytic profile: rebuilds it with the sizes c micro-batches of
 * B need (uniap_micro_batch_size and its divisors) when it lacks them and
 * `uniap plan` had them too: c does not divide B, or the plan's search
 * record (search, NULL: none) lists c in --micro-batches. A plan is thus
 * priced on the profile it was searched on (the same TPI), not
 * interpolated. The sizes it has are kept. Invalidates cost models made
 * over in->profile before. 0 otherwise, or for a measured profile; on
 * error in is unchanged. */
int uniap_inputs_analytic_cover(uniap_inputs *in, int64_t B, int c, const char *search);

/* The analytic profile's micro-batch sizes for global batch B: the
 * divisors of B in increasing order, at most max of them (the smallest).
 * Runs in O(sqrt(B)). Returns how many were stored. */
int uniap_inputs_micro_batches(int64_t B, int *mbs, int max);

/* The start-up agreement of plan and estimate (uniap__ranks_agree in
 * cmd_util.h), collective over MPI_COMM_WORLD: rc is this rank's outcome
 * of parsing and loading (in is read only when rc == 0); the failing
 * rank's message reaches every rank; then refuses unless every rank has
 * the same command line, model and cluster (their canonical JSON) and
 * profile (its checksum). Returns the same status on every rank. */
int uniap_inputs_agree(int rc, int argc, char **argv, const uniap_inputs *in);

/* Prints the cost model's warnings once (when verbose), prefixed with
 * "uniap <cmd>: warning". */
void uniap_inputs_print_warnings(const char *cmd, const uniap_costmodel *cm, int verbose);

#define UNIAP_INPUT_OPTS 5 /* entries uniap_inputs_opts appends */

/* Zeroes r, sets r->cmd and appends the UNIAP_INPUT_OPTS option entries
 * of the inputs over r at opts[*n], advancing *n: --model M (required),
 * --cluster C, --profile P.h5, --global-batch B (batch_def: its default
 * text; NULL: it, or --global-batch-tokens, is required, checked by
 * uniap_inputs_batch_from_tokens) and --global-batch-tokens T. */
void uniap_inputs_opts(uniap_inputs_req *r, const char *cmd, const char *batch_def, uniap_opt *opts,
                       int *n);

/* After parsing: --global-batch-tokens T into r->global_batch = T / the
 * model's sequence length (after --seq-len; the model is resolved and
 * released here). EINVAL naming the options when both are given, when T
 * is no multiple of the sequence length, or (required: batch_def was
 * NULL) when neither is given. */
int uniap_inputs_batch_from_tokens(uniap_inputs_req *r, int required);

/* The --schedule entry over *dest: one schedule of the table (its id);
 * def: the default text (NULL: rendered from *dest). */
uniap_opt uniap_inputs_schedule_opt(int *dest, const char *def, const char *help);
/* The --schedule entry of a search over *dest (the text as given, read by
 * uniap_inputs_schedules); def: the default text. */
uniap_opt uniap_inputs_schedules_opt(const char **dest, const char *def, const char *help);
/* The most schedules a search takes (the table's size). */
#define UNIAP_INPUTS_SCHED_MAX 16
/* The schedules --schedule arg asks for, into out[0..UNIAP_INPUTS_SCHED_MAX):
 * a comma list of schedule names, "both" (1f1b, gpipe) or "all" (every
 * schedule of the table), in the order given, each once. The count, or
 * EINVAL naming the option, the word and the names expected. */
int uniap_inputs_schedules(const char *arg, uniap_schedule *out);

/* The search restrictions plan and estimate share (uniap_cost_options). */
typedef struct uniap_restrict_args {
    int max_tp, max_pp, min_pp;              /* 0: no limit */
    int max_cp;                              /* 0: auto (seq / 4096) */
    int no_cp, no_ulysses;                   /* flags: cp 1 only; ring attention only */
    int max_ep, no_ep;                       /* 0: auto (the largest expert count); ep 1 only */
    double moe_imbalance;                    /* >= 1; 0: 1 */
    const char *flavours;                    /* comma list of ddp, zero1, zero2, fsdp; NULL all */
    double memory_headroom;                  /* fraction of the budget kept free */
    int no_zero, no_ckpt, no_sp, no_strided; /* flags */
    double reserve_gib;                      /* < 0: the cost model's default */
    double overlap;                          /* < 0: from the profile, else default */
} uniap_restrict_args;
#define UNIAP_RESTRICT_OPTS 17 /* entries uniap_inputs_restrict_opts appends */

/* Sets r to the defaults and appends its UNIAP_RESTRICT_OPTS option
 * entries (--max-tp, --max-cp, --no-cp, --no-ulysses, --max-pp, --no-zero, --no-ckpt, --no-sp,
 * --no-strided, --reserve-gib, --overlap, --min-pp, --flavours,
 * --memory-headroom) at opts[*n], advancing *n. */
void uniap_inputs_restrict_opts(uniap_restrict_args *r, uniap_opt *opts, int *n);
/* Sets t to "the model's" and appends its UNIAP_TRAINING_OPTS entries
 * (--attention, --dropout, --checkpointing, --grad-dtype, --master-dtype,
 * --optimizer, --seq-len) at opts[*n], advancing *n. */
void uniap_inputs_training_opts(uniap_training_args *t, uniap_opt *opts, int *n);
/* Applies the given overrides of t to m (uniap_model_set_training: EINVAL
 * naming the option). */
int uniap_inputs_training_apply(const uniap_training_args *t, uniap_model *m);

/* Copies the parsed restrictions into o; EINVAL naming --flavours and the
 * word it does not know. */
int uniap_inputs_restrict_apply(const uniap_restrict_args *r, uniap_cost_options *o);

#endif /* UNIAP_CLI_INPUTS_H */
