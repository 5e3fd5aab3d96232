/*
 * test_strategy.c - the strategy space: enumeration counts worked by hand,
 * names (format/parse round trip and rejected names), group placement on
 * nodes and the resharding fraction between layouts; the enumeration
 * against the names and order the code before the dimension list produced
 * (strategy_golden.inc: the solver sees strategies as indices, so the order
 * is behaviour), and a toy "offload" dimension added through the list at
 * run time, defined here alone, which names, parses and enumerates.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "strategy_golden.inc"

static int count(int n, int mb, const uniap_cost_options *o)
{
    uniap_strategy *v;
    int k = -1;
    if (cm_strategies(n, mb, o, &v, &k) < 0)
        return -1;
    free(v);
    return k;
}

static void test_counts(void)
{
    uniap_cost_options o;
    uniap_cost_options_default(&o);
    /* Per tp | n with dp = n / tp: placements (2 when tp > 1 and dp > 1:
     * consecutive, strided) x flavours (4 when dp > 1) x sp (2 when tp > 1)
     * x ckpt (2).
     * n = 1: tp1 dp1: 1 x 1 x 1 x 2 = 2.
     * n = 2: tp1 dp2: 1 x 4 x 1 x 2 = 8; tp2 dp1: 1 x 1 x 2 x 2 = 4; = 12.
     * n = 4: tp1 dp4: 8; tp2 dp2: 2 x 4 x 2 x 2 = 32; tp4 dp1: 4; = 44.
     * n = 8: tp1: 8; tp2 dp4: 32; tp4 dp2: 32; tp8: 4; = 76. */
    CHECK_EQ(count(1, 8, &o), 2);
    CHECK_EQ(count(2, 8, &o), 12);
    CHECK_EQ(count(4, 8, &o), 44);
    CHECK_EQ(count(8, 8, &o), 76);
    /* n = 6: tp1 dp6 8; tp2 dp3 32; tp3 dp2 32; tp6 dp1 4 = 76, but a
     * micro-batch of 4 keeps only dp | 4: tp3 (dp2) and tp6 (dp1) = 36 */
    CHECK_EQ(count(6, 12, &o), 76);
    CHECK_EQ(count(6, 4, &o), 36);
    /* n = 8, micro-batch 2: dp in {1, 2}: tp4 dp2 32 + tp8 4 = 36 */
    CHECK_EQ(count(8, 2, &o), 36);
    /* shrinking: no ckpt halves; no sp: n=8 -> tp1 4 + tp2 dp4 2x4x1 = 8,
     * tp4 8, tp8 1 -> x2 ckpt: (4 + 8 + 8 + 1) x 2 = 42 */
    o.no_ckpt = 1;
    CHECK_EQ(count(8, 8, &o), 38);
    o.no_ckpt = 0;
    o.no_sp = 1;
    CHECK_EQ(count(8, 8, &o), 42);
    o.no_sp = 0;
    o.no_zero = o.no_strided = 1;
    /* tp1 dp8: 1x1x1x2 = 2; tp2: 1x1x2x2 = 4; tp4: 4; tp8: 4 = 14 */
    CHECK_EQ(count(8, 8, &o), 14);
    o.no_zero = o.no_strided = 0;
    o.max_tp = 2;
    CHECK_EQ(count(8, 8, &o), 8 + 32);
}

static void test_names(void)
{
    uniap_cost_options o;
    uniap_strategy *v, s;
    int n;

    uniap_cost_options_default(&o);
    CHECK(cm_strategies(8, 8, &o, &v, &n) == 0);
    for (int i = 0; i < n; i++) {
        CHECK(uniap_strategy_parse(v[i].name, &s) == 0);
        CHECK_STR_CONTAINS(s.name, v[i].name);
        CHECK_EQ(strlen(s.name), strlen(v[i].name));
        CHECK_EQ(s.dp, v[i].dp);
        CHECK_EQ(s.tp, v[i].tp);
        CHECK_EQ(s.tp_consecutive, v[i].tp_consecutive);
        CHECK_EQ(s.flavour, v[i].flavour);
        CHECK_EQ(s.sp, v[i].sp);
        CHECK_EQ(s.ckpt, v[i].ckpt);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(v[i].name, v[j].name) != 0); /* names are unique */
    }
    free(v);
    CHECK(uniap_strategy_parse("dp4.tp2c.zero3.sp.ckpt", &s) == 0);
    CHECK(s.dp == 4 && s.tp == 2 && s.tp_consecutive && s.flavour == UNIAP_DP_FSDP && s.sp &&
          s.ckpt);
    CHECK(uniap_strategy_parse("dp2.tp4s.fsdp", &s) == 0);
    CHECK_STR_CONTAINS(s.name, "dp2.tp4s.zero3");
    CHECK(uniap_strategy_parse("dp8.tp1", &s) == 0);
    CHECK(s.flavour == UNIAP_DP_DDP && s.tp == 1);
    /* rejected names, each naming the bad token or rule */
    CHECK_EQ(uniap_strategy_parse("dp0.tp8c", &s), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "dp0");
    uniap_err_clear();
    CHECK_EQ(uniap_strategy_parse("dp1.tp1.sp", &s), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "sequence parallelism needs tp > 1");
    uniap_err_clear();
    CHECK_EQ(uniap_strategy_parse("dp1.tp8c.zero1", &s), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "zero1 needs dp > 1");
    uniap_err_clear();
    CHECK_EQ(uniap_strategy_parse("dp2.tp4x", &s), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "tp4x");
    uniap_err_clear();
    CHECK_EQ(uniap_strategy_parse("dp2.tp4c.ckpt.sp", &s), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "'sp'");
    uniap_err_clear();
    CHECK_EQ(uniap_strategy_parse("dp8.tp1s", &s), UNIAP_EINVAL);
    uniap_err_clear();
    CHECK_EQ(uniap_strategy_parse("dp2.tp4c.zero4", &s), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "zero4");
    uniap_err_clear();
}

static uniap_strategy strat(const char *name)
{
    uniap_strategy s;
    memset(&s, 0, sizeof(s));
    if (uniap_strategy_parse(name, &s) < 0)
        fprintf(stderr, "bad test strategy %s\n", name);
    return s;
}

static void test_placement(void)
{
    uniap_cluster c;
    memset(&c, 0, sizeof(c));
    c.nodes = 2;
    c.devices_per_node = 4;
    uniap_strategy a = strat("dp2.tp4c"), b = strat("dp2.tp4s"), d = strat("dp4.tp2c");
    /* stage of all 8 devices. dp2.tp4c: TP groups {0..3}, {4..7} inside
     * nodes; DP groups {t, t+4} span. dp2.tp4s: TP ranks t*2 + d = {0,2,4,6}
     * span nodes; DP groups {2t, 2t+1} inside. */
    CHECK_EQ(cm_tp_spans(&c, 0, &a), 0);
    CHECK_EQ(cm_dp_spans(&c, 0, &a), 1);
    CHECK_EQ(cm_tp_spans(&c, 0, &b), 1);
    CHECK_EQ(cm_dp_spans(&c, 0, &b), 0);
    CHECK_EQ(cm_tp_spans(&c, 0, &d), 0);
    CHECK_EQ(cm_dp_spans(&c, 0, &d), 1);
    /* stages of 4 devices (deg 2): everything inside a node */
    uniap_strategy e = strat("dp2.tp2s");
    CHECK_EQ(cm_tp_spans(&c, 4, &e), 0);
    CHECK_EQ(cm_dp_spans(&c, 4, &e), 0);
    CHECK_EQ(cm_stage_spans(&c, 4, 4), 0);
    CHECK_EQ(cm_stage_spans(&c, 0, 8), 1);
    /* stages of 2: boundaries 0|1 and 2|3 inside nodes, 1|2 spans */
    CHECK_EQ(cm_boundary_spans(&c, 0, 2), 0);
    CHECK_EQ(cm_boundary_spans(&c, 1, 2), 1);
    CHECK_EQ(cm_boundary_spans(&c, 2, 2), 0);
    /* stages of 4 (one per node): the boundary spans */
    CHECK_EQ(cm_boundary_spans(&c, 0, 4), 1);
}

/* ---- the span tests against every rank (independent full loops) ---- */

/* Stage rank of DP x CP index q and TP index t (the layout's definition:
 * consecutive TP ranks adjacent, strided TP ranks dp x cp apart). */
static int rank_of(const uniap_strategy *s, int q, int t)
{
    int dc = uniap_strategy_dpcp(s);
    return s->tp_consecutive ? q * s->tp + t : t * dc + q;
}

/* 1 when some group spans nodes: kind 0 TP groups (fixed q), 1 DP x CP
 * groups (fixed t), 2 CP groups (fixed data index and t); every group,
 * every member. */
static int naive_spans(const uniap_cluster *c, int first, const uniap_strategy *s, int kind)
{
    int g = c->devices_per_node, cp = uniap_strategy_cp(s), dc = uniap_strategy_dpcp(s);
    for (int q = 0; q < dc; q++)
        for (int t = 0; t < s->tp; t++) {
            int q0 = kind == 0 ? q : kind == 1 ? 0 : (q / cp) * cp, t0 = kind == 0 ? 0 : t;
            if ((first + rank_of(s, q, t)) / g != (first + rank_of(s, q0, t0)) / g)
                return 1;
        }
    return 0;
}

/* Random layouts on random clusters (nodes of 1..16 devices, stages of up
 * to 4096): cm_tp/dp/cp_spans, cm_boundary_spans and cm_place, which look
 * at min(count, node size) groups, agree with the full loops. */
static void test_spans_periodic(void)
{
    uint64_t x = 88172645463325252ULL;
    int cases = 0;
    for (int it = 0; it < 4000; it++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uniap_cluster c;
        memset(&c, 0, sizeof(c));
        c.devices_per_node = 1 + (int)(x % 16);
        int dp = 1 << (int)((x >> 8) % 7), tp = 1 << (int)((x >> 12) % 5),
            cp = 1 << (int)((x >> 16) % 4), deg = 1 + (int)((x >> 20) % 20);
        int n = dp * tp * cp;
        if (n > 4096)
            continue;
        c.nodes = (deg * n + c.devices_per_node - 1) / c.devices_per_node;
        uniap_strategy s;
        memset(&s, 0, sizeof(s));
        s.dp = dp, s.tp = tp, s.cp = cp, s.tp_consecutive = (int)((x >> 24) & 1) || tp == 1;
        cm_placement pl;
        cm_place(&c, deg, n, &s, &pl);
        int want[4] = {0, 0, 0, 0};
        for (int j = 0; j < deg; j++) {
            int f = j * n;
            CHECK_EQ(cm_tp_spans(&c, f, &s), naive_spans(&c, f, &s, 0));
            CHECK_EQ(cm_dp_spans(&c, f, &s), naive_spans(&c, f, &s, 1));
            CHECK_EQ(cm_cp_spans(&c, f, &s), naive_spans(&c, f, &s, 2));
            want[0] |= naive_spans(&c, f, &s, 0), want[1] |= naive_spans(&c, f, &s, 1);
            want[2] |= naive_spans(&c, f, &s, 2);
            want[3] |= f / c.devices_per_node != (f + n - 1) / c.devices_per_node;
            int across = 0; /* stage j's rank r and stage j + 1's on different nodes */
            for (int r = 0; r < n; r++)
                across |= (f + r) / c.devices_per_node != (f + n + r) / c.devices_per_node;
            CHECK_EQ(cm_boundary_spans(&c, j, n), across);
        }
        CHECK(pl.tp_spans == want[0] && pl.dp_spans == want[1] && pl.cp_spans == want[2] &&
              pl.stage_spans == want[3]);
        cases++;
    }
    CHECK(cases > 1000);
}

static void test_reshard(void)
{
    /* n = 2. dp2.tp1 -> dp1.tp2c (no SP): device 0 holds batch half 0 (full
     * sequence) and needs the whole batch: it fetches 1/2. */
    uniap_strategy a = strat("dp2.tp1"), b = strat("dp1.tp2c"), c = strat("dp1.tp2c.sp");
    CHECK_NEAR(cm_reshard_fraction(2, &a, &b), 0.5, 0, 1e-15);
    /* dp1.tp2c -> dp2.tp1: each device already holds everything: 0 */
    CHECK_NEAR(cm_reshard_fraction(2, &b, &a), 0.0, 0, 1e-15);
    /* dp1.tp2c.sp -> dp1.tp2c: holds one sequence half, needs both: 1/2 */
    CHECK_NEAR(cm_reshard_fraction(2, &c, &b), 0.5, 0, 1e-15);
    /* dp2.tp1 -> dp1.tp2c.sp: device 0 holds batch [0, 1/2) x all of the
     * sequence, needs all of the batch x sequence [0, 1/2): needs 1/2,
     * has 1/4 of it: 1/4. */
    CHECK_NEAR(cm_reshard_fraction(2, &a, &c), 0.25, 0, 1e-15);
    /* equal layouts: 0 (flavour and ckpt do not change the layout) */
    uniap_strategy z = strat("dp2.tp1.zero3.ckpt");
    CHECK_NEAR(cm_reshard_fraction(2, &a, &z), 0.0, 0, 1e-15);
    /* n = 4: dp2.tp2c -> dp2.tp2s (no SP): stage rank 1 is (d0, t1) under
     * consecutive and (d1, t0) under strided: it holds batch half 0 and
     * needs half 1: 1/2 */
    uniap_strategy p = strat("dp2.tp2c"), q = strat("dp2.tp2s");
    CHECK_NEAR(cm_reshard_fraction(4, &p, &q), 0.5, 0, 1e-15);
    /* dp4.tp1 -> dp2.tp2c: rank 0 holds quarter 0, needs half 0: 1/4 */
    uniap_strategy r = strat("dp4.tp1");
    CHECK_NEAR(cm_reshard_fraction(4, &r, &p), 0.25, 0, 1e-15);
    CHECK_NEAR(cm_reshard_fraction(4, &p, &r), 0.0, 0, 1e-15);
}

/* The fraction by its definition, each rank's indices by division (q =
 * r / tp, t = r % tp with consecutive TP, else q = r % (dp cp), t = r /
 * (dp cp)): the reference cm_reshard_fraction's rank walk must equal. */
static double fraction_by_division(int n, const uniap_strategy *a, const uniap_strategy *b)
{
    long worst = 0;
    for (int r = 0; r < n; r++) {
        long lo[2][2], hi[2][2]; /* [strategy][batch, sequence] */
        for (int x = 0; x < 2; x++) {
            const uniap_strategy *s = x ? b : a;
            int cp = uniap_strategy_cp(s), dc = uniap_strategy_dpcp(s);
            int q = s->tp_consecutive ? r / s->tp : r % dc,
                t = s->tp_consecutive ? r % s->tp : r / dc;
            long bw = n / s->dp, cw = n / cp, sw = cw / s->tp;
            lo[x][0] = (q / cp) * bw;
            hi[x][0] = lo[x][0] + bw;
            lo[x][1] = (q % cp) * cw + (s->sp ? t * sw : 0);
            hi[x][1] = lo[x][1] + (s->sp ? sw : cw);
        }
        long have = 1;
        for (int d = 0; d < 2; d++) {
            long l = lo[0][d] > lo[1][d] ? lo[0][d] : lo[1][d];
            long h = hi[0][d] < hi[1][d] ? hi[0][d] : hi[1][d];
            have *= h > l ? h - l : 0;
        }
        long need = (hi[1][0] - lo[1][0]) * (hi[1][1] - lo[1][1]);
        if (need - have > worst)
            worst = need - have;
    }
    int same = a->dp == b->dp && a->tp == b->tp && a->sp == b->sp &&
               uniap_strategy_cp(a) == uniap_strategy_cp(b) &&
               (a->tp_consecutive == b->tp_consecutive || a->tp == 1 || a->dp == 1);
    return same ? 0.0 : (double)worst / ((double)n * (double)n);
}

/* Every pair of layouts of n = 2 .. 96 devices (dp x cp x tp, SP or not,
 * consecutive or strided TP): the walk equals the definition bit for bit. */
static void test_reshard_walk(void)
{
    int pairs = 0;
    for (int n = 2; n <= 96; n = n < 8 ? n * 2 : n + 8) {
        uniap_strategy all[256];
        int m = 0;
        for (int tp = 1; tp <= n; tp *= 2)
            for (int cp = 1; tp * cp <= n; cp *= 2)
                for (int f = 0; f < 4 && n % (tp * cp) == 0 && m < 256; f++) {
                    uniap_strategy s;
                    memset(&s, 0, sizeof(s));
                    s.dp = n / (tp * cp);
                    s.tp = tp;
                    s.cp = cp;
                    s.sp = f & 1;
                    s.tp_consecutive = f >> 1;
                    all[m++] = s;
                }
        for (int x = 0; x < m; x++)
            for (int y = 0; y < m; y++, pairs++)
                CHECK(cm_reshard_fraction(n, &all[x], &all[y]) ==
                      fraction_by_division(n, &all[x], &all[y]));
    }
    CHECK(pairs > 5000);
}

/* Every (n, micro-batch, restriction) of strategy_golden.inc: the names,
 * in order, as the code before the dimension list enumerated them. */
static void golden_options(int r, uniap_cost_options *o)
{
    uniap_cost_options_default(o);
    o->no_sp = r == 1;
    o->no_ckpt = r == 2;
    o->no_zero = r == 3;
    o->no_strided = r == 4;
    o->max_tp = r == 5 ? 2 : 0;
}

/* Calls f for each golden line with its enumeration now. */
static void each_golden(void (*f)(const char *names, const uniap_strategy *v, int k,
                                  const uniap_cost_options *o))
{
    for (int g = 0; golden_strategies[g]; g++) {
        int n, mb, r, at = 0;
        uniap_cost_options o;
        uniap_strategy *v = NULL;
        int k = 0;
        CHECK(sscanf(golden_strategies[g], "%d %d %d:%n", &n, &mb, &r, &at) == 3 && at > 0);
        golden_options(r, &o);
        CHECK_EQ(cm_strategies(n, mb, &o, &v, &k), 0);
        f(golden_strategies[g] + at, v, k, &o);
        free(v);
    }
}

static void same_names(const char *names, const uniap_strategy *v, int k,
                       const uniap_cost_options *o)
{
    char buf[4096];
    size_t n = 0;
    (void)o;
    buf[0] = 0;
    for (int i = 0; i < k && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, " %s", v[i].name);
    CHECK(n < sizeof buf);
    if (strcmp(buf, names) != 0)
        fprintf(stderr, "enumeration changed:\n  was%s\n  now%s\n", names, buf);
    CHECK(strcmp(buf, names) == 0);
}

/* ---- the toy dimension: host offload of the ZeRO states, dp > 1 only,
 * left out by no_zero; written ".offload" last */

static int offload_values(const uniap_strategy *s, int n, int mb, const uniap_cost_options *o,
                          int *v, int max)
{
    int k = 0;
    (void)n, (void)mb;
    for (int x = 0; x <= (s->dp > 1 && !o->no_zero) && k < max; x++)
        v[k++] = x;
    return k;
}

static int offload_format(const uniap_strategy *s, int v, char *buf, size_t size)
{
    (void)s;
    return snprintf(buf, size, "%s", v ? ".offload" : "");
}

static int offload_parse(uniap_strategy_scan *sc, const uniap_strategy *s, int *v)
{
    const char *t = uniap_strategy_scan_peek(sc);
    (void)s;
    *v = t && strcmp(t, "offload") == 0;
    if (*v)
        uniap_strategy_scan_take(sc);
    return 0;
}

static const char *offload_check(const uniap_strategy *s, int v, char *msg, size_t size)
{
    (void)msg, (void)size;
    return v && s->dp < 2 ? "offload needs dp > 1" : NULL;
}

static const uniap_strategy_dim offload = {
    .name = "offload",
    .usage = "[.offload]",
    .tokens = "offload",
    .values = offload_values,
    .format = offload_format,
    .parse = offload_parse,
    .check = offload_check,
};

/* With offload: each old strategy, then its offload twin where dp > 1
 * (and ZeRO is allowed); names round trip. */
static void with_offload(const char *names, const uniap_strategy *v, int k,
                         const uniap_cost_options *o)
{
    const uniap_strategy_dim *d = uniap_strategy_dim_get(uniap_strategy_dim_count() - 1);
    char copy[4096], *save = NULL;
    int i = 0, expect = 0;

    snprintf(copy, sizeof copy, "%s", names);
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        uniap_strategy s;
        CHECK_EQ(uniap_strategy_parse(w, &s), 0);
        int twins = s.dp > 1 && !o->no_zero ? 2 : 1;
        expect += twins;
        for (int t = 0; t < twins && i < k; t++, i++) {
            char want[64];
            snprintf(want, sizeof want, "%s%s", w, t ? ".offload" : "");
            CHECK(strcmp(v[i].name, want) == 0);
            CHECK_EQ(uniap_strategy_value(&v[i], d), t);
            uniap_strategy back;
            CHECK_EQ(uniap_strategy_parse(v[i].name, &back), 0);
            CHECK(strcmp(back.name, v[i].name) == 0);
            CHECK_EQ(back.ext[0], t);
        }
    }
    CHECK_EQ(k, expect); /* the product of each dimension's values */
}

static void test_golden_and_toy(void)
{
    uniap_strategy s;
    int before = uniap_strategy_dim_count();

    CHECK_EQ(before, 9); /* dp, cp, cp_variant, ep, tp, layout, flavour, sp, ckpt */
    each_golden(same_names);
    CHECK_EQ(uniap_strategy_dim_register(&offload), 0);
    CHECK_EQ(uniap_strategy_dim_count(), before + 1);
    CHECK(strcmp(uniap_strategy_dim_get(before)->name, "offload") == 0);
    each_golden(with_offload);
    CHECK_EQ(uniap_strategy_parse("dp4.tp2c.zero3.sp.ckpt.offload", &s), 0);
    CHECK(s.dp == 4 && s.tp == 2 && s.flavour == UNIAP_DP_FSDP && s.sp && s.ckpt && s.ext[0] == 1);
    CHECK_EQ(uniap_strategy_parse("dp1.tp8c.offload", &s), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "offload needs dp > 1");
    uniap_err_clear();
    CHECK_EQ(uniap_strategy_parse("dp2.tp4c.offload.ckpt", &s), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "unexpected token 'ckpt'");
    CHECK_STR_CONTAINS(uniap_errmsg(), "then ckpt|selckpt, then offload, each at most once");
    uniap_err_clear();
    /* the list is bounded */
    for (int i = 1; i < UNIAP_STRATEGY_EXT; i++)
        CHECK_EQ(uniap_strategy_dim_register(&offload), 0);
    CHECK_EQ(uniap_strategy_dim_register(&offload), UNIAP_EINVAL);
    uniap_err_clear();
}

int main(void)
{
    test_counts();
    test_names();
    test_placement();
    test_spans_periodic();
    test_reshard();
    test_reshard_walk();
    test_golden_and_toy(); /* last: it extends the dimension list */
    return check_report();
}
