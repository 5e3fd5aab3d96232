/*
 * runtime_torchtitan.c - what torchtitan runs, as uniap's torchtitan
 * export writes it (torchtitan v0.2.2, 73a0e69, the last release reading
 * TOML job configs: export_torchtitan.c; the newer mirror b5bcd76 agrees
 * on what follows but makes sequence parallelism a flag):
 *   parallelism.tensor_parallel_degree: one tp for every layer (the
 *     embedding and the output projection are sharded on the same mesh),
 *     innermost in the device mesh (TP ranks adjacent), always with
 *     sequence parallelism (SequenceParallel on the norms,
 *     models/llama3/infra/parallelize.py apply_tp);
 *   data parallelism: data_parallel_shard_degree (FSDP2, ZeRO-3) for the
 *     whole model, or data_parallel_replicate_degree (DDP) with no other
 *     parallelism ("DDP has not supported > 1D parallelism"); a bf16 model
 *     with fp32 masters and TP or PP needs FSDP (maybe_enable_amp); HSDP
 *     is no uniap flavour;
 *   activation checkpointing "full" (every transformer block) or "none"
 *     ("selective" is a per-op policy, not uniap's selective);
 *   the pipeline split: any (module_fqns_per_model_part); schedules from
 *     torch.distributed.pipelining: GPipe, 1F1B and Interleaved1F1B, whose
 *     pp v model parts the export writes in model order, part k on rank
 *     k mod pp (torchtitan's "loop" stage style, pipeline_parallel.py
 *     pipeline_module_split); uniap prices chunks of equal work, so under
 *     interleaving the split is equal stages of a multiple of v blocks
 *     (CM_RT_SPLIT_EQUAL: chunks of equal block counts). PyTorch's
 *     ScheduleInterleaved1F1B warms up (v - 1) pp + 2 (pp - 1 - rank) chunk
 *     forwards when c is a multiple of pp (_get_warmup_ops,
 *     microbatches_per_round = pp), Megatron-LM's count, which the
 *     interleaved schedules' in-flight term is (sched_interleaved.c);
 *   the llama3 model (RMSNorm, SwiGLU, RoPE, no biases, an untied output:
 *     the export's model check); with experts llama4 or deepseek_v3;
 *   parallelism.expert_parallel_degree: one ep for every moe layer, with
 *     expert_tensor_parallel_degree = tp (uniap's experts are tp-sharded;
 *     parallel_dims.py _validate, lines 58-59 at 73a0e69: "Currently we
 *     only support ETP=TP or ETP=1"; uniap has no ETP=1 under tp > 1), and
 *     only with FSDP: build_mesh (lines 136-158) unflattens the sparse
 *     mesh (pp, dp_replicate, efsdp, ep, etp) with efsdp = dp_shard x cp x
 *     tp / (etp x ep), so ep divides dp_shard x cp, which uniap's ep (a
 *     divisor of dp, strategy_dims.c) does exactly when dp is dp_shard:
 *     FSDP. DDP (dp_shard 1) with ep > 1 is no mesh.
 */
#include <string.h>

#include "export_internal.h"
#include "runtime_internal.h"

static int torchtitan_settings(const cm_rt_offer *o, cm_rt_setting *out, int max)
{
    int n = 0, full = (o->ckpt & UNIAP_CKPT_BIT(UNIAP_CKPT_FULL)) != 0;
    int amp = (o->model & UNIAP_RT_BF16) && (o->model & UNIAP_RT_MIXED);
    int v = o->virtual_stages > 1 ? o->virtual_stages : 0;
    for (int a = 0; a < o->n_tp * o->n_cp * o->n_ep; a++) {
        /* [parallelism] context_parallel_degree: one cp, PyTorch's ring
         * attention (torch.distributed.tensor.experimental.context_parallel);
         * expert_parallel_degree: one ep, FSDP only (above) */
        int tp = o->tp[a / (o->n_cp * o->n_ep)], cp = o->cp[a / o->n_ep % o->n_cp];
        int ep = o->ep[a % o->n_ep], dp = uniap__rt_dp_of(o, tp), multi = tp > 1 || o->deg > 1;
        if (o->n % (tp * cp) || (o->n / (tp * cp)) % ep)
            continue;
        if (tp > 1 && !o->has_sp)
            continue; /* TP always shards the norms' sequence */
        for (int z = 0; z <= (dp > 1); z++) {
            int fsdp = z == 1;
            if ((cp > 1 || ep > 1) && !fsdp)
                continue; /* FSDP over the dp_shard x cp mesh, whatever dp is; efsdp */
            if ((dp > 1 && !fsdp && multi) || (!fsdp && multi && amp))
                continue; /* DDP runs alone; mixed precision with TP or PP needs FSDP */
            for (int ck = 0; ck <= full && n < max; ck++)
                out[n++] =
                    (cm_rt_setting){.tp = tp,
                                    .sp = tp > 1,
                                    .flavours = CM_FLAVOUR_BIT(fsdp ? UNIAP_DP_FSDP : UNIAP_DP_DDP),
                                    .ckpt = ck ? CM_RT_CKPT_FULL : CM_RT_CKPT_NONE,
                                    .split = v ? CM_RT_SPLIT_EQUAL : CM_RT_SPLIT_ANY,
                                    .chunks = v,
                                    .cp = cp,
                                    .ep = ep};
        }
    }
    return n;
}

static int torchtitan_layer_ok(const cm_rt_setting *v, int role, const uniap_strategy *s)
{
    (void)v;
    (void)role;
    return s->tp_consecutive || s->tp == 1 || s->dp == 1;
}

/* GPipe, 1F1B and the interleaved schedules (torchtitan's GPipe, 1F1B and
 * Interleaved1F1B; the export writes deg v model parts). */
static int torchtitan_schedule_ok(const uniap_schedule_desc *d)
{
    return d->virtual_stages > 1 || !strcmp(d->name, "1f1b") || !strcmp(d->name, "gpipe");
}

/* torchtitan's llama3, llama4 or deepseek_v3 (the export's check). */
static int torchtitan_model_check(const uniap_model *m)
{
    ex_model x;
    int rc = uniap__ex_model(m, "runtime torchtitan", &x);
    if (rc < 0)
        return rc;
    return uniap__tt_model_check(m, &x, "runtime torchtitan");
}

const cm_runtime uniap__rt_torchtitan = {
    .name = "torchtitan",
    .help = "one tp (always with sp), FSDP2 for the whole model (DDP alone), full "
            "checkpointing of every block or none, any split (equal stages when "
            "interleaved), GPipe, 1F1B or Interleaved1F1B, one ep with FSDP (etp = tp), the "
            "llama3 model (llama4, deepseek_v3 with experts)",
    .settings = torchtitan_settings,
    .layer_ok = torchtitan_layer_ok,
    .schedule_ok = torchtitan_schedule_ok,
    .model_check = torchtitan_model_check,
};
