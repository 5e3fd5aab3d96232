/*
 * runtime_galvatron.c - what Galvatron runs (galvatron/core/runtime/
 * args_schema.py at cea12ff, the local mirror, and the galvatron_config
 * JSON uniap's export writes):
 *   per transformer layer: tp (tp_sizes_enc, a power of 2), consecutive or
 *     strided TP (tp_consecutive_flags), data-parallel type (dp_types_enc:
 *     the default, or 1 for sdp, ZeRO-3) and full checkpointing
 *     (checkpoint; Galvatron has no selective recomputation);
 *   default_dp_type: ddp or zero2 for every layer that is not sdp (zero3
 *     for all is every layer sdp); no ZeRO-1;
 *   sequence_parallel: Megatron-style sequence parallelism, one flag for
 *     every layer with tp > 1;
 *   context parallelism per layer: cp_sizes_enc, zigzag ring flash
 *     attention (models/modules.py, use_zigzag_cp: uniap's ring cp with
 *     its causal load balance), and use_sp, DeepSpeed-Ulysses over the
 *     layer's tp_sizes_enc ranks with tp 1 (hybrid_parallel_config.py
 *     hp_config_whole_model; gen_comm_groups asserts Ulysses and TP never
 *     together: uniap's Ulysses cp with tp 1, a power of 2); the rank order
 *     pp-dp-cp-tp-sp (comm_groups.py) puts both inside the data-parallel
 *     group and Ulysses ranks adjacent, as uniap's cp groups are; sdp
 *     shards over dp x sp x cp, uniap's dp x cp;
 *   the embedding and the head: one vocab_tp, vocab_sdp, vcp and vsp for
 *     both (tie_edges), TP ranks adjacent, no checkpointing;
 *   pp_division: blocks per stage, so every stage holds one block at
 *     least (the embedding and the head on their neighbouring blocks'
 *     stages); pipeline_type gpipe or pipedream_flush;
 *   the model: embeddings, transformer blocks, heads in that order (as
 *   uniap's Galvatron export, export_galvatron.c, reads it).
 */
#include "export_internal.h"
#include "runtime_internal.h"

static int galvatron_settings(const cm_rt_offer *o, cm_rt_setting *out, int max)
{
    int n = 0;
    for (int sp = 0; sp <= o->has_sp; sp++)
        for (int z = 0; z < 2 && n < max; z++)
            out[n++] =
                (cm_rt_setting){.tp = 0,
                                .sp = sp,
                                .flavours = CM_FLAVOUR_BIT(z ? UNIAP_DP_ZERO2 : UNIAP_DP_DDP) |
                                            CM_FLAVOUR_BIT(UNIAP_DP_FSDP),
                                .ckpt = CM_RT_CKPT_PER_LAYER,
                                .split = CM_RT_SPLIT_ANY,
                                .cp = CM_RT_CP_PER_LAYER};
    return n;
}

static int galvatron_layer_ok(const cm_rt_setting *v, int role, const uniap_strategy *s)
{
    int cp = uniap_strategy_cp(s);
    (void)v;
    if (s->tp & (s->tp - 1))
        return 0; /* tp_sizes_enc: powers of 2 */
    if (cp > 1 && s->cp_a2a && (s->tp > 1 || (cp & (cp - 1))))
        return 0; /* use_sp: Ulysses over tp_sizes_enc ranks, never with TP */
    return role == UNIAP_RT_BLOCK || s->tp_consecutive || s->tp == 1 || s->dp == 1;
}

static int galvatron_schedule_ok(const uniap_schedule_desc *d)
{
    return d->galvatron != NULL;
}

/* Embeddings, blocks, heads (the export's layout check); no FP8. */
static int galvatron_model_check(const uniap_model *m)
{
    ex_model x;
    int rc = uniap__ex_model(m, "runtime galvatron", &x);
    if (rc < 0 || (rc = uniap__ex_no_fp8(m, "runtime galvatron")) < 0)
        return rc;
    return uniap__ex_no_moe(m, "runtime galvatron");
}

const cm_runtime uniap__rt_galvatron = {
    .name = "galvatron",
    .help = "per-layer tp, TP placement, cp (zigzag ring or Ulysses), sdp and "
            "checkpointing; one default DP type (ddp, zero2) and sp flag; one vocab tp, sdp and "
            "cp; any split",
    .settings = galvatron_settings,
    .layer_ok = galvatron_layer_ok,
    .tie_edges = 1,
    .uneven_micro_batches = 1, /* its pipeline chunks the batch with torch.chunk */
    .min_counted = 1,
    .schedule_ok = galvatron_schedule_ok,
    .model_check = galvatron_model_check,
};
