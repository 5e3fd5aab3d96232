#!/bin/bash
# slurm_fixture.sh start|stop - the ctest fixture around the Slurm job
# tests: starts the private one-node Slurm of jobs/local-slurm.sh in
# $UNIAP_SLURM_DIR, or stops it. When Slurm cannot be started at all (not
# installed, not root) `start` records why in $UNIAP_SLURM_DIR/skip-reason
# and exits 77, and every job test then skips with that reason; any other
# failure to start fails the fixture.
set -u
: "${UNIAP_JOBS_DIR:?}" "${UNIAP_SLURM_DIR:?}"

case "${1:-}" in
start)
    mkdir -p "$UNIAP_SLURM_DIR"
    rm -f "$UNIAP_SLURM_DIR/skip-reason"
    # A Slurm left by an interrupted earlier run of the tests.
    "$UNIAP_JOBS_DIR/local-slurm.sh" stop >/dev/null 2>&1
    err=$UNIAP_SLURM_DIR/start.err
    "$UNIAP_JOBS_DIR/local-slurm.sh" start 2>"$err"
    rc=$?
    cat "$err" >&2
    if [ "$rc" -eq 77 ]; then
        sed -n 's/^local-slurm: //p' "$err" | head -n 1 >"$UNIAP_SLURM_DIR/skip-reason"
        echo "SKIP: Slurm cannot be started here: $(cat "$UNIAP_SLURM_DIR/skip-reason")" >&2
    fi
    exit "$rc"
    ;;
stop)
    exec "$UNIAP_JOBS_DIR/local-slurm.sh" stop
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
