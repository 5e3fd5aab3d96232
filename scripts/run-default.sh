#!/bin/sh
# The main job on the embedded default (run by scripts/quickstart.sh after
# the build): profile this machine, plan on it, then plan Llama-7B on the
# bundled 1 x 8 A100-40GB preset. Needs a build in $UNIAP_BUILD_DIR (build/).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${UNIAP_BUILD_DIR:-$here/build}
out=${UNIAP_OUT_DIR:-$here/out}
uniap="$build/cli/uniap"
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpirun="mpirun --oversubscribe -np 2"

echo "== 1/3 profiling this machine for gpt-tiny (2 ranks, CPU backend, messages up to 32 MiB) =="
$mpirun "$uniap" profile --model gpt-tiny --out "$out/profile.h5" \
    --max-bytes 32M --time-limit 50 --force  # a rerun replaces the last run's profile

echo "== 2/3 planning gpt-tiny on this machine from the measured profile =="
$mpirun "$uniap" plan --model gpt-tiny --profile "$out/profile.h5" --global-batch 8 \
    --out "$out/plan-gpt-tiny.json"

echo "== 3/3 planning llama-7b on 1 x 8 A100-40GB (analytic device model) =="
$mpirun "$uniap" plan --model llama-7b --cluster a100-40g-1x8 --global-batch 32 \
    --out "$out/plan-llama-7b.json"
