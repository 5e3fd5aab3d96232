/*
 * prof_sweep.c - the measurement driver: builds the sweep (every distinct
 * layer shape of the model at each tp and micro-batch size, then the GEMM
 * shapes (prof_gemm.c), then every collective item), drops what a
 * --resume file already holds, runs the rest with progress on stderr from
 * rank 0, stops early on SIGTERM/SIGINT
 * or skips what would overrun --time-limit, and writes every rank's rows
 * into one profile dataset.
 *
 * The dataset is written while the sweep runs (prof_output.c): it exists,
 * marked incomplete (complete = 0), before the first measurement, every
 * item's rows go to rank 0, which rewrites the file atomically every few
 * seconds, and the last snapshot is marked complete. A crash, kill -9 or
 * node failure leaves the last snapshot, which --resume continues. Rank 0
 * gathers and writes serially rather than every rank writing its own rows
 * with parallel HDF5 (uniap_profile_write_parallel, which the profiler
 * used before and io keeps): appending in parallel would stop every rank
 * for each flush, and an in-place HDF5 file is unreadable after its writer
 * dies between two flushes.
 *
 * Tensor-parallel degrees: a layer's time at tp = k is that of one rank
 * computing its 1/k shard, wherever the other k - 1 ranks are, so every
 * rank measures every degree the planner can ask for (the divisors of the
 * device count, default --tp) on its own, also those above the ranks of one
 * node; the collectives of TP groups that span nodes come from the
 * spanning groups of the collective sweep (coll_driver.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "cpu_kernels.h"
#include "prof_check.h"
#include "prof_driver.h"
#include "prof_util.h"
#ifdef UNIAP_HAVE_CUDA
#include "cuda/cuda_layers.h"
#endif

volatile sig_atomic_t prof_stop_signal;

static void on_signal(int sig)
{
    prof_stop_signal = sig;
}

int prof_agree(MPI_Comm comm, int rc)
{
    int arrived = 0;
    /* wait for every rank without spinning, then the agreement proper */
    int wrc = prof_allreduce_lazy(&arrived, 1, MPI_INT, MPI_MAX, comm);
    return uniap_mpi_agree(comm, rc < 0 ? rc : wrc);
}

static void human_bytes(int64_t b, char *buf, size_t n)
{
    if (b >= (1 << 30) && b % (1 << 30) == 0)
        snprintf(buf, n, "%lld GiB", (long long)(b >> 30));
    else if (b >= (1 << 20) && b % (1 << 20) == 0)
        snprintf(buf, n, "%lld MiB", (long long)(b >> 20));
    else if (b >= 1024 && b % 1024 == 0)
        snprintf(buf, n, "%lld KiB", (long long)(b >> 10));
    else
        snprintf(buf, n, "%lld B", (long long)b);
}

static void human_seconds(double s, char *buf, size_t n)
{
    if (s < 60)
        snprintf(buf, n, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else
        snprintf(buf, n, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
}

static void item_label(const prof_coll_ctx *ctx, const prof_item *it, char *buf, size_t n)
{
    if (it->kind == PROF_ITEM_LAYER) {
        snprintf(buf, n, "layer %s tp %d micro-batch %d", it->sig, it->tp, it->mb);
        return;
    }
    if (it->kind == PROF_ITEM_GEMM) {
        prof_gemm_label(it, buf, n);
        return;
    }
    const prof_group *g = &ctx->groups[it->coll.group];
    char sz[32], where[48];
    human_bytes(it->coll_bytes, sz, sizeof(sz));
    if (g->p2p)
        snprintf(where, sizeof(where), "ranks %d->%d %s", g->members[0], g->members[1],
                 g->spans_nodes ? "between nodes" : "inside a node");
    else
        snprintf(where, sizeof(where), "n=%d %s", g->size,
                 g->spans_nodes ? "spanning nodes" : "inside a node");
    snprintf(buf, n, "%s %s %s", uniap_coll_name(it->coll.op), where, sz);
}

static int push_item(prof_item **v, int *n, int *cap, const prof_item *it)
{
    if (*n == *cap) {
        int nc = *cap ? 2 * *cap : 64;
        prof_item *nv = realloc(*v, sizeof(**v) * (size_t)nc);
        if (!nv)
            return uniap_err(UNIAP_ENOMEM, "profiler: sweep items");
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = *it;
    return 0;
}

/* Layer items (micro-batch ascending outermost), GEMM items, then
 * collective items. */
static int build_items(const prof_options *o, const uniap_model *m, const prof_coll_ctx *ctx,
                       prof_item **items, int *n_items)
{
    prof_item *v = NULL, it;
    int n = 0, cap = 0, rc = 0;
    for (int b = 0; !o->skip_layers && b < o->n_mb; b++)
        for (int r = 0; r < m->n_runs; r++) {
            char sig[96];
            int seen = 0;
            if ((rc = uniap_layer_signature(&m->runs[r], sig, sizeof(sig))) < 0)
                goto fail;
            for (int q = 0; q < r && !seen; q++) {
                char s2[96];
                seen =
                    uniap_layer_signature(&m->runs[q], s2, sizeof(s2)) == 0 && strcmp(s2, sig) == 0;
            }
            for (int t = 0; !seen && t < o->n_tp; t++) {
                prof_shard sh;
                if (prof_layer_shard(&m->runs[r], m->seq_len, o->tp[t], o->mb[b], &sh) < 0) {
                    uniap_err_clear(); /* tp does not split this layer: not measured */
                    continue;
                }
                memset(&it, 0, sizeof(it));
                it.kind = PROF_ITEM_LAYER;
                it.run = r;
                snprintf(it.sig, sizeof(it.sig), "%s", sig);
                it.tp = o->tp[t];
                it.mb = o->mb[b];
                if ((rc = push_item(&v, &n, &cap, &it)) < 0)
                    goto fail;
            }
        }
    for (int g = 0; !o->skip_gemm && g < o->n_gemm; g++) {
        memset(&it, 0, sizeof(it));
        it.kind = PROF_ITEM_GEMM;
        it.gemm = o->gemm[g];
        it.gemm_dtype = prof_gemm_dtype(o, m);
        if ((rc = push_item(&v, &n, &cap, &it)) < 0)
            goto fail;
    }
    if (!o->skip_collectives && ctx->n_groups > 0) {
        prof_coll_item *ci = NULL;
        int nc = 0;
        if ((rc = prof_coll_items(ctx, o->want_coll, o->min_bytes, o->max_bytes, &ci, &nc)) < 0)
            goto fail;
        for (int i = 0; i < nc && rc == 0; i++) {
            int64_t sb, rb;
            memset(&it, 0, sizeof(it));
            it.coll = ci[i];
            it.coll_bytes = prof_coll_table(ci[i].op)->buffers(
                ci[i].bytes, ctx->groups[ci[i].group].size, &sb, &rb);
            if (it.coll_bytes > 0)
                rc = push_item(&v, &n, &cap, &it);
        }
        free(ci);
        if (rc < 0)
            goto fail;
    }
    *items = v;
    *n_items = n;
    return 0;
fail:
    free(v);
    return rc;
}

/* Rank 0's guess of an item's seconds from the items measured so far
 * (0 when nothing comparable was measured yet). */
static double estimate(const prof_item *items, const double *cost, int i)
{
    const prof_item *it = &items[i];
    double best = 0.0;
    int64_t best_size = 0;
    for (int k = 0; k < i; k++) {
        const prof_item *d = &items[k];
        if (cost[k] <= 0 || d->kind != it->kind)
            continue;
        if (it->kind == PROF_ITEM_GEMM) {
            /* by FLOPs, from the largest GEMM measured so far */
            double f = (double)d->gemm.m * d->gemm.n * d->gemm.k;
            if (f > (double)best_size) {
                best = cost[k] * (double)it->gemm.m * it->gemm.n * it->gemm.k / f;
                best_size = (int64_t)f;
            }
        } else if (it->kind == PROF_ITEM_LAYER && d->run == it->run) {
            double e = cost[k] * (double)it->mb / d->mb * (double)d->tp / it->tp;
            if (d->mb * 1000 + (d->tp == it->tp) > best_size)
                best = e, best_size = d->mb * 1000 + (d->tp == it->tp);
        } else if (it->kind == PROF_ITEM_COLL && d->coll.op == it->coll.op &&
                   d->coll.group == it->coll.group && d->coll_bytes > best_size) {
            best = cost[k] * (double)it->coll_bytes / (double)d->coll_bytes;
            best_size = d->coll_bytes;
        }
    }
    return best;
}

static void report_left_out(const prof_coll_ctx *ctx, const prof_item *items, int n,
                            const char *why)
{
    int left = 0;
    for (int i = 0; i < n; i++)
        left += !items[i].done;
    if (!left)
        return;
    fprintf(stderr, "uniap profile: %s: left out %d item%s:\n", why, left, left == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        char label[256];
        if (items[i].done || items[i].kind == PROF_ITEM_COLL)
            continue;
        item_label(ctx, &items[i], label, sizeof(label));
        fprintf(stderr, "  %s\n", label);
    }
    for (int op = 0; op < UNIAP_COLL_COUNT; op++) {
        int cnt = 0;
        int64_t lo = 0, hi = 0;
        for (int i = 0; i < n; i++) {
            if (items[i].done || items[i].kind != PROF_ITEM_COLL || (int)items[i].coll.op != op)
                continue;
            if (!cnt || items[i].coll_bytes < lo)
                lo = items[i].coll_bytes;
            if (!cnt || items[i].coll_bytes > hi)
                hi = items[i].coll_bytes;
            cnt++;
        }
        if (cnt) {
            char a[32], b[32];
            human_bytes(lo, a, sizeof(a));
            human_bytes(hi, b, sizeof(b));
            fprintf(stderr, "  %s: %d measurement%s of %s to %s\n", uniap_coll_name(op), cnt,
                    cnt == 1 ? "" : "s", a, b);
        }
    }
}

/* Measures one item on every rank and sends its rows to rank 0, which
 * writes a snapshot when one is due; agreed. */
static int measure_item(const prof_options *o, MPI_Comm world, const uniap_model *m,
                        prof_coll_ctx *ctx, const prof_item *it, prof_output *out)
{
    uniap_layer_prof lrow;
    uniap_gemm_prof grow;
    uniap_coll_prof crow;
    int me, have = 0, rc, arrived = 0;
    MPI_Comm_rank(world, &me);
    if (it->kind == PROF_ITEM_LAYER) {
        rc = prof_measure_layer(o, m, it, me, &lrow);
        have = rc == 0;
    } else if (it->kind == PROF_ITEM_GEMM) {
        rc = prof_measure_gemm(o, it, me, &grow);
        have = rc == 0;
    } else {
        rc = prof_coll_measure(ctx, &it->coll, o->warmup, o->iters, &crow, &have);
        have = have && rc == 0;
    }
    /* the rows of the ranks that measured reach rank 0 even when another
     * failed; every rank waits for the slowest by sleeping, not spinning */
    int orc = prof_allreduce_lazy(&arrived, 1, MPI_INT, MPI_MAX, world);
    if (orc == 0 && it->kind == PROF_ITEM_LAYER)
        orc = prof_output_layer(out, world, &lrow, have);
    else if (orc == 0 && it->kind == PROF_ITEM_GEMM)
        orc = prof_output_gemm(out, world, &grow, have);
    else if (orc == 0)
        orc = prof_output_coll(out, world, ctx->groups[it->coll.group].members[0], &crow, have);
    if (orc == 0 && me == 0)
        orc = prof_output_maybe_flush(out);
    return uniap_mpi_agree(world, rc < 0 ? rc : orc);
}

/* The sweep proper on every rank; rows go to out on rank 0. */
static int run_items(const prof_options *o, MPI_Comm world, const uniap_model *m,
                     prof_coll_ctx *ctx, prof_item *items, int n_items, prof_output *out,
                     int *interrupted, int *trimmed)
{
    int me, rc = 0, todo = 0, done_now = 0;
    double t_start = prof_now(), last_print = -1e9;
    double *cost = calloc((size_t)(n_items + 1), sizeof(double));
    if (!cost)
        return uniap_err(UNIAP_ENOMEM, "profiler: item costs");
    MPI_Comm_rank(world, &me);
    for (int i = 0; i < n_items; i++)
        todo += !items[i].done;
    for (int i = 0; i < n_items; i++) {
        prof_item *it = &items[i];
        if (it->done)
            continue;
        /* stop on a signal anywhere; skip what rank 0 predicts would overrun */
        int flags[2] = {prof_stop_signal != 0, 0};
        double elapsed = prof_now() - t_start, est = me == 0 ? estimate(items, cost, i) : 0.0;
        if (me == 0 && o->time_limit > 0 && elapsed + est > o->time_limit)
            flags[1] = 1;
        if ((rc = prof_allreduce_lazy(flags, 2, MPI_INT, MPI_MAX, world)) < 0)
            goto free_cost;
        if (flags[0]) {
            *interrupted = 1;
            break;
        }
        if (flags[1]) {
            *trimmed = 1;
            continue;
        }
        double now = prof_now();
        /* every layer and GEMM item, the first collective, then at most once a second */
        int coll = it->kind == PROF_ITEM_COLL;
        int first_coll = coll && (i == 0 || items[i - 1].kind != PROF_ITEM_COLL);
        if (me == 0 && (!coll || first_coll || now - last_print >= 1.0)) {
            char label[256], left[32] = "?";
            double per = done_now ? (now - t_start) / done_now : 0.0, rest = 0.0;
            for (int k = i; k < n_items; k++)
                if (!items[k].done) {
                    double e = estimate(items, cost, k);
                    rest += e > 0 ? e : per;
                }
            if (done_now)
                human_seconds(rest, left, sizeof(left));
            item_label(ctx, it, label, sizeof(label));
            fprintf(stderr, "uniap profile: [%d/%d %5.1f%%] %s, time left ~%s\n", done_now + 1,
                    todo, 100.0 * done_now / (todo ? todo : 1), label, left);
            last_print = now;
        }
        if ((rc = measure_item(o, world, m, ctx, it, out)) < 0)
            goto free_cost;
        cost[i] = prof_now() - now;
        it->done = 1;
        done_now++;
    }
free_cost:
    free(cost);
    return rc;
}

static int default_lists(prof_options *o, const prof_topology *t)
{
    /* every degree a plan for the measured machine can use: TP groups lie
     * inside a pipeline stage, whose device count divides the machine's */
    int devices = t->n_nodes * t->max_local;
    if (o->n_tp == 0)
        for (int d = 1; d <= devices && o->n_tp < PROF_MAX_LIST; d++)
            if (devices % d == 0)
                o->tp[o->n_tp++] = d;
    if (o->n_mb == 0) {
        o->mb[0] = 1, o->mb[1] = 2, o->mb[2] = 4;
        o->n_mb = 3;
    }
    return 0;
}

/* What prof_run sets up and tears down. */
typedef struct run_state {
    prof_options o;
    MPI_Comm world;
    int me, size;
    prof_topology topo;
    prof_coll_ctx ctx;
    uniap_model model;
    char *model_json;
    prof_output out;
    prof_item *items;
    int n_items;
} run_state;

/* Refuses, on every rank, unless all ranks built the same sweep: ranks
 * given different models or options would otherwise pair different
 * collectives and hang or fail with MPI errors that name no cause. */
static int same_items(const run_state *s)
{
    uniap_textbuf t = {0};
    int rc = 0;
    uniap_textbuf_printf(&t, "%s|%d", s->model_json ? s->model_json : "", s->n_items);
    for (int i = 0; i < s->n_items; i++) {
        const prof_item *it = &s->items[i];
        uniap_textbuf_printf(&t, "|%d %s %d %d %d %d %lld %lldx%lldx%lld %d", (int)it->kind,
                             it->sig, it->tp, it->mb, (int)it->coll.op, it->coll.group,
                             (long long)it->coll_bytes, (long long)it->gemm.m,
                             (long long)it->gemm.n, (long long)it->gemm.k, (int)it->gemm_dtype);
    }
    if (t.oom)
        rc = uniap_err(UNIAP_ENOMEM, "profiler: comparing the sweep across ranks");
    if ((rc = uniap_mpi_agree(s->world, rc)) == 0)
        rc = uniap_mpi_same(s->world, t.s, t.n, "the sweep to measure (model spec and options)");
    free(t.s);
    return rc;
}

/* --backend cuda measures layers only of the kinds with CUDA kernels:
 * refuse the others before any device or measurement. */
static int cuda_kinds_ok(const prof_options *o, const uniap_model *m)
{
#ifdef UNIAP_HAVE_CUDA_LAYERS
    for (int r = 0; o->backend == PROF_BACKEND_CUDA && !o->skip_layers && r < m->n_runs; r++)
        if (!prof_cuda_layer_kind_supported(m->runs[r].kind))
            return uniap_err(UNIAP_EINVAL,
                             "profiler: --backend cuda: no CUDA kernel for %s layers (layer run "
                             "%d); measure them with --backend cpu, or pass --skip-layers",
                             uniap_layer_kind_name(m->runs[r].kind), r);
#else
    (void)o, (void)m;
#endif
    return 0;
}

/* Everything before the first measurement, with the same verdict on every
 * rank: model, node layout, lists, device, ranks table, collective groups,
 * the sweep's items. */
static int setup(run_state *s)
{
    uniap_rank_info ri;
    int rc = uniap_model_resolve(s->o.model, &s->model);
    if (rc == 0)
        rc = uniap_model_to_json(&s->model, &s->model_json);
    if (rc == 0)
        rc = cuda_kinds_ok(&s->o, &s->model);
    if ((rc = prof_agree(s->world, rc)) < 0 ||
        (rc = prof_agree(s->world, prof_topology_detect(s->world, s->o.ranks_per_node, &s->topo))) <
            0)
        return rc;
    default_lists(&s->o, &s->topo);
    if (!s->o.skip_gemm)
        prof_gemm_default_shapes(&s->o);
    if (s->o.backend == PROF_BACKEND_CPU) {
        /* the machine's cores shared among the ranks on it */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        int threads = (int)(cores / (s->topo.host_local_size > 0 ? s->topo.host_local_size : 1));
        openblas_set_num_threads(threads > 0 ? threads : 1);
    }
#ifdef UNIAP_HAVE_CUDA
    else if ((rc = prof_agree(s->world, prof_cuda_select_device(s->topo.host_local_rank))) < 0)
        return rc;
#endif
    if ((rc = prof_agree(s->world, prof_rank_info(&s->topo, s->o.backend, &ri))) < 0 ||
        (rc = prof_output_open(&s->out, s->world, &s->topo, s->o.out, &ri)) < 0)
        return rc;
    if (!s->o.skip_collectives &&
        (rc = prof_agree(s->world, prof_coll_setup(s->world, &s->topo, s->o.backend, &s->ctx))) < 0)
        return rc;
    if ((rc = prof_agree(s->world,
                         build_items(&s->o, &s->model, &s->ctx, &s->items, &s->n_items))) < 0)
        return rc;
    return same_items(s);
}

/* --resume (rank 0 reads the old profile, every rank learns what is done),
 * rank 0's root attributes, the announcement, and the first snapshot. */
static int start(run_state *s)
{
    int rc = 0;
    if (s->o.resume) {
        char *done = calloc((size_t)s->n_items + 1, 1);
        rc = done ? 0 : uniap_err(UNIAP_ENOMEM, "profiler: resume flags");
        if (rc == 0 && s->me == 0)
            rc = prof_resume_from(&s->o, &s->ctx, s->model_json, s->size, s->items, s->n_items,
                                  &s->out.p);
        for (int i = 0; done && i < s->n_items; i++)
            done[i] = (char)s->items[i].done;
        if ((rc = prof_agree(s->world, rc)) == 0)
            rc = MPI_Bcast(done, s->n_items, MPI_CHAR, 0, s->world) == MPI_SUCCESS
                     ? 0
                     : uniap_err(UNIAP_ELIB, "profiler: resume flags: MPI_Bcast failed");
        for (int i = 0; done && rc == 0 && i < s->n_items; i++)
            s->items[i].done = done[i];
        free(done);
        if ((rc = prof_agree(s->world, rc)) < 0)
            return rc;
    }
    if (s->me == 0) {
        uniap_profile *p = &s->out.p;
        int todo = 0;
        p->world_size = s->size;
        snprintf(p->provenance, sizeof(p->provenance), "measured");
        p->model_json = s->model_json;
        s->model_json = NULL;
        if (s->o.command_line && !(p->command_line = strdup(s->o.command_line)))
            rc = uniap_err(UNIAP_ENOMEM, "profiler: command line");
        for (int i = 0; i < s->n_items; i++)
            todo += !s->items[i].done;
        fprintf(stderr,
                "uniap profile: %s on %d rank%s (%d node%s, %d per node, backend %s): %d items "
                "to measure%s\n",
                s->model.name, s->size, s->size == 1 ? "" : "s", s->topo.n_nodes,
                s->topo.n_nodes == 1 ? "" : "s", s->topo.max_local,
                s->o.backend == PROF_BACKEND_CUDA ? "cuda" : "cpu", todo,
                s->o.resume ? " (resumed)" : "");
    }
    if ((rc = prof_agree(s->world, rc)) < 0)
        return rc;
    return prof_output_start(&s->out, s->world);
}

/* The last snapshot and what rank 0 says about it. rc: the sweep's. */
static int finish(run_state *s, int rc, int interrupted, int trimmed)
{
    const uniap_profile *p = &s->out.p;
    int complete = rc == 0 && !interrupted && !trimmed;
    if (rc < 0) {
        /* keep what was measured for --resume; the sweep's error stays the
         * cause (the message is not replaced) */
        char cause[2048];
        snprintf(cause, sizeof(cause), "%s", uniap_errmsg());
        int frc = prof_output_finish(&s->out, s->world, 0);
        uniap_err_clear();
        uniap_err(rc, "%s", cause);
        if (frc == 0 && s->me == 0)
            fprintf(stderr,
                    "uniap profile: %s holds what was measured (%d layer rows, %d GEMM rows, %d "
                    "collective rows), marked incomplete: finish it with --resume %s\n",
                    s->o.out, p->n_layers, p->n_gemm, p->n_colls, s->o.out);
        return rc;
    }
    if ((rc = prof_output_finish(&s->out, s->world, complete)) < 0)
        return rc;
    if (s->me == 0) {
        if (interrupted)
            report_left_out(&s->ctx, s->items, s->n_items, "interrupted by a signal");
        else if (trimmed)
            report_left_out(&s->ctx, s->items, s->n_items, "time limit");
        fprintf(stderr,
                "uniap profile: wrote %s: %d layer rows, %d GEMM rows, %d collective rows, %d "
                "ranks (%s)\n",
                s->o.out, p->n_layers, p->n_gemm, p->n_colls, s->size,
                complete ? "complete" : "incomplete: finish it with --resume");
    }
    if (interrupted)
        return uniap_err(UNIAP_EINTR, "interrupted by signal %d; %s holds what was measured",
                         (int)prof_stop_signal, s->o.out);
    return 0;
}

int prof_run(const prof_options *opts)
{
    run_state s;
    int rc, started = 0, interrupted = 0, trimmed = 0;
    struct sigaction sa, old_term, old_int;

    memset(&s, 0, sizeof(s));
    s.o = *opts;
    uniap_profile_init(&s.out.p);
    s.world = MPI_COMM_NULL;
    if (MPI_Comm_dup(MPI_COMM_WORLD, &s.world) != MPI_SUCCESS)
        return uniap_err(UNIAP_ELIB, "profiler: MPI_Comm_dup failed");
    MPI_Comm_set_errhandler(s.world, MPI_ERRORS_RETURN);
    MPI_Comm_rank(s.world, &s.me);
    MPI_Comm_size(s.world, &s.size);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    prof_stop_signal = 0;
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);

    if ((rc = setup(&s)) == 0 && (rc = start(&s)) == 0) {
        started = 1;
        rc = run_items(&s.o, s.world, &s.model, &s.ctx, s.items, s.n_items, &s.out, &interrupted,
                       &trimmed);
    }
    if (started)
        rc = finish(&s, rc, interrupted, trimmed);

    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    free(s.items);
    free(s.model_json);
    prof_coll_teardown(&s.ctx);
    prof_topology_free(&s.topo);
    uniap_model_free(&s.model);
    prof_output_free(&s.out);
    MPI_Comm_free(&s.world);
    return rc;
}
