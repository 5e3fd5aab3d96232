#!/bin/bash
# run_case.sh CASE - one Slurm job test: submits the jobs/ scripts to the
# local Slurm (tests/jobs/slurm_fixture.sh) and checks what they leave.
# Cases (ctest names jobs_<case>):
#   hostname       the harness: a two-task srun job runs; sbatch --wait
#                  returns the job's exit status
#   profile        profile.sbatch, 4 tasks through srun --mpi=pmix: a valid,
#                  complete dataset of world size 4 naming its Slurm job
#   plan           plan.sbatch, 2 ranks, on that dataset: the plan equals
#                  the one `mpirun -np 2 uniap plan` writes directly
#   chain          chain.sh: profile then plan (afterok), both succeed, the
#                  plan uses the chained profile and equals a direct search
#   multinode      the jobs/README.md 2 x 8 worked example's shape, smaller:
#                  chain.sh profiling 4 tasks as 2 nodes of 2 (the local
#                  Slurm has one node, so --ranks-per-node 2 emulates them),
#                  then planning for that 2 x 2 machine from the profile:
#                  the profile holds tp 4 (across both nodes), the chain
#                  ends with a plan and no measurement was missing
#   array          profile-array.sbatch, two elements through mpirun in the
#                  batch step: two valid datasets, each with its options
#   chain_fail     chain.sh with a missing model: the profile job fails and
#                  its log says why; the plan job never runs
#                  (DependencyNeverSatisfied), pending until scancel or
#                  cancelled by Slurm (--kill-on-invalid-dep)
#   scancel_resume scancel mid-profile leaves a dataset marked incomplete;
#                  a new job on the same file resumes it to complete
#   bad_out        a job given an existing corrupt dataset refuses it
#                  (status 2, the reason in its log) and leaves it alone
#   helper         the job scripts find their shared helper
#                  (uniap-launch.sh) beside the script given to sbatch,
#                  without UNIAP_JOBS_DIR (Slurm runs a spooled copy), and
#                  a script copied without it fails with status 2 saying so
#   preempt        the pre-timeout signal (--signal=B:TERM, sent here with
#                  scancel --batch): the job writes an incomplete dataset,
#                  requeues itself and the rerun resumes it to complete
set -u
JOBS_TEST_NAME=${1:-none}
export JOBS_TEST_NAME
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

JOBS=$UNIAP_JOBS_DIR
TINY_CLUSTER=$UNIAP_TEST_DATA/specs/cpu-1x4.json
GLOBAL_BATCH=8
# A short profile of the tiny model (about a second), and a longer one
# (about 10 s on 2 cores) that a test can interrupt part-way, once the
# profiler has reached the collectives.
PROFILE_FAST_ARGS="--max-bytes 64K --micro-batches 1,2"
PROFILE_SLOW_ARGS="--max-bytes 4M --micro-batches 1,2"
PROGRESS_RE="uniap profile: \\[.*all_reduce"

export UNIAP_BIN UNIAP_MODEL=$TINY_MODEL

case_hostname() {
    local d
    d=$(work_dir)
    cd "$d" || fail "cd $d"
    submit_wait 60 --ntasks=2 --output="$d/hostname.log" --wrap 'srun --ntasks=2 hostname -s'
    [ "$JOB_RC" -eq 0 ] || fail "the two-task hostname job failed ($JOB_RC): $(cat "$d/hostname.log")"
    [ "$(grep -cx "$(hostname -s)" "$d/hostname.log")" -eq 2 ] ||
        fail "expected '$(hostname -s)' twice in the job's output, got: $(cat "$d/hostname.log")"
    submit_wait 60 --output=/dev/null --wrap 'exit 3'
    [ "$JOB_RC" -eq 3 ] || fail "sbatch --wait returned $JOB_RC for a job that exits 3"
    log "ok: srun ran 2 tasks; sbatch --wait returned the job's status"
}

case_profile() {
    local d f
    d=$(work_dir)
    cd "$d" || fail "cd $d"
    export UNIAP_OUT_DIR=$d UNIAP_PROFILE_ARGS=$PROFILE_FAST_ARGS
    submit_wait 150 --ntasks=4 --ntasks-per-node=4 --output="$d/profile-%j.log" "$JOBS/profile.sbatch"
    [ "$JOB_RC" -eq 0 ] || fail "profile job failed ($JOB_RC); log: $(tail -n 20 "$d/profile-$JOB.log")"
    f=$d/profile-$JOB.h5
    verify_dataset "$f"
    grep -q 'running: srun --mpi=' "$d/profile-$JOB.log" || fail "the log does not show the srun launch"
    [ "$(h5_attr "$f" world_size)" = 4 ] || fail "$f: world_size $(h5_attr "$f" world_size), expected 4"
    [ "$(h5_attr "$f" slurm_job_id)" = "\"$JOB\"" ] ||
        fail "$f: slurm_job_id $(h5_attr "$f" slurm_job_id), expected \"$JOB\""
    log "ok: $f (4 ranks, job $JOB)"
}

# The dataset the profile case wrote.
profile_dataset() {
    local f
    f=$(find "$JOBS_WORK/profile" -name 'profile-*.h5' 2>/dev/null | head -n 1)
    [ -n "$f" ] || fail "no dataset from jobs_profile in $JOBS_WORK/profile"
    echo "$f"
}

# direct_plan PROFILE OUT: the same search without Slurm, mpirun -np 2.
direct_plan() {
    timeout 150 mpirun -np 2 "$UNIAP_BIN" plan --model "$TINY_MODEL" --cluster "$TINY_CLUSTER" \
        --global-batch "$GLOBAL_BATCH" --profile "$1" --out "$2" >"$2.log" 2>&1 ||
        fail "direct mpirun -np 2 uniap plan failed: $(tail -n 20 "$2.log")"
}

case_plan() {
    local d p
    d=$(work_dir)
    cd "$d" || fail "cd $d"
    p=$(profile_dataset)
    export UNIAP_OUT_DIR=$d UNIAP_PROFILE=$p UNIAP_CLUSTER=$TINY_CLUSTER UNIAP_GLOBAL_BATCH=$GLOBAL_BATCH
    submit_wait 150 --ntasks=2 --output="$d/plan-%j.log" "$JOBS/plan.sbatch"
    [ "$JOB_RC" -eq 0 ] || fail "plan job failed ($JOB_RC); log: $(tail -n 20 "$d/plan-$JOB.log")"
    [ -s "$d/plan-$JOB.json" ] || fail "no plan $d/plan-$JOB.json"
    direct_plan "$p" "$d/direct.json"
    same_plan "$d/plan-$JOB.json" "$d/direct.json"
    log "ok: the Slurm plan equals mpirun's"
}

# submit_chain: runs jobs/chain.sh with the UNIAP_* settings exported by the
# case, sets profile_job and plan_job from what it prints, and cancels both
# when the case exits.
submit_chain() {
    ids=$("$JOBS/chain.sh") || fail "chain.sh failed"
    log "chain.sh printed: $ids"
    eval "$ids"
    if [ -z "${profile_job:-}" ] || [ -z "${plan_job:-}" ]; then
        fail "chain.sh printed no job ids"
    fi
    cancel_on_exit "$profile_job" "$plan_job"
}

case_chain() {
    local d ids profile_job plan_job dep
    d=$(work_dir)
    cd "$d" || fail "cd $d"
    export UNIAP_OUT_DIR=$d UNIAP_CLUSTER=$TINY_CLUSTER UNIAP_GLOBAL_BATCH=$GLOBAL_BATCH
    export UNIAP_PROFILE_ARGS=$PROFILE_FAST_ARGS
    export UNIAP_PROFILE_SBATCH_ARGS="--ntasks=4 --ntasks-per-node=4" UNIAP_PLAN_SBATCH_ARGS="--ntasks=2"
    submit_chain
    # Slurm clears the field once the dependency is satisfied.
    dep=$(job_field "$plan_job" Dependency)
    case "$dep" in
    "afterok:$profile_job("* | "" | "(null)") ;;
    *) fail "plan job $plan_job depends on '$dep', expected afterok:$profile_job" ;;
    esac
    wait_completed "$plan_job" 240 "$d/plan-$plan_job.log"
    grep -q "exited with status 0" "$d/profile-$profile_job.log" || fail "profile log: $(tail "$d/profile-$profile_job.log")"
    verify_dataset "$d/profile-$profile_job.h5"
    [ -s "$d/plan-$plan_job.json" ] || fail "no plan $d/plan-$plan_job.json; log: $(tail "$d/plan-$plan_job.log")"
    grep -q -- "--profile $d/profile-$profile_job.h5" "$d/plan-$plan_job.log" ||
        fail "the plan job did not search with the chained profile"
    direct_plan "$d/profile-$profile_job.h5" "$d/direct.json"
    same_plan "$d/plan-$plan_job.json" "$d/direct.json"
    log "ok: profile job $profile_job then plan job $plan_job"
}

# h5_tp_rows FILE TP: rows of FILE's /layers at that tensor-parallel degree
# (h5dump prints each row's tp right after its layer type).
h5_tp_rows() {
    h5dump -d /layers -y -w 0 "$1" 2>/dev/null |
        awk -v tp="$2" '/"[a-z_]+\.h[0-9]/ { getline v; gsub(/[ ,]/, "", v); if (v == tp) n++ } END { print n + 0 }'
}

case_multinode() {
    local d ids profile_job plan_job f cluster=""
    d=$(work_dir)
    cd "$d" || fail "cd $d"
    cluster=$d/cpu-2x2.json
    printf '{"name": "cpu-2x2", "nodes": 2, "devices_per_node": 2, "device_name": "cpu",\n "device_memory_gib": 4}\n' >"$cluster"
    export UNIAP_OUT_DIR=$d UNIAP_CLUSTER=$cluster UNIAP_GLOBAL_BATCH=$GLOBAL_BATCH
    export UNIAP_PROFILE_ARGS="$PROFILE_FAST_ARGS --ranks-per-node 2"
    export UNIAP_PROFILE_SBATCH_ARGS="--ntasks=4 --ntasks-per-node=4" UNIAP_PLAN_SBATCH_ARGS="--ntasks=2"
    submit_chain
    wait_completed "$plan_job" 240 "$d/plan-$plan_job.log"
    f=$d/profile-$profile_job.h5
    verify_dataset "$f"
    [ "$(h5_attr "$f" world_size)" = 4 ] || fail "$f: world_size $(h5_attr "$f" world_size), expected 4"
    h5dump -w 0 -a /cluster_spec "$f" | tr -d ' \t\n' | grep -q '"nodes":2,"devices_per_node":2' ||
        fail "$f: its cluster spec is not 2 nodes of 2: $(h5dump -w 0 -a /cluster_spec "$f")"
    [ "$(h5_tp_rows "$f" 4)" -gt 0 ] || fail "$f: no layer rows at tp 4 (the degree spanning both nodes)"
    [ -s "$d/plan-$plan_job.json" ] || fail "no plan $d/plan-$plan_job.json; log: $(tail "$d/plan-$plan_job.log")"
    if grep -qi "lacks" "$d/plan-$plan_job.log"; then
        fail "the plan lacked measurements: $(grep -i lacks "$d/plan-$plan_job.log")"
    fi
    log "ok: a 2-node profile (job $profile_job, tp up to 4) planned by job $plan_job"
}

case_array() {
    local d i f opts
    d=$(work_dir)
    cd "$d" || fail "cd $d"
    # Two elements: the tiny model at two micro-batch sizes.
    local opts0="--max-bytes 64K --micro-batches 1" opts1="--max-bytes 64K --micro-batches 2"
    printf '# two profiles of the tiny model\n%s %s\n\n%s %s\n' \
        "$TINY_MODEL" "$opts0" "$TINY_MODEL" "$opts1" >"$d/list.txt"
    export UNIAP_OUT_DIR=$d UNIAP_ARRAY_LIST=$d/list.txt UNIAP_LAUNCHER=mpirun UNIAP_PROFILE_ARGS=""
    submit_wait 200 --array=0-1 --ntasks=2 --ntasks-per-node=2 --output="$d/profile-%A_%a.log" \
        "$JOBS/profile-array.sbatch"
    [ "$JOB_RC" -eq 0 ] || fail "array job failed ($JOB_RC); logs: $(tail -n 8 "$d"/*.log)"
    for i in 0 1; do
        f=$d/profile-${JOB}_$i.h5
        verify_dataset "$f"
        grep -q "element $i of 2" "$d/profile-${JOB}_$i.log" || fail "log of element $i does not name it"
        grep -q "running: mpirun -np 2" "$d/profile-${JOB}_$i.log" || fail "element $i did not run through mpirun"
        [ "$(h5_attr "$f" world_size)" = 2 ] || fail "$f: world_size $(h5_attr "$f" world_size), expected 2"
        opts=opts$i
        h5_attr "$f" command_line | grep -q -- "${!opts}\"" || fail "$f was not made with '${!opts}'"
    done
    log "ok: array job $JOB wrote two datasets"
}

case_chain_fail() {
    local d ids profile_job plan_job reason s
    d=$(work_dir)
    cd "$d" || fail "cd $d"
    export UNIAP_OUT_DIR=$d UNIAP_CLUSTER=$TINY_CLUSTER UNIAP_GLOBAL_BATCH=$GLOBAL_BATCH
    export UNIAP_MODEL=$d/no-such-model.json
    export UNIAP_PROFILE_SBATCH_ARGS="--ntasks=4 --ntasks-per-node=4" UNIAP_PLAN_SBATCH_ARGS="--ntasks=2"

    # 1. Left pending (UNIAP_KILL_ON_INVALID_DEP=no) until scancel.
    ids=$(UNIAP_KILL_ON_INVALID_DEP=no "$JOBS/chain.sh") || fail "chain.sh failed"
    eval "$ids"
    cancel_on_exit "$profile_job" "$plan_job"
    local end=$(($(date +%s) + 60))
    reason=""
    while [ "$(date +%s)" -lt "$end" ]; do
        reason=$(job_field "$plan_job" Reason)
        [ "$reason" = DependencyNeverSatisfied ] && break
        sleep 0.25
    done
    [ "$reason" = DependencyNeverSatisfied ] ||
        fail "plan job $plan_job: reason '$reason' (state $(job_field "$plan_job" JobState)), expected DependencyNeverSatisfied"
    [ "$(job_field "$plan_job" JobState)" = PENDING ] || fail "plan job $plan_job is not pending"
    grep -q "no-such-model.json" "$d/profile-$profile_job.log" ||
        fail "the profile log does not name the missing model: $(cat "$d/profile-$profile_job.log")"
    grep -q "exited with status 2;" "$d/profile-$profile_job.log" ||
        fail "the profile log does not give the bad-input status 2"
    scancel "$plan_job"
    # shellcheck disable=SC2086
    s=$(wait_state "$plan_job" 30 $ENDED_STATES) || exit 1
    [ "$s" = CANCELLED ] || fail "plan job $plan_job ended $s, expected CANCELLED"
    if [ -e "$d/plan-$plan_job.log" ] || [ -e "$d/plan-$plan_job.json" ]; then
        fail "the plan job ran"
    fi
    log "ok: plan job $plan_job stayed pending (DependencyNeverSatisfied) and was cancelled"

    # 2. The default: Slurm cancels the plan job itself.
    submit_chain
    # shellcheck disable=SC2086
    s=$(wait_state "$plan_job" 60 $ENDED_STATES) || exit 1
    [ "$s" = CANCELLED ] || fail "plan job $plan_job ended $s, expected CANCELLED"
    if [ -e "$d/plan-$plan_job.log" ] || [ -e "$d/plan-$plan_job.json" ]; then
        fail "the plan job ran"
    fi
    reason=$(job_field "$plan_job" Reason)
    [ "$reason" = DependencyNeverSatisfied ] || fail "plan job $plan_job cancelled with reason '$reason'"
    grep -q "no-such-model.json" "$d/profile-$profile_job.log" || fail "the profile log does not name the missing model"
    log "ok: Slurm cancelled plan job $plan_job ($reason) after profile job $profile_job failed"
}

# start_slow_profile DIR OUT: submits a long profile writing OUT, waits
# until it measures; sets JOB.
start_slow_profile() {
    export UNIAP_OUT_DIR=$1 UNIAP_PROFILE_OUT=$2 UNIAP_PROFILE_ARGS=$PROFILE_SLOW_ARGS
    JOB=$(sbatch --parsable --ntasks=4 --ntasks-per-node=4 --output="$1/profile-%j.log" "$JOBS/profile.sbatch") ||
        fail "sbatch failed"
    JOB=${JOB%%;*}
    cancel_on_exit "$JOB"
    wait_state "$JOB" 60 RUNNING >/dev/null
    # Interrupt as soon as the collectives start: the many larger messages
    # after them keep the profile running for seconds even on fast machines.
    wait_file_grep "$1/profile-$JOB.log" "$PROGRESS_RE" 60
}

# wait_incomplete FILE: the interrupted profiler wrote FILE marked incomplete.
wait_incomplete() {
    local end=$(($(date +%s) + 40))
    while [ "$(date +%s)" -lt "$end" ]; do
        [ "$(h5_attr "$1" complete)" = 0 ] && return 0
        sleep 0.25
    done
    fail "$1 not written with complete=0 within 40 s (complete: '$(h5_attr "$1" complete)')"
}

# measured_less LOG1 LOG2: the resumed run (last "N items to measure
# (resumed)" of LOG2) had fewer items left than the first run (first "N
# items to measure" of LOG1): it measured only what was missing.
measured_less() {
    local all left
    all=$(sed -n 's/.* \([0-9]*\) items to measure$/\1/p' "$1" | head -n 1)
    left=$(sed -n 's/.* \([0-9]*\) items to measure (resumed)$/\1/p' "$2" | tail -n 1)
    if [ -z "$all" ] || [ -z "$left" ]; then
        fail "no item counts in $1 / $2"
    fi
    if [ "$left" -le 0 ] || [ "$left" -ge "$all" ]; then
        fail "the resumed run measured $left of $all items"
    fi
    log "the first run had $all items to measure, the resumed one $left"
}

case_scancel_resume() {
    local d out first
    d=$(work_dir)
    cd "$d" || fail "cd $d"
    out=$d/resumed.h5
    start_slow_profile "$d" "$out"
    first=$JOB
    scancel "$first"
    wait_incomplete "$out"
    h5dump "$out" >/dev/null 2>&1 || fail "h5dump cannot read the interrupted dataset $out"
    log "job $first cancelled mid-profile: $out is marked incomplete"
    submit_wait 200 --ntasks=4 --ntasks-per-node=4 --output="$d/profile-%j.log" "$JOBS/profile.sbatch"
    [ "$JOB_RC" -eq 0 ] || fail "resume job failed ($JOB_RC); log: $(tail -n 20 "$d/profile-$JOB.log")"
    grep -q "exists and is incomplete: resuming" "$d/profile-$JOB.log" || fail "job $JOB did not resume"
    grep -q -- "--resume $out" "$d/profile-$JOB.log" || fail "job $JOB did not pass --resume"
    measured_less "$d/profile-$first.log" "$d/profile-$JOB.log"
    verify_dataset "$out"
    log "ok: job $JOB resumed $out to complete"
}

case_preempt() {
    local d out
    d=$(work_dir)
    cd "$d" || fail "cd $d"
    out=$d/preempted.h5
    start_slow_profile "$d" "$out"
    # What --signal=B:TERM@120 does before the time limit.
    scancel --batch --signal=TERM "$JOB"
    wait_file_grep "$d/profile-$JOB.log" "requeueing job $JOB" 60
    wait_state "$JOB" 60 PENDING >/dev/null
    [ "$(job_field "$JOB" Restarts)" = 1 ] || fail "job $JOB restarts: $(job_field "$JOB" Restarts), expected 1"
    [ "$(h5_attr "$out" complete)" = 0 ] || fail "$out not marked incomplete after the signal"
    # Slurm holds a requeued job back a while; let it start now, once the
    # first run's step has gone (its PMIx socket would clash with the
    # rerun's step of the same id).
    local end=$(($(date +%s) + 30))
    local spool
    spool=$(cat "$UNIAP_SLURM_DIR/sock_dir.path")/spool
    while compgen -G "$spool/*[._]$JOB.0" >/dev/null; do
        [ "$(date +%s)" -lt "$end" ] || fail "step $JOB.0 of the first run did not end within 30 s"
        sleep 0.25
    done
    # ... and once the node has finished completing the first run (a batch
    # launch onto a node still completing it can fail at once).
    while [ "$(sinfo -h -N -o %T | head -n 1)" != idle ]; do
        [ "$(date +%s)" -lt "$end" ] || fail "node not idle within 30 s of the requeue ($(sinfo -h -N -o %T))"
        sleep 0.25
    done
    # slurmd revokes the first run's credential when the job is requeued and
    # refuses any credential of the same job created in the same second or
    # earlier ("Killing non-startable batch job: Job credential revoked",
    # seen once in CI when the forced start came 0.19 s after the requeue):
    # start the rerun two seconds after the revocation, as Slurm's own hold
    # on requeued jobs would.
    sleep 2
    scontrol update JobId="$JOB" StartTime=now
    wait_completed "$JOB" 240 "$d/profile-$JOB.log"
    grep -q "(restart 1)" "$d/profile-$JOB.log" || fail "no rerun in the log"
    grep -q "exists and is incomplete: resuming" "$d/profile-$JOB.log" || fail "the rerun did not resume"
    measured_less "$d/profile-$JOB.log" "$d/profile-$JOB.log"
    verify_dataset "$out"
    log "ok: job $JOB stopped by the pre-timeout signal, requeued and resumed $out to complete"
}

case_bad_out() {
    local d out
    d=$(work_dir)
    cd "$d" || fail "cd $d"
    out=$d/garbage.h5
    echo "not an HDF5 file" >"$out"
    export UNIAP_OUT_DIR=$d UNIAP_PROFILE_OUT=$out UNIAP_PROFILE_ARGS=$PROFILE_FAST_ARGS
    submit_wait 60 --ntasks=2 --ntasks-per-node=2 --output="$d/profile-%j.log" "$JOBS/profile.sbatch"
    [ "$JOB_RC" -eq 2 ] || fail "a job given a corrupt dataset to resume exited $JOB_RC, expected 2"
    grep -q "exists but is not a dataset to resume" "$d/profile-$JOB.log" || fail "the log does not say why: $(cat "$d/profile-$JOB.log")"
    [ "$(cat "$out")" = "not an HDF5 file" ] || fail "the job changed $out"
    log "ok: job $JOB refused to resume a corrupt file and left it alone"
}

case_helper() {
    local d
    d=$(work_dir)
    cd "$d" || fail "cd $d"
    mkdir -p "$d/with" "$d/without"
    cp "$JOBS/plan.sbatch" "$JOBS/uniap-launch.sh" "$d/with/"
    cp "$JOBS/plan.sbatch" "$d/without/"
    unset UNIAP_JOBS_DIR
    export UNIAP_OUT_DIR=$d UNIAP_CLUSTER=a100-40g-1x8 UNIAP_GLOBAL_BATCH=$GLOBAL_BATCH UNIAP_PROFILE=
    submit_wait 150 --ntasks=1 --output="$d/with-%j.log" "$d/with/plan.sbatch"
    [ "$JOB_RC" -eq 0 ] || fail "plan job from a copied jobs folder failed ($JOB_RC); log: $(tail -n 20 "$d/with-$JOB.log")"
    [ -s "$d/plan-$JOB.json" ] || fail "no plan $d/plan-$JOB.json"
    submit_wait 60 --ntasks=1 --output="$d/without-%j.log" "$d/without/plan.sbatch"
    [ "$JOB_RC" -eq 2 ] || fail "plan job without uniap-launch.sh exited $JOB_RC, expected 2"
    grep -q "cannot find uniap-launch.sh" "$d/without-$JOB.log" || fail "the log does not say why: $(cat "$d/without-$JOB.log")"
    log "ok: the helper is found beside the submitted script; a script without it fails saying so"
}

require_slurm
"case_${1:?usage: run_case.sh CASE}"
