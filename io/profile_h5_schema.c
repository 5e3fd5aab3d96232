/*
 * profile_h5_schema.c - the schema of the HDF5 profile dataset, format
 * "uniap-profile" 1.x, as field tables (see profile_h5.h), the compound
 * types built from them, and the HDF5 error helpers of h5_check.h.
 *
 * On-disk layout, version 1.0:
 *   /             root attributes: format, format_version_major/minor,
 *                 created, tool_version, git_revision, command_line,
 *                 world_size, slurm_job_id, provenance, complete,
 *                 overlap_coefficient, model_spec, cluster_spec
 *   /ranks        one row per MPI rank (host, node, device, backend, ...)
 *   /layers       one row per (layer signature, tp, micro_batch, rank)
 *   /collectives  one row per (op, group_size, placement, src, dst, bytes)
 *   /inputs       optional, only in merged files: one row per input file
 *                 (its provenance and where its rows are in the tables)
 *   /gemm         since 1.2, optional: one row per (rank, dtype, m, n, k)
 *                 of the profiler's GEMM sweep (seconds, achieved FLOP/s)
 * Each table is a 1-D chunked, extendible dataset of a packed little-endian
 * compound type with fixed-length strings, Fletcher32-checksummed, with
 * `units` and `description` attributes. Minor versions may add members
 * (readers match members by name and ignore unknown ones), attributes and
 * tables; what 1.N adds (since_minor, first_optional) is optional to the
 * reader (an absent member reads as 0, an absent table as no rows); a
 * major version change means readers must refuse the file.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "h5_check.h"
#include "profile_h5.h"

#define STR(type, member)       UNIAP__COL_STRING, offsetof(type, member), sizeof(((type *)0)->member)
#define NUM(kind, type, member) kind, offsetof(type, member), 0

static const uniap_h5_field rank_fields[] = {
    {"rank", NUM(UNIAP__COL_INT, uniap_rank_info, rank), NULL},
    {"host", STR(uniap_rank_info, host), NULL},
    {"node", NUM(UNIAP__COL_INT, uniap_rank_info, node), NULL},
    {"local_rank", NUM(UNIAP__COL_INT, uniap_rank_info, local_rank), NULL},
    {"device", STR(uniap_rank_info, device), NULL},
    {"device_memory", NUM(UNIAP__COL_I64, uniap_rank_info, device_memory), "B"},
    {"backend", STR(uniap_rank_info, backend), NULL},
    {"lib_versions", STR(uniap_rank_info, lib_versions), NULL},
};

static const uniap_h5_field layer_fields[] = {
    {"layer_type", STR(uniap_layer_prof, layer_type), NULL},
    {"tp", NUM(UNIAP__COL_INT, uniap_layer_prof, tp), NULL},
    {"micro_batch", NUM(UNIAP__COL_INT, uniap_layer_prof, micro_batch), "samples"},
    {"rank", NUM(UNIAP__COL_INT, uniap_layer_prof, rank), NULL},
    {"fwd_median", NUM(UNIAP__COL_DOUBLE, uniap_layer_prof, fwd.median), "s"},
    {"fwd_min", NUM(UNIAP__COL_DOUBLE, uniap_layer_prof, fwd.min), "s"},
    {"fwd_max", NUM(UNIAP__COL_DOUBLE, uniap_layer_prof, fwd.max), "s"},
    {"fwd_count", NUM(UNIAP__COL_INT, uniap_layer_prof, fwd.count), NULL},
    {"bwd_median", NUM(UNIAP__COL_DOUBLE, uniap_layer_prof, bwd.median), "s"},
    {"bwd_min", NUM(UNIAP__COL_DOUBLE, uniap_layer_prof, bwd.min), "s"},
    {"bwd_max", NUM(UNIAP__COL_DOUBLE, uniap_layer_prof, bwd.max), "s"},
    {"bwd_count", NUM(UNIAP__COL_INT, uniap_layer_prof, bwd.count), NULL},
    {"act_bytes", NUM(UNIAP__COL_I64, uniap_layer_prof, act_bytes), "B"},
    {"peak_bytes", NUM(UNIAP__COL_I64, uniap_layer_prof, peak_bytes), "B"},
    {"param_bytes", NUM(UNIAP__COL_I64, uniap_layer_prof, param_bytes), "B"},
    /* 1.3 (optional): the weight-gradient part of the backward */
    {"wgrad_median", NUM(UNIAP__COL_DOUBLE, uniap_layer_prof, wgrad.median), "s"},
    {"wgrad_min", NUM(UNIAP__COL_DOUBLE, uniap_layer_prof, wgrad.min), "s"},
    {"wgrad_max", NUM(UNIAP__COL_DOUBLE, uniap_layer_prof, wgrad.max), "s"},
    {"wgrad_count", NUM(UNIAP__COL_INT, uniap_layer_prof, wgrad.count), NULL},
};

#define LAYER_FIELDS_1_2 (NFIELDS(layer_fields) - 4) /* the members of every 1.x file */

static const uniap_h5_field coll_fields[] = {
    {"op", NUM(UNIAP__COL_COLL_OP, uniap_coll_prof, op), NULL},
    {"group_size", NUM(UNIAP__COL_INT, uniap_coll_prof, group_size), "ranks"},
    {"spans_nodes", NUM(UNIAP__COL_INT, uniap_coll_prof, spans_nodes), NULL},
    {"src", NUM(UNIAP__COL_INT, uniap_coll_prof, src), NULL},
    {"dst", NUM(UNIAP__COL_INT, uniap_coll_prof, dst), NULL},
    {"bytes", NUM(UNIAP__COL_I64, uniap_coll_prof, bytes), "B"},
    {"time_median", NUM(UNIAP__COL_DOUBLE, uniap_coll_prof, time.median), "s"},
    {"time_min", NUM(UNIAP__COL_DOUBLE, uniap_coll_prof, time.min), "s"},
    {"time_max", NUM(UNIAP__COL_DOUBLE, uniap_coll_prof, time.max), "s"},
    {"time_count", NUM(UNIAP__COL_INT, uniap_coll_prof, time.count), NULL},
    {"algbw", NUM(UNIAP__COL_DOUBLE, uniap_coll_prof, algbw), "B/s"},
    {"busbw", NUM(UNIAP__COL_DOUBLE, uniap_coll_prof, busbw), "B/s"},
};

static const uniap_h5_field gemm_fields[] = {
    {"rank", NUM(UNIAP__COL_INT, uniap_gemm_prof, rank), NULL},
    {"dtype", STR(uniap_gemm_prof, dtype), NULL},
    {"m", NUM(UNIAP__COL_I64, uniap_gemm_prof, m), NULL},
    {"n", NUM(UNIAP__COL_I64, uniap_gemm_prof, n), NULL},
    {"k", NUM(UNIAP__COL_I64, uniap_gemm_prof, k), NULL},
    {"time_median", NUM(UNIAP__COL_DOUBLE, uniap_gemm_prof, time.median), "s"},
    {"time_min", NUM(UNIAP__COL_DOUBLE, uniap_gemm_prof, time.min), "s"},
    {"time_max", NUM(UNIAP__COL_DOUBLE, uniap_gemm_prof, time.max), "s"},
    {"time_count", NUM(UNIAP__COL_INT, uniap_gemm_prof, time.count), NULL},
    {"flops", NUM(UNIAP__COL_DOUBLE, uniap_gemm_prof, flops), "FLOP/s"},
};

#define NFIELDS(a) ((int)(sizeof(a) / sizeof((a)[0])))

const uniap_h5_table uniap_h5_tables[UNIAP_H5_NTABLES] = {
    [UNIAP_H5_RANKS] = {"/ranks",
                        "One row per MPI rank of the profiling run: host name, node index, "
                        "local rank, device name and memory, backend (cpu or cuda), library "
                        "versions.",
                        sizeof(uniap_rank_info), NFIELDS(rank_fields), rank_fields, 0,
                        NFIELDS(rank_fields)},
    [UNIAP_H5_LAYERS] = {"/layers",
                         "Layer kernel timings: one row per layer signature (the unsharded "
                         "layer's shape), tensor-parallel degree tp and micro-batch size on one "
                         "rank (rank -1: median over ranks). Forward and backward seconds as "
                         "median/min/max over count repetitions; activation bytes kept for "
                         "backward, transient peak bytes and parameter bytes of the shard; "
                         "(1.3, optional) the weight-gradient GEMMs' seconds inside the "
                         "backward, count 0 where not measured.",
                         sizeof(uniap_layer_prof), NFIELDS(layer_fields), layer_fields, 0,
                         LAYER_FIELDS_1_2},
    [UNIAP_H5_COLLS] = {"/collectives",
                        "Communication timings: one row per collective op, group size, "
                        "placement (spans_nodes 0: one node, 1: across nodes), p2p src/dst world "
                        "ranks (-1 otherwise) and message size in nccl-tests convention; seconds "
                        "of the slowest rank as median/min/max over count iterations; algbw = "
                        "bytes / time_median, busbw = algbw * nccl-tests bus factor.",
                        sizeof(uniap_coll_prof), NFIELDS(coll_fields), coll_fields, 0,
                        NFIELDS(coll_fields)},
    [UNIAP_H5_GEMM] = {"/gemm",
                       "GEMM sweep (format 1.2, optional): one row per rank, dtype and shape of "
                       "a row-major C[m x n] = A[m x k] B[k x n] (no transposes, inputs and "
                       "output in dtype, fp32 accumulation); seconds per GEMM as "
                       "median/min/max over count timed passes; flops = 2 m n k / time_median.",
                       sizeof(uniap_gemm_prof), NFIELDS(gemm_fields), gemm_fields, 2,
                       NFIELDS(gemm_fields)},
};

static const uniap_h5_field input_fields[] = {
    {"index", NUM(UNIAP__COL_INT, uniap_h5_input, index), NULL},
    {"file", STR(uniap_h5_input, file), NULL},
    {"created", STR(uniap_h5_input, created), NULL},
    {"tool_version", STR(uniap_h5_input, tool_version), NULL},
    {"git_revision", STR(uniap_h5_input, git_revision), NULL},
    {"slurm_job_id", STR(uniap_h5_input, slurm_job_id), NULL},
    {"provenance", STR(uniap_h5_input, provenance), NULL},
    {"model", STR(uniap_h5_input, model), NULL},
    {"device", STR(uniap_h5_input, device), NULL},
    {"world_size", NUM(UNIAP__COL_INT, uniap_h5_input, world_size), "ranks"},
    {"complete", NUM(UNIAP__COL_INT, uniap_h5_input, complete), NULL},
    {"ranks_first", NUM(UNIAP__COL_INT, uniap_h5_input, ranks_first), "row"},
    {"n_ranks", NUM(UNIAP__COL_INT, uniap_h5_input, n_ranks), "rows"},
    {"layers_first", NUM(UNIAP__COL_INT, uniap_h5_input, layers_first), "row"},
    {"n_layers", NUM(UNIAP__COL_INT, uniap_h5_input, n_layers), "rows"},
    {"colls_first", NUM(UNIAP__COL_INT, uniap_h5_input, colls_first), "row"},
    {"n_colls", NUM(UNIAP__COL_INT, uniap_h5_input, n_colls), "rows"},
    /* 1.2 (optional): where the input's /gemm rows are */
    {"gemm_first", NUM(UNIAP__COL_INT, uniap_h5_input, gemm_first), "row"},
    {"n_gemm", NUM(UNIAP__COL_INT, uniap_h5_input, n_gemm), "rows"},
};

#define INPUT_FIELDS_1_0 (NFIELDS(input_fields) - 2) /* the members of every 1.x merge */

const uniap_h5_table uniap_h5_inputs_table = {
    .path = "/inputs",
    .description =
        "Provenance of a merged dataset (uniap archive merge): one row per input file with its "
        "root attributes, and the rows [*_first, *_first + n_*) its /ranks, /layers, "
        "/collectives and (1.2) /gemm rows occupy in this file.",
    .row_size = sizeof(uniap_h5_input),
    .n_fields = NFIELDS(input_fields),
    .fields = input_fields,
    .first_optional = INPUT_FIELDS_1_0};

const uniap_h5_root_attr uniap_h5_root_attrs[] = {
    {"created", H5A_KIND_STR_FIXED, offsetof(uniap_profile, created),
     sizeof(((uniap_profile *)0)->created), 0},
    {"tool_version", H5A_KIND_STR_FIXED, offsetof(uniap_profile, tool_version),
     sizeof(((uniap_profile *)0)->tool_version), 0},
    {"git_revision", H5A_KIND_STR_FIXED, offsetof(uniap_profile, git_revision),
     sizeof(((uniap_profile *)0)->git_revision), 0},
    {"command_line", H5A_KIND_STR_DYN, offsetof(uniap_profile, command_line), 0, 0},
    {"world_size", H5A_KIND_INT, offsetof(uniap_profile, world_size), 0, 0},
    {"slurm_job_id", H5A_KIND_STR_FIXED, offsetof(uniap_profile, slurm_job_id),
     sizeof(((uniap_profile *)0)->slurm_job_id), 0},
    {"provenance", H5A_KIND_STR_FIXED, offsetof(uniap_profile, provenance),
     sizeof(((uniap_profile *)0)->provenance), 0},
    {"complete", H5A_KIND_INT, offsetof(uniap_profile, complete), 0, 0},
    {"overlap_coefficient", H5A_KIND_DOUBLE, offsetof(uniap_profile, overlap_coeff), 0, 0},
    {"model_spec", H5A_KIND_STR_DYN, offsetof(uniap_profile, model_json), 0, 0},
    {"cluster_spec", H5A_KIND_STR_DYN, offsetof(uniap_profile, cluster_json), 0, 0},
    {"notes", H5A_KIND_STR_DYN, offsetof(uniap_profile, notes), 0, 1}, /* 1.1 */
    {"layer_times_include_tp_comm", H5A_KIND_INT, offsetof(uniap_profile, tp_comm_in_layers), 0,
     1}, /* 1.2 */
};
const int uniap_h5_n_root_attrs = NFIELDS(uniap_h5_root_attrs);

/* The enum of collective ops over base (native int in memory, int32 LE on
 * disk), one name per uniap_coll_op as uniap_coll_name() spells it. */
static hid_t coll_op_type(hid_t base)
{
    hid_t t = H5Tenum_create(base);
    if (t < 0)
        return t;
    for (int op = 0; op < UNIAP_COLL_COUNT; op++) {
        if (H5Tenum_insert(t, uniap_coll_name((uniap_coll_op)op), &op) < 0) {
            H5Tclose(t);
            return -1;
        }
    }
    return t;
}

/* Builds the compound type; file = 1 packs members in field order with
 * little-endian types, file = 0 follows the C struct. only (>= 0, memory
 * types only): leaves out the members that on-disk type lacks. */
static hid_t table_type(const uniap_h5_table *t, int file, hid_t only)
{
    size_t size = 0, off;
    hid_t ct = -1, mt = -1;
    int rc = UNIAP_OK;

    _Static_assert(sizeof(uniap_coll_op) == sizeof(int), "uniap_coll_op is stored as an int");
    for (int i = 0; i < t->n_fields; i++) {
        const uniap_h5_field *f = &t->fields[i];
        size += f->kind == UNIAP__COL_STRING                                  ? f->str_size
                : (f->kind == UNIAP__COL_I64 || f->kind == UNIAP__COL_DOUBLE) ? 8
                                                                              : 4;
    }
    H5_CHECK(ct = H5Tcreate(H5T_COMPOUND, file ? size : t->row_size), UNIAP_ELIB, fail,
             "%s: cannot create the compound type", t->path);
    off = 0;
    for (int i = 0; i < t->n_fields; i++) {
        const uniap_h5_field *f = &t->fields[i];
        if (only >= 0 && H5Tget_member_index(only, f->name) < 0)
            continue;
        switch (f->kind) {
        case UNIAP__COL_INT:
            mt = H5Tcopy(file ? H5T_STD_I32LE : H5T_NATIVE_INT);
            break;
        case UNIAP__COL_I64:
            mt = H5Tcopy(file ? H5T_STD_I64LE : H5T_NATIVE_INT64);
            break;
        case UNIAP__COL_DOUBLE:
            mt = H5Tcopy(file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE);
            break;
        case UNIAP__COL_COLL_OP:
            mt = coll_op_type(file ? H5T_STD_I32LE : H5T_NATIVE_INT);
            break;
        case UNIAP__COL_STRING:
            mt = H5Tcopy(H5T_C_S1);
            if (mt >= 0 &&
                (H5Tset_size(mt, f->str_size) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0)) {
                H5Tclose(mt);
                mt = -1;
            }
            break;
        }
        H5_CHECK(mt, UNIAP_ELIB, close_ct, "%s: cannot create the type of member %s", t->path,
                 f->name);
        H5_CHECK(H5Tinsert(ct, f->name, file ? off : f->offset, mt), UNIAP_ELIB, close_mt,
                 "%s: cannot insert member %s", t->path, f->name);
        off += H5Tget_size(mt);
        H5Tclose(mt);
    }
    assert(!file || off == size);
    return ct;

close_mt:
    H5Tclose(mt);
close_ct:
    H5Tclose(ct);
fail:
    return rc;
}

hid_t uniap_h5_mem_type(const uniap_h5_table *t)
{
    return table_type(t, 0, -1);
}

hid_t uniap_h5_mem_type_of(const uniap_h5_table *t, hid_t ftype)
{
    return table_type(t, 0, ftype);
}

hid_t uniap_h5_file_type(const uniap_h5_table *t)
{
    return table_type(t, 1, -1);
}

void uniap_h5_units(const uniap_h5_table *t, char *buf, size_t n)
{
    size_t used = 0;

    assert(n > 0);
    buf[0] = '\0';
    for (int i = 0; i < t->n_fields; i++) {
        if (!t->fields[i].unit)
            continue;
        int w = snprintf(buf + used, n - used, "%s%s=%s", used ? ";" : "", t->fields[i].name,
                         t->fields[i].unit);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
}

/* ---- error stack -------------------------------------------------------- */

struct stack_scan {
    char innermost[256];
    int checksum;
};

static herr_t scan_entry(unsigned n, const H5E_error2_t *e, void *data)
{
    struct stack_scan *s = data;
    if (n == 0 && e->desc)
        snprintf(s->innermost, sizeof(s->innermost), "%s", e->desc);
    if (e->desc && (strstr(e->desc, "Fletcher32") || strstr(e->desc, "checksum")))
        s->checksum = 1;
    return 0;
}

static void scan_stack(struct stack_scan *s)
{
    memset(s, 0, sizeof(*s));
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, scan_entry, s);
}

int uniap_h5_stack_has_checksum(void)
{
    struct stack_scan s;
    scan_stack(&s);
    return s.checksum;
}

int uniap_h5_fail(const char *src, int line, int code, const char *fmt, ...)
{
    char msg[1024];
    struct stack_scan s;
    va_list ap;

    scan_stack(&s);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* The source location is shown only with --debug (uniap_err_at). */
    if (s.checksum)
        return uniap_err_at(src, line, UNIAP_EFORMAT,
                            "%s: checksum mismatch, the data is corrupt (HDF5: %s)", msg,
                            s.innermost);
    return uniap_err_at(src, line, code, "%s (HDF5: %s)", msg,
                        s.innermost[0] ? s.innermost : "no detail");
}

void uniap_h5_quiet(uniap_h5_quiet_state *saved)
{
    H5Eget_auto2(H5E_DEFAULT, &saved->func, &saved->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* HDF5's own default error printer: the handler a new error stack gets. */
static H5E_auto2_t default_printer(void)
{
    H5E_auto2_t func = NULL;
    void *data = NULL;
    hid_t stack = H5Ecreate_stack();

    if (stack < 0)
        return NULL;
    if (H5Eget_auto2(stack, &func, &data) < 0)
        func = NULL;
    H5Eclose_stack(stack);
    return func;
}

void uniap_h5_restore(const uniap_h5_quiet_state *saved)
{
    /* The error stack of a failed call became a uniap message already. */
    H5Eclear2(H5E_DEFAULT);
    /* HDF5's default printer stays off: uniap reports HDF5 errors itself.
     * (HDF5 1.10 leaks free-list blocks when an object header fails its
     * metadata checksum, with every handle closed, and at exit prints
     * "HDF5: infinite loop closing library" if its printer is on.) A
     * handler the program installed itself is restored. */
    if (saved->func && saved->func == default_printer())
        return;
    H5Eset_auto2(H5E_DEFAULT, saved->func, saved->data);
}
