#!/usr/bin/env bash
# Issue 6 through the real podwire-netd and CLI: published ports
# (`group attach --publish`) reached from an outside netns, from the host
# and from groups (hairpin, the serving group itself too), a host port
# conflict refused naming its group; a spoofed source dropped and counted
# (`podwire stats`); counters that move by what was sent; peering and
# unpeering (`vnet peer/unpeer`); IPv6 ping, isolation and NAT66; `nft flush
# ruleset` undone within a second (isolation, NAT, ports) and shown by
# `vnet show`; everything back after kill -9 and a restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"

make_host_ns
# The outside, joined to the host netns by a veth; no route to the VNets.
make_group_ns out >/dev/null
in_ns h ip link add up0 type veth peer name eth0 netns "${NS_PREFIX}out"
in_ns h ip addr add 192.0.2.1/24 dev up0
in_ns h ip link set up0 up
in_ns h ip route add default via 192.0.2.2 dev up0
in_ns out ip link set lo up
in_ns out ip addr add 192.0.2.2/24 dev eth0
in_ns out ip link set eth0 up
in_ns h ip addr add 2001:db8::1/64 dev up0 nodad
in_ns out ip addr add 2001:db8::2/64 dev eth0 nodad
in_ns h ip -6 route add default via 2001:db8::2 dev up0

start_netd

pw vnet create a --subnet 10.1.0.0/24 --subnet fd00:1::/64 >/dev/null
pw vnet create b --subnet 10.2.0.0/24 --subnet fd00:2::/64 >/dev/null
pw vnet create i --subnet 10.3.0.0/24 --isolate >/dev/null
pw group attach a1 --netns "$(make_group_ns a1)" --vnet a --publish 8080:80 \
	--publish 5353:53/udp --publish 8000-8002:9000/tcp >/dev/null
pw group attach a2 --netns "$(make_group_ns a2)" --vnet a --publish 192.0.2.1:8081:80 >/dev/null
pw group attach b1 --netns "$(make_group_ns b1)" --vnet b >/dev/null
pw group attach i1 --netns "$(make_group_ns i1)" --vnet i >/dev/null
assert_eq "$(pw group show a1 --json | jget '[p["host_port"] for p in d["ports"]]')" \
	"[8080, 5353, 8000]" "ports in group.show"

log "a host port held by another group is refused, naming it; nothing changes"
err=$(must_fail pw group attach x1 --netns "$(make_group_ns x1)" --vnet b --publish 8081:80)
assert_contains "$err" "group 'a2'" "conflict names the holder"
err=$(must_fail pw group attach x1 --netns "/run/netns/${NS_PREFIX}x1" --vnet b --publish 8001:80)
assert_contains "$err" "group 'a1'" "a port inside a range conflicts"
[ -z "$(pw group ls --json | jget '[g for g in d if g["id"] == "x1"] or ""')" ] || fail "x1 attached"
err=$(must_fail pw group attach x1 --netns "/run/netns/${NS_PREFIX}x1" --vnet b --publish 70000:80)
assert_contains "$err" "port" "bad port refused"
err=$(must_fail pw group attach x1 --netns "/run/netns/${NS_PREFIX}x1" --vnet b --rate fast)
assert_contains "$err" "rate" "bad rate refused"
pw group attach a2 --netns "/run/netns/${NS_PREFIX}a2" --vnet a --publish 192.0.2.1:8081:80 >/dev/null ||
	fail "a repeated attach with the same ports must succeed"
err=$(must_fail pw group attach a2 --netns "/run/netns/${NS_PREFIX}a2" --vnet a --publish 8082:80)
assert_contains "$err" "different" "a repeated attach with other ports"

serve() {
	local g=$1
	shift
	in_ns "$g" "$PY" "$ECHO_PEER" serve "$@" >>"$T/echo-$g.log" 2>&1 &
	track_pid $!
}
ask() { in_ns "$1" "$PY" "$ECHO_PEER" ask "${@:2}"; }
serve a1 80/tcp 53/udp 9000/tcp 9002/tcp
serve a2 80/tcp
serve b1 80/tcp
wait_until test "$(ask a1 tcp 10.1.0.2 80)" = "10.1.0.2 80"
wait_until test "$(ask a2 tcp 10.1.0.3 80)" = "10.1.0.3 80"

check_ports() {
	assert_eq "$(ask out tcp 192.0.2.1 8080)" "192.0.2.2 80" "outside -> host:8080"
	assert_eq "$(ask out udp 192.0.2.1 5353)" "192.0.2.2 53" "outside -> host:5353/udp"
	assert_eq "$(ask out tcp 192.0.2.1 8002)" "192.0.2.2 9002" "outside -> range end"
	assert_eq "$(ask out tcp 192.0.2.1 8081)" "192.0.2.2 80" "outside -> a2's host-address port"
	assert_eq "$(ask h tcp 192.0.2.1 8080)" "192.0.2.1 80" "host -> its own address:8080"
	assert_eq "$(ask a2 tcp 10.1.0.1 8080)" "10.1.0.1 80" "a2 -> gateway:8080 (hairpin)"
	assert_eq "$(ask a1 tcp 192.0.2.1 8080)" "10.1.0.1 80" "a1 -> its own published port"
	assert_eq "$(ask b1 tcp 10.2.0.1 8080)" "10.1.0.1 80" "another VNet -> the port"
	assert_eq "$(ask i1 tcp 10.3.0.1 8080)" "10.1.0.1 80" "an isolate VNet -> the port"
}
check_isolation() {
	assert_eq "$(ask b1 tcp 10.1.0.2 80)" "" "b1 -> a1 directly, not peered"
	ping_fails b1 10.1.0.2
	in_ns b1 ping -6 -c 1 -W 1 fd00:1::2 >/dev/null 2>&1 && fail "IPv6 b1 -> a1 not peered"
	ping_ok a1 10.1.0.3
	ping_ok a1 192.0.2.2
}
log "published ports: outside, host, hairpin, other VNets"
check_ports
log "IPv6 between groups of a VNet, and isolation between VNets"
in_ns a1 ping -6 -c 1 -W 2 fd00:1::3 >/dev/null || fail "IPv6 a1 -> a2"
in_ns a1 ping -6 -c 1 -W 2 fd00:1::1 >/dev/null || fail "IPv6 a1 -> gateway"
check_isolation
log "NAT66: a group reaches the outside over IPv6, seen as the host"
[ -z "$(in_ns out ip -6 route show fd00:1::/64)" ] || fail "outside must not know the VNet"
in_ns a1 ping -6 -c 1 -W 2 2001:db8::2 >/dev/null || fail "IPv6 a1 -> outside (NAT66)"

log "counters move by what was sent"
tx0=$(pw stats --json | jget '[g["tx_bytes"] for g in d["groups"] if g["id"] == "a2"][0]')
in_ns a2 ping -c 5 -i 0.2 -s 1000 -W 2 10.1.0.2 >/dev/null || fail "a2 -> a1"
tx1=$(pw stats --json | jget '[g["tx_bytes"] for g in d["groups"] if g["id"] == "a2"][0]')
[ $((tx1 - tx0)) -ge 5000 ] || fail "a2 tx_bytes moved by $((tx1 - tx0)), expected >= 5000"
pw stats --prometheus | grep -q '^podwire_group_transmit_bytes_total{group="a2"} [1-9]' ||
	fail "prometheus output"
pw stats | grep -q '^a2 ' || fail "stats table"

log "spoofed source address dropped and counted"
sp0=$(pw stats --json | jget '[g["spoofed_packets"] for g in d["groups"] if g["id"] == "a1"][0]')
in_ns a1 ip addr add 10.1.0.99/32 dev eth0
in_ns a1 ping -c 2 -W 1 -I 10.1.0.99 10.1.0.3 >/dev/null 2>&1 && fail "spoofed ping got through"
in_ns a1 ip addr del 10.1.0.99/32 dev eth0
sp1=$(pw stats --json | jget '[g["spoofed_packets"] for g in d["groups"] if g["id"] == "a1"][0]')
[ "$sp1" -gt "$sp0" ] || fail "spoofed counter did not move ($sp0 -> $sp1)"
ping_ok a1 10.1.0.3

log "peering: groups of peered VNets reach each other, both ways; unpeer ends it"
pw events --snapshot --json >"$T/events" 2>&1 &
track_pid $!
wait_until grep -q . "$T/events"
pw vnet peer a b
assert_eq "$(pw vnet show a --json | jget 'd["peers"]')" '["b"]' "a lists b"
assert_eq "$(pw vnet show b --json | jget 'd["peers"]')" '["a"]' "b lists a"
ping_ok b1 10.1.0.2
ping_ok a2 10.2.0.2
in_ns b1 ping -6 -c 1 -W 2 fd00:1::2 >/dev/null || fail "IPv6 b1 -> a1 peered"
ping_fails i1 10.1.0.2
pw vnet unpeer a b
ping_fails b1 10.1.0.3
assert_eq "$(pw vnet show a --json | jget 'd["peers"]')" '[]' "unpeered"
wait_until grep -q vnet.unpeered "$T/events"
grep -q vnet.peered "$T/events" || fail "no vnet.peered event"
must_fail pw vnet peer a nosuch >/dev/null
pw vnet peer a b

log "nft flush ruleset: netd restores its tables within a second"
in_ns h nft flush ruleset
restored=""
for _ in $(seq 10); do
	if in_ns h nft list table inet podwire >/dev/null 2>&1 &&
		in_ns h nft list table bridge podwire >/dev/null 2>&1; then
		restored=yes
		break
	fi
	sleep 0.1
done
[ -n "$restored" ] || fail "tables not back within a second"
pw vnet show a | grep -q "last restored" || fail "vnet show does not say when it restored"
check_ports
ping_fails b1 10.3.0.2
ping_ok b1 10.1.0.2 # still peered
ping_fails i1 10.1.0.2

log "kill -9 and restart: ports, hairpin, peering, anti-spoofing all back"
kill9_netd
start_netd
check_ports
ping_ok b1 10.1.0.2
pw vnet unpeer a b
check_isolation
in_ns a1 ip addr add 10.1.0.98/32 dev eth0
in_ns a1 ping -c 1 -W 1 -I 10.1.0.98 10.1.0.3 >/dev/null 2>&1 && fail "spoofed after restart"
in_ns a1 ip addr del 10.1.0.98/32 dev eth0

log "detach frees the port for another group"
pw group detach a1
pw group attach x1 --netns "/run/netns/${NS_PREFIX}x1" --vnet b --publish 8080:80 >/dev/null
serve x1 80/tcp
wait_until test "$(ask out tcp 192.0.2.1 8080)" = "192.0.2.2 80"
grep -q "10.2.0.3" <<<"$(in_ns h nft list map inet podwire ports4)" || fail "x1's port not in the map"
pw group detach x1
pw group detach a2
[ -z "$(in_ns h nft list map inet podwire ports4 | grep -E '10\.[0-9]+\.0\.[0-9]+ \. ')" ] ||
	fail "port elements left after detach"
log "ok"
