# plan_bench.sh - shell functions the plan benchmarks (largest.sh,
# parallelism.sh) share: cluster specs from presets, one timed
# `uniap plan` run, and the figures read back from its report and plan
# JSON. Sourced (". plan_bench.sh"), not run; needs UNIAP set.

# cluster PRESET NODES NAME: NAME.json, PRESET with NODES nodes
cluster() {
    "$UNIAP" cluster --json "$1" |
        sed "s/\"nodes\":[^,]*,/\"nodes\": $2,/; s/\"name\":[^,]*,/\"name\": \"$3\",/" >"$3.json"
}

# llama_config DIR NAME HIDDEN FFN LAYERS HEADS KV_HEADS: DIR/config.json,
# a Llama-3 Hugging Face config (the fields uniap reads) of that shape
# (vocabulary 128,256, rope theta 500,000, 131,072 positions, as Meta's
# Llama-3 and 3.1 configs publish them)
llama_config() {
    mkdir -p "$1" && cat >"$1/config.json" <<JSON
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "_name_or_path": "$2",
 "hidden_size": $3, "intermediate_size": $4, "num_hidden_layers": $5,
 "num_attention_heads": $6, "num_key_value_heads": $7, "vocab_size": 128256,
 "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
 "hidden_act": "silu", "tie_word_embeddings": false, "attention_bias": false,
 "mlp_bias": false, "torch_dtype": "bfloat16"}
JSON
}

# plan_run TAG MODEL CLUSTER BATCH [PLAN OPTIONS...]: runs uniap plan
# (under GNU time when installed, for the peak RSS), writes TAG.txt (the
# report), TAG.err, TAG.plan.json, and sets: st (status), tpi, mfu, pairs,
# dev (devices), wall (s), rss (MiB), deg, mb (micro-batches), sched, v
# (virtual stages), block (the strategy of the most layers), idle (the
# pipeline's idle share of the TPI: TPI - c x slowest stage - tail, in %).
plan_run() {
    tag=$1 model=$2 cl=$3 B=$4
    shift 4
    TIME=$(command -v /usr/bin/time || true)
    t0=$(date +%s.%N)
    if [ -n "$TIME" ]; then
        "$TIME" -f "%M" -o "$tag.rss" "$UNIAP" plan --model "$model" --cluster "$cl.json" \
            --global-batch "$B" "$@" --out "$tag.plan.json" >"$tag.txt" 2>"$tag.err"
    else
        "$UNIAP" plan --model "$model" --cluster "$cl.json" --global-batch "$B" "$@" \
            --out "$tag.plan.json" >"$tag.txt" 2>"$tag.err"
    fi
    t1=$(date +%s.%N)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    st=$(sed -n 's/^plan: .*schedule [^:]*: //p' "$tag.txt")
    if [ -z "$st" ]; then # the error, and the closest candidate when nothing fits
        st="failed: $(grep -m 1 'error:' "$tag.err" | sed 's/.*error: //')"
        st="$st$(sed -n 's/^ *closest: \(.*\)/ closest: \1/p' "$tag.err" | head -n 1)"
    fi
    tpi=$(sed -n 's/^TPI \([0-9.]*\) s.*/\1/p' "$tag.txt")
    mfu=$(sed -n 's/^TPI .* MFU \([0-9.]* %\).*/\1/p' "$tag.txt")
    pairs=$(sed -n 's/^TPI .*; \([0-9]*\) pairs.*/\1/p' "$tag.txt")
    rss=$([ -s "$tag.rss" ] && tail -n 1 "$tag.rss" | awk '{ printf "%.0f", $1 / 1024 }' || echo -)
    dev=$(sed -n 's/.*(\([0-9]*\) devices).*/\1/p' "$tag.err" | head -n 1)
    deg=$(sed -n 's/^plan: deg \([0-9]*\),.*/\1/p' "$tag.txt")
    mb=$(sed -n 's/^plan: deg [0-9]*, \([0-9]*\) micro-batches.*/\1/p' "$tag.txt")
    sched=$(sed -n 's/^plan: .*schedule \([^:]*\):.*/\1/p' "$tag.txt")
    v=$(sed -n 's/.*"virtual_stages":[^0-9]*\([0-9]*\).*/\1/p' "$tag.plan.json" 2>/dev/null)
    # the layer table: "first-last kind stage strategy"; the most layers
    block=$(awk '$1 ~ /^[0-9]+-[0-9]+$/ && NF == 4 { split($1, r, "-");
                     n[$4] += r[2] - r[1] + 1 }
                 END { for (s in n) if (n[s] > m) { m = n[s]; b = s } print b }' "$tag.txt")
    idle=$([ -s "$tag.plan.json" ] && awk -v c="${mb:-1}" '
        /"tpi":/ { gsub(/[",]/, ""); tpi = $2 }
        /"compute":/ { gsub(/[",]/, ""); t = $2 }
        /"comm":/ { gsub(/[",]/, ""); if (t + $2 > m) m = t + $2 }
        /"tail":/ { gsub(/[",]/, ""); if ($2 > tail) tail = $2 }
        END { if (tpi <= 0) { print "-"; exit } r = 100 * (tpi - c * m - tail) / tpi;
              printf "%.1f %%", (r < 0 && r > -0.05) ? 0 : r }' \
        "$tag.plan.json" || echo -)
}

# dim BLOCK NAME: the degree of one dimension (dp, cp, ep, tp) in a
# strategy name such as dp64.ep8.tp4c.zero3 (1 when absent)
dim() {
    [ -n "$1" ] || { echo -; return; }
    echo "$1" | awk -v d="$2" '{ n = split($0, f, "."); for (i = 1; i <= n; i++)
        if (f[i] ~ "^" d "[0-9]") { sub("^" d, "", f[i]); print f[i] + 0; exit } print 1 }'
}
