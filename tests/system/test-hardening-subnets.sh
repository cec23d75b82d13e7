#!/usr/bin/env bash
# Subnets no VNet may use are refused through the CLI with one line naming
# the range (loopback, multicast, reserved, "this network", link-local; for
# IPv6 also ::1, link-local, multicast and prefixes shorter than /48), and
# a refusal changes nothing: no bridge, no address, no state file, no nft
# element, no event. Before the fix, 127.0.0.0/24 made a bridge holding
# 127.0.0.1 in the host netns. (The validation itself: unit/test-vnet.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

make_host_ns
start_netd

pw vnet create prod --subnet 10.1.0.0/24 --subnet fd00:1::/64 >/dev/null
links_before=$(host_links)
addrs_before=$(in_ns h ip -o addr show | awk '{print $2, $4}' | sort)
nft_before=$(in_ns h nft list table inet podwire)
state_before=$(ls "$STATE_DIR/netd/vnets")

pw events --json >"$T/events.out" 2>"$T/events.err" &
track_pid $!
sleep 0.3

refused() { # refused EXPECTED_TEXT SUBNET...
	local expected=$1 args=() s err
	shift
	for s in "$@"; do args+=(--subnet "$s"); done
	err=$(must_fail pw vnet create bad "${args[@]}")
	assert_contains "$err" "$expected" "vnet create ${*}"
	assert_eq "$(echo "$err" | wc -l)" 1 "one line for ${*}"
}

log "IPv4 ranges"
refused "127.0.0.0/8 (loopback)" 127.0.0.0/24
refused "224.0.0.0/4 (multicast)" 224.0.0.0/24
refused "224.0.0.0/4 (multicast)" 239.1.0.0/16
refused "240.0.0.0/4 (reserved" 240.0.0.0/24
refused "240.0.0.0/4 (reserved" 255.255.255.0/24
refused '0.0.0.0/8 ("this network")' 0.0.0.0/24
refused "169.254.0.0/16 (link-local)" 169.254.0.0/16
refused "169.254.0.0/16 (link-local)" 169.254.7.0/24
# Wider than any VNet and covering a reserved range: refused either way.
must_fail pw vnet create bad --subnet 0.0.0.0/0 >/dev/null
must_fail pw vnet create bad --subnet 96.0.0.0/3 >/dev/null

log "IPv6 ranges"
refused "::1/128 (loopback)" 10.9.0.0/24 ::/120
refused "fe80::/10 (link-local)" 10.9.0.0/24 fe80::/64
refused "ff00::/8 (multicast)" 10.9.0.0/24 ff05::/64
refused "::ffff:0:0/96 (IPv4-mapped)" 10.9.0.0/24 ::ffff:0:0/120
refused "IPv6 prefix length must be /48 to" 10.9.0.0/24 fd00::/8
refused "IPv6 prefix length must be /48 to" 10.9.0.0/24 fd00::/47

log "state unchanged"
sleep 0.3
assert_eq "$(host_links)" "$links_before" "links"
assert_eq "$(in_ns h ip -o addr show | awk '{print $2, $4}' | sort)" "$addrs_before" "addresses"
assert_eq "$(in_ns h ip -o addr show dev lo | grep -c 127.0.0.1)" 1 "127.0.0.1 only on lo"
assert_eq "$(in_ns h nft list table inet podwire)" "$nft_before" "nft table"
assert_eq "$(ls "$STATE_DIR/netd/vnets")" "$state_before" "state files"
assert_eq "$(pw vnet ls --json | jget '[v["name"] for v in d]')" '["prod"]' "vnet list"
assert_eq "$(grep -c '"event"' "$T/events.out" || true)" 0 "no events"

log "ordinary subnets still work"
pw vnet create ok --subnet 10.9.0.0/24 --subnet fd00:9:9::/48 >/dev/null
pw vnet create pub --subnet 128.0.0.0/24 >/dev/null
pw vnet rm ok >/dev/null
pw vnet rm pub >/dev/null
log "ok"
