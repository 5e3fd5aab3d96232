/*
 * commands.h - entry points of `uniap plan` and `uniap estimate` (the
 * profile, archive, model and cluster commands are in cmd_util.h). Each
 * takes the command's own argv (argv[0] = the command name), runs under
 * MPI (initialized by uniap.c) and returns a process exit status.
 */
#ifndef UNIAP_CLI_COMMANDS_H
#define UNIAP_CLI_COMMANDS_H

/* `uniap plan`: cmd_plan.c. */
int uniap_cli_plan(int argc, char **argv);
/* `uniap estimate`: cmd_estimate.c. */
int uniap_cli_estimate(int argc, char **argv);

#endif /* UNIAP_CLI_COMMANDS_H */
