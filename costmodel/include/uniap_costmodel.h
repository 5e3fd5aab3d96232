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
 * TPI of a plan (method.md sections 2, 6), stages i = 0..deg-1, each on
 * devices of class q_i (one class on a homogeneous cluster; the per-layer
 * terms below are the rows of q_i's block, see uniap_cost_table):
 *   p_i  = sum_{u on i} time[u][k_u] + sum_{u,u+1 on i} reshard[u][k_u][k_u+1]
 *   o_j  = xstage[spans(j)][u_j][k][l], u_j the last layer of stage j
 *   tail_i = sum_{u on i} tail[u][k_u]      (once per iteration)
 *   TPI  = fill sum p_i + comm sum o_j + steady max(p, comm_max o)
 *          + tail max_i tail_i
 *          [+ wfill sum w_i + wmax max w_i, w_i = sum_{u on i} wgrad[u][k_u]:
 *           split-backward (zero-bubble) schedules only, sched_zbh1.c]
 *          (GPipe, 1F1B: sum p_i + sum o_j + (c - 1) max(p, o) + max_i tail_i)
 * Memory per device of stage i:
 *   M_i = sum states[u][k] + inflight(i) sum act[u][k] + max_u peak[u][k]
 *   (GPipe: inflight(i) = c; 1F1B: min(c, deg - i); interleaved: see
 *   sched_interleaved.c); M_i <= mem_budget[q_i].
 * The coefficients and inflight() are the schedule's (its descriptor).
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

/* A strategy: one value per dimension of the dimension list (strategy.c,
 * the descriptors in strategy_dims.c), in list order: dp, tp, layout,
 * flavour, sp, ckpt; dimensions registered at run time keep theirs in
 * ext[]. */
#define UNIAP_STRATEGY_EXT 4
typedef struct uniap_strategy {
    int dp;
    int tp;
    int cp;                      /* context-parallel degree (the sequence split over cp
                                  * ranks; 0 or 1: none); dp x cp x tp = stage devices */
    int cp_a2a;                  /* cp's variant: 0 ring attention (Megatron-LM's CP,
                                  * cp_comm_type p2p), 1 all-to-all head redistribution
                                  * (DeepSpeed-Ulysses; Megatron's a2a) */
    int ep;                      /* expert-parallel degree (moe layers: the experts split
                                  * over ep of the dp ranks; ep divides dp and the layer's
                                  * experts); 0 or 1: none */
    int tp_consecutive;          /* layout: 1: TP ranks adjacent; 0: strided by dp x cp */
    int flavour;                 /* a uniap_dp_flavour; DDP when dp == 1 */
    int sp;                      /* Megatron sequence parallelism (tp > 1 only) */
    int ckpt;                    /* activation checkpointing: UNIAP_CKPT_NONE, _FULL,
                                  * _SELECTIVE (uniap_io.h) */
    int ext[UNIAP_STRATEGY_EXT]; /* dimensions registered at run time (0: off) */
    char name[48];               /* e.g. "dp4.tp2c.zero3.sp.ckpt", "dp2.cp2u.tp2c.zero1" */
} uniap_strategy;

/* The context-parallel degree of s (1 when s->cp is 0 or 1), and the size of
 * its gradient group dp x cp: the weights are replicated over the cp ranks,
 * so gradients are reduced and ZeRO shards the states over dp x cp
 * (Megatron-LM's distributed optimizer shards over the data-parallel group
 * with context parallelism, get_data_parallel_group(with_context_parallel=
 * True)). */
static inline int uniap_strategy_cp(const uniap_strategy *s)
{
    return s->cp > 1 ? s->cp : 1;
}
static inline int uniap_strategy_dpcp(const uniap_strategy *s)
{
    return s->dp * uniap_strategy_cp(s);
}
/* The expert-parallel degree of s (1 when s->ep is 0 or 1). */
static inline int uniap_strategy_ep(const uniap_strategy *s)
{
    return s->ep > 1 ? s->ep : 1;
}

/* Formats s->name from the fields; parses a name back (EINVAL on a bad
 * name, the message naming the bad token). Both walk the dimension list. */
void uniap_strategy_format(uniap_strategy *s);
int uniap_strategy_parse(const char *name, uniap_strategy *out);

struct uniap_cost_options;

/* Reading a name: its '.'-separated tokens (empty ones skipped), the next
 * one to read, and what a dimension left of the token before (tp's
 * placement letter). For the descriptors' parse functions. */
typedef struct uniap_strategy_scan {
    const char *name; /* the whole name, for messages */
    char *tok[32];
    int n_tok, at;
    const char *rest;     /* unread tail of tok[at - 1], or NULL */
    const char *rest_tok; /* the token it belongs to */
} uniap_strategy_scan;

/* One dimension of the strategy space. The list's order is the order of
 * the name's parts, of parsing, and of enumeration (the first dimension
 * varies slowest), so the strategies' order, which the solver's
 * tie-breaking sees, is fixed by the list. */
typedef struct uniap_strategy_dim {
    const char *name;   /* "dp", "tp", "layout", "flavour", "sp", "ckpt" */
    const char *usage;  /* its part of the name's syntax: "dp<D>", "[.sp]" */
    const char *tokens; /* an optional trailing token: its words ("sp"); NULL
                         * for the dimensions written inside the head */
    size_t offset;      /* of its int in uniap_strategy (set by registration) */
    /* The values it may take in a stage of n devices, micro-batch mb, given
     * the earlier dimensions' values in s, under o's restrictions (its
     * restriction hook, e.g. no_sp): up to max into v, in enumeration
     * order; returns the count (0: s is no strategy). */
    int (*values)(const uniap_strategy *s, int n, int mb, const struct uniap_cost_options *o,
                  int *v, int max);
    /* Appends its part of s's name for value v (maybe nothing); returns the
     * characters written, as snprintf. */
    int (*format)(const uniap_strategy *s, int v, char *buf, size_t size);
    /* Reads its part (or finds it absent: its default) into *v; 0, or
     * EINVAL recorded naming the token. */
    int (*parse)(uniap_strategy_scan *sc, const uniap_strategy *s, int *v);
    /* The rule that ties v to the other values, or NULL: the message ("sp
     * needs tp > 1") when s breaks it, else NULL. */
    const char *(*check)(const uniap_strategy *s, int v, char *msg, size_t size);
} uniap_strategy_dim;

/* The dimension list: count, and dimension i (NULL out of range). */
int uniap_strategy_dim_count(void);
const uniap_strategy_dim *uniap_strategy_dim_get(int i);
/* Value of dimension d in s. */
int uniap_strategy_value(const uniap_strategy *s, const uniap_strategy_dim *d);
/* Appends a dimension after the others (copied; its value lives in
 * s->ext[], 0 in strategies made before). Not thread-safe: register before
 * any strategy is enumerated. EINVAL when the list is full (UNIAP_STRATEGY_EXT
 * registered) or a function is missing. */
int uniap_strategy_dim_register(const uniap_strategy_dim *d);
/* The next token of a name being read, or NULL; take: the same, consumed. */
const char *uniap_strategy_scan_peek(const uniap_strategy_scan *sc);
const char *uniap_strategy_scan_take(uniap_strategy_scan *sc);

/* ------------------------------------------------------------------ */
/* Pipeline schedules (schedule.c, one sched_<name>.c per schedule)     */
/* ------------------------------------------------------------------ */

/* A schedule is an index into the table of descriptors (schedule.c): the
 * built-in ones in table order, then those registered at run time. The two
 * first have names for tests and defaults; a new schedule needs none
 * (nothing outside its descriptor names a particular schedule). */
typedef int uniap_schedule;
enum { UNIAP_SCHED_GPIPE = 0, UNIAP_SCHED_1F1B = 1, UNIAP_SCHED_DEFAULT = UNIAP_SCHED_1F1B };

/* The TPI of a schedule in closed form, for c micro-batches on deg stages
 * (the p_i, o_j and tail_i of the formulas at the top of this file):
 *   TPI = fill sum_i p_i + comm sum_j o_j
 *       + steady max(max_i p_i, comm_max max_j o_j) + tail max_i tail_i
 * GPipe and 1F1B: fill 1, comm 1, comm_max 1, steady c - 1, tail 1. The
 * evaluator computes it, the MILP minimizes fill sum p + comm sum o +
 * steady T + tail tau with T >= p_i and T >= comm_max o_j, and the
 * solver's table bound is it without transfers (o = 0): every coefficient
 * must be finite and >= 0 (comm_max >= 1: a transfer is crossed at least
 * once per micro-batch). */
typedef struct uniap_schedule_terms {
    double fill;     /* one micro-batch through every stage (fill and drain) */
    double steady;   /* the slowest stage, repeated */
    double tail;     /* the slowest stage's once-per-iteration work */
    double comm;     /* the stage-to-stage transfers in the fill and drain */
    double comm_max; /* crossings of one boundary per micro-batch (in the max) */
    /* Split-backward schedules (zero bubble): with w_i the stage's weight-
     * gradient time per micro-batch (the table's wgrad), TPI adds
     *   wfill sum_i w_i + wmax max_i w_i
     * wfill may be negative (W taken out of the fill and drain), but
     * fill p_i + wfill w_i >= 0 whenever wgrad <= time / 2, and wmax >= 0.
     * Both 0 for every schedule that runs the backward whole. */
    double wfill;
    double wmax;
} uniap_schedule_terms;

typedef struct uniap_schedule_desc {
    const char *name; /* in plan files, options and messages: "1f1b" */
    const char *help; /* one line for --help */
    uniap_schedule_terms (*terms)(int c, int deg);
    /* micro-batches of activations stage i (0..deg-1) holds, in (0, c]:
     * fractional where the stage holds model chunks of 1/v of its layers */
    double (*inflight)(int c, int deg, int i);
    const char *galvatron;    /* Galvatron's pipeline_type, or NULL: not expressible */
    const char *megatron_gap; /* NULL: Megatron-LM runs it; else why not (an export note) */
    /* Stage i's 2c operations in the order it runs them: m + 1 is the
     * forward of micro-batch m, -(m + 1) its backward (pictures:
     * uniap_schedule_timeline); a split-backward schedule's 3c: -(m + 1)
     * its input gradient B, c + m + 1 its weight gradient W. NULL: the
     * schedule draws no timeline. */
    void (*order)(int c, int deg, int i, int *ops);
    /* Virtual pipeline stages (model chunks) per device: 0 or 1 for a
     * plain schedule; v > 1: every stage holds at least v layers. */
    int virtual_stages;
    /* NULL: every (c, deg) runs. Else 1 when c micro-batches on deg
     * stages run, 0 with why not (a phrase) in why[n] (why may be NULL). */
    int (*check)(int c, int deg, char *why, size_t n);
    /* NULL: the backward runs whole. Else why a runtime that runs it whole
     * cannot run this schedule (it splits the backward into input and
     * weight gradients, zero bubble): an export note. */
    const char *split_backward;
} uniap_schedule_desc;

/* The descriptor of s, NULL when s is no schedule of the table. */
const uniap_schedule_desc *uniap_schedule_get(uniap_schedule s);
/* Schedules in the table (ids 0..count-1). */
int uniap_schedule_count(void);
/* s's name ("1f1b", "gpipe"), "?" when s is no schedule. */
const char *uniap_schedule_name(uniap_schedule s);
/* The id of a name; EINVAL naming it and the names expected. */
int uniap_schedule_parse(const char *name, uniap_schedule *out);
/* The names in id order, NULL-terminated (static storage, valid until the
 * next registration): e.g. the choices of an option. */
const char *const *uniap_schedule_names(void);
/* The names as "a, b or c", each between quote (e.g. "" or "\""), into
 * buf; the length, or -1 when it does not fit. */
int uniap_schedule_list(char *buf, size_t size, const char *quote);
/* One operation of a pipeline timeline (uniap_schedule_timeline). */
typedef struct uniap_timeline_op {
    int stage, micro_batch, backward; /* 0 the forward, 1 the backward (B), 2 W */
    double start, end;                /* seconds from the iteration's start */
} uniap_timeline_op;
/* The timeline of one iteration of schedule s over deg stages and c
 * micro-batches: stage i's forward takes fwd[i], its backward bwd[i], the
 * transfer after stage j comm[j] (j < deg - 1, each way); an operation
 * starts when its stage is free and its input is there (the forward of the
 * stage before plus its transfer; the backward of the stage after, or on
 * the last stage its own forward). ops (malloc'd, 2 deg c entries, the
 * caller frees) in stage order, each stage's in run order; *end: the last
 * operation's end. EINVAL when s has no order. */
int uniap_schedule_timeline(uniap_schedule s, int deg, int c, const double *fwd, const double *bwd,
                            const double *comm, uniap_timeline_op **ops, double *end);
/* The same where a split-backward schedule's stage i spends wgrad[i] of
 * bwd[i] in W (NULL: 0) and its W of micro-batch m starts after its own B;
 * uniap_schedule_ops(s, c) entries per stage (2c, or 3c split), backward
 * 2 for a W. */
int uniap_schedule_timeline_w(uniap_schedule s, int deg, int c, const double *fwd,
                              const double *bwd, const double *wgrad, const double *comm,
                              uniap_timeline_op **ops, double *end);
/* Operations per stage of s's timeline with c micro-batches: 2c, 3c for a
 * split-backward schedule (its W's apart). */
int uniap_schedule_ops(uniap_schedule s, int c);
/* Adds a schedule after the built-in ones (d is kept by reference and must
 * outlive every use; not thread-safe: register before any search). EINVAL
 * on a descriptor without name, terms or inflight, a name already taken,
 * or a full table. */
int uniap_schedule_register(const uniap_schedule_desc *d, uniap_schedule *id);
/* s's TPI coefficients for c micro-batches on deg stages (all 0 when s is
 * no schedule). */
uniap_schedule_terms uniap_schedule_terms_of(uniap_schedule s, int c, int deg);
/* TPI = fill work + steady slowest + tail tail, with s's coefficients. */
double uniap_schedule_tpi(uniap_schedule s, int c, int deg, double work, double slowest,
                          double tail);
/* The evaluator's TPI: work = sum p_i, comm = sum o_j, slowest = max p_i,
 * slowest_comm = max o_j (before comm_max), tail = max tail_i. */
double uniap_schedule_tpi_xfer(uniap_schedule s, int c, int deg, double work, double comm,
                               double slowest, double slowest_comm, double tail);
/* The same plus the weight-gradient terms: wsum = sum w_i, wslow = max w_i
 * (uniap_schedule_terms' wfill and wmax; nothing added where they are 0). */
double uniap_schedule_tpi_w(uniap_schedule s, int c, int deg, double work, double comm,
                            double slowest, double slowest_comm, double tail, double wsum,
                            double wslow);
/* Micro-batches of activations stage i holds in flight under s (c when s
 * is no schedule); fractional for interleaved schedules. */
double uniap_inflight(uniap_schedule s, int c, int deg, int i);
/* s's virtual stages per device (1 for plain schedules and non-schedules). */
int uniap_schedule_virtual_stages(uniap_schedule s);
/* 1 when s runs c micro-batches on deg stages (its descriptor's check),
 * else 0; records no error. */
int uniap_schedule_runs(uniap_schedule s, int c, int deg);
/* 1 when the placement stage_of[0..L) (stages 0..deg-1) suits s with c
 * micro-batches: s runs (c, deg) and every stage holds at least s's
 * virtual stages of layers; else 0, why not (a phrase) in why[n] (why may
 * be NULL). Records no error. */
int uniap_schedule_plan_ok(uniap_schedule s, int c, int deg, const int *stage_of, int L, char *why,
                           size_t n);

/* ------------------------------------------------------------------ */
/* Cost tables                                                         */
/* ------------------------------------------------------------------ */

/* Costs of one (deg, c) candidate. Layer u = 0..n_layers-1 in chain
 * order; strategy k = 0..n_strategies-1 (K). All times are seconds, all
 * memory bytes per device.
 *
 * Device classes (the contract for stages that differ). Every stage runs
 * on devices of one class, stage_class[i]; a class is one device type
 * with its links inside a stage (on a homogeneous cluster there is one
 * class, 0, and every stage has it). Everything that depends on the
 * devices a layer runs on is given per class: the per-layer arrays hold
 * one block of L*K entries per class, class 0 first, entry (q, u, k) at
 * uniap_ct_ix(t, q, u, k) = (q*L + u)*K + k; reshard, the resharding
 * inside a stage, one block of n_pairs*K*K per class at
 * uniap_ct_pair(t, q, u, k, l); each class has its own mem_budget[q]. A
 * one-class table is therefore indexed [u*K + k] as before, and its plans,
 * TPIs and memory are those of a table without classes, bit for bit.
 *
 * Pair matrices are shared: the matrices after layer u are number
 * pair_of[u] of n_pairs (the cost model gives each run of identical layers
 * one; a dense table, as uniap_cost_table_alloc makes, has n_pairs = L-1
 * and pair_of[u] = u, so its entry after u is [(u*K + k)*K + l]). What crosses a stage boundary
 * (xstage) depends on the link between the stages, not on a class: its two blocks are the boundary
 * inside a node and between nodes (boundary_spans_nodes[j]); stages of different classes are on
 * different nodes. The stage-class assignment is part of the candidate: a table is built for one
 * (deg, c, stage_class), and the evaluator and the MILP read stage i's rows from block
 * stage_class[i]. Memory that depends on the stage within a class (the schedule's in-flight
 * micro-batches) comes from the schedule. */
typedef struct uniap_cost_table {
    int deg;           /* pipeline stages */
    int micro_batches; /* c */
    int micro_batch;   /* samples per micro-batch: uniap_micro_batch_size(B, c) */
    /* samples per iteration B, for the throughput; 0: micro_batch x c */
    int64_t global_batch;
    int stage_devices; /* n = devices / deg */
    int n_strategies;  /* K */
    uniap_strategy *strategies;
    int n_layers;
    int n_classes;          /* device classes (1: homogeneous) */
    int *stage_class;       /* [deg]: the class of stage i's devices, 0..n_classes-1 */
    int *run_of;            /* [u]: model run; a run's layers have equal rows */
    unsigned char *allowed; /* [(q*L+u)*K+k]: strategy valid for the layer on class q */
    double *time;           /* [(q*L+u)*K+k] per micro-batch: fwd+bwd+recompute+TP/FSDP comm */
    double *wgrad;          /* [(q*L+u)*K+k] per micro-batch: the weight-gradient part of time
                             * (W of zero-bubble schedules), 0 <= wgrad <= time / 2 */
    double *tail;           /* [(q*L+u)*K+k] per iteration: exposed grad sync + optimizer */
    double *mem_states;     /* [(q*L+u)*K+k] params + grads + optimizer states */
    double *mem_act;        /* [(q*L+u)*K+k] activations kept per micro-batch in flight */
    double *mem_peak;       /* [(q*L+u)*K+k] transient peak while the layer runs */
    int n_pairs;            /* distinct pair matrices (1..L-1; 1 when L = 1) */
    int *pair_of;           /* [u], u < L-1: the pair matrices after layer u */
    double *reshard;        /* [((q*n_pairs+p)*K+k)*K+l], p = pair_of[u]: u on k -> u+1 on l,
                             * inside a stage of class q */
    double *xstage[2];      /* [(p*K+k)*K+l], p = pair_of[u]: boundary after u; [0] inside a
                             * node, [1] between nodes */
    unsigned char *boundary_spans_nodes; /* [j], j < deg-1 */
    double *mem_budget;                  /* [q]: usable bytes per device of class q
                                          * (memory - reserve) */
} uniap_cost_table;

/* Allocates every array of a one-class table for deg, K strategies and L
 * layers, zero-filled, allowed = 1, every stage of class 0. */
int uniap_cost_table_alloc(uniap_cost_table *t, int deg, int n_strategies, int n_layers);
/* The same with n_classes device classes (blocks zero-filled, allowed = 1,
 * stage_class all 0: the caller assigns the stages). EINVAL unless every
 * size is >= 1; ENOMEM. */
int uniap_cost_table_alloc_classes(uniap_cost_table *t, int deg, int n_strategies, int n_layers,
                                   int n_classes);
/* The same with n_pairs shared pair matrices (1..max(1, L-1)); pair_of is
 * left all 0: the caller maps every boundary to its matrices. */
int uniap_cost_table_alloc_pairs(uniap_cost_table *t, int deg, int n_strategies, int n_layers,
                                 int n_classes, int n_pairs);
void uniap_cost_table_free(uniap_cost_table *t);

/* Index of the per-layer entry (class q, layer u, strategy k). */
static inline size_t uniap_ct_ix(const uniap_cost_table *t, int q, int u, int k)
{
    return ((size_t)q * (size_t)t->n_layers + (size_t)u) * (size_t)t->n_strategies + (size_t)k;
}
/* Index of reshard's entry (class q, after layer u, k -> l). */
static inline size_t uniap_ct_pair(const uniap_cost_table *t, int q, int u, int k, int l)
{
    size_t K = (size_t)t->n_strategies;
    return (((size_t)q * (size_t)t->n_pairs + (size_t)t->pair_of[u]) * K + (size_t)k) * K +
           (size_t)l;
}
/* Index of xstage's entry (after layer u, k -> l). */
static inline size_t uniap_ct_xpair(const uniap_cost_table *t, int u, int k, int l)
{
    size_t K = (size_t)t->n_strategies;
    return ((size_t)t->pair_of[u] * K + (size_t)k) * K + (size_t)l;
}
/* The usable bytes per device of stage i. */
static inline double uniap_ct_budget(const uniap_cost_table *t, int i)
{
    return t->mem_budget[t->stage_class[i]];
}

/* Samples per micro-batch when a global batch of B samples is split into c
 * micro-batches: B / c when c divides B; otherwise as torch.chunk splits a
 * batch (Galvatron's "chunks"): ceil(B / c) each and the last one smaller,
 * which is c micro-batches only for some c (1024 into 41: 40 of 25 and one
 * of 24; into 39 it makes 38 of 27, not 39). 0 when the split does not give
 * exactly c micro-batches (c < 1, c > B, or such a c). A micro-batch count
 * that does not divide B is priced as c micro-batches of ceil(B / c) (time
 * and memory): an upper bound, over by the last micro-batch's missing
 * c ceil(B / c) - B samples of one steady-state micro-batch. */
int64_t uniap_micro_batch_size(int64_t B, int c);

/* Options for building tables. */
typedef struct uniap_cost_options {
    int64_t global_batch;
    uniap_schedule schedule;
    int64_t reserve_bytes;                   /* framework reserve per device; <0: default */
    double overlap;                          /* >= 0: forced fraction of every DP
                                              * collective hidden behind compute;
                                              * < 0: modelled per strategy and phase */
    int no_sp, no_ckpt, no_zero, no_strided; /* shrink the strategy space */
    unsigned ckpt_modes;                     /* checkpointing granularities offered
                                              * (UNIAP_CKPT_BIT); 0: the model's
                                              * "checkpointing" (uniap_costmodel_create
                                              * fills it in) */
    int max_tp;                              /* 0: no limit */
    int max_cp;                              /* context-parallel degree limit; 0: auto
                                              * (uniap_costmodel_create: the longest
                                              * sequence / 4096, so no cp below 8192
                                              * tokens); 1: no cp */
    int no_ulysses;                          /* cp by ring attention only */
    int max_ep;                              /* expert-parallel degree limit; 0: auto
                                              * (uniap_costmodel_create: the model's
                                              * largest expert count, 1 without moe
                                              * layers); 1: no ep */
    double moe_imbalance;                    /* >= 1: the slowest ep rank's share of
                                              * routed tokens over the mean (its expert
                                              * compute and dispatch); 0: 1 */
    int max_pp;                              /* pipeline degree limit; 0: none */
    int min_pp;                              /* smallest pipeline degree; 0: none */
    double memory_headroom;                  /* fraction of device memory - reserve left
                                              * unused by plans (0..0.9); 0: none */
    unsigned flavours;                       /* DP flavours offered at dp > 1, bit
                                              * (1 << UNIAP_DP_*); 0: all */
    int skip_unprofiled_tp;                  /* 1 (the default): data the profile lacks (a
                                              * layer type at a tp degree, a collective at a
                                              * group size or placement) disallows the
                                              * strategies needing it, with one warning per
                                              * missing item, and candidates whose tables
                                              * would need it are left out; only a layer left
                                              * with no strategy in any candidate fails
                                              * EMISSING. 0: the first table needing missing
                                              * data fails EMISSING */
    const int *micro_batch_counts;           /* the micro-batch counts c searched (kept by
                                              * reference), each one uniap_micro_batch_size
                                              * splits the global batch into; NULL: every
                                              * divisor of the global batch */
    int n_micro_batch_counts;                /* entries of micro_batch_counts */
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

/* GEMM calibration of the analytic device model from a measured profile's
 * /gemm rows (costmodel/gemm_eff.c): per dtype class (16-bit: bf16 and
 * fp16 rows; fp32) the fraction of the cluster's peak the largest measured
 * GEMM reached on its slowest rank, over the wave-quantization utilization
 * the model predicts for that shape. */
typedef struct uniap_gemm_fit {
    int rows;           /* /gemm rows of this class; 0: nothing below is set */
    int applied;        /* 1: uniap_cluster_calibrate_gemm replaced the fraction */
    const char *field;  /* the cluster field it stands for ("gemm_efficiency", ...) */
    int64_t m, n, k;    /* the largest GEMM (most m n k; ties: the higher fraction) */
    char dtype[8];      /* its dtype */
    double achieved;    /* its slowest rank's FLOP/s (2 m n k / median seconds) */
    double peak;        /* the cluster peak it is divided by (0: none known) */
    double util;        /* the model's tile/wave utilization of its m x n output */
    double frac;        /* min(1, achieved / (peak x util)) */
    double spec_frac;   /* the cluster's own figure before (0: unknown) */
    double worst_ratio; /* max over the class's rows of measured / calibrated-model seconds */
    int64_t worst_m, worst_n, worst_k; /* the shape of that row */
} uniap_gemm_fit;
typedef struct uniap_gemm_calibration {
    uniap_gemm_fit half, fp32;
} uniap_gemm_calibration;
/* Derives out from p's /gemm rows and c's peaks, sm_count and tiles. A
 * class is applicable when its peak is known: 16-bit rows need
 * peak_flops; fp32 rows need peak_flops_fp32, or peak_flops when there
 * are no 16-bit rows (the model then runs fp32 at peak_flops x
 * gemm_efficiency). EMISSING when p has no /gemm rows; EINVAL naming the
 * cluster and field when no class is applicable, or when a row's FLOP/s
 * exceed the peak (the peak, or the profile's device, is wrong). */
int uniap_gemm_calibrate(const uniap_profile *p, const uniap_cluster *c,
                         uniap_gemm_calibration *out);
/* The same, then sets c's gemm_efficiency (and gemm_efficiency_fp32) to
 * the applicable fractions, in place of the spec's public figures; the
 * analytic model built from c afterwards (uniap_profile_analytic) uses
 * them. out may be NULL. On error c is unchanged. */
int uniap_cluster_calibrate_gemm(uniap_cluster *c, const uniap_profile *p,
                                 uniap_gemm_calibration *out);
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
/* Importers of peers' published profiles (costmodel/import.c, one file
 * each): uniap_profile_import reads tool's files at src (a file or folder
 * in the tool's own layout, uniap_importer_src_help(tool)) for model m on
 * cluster c into out: provenance "imported:<tool>", rank -1 rows with m's
 * signatures, the specs, and out->notes (one line per assumption the
 * import made: what the files lack and what fills it). EINVAL for an
 * unknown tool or a model the files cannot describe, EIO/EFORMAT naming
 * the file and field of bad input; out is empty on failure. */
const char *const *uniap_importer_names(void); /* NULL-terminated: "galvatron", "amp", ... */
const char *uniap_importer_src_help(const char *tool); /* NULL: unknown tool */
int uniap_profile_import(const char *tool, const char *src, const uniap_model *m,
                         const uniap_cluster *c, uniap_profile *out);

/* ------------------------------------------------------------------ */
/* Plans                                                               */
/* ------------------------------------------------------------------ */

typedef struct uniap_plan_eval {
    double tpi;        /* seconds per iteration */
    double throughput; /* samples / s */
    int feasible;      /* every stage within its device class's mem_budget */
    int deg;
    double *stage_compute; /* [deg] p_i */
    double *stage_wgrad;   /* [deg] w_i: the weight-gradient part of p_i */
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

/* Model FLOPs of one training iteration of global_batch samples (mfu.c):
 * 3 x the forward GEMM FLOPs of every layer (6N + attention; no
 * recomputation, no element-wise work). uniap_mfu: those over devices x
 * peak (the cluster's 16-bit peak, fp32 for fp32 models) x tpi seconds;
 * 0 when the cluster has no peak or tpi <= 0. */
double uniap_model_flops(const uniap_model *m, int64_t global_batch);
double uniap_mfu(const uniap_model *m, const uniap_cluster *c, int64_t global_batch, double tpi);

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
    char runtime[16]; /* the training runtime the plan was searched for ("any": every
                       * plan of the cost model; "" read as "any"); runtime.c */
    double any_tpi;   /* the unrestricted optimum's TPI beside it (--compare-any); 0: not
                       * computed */
    double mfu;       /* model FLOPs utilization (uniap_mfu); 0: not computed */
    char *search;     /* the options searched with, a JSON object text (malloc'd, freed by
                       * uniap_plan_free; NULL: none) */
} uniap_plan;

void uniap_plan_free(uniap_plan *p);
/* Writes the plan (and, when eval is given, its per-stage breakdown) as
 * JSON to path atomically. */
int uniap_plan_write_json(const char *path, const uniap_plan *p, const uniap_model *m,
                          const uniap_cost_table *t, const uniap_plan_eval *eval);
int uniap_plan_read_json(const char *path, uniap_plan *out);
/* Stage of each layer as Megatron-LM places them on pp stages
 * (stage_split.c): the transformer blocks split by blocks_per_stage[pp]
 * (NULL: evenly, EINVAL naming --layers-per-stage when pp does not divide
 * the block count), the layers before the first block (embedding) on
 * stage 0, a layer after a block on that block's stage, the head after the
 * last block on the last stage (which may then hold no block: first and
 * last stages may be 0 in blocks_per_stage, middle ones not). A model
 * without blocks is split evenly by layer count. Fills stage_of[n_layers];
 * EINVAL naming the split when it does not add up. */
int uniap_plan_split_stages(const uniap_model *m, int pp, const int *blocks_per_stage,
                            int *stage_of);
/* Maps a plan's per-layer strategies onto a table's indices (strategy_of
 * out[u]); EINVAL naming the layer whose strategy the table lacks. */
int uniap_plan_strategy_indices(const uniap_plan *p, const uniap_cost_table *t, int *out);

/* Plan exports (plan_export.c): the plan as Megatron-LM arguments (first
 * line; then "# ..." lines saying whether the plan is expressible and what
 * Megatron-LM cannot express; m may be NULL: no layer kinds known), and as
 * Galvatron's galvatron_config JSON (export_galvatron.c: transformer layers
 * in the per-layer lists, embedding and head as vtp/vocab_sdp; EINVAL
 * naming the layer for what Galvatron cannot run, below). *text is
 * malloc'd, ends in a newline; nothing is written anywhere. */
int uniap_plan_export_megatron(const uniap_plan *p, const uniap_model *m, char **text);
/* Reads a Megatron-LM command line (its first line that is not a "#"
 * comment: what uniap_plan_export_megatron writes, or a user's own) into
 * the plan Megatron-LM would run on cluster c: tp, pp, micro-batch and
 * global batch, sequence parallelism, recompute (selective; full, uniform
 * with 1 layer or block with N per stage), the distributed optimizer as
 * ZeRO-1, the split of --decoder-first/last-pipeline-num-layers (the
 * embedding with the first stage, the head with the last), 1F1B. Model
 * arguments given must match m (EINVAL naming the flag, what the model
 * has). An argument it does not read is EINVAL naming it. what names the
 * source in messages. *out is the caller's (uniap_plan_free). */
int uniap_plan_import_megatron(const char *text, const char *what, const uniap_model *m,
                               const uniap_cluster *c, uniap_plan *out);
int uniap_plan_export_galvatron(const uniap_plan *p, const uniap_model *m, char **text);

/* Exports to the other runtimes and their readers (export_deepspeed.c,
 * export_torchtitan.c, export_galvatron.c; import_*_plan.c). Each writer
 * fills every field the plan sets from the plan and the model m (never
 * NULL), or refuses: EINVAL naming the layer or stage and what the
 * runtime cannot run, nothing allocated. Texts are malloc'd, the
 * caller's, newline-terminated; nothing is written anywhere. Each reader
 * turns such files (or a user's own, with the runtime's defaults for what
 * they leave out) into the plan the runtime runs for m on cluster c, in
 * *out (the caller's, uniap_plan_free; empty on failure): EINVAL naming
 * the file (the *what strings) and the key or flag of anything it cannot
 * read, a model argument that is not m's, or sources that disagree.
 *
 * DeepSpeed (edaa722) through Megatron-DeepSpeed (4efb479): *config the
 * DeepSpeed config JSON (batch sizes, gradient accumulation, ZeRO stage,
 * bf16/fp16, activation checkpointing), *args the pretrain_gpt.py command
 * line (first line; "#" notes after it) naming config_path (NULL:
 * "ds_config.json") in --deepspeed_config. One strategy for every layer;
 * ZeRO-2/3 only without pipeline; the split of partition_method
 * 'type:transformer'; 1F1B. */
int uniap_plan_export_deepspeed(const uniap_plan *p, const uniap_model *m, const char *config_path,
                                char **config, char **args);
int uniap_plan_import_deepspeed(const char *config, const char *config_what, const char *args,
                                const char *args_what, const uniap_model *m, const uniap_cluster *c,
                                uniap_plan *out);
/* torchtitan v0.2.2 (73a0e69, the last release reading TOML): the job
 * config TOML ([model], [training], [parallelism], [activation_checkpoint]).
 * One tp with sequence parallelism, FSDP2 or lone DDP, full or no
 * recomputation, a llama3-shaped model. */
int uniap_plan_export_torchtitan(const uniap_plan *p, const uniap_model *m, char **toml);
int uniap_plan_import_torchtitan(const char *toml, const char *what, const uniap_model *m,
                                 const uniap_cluster *c, uniap_plan *out);
/* Galvatron (cea12ff): *json its strategy JSON, *overrides (when not NULL)
 * the train_dist.yaml Hydra overrides the JSON cannot hold (naming
 * config_path, NULL: "galvatron_config.json"), train.sequence_parallel
 * among them. uniap_plan_export_galvatron is the JSON alone: it refuses a
 * plan with TP but no sequence parallelism (Galvatron's default is on).
 * The reader takes overrides NULL as none given (Galvatron's defaults). */
int uniap_plan_export_galvatron_launch(const uniap_plan *p, const uniap_model *m,
                                       const char *config_path, char **json, char **overrides);
int uniap_plan_import_galvatron(const char *json, const char *json_what, const char *overrides,
                                const char *overrides_what, const uniap_model *m,
                                const uniap_cluster *c, uniap_plan *out);
/* The global batch a runtime file states, before the model and cluster are
 * known (what `uniap estimate` needs first): format "deepspeed-args"
 * (--global-batch-size), "deepspeed-config" (train_batch_size),
 * "torchtitan" ([training] global_batch_size), "galvatron" (global_bsz);
 * 0 when the file states none or cannot be read (the reader then says
 * why). EINVAL for an unknown format. */
int uniap_runtime_file_batch(const char *format, const char *text, int64_t *global_batch);

/* One stage of a plan by term (plan_breakdown.c): what `uniap estimate`
 * prints. Times per micro-batch unless "tail" (per iteration); memory in
 * bytes per device. */
typedef struct uniap_stage_breakdown {
    int first_layer, last_layer;
    double compute, tp_comm, dp_comm, reshard; /* per micro-batch, s */
    double cp_comm; /* per micro-batch, s: the context-parallel exchange left exposed */
    double ep_comm; /* per micro-batch, s: the expert-parallel all-to-alls (dispatch, combine) */
    double forward; /* per micro-batch: the forward phase of compute + comm (the rest is the
                       backward's, with recompute), s */
    double sync_exposed, param_gather, optimizer; /* the tail, s */
    double states, activations, peak;             /* bytes per device */
    double inflight; /* micro-batches of activations held (fractional: interleaved) */
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
/* `--dump-costs` (dump_costs.c): the tables of the n candidates (deg[i],
 * c[i]) as JSON ("uniap-costs" version 1, described there) to f; progress
 * lines on stderr when verbose. */
int uniap_costs_write_json(FILE *f, const uniap_costmodel *cm, const char *profile_name,
                           const int *deg, const int *c, int n, int verbose);

/* ------------------------------------------------------------------ */
/* Training runtimes (runtime.c, one runtime_<name>.c per runtime)     */
/* ------------------------------------------------------------------ */

/* What a training runtime can execute, as a restriction of the plan space
 * (method.md section 10). A runtime is an index into the table of
 * descriptors (runtime.c): 0 is "any" (every plan of the cost model, no
 * restriction), then megatron, deepspeed, torchtitan, galvatron. */
typedef int uniap_runtime;
enum { UNIAP_RUNTIME_ANY = 0 };

/* The part a layer plays in a runtime's model (from its kind): a
 * transformer block, the input edge (embedding), the output edge (head),
 * or none of these. */
enum { UNIAP_RT_OTHER = 0, UNIAP_RT_BLOCK, UNIAP_RT_FIRST, UNIAP_RT_LAST };

/* One combination of a runtime's global settings (Megatron-LM: tp,
 * --sequence-parallel, --use-distributed-optimizer, the recompute
 * granularity) with the strategies each layer may use under it and the
 * stage rules it brings. A plan is in the variant when every layer u uses
 * a strategy k with allowed[u*K+k] and the rules hold:
 *   equal_middle  the counted layers (space.counted) on stages 1..deg-2
 *                 are equally many (Megatron-LM's even split with
 *                 --decoder-first/last-pipeline-num-layers);
 *   equal_marked  every stage holds the same number N of counted layers
 *                 with a marked strategy (space.marked: full recompute),
 *                 and they are the stage's first N counted layers
 *                 (Megatron-LM's --recompute-method block);
 *   min_counted   every stage holds that many counted layers at least
 *                 (Galvatron's pp_division counts transformer layers);
 *   stage_lo/hi   layer u is on a stage in [stage_lo[u], stage_hi[u]]
 *                 (DeepSpeed's partition methods fix the split);
 *   the tied layers (space.tie[u] >= 0) all use strategies of one key
 *                 (Galvatron's vocab_tp and vocab_sdp: the embedding and
 *                 the head share them). */
typedef struct uniap_space_variant {
    char label[64];           /* the settings, e.g. "tp4 sp zero1 recompute-block" */
    unsigned char *allowed;   /* [u*K+k] */
    int equal_middle;         /* 1: the rule holds */
    int equal_marked;         /* 1: the rule holds */
    int min_counted;          /* every stage holds at least this many counted layers */
    int *stage_lo, *stage_hi; /* [u], or NULL: any stage */
} uniap_space_variant;

/* A runtime's plans of one cost table: the union of its variants (none:
 * nothing the table offers is expressible there). Owned arrays (free with
 * uniap_space_free). */
typedef struct uniap_space {
    char runtime[16];
    int n_layers, n_strategies; /* L and K of the table it was made for */
    unsigned char *counted;     /* [u]: layer u is a transformer block */
    unsigned char *marked;      /* [k]: strategy k recomputes the whole layer */
    int *tie;                   /* [u]: 0 for a tied layer, -1 otherwise */
    int *key;                   /* [k]: what tied layers must share (tp and FSDP or not) */
    int n_variants;
    uniap_space_variant *v;
} uniap_space;

/* The runtimes' names in id order, NULL-terminated ("any", "megatron",
 * ...); the id of a name (EINVAL naming it and the accepted names); the
 * name and one help line of an id ("?" / NULL out of range). */
const char *const *uniap_runtime_names(void);
int uniap_runtime_parse(const char *name, uniap_runtime *out);
const char *uniap_runtime_name(uniap_runtime r);
const char *uniap_runtime_help(uniap_runtime r);
/* 1 when runtime r runs c micro-batches of a global batch of B samples:
 * c divides B, or r splits batches as torch.chunk does (Galvatron, and
 * "any") and uniap_micro_batch_size(B, c) > 0. */
int uniap_runtime_micro_batches_ok(uniap_runtime r, int64_t B, int c);
/* 1 when runtime r runs pipeline schedule s (Megatron-LM: 1F1B only). */
int uniap_runtime_schedule_ok(uniap_runtime r, uniap_schedule s);
/* 0 when r can build model m, else EINVAL naming the model and what r
 * lacks for it (Megatron-LM: blocks of one shape, GeLU or SwiGLU MLPs). */
int uniap_runtime_model_check(uniap_runtime r, const uniap_model *m);
/* Each layer's role (UNIAP_RT_*) and parameter count, role[L] and
 * params[L] for the L = m->n_layers layers of m. */
void uniap_runtime_roles(const uniap_model *m, int *role, double *params);
/* What of the model's training settings the runtimes' rules read
 * (DeepSpeed's bf16 pipeline optimizer, torchtitan's mixed precision):
 * bits of UNIAP_RT_BF16 (bf16 parameters), UNIAP_RT_MIXED (fp32 master
 * weights), UNIAP_RT_WIDE_GRADS (gradients wider than 16-bit
 * parameters), UNIAP_RT_MOE (mixture-of-experts layers: DeepSpeed-MoE
 * runs no ZeRO-3). */
enum { UNIAP_RT_BF16 = 1, UNIAP_RT_MIXED = 2, UNIAP_RT_WIDE_GRADS = 4, UNIAP_RT_MOE = 8 };
unsigned uniap_runtime_model_flags(const uniap_model *m);
/* The space of runtime r on table t searched under schedule sched, whose
 * layers have the given roles, parameter counts and model flags (the
 * runtime "any": one variant of every allowed strategy, no rule; an
 * interleaved schedule may restrict the split, as Megatron-LM's equal
 * chunks): *out is the caller's
 * (uniap_space_free, also after a failure). EINVAL for an unknown
 * runtime; ENOMEM. */
int uniap_runtime_space(uniap_runtime r, const int *role, const double *params, unsigned flags,
                        uniap_schedule sched, const uniap_cost_table *t, uniap_space *out);
void uniap_space_free(uniap_space *s);
/* 1 when the plan (stage_of, strategy_of: indices of t, the table s was
 * made for) is in variant v of s, else 0 with why (when given) saying
 * which rule it breaks. */
int uniap_space_check(const uniap_space *s, int v, const uniap_cost_table *t, const int *stage_of,
                      const int *strategy_of, char *why, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* UNIAP_COSTMODEL_H */
