#!/bin/bash
# test_prof_resume.sh - SIGTERM to an mpirun'd `uniap profile` (as Slurm
# sends at a job's time limit): the ranks finish the item in progress and
# write what is done, marked incomplete; `--resume` then measures only what
# is missing, and the union is complete with every item exactly once.
# usage: test_prof_resume.sh UNIAP CHECK_PROFILE MODEL_JSON MPIEXEC WORKDIR
set -u
UNIAP=$1 CHECK=$2 MODEL=$3 MPIEXEC=$4 WORK=$5
mkdir -p "$WORK" && cd "$WORK" || exit 1
rm -f resume.h5 first.log second.log
fail=0
# --iters is given separately: the interrupted run times more iterations
OPTS=(--ranks-per-node 2 --micro-batches 1,2 --min-bytes 4K --max-bytes 8M --warmup 1
      --layer-iters 2)
# The interrupted run times each collective 200 times (same items, longer
# sweep), so the signal lands mid-sweep however idle the machine is.
"$MPIEXEC" --oversubscribe --allow-run-as-root -np 4 "$UNIAP" profile --model "$MODEL" \
    --out resume.h5 "${OPTS[@]}" --iters 200 2> first.log &
pid=$!
# wait until the collective sweep has started, then interrupt
for _ in $(seq 1 300); do
    grep -q "all_reduce" first.log 2>/dev/null && break
    sleep 0.1
done
kill -TERM $pid
wait $pid
rc=$?
[ $rc -ne 0 ] || { echo "FAIL: interrupted profile exit 0 (did it finish before the signal?)"; fail=1; }
grep -q "interrupted by a signal: left out" first.log || { echo "FAIL: no list of what was left out"; cat first.log; fail=1; }
# layers: 3 x tp {1,2,4} x mb {1,2} = 18; collectives: 18 per size x 12 sizes (4K..8M)
"$CHECK" resume.h5 4 2 18 216 0 || fail=1

"$MPIEXEC" --oversubscribe --allow-run-as-root -np 4 "$UNIAP" profile --model "$MODEL" \
    --resume resume.h5 "${OPTS[@]}" --iters 3 2> second.log
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: resumed profile exit $rc"; cat second.log; fail=1; }
grep -q "(resumed)" second.log || { echo "FAIL: resume not announced"; fail=1; }
# the resumed run measured only the rest: no layer item again
if grep -q "\] layer " second.log; then echo "FAIL: resume re-measured layers"; fail=1; fi
"$CHECK" resume.h5 4 2 18 216 1 || fail=1
[ $fail -eq 0 ] && echo "PASS"
exit $fail
