/*
 * fileutil.c - whole-file reads, checksums and atomic writes. Output files
 * are written through the uniap_output API (output.c) under a unique
 * temporary name beside the final one and renamed into place only when
 * complete, so an error never leaves a partial file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uniap_io.h"

int uniap_tmp_name(const char *final_path, char *buf, size_t n)
{
    int len = snprintf(buf, n, "%s.tmp.%ld", final_path, (long)getpid());
    if (len < 0 || (size_t)len >= n)
        return uniap_err(UNIAP_EINVAL, "%s: path too long", final_path);
    return UNIAP_OK;
}

int uniap_commit_file(const char *tmp_path, const char *final_path)
{
    int fd = open(tmp_path, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    if (rename(tmp_path, final_path) != 0) {
        int e = errno;
        unlink(tmp_path);
        return uniap_err(UNIAP_EIO, "%s: cannot rename %s into place: %s", final_path, tmp_path,
                         strerror(e));
    }
    return UNIAP_OK;
}

int uniap_write_file_atomic(const char *path, const void *data, size_t len)
{
    uniap_output o;
    int rc;

    if ((rc = uniap_output_open(&o, path, 1)) < 0)
        return rc;
    if (len && fwrite(data, 1, len, o.f) != len) {
        rc = uniap_err(UNIAP_EIO, "%s: write failed: %s", o.is_stdout ? "standard output" : o.tmp,
                       strerror(errno));
        uniap_output_abort(&o);
        return rc;
    }
    return uniap_output_commit(&o);
}

int uniap_file_crc32(const char *path, char hex[20])
{
    unsigned char buf[65536];
    uint32_t crc = 0xFFFFFFFFu;
    size_t n;
    FILE *f = fopen(path, "rb");

    hex[0] = '\0';
    if (!f)
        return uniap_err(UNIAP_EIO, "%s: cannot open for its checksum: %s", path, strerror(errno));
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        for (size_t i = 0; i < n; i++) {
            crc ^= buf[i];
            for (int k = 0; k < 8; k++)
                crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    fclose(f);
    snprintf(hex, 20, "%08x", (unsigned)(crc ^ 0xFFFFFFFFu));
    return UNIAP_OK;
}

int uniap_read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    int rc = UNIAP_OK;

    *data = NULL;
    if (len)
        *len = 0;
    if (!f)
        return uniap_err(UNIAP_EIO, "%s: cannot open: %s", path, strerror(errno));
    for (;;) {
        if (n + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory reading", path);
                goto free_buf;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                rc = uniap_err(UNIAP_EIO, "%s: read failed: %s", path, strerror(errno));
                goto free_buf;
            }
            break;
        }
    }
    buf[n] = '\0';
    fclose(f);
    *data = buf;
    if (len)
        *len = n;
    return UNIAP_OK;

free_buf:
    free(buf);
    fclose(f);
    return rc;
}
