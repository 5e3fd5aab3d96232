#!/bin/sh
# archive_cli.sh UNIAP GOLDEN WORKDIR - `uniap archive` end to end through
# the real executable: exit statuses and output of each subcommand on the
# committed version 1.0 profile and on a file that is not one.
set -u
UNIAP=$1
GOLDEN=$2
W=$3
fail=0
rm -rf "$W" && mkdir -p "$W/arch" || exit 1
check() { # check NAME EXPECTED_STATUS ACTUAL_STATUS
    if [ "$3" -ne "$2" ]; then echo "FAIL: $1 exited $3, expected $2"; fail=1; fi
}
"$UNIAP" archive --help >"$W/help.txt" 2>&1; check help 0 $?
grep -q 'export FILE --csv DIR' "$W/help.txt" || { echo "FAIL: --help lacks export"; fail=1; }
"$UNIAP" archive verify "$GOLDEN" >"$W/verify.txt" 2>&1; check verify 0 $?
grep -q '^OK ' "$W/verify.txt" || { echo "FAIL: verify did not say OK"; fail=1; }
echo 'plain text' >"$W/arch/text.h5"
cp "$GOLDEN" "$W/arch/golden.h5"
"$UNIAP" archive verify "$W/arch/golden.h5" "$W/arch/text.h5" >"$W/verify2.txt" 2>&1
check verify_bad 2 $?
grep -q 'FAIL .*text.h5: not a uniap profile' "$W/verify2.txt" || { echo "FAIL: no reason"; fail=1; }
"$UNIAP" archive list "$W/arch" >"$W/list.txt" 2>&1; check list 0 $?
grep -q '^golden.h5 .*llama-7b' "$W/list.txt" || { echo "FAIL: list lacks golden.h5"; fail=1; }
grep -q '^text.h5 .*CORRUPT' "$W/list.txt" || { echo "FAIL: list hides text.h5"; fail=1; }
"$UNIAP" archive merge "$W/merged.h5" "$GOLDEN" "$W/arch/golden.h5" >"$W/merge.txt" 2>&1
check merge 0 $?
"$UNIAP" archive show "$W/merged.h5" >"$W/show.txt" 2>&1; check show 0 $?
grep -q '/layers       80 rows' "$W/show.txt" || { echo "FAIL: merged /layers"; fail=1; }
grep -q '/inputs       2 merged inputs' "$W/show.txt" || { echo "FAIL: no /inputs"; fail=1; }
"$UNIAP" archive export "$W/merged.h5" --csv "$W/csv" >/dev/null 2>&1; check export 0 $?
[ "$(wc -l <"$W/csv/layers.csv")" -eq 81 ] || { echo "FAIL: layers.csv rows"; fail=1; }
[ -f "$W/csv/inputs.csv" ] || { echo "FAIL: no inputs.csv"; fail=1; }
"$UNIAP" archive merge "$W/never.h5" >/dev/null 2>&1; check merge_usage 2 $?
[ $fail -eq 0 ] && echo "uniap archive: all checks passed"
exit $fail
