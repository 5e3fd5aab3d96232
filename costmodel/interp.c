/*
 * interp.c - the profile index: layer measurements grouped by signature
 * and tp degree, collective curves by (op, group size, placement), and
 * their interpolation (layers: linear in micro-batch; collectives:
 * piecewise linear in log(bytes)-log(time)). Also the warning buffer.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

void cm_warn(cm_warnings *w, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    size_t n;

    if (!w)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* deduplicate (the same warning arises for every table) by the line's
     * FNV-1a hash; a collision only loses a duplicate-looking warning */
    uint64_t hash = 1469598103934665603ull;
    for (const char *c = line; *c; c++)
        hash = (hash ^ (unsigned char)*c) * 1099511628211ull;
    for (size_t i = 0; i < w->n_hash; i++)
        if (w->hash[i] == hash)
            return;
    if (w->n_hash == w->cap_hash) {
        size_t cap = w->cap_hash ? 2 * w->cap_hash : 16;
        uint64_t *h = realloc(w->hash, cap * sizeof(*h));
        if (!h)
            return;
        w->hash = h;
        w->cap_hash = cap;
    }
    w->hash[w->n_hash++] = hash;
    n = strlen(line) + 1;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 1024;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *t = realloc(w->text, cap);
        if (!t)
            return; /* a lost warning is not worth failing a plan over */
        w->text = t;
        w->cap = cap;
    }
    memcpy(w->text + w->len, line, n - 1);
    w->len += n - 1;
    w->text[w->len++] = '\n';
    w->text[w->len] = 0;
}

void cm_warnings_free(cm_warnings *w)
{
    if (!w)
        return;
    free(w->text);
    free(w->hash);
    memset(w, 0, sizeof(*w));
}

static int cmp_point(const void *a, const void *b)
{
    const cm_layer_point *x = a, *y = b;
    return (x->micro_batch > y->micro_batch) - (x->micro_batch < y->micro_batch);
}

static int cmp_prof_row(const void *a, const void *b)
{
    const uniap_layer_prof *x = *(const uniap_layer_prof *const *)a;
    const uniap_layer_prof *y = *(const uniap_layer_prof *const *)b;
    int c = strcmp(x->layer_type, y->layer_type);
    if (c)
        return c;
    if (x->tp != y->tp)
        return (x->tp > y->tp) - (x->tp < y->tp);
    return (x->micro_batch > y->micro_batch) - (x->micro_batch < y->micro_batch);
}

void cm_index_free(cm_profile_index *ix)
{
    for (int i = 0; i < ix->n_layers; i++) {
        for (int j = 0; j < ix->layers[i].n_curves; j++)
            free(ix->layers[i].curves[j].pt);
        free(ix->layers[i].curves);
    }
    free(ix->layers);
    for (int i = 0; i < ix->n_colls; i++) {
        free(ix->colls[i].bytes);
        free(ix->colls[i].time);
    }
    free(ix->colls);
    memset(ix, 0, sizeof(*ix));
}

/* Groups sorted rows [a, b) of one (signature, tp) into a curve. Several
 * rows at one micro-batch (one per rank): the rank -1 summary wins when
 * present; otherwise the slowest rank's times and the largest memory, as
 * the slowest rank sets a stage's pace and the fullest its memory. */
static int build_curve(const uniap_layer_prof **rows, int a, int b, cm_layer_curve *out)
{
    out->tp = rows[a]->tp;
    out->pt = calloc((size_t)(b - a), sizeof(cm_layer_point));
    if (!out->pt)
        return uniap_err(UNIAP_ENOMEM, "profile index: out of memory");
    out->n = 0;
    for (int i = a; i < b;) {
        int j = i, has_summary = 0;
        while (j < b && rows[j]->micro_batch == rows[i]->micro_batch) {
            has_summary |= rows[j]->rank == -1;
            j++;
        }
        cm_layer_point *p = &out->pt[out->n++];
        p->micro_batch = rows[i]->micro_batch;
        p->wgrad_known = 1;
        for (int k = i; k < j; k++) {
            const uniap_layer_prof *r = rows[k];
            if (has_summary && r->rank != -1)
                continue;
            p->fwd = fmax(p->fwd, r->fwd.median);
            p->bwd = fmax(p->bwd, r->bwd.median);
            p->wgrad = fmax(p->wgrad, r->wgrad.median);
            p->wgrad_known &= r->wgrad.count > 0;
            p->act_bytes = fmax(p->act_bytes, (double)r->act_bytes);
            p->peak_bytes = fmax(p->peak_bytes, (double)r->peak_bytes);
        }
        i = j;
    }
    qsort(out->pt, (size_t)out->n, sizeof(*out->pt), cmp_point);
    return UNIAP_OK;
}

static int build_layers(const uniap_profile *p, cm_profile_index *ix)
{
    const uniap_layer_prof **rows;
    int rc = UNIAP_OK, n = p->n_layers;

    if (n == 0)
        return UNIAP_OK;
    rows = malloc((size_t)n * sizeof(*rows));
    ix->layers = calloc((size_t)n, sizeof(*ix->layers));
    if (!rows || !ix->layers) {
        free(rows);
        return uniap_err(UNIAP_ENOMEM, "profile index: out of memory for %d layer rows", n);
    }
    for (int i = 0; i < n; i++) {
        const uniap_layer_prof *r = &p->layers[i];
        if (!(isfinite(r->fwd.median) && r->fwd.median >= 0 && isfinite(r->bwd.median) &&
              r->bwd.median >= 0 && r->act_bytes >= 0 && r->peak_bytes >= 0 && r->tp >= 1 &&
              r->micro_batch >= 1)) {
            free(rows);
            return uniap_err(UNIAP_EINVAL,
                             "profile layer row %d (layer type '%.96s', tp %d, micro-batch %d, "
                             "rank %d): fwd %g s, bwd %g s, act_bytes %lld, peak_bytes %lld: "
                             "expected finite times >= 0, bytes >= 0, tp and micro-batch >= 1",
                             i, r->layer_type, r->tp, r->micro_batch, r->rank, r->fwd.median,
                             r->bwd.median, (long long)r->act_bytes, (long long)r->peak_bytes);
        }
        rows[i] = r;
    }
    qsort(rows, (size_t)n, sizeof(*rows), cmp_prof_row);
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && strcmp(rows[j]->layer_type, rows[i]->layer_type) == 0)
            j++;
        cm_layer_index *li = &ix->layers[ix->n_layers++];
        snprintf(li->signature, sizeof(li->signature), "%s", rows[i]->layer_type);
        li->curves = calloc((size_t)(j - i), sizeof(*li->curves));
        if (!li->curves) {
            rc = uniap_err(UNIAP_ENOMEM, "profile index: out of memory");
            goto free_rows;
        }
        for (int a = i; a < j;) {
            int b = a;
            while (b < j && rows[b]->tp == rows[a]->tp)
                b++;
            if ((rc = build_curve(rows, a, b, &li->curves[li->n_curves++])) < 0)
                goto free_rows;
            a = b;
        }
        i = j;
    }
free_rows:
    free(rows);
    return rc;
}

static int cmp_coll(const void *a, const void *b)
{
    const uniap_coll_prof *x = *(const uniap_coll_prof *const *)a;
    const uniap_coll_prof *y = *(const uniap_coll_prof *const *)b;
    if (x->op != y->op)
        return (int)x->op - (int)y->op;
    if (x->group_size != y->group_size)
        return x->group_size - y->group_size;
    if (x->spans_nodes != y->spans_nodes)
        return x->spans_nodes - y->spans_nodes;
    return (x->bytes > y->bytes) - (x->bytes < y->bytes);
}

/* Collective curves. Several rows of one (op, group, placement, bytes),
 * e.g. P2P between different rank pairs: the slowest is kept. */
static int build_colls(const uniap_profile *p, cm_profile_index *ix)
{
    const uniap_coll_prof **rows;
    int n = p->n_colls;

    if (n == 0)
        return UNIAP_OK;
    rows = malloc((size_t)n * sizeof(*rows));
    ix->colls = calloc((size_t)n, sizeof(*ix->colls));
    if (!rows || !ix->colls) {
        free(rows);
        return uniap_err(UNIAP_ENOMEM, "profile index: out of memory for %d collective rows", n);
    }
    for (int i = 0; i < n; i++) {
        const uniap_coll_prof *r = &p->colls[i];
        if (!(isfinite(r->time.median) && r->time.median >= 0 && r->group_size >= 1 &&
              (unsigned)r->op < UNIAP_COLL_COUNT)) {
            free(rows);
            return uniap_err(UNIAP_EINVAL,
                             "profile collective row %d (op %d, group %d, %lld bytes): time %g "
                             "s: expected a finite time >= 0, a known op and a group >= 1",
                             i, (int)r->op, r->group_size, (long long)r->bytes, r->time.median);
        }
        rows[i] = r;
    }
    qsort(rows, (size_t)n, sizeof(*rows), cmp_coll);
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && rows[j]->op == rows[i]->op && rows[j]->group_size == rows[i]->group_size &&
               (rows[j]->spans_nodes != 0) == (rows[i]->spans_nodes != 0))
            j++;
        cm_coll_curve *cc = &ix->colls[ix->n_colls++];
        cc->op = rows[i]->op;
        cc->group_size = rows[i]->group_size;
        cc->spans_nodes = rows[i]->spans_nodes != 0;
        cc->bytes = malloc((size_t)(j - i) * sizeof(double));
        cc->time = malloc((size_t)(j - i) * sizeof(double));
        if (!cc->bytes || !cc->time) {
            free(rows);
            return uniap_err(UNIAP_ENOMEM, "profile index: out of memory");
        }
        for (int k = i; k < j; k++) {
            if (rows[k]->bytes <= 0 || !(rows[k]->time.median > 0))
                continue; /* log-log needs positive points */
            if (cc->n > 0 && cc->bytes[cc->n - 1] == (double)rows[k]->bytes) {
                cc->time[cc->n - 1] = fmax(cc->time[cc->n - 1], rows[k]->time.median);
                continue;
            }
            cc->bytes[cc->n] = (double)rows[k]->bytes;
            cc->time[cc->n++] = rows[k]->time.median;
        }
        i = j;
    }
    free(rows);
    return UNIAP_OK;
}

int cm_index_build(const uniap_profile *p, const char *label, cm_profile_index *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = build_layers(p, out)) < 0 || (rc = build_colls(p, out)) < 0) {
        cm_index_free(out);
        return label ? uniap_err(rc, "%s", label) : rc;
    }
    out->label = label;
    for (int i = 0; i < out->n_layers; i++)
        out->layers[i].label = label;
    return UNIAP_OK;
}

const cm_layer_index *cm_index_layer(const cm_profile_index *ix, const char *signature)
{
    for (int i = 0; i < ix->n_layers; i++)
        if (strcmp(ix->layers[i].signature, signature) == 0)
            return &ix->layers[i];
    return NULL;
}

const cm_coll_curve *cm_index_coll(const cm_profile_index *ix, uniap_coll_op op, int group_size,
                                   int spans_nodes)
{
    for (int i = 0; i < ix->n_colls; i++) {
        const cm_coll_curve *c = &ix->colls[i];
        if (c->op == op && c->group_size == group_size && c->spans_nodes == (spans_nodes != 0) &&
            c->n > 0)
            return c;
    }
    return NULL;
}

/* y at x on the line through (x0, y0), (x1, y1). */
static double lerp(double x, double x0, double y0, double x1, double y1)
{
    if (x1 == x0)
        return y0;
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

/* A time at x from the measured points (x0, y0), (x1, y1), x0 < x1: the
 * line through them, except above x1 when y1 < y0. A layer's time does not
 * fall as its micro-batch grows, so a falling pair is timing noise (a
 * loaded host, kernels of microseconds) and says nothing of the slope:
 * extrapolated along it, a micro-batch far above x1 would cost nothing.
 * Then the time scales as one point's does, proportionally from (x1, y1)
 * (the rule cm_layer_at applies where only one micro-batch is measured). */
static double time_at(double x, double x0, double y0, double x1, double y1)
{
    if (x > x1 && y1 < y0)
        return y1 * x / x1;
    return lerp(x, x0, y0, x1, y1);
}

int cm_layer_at(const cm_layer_index *li, int tp, int micro_batch, cm_warnings *w,
                cm_layer_point *out)
{
    const cm_layer_curve *c = NULL;
    int a, b;

    for (int i = 0; i < li->n_curves; i++)
        if (li->curves[i].tp == tp)
            c = &li->curves[i];
    if (!c || c->n == 0)
        return uniap_err(UNIAP_EMISSING,
                         "%s%sprofile lacks layer type '%s' at tp %d (needed at micro-batch %d); "
                         "profile that tp degree (uniap profile --tp %d) or restrict the search "
                         "with --max-tp",
                         li->label ? li->label : "", li->label ? ": " : "", li->signature, tp,
                         micro_batch, tp);
    memset(out, 0, sizeof(*out));
    out->micro_batch = micro_batch;
    if (c->n == 1) {
        /* one point: proportional scaling is all one can do */
        double f = (double)micro_batch / c->pt[0].micro_batch;
        if (micro_batch != c->pt[0].micro_batch)
            cm_warn(w,
                    "layer '%s' tp %d: only micro-batch %d measured; micro-batch %d scaled "
                    "proportionally",
                    li->signature, tp, c->pt[0].micro_batch, micro_batch);
        out->fwd = c->pt[0].fwd * f;
        out->bwd = c->pt[0].bwd * f;
        out->wgrad = c->pt[0].wgrad * f;
        out->wgrad_known = c->pt[0].wgrad_known;
        out->act_bytes = c->pt[0].act_bytes * f;
        out->peak_bytes = c->pt[0].peak_bytes * f;
        return UNIAP_OK;
    }
    /* bracket [a, b]: the measured points around micro_batch, or the two
     * nearest ones when outside the measured range */
    for (b = 1; b < c->n - 1 && c->pt[b].micro_batch < micro_batch; b++)
        ;
    a = b - 1;
    if (micro_batch < c->pt[0].micro_batch || micro_batch > c->pt[c->n - 1].micro_batch)
        cm_warn(w,
                "layer '%s' tp %d: micro-batch %d is outside the measured %d..%d; "
                "extrapolated linearly from %d and %d",
                li->signature, tp, micro_batch, c->pt[0].micro_batch, c->pt[c->n - 1].micro_batch,
                c->pt[a].micro_batch, c->pt[b].micro_batch);
    const cm_layer_point *p = &c->pt[a], *q = &c->pt[b];
    double x = micro_batch;
    out->fwd = fmax(0.0, time_at(x, p->micro_batch, p->fwd, q->micro_batch, q->fwd));
    out->bwd = fmax(0.0, time_at(x, p->micro_batch, p->bwd, q->micro_batch, q->bwd));
    out->wgrad_known = p->wgrad_known && q->wgrad_known;
    if (out->wgrad_known) /* W stays a part of the backward */
        out->wgrad = fmin(
            out->bwd, fmax(0.0, time_at(x, p->micro_batch, p->wgrad, q->micro_batch, q->wgrad)));
    out->act_bytes = fmax(0.0, lerp(x, p->micro_batch, p->act_bytes, q->micro_batch, q->act_bytes));
    out->peak_bytes =
        fmax(0.0, lerp(x, p->micro_batch, p->peak_bytes, q->micro_batch, q->peak_bytes));
    return UNIAP_OK;
}

int cm_coll_time(const cm_profile_index *ix, uniap_coll_op op, int group_size, int spans_nodes,
                 double bytes, cm_warnings *w, double *out)
{
    const cm_coll_curve *c;
    int b;

    *out = 0.0;
    if (bytes <= 0 || (group_size <= 1 && op != UNIAP_COLL_P2P))
        return UNIAP_OK;
    c = cm_index_coll(ix, op, group_size, spans_nodes);
    if (!c)
        return uniap_err(UNIAP_EMISSING,
                         "%s%sprofile lacks collective %s over a group of %d %s (needed for %.0f "
                         "bytes); profile the collectives on a cluster where such a group "
                         "exists",
                         ix->label ? ix->label : "", ix->label ? ": " : "", uniap_coll_name(op),
                         group_size, spans_nodes ? "spanning nodes" : "inside one node", bytes);
    if (c->n == 1 || bytes <= c->bytes[0]) {
        /* at or below the smallest measured size the time is latency-bound:
         * hold the smallest measurement (a floor, never lower); one point:
         * bandwidth scaling above it */
        *out = bytes <= c->bytes[0] ? c->time[0] : c->time[0] * bytes / c->bytes[0];
        return UNIAP_OK;
    }
    if (bytes > c->bytes[c->n - 1]) {
        /* bandwidth-bound beyond the largest size: linear in bytes through
         * the two largest points */
        int n = c->n;
        cm_warn(w,
                "collective %s group %d %s: messages beyond the measured %.0f bytes "
                "extrapolated linearly",
                uniap_coll_name(op), group_size, spans_nodes ? "across nodes" : "in node",
                c->bytes[n - 1]);
        *out = fmax(c->time[n - 1],
                    lerp(bytes, c->bytes[n - 2], c->time[n - 2], c->bytes[n - 1], c->time[n - 1]));
        return UNIAP_OK;
    }
    for (b = 1; b < c->n - 1 && c->bytes[b] < bytes; b++)
        ;
    *out = exp(lerp(log(bytes), log(c->bytes[b - 1]), log(c->time[b - 1]), log(c->bytes[b]),
                    log(c->time[b])));
    return UNIAP_OK;
}
