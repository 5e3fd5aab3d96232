/*
 * bench_layers.c - CPU layer kernels against bare OpenBLAS sgemm: for one
 * layer of each kind (model-like widths, shapes a CPU runs in seconds),
 * times forward + backward, records the shapes of every GEMM the layer
 * ran, times exactly those sgemm calls alone on scratch buffers, and
 * prints the layer's achieved GEMM GFLOP/s, sgemm's on the same shapes and
 * their ratio (1.0: the layer loses nothing outside its GEMMs).
 *
 * usage: bench_layers [iters [name-filter]]   (OPENBLAS_NUM_THREADS sets the threads)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "cpu_kernels.h"
#include "cpu_measure.h"

#define MAX_CALLS 65536

static double prof_now_bench(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct bench_case {
    const char *name;
    uniap_layer l;
} bench_case;

static double median_of(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Seconds to run the recorded sgemm calls once (median of iters). */
static double replay(const prof_gemm_call *calls, int n, int iters)
{
    size_t big = 0;
    for (int i = 0; i < n; i++) {
        size_t a = (size_t)calls[i].m * calls[i].k, b = (size_t)calls[i].k * calls[i].n,
               c = (size_t)calls[i].m * calls[i].n;
        big = a > big ? a : big;
        big = b > big ? b : big;
        big = c > big ? c : big;
    }
    float *A = calloc(big, sizeof(float)), *B = calloc(big, sizeof(float)),
          *C = calloc(big, sizeof(float));
    double *t = malloc(sizeof(double) * (size_t)iters);
    for (int it = -1; it < iters; it++) {
        double t0 = prof_now_bench();
        for (int i = 0; i < n; i++) {
            const prof_gemm_call *g = &calls[i];
            int lda = g->ta == CblasTrans ? g->m : g->k, ldb = g->tb == CblasTrans ? g->k : g->n;
            cblas_sgemm(CblasRowMajor, (enum CBLAS_TRANSPOSE)g->ta, (enum CBLAS_TRANSPOSE)g->tb,
                        g->m, g->n, g->k, 1.0f, A, lda, B, ldb, 0.0f, C, g->n);
        }
        if (it >= 0)
            t[it] = prof_now_bench() - t0;
    }
    double m = median_of(t, iters);
    free(A), free(B), free(C), free(t);
    return m;
}

static uniap_layer block(uniap_layer_kind k, int64_t h, int a, int kv, int64_t f, int64_t s)
{
    uniap_layer l;
    memset(&l, 0, sizeof(l));
    l.kind = k, l.count = 1, l.hidden = h, l.heads = a, l.kv_heads = kv, l.ffn = f, l.seq = s;
    l.activation = UNIAP_ACT_GELU, l.norm = UNIAP_NORM_LAYERNORM, l.bias = 1;
    return l;
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 5;
    bench_case cases[8];
    int n = 0;
    cases[n++] =
        (bench_case){"encoder (BERT-like)", block(UNIAP_LAYER_ENCODER, 1024, 16, 16, 4096, 256)};
    uniap_layer d = block(UNIAP_LAYER_DECODER, 1024, 16, 4, 2816, 256);
    d.activation = UNIAP_ACT_SWIGLU, d.norm = UNIAP_NORM_RMSNORM, d.position = UNIAP_POS_ROTARY;
    d.bias = 0;
    cases[n++] = (bench_case){"decoder (Llama-like)", d};
    uniap_layer x = block(UNIAP_LAYER_CROSS_DECODER, 1024, 16, 16, 4096, 128);
    x.kv_seq = 256, x.activation = UNIAP_ACT_RELU, x.norm = UNIAP_NORM_RMSNORM, x.bias = 0;
    cases[n++] = (bench_case){"cross_decoder (T5-like)", x};
    uniap_layer w = block(UNIAP_LAYER_SWIN, 256, 8, 8, 1024, 784);
    w.window = 7, w.position = UNIAP_POS_RELATIVE;
    cases[n++] = (bench_case){"swin (28x28, window 7)", w};
    uniap_layer e = block(UNIAP_LAYER_EMBEDDING, 1024, 0, 0, 0, 256);
    e.vocab = 32000, e.position = UNIAP_POS_LEARNED, e.max_positions = 256;
    cases[n++] = (bench_case){"embedding", e};
    uniap_layer pe = block(UNIAP_LAYER_PATCH_EMBED, 768, 0, 0, 0, 0);
    pe.image = 224, pe.patch = 16, pe.channels = 3, pe.position = UNIAP_POS_LEARNED;
    cases[n++] = (bench_case){"patch_embed (ViT 224/16)", pe};
    uniap_layer pm = block(UNIAP_LAYER_PATCH_MERGE, 256, 0, 0, 0, 784);
    pm.out_hidden = 512;
    cases[n++] = (bench_case){"patch_merge (28x28)", pm};
    uniap_layer hd = block(UNIAP_LAYER_HEAD, 1024, 0, 0, 0, 256);
    hd.vocab = 32000;
    cases[n++] = (bench_case){"head (32000 vocab)", hd};

    prof_gemm_call *calls = malloc(sizeof(*calls) * MAX_CALLS);
    printf("# CPU layer kernels vs bare sgemm on the same GEMM shapes; micro-batch 1, tp 1,\n"
           "# fp32, median of %d fwd+bwd passes; OpenBLAS %s\n",
           iters, openblas_get_config());
    printf("%-26s %9s %9s %9s %10s %10s %6s\n", "layer", "fwd ms", "bwd ms", "GEMM GF",
           "layer GF/s", "sgemm GF/s", "ratio");
    for (int c = 0; c < n; c++) {
        if (argc > 2 && !strstr(cases[c].name, argv[2]))
            continue;
        prof_cpu_layer *L;
        prof_layer_memory mem;
        double *fwd = malloc(sizeof(double) * (size_t)iters),
               *bwd = malloc(sizeof(double) * (size_t)iters);
        if (prof_cpu_layer_create(&cases[c].l, 256, 1, 1, 1, &L) < 0) {
            fprintf(stderr, "%s: %s\n", cases[c].name, uniap_errmsg());
            return 1;
        }
        int ncalls = 0;
        if (prof_cpu_layer_measure(L, 1, iters, fwd, bwd, NULL, &mem) < 0)
            return 1;
        /* one more pass with the trace on: the GEMM shapes and FLOPs of one pass */
        L->gemm_flops_fwd = L->gemm_flops_bwd = 0;
        prof_gemm_trace(calls, MAX_CALLS, &ncalls);
        prof_cpu_layer_zero_grads(L);
        prof_cpu_layer_forward(L);
        prof_cpu_layer_backward(L);
        prof_gemm_trace(NULL, 0, NULL);
        double flops = L->gemm_flops_fwd + L->gemm_flops_bwd;
        double tf = median_of(fwd, iters), tb = median_of(bwd, iters);
        double tg = ncalls > 0 && ncalls <= MAX_CALLS ? replay(calls, ncalls, iters) : 0.0;
        double layer_gfs = flops / (tf + tb) / 1e9, gemm_gfs = tg > 0 ? flops / tg / 1e9 : 0;
        if (flops > 0)
            printf("%-26s %9.2f %9.2f %9.2f %10.1f %10.1f %6.2f\n", cases[c].name, 1e3 * tf,
                   1e3 * tb, flops / 1e9, layer_gfs, gemm_gfs, layer_gfs / gemm_gfs);
        else /* gather/scatter only: no GEMM to compare with */
            printf("%-26s %9.2f %9.2f %9s %10s %10s %6s\n", cases[c].name, 1e3 * tf, 1e3 * tb, "0",
                   "-", "-", "-");
        prof_cpu_layer_destroy(L);
        free(fwd);
        free(bwd);
    }
    free(calls);
    return 0;
}
