/*
 * test_guard.c - the solver's always-on guards (issue 10, items 4 and 6):
 *   - a table of more layout classes than the old fixed arrays held (64)
 *     is solved exactly by both formulations (against brute force), its
 *     plans evaluating to the TPI reported;
 *   - an allocation failure at any coefficient of any MILP built for a
 *     candidate makes the solve fail with UNIAP_ENOMEM and no plan (the
 *     row builder is sticky; a truncated MILP is never solved);
 *   - tables with NaN, infinite, negative, 1e300 s or 1e-300 s figures, or
 *     a budget of 1e-30 bytes, are refused before GLPK with the entry
 *     named; figures scaled within range still solve, exactly scaled;
 *   - such tables given to GLPK anyway make it fail (invalid scale factor,
 *     failed assertion) or return a wrong solution: errors, not aborts;
 *   - a GLPK error inside a guard is UNIAP_ELIB "GLPK failed ..." and the
 *     process goes on (problems made before it are freed safely, GLPK
 *     works again); an interrupt request stops a running simplex
 *     (UNIAP_EINTR) and makes a candidate's solve end like a time limit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "solver_internal.h"
#include "synth_table.h"

static double rnd(uint64_t *s)
{
    return synth_rand(s);
}

/* K strategies, each its own layout class (the reshard matrix is zero only
 * on its diagonal), L layers whose last ones form a run, memory traded for
 * time so that the optimum mixes strategies and pays reshards. */
static int many_classes(int K, int L, int deg, int c, uint64_t seed, uniap_cost_table *t)
{
    uint64_t rs = seed * 2654435761ULL + 7;
    int rc = uniap_cost_table_alloc(t, deg, K, L);
    if (rc < 0)
        return rc;
    t->micro_batches = c;
    t->micro_batch = 1;
    t->stage_devices = 1;
    double fast[128], mem[128];
    for (int k = 0; k < K; k++) {
        snprintf(t->strategies[k].name, sizeof t->strategies[k].name, "s%d", k);
        fast[k] = 0.5 + rnd(&rs);
        mem[k] = 1e9 * (2.0 - fast[k]);
    }
    for (int u = 0; u < L; u++) {
        double scale = u == 0 ? 1.3 : 1.0; /* layers 1.. are one run */
        t->run_of[u] = u == 0 ? 0 : 1;
        for (int k = 0; k < K; k++) {
            size_t uk = (size_t)u * K + k;
            /* layer 0 barely gains from speed: it takes a light strategy */
            t->time[uk] = u == 0 ? 0.01 * (1 + 0.01 * fast[k]) : 0.01 * scale / fast[k];
            t->tail[uk] = 1e-4 * fast[k];
            t->mem_states[uk] = mem[k] * scale;
            t->mem_act[uk] = 0.1 * mem[k];
            t->mem_peak[uk] = 0.01 * mem[k];
            t->allowed[uk] = k == 0 || (k * 7 + 3) % 10 != 0;
        }
    }
    for (int u = 0; u + 1 < L; u++)
        for (int k = 0; k < K; k++)
            for (int l = 0; l < K; l++) {
                size_t q = ((size_t)u * K + k) * K + l;
                t->reshard[q] = k == l ? 0 : 1e-4 * (1 + ((k * 7 + l * 3) % 11) / 11.0);
                t->xstage[0][q] = 1e-3 + (k == l ? 0 : 5e-4);
                t->xstage[1][q] = 3e-3 + (k == l ? 0 : 1e-3);
            }
    /* room for about the lightest three quarters */
    double lo = HUGE_VAL, hi = 0;
    for (int k = 0; k < K; k++)
        lo = fmin(lo, mem[k] * 1.4), hi = fmax(hi, mem[k] * 1.4);
    t->mem_budget[0] = (lo + 0.25 * (hi - lo)) * L / deg;
    return 0;
}

static void check_plan(const uniap_cost_table *t, uniap_schedule sched, const uniap_pair_result *r)
{
    uniap_plan_eval e;
    CHECK(r->stage_of && r->strategy_of);
    if (!r->stage_of || !r->strategy_of)
        return;
    CHECK_EQ(uniap_plan_evaluate(t, sched, r->stage_of, r->strategy_of, &e), 0);
    CHECK(e.feasible);
    CHECK_NEAR(e.tpi, r->tpi, 1e-12, 0);
    uniap_plan_eval_free(&e);
}

/* More classes than 64: exact against brute force, both formulations. */
static void test_many_classes(void)
{
    int mixed = 0; /* plans changing class (junction reshards with C > 64) */
    for (int deg = 1; deg <= 2; deg++) {
        uniap_cost_table t;
        uniap_pair_result bf, r;
        CHECK_EQ(many_classes(70, 3, deg, 2, 11 + deg, &t), 0);
        solver_shape s;
        CHECK_EQ(solver_shape_build(&t, 0, &s), 0);
        CHECK(s.C > 64);
        solver_shape_free(&s);
        CHECK_EQ(uniap_brute_force(&t, UNIAP_SCHED_1F1B, &bf), 0);
        CHECK(bf.status == UNIAP_SOLVE_OPTIMAL);
        for (int f = 0; f < 2; f++) {
            uniap_solve_options o;
            uniap_solve_options_default(&o);
            o.formulation = f ? UNIAP_FORM_PER_LAYER : UNIAP_FORM_AGGREGATED;
            CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
            CHECK(r.status == UNIAP_SOLVE_OPTIMAL);
            CHECK_NEAR(r.tpi, bf.tpi, 1e-9, 0);
            check_plan(&t, o.schedule, &r);
            /* the plan as a MILP point (the segments' class flows, C > 64) */
            solver_milp m;
            CHECK_EQ(solver_shape_build(&t, f, &s), 0);
            CHECK_EQ(solver_milp_build(&t, &s, o.schedule, 0, NULL, &m), 0);
            double *x = calloc((size_t)glp_get_num_cols(m.lp) + 1, sizeof(double));
            CHECK_EQ(solver_milp_encode(&m, r.stage_of, r.strategy_of, x), 0);
            mixed += r.strategy_of[0] != r.strategy_of[1];
            CHECK(solver_milp_violation(&m, x) <= 1e-9);
            free(x);
            solver_milp_free(&m);
            solver_shape_free(&s);
            uniap_pair_result_free(&r);
        }
        uniap_pair_result_free(&bf);
        uniap_cost_table_free(&t);
    }
    CHECK(mixed > 0);
}

static int synth(uint64_t seed, uniap_cost_table *t)
{
    static const int runs[3] = {1, 6, 1};
    synth_spec sp = {.deg = 2,
                     .c = 4,
                     .stage_devices = 4,
                     .micro_batch = 4,
                     .n_runs = 3,
                     .run_len = runs,
                     .max_strategies = 10,
                     .budget_factor = 0.3,
                     .seed = seed};
    return synth_table(&sp, t);
}

/* An allocation failure at coefficient k of the candidate's MILPs. */
static void test_row_faults(void)
{
    uniap_cost_table t;
    uniap_solve_options o;
    uniap_pair_result r;
    uniap_solve_options_default(&o);
    o.formulation = UNIAP_FORM_AGGREGATED;
    CHECK_EQ(synth(5, &t), 0);
    solver_test_row_fault(0);
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
    CHECK(r.status == UNIAP_SOLVE_OPTIMAL);
    double tpi = r.tpi;
    uniap_pair_result_free(&r);
    long n = solver_test_row_calls();
    CHECK(n > 100);
    for (int q = 0; q <= 16; q++) {
        long k = q == 0 ? 1 : q == 16 ? n : 1 + (n - 1) * q / 16;
        solver_test_row_fault(k);
        uniap_err_clear();
        int rc = uniap_solve_pair(&t, &o, &r);
        CHECK_EQ(rc, UNIAP_ENOMEM);
        CHECK(r.stage_of == NULL && r.strategy_of == NULL);
        CHECK_STR_CONTAINS(uniap_errmsg(), "out of memory");
        if (rc != UNIAP_ENOMEM) {
            fprintf(stderr, "  fault at coefficient %ld of %ld: rc %d\n", k, n, rc);
            uniap_pair_result_free(&r);
        }
    }
    solver_test_row_fault(0);
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0); /* and all is well again */
    CHECK_NEAR(r.tpi, tpi, 1e-12, 0);
    uniap_pair_result_free(&r);
    uniap_cost_table_free(&t);
}

enum { F_TIME, F_TAIL, F_STATES, F_ACT, F_RESHARD, F_XSTAGE1 };

static double *field(uniap_cost_table *t, int f)
{
    double *v[] = {t->time, t->tail, t->mem_states, t->mem_act, t->reshard, t->xstage[1]};
    return v[f];
}

/* Refused figures: the entry is named, nothing is solved, no abort. */
static void refused(int f, double v, const char *where)
{
    uniap_cost_table t;
    uniap_solve_options o;
    uniap_pair_result r;
    uniap_solve_options_default(&o);
    CHECK_EQ(synth(7, &t), 0);
    t.allowed[3] = 1;
    field(&t, f)[3] = v;
    uniap_err_clear();
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), UNIAP_EINVAL);
    CHECK(r.stage_of == NULL);
    CHECK_STR_CONTAINS(uniap_errmsg(), where);
    CHECK_STR_CONTAINS(uniap_errmsg(), "expected 0 or a finite number");
    uniap_cost_table_free(&t);
}

static void test_table_check(void)
{
    refused(F_TIME, NAN, "time layer 0, strategy 3");
    refused(F_TIME, 1e300, "time layer 0");
    refused(F_TIME, 1e-300, "time layer 0");
    refused(F_TIME, -1e-3, "time layer 0");
    refused(F_TAIL, INFINITY, "tail layer 0");
    refused(F_STATES, NAN, "mem_states layer 0");
    refused(F_ACT, 1e300, "mem_act layer 0");
    refused(F_RESHARD, INFINITY, "reshard after layer 0");
    refused(F_XSTAGE1, NAN, "xstage (between nodes) after layer 0");

    uniap_cost_table t;
    uniap_solve_options o;
    uniap_pair_result r, big;
    uniap_solve_options_default(&o);
    CHECK_EQ(synth(7, &t), 0);
    t.mem_budget[0] = 1e-30;
    uniap_err_clear();
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "mem_budget is 1e-30");
    t.mem_budget[0] = NAN;
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), UNIAP_EINVAL);
    /* device classes: a stage of no class, a class's bad budget and entry,
     * each named */
    uniap_cost_table h;
    t.mem_budget[0] = 1e9;
    CHECK_EQ(synth_classes(&t, 2, 0, 7, &h), 0);
    h.stage_class[h.deg - 1] = 2;
    CHECK_EQ(uniap_solve_pair(&h, &o, &r), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "has device class 2: expected 0..1");
    h.stage_class[h.deg - 1] = 1;
    h.mem_budget[1] = INFINITY;
    CHECK_EQ(uniap_solve_pair(&h, &o, &r), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "mem_budget of device class 1 is inf");
    h.mem_budget[1] = 1e9;
    h.time[uniap_ct_ix(&h, 1, 0, 0)] = NAN;
    CHECK_EQ(uniap_solve_pair(&h, &o, &r), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "time layer 0, strategy 0");
    CHECK_STR_CONTAINS(uniap_errmsg(), ", device class 1 is nan");
    uniap_cost_table_free(&h);
    uniap_cost_table_free(&t);

    /* within range, scaled by 1e-6 and 1e4: the same optimum, scaled */
    CHECK_EQ(synth(7, &t), 0);
    CHECK_EQ(uniap_solve_pair(&t, &o, &big), 0);
    CHECK(big.status == UNIAP_SOLVE_OPTIMAL);
    for (int e = 0; e < 2; e++) {
        double f = e ? 1e4 : 1e-6;
        size_t n = (size_t)t.n_layers * t.n_strategies,
               pairs = (n - t.n_strategies) * t.n_strategies;
        uniap_cost_table s;
        CHECK_EQ(synth(7, &s), 0);
        for (size_t a = 0; a < n; a++)
            s.time[a] *= f, s.wgrad[a] *= f, s.tail[a] *= f;
        for (size_t a = 0; a < pairs; a++)
            s.reshard[a] *= f, s.xstage[0][a] *= f, s.xstage[1][a] *= f;
        CHECK_EQ(uniap_solve_pair(&s, &o, &r), 0);
        CHECK(r.status == UNIAP_SOLVE_OPTIMAL);
        CHECK_NEAR(r.tpi, big.tpi * f, 1e-7, 0);
        check_plan(&s, o.schedule, &r);
        uniap_pair_result_free(&r);
        uniap_cost_table_free(&s);
    }
    uniap_pair_result_free(&big);
    uniap_cost_table_free(&t);
}

/* A GLPK error under a guard: ELIB, the process and GLPK go on. */
static void test_glpk_error(void)
{
    uniap_cost_table t;
    solver_shape s;
    solver_milp m;
    uniap_solve_options o;
    uniap_pair_result r;
    solver_glpk_try tr;
    volatile int rc = 0;
    uniap_solve_options_default(&o);
    CHECK_EQ(synth(9, &t), 0);
    CHECK_EQ(solver_shape_build(&t, 0, &s), 0);
    CHECK_EQ(solver_milp_build(&t, &s, o.schedule, 0, NULL, &m), 0); /* made before the error */
    uniap_err_clear();
    solver_glpk_push(&tr);
    if (setjmp(tr.jb)) {
        rc = solver_glpk_caught(&tr, "a test");
    } else {
        glp_get_col_dual(m.lp, 1 << 30); /* column out of range: GLPK aborts */
        solver_glpk_pop(&tr);
    }
    CHECK_EQ(rc, UNIAP_ELIB);
    CHECK_STR_CONTAINS(uniap_errmsg(), "GLPK failed in a test: glp_get_col_dual");
    solver_milp_free(&m); /* its problem is gone with GLPK's environment */
    solver_shape_free(&s);
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
    CHECK(r.status == UNIAP_SOLVE_OPTIMAL);
    uniap_pair_result_free(&r);

    /* an interrupt stops a simplex that prints progress */
    CHECK_EQ(solver_shape_build(&t, 0, &s), 0);
    CHECK_EQ(solver_milp_build(&t, &s, o.schedule, 0, NULL, &m), 0);
    uniap_search_interrupt();
    rc = 0;
    solver_glpk_push(&tr);
    if (setjmp(tr.jb)) {
        rc = solver_glpk_caught(&tr, "a test");
    } else {
        glp_smcp sm;
        glp_init_smcp(&sm);
        sm.msg_lev = GLP_MSG_ON;
        solver_glpk_interruptible(1);
        glp_simplex(m.lp, &sm);
        solver_glpk_pop(&tr);
    }
    CHECK_EQ(rc, UNIAP_EINTR);
    solver_milp_free(&m);
    solver_shape_free(&s);
    /* and a candidate's solve ends like a time limit: the heuristic plan,
     * a valid bound */
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
    CHECK(r.status == UNIAP_SOLVE_FEASIBLE);
    check_plan(&t, o.schedule, &r);
    CHECK(r.bound > 0 && r.bound <= r.tpi);
    double stopped_bound = r.bound;
    uniap_pair_result_free(&r);
    solver_interrupt_clear();
    CHECK_EQ(uniap_solve_pair(&t, &o, &r), 0);
    CHECK(r.status == UNIAP_SOLVE_OPTIMAL);
    CHECK(stopped_bound <= r.tpi * (1 + 1e-12));
    uniap_pair_result_free(&r);
    uniap_cost_table_free(&t);
}

/* Tables the check refuses, given to GLPK anyway (through the internal
 * API): GLPK fails (an invalid scale factor at 1e-300 s, an assertion at
 * mixed 1e+-300 s) or returns a numerically wrong solution (mixed 1e+-150
 * s); each is an error, never an abort or a wild read. */
static void test_glpk_numerics(void)
{
    static const struct {
        double f;
        int mixed, bc;
        int want;
    } cases[] = {{1e-300, 0, 0, UNIAP_ELIB}, {1e300, 1, 0, UNIAP_ELIB}, {1e150, 1, 1, UNIAP_ELIB}};
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        uniap_cost_table t;
        solver_shape s;
        solver_milp m;
        uniap_solve_options o;
        uniap_solve_options_default(&o);
        CHECK_EQ(synth(7, &t), 0);
        size_t n = (size_t)t.n_layers * t.n_strategies;
        for (size_t a = 0; a < n; a++) {
            double f = cases[q].f;
            t.time[a] *= cases[q].mixed && a % 2 == 0 ? 1 / f : f;
            t.tail[a] *= cases[q].mixed ? 1 : f;
        }
        CHECK_EQ(solver_table_check(&t), UNIAP_EINVAL);
        CHECK_EQ(solver_shape_build(&t, 0, &s), 0);
        CHECK_EQ(solver_milp_build(&t, &s, o.schedule, 0, NULL, &m), 0);
        uniap_err_clear();
        int st = -1, rc = solver_solve_relaxation(&m, 0, &st);
        if (cases[q].bc) {
            CHECK_EQ(rc, 0);
            uniap_pair_result r = {.stage_of = calloc(t.n_layers, sizeof(int)),
                                   .strategy_of = calloc(t.n_layers, sizeof(int))};
            double obj = 0;
            if (rc == 0 && st == GLP_OPT)
                rc = solver_branch_and_cut(&m, &o, NULL, 0, 0, &r, &obj);
            uniap_pair_result_free(&r);
        }
        CHECK_EQ(rc, cases[q].want);
        if (cases[q].bc)
            CHECK_STR_CONTAINS(uniap_errmsg(), "not a valid ordering");
        else
            CHECK_STR_CONTAINS(uniap_errmsg(), "GLPK failed in the LP relaxation: ");
        solver_milp_free(&m);
        solver_shape_free(&s);
        uniap_cost_table_free(&t);
    }
}

int main(void)
{
    test_many_classes();
    test_row_faults();
    test_table_check();
    test_glpk_error();
    test_glpk_numerics();
    return check_report();
}
