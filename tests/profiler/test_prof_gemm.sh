#!/bin/bash
# test_prof_gemm.sh - the GEMM sweep of `uniap profile` (profiler/prof_gemm.c)
# end to end under mpirun with 2 ranks, CPU backend, read back with h5dump
# (not uniap's reader): /gemm holds one row per rank and shape asked for,
# dtype fp32, times > 0 with min <= median <= max over --layer-iters passes,
# and flops = 2 m n k / time_median; the default sweep (7 shapes) stays
# quick; --skip-gemm writes no /gemm; bad --gemm-shapes exit 2 naming the
# option with no output; --help lists both options; SIGTERM mid-sweep and
# --resume keep the GEMM rows measured before, without measuring them again.
# usage: test_prof_gemm.sh UNIAP MODEL_JSON MPIEXEC H5DUMP WORKDIR
set -u
UNIAP=$1 MODEL=$2 MPIEXEC=$3 H5DUMP=$4 WORK=$5
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
run() { "$MPIEXEC" --oversubscribe --allow-run-as-root "$@"; }
# /gemm of $1 as one line per row: rank dtype m n k median min max count flops
gemm_rows() {
    "$H5DUMP" -d /gemm -m %.17g "$1" 2>/dev/null | awk '
        /^ *\([0-9]+\): *\{/ { inrow = 1; row = ""; next }
        inrow && /^ *\}/ { print row; inrow = 0; next }
        inrow { gsub(/[ ,"]/, ""); row = row (row == "" ? "" : " ") $0 }'
}
# checks every row of file $1 (rows in $2) for $3 passes; prints nothing when good
check_rows() {
    awk -v passes="$3" '{
        if ($1 != 0 && $1 != 1) print "row " NR ": rank " $1
        if ($2 != "fp32") print "row " NR ": dtype " $2
        if (!($7 > 0 && $7 <= $6 && $6 <= $8)) print "row " NR ": times " $7 " " $6 " " $8
        if ($9 != passes) print "row " NR ": count " $9 ", want " passes
        want = 2 * $3 * $4 * $5 / $6
        d = $10 - want; if (d < 0) d = -d
        if (d > 1e-12 * want) print "row " NR ": flops " $10 ", 2mnk/median " want
    }' "$2"
}

# 1. shapes given: 64^3, 96x80x48, 128x64x256 on both ranks, 3 timed passes
run -np 2 "$UNIAP" profile --model "$MODEL" --out given.h5 --micro-batches 1 --tp 1 \
    --skip-collectives --layer-iters 3 --gemm-shapes 64,96x80x48,128x64x256 2> given.log ||
    { bad "profile with --gemm-shapes exit $?"; cat given.log; }
gemm_rows given.h5 > given.rows
[ "$(wc -l < given.rows)" -eq 6 ] || { bad "given.h5: $(wc -l < given.rows) /gemm rows, want 6"; cat given.rows; }
for shape in "64 64 64" "96 80 48" "128 64 256"; do
    for rank in 0 1; do
        n=$(awk -v r="$rank" -v s="$shape" '$1 == r && ($3 " " $4 " " $5) == s' given.rows | wc -l)
        [ "$n" -eq 1 ] || bad "rank $rank shape $shape: $n rows, want 1"
    done
done
msg=$(check_rows given.h5 given.rows 3); [ -z "$msg" ] || bad "given.h5: $msg"
grep -q "6 GEMM rows" given.log || bad "no GEMM row count in the summary"
grep -q "\] gemm 96x80x48 fp32" given.log || bad "no progress line for a GEMM item"
"$UNIAP" archive verify given.h5 > verify.log 2>&1 || { bad "archive verify"; cat verify.log; }

# 2. the default sweep: 7 shapes x 2 ranks, quick
t0=$(date +%s.%N)
run -np 2 "$UNIAP" profile --model "$MODEL" --out default.h5 --skip-layers --skip-collectives \
    2> default.log || { bad "default sweep exit $?"; cat default.log; }
t1=$(date +%s.%N)
gemm_rows default.h5 > default.rows
[ "$(wc -l < default.rows)" -eq 14 ] || bad "default sweep: $(wc -l < default.rows) rows, want 14"
msg=$(check_rows default.h5 default.rows 5); [ -z "$msg" ] || bad "default.h5: $msg"
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "default CPU GEMM sweep, 2 ranks: ${secs} s (whole command)"
awk -v s="$secs" 'BEGIN { exit !(s < 20) }' || bad "the default sweep took $secs s"

# 3. --skip-gemm: no /gemm table at all
run -np 2 "$UNIAP" profile --model "$MODEL" --out skip.h5 --micro-batches 1 --tp 1 \
    --skip-collectives --layer-iters 1 --skip-gemm 2> skip.log || bad "--skip-gemm exit $?"
"$H5DUMP" -H skip.h5 | grep -q 'DATASET "gemm"' && bad "--skip-gemm wrote /gemm"
"$H5DUMP" -H skip.h5 | grep -q 'DATASET "layers"' || bad "skip.h5 has no /layers"

# 4. bad options: exit 2, the option named, no output
for opt in "--gemm-shapes 512x0x3" "--gemm-shapes 64x64" "--gemm-shapes 64,64" \
           "--gemm-shapes 99999999" "--gemm-shapes 64 --skip-gemm"; do
    # shellcheck disable=SC2086
    run -np 2 "$UNIAP" profile --model "$MODEL" --out bad.h5 $opt 2> bad.log
    rc=$?
    [ $rc -eq 2 ] || bad "$opt: exit $rc, want 2"
    grep -q -- "--gemm-shapes" bad.log || { bad "$opt: message names no --gemm-shapes"; cat bad.log; }
    [ ! -e bad.h5 ] || { bad "$opt: output written"; rm -f bad.h5; }
done
"$UNIAP" profile --help > help.txt 2>&1 || bad "--help exit status"
for word in "--gemm-shapes" "--skip-gemm" "MxNxK"; do
    grep -q -- "$word" help.txt || bad "help lacks $word"
done

# 5. SIGTERM during the collectives (the GEMM items come before them), then
# --resume: the GEMM rows are kept as measured, not measured again
# (mpirun itself in the background, not the run function's subshell: the
# signal must reach mpirun, which forwards it to the ranks)
"$MPIEXEC" --oversubscribe --allow-run-as-root -np 2 "$UNIAP" profile --model "$MODEL" \
    --out resume.h5 --micro-batches 1 --tp 1 --layer-iters 2 --gemm-shapes 64,128 \
    --max-bytes 8M --iters 200 2> first.log &
pid=$!
for _ in $(seq 1 300); do
    grep -q "all_reduce" first.log 2>/dev/null && break
    sleep 0.1
done
kill -TERM $pid
wait $pid
rc=$?
[ $rc -ne 0 ] || bad "interrupted profile exit 0 (did it finish before the signal?)"
gemm_rows resume.h5 > before.rows
[ "$(wc -l < before.rows)" -eq 4 ] || bad "interrupted profile: $(wc -l < before.rows) GEMM rows, want 4"
run -np 2 "$UNIAP" profile --model "$MODEL" --resume resume.h5 --micro-batches 1 --tp 1 \
    --layer-iters 2 --gemm-shapes 64,128 --max-bytes 8M --iters 2 2> second.log ||
    { bad "resumed profile exit $?"; cat second.log; }
grep -q "\] gemm " second.log && bad "resume measured GEMM items again"
gemm_rows resume.h5 > after.rows
cmp -s before.rows after.rows || { bad "the GEMM rows changed on --resume"; diff before.rows after.rows; }

[ $fail -eq 0 ] && echo "PASS"
exit $fail
