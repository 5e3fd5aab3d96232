/*
 * import_sailor.c - importer of Sailor's published per-layer profiles (the
 * eth-easl/sailor repository's Planner/sailor_planner/profiles/<model>/
 * <gpu>/profile.json: {mbs: {tp: {layer: [fwd_s, bwd_s, update_s]}}},
 * layer 0 the embedding, the last the head) into a uniap profile,
 * provenance "imported:sailor". Data only; no Sailor code.
 *
 * SRC: the profile.json, or the folder holding it. Every (micro-batch, tp)
 * Sailor measured becomes the forward and backward of the model's rows at
 * that point; points Sailor lacks are left out.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import_internal.h"

#define SAILOR_MAX_MBS 16

/* One (mbs, tp) entry: embedding, block mean, head, block spread, and
 * each block's own fwd/bwd (pos[2 b], pos[2 b + 1]; malloc'd). */
typedef struct sailor_pt {
    int mbs, tp;
    double emb[2], blk[2], head[2], spread;
    double *pos;
} sailor_pt;

typedef struct sailor_set {
    sailor_pt *pt;
    int n, cap;
} sailor_set;

static int num_key(const char *k, int *out)
{
    char *end;
    long v = strtol(k, &end, 10);
    *out = (int)v;
    return *end == '\0' && v >= 1 && v <= 1 << 20 ? 0 : -1;
}

/* Reads the layer object of one (mbs, tp) into pt. */
static int sailor_layers(const char *path, const cJSON *lay, int n_blocks, sailor_pt *pt)
{
    int n = cJSON_GetArraySize(lay);
    double bmin = INFINITY, bmax = 0;

    if (n_blocks < 1 || !(pt->pos = calloc(2 * (size_t)n_blocks, sizeof(double))))
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory", path);

    if (!cJSON_IsObject(lay) || n != n_blocks + 2)
        return uniap_err(UNIAP_EFORMAT,
                         "%s: field '%d'.'%d': expected %d layers (embedding, the model's %d "
                         "blocks, head), got %d",
                         path, pt->mbs, pt->tp, n_blocks + 2, n_blocks, n);
    for (int i = 0; i < n; i++) {
        char key[16];
        snprintf(key, sizeof(key), "%d", i);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(lay, key);
        const cJSON *f = cJSON_GetArrayItem(e, 0), *b = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsArray(e) || !cJSON_IsNumber(f) || !cJSON_IsNumber(b) ||
            !(f->valuedouble >= 0 && f->valuedouble < 1e3) ||
            !(b->valuedouble >= 0 && b->valuedouble < 1e3))
            return uniap_err(UNIAP_EFORMAT,
                             "%s: field '%d'.'%d'.'%s': expected [fwd_s, bwd_s, update_s] with "
                             "seconds in 0..1000",
                             path, pt->mbs, pt->tp, key);
        double *d = i == 0 ? pt->emb : i == n - 1 ? pt->head : pt->blk;
        double wgt = i == 0 || i == n - 1 ? 1.0 : 1.0 / n_blocks;
        d[0] += wgt * f->valuedouble;
        d[1] += wgt * b->valuedouble;
        if (i > 0 && i < n - 1) {
            pt->pos[2 * (i - 1)] = f->valuedouble;
            pt->pos[2 * (i - 1) + 1] = b->valuedouble;
            bmin = fmin(bmin, f->valuedouble + b->valuedouble);
            bmax = fmax(bmax, f->valuedouble + b->valuedouble);
        }
    }
    pt->spread = bmin > 0 ? bmax / bmin - 1 : 0;
    return UNIAP_OK;
}

static int sailor_read(const char *path, int n_blocks, sailor_set *s)
{
    cJSON *js = NULL, *mb, *tp;
    int rc = cm_import_json(path, "a Sailor profile.json", &js);
    if (rc < 0)
        return rc;
    cJSON_ArrayForEach(mb, js) cJSON_ArrayForEach(tp, mb)
    {
        sailor_pt pt = {0};
        if (num_key(mb->string, &pt.mbs) < 0 || num_key(tp->string, &pt.tp) < 0) {
            rc = uniap_err(UNIAP_EFORMAT,
                           "%s: field '%s'.'%s': expected {micro-batch: {tp: {layer: [...]}}} "
                           "with positive integer keys",
                           path, mb->string, tp->string);
            goto done;
        }
        if ((rc = sailor_layers(path, tp, n_blocks, &pt)) < 0) {
            free(pt.pos);
            goto done;
        }
        if (s->n == s->cap) {
            sailor_pt *g = realloc(s->pt, sizeof(*g) * (size_t)(s->cap = s->cap ? 2 * s->cap : 16));
            if (!g) {
                free(pt.pos);
                rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory", path);
                goto done;
            }
            s->pt = g;
        }
        s->pt[s->n++] = pt;
    }
    if (s->n == 0)
        rc = uniap_err(UNIAP_EFORMAT, "%s: no {micro-batch: {tp: ...}} entries", path);
done:
    cJSON_Delete(js);
    return rc;
}

static const sailor_pt *sailor_at(const sailor_set *s, int mbs, int tp)
{
    for (int i = 0; i < s->n; i++)
        if (s->pt[i].mbs == mbs && s->pt[i].tp == tp)
            return &s->pt[i];
    return NULL;
}

static int keep_measured(const uniap_layer_prof *r, void *ctx)
{
    return sailor_at(ctx, r->micro_batch, r->tp) != NULL;
}

/* Sets the rows of m's layer u at pt's point. */
static void sailor_set_rows(uniap_profile *p, const char *sig, const sailor_pt *pt,
                            const double *fb, double share)
{
    for (int i = 0; i < p->n_layers; i++) {
        uniap_layer_prof *r = &p->layers[i];
        if (r->tp != pt->tp || r->micro_batch != pt->mbs || strcmp(r->layer_type, sig) != 0)
            continue;
        r->fwd.median = r->fwd.min = r->fwd.max = fb[0] * share;
        r->bwd.median = r->bwd.min = r->bwd.max = fb[1] * share;
        r->fwd.count = r->bwd.count = 1;
    }
}

/* A block's own fwd and bwd at pt's point (cm_import_positions). */
static void sailor_position(void *ctx, const uniap_layer_prof *row, int b, double *fwd, double *bwd)
{
    const sailor_pt *pt = ctx;
    (void)row;
    *fwd = pt->pos[2 * b];
    *bwd = pt->pos[2 * b + 1];
}

static int sailor_run(const uniap_model *m, const uniap_cluster *c, const char *src,
                      uniap_profile *out, cm_warnings *w)
{
    cm_import_layout lo;
    sailor_set s = {0};
    struct stat st;
    char path[1200], sig[96];
    int mbs[SAILOR_MAX_MBS], n_mbs = 0, rc;
    double spread = 0;

    if ((rc = cm_import_layout_of(m, "sailor", &lo)) < 0)
        return rc;
    snprintf(path, sizeof(path), "%s%s", src,
             stat(src, &st) == 0 && S_ISDIR(st.st_mode) ? "/profile.json" : "");
    if ((rc = sailor_read(path, lo.n_blocks, &s)) < 0)
        goto done;
    for (int i = 0; i < s.n; i++) {
        int k = 0;
        while (k < n_mbs && mbs[k] != s.pt[i].mbs)
            k++;
        if (k == n_mbs && n_mbs < SAILOR_MAX_MBS)
            mbs[n_mbs++] = s.pt[i].mbs;
        spread = fmax(spread, s.pt[i].spread);
    }
    if ((rc = cm_import_base(m, c, mbs, n_mbs, "Sailor", out, w)) < 0)
        goto done;
    cm_import_filter(out, keep_measured, &s);
    int after = lo.n_layers - lo.first_block - lo.n_blocks;
    for (int i = 0; i < s.n; i++)
        for (int u = 0; u < lo.n_layers; u++) {
            if ((rc = cm_import_sig_at(m, u, sig, sizeof(sig))) < 0)
                goto done;
            if (u < lo.first_block)
                sailor_set_rows(out, sig, &s.pt[i], s.pt[i].emb, 1.0 / lo.first_block);
            else if (u >= lo.first_block + lo.n_blocks)
                sailor_set_rows(out, sig, &s.pt[i], s.pt[i].head, 1.0 / after);
            else
                sailor_set_rows(out, sig, &s.pt[i], s.pt[i].blk, 1.0);
        }
    for (int i = 0; i < s.n; i++)
        if ((rc = cm_import_positions(out, &lo, "sailor", s.pt[i].tp, s.pt[i].mbs, sailor_position,
                                      &s.pt[i])) < 0)
            goto done;
    /* Sailor times the Megatron layer with its tensor-parallel all-reduces */
    out->tp_comm_in_layers = 1;
    cm_warn(w,
            "%s: %d (micro-batch, tp) points read; Sailor's block entries differ by up to %.1f%% "
            "(fwd + bwd): each block is kept as the rows of its position (layer type "
            "'<signature>@<layer>'), their mean as the signature's",
            path, s.n, 100 * spread);
    cm_warn(w, "Sailor's tp > 1 times include the layer's tensor-parallel all-reduces (its "
               "profiler times the Megatron layer): marked layer_times_include_tp_comm");
    cm_warn(w, "Sailor's layer 0 is the embedding (shared by the model's layers before the "
               "blocks), its last the head (shared by those after them)");
    cm_warn(w, "Sailor's update_s (the optimizer step) is not imported: uniap costs the step "
               "itself");
done:
    for (int i = 0; i < s.n; i++)
        free(s.pt[i].pos);
    free(s.pt);
    return rc;
}

const cm_importer cm_import_sailor = {
    "sailor", "Sailor's profiles/<model>/<gpu>/ folder or its profile.json", sailor_run};
