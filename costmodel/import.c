/*
 * import.c - `uniap archive import`'s library side: the table of importers
 * of peers' published profiles (one file each: import_amp.c,
 * import_sailor.c, import_galvatron.c) and the steps they share (JSON
 * files, the model's block layout, the analytic base whose memory columns
 * and collectives fill what a peer's files lack, the notes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_internal.h"

static const cm_importer *const importers[] = {
    &cm_import_galvatron, &cm_import_amp, &cm_import_sailor, &cm_import_metis, &cm_import_mist};
#define N_IMPORTERS ((int)(sizeof(importers) / sizeof(importers[0])))

const char *const *uniap_importer_names(void)
{
    static const char *names[N_IMPORTERS + 1];
    for (int i = 0; i < N_IMPORTERS; i++)
        names[i] = importers[i]->name;
    return names;
}

const char *uniap_importer_src_help(const char *tool)
{
    for (int i = 0; i < N_IMPORTERS; i++)
        if (strcmp(importers[i]->name, tool) == 0)
            return importers[i]->src;
    return NULL;
}

int cm_import_json(const char *path, const char *what, cJSON **out)
{
    char *text = NULL;
    size_t len;
    int rc;

    *out = NULL;
    if ((rc = uniap_read_file(path, &text, &len)) < 0)
        return rc;
    *out = cJSON_Parse(text);
    free(text);
    if (!*out || !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return uniap_err(UNIAP_EFORMAT, "%s: not a JSON object (%s expected)", path, what);
    }
    return UNIAP_OK;
}

int cm_import_positions(uniap_profile *p, const cm_import_layout *lo, const char *tool, int tp,
                        int mb, cm_import_pos_fn at, void *ctx)
{
    int n = p->n_layers, rc;
    for (int i = 0; i < n; i++) {
        if (p->layers[i].tp != tp || (mb >= 1 && p->layers[i].micro_batch != mb) ||
            strcmp(p->layers[i].layer_type, lo->block_sig) != 0)
            continue;
        for (int b = 0; b < lo->n_blocks; b++) {
            uniap_layer_prof row = p->layers[i];
            double fwd, bwd;
            int w = snprintf(row.layer_type, sizeof(row.layer_type), "%s@%d", lo->block_sig,
                             lo->first_block + b);
            if (w < 0 || (size_t)w >= sizeof(row.layer_type))
                return uniap_err(UNIAP_EINVAL,
                                 "%s import: layer type '%s@%d' is longer than the %zu "
                                 "characters a profile row holds",
                                 tool, lo->block_sig, lo->first_block + b,
                                 sizeof(row.layer_type) - 1);
            at(ctx, &p->layers[i], b, &fwd, &bwd);
            row.fwd.median = row.fwd.min = row.fwd.max = fwd;
            row.bwd.median = row.bwd.min = row.bwd.max = bwd;
            if ((rc = uniap_profile_add_layer(p, &row)) < 0)
                return rc;
        }
    }
    return UNIAP_OK;
}

int cm_import_sig_at(const uniap_model *m, int u, char *buf, size_t n)
{
    for (int r = 0, first = 0; r < m->n_runs; first += m->runs[r++].count)
        if (u < first + m->runs[r].count)
            return uniap_layer_signature(&m->runs[r], buf, n);
    return uniap_err(UNIAP_EINVAL, "layer %d: outside the model", u);
}

int cm_import_layout_of(const uniap_model *m, const char *tool, cm_import_layout *out)
{
    int u = 0;

    memset(out, 0, sizeof(*out));
    out->first_block = -1;
    for (int r = 0; r < m->n_runs; u += m->runs[r++].count) {
        const uniap_layer *l = &m->runs[r];
        char sig[96];
        if (uniap__cm_layer_kind(l->kind)->role != CM_ROLE_BLOCK)
            continue;
        uniap_layer_signature(l, sig, sizeof(sig));
        if (out->first_block >= 0 &&
            (strcmp(sig, out->block_sig) != 0 || out->first_block + out->n_blocks != u))
            return uniap_err(UNIAP_EINVAL,
                             "%s import: model '%s' has more than one run of blocks (%s, %s): "
                             "the %s files describe one block shape",
                             tool, m->name, out->block_sig, sig, tool);
        if (out->first_block < 0) {
            out->first_block = u;
            snprintf(out->block_sig, sizeof(out->block_sig), "%s", sig);
        }
        out->n_blocks += l->count;
    }
    out->n_layers = m->n_layers;
    if (out->first_block < 0)
        return uniap_err(UNIAP_EINVAL, "%s import: model '%s' has no transformer blocks", tool,
                         m->name);
    return UNIAP_OK;
}

int cm_import_base(const uniap_model *m, const uniap_cluster *c, const int *mbs, int n_mbs,
                   const char *tool, uniap_profile *out, cm_warnings *w)
{
    int rc = uniap_profile_analytic(m, c, mbs, n_mbs, out);
    if (rc < 0)
        return rc;
    cm_warn(w,
            "%s files hold no memory figures and no collectives: activation, peak and parameter "
            "bytes and the collective curves are uniap's analytic model of cluster '%s' "
            "(datasheet figures)",
            tool, c->name);
    return UNIAP_OK;
}

void cm_import_filter(uniap_profile *p, int (*keep)(const uniap_layer_prof *, void *), void *ctx)
{
    int n = 0;
    for (int i = 0; i < p->n_layers; i++)
        if (keep(&p->layers[i], ctx))
            p->layers[n++] = p->layers[i];
    p->n_layers = n;
}

static const cm_importer *find(const char *tool)
{
    for (int i = 0; i < N_IMPORTERS; i++)
        if (strcmp(importers[i]->name, tool) == 0)
            return importers[i];
    return NULL;
}

int uniap_profile_import(const char *tool, const char *src, const uniap_model *m,
                         const uniap_cluster *c, uniap_profile *out)
{
    const cm_importer *im = find(tool ? tool : "");
    cm_warnings w = {0};
    int rc;

    memset(out, 0, sizeof(*out));
    if (!im)
        return uniap_err(UNIAP_EINVAL, "import: unknown source tool '%s'", tool ? tool : "");
    if ((rc = im->run(m, c, src, out, &w)) < 0)
        goto fail;
    snprintf(out->provenance, sizeof(out->provenance), "imported:%s", im->name);
    out->complete = 1;
    free(out->model_json);
    free(out->cluster_json);
    out->model_json = out->cluster_json = NULL;
    if ((rc = uniap_model_to_json(m, &out->model_json)) < 0 ||
        (rc = uniap_cluster_to_json(c, &out->cluster_json)) < 0)
        goto fail;
    free(out->notes);
    out->notes = w.text ? w.text : strdup("");
    w.text = NULL;
    if (!out->notes) {
        rc = uniap_err(UNIAP_ENOMEM, "import: out of memory");
        goto fail;
    }
    cm_warnings_free(&w);
    return UNIAP_OK;
fail:
    cm_warnings_free(&w);
    uniap_profile_free(out);
    return rc;
}
