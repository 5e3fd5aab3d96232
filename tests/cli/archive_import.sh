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
n_h5=1

METIS=$D/SamsungLabs_Metis/profile_data_samples
if [ -d "$METIS" ]; then
    MM="--model $T/gpt3-metis.json --cluster a100-80g-2x8"
    run metis 0 import --from metis "$METIS" $MM --out metis.h5
    has metis out "provenance imported:metis -> metis.h5"
    has metis out "note: forward : backward = 1 : 2"
    run mverify 0 verify metis.h5
    has mverify out "OK"
    if command -v h5dump >/dev/null 2>&1; then
        h5dump -a /provenance -a /notes -a /layer_times_include_tp_comm metis.h5 \
            >mdump.out 2>&1 || bad "h5dump metis: $(cat mdump.out)"
        has mdump out "imported:metis"
        has mdump out "max_memory_reserved"
        h5dump -d /layers metis.h5 >mlayers.out 2>&1 || bad "h5dump /layers: $(cat mlayers.out)"
        # 9 (tp, bs) files, each a row for block 8 (model layer 8) of its own
        [ "$(grep -c 'bias@8"' mlayers.out)" -eq 9 ] || bad "metis: per-position rows of layer 8"
    fi
    run mbad 2 import --from metis "$METIS" --model gpt3-175b --cluster a100-80g-2x8 \
        --out mbad.h5
    has mbad err "field 'model'.'num_layers' = 10: 8 blocks, but model 'gpt3-175b' has 96"
    [ ! -e mbad.h5 ] || bad "mbad: output written"
    n_h5=$((n_h5 + 1))
fi

MIST=$D/Dazz993_Mist/mist/node_database
if [ -d "$MIST/cache_NVIDIA_L4" ]; then
    MS="--model $T/gpt-1.3b-mist.json --cluster $T/l4-24g-1x8.json"
    run mist 0 import --from mist "$MIST" $MS --out mist.h5
    has mist out "provenance imported:mist -> mist.h5"
    has mist out "note: tp 2, micro-batch 1,2,4,8,16,32: no rows"
    run tverify 0 verify mist.h5
    has tverify out "OK"
    if command -v h5dump >/dev/null 2>&1; then
        h5dump -a /provenance -a /notes mist.h5 >tdump.out 2>&1 || bad "h5dump mist: $(cat tdump.out)"
        has tdump out "imported:mist"
        has tdump out "flash_attn_qkvpacked_func (flash attention)"
    fi
    run tshow 0 show mist.h5
    has tshow out "tp {1}  micro_batch {1,2,4,8}"
    run tbad 2 import --from mist "$MIST" --model gpt3-175b --cluster $T/l4-24g-1x8.json \
        --out tbad.h5
    has tbad err "no mist.modules.layer_norm.layer_norm entry with x (1, 2048, 12288)"
    [ ! -e tbad.h5 ] || bad "tbad: output written"
    n_h5=$((n_h5 + 1))
fi
[ "$(ls | grep -c '\.h5')" -eq "$n_h5" ] || bad "stray files: $(ls)"
exit $fail
