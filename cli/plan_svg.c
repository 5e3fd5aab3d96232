/*
 * plan_svg.c - a plan as a picture (issue 16 item 3), plain SVG written
 * here, no plotting library: three panels of one evaluated plan,
 *   1. the pipeline timeline of one iteration under its schedule
 *      (uniap_schedule_timeline): a row per stage, a box per forward and
 *      backward of each micro-batch, the tail (gradient sync, optimizer)
 *      after each stage's last backward, the time axis in seconds and the
 *      bubble left blank;
 *   2. per-stage memory per device against the device: model states,
 *      activations, transient peak stacked, the budget line and the
 *      framework reserve above it;
 *   3. the layer-to-stage map: a cell per layer coloured by its strategy,
 *      stage boundaries, and the legend of strategies.
 * Every box carries data-* attributes (stage, micro-batch, start, end in
 * seconds) so that tests and scripts read the picture back exactly.
 * `--html` wraps the same SVG in a page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_svg.h"

#define W       960.0 /* drawing width, px */
#define LEFT    110.0 /* labels column */
#define ROW     26.0  /* one stage row */
#define GAP     34.0  /* between panels */
#define PALETTE 10

/* Tableau 10: the strategy colours, in order of first use. */
static const char *const palette[PALETTE] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                             "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

/* Text escaped for XML (names come from files). */
static void esc(uniap_textbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            uniap_textbuf_printf(b, "&lt;");
        else if (*s == '>')
            uniap_textbuf_printf(b, "&gt;");
        else if (*s == '&')
            uniap_textbuf_printf(b, "&amp;");
        else if (*s == '"')
            uniap_textbuf_printf(b, "&quot;");
        else if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
            uniap_textbuf_printf(b, "%c", *s);
    }
}

/* A "nice" tick step (1, 2 or 5 x 10^k) for about n ticks over span. */
static double tick_step(double span, int n)
{
    double raw = span / n, p = 1.0;
    while (p * 10 <= raw)
        p *= 10;
    while (p > raw)
        p /= 10;
    return raw >= 5 * p ? 5 * p : raw >= 2 * p ? 2 * p : p;
}

static double timeline(const uniap__svg_plan *s, const uniap_timeline_op *ops, double end,
                       double y0, uniap_textbuf *b)
{
    double total = end, x1 = W - 20.0;
    for (int i = 0; i < s->deg; i++)
        if (s->last_end[i] + s->tail[i] > total)
            total = s->last_end[i] + s->tail[i];
    double k = (x1 - LEFT) / (total > 0 ? total : 1.0);
    uniap_textbuf_printf(b,
                         "<text x=\"10\" y=\"%.1f\" class=\"title\">Pipeline timeline: %s, %d "
                         "stages, %d micro-batches; iteration %.6g s (TPI %.6g s)</text>\n",
                         y0 + 14, s->schedule, s->deg, s->c, total, s->tpi);
    y0 += 24;
    for (int i = 0; i < s->deg; i++) {
        double y = y0 + i * ROW;
        uniap_textbuf_printf(b, "<text x=\"10\" y=\"%.1f\">stage %d</text>\n", y + 17, i);
        uniap_textbuf_printf(b,
                             "<rect class=\"lane\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                             "height=\"%.2f\"/>\n",
                             LEFT, y + 2, x1 - LEFT, ROW - 4);
    }
    for (int n = 0; n < s->deg * uniap_schedule_ops(s->sched, s->c); n++) {
        const uniap_timeline_op *o = &ops[n];
        double y = y0 + o->stage * ROW, x = LEFT + o->start * k, w = (o->end - o->start) * k;
        uniap_textbuf_printf(b,
                             "<rect class=\"%s\" data-stage=\"%d\" data-mb=\"%d\" "
                             "data-start=\"%.9g\" data-end=\"%.9g\" x=\"%.2f\" y=\"%.2f\" "
                             "width=\"%.2f\" height=\"%.2f\"/>\n",
                             o->backward == 2 ? "wgt"
                             : o->backward    ? "bwd"
                                              : "fwd",
                             o->stage, o->micro_batch, o->start, o->end, x, y + 3,
                             w > 0.5 ? w : 0.5, ROW - 6);
        if (w > 14)
            uniap_textbuf_printf(b, "<text class=\"mb\" x=\"%.2f\" y=\"%.2f\">%d</text>\n",
                                 x + w / 2, y + 17, o->micro_batch);
    }
    for (int i = 0; i < s->deg; i++)
        if (s->tail[i] > 0)
            uniap_textbuf_printf(b,
                                 "<rect class=\"tail\" data-stage=\"%d\" data-start=\"%.9g\" "
                                 "data-end=\"%.9g\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                                 "height=\"%.2f\"/>\n",
                                 i, s->last_end[i], s->last_end[i] + s->tail[i],
                                 LEFT + s->last_end[i] * k, y0 + i * ROW + 3, s->tail[i] * k,
                                 ROW - 6);
    /* the time axis */
    double ya = y0 + s->deg * ROW + 4, step = tick_step(total, 8);
    uniap_textbuf_printf(b,
                         "<line class=\"axis\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
                         LEFT, ya, x1, ya);
    for (double t = 0; t <= total * (1 + 1e-9) && step > 0; t += step)
        uniap_textbuf_printf(b,
                             "<line class=\"tick\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" "
                             "y2=\"%.2f\"/><text class=\"tick\" x=\"%.2f\" y=\"%.2f\">%.3g "
                             "s</text>\n",
                             LEFT + t * k, ya, LEFT + t * k, ya + 4, LEFT + t * k, ya + 16, t);
    uniap_textbuf_printf(b,
                         "<text x=\"%.2f\" y=\"%.2f\" class=\"legend\"><tspan class=\"kf\">"
                         "&#9632;</tspan> forward  <tspan class=\"kb\">&#9632;</tspan> backward "
                         "(with recompute)%s  <tspan class=\"kt\">&#9632;</tspan> tail (gradient "
                         "sync, optimizer)  blank: bubble</text>\n",
                         LEFT, ya + 34,
                         uniap_schedule_ops(s->sched, s->c) > 2 * s->c
                             ? "  <tspan class=\"kw\">&#9632;</tspan> W (weight gradients)"
                             : "");
    return ya + 44;
}

static double memory(const uniap__svg_plan *s, double y0, uniap_textbuf *b)
{
    double x1 = W - 20.0, k = (x1 - LEFT) / (s->device_memory > 0 ? s->device_memory : 1.0);
    uniap_textbuf_printf(b,
                         "<text x=\"10\" y=\"%.1f\" class=\"title\">Memory per device (GiB): "
                         "device %.2f, budget %.2f, reserve %.2f</text>\n",
                         y0 + 14, s->device_memory / 1073741824.0, s->budget / 1073741824.0,
                         (s->device_memory - s->budget) / 1073741824.0);
    y0 += 24;
    for (int i = 0; i < s->deg; i++) {
        double y = y0 + i * ROW, x = LEFT;
        const double part[3] = {s->states[i], s->activations[i], s->peak[i]};
        static const char *const cls[3] = {"states", "acts", "peak"};
        uniap_textbuf_printf(b, "<text x=\"10\" y=\"%.1f\">stage %d</text>\n", y + 17, i);
        for (int j = 0; j < 3; j++) {
            uniap_textbuf_printf(b,
                                 "<rect class=\"%s\" data-stage=\"%d\" data-bytes=\"%.0f\" "
                                 "x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>\n",
                                 cls[j], i, part[j], x, y + 3, part[j] * k, ROW - 6);
            x += part[j] * k;
        }
    }
    double yb = y0 + s->deg * ROW;
    uniap_textbuf_printf(b,
                         "<rect class=\"reserve\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                         "height=\"%.2f\"/>\n<line class=\"budget\" x1=\"%.2f\" y1=\"%.2f\" "
                         "x2=\"%.2f\" y2=\"%.2f\"/>\n",
                         LEFT + s->budget * k, y0, (s->device_memory - s->budget) * k, yb - y0,
                         LEFT + s->budget * k, y0, LEFT + s->budget * k, yb);
    uniap_textbuf_printf(b,
                         "<text x=\"%.2f\" y=\"%.2f\" class=\"legend\"><tspan class=\"ks\">"
                         "&#9632;</tspan> model states  <tspan class=\"ka\">&#9632;</tspan> "
                         "activations  <tspan class=\"kp\">&#9632;</tspan> transient peak  | "
                         "budget line, grey: framework reserve</text>\n",
                         LEFT, yb + 16);
    return yb + 28;
}

static double layer_map(const uniap__svg_plan *s, double y0, uniap_textbuf *b)
{
    double x1 = W - 20.0, cw = (x1 - LEFT) / (s->n_layers > 0 ? s->n_layers : 1);
    const char **names = calloc((size_t)s->n_layers + 1, sizeof(*names));
    int n_names = 0;

    uniap_textbuf_printf(b,
                         "<text x=\"10\" y=\"%.1f\" class=\"title\">Layers to stages (%d layers), "
                         "coloured by strategy</text>\n",
                         y0 + 14, s->n_layers);
    y0 += 24;
    for (int u = 0; u < s->n_layers; u++) {
        int k = 0;
        while (names && k < n_names && strcmp(names[k], s->strategy[u]) != 0)
            k++;
        if (names && k == n_names)
            names[n_names++] = s->strategy[u];
        uniap_textbuf_printf(b,
                             "<rect class=\"layer\" data-layer=\"%d\" data-stage=\"%d\" "
                             "data-strategy=\"",
                             u, s->stage_of[u]);
        esc(b, s->strategy[u]);
        uniap_textbuf_printf(b,
                             "\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                             "fill=\"%s\"/>\n",
                             LEFT + u * cw, y0 + 2, cw, ROW - 4, palette[k % PALETTE]);
        if (u > 0 && s->stage_of[u] != s->stage_of[u - 1])
            uniap_textbuf_printf(b,
                                 "<line class=\"boundary\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" "
                                 "y2=\"%.2f\"/>\n",
                                 LEFT + u * cw, y0 - 2, LEFT + u * cw, y0 + ROW + 2);
    }
    uniap_textbuf_printf(b, "<text x=\"10\" y=\"%.1f\">layers</text>\n", y0 + 17);
    double y = y0 + ROW + 16;
    for (int k = 0; k < n_names; k++, y += 16) {
        uniap_textbuf_printf(b,
                             "<rect x=\"%.2f\" y=\"%.2f\" width=\"12\" height=\"12\" "
                             "fill=\"%s\"/><text x=\"%.2f\" y=\"%.2f\">",
                             LEFT, y - 10, palette[k % PALETTE], LEFT + 18, y);
        esc(b, names[k]);
        uniap_textbuf_printf(b, "</text>\n");
    }
    free(names);
    return y + 4;
}

int uniap__plan_svg(const uniap__svg_plan *s, int html, char **out)
{
    uniap_timeline_op *ops = NULL;
    uniap_textbuf body = {0}, doc = {0};
    double end;
    int rc;

    *out = NULL;
    if ((rc = uniap_schedule_timeline_w(s->sched, s->deg, s->c, s->fwd, s->bwd, s->wgrad, s->comm,
                                        &ops, &end)) < 0)
        return rc;
    for (int n = 0; n < s->deg * uniap_schedule_ops(s->sched, s->c); n++)
        if (ops[n].end > s->last_end[ops[n].stage])
            s->last_end[ops[n].stage] = ops[n].end;
    double y = timeline(s, ops, end, 6, &body);
    y = memory(s, y + GAP / 2, &body);
    y = layer_map(s, y + GAP / 2, &body);
    free(ops);
    if (html)
        uniap_textbuf_printf(&doc, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                                   "<title>uniap plan</title></head><body>\n");
    else
        uniap_textbuf_printf(&doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    uniap_textbuf_printf(
        &doc,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
        "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
        "font-size=\"12\">\n<style>\n"
        ".title{font-weight:bold} .lane{fill:#f4f4f4} .fwd{fill:#4e79a7} "
        ".bwd{fill:#f28e2b} .wgt{fill:#b07aa1} .tail{fill:#9d9d9d} .mb{fill:#fff;font-size:10px;"
        "text-anchor:middle} .axis,.tick{stroke:#333} text.tick{stroke:none;"
        "font-size:10px;text-anchor:middle} .states{fill:#59a14f} "
        ".acts{fill:#edc948} .peak{fill:#e15759} .reserve{fill:#ddd;"
        "fill-opacity:0.6} .budget{stroke:#000;stroke-width:2} "
        ".boundary{stroke:#000;stroke-width:2} .kf{fill:#4e79a7} "
        ".kb{fill:#f28e2b} .kw{fill:#b07aa1} .kt{fill:#9d9d9d} .ks{fill:#59a14f} "
        ".ka{fill:#edc948} .kp{fill:#e15759}\n</style>\n"
        "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n"
        "%s</svg>\n",
        W, y, W, y, W, y, body.s ? body.s : "");
    if (html)
        uniap_textbuf_printf(&doc, "</body></html>\n");
    free(body.s);
    if (doc.oom || body.oom) {
        free(doc.s);
        return uniap_err(UNIAP_ENOMEM, "plan picture: out of memory");
    }
    *out = doc.s;
    return UNIAP_OK;
}
