/*
 * import_galvatron_moe.c - the MoE half of the Galvatron importer
 * (import_galvatron.c): Galvatron profiles a Mixtral-style model's
 * attention and MLP (router + experts) as separate layers; uniap's moe
 * block is one layer holding both, so the two parts are summed into one
 * row per (tp, micro-batch) of the block.
 *
 * Files of models/moe/configs, suffix s = the model's name, verified on
 * the published Mixtral-8x7B values:
 *   computation_profiling_bf16_<s>.json: layertype_0_bsz<b>_seq<S>_mlp is
 *     the forward ms of one MLP layer per sample, (layernum[4]_bsz<b>_
 *     seq<S>_mlp - layernum[2]_bsz<b>_seq<S>_mlp) / (2 b): b 1, S 4096:
 *     (35.9305 - 22.5113) / 2 = 6.7096, the file's 6.709568; no per-layer
 *     attention figure at S 4096 (one layernum[2] point only).
 *   computation_profiling_bf16_<s>_attention.json / _mlp.json: the same
 *     layertype_0_bsz<b>_seq<S> of the attention / MLP layer alone (b 1,
 *     S 8192: (40.4668 - 28.0369) / 2 = 6.2149 attention), and
 *     layertype_other_bsz<b>_seq<S> = (layernum[2] - 2 b layertype_0) / b,
 *     the embedding + head per sample (b 1: 28.0369 - 12.4299 = 15.6070).
 *   memory_profiling_bf16_<s>_attention.json: layertype_0_sp {S:
 *     tp_activation_per_bsz_dict}, the attention layer's MiB per sample;
 *     other_memory_pp_on_first/last_sp. No MLP memory is published.
 * Block forward ms per sample at (b, S) = attention(b, S) + MLP(b, S): in
 * a Mixtral decoder layer the MLP runs after the attention, on its output.
 * A part measured only at another length S' is scaled by its forward FLOPs
 * per sample F(S) / F(S') (part_flops); layertype_other by S / S'. Both are
 * noted, the rows' forward count set to 0 (derived). Activations:
 * Galvatron's attention MiB plus uniap's analytic bytes of the block beyond
 * its attention sublayer; peak: uniap's analytic transient (analytic.c).
 * The rest (backward = 2 x forward, tp scaling, hardware) is the common
 * path's, cm_galv_import_parsed, on the summed figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cm_internal.h"
#include "galvatron_internal.h"

#define MAX_PTS 64

int cm_galv_is_moe(const uniap_model *m)
{
    for (int r = 0; r < m->n_runs; r++)
        if (m->runs[r].kind == UNIAP_LAYER_MOE)
            return 1;
    return 0;
}

/* Forward ms per layer per sample of one part at batch sizes bsz[]. */
typedef struct part_pts {
    int n;
    long seq; /* the length they were measured at */
    int bsz[MAX_PTS];
    double ms[MAX_PTS];
} part_pts;

/* Adds obj's "<stem>_bsz<b>_seq<S><tail>" values to p at S = seq (0: the
 * first S met, then only it). */
static void gather(const cJSON *obj, const char *stem, const char *tail, long seq, part_pts *p)
{
    const cJSON *it;
    size_t sl = strlen(stem);

    cJSON_ArrayForEach(it, obj)
    {
        int b;
        long s;
        const char *rest;
        if (!cJSON_IsNumber(it) || strncmp(it->string, stem, sl) != 0 ||
            cm_galv_parse_bsz_seq(it->string + sl, &b, &s, &rest) != 1 || strcmp(rest, tail) != 0 ||
            p->n == MAX_PTS)
            continue;
        if (!seq && !p->n)
            p->seq = seq = s;
        if (s == seq)
            p->bsz[p->n] = b, p->ms[p->n++] = it->valuedouble;
    }
    if (p->n)
        p->seq = seq;
}

/* Forward FLOPs per sample of a part of l at seq tokens: attention, the
 * QKV and output projections plus the core over the span
 * (uniap__cm_attn_flops); the MLP (router, experts) is per token, so seq. */
static double part_flops(const uniap_layer *l, long seq, int attention)
{
    uniap_layer x = *l;

    if (!attention)
        return (double)seq;
    x.seq = seq;
    return (double)seq * uniap__cm_attn_flops(&x);
}

/* One part's points at the block's seq: from the file of both parts
 * (tail "_<part>") and the part's own file; else the part file's at its
 * length, scaled (noted; *scaled set). EMISSING when neither has any. */
static int part_points(const uniap_layer *l, const cJSON *both, const cJSON *own, const char *part,
                       const char *own_path, part_pts *p, int *scaled, cm_warnings *w)
{
    char tail[16];

    memset(p, 0, sizeof(*p));
    snprintf(tail, sizeof(tail), "_%s", part);
    gather(both, "layertype_0", tail, (long)l->seq, p);
    if (!p->n)
        gather(own, "layertype_0", "", (long)l->seq, p);
    if (!p->n) {
        gather(own, "layertype_0", "", 0, p);
        if (!p->n)
            return uniap_err(UNIAP_EMISSING,
                             "galvatron import: no layertype_0_bsz<b>_seq<S> forward times of the "
                             "%s layers (in %s or the model's file with suffix _%s)",
                             part, own_path, part);
        int att = strcmp(part, "attention") == 0;
        double k = part_flops(l, (long)l->seq, att) / part_flops(l, p->seq, att);
        for (int i = 0; i < p->n; i++)
            p->ms[i] *= k;
        *scaled = 1;
        cm_galv_note(w,
                     "%s: the %s layers are timed at seq %ld only; scaled to seq %lld by their "
                     "forward FLOPs per sample, x %.4f",
                     own_path, part, p->seq, (long long)l->seq, k);
    }
    return UNIAP_OK;
}

/* ../meta_configs/<suffix>.json against the moe block l of m: every shape
 * field must agree; EINVAL naming the field otherwise. */
static int check_meta(const uniap_model *m, const uniap_layer *l, const char *dir,
                      const char *suffix, int n_blocks)
{
    int64_t vocab = 0;
    char path[1100];
    cJSON *js = NULL;
    int rc;

    for (int r = 0; r < m->n_runs; r++)
        if (m->runs[r].kind == UNIAP_LAYER_EMBEDDING)
            vocab = m->runs[r].vocab;
    const struct {
        const char *key;
        int64_t want;
    } f[] = {{"hidden_size", l->hidden},
             {"num_hidden_layers", n_blocks},
             {"num_attention_heads", l->heads},
             {"num_key_value_heads", l->kv_heads ? l->kv_heads : l->heads},
             {"intermediate_size", l->ffn},
             {"num_local_experts", l->experts},
             {"num_experts_per_tok", l->top_k},
             {"vocab_size", vocab}};
    snprintf(path, sizeof(path), "%s/../meta_configs/%s.json", dir, suffix);
    if ((rc = cm_galv_load_json(path, &js)) < 0)
        return rc;
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(js, f[i].key);
        if (!cJSON_IsNumber(v)) {
            rc = uniap_err(UNIAP_EFORMAT, "%s: field '%s': expected a number", path, f[i].key);
            break;
        }
        if (v->valuedouble != (double)f[i].want) {
            rc = uniap_err(UNIAP_EINVAL,
                           "%s: field '%s' = %g, but model '%s' has %lld: the files describe "
                           "another model",
                           path, f[i].key, v->valuedouble, m->name, (long long)f[i].want);
            break;
        }
    }
    cJSON_Delete(js);
    return rc;
}

/* The computation object the common path reads: layertype_0 = attention
 * + MLP at every batch size both parts have, layertype_other from the
 * attention file (scaled by tokens when at another length). */
static int summed(const uniap_layer *l, const part_pts *att, const part_pts *mlp,
                  const cJSON *att_js, const char *att_path, cJSON *out, cm_warnings *w)
{
    char key[64];
    part_pts oth = {0};
    int n = 0;

    for (int i = 0; i < att->n; i++)
        for (int j = 0; j < mlp->n; j++)
            if (att->bsz[i] == mlp->bsz[j]) {
                snprintf(key, sizeof(key), "layertype_0_bsz%d_seq%lld", att->bsz[i],
                         (long long)l->seq);
                if (!cJSON_AddNumberToObject(out, key, att->ms[i] + mlp->ms[j]))
                    return uniap_err(UNIAP_ENOMEM, "galvatron import: out of memory");
                n++;
            }
    if (!n)
        return uniap_err(UNIAP_EMISSING,
                         "galvatron import: the attention and MLP forward times share no batch "
                         "size");
    gather(att_js, "layertype_other", "", (long)l->seq, &oth);
    if (!oth.n)
        gather(att_js, "layertype_other", "", 0, &oth);
    for (int i = 0; i < oth.n; i++) {
        snprintf(key, sizeof(key), "layertype_other_bsz%d_seq%lld", oth.bsz[i], (long long)l->seq);
        if (!cJSON_AddNumberToObject(out, key, oth.ms[i] * (double)l->seq / (double)oth.seq))
            return uniap_err(UNIAP_ENOMEM, "galvatron import: out of memory");
    }
    if (oth.n && oth.seq != l->seq)
        cm_galv_note(w, "%s: layertype_other (embedding + head) timed at seq %ld; x %lld / %ld",
                     att_path, oth.seq, (long long)l->seq, oth.seq);
    return UNIAP_OK;
}

/* uniap's analytic bytes per token of the moe block l beyond its attention
 * sublayer (router logits, permuted tokens, the top_k expert MLPs): the
 * moe kind's act_per_token less a decoder's of ffn 0, whose MLP-input
 * norm and dropout tensors stay with the attention part. */
static void beyond_attention(const uniap_model *m, const uniap_layer *l, int64_t *repl,
                             int64_t *shard)
{
    int64_t e = uniap_dtype_bytes(m->act_dtype), r0 = 0, s0 = 0;
    uniap_layer att = *l;

    att.kind = UNIAP_LAYER_DECODER;
    att.ffn = 0;
    att.experts = att.top_k = att.shared_experts = 0;
    *repl = *shard = 0;
    uniap__cm_layer_kind(l->kind)->act_per_token(l, e, repl, shard);
    uniap__cm_layer_kind(UNIAP_LAYER_DECODER)->act_per_token(&att, e, &r0, &s0);
    *repl -= r0;
    *shard -= s0;
}

/* Adds the analytic part to the block rows' activations, the analytic
 * transient as their peak (analytic.c's layer_row: tokens x (widest / tp
 * + h e)); derived rows' forward count 0. */
static void complete_rows(const uniap_model *m, const uniap_layer *l, int scaled,
                          uniap_profile *out)
{
    const cm_layer_kind *d = uniap__cm_layer_kind(l->kind);
    int64_t e = uniap_dtype_bytes(m->act_dtype), repl, shard;
    int64_t widest = d->widest ? d->widest(l, e) : 0;
    char sig[96];

    beyond_attention(m, l, &repl, &shard);
    uniap_layer_signature(l, sig, sizeof(sig));
    for (int i = 0; i < out->n_layers; i++) {
        uniap_layer_prof *row = &out->layers[i];
        int64_t tokens = (int64_t)row->micro_batch * l->seq;
        if (strcmp(row->layer_type, sig) != 0)
            continue;
        row->act_bytes += tokens * repl + tokens * shard / row->tp;
        row->peak_bytes = tokens * (widest / row->tp + l->hidden * e);
        if (scaled)
            row->fwd.count = 0;
    }
}

/* Loads <dir>/computation_profiling_bf16_<suffix><tail>.json into *out
 * (NULL, no error, when the file is absent and optional). */
static int load_comp(const char *dir, const char *suffix, const char *tail, int optional,
                     char *path, size_t n, cJSON **out)
{
    FILE *f;

    *out = NULL;
    snprintf(path, n, "%s/computation_profiling_bf16_%s%s.json", dir, suffix, tail);
    if (optional && !(f = fopen(path, "r")))
        return UNIAP_OK;
    if (optional)
        fclose(f);
    return cm_galv_load_json(path, out);
}

int cm_galv_import_moe(const uniap_model *m, const uniap_cluster *c, const char *dir,
                       const char *suffix, const char *hardware_dir, uniap_profile *out,
                       cm_warnings *w)
{
    cJSON *both = NULL, *att_js = NULL, *mlp_js = NULL, *mem = NULL, *comp = NULL;
    char p_both[1100], p_att[1100], p_mlp[1100], p_mem[1100], label[1200];
    const uniap_layer *l = NULL;
    part_pts att, mlp;
    int rc, n_blocks = 0, scaled = 0;

    memset(out, 0, sizeof(*out));
    for (int r = 0; r < m->n_runs; r++)
        if (uniap__cm_layer_kind(m->runs[r].kind)->role == CM_ROLE_BLOCK) {
            char a[96], b[96];
            if (l && (uniap_layer_signature(l, a, sizeof(a)),
                      uniap_layer_signature(&m->runs[r], b, sizeof(b)), strcmp(a, b) != 0))
                return uniap_err(UNIAP_EINVAL,
                                 "galvatron import: model '%s' has blocks of more than one shape "
                                 "(%s, %s); Galvatron's MoE files describe one",
                                 m->name, a, b);
            l = l ? l : &m->runs[r];
            n_blocks += m->runs[r].count;
        }
    if (!l || l->kind != UNIAP_LAYER_MOE)
        return uniap_err(UNIAP_EINVAL, "galvatron import: model '%s': its blocks are not moe",
                         m->name);
    if ((rc = check_meta(m, l, dir, suffix, n_blocks)) < 0)
        return rc;
    snprintf(p_mem, sizeof(p_mem), "%s/memory_profiling_bf16_%s_attention.json", dir, suffix);
    if ((rc = load_comp(dir, suffix, "", 1, p_both, sizeof(p_both), &both)) < 0 ||
        (rc = load_comp(dir, suffix, "_attention", 0, p_att, sizeof(p_att), &att_js)) < 0 ||
        (rc = load_comp(dir, suffix, "_mlp", 1, p_mlp, sizeof(p_mlp), &mlp_js)) < 0 ||
        (rc = cm_galv_load_json(p_mem, &mem)) < 0)
        goto free_json;
    if ((rc = part_points(l, both, att_js, "attention", p_att, &att, &scaled, w)) < 0 ||
        (rc = part_points(l, both, mlp_js, "mlp", p_mlp, &mlp, &scaled, w)) < 0)
        goto free_json;
    if (!(comp = cJSON_CreateObject())) {
        rc = uniap_err(UNIAP_ENOMEM, "galvatron import: out of memory");
        goto free_json;
    }
    if ((rc = summed(l, &att, &mlp, att_js, p_att, comp, w)) < 0)
        goto free_json;
    snprintf(label, sizeof(label), "%s/computation_profiling_bf16_%s{,_attention,_mlp}.json", dir,
             suffix);
    if ((rc = cm_galv_import_parsed(m, c, comp, mem, label, p_mem, hardware_dir, out, w)) < 0)
        goto free_json;
    complete_rows(m, l, scaled, out);
    cm_warn(w, "read %s, %s and %s", label, p_mem, hardware_dir);
    cm_galv_note(w,
                 "moe block forward = attention layer + MLP layer forward (Galvatron profiles "
                 "them as separate layers; %d batch sizes in common)",
                 att.n < mlp.n ? att.n : mlp.n);
    cm_galv_note(w,
                 "moe block activations: Galvatron's attention-layer MiB (%s) + uniap's "
                 "analytic bytes of the router and experts (no MLP memory is published); "
                 "peak: uniap's analytic transient",
                 p_mem);
free_json:
    cJSON_Delete(both);
    cJSON_Delete(att_js);
    cJSON_Delete(mlp_js);
    cJSON_Delete(mem);
    cJSON_Delete(comp);
    return rc;
}
