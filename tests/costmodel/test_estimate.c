/*
 * test_estimate.c - `uniap estimate` end to end on Llama-7B and the
 * analytic a100-40g-1x8 preset: model-state bytes of uniform
 * Megatron-style plans against a hand calculation, the JSON of
 * --dump-costs recomputing the printed TPI, a plan file, exit 3 with the
 * shortfall, exit 2 for bad inputs (impossible strategy, a profile missing
 * a tp degree), and rank-0-only output under mpirun.
 * usage: test_cost_estimate UNIAP WORKDIR [MPIEXEC]
 *
 * Llama-7B by hand (vocab 32000, h 4096, ffn 11008, 32 blocks, RMSNorm
 * weights only, no biases, untied head):
 *   embedding 32000 x 4096                              =   131072000
 *   block: attention 4 h^2 = 67108864, SwiGLU MLP 3 h ffn = 135266304,
 *          two norms 2 h = 8192                          =   202383360
 *   head: 4096 x 32000 + final norm 4096                 =   131076096
 *   P = 131072000 + 32 x 202383360 + 131076096          = 6738415616
 * Mixed-precision Adam (Rajbhandari et al. 2020): 2 + 2 + 12 B/param.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "uniap_costmodel.h"

#define P_LLAMA 6738415616.0

static const char *uniap, *work, *mpiexec;
static char out[1 << 16];

/* Runs a shell command, stdout + stderr into out; returns the exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
    FILE *f = popen(cmd, "r");
    size_t n = 0, r;
    if (!f)
        return -1;
    while (n + 1 < sizeof(out) && (r = fread(out + n, 1, sizeof(out) - 1 - n, f)) > 0)
        n += r;
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double field(const char *key)
{
    const char *p = strstr(out, key);
    return p ? strtod(p + strlen(key), NULL) : -1.0;
}

#define EST "%s estimate --model llama-7b --cluster a100-40g-1x8 "

static void test_states(void)
{
    /* dp 2 x tp 4, DDP: every state / tp: 16 P / 4 = 26953662464 B */
    int rc = run(EST "--global-batch 16 --dp 2 --tp 4 --pp 1 --micro-batches 8 --sp --ckpt", uniap);
    CHECK_EQ(rc, 0);
    CHECK_STR_CONTAINS(out, "TPI ");
    CHECK_STR_CONTAINS(out, "dp2.tp4c.ddp.sp.ckpt x34");
    CHECK_NEAR(field("states "), 16 * P_LLAMA / 4, 0, 0.5);
    CHECK_NEAR(field("reserve "), 1610612736.0, 0, 0.5);
    /* the time breakdown adds up: stage time = compute + TP + CP + DP +
     * reshard (no CP here: cp 1) */
    double parts[6];
    const char *tp = strstr(out, "time per micro-batch: ");
    CHECK(tp && sscanf(tp,
                       "time per micro-batch: %lf s = compute %lf + TP comm %lf + CP comm %lf + "
                       "DP comm %lf + resharding %lf",
                       &parts[0], &parts[1], &parts[2], &parts[3], &parts[4], &parts[5]) == 6);
    if (tp) {
        CHECK_NEAR(parts[0], parts[1] + parts[2] + parts[3] + parts[4] + parts[5], 0, 4e-6);
        CHECK(parts[2] > 0); /* tp 4 all-reduces */
        CHECK_NEAR(parts[3], 0.0, 0, 0);
    }
    /* ZeRO-1: 4 P / 4 + 12 P / (4 x 2) = 2.5 P = 16846039040 B */
    rc = run(EST "--global-batch 16 --dp 2 --tp 4 --pp 1 --micro-batches 8 --sp --ckpt "
                 "--flavour zero1",
             uniap);
    CHECK_EQ(rc, 0);
    CHECK_NEAR(field("states "), 2.5 * P_LLAMA, 0, 0.5);
    /* Megatron tp 8: 16 P / 8 = 13476831232 B */
    rc = run(EST "--global-batch 16 --dp 1 --tp 8 --pp 1 --micro-batches 4 --sp", uniap);
    CHECK_EQ(rc, 0);
    CHECK_NEAR(field("states "), 2 * P_LLAMA, 0, 0.5);
    /* pp 2 x tp 4: layers 0-16 and 17-33 (floor(u x 2 / 34)); stage 0 holds
     * the embedding and 16 blocks: 16 x (131072000 + 16 x 202383360) / 4 */
    rc = run(EST "--global-batch 16 --dp 1 --tp 4 --pp 2 --micro-batches 8 --ckpt", uniap);
    CHECK_EQ(rc, 0);
    CHECK_STR_CONTAINS(out, "stage 0: layers 0-16");
    CHECK_STR_CONTAINS(out, "stage 1: layers 17-33");
    CHECK_NEAR(field("states "), 4.0 * (131072000.0 + 16 * 202383360.0), 0, 0.5);
}

static void test_dump(void)
{
    char path[1024], *text = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s/costs.json", work);
    int rc = run(EST "--global-batch 16 --dp 2 --tp 4 --pp 1 --micro-batches 8 --sp --ckpt "
                     "--dump-costs %s",
                 uniap, path);
    CHECK_EQ(rc, 0);
    double tpi = field("TPI ");
    CHECK(uniap_read_file(path, &text, &len) == 0);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK(j != NULL);
    if (!j)
        return;
    /* an outside tool's recomputation, deg 1: TPI = c x sum_u time[u][k] +
     * sum of reshards (0: one layout) + sum_u tail[u][k] */
    const cJSON *cand = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "candidates"), 0);
    const cJSON *names = cJSON_GetObjectItem(cand, "strategies");
    int k = -1, c = cJSON_GetObjectItem(cand, "micro_batches")->valueint;
    for (int i = 0; i < cJSON_GetArraySize(names); i++)
        if (strcmp(cJSON_GetArrayItem(names, i)->valuestring, "dp2.tp4c.ddp.sp.ckpt") == 0)
            k = i;
    CHECK(k >= 0 && c == 8);
    double p = 0, tail = 0;
    const cJSON *layers = cJSON_GetObjectItem(cand, "layers"), *l;
    CHECK_EQ(cJSON_GetArraySize(layers), 34);
    cJSON_ArrayForEach(l, layers)
    {
        p += cJSON_GetArrayItem(cJSON_GetObjectItem(l, "time"), k)->valuedouble;
        tail += cJSON_GetArrayItem(cJSON_GetObjectItem(l, "tail"), k)->valuedouble;
    }
    CHECK_NEAR(c * p + tail, tpi, 1e-6, 1e-6);
    cJSON_Delete(j);
    /* without a plan: every candidate */
    rc = run("%s estimate --model llama-7b --cluster a100-40g-1x8 --global-batch 8 "
             "--dump-costs %s",
             uniap, path);
    CHECK_EQ(rc, 0);
    CHECK_STR_CONTAINS(out, "wrote the cost tables of");
}

static void test_plan_file(void)
{
    char path[1024], buf[8192];
    int n = 0;
    /* 2 stages: embedding + 16 blocks on tp 4 dp 1, the rest on dp 4 ZeRO-3 */
    n += snprintf(buf + n, sizeof(buf) - n,
                  "{\"format\": \"uniap-plan\", \"global_batch\": 16, \"deg\": 2, "
                  "\"micro_batches\": 4, \"schedule\": \"gpipe\", \"layers\": [");
    for (int u = 0; u < 34; u++)
        n += snprintf(buf + n, sizeof(buf) - n, "%s{\"stage\": %d, \"strategy\": \"%s\"}",
                      u ? ", " : "", u < 17 ? 0 : 1,
                      u < 17 ? "dp1.tp4c.sp.ckpt" : "dp4.tp1.zero3.ckpt");
    snprintf(buf + n, sizeof(buf) - n, "]}\n");
    snprintf(path, sizeof(path), "%s/plan.json", work);
    uniap_write_file_atomic(path, buf, strlen(buf));
    int rc = run(EST "--plan %s", uniap, path);
    CHECK_EQ(rc, 0);
    CHECK_STR_CONTAINS(out, "schedule gpipe");
    CHECK_STR_CONTAINS(out, "dp4.tp1.zero3.ckpt x17");
    /* stage 1: 16 blocks + head under ZeRO-3 over 4: 16 P_1 / 4 */
    const char *s1 = strstr(out, "stage 1:");
    CHECK(s1 != NULL);
    if (s1) {
        const char *st = strstr(s1, "states ");
        CHECK_NEAR(strtod(st + 7, NULL), 16.0 * (16 * 202383360.0 + 131076096.0) / 4, 0, 0.5);
    }
    /* a strategy outside the stage's space: exit 2 naming layer and name */
    for (int i = 0; buf[i]; i++)
        if (strncmp(buf + i, "dp4.tp1.zero3", 13) == 0) {
            memcpy(buf + i, "dp3.tp1.zero3", 13);
            break;
        }
    uniap_write_file_atomic(path, buf, strlen(buf));
    rc = run(EST "--plan %s", uniap, path);
    CHECK_EQ(rc, 2);
    CHECK_STR_CONTAINS(out, "layer 17: strategy 'dp3.tp1.zero3.ckpt' is not in the strategy space");
}

static void test_bad(void)
{
    /* does not fit: DDP replicas of 16 P = 107.8 GB per device: exit 3 */
    int rc = run(EST "--global-batch 64 --dp 8 --tp 1 --pp 1 --micro-batches 8", uniap);
    CHECK_EQ(rc, 3);
    CHECK_STR_CONTAINS(out, "DOES NOT FIT");
    CHECK_STR_CONTAINS(out, "the plan does not fit: stage 0 needs");
    CHECK_STR_CONTAINS(out, "short by");
    /* impossible strategies */
    rc = run(EST "--global-batch 16 --dp 1 --tp 1 --pp 8 --micro-batches 8 --sp", uniap);
    CHECK_EQ(rc, 2);
    CHECK_STR_CONTAINS(out, "sequence parallelism needs tp > 1");
    rc = run(EST "--global-batch 16 --dp 3 --tp 1 --pp 1 --micro-batches 8", uniap);
    CHECK_EQ(rc, 2);
    CHECK_STR_CONTAINS(out,
                       "--dp 3 x --cp 1 x --tp 1 x --pp 1 = 3, but cluster 'a100-40g-1x8' has 8 "
                       "devices");
    rc = run(EST "--global-batch 12 --dp 8 --tp 1 --pp 1 --micro-batches 3", uniap);
    CHECK_EQ(rc, 2); /* micro-batch 4 cannot split over dp 8 */
    CHECK_STR_CONTAINS(out, "dp8.tp1");
    rc = run(EST "--global-batch 16 --dp 2 --tp 4 --pp 1 --micro-batches 8 --flavour zero9", uniap);
    CHECK_EQ(rc, 2);
    CHECK_STR_CONTAINS(out, "--flavour zero9: expected one of");

    /* a profile without tp 4: exit 2 naming the layer type and the tp */
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;
    static const int mbs[] = {1, 2, 4, 8, 16};
    char path[1024];
    CHECK(uniap_zoo_model("llama-7b", &m) == 0);
    CHECK(uniap_cluster_preset("a100-40g-1x8", &c) == 0);
    CHECK(uniap_profile_analytic(&m, &c, mbs, 5, &p) == 0);
    int k = 0;
    for (int i = 0; i < p.n_layers; i++)
        if (p.layers[i].tp != 4)
            p.layers[k++] = p.layers[i];
    p.n_layers = k;
    snprintf(path, sizeof(path), "%s/no_tp4.h5", work);
    CHECK(uniap_profile_write(path, &p) == 0);
    uniap_profile_free(&p);
    uniap_model_free(&m);
    rc = run(EST "--profile %s --global-batch 16 --dp 2 --tp 4 --pp 1 --micro-batches 8", uniap,
             path);
    CHECK_EQ(rc, 2);
    CHECK_STR_CONTAINS(out, "at tp 4");
    CHECK_STR_CONTAINS(out, "profile lacks layer type 'embedding.h4096");
    CHECK_STR_CONTAINS(out, path); /* names the profile file */
    /* the same profile serves tp 2 */
    rc = run(EST "--profile %s --global-batch 16 --dp 4 --tp 2 --pp 1 --micro-batches 4 --ckpt "
                 "--flavour fsdp",
             uniap, path);
    CHECK_EQ(rc, 0);
}

static void test_mpi(void)
{
    if (!mpiexec || !*mpiexec)
        return;
    int rc = run("%s -n 2 --oversubscribe --allow-run-as-root " EST
                 "--global-batch 16 --dp 2 --tp 4 --pp 1 --micro-batches 8 --sp --ckpt",
                 mpiexec, uniap);
    CHECK_EQ(rc, 0);
    const char *a = strstr(out, "TPI ");
    CHECK(a != NULL && strstr(a + 1, "TPI ") == NULL); /* printed once */
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    uniap = argv[1];
    work = argv[2];
    mpiexec = argc > 3 ? argv[3] : NULL;
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", work);
    if (system(cmd) != 0)
        return 2;
    test_states();
    test_dump();
    test_plan_file();
    test_bad();
    test_mpi();
    return check_report();
}
