/*
 * test_profile_parallel.c - uniap_profile_write_parallel under mpirun (3
 * ranks). `write`: each rank contributes different rows (rank 1 none in
 * /collectives, a /layers table of many chunks spread over ranks); rank 0
 * reads the file back and checks it equals the concatenation in rank order
 * with rank 0's root attributes. `fail`: the last rank passes a bad row;
 * every rank must return the same status and no file may be left.
 *
 * usage: mpirun -n 3 test_profile_parallel write|fail PATH
 */
#include <dirent.h>
#include <libgen.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "profile_ref.h"
#include "uniap_io_mpi.h"

static int n_layers_of(int r)
{
    return r == 2 ? 1500 : 700 + 11 * r;
}
static int n_colls_of(int r)
{
    return r == 1 ? 0 : 5 + r;
}

/* The rows rank r contributes (its own root attributes differ too). */
static void rank_profile(int r, int size, uniap_profile *p)
{
    uniap_profile_init(p);
    snprintf(p->provenance, sizeof(p->provenance), "measured-by-%d", r);
    p->world_size = size;
    p->command_line = strdup(r == 0 ? "mpirun -n 3 uniap profile" : "not rank 0");
    p->model_json = r == 0 ? strdup("{\"name\": \"tiny\"}") : NULL;
    uniap_rank_info ri = ref_rank_row(r);
    uniap_profile_add_rank(p, &ri);
    for (int i = 0; i < n_layers_of(r); i++) {
        uniap_layer_prof l = ref_layer_row(r, i + 10000 * r);
        uniap_profile_add_layer(p, &l);
    }
    for (int i = 0; i < n_colls_of(r); i++) {
        uniap_coll_prof c = ref_coll_row(r, i);
        uniap_profile_add_coll(p, &c);
    }
}

static int entries_in(const char *dir)
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

int main(int argc, char **argv)
{
    int me, size, rc;
    uniap_profile mine;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc != 3) {
        fprintf(stderr, "usage: %s write|fail PATH\n", argv[0]);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    const char *path = argv[2];
    char dirbuf[4096];
    snprintf(dirbuf, sizeof(dirbuf), "%s", path);
    const char *dir = dirname(dirbuf);
    if (me == 0) {
        char cmd[4200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
        CHECK_EQ(system(cmd), 0);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    rank_profile(me, size, &mine);

    if (strcmp(argv[1], "fail") == 0) {
        if (me == size - 1)
            mine.colls[0].op = (uniap_coll_op)-3;
        rc = uniap_profile_write_parallel(MPI_COMM_WORLD, path, &mine);
        fprintf(stderr, "rank %d: %d %s\n", me, rc, uniap_errmsg());
        CHECK_EQ(rc, UNIAP_EINVAL);
        char want[64];
        snprintf(want, sizeof(want), "rank %d", size - 1);
        if (me != size - 1)
            CHECK_STR_CONTAINS(uniap_errmsg(), want);
        CHECK_STR_CONTAINS(uniap_errmsg(), "/collectives row 0");
        MPI_Barrier(MPI_COMM_WORLD);
        if (me == 0)
            CHECK_EQ(entries_in(dir), 0);
        uniap_profile_free(&mine);
    } else {
        rc = uniap_profile_write_parallel(MPI_COMM_WORLD, path, &mine);
        if (rc < 0)
            fprintf(stderr, "rank %d: %s\n", me, uniap_errmsg());
        CHECK_EQ(rc, 0);
        MPI_Barrier(MPI_COMM_WORLD);
        if (me == 0) {
            /* Expected: rank 0's root attributes, rows in rank order. */
            uniap_profile want, got;
            want = mine;
            want.ranks = NULL, want.layers = NULL, want.colls = NULL;
            want.n_ranks = want.n_layers = want.n_colls = 0;
            for (int r = 0; r < size; r++) {
                uniap_profile other;
                rank_profile(r, size, &other);
                for (int i = 0; i < other.n_ranks; i++)
                    uniap_profile_add_rank(&want, &other.ranks[i]);
                for (int i = 0; i < other.n_layers; i++)
                    uniap_profile_add_layer(&want, &other.layers[i]);
                for (int i = 0; i < other.n_colls; i++)
                    uniap_profile_add_coll(&want, &other.colls[i]);
                uniap_profile_free(&other);
            }
            rc = uniap_profile_read(path, &got);
            if (rc < 0)
                fprintf(stderr, "read: %s\n", uniap_errmsg());
            CHECK_EQ(rc, 0);
            CHECK_EQ(got.n_layers, n_layers_of(0) + n_layers_of(1) + n_layers_of(2));
            CHECK(strcmp(got.provenance, "measured-by-0") == 0);
            CHECK(ref_str_eq(got.command_line, "mpirun -n 3 uniap profile"));
            ref_compare(&want, &got);
            free(want.ranks);
            free(want.layers);
            free(want.colls);
            uniap_profile_free(&got);
        }
        /* Empty /layers and /collectives on every rank. */
        char empty[4200];
        snprintf(empty, sizeof(empty), "%s/empty.h5", dir);
        mine.n_layers = mine.n_colls = 0;
        rc = uniap_profile_write_parallel(MPI_COMM_WORLD, empty, &mine);
        CHECK_EQ(rc, 0);
        MPI_Barrier(MPI_COMM_WORLD);
        if (me == 0) {
            uniap_profile got;
            CHECK_EQ(uniap_profile_read(empty, &got), 0);
            CHECK_EQ(got.n_ranks, size);
            CHECK(got.n_layers == 0 && got.n_colls == 0 && got.layers == NULL);
            for (int r = 0; r < got.n_ranks; r++)
                CHECK_EQ(got.ranks[r].rank, r);
            uniap_profile_free(&got);
            CHECK_EQ(entries_in(dir), 2); /* the two profiles, no temporary file */
        }
        /* The final name is taken by a folder: refused (bad output path)
         * on every rank, and no temporary file is left. */
        char taken[4200];
        snprintf(taken, sizeof(taken), "%s/taken.h5", dir);
        if (me == 0)
            CHECK_EQ(mkdir(taken, 0755), 0);
        MPI_Barrier(MPI_COMM_WORLD);
        rc = uniap_profile_write_parallel(MPI_COMM_WORLD, taken, &mine);
        CHECK_EQ(rc, UNIAP_EINVAL);
        CHECK_STR_CONTAINS(uniap_errmsg(), "is a folder");
        MPI_Barrier(MPI_COMM_WORLD);
        if (me == 0)
            CHECK_EQ(entries_in(dir), 3);
        uniap_profile_free(&mine);
    }
    rc = check_report();
    int worst;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return worst;
}
