/*
 * test_plan.c - plan JSON: write/read round trip of every field, the
 * per-stage breakdown, rejected files (a foreign version, inconsistent
 * batch sizes, duplicated or missing layer indices, stages out of order or
 * range, unknown strategies, non-finite figures: errors naming the file and
 * the JSON path), and
 * mapping a plan's strategies onto a table's indices.
 * usage: test_cost_plan WORKDIR
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "uniap_costmodel.h"

static char dir[512];

static void write_text(const char *name, const char *text, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    uniap_write_file_atomic(path, text, strlen(text));
}

int main(int argc, char **argv)
{
    uniap_plan p, q;
    uniap_cost_table t;
    uniap_plan_eval e;
    char path[600];
    const char *names[] = {"dp2.tp1.zero3.ckpt", "dp1.tp2c.sp", "dp1.tp2c.sp"};

    if (argc < 2)
        return 2;
    snprintf(dir, sizeof(dir), "%s", argv[1]);
    for (char *s = dir + 1; *s; s++) /* mkdir -p */
        if (*s == '/') {
            *s = 0;
            mkdir(dir, 0755);
            *s = '/';
        }
    mkdir(dir, 0755);
    memset(&p, 0, sizeof(p));
    snprintf(p.model, sizeof(p.model), "tiny");
    snprintf(p.cluster, sizeof(p.cluster), "test-1x4");
    snprintf(p.profile, sizeof(p.profile), "/tmp/x.h5");
    snprintf(p.profile_checksum, sizeof(p.profile_checksum), "deadbeef");
    snprintf(p.status, sizeof(p.status), "optimal");
    p.global_batch = 8;
    p.deg = 2;
    p.micro_batches = 4;
    p.micro_batch = 2;
    p.schedule = UNIAP_SCHED_GPIPE;
    p.n_layers = 3;
    p.tpi = 1.25;
    p.throughput = 6.4;
    p.gap = 0.001;
    p.search_seconds = 0.5;
    p.pairs_total = 9;
    p.pairs_solved = 7;
    p.pairs_pruned = 2;
    p.stage_of = calloc(3, sizeof(int));
    p.strategy_of = calloc(3, sizeof(uniap_strategy));
    p.stage_of[2] = 1;
    for (int u = 0; u < 3; u++)
        CHECK(uniap_strategy_parse(names[u], &p.strategy_of[u]) == 0);

    /* a table whose strategy list holds the plan's names, for the
     * breakdown and index mapping */
    CHECK(uniap_cost_table_alloc(&t, 2, 2, 3) == 0);
    t.micro_batches = 4;
    t.micro_batch = 2;
    t.stage_devices = 2;
    t.mem_budget[0] = 100;
    t.strategies[0] = p.strategy_of[1];
    t.strategies[1] = p.strategy_of[0];
    for (int i = 0; i < 6; i++) {
        t.time[i] = 1 + i;
        t.mem_states[i] = 10 * (i + 1);
        t.mem_act[i] = 1;
    }
    int idx[3];
    CHECK(uniap_plan_strategy_indices(&p, &t, idx) == 0);
    CHECK(idx[0] == 1 && idx[1] == 0 && idx[2] == 0);
    CHECK(uniap_plan_evaluate(&t, p.schedule, p.stage_of, idx, &e) == 0);

    snprintf(path, sizeof(path), "%s/plan.json", dir);
    CHECK(uniap_plan_write_json(path, &p, NULL, &t, &e) == 0);
    if (uniap_plan_read_json(path, &q) < 0) {
        fprintf(stderr, "%s\n", uniap_errmsg());
        CHECK(0);
        return check_report();
    }
    CHECK_STR_CONTAINS(q.model, "tiny");
    CHECK_STR_CONTAINS(q.cluster, "test-1x4");
    CHECK_STR_CONTAINS(q.profile, "/tmp/x.h5");
    CHECK_STR_CONTAINS(q.profile_checksum, "deadbeef");
    CHECK_STR_CONTAINS(q.status, "optimal");
    CHECK_EQ(q.global_batch, 8);
    CHECK_EQ(q.deg, 2);
    CHECK_EQ(q.micro_batches, 4);
    CHECK_EQ(q.micro_batch, 2);
    CHECK_EQ(q.schedule, UNIAP_SCHED_GPIPE);
    CHECK_EQ(q.n_layers, 3);
    CHECK_NEAR(q.tpi, 1.25, 0, 0);
    CHECK_NEAR(q.throughput, 6.4, 0, 0);
    CHECK_NEAR(q.gap, 0.001, 0, 0);
    CHECK_NEAR(q.search_seconds, 0.5, 0, 0);
    CHECK(q.pairs_total == 9 && q.pairs_solved == 7 && q.pairs_pruned == 2);
    for (int u = 0; u < 3; u++) {
        CHECK_EQ(q.stage_of[u], p.stage_of[u]);
        CHECK_STR_CONTAINS(q.strategy_of[u].name, names[u]);
        CHECK_EQ(q.strategy_of[u].flavour, p.strategy_of[u].flavour);
        CHECK_EQ(q.strategy_of[u].sp, p.strategy_of[u].sp);
    }
    /* the per-stage breakdown is in the file: stage 0 states 20 + 30 */
    char *text = NULL;
    size_t len;
    CHECK(uniap_read_file(path, &text, &len) == 0);
    CHECK_STR_CONTAINS(text, "\"memory_states\":\t50");
    CHECK_STR_CONTAINS(text, "\"strategy\":\t\"dp2.tp1.zero3.ckpt\"");
    free(text);
    uniap_plan_free(&q);

    /* a plan strategy the table lacks: the layer is named */
    t.strategies[1].name[0] = 'x';
    uniap_err_clear();
    CHECK_EQ(uniap_plan_strategy_indices(&p, &t, idx), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "layer 0: strategy 'dp2.tp1.zero3.ckpt'");
    uniap_err_clear();
    uniap_plan_eval_free(&e);
    uniap_cost_table_free(&t);
    uniap_plan_free(&p);

    /* rejected files */
    write_text("bad1.json",
               "{\"deg\": 1, \"micro_batches\": 2, \"layers\": [{\"stage\": 0, "
               "\"strategy\": \"dp1.tp1.sp\"}]}",
               path, sizeof(path));
    CHECK_EQ(uniap_plan_read_json(path, &q), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "layers[0].strategy");
    CHECK_STR_CONTAINS(uniap_errmsg(), "sequence parallelism needs tp > 1");
    uniap_err_clear();
    write_text("bad2.json", "{\"micro_batches\": 2, \"layers\": []}", path, sizeof(path));
    CHECK_EQ(uniap_plan_read_json(path, &q), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "deg: expected an integer in 1..");
    CHECK_STR_CONTAINS(uniap_errmsg(), "field missing");
    uniap_err_clear();
    write_text("bad3.json",
               "{\"deg\": 2, \"micro_batches\": 2, \"layers\": [{\"stage\": 2, "
               "\"strategy\": \"dp1.tp1\"}]}",
               path, sizeof(path));
    CHECK_EQ(uniap_plan_read_json(path, &q), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "layers[0].stage: expected an integer in 0..1, got 2");
    uniap_err_clear();
    write_text("bad4.json", "[1, 2]", path, sizeof(path));
    CHECK_EQ(uniap_plan_read_json(path, &q), UNIAP_EINVAL);
    uniap_err_clear();

    /* issue 10 item 4: each case breaks one thing of a good plan; the error
     * names the file and the JSON path. */
    static const struct {
        const char *name, *head, *layers, *needle;
    } bad[] = {
        {"version99", "\"version\": 99,", NULL, "version: expected 1"},
        {"version_str", "\"version\": \"1\",", NULL, "version: expected 1"},
        {"format", "\"format\": \"uniap-costs\",", NULL, "format: expected \"uniap-plan\""},
        {"mb_inconsistent", "\"micro_batch\": 3,", NULL,
         "micro_batch: expected 2 for global_batch 8 in 4 micro-batches (global_batch / "
         "micro_batches), got 3"},
        /* 6 in 4 micro-batches: torch.chunk makes 3 of 2 (PyTorch's own
         * example), so 4 is no count of 6 */
        {"gb_indivisible", "\"micro_batch\": 2, \"global_batch\": 6,", NULL,
         "micro_batches: expected a divisor of global_batch (6) or a count"},
        /* 10 in 4: 3, 3, 3 and 1, each priced at 3 */
        {"gb_chunked", "\"micro_batch\": 2, \"global_batch\": 10,", NULL,
         "micro_batch: expected 3 for global_batch 10 in 4 micro-batches "
         "(ceil(global_batch / micro_batches)), got 2"},
        {"gb_zero", "\"global_batch\": 0,", NULL, "global_batch: expected an integer in 1.."},
        {"mbs_huge", "\"micro_batches\": 1e300,", NULL, "micro_batches: expected an integer"},
        {"tpi_inf", "\"tpi\": 1e999,", NULL, "tpi: expected a finite number"},
        {"gap_negative", "\"gap\": -0.5,", NULL, "gap: expected a finite number >= 0"},
        {"model_number", "\"model\": 7,", NULL, "model: expected a string"},
        {"schedule", "\"schedule\": \"zigzag\",", NULL,
         "schedule: expected \"gpipe\", \"1f1b\", \"interleaved2\""},
        {"pairs", "\"pairs\": {\"total\": -1},", NULL, "pairs.total: expected an integer in 0.."},
        {"dup_layer", NULL,
         "{\"layer\": 0, \"stage\": 0, \"strategy\": \"dp2.tp1\"}, {\"layer\": 0, \"stage\": 0, "
         "\"strategy\": \"dp2.tp1\"}, {\"layer\": 2, \"stage\": 1, \"strategy\": \"dp2.tp1\"}",
         "layers[1].layer: expected 1 (layers listed in order 0..2, each once), got 0"},
        {"missing_layer", NULL,
         "{\"layer\": 0, \"stage\": 0, \"strategy\": \"dp2.tp1\"}, {\"layer\": 2, \"stage\": 0, "
         "\"strategy\": \"dp2.tp1\"}, {\"layer\": 3, \"stage\": 1, \"strategy\": \"dp2.tp1\"}",
         "layers[1].layer: expected 1"},
        {"stage_decreasing", NULL,
         "{\"stage\": 0, \"strategy\": \"dp2.tp1\"}, {\"stage\": 1, \"strategy\": \"dp2.tp1\"}, "
         "{\"stage\": 0, \"strategy\": \"dp2.tp1\"}",
         "layers[2].stage: expected the previous stage or the next"},
        {"stage_negative", NULL,
         "{\"stage\": -1, \"strategy\": \"dp2.tp1\"}, {\"stage\": 1, \"strategy\": \"dp2.tp1\"}",
         "layers[0].stage: expected an integer in 0..1, got -1"},
        {"stage_empty", NULL,
         "{\"stage\": 0, \"strategy\": \"dp2.tp1\"}, {\"stage\": 0, \"strategy\": \"dp2.tp1\"}",
         "layers[1].stage: expected 1 (every one of the deg 2 stages holds a layer)"},
        {"stage_fraction", NULL,
         "{\"stage\": 0, \"strategy\": \"dp2.tp1\"}, {\"stage\": 0.5, \"strategy\": \"dp2.tp1\"}",
         "layers[1].stage: expected an integer"},
        {"strategy_unknown", NULL,
         "{\"stage\": 0, \"strategy\": \"dp2.tp1\"}, {\"stage\": 1, \"strategy\": \"warp9\"}",
         "layers[1].strategy: strategy 'warp9'"},
        {"strategy_missing", NULL, "{\"stage\": 0, \"strategy\": \"dp2.tp1\"}, {\"stage\": 1}",
         "layers[1].strategy: expected a strategy name string, got nothing"},
    };
    const char *good_layers = "{\"layer\": 0, \"stage\": 0, \"strategy\": \"dp2.tp1\"}, "
                              "{\"layer\": 1, \"stage\": 1, \"strategy\": \"dp1.tp2c.sp\"}";
    char text2[2048], name[64];
    /* The good plan itself reads. */
    snprintf(text2, sizeof(text2),
             "{\"format\": \"uniap-plan\", \"version\": 1, \"global_batch\": 8, \"deg\": 2, "
             "\"micro_batches\": 4, \"micro_batch\": 2, \"layers\": [%s]}",
             good_layers);
    write_text("good.json", text2, path, sizeof(path));
    uniap_err_clear();
    CHECK_EQ(uniap_plan_read_json(path, &q), 0);
    CHECK_EQ(q.micro_batch, 2);
    uniap_plan_free(&q);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* a later duplicate key is ignored by cJSON, so the broken field
         * comes first */
        snprintf(text2, sizeof(text2),
                 "{%s \"format\": \"uniap-plan\", \"version\": 1, \"global_batch\": 8, "
                 "\"deg\": 2, \"micro_batches\": 4, \"layers\": [%s]}",
                 bad[i].head ? bad[i].head : "", bad[i].layers ? bad[i].layers : good_layers);
        snprintf(name, sizeof(name), "bad_%s.json", bad[i].name);
        write_text(name, text2, path, sizeof(path));
        uniap_err_clear();
        memset(&q, 0x5a, sizeof(q));
        CHECK_EQ(uniap_plan_read_json(path, &q), UNIAP_EINVAL);
        CHECK(q.stage_of == NULL && q.n_layers == 0);
        CHECK_STR_CONTAINS(uniap_errmsg(), path);
        CHECK_STR_CONTAINS(uniap_errmsg(), bad[i].needle);
        fprintf(stderr, "  %-18s -> %s\n", bad[i].name, uniap_errmsg());
    }
    uniap_err_clear();
    return check_report();
}
