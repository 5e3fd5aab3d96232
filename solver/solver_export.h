/*
 * solver_export.h - private to solver/: a plan as Megatron-LM arguments
 * and as Galvatron's strategy JSON (export.c).
 */
#ifndef UNIAP_SOLVER_EXPORT_H
#define UNIAP_SOLVER_EXPORT_H

#include "uniap_solver.h"

/* First line: the arguments; then "# ..." lines saying whether the plan is
 * expressible and what Megatron-LM cannot express. *text is malloc'd. */
int solver_export_megatron(const uniap_plan *p, const uniap_model *m, char **text);
/* galvatron_config JSON of the plan (transformer layers in the per-layer
 * lists; embedding and head as vtp/vsp/embed_sdp). *text is malloc'd. */
int solver_export_galvatron(const uniap_plan *p, const uniap_model *m, char **text);

#endif
