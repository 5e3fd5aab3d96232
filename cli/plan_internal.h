/*
 * plan_internal.h - what cmd_plan.c (options, loading, search) shares with
 * plan_emit.c (the plan's table, JSON and exports): private to `uniap plan`.
 */
#ifndef UNIAP_CLI_PLAN_INTERNAL_H
#define UNIAP_CLI_PLAN_INTERNAL_H

#include "inputs.h"
#include "plan_exports.h"
#include "uniap_solver.h"

typedef struct plan_args {
    uniap_inputs_req req; /* --model, --cluster, --profile, --global-batch */
    const char *out, *megatron, *galvatron, *lp_dir, *log_dir;
    const char *from;     /* --from plan.json: the search it records, rerun */
    int quiet;            /* --quiet: no progress or notes on stderr */
    int format;           /* --format: 0 text, 1 json (the plan JSON on stdout) */
    const char *schedule; /* --schedule as given: names, "both" or "all" */
    uniap_schedule sched[UNIAP_INPUTS_SCHED_MAX]; /* the schedules it names */
    int n_sched;
    int form;          /* uniap_formulation */
    int node_limit;    /* branch-and-bound nodes per branch and cut */
    int runtime;       /* uniap_runtime: the plans searched (--runtime) */
    int compare_any;   /* --compare-any: also search every plan (--runtime any) */
    double time_limit; /* wall-clock seconds per GLPK call, 0: none */
    /* --micro-batches: the counts searched (none: every divisor of B) */
    int mb_counts[UNIAP_MAX_MB_COUNTS], n_mb_counts;
    uniap_restrict_args limits;
    uniap_training_args training; /* --attention, --dropout, ... */
    uniap_exports_args ex;        /* --deepspeed-*, --torchtitan-toml, --galvatron-args */
} plan_args;

typedef struct plan_ctx {
    plan_args a;
    int rank, size;
    int to_stdout;   /* one output is "-": the table goes to stderr */
    int json_stdout; /* --format json: the plan JSON on stdout */
    int parsed;      /* the options parsed on every rank */
    int loaded;      /* in holds the inputs */
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
    char *search_json;    /* the options searched with (uniap_opts_record), for the plan */
    uniap_plan from_plan; /* --from: the plan file read (its search record) */
    void *replayed;       /* --from: the strings the replayed options point into */
    int profile_replayed; /* --from gave --profile: its checksum must be the plan's */
} plan_ctx;

/* Rank 0: prints the plan found (marked interrupted, with its gap, when
 * the search was stopped; or says none was found) and, when write, writes
 * every output given: the texts are made first, then all files are
 * written and committed, or none on any error. */
int plan_emit(const plan_ctx *x, int write);

#endif /* UNIAP_CLI_PLAN_INTERNAL_H */
