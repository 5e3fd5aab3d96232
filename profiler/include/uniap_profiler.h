/*
 * uniap_profiler.h - the profiler's interface: run under mpirun or srun, it
 * measures layer kernels, a GEMM sweep and collectives on every rank and
 * writes one HDF5 profile dataset (io's format). The `uniap profile` command (cli/) fills a
 * uniap_profile_options and calls uniap_profile_run.
 */
#ifndef UNIAP_PROFILER_H
#define UNIAP_PROFILER_H

#include <stdint.h>

#include "uniap_io_mpi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest --micro-batches / --tp / --gemm-shapes list. */
#define UNIAP_PROFILE_MAX_LIST 32
/* Largest GEMM dimension of --gemm-shapes. */
#define UNIAP_PROFILE_MAX_GEMM_DIM 65536

typedef enum { UNIAP_PROFILE_BACKEND_CPU = 0, UNIAP_PROFILE_BACKEND_CUDA } uniap_profile_backend;

/* What to measure and where to write it. Strings are borrowed (the caller
 * keeps them alive during uniap_profile_run). */
typedef struct uniap_profile_options {
    const char *model;                    /* zoo name or model spec file (required) */
    const char *out;                      /* output profile (required) */
    const char *resume;                   /* NULL, or an interrupted profile to continue */
    int ranks_per_node;                   /* emulated node size; 0: detected */
    int n_mb, mb[UNIAP_PROFILE_MAX_LIST]; /* micro-batch sizes; 0 entries: 1,2,4 */
    int n_tp, tp[UNIAP_PROFILE_MAX_LIST]; /* tp degrees; 0 entries: divisors of the device count */
    int64_t min_bytes, max_bytes;         /* collective message sizes, doubling */
    int warmup, iters;                    /* collective iterations */
    int layer_warmup, layer_iters;        /* layer passes */
    double time_limit;                    /* seconds; <= 0: none */
    uniap_profile_backend backend;
    int skip_layers, skip_collectives;
    int skip_gemm;                           /* no GEMM sweep (no /gemm table) */
    int n_gemm;                              /* GEMM shapes; 0: the backend's default */
    int64_t gemm[UNIAP_PROFILE_MAX_LIST][3]; /* m, n, k of each, 1..UNIAP_PROFILE_MAX_GEMM_DIM */
    int want_coll[UNIAP_COLL_COUNT];         /* 1: measure this collective */
    const char *command_line;                /* stored in the profile; may be NULL */
} uniap_profile_options;

/* The defaults: 4K..256M bytes, warmup 5, iters 20, layer warmup 1, layer
 * iters 5, cpu backend, every collective, the backend's GEMM shapes, no
 * time limit. */
void uniap_profile_options_init(uniap_profile_options *o);
/* Parses a --gemm-shapes list into o->gemm / o->n_gemm: comma-separated
 * MxNxK (or S for SxSxS), each dimension 1..UNIAP_PROFILE_MAX_GEMM_DIM, at
 * most UNIAP_PROFILE_MAX_LIST shapes, none twice. EINVAL naming the option
 * and the bad shape; o is unchanged then. */
int uniap_profile_parse_gemm_shapes(const char *list, uniap_profile_options *o);

/* 1 when this build has the CUDA backend. */
int uniap_profiler_have_cuda(void);

/* Runs the whole profile. Collective over MPI_COMM_WORLD (MPI initialized
 * by the caller); every rank passes the same options. Checks its inputs
 * and agrees on them across ranks before any measurement; returns a
 * uniap_status, the same on every rank (EINTR when interrupted by
 * SIGTERM/SIGINT). The profile at o->out is written as it is measured: it
 * exists, marked complete = 0, before the first measurement, is rewritten
 * atomically every few seconds, and only the last write marks it complete,
 * so an interrupted, failed or killed run leaves what it measured for
 * --resume (o->resume). */
int uniap_profile_run(const uniap_profile_options *o);

#ifdef __cplusplus
}
#endif
#endif
