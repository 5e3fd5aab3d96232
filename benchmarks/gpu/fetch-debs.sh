#!/bin/bash
# fetch-debs.sh - downloads the Debian packages uniap builds and runs
# against (Open MPI, parallel HDF5, GLPK, cJSON, OpenBLAS) and the shared
# libraries they need, for a machine that has none of them and no package
# network (the GPU machine: benchmarks/gpu/README.md). Run it where apt
# works (this machine: Debian 12, amd64); run.sh unpacks the result with
# dpkg -x into a prefix of its own.
#
# The closure is computed by trial, not from apt's Depends (which pull in
# compilers, Fortran, LLVM and Perl): the seed packages are unpacked into a
# scratch prefix, every ELF file in it (libraries, mpirun/orted, Open MPI's
# plugins) is run through ldd with the prefix's library folders first, and
# each library that resolves outside the prefix is mapped to its package
# (dpkg -S: this machine has them installed) and added, until nothing new
# appears. The base system a CUDA image has anyway (glibc, libgcc_s,
# libstdc++) is left out: BASE below.
#
# usage: benchmarks/gpu/fetch-debs.sh [DIR]     (default benchmarks/gpu/debs)
# writes DIR/*.deb and DIR/MANIFEST (package version bytes sha256 why),
# and prints the total size (the device tool carries at most 64 MiB).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/debs}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# What uniap links or runs: headers and .so links (-dev), the runtime
# libraries, mpirun/orted and Open MPI's data files.
SEED="libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common
      libhdf5-openmpi-dev libhdf5-openmpi-103-1
      libglpk-dev libglpk40
      libcjson-dev libcjson1
      libopenblas-dev libopenblas0 libopenblas-pthread-dev libopenblas0-pthread"
# libhdf5-openmpi-dev's .so links name these (libhdf5_openmpi_hl etc.):
# dangling links would only make find_library pick a broken one.
SEED="$SEED libhdf5-openmpi-hl-100"
# On every glibc system (and newer there: these are backward compatible).
BASE_RE='^(libc6|libgcc-s1|libstdc\+\+6|libcrypt1)(:amd64)?$'

# Open MPI components whose libraries are not carried (InfiniBand, Omni-Path,
# libfabric, UCX: fabrics one GPU machine lacks). Their plugins stay but do
# not load; run.sh turns those messages off and picks ob1/vader/tcp.
SKIP_RE='^(libibverbs1|ibverbs-providers|librdmacm1|libfabric1|libucx0|libpsm-infinipath1|libpsm2-2|libnl-3-200|libnl-route-3-200|ocl-icd-libopencl1|libxnvctrl0|libx11-6|libxext6|libxcb1|libxau6|libxdmcp6|libx11-data)(:amd64)?$'

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

have() { [ -e "$scratch/done/$1" ]; }

fetch() { # fetch PKG WHY
    local p=${1%:amd64}
    have "$p" && return 0
    mkdir -p "$scratch/done"
    (cd "$dir" && ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download "$p" </dev/null >/dev/null 2>"$scratch/apt.err") || {
        echo "fetch-debs: apt-get download $p failed:" >&2
        tail -5 "$scratch/apt.err" >&2
        exit 1
    }
    dpkg -x "$dir/${p}"_*.deb "$scratch/root"
    echo "$2" >"$scratch/done/$p"
    echo "  + $p ($2)"
}

echo "fetch-debs: seed packages into $dir"
for p in $SEED; do fetch "$p" seed; done

# the library folders of the prefix, as run.sh sets LD_LIBRARY_PATH
libpath() {
    local r=$scratch/root
    echo "$r/usr/lib/x86_64-linux-gnu:$r/lib/x86_64-linux-gnu:$r/usr/lib/x86_64-linux-gnu/openmpi/lib:$r/usr/lib/x86_64-linux-gnu/hdf5/openmpi/lib:$r/usr/lib/x86_64-linux-gnu/openblas-pthread"
}

round=0
while :; do
    round=$((round + 1))
    new=0
    # ldd each ELF file once (files unpacked in an earlier round are done)
    find "$scratch/root" -type f \( -name '*.so*' -o -perm -u+x \) -print | sort >"$scratch/files"
    touch "$scratch/seen"
    comm -23 "$scratch/files" "$scratch/seen" |
        while read -r f; do
            file -b "$f" | grep -q '^ELF' || continue
            LD_LIBRARY_PATH=$(libpath) ldd "$f" 2>/dev/null |
                awk -v r="$scratch/root" '$2 == "=>" && $3 != "not" && index($3, r) != 1 {print $3}'
        done >>"$scratch/outside"
    mv "$scratch/files" "$scratch/seen"
    sort -u -o "$scratch/outside" "$scratch/outside"
    : >"$scratch/need"
    while read -r lib; do
        case $(basename "$lib") in # glibc, libgcc_s, libstdc++: BASE
        libc.so.* | libm.so.* | libdl.so.* | librt.so.* | libpthread.so.* | libresolv.so.* | \
            libutil.so.* | ld-linux*.so.* | libgcc_s.so.* | libstdc++.so.* | libcrypt.so.*)
            echo "$lib" >>"$scratch/need"
            continue
            ;;
        esac
        pkg=
        for q in "$lib" "$(readlink -f "$lib")" "${lib#/usr}" "$(readlink -f "$lib" | sed 's|^/usr||')"; do
            pkg=$(dpkg -S "$q" 2>/dev/null | head -1 | cut -d: -f1)
            [ -n "$pkg" ] && break
        done
        if [ -z "$pkg" ]; then
            echo "fetch-debs: no package owns $lib (needed by the prefix)" >&2
            exit 1
        fi
        if echo "$pkg" | grep -Eq "$BASE_RE|$SKIP_RE"; then
            echo "$lib ($pkg)" >>"$scratch/need"
            continue
        fi
        have "$pkg" && continue
        fetch "$pkg" "needs $(basename "$lib")"
        new=1
    done <"$scratch/outside"
    [ "$new" -eq 0 ] && break
done

# left out on purpose: what the prefix needs from BASE or SKIP
echo "fetch-debs: libraries taken from the host (BASE) or left out (SKIP, Open MPI fabric plugins):"
sed 's/^/    /' "$scratch/need"

{
    echo "# uniap GPU-machine packages: fetched $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME") by benchmarks/gpu/fetch-debs.sh"
    echo "# package version bytes sha256 why"
    for d in "$scratch"/done/*; do
        p=$(basename "$d")
        f=$(ls "$dir/${p}"_*.deb)
        v=$(dpkg-deb -f "$f" Version)
        printf '%s %s %s %s %s\n' "$p" "$v" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -d' ' -f1)" "$(cat "$d")"
    done
} >"$dir/MANIFEST"

# debs from an earlier run that this one no longer names
for f in "$dir"/*.deb; do
    p=$(basename "$f" | cut -d_ -f1)
    have "$p" || { echo "  - $p (no longer needed: removed)"; rm -f "$f"; }
done

n=$(ls "$dir"/*.deb | wc -l)
bytes=$(cat "$dir"/*.deb | wc -c)
unpacked=$(du -sk "$scratch/root" | cut -f1)
echo "fetch-debs: $n packages, $((bytes / 1024)) KiB of .deb ($((unpacked / 1024)) MiB unpacked) in $dir"
if [ "$bytes" -gt $((48 * 1024 * 1024)) ]; then
    echo "fetch-debs: WARNING: over 48 MiB; the device tool carries 64 MiB in all (working tree included)" >&2
fi
