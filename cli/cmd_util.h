/*
 * cmd_util.h - the entry points of `uniap profile`, `archive`, `model` and
 * `cluster` (one file each in cli/), and the few steps they share: which
 * rank this is, reporting a failure once, and the start-up agreement of
 * the MPI ranks on their inputs.
 */
#ifndef UNIAP_CLI_CMD_UTIL_H
#define UNIAP_CLI_CMD_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The commands: argv[0] is the command's name; each returns a process exit
 * status (uniap_exit_code of the outcome). MPI is initialized by main. */
int uniap_cli_profile(int argc, char **argv);
int uniap_cli_archive(int argc, char **argv);
int uniap_cli_model(int argc, char **argv);
int uniap_cli_cluster(int argc, char **argv);

/* This process's rank in MPI_COMM_WORLD (0 when MPI is not initialized). */
int uniap__world_rank(void);

/* Prints "<prefix>: <uniap_errmsg()>" on stderr from rank 0 and returns the
 * exit code of rc (rc < 0). */
int uniap__report(const char *prefix, int rc);

/* uniap_mpi_agree over MPI_COMM_WORLD when MPI is initialized (rc itself
 * otherwise); positive rc (help asked for) passes through unchanged. */
int uniap__agree(int rc);

/* The start-up agreement of the ranks, collective over MPI_COMM_WORLD
 * (a no-op without MPI): rc is this rank's outcome of parsing and loading
 * its inputs; the lowest failing rank's status and message reach every
 * rank (uniap_mpi_agree). When all succeeded, refuses unless every rank has
 * the same command line (argv joined) and the same canonical spec text
 * `spec` (NULL: none), named `what` in the message with the differing rank.
 * Returns the same status on every rank. */
int uniap__ranks_agree(int rc, int argc, char **argv, const char *spec, const char *what);

/* "6.74 B", "632.0 M", "12.3 K", "553". */
void uniap__human_count(int64_t n, char *buf, size_t len);

/* s with control characters (below 0x20, and 0x7f) and backslashes escaped
 * ("\x1b", "\n", "\\"),
 * into buf (always NUL-terminated, truncated to fit); returns buf. For
 * printing strings read from files. */
const char *uniap__escape(const char *s, char *buf, size_t n);

#endif
