#!/usr/bin/env bash
# Host access (`vnet create|set --host-access none|dns|all`, the inet
# podwire input chain): what a VNet's groups reach on the host itself. With the
# default (dns) a group asks DNS on its own gateway and pings it, and
# reaches nothing else of the host: not a TCP service bound to 0.0.0.0/::
# through its own gateway, another VNet's gateway or the host's uplink
# address, nor another VNet's dnsd. `all` opens its own gateway and the
# host's addresses outside every VNet, never another VNet's gateway; `none`
# closes DNS too. internal and isolate VNets behave the same. `vnet set`
# changes it for attached groups at once. Replies to
# what the host opens into a group, and published ports, keep working. The
# setting is in the state file (a file without it is dns), survives kill -9
# and a restart, and the table's self-healing. Before the fix every group
# reached every host service through any gateway.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netd-lib.sh"
. "$(dirname "$0")/dns-lib.sh"

make_host_ns
# The host's uplink (as eth0 of a real host) to an "outside" netns.
make_group_ns out >/dev/null
in_ns h ip link add up0 type veth peer name eth0 netns "${NS_PREFIX}out"
in_ns h ip addr add 192.0.2.1/24 dev up0
in_ns h ip addr add 2001:db8::1/64 dev up0 nodad
in_ns h ip link set up0 up
in_ns out ip link set lo up
in_ns out ip addr add 192.0.2.2/24 dev eth0
in_ns out ip link set eth0 up

start_netd
start_dnsd

pw vnet create a --subnet 10.1.0.0/24 --subnet fd00:1::/64 >/dev/null
pw vnet create b --subnet 10.2.0.0/24 >/dev/null
pw vnet create c --subnet 10.3.0.0/24 --subnet fd00:3::/64 --host-access all >/dev/null
pw vnet create n --subnet 10.4.0.0/24 --host-access none >/dev/null
pw vnet create i --subnet 10.5.0.0/24 --internal >/dev/null
pw vnet create s --subnet 10.6.0.0/24 --isolate >/dev/null
pw vnet create ia --subnet 10.7.0.0/24 --internal --isolate --host-access all >/dev/null
for g in a b c n i s ia; do
	pw group attach "g$g" --netns "$(make_group_ns "g$g")" --vnet "$g" >/dev/null
done
pw group attach gp --netns "$(make_group_ns gp)" --vnet a --publish 8080:9000 >/dev/null

serve() { # serve NETNS PORT/PROTO...
	local ns=$1
	shift
	in_ns "$ns" "$PY" "$ECHO_PEER" serve "$@" >>"$T/echo-$ns.log" 2>&1 &
	track_pid $!
}
ask() { in_ns "$1" "$PY" "$ECHO_PEER" ask "${@:2}"; }
# reaches GROUP ADDR / blocked GROUP ADDR: the host's TCP service on port
# 7000 (bound to :: and so to every IPv4 address too).
reaches() {
	local seen
	seen=$(ask "$1" tcp "$2" 7000)
	[ -n "$seen" ] || fail "$1 cannot reach the host's service at $2"
}
blocked() {
	[ -z "$(ask "$1" tcp "$2" 7000)" ] || fail "$1 reaches the host's service at $2"
}
# dns_ok GROUP GATEWAY NAME / dns_blocked GROUP GATEWAY NAME
dns_ok() {
	[ -n "$(q "$1" "$2" "$3")" ] || fail "$1: no DNS answer for $3 from $2"
	[ -n "$(q "$1" "$2" "$3" A +tcp)" ] || fail "$1: no DNS answer over TCP for $3 from $2"
}
dns_blocked() {
	if in_ns "$1" dig +time=1 +tries=1 "@$2" "$3" >/dev/null 2>&1; then
		fail "$1 got a DNS reply from $2"
	fi
}

serve h 7000/tcp
wait_until test "$(ask h tcp 127.0.0.1 7000)" != ""
wait_answer ga 10.1.0.1 ga.a.internal A 10.1.0.2

log "dns (default): DNS and ping of the own gateway, nothing else of the host"
assert_eq "$(pw vnet show a --json | jget 'd["host_access"]')" dns "default host access"
dns_ok ga 10.1.0.1 ga.a.internal
dns_ok ga fd00:1::1 ga.a.internal
ping_ok ga 10.1.0.1
ping_ok ga fd00:1::1
blocked ga 10.1.0.1
blocked ga fd00:1::1
blocked ga 10.2.0.1
blocked ga 10.3.0.1
blocked ga 192.0.2.1
blocked ga 2001:db8::1
dns_blocked ga 10.2.0.1 gb.b.internal
ping_fails ga 10.2.0.1
blocked gb 10.2.0.1
blocked gb 10.1.0.1
dns_ok gb 10.2.0.1 gb.b.internal

log "all: its own gateway and the host's other addresses, never another VNet's gateway"
reaches gc 10.3.0.1
reaches gc fd00:3::1
reaches gc 192.0.2.1
reaches gc 2001:db8::1
blocked gc 10.1.0.1
blocked gc fd00:1::1
blocked gc 10.2.0.1
dns_ok gc 10.3.0.1 gc.c.internal
dns_blocked gc 10.1.0.1 ga.a.internal

log "none: not even DNS (ping of the gateway still answers)"
dns_blocked gn 10.4.0.1 gn.n.internal
blocked gn 10.4.0.1
blocked gn 192.0.2.1
ping_ok gn 10.4.0.1

log "internal and isolate VNets behave the same"
dns_ok gi 10.5.0.1 gi.i.internal
blocked gi 10.5.0.1
blocked gi 192.0.2.1
blocked gi 10.1.0.1
dns_ok gs 10.6.0.1 gs.s.internal
blocked gs 10.6.0.1
blocked gs 192.0.2.1
reaches gia 10.7.0.1
reaches gia 192.0.2.1
blocked gia 10.1.0.1

log "what the host opens into a group, and published ports, still work"
serve ga 9100/tcp 9101/udp
serve gp 9000/tcp
wait_until test "$(ask h tcp 10.1.0.2 9100)" != ""
assert_eq "$(ask h udp 10.1.0.2 9101)" "10.1.0.1 9101" "host -> group, UDP reply"
assert_eq "$(ask h tcp fd00:1::2 9100)" "fd00:1::1 9100" "host -> group over IPv6"
assert_eq "$(ask out tcp 192.0.2.1 8080)" "192.0.2.2 9000" "outside -> published port"
assert_eq "$(ask gb tcp 10.2.0.1 8080)" "10.1.0.1 9000" "other VNet -> published port via its gateway"
assert_eq "$(ask gn tcp 192.0.2.1 8080)" "10.1.0.1 9000" "none VNet -> published port"
assert_eq "$(ask ga tcp 10.1.0.1 8080)" "10.1.0.1 9000" "same VNet -> published port"

log "refusals are counted with the VNet's isolation drops"
dropped=$(pw stats --json | jget '[v["isolation_dropped_packets"] for v in d["vnets"] if v["name"] == "a"][0]')
[ "$dropped" -gt 0 ] || fail "no drops counted for a"

log "bad values are refused, nothing created"
err=$(must_fail pw vnet create x --subnet 10.9.0.0/24 --host-access some)
assert_contains "$err" "none, dns or all" "CLI check"
reply=$(rpc vnet.create '{"name":"x","subnets":["10.9.0.0/24"],"host_access":"open"}')
assert_contains "$reply" "host_access: 'open' is not one of none, dns, all" "RPC check"
assert_eq "$(host_links | grep -c pw-x || true)" 0 "no bridge for a refused VNet"
err=$(must_fail pw vnet create c --subnet 10.3.0.0/24 --subnet fd00:3::/64)
assert_contains "$err" "different settings" "same VNet with another host access"

log "vnet set changes it for attached groups at once"
pw events --json >"$T/events.out" 2>"$T/events.err" &
track_pid $!
sleep 0.3
dropped=$(pw stats --json | jget '[v["isolation_dropped_packets"] for v in d["vnets"] if v["name"] == "a"][0]')
assert_eq "$(pw vnet set a --host-access all)" "vnet a: host access all" "set all"
dropped_after=$(pw stats --json | jget '[v["isolation_dropped_packets"] for v in d["vnets"] if v["name"] == "a"][0]')
[ "$dropped_after" -ge "$dropped" ] || fail "vnet set reset the drop counter ($dropped -> $dropped_after)"
reaches ga 10.1.0.1
reaches ga 192.0.2.1
blocked ga 10.2.0.1
pw vnet set a --host-access none >/dev/null
dns_blocked ga 10.1.0.1 ga.a.internal
blocked ga 10.1.0.1
blocked ga 192.0.2.1
ping_ok ga 10.1.0.1
wait_until grep -q '"host_access": *"none"' "$T/events.out"
assert_eq "$(grep -c '"vnet.updated"' "$T/events.out")" 2 "one vnet.updated per change"
pw vnet set a --host-access none >/dev/null
sleep 0.2
assert_eq "$(grep -c '"vnet.updated"' "$T/events.out")" 2 "setting the same again: no event"
err=$(must_fail pw vnet set nope --host-access all)
assert_contains "$err" "not found" "unknown VNet"
err=$(must_fail pw vnet set a --host-access some)
assert_contains "$err" "none, dns or all" "bad value"
reply=$(rpc vnet.set '{"name":"a","host_access":"open"}')
assert_contains "$reply" "is not one of none, dns, all" "RPC bad value"
reply=$(rpc vnet.set '{"name":"a","mtu":1400}')
assert_contains "$reply" "invalid_params" "only host_access can be set"
assert_eq "$(pw vnet show a --json | jget 'd["host_access"]')" none "unchanged by refusals"
pw vnet set a --host-access dns >/dev/null
dns_ok ga 10.1.0.1 ga.a.internal
blocked ga 10.1.0.1
pw vnet set b --host-access all >/dev/null

log "self-healing: nft flush ruleset is undone, host access with it"
in_ns h nft flush ruleset
wait_until in_ns h nft list chain inet podwire input
sleep 0.3
blocked ga 10.1.0.1
reaches gc 192.0.2.1
dns_ok ga 10.1.0.1 ga.a.internal

log "kill -9 and a restart keep every VNet's setting"
kill9_netd
start_netd
assert_eq "$(pw vnet show c --json | jget 'd["host_access"]')" all "all after restart"
assert_eq "$(pw vnet show n --json | jget 'd["host_access"]')" none "none after restart"
assert_eq "$(pw vnet show b --json | jget 'd["host_access"]')" all "set all, after restart"
reaches gc 192.0.2.1
reaches gb 192.0.2.1
blocked ga 192.0.2.1
dns_blocked gn 10.4.0.1 gn.n.internal

log "a state file without host_access (older netd) means dns"
stop_netd
"$PY" - "$STATE_DIR/netd/vnets/c.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
del d["host_access"]
json.dump(d, open(sys.argv[1], "w"))
EOF
start_netd
assert_eq "$(pw vnet show c --json | jget 'd["host_access"]')" dns "missing field"
blocked gc 192.0.2.1
blocked gc 10.3.0.1
dns_ok gc 10.3.0.1 gc.c.internal
log "ok"
