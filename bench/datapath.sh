#!/usr/bin/env bash
# Datapath cost of the podwire tables: iperf3 TCP throughput between two
# groups on one VNet bridge, (a) through the podwire rules (tables inet and
# bridge podwire loaded by tests/system/nft-driver, with both groups'
# anti-spoofing and counter elements, 1,000 other groups' elements and
# published ports, as netd would have them) and (b) through the same bridge
# with no rules, in the same run, alternating.
#   bench/datapath.sh [RUNS] [BUILD_DIR]   RUNS of 5 s each per setup (default 9)
# The iperf3 client and server are pinned to CPUs 0 and 1 in both setups
# (unpinned, where the scheduler puts them moves a run by +-10%); the pairs
# alternate which setup runs first. Prints
# each setup's median Gbit/s, their ratio, and the median of the ratios of
# the back-to-back pairs (robust to the machine drifting during the run).
# Target: ours >= 95% of the bare bridge. Runs in throwaway netns; touches
# nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-9}
build=${2:-build}
driver=$build/tests/nft-driver
prefix=pwdp$$
tmp=$(mktemp -d /tmp/pwbench.XXXXXX)

if ! command -v iperf3 >/dev/null || ! command -v nft >/dev/null || ! command -v jq >/dev/null; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 nftables jq >/dev/null
fi
make -s "$driver" BUILD="$build"

server_pid=
cleanup() {
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
	for ns in h a b; do ip netns del "$prefix$ns" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
in_ns() {
	local ns=$prefix$1
	shift
	ip netns exec "$ns" "$@"
}

ip netns add "${prefix}h"
in_ns h ip link add pw-a type bridge
in_ns h ip addr add 10.1.0.1/24 dev pw-a
in_ns h ip link set pw-a up
i=0
for g in a b; do
	i=$((i + 1))
	ip netns add "$prefix$g"
	in_ns h ip link add "pwv$g" type veth peer name eth0 netns "$prefix$g"
	in_ns h ip link set "pwv$g" master pw-a up
	in_ns "$g" ip link set lo up
	in_ns "$g" ip link set eth0 address "02:00:00:00:00:0$i"
	in_ns "$g" ip addr add "10.1.0.1$i/24" dev eth0
	in_ns "$g" ip link set eth0 up
done

# The tables as netd has them with 1,000 more groups on the VNet.
groups=(pwva,02:00:00:00:00:01,10.1.0.11 pwvb,02:00:00:00:00:02,10.1.0.12)
for n in $(seq 1000); do
	groups+=("pwvx$n,02:00:00:01:$(printf '%02x:%02x' $((n / 256)) $((n % 256))),10.2.$((n / 250)).$((n % 250 + 2)),port=$((20000 + n)):80/tcp")
done
vnets=(pw-a,10.1.0.0/24 pw-x,10.2.0.0/16)

client_cpu=0 server_cpu=$(($(nproc) > 1 ? 1 : 0))
# Not through in_ns: $! must be iperf3 itself (ip netns exec execs it), so
# that cleanup's kill reaches it and no server outlives the run.
ip netns exec "${prefix}b" iperf3 -s -p 5201 -A "$server_cpu" >/dev/null 2>&1 &
server_pid=$!
gbps() {
	local out
	for _ in $(seq 20); do
		if out=$(in_ns a iperf3 -c 10.1.0.12 -p 5201 -A "$client_cpu" -t 5 -O 1 -J 2>/dev/null); then
			echo "$out" | jq '.end.sum_received.bits_per_second / 1e9'
			return
		fi
		sleep 0.2
	done
	echo "iperf3 failed" >&2
	exit 1
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$tmp/bare"
: >"$tmp/ours"
bare_run() {
	in_ns h "$driver" remove-table
	gbps >>"$tmp/bare"
}
ours_run() {
	in_ns h "$driver" sync "${vnets[@]}" -- "${groups[@]}"
	gbps >>"$tmp/ours"
}
# Each pair in turn bare-first and ours-first, so that a drift of the
# machine within a pair (or what loading the table leaves behind) favours
# neither setup.
for i in $(seq "$runs"); do
	if [ $((i % 2)) = 1 ]; then
		bare_run
		ours_run
	else
		ours_run
		bare_run
	fi
done
# The bytes went through our rules: the counters say so.
tx=$(in_ns h "$driver" counters | awk '$1 == "tx" && $2 == "pwva" { print $4 }')

median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
bare=$(median "$tmp/bare")
ours=$(median "$tmp/ours")
echo "datapath: iperf3 TCP between two groups on one bridge, $runs x 5 s each, medians (client on CPU $client_cpu, server on CPU $server_cpu)"
echo "  load average before / after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
printf '  bare bridge, no rules:     %6.2f Gbit/s\n' "$bare"
printf '  podwire rules (1,002 groups): %6.2f Gbit/s   (tx counter of the sender: %s bytes in the last run)\n' "$ours" "$tx"
awk -v a="$ours" -v b="$bare" 'BEGIN { printf "  ratio ours/bare (medians): %.3f (target >= 0.95)\n", a / b }'
paste "$tmp/bare" "$tmp/ours" | awk '{ printf "%.4f\n", $2 / $1 }' >"$tmp/pairs"
printf '  ratio ours/bare (median of %s back-to-back pairs): %.3f (pairs: %s)\n' "$runs" \
	"$(median "$tmp/pairs")" "$(sort -g "$tmp/pairs" | awk '{ s = s (NR > 1 ? " " : "") sprintf("%.3f", $1) } END { print s }')"
