#!/bin/sh
# largest.sh - issue 13 item 3, the largest clusters: Llama-3.1-405B
# (126 blocks, h 16384, 128 heads, 8 kv heads, ffn 53248: its published
# Hugging Face config's shape) on 16,384 H100 (2048 x 8) with 2048
# sequences of 8192 tokens; GPT-3 175B on 1,024 and 4,096 A100-80GB with
# batch 1536; a 1T-class GPT (128 blocks, h 25600, 160 heads: Narayanan
# et al. 2021's 1T configuration) on 3,072 A100 with batch 3072. Analytic
# profiles, 1F1B, `uniap plan`'s defaults (node limit 4000), 1 rank.
# Prints one Markdown row per case: status, TPI, MFU, pairs, search wall
# time and peak RSS (GNU time, when installed).
# Usage: largest.sh UNIAP [WORKDIR]   (about 5 min on 2 cores)
set -u
UNIAP=$1 W=${2:-${TMPDIR:-/tmp}/uniap-largest}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plan_bench.sh"
rm -rf "$W" && mkdir -p "$W" || exit 1
cd "$W" || exit 1
# the specs, written from the published shapes
llama_config llama-3.1-405b Meta-Llama-3.1-405B 16384 53248 126 128 8
cat >gpt-1t.json <<'JSON'
{"name": "gpt-1t", "seq_len": 2048, "param_dtype": "bf16", "layers": [
 {"type": "embedding", "hidden": 25600, "vocab": 50257, "position": "learned", "max_positions": 2048},
 {"type": "decoder", "count": 128, "hidden": 25600, "heads": 160, "ffn": 102400,
  "activation": "gelu", "norm": "layernorm", "bias": true},
 {"type": "head", "hidden": 25600, "vocab": 50257, "norm": "layernorm", "tied": true}]}
JSON
cluster h100-80g-16x8 2048 h100-80g-2048x8
cluster a100-80g-2x8 128 a100-80g-128x8
cluster a100-80g-2x8 512 a100-80g-512x8
cluster a100-80g-2x8 384 a100-80g-384x8
echo "| case | devices | status | TPI (s) | MFU | pairs | search (s) | peak RSS (MiB) |"
echo "|---|---|---|---|---|---|---|---|"
run() { # label model cluster batch [extra]
    label=$1 cl=$3
    shift
    plan_run "$cl" "$@"
    echo "| $label | ${dev:--} | $st | ${tpi:--} | ${mfu:--} | ${pairs:--} | $wall | $rss |"
}
run "Llama-3.1-405B, 2048 x 8192 tokens" llama-3.1-405b h100-80g-2048x8 2048 --seq-len 8192
run "GPT-3 175B, B=1536" gpt3-175b a100-80g-128x8 1536
run "GPT-3 175B, B=1536" gpt3-175b a100-80g-512x8 1536
run "GPT 1T (128 x h 25600), B=3072" gpt-1t.json a100-80g-384x8 3072
