#!/bin/sh
# show_svg.sh - plan pictures end to end (cli/plan_svg.c, cli/cmd_show.c):
# `uniap estimate --svg/--html` of a 4-stage, 8-micro-batch 1F1B plan, of
# a GPipe one and of a ZB-H1 one (its W boxes apart), checked by show_svg.py against the schedule and the report,
# rendered by rsvg-convert (Debian's librsvg2-bin) to a PNG that must not be
# blank; `uniap show plan.json` of a searched plan; bad input refused.
# Usage: show_svg.sh UNIAP WORKDIR
set -u
UNIAP=$1 W=$2 HERE=$(dirname "$0")
rm -rf "$W" && mkdir -p "$W" || exit 1
fail=0
check() { d=$1; shift; if "$@"; then echo "ok   $d"; else echo "FAIL $d"; fail=1; fi; }
E="--model llama-7b --cluster h100-80g-4x8 --global-batch 32 --pp 4 --dp 1 --tp 8 --micro-batches 8"
for s in 1f1b gpipe zb-h1; do
    "$UNIAP" estimate $E --schedule $s --svg "$W/$s.svg" --html "$W/$s.html" >"$W/$s.txt" 2>"$W/$s.err"
    check "estimate --svg --html ($s) exits 0" test $? -eq 0
    rsvg-convert "$W/$s.svg" -o "$W/$s.png"
    check "rsvg-convert renders it ($s)" test $? -eq 0
    python3 "$HERE/show_svg.py" "$W/$s.svg" "$W/$s.txt" 4 8 $s 34 "$W/$s.png" || fail=1
    check "the HTML page holds the same SVG ($s)" grep -q "<svg xmlns" "$W/$s.html"
done
check "zb-h1: its 4 x 8 W boxes apart (1F1B's F and B order above)" \
    test "$(grep -c 'class="wgt"' "$W/zb-h1.svg")" -eq 32
"$UNIAP" plan --model llama-7b --cluster h100-80g-4x8 --global-batch 32 --out "$W/plan.json" \
    >"$W/plan.txt" 2>&1
check "plan exits 0" test $? -eq 0
"$UNIAP" show "$W/plan.json" --svg - >"$W/show.svg" 2>"$W/show.err"
check "show PLAN --svg - exits 0" test $? -eq 0
check "... standard output is the SVG alone" sh -c "head -c 5 '$W/show.svg' | grep -q '<?xml'"
check "... the report on stderr" grep -q "^TPI " "$W/show.err"
xmllint --noout "$W/show.svg" 2>"$W/xmllint.err"
check "... well-formed (xmllint)" test $? -eq 0
"$UNIAP" show "$W/plan.json" >"$W/none.txt" 2>"$W/none.err"
rc=$?
check "show without --svg/--html refused (exit 2)" test $rc -eq 2
check "... naming the options" grep -q "give --svg FILE or --html FILE" "$W/none.err"
"$UNIAP" show "$W/missing.json" --svg "$W/x.svg" >/dev/null 2>"$W/miss.err"
rc=$?
check "a missing plan refused (as estimate: exit 1, the I/O error)" test $rc -eq 1
check "... naming the file" grep -q "missing.json: cannot open" "$W/miss.err"
check "... nothing written" test ! -e "$W/x.svg"
[ $fail -eq 0 ] || tail -n 20 "$W"/*.err
exit $fail
