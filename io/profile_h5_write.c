/*
 * profile_h5_write.c - writes a uniap_profile as an HDF5 profile dataset
 * (format "uniap-profile" 1.x; layout in profile_h5_schema.c), serially
 * from one process or collectively from every rank of a communicator.
 *
 * Both writers create the file under a unique temporary name in the
 * target's folder (uniap_output_reserve: mkstemp, never following a link; a
 * symlinked target is written through) and rename it into place only once
 * it is complete, closed and synced (uniap_output_commit_path); any failure
 * removes the temporary file, so a reader never sees a torn profile. The
 * profiler relies on this for its incremental output: it rewrites the whole
 * profile (marked complete = 0) every few seconds of its sweep with the
 * serial writer from rank 0, so the file under its final name is always a
 * valid, checksummed snapshot that `--resume` can continue.
 *
 * The parallel collective writer: every rank writes its own rows straight
 * into its slice (hyperslab) of the shared tables through the MPI-IO
 * driver, so no process need hold the whole profile. The profiler does not
 * use it: it gathers the rows on rank 0 and writes snapshots with the
 * serial writer (profiler/prof_output.c says why); the collective writer
 * serves callers whose ranks each hold rows (tests/io_profile). The tables
 * are chunked, deflated and Fletcher32-checksummed, and HDF5 (1.10.2 and
 * later) only allows writing filtered datasets from several ranks with
 * collective transfers: the library then assigns every chunk to one owner
 * rank, which compresses and checksums it after the others sent it their
 * pieces. Collective transfers also let MPI-IO merge the small per-rank
 * pieces into few large file accesses.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5_check.h"
#include "profile_h5.h"

/* Rows per chunk are chosen for about this many bytes per chunk. */
#define CHUNK_TARGET_BYTES (64 * 1024)
/* Tables with more rows than this are shuffled and deflate-compressed;
 * below it the filter overhead is larger than what compression saves. */
#define DEFLATE_MIN_ROWS 8
#define DEFLATE_LEVEL    6

static void table_rows(const uniap_profile *p, uniap_h5_table_id id, const void **rows, int *n)
{
    switch (id) {
    case UNIAP_H5_RANKS:
        *rows = p->ranks, *n = p->n_ranks;
        break;
    case UNIAP_H5_LAYERS:
        *rows = p->layers, *n = p->n_layers;
        break;
    case UNIAP_H5_GEMM:
        *rows = p->gemm, *n = p->n_gemm;
        break;
    default:
        *rows = p->colls, *n = p->n_colls;
        break;
    }
}

/* Refuses rows HDF5 could not store faithfully: strings without their NUL
 * inside the field, collective ops outside the enum. */
static int check_rows(const char *path, const uniap_profile *p)
{
    for (int id = 0; id < UNIAP_H5_NTABLES; id++) {
        const uniap_h5_table *t = &uniap_h5_tables[id];
        const void *rows;
        int n;

        table_rows(p, (uniap_h5_table_id)id, &rows, &n);
        if (n < 0 || (n > 0 && !rows))
            return uniap_err(UNIAP_EINVAL, "%s: table %s has %d rows and %s storage", path, t->path,
                             n, rows ? "some" : "no");
        for (int r = 0; r < n; r++) {
            const char *row = (const char *)rows + (size_t)r * t->row_size;
            for (int i = 0; i < t->n_fields; i++) {
                const uniap_h5_field *f = &t->fields[i];
                if (f->kind == UNIAP__COL_STRING && !memchr(row + f->offset, '\0', f->str_size))
                    return uniap_err(UNIAP_EINVAL,
                                     "%s: %s row %d: %s is not NUL-terminated within %zu bytes",
                                     path, t->path, r, f->name, f->str_size);
                if (f->kind == UNIAP__COL_COLL_OP) {
                    int op;
                    memcpy(&op, row + f->offset, sizeof(op));
                    if (op < 0 || op >= UNIAP_COLL_COUNT)
                        return uniap_err(UNIAP_EINVAL,
                                         "%s: %s row %d: op %d is not a collective (0..%d)", path,
                                         t->path, r, op, UNIAP_COLL_COUNT - 1);
                }
            }
        }
    }
    return UNIAP_OK;
}

/* Writes a scalar attribute of file type ftype from memory type mtype. */
static int write_attr(hid_t obj, const char *path, const char *objname, const char *name,
                      hid_t ftype, hid_t mtype, const void *value)
{
    hid_t space, attr;
    int rc = UNIAP_OK;

    H5_CHECK(space = H5Screate(H5S_SCALAR), UNIAP_ELIB, fail, "%s: dataspace", path);
    H5_CHECK(attr = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT), UNIAP_EIO,
             close_space, "%s: cannot create attribute %s of %s", path, name, objname);
    H5_CHECK(H5Awrite(attr, mtype, value), UNIAP_EIO, close_attr,
             "%s: cannot write attribute %s of %s", path, name, objname);
close_attr:
    H5Aclose(attr);
close_space:
    H5Sclose(space);
fail:
    return rc;
}

/* A string attribute: fixed length strlen + 1, NUL-terminated UTF-8 (the
 * stored specs are JSON). */
static int write_str_attr(hid_t obj, const char *path, const char *objname, const char *name,
                          const char *value)
{
    hid_t type;
    int rc = UNIAP_OK;

    if (!value)
        value = "";
    H5_CHECK(type = H5Tcopy(H5T_C_S1), UNIAP_ELIB, fail, "%s: string type", path);
    H5_CHECK(H5Tset_size(type, strlen(value) + 1), UNIAP_ELIB, close_type,
             "%s: string type of %zu bytes for %s", path, strlen(value) + 1, name);
    H5_CHECK(H5Tset_strpad(type, H5T_STR_NULLTERM), UNIAP_ELIB, close_type, "%s: string type",
             path);
    H5_CHECK(H5Tset_cset(type, H5T_CSET_UTF8), UNIAP_ELIB, close_type, "%s: string type", path);
    rc = write_attr(obj, path, objname, name, type, type, value);
close_type:
    H5Tclose(type);
fail:
    return rc;
}

/* The root attributes (from p's scalar fields and strings). */
static int write_root_attrs(hid_t file, const char *path, const uniap_profile *p)
{
    int major = UNIAP_PROFILE_VERSION_MAJOR, minor = UNIAP_PROFILE_VERSION_MINOR, rc;

    if ((rc = write_str_attr(file, path, "/", UNIAP_H5_ATTR_FORMAT, UNIAP_PROFILE_FORMAT)) < 0 ||
        (rc = write_attr(file, path, "/", UNIAP_H5_ATTR_MAJOR, H5T_STD_I32LE, H5T_NATIVE_INT,
                         &major)) < 0 ||
        (rc = write_attr(file, path, "/", UNIAP_H5_ATTR_MINOR, H5T_STD_I32LE, H5T_NATIVE_INT,
                         &minor)) < 0)
        return rc;
    for (int i = 0; i < uniap_h5_n_root_attrs; i++) {
        const uniap_h5_root_attr *a = &uniap_h5_root_attrs[i];
        const char *field = (const char *)p + a->offset;
        switch (a->kind) {
        case H5A_KIND_INT:
            rc = write_attr(file, path, "/", a->name, H5T_STD_I32LE, H5T_NATIVE_INT, field);
            break;
        case H5A_KIND_DOUBLE:
            rc = write_attr(file, path, "/", a->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, field);
            break;
        case H5A_KIND_STR_FIXED:
            if (!memchr(field, '\0', a->size))
                return uniap_err(UNIAP_EINVAL, "%s: root attribute %s is not NUL-terminated", path,
                                 a->name);
            rc = write_str_attr(file, path, "/", a->name, field);
            break;
        case H5A_KIND_STR_DYN: {
            const char *s;
            memcpy(&s, field, sizeof(s));
            rc = s || !a->optional ? write_str_attr(file, path, "/", a->name, s) : 0;
            break;
        }
        }
        if (rc < 0)
            return rc;
    }
    return UNIAP_OK;
}

/* Creates table id with `total` rows (chunked, extendible, filtered) and its
 * units/description attributes; *dset receives the dataset. */
static int create_table(hid_t file, const char *path, const uniap_h5_table *t, hsize_t total,
                        hid_t *dset)
{
    hsize_t dims[1] = {total}, maxdims[1] = {H5S_UNLIMITED}, chunk[1];
    hid_t ftype, space, dcpl;
    char units[512];
    int rc = UNIAP_OK;

    *dset = -1;
    H5_CHECK(ftype = uniap_h5_file_type(t), UNIAP_ELIB, fail, "%s: type of %s", path, t->path);
    chunk[0] = CHUNK_TARGET_BYTES / H5Tget_size(ftype);
    if (chunk[0] > total)
        chunk[0] = total;
    if (chunk[0] < 1)
        chunk[0] = 1;
    H5_CHECK(space = H5Screate_simple(1, dims, maxdims), UNIAP_ELIB, close_ftype,
             "%s: dataspace of %s", path, t->path);
    H5_CHECK(dcpl = H5Pcreate(H5P_DATASET_CREATE), UNIAP_ELIB, close_space, "%s: dcpl", path);
    H5_CHECK(H5Pset_chunk(dcpl, 1, chunk), UNIAP_ELIB, close_dcpl, "%s: chunking of %s", path,
             t->path);
    if (total > DEFLATE_MIN_ROWS) {
        H5_CHECK(H5Pset_shuffle(dcpl), UNIAP_ELIB, close_dcpl, "%s: shuffle of %s", path, t->path);
        H5_CHECK(H5Pset_deflate(dcpl, DEFLATE_LEVEL), UNIAP_ELIB, close_dcpl, "%s: deflate of %s",
                 path, t->path);
    }
    /* Last in the pipeline: the checksum covers the bytes as stored. */
    H5_CHECK(H5Pset_fletcher32(dcpl), UNIAP_ELIB, close_dcpl, "%s: fletcher32 of %s", path,
             t->path);
    H5_CHECK(*dset = H5Dcreate2(file, t->path, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
             UNIAP_EIO, close_dcpl, "%s: cannot create dataset %s", path, t->path);
    uniap_h5_units(t, units, sizeof(units));
    if ((rc = write_str_attr(*dset, path, t->path, "units", units)) < 0 ||
        (rc = write_str_attr(*dset, path, t->path, "description", t->description)) < 0) {
        H5Dclose(*dset);
        *dset = -1;
    }
close_dcpl:
    H5Pclose(dcpl);
close_space:
    H5Sclose(space);
close_ftype:
    H5Tclose(ftype);
fail:
    return rc;
}

/* Copies count C rows into the packed on-disk layout of the table (fields
 * in order, no padding). On a little-endian host the bytes then equal the
 * file type's, so HDF5 needs no type conversion: parallel HDF5 refuses
 * conversions in collective writes of filtered datasets. */
static int pack_rows(const char *path, const uniap_h5_table *t, const void *rows, size_t count,
                     size_t packed_size, char **out)
{
    char *buf = malloc(count * packed_size);

    if (!buf)
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory packing %zu rows of %s", path, count,
                         t->path);
    for (size_t r = 0; r < count; r++) {
        const char *src = (const char *)rows + r * t->row_size;
        char *dst = buf + r * packed_size;
        for (int i = 0; i < t->n_fields; i++) {
            const uniap_h5_field *f = &t->fields[i];
            size_t n = f->kind == UNIAP__COL_STRING                                  ? f->str_size
                       : (f->kind == UNIAP__COL_I64 || f->kind == UNIAP__COL_DOUBLE) ? 8
                                                                                     : 4;
            memcpy(dst, src + f->offset, n);
            dst += n;
        }
        size_t packed = (size_t)(dst - (buf + r * packed_size));
        if (packed != packed_size) {
            free(buf); /* the field table and the file type disagree */
            return uniap_err_at(__FILE__, __LINE__, UNIAP_EINTERNAL,
                                "internal error: %s: packed row of %zu bytes, file type %zu",
                                t->path, packed, packed_size);
        }
    }
    *out = buf;
    return UNIAP_OK;
}

/* Writes count rows at row offset of dset (total rows). A rank with no
 * rows selects nothing but still takes part when dxpl is collective. */
static int write_rows(hid_t dset, const char *path, const uniap_h5_table *t, const void *rows,
                      hsize_t offset, hsize_t count, hid_t dxpl)
{
    hsize_t mdims[1] = {count ? count : 1}, start[1] = {offset}, cnt[1] = {count};
    hid_t mtype, fspace, mspace;
    char *packed = NULL;
    static const char dummy[1];
    const void *buf = dummy;
    int rc = UNIAP_OK;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    H5_CHECK(mtype = uniap_h5_file_type(t), UNIAP_ELIB, fail, "%s: type of %s", path, t->path);
    if (count && (rc = pack_rows(path, t, rows, count, H5Tget_size(mtype), &packed)) < 0)
        goto close_mtype;
    buf = packed;
#else /* HDF5 converts (serial writes only: see pack_rows) */
    H5_CHECK(mtype = uniap_h5_mem_type(t), UNIAP_ELIB, fail, "%s: type of %s", path, t->path);
    buf = rows;
#endif
    H5_CHECK(fspace = H5Dget_space(dset), UNIAP_ELIB, close_mtype, "%s: space of %s", path,
             t->path);
    H5_CHECK(mspace = H5Screate_simple(1, mdims, NULL), UNIAP_ELIB, close_fspace,
             "%s: memory space of %s", path, t->path);
    if (count) {
        H5_CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, cnt, NULL), UNIAP_ELIB,
                 close_mspace, "%s: rows %llu..%llu of %s", path, (unsigned long long)offset,
                 (unsigned long long)(offset + count), t->path);
    } else {
        H5_CHECK(H5Sselect_none(fspace), UNIAP_ELIB, close_mspace, "%s: select", path);
        H5_CHECK(H5Sselect_none(mspace), UNIAP_ELIB, close_mspace, "%s: select", path);
        buf = dummy;
    }
    H5_CHECK(H5Dwrite(dset, mtype, mspace, fspace, dxpl, buf), UNIAP_EIO, close_mspace,
             "%s: cannot write %llu rows of %s", path, (unsigned long long)count, t->path);
close_mspace:
    H5Sclose(mspace);
close_fspace:
    H5Sclose(fspace);
close_mtype:
    H5Tclose(mtype);
    free(packed);
fail:
    return rc;
}

/* File access: the 1.8 file format at least, for attributes above 64 KiB
 * (dense attribute storage) such as long stored specs. */
static int make_fapl(const char *path, MPI_Comm *comm, hid_t *fapl)
{
    int rc = UNIAP_OK;

    H5_CHECK(*fapl = H5Pcreate(H5P_FILE_ACCESS), UNIAP_ELIB, fail, "%s: fapl", path);
    H5_CHECK(H5Pset_libver_bounds(*fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST), UNIAP_ELIB, close_fapl,
             "%s: file format bounds", path);
    if (comm)
        H5_CHECK(H5Pset_fapl_mpio(*fapl, *comm, MPI_INFO_NULL), UNIAP_ELIB, close_fapl,
                 "%s: MPI-IO driver", path);
    return UNIAP_OK;
close_fapl:
    H5Pclose(*fapl);
fail:
    return rc;
}

int uniap_profile_write(const char *path, const uniap_profile *p)
{
    return uniap_h5_write_serial(path, p, NULL, 0);
}

int uniap_h5_write_serial(const char *path, const uniap_profile *p, const uniap_h5_input *inputs,
                          int n_inputs)
{
    uniap_output out;
    uniap_h5_quiet_state quiet;
    hid_t fapl, file;
    int rc;

    UNIAP_CHECK(path && p);
    if ((rc = check_rows(path, p)) < 0 || (rc = uniap_output_reserve(&out, path)) < 0)
        return rc;
    uniap_h5_quiet(&quiet);
    if ((rc = make_fapl(path, NULL, &fapl)) < 0)
        goto remove_tmp;
    H5_CHECK(file = H5Fcreate(out.tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl), UNIAP_EIO, close_fapl,
             "%s: cannot create %s", path, out.tmp);
    if ((rc = write_root_attrs(file, path, p)) < 0)
        goto close_file;
    for (int id = 0; id < UNIAP_H5_NTABLES; id++) {
        const void *rows;
        hid_t dset;
        int n;

        table_rows(p, (uniap_h5_table_id)id, &rows, &n);
        if (n == 0 && uniap_h5_tables[id].since_minor > 0)
            continue; /* an optional table is written only when it has rows */
        if ((rc = create_table(file, path, &uniap_h5_tables[id], (hsize_t)n, &dset)) < 0)
            goto close_file;
        if (n > 0)
            rc = write_rows(dset, path, &uniap_h5_tables[id], rows, 0, (hsize_t)n, H5P_DEFAULT);
        H5Dclose(dset);
        if (rc < 0)
            goto close_file;
    }
    if (inputs) {
        hid_t dset;
        if ((rc = create_table(file, path, &uniap_h5_inputs_table, (hsize_t)n_inputs, &dset)) < 0)
            goto close_file;
        if (n_inputs > 0)
            rc = write_rows(dset, path, &uniap_h5_inputs_table, inputs, 0, (hsize_t)n_inputs,
                            H5P_DEFAULT);
        H5Dclose(dset);
        if (rc < 0)
            goto close_file;
    }
    H5_CHECK(H5Fclose(file), UNIAP_EIO, close_fapl, "%s: cannot close %s", path, out.tmp);
    H5Pclose(fapl);
    uniap_h5_restore(&quiet);
    return uniap_output_commit_path(&out);

close_file:
    H5Fclose(file);
close_fapl:
    H5Pclose(fapl);
remove_tmp:
    uniap_output_abort(&out);
    uniap_h5_restore(&quiet);
    return rc;
}

/* ---- parallel ------------------------------------------------------------ */

/* Sends rank 0's string (NULL allowed) to every rank; *out is malloc'd
 * (NULL for NULL). The allocation's status is agreed before the payload
 * travels, so a failed malloc on one rank never leaves a broadcast open. */
static int bcast_str(MPI_Comm comm, const char *s, char **out)
{
    long len = s ? (long)strlen(s) : -1;
    int me, rc = UNIAP_OK;

    MPI_Comm_rank(comm, &me);
    *out = NULL;
    MPI_Bcast(&len, 1, MPI_LONG, 0, comm);
    if (len < 0)
        return UNIAP_OK;
    if (!(*out = malloc((size_t)len + 1)))
        rc = uniap_err(UNIAP_ENOMEM, "out of memory for a %ld-byte root attribute", len);
    if ((rc = uniap_mpi_agree(comm, rc)) < 0) {
        free(*out);
        *out = NULL;
        return rc;
    }
    if (me == 0)
        memcpy(*out, s, (size_t)len + 1);
    MPI_Bcast(*out, (int)len + 1, MPI_CHAR, 0, comm);
    return UNIAP_OK;
}

/* root = rank 0's root attributes (tables left empty), on every rank:
 * parallel HDF5 needs identical metadata writes from all ranks. */
static int bcast_root(MPI_Comm comm, const uniap_profile *p, uniap_profile *root)
{
    int rc;

    *root = *p;
    MPI_Bcast(root, (int)sizeof(*root), MPI_BYTE, 0, comm);
    root->command_line = root->model_json = root->cluster_json = root->notes = NULL;
    root->ranks = NULL, root->layers = NULL, root->colls = NULL, root->gemm = NULL;
    root->n_ranks = root->n_layers = root->n_colls = root->n_gemm = 0;
    if ((rc = bcast_str(comm, p->command_line, &root->command_line)) < 0 ||
        (rc = bcast_str(comm, p->model_json, &root->model_json)) < 0 ||
        (rc = bcast_str(comm, p->cluster_json, &root->cluster_json)) < 0 ||
        (rc = bcast_str(comm, p->notes, &root->notes)) < 0)
        uniap_profile_free(root);
    return rc;
}

int uniap_profile_write_parallel(MPI_Comm comm, const char *path, const uniap_profile *p)
{
    int me, size, rc, counts[UNIAP_H5_NTABLES], *all = NULL;
    long long offset[UNIAP_H5_NTABLES] = {0}, total[UNIAP_H5_NTABLES] = {0};
    uniap_output out;
    char tmp[sizeof(out.tmp)] = "";
    uniap_h5_quiet_state quiet;
    uniap_profile root;
    hid_t fapl = -1, file = -1, dxpl = -1;

    UNIAP_CHECK(path && p);
    memset(&out, 0, sizeof(out));
    memset(&root, 0, sizeof(root));
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &size);
    uniap_h5_quiet(&quiet);

    /* 1. Every rank checks its rows; rank 0 creates the temporary file. */
    rc = check_rows(path, p);
    if (rc == UNIAP_OK && me == 0 && (rc = uniap_output_reserve(&out, path)) == UNIAP_OK)
        snprintf(tmp, sizeof(tmp), "%s", out.tmp);
    if (rc == UNIAP_OK && !(all = malloc(sizeof(int) * UNIAP_H5_NTABLES * (size_t)size)))
        rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory for row counts", path);
    if ((rc = uniap_mpi_agree(comm, rc)) < 0)
        goto remove_tmp;
    MPI_Bcast(tmp, (int)sizeof(tmp), MPI_CHAR, 0, comm);

    /* 2. Row counts: this rank's rows start after those of lower ranks. */
    for (int id = 0; id < UNIAP_H5_NTABLES; id++) {
        const void *rows;
        table_rows(p, (uniap_h5_table_id)id, &rows, &counts[id]);
    }
    MPI_Allgather(counts, UNIAP_H5_NTABLES, MPI_INT, all, UNIAP_H5_NTABLES, MPI_INT, comm);
    for (int r = 0; r < size; r++)
        for (int id = 0; id < UNIAP_H5_NTABLES; id++) {
            if (r < me)
                offset[id] += all[r * UNIAP_H5_NTABLES + id];
            total[id] += all[r * UNIAP_H5_NTABLES + id];
        }
    for (int id = 0; id < UNIAP_H5_NTABLES; id++)
        if (total[id] > INT_MAX) { /* the same verdict on every rank */
            rc = uniap_err(UNIAP_EINVAL, "%s: %lld rows in %s exceed the format's limit", path,
                           total[id], uniap_h5_tables[id].path);
            goto remove_tmp;
        }

    /* 3. Root attributes from rank 0. */
    if ((rc = bcast_root(comm, p, &root)) < 0)
        goto remove_tmp;

    /* 4. Collective create; from here every failure closes and removes. */
    rc = make_fapl(path, &comm, &fapl);
    if (rc == UNIAP_OK) {
        H5_CHECK(dxpl = H5Pcreate(H5P_DATASET_XFER), UNIAP_ELIB, agree_create, "%s: dxpl", path);
        H5_CHECK(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE), UNIAP_ELIB, agree_create,
                 "%s: collective transfer", path);
    }
agree_create:
    if ((rc = uniap_mpi_agree(comm, rc)) < 0)
        goto close_plists;
    file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (file < 0)
        rc = uniap_h5_fail(__FILE__, __LINE__, UNIAP_EIO, "%s: cannot create %s", path, tmp);
    if ((rc = uniap_mpi_agree(comm, rc)) < 0) {
        if (file >= 0)
            H5Fclose(file);
        goto remove_tmp;
    }
    if ((rc = uniap_mpi_agree(comm, write_root_attrs(file, path, &root))) < 0)
        goto close_file;

    /* 5. Tables: collective create, then every rank writes its slice. */
    for (int id = 0; id < UNIAP_H5_NTABLES; id++) {
        const void *rows;
        hid_t dset;
        int n;

        table_rows(p, (uniap_h5_table_id)id, &rows, &n);
        if (total[id] == 0 && uniap_h5_tables[id].since_minor > 0)
            continue; /* the same verdict on every rank: total is global */
        rc = create_table(file, path, &uniap_h5_tables[id], (hsize_t)total[id], &dset);
        if ((rc = uniap_mpi_agree(comm, rc)) < 0) {
            if (dset >= 0)
                H5Dclose(dset);
            goto close_file;
        }
        if (total[id] > 0)
            rc = write_rows(dset, path, &uniap_h5_tables[id], rows, (hsize_t)offset[id], (hsize_t)n,
                            dxpl);
        H5Dclose(dset);
        if ((rc = uniap_mpi_agree(comm, rc)) < 0)
            goto close_file;
    }

    /* 6. Close everywhere, then rank 0 renames into place. */
    rc = H5Fclose(file) < 0
             ? uniap_h5_fail(__FILE__, __LINE__, UNIAP_EIO, "%s: cannot close %s", path, tmp)
             : UNIAP_OK;
    file = -1;
    if ((rc = uniap_mpi_agree(comm, rc)) < 0)
        goto remove_tmp;
    if (me == 0)
        rc = uniap_output_commit_path(&out);
    rc = uniap_mpi_agree(comm, rc);
    goto close_plists;

close_file:
    H5Fclose(file);
remove_tmp:
    MPI_Barrier(comm); /* every rank has closed the file before it goes */
    if (me == 0)
        uniap_output_abort(&out);
close_plists:
    if (dxpl >= 0)
        H5Pclose(dxpl);
    if (fapl >= 0)
        H5Pclose(fapl);
    uniap_profile_free(&root);
    free(all);
    uniap_h5_restore(&quiet);
    return rc;
}
