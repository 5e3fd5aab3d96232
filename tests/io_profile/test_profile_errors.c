/*
 * test_profile_errors.c - the profile reader on bad files and the writer on
 * bad input: every failure must be reported with the file and the object
 * named, a uniap status (never a crash), and no partial output file.
 * Corrupt files are made by editing a good one with the raw HDF5 API or by
 * flipping bytes found with H5Dget_chunk_info.
 *
 * usage: test_profile_errors MODE DIR   (modes: see main)
 */
#include <errno.h>
#include <dirent.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "profile_ref.h"
#include "test_modes.h"
#include "uniap_io.h"

static const char *dir_;

static const char *path_in(const char *name)
{
    static char buf[8][4096];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, 4096, "%s/%s", dir_, name);
    return b;
}

/* Writes the reference profile (40 layers, 30 collectives) to name. */
static const char *good_file(const char *name)
{
    uniap_profile ref;
    const char *p = path_in(name);
    ref_profile(&ref, 40, 30);
    CHECK_EQ(uniap_profile_write(p, &ref), 0);
    uniap_profile_free(&ref);
    return p;
}

/* HDF5 identifiers open in this process (files, groups, datasets,
 * attributes, dataspaces, datatypes, property lists). A read that fails
 * must leave this unchanged: a leaked handle keeps HDF5 from closing at
 * exit ("HDF5: infinite loop closing library"). */
static long open_ids(void)
{
    static const H5I_type_t types[] = {H5I_FILE,      H5I_GROUP,    H5I_DATASET,    H5I_ATTR,
                                       H5I_DATASPACE, H5I_DATATYPE, H5I_GENPROP_LST};
    long total = 0;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        hsize_t n = 0;
        if (H5Inmembers(types[i], &n) >= 0)
            total += (long)n;
    }
    return total;
}

/* Reads path expecting failure with code; the message must name the file
 * and contain each needle. Also checks validate agrees and that no HDF5
 * handle is left open. */
static void expect_fail(const char *path, int code, const char *n1, const char *n2)
{
    uniap_profile p;
    long ids = open_ids();
    ssize_t objs = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    int rc;

    uniap_err_clear();
    rc = uniap_profile_read(path, &p);
    CHECK_EQ(open_ids(), ids);
    CHECK_EQ(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL), objs);
    fprintf(stderr, "  read %s -> %d: %s\n", path, rc, uniap_errmsg());
    CHECK_EQ(rc, code);
    CHECK(p.layers == NULL && p.n_layers == 0 && p.command_line == NULL);
    CHECK_STR_CONTAINS(uniap_errmsg(), path);
    if (n1)
        CHECK_STR_CONTAINS(uniap_errmsg(), n1);
    if (n2)
        CHECK_STR_CONTAINS(uniap_errmsg(), n2);
    uniap_err_clear();
    CHECK_EQ(uniap_profile_validate(path), code);
    if (n1)
        CHECK_STR_CONTAINS(uniap_errmsg(), n1);
    uniap_err_clear();
}

static void set_int_attr(const char *path, const char *name, int value)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    CHECK(a >= 0);
    CHECK(H5Awrite(a, H5T_NATIVE_INT, &value) >= 0);
    H5Aclose(a);
    H5Fclose(f);
}

static void flip_byte(const char *path, long long offset)
{
    FILE *f = fopen(path, "r+b");
    int c;
    CHECK(f != NULL);
    if (!f)
        return;
    fseek(f, offset, SEEK_SET);
    c = fgetc(f);
    fseek(f, offset, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
}

/* Flips a byte in the middle of the first stored chunk of each table. */
static void test_checksum(void)
{
    const char *tables[] = {"/ranks", "/layers", "/collectives"};
    for (int t = 0; t < 3; t++) {
        char name[64];
        snprintf(name, sizeof(name), "corrupt%d.h5", t);
        const char *p = good_file(name);
        hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, tables[t], H5P_DEFAULT);
        hsize_t coords[1], nchunks = 0, size = 0;
        haddr_t addr = 0;
        unsigned mask;
        hid_t space = H5Dget_space(d); /* 1.10.8 refuses H5S_ALL here */
        CHECK(H5Dget_num_chunks(d, space, &nchunks) >= 0 && nchunks >= 1);
        CHECK(H5Dget_chunk_info(d, space, 0, coords, &mask, &addr, &size) >= 0);
        H5Sclose(space);
        H5Dclose(d);
        H5Fclose(f);
        CHECK(size > 8 && addr > 0);
        flip_byte(p, (long long)(addr + size / 2));
        expect_fail(p, UNIAP_EFORMAT, "checksum mismatch", tables[t]);
    }
    CHECK_EQ(uniap_exit_code(UNIAP_EFORMAT), 2);
}

static void test_newer_major(void)
{
    const char *p = good_file("major2.h5");
    set_int_attr(p, "format_version_major", 2);
    expect_fail(p, UNIAP_EFORMAT, "version 2.", "1.x");
    set_int_attr(p, "format_version_major", 0);
    expect_fail(p, UNIAP_EFORMAT, "version 0.", NULL);
}

static void test_newer_minor(void)
{
    const char *p = good_file("minor7.h5");
    uniap_profile ref, back;
    set_int_attr(p, "format_version_minor", 7);
    /* A later minor version may add root attributes and table members. */
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT), s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "numa_layout", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT);
    int one = 1;
    H5Awrite(a, H5T_NATIVE_INT, &one);
    H5Aclose(a);
    H5Sclose(s);
    H5Fclose(f);
    uniap_err_clear();
    int rc = uniap_profile_read(p, &back);
    if (rc < 0)
        fprintf(stderr, "%s\n", uniap_errmsg());
    CHECK_EQ(rc, 0);
    CHECK_EQ(back.version_minor, 7);
    ref_profile(&ref, 40, 30);
    back.version_minor = ref.version_minor;
    ref_compare(&ref, &back);
    uniap_profile_free(&ref);
    uniap_profile_free(&back);
}

static void test_missing(void)
{
    const char *p = good_file("missing_table.h5");
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    CHECK(H5Ldelete(f, "/collectives", H5P_DEFAULT) >= 0);
    H5Fclose(f);
    expect_fail(p, UNIAP_EFORMAT, "/collectives", "missing");

    p = good_file("missing_attr.h5");
    f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    CHECK(H5Adelete(f, "world_size") >= 0);
    H5Fclose(f);
    expect_fail(p, UNIAP_EFORMAT, "world_size", "missing");

    p = good_file("missing_units.h5");
    f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "/layers", H5P_DEFAULT);
    CHECK(H5Adelete(d, "units") >= 0);
    H5Dclose(d);
    H5Fclose(f);
    expect_fail(p, UNIAP_EFORMAT, "units", "/layers");
}

/* Replaces dataset name of file path by a 1-row dataset of type t. */
static void replace_dataset(const char *path, const char *name, hid_t t, int fletcher)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hsize_t dims[1] = {1};
    hid_t s = H5Screate_simple(1, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    char zero[1024] = {0};
    H5Pset_chunk(dcpl, 1, dims);
    if (fletcher)
        H5Pset_fletcher32(dcpl);
    CHECK(H5Ldelete(f, name, H5P_DEFAULT) >= 0);
    hid_t d = H5Dcreate2(f, name, t, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d >= 0);
    H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, zero);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(s);
    H5Fclose(f);
}

static void test_wrong_type(void)
{
    /* A root attribute of the wrong class. */
    const char *p = good_file("attr_type.h5");
    hid_t f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT), s = H5Screate(H5S_SCALAR);
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 4);
    H5Adelete(f, "complete");
    hid_t a = H5Acreate2(f, "complete", st, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, st, "yes");
    H5Aclose(a);
    H5Sclose(s);
    H5Fclose(f);
    expect_fail(p, UNIAP_EFORMAT, "complete", "integer");

    /* /layers with fwd_median stored as a string. */
    p = good_file("member_type.h5");
    hid_t ct = H5Tcreate(H5T_COMPOUND, 96 + 12 + 8), s96 = H5Tcopy(H5T_C_S1),
          s8 = H5Tcopy(H5T_C_S1);
    H5Tset_size(s96, 96);
    H5Tset_size(s8, 8);
    H5Tinsert(ct, "layer_type", 0, s96);
    H5Tinsert(ct, "tp", 96, H5T_STD_I32LE);
    H5Tinsert(ct, "micro_batch", 100, H5T_STD_I32LE);
    H5Tinsert(ct, "rank", 104, H5T_STD_I32LE);
    H5Tinsert(ct, "fwd_median", 108, s8);
    replace_dataset(p, "/layers", ct, 1);
    expect_fail(p, UNIAP_EFORMAT, "/layers", "'fwd_median' has class string, expected float");

    /* /ranks as a plain integer array. */
    p = good_file("not_compound.h5");
    replace_dataset(p, "/ranks", H5T_STD_I32LE, 1);
    expect_fail(p, UNIAP_EFORMAT, "/ranks", "expected a compound");

    /* /collectives with an op enum naming an unknown collective. */
    p = good_file("enum_names.h5");
    hid_t e = H5Tenum_create(H5T_STD_I32LE), ct2 = H5Tcreate(H5T_COMPOUND, 4);
    int v = 0;
    H5Tenum_insert(e, "all_reduce", &v);
    v = 9;
    H5Tenum_insert(e, "multicast", &v);
    H5Tinsert(ct2, "op", 0, e);
    replace_dataset(p, "/collectives", ct2, 1);
    expect_fail(p, UNIAP_EFORMAT, "/collectives", "unknown op 'multicast'");

    /* A table without its Fletcher32 filter: schema violation. */
    p = good_file("no_fletcher.h5");
    hid_t rt = H5Tcreate(H5T_COMPOUND, 4);
    H5Tinsert(rt, "rank", 0, H5T_STD_I32LE);
    H5Tclose(rt);
    /* Copy /ranks' own type so only the filter differs. */
    f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "/ranks", H5P_DEFAULT), dtype = H5Dget_type(d);
    hid_t rtype = H5Tcopy(dtype);
    H5Tclose(dtype);
    H5Dclose(d);
    H5Fclose(f);
    replace_dataset(p, "/ranks", rtype, 0);
    expect_fail(p, UNIAP_EFORMAT, "/ranks", "Fletcher32");
    H5Tclose(rtype);
    H5Tclose(ct);
    H5Tclose(ct2);
    H5Tclose(e);
    H5Tclose(s96);
    H5Tclose(s8);
    H5Tclose(st);
}

static void test_foreign(void)
{
    const char *p = path_in("foreign.h5");
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[1] = {3};
    hid_t s = H5Screate_simple(1, dims, NULL);
    hid_t d =
        H5Dcreate2(f, "/temperature", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    double v[3] = {1, 2, 3};
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
    H5Sclose(s);
    H5Fclose(f);
    expect_fail(p, UNIAP_EFORMAT, "not a uniap profile", "format");

    /* Another tool's format name. */
    p = good_file("other_format.h5");
    f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Adelete(f, "format");
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 8);
    s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "format", st, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, st, "netcdf4");
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(st);
    H5Fclose(f);
    expect_fail(p, UNIAP_EFORMAT, "not a uniap profile", "netcdf4");
}

static void test_not_hdf5(void)
{
    const char *p = path_in("text.h5");
    FILE *f = fopen(p, "w");
    fputs("{\"this\": \"is JSON, not HDF5\"}\n", f);
    fclose(f);
    expect_fail(p, UNIAP_EFORMAT, "not an HDF5 file", NULL);
    p = path_in("empty.h5");
    fclose(fopen(p, "w"));
    expect_fail(p, UNIAP_EFORMAT, "not an HDF5 file", NULL);
    expect_fail(path_in("does_not_exist.h5"), UNIAP_EIO, "cannot open", NULL);
    expect_fail(dir_, UNIAP_EIO, "not a regular file", NULL);
}

static void test_truncated(void)
{
    const char *p = good_file("full.h5");
    struct stat st;
    char *data;
    size_t len;
    CHECK_EQ(stat(p, &st), 0);
    CHECK_EQ(uniap_read_file(p, &data, &len), 0);
    const size_t keep[] = {len - 1, len / 2, 2048, 600, 100, 9};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "trunc%zu.h5", keep[i]);
        const char *t = path_in(name);
        FILE *f = fopen(t, "wb");
        fwrite(data, 1, keep[i], f);
        fclose(f);
        uniap_profile back;
        uniap_err_clear();
        int rc = uniap_profile_read(t, &back);
        fprintf(stderr, "  %zu of %zu bytes -> %d: %s\n", keep[i], len, rc, uniap_errmsg());
        CHECK(rc == UNIAP_EFORMAT);
        CHECK_STR_CONTAINS(uniap_errmsg(), t);
    }
    free(data);
}

/* Flips one byte at a time at many offsets: the reader must return OK or a
 * uniap error with a message, never crash (run under ASan in CI). */
static void test_sweep(void)
{
    const char *p = good_file("sweep_src.h5"), *t = path_in("sweep.h5");
    char *data;
    size_t len;
    int failed = 0;
    CHECK_EQ(uniap_read_file(p, &data, &len), 0);
    for (size_t off = 0; off < len; off += 1 + len / 300) {
        FILE *f = fopen(t, "wb");
        data[off] ^= 0xff;
        fwrite(data, 1, len, f);
        fclose(f);
        data[off] ^= 0xff;
        uniap_profile back;
        long ids = open_ids();
        uniap_err_clear();
        int rc = uniap_profile_read(t, &back);
        CHECK(rc == 0 || (rc < 0 && uniap_errmsg()[0] != '\0'));
        CHECK_EQ(open_ids(), ids); /* no handle left open on any path */
        failed += rc < 0;
        uniap_profile_free(&back);
    }
    fprintf(stderr, "  %d of ~300 single-byte corruptions detected\n", failed);
    CHECK(failed > 0);
    free(data);
}

/* issue 10 items 4 and 7: values no run can produce are refused naming
 * the file and the attribute or row (archive verify passed world_size 0
 * and -5; control characters in provenance were printed raw). */
static void test_bad_values(void)
{
    static const char *const ctrl[] = {"meas\x1b[2Jured", "line\nbreak", "del\x7f"};
    uniap_profile ref;
    const char *p = good_file("values.h5");

    set_int_attr(p, "world_size", 0);
    expect_fail(p, UNIAP_EFORMAT, "world_size is 0", "expected 1..");
    set_int_attr(p, "world_size", -5);
    expect_fail(p, UNIAP_EFORMAT, "world_size is -5", NULL);
    set_int_attr(p, "world_size", 4);
    set_int_attr(p, "complete", 7);
    expect_fail(p, UNIAP_EFORMAT, "complete is 7", NULL);

    for (size_t i = 0; i < sizeof(ctrl) / sizeof(ctrl[0]); i++) {
        ref_profile(&ref, 10, 10);
        snprintf(ref.provenance, sizeof(ref.provenance), "%s", ctrl[i]);
        CHECK_EQ(uniap_profile_write(p, &ref), 0);
        expect_fail(p, UNIAP_EFORMAT, "root attribute provenance", "non-printable");
        uniap_profile_free(&ref);
    }
    ref_profile(&ref, 10, 10);
    snprintf(ref.created, sizeof(ref.created), "2026\r");
    CHECK_EQ(uniap_profile_write(p, &ref), 0);
    expect_fail(p, UNIAP_EFORMAT, "root attribute created", NULL);
    uniap_profile_free(&ref);

    /* Rows: each case breaks one field of one row. */
    for (int c = 0; c < 11; c++) {
        ref_profile(&ref, 10, 10);
        const char *needle = NULL;
        switch (c) {
        case 0:
            ref.layers[3].tp = 0, needle = "/layers row 3: tp 0";
            break;
        case 1:
            ref.layers[4].micro_batch = -2, needle = "/layers row 4";
            break;
        case 2:
            ref.layers[5].rank = 4, needle = "/layers row 5: rank 4";
            break;
        case 3:
            ref.layers[6].fwd.median = NAN, needle = "/layers row 6: fwd_median nan";
            break;
        case 4:
            ref.layers[2].bwd.count = -1, needle = "/layers row 2";
            break;
        case 5:
            ref.ranks[1].rank = 9, needle = "/ranks row 1: rank 9";
            break;
        case 6:
            ref.colls[2].group_size = 0, needle = "/collectives row 2: group_size 0";
            break;
        case 7:
            ref.colls[3].time.median = -1e-3, needle = "/collectives row 3";
            break;
        case 8:
            ref.overlap_coeff = NAN, needle = "overlap_coefficient";
            break;
        case 9: /* W is part of the backward: more than it is an error */
            ref.layers[1].wgrad.median = ref.layers[1].bwd.median * 1.01;
            needle = "/layers row 1: wgrad_median";
            break;
        case 10:
            ref.layers[4].wgrad.count = -3, needle = "/layers row 4: fwd_count";
            break;
        }
        CHECK_EQ(uniap_profile_write(p, &ref), 0);
        expect_fail(p, UNIAP_EFORMAT, needle, NULL);
        uniap_profile_free(&ref);
    }
    /* The reference itself (edge-case min/max bits) is still read. */
    ref_profile(&ref, 10, 10);
    CHECK_EQ(uniap_profile_write(p, &ref), 0);
    uniap_err_clear();
    CHECK_EQ(uniap_profile_validate(p), 0);
    uniap_profile_free(&ref);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_tmp_cleanup(void)
{
    uniap_profile ref;
    char tmp[4096];
    struct stat st;
    ref_profile(&ref, 10, 10);

    /* A folder that does not exist: bad input, refused before writing. */
    const char *p = path_in("no/such/folder/x.h5");
    uniap_err_clear();
    CHECK_EQ(uniap_profile_write(p, &ref), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), p);
    CHECK_EQ(count_entries(dir_), 0);

    /* The final name is a folder: refused, and no temporary is left. */
    p = path_in("occupied.h5");
    CHECK_EQ(mkdir(p, 0755), 0);
    uniap_err_clear();
    CHECK(uniap_profile_write(p, &ref) < 0);
    fprintf(stderr, "  %s\n", uniap_errmsg());
    CHECK_STR_CONTAINS(uniap_errmsg(), p);
    CHECK_EQ(uniap_tmp_name(p, tmp, sizeof(tmp)), 0);
    CHECK(stat(tmp, &st) != 0 && errno == ENOENT);
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_EQ(count_entries(dir_), 1);
    rmdir(p);
    uniap_profile_free(&ref);
}

static void test_bad_rows(void)
{
    uniap_profile ref;
    struct stat st;
    const char *p = path_in("bad_rows.h5");
    ref_profile(&ref, 10, 10);
    ref.colls[2].op = (uniap_coll_op)99;
    uniap_err_clear();
    CHECK_EQ(uniap_profile_write(p, &ref), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "/collectives row 2");
    CHECK_STR_CONTAINS(uniap_errmsg(), p);
    ref.colls[2].op = UNIAP_COLL_BROADCAST;
    memset(ref.ranks[1].host, 'x', sizeof(ref.ranks[1].host));
    uniap_err_clear();
    CHECK_EQ(uniap_profile_write(p, &ref), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "/ranks row 1: host");
    CHECK(stat(p, &st) != 0);
    CHECK_EQ(count_entries(dir_), 0);
    uniap_profile_free(&ref);
}

int main(int argc, char **argv)
{
    static const test_mode modes[] = {{"checksum", test_checksum},
                                      {"newer_major", test_newer_major},
                                      {"newer_minor", test_newer_minor},
                                      {"missing", test_missing},
                                      {"wrong_type", test_wrong_type},
                                      {"foreign", test_foreign},
                                      {"not_hdf5", test_not_hdf5},
                                      {"truncated", test_truncated},
                                      {"sweep", test_sweep},
                                      {"tmp_cleanup", test_tmp_cleanup},
                                      {"bad_rows", test_bad_rows},
                                      {"bad_values", test_bad_values}};
    return test_modes_main(argc, argv, modes, sizeof(modes) / sizeof(modes[0]), &dir_);
}
