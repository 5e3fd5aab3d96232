/*
 * toml_lite.c - the part of TOML 1.0 that torchtitan job configs use,
 * read into a flat list of (table, key, value): [table] headers (dotted
 * names kept whole), bare or dotted keys, basic and literal strings,
 * integers (with '_'), floats, booleans, arrays (nested, over several
 * lines, trailing comma), comments. Anything else (inline tables, arrays
 * of tables, multi-line strings, dates) is refused naming the file and
 * line. Private to the torchtitan reader (toml_lite.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml_lite.h"

typedef struct scan {
    const char *p, *what;
    int line;
} scan;

static int bad(const scan *s, const char *msg)
{
    return uniap_err(UNIAP_EINVAL, "%s: line %d: %s", s->what, s->line, msg);
}

/* Skips blanks; with nl also newlines and comments. */
static void skip(scan *s, int nl)
{
    for (;;) {
        while (*s->p == ' ' || *s->p == '\t' || *s->p == '\r')
            s->p++;
        if (nl && *s->p == '#')
            while (*s->p && *s->p != '\n')
                s->p++;
        if (nl && *s->p == '\n') {
            s->p++;
            s->line++;
            continue;
        }
        return;
    }
}

static int is_bare(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* A bare (possibly dotted) key into buf. */
static int read_key(scan *s, char *buf, size_t n)
{
    size_t k = 0;
    while (is_bare(*s->p) && k + 1 < n)
        buf[k++] = *s->p++;
    buf[k] = '\0';
    if (!k || is_bare(*s->p))
        return bad(s, k ? "key too long" : "expected a bare key (quoted keys are not read)");
    return UNIAP_OK;
}

static int read_value(scan *s, toml_value *v, int depth);

static int read_string(scan *s, toml_value *v)
{
    char q = *s->p++;
    uniap_textbuf b = {0};
    if (q == '"' && s->p[0] == '"' && s->p[1] == '"')
        return bad(s, "multi-line strings are not read");
    while (*s->p && *s->p != q && *s->p != '\n') {
        char c = *s->p++;
        if (q == '"' && c == '\\') {
            c = *s->p++;
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
            if (c != '"' && c != '\\' && c != '\n' && c != '\t') {
                free(b.s);
                return bad(s, "unknown escape in a string");
            }
        }
        uniap_textbuf_printf(&b, "%c", c);
    }
    if (*s->p != q) {
        free(b.s);
        return bad(s, "unterminated string");
    }
    s->p++;
    if (b.oom)
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory", s->what);
    v->type = TOML_STR;
    if (!(v->s = b.s ? b.s : calloc(1, 1)))
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory", s->what);
    return UNIAP_OK;
}

static int read_array(scan *s, toml_value *v, int depth)
{
    int rc = UNIAP_OK;
    s->p++;
    v->type = TOML_ARR;
    for (;;) {
        skip(s, 1);
        if (*s->p == ']') {
            s->p++;
            return UNIAP_OK;
        }
        toml_value *a = realloc(v->a, sizeof(*a) * (size_t)(v->n + 1));
        if (!a)
            return uniap_err(UNIAP_ENOMEM, "%s: out of memory", s->what);
        v->a = a;
        memset(&a[v->n], 0, sizeof(*a));
        if ((rc = read_value(s, &a[v->n++], depth + 1)) < 0)
            return rc;
        skip(s, 1);
        if (*s->p == ',')
            s->p++;
        else if (*s->p != ']')
            return bad(s, "expected ',' or ']' in an array");
    }
}

static int read_number(scan *s, toml_value *v)
{
    char buf[64];
    size_t k = 0;
    int fl = 0;
    while ((isalnum((unsigned char)*s->p) || strchr("+-._", *s->p)) && k + 1 < sizeof buf) {
        if (*s->p != '_')
            buf[k++] = *s->p;
        fl |= *s->p == '.' || *s->p == 'e' || *s->p == 'E';
        s->p++;
    }
    buf[k] = '\0';
    char *end;
    errno = 0;
    if (fl) {
        v->type = TOML_FLOAT;
        v->d = strtod(buf, &end);
    } else {
        v->type = TOML_INT;
        v->i = strtol(buf, &end, 10);
    }
    if (!k || *end || errno)
        return bad(s, "expected a value (string, number, boolean or array)");
    if (!fl)
        v->d = (double)v->i;
    return UNIAP_OK;
}

static int read_value(scan *s, toml_value *v, int depth)
{
    if (depth > 8)
        return bad(s, "arrays nested too deep");
    if (*s->p == '"' || *s->p == '\'')
        return read_string(s, v);
    if (*s->p == '[')
        return read_array(s, v, depth);
    if (*s->p == '{')
        return bad(s, "inline tables are not read");
    if (!strncmp(s->p, "true", 4) || !strncmp(s->p, "false", 5)) {
        v->type = TOML_BOOL;
        v->i = s->p[0] == 't';
        s->p += v->i ? 4 : 5;
        if (is_bare(*s->p))
            return bad(s, "expected true or false");
        return UNIAP_OK;
    }
    return read_number(s, v);
}

static void value_free(toml_value *v)
{
    for (int i = 0; i < v->n; i++)
        value_free(&v->a[i]);
    free(v->a);
    free(v->s);
}

void uniap__toml_free(toml_doc *d)
{
    for (int i = 0; i < d->n; i++)
        value_free(&d->k[i].v);
    free(d->k);
    memset(d, 0, sizeof(*d));
}

/* One "key = value" line into d under table. */
static int read_pair(scan *s, toml_doc *d, const char *table)
{
    toml_entry e;
    int rc;
    memset(&e, 0, sizeof(e));
    snprintf(e.table, sizeof e.table, "%s", table);
    e.line = s->line;
    if ((rc = read_key(s, e.key, sizeof e.key)) < 0)
        return rc;
    skip(s, 0);
    if (*s->p != '=')
        return bad(s, "expected '=' after the key");
    s->p++;
    skip(s, 0);
    if ((rc = read_value(s, &e.v, 0)) < 0) {
        value_free(&e.v);
        return rc;
    }
    for (int i = 0; i < d->n; i++)
        if (!strcmp(d->k[i].table, e.table) && !strcmp(d->k[i].key, e.key)) {
            value_free(&e.v);
            return bad(s, "key given twice");
        }
    toml_entry *k = realloc(d->k, sizeof(*k) * (size_t)(d->n + 1));
    if (!k) {
        value_free(&e.v);
        return uniap_err(UNIAP_ENOMEM, "%s: out of memory", s->what);
    }
    d->k = k;
    d->k[d->n++] = e;
    return UNIAP_OK;
}

int uniap__toml_parse(const char *text, const char *what, toml_doc *d)
{
    scan s = {text, what, 1};
    char table[64] = "";
    int rc = UNIAP_OK;
    memset(d, 0, sizeof(*d));
    for (skip(&s, 1); *s.p && rc == 0; skip(&s, 1)) {
        if (*s.p == '[') {
            s.p++;
            if (*s.p == '[')
                rc = bad(&s, "arrays of tables are not read");
            else {
                skip(&s, 0);
                if ((rc = read_key(&s, table, sizeof table)) == 0) {
                    skip(&s, 0);
                    rc = *s.p == ']' ? (s.p++, UNIAP_OK) : bad(&s, "expected ']'");
                }
            }
        } else {
            rc = read_pair(&s, d, table);
        }
        skip(&s, 0);
        if (rc == 0 && *s.p == '#')
            while (*s.p && *s.p != '\n')
                s.p++;
        if (rc == 0 && *s.p && *s.p != '\n')
            rc = bad(&s, "unexpected text after the value");
    }
    if (rc < 0)
        uniap__toml_free(d);
    return rc;
}

const toml_entry *uniap__toml_get(const toml_doc *d, const char *table, const char *key)
{
    for (int i = 0; i < d->n; i++)
        if (!strcmp(d->k[i].table, table) && !strcmp(d->k[i].key, key))
            return &d->k[i];
    return NULL;
}
