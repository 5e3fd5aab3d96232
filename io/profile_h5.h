/*
 * profile_h5.h - private to io: the schema of the HDF5 profile dataset
 * (format "uniap-profile" 1.x), shared by its writer and reader. The three
 * tables and the root attributes are described once, as field tables, and
 * both the HDF5 compound types and the reader's checks are built from them.
 */
#ifndef UNIAP_PROFILE_H5_H
#define UNIAP_PROFILE_H5_H

#include <stddef.h>

#include <hdf5.h>

#include "uniap_io_mpi.h"

typedef enum {
    UNIAP__COL_INT = 0, /* int32 */
    UNIAP__COL_I64,     /* int64 */
    UNIAP__COL_DOUBLE,  /* IEEE binary64 */
    UNIAP__COL_STRING,  /* fixed-length, NUL-terminated, str_size bytes */
    UNIAP__COL_COLL_OP, /* enum with the names of uniap_coll_name() */
} uniap_h5_kind;

/* One member of a table's compound type. */
typedef struct uniap_h5_field {
    const char *name;
    uniap_h5_kind kind;
    size_t offset;    /* in the C row struct */
    size_t str_size;  /* UNIAP__COL_STRING: bytes, including the NUL */
    const char *unit; /* NULL when unitless */
} uniap_h5_field;

typedef enum {
    UNIAP_H5_RANKS = 0,
    UNIAP_H5_LAYERS,
    UNIAP_H5_COLLS,
    UNIAP_H5_GEMM, /* 1.2, optional */
    UNIAP_H5_NTABLES
} uniap_h5_table_id;

/* One table: a 1-D dataset of compound rows at the root. */
typedef struct uniap_h5_table {
    const char *path; /* "/ranks", "/layers", "/collectives" */
    const char *description;
    size_t row_size; /* sizeof the C row struct */
    int n_fields;
    const uniap_h5_field *fields;
    int since_minor;    /* 0: in every 1.x file; N > 0: added in 1.N, optional: absent =
                           no rows, and written only when it has rows */
    int first_optional; /* fields [first_optional, n_fields) were added by a minor version
                           and may be absent (read as 0); n_fields when none */
} uniap_h5_table;

extern const uniap_h5_table uniap_h5_tables[UNIAP_H5_NTABLES];

/* A row of the optional /inputs table: the public uniap_profile_input
 * (uniap_io.h), under the name the schema and the readers use. */
typedef uniap_profile_input uniap_h5_input;

extern const uniap_h5_table uniap_h5_inputs_table;

/* The serial writer, with the optional /inputs table (inputs NULL: none). */
int uniap_h5_write_serial(const char *path, const uniap_profile *p, const uniap_h5_input *inputs,
                          int n_inputs);
/* Reads /inputs of a valid profile into a malloc'd array (*n = 0 and
 * *inputs = NULL when the file has none). */
int uniap_h5_read_inputs(const char *path, uniap_h5_input **inputs, int *n);

/* Compound types of a table: the in-memory (native, struct layout) type and
 * the on-disk (packed, little-endian) type. Caller closes the result;
 * negative on failure (message recorded). */
hid_t uniap_h5_mem_type(const uniap_h5_table *t);
hid_t uniap_h5_file_type(const uniap_h5_table *t);
/* The in-memory type of only those members of t that the on-disk type
 * ftype has (optional members of a newer minor version may be absent). */
hid_t uniap_h5_mem_type_of(const uniap_h5_table *t, hid_t ftype);
/* The table's `units` attribute text, "fwd_median=s;...;busbw=B/s". */
void uniap_h5_units(const uniap_h5_table *t, char *buf, size_t n);

/* Root attributes other than `format`, in the order they are written. */
typedef enum {
    H5A_KIND_INT = 0,
    H5A_KIND_DOUBLE,
    H5A_KIND_STR_FIXED,
    H5A_KIND_STR_DYN
} uniap_h5_attr_kind;
typedef struct uniap_h5_root_attr {
    const char *name;
    uniap_h5_attr_kind kind;
    size_t offset; /* in uniap_profile: int, double, char[size] or char * */
    size_t size;   /* H5A_KIND_STR_FIXED: the array's size */
    int optional;  /* since a minor version: absent = zero (NULL); an optional
                      H5A_KIND_STR_DYN is not written when NULL */
} uniap_h5_root_attr;

extern const uniap_h5_root_attr uniap_h5_root_attrs[];
extern const int uniap_h5_n_root_attrs;

/* The `uniap archive` back ends (profile_csv.c, profile_merge.c) are
 * public: uniap_profile_export_csv, uniap_profile_merge, ... in uniap_io.h. */

/* Names of the root format attributes. */
#define UNIAP_H5_ATTR_FORMAT "format"
#define UNIAP_H5_ATTR_MAJOR  "format_version_major"
#define UNIAP_H5_ATTR_MINOR  "format_version_minor"

#endif /* UNIAP_PROFILE_H5_H */
