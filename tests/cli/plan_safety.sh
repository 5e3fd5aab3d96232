#!/bin/sh
# Hostile inputs for `uniap plan` and `uniap estimate` (issue 10, items 1,
# 2, 4, 7): outputs that are inputs (same file, hard link, symlink),
# device nodes, symlinked outputs, missing or folder outputs refused before
# the search, `--out -`, overflowing and NaN numbers, repeated options,
# option names in errors, all-or-none outputs when the Galvatron export
# fails, the incomplete-profile warning, the cluster taken from the profile
# by estimate, the search restrictions, exit codes (1 no viable pair, 3
# nothing fits), and a 2-node profile planned with the default options.
# Usage: plan_safety.sh UNIAP MPIEXEC EDIT_PROFILE WORKDIR
set -u
uniap=$1
mpiexec=$2
edit_profile=$3
work=$4
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
. "$(dirname "$0")/devnodes.sh" # FULL, NULLDEV
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fails=0
fail() {
    echo "FAIL: $*"
    [ -f out.log ] && sed 's/^/    /' out.log | tail -20
    fails=$((fails + 1))
}
# run EXPECTED_STATUS CMD...: runs CMD (5 s at most) into out.log
run() {
    want=$1
    shift
    timeout 5 "$@" >out.log 2>&1
    got=$?
    [ "$got" = "$want" ] || fail "exit $got, expected $want: $*"
}
# expect TEXT: the last run's output contains TEXT
expect() {
    grep -qF -- "$1" out.log || fail "output lacks '$1'"
}
tiny="--model gpt-tiny --cluster titanxp-2x4 --global-batch 8"

# A 2-node profile (4 ranks, 2 per node), as in the README's workflow.
timeout 120 "$mpiexec" -np 4 --oversubscribe "$uniap" profile --model gpt-tiny --out p.h5 \
    --max-bytes 64K --ranks-per-node 2 >profile.log 2>&1 ||
    { cat profile.log; echo "FAIL: uniap profile"; exit 1; }
cp p.h5 p.copy

# item 1: planned with the default options (strategies the profile lacks dropped)
run 0 "$uniap" plan --model gpt-tiny --profile p.h5 --global-batch 16 --out plan2n.json
[ -s plan2n.json ] || fail "2-node profile: no plan written"
# the summary line's counts: every pair reached is solved or pruned; the
# infeasible and the time-limited are among the solved
line=$(grep -o '[0-9]* pairs: [0-9]* solved ([0-9]* infeasible, [0-9]* at the search limit), [0-9]* pruned' out.log)
[ -n "$line" ] || fail "no 'N pairs: S solved (I infeasible, T at the search limit), P pruned' line"
# counts_add_up N S I T P
counts_add_up() { [ $# = 5 ] && [ $(($2 + $5)) = "$1" ] && [ $(($3 + $4)) -le "$2" ]; }
counts_add_up $(echo "$line" | tr -c '0-9\n' ' ') || fail "pair counts do not add up: $line"

# item 2: an output that is an input: refused, the profile intact
run 2 "$uniap" plan --model gpt-tiny --profile p.h5 --global-batch 16 --out p.h5
expect "same file"
cmp -s p.h5 p.copy || fail "--out p.h5 changed the profile"
ln p.h5 hard.h5
run 2 "$uniap" plan --model gpt-tiny --profile p.h5 --global-batch 16 --out hard.h5
cmp -s p.h5 p.copy || fail "--out hard link changed the profile"
ln -s p.h5 soft.h5
run 2 "$uniap" plan --model gpt-tiny --profile p.h5 --global-batch 16 --megatron-args soft.h5
cmp -s p.h5 p.copy || fail "--megatron-args symlink changed the profile"
run 2 "$uniap" estimate --model gpt-tiny --profile p.h5 --plan plan2n.json --dump-costs p.h5
cmp -s p.h5 p.copy || fail "estimate --dump-costs p.h5 changed the profile"
cp plan2n.json plan.keep
run 2 "$uniap" estimate --model gpt-tiny --profile p.h5 --plan plan2n.json --dump-costs plan2n.json
cmp -s plan2n.json plan.keep || fail "estimate --dump-costs onto its --plan changed it"
"$uniap" model --json gpt-tiny >m.json 2>/dev/null && {
    cp m.json m.keep
    run 2 "$uniap" plan --model m.json --cluster titanxp-2x4 --global-batch 8 --out m.json
    cmp -s m.json m.keep || fail "--out onto the --model file changed it"
}

# device nodes (CI runs as root): refused, still character devices
run 2 "$uniap" plan $tiny --out "$FULL"
[ -c "$FULL" ] || fail "$FULL is no longer a character device"
timeout 5 "$uniap" plan $tiny --out /dev/stdout >"$NULLDEV" 2>out.log
[ $? = 2 ] || fail "--out /dev/stdout (onto /dev/null) not refused"
[ -c "$NULLDEV" ] || fail "$NULLDEV is no longer a character device"

# a symlinked output is written through
echo old >target.json
ln -s target.json link.json
run 0 "$uniap" plan $tiny --out link.json
[ -L link.json ] || fail "--out link.json replaced the symlink"
grep -q '"uniap-plan"' target.json || fail "--out link.json did not write the link's target"

# outputs checked before the search
run 2 "$uniap" plan $tiny --out nosuch-dir/plan.json
expect "nosuch-dir"
grep -q "pairs done" out.log && fail "--out in a missing folder found only after the search"
mkdir adir
run 2 "$uniap" plan $tiny --out adir
grep -q "pairs done" out.log && fail "--out at a folder found only after the search"
run 2 "$uniap" plan $tiny --out - --megatron-args -
expect "only one output"

# --out -: the plan JSON on stdout, no file named -
timeout 5 "$uniap" plan $tiny --out - >stdout.json 2>out.log || fail "--out - failed"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["format"] == "uniap-plan"' \
    stdout.json || fail "--out -: standard output is not the plan JSON"
[ -e ./- ] && fail "--out - created a file named -"

# item 4: numbers refused at parse time, naming the option
for b in 99999999999999999999 9223372036854775807 8589934592 0 -1 8x; do
    run 2 "$uniap" plan --model gpt-tiny --cluster titanxp-2x4 --global-batch "$b"
    expect "--global-batch $b"
done
run 2 "$uniap" plan $tiny --reserve-gib nan
expect "--reserve-gib nan"
run 2 "$uniap" plan $tiny --overlap nan
expect "--overlap nan"
run 2 "$uniap" estimate --model gpt-tiny --cluster titanxp-2x4 --global-batch 8 --overlap inf \
    --dp 8 --tp 1 --pp 1 --micro-batches 1
expect "--overlap inf"
run 2 "$uniap" plan $tiny --global-batch 16
expect "--global-batch given twice"
run 2 "$uniap" estimate --model gpt-tiny --cluster titanxp-2x4 --global-batch 8 --dp 8 --tp 1 \
    --pp 1 --micro-batches 0
expect "--micro-batches 0: expected"
run 2 "$uniap" plan $tiny --time-limit=-1
expect "--time-limit -1"
run 2 "$uniap" plan $tiny --nosuch
expect "unknown option '--nosuch'"

# item 7: a Galvatron export that fails writes no other output either
cat >flat.json <<'EOF'
{"name": "flat", "seq_len": 32, "param_dtype": "fp32",
 "layers": [{"type": "embedding", "hidden": 64, "vocab": 512},
            {"type": "head", "hidden": 64, "vocab": 512}]}
EOF
run 2 "$uniap" plan --model flat.json --cluster titanxp-2x4 --global-batch 8 --out f.json \
    --megatron-args f.txt --galvatron-config f.galv
expect "galvatron"
[ -e f.json ] || [ -e f.txt ] || [ -e f.galv ] && fail "a failing Galvatron export left files"
ls | grep -q '\.tmp\.' && fail "temporary files left behind"

# item 4: an incomplete profile is warned about
"$edit_profile" p.h5 incomplete.h5 complete=0 >/dev/null 2>&1 || fail "edit_profile"
run 0 "$uniap" plan --model gpt-tiny --profile incomplete.h5 --global-batch 16
expect "incomplete.h5 is incomplete (interrupted profile): run uniap profile --resume"

# estimate takes the cluster from the profile, as plan does
run 0 "$uniap" estimate --model gpt-tiny --profile p.h5 --plan plan2n.json
expect "cluster measured"
run 0 "$uniap" estimate --model gpt-tiny --profile p.h5 --global-batch 16 --dp 4 --tp 1 --pp 1 \
    --micro-batches 1

# the search restrictions reach the plan
run 0 "$uniap" plan $tiny --max-tp 1 --max-pp 1 --no-zero --out r.json
python3 - r.json <<'PY' || fail "--max-tp 1 --max-pp 1 --no-zero not honoured"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["deg"] == 1, p["deg"]
for l in p["layers"]:
    s = l["strategy"]
    assert ".tp1" in s or s.startswith("tp1"), s
    assert "zero" not in s and "fsdp" not in s, s
PY
run 0 "$uniap" plan $tiny --out u.json
python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); sys.exit(0 if any(".tp1" not in l["strategy"] for l in p["layers"]) or p["deg"] > 1 or any("zero" in l["strategy"] for l in p["layers"]) else 1)' u.json ||
    fail "the unrestricted plan is already tp 1, deg 1, no ZeRO: the restriction test proves nothing"

# item 7: exit codes: 1 no viable pair (with why), 3 nothing fits in memory
run 1 "$uniap" plan --model gpt-tiny --cluster titanxp-2x4 --global-batch 1 --max-tp 1
expect "no (pipeline degree, micro-batch count) pair is viable"
run 3 "$uniap" plan --model llama-70b --cluster titanxp-2x4 --global-batch 8 --time-limit 2
expect "no plan fits in memory"

# --help and the man page come from the option table, defaults included
run 0 "$uniap" plan --help
expect "--time-limit S"
expect "--node-limit N"
expect "(default: 4000)"
expect "--max-tp N"
run 0 "$uniap" plan --man
expect ".TH UNIAP-PLAN 1"
expect "\fB\-\-no\-zero\fR"
run 0 "$uniap" estimate --man
expect ".SH EXIT STATUS"

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all plan/estimate safety checks passed"
