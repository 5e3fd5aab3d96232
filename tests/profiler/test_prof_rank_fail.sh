#!/bin/bash
# test_prof_rank_fail.sh - one rank failing does not hang the sweep or lose
# its cause: (1) rank 1 runs out of memory part-way through the collective
# sweep (its data segment limited with ulimit -d): every rank stops
# together, rank 0 prints rank 1's own message, and the profile holds what
# was measured before, marked incomplete; (2) ranks given different options
# are refused before any measurement, naming the rank that differs, and
# nothing is written.
# usage: test_prof_rank_fail.sh UNIAP MODEL_JSON MPIEXEC WORKDIR
set -u
UNIAP=$1 MODEL=$2 MPIEXEC=$3 WORK=$4
mkdir -p "$WORK" && cd "$WORK" || exit 1
rm -f ./*.h5 ./*.h5.* ./*.log
fail=0
# broadcasts of 64M, 128M, ... 1G: rank 1 (600 MB of data segment) holds
# the first buffers and fails on a larger pair; rank 0 has no limit
ARGS=(profile --model "$MODEL" --out oom.h5 --skip-layers --collectives broadcast
      --min-bytes 64M --max-bytes 1G --warmup 0 --iters 1)
timeout 120 "$MPIEXEC" --oversubscribe --allow-run-as-root -np 1 "$UNIAP" "${ARGS[@]}" : \
    -np 1 bash -c 'ulimit -d 600000 && exec "$@"' rank1 "$UNIAP" "${ARGS[@]}" 2> oom.log
rc=$?
[ $rc -ne 124 ] || { echo "FAIL: the sweep hung after rank 1 failed"; fail=1; }
[ $rc -ne 0 ] || { echo "FAIL: exit 0 although rank 1 ran out of memory"; fail=1; }
grep -q "uniap profile: error: rank 1: .*out of memory for two collective buffers" oom.log ||
    { echo "FAIL: rank 1's own message does not reach rank 0's output"; cat oom.log; fail=1; }
grep -q "oom.h5 holds what was measured" oom.log || { echo "FAIL: no word of the partial profile"; cat oom.log; fail=1; }
h5dump -a /complete oom.h5 2>/dev/null | grep -q "(0): 0" ||
    { echo "FAIL: no profile marked complete = 0 after the failure"; fail=1; }
n=$(h5dump -H -d /collectives oom.h5 2>/dev/null | sed -n 's/.*DATASPACE  *SIMPLE { ( \([0-9]*\) ).*/\1/p')
[ -n "$n" ] && [ "$n" -ge 1 ] || { echo "FAIL: the rows measured before the failure are lost ($n)"; fail=1; }

# different options on rank 1: refused up front, exit 2, nothing written
timeout 120 "$MPIEXEC" --oversubscribe --allow-run-as-root -np 1 "$UNIAP" profile --model "$MODEL" \
    --out differ.h5 --micro-batches 1 --max-bytes 8K : -np 1 "$UNIAP" profile --model "$MODEL" \
    --out differ.h5 --micro-batches 2 --max-bytes 8K 2> differ.log
rc=$?
[ $rc -eq 2 ] || { echo "FAIL: ranks with different options: exit $rc, want 2"; cat differ.log; fail=1; }
grep -q "rank 1" differ.log || { echo "FAIL: the message does not name rank 1"; cat differ.log; fail=1; }
[ ! -e differ.h5 ] || { echo "FAIL: a profile was written although the ranks disagree"; fail=1; }
[ $fail -eq 0 ] && echo "PASS"
exit $fail
