#!/bin/bash
# install_test.sh - `cmake --install` of the build into a fresh prefix, then
# what a user of the installed uniap does (ctest install_*):
#   files    the binary, libraries, public headers (and no private one),
#            the CMake package, uniap.pc, man pages, bash completion, jobs
#   cmake    consumer/ (a project outside the tree) configured with
#            find_package(uniap), built, run: llama-7b's parameter count
#            equals what the installed `uniap model llama-7b` prints
#   pkgconfig the same consumer.c built by cc with pkg-config's flags
#   man      uniap-plan.1 renders (man, else groff, else .TH checked)
#   complete the completion completes `uniap plan --sch` to --schedule
#   version  the installed uniap_version.h names the revision `uniap
#            --version` prints
# usage: install_test.sh BUILD_DIR WORK_DIR C_COMPILER "EXTRA_C_FLAGS" DOCS(0|1)
set -u
build=$1 work=$2 cc=$3 cflags=${4:-} docs=${5:-1}
here=$(cd "$(dirname "$0")" && pwd)
prefix=$work/prefix
fail() {
    echo "install_test: FAIL: $*" >&2
    exit 1
}
say() { echo "install_test: $*" >&2; }

rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 ||
    fail "cmake --install $build --prefix $prefix: $(tail -n 5 "$work/install.log")"

# --- files
pc=$(find "$prefix" -name uniap.pc -path '*/pkgconfig/*' | head -n 1)
config=$(find "$prefix" -name uniapConfig.cmake | head -n 1)
[ -n "$pc" ] || fail "no uniap.pc under $prefix"
[ -n "$config" ] || fail "no uniapConfig.cmake under $prefix"
libdir=$(dirname "$(dirname "$pc")")
for f in bin/uniap include/uniap/uniap_io.h include/uniap/uniap_io_mpi.h include/uniap/uniap_costmodel.h \
    include/uniap/uniap_solver.h include/uniap/uniap_profiler.h include/uniap/uniap_version.h \
    share/uniap/jobs/profile.sbatch share/uniap/jobs/profile-array.sbatch \
    share/uniap/jobs/plan.sbatch share/uniap/jobs/chain.sh share/uniap/jobs/uniap-launch.sh; do
    [ -s "$prefix/$f" ] || fail "$f not installed"
done
if [ "$docs" = 1 ]; then
    for f in uniap uniap-plan uniap-estimate uniap-profile uniap-archive uniap-model uniap-cluster; do
        [ -s "$prefix/share/man/man1/$f.1" ] || fail "share/man/man1/$f.1 not installed"
    done
    [ -s "$prefix/share/bash-completion/completions/uniap" ] || fail "bash completion not installed"
fi
for l in io costmodel solver profiler; do
    [ -s "$libdir/libuniap_$l.a" ] || [ -s "$libdir/libuniap_$l.so" ] || fail "libuniap_$l not installed in $libdir"
done
extra=$(find "$prefix/include" -type f ! -name uniap_io.h ! -name uniap_io_mpi.h ! -name uniap_costmodel.h \
    ! -name uniap_solver.h ! -name uniap_profiler.h ! -name uniap_version.h)
[ -z "$extra" ] || fail "private headers installed: $extra"
[ ! -e "$prefix/share/uniap/jobs/local-slurm.sh" ] || fail "the test fixture local-slurm.sh was installed"
[ -x "$prefix/share/uniap/jobs/profile.sbatch" ] || fail "profile.sbatch installed without execute permission"
say "files: ok ($(find "$prefix" -type f | wc -l) installed)"

# --- the installed job scripts find their helper: beside themselves, and
# for a copied script through the uniap executable's ../share/uniap/jobs
# (a bad UNIAP_LAUNCHER is refused by the helper, status 2)
mkdir -p "$work/jobcopy"
cp "$prefix/share/uniap/jobs/plan.sbatch" "$work/jobcopy/"
for script in "$prefix/share/uniap/jobs/plan.sbatch" "$work/jobcopy/plan.sbatch"; do
    out=$(env -u UNIAP_JOBS_DIR -u SLURM_JOB_ID UNIAP_BIN="$prefix/bin/uniap" UNIAP_LAUNCHER=bogus \
        UNIAP_OUT_DIR="$work/jobout" bash "$script" 2>&1)
    rc=$?
    if [ "$rc" -ne 2 ] || ! grep -q "UNIAP_LAUNCHER must be srun or mpirun" <<<"$out"; then
        fail "$script did not reach the helper (status $rc): $out"
    fi
done
say "jobs: the installed scripts find uniap-launch.sh"

# --- the reference: what the installed binary says
expected=$("$prefix/bin/uniap" model llama-7b | sed -n 's/^total parameters: \([0-9][0-9]*\).*/\1/p')
[ -n "$expected" ] || fail "uniap model llama-7b printed no parameter count"
check_run() { # check_run WHAT EXE
    local out
    out=$("$2" llama-7b a100-80g-2x8) || fail "$1 consumer failed: $out"
    grep -qx "params $expected" <<<"$out" || fail "$1 consumer: expected 'params $expected', got: $out"
    grep -qx "analytic ok" <<<"$out" || fail "$1 consumer: analytic profile failed: $out"
    grep -q "^einval ." <<<"$out" || fail "$1 consumer: no uniap_strstatus text: $out"
    say "$1: consumer printed params $expected (as uniap model llama-7b)"
}

# --- find_package(uniap)
cmake -S "$here/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$cflags" \
    >"$work/consumer-configure.log" 2>&1 ||
    fail "configuring the consumer: $(tail -n 20 "$work/consumer-configure.log")"
cmake --build "$work/consumer" >"$work/consumer-build.log" 2>&1 ||
    fail "building the consumer: $(tail -n 20 "$work/consumer-build.log")"
check_run cmake "$work/consumer/uniap_consumer"

# --- pkg-config
if command -v pkg-config >/dev/null 2>&1; then
    flags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs uniap) ||
        fail "pkg-config --cflags --libs uniap failed"
    # shellcheck disable=SC2086 # flags are meant to split
    "$cc" $cflags "$here/consumer/consumer.c" $flags -o "$work/consumer-pc" 2>"$work/pc-build.log" ||
        fail "cc consumer.c \$(pkg-config --cflags --libs uniap): $(tail -n 20 "$work/pc-build.log")"
    check_run pkg-config "$work/consumer-pc"
else
    say "pkg-config: not installed, skipped"
fi

if [ "$docs" != 1 ]; then
    say "man pages and completion: not built (UNIAP_DOCS=OFF), not checked"
else
# --- man page
page=$prefix/share/man/man1/uniap-plan.1
head -n 1 "$page" | grep -q '^\.TH UNIAP-PLAN 1' || fail "$page does not start with .TH UNIAP-PLAN 1"
if command -v man >/dev/null 2>&1; then
    text=$(MANWIDTH=80 man -l "$page" 2>"$work/man.err") || fail "man -l $page: $(cat "$work/man.err")"
elif command -v groff >/dev/null 2>&1; then
    text=$(groff -man -Tutf8 "$page" 2>"$work/man.err") || fail "groff $page: $(cat "$work/man.err")"
else
    text=$(cat "$page")
fi
grep -q -- "global-batch" <<<"$text" || fail "the plan man page lacks --global-batch"
[ ! -s "$work/man.err" ] || fail "rendering $page warned: $(cat "$work/man.err")"
say "man: uniap-plan.1 renders"

# --- bash completion
got=$(bash -c '. "$1"; COMP_WORDS=(uniap plan --sch); COMP_CWORD=2; _uniap; echo "${COMPREPLY[*]}"' _ \
    "$prefix/share/bash-completion/completions/uniap") || fail "sourcing the bash completion failed"
[ "$got" = "--schedule" ] || fail "completion of 'uniap plan --sch': expected --schedule, got '$got'"
say "completion: uniap plan --sch -> $got"
fi

# --- version
rev=$(sed -n 's/^#define UNIAP_GIT_REVISION "\(.*\)"$/\1/p' "$prefix/include/uniap/uniap_version.h")
[ -n "$rev" ] || fail "no UNIAP_GIT_REVISION in the installed uniap_version.h"
"$prefix/bin/uniap" --version | grep -qF "($rev)" ||
    fail "uniap --version ($("$prefix/bin/uniap" --version)) does not name revision $rev"
say "version: $rev"
say "ok"
