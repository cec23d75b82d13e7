#!/usr/bin/env bash
# Cost of the cluster VNet data plane (netd/vxlan.c): iperf3 TCP throughput
# into group a1 on host A (a) from group b1 on host B, across the VXLAN
# link (static FDB and neighbours, as tests/system/test-vxlan-dataplane.sh
# sets them up), and (b) from group a3 on a1's own bridge, in the same run,
# alternating. Hosts are netns on a veth underlay switch with MTU 1500, so
# every group has MTU 1450 in both setups.
#   bench/vxlan.sh [RUNS] [BUILD_DIR]   RUNS of 5 s each per setup (default 3)
# Client and server are pinned to CPUs 0 and 1 (as bench/datapath.sh does).
# Prints each setup's median Gbit/s and the ratio cross-host / same-bridge.
# One machine: the "underlay" is veth and a bridge, so the ratio measures the
# encapsulation's CPU cost, not a network. Runs in throwaway netns; touches
# nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
build=${2:-build}
VX_DRIVER=$build/tests/vxlan-driver
VX_PREFIX=pwvx$$
tmp=$(mktemp -d /tmp/pwbench.XXXXXX)
. tests/system/vxlan-lib.sh

if ! command -v iperf3 >/dev/null || ! command -v jq >/dev/null; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 jq >/dev/null
fi
make -s "$VX_DRIVER" BUILD="$build"
VX_DRIVER=$(cd "$(dirname "$VX_DRIVER")" && pwd)/$(basename "$VX_DRIVER")

server_pid=
cleanup() {
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
	for ns in u a b a1 a3 b1; do ip netns del "$VX_PREFIX$ns" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

vx_underlay 1500 a b
vx_vnet a 1 1 101
vx_vnet b 2 1 101
vx_group a 1 a1 02:00:00:00:01:01 10.50.0.11
vx_group a 1 a3 02:00:00:00:01:03 10.50.0.13
vx_group b 1 b1 02:00:00:00:01:02 10.50.0.12
vx_remote a 1 02:00:00:00:01:02 10.50.0.12 "$(vx_vtep 2)"
vx_remote b 1 02:00:00:00:01:01 10.50.0.11 "$(vx_vtep 1)"
vx_remote b 1 02:00:00:00:01:03 10.50.0.13 "$(vx_vtep 1)"
mtu=$(vx_ns a1 cat /sys/class/net/eth0/mtu)
vx_ns b1 ping -c 1 -W 2 10.50.0.11 >/dev/null || {
	echo "b1 cannot reach a1 across VXLAN" >&2
	exit 1
}

client_cpu=0 server_cpu=$(($(nproc) > 1 ? 1 : 0))
# Not through vx_ns: $! must be iperf3 itself (ip netns exec execs it).
ip netns exec "${VX_PREFIX}a1" iperf3 -s -p 5201 -A "$server_cpu" >/dev/null 2>&1 &
server_pid=$!
gbps() { # gbps CLIENT_GROUP
	local out
	for _ in $(seq 20); do
		if out=$(vx_ns "$1" iperf3 -c 10.50.0.11 -p 5201 -A "$client_cpu" -t 5 -O 1 -J 2>/dev/null); then
			jq '.end.sum_received.bits_per_second / 1e9' <<<"$out"
			return
		fi
		sleep 0.2
	done
	echo "iperf3 from $1 failed" >&2
	exit 1
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$tmp/local"
: >"$tmp/vxlan"
for i in $(seq "$runs"); do
	if [ $((i % 2)) = 1 ]; then
		gbps a3 >>"$tmp/local"
		gbps b1 >>"$tmp/vxlan"
	else
		gbps b1 >>"$tmp/vxlan"
		gbps a3 >>"$tmp/local"
	fi
done
# The bytes went through the VXLAN link: its counters say so.
vx_tx=$(vx_ns b cat /sys/class/net/vx1/statistics/tx_bytes)

runs_of() { awk '{ s = s (NR > 1 ? " " : "") sprintf("%.2f", $1) } END { print s }' "$1"; }
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
local_gbps=$(median "$tmp/local")
vxlan_gbps=$(median "$tmp/vxlan")
echo "vxlan: iperf3 TCP into a group, $runs x 5 s per setup, medians, MTU $mtu (client CPU $client_cpu, server CPU $server_cpu)"
echo "  load average before / after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
printf '  same bridge (a3 -> a1):          %6.2f Gbit/s   (runs: %s)\n' "$local_gbps" "$(runs_of "$tmp/local")"
printf '  across VXLAN (b1 on B -> a1 on A): %6.2f Gbit/s   (runs: %s; vx1 on B sent %s bytes)\n' \
	"$vxlan_gbps" "$(runs_of "$tmp/vxlan")" "$vx_tx"
awk -v a="$vxlan_gbps" -v b="$local_gbps" 'BEGIN { printf "  ratio VXLAN / same bridge (medians): %.3f\n", a / b }'
