/*
 * cpu_attention.c - scaled dot-product attention (multi-head, grouped-query,
 * causal or not, optional additive bias as Swin's relative position bias)
 * forward and backward with cblas_sgemm per (sample, head), and rotary
 * position embedding. The probabilities are kept for backward (the
 * 5 a s^2 b term of Korthikanti et al.'s activation count).
 */
#include <math.h>
#include <stdlib.h>

#include <cblas.h>

#include "cpu_kernels.h"

/* Row-wise softmax of the scores in place; with causal masking, row i of
 * sq attends to columns j <= i + (skv - sq). */
static void softmax_rows(float *p, int64_t sq, int64_t skv, int causal)
{
    for (int64_t i = 0; i < sq; i++) {
        float *row = p + i * skv;
        int64_t lim = causal ? i + (skv - sq) + 1 : skv;
        if (lim > skv)
            lim = skv;
        if (lim < 1)
            lim = 1;
        float mx = row[0];
        for (int64_t j = 1; j < lim; j++)
            mx = row[j] > mx ? row[j] : mx;
        float sum = 0.0f;
        for (int64_t j = 0; j < lim; j++) {
            row[j] = expf(row[j] - mx);
            sum += row[j];
        }
        float inv = 1.0f / sum;
        for (int64_t j = 0; j < lim; j++)
            row[j] *= inv;
        for (int64_t j = lim; j < skv; j++)
            row[j] = 0.0f;
    }
}

void prof_attn_fwd(const prof_attn_shape *s, const float *q, int64_t ldq, const float *k,
                   const float *v, int64_t ldkv, const float *bias, float *p, float *o)
{
    int group = s->heads / s->kv_heads;
    int64_t ldo = (int64_t)s->heads * s->hd;
    float scale = (float)(1.0 / sqrt((double)s->hd));
    for (int64_t bb = 0; bb < s->batch; bb++) {
        for (int h = 0; h < s->heads; h++) {
            int g = h / group;
            const float *qp = q + bb * s->sq * ldq + h * s->hd;
            const float *kp = k + bb * s->skv * ldkv + g * s->hd;
            const float *vp = v + bb * s->skv * ldkv + g * s->hd;
            float *pp = p + (bb * s->heads + h) * s->sq * s->skv;
            float *op = o + bb * s->sq * ldo + h * s->hd;
            prof_sgemm(CblasNoTrans, CblasTrans, (int)s->sq, (int)s->skv, (int)s->hd, scale, qp,
                       (int)ldq, kp, (int)ldkv, 0.0f, pp, (int)s->skv);
            if (bias) {
                const float *bp = bias + (int64_t)h * s->sq * s->skv;
                for (int64_t i = 0; i < s->sq * s->skv; i++)
                    pp[i] += bp[i];
            }
            softmax_rows(pp, s->sq, s->skv, s->causal);
            prof_sgemm(CblasNoTrans, CblasNoTrans, (int)s->sq, (int)s->hd, (int)s->skv, 1.0f, pp,
                       (int)s->skv, vp, (int)ldkv, 0.0f, op, (int)ldo);
        }
    }
}

void prof_attn_bwd(const prof_attn_shape *s, const float *q, int64_t ldq, const float *k,
                   const float *v, int64_t ldkv, const float *p, const float *dout, float *dq,
                   float *dk, float *dv, float *dbias, float *scratch)
{
    int group = s->heads / s->kv_heads;
    int64_t ldo = (int64_t)s->heads * s->hd;
    float scale = (float)(1.0 / sqrt((double)s->hd));
    for (int64_t bb = 0; bb < s->batch; bb++) {
        for (int h = 0; h < s->heads; h++) {
            int g = h / group;
            const float *qp = q + bb * s->sq * ldq + h * s->hd;
            const float *kp = k + bb * s->skv * ldkv + g * s->hd;
            const float *vp = v + bb * s->skv * ldkv + g * s->hd;
            const float *pp = p + (bb * s->heads + h) * s->sq * s->skv;
            const float *dop = dout + bb * s->sq * ldo + h * s->hd;
            float *dqp = dq + bb * s->sq * ldq + h * s->hd;
            float *dkp = dk + bb * s->skv * ldkv + g * s->hd;
            float *dvp = dv + bb * s->skv * ldkv + g * s->hd;
            float *ds = scratch;
            /* dP = dO V^T; dV += P^T dO */
            prof_sgemm(CblasNoTrans, CblasTrans, (int)s->sq, (int)s->skv, (int)s->hd, 1.0f, dop,
                       (int)ldo, vp, (int)ldkv, 0.0f, ds, (int)s->skv);
            prof_sgemm(CblasTrans, CblasNoTrans, (int)s->skv, (int)s->hd, (int)s->sq, 1.0f, pp,
                       (int)s->skv, dop, (int)ldo, 1.0f, dvp, (int)ldkv);
            /* dS = P * (dP - rowsum(P * dP)) */
            for (int64_t i = 0; i < s->sq; i++) {
                const float *pr = pp + i * s->skv;
                float *dr = ds + i * s->skv;
                float dot = 0.0f;
                for (int64_t j = 0; j < s->skv; j++)
                    dot += pr[j] * dr[j];
                for (int64_t j = 0; j < s->skv; j++)
                    dr[j] = pr[j] * (dr[j] - dot);
            }
            if (dbias) {
                float *db = dbias + (int64_t)h * s->sq * s->skv;
                for (int64_t i = 0; i < s->sq * s->skv; i++)
                    db[i] += ds[i];
            }
            /* dQ = scale dS K; dK += scale dS^T Q */
            prof_sgemm(CblasNoTrans, CblasNoTrans, (int)s->sq, (int)s->hd, (int)s->skv, scale, ds,
                       (int)s->skv, kp, (int)ldkv, 0.0f, dqp, (int)ldq);
            prof_sgemm(CblasTrans, CblasNoTrans, (int)s->skv, (int)s->hd, (int)s->sq, scale, ds,
                       (int)s->skv, qp, (int)ldq, 1.0f, dkp, (int)ldkv);
        }
    }
}

void prof_rotary(float *x, int64_t ld, int64_t batch, int64_t s, int nheads, int64_t hd,
                 int inverse)
{
    int64_t half = hd / 2;
    float sign = inverse ? -1.0f : 1.0f;
    for (int64_t t = 0; t < s; t++) {
        for (int64_t i = 0; i < half; i++) {
            double theta = (double)t * pow(10000.0, -2.0 * (double)i / (double)hd);
            float c = (float)cos(theta), sn = sign * (float)sin(theta);
            for (int64_t bb = 0; bb < batch; bb++) {
                float *row = x + (bb * s + t) * ld;
                for (int n = 0; n < nheads; n++) {
                    float *hp = row + n * hd;
                    float x1 = hp[i], x2 = hp[i + half];
                    hp[i] = x1 * c - x2 * sn;
                    hp[i + half] = x2 * c + x1 * sn;
                }
            }
        }
    }
}
