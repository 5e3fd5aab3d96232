/*
 * fid_stats.c - the one copy of the fidelity statistics (fid.h): relative
 * error (mean and median of |pred / meas - 1|, the signed mean), Spearman's
 * rank correlation (Pearson's on ranks, ties given their average rank),
 * Kendall's tau-b (Kendall 1945: (concordant - discordant) /
 * sqrt((n0 - ties in x) (n0 - ties in y)) over the n0 = n (n - 1) / 2
 * pairs) and the top-1 regret (the measured time of the configuration
 * predicted best against the measured best); and the series the
 * comparisons fill.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fid.h"
#include "uniap_io.h"

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double fid_median(double *v, int n)
{
    if (n < 1)
        return NAN;
    qsort(v, (size_t)n, sizeof(double), cmp_dbl);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Ranks of v[0..n) into r (1-based, ties averaged). */
static void ranks(const double *v, int n, double *r)
{
    for (int i = 0; i < n; i++) {
        int less = 0, eq = 0;
        for (int j = 0; j < n; j++)
            less += v[j] < v[i], eq += v[j] == v[i];
        r[i] = less + (eq + 1) / 2.0;
    }
}

static double spearman(const double *x, const double *y, int n, double *rx, double *ry)
{
    double sxy = 0, sxx = 0, syy = 0, c = (n + 1) / 2.0;
    ranks(x, n, rx);
    ranks(y, n, ry);
    for (int i = 0; i < n; i++) {
        sxy += (rx[i] - c) * (ry[i] - c);
        sxx += (rx[i] - c) * (rx[i] - c);
        syy += (ry[i] - c) * (ry[i] - c);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

static double kendall_b(const double *x, const double *y, int n)
{
    double conc = 0, disc = 0, tx = 0, ty = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double a = x[i] - x[j], b = y[i] - y[j];
            if (a * b > 0)
                conc++;
            else if (a * b < 0)
                disc++;
            else if (a == 0 && b != 0)
                tx++; /* tied in x only */
            else if (b == 0 && a != 0)
                ty++;
        }
    double d = (conc + disc + tx) * (conc + disc + ty);
    return d > 0 ? (conc - disc) / sqrt(d) : NAN;
}

int fid_stats_compute(const double *pred, const double *meas, int n, int configs, fid_stats *out)
{
    double *buf;
    int ib = 0, im = 0;

    memset(out, 0, sizeof(*out));
    if (n < 1)
        return uniap_err(UNIAP_EINVAL, "fidelity statistics: no points");
    if (!(buf = malloc(3 * sizeof(double) * (size_t)n)))
        return uniap_err(UNIAP_ENOMEM, "fidelity statistics: out of memory");
    out->n = n;
    for (int i = 0; i < n; i++) {
        if (!(meas[i] > 0)) {
            free(buf);
            return uniap_err(UNIAP_EINVAL, "fidelity statistics: measurement %d is %g, not > 0", i,
                             meas[i]);
        }
        double e = pred[i] / meas[i] - 1;
        out->mean_abs += fabs(e) / n;
        out->signed_mean += e / n;
        out->max_abs = fmax(out->max_abs, fabs(e));
        buf[i] = fabs(e);
        ib = pred[i] < pred[ib] ? i : ib;
        im = meas[i] < meas[im] ? i : im;
    }
    out->median_abs = fid_median(buf, n);
    out->spearman = n > 1 ? spearman(pred, meas, n, buf + n, buf + 2 * n) : NAN;
    out->kendall = n > 1 ? kendall_b(pred, meas, n) : NAN;
    out->regret = configs ? meas[ib] / meas[im] - 1 : NAN;
    free(buf);
    return UNIAP_OK;
}

void fid_print_cell(FILE *f, const fid_stats *st)
{
    fprintf(f, " %5.1f / %5.1f / %+6.1f |", 100 * st->median_abs, 100 * st->mean_abs,
            100 * st->signed_mean);
}

fid_series *fid_series_new(fid_report *r, const char *source, const char *quantity, int configs)
{
    if (r->n >= FID_MAX_SERIES) {
        uniap_err(UNIAP_ENOMEM, "fidelity report: more than %d series", FID_MAX_SERIES);
        return NULL;
    }
    fid_series *s = &r->s[r->n++];
    memset(s, 0, sizeof(*s));
    snprintf(s->source, sizeof(s->source), "%s", source);
    snprintf(s->quantity, sizeof(s->quantity), "%s", quantity);
    s->configs = configs;
    return s;
}

int fid_series_add(fid_series *s, double pred, double meas, int gpus)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        double *p = realloc(s->pred, sizeof(double) * (size_t)cap);
        if (p)
            s->pred = p;
        double *m = p ? realloc(s->meas, sizeof(double) * (size_t)cap) : NULL;
        if (m)
            s->meas = m;
        int *g = m ? realloc(s->gpus, sizeof(int) * (size_t)cap) : NULL;
        if (!g)
            return uniap_err(UNIAP_ENOMEM, "fidelity series '%s': out of memory", s->source);
        s->gpus = g;
        s->cap = cap;
    }
    s->pred[s->n] = pred;
    s->meas[s->n] = meas;
    s->gpus[s->n++] = gpus;
    return UNIAP_OK;
}

void fid_report_free(fid_report *r)
{
    for (int i = 0; i < r->n; i++) {
        free(r->s[i].pred);
        free(r->s[i].meas);
        free(r->s[i].gpus);
    }
    r->n = 0;
}

void fid_note(fid_report *r, const char *fmt, ...)
{
    size_t used = strlen(r->notes);
    va_list ap;
    va_start(ap, fmt);
    if (used + 2 < sizeof(r->notes))
        vsnprintf(r->notes + used, sizeof(r->notes) - used - 1, fmt, ap);
    va_end(ap);
    used = strlen(r->notes);
    if (used + 1 < sizeof(r->notes))
        strcat(r->notes, "\n");
}
