#!/bin/sh
# The README's second command (and CI's, via .ci/run): installs what uniap
# needs, builds it, and runs the whole test suite through ctest, twice:
#   1. the release build (RelWithDebInfo, warnings as errors, CUDA compiled
#      when nvcc is present), every test;
#   2. a Debug build under AddressSanitizer and UndefinedBehaviorSanitizer
#      (build-asan/, CUDA off: no GPU runs it here), every test but the fuzz
#      targets, which run under their own clang sanitizer build in step 1.
# UNIAP_TEST_SANITIZE=0 skips step 2 (a quicker local run).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh"
jobs=$(nproc 2>/dev/null || echo 2)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

build=${UNIAP_BUILD_DIR:-$here/build}
UNIAP_BUILD_DIR=$build "$here/scripts/build.sh" -DUNIAP_WERROR=ON
(cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 600)

if [ "${UNIAP_TEST_SANITIZE:-1}" != 0 ]; then
    asan=${UNIAP_ASAN_BUILD_DIR:-$here/build-asan}
    echo "test.sh: sanitizer build (Debug, address + undefined) in $asan"
    UNIAP_BUILD_DIR=$asan UNIAP_BUILD_TYPE=Debug "$here/scripts/build.sh" \
        -DUNIAP_SANITIZE=ON -DUNIAP_WITH_CUDA=OFF
    (cd "$asan" && ctest --output-on-failure -j "$jobs" --timeout 900 -E '^fuzz_')
fi
