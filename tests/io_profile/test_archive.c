/*
 * test_archive.c - `uniap archive` (cli/cmd_archive.c, profile_merge.c,
 * profile_csv.c) called through uniap_cli_archive() with its stdout
 * captured: the catalogue of a folder with good, incomplete and corrupt
 * files; show; verify's verdicts and exit statuses; merge's concatenation,
 * provenance (/inputs) and refusals; CSV export parsed back bit for bit.
 *
 * usage: test_archive list|show|verify|merge|export DIR
 */
#include <hdf5.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "cmd_util.h"
#include "profile_h5.h"
#include "profile_ref.h"
#include "test_modes.h"

static const char *dir_;
static char out_[1 << 20];

static const char *path_in(const char *name)
{
    static char buf[8][4096];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, 4096, "%s/%s", dir_, name);
    return b;
}

/* Runs `uniap archive ARGS...` (NULL-terminated), stdout into out_. */
static int archive(const char *first, ...)
{
    char *argv[32];
    int argc = 0, rc, saved;
    va_list ap;
    FILE *tmp = tmpfile();

    argv[argc++] = "archive";
    va_start(ap, first);
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    saved = dup(1);
    dup2(fileno(tmp), 1);
    rc = uniap_cli_archive(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    rewind(tmp);
    size_t n = fread(out_, 1, sizeof(out_) - 1, tmp);
    out_[n] = '\0';
    fclose(tmp);
    fprintf(stderr, "$ uniap archive %s ... -> %d\n%s", first, rc, out_);
    return rc;
}

static const char *write_ref(const char *name, int n_layers, int n_colls, int complete)
{
    uniap_profile p;
    const char *path = path_in(name);
    ref_profile(&p, n_layers, n_colls);
    p.complete = complete;
    CHECK_EQ(uniap_profile_write(path, &p), 0);
    uniap_profile_free(&p);
    return path;
}

static void corrupt_chunk(const char *path, const char *table)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, table, H5P_DEFAULT);
    hid_t s = H5Dget_space(d);
    hsize_t coords[1], size = 0;
    haddr_t addr = 0;
    unsigned mask;
    CHECK(H5Dget_chunk_info(d, s, 0, coords, &mask, &addr, &size) >= 0);
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
    FILE *fp = fopen(path, "r+b");
    fseek(fp, (long)(addr + size / 2), SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, (long)(addr + size / 2), SEEK_SET);
    fputc(c ^ 0x33, fp);
    fclose(fp);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_list(void)
{
    write_ref("a_good.h5", 40, 30, 1);
    write_ref("b_incomplete.h5", 10, 5, 0);
    corrupt_chunk(write_ref("c_corrupt.h5", 40, 30, 1), "/layers");
    FILE *f = fopen(path_in("d_text.h5"), "w");
    fputs("not hdf5\n", f);
    fclose(f);
    f = fopen(path_in("notes.txt"), "w");
    fputs("ignored\n", f);
    fclose(f);
    CHECK_EQ(archive("list", dir_, NULL), 0);
    CHECK_EQ(count_lines(out_), 1 + 4 + 1); /* header, 4 datasets, summary */
    const char *a = strstr(out_, "a_good.h5"), *b = strstr(out_, "b_incomplete.h5");
    const char *c = strstr(out_, "c_corrupt.h5"), *d = strstr(out_, "d_text.h5");
    CHECK(a && b && c && d && a < b && b < c && c < d); /* sorted */
    CHECK(strstr(out_, "notes.txt") == NULL);
    CHECK_STR_CONTAINS(a, "llama-7b");
    CHECK_STR_CONTAINS(a, "NVIDIA H100 80GB HBM3+");
    CHECK_STR_CONTAINS(a, "cuda,cpu"); /* in order of first appearance */
    CHECK_STR_CONTAINS(a, "2026-11-22T03:28:52Z");
    CHECK(strstr(b, "NO") && strstr(b, "NO") < c);
    CHECK_STR_CONTAINS(c, "CORRUPT");
    CHECK_STR_CONTAINS(c, "checksum mismatch");
    CHECK_STR_CONTAINS(d, "CORRUPT");
    CHECK_STR_CONTAINS(d, "not an HDF5 file");
    CHECK_STR_CONTAINS(out_, "4 datasets, 2 corrupt");
    CHECK_EQ(archive("list", path_in("no_such_folder"), NULL), 1);
}

static void test_show(void)
{
    const char *p = write_ref("show.h5", 40, 30, 1);
    CHECK_EQ(archive("show", p, NULL), 0);
    CHECK_STR_CONTAINS(out_, "uniap-profile 1.3");
    CHECK_STR_CONTAINS(out_, "llama-7b");
    CHECK_STR_CONTAINS(out_, "slurm job 424242");
    CHECK_STR_CONTAINS(out_, "/ranks        4 rows");
    CHECK_STR_CONTAINS(out_, "/layers       40 rows");
    CHECK_STR_CONTAINS(out_, "/collectives  30 rows");
    CHECK_STR_CONTAINS(out_, "tp {1,2,4,8}");
    /* Reference row i has op (i + i % 4) % 6, always even: all_reduce,
     * reduce_scatter and broadcast, 11, 9 and 10 rows of the 30. */
    CHECK_STR_CONTAINS(out_, "all_reduce         11 rows  groups {2,4,8,16}");
    CHECK_STR_CONTAINS(out_, "reduce_scatter      9 rows");
    CHECK_STR_CONTAINS(out_, "broadcast          10 rows");
    CHECK(strstr(out_, "all_gather") == NULL);
    CHECK_EQ(archive("show", path_in("missing.h5"), NULL), 1);
    CHECK_EQ(archive(NULL), 2);
    CHECK_EQ(archive("--help", NULL), 0);
    CHECK_STR_CONTAINS(out_, "merge [--force] OUT IN...");
    CHECK_EQ(archive("frobnicate", "x", NULL), 2);
}

static void test_verify(void)
{
    const char *good = write_ref("good.h5", 40, 30, 1);
    const char *part = write_ref("partial.h5", 10, 5, 0);
    const char *bad = write_ref("bad.h5", 40, 30, 1);
    corrupt_chunk(bad, "/collectives");
    CHECK_EQ(archive("verify", good, NULL), 0);
    CHECK_STR_CONTAINS(out_, "OK    ");
    CHECK_STR_CONTAINS(out_, "checksums verified");
    CHECK_EQ(archive("verify", good, bad, NULL), 2);
    CHECK_STR_CONTAINS(out_, "FAIL");
    CHECK_STR_CONTAINS(out_, "checksum mismatch");
    CHECK_STR_CONTAINS(out_, "/collectives");
    CHECK_EQ(archive("verify", part, NULL), 2);
    CHECK_STR_CONTAINS(out_, "incomplete");
    CHECK_EQ(archive("verify", path_in("missing.h5"), NULL), 1);
    /* issue 10 item 4: an impossible world_size fails verify (exit 2) */
    for (int k = 0; k < 2; k++) {
        int ws = k ? -5 : 0;
        const char *odd = write_ref(k ? "ws_neg.h5" : "ws_zero.h5", 10, 5, 1);
        hid_t f = H5Fopen(odd, H5F_ACC_RDWR, H5P_DEFAULT);
        hid_t a = H5Aopen(f, "world_size", H5P_DEFAULT);
        CHECK(a >= 0 && H5Awrite(a, H5T_NATIVE_INT, &ws) >= 0);
        H5Aclose(a);
        H5Fclose(f);
        CHECK_EQ(archive("verify", odd, NULL), 2);
        CHECK_STR_CONTAINS(out_, "FAIL");
        CHECK_STR_CONTAINS(out_, "world_size");
    }
}

static void test_merge(void)
{
    uniap_profile a, b, m;
    uniap_h5_input *in = NULL;
    int n_in = 0;
    const char *pa = path_in("a.h5"), *pb = path_in("b.h5"), *pm = path_in("merged.h5");

    ref_profile(&a, 12, 7);
    ref_profile(&b, 5, 9);
    snprintf(b.created, sizeof(b.created), "2026-11-23T00:00:00Z");
    snprintf(b.slurm_job_id, sizeof(b.slurm_job_id), "777");
    for (int i = 0; i < b.n_layers; i++)
        b.layers[i].fwd.median += 1.0; /* rows distinct from a's */
    CHECK_EQ(uniap_profile_write(pa, &a), 0);
    CHECK_EQ(uniap_profile_write(pb, &b), 0);
    CHECK_EQ(archive("merge", pm, pa, pb, NULL), 0);
    CHECK_EQ(uniap_profile_read(pm, &m), 0);
    CHECK_EQ(m.n_ranks, 8);
    CHECK_EQ(m.n_layers, 17);
    CHECK_EQ(m.n_colls, 16);
    CHECK(strcmp(m.provenance, "merged") == 0);
    CHECK_STR_CONTAINS(m.command_line, "archive merge");
    CHECK(ref_str_eq(m.model_json, a.model_json)); /* shared by both inputs */
    /* Rows: a's then b's, bit for bit. */
    for (int i = 0; i < 12; i++)
        CHECK(ref_stat_same(&m.layers[i].fwd, &a.layers[i].fwd));
    for (int i = 0; i < 5; i++)
        CHECK(ref_stat_same(&m.layers[12 + i].fwd, &b.layers[i].fwd));
    for (int i = 0; i < 9; i++)
        CHECK_EQ(m.colls[7 + i].bytes, b.colls[i].bytes);
    CHECK_EQ(uniap_h5_read_inputs(pm, &in, &n_in), 0);
    CHECK_EQ(n_in, 2);
    if (n_in == 2) {
        CHECK(strcmp(in[0].file, pa) == 0 && strcmp(in[1].file, pb) == 0);
        CHECK(strcmp(in[1].created, "2026-11-23T00:00:00Z") == 0);
        CHECK(strcmp(in[1].slurm_job_id, "777") == 0);
        CHECK(strcmp(in[0].model, "llama-7b") == 0);
        CHECK_EQ(in[1].layers_first, 12);
        CHECK_EQ(in[1].n_layers, 5);
        CHECK_EQ(in[1].colls_first, 7);
        CHECK_EQ(in[1].ranks_first, 4);
    }
    free(in);
    uniap_profile_free(&m);

    /* A merge of a merge keeps the inner inputs, shifted. */
    const char *pm2 = path_in("merged2.h5");
    CHECK_EQ(archive("merge", pm2, pa, pm, NULL), 0);
    CHECK_EQ(uniap_h5_read_inputs(pm2, &in, &n_in), 0);
    CHECK_EQ(n_in, 3);
    if (n_in == 3) {
        CHECK_EQ(in[2].layers_first, 12 + 12);
        CHECK_STR_CONTAINS(in[2].file, "merged.h5:");
        CHECK_STR_CONTAINS(in[2].file, "b.h5");
    }
    free(in);
    CHECK_EQ(archive("show", pm2, NULL), 0);
    CHECK_STR_CONTAINS(out_, "/inputs       3 merged inputs");

    /* Different devices: refused unless --force. */
    for (int i = 0; i < b.n_ranks; i++)
        snprintf(b.ranks[i].device, sizeof(b.ranks[i].device), "NVIDIA A100-SXM4-40GB");
    CHECK_EQ(uniap_profile_write(pb, &b), 0);
    const char *pf = path_in("forced.h5");
    CHECK_EQ(archive("merge", pf, pa, pb, NULL), 2);
    CHECK(access(pf, F_OK) != 0);
    CHECK_EQ(archive("merge", "--force", pf, pa, pb, NULL), 0);
    CHECK(access(pf, F_OK) == 0);

    /* A newer major version cannot be merged, --force or not. */
    hid_t f = H5Fopen(pb, H5F_ACC_RDWR, H5P_DEFAULT),
          at = H5Aopen(f, "format_version_major", H5P_DEFAULT);
    int two = 2;
    H5Awrite(at, H5T_NATIVE_INT, &two);
    H5Aclose(at);
    H5Fclose(f);
    CHECK_EQ(archive("merge", "--force", path_in("never.h5"), pa, pb, NULL), 2);
    CHECK(access(path_in("never.h5"), F_OK) != 0);
    CHECK_EQ(archive("merge", pm, NULL), 2); /* no inputs */
    uniap_profile_free(&a);
    uniap_profile_free(&b);
}

/* Reads a whole text file (malloc'd; NULL on failure). Not inlined: GCC 12
 * at -O3 then mistakes the returned buffer for the address of `data`
 * (-Wdangling-pointer false positive). */
__attribute__((noinline)) static char *slurp(const char *path)
{
    char *data = NULL;
    size_t len;
    CHECK_EQ(uniap_read_file(path, &data, &len), 0);
    return data;
}

static void test_export(void)
{
    uniap_profile p;
    const char *src = path_in("export.h5"), *csv = path_in("csv");
    ref_profile(&p, 40, 30);
    snprintf(p.ranks[2].host, sizeof(p.ranks[2].host), "rack \"7\", node 2");
    CHECK_EQ(uniap_profile_write(src, &p), 0);
    CHECK_EQ(archive("export", src, "--csv", csv, NULL), 0);
    char *layers = slurp(path_in("csv/layers.csv")), *colls = slurp(path_in("csv/collectives.csv"));
    char *ranks = slurp(path_in("csv/ranks.csv")), *root = slurp(path_in("csv/root.csv"));
    if (layers && colls && ranks && root) {
        CHECK(strncmp(layers,
                      "layer_type,tp,micro_batch,rank,fwd_median,fwd_min,fwd_max,"
                      "fwd_count,bwd_median,",
                      68) == 0);
        CHECK_EQ(count_lines(layers), 41);
        CHECK_EQ(count_lines(colls), 31);
        CHECK_STR_CONTAINS(ranks, "\"rack \"\"7\"\", node 2\"");
        CHECK_STR_CONTAINS(root, "units:/layers,micro_batch=samples;fwd_median=s;");
        CHECK_STR_CONTAINS(root, "slurm_job_id,424242");
        /* Every layer row's fwd_median parses back to the same bits. */
        char *line = strchr(layers, '\n') + 1;
        for (int i = 0; i < 40 && line; i++) {
            char *f = line;
            /* skip layer_type (unquoted: no commas), tp, micro_batch, rank */
            for (int k = 0; k < 4; k++)
                f = strchr(f, ',') + 1;
            CHECK(ref_same(strtod(f, NULL), p.layers[i].fwd.median));
            line = strchr(line, '\n');
            line = line ? line + 1 : NULL;
        }
        CHECK_STR_CONTAINS(colls, "\nreduce_scatter,");
    }
    free(layers);
    free(colls);
    free(ranks);
    free(root);
    /* a missing output folder is bad input, refused before any work */
    CHECK_EQ(archive("export", src, "--csv", path_in("no/such/deep/dir"), NULL), 2);
    CHECK_EQ(archive("export", src, path_in("x"), NULL), 2);
    uniap_profile_free(&p);
}

int main(int argc, char **argv)
{
    static const test_mode modes[] = {{"list", test_list},
                                      {"show", test_show},
                                      {"verify", test_verify},
                                      {"merge", test_merge},
                                      {"export", test_export}};
    return test_modes_main(argc, argv, modes, sizeof(modes) / sizeof(modes[0]), &dir_);
}
