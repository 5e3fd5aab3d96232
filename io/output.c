/*
 * output.c - the one atomic-output helper of the tree (uniap_output_*).
 * An output is checked before any work starts (its folder exists and is
 * writable; the path, if it exists, is a regular file or a link to one),
 * written under a unique temporary (mkstemp: O_CREAT|O_EXCL, never a
 * predictable name) in the final file's folder, fsync'ed and renamed onto
 * the final path. A symlink is written through: the final path is the
 * link's target, and the link survives. "-" is standard output where the
 * caller allows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uniap_io.h"

#define MAX_LINKS 40

/* Splits p into its folder (".") and last component. */
static int split_path(const char *p, char *dir, size_t nd, char *base, size_t nb)
{
    const char *slash = strrchr(p, '/');
    int n;

    if (!slash)
        n = snprintf(dir, nd, ".");
    else if (slash == p)
        n = snprintf(dir, nd, "/");
    else
        n = snprintf(dir, nd, "%.*s", (int)(slash - p), p);
    if (n < 0 || (size_t)n >= nd)
        return -1;
    n = snprintf(base, nb, "%s", slash ? slash + 1 : p);
    return n < 0 || (size_t)n >= nb ? -1 : 0;
}

/* Follows the symlinks of a path that does not resolve (missing, or a
 * dangling link) to the name the file will have, in cur (PATH_MAX). */
static int follow_links(const char *opt, const char *path, char *cur)
{
    char target[PATH_MAX], dir[PATH_MAX], base[PATH_MAX];
    struct stat st;

    snprintf(cur, PATH_MAX, "%s", path);
    for (int hops = 0;; hops++) {
        if (lstat(cur, &st) != 0)
            return UNIAP_OK; /* the name the file gets */
        if (!S_ISLNK(st.st_mode))
            return uniap_err(UNIAP_EINVAL, "%s %s: cannot resolve %s", opt, path, cur);
        if (hops >= MAX_LINKS)
            return uniap_err(UNIAP_EINVAL, "%s %s: too many levels of symbolic links", opt, path);
        ssize_t n = readlink(cur, target, sizeof(target) - 1);
        if (n < 0)
            return uniap_err(UNIAP_EINVAL, "%s %s: cannot read link %s: %s", opt, path, cur,
                             strerror(errno));
        target[n] = '\0';
        if (target[0] == '/' || split_path(cur, dir, sizeof(dir), base, sizeof(base)) < 0) {
            snprintf(cur, PATH_MAX, "%s", target);
        } else if (snprintf(cur, PATH_MAX, "%s/%s", dir, target) >= PATH_MAX) {
            return uniap_err(UNIAP_EINVAL, "%s %s: path too long", opt, path);
        }
    }
}

/* The final path of an output (symlinks resolved, folder absolute) into
 * out (n bytes); *exists and *st describe the existing file. Refuses a
 * target that is not a regular file, and a missing or unwritable folder. */
static int resolve_output(const char *opt, const char *path, char *out, size_t n, int *exists,
                          struct stat *st)
{
    char cur[PATH_MAX], dir[PATH_MAX], base[PATH_MAX], absdir[PATH_MAX];
    int rc;

    *exists = 0;
    if (!path || !path[0])
        return uniap_err(UNIAP_EINVAL, "%s: empty path; expected a file name", opt);
    if (stat(path, st) == 0) {
        if (S_ISDIR(st->st_mode))
            return uniap_err(UNIAP_EINVAL, "%s %s: is a folder; expected a file name", opt, path);
        if (!S_ISREG(st->st_mode))
            return uniap_err(UNIAP_EINVAL,
                             "%s %s: exists and is not a regular file (a device, FIFO or "
                             "socket); expected a file name",
                             opt, path);
        *exists = 1;
        if (!realpath(path, cur))
            return uniap_err(UNIAP_EINVAL, "%s %s: cannot resolve: %s", opt, path, strerror(errno));
    } else if (errno != ENOENT) {
        return uniap_err(UNIAP_EINVAL, "%s %s: %s", opt, path, strerror(errno));
    } else if ((rc = follow_links(opt, path, cur)) < 0) {
        return rc;
    }
    if (split_path(cur, dir, sizeof(dir), base, sizeof(base)) < 0)
        return uniap_err(UNIAP_EINVAL, "%s %s: path too long", opt, path);
    if (!base[0] || !strcmp(base, ".") || !strcmp(base, ".."))
        return uniap_err(UNIAP_EINVAL, "%s %s: is a folder; expected a file name", opt, path);
    if (!realpath(dir, absdir)) {
        if (errno == ENOENT || errno == ENOTDIR)
            return uniap_err(UNIAP_EINVAL, "%s %s: folder %s does not exist", opt, path, dir);
        return uniap_err(UNIAP_EINVAL, "%s %s: folder %s: %s", opt, path, dir, strerror(errno));
    }
    if (access(absdir, W_OK | X_OK) != 0)
        return uniap_err(UNIAP_EINVAL, "%s %s: cannot write into folder %s: %s", opt, path, absdir,
                         strerror(errno));
    int len = snprintf(out, n, "%s/%s", strcmp(absdir, "/") ? absdir : "", base);
    if (len < 0 || (size_t)len >= n)
        return uniap_err(UNIAP_EINVAL, "%s %s: path too long", opt, path);
    return UNIAP_OK;
}

int uniap_output_check(const char *opt, const char *path, int allow_stdout)
{
    char final[PATH_MAX];
    struct stat st;
    int exists;

    if (path && !strcmp(path, "-"))
        return allow_stdout ? UNIAP_OK
                            : uniap_err(UNIAP_EINVAL,
                                        "%s -: standard output is not possible for this "
                                        "output; give a file name",
                                        opt);
    return resolve_output(opt, path, final, sizeof(final), &exists, &st);
}

int uniap_output_not_input(const char *opt, const char *out, const char *const *inputs,
                           const char *const *input_opts, int n_inputs)
{
    struct stat so, si;

    if (!out || !strcmp(out, "-") || stat(out, &so) != 0)
        return UNIAP_OK; /* stdout, or not an existing file: cannot be an input */
    for (int i = 0; i < n_inputs; i++) {
        if (!inputs[i] || !strcmp(inputs[i], "-") || stat(inputs[i], &si) != 0)
            continue;
        if (si.st_dev == so.st_dev && si.st_ino == so.st_ino)
            return uniap_err(UNIAP_EINVAL,
                             "%s %s is the same file as %s %s: writing it would destroy the "
                             "input; choose another output",
                             opt, out, input_opts && input_opts[i] ? input_opts[i] : "input",
                             inputs[i]);
    }
    return UNIAP_OK;
}

/* The mode a new file gets: 0666 & ~umask. */
static mode_t new_file_mode(void)
{
    mode_t mask = umask(022);
    umask(mask);
    return 0666 & ~mask;
}

/* Creates the unique temporary for path in o (fd returned in *fd). */
static int make_temp(uniap_output *o, const char *path, int *fd)
{
    struct stat st;
    int exists, rc;

    if ((rc = resolve_output("output", path, o->path, sizeof(o->path), &exists, &st)) < 0)
        return rc;
    int n = snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", o->path);
    if (n < 0 || (size_t)n >= sizeof(o->tmp))
        return uniap_err(UNIAP_EINVAL, "%s: path too long", path);
    *fd = mkstemp(o->tmp);
    if (*fd < 0) {
        int e = errno;
        o->tmp[0] = '\0';
        return uniap_err(UNIAP_EIO, "%s: cannot create a temporary file beside %s: %s", path,
                         o->path, strerror(e));
    }
    /* mkstemp makes 0600: a new file gets the usual mode, a replaced one
     * keeps its mode (and, where permitted, its owner). */
    if (exists) {
        if (st.st_uid != geteuid() || st.st_gid != getegid())
            (void)!fchown(*fd, st.st_uid, st.st_gid);
        (void)fchmod(*fd, st.st_mode & 07777);
    } else {
        (void)fchmod(*fd, new_file_mode());
    }
    return UNIAP_OK;
}

int uniap_output_open(uniap_output *o, const char *path, int allow_stdout)
{
    int fd, rc;

    memset(o, 0, sizeof(*o));
    if (path && !strcmp(path, "-")) {
        if (!allow_stdout)
            return uniap_output_check("output", path, 0);
        snprintf(o->path, sizeof(o->path), "-");
        o->f = stdout;
        o->is_stdout = 1;
        return UNIAP_OK;
    }
    if ((rc = make_temp(o, path, &fd)) < 0)
        return rc;
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        rc = uniap_err(UNIAP_EIO, "%s: cannot open %s: %s", path, o->tmp, strerror(errno));
        close(fd);
        unlink(o->tmp);
        o->tmp[0] = '\0';
        return rc;
    }
    return UNIAP_OK;
}

int uniap_output_reserve(uniap_output *o, const char *path)
{
    int fd, rc;

    memset(o, 0, sizeof(*o));
    if (path && !strcmp(path, "-"))
        return uniap_output_check("output", path, 0);
    if ((rc = make_temp(o, path, &fd)) < 0)
        return rc;
    close(fd);
    return UNIAP_OK;
}

/* fsyncs the folder of path so that the rename is durable (best effort). */
static void sync_dir(const char *path)
{
    char dir[PATH_MAX], base[PATH_MAX];

    if (split_path(path, dir, sizeof(dir), base, sizeof(base)) < 0)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Renames the (closed, synced) temporary onto o->path, refusing a final
 * path that became something other than a regular file meanwhile. */
static int rename_into_place(uniap_output *o)
{
    struct stat st;
    int rc = UNIAP_OK;

    if (lstat(o->path, &st) == 0 && !S_ISREG(st.st_mode)) {
        rc = uniap_err(UNIAP_EINVAL, "%s: is no longer a regular file; not replaced", o->path);
    } else if (rename(o->tmp, o->path) != 0) {
        rc = uniap_err(UNIAP_EIO, "%s: cannot rename %s into place: %s", o->path, o->tmp,
                       strerror(errno));
    } else {
        o->tmp[0] = '\0';
        sync_dir(o->path);
    }
    if (o->tmp[0])
        unlink(o->tmp);
    o->tmp[0] = '\0';
    return rc;
}

int uniap_output_commit(uniap_output *o)
{
    int rc = UNIAP_OK;

    if (!o->f)
        return o->tmp[0] ? uniap_output_commit_path(o)
                         : uniap_err(UNIAP_EINTERNAL, "output %s: commit without open", o->path);
    if (o->is_stdout) {
        o->f = NULL;
        if (fflush(stdout) != 0 || ferror(stdout))
            return uniap_err(UNIAP_EIO, "standard output: write failed: %s", strerror(errno));
        return UNIAP_OK;
    }
    if (fflush(o->f) != 0 || ferror(o->f))
        rc = uniap_err(UNIAP_EIO, "%s: write failed: %s", o->tmp, strerror(errno));
    else if (fsync(fileno(o->f)) != 0 && errno != EINVAL)
        rc = uniap_err(UNIAP_EIO, "%s: fsync failed: %s", o->tmp, strerror(errno));
    if (fclose(o->f) != 0 && rc == UNIAP_OK)
        rc = uniap_err(UNIAP_EIO, "%s: close failed: %s", o->tmp, strerror(errno));
    o->f = NULL;
    if (rc < 0) {
        unlink(o->tmp);
        o->tmp[0] = '\0';
        return rc;
    }
    return rename_into_place(o);
}

int uniap_output_commit_path(uniap_output *o)
{
    if (o->is_stdout || !o->tmp[0])
        return uniap_err(UNIAP_EINTERNAL, "output %s: commit_path without reserve", o->path);
    int fd = open(o->tmp, O_RDONLY | O_NOFOLLOW);
    if (fd < 0) {
        int rc = uniap_err(UNIAP_EIO, "%s: cannot reopen %s: %s", o->path, o->tmp, strerror(errno));
        unlink(o->tmp);
        o->tmp[0] = '\0';
        return rc;
    }
    (void)fsync(fd);
    close(fd);
    return rename_into_place(o);
}

void uniap_output_abort(uniap_output *o)
{
    if (o->is_stdout) {
        o->f = NULL;
        return;
    }
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    if (o->tmp[0])
        unlink(o->tmp);
    o->tmp[0] = '\0';
}
