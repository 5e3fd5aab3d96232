#!/bin/sh
# chunks_cli.sh - micro-batch counts that do not divide the global batch
# (Galvatron's chunks, split as torch.chunk does: ceil(B / c) each, the
# last fewer), on Galvatron's own published Llama-7B plan (global_bsz 256,
# pp 2, tp 2 blocks, vocab tp 1: dp 8) with its chunks changed:
#   - 11 chunks of 256 are 10 of 24 and one of 16; uniap prices them as 11
#     micro-batches of 24, so the TPI must equal that of the same file at
#     global_bsz 264 = 11 x 24 (an even split), and the throughput be
#     256 / 264 of it;
#   - 39 chunks: torch.chunk makes 37 chunks of 7 of 256, refused naming 37;
#   - uniap plan --runtime galvatron --micro-batches 11 finds a plan of 11
#     micro-batches, exports "chunks": 11, and the export reads back at the
#     plan's TPI; Megatron-LM cannot run 11 micro-batches of 256: refused,
#     as search option and as export, with nothing written.
# Usage: chunks_cli.sh UNIAP GALVATRON_CONFIG WORKDIR
set -u
UNIAP=$1 F=$2 W=$3
rm -rf "$W" && mkdir -p "$W" || exit 1
fail=0
check() { d=$1; shift; if "$@"; then echo "ok   $d"; else echo "FAIL $d"; fail=1; fi; }
M="--model llama-7b --cluster a100-80g-2x8"
tpi() { sed -n 's/^TPI \([0-9.e+-]*\) s.*/\1/p' "$1"; }
thr() { sed -n 's/^TPI .* throughput \([0-9.e+-]*\) samples.*/\1/p' "$1"; }

sed 's/"chunks": *32/"chunks": 11/' "$F" >"$W/c11.json"
sed 's/"chunks": *32/"chunks": 11/; s/"global_bsz": *256/"global_bsz": 264/' "$F" >"$W/c11e.json"
sed 's/"chunks": *32/"chunks": 39/' "$F" >"$W/c39.json"
for f in c11 c11e; do
    "$UNIAP" estimate $M --from-galvatron "$W/$f.json" >"$W/$f.txt" 2>"$W/$f.err"
done
check "11 chunks of 256: 11 micro-batches of 24" \
    grep -q "11 micro-batches of 24 samples (global batch 256)" "$W/c11.txt"
t1=$(tpi "$W/c11.txt") t2=$(tpi "$W/c11e.txt")
check "... TPI $t1 s = that of 11 x 24 = 264 samples ($t2 s)" test -n "$t1" -a "$t1" = "$t2"
r=$(awk -v a="$(thr "$W/c11.txt")" -v b="$(thr "$W/c11e.txt")" \
    'BEGIN { d = a / b - 256 / 264; print (d < 1e-5 && d > -1e-5) ? "yes" : "no" }')
check "... throughput 256/264 of it" test "$r" = yes
"$UNIAP" estimate $M --from-galvatron "$W/c39.json" >/dev/null 2>"$W/c39.err"
rc=$?
check "39 chunks of 256 refused (exit 2)" test $rc -eq 2
check '... naming what torch.chunk makes ("chunks": 37)' grep -q '"chunks": 37' "$W/c39.err"

"$UNIAP" plan $M --global-batch 256 --runtime galvatron --micro-batches 11 --out "$W/p.json" \
    --galvatron-config "$W/g.json" --galvatron-args "$W/g.args" >"$W/plan.txt" 2>"$W/plan.err"
check "plan --runtime galvatron --micro-batches 11 exits 0" test $? -eq 0
check "... 11 micro-batches of 24" grep -q '"micro_batches":	11,' "$W/p.json"
check '... exported as "chunks": 11' grep -q '"chunks":	11,' "$W/g.json"
"$UNIAP" estimate $M --from-galvatron "$W/g.json" --from-galvatron-args "$W/g.args" \
    >"$W/back.txt" 2>"$W/back.err"
tp=$(sed -n 's/^\s*"tpi":\s*\([0-9.e+-]*\),/\1/p' "$W/p.json")
tb=$(tpi "$W/back.txt")
r=$(awk -v a="$tp" -v b="$tb" 'BEGIN { d = a - b; print (a > 0 && d < 1e-6 && d > -1e-6) ? "yes" : "no" }')
check "... the export reads back at the plan's TPI ($tp s, $tb s)" test "$r" = yes

"$UNIAP" plan $M --global-batch 256 --runtime megatron --micro-batches 11 >/dev/null 2>"$W/mg.err"
rc=$?
check "--runtime megatron --micro-batches 11 refused (exit 2)" test $rc -eq 2
check "... naming the runtime" grep -q "runtime megatron runs only micro-batch counts" "$W/mg.err"
"$UNIAP" plan $M --global-batch 256 --micro-batches 11 --out "$W/x.json" \
    --megatron-args "$W/x.txt" >/dev/null 2>"$W/mx.err"
rc=$?
check "an 11-micro-batch plan as Megatron-LM arguments refused (exit 2)" test $rc -eq 2
check "... nothing written" test ! -e "$W/x.json" -a ! -e "$W/x.txt"
"$UNIAP" plan $M --global-batch 256 --micro-batches 39 >/dev/null 2>"$W/p39.err"
rc=$?
check "plan --micro-batches 39 of 256 refused (exit 2)" test $rc -eq 2
check "... saying it makes 37" grep -q "make 37 micro-batches of 7" "$W/p39.err"
# estimate prices a plan on the analytic profile plan searched on: 10080
# has 72 divisors, more than the 64 sizes of that profile, so c = 1 (a
# micro-batch of 10080) is interpolated unless --micro-batches names it;
# either way estimate --plan gives the plan's TPI to the bit
T="--model gpt-tiny --cluster a100-40g-1x8"
for mb in "" "--micro-batches 1,2,3"; do
    "$UNIAP" plan $T --global-batch 10080 $mb --quiet --out "$W/t.json" >/dev/null 2>&1
    "$UNIAP" estimate $T --plan "$W/t.json" --out "$W/te.json" >/dev/null 2>"$W/te.err"
    a=$(sed -n 's/^\s*"tpi":\s*\([0-9.e+-]*\),/\1/p' "$W/t.json")
    b=$(sed -n 's/^\s*"tpi":\s*\([0-9.e+-]*\),/\1/p' "$W/te.json")
    check "B 10080 ${mb:-(every divisor)}: estimate --plan at the plan's TPI ($a s, $b s)" \
        test -n "$a" -a "$a" = "$b"
done
[ $fail -eq 0 ] || tail -n 5 "$W"/*.err
exit $fail
