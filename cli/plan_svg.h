/*
 * plan_svg.h - a plan as a picture (plan_svg.c): what `uniap estimate
 * --svg/--html` and `uniap show` draw from an evaluated plan.
 */
#ifndef UNIAP_CLI_PLAN_SVG_H
#define UNIAP_CLI_PLAN_SVG_H

#include "uniap_costmodel.h"

/* An evaluated plan, per stage i < deg: forward and backward seconds of
 * one micro-batch, the transfer after it (comm[i], i < deg - 1), the tail
 * per iteration, memory per device by kind; per layer: its stage and
 * strategy name. last_end[deg] is scratch the writer fills (zeroed by the
 * caller). Arrays are the caller's. */
typedef struct uniap__svg_plan {
    uniap_schedule sched;
    const char *schedule;
    int deg, c, n_layers;
    double tpi, device_memory, budget;
    const double *fwd, *bwd, *comm, *tail, *states, *activations, *peak;
    const double *wgrad; /* [deg] W of bwd (split-backward schedules), or NULL */
    const int *stage_of;
    const char *const *strategy;
    double *last_end;
} uniap__svg_plan;

/* The picture as SVG (html 1: an HTML page with it inline) in *out
 * (malloc'd, the caller frees). EINVAL when the schedule has no timeline. */
int uniap__plan_svg(const uniap__svg_plan *s, int html, char **out);

#endif
