#!/bin/sh
# run_fuzz.sh - the fuzz part of the test suite. The default build uses
# gcc, libFuzzer needs clang, so:
#   run_fuzz.sh build SRC_DIR FUZZ_BUILD_DIR CLANG
#       configures SRC_DIR with CC=clang -DUNIAP_FUZZ=ON (CUDA off) into
#       FUZZ_BUILD_DIR and builds only the fuzz targets;
#   run_fuzz.sh run FUZZ_BUILD_DIR TARGET SECONDS SEED_DIR...
#       runs fuzz_TARGET for SECONDS on a scratch corpus seeded from the
#       SEED_DIRs (fuzz_profile_read also gets a profile written by
#       fuzz_profile_seed). Fixed libFuzzer seed (UNIAP_FUZZ_SEED overrides)
#       so a run is reproducible; crash inputs go to FUZZ_BUILD_DIR/artifacts.
set -eu
mode=$1
shift
case "$mode" in
build)
    src=$1 bdir=$2 clang=$3
    mkdir -p "$bdir"
    if ! CC="$clang" cmake -S "$src" -B "$bdir" -DUNIAP_FUZZ=ON -DUNIAP_WITH_CUDA=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON >"$bdir/configure.log" 2>&1; then
        tail -30 "$bdir/configure.log" >&2
        echo "run_fuzz.sh: configuring the clang fuzz build failed (log: $bdir/configure.log)" >&2
        exit 1
    fi
    cmake --build "$bdir" -j2 --target fuzz_model_spec fuzz_cluster_spec fuzz_profile_read \
        fuzz_profile_seed
    ;;
run)
    bdir=$1 target=$2 seconds=$3
    shift 3
    exe=$bdir/tests/fuzz/fuzz_$target
    [ -x "$exe" ] || { echo "run_fuzz.sh: $exe not built" >&2; exit 1; }
    corpus=$(mktemp -d)
    scratch=$(mktemp -d) # TMPDIR of the target (libFuzzer may exit without atexit)
    trap 'rm -rf "$corpus" "$scratch"' EXIT
    for d in "$@"; do
        find "$d" -type f -exec cp {} "$corpus"/ \;
    done
    dict=
    if [ "$target" = profile_read ]; then
        "$bdir/tests/fuzz/fuzz_profile_seed" "$corpus/seed.h5"
    else
        dict=-dict=$(dirname "$0")/json.dict
    fi
    mkdir -p "$bdir/artifacts"
    echo "fuzz_$target: $(ls "$corpus" | wc -l) seed inputs, ${seconds}s"
    # shellcheck disable=SC2086
    TMPDIR=$scratch \
    LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(dirname "$0")/lsan.supp:print_suppressions=0} \
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -seed="${UNIAP_FUZZ_SEED:-20261122}" -print_final_stats=1 \
        -artifact_prefix="$bdir/artifacts/$target-" $dict "$corpus"
    ;;
*)
    echo "usage: run_fuzz.sh build|run ..." >&2
    exit 2
    ;;
esac
