#!/bin/sh
# search_opts.sh - the search and cost options plan and estimate share
# (cli/inputs.c): --memory-headroom leaves its fraction of the budget free
# (worked: (80 - 1.5) GiB x 0.5 = 42,144,366,592 B), --precision fp32
# trains without mixed precision (activations grow), --min-pp and
# --flavours restrict the search (every stage count >= 2, no ZeRO-2/FSDP in
# the plan), and bad values are refused naming the option (exit 2).
# Usage: search_opts.sh UNIAP WORKDIR
set -u
UNIAP=$1 W=$2
rm -rf "$W" && mkdir -p "$W" || exit 1
fail=0
check() { d=$1; shift; if "$@"; then echo "ok   $d"; else echo "FAIL $d"; fail=1; fi; }
E="--model llama-7b --cluster h100-80g-4x8 --global-batch 32 --pp 4 --dp 1 --tp 8 --micro-batches 8"
"$UNIAP" estimate $E --memory-headroom 0.5 >"$W/head.txt" 2>/dev/null
check "--memory-headroom 0.5: budget 42144366592 B" grep -q "budget 42144366592 B" "$W/head.txt"
"$UNIAP" estimate $E >"$W/bf16.txt" 2>/dev/null
"$UNIAP" estimate $E --precision fp32 >"$W/fp32.txt" 2>/dev/null
a16=$(grep -o "activations [0-9]* B" "$W/bf16.txt" | head -1 | tr -dc 0-9)
a32=$(grep -o "activations [0-9]* B" "$W/fp32.txt" | head -1 | tr -dc 0-9)
check "--precision fp32: more activation bytes than bf16 ($a32 > $a16)" test "$a32" -gt "$a16"
"$UNIAP" plan --model llama-7b --cluster h100-80g-4x8 --global-batch 32 --min-pp 2 \
    --flavours ddp,zero1 --out "$W/plan.json" >"$W/plan.txt" 2>"$W/plan.err"
check "plan --min-pp 2 --flavours ddp,zero1 exits 0" test $? -eq 0
deg=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['deg'])" "$W/plan.json")
check "... the plan has $deg >= 2 stages" test "${deg:-0}" -ge 2
check "... no ZeRO-2 or FSDP layer" sh -c "! grep -q 'zero2\|zero3' '$W/plan.json'"
"$UNIAP" estimate $E --flavours ddp,zero9 >/dev/null 2>"$W/fl.err"
rc=$?
check "--flavours zero9 refused (exit 2)" test $rc -eq 2
check "... naming the word" grep -q "'zero9' is no DP flavour" "$W/fl.err"
"$UNIAP" estimate $E --precision fp4 >/dev/null 2>"$W/p4.err"
rc=$?
check "--precision fp4 refused (exit 2) naming the choices" sh -c "test $rc -eq 2 && grep -q 'expected one of fp32, fp16, bf16, fp8' '$W/p4.err'"
"$UNIAP" estimate $E --memory-headroom 0.95 >/dev/null 2>"$W/hr.err"
rc=$?
check "--memory-headroom 0.95 refused (exit 2)" test $rc -eq 2
[ $fail -eq 0 ] || tail -n 5 "$W"/*.err
exit $fail
