/*
 * cuda_device.c - the CUDA backend's device handling (CUDA builds): is a
 * GPU there, and which one this rank uses (its local rank modulo the
 * visible devices).
 */
#include <stdio.h>

#include "cuda_check.h"
#include "cuda_layers.h"

int prof_cuda_available(char *why, size_t n)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        snprintf(why, n, "no usable CUDA device: %s", cudaGetErrorString(e));
        return 0;
    }
    if (count < 1) {
        snprintf(why, n, "no CUDA device visible");
        return 0;
    }
    snprintf(why, n, "%d CUDA device%s", count, count == 1 ? "" : "s");
    return 1;
}

int prof_cuda_select_device(int local_rank)
{
    char why[128];
    int count = 0;
    if (!prof_cuda_available(why, sizeof(why)))
        return uniap_err(UNIAP_EINVAL, "profiler: --backend cuda: %s", why);
    PROF_CUDA_CHECK(cudaGetDeviceCount(&count));
    PROF_CUDA_CHECK(cudaSetDevice(local_rank % count));
    return 0;
}
