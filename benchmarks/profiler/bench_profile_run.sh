#!/bin/bash
# bench_profile_run.sh - wall time of a default profiling run with 2 ranks
# (every default: micro-batches 1,2,4; tp = divisors of ranks per node;
# collectives 4 KiB to 256 MiB doubling, 5 warm-up + 20 timed iterations).
# usage: bench_profile_run.sh UNIAP MODEL [OUT_DIR]
set -eu
UNIAP=$1 MODEL=$2 OUT=${3:-.}
start=$(date +%s.%N)
mpirun --allow-run-as-root --oversubscribe -np 2 "$UNIAP" profile --model "$MODEL" \
    --out "$OUT/bench-default.h5"
end=$(date +%s.%N)
echo "default 2-rank profile of $MODEL: $(echo "$end - $start" | bc) s wall"
