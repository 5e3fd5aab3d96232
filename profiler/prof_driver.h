/*
 * prof_driver.h - the measurement driver behind `uniap profile` (private
 * to profiler/): options, the sweep of items (layer measurements, then
 * collective measurements), resume, and what each rank reports about
 * itself.
 */
#ifndef UNIAP_PROF_DRIVER_H
#define UNIAP_PROF_DRIVER_H

#include <signal.h>

#include "coll/coll.h"
#include "uniap_io.h"

#define PROF_MAX_LIST 32

typedef struct prof_options {
    const char *model;
    const char *out;
    const char *resume;
    int ranks_per_node; /* 0: detected */
    int n_mb, mb[PROF_MAX_LIST];
    int n_tp, tp[PROF_MAX_LIST]; /* 0 entries: divisors of devices per node */
    int64_t min_bytes, max_bytes;
    int warmup, iters;             /* collectives */
    int layer_warmup, layer_iters; /* layer kernels */
    double time_limit;             /* seconds, <= 0: none */
    prof_backend backend;
    int skip_layers, skip_collectives;
    int want_coll[UNIAP_COLL_COUNT]; /* collectives to measure */
    char *command_line;              /* malloc'd */
} prof_options;

/* One unit of the sweep: a layer shape at (tp, micro-batch) measured on
 * every rank, or a collective item measured on its group. */
typedef struct prof_item {
    int is_layer;
    int run;      /* model run of the layer */
    char sig[96]; /* uniap_layer_signature of the run */
    int tp, mb;
    prof_coll_item coll;
    int64_t coll_bytes; /* bytes the primitive moves (rounded) */
    int done;           /* measured before (--resume) */
} prof_item;

/* Set by the SIGTERM/SIGINT handler; the sweep stops after the item in
 * progress. */
extern volatile sig_atomic_t prof_stop_signal;

/* Agrees on a status over comm: the lowest failing rank's code and message
 * reach every rank (rank 0 prints them). Returns the agreed status. */
int prof_agree(MPI_Comm comm, int rc);

/* Runs the whole profile: options parsed, MPI initialized. Returns a
 * uniap_status (EINTR when interrupted after writing the partial file). */
int prof_run(const prof_options *o);

/* Measures one layer item on this rank (CPU kernels, or CUDA when the
 * backend is cuda) into row. */
int prof_measure_layer(const prof_options *o, const uniap_model *m, const prof_item *it, int rank,
                       uniap_layer_prof *row);

/* This rank's row of the ranks table. */
int prof_rank_info(const prof_topology *t, prof_backend b, uniap_rank_info *ri);
/* A cluster spec of the measured machine (nodes, devices per node, the
 * device and its memory, p2p bandwidth and latency from the rows given). */
int prof_cluster_json(const prof_topology *t, const uniap_rank_info *ri, const uniap_profile *p,
                      char **json);

#endif
