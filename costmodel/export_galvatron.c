/*
 * export_galvatron.c - a plan as Galvatron runs it (PKU-DAIR/Hetu-Galvatron
 * cea12ff): its strategy JSON (galvatron_config_*.json, read by
 * galvatron/core/runtime/hybrid_parallel_config.py and
 * utils/config_utils.py config2strategy) and the Hydra overrides of
 * train_dist.yaml that the JSON cannot hold (runtime/args_schema.py).
 * Galvatron's semantics, and what is refused (naming the layer):
 *   - per transformer layer: tp_sizes_enc (powers of 2),
 *     tp_consecutive_flags, dp_types_enc (1: sdp, ZeRO-3 / FSDP FULL_SHARD;
 *     0: default_dp_type), checkpoint (full recomputation; Galvatron has no
 *     selective: refused);
 *   - default_dp_type "ddp" or "zero2" (SHARD_GRAD_OP) for every layer
 *     that is not sdp: ZeRO-1 is refused, and so is DDP on some layers with
 *     ZeRO-2 on others;
 *   - context parallelism per layer: ring cp (uniap's cp<n>) as
 *     cp_sizes_enc, Galvatron's zigzag ring flash attention; Ulysses
 *     (uniap's cp<n>u, tp 1) as use_sp 1 with tp_sizes_enc n, the layer's
 *     tp group becoming its sequence all-to-all group (hp_config_whole_
 *     model); Ulysses with TP is refused (gen_comm_groups asserts it away).
 *     The vocabulary layers' vtp/vsp/vcp alike, with use_ulysses true when
 *     vsp is (Galvatron then loads the batch over the vocabulary's sp
 *     group, utils.py). Megatron-style sequence parallelism is
 *     train.sequence_parallel, one flag for every layer with tp > 1
 *     (default true); a plan with TP but no sp needs it false, which only
 *     the overrides say;
 *   - the embedding and the head: one vtp and one vocab_sdp for both
 *     (hp_config_whole_model), TP ranks adjacent, no recomputation, each on
 *     the stage of its neighbouring transformer layer (so no stage without
 *     one); Galvatron's search writes embed_sdp, its runtime reads
 *     vocab_sdp: both are written;
 *   - pipeline_type from the schedule (gpipe, pipedream_flush = 1F1B).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "export_internal.h"

/* The plan as Galvatron's settings. */
typedef struct gv_plan {
    ex_model mdl;
    int sp;         /* train.sequence_parallel; -1: no layer with tp > 1 */
    int vtp, vsdp;  /* the embedding's and head's tp_sizes_enc value and sdp */
    int vsp, vcp;   /* ... their Ulysses flag and ring cp */
    int ring_cp;    /* some layer has ring cp (cp_sizes_enc and vcp written) */
    int default_dp; /* UNIAP_DP_DDP or UNIAP_DP_ZERO2 */
    int *blocks;    /* [deg] transformer layers per stage (malloc'd) */
    const char *pipeline_type;
} gv_plan;

/* Default DP type, sp flag and vocabulary settings; refusals. */
static int gv_layers(const uniap_plan *p, const uniap_model *m, gv_plan *g)
{
    int dflt = -1, dflt_u = -1, sp_u = -1, edge = -1;
    g->sp = -1;
    for (int u = 0; u < m->n_layers; u++) {
        const uniap_strategy *s = &p->strategy_of[u];
        int blk = uniap__ex_is_block(m, u), g_dp = uniap_strategy_dpcp(s);
        int fsdp = g_dp > 1 && s->flavour == UNIAP_DP_FSDP, cp = uniap_strategy_cp(s);
        int a2a = cp > 1 && s->cp_a2a;
        if (a2a && (s->tp > 1 || (cp & (cp - 1))))
            return uniap_err(UNIAP_EINVAL,
                             "galvatron export: layer %d uses %s: Galvatron's Ulysses (use_sp) "
                             "runs over tp_sizes_enc ranks (a power of 2) in place of TP, never "
                             "with it",
                             u, s->name);
        g->ring_cp |= cp > 1 && !a2a;
        if (s->tp & (s->tp - 1))
            return uniap_err(UNIAP_EINVAL,
                             "galvatron export: layer %d uses %s: Galvatron's tp "
                             "degrees are powers of 2",
                             u, s->name);
        if (g_dp > 1 && s->flavour == UNIAP_DP_ZERO1)
            return uniap_err(UNIAP_EINVAL,
                             "galvatron export: layer %d uses %s: Galvatron has no "
                             "ZeRO-1 (default_dp_type ddp, zero2 or zero3)",
                             u, s->name);
        if (g_dp > 1 && !fsdp && dflt >= 0 && s->flavour != dflt)
            return uniap_err(UNIAP_EINVAL,
                             "galvatron export: layer %d uses %s, layer %d %s: Galvatron runs one "
                             "default_dp_type (ddp or zero2) on every layer that is not sdp",
                             u, s->name, dflt_u, p->strategy_of[dflt_u].name);
        if (g_dp > 1 && !fsdp && dflt < 0)
            dflt = s->flavour, dflt_u = u;
        if (s->tp > 1 && g->sp >= 0 && s->sp != g->sp)
            return uniap_err(UNIAP_EINVAL,
                             "galvatron export: layer %d uses %s, layer %d %s: Galvatron's "
                             "sequence parallelism is one flag (train.sequence_parallel) for "
                             "every layer with tp > 1",
                             u, s->name, sp_u, p->strategy_of[sp_u].name);
        if (s->tp > 1 && g->sp < 0)
            g->sp = s->sp, sp_u = u;
        if (s->ckpt == UNIAP_CKPT_SELECTIVE || (!blk && s->ckpt != UNIAP_CKPT_NONE))
            return uniap_err(UNIAP_EINVAL,
                             "galvatron export: layer %d uses %s: Galvatron recomputes whole "
                             "transformer layers only (checkpoint)",
                             u, s->name);
        if (blk)
            continue;
        if (s->tp > 1 && s->dp > 1 && !s->tp_consecutive)
            return uniap_err(UNIAP_EINVAL,
                             "galvatron export: layer %d uses %s: Galvatron's "
                             "vocabulary TP ranks are adjacent",
                             u, s->name);
        int vtp = a2a ? cp : s->tp, vcp = a2a ? 1 : cp;
        if (edge >= 0 && (vtp != g->vtp || fsdp != g->vsdp || a2a != g->vsp || vcp != g->vcp))
            return uniap_err(UNIAP_EINVAL,
                             "galvatron export: layer %d uses %s, layer %d %s: the embedding and "
                             "the head share one vtp, vsp, vcp and vocab_sdp",
                             u, s->name, edge, p->strategy_of[edge].name);
        if (edge < 0)
            edge = u, g->vtp = vtp, g->vsdp = fsdp, g->vsp = a2a, g->vcp = vcp;
    }
    g->default_dp = dflt < 0 ? UNIAP_DP_DDP : dflt;
    return UNIAP_OK;
}

/* Split and schedule: every stage holds a transformer layer, the edges
 * are with their neighbouring layer's stage. */
static int gv_read(const uniap_plan *p, const uniap_model *m, gv_plan *g)
{
    const uniap_schedule_desc *sd = uniap_schedule_get(p->schedule);
    int rc;
    memset(g, 0, sizeof(*g));
    g->vtp = g->vcp = 1;
    if (p->n_layers != m->n_layers || p->deg < 1)
        return uniap_err(UNIAP_EINVAL, "galvatron export: the plan has %d layers, model '%s' %d",
                         p->n_layers, m->name, m->n_layers);
    if ((rc = uniap__ex_no_fp8(m, "galvatron export")) < 0 ||
        (rc = uniap__ex_no_moe(m, "galvatron export")) < 0 ||
        (rc = uniap__ex_model(m, "galvatron", &g->mdl)) < 0 || (rc = gv_layers(p, m, g)) < 0)
        return rc;
    if (!sd || !sd->galvatron)
        return uniap_err(UNIAP_EINVAL,
                         "galvatron export: pipeline schedule %s: Galvatron runs "
                         "gpipe and pipedream_flush",
                         uniap_schedule_name(p->schedule));
    g->pipeline_type = sd->galvatron;
    for (int u = 0; u < m->n_layers; u++) {
        int nb = u < g->mdl.first_block ? g->mdl.first_block : g->mdl.last_block;
        if (!uniap__ex_is_block(m, u) && p->stage_of[u] != p->stage_of[nb])
            return uniap_err(UNIAP_EINVAL,
                             "galvatron export: layer %d (%s) is on stage %d, its neighbouring "
                             "transformer layer %d on stage %d: Galvatron places the embedding "
                             "and the head with the first and the last transformer layer",
                             u, u < nb ? "embedding" : "head", p->stage_of[u], nb, p->stage_of[nb]);
    }
    if (!(g->blocks = calloc((size_t)p->deg, sizeof(int))))
        return uniap_err(UNIAP_ENOMEM, "galvatron export: out of memory");
    for (int u = g->mdl.first_block; u <= g->mdl.last_block; u++)
        if (p->stage_of[u] >= 0 && p->stage_of[u] < p->deg)
            g->blocks[p->stage_of[u]]++;
    for (int i = 0; i < p->deg; i++)
        if (!g->blocks[i]) {
            free(g->blocks);
            g->blocks = NULL;
            return uniap_err(UNIAP_EINVAL,
                             "galvatron export: stage %d holds no transformer layer "
                             "(pp_division counts transformer layers)",
                             i);
        }
    return UNIAP_OK;
}

/* The JSON of g. */
static char *gv_json(const uniap_plan *p, const uniap_model *m, const gv_plan *g)
{
    uniap_textbuf l[6] = {{0}}, div = {0};
    static const char *const keys[6] = {"tp_sizes_enc", "tp_consecutive_flags", "dp_types_enc",
                                        "use_sp",       "checkpoint",           "cp_sizes_enc"};
    int n_keys = g->ring_cp ? 6 : 5;
    char *json = NULL, *out = NULL;
    for (int u = g->mdl.first_block; u <= g->mdl.last_block; u++) {
        const uniap_strategy *s = &p->strategy_of[u];
        const char *sep = u > g->mdl.first_block ? "," : "";
        int cp = uniap_strategy_cp(s), a2a = cp > 1 && s->cp_a2a;
        uniap_textbuf_printf(&l[0], "%s%d", sep, a2a ? cp : s->tp); /* Ulysses: its sp size */
        uniap_textbuf_printf(&l[1], "%s%d", sep, s->tp_consecutive || s->tp == 1 || s->dp == 1);
        uniap_textbuf_printf(&l[2], "%s%d", sep,
                             uniap_strategy_dpcp(s) > 1 && s->flavour == UNIAP_DP_FSDP);
        uniap_textbuf_printf(&l[3], "%s%d", sep, a2a);
        uniap_textbuf_printf(&l[4], "%s%d", sep, s->ckpt == UNIAP_CKPT_FULL);
        uniap_textbuf_printf(&l[5], "%s%d", sep, a2a ? 1 : cp);
    }
    for (int i = 0; i < p->deg; i++)
        uniap_textbuf_printf(&div, "%s%d", i ? "," : "", g->blocks[i]);
    cJSON *r = cJSON_CreateObject();
    int oom = !r || div.oom;
    for (int a = 0; a < 6; a++)
        oom |= l[a].oom;
    if (!oom) {
        cJSON_AddNumberToObject(r, "pp_deg", p->deg);
        for (int a = 0; a < n_keys; a++)
            cJSON_AddStringToObject(r, keys[a], l[a].s);
        cJSON_AddNumberToObject(r, "global_bsz", (double)p->global_batch);
        cJSON_AddNumberToObject(r, "chunks", p->micro_batches);
        cJSON_AddStringToObject(r, "pp_division", div.s);
        cJSON_AddStringToObject(r, "pipeline_type", g->pipeline_type);
        cJSON_AddStringToObject(r, "default_dp_type",
                                g->default_dp == UNIAP_DP_ZERO2 ? "zero2" : "ddp");
        cJSON_AddNumberToObject(r, "vtp", g->vtp);
        cJSON_AddNumberToObject(r, "vsp", g->vsp);
        if (g->ring_cp)
            cJSON_AddNumberToObject(r, "vcp", g->vcp);
        cJSON_AddNumberToObject(r, "vocab_sdp", g->vsdp);
        cJSON_AddNumberToObject(r, "embed_sdp", g->vsdp);
        json = cJSON_Print(r);
    }
    if (json && (out = malloc(strlen(json) + 2)))
        strcat(strcpy(out, json), "\n");
    free(json);
    cJSON_Delete(r);
    for (int a = 0; a < 6; a++)
        free(l[a].s);
    free(div.s);
    (void)m;
    return out;
}

/* train_dist.yaml overrides: what the JSON cannot say. */
static char *gv_overrides(const uniap_model *m, const gv_plan *g, const char *config_path,
                          const uniap_plan *p)
{
    uniap_textbuf b = {0};
    const uniap_layer *k = g->mdl.blk;
    const char *mp = m->param_dtype == UNIAP_DTYPE_BF16   ? "bf16"
                     : m->param_dtype == UNIAP_DTYPE_FP16 ? "fp16"
                                                          : "fp32";
    uniap_textbuf_printf(&b,
                         "runtime.parallel.galvatron_config_path=%s "
                         "runtime.parallel.mixed_precision=%s runtime.parallel.use_ulysses=%s "
                         "runtime.train.sequence_parallel=%s runtime.train.global_batch_size=%lld "
                         "runtime.train.chunks=%d runtime.train.seq_length=%lld "
                         "runtime.train.use_flash_attn=%s",
                         config_path ? config_path : "galvatron_config.json", mp,
                         g->vsp ? "true" : "false", g->sp == 0 ? "false" : "true",
                         (long long)p->global_batch, p->micro_batches, (long long)k->seq,
                         k->flash_attn ? "true" : "false");
    if (k->no_dropout)
        uniap_textbuf_printf(&b, " runtime.model.dropout_prob=0.0");
    uniap_textbuf_printf(&b, "\n# Hydra overrides of Galvatron's train_dist.yaml (PKU-DAIR/"
                             "Hetu-Galvatron cea12ff, galvatron/core/runtime/args_schema.py):\n"
                             "# ./scripts/train_yaml.sh <the line above>; the model config "
                             "(paths.model_config_path), data and tokenizer paths are yours\n");
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

int uniap_plan_export_galvatron_launch(const uniap_plan *p, const uniap_model *m,
                                       const char *config_path, char **json, char **overrides)
{
    gv_plan g;
    int rc = gv_read(p, m, &g);
    *json = NULL;
    if (overrides)
        *overrides = NULL;
    if (rc < 0)
        return rc;
    if (!overrides && g.sp == 0)
        rc = uniap_err(UNIAP_EINVAL,
                       "galvatron export: TP without sequence parallelism needs "
                       "train.sequence_parallel false, which Galvatron's JSON cannot hold (its "
                       "default is true): write the overrides too (--galvatron-args)");
    else if (!(*json = gv_json(p, m, &g)) ||
             (overrides && !(*overrides = gv_overrides(m, &g, config_path, p))))
        rc = uniap_err(UNIAP_ENOMEM, "galvatron export: out of memory");
    if (rc < 0) {
        free(*json);
        *json = NULL;
    }
    free(g.blocks);
    return rc;
}

int uniap_plan_export_galvatron(const uniap_plan *p, const uniap_model *m, char **text)
{
    if (!m)
        return uniap_err(UNIAP_EINVAL, "galvatron export: no model given (the layer kinds "
                                       "decide what the JSON lists)");
    return uniap_plan_export_galvatron_launch(p, m, NULL, text, NULL);
}
