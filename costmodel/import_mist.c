/*
 * import_mist.c - importer of Mist's per-operator latency cache (the
 * Dazz993/Mist repository's mist/node_database/cache_<GPU>/<op>.json: per
 * operator type one file, keyed by Mist's NodeSpec string of the op's
 * constants and input shapes and dtypes, each entry {"fwd": [mean, median,
 * std], "bwd": [...]} seconds: mist/node_database/database.py,
 * mist/utils/common.py process_benchmarking_results) into a uniap profile,
 * provenance "imported:mist". Data only; no Mist code.
 *
 * SRC: the cache_<GPU> folder, or the node_database folder above it (then
 * cache_<cluster device name, spaces as underscores>). A layer's forward
 * and backward are the sums of the ops Mist's GPT runs for it (the op
 * lists below, from Mist's mist/model/transformer.py, mha.py, gpt.py and
 * modules/embedding.py) at the model's shapes, for each tp degree and
 * micro-batch; a (tp, micro-batch) point becomes rows only when every op of
 * the embedding, the block and the head is in the cache. Memory columns and
 * collectives are the analytic model's, as the notes say.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import_internal.h"

#define MIST_MAXD   6  /* dims of a matched tensor */
#define MIST_MAXOPS 24 /* ops of one layer */
#define MIST_FILES  24 /* cache files read */
#define MIST_MAXTP  64 /* tp degrees tried: 1, 2, 4, .. 64 (7) */
#define MIST_MAXPTS (MIST_NMBS * 7)
static const int mist_mbs[] = {1, 2, 4, 8, 16, 32}; /* micro-batches tried */
#define MIST_NMBS 6
_Static_assert(sizeof(mist_mbs) / sizeof(mist_mbs[0]) == MIST_NMBS, "one count per micro-batch");

/* A tensor argument matched by name, shape and dtype (NULL: the model's). */
typedef struct mist_arg {
    const char *name, *dtype;
    int nd;
    long long d[MIST_MAXD];
} mist_arg;

/* One op of a layer: its cache file, role, how often the layer runs it,
 * the tensor arguments to match and a further substring its key holds. */
typedef struct mist_op {
    const char *file, *role;
    int count;
    mist_arg a[2];
    const char *attr;
} mist_op;

/* The cache files read so far (parsed once each). */
typedef struct mist_cache {
    char dir[1024];
    char name[MIST_FILES][96];
    cJSON *js[MIST_FILES];
    int n;
} mist_cache;

/* The shape of one (tp, micro-batch) point: micro-batch, sequence,
 * hidden, heads / tp, head width, ffn / tp, vocabulary / tp. */
typedef struct mist_shape {
    long long b, s, h, a, d, f, v;
    int tp, flash;
    const char *dt;    /* torch dtype name */
    char emb_attr[96]; /* the embedding's constants as the key spells them */
} mist_shape;

/* OP: an op of Mist's own modules (file "mist.modules.<f>"); T: a tensor
 * argument of the model's dtype with the dims given. */
#define OP(f, r, c, ...) ((mist_op){"mist.modules." f, r, c, __VA_ARGS__})
#define T(n, ...)                                                                                  \
    {                                                                                              \
        n, NULL, (int)(sizeof((long long[]){__VA_ARGS__}) / sizeof(long long)),                    \
        {                                                                                          \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }

/* The ops of Mist's GPT block (ParallelTransformerLayer, prenorm, no linear
 * biases, bias-dropout-add as dropout then add): the flash path, or the
 * eager one of SelfAttention.forward_fused_softmax. */
static int block_ops(const mist_shape *x, mist_op *o)
{
    long long b = x->b, s = x->s, h = x->h, a = x->a, d = x->d, ad = x->a * x->d;
    int n = 0;
    o[n++] = OP("layer_norm.layer_norm", "input and post-attention layernorm", 2,
                {T("x", b, s, h), T("weight", h)}, NULL);
    o[n++] = OP("fused_dense.fused_dense_func", "QKV projection", 1,
                {T("x", b, s, h), T("weight", 3 * ad, h)}, "'bias': None");
    if (x->flash)
        o[n++] = OP("flash_attn.flash_attn_qkvpacked_func", "flash attention", 1,
                    {T("qkv", b, s, 3, a, d)}, "'causal': True");
    else {
        o[n++] = (mist_op){"torch._C._TensorBase.unbind",
                           "q, k, v unbind",
                           1,
                           {T("input", b, s, 3, a, d)},
                           "'dim': 2"};
        o[n++] = (mist_op){"torch._C._TensorBase.transpose",
                           "q, k, v transpose",
                           3,
                           {T("input", b, s, a, d)},
                           "'dim0': 1, 'dim1': 2"};
        o[n++] = (mist_op){"torch._C._TensorBase.transpose",
                           "k transpose",
                           1,
                           {T("input", b, a, s, d)},
                           "'dim0': 2, 'dim1': 3"};
        o[n++] = (mist_op){"torch.baddbmm",
                           "scores Q K^T",
                           1,
                           {T("batch1", b * a, s, d), T("batch2", b * a, d, s)},
                           NULL};
        o[n++] = OP("fused_softmax.scaled_upper_triang_masked_softmax_fn", "causal softmax", 1,
                    {T("inputs", b * a, s, s)}, NULL);
        o[n++] = (mist_op){"torch.nn.modules.linear.Identity",
                           "attention dropout (p 0)",
                           1,
                           {T("input", b, a, s, s)},
                           NULL};
        o[n++] = (mist_op){
            "torch.bmm", "scores x V", 1, {T("input", b * a, s, s), T("mat2", b * a, s, d)}, NULL};
        o[n++] = (mist_op){"torch._C._TensorBase.transpose",
                           "context transpose",
                           1,
                           {T("input", b, a, s, d)},
                           "'dim0': 1, 'dim1': 2"};
    }
    o[n++] = OP("fused_dense.fused_dense_func", "attention output projection", 1,
                {T("x", b, s, ad), T("weight", h, ad)}, "'bias': None");
    o[n++] = (mist_op){
        "torch.nn.functional.dropout", "bias-dropout-add dropouts", 2, {T("input", b, s, h)}, NULL};
    o[n++] =
        (mist_op){"_operator.add", "residual adds", 2, {T("a", b, s, h), T("b", b, s, h)}, NULL};
    o[n++] = OP("fused_dense.fused_dense_func", "MLP fc1", 1,
                {T("x", b, s, h), T("weight", x->f, h)}, "'bias': None");
    o[n++] = (mist_op){"torch._C._nn.gelu", "GELU (tanh)", 1, {T("input", b, s, x->f)}, NULL};
    o[n++] = OP("fused_dense.fused_dense_func", "MLP fc2", 1,
                {T("x", b, s, x->f), T("weight", h, x->f)}, "'bias': None");
    o[n++] = (mist_op){
        "mist.utils.memory._make_viewless_tensor", "viewless output", 1, {T("inp", b, s, h)}, NULL};
    return n;
}

/* The embedding's ops (ParallelEmbedding: the token lookup and the
 * embedding dropout; the position lookup is not in Mist's cache). */
static int embedding_ops(const mist_shape *x, mist_op *o)
{
    int n = 0;
    o[n++] = OP("embedding.VocabParallelEmbedding", "token embedding", 1,
                {{"input", "int64", 2, {x->b, x->s}}}, x->emb_attr);
    o[n++] = (mist_op){"torch.nn.modules.dropout.Dropout",
                       "embedding dropout",
                       1,
                       {T("input", x->b, x->s, x->h)},
                       NULL};
    return n;
}

/* The head's ops (gpt.py post_language_model_processing: output layer,
 * fp16 cast, vocab-parallel cross entropy, mean), with the final
 * layernorm of uniap's head. */
static int head_ops(const mist_shape *x, mist_op *o)
{
    long long b = x->b, s = x->s, h = x->h, v = x->v;
    int n = 0;
    o[n++] =
        OP("layer_norm.layer_norm", "final layernorm", 1, {T("x", b, s, h), T("weight", h)}, NULL);
    o[n++] = OP("fused_dense.fused_dense_func", "output layer", 1,
                {T("x", b, s, h), T("weight", v, h)}, "'bias': None");
    o[n++] =
        (mist_op){"torch._C._TensorBase.half", "logits fp16 cast", 1, {T("self", b, s, v)}, NULL};
    o[n++] = OP("losses._vocab_parallel_cross_entropy", "cross entropy", 1,
                {T("vocab_parallel_logits", b * s, v)}, NULL);
    o[n++] = (mist_op){"torch._C._TensorBase.mean", "loss mean", 1, {T("input", b * s)}, NULL};
    return n;
}

/* "'name': TensorSpec(shape=(d0, d1), dtype=torch.<dt>" as Mist's keys
 * spell it (a Python tuple: "(d0,)" for one dim). */
static void arg_spec(const mist_arg *a, const char *dt, char *buf, size_t n)
{
    size_t o = (size_t)snprintf(buf, n, "'%s': TensorSpec(shape=(", a->name);
    for (int i = 0; i < a->nd && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? ", " : "", a->d[i]);
    if (o < n)
        snprintf(buf + o, n - o, "%s), dtype=torch.%s", a->nd == 1 ? "," : "",
                 a->dtype ? a->dtype : dt);
}

/* The op's shapes, for messages: "x (1, 2048, 2048), weight (6144, 2048)". */
static void op_desc(const mist_op *op, char *buf, size_t n)
{
    size_t o = 0;
    for (int k = 0; k < 2 && op->a[k].name && o < n; k++) {
        o += (size_t)snprintf(buf + o, n - o, "%s%s (", k ? ", " : "", op->a[k].name);
        for (int i = 0; i < op->a[k].nd && o < n; i++)
            o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? ", " : "", op->a[k].d[i]);
        if (o < n)
            o += (size_t)snprintf(buf + o, n - o, "%s)", op->a[k].nd == 1 ? "," : "");
    }
}

/* The cache file of op type name, read on first use; EIO/EFORMAT naming
 * its path. */
static int cache_file(mist_cache *c, const char *name, const cJSON **out)
{
    char path[1200];
    int rc;
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->name[i], name) == 0) {
            *out = c->js[i];
            return UNIAP_OK;
        }
    if (c->n == MIST_FILES)
        return uniap_err(UNIAP_EINVAL, "mist import: more than %d cache files", MIST_FILES);
    snprintf(path, sizeof(path), "%s/%s.json", c->dir, name);
    if ((rc = cm_import_json(path, "a Mist node_database cache file", &c->js[c->n])) < 0)
        return rc;
    snprintf(c->name[c->n], sizeof(c->name[0]), "%s", name);
    *out = c->js[c->n++];
    return UNIAP_OK;
}

/* 1 when the key's process group suits tp: an op without one runs
 * unsharded at any tp; 'process_group': None is a group of 1. */
static int key_tp_ok(const char *key, int tp)
{
    const char *p = strstr(key, "world_size=");
    if (!strstr(key, "'process_group'"))
        return 1;
    return (p ? atoi(p + strlen("world_size=")) : 1) == tp;
}

/* The median of entry.phase ([mean, median, std] seconds) into *out. */
static int entry_median(const char *dir, const char *file, const cJSON *e, const char *phase,
                        double *out)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, phase);
    for (int i = 0; i < 3; i++) {
        const cJSON *x = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 3 || !cJSON_IsNumber(x) ||
            !(x->valuedouble >= 0 && x->valuedouble <= 1e3))
            return uniap_err(UNIAP_EFORMAT,
                             "%s/%s.json: field '%.100s...'.'%s': expected [mean, median, std] "
                             "seconds in 0..1000",
                             dir, file, e->string ? e->string : "?", phase);
    }
    *out = cJSON_GetArrayItem(a, 1)->valuedouble;
    return UNIAP_OK;
}

/* Finds op at shape x: adds count x its medians to f, b; 1 when the cache
 * has no such entry, < 0 on bad input. */
static int op_find(mist_cache *c, const mist_op *op, const mist_shape *x, double *f, double *b)
{
    char spec[2][160];
    const cJSON *js, *e;
    double ef, eb;
    int rc;

    if ((rc = cache_file(c, op->file, &js)) < 0)
        return rc;
    for (int k = 0; k < 2; k++)
        if (op->a[k].name)
            arg_spec(&op->a[k], x->dt, spec[k], sizeof(spec[k]));
    cJSON_ArrayForEach(e, js)
    {
        const char *key = e->string;
        if (!key || (op->attr && !strstr(key, op->attr)) || !strstr(key, spec[0]) ||
            (op->a[1].name && !strstr(key, spec[1])) || !key_tp_ok(key, x->tp))
            continue;
        if ((rc = entry_median(c->dir, op->file, e, "fwd", &ef)) < 0 ||
            (rc = entry_median(c->dir, op->file, e, "bwd", &eb)) < 0)
            return rc;
        *f += op->count * ef;
        *b += op->count * eb;
        return 0;
    }
    return 1;
}

/* Sums ops[0..n) at x into fb; 1 with *miss the first op the cache lacks. */
static int ops_sum(mist_cache *c, const mist_op *ops, int n, const mist_shape *x, double *fb,
                   const mist_op **miss)
{
    fb[0] = fb[1] = 0;
    for (int i = 0; i < n; i++) {
        int rc = op_find(c, &ops[i], x, &fb[0], &fb[1]);
        if (rc != 0) {
            *miss = &ops[i];
            return rc;
        }
    }
    return 0;
}

/* One (tp, micro-batch) point: forward, backward of embedding, block, head. */
typedef struct mist_pt {
    int tp, mbs, ok;
    double emb[2], blk[2], head[2];
    mist_op miss; /* the first op the cache lacks (ok = 0) */
} mist_pt;

/* Sums the block, embedding and head of point pt at shape x (the block
 * first: its ops name a missing shape best). */
static int point_sum(mist_cache *c, const mist_shape *x, mist_pt *pt)
{
    mist_op ops[MIST_MAXOPS];
    const mist_op *miss = NULL;
    int rc;
    if ((rc = ops_sum(c, ops, block_ops(x, ops), x, pt->blk, &miss)) == 0 &&
        (rc = ops_sum(c, ops, embedding_ops(x, ops), x, pt->emb, &miss)) == 0)
        rc = ops_sum(c, ops, head_ops(x, ops), x, pt->head, &miss);
    if (rc < 0)
        return rc;
    pt->ok = rc == 0;
    if (miss) {
        pt->miss = *miss;
        pt->miss.attr = NULL; /* may point into x */
    }
    return UNIAP_OK;
}

/* The cache folder: src/cache_<device name, spaces as underscores> when
 * that folder exists (src is the node_database folder), else src itself
 * (noted when its name is another device's cache). */
static void mist_locate(const char *src, const uniap_cluster *c, mist_cache *mc, cm_warnings *w)
{
    char dev[80];
    struct stat st;

    snprintf(dev, sizeof(dev), "cache_%s", c->device_name);
    for (char *p = dev; *p; p++)
        *p = *p == ' ' ? '_' : *p;
    snprintf(mc->dir, sizeof(mc->dir), "%s/%s", src, dev);
    if (stat(mc->dir, &st) == 0 && S_ISDIR(st.st_mode))
        return;
    snprintf(mc->dir, sizeof(mc->dir), "%s", src);
    const char *base = strrchr(src, '/');
    base = base && base[1] ? base + 1 : src;
    if (strncmp(base, "cache_", 6) == 0 && strcmp(base, dev) != 0)
        cm_warn(w,
                "%s: Mist's cache of another device than cluster '%s''s '%s': its times are "
                "that device's",
                src, c->name, c->device_name);
}

/* The model's (first) block run. */
static const uniap_layer *mist_block(const uniap_model *m)
{
    for (int r = 0; r < m->n_runs; r++)
        if (uniap__cm_layer_kind(m->runs[r].kind)->role == CM_ROLE_BLOCK)
            return &m->runs[r];
    return NULL;
}

/* Refuses a model whose layers Mist's GPT op lists cannot describe. */
static int mist_check_model(const uniap_model *m, const cm_import_layout *lo)
{
    const uniap_layer *e = &m->runs[0], *h = &m->runs[m->n_runs - 1], *l = mist_block(m);
    if (e->kind != UNIAP_LAYER_EMBEDDING || e->count != 1 || h->kind != UNIAP_LAYER_HEAD ||
        h->count != 1 || lo->n_blocks != m->n_layers - 2)
        return uniap_err(UNIAP_EINVAL,
                         "mist import: model '%s' is not embedding, blocks, head (the layers of "
                         "Mist's GPT whose ops the cache holds)",
                         m->name);
    if (!l || l->kind != UNIAP_LAYER_DECODER || l->activation != UNIAP_ACT_GELU ||
        l->norm != UNIAP_NORM_LAYERNORM || l->kv_heads != l->heads ||
        l->position == UNIAP_POS_ROTARY || l->position == UNIAP_POS_RELATIVE)
        return uniap_err(UNIAP_EINVAL,
                         "mist import: model '%s' block '%s' is not Mist's GPT block (causal "
                         "decoder, GELU, LayerNorm, multi-head attention, no rotary positions): "
                         "the cache holds the ops of that block only",
                         m->name, lo->block_sig);
    return UNIAP_OK;
}

/* The shape of model m at (tp, micro-batch b). */
static void mist_shape_of(const uniap_model *m, int tp, int b, mist_shape *x)
{
    const uniap_layer *l = mist_block(m);
    memset(x, 0, sizeof(*x));
    x->tp = tp, x->b = b;
    x->s = l->seq ? l->seq : m->seq_len;
    x->h = l->hidden, x->a = l->heads / tp, x->d = l->head_dim, x->f = l->ffn / tp;
    x->v = m->runs[0].vocab / tp;
    x->flash = l->flash_attn;
    snprintf(x->emb_attr, sizeof(x->emb_attr), "'num_embeddings': %lld, 'embedding_dim': %lld",
             x->v, x->h);
    x->dt = m->act_dtype == UNIAP_DTYPE_BF16   ? "bfloat16"
            : m->act_dtype == UNIAP_DTYPE_FP16 ? "float16"
                                               : "float32";
}

/* Sums every (tp, micro-batch) point the model and cluster allow. */
static int mist_points(const uniap_model *m, const uniap_cluster *c, mist_cache *mc, mist_pt *pts,
                       int *n)
{
    const uniap_layer *l = mist_block(m);
    int N = uniap_cluster_devices(c), rc;
    *n = 0;
    for (int tp = 1; tp <= N && tp <= MIST_MAXTP; tp *= 2) {
        if (N % tp || l->heads % tp || l->ffn % tp || m->runs[0].vocab % tp)
            continue;
        for (int i = 0; i < MIST_NMBS; i++) {
            mist_shape x;
            mist_pt *pt = &pts[(*n)++];
            memset(pt, 0, sizeof(*pt));
            pt->tp = tp, pt->mbs = mist_mbs[i];
            mist_shape_of(m, tp, mist_mbs[i], &x);
            if ((rc = point_sum(mc, &x, pt)) < 0)
                return rc;
        }
    }
    return UNIAP_OK;
}

static const mist_pt *mist_at(const mist_pt *pts, int n, int tp, int mbs)
{
    for (int i = 0; i < n; i++)
        if (pts[i].ok && pts[i].tp == tp && pts[i].mbs == mbs)
            return &pts[i];
    return NULL;
}

typedef struct mist_keep {
    const mist_pt *pts;
    int n;
} mist_keep;

static int keep_complete(const uniap_layer_prof *r, void *ctx)
{
    const mist_keep *k = ctx;
    return mist_at(k->pts, k->n, r->tp, r->micro_batch) != NULL;
}

/* Sets the rows of signature sig at pt's point to fb (forward, backward). */
static void mist_set_rows(uniap_profile *p, const char *sig, const mist_pt *pt, const double *fb)
{
    for (int i = 0; i < p->n_layers; i++) {
        uniap_layer_prof *r = &p->layers[i];
        if (r->tp != pt->tp || r->micro_batch != pt->mbs || strcmp(r->layer_type, sig) != 0)
            continue;
        r->fwd.median = r->fwd.min = r->fwd.max = fb[0];
        r->bwd.median = r->bwd.min = r->bwd.max = fb[1];
        r->fwd.count = r->bwd.count = 1;
    }
}

/* One note per tp degree with points the cache lacks: which, and the
 * first op missing at the smallest of them. */
static void mist_missing_notes(const mist_pt *pts, int n, cm_warnings *w)
{
    for (int i = 0; i < n;) {
        int j = i, n_ok = 0;
        char mbs[96] = "", desc[200];
        const mist_pt *first = NULL;
        for (; j < n && pts[j].tp == pts[i].tp; j++) {
            n_ok += pts[j].ok;
            if (!pts[j].ok) {
                first = first ? first : &pts[j];
                snprintf(mbs + strlen(mbs), sizeof(mbs) - strlen(mbs), "%s%d", *mbs ? "," : "",
                         pts[j].mbs);
            }
        }
        if (first) {
            op_desc(&first->miss, desc, sizeof(desc));
            cm_warn(w,
                    "tp %d, micro-batch %s: no rows (%s): the cache has no %s entry with %s (the "
                    "%s at micro-batch %d)",
                    pts[i].tp, mbs, n_ok ? "other micro-batches have" : "no micro-batch has",
                    first->miss.file, desc, first->miss.role, first->mbs);
        }
        i = j;
    }
}

/* The op list of a layer at x, as "count x role" items, for the notes. */
static void ops_list(int (*ops_of)(const mist_shape *, mist_op *), const mist_shape *x, char *buf,
                     size_t n)
{
    mist_op ops[MIST_MAXOPS];
    int k = ops_of(x, ops);
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < k && o < n; i++) {
        const char *base = strrchr(ops[i].file, '.');
        o += (size_t)snprintf(buf + o, n - o, "%s%s%s (%s)", i ? ", " : "",
                              ops[i].count > 1 ? (ops[i].count == 2 ? "2 x " : "3 x ") : "",
                              base ? base + 1 : ops[i].file, ops[i].role);
    }
}

static void mist_notes(const uniap_model *m, const mist_cache *mc, const mist_pt *pts, int n,
                       cm_warnings *w)
{
    char list[1024], pl[256] = "";
    mist_shape x;
    int n_ok = 0;

    for (int i = 0; i < n; i++)
        if (pts[i].ok)
            snprintf(pl + strlen(pl), sizeof(pl) - strlen(pl), "%s%d/%d", n_ok++ ? " " : "",
                     pts[i].tp, pts[i].mbs);
    cm_warn(w, "read %s: %d (tp/micro-batch) points have every op in the cache: %s", mc->dir, n_ok,
            pl);
    mist_shape_of(m, 1, 1, &x);
    ops_list(block_ops, &x, list, sizeof(list));
    cm_warn(w, "a block is the sum of Mist's GPT block ops (%s attention): %s",
            x.flash ? "flash" : "eager", list);
    ops_list(embedding_ops, &x, list, sizeof(list));
    cm_warn(w,
            "the embedding is the sum of %s; the cache holds no position-embedding lookup nor "
            "its add: not counted",
            list);
    ops_list(head_ops, &x, list, sizeof(list));
    cm_warn(w,
            "the head is the sum of %s (Mist's GPT, prenorm, runs no final layernorm; "
            "uniap's head has one)",
            list);
    cm_warn(w, "each op's forward and backward are the median of Mist's [mean, median, std] "
               "(Mist's own estimate uses the mean), each op timed alone with the L2 cache "
               "flushed: no overlap or launch gaps between ops");
    cm_warn(w,
            "Mist's entries are of dropout p = 0 (attention dropout an Identity): the times "
            "stand for model '%s' whatever its dropout setting",
            m->name);
    mist_missing_notes(pts, n, w);
}

static int mist_run(const uniap_model *m, const uniap_cluster *c, const char *src,
                    uniap_profile *out, cm_warnings *w)
{
    mist_cache mc;
    mist_pt *pts = NULL;
    cm_import_layout lo;
    int n = 0, mbs[MIST_NMBS], n_mbs = 0, rc;
    char sig[96];

    memset(&mc, 0, sizeof(mc));
    if ((rc = cm_import_layout_of(m, "mist", &lo)) < 0 || (rc = mist_check_model(m, &lo)) < 0)
        return rc;
    mist_locate(src, c, &mc, w);
    if (!(pts = calloc(MIST_MAXPTS, sizeof(*pts)))) {
        rc = uniap_err(UNIAP_ENOMEM, "mist import: out of memory");
        goto done;
    }
    if ((rc = mist_points(m, c, &mc, pts, &n)) < 0)
        goto done;
    for (int i = 0; i < MIST_NMBS; i++)
        for (int j = 0; j < n; j++)
            if (pts[j].ok && pts[j].mbs == mist_mbs[i]) {
                mbs[n_mbs++] = mist_mbs[i];
                break;
            }
    if (n_mbs == 0) {
        char desc[200];
        op_desc(&pts[0].miss, desc, sizeof(desc));
        rc = uniap_err(UNIAP_EINVAL,
                       "mist import: %s: no %s entry with %s (the %s of model '%s' at tp 1, "
                       "micro-batch 1), and no (tp, micro-batch) point has all its ops: the "
                       "cache describes another model",
                       mc.dir, pts[0].miss.file, desc, pts[0].miss.role, m->name);
        goto done;
    }
    if ((rc = cm_import_base(m, c, mbs, n_mbs, "Mist", out, w)) < 0)
        goto done;
    mist_keep k = {pts, n};
    cm_import_filter(out, keep_complete, &k);
    for (int i = 0; i < n; i++) {
        if (!pts[i].ok)
            continue;
        for (int u = 0; u < lo.n_layers; u++) {
            if ((rc = cm_import_sig_at(m, u, sig, sizeof(sig))) < 0)
                goto done;
            mist_set_rows(out, sig, &pts[i],
                          u == 0                 ? pts[i].emb
                          : u == lo.n_layers - 1 ? pts[i].head
                                                 : pts[i].blk);
        }
    }
    mist_notes(m, &mc, pts, n, w);
done:
    for (int i = 0; i < mc.n; i++)
        cJSON_Delete(mc.js[i]);
    free(pts);
    return rc;
}

const cm_importer cm_import_mist = {
    "mist",
    "Mist's node_database/cache_<GPU> folder, or the node_database folder (cache_ of the "
    "cluster's device)",
    mist_run};
