/*
 * prof_sweep.c - the measurement driver: builds the sweep (every distinct
 * layer shape of the model at each tp and micro-batch size, then every
 * collective item), drops what a --resume file already holds, runs the
 * rest with progress on stderr from rank 0, stops early on SIGTERM/SIGINT
 * or skips what would overrun --time-limit, and writes every rank's rows
 * into one profile dataset.
 *
 * Output is written with parallel HDF5 collective I/O
 * (uniap_profile_write_parallel), not gathered to rank 0: each rank
 * already holds its own layer rows (and the collective rows of the groups
 * it leads), so every rank writes its hyperslab directly and no rank needs
 * memory for the whole table; the file is still renamed into place
 * atomically, so a reader never sees a half-written profile.
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
    int me, n, mine, first;
    struct {
        int code;
        char msg[1536];
    } m;
    MPI_Comm_rank(comm, &me);
    MPI_Comm_size(comm, &n);
    mine = rc < 0 ? me : n;
    if (prof_allreduce_lazy(&mine, 1, MPI_INT, MPI_MIN, comm) < 0)
        return uniap_err(UNIAP_ELIB, "profiler: agreeing on a status");
    first = mine;
    if (first == n)
        return 0;
    memset(&m, 0, sizeof(m));
    if (me == first) {
        m.code = rc;
        snprintf(m.msg, sizeof(m.msg), "%s", uniap_errmsg());
    }
    MPI_Bcast(&m, (int)sizeof(m), MPI_BYTE, first, comm);
    if (me != first) {
        uniap_err_clear();
        uniap_err(m.code, "rank %d: %s", first, m.msg);
    }
    return m.code;
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
    if (it->is_layer) {
        snprintf(buf, n, "layer %s tp %d micro-batch %d", it->sig, it->tp, it->mb);
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

/* Layer items (micro-batch ascending outermost), then collective items. */
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
                it.is_layer = 1;
                it.run = r;
                snprintf(it.sig, sizeof(it.sig), "%s", sig);
                it.tp = o->tp[t];
                it.mb = o->mb[b];
                if ((rc = push_item(&v, &n, &cap, &it)) < 0)
                    goto fail;
            }
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

/* Rank 0: marks the items a previous (interrupted) profile holds and
 * carries its rows into p. */
static int resume_from(const prof_options *o, const prof_coll_ctx *ctx, const char *model_json,
                       int world, prof_item *items, int n_items, uniap_profile *p)
{
    uniap_profile old;
    int rc = uniap_profile_read(o->resume, &old);
    if (rc < 0)
        return rc;
    if (!old.model_json || strcmp(old.model_json, model_json) != 0) {
        rc = uniap_err(UNIAP_EINVAL,
                       "%s: --resume: the profile is of another model (root "
                       "attribute model_json differs from --model %s)",
                       o->resume, o->model);
        goto free_old;
    }
    if (old.world_size != world) {
        rc = uniap_err(UNIAP_EINVAL,
                       "%s: --resume: the profile was taken with %d ranks, this "
                       "run has %d",
                       o->resume, old.world_size, world);
        goto free_old;
    }
    for (int i = 0; i < n_items; i++) {
        prof_item *it = &items[i];
        if (it->is_layer) {
            for (int k = 0; k < old.n_layers && !it->done; k++)
                it->done = strcmp(old.layers[k].layer_type, it->sig) == 0 &&
                           old.layers[k].tp == it->tp && old.layers[k].micro_batch == it->mb;
        } else {
            const prof_group *g = &ctx->groups[it->coll.group];
            for (int k = 0; k < old.n_colls && !it->done; k++) {
                const uniap_coll_prof *c = &old.colls[k];
                it->done = c->op == it->coll.op && c->group_size == g->size &&
                           c->spans_nodes == g->spans_nodes && c->bytes == it->coll_bytes &&
                           (!g->p2p || (c->src == g->members[0] && c->dst == g->members[1]));
            }
        }
    }
    for (int k = 0; k < old.n_layers && rc == 0; k++)
        rc = uniap_profile_add_layer(p, &old.layers[k]);
    for (int k = 0; k < old.n_colls && rc == 0; k++)
        rc = uniap_profile_add_coll(p, &old.colls[k]);
free_old:
    uniap_profile_free(&old);
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
        if (cost[k] <= 0 || d->is_layer != it->is_layer)
            continue;
        if (it->is_layer && d->run == it->run) {
            double e = cost[k] * (double)it->mb / d->mb * (double)d->tp / it->tp;
            if (d->mb * 1000 + (d->tp == it->tp) > best_size)
                best = e, best_size = d->mb * 1000 + (d->tp == it->tp);
        } else if (!it->is_layer && d->coll.op == it->coll.op && d->coll.group == it->coll.group &&
                   d->coll_bytes > best_size) {
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
        if (items[i].done || !items[i].is_layer)
            continue;
        item_label(ctx, &items[i], label, sizeof(label));
        fprintf(stderr, "  %s\n", label);
    }
    for (int op = 0; op < UNIAP_COLL_COUNT; op++) {
        int cnt = 0;
        int64_t lo = 0, hi = 0;
        for (int i = 0; i < n; i++) {
            if (items[i].done || items[i].is_layer || (int)items[i].coll.op != op)
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

/* The sweep proper on every rank; rows go into p. */
static int run_items(const prof_options *o, MPI_Comm world, const uniap_model *m,
                     prof_coll_ctx *ctx, prof_item *items, int n_items, uniap_profile *p,
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
        /* every layer item, the first collective, then at most once a second */
        int first_coll = !it->is_layer && (i == 0 || items[i - 1].is_layer);
        if (me == 0 && (it->is_layer || first_coll || now - last_print >= 1.0)) {
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
        if (it->is_layer) {
            uniap_layer_prof row;
            rc = prof_measure_layer(o, m, it, me, &row);
            if (rc == 0)
                rc = uniap_profile_add_layer(p, &row);
        } else {
            uniap_coll_prof row;
            int have = 0;
            rc = prof_coll_measure(ctx, &it->coll, o->warmup, o->iters, &row, &have);
            if (rc == 0 && have)
                rc = uniap_profile_add_coll(p, &row);
        }
        if ((rc = prof_agree(world, rc)) < 0)
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
    if (o->n_tp == 0) /* divisors of the devices per node */
        for (int d = 1; d <= t->max_local && o->n_tp < PROF_MAX_LIST; d++)
            if (t->max_local % d == 0)
                o->tp[o->n_tp++] = d;
    if (o->n_mb == 0) {
        o->mb[0] = 1, o->mb[1] = 2, o->mb[2] = 4;
        o->n_mb = 3;
    }
    return 0;
}

int prof_run(const prof_options *opts)
{
    prof_options o = *opts;
    MPI_Comm world = MPI_COMM_NULL;
    prof_topology topo = {0};
    prof_coll_ctx ctx = {0};
    uniap_model model = {0};
    uniap_profile p;
    uniap_rank_info ri;
    prof_item *items = NULL;
    char *model_json = NULL;
    int me, size, n_items = 0, interrupted = 0, trimmed = 0, rc;
    struct sigaction sa, old_term, old_int;

    uniap_profile_init(&p);
    MPI_Comm_dup(MPI_COMM_WORLD, &world);
    MPI_Comm_set_errhandler(world, MPI_ERRORS_RETURN);
    MPI_Comm_rank(world, &me);
    MPI_Comm_size(world, &size);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    prof_stop_signal = 0;
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);

    /* setup: the same verdict on every rank before any measurement */
    rc = uniap_model_resolve(o.model, &model);
    if (rc == 0)
        rc = uniap_model_to_json(&model, &model_json);
    if ((rc = prof_agree(world, rc)) < 0)
        goto free_all;
    if ((rc = prof_agree(world, prof_topology_detect(world, o.ranks_per_node, &topo))) < 0)
        goto free_all;
    default_lists(&o, &topo);
    if (o.backend == PROF_BACKEND_CPU) {
        /* the machine's cores shared among the ranks on it */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        int threads = (int)(cores / (topo.host_local_size > 0 ? topo.host_local_size : 1));
        openblas_set_num_threads(threads > 0 ? threads : 1);
    }
#ifdef UNIAP_HAVE_CUDA
    else if ((rc = prof_agree(world, prof_cuda_select_device(topo.host_local_rank))) < 0)
        goto free_all;
#endif
    rc = prof_rank_info(&topo, o.backend, &ri);
    if (rc == 0)
        rc = uniap_profile_add_rank(&p, &ri);
    if ((rc = prof_agree(world, rc)) < 0)
        goto free_all;
    if (!o.skip_collectives &&
        (rc = prof_agree(world, prof_coll_setup(world, &topo, o.backend, &ctx))) < 0)
        goto free_all;
    if ((rc = prof_agree(world, build_items(&o, &model, &ctx, &items, &n_items))) < 0)
        goto free_all;
    if (o.resume) {
        char *done = calloc((size_t)n_items + 1, 1);
        rc = done ? 0 : uniap_err(UNIAP_ENOMEM, "profiler: resume flags");
        if (rc == 0 && me == 0)
            rc = resume_from(&o, &ctx, model_json, size, items, n_items, &p);
        for (int i = 0; done && i < n_items; i++)
            done[i] = (char)items[i].done;
        if ((rc = prof_agree(world, rc)) == 0)
            MPI_Bcast(done, n_items, MPI_CHAR, 0, world);
        for (int i = 0; done && rc == 0 && i < n_items; i++)
            items[i].done = done[i];
        free(done);
        if (rc < 0)
            goto free_all;
    }
    if (me == 0) {
        int todo = 0;
        for (int i = 0; i < n_items; i++)
            todo += !items[i].done;
        fprintf(stderr,
                "uniap profile: %s on %d rank%s (%d node%s, %d per node, backend %s): %d items "
                "to measure%s\n",
                model.name, size, size == 1 ? "" : "s", topo.n_nodes, topo.n_nodes == 1 ? "" : "s",
                topo.max_local, o.backend == PROF_BACKEND_CUDA ? "cuda" : "cpu", todo,
                o.resume ? " (resumed)" : "");
    }
    rc = run_items(&o, world, &model, &ctx, items, n_items, &p, &interrupted, &trimmed);
    if (rc < 0)
        goto free_all;

    /* root attributes come from rank 0 */
    p.world_size = size;
    p.complete = !interrupted && !trimmed;
    snprintf(p.provenance, sizeof(p.provenance), "measured");
    p.command_line = o.command_line ? strdup(o.command_line) : NULL;
    p.model_json = model_json;
    model_json = NULL;
    rc = me == 0 ? prof_cluster_json(&topo, &ri, &p, &p.cluster_json) : 0;
    if ((rc = prof_agree(world, rc)) < 0)
        goto free_all;
    if ((rc = prof_agree(world, uniap_profile_write_parallel(world, o.out, &p))) < 0)
        goto free_all;
    int counts[2] = {p.n_layers, p.n_colls};
    MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_INT, MPI_SUM, world);
    if (me == 0) {
        if (interrupted)
            report_left_out(&ctx, items, n_items, "interrupted by a signal");
        else if (trimmed)
            report_left_out(&ctx, items, n_items, "time limit");
        fprintf(stderr,
                "uniap profile: wrote %s: %d layer rows, %d collective rows, %d ranks (%s)\n",
                o.out, counts[0], counts[1], size,
                p.complete ? "complete" : "incomplete: finish it with --resume");
    }
    if (interrupted)
        rc = uniap_err(UNIAP_EINTR, "interrupted by signal %d; %s holds what was measured",
                       (int)prof_stop_signal, o.out);
free_all:
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    free(items);
    free(model_json);
    prof_coll_teardown(&ctx);
    prof_topology_free(&topo);
    uniap_model_free(&model);
    uniap_profile_free(&p);
    if (world != MPI_COMM_NULL)
        MPI_Comm_free(&world);
    return rc;
}
