/*
 * plan_internal.h - what cmd_plan.c (options, loading, search) shares with
 * plan_emit.c (the plan's table, JSON and exports): private to `uniap plan`.
 */
#ifndef UNIAP_CLI_PLAN_INTERNAL_H
#define UNIAP_CLI_PLAN_INTERNAL_H

#include "inputs.h"
#include "uniap_solver.h"

typedef struct plan_args {
    uniap_inputs_req req; /* --model, --cluster, --profile, --global-batch */
    const char *out, *megatron, *galvatron, *lp_dir, *log_dir;
    int schedule;      /* uniap_schedule, or -1: both */
    int form;          /* uniap_formulation */
    int node_limit;    /* branch-and-bound nodes per branch and cut */
    int runtime;       /* uniap_runtime: the plans searched (--runtime) */
    int compare_any;   /* --compare-any: also search every plan (--runtime any) */
    double time_limit; /* wall-clock seconds per GLPK call, 0: none */
    uniap_restrict_args limits;
    uniap_training_args training; /* --attention, --dropout, ... */
} plan_args;

typedef struct plan_ctx {
    plan_args a;
    int rank, size;
    int to_stdout; /* one output is "-": the table goes to stderr */
    int parsed;    /* the options parsed on every rank */
    int loaded;    /* in holds the inputs */
    uniap_inputs in;
    uniap_costmodel *cm;
    int n, *deg, *cc; /* the cost model's candidates */
    int nc, *dd, *cs; /* with schedules: what was searched */
    uniap_schedule *sch;
    uniap_search_result sr;
    int *role; /* [layers] roles and parameter counts for the runtime's space */
    double *params;
    unsigned model_flags; /* uniap_runtime_model_flags of the model */
    int have_any;         /* sr_any holds the unrestricted search (--compare-any) */
    uniap_search_result sr_any;
} plan_ctx;

/* Rank 0: prints the plan found (marked interrupted, with its gap, when
 * the search was stopped; or says none was found) and, when write, writes
 * every output given: the texts are made first, then all files are
 * written and committed, or none on any error. */
int plan_emit(const plan_ctx *x, int write);

#endif /* UNIAP_CLI_PLAN_INTERNAL_H */
