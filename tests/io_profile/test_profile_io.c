/*
 * test_profile_io.c - the profile dataset's writer and reader on good
 * data: bit-for-bit round trips (varied rows, empty tables, a table of
 * many chunks, a stored spec above HDF5's 64 KiB compact attribute limit),
 * the on-disk layout checked with the raw HDF5 API rather than our reader
 * (filters, chunking, units, enum names), the in-memory row appends, and
 * a committed version 1.0 file that must stay readable.
 *
 * usage: test_profile_io MODE DIR_OR_FILE
 *   roundtrip|empty|large|layout|append DIR, golden FILE, write FILE
 */
#include <errno.h>
#include <hdf5.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "profile_ref.h"
#include "uniap_io.h"

static char path_buf[4096];

static const char *in_dir(const char *dir, const char *name)
{
    mkdir(dir, 0755);
    snprintf(path_buf, sizeof(path_buf), "%s/%s", dir, name);
    return path_buf;
}

static void roundtrip(const uniap_profile *ref, const char *path)
{
    uniap_profile back;
    int rc;

    uniap_err_clear();
    rc = uniap_profile_write(path, ref);
    if (rc < 0)
        fprintf(stderr, "write: %s\n", uniap_errmsg());
    CHECK_EQ(rc, 0);
    rc = uniap_profile_read(path, &back);
    if (rc < 0)
        fprintf(stderr, "read: %s\n", uniap_errmsg());
    CHECK_EQ(rc, 0);
    ref_compare(ref, &back);
    CHECK_EQ(uniap_profile_validate(path), 0);
    uniap_profile_free(&back);
}

static void test_roundtrip(const char *dir)
{
    uniap_profile ref;
    ref_profile(&ref, 40, 30);
    /* The reference hits every special double somewhere. */
    int nan_seen = 0, negzero_seen = 0;
    for (int i = 0; i < ref.n_layers; i++) {
        nan_seen |= isnan(ref.layers[i].fwd.max) || isnan(ref.layers[i].bwd.min);
        negzero_seen |= signbit(ref.layers[i].bwd.min) && ref.layers[i].bwd.min == 0.0;
    }
    CHECK(nan_seen && negzero_seen);
    roundtrip(&ref, in_dir(dir, "roundtrip.h5"));
    /* Rewriting over an existing file replaces it. */
    ref.layers[3].fwd.median = 42.0;
    roundtrip(&ref, in_dir(dir, "roundtrip.h5"));
    uniap_profile_free(&ref);
}

static void test_empty(const char *dir)
{
    uniap_profile ref, back;
    uniap_profile_init(&ref);
    /* All three tables empty, every string attribute empty. */
    ref.created[0] = '\0';
    roundtrip(&ref, in_dir(dir, "empty.h5"));
    CHECK_EQ(uniap_profile_read(path_buf, &back), 0);
    CHECK(back.ranks == NULL && back.layers == NULL && back.colls == NULL);
    CHECK(back.command_line == NULL && back.model_json == NULL);
    uniap_profile_free(&back);
    /* One table empty among full ones. */
    ref_profile(&ref, 0, 3);
    roundtrip(&ref, in_dir(dir, "no_layers.h5"));
    uniap_profile_free(&ref);
}

static void test_large(const char *dir)
{
    uniap_profile ref;
    ref_profile(&ref, 5000, 2000);
    /* 100 KiB of stored spec: above the 64 KiB compact attribute limit. */
    free(ref.cluster_json);
    ref.cluster_json = malloc(100 * 1024 + 1);
    ref_fill(ref.cluster_json, 100 * 1024 + 1, 100 * 1024, 3);
    roundtrip(&ref, in_dir(dir, "large.h5"));
    uniap_profile_free(&ref);
}

/* Reads a UTF-8 string attribute with the raw API (the test's own code
 * path, not the reader's). */
static int raw_str_attr(hid_t obj, const char *name, char *buf, size_t n)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t, m;
    if (a < 0)
        return -1;
    t = H5Aget_type(a);
    m = H5Tcopy(H5T_C_S1);
    H5Tset_size(m, n);
    memset(buf, 0, n);
    H5Tset_cset(m, H5T_CSET_UTF8); /* the format's string attributes are UTF-8 */
    int rc = (H5Tget_class(t) == H5T_STRING && H5Tget_cset(t) == H5T_CSET_UTF8)
                 ? (int)H5Aread(a, m, buf)
                 : -1;
    buf[n - 1] = '\0';
    H5Tclose(m);
    H5Tclose(t);
    H5Aclose(a);
    return rc;
}

/* One table's storage as the format promises it. */
static void check_table_layout(hid_t f, const char *name, hsize_t rows, int deflated,
                               const char *unit_needle, const char *member)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    CHECK(d >= 0);
    if (d < 0)
        return;
    hid_t dcpl = H5Dget_create_plist(d), space = H5Dget_space(d), type = H5Dget_type(d);
    hsize_t dims[1], maxdims[1];
    unsigned flags, cd[8];
    size_t ncd = 8;
    char buf[600];

    CHECK_EQ(H5Pget_layout(dcpl), H5D_CHUNKED);
    CHECK(H5Pget_filter_by_id2(dcpl, H5Z_FILTER_FLETCHER32, &flags, &ncd, cd, 0, NULL, NULL) >= 0);
    ncd = 8;
    CHECK_EQ(H5Pget_filter_by_id2(dcpl, H5Z_FILTER_DEFLATE, &flags, &ncd, cd, 0, NULL, NULL) >= 0,
             deflated);
    /* Fletcher32 last in the pipeline: it checks the bytes as stored. */
    int nf = H5Pget_nfilters(dcpl);
    ncd = 8;
    CHECK(nf >= 1 && H5Pget_filter2(dcpl, (unsigned)nf - 1, &flags, &ncd, cd, 0, NULL, NULL) ==
                         H5Z_FILTER_FLETCHER32);
    CHECK_EQ(H5Sget_simple_extent_dims(space, dims, maxdims), 1);
    CHECK_EQ(dims[0], rows);
    CHECK(maxdims[0] == H5S_UNLIMITED);
    CHECK_EQ(H5Tget_class(type), H5T_COMPOUND);
    CHECK(H5Tget_member_index(type, member) >= 0);
    CHECK(raw_str_attr(d, "units", buf, sizeof(buf)) >= 0);
    CHECK_STR_CONTAINS(buf, unit_needle);
    CHECK(raw_str_attr(d, "description", buf, sizeof(buf)) >= 0);
    CHECK(strlen(buf) > 40);
    H5Tclose(type);
    H5Sclose(space);
    H5Pclose(dcpl);
    H5Dclose(d);
}

static void test_layout(const char *dir)
{
    uniap_profile ref;
    const char *path = in_dir(dir, "layout.h5");
    char buf[256];
    int v = -1;

    ref_profile(&ref, 40, 5);
    CHECK_EQ(uniap_profile_write(path, &ref), 0);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(f >= 0);
    CHECK(raw_str_attr(f, "format", buf, sizeof(buf)) >= 0);
    CHECK(strcmp(buf, "uniap-profile") == 0);
    hid_t a = H5Aopen(f, "format_version_major", H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_INT, &v);
    H5Aclose(a);
    CHECK_EQ(v, 1);
    CHECK(raw_str_attr(f, "created", buf, sizeof(buf)) >= 0);
    CHECK(strcmp(buf, "2026-11-22T03:28:52Z") == 0);
    CHECK(raw_str_attr(f, "cluster_spec", buf, sizeof(buf)) >= 0);
    CHECK(strcmp(buf, "") == 0);
    const char *names[] = {"git_revision", "tool_version",        "command_line",
                           "world_size",   "slurm_job_id",        "provenance",
                           "complete",     "overlap_coefficient", "model_spec"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        CHECK(H5Aexists(f, names[i]) > 0);
    check_table_layout(f, "/ranks", 4, 0, "device_memory=B", "lib_versions");
    check_table_layout(f, "/layers", 40, 1, "fwd_median=s", "param_bytes");
    check_table_layout(f, "/collectives", 5, 0, "busbw=B/s", "spans_nodes");
    /* op is an HDF5 enum carrying uniap_coll_name()'s names. */
    hid_t d = H5Dopen2(f, "/collectives", H5P_DEFAULT), t = H5Dget_type(d);
    hid_t op = H5Tget_member_type(t, (unsigned)H5Tget_member_index(t, "op"));
    CHECK_EQ(H5Tget_class(op), H5T_ENUM);
    for (int k = 0; k < UNIAP_COLL_COUNT; k++) {
        int value = -1;
        CHECK(H5Tenum_valueof(op, uniap_coll_name((uniap_coll_op)k), &value) >= 0);
        CHECK_EQ(value, k);
    }
    H5Tclose(op);
    H5Tclose(t);
    H5Dclose(d);
    H5Fclose(f);
    /* uniap_profile_init fills the current provenance. */
    uniap_profile fresh;
    uniap_profile_init(&fresh);
    CHECK_EQ(fresh.version_major, UNIAP_PROFILE_VERSION_MAJOR);
    CHECK_EQ(strlen(fresh.created), 20);
    CHECK(fresh.created[10] == 'T' && fresh.created[19] == 'Z');
    CHECK(fresh.tool_version[0] != '\0' && fresh.git_revision[0] != '\0');
    uniap_profile_free(&fresh);
    uniap_profile_free(&ref);
}

static void test_append(void)
{
    uniap_profile p;
    uniap_profile_init(&p);
    for (int i = 0; i < 1000; i++) {
        uniap_layer_prof row = ref_layer_row(0, i);
        CHECK_EQ(uniap_profile_add_layer(&p, &row), 0);
    }
    CHECK_EQ(p.n_layers, 1000);
    for (int i = 0; i < 1000; i++)
        CHECK(strcmp(p.layers[i].layer_type, ref_layer_row(0, i).layer_type) == 0 &&
              p.layers[i].act_bytes == ref_layer_row(0, i).act_bytes);
    /* A table malloc'd to its exact size by a caller grows safely. */
    p.colls = malloc(3 * sizeof(*p.colls));
    for (int i = 0; i < 3; i++)
        p.colls[i] = ref_coll_row(1, i);
    p.n_colls = 3;
    for (int i = 3; i < 50; i++) {
        uniap_coll_prof row = ref_coll_row(1, i);
        CHECK_EQ(uniap_profile_add_coll(&p, &row), 0);
    }
    CHECK(malloc_usable_size(p.colls) >= 50 * sizeof(*p.colls));
    for (int i = 0; i < 50; i++)
        CHECK_EQ(p.colls[i].bytes, ref_coll_row(1, i).bytes);
    uniap_profile_free(&p);
    CHECK(p.layers == NULL && p.n_layers == 0);
}

static void test_golden(const char *file)
{
    uniap_profile ref, back;
    int rc;
    ref_profile(&ref, 40, 30);
    /* The committed files were written by version 1.0's and 1.3's writers. */
    rc = uniap_profile_read(file, &back);
    if (rc < 0)
        fprintf(stderr, "read: %s\n", uniap_errmsg());
    CHECK_EQ(rc, 0);
    if (rc == 0 && back.version_minor == 3) { /* golden_v1_3.h5: 1.3's writer, wgrad included */
        ref_compare(&ref, &back);
        goto free_profiles;
    }
    CHECK_EQ(back.version_minor, 0);
    CHECK(back.notes == NULL);              /* 1.1's optional attribute: absent in 1.0 */
    ref.version_minor = 0;                  /* the reference is built by a 1.1 writer */
    for (int i = 0; i < back.n_layers; i++) /* 1.3's wgrad members: absent, read as 0 */
        CHECK(back.layers[i].wgrad.count == 0 && back.layers[i].wgrad.median == 0.0);
    for (int i = 0; i < ref.n_layers; i++)
        memset(&ref.layers[i].wgrad, 0, sizeof(ref.layers[i].wgrad));
    ref_compare(&ref, &back);
free_profiles:
    uniap_profile_free(&back);
    uniap_profile_free(&ref);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODE PATH\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1], *arg = argv[2];
    if (strcmp(mode, "write") == 0) {
        uniap_profile ref;
        ref_profile(&ref, 40, 30);
        int rc = uniap_profile_write(arg, &ref);
        if (rc < 0)
            fprintf(stderr, "%s\n", uniap_errmsg());
        uniap_profile_free(&ref);
        return rc < 0 ? 1 : 0;
    }
    if (strcmp(mode, "roundtrip") == 0)
        test_roundtrip(arg);
    else if (strcmp(mode, "empty") == 0)
        test_empty(arg);
    else if (strcmp(mode, "large") == 0)
        test_large(arg);
    else if (strcmp(mode, "layout") == 0)
        test_layout(arg);
    else if (strcmp(mode, "append") == 0)
        test_append();
    else if (strcmp(mode, "golden") == 0)
        test_golden(arg);
    else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    return check_report();
}
