#!/bin/sh
# `mpirun -np R uniap plan` gives the same plan for R = 1, 2 and 4: the
# (deg, c) pairs are split differently over the ranks, MPI_MINLOC picks the
# winner, ties go to the smaller pair index. BERT-Huge on 2 x 8 A100-80GB
# (analytic), a case whose pairs all close within the time limit.
# Usage: plan_ranks.sh UNIAP MPIEXEC WORKDIR
set -eu
uniap=$1
mpiexec=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for np in 1 2 4; do
    "$mpiexec" -np $np --oversubscribe "$uniap" plan --model bert-huge --cluster a100-80g-2x8 \
        --global-batch 32 --time-limit 0 --out "$work/plan-np$np.json" >"$work/np$np.log" 2>&1 ||
        { cat "$work/np$np.log"; echo "FAIL: np $np exited non-zero"; exit 1; }
done
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
plans = {np: json.load(open("%s/plan-np%d.json" % (w, np))) for np in (1, 2, 4)}
keys = ("deg", "micro_batches", "micro_batch", "schedule", "tpi", "throughput", "status", "gap")
ref = plans[1]
if ref["status"] != "optimal":
    sys.exit("FAIL: expected a proven optimum with no time limit, got %s" % ref["status"])
for np in (2, 4):
    p = plans[np]
    for k in keys:
        if p[k] != ref[k]:
            sys.exit("FAIL: np %d %s = %r, np 1 %s = %r" % (np, k, p[k], k, ref[k]))
    if p["layers"] != ref["layers"]:
        sys.exit("FAIL: np %d assigns layers differently from np 1" % np)
print("np 1, 2, 4: deg %d, c %d, TPI %.9g, %d layers identical"
      % (ref["deg"], ref["micro_batches"], ref["tpi"], len(ref["layers"])))
PY
