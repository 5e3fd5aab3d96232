/*
 * fid.h - what the fidelity comparisons share (benchmarks/fidelity/): the
 * statistics of predictions against measurements (fid_stats.c, the one
 * copy of each formula), the series a comparison fills (one per source and
 * quantity), and each comparison's entry point. A comparison reads its
 * dataset, evaluates uniap on every measured point, appends the points to
 * a report and, when given a stream, prints its detailed view there; the
 * driver (fidelity.c, `bench_fidelity`) runs them all and prints one table.
 * Every entry point returns 0 or a negative uniap_status recorded with
 * uniap_err naming the file and field of bad or missing input.
 */
#ifndef UNIAP_BENCH_FID_H
#define UNIAP_BENCH_FID_H

#include <stdio.h>

#include "uniap_io.h"

/* ---- statistics of pred[i] against meas[i] (fid_stats.c) ---- */

typedef struct fid_stats {
    int n;
    double mean_abs;    /* mean |pred / meas - 1| */
    double median_abs;  /* median |pred / meas - 1| */
    double max_abs;     /* largest |pred / meas - 1| */
    double signed_mean; /* mean (pred / meas - 1): > 0 predicts too slow / too much */
    double spearman;    /* rank correlation (ties averaged); NAN when n < 2 */
    double kendall;     /* tau-b; NAN when n < 2 or every value ties */
    double regret;      /* meas[argmin pred] / min meas - 1; NAN unless configs */
} fid_stats;

/* The statistics of n >= 1 pairs (meas[i] > 0); configs: the points are
 * configurations of one setup, so the predicted best has a regret. EINVAL
 * when n < 1 or a measurement is not > 0. */
int fid_stats_compute(const double *pred, const double *meas, int n, int configs, fid_stats *out);
/* Median of v[0..n) (sorts v in place); NAN when n < 1. */
double fid_median(double *v, int n);
/* Prints " median / mean / signed |" of st in % (a detailed view's cell). */
void fid_print_cell(FILE *f, const fid_stats *st);

/* ---- series and reports ---- */

#define FID_MAX_SERIES 32

typedef struct fid_series {
    char source[64];   /* "AMP, imported profile" */
    char quantity[24]; /* "TPI", "stage memory", "layer fwd+bwd" */
    int configs;       /* 1: configurations of one setup (top-1 regret) */
    int n, cap;
    double *pred, *meas;
    int *gpus; /* per point: the GPUs of the measured run (0: not an iteration) */
} fid_series;

typedef struct fid_report {
    fid_series s[FID_MAX_SERIES];
    int n;
    char notes[2048]; /* lines the summary prints under its table */
} fid_report;

/* A new empty series in r (owned by r), or NULL after recording ENOMEM
 * when r is full. */
fid_series *fid_series_new(fid_report *r, const char *source, const char *quantity, int configs);
/* Appends one point; ENOMEM recorded on failure. */
int fid_series_add(fid_series *s, double pred, double meas, int gpus);
void fid_report_free(fid_report *r);
/* Appends one line to r->notes (cut when full). */
void fid_note(fid_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the comparisons; detail: the detailed view's stream, or NULL ---- */

/* AMP's measured trials (amp_trials.c): amp_dir the converted AMP dataset,
 * specs_dir the model and cluster specs (specs/). */
int fid_amp(const char *amp_dir, const char *specs_dir, FILE *detail, fid_report *r);
/* Mist's tuned plans on L4 (mist_memory.c): root the tuned_configs/l4-24gb
 * folder, kernels the node_database/cache_NVIDIA_L4 folder. */
int fid_mist(const char *root, const char *kernels, FILE *detail, fid_report *r);
/* Sailor's per-layer times (sailor_layers.c): dir the Sailor dataset. */
int fid_sailor(const char *dir, FILE *detail, fid_report *r);
/* Megatron-LM's published A100 runs (megatron_runs.c): table the JSON
 * transcription of the paper's Table 1 (megatron_sc21_table1.json). */
int fid_megatron(const char *table, FILE *detail, fid_report *r);

/* The L4's achievable fractions from Mist's kernel measurements
 * (mist_kernels.c), for the cluster with datasheet peak_flops and sm_count
 * of c (the wave quantization of each shape is the cost model's): gemm
 * the median over the linear-layer GEMM entries, flash_fwd/bwd the
 * median over the flash-attention entries; n_* the entries read.
 * EIO/EFORMAT naming the file when one is missing or unreadable. */
typedef struct fid_l4_facts {
    double gemm, flash_fwd, flash_bwd;
    double gemm_raw;      /* median fraction of peak before the wave quantization */
    double bmm_raw;       /* median fraction of peak of the eager attention's
                           * bmm/baddbmm entries (forward and backward) */
    double bmm_mem_share; /* median over their forwards: the score tensor's bytes at
                           * mem_bandwidth over the measured seconds */
    int n_gemm, n_flash, n_bmm;
} fid_l4_facts;
int fid_l4_kernel_facts(const char *dir, const uniap_cluster *c, fid_l4_facts *out);

#endif /* UNIAP_BENCH_FID_H */
