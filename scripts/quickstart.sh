#!/bin/sh
# The README's first command: installs what uniap needs, builds it, and runs
# the main job on the embedded default:
#   1. profiles this machine for a small model (2 MPI ranks, CPU backend),
#   2. plans that model on this machine from the measured profile,
#   3. plans Llama-7B on the bundled 1 x 8 A100-40GB preset (analytic
#      device model from datasheet figures) and prints the plan.
# Outputs land in out/ (override with UNIAP_OUT_DIR).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh"
"$here/scripts/build.sh"
exec "$here/scripts/run-default.sh"
