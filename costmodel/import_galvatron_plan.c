/*
 * import_galvatron_plan.c - the plan Galvatron (cea12ff) runs with a
 * strategy JSON and, optionally, the train_dist.yaml overrides beside it
 * (what uniap_plan_export_galvatron_launch writes, or Galvatron's own
 * search output): per transformer layer tp, TP placement, sdp (ZeRO-3) or
 * default_dp_type (ddp; zero2 = ZeRO-2; zero3 = every layer sdp) and full
 * checkpointing; the embedding and head at vtp and vocab_sdp, with their
 * neighbouring layer's stage; pp_division (absent: Galvatron's even split,
 * the rest on the last stage); train.sequence_parallel (Megatron-style,
 * default true) as every tp > 1 layer's sp; pipeline_type as the schedule.
 * Context parallelism: cp_sizes_enc and vcp (zigzag ring: uniap's
 * cp<n>), use_sp and vsp (Ulysses over the tp_sizes_enc / vtp ranks with
 * tp 1: uniap's cp<n>u); both on one layer, and expert parallelism, are
 * refused, and so is any key uniap does not read. Errors name the file and
 * key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "export_internal.h"

/* Galvatron's settings as read. */
typedef struct gv_in {
    long pp, gbs, chunks, vtp, vsp, vsdp, esdp, vcp;
    int has_vsdp, has_esdp, n;             /* n: transformer layers in the lists */
    int *tp, *consec, *sdp, *ck, *sp, *cp; /* [n] */
    int *div;                              /* [pp] */
    char ptype[32], dflt[32];              /* "" when absent */
    int seq_par;                           /* train.sequence_parallel */
    int ov_vsdp;                           /* runtime.parallel.vocab_sdp, -1: not given */
} gv_in;

/* A comma-separated list of n integers in [lo, hi] at key (into *out,
 * malloc'd), or all `dflt` when absent and dflt >= 0. */
static int int_list(const cJSON *r, const char *key, int n, int lo, int hi, int dflt,
                    const char *what, int **out)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(r, key);
    if (!(*out = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1))))
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory", what);
    if (!j && dflt >= 0) {
        for (int i = 0; i < n; i++)
            (*out)[i] = dflt;
        return UNIAP_OK;
    }
    if (!cJSON_IsString(j))
        return uniap_err(UNIAP_EINVAL,
                         "%s: \"%s\": expected a string of %d comma-separated "
                         "integers",
                         what, key, n);
    const char *s = j->valuestring;
    for (int i = 0; i < n; i++) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < lo || v > hi || (*end != ',' && i + 1 < n) || (*end && i + 1 == n))
            return uniap_err(UNIAP_EINVAL,
                             "%s: \"%s\": entry %d: expected %d integers in [%d, %d] separated "
                             "by commas (one per transformer layer or stage)",
                             what, key, i, n, lo, hi);
        (*out)[i] = (int)v;
        s = *end ? end + 1 : end;
    }
    return UNIAP_OK;
}

/* An integer at key into *v (kept when absent); *has when given. */
static int json_int(const cJSON *r, const char *key, long lo, long hi, const char *what, long *v,
                    int *has)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(r, key);
    if (has)
        *has = j != NULL;
    if (!j)
        return UNIAP_OK;
    if (!cJSON_IsNumber(j) || j->valuedouble != (double)(long)j->valuedouble ||
        j->valuedouble < (double)lo || j->valuedouble > (double)hi)
        return uniap_err(UNIAP_EINVAL, "%s: \"%s\": expected an integer in [%ld, %ld]", what, key,
                         lo, hi);
    *v = (long)j->valuedouble;
    return UNIAP_OK;
}

/* Keys uniap reads; the rest are refused by name. */
static int check_keys(const cJSON *r, const char *what)
{
    static const char *const known[] = {"pp_deg",
                                        "tp_sizes_enc",
                                        "tp_consecutive_flags",
                                        "dp_types_enc",
                                        "use_sp",
                                        "checkpoint",
                                        "global_bsz",
                                        "chunks",
                                        "pp_division",
                                        "pipeline_type",
                                        "default_dp_type",
                                        "vtp",
                                        "vsp",
                                        "vocab_sdp",
                                        "embed_sdp",
                                        "cp_sizes_enc",
                                        "vcp",
                                        "ep_sizes_enc",
                                        "tp_of_ep_sizes_enc"};
    for (const cJSON *k = r->child; k; k = k->next) {
        int ok = 0;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok |= !strcmp(k->string, known[i]);
        if (!ok)
            return uniap_err(UNIAP_EINVAL, "%s: \"%s\" is not a Galvatron config key uniap reads",
                             what, k->string);
    }
    return UNIAP_OK;
}

/* The JSON's settings into g (n transformer layers). */
static int read_json(const char *text, const char *what, int n, gv_in *g)
{
    cJSON *r = cJSON_Parse(text);
    int rc = UNIAP_OK, *ones = NULL;
    if (!cJSON_IsObject(r)) {
        cJSON_Delete(r);
        return uniap_err(UNIAP_EINVAL, "%s: not a JSON object (a Galvatron strategy config)", what);
    }
    g->n = n;
    if ((rc = check_keys(r, what)) < 0 ||
        (rc = json_int(r, "pp_deg", 1, 1 << 20, what, &g->pp, NULL)) < 0 ||
        (rc = json_int(r, "global_bsz", 1, 1L << 40, what, &g->gbs, NULL)) < 0 ||
        (rc = json_int(r, "chunks", 1, 1 << 30, what, &g->chunks, NULL)) < 0 ||
        (rc = json_int(r, "vtp", 1, 1 << 20, what, &g->vtp, NULL)) < 0 ||
        (rc = json_int(r, "vsp", 0, 1, what, &g->vsp, NULL)) < 0 ||
        (rc = json_int(r, "vocab_sdp", 0, 1, what, &g->vsdp, &g->has_vsdp)) < 0 ||
        (rc = json_int(r, "embed_sdp", 0, 1, what, &g->esdp, &g->has_esdp)) < 0)
        goto done;
    const char *need[] = {"pp_deg",       "tp_sizes_enc", "tp_consecutive_flags",
                          "dp_types_enc", "global_bsz",   "chunks"};
    for (size_t i = 0; i < sizeof need / sizeof need[0] && rc == 0; i++)
        if (!cJSON_GetObjectItemCaseSensitive(r, need[i]))
            rc = uniap_err(UNIAP_EINVAL, "%s: no \"%s\"", what, need[i]);
    if (rc < 0 || (rc = int_list(r, "tp_sizes_enc", n, 1, 1 << 20, -1, what, &g->tp)) < 0 ||
        (rc = int_list(r, "tp_consecutive_flags", n, 0, 1, -1, what, &g->consec)) < 0 ||
        (rc = int_list(r, "dp_types_enc", n, 0, 1, -1, what, &g->sdp)) < 0 ||
        (rc = int_list(r, "checkpoint", n, 0, 1, 0, what, &g->ck)) < 0 ||
        (rc = int_list(r, "use_sp", n, 0, 1, 0, what, &g->sp)) < 0)
        goto done;
    static const char *const ones_keys[] = {"ep_sizes_enc", "tp_of_ep_sizes_enc"};
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        free(ones);
        ones = NULL;
        rc = int_list(r, ones_keys[i], n, 1, 1, 1, what, &ones);
    }
    if (rc < 0 || (rc = int_list(r, "cp_sizes_enc", n, 1, 1 << 20, 1, what, &g->cp)) < 0 ||
        (rc = json_int(r, "vcp", 1, 1 << 20, what, &g->vcp, NULL)) < 0)
        goto done;
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(r, "pipeline_type"),
                *dt = cJSON_GetObjectItemCaseSensitive(r, "default_dp_type");
    if ((pt && !cJSON_IsString(pt)) || (dt && !cJSON_IsString(dt))) {
        rc = uniap_err(UNIAP_EINVAL, "%s: \"pipeline_type\", \"default_dp_type\": expected strings",
                       what);
        goto done;
    }
    snprintf(g->ptype, sizeof g->ptype, "%s", pt ? pt->valuestring : "");
    snprintf(g->dflt, sizeof g->dflt, "%s", dt ? dt->valuestring : "");
    for (int i = 0; i < n; i++)
        if (g->sp[i] && g->cp[i] > 1) {
            rc = uniap_err(UNIAP_EINVAL,
                           "%s: \"use_sp\" and \"cp_sizes_enc\": transformer layer %d runs "
                           "Ulysses over %d ranks and ring attention over %d: uniap's context "
                           "parallelism is one or the other",
                           what, i, g->tp[i], g->cp[i]);
            goto done;
        }
    if (cJSON_GetObjectItemCaseSensitive(r, "pp_division"))
        rc = int_list(r, "pp_division", (int)g->pp, 1, n, -1, what, &g->div);
done:
    free(ones);
    cJSON_Delete(r);
    return rc;
}

static void gv_free(gv_in *g)
{
    free(g->tp), free(g->consec), free(g->sdp), free(g->ck), free(g->sp), free(g->cp);
    free(g->div);
}

/* The overrides (runtime.section.key=value tokens), checked against m. */
static int read_overrides(const char *text, const char *what, const uniap_model *m,
                          const ex_model *x, gv_in *g)
{
    char *buf = NULL, *tok[128];
    int n = 0, rc = uniap__ex_tokens(text, what, &buf, tok, 128, &n);
    const char *mp = m->param_dtype == UNIAP_DTYPE_BF16   ? "bf16"
                     : m->param_dtype == UNIAP_DTYPE_FP16 ? "fp16"
                                                          : "fp32";
    for (int i = 0; i < n && rc == 0; i++) {
        char *v = strchr(tok[i], '=');
        if (!v) {
            rc = uniap_err(UNIAP_EINVAL, "%s: '%s': expected key=value overrides", what, tok[i]);
            break;
        }
        *v++ = '\0';
        const char *k = tok[i];
        int t = !strcmp(v, "true"), f = !strcmp(v, "false");
        long num;
        if (!strcmp(k, "runtime.parallel.galvatron_config_path"))
            continue;
        if (!strcmp(k, "runtime.train.sequence_parallel") && (t || f))
            g->seq_par = t;
        else if (!strcmp(k, "runtime.parallel.use_ulysses") && (t || f)) {
            /* in JSON mode only the group the batch is loaded over (the
             * vocabulary's sp group when true): no cost */
        } else if (!strcmp(k, "runtime.parallel.mixed_precision")) {
            if (strcmp(v, mp))
                rc = uniap_err(UNIAP_EINVAL, "%s: %s=%s, but model '%s' is %s", what, k, v, m->name,
                               mp);
        } else if (!strcmp(k, "runtime.train.use_flash_attn") && (t || f)) {
            if (t != x->blk->flash_attn)
                rc = uniap_err(UNIAP_EINVAL, "%s: %s=%s, but the model is set to %s attention",
                               what, k, v, x->blk->flash_attn ? "flash" : "eager");
        } else if (!strcmp(k, "runtime.model.dropout_prob")) {
            if ((strtod(v, NULL) == 0) != x->blk->no_dropout)
                rc = uniap_err(UNIAP_EINVAL, "%s: %s=%s, but the model has dropout %s", what, k, v,
                               x->blk->no_dropout ? "off" : "on");
        } else if (!strcmp(k, "runtime.train.seq_length")) {
            if ((rc = uniap__ex_int(v, 1, 1L << 30, what, k, &num)) == 0 && num != x->blk->seq)
                rc = uniap_err(UNIAP_EINVAL, "%s: %s=%ld, but model '%s' has %lld", what, k, num,
                               m->name, (long long)x->blk->seq);
        } else if (!strcmp(k, "runtime.train.global_batch_size") ||
                   !strcmp(k, "runtime.train.chunks")) {
            long want = k[14] == 'g' ? g->gbs : g->chunks;
            if ((rc = uniap__ex_int(v, 1, 1L << 40, what, k, &num)) == 0 && num != want)
                rc = uniap_err(UNIAP_EINVAL, "%s: %s=%ld, but the JSON config has %ld", what, k,
                               num, want);
        } else if (!strcmp(k, "runtime.parallel.vocab_sdp")) {
            if ((rc = uniap__ex_int(v, 0, 1, what, k, &num)) == 0)
                g->ov_vsdp = (int)num;
        } else
            rc = uniap_err(UNIAP_EINVAL, "%s: %s=%s is not an override uniap reads", what, k, v);
    }
    free(buf);
    return rc;
}

/* A layer's strategy: dp x cp x tp, cp > 1 ring or (a2a) Ulysses, the
 * DP flavour over dp x cp (Galvatron's sdp group is dp x sp x cp). */
static int gv_strategy(uniap_strategy *s, int dp, int tp, int cp, int a2a, int consec, int flavour,
                       int sp, int ckpt)
{
    int rc = uniap__ex_strategy(s, dp, tp, consec, flavour, sp, ckpt);
    if (rc < 0 || cp <= 1)
        return rc;
    s->cp = cp;
    s->cp_a2a = a2a;
    s->flavour = flavour; /* dp x cp > 1 even where dp is 1 */
    uniap_strategy_format(s);
    return uniap_strategy_parse(s->name, s);
}

/* The plan of g. */
static int build(const gv_in *g, const ex_model *x, const uniap_model *m, const uniap_cluster *c,
                 const char *what, uniap_plan *out)
{
    int N = uniap_cluster_devices(c), rc, dflt, vsdp, *div = NULL;
    uniap_schedule sched = -1;
    for (int s = 0; s < uniap_schedule_count(); s++) {
        const uniap_schedule_desc *d = uniap_schedule_get(s);
        if (d->galvatron && !strcmp(d->galvatron, g->ptype[0] ? g->ptype : "gpipe"))
            sched = s;
    }
    const char *dt = g->dflt[0] ? g->dflt : "ddp";
    dflt = !strcmp(dt, "ddp")     ? UNIAP_DP_DDP
           : !strcmp(dt, "zero2") ? UNIAP_DP_ZERO2
           : !strcmp(dt, "zero3") ? UNIAP_DP_FSDP
                                  : -1;
    if (sched < 0 || dflt < 0)
        return uniap_err(UNIAP_EINVAL, "%s: \"%s\" %s: expected %s", what,
                         sched < 0 ? "pipeline_type" : "default_dp_type",
                         sched < 0 ? (g->ptype[0] ? g->ptype : "gpipe") : dt,
                         sched < 0 ? "gpipe or pipedream_flush" : "ddp, zero2 or zero3");
    if (g->vsp && g->vcp > 1)
        return uniap_err(UNIAP_EINVAL,
                         "%s: \"vsp\" 1 and \"vcp\" %ld: the vocabulary runs Ulysses over %ld "
                         "ranks and ring attention over %ld: uniap's context parallelism is one "
                         "or the other",
                         what, g->vcp, g->vtp, g->vcp);
    vsdp = g->has_vsdp ? (int)g->vsdp : g->ov_vsdp >= 0 ? g->ov_vsdp : 0;
    if (g->has_esdp && g->esdp != vsdp)
        return uniap_err(UNIAP_EINVAL,
                         "%s: \"embed_sdp\" %ld, but Galvatron's runtime reads \"vocab_sdp\", %d "
                         "here: set vocab_sdp",
                         what, g->esdp, vsdp);
    if (!(div = malloc(sizeof(int) * (size_t)g->pp)))
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory", what);
    long total = 0;
    for (int i = 0; i < g->pp; i++) /* Galvatron's default: even, the rest on the last */
        total += div[i] = g->div          ? g->div[i]
                          : i + 1 < g->pp ? g->n / (int)g->pp
                                          : g->n - (g->n / (int)g->pp) * ((int)g->pp - 1);
    if (total != g->n || div[0] < 1)
        rc = uniap_err(UNIAP_EINVAL,
                       "%s: \"pp_division\" adds up to %ld, not the %d transformer "
                       "layers (each stage one or more)",
                       what, total, g->n);
    else if ((rc = uniap__ex_plan_alloc(m, c, what, out)) == 0)
        rc = uniap_plan_split_stages(m, (int)g->pp, div, out->stage_of);
    free(div);
    if (rc < 0)
        return rc;
    /* Galvatron's pipeline splits the batch with torch.chunk: chunks that
     * do not divide global_bsz are ceil(global_bsz / chunks) samples each,
     * the last smaller (its Swin-Huge config: 1024 in 41 chunks, 40 of 25
     * and one of 24); a count torch.chunk cannot make is refused */
    int64_t mb = uniap_micro_batch_size(g->gbs, (int)g->chunks);
    if (mb == 0) {
        int64_t m1, made = cm_chunk_split(g->gbs, (int)g->chunks, &m1);
        uniap_plan_free(out);
        return uniap_err(UNIAP_EINVAL,
                         "%s: \"chunks\": %ld: torch.chunk splits global_bsz %ld into %lld chunks "
                         "of %lld, not %ld (give \"chunks\": %lld)",
                         what, g->chunks, g->gbs, (long long)made, (long long)m1, g->chunks,
                         (long long)made);
    }
    out->global_batch = g->gbs;
    out->deg = (int)g->pp;
    out->micro_batches = (int)g->chunks;
    out->micro_batch = (int)mb;
    out->schedule = sched;
    for (int u = 0; u < m->n_layers && rc == 0; u++) {
        int b = u - x->first_block, blk = b >= 0 && u <= x->last_block;
        int tpv = blk ? g->tp[b] : (int)g->vtp, sdp = blk ? g->sdp[b] : vsdp;
        int a2a = blk ? g->sp[b] : (int)g->vsp; /* Ulysses over the tp_sizes_enc ranks */
        int tp = a2a ? 1 : tpv, cp = a2a ? tpv : blk ? g->cp[b] : (int)g->vcp;
        if (N % (g->pp * tp * cp) || mb % (N / (g->pp * tp * cp)))
            rc = uniap_err(UNIAP_EINVAL,
                           "%s: layer %d: tp %d x cp %d x pp %ld does not divide the %d devices, "
                           "or a micro-batch of %lld samples its data-parallel ranks",
                           what, u, tp, cp, g->pp, N, (long long)mb);
        else
            rc = gv_strategy(&out->strategy_of[u], N / ((int)g->pp * tp * cp), tp, cp, a2a,
                             blk ? g->consec[b] : 1, sdp ? UNIAP_DP_FSDP : dflt, g->seq_par,
                             blk && g->ck[b] ? UNIAP_CKPT_FULL : 0);
    }
    return rc;
}

int uniap_plan_import_galvatron(const char *json, const char *json_what, const char *overrides,
                                const char *overrides_what, const uniap_model *m,
                                const uniap_cluster *c, uniap_plan *out)
{
    gv_in g;
    ex_model x;
    int rc;
    memset(out, 0, sizeof(*out));
    memset(&g, 0, sizeof(g));
    g.seq_par = 1; /* train.sequence_parallel's default (args_schema.py) */
    g.ov_vsdp = -1;
    g.vtp = g.vcp = 1;
    if ((rc = uniap__ex_no_fp8(m, json_what)) < 0 ||
        (rc = uniap__ex_model(m, "galvatron", &x)) < 0 ||
        (rc = read_json(json, json_what, x.n_blocks, &g)) < 0 ||
        (overrides && (rc = read_overrides(overrides, overrides_what, m, &x, &g)) < 0) ||
        (rc = build(&g, &x, m, c, json_what, out)) < 0)
        uniap_plan_free(out);
    gv_free(&g);
    return rc;
}
