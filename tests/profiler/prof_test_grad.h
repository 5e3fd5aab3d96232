/*
 * prof_test_grad.h - the finite-difference check the profiler's kernel
 * tests share: a layer's analytic gradient of L = sum out * dout along
 * random directions against central differences of its forward.
 */
#ifndef PROF_TEST_GRAD_H
#define PROF_TEST_GRAD_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu_kernels.h"

static double loss_of(prof_cpu_layer *L)
{
    if (prof_cpu_layer_forward(L) < 0)
        return NAN;
    double s = 0.0;
    for (int64_t i = 0; i < L->n_out; i++)
        s += (double)L->out[i] * (double)L->dout[i];
    prof_cpu_layer_backward(L); /* releases what forward kept */
    return s;
}

static void check_tensor(const char *layer, prof_cpu_layer *L, prof_tensor *t, const float *grad,
                         prof_rng *rng)
{
    float *v = malloc(sizeof(float) * (size_t)t->n);
    float *orig = malloc(sizeof(float) * (size_t)t->n);
    memcpy(orig, t->data, sizeof(float) * (size_t)t->n);
    for (int rep = 0; rep < 2; rep++) {
        double scale = 0.0, analytic = 0.0;
        prof_rng_fill(rng, v, t->n, 1.0f);
        for (int64_t i = 0; i < t->n; i++)
            scale += fabs(orig[i]) / (double)t->n;
        double eps = 1e-3 * (scale > 0.1 ? scale : 0.1) * 8.0;
        for (int64_t i = 0; i < t->n; i++)
            analytic += (double)grad[i] * v[i];
        for (int64_t i = 0; i < t->n; i++)
            t->data[i] = (float)(orig[i] + eps * v[i]);
        double lp = loss_of(L);
        for (int64_t i = 0; i < t->n; i++)
            t->data[i] = (float)(orig[i] - eps * v[i]);
        double lm = loss_of(L);
        memcpy(t->data, orig, sizeof(float) * (size_t)t->n);
        double fd = (lp - lm) / (2.0 * eps);
        double err = fabs(fd - analytic) / fmax(fmax(fabs(fd), fabs(analytic)), 1e-2);
        if (err > 1e-2)
            fprintf(stderr, "%s: %s: analytic %.6g, finite difference %.6g (rel err %.2g)\n", layer,
                    t->name, analytic, fd, err);
        CHECK_NEAR(analytic, fd, 1e-2, 1e-3);
    }
    free(v);
    free(orig);
}

#endif
