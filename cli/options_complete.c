/*
 * options_complete.c - the hidden `uniap <command> --complete`: a command's
 * option table as plain words for shell completion, so that the installed
 * bash completion (generated at build time by cmake/UniapCompletion.cmake)
 * completes what is parsed, as --help and the man page document it.
 */
#include "options.h"

/* How the shell completes the value of o (or the positional o itself). */
static const char *complete_kind(const uniap_opt *o)
{
    switch (o->kind) {
    case UNIAP_OPTK_FLAG:
        return "flag";
    case UNIAP_OPTK_INPUT:
    case UNIAP_OPTK_OUTPUT:
        return "file";
    case UNIAP_OPTK_CHOICE:
        return o->choices ? "choice" : "value";
    default:
        return "value";
    }
}

void uniap_opts_complete(const uniap_cmd *cmd, FILE *f)
{
    for (const uniap_opt *o = cmd->opts; o && o->name; o++) {
        if (o->flags & UNIAP_OPT_HIDDEN)
            continue;
        if (o->flags & UNIAP_OPT_POSITIONAL) {
            fprintf(f, "positional %s %s\n", o->name, complete_kind(o));
            continue;
        }
        fprintf(f, "option --%s %s", o->name, complete_kind(o));
        if (o->kind == UNIAP_OPTK_CHOICE)
            for (int i = 0; o->choices && o->choices[i]; i++)
                fprintf(f, " %s", o->choices[i]);
        fputc('\n', f);
    }
    fputs("option --debug flag\noption --help flag\n", f);
}
