/*
 * runtime.c - the table of training runtimes (one descriptor per
 * runtime_<name>.c) and what turns a descriptor into the runtime's plans
 * of one cost table (a uniap_space, method.md section 10): for each
 * global setting the runtime enumerates (a variant) the strategies each
 * layer may use and the stage rules, and the check of a plan against a
 * variant. Rules every runtime shares (a setting's tp, sp and DP
 * flavours; recomputation only on transformer blocks) are applied here,
 * the runtime's own through its layer_ok hook.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_internal.h"

static const cm_runtime *const RUNTIMES[] = {&uniap__rt_any, &uniap__rt_megatron,
                                             &uniap__rt_deepspeed, &uniap__rt_torchtitan,
                                             &uniap__rt_galvatron};
#define N_RUNTIMES ((int)(sizeof(RUNTIMES) / sizeof(RUNTIMES[0])))

static const cm_runtime *rt_get(uniap_runtime r)
{
    return r >= 0 && r < N_RUNTIMES ? RUNTIMES[r] : NULL;
}

const char *const *uniap_runtime_names(void)
{
    static const char *names[N_RUNTIMES + 1];
    for (int i = 0; i < N_RUNTIMES; i++)
        names[i] = RUNTIMES[i]->name;
    names[N_RUNTIMES] = NULL;
    return names;
}

int uniap_runtime_parse(const char *name, uniap_runtime *out)
{
    char list[160] = "";
    for (int i = 0; i < N_RUNTIMES; i++) {
        if (name && !strcmp(name, RUNTIMES[i]->name)) {
            *out = i;
            return UNIAP_OK;
        }
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i ? (i + 1 < N_RUNTIMES ? ", " : " or ") : "",
                 RUNTIMES[i]->name);
    }
    return uniap_err(UNIAP_EINVAL, "runtime '%s': expected %s", name ? name : "", list);
}

const char *uniap_runtime_name(uniap_runtime r)
{
    return rt_get(r) ? rt_get(r)->name : "?";
}

const char *uniap_runtime_help(uniap_runtime r)
{
    return rt_get(r) ? rt_get(r)->help : NULL;
}

int uniap_runtime_micro_batches_ok(uniap_runtime r, int64_t B, int c)
{
    const cm_runtime *rt = rt_get(r);
    if (!rt || uniap_micro_batch_size(B, c) == 0)
        return 0;
    return B % c == 0 || rt->uneven_micro_batches;
}

int uniap_runtime_schedule_ok(uniap_runtime r, uniap_schedule s)
{
    const cm_runtime *rt = rt_get(r);
    const uniap_schedule_desc *d = uniap_schedule_get(s);
    return rt && d && (!rt->schedule_ok || rt->schedule_ok(d));
}

int uniap_runtime_model_check(uniap_runtime r, const uniap_model *m)
{
    const cm_runtime *rt = rt_get(r);
    if (!rt)
        return uniap_err(UNIAP_EINVAL, "runtime %d: no such runtime", r);
    return rt->model_check ? rt->model_check(m) : UNIAP_OK;
}

void uniap_runtime_roles(const uniap_model *m, int *role, double *params)
{
    for (int u = 0; u < m->n_layers; u++) {
        const uniap_layer *l = &m->runs[uniap_model_run_of(m, u)];
        cm_layer_role cr = uniap__cm_layer_kind(l->kind)->role;
        role[u] = cr == CM_ROLE_BLOCK   ? UNIAP_RT_BLOCK
                  : cr == CM_ROLE_FIRST ? UNIAP_RT_FIRST
                  : cr == CM_ROLE_LAST  ? UNIAP_RT_LAST
                                        : UNIAP_RT_OTHER;
        params[u] = (double)uniap_layer_params(l);
    }
}

unsigned uniap_runtime_model_flags(const uniap_model *m)
{
    int grad = m->training.grad_dtype ? m->training.grad_dtype - 1 : (int)m->param_dtype;
    return (uniap_model_has_experts(m) ? UNIAP_RT_MOE : 0u) |
           (m->param_dtype == UNIAP_DTYPE_BF16 ? UNIAP_RT_BF16 : 0u) |
           (m->mixed_precision ? UNIAP_RT_MIXED : 0u) |
           (m->param_dtype != UNIAP_DTYPE_FP32 && grad != (int)m->param_dtype ? UNIAP_RT_WIDE_GRADS
                                                                              : 0u);
}

/* ---- building a space ---- */

/* What t offers (distinct tp ascending, sp, recomputation values). */
/* Inserts x into the ascending distinct v[0..*n) (capacity 32). */
static void insert_sorted(int *v, int *n, int x)
{
    int a = 0;
    while (a < *n && v[a] < x)
        a++;
    if ((a == *n || v[a] != x) && *n < 32) {
        memmove(v + a + 1, v + a, sizeof(int) * (size_t)(*n - a));
        v[a] = x;
        (*n)++;
    }
}

static void offer_of(const uniap_cost_table *t, cm_rt_offer *o)
{
    memset(o, 0, sizeof(*o));
    o->deg = t->deg;
    o->n = t->stage_devices;
    for (int k = 0; k < t->n_strategies; k++) {
        const uniap_strategy *s = &t->strategies[k];
        int cp = uniap_strategy_cp(s);
        insert_sorted(o->tp, &o->n_tp, s->tp);
        insert_sorted(o->cp, &o->n_cp, cp);
        insert_sorted(o->ep, &o->n_ep, uniap_strategy_ep(s));
        o->has_sp |= s->sp;
        o->ckpt |= UNIAP_CKPT_BIT(s->ckpt);
        o->has_a2a |= cp > 1 && s->cp_a2a;
    }
}

/* s may run on a layer of role under v: the shared rules, then the
 * runtime's own; ep is the layer's expert-parallel degree under v
 * (add_variant). */
static int layer_allowed(const cm_runtime *rt, const cm_rt_setting *v, int role, int ep,
                         const uniap_strategy *s)
{
    int blk = role == UNIAP_RT_BLOCK, ck = s->ckpt, ok;
    if ((v->tp && s->tp != v->tp) || (v->sp >= 0 && s->tp > 1 && s->sp != v->sp) ||
        (uniap_strategy_dpcp(s) > 1 && !(v->flavours & CM_FLAVOUR_BIT(s->flavour))))
        return 0;
    /* context parallelism: one degree and variant for every layer, as the
     * runtimes that have it run it (a process-group setting), or each
     * layer its own (CM_RT_CP_PER_LAYER: Galvatron); none in the others */
    if (v->ckpt != CM_RT_CKPT_ANY && v->cp != CM_RT_CP_PER_LAYER &&
        (uniap_strategy_cp(s) != (v->cp > 1 ? v->cp : 1) || (v->cp > 1 && s->cp_a2a != v->cp_a2a)))
        return 0;
    /* expert parallelism: one degree for every moe layer (a process-group
     * setting: torchtitan's expert_parallel_degree, DeepSpeed-MoE's
     * ep_size), ep 1 in the others; none in a runtime whose settings
     * offer none */
    if (v->ckpt != CM_RT_CKPT_ANY && uniap_strategy_ep(s) != ep)
        return 0;
    for (int e = 0; e < UNIAP_STRATEGY_EXT && v->ckpt != CM_RT_CKPT_ANY; e++)
        if (s->ext[e])
            return 0; /* a dimension registered at run time: no runtime knows it */
    switch (v->ckpt) {
    case CM_RT_CKPT_ANY:
        ok = 1;
        break;
    case CM_RT_CKPT_PER_LAYER:
    case CM_RT_CKPT_BLOCK:
        ok = ck == UNIAP_CKPT_NONE || (blk && ck == UNIAP_CKPT_FULL);
        break;
    case CM_RT_CKPT_FULL:
        ok = blk ? ck == UNIAP_CKPT_FULL : ck == UNIAP_CKPT_NONE;
        break;
    case CM_RT_CKPT_SELECTIVE:
        ok = blk ? ck == UNIAP_CKPT_SELECTIVE : ck == UNIAP_CKPT_NONE;
        break;
    default:
        ok = ck == UNIAP_CKPT_NONE;
    }
    return ok && (!rt->layer_ok || rt->layer_ok(v, role, s));
}

/* The label of a setting: "tp4 sp zero1 recompute-block middle-equal". */
static void label_of(const cm_rt_setting *v, char *buf, size_t n)
{
    static const char *const fl[] = {"ddp", "zero1", "zero2", "fsdp"};
    static const char *const ck[] = {"",
                                     "no-recompute",
                                     "recompute-per-layer",
                                     "recompute-full",
                                     "recompute-selective",
                                     "recompute-block"};
    static const char *const sp[] = {"split-any",        "split-middle-equal", "split-uniform",
                                     "split-parameters", "split-type",         "split-equal"};
    _Static_assert(sizeof sp / sizeof sp[0] == CM_RT_SPLIT_EQUAL + 1, "a name per split");
    int w = v->tp ? snprintf(buf, n, "tp%d", v->tp) : snprintf(buf, n, "tp-per-layer");
    if (v->sp >= 0 && w >= 0 && (size_t)w < n)
        w += snprintf(buf + w, n - (size_t)w, v->sp ? " sp" : " no-sp");
    for (int f = 0; f < 4 && w >= 0 && (size_t)w < n; f++)
        if (v->flavours & CM_FLAVOUR_BIT(f))
            w += snprintf(buf + w, n - (size_t)w, " %s", fl[f]);
    if (v->ckpt && w >= 0 && (size_t)w < n)
        w += snprintf(buf + w, n - (size_t)w, " %s", ck[v->ckpt]);
    if (v->cp > 1 && w >= 0 && (size_t)w < n)
        w += snprintf(buf + w, n - (size_t)w, " cp%d%s", v->cp, v->cp_a2a ? "-a2a" : "");
    if (v->ep > 1 && w >= 0 && (size_t)w < n)
        w += snprintf(buf + w, n - (size_t)w, " ep%d", v->ep);
    if (v->split && w >= 0 && (size_t)w < n)
        snprintf(buf + w, n - (size_t)w, " %s",
                 v->split > 0 && v->split <= CM_RT_SPLIT_EQUAL ? sp[v->split] : "split-?");
}

void uniap_space_free(uniap_space *s)
{
    if (!s)
        return;
    for (int a = 0; a < s->n_variants && s->v; a++) {
        free(s->v[a].allowed);
        free(s->v[a].stage_lo);
        free(s->v[a].stage_hi);
    }
    free(s->v);
    free(s->counted);
    free(s->marked);
    free(s->tie);
    free(s->key);
    memset(s, 0, sizeof(*s));
}

/* Variant a equals an earlier one (the same strategies and rules: two
 * partition methods that split alike). */
static int duplicate(const uniap_space *s, int a)
{
    size_t LK = (size_t)s->n_layers * s->n_strategies, L = (size_t)s->n_layers;
    const uniap_space_variant *x = &s->v[a];
    for (int b = 0; b < a; b++) {
        const uniap_space_variant *y = &s->v[b];
        if (x->equal_middle != y->equal_middle || x->equal_marked != y->equal_marked ||
            x->min_counted != y->min_counted || !x->stage_lo != !y->stage_lo ||
            memcmp(x->allowed, y->allowed, LK) != 0)
            continue;
        if (!x->stage_lo || (!memcmp(x->stage_lo, y->stage_lo, L * sizeof(int)) &&
                             !memcmp(x->stage_hi, y->stage_hi, L * sizeof(int))))
            return 1;
    }
    return 0;
}

/* Fills variant out->v[out->n_variants] from setting v; keeps it (count
 * grows) unless some layer is left without a strategy, its split is not
 * possible, or it repeats an earlier one. */
/* CM_RT_SPLIT_EQUAL (interleaving): B blocks on D stages, B / D each, a
 * multiple of the chunks; the layers before the first block on stage 0,
 * those after the last on stage D - 1. 0 when B is no multiple of D x
 * chunks (Megatron-LM refuses: arguments.py; torchtitan runs it, export_torchtitan.c). */
static int equal_stages(const cm_rt_setting *v, int L, int D, const int *role, int *stage_of)
{
    int B = 0, k = v->chunks > 1 ? v->chunks : 1;
    for (int u = 0; u < L; u++)
        B += role[u] == UNIAP_RT_BLOCK;
    if (v->split != CM_RT_SPLIT_EQUAL || B < D * k || B % (D * k))
        return 0;
    for (int u = 0, b = 0; u < L; u++) {
        int blk = role[u] == UNIAP_RT_BLOCK;
        stage_of[u] = blk ? b / (B / D) : b == 0 ? 0 : D - 1;
        b += blk;
    }
    return 1;
}

static int add_variant(const cm_runtime *rt, const cm_rt_setting *v, const int *role,
                       const double *params, const uniap_cost_table *t, uniap_space *out)
{
    int L = t->n_layers, K = t->n_strategies, Q = t->n_classes;
    uniap_space_variant *x = &out->v[out->n_variants];
    memset(x, 0, sizeof(*x));
    label_of(v, x->label, sizeof x->label);
    if (!(x->allowed = calloc((size_t)L * K, 1)))
        return uniap_err(UNIAP_ENOMEM, "runtime %s: out of memory for a variant", rt->name);
    for (int u = 0; u < L; u++) {
        int any = 0, ep = 1;
        for (int k = 0; k < K && v->ep > 1 && ep == 1; k++) /* a layer taking v's ep */
            for (int q = 0; q < Q && ep == 1; q++)
                if (t->allowed[uniap_ct_ix(t, q, u, k)] &&
                    uniap_strategy_ep(&t->strategies[k]) == v->ep)
                    ep = v->ep;
        for (int k = 0; k < K; k++) {
            int somewhere = 0;
            for (int q = 0; q < Q && !somewhere; q++)
                somewhere = t->allowed[uniap_ct_ix(t, q, u, k)];
            any |= x->allowed[(size_t)u * K + k] =
                somewhere && layer_allowed(rt, v, role[u], ep, &t->strategies[k]);
        }
        if (!any)
            goto drop; /* a layer the setting cannot run */
    }
    x->equal_middle = v->split == CM_RT_SPLIT_MIDDLE_EQUAL && t->deg >= 4;
    x->equal_marked = v->ckpt == CM_RT_CKPT_BLOCK;
    x->min_counted = t->deg > 1 ? rt->min_counted : 0;
    if ((rt->stages && v->split >= CM_RT_SPLIT_UNIFORM) || v->split == CM_RT_SPLIT_EQUAL) {
        x->stage_lo = malloc(sizeof(int) * (size_t)L);
        x->stage_hi = malloc(sizeof(int) * (size_t)L);
        if (!x->stage_lo || !x->stage_hi) {
            free(x->allowed), free(x->stage_lo), free(x->stage_hi);
            return uniap_err(UNIAP_ENOMEM, "runtime %s: out of memory for a split", rt->name);
        }
        if (v->split == CM_RT_SPLIT_EQUAL ? !equal_stages(v, L, t->deg, role, x->stage_lo)
                                          : !rt->stages(v, L, t->deg, role, params, x->stage_lo))
            goto drop;
        memcpy(x->stage_hi, x->stage_lo, sizeof(int) * (size_t)L);
    }
    out->n_variants++;
    if (duplicate(out, out->n_variants - 1)) {
        out->n_variants--;
        goto drop;
    }
    return UNIAP_OK;
drop:
    free(x->allowed);
    free(x->stage_lo);
    free(x->stage_hi);
    memset(x, 0, sizeof(*x));
    return UNIAP_OK;
}

/* Position of v in the sorted list a[n] (offer_of's tp and cp lists). */
static int index_of(const int *a, int n, int v)
{
    for (int i = 0; i < n; i++)
        if (a[i] == v)
            return i;
    return n;
}

/* The tie key of s under offer o: its tp, FSDP-or-not and cp degree and
 * variant (what tied edges share: Galvatron's vtp, vocab_sdp, vcp and
 * vsp), as the positions of its tp and cp in o's lists (at most 32 each). */
static int tie_key(const cm_rt_offer *o, const uniap_strategy *s)
{
    int cp = uniap_strategy_cp(s), a2a = cp > 1 && s->cp_a2a,
        fsdp = uniap_strategy_dpcp(s) > 1 && s->flavour == UNIAP_DP_FSDP;
    return ((index_of(o->tp, o->n_tp, s->tp) * 2 + fsdp) * 2 + a2a) * 64 +
           index_of(o->cp, o->n_cp, cp);
}

int uniap_runtime_space(uniap_runtime r, const int *role, const double *params, unsigned flags,
                        uniap_schedule sched, const uniap_cost_table *t, uniap_space *out)
{
    const cm_runtime *rt = rt_get(r);
    int L = t->n_layers, K = t->n_strategies, rc = UNIAP_OK, edges = 0;
    cm_rt_setting *set = NULL;
    cm_rt_offer o;

    memset(out, 0, sizeof(*out));
    if (!rt)
        return uniap_err(UNIAP_EINVAL, "runtime %d: no such runtime", r);
    snprintf(out->runtime, sizeof out->runtime, "%s", rt->name);
    out->n_layers = L;
    out->n_strategies = K;
    offer_of(t, &o);
    o.model = flags;
    o.virtual_stages = uniap_schedule_virtual_stages(sched);
    set = malloc(sizeof(*set) * CM_RT_MAX_SETTINGS);
    out->counted = calloc((size_t)L, 1);
    out->marked = calloc((size_t)K, 1);
    out->tie = malloc(sizeof(int) * (size_t)L);
    out->key = malloc(sizeof(int) * (size_t)K);
    if (!set || !out->counted || !out->marked || !out->tie || !out->key) {
        rc = uniap_err(UNIAP_ENOMEM, "runtime %s: out of memory for its space", rt->name);
        goto free_set;
    }
    for (int u = 0; u < L; u++) {
        out->counted[u] = role[u] == UNIAP_RT_BLOCK;
        edges += role[u] == UNIAP_RT_FIRST || role[u] == UNIAP_RT_LAST;
    }
    for (int u = 0; u < L; u++)
        out->tie[u] =
            rt->tie_edges && edges >= 2 && (role[u] == UNIAP_RT_FIRST || role[u] == UNIAP_RT_LAST)
                ? 0
                : -1;
    for (int k = 0; k < K; k++) {
        const uniap_strategy *s = &t->strategies[k];
        out->marked[k] = s->ckpt == UNIAP_CKPT_FULL;
        out->key[k] = tie_key(&o, s);
    }
    /* a count that does not divide the global batch: no plan of a runtime
     * that runs only even micro-batches (the space is empty) */
    int runs = t->global_batch <= 0 ||
               uniap_runtime_micro_batches_ok(r, t->global_batch, t->micro_batches);
    int n_set = runs ? rt->settings(&o, set, CM_RT_MAX_SETTINGS) : 0;
    if (!(out->v = calloc((size_t)(n_set > 0 ? n_set : 1), sizeof(*out->v)))) {
        rc = uniap_err(UNIAP_ENOMEM, "runtime %s: out of memory for %d variants", rt->name, n_set);
        goto free_set;
    }
    for (int a = 0; a < n_set && rc == UNIAP_OK; a++)
        rc = add_variant(rt, &set[a], role, params, t, out);
free_set:
    free(set);
    return rc;
}

/* ---- checking a plan ---- */

static int broken(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int broken(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && n)
        vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return 0;
}

/* The stage rules of variant x over counted layers. */
static int check_stages(const uniap_space *s, const uniap_space_variant *x,
                        const uniap_cost_table *t, const int *stage_of, const int *strategy_of,
                        char *why, size_t n)
{
    int D = t->deg, L = t->n_layers, mid = -1, mark0 = -1;
    for (int i = 0; i < D; i++) {
        int c = 0, mk = 0, seen_plain = 0;
        for (int u = 0; u < L; u++) {
            if (stage_of[u] != i || !s->counted[u])
                continue;
            int m = s->marked[strategy_of[u]];
            c++;
            mk += m;
            if (m && seen_plain && x->equal_marked)
                return broken(why, n, "stage %d: block %d recomputes after a block that does not",
                              i, u);
            seen_plain |= !m;
        }
        if (c < x->min_counted)
            return broken(why, n, "stage %d holds %d blocks, fewer than %d", i, c, x->min_counted);
        if (x->equal_middle && i >= 1 && i + 1 < D) {
            if (mid >= 0 && c != mid)
                return broken(why, n, "stage %d holds %d blocks, stage 1 %d", i, c, mid);
            mid = c;
        }
        if (x->equal_marked) {
            if (mark0 >= 0 && mk != mark0)
                return broken(why, n, "stage %d recomputes %d blocks, stage 0 %d", i, mk, mark0);
            mark0 = mk;
        }
    }
    return 1;
}

int uniap_space_check(const uniap_space *s, int v, const uniap_cost_table *t, const int *stage_of,
                      const int *strategy_of, char *why, size_t n)
{
    int L = t->n_layers, K = t->n_strategies, key = -1;
    if (v < 0 || v >= s->n_variants || L != s->n_layers || K != s->n_strategies)
        return broken(why, n, "variant %d of %d (or another table)", v, s->n_variants);
    const uniap_space_variant *x = &s->v[v];
    for (int u = 0; u < L; u++) {
        int k = strategy_of[u];
        if (k < 0 || k >= K || !x->allowed[(size_t)u * K + k])
            return broken(why, n, "layer %d: strategy %d is not the runtime's here", u, k);
        if (x->stage_lo && (stage_of[u] < x->stage_lo[u] || stage_of[u] > x->stage_hi[u]))
            return broken(why, n, "layer %d on stage %d, not %d", u, stage_of[u], x->stage_lo[u]);
        if (s->tie[u] >= 0) {
            if (key >= 0 && s->key[k] != key)
                return broken(why, n, "layer %d: tie key %d, not %d", u, s->key[k], key);
            key = s->key[k];
        }
    }
    return check_stages(s, x, t, stage_of, strategy_of, why, n);
}
