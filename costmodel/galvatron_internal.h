/*
 * galvatron_internal.h - private to the Galvatron importer
 * (import_galvatron.c: layers and file choice; galvatron_hw.c: hardware).
 */
#ifndef UNIAP_GALVATRON_INTERNAL_H
#define UNIAP_GALVATRON_INTERNAL_H

#include <cjson/cJSON.h>

#include "cm_internal.h"

/* Adds a line to the importer's notes (what the files lack, assumptions). */
void cm_galv_note(cm_warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a JSON object file; EIO/EFORMAT naming the path. */
int cm_galv_load_json(const char *path, cJSON **out);

/* Collective curves of the cluster's shape from hardware_dir: measured
 * sp_time curves (optional), then all-reduce bus bandwidths for every op
 * (EMISSING when the shape's file is absent), then point-to-point. */
int cm_galv_import_sp_time(const uniap_cluster *c, const char *dir, uniap_profile *out,
                           cm_warnings *w);
int cm_galv_import_allreduce(const uniap_cluster *c, const char *dir, uniap_profile *out,
                             cm_warnings *w);
int cm_galv_import_p2p(const uniap_cluster *c, const char *dir, uniap_profile *out, cm_warnings *w);

#endif
