/*
 * cmd_cluster.c - `uniap cluster`: a cluster spec, by preset name or file;
 * `--json` prints the canonical spec, which reads back. Runs under MPI
 * (initialized by main): every rank parses and loads, the ranks agree on
 * the outcome and on their inputs, only rank 0 prints. Bad input prints
 * "uniap: <message>" and exits 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "options.h"
#include "uniap_io.h"

static const char cluster_description[] =
    "Prints a cluster spec. NAME is a bundled preset (see --list), FILE a cluster spec (JSON).\n\n"
    "Cluster spec (JSON; unknown keys are errors): name, nodes, devices_per_node, device_name, "
    "device_memory (bytes) or device_memory_gib (all required but name); optional, 0 = unknown: "
    "peak_flops (16-bit dense FLOP/s), peak_flops_fp32, mem_bandwidth, intra_node_bw, "
    "inter_node_bw (bytes/s per device, one direction), intra_node_latency, inter_node_latency "
    "(s).";

static void print_cluster(const uniap_cluster *c)
{
    printf("cluster %s: %d node%s x %d devices = %d %s\n", c->name, c->nodes,
           c->nodes == 1 ? "" : "s", c->devices_per_node, uniap_cluster_devices(c), c->device_name);
    printf("  device memory        %lld bytes (%.2f GiB)\n", (long long)c->device_memory,
           (double)c->device_memory / (1024.0 * 1024 * 1024));
    printf("  peak 16-bit          %.1f TFLOP/s\n", c->peak_flops / 1e12);
    printf("  peak fp32            %.1f TFLOP/s\n", c->peak_flops_fp32 / 1e12);
    printf("  memory bandwidth     %.1f GB/s\n", c->mem_bandwidth / 1e9);
    printf("  inside a node        %.2f GB/s per device each way, latency %.1f us\n",
           c->intra_node_bw / 1e9, c->intra_node_latency * 1e6);
    printf("  between nodes        %.2f GB/s per device each way, latency %.1f us\n",
           c->inter_node_bw / 1e9, c->inter_node_latency * 1e6);
    printf("  (0 means unknown: measure with `uniap profile`)\n");
}

/* The parser's warnings (figures that look like a unit slip), one per line,
 * on stderr: they must not mix into --json output. */
static void print_warnings(const char *w)
{
    while (w && *w) {
        const char *nl = strchr(w, '\n');
        int len = nl ? (int)(nl - w) : (int)strlen(w);
        if (len > 0)
            fprintf(stderr, "uniap cluster: warning: %.*s\n", len, w);
        w += len + (nl != NULL);
    }
}

static int print_presets(void)
{
    const char *const *p = uniap_cluster_presets();
    uniap_cluster c;
    int rc;

    for (int i = 0; p[i]; i++) {
        if ((rc = uniap_cluster_preset(p[i], &c)) < 0)
            return rc;
        printf("%-14s %2d x %d %-16s %5.0f GiB\n", p[i], c.nodes, c.devices_per_node, c.device_name,
               (double)c.device_memory / (1024.0 * 1024 * 1024));
    }
    return 0;
}

int uniap_cli_cluster(int argc, char **argv)
{
    const char *target = NULL;
    char *json = NULL;
    int as_json = 0, list = 0, rc, status, rank = uniap__world_rank();
    uniap_cluster c;
    uniap_opt opts[] = {
        {.name = "json",
         .kind = UNIAP_OPTK_FLAG,
         .dest = &as_json,
         .help = "print the canonical spec as JSON (reads back as a cluster spec)"},
        {.name = "list", .kind = UNIAP_OPTK_FLAG, .dest = &list, .help = "list the presets"},
        {.name = "NAME|FILE",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &target,
         .flags = UNIAP_OPT_POSITIONAL | UNIAP_OPT_MAYBE_FILE,
         .help = "cluster preset name or cluster spec JSON file"},
        {0}};
    uniap_cmd cmd = {.name = "cluster",
                     .summary = "print a cluster spec",
                     .synopsis = "uniap cluster [--json] NAME|FILE\n       uniap cluster --list",
                     .description = cluster_description,
                     .opts = opts};

    uniap_err_clear();
    rc = uniap_opts_parse(&cmd, argc, argv);
    if (rc == 0 && !list && !target)
        rc = uniap_err(UNIAP_EINVAL, "expected NAME|FILE (or --list), got nothing");
    rc = uniap__agree(rc);
    if (uniap_opts_finish(&cmd, rc, rank == 0, &status))
        return status;
    if (list)
        return rank == 0 && (rc = print_presets()) < 0 ? uniap__report("uniap", rc) : 0;
    rc = uniap_cluster_resolve(target, &c);
    if (rc == 0 && rank == 0)
        print_warnings(uniap_cluster_warnings());
    if (rc == 0)
        rc = uniap_cluster_to_json(&c, &json);
    rc = uniap__ranks_agree(rc, argc, argv, json, "cluster spec");
    if (rc == 0 && rank == 0) {
        if (as_json)
            printf("%s\n", json);
        else
            print_cluster(&c);
        if (fflush(stdout) != 0)
            rc = uniap_err(UNIAP_EIO, "standard output: write failed");
    }
    free(json);
    return rc < 0 ? uniap__report("uniap", rc) : 0;
}
