/*
 * options_help.c - the `--help` text and the man page (roff), both
 * generated from a command's option table (options.h), so that what is
 * documented is what is parsed, defaults included.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "options_internal.h"
#include "uniap_io.h"
#include "uniap_version.h"

const char *uniap__opt_metavar(const uniap_opt *o)
{
    if (o->metavar)
        return o->metavar;
    switch (o->kind) {
    case UNIAP_OPTK_INPUT:
    case UNIAP_OPTK_OUTPUT:
        return "FILE";
    case UNIAP_OPTK_INT:
    case UNIAP_OPTK_INT64:
        return "N";
    case UNIAP_OPTK_SIZE:
        return "SIZE";
    case UNIAP_OPTK_DOUBLE:
        return "X";
    case UNIAP_OPTK_CHOICE:
        return "WORD";
    case UNIAP_OPTK_INT_LIST:
        return "N,N,...";
    default:
        return "VALUE";
    }
}

/* Bytes as the shortest exact K/M/G form ("256M", "4K", "100"). */
static void size_text(int64_t b, char *buf, size_t n)
{
    static const char suffix[] = "GMK";
    for (int i = 0; i < 3; i++) {
        int64_t unit = (int64_t)1 << (10 * (3 - i));
        if (b != 0 && b % unit == 0) {
            snprintf(buf, n, "%" PRId64 "%c", b / unit, suffix[i]);
            return;
        }
    }
    snprintf(buf, n, "%" PRId64, b);
}

void uniap__opt_value(const uniap_opt *o, int exact, char *buf, size_t n)
{
    buf[0] = 0;
    if (!o->dest)
        return;
    switch (o->kind) {
    case UNIAP_OPTK_STRING:
    case UNIAP_OPTK_INPUT:
    case UNIAP_OPTK_OUTPUT:
        if (!(o->flags & UNIAP_OPT_MANY) && *(const char *const *)o->dest)
            snprintf(buf, n, "%s", *(const char *const *)o->dest);
        break;
    case UNIAP_OPTK_INT:
        snprintf(buf, n, "%d", *(const int *)o->dest);
        break;
    case UNIAP_OPTK_INT64:
        snprintf(buf, n, "%" PRId64, *(const int64_t *)o->dest);
        break;
    case UNIAP_OPTK_SIZE:
        if (exact)
            snprintf(buf, n, "%" PRId64, *(const int64_t *)o->dest);
        else
            size_text(*(const int64_t *)o->dest, buf, n);
        break;
    case UNIAP_OPTK_DOUBLE:
        snprintf(buf, n, exact ? "%.17g" : "%g", *(const double *)o->dest);
        break;
    case UNIAP_OPTK_CHOICE:
        for (int i = 0; o->choices && o->choices[i]; i++)
            if ((o->values ? o->values[i] : i) == *(const int *)o->dest) {
                snprintf(buf, n, "%s", o->choices[i]);
                break;
            }
        break;
    case UNIAP_OPTK_INT_LIST: {
        size_t len = 0;
        for (int i = 0; i < *o->count && len + 1 < n; i++)
            len += (size_t)snprintf(buf + len, n - len, "%s%d", i ? "," : "",
                                    ((const int *)o->dest)[i]);
        break;
    }
    case UNIAP_OPTK_FLAG:
        break;
    }
}

void uniap__opt_default(const uniap_opt *o, char *buf, size_t n)
{
    if (o->def)
        snprintf(buf, n, "%s", o->def);
    else
        uniap__opt_value(o, 0, buf, n);
}

/* The option's help sentence with its choices, "(required)" and default. */
static void opt_text(const uniap_opt *o, char *buf, size_t n)
{
    char def[128];
    size_t len = (size_t)snprintf(buf, n, "%s", o->help ? o->help : "");
    if (o->kind == UNIAP_OPTK_CHOICE && len < n) {
        len += (size_t)snprintf(buf + len, n - len, "%s", len ? ": " : "");
        for (int i = 0; o->choices && o->choices[i] && len < n; i++)
            len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", o->choices[i]);
    }
    uniap__opt_default(o, def, sizeof def);
    if (o->flags & UNIAP_OPT_REQUIRED && len < n)
        len += (size_t)snprintf(buf + len, n - len, " (required)");
    else if (def[0] && len < n)
        snprintf(buf + len, n - len, " (default: %s)", def);
}

/* Writes the len bytes of text wrapped at 79 columns (spaces and line
 * breaks both separate words), every line but the first indented. */
static void wrap_n(FILE *f, const char *text, size_t len, int col, int indent)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *w = p;
        while (w < end && *w != ' ' && *w != '\n')
            w++;
        int n = (int)(w - p);
        if (n > 0 && col > indent && col + 1 + n > 79) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (n > 0 && col > indent) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", n, p);
        col += n;
        p = w < end ? w + 1 : w;
    }
    fputc('\n', f);
}

static void wrap(FILE *f, const char *text, int col, int indent)
{
    wrap_n(f, text, strlen(text), col, indent);
}

/* The description's paragraphs (blank-line separated), each wrapped at 79
 * columns, a blank line between them. */
static void wrap_paragraphs(FILE *f, const char *text)
{
    for (const char *p = text; *p;) {
        const char *e = strstr(p, "\n\n");
        size_t len = e ? (size_t)(e - p) : strlen(p);
        wrap_n(f, p, len, 0, 0);
        p += len;
        while (*p == '\n')
            p++;
        if (*p)
            fputc('\n', f);
    }
}

static void synopsis(const uniap_cmd *cmd, FILE *f)
{
    if (cmd->synopsis) {
        fprintf(f, "%s", cmd->synopsis);
        return;
    }
    fprintf(f, "uniap %s", cmd->name);
    for (const uniap_opt *o = cmd->opts; o->name; o++) {
        if (o->flags & UNIAP_OPT_POSITIONAL)
            fprintf(f, o->flags & UNIAP_OPT_REQUIRED ? " %s%s" : " [%s%s]", o->name,
                    o->flags & UNIAP_OPT_MANY ? "..." : "");
        else if (o->flags & UNIAP_OPT_REQUIRED)
            fprintf(f, " --%s %s", o->name, uniap__opt_metavar(o));
    }
    fprintf(f, " [options]");
}

void uniap_opts_help(const uniap_cmd *cmd, FILE *f)
{
    char text[1024], head[96];
    fprintf(f, "usage: ");
    synopsis(cmd, f);
    fprintf(f, "\n\n");
    if (cmd->summary)
        wrap(f, cmd->summary, 0, 0);
    if (cmd->description) {
        fputc('\n', f);
        wrap_paragraphs(f, cmd->description);
    }
    fprintf(f, "\noptions:\n");
    for (const uniap_opt *o = cmd->opts; o->name; o++) {
        if (o->flags & UNIAP_OPT_HIDDEN)
            continue;
        if (o->flags & UNIAP_OPT_POSITIONAL)
            snprintf(head, sizeof head, "  %s", o->name);
        else if (o->kind == UNIAP_OPTK_FLAG)
            snprintf(head, sizeof head, "  --%s", o->name);
        else
            snprintf(head, sizeof head, "  --%s %s", o->name, uniap__opt_metavar(o));
        opt_text(o, text, sizeof text);
        int w = (int)strlen(head);
        fprintf(f, "%s", head);
        if (w >= 26) {
            fprintf(f, "\n%*s", 26, "");
            w = 26;
        } else {
            fprintf(f, "%*s", 26 - w, "");
            w = 26;
        }
        wrap(f, text, w, 26);
    }
    fprintf(f, "  --debug                 source locations in error messages\n"
               "  -h, --help              this text\n");
}

/* Text with roff's special characters escaped. */
static void roff(FILE *f, const char *s)
{
    int bol = 1;
    for (; *s; s++) {
        if (bol && (*s == '.' || *s == '\''))
            fputs("\\&", f);
        if (*s == '\\')
            fputs("\\e", f);
        else if (*s == '-')
            fputs("\\-", f);
        else
            fputc(*s, f);
        bol = *s == '\n';
    }
}

static void upper(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 'a' + 'A');
        else if (*s == ' ')
            *s = '-';
}

void uniap_opts_man(const uniap_cmd *cmd, FILE *f)
{
    char title[96], text[1024];
    snprintf(title, sizeof title, "uniap-%s", cmd->name);
    upper(title);
    fprintf(f, ".TH %s 1 \"\" \"uniap %s\" \"uniap manual\"\n.SH NAME\n", title, UNIAP_VERSION);
    snprintf(text, sizeof text, "uniap-%s", cmd->name);
    for (char *p = text; *p; p++)
        if (*p == ' ')
            *p = '-';
    roff(f, text);
    fputs(" \\- ", f);
    roff(f, cmd->summary ? cmd->summary : "");
    fputs("\n.SH SYNOPSIS\n", f);
    char *syn = NULL;
    size_t syn_n = 0;
    FILE *m = open_memstream(&syn, &syn_n);
    if (m) {
        synopsis(cmd, m);
        fclose(m);
        roff(f, syn);
        free(syn);
    }
    fputs("\n", f);
    if (cmd->description) {
        fputs(".SH DESCRIPTION\n", f);
        for (const char *p = cmd->description; *p;) {
            const char *e = strstr(p, "\n\n");
            size_t len = e ? (size_t)(e - p) : strlen(p);
            snprintf(text, sizeof text, "%.*s", (int)len, p);
            fputs(".PP\n", f);
            roff(f, text);
            fputs("\n", f);
            p += len;
            while (*p == '\n')
                p++;
        }
    }
    fputs(".SH OPTIONS\n", f);
    for (const uniap_opt *o = cmd->opts; o->name; o++) {
        if (o->flags & UNIAP_OPT_HIDDEN)
            continue;
        fputs(".TP\n", f);
        if (o->flags & UNIAP_OPT_POSITIONAL)
            fprintf(f, "\\fI%s\\fR\n", o->name);
        else {
            fputs("\\fB", f);
            roff(f, "--");
            roff(f, o->name);
            fputs("\\fR", f);
            if (o->kind != UNIAP_OPTK_FLAG) {
                fputs(" \\fI", f);
                roff(f, uniap__opt_metavar(o));
                fputs("\\fR", f);
            }
            fputs("\n", f);
        }
        opt_text(o, text, sizeof text);
        roff(f, text);
        fputs("\n", f);
    }
    fputs(".TP\n\\fB\\-\\-debug\\fR\nsource locations in error messages\n"
          ".TP\n\\fB\\-\\-help\\fR\nthe options, with their defaults\n"
          ".SH EXIT STATUS\n",
          f);
#define UNIAP__MAN_STATUS(name, value, str, exit)                                                  \
    fprintf(f, ".TP\n%d\n%s (UNIAP_%s)\n", exit, str, #name);
    UNIAP_STATUS_MAP(UNIAP__MAN_STATUS)
#undef UNIAP__MAN_STATUS
}
