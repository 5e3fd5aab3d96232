/*
 * test_modes.h - the main of an io_profile test that ctest runs once per
 * mode (`test MODE DIR`): each mode is one function, given a fresh, empty
 * DIR and HDF5's own error printing off (the tests break files on
 * purpose).
 */
#ifndef UNIAP_TEST_MODES_H
#define UNIAP_TEST_MODES_H

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

typedef struct test_mode {
    const char *name;
    void (*run)(void);
} test_mode;

/* Empties argv[2] into *dir, runs the mode named argv[1] and returns the
 * test's exit status (2 on bad usage or an unknown mode). */
static inline int test_modes_main(int argc, char **argv, const test_mode *modes, size_t n,
                                  const char **dir)
{
    char cmd[4200];
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODE DIR\n", argv[0]);
        return 2;
    }
    *dir = argv[2];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", *dir, *dir);
    if (system(cmd) != 0)
        return 2;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[1], modes[i].name) == 0) {
            modes[i].run();
            return check_report();
        }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}

#endif
