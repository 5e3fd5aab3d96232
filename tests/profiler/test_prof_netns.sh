#!/bin/bash
# test_prof_netns.sh - the profiler's measured reference (issue 5, item 6):
# two emulated nodes as network namespaces joined by a veth pair shaped
# with tc tbf to 200 Mbit/s each way; `uniap profile --skip-layers` runs on
# 4 ranks (2 per namespace) with Open MPI over TCP only, launched into the
# namespaces by an `ip netns exec` rsh agent. Checks: point-to-point and
# all-reduce bus bandwidth between the nodes are within 10 % of the
# shaped rate; inside a node (loopback, unshaped) they are at least 3x it.
# Skipped (77, with the reason) where namespaces cannot be made.
# Open MPI's default all-reduce for 2 ranks is reduce + broadcast (2x the
# bytes on the link, busbw = rate / 2 measured); the test selects its
# recursive doubling (one exchange of the buffer each way), the
# bandwidth-optimal schedule for 2 ranks that busbw assumes. The tbf queue
# is kept short (5 ms) so that TCP ACKs are not stuck behind a deep queue
# of data going the other way.
# Timing on a shared machine is noisy: the measurement is tried up to 3
# times and passes on the first run that meets every check.
# usage: test_prof_netns.sh UNIAP CHECK_NETNS MODEL_JSON MPIEXEC WORKDIR
set -u
UNIAP=$1 CHECK=$2 MODEL=$3 MPIEXEC=$4 WORK=$5
RATE_BIT=200000000 # the shaped rate, bit/s (200 Mbit/s: far below what a loaded
# 2-core machine can push through TCP, so the link, not the CPU, is the limit)
TAG=up$$
NSA=${TAG}a NSB=${TAG}b
mkdir -p "$WORK" && cd "$WORK" || exit 1

skip() { echo "SKIP: $*"; exit 77; }
cleanup() {
    ip netns del "$NSA" 2>/dev/null
    ip netns del "$NSB" 2>/dev/null
}
trap cleanup EXIT
command -v ip >/dev/null || skip "no ip(8) (iproute2) on this machine"
command -v tc >/dev/null || skip "no tc(8) on this machine"
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root (uid $(id -u))"
ip netns add "$NSA" 2>/dev/null || skip "cannot create a network namespace (no CAP_SYS_ADMIN?)"
ip netns add "$NSB" 2>/dev/null || skip "cannot create a second network namespace"
ip link add "${TAG}va" type veth peer name "${TAG}vb" 2>/dev/null || skip "cannot create a veth pair"
set -e
ip link set "${TAG}va" netns "$NSA"
ip link set "${TAG}vb" netns "$NSB"
ip -n "$NSA" addr add 10.77.0.1/24 dev "${TAG}va"
ip -n "$NSB" addr add 10.77.0.2/24 dev "${TAG}vb"
for ns in "$NSA" "$NSB"; do
    ip -n "$ns" link set lo up
    # each timed iteration starts after a barrier: keep TCP's window across
    # the idle gap instead of slow-starting every message
    ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_slow_start_after_idle=0
done
# jumbo frames: TCP/IP headers cost 0.7 % of the line rate instead of 4 %
ip -n "$NSA" link set "${TAG}va" mtu 9000 up
ip -n "$NSB" link set "${TAG}vb" mtu 9000 up
set +e
for pair in "$NSA ${TAG}va" "$NSB ${TAG}vb"; do
    set -- $pair
    ip netns exec "$1" tc qdisc add dev "$2" root tbf rate 200mbit burst 32kb latency 5ms ||
        skip "tc cannot shape the veth (no sch_tbf?)"
done

# launch agent: Open MPI runs "<agent> <host> <command>"; host -> namespace,
# each with its own host name (a UTS namespace) as a real node would have
cat > agent.sh <<AGENT
#!/bin/bash
host=\$1; shift
case \$host in
10.77.0.1) ns=$NSA ;;
10.77.0.2) ns=$NSB ;;
*) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec \$ns unshare --uts /bin/sh -c "hostname \$ns && \$*"
AGENT
chmod +x agent.sh
printf '10.77.0.1 slots=2\n10.77.0.2 slots=2\n' > hosts
for attempt in 1 2 3; do
    rm -f netns.h5
    timeout 120 ip netns exec "$NSA" unshare --uts /bin/sh -c 'hostname "$0" && exec "$@"' \
        "$NSA-mpirun" "$MPIEXEC" --allow-run-as-root --oversubscribe -np 4 \
        --hostfile hosts --mca plm_rsh_agent "$PWD/agent.sh" \
        --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 \
        --mca oob_tcp_if_include 10.77.0.0/24 \
        --mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 3 \
        "$UNIAP" profile --model "$MODEL" --out "$PWD/netns.h5" --skip-layers \
        --collectives all_reduce,p2p --min-bytes 4M --max-bytes 4M --warmup 1 --iters 6 \
        2> netns.log
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL: profile across namespaces exit $rc"
        cat netns.log
        exit 1
    fi
    echo "attempt $attempt:"
    if "$CHECK" netns.h5 $((RATE_BIT / 8)); then
        echo "PASS"
        exit 0
    fi
done
echo "FAIL: bandwidths off the shaped rate in 3 attempts"
exit 1
