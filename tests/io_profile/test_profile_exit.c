/*
 * test_profile_exit.c - after a corrupt-file error the process exits
 * cleanly: reading a profile whose root object header fails its metadata
 * checksum (the committed 1.0 golden file with one header byte flipped)
 * is refused, leaves no HDF5 handle open, and HDF5 closes at MPI_Finalize
 * without "HDF5: infinite loop closing library" (ctest fails the test on
 * that text). HDF5's error printing is left at its default on purpose.
 * usage: test_profile_exit GOLDEN.h5 WORKDIR
 */
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "uniap_io.h"

int main(int argc, char **argv)
{
    char path[4096], *data = NULL;
    size_t len = 0;
    uniap_profile p;

    if (argc != 3) {
        fprintf(stderr, "usage: %s GOLDEN.h5 WORKDIR\n", argv[0]);
        return 2;
    }
    MPI_Init(&argc, &argv);
    mkdir(argv[2], 0755);
    snprintf(path, sizeof(path), "%s/corrupt_header.h5", argv[2]);
    CHECK_EQ(uniap_read_file(argv[1], &data, &len), 0);
    CHECK(len > 500);
    /* Bytes 100 and 500 lie in object headers of the golden file (found by
     * flipping each byte: both fail the metadata checksum). */
    for (int k = 0; k < 2 && data; k++) {
        size_t off = k ? 500 : 100;
        data[off] ^= 0xff;
        CHECK_EQ(uniap_write_file_atomic(path, data, len), 0);
        data[off] ^= 0xff;
        uniap_err_clear();
        int rc = uniap_profile_read(path, &p);
        fprintf(stderr, "  byte %zu flipped -> %d: %s\n", off, rc, uniap_errmsg());
        CHECK_EQ(rc, UNIAP_EFORMAT);
        CHECK_STR_CONTAINS(uniap_errmsg(), "checksum mismatch");
        CHECK_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), 0);
        uniap_profile_free(&p);
    }
    free(data);
    int rc = check_report();
    MPI_Finalize(); /* HDF5 closes here, as in `uniap` */
    return rc;
}
