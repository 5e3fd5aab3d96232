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

#include "uniap_io.h"

typedef enum {
    H5F_KIND_INT = 0, /* int32 */
    H5F_KIND_I64,     /* int64 */
    H5F_KIND_DOUBLE,  /* IEEE binary64 */
    H5F_KIND_STRING,  /* fixed-length, NUL-terminated, str_size bytes */
    H5F_KIND_COLL_OP, /* enum with the names of uniap_coll_name() */
} uniap_h5_kind;

/* One member of a table's compound type. */
typedef struct uniap_h5_field {
    const char *name;
    uniap_h5_kind kind;
    size_t offset;    /* in the C row struct */
    size_t str_size;  /* H5F_KIND_STRING: bytes, including the NUL */
    const char *unit; /* NULL when unitless */
} uniap_h5_field;

typedef enum {
    UNIAP_H5_RANKS = 0,
    UNIAP_H5_LAYERS,
    UNIAP_H5_COLLS,
    UNIAP_H5_NTABLES
} uniap_h5_table_id;

/* One table: a 1-D dataset of compound rows at the root. */
typedef struct uniap_h5_table {
    const char *path; /* "/ranks", "/layers", "/collectives" */
    const char *description;
    size_t row_size; /* sizeof the C row struct */
    int n_fields;
    const uniap_h5_field *fields;
} uniap_h5_table;

extern const uniap_h5_table uniap_h5_tables[UNIAP_H5_NTABLES];

/* A row of the optional /inputs table, present only in files made by
 * `uniap archive merge`: where each input's rows landed in the merged
 * tables ([*_first, *_first + n_*)), and that input's provenance. */
typedef struct uniap_h5_input {
    int index;
    char file[256];
    char created[32];
    char tool_version[32];
    char git_revision[48];
    char slurm_job_id[32];
    char provenance[32];
    char model[64];
    char device[64];
    int world_size;
    int complete;
    int ranks_first, n_ranks;
    int layers_first, n_layers;
    int colls_first, n_colls;
} uniap_h5_input;

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
} uniap_h5_root_attr;

extern const uniap_h5_root_attr uniap_h5_root_attrs[];
extern const int uniap_h5_n_root_attrs;

/* `uniap archive` back ends (profile_csv.c, profile_merge.c). */
/* Writes DIR/root.csv, ranks.csv, layers.csv, collectives.csv (and
 * inputs.csv for merged files) from the profile at path; DIR is created
 * when missing. Each file is written atomically. */
int uniap_profile_export_csv(const char *path, const char *dir);
/* Merges the profiles ins[0..n) into out: tables concatenated in input
 * order, an /inputs row per input (inputs that are merges themselves
 * contribute their own /inputs rows). Refuses inputs whose device names
 * differ unless force. command_line is stored as the root attribute. */
int uniap_profile_merge(const char *out, char *const *ins, int n, int force,
                        const char *command_line);
/* "NVIDIA H100 80GB HBM3" or "A+B" (distinct device names of /ranks,
 * sorted, joined by '+'), "" when the profile has no rank rows. */
void uniap_profile_devices(const uniap_profile *p, char *buf, size_t n);
/* The "name" of a stored model spec, or "" when absent or unnamed. */
void uniap_profile_model_name(const uniap_profile *p, char *buf, size_t n);

/* Names of the root format attributes. */
#define UNIAP_H5_ATTR_FORMAT "format"
#define UNIAP_H5_ATTR_MAJOR  "format_version_major"
#define UNIAP_H5_ATTR_MINOR  "format_version_minor"

#endif /* UNIAP_PROFILE_H5_H */
