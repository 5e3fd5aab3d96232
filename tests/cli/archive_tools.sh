#!/bin/sh
# archive_tools.sh - `uniap archive` on crafted files: an empty folder
# lists cleanly (was qsort(NULL), caught by UBSan); verify fails a profile
# whose world_size is 0 or -5, naming the file; control characters in
# string attributes and file names are printed escaped by list and show;
# merge and export check their outputs before reading anything (an output
# that is an input, directly or through a link, a missing folder, a device)
# and `export --csv - --table T` writes one table to standard output.
# Usage: archive_tools.sh UNIAP EDIT_PROFILE GOLDEN_H5 WORKDIR
set -u
UNIAP=$1 EDIT=$2 GOLDEN=$3 W=$4
rm -rf "$W" && mkdir -p "$W/empty" "$W/arch" && cd "$W" || exit 1
. "$(dirname "$0")/devnodes.sh" # FULL, NULLDEV
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fail=0
bad() { echo "FAIL: $*"; fail=1; }
# run NAME WANT_EXIT ARGS...: `uniap archive ARGS`, output in NAME.out/.err
run() {
    name=$1 want=$2
    shift 2
    "$UNIAP" archive "$@" >"$name.out" 2>"$name.err"
    rc=$?
    [ $rc -eq "$want" ] || bad "$name: exit $rc, want $want: $(cat "$name.err" "$name.out")"
}
has() { grep -qF -- "$3" "$1.$2" || bad "$1: $2 lacks '$3': $(cat "$1.$2")"; }
esc=$(printf '\033')

run empty 0 list empty
has empty out "0 datasets, 0 corrupt"

for ws in 0 -5; do
    "$EDIT" "$GOLDEN" "ws$ws.h5" "world_size=$ws" || bad "edit_profile world_size=$ws"
    run "verify$ws" 2 verify "ws$ws.h5"
    has "verify$ws" out "FAIL  ws$ws.h5"
    has "verify$ws" out "world_size"
done

# a control character in a string attribute: the reader may refuse the file
# (a forged attribute) or show it escaped, but never prints it raw; the
# file name's control characters are escaped in every line naming it
"$EDIT" "$GOLDEN" "arch/ctl${esc}[2Jname.h5" "provenance=m${esc}[31mred" ||
    bad "edit_profile provenance"
"$EDIT" "$GOLDEN" "arch/job${esc}[2J.h5" "slurm_job_id=42$(printf '\007\r')x" ||
    bad "edit_profile slurm_job_id"
cp "$GOLDEN" "arch/plain${esc}[2J.h5"
run list 0 list arch
has list out 'ctl\x1b[2Jname.h5'
has list out 'plain\x1b[2J.h5'
has list out '3 datasets'
for f in "ctl${esc}[2Jname.h5" "job${esc}[2J.h5" "plain${esc}[2J.h5"; do
    "$UNIAP" archive show "arch/$f" >show.out 2>show.err
    rc=$?
    if [ $rc -eq 0 ]; then
        grep -qF 'plain\x1b[2J.h5' show.out || grep -qF 'm\x1b[31mred' show.out ||
            grep -qF '42\x07\rx' show.out || bad "show $f: nothing escaped: $(cat show.out)"
    else
        grep -qF '\x1b[2J' show.err || bad "show $f: exit $rc, file name not escaped: $(cat show.err)"
    fi
    ! grep -q "$esc" show.out show.err || bad "show $f: a raw ESC byte was printed"
    "$UNIAP" archive verify "arch/$f" >verify.out 2>&1
    ! grep -q "$esc" verify.out || bad "verify $f: a raw ESC byte was printed"
done
! grep -q "$esc" list.out list.err || bad "list: a raw ESC byte was printed"
! grep -q "$(printf '\007')" list.out || bad "list: a raw BEL byte was printed"

# merge: the output is never an input, and is checked before any reading
cp "$GOLDEN" a.h5
cp a.h5 a.keep
ln -s a.h5 link.h5
run merge_same 2 merge a.h5 "$GOLDEN" a.h5
has merge_same err "same file"
run merge_link 2 merge link.h5 "$GOLDEN" a.h5
has merge_link err "same file"
cmp -s a.h5 a.keep || bad "merge replaced its input"
[ -L link.h5 ] || bad "merge replaced the symlink"
run merge_nofolder 2 merge nosuch/m.h5 "$GOLDEN" a.h5
has merge_nofolder err "nosuch"
run merge_dev 2 merge "$FULL" "$GOLDEN" a.h5
[ -c "$FULL" ] || bad "$FULL is no longer a device"
run merge_ok 0 merge m.h5 "$GOLDEN" a.h5
run merge_again 0 verify m.h5

# export: folders, standard output, one table
run export_stdout 0 export "$GOLDEN" --csv - --table layers
rows=$(wc -l <export_stdout.out)
[ "$rows" -eq 41 ] || bad "export --csv - --table layers: $rows lines, want 41"
head -1 export_stdout.out | grep -q '^layer_type,' || bad "export to stdout: no CSV header"
run export_all_stdout 2 export "$GOLDEN" --csv -
has export_all_stdout err "--table"
echo text >afile
run export_file 2 export "$GOLDEN" --csv afile
has export_file err "--csv afile"
[ "$(cat afile)" = text ] || bad "export replaced a file"
run export_nofolder 2 export "$GOLDEN" --csv nosuch/deeper
[ ! -e nosuch ] || bad "export created folders on a refused output"
mkdir -p into
cp "$GOLDEN" into/layers.csv
run export_input 2 export into/layers.csv --csv into
has export_input err "same file"
cmp -s "$GOLDEN" into/layers.csv || bad "export replaced its input"
run export_ok 0 export "$GOLDEN" --csv csv
[ "$(wc -l <csv/layers.csv)" -eq 41 ] || bad "csv/layers.csv rows"
run export_one 0 export "$GOLDEN" --csv one --table collectives
[ -f one/collectives.csv ] && [ ! -e one/layers.csv ] || bad "--table wrote the wrong files"
run export_bad_table 2 export "$GOLDEN" --csv one --table nosuch
has export_bad_table err "--table"
! grep -q '\.c:[0-9]' ./*.err || bad "a message carries a source location"

[ $fail -eq 0 ] && echo "PASS"
exit $fail
