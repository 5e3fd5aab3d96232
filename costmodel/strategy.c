/*
 * strategy.c - the intra-layer strategy space of a pipeline stage: names
 * (format/parse), enumeration for a stage of n devices, the placement of a
 * strategy's TP and DP groups on the cluster's nodes, and the resharding
 * fraction between two activation layouts. Names, parsing and the
 * enumeration walk the list of dimensions (strategy_dims.c; more may be
 * registered at run time, uniap_strategy_dim_register).
 *
 * Names: "dp<D>[.cp<C>[u]][.ep<E>].tp<T><c|s>[.ddp|.zero1|.zero2|.zero3][.sp][.ckpt]",
 * e.g. "dp4.tp2c.zero3.sp.ckpt", "dp2.cp4.tp4c.zero1.sp", "dp8.ep4.tp1.zero1"
 * (cp and ep 1 are not written; "u": Ulysses, else ring attention). tp 1 has no placement letter
 * ("dp8.tp1.ddp"); the flavour is written only when dp > 1 (dp 1 is always DDP). "fsdp" is accepted
 * as an alias of "zero3" when parsing.
 *
 * Rank layout inside a stage of n devices (first device f): the data- and
 * context-parallel index q = dp_index * cp + cp_index (cp inside dp, as
 * Megatron-LM orders its groups tp-cp-dp); with a consecutive TP group,
 * stage rank r = q * tp + tp_index (TP ranks adjacent, CP ranks strided by
 * tp, DP by cp x tp); strided: r = tp_index * dp * cp + q (DP x CP ranks
 * adjacent, TP groups strided by dp x cp). Device = f + r; node = device /
 * devices_per_node.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

extern const uniap_strategy_dim uniap__strategy_dims[];
extern const int uniap__strategy_n_dims;

/* dimensions registered at run time, after the built-in ones */
static uniap_strategy_dim registered[UNIAP_STRATEGY_EXT];
static int n_registered;

int uniap_strategy_dim_count(void)
{
    return uniap__strategy_n_dims + n_registered;
}

const uniap_strategy_dim *uniap_strategy_dim_get(int i)
{
    if (i >= 0 && i < uniap__strategy_n_dims)
        return &uniap__strategy_dims[i];
    i -= uniap__strategy_n_dims;
    return i >= 0 && i < n_registered ? &registered[i] : NULL;
}

int uniap_strategy_dim_register(const uniap_strategy_dim *d)
{
    if (!d || !d->name || !d->usage || !d->values || !d->format || !d->parse)
        return uniap_err(UNIAP_EINVAL,
                         "strategy dimension '%s': needs a name, usage, values, "
                         "format and parse",
                         d && d->name ? d->name : "(null)");
    if (n_registered >= UNIAP_STRATEGY_EXT)
        return uniap_err(UNIAP_EINVAL, "strategy dimension '%s': at most %d can be registered",
                         d->name, UNIAP_STRATEGY_EXT);
    registered[n_registered] = *d;
    registered[n_registered].offset =
        offsetof(uniap_strategy, ext) + sizeof(int) * (size_t)n_registered;
    n_registered++;
    return UNIAP_OK;
}

int uniap_strategy_value(const uniap_strategy *s, const uniap_strategy_dim *d)
{
    return *(const int *)((const char *)s + d->offset);
}

static void set_value(uniap_strategy *s, const uniap_strategy_dim *d, int v)
{
    *(int *)((char *)s + d->offset) = v;
}

const char *uniap_strategy_scan_peek(const uniap_strategy_scan *sc)
{
    return sc->at < sc->n_tok ? sc->tok[sc->at] : NULL;
}

const char *uniap_strategy_scan_take(uniap_strategy_scan *sc)
{
    return sc->at < sc->n_tok ? sc->tok[sc->at++] : NULL;
}

void uniap_strategy_format(uniap_strategy *s)
{
    size_t n = 0, size = sizeof(s->name);
    char part[sizeof(s->name)];

    s->name[0] = 0;
    for (int i = 0; i < uniap_strategy_dim_count(); i++) {
        const uniap_strategy_dim *d = uniap_strategy_dim_get(i);
        d->format(s, uniap_strategy_value(s, d), part, sizeof part);
        if (n + 1 < size)
            n += (size_t)snprintf(s->name + n, size - n, "%s", part);
    }
    if (n >= size)
        s->name[size - 1] = 0;
}

/* The name's syntax ("dp<D>.tp<T>[c|s][.flavour]...") or the trailing
 * tokens expected ("ddp|...|fsdp, then sp, then ckpt"), from the list. */
static void syntax(char *buf, size_t size, int tail)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < uniap_strategy_dim_count(); i++) {
        const uniap_strategy_dim *d = uniap_strategy_dim_get(i);
        const char *part = tail ? d->tokens : d->usage;
        if (part && n < size)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", tail && n ? ", then " : "", part);
    }
}

int uniap_strategy_parse(const char *name, uniap_strategy *out)
{
    char buf[64], copy[64], *save = NULL, *tok, what[256], msg[128];
    uniap_strategy_scan sc;
    uniap_strategy s;
    int rc;

    memset(&s, 0, sizeof(s));
    if (!name || strlen(name) >= sizeof(buf)) {
        syntax(what, sizeof what, 0);
        return uniap_err(UNIAP_EINVAL, "strategy '%s': expected %s", name ? name : "(null)", what);
    }
    /* copies before touching *out: name may be out->name */
    strcpy(buf, name);
    strcpy(copy, name);
    memset(out, 0, sizeof(*out));
    memset(&sc, 0, sizeof(sc));
    sc.name = copy;
    for (tok = strtok_r(buf, ".", &save); tok && sc.n_tok < 32; tok = strtok_r(NULL, ".", &save))
        sc.tok[sc.n_tok++] = tok;
    for (int i = 0; i < uniap_strategy_dim_count(); i++) {
        const uniap_strategy_dim *d = uniap_strategy_dim_get(i);
        int v = 0;
        if ((rc = d->parse(&sc, &s, &v)) < 0)
            return rc;
        set_value(&s, d, v);
    }
    if ((tok = (char *)uniap_strategy_scan_peek(&sc))) {
        syntax(what, sizeof what, 1);
        return uniap_err(UNIAP_EINVAL,
                         "strategy '%s': unexpected token '%s' (expected %s, each at most once, "
                         "in that order)",
                         copy, tok, what);
    }
    /* the rules, the last dimension's first */
    for (int i = uniap_strategy_dim_count() - 1; i >= 0; i--) {
        const uniap_strategy_dim *d = uniap_strategy_dim_get(i);
        const char *bad =
            d->check ? d->check(&s, uniap_strategy_value(&s, d), msg, sizeof msg) : NULL;
        if (bad)
            return uniap_err(UNIAP_EINVAL, "strategy '%s': %s", copy, bad);
    }
    uniap_strategy_format(&s);
    *out = s;
    return UNIAP_OK;
}

/* The enumeration: a growing array of strategies. */
typedef struct strategy_list {
    uniap_strategy *v;
    int n, cap;
} strategy_list;

/* Every strategy extending s (dimensions 0..dim-1 set), the first
 * dimension varying slowest. */
static int enumerate(strategy_list *l, uniap_strategy *s, int dim, int n, int mb,
                     const uniap_cost_options *o)
{
    int vals[256], rc; /* the most divisors of n <= CM_MAX_DEVICES: 240 */

    if (dim == uniap_strategy_dim_count()) {
        if (l->n == l->cap) {
            int cap = l->cap ? 2 * l->cap : 64;
            uniap_strategy *v = realloc(l->v, sizeof(*v) * (size_t)cap);
            if (!v)
                return uniap_err(UNIAP_ENOMEM, "strategy space: out of memory for n = %d", n);
            l->v = v;
            l->cap = cap;
        }
        uniap_strategy_format(s);
        l->v[l->n++] = *s;
        return UNIAP_OK;
    }
    const uniap_strategy_dim *d = uniap_strategy_dim_get(dim);
    int k = d->values(s, n, mb, o, vals, (int)(sizeof vals / sizeof vals[0]));
    for (int i = 0; i < k; i++) {
        set_value(s, d, vals[i]);
        if ((rc = enumerate(l, s, dim + 1, n, mb, o)) < 0)
            return rc;
    }
    set_value(s, d, 0);
    return UNIAP_OK;
}

int cm_strategies(int n, int micro_batch, const uniap_cost_options *o, uniap_strategy **out,
                  int *count)
{
    strategy_list l = {0};
    uniap_strategy s;
    int rc;

    *out = NULL;
    *count = 0;
    UNIAP_CHECK(n >= 1 && n <= CM_MAX_DEVICES && micro_batch >= 1);
    memset(&s, 0, sizeof(s));
    if ((rc = enumerate(&l, &s, 0, n, micro_batch, o)) < 0) {
        free(l.v);
        return rc;
    }
    *out = l.v;
    *count = l.n;
    return UNIAP_OK;
}

/* Device (within the stage) of TP index t and DP x CP index q. */
static int stage_rank(const uniap_strategy *s, int q, int t)
{
    return s->tp_consecutive ? q * s->tp + t : t * uniap_strategy_dpcp(s) + q;
}

/* The span tests below look at each group of a family only up to the
 * node size g: shifting a group's index by g (a DP x CP index q, a TP
 * index t, a data-parallel index d, a stage j or a rank r) moves every
 * rank of it by a multiple of g, so each onto the same node offset and the
 * group spans nodes exactly when the unshifted one does (stage_rank:
 * q + g adds g tp or g; t + g adds g or g dp cp). Hence min(count, g)
 * groups decide, whatever the cluster's size: O(g^2) per test instead of
 * O(devices). */
static int upto(int count, int g)
{
    return count < g ? count : g;
}

int cm_tp_spans(const uniap_cluster *c, int stage_first, const uniap_strategy *s)
{
    int g = c->devices_per_node;
    for (int q = 0; q < upto(uniap_strategy_dpcp(s), g); q++) {
        int node0 = (stage_first + stage_rank(s, q, 0)) / g;
        for (int t = 1; t < s->tp; t++)
            if ((stage_first + stage_rank(s, q, t)) / g != node0)
                return 1;
    }
    return 0;
}

/* The gradient group: all dp x cp ranks of one TP index. */
int cm_dp_spans(const uniap_cluster *c, int stage_first, const uniap_strategy *s)
{
    int g = c->devices_per_node;
    for (int t = 0; t < upto(s->tp, g); t++) {
        int node0 = (stage_first + stage_rank(s, 0, t)) / g;
        for (int q = 1; q < uniap_strategy_dpcp(s); q++)
            if ((stage_first + stage_rank(s, q, t)) / g != node0)
                return 1;
    }
    return 0;
}

int cm_cp_spans(const uniap_cluster *c, int stage_first, const uniap_strategy *s)
{
    int g = c->devices_per_node, cp = uniap_strategy_cp(s);
    for (int d = 0; d < upto(s->dp, g); d++)
        for (int t = 0; t < upto(s->tp, g); t++) {
            int node0 = (stage_first + stage_rank(s, d * cp, t)) / g;
            for (int k = 1; k < cp; k++)
                if ((stage_first + stage_rank(s, d * cp + k, t)) / g != node0)
                    return 1;
        }
    return 0;
}

int cm_stage_spans(const uniap_cluster *c, int stage_first, int n)
{
    return stage_first / c->devices_per_node != (stage_first + n - 1) / c->devices_per_node;
}

int cm_boundary_spans(const uniap_cluster *c, int j, int n)
{
    int g = c->devices_per_node;
    for (int r = 0; r < upto(n, g); r++)
        if ((j * n + r) / g != ((j + 1) * n + r) / g)
            return 1;
    return 0;
}

void cm_place(const uniap_cluster *c, int deg, int n, const uniap_strategy *s, cm_placement *pl)
{
    memset(pl, 0, sizeof(*pl));
    for (int j = 0; j < upto(deg, c->devices_per_node); j++) { /* stage j + g: j n + g n */
        pl->tp_spans |= cm_tp_spans(c, j * n, s);
        pl->dp_spans |= cm_dp_spans(c, j * n, s);
        pl->cp_spans |= cm_cp_spans(c, j * n, s);
        pl->ep_spans |= cm_ep_spans(c, j * n, s);
        pl->stage_spans |= cm_stage_spans(c, j * n, n);
    }
}

/* Length of the intersection of [a0, a1) and [b0, b1). */
static long overlap(long a0, long a1, long b0, long b1)
{
    long lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    return hi > lo ? hi - lo : 0;
}

/* The slice of the boundary activation (batch x sequence, in units of
 * 1/n of each) that stage rank r holds under strategy s: batch slice of
 * its DP index; sequence slice of its CP index (the zigzag chunk pair
 * taken as one slice), within it of its TP index with SP. The ranks are
 * walked in order, r = 0, 1, ..., with the indices kept as counters (the
 * same integers as q = r / tp, t = r % tp with consecutive TP, else q =
 * r % (dp cp), t = r / (dp cp); then q / cp and q % cp), no division per
 * rank: at 16,384 devices this scan was the first computation of every
 * fraction. */
typedef struct slice_walk {
    int tpc, tp, dc, cp, sp;
    long bw, cw, sw;
    int q, t, qd, qc; /* rank r's DP x CP index, TP index, q / cp, q % cp */
} slice_walk;

static void walk_start(slice_walk *w, int n, const uniap_strategy *s)
{
    w->tpc = s->tp_consecutive;
    w->tp = s->tp;
    w->cp = uniap_strategy_cp(s);
    w->dc = uniap_strategy_dpcp(s);
    w->sp = s->sp;
    w->bw = n / s->dp;
    w->cw = n / w->cp;
    w->sw = w->cw / s->tp;
    w->q = w->t = w->qd = w->qc = 0;
}

static void walk_slice(const slice_walk *w, long bat[2], long seq[2])
{
    bat[0] = w->qd * w->bw;
    bat[1] = bat[0] + w->bw;
    seq[0] = w->qc * w->cw + (w->sp ? w->t * w->sw : 0);
    seq[1] = seq[0] + (w->sp ? w->sw : w->cw);
}

static void walk_next(slice_walk *w)
{
    if (w->tpc) { /* t = r % tp, q = r / tp */
        if (++w->t == w->tp) {
            w->t = 0;
            w->q++;
            if (++w->qc == w->cp) {
                w->qc = 0;
                w->qd++;
            }
        }
    } else if (++w->q == w->dc) { /* q = r % dc, t = r / dc */
        w->q = w->qc = w->qd = 0;
        w->t++;
    } else if (++w->qc == w->cp) {
        w->qc = 0;
        w->qd++;
    }
}

double cm_reshard_fraction(int n, const uniap_strategy *a, const uniap_strategy *b)
{
    long worst = 0;

    if (a->dp == b->dp && a->tp == b->tp && a->sp == b->sp &&
        uniap_strategy_cp(a) == uniap_strategy_cp(b) &&
        (a->tp_consecutive == b->tp_consecutive || a->tp == 1 || a->dp == 1))
        return 0.0;
    slice_walk wa, wb;
    walk_start(&wa, n, a);
    walk_start(&wb, n, b);
    for (int r = 0; r < n; r++, walk_next(&wa), walk_next(&wb)) {
        long ab[2], as[2], bb[2], bs[2];
        walk_slice(&wa, ab, as);
        walk_slice(&wb, bb, bs);
        long need = (bb[1] - bb[0]) * (bs[1] - bs[0]);
        long have = overlap(ab[0], ab[1], bb[0], bb[1]) * overlap(as[0], as[1], bs[0], bs[1]);
        if (need - have > worst)
            worst = need - have;
    }
    return (double)worst / ((double)n * (double)n);
}
