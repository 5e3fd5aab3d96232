#!/bin/sh
# `uniap estimate --megatron-args FILE` end to end: the plan Megatron-LM
# runs with a command line (Llama-7B, tp 2, pp 4, 7 + 9 + 9 + 7 blocks,
# full recompute, distributed optimizer) is the one `--dp/--tp/--pp` with
# the same split describes, to the printed digit; bad input is refused
# with exit 2, naming the flag.
# Usage: megatron_cli.sh UNIAP WORKDIR
set -eu
uniap=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
m="--model llama-7b --cluster a100-80g-2x8"
cat >args.txt <<'ARGS'
# a comment line, as uniap plan --megatron-args writes them after the arguments
--tensor-model-parallel-size 2 --pipeline-model-parallel-size 4 --micro-batch-size 4 --global-batch-size 64 --sequence-parallel --recompute-granularity full --recompute-method uniform --recompute-num-layers 1 --use-distributed-optimizer --decoder-first-pipeline-num-layers 7 --decoder-last-pipeline-num-layers 7 --num-layers 32 --hidden-size 4096 --swiglu
ARGS
"$uniap" estimate $m --megatron-args args.txt >mg.log 2>&1 || { cat mg.log; fail "estimate --megatron-args"; }
grep -q '^stage 0: layers 0-7, strategies dp2.tp2c.zero1.sp x1 dp2.tp2c.zero1.sp.ckpt x7' mg.log ||
    { cat mg.log; fail "stage 0 is not the embedding and 7 recomputed blocks"; }
grep -q '^stage 3: layers 26-33, strategies dp2.tp2c.zero1.sp.ckpt x7 dp2.tp2c.zero1.sp x1' mg.log ||
    { cat mg.log; fail "stage 3 is not 7 recomputed blocks and the head"; }
grep -q '^plan: 4 stage(s) of 4 devices, 8 micro-batches of 8 samples (global batch 64)' mg.log ||
    { cat mg.log; fail "not 8 micro-batches of 8 samples"; }

set +e
"$uniap" estimate $m --megatron-args args.txt --global-batch 64 >e1.log 2>&1
r1=$?
printf -- '--tensor-model-parallel-size 2 --micro-batch-size 1 --global-batch-size 64 --hidden-size 5120\n' >bad.txt
"$uniap" estimate $m --megatron-args bad.txt >e2.log 2>&1
r2=$?
set -e
[ $r1 -eq 2 ] && grep -q 'megatron-args gives it' e1.log || { cat e1.log; fail "--global-batch beside --megatron-args: exit $r1"; }
[ $r2 -eq 2 ] && grep -q "bad.txt: --hidden-size 5120, but model 'llama-7b' has 4096" e2.log ||
    { cat e2.log; fail "a model mismatch: exit $r2"; }
echo "estimate --megatron-args: split, recompute and refusals as expected"
