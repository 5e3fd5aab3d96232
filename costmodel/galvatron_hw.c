/*
 * galvatron_hw.c - the hardware half of the Galvatron importer: collective
 * curves from Galvatron's hardware_configs (all-reduce bus bandwidth per
 * group and placement, point-to-point bandwidth, measured sp_time curves).
 * Units: GB/s = 1e9 bytes/s; ms; "MB" sizes taken as MiB.
 */
#include <stdio.h>
#include <string.h>

#include "cm_internal.h"
#include "galvatron_internal.h"

static int have_curve(const uniap_profile *p, uniap_coll_op op, int g, int spans)
{
    for (int i = 0; i < p->n_colls; i++)
        if (p->colls[i].op == op && p->colls[i].group_size == g && p->colls[i].spans_nodes == spans)
            return 1;
    return 0;
}

/* sp_time_<n>nodes_<g>gpus_per_node.json: measured all-reduce and
 * all-to-all times (ms) by message size ("<x>MB", taken as MiB) and group;
 * they take precedence over the bandwidth-derived curves. Optional. */
int cm_galv_import_sp_time(const uniap_cluster *c, const char *dir, uniap_profile *out,
                           cm_warnings *w)
{
    char path[1024];
    cJSON *j;
    const cJSON *it;
    int rc = UNIAP_OK, n = 0;

    snprintf(path, sizeof(path), "%s/sp_time_%dnodes_%dgpus_per_node.json", dir, c->nodes,
             c->devices_per_node);
    if (cm_galv_load_json(path, &j) < 0) {
        uniap_err_clear();
        return UNIAP_OK; /* bandwidth figures only */
    }
    cJSON_ArrayForEach(it, j)
    {
        uniap_coll_prof row;
        char op[16];
        int g;
        long mb;
        if (!cJSON_IsNumber(it) || !(it->valuedouble > 0) ||
            sscanf(it->string, "%15[a-z0-9]_size_%d_%ldMB_time", op, &g, &mb) != 3 || g < 2 ||
            mb < 1)
            continue;
        memset(&row, 0, sizeof(row));
        if (strcmp(op, "allreduce") == 0)
            row.op = UNIAP_COLL_ALLREDUCE;
        else if (strcmp(op, "all2all") == 0)
            row.op = UNIAP_COLL_ALLTOALL;
        else
            continue;
        double t = it->valuedouble / 1000.0;
        row.group_size = g;
        row.spans_nodes = g > c->devices_per_node;
        row.src = row.dst = -1;
        row.bytes = (int64_t)mb * MiB;
        row.time = (uniap_stat){t, t, t, 1};
        row.algbw = (double)row.bytes / t;
        row.busbw = row.algbw * uniap_busbw_factor(row.op, g);
        if ((rc = uniap_profile_add_coll(out, &row)) < 0)
            break;
        n++;
    }
    if (n)
        cm_galv_note(w,
                     "%s: %d measured all-reduce/all-to-all points replace the bandwidth-derived "
                     "curves of their groups",
                     path, n);
    cJSON_Delete(j);
    return rc;
}

/* allreduce_bandwidth_<n>nodes_<g>gpus_per_node.json: bus bandwidth in GB/s
 * per group size and consec flag; taken for every collective op (the files
 * measure all-reduce only). consec 1: the group fills nodes in order
 * (spans nodes when larger than a node); consec 0: strided over the world
 * (spans nodes when there are several). */
int cm_galv_import_allreduce(const uniap_cluster *c, const char *dir, uniap_profile *out,
                             cm_warnings *w)
{
    char path[1024];
    cJSON *j;
    const cJSON *it;
    int rc, seen[2][1025] = {{0}};

    snprintf(path, sizeof(path), "%s/allreduce_bandwidth_%dnodes_%dgpus_per_node.json", dir,
             c->nodes, c->devices_per_node);
    if ((rc = cm_galv_load_json(path, &j)) < 0)
        return uniap_err(UNIAP_EMISSING,
                         "galvatron import: no all-reduce bandwidth for %d nodes x "
                         "%d devices",
                         c->nodes, c->devices_per_node);
    for (int pass = 1; pass >= 0; pass--) /* consec 1 first: it wins a tie */
        cJSON_ArrayForEach(it, j)
        {
            int g, consec;
            if (!cJSON_IsNumber(it) ||
                sscanf(it->string, "allreduce_size_%d_consec_%d", &g, &consec) != 2 ||
                consec != pass || g < 2 || g > 1024 || !(it->valuedouble > 0))
                continue;
            int spans = consec ? g > c->devices_per_node : c->nodes > 1;
            if (seen[spans][g]++)
                continue;
            for (int op = 0; op < UNIAP_COLL_COUNT; op++)
                if (op != UNIAP_COLL_P2P && !have_curve(out, (uniap_coll_op)op, g, spans) &&
                    (rc = cm_add_modelled_curve(out, (uniap_coll_op)op, g, spans, 0.0,
                                                it->valuedouble * 1e9, 0)) < 0)
                    goto free_json;
        }
    cm_galv_note(w,
                 "%s: all-gather, reduce-scatter, all-to-all and broadcast use the all-reduce bus "
                 "bandwidth; no latency term (bandwidth figures only)",
                 path);
    rc = UNIAP_OK;
free_json:
    cJSON_Delete(j);
    return rc;
}

/* p2p_bandwidth_*: pp_size_2 of the cluster's shape (two stages) is the
 * cross-stage link; spanning nodes on multi-node shapes, inside a node on
 * one node (the one-node file of the same node width serves both). */
int cm_galv_import_p2p(const uniap_cluster *c, const char *dir, uniap_profile *out, cm_warnings *w)
{
    int rc;
    for (int spans = 0; spans < 2; spans++) {
        char path[1024];
        cJSON *j;
        if (spans && c->nodes < 2)
            continue;
        snprintf(path, sizeof(path), "%s/p2p_bandwidth_%dnodes_%dgpus_per_node.json", dir,
                 spans ? c->nodes : 1, c->devices_per_node);
        if (cm_galv_load_json(path, &j) < 0) {
            uniap_err_clear();
            cm_galv_note(w, "no point-to-point figures %s (%s missing)",
                         spans ? "between nodes" : "inside a node", path);
            continue;
        }
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "pp_size_2");
        if (cJSON_IsNumber(v) && v->valuedouble > 0)
            rc = cm_add_modelled_curve(out, UNIAP_COLL_P2P, 2, spans, 0.0, v->valuedouble * 1e9, 0);
        else {
            cm_galv_note(w, "%s lacks pp_size_2", path);
            rc = UNIAP_OK;
        }
        cJSON_Delete(j);
        if (rc < 0)
            return rc;
    }
    return UNIAP_OK;
}
