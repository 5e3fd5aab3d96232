/*
 * spec_cmd.c - the one driver of `uniap model` and `uniap cluster` (see
 * uniap__spec_command in cmd_util.h): NAME|FILE, --json, --list; every
 * rank parses and loads, the ranks agree on the outcome and on their
 * inputs (uniap__ranks_agree), only rank 0 prints.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd_util.h"
#include "uniap_io.h"

int uniap__spec_command(const uniap__spec_cmd *sc, void *spec, int argc, char **argv)
{
    const char *target = NULL, *texts[1];
    char *json = NULL;
    static const char *const formats[] = {"text", "json", NULL};
    int as_json = 0, format = 0, list = 0, rc, status, rank = uniap__world_rank();
    uniap_opt opts[] = {
        {.name = "json", .kind = UNIAP_OPTK_FLAG, .dest = &as_json, .help = sc->json_help},
        {.name = "format",
         .kind = UNIAP_OPTK_CHOICE,
         .dest = &format,
         .choices = formats,
         .help = "text (a table) or json (as --json)"},
        {.name = "list", .kind = UNIAP_OPTK_FLAG, .dest = &list, .help = sc->list_help},
        {.name = "NAME|FILE",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &target,
         .flags = UNIAP_OPT_POSITIONAL | UNIAP_OPT_MAYBE_FILE,
         .help = sc->target_help},
        {0}};
    uniap_cmd cmd = sc->cmd;

    cmd.opts = opts;
    uniap_err_clear();
    rc = uniap_opts_parse(&cmd, argc, argv);
    if (rc == 0 && !list && !target)
        rc = uniap_err(UNIAP_EINVAL, "expected NAME|FILE (or --list), got nothing");
    rc = uniap__agree_parse(rc, argc, argv);
    if (uniap_opts_finish(&cmd, rc, rank == 0, &status))
        return status;
    as_json |= format == 1;
    if (list)
        return rank == 0 && (rc = sc->list()) < 0 ? uniap__report(cmd.name, rc) : 0;
    rc = sc->load(target, spec, &json);
    /* the failing rank's own message reaches rank 0; then the same inputs */
    texts[0] = json;
    rc = uniap__ranks_agree(rc, argc, argv, 1, texts, &sc->what);
    if (rc == 0 && rank == 0) {
        if (as_json)
            printf("%s\n", json);
        else
            sc->print(spec);
        if (fflush(stdout) != 0)
            rc = uniap_err(UNIAP_EIO, "standard output: write failed");
    }
    free(json);
    if (sc->release)
        sc->release(spec);
    return rc < 0 ? uniap__report(cmd.name, rc) : 0;
}
