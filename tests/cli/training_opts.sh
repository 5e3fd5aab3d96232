#!/bin/sh
# The training overrides of plan and estimate (cli/inputs.c): on a uniform
# Llama-7B plan, --attention flash --dropout off shrinks the kept
# activations and leaves the model states alone; --optimizer sgd shrinks
# the states; a bad --checkpointing list is refused with exit 2 naming the
# option; `uniap plan --checkpointing selective` searches selective plans.
# Usage: training_opts.sh UNIAP WORKDIR
set -eu
uniap=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
args="--model llama-7b --cluster a100-80g-2x8 --global-batch 64 --dp 2 --tp 8 --pp 1 --micro-batches 8"
field() { sed -n "s/.*$1 \([0-9]*\) B.*/\1/p" "$2" | head -1; }

$uniap estimate $args >"$work/eager.log" 2>&1 || { cat "$work/eager.log"; exit 1; }
$uniap estimate $args --attention flash --dropout off >"$work/flash.log" 2>&1 ||
    { cat "$work/flash.log"; exit 1; }
$uniap estimate $args --optimizer sgd >"$work/sgd.log" 2>&1 || { cat "$work/sgd.log"; exit 1; }
ae=$(field activations "$work/eager.log"); af=$(field activations "$work/flash.log")
se=$(field states "$work/eager.log"); sf=$(field states "$work/flash.log")
ss=$(field states "$work/sgd.log")
[ "$af" -lt "$ae" ] || { echo "FAIL: flash activations $af not below eager $ae"; exit 1; }
[ "$sf" -eq "$se" ] || { echo "FAIL: states changed with the attention kernel"; exit 1; }
[ "$ss" -lt "$se" ] || { echo "FAIL: sgd states $ss not below adam $se"; exit 1; }

rc=0
$uniap estimate $args --checkpointing none,partial >"$work/bad.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || { cat "$work/bad.log"; echo "FAIL: exit $rc, expected 2"; exit 1; }
grep -q -- "--checkpointing" "$work/bad.log" || { cat "$work/bad.log"; exit 1; }

$uniap plan --model gpt-tiny --cluster titanxp-2x4 --global-batch 8 --max-pp 1 --no-zero \
    --checkpointing selective --out "$work/plan.json" >"$work/plan.log" 2>&1 ||
    { cat "$work/plan.log"; exit 1; }
grep -q selckpt "$work/plan.json" || { cat "$work/plan.json"; echo "FAIL: no selckpt"; exit 1; }
echo "ok"
