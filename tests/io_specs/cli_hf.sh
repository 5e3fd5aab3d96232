#!/bin/sh
# cli_hf.sh - Hugging Face configs through the commands (io/hf_config.c):
# `uniap model DIR` prints the layers and the checkpoint's published count,
# `uniap model --json` of a config reads back as a uniap spec with the same
# count, `uniap estimate --model DIR` costs it, and Mixtral's config reads
# as moe layers with its published total and active counts.
# Usage: cli_hf.sh UNIAP HF_DIR WORKDIR
set -u
UNIAP=$1 HF=$2 W=$3
rm -rf "$W" && mkdir -p "$W" || exit 1
fail=0
check() { # check DESCRIPTION COMMAND...: the command must succeed
    d=$1; shift
    if "$@"; then echo "ok   $d"; else echo "FAIL $d"; fail=1; fi
}
"$UNIAP" model "$HF/llama-3-8b" >"$W/llama.txt" 2>"$W/llama.err"
check "uniap model DIR exits 0" test $? -eq 0
check "Llama-3-8B: 8,030,261,248 parameters" grep -q "total parameters: 8030261248" "$W/llama.txt"
"$UNIAP" model "$HF/qwen2-7b/config.json" >"$W/qwen.txt" 2>&1
check "Qwen2-7B: the checkpoint's 7,615,616,512 with the q/k/v biases named" \
    grep -q "the checkpoint's 7615616512" "$W/qwen.txt"
check "Qwen2-7B: the note" grep -q "note: q/k/v projection biases not modelled" "$W/qwen.txt"
"$UNIAP" model --json "$HF/gpt2" >"$W/gpt2.json" 2>"$W/gpt2.err"
check "--json of a config" test -s "$W/gpt2.json"
"$UNIAP" model "$W/gpt2.json" >"$W/gpt2.txt" 2>&1
check "the dump reads back: 124,439,808" grep -q "total parameters: 124439808" "$W/gpt2.txt"
"$UNIAP" estimate --model "$HF/gpt2" --cluster a100-40g-1x8 --global-batch 8 --pp 1 --dp 8 \
    --tp 1 --micro-batches 1 >"$W/est.txt" 2>"$W/est.err"
check "uniap estimate --model DIR exits 0" test $? -eq 0
check "the estimate names the model" grep -q "gpt2\|GPT2LMHeadModel" "$W/est.txt"
E="--cluster a100-40g-1x8 --global-batch 8 --pp 1 --dp 8 --tp 1 --micro-batches 1"
# --seq-len: Llama-3-8B at 2048 tokens (the default would be 8192)
"$UNIAP" estimate --model "$HF/llama-3-8b" --seq-len 2048 --cluster h100-80g-4x8 --global-batch 32 --pp 4 --dp 1 --tp 8 --micro-batches 32 >"$W/seq.txt" 2>"$W/seq.err"
check "--seq-len 2048 on a config" test $? -eq 0
# model FLOPs at 2048 tokens, by hand: 32 x 2048 tokens x (6 x 7,504,924,672
# non-embedding parameters + 12 x 32 layers x 4096 x 2048) = 3.162e15
check "... the model is costed at 2048 tokens" grep -q "(3.162 model PFLOP" "$W/seq.txt"
"$UNIAP" estimate --model "$HF/mistral-7b" --seq-len 8192 $E >"$W/win.txt" 2>"$W/win.err"
rc=$?
check "--seq-len past Mistral's window refused (exit 2)" test $rc -eq 2
check "... naming sliding_window" grep -q "config.json: sliding_window: 4096 tokens" "$W/win.err"
"$UNIAP" estimate --model gpt3-175b --seq-len 4096 $E >"$W/pos.txt" 2>"$W/pos.err"
rc=$?
check "--seq-len past learned positions refused (exit 2)" test $rc -eq 2
check "... naming the option and the field" grep -q -- "--seq-len: layers\[0\].max_positions" "$W/pos.err"
"$UNIAP" model "$HF/mixtral-8x7b" >"$W/mix.txt" 2>"$W/mix.err"
rc=$?
check "Mixtral read (exit 0)" test $rc -eq 0
check "Mixtral: a moe run of 32 layers" grep -Eq "^1-32 +moe +32" "$W/mix.txt"
check "Mixtral: 46.7B parameters (Mistral AI)" grep -q "total parameters: 46702792704" "$W/mix.txt"
check "Mixtral: 12.9B active (Mistral AI)" grep -q "active parameters per token: 12879925248" "$W/mix.txt"
[ $fail -eq 0 ] || { echo "--- outputs"; tail -n 5 "$W"/*.txt "$W"/*.err; }
exit $fail
