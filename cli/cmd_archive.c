/*
 * cmd_archive.c - `uniap archive`: the tools for folders of profile
 * datasets. list DIR (a catalogue, corrupt files listed as such), show
 * FILE (a summary of what is inside), verify FILE... (schema, checksums,
 * completeness, root values; non-zero exit with the reason on any
 * failure), merge OUT IN... and export FILE --csv DIR|- (io's back ends),
 * import --from TOOL SRC ... (cmd_import.c).
 * Every string read from a file is printed with its control characters
 * escaped. Under MPI the ranks first agree on their command line
 * (uniap__ranks_agree); then rank 0 alone does the work. Output goes to
 * stdout from rank 0 only; errors to stderr.
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive_show.h"
#include "cmd_util.h"
#include "options.h"
#include "uniap_io.h"

#define MAX_FILES 4096

static const char archive_usage[] =
    "usage: uniap archive <command> [options]   (uniap archive <command> --help)\n"
    "\n"
    "  list DIR                  catalogue of the profile datasets (*.h5, *.hdf5) in DIR:\n"
    "                            model, devices, world size, backend, date, complete, size;\n"
    "                            unreadable files are listed as CORRUPT with the reason\n"
    "  show FILE                 what a dataset holds, summarised\n"
    "  verify FILE...            schema, Fletcher32 checksums and completeness of each file;\n"
    "                            exit status 0 only when every file passes\n"
    "  merge [--force] OUT IN... one dataset from several (tables concatenated in input\n"
    "                            order, each input's provenance kept in /inputs); refuses\n"
    "                            inputs of different devices unless --force (default: off)\n"
    "  export FILE --csv DIR     the tables as CSV files in DIR (created when missing);\n"
    "                            --csv - --table T writes one table to standard output\n"
    "  import --from TOOL SRC --model M --cluster C --out P.h5\n"
    "                            a peer's published profile (galvatron, amp, sailor, metis,\n"
    "                            mist) as a dataset, provenance imported:TOOL, its\n"
    "                            assumptions as notes\n"
    "\n"
    "Exit status: 0 ok, 2 bad input or a corrupt/foreign/incomplete dataset, 1 other errors.\n";

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The *.h5 / *.hdf5 names in dir, sorted, into a malloc'd array. */
static int list_names(const char *dir, char ***names, int *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int cap = 0, rc = 0;

    *names = NULL;
    *n = 0;
    if (!d)
        return uniap_err(UNIAP_EIO, "%s: cannot open the folder", dir);
    while (rc == 0 && (e = readdir(d))) {
        if (!has_suffix(e->d_name, ".h5") && !has_suffix(e->d_name, ".hdf5"))
            continue;
        if (*n == cap) {
            char **nn = realloc(*names, sizeof(char *) * (size_t)(cap = cap ? 2 * cap : 16));
            if (!nn) {
                rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory listing", dir);
                break;
            }
            *names = nn;
        }
        if (!((*names)[*n] = strdup(e->d_name)))
            rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory listing", dir);
        else
            (*n)++;
    }
    closedir(d);
    if (*n > 0) /* qsort(NULL, 0) is undefined */
        qsort(*names, (size_t)*n, sizeof(**names), cmp_names);
    return rc;
}

/* --format text|json of list, show and verify (json: archive_json.c) */
static const char *const format_names[] = {"text", "json", NULL};
#define FORMAT_OPT(var)                                                                            \
    {                                                                                              \
        .name = "format", .kind = UNIAP_OPTK_CHOICE, .dest = var, .choices = format_names,         \
        .help = "text (tables) or json: one JSON document on stdout (format uniap-archive, "       \
                "version 1)"                                                                       \
    }

static int cmd_list(int argc, char **argv)
{
    const char *dir = NULL;
    char **names = NULL, path[PATH_MAX];
    int n = 0, corrupt = 0, rc, status, json = 0;
    uniap_opt opts[] = {{.name = "DIR",
                         .kind = UNIAP_OPTK_STRING,
                         .dest = &dir,
                         .flags = UNIAP_OPT_POSITIONAL | UNIAP_OPT_REQUIRED,
                         .help = "folder of profile datasets"},
                        FORMAT_OPT(&json),
                        {0}};
    uniap_cmd cmd = {.name = "archive list",
                     .summary = "catalogue of the profile datasets (*.h5, *.hdf5) in a folder",
                     .description = "Lists model, devices, world size, backend, date, "
                                    "completeness and size of each dataset; unreadable files "
                                    "are listed as CORRUPT with the reason.",
                     .opts = opts};

    if (uniap_opts_finish(&cmd, uniap_opts_parse(&cmd, argc, argv), 1, &status))
        return status;
    if ((rc = list_names(dir, &names, &n)) < 0)
        goto free_names;
    if (json) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; arr && i < n && rc == 0; i++) {
            if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path))
                rc = uniap_err(UNIAP_EINVAL, "%s/%s: path too long", dir, names[i]);
            else
                cJSON_AddItemToArray(arr, uniap__archive_json_dataset(path, 0, &(int){0}));
        }
        if (rc == 0)
            rc = uniap__archive_json_print("list", arr);
        else
            cJSON_Delete(arr);
        goto free_names;
    }
    uniap__archive_list_header();
    for (int i = 0; i < n; i++) {
        if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= (int)sizeof(path)) {
            rc = uniap_err(UNIAP_EINVAL, "%s/%s: path too long", dir, names[i]);
            break;
        }
        corrupt += uniap__archive_list_row(path, names[i]) < 0;
    }
    if (rc == 0)
        printf("%d dataset%s, %d corrupt\n", n, n == 1 ? "" : "s", corrupt);
free_names:
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc < 0 ? uniap__report("archive", rc) : 0;
}

static int cmd_show(int argc, char **argv)
{
    const char *file = NULL;
    int rc, status, json = 0;
    uniap_opt opts[] = {{.name = "FILE",
                         .kind = UNIAP_OPTK_INPUT,
                         .dest = &file,
                         .flags = UNIAP_OPT_POSITIONAL | UNIAP_OPT_REQUIRED,
                         .help = "profile dataset"},
                        FORMAT_OPT(&json),
                        {0}};
    uniap_cmd cmd = {.name = "archive show",
                     .summary = "what a profile dataset holds, summarised",
                     .opts = opts};

    if (uniap_opts_finish(&cmd, uniap_opts_parse(&cmd, argc, argv), 1, &status))
        return status;
    if (json) { /* the dataset, or why it cannot be read (exit as the text form) */
        int st;
        cJSON *arr = cJSON_CreateArray(), *d = uniap__archive_json_dataset(file, 0, &st);
        char *why = st == 0 || !d ? NULL : strdup(cJSON_GetObjectItem(d, "error")->valuestring);
        if (arr && d)
            cJSON_AddItemToArray(arr, d);
        else
            cJSON_Delete(d);
        if (st == 0) {
            rc = uniap__archive_json_print("show", arr);
        } else { /* unreadable: the message on stderr, as the text form */
            cJSON_Delete(arr);
            rc = uniap_err(st, "%s", why ? why : "out of memory");
        }
        free(why);
    } else
        rc = uniap__archive_show(file);
    return rc < 0 ? uniap__report("archive", rc) : 0;
}

static int cmd_verify(int argc, char **argv)
{
    const char *files[MAX_FILES];
    int n = 0, worst = 0, status, json = 0;
    uniap_opt opts[] = {{.name = "FILE",
                         .kind = UNIAP_OPTK_INPUT,
                         .dest = files,
                         .flags = UNIAP_OPT_POSITIONAL | UNIAP_OPT_REQUIRED | UNIAP_OPT_MANY,
                         .count = &n,
                         .max_count = MAX_FILES,
                         .help = "profile datasets"},
                        FORMAT_OPT(&json),
                        {0}};
    uniap_cmd cmd = {.name = "archive verify",
                     .summary = "check the schema, checksums and completeness of datasets",
                     .description = "Exit status 0 only when every file passes.",
                     .opts = opts};

    if (uniap_opts_finish(&cmd, uniap_opts_parse(&cmd, argc, argv), 1, &status))
        return status;
    if (json) { /* every file's verdict; the exit status as the text form's */
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; arr && i < n; i++) {
            int st;
            cJSON *d = uniap__archive_json_dataset(files[i], 1, &st);
            if (st < 0 && worst == 0)
                worst = st;
            cJSON_AddItemToArray(arr, d);
        }
        int rc = uniap__archive_json_print("verify", arr);
        return rc < 0 ? uniap__report("archive", rc) : uniap_exit_code(worst);
    }
    for (int i = 0; i < n; i++) {
        int rc = uniap__archive_verify_one(files[i]);
        if (rc < 0 && worst == 0)
            worst = rc;
    }
    uniap_err_clear();
    return uniap_exit_code(worst);
}

static int cmd_merge(int argc, char **argv)
{
    const char *out = NULL, *ins[MAX_FILES], *in_opts[MAX_FILES];
    char *line = NULL;
    int n = 0, force = 0, rc, status;
    uniap_opt opts[] = {{.name = "force",
                         .kind = UNIAP_OPTK_FLAG,
                         .dest = &force,
                         .help = "merge inputs measured on different devices"},
                        {.name = "OUT",
                         .kind = UNIAP_OPTK_OUTPUT,
                         .dest = &out,
                         .flags = UNIAP_OPT_POSITIONAL | UNIAP_OPT_REQUIRED,
                         .help = "merged dataset to write"},
                        {.name = "IN",
                         .kind = UNIAP_OPTK_INPUT,
                         .dest = ins,
                         .flags = UNIAP_OPT_POSITIONAL | UNIAP_OPT_REQUIRED | UNIAP_OPT_MANY,
                         .count = &n,
                         .max_count = MAX_FILES,
                         .help = "datasets to merge"},
                        {0}};
    uniap_cmd cmd = {.name = "archive merge",
                     .summary = "one profile dataset from several",
                     .description = "Tables are concatenated in input order, each input's "
                                    "provenance kept in /inputs. Inputs of different devices are "
                                    "refused unless --force.",
                     .opts = opts};

    if (uniap_opts_finish(&cmd, uniap_opts_parse(&cmd, argc, argv), 1, &status))
        return status;
    for (int i = 0; i < n; i++)
        in_opts[i] = "IN";
    /* the output is checked before any input is read */
    if ((rc = uniap_opts_check_files(&cmd, NULL, NULL, 0)) < 0 ||
        (rc = uniap_output_not_input("OUT", out, ins, in_opts, n)) < 0)
        goto report;
    if (!(line = uniap_join_args("uniap archive", argc, argv))) {
        rc = uniap_err(UNIAP_ENOMEM, "out of memory joining the command line");
        goto report;
    }
    rc = uniap_profile_merge(out, (char *const *)ins, n, force, line);
    free(line);
    if (rc < 0)
        goto report;
    printf("merged %d inputs into %s\n", n, out);
    return 0;
report:
    return uniap__report("archive", rc);
}

static int cmd_export(int argc, char **argv)
{
    const char *file = NULL, *dir = NULL;
    int table = -1, rc, status;
    uniap_opt opts[] = {
        {.name = "FILE",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &file,
         .flags = UNIAP_OPT_POSITIONAL | UNIAP_OPT_REQUIRED,
         .help = "profile dataset"},
        {.name = "csv",
         .kind = UNIAP_OPTK_STRING,
         .dest = &dir,
         .metavar = "DIR",
         .flags = UNIAP_OPT_REQUIRED,
         .help = "folder for the CSV files (created when missing), or - for standard output "
                 "(with --table)"},
        {.name = "table",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &table,
         .choices = uniap__archive_tables,
         .def = "all",
         .help = "only this table (required with --csv -)"},
        {0}};
    uniap_cmd cmd = {.name = "archive export",
                     .summary = "a profile dataset's tables as CSV files",
                     .opts = opts};

    if (uniap_opts_finish(&cmd, uniap_opts_parse(&cmd, argc, argv), 1, &status))
        return status;
    rc = uniap__archive_export(file, dir, table);
    return rc < 0 ? uniap__report("archive", rc) : 0;
}

int uniap_cli_archive(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } sub[] = {{"list", cmd_list},   {"show", cmd_show},     {"verify", cmd_verify},
               {"merge", cmd_merge}, {"export", cmd_export}, {"import", uniap__archive_import}};
    const char *name = argc > 1 ? argv[1] : NULL;

    uniap_err_clear();
    /* the one start-up agreement of every command: the same command line */
    int rc = uniap__ranks_agree(0, argc, argv, 0, NULL, NULL);
    if (rc < 0)
        return uniap__report("archive", rc);
    if (!name || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (uniap__world_rank() == 0)
            fputs(archive_usage, name ? stdout : stderr);
        return name ? 0 : 2;
    }
    if (uniap__world_rank() != 0) /* archive work is serial: rank 0 does it */
        return 0;
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
        if (strcmp(name, sub[i].name) == 0)
            return sub[i].run(argc - 1, argv + 1);
    fprintf(stderr, "uniap archive: error: unknown command '%s'\n\n%s", name, archive_usage);
    return 2;
}
