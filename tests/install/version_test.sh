#!/bin/bash
# version_test.sh - cmake/UniapVersion.cmake (the uniap_version target run
# on every build) on a scratch git repository (ctest install_version):
#   the revision is `git describe --always --abbrev=12` of HEAD, "-dirty"
#   once a tracked file changes; a new commit changes it; an unchanged
#   revision leaves the header untouched (no rebuild); the script leaves
#   the repository's index alone; outside a git checkout (and in a folder
#   of some other repository) the fallback is used.
# usage: version_test.sh SOURCE_DIR WORK_DIR
set -u
src=$1 work=$2
fail() {
    echo "version_test: FAIL: $*" >&2
    exit 1
}
command -v git >/dev/null 2>&1 || {
    echo "version_test: SKIP: no git" >&2
    exit 77
}
rm -rf "$work"
mkdir -p "$work/repo"
repo=$work/repo
out=$work/uniap_version.h
g() { git -C "$repo" -c user.name=uniap-test -c user.email=test@uniap.invalid "$@"; }
gen() { # gen DIR: the header for source tree DIR
    cmake -DIN="$src/cmake/uniap_version.h.in" -DOUT="$out" -DSRC="$1" -DVERSION=9.8.7 \
        -DFALLBACK=v9.8.7 -P "$src/cmake/UniapVersion.cmake" || fail "UniapVersion.cmake failed"
}
rev() { sed -n 's/^#define UNIAP_GIT_REVISION "\(.*\)"$/\1/p' "$out"; }

g init -q || fail "git init"
echo one >"$repo/file.txt"
g add file.txt || fail "git add"
g commit -q -m one || fail "git commit"
gen "$repo"
head1=$(g rev-parse --short=12 HEAD)
[ "$(rev)" = "$head1" ] || fail "clean checkout: revision '$(rev)', expected '$head1'"
grep -q '^#define UNIAP_VERSION "9.8.7"$' "$out" || fail "no UNIAP_VERSION 9.8.7 in $out"

# unchanged revision: the header is not rewritten (same mtime), nor the index
touch -d '2000-01-01' "$out"
index_before=$(stat -c %i.%Y.%s "$repo/.git/index")
touch "$repo/file.txt" # stale stat information: describe --dirty would rewrite the index
gen "$repo"
[ "$(stat -c %Y "$out")" = "$(date -d 2000-01-01 +%s)" ] || fail "an unchanged revision rewrote $out"
[ "$(stat -c %i.%Y.%s "$repo/.git/index")" = "$index_before" ] || fail "UniapVersion.cmake changed the git index"

echo two >"$repo/file.txt"
gen "$repo"
[ "$(rev)" = "$head1-dirty" ] || fail "modified tracked file: revision '$(rev)', expected '$head1-dirty'"
echo untracked >"$repo/new.txt"
g commit -q -a -m two || fail "git commit"
gen "$repo"
head2=$(g rev-parse --short=12 HEAD)
[ "$head2" != "$head1" ] || fail "the second commit has the first's hash"
[ "$(rev)" = "$head2" ] || fail "after a commit (untracked file present): revision '$(rev)', expected '$head2'"

mkdir -p "$work/plain" "$repo/sub"
gen "$work/plain"
[ "$(rev)" = "v9.8.7" ] || fail "outside git: revision '$(rev)', expected the fallback v9.8.7"
gen "$repo/sub"
[ "$(rev)" = "v9.8.7" ] || fail "a folder inside another repository: revision '$(rev)', expected the fallback"
echo "version_test: ok ($head1, $head1-dirty, $head2, fallback)" >&2
