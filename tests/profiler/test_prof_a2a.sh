#!/bin/bash
# test_prof_a2a.sh - all-to-all at every group size expert parallelism can
# use, end to end: `uniap profile --collectives all_to_all` under mpirun
# with 4 ranks, read back with h5dump (not uniap's reader). Expert-parallel
# groups are ep ranks inside a data-parallel group, strided by tp; their
# sizes divide the world and the profile keys them by (size, spans_nodes),
# so the sweep must hold all-to-all for every divisor size >= 2 at every
# placement the world has: one node of 4: n=2 and n=4 inside the node (the
# strided {0,2} of tp 2, ep 2 is inside it too); 2 emulated nodes of 2:
# n=2 inside, n=2 across ({0,2}: tp 2, ep 2) and n=4 across. Each row:
# bytes a multiple of 4 n (whole fp32 blocks per peer), min <= median <=
# max, count = --iters, algbw = bytes / median, busbw = algbw (n-1)/n
# (nccl-tests).
# usage: test_prof_a2a.sh UNIAP MODEL_JSON MPIEXEC H5DUMP WORKDIR
set -u
UNIAP=$1 MODEL=$2 MPIEXEC=$3 H5DUMP=$4 WORK=$5
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
run() { "$MPIEXEC" --oversubscribe --allow-run-as-root "$@"; }
# /collectives of $1 as one line per row: op n spans src dst bytes median min max count algbw busbw
coll_rows() {
    "$H5DUMP" -d /collectives -m %.17g "$1" 2>/dev/null | awk '
        /^ *\([0-9]+\): *\{/ { inrow = 1; row = ""; next }
        inrow && /^ *\}/ { print row; inrow = 0; next }
        inrow { gsub(/[ ,"]/, ""); row = row (row == "" ? "" : " ") $0 }'
}
# checks file $1's rows against the wanted "n spans" placements $2 (3 sizes, 3 passes)
check() {
    local f=$1 want=$2
    coll_rows "$f" > "$f.rows"
    local nw=$(echo "$want" | wc -w)
    [ "$(wc -l < "$f.rows")" -eq $((nw / 2 * 3)) ] ||
        bad "$f: $(wc -l < "$f.rows") rows, want $((nw / 2 * 3))"
    set -- $want
    while [ $# -ge 2 ]; do
        for b in 4096 8192 16384; do
            n=$(awk -v g="$1" -v s="$2" -v b="$b" '$1 == "all_to_all" && $2 == g && $3 == s &&
                $6 == b - b % (4 * g)' "$f.rows" | wc -l)
            [ "$n" -eq 1 ] || bad "$f: n=$1 spans=$2 bytes $b: $n rows, want 1"
        done
        shift 2
    done
    msg=$(awk '{
        if ($1 != "all_to_all") print "row " NR ": op " $1
        if ($6 % (4 * $2) != 0) print "row " NR ": bytes " $6 " not whole blocks of " $2
        if (!($8 > 0 && $8 <= $7 && $7 <= $9)) print "row " NR ": times " $8 " " $7 " " $9
        if ($10 != 3) print "row " NR ": count " $10
        a = $6 / $7; d = $11 - a; if (d < 0) d = -d
        if (d > 1e-9 * a) print "row " NR ": algbw " $11 ", bytes/median " a
        w = $11 * ($2 - 1) / $2; d = $12 - w; if (d < 0) d = -d
        if (d > 1e-9 * w) print "row " NR ": busbw " $12 ", want " w
    }' "$f.rows")
    [ -z "$msg" ] || bad "$f: $msg"
}
opts="--skip-layers --skip-gemm --collectives all_to_all --min-bytes 4K --max-bytes 16K --warmup 1 --iters 3"
run -np 4 "$UNIAP" profile --model "$MODEL" --out one.h5 $opts 2> one.log ||
    { bad "one node: exit $?"; cat one.log; }
check one.h5 "2 0 4 0"
run -np 4 "$UNIAP" profile --model "$MODEL" --out two.h5 --ranks-per-node 2 $opts 2> two.log ||
    { bad "two nodes: exit $?"; cat two.log; }
check two.h5 "2 0 2 1 4 1"
[ $fail -eq 0 ] && echo "PASS"
exit $fail
