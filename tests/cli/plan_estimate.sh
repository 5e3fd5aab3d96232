#!/bin/sh
# `uniap plan` then `uniap estimate --plan`: the estimate must reprint the
# plan's TPI (same cost tables, same evaluator) and its stage layout, for a
# two-stage plan (BERT-Huge on 2 x 4 TITAN Xp, analytic device model).
# Usage: plan_estimate.sh UNIAP WORKDIR
set -eu
uniap=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
# --overlap 0 (DP communication fully exposed) keeps the pipelined plan this
# case was chosen for; with the modelled overlap pure DP wins here
args="--model bert-huge --cluster titanxp-2x4 --global-batch 32 --overlap 0"

$uniap plan $args --out "$work/plan.json" >"$work/plan.log" 2>&1 ||
    { cat "$work/plan.log"; echo "FAIL: uniap plan exited non-zero"; exit 1; }
$uniap estimate $args --plan "$work/plan.json" >"$work/estimate.log" 2>&1 ||
    { cat "$work/estimate.log"; echo "FAIL: uniap estimate exited non-zero"; exit 1; }

python3 - "$work/plan.json" "$work/estimate.log" <<'PY'
import json, re, sys
plan = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
m = re.search(r"^TPI ([0-9.eE+-]+) s", log, re.M)
if not m:
    sys.exit("FAIL: no TPI line in the estimate output:\n" + log)
tpi_plan, tpi_est = float(plan["tpi"]), float(m.group(1))
# estimate prints TPI with 6 decimals: rounding moves it by at most 5e-7 s
if abs(tpi_plan - tpi_est) > 5.01e-7:
    sys.exit("FAIL: plan TPI %.9g, estimate TPI %.9g" % (tpi_plan, tpi_est))
stages = re.findall(r"^stage (\d+): layers (\d+)-(\d+)", log, re.M)
if len(stages) != plan["deg"]:
    sys.exit("FAIL: plan has %d stages, estimate printed %d" % (plan["deg"], len(stages)))
if plan["deg"] < 2:
    sys.exit("FAIL: expected a pipelined plan (deg >= 2) for this case, got deg %d" % plan["deg"])
print("plan TPI %.9g = estimate TPI %.9g over %d stages" % (tpi_plan, tpi_est, len(stages)))
PY
