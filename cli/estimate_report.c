/*
 * estimate_report.c - what `uniap estimate` writes of an evaluated plan
 * (estimate_internal.h): the report (plan, TPI, MFU, each stage's time and
 * memory by term), the plan file of --out, the pictures of --svg/--html,
 * and the cost tables of --dump-costs. Rank 0 only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_util.h"
#include "estimate_internal.h"
#include "plan_svg.h"

static void print_stage(const est_ctx *x, int i)
{
    const uniap_plan *p = &x->plan;
    const uniap_stage_breakdown *b = &x->sb[i];
    const uniap_plan_eval *ev = &x->ev;
    double reserve = (double)uniap_costmodel_reserve(x->cm);
    FILE *f = x->rep;
    fprintf(f, "stage %d: layers %d-%d, strategies", i, b->first_layer, b->last_layer);
    for (int u = b->first_layer; u <= b->last_layer;) {
        int v = u;
        while (v <= b->last_layer && strcmp(p->strategy_of[v].name, p->strategy_of[u].name) == 0)
            v++;
        fprintf(f, " %s x%d", p->strategy_of[u].name, v - u);
        u = v;
    }
    char ep[48] = ""; /* expert parallelism's all-to-alls, when a layer has them */
    if (b->ep_comm > 0)
        snprintf(ep, sizeof(ep), " + EP comm %.6f", b->ep_comm);
    fprintf(f,
            "\n  time per micro-batch: %.6f s = compute %.6f + TP comm %.6f + CP comm %.6f%s + DP "
            "comm %.6f + resharding %.6f; to next stage %.6f s\n",
            ev->stage_compute[i], b->compute, b->tp_comm, b->cp_comm, ep, b->dp_comm, b->reshard,
            i + 1 < x->t.deg ? ev->stage_comm[i] : 0.0);
    fprintf(f,
            "  tail per iteration: %.6f s = gradient sync (exposed) %.6f + parameter gather "
            "%.6f + optimizer %.6f\n",
            ev->stage_tail[i], b->sync_exposed, b->param_gather, b->optimizer);
    fprintf(f,
            "  memory per device: states %.0f B (%.3f GiB), activations %.0f B (%.3f GiB, %g "
            "micro-batch(es) in flight), peak %.0f B (%.3f GiB), total %.0f B (%.3f GiB); "
            "reserve %.0f B (%.3f GiB), budget %.0f B (%.3f GiB)%s\n",
            b->states, b->states / GIB, b->activations, b->activations / GIB, b->inflight, b->peak,
            b->peak / GIB, ev->stage_mem[i], ev->stage_mem[i] / GIB, reserve, reserve / GIB,
            uniap_ct_budget(&x->t, i), uniap_ct_budget(&x->t, i) / GIB,
            ev->stage_mem[i] > uniap_ct_budget(&x->t, i) ? "  DOES NOT FIT" : "");
}

void uniap__est_print(const est_ctx *x)
{
    const uniap_model *m = &x->in.model;
    const uniap_cluster *cl = &x->in.cluster;
    const uniap_cost_table *t = &x->t;
    fprintf(x->rep, "model %s (%d layers), cluster %s (%d x %d %s, %.1f GiB), profile %s\n",
            m->name, m->n_layers, cl->name, cl->nodes, cl->devices_per_node, cl->device_name,
            (double)cl->device_memory / GIB,
            x->a.req.profile ? x->a.req.profile : "analytic (from the cluster spec)");
    fprintf(x->rep,
            "plan: %d stage(s) of %d devices, %d micro-batches of %d samples (global batch "
            "%lld), schedule %s\n",
            t->deg, t->stage_devices, t->micro_batches, t->micro_batch,
            (long long)x->plan.global_batch, uniap_schedule_name(x->plan.schedule));
    fprintf(x->rep, "TPI %.6f s, throughput %.4f samples/s", x->ev.tpi, x->ev.throughput);
    double mfu = uniap_mfu(m, cl, x->plan.global_batch, x->ev.tpi);
    if (mfu > 0) /* model FLOPs 6N + attention per token (costmodel/mfu.c) */
        fprintf(x->rep, ", MFU %.1f %% (%.4g model PFLOP per iteration)", 100 * mfu,
                uniap_model_flops(m, x->plan.global_batch) / 1e15);
    fprintf(x->rep, "\n");
    for (int i = 0; i < t->deg; i++)
        print_stage(x, i);
    fflush(x->rep);
}

/* Rank 0: the estimated plan as plan JSON into --out (atomically), named
 * as uniap plan names its plans. */
int uniap__est_write_plan(est_ctx *x)
{
    uniap_plan *p = &x->plan;
    snprintf(p->model, sizeof p->model, "%s", x->in.model.name);
    snprintf(p->cluster, sizeof p->cluster, "%s", x->in.cluster.name);
    snprintf(p->profile, sizeof p->profile, "%s", x->a.req.profile ? x->a.req.profile : "analytic");
    snprintf(p->profile_checksum, sizeof p->profile_checksum, "%s", x->in.profile_checksum);
    snprintf(p->status, sizeof p->status, "%s", "estimated");
    p->micro_batch = x->t.micro_batch;
    p->tpi = x->ev.tpi;
    p->throughput = x->ev.throughput;
    p->mfu = uniap_mfu(&x->in.model, &x->in.cluster, p->global_batch, x->ev.tpi);
    free(p->search); /* a plan's search record is not this estimate's */
    p->search = NULL;
    int rc = uniap_plan_write_json(x->a.out, p, &x->in.model, &x->t, &x->ev);
    return rc < 0 ? uniap_err(rc, "--out %s: nothing written", x->a.out) : rc;
}

/* Rank 0: the picture (plan_svg.c) into --svg and --html, atomically,
 * both or neither. Forward: the stages' forward phase; backward: the rest
 * of the stage's time per micro-batch. */
int uniap__est_write_pictures(const est_ctx *x)
{
    const uniap_cost_table *t = &x->t;
    int D = t->deg, L = x->plan.n_layers, rc = UNIAP_OK;
    double *v = calloc((size_t)D * 3, sizeof(double));
    double *st = calloc((size_t)D * 3, sizeof(double));
    const char **names = calloc((size_t)L + 1, sizeof(*names));
    char *text[2] = {NULL, NULL};
    const char *path[2] = {x->a.svg, x->a.html};
    uniap_output o[2];
    int opened = 0;

    if (!v || !st || !names) {
        rc = uniap_err(UNIAP_ENOMEM, "estimate: out of memory");
        goto free_all;
    }
    for (int i = 0; i < D; i++) {
        v[i] = x->sb[i].forward;                             /* fwd */
        v[D + i] = fmax(0.0, x->ev.stage_compute[i] - v[i]); /* bwd */
        st[i] = x->sb[i].states, st[D + i] = x->sb[i].activations, st[2 * D + i] = x->sb[i].peak;
    }
    for (int u = 0; u < L; u++)
        names[u] = x->plan.strategy_of[u].name;
    uniap__svg_plan s = {.sched = x->plan.schedule,
                         .schedule = uniap_schedule_name(x->plan.schedule),
                         .deg = D,
                         .c = t->micro_batches,
                         .n_layers = L,
                         .tpi = x->ev.tpi,
                         .device_memory = (double)x->in.cluster.device_memory,
                         .budget = uniap_ct_budget(t, 0),
                         .fwd = v,
                         .bwd = v + D,
                         .wgrad = x->ev.stage_wgrad,
                         .comm = x->ev.stage_comm,
                         .tail = x->ev.stage_tail,
                         .states = st,
                         .activations = st + D,
                         .peak = st + 2 * D,
                         .stage_of = x->plan.stage_of,
                         .strategy = names,
                         .last_end = v + 2 * D};
    for (int k = 0; k < 2 && rc == 0; k++)
        if (path[k] && (rc = uniap__plan_svg(&s, k, &text[k])) < 0)
            rc = uniap_err(rc, "--%s %s: nothing written", k ? "html" : "svg", path[k]);
    for (int k = 0; k < 2 && rc == 0; k++)
        if (path[k] && (rc = uniap_output_open(&o[k], path[k], 1)) == 0) {
            opened |= 1 << k;
            if (fputs(text[k], o[k].f) < 0)
                rc = uniap_err(UNIAP_EIO, "--%s %s: cannot write", k ? "html" : "svg", path[k]);
        }
    for (int k = 0; k < 2; k++)
        if (opened & (1 << k)) {
            if (rc == 0)
                rc = uniap_output_commit(&o[k]);
            else
                uniap_output_abort(&o[k]);
        }
free_all:
    free(text[0]);
    free(text[1]);
    free(v);
    free(st);
    free(names);
    return rc;
}

/* Rank 0: the cost tables of n candidates into --dump-costs, atomically. */
int uniap__est_dump_costs(const est_ctx *x, const int *deg, const int *c, int n)
{
    uniap_output o;
    int rc = uniap_output_open(&o, x->a.dump, 1);
    if (rc < 0)
        return rc;
    rc = uniap_costs_write_json(o.f, x->cm, x->a.req.profile ? x->a.req.profile : "analytic", deg,
                                c, n, 1);
    if (rc < 0) {
        uniap_output_abort(&o);
        return uniap_err(rc, "--dump-costs %s: nothing written", x->a.dump);
    }
    return uniap_output_commit(&o);
}
