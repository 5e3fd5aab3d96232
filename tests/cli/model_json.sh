#!/bin/sh
# model_json.sh - `uniap model --json M > m.json; uniap model m.json` works
# for every zoo model: --json prints exactly the canonical spec (nothing
# else on stdout, valid JSON), it reads back with the same layers and
# parameter count, and dumping the file again gives the same bytes. The
# same for `uniap cluster --json` and every preset.
# Usage: model_json.sh UNIAP WORKDIR
set -u
UNIAP=$1 W=$2
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail=0 n=0
bad() { echo "FAIL: $*"; fail=1; }

# roundtrip KIND NAME: dump, read back, compare
roundtrip() {
    "$UNIAP" "$1" --json "$2" >"$2.json" 2>"$2.err" || { bad "$1 --json $2: $(cat "$2.err")"; return; }
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$2.json" 2>/dev/null ||
        bad "$1 --json $2: stdout is not exactly one JSON document"
    "$UNIAP" "$1" "$2" >"$2.txt" 2>"$2.err2" || { bad "$1 $2: $(cat "$2.err2")"; return; }
    "$UNIAP" "$1" "$2.json" >"$2.back.txt" 2>"$2.err3" ||
        { bad "$1 $2.json (the dump read back): $(cat "$2.err3")"; return; }
    # the summary of the file equals the zoo/preset entry's (but for the source name)
    tail -n +2 "$2.txt" >a.txt
    tail -n +2 "$2.back.txt" >b.txt
    cmp -s a.txt b.txt || bad "$1 $2: the dump reads back different: $(diff a.txt b.txt | head -5)"
    "$UNIAP" "$1" --json "$2.json" >"$2.again.json" 2>/dev/null || bad "$1 --json $2.json"
    cmp -s "$2.json" "$2.again.json" || bad "$1 $2: dump of the dump differs"
    n=$((n + 1))
}

models=$("$UNIAP" model --list | awk '{print $1}')
[ -n "$models" ] || bad "model --list printed nothing"
for m in $models; do
    roundtrip model "$m"
done
grep -q "total parameters: 6738415616" llama-7b.back.txt || bad "llama-7b read back: parameter count"
clusters=$("$UNIAP" cluster --list | awk '{print $1}')
for c in $clusters; do
    roundtrip cluster "$c"
done
[ $n -ge 14 ] || bad "only $n round trips ran"

[ $fail -eq 0 ] && echo "PASS ($n round trips)"
exit $fail
