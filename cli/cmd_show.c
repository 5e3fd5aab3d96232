/*
 * cmd_show.c - `uniap show PLAN.json --svg out.svg [--html out.html]`: a
 * plan file as a picture (plan_svg.c). The plan is evaluated again under
 * the cost model, as `uniap estimate --plan` does (the command runs
 * estimate's path with the picture outputs), on the model, cluster and
 * profile the plan file names unless --model, --cluster, --profile say
 * otherwise. Bad input exits 2 and writes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "uniap_costmodel.h"

int uniap_cli_show(int argc, char **argv)
{
    const char *plan = NULL, *svg = NULL, *html = NULL;
    uniap__plan_inputs pi;
    uniap_opt opts[4 + UNIAP__PLAN_INPUT_OPTS] = {
        {.name = "PLAN",
         .kind = UNIAP_OPTK_INPUT,
         .dest = &plan,
         .flags = UNIAP_OPT_POSITIONAL | UNIAP_OPT_REQUIRED,
         .help = "plan JSON as uniap plan writes it"},
        {.name = "svg",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &svg,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "the picture as SVG (- : standard output)"},
        {.name = "html",
         .kind = UNIAP_OPTK_OUTPUT,
         .dest = &html,
         .metavar = "FILE",
         .flags = UNIAP_OPT_STDOUT,
         .help = "the picture inline in an HTML page"}};
    int n_opts = 3;
    uniap__plan_inputs_opts(&pi, "the plan's", opts, &n_opts);
    uniap_cmd cmd = {
        .name = "show",
        .summary = "draw a plan: pipeline timeline, memory per stage, layers to stages",
        .description =
            "Evaluates PLAN again under the cost model (as uniap estimate --plan does) and "
            "draws it as plain SVG: the pipeline timeline of one iteration under the plan's "
            "schedule (a row per stage, a box per forward and backward of each micro-batch, "
            "the tail after each stage, the bubble blank, in seconds), the memory per device of "
            "each stage against the device (model states, activations, transient peak, the "
            "budget and the framework reserve), and the layers on their stages coloured by "
            "strategy. Boxes carry data-stage, data-mb, data-start and data-end attributes. The "
            "model, cluster and profile are the plan file's unless given.",
        .opts = opts};
    uniap_plan p;
    int status, rc;

    memset(&p, 0, sizeof(p));
    if (uniap_opts_finish(&cmd, uniap_opts_parse(&cmd, argc, argv), uniap__world_rank() == 0,
                          &status))
        return status;
    if (!svg && !html) {
        rc = uniap_err(UNIAP_EINVAL, "nothing to draw into: give --svg FILE or --html FILE");
        goto done;
    }
    if ((rc = uniap_opts_check_files(&cmd, NULL, NULL, 0)) < 0 ||
        (rc = uniap_plan_read_json(plan, &p)) < 0)
        goto done;
    /* estimate's argv: the plan, its inputs, the pictures */
    const char *av[16];
    int ac = 0;
    av[ac++] = "estimate";
    av[ac++] = "--plan", av[ac++] = plan;
    const char *model, *cluster, *profile;
    uniap__plan_inputs_pick(&pi, p.model, p.cluster, p.profile, &model, &cluster, &profile);
    av[ac++] = "--model", av[ac++] = model;
    av[ac++] = "--cluster", av[ac++] = cluster;
    if (profile)
        av[ac++] = "--profile", av[ac++] = profile;
    if (svg)
        av[ac++] = "--svg", av[ac++] = svg;
    if (html)
        av[ac++] = "--html", av[ac++] = html;
    av[ac] = NULL;
    /* estimate's report on stdout (on stderr when the picture is) */
    status = uniap_cli_estimate(ac, (char **)av);
    uniap_plan_free(&p);
    return status;
done:
    uniap_plan_free(&p);
    return rc < 0 ? uniap__report("show", rc) : 0;
}
