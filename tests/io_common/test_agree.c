/*
 * test_agree.c - io/mpi_agree.c under mpirun -np 3: a failing rank's
 * status and message reach every rank ("rank R: ..."), the lowest failing
 * rank wins, and uniap_mpi_same names the first rank whose data differs.
 */
#include <stdio.h>
#include <string.h>

#include <mpi.h>

#include "check.h"
#include "uniap_io_mpi.h"

static int rank_, size_;

static void test_all_ok(void)
{
    uniap_err_clear();
    CHECK_EQ(uniap_mpi_agree(MPI_COMM_WORLD, 0), 0);
    CHECK(uniap_errmsg()[0] == '\0');
}

static void test_one_fails(void)
{
    int rc = 0;
    uniap_err_clear();
    if (rank_ == 2)
        rc = uniap_err(UNIAP_EINVAL, "--model nosuch: no such model");
    CHECK_EQ(uniap_mpi_agree(MPI_COMM_WORLD, rc), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "--model nosuch: no such model");
    if (rank_ == 0)
        CHECK_STR_CONTAINS(uniap_errmsg(), "rank 2:");
    if (rank_ == 2) /* the failing rank keeps its own message */
        CHECK(strncmp(uniap_errmsg(), "rank ", 5) != 0);
}

static void test_lowest_wins(void)
{
    int rc = 0;
    uniap_err_clear();
    if (rank_ == 1)
        rc = uniap_err(UNIAP_EIO, "disk on fire");
    if (rank_ == 2)
        rc = uniap_err(UNIAP_EINVAL, "bad spec");
    CHECK_EQ(uniap_mpi_agree(MPI_COMM_WORLD, rc), UNIAP_EIO);
    if (rank_ == 0) {
        CHECK_STR_CONTAINS(uniap_errmsg(), "rank 1: disk on fire");
        CHECK(strstr(uniap_errmsg(), "bad spec") == NULL);
    }
    if (rank_ == 2)
        CHECK_STR_CONTAINS(uniap_errmsg(), "bad spec");
}

static void test_same(void)
{
    char data[32] = "global_batch=16;model=gpt-tiny";
    uniap_err_clear();
    CHECK_EQ(uniap_mpi_same(MPI_COMM_WORLD, data, sizeof(data), "the arguments"), 0);
    if (rank_ == 1)
        data[3] = 'X';
    uniap_err_clear();
    CHECK_EQ(uniap_mpi_same(MPI_COMM_WORLD, data, sizeof(data), "the arguments"), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "the arguments");
    CHECK_STR_CONTAINS(uniap_errmsg(), "rank 1");
    /* Different lengths, rank 2 only. */
    uniap_err_clear();
    CHECK_EQ(uniap_mpi_same(MPI_COMM_WORLD, "abc", rank_ == 2 ? 2 : 3, "the model spec"),
             UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "rank 2");
    CHECK_STR_CONTAINS(uniap_errmsg(), "the model spec");
    uniap_err_clear();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    if (size_ != 3) {
        if (rank_ == 0)
            fprintf(stderr, "run with 3 ranks (got %d)\n", size_);
        MPI_Finalize();
        return 2;
    }
    test_all_ok();
    test_one_fails();
    test_lowest_wins();
    test_same();
    int failed = check_report(), any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any;
}
