/*
 * cpu_common.c - the CPU backend's tracked allocator (the activation and
 * peak accounting every layer reports), its random generator, and the
 * linear layer (forward and backward) through OpenBLAS cblas_sgemm.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "cpu_kernels.h"

/* Each block carries its size in a 64-byte header so that prof_free can
 * account for it and the payload stays 64-byte aligned. */
#define PROF_ALLOC_HEADER 64

/* Freed blocks are kept for reuse by a later request of the same size (a
 * layer asks for the same sizes every pass), so timed passes neither map
 * fresh pages nor fault them in: what is timed is the kernels' work. */
#define PROF_CACHE_SLOTS 128
static struct {
    void *base;
    size_t total;
} cache[PROF_CACHE_SLOTS];

static void *cache_take(size_t total)
{
    for (int i = 0; i < PROF_CACHE_SLOTS; i++)
        if (cache[i].base && cache[i].total == total) {
            void *b = cache[i].base;
            cache[i].base = NULL;
            return b;
        }
    return aligned_alloc(64, total);
}

static void cache_put(void *base, size_t total)
{
    for (int i = 0; i < PROF_CACHE_SLOTS; i++)
        if (!cache[i].base) {
            cache[i].base = base;
            cache[i].total = total;
            return;
        }
    free(base);
}

void prof_alloc_cache_clear(void)
{
    for (int i = 0; i < PROF_CACHE_SLOTS; i++) {
        free(cache[i].base);
        cache[i].base = NULL;
    }
}

void *prof_alloc(prof_mem *m, int64_t bytes, int zero)
{
    if (bytes < 0) { /* a size computed wrong: never allocate from it */
        uniap_err_at(__FILE__, __LINE__, UNIAP_EINTERNAL,
                     "internal error: invariant 'bytes >= 0' failed (%lld)", (long long)bytes);
        return NULL;
    }
    size_t total = (size_t)bytes + PROF_ALLOC_HEADER;
    total = (total + 63) & ~(size_t)63;
    unsigned char *base = cache_take(total);
    if (!base)
        return NULL;
    *(int64_t *)base = bytes;
    if (zero)
        memset(base + PROF_ALLOC_HEADER, 0, (size_t)bytes);
    m->live += bytes;
    if (m->live > m->peak)
        m->peak = m->live;
    return base + PROF_ALLOC_HEADER;
}

void prof_free(prof_mem *m, void *p)
{
    if (!p)
        return;
    unsigned char *base = (unsigned char *)p - PROF_ALLOC_HEADER;
    int64_t bytes = *(int64_t *)base;
    size_t total = ((size_t)bytes + PROF_ALLOC_HEADER + 63) & ~(size_t)63;
    m->live -= bytes;
    assert(m->live >= 0);
    cache_put(base, total);
}

void prof_rng_seed(prof_rng *r, uint64_t seed)
{
    r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    if (r->s == 0)
        r->s = 1;
}

float prof_rng_uniform(prof_rng *r, float scale)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    uint64_t v = r->s * 0x2545F4914F6CDD1Dull;
    double u = (double)(v >> 11) / 9007199254740992.0; /* [0, 1) */
    return (float)((2.0 * u - 1.0) * scale);
}

void prof_rng_fill(prof_rng *r, float *x, int64_t n, float scale)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = prof_rng_uniform(r, scale);
}

static prof_gemm_call *trace_buf;
static int trace_cap, *trace_n;

void prof_gemm_trace(prof_gemm_call *buf, int cap, int *n)
{
    trace_buf = buf;
    trace_cap = cap;
    trace_n = n;
    if (n)
        *n = 0;
}

void prof_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc)
{
    if (trace_buf && trace_n) {
        if (*trace_n < trace_cap)
            trace_buf[*trace_n] = (prof_gemm_call){ta, tb, m, n, k};
        (*trace_n)++;
    }
    cblas_sgemm(CblasRowMajor, (enum CBLAS_TRANSPOSE)ta, (enum CBLAS_TRANSPOSE)tb, m, n, k, alpha,
                a, lda, b, ldb, beta, c, ldc);
}

void prof_linear_fwd(const float *x, int64_t T, int64_t in, const float *w, const float *b,
                     int64_t out, float beta, float *y)
{
    prof_sgemm(CblasNoTrans, CblasNoTrans, (int)T, (int)out, (int)in, 1.0f, x, (int)in, w, (int)out,
               beta, y, (int)out);
    if (b) {
        for (int64_t t = 0; t < T; t++) {
            float *row = y + t * out;
            for (int64_t j = 0; j < out; j++)
                row[j] += b[j];
        }
    }
}

static prof_wgrad_clock wgrad_clock;

void prof_wgrad_clock_reset(void)
{
    wgrad_clock = (prof_wgrad_clock){0.0, 0.0};
}

prof_wgrad_clock prof_wgrad_clock_read(void)
{
    return wgrad_clock;
}

static double clock_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void prof_linear_bwd(const float *x, const float *dy, int64_t T, int64_t in, int64_t out,
                     const float *w, float beta_dx, float *dx, float *dw, float *db)
{
    if (dx)
        prof_sgemm(CblasNoTrans, CblasTrans, (int)T, (int)in, (int)out, 1.0f, dy, (int)out, w,
                   (int)out, beta_dx, dx, (int)in);
    double t0 = clock_s(); /* W: the weight and bias gradients */
    prof_sgemm(CblasTrans, CblasNoTrans, (int)in, (int)out, (int)T, 1.0f, x, (int)in, dy, (int)out,
               1.0f, dw, (int)out);
    if (db) {
        for (int64_t t = 0; t < T; t++) {
            const float *row = dy + t * out;
            for (int64_t j = 0; j < out; j++)
                db[j] += row[j];
        }
    }
    wgrad_clock.seconds += clock_s() - t0;
    wgrad_clock.flops += 2.0 * (double)T * (double)in * (double)out;
}
