#!/bin/sh
# Mixture of experts end to end (issue 15 item 3), on the analytic device
# model: Mixtral-8x7B (zoo) on h100-80g-4x8, global batch 64.
#  - uniap model: 46.7B parameters, 12.9B active per token.
#  - plan: the optimum uses expert parallelism (ep > 1 on moe layers only)
#    and beats the best plan without it (--no-ep): ep shrinks the expert
#    states and their gradient sync (moe_comm.c).
#  - estimate --ep: a uniform plan with ep on the moe layers, its EP comm
#    in the breakdown; an ep that does not divide dp is refused naming
#    --ep; --moe-imbalance makes it dearer.
#  - estimate --megatron-args with --expert-model-parallel-size reads ep.
#  - the DeepSpeed runtime plans Mixtral with one ep on its moe layers
#    (DeepSpeed-MoE's ep_size) and exports it as --moe-expert-parallel-size,
#    the ep of the plan's moe layers; it refuses DeepSeek-V2-Lite (a dense
#    block first: DeepSpeed-MoE as exported puts experts in every block).
# Usage: moe_plan.sh UNIAP WORKDIR
set -eu
uniap=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
tpi() { sed -n 's/^[[:space:]]*"tpi":[[:space:]]*\([0-9.e+-]*\).*/\1/p' "$1" | head -1; }
m="--model mixtral-8x7b --cluster h100-80g-4x8 --global-batch 64"

$uniap model mixtral-8x7b >"$work/model.txt"
grep -q "total parameters: 46702792704" "$work/model.txt" || { cat "$work/model.txt"; exit 1; }
grep -q "active parameters per token: 12879925248" "$work/model.txt" ||
    { cat "$work/model.txt"; exit 1; }

$uniap plan $m --quiet --out "$work/ep.json" >"$work/ep.log" 2>&1 || { cat "$work/ep.log"; exit 1; }
grep -q '"dp[0-9]*\.ep[0-9]' "$work/ep.json" || { echo "FAIL: no ep in the plan"; exit 1; }
# ep on moe layers only: the embedding (layer 0) and the head have none
awk -F'"' '/"kind":/ { k = $4 } /"strategy":/ { print k, $4 }' "$work/ep.json" >"$work/kinds.txt"
[ -s "$work/kinds.txt" ] || { echo "FAIL: no layers in ep.json"; exit 1; }
if grep -v '^moe' "$work/kinds.txt" | grep -q '\.ep[0-9]'; then
    echo "FAIL: ep on a layer without experts"; cat "$work/kinds.txt"; exit 1
fi
$uniap plan $m --no-ep --quiet --out "$work/noep.json" >"$work/noep.log" 2>&1 ||
    { cat "$work/noep.log"; exit 1; }
if grep -q '\.ep[0-9]' "$work/noep.json"; then echo "FAIL: ep despite --no-ep"; exit 1; fi
a=$(tpi "$work/ep.json"); b=$(tpi "$work/noep.json")
awk -v a="$a" -v b="$b" 'BEGIN { exit !(a < b) }' ||
    { echo "FAIL: TPI with ep $a not below without $b"; exit 1; }
echo "Mixtral-8x7B on 32 H100: TPI $a s with ep, $b s without"

u="--dp 8 --tp 4 --pp 1 --micro-batches 8 --flavour zero1 --sp"
$uniap estimate $m $u --ep 2 >"$work/est.log" 2>&1 || { cat "$work/est.log"; exit 1; }
grep -q "dp8.tp4c.zero1.sp x1 dp8.ep2.tp4c.zero1.sp x32 dp8.tp4c.zero1.sp x1" "$work/est.log" ||
    { cat "$work/est.log"; exit 1; }
grep -q "+ EP comm [0-9.]* + DP comm" "$work/est.log" || { cat "$work/est.log"; exit 1; }
$uniap estimate $m $u --ep 2 --moe-imbalance 1.5 >"$work/skew.log" 2>&1 ||
    { cat "$work/skew.log"; exit 1; }
a=$(sed -n 's/^TPI \([0-9.]*\) s.*/\1/p' "$work/est.log")
b=$(sed -n 's/^TPI \([0-9.]*\) s.*/\1/p' "$work/skew.log")
awk -v a="$a" -v b="$b" 'BEGIN { exit !(a < b) }' ||
    { echo "FAIL: --moe-imbalance 1.5 TPI $b not above $a"; exit 1; }
rc=0
$uniap estimate $m $u --ep 3 >"$work/bad.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--ep 3" "$work/bad.log" || { cat "$work/bad.log"; exit 1; }
rc=0
$uniap estimate $m $u --ep 2 --moe-imbalance 0.5 >"$work/bad2.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--moe-imbalance" "$work/bad2.log" || { cat "$work/bad2.log"; exit 1; }

# a Megatron-LM command line with expert parallelism
echo "--tensor-model-parallel-size 4 --pipeline-model-parallel-size 1 --micro-batch-size 1 \
--global-batch-size 64 --sequence-parallel --use-distributed-optimizer \
--expert-model-parallel-size 2 --num-experts 8 --moe-router-topk 2" >"$work/mg.txt"
$uniap estimate --model mixtral-8x7b --cluster h100-80g-4x8 --megatron-args "$work/mg.txt" \
    >"$work/mg.log" 2>&1 || { cat "$work/mg.log"; exit 1; }
grep -q "dp8.ep2.tp4c.zero1.sp x32" "$work/mg.log" || { cat "$work/mg.log"; exit 1; }

$uniap plan $m --runtime deepspeed --quiet --out "$work/ds.json" --deepspeed-config "$work/ds.cfg" \
    --deepspeed-args "$work/ds.args" >"$work/ds.log" 2>&1 || { cat "$work/ds.log"; exit 1; }
awk -F'"' '/"kind":/ { k = $4 } /"strategy":/ { print k, $4 }' "$work/ds.json" >"$work/dskinds.txt"
ep=$(sed -n 's/^moe .*\.ep\([0-9]*\)\..*/\1/p' "$work/dskinds.txt" | sort -u)
[ -n "$ep" ] && [ "$(echo "$ep" | wc -l)" -eq 1 ] || { echo "FAIL: moe eps '$ep'"; exit 1; }
if grep -v '^moe' "$work/dskinds.txt" | grep -q '\.ep[0-9]'; then
    echo "FAIL: deepspeed ep on a layer without experts"; cat "$work/dskinds.txt"; exit 1
fi
grep -q -- "--num-experts 8 --topk 2 --expert-interval 1 --moe-expert-parallel-size $ep " \
    "$work/ds.args" || { cat "$work/ds.args"; exit 1; }
grep -q "ep_size=$ep," "$work/ds.args" || { cat "$work/ds.args"; exit 1; }
rc=0
$uniap plan --model deepseek-v2-lite --cluster h100-80g-4x8 --global-batch 64 --runtime deepspeed \
    --quiet --out "$work/ds2.json" >"$work/ds2.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "every block moe" "$work/ds2.log" || { cat "$work/ds2.log"; exit 1; }
echo "ok"
