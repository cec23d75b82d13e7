#!/usr/bin/env bash
# Cost of one VNet change in table inet podwire: netd's nft_vnet_add /
# nft_vnet_remove (one libnftnl batch over a kept netlink socket, timed in
# process by tests/system/nft-driver) against the same element changes made
# by the nft command (`nft -f`, one exec per change, as a shell-script or
# CNI-plugin firewall would), on the same table in the same run.
#   bench/nft-vnet.sh [N] [BUILD_DIR]     N VNets added then removed (default 1000)
# Prints medians and p99 in microseconds and the ratio. Runs in a throwaway
# netns; touches nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

count=${1:-1000}
build=${2:-build}
driver=$build/tests/nft-driver
ns=pwbench$$
tmp=$(mktemp -d /tmp/pwbench.XXXXXX)

if ! command -v nft >/dev/null; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables >/dev/null
fi
make -s "$driver" BUILD="$build"

cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"

# stats FILE: median and p99 of one number (microseconds) per line.
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		printf "median_us=%.1f p99_us=%.1f\n", v[int(NR / 2) + 1], v[int(NR * 0.99) + 1] }'
}

ip netns exec "$ns" "$driver" sync
ours=$(ip netns exec "$ns" "$driver" time "$count")

ip netns exec "$ns" "$driver" sync
# The peer loop runs inside the netns, so only nft's own exec is timed.
cat >"$tmp/peer.sh" <<'PEER'
count=$1 tmp=$2
: >"$tmp/add" && : >"$tmp/remove"
for pass in add remove; do
	verb=add
	[ $pass = add ] || verb=delete
	for ((i = 0; i < count; i++)); do
		subnet="10.$((128 + i / 256)).$((i % 256)).0/24"
		printf '%s element inet podwire bridges { "pw-t%d" }\n' $verb $i >"$tmp/change.nft"
		printf '%s element inet podwire allowed { "pw-t%d" . "pw-t%d" }\n' $verb $i $i >>"$tmp/change.nft"
		printf '%s element inet podwire masq4 { %s }\n' $verb "$subnet" >>"$tmp/change.nft"
		start=$(date +%s%N)
		nft -f "$tmp/change.nft"
		echo $((($(date +%s%N) - start) / 1000)) >>"$tmp/$pass"
	done
done
PEER
ip netns exec "$ns" bash "$tmp/peer.sh" "$count" "$tmp"

echo "VNet changes, N=$count, table inet podwire"
echo "podwire nft.c (in process, one batch per call):"
echo "$ours" | sed 's/^/  /'
echo "nft -f (one exec per change):"
echo "  add $(stats "$tmp/add")"
echo "  remove $(stats "$tmp/remove")"
ours_add=$(echo "$ours" | sed -n 's/^nft_vnet_add median_us=\([0-9.]*\).*/\1/p')
peer_add=$(stats "$tmp/add" | sed -n 's/^median_us=\([0-9.]*\).*/\1/p')
awk -v a="$ours_add" -v b="$peer_add" 'BEGIN { printf "add median ratio nft.c / nft -f: %.3f\n", a / b }'
