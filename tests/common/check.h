/*
 * check.h - the test suite's assertion macros. A test program calls CHECK*
 * as often as it likes (a failure prints file:line and the values and the
 * program goes on), then returns check_report() from main: 0 when every
 * check passed, 1 otherwise. ctest counts programs, not checks.
 */
#ifndef UNIAP_CHECK_H
#define UNIAP_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures_;
static int check_count_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_count_++;                                                                            \
        if (!(cond)) {                                                                             \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* a == b for integers */
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        check_count_++;                                                                            \
        if (va_ != vb_) {                                                                          \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = %lld, %s = %lld\n", __FILE__, __LINE__,  \
                    #a, va_, #b, vb_);                                                             \
        }                                                                                          \
    } while (0)

/* |a - b| <= rel * max(|a|, |b|) + abs_tol */
#define CHECK_NEAR(a, b, rel, abs_tol)                                                             \
    do {                                                                                           \
        double va_ = (double)(a), vb_ = (double)(b);                                               \
        double tol_ = (rel)*fmax(fabs(va_), fabs(vb_)) + (abs_tol);                                \
        check_count_++;                                                                            \
        if (!(fabs(va_ - vb_) <= tol_)) {                                                          \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.17g, %s = %.17g (tol %.3g)\n",       \
                    __FILE__, __LINE__, #a, va_, #b, vb_, tol_);                                   \
        }                                                                                          \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                            \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        check_count_++;                                                                            \
        if (!h_ || !strstr(h_, n_)) {                                                              \
            check_failures_++;                                                                     \
            fprintf(stderr, "%s:%d: CHECK_STR_CONTAINS failed: \"%s\" does not contain \"%s\"\n",  \
                    __FILE__, __LINE__, h_ ? h_ : "(null)", n_);                                   \
        }                                                                                          \
    } while (0)

static inline int check_report(void)
{
    fprintf(stderr, "%d checks, %d failed\n", check_count_, check_failures_);
    return check_failures_ ? 1 : 0;
}

#endif
