/*
 * import_galvatron.c - reads Galvatron's published profiling JSON
 * (computation, memory, hardware bandwidth, overlap coefficient) into a
 * uniap profile dataset, provenance "imported:galvatron". The files are
 * those of the PKU-DAIR Hetu-Galvatron repository (its galvatron/ folder of
 * published profiles; their units and key forms are summarised below); no
 * code of that project is used.
 *
 * Mapping: Galvatron's layertype_<i> is the model's i-th distinct block
 * signature (encoder/decoder/cross-decoder/swin runs in chain order);
 * layertype_other (embedding + head) is attributed to the head, the
 * embedding getting zero time (its lookup is memory-trivial next to the
 * head's GEMM); other_memory_pp_on_first/_last give the embedding's and
 * head's activations. Units: computation values are forward ms per layer
 * per sample at batch bsz, so fwd(b) = value x b / 1000 s; memory values
 * are MiB per sample per layer at tp, so act_bytes(b) = MiB x 2^20 x b.
 * What the files do not hold is listed in the notes instead of invented,
 * except where Galvatron's own cost model makes the same assumption (said
 * in the notes): backward = 2 x forward, compute at tp t = tp-1 time / t.
 */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cm_internal.h"
#include "galvatron_internal.h"
#include "import_internal.h"

void cm_galv_note(cm_warnings *w, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    cm_warn(w, "%s", line);
}

int cm_galv_load_json(const char *path, cJSON **out)
{
    return cm_import_json(path, "Galvatron profile", out);
}

/* Distinct block signatures of the model in chain order; block_of[r] = i
 * for block runs, -1 for others. Returns the count, or ENOMEM. */
static int block_types(const uniap_model *m, int *block_of)
{
    char(*sig)[96] = malloc((size_t)m->n_runs * sizeof(*sig));
    int n = 0;

    if (!sig)
        return uniap_err(UNIAP_ENOMEM, "galvatron import: out of memory");
    for (int r = 0; r < m->n_runs; r++) {
        block_of[r] = -1;
        if (uniap__cm_layer_kind(m->runs[r].kind)->role != CM_ROLE_BLOCK)
            continue;
        char s[96];
        uniap_layer_signature(&m->runs[r], s, sizeof(s));
        int i;
        for (i = 0; i < n && strcmp(sig[i], s) != 0; i++)
            ;
        if (i == n) /* at most one per run: sig holds n_runs */
            snprintf(sig[n++], sizeof(sig[0]), "%s", s);
        block_of[r] = i;
    }
    free(sig);
    return n;
}

int cm_galv_parse_bsz_seq(const char *p, int *bsz, long *seq, const char **rest)
{
    char *end;

    if (strncmp(p, "_bsz", 4) != 0)
        return -1;
    *bsz = (int)strtol(p + 4, &end, 10);
    if (*bsz < 1)
        return -1;
    *seq = 0;
    int has_seq = strncmp(end, "_seq", 4) == 0 && isdigit((unsigned char)end[4]);
    if (has_seq)
        *seq = strtol(end + 4, &end, 10);
    *rest = end;
    return has_seq;
}

/* Parses "layertype_<t|other[_k]>_bsz<b>[_seq<s>]"; t = -1 for other;
 * seq = 0 when absent or a list. 0 on success. */
static int parse_comp_key(const char *key, int *t, int *bsz, long *seq)
{
    const char *p, *rest;
    char *end;

    if (strncmp(key, "layertype_", 10) != 0)
        return -1;
    p = key + 10;
    if (strncmp(p, "other", 5) == 0) {
        *t = -1;
        p += 5;
        if (p[0] == '_' && isdigit((unsigned char)p[1]))
            strtol(p + 1, (char **)&p, 10);
    } else {
        if (!isdigit((unsigned char)*p))
            return -1;
        *t = (int)strtol(p, &end, 10);
        p = end;
    }
    return cm_galv_parse_bsz_seq(p, bsz, seq, &rest) < 0 ? -1 : 0;
}

/* The per-layer memory entry of layertype_<t>: prefers the plain (no SP)
 * measurement, whose activations the cost model expects; the _sp one
 * otherwise (noted). Unwraps the {seq: {...}} level when present. */
static const cJSON *mem_entry(const cJSON *mem, const char *base, long seq, cm_warnings *w,
                              const char *path)
{
    char key[64];
    const cJSON *e;

    e = cJSON_GetObjectItemCaseSensitive(mem, base);
    if (!e) {
        snprintf(key, sizeof(key), "%s_sp", base);
        e = cJSON_GetObjectItemCaseSensitive(mem, key);
        if (e)
            cm_galv_note(w,
                         "%s: only the sequence-parallel measurement '%s' exists; its activations "
                         "stand for the plain ones",
                         path, key);
    }
    if (!e || !cJSON_IsObject(e))
        return NULL;
    if (!cJSON_GetObjectItemCaseSensitive(e, "tp_activation_per_bsz_dict") &&
        !cJSON_GetObjectItemCaseSensitive(e, "activation")) {
        char s[32];
        snprintf(s, sizeof(s), "%ld", seq);
        const cJSON *inner = cJSON_GetObjectItemCaseSensitive(e, s);
        if (!inner && e->child && cJSON_IsObject(e->child))
            inner = e->child; /* one sequence length, e.g. "[3136,784,...]" */
        e = inner;
    }
    return e;
}

/* MiB of a {tp: MiB} dictionary, or of a plain number (same for all tp). */
static int mib_at(const cJSON *d, int tp, double *out)
{
    char k[16];
    const cJSON *v;
    if (cJSON_IsNumber(d)) {
        *out = d->valuedouble;
        return 1;
    }
    snprintf(k, sizeof(k), "%d", tp);
    v = cJSON_GetObjectItemCaseSensitive(d, k);
    if (!cJSON_IsNumber(v))
        return 0;
    *out = v->valuedouble;
    return 1;
}

typedef struct comp_point {
    int bsz;
    double ms; /* forward ms per layer per sample */
} comp_point;

/* Adds rows of one layer run for every bsz in pts and tp in the memory
 * dictionary. */
static int add_layer_rows(const uniap_model *m, const uniap_layer *l, const comp_point *pts, int np,
                          const cJSON *act_dict, uniap_profile *out, cm_warnings *w)
{
    char sig[96];
    int rc, added = 0;

    uniap_layer_signature(l, sig, sizeof(sig));
    for (int tp = 1; tp <= 1024; tp *= 2) {
        double mib;
        if (!mib_at(act_dict, tp, &mib))
            continue;
        if (!cm_layer_tp_ok(l, tp)) {
            cm_galv_note(w, "layer '%s': memory at tp %d ignored (tp does not divide the layer)",
                         sig, tp);
            continue;
        }
        for (int i = 0; i < np; i++) {
            uniap_layer_prof row;
            double fwd = pts[i].ms * pts[i].bsz / 1000.0 / tp;
            memset(&row, 0, sizeof(row));
            snprintf(row.layer_type, sizeof(row.layer_type), "%s", sig);
            row.tp = tp;
            row.micro_batch = pts[i].bsz;
            row.rank = -1;
            /* count 1: measured; 0: derived (tp > 1 time, backward) */
            row.fwd = (uniap_stat){fwd, fwd, fwd, tp == 1 ? 1 : 0};
            row.bwd = (uniap_stat){2 * fwd, 2 * fwd, 2 * fwd, 0};
            row.act_bytes = (int64_t)llround(mib * (double)MiB * pts[i].bsz);
            row.peak_bytes = 0; /* the files hold no per-layer transient */
            row.param_bytes = uniap_layer_params(l) / tp * uniap_dtype_bytes(m->param_dtype);
            if ((rc = uniap_profile_add_layer(out, &row)) < 0)
                return rc;
            added++;
        }
    }
    if (!added)
        cm_galv_note(w, "layer '%s': no tp degree with both computation and memory figures", sig);
    return UNIAP_OK;
}

static int cmp_comp(const void *a, const void *b)
{
    return ((const comp_point *)a)->bsz - ((const comp_point *)b)->bsz;
}

/* Gathers forward points of layertype t (-1: other) at the layer's seq. */
static int comp_points(const cJSON *comp, int t, long seq, comp_point *pts, int cap,
                       int *skipped_seq)
{
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, comp)
    {
        int kt, bsz;
        long ks;
        if (!cJSON_IsNumber(it) || parse_comp_key(it->string, &kt, &bsz, &ks) < 0 || kt != t)
            continue;
        if (t >= 0 && ks != 0 && ks != seq) {
            (*skipped_seq)++;
            continue;
        }
        if (n < cap)
            pts[n++] = (comp_point){bsz, it->valuedouble};
    }
    qsort(pts, (size_t)n, sizeof(*pts), cmp_comp);
    return n;
}

/* A bare "layertype_<t>" value (per layer per sample, derived by
 * Galvatron from layernum[...]_bsz<b> keys): usable when those keys share
 * one batch size b. Returns 1 with the point, else 0. */
static int bare_point(const cJSON *comp, const char *key, comp_point *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(comp, key), *it;
    int bsz = 0;

    if (!cJSON_IsNumber(v))
        return 0;
    cJSON_ArrayForEach(it, comp)
    {
        const char *b =
            strncmp(it->string, "layernum[", 9) == 0 ? strstr(it->string, "_bsz") : NULL;
        int x;
        if (!b || sscanf(b, "_bsz%d", &x) != 1)
            continue;
        if (bsz && x != bsz)
            return 0; /* several batch sizes: which one is ambiguous */
        bsz = x;
    }
    if (bsz < 1)
        return 0;
    *out = (comp_point){bsz, v->valuedouble};
    return 1;
}

static int import_layers(const uniap_model *m, const cJSON *comp, const cJSON *mem,
                         const char *comp_path, const char *mem_path, uniap_profile *out,
                         cm_warnings *w)
{
    int *block_of = calloc((size_t)m->n_runs, sizeof(int)), rc = UNIAP_OK;
    comp_point pts[256];
    char base[48], sig[96];

    if (!block_of)
        return uniap_err(UNIAP_ENOMEM, "galvatron import: out of memory");
    int nb = block_types(m, block_of);
    if (nb < 0) {
        free(block_of);
        return nb;
    }
    for (int t = 0; t < nb; t++) {
        int r, skipped = 0;
        for (r = 0; block_of[r] != t; r++)
            ;
        const uniap_layer *l = &m->runs[r];
        uniap_layer_signature(l, sig, sizeof(sig));
        int np = comp_points(comp, t, l->seq, pts, 256, &skipped);
        snprintf(base, sizeof(base), "layertype_%d", t);
        if (np == 0 && !skipped && (np = bare_point(comp, base, &pts[0])) > 0)
            cm_galv_note(w,
                         "%s: '%s' has no batch size; taken at bsz %d, the batch of the file's "
                         "layernum[...] keys",
                         comp_path, base, pts[0].bsz);
        const cJSON *me = mem_entry(mem, base, l->seq, w, mem_path);
        const cJSON *act =
            me ? cJSON_GetObjectItemCaseSensitive(me, "tp_activation_per_bsz_dict") : NULL;
        if (np == 0 || !act) {
            /* a model without its blocks is no use: fail, naming what lacks */
            rc = uniap_err(UNIAP_EMISSING,
                           "galvatron import: layer '%s' (Galvatron layertype_%d): "
                           "%s lacks %s at seq %lld%s",
                           sig, t, np == 0 ? comp_path : mem_path,
                           np == 0 ? "forward times" : "tp_activation_per_bsz_dict",
                           (long long)l->seq, skipped ? " (other sequence lengths present)" : "");
            goto free_blocks;
        }
        if ((rc = add_layer_rows(m, l, pts, np, act, out, w)) < 0)
            goto free_blocks;
        if (!cJSON_GetObjectItemCaseSensitive(act, "2"))
            cm_galv_note(w, "layer '%s': tp 2 and above not measured", sig);
    }
    if (nb == 0)
        cm_galv_note(w, "model '%s' has no transformer blocks to map layertype_0.. onto", m->name);
    /* embedding (first run) and head (last run): layertype_other */
    for (int r = 0; r < m->n_runs; r++) {
        const uniap_layer *l = &m->runs[r];
        cm_layer_role role = uniap__cm_layer_kind(l->kind)->role;
        int first = role == CM_ROLE_FIRST, last = role == CM_ROLE_LAST;
        int skipped = 0;
        if (block_of[r] >= 0)
            continue;
        uniap_layer_signature(l, sig, sizeof(sig));
        if (!first && !last) {
            cm_galv_note(w, "layer '%s' (%s): Galvatron's files have no figures for it", sig,
                         uniap_layer_kind_name(l->kind));
            continue;
        }
        int np = comp_points(comp, -1, l->seq, pts, 256, &skipped);
        if (first)
            for (int i = 0; i < np; i++)
                pts[i].ms = 0.0;
        const cJSON *me =
            mem_entry(mem, first ? "other_memory_pp_on_first" : "other_memory_pp_on_last", l->seq,
                      w, mem_path);
        const cJSON *act = me ? cJSON_GetObjectItemCaseSensitive(me, "activation") : NULL;
        if (np == 0 || !act) {
            cm_galv_note(w, "layer '%s': %s lacks %s", sig, np == 0 ? comp_path : mem_path,
                         np == 0 ? "layertype_other times" : "other_memory activation");
            continue;
        }
        if ((rc = add_layer_rows(m, l, pts, np, act, out, w)) < 0)
            goto free_blocks;
    }
    cm_galv_note(w, "backward time = 2 x forward (Galvatron's assumption; not in the files)");
    cm_galv_note(w, "compute at tp > 1 = tp-1 time / tp (Galvatron's assumption; only tp 1 timed)");
    cm_galv_note(w, "layertype_other (embedding + head) time attributed to the head; no per-layer "
                    "transient peak memory (taken as 0)");
    cm_galv_note(w, "other_memory_* activation taken as MiB per sample, like the layers' (the "
                    "files do not say)");
free_blocks:
    free(block_of);
    return rc;
}

int cm_galv_import_parsed(const uniap_model *m, const uniap_cluster *c, const cJSON *comp,
                          const cJSON *mem, const char *comp_path, const char *mem_path,
                          const char *hardware_dir, uniap_profile *out, cm_warnings *w)
{
    cJSON *ov = NULL;
    char path[1024];
    int rc;

    memset(out, 0, sizeof(*out));
    uniap_profile_init(out);
    snprintf(out->provenance, sizeof(out->provenance), "imported:galvatron");
    out->world_size = uniap_cluster_devices(c);
    out->complete = 1;
    if ((rc = import_layers(m, comp, mem, comp_path, mem_path, out, w)) < 0 ||
        (rc = cm_galv_import_sp_time(c, hardware_dir, out, w)) < 0 ||
        (rc = cm_galv_import_allreduce(c, hardware_dir, out, w)) < 0 ||
        (rc = cm_galv_import_p2p(c, hardware_dir, out, w)) < 0)
        goto free_out;
    snprintf(path, sizeof(path), "%s/overlap_coefficient.json", hardware_dir);
    if (cm_galv_load_json(path, &ov) == 0) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(ov, "overlap_coe");
        if (cJSON_IsNumber(v))
            out->overlap_coeff = v->valuedouble;
    } else {
        uniap_err_clear();
        cm_galv_note(w, "no overlap coefficient (%s)", path);
    }
    if (uniap_model_to_json(m, &out->model_json) < 0 ||
        uniap_cluster_to_json(c, &out->cluster_json) < 0)
        uniap_err_clear();
    cJSON_Delete(ov);
    return UNIAP_OK;
free_out:
    uniap_profile_free(out);
    return rc;
}

int uniap_profile_import_galvatron_files(const uniap_model *m, const uniap_cluster *c,
                                         const char *computation_json, const char *memory_json,
                                         const char *hardware_dir, uniap_profile *out, char **notes)
{
    cm_warnings w = {0};
    cJSON *comp = NULL, *mem = NULL;
    int rc;

    if (notes)
        *notes = NULL;
    memset(out, 0, sizeof(*out));
    if ((rc = cm_galv_load_json(computation_json, &comp)) < 0 ||
        (rc = cm_galv_load_json(memory_json, &mem)) < 0)
        goto free_all;
    rc = cm_galv_import_parsed(m, c, comp, mem, computation_json, memory_json, hardware_dir, out,
                               &w);
free_all:
    cJSON_Delete(comp);
    cJSON_Delete(mem);
    if (rc == 0 && notes) {
        *notes = w.text ? w.text : strdup("");
        w.text = NULL;
    }
    cm_warnings_free(&w);
    return rc;
}

/* The wanted suffixes of model m, best first: "<name>_all", "<alias>_all"
 * (llama-7b: llama2-7b, same block shape), "hidden<h>_head<a>_seqlen<s>",
 * "hidden<h>_head<a>". */
static void wanted_suffixes(const uniap_model *m, char want[4][96])
{
    const uniap_layer *blk = NULL;

    for (int r = 0; r < m->n_runs && !blk; r++)
        if (m->runs[r].heads > 0)
            blk = &m->runs[r];
    snprintf(want[0], 96, "%s_all", m->name);
    snprintf(want[1], 96, "%s_all", strcmp(m->name, "llama-7b") == 0 ? "llama2-7b" : m->name);
    snprintf(want[2], 96, "hidden%lld_head%d_seqlen%lld", blk ? (long long)blk->hidden : 0,
             blk ? blk->heads : 0, blk ? (long long)blk->seq : 0);
    snprintf(want[3], 96, "hidden%lld_head%d", blk ? (long long)blk->hidden : 0,
             blk ? blk->heads : 0);
}

/* Score of one suffix: 10..7 for the wanted ones in order, 2 for exactly
 * the model's name (mixtral-8x7b over mixtral-8x7b_attention), 1 for a
 * suffix containing it, -1 otherwise. */
static int suffix_score(const uniap_model *m, char want[4][96], const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, want[i]) == 0)
            return 10 - i;
    if (strcmp(s, m->name) == 0)
        return 2;
    return strstr(s, m->name) ? 1 : -1;
}

int cm_galv_pick_suffix(const uniap_model *m, const char *const *suffixes, int n)
{
    char want[4][96];
    int best = -1, best_score = -1;

    wanted_suffixes(m, want);
    for (int i = 0; i < n; i++) {
        int score = suffix_score(m, want, suffixes[i]);
        if (score < 0 || score < best_score)
            continue;
        if (score == best_score) { /* ties: the shorter, then the smaller */
            size_t a = strlen(suffixes[i]), b = strlen(suffixes[best]);
            if (a > b || (a == b && strcmp(suffixes[i], suffixes[best]) >= 0))
                continue;
        }
        best = i;
        best_score = score;
    }
    return best;
}

/* Picks computation_profiling_bf16_<suffix>.json of dir for the model by
 * cm_galv_pick_suffix over every such file, whatever order readdir lists
 * them in. */
static int pick_suffix(const uniap_model *m, const char *dir, char *suffix, size_t n)
{
    const char *pre = "computation_profiling_bf16_";
    char **names = NULL, want[4][96];
    int count = 0, cap = 0, rc = UNIAP_OK;
    DIR *d;
    struct dirent *de;

    if (!(d = opendir(dir)))
        return uniap_err(UNIAP_EIO, "galvatron import: cannot open folder %s", dir);
    while ((de = readdir(d))) {
        size_t pl = strlen(pre), len = strlen(de->d_name);
        if (strncmp(de->d_name, pre, pl) != 0 || len < pl + 5 ||
            strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        if (count == cap) {
            char **grown = realloc(names, (size_t)(cap = cap ? 2 * cap : 16) * sizeof(*names));
            if (!grown) {
                rc = uniap_err(UNIAP_ENOMEM, "galvatron import: out of memory");
                goto free_names;
            }
            names = grown;
        }
        if (!(names[count] = malloc(len - pl - 4))) {
            rc = uniap_err(UNIAP_ENOMEM, "galvatron import: out of memory");
            goto free_names;
        }
        memcpy(names[count], de->d_name + pl, len - pl - 5);
        names[count++][len - pl - 5] = '\0';
    }
    int best = cm_galv_pick_suffix(m, (const char *const *)names, count);
    if (best >= 0) {
        snprintf(suffix, n, "%s", names[best]);
    } else {
        wanted_suffixes(m, want);
        rc = uniap_err(UNIAP_EMISSING,
                       "galvatron import: %s has no computation_profiling_bf16_*.json for model "
                       "'%s' (looked for %s, %s, %s, %s)",
                       dir, m->name, want[0], want[1], want[2], want[3]);
    }
free_names:
    closedir(d);
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* Imports the files of suffix from dir: the MoE importer's set
 * (import_galvatron_moe.c) when the model's blocks are moe, else
 * computation_/memory_profiling_bf16_<suffix>.json. */
static int import_suffix(const uniap_model *m, const uniap_cluster *c, const char *dir,
                         const char *suffix, const char *hw, uniap_profile *out, cm_warnings *w)
{
    char comp[1024], mem[1024], *notes = NULL;
    int rc;

    if (cm_galv_is_moe(m))
        return cm_galv_import_moe(m, c, dir, suffix, hw, out, w);
    snprintf(comp, sizeof(comp), "%s/computation_profiling_bf16_%s.json", dir, suffix);
    snprintf(mem, sizeof(mem), "%s/memory_profiling_bf16_%s.json", dir, suffix);
    if ((rc = uniap_profile_import_galvatron_files(m, c, comp, mem, hw, out, &notes)) < 0)
        return rc;
    cm_warn(w, "read %s, %s and %s", comp, mem, hw);
    for (char *l = notes, *nl; l && *l; l = nl ? nl + 1 : l + strlen(l)) {
        if ((nl = strchr(l, '\n')))
            *nl = '\0';
        cm_warn(w, "%s", l);
    }
    free(notes);
    return UNIAP_OK;
}

int uniap_profile_import_galvatron(const uniap_model *m, const uniap_cluster *c,
                                   const char *model_config_dir, const char *hardware_dir,
                                   uniap_profile *out)
{
    cm_warnings w = {0};
    char suffix[192];
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = pick_suffix(m, model_config_dir, suffix, sizeof(suffix))) < 0)
        return rc;
    rc = import_suffix(m, c, model_config_dir, suffix, hardware_dir, out, &w);
    cm_warnings_free(&w);
    return rc;
}

/* The Galvatron entry of the importer table (import.c): SRC is a model's
 * configs folder; the hardware folder is found above it, at
 * <...>/galvatron/profile_hardware/hardware_configs. */
static int galv_run(const uniap_model *m, const uniap_cluster *c, const char *src,
                    uniap_profile *out, cm_warnings *w)
{
    char suffix[192], hw[1100];
    size_t n = strlen(src);
    int rc, found = 0;

    for (int up = 0; up < 5 && !found; up++) {
        while (n > 0 && src[n - 1] == '/')
            n--;
        while (n > 0 && src[n - 1] != '/')
            n--;
        snprintf(hw, sizeof(hw), "%.*sprofile_hardware/hardware_configs", (int)n, src);
        DIR *d = opendir(hw);
        found = d != NULL;
        if (d)
            closedir(d);
    }
    if (!found)
        return uniap_err(UNIAP_EMISSING,
                         "%s: no galvatron/profile_hardware/hardware_configs folder above it "
                         "(Galvatron's published layout)",
                         src);
    if ((rc = pick_suffix(m, src, suffix, sizeof(suffix))) < 0)
        return rc;
    return import_suffix(m, c, src, suffix, hw, out, w);
}

const cm_importer cm_import_galvatron = {
    "galvatron", "a Galvatron models/<model>/configs folder (hardware_configs found above it)",
    galv_run};
