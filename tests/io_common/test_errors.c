/*
 * test_errors.c - io/error.c: every status of UNIAP_STATUS_MAP has its
 * name and documented exit code; source locations appear only in debug
 * mode; the "outer: inner" cause chain; UNIAP_CHECK in a release build.
 */
#include <string.h>

#include "check.h"
#include "uniap_io.h"

static int guarded(int n)
{
    UNIAP_CHECK(n <= 64);
    return n;
}

static void test_status_map(void)
{
    /* The documented exit codes, written out independently of the map. */
    static const struct {
        int code, exit;
        const char *name;
    } expect[] = {
        {UNIAP_OK, 0, "ok"},
        {UNIAP_EINVAL, 2, "invalid input"},
        {UNIAP_EIO, 1, "i/o error"},
        {UNIAP_EFORMAT, 2, "bad dataset"},
        {UNIAP_ENOMEM, 1, "out of memory"},
        {UNIAP_EINFEASIBLE, 3, "infeasible"},
        {UNIAP_EMISSING, 2, "missing measurement"},
        {UNIAP_ELIB, 1, "library error"},
        {UNIAP_EINTR, 4, "interrupted"},
        {UNIAP_EINTERNAL, 1, "internal error"},
        {UNIAP_ENOPLAN, 1, "no plan"},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        CHECK_EQ(uniap_exit_code(expect[i].code), expect[i].exit);
        CHECK(strcmp(uniap_strstatus(expect[i].code), expect[i].name) == 0);
    }
    /* Every code of the map has a name of its own and a known exit code. */
#define COUNT(name, value, str, exit)                                                              \
    n++;                                                                                           \
    CHECK(strcmp(uniap_strstatus(value), "unknown error") != 0);                                   \
    CHECK(strcmp(uniap_strstatus(value), str) == 0);                                               \
    CHECK_EQ(uniap_exit_code(value), exit);
    UNIAP_STATUS_MAP(COUNT)
#undef COUNT
    CHECK_EQ(n, (int)(sizeof(expect) / sizeof(expect[0])));
    CHECK(strcmp(uniap_strstatus(-999), "unknown error") == 0);
    CHECK_EQ(uniap_exit_code(-999), 1);
}

static void test_debug_locations(void)
{
    uniap_err_set_debug(0);
    uniap_err_clear();
    CHECK_EQ(uniap_err_at("/src/io/some_file.c", 42, UNIAP_EFORMAT, "%s: bad thing", "x.h5"),
             UNIAP_EFORMAT);
    CHECK(strcmp(uniap_errmsg(), "x.h5: bad thing") == 0);
    CHECK(strstr(uniap_errmsg(), "some_file.c") == NULL);
    uniap_err_set_debug(1);
    CHECK_STR_CONTAINS(uniap_errmsg(), "x.h5: bad thing");
    CHECK_STR_CONTAINS(uniap_errmsg(), "some_file.c:42");
    CHECK(strstr(uniap_errmsg(), "/src/io") == NULL); /* the base name only */
    uniap_err_set_debug(0);

    /* UNIAP_CHECK is on in every build and its location is debug-only. */
    uniap_err_clear();
    CHECK_EQ(guarded(65), UNIAP_EINTERNAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "invariant 'n <= 64' failed");
    CHECK(strstr(uniap_errmsg(), "test_errors.c") == NULL);
    uniap_err_set_debug(1);
    CHECK_STR_CONTAINS(uniap_errmsg(), "test_errors.c:");
    uniap_err_set_debug(0);
    uniap_err_clear();
    CHECK_EQ(guarded(3), 3);
    CHECK(uniap_errmsg()[0] == '\0');
}

static void test_chain(void)
{
    uniap_err_clear();
    uniap_err(UNIAP_EINVAL, "inner %d", 1);
    uniap_err_at("a.c", 7, UNIAP_EINVAL, "middle");
    uniap_err(UNIAP_EINVAL, "outer");
    CHECK(strcmp(uniap_errmsg(), "outer: middle: inner 1") == 0);
    uniap_err_set_debug(1);
    CHECK(strcmp(uniap_errmsg(), "outer: middle [a.c:7]: inner 1") == 0);
    uniap_err_set_debug(0);
    uniap_err_clear();
    CHECK(uniap_errmsg()[0] == '\0');
    uniap_err_set_debug(1);
    CHECK(uniap_errmsg()[0] == '\0');
    uniap_err_set_debug(0);
    /* A very long chain is truncated, never overflowed. */
    char big[3000];
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    uniap_err(UNIAP_EIO, "%s", big);
    uniap_err(UNIAP_EIO, "%s", big);
    CHECK(strlen(uniap_errmsg()) < 2048);
    uniap_err_clear();
}

int main(void)
{
    test_status_map();
    test_debug_locations();
    test_chain();
    return check_report();
}
