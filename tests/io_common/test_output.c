/*
 * test_output.c - the atomic-output API (io/output.c): regular files,
 * writing through symlinks, refusing device nodes, FIFOs, folders and
 * missing folders, no temporaries left behind, unpredictable temporary
 * names, output-is-input detection, "-" for standard output, file modes.
 * Run as `test_io_output MODE DIR`: DIR is emptied first.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "uniap_io.h"

static const char *dir_;

static const char *in_dir(const char *name)
{
    static char buf[8][4096];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, 4096, "%s/%s", dir_, name);
    return b;
}

/* Entries of the test folder (not . and ..). */
static int count_entries(void)
{
    DIR *d = opendir(dir_);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Entries whose name contains ".tmp" (leftover temporaries). */
static int count_temps(const char *folder)
{
    DIR *d = opendir(folder);
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp"))
            n++;
    closedir(d);
    return n;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* 1 when path holds exactly text. */
static int holds(const char *path, const char *text)
{
    char *data = NULL;
    size_t n = 0;
    uniap_err_clear();
    if (uniap_read_file(path, &data, &n) < 0)
        return 0;
    int ok = n == strlen(text) && memcmp(data, text, n) == 0;
    free(data);
    return ok;
}

static void test_regular(void)
{
    const char *p = in_dir("out.json");
    uniap_output o;
    CHECK_EQ(uniap_output_check("--out", p, 0), 0);
    CHECK_EQ(uniap_write_file_atomic(p, "one", 3), 0);
    CHECK(holds(p, "one"));
    CHECK_EQ(uniap_output_check("--out", p, 0), 0); /* an existing regular file */
    CHECK_EQ(uniap_output_open(&o, p, 0), 0);
    CHECK(o.f != NULL && !o.is_stdout && o.tmp[0]);
    fputs("two", o.f);
    CHECK(holds(p, "one")); /* nothing replaced before commit */
    CHECK_EQ(uniap_output_commit(&o), 0);
    CHECK(holds(p, "two"));
    CHECK_EQ(count_entries(), 1);
    /* A relative path in the current folder. */
    CHECK_EQ(chdir(dir_), 0);
    CHECK_EQ(uniap_write_file_atomic("rel.txt", "r", 1), 0);
    CHECK(holds("rel.txt", "r"));
    CHECK_EQ(count_temps("."), 0);
}

static void test_symlink(void)
{
    const char *target = in_dir("target.json"), *link = in_dir("link.json");
    struct stat st;
    put(target, "old");
    CHECK_EQ(symlink("target.json", link), 0); /* relative link */
    CHECK_EQ(uniap_output_check("--out", link, 0), 0);
    CHECK_EQ(uniap_write_file_atomic(link, "new", 3), 0);
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode)); /* the link survives */
    CHECK(holds(target, "new"));                         /* its target got the content */
    CHECK_EQ(count_entries(), 2);

    /* A link into another folder: the temporary is made there. */
    const char *sub = in_dir("sub"), *link2 = in_dir("link2.json");
    CHECK_EQ(mkdir(sub, 0755), 0);
    CHECK_EQ(symlink("sub/far.json", link2), 0); /* dangling: writes to its target path */
    CHECK_EQ(uniap_write_file_atomic(link2, "far", 3), 0);
    CHECK(lstat(link2, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(holds(in_dir("sub/far.json"), "far"));
    CHECK_EQ(count_temps(dir_), 0);
    CHECK_EQ(count_temps(sub), 0);

    /* A chain of two links. */
    const char *link3 = in_dir("link3.json");
    CHECK_EQ(symlink("link.json", link3), 0);
    CHECK_EQ(uniap_write_file_atomic(link3, "chain", 5), 0);
    CHECK(lstat(link3, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(holds(target, "chain"));

    /* A loop of links is refused. */
    const char *la = in_dir("la"), *lb = in_dir("lb");
    CHECK_EQ(symlink("lb", la), 0);
    CHECK_EQ(symlink("la", lb), 0);
    uniap_err_clear();
    CHECK_EQ(uniap_output_check("--out", la, 0), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "--out");
}

static void test_special(void)
{
    struct stat st;
    uniap_output o;
    const char *fifo = in_dir("fifo");

    uniap_err_clear();
    CHECK_EQ(uniap_output_check("--out", "/dev/null", 0), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "--out /dev/null");
    CHECK_STR_CONTAINS(uniap_errmsg(), "not a regular file");
    uniap_err_clear();
    CHECK_EQ(uniap_write_file_atomic("/dev/null", "x", 1), UNIAP_EINVAL);
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));

    /* /dev/full (root could replace it): refused, still a device. */
    if (stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode)) {
        uniap_err_clear();
        CHECK_EQ(uniap_output_check("--out", "/dev/full", 0), UNIAP_EINVAL);
        CHECK_EQ(uniap_output_open(&o, "/dev/full", 0), UNIAP_EINVAL);
        CHECK(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
    }
    /* /dev/stdout as a path is not "-". */
    uniap_err_clear();
    CHECK_EQ(uniap_output_open(&o, "/dev/stdout", 1), UNIAP_EINVAL);
    CHECK(lstat("/dev/stdout", &st) == 0 && !S_ISREG(st.st_mode));

    CHECK_EQ(mkfifo(fifo, 0644), 0);
    uniap_err_clear();
    CHECK_EQ(uniap_output_check("--export", fifo, 0), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "--export");
    CHECK_STR_CONTAINS(uniap_errmsg(), fifo);
    CHECK_EQ(uniap_write_file_atomic(fifo, "x", 1), UNIAP_EINVAL);
    CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    /* A symlink to a device is refused too. */
    const char *dl = in_dir("devlink");
    CHECK_EQ(symlink("/dev/null", dl), 0);
    CHECK_EQ(uniap_output_check("--out", dl, 0), UNIAP_EINVAL);
    CHECK_EQ(count_temps(dir_), 0);
}

static void test_missing_folder(void)
{
    const char *p = in_dir("no/such/folder/x.json");
    uniap_output o;
    uniap_err_clear();
    CHECK_EQ(uniap_output_check("--out", p, 0), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "--out");
    CHECK_STR_CONTAINS(uniap_errmsg(), p);
    CHECK_STR_CONTAINS(uniap_errmsg(), "does not exist");
    CHECK(uniap_output_open(&o, p, 0) < 0);
    CHECK_EQ(count_entries(), 0);
    /* A "folder" that is a file. */
    put(in_dir("plain"), "x");
    uniap_err_clear();
    CHECK_EQ(uniap_output_check("--out", in_dir("plain/x.json"), 0), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "--out");
    /* An unwritable folder (root bypasses the mode; check only when not root). */
    const char *ro = in_dir("ro");
    CHECK_EQ(mkdir(ro, 0555), 0);
    if (geteuid() != 0) {
        uniap_err_clear();
        CHECK_EQ(uniap_output_check("--out", in_dir("ro/x.json"), 0), UNIAP_EINVAL);
        CHECK_STR_CONTAINS(uniap_errmsg(), "cannot write into folder");
    }
    chmod(ro, 0755);
}

static void test_folder(void)
{
    const char *p = in_dir("occupied");
    uniap_output o;
    struct stat st;
    CHECK_EQ(mkdir(p, 0755), 0);
    uniap_err_clear();
    CHECK_EQ(uniap_output_check("--out", p, 0), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "is a folder");
    CHECK_EQ(uniap_output_open(&o, p, 0), UNIAP_EINVAL);
    CHECK_EQ(uniap_output_reserve(&o, p), UNIAP_EINVAL);
    CHECK_EQ(uniap_output_check("--out", in_dir("occupied/"), 0), UNIAP_EINVAL);
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK_EQ(count_entries(), 1);
}

static void test_abort(void)
{
    const char *p = in_dir("a.json");
    uniap_output o;
    put(p, "keep");
    CHECK_EQ(uniap_output_open(&o, p, 0), 0);
    fputs("partial", o.f);
    CHECK_EQ(count_entries(), 2); /* the file and its temporary */
    uniap_output_abort(&o);
    uniap_output_abort(&o); /* twice is harmless */
    CHECK(holds(p, "keep"));
    CHECK_EQ(count_entries(), 1);
    CHECK_EQ(count_temps(dir_), 0);
    /* reserve + abort */
    CHECK_EQ(uniap_output_reserve(&o, in_dir("r.h5")), 0);
    CHECK(o.f == NULL && o.tmp[0]);
    CHECK_EQ(count_entries(), 2);
    uniap_output_abort(&o);
    CHECK_EQ(count_entries(), 1);
    /* reserve, write by name, commit_path */
    CHECK_EQ(uniap_output_reserve(&o, in_dir("r.h5")), 0);
    put(o.tmp, "by name");
    CHECK_EQ(uniap_output_commit_path(&o), 0);
    CHECK(holds(in_dir("r.h5"), "by name"));
    CHECK_EQ(count_temps(dir_), 0);
    CHECK_EQ(count_entries(), 2);
}

static void test_unique(void)
{
    const char *p = in_dir("u.json");
    uniap_output a, b;
    CHECK_EQ(uniap_output_open(&a, p, 0), 0);
    CHECK_EQ(uniap_output_open(&b, p, 0), 0);
    CHECK(strcmp(a.tmp, b.tmp) != 0);
    fputs("a", a.f);
    fputs("b", b.f);
    CHECK_EQ(uniap_output_commit(&a), 0);
    CHECK_EQ(uniap_output_commit(&b), 0);
    CHECK(holds(p, "b"));
    CHECK_EQ(count_entries(), 1);
}

static void test_tmp_symlink(void)
{
    char trap[4200];
    const char *p = in_dir("victim.json"), *other = in_dir("other.txt");
    struct stat st;
    put(other, "precious");
    /* The old predictable temporary name, pre-made as a symlink. */
    snprintf(trap, sizeof(trap), "%s.tmp.%ld", p, (long)getpid());
    CHECK_EQ(symlink(other, trap), 0);
    CHECK_EQ(uniap_write_file_atomic(p, "data", 4), 0);
    CHECK(holds(other, "precious"));
    CHECK(holds(p, "data"));
    CHECK(lstat(trap, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode));
}

static void test_not_input(void)
{
    const char *in = in_dir("in.h5"), *hard = in_dir("hard.h5"), *soft = in_dir("soft.h5");
    const char *other = in_dir("other.h5");
    const char *inputs[3] = {NULL, "-", in};
    const char *opts[3] = {"--model", "--cluster", "--profile"};
    put(in, "profile");
    put(other, "x");
    CHECK_EQ(link(in, hard), 0);
    CHECK_EQ(symlink("in.h5", soft), 0);
    uniap_err_clear();
    CHECK_EQ(uniap_output_not_input("--out", in, inputs, opts, 3), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "--out");
    CHECK_STR_CONTAINS(uniap_errmsg(), "--profile");
    uniap_err_clear();
    CHECK_EQ(uniap_output_not_input("--out", hard, inputs, opts, 3), UNIAP_EINVAL);
    uniap_err_clear();
    CHECK_EQ(uniap_output_not_input("--out", soft, inputs, opts, 3), UNIAP_EINVAL);
    CHECK_EQ(uniap_output_not_input("--out", other, inputs, opts, 3), 0);
    CHECK_EQ(uniap_output_not_input("--out", in_dir("new.h5"), inputs, opts, 3), 0);
    CHECK_EQ(uniap_output_not_input("--out", "-", inputs, opts, 3), 0);
    CHECK(holds(in, "profile"));
}

static void test_stdout(void)
{
    uniap_output o;
    uniap_err_clear();
    CHECK_EQ(uniap_output_check("--out", "-", 0), UNIAP_EINVAL);
    CHECK_STR_CONTAINS(uniap_errmsg(), "--out");
    CHECK_EQ(uniap_output_check("--out", "-", 1), 0);
    CHECK_EQ(uniap_output_open(&o, "-", 0), UNIAP_EINVAL);
    CHECK_EQ(uniap_output_reserve(&o, "-"), UNIAP_EINVAL);
    CHECK_EQ(uniap_output_open(&o, "-", 1), 0);
    CHECK(o.is_stdout && o.f == stdout && o.tmp[0] == '\0');
    fputs("to stdout\n", o.f);
    CHECK_EQ(uniap_output_commit(&o), 0);
    CHECK_EQ(uniap_write_file_atomic("-", "also\n", 5), 0);
    CHECK_EQ(count_entries(), 0);
    uniap_err_clear();
    CHECK_EQ(uniap_output_check("--out", "", 1), UNIAP_EINVAL);
}

static void test_modes(void)
{
    const char *fresh = in_dir("fresh.txt"), *kept = in_dir("kept.txt");
    struct stat st;
    mode_t old = umask(027);
    CHECK_EQ(uniap_write_file_atomic(fresh, "x", 1), 0);
    CHECK(stat(fresh, &st) == 0 && (st.st_mode & 0777) == 0640);
    umask(old);
    put(kept, "y");
    CHECK_EQ(chmod(kept, 0604), 0);
    CHECK_EQ(uniap_write_file_atomic(kept, "z", 1), 0);
    CHECK(stat(kept, &st) == 0 && (st.st_mode & 0777) == 0604);
    CHECK(holds(kept, "z"));
}

static const struct {
    const char *name;
    void (*run)(void);
} modes[] = {
    {"regular", test_regular},     {"symlink", test_symlink},
    {"special", test_special},     {"missing_folder", test_missing_folder},
    {"folder", test_folder},       {"abort", test_abort},
    {"unique", test_unique},       {"tmp_symlink", test_tmp_symlink},
    {"not_input", test_not_input}, {"stdout", test_stdout},
    {"modes", test_modes},
};

int main(int argc, char **argv)
{
    char cmd[4200];
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODE DIR\n", argv[0]);
        return 2;
    }
    dir_ = argv[2];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir_, dir_);
    if (system(cmd) != 0)
        return 2;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(argv[1], modes[i].name) == 0) {
            modes[i].run();
            return check_report();
        }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
