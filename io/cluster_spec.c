/*
 * cluster_spec.c - the cluster spec: JSON text <-> uniap_cluster, its
 * validation, and the bundled presets (JSON text parsed by the same parser,
 * datasheet values with their source beside each). Errors read
 * "<file>: <json path>: expected ..., got ..."; the plausible ranges of
 * the figures are in cluster_ranges.c.
 */
#include <assert.h>
#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec_json.h"

#define GIB ((int64_t)1 << 30)

static const char *const cluster_keys[] = {"name",
                                           "nodes",
                                           "devices_per_node",
                                           "device_name",
                                           "device_memory",
                                           "device_memory_gib",
                                           "peak_flops",
                                           "peak_flops_fp32",
                                           "peak_flops_fp8",
                                           "mem_bandwidth",
                                           "intra_node_bw",
                                           "inter_node_bw",
                                           "intra_node_latency",
                                           "inter_node_latency",
                                           "intra_node_busbw",
                                           "inter_node_busbw",
                                           "sm_count",
                                           "gemm_tile_m",
                                           "gemm_tile_n",
                                           "gemm_efficiency",
                                           "gemm_efficiency_fp32",
                                           "gemm_efficiency_fp8",
                                           "flash_fwd_efficiency",
                                           "flash_bwd_efficiency"};
#define N_CLUSTER_KEYS (int)(sizeof(cluster_keys) / sizeof(cluster_keys[0]))

/* Optional rates: 0 means unknown. Type and finiteness are checked here,
 * the plausible ranges by spec_cluster_check_ranges (cluster_ranges.c). */
static const struct {
    const char *key;
    size_t offset;
} rate_fields[] = {
    {"peak_flops", offsetof(uniap_cluster, peak_flops)},
    {"peak_flops_fp32", offsetof(uniap_cluster, peak_flops_fp32)},
    {"mem_bandwidth", offsetof(uniap_cluster, mem_bandwidth)},
    {"intra_node_bw", offsetof(uniap_cluster, intra_node_bw)},
    {"inter_node_bw", offsetof(uniap_cluster, inter_node_bw)},
    {"intra_node_latency", offsetof(uniap_cluster, intra_node_latency)},
    {"inter_node_latency", offsetof(uniap_cluster, inter_node_latency)},
    {"intra_node_busbw", offsetof(uniap_cluster, intra_node_busbw)},
    {"inter_node_busbw", offsetof(uniap_cluster, inter_node_busbw)},
};
#define N_RATE_FIELDS (sizeof(rate_fields) / sizeof(rate_fields[0]))
/* Optional rates written only when known (specs without them, and the
 * cluster_spec of older profiles, dump unchanged). */
static const struct {
    const char *key;
    size_t offset;
} optional_rates[] = {
    {"peak_flops_fp8", offsetof(uniap_cluster, peak_flops_fp8)},
};
#define N_OPTIONAL_RATES (sizeof(optional_rates) / sizeof(optional_rates[0]))

/* The GEMM-efficiency facts (optional, 0 = unknown; ranges checked by
 * spec_cluster_check_ranges): integers, then fractions. */
static const struct {
    const char *key;
    size_t offset;
} count_fields[] = {
    {"sm_count", offsetof(uniap_cluster, sm_count)},
    {"gemm_tile_m", offsetof(uniap_cluster, gemm_tile_m)},
    {"gemm_tile_n", offsetof(uniap_cluster, gemm_tile_n)},
};
static const struct {
    const char *key;
    size_t offset;
} fraction_fields[] = {
    {"gemm_efficiency", offsetof(uniap_cluster, gemm_efficiency)},
    {"gemm_efficiency_fp32", offsetof(uniap_cluster, gemm_efficiency_fp32)},
    {"gemm_efficiency_fp8", offsetof(uniap_cluster, gemm_efficiency_fp8)},
    {"flash_fwd_efficiency", offsetof(uniap_cluster, flash_fwd_efficiency)},
    {"flash_bwd_efficiency", offsetof(uniap_cluster, flash_bwd_efficiency)},
};
#define N_COUNT_FIELDS    (sizeof(count_fields) / sizeof(count_fields[0]))
#define N_FRACTION_FIELDS (sizeof(fraction_fields) / sizeof(fraction_fields[0]))

int uniap_cluster_parse(const char *json, const char *source, uniap_cluster *out)
{
    cJSON *root = NULL;
    uniap_cluster c;
    int64_t v;
    double gib = 0;
    int rc_ = 0, have_bytes, have_gib;

    assert(out);
    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    spec_cluster_warnings_clear();
    if (!source)
        source = "(cluster spec)";
    JSON_CHECK(spec_parse_text(json, source, &root), fail);
    JSON_CHECK(spec_check_keys(root, source, "", cluster_keys, N_CLUSTER_KEYS), free_root);

    spec_default_name(source, c.name, sizeof(c.name));
    JSON_CHECK(spec_get_string(root, "name", source, "", c.name, sizeof(c.name)), free_root);
    JSON_CHECK(spec_get_int(root, "nodes", source, "", 1, 100000, &v), free_root);
    if (!rc_) {
        rc_ = spec_missing(source, "", "nodes", "an integer >= 1");
        goto free_root;
    }
    c.nodes = (int)v;
    JSON_CHECK(spec_get_int(root, "devices_per_node", source, "", 1, 1024, &v), free_root);
    if (!rc_) {
        rc_ = spec_missing(source, "", "devices_per_node", "an integer >= 1");
        goto free_root;
    }
    c.devices_per_node = (int)v;
    JSON_CHECK(
        spec_get_string(root, "device_name", source, "", c.device_name, sizeof(c.device_name)),
        free_root);
    if (!rc_) {
        rc_ = spec_missing(source, "", "device_name", "a string (e.g. \"A100-SXM4-40GB\")");
        goto free_root;
    }
    JSON_CHECK(
        spec_get_int(root, "device_memory", source, "", 1, (int64_t)1 << 50, &c.device_memory),
        free_root);
    have_bytes = rc_;
    JSON_CHECK(spec_get_number(root, "device_memory_gib", source, "", 0, 1 << 30, &gib), free_root);
    have_gib = rc_;
    if (rc_ && have_bytes) {
        rc_ = uniap_err(UNIAP_EINVAL,
                        "%s: device_memory_gib: expected either device_memory or "
                        "device_memory_gib, got both",
                        source);
        goto free_root;
    }
    if (rc_)
        c.device_memory = (int64_t)(gib * (double)GIB + 0.5);
    else if (!have_bytes) {
        rc_ = spec_missing(source, "", "device_memory", "a positive integer (bytes per device)");
        goto free_root;
    }
    for (size_t i = 0; i < N_RATE_FIELDS; i++) {
        double *dst = (double *)((char *)&c + rate_fields[i].offset);
        JSON_CHECK(spec_get_number(root, rate_fields[i].key, source, "", -DBL_MAX, DBL_MAX, dst),
                   free_root);
    }
    for (size_t i = 0; i < N_OPTIONAL_RATES; i++) {
        double *dst = (double *)((char *)&c + optional_rates[i].offset);
        JSON_CHECK(spec_get_number(root, optional_rates[i].key, source, "", -DBL_MAX, DBL_MAX, dst),
                   free_root);
    }
    for (size_t i = 0; i < N_COUNT_FIELDS; i++) {
        int64_t n = 0;
        JSON_CHECK(spec_get_int(root, count_fields[i].key, source, "", 0, 1 << 20, &n), free_root);
        *(int *)((char *)&c + count_fields[i].offset) = (int)n;
    }
    for (size_t i = 0; i < N_FRACTION_FIELDS; i++) {
        double *dst = (double *)((char *)&c + fraction_fields[i].offset);
        JSON_CHECK(
            spec_get_number(root, fraction_fields[i].key, source, "", -DBL_MAX, DBL_MAX, dst),
            free_root);
    }
    JSON_CHECK(spec_cluster_check_ranges(&c, source, have_gib, gib), free_root);
    cJSON_Delete(root);
    *out = c;
    return UNIAP_OK;

free_root:
    cJSON_Delete(root);
fail:
    return rc_;
}

int uniap_cluster_load(const char *path, uniap_cluster *out)
{
    char *text = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = uniap_read_file(path, &text, NULL)) < 0)
        return rc;
    rc = uniap_cluster_parse(text, path, out);
    free(text);
    return rc;
}

/* Adds key: number (exact form) to obj; 0 when out of memory. */
static int add_number(cJSON *obj, const char *key, cJSON *num)
{
    if (!num)
        return 0;
    cJSON_AddItemToObject(obj, key, num);
    return 1;
}

int uniap_cluster_to_json(const uniap_cluster *c, char **json)
{
    cJSON *root = cJSON_CreateObject();
    int ok;

    *json = NULL;
    ok = root && cJSON_AddStringToObject(root, "name", c->name) &&
         add_number(root, "nodes", spec_json_int(c->nodes)) &&
         add_number(root, "devices_per_node", spec_json_int(c->devices_per_node)) &&
         cJSON_AddStringToObject(root, "device_name", c->device_name) &&
         add_number(root, "device_memory", spec_json_int(c->device_memory));
    for (size_t i = 0; ok && i < N_RATE_FIELDS; i++) {
        const double *v = (const double *)((const char *)c + rate_fields[i].offset);
        ok = add_number(root, rate_fields[i].key, spec_json_double(*v));
    }
    for (size_t i = 0; ok && i < N_OPTIONAL_RATES; i++) {
        double v = *(const double *)((const char *)c + optional_rates[i].offset);
        if (v != 0)
            ok = add_number(root, optional_rates[i].key, spec_json_double(v));
    }
    /* the GEMM-efficiency facts only when known (older specs read back
     * unchanged) */
    for (size_t i = 0; ok && i < N_COUNT_FIELDS; i++) {
        int v = *(const int *)((const char *)c + count_fields[i].offset);
        if (v)
            ok = add_number(root, count_fields[i].key, spec_json_int(v));
    }
    for (size_t i = 0; ok && i < N_FRACTION_FIELDS; i++) {
        double v = *(const double *)((const char *)c + fraction_fields[i].offset);
        if (v != 0)
            ok = add_number(root, fraction_fields[i].key, spec_json_double(v));
    }
    if (ok)
        *json = cJSON_Print(root);
    cJSON_Delete(root);
    if (!*json)
        return uniap_err(UNIAP_ENOMEM, "cluster JSON: out of memory");
    return UNIAP_OK;
}

/* ---- presets ------------------------------------------------------------
 * Per-device figures. Sources:
 *   [A100] NVIDIA A100 Tensor Core GPU datasheet (SXM4): BF16/FP16 tensor
 *          312 TFLOPS dense (624 with sparsity), FP32 19.5 TFLOPS, HBM2
 *          1,555 GB/s (40GB) / HBM2e 2,039 GB/s (80GB), NVLink 600 GB/s
 *          total per GPU = 300 GB/s each direction.
 *   [DGXA] NVIDIA DGX A100 datasheet: 8 x 200 Gb/s HDR InfiniBand compute
 *          ports, one per GPU = 25 GB/s each direction.
 *   [H100] NVIDIA H100 Tensor Core GPU datasheet (SXM5): BF16/FP16 tensor
 *          1,979 TFLOPS with sparsity = 989.4 dense, FP32 67 TFLOPS, HBM3
 *          3.35 TB/s, NVLink 900 GB/s total = 450 GB/s each direction.
 *   [DGXH] NVIDIA DGX H100 datasheet: 8 x 400 Gb/s NDR (ConnectX-7), one
 *          per GPU = 50 GB/s each direction.
 *   [H200] NVIDIA H200 Tensor Core GPU datasheet (H200 SXM): 141 GB HBM3e
 *          at 4.8 TB/s; BF16/FP16 tensor 1,979 TFLOPS with sparsity = 989.4
 *          dense, FP32 67 TFLOPS (the H100 SXM's figures: the same GH100
 *          chip, 132 SMs); NVLink 900 GB/s total = 450 GB/s each direction.
 *          Memory as the datasheet's 141 GB (141e9 bytes; nvidia-smi on an
 *          H200 SXM reports 143771 MiB, of which the driver keeps some).
 *   [DGXH2] NVIDIA DGX H200 datasheet: 8 x 400 Gb/s NDR (ConnectX-7), one
 *          per GPU = 50 GB/s each direction, as DGX H100.
 *   [TXP]  NVIDIA TITAN Xp: 3840 CUDA cores at 1582 MHz boost = 12.15 FP32
 *          TFLOPS; 12 GB GDDR5X at 547.7 GB/s. GP102 runs FP16 arithmetic
 *          at 1/64 rate with no tensor cores, so models train there in
 *          FP32: its 16-bit peak_flops is given as the FP32 rate.
 *   [PCIE] PCIe 3.0 x16 inside a node: 8 GT/s x 16 lanes x 128/130 =
 *          15.75 GB/s each direction.
 *   [ENVB] UniAP paper (Lin et al., CVPR 2025) EnvB: 2 nodes x 4 TITAN Xp,
 *          nodes linked by InfiniBand; taken as one 100 Gb/s link per node
 *          shared by its 4 GPUs = 3.125 GB/s per GPU (the link rate was
 *          not confirmed from here: measure with `uniap profile`).
 *   [LAT]  Latencies are not datasheet figures: order-of-magnitude alpha
 *          terms for small messages (NVLink 5 us, PCIe 10 us, InfiniBand
 *          10 us, shared IB 20 us), replaced by measurements once profiled.
 *   [SM]   Streaming multiprocessors: A100 108 (NVIDIA A100 Tensor Core
 *          GPU Architecture whitepaper), H100 SXM5 132 (NVIDIA H100 Tensor
 *          Core GPU Architecture whitepaper), TITAN Xp 30 (GP102: 3840
 *          CUDA cores / 128 per SM). GEMM tiles: 128 x 128 (the default,
 *          CUTLASS's threadblock tile for sm80/sm90 tensor-op GEMMs).
 *   [GEMM] Achievable fraction of the datasheet peak on large GEMMs,
 *          from public cuBLAS measurements: A100 FP16 matmul 230 of 312
 *          TFLOPS = 0.74 (and TF32 116 of 156 = 0.74), transformers-
 *          benchmarks micro_bench (github.com/mli/transformers-benchmarks);
 *          H100 SXM5 BF16 780 of 989.4 TFLOPS = 0.79 (taken for the H200
 *          too: the same chip; large GEMMs are compute-bound), H. He, "H100 peak
 *          matmul FLOPS" (gist.github.com/Chillee/2ec89696db8b7ed1c24461159e325405,
 *          4224x8192x2048, autotuned: an upper figure). No public GP102
 *          figure was found: TITAN Xp keeps its datasheet peak.
 *   [BUSBW] Bus bandwidth NCCL collectives achieve (nccl-tests busbw at
 *          large messages), not the link rate. NVLink 4 (H100, H200): 370
 *          GB/s of the 450 line rate, the NCCL maintainers' figure for every
 *          collective without NVLink SHARP (~20 % protocol overhead;
 *          github.com/NVIDIA/nccl-tests/issues/212; all-reduce with NVLS
 *          reaches ~480 busbw there, not modelled: the lower figure holds
 *          for all-gather, reduce-scatter and p2p too). NVLink 3 (A100
 *          SXM4): 220 GB/s, an 8 x A100-SXM4-80GB all_reduce_perf
 *          (github.com/NVIDIA/nccl-tests/issues/228; ~200 GB/s in issue
 *          149 on an HPE 8 x A100). Across nodes (HDR IB, one 200 Gb/s NIC
 *          per GPU): 20.8 GB/s, Galvatron's measured all-reduce of 8 GPUs
 *          one per node pair on 2 A100 nodes (shared datasets,
 *          PKU-DAIR_Hetu-Galvatron hardware_configs/
 *          allreduce_bandwidth_2nodes_8gpus_per_node.json,
 *          allreduce_size_8_consec_0), 0.83 of the 25 GB/s line rate; NDR
 *          (400 Gb/s): the same 0.83 of 50 GB/s = 41.6 GB/s (no public
 *          NDR figure of one NIC per GPU was found: an assumption).
 *   [FP8]  FP8 tensor cores (Hopper): H100 SXM5 FP8 3,958 TFLOPS with
 *          sparsity = 1,978.9 dense, twice the BF16 rate ([H100] datasheet;
 *          132 SMs x 1.83 GHz x 8192 dense FP8 FLOP/clk/SM, the BF16
 *          4096 doubled); H200 SXM the same chip and figure ([H200]). A100
 *          and V100 have no FP8 tensor cores: no peak_flops_fp8.
 *          gemm_efficiency_fp8 0.75: large FP8 (E4M3) cuBLASLt GEMMs on an
 *          H100 SXM 80GB through torch._scaled_mm reach 1,351-1,520 TFLOPS
 *          on Llama-sized shapes (8320..23216 x 5376..28672, 0.68-0.77 of
 *          1,978.9; github.com/sgl-project/sglang pull 34318), and FP8
 *          GEMMs run 1.88-2.09x the BF16 ones of the same shapes on one
 *          H100 (8192^3, 65536x8192x7168, 65536x3584x8192: 1083-1141 vs
 *          546-585 TFLOPS, github.com/pytorch/FBGEMM pull 2546), i.e.
 *          0.74-0.83 of the FP8 peak from the BF16 0.79 of [GEMM]; 0.75
 *          lies in both ranges (an assumption between them, not a fit).
 *   [FA2]  Flash attention: FlashAttention-2 (Dao 2023, arXiv 2307.08691)
 *          reaches up to 73 % of the A100's peak in forward and 63 % in
 *          backward (its section 4.1; "50-73 %" in the abstract); on H100
 *          FlashAttention-2 reaches about 35 % (FlashAttention-3, Shah et
 *          al. 2024, arXiv 2407.08608, section 1).
 * Memory sizes are the nominal GiB of each board (40, 80, 12 GiB); the
 * H200's is its datasheet's 141 GB (decimal: 131.3 GiB).
 */
static const struct {
    const char *name;
    const char *json;
} presets[] = {
    {"a100-40g-1x8", "{\"name\": \"a100-40g-1x8\", \"nodes\": 1, \"devices_per_node\": 8,"
                     " \"device_name\": \"A100-SXM4-40GB\","
                     " \"device_memory\": 42949672960," /* 40 GiB [A100] */
                     " \"peak_flops\": 312e12,"         /* [A100] BF16 dense */
                     " \"peak_flops_fp32\": 19.5e12,"   /* [A100] */
                     " \"mem_bandwidth\": 1555e9,"      /* [A100] HBM2 40GB */
                     " \"intra_node_bw\": 300e9,"       /* [A100] NVLink */
                     " \"inter_node_bw\": 25e9,"        /* [DGXA] HDR IB */
                     " \"intra_node_busbw\": 220e9,"    /* [BUSBW] */
                     " \"inter_node_busbw\": 20.8e9,"   /* [BUSBW] */
                     " \"intra_node_latency\": 5e-6,"   /* [LAT] */
                     " \"inter_node_latency\": 10e-6,"
                     " \"sm_count\": 108,"              /* [SM] */
                     " \"gemm_efficiency\": 0.74,"      /* [GEMM] */
                     " \"flash_fwd_efficiency\": 0.73," /* [FA2] */
                     " \"flash_bwd_efficiency\": 0.63}"},
    {"a100-80g-2x8", "{\"name\": \"a100-80g-2x8\", \"nodes\": 2, \"devices_per_node\": 8,"
                     " \"device_name\": \"A100-SXM4-80GB\","
                     " \"device_memory\": 85899345920," /* 80 GiB [A100] */
                     " \"peak_flops\": 312e12,"         /* [A100] BF16 dense */
                     " \"peak_flops_fp32\": 19.5e12,"   /* [A100] */
                     " \"mem_bandwidth\": 2039e9,"      /* [A100] HBM2e 80GB */
                     " \"intra_node_bw\": 300e9,"       /* [A100] NVLink */
                     " \"inter_node_bw\": 25e9,"        /* [DGXA] HDR IB */
                     " \"intra_node_busbw\": 220e9,"    /* [BUSBW] */
                     " \"inter_node_busbw\": 20.8e9,"   /* [BUSBW] */
                     " \"intra_node_latency\": 5e-6,"   /* [LAT] */
                     " \"inter_node_latency\": 10e-6,"
                     " \"sm_count\": 108,"              /* [SM] */
                     " \"gemm_efficiency\": 0.74,"      /* [GEMM] */
                     " \"flash_fwd_efficiency\": 0.73," /* [FA2] */
                     " \"flash_bwd_efficiency\": 0.63}"},
    {"titanxp-2x4", "{\"name\": \"titanxp-2x4\", \"nodes\": 2, \"devices_per_node\": 4,"
                    " \"device_name\": \"TITAN Xp\","
                    " \"device_memory\": 12884901888," /* 12 GiB [TXP] */
                    " \"peak_flops\": 12.15e12,"       /* [TXP] FP32 rate, see above */
                    " \"peak_flops_fp32\": 12.15e12,"  /* [TXP] */
                    " \"mem_bandwidth\": 547.7e9,"     /* [TXP] */
                    " \"intra_node_bw\": 15.75e9,"     /* [PCIE] */
                    " \"inter_node_bw\": 3.125e9,"     /* [ENVB] */
                    " \"intra_node_latency\": 10e-6,"  /* [LAT] */
                    " \"inter_node_latency\": 20e-6,"
                    " \"sm_count\": 30}"},
    {"h100-80g-4x8", "{\"name\": \"h100-80g-4x8\", \"nodes\": 4, \"devices_per_node\": 8,"
                     " \"device_name\": \"H100-SXM5-80GB\","
                     " \"device_memory\": 85899345920," /* 80 GiB [H100] */
                     " \"peak_flops\": 989.4e12,"       /* [H100] BF16 dense */
                     " \"peak_flops_fp32\": 67e12,"     /* [H100] */
                     " \"mem_bandwidth\": 3.35e12,"     /* [H100] HBM3 */
                     " \"intra_node_bw\": 450e9,"       /* [H100] NVLink 4 */
                     " \"inter_node_bw\": 50e9,"        /* [DGXH] NDR IB */
                     " \"intra_node_busbw\": 370e9,"    /* [BUSBW] */
                     " \"inter_node_busbw\": 41.6e9,"   /* [BUSBW] */
                     " \"intra_node_latency\": 5e-6,"   /* [LAT] */
                     " \"inter_node_latency\": 10e-6,"
                     " \"sm_count\": 132,"              /* [SM] */
                     " \"gemm_efficiency\": 0.79,"      /* [GEMM] */
                     " \"peak_flops_fp8\": 1978.9e12,"  /* [FP8] dense */
                     " \"gemm_efficiency_fp8\": 0.75,"  /* [FP8] */
                     " \"flash_fwd_efficiency\": 0.35," /* [FA2] */
                     " \"flash_bwd_efficiency\": 0.35}"},
    {"h100-80g-16x8", "{\"name\": \"h100-80g-16x8\", \"nodes\": 16, \"devices_per_node\": 8,"
                      " \"device_name\": \"H100-SXM5-80GB\","
                      " \"device_memory\": 85899345920," /* 80 GiB [H100] */
                      " \"peak_flops\": 989.4e12,"       /* [H100] BF16 dense */
                      " \"peak_flops_fp32\": 67e12,"     /* [H100] */
                      " \"mem_bandwidth\": 3.35e12,"     /* [H100] HBM3 */
                      " \"intra_node_bw\": 450e9,"       /* [H100] NVLink 4 */
                      " \"inter_node_bw\": 50e9,"        /* [DGXH] NDR IB */
                      " \"intra_node_busbw\": 370e9,"    /* [BUSBW] */
                      " \"inter_node_busbw\": 41.6e9,"   /* [BUSBW] */
                      " \"intra_node_latency\": 5e-6,"   /* [LAT] */
                      " \"inter_node_latency\": 10e-6,"
                      " \"sm_count\": 132,"              /* [SM] */
                      " \"gemm_efficiency\": 0.79,"      /* [GEMM] */
                      " \"peak_flops_fp8\": 1978.9e12,"  /* [FP8] dense */
                      " \"gemm_efficiency_fp8\": 0.75,"  /* [FP8] */
                      " \"flash_fwd_efficiency\": 0.35," /* [FA2] */
                      " \"flash_bwd_efficiency\": 0.35}"},
    {"h200-141g-4x8", "{\"name\": \"h200-141g-4x8\", \"nodes\": 4, \"devices_per_node\": 8,"
                      " \"device_name\": \"H200-SXM-141GB\","
                      " \"device_memory\": 141000000000," /* 141 GB [H200] */
                      " \"peak_flops\": 989.4e12,"        /* [H200] BF16 dense */
                      " \"peak_flops_fp32\": 67e12,"      /* [H200] */
                      " \"mem_bandwidth\": 4.8e12,"       /* [H200] HBM3e */
                      " \"intra_node_bw\": 450e9,"        /* [H200] NVLink 4 */
                      " \"inter_node_bw\": 50e9,"         /* [DGXH2] NDR IB */
                      " \"intra_node_busbw\": 370e9,"     /* [BUSBW] */
                      " \"inter_node_busbw\": 41.6e9,"    /* [BUSBW] */
                      " \"intra_node_latency\": 5e-6,"    /* [LAT] */
                      " \"inter_node_latency\": 10e-6,"
                      " \"sm_count\": 132,"              /* [SM], as H100 SXM5 */
                      " \"gemm_efficiency\": 0.79,"      /* [GEMM], as H100 */
                      " \"peak_flops_fp8\": 1978.9e12,"  /* [FP8], as H100 */
                      " \"gemm_efficiency_fp8\": 0.75,"  /* [FP8], as H100 */
                      " \"flash_fwd_efficiency\": 0.35," /* [FA2], as H100 */
                      " \"flash_bwd_efficiency\": 0.35}"},
};
#define N_PRESETS (sizeof(presets) / sizeof(presets[0]))

static const char *const preset_names[] = {
    "a100-40g-1x8",  "a100-80g-2x8",  "titanxp-2x4", "h100-80g-4x8",
    "h100-80g-16x8", "h200-141g-4x8", NULL};
_Static_assert(sizeof(preset_names) / sizeof(preset_names[0]) == N_PRESETS + 1,
               "one name per preset");

const char *const *uniap_cluster_presets(void)
{
    return preset_names;
}

int uniap_cluster_preset(const char *name, uniap_cluster *out)
{
    char source[96];

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < N_PRESETS; i++) {
        if (strcmp(presets[i].name, name) == 0) {
            snprintf(source, sizeof(source), "preset:%s", name);
            return uniap_cluster_parse(presets[i].json, source, out);
        }
    }
    return uniap_err(UNIAP_EINVAL, "%s: expected a cluster preset name, got an unknown one", name);
}

int uniap_cluster_resolve(const char *name_or_path, uniap_cluster *out)
{
    struct stat st;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < N_PRESETS; i++) {
        if (strcmp(presets[i].name, name_or_path) == 0)
            return uniap_cluster_preset(name_or_path, out);
    }
    if (stat(name_or_path, &st) != 0) {
        char list[512];
        size_t o = 0;
        list[0] = '\0';
        for (size_t i = 0; i < N_PRESETS && o + 1 < sizeof(list); i++)
            o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
                                  presets[i].name);
        return uniap_err(UNIAP_EINVAL,
                         "%s: expected a cluster preset (%s) or a cluster spec file, got no such "
                         "name or file (%s)",
                         name_or_path, list, strerror(errno));
    }
    return uniap_cluster_load(name_or_path, out);
}
