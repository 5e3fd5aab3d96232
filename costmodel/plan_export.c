/*
 * plan_export.c - a plan in Megatron-LM's terms (beside the plan format,
 * plan_json.c): command-line arguments (when the plan is expressible
 * there, with a list of what it cannot express). The other runtimes'
 * exports are one file each: export_deepspeed.c, export_torchtitan.c,
 * export_galvatron.c (Galvatron's strategy JSON and launch overrides).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"
#include "export_internal.h"

/* 1 for a transformer block (its kind's role, layer_kinds.c). */
static int is_block(uniap_layer_kind k)
{
    return uniap__cm_layer_kind(k)->role == CM_ROLE_BLOCK;
}

/* Megatron-LM's interleaving (megatron/training/arguments.py at d98e8a6):
 * --num-layers-per-virtual-pipeline-stage N takes the same blocks on every
 * stage (no --decoder-first/last-pipeline-num-layers), a multiple of N,
 * each stage's v chunks of N. When p interleaves (v > 1) and its stages
 * (per_stage blocks, uniform: all equal) allow it, writes the flag to b.
 * 1 when the plan's interleaving is expressible (or there is none). */
static int vpp_arg(const uniap_plan *p, const uniap_model *m, const int *per_stage, int uniform,
                   uniap_textbuf *b)
{
    int v = uniap_schedule_virtual_stages(p->schedule);
    if (v <= 1)
        return 1;
    if (!m || !uniform || per_stage[0] < v || per_stage[0] % v)
        return 0;
    uniap_textbuf_printf(b, " --num-layers-per-virtual-pipeline-stage %d", per_stage[0] / v);
    return 1;
}

/* The expert-parallel degree of the plan's moe layers (1 without any),
 * and 1 in *mixed when they differ (Megatron-LM: one
 * --expert-model-parallel-size; its non-moe layers run ep 1). */
static int moe_ep(const uniap_plan *p, const uniap_model *m, int *mixed)
{
    int ep = 0;
    *mixed = 0;
    for (int u = 0; m && u < p->n_layers && u < m->n_layers; u++) {
        if (m->runs[uniap_model_run_of(m, u)].experts <= 0)
            continue;
        int e = uniap_strategy_ep(&p->strategy_of[u]);
        *mixed |= ep && e != ep;
        ep = ep ? ep : e;
    }
    return ep ? ep : 1;
}

int uniap_plan_export_megatron(const uniap_plan *p, const uniap_model *m, char **text)
{
    uniap_textbuf b = {0};
    const uniap_strategy *s0 = &p->strategy_of[0];
    const uniap_schedule_desc *sched = uniap_schedule_get(p->schedule);
    int rc = uniap__ex_even_micro_batches(p, "megatron");
    if (rc < 0)
        return rc;
    for (int u = 0; m && u < p->n_layers && u < m->n_layers; u++)
        if (is_block(m->runs[uniap_model_run_of(m, u)].kind)) {
            s0 = &p->strategy_of[u]; /* Megatron's tp is the transformer blocks' */
            break;
        }
    int tp = s0->tp, dp = s0->dp, sp_all = 1, sp_any = 0, ck_all = 1, ck_any = 0;
    int cp = uniap_strategy_cp(s0), cp_a2a = cp > 1 && s0->cp_a2a, mixed_cp = 0;
    int sel_all = 1, sel_any = 0, mixed_ep, ep = moe_ep(p, m, &mixed_ep);
    int zero12 = 0, fsdp = 0, ddp = 0, mixed_tp = 0, strided = 0;
    int *per_stage = calloc((size_t)p->deg, sizeof(int)),
        *ck_stage = calloc((size_t)p->deg, sizeof(int));

    if (!per_stage || !ck_stage) {
        free(per_stage);
        free(ck_stage);
        return uniap_err(UNIAP_ENOMEM, "megatron export: out of memory");
    }
    for (int u = 0; u < p->n_layers; u++) {
        const uniap_strategy *s = &p->strategy_of[u];
        mixed_tp |= s->tp != tp;
        mixed_cp |= uniap_strategy_cp(s) != cp || (cp > 1 && s->cp_a2a != cp_a2a);
        strided |= s->tp > 1 && s->dp > 1 && !s->tp_consecutive;
        sp_all &= s->sp || s->tp == 1;
        sp_any |= s->sp;
        zero12 |= s->flavour == UNIAP_DP_ZERO1 || s->flavour == UNIAP_DP_ZERO2;
        fsdp |= s->flavour == UNIAP_DP_FSDP;
        ddp |= s->flavour == UNIAP_DP_DDP && uniap_strategy_dpcp(s) > 1;
        if (m && u < m->n_layers && is_block(m->runs[uniap_model_run_of(m, u)].kind)) {
            per_stage[p->stage_of[u]]++;
            int full = s->ckpt == UNIAP_CKPT_FULL, sel = s->ckpt == UNIAP_CKPT_SELECTIVE;
            ck_stage[p->stage_of[u]] += full;
            ck_all &= full;
            ck_any |= full;
            sel_all &= sel;
            sel_any |= sel;
        }
    }
    int uniform_layers = 1, uniform_ck = 1, mid_equal = 1;
    for (int i = 1; i < p->deg; i++) {
        uniform_layers &= per_stage[i] == per_stage[0];
        uniform_ck &= ck_stage[i] == ck_stage[0];
    }
    /* Megatron-LM's uneven split: the first and the last stage may differ
     * (--decoder-first/last-pipeline-num-layers), the others share the
     * rest evenly */
    for (int i = 2; i + 1 < p->deg; i++)
        mid_equal &= per_stage[i] == per_stage[1];
    int mb = dp > 0 ? p->micro_batch / dp : p->micro_batch;
    uniap_textbuf_printf(&b,
                         "--tensor-model-parallel-size %d --pipeline-model-parallel-size %d "
                         "--micro-batch-size %d --global-batch-size %lld",
                         tp, p->deg, mb > 0 ? mb : 1, (long long)p->global_batch);
    if (sp_all && tp > 1)
        uniap_textbuf_printf(&b, " --sequence-parallel");
    /* one cp group for every layer; p2p: ring attention, a2a: heads
     * scattered over the cp ranks (megatron/training/arguments.py) */
    if (cp > 1)
        uniap_textbuf_printf(&b, " --context-parallel-size %d --cp-comm-type %s", cp,
                             cp_a2a ? "a2a" : "p2p");
    /* one ep for every moe layer (megatron/core/model_parallel_config.py
     * expert_model_parallel_size); expert tensor parallelism is tp */
    if (ep > 1)
        uniap_textbuf_printf(&b, " --expert-model-parallel-size %d", ep);
    if (sel_all && sel_any)
        uniap_textbuf_printf(&b, " --recompute-granularity selective");
    else if (ck_all)
        uniap_textbuf_printf(&b, " --recompute-granularity full --recompute-method uniform "
                                 "--recompute-num-layers 1");
    else if (ck_any && uniform_ck)
        uniap_textbuf_printf(&b,
                             " --recompute-granularity full --recompute-method block "
                             "--recompute-num-layers %d",
                             ck_stage[0]);
    if (zero12)
        uniap_textbuf_printf(&b, " --use-distributed-optimizer");
    if (m && !uniform_layers && mid_equal && p->deg > 1) {
        int mid = p->deg > 2 ? per_stage[1] : -1;
        if (per_stage[0] != mid)
            uniap_textbuf_printf(&b, " --decoder-first-pipeline-num-layers %d", per_stage[0]);
        if (per_stage[p->deg - 1] != mid)
            uniap_textbuf_printf(&b, " --decoder-last-pipeline-num-layers %d",
                                 per_stage[p->deg - 1]);
    }
    int vpp_ok = vpp_arg(p, m, per_stage, uniform_layers, &b);
    uniap_textbuf gaps = {0};
    int model_ok = m ? uniap__megatron_model_args(m, &b, &gaps) : 1;
    uniap_textbuf_printf(&b, "\n");
    int expressible = !mixed_tp && !mixed_cp && !mixed_ep && !strided && (sp_all || !sp_any) &&
                      (uniform_layers || mid_equal) && model_ok && !gaps.oom &&
                      (!gaps.s || !strstr(gaps.s, "# - ")) && (ck_all || !ck_any || uniform_ck) &&
                      (sel_all || !sel_any) && !fsdp && !(zero12 && ddp) && sched &&
                      !sched->megatron_gap && vpp_ok;
    uniap_textbuf_printf(&b, "# %s in Megatron-LM\n",
                         expressible ? "the plan is expressible" : "NOT fully expressible");
    if (mixed_tp)
        uniap_textbuf_printf(
            &b, "# - tensor-parallel degree differs between layers (Megatron: one tp)\n");
    if (mixed_cp)
        uniap_textbuf_printf(&b, "# - context-parallel degree or comm type differs between "
                                 "layers (Megatron: one cp)\n");
    if (mixed_ep)
        uniap_textbuf_printf(&b, "# - expert-parallel degree differs between moe layers "
                                 "(Megatron: one ep)\n");
    if (strided)
        uniap_textbuf_printf(&b,
                             "# - strided TP groups (Megatron places TP ranks consecutively)\n");
    if (sp_any && !sp_all)
        uniap_textbuf_printf(&b, "# - sequence parallelism on some layers only\n");
    if (!uniform_layers && !mid_equal)
        uniap_textbuf_printf(&b, "# - the middle stages hold unequal numbers of blocks "
                                 "(Megatron-LM: only the first and the last may differ)\n");
    if (gaps.s)
        uniap_textbuf_printf(&b, "%s", gaps.s);
    free(gaps.s);
    if (ck_any && !ck_all && !uniform_ck)
        uniap_textbuf_printf(&b, "# - checkpointed layer counts differ between stages\n");
    if (sel_any && !sel_all)
        uniap_textbuf_printf(&b, "# - selective recomputation on some layers only\n");
    if (fsdp)
        uniap_textbuf_printf(&b, "# - fully sharded (ZeRO-3/FSDP) layers\n");
    if (zero12 && ddp)
        uniap_textbuf_printf(&b, "# - ZeRO on some layers, replicated DDP on others\n");
    if (!vpp_ok)
        uniap_textbuf_printf(&b,
                             "# - %s interleaves %d model chunks per stage: Megatron-LM "
                             "(--num-layers-per-virtual-pipeline-stage) needs the same number of "
                             "blocks on every stage, a multiple of %d\n",
                             uniap_schedule_name(p->schedule),
                             uniap_schedule_virtual_stages(p->schedule),
                             uniap_schedule_virtual_stages(p->schedule));
    if (!sched || sched->megatron_gap)
        uniap_textbuf_printf(&b, "# - %s\n",
                             sched ? sched->megatron_gap : "an unknown pipeline schedule");
    free(per_stage);
    free(ck_stage);
    if (b.oom) {
        free(b.s);
        return uniap_err(UNIAP_ENOMEM, "megatron export: out of memory");
    }
    *text = b.s;
    return UNIAP_OK;
}
