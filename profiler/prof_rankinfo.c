/*
 * prof_rankinfo.c - what each rank says about itself in the profile's
 * ranks table (host, node, local rank, device and its memory, backend,
 * library versions: MPI, HDF5, OpenBLAS, and CUDA/NCCL when used), and the
 * cluster spec of the measured machine stored with the profile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>
#include <hdf5.h>

#include "prof_driver.h"
#ifdef UNIAP_HAVE_CUDA
#include "cuda/cuda_check.h"
#endif

/* First line of /proc/cpuinfo's "model name", or "cpu". */
static void cpu_name(char *buf, size_t n)
{
    char line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(buf, n, "cpu");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            colon++;
            while (*colon == ' ')
                colon++;
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(buf, n, "%s", colon);
            break;
        }
    }
    fclose(f);
}

/* Appends "key=value;" to buf, the value cut at its first comma. */
static void add_version(char *buf, size_t n, const char *key, const char *value)
{
    size_t len = strlen(buf);
    int vlen = (int)strcspn(value, ",\n");
    if (vlen > 40)
        vlen = 40;
    if (len < n)
        snprintf(buf + len, n - len, "%s%s=%.*s", len ? ";" : "", key, vlen, value);
}

int prof_rank_info(const prof_topology *t, prof_backend b, uniap_rank_info *ri)
{
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING], ver[64];
    int len = 0;
    unsigned maj, min, rel;
    memset(ri, 0, sizeof(*ri));
    ri->rank = t->rank;
    ri->node = t->node;
    ri->local_rank = t->local_rank;
    if (gethostname(ri->host, sizeof(ri->host)) != 0)
        snprintf(ri->host, sizeof(ri->host), "unknown");
    ri->host[sizeof(ri->host) - 1] = '\0';
    snprintf(ri->backend, sizeof(ri->backend), "%s", b == PROF_BACKEND_CUDA ? "cuda" : "cpu");
    MPI_Get_library_version(mpi, &len);
    add_version(ri->lib_versions, sizeof(ri->lib_versions), "mpi", mpi);
    H5get_libversion(&maj, &min, &rel);
    snprintf(ver, sizeof(ver), "%u.%u.%u", maj, min, rel);
    add_version(ri->lib_versions, sizeof(ri->lib_versions), "hdf5", ver);
    add_version(ri->lib_versions, sizeof(ri->lib_versions), "blas", openblas_get_config());
    if (b == PROF_BACKEND_CPU) {
        long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGE_SIZE);
        cpu_name(ri->device, sizeof(ri->device));
        /* a CPU "device" is this rank's share of the node's memory */
        ri->device_memory =
            (int64_t)pages * psz / (t->host_local_size > 0 ? t->host_local_size : 1);
        return 0;
    }
#ifdef UNIAP_HAVE_CUDA
    struct cudaDeviceProp prop;
    int dev, rt, nccl;
    PROF_CUDA_CHECK(cudaGetDevice(&dev));
    PROF_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    snprintf(ri->device, sizeof(ri->device), "%.63s", prop.name);
    ri->device_memory = (int64_t)prop.totalGlobalMem;
    PROF_CUDA_CHECK(cudaRuntimeGetVersion(&rt));
    PROF_NCCL_CHECK(ncclGetVersion(&nccl));
    snprintf(ver, sizeof(ver), "%d.%d", rt / 1000, (rt % 1000) / 10);
    add_version(ri->lib_versions, sizeof(ri->lib_versions), "cuda", ver);
    snprintf(ver, sizeof(ver), "%d", nccl);
    add_version(ri->lib_versions, sizeof(ri->lib_versions), "nccl", ver);
    return 0;
#else
    return uniap_err(UNIAP_EINVAL, "profiler: --backend cuda: built without CUDA");
#endif
}

int prof_cluster_json(const prof_topology *t, const uniap_rank_info *ri, const uniap_profile *p,
                      char **json)
{
    uniap_cluster c;
    int64_t big_intra = 0, big_inter = 0, small_intra = 0, small_inter = 0;
    memset(&c, 0, sizeof(c));
    snprintf(c.name, sizeof(c.name), "measured-%.50s", ri->host);
    c.nodes = t->n_nodes;
    c.devices_per_node = t->max_local;
    snprintf(c.device_name, sizeof(c.device_name), "%s", ri->device);
    c.device_memory = ri->device_memory;
    /* link figures from point-to-point: bandwidth at the largest message,
     * latency as the time of the smallest */
    for (int i = 0; i < p->n_colls; i++) {
        const uniap_coll_prof *r = &p->colls[i];
        if (r->op != UNIAP_COLL_P2P)
            continue;
        int64_t *big = r->spans_nodes ? &big_inter : &big_intra;
        int64_t *small = r->spans_nodes ? &small_inter : &small_intra;
        double *bw = r->spans_nodes ? &c.inter_node_bw : &c.intra_node_bw;
        double *lat = r->spans_nodes ? &c.inter_node_latency : &c.intra_node_latency;
        if (r->bytes > *big) {
            *big = r->bytes;
            *bw = r->busbw;
        }
        if (!*small || r->bytes < *small) {
            *small = r->bytes;
            *lat = r->time.median;
        }
    }
    return uniap_cluster_to_json(&c, json);
}
