/*
 * cm_internal.h - private to costmodel/: the cost model's state, the
 * profile index (interpolation of layer and collective measurements), the
 * strategy enumeration and layout helpers shared by the table builder, the
 * analytic device model and `uniap estimate`.
 */
#ifndef UNIAP_CM_INTERNAL_H
#define UNIAP_CM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "uniap_costmodel.h"

#define GiB ((int64_t)1 << 30)
#define MiB ((int64_t)1 << 20)

/* Framework reserve per device when the options give none: 1.5 GiB. The
 * CUDA context with cuBLAS/cuDNN/NCCL workspaces takes about 0.5 to 1 GiB
 * on A100/H100 class devices, and the caching allocator's fragmentation
 * typically costs a few hundred MiB more; 1.5 GiB sits in that 1 to 2 GiB
 * band without claiming more precision than the estimate has. */
#define UNIAP_DEFAULT_RESERVE (GiB + GiB / 2)

/* cm->overlap when the options force no fraction: the overlap is
 * modelled per strategy and phase (overlap.c: exposed = max(0, comm -
 * overlappable compute)). --overlap F forces the hidden fraction F of
 * every overlappable term instead (--overlap 0: fully exposed, the upper
 * bound that was the default before). */
#define UNIAP_DEFAULT_OVERLAP (-1.0)

/* Most devices a cluster may have for the cost model (sizes of the
 * placement loops and strategy arrays stay in int range below it). */
#define CM_MAX_DEVICES (1 << 20)

/* Ceilings of a table entry: beyond them a figure is no cost of a real
 * run (a micro-batch of 30 years, an exabyte per device) but a sign of
 * absurd inputs, refused naming them before the table reaches the solver
 * (whose own table check has the same ceilings, SOLVER_MAX_*). */
#define CM_MAX_SECONDS 1e9
#define CM_MAX_BYTES   1e18

/* Growing message buffer for the cost model's warnings (deduplicated). */
typedef struct cm_warnings {
    char *text;
    size_t len, cap;
    uint64_t *hash; /* of the lines held, for deduplication */
    size_t n_hash, cap_hash;
} cm_warnings;

void cm_warn(cm_warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cm_warnings_free(cm_warnings *w);

/* A measured point of a layer at one tp degree. */
typedef struct cm_layer_point {
    int micro_batch;
    double fwd, bwd;
    double act_bytes, peak_bytes;
    double wgrad;    /* the weight-gradient part of bwd, when wgrad_known */
    int wgrad_known; /* every row of the point (and both ends of an
                        interpolation) measured it (profile format 1.3) */
} cm_layer_point;

typedef struct cm_layer_curve {
    int tp;
    int n;
    cm_layer_point *pt; /* sorted by micro_batch, one per micro_batch */
} cm_layer_curve;

/* The profile's measurements of one layer signature. */
typedef struct cm_layer_index {
    const char *label; /* the profile in messages (not owned), or NULL */
    char signature[96];
    int n_curves;
    cm_layer_curve *curves; /* sorted by tp */
} cm_layer_index;

typedef struct cm_coll_curve {
    uniap_coll_op op;
    int group_size;
    int spans_nodes;
    int n;
    double *bytes, *time; /* sorted by bytes */
} cm_coll_curve;

typedef struct cm_profile_index {
    const char *label; /* the profile in messages (not owned), or NULL */
    int n_layers;
    cm_layer_index *layers;
    int n_colls;
    cm_coll_curve *colls;
} cm_profile_index;

/* Indexes p's rows; EINVAL naming a row whose figures are not finite and
 * >= 0. label (kept by reference, or NULL) prefixes the EMISSING messages
 * of cm_layer_at and cm_coll_time ("<label>: profile lacks ..."). */
int cm_index_build(const uniap_profile *p, const char *label, cm_profile_index *out);
void cm_index_free(cm_profile_index *ix);
const cm_layer_index *cm_index_layer(const cm_profile_index *ix, const char *signature);
const cm_coll_curve *cm_index_coll(const cm_profile_index *ix, uniap_coll_op op, int group_size,
                                   int spans_nodes);

/* Interpolated layer figures at (tp, micro_batch) of a signature; EMISSING
 * naming the layer type and tp when the tp degree was not measured.
 * Outside the measured micro-batch range: linear extrapolation from the two
 * nearest points, with a warning. */
int cm_layer_at(const cm_layer_index *li, int tp, int micro_batch, cm_warnings *w,
                cm_layer_point *out);
/* Time of a collective of `bytes` (nccl-tests size convention); 0 for
 * bytes <= 0, and for group_size <= 1 except p2p (a p2p transfer is timed
 * whatever group size it is asked with). EMISSING naming
 * op/group/placement. */
int cm_coll_time(const cm_profile_index *ix, uniap_coll_op op, int group_size, int spans_nodes,
                 double bytes, cm_warnings *w, double *out);

/* The bound cost model. */
struct uniap_costmodel {
    const uniap_model *model;
    const uniap_cluster *cluster;
    const uniap_profile *profile;
    uniap_cost_options opt;
    int64_t reserve;
    double overlap;                  /* forced hidden fraction; < 0: modelled (overlap.c) */
    double overlap_slow;             /* compute slowdown while overlapped (>= 1) */
    char (*run_sig)[96];             /* [run] signature */
    const cm_layer_index **run_prof; /* [run] */
    const cm_layer_index **pos_prof; /* [layer]: its own rows ("<signature>@<layer>", profile
                                        format 1.2) or NULL: the run's */
    int has_pos_prof;                /* some layer has its own rows */
    cm_profile_index index;
    cm_warnings *warnings;            /* mutable through const cm */
    struct cm_frac_cache *frac_cache; /* reshard fractions by layouts, mutable through const
                                       * cm (cost_pairs.c) */
    char *profile_path;               /* copy of opt.profile_path (opt points here) */
    char label[320]; /* the profile in messages: its file, else "<provenance> profile" */
};

/* 1 when the profile measured run r's layer type at tp. */
int cm_run_has_tp(const uniap_costmodel *cm, int r, int tp);
/* The rows layer u (of run r) is costed from at tp: its per-position rows
 * when the profile has them at tp, else the run's signature (u < 0: the
 * run's). Never NULL after uniap_costmodel_create. */
const cm_layer_index *cm_layer_prof(const uniap_costmodel *cm, int r, int u, int tp);

/* A cost model's reshard-fraction cache, empty (NULL: out of memory), and
 * its release (NULL is fine) (cost_pairs.c). */
struct cm_frac_cache *cm_frac_cache_new(void);
void cm_frac_cache_free(struct cm_frac_cache *c);

/* ---- Megatron-LM arguments (megatron_args.c) ---- */

/* Appends Megatron-LM's model arguments for m to b (" --num-layers ..."),
 * and to gaps a "# - ..." line for each thing Megatron-LM cannot build
 * (blocks of different shapes, a ReLU MLP) and "# note: ..." lines.
 * Returns 0 when m has no transformer block, else 1. */
int uniap__megatron_model_args(const uniap_model *m, uniap_textbuf *b, uniap_textbuf *gaps);

/* ---- layer kinds (layer_kinds.c) ---- */

/* The part a kind plays in other runtimes' terms: a transformer block
 * (Galvatron's layertype_<i>, per-layer tp_sizes_enc; Megatron's tp is the
 * blocks'), the input edge (Galvatron's "other" layers on the first stage:
 * embeddings), the output edge ("other" on the last stage: the head), or
 * none of these (Galvatron's files have no figures for it). */
typedef enum { CM_ROLE_NONE = 0, CM_ROLE_BLOCK, CM_ROLE_FIRST, CM_ROLE_LAST } cm_layer_role;

/* One GEMM of a layer's forward (gemm_eff.c): batch independent products
 * of an m x k by a k x n matrix, 2 m n k batch FLOPs. attn marks the
 * attention core (scores Q K^T and scores x V), which flash attention
 * fuses into one kernel (costed by its own efficiency) and eager attention
 * runs as batched GEMMs. */
typedef struct cm_gemm {
    double m, n, k, batch;
    int attn;
} cm_gemm;
#define CM_MAX_GEMMS 16

/* What the cost model knows of a layer kind: one descriptor per kind in
 * layer_kinds.c. A NULL hook means the default stated beside it; a kind
 * without a descriptor gets every default (no tp, no collectives, no
 * analytic figures, 4 kernels). */
typedef struct cm_layer_kind {
    /* 1 when tensor parallelism of degree tp > 1 can shard the layer (tp
     * 1 always can); NULL: none can. */
    int (*tp_ok)(const uniap_layer *l, int tp);
    /* Elements (tokens x width) per sample of the activation the layer
     * hands to the next one; NULL: seq * hidden. */
    int64_t (*out_elems)(const uniap_layer *l);
    /* Megatron TP all-reduces of b*s*h per forward and per backward. */
    int tp_fwd, tp_bwd;
    /* Bytes of the layer's input at bl samples of e-byte activations:
     * what a checkpointed layer keeps; NULL: bl * seq * hidden * e. */
    double (*input_bytes)(const uniap_layer *l, double bl, double e);
    /* Analytic device model (analytic.c). Per-token bytes kept for
     * backward, not sharded (*repl) and divided by tp (*shard), integer
     * bytes at e bytes per element; NULL: 0 and 0. */
    void (*act_per_token)(const uniap_layer *l, int64_t e, int64_t *repl, int64_t *shard);
    /* Forward GEMM FLOPs per token of the whole layer (the shard's are
     * this / tp); NULL: 0. */
    double (*gemm_flops)(const uniap_layer *l);
    /* Tokens a query attends to (the width of the attention scores);
     * NULL: seq. */
    int64_t (*attn_span)(const uniap_layer *l);
    /* Per-token bytes of the widest intermediate whose gradient the
     * backward holds, before the shard's / tp; NULL: the widest of the
     * scores (heads * attn_span * e) and the ffn-wide tensors (ffn * e,
     * twice for SwiGLU). */
    int64_t (*widest)(const uniap_layer *l, int64_t e);
    /* Per-token bytes (before / tp) of the attention scores selective
     * checkpointing drops and recomputes, and the forward FLOPs per token
     * of that recomputation (the attention core); NULL: 0, no selective
     * checkpointing (the strategy frees nothing and is not offered). */
    int64_t (*scores)(const uniap_layer *l, int64_t e);
    double (*core_flops)(const uniap_layer *l);
    /* The forward GEMMs of one shard at tp over `tokens` tokens (tokens =
     * micro-batch x seq), at most CM_MAX_GEMMS, into out; returns their
     * number. Their FLOPs sum to gemm_flops x tokens / tp. NULL: the
     * FLOPs are costed as one large GEMM (no tile quantization). */
    int (*gemms)(const uniap_layer *l, double tokens, int tp, cm_gemm *out);
    /* 1 when the layer's attention is self-attention over its whole
     * sequence, which context parallelism splits (ring attention or
     * Ulysses: cp_comm.c); a kind with an attention core (core_flops) and
     * 0 here (windowed, cross-attention) takes no cp > 1. Kinds without an
     * attention core split the sequence trivially (tokens / cp). */
    int cp_attn;
    int kernels_fwd; /* kernels one forward launches (backward: twice) */
    int lookup;      /* a table lookup: reads only the rows it gathers */
    cm_layer_role role;
} cm_layer_kind;

/* The descriptor of kind k; never NULL (the defaults for a kind without
 * one). */
const cm_layer_kind *uniap__cm_layer_kind(uniap_layer_kind k);
/* Gives kind k, registered in io at run time (tests), its descriptor d,
 * which must outlive every use. Not thread-safe: register before building
 * a cost model. EINVAL when k is outside 0..UNIAP_LAYER_KIND_MAX-1 or
 * already has one. */
int uniap__cm_layer_kind_register(uniap_layer_kind k, const cm_layer_kind *d);
/* Tokens a query of l attends to (its kind's attn_span, else seq). */
int64_t uniap__cm_attn_span(const uniap_layer *l);
/* Forward GEMM FLOPs per token of l's self-attention: the QKV and output
 * projections and the core over uniap__cm_attn_span (layer_kinds.c). */
double uniap__cm_attn_flops(const uniap_layer *l);

/* ---- layer shape helpers (shape.c, from the layer kinds) ---- */

/* 1 if tensor parallelism of degree tp can shard the layer (tp divides
 * heads, kv_heads and ffn; out widths for patch layers). */
int cm_layer_tp_ok(const uniap_layer *l, int tp);
/* Bytes of the layer's input at bl samples: what a checkpointed layer
 * keeps. */
double cm_layer_input_bytes(const uniap_model *m, const uniap_layer *l, double bl);
/* Tokens and width of the activation a layer hands to the next one. */
int64_t cm_layer_out_elems(const uniap_layer *l);
/* Bytes of the boundary activation after layer l for micro_batch samples. */
double cm_boundary_bytes(const uniap_model *m, const uniap_layer *l, double micro_batch);
/* Megatron TP all-reduces per layer (forward, backward) of b*s*h. */
void cm_layer_tp_allreduces(const uniap_layer *l, int *fwd, int *bwd);

/* ---- strategies (strategy.c) ---- */

/* Enumerates the strategy space of a stage of n devices for micro-batch
 * size micro_batch (dp must divide it) under the options' restrictions, in
 * a fixed order. *out is malloc'd. */
int cm_strategies(int n, int micro_batch, const uniap_cost_options *o, uniap_strategy **out,
                  int *count);

/* Placement of a stage's groups: stage j of deg over the cluster; whether
 * some TP group / DP group of strategy s spans nodes. */
int cm_tp_spans(const uniap_cluster *c, int stage_first, const uniap_strategy *s);
int cm_dp_spans(const uniap_cluster *c, int stage_first, const uniap_strategy *s);
int cm_cp_spans(const uniap_cluster *c, int stage_first, const uniap_strategy *s);
int cm_stage_spans(const uniap_cluster *c, int stage_first, int n);
/* Whether the boundary between stage j and j + 1 (n devices each) crosses
 * a node boundary (device r of stage j sends to device r of stage j + 1). */
int cm_boundary_spans(const uniap_cluster *c, int j, int n);

/* Whether some TP group / DP group of s, or some stage, spans nodes on
 * any of the deg stages of n devices (a table row holds for every stage). */
typedef struct cm_placement {
    int tp_spans, dp_spans, cp_spans, stage_spans; /* dp: the dp x cp gradient group */
    int ep_spans;                                  /* an expert-parallel group (moe_comm.c) */
} cm_placement;
void cm_place(const uniap_cluster *c, int deg, int n, const uniap_strategy *s, cm_placement *pl);

/* Fraction (of one micro-batch's boundary activation) that the device of a
 * stage receiving the most must fetch when the layout changes from a to b
 * on the same n devices. 0 when the layouts hold the same slices. */
double cm_reshard_fraction(int n, const uniap_strategy *a, const uniap_strategy *b);

/* ---- context parallelism (cp_comm.c) ---- */

/* 1 when l can run under s's context parallelism: cp 1 always; a layer
 * with attention needs cp_attn, seq divisible by 2 cp (Megatron-LM's
 * zigzag: 2 cp chunks) and for Ulysses heads and kv heads divisible by
 * cp x tp; any other layer seq divisible by cp. */
int cm_layer_cp_ok(const uniap_layer *l, const uniap_strategy *s);
/* The figures of one of cp ranks of a layer at tp with local micro-batch
 * bl (each sample seq / cp tokens): the profile's at micro-batch bl / cp,
 * interpolated where that is no whole number (cp_comm.c). As cm_layer_at
 * (out->micro_batch = bl). */
int cm_cp_layer_at(const cm_layer_index *li, int tp, int bl, int cp, cm_warnings *w,
                   cm_layer_point *out);
/* The context-parallel exchange of one micro-batch of layer l under s,
 * given the rank's forward and backward times (already / cp) and
 * whether the forward is recomputed: exposed seconds of the forward
 * phase (*fwd) and of the backward phase with the recompute (*bwd), the
 * whole comm before overlap (*total). 0 for cp 1 and for layers without
 * attention. EMISSING (naming the profile) when the profile lacks the
 * p2p or all-to-all curve. */
int cm_cp_comm(const uniap_costmodel *cm, const uniap_layer *l, const uniap_strategy *s,
               const cm_placement *pl, double bl, double fwd, double bwd, int recompute,
               double *fwd_exposed, double *bwd_exposed, double *total);

/* ---- memory model terms (shape.c) ---- */

/* Bytes per parameter of parameters, gradients and optimizer states
 * (master weights + moments), by the model's precision and optimizer. */
void cm_state_bytes(const uniap_model *m, double *param, double *grad, double *opt);
/* Parameters of the tied word-embedding copy that layer l of m takes part
 * in on deg stages: V h for the head (whose copy it holds) and for the
 * first layer (the embedding, which all-reduces its gradient with the
 * head's) when the head is tied and deg > 1; else 0. */
double cm_tied_copy_params(const uniap_model *m, const uniap_layer *l, int deg);
/* Bytes per parameter the optimizer step reads and writes. */
double cm_optimizer_touched(const uniap_model *m);
/* Model states per device of a layer with P parameters under strategy s. */
double cm_mem_states(const uniap_model *m, double params, const uniap_strategy *s);
/* Bytes per device of the FP8 weight copies of layer l under s (0 unless
 * l->fp8): 2 per Linear weight element of the shard (shape.c). */
double cm_fp8_weight_bytes(const uniap_layer *l, const uniap_strategy *s);

/* ---- table rows (cost_table.c) ---- */

/* One (run, strategy) row of a table with its terms apart. */
typedef struct cm_row_terms {
    unsigned char allowed;
    double time, tail, states, act, peak; /* the table's values */
    double wgrad;                         /* the table's: W, the weight-gradient part of time */
    double compute;                       /* fwd + bwd (+ recompute) of the shard */
    double forward;      /* the forward phase of time: fwd + its TP collectives + its exposed DP */
    double tp_comm;      /* TP all-reduces (SP: all-gather + reduce-scatter) */
    double cp_comm;      /* CP exchange, exposed: ring KV transfers or Ulysses all-to-alls */
    double cp_hidden;    /* CP exchange the attention hides (ring attention) */
    double ep_comm;      /* EP dispatch and combine all-to-alls (moe_comm.c), exposed */
    double dp_comm;      /* per micro-batch, exposed: ZeRO-2/FSDP reduce-scatter, FSDP gathers */
    double dp_hidden;    /* per micro-batch: time the overlap saves (comm - exposed) */
    double sync_exposed; /* tail: exposed gradient all-reduce/reduce-scatter */
    double sync_hidden;  /* tail: time the sync's overlap saves (sync - exposed) */
    double param_gather; /* tail: ZeRO-1/2 all-gather of updated parameters */
    double optimizer;    /* tail: optimizer step */
} cm_row_terms;

/* ---- data-parallel communication and its overlap (overlap.c) ---- */

/* Raw times of a row's data-parallel collectives by phase: per
 * micro-batch during forward (FSDP's gather) and during backward (ZeRO-2's
 * and FSDP's reduce-scatter, FSDP's gathers for backward and recompute);
 * once per iteration the gradient sync during the last backward (DDP
 * all-reduce, ZeRO-1 reduce-scatter) and the exposed gather of updated
 * shards after the optimizer step (ZeRO-1/2). */
typedef struct cm_dp_comm {
    double fwd, bwd, sync, post;
} cm_dp_comm;

/* The collectives of strategy s (placed as pl) for a layer shard of
 * shard_params parameters at pb / gb bytes per parameter and gradient;
 * all 0 when dp is 1. 0 or the status of cm_coll_time (EMISSING naming
 * the curve). */
int uniap__cm_dp_terms(const uniap_costmodel *cm, const uniap_strategy *s, const cm_placement *pl,
                       double shard_params, double pb, double gb, cm_dp_comm *out);
/* Exposed time of comm seconds of communication run beside compute
 * seconds of computation: max(0, comm - compute) plus (slow - 1) of the
 * hidden part; with a forced fraction (cm->overlap >= 0) comm (1 - ov) +
 * comm ov (slow - 1) whatever the compute. 0 when comm <= 0. */
double uniap__cm_exposed(const uniap_costmodel *cm, double comm, double compute);

/* ---- expert parallelism (moe_comm.c) ---- */

/* 1 when l can run under s's expert parallelism: ep 1 always; ep > 1 a
 * moe layer whose experts ep divides (and ep divides dp). */
int cm_layer_ep_ok(const uniap_layer *l, const uniap_strategy *s);
/* 1 when an ep group of s on the stage starting at device stage_first
 * spans nodes (cm_place's ep_spans). */
int cm_ep_spans(const uniap_cluster *c, int stage_first, const uniap_strategy *s);
/* Parameters of l's routed experts (E expert MLPs; 0 for other kinds). */
double cm_moe_routed_params(const uniap_layer *l);
/* l's parameters under s as a rank holds them before tp: dense (all but
 * the routed experts at ep > 1; the whole layer at ep 1) replicated over
 * dp, expert (E / ep routed experts) replicated over the expert
 * data-parallel group, which expert_s describes (dp / ep, ep 1). */
typedef struct cm_moe_part {
    double dense, expert;
    uniap_strategy expert_s;
} cm_moe_part;
void cm_moe_split(const uniap_layer *l, const uniap_strategy *s, cm_moe_part *out);
/* Model states per device of l under s (cm_mem_states of each part). */
double cm_moe_states(const uniap_model *m, const uniap_layer *l, const uniap_strategy *s);
/* Seconds of the rank's optimizer step over l at touched bytes per
 * parameter and memory bandwidth bw > 0: each part's shard, over its ZeRO
 * group unless DDP (cost_table.c's step). */
double cm_moe_step_seconds(const uniap_layer *l, const uniap_strategy *s, double touched,
                           double bw);
/* uniap__cm_dp_terms of both parts, summed (the experts' over their
 * group). */
int cm_moe_dp_terms(const uniap_costmodel *cm, const uniap_layer *l, const uniap_strategy *s,
                    const cm_placement *pl, double pb, double gb, cm_dp_comm *out);
/* Bytes of one dispatch (or combine) all-to-all's send buffer on the
 * slowest rank at bl local samples. */
double cm_moe_a2a_bytes(const uniap_costmodel *cm, const uniap_layer *l, const uniap_strategy *s,
                        double bl);
/* The ep terms of one micro-batch: the slowest rank's extra expert compute
 * (given the layer's compute, fwd + bwd + recompute), the exposed
 * all-to-alls of forward and backward (recompute: the forward's again).
 * All 0 at ep 1. EMISSING naming the profile without its all-to-all. */
typedef struct cm_moe_terms {
    double imbalance, a2a_fwd, a2a_bwd;
} cm_moe_terms;
int cm_moe_comm(const uniap_costmodel *cm, const uniap_layer *l, const uniap_strategy *s,
                const cm_placement *pl, double bl, double compute, int recompute,
                cm_moe_terms *out);

/* What the profile must hold for a table (data_needs.c). With
 * skip_unprofiled_tp, a table disallows the strategies lacking data and
 * the candidates leave out the pairs lacking stage-level data; each
 * missing item is warned about once, naming the profile. */
/* 1 when the profile has run r's layer type at s->tp and every collective
 * the row of s needs in a pipeline of deg, s placed as pl (cm_place). */
int cm_strategy_has_data(const uniap_costmodel *cm, int deg, int r, const uniap_strategy *s,
                         const cm_placement *pl);
/* 1 when the profile has the collectives every table of pipeline degree
 * deg (stages of n devices) needs whatever the strategies: the p2p of the
 * stage boundaries, the all-to-all of resharding on a stage. */
int cm_pair_has_data(const uniap_costmodel *cm, int deg, int n);

/* How torch.chunk splits B samples asked for c chunks: *size = ceil(B /
 * c) each (the last fewer), and the count of chunks that makes (not c for
 * every c: 1024 into 39 makes 38 of 27); 0 and *size 0 for B or c < 1.
 * uniap_micro_batch_size is *size where the count is c. */
int64_t cm_chunk_split(int64_t B, int c, int64_t *size);

/* A figure of a table entry: finite, >= 0 and within max, else EINVAL
 * naming the entry (and unit) and the inputs that produce it. */
int cm_check_figure(const uniap_costmodel *cm, double v, double max, const char *entry,
                    const char *unit);
/* The pair matrices of t (cost_pairs.c): reshard and xstage per run with
 * a boundary after it, at micro-batch b; t's strategies and runs set. */
int cm_fill_pairs(const uniap_costmodel *cm, uniap_cost_table *t, int b);

/* The row of run r under strategy s in the (deg, c) table (the run's
 * signature rows); cm_layer_row_breakdown: of layer u (its per-position
 * rows where the profile has them). */
int cm_row_breakdown(const uniap_costmodel *cm, int deg, int c, int r, const uniap_strategy *s,
                     cm_row_terms *out);
int cm_layer_row_breakdown(const uniap_costmodel *cm, int deg, int c, int u,
                           const uniap_strategy *s, cm_row_terms *out);

/* ---- plans (plan_json.c) ---- */

/* Memory of one stage by term, per device. */
typedef struct cm_stage_memory {
    int first_layer, last_layer, n_layers;
    double inflight;            /* micro-batches of activations held */
    double states;              /* params + grads + optimizer states */
    double act_per_micro_batch; /* sum of kept activations of one */
    double activations;         /* inflight x act_per_micro_batch */
    double peak;                /* largest transient of one layer */
} cm_stage_memory;

/* Fills out[0..deg-1] (same sums as uniap_plan_evaluate's memory). */
int cm_stage_breakdown(const uniap_cost_table *t, uniap_schedule sched, const int *stage_of,
                       const int *strategy_of, cm_stage_memory *out);

/* ---- GEMM efficiency of the analytic device model (gemm_eff.c) ---- */

/* A device's GEMM facts, from the cluster spec with the defaults filled
 * in: the peak of the activation dtype, the SMs (0: no wave quantization),
 * the output tile, the achievable fraction of that peak on large GEMMs,
 * and flash attention's forward / backward fractions. */
typedef struct cm_gemm_device {
    double peak;
    int sms, tile_m, tile_n;
    double frac, flash_fwd, flash_bwd;
    /* The Linear GEMMs' (attn 0) peak and fraction when they run at
     * another rate than the attention core (FP8: uniap__cm_gemm_device_fp8);
     * lin_peak 0: peak and frac, as every GEMM. */
    double lin_peak, lin_frac;
} cm_gemm_device;

/* The facts of cluster c for activations of fp32 (1) or 16 bits (0):
 * peak_flops_fp32 and gemm_efficiency_fp32 when fp32 and given (else the
 * 16-bit figures), tile 128 x 128 when unknown, fraction 1 when unknown
 * (the datasheet peak), flash fractions those of the GEMMs when unknown. */
void uniap__cm_gemm_device(const uniap_cluster *c, int fp32, cm_gemm_device *out);
/* The facts of c for a layer whose Linear GEMMs run in FP8 (Transformer
 * Engine): the 16-bit device of uniap__cm_gemm_device for the attention
 * core, lin_peak = peak_flops_fp8 and lin_frac = gemm_efficiency_fp8
 * (unknown: the 16-bit gemm_efficiency, else 1) for the Linear GEMMs.
 * The caller has checked peak_flops_fp8 > 0 (uniap__cm_fp8_check). */
void uniap__cm_gemm_device_fp8(const uniap_cluster *c, cm_gemm_device *out);
/* 0 when model m can be priced on cluster c: no layer trains in FP8, or
 * c has an FP8 peak; else EINVAL naming the cluster, its device and the
 * field (what: the caller, for the message). */
int uniap__cm_fp8_check(const uniap_model *m, const uniap_cluster *c, const char *what);
/* Elements of the Linear weights (the non-attention GEMMs' k x n) of one
 * shard of l at tp: what Transformer Engine keeps FP8 copies of. */
double uniap__cm_linear_weights(const uniap_layer *l, int tp);
/* Bytes the FP8 casts of one layer shard move over tokens tokens, forward
 * and backward (0 unless l->fp8): Transformer Engine casts each Linear
 * input to FP8 with its transpose in one kernel (fp8_cast_transpose_fused,
 * transformer_engine/pytorch/module/linear.py): read 2 B, write 1 + 1 B per
 * element of the m x k input; backward the same of each m x n output
 * gradient. An upper figure where TE fuses the cast into the norm or the
 * activation before it. The FP8 weight casts run once per iteration
 * (is_first_microbatch), not counted per micro-batch. */
void uniap__cm_fp8_cast_bytes(const uniap_layer *l, double tokens, int tp, double *fwd,
                              double *bwd);
/* Tile- and wave-quantization utilization of an m x n output (batch of
 * them) on d: useful output elements over the tile area the SM waves pay
 * for (ceil(tiles / sms) x sms tiles); a side narrower than the tile gets
 * a tile of that side rounded up to 16; in (0, 1]; 1 when d->sms is 0 (no
 * quantization modelled). */
double uniap__cm_gemm_util(const cm_gemm_device *d, double m, double n, double batch);
/* Seconds of one GEMM g on d: 2 m n k batch / (peak x frac x util), a
 * Linear GEMM (attn 0) at lin_peak x lin_frac when lin_peak is set. */
double uniap__cm_gemm_seconds(const cm_gemm_device *d, const cm_gemm *g);
/* Forward and backward seconds of the GEMMs of one layer shard (the
 * backward: each GEMM's data gradient m x k (reduction n) and weight
 * gradient k x n (reduction m)); the attention core by flash attention's
 * fractions when flash is nonzero (the layer's flash_attn; backward 2.5x
 * the forward FLOPs: its recomputation, FlashAttention-2 section 4.1),
 * else as GEMMs. Kinds
 * without gemms: gemm_flops x tokens / tp at peak x frac. */
void uniap__cm_gemm_layer_seconds(const cm_gemm_device *d, const uniap_layer *l, double tokens,
                                  int tp, int flash, double *fwd, double *bwd);
/* The weight-gradient part of that backward (W of zero-bubble schedules,
 * Qi et al. 2024 section 2): the weight gradient k x n (reduction m) of
 * every Linear GEMM (attn 0), the FLOPs of its forward GEMM; the attention
 * core's products belong to B. Kinds without gemms: their GEMM FLOPs taken
 * as Linear, W = the forward seconds. */
double uniap__cm_gemm_layer_wgrad_seconds(const cm_gemm_device *d, const uniap_layer *l,
                                          double tokens, int tp);
/* W's share of the analytic backward of layer l at (tp, micro-batch mb) on
 * cluster c (analytic.c): the Linear weight-gradient GEMMs' seconds over
 * the whole analytic backward (its GEMMs, memory-bound kernels and
 * launches), in [0, 0.5]; 0 when the cluster lacks the datasheet figures. */
double uniap__cm_wgrad_share(const uniap_model *m, const uniap_cluster *c, const uniap_layer *l,
                             int tp, int mb);

/* ---- modelled collective curves (analytic.c) ---- */
/* Appends op's curve for a group of g (spans: across nodes) from 4 KiB to
 * 1 GiB doubling, time = latency + bytes * busbw factor / busbw, busbw
 * stored as algbw * factor; count is the stat's repetition count (0: not
 * measured). Used by the analytic model and the Galvatron importer. */
int cm_add_modelled_curve(uniap_profile *out, uniap_coll_op op, int g, int spans, double latency,
                          double busbw, int count);

#endif
