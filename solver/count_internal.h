/*
 * count_internal.h - private to the count bound (count_bound.c,
 * count_front.c, count_mix.c, count_split.c): Pareto fronts of (memory, time) over how many layers
 * of one kind a stage holds, in one pool of points with parent links so that the strategies of a
 * point can be read back. docs/method.md section 5.6.
 */
#ifndef UNIAP_COUNT_INTERNAL_H
#define UNIAP_COUNT_INTERNAL_H

#include <math.h>
#include <stddef.h>

#include "solver_internal.h"

/* Points generated over every front of one bound (past it: no bound). */
#define CB_WORK_LIMIT 10000000L
/* Points kept in the pool (past it: no bound). */
#define CB_MAX_POINTS (1L << 22)

/* One point of a front: n layers of the kind on strategies whose bytes sum
 * to m and seconds to t; the same minus strategy k is point parent of the
 * front of n - 1 (-1 for the empty point). */
typedef struct cb_point {
    double m, t;
    int parent, k;
} cb_point;

typedef struct cb_pool {
    cb_point *p;
    long n, cap;
    long work;     /* points generated so far */
    cb_point *tmp; /* scratch of one step */
    long tmp_cap;
} cb_pool;

/* A strategy a kind may use on a stage signature: bytes per layer (states
 * + in-flight activations) and seconds per micro-batch. */
typedef struct cb_item {
    double m, t;
    int k;
} cb_item;

/* Points [lo, hi) of the pool, each with add more seconds: what a merge
 * step extends by one layer. */
typedef struct cb_source {
    long lo, hi;
    double add;
} cb_source;

/* The fronts of n = 0..nmax layers of one kind on one stage signature:
 * front n is pool points [off[n], off[n+1]), m ascending and t strictly
 * descending, every m <= cap. Empty from some n on when nothing fits. */
typedef struct cb_front {
    int nmax;
    long *off; /* [nmax + 2] */
} cb_front;

/* Builds f from n_items strategies (f->off allocated here; free it with
 * cb_front_free). 0; UNIAP_ENOMEM; 1 when past CB_WORK_LIMIT or
 * CB_MAX_POINTS (no front: the caller gives no bound). Deterministic. */
int cb_front_build(cb_pool *pool, const cb_item *items, int n_items, int nmax, double cap,
                   cb_front *f);
/* The same with one layer on one of n_items strategies: front n is the
 * Pareto-minimal set of front n - 1 of base plus one layer on each item
 * (front 0 empty; base's nmax). The same returns. */
int cb_front_build_plus(cb_pool *pool, const cb_item *items, int n_items, const cb_front *base,
                        double cap, cb_front *f);
void cb_front_free(cb_front *f);
void cb_pool_free(cb_pool *pool);
/* The point of front n of f with the least t among those with m <= r:
 * its pool index, or -1 when none. */
long cb_front_query(const cb_pool *pool, const cb_front *f, int n, double r);
/* The same among pool points [lo, hi) (m ascending, t descending). */
long cb_range_query(const cb_pool *pool, long lo, long hi, double r);
/* The fronts of n = 1..nmax layers of one kind in sequence, the first on
 * layout class f, by the class x of the last: points [lo[x*N+n], hi[...])
 * of the pool (N > nmax), the Pareto-minimal (bytes, seconds) with each
 * change from class y to x between adjacent layers costing chg[y*C+x]
 * more seconds (HUGE_VAL: none), items by class_of[item k]. A point's
 * parent is its sequence's point one layer shorter (the empty point, of
 * parent -1, before the first). The same returns as cb_front_build. */
int cb_seq_build(cb_pool *pool, const cb_item *items, int n_items, const int *class_of, int C,
                 int f, int nmax, int N, double cap, const double *chg, long *lo, long *hi);

/* The state of one count bound (count_bound.c builds it with count_mix.c's
 * fronts, count_split.c runs the split DP over it). */
/* Thresholds tried above the least feasible one (past them the bound
 * takes the least the rest could give). */
#define CB_MAX_THRESHOLDS 256
/* Stage-range entries of the DP (past them: no bound). */
#define CB_MAX_RANGES (1L << 24)
/* Point combinations of a stage's other kinds tried exactly (past them a
 * weaker, still valid, bound of that stage). */
#define CB_MAX_COMBOS 4096
/* Lagrange multipliers of stage tj's "seconds <= T" (method.md 5.6). */
#define CB_LAMBDAS 3
/* Variant-range entries of the class-aware split (past them: the split
 * without classes, a weaker bound). */
#define CB_MAX_VARIANT_RANGES (1L << 23)
/* Layout classes up to which the class-aware split prices a mixed stage
 * by each pair of first and last class (past them: by the last alone,
 * O(C) a range instead of O(C^2)). */
#define CB_PAIR_CLASSES 8
/* Kinds of layer (past them: no bound). */
#define CB_MAX_KINDS 64

/* The variants of a stage's mix: CB_ANY every strategy; CB_PURE(l) only
 * those of layout class l (a stage on one class reshards nothing for
 * certain; one on two or more pays a class change); CB_REQ(l) a layer of
 * class l first (a mixed stage that starts on l: that layer is of the
 * first layer's kind), CB_REQL(l) a layer of class l last (of the last
 * layer's kind). Of a kind, front CB_REQ(l) is front CB_ANY of one layer
 * less plus one layer on a class-l strategy (CB_NV front variants); the
 * mixes take it for the first or the last layer's kind and CB_ANY for
 * the others (cb_least_mix; CB_NAV mix variants). */
#define CB_ANY        0
#define CB_PURE(l)    (1 + (l))
#define CB_REQ_OF(c)  (1 + (c)->C) /* the first CB_REQ variant */
#define CB_REQ(c, l)  (1 + (c)->C + (l))
#define CB_REQL(c, l) (1 + 2 * (c)->C + (l))
#define CB_NV(c)      (1 + 2 * (c)->C) /* front variants */
#define CB_NAV(c)     (1 + 3 * (c)->C) /* mix variants */
#define CB_SEQ_VAR(c) CB_NAV(c)        /* a stage of one kind priced by SQ (count_seq.c) */

typedef struct cb_ctx {
    const uniap_cost_table *t;
    const solver_shape *s;
    int L, D, K, C, nk, nsig, span; /* C layout classes; span: longest stage (L - D + 1) */
    int req_ok;                     /* the CB_REQ fronts were built (within the work limit) */
    int seq_ok;                     /* SQ was built (count_seq.c) */
    int *kind_of, *kind_rep;        /* [L], [nk] */
    int *pre;                       /* [(L+1)*nk]: layers of each kind before a position */
    int *group_of;                  /* [L] */
    int *sig_of, *sig_q;            /* [D], [nsig] */
    double *sig_f;                  /* [nsig] micro-batches in flight */
    cb_pool pool;
    cb_front *fr;    /* [n_fronts]: FRONT(c, sg, kd, v) */
    double *minpeak; /* [n_fronts], HUGE_VAL: no strategy fits */
    size_t n_fronts;
    /* stage tj's tail counted with its seconds: for each multiplier
     * lambda[l], fronts of a layer's seconds + tail / (fill + lambda) x
     * its tail (tj's signature only), and Aj[l*(L+1)+x] = (fill + lambda)
     * x the least of that on [0, x) (tj 0) or [x, L) (tj the last) */
    cb_front *frw[CB_LAMBDAS];
    double *minpeakw[CB_LAMBDAS];
    double lambda[CB_LAMBDAS];
    double *Aj;    /* [CB_LAMBDAS*(L+1)] */
    double *rchg;  /* [q*L+u]: least class change after layer u on class q (HUGE_VAL: none) */
    double *rpath; /* [(q*C+e)*C+f]: least class changes from layout class e to f on
                    * class q (e to e: out and back), HUGE_VAL: none */
    double *A;     /* [nsig*(L+1)*(L+1)]: least compute of a stage on [a, b) */
    /* The class-aware split (count_split.c; NULL when past
     * CB_MAX_VARIANT_RANGES): AV (read through cb_av) the least seconds of [a, b)'s mix
     * on variant v (CB_ANY, CB_PURE, CB_REQ: before its class changes); ox[sp][(u*C+e)*C+f] the
     * least transfer after layer u from class e to class f; the DP's rows by end class. */
    double *AV;
    int *avslot;   /* [nsig*CB_NAV]: AV's block of (sg, v), -1: none (no layer takes v on sg) */
    size_t *avoff; /* [blocks]: where each block starts in AV */
    int *avbox;    /* [4*nsig]: the starts and ends a stage of sg can have */
    double *ox[2];
    double *cdp, *cnx; /* [(L+1)*C] */
    int *cpar;         /* [((i*(L+1)+b)*C+e)*4]: start, previous end class, variant, first class */
    double *cinb;      /* [3*C] scratch of class_stage (count_split.c) */
    int *cinbe;        /* [2*C] the same */
    double *olb[2];    /* [L]: least transfer after layer u (inside / between nodes) */
    /* count_seq.c (seq_ok): rk[(kd*Q+q)*C*C+y*C+x] the least change from
     * class y to x between adjacent layers of kind kd on device class q;
     * the sequence fronts [sq_lo, sq_hi) at
     * ((((sg*nk+kd)*C+f)*C+x)*(span+1)+n); SQ (read through cb_sq) the
     * least seconds with changes of a stage of one kind on [a, b) from
     * class f to class l, blocks at sqoff[sg] over avbox */
    double *rk;
    double *jl, *jt; /* count_seq.c's junctions: the changes next to a lone first / last layer */
    long *sq_lo, *sq_hi;
    double *SQ;
    size_t *sqoff;
    double *dp, *nx; /* [L+1] */
    int *par;        /* [D*(L+1)] */
    uniap_schedule_terms w;
    double xmax; /* comm_max x the largest least transfer of a boundary */
} cb_ctx;

#define AIX(c, sg, a, b) (((size_t)(sg) * ((c)->L + 1) + (a)) * ((c)->L + 1) + (b))
/* AV's entry of (signature sg, variant v, [a, b)); HUGE_VAL for a
 * variant no layer of sg can take (not stored) */
static inline double cb_av(const cb_ctx *c, int sg, int v, int a, int b)
{
    if (v >= CB_REQ_OF(c) && !c->req_ok)
        v = CB_ANY; /* (CB_REQ mixes not built: priced as any mix) */
    int slot = c->avslot[(size_t)sg * CB_NAV(c) + v];
    const int *box = &c->avbox[4 * sg]; /* first a, a count, first b, b count */
    if (slot < 0 || a < box[0] || a >= box[0] + box[1] || b < box[2] || b >= box[2] + box[3])
        return HUGE_VAL;
    return c->AV[c->avoff[slot] + (size_t)(a - box[0]) * box[3] + (b - box[2])];
}
/* 1 when layers [a, b) (a < b) are all of one kind */
static inline int cb_one_kind(const cb_ctx *c, int a, int b)
{
    int kd = c->kind_of[a];
    return c->pre[(size_t)b * c->nk + kd] - c->pre[(size_t)a * c->nk + kd] == b - a;
}
/* How SQ prices layers [a, b) (a < b): 1 all of one kind; 2 the model's
 * first layer, of a kind of its own, then one kind; 3 one kind, then the
 * model's last layer, of a kind of its own; 0 not. */
static inline int cb_seq_shape(const cb_ctx *c, int a, int b)
{
    if (cb_one_kind(c, a, b))
        return 1;
    if (b - a < 2 || (a == 0 && b == c->L))
        return 0;
    if (a == 0 && c->kind_of[0] != c->kind_of[1] && cb_one_kind(c, 1, b))
        return 2;
    if (b == c->L && c->kind_of[b - 1] != c->kind_of[b - 2] && cb_one_kind(c, a, b - 1))
        return 3;
    return 0;
}
/* SQ's entry of (signature sg, first class f, last class l, [a, b))
 * (HUGE_VAL: none fits, or not one kind) */
static inline double cb_sq(const cb_ctx *c, int sg, int f, int l, int a, int b)
{
    const int *box = &c->avbox[4 * sg];
    if (a < box[0] || a >= box[0] + box[1] || b < box[2] || b >= box[2] + box[3])
        return HUGE_VAL;
    return c->SQ[c->sqoff[sg] + (((size_t)f * c->C + l) * box[1] + (a - box[0])) * box[3] +
                 (b - box[2])];
}
/* Front f of (signature sg, kind kd, variant v) */
#define FRONT(c, sg, kd, v) (((size_t)(sg) * (c)->nk + (kd)) * CB_NV(c) + (v))

/* Signature sg's memory budget (rounding never leaves out a fit). */
static inline double cb_cap_of(const cb_ctx *c, int sg)
{
    double b = c->t->mem_budget[c->sig_q[sg]];
    return b + fabs(b) * SOLVER_MEM_SLACK; /* rounding never leaves out a fit */
}

/* count_mix.c: the fronts of every (signature, kind, variant) but
 * CB_REQ into *frs, *mp (only signature only_sg when >= 0), a layer's
 * seconds plus wt x its tail (0, UNIAP_ENOMEM, or 1 past the work
 * limits: no bound); the CB_REQ fronts into c->fr, on a work limit of
 * their own (past it dropped: c->req_ok 0); and freeing fronts. */
int cb_build_fronts(cb_ctx *c, cb_front **frs, double **mp, int only_sg, double wt);
int cb_build_req_fronts(cb_ctx *c);
void cb_free_fronts(cb_front **frs, double **mp, size_t n);
/* count_seq.c: the sequence fronts and SQ when they fit (after
 * fill_ranges; c->seq_ok 1 when built), 0 or UNIAP_ENOMEM; and the
 * strategies of the stage on [a, b) of one kind from class f to l at its
 * SQ point, in order (1; 0: none). */
int cb_seq_prepare(cb_ctx *c);
int cb_seq_read(const cb_ctx *c, int sg, int f, int l, int a, int b, int *strategy_of);
/* The least compute of a stage of signature sg on layers [a, b) from the
 * fronts frs / peaks mp (HUGE_VAL: nothing fits): every layer in one
 * layout class, or any mix plus the least class change there (chg, or
 * HUGE_VAL to compute it). With pick, the pool point of each kind (-1:
 * absent). count_bound.c. */
double cb_stage_least(const cb_ctx *c, const cb_front *frs, const double *mp, int sg, int a, int b,
                      double chg, long *pick);
/* The least seconds of one point per kind present in [a, b) from the
 * fronts of mix variant v (CB_REQ, CB_REQL: the first or the last
 * layer's kind's, the others' CB_ANY) (HUGE_VAL: none fits); with pick,
 * the points. */
double cb_least_mix(const cb_ctx *c, const cb_front *frs, const double *mp, int sg, int v, int a,
                    int b, long *pick);
/* count_split.c: the least over thresholds of the split DP (*best,
 * HUGE_VAL when no split fits; *at its threshold), counting stage tj's
 * tail through c->Aj when tj >= 0; and the plan of the split (no tail
 * counted; classes 1: the class-aware one, when it exists) at threshold
 * T (*ok 1 when read back). 0 or UNIAP_ENOMEM. */
int cb_least_over_thresholds(cb_ctx *c, int tj, double *best, double *at);
int cb_read_plan(cb_ctx *c, double T, int classes, int *stage_of, int *strategy_of, int *ok);

#endif
