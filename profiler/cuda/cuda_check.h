/*
 * cuda_check.h - checking macros for CUDA runtime, cuBLAS and NCCL calls
 * (private to profiler/, CUDA builds only; C and CUDA C++): each records
 * the call and the library's error string with uniap_err_at() (the source
 * location shows only under --debug) and returns UNIAP_ELIB from the
 * enclosing function (or jumps to a cleanup label with rc set,
 * PROF_CUDA_CHECK_GOTO).
 */
#ifndef UNIAP_CUDA_CHECK_H
#define UNIAP_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include "uniap_io.h"

#define PROF_CUDA_CHECK(call)                                                                      \
    do {                                                                                           \
        cudaError_t cu_rc_ = (call);                                                               \
        if (cu_rc_ != cudaSuccess)                                                                 \
            return uniap_err_at(__FILE__, __LINE__, UNIAP_ELIB, "%s failed: %s", #call,            \
                                cudaGetErrorString(cu_rc_));                                       \
    } while (0)

#define PROF_CUDA_CHECK_GOTO(call, rc, label)                                                      \
    do {                                                                                           \
        cudaError_t cu_rc_ = (call);                                                               \
        if (cu_rc_ != cudaSuccess) {                                                               \
            (rc) = uniap_err_at(__FILE__, __LINE__, UNIAP_ELIB, "%s failed: %s", #call,            \
                                cudaGetErrorString(cu_rc_));                                       \
            goto label;                                                                            \
        }                                                                                          \
    } while (0)

#define PROF_CUBLAS_CHECK(call)                                                                    \
    do {                                                                                           \
        cublasStatus_t cb_rc_ = (call);                                                            \
        if (cb_rc_ != CUBLAS_STATUS_SUCCESS)                                                       \
            return uniap_err_at(__FILE__, __LINE__, UNIAP_ELIB, "%s failed: cuBLAS status %d",     \
                                #call, (int)cb_rc_);                                               \
    } while (0)

#define PROF_NCCL_CHECK(call)                                                                      \
    do {                                                                                           \
        ncclResult_t nc_rc_ = (call);                                                              \
        if (nc_rc_ != ncclSuccess)                                                                 \
            return uniap_err_at(__FILE__, __LINE__, UNIAP_ELIB, "%s failed: %s", #call,            \
                                ncclGetErrorString(nc_rc_));                                       \
    } while (0)

#endif
