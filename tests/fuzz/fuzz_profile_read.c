/*
 * fuzz_profile_read.c - libFuzzer target for the HDF5 profile reader: the
 * input is written to a temporary file and read with uniap_profile_read()
 * and uniap_profile_validate(); a foreign, truncated or corrupt file must
 * be refused with a message, never crash, and leave no HDF5 object open.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "uniap_io.h"

static char path[4096];

static void remove_tmp(void)
{
    if (path[0])
        unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uniap_profile p;
    FILE *f;
    int rc;

    if (!path[0]) {
        int fd;
        const char *dir = getenv("TMPDIR"); /* run_fuzz.sh: a scratch folder */
        snprintf(path, sizeof(path), "%s/uniap-fuzz-profile-XXXXXX", dir && *dir ? dir : "/tmp");
        fd = mkstemp(path);
        if (fd < 0)
            abort();
        close(fd);
        atexit(remove_tmp);
    }
    f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);

    uniap_err_clear();
    memset(&p, 0, sizeof(p));
    rc = uniap_profile_read(path, &p);
    if (rc == 0)
        uniap_profile_free(&p);
    else if (uniap_errmsg()[0] == '\0')
        abort(); /* a refusal always says why */
    if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0)
        abort(); /* the reader left a file, group, dataset or type open */
    uniap_err_clear();
    rc = uniap_profile_validate(path);
    if (rc != 0 && uniap_errmsg()[0] == '\0')
        abort();
    if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0)
        abort();
    return 0;
}
