#!/bin/sh
# h5dump_check.sh H5DUMP FILE [WRITER] - checks that h5dump reads a profile
# dataset and shows it readably: exit status 0, the root attributes and the
# table members by name, the op enum by its names, the Fletcher32 filter.
# With WRITER (test_profile_io), FILE is first written by `WRITER write`.
set -u
H5DUMP=$1
FILE=$2
WRITER=${3:-}
fail=0
if [ -n "$WRITER" ]; then
    mkdir -p "$(dirname "$FILE")"
    "$WRITER" write "$FILE" || { echo "FAIL: writer exited $?"; exit 1; }
fi
OUT=$FILE.dump.txt
"$H5DUMP" -p "$FILE" >"$OUT" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
    echo "FAIL: h5dump exited $rc"; cat "$OUT"; exit 1
fi
for needle in 'ATTRIBUTE "format"' '"uniap-profile"' 'ATTRIBUTE "format_version_major"' \
    'ATTRIBUTE "created"' 'ATTRIBUTE "git_revision"' 'ATTRIBUTE "command_line"' \
    'ATTRIBUTE "world_size"' 'ATTRIBUTE "slurm_job_id"' 'ATTRIBUTE "model_spec"' \
    'ATTRIBUTE "cluster_spec"' 'ATTRIBUTE "overlap_coefficient"' \
    'DATASET "ranks"' 'DATASET "layers"' 'DATASET "collectives"' \
    'ATTRIBUTE "units"' 'ATTRIBUTE "description"' 'fwd_median=s' 'algbw=B/s' \
    '"layer_type"' '"fwd_median"' '"bwd_count"' '"act_bytes"' '"host"' '"lib_versions"' \
    '"op"' '"busbw"' '"all_reduce"' 'CHECKSUM FLETCHER32' 'COMPRESSION DEFLATE' \
    'H5T_ENUM' 'H5T_COMPOUND'; do
    if ! grep -qF -- "$needle" "$OUT"; then
        echo "FAIL: h5dump output lacks $needle"; fail=1
    fi
done
# Data values print readably: a host name and a collective op by name.
grep -qE '"node[0-9]{3}.cluster' "$OUT" || { echo "FAIL: no host name in the data"; fail=1; }
grep -qE '(all_gather|reduce_scatter|broadcast|p2p)' "$OUT" || { echo "FAIL: no op names"; fail=1; }
[ $fail -eq 0 ] && echo "h5dump shows $(wc -l <"$OUT") lines; all names found"
exit $fail
