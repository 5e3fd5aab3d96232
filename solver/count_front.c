/*
 * count_front.c - the Pareto fronts of the count bound: for n layers of
 * one kind (layers whose rows are equal) on one stage signature (device
 * class and micro-batches in flight), every mix of strategies that no
 * other mix beats in both bytes and seconds. Built as an unbounded
 * knapsack over the count: front n is the Pareto-minimal set of front
 * n - 1 plus one layer on each strategy, merged from those shifted copies
 * (each sorted as front n - 1 is) through a heap. Exact (no rounding of bytes or
 * seconds); bounded by CB_WORK_LIMIT and CB_MAX_POINTS so that a
 * pathological table costs a bounded time and gives no bound.
 */
#include <stdlib.h>
#include <string.h>

#include "count_internal.h"
#include "uniap_io.h"

void cb_pool_free(cb_pool *pool)
{
    free(pool->p);
    memset(pool, 0, sizeof(*pool));
}

void cb_front_free(cb_front *f)
{
    free(f->off);
    f->off = NULL;
}

static int reserve(cb_point **p, long *cap, long need)
{
    if (need <= *cap)
        return UNIAP_OK;
    long c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    cb_point *q = realloc(*p, sizeof(cb_point) * (size_t)c);
    if (!q)
        return uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound's fronts");
    *p = q;
    *cap = c;
    return UNIAP_OK;
}

/* bytes, then seconds, then strategy and parent: a total order, so that
 * the front (and the plan read back from it) is the same on any machine */
static int before(const cb_point *x, const cb_point *y)
{
    if (x->m != y->m)
        return x->m < y->m;
    if (x->t != y->t)
        return x->t < y->t;
    if (x->k != y->k)
        return x->k < y->k;
    return x->parent < y->parent;
}

/* A binary heap of the heads of the shifted fronts (front n - 1 plus one
 * layer on item j, each sorted by bytes as front n - 1 is). */
typedef struct heap {
    cb_point *head; /* [n] */
    int *item;      /* [n] */
    int n;
} heap;

static void sift_down(heap *h, int a)
{
    for (;;) {
        int l = 2 * a + 1, r = l + 1, m = a;
        if (l < h->n && before(&h->head[l], &h->head[m]))
            m = l;
        if (r < h->n && before(&h->head[r], &h->head[m]))
            m = r;
        if (m == a)
            return;
        cb_point tp = h->head[a];
        int ti = h->item[a];
        h->head[a] = h->head[m];
        h->item[a] = h->item[m];
        h->head[m] = tp;
        h->item[m] = ti;
        a = m;
    }
}

/* Items no other beats in both bytes and seconds (a mix using a beaten one
 * is beaten by the same mix using its better): the rest never make a
 * front point. Kept in their order; returns how many. */
static int pareto_items(const cb_item *items, int n, cb_item *out)
{
    int kept = 0;
    for (int a = 0; a < n; a++) {
        int beaten = 0;
        for (int b = 0; b < n && !beaten; b++)
            beaten = b != a && items[b].m <= items[a].m && items[b].t <= items[a].t &&
                     (items[b].m < items[a].m || items[b].t < items[a].t || b < a);
        if (!beaten)
            out[kept++] = items[a];
    }
    return kept;
}

/* Appends to the pool one front: the Pareto-minimal points of each
 * source's points [lo, hi), plus its seconds add, plus one layer on each
 * item, bytes at most cap (h and next: scratch of n_src x n_items). 0,
 * UNIAP_ENOMEM, or 1 past the work limits. */
static int merge_step(cb_pool *pool, const cb_item *items, int n_items, const cb_source *src,
                      int n_src, double cap, heap *h, long *next)
{
    long first = pool->n;
    int rc;
    h->n = 0;
    for (int s = 0; s < n_src; s++) {
        long lo = src[s].lo, hi = src[s].hi;
        pool->work += (hi - lo) * n_items;
        for (int j = 0; j < n_items && lo < hi; j++) {
            int e = s * n_items + j;
            next[e] = lo;
            h->head[h->n] =
                (cb_point){pool->p[lo].m + items[j].m, pool->p[lo].t + src[s].add + items[j].t,
                           (int)lo, items[j].k};
            h->item[h->n++] = e;
        }
    }
    if (pool->work > CB_WORK_LIMIT)
        return 1;
    /* merge the shifted fronts in order, keeping each point faster than
     * every lighter one */
    for (int a = h->n / 2 - 1; a >= 0; a--)
        sift_down(h, a);
    while (h->n > 0 && h->head[0].m <= cap) {
        cb_point top = h->head[0];
        int e = h->item[0], s = e / n_items, j = e % n_items;
        if (pool->n == first || top.t < pool->p[pool->n - 1].t) {
            if ((rc = reserve(&pool->p, &pool->cap, pool->n + 1)) < 0)
                return rc;
            pool->p[pool->n++] = top;
        }
        if (++next[e] < src[s].hi) {
            long x = next[e];
            h->head[0] = (cb_point){pool->p[x].m + items[j].m,
                                    pool->p[x].t + src[s].add + items[j].t, (int)x, items[j].k};
        } else {
            h->head[0] = h->head[--h->n];
            h->item[0] = h->item[h->n];
        }
        sift_down(h, 0);
    }
    return pool->n > CB_MAX_POINTS ? 1 : UNIAP_OK;
}

/* cb_front_build (base NULL: f's own front n - 1) and cb_front_build_plus */
static int build(cb_pool *pool, const cb_item *all, int n_all, const cb_front *base, int nmax,
                 double cap, cb_front *f)
{
    int rc = UNIAP_OK, n_items;
    size_t na = (size_t)(n_all ? n_all : 1);
    cb_item *items = malloc(sizeof(cb_item) * na);
    heap h = {malloc(sizeof(cb_point) * na), malloc(sizeof(int) * na), 0};
    long *next = malloc(sizeof(long) * na);
    f->nmax = nmax;
    f->off = malloc(sizeof(long) * (size_t)(nmax + 2));
    if (!items || !h.head || !h.item || !next || !f->off ||
        reserve(&pool->p, &pool->cap, pool->n + 1) < 0) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound's fronts");
        goto fail;
    }
    n_items = pareto_items(all, n_all, items);
    /* front 0: the empty mix (none when a layer is required) */
    f->off[0] = pool->n;
    if (!base)
        pool->p[pool->n++] = (cb_point){0, 0, -1, -1};
    f->off[1] = pool->n;
    for (int n = 1; n <= nmax; n++) {
        const cb_front *from = base ? base : f;
        cb_source src = {from->off[n - 1], from->off[n], 0};
        if ((rc = merge_step(pool, items, n_items, &src, 1, cap, &h, next)) != 0)
            goto fail;
        f->off[n + 1] = pool->n;
    }
    goto free_heap;
fail:
    cb_front_free(f);
free_heap:
    free(items);
    free(h.head);
    free(h.item);
    free(next);
    return rc;
}

int cb_front_build(cb_pool *pool, const cb_item *all, int n_all, int nmax, double cap, cb_front *f)
{
    return build(pool, all, n_all, NULL, nmax, cap, f);
}

int cb_front_build_plus(cb_pool *pool, const cb_item *items, int n_items, const cb_front *base,
                        double cap, cb_front *f)
{
    return build(pool, items, n_items, base, base->nmax, cap, f);
}

long cb_range_query(const cb_pool *pool, long lo, long hi, double r)
{
    if (lo == hi || pool->p[lo].m > r)
        return -1;
    /* the last point with m <= r: t descends along the front */
    while (hi - lo > 1) {
        long mid = lo + (hi - lo) / 2;
        if (pool->p[mid].m <= r)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

long cb_front_query(const cb_pool *pool, const cb_front *f, int n, double r)
{
    if (n < 0 || n > f->nmax)
        return -1;
    return cb_range_query(pool, f->off[n], f->off[n + 1], r);
}

int cb_seq_build(cb_pool *pool, const cb_item *all, int n_all, const int *class_of, int C, int f,
                 int nmax, int N, double cap, const double *chg, long *lo, long *hi)
{
    int rc = UNIAP_OK;
    size_t na = (size_t)(n_all ? n_all : 1);
    cb_item *items = malloc(sizeof(cb_item) * na * 2), *by = items + na;
    int *nby = calloc((size_t)C + 1, sizeof(int));
    cb_source *src = malloc(sizeof(cb_source) * (size_t)C);
    heap h = {malloc(sizeof(cb_point) * na * C), malloc(sizeof(int) * na * C), 0};
    long *next = malloc(sizeof(long) * na * C);
    if (!items || !nby || !src || !h.head || !h.item || !next ||
        reserve(&pool->p, &pool->cap, pool->n + 1) < 0) {
        rc = uniap_err(UNIAP_ENOMEM, "solver: out of memory for the count bound's fronts");
        goto free_heap;
    }
    /* the items by class (by[nby[x] ..]: class x's, beaten ones dropped) */
    for (int x = 0, at = 0; x < C; x++) {
        int n = 0;
        for (int j = 0; j < n_all; j++)
            if (class_of[all[j].k] == x)
                items[n++] = all[j];
        nby[x] = at;
        at += pareto_items(items, n, by + at);
        nby[x + 1] = at;
    }
    long empty = pool->n;
    pool->p[pool->n++] = (cb_point){0, 0, -1, -1};
    for (int x = 0; x < C; x++)
        lo[x * N] = hi[x * N] = empty;
    for (int n = 1; n <= nmax && rc == UNIAP_OK; n++)
        for (int x = 0; x < C && rc == UNIAP_OK; x++) {
            int ns = 0;
            if (n == 1 && x == f)
                src[ns++] = (cb_source){empty, empty + 1, 0};
            for (int y = 0; n > 1 && y < C; y++)
                if (lo[y * N + n - 1] < hi[y * N + n - 1] && (y == x || chg[y * C + x] < HUGE_VAL))
                    src[ns++] = (cb_source){lo[y * N + n - 1], hi[y * N + n - 1],
                                            y == x ? 0 : chg[y * C + x]};
            lo[x * N + n] = pool->n;
            if (ns && nby[x + 1] > nby[x])
                rc = merge_step(pool, by + nby[x], nby[x + 1] - nby[x], src, ns, cap, &h, next);
            hi[x * N + n] = pool->n;
        }
free_heap:
    free(items);
    free(nby);
    free(src);
    free(h.head);
    free(h.item);
    free(next);
    return rc;
}
