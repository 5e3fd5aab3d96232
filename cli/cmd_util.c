/*
 * cmd_util.c - steps shared by the profile, archive, model and cluster
 * commands (see cmd_util.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "cmd_util.h"
#include "uniap_io.h"

int uniap__world_rank(void)
{
    int init = 0, fini = 0, rank = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fini);
    if (init && !fini)
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

int uniap__report(const char *prefix, int rc)
{
    if (uniap__world_rank() != 0)
        return uniap_exit_code(rc);
    /* messages quote file names and values: control characters escaped,
     * line breaks and tabs of multi-line messages kept */
    fprintf(stderr, "%s: ", prefix);
    for (const unsigned char *c = (const unsigned char *)uniap_errmsg(); *c; c++) {
        if ((*c < 0x20 && *c != '\n' && *c != '\t') || *c == 0x7f)
            fprintf(stderr, "\\x%02x", *c);
        else
            fputc(*c, stderr);
    }
    fputc('\n', stderr);
    return uniap_exit_code(rc);
}

int uniap__agree(int rc)
{
    int init = 0, fini = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fini);
    if (!init || fini || rc > 0)
        return rc;
    return uniap_mpi_agree(MPI_COMM_WORLD, rc);
}

int uniap__ranks_agree(int rc, int argc, char **argv, const char *spec, const char *what)
{
    int init = 0;
    char *line;

    MPI_Initialized(&init);
    if (!init)
        return rc;
    if ((rc = uniap__agree(rc)) < 0)
        return rc;
    line = uniap_join_args("uniap", argc, argv);
    rc = line ? 0 : uniap_err(UNIAP_ENOMEM, "out of memory joining the command line");
    if ((rc = uniap_mpi_agree(MPI_COMM_WORLD, rc)) == 0)
        rc = uniap_mpi_same(MPI_COMM_WORLD, line, strlen(line), "arguments");
    if (rc == 0 && spec)
        rc = uniap_mpi_same(MPI_COMM_WORLD, spec, strlen(spec), what);
    free(line);
    return rc;
}

void uniap__human_count(int64_t n, char *buf, size_t len)
{
    if (n >= 1000000000)
        snprintf(buf, len, "%.2f B", (double)n / 1e9);
    else if (n >= 1000000)
        snprintf(buf, len, "%.1f M", (double)n / 1e6);
    else if (n >= 1000)
        snprintf(buf, len, "%.1f K", (double)n / 1e3);
    else
        snprintf(buf, len, "%lld", (long long)n);
}

const char *uniap__escape(const char *s, char *buf, size_t n)
{
    size_t used = 0;

    if (n == 0)
        return buf;
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        char one[8];
        if (*c == '\\')
            snprintf(one, sizeof(one), "\\\\");
        else if (*c == '\n')
            snprintf(one, sizeof(one), "\\n");
        else if (*c == '\t')
            snprintf(one, sizeof(one), "\\t");
        else if (*c == '\r')
            snprintf(one, sizeof(one), "\\r");
        else if (*c < 0x20 || *c == 0x7f)
            snprintf(one, sizeof(one), "\\x%02x", *c);
        else
            one[0] = (char)*c, one[1] = '\0';
        size_t k = strlen(one);
        if (used + k >= n)
            break;
        memcpy(buf + used, one, k);
        used += k;
    }
    buf[used] = '\0';
    return buf;
}
