/*
 * schedule.c - the table of pipeline schedules: one descriptor per
 * schedule (costmodel/sched_<name>.c), looked up by id and by name, and
 * the two formulas every user of a schedule reads from its descriptor: the
 * closed-form TPI (the evaluator, the solver's table bounds) and the
 * micro-batches of activations a stage holds (memory everywhere). The
 * MILP builder takes the same coefficients (uniap_schedule_terms_of), so
 * the evaluator and the MILP objective cannot drift apart.
 *
 * A new schedule: its file sched_<name>.c defining
 * `const uniap_schedule_desc uniap__sched_<name>`, one line in SCHEDULES
 * below, and the file in costmodel/CMakeLists.txt. Nothing else names a
 * schedule (names, options, plan files and exports all come from here).
 * Schedules may also be added at run time (uniap_schedule_register).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uniap_costmodel.h"

/* The built-in schedules in id order (UNIAP_SCHED_GPIPE = 0,
 * UNIAP_SCHED_1F1B = 1, then the others). */
#define SCHEDULES(X) X(gpipe) X(1f1b) X(interleaved2) X(interleaved3) X(interleaved4) X(zbh1)

#define DECLARE(n) extern const uniap_schedule_desc uniap__sched_##n;
SCHEDULES(DECLARE)
#undef DECLARE

#define SCHED_MAX 16 /* built-in + registered */
#define ENTRY(n)  &uniap__sched_##n,
static const uniap_schedule_desc *table[SCHED_MAX] = {SCHEDULES(ENTRY)};
#undef ENTRY
#define ONE(n) +1
enum { N_BUILTIN = 0 SCHEDULES(ONE) };
#undef ONE
_Static_assert(N_BUILTIN <= SCHED_MAX, "SCHED_MAX too small");

static int n_table = N_BUILTIN;
/* NULL-terminated names in id order (uniap_schedule_names); built on use */
static const char *names[SCHED_MAX + 1];
static int n_names = -1;

int uniap_schedule_count(void)
{
    return n_table;
}

const uniap_schedule_desc *uniap_schedule_get(uniap_schedule s)
{
    return s >= 0 && s < n_table ? table[s] : NULL;
}

const char *uniap_schedule_name(uniap_schedule s)
{
    const uniap_schedule_desc *d = uniap_schedule_get(s);
    return d ? d->name : "?";
}

const char *const *uniap_schedule_names(void)
{
    if (n_names != n_table) {
        for (int i = 0; i < n_table; i++)
            names[i] = table[i]->name;
        names[n_table] = NULL;
        n_names = n_table;
    }
    return names;
}

int uniap_schedule_list(char *buf, size_t size, const char *quote)
{
    size_t n = 0;
    if (size)
        buf[0] = 0;
    for (int i = 0; i < n_table; i++) {
        const char *sep = i == 0 ? "" : (i + 1 == n_table ? " or " : ", ");
        int w = snprintf(buf + n, size > n ? size - n : 0, "%s%s%s%s", sep, quote, table[i]->name,
                         quote);
        if (w < 0)
            return -1;
        n += (size_t)w;
    }
    return n < size ? (int)n : -1;
}

int uniap_schedule_parse(const char *name, uniap_schedule *out)
{
    char list[256];
    for (int i = 0; name && i < n_table; i++)
        if (strcmp(name, table[i]->name) == 0) {
            *out = i;
            return UNIAP_OK;
        }
    uniap_schedule_list(list, sizeof list, "");
    return uniap_err(UNIAP_EINVAL, "schedule '%s': expected %s", name ? name : "(null)", list);
}

int uniap_schedule_register(const uniap_schedule_desc *d, uniap_schedule *id)
{
    if (!d || !d->name || !*d->name || !d->terms || !d->inflight || d->virtual_stages < 0)
        return uniap_err(UNIAP_EINVAL,
                         "schedule '%s': a descriptor needs a name, terms, inflight and "
                         "virtual_stages >= 0",
                         d && d->name ? d->name : "(null)");
    for (int i = 0; i < n_table; i++)
        if (strcmp(d->name, table[i]->name) == 0)
            return uniap_err(UNIAP_EINVAL, "schedule '%s': already registered", d->name);
    if (n_table >= SCHED_MAX)
        return uniap_err(UNIAP_EINVAL, "schedule '%s': the table holds at most %d schedules",
                         d->name, SCHED_MAX);
    table[n_table] = d;
    *id = n_table++;
    return UNIAP_OK;
}

uniap_schedule_terms uniap_schedule_terms_of(uniap_schedule s, int c, int deg)
{
    const uniap_schedule_desc *d = uniap_schedule_get(s);
    uniap_schedule_terms none = {0, 0, 0, 0, 0, 0, 0};
    return d ? d->terms(c, deg) : none;
}

double uniap_schedule_tpi(uniap_schedule s, int c, int deg, double work, double slowest,
                          double tail)
{
    uniap_schedule_terms w = uniap_schedule_terms_of(s, c, deg);
    return w.fill * work + w.steady * slowest + w.tail * tail;
}

double uniap_schedule_tpi_xfer(uniap_schedule s, int c, int deg, double work, double comm,
                               double slowest, double slowest_comm, double tail)
{
    return uniap_schedule_tpi_w(s, c, deg, work, comm, slowest, slowest_comm, tail, 0.0, 0.0);
}

double uniap_schedule_tpi_w(uniap_schedule s, int c, int deg, double work, double comm,
                            double slowest, double slowest_comm, double tail, double wsum,
                            double wslow)
{
    uniap_schedule_terms w = uniap_schedule_terms_of(s, c, deg);
    double top = slowest > w.comm_max * slowest_comm ? slowest : w.comm_max * slowest_comm;
    double tpi = w.fill * work + w.comm * comm + w.steady * top + w.tail * tail;
    /* only split-backward schedules have W terms: the others' sums stay as
     * they were, bit for bit */
    if (w.wfill != 0.0 || w.wmax != 0.0)
        tpi = w.fill * work + w.wfill * wsum + w.wmax * wslow + w.comm * comm + w.steady * top +
              w.tail * tail;
    return tpi;
}

double uniap_inflight(uniap_schedule s, int c, int deg, int i)
{
    const uniap_schedule_desc *d = uniap_schedule_get(s);
    return d ? d->inflight(c, deg, i) : c;
}

int uniap_schedule_virtual_stages(uniap_schedule s)
{
    const uniap_schedule_desc *d = uniap_schedule_get(s);
    return d && d->virtual_stages > 1 ? d->virtual_stages : 1;
}

int uniap_schedule_runs(uniap_schedule s, int c, int deg)
{
    const uniap_schedule_desc *d = uniap_schedule_get(s);
    return d && (!d->check || d->check(c, deg, NULL, 0));
}

int uniap_schedule_plan_ok(uniap_schedule s, int c, int deg, const int *stage_of, int L, char *why,
                           size_t n)
{
    const uniap_schedule_desc *d = uniap_schedule_get(s);
    int v = uniap_schedule_virtual_stages(s), u = 0;
    if (why && n)
        why[0] = 0;
    if (!d) {
        if (why)
            snprintf(why, n, "schedule %d is not in the schedule table", s);
        return 0;
    }
    if (d->check && !d->check(c, deg, why, n))
        return 0;
    /* stage_of is contiguous and ordered (the evaluator checks it first) */
    for (int i = 0; i < deg && v > 1; i++) {
        int held = 0;
        for (; u < L && stage_of[u] == i; u++)
            held++;
        if (held < v) {
            if (why)
                snprintf(why, n,
                         "stage %d holds %d layer(s), expected at least %d (one per virtual "
                         "stage of %s)",
                         i, held, v, d->name);
            return 0;
        }
    }
    return 1;
}

/* ---- the timeline of one iteration (pictures) ---------------------------- */

int uniap_schedule_ops(uniap_schedule s, int c)
{
    const uniap_schedule_desc *d = uniap_schedule_get(s);
    return (d && d->split_backward ? 3 : 2) * c;
}

/* When operation op of stage i can start: its input's end (+ the transfer),
 * or -1 when that has not run yet. F: the stage before's F; B: the stage
 * after's B (the last stage: its own F); W (op > c): its own B. */
static double ready_at(int op, int i, int deg, int c, const double *fend, const double *bend,
                       const double *comm)
{
    int m = (op > c ? op - c : op > 0 ? op : -op) - 1;
    if (op > c)
        return bend[(size_t)i * c + m];
    if (op > 0)
        return i == 0 ? 0.0
                      : (fend[(size_t)(i - 1) * c + m] < 0
                             ? -1.0
                             : fend[(size_t)(i - 1) * c + m] + comm[i - 1]);
    return i == deg - 1
               ? fend[(size_t)i * c + m]
               : (bend[(size_t)(i + 1) * c + m] < 0 ? -1.0
                                                    : bend[(size_t)(i + 1) * c + m] + comm[i]);
}

int uniap_schedule_timeline(uniap_schedule s, int deg, int c, const double *fwd, const double *bwd,
                            const double *comm, uniap_timeline_op **ops, double *end)
{
    return uniap_schedule_timeline_w(s, deg, c, fwd, bwd, NULL, comm, ops, end);
}

int uniap_schedule_timeline_w(uniap_schedule s, int deg, int c, const double *fwd,
                              const double *bwd, const double *wgrad, const double *comm,
                              uniap_timeline_op **ops, double *end)
{
    const uniap_schedule_desc *d = uniap_schedule_get(s);
    size_t n = (size_t)uniap_schedule_ops(s, c);
    int *order = NULL, *next = NULL, rc = UNIAP_OK, split = d && d->split_backward;
    double *clock = NULL, *fend = NULL, *bend = NULL;

    *ops = NULL;
    *end = 0.0;
    if (!d || !d->order || deg < 1 || c < 1)
        return uniap_err(UNIAP_EINVAL, "timeline: schedule '%s' has no operation order",
                         uniap_schedule_name(s));
    order = malloc(sizeof(int) * n * deg);
    next = calloc((size_t)deg, sizeof(int));
    clock = calloc((size_t)deg, sizeof(double));
    fend = malloc(sizeof(double) * (size_t)deg * c); /* end of F(i, m), < 0 not yet run */
    bend = malloc(sizeof(double) * (size_t)deg * c);
    *ops = malloc(sizeof(**ops) * n * deg);
    if (!order || !next || !clock || !fend || !bend || !*ops) {
        rc = uniap_err(UNIAP_ENOMEM, "timeline: out of memory");
        goto free_all;
    }
    for (size_t k = 0; k < (size_t)deg * c; k++)
        fend[k] = bend[k] = -1.0;
    for (int i = 0; i < deg; i++)
        d->order(c, deg, i, order + n * i);
    /* run, stage by stage, every operation whose input is there, until all
     * have run; a pass that runs nothing would be a deadlock (an order no
     * pipeline can run) */
    for (size_t done = 0; done < n * deg;) {
        size_t before = done;
        for (int i = 0; i < deg; i++) {
            double w = split && wgrad ? wgrad[i] : 0.0; /* B runs bwd - w, W w */
            while ((size_t)next[i] < n) {
                int op = order[n * i + next[i]], m = (op > c ? op - c : op > 0 ? op : -op) - 1;
                double ready = ready_at(op, i, deg, c, fend, bend, comm);
                if (ready < 0)
                    break; /* its input is not there yet */
                uniap_timeline_op *o = &(*ops)[n * i + next[i]];
                o->stage = i, o->micro_batch = m, o->backward = op > c ? 2 : op < 0;
                o->start = ready > clock[i] ? ready : clock[i];
                o->end = o->start + (op > c ? w : op > 0 ? fwd[i] : bwd[i] - w);
                clock[i] = o->end;
                if (op <= c)
                    (op > 0 ? fend : bend)[(size_t)i * c + m] = o->end;
                *end = o->end > *end ? o->end : *end;
                next[i]++, done++;
            }
        }
        if (done == before) {
            rc = uniap_err(UNIAP_EINTERNAL, "timeline: schedule '%s' deadlocks on %d stages",
                           d->name, deg);
            goto free_all;
        }
    }
free_all:
    if (rc < 0) {
        free(*ops);
        *ops = NULL;
    }
    free(order);
    free(next);
    free(clock);
    free(fend);
    free(bend);
    return rc;
}
