/*
 * test_prof_cuda.c - the CUDA layers against the CPU layers on the small
 * shapes of every kind: the same shard and values (the CUDA layer is built
 * from the CPU one), forward output and input gradient compared in
 * relative L2 norm within bf16's precision (3e-2); the weight-gradient
 * time W inside the backward. Skipped (77) with the reason when no GPU can
 * be used.
 */
#include <stdlib.h>

#include "check.h"
#include "cpu_kernels.h"
#include "cuda_layers.h"
#include "prof_test_layers.h"

static double rel_l2(const float *a, const float *b, int64_t n)
{
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / (den > 1e-30 ? den : 1e-30));
}

int main(void)
{
    char why[128];
    if (!prof_cuda_available(why, sizeof(why))) {
        printf("SKIP: %s\n", why);
        return 77;
    }
    CHECK_EQ(prof_cuda_select_device(0), 0);
    test_layer tl[32];
    int n = test_layers(tl);
    for (int c = 0; c < n; c++) {
        prof_cpu_layer *L;
        prof_cuda_layer *G;
        CHECK_EQ(prof_cpu_layer_create(&tl[c].l, 0, tl[c].tp, tl[c].batch, 300 + c, &L), 0);
        int rc = prof_cuda_layer_create(L, &G);
        if (tl[c].l.kind == UNIAP_LAYER_MOE) { /* no CUDA kernel yet: a clear refusal */
            CHECK_EQ(rc, UNIAP_EINVAL);
            CHECK(strstr(uniap_errmsg(), "(moe) has no CUDA kernel") != NULL);
            prof_cpu_layer_destroy(L);
            continue;
        }
        CHECK_EQ(rc, 0);
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", tl[c].name, uniap_errmsg());
            prof_cpu_layer_destroy(L);
            continue;
        }
        int64_t nx = L->n_inputs ? L->inputs[0].n : 0;
        float *out = calloc((size_t)L->n_out + 1, sizeof(float));
        float *dx = calloc((size_t)nx + 1, sizeof(float));
        CHECK_EQ(prof_cuda_layer_run(G, out, dx), 0);
        prof_cpu_layer_zero_grads(L);
        CHECK_EQ(prof_cpu_layer_forward(L), 0);
        double eo = rel_l2(out, L->out, L->n_out);
        CHECK_EQ(prof_cpu_layer_backward(L), 0);
        double ed =
            nx && L->spec.kind != UNIAP_LAYER_PATCH_EMBED ? rel_l2(dx, L->inputs[0].grad, nx) : 0.0;
        fprintf(stderr, "%s: output rel err %.2g, input gradient rel err %.2g\n", tl[c].name, eo,
                ed);
        CHECK(eo < 3e-2);
        CHECK(ed < 3e-2);
        free(out);
        free(dx);
        prof_cuda_layer_destroy(G);
        prof_cpu_layer_destroy(L);
        /* W timed apart: a part of each pass's backward, and more than
         * nothing where the kind has Linear layers (all but the embedding,
         * whose table gradient is a scatter, not a GEMM) */
        double fwd[2], bwd[2], wgrad[2] = {-1, -1};
        prof_layer_memory mem;
        CHECK_EQ(prof_cuda_layer_measure(&tl[c].l, 0, tl[c].tp, tl[c].batch, 300 + c, 1, 2, fwd,
                                         bwd, wgrad, &mem),
                 0);
        for (int i = 0; i < 2; i++) {
            CHECK(wgrad[i] >= 0 && wgrad[i] <= bwd[i]);
            CHECK(tl[c].l.kind == UNIAP_LAYER_EMBEDDING || wgrad[i] > 0);
        }
    }
    return check_report();
}
