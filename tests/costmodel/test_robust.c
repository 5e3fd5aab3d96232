/*
 * test_robust.c - absurd but parseable inputs never make the cost model
 * hand out a NaN, infinite, negative or absurdly large cost (issue 10 item
 * 4), and its invariants hold in release builds (item 6):
 *   - cluster figures NaN or negative: refused at create, naming the field;
 *   - a device bandwidth of 1e-300 B/s (an optimizer step of ~1e300 s):
 *     the table is refused, naming the cluster's figures, instead of
 *     reaching the solver;
 *   - profile rows with a NaN or negative figure, an infinite collective
 *     time, an infinite overlap coefficient: refused at create, naming the
 *     profile file; a layer time of 1e300 s: the table is refused;
 *   - the analytic model on datasheet figures of 1e-300: refused (by the
 *     analytic model or by the table), never a table with such costs;
 *   - every entry of a sound table is finite and >= 0;
 *   - internal entry points given out-of-range indices fail EINTERNAL
 *     (UNIAP_CHECK) instead of reading out of bounds; a model whose runs'
 *     counts do not add up to its layers is refused (EINVAL);
 *   - a global batch of 2^30 enumerates its candidates (divisors by trial
 *     division up to the square root, not a loop to the batch).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"

#define PROFILE "robust.h5"

static uniap_layer layers[2];
static uniap_model model;
static uniap_cluster cluster;

static void build_model(void)
{
    fx_tiny_model(layers, &model);
}

static void build_cluster(uniap_cluster *c)
{
    fx_cluster(c, "test-2x4", 2, 4, 16 * GiB);
    c->peak_flops = 312e12;
    c->mem_bandwidth = 1.5e12;
    c->intra_node_bw = 3e11;
    c->inter_node_bw = 2.5e10;
    c->intra_node_latency = 5e-6;
    c->inter_node_latency = 1e-5;
}

static void build_profile(uniap_profile *p)
{
    uniap_profile_init(p);
    snprintf(p->provenance, sizeof(p->provenance), "measured");
    fx_add_layer_rows(p, layers, 2, 16, NULL, NULL);
    fx_add_coll_rows(p, NULL, NULL);
}

static int create(const uniap_cluster *c, const uniap_profile *p, int64_t batch,
                  uniap_costmodel **cm)
{
    uniap_cost_options o;
    uniap_cost_options_default(&o);
    o.global_batch = batch;
    o.profile_path = PROFILE;
    uniap_err_clear();
    return uniap_costmodel_create(&model, c, p, &o, cm);
}

/* Every entry finite and >= 0. */
static int table_sound(const uniap_cost_table *t)
{
    size_t LK = (size_t)t->n_layers * t->n_strategies;
    size_t pairs = (t->n_layers > 1 ? (size_t)t->n_pairs : 0) * t->n_strategies * t->n_strategies;
    for (size_t i = 0; i < LK; i++) {
        const double v[] = {t->time[i], t->tail[i], t->mem_states[i], t->mem_act[i],
                            t->mem_peak[i]};
        for (int j = 0; j < 5; j++)
            if (!isfinite(v[j]) || v[j] < 0)
                return 0;
    }
    for (size_t i = 0; i < pairs; i++)
        if (!isfinite(t->reshard[i]) || t->reshard[i] < 0 || !isfinite(t->xstage[0][i]) ||
            t->xstage[0][i] < 0 || !isfinite(t->xstage[1][i]) || t->xstage[1][i] < 0)
            return 0;
    return 1;
}

/* Every candidate's table: built and sound, or refused EINVAL. Returns the
 * number refused. */
static int tables_refused(const uniap_costmodel *cm, const char *must_name)
{
    int *deg, *c, n, refused = 0;
    if (uniap_costmodel_candidates(cm, &deg, &c, &n) < 0) {
        CHECK(0);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        uniap_cost_table t;
        uniap_err_clear();
        int rc = uniap_costmodel_table(cm, deg[i], c[i], &t);
        if (rc == 0) {
            CHECK(table_sound(&t));
            uniap_cost_table_free(&t);
        } else {
            CHECK_EQ(rc, UNIAP_EINVAL);
            CHECK_STR_CONTAINS(uniap_errmsg(), must_name);
            refused++;
        }
    }
    uniap_err_clear();
    free(deg);
    free(c);
    return refused;
}

static void test_cluster_figures(const uniap_profile *p)
{
    uniap_cluster c;
    uniap_costmodel *cm = NULL;

    build_cluster(&c);
    c.peak_flops = NAN;
    CHECK_EQ(create(&c, p, 16, &cm), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "peak_flops");
    build_cluster(&c);
    c.inter_node_latency = -1e-6;
    CHECK_EQ(create(&c, p, 16, &cm), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "inter_node_latency");
    build_cluster(&c);
    c.mem_bandwidth = INFINITY;
    CHECK_EQ(create(&c, p, 16, &cm), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "mem_bandwidth");
    uniap_err_clear();

    /* parseable but absurd: the optimizer step takes ~1e300 s */
    build_cluster(&c);
    c.mem_bandwidth = 1e-300;
    CHECK(create(&c, p, 16, &cm) == 0);
    if (cm) {
        CHECK(tables_refused(cm, "mem_bandwidth 1e-300") > 0);
        uniap_costmodel_destroy(cm);
    }
}

static void test_profile_figures(void)
{
    uniap_profile p;
    uniap_costmodel *cm = NULL;

    build_profile(&p);
    p.layers[3].fwd.median = NAN;
    CHECK_EQ(create(&cluster, &p, 16, &cm), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), PROFILE ": profile layer row 3");
    uniap_profile_free(&p);

    build_profile(&p);
    p.layers[2].peak_bytes = -5;
    CHECK_EQ(create(&cluster, &p, 16, &cm), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "peak_bytes -5");
    uniap_profile_free(&p);

    build_profile(&p);
    p.colls[7].time.median = INFINITY;
    CHECK_EQ(create(&cluster, &p, 16, &cm), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), PROFILE ": profile collective row 7");
    uniap_profile_free(&p);

    build_profile(&p);
    p.overlap_coeff = INFINITY;
    CHECK_EQ(create(&cluster, &p, 16, &cm), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "overlap_coeff");
    uniap_profile_free(&p);

    /* a finite but absurd layer time: refused by the tables using it */
    build_profile(&p);
    for (int i = 0; i < p.n_layers; i++)
        p.layers[i].fwd.median = 1e300;
    CHECK(create(&cluster, &p, 16, &cm) == 0);
    if (cm) {
        CHECK(tables_refused(cm, "beyond any real run's") > 0);
        uniap_costmodel_destroy(cm);
    }
    uniap_profile_free(&p);
    uniap_err_clear();
}

static void test_analytic_absurd(void)
{
    static const int mbs[] = {1, 2, 4, 8, 16};
    const char *field[] = {"peak_flops", "mem_bandwidth", "intra_node_bw", "inter_node_bw"};
    for (int f = 0; f < 4; f++) {
        uniap_cluster c;
        uniap_profile p;
        uniap_costmodel *cm = NULL;
        build_cluster(&c);
        double *v[] = {&c.peak_flops, &c.mem_bandwidth, &c.intra_node_bw, &c.inter_node_bw};
        *v[f] = 1e-300;
        uniap_err_clear();
        int rc = uniap_profile_analytic(&model, &c, mbs, 5, &p);
        if (rc < 0) {
            CHECK_EQ(rc, UNIAP_EINVAL);
            CHECK_STR_CONTAINS(uniap_errmsg(), field[f]);
            continue;
        }
        /* else every table using the figure is refused, naming it */
        CHECK(create(&c, &p, 16, &cm) == 0);
        if (cm) {
            CHECK(tables_refused(cm, field[f]) > 0);
            uniap_costmodel_destroy(cm);
        }
        uniap_profile_free(&p);
    }
    uniap_err_clear();
}

static void test_invariants(const uniap_profile *p)
{
    uniap_costmodel *cm = NULL;
    uniap_strategy s, *v;
    cm_row_terms row;
    int n;

    CHECK(create(&cluster, p, 16, &cm) == 0);
    if (!cm)
        return;
    CHECK(tables_refused(cm, "") == 0); /* sound tables throughout */
    CHECK(uniap_strategy_parse("dp8.tp1.ddp", &s) == 0);
    CHECK_EQ(cm_row_breakdown(cm, 1, 1, 5, &s, &row), UNIAP_EINTERNAL); /* run 5 of 2 */
    CHECK_EQ(cm_row_breakdown(cm, 3, 1, 0, &s, &row), UNIAP_EINTERNAL); /* 3 does not divide 8 */
    CHECK(uniap_strategy_parse("dp4.tp1.ddp", &s) == 0);
    CHECK_EQ(cm_row_breakdown(cm, 1, 1, 0, &s, &row), UNIAP_EINTERNAL); /* 4 devices, not 8 */
    CHECK_EQ(cm_strategies(0, 4, &cm->opt, &v, &n), UNIAP_EINTERNAL);
    uniap_err_clear();
    uniap_costmodel_destroy(cm);

    /* runs' counts that do not add up to the layers (tables are indexed
     * by both): refused, not written past */
    model.n_layers = 4;
    CHECK_EQ(create(&cluster, p, 16, &cm), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "add up to 3");
    model.n_layers = 3;
    layers[1].count = 0;
    CHECK_EQ(create(&cluster, p, 16, &cm), UNIAP_EINVAL);
    layers[1].count = 1;
    uniap_err_clear();

    /* global batch 2^30: 31 divisors, found without a loop to 2^30 */
    int *deg, *c;
    CHECK(create(&cluster, p, (int64_t)1 << 30, &cm) == 0);
    if (cm && uniap_costmodel_candidates(cm, &deg, &c, &n) == 0) {
        CHECK(n > 0);
        for (int i = 1; i < n; i++)
            CHECK(deg[i] > deg[i - 1] || (deg[i] == deg[i - 1] && c[i] > c[i - 1]));
        free(deg);
        free(c);
    }
    uniap_costmodel_destroy(cm);
}

int main(void)
{
    uniap_profile p;

    build_model();
    build_cluster(&cluster);
    build_profile(&p);
    test_cluster_figures(&p);
    test_profile_figures();
    test_analytic_absurd();
    test_invariants(&p);
    uniap_profile_free(&p);
    return check_report();
}
