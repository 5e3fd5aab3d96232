#!/bin/sh
# `uniap plan` and `uniap estimate` under mpirun (issue 10, item 5): the
# failing rank's own message reaches the output (one rank cannot load
# --model nosuch.json: it exists only in rank 0's working folder); ranks
# given different arguments are refused naming the rank that differs,
# before any search; SIGTERM stops a running search: the best plan so far
# is printed marked interrupted, no --out file is written, exit 4 within seconds.
# Usage: plan_mpi.sh UNIAP MPIEXEC SPEC WORKDIR  (SPEC: a model spec file)
set -u
uniap=$1
mpiexec=$2
spec=$3
work=$4
rm -rf "$work"
mkdir -p "$work/a" "$work/b"
cd "$work" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fails=0
fail() {
    echo "FAIL: $*"
    sed 's/^/    /' out.log | tail -20
    fails=$((fails + 1))
}
cp "$spec" a/nosuch.json
args="--cluster titanxp-2x4 --global-batch 8"

for cmd in plan "estimate --dp 8 --tp 1 --pp 1 --micro-batches 1"; do
    # rank 1 cannot load the model: its own message, no hang
    # shellcheck disable=SC2086
    timeout 60 "$mpiexec" --oversubscribe -np 1 --wdir "$work/a" "$uniap" $cmd --model nosuch.json $args \
        : -np 1 --wdir "$work/b" "$uniap" $cmd --model nosuch.json $args >out.log 2>&1
    rc=$?
    [ $rc != 0 ] && [ $rc != 124 ] || fail "$cmd: one rank without its model: exit $rc"
    grep -q "rank 1: nosuch.json" out.log || fail "$cmd: rank 1's own message is not in the output"
    grep -q "another rank failed" out.log && fail "$cmd: 'another rank failed' instead of the cause"

    # different --global-batch per rank: refused naming the rank
    # shellcheck disable=SC2086
    timeout 60 "$mpiexec" --oversubscribe -np 1 "$uniap" $cmd --model gpt-tiny --cluster titanxp-2x4 \
        --global-batch 8 : -np 1 "$uniap" $cmd --model gpt-tiny --cluster titanxp-2x4 \
        --global-batch 16 >out.log 2>&1
    rc=$?
    [ $rc = 2 ] || fail "$cmd: ranks with different --global-batch: exit $rc, expected 2"
    grep -q "rank 1" out.log || fail "$cmd: the differing rank is not named"
    grep -q "MPI_ERR_TRUNCATE" out.log && fail "$cmd: MPI_ERR_TRUNCATE"
    grep -q "pairs done" out.log && fail "$cmd: the search started although the ranks differ"

    # an option error on one rank only: its message
    # shellcheck disable=SC2086
    timeout 60 "$mpiexec" --oversubscribe -np 1 "$uniap" $cmd --model gpt-tiny $args \
        : -np 1 "$uniap" $cmd --model gpt-tiny $args --overlap nan >out.log 2>&1
    grep -q "rank 1: --overlap nan" out.log || fail "$cmd: rank 1's option error not shown"
done

# SIGTERM to every rank during a search of several seconds, as Slurm's
# scancel --signal=TERM delivers it (jobs/plan.sbatch). (Open MPI 4.1's
# mpirun passes its own SIGTERM on only after odls_base_sigkill_timeout.)
# (--overlap 0: the fully exposed DP costs keep this search long enough)
"$mpiexec" --oversubscribe -np 2 "$uniap" plan --model llama-70b --cluster h100-80g-16x8 \
    --global-batch 512 --node-limit 0 --time-limit 0 --overlap 0 --out int.json >out.log 2>&1 &
pid=$!
sleep 4
kill -0 $pid 2>/dev/null || fail "the search ended within 4 s: pick a longer one"
ranks=$(ps -o pid= --ppid $pid)
[ -n "$ranks" ] || fail "no rank processes under mpirun $pid"
start=$(date +%s)
# shellcheck disable=SC2086
kill -TERM $ranks
wait $pid
rc=$?
took=$(($(date +%s) - start))
[ $rc = 4 ] || fail "SIGTERM: exit $rc, expected 4 (interrupted)"
grep -q "interrupted" out.log || fail "SIGTERM: the output does not say interrupted"
[ -e int.json ] && fail "SIGTERM: --out was written"
ls | grep -q '\.tmp\.' && fail "SIGTERM: temporary files left behind"
[ $took -le 10 ] || fail "SIGTERM: took $took s to stop"
echo "SIGTERM: stopped after $took s, exit $rc"

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all plan/estimate MPI checks passed"
