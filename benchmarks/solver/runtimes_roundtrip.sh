#!/bin/sh
# runtimes_roundtrip.sh - issue 14's "Done when", as a user runs it: for
# each case (Llama-70B on 4 x 8 and 16 x 8 H100, GPT-3 175B on 16 x 8
# A100-80GB) and each runtime, `uniap plan --runtime R` writes the
# runtime's launch files, `uniap estimate` reads those files back (its
# --megatron-args / --from-deepspeed / --from-torchtitan / --from-galvatron
# reader: the plan the runtime runs, its defaults for what a file leaves
# out) and prices them. Prints one Markdown row per runtime and case: the
# plan's TPI, the estimate's TPI of the export, their difference, whether
# the export fits memory (estimate's exit status 0; 3 is "does not fit"),
# the fullest stage against the budget, and the search's wall time.
# Analytic profiles, 1F1B, uniap plan's default node limit; torchtitan on
# the model with flash attention and no dropout (what its llama3 runs).
# Usage: runtimes_roundtrip.sh UNIAP [WORKDIR]   (about 10 min on 2 cores)
set -u
UNIAP=$1 W=${2:-${TMPDIR:-/tmp}/uniap-roundtrip}
HERE=$(cd "$(dirname "$0")" && pwd)
rm -rf "$W" && mkdir -p "$W" || exit 1
now() { date +%s.%N; }
# the TPI from estimate's report (6 decimals), when it wrote no --out
tpi_of() { sed -n 's/^TPI \([0-9.e+-]*\) s.*/\1/p' "$1"; }
# the fullest stage's total and the budget, in GiB, from estimate's report
fullest() {
    awk '/memory per device:/ {
            t = $0; sub(/.*total [0-9]+ B \(/, "", t); sub(/ GiB.*/, "", t);
            b = $0; sub(/.*budget [0-9]+ B \(/, "", b); sub(/ GiB.*/, "", b);
            if (t + 0 > m) { m = t + 0; bud = b } }
         END { if (m > 0) printf "%.2f / %s GiB", m, bud; else printf "-" }' "$1"
}
echo "| case | runtime | plan TPI (s) | estimate of the export (s) | relative difference | fits | fullest stage | search (s) |"
echo "|---|---|---|---|---|---|---|---|"
row() { # case-label model cluster batch runtime
    label=$1 model=$2 cluster=$3 B=$4 rt=$5
    d="$W/$model-$(basename "$cluster" .json)-$rt"
    mkdir -p "$d"
    extra=""
    [ "$rt" = torchtitan ] && extra="--attention flash --dropout off"
    case $rt in
    megatron) out="--megatron-args $d/args.txt"; back="--megatron-args $d/args.txt" ;;
    deepspeed) out="--deepspeed-config $d/ds.json --deepspeed-args $d/ds.args"
        back="--from-deepspeed $d/ds.args --from-deepspeed-config $d/ds.json" ;;
    torchtitan) out="--torchtitan-toml $d/tt.toml"; back="--from-torchtitan $d/tt.toml" ;;
    galvatron) out="--galvatron-config $d/g.json --galvatron-args $d/g.args"
        back="--from-galvatron $d/g.json --from-galvatron-args $d/g.args" ;;
    esac
    t0=$(now)
    # shellcheck disable=SC2086
    "$UNIAP" plan --model "$model" --cluster "$cluster" --global-batch "$B" --runtime "$rt" \
        $extra $out --out "$d/plan.json" --quiet >"$d/plan.txt" 2>"$d/plan.err"
    prc=$? t1=$(now)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    if [ $prc -ne 0 ]; then
        why=$(tail -n 1 "$d/plan.err" | sed 's/^uniap plan: error: //; s/|/\//g')
        echo "| $label | $rt | - | - | - | - | $why | $secs |"
        return
    fi
    ptpi=$(sed -n 's/^\s*"tpi":\s*\([0-9.e+-]*\),/\1/p' "$d/plan.json")
    # shellcheck disable=SC2086
    "$UNIAP" estimate --model "$model" --cluster "$cluster" $extra $back --out "$d/est.json" \
        >"$d/est.txt" 2>"$d/est.err"
    erc=$?
    etpi=$(sed -n 's/^\s*"tpi":\s*\([0-9.e+-]*\),/\1/p' "$d/est.json" 2>/dev/null)
    [ -n "$etpi" ] || etpi=$(tpi_of "$d/est.txt")
    diff=$(awk -v a="$ptpi" -v b="$etpi" 'BEGIN { d = (a - b) / a; if (d < 0) d = -d; printf "%.0e", d }')
    fits=no
    [ $erc -eq 0 ] && fits=yes
    [ $erc -ne 0 ] && [ $erc -ne 3 ] && fits="error $erc: $(tail -n 1 "$d/est.err" | sed 's/|/\//g')"
    echo "| $label | $rt | $(printf %.6f "$ptpi") | $(printf %.6f "${etpi:-0}") | $diff | $fits | $(fullest "$d/est.txt") | $secs |"
}
for k in "llama-70b h100-80g-4x8 512" "llama-70b h100-80g-16x8 1024" \
    "gpt3-175b $HERE/a100-80g-16x8.json 1536"; do
    set -- $k
    label="$1 on $(basename "$2" .json), B=$3"
    for rt in megatron deepspeed torchtitan galvatron; do
        row "$label" "$1" "$2" "$3" "$rt"
    done
done
