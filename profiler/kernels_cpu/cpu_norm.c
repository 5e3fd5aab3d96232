/*
 * cpu_norm.c - LayerNorm and RMSNorm over the rows of an activation,
 * forward and backward (the CPU backend's own C; row sums in double).
 */
#include <math.h>

#include "cpu_kernels.h"

#define PROF_NORM_EPS 1e-5

void prof_norm_fwd(uniap_norm kind, const float *x, int64_t T, int64_t h, const float *g,
                   const float *b, float *y, float *mean, float *rstd)
{
    for (int64_t t = 0; t < T; t++) {
        const float *xr = x + t * h;
        float *yr = y + t * h;
        double mu = 0.0, var = 0.0;
        if (kind == UNIAP_NORM_LAYERNORM) {
            for (int64_t j = 0; j < h; j++)
                mu += xr[j];
            mu /= (double)h;
        }
        for (int64_t j = 0; j < h; j++) {
            double d = xr[j] - mu;
            var += d * d;
        }
        var /= (double)h;
        float r = (float)(1.0 / sqrt(var + PROF_NORM_EPS));
        float m = (float)mu;
        mean[t] = m;
        rstd[t] = r;
        if (b) {
            for (int64_t j = 0; j < h; j++)
                yr[j] = (xr[j] - m) * r * g[j] + b[j];
        } else {
            for (int64_t j = 0; j < h; j++)
                yr[j] = (xr[j] - m) * r * g[j];
        }
    }
}

void prof_norm_bwd(uniap_norm kind, const float *x, const float *dy, int64_t T, int64_t h,
                   const float *g, const float *mean, const float *rstd, float *dx, float *dg,
                   float *db)
{
    for (int64_t t = 0; t < T; t++) {
        const float *xr = x + t * h, *dyr = dy + t * h;
        float *dxr = dx + t * h;
        float m = mean[t], r = rstd[t];
        double s1 = 0.0, s2 = 0.0; /* sum dxhat, sum dxhat * xhat */
        for (int64_t j = 0; j < h; j++) {
            float xhat = (xr[j] - m) * r;
            float dxhat = dyr[j] * g[j];
            s1 += dxhat;
            s2 += (double)dxhat * xhat;
            dg[j] += dyr[j] * xhat;
            if (db)
                db[j] += dyr[j];
        }
        float c1 = kind == UNIAP_NORM_LAYERNORM ? (float)(s1 / (double)h) : 0.0f;
        float c2 = (float)(s2 / (double)h);
        for (int64_t j = 0; j < h; j++) {
            float xhat = (xr[j] - m) * r;
            dxr[j] += r * (dyr[j] * g[j] - c1 - xhat * c2);
        }
    }
}
