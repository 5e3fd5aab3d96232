/*
 * archive_show.h - the work of `uniap archive` (cmd_archive.c parses the
 * options): a catalogue row per dataset, a dataset's summary, one file's
 * verification, and the CSV export. Every string read from a file is
 * printed with its control characters escaped.
 */
#ifndef UNIAP_CLI_ARCHIVE_SHOW_H
#define UNIAP_CLI_ARCHIVE_SHOW_H

/* The CSV tables in export order, NULL terminated ("root", "ranks",
 * "layers", "collectives", "inputs"). */
extern const char *const uniap__archive_tables[];

/* The catalogue's header line, then one row for the file at path (shown as
 * name); a file that cannot be read is listed as CORRUPT with the reason
 * and the row returns the read's status (0 otherwise). */
void uniap__archive_list_header(void);
int uniap__archive_list_row(const char *path, const char *name);
/* Prints the summary of the dataset at path. */
int uniap__archive_show(const char *path);
/* Reads, validates and checks the completeness and root values of one
 * file, printing "OK    <file> ..." or "FAIL  <file>: <reason>". */
int uniap__archive_verify_one(const char *path);
/* Writes the tables of the dataset at path as CSV: table < 0 every table
 * into folder dir (created when missing; all files or none), else that one
 * table into dir/<table>.csv or, for dir "-", to standard output. Every
 * output is checked before the dataset is read. */
int uniap__archive_export(const char *path, const char *dir, int table);
/* `uniap archive import` (cmd_import.c): argv[0] is "import"; the exit
 * status. */
int uniap__archive_import(int argc, char **argv);

/* archive_json.c: one dataset as a JSON object (verify: an incomplete
 * dataset is not ok; *status: the read's outcome, 0 or < 0), and the document {"format":
 * "uniap-archive", "version": 1, "command", "datasets"} printed on stdout (takes datasets). */
#include <cjson/cJSON.h>
cJSON *uniap__archive_json_dataset(const char *path, int verify, int *status);
int uniap__archive_json_print(const char *command, cJSON *datasets);

#endif
