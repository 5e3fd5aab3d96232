/*
 * estimate_internal.h - what cmd_estimate.c (options, loading, the
 * evaluation) shares with estimate_report.c (the report, the plan file,
 * the pictures, --dump-costs): private to `uniap estimate`.
 */
#ifndef UNIAP_CLI_ESTIMATE_INTERNAL_H
#define UNIAP_CLI_ESTIMATE_INTERNAL_H

#include <stdio.h>

#include "inputs.h"
#include "plan_exports.h"

#define GIB ((double)((int64_t)1 << 30))

typedef struct est_args {
    uniap_inputs_req req; /* --model, --cluster, --profile, --global-batch */
    const char *plan, *dump, *layers_per_stage, *megatron, *svg, *html, *out;
    int dp, cp, ep, tp, pp, c, flavour, sp, ckpt, strided, ulysses, schedule, format;
    int vpp; /* --vpp: model chunks per stage (interleaved<vpp>); 0: not given */
    uniap_restrict_args limits;
    uniap_training_args training; /* --attention, --dropout, ... */
    uniap_from_args from;         /* --from-deepspeed, --from-torchtitan, --from-galvatron */
} est_args;

/* State of one estimate. */
typedef struct est_ctx {
    est_args a;
    int rank, argc;
    char **argv;
    FILE *rep; /* the report: stdout, or stderr when --dump-costs - */
    uniap_inputs in;
    int loaded;
    uniap_plan plan;
    uniap_costmodel *cm;
    uniap_cost_table t;
    uniap_plan_eval ev;
    int *idx, *cdeg, *cc, ncand;
    uniap_stage_breakdown *sb;
    void *replayed; /* the plan's recorded settings the options point into */
} est_ctx;

/* Rank 0: the report of x's evaluated plan on x->rep (plan, TPI, every
 * stage's time and memory by term, the verdict). */
void uniap__est_print(const est_ctx *x);
/* --out: the evaluated plan as a plan JSON (atomic); 0 or the error. */
int uniap__est_write_plan(est_ctx *x);
/* --svg / --html: the pictures (plan_svg.h), all or none; 0 or the error. */
int uniap__est_write_pictures(const est_ctx *x);
/* --dump-costs: the tables of the n candidates (deg[i], c[i]) as JSON. */
int uniap__est_dump_costs(const est_ctx *x, const int *deg, const int *c, int n);

#endif /* UNIAP_CLI_ESTIMATE_INTERNAL_H */
