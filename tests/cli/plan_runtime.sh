#!/bin/sh
# `uniap plan --runtime megatron --compare-any` end to end (issue 14 item
# 1): Llama-70B on 4 x 8 H100 (analytic), global batch 512, where
# Megatron-LM's restrictions cost TPI and the plan is pipelined. On 1 and
# 2 ranks the plan files are the same but for the search's time; the plan
# records its runtime and the unrestricted TPI; every layer has one tp, TP
# ranks adjacent, DDP or ZeRO-1 alike; uniap's Megatron-LM export calls it
# expressible; the unrestricted TPI is `uniap plan --runtime any`'s, and
# the ratio printed is the two TPIs'; `uniap estimate` reads the plan
# back to the same TPI. Refusals: an unknown --runtime (naming the option
# and the accepted values), a schedule or a model Megatron-LM cannot run,
# --compare-any without a runtime, a plan file naming no runtime; none
# leaves an output behind.
# Usage: plan_runtime.sh UNIAP MPIEXEC WORKDIR
set -eu
uniap=$1
mpiexec=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
fail() { echo "FAIL: $*"; exit 1; }
args="--model llama-70b --cluster h100-80g-4x8 --global-batch 512"

for np in 1 2; do
    "$mpiexec" --oversubscribe -np $np "$uniap" plan $args --runtime megatron --compare-any \
        --out "$work/plan-np$np.json" --megatron-args "$work/args-np$np.txt" \
        >"$work/np$np.log" 2>"$work/np$np.err" ||
        { cat "$work/np$np.log" "$work/np$np.err"; fail "np $np exited non-zero"; }
done
"$uniap" plan $args --out "$work/any.json" >"$work/any.log" 2>&1 ||
    { cat "$work/any.log"; fail "uniap plan --runtime any"; }
"$uniap" estimate $args --plan "$work/plan-np1.json" >"$work/estimate.log" 2>&1 ||
    { cat "$work/estimate.log"; fail "uniap estimate of the runtime's plan"; }
grep -q '^# the plan is expressible in Megatron-LM' "$work/args-np1.txt" ||
    { cat "$work/args-np1.txt"; fail "the export does not call the plan expressible"; }
cmp "$work/args-np1.txt" "$work/args-np2.txt" || fail "the Megatron-LM arguments differ on 2 ranks"

python3 - "$work" <<'PY'
import json, re, sys
w = sys.argv[1]
p1, p2, anyp = (json.load(open("%s/%s.json" % (w, n))) for n in ("plan-np1", "plan-np2", "any"))
for k in set(p1) | set(p2):
    if k != "search_seconds" and p1.get(k) != p2.get(k):
        sys.exit("FAIL: np 2 %s = %r, np 1 %r" % (k, p2.get(k), p1.get(k)))
if p1["runtime"] != "megatron" or anyp["runtime"] != "any":
    sys.exit("FAIL: runtime fields %r, %r" % (p1["runtime"], anyp["runtime"]))
if p1["status"] != "optimal" or anyp["status"] != "optimal":
    sys.exit("FAIL: expected proven optima, got %s and %s" % (p1["status"], anyp["status"]))
if p1["unrestricted_tpi"] != anyp["tpi"]:
    sys.exit("FAIL: unrestricted_tpi %r, --runtime any's TPI %r" % (p1["unrestricted_tpi"], anyp["tpi"]))
if not p1["tpi"] > anyp["tpi"]:
    sys.exit("FAIL: Megatron-LM's TPI %r is not above the unrestricted %r in this case" % (p1["tpi"], anyp["tpi"]))
if p1["deg"] < 2:
    sys.exit("FAIL: expected a pipelined plan in this case, got deg %d" % p1["deg"])
strat = [l["strategy"] for l in p1["layers"]]
tp = {re.match(r"dp\d+\.tp(\d+)", s).group(1) for s in strat}
flav = {("zero1" if ".zero1" in s else "ddp" if ".zero" not in s else "other") for s in strat}
if len(tp) != 1 or len(flav) != 1 or "other" in flav or any(re.search(r"\.tp\d+s", s) for s in strat):
    sys.exit("FAIL: not one tp / one DDP-or-ZeRO-1 flavour / adjacent TP ranks: %r" % sorted(set(strat)))
log = open("%s/np1.log" % w).read()
m = re.search(r"^megatron / any = ([0-9.]+)", log, re.M)
if not m or abs(float(m.group(1)) - p1["tpi"] / anyp["tpi"]) > 5e-5:
    sys.exit("FAIL: the ratio printed %s, the TPIs' %.6f" % (m and m.group(1), p1["tpi"] / anyp["tpi"]))
e = re.search(r"^TPI ([0-9.eE+-]+) s", open("%s/estimate.log" % w).read(), re.M)
if not e or abs(float(e.group(1)) - p1["tpi"]) > 5.01e-7 * max(1, p1["tpi"]):
    sys.exit("FAIL: estimate TPI %s, plan %r" % (e and e.group(1), p1["tpi"]))
print("megatron %.6g s, any %.6g s, ratio %s, deg %d, on 1 and 2 ranks" %
      (p1["tpi"], anyp["tpi"], m.group(1), p1["deg"]))
PY

# refusals: exit 2, the message naming what is wrong, no output written
refuse() { # refuse NAME EXPECTED-TEXT ARGS...
    name=$1
    want=$2
    shift 2
    if "$uniap" "$@" >"$work/$name.log" 2>&1; then
        cat "$work/$name.log"
        fail "$name: accepted"
    else
        rc=$?
    fi
    [ $rc -eq 2 ] || { cat "$work/$name.log"; fail "$name: exit $rc, expected 2"; }
    grep -qF -- "$want" "$work/$name.log" || { cat "$work/$name.log"; fail "$name: no '$want'"; }
    [ ! -e "$work/$name.json" ] || fail "$name: left $work/$name.json"
}
refuse bad_runtime "--runtime megatorn: expected one of any, megatron, deepspeed, torchtitan, galvatron" \
    plan $args --runtime megatorn --out "$work/bad_runtime.json"
refuse bad_schedule "--runtime megatron --schedule gpipe: megatron does not run that schedule" \
    plan $args --runtime megatron --schedule gpipe --out "$work/bad_schedule.json"
refuse bad_model "--runtime megatron: runtime megatron: model swin-huge: Megatron-LM cannot build it" \
    plan --model swin-huge --cluster a100-80g-2x8 --global-batch 32 --runtime megatron \
    --out "$work/bad_model.json"
refuse bad_compare "--compare-any: compares the plan of a --runtime" \
    plan $args --compare-any --out "$work/bad_compare.json"
sed 's/"runtime":[[:space:]]*"megatron"/"runtime": "nosuch"/' "$work/plan-np1.json" >"$work/nosuch-plan.json"
refuse bad_plan "runtime: expected one of \"any\", \"megatron\"" \
    estimate $args --plan "$work/nosuch-plan.json"
echo "refusals: unknown runtime, schedule, model, --compare-any alone, plan file"
