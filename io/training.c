/*
 * training.c - how a model is trained, as the memory model needs it: the
 * attention implementation (eager: the score tensor stored; flash: O(s)
 * softmax statistics), dropout, the checkpointing granularities the search
 * may use, the gradient and master-weight precision, the optimizer and FP8
 * GEMMs (Transformer Engine's hybrid recipe). The
 * model spec's fields (parsed and written here for model_spec.c and
 * model_format.c), their names, the defaults (today's behaviour) and the
 * one setter the command-line overrides go through.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_kinds.h"
#include "spec_json.h"
#include "training_json.h"

static const char *const attention_names[] = {"eager", "flash"};
static const char *const optimizer_names[] = {"adam", "sgd_momentum", "sgd"};
static const char *const ckpt_names[] = {"none", "full", "selective"};
static const char *const dtype_names[] = {"fp32", "fp16", "bf16"};
/* "fp8": Megatron-LM's --fp8-format values; e4m3 (E4M3 in backward too)
 * costs as hybrid, so only hybrid is written */
static const char *const fp8_names[] = {"none", "hybrid"};

void uniap_training_default(uniap_training *t)
{
    memset(t, 0, sizeof(*t));
}

unsigned uniap_training_ckpt_modes(const uniap_training *t)
{
    return t->ckpt_modes ? t->ckpt_modes : UNIAP_CKPT_DEFAULT;
}

static const char *name_of(const char *const *names, int n, int v)
{
    return v >= 0 && v < n ? names[v] : NULL;
}

static int parse_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

const char *uniap_attention_name(int a)
{
    return name_of(attention_names, 2, a);
}
const char *uniap_optimizer_name(int o)
{
    return name_of(optimizer_names, 3, o);
}
const char *uniap_ckpt_name(int g)
{
    return name_of(ckpt_names, UNIAP_CKPT_COUNT, g);
}
int uniap_attention_parse(const char *s)
{
    return parse_name(attention_names, 2, s);
}
int uniap_optimizer_parse(const char *s)
{
    return parse_name(optimizer_names, 3, s);
}
int uniap_ckpt_parse(const char *s)
{
    return parse_name(ckpt_names, UNIAP_CKPT_COUNT, s);
}

int uniap_ckpt_modes_parse(const char *list, const char *what, unsigned *out)
{
    char word[32];
    unsigned mask = 0;
    const char *p = list ? list : "";

    for (;;) {
        size_t n = strcspn(p, ",");
        int g = -1;
        if (n > 0 && n < sizeof(word)) {
            memcpy(word, p, n);
            word[n] = 0;
            g = uniap_ckpt_parse(word);
        }
        if (g < 0)
            return uniap_err(UNIAP_EINVAL,
                             "%s: expected a comma list of none, full and selective, got '%.*s'",
                             what, (int)n, p);
        mask |= UNIAP_CKPT_BIT(g);
        if (!p[n])
            break;
        p += n + 1;
    }
    *out = mask;
    return UNIAP_OK;
}

int uniap_model_set_training(uniap_model *m, const uniap_training *t, const char *what)
{
    if ((unsigned)t->attention > UNIAP_ATTN_FLASH)
        return uniap_err(UNIAP_EINVAL, "%s: attention: expected eager or flash", what);
    if ((unsigned)t->optimizer > UNIAP_OPTIM_SGD)
        return uniap_err(UNIAP_EINVAL, "%s: optimizer: expected adam, sgd_momentum or sgd", what);
    if (t->ckpt_modes >= UNIAP_CKPT_BIT(UNIAP_CKPT_COUNT))
        return uniap_err(UNIAP_EINVAL,
                         "%s: checkpointing: expected one or more of none, full and selective",
                         what);
    if (t->grad_dtype < 0 || t->grad_dtype > 1 + UNIAP_DTYPE_BF16 || t->master_dtype < 0 ||
        t->master_dtype > 1 + UNIAP_DTYPE_BF16)
        return uniap_err(UNIAP_EINVAL, "%s: grad_dtype/master_dtype: expected fp32, fp16 or bf16",
                         what);
    if (t->master_dtype > 0 && !m->mixed_precision)
        return uniap_err(UNIAP_EINVAL,
                         "%s: master_dtype: expected only with mixed_precision (fp32 training "
                         "updates the parameters themselves)",
                         what);
    if ((unsigned)t->fp8 > 1)
        return uniap_err(UNIAP_EINVAL, "%s: fp8: expected \"none\" or \"hybrid\"", what);
    if (t->fp8 && (!m->mixed_precision || m->param_dtype == UNIAP_DTYPE_FP32 ||
                   m->act_dtype == UNIAP_DTYPE_FP32))
        return uniap_err(UNIAP_EINVAL,
                         "%s: fp8: expected only with mixed precision at bf16 or fp16 (Transformer "
                         "Engine keeps 16-bit parameters and activations and fp32 master weights "
                         "around its FP8 GEMMs), got %s parameters%s",
                         what, uniap_dtype_name(m->param_dtype),
                         m->mixed_precision ? "" : " without mixed precision");
    m->training = *t;
    for (int r = 0; r < m->n_runs; r++) {
        m->runs[r].flash_attn = t->attention == UNIAP_ATTN_FLASH;
        m->runs[r].no_dropout = t->no_dropout != 0;
        /* FP8 in the attention blocks' Linear layers only: Megatron-LM
         * builds those from Transformer Engine modules (fp8_autocast
         * around the decoder), while its embedding and output layer are
         * plain 16-bit layers, as TE's FP8 primer advises for the first
         * and last layers */
        m->runs[r].fp8 = t->fp8 && spec_kind_uses(m->runs[r].kind, LF_HEADS);
    }
    return UNIAP_OK;
}

/* "checkpointing": an array of granularity names. */
static int parse_ckpt_modes(const cJSON *root, const char *source, unsigned *mask)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "checkpointing"), *it;
    char got[160];
    int i = 0;

    if (!a)
        return UNIAP_OK;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1)
        return uniap_err(UNIAP_EINVAL,
                         "%s: checkpointing: expected a non-empty array of \"none\", \"full\", "
                         "\"selective\", got %s",
                         source, spec_describe(a, got, sizeof(got)));
    *mask = 0;
    cJSON_ArrayForEach(it, a)
    {
        int g = cJSON_IsString(it) ? uniap_ckpt_parse(it->valuestring) : -1;
        if (g < 0)
            return uniap_err(UNIAP_EINVAL,
                             "%s: checkpointing[%d]: expected \"none\", \"full\" or "
                             "\"selective\", got %s",
                             source, i, spec_describe(it, got, sizeof(got)));
        *mask |= UNIAP_CKPT_BIT(g);
        i++;
    }
    return UNIAP_OK;
}

int spec_parse_training(const cJSON *root, const char *source, uniap_model *m)
{
    uniap_training t;
    int rc_ = 0, e = 0;

    uniap_training_default(&t);
    JSON_CHECK(spec_get_enum(root, "attention", source, "", attention_names, 2, &e), fail);
    if (rc_)
        t.attention = (uniap_attention)e;
    int dropout = 1;
    JSON_CHECK(spec_get_bool(root, "dropout", source, "", &dropout), fail);
    t.no_dropout = !dropout;
    JSON_CHECK(parse_ckpt_modes(root, source, &t.ckpt_modes), fail);
    JSON_CHECK(spec_get_enum(root, "grad_dtype", source, "", dtype_names, 3, &e), fail);
    if (rc_)
        t.grad_dtype = 1 + e;
    JSON_CHECK(spec_get_enum(root, "master_dtype", source, "", dtype_names, 3, &e), fail);
    if (rc_) {
        if (!m->mixed_precision)
            return uniap_err(UNIAP_EINVAL,
                             "%s: master_dtype: expected only with mixed_precision true (fp32 "
                             "training keeps no master copy), got \"%s\"",
                             source, dtype_names[e]);
        t.master_dtype = 1 + e;
    }
    JSON_CHECK(spec_get_enum(root, "optimizer", source, "", optimizer_names, 3, &e), fail);
    if (rc_)
        t.optimizer = (uniap_optimizer)e;
    JSON_CHECK(spec_get_enum(root, "fp8", source, "", fp8_names, 2, &e), fail);
    if (rc_)
        t.fp8 = e;
    return uniap_model_set_training(m, &t, source);
fail:
    return rc_;
}

int spec_training_to_json(const uniap_model *m, cJSON *root)
{
    const uniap_training *t = &m->training;
    uniap_training d;
    int ok = 1;

    uniap_training_default(&d);
    /* only what differs from the defaults: a default model's dump is
     * today's, byte for byte */
    if (t->attention != d.attention)
        ok &= cJSON_AddStringToObject(root, "attention", attention_names[t->attention]) != NULL;
    if (t->no_dropout)
        ok &= cJSON_AddBoolToObject(root, "dropout", 0) != NULL;
    if (uniap_training_ckpt_modes(t) != uniap_training_ckpt_modes(&d)) {
        cJSON *a = cJSON_AddArrayToObject(root, "checkpointing");
        ok &= a != NULL;
        for (int g = 0; a && g < UNIAP_CKPT_COUNT; g++)
            if (t->ckpt_modes & UNIAP_CKPT_BIT(g))
                cJSON_AddItemToArray(a, cJSON_CreateString(ckpt_names[g]));
    }
    if (t->grad_dtype > 0)
        ok &= cJSON_AddStringToObject(root, "grad_dtype", dtype_names[t->grad_dtype - 1]) != NULL;
    if (t->master_dtype > 0)
        ok &=
            cJSON_AddStringToObject(root, "master_dtype", dtype_names[t->master_dtype - 1]) != NULL;
    if (t->optimizer != d.optimizer)
        ok &= cJSON_AddStringToObject(root, "optimizer", optimizer_names[t->optimizer]) != NULL;
    if (t->fp8)
        ok &= cJSON_AddStringToObject(root, "fp8", fp8_names[1]) != NULL;
    return ok ? UNIAP_OK : uniap_err(UNIAP_ENOMEM, "model JSON: out of memory");
}
