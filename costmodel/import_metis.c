/*
 * import_metis.c - importer of Metis's published per-layer profiles (the
 * SamsungLabs/Metis repository's profile_data_samples/
 * DeviceType.<device>_tp<t>_bs<b>.json, layout of Metis's README "Profile
 * Data Structure": per layer the forward + backward milliseconds, a
 * parameter figure and the memory in MB) into a uniap profile, provenance
 * "imported:metis". Data only; no Metis code.
 *
 * SRC: the folder of those files (the cluster's device's files read), or
 * one file (its device's files of every tp and bs in its folder read).
 * Layer 0 of Metis is the embedding, 1 .. num_layers-2 the blocks, the last
 * the head; each file is one (tp, micro-batch) point (Metis's README:
 * micro-batch, batch and global batch are the same value). Every block
 * keeps its own time as the rows of its position (profile format 1.2), the
 * mean as the signature's. Memory columns and collectives are the analytic
 * model's, as the notes say.
 */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import_internal.h"

#define METIS_MAXB  256 /* blocks a file may describe */
#define METIS_MAXPT 64  /* (tp, bs) files read */
/* The sequence length of Metis's GPT profiles: scripts/cost_het_cluster.sh
 * (SamsungLabs/Metis, GPT MODEL_SIZE 1.5B: SEQUENCE_LENGTH=1024,
 * HIDDEN_SIZE=4096, NUM_LAYERS=10, VOCAB_SIZE=51200); the files do not
 * carry it. */
#define METIS_SEQ 1024
/* Forward share of Metis's forward + backward time: 1 : 2, the GEMM FLOPs
 * (the backward computes the data and the weight gradient, each as many
 * FLOPs as the forward; Narayanan et al. 2021 s5.1). */
#define METIS_FWD_SHARE (1.0 / 3.0)
/* Largest relative gap between the files' block parameter figure and the
 * model's block parameter count accepted as the same shape. */
#define METIS_PARAM_TOL 0.02

/* One file: seconds of forward + backward per layer, the block spread and
 * the figures the notes quote (< 0: absent). */
typedef struct metis_pt {
    int tp, mbs;
    double emb, head, blk, blk_min, blk_max;
    double pos[METIS_MAXB];
    double fb_ms, opt_ms;     /* forward_backward_time_ms, optimizer_time_ms */
    double mem_emb, mem_blk;  /* layer_memory_total_mb[0], [1] */
    double blk_param, n_pars; /* parameters_per_layer_bytes[1], the model's count */
} metis_pt;

typedef struct metis_set {
    metis_pt *pt;
    int n;
    char dir[1024], dev[32];
} metis_set;

/* Parses "DeviceType.<dev>_tp<t>_bs<b>.json"; 0 on a match. */
static int metis_name(const char *base, char *dev, size_t n, int *tp, int *bs)
{
    char d[32];
    int end = -1;
    if (sscanf(base, "DeviceType.%31[^_]_tp%d_bs%d.json%n", d, tp, bs, &end) != 3 || end < 0 ||
        base[end] != '\0' || *tp < 1 || *bs < 1)
        return -1;
    snprintf(dev, n, "%s", d);
    return 0;
}

/* 1 when the cluster's device name contains dev (case-insensitive). */
static int dev_matches(const uniap_cluster *c, const char *dev)
{
    size_t n = strlen(dev);
    for (const char *p = c->device_name; n && *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)dev[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* dir and device of the files to read, from src and the cluster. */
static int metis_locate(const char *src, const uniap_cluster *c, metis_set *s)
{
    char found[256] = "", dev[32];
    struct stat st;
    int tp, bs;

    if (stat(src, &st) != 0)
        return uniap_err(UNIAP_EIO, "%s: cannot read: no such Metis profile file or folder", src);
    if (!S_ISDIR(st.st_mode)) {
        const char *base = strrchr(src, '/');
        base = base ? base + 1 : src;
        if (metis_name(base, s->dev, sizeof(s->dev), &tp, &bs) < 0)
            return uniap_err(
                UNIAP_EINVAL,
                "%s: a Metis profile file is named DeviceType.<device>_tp<t>_bs<b>.json", src);
        snprintf(s->dir, sizeof(s->dir), "%.*s", base == src ? 1 : (int)(base - src - 1),
                 base == src ? "." : src);
        return UNIAP_OK;
    }
    snprintf(s->dir, sizeof(s->dir), "%s", src);
    DIR *d = opendir(src);
    if (!d)
        return uniap_err(UNIAP_EIO, "%s: cannot list the folder", src);
    for (struct dirent *e; (e = readdir(d));) {
        if (metis_name(e->d_name, dev, sizeof(dev), &tp, &bs) < 0)
            continue;
        if (dev_matches(c, dev))
            snprintf(s->dev, sizeof(s->dev), "%s", dev);
        else if (!strstr(found, dev) && strlen(found) + strlen(dev) + 2 < sizeof(found))
            snprintf(found + strlen(found), sizeof(found) - strlen(found), "%s%s",
                     *found ? ", " : "", dev);
    }
    closedir(d);
    if (!*s->dev)
        return uniap_err(UNIAP_EINVAL,
                         "%s: no DeviceType.<device>_tp<t>_bs<b>.json of cluster '%s''s device "
                         "'%s' (devices found: %s): give one file to import that device's",
                         src, c->name, c->device_name, *found ? found : "none");
    return UNIAP_OK;
}

/* Reads array parent.name of obj (named pre + parent in messages) of n
 * numbers in lo..hi into out (scaled). */
static int metis_array(const char *path, const cJSON *obj, const char *pre, const char *parent,
                       const char *name, int n, double lo, double hi, double scale, double *out)
{
    const cJSON *a =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, parent), name);
    int got = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : -1;
    if (got != n)
        return uniap_err(UNIAP_EFORMAT,
                         "%s: field %s'%s'.'%s': expected an array of %d numbers (one per "
                         "layer of 'model'.'num_layers'), got %s%d",
                         path, pre, parent, name, n, got < 0 ? "no array, " : "",
                         got < 0 ? 0 : got);
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsNumber(e) || !(e->valuedouble >= lo && e->valuedouble <= hi))
            return uniap_err(UNIAP_EFORMAT,
                             "%s: field %s'%s'.'%s'[%d]: expected a number in %g..%g", path, pre,
                             parent, name, i, lo, hi);
        out[i] = e->valuedouble * scale;
    }
    return UNIAP_OK;
}

/* An optional number parent.name (> 0), or -1. */
static double metis_opt(const cJSON *js, const char *parent, const char *name)
{
    const cJSON *e =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(js, parent), name);
    return cJSON_IsNumber(e) && e->valuedouble > 0 && isfinite(e->valuedouble) ? e->valuedouble
                                                                               : -1;
}

/* Reads one file into pt: the layer count the model's layout gives, the
 * times, the figures of the notes. */
static int metis_read(const char *path, const char *model_name, const cm_import_layout *lo,
                      metis_pt *pt)
{
    cJSON *js = NULL;
    int n = lo->n_blocks + 2, rc;
    double *v = malloc(sizeof(double) * (size_t)n * 3);

    if (!v)
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory", path);
    if ((rc = cm_import_json(path, "a Metis DeviceType.*.json profile", &js)) < 0)
        goto done;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(js, "model");
    const cJSON *nl = cJSON_GetObjectItemCaseSensitive(model, "num_layers");
    if (!cJSON_IsNumber(nl) || !(nl->valuedouble >= 3 && nl->valuedouble <= 1e6)) {
        rc = uniap_err(UNIAP_EFORMAT,
                       "%s: field 'model'.'num_layers': expected the layer count (embedding, "
                       "blocks, head: 3 or more)",
                       path);
        goto done;
    }
    if (nl->valuedouble != n) {
        rc = uniap_err(UNIAP_EINVAL,
                       "%s: field 'model'.'num_layers' = %g: %g blocks, but model '%s' has %d "
                       "blocks (%d layers with the embedding and the head expected): the files "
                       "describe another model",
                       path, nl->valuedouble, nl->valuedouble - 2, model_name, lo->n_blocks, n);
        goto done;
    }
    if ((rc = metis_array(path, model, "'model'.", "parameters", "parameters_per_layer_bytes", n, 1,
                          1e15, 1.0, v)) < 0 ||
        (rc = metis_array(path, js, "", "execution_time", "layer_compute_total_ms", n, 0, 1e6, 1e-3,
                          v + n)) < 0)
        goto done;
    pt->blk_param = v[1];
    pt->emb = v[n];
    pt->head = v[2 * n - 1];
    pt->blk = 0, pt->blk_min = INFINITY, pt->blk_max = 0;
    for (int b = 0; b < lo->n_blocks; b++) {
        double x = v[n + 1 + b];
        pt->pos[b] = x;
        pt->blk += x / lo->n_blocks;
        pt->blk_min = fmin(pt->blk_min, x);
        pt->blk_max = fmax(pt->blk_max, x);
    }
    pt->fb_ms = metis_opt(js, "execution_time", "forward_backward_time_ms");
    pt->opt_ms = metis_opt(js, "execution_time", "optimizer_time_ms");
    pt->mem_emb = pt->mem_blk = -1;
    if (metis_array(path, js, "", "execution_memory", "layer_memory_total_mb", n, 0, 1e9, 1.0,
                    v + 2 * n) == 0)
        pt->mem_emb = v[2 * n], pt->mem_blk = v[2 * n + 1];
    else
        uniap_err_clear(); /* optional: quoted by the notes only */
done:
    free(v);
    cJSON_Delete(js);
    return rc;
}

/* The model's block run (the layout's). */
static const uniap_layer *block_run(const uniap_model *m)
{
    for (int r = 0; r < m->n_runs; r++)
        if (uniap__cm_layer_kind(m->runs[r].kind)->role == CM_ROLE_BLOCK)
            return &m->runs[r];
    return NULL;
}

/* Refuses a model whose block shape the file's parameter figure or Metis's
 * sequence length contradicts, naming both. */
static int metis_check_model(const char *path, const uniap_model *m, const cm_import_layout *lo,
                             metis_pt *pt)
{
    const uniap_layer *l = block_run(m);
    double P = l ? (double)uniap_layer_params(l) : 0;
    int64_t seq = l && l->seq ? l->seq : m->seq_len;

    pt->n_pars = P;
    if (lo->first_block < 1 || lo->first_block + lo->n_blocks >= lo->n_layers)
        return uniap_err(UNIAP_EINVAL,
                         "metis import: model '%s' needs layers before and after its blocks "
                         "(Metis's layer 0 is the embedding, its last the head)",
                         m->name);
    if (!(P > 0) || fabs(pt->blk_param / P - 1) > METIS_PARAM_TOL)
        return uniap_err(UNIAP_EINVAL,
                         "%s: field 'model'.'parameters'.'parameters_per_layer_bytes'[1] = %.0f "
                         "is a block of hidden about %.0f (12 h^2), but model '%s' has blocks of "
                         "%.0f parameters (hidden %lld, ffn %lld): the files describe another "
                         "model",
                         path, pt->blk_param, sqrt(pt->blk_param / 12), m->name, P,
                         l ? (long long)l->hidden : 0LL, l ? (long long)l->ffn : 0LL);
    if (seq != METIS_SEQ)
        return uniap_err(UNIAP_EINVAL,
                         "metis import: model '%s' has sequence length %lld; Metis profiled its "
                         "GPT at %d (Metis's scripts/cost_het_cluster.sh, the model of these "
                         "files)",
                         m->name, (long long)seq, METIS_SEQ);
    return UNIAP_OK;
}

static int pt_cmp(const void *a, const void *b)
{
    const metis_pt *x = a, *y = b;
    return x->tp != y->tp ? (x->tp > y->tp) - (x->tp < y->tp)
                          : (x->mbs > y->mbs) - (x->mbs < y->mbs);
}

/* Reads every file of s->dev in s->dir, sorted by tp then micro-batch. */
static int metis_read_all(const uniap_model *m, const cm_import_layout *lo, metis_set *s)
{
    char dev[32], path[1400];
    int tp, bs, rc = UNIAP_OK;
    DIR *d = opendir(s->dir);

    if (!d)
        return uniap_err(UNIAP_EIO, "%s: cannot list the folder", s->dir);
    for (struct dirent *e; (e = readdir(d));) {
        if (metis_name(e->d_name, dev, sizeof(dev), &tp, &bs) < 0 || strcmp(dev, s->dev) != 0)
            continue;
        if (s->n == METIS_MAXPT) {
            rc = uniap_err(UNIAP_EINVAL, "%s: more than %d Metis files of device %s", s->dir,
                           METIS_MAXPT, s->dev);
            break;
        }
        metis_pt *pt = &s->pt[s->n];
        memset(pt, 0, sizeof(*pt));
        pt->tp = tp, pt->mbs = bs;
        snprintf(path, sizeof(path), "%s/%s", s->dir, e->d_name);
        if ((rc = metis_read(path, m->name, lo, pt)) < 0 ||
            (rc = metis_check_model(path, m, lo, pt)) < 0)
            break;
        s->n++;
    }
    closedir(d);
    if (rc == 0 && s->n == 0)
        rc = uniap_err(UNIAP_EIO, "%s: no DeviceType.%s_tp<t>_bs<b>.json files", s->dir, s->dev);
    if (rc == 0)
        qsort(s->pt, (size_t)s->n, sizeof(*s->pt), pt_cmp);
    return rc;
}

static const metis_pt *metis_at(const metis_set *s, int tp, int mbs)
{
    for (int i = 0; i < s->n; i++)
        if (s->pt[i].tp == tp && s->pt[i].mbs == mbs)
            return &s->pt[i];
    return NULL;
}

static int keep_measured(const uniap_layer_prof *r, void *ctx)
{
    return metis_at(ctx, r->tp, r->micro_batch) != NULL;
}

/* Sets the forward and backward of the rows of signature sig at pt's point
 * from fb seconds of forward + backward (split 1 : 2). */
static void metis_set_rows(uniap_profile *p, const char *sig, const metis_pt *pt, double fb)
{
    for (int i = 0; i < p->n_layers; i++) {
        uniap_layer_prof *r = &p->layers[i];
        if (r->tp != pt->tp || r->micro_batch != pt->mbs || strcmp(r->layer_type, sig) != 0)
            continue;
        r->fwd.median = r->fwd.min = r->fwd.max = METIS_FWD_SHARE * fb;
        r->bwd.median = r->bwd.min = r->bwd.max = (1 - METIS_FWD_SHARE) * fb;
        r->fwd.count = r->bwd.count = 1;
    }
}

/* A block's own time at pt's point (cm_import_positions), split 1 : 2. */
static void metis_position(void *ctx, const uniap_layer_prof *row, int b, double *fwd, double *bwd)
{
    const metis_pt *pt = ctx;
    (void)row;
    *fwd = METIS_FWD_SHARE * pt->pos[b];
    *bwd = (1 - METIS_FWD_SHARE) * pt->pos[b];
}

/* The first layer whose memory figure falls as the micro-batch grows at
 * one tp (evidence that the figure is the allocator's reserve), or NULL. */
static const metis_pt *metis_nonmonotone(const metis_set *s, const metis_pt **prev)
{
    for (int i = 1; i < s->n; i++) {
        const metis_pt *a = &s->pt[i - 1], *b = &s->pt[i];
        if (a->tp == b->tp && a->mem_emb > 0 && b->mem_emb > 0 &&
            (b->mem_emb < a->mem_emb || b->mem_blk < a->mem_blk)) {
            *prev = a;
            return b;
        }
    }
    return NULL;
}

static void metis_notes(const metis_set *s, const cm_import_layout *lo, const uniap_cluster *c,
                        cm_warnings *w)
{
    const metis_pt *p0 = &s->pt[0], *pa = NULL, *pb = metis_nonmonotone(s, &pa);
    double spread = 0;
    char pts[256] = "";

    for (int i = 0; i < s->n; i++) {
        spread = fmax(spread, s->pt[i].blk_max / s->pt[i].blk_min - 1);
        snprintf(pts + strlen(pts), sizeof(pts) - strlen(pts), "%s%d/%d", i ? " " : "", s->pt[i].tp,
                 s->pt[i].mbs);
    }
    cm_warn(w,
            "read %s/DeviceType.%s_tp<t>_bs<b>.json, (tp/micro-batch) %s; Metis's bs is the "
            "micro-batch (its README: micro-batch, batch and global batch the same); rows of "
            "other points omitted",
            s->dir, s->dev, pts);
    if (!dev_matches(c, s->dev))
        cm_warn(w, "Metis measured on %s; cluster '%s' has device '%s': the times are %s's", s->dev,
                c->name, c->device_name, s->dev);
    cm_warn(w, "forward : backward = 1 : 2 of Metis's layer_compute_total_ms (forward + backward; "
               "the GEMM FLOPs: a backward computes the data and the weight gradients)");
    cm_warn(w,
            "Metis's %d block entries differ by up to %.1f%% in a file: each is kept as the rows "
            "of its position (layer type '<signature>@<layer>'), their mean as the signature's",
            lo->n_blocks, 100 * spread);
    cm_warn(w, "Metis's layer 0 is the embedding (shared by the model's layers before the blocks), "
               "its last the head (shared by those after them)");
    cm_warn(w, "Metis's tp > 1 times are of Megatron layers with their tensor-parallel all-reduces "
               "(hooks around each layer): marked layer_times_include_tp_comm, so uniap adds no TP "
               "communication of its own");
    cm_warn(w,
            "parameters_per_layer_bytes: the block figure %.0f is within %.1f%% of the model's "
            "%.0f block parameters (half its fp16 bytes): read as a parameter count, used only "
            "to check the model's shape; sequence length %d from Metis's "
            "scripts/cost_het_cluster.sh (the files do not carry it); heads and vocabulary are "
            "not checked (the files do not determine them)",
            p0->blk_param, 100 * fabs(p0->blk_param / p0->n_pars - 1), p0->n_pars, METIS_SEQ);
    if (pb)
        cm_warn(w,
                "layer_memory_total_mb is torch.cuda.max_memory_reserved after each layer "
                "(Metis's README: activations, gradients and optimizer states together) and falls "
                "as the micro-batch grows (tp %d: embedding %.0f MB at bs %d, %.0f MB at bs %d): "
                "not separable into uniap's columns, so the activation, peak and parameter bytes "
                "and the collectives are uniap's analytic model of cluster '%s'",
                pb->tp, pa->mem_emb, pa->mbs, pb->mem_emb, pb->mbs, c->name);
    else
        cm_warn(w,
                "layer_memory_total_mb (torch.cuda.max_memory_reserved after each layer: "
                "activations, gradients and optimizer states together) is not separable into "
                "uniap's columns: the activation, peak and parameter bytes and the collectives "
                "are uniap's analytic model of cluster '%s'",
                c->name);
    if (p0->fb_ms > 0)
        cm_warn(w,
                "tp %d, micro-batch %d: the layer times sum to %.1f%% of Metis's "
                "forward_backward_time_ms (%.1f ms; the rest, loss and gaps between layers, is "
                "in no row); optimizer_time_ms (%.1f ms) is not imported: uniap costs the step "
                "itself",
                p0->tp, p0->mbs, 100e3 * (p0->emb + p0->head + lo->n_blocks * p0->blk) / p0->fb_ms,
                p0->fb_ms, p0->opt_ms > 0 ? p0->opt_ms : 0.0);
}

/* Fills out from s: the analytic base at the files' points, Metis's times
 * on every layer row, the per-position block rows. */
static int metis_fill(const uniap_model *m, const uniap_cluster *c, const cm_import_layout *lo,
                      const metis_set *s, uniap_profile *out)
{
    int mbs[METIS_MAXPT], n_mbs = 0, rc;
    char sig[96];

    for (int i = 0; i < s->n; i++) {
        int k = 0;
        while (k < n_mbs && mbs[k] != s->pt[i].mbs)
            k++;
        if (k == n_mbs)
            mbs[n_mbs++] = s->pt[i].mbs;
    }
    if ((rc = uniap_profile_analytic(m, c, mbs, n_mbs, out)) < 0)
        return rc;
    cm_import_filter(out, keep_measured, (void *)s);
    int after = lo->n_layers - lo->first_block - lo->n_blocks;
    for (int i = 0; i < s->n; i++) {
        const metis_pt *pt = &s->pt[i];
        for (int u = 0; u < lo->n_layers; u++) {
            if ((rc = cm_import_sig_at(m, u, sig, sizeof(sig))) < 0)
                return rc;
            if (u < lo->first_block)
                metis_set_rows(out, sig, pt, pt->emb / lo->first_block);
            else if (u >= lo->first_block + lo->n_blocks)
                metis_set_rows(out, sig, pt, pt->head / after);
            else if (u == lo->first_block)
                metis_set_rows(out, sig, pt, pt->blk);
        }
        if ((rc = cm_import_positions(out, lo, "metis", pt->tp, pt->mbs, metis_position,
                                      (void *)pt)) < 0)
            return rc;
    }
    out->tp_comm_in_layers = 1;
    return UNIAP_OK;
}

static int metis_run(const uniap_model *m, const uniap_cluster *c, const char *src,
                     uniap_profile *out, cm_warnings *w)
{
    cm_import_layout lo;
    metis_set s;
    int rc;

    memset(&s, 0, sizeof(s));
    if ((rc = cm_import_layout_of(m, "metis", &lo)) < 0)
        return rc;
    if (lo.n_blocks > METIS_MAXB)
        return uniap_err(UNIAP_EINVAL, "metis import: model '%s' has %d blocks, at most %d",
                         m->name, lo.n_blocks, METIS_MAXB);
    if ((rc = metis_locate(src, c, &s)) < 0)
        return rc;
    if (!(s.pt = malloc(sizeof(*s.pt) * METIS_MAXPT)))
        return uniap_err(UNIAP_ENOMEM, "metis import: out of memory");
    if ((rc = metis_read_all(m, &lo, &s)) < 0 || (rc = metis_fill(m, c, &lo, &s, out)) < 0)
        goto done;
    metis_notes(&s, &lo, c, w);
done:
    free(s.pt);
    return rc;
}

const cm_importer cm_import_metis = {
    "metis",
    "Metis's profile folder of DeviceType.<device>_tp<t>_bs<b>.json (the cluster's device), or "
    "one such file",
    metis_run};
