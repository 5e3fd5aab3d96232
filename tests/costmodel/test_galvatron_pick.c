/*
 * test_galvatron_pick.c - the Galvatron importer's choice of
 * computation_profiling_bf16_<suffix>.json does not depend on the order
 * the folder lists its files in: the ranking (cm_galv_pick_suffix) gives
 * the same file for every permutation of the published Mixtral names (the
 * exact model name over the _attention/_mlp ones, which also contain it)
 * and of made-up ties (shorter first, then strcmp); and a folder whose
 * files were created in one order and in the reverse imports the same
 * file (the error of the empty files names it). No dataset needed.
 * usage: test_cost_galvatron_pick WORKDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cm_internal.h"
#include "galvatron_internal.h"

/* Calls cm_galv_pick_suffix on every permutation of names[0..n) (n <= 5)
 * and checks the pick is want each time. */
static void every_order(const uniap_model *m, const char *const *names, int n, const char *want)
{
    int idx[5], c[5] = {0}, perms = 0, ok = 0;
    const char *order[5];

    for (int i = 0; i < n; i++)
        idx[i] = i;
    /* Heap's algorithm: all n! orders */
    for (int i = 0;;) {
        for (int k = 0; k < n; k++)
            order[k] = names[idx[k]];
        int best = cm_galv_pick_suffix(m, order, n);
        perms++;
        ok += best >= 0 && strcmp(order[best], want) == 0;
        while (i < n && c[i] >= i)
            c[i++] = 0;
        if (i >= n)
            break;
        int j = i % 2 ? c[i] : 0, t = idx[j];
        idx[j] = idx[i];
        idx[i] = t;
        c[i]++;
        i = 0;
    }
    CHECK_EQ(ok, perms);
    if (ok != perms)
        fprintf(stderr, "want %s: %d of %d orders\n", want, ok, perms);
}

static void test_ranking(void)
{
    uniap_model mix, llama;
    CHECK_EQ(uniap_zoo_model("mixtral-8x7b", &mix), 0);
    CHECK_EQ(uniap_zoo_model("llama-7b", &llama), 0);
    /* models/moe/configs: all three contain the name, one is it */
    const char *moe[] = {"mixtral-8x7b_attention", "mixtral-8x7b", "mixtral-8x7b_mlp"};
    every_order(&mix, moe, 3, "mixtral-8x7b");
    /* ties among names containing it: the shortest, then the smallest */
    const char *ties[] = {"x_mixtral-8x7b_b", "mixtral-8x7b_mlp", "mixtral-8x7b_ab",
                          "mixtral-8x7b_aa", "unrelated"};
    every_order(&mix, ties, 5, "mixtral-8x7b_aa");
    /* the wanted forms keep their order: <name>_all over hidden.._seqlen
     * over hidden.._head over the bare name */
    const char *want[] = {"hidden4096_head32", "llama-7b", "hidden4096_head32_seqlen2048",
                          "llama-7b_all", "llama-7b_x"};
    every_order(&llama, want, 5, "llama-7b_all");
    every_order(&llama, want, 3, "hidden4096_head32_seqlen2048");
    every_order(&llama, want, 2, "hidden4096_head32");
    const char *none[] = {"gpt-6.7b", "bert"};
    CHECK_EQ(cm_galv_pick_suffix(&llama, none, 2), -1);
    uniap_model_free(&mix);
    uniap_model_free(&llama);
}

static void touch(const char *dir, const char *suffix)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/computation_profiling_bf16_%s.json", dir, suffix);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("{}\n", f);
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/memory_profiling_bf16_%s.json", dir, suffix);
    if ((f = fopen(path, "w"))) {
        fputs("{}\n", f);
        fclose(f);
    }
}

/* Folders with the same files made in opposite orders: the import of
 * llama-7b fails on the empty files, naming the one it picked,
 * computation_profiling_bf16_llama-7b.json, both times. */
static void test_folders(const char *work)
{
    const char *names[] = {"llama-7b_mlp", "llama-7b_attention", "llama-7b", "llama-7b_b"};
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;
    char dir[1000];

    CHECK_EQ(uniap_zoo_model("llama-7b", &m), 0);
    CHECK_EQ(uniap_cluster_preset("a100-40g-1x8", &c), 0);
    for (int rev = 0; rev < 2; rev++) {
        snprintf(dir, sizeof(dir), "%s/order%d", work, rev);
        mkdir(work, 0755);
        mkdir(dir, 0755);
        for (int i = 0; i < 4; i++)
            touch(dir, names[rev ? 3 - i : i]);
        CHECK_EQ(uniap_profile_import_galvatron(&m, &c, dir, dir, &p), UNIAP_EMISSING);
        CHECK_STR_CONTAINS(uniap_errmsg(), "/computation_profiling_bf16_llama-7b.json lacks");
        uniap_err_clear();
    }
    uniap_model_free(&m);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_cost_galvatron_pick WORKDIR\n");
        return 2;
    }
    test_ranking();
    test_folders(argv[1]);
    return check_report();
}
