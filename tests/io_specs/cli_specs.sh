#!/bin/sh
# cli_specs.sh - checks `uniap model` and `uniap cluster` as a user meets
# them: exact exit statuses (2 on bad input), "uniap <command>: error:
# <file>: <json path>: ..." on stderr with nothing on stdout, and output
# from rank 0 only under mpiexec. Usage: cli_specs.sh <uniap> <tests/data/specs> [<mpiexec>]
set -u
UNIAP=$1
SPECS=$2
MPIEXEC=${3:-}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0

fail() {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# run <expected status> <args...>: runs uniap, keeps stdout/stderr in $TMP.
run() {
    want=$1
    shift
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "'$*' exited $got, expected $want; stderr: $(cat "$TMP/err")"
    fi
}

expect_err() { # <text>: stderr contains text
    grep -qF -- "$1" "$TMP/err" || fail "stderr lacks '$1': $(cat "$TMP/err")"
}
expect_out() { # <text>: stdout contains text
    grep -qF -- "$1" "$TMP/out" || fail "stdout lacks '$1': $(head -c 400 "$TMP/out")"
}
expect_no_out() {
    [ ! -s "$TMP/out" ] || fail "stdout not empty on error: $(head -c 200 "$TMP/out")"
}

bad=$SPECS/bad/heads_not_dividing.json
run 2 "$UNIAP" model "$bad"
expect_err "uniap model: error: $bad: layers[1].heads: expected a divisor of hidden (1000)"
expect_no_out

bad=$SPECS/bad/unknown_key.json
run 2 "$UNIAP" model --json "$bad"
expect_err "uniap model: error: $bad: layers[1].hiden:"
expect_no_out

bad=$SPECS/bad/bad_json.json
run 2 "$UNIAP" model "$bad"
expect_err "uniap model: error: $bad: line 5, column"
expect_no_out

bad=$SPECS/bad/cluster_zero_devices.json
run 2 "$UNIAP" cluster "$bad"
expect_err "uniap cluster: error: $bad: devices_per_node: expected an integer in 1..1024, got number 0"
expect_no_out

bad=$SPECS/bad/cluster_negative_memory.json
run 2 "$UNIAP" cluster "$bad"
expect_err "device_memory"
expect_no_out

run 2 "$UNIAP" model no-such-model
expect_err "uniap model: error: no-such-model: expected a zoo model"
run 2 "$UNIAP" model --bogus llama-7b
expect_err "'--bogus'"
run 2 "$UNIAP" model
expect_err "expected NAME|FILE"

run 0 "$UNIAP" model --help
expect_out "--json"
expect_out "--list"
run 0 "$UNIAP" cluster --help
expect_out "--list"

run 0 "$UNIAP" model "$SPECS/good/tiny.json"
expect_out "total parameters: 553"
expect_out "1-2       decoder"
run 0 "$UNIAP" model --json "$SPECS/good/tiny.json"
expect_out '"seq_len":	6'
# the canonical dump reads back (issue 10 item 7)
"$UNIAP" model --json "$SPECS/good/tiny.json" >"$TMP/tiny_dump.json" 2>/dev/null
run 0 "$UNIAP" model "$TMP/tiny_dump.json"
expect_out "total parameters: 553"
run 0 "$UNIAP" model --list
for m in bert-huge t5-large vit-huge swin-huge llama-7b llama-13b llama-70b gpt3-175b gpt-tiny; do
    expect_out "$m"
done
run 0 "$UNIAP" model llama-7b
expect_out "total parameters: 6738415616 (6.74 B)"
run 0 "$UNIAP" cluster --list
for c in a100-40g-1x8 a100-80g-2x8 titanxp-2x4 h100-80g-4x8 h100-80g-16x8 h200-141g-4x8; do
    expect_out "$c"
done
run 0 "$UNIAP" cluster --json "$SPECS/good/cluster_small.json"
expect_out "\"device_memory\":	25769803776"

if [ -n "$MPIEXEC" ]; then
    MPI="$MPIEXEC -n 2 --oversubscribe --allow-run-as-root"
    run 0 $MPI "$UNIAP" model "$SPECS/good/tiny.json"
    n=$(grep -c "total parameters" "$TMP/out")
    [ "$n" -eq 1 ] || fail "2 ranks printed the summary $n times, expected once (rank 0)"
    run 2 $MPI "$UNIAP" model "$SPECS/bad/kv_not_dividing.json"
    n=$(grep -c "layers\[1\].kv_heads" "$TMP/err")
    [ "$n" -eq 1 ] || fail "2 ranks printed the error $n times, expected once (rank 0)"
fi

if [ "$fails" -ne 0 ]; then
    echo "$fails CLI checks failed" >&2
    exit 1
fi
echo "all CLI checks passed"
