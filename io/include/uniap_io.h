/*
 * uniap_io.h - the io component's interface: errors, model and cluster
 * specs (JSON), the HDF5 profile dataset (format version 1), atomic file
 * output. What needs MPI (agreement across ranks, the parallel profile
 * write) is in uniap_io_mpi.h, so that this header and what includes it
 * (the cost model) need no MPI.
 *
 * Every other component depends on this header; it depends on nothing of
 * the project's. Conventions used throughout uniap:
 *   - functions return 0 (UNIAP_OK) or a negative uniap_status code;
 *   - the function that detects an error records a message with
 *     uniap_err() naming the file, the object or JSON path, and what was
 *     expected; callers propagate the code without overwriting the message;
 *   - sizes are bytes, times are seconds, rates are bytes/s or FLOP/s,
 *     unless a name says otherwise.
 */
#ifndef UNIAP_IO_H
#define UNIAP_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* The status codes, one line each: X(NAME, value, short name, exit code).
 * Exit codes: 0 success, 2 bad input/format/missing measurement, 3 no plan
 * fits in memory, 4 interrupted, 1 anything else. A new code is one line. */
#define UNIAP_STATUS_MAP(X)                                                                        \
    X(OK, 0, "ok", 0)                                                                              \
    X(EINVAL, -1, "invalid input", 2)         /* malformed spec, option, value */                  \
    X(EIO, -2, "i/o error", 1)                /* a file could not be opened, read or written */    \
    X(EFORMAT, -3, "bad dataset", 2)          /* foreign, corrupt or incompatible dataset */       \
    X(ENOMEM, -4, "out of memory", 1)         /* allocation failed */                              \
    X(EINFEASIBLE, -5, "infeasible", 3)       /* no plan fits in memory */                         \
    X(EMISSING, -6, "missing measurement", 2) /* a profile lacks a needed measurement */           \
    X(ELIB, -7, "library error", 1)           /* MPI, HDF5, GLPK, BLAS or CUDA call failed */      \
    X(EINTR, -8, "interrupted", 4)            /* interrupted by SIGINT/SIGTERM */                  \
    X(EINTERNAL, -9, "internal error", 1)     /* an invariant failed: a bug in uniap */            \
    X(ENOPLAN, -10, "no plan", 1)             /* the search ended without any plan (not memory) */

enum uniap_status {
#define UNIAP__STATUS_ENUM(name, value, str, exit) UNIAP_##name = (value),
    UNIAP_STATUS_MAP(UNIAP__STATUS_ENUM)
#undef UNIAP__STATUS_ENUM
};

/* Records a printf-style message for code and returns code. The first
 * error's message is the cause; later calls while one is set wrap it as
 * context ("outer: inner"). uniap_err_clear() at each command's entry. */
int uniap_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same, also recording the source location; the location is shown only
 * when uniap_err_set_debug(1) was called (the commands' --debug). */
int uniap_err_at(const char *file, int line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void uniap_err_set_debug(int on);
/* The recorded message, or "" when none. */
const char *uniap_errmsg(void);
void uniap_err_clear(void);
/* Short name of a status code ("invalid input", ...). */
const char *uniap_strstatus(int code);
/* Process exit status for a status (UNIAP_STATUS_MAP's last column). */
int uniap_exit_code(int status);

/* Invariants whose failure would corrupt memory or results, checked in
 * every build (release included): records an EINTERNAL error naming the
 * condition, file and line, and returns it from the enclosing function. */
#define UNIAP_CHECK(cond)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return uniap_err_at(__FILE__, __LINE__, UNIAP_EINTERNAL,                               \
                                "internal error: invariant '%s' failed", #cond);                   \
    } while (0)
/* The same, setting rc and jumping to label (cleanup through goto). */
#define UNIAP_CHECK_GOTO(cond, rc, label)                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            (rc) = uniap_err_at(__FILE__, __LINE__, UNIAP_EINTERNAL,                               \
                                "internal error: invariant '%s' failed", #cond);                   \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

/* ------------------------------------------------------------------ */
/* Atomic output                                                       */
/* ------------------------------------------------------------------ */

/* An output file being written: created under a unique temporary name
 * (mkstemp: O_CREAT|O_EXCL, never following a link) in the directory of the
 * final file, which is the target of `path` when path is a symlink (the
 * write goes through the link), and renamed onto it by _commit after fsync.
 * "-" (when the caller allows it) is standard output: no temporary. */
typedef struct uniap_output {
    char path[4096]; /* final path, symlinks resolved; "-" for stdout */
    char tmp[4096];  /* temporary path ("" for stdout) */
    FILE *f;         /* open for writing (stdout for "-") */
    int is_stdout;
} uniap_output;

/* Checks, before any work starts, that path can be written: "-" only when
 * allow_stdout; otherwise its folder exists and is a writable folder, and
 * path, if it exists, is a regular file (or a symlink to one; a folder, a
 * device node or a FIFO is refused). Creates nothing. Errors name opt
 * (e.g. "--out") and the path. */
int uniap_output_check(const char *opt, const char *path, int allow_stdout);
/* Refuses (UNIAP_EINVAL, naming both options) when output `out` is the same
 * file (st_dev and st_ino, through symlinks) as any existing input:
 * inputs[i] is a path or NULL (skipped), input_opts[i] its option name. */
int uniap_output_not_input(const char *opt, const char *out, const char *const *inputs,
                           const char *const *input_opts, int n_inputs);
/* Opens o for path (see above). On error nothing is left behind. */
int uniap_output_open(uniap_output *o, const char *path, int allow_stdout);
/* Flushes, fsyncs, closes and renames the temporary onto the final path. On
 * failure removes the temporary. Standard output is only flushed. */
int uniap_output_commit(uniap_output *o);
/* Closes and removes the temporary (no-op for stdout or a closed output). */
void uniap_output_abort(uniap_output *o);
/* For writers that must create the file themselves by name (HDF5): makes
 * the unique temporary like _open, closes its stream and leaves o->tmp to
 * be written and then committed with uniap_output_commit_path(). */
int uniap_output_reserve(uniap_output *o, const char *path);
int uniap_output_commit_path(uniap_output *o);
/* DEPRECATED (predictable names, no O_EXCL): being replaced by the
 * uniap_output API above; removed once no caller is left. */
int uniap_tmp_name(const char *final_path, char *buf, size_t n);
int uniap_commit_file(const char *tmp_path, const char *final_path);
/* Writes len bytes to path atomically (uniap_output_open + commit); "-" is
 * standard output. */
int uniap_write_file_atomic(const char *path, const void *data, size_t len);
/* CRC-32 (IEEE 802.3, reflected) of a file's bytes as 8 lower-case hex
 * digits in hex (at least 9 bytes). Plans record their profile's. */
int uniap_file_crc32(const char *path, char hex[20]);
/* A growing text buffer: uniap_textbuf_printf appends; on allocation
 * failure it sets oom and appends nothing more. Start zeroed; free(s). */
typedef struct uniap_textbuf {
    char *s;
    size_t n, cap;
    int oom;
} uniap_textbuf;
void uniap_textbuf_printf(uniap_textbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "prog arg1 arg2 ..." (malloc'd), or NULL when out of memory. */
char *uniap_join_args(const char *prog, int argc, char **argv);
/* Reads a whole file into a malloc'd NUL-terminated buffer. */
int uniap_read_file(const char *path, char **data, size_t *len);

/* ------------------------------------------------------------------ */
/* Numeric types                                                       */
/* ------------------------------------------------------------------ */

typedef enum {
    UNIAP_DTYPE_FP32 = 0,
    UNIAP_DTYPE_FP16,
    UNIAP_DTYPE_BF16,
} uniap_dtype;

int uniap_dtype_bytes(uniap_dtype t);
const char *uniap_dtype_name(uniap_dtype t); /* "fp32", "fp16", "bf16" */
int uniap_dtype_parse(const char *s, uniap_dtype *out);

/* ------------------------------------------------------------------ */
/* Model spec                                                          */
/* ------------------------------------------------------------------ */

/* Layer kinds. A model is a chain of layers; consecutive identical layers
 * are one run ("count" in JSON). Each kind is one descriptor per
 * component: io/layer_kinds.c (JSON name, fields, parsing, parameters),
 * costmodel/layer_kinds.c (costs), profiler/kernels_cpu (kernels); profiles
 * name kinds by their signature, never by these values. */
typedef enum {
    UNIAP_LAYER_EMBEDDING = 0, /* token (+ learned position) embedding */
    UNIAP_LAYER_PATCH_EMBED,   /* ViT/Swin patch embedding: conv as GEMM */
    UNIAP_LAYER_ENCODER,       /* bidirectional self-attention + MLP */
    UNIAP_LAYER_DECODER,       /* causal self-attention + MLP */
    UNIAP_LAYER_CROSS_DECODER, /* causal self-attn + cross-attn + MLP (T5) */
    UNIAP_LAYER_SWIN,          /* window self-attention + MLP */
    UNIAP_LAYER_PATCH_MERGE,   /* Swin downsampling: LayerNorm + 4C->2C linear */
    UNIAP_LAYER_HEAD,          /* final norm + LM/classifier head + loss */
    UNIAP_LAYER_MOE,           /* causal self-attention + mixture-of-experts MLP */
    UNIAP_LAYER_KIND_COUNT
} uniap_layer_kind;
/* Most kinds a component's table holds: the built-in ones and those tests
 * register at run time (values UNIAP_LAYER_KIND_COUNT and up). */
#define UNIAP_LAYER_KIND_MAX 32

typedef enum { UNIAP_ACT_GELU = 0, UNIAP_ACT_SWIGLU, UNIAP_ACT_RELU } uniap_activation;
typedef enum { UNIAP_NORM_LAYERNORM = 0, UNIAP_NORM_RMSNORM } uniap_norm;
typedef enum {
    UNIAP_POS_NONE = 0,
    UNIAP_POS_LEARNED,
    UNIAP_POS_ROTARY,
    UNIAP_POS_RELATIVE
} uniap_position;

const char *uniap_layer_kind_name(uniap_layer_kind k); /* JSON "type" strings */

/* One run of identical layers. Fields not used by a kind are 0. */
typedef struct uniap_layer {
    uniap_layer_kind kind;
    int count;        /* layers in this run, >= 1 */
    int64_t hidden;   /* h: model width at this layer */
    int heads;        /* a: attention heads (query) */
    int kv_heads;     /* key/value heads (grouped-query); == heads for MHA */
    int64_t head_dim; /* per-head width; hidden / heads unless given */
    int64_t ffn;      /* FFN inner width (per branch for SwiGLU) */
    uniap_activation activation;
    uniap_norm norm;
    uniap_position position;
    int bias;              /* linear layers carry biases */
    int64_t seq;           /* tokens per sample this layer processes */
    int64_t kv_seq;        /* CROSS_DECODER: encoder tokens attended to */
    int64_t vocab;         /* EMBEDDING/HEAD: vocabulary or classes */
    int64_t max_positions; /* EMBEDDING with learned positions */
    int tied;              /* HEAD: weights tied to the embedding (no params) */
    int window;            /* SWIN: window side in patches (window^2 tokens) */
    int64_t image;         /* PATCH_EMBED: image side in pixels */
    int patch;             /* PATCH_EMBED: patch side in pixels */
    int channels;          /* PATCH_EMBED: input channels */
    int64_t out_hidden;    /* PATCH_MERGE: output width (usually 2 h) */
    /* MOE: a router (h x experts linear, softmax, top_k) picks top_k of
     * `experts` routed experts per token, each an MLP of width ffn with
     * the layer's activation; shared_experts more of the same width run
     * on every token (DeepSeekMoE). capacity_factor caps the tokens an
     * expert takes at capacity_factor x tokens x top_k / experts (GShard,
     * Switch Transformer); 0: dropless, no token dropped. */
    int experts;            /* routed experts E, >= 1 */
    int top_k;              /* experts per token, 1..experts */
    int shared_experts;     /* always-on experts, default 0 */
    double capacity_factor; /* >= 1, or 0 (dropless, the default) */
    /* Copied from the model's training fields (uniap_model_set_training),
     * never written per layer in JSON; in the signature when set, so that
     * profiles key them apart. 0: today's eager attention with dropout. */
    int flash_attn; /* attention kernel keeps no score tensor (flash) */
    int no_dropout; /* no dropout masks */
    int fp8;        /* attention blocks only: Linear GEMMs in FP8 (uniap_training.fp8) */
} uniap_layer;

/* How the model is trained: what its memory and optimizer step depend on
 * beyond the shapes (model spec fields "attention", "dropout",
 * "checkpointing", "grad_dtype", "master_dtype", "optimizer", "fp8"; command-line
 * overrides in plan and estimate). */
typedef enum { UNIAP_ATTN_EAGER = 0, UNIAP_ATTN_FLASH } uniap_attention;
typedef enum {
    UNIAP_OPTIM_ADAM = 0,     /* Adam/AdamW: two fp32 moments per parameter */
    UNIAP_OPTIM_SGD_MOMENTUM, /* SGD with momentum: one fp32 buffer */
    UNIAP_OPTIM_SGD,          /* plain SGD: no state */
} uniap_optimizer;
/* Checkpointing granularities (the values of a strategy's ckpt). */
enum {
    UNIAP_CKPT_NONE = 0,      /* every activation kept */
    UNIAP_CKPT_FULL = 1,      /* the layer's input kept, forward recomputed */
    UNIAP_CKPT_SELECTIVE = 2, /* the attention core recomputed (Korthikanti et al. 2022 s5) */
    UNIAP_CKPT_COUNT
};
/* Bit of granularity g in uniap_training.ckpt_modes. */
#define UNIAP_CKPT_BIT(g)  (1u << (g))
#define UNIAP_CKPT_DEFAULT (UNIAP_CKPT_BIT(UNIAP_CKPT_NONE) | UNIAP_CKPT_BIT(UNIAP_CKPT_FULL))

typedef struct uniap_training {
    /* Every field 0 is the default (today's behaviour), so that a model
     * built in code with memset is trained as before. */
    uniap_attention attention; /* eager */
    int no_dropout;            /* 0: dropout on */
    unsigned ckpt_modes;       /* granularities the search may give a layer (UNIAP_CKPT_BIT);
                                * 0: UNIAP_CKPT_DEFAULT */
    int grad_dtype;            /* 1 + uniap_dtype of the gradients; 0: the parameters' */
    int master_dtype;          /* 1 + uniap_dtype of the master weights (mixed precision
                                * only); 0: fp32 when mixed, none otherwise */
    uniap_optimizer optimizer; /* Adam */
    /* 1: FP8 training as Transformer Engine runs it (Megatron-LM
     * --fp8-format hybrid: E4M3 forward, E5M2 gradients): the Linear
     * GEMMs of the transformer blocks in FP8, everything else (attention
     * core, norms, element-wise, embedding, head) and the model states at
     * the model's 16-bit dtype; needs mixed precision with bf16 or fp16
     * parameters. 0: no FP8. */
    int fp8;
} uniap_training;

typedef struct uniap_model {
    char name[64];
    uniap_dtype param_dtype; /* dtype of the compute copy of parameters */
    uniap_dtype act_dtype;   /* activation dtype */
    int mixed_precision;     /* 1: fp32 master weights + Adam (16 B/param) */
    int64_t seq_len;         /* default tokens per sample */
    int n_runs;
    uniap_layer *runs;
    int n_layers; /* sum of runs[i].count */
    uniap_training training;
} uniap_model;

/* The defaults (all 0, today's behaviour): eager attention, dropout,
 * none|full checkpointing, gradients and master weights as the precision
 * implies, Adam. */
void uniap_training_default(uniap_training *t);
/* t's checkpointing granularities (the default for 0). */
unsigned uniap_training_ckpt_modes(const uniap_training *t);
/* Sets m's training fields to t (and the per-layer copies flash_attn,
 * no_dropout), after checking them: EINVAL naming `what` (a file or
 * "--option") and the field when a value is out of range, ckpt_modes is
 * empty, master_dtype is set without mixed precision, or fp8 is set
 * without mixed precision at 16 bits. */
int uniap_model_set_training(uniap_model *m, const uniap_training *t, const char *what);
/* Names: "eager"/"flash", "adam"/"sgd_momentum"/"sgd", "none"/"full"/
 * "selective" (NULL out of range), and parsing them back (-1 unknown). */
const char *uniap_attention_name(int a);
const char *uniap_optimizer_name(int o);
const char *uniap_ckpt_name(int g);
int uniap_attention_parse(const char *s);
int uniap_optimizer_parse(const char *s);
int uniap_ckpt_parse(const char *s);
/* Parses a comma list of granularities ("none,selective") into a
 * ckpt_modes mask; EINVAL naming what and the bad word. */
int uniap_ckpt_modes_parse(const char *list, const char *what, unsigned *out);

/* Parses a model spec from JSON text. `source` names the file in errors.
 * On error *out is left zeroed and the message names source and JSON path. */
int uniap_model_parse(const char *json, const char *source, uniap_model *out);
int uniap_model_load(const char *path, uniap_model *out);
/* Serializes back to canonical JSON (malloc'd) that uniap_model_parse reads
 * back to an equal model. Values the parser derives are left out (a layer's
 * seq and kv_seq equal to seq_len, kv_heads == heads, head_dim ==
 * hidden/heads, a patch embedding's seq), so editing seq_len in a dump
 * changes every layer that does not state its own length. */
int uniap_model_to_json(const uniap_model *m, char **json);
void uniap_model_free(uniap_model *m);
/* Names of bundled zoo models ("bert-huge", "t5-large", "vit-huge",
 * "swin-huge", "llama-7b", "llama-13b", "llama-70b", "gpt3-175b",
 * "mixtral-8x7b", "deepseek-v2-lite" (mixture of experts), and
 * "gpt-tiny", a 268K-parameter GPT for CPU runs), NULL terminated; and loading one by name. A path
 * argument that is not a zoo name is loaded as a file (uniap_model_resolve). */
const char *const *uniap_zoo_models(void);
int uniap_zoo_model(const char *name, uniap_model *out);
int uniap_model_resolve(const char *name_or_path, uniap_model *out);

/* Hugging Face model configs (io/hf_config.c). uniap_model_load and
 * uniap_model_resolve read them too: a JSON file with `architectures` or
 * `model_type` and no `layers`, or a folder holding config.json. The
 * architectures read: Llama, Mistral, Qwen2, Mixtral (...ForCausalLM;
 * Mixtral's experts as moe layers), GPT-2, GPT-NeoX, BERT (masked-LM
 * pretraining), T5 (conditional generation), ViT; others, and expert
 * fields in any other class, are refused by name. */
#define UNIAP_HF_SEQ_CAP 8192 /* default training length: the config's longest, capped here */
typedef struct uniap_hf_info {
    char architecture[64];     /* the config's architectures[0] */
    int64_t unmodelled_params; /* parameters of the checkpoint uniap's layers do not hold */
    char notes[1024];          /* what is not modelled, one line each */
} uniap_hf_info;
/* 1 when json looks like a Hugging Face config (see above). */
int uniap_hf_is_config(const char *json);
/* Reads a config's text (source names it in errors) into *out, trained at
 * seq_len tokens (<= 0: the default above); info (may be NULL) gets what
 * the model leaves out. EINVAL naming the file and field for what uniap
 * cannot model; *out zeroed on error. The caller frees *out. */
int uniap_model_from_hf(const char *json, const char *source, int64_t seq_len, uniap_model *out,
                        uniap_hf_info *info);
/* The model trained at seq_len tokens per sample: the layers without a
 * length of their own follow it; EINVAL naming what (the option) when the
 * model cannot (learned positions shorter). m is replaced on success. */
int uniap_model_set_seq_len(uniap_model *m, int64_t seq_len, const char *what);
/* uniap_model_resolve at seq_len tokens (<= 0: the spec's own): a Hugging
 * Face config is read at that length, any other spec set to it. */
int uniap_model_resolve_seq(const char *name_or_path, int64_t seq_len, uniap_model *out);
/* The notes of the last Hugging Face config read by uniap_model_load ("" if
 * none or the last load was no HF config); valid until the next load. */
const uniap_hf_info *uniap_model_hf_info(void);

/* Parameters of one layer of a run (not times count), unsharded. */
int64_t uniap_layer_params(const uniap_layer *l);
int64_t uniap_model_params(const uniap_model *m);
/* Parameters one token runs through: uniap_layer_params except for a MOE
 * layer, whose router, top_k routed and shared experts count and whose
 * other routed experts do not (Mixtral-8x7B: 12.9B of 46.7B). */
int64_t uniap_layer_active_params(const uniap_layer *l);
int64_t uniap_model_active_params(const uniap_model *m);
/* Index of the run that expanded layer index u (0 <= u < n_layers) is in. */
int uniap_model_run_of(const uniap_model *m, int u);
/* 1 when a run of m has routed experts (experts > 0: a moe layer), else
 * 0. m is only read; nothing is kept. */
int uniap_model_has_experts(const uniap_model *m);
/* Canonical signature of a layer's shape, e.g.
 * "decoder.h4096.a32.kv32.f11008.s2048.swiglu.rmsnorm.rope". Profiles key
 * layer measurements by it; equal layers have equal signatures. */
int uniap_layer_signature(const uniap_layer *l, char *buf, size_t n);

/* ------------------------------------------------------------------ */
/* Cluster spec                                                        */
/* ------------------------------------------------------------------ */

typedef struct uniap_cluster {
    char name[64];
    int nodes;
    int devices_per_node;
    char device_name[64];
    int64_t device_memory; /* bytes per device */
    /* Optional datasheet figures for planning without a measured profile;
     * 0 means unknown. */
    double peak_flops; /* dense FLOP/s at the model's 16-bit dtype */
    double peak_flops_fp32;
    double peak_flops_fp8;     /* dense FP8 tensor-core FLOP/s (H100, H200); 0: no FP8 */
    double mem_bandwidth;      /* device memory bytes/s */
    double intra_node_bw;      /* bytes/s per device, one direction, inside a node */
    double inter_node_bw;      /* bytes/s per device, one direction, between nodes */
    double intra_node_latency; /* seconds per message */
    double inter_node_latency;
    /* Optional: the bus bandwidth NCCL collectives achieve on those links
     * at large messages (nccl-tests busbw, bytes/s); the analytic
     * collectives run at it in place of the link rate; 0: unknown (the
     * link rate). */
    double intra_node_busbw;
    double inter_node_busbw;
    /* Optional GEMM-efficiency facts of the analytic device model
     * (costmodel/gemm_eff.c); 0 means unknown. sm_count: streaming
     * multiprocessors (the GEMM tiles of one wave); gemm_tile_m/n: the
     * output tile one SM computes (unknown: 128 x 128); gemm_efficiency:
     * fraction of peak_flops a large GEMM of the vendor's BLAS reaches
     * (unknown: 1, the datasheet peak), gemm_efficiency_fp32: the same of
     * peak_flops_fp32; flash_fwd/bwd_efficiency: fraction of peak_flops
     * a flash-attention forward / backward reaches (unknown: the GEMM
     * fraction). */
    int sm_count;
    int gemm_tile_m, gemm_tile_n;
    double gemm_efficiency;
    double gemm_efficiency_fp32;
    double gemm_efficiency_fp8; /* fraction of peak_flops_fp8 large FP8 GEMMs reach */
    double flash_fwd_efficiency;
    double flash_bwd_efficiency;
} uniap_cluster;

/* Parses a cluster spec. Figures no device has are refused (EINVAL naming
 * source, field, value, the expected range with its unit and the likely
 * unit slip, e.g. "peak_flops: expected 1e+09..1e+17 FLOP/s (or 0 =
 * unknown), got 312 (312 looks like TFLOP/s: write 312e12)"): device memory
 * 64 MiB..16 TiB, FLOP/s 1e9..1e17, bandwidths 1e4..1e14 B/s (low enough
 * for any measured link), latencies 0..1 s; nodes 1..100000,
 * devices_per_node 1..1024; sm_count 1..1024, GEMM tiles 8..1024 in
 * multiples of 8, efficiencies fractions in (0, 1] (a percentage is
 * refused with the fraction it means). */
int uniap_cluster_parse(const char *json, const char *source, uniap_cluster *out);
/* Warnings of this thread's last uniap_cluster_parse (load, preset,
 * resolve): figures accepted but unusual for a training device, one per
 * line "<source>: <field>: ...", with the likely unit; "" when none. The
 * commands print it once (rank 0) after loading a cluster. */
const char *uniap_cluster_warnings(void);
int uniap_cluster_load(const char *path, uniap_cluster *out);
int uniap_cluster_to_json(const uniap_cluster *c, char **json);
/* Bundled presets: "a100-40g-1x8", "a100-80g-2x8", "titanxp-2x4",
 * "h100-80g-4x8", "h100-80g-16x8", "h200-141g-4x8". */
const char *const *uniap_cluster_presets(void);
int uniap_cluster_preset(const char *name, uniap_cluster *out);
int uniap_cluster_resolve(const char *name_or_path, uniap_cluster *out);
static inline int uniap_cluster_devices(const uniap_cluster *c)
{
    return c->nodes * c->devices_per_node;
}

/* ------------------------------------------------------------------ */
/* Profile dataset (HDF5, format "uniap-profile" version 1.x)          */
/* ------------------------------------------------------------------ */

#define UNIAP_PROFILE_FORMAT        "uniap-profile"
#define UNIAP_PROFILE_VERSION_MAJOR 1
/* 1.1: optional root attribute notes; 1.2: optional root attribute
 * layer_times_include_tp_comm, per-position layer rows (signature@index) */
#define UNIAP_PROFILE_VERSION_MINOR 3

/* Summary of repeated timings, seconds. */
typedef struct uniap_stat {
    double median, min, max;
    int count;
} uniap_stat;

/* One layer measurement: a layer shape at a tensor-parallel shard and
 * micro-batch size, on one rank (or the median over ranks: rank = -1). */
typedef struct uniap_layer_prof {
    char layer_type[96]; /* uniap_layer_signature() of the unsharded layer */
    int tp;              /* shard: heads/tp, ffn/tp */
    int micro_batch;     /* samples */
    int rank;
    uniap_stat fwd;      /* forward seconds */
    uniap_stat bwd;      /* backward seconds (activation + weight grads) */
    uniap_stat wgrad;    /* 1.3: the weight-gradient GEMMs' seconds inside bwd
                            (zero-bubble schedules' W); count 0: not measured */
    int64_t act_bytes;   /* activations kept from forward for backward */
    int64_t peak_bytes;  /* transient peak during fwd+bwd above the params
                            and the kept activations (act_bytes) */
    int64_t param_bytes; /* parameters of the shard, in param dtype */
} uniap_layer_prof;

/* The collectives, one line each: X(ID, name, ring, flat). name is the
 * op's name in profiles (on disk an HDF5 enum matched by name, so append
 * only) and messages; ring and flat give its nccl-tests bus-bandwidth
 * factor on a group of n, busbw = algbw * (ring (n-1)/n + flat):
 *   all-reduce 2(n-1)/n; all-gather, reduce-scatter, all-to-all (n-1)/n;
 *   broadcast, point-to-point 1
 * so busbw is comparable to the link's bandwidth whatever the group size.
 * A new collective: a line here, its benchmark profiler/coll/<name>.c
 * defining `prof_coll_<name>` (the profiler's table is generated from this
 * list) and that file in profiler/CMakeLists.txt. */
#define UNIAP_COLL_MAP(X)                                                                          \
    X(ALLREDUCE, all_reduce, 2, 0)                                                                 \
    X(ALLGATHER, all_gather, 1, 0)                                                                 \
    X(REDUCESCATTER, reduce_scatter, 1, 0)                                                         \
    X(ALLTOALL, all_to_all, 1, 0)                                                                  \
    X(BROADCAST, broadcast, 0, 1)                                                                  \
    X(P2P, p2p, 0, 1)

typedef enum {
#define UNIAP__COLL_ENUM(id, name, ring, flat) UNIAP_COLL_##id,
    UNIAP_COLL_MAP(UNIAP__COLL_ENUM)
#undef UNIAP__COLL_ENUM
        UNIAP_COLL_COUNT
} uniap_coll_op;

const char *uniap_coll_name(uniap_coll_op op); /* "all_reduce", ... "p2p"; "?" if none */
/* The bus-bandwidth factor of UNIAP_COLL_MAP: busbw = algbw * factor(op,
 * n); 0 when n < 1 or op is no collective. */
double uniap_busbw_factor(uniap_coll_op op, int n);

/* One collective measurement. bytes is the nccl-tests "size": the full
 * buffer of all-reduce/broadcast, the gathered output of all-gather, the
 * input of reduce-scatter, the per-rank send buffer of all-to-all, the
 * message of p2p. */
typedef struct uniap_coll_prof {
    uniap_coll_op op;
    int group_size;
    int spans_nodes; /* placement: 0 all ranks in one node, 1 across nodes */
    int src, dst;    /* P2P: world ranks (else -1) */
    int64_t bytes;
    uniap_stat time; /* slowest rank per iteration, seconds */
    double algbw;    /* bytes/s, bytes / median time */
    double busbw;    /* bytes/s */
} uniap_coll_prof;

/* One GEMM of the profiler's sweep (table /gemm, 1.2, optional): row-major
 * C[m x n] = A[m x k] B[k x n], no transposes, inputs and output in dtype,
 * fp32 accumulation, on one rank (-1: a summary row). */
typedef struct uniap_gemm_prof {
    int rank;
    char dtype[8]; /* uniap_dtype_name(): "fp32", "bf16", "fp16" */
    int64_t m, n, k;
    uniap_stat time; /* seconds per GEMM over the timed passes */
    double flops;    /* achieved FLOP/s: 2 m n k / time.median */
} uniap_gemm_prof;

typedef struct uniap_rank_info {
    int rank;
    char host[64];
    int node;
    int local_rank;
    char device[64];
    int64_t device_memory;
    char backend[8];        /* "cpu" or "cuda" */
    char lib_versions[160]; /* "mpi=...;hdf5=...;blas=...;cuda=...;nccl=..." */
} uniap_rank_info;

typedef struct uniap_profile {
    /* Root attributes */
    int version_major, version_minor;
    char created[32]; /* UTC ISO 8601, e.g. 2026-11-22T03:28:52Z */
    char tool_version[32];
    char git_revision[48];
    char *command_line; /* malloc'd or NULL */
    int world_size;
    char slurm_job_id[32]; /* "" when not under Slurm */
    char provenance[32];   /* "measured", "analytic", "imported:galvatron",
                              "merged" (uniap archive merge) */
    int complete;          /* 0: interrupted, --resume may finish it */
    char *model_json;      /* stored spec (malloc'd or NULL) */
    char *cluster_json;
    double overlap_coeff;  /* compute slowdown when overlapped with comm; 0 unknown */
    char *notes;           /* 1.1, optional: assumptions of an import, one a line (malloc'd or
                              NULL; not written when NULL, absent in 1.0 files) */
    int tp_comm_in_layers; /* 1.2, optional (absent: 0): 1 when the layer rows at tp > 1
                              already contain the tensor-parallel collectives (AMP's
                              measurements do), so the cost model adds none */
    /* Tables */
    int n_ranks;
    uniap_rank_info *ranks;
    int n_layers;
    uniap_layer_prof *layers;
    int n_colls;
    uniap_coll_prof *colls;
    int n_gemm; /* 1.2, optional table /gemm: 0 rows when absent */
    uniap_gemm_prof *gemm;
} uniap_profile;

/* Zeroes p and fills created/tool_version/git_revision/version with the
 * current values; world_size = 1, complete = 1, slurm_job_id from
 * $SLURM_JOB_ID ("" when unset). */
void uniap_profile_init(uniap_profile *p);
void uniap_profile_free(uniap_profile *p);
/* Appends rows (amortized growth). A table may also be malloc'd by the
 * caller at any size: the capacity is taken from malloc_usable_size(). */
int uniap_profile_add_layer(uniap_profile *p, const uniap_layer_prof *row);
int uniap_profile_add_coll(uniap_profile *p, const uniap_coll_prof *row);
int uniap_profile_add_rank(uniap_profile *p, const uniap_rank_info *row);
int uniap_profile_add_gemm(uniap_profile *p, const uniap_gemm_prof *row);

/* Serial write: writes path atomically (tmp + rename). */
int uniap_profile_write(const char *path, const uniap_profile *p);
/* Reads and validates (format name, major version, groups, types,
 * Fletcher32 checksums). Errors name the file and the HDF5 object. */
int uniap_profile_read(const char *path, uniap_profile *out);
/* Validation only; fills nothing. */
int uniap_profile_validate(const char *path);

/* ------------------------------------------------------------------ */
/* Profile archive tools (`uniap archive`)                             */
/* ------------------------------------------------------------------ */

/* A row of the optional /inputs table, present only in files made by
 * uniap_profile_merge: where each input's rows landed in the merged tables
 * ([*_first, *_first + n_*)), and that input's provenance. */
typedef struct uniap_profile_input {
    int index;
    char file[256];
    char created[32];
    char tool_version[32];
    char git_revision[48];
    char slurm_job_id[32];
    char provenance[32];
    char model[64];
    char device[64];
    int world_size;
    int complete;
    int ranks_first, n_ranks;
    int layers_first, n_layers;
    int colls_first, n_colls;
    int gemm_first, n_gemm; /* 1.2, optional members: 0 in older merges */
} uniap_profile_input;

/* Reads /inputs of a valid profile into a malloc'd array the caller frees
 * (*n = 0 and *inputs = NULL when the file has none). */
int uniap_profile_read_inputs(const char *path, uniap_profile_input **inputs, int *n);
/* Writes DIR/root.csv, ranks.csv, layers.csv, collectives.csv (and
 * inputs.csv for merged files, gemm.csv for files with a /gemm table)
 * from the profile at path; DIR is created when missing. Each file is
 * written atomically. */
int uniap_profile_export_csv(const char *path, const char *dir);
/* One table of the profile at path as CSV text (malloc'd into *csv, the
 * caller frees): table is "root", "ranks", "layers", "collectives",
 * "inputs" or "gemm" (the same text as that file of the export). *csv is
 * NULL (and 0 returned) for "inputs" of a file that is not a merge and for
 * "gemm" of a file without /gemm. */
int uniap_profile_table_csv(const char *path, const char *table, char **csv);
/* Merges the profiles ins[0..n) into out: tables concatenated in input
 * order, an /inputs row per input (inputs that are merges themselves
 * contribute their own /inputs rows). Refuses inputs whose device names
 * differ unless force. command_line is stored as the root attribute. */
int uniap_profile_merge(const char *out, char *const *ins, int n, int force,
                        const char *command_line);
/* "NVIDIA H100 80GB HBM3" or "A+B" (distinct device names of /ranks,
 * sorted, joined by '+'), "" when the profile has no rank rows. */
void uniap_profile_devices(const uniap_profile *p, char *buf, size_t n);
/* The "name" of a stored model spec, or "" when absent or unnamed. */
void uniap_profile_model_name(const uniap_profile *p, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* UNIAP_IO_H */
