/*
 * strategy_dims.c - the dimensions of the strategy space, one descriptor
 * each (uniap_strategy_dim): dp, tp, layout (consecutive or strided TP
 * groups), context parallelism (degree and variant), expert parallelism, the DP flavour (DDP,
 * ZeRO-1/2/3), sequence parallelism and activation checkpointing. Each says how it is written in a
 * name and read back, which values it may take in a stage given the dimensions before it and the
 * options' restrictions, and the rule tying it to the others. strategy.c walks the list
 * (uniap__strategy_dims) to format, parse and enumerate; a new dimension is a descriptor here (or
 * in its own file), a line in that list and its field in uniap_strategy.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

/* Parses "<prefix><int>" at tok, returns the number or -1; *rest: after it. */
static int parse_degree(const char *tok, const char *prefix, const char **rest)
{
    size_t pl = strlen(prefix);
    char *end;
    long v;

    if (!tok || strncmp(tok, prefix, pl) != 0 || tok[pl] < '0' || tok[pl] > '9')
        return -1;
    v = strtol(tok + pl, &end, 10);
    if (v < 1 || v > 1 << 20)
        return -1;
    *rest = end;
    return (int)v;
}

static int fmt(char *buf, size_t size, const char *f, int on, const char *word)
{
    return on ? snprintf(buf, size, f, word) : (size ? (buf[0] = 0) : 0);
}

/* An optional trailing flag token ("sp", "ckpt"): 1 when it is next. */
static int parse_flag(uniap_strategy_scan *sc, const char *word, int *v)
{
    const char *t = uniap_strategy_scan_peek(sc);
    *v = t && strcmp(t, word) == 0;
    if (*v)
        uniap_strategy_scan_take(sc);
    return 0;
}

static int flag_values(int allowed, int *v, int max)
{
    int k = 0;
    for (int x = 0; x <= allowed && k < max; x++)
        v[k++] = x;
    return k;
}

/* ---- dp: data-parallel degree, the outer loop (cp x tp = n / dp
 * ascending) */

/* The largest cp the options allow (max_cp 0, not resolved by the cost
 * model: 1, no context parallelism). */
static int cp_limit(const uniap_cost_options *o)
{
    return o->max_cp > 1 ? o->max_cp : 1;
}

/* 1 when q = cp x tp splits into a cp <= max_cp and a tp <= max_tp. */
static int cp_tp_split(int q, const uniap_cost_options *o)
{
    for (int cp = 1; cp <= q && cp <= cp_limit(o); cp++)
        if (q % cp == 0 && (o->max_tp <= 0 || q / cp <= o->max_tp))
            return 1;
    return 0;
}

static int dp_values(const uniap_strategy *s, int n, int mb, const uniap_cost_options *o, int *v,
                     int max)
{
    int k = 0;
    (void)s;
    for (int q = 1; q <= n && k < max; q++) {
        int dp = n / q;
        if (n % q || mb % dp) /* local micro-batch must be whole */
            continue;
        if (!cp_tp_split(q, o))
            continue;
        v[k++] = dp;
    }
    return k;
}

static int dp_format(const uniap_strategy *s, int v, char *buf, size_t size)
{
    (void)s;
    return snprintf(buf, size, "dp%d", v);
}

static int dp_parse(uniap_strategy_scan *sc, const uniap_strategy *s, int *v)
{
    const char *tok = uniap_strategy_scan_take(sc), *rest = NULL;
    (void)s;
    if ((*v = parse_degree(tok, "dp", &rest)) < 0 || *rest)
        return uniap_err(UNIAP_EINVAL, "strategy '%s': bad token '%s', expected dp<D> with D >= 1",
                         sc->name, tok ? tok : "");
    return 0;
}

/* ---- cp: context-parallel degree (the sequence split over cp ranks),
 * ascending over the divisors of n / dp that the limits allow; written
 * ".cp<C>" when cp > 1, its variant letter after it */

static int cp_values(const uniap_strategy *s, int n, int mb, const uniap_cost_options *o, int *v,
                     int max)
{
    int q = n / s->dp, k = 0;
    (void)mb;
    for (int cp = 1; cp <= q && cp <= cp_limit(o) && k < max; cp++)
        if (q % cp == 0 && (o->max_tp <= 0 || q / cp <= o->max_tp))
            v[k++] = cp;
    return k;
}

static int cp_format(const uniap_strategy *s, int v, char *buf, size_t size)
{
    (void)s;
    return v > 1 ? snprintf(buf, size, ".cp%d", v) : fmt(buf, size, "%s", 0, "");
}

static int cp_parse(uniap_strategy_scan *sc, const uniap_strategy *s, int *v)
{
    const char *t = uniap_strategy_scan_peek(sc), *rest = NULL;
    (void)s;
    *v = 1;
    sc->rest = NULL;
    if (!t || strncmp(t, "cp", 2) != 0)
        return 0;
    uniap_strategy_scan_take(sc);
    if ((*v = parse_degree(t, "cp", &rest)) < 0)
        return uniap_err(UNIAP_EINVAL, "strategy '%s': bad token '%s', expected cp<C>[u]", sc->name,
                         t);
    sc->rest = rest; /* the variant letter, read by cp_variant */
    sc->rest_tok = t;
    return 0;
}

/* ---- cp_variant: ring attention (0, no letter; Megatron-LM's CP) or
 * DeepSpeed-Ulysses all-to-all (1, "u"), offered when cp > 1 */

static int cpv_values(const uniap_strategy *s, int n, int mb, const uniap_cost_options *o, int *v,
                      int max)
{
    (void)n, (void)mb;
    return flag_values(uniap_strategy_cp(s) > 1 && !o->no_ulysses, v, max);
}

static int cpv_format(const uniap_strategy *s, int v, char *buf, size_t size)
{
    return fmt(buf, size, "%s", uniap_strategy_cp(s) > 1 && v, "u");
}

static int cpv_parse(uniap_strategy_scan *sc, const uniap_strategy *s, int *v)
{
    const char *r = sc->rest ? sc->rest : "";
    (void)s;
    *v = *r == 'u';
    if (!(*r == 0 || (*r == 'u' && r[1] == 0)))
        return uniap_err(UNIAP_EINVAL,
                         "strategy '%s': bad token '%s', expected cp<C> (ring attention) or "
                         "cp<C>u (Ulysses)",
                         sc->name, sc->rest_tok);
    sc->rest = NULL;
    return 0;
}

static const char *cpv_check(const uniap_strategy *s, int v, char *msg, size_t size)
{
    (void)msg, (void)size;
    return v && uniap_strategy_cp(s) < 2 ? "Ulysses context parallelism needs cp > 1" : NULL;
}

/* ---- ep: expert-parallel degree (moe layers' experts split over ep of
 * the dp ranks, Megatron-Core's expert_model_parallel_size), ascending
 * over the divisors of dp up to max_ep; written ".ep<E>" when ep > 1.
 * Which layers take it (a moe layer whose experts ep divides) is the cost
 * model's (moe_comm.c). */

static int ep_values(const uniap_strategy *s, int n, int mb, const uniap_cost_options *o, int *v,
                     int max)
{
    int k = 0, lim = o->max_ep > 1 ? o->max_ep : 1;
    (void)n, (void)mb;
    for (int ep = 1; ep <= s->dp && ep <= lim && k < max; ep++)
        if (s->dp % ep == 0)
            v[k++] = ep;
    return k;
}

static int ep_format(const uniap_strategy *s, int v, char *buf, size_t size)
{
    (void)s;
    return v > 1 ? snprintf(buf, size, ".ep%d", v) : fmt(buf, size, "%s", 0, "");
}

static int ep_parse(uniap_strategy_scan *sc, const uniap_strategy *s, int *v)
{
    const char *t = uniap_strategy_scan_peek(sc), *rest = NULL;
    (void)s;
    *v = 1;
    if (!t || strncmp(t, "ep", 2) != 0)
        return 0;
    uniap_strategy_scan_take(sc);
    if ((*v = parse_degree(t, "ep", &rest)) < 0 || *rest)
        return uniap_err(UNIAP_EINVAL, "strategy '%s': bad token '%s', expected ep<E> with E >= 1",
                         sc->name, t);
    return 0;
}

static const char *ep_check(const uniap_strategy *s, int v, char *msg, size_t size)
{
    if (v <= 1 || s->dp % v == 0)
        return NULL;
    snprintf(msg, size, "ep%d needs ep to divide dp (%d)", v, s->dp);
    return msg;
}

/* ---- tp: tensor-parallel degree, n / (dp x cp) */

static int tp_values(const uniap_strategy *s, int n, int mb, const uniap_cost_options *o, int *v,
                     int max)
{
    (void)mb, (void)o;
    if (max < 1)
        return 0;
    v[0] = n / uniap_strategy_dpcp(s);
    return 1;
}

static int tp_format(const uniap_strategy *s, int v, char *buf, size_t size)
{
    (void)s;
    return snprintf(buf, size, ".tp%d", v);
}

static int tp_parse(uniap_strategy_scan *sc, const uniap_strategy *s, int *v)
{
    const char *tok = uniap_strategy_scan_take(sc), *rest = NULL;
    (void)s;
    if ((*v = parse_degree(tok, "tp", &rest)) < 0)
        return uniap_err(UNIAP_EINVAL, "strategy '%s': bad token '%s', expected tp<T>[c|s]",
                         sc->name, tok ? tok : "");
    sc->rest = rest; /* the placement letter, read by layout */
    sc->rest_tok = tok;
    return 0;
}

/* ---- layout: TP ranks consecutive (1, "c") or strided by dp (0, "s") */

static int layout_values(const uniap_strategy *s, int n, int mb, const uniap_cost_options *o,
                         int *v, int max)
{
    int k = 0;
    (void)n, (void)mb;
    if (max >= 1)
        v[k++] = 1;
    if (s->tp > 1 && s->dp > 1 && !o->no_strided && k < max)
        v[k++] = 0;
    return k;
}

static int layout_format(const uniap_strategy *s, int v, char *buf, size_t size)
{
    return fmt(buf, size, "%s", s->tp > 1, v ? "c" : "s");
}

static int layout_parse(uniap_strategy_scan *sc, const uniap_strategy *s, int *v)
{
    const char *r = sc->rest ? sc->rest : "";
    (void)s;
    *v = 1;
    if (*r == 's' && r[1] == 0)
        *v = 0;
    else if (!(*r == 0 || (*r == 'c' && r[1] == 0)))
        return uniap_err(UNIAP_EINVAL, "strategy '%s': bad token '%s', expected tp<T>c or tp<T>s",
                         sc->name, sc->rest_tok);
    sc->rest = NULL;
    return 0;
}

static const char *layout_check(const uniap_strategy *s, int v, char *msg, size_t size)
{
    (void)msg, (void)size;
    return !v && (s->tp < 2 || s->dp < 2) ? "a strided TP group needs tp > 1 and dp > 1" : NULL;
}

/* ---- flavour: how DP shards model states (dp > 1 only) */

static const char *const flavour_token[] = {"ddp", "zero1", "zero2", "zero3"};

static int flavour_values(const uniap_strategy *s, int n, int mb, const uniap_cost_options *o,
                          int *v, int max)
{
    int k = 0, all = s->dp > 1 && !o->no_zero;
    (void)n, (void)mb;
    for (int f = 0; f < (all ? 4 : 1) && k < max; f++)
        if (!all || !o->flavours || (o->flavours & (1u << f))) /* --flavours */
            v[k++] = f;
    return k;
}

static int flavour_format(const uniap_strategy *s, int v, char *buf, size_t size)
{
    return fmt(buf, size, ".%s", s->dp > 1, flavour_token[v]);
}

static int flavour_parse(uniap_strategy_scan *sc, const uniap_strategy *s, int *v)
{
    const char *t = uniap_strategy_scan_peek(sc);
    (void)s;
    *v = UNIAP_DP_DDP;
    for (int i = 0; t && i < 4; i++)
        if (strcmp(t, flavour_token[i]) == 0)
            *v = i;
    if (t && strcmp(t, "fsdp") == 0) /* alias of zero3 */
        *v = UNIAP_DP_FSDP;
    if (*v != UNIAP_DP_DDP || (t && strcmp(t, "ddp") == 0))
        uniap_strategy_scan_take(sc);
    return 0;
}

static const char *flavour_check(const uniap_strategy *s, int v, char *msg, size_t size)
{
    if (v == UNIAP_DP_DDP || s->dp >= 2)
        return NULL;
    snprintf(msg, size, "%s needs dp > 1", flavour_token[v]);
    return msg;
}

/* ---- sp: Megatron sequence parallelism (tp > 1 only) */

static int sp_values(const uniap_strategy *s, int n, int mb, const uniap_cost_options *o, int *v,
                     int max)
{
    (void)n, (void)mb;
    return flag_values(s->tp > 1 && !o->no_sp, v, max);
}

static int sp_format(const uniap_strategy *s, int v, char *buf, size_t size)
{
    (void)s;
    return fmt(buf, size, "%s", v, ".sp");
}

static int sp_parse(uniap_strategy_scan *sc, const uniap_strategy *s, int *v)
{
    (void)s;
    return parse_flag(sc, "sp", v);
}

static const char *sp_check(const uniap_strategy *s, int v, char *msg, size_t size)
{
    (void)msg, (void)size;
    return v && s->tp < 2 ? "sequence parallelism needs tp > 1" : NULL;
}

/* ---- ckpt: activation checkpointing, by granularity: none (0), full (1,
 * ".ckpt": the layer's input kept, the forward recomputed), selective (2,
 * ".selckpt": the attention core recomputed, Korthikanti et al. 2022 s5);
 * the granularities the options allow (ckpt_modes, from the model's
 * "checkpointing"), in that order */

static const char *const ckpt_token[] = {"", "ckpt", "selckpt"};

static int ckpt_values(const uniap_strategy *s, int n, int mb, const uniap_cost_options *o, int *v,
                       int max)
{
    unsigned modes = o->ckpt_modes ? o->ckpt_modes : UNIAP_CKPT_DEFAULT;
    int k = 0;
    (void)s, (void)n, (void)mb;
    if (o->no_ckpt)
        modes = UNIAP_CKPT_BIT(UNIAP_CKPT_NONE);
    for (int g = 0; g < UNIAP_CKPT_COUNT && k < max; g++)
        if (modes & UNIAP_CKPT_BIT(g))
            v[k++] = g;
    return k;
}

static int ckpt_format(const uniap_strategy *s, int v, char *buf, size_t size)
{
    (void)s;
    return v > 0 && v < UNIAP_CKPT_COUNT ? snprintf(buf, size, ".%s", ckpt_token[v])
                                         : fmt(buf, size, "%s", 0, "");
}

static int ckpt_parse(uniap_strategy_scan *sc, const uniap_strategy *s, int *v)
{
    const char *t = uniap_strategy_scan_peek(sc);
    (void)s;
    *v = UNIAP_CKPT_NONE;
    for (int g = 1; t && g < UNIAP_CKPT_COUNT; g++)
        if (strcmp(t, ckpt_token[g]) == 0)
            *v = g;
    if (*v != UNIAP_CKPT_NONE)
        uniap_strategy_scan_take(sc);
    return 0;
}

#define FIELD(f) offsetof(uniap_strategy, f)

/* The list, in name, parsing and enumeration order. */
const uniap_strategy_dim uniap__strategy_dims[] = {
    {"dp", "dp<D>", NULL, FIELD(dp), dp_values, dp_format, dp_parse, NULL},
    {"cp", "[.cp<C>", NULL, FIELD(cp), cp_values, cp_format, cp_parse, NULL},
    {"cp_variant", "[u]]", NULL, FIELD(cp_a2a), cpv_values, cpv_format, cpv_parse, cpv_check},
    {"ep", "[.ep<E>]", NULL, FIELD(ep), ep_values, ep_format, ep_parse, ep_check},
    {"tp", ".tp<T>", NULL, FIELD(tp), tp_values, tp_format, tp_parse, NULL},
    {"layout", "[c|s]", NULL, FIELD(tp_consecutive), layout_values, layout_format, layout_parse,
     layout_check},
    {"flavour", "[.flavour]", "ddp|zero1|zero2|zero3|fsdp", FIELD(flavour), flavour_values,
     flavour_format, flavour_parse, flavour_check},
    {"sp", "[.sp]", "sp", FIELD(sp), sp_values, sp_format, sp_parse, sp_check},
    {"ckpt", "[.ckpt|.selckpt]", "ckpt|selckpt", FIELD(ckpt), ckpt_values, ckpt_format, ckpt_parse,
     NULL},
};
const int uniap__strategy_n_dims = sizeof(uniap__strategy_dims) / sizeof(uniap__strategy_dims[0]);
