/*
 * consumer.c - a program outside the uniap tree that uses the installed
 * libraries through their public headers only (tests/install): built once
 * by CMake with find_package(uniap) and once by cc with pkg-config's flags.
 *
 * usage: uniap_consumer MODEL CLUSTER
 * Prints "params <n>" (uniap_model_params of the zoo model or spec file),
 * "analytic <status>" (an analytic profile of MODEL on the CLUSTER preset,
 * the cost model), "glpk-time-limit <s>" (the solver's default options),
 * "cuda <0|1>" (the profiler) and "einval <text>" (uniap_strstatus).
 * Exit status 0, or 1 with the library's message on stderr.
 */
#include <inttypes.h>
#include <stdio.h>

#include "uniap_costmodel.h"
#include "uniap_io.h"
#include "uniap_profiler.h"
#include "uniap_solver.h"
#include "uniap_version.h"

int main(int argc, char **argv)
{
    uniap_model m = {0};
    uniap_cluster c = {0};
    uniap_profile p;
    uniap_solve_options o;
    int mb[] = {1, 2};
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL CLUSTER\n", argv[0]);
        return 2;
    }
    if ((rc = uniap_model_resolve(argv[1], &m)) < 0 ||
        (rc = uniap_cluster_resolve(argv[2], &c)) < 0) {
        fprintf(stderr, "consumer: %s (%s)\n", uniap_errmsg(), uniap_strstatus(rc));
        uniap_model_free(&m);
        return 1;
    }
    printf("version %s %s\n", UNIAP_VERSION, UNIAP_GIT_REVISION);
    printf("params %" PRId64 "\n", uniap_model_params(&m));
    uniap_profile_init(&p);
    rc = uniap_profile_analytic(&m, &c, mb, 2, &p);
    printf("analytic %s\n", rc < 0 ? uniap_strstatus(rc) : "ok");
    if (rc < 0)
        fprintf(stderr, "consumer: %s\n", uniap_errmsg());
    uniap_profile_free(&p);
    uniap_solve_options_default(&o);
    printf("glpk-time-limit %g\n", o.time_limit);
    printf("cuda %d\n", uniap_profiler_have_cuda());
    printf("einval %s\n", uniap_strstatus(UNIAP_EINVAL));
    uniap_model_free(&m);
    return rc < 0 ? 1 : 0;
}
