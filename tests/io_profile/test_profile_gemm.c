/*
 * test_profile_gemm.c - the /gemm table of the profile dataset (format
 * 1.2, io/profile_h5_*.c): rows survive a write and read bit for bit; a
 * file without /gemm (1.0 golden, a 1.1 file, --skip-gemm) reads with no
 * rows and the writer adds no empty /gemm; the checker refuses bad rows
 * (negative or NaN time, zero or negative dimensions, unknown dtype,
 * FLOP/s that are not 2 m n k / time_median, count 0, rank outside the
 * world) naming the table, the row and the field; merges concatenate the
 * rows and trace them in /inputs (gemm_first, n_gemm), also when an input
 * is a 1.1 merge whose /inputs lacks those members; CSV export writes
 * gemm.csv.
 *
 * usage: test_profile_gemm MODE DIR (GOLDEN_V1_0 is compiled in)
 */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "profile_h5.h"
#include "profile_ref.h"
#include "test_modes.h"

static const char *dir_;

static const char *path_in(const char *name)
{
    static char buf[8][4200];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, sizeof(buf[0]), "%s/%s", dir_, name);
    return b;
}

/* Row i of a hand-made sweep on rank i % 4: m n k and a median time, flops
 * 2 m n k / median as the profiler computes it. */
static uniap_gemm_prof gemm_row(int i)
{
    uniap_gemm_prof g;
    memset(&g, 0, sizeof(g));
    g.rank = i % 4;
    snprintf(g.dtype, sizeof(g.dtype), "%s", i % 3 == 2 ? "fp32" : "bf16");
    g.m = 512 << (i % 4), g.n = 256 + 128 * i, g.k = 1024 + i;
    g.time.median = 1e-4 * (i + 1) + 3e-7;
    g.time.min = 0.9 * g.time.median;
    g.time.max = 1.25 * g.time.median;
    g.time.count = 5 + i;
    g.flops = 2.0 * (double)g.m * (double)g.n * (double)g.k / g.time.median;
    return g;
}

static void gemm_profile(uniap_profile *p, int n_gemm)
{
    ref_profile(p, 8, 6);
    for (int i = 0; i < n_gemm; i++) {
        uniap_gemm_prof g = gemm_row(i);
        CHECK_EQ(uniap_profile_add_gemm(p, &g), 0);
    }
}

static int has_link(const char *path, const char *name)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    int has = f >= 0 && H5Lexists(f, name, H5P_DEFAULT) > 0;
    if (f >= 0)
        H5Fclose(f);
    return has;
}

static void set_minor(const char *path, int minor)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = H5Aopen(f, UNIAP_H5_ATTR_MINOR, H5P_DEFAULT);
    CHECK(a >= 0);
    CHECK(H5Awrite(a, H5T_NATIVE_INT, &minor) >= 0);
    H5Aclose(a);
    H5Fclose(f);
}

static void test_roundtrip(void)
{
    uniap_profile w, r;
    const char *p = path_in("gemm.h5");
    gemm_profile(&w, 11);
    CHECK_EQ(uniap_profile_write(p, &w), 0);
    CHECK_EQ(uniap_profile_read(p, &r), 0);
    CHECK_EQ(r.n_gemm, 11);
    for (int i = 0; i < r.n_gemm && i < w.n_gemm; i++) {
        const uniap_gemm_prof *a = &w.gemm[i], *b = &r.gemm[i];
        CHECK_EQ(b->rank, a->rank);
        CHECK(strcmp(b->dtype, a->dtype) == 0);
        CHECK_EQ(b->m, a->m);
        CHECK_EQ(b->n, a->n);
        CHECK_EQ(b->k, a->k);
        CHECK(ref_stat_same(&b->time, &a->time));
        CHECK(ref_same(b->flops, a->flops));
    }
    ref_compare(&w, &r); /* the other tables are untouched */
    CHECK(has_link(p, "/gemm"));
    uniap_profile_free(&r);
    /* no rows: no /gemm table (optional since 1.2), and it reads back empty */
    free(w.gemm), w.gemm = NULL, w.n_gemm = 0;
    CHECK_EQ(uniap_profile_write(p, &w), 0);
    CHECK(!has_link(p, "/gemm"));
    CHECK_EQ(uniap_profile_read(p, &r), 0);
    CHECK_EQ(r.n_gemm, 0);
    CHECK(r.gemm == NULL);
    uniap_profile_free(&r);
    uniap_profile_free(&w);
}

/* Older files: the 1.0 golden and a file marked 1.1, neither with /gemm. */
static void test_older(void)
{
    uniap_profile w, r;
    const char *p = path_in("v1_1.h5");
    CHECK_EQ(uniap_profile_read(GOLDEN_V1_0, &r), 0);
    CHECK_EQ(r.version_minor, 0);
    CHECK_EQ(r.n_gemm, 0);
    CHECK_EQ(r.n_layers, 40);
    uniap_profile_free(&r);
    ref_profile(&w, 12, 9);
    CHECK_EQ(uniap_profile_write(p, &w), 0);
    set_minor(p, 1);
    CHECK(!has_link(p, "/gemm"));
    uniap_err_clear();
    CHECK_EQ(uniap_profile_read(p, &r), 0);
    fprintf(stderr, "  %s: %s\n", p, uniap_errmsg());
    CHECK_EQ(r.version_minor, 1);
    CHECK_EQ(r.n_gemm, 0);
    w.version_minor = 1;
    ref_compare(&w, &r);
    uniap_profile_free(&r);
    uniap_profile_free(&w);
}

static void expect_bad(const uniap_profile *w, const char *n1, const char *n2)
{
    uniap_profile r;
    const char *p = path_in("bad.h5");
    CHECK_EQ(uniap_profile_write(p, w), 0);
    uniap_err_clear();
    int rc = uniap_profile_read(p, &r);
    fprintf(stderr, "  read -> %d: %s\n", rc, uniap_errmsg());
    CHECK_EQ(rc, UNIAP_EFORMAT);
    CHECK(r.gemm == NULL && r.n_gemm == 0);
    CHECK_STR_CONTAINS(uniap_errmsg(), p);
    CHECK_STR_CONTAINS(uniap_errmsg(), n1);
    if (n2)
        CHECK_STR_CONTAINS(uniap_errmsg(), n2);
    uniap_err_clear();
}

static void test_bad_rows(void)
{
    for (int c = 0; c < 10; c++) {
        uniap_profile w;
        const char *n1 = NULL, *n2 = NULL;
        gemm_profile(&w, 6);
        uniap_gemm_prof *g = &w.gemm[c % 6];
        char row[32];
        snprintf(row, sizeof(row), "/gemm row %d: ", c % 6);
        switch (c) {
        case 0: /* a negative time (the flops kept consistent with it) */
            g->time.median = -1e-3, g->time.min = -2e-3, g->time.max = -1e-4;
            g->flops = 2.0 * (double)g->m * g->n * g->k / g->time.median;
            n2 = "time_median -0.001 s";
            break;
        case 1:
            g->m = 0, n2 = "m 0,";
            break;
        case 2:
            g->k = -5, n2 = "k -5,";
            break;
        case 3:
            g->n = 0, g->flops = 0, n2 = "n 0,";
            break;
        case 4:
            g->time.median = NAN, n2 = "time_median nan s";
            break;
        case 5:
            snprintf(g->dtype, sizeof(g->dtype), "int8"), n2 = "dtype 'int8'";
            break;
        case 6:
            g->flops *= 2, n2 = "flops";
            break;
        case 7:
            g->time.count = 0, n2 = "time_count 0";
            break;
        case 8:
            g->rank = 4, n2 = "rank 4";
            break;
        case 9:
            g->time.min = 2 * g->time.median, n2 = "min <= median <= max";
            break;
        }
        n1 = row;
        expect_bad(&w, n1, n2);
        uniap_profile_free(&w);
    }
}

/* Rewrites path's /inputs without the 1.2 members gemm_first and n_gemm,
 * as a 1.1 merge stored it (the same filters and attributes). */
static void strip_inputs_gemm(const char *path)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), d = H5Dopen2(f, "/inputs", H5P_DEFAULT);
    hid_t ft = H5Dget_type(d), space = H5Dget_space(d), dcpl = H5Dget_create_plist(d);
    hid_t nt = H5Tcreate(H5T_COMPOUND, H5Tget_size(ft));
    size_t off = 0;
    hsize_t n = 0;
    for (int i = 0; i < H5Tget_nmembers(ft); i++) {
        char *name = H5Tget_member_name(ft, (unsigned)i);
        hid_t mt = H5Tget_member_type(ft, (unsigned)i);
        if (strcmp(name, "gemm_first") && strcmp(name, "n_gemm")) {
            CHECK(H5Tinsert(nt, name, off, mt) >= 0);
            off += H5Tget_size(mt);
        }
        H5Tclose(mt);
        H5free_memory(name);
    }
    CHECK(H5Tset_size(nt, off) >= 0);
    H5Sget_simple_extent_dims(space, &n, NULL);
    char *buf = calloc(n, off);
    CHECK(H5Dread(d, nt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
    CHECK(H5Ldelete(f, "/inputs", H5P_DEFAULT) >= 0);
    d = H5Dcreate2(f, "/inputs", nt, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d >= 0 && H5Dwrite(d, nt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    for (int a = 0; a < 2; a++) {
        hid_t st = H5Tcopy(H5T_C_S1), as = H5Screate(H5S_SCALAR);
        H5Tset_size(st, 8);
        hid_t at = H5Acreate2(d, a ? "description" : "units", st, as, H5P_DEFAULT, H5P_DEFAULT);
        static const char text[8] = "v1.1"; /* the type's 8 bytes, NUL-padded */
        CHECK(at >= 0 && H5Awrite(at, st, text) >= 0);
        H5Aclose(at), H5Sclose(as), H5Tclose(st);
    }
    free(buf);
    H5Dclose(d), H5Tclose(nt), H5Tclose(ft), H5Sclose(space), H5Pclose(dcpl), H5Fclose(f);
}

static void write_gemm_file(const char *p, int n_gemm)
{
    uniap_profile w;
    gemm_profile(&w, n_gemm);
    CHECK_EQ(uniap_profile_write(p, &w), 0);
    uniap_profile_free(&w);
}

static void test_merge(void)
{
    char *ins[2];
    uniap_profile m;
    uniap_profile_input *in = NULL;
    int n = 0;
    write_gemm_file(path_in("a.h5"), 3);
    write_gemm_file(path_in("b.h5"), 2);
    ins[0] = (char *)path_in("a.h5"), ins[1] = (char *)path_in("b.h5");
    CHECK_EQ(uniap_profile_merge(path_in("ab.h5"), ins, 2, 0, "merge a b"), 0);
    CHECK_EQ(uniap_profile_read(path_in("ab.h5"), &m), 0);
    CHECK_EQ(m.n_gemm, 5); /* a's three, then b's two */
    for (int i = 0; i < m.n_gemm; i++) {
        uniap_gemm_prof want = gemm_row(i < 3 ? i : i - 3);
        CHECK_EQ(m.gemm[i].m, want.m);
        CHECK(ref_same(m.gemm[i].time.median, want.time.median));
    }
    uniap_profile_free(&m);
    CHECK_EQ(uniap_profile_read_inputs(path_in("ab.h5"), &in, &n), 0);
    CHECK_EQ(n, 2);
    if (n == 2) {
        CHECK_EQ(in[0].gemm_first, 0);
        CHECK_EQ(in[0].n_gemm, 3);
        CHECK_EQ(in[1].gemm_first, 3);
        CHECK_EQ(in[1].n_gemm, 2);
    }
    free(in);

    /* a 1.1 merge (its /inputs without the gemm members) still reads, as
     * no /gemm rows, and merges on */
    write_gemm_file(path_in("c.h5"), 0);
    write_gemm_file(path_in("d.h5"), 0);
    ins[0] = (char *)path_in("c.h5"), ins[1] = (char *)path_in("d.h5");
    CHECK_EQ(uniap_profile_merge(path_in("old.h5"), ins, 2, 0, "merge c d"), 0);
    strip_inputs_gemm(path_in("old.h5"));
    set_minor(path_in("old.h5"), 1);
    uniap_err_clear();
    CHECK_EQ(uniap_profile_read_inputs(path_in("old.h5"), &in, &n), 0);
    fprintf(stderr, "  old.h5 /inputs: %s\n", uniap_errmsg());
    CHECK_EQ(n, 2);
    if (n == 2)
        CHECK(in[1].gemm_first == 0 && in[1].n_gemm == 0 && in[1].n_layers == 8);
    free(in);
    ins[0] = (char *)path_in("ab.h5"), ins[1] = (char *)path_in("old.h5");
    CHECK_EQ(uniap_profile_merge(path_in("nested.h5"), ins, 2, 0, "merge ab old"), 0);
    CHECK_EQ(uniap_profile_read_inputs(path_in("nested.h5"), &in, &n), 0);
    CHECK_EQ(n, 4);
    if (n == 4) /* a, b, then c and d (no GEMM rows) after ab's five */
        CHECK(in[1].gemm_first == 3 && in[2].gemm_first == 5 && in[3].gemm_first == 5 &&
              in[3].n_gemm == 0);
    free(in);
}

static char *slurp(const char *path)
{
    char *s = NULL;
    size_t len = 0;
    return uniap_read_file(path, &s, &len) == 0 ? s : NULL;
}

static void test_csv(void)
{
    char *csv = NULL, line[256];
    uniap_gemm_prof g = gemm_row(4);
    write_gemm_file(path_in("e.h5"), 6);
    CHECK_EQ(uniap_profile_export_csv(path_in("e.h5"), path_in("csv")), 0);
    char *text = slurp(path_in("csv/gemm.csv")), *root = slurp(path_in("csv/root.csv"));
    CHECK_STR_CONTAINS(text, "rank,dtype,m,n,k,time_median,time_min,time_max,time_count,flops\n");
    snprintf(line, sizeof(line), "\n0,bf16,%lld,%lld,%lld,%.17g,", (long long)g.m, (long long)g.n,
             (long long)g.k, g.time.median);
    CHECK_STR_CONTAINS(text, line);
    CHECK_STR_CONTAINS(root, "units:/gemm,time_median=s;time_min=s;time_max=s;flops=FLOP/s");
    CHECK_EQ(uniap_profile_table_csv(path_in("e.h5"), "gemm", &csv), 0);
    CHECK(csv && text && strcmp(csv, text) == 0);
    free(csv), free(text), free(root);
    /* no /gemm: no text, no gemm.csv, no units line */
    write_gemm_file(path_in("f.h5"), 0);
    CHECK_EQ(uniap_profile_table_csv(path_in("f.h5"), "gemm", &csv), 0);
    CHECK(csv == NULL);
    CHECK_EQ(uniap_profile_export_csv(path_in("f.h5"), path_in("csv2")), 0);
    root = slurp(path_in("csv2/root.csv"));
    CHECK(root && !strstr(root, "/gemm"));
    CHECK(access(path_in("csv2/gemm.csv"), F_OK) != 0);
    free(root);
}

int main(int argc, char **argv)
{
    static const test_mode modes[] = {{"roundtrip", test_roundtrip},
                                      {"older", test_older},
                                      {"bad_rows", test_bad_rows},
                                      {"merge", test_merge},
                                      {"csv", test_csv}};
    return test_modes_main(argc, argv, modes, sizeof(modes) / sizeof(modes[0]), &dir_);
}
