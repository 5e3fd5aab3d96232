/*
 * test_micro_batches.c - micro-batch counts that do not divide the global
 * batch (issue 14 item 4: Galvatron's chunks), against independent
 * references:
 *   - uniap_micro_batch_size against PyTorch's documented torch.chunk
 *     examples (torch.arange(11).chunk(6): 6 chunks; torch.arange(6)
 *     .chunk(4): 3 chunks, "may return fewer than the specified number")
 *     and against a chunking loop over every B <= 160, c <= B;
 *   - the price of c uneven micro-batches of B = the price of c even
 *     micro-batches of c ceil(B / c) samples (what the cost model promises:
 *     every micro-batch at ceil(B / c)), table entry by entry and TPI, with
 *     the throughput counting B samples, not c ceil(B / c);
 *   - which runtimes run such counts (Galvatron and "any"), and that the
 *     others' space on such a table is empty;
 *   - the candidate counts of cost options (a count torch.chunk cannot
 *     make refused, naming it), and plan files with such counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "uniap_costmodel.h"

/* torch.chunk's count, by splitting: chunks of ceil(B / c) until none is
 * left (PyTorch docs: "each chunk is of size ceil(n / chunks)"). */
static int chunk_count(int B, int c)
{
    int size = (B + c - 1) / c, n = 0;
    for (int left = B; left > 0; left -= size < left ? size : left)
        n++;
    return n;
}

static void test_size(void)
{
    /* PyTorch's documented examples */
    CHECK_EQ(uniap_micro_batch_size(11, 6), (int64_t)2); /* 2,2,2,2,2,1 */
    CHECK_EQ(uniap_micro_batch_size(6, 4), (int64_t)0);  /* 3 chunks of 2, not 4 */
    CHECK_EQ(uniap_micro_batch_size(12, 6), (int64_t)2);
    /* Galvatron's Swin-Huge config: global_bsz 1024, chunks 41 */
    CHECK_EQ(uniap_micro_batch_size(1024, 41), (int64_t)25); /* 40 x 25 + 24 */
    CHECK_EQ(uniap_micro_batch_size(1024, 39), (int64_t)0);  /* 27 each: 38 chunks */
    CHECK_EQ(uniap_micro_batch_size(1024, 32), (int64_t)32);
    CHECK_EQ(uniap_micro_batch_size(5, 6), (int64_t)0);
    CHECK_EQ(uniap_micro_batch_size(5, 0), (int64_t)0);
    for (int B = 1; B <= 160; B++)
        for (int c = 1; c <= B; c++) {
            int64_t want = chunk_count(B, c) == c ? (B + c - 1) / c : 0;
            if (uniap_micro_batch_size(B, c) != want)
                CHECK_EQ(uniap_micro_batch_size(B, c), want);
        }
}

/* The cost model of gpt-tiny on a100-40g-1x8 at global batch B, over the
 * analytic profile at sizes 1..8 (8 = ceil(30 / 4), and its divisors). */
typedef struct fixture {
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;
} fixture;

static void fx_open(fixture *f)
{
    int mbs[] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK_EQ(uniap_model_resolve("gpt-tiny", &f->m), 0);
    CHECK_EQ(uniap_cluster_preset("a100-40g-1x8", &f->c), 0);
    CHECK_EQ(uniap_profile_analytic(&f->m, &f->c, mbs, 8, &f->p), 0);
}

static void fx_close(fixture *f)
{
    uniap_profile_free(&f->p);
    uniap_model_free(&f->m);
}

static uniap_costmodel *make(fixture *f, int64_t B, const int *counts, int n_counts)
{
    uniap_cost_options o;
    uniap_costmodel *cm = NULL;
    uniap_cost_options_default(&o);
    o.global_batch = B;
    o.micro_batch_counts = counts;
    o.n_micro_batch_counts = n_counts;
    CHECK_EQ(uniap_costmodel_create(&f->m, &f->c, &f->p, &o, &cm), 0);
    return cm;
}

static int same(const double *a, const double *b, size_t n)
{
    return memcmp(a, b, n * sizeof(double)) == 0;
}

static void test_price(fixture *f)
{
    /* 30 samples in 4 micro-batches: 8, 8, 8, 6; priced as 4 of 8 = 32 */
    uniap_costmodel *uneven = make(f, 30, NULL, 0), *even = make(f, 32, NULL, 0);
    uniap_cost_table a, b;
    CHECK_EQ(uniap_costmodel_table(uneven, 2, 4, &a), 0);
    CHECK_EQ(uniap_costmodel_table(even, 2, 4, &b), 0);
    CHECK_EQ(a.micro_batch, 8);
    CHECK_EQ(a.global_batch, (int64_t)30);
    CHECK_EQ(b.global_batch, (int64_t)32);
    CHECK_EQ(a.n_strategies, b.n_strategies);
    size_t n = (size_t)a.n_classes * a.n_layers * a.n_strategies;
    CHECK(same(a.time, b.time, n) && same(a.tail, b.tail, n));
    CHECK(same(a.mem_states, b.mem_states, n) && same(a.mem_act, b.mem_act, n));
    CHECK(same(a.mem_peak, b.mem_peak, n));
    /* one plan on both: the same TPI and memory; throughput 30 vs 32 */
    int L = a.n_layers, *stage = calloc((size_t)L, sizeof(int)), *strat = calloc((size_t)L, 4);
    for (int u = 0; u < L; u++)
        stage[u] = u >= L / 2;
    uniap_plan_eval ea, eb;
    CHECK_EQ(uniap_plan_evaluate(&a, UNIAP_SCHED_1F1B, stage, strat, &ea), 0);
    CHECK_EQ(uniap_plan_evaluate(&b, UNIAP_SCHED_1F1B, stage, strat, &eb), 0);
    CHECK(ea.tpi == eb.tpi && ea.tpi > 0);
    CHECK(ea.stage_mem[0] == eb.stage_mem[0] && ea.stage_mem[1] == eb.stage_mem[1]);
    CHECK_NEAR(ea.throughput, 30 / ea.tpi, 1e-14, 0);
    CHECK_NEAR(eb.throughput, 32 / eb.tpi, 1e-14, 0);

    /* Megatron-LM, DeepSpeed and torchtitan have no plan of the uneven
     * table; Galvatron and "any" have */
    int *role = calloc((size_t)L, sizeof(int));
    double *params = calloc((size_t)L, sizeof(double));
    uniap_runtime_roles(&f->m, role, params);
    const char *names[] = {"any", "megatron", "deepspeed", "torchtitan", "galvatron"};
    const int runs[] = {1, 0, 0, 0, 1};
    for (int i = 0; i < 5; i++) {
        uniap_runtime r;
        uniap_space sa, sb;
        CHECK_EQ(uniap_runtime_parse(names[i], &r), 0);
        CHECK_EQ(uniap_runtime_micro_batches_ok(r, 30, 4), runs[i]);
        CHECK_EQ(uniap_runtime_micro_batches_ok(r, 30, 5), 1); /* divides */
        CHECK_EQ(uniap_runtime_micro_batches_ok(r, 30, 7), 0); /* 5 each: 6 */
        CHECK_EQ(uniap_runtime_space(r, role, params, uniap_runtime_model_flags(&f->m),
                                     UNIAP_SCHED_1F1B, &a, &sa),
                 0);
        CHECK_EQ(uniap_runtime_space(r, role, params, uniap_runtime_model_flags(&f->m),
                                     UNIAP_SCHED_1F1B, &b, &sb),
                 0);
        if (runs[i])
            CHECK_EQ(sa.n_variants, sb.n_variants);
        else
            CHECK_EQ(sa.n_variants, 0);
        CHECK(sb.n_variants > 0);
        uniap_space_free(&sa);
        uniap_space_free(&sb);
    }
    free(role);
    free(params);
    uniap_plan_eval_free(&ea);
    uniap_plan_eval_free(&eb);
    free(stage);
    free(strat);
    uniap_cost_table_free(&a);
    uniap_cost_table_free(&b);
    uniap_costmodel_destroy(uneven);
    uniap_costmodel_destroy(even);
}

static void test_candidates(fixture *f)
{
    int ok[] = {4, 5}, bad[] = {4, 7}, *deg = NULL, *c = NULL, n = 0;
    uniap_costmodel *cm = make(f, 30, ok, 2);
    CHECK_EQ(uniap_costmodel_candidates(cm, &deg, &c, &n), 0);
    CHECK(n > 0);
    for (int i = 0; i < n; i++)
        CHECK(c[i] == 4 || c[i] == 5);
    free(deg);
    free(c);
    uniap_costmodel_destroy(cm);
    cm = make(f, 30, bad, 2);
    CHECK_EQ(uniap_costmodel_candidates(cm, &deg, &c, &n), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "micro-batch count 7");
    CHECK_STR_CONTAINS(uniap_errmsg(), "6 micro-batches of 5");
    uniap_costmodel_destroy(cm);
}

/* Plan files: 41 micro-batches of 25 for 1024 samples read; 39 refused. */
static void test_plan_file(const char *dir)
{
    char path[512];
    const char *texts[] = {
        "{\"format\": \"uniap-plan\", \"version\": 1, \"global_batch\": 1024, \"deg\": 1, "
        "\"micro_batches\": 41, \"micro_batch\": 25, \"layers\": [{\"stage\": 0, \"strategy\": "
        "\"dp1.tp1\"}]}",
        "{\"format\": \"uniap-plan\", \"version\": 1, \"global_batch\": 1024, \"deg\": 1, "
        "\"micro_batches\": 41, \"micro_batch\": 24, \"layers\": [{\"stage\": 0, \"strategy\": "
        "\"dp1.tp1\"}]}",
        "{\"format\": \"uniap-plan\", \"version\": 1, \"global_batch\": 1024, \"deg\": 1, "
        "\"micro_batches\": 39, \"layers\": [{\"stage\": 0, \"strategy\": \"dp1.tp1\"}]}",
    };
    const char *errs[] = {NULL, "micro_batch: expected 25", "micro_batches: expected a divisor"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/plan%d.json", dir, i);
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (!f)
            continue;
        fputs(texts[i], f);
        fclose(f);
        uniap_plan p;
        int rc = uniap_plan_read_json(path, &p);
        if (!errs[i]) {
            CHECK_EQ(rc, 0);
            CHECK_EQ(p.micro_batch, 25);
            CHECK_EQ(p.micro_batches, 41);
            uniap_plan_free(&p);
        } else {
            CHECK_EQ(rc, UNIAP_EINVAL);
            CHECK_STR_CONTAINS(uniap_errmsg(), errs[i]);
        }
    }
}

int main(int argc, char **argv)
{
    fixture f;
    test_size();
    fx_open(&f);
    test_price(&f);
    test_candidates(&f);
    fx_close(&f);
    test_plan_file(argc > 1 ? argv[1] : ".");
    return check_report();
}
