/*
 * cluster_ranges.c - plausible ranges of the cluster spec's figures. A
 * value no device has (a 312 FLOP/s GPU, a 1e-300 B/s link, a 5 s latency)
 * is refused naming the file, the field, the value and the expected range
 * with its unit, plus the likely unit slip when one explains it ("312 looks
 * like TFLOP/s: write 312e12"); a value inside the range but outside what
 * devices have today is accepted with a warning (uniap_cluster_warnings).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spec_json.h"

#define MIB ((double)(1 << 20))
#define GIB ((double)(1 << 30))

enum range_unit { RU_FLOPS, RU_BYTES_PER_S, RU_SECONDS };

/* Refused outside [lo, hi]; warned outside [wlo, whi]; 0 means unknown. */
static const struct {
    const char *key;
    size_t offset;
    enum range_unit unit;
    double lo, hi, wlo, whi;
} ranges[] = {
    {"peak_flops", offsetof(uniap_cluster, peak_flops), RU_FLOPS, 1e9, 1e17, 1e10, 1e16},
    {"peak_flops_fp32", offsetof(uniap_cluster, peak_flops_fp32), RU_FLOPS, 1e9, 1e17, 1e10, 1e16},
    {"peak_flops_fp8", offsetof(uniap_cluster, peak_flops_fp8), RU_FLOPS, 1e9, 1e17, 1e10, 1e16},
    {"mem_bandwidth", offsetof(uniap_cluster, mem_bandwidth), RU_BYTES_PER_S, 1e4, 1e14, 1e8, 1e13},
    {"intra_node_bw", offsetof(uniap_cluster, intra_node_bw), RU_BYTES_PER_S, 1e4, 1e14, 1e8, 1e13},
    {"inter_node_bw", offsetof(uniap_cluster, inter_node_bw), RU_BYTES_PER_S, 1e4, 1e14, 1e8, 1e13},
    {"intra_node_latency", offsetof(uniap_cluster, intra_node_latency), RU_SECONDS, 0, 1, 0, 1e-2},
    {"inter_node_latency", offsetof(uniap_cluster, inter_node_latency), RU_SECONDS, 0, 1, 0, 1e-2},
    {"intra_node_busbw", offsetof(uniap_cluster, intra_node_busbw), RU_BYTES_PER_S, 1e4, 1e14, 1e8,
     1e13},
    {"inter_node_busbw", offsetof(uniap_cluster, inter_node_busbw), RU_BYTES_PER_S, 1e4, 1e14, 1e8,
     1e13},
};
#define N_RANGES (sizeof(ranges) / sizeof(ranges[0]))

#define MEM_MIN ((int64_t)64 << 20) /* 64 MiB */
#define MEM_MAX ((int64_t)16 << 40) /* 16 TiB */

static _Thread_local char warnings[1024];

const char *uniap_cluster_warnings(void)
{
    return warnings;
}

void spec_cluster_warnings_clear(void)
{
    warnings[0] = '\0';
}

static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn(const char *fmt, ...)
{
    size_t n = strlen(warnings);
    va_list ap;

    if (n && n + 1 < sizeof(warnings))
        warnings[n++] = '\n';
    va_start(ap, fmt);
    vsnprintf(warnings + n, sizeof(warnings) - n, fmt, ap);
    va_end(ap);
}

static const char *unit_name(enum range_unit u)
{
    return u == RU_FLOPS ? "FLOP/s" : u == RU_BYTES_PER_S ? "B/s" : "s";
}

/* The unit slip that puts v among today's devices, as " (... )", or "". */
static void slip_hint(enum range_unit u, double v, char *buf, size_t n)
{
    static const struct {
        enum range_unit u;
        const char *name, *exp;
        double scale, lo, hi;
    } slips[] = {
        {RU_FLOPS, "TFLOP/s", "e12", 1e12, 1e11, 1e16},
        {RU_FLOPS, "PFLOP/s", "e15", 1e15, 1e11, 1e16},
        {RU_FLOPS, "GFLOP/s", "e9", 1e9, 1e11, 1e16},
        {RU_BYTES_PER_S, "GB/s", "e9", 1e9, 1e8, 1e13},
        {RU_BYTES_PER_S, "MB/s", "e6", 1e6, 1e8, 1e13},
        {RU_SECONDS, "microseconds", "e-6", 1e-6, 1e-7, 1e-2},
        {RU_SECONDS, "milliseconds", "e-3", 1e-3, 1e-7, 1e-2},
    };
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(slips) / sizeof(slips[0]); i++) {
        double s = v * slips[i].scale;
        if (slips[i].u != u || !(s >= slips[i].lo && s <= slips[i].hi))
            continue;
        if (u == RU_BYTES_PER_S && slips[i].scale == 1e9)
            snprintf(buf, n, " (%g looks like GB/s: write %g%s; if it is Gbit/s, %ge9)", v, v,
                     slips[i].exp, v / 8);
        else
            snprintf(buf, n, " (%g looks like %s: write %g%s)", v, slips[i].name, v, slips[i].exp);
        return;
    }
}

static int check_memory(const uniap_cluster *c, const char *source, int from_gib, double gib)
{
    char hint[160] = "";
    int64_t m = c->device_memory;

    if (m >= MEM_MIN && m <= MEM_MAX)
        return UNIAP_OK;
    if (from_gib) {
        if (m > MEM_MAX && gib / 1024 * GIB >= GIB && gib / 1024 * GIB <= MEM_MAX)
            snprintf(hint, sizeof(hint), " (%g looks like MiB: write %g)", gib, gib / 1024);
        return uniap_err(UNIAP_EINVAL,
                         "%s: device_memory_gib: expected 0.0625..16384 GiB per device (64 MiB "
                         "to 16 TiB), got %g%s",
                         source, gib, hint);
    }
    if (m < MEM_MIN && (double)m * GIB >= GIB && (double)m * GIB <= (double)MEM_MAX)
        snprintf(hint, sizeof(hint), " (%lld looks like GiB: write \"device_memory_gib\": %lld)",
                 (long long)m, (long long)m);
    else if (m < MEM_MIN && (double)m * MIB >= GIB && (double)m * MIB <= (double)MEM_MAX)
        snprintf(hint, sizeof(hint), " (%lld looks like MiB: write %lld)", (long long)m,
                 (long long)(m << 20));
    return uniap_err(UNIAP_EINVAL,
                     "%s: device_memory: expected %lld..%lld bytes per device (64 MiB to 16 "
                     "TiB), got %lld%s",
                     source, (long long)MEM_MIN, (long long)MEM_MAX, (long long)m, hint);
}

/* The GEMM-efficiency facts (costmodel/gemm_eff.c): SM count and tile
 * sides are counts of real hardware, the efficiencies fractions of a
 * peak; 0 means unknown. */
static int check_gemm_facts(const uniap_cluster *c, const char *source)
{
    static const struct {
        const char *key;
        size_t offset;
        const char *what;
    } fractions[] = {
        {"gemm_efficiency", offsetof(uniap_cluster, gemm_efficiency),
         "the fraction of peak_flops a large GEMM reaches"},
        {"gemm_efficiency_fp32", offsetof(uniap_cluster, gemm_efficiency_fp32),
         "the fraction of peak_flops_fp32 a large GEMM reaches"},
        {"gemm_efficiency_fp8", offsetof(uniap_cluster, gemm_efficiency_fp8),
         "the fraction of peak_flops_fp8 a large FP8 GEMM reaches"},
        {"flash_fwd_efficiency", offsetof(uniap_cluster, flash_fwd_efficiency),
         "the fraction of peak_flops a flash-attention forward reaches"},
        {"flash_bwd_efficiency", offsetof(uniap_cluster, flash_bwd_efficiency),
         "the fraction of peak_flops a flash-attention backward reaches"},
    };
    const struct {
        const char *key;
        int v;
    } tiles[] = {{"gemm_tile_m", c->gemm_tile_m}, {"gemm_tile_n", c->gemm_tile_n}};

    if (c->sm_count < 0 || c->sm_count > 1024)
        return uniap_err(UNIAP_EINVAL,
                         "%s: sm_count: expected 1..1024 streaming multiprocessors per device (or "
                         "0 = unknown), got %d",
                         source, c->sm_count);
    for (size_t i = 0; i < 2; i++)
        if (tiles[i].v && (tiles[i].v < 8 || tiles[i].v > 1024 || tiles[i].v % 8))
            return uniap_err(UNIAP_EINVAL,
                             "%s: %s: expected a GEMM tile side of 8..1024 elements in multiples "
                             "of 8 (e.g. 128; or 0 = unknown), got %d",
                             source, tiles[i].key, tiles[i].v);
    for (size_t i = 0; i < sizeof(fractions) / sizeof(fractions[0]); i++) {
        double v = *(const double *)((const char *)c + fractions[i].offset);
        char hint[96] = "";
        if (v == 0 || (v > 0 && v <= 1))
            continue;
        if (v > 1 && v <= 100)
            snprintf(hint, sizeof(hint), " (%g looks like a percentage: write %g)", v, v / 100);
        return uniap_err(UNIAP_EINVAL,
                         "%s: %s: expected %s, a fraction in (0, 1] (or 0 = unknown), got %g%s",
                         source, fractions[i].key, fractions[i].what, v, hint);
    }
    return UNIAP_OK;
}

/* FP8 tensor cores run at twice the 16-bit rate where they exist (H100
 * datasheet: 1,979 vs 989.4 TFLOPS dense), never slower: an FP8 peak
 * below the 16-bit one is a slip (the two swapped, or the sparse 16-bit
 * figure); an FP8 efficiency with no FP8 peak describes nothing. */
static int check_fp8(const uniap_cluster *c, const char *source)
{
    if (c->peak_flops_fp8 > 0 && c->peak_flops > 0 && c->peak_flops_fp8 < c->peak_flops)
        return uniap_err(UNIAP_EINVAL,
                         "%s: peak_flops_fp8: expected at least peak_flops (%g FLOP/s: FP8 "
                         "tensor cores run at twice the 16-bit rate, e.g. H100 SXM 1978.9e12 vs "
                         "989.4e12 dense), got %g",
                         source, c->peak_flops, c->peak_flops_fp8);
    if (c->gemm_efficiency_fp8 > 0 && !(c->peak_flops_fp8 > 0))
        return uniap_err(UNIAP_EINVAL,
                         "%s: gemm_efficiency_fp8: given without peak_flops_fp8 (the FP8 peak it "
                         "is a fraction of)",
                         source);
    return UNIAP_OK;
}

int spec_cluster_check_ranges(const uniap_cluster *c, const char *source, int from_gib, double gib)
{
    char hint[160];
    int rc;

    if ((rc = check_memory(c, source, from_gib, gib)) < 0)
        return rc;
    if ((rc = check_gemm_facts(c, source)) < 0)
        return rc;
    for (size_t i = 0; i < N_RANGES; i++) {
        double v = *(const double *)((const char *)c + ranges[i].offset);
        const char *unit = unit_name(ranges[i].unit);
        if (v == 0)
            continue; /* unknown */
        if (!isfinite(v) || v < ranges[i].lo || v > ranges[i].hi) {
            slip_hint(ranges[i].unit, v, hint, sizeof(hint));
            if (ranges[i].unit == RU_SECONDS)
                return uniap_err(UNIAP_EINVAL, "%s: %s: expected 0..%g %s (0 = unknown), got %g%s",
                                 source, ranges[i].key, ranges[i].hi, unit, v, hint);
            return uniap_err(UNIAP_EINVAL, "%s: %s: expected %g..%g %s (or 0 = unknown), got %g%s",
                             source, ranges[i].key, ranges[i].lo, ranges[i].hi, unit, v, hint);
        }
        if (v < ranges[i].wlo || v > ranges[i].whi) {
            slip_hint(ranges[i].unit, v, hint, sizeof(hint));
            warn("%s: %s: %g %s is %s for a training device%s", source, ranges[i].key, v, unit,
                 v < ranges[i].wlo ? "unusually low" : "unusually high", hint);
        }
    }
    return check_fp8(c, source);
}
