/*
 * test_timeline.c - the timeline of one iteration (costmodel/schedule.c
 * uniap_schedule_timeline, the schedules' operation orders) against
 * timelines worked by hand and the closed form of a uniform pipeline:
 *   - 2 stages, 2 micro-batches, forward 1 s and backward 2 s on each
 *     stage, no transfer time. GPipe: stage 0 F0 [0,1] F1 [1,2], stage 1
 *     F0 [1,2] F1 [2,3] B0 [3,5] B1 [5,7], stage 0 B0 [5,7] B1 [7,9].
 *     1F1B: stage 0 F0 [0,1] F1 [1,2] B0 [4,6] B1 [7,9]; stage 1 F0 [1,2]
 *     B0 [2,4] F1 [4,5] B1 [5,7]. Both end at 9 s.
 *   - a 0.5 s transfer on the critical path's two crossings: GPipe ends at
 *     10 s.
 *   - uniform stages (f + b on each, no transfer): every schedule ends at
 *     (c + deg - 1)(f + b), the bubble of Huang et al. 2019 / Narayanan
 *     et al. 2021.
 *   - ZB-H1 (W apart): by hand on 2 stages, and on uniform stages the
 *     zero-bubble paper's c (F+B+W) + (p-1)(F+B-W) (test_zbh1).
 */
#include <stdlib.h>

#include "check.h"
#include "uniap_costmodel.h"

static const uniap_timeline_op *op(const uniap_timeline_op *o, int n, int stage, int mb, int bwd)
{
    for (int k = 0; k < n; k++)
        if (o[k].stage == stage && o[k].micro_batch == mb && o[k].backward == bwd)
            return &o[k];
    return NULL;
}

static void expect(const uniap_timeline_op *o, int n, int stage, int mb, int bwd, double start,
                   double end)
{
    const uniap_timeline_op *x = op(o, n, stage, mb, bwd);
    CHECK(x != NULL);
    if (x) {
        CHECK_NEAR(x->start, start, 0, 1e-12);
        CHECK_NEAR(x->end, end, 0, 1e-12);
    }
}

/* ZB-H1: 2 stages, 2 micro-batches, F = B = W = 1 (bwd 2 of which W 1):
 * stage 0 F0 [0,1] F1 [1,2]; stage 1 F0 [1,2] B0 [2,3] F1 [3,4] B1
 * [4,5] W0 [5,6] W1 [6,7] (one W deferred); stage 0 B0 [3,4] W0 [4,5]
 * B1 [5,6] W1 [6,7]: 7 = c (F+B+W) + (p-1)(F+B-W) = 6 + 1 (Qi et al. 2024
 * section 3.1); 1F1B ends at 9. Uniform stages end at that closed form;
 * with W = 0 at 1F1B's; a stage holds at most deg micro-batches from F to
 * W (sched_zbh1.c's inflight). */
static void test_zbh1(void)
{
    uniap_schedule zb;
    uniap_timeline_op *ops;
    double end, f[8], b[8], w[8], o0[7] = {0};
    CHECK_EQ(uniap_schedule_parse("zb-h1", &zb), 0);
    for (int i = 0; i < 8; i++)
        f[i] = 1, b[i] = 2, w[i] = 1;
    CHECK_EQ(uniap_schedule_ops(zb, 2), 6);
    CHECK_EQ(uniap_schedule_timeline_w(zb, 2, 2, f, b, w, o0, &ops, &end), 0);
    static const double want[][5] = {/* stage, micro-batch, kind (1 B, 2 W), start, end */
                                     {1, 0, 1, 2, 3}, {1, 1, 1, 4, 5}, {1, 0, 2, 5, 6},
                                     {0, 0, 1, 3, 4}, {0, 0, 2, 4, 5}, {0, 1, 2, 6, 7}};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        expect(ops, 12, (int)want[k][0], (int)want[k][1], (int)want[k][2], want[k][3], want[k][4]);
    CHECK_NEAR(end, 7, 0, 1e-12);
    free(ops);
    /* F 1, B 1.5, W 0.5 (bwd 2): c 3 + (p - 1) 2 */
    for (int i = 0; i < 8; i++)
        w[i] = 0.5;
    for (int deg = 2; deg <= 8; deg *= 2)
        for (int c = deg; c <= 3 * deg; c += deg) {
            CHECK_EQ(uniap_schedule_timeline_w(zb, deg, c, f, b, w, o0, &ops, &end), 0);
            CHECK_NEAR(end, c * 3.0 + (deg - 1) * 2.0, 0, 1e-12);
            int n = uniap_schedule_ops(zb, c);
            for (int i = 0; i < deg; i++) { /* held: F done, W not yet */
                int held = 0, most = 0;
                for (int k = 0; k < n; k++) {
                    held += ops[i * n + k].backward == 0   ? 1
                            : ops[i * n + k].backward == 2 ? -1
                                                           : 0;
                    most = held > most ? held : most;
                }
                CHECK(most <= deg);
                CHECK_EQ(most >= deg - i, 1); /* at least 1F1B's deg - i */
            }
            free(ops);
            double tf;
            CHECK_EQ(uniap_schedule_timeline_w(zb, deg, c, f, b, NULL, o0, &ops, &end), 0);
            free(ops);
            CHECK_EQ(uniap_schedule_timeline(UNIAP_SCHED_1F1B, deg, c, f, b, o0, &ops, &tf), 0);
            free(ops);
            CHECK_NEAR(end, tf, 0, 1e-12);
        }
}

int main(void)
{
    double f[4] = {1, 1, 1, 1}, b[4] = {2, 2, 2, 2}, o0[3] = {0, 0, 0}, o5[1] = {0.5};
    uniap_timeline_op *ops;
    double end;

    CHECK_EQ(uniap_schedule_timeline(UNIAP_SCHED_GPIPE, 2, 2, f, b, o0, &ops, &end), 0);
    expect(ops, 8, 0, 0, 0, 0, 1);
    expect(ops, 8, 0, 1, 0, 1, 2);
    expect(ops, 8, 1, 1, 0, 2, 3);
    expect(ops, 8, 1, 0, 1, 3, 5);
    expect(ops, 8, 1, 1, 1, 5, 7);
    expect(ops, 8, 0, 0, 1, 5, 7);
    expect(ops, 8, 0, 1, 1, 7, 9);
    CHECK_NEAR(end, 9, 0, 1e-12);
    free(ops);

    CHECK_EQ(uniap_schedule_timeline(UNIAP_SCHED_1F1B, 2, 2, f, b, o0, &ops, &end), 0);
    expect(ops, 8, 0, 1, 0, 1, 2);
    expect(ops, 8, 1, 0, 1, 2, 4);
    expect(ops, 8, 0, 0, 1, 4, 6);
    expect(ops, 8, 1, 1, 0, 4, 5);
    expect(ops, 8, 1, 1, 1, 5, 7);
    expect(ops, 8, 0, 1, 1, 7, 9);
    CHECK_NEAR(end, 9, 0, 1e-12);
    /* stage 1 runs F0 B0 F1 B1 in that order */
    CHECK(ops[4].micro_batch == 0 && !ops[4].backward && ops[5].backward && !ops[6].backward);
    free(ops);

    CHECK_EQ(uniap_schedule_timeline(UNIAP_SCHED_GPIPE, 2, 2, f, b, o5, &ops, &end), 0);
    /* stage 1 F0 [1.5, 2.5], F1 [2.5, 3.5], B0 [3.5, 5.5], B1 [5.5, 7.5];
     * stage 0 B1 waits for 7.5 + 0.5: [8, 10] (one forward and one
     * backward crossing on the critical path) */
    CHECK_NEAR(end, 9 + 2 * 0.5, 0, 1e-12);
    expect(ops, 8, 1, 0, 0, 1.5, 2.5);
    free(ops);

    for (int s = 0; s < 2; s++)
        for (int deg = 1; deg <= 4; deg++)
            for (int c = 1; c <= 6; c++) {
                CHECK_EQ(uniap_schedule_timeline((uniap_schedule)s, deg, c, f, b, o0, &ops, &end),
                         0);
                CHECK_NEAR(end, (c + deg - 1) * 3.0, 0, 1e-12);
                free(ops);
            }
    CHECK_EQ(uniap_schedule_timeline((uniap_schedule)99, 2, 2, f, b, o0, &ops, &end), UNIAP_EINVAL);
    test_zbh1();
    return check_report();
}
