#!/bin/sh
# from_cli.sh - `uniap estimate --from-galvatron` on Galvatron's own
# published Llama-7B plan (the shared dataset's galvatron_config_llama-7b_
# 2nodes_8gpus_per_node_40GB_bf16_3D_example.json: pp_deg 2, tp 2 on every
# block, global_bsz 256, 32 chunks, pp_division 16,16): uniap costs the
# plan Galvatron runs, with those degrees; a --global-batch the file
# contradicts, and two runtimes' files at once, are refused (exit 2).
# Usage: from_cli.sh UNIAP GALVATRON_CONFIG WORKDIR
set -u
UNIAP=$1 F=$2 W=$3
rm -rf "$W" && mkdir -p "$W" || exit 1
fail=0
check() { d=$1; shift; if "$@"; then echo "ok   $d"; else echo "FAIL $d"; fail=1; fi; }
"$UNIAP" estimate --model llama-7b --cluster a100-80g-2x8 --from-galvatron "$F" >"$W/est.txt" 2>"$W/est.err"
check "estimate --from-galvatron exits 0" test $? -eq 0
check "... 2 stages, 32 micro-batches of 8, global batch 256" \
    grep -q "plan: 2 stage(s) of 8 devices, 32 micro-batches of 8 samples (global batch 256)" "$W/est.txt"
check "... the blocks at tp 2 (dp 4 x tp 2 on 8 devices)" grep -q "dp4.tp2c" "$W/est.txt"
check "... 16 blocks on stage 0 with the embedding (layers 0-16)" grep -q "^stage 0: layers 0-16" "$W/est.txt"
"$UNIAP" estimate --model llama-7b --cluster a100-80g-2x8 --from-galvatron "$F" --global-batch 128 \
    >/dev/null 2>"$W/gb.err"
rc=$?
check "a contradicting --global-batch refused (exit 2)" test $rc -eq 2
"$UNIAP" estimate --model llama-7b --cluster a100-80g-2x8 --from-galvatron "$F" --plan "$F" \
    >/dev/null 2>"$W/two.err"
rc=$?
check "--from-galvatron with --plan refused (exit 2)" test $rc -eq 2
[ $fail -eq 0 ] || tail -n 5 "$W"/*.err "$W/est.txt"
exit $fail
