/*
 * uniap_profiler.h - the profiler's interface: `uniap profile`, run under
 * mpirun or srun, measures layer kernels and collectives on every rank and
 * writes one HDF5 profile dataset (io's format).
 */
#ifndef UNIAP_PROFILER_H
#define UNIAP_PROFILER_H

#include "uniap_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `uniap profile`. Returns a process exit status. */
int uniap_cmd_profile(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
