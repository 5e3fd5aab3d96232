/*
 * import_internal.h - private to the importers of peers' published
 * profiles (import.c: the table and the shared steps; import_<tool>.c: one
 * importer each). An importer fills a profile whose layer rows have the
 * model's signatures; import.c sets provenance, specs and notes.
 */
#ifndef UNIAP_IMPORT_INTERNAL_H
#define UNIAP_IMPORT_INTERNAL_H

#include <cjson/cJSON.h>

#include "cm_internal.h"

/* One importer: src is the tool's file or folder (its own conventions);
 * fills out (rows, collectives) and adds a note per assumption to w. */
typedef struct cm_importer {
    const char *name; /* the --from value, provenance "imported:<name>" */
    const char *src;  /* what SRC is, for --help */
    int (*run)(const uniap_model *m, const uniap_cluster *c, const char *src, uniap_profile *out,
               cm_warnings *w);
} cm_importer;

extern const cm_importer cm_import_amp, cm_import_sailor, cm_import_galvatron, cm_import_metis,
    cm_import_mist;

/* Parses a JSON file into *out (an object); EIO naming the path when it
 * cannot be read, EFORMAT "<path>: not JSON (<tool> ... expected)". */
int cm_import_json(const char *path, const char *what, cJSON **out);

/* The model's one block signature and layout: first/last block layer
 * index (n_layers numbering), the block count; EINVAL naming the tool when
 * the model has no blocks or several distinct block shapes. */
typedef struct cm_import_layout {
    char block_sig[96];
    int first_block, n_blocks, n_layers;
} cm_import_layout;
int cm_import_layout_of(const uniap_model *m, const char *tool, cm_import_layout *out);

/* The analytic profile of m on c at the micro-batches given (the base whose
 * memory columns and collectives an importer keeps), noted in w. */
int cm_import_base(const uniap_model *m, const uniap_cluster *c, const int *mbs, int n_mbs,
                   const char *tool, uniap_profile *out, cm_warnings *w);

/* Drops the layer rows for which keep(row, ctx) is 0. */
void cm_import_filter(uniap_profile *p, int (*keep)(const uniap_layer_prof *, void *), void *ctx);

/* Per-position rows (profile format 1.2: layer type "<signature>@<layer>")
 * of every block: for each row of the block signature at tp and micro-batch
 * mb (mb < 1: every micro-batch), one copy per block b (model layer
 * first_block + b) whose times at(ctx, signature row, b, &fwd, &bwd) sets.
 * EINVAL naming tool when a name does not fit a row. */
typedef void (*cm_import_pos_fn)(void *ctx, const uniap_layer_prof *row, int block, double *fwd,
                                 double *bwd);
int cm_import_positions(uniap_profile *p, const cm_import_layout *lo, const char *tool, int tp,
                        int mb, cm_import_pos_fn at, void *ctx);

/* Signature of the model layer at index u (n_layers numbering). */
int cm_import_sig_at(const uniap_model *m, int u, char *buf, size_t n);

#endif
