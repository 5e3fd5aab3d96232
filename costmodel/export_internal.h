/*
 * export_internal.h - private to the runtime exports and their readers
 * (export_util.c, export_deepspeed.c, import_deepspeed_plan.c,
 * export_torchtitan.c, import_torchtitan_plan.c, plan_export.c's Galvatron
 * part, import_galvatron_plan.c, megatron_args.c): the model's blocks as
 * runtimes build them, a plan read as one runtime's global settings, the
 * plan a reader builds back from them, and the small scanners and the
 * command-line flag reader the readers share.
 */
#ifndef UNIAP_EXPORT_INTERNAL_H
#define UNIAP_EXPORT_INTERNAL_H

#include "cm_internal.h"

/* The model as runtimes build it: embedding layer(s), transformer blocks,
 * head layer(s), in that order (export_util.c). */
typedef struct ex_model {
    int first_block, last_block; /* layer indices of the first and last block */
    int n_blocks;
    const uniap_layer *blk; /* the first block's shape */
    int same;               /* 1: every block has blk's shape */
    /* mixture of experts: the first moe block's shape (NULL: none), the
     * moe blocks, the dense blocks before the first of them, and 1 in
     * moe_tail when the blocks are those dense ones then moe blocks of
     * moe's shape to the last, every block with blk's attention and norm;
     * moe_flags likewise, but only the attention and norm fields a
     * Megatron-LM command line states need agree (hidden, heads, kv_heads,
     * activation, norm, bias: head_dim, position and seq may differ) */
    const uniap_layer *moe;
    int n_moe, dense_first, moe_tail, moe_flags;
} ex_model;

/* A plan as one global setting for every layer (what DeepSpeed and
 * torchtitan run): the values every layer shares, and the split. */
typedef struct ex_plan {
    ex_model mdl;
    int pp, tp, dp, flavour, sp, consecutive;
    int cp, cp_a2a; /* every layer's context-parallel degree and variant (1 ring) */
    int ckpt;       /* the blocks' UNIAP_CKPT_* when all alike, else -1 */
    int mb;         /* samples per micro-batch on one data-parallel rank */
    int ep;         /* the moe blocks' one expert-parallel degree (1: none, or no moe) */
    int *blocks;    /* [pp] transformer blocks per stage (malloc'd) */
} ex_plan;

/* 0 when p's micro-batch count divides its global batch (what Megatron-LM,
 * DeepSpeed and torchtitan run), else EINVAL naming runtime rt. */
int uniap__ex_even_micro_batches(const uniap_plan *p, const char *rt);

/* 1 for a transformer block (its kind's role). */
int uniap__ex_is_block(const uniap_model *m, int u);
/* The blocks of m as *out holds them (first_block -1, blk NULL and
 * n_blocks 0 when it has none), the layout unchecked; *out points into m. */
void uniap__ex_blocks(const uniap_model *m, ex_model *out);
/* The layout of m: EINVAL naming rt and the first layer out of place
 * (before the first block: embeddings only; after the last: heads only;
 * in between: blocks only), or no block at all. */
int uniap__ex_model(const uniap_model *m, const char *rt, ex_model *out);
/* 0 unless m trains in FP8 (uniap_training.fp8); then EINVAL naming what
 * (a runtime, an export or an importer) and that uniap writes and reads no
 * FP8 setting for it: DeepSpeed and Galvatron (the runtimes uniap exports
 * FP8 to are Megatron-LM and torchtitan). */
int uniap__ex_no_fp8(const uniap_model *m, const char *what);
/* 0 unless m has moe layers; then EINVAL naming what and that only the
 * Megatron-LM export writes experts (DeepSpeed, torchtitan, Galvatron). */
int uniap__ex_no_moe(const uniap_model *m, const char *what);
/* torchtitan's float8 model converter (v0.2.2 73a0e69; "float8" before). */
#define UNIAP_TT_FLOAT8 "quantize.linear.float8"
/* Reads p as one setting (free x->blocks): EINVAL naming rt, the layer,
 * its stage and what differs when a layer's tp, dp, flavour, sp or TP
 * placement is not the first block's, the moe blocks' ep differ or a
 * layer without experts has ep > 1, an embedding or head recomputes,
 * or the split is not the embedding-with-the-first-stage, head-with-the-
 * last one (uniap_plan_split_stages); the blocks may differ in ckpt (-1). */
int uniap__ex_plan(const uniap_plan *p, const uniap_model *m, const char *rt, ex_plan *x);

/* The settings a reader found, to build the plan from. */
typedef struct ex_build {
    int pp, tp, flavour, sp;
    int cp;            /* context-parallel degree, ring attention (0 or 1: none) */
    int ep;            /* the moe layers' expert-parallel degree (0 or 1: none) */
    int ckpt;          /* the blocks' recomputation (UNIAP_CKPT_*) */
    const int *blocks; /* [pp] per stage, or NULL: even (EINVAL when pp does not divide) */
    int64_t global_batch;
    int micro_batches;
    uniap_schedule schedule;
} ex_build;

/* The plan m runs on c with settings b: dp = devices / (tp pp), TP ranks
 * adjacent, DDP when dp is 1, ckpt on the blocks only, ep on the moe
 * layers only (EINVAL when it does not divide dp). *out is the
 * caller's (uniap_plan_free); what names the source in messages. */
int uniap__ex_build(const ex_build *b, const uniap_model *m, const uniap_cluster *c,
                    const char *what, uniap_plan *out);
/* Allocates out's per-layer arrays for m on c and fills its header
 * (model, cluster, status "given", n_layers). */
int uniap__ex_plan_alloc(const uniap_model *m, const uniap_cluster *c, const char *what,
                         uniap_plan *out);
/* Sets s to the strategy of those values, formatted and checked by
 * parsing its name back. */
int uniap__ex_strategy(uniap_strategy *s, int dp, int tp, int consecutive, int flavour, int sp,
                       int ckpt);

/* Devices of c divided by tp x pp (EINVAL naming what when they do not
 * divide). */
int uniap__ex_dp(const uniap_cluster *c, int tp, int pp, const char *what, int *dp);

/* Splits a command line (its first line that is not a "#" comment) into
 * tokens in *tok (pointers into *buf, malloc'd; at most max). */
int uniap__ex_tokens(const char *text, const char *what, char **buf, char **tok, int max, int *n);
/* A whole decimal integer in [lo, hi] from s, or EINVAL naming what and
 * key. */
int uniap__ex_int(const char *s, long lo, long hi, const char *what, const char *key, long *out);

/* Appends to b the model arguments Megatron-LM and Megatron-DeepSpeed
 * spell alike, in their order: --disable-bias-linear (blk has no bias),
 * --untie-embeddings-and-output-weights (m's head is not tied), --bf16 or
 * --fp16 (m's parameters), flash_flag when blk uses flash attention
 * ("--use-flash-attn", "--use-flash-attn-v2"), zero dropouts when blk has
 * none. blk is m's transformer block; nothing is kept. */
void uniap__ex_megatron_switches(const uniap_model *m, const uniap_layer *blk,
                                 const char *flash_flag, uniap_textbuf *b);

/* How uniap__ex_read_args reads one command-line flag's value. */
typedef enum ex_flag_kind {
    EX_FLAG_SWITCH, /* no value: the int at field becomes 1 */
    EX_FLAG_INT,    /* a whole number in [0, 2^40]: the long at field */
    EX_FLAG_PROB,   /* a number in [0, 1] (a dropout): the double at field */
    EX_FLAG_WORD,   /* any word: the const char * at field points at it */
    EX_FLAG_CHOICE, /* one of choices: the int at field becomes its index + 1 */
} ex_flag_kind;

/* One flag a reader knows: name without its "--", and where its value
 * goes (offsetof in the reader's struct of arguments). */
typedef struct ex_flag {
    const char *name;
    ex_flag_kind kind;
    size_t field;
    const char *const *choices; /* EX_FLAG_CHOICE: the words, NULL-terminated */
} ex_flag;

/* A runtime's flag table, and how its refusals name the runtime and what
 * it reads ("--x is not a <runtime> argument uniap reads (<reads>
 * arguments are)"). */
typedef struct ex_flags {
    const ex_flag *flag;
    size_t n;
    const char *runtime; /* "Megatron-LM" */
    const char *reads;   /* "parallelism, batch, recompute and model-shape" */
} ex_flags;

/* Megatron's --recompute-granularity and --recompute-method words
 * (EX_FLAG_CHOICE: the value read is EX_RC_* here, 0 when not given). */
extern const char *const uniap__ex_rc_granularity[], *const uniap__ex_rc_method[];
enum { EX_RC_FULL = 1, EX_RC_SELECTIVE = 2 };
enum { EX_RC_UNIFORM = 1, EX_RC_BLOCK = 2 };
/* The two table entries of those flags, into the int fields gran and
 * method of the struct type. */
#define EX_RC_FLAGS(type, gran, method)                                                            \
    {"recompute-granularity", EX_FLAG_CHOICE, offsetof(type, gran), uniap__ex_rc_granularity},     \
    {                                                                                              \
        "recompute-method", EX_FLAG_CHOICE, offsetof(type, method), uniap__ex_rc_method            \
    }

/* Reads tok[0..n) as "--flag [value]" arguments of table t into the
 * caller's struct at args (a later value of a flag replaces an earlier
 * one, as argparse does); words point into tok (the caller's). EINVAL
 * naming what, the flag and what was expected: a token that is not a
 * --flag, a flag not in t, a missing or ill-formed value. */
int uniap__ex_read_args(const ex_flags *t, char **tok, int n, void *args, const char *what);

/* DeepSpeed's partition_uniform(num_items, num_parts) (runtime/utils.py):
 * the cuts parts[m + 1] of n items into m parts, the first n % m parts
 * one item longer; with n <= m, one item a part and the rest empty. */
void uniap__ds_partition_uniform(int n, int m, int *parts);
/* DeepSpeed's partition_balanced(weights, num_parts): the cuts parts[m +
 * 1] of the n weights w into m contiguous parts with the least (max -
 * min) part weight, by its dynamic programme, ties to the later cut (its
 * ">="); n <= m: partition_uniform. 0, or ENOMEM. Both in
 * export_deepspeed.c, for its export and reader and for
 * runtime_deepspeed.c's enumeration. */
int uniap__ds_partition_balanced(const double *w, int n, int m, int *parts);
/* Transformer blocks per stage, blocks[pp], of DeepSpeed's
 * PipelineModule partition_method 'type:transformer' over m's layers (one
 * weight per block; export_deepspeed.c): EINVAL naming what when it leaves
 * a stage empty or places an embedding or head away from its neighbouring
 * block's stage. */
int uniap__ds_type_split(const uniap_model *m, int pp, int *blocks, const char *what);

/* torchtitan (export_torchtitan.c): 0 when its llama3 builds m (layout
 * x), else EINVAL naming what and the property; the [training] dtype and
 * mixed_precision_param strings of m. */
int uniap__tt_model_check(const uniap_model *m, const ex_model *x, const char *what);
/* The torchtitan model that builds x: "llama3" without experts, "llama4"
 * when every block is moe, "deepseek_v3" when dense blocks come first. */
const char *uniap__tt_model_name(const ex_model *x);
void uniap__tt_dtypes(const uniap_model *m, const char **dtype, const char **mp);

#endif /* UNIAP_EXPORT_INTERNAL_H */
