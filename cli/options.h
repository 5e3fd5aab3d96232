/*
 * options.h - the one option parser of every `uniap` command: a command is
 * a table of options (long name, kind, destination, metavar, help); the
 * same table parses the command line, generates `--help` (defaults shown)
 * and the man page, and names the input and output files that must be
 * checked before any work starts.
 *
 * Accepted syntax: `--name value`, `--name=value`, flags `--name`,
 * positional arguments (table entries with UNIAP_OPT_POSITIONAL, consumed
 * in table order), and `--` (everything after it is positional). Refused,
 * each with a message naming the option, the value and what was expected:
 * unknown options, a missing value (also when the "value" is another known
 * option: `--out --global-batch 8`), a repeated option ("--global-batch
 * given twice"), numbers with trailing garbage, overflow (ERANGE), NaN or
 * infinity, values out of the entry's inclusive range, choices not in the
 * list, a value given to a flag, missing required options, extra
 * positional arguments.
 *
 * Built in for every command: --help (-h), --debug (source locations in
 * error messages: uniap_err_set_debug(1)), and the hidden --man (the man
 * page in roff on standard output).
 *
 * Typical use (the table lives on the stack, pointing at the command's own
 * argument struct, whose fields hold the defaults before parsing):
 *
 *     plan_args a = {.time_limit = 5};
 *     uniap_opt opts[] = {
 *         {.name = "model", .kind = UNIAP_OPTK_INPUT, .dest = &a.model, .metavar = "M",
 *          .help = "zoo name or model spec JSON file", .flags = UNIAP_OPT_REQUIRED},
 *         {.name = "global-batch", .kind = UNIAP_OPTK_INT64, .dest = &a.global_batch,
 *          .metavar = "B", .help = "samples per iteration", .min = 1, .max = 1LL << 40,
 *          .flags = UNIAP_OPT_REQUIRED},
 *         {0}};
 *     uniap_cmd cmd = {.name = "plan", .summary = "...", .opts = opts};
 *     int rc = uniap_opts_parse(&cmd, argc, argv);
 *     if (rc == UNIAP_OPTS_HELP) uniap_opts_help(&cmd, stdout);
 */
#ifndef UNIAP_CLI_OPTIONS_H
#define UNIAP_CLI_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

/* What an option's value is, and the type its .dest points to. */
typedef enum {
    UNIAP_OPTK_STRING = 0, /* const char **: the argument itself (not copied) */
    UNIAP_OPTK_INPUT,      /* const char **: a file the command reads (checked
                              against the outputs by uniap_opts_check_files) */
    UNIAP_OPTK_OUTPUT,     /* const char **: a file the command writes */
    UNIAP_OPTK_INT,        /* int *: decimal integer in [min, max] (both within int) */
    UNIAP_OPTK_INT64,      /* int64_t *: decimal integer in [min, max] */
    UNIAP_OPTK_SIZE,       /* int64_t *: bytes; number with optional K, M, G suffix
                              (powers of 1024) and optional B, in [min, max] */
    UNIAP_OPTK_DOUBLE,     /* double *: finite number in [dmin, dmax] (dmin excluded
                              with UNIAP_OPT_GT_MIN) */
    UNIAP_OPTK_FLAG,       /* int *: set to 1 when given; takes no value */
    UNIAP_OPTK_CHOICE,     /* int *: one of .choices; stores .values[i], or i when
                              .values is NULL */
    UNIAP_OPTK_INT_LIST,   /* int *: comma list of integers each in [min, max], at
                              most .max_count; the number parsed goes to *.count */
} uniap_opt_kind;

/* Flags of an option (bitwise or). */
enum {
    UNIAP_OPT_REQUIRED = 1 << 0,   /* parse fails when absent */
    UNIAP_OPT_POSITIONAL = 1 << 1, /* a positional argument: .name is its
                                      display name; STRING or INPUT/OUTPUT */
    UNIAP_OPT_MANY = 1 << 2,       /* last positional only: takes all remaining
                                      arguments into the const char * array
                                      .dest (capacity .max_count, *.count set) */
    UNIAP_OPT_STDOUT = 1 << 3,     /* OUTPUT: "-" means standard output */
    UNIAP_OPT_HIDDEN = 1 << 4,     /* parsed, but not listed in --help / man */
    UNIAP_OPT_GT_MIN = 1 << 5,     /* DOUBLE: value must be > dmin, not >= */
    UNIAP_OPT_MAYBE_FILE = 1 << 6, /* INPUT: a name (zoo, preset) or a file; only
                                      checked against outputs if the file exists */
    UNIAP_OPT_NO_RECORD = 1 << 7,  /* left out of uniap_opts_record (how a command
                                      reports, not what it computes) */
};

/* One table entry; a table ends with an entry whose .name is NULL. */
typedef struct uniap_opt {
    const char *name; /* long name without "--" (e.g. "global-batch") */
    uniap_opt_kind kind;
    void *dest;                 /* see uniap_opt_kind; keeps its value when absent */
    const char *metavar;        /* value placeholder in help ("B", "FILE"); NULL: kind's */
    const char *help;           /* one sentence; wrapped by the help generator */
    const char *def;            /* default shown in help; NULL: rendered from *dest
                                   (numbers, choices; strings only when non-NULL) */
    int64_t min, max;           /* INT, INT64, SIZE, INT_LIST (both 0: the type's range) */
    double dmin, dmax;          /* DOUBLE (both 0: any finite number) */
    const char *const *choices; /* CHOICE: NULL-terminated accepted words */
    const int *values;          /* CHOICE: value stored for choices[i] (or NULL) */
    int *count;                 /* INT_LIST, MANY: number of values stored */
    int max_count;              /* INT_LIST, MANY: capacity of the dest array */
    unsigned flags;             /* UNIAP_OPT_* */
    int given;                  /* output of parse: times given (0 or 1) */
} uniap_opt;

/* A command: its options and the text around them in --help and man. */
typedef struct uniap_cmd {
    const char *name;        /* "plan", "archive verify": shown as "uniap <name>" */
    const char *summary;     /* one line: man NAME section, top of --help */
    const char *synopsis;    /* usage line(s) after "usage: "; NULL: generated */
    const char *description; /* paragraphs (blank-line separated; wrapped at 79
                                columns in --help), or NULL */
    uniap_opt *opts;         /* NULL-name terminated; at most 64 entries */
} uniap_cmd;

/* Parse results beside 0 and the negative uniap_status codes. */
#define UNIAP_OPTS_HELP 1 /* --help / -h given: print uniap_opts_help, exit 0 */
#define UNIAP_OPTS_MAN  2 /* --man given: print uniap_opts_man, exit 0 */
/* --complete given (hidden): print uniap_opts_complete, exit 0 */
#define UNIAP_OPTS_COMPLETE 3

/* Parses argv[1..argc-1] (argv[0] is the command's name and is skipped)
 * into the table's destinations and sets each entry's .given. --help or
 * --man anywhere before `--` wins (nothing else is parsed: the
 * destinations keep their defaults, so help shows them). --debug calls
 * uniap_err_set_debug(1). Returns 0, UNIAP_OPTS_HELP, UNIAP_OPTS_MAN, or
 * UNIAP_EINVAL with a message (uniap_err) naming the option and value; on
 * error some destinations may already be set. Does no MPI and no I/O. */
int uniap_opts_parse(uniap_cmd *cmd, int argc, char **argv);

/* The entry named name (without "--"), or NULL. */
uniap_opt *uniap_opts_find(uniap_cmd *cmd, const char *name);
/* 1 when option name was given on the command line (after parse), else 0. */
int uniap_opts_given(const uniap_cmd *cmd, const char *name);

/* Checks the files the parsed command line names, before any work starts:
 * every given OUTPUT with uniap_output_check (a "-" only with
 * UNIAP_OPT_STDOUT; at most one output may be "-"), and every OUTPUT
 * against every given INPUT with uniap_output_not_input (same device and
 * inode, through links: "--out same.h5 is the same file as --profile").
 * extra_outputs/extra_opts: n_extra more outputs not in the table (e.g. a
 * path derived from an option), or 0. Returns 0 or the first error. */
int uniap_opts_check_files(const uniap_cmd *cmd, const char *const *extra_outputs,
                           const char *const *extra_opts, int n_extra);

/* --help text, generated from the table: usage, description, then every
 * option not HIDDEN with metavar, help and "(default: ...)". */
void uniap_opts_help(const uniap_cmd *cmd, FILE *f);
/* The man page (roff, section 1) from the same table: NAME, SYNOPSIS,
 * DESCRIPTION, OPTIONS (defaults shown), EXIT STATUS. */
void uniap_opts_man(const uniap_cmd *cmd, FILE *f);
/* The hidden --complete (options_complete.c): the table as words for
 * shell completion, one line each, "option --NAME KIND [CHOICE...]" or
 * "positional NAME KIND", KIND one of flag, file, choice, value; the
 * built-ins --debug and --help last. Read by cmake/UniapCompletion.cmake
 * at build time to write the bash completion. */
void uniap_opts_complete(const uniap_cmd *cmd, FILE *f);
/* Prints the failure rc the one way (uniap__print_error in cmd_util.h:
 * "uniap <name>: error: <uniap_errmsg(), escaped>") and a pointer to
 * --help. */
void uniap_opts_print_error(const uniap_cmd *cmd, int rc, FILE *f);

/* The common tail of a command's parse step, rc being what
 * uniap_opts_parse returned: for help/man prints it to stdout (when print)
 * and returns 1 with *exit_status 0; for an error prints it to stderr
 * (when print) and returns 1 with *exit_status the status's exit code (2);
 * for 0 returns 0 (go on) and prints nothing. Under MPI pass print =
 * (rank == 0); when ranks may see different errors, agree on rc first
 * (uniap_mpi_agree) so rank 0 prints the failing rank's message. */
int uniap_opts_finish(const uniap_cmd *cmd, int rc, int print, int *exit_status);

/* ---- a command's options recorded and replayed (options_record.c) ---- */

/* The options' values after parsing (given or default) as one JSON object
 * text {"name": "value", ...} (flags true/false, unset strings null, input
 * files as absolute paths) in *json (malloc'd, the caller frees); outputs,
 * positional, hidden and UNIAP_OPT_NO_RECORD entries are left out. */
int uniap_opts_record(const uniap_cmd *cmd, char **json);
/* Before parsing a command line that a record completes: drops
 * UNIAP_OPT_REQUIRED from the entries json holds. */
void uniap_opts_relax_required(uniap_cmd *cmd, const char *json);
/* After parsing: stores every value of the record json (source names it in
 * messages) whose option the command line did not give, through the
 * option's own parser, and marks it given; then checks the required
 * options. EINVAL naming source and the key for an unknown key or a bad
 * value. *keep (uniap_opts_replay_free, after the last use of the
 * options) holds the strings the destinations point into. */
int uniap_opts_replay(uniap_cmd *cmd, const char *json, const char *source, void **keep);
/* The same for the keys listed (NULL-terminated) only: the record's other
 * keys are skipped, and no required option is checked. For a command that
 * takes some of a plan's settings (estimate: the training settings). */
int uniap_opts_replay_keys(uniap_cmd *cmd, const char *json, const char *source,
                           const char *const *keys, void **keep);
void uniap_opts_replay_free(void *keep);
/* The text a record (uniap_opts_record's JSON; NULL: none) holds for the
 * option name, into buf of n bytes: 1, or 0 with buf "" when the record
 * has no such string or it does not fit. */
int uniap_opts_record_value(const char *json, const char *name, char *buf, size_t n);

#endif /* UNIAP_CLI_OPTIONS_H */
