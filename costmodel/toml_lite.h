/*
 * toml_lite.h - private to costmodel/: the TOML subset torchtitan job
 * configs use, read into (table, key, value) entries (toml_lite.c).
 */
#ifndef UNIAP_TOML_LITE_H
#define UNIAP_TOML_LITE_H

#include "uniap_io.h"

typedef enum { TOML_INT, TOML_FLOAT, TOML_BOOL, TOML_STR, TOML_ARR } toml_type;

typedef struct toml_value {
    toml_type type;
    long i;   /* TOML_INT; TOML_BOOL: 0 or 1 */
    double d; /* TOML_FLOAT (and TOML_INT's value) */
    char *s;  /* TOML_STR (malloc'd) */
    int n;    /* TOML_ARR: items */
    struct toml_value *a;
} toml_value;

typedef struct toml_entry {
    char table[64]; /* "" before the first header; "quantize.linear.float8" */
    char key[64];
    int line;
    toml_value v;
} toml_entry;

typedef struct toml_doc {
    toml_entry *k;
    int n;
} toml_doc;

/* Parses text (what names it in messages) into *d (the caller's,
 * uniap__toml_free); EINVAL naming what and the line of anything outside
 * the subset or malformed, a key given twice. */
int uniap__toml_parse(const char *text, const char *what, toml_doc *d);
void uniap__toml_free(toml_doc *d);
/* The entry of key in table, or NULL. */
const toml_entry *uniap__toml_get(const toml_doc *d, const char *table, const char *key);

#endif /* UNIAP_TOML_LITE_H */
