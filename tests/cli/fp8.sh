#!/bin/sh
# fp8.sh - `--precision fp8` from the command line (issues 15 item 4, 16):
#   - plan on H100s: a lower TPI than bf16. Why: the search space and every
#     other term are the same, and each transformer block's Linear GEMMs
#     (the bulk of its FLOPs) run at 1978.9e12 x 0.75 = 1484 TFLOP/s in
#     place of 989.4e12 x 0.79 = 782 (io/cluster_spec.c [FP8], [GEMM]),
#     0.53x the time, while the attention core, the norms, the embedding and
#     the head stay 16-bit and the FP8 casts add memory-bound bytes that
#     are far smaller; so the bf16 plan itself is faster under fp8, and the
#     fp8 optimum can only be faster still;
#   - a fixed plan (estimate): fewer activation bytes (Linear inputs kept in
#     FP8), more model-state bytes (the FP8 weight copies);
#   - on A100s: refused (exit 2) naming the cluster, the device and the
#     field;
#   - the plan JSON records it (search.precision "fp8"), plan --from
#     reruns it to the same TPI, and estimate --plan and compare price the
#     plan in the precision it records unless told otherwise;
#   - the Megatron-LM export writes --fp8-format hybrid with the amax
#     recipe and reads back (estimate --megatron-args --precision fp8) to
#     the plan's TPI; read back without --precision fp8 it is refused;
#   - the torchtitan export writes the float8 converter and reads back to
#     the plan's TPI;
#   - --runtime deepspeed and galvatron refuse fp8 by name.
# Usage: fp8.sh UNIAP WORKDIR
set -u
U=$1 W=$2
rm -rf "$W" && mkdir -p "$W" || exit 1
cd "$W" || exit 1
fail=0
check() { d=$1; shift; if "$@"; then echo "ok   $d"; else echo "FAIL $d"; fail=1; fi; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
M="--model llama-7b --cluster h100-80g-4x8 --global-batch 64"

"$U" plan $M --precision bf16 --out bf16.json >bf16.log 2>&1
check "plan --precision bf16 exits 0" test $? -eq 0
"$U" plan $M --precision fp8 --out fp8.json >fp8.log 2>&1
check "plan --precision fp8 exits 0" test $? -eq 0
t16=$(json bf16.json 'd["tpi"]') t8=$(json fp8.json 'd["tpi"]')
check "fp8 TPI $t8 < bf16 TPI $t16" python3 -c "import sys; sys.exit(not $t8 < $t16)"
check "the plan JSON records --precision fp8" test "$(json fp8.json 'd["search"]["precision"]')" = fp8
"$U" plan --from fp8.json --out from.json >from.log 2>&1
check "plan --from fp8.json exits 0" test $? -eq 0
check "... to the same TPI" test "$(json from.json 'd["tpi"]')" = "$t8"

# the plan's TPI is the evaluator's: estimate --plan prices it the same
"$U" estimate $M --precision fp8 --plan fp8.json --out est8.json >est8.log 2>&1
check "estimate --plan fp8.json --precision fp8: the plan's TPI" python3 -c "
import json; a, b = json.load(open('fp8.json')), json.load(open('est8.json'))
assert abs(a['tpi'] - b['tpi']) <= 1e-12 * a['tpi'], (a['tpi'], b['tpi'])"

# a plan is priced as it was searched: estimate --plan and compare take the
# (first) plan's recorded precision unless given
"$U" estimate $M --plan fp8.json --out est8r.json >est8r.log 2>&1
check "estimate --plan fp8.json (no --precision): the plan's TPI" python3 -c "
import json; a, b = json.load(open('fp8.json')), json.load(open('est8r.json'))
assert abs(a['tpi'] - b['tpi']) <= 1e-12 * a['tpi'], (a['tpi'], b['tpi'])"
"$U" compare fp8.json bf16.json >cmp8.txt 2>&1
check "compare fp8.json bf16.json: A priced in fp8 ($t8 s)" \
    grep -q "^A .* $(printf %.6f "$t8") " cmp8.txt
"$U" compare bf16.json fp8.json >cmp16.txt 2>&1
check "compare bf16.json fp8.json: A priced in bf16 ($t16 s)" \
    grep -q "^A .* $(printf %.6f "$t16") " cmp16.txt

E="--model llama-7b --cluster h100-80g-4x8 --global-batch 32 --pp 4 --dp 1 --tp 8 --micro-batches 8"
"$U" estimate $E >e16.txt 2>&1
"$U" estimate $E --precision fp8 >e8.txt 2>&1
check "estimate --precision fp8 exits 0" test $? -eq 0
a16=$(grep -o "activations [0-9]* B" e16.txt | head -1 | tr -dc 0-9)
a8=$(grep -o "activations [0-9]* B" e8.txt | head -1 | tr -dc 0-9)
check "fp8 keeps fewer activation bytes ($a8 < $a16)" test "${a8:-0}" -lt "${a16:-0}"
s16=$(grep -o "states [0-9]* B" e16.txt | head -1 | tr -dc 0-9)
s8=$(grep -o "states [0-9]* B" e8.txt | head -1 | tr -dc 0-9)
# hand-counted: stage 0 holds the embedding (bf16) and 8 of the 32 blocks;
# a block's Linear weights 4096 x 3 x 4096 + 4096 x 4096 + 3 x 4096 x 11008
# = 202,375,168, / tp 8, at 2 B (FP8 weight + its transpose): 50,593,792;
# x 8 = 404,750,336 B more states
check "fp8 adds 404750336 B of FP8 weight copies to stage 0 ($s8 - $s16)" \
    test $((${s8:-0} - ${s16:-0})) -eq 404750336

"$U" plan --model llama-7b --cluster a100-80g-2x8 --global-batch 64 --precision fp8 \
    --out a100.json >a100.log 2>&1
rc=$?
check "A100: --precision fp8 refused (exit 2)" test $rc -eq 2
check "... naming the cluster, the device and the field" \
    grep -q "cluster 'a100-80g-2x8' (A100-SXM4-80GB) has no peak_flops_fp8" a100.log
check "... nothing written" test ! -e a100.json

"$U" plan $M --precision fp8 --runtime megatron --megatron-args mg.txt --out mg.json \
    >mg.log 2>&1
check "plan --runtime megatron --precision fp8 exits 0" test $? -eq 0
check "... --fp8-format hybrid --fp8-amax-history-len 1024 --fp8-amax-compute-algo max" \
    grep -q -- "--fp8-format hybrid --fp8-amax-history-len 1024 --fp8-amax-compute-algo max" mg.txt
"$U" estimate --model llama-7b --cluster h100-80g-4x8 --megatron-args mg.txt --precision fp8 \
    --out mg-back.json >mg-back.log 2>&1
check "estimate --megatron-args --precision fp8 exits 0" test $? -eq 0
check "... to the plan's TPI" python3 -c "
import json; a, b = json.load(open('mg.json')), json.load(open('mg-back.json'))
assert abs(a['tpi'] - b['tpi']) <= 1e-12 * a['tpi'], (a['tpi'], b['tpi'])"
"$U" estimate --model llama-7b --cluster h100-80g-4x8 --megatron-args mg.txt >mg-bad.log 2>&1
rc=$?
check "... read back without --precision fp8: refused (exit 2)" test $rc -eq 2
check "... saying to estimate with --precision fp8" grep -q "estimate with --precision fp8" mg-bad.log

T="--attention flash --dropout off --precision fp8"
"$U" plan $M $T --runtime torchtitan --torchtitan-toml tt.toml --out tt.json >tt.log 2>&1
check "plan --runtime torchtitan --precision fp8 exits 0" test $? -eq 0
check "... converters = [\"quantize.linear.float8\"]" grep -q 'converters = \["quantize.linear.float8"\]' tt.toml
check "... [quantize.linear.float8] filter_fqns = [\"output\"]" grep -q 'filter_fqns = \["output"\]' tt.toml
"$U" estimate --model llama-7b --cluster h100-80g-4x8 $T --from-torchtitan tt.toml \
    --out tt-back.json >tt-back.log 2>&1
check "estimate --from-torchtitan --precision fp8 exits 0" test $? -eq 0
check "... to the plan's TPI" python3 -c "
import json; a, b = json.load(open('tt.json')), json.load(open('tt-back.json'))
assert abs(a['tpi'] - b['tpi']) <= 1e-12 * a['tpi'], (a['tpi'], b['tpi'])"

for rt in deepspeed galvatron; do
    "$U" plan $M --precision fp8 --runtime $rt --out $rt.json >$rt.log 2>&1
    rc=$?
    check "--runtime $rt --precision fp8 refused (exit 2)" test $rc -eq 2
    check "... by name" grep -q "runtime $rt: model 'llama-7b' trains in FP8" $rt.log
done
[ $fail -eq 0 ] || tail -n 3 ./*.log
exit $fail
