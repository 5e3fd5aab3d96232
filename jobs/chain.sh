#!/bin/bash
# chain.sh - submit a profile job and, after it succeeds, a plan job that
# searches with the new profile (sbatch --dependency=afterok). Prints the
# two job ids.
#
#   UNIAP_MODEL=llama-7b UNIAP_CLUSTER=a100-80g-2x8 UNIAP_GLOBAL_BATCH=64 \
#   UNIAP_OUT_DIR=$PWD/run1 \
#   UNIAP_PROFILE_SBATCH_ARGS="--nodes=2 --ntasks-per-node=8 --gpus-per-node=8" \
#   UNIAP_PLAN_SBATCH_ARGS="--ntasks=16" \
#       jobs/chain.sh [sbatch options for both jobs, e.g. --partition=gpu]
#
# Every UNIAP_* variable of profile.sbatch and plan.sbatch applies (sbatch
# passes the environment on). chain.sh sets UNIAP_PROFILE of the plan job to
# the profile job's dataset, $UNIAP_OUT_DIR/profile-<profile job>.h5 (or
# UNIAP_PROFILE_OUT when given), and puts both logs beside the outputs:
# $UNIAP_OUT_DIR/profile-<id>.log and plan-<id>.log.
#
# Environment of chain.sh itself (default in brackets):
#   UNIAP_OUT_DIR             outputs and logs [current folder]
#   UNIAP_PROFILE_SBATCH_ARGS sbatch options of the profile job only
#   UNIAP_PLAN_SBATCH_ARGS    sbatch options of the plan job only
#   UNIAP_KILL_ON_INVALID_DEP yes: when the profile job fails, Slurm cancels
#                             the plan job at once (reason
#                             DependencyNeverSatisfied); no: it stays pending
#                             with that reason until scancel [yes]
#
# stdout: one line "profile_job=<id> plan_job=<id>" (eval-able); what was
# submitted goes to stderr. Exit status: 0 both submitted; 1 a submission
# failed (a profile job already submitted is cancelled).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# the job scripts find their shared helper (uniap-launch.sh) here
export UNIAP_JOBS_DIR=${UNIAP_JOBS_DIR:-$here}
say() { echo "chain.sh: $*" >&2; }

out_dir=${UNIAP_OUT_DIR:-$PWD}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
export UNIAP_OUT_DIR=$out_dir
kill_dep=${UNIAP_KILL_ON_INVALID_DEP:-yes}

# shellcheck disable=SC2206 # options are meant to split
profile_args=(${UNIAP_PROFILE_SBATCH_ARGS:-})
# shellcheck disable=SC2206
plan_args=(${UNIAP_PLAN_SBATCH_ARGS:-})

profile_job=$(sbatch --parsable --output="$out_dir/profile-%j.log" \
    "$@" "${profile_args[@]}" "$here/profile.sbatch") || {
    say "submitting the profile job failed"
    exit 1
}
profile_job=${profile_job%%;*}
profile_out=${UNIAP_PROFILE_OUT:-$out_dir/profile-$profile_job.h5}
say "profile job $profile_job -> $profile_out (log $out_dir/profile-$profile_job.log)"

plan_job=$(UNIAP_PROFILE=$profile_out sbatch --parsable --output="$out_dir/plan-%j.log" \
    --dependency="afterok:$profile_job" --kill-on-invalid-dep="$kill_dep" \
    "$@" "${plan_args[@]}" "$here/plan.sbatch") || {
    say "submitting the plan job failed; cancelling profile job $profile_job"
    scancel "$profile_job" || true
    exit 1
}
plan_job=${plan_job%%;*}
say "plan job $plan_job runs after job $profile_job succeeds -> $out_dir/plan-$plan_job.json (log $out_dir/plan-$plan_job.log)"
echo "profile_job=$profile_job plan_job=$plan_job"
