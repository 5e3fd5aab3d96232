/*
 * profile_merge.c - `uniap archive merge OUT IN...`: several profile
 * datasets (one per node, per model, per batch-size sweep) into one. The
 * tables are concatenated in input order; the optional /inputs table keeps
 * every input's provenance (file, creation time, tool and git revision,
 * Slurm job, model, devices, completeness) and the row ranges its rows
 * occupy (/gemm's too, since 1.2), so each merged row can be traced back. Inputs must share the
 * format's major version (the reader refuses any other) and the device
 * names, unless forced. uniap_profile_read_inputs is the public reader of
 * that /inputs table (for `uniap archive show`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "profile_h5.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void uniap_profile_devices(const uniap_profile *p, char *buf, size_t n)
{
    const char **names = malloc(sizeof(char *) * (size_t)(p->n_ranks ? p->n_ranks : 1));
    size_t used = 0;
    int k = 0;

    buf[0] = '\0';
    if (!names)
        return;
    for (int i = 0; i < p->n_ranks; i++)
        names[k++] = p->ranks[i].device;
    qsort(names, (size_t)k, sizeof(*names), cmp_str);
    for (int i = 0; i < k; i++) {
        if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
            continue;
        int w = snprintf(buf + used, n - used, "%s%s", used ? "+" : "", names[i]);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
    free(names);
}

void uniap_profile_model_name(const uniap_profile *p, char *buf, size_t n)
{
    cJSON *root = p->model_json ? cJSON_Parse(p->model_json) : NULL;
    const cJSON *name = root ? cJSON_GetObjectItemCaseSensitive(root, "name") : NULL;

    snprintf(buf, n, "%s", cJSON_IsString(name) ? name->valuestring : "");
    cJSON_Delete(root);
}

int uniap_profile_read_inputs(const char *path, uniap_profile_input **inputs, int *n)
{
    int rc;

    *inputs = NULL;
    *n = 0;
    if ((rc = uniap_h5_read_inputs(path, inputs, n)) < 0 || *n == 0) {
        free(*inputs);
        *inputs = NULL;
        return rc;
    }
    return 0;
}

static int same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Appends src's rows to dst's tables. */
static int append_rows(uniap_profile *dst, const uniap_profile *src)
{
    int rc = UNIAP_OK;
    for (int i = 0; i < src->n_ranks && rc == UNIAP_OK; i++)
        rc = uniap_profile_add_rank(dst, &src->ranks[i]);
    for (int i = 0; i < src->n_layers && rc == UNIAP_OK; i++)
        rc = uniap_profile_add_layer(dst, &src->layers[i]);
    for (int i = 0; i < src->n_colls && rc == UNIAP_OK; i++)
        rc = uniap_profile_add_coll(dst, &src->colls[i]);
    for (int i = 0; i < src->n_gemm && rc == UNIAP_OK; i++)
        rc = uniap_profile_add_gemm(dst, &src->gemm[i]);
    return rc;
}

/* The /inputs rows of input `in` (its own /inputs, shifted, when it is a
 * merge itself), appended to *rows. */
static int add_inputs(const char *file, const uniap_profile *in, const uniap_profile *merged,
                      uniap_h5_input **rows, int *n)
{
    uniap_h5_input *sub = NULL, *grown;
    int n_sub = 0, rc;

    if ((rc = uniap_h5_read_inputs(file, &sub, &n_sub)) < 0)
        return rc;
    grown = realloc(*rows, sizeof(**rows) * (size_t)(*n + (n_sub ? n_sub : 1)));
    if (!grown) {
        free(sub);
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory for /inputs", file);
    }
    *rows = grown;
    if (n_sub) {
        for (int i = 0; i < n_sub; i++) {
            uniap_h5_input r = sub[i];
            char inner[sizeof(r.file)];
            snprintf(inner, sizeof(inner), "%s", r.file);
            snprintf(r.file, sizeof(r.file), "%.120s:%.120s", file, inner);
            r.index = *n;
            r.ranks_first += merged->n_ranks;
            r.layers_first += merged->n_layers;
            r.colls_first += merged->n_colls;
            r.gemm_first += merged->n_gemm; /* 0 + offset in a merge older than 1.2 */
            (*rows)[(*n)++] = r;
        }
        free(sub);
        return UNIAP_OK;
    }
    uniap_h5_input r;
    memset(&r, 0, sizeof(r));
    r.index = *n;
    snprintf(r.file, sizeof(r.file), "%s", file);
    memcpy(r.created, in->created, sizeof(r.created));
    memcpy(r.tool_version, in->tool_version, sizeof(r.tool_version));
    memcpy(r.git_revision, in->git_revision, sizeof(r.git_revision));
    memcpy(r.slurm_job_id, in->slurm_job_id, sizeof(r.slurm_job_id));
    memcpy(r.provenance, in->provenance, sizeof(r.provenance));
    uniap_profile_model_name(in, r.model, sizeof(r.model));
    uniap_profile_devices(in, r.device, sizeof(r.device));
    r.world_size = in->world_size;
    r.complete = in->complete;
    r.ranks_first = merged->n_ranks, r.n_ranks = in->n_ranks;
    r.layers_first = merged->n_layers, r.n_layers = in->n_layers;
    r.colls_first = merged->n_colls, r.n_colls = in->n_colls;
    r.gemm_first = merged->n_gemm, r.n_gemm = in->n_gemm;
    (*rows)[(*n)++] = r;
    return UNIAP_OK;
}

int uniap_profile_merge(const char *out, char *const *ins, int n, int force,
                        const char *command_line)
{
    uniap_profile merged, first, in;
    uniap_h5_input *rows = NULL;
    char dev0[256], dev[256];
    int n_rows = 0, same_model = 1, same_cluster = 1, same_overlap = 1, rc;

    if (n < 1)
        return uniap_err(UNIAP_EINVAL, "merge: no input files");
    uniap_profile_init(&merged);
    snprintf(merged.provenance, sizeof(merged.provenance), "merged");
    merged.world_size = 0;
    merged.complete = 1;
    if ((rc = uniap_profile_read(ins[0], &first)) < 0)
        goto free_merged;
    uniap_profile_devices(&first, dev0, sizeof(dev0));
    for (int i = 0; i < n; i++) {
        if (i == 0)
            in = first; /* a shallow alias, never freed as `in` */
        else if ((rc = uniap_profile_read(ins[i], &in)) < 0)
            goto free_first;
        uniap_profile_devices(&in, dev, sizeof(dev));
        if (!force && strcmp(dev, dev0) != 0) {
            rc = uniap_err(UNIAP_EINVAL,
                           "merge: %s was measured on '%s' but %s on '%s'; use --force to merge "
                           "profiles of different devices",
                           ins[i], dev, ins[0], dev0);
        } else if (in.tp_comm_in_layers != first.tp_comm_in_layers) {
            /* one flag holds for all rows of a file: rows that include the
             * TP collectives cannot sit beside rows that do not */
            rc = uniap_err(UNIAP_EINVAL,
                           "merge: %s has layer_times_include_tp_comm = %d but %s has %d: their "
                           "layer rows at tp > 1 mean different things and cannot be merged",
                           ins[i], in.tp_comm_in_layers, ins[0], first.tp_comm_in_layers);
        } else if ((rc = add_inputs(ins[i], &in, &merged, &rows, &n_rows)) == UNIAP_OK) {
            rc = append_rows(&merged, &in);
        }
        if (in.world_size > merged.world_size)
            merged.world_size = in.world_size;
        merged.complete &= in.complete != 0;
        /* Root values all inputs share are kept; differing ones are left
         * empty in the merge (each input's own stays in /inputs). */
        same_model &= same_str(in.model_json, first.model_json);
        same_cluster &= same_str(in.cluster_json, first.cluster_json);
        same_overlap &= in.overlap_coeff == first.overlap_coeff;
        if (i > 0)
            uniap_profile_free(&in);
        if (rc < 0)
            goto free_first;
    }
    if (same_model && first.model_json)
        merged.model_json = strdup(first.model_json);
    if (same_cluster && first.cluster_json)
        merged.cluster_json = strdup(first.cluster_json);
    merged.overlap_coeff = same_overlap ? first.overlap_coeff : 0.0;
    merged.tp_comm_in_layers = first.tp_comm_in_layers; /* all inputs agree (checked above) */
    merged.command_line = command_line ? strdup(command_line) : NULL;
    rc = uniap_h5_write_serial(out, &merged, rows, n_rows);

free_first:
    uniap_profile_free(&first);
free_merged:
    uniap_profile_free(&merged);
    free(rows);
    return rc;
}
