#!/bin/sh
# archive_import.sh - `uniap archive import` end to end: AMP's known_cost
# files on the T4 cluster become a dataset that `archive verify` passes and
# h5dump reads (provenance imported:amp, the notes attribute); the notes are
# printed; a bad field (exit 2) or a missing file (exit 1, EIO) names the file and
# field, and leaves no output behind. Then Metis's A100 samples (GPT-3 of
# tests/data/specs/gpt3-metis.json: per-position block rows read back by
# h5dump) and Mist's L4 operator cache (GPT 1.3B of gpt-1.3b-mist.json),
# each with a model the files do not describe refused, when those datasets
# are present.
# Usage: archive_import.sh UNIAP DATASETS_DIR SPECS_DIR WORKDIR
set -u
UNIAP=$1 D=$2 S=$3 W=$4
T=$(cd "$(dirname "$0")/../data/specs" && pwd) # tests/data/specs (Metis, Mist)
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
# imported NAME FROM NOTE ARGS...: `archive import --from FROM ARGS --out
# NAME.h5` succeeds, printing its provenance and NOTE, and `archive verify`
# passes NAME.h5.
imported() {
    imp=$1 imp_from=$2 imp_note=$3
    shift 3
    run "$imp" 0 import --from "$imp_from" "$@" --out "$imp.h5"
    has "$imp" out "provenance imported:$imp_from -> $imp.h5"
    has "$imp" out "$imp_note"
    run "$imp.verify" 0 verify "$imp.h5"
    has "$imp.verify" out "OK"
}
# dumped NAME FROM WANT [H5DUMP_ARG...]: h5dump reads NAME.h5's provenance
# and notes (and what the arguments add): imported:FROM and WANT among
# them (nothing checked without h5dump).
dumped() {
    dmp=$1 dmp_from=$2 dmp_want=$3
    shift 3
    command -v h5dump >/dev/null 2>&1 || return 0
    h5dump -a /provenance -a /notes "$@" "$dmp.h5" >"$dmp.dump.out" 2>&1 ||
        bad "h5dump $dmp: $(cat "$dmp.dump.out")"
    has "$dmp.dump" out "imported:$dmp_from"
    has "$dmp.dump" out "$dmp_want"
}
# refused NAME RC MSG ARGS...: `archive import ARGS --out NAME.h5` exits
# RC, its error says MSG, and NAME.h5 is not written.
refused() {
    ref=$1 ref_rc=$2 ref_msg=$3
    shift 3
    run "$ref" "$ref_rc" import "$@" --out "$ref.h5"
    has "$ref" err "$ref_msg"
    [ ! -e "$ref.h5" ] || bad "$ref: output written"
}
M="--model $S/gpt2-350m-amp.json --cluster $S/t4-g4dn-16.json"

imported amp amp "note: tp 1: AMP's 24 block entries differ by up to 19.0%" \
    "$D/DachengLi1_AMP_converted" $M
dumped amp amp "backward = 2 x forward"
run show 0 show amp.h5
has show out "note          AMP measured micro-batch 1 only"

printf '{"values": "fast"}' >bad/gpt2_G4_1.json
refused badfield 2 "bad/gpt2_G4_1.json: field 'values'" --from amp bad/gpt2_G4_1.json $M
refused missing 1 "nowhere/gpt2_G4_1.json" --from amp nowhere/gpt2_G4_1.json $M
run unknown 2 import --from piper x $M --out u.h5
[ "$(ls | grep -c '\.h5')" -eq 1 ] || bad "stray files: $(ls)"
n_h5=1

METIS=$D/SamsungLabs_Metis/profile_data_samples
if [ -d "$METIS" ]; then
    MM="--model $T/gpt3-metis.json --cluster a100-80g-2x8"
    imported metis metis "note: forward : backward = 1 : 2" "$METIS" $MM
    dumped metis metis "max_memory_reserved" -a /layer_times_include_tp_comm
    if command -v h5dump >/dev/null 2>&1; then
        h5dump -d /layers metis.h5 >mlayers.out 2>&1 || bad "h5dump /layers: $(cat mlayers.out)"
        # 9 (tp, bs) files, each a row for block 8 (model layer 8) of its own
        [ "$(grep -c 'bias@8"' mlayers.out)" -eq 9 ] || bad "metis: per-position rows of layer 8"
    fi
    refused mbad 2 "field 'model'.'num_layers' = 10: 8 blocks, but model 'gpt3-175b' has 96" \
        --from metis "$METIS" --model gpt3-175b --cluster a100-80g-2x8
    n_h5=$((n_h5 + 1))
fi

MIST=$D/Dazz993_Mist/mist/node_database
if [ -d "$MIST/cache_NVIDIA_L4" ]; then
    MS="--model $T/gpt-1.3b-mist.json --cluster $T/l4-24g-1x8.json"
    imported mist mist "note: tp 2, micro-batch 1,2,4,8,16,32: no rows" "$MIST" $MS
    dumped mist mist "flash_attn_qkvpacked_func (flash attention)"
    run tshow 0 show mist.h5
    has tshow out "tp {1}  micro_batch {1,2,4,8}"
    refused tbad 2 "no mist.modules.layer_norm.layer_norm entry with x (1, 2048, 12288)" \
        --from mist "$MIST" --model gpt3-175b --cluster $T/l4-24g-1x8.json
    n_h5=$((n_h5 + 1))
fi
[ "$(ls | grep -c '\.h5')" -eq "$n_h5" ] || bad "stray files: $(ls)"
exit $fail
