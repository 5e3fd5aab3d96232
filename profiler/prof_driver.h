/*
 * prof_driver.h - the measurement driver behind `uniap profile` (private
 * to profiler/): options, the sweep of items (layer measurements, the GEMM
 * sweep, then collective measurements), resume, and what each rank
 * reports about itself.
 */
#ifndef UNIAP_PROF_DRIVER_H
#define UNIAP_PROF_DRIVER_H

#include <signal.h>

#include "coll/coll.h"
#include "uniap_io_mpi.h"

#define PROF_MAX_LIST 32

/* One GEMM shape of the sweep: row-major C[m x n] = A[m x k] B[k x n]. */
typedef struct prof_gemm_shape {
    int64_t m, n, k;
} prof_gemm_shape;

typedef struct prof_options {
    const char *model;
    const char *out;
    const char *resume;
    int ranks_per_node; /* 0: detected */
    int n_mb, mb[PROF_MAX_LIST];
    int n_tp, tp[PROF_MAX_LIST]; /* 0 entries: divisors of the device count (nodes x per node) */
    int64_t min_bytes, max_bytes;
    int warmup, iters;             /* collectives */
    int layer_warmup, layer_iters; /* layer kernels */
    double time_limit;             /* seconds, <= 0: none */
    prof_backend backend;
    int skip_layers, skip_collectives, skip_gemm;
    int n_gemm; /* 0: the backend's default shapes (prof_gemm.c) */
    prof_gemm_shape gemm[PROF_MAX_LIST];
    int want_coll[UNIAP_COLL_COUNT]; /* collectives to measure */
    char *command_line;              /* malloc'd */
} prof_options;

typedef enum { PROF_ITEM_COLL = 0, PROF_ITEM_LAYER, PROF_ITEM_GEMM } prof_item_kind;

/* One unit of the sweep: a layer shape at (tp, micro-batch) or a GEMM
 * shape, measured on every rank, or a collective item measured on its
 * group. */
typedef struct prof_item {
    prof_item_kind kind;
    int run;      /* model run of the layer */
    char sig[96]; /* uniap_layer_signature of the run */
    int tp, mb;
    prof_gemm_shape gemm;   /* GEMM items */
    uniap_dtype gemm_dtype; /* GEMM items: the run's compute dtype */
    prof_coll_item coll;
    int64_t coll_bytes; /* bytes the primitive moves (rounded) */
    int done;           /* measured before (--resume) */
} prof_item;

/* Set by the SIGTERM/SIGINT handler; the sweep stops after the item in
 * progress. */
extern volatile sig_atomic_t prof_stop_signal;

/* Agrees on a status over comm (uniap_mpi_agree: the lowest failing rank's
 * code and message reach every rank, rank 0 prints them), after waiting for
 * every rank by sleeping between polls (prof_allreduce_lazy), not spinning.
 * Returns the agreed status. */
int prof_agree(MPI_Comm comm, int rc);

/* A layer row on its way to rank 0 (have 0: this rank has none). */
typedef struct prof_layer_msg {
    int have;
    uniap_layer_prof row;
} prof_layer_msg;

/* A GEMM row on its way to rank 0 (have 0: this rank has none). */
typedef struct prof_gemm_msg {
    int have;
    uniap_gemm_prof row;
} prof_gemm_msg;

/* The profile being written while the sweep runs (prof_output.c): rank 0
 * holds every rank's rows and root attributes in p and rewrites path as a
 * whole, atomically, every few seconds; the other ranks hold nothing. */
typedef struct prof_output {
    uniap_profile p; /* rank 0: the dataset so far; others: empty */
    const char *path;
    const prof_topology *topo;
    prof_layer_msg *gather;     /* rank 0: one per rank */
    prof_gemm_msg *gather_gemm; /* rank 0: one per rank */
    double last_flush, write_s;
    int dirty;       /* rows since the last snapshot */
    int n_snapshots; /* written so far */
} prof_output;

/* Collective: gathers every rank's row of the ranks table to rank 0. The
 * caller then sets rank 0's root attributes in o->p (world_size,
 * provenance, model_json, command_line) and calls _start. path is borrowed
 * for o's lifetime. Free with prof_output_free (also after a failure). */
int prof_output_open(prof_output *o, MPI_Comm world, const prof_topology *t, const char *path,
                     const uniap_rank_info *mine);
/* Collective: the first snapshot (complete = 0, the rows carried over by
 * --resume, if any), before any measurement. */
int prof_output_start(prof_output *o, MPI_Comm world);
/* Collective: every rank's row of a layer item (have 0: none) to rank 0. */
int prof_output_layer(prof_output *o, MPI_Comm world, const uniap_layer_prof *row, int have);
/* Collective: every rank's row of a GEMM item (have 0: none) to rank 0. */
int prof_output_gemm(prof_output *o, MPI_Comm world, const uniap_gemm_prof *row, int have);
/* The row of a collective item from the group's first member, leader (the
 * only rank whose have may be 1), to rank 0. Called by every rank; only
 * the leader and rank 0 communicate. */
int prof_output_coll(prof_output *o, MPI_Comm world, int leader, const uniap_coll_prof *row,
                     int have);
/* Rank 0: writes a snapshot when one is due (see prof_output.c). */
int prof_output_maybe_flush(prof_output *o);
/* Collective: the last snapshot, marked complete or not; agreed. */
int prof_output_finish(prof_output *o, MPI_Comm world, int complete);
void prof_output_free(prof_output *o);
/* Rank 0, for --resume: marks the items the profile o->resume holds as
 * done and carries its layer, GEMM and collective rows into p. Refuses a
 * profile of another model or world size. */
int prof_resume_from(const prof_options *o, const prof_coll_ctx *ctx, const char *model_json,
                     int world, prof_item *items, int n_items, uniap_profile *p);

/* Runs the whole profile: options parsed, MPI initialized. Returns a
 * uniap_status (EINTR when interrupted after writing the partial file). */
int prof_run(const prof_options *o);

/* Measures one layer item on this rank (CPU kernels, or CUDA when the
 * backend is cuda) into row. */
int prof_measure_layer(const prof_options *o, const uniap_model *m, const prof_item *it, int rank,
                       uniap_layer_prof *row);

/* The GEMM sweep (prof_gemm.c). Fills o->gemm with the backend's default
 * shapes when none were given (CPU: small ones, a fraction of a second;
 * CUDA: 512 to 8192 and transformer shapes). */
void prof_gemm_default_shapes(prof_options *o);
/* The dtype GEMM items of model m run in on o's backend: fp32 on the CPU
 * (the CPU kernels compute in fp32), the activation dtype on CUDA. */
uniap_dtype prof_gemm_dtype(const prof_options *o, const uniap_model *m);
/* "gemm MxNxK dtype" */
void prof_gemm_label(const prof_item *it, char *buf, size_t n);
/* Measures one GEMM item on this rank into row (warm-up, then median of
 * the timed passes; o->layer_warmup and o->layer_iters). */
int prof_measure_gemm(const prof_options *o, const prof_item *it, int rank, uniap_gemm_prof *row);

/* This rank's row of the ranks table. */
int prof_rank_info(const prof_topology *t, prof_backend b, uniap_rank_info *ri);
/* A cluster spec of the measured machine (nodes, devices per node, the
 * device and its memory, p2p bandwidth and latency from the rows given). */
int prof_cluster_json(const prof_topology *t, const uniap_rank_info *ri, const uniap_profile *p,
                      char **json);

#endif
