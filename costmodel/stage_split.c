/*
 * stage_split.c - stage splits as training runtimes make them: Megatron-LM
 * places the transformer blocks evenly over the pipeline stages, the
 * embedding with the first stage and the output head (final norm, output
 * layer, loss) with the last, and lets the first and last stages hold a
 * different number of blocks (--decoder-first/last-pipeline-num-layers) or
 * any split (--pipeline-model-parallel-layout). Which layers are blocks is
 * the layer kind's role (costmodel/layer_kinds.c).
 */
#include <stdio.h>
#include <string.h>

#include "cm_internal.h"

/* Writes into msg the split in words ("7+9+9+7 blocks"). */
static void split_words(const int *blocks, int pp, char *msg, size_t size)
{
    size_t n = 0;
    msg[0] = '\0';
    for (int i = 0; i < pp && n + 16 < size; i++)
        n += (size_t)snprintf(msg + n, size - n, "%s%d", i ? "+" : "", blocks[i]);
}

int uniap_plan_split_stages(const uniap_model *m, int pp, const int *blocks_per_stage,
                            int *stage_of)
{
    int L = m->n_layers, B = 0, first = -1, last = -1;
    int even[64];
    const int *blocks = blocks_per_stage;

    if (pp < 1 || pp > L)
        return uniap_err(UNIAP_EINVAL,
                         "%d pipeline stages for a model of %d layers: expected 1..%d", pp, L, L);
    for (int u = 0; u < L; u++)
        if (uniap__cm_layer_kind(m->runs[uniap_model_run_of(m, u)].kind)->role == CM_ROLE_BLOCK) {
            B++;
            last = u;
            if (first < 0)
                first = u;
        }
    if (B == 0) { /* no blocks: the layers themselves, evenly */
        if (blocks)
            return uniap_err(UNIAP_EINVAL,
                             "model '%s' has no transformer blocks to split by "
                             "--layers-per-stage",
                             m->name);
        for (int u = 0; u < L; u++)
            stage_of[u] = (int)((long long)u * pp / L);
        return UNIAP_OK;
    }
    if (!blocks) {
        if (B % pp != 0)
            return uniap_err(
                UNIAP_EINVAL,
                "%d transformer blocks do not split evenly over %d stages (Megatron-LM "
                "needs num_layers divisible by the pipeline size): give "
                "--layers-per-stage",
                B, pp);
        if (pp > (int)(sizeof even / sizeof even[0]))
            return uniap_err(UNIAP_EINVAL,
                             "%d pipeline stages: at most %d without --layers-per-stage", pp,
                             (int)(sizeof even / sizeof even[0]));
        for (int i = 0; i < pp; i++)
            even[i] = B / pp;
        blocks = even;
    }
    int sum = 0;
    for (int i = 0; i < pp; i++) {
        /* a middle stage needs a block; the first and last hold the
         * embedding and the head, when the model has them */
        int edge = (i == 0 && first > 0) || (i == pp - 1 && last < L - 1);
        if (blocks[i] < (edge ? 0 : 1)) {
            char w[256];
            split_words(blocks, pp, w, sizeof w);
            return uniap_err(
                UNIAP_EINVAL,
                "--layers-per-stage %s: stage %d would hold %d blocks and nothing else "
                "(expected at least 1)",
                w, i, blocks[i]);
        }
        sum += blocks[i];
    }
    if (sum != B) {
        char w[256];
        split_words(blocks, pp, w, sizeof w);
        return uniap_err(UNIAP_EINVAL,
                         "--layers-per-stage %s: %d blocks in all, but model '%s' has %d "
                         "transformer blocks",
                         w, sum, m->name, B);
    }
    /* layers before the first block go with it (stage 0), layers after a
     * block stay with it (the head with the last block, a Swin merge with
     * the block before it) */
    int stage = 0, seen = 0;
    for (int u = 0; u < L; u++) {
        if (uniap__cm_layer_kind(m->runs[uniap_model_run_of(m, u)].kind)->role == CM_ROLE_BLOCK) {
            while (seen == blocks[stage] && stage < pp - 1)
                stage++, seen = 0;
            seen++;
        }
        stage_of[u] = stage;
    }
    /* stages of 0 blocks at the end: the head alone on the last stage */
    if (stage < pp - 1) {
        for (int u = last + 1; u < L; u++)
            stage_of[u] = pp - 1;
        UNIAP_CHECK(stage == pp - 2 && last < L - 1);
    }
    return UNIAP_OK;
}
