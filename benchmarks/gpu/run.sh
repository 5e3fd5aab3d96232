#!/bin/bash
# run.sh - the one prepared script for the GPU machine (issue 17): builds
# uniap with CUDA for sm_90 against Debian packages carried in
# benchmarks/gpu/debs (fetch-debs.sh), runs prof_cuda_vs_cpu, profiles
# Llama-7B and GPT-3-class layers on the one GPU (tp 1 and the tp 2/4/8
# shard shapes, micro-batches 1,2,4,8), times the same layers in PyTorch,
# writes the uniap/PyTorch ratio table, runs NCCL's trivial one-GPU groups,
# verifies and plans on the profile, and copies the results to $OUT.
# benchmarks/gpu/README.md says how to call it through the device tool.
#
# usage: benchmarks/gpu/run.sh [--dry-run] [--budget S] [--work DIR]
#                              [--debs DIR] [--jobs N] [--only STAGES]
#   --dry-run   everything a CPU can check: unpack the debs, build against
#               them WITHOUT CUDA, a CPU profile of the same layers (about a
#               minute), the PyTorch script's shapes (no torch needed), the
#               ratio table's join (self-check); GPU stages print SKIP
#   --budget S  wall seconds for the whole run (default 360: with the
#               machine's start, about half of a session's 15 device
#               minutes); each stage gets its cap or what is left, less a
#               reserve for the summary
#   --work DIR  scratch (default build-gpu, build-gpu-dry for --dry-run):
#               DIR/deps (the unpacked prefix), DIR/build, DIR/results
#   --only L    comma list of stages to run (others SKIP), for a rerun
#   --models L  comma list of zoo models (default llama-7b,gpt3-175b; the
#               dry run puts gpt-tiny first: the plan stage needs tp 1)
#   --uniap EXE --mpiexec EXE  (with --dry-run) use this built uniap and
#               mpiexec, no unpack or build: the quick check CI runs
#               (tests/.. gpu_dry_run: --models gpt-tiny --quick-limit 10)
#   --quick-limit S  the dry run's --time-limit per model profile (50)
# Results: DIR/results, and copied to $OUT when it is set (the device
# tool's folder: at most 8 files come back, so the logs go as one tarball).
# Exit status: 0 when every stage that ran passed, 1 otherwise.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
dry=0 budget=360 work='' debs=$here/debs jobs=$(nproc 2>/dev/null || echo 2) only=''
models="llama-7b gpt3-175b" given_uniap='' given_mpiexec='' quick_limit=50
while [ $# -gt 0 ]; do
    case $1 in
    --dry-run) dry=1 ;;
    --budget) budget=$2; shift ;;
    --work) work=$2; shift ;;
    --debs) debs=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    --only) only=$2; shift ;;
    --models) models=$(echo "$2" | tr ',' ' '); shift ;;
    --uniap) given_uniap=$2; shift ;;
    --mpiexec) given_mpiexec=$2; shift ;;
    --quick-limit) quick_limit=$2; shift ;;
    -h | --help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
    esac
    shift
done
case $budget$quick_limit in '' | *[!0-9]*) echo "run.sh: --budget and --quick-limit expect whole seconds" >&2; exit 2 ;; esac
if [ -n "$given_uniap" ]; then
    [ $dry -eq 1 ] && [ -x "$given_uniap" ] && [ -x "$given_mpiexec" ] ||
        { echo "run.sh: --uniap EXE goes with --dry-run and --mpiexec EXE (both executable)" >&2; exit 2; }
fi
[ $dry -eq 1 ] && [ "$models" = "llama-7b gpt3-175b" ] && models="gpt-tiny $models"
[ -n "$work" ] || { [ $dry -eq 1 ] && work=$src/build-gpu-dry || work=$src/build-gpu; }
mkdir -p "$work"
work=$(cd "$work" && pwd)
tag=h200
[ $dry -eq 1 ] && tag='dry-cpu'
P=$work/deps B=$work/build R=$work/results L=$work/deps/usr/lib/x86_64-linux-gnu
rm -rf "$R"
mkdir -p "$R/logs"
t0=$(date +%s)
deadline=$((t0 + budget))
reserve=20 # seconds kept for the summary and the copy to $OUT
summary=$R/summary.txt
: >"$R/stages"

note() { echo "run.sh: $*" | tee -a "$R/notes"; }

# stage NAME CAP 'shell command' [NEEDS...]: runs under timeout with its
# log in logs/NAME.log; records PASS, FAIL rc, TIMEOUT or SKIP (why), and
# prints the log's tail on failure; SKIP when a stage it NEEDS did not
# pass. Returns 0 even on failure (the run goes on).
stage() {
    local name=$1 cap=$2 cmd=$3 log=$R/logs/$1.log now left t rc s n
    shift 3
    if [ -n "$only" ] && ! echo ",$only," | grep -q ",$name,"; then
        echo "$name SKIP (not in --only) 0" >>"$R/stages"
        return 0
    fi
    for n in "$@"; do
        if ! passed "$n"; then
            echo "$name SKIP (needs $n) 0" >>"$R/stages"
            echo "== $name: SKIP (needs $n, which did not pass)"
            return 0
        fi
    done
    now=$(date +%s)
    left=$((deadline - now - reserve))
    t=$cap
    [ "$left" -lt "$t" ] && t=$left
    if [ "$t" -lt 5 ]; then
        echo "$name SKIP (budget spent) 0" >>"$R/stages"
        echo "== $name: SKIP (budget: ${left}s left)"
        return 0
    fi
    echo "== $name (limit ${t}s) $(date -u +%H:%M:%S)"
    set +e
    timeout --kill-after=10 "$t" bash -c "set -eu; set -o pipefail; $cmd" >"$log" 2>&1 </dev/null
    rc=$?
    set -e
    s=$(($(date +%s) - now))
    if [ $rc -eq 0 ]; then
        echo "$name PASS $s" >>"$R/stages"
        echo "   PASS in ${s}s"
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        echo "$name TIMEOUT($t) $s" >>"$R/stages"
        echo "   TIMEOUT after ${s}s; last lines of $log:"
        tail -n 25 "$log" | sed 's/^/   | /'
    elif [ $rc -eq 77 ]; then
        echo "$name SKIP (stage: $(tail -n 1 "$log" | cut -c1-60)) $s" >>"$R/stages"
        echo "   SKIP: $(tail -n 1 "$log")"
    else
        echo "$name FAIL($rc) $s" >>"$R/stages"
        echo "   FAIL (exit $rc) after ${s}s; last lines of $log:"
        tail -n 25 "$log" | sed 's/^/   | /'
    fi
}
gpu_stage() { # like stage, but SKIP under --dry-run
    if [ $dry -eq 1 ]; then
        echo "$1 SKIP (--dry-run: needs the GPU) 0" >>"$R/stages"
        echo "== $1: SKIP (--dry-run: needs the GPU)"
        return 0
    fi
    stage "$@"
}
passed() { grep -Eq "^$1 (PASS|SKIP \((not in --only|--uniap given)\))" "$R/stages"; }

finish() {
    local rc=0 n_fail
    {
        echo "uniap GPU run ($([ $dry -eq 1 ] && echo dry run || echo GPU run)): $(date -u +%Y-%m-%dT%H:%M:%SZ), $(($(date +%s) - t0)) s of a ${budget} s budget"
        echo "source: $(git -C "$src" describe --always --dirty 2>/dev/null || echo unknown)"
        echo
        printf '%-20s %-44s %6s\n' stage result seconds
        while read -r name rest; do
            s=${rest##* }
            printf '%-20s %-44s %6s\n' "$name" "${rest% *}" "$s"
        done <"$R/stages"
        [ -f "$R/notes" ] && { echo; cat "$R/notes"; }
        [ -f "$R/ratio.md" ] && { echo; echo "uniap / PyTorch:"; cat "$R/ratio.md"; }
    } >"$summary"
    n_fail=$(grep -Ec ' (FAIL|TIMEOUT)' "$R/stages" || true)
    [ "$n_fail" -gt 0 ] && rc=1
    if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then
        # shellcheck disable=SC2046 # the names that exist, none with spaces
        tar -C "$R" -czf "$OUT/logs.tar.gz" logs stages $(cd "$R" && ls notes env.txt *.csv *.md 2>/dev/null) 2>/dev/null || true
        for f in summary.txt ratio.md torch-layers.csv $(for m in $models; do echo $tag-$m.h5; done) nccl-1gpu.h5; do
            [ -f "$R/$f" ] && cp "$R/$f" "$OUT/" || true
        done
    fi
    echo
    cat "$summary"
    echo "results: $R${OUT:+ (copied to \$OUT)}"
    exit $rc
}
trap finish EXIT
trap 'echo "run.sh: interrupted"; exit 1' INT TERM

# ---- environment ------------------------------------------------------
export LC_ALL=C
prefix_env() { # the loader and Open MPI pointed at the prefix
    export PATH=$P/usr/bin:$PATH
    export LD_LIBRARY_PATH=$L:$L/openmpi/lib:$L/openblas-pthread:$L/hdf5/openmpi${NCCL_LIBDIR:+:$NCCL_LIBDIR}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export OPAL_PREFIX=$P/usr # Open MPI relocated: every configured path under it
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export OMPI_MCA_rmaps_base_oversubscribe=1
    # one machine: shared memory and TCP; the fabric plugins' libraries are
    # not carried (fetch-debs.sh SKIP) and would only complain
    export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader,tcp OMPI_MCA_osc=^ucx,rdma
    export OMPI_MCA_mca_base_component_show_load_errors=0
    export OMPI_MCA_btl_vader_single_copy_mechanism=none
    export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
}

prebuilt() { # with --uniap: the prefix and the build are not made
    if [ -n "$given_uniap" ]; then
        echo "$1 SKIP (--uniap given) 0" >>"$R/stages"
        echo "== $1: SKIP (--uniap $given_uniap)"
        return 0
    fi
    stage "$@"
}
stage env 30 "
    echo \"host: \$(uname -srm); \$(. /etc/os-release && echo \"\$PRETTY_NAME\"); glibc \$(ldd --version | head -1 | awk '{print \$NF}'); \$(nproc) cores\"
    echo \"cmake: \$(cmake --version | head -1); ninja: \$(ninja --version 2>/dev/null || echo none); cc: \$(cc --version 2>/dev/null | head -1 || echo none)\"
    echo \"nvcc: \$(nvcc --version 2>/dev/null | tail -2 | head -1 || echo none)\"
    echo \"python3: \$(python3 -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo none); torch: \$(python3 -c 'import torch; print(torch.__version__, torch.cuda.is_available())' 2>/dev/null || echo none); h5py: \$(python3 -c 'import h5py; print(h5py.__version__)' 2>/dev/null || echo none)\"
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>/dev/null || echo 'nvidia-smi: none'
    for c in dpkg-deb cmake timeout tar; do command -v \$c >/dev/null || echo \"missing: \$c\"; done
    echo \"debs: \$(ls '$debs'/*.deb 2>/dev/null | wc -l) in $debs\"
    [ -n '$given_uniap' ] || ls '$debs'/*.deb >/dev/null
"
cp "$R/logs/env.log" "$R/env.txt" 2>/dev/null || true

# ---- 1. the carried packages, unpacked into a prefix of their own --------
# dpkg -x, or Python's ar/tar reader where dpkg-deb is missing; then the
# link update-alternatives would have made.
prebuilt unpack 90 "
    rm -rf '$P'; mkdir -p '$P'
    n=0
    for f in '$debs'/*.deb; do
        if command -v dpkg-deb >/dev/null; then dpkg-deb -x \"\$f\" '$P'
        else python3 - \"\$f\" '$P' <<'PY'
import sys, tarfile, io
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'!<arch>\n'
o = 8
while o < len(data):
    name = data[o:o+16].decode().strip().rstrip('/'); size = int(data[o+48:o+58])
    body = data[o+60:o+60+size]; o += 60 + size + (size & 1)
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2])
PY
        fi
        n=\$((n + 1))
    done
    echo \"unpacked \$n packages into $P (\$(du -sm '$P' | cut -f1) MiB)\"
    # h5pcc.openmpi names /usr and, from HDF5's static link line, -lcurl
    # -lcrypto -lsz whose -dev links are not carried: configure passes it by
    # (HDF5_C_COMPILER_EXECUTABLE=/bin/false) and points HDF5_ROOT at
    # hdf5/openmpi, whose H5pubconf.h says parallel
    ln -sf libopenblas.so.0 '$L/openblas-pthread/libblas.so.3' 2>/dev/null || true
    ls '$L'/openmpi/lib/libmpi.so '$L'/hdf5/openmpi/libhdf5.so '$L'/libglpk.so '$L'/libcjson.so '$L'/openblas-pthread/libopenblas.so
"

# NCCL on the GPU machine: the system's, else the nvidia-nccl wheel's
NCCL_INC='' NCCL_LIB='' NCCL_LIBDIR=''
if [ $dry -eq 0 ]; then
    d=$(python3 -c 'import nvidia.nccl as m; print(list(m.__path__)[0])' 2>/dev/null || true)
    for cand in /usr/lib/x86_64-linux-gnu /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib ${d:+$d/lib}; do
        for so in "$cand/libnccl.so" "$cand"/libnccl.so.[0-9]*; do
            [ -f "$so" ] && { NCCL_LIB=$so NCCL_LIBDIR=$cand; break 2; }
        done
    done
    for cand in /usr/include /usr/local/cuda/include ${d:+$d/include}; do
        [ -f "$cand/nccl.h" ] && { NCCL_INC=$cand; break; }
    done
    note "NCCL: ${NCCL_LIB:-not found} (nccl.h in ${NCCL_INC:-none})"
    if ! command -v nvcc >/dev/null; then # CMake's check_language(CUDA) reads CUDACXX
        for c in /usr/local/cuda/bin/nvcc /usr/local/cuda-13*/bin/nvcc; do
            [ -x "$c" ] && { export CUDACXX=$c; break; }
        done
    fi
    note "nvcc: $(command -v nvcc || echo "${CUDACXX:-not found}")"
fi
if [ -z "$given_uniap" ]; then prefix_env; else
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
    export OMPI_MCA_btl_vader_single_copy_mechanism=none
fi

# ---- 2. configure and build -------------------------------------------
cuda_args="-DUNIAP_WITH_CUDA=OFF"
[ $dry -eq 0 ] && cuda_args="-DUNIAP_WITH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90${NCCL_LIB:+ -DNCCL_LIBRARY=$NCCL_LIB}${NCCL_INC:+ -DNCCL_INCLUDE_DIR=$NCCL_INC}"
gen=
command -v ninja >/dev/null && gen="-G Ninja"
prebuilt configure 120 "
    rm -rf '$B'
    cmake -S '$src' -B '$B' $gen -DCMAKE_BUILD_TYPE=Release $cuda_args \
        -DCMAKE_PREFIX_PATH='$P/usr' \
        -DMPI_C_COMPILER='$P/usr/bin/mpicc.openmpi' -DMPIEXEC_EXECUTABLE='$P/usr/bin/mpirun.openmpi' \
        -DHDF5_C_COMPILER_EXECUTABLE=/bin/false -DHDF5_ROOT='$L/hdf5/openmpi' \
        -DCBLAS_INCLUDE_DIR='$P/usr/include/x86_64-linux-gnu/openblas-pthread' \
        -DOPENBLAS_LIBRARY='$L/openblas-pthread/libopenblas.so' \
        -DH5DUMP_EXECUTABLE=H5DUMP_EXECUTABLE-NOTFOUND
    # every dependency from the prefix, none from the host's /usr
    leaks=\$(grep -E '^(MPI_[A-Za-z_]*LIBRARY|MPI_C_HEADER_DIR|HDF5_[A-Za-z_]*(LIBRARY|INCLUDE_DIR)[A-Za-z_]*|GLPK_[A-Z_]*|CJSON_[A-Z_]*|CBLAS_INCLUDE_DIR|OPENBLAS_LIBRARY|MPIEXEC_EXECUTABLE)(:[A-Z]+)?=/' '$B/CMakeCache.txt' | grep -v '=$P/' || true)
    grep -E '^(MPI_mpi_LIBRARY|HDF5_C_LIBRARY_hdf5|GLPK_LIBRARY|CJSON_LIBRARY|OPENBLAS_LIBRARY|MPIEXEC_EXECUTABLE)' '$B/CMakeCache.txt' || true
    grep -E 'uniap: (CUDA|no nvcc)|nvcc found' '$B/CMakeFiles/CMakeOutput.log' 2>/dev/null || true
    if [ -n \"\$leaks\" ]; then echo \"found outside the prefix:\"; echo \"\$leaks\"; exit 1; fi
    if [ $dry -eq 0 ] && ! grep -q 'uniap: CUDA backend on' '$R/logs/configure.log'; then
        echo 'the CUDA backend is off (see the messages above)'; exit 1; fi
" unpack
prebuilt build 240 "
    cmake --build '$B' -j $jobs
    ldd '$B/cli/uniap' | tee '$R/logs/ldd-uniap.txt'
    if ldd '$B/cli/uniap' | grep -q 'not found'; then echo 'unresolved libraries'; exit 1; fi
    for lib in libmpi libhdf5 libglpk libcjson libopenblas; do
        ldd '$B/cli/uniap' | grep \"\$lib\" | grep -q '$P/' || { echo \"\$lib does not resolve into $P\"; exit 1; }
    done
    '$B/cli/uniap' --version
    for m in $models; do '$B/cli/uniap' model --json \$m >'$R/'\$m.json; done
" configure
if [ -n "$given_uniap" ]; then
    uniap=$given_uniap
    mpirun1="$given_mpiexec -np 1 --allow-run-as-root --bind-to none"
    for m in $models; do "$uniap" model --json "$m" >"$R/$m.json"; done
else
    uniap=$B/cli/uniap
    mpirun1="$P/usr/bin/mpirun.openmpi -np 1 --allow-run-as-root --bind-to none"
fi

# ---- 3. prof_cuda_vs_cpu, for real: a skip is a failure here -------------
gpu_stage prof_cuda 90 "
    cd '$B'
    ctest -R '^prof_cuda_vs_cpu\$' --output-on-failure --timeout 100 2>&1 | tee ctest.out
    grep -q 'tests passed, 0 tests failed out of 1' ctest.out || { echo 'prof_cuda_vs_cpu did not run'; exit 1; }
    if grep -qi 'skipped\\|not run' ctest.out; then echo 'prof_cuda_vs_cpu skipped: no GPU seen'; exit 1; fi
    ./tests/profiler/test_prof_cuda -v 2>&1 | tail -n 40 || true
" build
[ $dry -eq 1 ] && [ -z "$given_uniap" ] && stage io_tests 120 "cd '$B' && ctest -L io -j $jobs --output-on-failure" build

# ---- 4. the layers: uniap profile on the GPU (CPU in the dry run) --------
# GPU: every tp shard shape and micro-batch; --time-limit skips (and lists)
# what would overrun, and the stage's timeout sends SIGTERM first, on which
# uniap writes what it measured. Dry run (CPU, fp32, 2 cores): one minute
# per model is one shard shape, the smallest (a Llama-7B decoder at tp 1
# takes over a minute there; GPT-3's at tp 8 too, so tp 32 for it).
uniap_args=
for m in $models; do
    if [ $dry -eq 0 ]; then
        a="--backend cuda --tp 1,2,4,8 --micro-batches 1,2,4,8 --layer-warmup 3 --layer-iters 10 --time-limit 60"
        cap=90
    else
        case $m in gpt3-175b) t=32 ;; llama-*) t=8 ;; *) t=1,2 ;; esac # shard shapes a CPU does in seconds
        a="--backend cpu --tp $t --micro-batches 1 --layer-warmup 0 --layer-iters 1 --time-limit $quick_limit"
        cap=$((quick_limit + 30))
    fi
    stage "profile_$m" $cap "$mpirun1 '$uniap' profile --model $m $a --skip-collectives --out '$R/$tag-$m.h5' --force" build
    stage "verify_$m" 30 "
        '$uniap' archive verify '$R/$tag-$m.h5'
        '$uniap' archive show '$R/$tag-$m.h5' | head -n 40
        rm -rf '$R/csv-$m'; '$uniap' archive export '$R/$tag-$m.h5' --csv '$R/csv-$m'
        cp '$R/csv-$m/layers.csv' '$R/uniap-layers-$m.csv'
        echo \"\$((\$(wc -l <'$R/uniap-layers-$m.csv') - 1)) layer rows\"
    " "profile_$m"
    [ -f "$R/$m.json" ] && uniap_args="$uniap_args --uniap $m=$R/uniap-layers-$m.csv"
done
first=${models%% *}

# ---- 5. PyTorch: the same layers, bf16, SDPA, CUDA events -----------------
specs=
for m in $models; do specs="$specs --spec $R/$m.json"; done
if [ $dry -eq 0 ]; then
    stage torch 120 "PYTHONUNBUFFERED=1 python3 '$here/torch_layers.py' measure $specs --tp 1,2,4,8 --mb 1,2,4,8 --warmup 3 --iters 10 --time-limit 90 --out '$R/torch-layers.csv'" build
    stage ratio 20 "python3 '$here/torch_layers.py' compare $uniap_args --torch '$R/torch-layers.csv' --out '$R/ratio.md'" torch "verify_$first"
else
    stage torch 30 "python3 '$here/torch_layers.py' measure --dry-run $specs --tp 1,2,4,8 --mb 1,2,4,8 --out '$R/torch-layers.csv' | tail -n 5
                    python3 '$here/torch_layers.py' shapes $specs >'$R/torch-shapes.txt'; head -n 3 '$R/torch-shapes.txt'" build
    # the join checked on the CPU profile against itself: every ratio 1.00
    stage ratio_selfcheck 20 "
        for m in $models; do
            [ -f '$R'/uniap-layers-\$m.csv ] || continue
            awk -F, -v m=\$m 'NR > 1 && \$4 == 0 { split(\$1, k, \".\"); print m \",\" k[1] \",\" \$2 \",\" \$3 \",\" \$5 \",\" \$9 \",self\" }' '$R'/uniap-layers-\$m.csv
        done | { echo model,kind,tp,micro_batch,fwd_median,bwd_median,shape; cat; } >'$R/selfcheck-torch.csv'
        python3 '$here/torch_layers.py' compare $uniap_args --torch '$R/selfcheck-torch.csv' --out '$R/ratio-selfcheck.md'
        rows=\$(grep -c '^| [a-z]' '$R/ratio-selfcheck.md' || true)
        if grep -E '^\\| [a-z]' '$R/ratio-selfcheck.md' | tail -n +2 | awk -F'|' '\$8 + 0 != 1 || \$11 + 0 != 1 { bad = 1 } END { exit bad }'; then echo \"self-check: \$((rows - 1)) rows, every ratio 1.00\"
        else echo 'self-check: a ratio differs from 1.00'; exit 1; fi
    " "verify_$first"
fi

# ---- 6. NCCL on one GPU: the trivial groups ------------------------------
gpu_stage nccl 60 "
    $mpirun1 '$uniap' profile --model $first --backend cuda --skip-layers --tp 1 --max-bytes 64M --warmup 2 --iters 5 --time-limit 40 --out '$R/nccl-1gpu.h5' --force
    '$uniap' archive verify '$R/nccl-1gpu.h5'
    rm -rf '$R/csv-nccl'; '$uniap' archive export '$R/nccl-1gpu.h5' --csv '$R/csv-nccl'
    echo \"collective rows: \$((\$(wc -l <'$R/csv-nccl/collectives.csv') - 1))\"
    cut -d, -f1-4 '$R/csv-nccl/collectives.csv' | sort -u | head -n 20
" build

# ---- 7. plans: the preset, and the measured profile -----------------------
# A one-GPU profile holds no collective over 2 or more devices, which every
# strategy on a cluster of 32 needs: the planner leaves them all out. So
# the profile must plan on its own machine (its stored cluster: 1 device);
# on the h200-141g-4x8 preset the analytic model must plan; the profile on
# the preset is tried and its outcome recorded, not required.
stage plan 45 "
    '$uniap' cluster h200-141g-4x8
    '$uniap' plan --model $first --cluster h200-141g-4x8 --global-batch 64 --out '$R/plan-analytic-h200.json'
    '$uniap' plan --model $first --profile '$R/$tag-$first.h5' --global-batch 8 --out '$R/plan-$first-1gpu.json'
    if '$uniap' plan --model $first --profile '$R/$tag-$first.h5' --cluster h200-141g-4x8 --global-batch 64 \
        --out '$R/plan-$first-h200.json' >'$R/logs/plan-profile-h200.txt' 2>&1; then
        echo 'the profile plans on h200-141g-4x8 too'
    else echo \"the profile on h200-141g-4x8 (expected without multi-GPU collectives):\"; head -n 3 '$R/logs/plan-profile-h200.txt'; fi
" "verify_$first"
