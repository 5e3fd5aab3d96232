/*
 * test_missing.c - a profile lacking data drops the strategies needing it,
 * says which once, and fails only when a layer is left with nothing (issue
 * 10 item 1). Model: 2 decoder blocks (4 heads: tp 1, 2, 4) + head (any
 * tp); cluster 2 nodes x 4; global batch 16. The complete profile has
 * every layer type at tp 1, 2, 4, 8 and every collective at groups 2, 4,
 * 8 in both placements; the variants lack:
 *   - the decoder at tp 4: its tp-4 strategies are disallowed for the
 *     decoder layers only, one warning naming the profile file, the layer
 *     type and tp 4 (not one per table); everything else is unchanged;
 *   - the head's layer type: EMISSING at create, naming the file;
 *   - reduce_scatter over 2 inside a node: the ZeRO/FSDP strategies whose
 *     DP pairs lie in a node are disallowed, DDP kept;
 *   - p2p spanning nodes: the pipelines whose boundaries span are left out
 *     (here every one: deg 2), one warning;
 *   - all p2p and all_to_all: no candidate is left: EMISSING naming the file.
 * And max_pp 1 keeps exactly the candidates of pipeline degree 1.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cm_internal.h"
#include "cm_fixture.h"

#define PROFILE "prof-missing.h5"

enum {
    LACK_DECODER_TP4 = 1,
    LACK_HEAD = 2,
    LACK_RS2_INSIDE = 4,
    LACK_P2P_SPANNING = 8,
    LACK_STAGE_COLLS = 16
};

static uniap_layer layers[2];
static uniap_model model;
static uniap_cluster cluster;

static void build_model(void)
{
    fx_tiny_model(layers, &model);
    fx_cluster(&cluster, "test-2x4", 2, 4, 16 * GiB);
    cluster.mem_bandwidth = 1e12;
}

static int skip_layer(int r, int tp, void *ctx)
{
    int lack = *(const int *)ctx;
    return (r == 1 && (lack & LACK_HEAD)) || (r == 0 && tp == 4 && (lack & LACK_DECODER_TP4));
}

static int skip_coll(int op, int g, int s, void *ctx)
{
    int lack = *(const int *)ctx;
    return ((lack & LACK_RS2_INSIDE) && op == UNIAP_COLL_REDUCESCATTER && g == 2 && !s) ||
           ((lack & LACK_P2P_SPANNING) && op == UNIAP_COLL_P2P && s) ||
           ((lack & LACK_STAGE_COLLS) && (op == UNIAP_COLL_P2P || op == UNIAP_COLL_ALLTOALL));
}

static void build_profile(int lack, uniap_profile *p)
{
    uniap_profile_init(p);
    snprintf(p->provenance, sizeof(p->provenance), "measured");
    fx_add_layer_rows(p, layers, 2, 16, skip_layer, &lack);
    fx_add_coll_rows(p, skip_coll, &lack);
}

static uniap_costmodel *create(const uniap_profile *p, int skip)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;

    uniap_cost_options_default(&o);
    CHECK_EQ(o.skip_unprofiled_tp, 1); /* dropping is the default */
    o.global_batch = 16;
    o.skip_unprofiled_tp = skip;
    o.profile_path = PROFILE;
    uniap_err_clear();
    if (uniap_costmodel_create(&model, &cluster, p, &o, &cm) < 0)
        return NULL;
    return cm;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *h = strstr(hay, needle); h; h = strstr(h + 1, needle))
        n++;
    return n;
}

static int in_list(const int *deg, const int *c, int n, int d, int x)
{
    for (int i = 0; i < n; i++)
        if (deg[i] == d && c[i] == x)
            return 1;
    return 0;
}

/* Whether the decoder has a strategy other than tp 4 on stages of n
 * devices at micro-batch mb (what the candidates must keep). */
static int decoder_without_tp4(int n, int mb)
{
    for (int tp = 1; tp <= n; tp++)
        if (n % tp == 0 && mb % (n / tp) == 0 && tp != 4 && cm_layer_tp_ok(&layers[0], tp))
            return 1;
    return 0;
}

/* Every table of the lacking model against the complete one. */
static void compare_tables(const uniap_costmodel *full, const uniap_costmodel *cm, const int *deg,
                           const int *c, int n)
{
    for (int i = 0; i < n; i++) {
        uniap_cost_table a, b;
        CHECK(uniap_costmodel_table(full, deg[i], c[i], &a) == 0);
        if (uniap_costmodel_table(cm, deg[i], c[i], &b) < 0) {
            fprintf(stderr, "table (%d, %d): %s\n", deg[i], c[i], uniap_errmsg());
            CHECK(0);
            uniap_cost_table_free(&a);
            continue;
        }
        int K = a.n_strategies, L = a.n_layers;
        CHECK_EQ(b.n_strategies, K);
        for (int k = 0; k < K && k < b.n_strategies; k++)
            CHECK(strcmp(a.strategies[k].name, b.strategies[k].name) == 0);
        for (int u = 0; u < L && K == b.n_strategies; u++)
            for (int k = 0; k < K; k++) {
                size_t uk = (size_t)u * K + k;
                int decoder = a.run_of[u] == 0, tp4 = a.strategies[k].tp == 4;
                /* only the decoder's tp-4 strategies go; values stay */
                CHECK_EQ(b.allowed[uk], decoder && tp4 ? 0 : a.allowed[uk]);
                if (b.allowed[uk]) {
                    CHECK(a.time[uk] == b.time[uk] && a.tail[uk] == b.tail[uk]);
                    CHECK(a.mem_states[uk] == b.mem_states[uk] && a.mem_act[uk] == b.mem_act[uk] &&
                          a.mem_peak[uk] == b.mem_peak[uk]);
                }
            }
        size_t pairs = (L > 1 ? (size_t)a.n_pairs : 0) * K * K; /* shared per run */
        CHECK_EQ(a.n_pairs, b.n_pairs);
        if (K == b.n_strategies && a.n_pairs == b.n_pairs)
            CHECK(memcmp(a.reshard, b.reshard, pairs * sizeof(double)) == 0);
        uniap_cost_table_free(&a);
        uniap_cost_table_free(&b);
    }
}

static void test_lacking_tp4(void)
{
    uniap_profile pf, pm;
    int *fd, *fc, nf, *md, *mc, nm;

    build_profile(0, &pf);
    build_profile(LACK_DECODER_TP4, &pm);
    uniap_costmodel *full = create(&pf, 1), *cm = create(&pm, 1);
    CHECK(full && cm);
    if (!full || !cm)
        goto free_all;
    CHECK(uniap_costmodel_candidates(full, &fd, &fc, &nf) == 0);
    CHECK(uniap_costmodel_candidates(cm, &md, &mc, &nm) == 0);
    /* exactly the pairs where the decoder has a strategy without tp 4 */
    int want = 0;
    for (int i = 0; i < nf; i++) {
        int n = 8 / fd[i], mb = 16 / fc[i], keep = decoder_without_tp4(n, mb);
        want += keep;
        CHECK_EQ(in_list(md, mc, nm, fd[i], fc[i]), keep);
    }
    CHECK_EQ(nm, want);
    CHECK(nm > 0 && nm < nf); /* (2, 16): micro-batch 1 on 4 devices needs tp 4 */
    compare_tables(full, cm, md, mc, nm);
    /* one warning, naming the file, the layer type and tp, however many
     * tables were built */
    char sig[96], line[256];
    uniap_layer_signature(&layers[0], sig, sizeof(sig));
    snprintf(line, sizeof(line), PROFILE ": profile lacks layer type '%s' at tp 4", sig);
    CHECK_EQ(count_of(uniap_costmodel_warnings(cm), line), 1);
    CHECK_EQ(count_of(uniap_costmodel_warnings(cm), "at tp 4"), 1);
    CHECK_EQ(count_of(uniap_costmodel_warnings(full), "lacks"), 0);
    /* a plan with the decoder on tp 4 is refused by the evaluator */
    uniap_cost_table t;
    if (uniap_costmodel_table(cm, 1, 1, &t) == 0) {
        int stage[3] = {0, 0, 0}, strat[3] = {0, 0, 0};
        for (int k = 0; k < t.n_strategies; k++)
            if (strcmp(t.strategies[k].name, "dp2.tp4c.ddp") == 0)
                strat[0] = strat[1] = strat[2] = k;
        uniap_plan_eval ev;
        CHECK_EQ(uniap_plan_evaluate(&t, UNIAP_SCHED_1F1B, stage, strat, &ev), UNIAP_EINVAL);
        uniap_err_clear();
        uniap_cost_table_free(&t);
    }
    /* strict: the first table needing tp 4 fails, naming file, type, tp */
    uniap_costmodel *strict = create(&pm, 0);
    CHECK(strict != NULL);
    if (strict) {
        uniap_err_clear();
        CHECK_EQ(uniap_costmodel_table(strict, 2, 16, &t), UNIAP_EMISSING);
        CHECK_STR_CONTAINS(uniap_errmsg(), PROFILE ": profile lacks layer type");
        CHECK_STR_CONTAINS(uniap_errmsg(), "at tp 4");
        CHECK_STR_CONTAINS(uniap_errmsg(), "--max-tp");
        uniap_err_clear();
        uniap_costmodel_destroy(strict);
    }
    free(fd);
    free(fc);
    free(md);
    free(mc);
free_all:
    uniap_costmodel_destroy(full);
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&pf);
    uniap_profile_free(&pm);
}

static void test_lacking_layer(void)
{
    uniap_profile p;
    char sig[96];

    build_profile(LACK_HEAD, &p);
    uniap_layer_signature(&layers[1], sig, sizeof(sig));
    CHECK(create(&p, 1) == NULL);
    CHECK_STR_CONTAINS(uniap_errmsg(), PROFILE ": ");
    CHECK_STR_CONTAINS(uniap_errmsg(), sig);
    CHECK_STR_CONTAINS(uniap_errmsg(), "layer 2");
    uniap_err_clear();
    uniap_profile_free(&p);
}

static void test_lacking_collectives(void)
{
    uniap_profile p;
    uniap_cost_table t;
    int *deg, *c, n;

    /* reduce_scatter over 2 inside a node: deg 2 (stages = nodes), dp 2
     * tp 2 consecutive: DP pairs {0, 2} lie in a node */
    build_profile(LACK_RS2_INSIDE, &p);
    uniap_costmodel *cm = create(&p, 1);
    CHECK(cm != NULL);
    if (cm && uniap_costmodel_table(cm, 2, 1, &t) == 0) {
        int K = t.n_strategies;
        CHECK_EQ(t.allowed[fx_strategy(&t, "dp2.tp2c.ddp")], 1);
        CHECK_EQ(t.allowed[fx_strategy(&t, "dp2.tp2c.zero1")], 0);
        CHECK_EQ(t.allowed[2 * K + fx_strategy(&t, "dp2.tp2c.zero3")], 0);
        CHECK_EQ(t.allowed[fx_strategy(&t, "dp4.tp1.zero1")], 1); /* group of 4 */
        CHECK_EQ(count_of(uniap_costmodel_warnings(cm),
                          PROFILE ": profile lacks reduce_scatter over a group of 2 inside one "
                                  "node"),
                 1);
        uniap_cost_table_free(&t);
    }
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&p);

    /* p2p spanning nodes: on 2 x 4, every pipeline has a spanning boundary */
    build_profile(LACK_P2P_SPANNING, &p);
    cm = create(&p, 1);
    CHECK(cm != NULL);
    if (cm && uniap_costmodel_candidates(cm, &deg, &c, &n) == 0) {
        CHECK(n > 0);
        for (int i = 0; i < n; i++)
            CHECK_EQ(deg[i], 1);
        CHECK_EQ(count_of(uniap_costmodel_warnings(cm), "p2p over a group of 2 spanning nodes"),
                 1); /* pipelines of 2 stages (4 and 8 exceed the 3 layers) */
        free(deg);
        free(c);
    }
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&p);

    /* no p2p, no all_to_all: no candidate left at all */
    build_profile(LACK_STAGE_COLLS, &p);
    cm = create(&p, 1);
    CHECK(cm != NULL);
    if (cm) {
        uniap_err_clear();
        CHECK_EQ(uniap_costmodel_candidates(cm, &deg, &c, &n), UNIAP_EMISSING);
        CHECK_STR_CONTAINS(uniap_errmsg(), PROFILE ": no (pipeline degree, micro-batches)");
        CHECK_STR_CONTAINS(uniap_errmsg(), "all_to_all over a group of 8 spanning nodes");
        uniap_err_clear();
    }
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&p);
}

/* max_pp bounds the pipeline degree of the candidates, nothing else. */
static void test_max_pp(void)
{
    uniap_profile p;
    uniap_cost_options o;
    uniap_costmodel *all = NULL, *cm = NULL;
    int *ad, *ac, na, *d, *c, n;

    build_profile(0, &p);
    uniap_cost_options_default(&o);
    o.global_batch = 16;
    CHECK(uniap_costmodel_create(&model, &cluster, &p, &o, &all) == 0);
    o.max_pp = 1;
    CHECK(uniap_costmodel_create(&model, &cluster, &p, &o, &cm) == 0);
    if (all && cm && uniap_costmodel_candidates(all, &ad, &ac, &na) == 0) {
        if (uniap_costmodel_candidates(cm, &d, &c, &n) == 0) {
            int want = 0;
            for (int i = 0; i < na; i++) {
                want += ad[i] <= 1;
                CHECK_EQ(in_list(d, c, n, ad[i], ac[i]), ad[i] <= 1);
            }
            CHECK_EQ(n, want);
            CHECK(n > 0 && n < na);
            free(d);
            free(c);
        }
        free(ad);
        free(ac);
    }
    uniap_costmodel_destroy(all);
    uniap_costmodel_destroy(cm);
    uniap_profile_free(&p);
}

int main(void)
{
    build_model();
    test_max_pp();
    test_lacking_tp4();
    test_lacking_layer();
    test_lacking_collectives();
    return check_report();
}
