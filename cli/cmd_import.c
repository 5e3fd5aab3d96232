/*
 * cmd_import.c - `uniap archive import --from TOOL SRC --model M --cluster
 * C --out P.h5`: a peer's published profile (Galvatron, AMP, Sailor,
 * Metis, Mist; the importer table of costmodel/import.c) as a uniap
 * dataset, provenance "imported:<tool>", with the import's notes (every
 * assumption it made) stored in the dataset and printed. The output is
 * written only when the whole import succeeded (uniap_profile_write: a
 * temporary renamed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_show.h"
#include "cmd_util.h"
#include "options.h"
#include "uniap_costmodel.h"
#include "uniap_io.h"

/* Prints the notes, one "note: " line each. */
static void print_notes(const char *notes)
{
    for (const char *l = notes; l && *l;) {
        size_t n = strcspn(l, "\n");
        printf("note: %.*s\n", (int)n, l);
        l += n + (l[n] == '\n');
    }
}

int uniap__archive_import(int argc, char **argv)
{
    const char *src = NULL, *model = NULL, *cluster = NULL, *out = NULL;
    char *line = NULL;
    int from = -1, rc, status;
    uniap_model m;
    uniap_cluster c;
    uniap_profile p;
    uniap_opt opts[] = {{.name = "from",
                         .kind = UNIAP_OPTK_CHOICE,
                         .dest = &from,
                         .choices = uniap_importer_names(),
                         .flags = UNIAP_OPT_REQUIRED,
                         .help = "the tool whose published profile SRC is"},
                        {.name = "SRC",
                         .kind = UNIAP_OPTK_STRING,
                         .dest = &src,
                         .flags = UNIAP_OPT_POSITIONAL | UNIAP_OPT_REQUIRED,
                         .help = "galvatron: a models/<model>/configs folder; amp: the "
                                 "known_cost folder or one <model>_<G4|P3>_<mp>.json; sailor: "
                                 "a profiles/<model>/<gpu> folder or its profile.json; metis: "
                                 "the folder of DeviceType.<gpu>_tp<t>_bs<b>.json or one of "
                                 "them; mist: a node_database/cache_<gpu> folder or the "
                                 "node_database folder"},
                        {.name = "model",
                         .kind = UNIAP_OPTK_INPUT,
                         .dest = &model,
                         .metavar = "M",
                         .flags = UNIAP_OPT_REQUIRED | UNIAP_OPT_MAYBE_FILE,
                         .help = "zoo name (uniap model) or model spec JSON file"},
                        {.name = "cluster",
                         .kind = UNIAP_OPTK_INPUT,
                         .dest = &cluster,
                         .metavar = "C",
                         .flags = UNIAP_OPT_REQUIRED | UNIAP_OPT_MAYBE_FILE,
                         .help = "cluster preset or cluster spec JSON file (the measured "
                                 "machine)"},
                        {.name = "out",
                         .kind = UNIAP_OPTK_OUTPUT,
                         .dest = &out,
                         .metavar = "P.h5",
                         .flags = UNIAP_OPT_REQUIRED,
                         .help = "profile dataset to write"},
                        {0}};
    uniap_cmd cmd = {.name = "archive import",
                     .summary = "a peer's published profile as a uniap dataset",
                     .description = "Reads Galvatron's, AMP's, Sailor's or Metis's published "
                                    "profiling files, or Mist's per-operator latency cache "
                                    "(summed into layers), for the model on the cluster; what "
                                    "they lack comes "
                                    "from the analytic model, each such assumption a note "
                                    "stored in the dataset (root attribute notes) and printed. "
                                    "Nothing is written on error.",
                     .opts = opts};

    memset(&m, 0, sizeof(m));
    memset(&p, 0, sizeof(p));
    if (uniap_opts_finish(&cmd, uniap_opts_parse(&cmd, argc, argv), 1, &status))
        return status;
    if ((rc = uniap_opts_check_files(&cmd, NULL, NULL, 0)) < 0 ||
        (rc = uniap_output_check("--out", out, 0)) < 0 ||
        (rc = uniap_output_not_input("--out", out, &src, (const char *const[]){"SRC"}, 1)) < 0 ||
        (rc = uniap_model_resolve(model, &m)) < 0 || (rc = uniap_cluster_resolve(cluster, &c)) < 0)
        goto done;
    const char *tool = uniap_importer_names()[from];
    if ((rc = uniap_profile_import(tool, src, &m, &c, &p)) < 0)
        goto done;
    if (!(line = uniap_join_args("uniap archive", argc, argv))) {
        rc = uniap_err(UNIAP_ENOMEM, "out of memory joining the command line");
        goto done;
    }
    p.command_line = line;
    if ((rc = uniap_profile_write(out, &p)) < 0)
        goto done;
    printf("imported %s %s: %d layer rows, %d collective rows, provenance %s -> %s\n", tool, src,
           p.n_layers, p.n_colls, p.provenance, out);
    print_notes(p.notes);
done:
    uniap_profile_free(&p); /* frees line, held by p.command_line */
    uniap_model_free(&m);
    return rc < 0 ? uniap__report("archive", rc) : 0;
}
