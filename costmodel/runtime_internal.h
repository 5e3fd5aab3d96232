/*
 * runtime_internal.h - private to costmodel/runtime*.c: the descriptor of
 * a training runtime. Each runtime is one file (runtime_<name>.c) stating
 * the global settings it enumerates for a table (its variants), which
 * strategies a layer may use under a setting beyond the rules every
 * runtime shares (runtime.c), its schedules and the models it can build;
 * runtime.c lists them and turns a descriptor into a uniap_space.
 */
#ifndef UNIAP_RUNTIME_INTERNAL_H
#define UNIAP_RUNTIME_INTERNAL_H

#include "cm_internal.h"

/* What transformer blocks may use under a setting (other layers: no
 * recomputation, except CM_RT_CKPT_ANY). */
enum {
    CM_RT_CKPT_ANY = 0,   /* anything, every layer (the runtime "any") */
    CM_RT_CKPT_NONE,      /* no recomputation */
    CM_RT_CKPT_PER_LAYER, /* none or full, chosen per block */
    CM_RT_CKPT_FULL,      /* full on every block */
    CM_RT_CKPT_SELECTIVE, /* selective on every block */
    CM_RT_CKPT_BLOCK,     /* none or full, the same number of full blocks on every stage,
                           * first on it (Megatron-LM's --recompute-method block) */
};

/* How the stages may split the layers. */
enum {
    CM_RT_SPLIT_ANY = 0,      /* any contiguous split */
    CM_RT_SPLIT_MIDDLE_EQUAL, /* blocks of stages 1..deg-2 equally many */
    CM_RT_SPLIT_UNIFORM,      /* DeepSpeed partition_method "uniform" (layer counts) */
    CM_RT_SPLIT_PARAMS,       /* DeepSpeed "parameters" (balanced parameter counts) */
    CM_RT_SPLIT_TYPE,         /* DeepSpeed "type:<block>" (balanced block counts) */
    CM_RT_SPLIT_EQUAL,        /* the same blocks on every stage, a multiple of chunks; the
                               * layers before the first block on stage 0, those after the
                               * last on the last (Megatron-LM interleaving) */
};

/* One combination of a runtime's global settings. */
typedef struct cm_rt_setting {
    int tp;            /* every layer's tp; 0: each layer its own */
    int sp;            /* every layer with tp > 1 has sp == this; -1: each its own */
    unsigned flavours; /* DP flavours a layer with dp > 1 may use: bit (1 << flavour) */
    int ckpt;          /* CM_RT_CKPT_* */
    int split;         /* CM_RT_SPLIT_* */
    int chunks;        /* model chunks per stage (interleaving): with CM_RT_SPLIT_EQUAL, each
                        * stage's blocks a multiple of it; 0 or 1: none */
    int cp;            /* every layer's context-parallel degree; 0: cp 1 for a runtime
                        * (a setting with ckpt CM_RT_CKPT_ANY: each layer its own);
                        * CM_RT_CP_PER_LAYER: each layer its own degree and variant */
    int cp_a2a;        /* with cp > 1: every layer's variant (0 ring, 1 Ulysses) */
    int ep;            /* > 1: the moe layers' one expert-parallel degree (a layer the
                        * table offers a strategy of this ep runs it, every other layer
                        * ep 1: runtime.c add_variant); 0 or 1: ep 1 everywhere */
} cm_rt_setting;

/* What a cost table offers, for a descriptor's enumeration. */
typedef struct cm_rt_offer {
    int deg, n;         /* stages, devices per stage */
    int n_tp, tp[32];   /* the distinct tp of the table's strategies, ascending */
    int has_sp;         /* some strategy has sequence parallelism */
    int n_cp, cp[32];   /* the distinct context-parallel degrees, ascending */
    int has_a2a;        /* some strategy has Ulysses context parallelism */
    int n_ep, ep[32];   /* the distinct expert-parallel degrees, ascending */
    unsigned ckpt;      /* UNIAP_CKPT_BIT of the recomputation values offered */
    unsigned model;     /* the model's UNIAP_RT_BF16, _MIXED, _WIDE_GRADS, _MOE */
    int virtual_stages; /* the candidate's schedule's model chunks per stage (1: none) */
} cm_rt_offer;

#define CM_RT_MAX_SETTINGS 2048
#define CM_RT_CP_PER_LAYER                                                                         \
    (-1) /* cm_rt_setting.cp: per-layer cp (Galvatron's cp_sizes_enc, use_sp) */
#define CM_FLAVOUR_BIT(f) (1u << (f))

typedef struct cm_runtime {
    const char *name; /* "megatron": the --runtime value */
    const char *help; /* one line for --help */
    /* The settings of a table offering o, up to max into out; returns the
     * count. */
    int (*settings)(const cm_rt_offer *o, cm_rt_setting *out, int max);
    /* 1 when a layer of role r (UNIAP_RT_*) may use s under setting v,
     * beyond the shared rules of runtime.c; NULL: no further rule. */
    int (*layer_ok)(const cm_rt_setting *v, int role, const uniap_strategy *s);
    int tie_edges; /* 1: the edge layers (first and last roles) share tp, FSDP-or-not and the
                    * cp degree and variant */
    int uneven_micro_batches; /* 1: runs a micro-batch count that does not divide the global
                               * batch, split as torch.chunk does (Galvatron's chunks);
                               * 0: global batch = micro-batches x micro-batch size */
    int min_counted;          /* with pp > 1, every stage holds this many blocks at least */
    /* 1 when the runtime runs schedule d; NULL: every schedule. */
    int (*schedule_ok)(const uniap_schedule_desc *d);
    /* 0, or EINVAL naming what the runtime cannot build of m; NULL: any. */
    int (*model_check)(const uniap_model *m);
    /* The split a setting fixes (CM_RT_SPLIT_UNIFORM, _PARAMS, _TYPE):
     * stage_of[L] of L layers of roles role[] and parameter counts
     * params[] on D stages; returns 1 when filled, 0 when the setting
     * fixes no split or its split leaves a stage empty (uniap's stages
     * are never empty). NULL: no setting fixes one. */
    int (*stages)(const cm_rt_setting *v, int L, int D, const int *role, const double *params,
                  int *stage_of);
} cm_runtime;

extern const cm_runtime uniap__rt_any, uniap__rt_megatron, uniap__rt_deepspeed,
    uniap__rt_torchtitan, uniap__rt_galvatron;

/* The data-parallel degree of tp on a stage of o (a runtime enumerates
 * its DP flavour only when it is above 1: with dp 1 every flavour is
 * DDP). */
static inline int uniap__rt_dp_of(const cm_rt_offer *o, int tp)
{
    return tp > 0 ? o->n / tp : o->n;
}

#endif /* UNIAP_RUNTIME_INTERNAL_H */
