/*
 * cmd_util.c - steps shared by every command (see cmd_util.h): the rank,
 * the one failure message style, the ranks' start-up agreement, the
 * inputs of the commands that read plan files.
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

void uniap__print_error(FILE *f, const char *cmd, int rc)
{
    /* messages quote file names and values: control characters escaped,
     * line breaks and tabs of multi-line messages kept */
    fprintf(f, "uniap%s%s: %s: ", cmd && cmd[0] ? " " : "", cmd ? cmd : "",
            rc == UNIAP_EINTR ? "stopped" : "error");
    for (const unsigned char *c = (const unsigned char *)uniap_errmsg(); *c; c++) {
        if ((*c < 0x20 && *c != '\n' && *c != '\t') || *c == 0x7f)
            fprintf(f, "\\x%02x", *c);
        else
            fputc(*c, f);
    }
    fputc('\n', f);
}

int uniap__report(const char *cmd, int rc)
{
    if (uniap__world_rank() == 0)
        uniap__print_error(stderr, cmd, rc);
    return uniap_exit_code(rc);
}

static int mpi_on(void)
{
    int init = 0, fini = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fini);
    return init && !fini;
}

/* uniap_mpi_agree over MPI_COMM_WORLD when MPI is on (rc itself
 * otherwise); positive rc (help asked for) passes through unchanged. */
static int agree(int rc)
{
    if (!mpi_on() || rc > 0)
        return rc;
    return uniap_mpi_agree(MPI_COMM_WORLD, rc);
}

int uniap__agree_parse(int rc, int argc, char **argv)
{
    int help = rc > 0, any_help = 0, arc;
    if (!mpi_on())
        return rc;
    if ((arc = uniap_mpi_agree(MPI_COMM_WORLD, rc < 0 ? rc : 0)) < 0)
        return arc;
    if (MPI_Allreduce(&help, &any_help, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return uniap_err(UNIAP_ELIB, "MPI_Allreduce of the --help flags failed");
    if (!any_help)
        return 0;
    /* help on some rank: only when every rank asked for it alike */
    arc = uniap__ranks_agree(0, argc, argv, 0, NULL, NULL);
    return arc < 0 ? arc : rc;
}

int uniap__ranks_agree(int rc, int argc, char **argv, int n, const char *const *texts,
                       const char *const *whats)
{
    char *line;

    if (!mpi_on())
        return rc;
    if ((rc = agree(rc)) < 0)
        return rc;
    line = uniap_join_args("uniap", argc, argv);
    rc = line ? 0 : uniap_err(UNIAP_ENOMEM, "out of memory joining the command line");
    if ((rc = uniap_mpi_agree(MPI_COMM_WORLD, rc)) == 0)
        rc = uniap_mpi_same(MPI_COMM_WORLD, line, strlen(line), "command line");
    for (int i = 0; i < n && rc == 0; i++) {
        const char *t = texts[i] ? texts[i] : "";
        rc = uniap_mpi_same(MPI_COMM_WORLD, t, strlen(t), whats[i]);
    }
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

const char *const uniap__plan_training_keys[] = {"attention",  "dropout",      "checkpointing",
                                                 "grad-dtype", "master-dtype", "optimizer",
                                                 "precision",  "seq-len",      NULL};

void uniap__plan_inputs_opts(uniap__plan_inputs *a, const char *whose, uniap_opt *opts, int *n)
{
    memset(a, 0, sizeof(*a));
    const uniap_opt t[UNIAP__PLAN_INPUT_OPTS] = {
        {.name = "model",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->model,
         .metavar = "M",
         .def = whose,
         .flags = UNIAP_OPT_MAYBE_FILE,
         .help = "zoo name or model spec file"},
        {.name = "cluster",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->cluster,
         .metavar = "C",
         .def = whose,
         .flags = UNIAP_OPT_MAYBE_FILE,
         .help = "cluster preset or cluster spec file"},
        {.name = "profile",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &a->profile,
         .metavar = "P.h5",
         .def = whose,
         .help = "profile dataset (none when the plan's is analytic: the analytic device model)"},
    };
    for (int i = 0; i < UNIAP__PLAN_INPUT_OPTS; i++)
        opts[(*n)++] = t[i];
}

void uniap__plan_inputs_pick(const uniap__plan_inputs *a, const char *plan_model,
                             const char *plan_cluster, const char *plan_profile, const char **model,
                             const char **cluster, const char **profile)
{
    *model = a->model ? a->model : plan_model;
    *cluster = a->cluster ? a->cluster : plan_cluster;
    *profile = a->profile                                                 ? a->profile
               : plan_profile[0] && strcmp(plan_profile, "analytic") != 0 ? plan_profile
                                                                          : NULL;
}
