#!/bin/sh
# compare.sh - `uniap compare` end to end (cli/cmd_compare.c): a Megatron-
# style uniform plan written by `uniap estimate --out` against the plan
# `uniap plan` finds, both evaluated again: each TPI equals what estimate
# and plan report for it, the verdict's ratio is their throughputs' ratio
# (worked here with awk), the layers that differ are listed, a plan against
# itself differs nowhere, and a plan of another model is refused (exit 2).
# Usage: compare.sh UNIAP WORKDIR
set -u
UNIAP=$1 W=$2
rm -rf "$W" && mkdir -p "$W" || exit 1
fail=0
check() { d=$1; shift; if "$@"; then echo "ok   $d"; else echo "FAIL $d"; fail=1; fi; }
C="--model llama-7b --cluster h100-80g-4x8 --global-batch 32"
"$UNIAP" estimate $C --pp 4 --dp 1 --tp 8 --micro-batches 8 --out "$W/A.json" >"$W/A.txt" 2>/dev/null
check "estimate --out writes plan JSON" test -s "$W/A.json"
"$UNIAP" plan $C --out "$W/B.json" >"$W/B.txt" 2>/dev/null
check "plan --out" test -s "$W/B.json"
"$UNIAP" compare "$W/A.json" "$W/B.json" >"$W/cmp.txt" 2>"$W/cmp.err"
check "compare exits 0" test $? -eq 0
tpi_a=$(sed -n 's/^TPI \([0-9.]*\) s.*/\1/p' "$W/A.txt")
thr_a=$(sed -n 's/^TPI [0-9.]* s, throughput \([0-9.]*\) samples.*/\1/p' "$W/A.txt")
"$UNIAP" estimate $C --plan "$W/B.json" >"$W/Best.txt" 2>/dev/null
tpi_b=$(sed -n 's/^TPI \([0-9.]*\) s.*/\1/p' "$W/Best.txt")
thr_b=$(sed -n 's/^TPI [0-9.]* s, throughput \([0-9.]*\) samples.*/\1/p' "$W/Best.txt")
check "A's TPI as estimate reports it ($tpi_a)" grep -q "^A .* $tpi_a " "$W/cmp.txt"
check "B's TPI as estimate --plan reports it ($tpi_b)" grep -q "^B .* $tpi_b " "$W/cmp.txt"
want=$(awk -v a="$thr_a" -v b="$thr_b" 'BEGIN { r = b / a; if (r < 1) r = 1 / r; printf "%.3fx", r }')
check "the verdict is the throughput ratio ($want)" grep -q "^B is $want" "$W/cmp.txt"
check "the differing layers are listed" grep -q "^  layers 1-8: A stage 0 dp1.tp8c" "$W/cmp.txt"
"$UNIAP" compare "$W/B.json" "$W/B.json" >"$W/self.txt" 2>/dev/null
check "a plan against itself: no layer differs" grep -q "none: the same stages and strategies" "$W/self.txt"
check "... and 1.000x" grep -q "^B is 1.000x" "$W/self.txt"
"$UNIAP" plan --model gpt-tiny --cluster a100-40g-1x8 --global-batch 8 --out "$W/T.json" >/dev/null 2>&1
"$UNIAP" compare "$W/A.json" "$W/T.json" >"$W/bad.txt" 2>"$W/bad.err"
rc=$?
check "a plan of another model refused (exit 2)" test $rc -eq 2
check "... naming the file and both layer counts" grep -q "T.json: 6 layers, model 'llama-7b' has 34" "$W/bad.err"
"$UNIAP" compare "$W/A.json" >/dev/null 2>"$W/one.err"
check "one plan refused" grep -q "give two plans or more" "$W/one.err"
[ $fail -eq 0 ] || { cat "$W/cmp.txt"; tail -n 5 "$W"/*.err; }
exit $fail
