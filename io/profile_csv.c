/*
 * profile_csv.c - `uniap archive export FILE --csv DIR`: a profile
 * dataset's tables as CSV files for people who plot them elsewhere. One
 * file per table with the HDF5 member names as the header, doubles with 17
 * significant digits (they parse back to the same bits), collective ops by
 * name; root.csv holds the root attributes and each table's units; gemm.csv
 * (1.2) only for files with a /gemm table. One table's text alone
 * (uniap_profile_table_csv) is what `--csv -` prints.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "profile_h5.h"

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void sb_csv_str(uniap_textbuf *b, const char *s)
{
    if (!s)
        s = "";
    if (!strpbrk(s, ",\"\n\r")) {
        uniap_textbuf_printf(b, "%s", s);
        return;
    }
    uniap_textbuf_printf(b, "\"");
    for (const char *c = s; *c; c++)
        uniap_textbuf_printf(b, *c == '"' ? "\"\"" : "%c", *c);
    uniap_textbuf_printf(b, "\"");
}

static void table_csv(uniap_textbuf *b, const uniap_h5_table *t, const void *rows, int n)
{
    for (int i = 0; i < t->n_fields; i++)
        uniap_textbuf_printf(b, "%s%s", i ? "," : "", t->fields[i].name);
    uniap_textbuf_printf(b, "\n");
    for (int r = 0; r < n; r++) {
        const char *row = (const char *)rows + (size_t)r * t->row_size;
        for (int i = 0; i < t->n_fields; i++) {
            const uniap_h5_field *f = &t->fields[i];
            const char *v = row + f->offset;
            int iv;
            int64_t lv;
            double dv;
            if (i)
                uniap_textbuf_printf(b, ",");
            switch (f->kind) {
            case UNIAP__COL_INT:
                memcpy(&iv, v, sizeof(iv)), uniap_textbuf_printf(b, "%d", iv);
                break;
            case UNIAP__COL_I64:
                memcpy(&lv, v, sizeof(lv)), uniap_textbuf_printf(b, "%lld", (long long)lv);
                break;
            case UNIAP__COL_DOUBLE:
                memcpy(&dv, v, sizeof(dv)), uniap_textbuf_printf(b, "%.17g", dv);
                break;
            case UNIAP__COL_STRING:
                sb_csv_str(b, v);
                break;
            case UNIAP__COL_COLL_OP:
                memcpy(&iv, v, sizeof(iv));
                uniap_textbuf_printf(b, "%s", uniap_coll_name((uniap_coll_op)iv));
                break;
            }
        }
        uniap_textbuf_printf(b, "\n");
    }
}

static void root_csv(uniap_textbuf *b, const uniap_profile *p)
{
    char units[512];

    uniap_textbuf_printf(b, "attribute,value\nformat,%s\nformat_version,%d.%d\n",
                         UNIAP_PROFILE_FORMAT, p->version_major, p->version_minor);
    for (int i = 0; i < uniap_h5_n_root_attrs; i++) {
        const uniap_h5_root_attr *a = &uniap_h5_root_attrs[i];
        const char *field = (const char *)p + a->offset, *s;
        int iv;
        double dv;
        uniap_textbuf_printf(b, "%s,", a->name);
        switch (a->kind) {
        case H5A_KIND_INT:
            memcpy(&iv, field, sizeof(iv)), uniap_textbuf_printf(b, "%d", iv);
            break;
        case H5A_KIND_DOUBLE:
            memcpy(&dv, field, sizeof(dv)), uniap_textbuf_printf(b, "%.17g", dv);
            break;
        case H5A_KIND_STR_FIXED:
            sb_csv_str(b, field);
            break;
        case H5A_KIND_STR_DYN:
            memcpy(&s, field, sizeof(s)), sb_csv_str(b, s);
            break;
        }
        uniap_textbuf_printf(b, "\n");
    }
    for (int id = 0; id < UNIAP_H5_NTABLES; id++) {
        if (id == UNIAP_H5_GEMM && p->n_gemm == 0)
            continue; /* optional (1.2): listed when the file has it */
        uniap_h5_units(&uniap_h5_tables[id], units, sizeof(units));
        uniap_textbuf_printf(b, "units:%s,%s\n", uniap_h5_tables[id].path, units);
    }
}

static int write_csv(const char *dir, const char *name, uniap_textbuf *b)
{
    char path[4096];
    int rc;

    if (b->oom)
        return uniap_err(UNIAP_ENOMEM, "%s/%s: out of memory", dir, name);
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return uniap_err(UNIAP_EINVAL, "%s: path too long", dir);
    rc = uniap_write_file_atomic(path, b->s ? b->s : "", b->n);
    b->n = 0;
    return rc;
}

int uniap_profile_export_csv(const char *path, const char *dir)
{
    uniap_profile p;
    uniap_h5_input *inputs = NULL;
    int n_inputs = 0, rc;
    uniap_textbuf b = {0};
    struct stat st;

    if ((rc = uniap_profile_read(path, &p)) < 0)
        return rc;
    if ((rc = uniap_h5_read_inputs(path, &inputs, &n_inputs)) < 0)
        goto free_profile;
    if (stat(dir, &st) != 0 && mkdir(dir, 0777) != 0) {
        rc = uniap_err(UNIAP_EIO, "%s: cannot create the CSV folder: %s", dir, strerror(errno));
        goto free_inputs;
    }
    root_csv(&b, &p);
    if ((rc = write_csv(dir, "root.csv", &b)) < 0)
        goto free_buf;
    table_csv(&b, &uniap_h5_tables[UNIAP_H5_RANKS], p.ranks, p.n_ranks);
    if ((rc = write_csv(dir, "ranks.csv", &b)) < 0)
        goto free_buf;
    table_csv(&b, &uniap_h5_tables[UNIAP_H5_LAYERS], p.layers, p.n_layers);
    if ((rc = write_csv(dir, "layers.csv", &b)) < 0)
        goto free_buf;
    table_csv(&b, &uniap_h5_tables[UNIAP_H5_COLLS], p.colls, p.n_colls);
    if ((rc = write_csv(dir, "collectives.csv", &b)) < 0)
        goto free_buf;
    if (p.n_gemm > 0) {
        table_csv(&b, &uniap_h5_tables[UNIAP_H5_GEMM], p.gemm, p.n_gemm);
        if ((rc = write_csv(dir, "gemm.csv", &b)) < 0)
            goto free_buf;
    }
    if (inputs) {
        table_csv(&b, &uniap_h5_inputs_table, inputs, n_inputs);
        rc = write_csv(dir, "inputs.csv", &b);
    }
free_buf:
    free(b.s);
free_inputs:
    free(inputs);
free_profile:
    uniap_profile_free(&p);
    return rc;
}

int uniap_profile_table_csv(const char *path, const char *table, char **csv)
{
    static const char *const names[] = {"root", "ranks", "layers", "collectives", "inputs", "gemm"};
    uniap_profile p;
    uniap_h5_input *inputs = NULL;
    int n_inputs = 0, id = -1, rc;
    uniap_textbuf b = {0};

    *csv = NULL;
    for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (table && strcmp(table, names[i]) == 0)
            id = i;
    if (id < 0)
        return uniap_err(UNIAP_EINVAL,
                         "table '%s': expected root, ranks, layers, collectives, inputs or gemm",
                         table ? table : "");
    if ((rc = uniap_profile_read(path, &p)) < 0)
        return rc;
    if (id == 4 && (rc = uniap_h5_read_inputs(path, &inputs, &n_inputs)) < 0)
        goto free_profile;
    if (id == 0)
        root_csv(&b, &p);
    else if (id == 1)
        table_csv(&b, &uniap_h5_tables[UNIAP_H5_RANKS], p.ranks, p.n_ranks);
    else if (id == 2)
        table_csv(&b, &uniap_h5_tables[UNIAP_H5_LAYERS], p.layers, p.n_layers);
    else if (id == 3)
        table_csv(&b, &uniap_h5_tables[UNIAP_H5_COLLS], p.colls, p.n_colls);
    else if (id == 5 && p.n_gemm > 0)
        table_csv(&b, &uniap_h5_tables[UNIAP_H5_GEMM], p.gemm, p.n_gemm);
    else if (inputs)
        table_csv(&b, &uniap_h5_inputs_table, inputs, n_inputs);
    if (b.oom)
        rc = uniap_err(UNIAP_ENOMEM, "%s: out of memory writing the %s table as CSV", path, table);
    else if ((id != 4 || inputs) && (id != 5 || p.n_gemm > 0))
        *csv = b.s, b.s = NULL;
    free(b.s);
    free(inputs);
free_profile:
    uniap_profile_free(&p);
    return rc;
}
