#!/bin/bash
# test_prof_multinode.sh - the README's main workflow on a profile taken on
# two nodes (4 ranks emulating 2 nodes of 2): the profiler measures every
# tensor-parallel degree the planner can ask for, tp 4 (both nodes)
# included, with the default --tp, and `uniap plan` with its default
# options plans from that profile without missing any measurement.
# usage: test_prof_multinode.sh UNIAP MODEL MPIEXEC WORKDIR
set -u
UNIAP=$1 MODEL=$2 MPIEXEC=$3 WORK=$4
mkdir -p "$WORK" && cd "$WORK" || exit 1
rm -f p4.h5 ./*.log ./*.json
fail=0

"$MPIEXEC" --oversubscribe --allow-run-as-root -np 4 "$UNIAP" profile --model "$MODEL" \
    --out p4.h5 --ranks-per-node 2 --micro-batches 1,2 --max-bytes 64K --warmup 1 --iters 3 \
    --layer-iters 2 2> profile.log
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: profile exit $rc"; cat profile.log; exit 1; }

# /layers as h5dump shows it: each row's tp is the field after the layer
# type; every rank measured every layer type at tp 4
h5dump -d /layers -y -w 0 p4.h5 > layers.txt 2>&1 || { echo "FAIL: h5dump /layers"; cat layers.txt; fail=1; }
tp4=$(awk '/"[a-z_]+\.h[0-9]/ { getline v; gsub(/[ ,]/, "", v); if (v == 4) n++ } END { print n + 0 }' layers.txt)
types=$(grep -o '"[a-z_]*\.h[0-9][^"]*"' layers.txt | sort -u | wc -l)
# tp 4 rows: every distinct layer type x 2 micro-batches x 4 ranks
[ "$tp4" -eq $((types * 2 * 4)) ] && [ "$types" -gt 0 ] ||
    { echo "FAIL: /layers has $tp4 rows at tp 4, want $((types * 2 * 4)) ($types layer types)"; fail=1; }

# the plan with the default options: exit 0, a plan, nothing missing
"$UNIAP" plan --model "$MODEL" --profile p4.h5 --global-batch 16 --out plan.json > plan.txt 2> plan.log
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: plan from the 2-node profile exit $rc"; cat plan.log; fail=1; }
[ -s plan.json ] || { echo "FAIL: no plan written"; fail=1; }
grep -q '"stages"' plan.json || { echo "FAIL: plan.json has no stages"; head -c 600 plan.json; fail=1; }
if grep -qi "lacks" plan.log; then echo "FAIL: the plan lacks measurements:"; cat plan.log; fail=1; fi
[ $fail -eq 0 ] && echo "PASS"
exit $fail
