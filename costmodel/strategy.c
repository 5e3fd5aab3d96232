/*
 * strategy.c - the intra-layer strategy space of a pipeline stage: names
 * (format/parse), enumeration for a stage of n devices, the placement of a
 * strategy's TP and DP groups on the cluster's nodes, and the resharding
 * fraction between two activation layouts.
 *
 * Names: "dp<D>.tp<T><c|s>[.ddp|.zero1|.zero2|.zero3][.sp][.ckpt]", e.g.
 * "dp4.tp2c.zero3.sp.ckpt". tp 1 has no placement letter ("dp8.tp1.ddp");
 * the flavour is written only when dp > 1 (dp 1 is always DDP). "fsdp" is
 * accepted as an alias of "zero3" when parsing.
 *
 * Rank layout inside a stage of n devices (first device f): with a
 * consecutive TP group, stage rank r = dp_index * tp + tp_index (TP ranks
 * adjacent, DP groups strided by tp); strided: r = tp_index * dp + dp_index
 * (DP ranks adjacent, TP groups strided by dp). Device = f + r; node =
 * device / devices_per_node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

static const char *const flavour_token[] = {"ddp", "zero1", "zero2", "zero3"};

void uniap_strategy_format(uniap_strategy *s)
{
    int n;

    n = snprintf(s->name, sizeof(s->name), "dp%d.tp%d%s", s->dp, s->tp,
                 s->tp > 1 ? (s->tp_consecutive ? "c" : "s") : "");
    if (s->dp > 1)
        n += snprintf(s->name + n, sizeof(s->name) - (size_t)n, ".%s", flavour_token[s->flavour]);
    if (s->sp)
        n += snprintf(s->name + n, sizeof(s->name) - (size_t)n, ".sp");
    if (s->ckpt)
        snprintf(s->name + n, sizeof(s->name) - (size_t)n, ".ckpt");
}

/* Parses "<prefix><int>" at *p up to the next '.', returns the number or -1. */
static int parse_degree(const char *tok, const char *prefix, const char **rest)
{
    size_t pl = strlen(prefix);
    char *end;
    long v;

    if (strncmp(tok, prefix, pl) != 0 || tok[pl] < '0' || tok[pl] > '9')
        return -1;
    v = strtol(tok + pl, &end, 10);
    if (v < 1 || v > 1 << 20)
        return -1;
    *rest = end;
    return (int)v;
}

int uniap_strategy_parse(const char *name, uniap_strategy *out)
{
    char buf[64], copy[64], *save = NULL, *tok;
    const char *rest;
    uniap_strategy s;
    int stage = 0; /* order: flavour(1) sp(2) ckpt(3) */

    memset(&s, 0, sizeof(s));
    if (!name || strlen(name) >= sizeof(buf))
        return uniap_err(UNIAP_EINVAL,
                         "strategy '%s': expected dp<D>.tp<T>[c|s][.flavour][.sp][.ckpt]",
                         name ? name : "(null)");
    /* copies before touching *out: name may be out->name */
    strcpy(buf, name);
    strcpy(copy, name);
    name = copy;
    memset(out, 0, sizeof(*out));
    tok = strtok_r(buf, ".", &save);
    if (!tok || (s.dp = parse_degree(tok, "dp", &rest)) < 0 || *rest)
        return uniap_err(UNIAP_EINVAL, "strategy '%s': bad token '%s', expected dp<D> with D >= 1",
                         name, tok ? tok : "");
    tok = strtok_r(NULL, ".", &save);
    if (!tok || (s.tp = parse_degree(tok, "tp", &rest)) < 0)
        return uniap_err(UNIAP_EINVAL, "strategy '%s': bad token '%s', expected tp<T>[c|s]", name,
                         tok ? tok : "");
    s.tp_consecutive = 1;
    if (*rest == 's' && rest[1] == 0)
        s.tp_consecutive = 0;
    else if (!(*rest == 0 || (*rest == 'c' && rest[1] == 0)))
        return uniap_err(UNIAP_EINVAL, "strategy '%s': bad token '%s', expected tp<T>c or tp<T>s",
                         name, tok);
    while ((tok = strtok_r(NULL, ".", &save))) {
        int f = -1;
        for (int i = 0; i < 4; i++)
            if (strcmp(tok, flavour_token[i]) == 0)
                f = i;
        if (strcmp(tok, "fsdp") == 0)
            f = UNIAP_DP_FSDP;
        if (f >= 0 && stage < 1) {
            s.flavour = (uniap_dp_flavour)f;
            stage = 1;
        } else if (strcmp(tok, "sp") == 0 && stage < 2) {
            s.sp = 1;
            stage = 2;
        } else if (strcmp(tok, "ckpt") == 0 && stage < 3) {
            s.ckpt = 1;
            stage = 3;
        } else {
            return uniap_err(UNIAP_EINVAL,
                             "strategy '%s': unexpected token '%s' (expected ddp|zero1|zero2|zero3"
                             "|fsdp, then sp, then ckpt, each at most once, in that order)",
                             name, tok);
        }
    }
    if (s.sp && s.tp < 2)
        return uniap_err(UNIAP_EINVAL, "strategy '%s': sequence parallelism needs tp > 1", name);
    if (s.flavour != UNIAP_DP_DDP && s.dp < 2)
        return uniap_err(UNIAP_EINVAL, "strategy '%s': %s needs dp > 1", name,
                         flavour_token[s.flavour]);
    if (!s.tp_consecutive && (s.tp < 2 || s.dp < 2))
        return uniap_err(UNIAP_EINVAL, "strategy '%s': a strided TP group needs tp > 1 and dp > 1",
                         name);
    uniap_strategy_format(&s);
    *out = s;
    return UNIAP_OK;
}

int cm_strategies(int n, int micro_batch, const uniap_cost_options *o, uniap_strategy **out,
                  int *count)
{
    uniap_strategy *v;
    int cap = 0, k = 0, rc;

    *out = NULL;
    *count = 0;
    UNIAP_CHECK(n >= 1 && n <= CM_MAX_DEVICES && micro_batch >= 1);
    /* upper bound: per tp, 2 placements x 4 flavours x 2 sp x 2 ckpt */
    for (int tp = 1; tp <= n; tp++)
        if (n % tp == 0)
            cap += 32;
    v = calloc((size_t)cap, sizeof(*v));
    if (!v)
        return uniap_err(UNIAP_ENOMEM, "strategy space: out of memory for n = %d", n);
    for (int tp = 1; tp <= n; tp++) {
        int dp = n / tp;
        if (n % tp || micro_batch % dp) /* local micro-batch must be whole */
            continue;
        if (o->max_tp > 0 && tp > o->max_tp)
            continue;
        int n_place = (tp > 1 && dp > 1 && !o->no_strided) ? 2 : 1;
        int n_flav = (dp > 1 && !o->no_zero) ? 4 : 1;
        int n_sp = (tp > 1 && !o->no_sp) ? 2 : 1;
        int n_ckpt = o->no_ckpt ? 1 : 2;
        for (int pl = 0; pl < n_place; pl++)
            for (int f = 0; f < n_flav; f++)
                for (int sp = 0; sp < n_sp; sp++)
                    for (int ck = 0; ck < n_ckpt; ck++) {
                        UNIAP_CHECK_GOTO(k < cap, rc, free_v);
                        uniap_strategy *s = &v[k++];
                        s->dp = dp;
                        s->tp = tp;
                        s->tp_consecutive = pl == 0;
                        s->flavour = (uniap_dp_flavour)f;
                        s->sp = sp;
                        s->ckpt = ck;
                        uniap_strategy_format(s);
                    }
    }
    *out = v;
    *count = k;
    return UNIAP_OK;

free_v:
    free(v);
    return rc;
}

/* Device (within the stage) of TP index t and DP index d. */
static int stage_rank(const uniap_strategy *s, int d, int t)
{
    return s->tp_consecutive ? d * s->tp + t : t * s->dp + d;
}

int cm_tp_spans(const uniap_cluster *c, int stage_first, const uniap_strategy *s)
{
    int g = c->devices_per_node;
    for (int d = 0; d < s->dp; d++) {
        int node0 = (stage_first + stage_rank(s, d, 0)) / g;
        for (int t = 1; t < s->tp; t++)
            if ((stage_first + stage_rank(s, d, t)) / g != node0)
                return 1;
    }
    return 0;
}

int cm_dp_spans(const uniap_cluster *c, int stage_first, const uniap_strategy *s)
{
    int g = c->devices_per_node;
    for (int t = 0; t < s->tp; t++) {
        int node0 = (stage_first + stage_rank(s, 0, t)) / g;
        for (int d = 1; d < s->dp; d++)
            if ((stage_first + stage_rank(s, d, t)) / g != node0)
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
    for (int r = 0; r < n; r++)
        if ((j * n + r) / g != ((j + 1) * n + r) / g)
            return 1;
    return 0;
}

void cm_place(const uniap_cluster *c, int deg, int n, const uniap_strategy *s, cm_placement *pl)
{
    memset(pl, 0, sizeof(*pl));
    for (int j = 0; j < deg; j++) {
        pl->tp_spans |= cm_tp_spans(c, j * n, s);
        pl->dp_spans |= cm_dp_spans(c, j * n, s);
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
 * its DP index; sequence slice of its TP index with SP, else all of it. */
static void slice_of(int n, const uniap_strategy *s, int r, long bat[2], long seq[2])
{
    int d = s->tp_consecutive ? r / s->tp : r % s->dp;
    int t = s->tp_consecutive ? r % s->tp : r / s->dp;
    long bw = n / s->dp, sw = n / s->tp;

    bat[0] = d * bw;
    bat[1] = bat[0] + bw;
    if (s->sp) {
        seq[0] = t * sw;
        seq[1] = seq[0] + sw;
    } else {
        seq[0] = 0;
        seq[1] = n;
    }
}

double cm_reshard_fraction(int n, const uniap_strategy *a, const uniap_strategy *b)
{
    long worst = 0;

    if (a->dp == b->dp && a->tp == b->tp && a->sp == b->sp &&
        (a->tp_consecutive == b->tp_consecutive || a->tp == 1 || a->dp == 1))
        return 0.0;
    for (int r = 0; r < n; r++) {
        long ab[2], as[2], bb[2], bs[2];
        slice_of(n, a, r, ab, as);
        slice_of(n, b, r, bb, bs);
        long need = (bb[1] - bb[0]) * (bs[1] - bs[0]);
        long have = overlap(ab[0], ab[1], bb[0], bb[1]) * overlap(as[0], as[1], bs[0], bs[1]);
        if (need - have > worst)
            worst = need - have;
    }
    return (double)worst / ((double)n * (double)n);
}
