/*
 * cuda_check.h - checking macros for CUDA runtime, cuBLAS and NCCL calls
 * (private to profiler/, CUDA builds only): each records file, line, the
 * call and the library's error string with uniap_err() and returns
 * UNIAP_ELIB from the enclosing function (or jumps to a cleanup label with
 * rc set, *_CHECK_GOTO).
 */
#ifndef UNIAP_CUDA_CHECK_H
#define UNIAP_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include "uniap_io.h"

#define CUDA_CHECK(call)                                                                           \
    do {                                                                                           \
        cudaError_t cu_rc_ = (call);                                                               \
        if (cu_rc_ != cudaSuccess)                                                                 \
            return uniap_err(UNIAP_ELIB, "%s:%d: %s failed: %s", __FILE__, __LINE__, #call,        \
                             cudaGetErrorString(cu_rc_));                                          \
    } while (0)

#define CUDA_CHECK_GOTO(call, rc, label)                                                           \
    do {                                                                                           \
        cudaError_t cu_rc_ = (call);                                                               \
        if (cu_rc_ != cudaSuccess) {                                                               \
            (rc) = uniap_err(UNIAP_ELIB, "%s:%d: %s failed: %s", __FILE__, __LINE__, #call,        \
                             cudaGetErrorString(cu_rc_));                                          \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

#define CUBLAS_CHECK(call)                                                                         \
    do {                                                                                           \
        cublasStatus_t cb_rc_ = (call);                                                            \
        if (cb_rc_ != CUBLAS_STATUS_SUCCESS)                                                       \
            return uniap_err(UNIAP_ELIB, "%s:%d: %s failed: cuBLAS status %d", __FILE__, __LINE__, \
                             #call, (int)cb_rc_);                                                  \
    } while (0)

#define NCCL_CHECK(call)                                                                           \
    do {                                                                                           \
        ncclResult_t nc_rc_ = (call);                                                              \
        if (nc_rc_ != ncclSuccess)                                                                 \
            return uniap_err(UNIAP_ELIB, "%s:%d: %s failed: %s", __FILE__, __LINE__, #call,        \
                             ncclGetErrorString(nc_rc_));                                          \
    } while (0)

#endif
