/*
 * mist_kernels.c - the NVIDIA L4's achievable compute fractions from Mist's
 * own kernel measurements on L4 (Dazz993_Mist/mist/node_database/
 * cache_NVIDIA_L4/<operator>.json: per operator and input shapes, the forward and
 * backward latency), for the cluster facts of the L4 comparison
 * (mist_memory.c). Device-level facts only: single-kernel timings, never
 * an end-to-end iteration time.
 *
 * Each entry is inverted through the cost model's own GEMM time
 * (costmodel/gemm_eff.c): the fraction f at which the model's time of that
 * shape equals the measured time, f = model seconds at f = 1 / measured
 * seconds, so the wave quantization of each shape (58 SMs, the model's
 * tiles) is the model's and not part of f.
 *  - GEMM: mist.modules.fused_dense.fused_dense_func, x (..., k) by weight
 *    (n, k), fp16, no bias: forward the m x n output, backward the model's
 *    data gradient m x k and weight gradient k x n. gemm_efficiency is the
 *    median over the forward and backward entries.
 *  - Flash attention: mist.modules.flash_attn.flash_attn_qkvpacked_func,
 *    qkv (b, s, 3, heads, head_dim): the model counts the forward as
 *    4 b heads s^2 head_dim FLOPs (the full score matrix, causal or not)
 *    and the backward as 2.5x that (gemm_eff.c); flash_fwd/bwd_efficiency
 *    are the medians of FLOPs / (peak x measured seconds) in those terms.
 *  - Eager attention (torch.baddbmm: Q K^T; torch.bmm: scores x V): not
 *    used for a fraction (the model prices these GEMMs at gemm_efficiency
 *    and their score tensor as element-wise bytes at mem_bandwidth,
 *    analytic.c); reported: their fraction of peak, and the share of their
 *    measured forward time the score tensor's bytes take at mem_bandwidth
 *    (near 1: the kernel is bound by that traffic).
 * An entry's value is [a, b, spread]: a and b, two central estimates of
 * the latency within 2 % of each other, are averaged.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cm_internal.h"
#include "fid.h"

#define MAX_ENTRIES 256
#define FLASH_BWD   2.5 /* the model's flash backward FLOPs over forward (gemm_eff.c) */

/* The dims of tensor argument name in a NodeSpec key: "'<name>':
 * TensorSpec(shape=(d0, d1, ...)"; their count, 0 when absent. */
static int shape_of(const char *key, const char *name, double *dims, int max)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "'%s': TensorSpec(shape=(", name);
    const char *p = strstr(key, pat);
    int n = 0;
    if (!p)
        return 0;
    p += strlen(pat);
    while (n < max && *p && *p != ')') {
        char *end;
        double v = strtod(p, &end);
        if (end == p)
            return 0;
        dims[n++] = v;
        p = end + strspn(end, ", ");
    }
    return *p == ')' ? n : 0;
}

/* The mean of the entry's two central latencies (s) of "fwd"/"bwd". */
static double latency(const cJSON *entry, const char *phase)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(entry, phase);
    const cJSON *x = cJSON_GetArrayItem(a, 0), *y = cJSON_GetArrayItem(a, 1);
    if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y))
        return NAN;
    return 0.5 * (x->valuedouble + y->valuedouble);
}

/* Reads dir/file as JSON into *js. */
static int load(const char *dir, const char *file, cJSON **js)
{
    char path[1024], *text = NULL;
    int rc;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    if ((rc = uniap_read_file(path, &text, NULL)) < 0)
        return rc;
    *js = cJSON_Parse(text);
    free(text);
    return *js ? UNIAP_OK : uniap_err(UNIAP_EFORMAT, "%s: not JSON", path);
}

/* Model seconds of the forward (m x n, reduction k) and backward GEMMs. */
static void gemm_model(const cm_gemm_device *d, double m, double n, double k, double batch,
                       double *fwd, double *bwd)
{
    cm_gemm g = {m, n, k, batch, 0}, dg = {m, k, n, batch, 0}, wg = {k, n, m, batch, 0};
    *fwd = uniap__cm_gemm_seconds(d, &g);
    *bwd = uniap__cm_gemm_seconds(d, &dg) + uniap__cm_gemm_seconds(d, &wg);
}

/* Linear layers: per entry and phase, f and the raw fraction of peak. */
static int linear_fracs(const char *dir, const cm_gemm_device *d1, double *f, double *raw, int *n)
{
    cJSON *js = NULL, *e;
    int rc = load(dir, "mist.modules.fused_dense.fused_dense_func.json", &js);
    *n = 0;
    if (rc < 0)
        return rc;
    cJSON_ArrayForEach(e, js)
    {
        double x[8], w[4], tf = latency(e, "fwd"), tb = latency(e, "bwd"), mf, mb;
        int nx = shape_of(e->string, "x", x, 8), nw = shape_of(e->string, "weight", w, 4);
        if (nx < 2 || nw != 2 || !strstr(e->string, "torch.float16") || !(tf > 0) || !(tb > 0) ||
            *n + 2 > MAX_ENTRIES)
            continue;
        double m = 1, k = x[nx - 1], nn = w[0];
        for (int i = 0; i < nx - 1; i++)
            m *= x[i];
        gemm_model(d1, m, nn, k, 1, &mf, &mb);
        f[*n] = mf / tf;
        raw[(*n)++] = 2 * m * nn * k / (d1->peak * tf);
        f[*n] = mb / tb;
        raw[(*n)++] = 4 * m * nn * k / (d1->peak * tb);
    }
    cJSON_Delete(js);
    return *n ? UNIAP_OK
              : uniap_err(UNIAP_EFORMAT,
                          "%s/mist.modules.fused_dense.fused_dense_func.json: no fp16 entry with "
                          "x and weight shapes",
                          dir);
}

/* Flash attention: forward and backward fractions per entry. */
static int flash_fracs(const char *dir, double peak, double *ff, double *fb, int *n)
{
    cJSON *js = NULL, *e;
    int rc = load(dir, "mist.modules.flash_attn.flash_attn_qkvpacked_func.json", &js);
    *n = 0;
    if (rc < 0)
        return rc;
    cJSON_ArrayForEach(e, js)
    {
        double q[5], tf = latency(e, "fwd"), tb = latency(e, "bwd");
        if (shape_of(e->string, "qkv", q, 5) != 5 || !(tf > 0) || !(tb > 0) || *n >= MAX_ENTRIES)
            continue;
        double flops = 4 * q[0] * q[3] * q[1] * q[1] * q[4]; /* 2 GEMMs of 2 s^2 d per head */
        ff[*n] = flops / (peak * tf);
        fb[(*n)++] = FLASH_BWD * flops / (peak * tb);
    }
    cJSON_Delete(js);
    return *n ? UNIAP_OK
              : uniap_err(UNIAP_EFORMAT,
                          "%s/mist.modules.flash_attn.flash_attn_qkvpacked_func.json: no entry "
                          "with a qkv shape",
                          dir);
}

/* Eager attention GEMMs (B, m, k) x (B, k, n) of file: per entry and
 * phase the fraction of peak, per forward the score tensor's (m x n of
 * baddbmm's output, m x k of bmm's input; fp16) bytes at bw over the
 * measured seconds. */
static int bmm_figures(const char *dir, const char *file, const char *a, const char *b, double peak,
                       double bw, double *raw, int *n, double *mem, int *nm)
{
    cJSON *js = NULL, *e;
    int rc = load(dir, file, &js), out_scores = strcmp(file, "torch.baddbmm.json") == 0;
    if (rc < 0)
        return rc;
    cJSON_ArrayForEach(e, js)
    {
        double x[4], y[4], tf = latency(e, "fwd"), tb = latency(e, "bwd");
        if (shape_of(e->string, a, x, 4) != 3 || shape_of(e->string, b, y, 4) != 3 || !(tf > 0) ||
            !(tb > 0) || *n + 2 > MAX_ENTRIES || *nm >= MAX_ENTRIES)
            continue;
        double flops = 2 * x[0] * x[1] * x[2] * y[2];
        double scores = 2 * x[0] * x[1] * (out_scores ? y[2] : x[2]);
        raw[(*n)++] = flops / (peak * tf);
        raw[(*n)++] = 2 * flops / (peak * tb);
        mem[(*nm)++] = scores / bw / tf;
    }
    cJSON_Delete(js);
    return UNIAP_OK;
}

int fid_l4_kernel_facts(const char *dir, const uniap_cluster *c, fid_l4_facts *out)
{
    double f[MAX_ENTRIES], raw[MAX_ENTRIES], fb[MAX_ENTRIES];
    cm_gemm_device d;
    uniap_cluster c1 = *c;
    int n, rc;

    memset(out, 0, sizeof(*out));
    c1.gemm_efficiency = 1.0; /* the model's time at the full peak */
    uniap__cm_gemm_device(&c1, 0, &d);
    if ((rc = linear_fracs(dir, &d, f, raw, &n)) < 0)
        return rc;
    out->n_gemm = n / 2;
    out->gemm = fid_median(f, n);
    out->gemm_raw = fid_median(raw, n);
    if ((rc = flash_fracs(dir, d.peak, f, fb, &n)) < 0)
        return rc;
    out->n_flash = n;
    out->flash_fwd = fid_median(f, n);
    out->flash_bwd = fid_median(fb, n);
    n = 0;
    int nm = 0;
    if ((rc = bmm_figures(dir, "torch.baddbmm.json", "batch1", "batch2", d.peak, c->mem_bandwidth,
                          raw, &n, fb, &nm)) < 0 ||
        (rc = bmm_figures(dir, "torch.bmm.json", "input", "mat2", d.peak, c->mem_bandwidth, raw, &n,
                          fb, &nm)) < 0)
        return rc;
    out->n_bmm = nm;
    out->bmm_raw = fid_median(raw, n);
    out->bmm_mem_share = fid_median(fb, nm);
    if (!(out->gemm > 0 && out->gemm <= 1 && out->flash_fwd > 0 && out->flash_fwd <= 1 &&
          out->flash_bwd > 0 && out->flash_bwd <= 1))
        return uniap_err(UNIAP_EFORMAT,
                         "%s: derived fractions gemm %.3f, flash %.3f / %.3f: expected in (0, 1]",
                         dir, out->gemm, out->flash_fwd, out->flash_bwd);
    return UNIAP_OK;
}
