/*
 * export_util.c - what the runtime exports and readers share
 * (export_internal.h): the model's layout as runtimes build it (embedding,
 * transformer blocks, head), a plan read as one global setting (DeepSpeed
 * and torchtitan run one strategy for every layer), the plan a reader
 * builds back from a runtime's settings, small scanners, the table-driven
 * reader of a command line's flags and the model arguments written alike
 * (Megatron-LM's and Megatron-DeepSpeed's), and the global batch a runtime's file states
 * (uniap_runtime_file_batch).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "export_internal.h"
#include "toml_lite.h"

int uniap__ex_is_block(const uniap_model *m, int u)
{
    return uniap__cm_layer_kind(m->runs[uniap_model_run_of(m, u)].kind)->role == CM_ROLE_BLOCK;
}

static cm_layer_role role_of(const uniap_model *m, int u)
{
    return uniap__cm_layer_kind(m->runs[uniap_model_run_of(m, u)].kind)->role;
}

int uniap__ex_no_fp8(const uniap_model *m, const char *what)
{
    if (!m->training.fp8)
        return UNIAP_OK;
    return uniap_err(UNIAP_EINVAL,
                     "%s: model '%s' trains in FP8 (--precision fp8): uniap writes and reads no "
                     "FP8 setting for this runtime; FP8 plans run on megatron (--fp8-format "
                     "hybrid) or torchtitan (the float8 converter), or plan with --precision bf16",
                     what, m->name);
}

int uniap__ex_no_moe(const uniap_model *m, const char *what)
{
    for (int r = 0; r < m->n_runs; r++)
        if (m->runs[r].experts > 0)
            return uniap_err(UNIAP_EINVAL,
                             "%s: model '%s' has mixture-of-experts layers (layers of run %d, %d "
                             "experts): uniap writes no expert settings for this runtime; moe "
                             "plans run on megatron (--expert-model-parallel-size), deepspeed "
                             "(DeepSpeed-MoE's ep_size) or torchtitan (expert_parallel_degree)",
                             what, m->name, r, m->runs[r].experts);
    return UNIAP_OK;
}

/* 1 when l has the attention and norm of b that a Megatron-LM command line
 * states once for every block (widths, heads, activation, norm, bias). */
static int same_attention(const uniap_layer *l, const uniap_layer *b)
{
    return l->hidden == b->hidden && l->heads == b->heads && l->kv_heads == b->kv_heads &&
           l->activation == b->activation && l->norm == b->norm && l->bias == b->bias;
}

/* 1 when l has the rest of b's attention: head width, positions, length. */
static int same_span(const uniap_layer *l, const uniap_layer *b)
{
    return l->head_dim == b->head_dim && l->position == b->position && l->seq == b->seq;
}

/* 1 when l has the MLP of b: kind, width and experts. */
static int same_mlp(const uniap_layer *l, const uniap_layer *b)
{
    return l->kind == b->kind && l->ffn == b->ffn && l->experts == b->experts &&
           l->top_k == b->top_k && l->shared_experts == b->shared_experts &&
           l->capacity_factor == b->capacity_factor;
}

/* Tracks the moe layout of x at block l (attn, span: l has the first
 * block's same_attention, same_span): dense blocks, then moe blocks of one
 * shape. */
static void moe_block(ex_model *x, const uniap_layer *l, int attn, int span)
{
    const uniap_layer *e = x->moe;
    int fits;
    if (l->experts <= 0) { /* the dense blocks of one shape, the first block's */
        fits = !e && l->kind == x->blk->kind && l->ffn == x->blk->ffn;
        x->dense_first += !e;
    } else {
        if (!e)
            x->moe = e = l;
        x->n_moe++;
        fits = same_mlp(l, e);
    }
    x->moe_tail &= fits && attn && span;
    x->moe_flags &= fits && attn;
}

void uniap__ex_blocks(const uniap_model *m, ex_model *out)
{
    memset(out, 0, sizeof(*out));
    out->first_block = out->last_block = -1;
    out->same = out->moe_tail = out->moe_flags = 1;
    for (int u = 0; u < m->n_layers; u++) {
        if (!uniap__ex_is_block(m, u))
            continue;
        const uniap_layer *l = &m->runs[uniap_model_run_of(m, u)];
        if (out->first_block < 0) {
            out->first_block = u;
            out->blk = l;
        }
        out->last_block = u;
        out->n_blocks++;
        const uniap_layer *b = out->blk;
        int attn = same_attention(l, b), span = same_span(l, b);
        out->same &= attn && span && same_mlp(l, b);
        moe_block(out, l, attn, span);
    }
}

int uniap__ex_model(const uniap_model *m, const char *rt, ex_model *out)
{
    uniap__ex_blocks(m, out);
    if (out->first_block < 0)
        return uniap_err(UNIAP_EINVAL, "%s export: model '%s' has no transformer blocks", rt,
                         m->name);
    for (int u = 0; u < m->n_layers; u++) {
        cm_layer_role r = role_of(m, u);
        int ok = u < out->first_block  ? r == CM_ROLE_FIRST
                 : u > out->last_block ? r == CM_ROLE_LAST
                                       : r == CM_ROLE_BLOCK;
        if (!ok)
            return uniap_err(UNIAP_EINVAL,
                             "%s export: layer %d (%s) of model '%s': %s builds an embedding, "
                             "transformer blocks and a head, in that order",
                             rt, u, uniap_layer_kind_name(m->runs[uniap_model_run_of(m, u)].kind),
                             m->name, rt);
    }
    return UNIAP_OK;
}

/* The first dimension in which layer strategy s differs from the blocks'
 * common one r, or NULL. */
static const char *differs(const uniap_strategy *s, const uniap_strategy *r)
{
    if (s->tp != r->tp)
        return "tensor-parallel degree";
    if (s->dp != r->dp)
        return "data-parallel degree";
    if (uniap_strategy_cp(s) != uniap_strategy_cp(r) ||
        (uniap_strategy_cp(s) > 1 && s->cp_a2a != r->cp_a2a))
        return "context-parallel degree and variant";
    if (s->dp > 1 && s->flavour != r->flavour)
        return "data-parallel flavour (ZeRO stage)";
    if (s->tp > 1 && s->sp != r->sp)
        return "sequence parallelism";
    if (s->tp > 1 && s->dp > 1 && s->tp_consecutive != r->tp_consecutive)
        return "TP placement";
    return NULL;
}

/* The split of x->blocks must be p's, layer by layer. */
static int check_split(const uniap_plan *p, const uniap_model *m, const char *rt, ex_plan *x)
{
    int *want = malloc(sizeof(int) * (size_t)m->n_layers), rc;
    if (!want)
        return uniap_err(UNIAP_ENOMEM, "%s export: out of memory", rt);
    rc = uniap_plan_split_stages(m, p->deg, x->blocks, want);
    for (int u = 0; rc == 0 && u < m->n_layers; u++)
        if (want[u] != p->stage_of[u])
            rc = uniap_err(UNIAP_EINVAL,
                           "%s export: layer %d (%s) is on stage %d; %s places it on stage %d "
                           "(the layers before the first block on the first stage, those after "
                           "the last block on the last)",
                           rt, u, uniap__ex_is_block(m, u) ? "a block" : "not a block",
                           p->stage_of[u], rt, want[u]);
    free(want);
    return rc;
}

int uniap__ex_even_micro_batches(const uniap_plan *p, const char *rt)
{
    if (p->micro_batches >= 1 && p->global_batch % p->micro_batches == 0)
        return UNIAP_OK;
    return uniap_err(UNIAP_EINVAL,
                     "%s export: %d micro-batches do not divide the global batch of %lld "
                     "samples: %s runs global batch = micro-batches x micro-batch size x dp "
                     "(a torch.chunk split like this one runs in Galvatron)",
                     rt, p->micro_batches, (long long)p->global_batch, rt);
}

/* x->ep: the moe layers' one expert-parallel degree; EINVAL naming the
 * layer where another differs or a layer without experts has ep > 1. */
static int plan_ep(const uniap_plan *p, const uniap_model *m, const char *rt, ex_plan *x)
{
    int first = -1;
    for (int u = 0; u < m->n_layers; u++) {
        const uniap_strategy *s = &p->strategy_of[u];
        int moe = m->runs[uniap_model_run_of(m, u)].experts > 0, ep = uniap_strategy_ep(s);
        if (!moe && ep > 1)
            return uniap_err(UNIAP_EINVAL,
                             "%s export: layer %d (stage %d) has no experts but uses %s (ep %d)",
                             rt, u, p->stage_of[u], s->name, ep);
        if (moe && first < 0)
            first = u, x->ep = ep;
        else if (moe && ep != x->ep)
            return uniap_err(UNIAP_EINVAL,
                             "%s export: moe layer %d (stage %d) uses %s, moe layer %d %s: %s "
                             "runs one expert-parallel degree for every moe layer",
                             rt, u, p->stage_of[u], s->name, first, p->strategy_of[first].name, rt);
    }
    if (first < 0)
        x->ep = 1;
    return UNIAP_OK;
}

int uniap__ex_plan(const uniap_plan *p, const uniap_model *m, const char *rt, ex_plan *x)
{
    int rc;
    memset(x, 0, sizeof(*x));
    if (p->n_layers != m->n_layers || p->deg < 1 || !p->stage_of || !p->strategy_of)
        return uniap_err(UNIAP_EINVAL,
                         "%s export: the plan has %d layers on %d stages, model '%s' "
                         "%d layers",
                         rt, p->n_layers, p->deg, m->name, m->n_layers);
    if ((rc = uniap__ex_model(m, rt, &x->mdl)) < 0)
        return rc;
    const uniap_strategy *r = &p->strategy_of[x->mdl.first_block];
    x->pp = p->deg;
    x->tp = r->tp;
    x->dp = r->dp;
    x->cp = uniap_strategy_cp(r);
    x->cp_a2a = x->cp > 1 && r->cp_a2a;
    x->flavour = uniap_strategy_dpcp(r) > 1 ? r->flavour : UNIAP_DP_DDP;
    x->sp = r->tp > 1 && r->sp;
    x->consecutive = r->tp_consecutive || r->tp == 1 || r->dp == 1;
    x->ckpt = r->ckpt;
    if ((rc = plan_ep(p, m, rt, x)) < 0)
        return rc;
    for (int u = 0; u < m->n_layers; u++) {
        const uniap_strategy *s = &p->strategy_of[u];
        const char *d = differs(s, r);
        if (d)
            return uniap_err(UNIAP_EINVAL,
                             "%s export: layer %d (stage %d) uses %s, the first block (layer %d) "
                             "%s: %s runs one %s for every layer",
                             rt, u, p->stage_of[u], s->name, x->mdl.first_block, r->name, rt, d);
        if (!uniap__ex_is_block(m, u) && s->ckpt != UNIAP_CKPT_NONE)
            return uniap_err(UNIAP_EINVAL,
                             "%s export: layer %d (stage %d, not a transformer block) uses %s: %s "
                             "recomputes transformer blocks only",
                             rt, u, p->stage_of[u], s->name, rt);
        if (uniap__ex_is_block(m, u) && s->ckpt != x->ckpt)
            x->ckpt = -1;
    }
    if ((rc = uniap__ex_even_micro_batches(p, rt)) < 0)
        return rc;
    if (x->dp < 1 || p->micro_batch % x->dp)
        return uniap_err(UNIAP_EINVAL,
                         "%s export: a micro-batch of %d samples does not divide over %d "
                         "data-parallel ranks",
                         rt, p->micro_batch, x->dp);
    x->mb = p->micro_batch / x->dp;
    if (!(x->blocks = calloc((size_t)p->deg, sizeof(int))))
        return uniap_err(UNIAP_ENOMEM, "%s export: out of memory", rt);
    for (int u = 0; u < m->n_layers; u++) {
        if (p->stage_of[u] < 0 || p->stage_of[u] >= p->deg)
            rc = uniap_err(UNIAP_EINVAL, "%s export: layer %d on stage %d of %d", rt, u,
                           p->stage_of[u], p->deg);
        else if (uniap__ex_is_block(m, u))
            x->blocks[p->stage_of[u]]++;
    }
    if (rc == 0)
        rc = check_split(p, m, rt, x);
    if (rc < 0) {
        free(x->blocks);
        x->blocks = NULL;
    }
    return rc;
}

int uniap__ex_strategy(uniap_strategy *s, int dp, int tp, int consecutive, int flavour, int sp,
                       int ckpt)
{
    memset(s, 0, sizeof(*s));
    s->dp = dp;
    s->tp = tp;
    s->tp_consecutive = consecutive || tp == 1 || dp == 1;
    s->flavour = dp > 1 ? flavour : UNIAP_DP_DDP;
    s->sp = sp && tp > 1;
    s->ckpt = ckpt;
    uniap_strategy_format(s);
    return uniap_strategy_parse(s->name, s);
}

int uniap__ex_plan_alloc(const uniap_model *m, const uniap_cluster *c, const char *what,
                         uniap_plan *out)
{
    memset(out, 0, sizeof(*out));
    if (!(out->stage_of = calloc((size_t)m->n_layers, sizeof(int))) ||
        !(out->strategy_of = calloc((size_t)m->n_layers, sizeof(uniap_strategy)))) {
        uniap_plan_free(out);
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory", what);
    }
    snprintf(out->model, sizeof out->model, "%s", m->name);
    snprintf(out->cluster, sizeof out->cluster, "%s", c->name);
    snprintf(out->status, sizeof out->status, "given");
    out->n_layers = m->n_layers;
    return UNIAP_OK;
}

int uniap__ex_dp(const uniap_cluster *c, int tp, int pp, const char *what, int *dp)
{
    int N = uniap_cluster_devices(c);
    if (tp < 1 || pp < 1 || N % (tp * pp))
        return uniap_err(UNIAP_EINVAL, "%s: tp %d x pp %d does not divide the %d devices of '%s'",
                         what, tp, pp, N, c->name);
    *dp = N / (tp * pp);
    return UNIAP_OK;
}

int uniap__ex_build(const ex_build *b, const uniap_model *m, const uniap_cluster *c,
                    const char *what, uniap_plan *out)
{
    int dp = 1, rc;
    int cp = b->cp > 1 ? b->cp : 1;
    if ((rc = uniap__ex_dp(c, b->tp * cp, b->pp, what, &dp)) < 0)
        return rc;
    if (b->micro_batches < 1 || b->global_batch % ((int64_t)b->micro_batches * dp))
        return uniap_err(UNIAP_EINVAL,
                         "%s: a global batch of %lld is not %d micro-batches over %d "
                         "data-parallel ranks",
                         what, (long long)b->global_batch, b->micro_batches, dp);
    if ((rc = uniap__ex_plan_alloc(m, c, what, out)) < 0)
        return rc;
    if ((rc = uniap_plan_split_stages(m, b->pp, b->blocks, out->stage_of)) < 0)
        goto fail;
    out->global_batch = b->global_batch;
    out->deg = b->pp;
    out->micro_batches = b->micro_batches;
    out->micro_batch = (int)(b->global_batch / b->micro_batches);
    out->schedule = b->schedule;
    for (int u = 0; u < m->n_layers && rc == 0; u++) {
        uniap_strategy *s = &out->strategy_of[u];
        rc = uniap__ex_strategy(s, dp, b->tp, 1, b->flavour, b->sp,
                                uniap__ex_is_block(m, u) ? b->ckpt : UNIAP_CKPT_NONE);
        int ep = b->ep > 1 && m->runs[uniap_model_run_of(m, u)].experts > 0 ? b->ep : 0;
        if (rc == 0 && (cp > 1 || ep)) { /* ring attention: the runtimes that read it back */
            s->cp = cp > 1 ? cp : 0;
            s->ep = ep;                                    /* the moe layers' experts over ep */
            s->flavour = cp > 1 ? b->flavour : s->flavour; /* dp x cp > 1 even where dp is 1 */
            uniap_strategy_format(s);
            rc = uniap_strategy_parse(s->name, s);
        }
    }
    if (rc == 0)
        return UNIAP_OK;
fail:
    uniap_plan_free(out);
    return rc;
}

int uniap__ex_tokens(const char *text, const char *what, char **buf, char **tok, int max, int *n)
{
    *n = 0;
    if (!(*buf = malloc(strlen(text) + 1)))
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory", what);
    strcpy(*buf, text);
    for (char *save = NULL, *line = strtok_r(*buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '#' || !*line || *line == '\r')
            continue;
        for (char *s2 = NULL, *t = strtok_r(line, " \t\r", &s2); t;
             t = strtok_r(NULL, " \t\r", &s2)) {
            if (*n == max)
                return uniap_err(UNIAP_EINVAL, "%s: more than %d arguments", what, max);
            tok[(*n)++] = t;
        }
        break;
    }
    return UNIAP_OK;
}

int uniap__ex_int(const char *s, long lo, long hi, const char *what, const char *key, long *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < lo || v > hi)
        return uniap_err(UNIAP_EINVAL, "%s: %s %s: expected an integer in [%ld, %ld]", what, key,
                         s ? s : "(missing)", lo, hi);
    *out = v;
    return UNIAP_OK;
}

void uniap__ex_megatron_switches(const uniap_model *m, const uniap_layer *blk,
                                 const char *flash_flag, uniap_textbuf *b)
{
    const uniap_layer *last = &m->runs[m->n_runs - 1];
    if (!blk->bias)
        uniap_textbuf_printf(b, " --disable-bias-linear");
    if (last->kind == UNIAP_LAYER_HEAD && !last->tied)
        uniap_textbuf_printf(b, " --untie-embeddings-and-output-weights");
    if (m->param_dtype == UNIAP_DTYPE_BF16)
        uniap_textbuf_printf(b, " --bf16");
    else if (m->param_dtype == UNIAP_DTYPE_FP16)
        uniap_textbuf_printf(b, " --fp16");
    if (blk->flash_attn)
        uniap_textbuf_printf(b, " %s", flash_flag);
    if (blk->no_dropout)
        uniap_textbuf_printf(b, " --attention-dropout 0.0 --hidden-dropout 0.0");
}

const char *const uniap__ex_rc_granularity[] = {"full", "selective", NULL};
const char *const uniap__ex_rc_method[] = {"uniform", "block", NULL};

/* The value v of flag d into args; key is "--<name>". */
static int flag_value(const ex_flag *d, const char *v, const char *key, void *args,
                      const char *what)
{
    char *field = (char *)args + d->field, *end;
    if (d->kind == EX_FLAG_INT)
        return uniap__ex_int(v, 0, 1L << 40, what, key, (long *)field);
    if (d->kind == EX_FLAG_PROB) {
        double x = strtod(v, &end);
        if (*end || !(x >= 0 && x <= 1))
            return uniap_err(UNIAP_EINVAL, "%s: %s %s: expected a probability in [0, 1]", what, key,
                             v);
        *(double *)field = x;
    } else if (d->kind == EX_FLAG_CHOICE) {
        int k = 0;
        while (d->choices[k] && strcmp(v, d->choices[k]))
            k++;
        if (!d->choices[k]) {
            char list[128] = "";
            for (int c = 0; d->choices[c]; c++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         c == 0              ? ""
                         : d->choices[c + 1] ? ", "
                                             : " or ",
                         d->choices[c]);
            return uniap_err(UNIAP_EINVAL, "%s: %s %s: expected %s", what, key, v, list);
        }
        *(int *)field = k + 1;
    } else {
        *(const char **)field = v;
    }
    return UNIAP_OK;
}

int uniap__ex_read_args(const ex_flags *t, char **tok, int n, void *args, const char *what)
{
    for (int i = 0; i < n; i++) {
        if (strncmp(tok[i], "--", 2) != 0)
            return uniap_err(UNIAP_EINVAL, "%s: '%s': expected --flag [value] arguments", what,
                             tok[i]);
        const ex_flag *d = NULL;
        for (size_t f = 0; f < t->n && !d; f++)
            if (!strcmp(tok[i] + 2, t->flag[f].name))
                d = &t->flag[f];
        if (!d)
            return uniap_err(UNIAP_EINVAL,
                             "%s: %s is not a %s argument uniap reads (%s arguments are)", what,
                             tok[i], t->runtime, t->reads);
        if (d->kind == EX_FLAG_SWITCH) {
            *(int *)((char *)args + d->field) = 1;
            continue;
        }
        if (i + 1 >= n)
            return uniap_err(UNIAP_EINVAL, "%s: %s needs a value", what, tok[i]);
        int rc = flag_value(d, tok[i + 1], tok[i], args, what);
        if (rc < 0)
            return rc;
        i++;
    }
    return UNIAP_OK;
}

/* The global batch a file states: the first integer after key (a flag, or
 * a JSON key via cJSON). */
static int stated_flag(const char *text, const char *flag, int64_t *B)
{
    char *buf = NULL, *tok[512];
    int n = 0, rc = uniap__ex_tokens(text, "", &buf, tok, 512, &n);
    for (int i = 0; rc == 0 && i + 1 < n; i++)
        if (!strcmp(tok[i], flag))
            *B = strtoll(tok[i + 1], NULL, 10);
    free(buf);
    return rc;
}

int uniap_runtime_file_batch(const char *format, const char *text, int64_t *global_batch)
{
    *global_batch = 0;
    if (!strcmp(format, "deepspeed-args"))
        return stated_flag(text, "--global-batch-size", global_batch);
    if (!strcmp(format, "deepspeed-config") || !strcmp(format, "galvatron")) {
        cJSON *r = cJSON_Parse(text);
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(r, format[0] == 'd' ? "train_batch_size"
                                                                              : "global_bsz");
        if (cJSON_IsNumber(j) && j->valuedouble >= 1)
            *global_batch = (int64_t)j->valuedouble;
        cJSON_Delete(r);
        return UNIAP_OK;
    }
    if (!strcmp(format, "torchtitan")) {
        toml_doc d;
        if (uniap__toml_parse(text, "", &d) < 0) {
            uniap_err_clear(); /* the reader names the error */
            return UNIAP_OK;
        }
        const toml_entry *e = uniap__toml_get(&d, "training", "global_batch_size");
        if (e && e->v.type == TOML_INT && e->v.i >= 1)
            *global_batch = e->v.i;
        uniap__toml_free(&d);
        return UNIAP_OK;
    }
    return uniap_err(UNIAP_EINVAL,
                     "runtime file format '%s': expected deepspeed-args, "
                     "deepspeed-config, torchtitan or galvatron",
                     format);
}
