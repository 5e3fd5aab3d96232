/*
 * cmd_cluster.c - `uniap cluster`: a cluster spec, by preset name or file;
 * `--json` prints the canonical spec, which reads back. Runs under MPI
 * (initialized by main): every rank parses and loads, the ranks agree on
 * the outcome and on their inputs, only rank 0 prints (the driver shared
 * with `uniap model`: spec_cmd.c). Bad input prints "uniap cluster: error:
 * <message>" and exits 2.
 */
#include <stdio.h>
#include <string.h>

#include "cmd_util.h"
#include "uniap_io.h"

static const char cluster_description[] =
    "Prints a cluster spec. NAME is a bundled preset (see --list), FILE a cluster spec (JSON).\n\n"
    "Cluster spec (JSON; unknown keys are errors): name, nodes, devices_per_node, device_name, "
    "device_memory (bytes) or device_memory_gib (all required but name); optional, 0 = unknown: "
    "peak_flops (16-bit dense FLOP/s), peak_flops_fp32, peak_flops_fp8 (dense FP8 FLOP/s, "
    "at least peak_flops; only devices with FP8 tensor cores), mem_bandwidth, intra_node_bw, "
    "inter_node_bw (bytes/s per device, one direction), intra_node_latency, inter_node_latency "
    "(s), intra_node_busbw, inter_node_busbw (the bus bandwidth NCCL collectives achieve on those "
    "links at large messages, nccl-tests busbw in bytes/s; 0: the link rate), sm_count, "
    "gemm_tile_m, gemm_tile_n, gemm_efficiency, gemm_efficiency_fp32, gemm_efficiency_fp8, "
    "flash_fwd_efficiency, "
    "flash_bwd_efficiency (the analytic device model's GEMM facts).";

static void print_cluster(const uniap_cluster *c)
{
    printf("cluster %s: %d node%s x %d devices = %d %s\n", c->name, c->nodes,
           c->nodes == 1 ? "" : "s", c->devices_per_node, uniap_cluster_devices(c), c->device_name);
    printf("  device memory        %lld bytes (%.2f GiB)\n", (long long)c->device_memory,
           (double)c->device_memory / (1024.0 * 1024 * 1024));
    printf("  peak 16-bit          %.1f TFLOP/s\n", c->peak_flops / 1e12);
    printf("  peak fp32            %.1f TFLOP/s\n", c->peak_flops_fp32 / 1e12);
    if (c->peak_flops_fp8 > 0)
        printf("  peak fp8             %.1f TFLOP/s\n", c->peak_flops_fp8 / 1e12);
    else
        printf("  peak fp8             none (no FP8 tensor cores: --precision fp8 refused)\n");
    printf("  memory bandwidth     %.1f GB/s\n", c->mem_bandwidth / 1e9);
    printf("  inside a node        %.2f GB/s per device each way, latency %.1f us\n",
           c->intra_node_bw / 1e9, c->intra_node_latency * 1e6);
    printf("  between nodes        %.2f GB/s per device each way, latency %.1f us\n",
           c->inter_node_bw / 1e9, c->inter_node_latency * 1e6);
    printf("  collectives achieve  %.2f GB/s busbw inside a node, %.2f between nodes\n",
           c->intra_node_busbw / 1e9, c->inter_node_busbw / 1e9);
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

static int load_cluster(const char *target, void *spec, char **json)
{
    int rc = uniap_cluster_resolve(target, spec);
    if (rc == 0 && uniap__world_rank() == 0)
        print_warnings(uniap_cluster_warnings());
    return rc == 0 ? uniap_cluster_to_json(spec, json) : rc;
}

static void print_cluster_spec(const void *spec)
{
    print_cluster(spec);
}

int uniap_cli_cluster(int argc, char **argv)
{
    static const uniap__spec_cmd sc = {
        .cmd = {.name = "cluster",
                .summary = "print a cluster spec",
                .synopsis = "uniap cluster [--json] NAME|FILE\n       uniap cluster --list",
                .description = cluster_description},
        .json_help = "print the canonical spec as JSON (reads back as a cluster spec)",
        .list_help = "list the presets",
        .target_help = "cluster preset name or cluster spec JSON file",
        .what = "cluster spec",
        .list = print_presets,
        .load = load_cluster,
        .print = print_cluster_spec};
    uniap_cluster c;
    return uniap__spec_command(&sc, &c, argc, argv);
}
