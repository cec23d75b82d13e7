#!/usr/bin/env bash
# netd/nft.c against the kernel, through tests/system/nft-driver in a
# throwaway netns: a sync fills the sets; adding and removing a VNet changes
# elements only (every rule, chain and set keeps its handle) and both are
# idempotent; a flushed ruleset is noticed and restored by a sync; bad input
# fails with a clear message and changes nothing; other tables are never
# touched.
. "$(dirname "$0")/lib.sh"

DRIVER=$BIN/tests/nft-driver
[ -x "$DRIVER" ] || fail "$DRIVER is not built (make $BIN/tests/nft-driver)"

make_host_ns

drv() { in_ns h "$DRIVER" "$@"; }
# drv_fails ARGS...: the driver must exit 1 (not crash, not a sanitizer's
# exit code); prints its error line.
drv_fails() {
	local rc=0
	in_ns h "$DRIVER" "$@" 2>"$T/drv.err" >/dev/null || rc=$?
	[ $rc -eq 1 ] || fail "nft-driver $*: expected exit 1, got $rc: $(cat "$T/drv.err")"
	cat "$T/drv.err"
}
# The elements of one set of table inet podwire, sorted, space separated.
elems() { # SET [FAMILY]
	in_ns h nft -j list set "${2:-inet}" podwire "$1" | jq -r '
		.nftables[] | select(.set) | .set.elem // [] | .[] |
		if type == "object" and has("elem") then .elem.val else . end |
		if type == "object" and has("concat") then (.concat | join(" . "))
		elif type == "object" and has("prefix") then "\(.prefix.addr)/\(.prefix.len)"
		else . end' | sort | tr '\n' ' ' | sed 's/ $//'
}
# Every object of the table with its handle (elements have none): equal
# before and after a change means nothing was rebuilt.
handles() {
	in_ns h nft -a list table inet podwire | grep '# handle'
	in_ns h nft -a list table bridge podwire | grep '# handle'
}
exists() { drv exists; }

# Someone else's table, which must survive everything below.
in_ns h nft add table inet other
in_ns h nft add chain inet other input '{ type filter hook input priority 0; policy accept; }'
in_ns h nft add rule inet other input tcp dport 9 counter drop
other_before=$(in_ns h nft -a list table inet other)

assert_eq "$(exists)" 0 "table before the first sync"

log "sync with three VNets"
drv sync pw-a,10.1.0.0/24,fd00:1::/64 pw-b,10.2.0.0/24,isolate pw-c,10.3.0.0/16,internal
assert_eq "$(exists)" 1 "table after sync"
assert_eq "$(elems bridges)" "pw-a pw-b pw-c" "bridges"
assert_eq "$(elems allowed)" "pw-a . pw-a pw-c . pw-c" "allowed (pw-b is isolate)"
assert_eq "$(elems internal)" "pw-c" "internal"
assert_eq "$(elems masq4)" "10.1.0.0/24 10.2.0.0/24" "masq4 (pw-c is internal)"
assert_eq "$(elems masq6)" "fd00:1::/64" "masq6"
ruleset=$(in_ns h nft list table inet podwire)
for want in 'type filter hook forward priority filter; policy accept;' \
	'type nat hook postrouting priority srcnat; policy accept;' \
	'ct state established,related accept comment "podwire: ' \
	'iifname . oifname @allowed accept comment "podwire: ' \
	'ct status dnat accept comment "podwire: ' \
	'iifname @bridges oifname @bridges iifname @dropped drop comment "podwire: ' \
	'iifname @internal iifname @dropped drop comment "podwire: ' \
	'oifname @internal oifname @dropped drop comment "podwire: ' \
	'oifname != @bridges oifname != "lo" ip saddr @masq4 masquerade comment "podwire: ' \
	'oifname != @bridges oifname != "lo" ip6 saddr @masq6 masquerade comment "podwire: ' \
	'oifname @bridges ct status dnat ip saddr @subnets4 masquerade comment "podwire: ' \
	'dnat ip to ip daddr . meta l4proto . th dport map @ports4a comment "podwire: ' \
	'ip daddr != 127.0.0.0/8 fib daddr type local dnat ip to meta l4proto . th dport map @ports4 comment "podwire: ' \
	'type filter hook input priority filter; policy accept;' \
	'iifname != @bridges accept comment "podwire: ' \
	'icmpv6 type 135-136 accept comment "podwire: ' \
	'iifname . ip daddr @gateways4 icmp type echo-request accept comment "podwire: ' \
	'iifname @host_dns iifname . ip daddr @gateways4 udp dport 53 accept comment "podwire: ' \
	'iifname @host_dns iifname . ip6 daddr @gateways6 tcp dport 53 accept comment "podwire: ' \
	'iifname @host_all iifname . ip daddr @gateways4 accept comment "podwire: ' \
	'iifname @host_all ip6 daddr != @subnets6 accept comment "podwire: '; do
	assert_contains "$ruleset" "$want" "rule listing"
done
bridge_ruleset=$(in_ns h nft list table bridge podwire)
for want in 'iifname @tx jump group comment "podwire: ' \
	'iifname . ether saddr != @macs iifname @spoofed drop comment "podwire: ' \
	'meta pkttype other iifname . ether saddr . ip saddr @addrs4 notrack accept comment "podwire: ' \
	'meta pkttype other iifname . ether saddr . ip6 saddr @addrs6 notrack accept comment "podwire: ' \
	'iifname . ether saddr . ip saddr @addrs4 accept comment "podwire: ' \
	'iifname . ether saddr . arp saddr ip @arp4 iifname . arp saddr ether @macs accept comment "podwire: ' \
	'iifname @spoofed drop comment "podwire: ' \
	'oifname @rx comment "podwire: '; do
	assert_contains "$bridge_ruleset" "$want" "bridge rule listing"
done
# Every rule carries the owner comment.
all_rules() { in_ns h nft -a list table inet podwire; in_ns h nft -a list table bridge podwire; }
rules=$(all_rules | grep -c -E '^\s+(ct|iif|oif|ip|dnat|meta|icmp).*# handle' || true)
owned=$(all_rules | grep -c 'comment "podwire: .*# handle' || true)
assert_eq "$owned" "$rules" "rules with the podwire comment"
assert_eq "$rules" 43 "rule count"
assert_eq "$(elems dropped)" "pw-a pw-b pw-c" "dropped (a counter per bridge)"
assert_eq "$(elems subnets4)" "10.1.0.0/24 10.2.0.0/24 10.3.0.0/16" "subnets4 (every VNet)"
assert_eq "$(elems gateways4)" "pw-a . 10.1.0.1 pw-b . 10.2.0.1 pw-c . 10.3.0.1" "gateways4"
assert_eq "$(elems gateways6)" "pw-a . fd00:1::1" "gateways6"
assert_eq "$(elems host_dns)" "pw-a pw-b pw-c" "host_dns (dns by default)"
assert_eq "$(elems host_all)" "" "host_all"

log "add and remove a VNet: elements change, handles do not"
before=$(handles)
drv add pw-d,10.4.0.0/24,fd00:4::/64
assert_eq "$(elems bridges)" "pw-a pw-b pw-c pw-d" "bridges after add"
assert_eq "$(elems allowed)" "pw-a . pw-a pw-c . pw-c pw-d . pw-d" "allowed after add"
assert_eq "$(elems masq4)" "10.1.0.0/24 10.2.0.0/24 10.4.0.0/24" "masq4 after add"
assert_eq "$(elems masq6)" "fd00:1::/64 fd00:4::/64" "masq6 after add"
assert_eq "$(handles)" "$before" "handles after add"
drv add pw-d,10.4.0.0/24,fd00:4::/64 # again: a no-op
assert_eq "$(elems bridges)" "pw-a pw-b pw-c pw-d" "bridges after a second add"
assert_eq "$(elems masq4)" "10.1.0.0/24 10.2.0.0/24 10.4.0.0/24" "masq4 after a second add"

log "adding again with other flags replaces the VNet's elements"
drv add pw-d,10.4.0.0/24,fd00:4::/64,internal,isolate
assert_eq "$(elems internal)" "pw-c pw-d" "internal after re-add as internal"
assert_eq "$(elems allowed)" "pw-a . pw-a pw-c . pw-c" "allowed after re-add as isolate"
assert_eq "$(elems masq4)" "10.1.0.0/24 10.2.0.0/24" "masq4 after re-add as internal"
assert_eq "$(elems masq6)" "fd00:1::/64" "masq6 after re-add as internal"
drv add pw-d,10.4.0.0/24,fd00:4::/64,host=all
assert_eq "$(elems host_all)" "pw-d" "host_all after re-add with host access all"
assert_eq "$(elems host_dns)" "pw-a pw-b pw-c pw-d" "host_dns after re-add with host access all"
drv add pw-d,10.4.0.0/24,fd00:4::/64,host=none
assert_eq "$(elems host_all) / $(elems host_dns)" " / pw-a pw-b pw-c" "host access none"
drv add pw-d,10.4.0.0/24,fd00:4::/64
assert_eq "$(elems internal)" "pw-c" "internal after re-add as plain"
assert_eq "$(elems masq4)" "10.1.0.0/24 10.2.0.0/24 10.4.0.0/24" "masq4 after re-add as plain"

drv remove pw-d,10.4.0.0/24,fd00:4::/64
assert_eq "$(elems bridges)" "pw-a pw-b pw-c" "bridges after remove"
assert_eq "$(elems allowed)" "pw-a . pw-a pw-c . pw-c" "allowed after remove"
assert_eq "$(elems masq4)" "10.1.0.0/24 10.2.0.0/24" "masq4 after remove"
assert_eq "$(elems masq6)" "fd00:1::/64" "masq6 after remove"
assert_eq "$(elems gateways6)" "pw-a . fd00:1::1" "gateways6 after remove"
drv remove pw-d,10.4.0.0/24,fd00:4::/64 # again: gone is fine
drv remove pw-zz,10.9.0.0/24,internal # never there
assert_eq "$(elems bridges)" "pw-a pw-b pw-c" "bridges after removing twice"
assert_eq "$(handles)" "$before" "handles after add and remove"

log "adjacent subnets are separate elements"
drv add pw-e,10.1.1.0/24
assert_eq "$(elems masq4)" "10.1.0.0/24 10.1.1.0/24 10.2.0.0/24" "masq4 with an adjacent subnet"
drv remove pw-e,10.1.1.0/24
assert_eq "$(elems masq4)" "10.1.0.0/24 10.2.0.0/24" "masq4 after removing the adjacent subnet"

log "bad input: a clear error, nothing changed"
full=$(in_ns h nft -a list table inet podwire)
err=$(drv_fails add pw-this-is-too-long,10.5.0.0/24)
assert_contains "$err" "bridge name 'pw-this-is-too-long' is too long" "error for a long name"
err=$(drv_fails sync pw-a,10.1.0.0/24 pw-this-is-too-long,10.5.0.0/24)
assert_contains "$err" "too long" "sync error for a long name"
err=$(drv_fails add pw-f,10.1.0.128/25)
assert_contains "$err" "set masq4: overlaps a subnet already there" "error for an overlapping subnet"
err=$(drv_fails sync pw-a,10.1.0.0/24 pw-f,10.1.0.0/16)
assert_contains "$err" "subnet 10.1.0.0/24 of pw-a overlaps 10.1.0.0/16 of pw-f" \
	"sync error for overlapping subnets"
# Ending at the same address: the kernel would merge these, sync refuses.
err=$(drv_fails sync pw-a,10.255.255.0/24 pw-f,10.0.0.0/8)
assert_contains "$err" "overlaps" "sync error for subnets ending together"
assert_eq "$(in_ns h nft -a list table inet podwire)" "$full" "table after bad input"

log "flush ruleset: exists says 0, add fails clearly, sync restores"
in_ns h nft flush ruleset
assert_eq "$(exists)" 0 "table after flush"
err=$(drv_fails add pw-d,10.4.0.0/24)
assert_contains "$err" "No such file or directory" "add without the table"
# Restore someone else's table too, as its owner would.
echo "$other_before" | sed 's/# handle [0-9]*//' | in_ns h nft -f -
other_before=$(in_ns h nft -a list table inet other)
drv sync pw-a,10.1.0.0/24,fd00:1::/64 pw-b,10.2.0.0/24,isolate pw-c,10.3.0.0/16,internal
assert_eq "$(exists)" 1 "table after restoring sync"
assert_eq "$(elems bridges)" "pw-a pw-b pw-c" "bridges after restore"
assert_eq "$(elems masq4)" "10.1.0.0/24 10.2.0.0/24" "masq4 after restore"

log "sync replaces: a VNet left out is gone"
drv sync pw-b,10.2.0.0/24,isolate
assert_eq "$(elems bridges)" "pw-b" "bridges after a smaller sync"
assert_eq "$(elems masq4)" "10.2.0.0/24" "masq4 after a smaller sync"
assert_eq "$(elems masq6)" "" "masq6 after a smaller sync"

log "peering: both pairs in allowed, unpeer removes them, both idempotent"
drv sync pw-a,10.1.0.0/24 pw-b,10.2.0.0/24
before=$(handles)
drv peer pw-a pw-b
drv peer pw-b pw-a
assert_eq "$(elems allowed)" "pw-a . pw-a pw-a . pw-b pw-b . pw-a pw-b . pw-b" "allowed after peer"
drv unpeer pw-a pw-b
drv unpeer pw-a pw-b
assert_eq "$(elems allowed)" "pw-a . pw-a pw-b . pw-b" "allowed after unpeer"
err=$(drv_fails peer pw-a pw-a)
assert_contains "$err" "cannot peer pw-a with itself" "peering a VNet with itself"
drv sync pw-a,10.1.0.0/24,peer=pw-b pw-b,10.2.0.0/24,peer=pw-a
assert_eq "$(elems allowed)" "pw-a . pw-a pw-a . pw-b pw-b . pw-a pw-b . pw-b" "allowed after a sync with peers"
drv sync pw-a,10.1.0.0/24 pw-b,10.2.0.0/24

log "groups: elements in both tables, one call; idempotent; handles unchanged"
before=$(handles)
G1=pwvg1,02:00:00:00:00:01,10.1.0.2,fd00:1::2,port=8080:80/tcp,port=192.0.2.1@5000-5002:6000/udp
G2=pwvg2,02:00:00:00:00:02,10.2.0.2
drv group-add "$G1" "$G2"
drv group-add "$G1" "$G2"
assert_eq "$(elems tx bridge)" "pwvg1 pwvg2" "tx"
assert_eq "$(elems rx bridge)" "pwvg1 pwvg2" "rx"
assert_eq "$(elems spoofed bridge)" "pwvg1 pwvg2" "spoofed"
assert_eq "$(elems macs bridge)" "pwvg1 . 02:00:00:00:00:01 pwvg2 . 02:00:00:00:00:02" "macs"
assert_eq "$(elems addrs4 bridge)" "pwvg1 . 02:00:00:00:00:01 . 10.1.0.2 pwvg2 . 02:00:00:00:00:02 . 10.2.0.2" "addrs4"
assert_eq "$(elems addrs6 bridge)" "pwvg1 . 02:00:00:00:00:01 . fd00:1::2" "addrs6"
assert_eq "$(elems arp4 bridge)" "pwvg1 . 02:00:00:00:00:01 . 10.1.0.2 pwvg2 . 02:00:00:00:00:02 . 10.2.0.2" "arp4"
ports=$(in_ns h nft list map inet podwire ports4)
assert_contains "$ports" "tcp . 8080 : 10.1.0.2 . 80" "wildcard port"
ports=$(in_ns h nft list map inet podwire ports4a)
for p in 5000:6000 5001:6001 5002:6002; do
	assert_contains "$ports" "192.0.2.1 . udp . ${p%:*} : 10.1.0.2 . ${p#*:}" "port range"
done
assert_contains "$(in_ns h nft list map inet podwire ports6)" "tcp . 8080 : fd00:1::2 . 80" "IPv6 port"
assert_eq "$(handles)" "$before" "handles after group add"
assert_contains "$(drv counters)" "tx pwvg1 0 0" "counters"

log "a host port another group holds is refused, nothing changes"
full=$(in_ns h nft list ruleset)
err=$(drv_fails group-add pwvg3,02:00:00:00:00:03,10.2.0.3,port=8080:81/tcp)
assert_contains "$err" "a host port published by another group" "port conflict"
assert_eq "$(in_ns h nft list ruleset)" "$full" "ruleset after a refused group"
err=$(drv_fails group-add pwvg3,02:00:00:00:00:03,10.2.0.3,port=1-2000:80/tcp)
assert_contains "$err" "wider than 1024 ports" "too wide a range"
err=$(drv_fails group-add pwvg3,02:00:00:00:00:03,fd00:2::3,port=192.0.2.1@80:80/tcp)
assert_contains "$err" "no IPv4 address to publish a port to" "no address of the family"

log "group remove: everything gone; twice is fine"
drv group-remove "$G1" "$G2"
drv group-remove "$G1" "$G2"
for set in tx rx spoofed macs addrs4 addrs6 arp4; do
	assert_eq "$(elems $set bridge)" "" "$set after group remove"
done
assert_eq "$(in_ns h nft -j list map inet podwire ports4 | jq '[.nftables[] | select(.map) | .map.elem // [] | length] | add')" 0 "ports4 after group remove"
assert_eq "$(in_ns h nft -j list map inet podwire ports4a | jq '[.nftables[] | select(.map) | .map.elem // [] | length] | add')" 0 "ports4a after group remove"

log "sync with groups; deleting only the bridge table counts as missing"
drv sync pw-a,10.1.0.0/24,fd00:1::/64 -- "$G1"
assert_eq "$(elems tx bridge)" "pwvg1" "tx after sync with a group"
in_ns h nft delete table bridge podwire
assert_eq "$(exists)" 0 "exists without the bridge table"

log "remove the table; removing again is fine"
drv remove-table
assert_eq "$(exists)" 0 "table after remove"
drv remove-table
assert_eq "$(in_ns h nft -a list table inet other)" "$other_before" "the other table"
log "ok"
