#!/bin/sh
# Configures and builds uniap into $UNIAP_BUILD_DIR (default: build/).
# Extra arguments go to cmake's configure step (e.g. -DUNIAP_SANITIZE=ON).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${UNIAP_BUILD_DIR:-$here/build}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE="${UNIAP_BUILD_TYPE:-RelWithDebInfo}" "$@" >"$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "$jobs"
