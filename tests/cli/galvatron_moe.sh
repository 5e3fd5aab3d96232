#!/bin/sh
# galvatron_moe.sh - `uniap archive import --from galvatron` on Galvatron's
# Mixtral-8x7B files (models/moe/configs: attention and MLP timed apart)
# for the zoo's mixtral-8x7b on 2 x 8 H100 (the 2-node hardware files),
# then `uniap plan` with that profile gives a feasible plan whose blocks
# are the moe rows; a model whose layer count the meta config contradicts
# is refused (exit 2) naming the field, nothing written.
# Usage: galvatron_moe.sh UNIAP GALVATRON_MOE_CONFIGS_DIR WORKDIR
set -u
UNIAP=$1 D=$2 W=$3
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
has() { grep -qF -- "$2" "$1" || bad "$1 lacks '$2': $(cat "$1")"; }

# 2 x 8 H100: the 4-node preset with 2 nodes
"$UNIAP" cluster --json h100-80g-4x8 |
    sed 's/"nodes":[[:space:]]*4,/"nodes": 2,/; s/h100-80g-4x8/h100-80g-2x8/' >h100-2x8.json
has h100-2x8.json '"nodes": 2,'

"$UNIAP" archive import --from galvatron "$D" --model mixtral-8x7b --cluster h100-2x8.json \
    --out mix.h5 >imp.out 2>imp.err
rc=$?
[ $rc -eq 0 ] || bad "import: exit $rc: $(cat imp.err imp.out)"
has imp.out "provenance imported:galvatron -> mix.h5"
has imp.out "computation_profiling_bf16_mixtral-8x7b{,_attention,_mlp}.json"
has imp.out "moe block forward = attention layer + MLP layer forward"
has imp.out "no MLP memory is published"

"$UNIAP" plan --profile mix.h5 --model mixtral-8x7b --cluster h100-2x8.json --global-batch 16 \
    >plan.out 2>plan.err
rc=$?
[ $rc -eq 0 ] || bad "plan: exit $rc: $(cat plan.err plan.out)"
has plan.out "feasible"
has plan.err "profile provenance is 'imported:galvatron'"
grep -Eq '^[0-9]+-[0-9]+ +moe ' plan.out || bad "plan: no moe rows: $(cat plan.out)"

# 16 blocks where the meta config says 32
"$UNIAP" model --json mixtral-8x7b | sed 's/"count":[[:space:]]*32,/"count": 16,/' >mix16.json
has mix16.json '"count": 16,'
"$UNIAP" archive import --from galvatron "$D" --model mix16.json --cluster h100-2x8.json \
    --out bad.h5 >bad.out 2>bad.err
rc=$?
[ $rc -eq 2 ] || bad "mismatch: exit $rc, want 2: $(cat bad.err)"
has bad.err "meta_configs/mixtral-8x7b.json: field 'num_hidden_layers' = 32, but model 'mixtral-8x7b' has 16"
[ ! -e bad.h5 ] || bad "mismatch: bad.h5 written"
exit $fail
