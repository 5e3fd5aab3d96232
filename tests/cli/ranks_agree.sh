#!/bin/sh
# ranks_agree.sh - under mpirun the ranks agree on their inputs before any
# work: one rank's own load error reaches the output (rank 0 prints it,
# naming the rank), ranks given different arguments or different spec
# contents are refused naming the rank (also --help on one rank only, for
# every command, and archive's command line), and nothing hangs. Each rank's
# arguments come from a wrapper choosing by OMPI_COMM_WORLD_RANK.
# Usage: ranks_agree.sh UNIAP MPIEXEC TINY_MODEL_JSON WORKDIR
set -u
UNIAP=$1 MPIEXEC=$2 MODEL=$3 W=$4
rm -rf "$W" && mkdir -p "$W/r0" "$W/r1" && cd "$W" || exit 1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
cp "$MODEL" r0/m.json
# the same file name, another model on rank 1's side
"$UNIAP" model --json gpt-tiny >r1/m.json || bad "model --json gpt-tiny"
cp "$MODEL" t.json

# rank 1 runs `uniap $R1`, the others `uniap $R0`, in folder r<rank>
cat >wrap.sh <<WRAP
#!/bin/sh
r=\${OMPI_COMM_WORLD_RANK:-0}
cd "$W/r\$r" || exit 1
if [ "\$r" = 1 ]; then exec "$UNIAP" \$R1; fi
exec "$UNIAP" \$R0
WRAP
chmod +x wrap.sh

# run NAME WANT_EXIT R0 R1: 2 ranks, at most 60 s, output in NAME.log
run() {
    R0=$3 R1=$4 timeout 60 "$MPIEXEC" -np 2 --oversubscribe -x R0 -x R1 ./wrap.sh >"$1.log" 2>&1
    rc=$?
    [ $rc -ne 124 ] || bad "$1: hung (killed after 60 s)"
    if [ "$2" = nonzero ]; then
        [ $rc -ne 0 ] || bad "$1: exit 0, want a failure"
    elif [ $rc -ne "$2" ]; then
        bad "$1: exit $rc, want $2: $(cat "$1.log")"
    fi
}
expect() { grep -qF -- "$2" "$1.log" || bad "$1: output lacks '$2': $(cat "$1.log")"; }

FAST="--micro-batches 1 --skip-collectives --layer-warmup 0 --layer-iters 1"
run nosuch nonzero "profile --model $W/t.json --out $W/p.h5 $FAST" \
    "profile --model nosuch --out $W/p.h5 $FAST"
expect nosuch "nosuch"
expect nosuch "rank 1"
[ ! -e p.h5 ] || bad "nosuch: a profile was written"

run othermodel 2 "profile --model $W/t.json --out $W/p.h5 $FAST" \
    "profile --model gpt-tiny --out $W/p.h5 $FAST"
expect othermodel "rank 1"
[ ! -e p.h5 ] || bad "othermodel: a profile was written"

# same arguments, different file contents on the two ranks
run otherspec 2 "profile --model m.json --out $W/p.h5 $FAST" \
    "profile --model m.json --out $W/p.h5 $FAST"
expect otherspec "rank 1"
expect otherspec "model spec"
run modelspec 2 "model m.json" "model m.json"
expect modelspec "rank 1"

# an option error on one rank only
run badopt 2 "profile --model $W/t.json --out $W/p.h5 $FAST" \
    "profile --model $W/t.json --out $W/p.h5 $FAST --iters 0"
expect badopt "--iters"
run cluster nonzero "cluster a100-80g-2x8" "cluster nosuch-cluster"
expect cluster "nosuch-cluster"

# --help on one rank only: refused on every rank (none goes on alone into
# the collectives, none hangs); on every rank alike: printed once, exit 0
SMALL="--model gpt-tiny --cluster titanxp-2x4 --global-batch 8"
for args in "model gpt-tiny" "cluster titanxp-2x4" "profile --model $W/t.json --out $W/h.h5 $FAST" \
    "plan $SMALL" "estimate $SMALL --dp 8 --tp 1 --pp 1 --micro-batches 1"; do
    c=${args%% *}
    run help1$c 2 "$c --help" "$args"
    expect help1$c "rank 1"
    expect help1$c "command line"
done
[ ! -e h.h5 ] || bad "help1profile: a profile was written"
run helpall 0 "model --help" "model --help"
[ "$(grep -c "^usage: " helpall.log)" -eq 1 ] || bad "helpall: help not printed once"

# the same inputs everywhere still work, printed once
run same 0 "model $W/t.json" "model $W/t.json"
[ "$(grep -c "total parameters" same.log)" -eq 1 ] || bad "same: not printed once by rank 0"
R0="profile --model $W/t.json --out $W/p.h5 $FAST"
R0=$R0 R1=$R0 timeout 60 "$MPIEXEC" -np 2 --oversubscribe -x R0 -x R1 ./wrap.sh >ok.log 2>&1 ||
    bad "2 ranks, same inputs: $(cat ok.log)"
[ -s p.h5 ] || bad "2 ranks, same inputs: no profile"

# archive: the same start-up agreement (then rank 0 alone does the work)
run archivediff 2 "archive show $W/p.h5" "archive show $W/other.h5"
expect archivediff "rank 1"
expect archivediff "command line"
run archivesame 0 "archive show $W/p.h5" "archive show $W/p.h5"

[ $fail -eq 0 ] && echo "PASS"
exit $fail
