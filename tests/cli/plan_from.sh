#!/bin/sh
# `uniap plan` as scripts use it (issues 14 and 16): --format json puts one
# plan JSON on stdout (the --out schema, with its MFU and the "search"
# record), --quiet leaves stderr empty, --global-batch-tokens T plans T /
# seq_len samples (and refuses a T that is no multiple), `--from plan.json`
# reruns the recorded search to the same plan on 1 and 2 ranks, an option
# given beside --from replaces the recorded one, a changed profile is
# refused; progress off a terminal is at most a line per tenth of the
# pairs; the DeepSpeed and torchtitan exports of a runtime-restricted plan
# read back (uniap estimate --from-*) to the plan's TPI.
# Usage: plan_from.sh UNIAP MPIEXEC WORKDIR
set -eu
uniap=$1
mpiexec=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
fail() { echo "FAIL: $*"; exit 1; }
m="--model llama-7b --cluster h100-80g-4x8"

# llama-7b trains at 2048 tokens: 131072 tokens are 64 samples
"$uniap" plan $m --global-batch-tokens 131072 --runtime megatron --format json --quiet \
    >p.json 2>p.err || { cat p.err; fail "plan --format json"; }
[ ! -s p.err ] || { cat p.err; fail "--quiet: stderr is not empty"; }
"$uniap" plan $m --global-batch 64 --runtime megatron --out ref.json >ref.log 2>&1 ||
    { cat ref.log; fail "plan --global-batch 64"; }
"$mpiexec" --oversubscribe -np 2 "$uniap" plan --from p.json --out p2.json >p2.log 2>&1 ||
    { cat p2.log; fail "plan --from on 2 ranks"; }
"$uniap" plan --from p.json --global-batch 32 --out p32.json >p32.log 2>&1 ||
    { cat p32.log; fail "plan --from with --global-batch"; }
python3 - <<'PY'
import json
a = json.load(open("p.json"))          # one document on stdout
ref, b, c = (json.load(open(f)) for f in ("ref.json", "p2.json", "p32.json"))
assert a["format"] == "uniap-plan" and a["global_batch"] == 64, a["global_batch"]
s = a["search"]
assert s["global-batch-tokens"] == "131072" and s["runtime"] == "megatron", s
assert s["model"] == "llama-7b" and s["node-limit"], s
for k in ("tpi", "deg", "micro_batches", "layers"):
    assert a[k] == ref[k] == b[k], (k, a[k], ref[k], b[k])
assert b["search"] == s, "the rerun records another search"
assert c["global_batch"] == 32 and c["search"]["global-batch"] == "32", c["search"]
# MFU: 6N + attention FLOPs per token over devices x peak x TPI (mfu.c),
# here from the plan's own figures: within (0, 1)
assert 0 < a["mfu"] < 1, a["mfu"]
PY
grep -q "pairs done" p2.log || fail "no progress lines"
lines=$(grep -c "pairs done" p2.log)
[ "$lines" -le 11 ] || fail "progress off a terminal printed $lines lines (expected at most 11)"

# refusals, nothing written
if "$uniap" plan $m --global-batch-tokens 100000 --out bad.json >bad.log 2>&1; then
    fail "--global-batch-tokens 100000 (no multiple of 2048) accepted"
fi
grep -q "not a multiple of the sequence length 2048" bad.log || { cat bad.log; fail "tokens message"; }
if "$uniap" plan $m --global-batch 64 --global-batch-tokens 131072 >bad.log 2>&1; then
    fail "--global-batch with --global-batch-tokens accepted"
fi
if "$uniap" plan --from ref.json --format json --megatron-args - >bad.log 2>&1; then
    fail "--format json with --megatron-args - accepted"
fi
"$uniap" estimate $m --plan ref.json --out est.json >est.log 2>&1 || { cat est.log; fail "estimate"; }
if "$uniap" plan --from est.json --out bad.json >bad.log 2>&1; then
    fail "--from a plan without a search record accepted"
fi
grep -q "records no search" bad.log || { cat bad.log; fail "no-search message"; }
[ ! -e bad.json ] || fail "a refused command left bad.json"

# runtime exports from the command line, read back to the plan's TPI
for rt in deepspeed torchtitan; do
    case $rt in
    deepspeed) ex="--deepspeed-config ds.json --deepspeed-args ds.args"
        back="--from-deepspeed ds.args --from-deepspeed-config ds.json" ;;
    torchtitan) ex="--torchtitan-toml tt.toml"; back="--from-torchtitan tt.toml" ;;
    esac
    "$uniap" plan $m --global-batch 64 --attention flash --dropout off --runtime $rt $ex \
        --out $rt.json >$rt.log 2>&1 || { cat $rt.log; fail "plan --runtime $rt with exports"; }
    "$uniap" estimate $m --attention flash --dropout off $back --out $rt-back.json \
        >$rt-back.log 2>&1 || { cat $rt-back.log; fail "estimate $back"; }
    python3 - $rt <<'PY'
import json, sys
rt = sys.argv[1]
a, b = json.load(open(rt + ".json")), json.load(open(rt + "-back.json"))
assert abs(a["tpi"] - b["tpi"]) <= 1e-12 * a["tpi"], (rt, a["tpi"], b["tpi"])
assert [l["strategy"] for l in a["layers"]] == [l["strategy"] for l in b["layers"]], rt
PY
done

echo "plan_from: ok"
