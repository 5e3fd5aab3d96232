/*
 * import_amp.c - importer of AMP's published per-layer costs (the
 * DachengLi1/AMP repository's known_cost/<model>_<G4|P3>_<mp>.json, as
 * converted to JSON: {"values": [forward seconds per layer position]}) into
 * a uniap profile, provenance "imported:amp". Data only; no AMP code.
 *
 * SRC: the known_cost folder (or the folder above it), the machine's files
 * chosen from the cluster's device (T4: G4, the g4dn instances; V100: P3),
 * or one <model>_<G4|P3>_<mp>.json whose siblings of other mp are read too.
 * Layout of the GPT-2 files: 2 entries before the blocks (embedding), one
 * per block, 4 after (final norm and head): the embedding row gets the
 * first two, the head row the last four. AMP measured micro-batch 1 only;
 * what the files lack comes from the analytic model, as the notes say.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import_internal.h"

#define AMP_PRE  2    /* entries before the blocks */
#define AMP_POST 4    /* entries after them */
#define AMP_MAXT 16   /* tp degrees tried: 1, 2, 4, 8, 16 */
#define AMP_MAXB 1024 /* blocks a file may describe */

/* AMP's forward seconds at one mp: embedding, block mean, head, and each
 * block's own (pos[i]: the model's i-th block). */
typedef struct amp_tp {
    int tp;
    double emb, blk, head, blk_min, blk_max;
    double pos[AMP_MAXB];
} amp_tp;

typedef struct amp_set {
    amp_tp t[5];
    int n;
    char dir[1024], prefix[128], machine[8];
} amp_set;

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir, prefix and machine of the files to read, from src and the cluster. */
static int amp_locate(const char *src, const uniap_cluster *c, amp_set *s)
{
    const char *base = strrchr(src, '/'), *us;

    if (!is_dir(src)) { /* <dir>/<prefix>_<machine>_<mp>.json */
        base = base ? base + 1 : src;
        snprintf(s->dir, sizeof(s->dir), "%.*s", base == src ? 1 : (int)(base - src - 1),
                 base == src ? "." : src);
        const char *u2 = strrchr(base, '_');
        us = u2 ? u2 - 1 : NULL;
        while (us && us > base && *us != '_')
            us--;
        if (!u2 || !us || us == base || strcmp(base + strlen(base) - 5, ".json") != 0)
            return uniap_err(UNIAP_EINVAL,
                             "%s: an AMP known_cost file is named <model>_<G4|P3>_<mp>.json", src);
        snprintf(s->prefix, sizeof(s->prefix), "%.*s", (int)(us - base), base);
        snprintf(s->machine, sizeof(s->machine), "%.*s", (int)(u2 - us - 1), us + 1);
        return UNIAP_OK;
    }
    snprintf(s->dir, sizeof(s->dir), "%s/known_cost", src);
    if (!is_dir(s->dir))
        snprintf(s->dir, sizeof(s->dir), "%s", src);
    snprintf(s->prefix, sizeof(s->prefix), "gpt2");
    if (strstr(c->device_name, "T4"))
        snprintf(s->machine, sizeof(s->machine), "G4");
    else if (strstr(c->device_name, "V100"))
        snprintf(s->machine, sizeof(s->machine), "P3");
    else
        return uniap_err(UNIAP_EINVAL,
                         "%s: AMP measured on T4 (G4) and V100 (P3); cluster '%s' has device "
                         "'%s': give one known_cost file instead of the folder",
                         src, c->name, c->device_name);
    return UNIAP_OK;
}

/* Reads one file's values into t (n_blocks from the model's layout). */
static int amp_read(const char *path, int n_blocks, amp_tp *t)
{
    cJSON *js = NULL;
    int rc = cm_import_json(path, "an AMP known_cost file", &js);
    if (rc < 0)
        return rc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(js, "values");
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1, i = 0;
    const cJSON *e;
    if (n_blocks > AMP_MAXB) {
        rc = uniap_err(UNIAP_EINVAL, "%s: the model has %d blocks, at most %d supported", path,
                       n_blocks, AMP_MAXB);
        goto done;
    }
    if (n != AMP_PRE + n_blocks + AMP_POST) {
        rc = uniap_err(UNIAP_EFORMAT,
                       "%s: field 'values': expected an array of %d forward times (%d before the "
                       "blocks, one per block of the model's %d, %d after), got %s%d",
                       path, AMP_PRE + n_blocks + AMP_POST, AMP_PRE, n_blocks, AMP_POST,
                       n < 0 ? "no array" : "", n < 0 ? 0 : n);
        goto done;
    }
    t->emb = t->blk = t->head = 0;
    t->blk_min = INFINITY, t->blk_max = 0;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble) || e->valuedouble < 0 ||
            e->valuedouble > 1e3) {
            rc = uniap_err(UNIAP_EFORMAT, "%s: field 'values'[%d]: expected seconds in 0..1000",
                           path, i);
            goto done;
        }
        double x = e->valuedouble;
        if (i < AMP_PRE)
            t->emb += x;
        else if (i < AMP_PRE + n_blocks) {
            t->blk += x / n_blocks;
            t->pos[i - AMP_PRE] = x;
            t->blk_min = fmin(t->blk_min, x);
            t->blk_max = fmax(t->blk_max, x);
        } else
            t->head += x;
        i++;
    }
done:
    cJSON_Delete(js);
    return rc;
}

typedef struct amp_keep {
    const amp_set *s;
} amp_keep;

static const amp_tp *amp_at(const amp_set *s, int tp)
{
    for (int i = 0; i < s->n; i++)
        if (s->t[i].tp == tp)
            return &s->t[i];
    return NULL;
}

static int keep_measured_tp(const uniap_layer_prof *r, void *ctx)
{
    return amp_at(((amp_keep *)ctx)->s, r->tp) != NULL;
}

/* Scales the analytic rows of signature sig at tp to AMP's forward time at
 * micro-batch 1 (the analytic model's micro-batch shape kept); backward =
 * 2 x forward, AMP's own assumption. */
static void amp_scale(uniap_profile *p, const char *sig, int tp, double amp_fwd)
{
    double at1 = 0;
    for (int i = 0; i < p->n_layers; i++)
        if (p->layers[i].tp == tp && p->layers[i].micro_batch == 1 &&
            strcmp(p->layers[i].layer_type, sig) == 0)
            at1 = p->layers[i].fwd.median;
    for (int i = 0; i < p->n_layers; i++) {
        uniap_layer_prof *r = &p->layers[i];
        if (r->tp != tp || strcmp(r->layer_type, sig) != 0)
            continue;
        double f = at1 > 0 ? amp_fwd * r->fwd.median / at1 : amp_fwd * r->micro_batch;
        r->fwd.median = r->fwd.min = r->fwd.max = f;
        r->bwd.median = r->bwd.min = r->bwd.max = 2 * f;
        r->fwd.count = r->bwd.count = 1;
    }
}

/* A block's own time at t's tp (cm_import_positions): the signature row
 * (already scaled to AMP's mean) scaled to that block's AMP entry,
 * backward 2 x forward. */
static void amp_position(void *ctx, const uniap_layer_prof *row, int b, double *fwd, double *bwd)
{
    const amp_tp *t = ctx;
    *fwd = t->blk > 0 ? row->fwd.median * t->pos[b] / t->blk : 0.0;
    *bwd = 2 * *fwd;
}

/* Backward at tp > 1. AMP's forward there holds compute and the layer's
 * two tensor-parallel all-reduces (Megatron's g operators, Shoeybi et al.
 * 2019 s3); its backward holds twice the compute and the two all-reduces
 * of the f operators, the same bytes (ibid.), not twice both. The compute
 * share is the tp 1 time of the same row divided by tp (AMP's own tp 1
 * measurement, the GEMMs split evenly), at most the forward; the rest is
 * the all-reduces: bwd = 2 compute + (fwd - compute). */
static void amp_tp_backward(uniap_profile *p)
{
    for (int i = 0; i < p->n_layers; i++) {
        uniap_layer_prof *r = &p->layers[i];
        if (r->tp <= 1)
            continue;
        for (int j = 0; j < p->n_layers; j++) {
            const uniap_layer_prof *one = &p->layers[j];
            if (one->tp != 1 || one->micro_batch != r->micro_batch ||
                strcmp(one->layer_type, r->layer_type) != 0)
                continue;
            double f = r->fwd.median, compute = fmin(f, one->fwd.median / r->tp);
            r->bwd.median = r->bwd.min = r->bwd.max = 2 * compute + (f - compute);
            break;
        }
    }
}

static void amp_notes(const amp_set *s, const cm_import_layout *lo, cm_warnings *w)
{
    for (int i = 0; i < s->n; i++) {
        const amp_tp *t = &s->t[i];
        cm_warn(w,
                "tp %d: AMP's %d block entries differ by up to %.1f%% (%.3f..%.3f ms, mean "
                "%.3f ms): each is kept as the rows of its position (layer type "
                "'<signature>@<layer>'), the mean as the signature's",
                t->tp, lo->n_blocks, 100 * (t->blk_max / t->blk_min - 1), 1e3 * t->blk_min,
                1e3 * t->blk_max, 1e3 * t->blk);
    }
    cm_warn(w,
            "AMP's layout assumed: %d entries before the blocks summed into the embedding, %d "
            "after them into the head",
            AMP_PRE, AMP_POST);
    cm_warn(w, "backward = 2 x forward at tp 1 (AMP's own assumption: its files hold forward times "
               "only); at tp > 1, 2 x the compute share (the tp 1 time / tp) + the rest of the "
               "forward once (the backward's all-reduces move the forward's bytes)");
    cm_warn(w, "AMP measured micro-batch 1 only: other micro-batches scale it by the analytic "
               "model's ratio t(b) / t(1)");
    cm_warn(w, "AMP's tp > 1 times include the tensor-parallel all-reduces (its profiler times "
               "the Megatron layer with them): marked layer_times_include_tp_comm, so uniap "
               "adds no TP communication of its own");
}

static int amp_run(const uniap_model *m, const uniap_cluster *c, const char *src,
                   uniap_profile *out, cm_warnings *w)
{
    static const int mbs[] = {1, 2, 4, 8, 16, 32};
    cm_import_layout lo;
    amp_set s;
    char path[1200], sig[96];
    int rc;

    memset(&s, 0, sizeof(s));
    if ((rc = cm_import_layout_of(m, "amp", &lo)) < 0 || (rc = amp_locate(src, c, &s)) < 0)
        return rc;
    for (int tp = 1; tp <= AMP_MAXT; tp *= 2) {
        snprintf(path, sizeof(path), "%s/%s_%s_%d.json", s.dir, s.prefix, s.machine, tp);
        if (tp > 1 && !is_file(path))
            continue;
        if ((rc = amp_read(path, lo.n_blocks, &s.t[s.n])) < 0)
            return rc;
        s.t[s.n++].tp = tp;
    }
    if ((rc = cm_import_base(m, c, mbs, 6, "AMP", out, w)) < 0)
        return rc;
    amp_keep k = {&s};
    cm_import_filter(out, keep_measured_tp, &k);
    for (int i = 0; i < s.n; i++) {
        const amp_tp *t = &s.t[i];
        for (int u = 0; u < lo.first_block; u++) /* the entries shared evenly */
            if ((rc = cm_import_sig_at(m, u, sig, sizeof(sig))) == 0)
                amp_scale(out, sig, t->tp, t->emb / lo.first_block);
        amp_scale(out, lo.block_sig, t->tp, t->blk);
        if ((rc = cm_import_positions(out, &lo, "amp", t->tp, 0, amp_position, (void *)t)) < 0)
            return rc;
        int after = lo.n_layers - lo.first_block - lo.n_blocks;
        for (int u = lo.first_block + lo.n_blocks; u < lo.n_layers; u++)
            if ((rc = cm_import_sig_at(m, u, sig, sizeof(sig))) == 0)
                amp_scale(out, sig, t->tp, t->head / after);
    }
    char tps[64] = "";
    for (int i = 0; i < s.n; i++)
        snprintf(tps + strlen(tps), sizeof(tps) - strlen(tps), "%s%d", i ? "," : "", s.t[i].tp);
    cm_warn(w, "read %s/%s_%s_<mp>.json for mp %s; rows of other tp degrees omitted", s.dir,
            s.prefix, s.machine, tps);
    amp_tp_backward(out);
    amp_notes(&s, &lo, w);
    out->tp_comm_in_layers = 1;
    return UNIAP_OK;
}

const cm_importer cm_import_amp = {"amp",
                                   "AMP's known_cost folder (or the folder above it), or one "
                                   "<model>_<G4|P3>_<mp>.json",
                                   amp_run};
