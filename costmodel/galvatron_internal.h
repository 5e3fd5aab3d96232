/*
 * galvatron_internal.h - private to the Galvatron importer
 * (import_galvatron.c: layers and file choice; import_galvatron_moe.c: the
 * MoE models' attention/MLP files; galvatron_hw.c: hardware).
 */
#ifndef UNIAP_GALVATRON_INTERNAL_H
#define UNIAP_GALVATRON_INTERNAL_H

#include <cjson/cJSON.h>

#include "cm_internal.h"

/* Adds a line to the importer's notes (what the files lack, assumptions). */
void cm_galv_note(cm_warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a JSON object file; EIO/EFORMAT naming the path. */
int cm_galv_load_json(const char *path, cJSON **out);

/* Reads "_bsz<b>[_seq<s>]" at the start of p, the tail of Galvatron's
 * computation keys after "layertype_<t>" (b >= 1; s: the digits right
 * after "_seq"): *bsz = b, *seq = s (0 when absent), *rest just past what
 * was read (into p). 1 with a seq, 0 without, -1 when p does not start
 * with "_bsz<b>" (*seq and *rest untouched). */
int cm_galv_parse_bsz_seq(const char *p, int *bsz, long *seq, const char **rest);

/* Index of the best of n computation_profiling_bf16_<suffix>.json
 * suffixes for model m, or -1 when none fits: "<name>_all", "<alias>_all",
 * "hidden<h>_head<a>_seqlen<s>", "hidden<h>_head<a>", exactly "<name>",
 * then any containing the name; ties go to the shorter suffix, then the
 * smaller by strcmp, so the pick does not depend on the order given. */
int cm_galv_pick_suffix(const uniap_model *m, const char *const *suffixes, int n);

/* Fills out (initialised here; freed on failure) from parsed computation
 * and memory files (comp_path, mem_path name them in errors and notes) and
 * the hardware folder; adds the notes to w. */
int cm_galv_import_parsed(const uniap_model *m, const uniap_cluster *c, const cJSON *comp,
                          const cJSON *mem, const char *comp_path, const char *mem_path,
                          const char *hardware_dir, uniap_profile *out, cm_warnings *w);

/* 1 when the model's blocks are moe (the MoE importer's case). */
int cm_galv_is_moe(const uniap_model *m);
/* The MoE importer: Galvatron's separate attention and MLP profiles of
 * dir (computation_profiling_bf16_<suffix>{,_attention,_mlp}.json,
 * memory_profiling_bf16_<suffix>_attention.json), checked against
 * ../meta_configs/<suffix>.json, as rows of the model's moe block; out as
 * cm_galv_import_parsed. */
int cm_galv_import_moe(const uniap_model *m, const uniap_cluster *c, const char *dir,
                       const char *suffix, const char *hardware_dir, uniap_profile *out,
                       cm_warnings *w);

/* Collective curves of the cluster's shape from hardware_dir: measured
 * sp_time curves (optional), then all-reduce bus bandwidths for every op
 * (EMISSING when the shape's file is absent), then point-to-point. */
int cm_galv_import_sp_time(const uniap_cluster *c, const char *dir, uniap_profile *out,
                           cm_warnings *w);
int cm_galv_import_allreduce(const uniap_cluster *c, const char *dir, uniap_profile *out,
                             cm_warnings *w);
int cm_galv_import_p2p(const uniap_cluster *c, const char *dir, uniap_profile *out, cm_warnings *w);

#endif
