/*
 * uniap_costmodel.h - the cost model's interface: the intra-layer strategy
 * space, per-(deg, c) cost tables of time and memory for every layer under
 * every strategy, the plan (typed, with its JSON form), and the evaluator
 * that turns a plan into TPI and per-stage memory.
 *
 * The cost table is the contract with the solver: the solver minimizes
 * exactly what uniap_plan_evaluate() computes, so a plan's TPI printed by
 * `uniap plan` and by `uniap estimate` agree to the last digit.
 *
 * TPI of a plan (method.md sections 2, 6), stages i = 0..deg-1:
 *   p_i  = sum_{u on i} time[u][k_u] + sum_{u,u+1 on i} reshard[u][k_u][k_u+1]
 *   o_j  = xstage[spans(j)][u_j][k][l], u_j the last layer of stage j
 *   tail_i = sum_{u on i} tail[u][k_u]      (once per iteration)
 *   TPI  = sum p_i + sum o_j + (c - 1) max(p, o) + max_i tail_i
 * Memory per device of stage i:
 *   M_i = sum states[u][k] + inflight(i) sum act[u][k] + max_u peak[u][k]
 *   inflight(i) = c (GPipe) or min(c, deg - i) (1F1B); M_i <= mem_budget.
 */
#ifndef UNIAP_COSTMODEL_H
#define UNIAP_COSTMODEL_H

#include "uniap_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Strategy space                                                      */
/* ------------------------------------------------------------------ */

typedef enum {
    UNIAP_DP_DDP = 0, /* replicated parameters, gradient all-reduce */
    UNIAP_DP_ZERO1,   /* optimizer states sharded over dp */
    UNIAP_DP_ZERO2,   /* + gradients sharded (reduce-scatter) */
    UNIAP_DP_FSDP,    /* + parameters sharded, all-gathered per use (ZeRO-3) */
} uniap_dp_flavour;

typedef enum { UNIAP_SCHED_GPIPE = 0, UNIAP_SCHED_1F1B } uniap_schedule;

typedef struct uniap_strategy {
    int dp;
    int tp;
    int tp_consecutive;       /* 1: TP ranks adjacent; 0: strided by dp */
    uniap_dp_flavour flavour; /* DDP when dp == 1 */
    int sp;                   /* Megatron sequence parallelism (tp > 1 only) */
    int ckpt;                 /* activation checkpointing */
    char name[48];            /* e.g. "dp4.tp2c.zero3.sp.ckpt" */
} uniap_strategy;

/* Formats s->name from the fields; parses a name back (EINVAL on a bad
 * name, the message naming the bad token). */
void uniap_strategy_format(uniap_strategy *s);
int uniap_strategy_parse(const char *name, uniap_strategy *out);

/* ------------------------------------------------------------------ */
/* Cost tables                                                         */
/* ------------------------------------------------------------------ */

/* Costs of one (deg, c) candidate. Layer u = 0..n_layers-1 in chain
 * order; strategy k = 0..n_strategies-1 (K). Indexing: [u*K + k] for
 * per-layer arrays, [(u*K + k)*K + l] for pair matrices. All times are
 * seconds, all memory bytes per device. */
typedef struct uniap_cost_table {
    int deg;           /* pipeline stages */
    int micro_batches; /* c */
    int micro_batch;   /* samples per micro-batch: global batch / c */
    int stage_devices; /* n = devices / deg */
    int n_strategies;  /* K */
    uniap_strategy *strategies;
    int n_layers;
    int *run_of;            /* [u]: model run; a run's layers have equal rows */
    unsigned char *allowed; /* [u*K+k]: strategy valid for the layer */
    double *time;           /* [u*K+k] per micro-batch: fwd+bwd+recompute+TP/FSDP comm */
    double *tail;           /* [u*K+k] per iteration: exposed grad sync + optimizer */
    double *mem_states;     /* [u*K+k] params + grads + optimizer states */
    double *mem_act;        /* [u*K+k] activations kept per micro-batch in flight */
    double *mem_peak;       /* [u*K+k] transient peak while the layer runs */
    double *reshard;        /* [(u*K+k)*K+l], u < n_layers-1: u on k -> u+1 on l */
    double *xstage[2];      /* [(u*K+k)*K+l]: boundary after u; [0] inside a node,
                             * [1] between nodes */
    unsigned char *boundary_spans_nodes; /* [j], j < deg-1 */
    double mem_budget;                   /* usable bytes per device (memory - reserve) */
} uniap_cost_table;

/* Allocates every array of a table for deg, K strategies and L layers,
 * zero-filled, allowed = 1. */
int uniap_cost_table_alloc(uniap_cost_table *t, int deg, int n_strategies, int n_layers);
void uniap_cost_table_free(uniap_cost_table *t);

/* Options for building tables. */
typedef struct uniap_cost_options {
    int64_t global_batch;
    uniap_schedule schedule;
    int64_t reserve_bytes;                   /* framework reserve per device; <0: default */
    double overlap;                          /* fraction of grad sync hidden behind backward;
                                              * <0: from profile, else default */
    int no_sp, no_ckpt, no_zero, no_strided; /* shrink the strategy space */
    int max_tp;                              /* 0: no limit */
    int max_pp;                              /* pipeline degree limit; 0: none */
    int skip_unprofiled_tp;                  /* 1 (the default): data the profile lacks (a
                                              * layer type at a tp degree, a collective at a
                                              * group size or placement) disallows the
                                              * strategies needing it, with one warning per
                                              * missing item, and candidates whose tables
                                              * would need it are left out; only a layer left
                                              * with no strategy in any candidate fails
                                              * EMISSING. 0: the first table needing missing
                                              * data fails EMISSING */
    const char *profile_path;                /* file the profile was read from, named in
                                              * messages (copied); NULL: an in-memory
                                              * profile, named by its provenance */
} uniap_cost_options;

typedef struct uniap_costmodel uniap_costmodel; /* opaque */

/* Defaults: 1F1B, default reserve and overlap, no restriction,
 * skip_unprofiled_tp = 1; global_batch must be set by the caller. */
void uniap_cost_options_default(uniap_cost_options *o);

/* Binds a model, cluster and profile (all kept by reference: they must
 * outlive the cost model; o->profile_path is copied). Fails with EMISSING
 * naming the profile file and what it lacks for this model (a layer type,
 * or its tp 1), EINVAL on a cluster figure or profile figure that is not a
 * finite number >= 0. With skip_unprofiled_tp, each item the profile lacks
 * is warned about once (uniap_costmodel_warnings) as the candidates and
 * tables find it: "<file>: profile lacks layer type '<sig>' at tp <t>:
 * ...", "<file>: profile lacks <op> over a group of <g> <placement>: ...".
 */
int uniap_costmodel_create(const uniap_model *m, const uniap_cluster *c, const uniap_profile *p,
                           const uniap_cost_options *o, uniap_costmodel **out);
void uniap_costmodel_destroy(uniap_costmodel *cm);
/* Warnings gathered while building (extrapolation etc.), "" if none. */
const char *uniap_costmodel_warnings(const uniap_costmodel *cm);

/* The (deg, c) candidates of the Unified Optimization Process, in a fixed
 * order: deg over divisors of the device count (at most max_pp), c over
 * divisors of the global batch, each pair kept when every layer has a
 * strategy there (and, with skip_unprofiled_tp, the profile's data for it
 * and the pair's stage-level collectives). Arrays are malloc'd. EMISSING,
 * naming the profile file, the layer and what to profile, when pairs exist
 * but the profile's gaps leave a layer without a strategy in all of them. */
int uniap_costmodel_candidates(const uniap_costmodel *cm, int **deg, int **c, int *n);
/* Builds the cost table of one candidate. Every entry is finite and >= 0
 * (checked as the table is finished: EINTERNAL otherwise); an entry beyond
 * what a real run gives (30 years, an exabyte) is EINVAL naming it and the
 * cluster's figures. With skip_unprofiled_tp the strategies lacking data
 * are disallowed (allowed = 0); data every table of this pipeline degree
 * needs (p2p, all-to-all), or a layer left with no strategy, is EMISSING
 * naming the profile file. */
int uniap_costmodel_table(const uniap_costmodel *cm, int deg, int c, uniap_cost_table *out);

/* Analytic device model: a profile computed from the cluster spec's
 * datasheet figures (roofline per kernel + overhead; alpha-beta
 * collectives), provenance "analytic". */
int uniap_profile_analytic(const uniap_model *m, const uniap_cluster *c, const int *micro_batches,
                           int n_micro_batches, uniap_profile *out);
/* Galvatron importer: reads computation/memory/hardware JSON files found
 * in a Galvatron model config folder and hardware folder and writes them
 * as a profile dataset, provenance "imported:galvatron". */
int uniap_profile_import_galvatron(const uniap_model *m, const uniap_cluster *c,
                                   const char *model_config_dir, const char *hardware_dir,
                                   uniap_profile *out);
/* The same from explicit files: a computation_profiling_*.json, its
 * memory_profiling_*.json and the hardware_configs folder. *notes (when
 * notes is given; malloc'd, one line each) says what the files lack and
 * which of Galvatron's assumptions fill a gap. */
int uniap_profile_import_galvatron_files(const uniap_model *m, const uniap_cluster *c,
                                         const char *computation_json, const char *memory_json,
                                         const char *hardware_dir, uniap_profile *out,
                                         char **notes);

/* ------------------------------------------------------------------ */
/* Plans                                                               */
/* ------------------------------------------------------------------ */

typedef struct uniap_plan_eval {
    double tpi;        /* seconds per iteration */
    double throughput; /* samples / s */
    int feasible;      /* every stage within mem_budget */
    int deg;
    double *stage_compute; /* [deg] p_i */
    double *stage_comm;    /* [deg-1] o_j */
    double *stage_tail;    /* [deg] */
    double *stage_mem;     /* [deg] peak bytes per device */
    int worst_stage;       /* stage with the largest memory over budget, or -1 */
    double worst_excess;   /* bytes over budget of worst_stage (0 when feasible) */
} uniap_plan_eval;

/* Evaluates a plan given as stage_of[u] (non-decreasing, 0..deg-1, every
 * stage non-empty) and strategy_of[u]. EINVAL if the layout is not a
 * valid contiguous placement or uses a disallowed strategy. */
int uniap_plan_evaluate(const uniap_cost_table *t, uniap_schedule sched, const int *stage_of,
                        const int *strategy_of, uniap_plan_eval *out);
void uniap_plan_eval_free(uniap_plan_eval *e);

/* A chosen plan, as `uniap plan` writes it and `uniap estimate` reads it.
 * The JSON form (costmodel/plan_json.c) adds the per-stage breakdown. */
typedef struct uniap_plan {
    char model[64];
    char cluster[64];
    char profile[256];         /* path of the profile used */
    char profile_checksum[20]; /* hex CRC32 of the profile file */
    int64_t global_batch;
    int deg;
    int micro_batches;
    int micro_batch;
    uniap_schedule schedule;
    int n_layers;
    int *stage_of;               /* [u] */
    uniap_strategy *strategy_of; /* [u] */
    double tpi;
    double throughput;
    char status[16]; /* "optimal" or "feasible" */
    double gap;      /* relative MIP gap, 0 when optimal */
    double search_seconds;
    int pairs_total, pairs_solved, pairs_pruned;
} uniap_plan;

void uniap_plan_free(uniap_plan *p);
/* Writes the plan (and, when eval is given, its per-stage breakdown) as
 * JSON to path atomically. */
int uniap_plan_write_json(const char *path, const uniap_plan *p, const uniap_model *m,
                          const uniap_cost_table *t, const uniap_plan_eval *eval);
int uniap_plan_read_json(const char *path, uniap_plan *out);
/* Maps a plan's per-layer strategies onto a table's indices (strategy_of
 * out[u]); EINVAL naming the layer whose strategy the table lacks. */
int uniap_plan_strategy_indices(const uniap_plan *p, const uniap_cost_table *t, int *out);

/* Plan exports (plan_export.c): the plan as Megatron-LM arguments (first
 * line; then "# ..." lines saying whether the plan is expressible and what
 * Megatron-LM cannot express), and as Galvatron's galvatron_config JSON
 * (transformer layers in the per-layer lists; embedding and head as
 * vtp/vsp/embed_sdp; EINVAL when the model has no transformer layer). m
 * may be NULL (no layer kinds known). *text is malloc'd, ends in a
 * newline; nothing is written anywhere. */
int uniap_plan_export_megatron(const uniap_plan *p, const uniap_model *m, char **text);
int uniap_plan_export_galvatron(const uniap_plan *p, const uniap_model *m, char **text);

/* One stage of a plan by term (plan_breakdown.c): what `uniap estimate`
 * prints. Times per micro-batch unless "tail" (per iteration); memory in
 * bytes per device. */
typedef struct uniap_stage_breakdown {
    int first_layer, last_layer;
    double compute, tp_comm, dp_comm, reshard;    /* per micro-batch, s */
    double sync_exposed, param_gather, optimizer; /* the tail, s */
    double states, activations, peak;             /* bytes per device */
    int inflight;                                 /* micro-batches of activations held */
} uniap_stage_breakdown;
/* Fills out[0..t->deg-1] for plan p, whose layer u uses strategy idx[u]
 * of t (the table cm built for p's deg and micro_batches). */
int uniap_plan_breakdown(const uniap_costmodel *cm, const uniap_plan *p, const uniap_cost_table *t,
                         const int *idx, uniap_stage_breakdown *out);
/* EMISSING naming the layer and strategy when cm's profile lacks the
 * measurement a layer of p needs (tables leave such strategies out). */
int uniap_plan_check_profile(const uniap_costmodel *cm, const uniap_plan *p);
/* The framework reserve per device cm subtracts from device memory. */
int64_t uniap_costmodel_reserve(const uniap_costmodel *cm);
/* "1f1b" or "gpipe". */
const char *uniap_schedule_name(uniap_schedule s);
/* `--dump-costs` (dump_costs.c): the tables of the n candidates (deg[i],
 * c[i]) as JSON ("uniap-costs" version 1, described there) to f; progress
 * lines on stderr when verbose. */
int uniap_costs_write_json(FILE *f, const uniap_costmodel *cm, const char *profile_name,
                           const int *deg, const int *c, int n, int verbose);

/* Activations of stage i in flight under a schedule. */
static inline int uniap_inflight(uniap_schedule s, int c, int deg, int i)
{
    int k = deg - i;
    return s == UNIAP_SCHED_GPIPE ? c : (c < k ? c : k);
}

#ifdef __cplusplus
}
#endif
#endif /* UNIAP_COSTMODEL_H */
