#!/bin/sh
# parallelism.sh - issue 15's benchmarks, as a user runs them: `uniap plan`
# (analytic profile, the default node limit, 1 rank) on the parallelism of
# today's large runs, one Markdown table per question:
#   cp    Llama-3-8B's shape (its published Hugging Face config) at 131,072
#         tokens on 8, 64 and 1,024 H100; Llama-70B at 32,768 tokens on 64,
#         256 and 1,024 H100; and Llama-3-8B at 4,096 tokens on 64 H100,
#         where cp must not win (cp is not searched below 8,192 tokens by
#         default: --max-cp 8 forces it into the search there)
#   moe   Mixtral-8x7B on 8, 64 and 256 H100 and DeepSeek-V2-Lite on 64,
#         global batch 256 of 4,096 tokens
#   vpp   GPT-3 175B on 1,024 and 4,096 A100-80GB (batch 1536) with every
#         schedule searched (--schedule all: gpipe, 1f1b, interleaved v,
#         zb-h1), beside 1F1B only
# Columns: the plan's degrees (of the strategy most layers have), the
# pipeline (deg, micro-batches, schedule, v), predicted MFU, the pipeline's
# idle share of the TPI (TPI - c x slowest stage - tail: the bubble), status,
# search wall time and peak RSS.
# Usage: parallelism.sh UNIAP [WORKDIR] [cp|moe|vpp ...]  (all: ~10 min on 2 cores)
set -u
UNIAP=$1 W=${2:-${TMPDIR:-/tmp}/uniap-parallelism}
shift $(($# >= 2 ? 2 : $#))
parts=${*:-cp moe vpp}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/plan_bench.sh"
rm -rf "$W" && mkdir -p "$W" || exit 1
cd "$W" || exit 1
# Meta-Llama-3-8B's config.json (the fields uniap reads)
llama_config llama-3-8b Meta-Llama-3-8B 4096 14336 32 32 8
for n in 1 8 32 128; do cluster h100-80g-4x8 $n h100-${n}x8; done
for n in 128 512; do cluster a100-80g-2x8 $n a100-${n}x8; done
header() {
    echo
    echo "| case | devices | dp | cp | ep | tp | pp deg / c / schedule / v | MFU | idle | status | search (s) | RSS (MiB) |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
}
row() { # label tag model cluster batch [options]
    label=$1
    shift
    plan_run "$@"
    echo "| $label | ${dev:--} | $(dim "$block" dp) | $(dim "$block" cp) | $(dim "$block" ep) |" \
        "$(dim "$block" tp) | ${deg:--} / ${mb:--} / ${sched:--} / ${v:--} | ${mfu:--} |" \
        "${idle:--} | $st | $wall | $rss |"
}
for part in $parts; do
    case $part in
    cp)
        header
        row "Llama-3-8B, 8 x 131072 tokens" l8-8 llama-3-8b h100-1x8 8 --seq-len 131072
        row "Llama-3-8B, 32 x 131072 tokens" l8-64 llama-3-8b h100-8x8 32 --seq-len 131072
        row "Llama-3-8B, 128 x 131072 tokens" l8-1k llama-3-8b h100-128x8 128 --seq-len 131072
        row "Llama-70B, 32 x 32768 tokens" l70-64 llama-70b h100-8x8 32 --seq-len 32768
        row "Llama-70B, 64 x 32768 tokens" l70-256 llama-70b h100-32x8 64 --seq-len 32768
        row "Llama-70B, 256 x 32768 tokens" l70-1k llama-70b h100-128x8 256 --seq-len 32768
        row "Llama-3-8B, 256 x 4096 tokens, --max-cp 8" l8-short llama-3-8b h100-8x8 256 \
            --seq-len 4096 --max-cp 8
        ;;
    moe)
        header
        row "Mixtral-8x7B, 256 x 4096" mx-8 mixtral-8x7b h100-1x8 256
        row "Mixtral-8x7B, 256 x 4096" mx-64 mixtral-8x7b h100-8x8 256
        row "Mixtral-8x7B, 256 x 4096" mx-256 mixtral-8x7b h100-32x8 256
        row "DeepSeek-V2-Lite, 256 x 4096" ds-64 deepseek-v2-lite h100-8x8 256
        ;;
    vpp)
        header
        row "GPT-3 175B, B=1536, 1f1b" g-1k-1 gpt3-175b a100-128x8 1536
        row "GPT-3 175B, B=1536, all schedules" g-1k-all gpt3-175b a100-128x8 1536 --schedule all
        row "GPT-3 175B, B=1536, 1f1b" g-4k-1 gpt3-175b a100-512x8 1536
        row "GPT-3 175B, B=1536, all schedules" g-4k-all gpt3-175b a100-512x8 1536 --schedule all
        ;;
    *) echo "parallelism.sh: unknown part '$part' (want cp, moe or vpp)" >&2; exit 2 ;;
    esac
done
