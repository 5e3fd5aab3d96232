#!/bin/sh
# The README's second command (and CI's, via .ci/run): installs what uniap
# needs, builds it, and runs the whole test suite through ctest.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh"
"$here/scripts/build.sh"
jobs=$(nproc 2>/dev/null || echo 2)
cd "${UNIAP_BUILD_DIR:-$here/build}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --output-on-failure -j "$jobs" --timeout 600
