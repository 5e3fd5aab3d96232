/*
 * profile_h5_read.c - reads and validates an HDF5 profile dataset (format
 * "uniap-profile" 1.x; layout in profile_h5_schema.c).
 *
 * The reader trusts nothing in the file: it checks the format name, the
 * major version (newer majors are refused, newer minors read), that every
 * root attribute and table is present with the expected class (the ones a
 * minor version added may be absent: /gemm, since 1.2), that each
 * table's members exist with the expected classes (matched by name, so a
 * newer minor version may add members), that each table carries its
 * Fletcher32 filter, and that row counts are plausible for the bytes
 * stored before allocating. Fletcher32 failures while reading come back
 * as "checksum mismatch" naming the file and the object. The values read
 * are then checked (profile_check.c). HDF5's own error printing is off;
 * its errors become uniap_err() messages.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "h5_check.h"
#include "profile_h5.h"

/* No table may hold more rows than this, nor more bytes in memory. */
#define MAX_ROWS        (1 << 24)
#define MAX_TABLE_BYTES ((size_t)1 << 30)
/* Deflate expands at most ~1032x; a table claiming more rows than this
 * ratio allows for its stored bytes is corrupt (or unwritten). */
#define MAX_EXPANSION  2048
#define MAX_ATTR_BYTES ((size_t)64 << 20)
/* A row of any version 1 table is far below this; larger is corruption
 * (and would make HDF5 allocate huge conversion buffers). */
#define MAX_ROW_BYTES 65536

/* Reads the scalar string attribute `name` of obj (fixed or variable
 * length) into a malloc'd NUL-terminated *out. */
static int read_str_attr(hid_t obj, const char *path, const char *objname, const char *name,
                         char **out)
{
    hid_t attr, ftype, space, mtype = -1;
    htri_t vl;
    size_t size;
    int rc = UNIAP_OK;

    *out = NULL;
    H5_CHECK(attr = H5Aopen(obj, name, H5P_DEFAULT), UNIAP_EFORMAT, fail,
             "%s: cannot open attribute %s of %s", path, name, objname);
    H5_CHECK(ftype = H5Aget_type(attr), UNIAP_EFORMAT, close_attr, "%s: type of attribute %s", path,
             name);
    H5_CHECK(space = H5Aget_space(attr), UNIAP_EFORMAT, close_ftype,
             "%s: dataspace of attribute %s", path, name);
    if (H5Tget_class(ftype) != H5T_STRING || H5Sget_simple_extent_type(space) != H5S_SCALAR) {
        rc = uniap_err(UNIAP_EFORMAT, "%s: attribute %s of %s is not a scalar string", path, name,
                       objname);
        goto close_space;
    }
    H5_CHECK(vl = H5Tis_variable_str(ftype), UNIAP_EFORMAT, close_space, "%s: type of attribute %s",
             path, name);
    H5_CHECK(mtype = H5Tcopy(H5T_C_S1), UNIAP_ELIB, close_space, "%s: string type", path);
    /* HDF5 does not convert between character sets: read in the file's. */
    H5_CHECK(H5Tset_cset(mtype, H5Tget_cset(ftype)), UNIAP_EFORMAT, close_mtype,
             "%s: character set of attribute %s of %s", path, name, objname);
    if (vl) {
        char *s = NULL;
        H5_CHECK(H5Tset_size(mtype, H5T_VARIABLE), UNIAP_ELIB, close_mtype, "%s: type", path);
        H5_CHECK(H5Aread(attr, mtype, &s), UNIAP_EFORMAT, close_mtype,
                 "%s: cannot read attribute %s of %s", path, name, objname);
        *out = strdup(s ? s : "");
        H5free_memory(s);
    } else {
        size = H5Tget_size(ftype);
        if (size == 0 || size > MAX_ATTR_BYTES) {
            rc = uniap_err(UNIAP_EFORMAT, "%s: attribute %s of %s has implausible size %zu", path,
                           name, objname, size);
            goto close_mtype;
        }
        H5_CHECK(H5Tset_size(mtype, size + 1), UNIAP_ELIB, close_mtype, "%s: type", path);
        H5_CHECK(H5Tset_strpad(mtype, H5T_STR_NULLTERM), UNIAP_ELIB, close_mtype, "%s: type", path);
        if (!(*out = calloc(1, size + 1))) {
            rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory for attribute %s", path, name);
            goto close_mtype;
        }
        H5_CHECK(H5Aread(attr, mtype, *out), UNIAP_EFORMAT, free_out,
                 "%s: cannot read attribute %s of %s", path, name, objname);
        (*out)[size] = '\0';
    }
    if (!*out)
        rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory for attribute %s", path, name);
    goto close_mtype;

free_out:
    free(*out);
    *out = NULL;
close_mtype:
    H5Tclose(mtype);
close_space:
    H5Sclose(space);
close_ftype:
    H5Tclose(ftype);
close_attr:
    H5Aclose(attr);
fail:
    return rc;
}

/* Reads the scalar numeric attribute `name` of class cls into *value of
 * memory type mtype (native int or double). */
static int read_num_attr(hid_t obj, const char *path, const char *name, H5T_class_t cls,
                         hid_t mtype, void *value)
{
    hid_t attr, ftype, space;
    int rc = UNIAP_OK;

    H5_CHECK(attr = H5Aopen(obj, name, H5P_DEFAULT), UNIAP_EFORMAT, fail,
             "%s: cannot open root attribute %s", path, name);
    H5_CHECK(ftype = H5Aget_type(attr), UNIAP_EFORMAT, close_attr, "%s: type of attribute %s", path,
             name);
    H5_CHECK(space = H5Aget_space(attr), UNIAP_EFORMAT, close_ftype,
             "%s: dataspace of attribute %s", path, name);
    if (H5Tget_class(ftype) != cls || H5Sget_simple_extent_type(space) != H5S_SCALAR) {
        rc = uniap_err(UNIAP_EFORMAT, "%s: root attribute %s is not a scalar %s", path, name,
                       cls == H5T_INTEGER ? "integer" : "float");
        goto close_space;
    }
    H5_CHECK(H5Aread(attr, mtype, value), UNIAP_EFORMAT, close_space,
             "%s: cannot read root attribute %s as %s", path, name,
             cls == H5T_INTEGER ? "an int" : "a double");
close_space:
    H5Sclose(space);
close_ftype:
    H5Tclose(ftype);
close_attr:
    H5Aclose(attr);
fail:
    return rc;
}

/* Format name and version: the checks that tell a foreign or newer file. */
static int read_format(hid_t file, const char *path, uniap_profile *out)
{
    char *format = NULL;
    htri_t has;
    int rc;

    has = H5Aexists(file, UNIAP_H5_ATTR_FORMAT);
    if (has < 0) /* the root group itself is unreadable */
        return uniap_h5_fail(__FILE__, __LINE__, UNIAP_EFORMAT,
                             "%s: cannot read the root group's attributes", path);
    if (has == 0)
        return uniap_err(UNIAP_EFORMAT,
                         "%s: not a uniap profile (the root group has no '%s' attribute)", path,
                         UNIAP_H5_ATTR_FORMAT);
    if ((rc = read_str_attr(file, path, "/", UNIAP_H5_ATTR_FORMAT, &format)) < 0)
        return rc;
    if (strcmp(format, UNIAP_PROFILE_FORMAT) != 0) {
        rc = uniap_err(UNIAP_EFORMAT, "%s: not a uniap profile (format is '%.64s', expected '%s')",
                       path, format, UNIAP_PROFILE_FORMAT);
        free(format);
        return rc;
    }
    free(format);
    if ((rc = read_num_attr(file, path, UNIAP_H5_ATTR_MAJOR, H5T_INTEGER, H5T_NATIVE_INT,
                            &out->version_major)) < 0 ||
        (rc = read_num_attr(file, path, UNIAP_H5_ATTR_MINOR, H5T_INTEGER, H5T_NATIVE_INT,
                            &out->version_minor)) < 0)
        return rc;
    if (out->version_major != UNIAP_PROFILE_VERSION_MAJOR || out->version_minor < 0)
        return uniap_err(UNIAP_EFORMAT,
                         "%s: format version %d.%d cannot be read by this uniap, which reads "
                         "version %d.x (up to %d.%d written)%s",
                         path, out->version_major, out->version_minor, UNIAP_PROFILE_VERSION_MAJOR,
                         UNIAP_PROFILE_VERSION_MAJOR, UNIAP_PROFILE_VERSION_MINOR,
                         out->version_major > UNIAP_PROFILE_VERSION_MAJOR
                             ? "; the file is newer: upgrade uniap"
                             : "");
    return UNIAP_OK;
}

static int read_root_attrs(hid_t file, const char *path, uniap_profile *out)
{
    int rc;

    for (int i = 0; i < uniap_h5_n_root_attrs; i++) {
        const uniap_h5_root_attr *a = &uniap_h5_root_attrs[i];
        char *field = (char *)out + a->offset, *s;

        htri_t has = H5Aexists(file, a->name);
        if (has < 0)
            return uniap_h5_fail(__FILE__, __LINE__, UNIAP_EFORMAT,
                                 "%s: cannot look up root attribute %s", path, a->name);
        if (has == 0 && a->optional)
            continue; /* a newer minor version's attribute: NULL (zeroed) */
        if (has == 0)
            return uniap_err(UNIAP_EFORMAT, "%s: root attribute %s is missing", path, a->name);
        switch (a->kind) {
        case H5A_KIND_INT:
            rc = read_num_attr(file, path, a->name, H5T_INTEGER, H5T_NATIVE_INT, field);
            break;
        case H5A_KIND_DOUBLE:
            rc = read_num_attr(file, path, a->name, H5T_FLOAT, H5T_NATIVE_DOUBLE, field);
            break;
        case H5A_KIND_STR_FIXED:
            if ((rc = read_str_attr(file, path, "/", a->name, &s)) < 0)
                return rc;
            if (strlen(s) >= a->size) {
                rc = uniap_err(UNIAP_EFORMAT,
                               "%s: root attribute %s has %zu characters, at most %zu expected",
                               path, a->name, strlen(s), a->size - 1);
            } else {
                memcpy(field, s, strlen(s) + 1);
            }
            free(s);
            break;
        case H5A_KIND_STR_DYN:
            if ((rc = read_str_attr(file, path, "/", a->name, &s)) < 0)
                return rc;
            if (s[0] == '\0') { /* stored empty: absent */
                free(s);
                s = NULL;
            }
            memcpy(field, &s, sizeof(s));
            break;
        }
        if (rc < 0)
            return rc;
    }
    return UNIAP_OK;
}

/* The classes a member of each kind may have on disk. */
static H5T_class_t kind_class(uniap_h5_kind k)
{
    switch (k) {
    case UNIAP__COL_INT:
    case UNIAP__COL_I64:
        return H5T_INTEGER;
    case UNIAP__COL_DOUBLE:
        return H5T_FLOAT;
    case UNIAP__COL_STRING:
        return H5T_STRING;
    case UNIAP__COL_COLL_OP:
        return H5T_ENUM;
    }
    return H5T_NO_CLASS;
}

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER:
        return "integer";
    case H5T_FLOAT:
        return "float";
    case H5T_STRING:
        return "string";
    case H5T_ENUM:
        return "enum";
    case H5T_COMPOUND:
        return "compound";
    case H5T_ARRAY:
        return "array";
    case H5T_OPAQUE:
        return "opaque";
    case H5T_VLEN:
        return "vlen";
    case H5T_REFERENCE:
        return "reference";
    case H5T_BITFIELD:
        return "bitfield";
    case H5T_TIME:
        return "time";
    default:
        return "unknown";
    }
}

/* Member-wise check of a table's on-disk compound type against the schema. */
static int check_table_type(hid_t ftype, const char *path, const uniap_h5_table *t)
{
    int rc = UNIAP_OK;

    if (H5Tget_class(ftype) != H5T_COMPOUND)
        return uniap_err(UNIAP_EFORMAT, "%s: %s has type class %s, expected a compound table", path,
                         t->path, class_name(H5Tget_class(ftype)));
    if (H5Tget_size(ftype) > MAX_ROW_BYTES)
        return uniap_err(UNIAP_EFORMAT, "%s: %s has rows of %zu bytes, at most %d expected", path,
                         t->path, H5Tget_size(ftype), MAX_ROW_BYTES);
    for (int i = 0; i < t->n_fields && rc == UNIAP_OK; i++) {
        const uniap_h5_field *f = &t->fields[i];
        int idx = H5Tget_member_index(ftype, f->name);
        H5T_class_t cls;
        hid_t mt;

        if (idx < 0 && i >= t->first_optional)
            continue; /* added by a newer minor version: reads as 0 */
        if (idx < 0)
            return uniap_err(UNIAP_EFORMAT, "%s: %s has no member '%s'", path, t->path, f->name);
        cls = H5Tget_member_class(ftype, (unsigned)idx);
        if (cls != kind_class(f->kind))
            return uniap_err(UNIAP_EFORMAT, "%s: %s member '%s' has class %s, expected %s", path,
                             t->path, f->name, class_name(cls), class_name(kind_class(f->kind)));
        H5_CHECK(mt = H5Tget_member_type(ftype, (unsigned)idx), UNIAP_EFORMAT, out,
                 "%s: type of %s member %s", path, t->path, f->name);
        if (f->kind == UNIAP__COL_STRING && H5Tis_variable_str(mt) != 0)
            rc = uniap_err(UNIAP_EFORMAT,
                           "%s: %s member '%s' is a variable-length string, expected fixed", path,
                           t->path, f->name);
        if (f->kind == UNIAP__COL_COLL_OP) {
            int nm = H5Tget_nmembers(mt);
            for (int m = 0; m < nm && rc == UNIAP_OK; m++) {
                char *name = H5Tget_member_name(mt, (unsigned)m);
                int known = 0;
                for (int op = 0; name && op < UNIAP_COLL_COUNT; op++)
                    known |= strcmp(name, uniap_coll_name((uniap_coll_op)op)) == 0;
                if (!known)
                    rc = uniap_err(UNIAP_EFORMAT, "%s: %s member '%s' names an unknown op '%s'",
                                   path, t->path, f->name, name ? name : "?");
                H5free_memory(name);
            }
        }
        H5Tclose(mt);
    }
out:
    return rc;
}

/* Opens, checks and reads table id into a calloc'd array *rows (NULL when
 * empty) of *n rows. */
static int read_table(hid_t file, const char *path, const uniap_h5_table *t, void **rows, int *n)
{
    hid_t dset, ftype, space, dcpl, mtype;
    hsize_t dims[1];
    unsigned flags;
    size_t nelmts = 0;
    unsigned cd[1];
    char *attr;
    htri_t exists;
    int rc = UNIAP_OK;

    *rows = NULL;
    *n = 0;
    H5_CHECK(exists = H5Lexists(file, t->path, H5P_DEFAULT), UNIAP_EFORMAT, fail,
             "%s: cannot look up the table %s", path, t->path);
    if (!exists && t->since_minor > 0)
        return UNIAP_OK; /* a newer minor version's table: no rows */
    if (!exists)
        return uniap_err(UNIAP_EFORMAT, "%s: the table %s is missing", path, t->path);
    H5_CHECK(dset = H5Dopen2(file, t->path, H5P_DEFAULT), UNIAP_EFORMAT, fail,
             "%s: %s is not a readable dataset", path, t->path);
    H5_CHECK(ftype = H5Dget_type(dset), UNIAP_EFORMAT, close_dset, "%s: type of %s", path, t->path);
    if ((rc = check_table_type(ftype, path, t)) < 0)
        goto close_ftype;
    H5_CHECK(space = H5Dget_space(dset), UNIAP_EFORMAT, close_ftype, "%s: dataspace of %s", path,
             t->path);
    if (H5Sget_simple_extent_ndims(space) != 1) {
        rc = uniap_err(UNIAP_EFORMAT, "%s: %s has %d dimensions, expected 1", path, t->path,
                       H5Sget_simple_extent_ndims(space));
        goto close_space;
    }
    H5_CHECK(H5Sget_simple_extent_dims(space, dims, NULL), UNIAP_EFORMAT, close_space,
             "%s: extent of %s", path, t->path);
    H5_CHECK(dcpl = H5Dget_create_plist(dset), UNIAP_EFORMAT, close_space,
             "%s: creation properties of %s", path, t->path);
    if (H5Pget_filter_by_id2(dcpl, H5Z_FILTER_FLETCHER32, &flags, &nelmts, cd, 0, NULL, NULL) < 0) {
        rc = uniap_err(UNIAP_EFORMAT, "%s: %s carries no Fletcher32 checksum", path, t->path);
        goto close_dcpl;
    }
    for (int a = 0; a < 2; a++) {
        const char *name = a ? "description" : "units";
        if ((rc = read_str_attr(dset, path, t->path, name, &attr)) < 0)
            goto close_dcpl;
        free(attr);
    }
    if (dims[0] > MAX_ROWS || dims[0] * t->row_size > MAX_TABLE_BYTES ||
        dims[0] * H5Tget_size(ftype) > H5Dget_storage_size(dset) * MAX_EXPANSION) {
        rc = uniap_err(UNIAP_EFORMAT,
                       "%s: %s claims %llu rows but stores %llu bytes: corrupt or unwritten", path,
                       t->path, (unsigned long long)dims[0],
                       (unsigned long long)H5Dget_storage_size(dset));
        goto close_dcpl;
    }
    if (dims[0] == 0)
        goto close_dcpl;
    if (!(*rows = calloc(dims[0], t->row_size))) {
        rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory for %llu rows of %s", path,
                       (unsigned long long)dims[0], t->path);
        goto close_dcpl;
    }
    H5_CHECK(mtype = uniap_h5_mem_type_of(t, ftype), UNIAP_ELIB, free_rows, "%s: type of %s", path,
             t->path);
    rc = H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, *rows) < 0
             ? uniap_h5_fail(__FILE__, __LINE__, UNIAP_EFORMAT, "%s: cannot read %s", path, t->path)
             : UNIAP_OK;
    H5Tclose(mtype);
    if (rc < 0)
        goto free_rows;
    /* Strings end inside their field whatever the file held. */
    for (hsize_t r = 0; r < dims[0]; r++)
        for (int i = 0; i < t->n_fields; i++)
            if (t->fields[i].kind == UNIAP__COL_STRING)
                ((char *)*rows)[r * t->row_size + t->fields[i].offset + t->fields[i].str_size - 1] =
                    '\0';
    *n = (int)dims[0];
    goto close_dcpl;

free_rows:
    free(*rows);
    *rows = NULL;
close_dcpl:
    H5Pclose(dcpl);
close_space:
    H5Sclose(space);
close_ftype:
    H5Tclose(ftype);
close_dset:
    H5Dclose(dset);
fail:
    return rc;
}

int uniap_profile_read(const char *path, uniap_profile *out)
{
    uniap_h5_quiet_state quiet;
    struct stat st;
    hid_t fapl, file;
    htri_t is_h5;
    int rc = UNIAP_OK;

    assert(path && out);
    memset(out, 0, sizeof(*out));
    if (stat(path, &st) != 0)
        return uniap_err(UNIAP_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return uniap_err(UNIAP_EIO, "%s: not a regular file", path);
    uniap_h5_quiet(&quiet);
    is_h5 = H5Fis_hdf5(path);
    if (is_h5 <= 0) {
        rc = uniap_err(UNIAP_EFORMAT, "%s: not a uniap profile (not an HDF5 file)", path);
        goto restore;
    }
    H5_CHECK(fapl = H5Pcreate(H5P_FILE_ACCESS), UNIAP_ELIB, restore, "%s: fapl", path);
    /* Closing the file closes every object left open on an error path. */
    H5_CHECK(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), UNIAP_ELIB, close_fapl, "%s: fapl",
             path);
    H5_CHECK(file = H5Fopen(path, H5F_ACC_RDONLY, fapl), UNIAP_EFORMAT, close_fapl,
             "%s: cannot open as HDF5 (truncated or corrupt?)", path);
    if ((rc = read_format(file, path, out)) < 0 || (rc = read_root_attrs(file, path, out)) < 0 ||
        (rc = read_table(file, path, &uniap_h5_tables[UNIAP_H5_RANKS], (void **)&out->ranks,
                         &out->n_ranks)) < 0 ||
        (rc = read_table(file, path, &uniap_h5_tables[UNIAP_H5_LAYERS], (void **)&out->layers,
                         &out->n_layers)) < 0 ||
        (rc = read_table(file, path, &uniap_h5_tables[UNIAP_H5_COLLS], (void **)&out->colls,
                         &out->n_colls)) < 0 ||
        (rc = read_table(file, path, &uniap_h5_tables[UNIAP_H5_GEMM], (void **)&out->gemm,
                         &out->n_gemm)) < 0 ||
        (rc = uniap_h5_check_values(path, out)) < 0)
        goto close_file;

close_file:
    H5Fclose(file);
close_fapl:
    H5Pclose(fapl);
restore:
    uniap_h5_restore(&quiet);
    if (rc < 0)
        uniap_profile_free(out);
    return rc;
}

int uniap_profile_validate(const char *path)
{
    uniap_profile p;
    int rc = uniap_profile_read(path, &p);
    uniap_profile_free(&p);
    return rc;
}

int uniap_h5_read_inputs(const char *path, uniap_h5_input **inputs, int *n)
{
    uniap_h5_quiet_state quiet;
    hid_t fapl, file;
    int rc = UNIAP_OK;

    *inputs = NULL;
    *n = 0;
    uniap_h5_quiet(&quiet);
    H5_CHECK(fapl = H5Pcreate(H5P_FILE_ACCESS), UNIAP_ELIB, restore, "%s: fapl", path);
    H5_CHECK(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), UNIAP_ELIB, close_fapl, "%s: fapl",
             path);
    H5_CHECK(file = H5Fopen(path, H5F_ACC_RDONLY, fapl), UNIAP_EFORMAT, close_fapl,
             "%s: cannot open as HDF5", path);
    htri_t has = H5Lexists(file, uniap_h5_inputs_table.path, H5P_DEFAULT);
    if (has < 0)
        rc = uniap_h5_fail(__FILE__, __LINE__, UNIAP_EFORMAT, "%s: cannot look up /inputs", path);
    else if (has > 0)
        rc = read_table(file, path, &uniap_h5_inputs_table, (void **)inputs, n);
    H5Fclose(file);
close_fapl:
    H5Pclose(fapl);
restore:
    uniap_h5_restore(&quiet);
    return rc;
}
