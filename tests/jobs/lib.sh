# shellcheck shell=bash
# lib.sh - helpers shared by the Slurm job tests (sourced, bash): the
# test's environment, bounded waits on jobs, dataset and plan checks.
#
# ctest sets: UNIAP_BIN (the uniap binary), UNIAP_JOBS_DIR (jobs/),
# UNIAP_TEST_DATA (tests/data), UNIAP_SLURM_DIR (the local Slurm's folder,
# see jobs/local-slurm.sh), JOBS_WORK (a folder for outputs),
# JOBS_TEST_NAME (this test's name).
set -u

TESTS_JOBS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export TINY_MODEL=$UNIAP_TEST_DATA/specs/tiny-gpt.json
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# The local node declares more CPUs than it has: Open MPI started by srun
# does not know it is oversubscribed and would busy-poll (minutes instead
# of seconds for a tiny profile on 2 cores); mpirun needs to be told too.
export OMPI_MCA_mpi_yield_when_idle=1 OMPI_MCA_rmaps_base_oversubscribe=1

log() { echo "[$JOBS_TEST_NAME] $*" >&2; }

fail() {
    echo "[$JOBS_TEST_NAME] FAIL: $*" >&2
    exit 1
}

# require_slurm: skip (77) with the reason when the local Slurm could not be
# started for want of Slurm itself; fail when it should be up and is not.
require_slurm() {
    if [ -f "$UNIAP_SLURM_DIR/skip-reason" ]; then
        echo "[$JOBS_TEST_NAME] SKIP: $(cat "$UNIAP_SLURM_DIR/skip-reason")" >&2
        exit 77
    fi
    [ -f "$UNIAP_SLURM_DIR/env.sh" ] || fail "no local Slurm in $UNIAP_SLURM_DIR (jobs_slurm_start did not run?)"
    # shellcheck disable=SC1091
    . "$UNIAP_SLURM_DIR/env.sh"
    export SLURM_CONF
    sinfo -h -o %t >/dev/null 2>&1 || fail "the local Slurm does not answer (sinfo); see $UNIAP_SLURM_DIR/log"
}

# work_dir: a fresh folder for this test's outputs; prints its path.
work_dir() {
    local d=$JOBS_WORK/$JOBS_TEST_NAME
    rm -rf "$d"
    mkdir -p "$d"
    echo "$d"
}

# cancel_on_exit JOBID...: scancel these jobs when the test exits, so a
# failed or timed-out test leaves nothing running.
CANCEL_JOBS=""
cancel_on_exit() {
    CANCEL_JOBS="$CANCEL_JOBS $*"
    # shellcheck disable=SC2064,SC2086
    trap "scancel $CANCEL_JOBS 2>/dev/null || true" EXIT
}

# submit_wait TIMEOUT SBATCH_ARGS...: sbatch --wait bounded by TIMEOUT
# seconds; sets JOB (the job id) and JOB_RC (sbatch's exit status, the
# job's). On timeout the job is cancelled and the test fails.
submit_wait() {
    local t=$1
    shift
    local out=$JOBS_WORK/$JOBS_TEST_NAME.sbatch.$$
    timeout "$t" sbatch --wait --parsable "$@" >"$out"
    JOB_RC=$?
    JOB=$(head -n 1 "$out" | cut -d';' -f1)
    rm -f "$out"
    [ -n "$JOB" ] || fail "sbatch $* did not submit (status $JOB_RC)"
    cancel_on_exit "$JOB"
    if [ "$JOB_RC" -eq 124 ]; then
        scancel "$JOB" 2>/dev/null
        fail "job $JOB did not finish within $t s"
    fi
    log "job $JOB ended with status $JOB_RC"
}

# job_field JOBID FIELD: a field of `scontrol show job` (JobState,
# Reason, ExitCode, Restarts, ...); empty once Slurm has forgotten the job.
job_field() {
    scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# Slurm's states of a job that has ended.
ENDED_STATES="COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL OUT_OF_MEMORY BOOT_FAIL DEADLINE PREEMPTED"

# wait_completed JOBID TIMEOUT LOG: poll until the job has ended; fails
# unless it COMPLETED (exit status 0), showing LOG's tail.
wait_completed() {
    local s
    # shellcheck disable=SC2086
    s=$(wait_state "$1" "$2" $ENDED_STATES) || exit 1
    [ "$s" = COMPLETED ] || fail "job $1 ended $s (exit $(job_field "$1" ExitCode)); log: $(tail -n 15 "$3" 2>/dev/null)"
}

# wait_state JOBID TIMEOUT STATE...: poll (0.25 s) until the job is in one
# of the states; fails on timeout. Prints the state.
wait_state() {
    local job=$1 t=$2 s
    shift 2
    local end=$(($(date +%s) + t))
    while [ "$(date +%s)" -lt "$end" ]; do
        s=$(job_field "$job" JobState)
        for want in "$@"; do
            if [ "$s" = "$want" ]; then
                echo "$s"
                return 0
            fi
        done
        sleep 0.25
    done
    fail "job $job not in state $* after $t s (now '${s:-gone}', reason '$(job_field "$job" Reason)')"
}

# wait_file_grep FILE PATTERN TIMEOUT: poll until FILE contains PATTERN.
wait_file_grep() {
    local end=$(($(date +%s) + $3))
    while [ "$(date +%s)" -lt "$end" ]; do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    fail "'$2' did not appear in $1 within $3 s"
}

# h5_attr FILE NAME: a scalar root attribute's value as h5dump prints it
# (strings keep their quotes).
h5_attr() {
    h5dump -w 0 -a "/$2" "$1" 2>/dev/null | sed -n 's/^ *(0): *//p' | head -n 1
}

# verify_dataset FILE: the dataset passes `uniap archive verify` when that
# subcommand exists, else h5dump reads it whole (every dataset, so
# Fletcher32 checksums are checked) and its format attribute is right.
# Either way its `complete` attribute must be 1.
verify_dataset() {
    local f=$1 out
    [ -s "$f" ] || fail "dataset $f missing or empty"
    out=$("$UNIAP_BIN" archive verify "$f" 2>&1)
    local rc=$?
    if echo "$out" | grep -q "not implemented"; then
        h5dump "$f" >/dev/null 2>&1 || fail "h5dump cannot read $f (corrupt?)"
        h5_attr "$f" format | grep -q '"uniap-profile"' || fail "$f: root attribute format is not \"uniap-profile\""
        log "$f: read whole by h5dump (uniap archive verify not implemented yet)"
    else
        [ "$rc" -eq 0 ] || fail "uniap archive verify $f: status $rc: $out"
        log "$f: uniap archive verify passed"
    fi
    [ "$(h5_attr "$f" complete)" = 1 ] || fail "$f: attribute complete is '$(h5_attr "$f" complete)', expected 1"
}

# same_plan A B: the two plan files choose the same plan (python3).
same_plan() {
    python3 "$TESTS_JOBS_DIR/compare_plans.py" "$1" "$2" || fail "plans $1 and $2 differ"
}
