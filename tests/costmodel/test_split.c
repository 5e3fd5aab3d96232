/*
 * test_split.c - stage splits as Megatron-LM makes them
 * (uniap_plan_split_stages), worked by hand: Llama-7B (embedding, 32
 * decoder blocks, head) on 4 stages evenly and unevenly, with an
 * embedding-only first stage and a head-only last stage; Swin-Huge, whose
 * patch merges ride with the block before them; and each refusal named.
 */
#include <string.h>

#include "check.h"
#include "uniap_costmodel.h"

/* stage_of equals the stages of the runs of layers [from, to] listed in
 * want as triples (from, to, stage), ended by -1. */
static void expect(const int *stage_of, const int *want)
{
    for (; *want >= 0; want += 3)
        for (int u = want[0]; u <= want[1]; u++)
            CHECK_EQ(stage_of[u], want[2]);
}

int main(void)
{
    uniap_model m = {0};
    int st[64];

    CHECK_EQ(uniap_model_resolve("llama-7b", &m), 0);
    CHECK_EQ(m.n_layers, 34);
    /* evenly: 8 blocks each, the embedding (layer 0) with stage 0 and the
     * head (layer 33) with stage 3: 9 + 8 + 8 + 9 layers (the old split by
     * layer count, floor(u 4 / 34), gave stage 2 layers 17-25) */
    CHECK_EQ(uniap_plan_split_stages(&m, 4, NULL, st), 0);
    expect(st, (const int[]){0, 8, 0, 9, 16, 1, 17, 24, 2, 25, 33, 3, -1});
    /* 7+9+9+7 blocks */
    CHECK_EQ(uniap_plan_split_stages(&m, 4, (const int[]){7, 9, 9, 7}, st), 0);
    expect(st, (const int[]){0, 7, 0, 8, 16, 1, 17, 25, 2, 26, 33, 3, -1});
    /* the embedding alone on stage 0, the head alone on stage 3 */
    CHECK_EQ(uniap_plan_split_stages(&m, 4, (const int[]){0, 16, 16, 0}, st), 0);
    expect(st, (const int[]){0, 0, 0, 1, 16, 1, 17, 32, 2, 33, 33, 3, -1});
    /* one stage: everything on it */
    CHECK_EQ(uniap_plan_split_stages(&m, 1, NULL, st), 0);
    expect(st, (const int[]){0, 33, 0, -1});

    /* refusals, each naming what is wrong */
    CHECK_EQ(uniap_plan_split_stages(&m, 3, NULL, st), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "32 transformer blocks do not split evenly over 3 stages");
    uniap_err_clear();
    CHECK_EQ(uniap_plan_split_stages(&m, 4, (const int[]){8, 8, 8, 7}, st), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "8+8+8+7: 31 blocks in all, but model 'llama-7b' has 32");
    uniap_err_clear();
    CHECK_EQ(uniap_plan_split_stages(&m, 4, (const int[]){16, 0, 8, 8}, st), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "stage 1 would hold 0 blocks");
    uniap_err_clear();
    CHECK_EQ(uniap_plan_split_stages(&m, 40, NULL, st), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "40 pipeline stages for a model of 34 layers");
    uniap_err_clear();
    uniap_model_free(&m);

    /* Swin-Huge: patch_embed, 2 swin, merge, 2 swin, merge, 42 swin,
     * merge, 2 swin, head = 48 blocks; on 2 stages 24 each: blocks are
     * layers 1-2, 4-5, 7-48, 50-51, so block k >= 5 is layer k + 2 and the
     * 24th is layer 26: stage 0 is layers 0-26; the merge at 49 stays with
     * block 48 on stage 1 */
    CHECK_EQ(uniap_model_resolve("swin-huge", &m), 0);
    CHECK_EQ(m.n_layers, 53);
    CHECK_EQ(uniap_plan_split_stages(&m, 2, NULL, st), 0);
    expect(st, (const int[]){0, 26, 0, 27, 52, 1, -1});
    /* 4 blocks on stage 0: layers 1, 2, 4, 5, and the merge at 6 with 5 */
    CHECK_EQ(uniap_plan_split_stages(&m, 2, (const int[]){4, 44}, st), 0);
    expect(st, (const int[]){0, 6, 0, 7, 52, 1, -1});
    uniap_model_free(&m);
    return check_report();
}
