# shellcheck shell=bash
# uniap-launch.sh - what the uniap job scripts share, sourced (bash) by
# profile.sbatch, profile-array.sbatch and plan.sbatch: the executable and
# output-folder checks, the launcher choice (srun with an MPI plugin this
# Slurm has, or mpirun), running the tool in the background with SIGTERM
# and SIGINT passed on to its ranks, and for profiles the whole job: the
# dataset's state (absent, incomplete: resume it, complete, corrupt), the
# run, and the requeue after a pre-timeout signal.
#
# Not a job script itself. The sourcing script defines say() (its own name
# in front of each message) and sets UNIAP_BIN and UNIAP_OUT_DIR first.
# Installed beside the job scripts (share/uniap/jobs); the job scripts find
# it through UNIAP_JOBS_DIR, the folder of the script Slurm was given, or
# the uniap executable's ../share/uniap/jobs.
#
# Environment read here (default in brackets): UNIAP_LAUNCHER [srun],
# UNIAP_SRUN_MPI [pmix; pmi2 if this srun lacks pmix], UNIAP_MPIRUN_ARGS,
# UNIAP_MPIRUN_GRACE [10], and for uniap_profile_job: UNIAP_REQUEUE [1],
# UNIAP_MAX_REQUEUES [3].

# uniap_launch_setup: checks UNIAP_BIN and creates UNIAP_OUT_DIR, then sets
# the array `launch` to the launcher's command line. Exits 2 (bad input)
# with a message when either is wrong.
uniap_launch_setup() {
    UNIAP_LAUNCHER=${UNIAP_LAUNCHER:-srun}
    UNIAP_SRUN_MPI=${UNIAP_SRUN_MPI:-pmix}
    if ! command -v "$UNIAP_BIN" >/dev/null 2>&1; then
        say "UNIAP_BIN='$UNIAP_BIN' is not an executable (put uniap on PATH or set UNIAP_BIN)"
        exit 2
    fi
    mkdir -p "$UNIAP_OUT_DIR" || {
        say "cannot create UNIAP_OUT_DIR='$UNIAP_OUT_DIR'"
        exit 2
    }
    case "$UNIAP_LAUNCHER" in
    srun)
        if ! srun --mpi=list 2>&1 | grep -qw -- "$UNIAP_SRUN_MPI"; then
            say "this srun has no --mpi=$UNIAP_SRUN_MPI plugin ($(srun --mpi=list 2>&1 | tr -s '\n\t ' ' ')); using pmi2"
            UNIAP_SRUN_MPI=pmi2
        fi
        launch=(srun --mpi="$UNIAP_SRUN_MPI" --kill-on-bad-exit=1)
        ;;
    mpirun)
        # One rank per Slurm task. mpirun passes SIGTERM on after the grace
        # time and kills after as much again: time for the ranks to write
        # what they have.
        # shellcheck disable=SC2206 # options are meant to split
        launch=(mpirun -np "${SLURM_NTASKS:-1}" --mca odls_base_sigkill_timeout "${UNIAP_MPIRUN_GRACE:-10}" ${UNIAP_MPIRUN_ARGS:-})
        ;;
    *)
        say "UNIAP_LAUNCHER must be srun or mpirun, not '$UNIAP_LAUNCHER'"
        exit 2
        ;;
    esac
}

# uniap_run_forwarded WHAT CMD...: runs "${launch[@]}" CMD in the
# background so that a signal reaches this shell at once, and passes
# SIGTERM and SIGINT on to the tasks: srun would kill its tasks on
# SIGTERM, so the signal goes to the job's steps through Slurm (scancel
# without --batch leaves this shell alone); mpirun passes it on itself.
# WHAT completes the message "got SIGTERM: stopping WHAT". Sets rc (the
# launcher's exit status) and stopped (the signal's name, or empty).
stopped=""
uniap__child=""
uniap__stop_what=""
# shellcheck disable=SC2317 # called from the traps
uniap__forward() {
    stopped=$1
    say "got SIG$1: stopping $uniap__stop_what"
    if [ "$UNIAP_LAUNCHER" = srun ] && [ -n "${SLURM_JOB_ID:-}" ]; then
        scancel --signal="$1" "$SLURM_JOB_ID" 2>/dev/null && return
    fi
    [ -z "$uniap__child" ] || kill "-$1" "$uniap__child" 2>/dev/null
}
uniap_run_forwarded() {
    uniap__stop_what=$1
    shift
    stopped=""
    trap 'uniap__forward TERM' TERM
    trap 'uniap__forward INT' INT
    "${launch[@]}" "$@" &
    uniap__child=$!
    # wait returns early when a trapped signal arrives: wait again until
    # the launcher has really ended, then collect its status.
    while kill -0 "$uniap__child" 2>/dev/null; do
        wait "$uniap__child"
    done
    wait "$uniap__child"
    rc=$?
}

# uniap_dataset_state FILE: sets state to absent, complete, incomplete (an
# interrupted run: --resume finishes it) or corrupt (anything else `uniap
# archive verify` refuses), and dataset_why to what verify said.
state=""
dataset_why=""
uniap_dataset_state() {
    dataset_why=""
    if [ ! -e "$1" ]; then
        state=absent
    elif dataset_why=$("$UNIAP_BIN" archive verify "$1" 2>&1); then
        state=complete
    elif grep -q 'incomplete' <<<"$dataset_why"; then
        state=incomplete
    else
        state=corrupt
    fi
}

# uniap_profile_job: the profile job of profile.sbatch and of each element
# of profile-array.sbatch, with UNIAP_MODEL, UNIAP_PROFILE_OUT and
# UNIAP_PROFILE_ARGS set. Runs `uniap profile` (resuming an incomplete
# dataset), requeues the job after a pre-timeout signal (UNIAP_REQUEUE, at
# most UNIAP_MAX_REQUEUES times) and exits with the profiler's status (1
# for a status 0 without a complete dataset).
uniap_profile_job() {
    UNIAP_REQUEUE=${UNIAP_REQUEUE:-1}
    UNIAP_MAX_REQUEUES=${UNIAP_MAX_REQUEUES:-3}
    uniap_launch_setup
    # shellcheck disable=SC2206 # options are meant to split
    local cmd=("$UNIAP_BIN" profile --model "$UNIAP_MODEL" --out "$UNIAP_PROFILE_OUT" ${UNIAP_PROFILE_ARGS:-})
    uniap_dataset_state "$UNIAP_PROFILE_OUT"
    case "$state" in
    corrupt)
        say "$UNIAP_PROFILE_OUT exists but is not a dataset to resume: $dataset_why"
        exit 2
        ;;
    complete)
        say "$UNIAP_PROFILE_OUT is already complete; nothing to do"
        exit 0
        ;;
    incomplete)
        say "$UNIAP_PROFILE_OUT exists and is incomplete: resuming it"
        cmd+=(--resume "$UNIAP_PROFILE_OUT")
        ;;
    esac

    local gpus=${SLURM_GPUS_ON_NODE:-0}
    say "job ${SLURM_JOB_ID:-none} (restart ${SLURM_RESTART_COUNT:-0}) on ${SLURM_JOB_NODELIST:-$(hostname -s)}:" \
        "${SLURM_NTASKS:-?} tasks, ${SLURM_JOB_NUM_NODES:-1} nodes, $gpus GPUs per node"
    [ "$gpus" != 0 ] || say "no GPUs in this allocation: the profiler measures with its CPU backend"
    say "running: ${launch[*]} ${cmd[*]}"

    uniap_run_forwarded "the profiler so it writes what it has" "${cmd[@]}"
    uniap_dataset_state "$UNIAP_PROFILE_OUT"
    say "uniap profile exited with status $rc; dataset $UNIAP_PROFILE_OUT is $state"
    if [ "$rc" -eq 0 ] && [ "$state" != complete ]; then
        # srun can exit 0 from a step whose launch failed (tool never ran).
        say "status 0 without a complete dataset (did the launch fail?): failing the job"
        rc=1
    fi
    if [ -n "$stopped" ] && [ "$UNIAP_REQUEUE" = 1 ] && [ -n "${SLURM_JOB_ID:-}" ] && [ "$state" = incomplete ]; then
        uniap__requeue
    fi
    exit "$rc"
}

# uniap__requeue: requeues this (running, interrupted) job so that its rerun
# resumes the dataset, unless it was cancelled or requeued enough already.
uniap__requeue() {
    local job_state
    job_state=$(squeue -h -j "$SLURM_JOB_ID" -o %T 2>/dev/null)
    if [ "$job_state" != RUNNING ]; then
        say "job is $job_state (cancelled?), not requeueing; resubmit with UNIAP_PROFILE_OUT=$UNIAP_PROFILE_OUT to finish"
    elif [ "${SLURM_RESTART_COUNT:-0}" -lt "$UNIAP_MAX_REQUEUES" ]; then
        say "requeueing job $SLURM_JOB_ID to resume the dataset"
        scontrol requeue "$SLURM_JOB_ID" || say "scontrol requeue failed; resubmit with UNIAP_PROFILE_OUT=$UNIAP_PROFILE_OUT"
    else
        say "requeued $UNIAP_MAX_REQUEUES times already; resubmit with UNIAP_PROFILE_OUT=$UNIAP_PROFILE_OUT to finish"
    fi
}
