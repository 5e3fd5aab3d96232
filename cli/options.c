/*
 * options.c - the table-driven option parser of every `uniap` command (see
 * options.h): parsing with overflow and range checks, the file checks of
 * inputs against outputs, and the --help text generated from the table
 * (the man page is in options_man.c).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "options.h"
#include "options_internal.h"
#include "uniap_io.h"

#define MAX_OPTS 64

uniap_opt *uniap_opts_find(uniap_cmd *cmd, const char *name)
{
    for (uniap_opt *o = cmd->opts; o && o->name; o++)
        if (!(o->flags & UNIAP_OPT_POSITIONAL) && strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

int uniap_opts_given(const uniap_cmd *cmd, const char *name)
{
    for (const uniap_opt *o = cmd->opts; o && o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o->given;
    return 0;
}

/* The inclusive integer range of an entry (both 0: the type's). */
static void int_range(const uniap_opt *o, int64_t *lo, int64_t *hi)
{
    *lo = o->min;
    *hi = o->max;
    if (o->min == 0 && o->max == 0) {
        *lo = o->kind == UNIAP_OPTK_INT64 || o->kind == UNIAP_OPTK_SIZE ? INT64_MIN : INT_MIN;
        *hi = o->kind == UNIAP_OPTK_INT64 || o->kind == UNIAP_OPTK_SIZE ? INT64_MAX : INT_MAX;
    }
    if (o->kind == UNIAP_OPTK_INT || o->kind == UNIAP_OPTK_INT_LIST) {
        if (*lo < INT_MIN)
            *lo = INT_MIN;
        if (*hi > INT_MAX)
            *hi = INT_MAX;
    }
}

/* Strict decimal integer: optional sign, digits, nothing else. */
static int scan_int(const char *s, int64_t *out)
{
    const char *p = s;
    char *end;
    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end)
        return -1;
    *out = v;
    return 0;
}

static int range_error(const char *opt, const char *v, const char *what, int64_t lo, int64_t hi)
{
    if (lo == INT64_MIN || lo == INT_MIN)
        return uniap_err(UNIAP_EINVAL, "--%s %s: expected %s up to %lld", opt, v, what,
                         (long long)hi);
    return uniap_err(UNIAP_EINVAL, "--%s %s: expected %s from %lld to %lld", opt, v, what,
                     (long long)lo, (long long)hi);
}

static int parse_int_value(const uniap_opt *o, const char *v, int64_t *out)
{
    int64_t lo, hi, x;
    int_range(o, &lo, &hi);
    if (scan_int(v, &x) < 0 || x < lo || x > hi)
        return range_error(o->name, v, "an integer", lo, hi);
    *out = x;
    return 0;
}

/* Bytes with an optional K/M/G suffix (powers of 1024) and optional B. */
static int parse_size_value(const uniap_opt *o, const char *v, int64_t *out)
{
    int64_t lo, hi;
    char *end;
    double mul = 1;
    int_range(o, &lo, &hi);
    if (lo < 0)
        lo = 0;
    errno = 0;
    double x = strtod(v, &end);
    if (end != v) {
        if (*end == 'K' || *end == 'k')
            mul = 1024.0, end++;
        else if (*end == 'M' || *end == 'm')
            mul = 1024.0 * 1024, end++;
        else if (*end == 'G' || *end == 'g')
            mul = 1024.0 * 1024 * 1024, end++;
        if (*end == 'B' || *end == 'b')
            end++;
    }
    double b = x * mul;
    if (end == v || *end || errno == ERANGE || !isfinite(b) || b < (double)lo || b > (double)hi ||
        b != floor(b))
        return range_error(o->name, v, "a whole number of bytes (K, M, G suffixes)", lo, hi);
    *out = (int64_t)b;
    return 0;
}

static int parse_double_value(const uniap_opt *o, const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    int bounded = !(o->dmin == 0 && o->dmax == 0);
    int gt = (o->flags & UNIAP_OPT_GT_MIN) != 0;
    if (end == v || *end || errno == ERANGE || !isfinite(x) ||
        (bounded && ((gt ? x <= o->dmin : x < o->dmin) || x > o->dmax))) {
        if (!bounded)
            return uniap_err(UNIAP_EINVAL, "--%s %s: expected a finite number", o->name, v);
        return uniap_err(UNIAP_EINVAL, "--%s %s: expected a number %s %g and <= %g", o->name, v,
                         gt ? ">" : ">=", o->dmin, o->dmax);
    }
    *out = x;
    return 0;
}

static int parse_choice_value(const uniap_opt *o, const char *v)
{
    char list[256] = "";
    for (int i = 0; o->choices && o->choices[i]; i++) {
        if (strcmp(v, o->choices[i]) == 0) {
            *(int *)o->dest = o->values ? o->values[i] : i;
            return 0;
        }
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", o->choices[i]);
    }
    return uniap_err(UNIAP_EINVAL, "--%s %s: expected one of %s", o->name, v, list);
}

static int parse_list_value(const uniap_opt *o, const char *v)
{
    int *dst = o->dest, n = 0;
    const char *p = v;
    char tok[64];
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int64_t x;
        if (n == o->max_count)
            return uniap_err(UNIAP_EINVAL, "--%s %s: more than %d values", o->name, v,
                             o->max_count);
        if (len == 0 || len >= sizeof tok)
            return uniap_err(UNIAP_EINVAL, "--%s %s: expected a comma-separated list of integers",
                             o->name, v);
        memcpy(tok, p, len);
        tok[len] = 0;
        int64_t lo, hi;
        int_range(o, &lo, &hi);
        if (scan_int(tok, &x) < 0 || x < lo || x > hi)
            return uniap_err(UNIAP_EINVAL,
                             "--%s %s: '%s': expected integers from %lld to %lld, comma-separated",
                             o->name, v, tok, (long long)lo, (long long)hi);
        dst[n++] = (int)x;
        if (!comma)
            break;
        p = comma + 1;
    }
    *o->count = n;
    return 0;
}

/* Stores value v of option o (already known to take a value). */
int uniap__opt_store(const uniap_opt *o, const char *v)
{
    int64_t x;
    int rc;
    switch (o->kind) {
    case UNIAP_OPTK_STRING:
    case UNIAP_OPTK_INPUT:
    case UNIAP_OPTK_OUTPUT:
        if (!*v)
            return uniap_err(UNIAP_EINVAL, "--%s: empty value (expected %s)", o->name,
                             uniap__opt_metavar(o));
        *(const char **)o->dest = v;
        return 0;
    case UNIAP_OPTK_INT:
        if ((rc = parse_int_value(o, v, &x)) < 0)
            return rc;
        *(int *)o->dest = (int)x;
        return 0;
    case UNIAP_OPTK_INT64:
        if ((rc = parse_int_value(o, v, &x)) < 0)
            return rc;
        *(int64_t *)o->dest = x;
        return 0;
    case UNIAP_OPTK_SIZE:
        return parse_size_value(o, v, (int64_t *)o->dest);
    case UNIAP_OPTK_DOUBLE:
        return parse_double_value(o, v, (double *)o->dest);
    case UNIAP_OPTK_CHOICE:
        return parse_choice_value(o, v);
    case UNIAP_OPTK_INT_LIST:
        return parse_list_value(o, v);
    case UNIAP_OPTK_FLAG:
        break;
    }
    return uniap_err(UNIAP_EINTERNAL, "--%s: option kind %d takes no value", o->name, (int)o->kind);
}

/* A "value" that is itself one of the command's options (or a built-in)
 * means the real value was forgotten. */
static int looks_like_option(uniap_cmd *cmd, const char *v)
{
    if (strncmp(v, "--", 2) != 0 || !v[2])
        return 0;
    char name[128];
    snprintf(name, sizeof name, "%s", v + 2);
    char *eq = strchr(name, '=');
    if (eq)
        *eq = 0;
    return uniap_opts_find(cmd, name) || !strcmp(name, "help") || !strcmp(name, "debug");
}

/* One "--name[=value]" at argv[*i]; may consume argv[*i + 1]. */
static int parse_option(uniap_cmd *cmd, int argc, char **argv, int *i)
{
    const char *arg = argv[*i] + 2, *eq = strchr(arg, '='), *v = NULL;
    char name[128];
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len >= sizeof name)
        len = sizeof name - 1;
    memcpy(name, arg, len);
    name[len] = 0;
    if (strcmp(name, "debug") == 0 && !eq) {
        uniap_err_set_debug(1);
        return 0;
    }
    uniap_opt *o = uniap_opts_find(cmd, name);
    if (!o)
        return uniap_err(UNIAP_EINVAL, "unknown option '--%s'", name);
    if (o->given)
        return uniap_err(UNIAP_EINVAL, "--%s given twice", name);
    o->given = 1;
    if (o->kind == UNIAP_OPTK_FLAG) {
        if (eq)
            return uniap_err(UNIAP_EINVAL, "--%s takes no value (got '%s')", name, eq + 1);
        *(int *)o->dest = 1;
        return 0;
    }
    if (eq)
        v = eq + 1;
    else if (*i + 1 < argc && !looks_like_option(cmd, argv[*i + 1]))
        v = argv[++*i];
    if (!v)
        return uniap_err(UNIAP_EINVAL, "--%s: missing value (expected %s)%s%s", name,
                         uniap__opt_metavar(o), *i + 1 < argc ? "; got the option " : "",
                         *i + 1 < argc ? argv[*i + 1] : "");
    return uniap__opt_store(o, v);
}

/* The next positional entry after *next (table order), or NULL. */
static uniap_opt *next_positional(uniap_cmd *cmd, int *next)
{
    int k = 0;
    for (uniap_opt *o = cmd->opts; o && o->name; o++)
        if (o->flags & UNIAP_OPT_POSITIONAL) {
            if (o->flags & UNIAP_OPT_MANY && k <= *next)
                return o; /* takes every remaining argument */
            if (k++ == *next) {
                (*next)++;
                return o;
            }
        }
    return NULL;
}

static int parse_positional(uniap_cmd *cmd, const char *v, int *next)
{
    uniap_opt *o = next_positional(cmd, next);
    if (!o)
        return uniap_err(UNIAP_EINVAL, "unexpected argument '%s'", v);
    if (o->flags & UNIAP_OPT_MANY) {
        if (*o->count >= o->max_count)
            return uniap_err(UNIAP_EINVAL, "%s: more than %d arguments", o->name, o->max_count);
        ((const char **)o->dest)[(*o->count)++] = v;
        o->given = 1;
        return 0;
    }
    o->given = 1;
    *(const char **)o->dest = v;
    return 0;
}

static int check_required(const uniap_cmd *cmd)
{
    for (const uniap_opt *o = cmd->opts; o->name; o++) {
        if (!(o->flags & UNIAP_OPT_REQUIRED) || o->given)
            continue;
        if (o->flags & UNIAP_OPT_POSITIONAL)
            return uniap_err(UNIAP_EINVAL, "missing argument %s (%s)", o->name,
                             o->help ? o->help : "required");
        return uniap_err(UNIAP_EINVAL, "--%s is required (%s)", o->name,
                         o->help ? o->help : uniap__opt_metavar(o));
    }
    return 0;
}

int uniap_opts_parse(uniap_cmd *cmd, int argc, char **argv)
{
    int n = 0, next_pos = 0, rc;
    for (uniap_opt *o = cmd->opts; o && o->name; o++, n++) {
        o->given = 0;
        if (o->kind == UNIAP_OPTK_INT_LIST || (o->flags & UNIAP_OPT_MANY))
            UNIAP_CHECK(o->count && o->max_count > 0);
        if (o->flags & UNIAP_OPT_MANY)
            *o->count = 0;
    }
    UNIAP_CHECK(n <= MAX_OPTS);
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return UNIAP_OPTS_HELP;
        if (!strcmp(argv[i], "--man"))
            return UNIAP_OPTS_MAN;
        if (!strcmp(argv[i], "--complete"))
            return UNIAP_OPTS_COMPLETE;
    }
    for (int i = 1, dashdash = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && !strcmp(a, "--"))
            rc = (dashdash = 1, 0);
        else if (!dashdash && a[0] == '-' && a[1] == '-')
            rc = parse_option(cmd, argc, argv, &i);
        else if (!dashdash && a[0] == '-' && a[1] && (a[1] < '0' || a[1] > '9') && a[1] != '.')
            rc = uniap_err(UNIAP_EINVAL, "unknown option '%s' (options are --long)", a);
        else
            rc = parse_positional(cmd, a, &next_pos);
        if (rc < 0)
            return rc;
    }
    return check_required(cmd);
}

int uniap_opts_check_files(const uniap_cmd *cmd, const char *const *extra_outputs,
                           const char *const *extra_opts, int n_extra)
{
    const char *in[MAX_OPTS], *in_opt[MAX_OPTS], *out[MAX_OPTS + 8], *out_opt[MAX_OPTS + 8];
    char in_name[MAX_OPTS][72], out_name[MAX_OPTS][72];
    int n_in = 0, n_out = 0, n_stdout = 0, rc;
    const char *first_stdout = NULL;

    UNIAP_CHECK(n_extra >= 0 && n_extra <= 8);
    for (const uniap_opt *o = cmd->opts; o->name; o++) {
        if (!o->given || (o->kind != UNIAP_OPTK_INPUT && o->kind != UNIAP_OPTK_OUTPUT))
            continue;
        if (o->flags & UNIAP_OPT_MANY)
            continue; /* positional lists: the command checks them */
        const char *path = *(const char *const *)o->dest;
        int pos = (o->flags & UNIAP_OPT_POSITIONAL) != 0;
        if (o->kind == UNIAP_OPTK_INPUT) {
            snprintf(in_name[n_in], sizeof in_name[0], "%s%s", pos ? "" : "--", o->name);
            in_opt[n_in] = in_name[n_in];
            in[n_in++] = path;
        } else {
            snprintf(out_name[n_out], sizeof out_name[0], "%s%s", pos ? "" : "--", o->name);
            out_opt[n_out] = out_name[n_out];
            out[n_out] = path;
            if ((rc = uniap_output_check(out_opt[n_out], path,
                                         (o->flags & UNIAP_OPT_STDOUT) != 0)) < 0)
                return rc;
            if (strcmp(path, "-") == 0 && n_stdout++ > 0)
                return uniap_err(UNIAP_EINVAL,
                                 "%s - and %s -: only one output can be standard output",
                                 first_stdout, out_opt[n_out]);
            if (strcmp(path, "-") == 0)
                first_stdout = out_opt[n_out];
            n_out++;
        }
    }
    for (int j = 0; j < n_extra; j++) {
        if (!extra_outputs[j])
            continue;
        if ((rc = uniap_output_check(extra_opts[j], extra_outputs[j], 0)) < 0)
            return rc;
        out_opt[n_out] = extra_opts[j];
        out[n_out++] = extra_outputs[j];
    }
    for (int j = 0; j < n_out; j++) {
        if (strcmp(out[j], "-") == 0)
            continue;
        for (int k = 0; k < j; k++)
            if (strcmp(out[j], out[k]) == 0)
                return uniap_err(UNIAP_EINVAL, "%s %s and %s %s: the same file for two outputs",
                                 out_opt[k], out[k], out_opt[j], out[j]);
        if ((rc = uniap_output_not_input(out_opt[j], out[j], in, in_opt, n_in)) < 0)
            return rc;
        /* two outputs onto one file: the second would replace the first */
        if ((rc = uniap_output_not_input(out_opt[j], out[j], out, out_opt, j)) < 0)
            return rc;
    }
    return 0;
}

void uniap_opts_print_error(const uniap_cmd *cmd, int rc, FILE *f)
{
    uniap__print_error(f, cmd->name, rc);
    fprintf(f, "  (uniap %s --help lists the options)\n", cmd->name);
}

int uniap_opts_finish(const uniap_cmd *cmd, int rc, int print, int *exit_status)
{
    if (rc == 0)
        return 0;
    *exit_status = 0;
    if (rc == UNIAP_OPTS_HELP && print)
        uniap_opts_help(cmd, stdout);
    else if (rc == UNIAP_OPTS_MAN && print)
        uniap_opts_man(cmd, stdout);
    else if (rc == UNIAP_OPTS_COMPLETE && print)
        uniap_opts_complete(cmd, stdout);
    else if (rc < 0) {
        *exit_status = uniap_exit_code(rc);
        if (print)
            uniap_opts_print_error(cmd, rc, stderr);
    }
    return 1;
}
