/*
 * dump_costs.c - `uniap estimate --dump-costs FILE` (uniap_costs_write_json):
 * the cost tables as JSON, enough for
 * an outside tool to recompute any plan's TPI and memory with the formulas
 * at the top of uniap_costmodel.h.
 *
 * {"format": "uniap-costs", "version": 1, "model", "cluster", "profile",
 *  "global_batch", "schedule", "units": {...},
 *  "candidates": [{"deg", "micro_batches", "micro_batch", "stage_devices",
 *     "mem_budget", "boundary_spans_nodes": [deg-1],
 *     "strategies": [K names],
 *     "layers": [{"layer", "run", "allowed": [K], "time": [K], "wgrad": [K]
 *                 (W, the weight-gradient part of time), "tail": [K],
 *                 "mem_states": [K], "mem_act": [K], "mem_peak": [K],
 *                 "pairs": index into pair_matrices (absent for the last)}],
 *     "pair_matrices": [{"reshard": [K*K], "xstage_intra": [K*K],
 *                        "xstage_inter": [K*K]}]}]}
 * Pair matrices are row-major [k*K + l] (layer u on k, u+1 on l) and
 * shared by consecutive layers whose matrices are equal (a run's layers),
 * which keeps the file linear in the model's runs rather than its layers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"

static void put_array(FILE *f, const char *key, const double *v, size_t n, int last)
{
    fprintf(f, "\"%s\": [", key);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%.17g", i ? ", " : "", v[i]);
    fprintf(f, "]%s", last ? "" : ", ");
}

static int pairs_equal(const uniap_cost_table *t, int u, int v)
{
    size_t KK = (size_t)t->n_strategies * t->n_strategies, bytes = KK * sizeof(double);
    size_t a = uniap_ct_xpair(t, u, 0, 0), b = uniap_ct_xpair(t, v, 0, 0);
    return t->pair_of[u] == t->pair_of[v] ||
           (memcmp(t->reshard + uniap_ct_pair(t, 0, u, 0, 0),
                   t->reshard + uniap_ct_pair(t, 0, v, 0, 0), bytes) == 0 &&
            memcmp(t->xstage[0] + a, t->xstage[0] + b, bytes) == 0 &&
            memcmp(t->xstage[1] + a, t->xstage[1] + b, bytes) == 0);
}

static int put_table(FILE *f, const uniap_cost_table *t)
{
    int K = t->n_strategies, L = t->n_layers, np = 0;
    size_t KK = (size_t)K * K;
    int *pair_of = calloc((size_t)L, sizeof(int)), *first_of = calloc((size_t)L, sizeof(int));

    if (t->n_classes != 1) { /* version 1 has no device classes */
        free(pair_of);
        free(first_of);
        return uniap_err(UNIAP_EINVAL,
                         "--dump-costs: a table of %d device classes; format version 1 holds "
                         "one class",
                         t->n_classes);
    }
    if (!pair_of || !first_of) {
        free(pair_of);
        free(first_of);
        return uniap_err(UNIAP_ENOMEM, "--dump-costs: out of memory");
    }
    for (int u = 0; u + 1 < L; u++) {
        if (u > 0 && pairs_equal(t, u, u - 1)) {
            pair_of[u] = pair_of[u - 1];
            continue;
        }
        first_of[np] = u;
        pair_of[u] = np++;
    }
    fprintf(f,
            "{\"deg\": %d, \"micro_batches\": %d, \"micro_batch\": %d, \"stage_devices\": %d, "
            "\"mem_budget\": %.17g, \"boundary_spans_nodes\": [",
            t->deg, t->micro_batches, t->micro_batch, t->stage_devices, t->mem_budget[0]);
    for (int j = 0; j + 1 < t->deg; j++)
        fprintf(f, "%s%d", j ? ", " : "", t->boundary_spans_nodes[j]);
    fprintf(f, "],\n  \"strategies\": [");
    for (int k = 0; k < K; k++)
        fprintf(f, "%s\"%s\"", k ? ", " : "", t->strategies[k].name);
    fprintf(f, "],\n  \"layers\": [\n");
    for (int u = 0; u < L; u++) {
        size_t o = (size_t)u * K;
        fprintf(f, "   {\"layer\": %d, \"run\": %d, \"allowed\": [", u, t->run_of[u]);
        for (int k = 0; k < K; k++)
            fprintf(f, "%s%d", k ? ", " : "", t->allowed[o + k]);
        fprintf(f, "], ");
        put_array(f, "time", t->time + o, (size_t)K, 0);
        put_array(f, "wgrad", t->wgrad + o, (size_t)K, 0);
        put_array(f, "tail", t->tail + o, (size_t)K, 0);
        put_array(f, "mem_states", t->mem_states + o, (size_t)K, 0);
        put_array(f, "mem_act", t->mem_act + o, (size_t)K, 0);
        put_array(f, "mem_peak", t->mem_peak + o, (size_t)K, u + 1 == L);
        if (u + 1 < L)
            fprintf(f, "\"pairs\": %d", pair_of[u]);
        fprintf(f, "}%s\n", u + 1 < L ? "," : "");
    }
    fprintf(f, "  ],\n  \"pair_matrices\": [\n");
    for (int i = 0; i < np; i++) {
        size_t o = uniap_ct_xpair(t, first_of[i], 0, 0);
        fprintf(f, "   {");
        put_array(f, "reshard", t->reshard + uniap_ct_pair(t, 0, first_of[i], 0, 0), KK, 0);
        put_array(f, "xstage_intra", t->xstage[0] + o, KK, 0);
        put_array(f, "xstage_inter", t->xstage[1] + o, KK, 1);
        fprintf(f, "}%s\n", i + 1 < np ? "," : "");
    }
    fprintf(f, "  ]}");
    free(pair_of);
    free(first_of);
    return UNIAP_OK;
}

/* s as a JSON string (quotes, backslashes and control characters escaped). */
static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

int uniap_costs_write_json(FILE *f, const uniap_costmodel *cm, const char *profile_name,
                           const int *deg, const int *c, int n, int verbose)
{
    int rc;
    fprintf(f, "{\"format\": \"uniap-costs\", \"version\": 1, \"model\": ");
    put_str(f, cm->model->name);
    fprintf(f, ", \"cluster\": ");
    put_str(f, cm->cluster->name);
    fprintf(f, ", \"profile\": ");
    put_str(f, profile_name);
    fprintf(f,
            ", \"global_batch\": %lld, \"schedule\": \"%s\",\n"
            " \"units\": {\"time\": \"s per micro-batch\", \"wgrad\": \"s per micro-batch\", "
            "\"tail\": \"s per iteration\", "
            "\"memory\": \"bytes per device\"},\n \"candidates\": [\n",
            (long long)cm->opt.global_batch, uniap_schedule_name(cm->opt.schedule));
    for (int i = 0; i < n; i++) {
        uniap_cost_table t;
        if ((rc = uniap_costmodel_table(cm, deg[i], c[i], &t)) < 0)
            return rc;
        rc = put_table(f, &t);
        uniap_cost_table_free(&t);
        if (rc < 0)
            return rc;
        fprintf(f, "%s\n", i + 1 < n ? "," : "");
        if (verbose && n > 1 && (10 * (i + 1)) / n != (10 * i) / n) /* progress every tenth */
            fprintf(stderr, "uniap estimate: --dump-costs: %d of %d tables written\n", i + 1, n);
    }
    fprintf(f, " ]}\n");
    if (ferror(f))
        return uniap_err(UNIAP_EIO, "--dump-costs: write failed");
    return UNIAP_OK;
}
