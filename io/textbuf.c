/*
 * textbuf.c - small text helpers shared by the components: a growing
 * printf buffer (CSV and export writers) and the command line joined into
 * one string (provenance stored in datasets).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uniap_io.h"

void uniap_textbuf_printf(uniap_textbuf *b, const char *fmt, ...)
{
    va_list ap;

    if (b->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        int w = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = 1;
            return;
        }
        if (b->s && b->n + (size_t)w < b->cap) {
            b->n += (size_t)w;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + (size_t)w + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

char *uniap_join_args(const char *prog, int argc, char **argv)
{
    size_t len = strlen(prog) + 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (!s)
        return NULL;
    char *end = stpcpy(s, prog);
    for (int i = 0; i < argc; i++) {
        *end++ = ' ';
        end = stpcpy(end, argv[i]);
    }
    return s;
}
