#!/bin/bash
# test_prof_crash.sh - kill -9 of one rank in the middle of an mpirun'd
# `uniap profile` (what a node failure does): the profile written so far is
# on disk under its final name, valid and marked incomplete (complete = 0,
# refused by `uniap archive verify`); `--resume` measures only what it
# lacks (its progress counts the items left) and completes it, keeping the
# rows measured before the crash; `uniap archive verify` then passes.
# usage: test_prof_crash.sh UNIAP CHECK_PROFILE MODEL_JSON MPIEXEC WORKDIR
set -u
UNIAP=$1 CHECK=$2 MODEL=$3 MPIEXEC=$4 WORK=$5
mkdir -p "$WORK" && cd "$WORK" || exit 1
rm -f crash.h5 crash.h5.* crashed.h5 ./*.log
fail=0
# --iters is given separately: the interrupted run times more iterations
OPTS=(--ranks-per-node 2 --micro-batches 1,2 --min-bytes 4K --max-bytes 8M --warmup 1
      --layer-iters 2)

# rows TABLE FILE: the number of rows of /TABLE (h5dump's dataspace).
rows() {
    h5dump -H -d "/$1" "$2" 2>/dev/null | sed -n 's/.*DATASPACE  *SIMPLE { ( \([0-9]*\) ).*/\1/p'
}

# The crashed run times each collective 200 times, so the kill lands
# mid-sweep however idle the machine is.
"$MPIEXEC" --oversubscribe --allow-run-as-root -np 4 "$UNIAP" profile --model "$MODEL" \
    --out crash.h5 "${OPTS[@]}" --iters 200 2> first.log &
pid=$!
# wait until a snapshot holds collective rows (the layers come first)
for _ in $(seq 1 600); do
    n=$(rows collectives crash.h5)
    [ -n "$n" ] && [ "$n" -gt 0 ] && break
    sleep 0.1
done
[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "FAIL: no snapshot with collective rows"; cat first.log; fail=1; }
# kill -9 the rank 3 process (the second emulated node)
victim=""
for c in $(pgrep -P $pid); do
    if tr '\0' '\n' < /proc/"$c"/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=3; then
        victim=$c
    fi
done
[ -n "$victim" ] || { echo "FAIL: no rank 3 process under mpirun $pid"; fail=1; }
kill -9 "$victim"
for _ in $(seq 1 600); do
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
done
if kill -0 $pid 2>/dev/null; then
    echo "FAIL: mpirun still running 60 s after one rank was killed"
    kill -9 $pid
    fail=1
fi
wait $pid
rc=$?
[ $rc -ne 0 ] || { echo "FAIL: profile with a killed rank exit 0 (did it finish first?)"; fail=1; }

# what the crash left: a valid dataset, marked incomplete, with rows
[ -f crash.h5 ] || { echo "FAIL: no profile left after the crash"; ls -la; exit 1; }
cp crash.h5 crashed.h5
h5dump -a /complete crashed.h5 | grep -q "(0): 0" ||
    { echo "FAIL: the crashed profile is not marked complete = 0"; h5dump -a /complete crashed.h5; fail=1; }
if "$UNIAP" archive verify crashed.h5 > verify0.log 2>&1; then
    echo "FAIL: archive verify accepts the incomplete profile"; fail=1
fi
grep -q incomplete verify0.log || { echo "FAIL: verify does not say incomplete"; cat verify0.log; fail=1; }
"$CHECK" crashed.h5 4 2 18 216 0 || fail=1
layers=$(rows layers crashed.h5) colls=$(rows collectives crashed.h5)
total=$(sed -n 's/.*: \([0-9]*\) items to measure$/\1/p' first.log)
echo "crash: $layers layer rows ($((layers / 4)) items), $colls collective rows of $total items"

"$MPIEXEC" --oversubscribe --allow-run-as-root -np 4 "$UNIAP" profile --model "$MODEL" \
    --resume crash.h5 "${OPTS[@]}" --iters 3 2> second.log
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: resumed profile exit $rc"; cat second.log; fail=1; }
# the resumed run measures exactly the items the crashed file lacks
left=$(sed -n 's/.*: \([0-9]*\) items to measure (resumed)$/\1/p' second.log)
gemm=$(rows gemm crashed.h5) # the GEMM sweep's rows (4 ranks each), measured before the collectives
want=$((total - layers / 4 - ${gemm:-0} / 4 - colls))
[ "$left" = "$want" ] ||
    { echo "FAIL: resume measures '$left' items, want $want ($total - $((layers / 4)) - $colls)"; cat second.log; fail=1; }
if grep -q "\] layer " second.log; then echo "FAIL: resume re-measured layers"; fail=1; fi
"$CHECK" crash.h5 4 2 18 216 1 || fail=1
"$CHECK" --contains crashed.h5 crash.h5 || fail=1
"$UNIAP" archive verify crash.h5 > verify1.log 2>&1 ||
    { echo "FAIL: archive verify refuses the resumed profile"; cat verify1.log; fail=1; }
[ $fail -eq 0 ] && echo "PASS"
exit $fail
