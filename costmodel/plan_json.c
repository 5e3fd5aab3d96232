/*
 * plan_json.c - the plan file: a chosen placement and per-layer strategy
 * with its predicted TPI, as `uniap plan` writes it and `uniap estimate`
 * reads it; the per-stage breakdown (compute, comm, tail, memory by term)
 * shared by the plan file and `uniap estimate`; CRC32 of a profile file.
 *
 * Format ("format": "uniap-plan", "version": 1):
 *   model, cluster, profile, profile_checksum, global_batch, deg,
 *   micro_batches, micro_batch, schedule (a uniap_schedule_name),
 *   virtual_stages (optional: the schedule's, 1 without interleaving), runtime
 *   (a uniap_runtime_name: the plans searched; absent: "any"), tpi,
 *   unrestricted_tpi (optional: --compare-any's unrestricted optimum),
 *   throughput, status, gap, search_seconds,
 *   mfu (optional: model FLOPs utilization, mfu.c),
 *   pairs {total, solved, pruned},
 *   layers [{layer, kind, stage, strategy}],
 *   stages [{stage, first_layer, last_layer, compute, comm, tail, memory,
 *            memory_states, memory_activations, memory_peak, budget}]
 *   (stages only when an evaluation is given),
 *   search (optional: the options `uniap plan` searched with, option name
 *           to value as text, cli/options_record.c; `uniap plan --from`).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cm_internal.h"

void uniap_plan_free(uniap_plan *p)
{
    if (!p)
        return;
    free(p->stage_of);
    free(p->strategy_of);
    free(p->search);
    memset(p, 0, sizeof(*p));
}

int cm_stage_breakdown(const uniap_cost_table *t, uniap_schedule sched, const int *stage_of,
                       const int *strategy_of, cm_stage_memory *out)
{
    int K = t->n_strategies;
    for (int i = 0; i < t->deg; i++)
        memset(&out[i], 0, sizeof(out[i]));
    for (int u = 0; u < t->n_layers; u++) {
        int i = stage_of[u];
        if (i < 0 || i >= t->deg || strategy_of[u] < 0 || strategy_of[u] >= K)
            return uniap_err(UNIAP_EINVAL, "plan: layer %d has stage %d / strategy %d out of range",
                             u, i, strategy_of[u]);
        size_t uk = uniap_ct_ix(t, t->stage_class[i], u, strategy_of[u]);
        if (out[i].n_layers++ == 0)
            out[i].first_layer = u;
        out[i].last_layer = u;
        out[i].states += t->mem_states[uk];
        out[i].act_per_micro_batch += t->mem_act[uk];
        if (t->mem_peak[uk] > out[i].peak)
            out[i].peak = t->mem_peak[uk];
    }
    for (int i = 0; i < t->deg; i++) {
        out[i].inflight = uniap_inflight(sched, t->micro_batches, t->deg, i);
        out[i].activations = out[i].inflight * out[i].act_per_micro_batch;
    }
    return UNIAP_OK;
}

static cJSON *stages_json(const uniap_plan *p, const uniap_cost_table *t,
                          const uniap_plan_eval *eval)
{
    cJSON *arr = cJSON_CreateArray();
    cm_stage_memory *mem = NULL;
    int *idx = NULL;

    if (!arr)
        return NULL;
    if (t) {
        mem = calloc((size_t)p->deg, sizeof(*mem));
        idx = calloc((size_t)p->n_layers, sizeof(int));
        if (!mem || !idx || uniap_plan_strategy_indices(p, t, idx) < 0 ||
            cm_stage_breakdown(t, p->schedule, p->stage_of, idx, mem) < 0) {
            uniap_err_clear(); /* the breakdown is optional */
            free(mem);
            mem = NULL;
        }
    }
    for (int i = 0; i < eval->deg; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddNumberToObject(s, "stage", i);
        if (mem) {
            cJSON_AddNumberToObject(s, "first_layer", mem[i].first_layer);
            cJSON_AddNumberToObject(s, "last_layer", mem[i].last_layer);
        }
        cJSON_AddNumberToObject(s, "compute", eval->stage_compute[i]);
        cJSON_AddNumberToObject(s, "comm", i + 1 < eval->deg ? eval->stage_comm[i] : 0.0);
        cJSON_AddNumberToObject(s, "tail", eval->stage_tail[i]);
        cJSON_AddNumberToObject(s, "memory", eval->stage_mem[i]);
        if (mem) {
            cJSON_AddNumberToObject(s, "memory_states", mem[i].states);
            cJSON_AddNumberToObject(s, "memory_activations", mem[i].activations);
            cJSON_AddNumberToObject(s, "memory_peak", mem[i].peak);
            cJSON_AddNumberToObject(s, "budget", uniap_ct_budget(t, i));
        }
        cJSON_AddItemToArray(arr, s);
    }
    free(mem);
    free(idx);
    return arr;
}

int uniap_plan_write_json(const char *path, const uniap_plan *p, const uniap_model *m,
                          const uniap_cost_table *t, const uniap_plan_eval *eval)
{
    cJSON *root = cJSON_CreateObject(), *layers, *pairs;
    char *text = NULL;
    int rc;

    if (!root)
        return uniap_err(UNIAP_ENOMEM, "plan %s: out of memory", path);
    cJSON_AddStringToObject(root, "format", "uniap-plan");
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "model", p->model);
    cJSON_AddStringToObject(root, "cluster", p->cluster);
    cJSON_AddStringToObject(root, "profile", p->profile);
    cJSON_AddStringToObject(root, "profile_checksum", p->profile_checksum);
    cJSON_AddNumberToObject(root, "global_batch", (double)p->global_batch);
    cJSON_AddNumberToObject(root, "deg", p->deg);
    cJSON_AddNumberToObject(root, "micro_batches", p->micro_batches);
    cJSON_AddNumberToObject(root, "micro_batch", p->micro_batch);
    cJSON_AddStringToObject(root, "schedule", uniap_schedule_name(p->schedule));
    /* model chunks per device (1: no interleaving); read back as a check */
    cJSON_AddNumberToObject(root, "virtual_stages", uniap_schedule_virtual_stages(p->schedule));
    cJSON_AddStringToObject(root, "runtime", p->runtime[0] ? p->runtime : "any");
    cJSON_AddNumberToObject(root, "tpi", p->tpi);
    if (p->any_tpi > 0) /* --compare-any: the unrestricted optimum beside it */
        cJSON_AddNumberToObject(root, "unrestricted_tpi", p->any_tpi);
    cJSON_AddNumberToObject(root, "throughput", p->throughput);
    if (p->mfu > 0) /* model FLOPs utilization (mfu.c) */
        cJSON_AddNumberToObject(root, "mfu", p->mfu);
    cJSON_AddStringToObject(root, "status", p->status);
    cJSON_AddNumberToObject(root, "gap", p->gap);
    cJSON_AddNumberToObject(root, "search_seconds", p->search_seconds);
    pairs = cJSON_AddObjectToObject(root, "pairs");
    if (pairs) {
        cJSON_AddNumberToObject(pairs, "total", p->pairs_total);
        cJSON_AddNumberToObject(pairs, "solved", p->pairs_solved);
        cJSON_AddNumberToObject(pairs, "pruned", p->pairs_pruned);
    }
    layers = cJSON_AddArrayToObject(root, "layers");
    for (int u = 0; layers && u < p->n_layers; u++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddNumberToObject(l, "layer", u);
        if (m && u < m->n_layers)
            cJSON_AddStringToObject(l, "kind",
                                    uniap_layer_kind_name(m->runs[uniap_model_run_of(m, u)].kind));
        cJSON_AddNumberToObject(l, "stage", p->stage_of[u]);
        cJSON_AddStringToObject(l, "strategy", p->strategy_of[u].name);
        cJSON_AddItemToArray(layers, l);
    }
    if (eval)
        cJSON_AddItemToObject(root, "stages", stages_json(p, t, eval));
    if (p->search) { /* the options searched with: `uniap plan --from` reruns it */
        cJSON *so = cJSON_Parse(p->search);
        if (!cJSON_IsObject(so)) {
            cJSON_Delete(so);
            cJSON_Delete(root);
            return uniap_err(UNIAP_EINTERNAL, "plan %s: the search record is no JSON object", path);
        }
        cJSON_AddItemToObject(root, "search", so);
    }
    text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return uniap_err(UNIAP_ENOMEM, "plan %s: out of memory while serializing", path);
    size_t len = strlen(text);
    text[len] = '\n'; /* replace the terminator: the file ends in a newline */
    rc = uniap_write_file_atomic(path, text, len + 1);
    free(text);
    return rc;
}

/* Reading: every field a plan file may hold is checked, each error naming
 * the file and the JSON path ("plan.json: layers[3].stage: expected ...,
 * got ..."). Absent optional fields keep their defaults; hand-written
 * plans may leave out format, version, global_batch, micro_batch, the
 * per-layer "layer" index and every figure. */

#define PLAN_VERSION 1

/* Integer field key of obj (path names obj, "" for the root) in lo..hi
 * into *out: 1 present, 0 absent (required: an error), <0 error. */
static int get_int(const cJSON *obj, const char *file, const char *path, const char *key,
                   int required, long long lo, long long hi, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    const char *dot = path[0] ? "." : "";

    if (!v) {
        if (required)
            return uniap_err(UNIAP_EINVAL,
                             "%s: %s%s%s: expected an integer in %lld..%lld, got "
                             "nothing (field missing)",
                             file, path, dot, key, lo, hi);
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)lo ||
        v->valuedouble > (double)hi) {
        if (cJSON_IsNumber(v))
            return uniap_err(UNIAP_EINVAL,
                             "%s: %s%s%s: expected an integer in %lld..%lld, got %.17g", file, path,
                             dot, key, lo, hi, v->valuedouble);
        return uniap_err(UNIAP_EINVAL, "%s: %s%s%s: expected an integer in %lld..%lld, got %s",
                         file, path, dot, key, lo, hi,
                         cJSON_IsString(v) ? "a string" : "a non-number");
    }
    *out = (long long)v->valuedouble;
    return 1;
}

/* Optional string field into buf (n bytes): refuses a non-string or one
 * that does not fit. */
static int get_str(const cJSON *obj, const char *file, const char *key, char *buf, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!v)
        return 0;
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= n)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s: expected a string of at most %zu characters, got %s", file, key,
                         n - 1, cJSON_IsString(v) ? "a longer one" : "a non-string value");
    snprintf(buf, n, "%s", v->valuestring);
    return 1;
}

/* Optional finite number >= 0 (a time, rate or gap) into *out. */
static int get_num(const cJSON *obj, const char *file, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0)
        return uniap_err(UNIAP_EINVAL, "%s: %s: expected a finite number >= 0, got %s", file, key,
                         cJSON_IsNumber(v) ? "a negative or infinite number" : "a non-number");
    *out = v->valuedouble;
    return 1;
}

/* format, version, names, sizes, schedule, figures and pairs. */
static int read_header(const cJSON *root, const char *path, uniap_plan *out)
{
    const cJSON *v;
    long long x = 0;
    int rc;

    v = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (v && (!cJSON_IsString(v) || strcmp(v->valuestring, "uniap-plan") != 0))
        return uniap_err(UNIAP_EINVAL, "%s: format: expected \"uniap-plan\", got %s%s%s", path,
                         cJSON_IsString(v) ? "\"" : "",
                         cJSON_IsString(v) ? v->valuestring : "a non-string value",
                         cJSON_IsString(v) ? "\"" : "");
    v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (v && !cJSON_IsNumber(v))
        return uniap_err(UNIAP_EINVAL,
                         "%s: version: expected %d (the plan format this uniap reads), got a "
                         "non-number",
                         path, PLAN_VERSION);
    if (v && v->valuedouble != PLAN_VERSION)
        return uniap_err(UNIAP_EINVAL,
                         "%s: version: expected %d (the plan format this uniap reads), got %.17g",
                         path, PLAN_VERSION, v->valuedouble);
    if ((rc = get_str(root, path, "model", out->model, sizeof(out->model))) < 0 ||
        (rc = get_str(root, path, "cluster", out->cluster, sizeof(out->cluster))) < 0 ||
        (rc = get_str(root, path, "profile", out->profile, sizeof(out->profile))) < 0 ||
        (rc = get_str(root, path, "profile_checksum", out->profile_checksum,
                      sizeof(out->profile_checksum))) < 0 ||
        (rc = get_str(root, path, "status", out->status, sizeof(out->status))) < 0)
        return rc;
    if ((rc = get_int(root, path, "", "global_batch", 0, 1, (long long)1 << 40, &x)) < 0)
        return rc;
    out->global_batch = rc ? x : 0;
    if ((rc = get_int(root, path, "", "deg", 1, 1, 1 << 20, &x)) < 0)
        return rc;
    out->deg = (int)x;
    if ((rc = get_int(root, path, "", "micro_batches", 1, 1, 1 << 30, &x)) < 0)
        return rc;
    out->micro_batches = (int)x;
    int64_t size = uniap_micro_batch_size(out->global_batch, out->micro_batches);
    if (out->global_batch && size == 0)
        return uniap_err(UNIAP_EINVAL,
                         "%s: micro_batches: expected a divisor of global_batch (%lld) or a count "
                         "torch.chunk splits it into (ceil(global_batch / micro_batches) each), "
                         "got %d",
                         path, (long long)out->global_batch, out->micro_batches);
    x = size;
    if ((rc = get_int(root, path, "", "micro_batch", 0, 1, INT_MAX, &x)) < 0)
        return rc;
    if (rc && out->global_batch && x != size)
        return uniap_err(UNIAP_EINVAL,
                         "%s: micro_batch: expected %lld for global_batch %lld in %d "
                         "micro-batches (%s), got %lld",
                         path, (long long)size, (long long)out->global_batch, out->micro_batches,
                         out->global_batch % out->micro_batches
                             ? "ceil(global_batch / micro_batches)"
                             : "global_batch / micro_batches",
                         x);
    if (x > INT_MAX)
        return uniap_err(UNIAP_EINVAL,
                         "%s: global_batch: expected at most %d samples per "
                         "micro-batch, got %lld",
                         path, INT_MAX, x);
    out->micro_batch = (int)x;
    out->schedule = UNIAP_SCHED_1F1B; /* plans without the field were 1F1B */
    v = cJSON_GetObjectItemCaseSensitive(root, "schedule");
    if (v && (!cJSON_IsString(v) || uniap_schedule_parse(v->valuestring, &out->schedule) < 0)) {
        char names[256];
        uniap_err_clear();
        uniap_schedule_list(names, sizeof names, "\"");
        return uniap_err(UNIAP_EINVAL, "%s: schedule: expected %s, got %s%s%s", path, names,
                         cJSON_IsString(v) ? "\"" : "",
                         cJSON_IsString(v) ? v->valuestring : "a non-string value",
                         cJSON_IsString(v) ? "\"" : "");
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "virtual_stages");
    if (v && (!cJSON_IsNumber(v) || v->valuedouble != uniap_schedule_virtual_stages(out->schedule)))
        return uniap_err(
            UNIAP_EINVAL, "%s: virtual_stages: expected %d (schedule \"%s\"), got %s%g", path,
            uniap_schedule_virtual_stages(out->schedule), uniap_schedule_name(out->schedule),
            cJSON_IsNumber(v) ? "" : "a non-number ", cJSON_IsNumber(v) ? v->valuedouble : 0.0);
    /* the runtime searched (runtime.c); plans without the field: "any" */
    snprintf(out->runtime, sizeof out->runtime, "any");
    uniap_runtime rt;
    if ((rc = get_str(root, path, "runtime", out->runtime, sizeof(out->runtime))) < 0)
        return rc;
    if (uniap_runtime_parse(out->runtime, &rt) < 0) {
        char names[160] = "";
        uniap_err_clear();
        for (int i = 0; uniap_runtime_names()[i]; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s\"%s\"", i ? ", " : "",
                     uniap_runtime_names()[i]);
        return uniap_err(UNIAP_EINVAL, "%s: runtime: expected one of %s, got \"%s\"", path, names,
                         out->runtime);
    }
    if ((rc = get_num(root, path, "unrestricted_tpi", &out->any_tpi)) < 0)
        return rc;
    if ((rc = get_num(root, path, "tpi", &out->tpi)) < 0 ||
        (rc = get_num(root, path, "throughput", &out->throughput)) < 0 ||
        (rc = get_num(root, path, "gap", &out->gap)) < 0 ||
        (rc = get_num(root, path, "search_seconds", &out->search_seconds)) < 0)
        return rc;
    v = cJSON_GetObjectItemCaseSensitive(root, "pairs");
    if (v && !cJSON_IsObject(v))
        return uniap_err(UNIAP_EINVAL, "%s: pairs: expected an object {total, solved, pruned}",
                         path);
    if (v) {
        const char *keys[3] = {"total", "solved", "pruned"};
        int *dst[3] = {&out->pairs_total, &out->pairs_solved, &out->pairs_pruned};
        for (int i = 0; i < 3; i++) {
            x = 0;
            if ((rc = get_int(v, path, "pairs", keys[i], 0, 0, INT_MAX, &x)) < 0)
                return rc;
            *dst[i] = (int)x;
        }
    }
    return UNIAP_OK;
}

/* layers[u]: its index, stage (0..deg-1, non-decreasing, no stage left
 * empty) and strategy. */
static int read_layer(const cJSON *l, const char *path, int u, uniap_plan *out)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(l, "strategy");
    char where[32];
    long long x = 0;
    int rc, prev = u ? out->stage_of[u - 1] : 0;

    snprintf(where, sizeof(where), "layers[%d]", u);
    if (!cJSON_IsObject(l))
        return uniap_err(UNIAP_EINVAL, "%s: %s: expected a layer object", path, where);
    if ((rc = get_int(l, path, where, "layer", 0, 0, INT_MAX, &x)) < 0)
        return rc;
    if (rc && x != u)
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s.layer: expected %d (layers listed in order 0..%d, each once), "
                         "got %lld",
                         path, where, u, out->n_layers - 1, x);
    if ((rc = get_int(l, path, where, "stage", 1, 0, out->deg - 1, &x)) < 0)
        return rc;
    if (x < prev || x > prev + 1 || (u == 0 && x != 0))
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s.stage: expected %s (stages are contiguous: 0 first, then the "
                         "previous layer's stage or the next one), got %lld",
                         path, where, u == 0 ? "0" : "the previous stage or the next", x);
    out->stage_of[u] = (int)x;
    if (!cJSON_IsString(st))
        return uniap_err(UNIAP_EINVAL, "%s: %s.strategy: expected a strategy name string, got %s",
                         path, where, st ? "a non-string value" : "nothing (field missing)");
    if ((rc = uniap_strategy_parse(st->valuestring, &out->strategy_of[u])) < 0)
        return uniap_err(rc, "%s: %s.strategy", path, where);
    return UNIAP_OK;
}

/* The optional "search" object (the options searched with), kept as text;
 * and the optional "mfu". */
static int read_search(const cJSON *root, const char *path, uniap_plan *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "search");
    int rc = get_num(root, path, "mfu", &out->mfu);
    if (rc < 0 || !v)
        return rc < 0 ? rc : UNIAP_OK;
    if (!cJSON_IsObject(v))
        return uniap_err(UNIAP_EINVAL, "%s: search: expected an object (the options searched)",
                         path);
    if (!(out->search = cJSON_PrintUnformatted(v)))
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory", path);
    return UNIAP_OK;
}

int uniap_plan_read_json(const char *path, uniap_plan *out)
{
    char *text = NULL;
    size_t len;
    cJSON *root;
    const cJSON *layers;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = uniap_read_file(path, &text, &len)) < 0)
        return rc;
    root = cJSON_Parse(text);
    free(text);
    if (!root || !cJSON_IsObject(root)) {
        rc = uniap_err(UNIAP_EINVAL, "%s: not a JSON object (a uniap plan file expected)", path);
        goto free_root;
    }
    if ((rc = read_header(root, path, out)) < 0 || (rc = read_search(root, path, out)) < 0)
        goto free_root;
    layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 1) {
        rc = uniap_err(UNIAP_EINVAL, "%s: layers: expected a non-empty array of layers", path);
        goto free_root;
    }
    out->n_layers = cJSON_GetArraySize(layers);
    out->stage_of = calloc((size_t)out->n_layers, sizeof(int));
    out->strategy_of = calloc((size_t)out->n_layers, sizeof(uniap_strategy));
    if (!out->stage_of || !out->strategy_of) {
        rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory", path);
        goto free_root;
    }
    int u = 0;
    const cJSON *l;
    cJSON_ArrayForEach(l, layers)
    {
        if ((rc = read_layer(l, path, u, out)) < 0)
            goto free_root;
        u++;
    }
    if (out->stage_of[out->n_layers - 1] != out->deg - 1) {
        rc = uniap_err(UNIAP_EINVAL,
                       "%s: layers[%d].stage: expected %d (every one of the deg %d stages holds "
                       "a layer), got %d",
                       path, out->n_layers - 1, out->deg - 1, out->deg,
                       out->stage_of[out->n_layers - 1]);
        goto free_root;
    }
    rc = UNIAP_OK;
free_root:
    cJSON_Delete(root);
    if (rc < 0)
        uniap_plan_free(out);
    return rc;
}

int uniap_plan_strategy_indices(const uniap_plan *p, const uniap_cost_table *t, int *out)
{
    if (p->n_layers != t->n_layers)
        return uniap_err(UNIAP_EINVAL, "plan has %d layers, the model %d", p->n_layers,
                         t->n_layers);
    for (int u = 0; u < p->n_layers; u++) {
        const char *name = p->strategy_of[u].name;
        out[u] = -1;
        for (int k = 0; k < t->n_strategies && out[u] < 0; k++)
            if (strcmp(t->strategies[k].name, name) == 0)
                out[u] = k;
        if (out[u] < 0)
            return uniap_err(UNIAP_EINVAL,
                             "plan: layer %d: strategy '%s' is not in the strategy space of "
                             "stages of %d devices at micro-batch %d (dp must divide the "
                             "micro-batch and dp x tp = %d)",
                             u, name, t->stage_devices, t->micro_batch, t->stage_devices);
        int st = p->stage_of[u] >= 0 && p->stage_of[u] < t->deg ? p->stage_of[u] : 0;
        if (!t->allowed[uniap_ct_ix(t, t->stage_class[st], u, out[u])])
            return uniap_err(UNIAP_EINVAL,
                             "plan: layer %d: strategy '%s' is not valid for it (tp must divide "
                             "its heads, key/value heads and ffn width)",
                             u, name);
    }
    return UNIAP_OK;
}
