#!/bin/bash
# local-slurm.sh - a private one-node Slurm on this machine, for tests and
# for trying the jobs/ scripts without a cluster.
#
#   jobs/local-slurm.sh start    # write the config, start munged, slurmctld, slurmd
#   jobs/local-slurm.sh status   # say whether each daemon runs; sinfo
#   jobs/local-slurm.sh stop     # stop the three daemons started by `start`
#   jobs/local-slurm.sh env      # print the `export SLURM_CONF=...` line
#   jobs/local-slurm.sh install  # apt-get install Debian's slurm-wlm and munge if missing
#
# Everything (slurm.conf, munge key and socket, state, spool, logs, pid
# files) lives in one private folder, $UNIAP_SLURM_DIR (default
# /tmp/uniap-slurm-<uid>; when it is too deep for unix socket paths, the
# sockets and the spool go to a /tmp/uniap-slurm-sock.* folder removed by
# `stop`); nothing under /etc is written. After `start`,
# clients need SLURM_CONF=$UNIAP_SLURM_DIR/slurm.conf (`. $DIR/env.sh`).
#
# The node is `hostname -s` with more CPUs declared than present
# ($UNIAP_SLURM_CPUS, default 8; SlurmdParameters=config_overrides), no
# cgroups (proctrack/linuxproc, task/none), select/cons_tres, CR_Core, and
# MpiDefault=none (jobs ask for --mpi=pmix themselves). Ports:
# $UNIAP_SLURM_PORT (slurmctld, default: a free port from 16817) and the
# next one (slurmd).
#
# Needs root (SlurmUser=root, as in a CI container) and Debian's slurm-wlm
# and munge (scripts/install-deps.sh). Exit status: 0 ok; 1 a daemon did not
# start or the node did not become idle (the reason and the log tail are
# printed); 77 Slurm or munge is not installed (a test harness skip).
set -eu

DIR=${UNIAP_SLURM_DIR:-/tmp/uniap-slurm-$(id -u)}
CPUS=${UNIAP_SLURM_CPUS:-8}
WAIT_S=${UNIAP_SLURM_WAIT_S:-30}
CONF=$DIR/slurm.conf

die() {
    echo "local-slurm: $*" >&2
    exit 1
}

log_tail() {
    for f in "$DIR"/log/*.log; do
        [ -f "$f" ] || continue
        echo "---- last lines of $f" >&2
        tail -n 15 "$f" >&2
    done
}

# pid_alive FILE: true when FILE names a running process.
pid_alive() {
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# port_free PORT: true when nothing listens on TCP PORT.
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

need_tools() {
    for t in munged slurmctld slurmd sinfo sbatch scontrol; do
        if ! command -v "$t" >/dev/null 2>&1; then
            echo "local-slurm: '$t' not found: install slurm-wlm and munge (scripts/install-deps.sh)" >&2
            exit 77
        fi
    done
    if [ "$(id -u)" -ne 0 ]; then
        echo "local-slurm: needs root (the daemons run as SlurmUser=root)" >&2
        exit 77
    fi
}

pick_ports() {
    if [ -n "${UNIAP_SLURM_PORT:-}" ]; then
        CTLD_PORT=$UNIAP_SLURM_PORT
    else
        CTLD_PORT=16817
        while ! port_free "$CTLD_PORT" || ! port_free $((CTLD_PORT + 1)); do
            CTLD_PORT=$((CTLD_PORT + 2))
            [ "$CTLD_PORT" -lt 16917 ] || die "no two free TCP ports in 16817..16917"
        done
    fi
    SLURMD_PORT=$((CTLD_PORT + 1))
}

write_conf() {
    host=$(hostname -s)
    # Sockets (munged's; slurmstepd's and PMIx's in the spool folder) need
    # paths under 108 bytes: when $DIR is deep they go to a /tmp folder.
    sock_dir=$DIR/sock
    if [ ${#sock_dir} -gt 60 ]; then
        sock_dir=$(mktemp -d /tmp/uniap-slurm-sock.XXXXXX)
    fi
    mkdir -p "$sock_dir/spool"
    chmod 0755 "$sock_dir"
    echo "$sock_dir" >"$DIR/sock_dir.path"
    sock=$sock_dir/munge.socket
    cat >"$CONF" <<EOF
# Written by jobs/local-slurm.sh: a private one-node Slurm for tests.
ClusterName=uniap-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$sock_dir/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=4
KillWait=10
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=1024 State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
    printf 'export SLURM_CONF=%s\n' "$CONF" >"$DIR/env.sh"
}

start_munge() {
    sock=$(cat "$DIR/sock_dir.path")/munge.socket
    key=$DIR/munge/munge.key
    if [ ! -s "$key" ]; then
        if command -v mungekey >/dev/null 2>&1; then
            mungekey --create --keyfile="$key" >/dev/null 2>&1 || true
        fi
        if [ ! -s "$key" ]; then
            dd if=/dev/urandom of="$key" bs=1024 count=1 2>/dev/null
        fi
    fi
    chmod 0400 "$key"
    munged --force --key-file="$key" --socket="$sock" \
        --pid-file="$DIR/run/munged.pid" --log-file="$DIR/log/munged.log" \
        --seed-file="$DIR/munge/munged.seed" ||
        { log_tail; die "munged did not start (see $DIR/log/munged.log)"; }
    i=0
    while [ ! -S "$sock" ]; do
        i=$((i + 1))
        [ $i -le 50 ] || { log_tail; die "munged socket $sock did not appear in 5 s"; }
        sleep 0.1
    done
    if command -v munge >/dev/null 2>&1; then
        munge --socket="$sock" -n | unmunge --socket="$sock" >/dev/null 2>&1 ||
            { log_tail; die "munge round trip through $sock failed"; }
    fi
}

cmd_start() {
    need_tools
    if pid_alive "$DIR/run/slurmctld.pid" || pid_alive "$DIR/run/slurmd.pid" ||
        pid_alive "$DIR/run/munged.pid"; then
        die "already running in $DIR (run: $0 stop)"
    fi
    mkdir -p "$DIR/state" "$DIR/log" "$DIR/run" "$DIR/munge"
    chmod 0755 "$DIR/munge"
    chmod 0755 "$DIR" "$DIR/log" "$DIR/run"
    rm -f "$DIR"/log/*.log
    pick_ports
    write_conf
    start_munge
    slurmctld -c -f "$CONF" || { log_tail; die "slurmctld did not start"; }
    slurmd -c -f "$CONF" || { log_tail; die "slurmd did not start"; }

    # Bounded wait until the node is idle.
    end=$(($(date +%s) + WAIT_S))
    state=""
    while [ "$(date +%s)" -lt "$end" ]; do
        state=$(SLURM_CONF=$CONF sinfo -h -N -o '%t' 2>/dev/null | head -n 1 || true)
        case "$state" in
        idle) break ;;
        down* | drain* | fail*)
            # A node left DOWN by an earlier run: bring it back once.
            SLURM_CONF=$CONF scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true
            ;;
        esac
        sleep 0.5
    done
    if [ "$state" != idle ]; then
        log_tail
        cmd_stop >/dev/null 2>&1 || true
        die "node did not become idle within ${WAIT_S} s (last state: '${state:-no answer}')"
    fi
    echo "local-slurm: running in $DIR (node $(hostname -s), $CPUS CPUs, port $CTLD_PORT)"
    echo "export SLURM_CONF=$CONF"
}

# stop_one NAME: TERM the daemon of pid file NAME.pid, KILL it after 10 s.
stop_one() {
    pf=$DIR/run/$1.pid
    pid_alive "$pf" || { rm -f "$pf"; return 0; }
    pid=$(cat "$pf")
    kill -TERM "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "local-slurm: $1 (pid $pid) ignored TERM for 10 s, killing" >&2
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    rm -f "$pf"
}

cmd_stop() {
    [ -d "$DIR" ] || return 0
    if [ -f "$CONF" ] && pid_alive "$DIR/run/slurmctld.pid"; then
        # Cancel what is left so no job step outlives the daemons.
        SLURM_CONF=$CONF scancel --quiet --user="$(id -un)" 2>/dev/null || true
    fi
    stop_one slurmd
    stop_one slurmctld
    stop_one munged
    # The socket folder made in /tmp because $DIR is too deep for sockets.
    if [ -f "$DIR/sock_dir.path" ]; then
        sock_dir=$(cat "$DIR/sock_dir.path")
        case "$sock_dir" in
        /tmp/uniap-slurm-sock.*) rm -rf "$sock_dir" ;;
        esac
    fi
    echo "local-slurm: stopped ($DIR)"
}

cmd_status() {
    rc=0
    for d in munged slurmctld slurmd; do
        if pid_alive "$DIR/run/$d.pid"; then
            echo "$d: running (pid $(cat "$DIR/run/$d.pid"))"
        else
            echo "$d: not running"
            rc=1
        fi
    done
    [ $rc -ne 0 ] || SLURM_CONF=$CONF sinfo -N -l || rc=1
    return $rc
}

# Debian 12 packages of a one-node Slurm (the same as scripts/install-deps.sh).
SLURM_PKGS="slurm-wlm slurmctld slurmd slurm-client munge"

cmd_install() {
    missing=""
    for p in $SLURM_PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $p"
    done
    if [ -z "$missing" ]; then
        echo "local-slurm: slurm-wlm and munge already installed"
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "installing$missing needs root"
    echo "local-slurm: installing$missing"
    apt-get update -qq
    # No daemon is started by the packages where policy-rc.d or the lack of
    # systemd forbids it; `start` runs its own.
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) echo "export SLURM_CONF=$CONF" ;;
*)
    echo "usage: $0 start|stop|status|env|install   (folder: \$UNIAP_SLURM_DIR, now $DIR)" >&2
    exit 2
    ;;
esac
