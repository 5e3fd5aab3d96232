/*
 * test_cmd_entry.c - the profile, archive, model and cluster commands
 * called in-process after an earlier failure left an error recorded: each
 * clears it at entry, so its own error message is not prefixed by the
 * stale one (uniap_err wraps a message set earlier as its context), and
 * none shows a source location without --debug.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpi.h>

#include "check.h"
#include "cmd_util.h"
#include "uniap_io.h"

static char err_[1 << 16];

/* Runs cmd(argv) with a stale error recorded; its stderr into err_. */
static int run(int (*cmd)(int, char **), char **argv)
{
    int argc = 0, rc, saved;
    FILE *tmp = tmpfile();

    CHECK(tmp != NULL);
    while (argv[argc])
        argc++;
    uniap_err(UNIAP_EINVAL, "STALE earlier failure");
    fflush(stderr);
    saved = dup(2);
    dup2(fileno(tmp), 2);
    rc = cmd(argc, argv);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(err_, 1, sizeof(err_) - 1, tmp);
    err_[n] = '\0';
    fclose(tmp);
    fprintf(stderr, "$ uniap %s %s -> %d\n%s", argv[0], argv[1], rc, err_);
    return rc;
}

static void check_clean(void)
{
    CHECK(strstr(err_, "STALE") == NULL);
    CHECK(strstr(err_, ".c:") == NULL);
    CHECK(err_[0] != '\0');
}

int main(int argc, char **argv)
{
    char *model[] = {"model", "no-such-model-x", NULL};
    char *cluster[] = {"cluster", "no-such-cluster-x", NULL};
    char *profile[] = {"profile", "--model", "no-such-model-x", "--out", "/nonexistent-dir/p.h5",
                       NULL};
    char *verify[] = {"archive", "show", "/nonexistent-dir/p.h5", NULL};

    MPI_Init(&argc, &argv);
    CHECK_EQ(run(uniap_cli_model, model), 2);
    check_clean();
    CHECK(strstr(err_, "no-such-model-x") != NULL);
    CHECK_EQ(run(uniap_cli_cluster, cluster), 2);
    check_clean();
    CHECK_EQ(run(uniap_cli_profile, profile), 2);
    check_clean();
    CHECK(strstr(err_, "--out") != NULL);
    CHECK(run(uniap_cli_archive, verify) != 0);
    check_clean();
    MPI_Finalize();
    return check_report();
}
