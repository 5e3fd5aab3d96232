/*
 * archive_json.c - `uniap archive list|show|verify --format json` (issue
 * 16 item 5): one JSON document on stdout, format "uniap-archive" version
 * 1, {"format", "version", "command", "datasets": [...]}, one object per
 * dataset: file, bytes, ok (read and verified) and error (the message when
 * not), and when readable its root attributes (format_version, created,
 * tool_version, git_revision, provenance, model, devices, world_size,
 * complete, slurm_job_id, notes as lines, layer_times_include_tp_comm),
 * its table row counts, its layer types (rows, tp and micro-batch sets)
 * and its collectives (rows, group sizes, best busbw). Scripts read it
 * instead of the text tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "archive_show.h"
#include "cmd_util.h"
#include "uniap_io.h"

/* Adds v to the sorted set v[0..*n) (no duplicates, at most cap). */
static void add_int(int *set, int *n, int cap, int v)
{
    int i = 0;
    while (i < *n && set[i] < v)
        i++;
    if ((i < *n && set[i] == v) || *n == cap)
        return;
    memmove(set + i + 1, set + i, sizeof(int) * (size_t)(*n - i));
    set[i] = v;
    (*n)++;
}

#define SET_MAX 256

/* One entry per layer type, in order of first appearance. */
static cJSON *layer_types(const uniap_profile *p)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < p->n_layers; i++) {
        const char *lt = p->layers[i].layer_type;
        int seen = 0, rows = 0, tp[SET_MAX], mb[SET_MAX], ntp = 0, nmb = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(p->layers[j].layer_type, lt) == 0;
        if (seen)
            continue;
        for (int j = i; j < p->n_layers; j++)
            if (strcmp(p->layers[j].layer_type, lt) == 0) {
                rows++;
                add_int(tp, &ntp, SET_MAX, p->layers[j].tp);
                add_int(mb, &nmb, SET_MAX, p->layers[j].micro_batch);
            }
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "layer_type", lt);
        cJSON_AddNumberToObject(t, "rows", rows);
        cJSON_AddItemToObject(t, "tp", cJSON_CreateIntArray(tp, ntp));
        cJSON_AddItemToObject(t, "micro_batch", cJSON_CreateIntArray(mb, nmb));
        cJSON_AddItemToArray(arr, t);
    }
    return arr;
}

static cJSON *collectives(const uniap_profile *p)
{
    cJSON *arr = cJSON_CreateArray();
    for (int op = 0; arr && op < UNIAP_COLL_COUNT; op++) {
        cJSON *o = NULL;
        int groups[SET_MAX], ng = 0;
        double best = 0, rows = 0;
        for (int j = 0; j < p->n_colls; j++) {
            const uniap_coll_prof *c = &p->colls[j];
            if ((int)c->op != op)
                continue;
            if (!o) {
                o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "op", uniap_coll_name((uniap_coll_op)op));
            }
            rows++;
            add_int(groups, &ng, SET_MAX, c->group_size);
            best = c->busbw > best ? c->busbw : best;
        }
        if (o) {
            cJSON_AddItemToObject(o, "group_sizes", cJSON_CreateIntArray(groups, ng));
            cJSON_AddNumberToObject(o, "rows", rows);
            cJSON_AddNumberToObject(o, "best_busbw", best);
            cJSON_AddItemToArray(arr, o);
        }
    }
    return arr;
}

/* The root attributes and tables of a readable profile into o. */
static void describe(cJSON *o, const uniap_profile *p)
{
    char buf[256], ver[16];
    snprintf(ver, sizeof(ver), "%d.%d", p->version_major, p->version_minor);
    cJSON_AddStringToObject(o, "format_version", ver);
    cJSON_AddStringToObject(o, "created", p->created);
    cJSON_AddStringToObject(o, "tool_version", p->tool_version);
    cJSON_AddStringToObject(o, "git_revision", p->git_revision);
    cJSON_AddStringToObject(o, "provenance", p->provenance);
    uniap_profile_model_name(p, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "model", buf);
    uniap_profile_devices(p, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "devices", buf);
    cJSON_AddNumberToObject(o, "world_size", p->world_size);
    cJSON_AddBoolToObject(o, "complete", p->complete != 0);
    cJSON_AddStringToObject(o, "slurm_job_id", p->slurm_job_id);
    cJSON_AddBoolToObject(o, "layer_times_include_tp_comm", p->tp_comm_in_layers != 0);
    cJSON *notes = cJSON_AddArrayToObject(o, "notes");
    for (const char *l = p->notes; l && *l;) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        char *line = strndup(l, n);
        if (line)
            cJSON_AddItemToArray(notes, cJSON_CreateString(line));
        free(line);
        l += n + (nl ? 1 : 0);
    }
    cJSON *t = cJSON_AddObjectToObject(o, "rows");
    cJSON_AddNumberToObject(t, "ranks", p->n_ranks);
    cJSON_AddNumberToObject(t, "layers", p->n_layers);
    cJSON_AddNumberToObject(t, "collectives", p->n_colls);
    cJSON_AddNumberToObject(t, "gemm", p->n_gemm);
    cJSON_AddItemToObject(o, "layer_types", layer_types(p));
    cJSON_AddItemToObject(o, "collectives", collectives(p));
}

cJSON *uniap__archive_json_dataset(const char *path, int verify, int *status)
{
    cJSON *o = cJSON_CreateObject();
    uniap_profile p;
    struct stat st;

    *status = UNIAP_ENOMEM;
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "file", path);
    cJSON_AddNumberToObject(o, "bytes", stat(path, &st) == 0 ? (double)st.st_size : 0);
    uniap_err_clear();
    int rc = uniap_profile_read(path, &p), read_ok = rc == 0;
    if (rc == 0 && verify && !p.complete)
        rc = uniap_err(UNIAP_EMISSING,
                       "%s: incomplete (root attribute complete = 0): the profiling run was "
                       "interrupted; `uniap profile --resume` can finish it",
                       path);
    *status = rc;
    cJSON_AddBoolToObject(o, "ok", rc == 0);
    if (rc < 0)
        cJSON_AddStringToObject(o, "error", uniap_errmsg());
    if (read_ok) {
        describe(o, &p);
        uniap_profile_free(&p);
    }
    uniap_err_clear();
    return o;
}

int uniap__archive_json_print(const char *command, cJSON *datasets)
{
    cJSON *doc = cJSON_CreateObject();
    char *text = NULL;
    int rc = UNIAP_OK;

    if (!doc || !datasets) {
        cJSON_Delete(doc);
        cJSON_Delete(datasets);
        return uniap_err(UNIAP_ENOMEM, "archive %s: out of memory", command);
    }
    cJSON_AddStringToObject(doc, "format", "uniap-archive");
    cJSON_AddNumberToObject(doc, "version", 1);
    cJSON_AddStringToObject(doc, "command", command);
    cJSON_AddItemToObject(doc, "datasets", datasets);
    if (!(text = cJSON_Print(doc)))
        rc = uniap_err(UNIAP_ENOMEM, "archive %s: out of memory", command);
    else if (printf("%s\n", text) < 0 || fflush(stdout) != 0)
        rc = uniap_err(UNIAP_EIO, "standard output: write failed");
    free(text);
    cJSON_Delete(doc);
    return rc;
}
