/*
 * test_runtime.c - searching inside what a training runtime can run
 * (method.md section 10): on small random structured tables (an
 * embedding, 3 or 4 transformer blocks in one or two runs, a head; 4
 * devices per stage; deg 1, 2 or 4; random strategy subsets with some
 * recomputation made selective; binding budgets) the optimum over a
 * runtime's space (uniap_runtime_space + uniap_solve_space) equals the
 * optimum of exhaustive enumeration over the plans the runtime can run,
 * where "can run" is written here, from the runtimes' own arguments,
 * independently of runtime*.c:
 *   megatron    one tp and sp and DP flavour (DDP or ZeRO-1) for every
 *               layer, TP ranks adjacent; blocks all selective, all full,
 *               or none/full with the same count of full blocks on every
 *               stage (one without blocks: 0), first on their stage, as
 *               uniap's export writes --recompute-method block; no
 *               recompute on embedding or
 *               head; stages 1..deg-2 with equally many blocks;
 *   galvatron   no ZeRO-1, one non-FSDP flavour (DDP or ZeRO-2), one sp
 *               flag, tp a power of 2, no selective recompute, embedding
 *               and head with one tp and one FSDP-or-not, adjacent TP
 *               ranks and no recompute, every stage with a block;
 *   torchtitan  one tp (always with sp), DDP (alone: dp only) or FSDP for
 *               every layer, FSDP with TP or PP for bf16 mixed precision,
 *               adjacent TP ranks, every block full or none recomputed;
 *   deepspeed   one tp, sp and ZeRO stage (2, 3 only without a pipeline;
 *               no DDP with a bf16 pipeline), every block full or none, and
 *               GPTModelPipe's split (partition_method type:transformer:
 *               the splits below are DeepSpeed's partition_balanced on the
 *               blocks, runtime/utils.py at edaa722);
 *   galvatron   (also) every stage holds a block.
 * The model's training settings (bf16, fp32 masters) are drawn per
 * instance.
 * Every plan returned is in a variant of the space, passes the reference
 * rules, evaluates to the TPI reported, is at least the unrestricted
 * optimum, and (megatron) is what uniap's Megatron-LM export calls
 * expressible. Some strategies are relabelled context-parallel (cp 2,
 * ring or Ulysses): megatron runs one cp and variant for every layer,
 * torchtitan one ring cp with FSDP, deepspeed none, galvatron each
 * layer its own (Ulysses only with tp 1) with one for both edges. The space of "any" gives the
 * unrestricted optimum.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "solver_internal.h"
#include "synth_table.h"

enum { RT_ANY, RT_MEGATRON, RT_DEEPSPEED, RT_TORCHTITAN, RT_GALVATRON };

typedef struct inst {
    uniap_cost_table t;
    int L, D, role[10];
    double params[10];
    unsigned flags; /* UNIAP_RT_BF16 | UNIAP_RT_MIXED, drawn */
} inst;

static const uniap_strategy *S(const inst *x, const int *sg, int u)
{
    return &x->t.strategies[sg[u]];
}

/* ---- the runtimes' rules, written from their arguments ---- */

/* Attributes every layer shares under one tp/sp/flavour setting (the
 * first n layers of sg checked against layer 0). */
static int uniform_ok(const inst *x, const int *sg, int n, int zmax, int fsdp_only, int no_sp)
{
    const uniap_strategy *a = S(x, sg, 0);
    for (int u = 0; u < n; u++) {
        const uniap_strategy *s = S(x, sg, u);
        if (s->tp != a->tp || (s->tp > 1 && s->sp != a->sp) || (no_sp && s->sp) ||
            (s->tp > 1 && s->dp > 1 && !s->tp_consecutive))
            return 0;
        if (uniap_strategy_dpcp(s) > 1 &&
            (s->flavour != a->flavour || (int)s->flavour > zmax ||
             (fsdp_only && s->flavour != UNIAP_DP_DDP && s->flavour != UNIAP_DP_FSDP)))
            return 0;
        if (x->role[u] != UNIAP_RT_BLOCK && s->ckpt != UNIAP_CKPT_NONE)
            return 0;
    }
    return 1;
}

/* Blocks: all recomputed with ckpt value v, or none (v = -1: all full or
 * none is the caller's choice of values). */
static int blocks_all(const inst *x, const int *sg, int v)
{
    for (int u = 0; u < x->L; u++)
        if (x->role[u] == UNIAP_RT_BLOCK && S(x, sg, u)->ckpt != v)
            return 0;
    return 1;
}

/* Context parallelism as one process-group setting: every layer of the
 * first n the cp degree and variant of layer 0; a2a_ok 0: ring only. */
static int cp_uniform(const inst *x, const int *sg, int n, int a2a_ok)
{
    const uniap_strategy *a = S(x, sg, 0);
    int cp = uniap_strategy_cp(a);
    for (int u = 0; u < n; u++) {
        const uniap_strategy *s = S(x, sg, u);
        if (uniap_strategy_cp(s) != cp || (cp > 1 && s->cp_a2a != a->cp_a2a))
            return 0;
    }
    return cp == 1 || a2a_ok || !a->cp_a2a;
}

/* The model chunks per stage of the schedule being checked (interleaved
 * 1F1B: v > 1), for megatron_ok and torchtitan_ok. */
static int interleave_v = 1;

/* Interleaved: the same blocks on every stage, a multiple of the chunks. */
static int equal_chunks(const inst *x, const int *st)
{
    int cnt[10] = {0};
    for (int u = 0; u < x->L; u++)
        cnt[st[u]] += x->role[u] == UNIAP_RT_BLOCK;
    for (int i = 0; i < x->D; i++)
        if (cnt[i] != cnt[0] || cnt[i] % interleave_v)
            return 0;
    return 1;
}

static int megatron_ok(const inst *x, const int *st, const int *sg, int n, int full)
{
    /* --context-parallel-size and --cp-comm-type p2p or a2a: one for all */
    if (!uniform_ok(x, sg, n, UNIAP_DP_ZERO1, 0, 0) || !cp_uniform(x, sg, n, 1))
        return 0;
    if (!full)
        return 1;
    int D = x->D, cnt[10] = {0}, nfull[10] = {0};
    for (int u = 0; u < x->L; u++)
        if (x->role[u] == UNIAP_RT_BLOCK) {
            cnt[st[u]]++;
            nfull[st[u]] += S(x, sg, u)->ckpt == UNIAP_CKPT_FULL;
        }
    if (interleave_v > 1) {
        /* --num-layers-per-virtual-pipeline-stage: the same blocks on every
         * stage, a multiple of the chunks (arguments.py); recompute
         * uniform: none, full or selective on every block */
        if (!equal_chunks(x, st))
            return 0;
        return blocks_all(x, sg, UNIAP_CKPT_NONE) || blocks_all(x, sg, UNIAP_CKPT_FULL) ||
               blocks_all(x, sg, UNIAP_CKPT_SELECTIVE);
    }
    for (int i = 2; i + 1 < D; i++)
        if (cnt[i] != cnt[1])
            return 0; /* --decoder-first/last-pipeline-num-layers: the middle is even */
    if (blocks_all(x, sg, UNIAP_CKPT_SELECTIVE) || blocks_all(x, sg, UNIAP_CKPT_FULL))
        return 1;
    for (int i = 1; i < D; i++)
        if (nfull[i] != nfull[0])
            return 0; /* block N: the same N on every stage, as uniap's export writes it (a
                       * stage without blocks recomputes none: N = 0) */
    for (int u = 0; u < x->L; u++) {
        int ck = S(x, sg, u)->ckpt;
        if (x->role[u] != UNIAP_RT_BLOCK)
            continue;
        if (ck == UNIAP_CKPT_SELECTIVE)
            return 0;
        /* the first N blocks of the stage */
        for (int v = 0; v < u && ck == UNIAP_CKPT_FULL; v++)
            if (st[v] == st[u] && x->role[v] == UNIAP_RT_BLOCK &&
                S(x, sg, v)->ckpt != UNIAP_CKPT_FULL)
                return 0;
    }
    return 1;
}

static int galvatron_ok(const inst *x, const int *st, const int *sg, int n, int full)
{
    int sp = -1, fl = -1, edge = -1, blocks[10] = {0};
    for (int u = 0; full && u < x->L; u++)
        blocks[st[u]] += x->role[u] == UNIAP_RT_BLOCK;
    for (int i = 0; full && i < x->D; i++)
        if (blocks[i] == 0)
            return 0; /* pp_division counts transformer layers */
    for (int u = 0; u < n; u++) {
        const uniap_strategy *s = S(x, sg, u);
        int blk = x->role[u] == UNIAP_RT_BLOCK;
        int cp = uniap_strategy_cp(s);
        if ((s->tp & (s->tp - 1)) || s->ckpt == UNIAP_CKPT_SELECTIVE ||
            (!blk && s->ckpt != UNIAP_CKPT_NONE))
            return 0;
        if (cp > 1 && s->cp_a2a && (s->tp > 1 || (cp & (cp - 1))))
            return 0; /* use_sp: Ulysses over tp_sizes_enc ranks, tp 1 */
        if (s->tp > 1) {
            if (sp >= 0 && s->sp != sp)
                return 0;
            sp = s->sp;
        }
        if (uniap_strategy_dpcp(s) > 1 && s->flavour != UNIAP_DP_FSDP) {
            if (s->flavour == UNIAP_DP_ZERO1 || (fl >= 0 && (int)s->flavour != fl))
                return 0;
            fl = s->flavour;
        }
        if (!blk) { /* vocab_tp, vocab_sdp: one value for both edges */
            /* vtp, vocab_sdp, vcp and vsp: one value for both edges */
            int cp = uniap_strategy_cp(s);
            int key =
                ((2 * s->tp + (uniap_strategy_dpcp(s) > 1 && s->flavour == UNIAP_DP_FSDP)) * 2 +
                 (cp > 1 && s->cp_a2a)) *
                    64 +
                cp;
            if ((edge >= 0 && key != edge) || (s->tp > 1 && s->dp > 1 && !s->tp_consecutive))
                return 0;
            edge = key;
        }
    }
    return 1;
}

static int torchtitan_ok(const inst *x, const int *st, const int *sg, int n, int full)
{
    const uniap_strategy *a = S(x, sg, 0);
    int multi = a->tp > 1 || x->D > 1, amp = x->flags == (UNIAP_RT_BF16 | UNIAP_RT_MIXED);
    if (full && interleave_v > 1 && !equal_chunks(x, st))
        return 0; /* Interleaved1F1B as the export writes it: equal chunks of blocks */
    /* context_parallel_degree: one, PyTorch's ring attention, FSDP over
     * dp_shard x cp */
    if (!cp_uniform(x, sg, n, 0) || (uniap_strategy_cp(a) > 1 && a->flavour != UNIAP_DP_FSDP))
        return 0;
    if (!uniform_ok(x, sg, n, UNIAP_DP_FSDP, 1, 0) || (a->tp > 1 && !a->sp))
        return 0; /* TP always with sequence parallelism */
    int g = uniap_strategy_dpcp(a);
    if (multi && (g == 1 || a->flavour != UNIAP_DP_FSDP) && (g > 1 || amp))
        return 0; /* DDP alone; mixed precision with TP or PP through FSDP */
    return !full || blocks_all(x, sg, UNIAP_CKPT_NONE) || blocks_all(x, sg, UNIAP_CKPT_FULL);
}

/* GPTModelPipe's split: DeepSpeed's partition_balanced of blocks
 * {0,1,1,1,1,0} (6 layers) into parts (first layer of each stage, then L):
 * [0,3,6] on 2 stages (hand-worked: cutting after 3 layers gives part sums
 * 2 and 2, max - min = 0), [0,2,3,4,6] on 4 (runtime/utils.py run on
 * these weights). */
static const int ds_parts2[3] = {0, 3, 6}, ds_parts4[5] = {0, 2, 3, 4, 6};

static int deepspeed_split_ok(const inst *x, const int *st)
{
    const int *parts = x->D == 2 ? ds_parts2 : ds_parts4;
    if (x->D == 1)
        return 1;
    for (int i = 0; i < x->D; i++)
        for (int u = parts[i]; u < parts[i + 1]; u++)
            if (st[u] != i)
                return 0;
    return 1;
}

static int deepspeed_ok(const inst *x, const int *st, const int *sg, int n, int full)
{
    int zmax = x->D > 1 ? UNIAP_DP_ZERO1 : UNIAP_DP_FSDP;
    const uniap_strategy *a = S(x, sg, 0);
    if (!uniform_ok(x, sg, n, zmax, 0, 0) || !cp_uniform(x, sg, n, 0) || uniap_strategy_cp(a) > 1)
        return 0; /* no context parallelism (Megatron-DeepSpeed's GPTModelPipe) */
    if (uniap_strategy_dpcp(a) > 1 && a->flavour == UNIAP_DP_DDP && x->D > 1 &&
        (x->flags & UNIAP_RT_BF16))
        return 0; /* bf16 pipelines run BF16_Optimizer: ZeRO-1's memory */
    if (!full)
        return 1;
    return (blocks_all(x, sg, UNIAP_CKPT_NONE) || blocks_all(x, sg, UNIAP_CKPT_FULL)) &&
           deepspeed_split_ok(x, st);
}

/* The first n layers' strategies sg can run together; full: the whole
 * plan (stage_of st as well) can run. */
typedef int (*plan_ok_fn)(const inst *x, const int *st, const int *sg, int n, int full);

static int any_ok(const inst *x, const int *st, const int *sg, int n, int full)
{
    (void)x, (void)st, (void)sg, (void)n, (void)full;
    return 1;
}

static const plan_ok_fn rules[] = {any_ok, megatron_ok, deepspeed_ok, torchtitan_ok, galvatron_ok};

/* ---- exhaustive enumeration over the runtime's plans ---- */

typedef struct brute {
    const inst *x;
    plan_ok_fn ok;
    uniap_schedule sched;
    int st[10], sg[10], best_st[10], best_sg[10], found;
    double best;
} brute;

static void brute_split(brute *b, int u)
{
    const inst *x = b->x;
    if (u == x->L) {
        if (b->st[x->L - 1] != x->D - 1 || !b->ok(x, b->st, b->sg, x->L, 1))
            return;
        uniap_plan_eval e;
        CHECK_EQ(uniap_plan_evaluate(&x->t, b->sched, b->st, b->sg, &e), 0);
        if (e.feasible && (!b->found || e.tpi < b->best)) {
            b->found = 1;
            b->best = e.tpi;
            memcpy(b->best_st, b->st, sizeof b->st);
            memcpy(b->best_sg, b->sg, sizeof b->sg);
        }
        uniap_plan_eval_free(&e);
        return;
    }
    int prev = b->st[u - 1];
    if (x->D - 1 - prev <= x->L - 1 - u) {
        b->st[u] = prev;
        brute_split(b, u + 1);
    }
    if (prev + 1 < x->D) {
        b->st[u] = prev + 1;
        brute_split(b, u + 1);
    }
}

static void brute_strategies(brute *b, int u)
{
    const inst *x = b->x;
    if (u == x->L) {
        b->st[0] = 0;
        brute_split(b, 1);
        return;
    }
    for (int k = 0; k < x->t.n_strategies; k++) {
        if (!x->t.allowed[(size_t)u * x->t.n_strategies + k])
            continue;
        b->sg[u] = k;
        if (b->ok(x, b->st, b->sg, u + 1, 0))
            brute_strategies(b, u + 1);
    }
}

/* ---- instances ---- */

/* An embedding, blocks in one or two runs, a head; some full
 * recomputation relabelled selective (the costs are the synthetic
 * table's either way: only the labels matter to the rules). */
static void make_inst(uint64_t seed, int L, int D, int K, inst *x)
{
    uint64_t rs = seed * 7919 + 17;
    int blocks = L - 2, a = 1 + (int)(synth_rand(&rs) * blocks);
    int runs[4] = {1, a, blocks - a, 1}, nr = 4;
    if (runs[2] == 0)
        runs[2] = 1, nr = 3;
    static const int cs[3] = {1, 2, 4};
    synth_spec sp = {.deg = D,
                     .c = cs[(int)(synth_rand(&rs) * 3)],
                     .stage_devices = 4,
                     .micro_batch = 4,
                     .n_runs = nr,
                     .run_len = runs,
                     .max_strategies = K,
                     .budget_factor = 0.15 + 0.7 * synth_rand(&rs),
                     .seed = seed};
    memset(x, 0, sizeof(*x));
    CHECK_EQ(synth_table(&sp, &x->t), 0);
    x->L = L;
    x->D = D;
    x->flags = synth_rand(&rs) < 0.5 ? UNIAP_RT_BF16 | UNIAP_RT_MIXED : 0;
    /* context parallelism, ring or Ulysses, drawn per strategy up to its
     * recomputation (a recomputed strategy and its plain twin share a
     * layout class in the synthetic table, so they share the cp label) */
    int n = x->t.n_strategies, draw[128];
    for (int k = 0; k < n && k < 128; k++) {
        uniap_strategy *q = &x->t.strategies[k];
        draw[k] = q->dp % 2 == 0 && synth_rand(&rs) < 0.3 ? 1 + (synth_rand(&rs) < 0.5) : 0;
        for (int l = 0; l < k; l++) {
            const uniap_strategy *o = &x->t.strategies[l];
            if (o->tp == q->tp && o->dp * uniap_strategy_cp(o) == q->dp &&
                o->tp_consecutive == q->tp_consecutive && o->flavour == q->flavour &&
                o->sp == q->sp)
                draw[k] = draw[l];
        }
        if (q->dp == 2 && q->tp > 1 && !q->tp_consecutive)
            draw[k] = 0; /* strided TP needs dp > 1 (the layout dimension's values) */
    }
    for (int k = 0; k < n && k < 128; k++) {
        uniap_strategy *q = &x->t.strategies[k];
        if (q->ckpt && synth_rand(&rs) < 0.3)
            q->ckpt = UNIAP_CKPT_SELECTIVE;
        if (draw[k]) {
            q->dp /= 2, q->cp = 2, q->cp_a2a = draw[k] == 2;
            uniap_strategy_format(q);
        }
    }
    static const double w[6] = {5, 3, 3, 3, 3, 6};
    for (int u = 0; u < L; u++) {
        x->role[u] = u == 0 ? UNIAP_RT_FIRST : u == L - 1 ? UNIAP_RT_LAST : UNIAP_RT_BLOCK;
        x->params[u] = L == 6 ? w[u] : 3;
    }
}

/* The plan as Megatron-LM arguments (uniap's export, a GPT model with the
 * instance's block count) is called expressible. */
static void check_megatron_export(const inst *x, const uniap_pair_result *r)
{
    uniap_model m;
    uniap_plan p;
    char *text = NULL;
    CHECK_EQ(uniap_model_resolve("gpt-tiny", &m), 0);
    for (int q = 0; q < m.n_runs; q++)
        if (m.runs[q].count > 1) {
            m.n_layers += (x->L - 2) - m.runs[q].count;
            m.runs[q].count = x->L - 2;
        }
    CHECK_EQ(m.n_layers, x->L);
    memset(&p, 0, sizeof(p));
    p.deg = x->D;
    p.micro_batches = x->t.micro_batches;
    p.micro_batch = x->t.micro_batch;
    p.global_batch = (int64_t)x->t.micro_batch * x->t.micro_batches;
    p.schedule = UNIAP_SCHED_1F1B;
    p.n_layers = x->L;
    p.stage_of = r->stage_of;
    p.strategy_of = calloc((size_t)x->L, sizeof(uniap_strategy));
    for (int u = 0; u < x->L; u++)
        p.strategy_of[u] = x->t.strategies[r->strategy_of[u]];
    CHECK_EQ(uniap_plan_export_megatron(&p, &m, &text), 0);
    if (!strstr(text, "# the plan is expressible in Megatron-LM"))
        fprintf(stderr, "export says:\n%s", text);
    CHECK(strstr(text, "# the plan is expressible in Megatron-LM") != NULL);
    free(text);
    free(p.strategy_of);
    uniap_model_free(&m);
}

typedef struct tally {
    int optimal, infeasible, restricted_slower, block_rule;
    int cp_plans, cp_mixed; /* plans with cp > 1 somewhere; with cp > 1 on some layers only */
} tally;

/* One instance under runtime r: space solve = brute force. */
static void check_one(const inst *x, int r, uniap_schedule sched, int per_layer, double any_tpi,
                      tally *ty)
{
    uniap_space sp;
    uniap_solve_options o;
    uniap_pair_result res;
    brute b = {.x = x, .ok = rules[r], .sched = sched};
    interleave_v = uniap_schedule_virtual_stages(sched);
    if (r == RT_ANY) { /* every plan: the unrestricted optimum is the reference */
        b.found = 1;
        b.best = any_tpi;
    } else {
        brute_strategies(&b, 0);
    }
    CHECK_EQ(uniap_runtime_space(r, x->role, x->params, x->flags, sched, &x->t, &sp), 0);
    uniap_solve_options_default(&o);
    o.schedule = sched;
    o.formulation = per_layer ? UNIAP_FORM_PER_LAYER : UNIAP_FORM_AUTO;
    int rc = uniap_solve_space(&x->t, &sp, &o, &res);
    CHECK_EQ(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "runtime %s deg %d: %s\n", sp.runtime, x->D, uniap_errmsg());
        uniap_err_clear();
        uniap_space_free(&sp);
        return;
    }
    if (!b.found) {
        if (res.status != UNIAP_SOLVE_INFEASIBLE)
            fprintf(stderr, "runtime %d: brute force finds nothing, the space %g (status %d)\n", r,
                    res.tpi, res.status);
        CHECK_EQ(res.status, UNIAP_SOLVE_INFEASIBLE);
        ty->infeasible++;
        goto done;
    }
    if (res.status != UNIAP_SOLVE_OPTIMAL || fabs(res.tpi - b.best) > 1e-9 * b.best)
        fprintf(stderr, "runtime %s deg %d: brute force %.12g, space %.12g (status %d)\n",
                sp.runtime, x->D, b.best, res.tpi, res.status);
    CHECK_EQ(res.status, UNIAP_SOLVE_OPTIMAL);
    CHECK_NEAR(res.tpi, b.best, 1e-9, 1e-15);
    CHECK(rules[r](x, res.stage_of, res.strategy_of, x->L, 1));
    int in = 0;
    for (int v = 0; v < sp.n_variants && !in; v++)
        in = uniap_space_check(&sp, v, &x->t, res.stage_of, res.strategy_of, NULL, 0);
    CHECK(in);
    uniap_plan_eval e;
    CHECK_EQ(uniap_plan_evaluate(&x->t, sched, res.stage_of, res.strategy_of, &e), 0);
    CHECK(e.feasible);
    CHECK_NEAR(e.tpi, res.tpi, 1e-12, 1e-15);
    uniap_plan_eval_free(&e);
    CHECK(any_tpi > 0 && res.tpi >= any_tpi * (1 - 1e-12));
    ty->optimal++;
    ty->restricted_slower += res.tpi > any_tpi * (1 + 1e-9);
    if (r == RT_MEGATRON) {
        check_megatron_export(x, &res);
        int full = 0, sel = 0, blk = 0;
        for (int u = 0; u < x->L; u++)
            if (x->role[u] == UNIAP_RT_BLOCK) {
                blk++;
                full += S(x, res.strategy_of, u)->ckpt == UNIAP_CKPT_FULL;
                sel += S(x, res.strategy_of, u)->ckpt == UNIAP_CKPT_SELECTIVE;
            }
        ty->block_rule += full > 0 && full < blk && !sel;
    }
    int with_cp = 0;
    for (int u = 0; u < x->L; u++)
        with_cp += uniap_strategy_cp(S(x, res.strategy_of, u)) > 1;
    ty->cp_plans += with_cp > 0;
    ty->cp_mixed += with_cp > 0 && with_cp < x->L;
done:
    uniap_pair_result_free(&res);
    uniap_space_free(&sp);
}

/* DeepSpeed's split as the space states it (stage_lo = stage_hi), on
 * every variant. */
static void check_deepspeed_splits(void)
{
    inst x;
    make_inst(5, 6, 4, 0, &x);
    uniap_space sp;
    CHECK_EQ(uniap_runtime_space(RT_DEEPSPEED, x.role, x.params, 0, UNIAP_SCHED_1F1B, &x.t, &sp),
             0);
    CHECK(sp.n_variants > 0);
    for (int v = 0; v < sp.n_variants; v++) {
        CHECK(sp.v[v].stage_lo && sp.v[v].stage_hi);
        for (int i = 0; i < 4 && sp.v[v].stage_lo; i++)
            for (int u = ds_parts4[i]; u < ds_parts4[i + 1]; u++)
                CHECK(sp.v[v].stage_lo[u] == i && sp.v[v].stage_hi[u] == i);
    }
    uniap_space_free(&sp);
    uniap_cost_table_free(&x.t);
}

/* Megatron's recompute rules where they bind: blocks of one tp/sp/DDP
 * layout, recomputed or not (the other strategies disallowed), 4 to 6
 * blocks in two runs of different costs (the marked-first order across
 * groups matters), deg 1 to 4: the optimum often recomputes some blocks
 * of each stage, which the unrestricted optimum does unevenly. */
static void check_block_rule(tally *ty)
{
    for (int seed = 1; seed <= 200; seed++) {
        int D = 1 + seed % 4, L = 6 + seed % 3;
        inst x;
        make_inst(1000 + (uint64_t)seed, L, D, 0, &x);
        int K = x.t.n_strategies, kept = 0;
        for (int k = 0; k < K; k++) {
            const uniap_strategy *s = &x.t.strategies[k];
            int keep = s->tp == 2 && s->tp_consecutive && s->flavour == UNIAP_DP_DDP && !s->sp &&
                       s->ckpt != UNIAP_CKPT_SELECTIVE;
            kept += keep;
            for (int u = 0; u < L; u++)
                x.t.allowed[(size_t)u * K + k] = (unsigned char)keep;
        }
        CHECK(kept >= 1);
        uniap_solve_options o;
        uniap_pair_result any;
        uniap_solve_options_default(&o);
        CHECK_EQ(uniap_solve_pair(&x.t, &o, &any), 0);
        if (any.status == UNIAP_SOLVE_OPTIMAL)
            check_one(&x, RT_MEGATRON, UNIAP_SCHED_1F1B, seed % 5 == 2, any.tpi, ty);
        uniap_pair_result_free(&any);
        uniap_cost_table_free(&x.t);
    }
}

/* Megatron-LM's and torchtitan's interleaved 1F1B (v = 2) on instances
 * of 2 or 4 stages whose micro-batch count allows it: against the
 * unrestricted optimum under the same schedule; 4 blocks on 4 stages
 * cannot interleave, so the space and brute force both find nothing
 * there. ty[0] megatron, ty[1] torchtitan. */
static void interleaved_case(const inst *x, int seed, tally *ty, int *n)
{
    uniap_schedule il;
    uniap_solve_options o;
    uniap_pair_result any;
    CHECK_EQ(uniap_schedule_parse("interleaved2", &il), 0);
    if (x->D < 2 || !uniap_schedule_runs(il, x->t.micro_batches, x->D))
        return;
    uniap_solve_options_default(&o);
    o.schedule = il;
    CHECK_EQ(uniap_solve_pair(&x->t, &o, &any), 0);
    if (any.status == UNIAP_SOLVE_OPTIMAL) {
        check_one(x, RT_MEGATRON, il, seed % 2, any.tpi, &ty[0]);
        check_one(x, RT_TORCHTITAN, il, seed % 2, any.tpi, &ty[1]);
        (*n)++;
    }
    uniap_pair_result_free(&any);
}

int main(void)
{
    tally ty[5] = {{0}};
    tally til[2] = {{0}}; /* megatron, torchtitan under interleaved2 */
    int per_layer_done = 0, n_interleaved = 0;
    check_deepspeed_splits();
    for (int seed = 1; seed <= 240; seed++) {
        static const int degs[3] = {1, 2, 4};
        int D = degs[seed % 3], L = seed % 4 == 1 ? 5 : 6;
        if (D == 4 && L == 5)
            L = 6;
        inst x;
        make_inst((uint64_t)seed, L, D, 14 + seed % 5, &x);
        uniap_schedule sched = seed % 5 == 4 ? UNIAP_SCHED_GPIPE : UNIAP_SCHED_1F1B;
        /* the unrestricted optimum, and the space of "any" reaching it */
        uniap_solve_options o;
        uniap_pair_result any;
        uniap_solve_options_default(&o);
        o.schedule = sched;
        CHECK_EQ(uniap_solve_pair(&x.t, &o, &any), 0);
        double any_tpi = any.status == UNIAP_SOLVE_OPTIMAL ? any.tpi : 0;
        CHECK(any.status == UNIAP_SOLVE_OPTIMAL || any.status == UNIAP_SOLVE_INFEASIBLE);
        uniap_pair_result_free(&any);
        if (any_tpi == 0) {
            uniap_cost_table_free(&x.t);
            continue;
        }
        tally dummy = {0};
        check_one(&x, RT_ANY, sched, 0, any_tpi, &dummy);
        CHECK_EQ(dummy.restricted_slower, 0);
        interleaved_case(&x, seed, til, &n_interleaved);
        for (int r = RT_MEGATRON; r <= RT_GALVATRON; r++) {
            if ((r == RT_MEGATRON || r == RT_DEEPSPEED) && sched != UNIAP_SCHED_1F1B)
                continue; /* they run 1F1B only (the command refuses the others) */
            if (r == RT_DEEPSPEED && L != 6)
                continue; /* the reference splits are for 6 layers */
            int per_layer = seed % 7 == 3;
            per_layer_done += per_layer;
            check_one(&x, r, sched, per_layer, any_tpi, &ty[r]);
        }
        uniap_cost_table_free(&x.t);
    }
    tally blk = {0};
    check_block_rule(&blk);
    printf("block rule cases: %d optimal (%d slower than any, %d recompute 0 < N < blocks), %d "
           "infeasible\n",
           blk.optimal, blk.restricted_slower, blk.block_rule, blk.infeasible);
    CHECK(blk.block_rule >= 10 && blk.restricted_slower >= 10);
    static const char *names[] = {"any", "megatron", "deepspeed", "torchtitan", "galvatron"};
    for (int r = RT_MEGATRON; r <= RT_GALVATRON; r++)
        printf("%-10s %2d optimal (%2d slower than any), %2d infeasible; cp in %d plans, on some "
               "layers only in %d\n",
               names[r], ty[r].optimal, ty[r].restricted_slower, ty[r].infeasible, ty[r].cp_plans,
               ty[r].cp_mixed);
    printf("megatron plans with block recompute (0 < N < blocks): %d; per-layer runs: %d\n",
           ty[RT_MEGATRON].block_rule, per_layer_done);
    for (int r = 0; r < 2; r++) {
        printf("%s interleaved2: %d cases, %d optimal (%d slower than any), %d infeasible\n",
               r ? "torchtitan" : "megatron", n_interleaved, til[r].optimal,
               til[r].restricted_slower, til[r].infeasible);
        CHECK(til[r].optimal >= 3 && til[r].infeasible >= 1);
    }
    /* enough cases of each kind for the comparison to mean something */
    CHECK(ty[RT_MEGATRON].optimal >= 15 && ty[RT_MEGATRON].restricted_slower >= 5);
    CHECK(ty[RT_GALVATRON].optimal >= 20 && ty[RT_GALVATRON].restricted_slower >= 3);
    CHECK(ty[RT_TORCHTITAN].optimal >= 20 && ty[RT_DEEPSPEED].optimal >= 8);
    /* context parallelism searched: per layer in Galvatron, one for all in
     * Megatron-LM, none in DeepSpeed */
    CHECK(ty[RT_GALVATRON].cp_mixed >= 3 && ty[RT_MEGATRON].cp_plans >= 3);
    CHECK(ty[RT_MEGATRON].cp_mixed == 0 && ty[RT_DEEPSPEED].cp_plans == 0);
    return check_report();
}
