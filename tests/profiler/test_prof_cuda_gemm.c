/*
 * test_prof_cuda_gemm.c - the CUDA GEMM sweep measurement
 * (profiler/cuda/cuda_gemm.cu) on a GPU: every dtype times 2048^3 and
 * 4096^3 with positive seconds per pass, the rate below the largest
 * datasheet peak of any device (1e16 FLOP/s: a rate above it means the
 * timing is wrong), and the 8x larger GEMM taking longer than the smaller
 * one. Skipped (77) with the reason when no GPU can be used (every
 * machine without one: CPU builds compile and skip it).
 */
#include <stdio.h>

#include "check.h"
#include "cuda_gemm.h"
#include "cuda_layers.h"

int main(void)
{
    static const uniap_dtype dts[] = {UNIAP_DTYPE_BF16, UNIAP_DTYPE_FP16, UNIAP_DTYPE_FP32};
    char why[128];
    if (!prof_cuda_available(why, sizeof(why))) {
        printf("SKIP: %s\n", why);
        return 77;
    }
    CHECK_EQ(prof_cuda_select_device(0), 0);
    for (int d = 0; d < 3; d++) {
        double small[3], big[3];
        CHECK_EQ(prof_cuda_gemm_measure(2048, 2048, 2048, dts[d], 7, 1, 3, small), 0);
        CHECK_EQ(prof_cuda_gemm_measure(4096, 4096, 4096, dts[d], 7, 1, 3, big), 0);
        for (int i = 0; i < 3; i++) {
            CHECK(small[i] > 0 && big[i] > 0);
            CHECK(2.0 * 4096 * 4096 * 4096 / big[i] < 1e16);
            CHECK(big[i] > small[i]);
        }
        printf("%s: 2048^3 %.3g s (%.1f TFLOP/s), 4096^3 %.3g s (%.1f TFLOP/s)\n",
               uniap_dtype_name(dts[d]), small[1], 2.0 * 2048 * 2048 * 2048 / small[1] / 1e12,
               big[1], 2.0 * 4096 * 4096 * 4096 / big[1] / 1e12);
    }
    return check_report();
}
