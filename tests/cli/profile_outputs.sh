#!/bin/sh
# profile_outputs.sh - `uniap profile` never destroys an input or an
# existing profile, and refuses a bad --out before any measurement: the
# model spec as --out (directly, through a symlink, through a hard link)
# exits 2 with the spec intact; an existing complete profile is kept unless
# --force (an incomplete one points to --resume; --resume of a complete one
# says so); a missing folder, a folder, /dev/full and /dev/stdout fail
# with no measurement progress on stderr (the proof that nothing was
# measured) and within a few seconds of the start-up of MPI (measured on
# `uniap model --list` as the baseline, twice over plus 3 s, since a
# loaded machine is slow to start any MPI process: a sweep takes tens).
# Usage: profile_outputs.sh UNIAP EDIT_PROFILE TINY_MODEL_JSON WORKDIR
set -u
UNIAP=$1 EDIT=$2 MODEL=$3 W=$4
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1
. "$(dirname "$0")/devnodes.sh" # FULL, NULLDEV
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# a fast sweep: one micro-batch, layers only, one pass each
FAST="--micro-batches 1 --skip-collectives --layer-warmup 0 --layer-iters 1"

t0=$(date +%s%N)
"$UNIAP" model --list >/dev/null 2>&1
base=$((($(date +%s%N) - t0) / 1000000))

# expect_refused NAME WANT_TEXT ARGS...: exit 2, stderr has WANT_TEXT and no
# measurement progress, within a few seconds; stdout empty
expect_refused() {
    name=$1 want=$2
    shift 2
    t0=$(date +%s%N)
    "$UNIAP" profile "$@" >"$name.out" 2>"$name.err"
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    [ $rc -eq 2 ] || bad "$name: exit $rc, want 2: $(cat "$name.err")"
    grep -qF -- "$want" "$name.err" || bad "$name: stderr lacks '$want': $(cat "$name.err")"
    ! grep -q "%\]\|items to measure" "$name.err" || bad "$name: measured before refusing"
    [ $ms -lt $((2 * base + 3000)) ] || bad "$name: took $ms ms to refuse (MPI start-up: $base ms)"
    [ ! -s "$name.out" ] || bad "$name: wrote to stdout"
}

cp "$MODEL" t.json
ln -s t.json sym.json
ln t.json hard.json
expect_refused same "same file as --model" --model t.json --out t.json $FAST
expect_refused symlink "same file as --model" --model t.json --out sym.json $FAST
expect_refused hardlink "same file as --model" --model t.json --out hard.json $FAST
cmp -s "$MODEL" t.json || bad "the model spec was changed"
[ -L sym.json ] || bad "the symlink was replaced"

expect_refused nofolder "--out" --model t.json --out nosuch/p.h5 $FAST
expect_refused folder "--out" --model t.json --out "$W" $FAST
expect_refused devfull "--out $FULL" --model t.json --out "$FULL" $FAST
# stdout a pipe: /dev/stdout leads to a FIFO, never a regular file
"$UNIAP" profile --model t.json --out /dev/stdout $FAST 2>devstdout.err | cat >devstdout.out
grep -qF -- "--out /dev/stdout" devstdout.err || bad "devstdout: not refused: $(cat devstdout.err)"
[ ! -s devstdout.out ] || bad "devstdout: a profile went to the pipe"
[ -c "$FULL" ] || bad "$FULL is no longer a device"

# an existing complete profile: kept unless --force
"$UNIAP" profile --model t.json --out p.h5 $FAST 2>first.err || bad "first profile: $(cat first.err)"
cp p.h5 p.keep
expect_refused complete "--force" --model t.json --out p.h5 $FAST
cmp -s p.h5 p.keep || bad "the complete profile was replaced"
"$UNIAP" profile --model t.json --out p.h5 --force $FAST 2>force.err || bad "--force: $(cat force.err)"
grep -q "wrote p.h5" force.err || bad "--force did not write: $(cat force.err)"
# --resume of a complete profile: nothing to do, said so
"$UNIAP" profile --model t.json --resume p.h5 $FAST 2>resume.err
rc=$?
[ $rc -eq 0 ] || bad "--resume of a complete profile: exit $rc"
grep -q "already complete" resume.err || bad "--resume of a complete profile: $(cat resume.err)"
# an incomplete one: --out points to --resume
"$EDIT" p.h5 part.h5 complete=0 || bad "edit_profile failed"
cp part.h5 part.keep
expect_refused incomplete "--resume part.h5" --model t.json --out part.h5 $FAST
cmp -s part.h5 part.keep || bad "the incomplete profile was replaced"
# any other file is not replaced either
echo notes >notes.h5
expect_refused other "--force" --model t.json --out notes.h5 $FAST
[ "$(cat notes.h5)" = notes ] || bad "a file that is no profile was replaced"
# every option range-checked at parse time, the error naming the option
i=0
for case in "--iters 0" "--warmup -1" "--micro-batches 0" "--micro-batches 1,,2" \
    "--min-bytes 99999999999999999999" "--max-bytes 5G" "--time-limit nan" "--time-limit 0" \
    "--ranks-per-node 99999999999" "--backend gpu" "--collectives all_reduce,bogus" \
    "--layer-iters 3x" "--iters 5 --iters 6"; do
    i=$((i + 1))
    opt=${case%% *}
    # shellcheck disable=SC2086 # the case is meant to split
    expect_refused "opt$i" "$opt" --model t.json --out o.h5 $case
done
[ ! -e o.h5 ] || bad "a bad option left o.h5 behind"
expect_refused minmax "--min-bytes" --model t.json --out o.h5 --min-bytes 1M --max-bytes 4K

# --resume compares the stored model as a model, not as text: a profile whose
# model_spec is spelled differently (here the hand-written spec, not the
# canonical dump; older builds dumped derived fields too) still resumes
"$EDIT" p.h5 old.h5 complete=0 model_spec=@t.json || bad "edit_profile model_spec"
"$UNIAP" profile --model t.json --resume old.h5 $FAST 2>old.err
rc=$?
[ $rc -eq 0 ] || bad "--resume of a profile with a differently spelled model: exit $rc: $(cat old.err)"
"$UNIAP" archive verify old.h5 >/dev/null 2>&1 || bad "resumed old.h5 does not verify"

# no message carries a source location (only --debug shows them)
! grep -q '\.c:[0-9]' ./*.err || bad "a message carries a source location: $(grep '\.c:[0-9]' ./*.err)"

[ $fail -eq 0 ] && echo "PASS"
exit $fail
