#!/bin/bash
# test_prof_e2e.sh - `uniap profile` end to end under mpirun: a 4-rank run
# emulating 2 nodes writes a profile that check_profile accepts with the
# hand-counted items; bad input fails on every rank with exit 2 and no
# output; --help lists the defaults; --time-limit trims the sweep, says
# what it left out and marks the file incomplete.
# usage: test_prof_e2e.sh UNIAP CHECK_PROFILE MODEL_JSON MPIEXEC WORKDIR
set -u
UNIAP=$1 CHECK=$2 MODEL=$3 MPIEXEC=$4 WORK=$5
mkdir -p "$WORK" && cd "$WORK" || exit 1
rm -f e2e.h5 bad.h5 trim.h5 ./*.log
fail=0
run() { "$MPIEXEC" --oversubscribe --allow-run-as-root "$@"; }

# tiny-gpt: 3 distinct layers x tp {1,2,4} (the divisors of the 4 devices,
# tp 4 spanning both nodes) x micro-batches {1,2} = 18 layer items. 4 ranks
# as 2 nodes of 2: groups n=2 inside node 0, n=2 spanning
# (ranks 0,2), n=4 spanning: 3 groups x 5 collectives, plus p2p 0->1, 2->3
# (inside) and 0->2 (between) = 18 items per size, 3 sizes (4K, 8K, 16K).
run -np 4 "$UNIAP" profile --model "$MODEL" --out e2e.h5 --ranks-per-node 2 \
    --micro-batches 1,2 --min-bytes 4K --max-bytes 16K --warmup 1 --iters 3 \
    --layer-warmup 1 --layer-iters 2 2> e2e.log
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: profile exit $rc"; cat e2e.log; fail=1; }
grep -q "%\]" e2e.log || { echo "FAIL: no progress lines on stderr"; fail=1; }
"$CHECK" e2e.h5 4 2 18 54 1 || fail=1

# bad input: every rank rejects it, exit 2, message names the file, no output
run -np 2 "$UNIAP" profile --model no-such-model.json --out bad.h5 2> bad.log
rc=$?
[ $rc -eq 2 ] || { echo "FAIL: missing model: exit $rc, want 2"; fail=1; }
grep -q "no-such-model.json" bad.log || { echo "FAIL: message does not name the file"; cat bad.log; fail=1; }
[ ! -e bad.h5 ] || { echo "FAIL: output written on bad input"; fail=1; }
run -np 2 "$UNIAP" profile --model "$MODEL" --out bad.h5 --min-bytes 1M --max-bytes 4K 2> bad2.log
rc=$?
[ $rc -eq 2 ] || { echo "FAIL: min > max bytes: exit $rc, want 2"; fail=1; }
[ "$(grep -c 'min-bytes' bad2.log)" -ge 1 ] || { echo "FAIL: no message about --min-bytes"; fail=1; }

# help
"$UNIAP" profile --help > help.txt 2>&1 || { echo "FAIL: --help exit status"; fail=1; }
for word in "--ranks-per-node" "4K)" "256M)" "--resume" "--time-limit"; do
    grep -q -- "$word" help.txt || { echo "FAIL: help lacks $word"; fail=1; }
done

# a time limit far below what the sweep needs: trimmed, listed, incomplete
run -np 2 "$UNIAP" profile --model "$MODEL" --out trim.h5 --micro-batches 1,2,4 \
    --max-bytes 64M --time-limit 0.05 2> trim.log
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: trimmed profile exit $rc"; cat trim.log; fail=1; }
grep -q "time limit: left out" trim.log || { echo "FAIL: no list of what was left out"; cat trim.log; fail=1; }
# 3 layers x tp {1,2} x mb {1,2,4} = 18; 2 ranks on one node: n=2 group x 5
# collectives + p2p 0->1 = 6 per size, 15 sizes (4K..64M)
"$CHECK" trim.h5 2 2 18 90 0 2> trim_check.log || { cat trim_check.log; fail=1; }

[ $fail -eq 0 ] && echo "PASS"
exit $fail
