#!/bin/sh
# `mpirun -np R uniap plan` gives the same plan for R = 1, 2 and 4: the
# (deg, c) pairs are split differently over the ranks, MPI_MINLOC picks the
# winner, ties go to the smaller pair index. BERT-Huge on 2 x 8 A100-80GB
# (analytic), a case whose pairs all close within the time limit.
# The 2-rank run also writes --write-lp and --log-dir: the log has one
# summary line per pair, and glpsol, GLPK's stand-alone solver, solving
# the winner's exported MILP on its own reaches the plan's TPI.
# Usage: plan_ranks.sh UNIAP MPIEXEC WORKDIR
set -eu
uniap=$1
mpiexec=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for np in 1 2 4; do
    extra=""
    [ $np = 2 ] && extra="--write-lp $work/lp --log-dir $work/glpk"
    "$mpiexec" -np $np --oversubscribe "$uniap" plan --model bert-huge --cluster a100-80g-2x8 \
        --global-batch 32 --time-limit 0 --out "$work/plan-np$np.json" $extra >"$work/np$np.log" 2>&1 ||
        { cat "$work/np$np.log"; echo "FAIL: np $np exited non-zero"; exit 1; }
done
winner=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print("pair_deg%d_c%d_%s.lp" % (p["deg"], p["micro_batches"], p["schedule"]))' "$work/plan-np2.json")
[ -f "$work/lp/$winner" ] || { ls "$work/lp"; echo "FAIL: --write-lp wrote no $winner"; exit 1; }
glpsol --lp "$work/lp/$winner" -o "$work/glpsol.txt" >"$work/glpsol.log" 2>&1 ||
    { cat "$work/glpsol.log"; echo "FAIL: glpsol could not solve $winner"; exit 1; }
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
import glob, re
lines = [l for f in glob.glob(w + "/glpk/glpk-rank*.log") for l in open(f) if l.startswith("uniap: deg ")]
if len(glob.glob(w + "/glpk/glpk-rank*.log")) != 2:
    sys.exit("FAIL: expected a GLPK log per rank (2)")
if len(lines) != plans[2]["pairs"]["total"]:
    sys.exit("FAIL: %d pair summaries in the logs, %d pairs" % (len(lines), plans[2]["pairs"]["total"]))
glp = open(w + "/glpsol.txt").read()
if "INTEGER OPTIMAL" not in glp:
    sys.exit("FAIL: glpsol did not prove the winner's MILP optimal")
obj = float(re.search(r"Objective:\s+obj = ([-0-9.eE+]+)", glp).group(1))
if abs(obj - ref["tpi"]) > 1e-6 * ref["tpi"]:
    sys.exit("FAIL: glpsol's optimum %.12g != the plan's TPI %.12g" % (obj, ref["tpi"]))
print("glpsol on the exported winner MILP: %.9g; %d pair summaries in the logs" % (obj, len(lines)))
PY
