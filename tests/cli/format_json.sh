#!/bin/sh
# format_json.sh - `--format json` (issue 16 item 5): archive list, show and
# verify print one JSON document (format uniap-archive, version 1) whose
# counts are the text form's; verify keeps its exit status; model and
# cluster print their canonical spec (as --json); estimate prints the plan
# JSON on stdout, its TPI the text report's, the report on stderr.
# Usage: format_json.sh UNIAP GOLDEN.h5 WORKDIR
set -u
UNIAP=$1 G=$2 W=$3
rm -rf "$W" && mkdir -p "$W/dir" || exit 1
fail=0
check() { d=$1; shift; if "$@"; then echo "ok   $d"; else echo "FAIL $d"; fail=1; fi; }
py() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $1" "$2"; }
cp "$G" "$W/dir/a.h5" && printf 'not hdf5' >"$W/dir/bad.h5"
"$UNIAP" archive show "$G" --format json >"$W/show.json" 2>"$W/show.err"
check "archive show --format json exits 0" test $? -eq 0
check "... format uniap-archive 1" py "assert d['format'] == 'uniap-archive' and d['version'] == 1" "$W/show.json"
"$UNIAP" archive show "$G" >"$W/show.txt"
layers=$(sed -n 's|^/layers *\([0-9]*\) rows.*|\1|p' "$W/show.txt")
colls=$(sed -n 's|^/collectives *\([0-9]*\) rows.*|\1|p' "$W/show.txt")
check "... rows as the text form ($layers layers, $colls collectives)" \
    py "r = d['datasets'][0]['rows']; assert (r['layers'], r['collectives']) == ($layers, $colls)" "$W/show.json"
check "... a layer type's tp set as the text form's {1,2,8}" \
    py "assert d['datasets'][0]['layer_types'][0]['tp'] == [1, 2, 8]" "$W/show.json"
"$UNIAP" archive list "$W/dir" --format json >"$W/list.json"
check "archive list --format json: 2 datasets, one not ok" \
    py "assert [x['ok'] for x in d['datasets']] == [True, False]" "$W/list.json"
"$UNIAP" archive verify "$W/dir/a.h5" "$W/dir/bad.h5" --format json >"$W/verify.json" 2>/dev/null
rc=$?
check "archive verify --format json keeps the exit status ($rc != 0)" test $rc -ne 0
check "... the bad file's error names it" \
    py "assert 'bad.h5' in d['datasets'][1]['error'] and d['datasets'][0]['ok']" "$W/verify.json"
"$UNIAP" model --format json gpt-tiny >"$W/m1.json" && "$UNIAP" model --json gpt-tiny >"$W/m2.json"
check "model --format json = --json" cmp -s "$W/m1.json" "$W/m2.json"
E="--model llama-7b --cluster h100-80g-4x8 --global-batch 32 --pp 4 --dp 1 --tp 8 --micro-batches 8"
"$UNIAP" estimate $E --format json >"$W/est.json" 2>"$W/est.err"
check "estimate --format json exits 0" test $? -eq 0
tpi=$(sed -n 's/^TPI \([0-9.]*\) s.*/\1/p' "$W/est.err")
check "... the plan JSON's TPI is the report's ($tpi), the report on stderr" \
    py "assert d['format'] == 'uniap-plan' and abs(d['tpi'] - $tpi) <= 1e-6 * $tpi" "$W/est.json"
[ $fail -eq 0 ] || tail -n 5 "$W"/*.err
exit $fail
