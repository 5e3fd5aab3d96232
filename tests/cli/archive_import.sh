#!/bin/sh
# archive_import.sh - `uniap archive import` end to end: AMP's known_cost
# files on the T4 cluster become a dataset that `archive verify` passes and
# h5dump reads (provenance imported:amp, the notes attribute); the notes are
# printed; a bad field (exit 2) or a missing file (exit 1, EIO) names the file and
# field, and leaves no output behind.
# Usage: archive_import.sh UNIAP DATASETS_DIR SPECS_DIR WORKDIR
set -u
UNIAP=$1 D=$2 S=$3 W=$4
rm -rf "$W" && mkdir -p "$W/bad" && cd "$W" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
run() {
    name=$1 want=$2
    shift 2
    "$UNIAP" archive "$@" >"$name.out" 2>"$name.err"
    rc=$?
    [ $rc -eq "$want" ] || bad "$name: exit $rc, want $want: $(cat "$name.err" "$name.out")"
}
has() { grep -qF -- "$3" "$1.$2" || bad "$1: $2 lacks '$3': $(cat "$1.$2")"; }
M="--model $S/gpt2-350m-amp.json --cluster $S/t4-g4dn-16.json"

run amp 0 import --from amp "$D/DachengLi1_AMP_converted" $M --out amp.h5
has amp out "provenance imported:amp -> amp.h5"
has amp out "note: tp 1: AMP's 24 block entries differ by up to 19.0%"
run verify 0 verify amp.h5
has verify out "OK"
if command -v h5dump >/dev/null 2>&1; then
    h5dump -a /provenance -a /notes amp.h5 >dump.out 2>&1 || bad "h5dump: $(cat dump.out)"
    has dump out "imported:amp"
    has dump out "backward = 2 x forward"
fi
run show 0 show amp.h5
has show out "note          AMP measured micro-batch 1 only"

printf '{"values": "fast"}' >bad/gpt2_G4_1.json
run badfield 2 import --from amp bad/gpt2_G4_1.json $M --out badfield.h5
has badfield err "bad/gpt2_G4_1.json: field 'values'"
[ ! -e badfield.h5 ] || bad "badfield: output written"
run missing 1 import --from amp nowhere/gpt2_G4_1.json $M --out missing.h5
has missing err "nowhere/gpt2_G4_1.json"
[ ! -e missing.h5 ] || bad "missing: output written"
run unknown 2 import --from piper x $M --out u.h5
[ "$(ls | grep -c '\.h5')" -eq 1 ] || bad "stray files: $(ls)"
exit $fail
