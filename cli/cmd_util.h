/*
 * cmd_util.h - the entry points of every `uniap` command (one file each in
 * cli/: cmd_profile.c, cmd_plan.c, cmd_estimate.c, cmd_archive.c,
 * cmd_model.c, cmd_cluster.c) and the steps they all share: which rank
 * this is, reporting a failure once in one style, and the start-up
 * agreement of the MPI ranks on their arguments and inputs.
 */
#ifndef UNIAP_CLI_CMD_UTIL_H
#define UNIAP_CLI_CMD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "options.h"
#include "uniap_io_mpi.h"

/* The commands: argv[0] is the command's name; each returns a process exit
 * status (uniap_exit_code of the outcome). MPI is initialized by main. */
int uniap_cli_profile(int argc, char **argv);
int uniap_cli_plan(int argc, char **argv);
int uniap_cli_estimate(int argc, char **argv);
int uniap_cli_archive(int argc, char **argv);
int uniap_cli_model(int argc, char **argv);
int uniap_cli_cluster(int argc, char **argv);
int uniap_cli_show(int argc, char **argv);
int uniap_cli_compare(int argc, char **argv);

/* This process's rank in MPI_COMM_WORLD (0 when MPI is not initialized). */
int uniap__world_rank(void);

/* The one style of a failure message: "uniap <cmd>: error: <message>"
 * ("stopped" instead of "error" for UNIAP_EINTR), cmd being the command's
 * name ("plan", "archive merge"; NULL or "": "uniap: error: ..."), message
 * uniap_errmsg() with its control characters escaped as "\xNN" (the line
 * breaks and tabs of multi-line messages kept). Prints on f whatever the
 * rank. */
void uniap__print_error(FILE *f, const char *cmd, int rc);

/* uniap__print_error on stderr from rank 0; returns the exit code of rc
 * (rc < 0). */
int uniap__report(const char *cmd, int rc);

/* The agreement after parsing, collective over MPI_COMM_WORLD (rc itself
 * without MPI): rc is what this rank's parse returned (0, UNIAP_OPTS_HELP
 * or _MAN, or an error). Every rank returns the lowest failing rank's
 * error; else, when some rank asked for help, every rank returns its rc
 * if all ranks have the same command line (uniap__ranks_agree) and the
 * refusal otherwise, so that no rank goes on alone; else 0. */
int uniap__agree_parse(int rc, int argc, char **argv);

/* The start-up agreement of the ranks, the one mechanism of every command,
 * collective over MPI_COMM_WORLD (a no-op returning rc without MPI): rc is
 * this rank's outcome of parsing and loading its inputs; the lowest
 * failing rank's status and message reach every rank (uniap_mpi_agree).
 * When all succeeded, refuses (UNIAP_EINVAL, naming the first rank that
 * differs and what) unless every rank has the same command line (argv
 * joined) and the same n texts (texts[i], named whats[i] in the message:
 * canonical specs, checksums; a NULL text counts as ""). Returns the same
 * status on every rank. */
int uniap__ranks_agree(int rc, int argc, char **argv, int n, const char *const *texts,
                       const char *const *whats);

/* What `uniap model` and `uniap cluster` differ in, for their one driver
 * uniap__spec_command (spec_cmd.c). */
typedef struct uniap__spec_cmd {
    uniap_cmd cmd; /* name, summary, synopsis, description (opts: the driver's) */
    const char *json_help, *list_help, *target_help; /* --json, --list, NAME|FILE */
    const char *what;                                /* "model spec": named when ranks differ */
    int (*list)(void);                               /* prints the bundled names (rank 0) */
    /* Loads target into spec and its canonical JSON into *json (malloc'd,
     * freed by the driver); may print warnings from rank 0. */
    int (*load)(const char *target, void *spec, char **json);
    void (*print)(const void *spec); /* the spec as a table on stdout */
    void (*release)(void *spec);     /* after load, also a failed one; NULL: none */
} uniap__spec_cmd;

/* `uniap <model|cluster> [--json] NAME|FILE` and `--list`: parse, load on
 * every rank, uniap__ranks_agree on the canonical JSON, print on rank 0
 * (the JSON with --json, else sc->print), or report the failure. spec is
 * the caller's storage of the loaded spec. Returns the exit status. */
int uniap__spec_command(const uniap__spec_cmd *sc, void *spec, int argc, char **argv);

/* --model, --cluster and --profile of a command that reads plan files
 * (show, compare): each defaults to what the plan file names. */
typedef struct uniap__plan_inputs {
    const char *model, *cluster, *profile; /* NULL: the plan's */
} uniap__plan_inputs;
#define UNIAP__PLAN_INPUT_OPTS 3 /* entries uniap__plan_inputs_opts appends */

/* Zeroes a and appends its three option entries at opts[*n], advancing *n;
 * whose ("the plan's", "the first plan's": static storage, kept by
 * reference) is their default text. */
void uniap__plan_inputs_opts(uniap__plan_inputs *a, const char *whose, uniap_opt *opts, int *n);

/* The model, cluster and profile to evaluate plan p with: those given in a,
 * else p's; the profile NULL when neither names one (p's "analytic" or
 * none: the analytic device model). The strings are a's or p's (borrowed). */
void uniap__plan_inputs_pick(const uniap__plan_inputs *a, const char *plan_model,
                             const char *plan_cluster, const char *plan_profile, const char **model,
                             const char **cluster, const char **profile);

/* The training settings a plan file records in its "search" object
 * (NULL-terminated option names), which estimate and compare take from the
 * plan unless given (uniap_opts_replay_keys): a plan is priced as it was
 * searched (its precision, sequence length, attention, ...). */
extern const char *const uniap__plan_training_keys[];

/* "6.74 B", "632.0 M", "12.3 K", "553". */
void uniap__human_count(int64_t n, char *buf, size_t len);

/* s with control characters (below 0x20, and 0x7f) and backslashes escaped
 * ("\x1b", "\n", "\\"), into buf (always NUL-terminated, truncated to
 * fit); returns buf. For printing strings read from files. */
const char *uniap__escape(const char *s, char *buf, size_t n);

#endif
